//! The roster as route sees it: every rep from the `reps` topic, validated and indexed by pool.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use leadflow_events::{RepRole, RepState, RepStatus, Timestamp};

use crate::hours::ParsedHours;
use crate::territory;

/// Employee bands as enrich emits them (the only valid segment names).
pub const SEGMENTS: [&str; 6] = ["1-10", "11-50", "51-200", "201-1000", "1001-5000", "5000+"];

/// Upper bound of `max_open_leads` (a typo guard, not a business rule).
pub const MAX_CAP: i32 = 10_000;

/// A roster entry with its working hours parsed.
#[derive(Clone, Debug, PartialEq)]
pub struct Rep {
    pub state: RepState,
    pub hours: Option<ParsedHours>,
    /// Territories expanded to upper-case country codes once; `None` covers every country.
    countries: Option<Vec<[u8; 2]>>,
}

impl Rep {
    /// Validates and parses a roster entry.
    pub fn new(state: RepState) -> Result<Self, String> {
        let hours = validate(&state)?;
        let countries = territory::expand(&state.territories);
        Ok(Self {
            state,
            hours,
            countries,
        })
    }

    /// Rule 4 (same answer as [`territory::covers`], precomputed): whether the rep covers a lead
    /// from `country`.
    pub fn covers_country(&self, country: Option<&str>) -> bool {
        match (&self.countries, country) {
            (None, _) | (_, None) => true,
            (Some(codes), Some(c)) => {
                let b = c.as_bytes();
                b.len() == 2
                    && codes.contains(&[b[0].to_ascii_uppercase(), b[1].to_ascii_uppercase()])
            }
        }
    }

    pub fn id(&self) -> &str {
        &self.state.rep_id
    }

    /// The status in force at `at`: a BUSY or OUT_OF_OFFICE status whose `status_until` has passed
    /// is AVAILABLE again.
    pub fn status_at(&self, at: Timestamp) -> RepStatus {
        match (self.state.status, self.state.status_until) {
            (RepStatus::Busy | RepStatus::OutOfOffice, Some(until)) if at >= until => {
                RepStatus::Available
            }
            (s, _) => s,
        }
    }

    /// Whether `at` is inside the rep's working hours (always, when they have none).
    pub fn is_working(&self, at: Timestamp) -> bool {
        self.hours.as_ref().is_none_or(|h| h.is_working(at))
    }
}

/// Checks one roster entry; the message names the field. Returns the parsed working hours.
pub fn validate(rep: &RepState) -> Result<Option<ParsedHours>, String> {
    let id = rep.rep_id.trim();
    if id.is_empty() {
        return Err("rep_id is empty".into());
    }
    if !id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(format!(
            "rep_id {id:?} may only contain ASCII letters, digits, '-', '_' and '.'"
        ));
    }
    if rep.name.trim().is_empty() {
        return Err("name is empty".into());
    }
    let email = rep.email.trim();
    let valid_email = email
        .split_once('@')
        .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.starts_with('.'))
        && !email.contains(char::is_whitespace);
    if !valid_email {
        return Err("email is not an email address".into());
    }
    if rep.role != RepRole::Manager && rep.teams.is_empty() {
        return Err("teams is empty (a rep takes leads from at least one pool)".into());
    }
    for t in &rep.teams {
        if t.is_empty()
            || !t
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            return Err(format!(
                "team {t:?} must be lower-case letters, digits and '_' (as tier's target_team)"
            ));
        }
    }
    for t in &rep.territories {
        if !territory::is_valid(t) {
            return Err(format!(
                "territory {t:?} is neither a two-letter country code, a region (EMEA, NA, LATAM, APAC, DACH, BENELUX, NORDICS, UKI) nor GLOBAL"
            ));
        }
    }
    for s in &rep.segments {
        if !SEGMENTS.contains(&s.as_str()) {
            return Err(format!(
                "segment {s:?} is not an employee band ({})",
                SEGMENTS.join(", ")
            ));
        }
    }
    if !(0..=MAX_CAP).contains(&rep.max_open_leads) {
        return Err(format!(
            "max_open_leads {} must be between 0 and {MAX_CAP}",
            rep.max_open_leads
        ));
    }
    if rep.manager_id.as_deref() == Some(id) {
        return Err("manager_id is the rep themself".into());
    }
    rep.working_hours
        .as_ref()
        .map(ParsedHours::parse)
        .transpose()
}

/// Every rep by id, and the pools (team → rep ids, sorted) that selection walks.
#[derive(Clone, Debug, Default)]
pub struct Roster {
    reps: HashMap<String, Arc<Rep>>,
    pools: BTreeMap<String, Vec<Arc<Rep>>>,
}

impl Roster {
    /// Builds a roster from entries; invalid entries are returned with their reason.
    pub fn from_states(
        states: impl IntoIterator<Item = RepState>,
    ) -> (Self, Vec<(String, String)>) {
        let mut roster = Roster::default();
        let mut rejected = Vec::new();
        for s in states {
            let id = s.rep_id.clone();
            if let Err(e) = roster.upsert(s) {
                rejected.push((id, e));
            }
        }
        (roster, rejected)
    }

    /// Adds or replaces a rep (the latest record per key wins). Invalid entries leave the roster
    /// unchanged.
    pub fn upsert(&mut self, state: RepState) -> Result<(), String> {
        let rep = Arc::new(Rep::new(state)?);
        self.reps.insert(rep.id().to_owned(), rep);
        self.reindex();
        Ok(())
    }

    /// Removes a rep (tombstone).
    pub fn remove(&mut self, rep_id: &str) -> bool {
        let removed = self.reps.remove(rep_id).is_some();
        if removed {
            self.reindex();
        }
        removed
    }

    fn reindex(&mut self) {
        let mut pools: BTreeMap<String, Vec<Arc<Rep>>> = BTreeMap::new();
        for rep in self.reps.values() {
            for team in &rep.state.teams {
                pools.entry(team.clone()).or_default().push(rep.clone());
            }
        }
        for members in pools.values_mut() {
            members.sort_by(|a, b| a.id().cmp(b.id()));
        }
        self.pools = pools;
    }

    pub fn get(&self, rep_id: &str) -> Option<&Arc<Rep>> {
        self.reps.get(rep_id)
    }

    /// Every rep listing `team`, managers included, sorted by id.
    pub fn pool(&self, team: &str) -> &[Arc<Rep>] {
        self.pools.get(team).map_or(&[], Vec::as_slice)
    }

    pub fn len(&self) -> usize {
        self.reps.len()
    }

    pub fn is_empty(&self) -> bool {
        self.reps.is_empty()
    }

    /// Every rep, sorted by id.
    pub fn all(&self) -> Vec<&Arc<Rep>> {
        let mut v: Vec<_> = self.reps.values().collect();
        v.sort_by(|a, b| a.id().cmp(b.id()));
        v
    }

    /// The pool's manager at `at`: a MANAGER listing the team, preferring one who is available,
    /// then busy, then out of office (never inactive); failing that, the `manager_id` most pool
    /// members name. Ties by rep id.
    pub fn manager_of(&self, team: &str, at: Timestamp) -> Option<&Arc<Rep>> {
        let rank = |r: &Rep| match r.status_at(at) {
            RepStatus::Available => Some(0),
            RepStatus::Busy => Some(1),
            RepStatus::OutOfOffice => Some(2),
            RepStatus::Inactive => None,
        };
        let listed = self
            .pool(team)
            .iter()
            .filter(|r| r.state.role == RepRole::Manager)
            .filter_map(|r| rank(r).map(|k| (k, r)))
            .min_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.id().cmp(b.1.id())))
            .map(|(_, r)| r);
        if listed.is_some() {
            return listed;
        }
        let mut named: BTreeMap<&str, usize> = BTreeMap::new();
        for r in self.pool(team) {
            if let Some(m) = r.state.manager_id.as_deref() {
                *named.entry(m).or_default() += 1;
            }
        }
        let mut candidates: Vec<(&str, usize)> = named.into_iter().collect();
        candidates.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        candidates
            .into_iter()
            .filter_map(|(id, _)| self.reps.get(id))
            .find(|r| rank(r).is_some())
    }
}
