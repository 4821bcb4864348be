//! Confidence, 0..1: how much evidence stands behind a score (not how good the lead is).
//!
//! ```text
//! E = enrichment: ENRICHED 1.0, NOT_FOUND 0.5 (a real answer), PROVIDER_UNAVAILABLE / SKIPPED 0.25
//! F = known fit facts / 5   (industry, employee band, revenue band, seniority, department)
//! P = 0.4 E + 0.6 F                                  profile evidence
//! A = 1 - exp(-Σ decay_i / 2)                        activity evidence: every activity counts its
//!                                                    recency-decayed weight share (1 when fresh)
//! C = mean confidence of the 4 chat dimensions       chat evidence (0 without a chat)
//! B = 1 - (1 - A)(1 - C)                             behaviour evidence: either source suffices
//! confidence = 0.5 P + 0.5 B, rounded to 3 decimals
//! ```
//!
//! A fully enriched lead with a known title and department, two fresh activities and a confident chat
//! scores about 0.95; a lead nobody knows anything about with one old page view scores about 0.05.

use leadflow_events::{EnrichedLead, EnrichmentStatus};

use crate::fit::FIT_FIELDS;
use crate::qualification::unit;

/// Weight of the enrichment outcome within profile evidence.
pub const ENRICHMENT_SHARE: f64 = 0.4;
/// Sum of activity decay factors at which activity evidence reaches 1 - 1/e.
pub const ACTIVITY_SCALE: f64 = 2.0;
/// Weight of profile evidence in the total (behaviour evidence has the rest).
pub const PROFILE_SHARE: f64 = 0.5;

/// E: how much the enrichment outcome tells.
pub fn enrichment_evidence(status: EnrichmentStatus) -> f64 {
    match status {
        EnrichmentStatus::Enriched => 1.0,
        EnrichmentStatus::NotFound => 0.5,
        EnrichmentStatus::ProviderUnavailable | EnrichmentStatus::Skipped => 0.25,
    }
}

/// C: mean confidence of the chat's four dimensions, 0 without a chat.
pub fn chat_evidence(lead: &EnrichedLead) -> f64 {
    lead.lead.chat.as_ref().map_or(0.0, |c| {
        let q = &c.qualification;
        [q.problem, q.authority, q.company, q.timing]
            .iter()
            .map(|d| unit(d.confidence))
            .sum::<f64>()
            / 4.0
    })
}

/// A: activity evidence from the summed decay factors.
pub fn activity_evidence(decay_sum: f64) -> f64 {
    1.0 - (-decay_sum.max(0.0) / ACTIVITY_SCALE).exp()
}

/// The confidence of a score (formula in the module docs).
pub fn confidence(lead: &EnrichedLead, known_fit_fields: u32, decay_sum: f64) -> f64 {
    let e = enrichment_evidence(lead.enrichment);
    let f = f64::from(known_fit_fields.min(FIT_FIELDS)) / f64::from(FIT_FIELDS);
    let profile = ENRICHMENT_SHARE * e + (1.0 - ENRICHMENT_SHARE) * f;
    let a = activity_evidence(decay_sum);
    let c = chat_evidence(lead);
    let behaviour = 1.0 - (1.0 - a) * (1.0 - c);
    let total = PROFILE_SHARE * profile + (1.0 - PROFILE_SHARE) * behaviour;
    (total.clamp(0.0, 1.0) * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use leadflow_events::samples;

    use super::*;

    fn bare() -> EnrichedLead {
        let mut lead = samples::enriched_lead();
        lead.enrichment = EnrichmentStatus::Skipped;
        lead.lead.chat = None;
        lead
    }

    #[test]
    fn confidence_table() {
        type Edit = fn(&mut EnrichedLead);
        // (name, edit of a bare lead, known fields, decay sum, expected)
        let cases: [(&str, Edit, u32, f64, f64); 7] = [
            (
                "nothing known: only E counts",
                |_| {},
                0,
                0.0,
                0.5 * 0.4 * 0.25,
            ),
            (
                "two fresh activities",
                |_| {},
                0,
                2.0,
                0.05 + 0.5 * (1.0 - 0.367_879_441),
            ),
            (
                "enriched with all fields, no behaviour",
                |l| l.enrichment = EnrichmentStatus::Enriched,
                5,
                0.0,
                0.5,
            ),
            (
                "not found, 2 of 5 fields",
                |l| l.enrichment = EnrichmentStatus::NotFound,
                2,
                0.0,
                0.5 * (0.4 * 0.5 + 0.6 * 0.4),
            ),
            (
                "fully known, overwhelming activity",
                |l| l.enrichment = EnrichmentStatus::Enriched,
                5,
                1000.0,
                1.0,
            ),
            ("negative decay sum is no evidence", |_| {}, 0, -5.0, 0.05),
            (
                "more fields than counted are capped",
                |l| l.enrichment = EnrichmentStatus::Enriched,
                9,
                0.0,
                0.5,
            ),
        ];
        for (name, edit, fields, decay_sum, want) in cases {
            let mut lead = bare();
            edit(&mut lead);
            let got = confidence(&lead, fields, decay_sum);
            let want = (want * 1000.0_f64).round() / 1000.0;
            assert!((got - want).abs() < 0.0015, "{name}: {got} vs {want}");
        }
    }

    #[test]
    fn always_within_bounds() {
        let mut lead = samples::enriched_lead();
        if let Some(c) = &mut lead.lead.chat {
            c.qualification.problem.confidence = 9.0;
            c.qualification.company.confidence = -3.0;
            c.qualification.timing.confidence = f64::NAN;
        }
        for fields in [0, 3, 5, 50] {
            for decay_sum in [-1.0, 0.0, 0.5, 2.0, 1e9, f64::INFINITY] {
                let c = confidence(&lead, fields, decay_sum);
                assert!((0.0..=1.0).contains(&c), "{fields} {decay_sum}: {c}");
            }
        }
    }

    #[test]
    fn chat_and_activity_evidence() {
        let lead = samples::enriched_lead();
        assert!((chat_evidence(&lead) - (0.92 + 0.88 + 0.4 + 0.85) / 4.0).abs() < 1e-12);
        assert_eq!(chat_evidence(&bare()), 0.0);
        assert_eq!(activity_evidence(0.0), 0.0);
        assert!((activity_evidence(2.0) - (1.0 - (-1.0f64).exp())).abs() < 1e-12);
    }
}
