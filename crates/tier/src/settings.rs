//! `[stage]` settings of the tier service: the policy preset and its overrides, the confidence gate,
//! the commitment times, the out-of-scope routing table and the business calendar.
//!
//! ```toml
//! [stage]
//! policy = "four-band"            # or "hql-mql"
//! confidence_threshold = 0.80
//! same_day_cutoff = "16:00"       # no same-day promise at or after this local time
//! next_morning_by = "10:00"       # "before 10:00 next business morning"
//! fallback_team = "sales"         # human requests / stalls when the band names no human team
//!
//! [stage.bands.WARM]              # any value of any band of the preset
//! min_score = 72
//! first_contact_minutes = 120
//!
//! [stage.nurture_reply]           # rule N1: a reply within the window brings a human
//! sequence_window_hours = 24      # bands with an automated sequence (NURTURE_24H)
//! nurture_window_hours = 168      # marketing-nurture bands (NURTURE)
//!
//! [stage.out_of_scope]
//! sensitive_internal = "sales"
//!
//! [stage.calendar]
//! timezone = "Europe/Paris"
//! working_days = ["Mon", "Tue", "Wed", "Thu", "Fri"]
//! open = "09:00"
//! close = "18:00"
//! holiday_rules = "france"        # French public holidays computed for any year, or "none"
//! [stage.calendar.holidays]       # a year listed here replaces that year's computed holidays
//! "2028" = ["2028-01-01", "2028-12-25"]
//! ```

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveTime, Weekday};
use chrono_tz::Tz;
use leadflow_events::LeadLevel;
use leadflow_runtime::StageSettings;
use serde::{Deserialize, Serialize};

use crate::calendar::{Calendar, CalendarError};
use crate::conversation::{
    ResourceCatalogue, SoftEscalationRules, StallRules, default_catalogue, valid_topic,
};
use crate::holidays::{HolidayRules, Holidays};
use crate::nurture_reply::NurtureReplyRules;
use crate::policy::{
    BandAction, DEFAULT_CONFIDENCE_THRESHOLD, OutOfScopeRouting, PolicyPreset, TierPolicy,
    version_for,
};

/// The settings are invalid; the message names the key (relative to `[stage]`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SettingsError(pub String);

fn invalid<T>(message: String) -> Result<T, SettingsError> {
    Err(SettingsError(message))
}

/// The tier stage's settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TierSettings {
    /// `four-band` (default, POLICY.md B1) or `hql-mql` (B2).
    pub policy: PolicyPreset,
    /// Per-tier overrides of the preset's values, keyed by tier name (case-insensitive).
    pub bands: BTreeMap<String, BandOverride>,
    /// Score confidence below which a lead reaches no human on score or hot-lead signals.
    pub confidence_threshold: f64,
    /// `HH:MM` local: arrivals at or after it get no same-day promise.
    pub same_day_cutoff: String,
    /// `HH:MM` local: the next-business-morning commitment time.
    pub next_morning_by: String,
    /// Team for an explicit human request or a stall when the band names no human team.
    pub fallback_team: String,
    /// Team per out-of-scope category.
    pub out_of_scope: OutOfScopeRouting,
    /// When a conversation counts as stalled (POLICY.md rule T4).
    pub stall: StallRules,
    /// When a warm lead still talking gets a soft escalation (rule T5).
    pub soft_escalation: SoftEscalationRules,
    /// Resources offered to visitors, by conversation topic: `[stage.resources.<topic>]` with
    /// `title` and `url`. Replaces the default catalogue when given.
    pub resources: ResourceCatalogue,
    /// How long after an enrolment a reply still brings a human (rule N1).
    pub nurture_reply: NurtureReplyRules,
    pub calendar: CalendarSettings,
}

impl Default for TierSettings {
    fn default() -> Self {
        Self {
            policy: PolicyPreset::default(),
            bands: BTreeMap::new(),
            confidence_threshold: DEFAULT_CONFIDENCE_THRESHOLD,
            same_day_cutoff: "16:00".into(),
            next_morning_by: "10:00".into(),
            fallback_team: "sales".into(),
            out_of_scope: OutOfScopeRouting::default(),
            stall: StallRules::default(),
            soft_escalation: SoftEscalationRules::default(),
            resources: default_catalogue(),
            nurture_reply: NurtureReplyRules::default(),
            calendar: CalendarSettings::default(),
        }
    }
}

/// One band's overridden values; anything left out keeps the preset's value.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BandOverride {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_score: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lead_level: Option<LeadLevel>,
    /// `escalate`, `queue`, `sequence` or `nurture`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<BandAction>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignment_minutes: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_contact_minutes: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qualification_minutes: Option<u32>,
}

/// The team's business calendar.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CalendarSettings {
    /// IANA zone, e.g. `Europe/Paris`.
    pub timezone: String,
    /// `Mon`..`Sun` (or full names).
    pub working_days: Vec<String>,
    /// `HH:MM` local opening time.
    pub open: String,
    /// `HH:MM` local closing time.
    pub close: String,
    /// Holidays computed for every year: `france` (default) or `none`.
    pub holiday_rules: HolidayRules,
    /// Public holidays per year: `"2028" = ["2028-12-25", ...]`; a year given here replaces that
    /// year's computed holidays. Empty by default.
    pub holidays: BTreeMap<String, Vec<String>>,
}

impl Default for CalendarSettings {
    fn default() -> Self {
        Self {
            timezone: "Europe/Paris".into(),
            working_days: ["Mon", "Tue", "Wed", "Thu", "Fri"]
                .map(String::from)
                .to_vec(),
            open: "09:00".into(),
            close: "18:00".into(),
            holiday_rules: HolidayRules::default(),
            holidays: BTreeMap::new(),
        }
    }
}

impl StageSettings for TierSettings {
    fn validate(&self) -> Result<(), String> {
        self.build().map(|_| ()).map_err(|e| e.0)
    }
}

impl TierSettings {
    /// The validated policy and calendar.
    pub fn build(&self) -> Result<(TierPolicy, Calendar), SettingsError> {
        let calendar = self.calendar.build()?;
        let policy = self.policy(&calendar)?;
        Ok((policy, calendar))
    }

    fn policy(&self, calendar: &Calendar) -> Result<TierPolicy, SettingsError> {
        let t = self.confidence_threshold;
        if !(0.0..=1.0).contains(&t) {
            return invalid(format!(
                "confidence_threshold must be between 0 and 1, got {t}"
            ));
        }
        let cutoff = parse_hm("same_day_cutoff", &self.same_day_cutoff)?;
        let morning = parse_hm("next_morning_by", &self.next_morning_by)?;
        let (open, close) = (calendar.open_time(), calendar.close_time());
        for (key, time) in [("same_day_cutoff", cutoff), ("next_morning_by", morning)] {
            if time <= open || time > close {
                return invalid(format!(
                    "{key} ({}) must be after calendar.open ({}) and no later than calendar.close ({})",
                    time.format("%H:%M"),
                    open.format("%H:%M"),
                    close.format("%H:%M")
                ));
            }
        }
        check_team("fallback_team", &self.fallback_team)?;
        self.check_conversation_rules()?;
        for (key, team) in self.out_of_scope.entries() {
            check_team(&format!("out_of_scope.{key}"), team)?;
        }

        let mut bands = self.policy.bands();
        for (name, o) in &self.bands {
            let Some(band) = bands.iter_mut().find(|b| b.tier.eq_ignore_ascii_case(name)) else {
                let tiers: Vec<String> = self.policy.bands().into_iter().map(|b| b.tier).collect();
                return invalid(format!(
                    "bands.{name}: no such tier in preset {} (tiers: {})",
                    self.policy,
                    tiers.join(", ")
                ));
            };
            if let Some(v) = o.min_score {
                band.min_score = v;
            }
            if let Some(v) = o.lead_level {
                band.lead_level = v;
            }
            if let Some(v) = o.action {
                band.action = v;
            }
            if let Some(v) = &o.team {
                band.team.clone_from(v);
            }
            if let Some(v) = o.assignment_minutes {
                band.sla.assignment = Some(v);
            }
            if let Some(v) = o.first_contact_minutes {
                band.sla.first_contact = Some(v);
            }
            if let Some(v) = o.qualification_minutes {
                band.sla.qualification = Some(v);
            }
        }
        for b in &bands {
            if !(0..=100).contains(&b.min_score) {
                return invalid(format!(
                    "bands.{}.min_score {} is outside 0..=100",
                    b.tier, b.min_score
                ));
            }
            check_team(&format!("bands.{}.team", b.tier), &b.team)?;
        }
        for pair in bands.windows(2) {
            let (higher, lower) = (&pair[0], &pair[1]);
            if lower.min_score >= higher.min_score {
                return invalid(format!(
                    "bands: min_score must decrease from the top tier down, but {} ({}) is not below {} ({})",
                    lower.tier, lower.min_score, higher.tier, higher.min_score
                ));
            }
        }
        if let Some(last) = bands.last() {
            if last.min_score != 0 {
                return invalid(format!(
                    "bands.{}.min_score must be 0: the lowest band takes every score below the others",
                    last.tier
                ));
            }
        }

        Ok(TierPolicy {
            preset: self.policy,
            version: version_for(self.policy, &bands),
            bands,
            confidence_threshold: t,
            same_day_cutoff: cutoff,
            next_morning_by: morning,
            out_of_scope: self.out_of_scope.clone(),
            fallback_team: self.fallback_team.clone(),
            stall: self.stall.clone(),
            soft_escalation: self.soft_escalation.clone(),
            resources: self.resources.clone(),
            nurture_reply: self.nurture_reply,
        })
    }

    fn check_conversation_rules(&self) -> Result<(), SettingsError> {
        for (key, value) in [
            (
                "stall.max_exchanges_without_proposal",
                self.stall.max_exchanges_without_proposal,
            ),
            ("stall.short_answers", self.stall.short_answers),
            (
                "nurture_reply.sequence_window_hours",
                self.nurture_reply.sequence_window_hours,
            ),
            (
                "nurture_reply.nurture_window_hours",
                self.nurture_reply.nurture_window_hours,
            ),
            (
                "soft_escalation.min_exchanges",
                self.soft_escalation.min_exchanges,
            ),
        ] {
            if value == 0 {
                return invalid(format!("{key} must be at least 1"));
            }
        }
        for (topic, r) in &self.resources {
            if !valid_topic(topic) {
                return invalid(format!(
                    "resources.{topic}: a topic is lower case (a-z, 0-9, - or _), e.g. lead-routing"
                ));
            }
            if r.title.trim().is_empty() {
                return invalid(format!("resources.{topic}.title must not be empty"));
            }
            if !(r.url.starts_with("https://") || r.url.starts_with("http://")) {
                return invalid(format!(
                    "resources.{topic}.url {:?} must be an http(s) URL",
                    r.url
                ));
            }
        }
        let fallback = &self.soft_escalation.fallback_topic;
        if !fallback.is_empty() && !self.resources.contains_key(fallback) {
            return invalid(format!(
                "soft_escalation.fallback_topic {fallback:?} is not a topic of [stage.resources] (or set it to \"\")"
            ));
        }
        Ok(())
    }
}

impl CalendarSettings {
    /// The calendar: the strings are parsed here, their meaning is checked by [`Calendar::new`].
    pub fn build(&self) -> Result<Calendar, SettingsError> {
        let tz: Tz = self.timezone.parse().map_err(|_| {
            SettingsError(format!(
                "calendar.timezone {:?} is not a known IANA time zone (e.g. Europe/Paris)",
                self.timezone
            ))
        })?;
        let days = self
            .working_days
            .iter()
            .map(|d| {
                d.trim().parse::<Weekday>().map_err(|_| {
                    SettingsError(format!(
                        "calendar.working_days: {d:?} is not a weekday (Mon, Tue, Wed, Thu, Fri, Sat, Sun)"
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let open = parse_hm("calendar.open", &self.open)?;
        let close = parse_hm("calendar.close", &self.close)?;
        let mut lists = BTreeMap::new();
        for (year, dates) in &self.holidays {
            let y: i32 = year.trim().parse().map_err(|_| {
                SettingsError(format!(
                    "calendar.holidays: key {year:?} is not a year (e.g. \"2028\")"
                ))
            })?;
            let dates = dates
                .iter()
                .map(|d| {
                    NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").map_err(|_| {
                        SettingsError(format!(
                            "calendar.holidays.{year}: {d:?} is not a date (YYYY-MM-DD)"
                        ))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            lists.insert(y, dates);
        }
        let holidays = Holidays::new(self.holiday_rules, lists).map_err(CalendarError::from);
        holidays
            .and_then(|h| Calendar::new(tz, &days, open, close, h))
            .map_err(|e| match e {
                CalendarError::OpenNotBeforeClose { open, close } => SettingsError(format!(
                    "calendar.open ({}) must be before calendar.close ({})",
                    open.format("%H:%M"),
                    close.format("%H:%M")
                )),
                other => SettingsError(format!("calendar.{other}")),
            })
    }
}

fn parse_hm(key: &str, value: &str) -> Result<NaiveTime, SettingsError> {
    NaiveTime::parse_from_str(value.trim(), "%H:%M").map_err(|_| {
        SettingsError(format!(
            "{key} {value:?} must be a local time HH:MM, e.g. 09:00"
        ))
    })
}

fn check_team(key: &str, team: &str) -> Result<(), SettingsError> {
    let ok = !team.is_empty()
        && team
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        invalid(format!(
            "{key} {team:?} must name a team in lower case (a-z, 0-9, _ or -), e.g. sales"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_four_band() {
        let s = TierSettings::default();
        assert_eq!(s.validate(), Ok(()));
        let (policy, calendar) = s.build().unwrap();
        assert_eq!(policy.version, "four-band@1");
        assert_eq!(policy, TierPolicy::preset(PolicyPreset::FourBand));
        assert_eq!(calendar.timezone(), chrono_tz::Europe::Paris);
        assert!(calendar.is_holiday(NaiveDate::from_ymd_opt(2026, 12, 25).unwrap()));
        assert!(calendar.is_holiday(NaiveDate::from_ymd_opt(2027, 5, 6).unwrap()));
        // computed for any year: Whit Monday 2031 (Easter 13 April)
        assert!(calendar.is_holiday(NaiveDate::from_ymd_opt(2031, 6, 2).unwrap()));
    }

    #[test]
    fn parses_toml_with_overrides() {
        let s: TierSettings = serde_json::from_value(serde_json::json!({
            "policy": "hql-mql",
            "confidence_threshold": 0.7,
            "bands": { "MQL": { "min_score": 65, "first_contact_minutes": 120 } },
            "out_of_scope": { "sensitive_internal": "leadership" },
            "calendar": { "timezone": "America/New_York", "holidays": { "2026": ["2026-11-26"] } }
        }))
        .unwrap();
        let (policy, calendar) = s.build().unwrap();
        let mql = policy.band_for(65).unwrap();
        assert_eq!(mql.tier, "MQL");
        assert_eq!(mql.sla.first_contact, Some(120));
        assert_eq!(
            mql.sla.assignment,
            Some(15),
            "untouched values keep the preset's"
        );
        assert_eq!(policy.band_for(64).unwrap().tier, "MEL");
        assert!(policy.version.starts_with("hql-mql@1+custom."));
        assert_eq!(policy.out_of_scope.sensitive_internal, "leadership");
        assert_eq!(calendar.timezone(), chrono_tz::America::New_York);
        // Only the year given replaces the computed list.
        assert!(calendar.is_holiday(NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()));
        assert!(!calendar.is_holiday(NaiveDate::from_ymd_opt(2026, 12, 25).unwrap()));
        assert!(calendar.is_holiday(NaiveDate::from_ymd_opt(2027, 12, 25).unwrap()));
    }

    #[test]
    fn override_keys_are_case_insensitive() {
        let mut s = TierSettings::default();
        s.bands.insert(
            "warm".into(),
            BandOverride {
                first_contact_minutes: Some(60),
                ..BandOverride::default()
            },
        );
        let (policy, _) = s.build().unwrap();
        assert_eq!(policy.band_for(75).unwrap().sla.first_contact, Some(60));
    }

    /// deploy/config/tier.toml documents every key with its default: its `[stage]` table must equal
    /// `TierSettings::default()`.
    #[test]
    fn deploy_config_equals_the_defaults() {
        use figment::Figment;
        use figment::providers::{Format, Toml};
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/config/tier.toml");
        let stage: TierSettings = Figment::from(Toml::file(path))
            .extract_inner("stage")
            .unwrap();
        assert_eq!(stage, TierSettings::default());
    }

    /// deploy/demo/tier.toml (scripts/demo.sh's live clocks): every day open, one- and two-minute
    /// first-contact SLAs, and it builds.
    #[test]
    fn demo_config_opens_every_day_with_minute_slas() {
        use figment::Figment;
        use figment::providers::{Format, Toml};
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/demo/tier.toml");
        let stage: TierSettings = Figment::from(Toml::file(path))
            .extract_inner("stage")
            .unwrap();
        assert_eq!(stage.calendar.working_days.len(), 7);
        let (policy, _) = stage.build().unwrap();
        assert_eq!(policy.band_for(90).unwrap().sla.first_contact, Some(1));
        assert_eq!(policy.band_for(75).unwrap().sla.first_contact, Some(2));
        assert_eq!(policy.band_for(55).unwrap().sla.first_contact, Some(2));
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let r: Result<TierSettings, _> =
            serde_json::from_value(serde_json::json!({ "confidence": 0.8 }));
        assert!(r.is_err());
        let r: Result<TierSettings, _> =
            serde_json::from_value(serde_json::json!({ "policy": "three-band" }));
        assert!(r.is_err());
        let r: Result<TierSettings, _> = serde_json::from_value(
            serde_json::json!({ "bands": { "HOT": { "first_contact": 5 } } }),
        );
        assert!(r.is_err());
        let r: Result<TierSettings, _> = serde_json::from_value(
            serde_json::json!({ "calendar": { "holiday_rules": "germany" } }),
        );
        assert!(r.is_err());
        let r: Result<TierSettings, _> =
            serde_json::from_value(serde_json::json!({ "stall": { "exchanges": 8 } }));
        assert!(r.is_err());
        let r: Result<TierSettings, _> = serde_json::from_value(
            serde_json::json!({ "resources": { "general": { "title": "t" } } }),
        );
        assert!(r.is_err(), "a resource needs a url");
    }

    type Edit = fn(&mut TierSettings);

    /// Each edit of the default settings is refused with a message naming the key.
    fn assert_each_refused(cases: Vec<(Edit, &str)>) {
        for (edit, expected) in cases {
            let mut s = TierSettings::default();
            edit(&mut s);
            let err = s.validate().expect_err(expected);
            assert!(
                err.contains(expected),
                "{err:?} should contain {expected:?}"
            );
        }
    }

    #[test]
    fn validation_messages_name_the_key_thresholds_times_and_teams() {
        assert_each_refused(vec![
            (
                |s| s.confidence_threshold = 1.5,
                "confidence_threshold must be between 0 and 1",
            ),
            (
                |s| s.confidence_threshold = f64::NAN,
                "confidence_threshold",
            ),
            (
                |s| s.same_day_cutoff = "4pm".into(),
                "same_day_cutoff \"4pm\" must be a local time HH:MM",
            ),
            (
                |s| s.same_day_cutoff = "19:00".into(),
                "same_day_cutoff (19:00) must be after calendar.open",
            ),
            (
                |s| s.next_morning_by = "08:00".into(),
                "next_morning_by (08:00) must be after calendar.open",
            ),
            (|s| s.fallback_team = String::new(), "fallback_team"),
            (
                |s| s.stall.short_answers = 0,
                "stall.short_answers must be at least 1",
            ),
            (
                |s| s.stall.max_exchanges_without_proposal = 0,
                "stall.max_exchanges_without_proposal must be at least 1",
            ),
            (
                |s| s.soft_escalation.min_exchanges = 0,
                "soft_escalation.min_exchanges must be at least 1",
            ),
        ]);
    }

    #[test]
    fn validation_messages_name_the_key_resources_and_routing_teams() {
        assert_each_refused(vec![
            (
                |s| s.soft_escalation.fallback_topic = "misc".into(),
                "soft_escalation.fallback_topic \"misc\" is not a topic",
            ),
            (
                |s| {
                    s.resources.insert(
                        "Lead Routing".into(),
                        crate::conversation::Resource {
                            title: "t".into(),
                            url: "https://example.com".into(),
                        },
                    );
                },
                "resources.Lead Routing: a topic is lower case",
            ),
            (
                |s| {
                    if let Some(r) = s.resources.get_mut("general") {
                        r.url = "ftp://example.com".into();
                    }
                },
                "resources.general.url \"ftp://example.com\" must be an http(s) URL",
            ),
            (
                |s| s.out_of_scope.legal_compliance = "Legal Team".into(),
                "out_of_scope.legal_compliance",
            ),
        ]);
    }

    #[test]
    fn validation_messages_name_the_key_calendar() {
        assert_each_refused(vec![
            (
                |s| s.calendar.timezone = "Europe/Pariss".into(),
                "calendar.timezone \"Europe/Pariss\" is not a known IANA time zone",
            ),
            (
                |s| s.calendar.working_days = vec!["Mondy".into()],
                "calendar.working_days: \"Mondy\" is not a weekday",
            ),
            (
                |s| s.calendar.working_days = vec![],
                "calendar.working_days must list at least one day",
            ),
            (
                |s| s.calendar.working_days = vec!["Mon".into(), "mon".into()],
                "calendar.working_days lists Mon twice",
            ),
            (
                |s| s.calendar.open = "25:00".into(),
                "calendar.open \"25:00\" must be a local time HH:MM",
            ),
            (
                |s| s.calendar.close = "08:00".into(),
                "calendar.open (09:00) must be before calendar.close (08:00)",
            ),
            (
                |s| {
                    s.calendar
                        .holidays
                        .insert("2028".into(), vec!["2028-02-30".into()]);
                },
                "calendar.holidays.2028: \"2028-02-30\" is not a date",
            ),
            (
                |s| {
                    s.calendar
                        .holidays
                        .insert("2028".into(), vec!["2029-01-01".into()]);
                },
                "calendar.holidays.2028: 2029-01-01 is not in 2028",
            ),
            (
                |s| {
                    s.calendar.holidays.insert("next".into(), vec![]);
                },
                "calendar.holidays: key \"next\" is not a year",
            ),
        ]);
    }

    #[test]
    fn validation_messages_name_the_key_band_overrides() {
        assert_each_refused(vec![
            (
                |s| {
                    s.bands.insert("LUKEWARM".into(), BandOverride::default());
                },
                "bands.LUKEWARM: no such tier in preset four-band (tiers: HOT, WARM, NURTURE_24H, NURTURE)",
            ),
            (
                |s| {
                    s.bands.insert(
                        "HOT".into(),
                        BandOverride {
                            min_score: Some(120),
                            ..BandOverride::default()
                        },
                    );
                },
                "bands.HOT.min_score 120 is outside 0..=100",
            ),
            (
                |s| {
                    s.bands.insert(
                        "WARM".into(),
                        BandOverride {
                            min_score: Some(90),
                            ..BandOverride::default()
                        },
                    );
                },
                "bands: min_score must decrease from the top tier down, but WARM (90) is not below HOT (85)",
            ),
            (
                |s| {
                    s.bands.insert(
                        "NURTURE".into(),
                        BandOverride {
                            min_score: Some(10),
                            ..BandOverride::default()
                        },
                    );
                },
                "bands.NURTURE.min_score must be 0",
            ),
            (
                |s| {
                    s.bands.insert(
                        "HOT".into(),
                        BandOverride {
                            team: Some(String::new()),
                            ..BandOverride::default()
                        },
                    );
                },
                "bands.HOT.team",
            ),
        ]);
    }
}
