//! Sales outcomes for generated leads, from a known hidden conversion function of the lead's true
//! attributes (what the generator designed it to be), with noise and realistic delays.
//!
//! The function is deliberately *not* the score's hand-set model, so a recalibration that learns
//! from these outcomes has something to find (`crates/recalibrate/RULES.md` R8):
//!
//! ```text
//! logit p = −2.4
//!         + intent: HOT +2.4, WARM +1.1, COLD 0
//!         + persona: executive +0.4, manager +0.9, practitioner +0.3, free mail −0.8,
//!                    competitor / student / analyst / job seeker −4.0
//!         + a hot chat (qualification met at confidence ≥ 0.80) +1.0
//!         + company of 200+ employees +0.6, under 50 −0.5 (as the event says)
//!         + a demo request or a contact-sales activity +0.8
//!         + test lead −5.0, no email −0.6
//!         + noise N(0, 0.35)
//! ```
//!
//! A converting lead reaches SQL 1–10 days after its event (preceded by ACCEPTED half of the time),
//! half of the SQLs become an OPPORTUNITY 5–20 days later, and 40 % of those CLOSED_WON (amount
//! 8 000–120 000 EUR) 20–45 days later, the rest CLOSED_LOST. A non-converting lead is REJECTED by
//! sales with a reason 70 % of the time (0.5–5 days later), ACCEPTED and then silent 15 % of the
//! time, and gets no outcome at all otherwise. Repeats of a known lead get no outcome of their own.
//! The draws come from their own ChaCha8 stream per lead (seed, lead id), so adding outcomes never
//! changes the lead stream.

use leadflow_events::{ActivityKind, LeadOutcome, OutcomeStage, Timestamp};
use rand::{Rng as _, SeedableRng};

use super::Intent;
use super::generator::{GeneratedLead, Quirk};
use super::people::SyntheticPersona;
use super::pick::Rng as GenRng;

const DAY_MS: i64 = 86_400_000;

/// The hidden conversion logit of a generated lead (before noise).
pub fn conversion_logit(lead: &GeneratedLead) -> f64 {
    let mut z = -2.4;
    z += match lead.intent {
        Intent::Hot => 2.4,
        Intent::Warm => 1.1,
        Intent::Cold => 0.0,
    };
    z += match lead.persona {
        SyntheticPersona::Executive => 0.4,
        SyntheticPersona::Manager => 0.9,
        SyntheticPersona::Practitioner => 0.3,
        SyntheticPersona::FreeMail => -0.8,
        SyntheticPersona::Competitor
        | SyntheticPersona::Student
        | SyntheticPersona::Analyst
        | SyntheticPersona::JobSeeker => -4.0,
    };
    if lead.hot_chat {
        z += 1.0;
    }
    match lead.event.company.employee_count {
        Some(n) if n >= 200 => z += 0.6,
        Some(n) if n < 50 => z -= 0.5,
        _ => {}
    }
    if lead.event.activities.iter().any(|a| {
        matches!(
            a.kind,
            ActivityKind::DemoRequest | ActivityKind::ContactSales
        )
    }) {
        z += 0.8;
    }
    match lead.quirk {
        Some(Quirk::TestLead) => z -= 5.0,
        Some(Quirk::MissingEmail) => z -= 0.6,
        _ => {}
    }
    z
}

/// The hidden conversion probability (before noise).
pub fn conversion_probability(lead: &GeneratedLead) -> f64 {
    sigmoid(conversion_logit(lead))
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// A standard normal draw (Box–Muller).
fn normal(rng: &mut GenRng) -> f64 {
    let u1: f64 = rng.random_range(f64::EPSILON..1.0);
    let u2: f64 = rng.random_range(0.0..1.0);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

fn after(rng: &mut GenRng, at: Timestamp, lo_days: f64, hi_days: f64) -> Timestamp {
    let days = rng.random_range(lo_days..hi_days);
    Timestamp(at.0 + (days * DAY_MS as f64) as i64)
}

fn rng_for(seed: u64, lead_id: &str) -> GenRng {
    // FNV-1a of the lead id, mixed with the seed: a stream per lead, independent of the lead stream.
    let h = leadflow_events::stable_hash::fnv1a_64(lead_id.as_bytes());
    GenRng::seed_from_u64(seed.rotate_left(17) ^ h ^ 0x6f75_7463_6f6d_6573)
}

/// The outcomes of one generated lead, in event-time order (empty for repeats and silent leads).
pub fn outcomes_for(seed: u64, lead: &GeneratedLead) -> Vec<LeadOutcome> {
    if lead.repeat.is_some() {
        return Vec::new();
    }
    let mut rng = rng_for(seed, &lead.event.lead_id);
    let p = sigmoid(conversion_logit(lead) + 0.35 * normal(&mut rng));
    let converted = rng.random_bool(p.clamp(0.0, 1.0));
    let at = lead.event.occurred_at;
    let mut out = Vec::new();
    let mut push =
        |stage: OutcomeStage, occurred_at: Timestamp, amount: Option<f64>, reason: Option<&str>| {
            let n = out.len();
            out.push(LeadOutcome {
                outcome_id: format!("out-{}-{n}", lead.event.lead_id),
                lead_id: lead.event.lead_id.clone(),
                account_key: lead.event.account_domain.clone(),
                stage,
                amount,
                currency: amount.map(|_| "EUR".to_owned()),
                reason: reason.map(str::to_owned),
                model_version: None,
                occurred_at,
            });
        };
    if converted {
        let mut t = after(&mut rng, at, 0.1, 1.0);
        if rng.random_bool(0.5) {
            push(OutcomeStage::Accepted, t, None, None);
        }
        t = after(&mut rng, t, 1.0, 10.0);
        push(OutcomeStage::Sql, t, None, None);
        if rng.random_bool(0.5) {
            t = after(&mut rng, t, 5.0, 20.0);
            let amount = f64::from(rng.random_range(8u32..=120)) * 1000.0;
            push(OutcomeStage::Opportunity, t, Some(amount), None);
            t = after(&mut rng, t, 20.0, 45.0);
            if rng.random_bool(0.4) {
                push(OutcomeStage::ClosedWon, t, Some(amount), None);
            } else {
                push(
                    OutcomeStage::ClosedLost,
                    t,
                    None,
                    Some("chose a competitor"),
                );
            }
        }
    } else {
        let roll: f64 = rng.random_range(0.0..1.0);
        if roll < 0.70 {
            let reason = match lead.persona {
                SyntheticPersona::Competitor => "competitor",
                SyntheticPersona::Student | SyntheticPersona::Analyst => "not a buyer: research",
                SyntheticPersona::JobSeeker => "not a buyer: job seeker",
                _ if lead.quirk == Some(Quirk::TestLead) => "test submission",
                _ => *[
                    "no budget",
                    "not a fit",
                    "unresponsive",
                    "timing: next year",
                ]
                .get(rng.random_range(0..4usize))
                .unwrap_or(&"not a fit"),
            };
            let t = after(&mut rng, at, 0.5, 5.0);
            push(OutcomeStage::Rejected, t, None, Some(reason));
        } else if roll < 0.85 {
            let t = after(&mut rng, at, 0.1, 2.0);
            push(OutcomeStage::Accepted, t, None, None);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LeadGenerator;
    use leadflow_events::Timestamp;

    fn leads(n: usize) -> Vec<GeneratedLead> {
        let mut g = LeadGenerator::new(7, Timestamp(1_763_640_000_000));
        (0..n).map(|_| g.next_lead()).collect()
    }

    #[test]
    fn outcomes_are_deterministic_and_after_the_lead() {
        for lead in leads(300) {
            let a = outcomes_for(7, &lead);
            assert_eq!(a, outcomes_for(7, &lead));
            let mut prev = lead.event.occurred_at;
            for o in &a {
                assert_eq!(o.lead_id, lead.event.lead_id);
                assert!(o.occurred_at > prev, "{o:?} not after {prev:?}");
                prev = o.occurred_at;
            }
        }
    }

    #[test]
    fn conversion_follows_the_hidden_function() {
        let leads = leads(3000);
        let (mut hi, mut hi_n, mut lo, mut lo_n) = (0, 0, 0, 0);
        for lead in &leads {
            let sql = outcomes_for(7, lead)
                .iter()
                .any(|o| o.stage == OutcomeStage::Sql);
            if lead.repeat.is_some() {
                continue;
            }
            if conversion_probability(lead) > 0.5 {
                hi_n += 1;
                hi += usize::from(sql);
            } else {
                lo_n += 1;
                lo += usize::from(sql);
            }
        }
        assert!(hi_n > 50 && lo_n > 50, "{hi_n} {lo_n}");
        let hi_rate = hi as f64 / hi_n as f64;
        let lo_rate = lo as f64 / lo_n as f64;
        assert!(hi_rate > 0.55, "high-probability leads convert: {hi_rate}");
        assert!(
            lo_rate < 0.25,
            "low-probability leads rarely convert: {lo_rate}"
        );
    }

    #[test]
    fn non_buyers_never_convert_in_practice_and_get_reasons() {
        for lead in leads(2000) {
            if matches!(lead.persona, SyntheticPersona::Competitor) {
                let outs = outcomes_for(7, &lead);
                for o in outs.iter().filter(|o| o.stage == OutcomeStage::Rejected) {
                    assert_eq!(o.reason.as_deref(), Some("competitor"));
                }
            }
        }
    }
}
