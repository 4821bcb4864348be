//! Tier policy: score bands with their action, owning team and SLAs, from one of two presets.
//!
//! - `four-band` (POLICY.md B1, the default — it is the Lead Priority Score's own banding): 85–100 HOT,
//!   first contact < 5 min by an AE; 70–84 WARM, < 4 h by an SDR; 50–69 NURTURE_24H, an automated
//!   sequence within 24 h, then a human if they reply; below 50 NURTURE.
//! - `hql-mql` (POLICY.md B2): 80+ HQL straight to an AE (assignment immediate, contact 1 h, qualification
//!   4 h); 60–79 MQL to an SDR (assignment 15 min, contact 4 h, qualification 24 h); 40–59 MEL nurture;
//!   below 40 COLD.
//!
//! Every SLA is counted in business time (see [`crate::calendar`]).

use std::fmt;

use leadflow_events::{LeadLevel, OutOfScopeCategory};
use serde::{Deserialize, Serialize};

use crate::conversation::{ResourceCatalogue, SoftEscalationRules, StallRules, default_catalogue};
use crate::nurture_reply::NurtureReplyRules;

/// Revision of the preset definitions; bump when a preset's numbers change.
pub const PRESET_REVISION: u32 = 1;

/// The named starting point of a policy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PolicyPreset {
    /// POLICY.md B1: HOT / WARM / NURTURE_24H / NURTURE.
    #[default]
    FourBand,
    /// POLICY.md B2: HQL / MQL / MEL / COLD.
    HqlMql,
}

impl PolicyPreset {
    pub fn name(self) -> &'static str {
        match self {
            PolicyPreset::FourBand => "four-band",
            PolicyPreset::HqlMql => "hql-mql",
        }
    }

    /// The preset's bands, highest first.
    pub fn bands(self) -> Vec<Band> {
        match self {
            PolicyPreset::FourBand => vec![
                Band::new("HOT", 85, LeadLevel::Hot, BandAction::Escalate, "ae").first_contact(5),
                Band::new("WARM", 70, LeadLevel::Warm, BandAction::Queue, "sdr")
                    .first_contact(4 * 60),
                Band::new(
                    "NURTURE_24H",
                    50,
                    LeadLevel::Cold,
                    BandAction::Sequence,
                    "nurture",
                )
                .first_contact(24 * 60),
                Band::new(
                    "NURTURE",
                    0,
                    LeadLevel::Cold,
                    BandAction::Nurture,
                    "nurture",
                ),
            ],
            PolicyPreset::HqlMql => vec![
                Band {
                    sla: SlaMinutes {
                        assignment: Some(0),
                        first_contact: Some(60),
                        qualification: Some(4 * 60),
                    },
                    ..Band::new("HQL", 80, LeadLevel::Hot, BandAction::Escalate, "ae")
                },
                Band {
                    sla: SlaMinutes {
                        assignment: Some(15),
                        first_contact: Some(4 * 60),
                        qualification: Some(24 * 60),
                    },
                    ..Band::new("MQL", 60, LeadLevel::Warm, BandAction::Queue, "sdr")
                },
                Band::new("MEL", 40, LeadLevel::Cold, BandAction::Nurture, "nurture"),
                Band::new("COLD", 0, LeadLevel::Cold, BandAction::Nurture, "nurture"),
            ],
        }
    }
}

impl fmt::Display for PolicyPreset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a band does with a lead.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BandAction {
    /// A human now: escalation handoff (a capture with a commitment outside business hours).
    Escalate,
    /// A human later, from a queue: capture handoff with a commitment.
    Queue,
    /// An automated sequence first, a human only if they reply: no handoff.
    Sequence,
    /// Marketing nurture only: no handoff.
    Nurture,
}

impl BandAction {
    /// The band puts the lead in front of a human.
    pub fn is_human(self) -> bool {
        matches!(self, BandAction::Escalate | BandAction::Queue)
    }

    pub fn describe(self) -> &'static str {
        match self {
            BandAction::Escalate => "escalate to a human now",
            BandAction::Queue => "queue for a human",
            BandAction::Sequence => "automated sequence, then a human if they reply",
            BandAction::Nurture => "nurture only",
        }
    }
}

/// SLA clocks in business minutes; `None` means the band has no such clock.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SlaMinutes {
    pub assignment: Option<u32>,
    pub first_contact: Option<u32>,
    pub qualification: Option<u32>,
}

impl SlaMinutes {
    pub fn is_empty(&self) -> bool {
        self.assignment.is_none() && self.first_contact.is_none() && self.qualification.is_none()
    }

    /// E.g. `assignment 15 min, first contact 4 h, qualification 24 h`.
    pub fn describe(&self) -> String {
        let parts: Vec<String> = [
            ("assignment", self.assignment),
            ("first contact", self.first_contact),
            ("qualification", self.qualification),
        ]
        .into_iter()
        .filter_map(|(name, m)| m.map(|m| format!("{name} {}", minutes_text(m))))
        .collect();
        if parts.is_empty() {
            "no SLA".into()
        } else {
            parts.join(", ")
        }
    }
}

/// `5 min`, `4 h`, `1 h 30 min`, `immediate`.
pub fn minutes_text(m: u32) -> String {
    match (m / 60, m % 60) {
        (0, 0) => "immediate".into(),
        (0, min) => format!("{min} min"),
        (h, 0) => format!("{h} h"),
        (h, min) => format!("{h} h {min} min"),
    }
}

/// One score band: scores from `min_score` up to the next band's `min_score - 1` (100 for the top).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Band {
    pub tier: String,
    pub min_score: i32,
    pub lead_level: LeadLevel,
    pub action: BandAction,
    /// Team that owns the next step: ae, sdr, nurture, ...
    pub team: String,
    pub sla: SlaMinutes,
}

impl Band {
    fn new(tier: &str, min_score: i32, level: LeadLevel, action: BandAction, team: &str) -> Self {
        Self {
            tier: tier.into(),
            min_score,
            lead_level: level,
            action,
            team: team.into(),
            sla: SlaMinutes::default(),
        }
    }

    fn first_contact(mut self, minutes: u32) -> Self {
        self.sla.first_contact = Some(minutes);
        self
    }
}

/// Team per out-of-scope category (POLICY.md T3).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutOfScopeRouting {
    pub existing_client_support: String,
    pub commercial_terms: String,
    pub sensitive_internal: String,
    pub legal_compliance: String,
    pub technical_scoping: String,
}

impl Default for OutOfScopeRouting {
    fn default() -> Self {
        Self {
            existing_client_support: "account_management".into(),
            commercial_terms: "sales".into(),
            sensitive_internal: "sales".into(),
            legal_compliance: "legal".into(),
            technical_scoping: "solutions".into(),
        }
    }
}

impl OutOfScopeRouting {
    pub fn team_for(&self, category: OutOfScopeCategory) -> &str {
        match category {
            OutOfScopeCategory::ExistingClientSupport => &self.existing_client_support,
            OutOfScopeCategory::CommercialTerms => &self.commercial_terms,
            OutOfScopeCategory::SensitiveInternal => &self.sensitive_internal,
            OutOfScopeCategory::LegalCompliance => &self.legal_compliance,
            OutOfScopeCategory::TechnicalScoping => &self.technical_scoping,
        }
    }

    /// `(config key, team)` pairs, for validation messages.
    pub fn entries(&self) -> [(&'static str, &str); 5] {
        [
            ("existing_client_support", &self.existing_client_support),
            ("commercial_terms", &self.commercial_terms),
            ("sensitive_internal", &self.sensitive_internal),
            ("legal_compliance", &self.legal_compliance),
            ("technical_scoping", &self.technical_scoping),
        ]
    }
}

/// A resolved, validated policy: what [`crate::decide`] applies.
#[derive(Clone, Debug, PartialEq)]
pub struct TierPolicy {
    pub preset: PolicyPreset,
    /// E.g. `four-band@1`, with `+custom.<hash>` when bands were overridden.
    pub version: String,
    /// Highest first, strictly decreasing `min_score`, the last one starting at 0.
    pub bands: Vec<Band>,
    /// Below this score confidence a lead does not reach a human on score or hot-lead signals.
    pub confidence_threshold: f64,
    /// Arrivals at or after this local time get no same-day promise.
    pub same_day_cutoff: chrono::NaiveTime,
    /// The "next business morning" commitment: before this local time.
    pub next_morning_by: chrono::NaiveTime,
    pub out_of_scope: OutOfScopeRouting,
    /// Team for a human request or a stall when the lead's band names no human team.
    pub fallback_team: String,
    /// When a conversation counts as stalled (rule T4).
    pub stall: StallRules,
    /// When a warm lead gets a soft escalation (rule T5).
    pub soft_escalation: SoftEscalationRules,
    /// Resources offered to visitors, by conversation topic.
    pub resources: ResourceCatalogue,
    /// How long a nurture sequence listens for a reply (rule N1).
    pub nurture_reply: NurtureReplyRules,
}

impl TierPolicy {
    /// The preset as shipped, default threshold and commitment times.
    pub fn preset(preset: PolicyPreset) -> Self {
        let bands = preset.bands();
        Self {
            preset,
            version: version_for(preset, &bands),
            bands,
            confidence_threshold: DEFAULT_CONFIDENCE_THRESHOLD,
            same_day_cutoff: hm(16, 0),
            next_morning_by: hm(10, 0),
            out_of_scope: OutOfScopeRouting::default(),
            fallback_team: "sales".into(),
            stall: StallRules::default(),
            soft_escalation: SoftEscalationRules::default(),
            resources: default_catalogue(),
            nurture_reply: NurtureReplyRules::default(),
        }
    }

    /// The band a score falls in; scores below every band fall in the last one.
    pub fn band_for(&self, score: i32) -> Option<&Band> {
        self.bands
            .iter()
            .find(|b| score >= b.min_score)
            .or_else(|| self.bands.last())
    }

    /// How long after an enrolment in `tier`'s sequence a reply still brings a human (rule N1), in
    /// hours; `None` when `tier` is not a band of this policy that enrols (an automated sequence or
    /// nurture).
    pub fn nurture_window_hours(&self, tier: &str) -> Option<u32> {
        let band = self.bands.iter().find(|b| b.tier == tier)?;
        match band.action {
            BandAction::Sequence => Some(self.nurture_reply.sequence_window_hours),
            BandAction::Nurture => Some(self.nurture_reply.nurture_window_hours),
            BandAction::Escalate | BandAction::Queue => None,
        }
    }

    /// The band a hot lead or an explicit request is escalated with: the top band.
    pub fn escalation_band(&self) -> Option<&Band> {
        self.bands.first()
    }

    /// The upper score of `band` (the next higher band's minimum minus one, 100 for the top).
    pub fn max_score_of(&self, band: &Band) -> i32 {
        let idx = self.bands.iter().position(|b| b == band).unwrap_or(0);
        match idx.checked_sub(1).and_then(|i| self.bands.get(i)) {
            Some(higher) => higher.min_score - 1,
            None => 100,
        }
    }
}

/// POLICY.md G2 and T1: only leads (and qualification dimensions) at 80 % confidence or more put a
/// lead in the human queue.
pub const DEFAULT_CONFIDENCE_THRESHOLD: f64 = 0.80;

pub(crate) fn hm(h: u32, m: u32) -> chrono::NaiveTime {
    chrono::NaiveTime::from_hms_opt(h, m, 0).unwrap_or_default()
}

/// `four-band@1` for the preset's own bands; `four-band@1+custom.1a2b3c4d` once any band value was
/// overridden, so decisions made under different numbers never share a version.
pub fn version_for(preset: PolicyPreset, bands: &[Band]) -> String {
    let base = format!("{}@{PRESET_REVISION}", preset.name());
    if bands == preset.bands().as_slice() {
        return base;
    }
    let mut canonical = String::new();
    for b in bands {
        canonical.push_str(&format!(
            "{}|{}|{:?}|{:?}|{}|{:?}|{:?}|{:?};",
            b.tier,
            b.min_score,
            b.lead_level,
            b.action,
            b.team,
            b.sla.assignment,
            b.sla.first_contact,
            b.sla.qualification
        ));
    }
    format!(
        "{base}+custom.{:08x}",
        leadflow_events::stable_hash::fnv1a_32(canonical.as_bytes())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn four_band_boundaries() {
        let p = TierPolicy::preset(PolicyPreset::FourBand);
        let cases = [
            (100, "HOT"),
            (85, "HOT"),
            (84, "WARM"),
            (70, "WARM"),
            (69, "NURTURE_24H"),
            (50, "NURTURE_24H"),
            (49, "NURTURE"),
            (0, "NURTURE"),
            (-5, "NURTURE"),
        ];
        for (score, tier) in cases {
            assert_eq!(p.band_for(score).unwrap().tier, tier, "score {score}");
        }
        assert_eq!(p.version, "four-band@1");
    }

    #[test]
    fn hql_mql_boundaries_and_slas() {
        let p = TierPolicy::preset(PolicyPreset::HqlMql);
        let cases = [
            (80, "HQL", Some(0), Some(60), Some(240)),
            (79, "MQL", Some(15), Some(240), Some(1440)),
            (60, "MQL", Some(15), Some(240), Some(1440)),
            (59, "MEL", None, None, None),
            (40, "MEL", None, None, None),
            (39, "COLD", None, None, None),
        ];
        for (score, tier, a, f, q) in cases {
            let b = p.band_for(score).unwrap();
            assert_eq!(b.tier, tier, "score {score}");
            assert_eq!(
                (b.sla.assignment, b.sla.first_contact, b.sla.qualification),
                (a, f, q),
                "{tier}"
            );
        }
        assert_eq!(p.version, "hql-mql@1");
    }

    #[test]
    fn max_scores() {
        let p = TierPolicy::preset(PolicyPreset::FourBand);
        let maxes: Vec<i32> = p.bands.iter().map(|b| p.max_score_of(b)).collect();
        assert_eq!(maxes, vec![100, 84, 69, 49]);
    }

    #[test]
    fn custom_bands_change_the_version() {
        let mut bands = PolicyPreset::FourBand.bands();
        bands[1].sla.first_contact = Some(120);
        let v = version_for(PolicyPreset::FourBand, &bands);
        assert!(v.starts_with("four-band@1+custom."), "{v}");
        assert_eq!(v, version_for(PolicyPreset::FourBand, &bands), "stable");
        // the hash is part of the version: the same bands keep the same value across builds
        assert_eq!(v, "four-band@1+custom.243e4123");
    }

    #[test]
    fn minutes_in_words() {
        let cases = [
            (0, "immediate"),
            (5, "5 min"),
            (240, "4 h"),
            (90, "1 h 30 min"),
        ];
        for (m, text) in cases {
            assert_eq!(minutes_text(m), text);
        }
    }

    #[test]
    fn default_routing_table() {
        let r = OutOfScopeRouting::default();
        let cases = [
            (
                OutOfScopeCategory::ExistingClientSupport,
                "account_management",
            ),
            (OutOfScopeCategory::CommercialTerms, "sales"),
            (OutOfScopeCategory::SensitiveInternal, "sales"),
            (OutOfScopeCategory::LegalCompliance, "legal"),
            (OutOfScopeCategory::TechnicalScoping, "solutions"),
        ];
        for (cat, team) in cases {
            assert_eq!(r.team_for(cat), team, "{cat:?}");
        }
    }
}
