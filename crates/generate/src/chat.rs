//! Signals the qualification chat extracts from a conversation (the handoff triggers of
//! `crates/tier/POLICY.md`): human requests, out-of-scope questions, the observable stall signals
//! (exchanges, whether a proposal was made, consecutive short answers, a repeated question), the
//! chat's own stall and frustration flags, the conversation's topic, and the four qualification
//! dimensions with confidences.

use leadflow_events::{ChatSignals, DimensionSignal, OutOfScopeCategory, Qualification};

use super::Intent;
use super::people::SyntheticPersona;
use super::pick::{Rng as GenRng, chance, confidence, pick, weighted};

/// The chat signals of one conversation and whether it was designed as a hot lead.
pub struct Chat {
    pub signals: ChatSignals,
    /// Problem and authority confirmed plus company or timing fit, all at confidence ≥ 0.80.
    pub hot: bool,
}

/// Draws a conversation for a lead; `company_fit` says whether the lead's company is a plausible buyer.
pub fn conversation(
    rng: &mut GenRng,
    persona: SyntheticPersona,
    intent: Intent,
    company_fit: bool,
) -> Chat {
    use SyntheticPersona::*;
    let hot_profile = match (persona, intent) {
        (Executive | Manager, Intent::Hot) => chance(rng, 0.85),
        (Practitioner, Intent::Hot) => chance(rng, 0.15),
        (FreeMail, Intent::Hot) => chance(rng, 0.3),
        // a competitor posing as a buyer: the negative-persona gate must still hold
        (Competitor, _) => chance(rng, 0.15),
        _ => false,
    };
    let qualification = if hot_profile {
        hot_qualification(rng, company_fit)
    } else {
        ordinary_qualification(rng, persona, intent, company_fit)
    };
    let exchange_count = if hot_profile {
        weighted(rng, &[(3, 15), (4, 25), (5, 25), (6, 20), (7, 15)])
    } else {
        weighted(
            rng,
            &[
                (1, 8),
                (2, 9),
                (3, 10),
                (4, 14),
                (5, 14),
                (6, 12),
                (7, 10),
                (8, 8),
                (9, 6),
                (11, 5),
                (14, 4),
            ],
        )
    };
    let human_requested = chance(rng, if persona == JobSeeker { 0.12 } else { 0.05 });
    let out_of_scope = if chance(rng, if persona == Competitor { 0.15 } else { 0.08 }) {
        Some(out_of_scope_category(rng, persona))
    } else {
        None
    };
    // The proposal (a call, a connection) comes as the hot-lead threshold is crossed; other
    // conversations reach it less often, never in the first two exchanges. A conversation that runs long without
    // one is a stall by exchanges (POLICY.md T4).
    let hot = is_hot(&qualification);
    let proposal_made = hot
        || (exchange_count >= 3
            && chance(
                rng,
                match intent {
                    Intent::Hot => 0.5,
                    Intent::Warm => 0.35,
                    Intent::Cold => 0.1,
                },
            ));
    // Consecutive short, non-committal answers at the end: two or more is a stall by short answers.
    let short_answer_streak = if hot_profile {
        weighted(rng, &[(0, 90), (1, 10)])
    } else {
        weighted(rng, &[(0, 78), (1, 14), (2, 6), (3, 2)])
    };
    let repeated_question = chance(rng, 0.03);
    // the chat's own judgement, kept alongside the observable signals
    let stalled = chance(rng, if hot_profile { 0.01 } else { 0.03 });
    let stall_signals = stalled
        || repeated_question
        || short_answer_streak >= 2
        || (!proposal_made && exchange_count > 8);
    let frustrated = chance(rng, if stall_signals { 0.25 } else { 0.03 });
    let (summary, initiative) = story(rng, persona, intent, hot_profile);
    Chat {
        signals: ChatSignals {
            human_requested,
            out_of_scope,
            stalled,
            frustrated,
            exchange_count,
            qualification,
            summary: Some(summary.to_owned()),
            initiative: initiative.map(str::to_owned),
            proposal_made: Some(proposal_made),
            short_answer_streak,
            repeated_question,
            topic: topic_of(initiative).map(str::to_owned),
        },
        hot,
    }
}

/// The hot-lead rule (POLICY.md T1) at the 0.80 confidence threshold.
pub fn is_hot(q: &Qualification) -> bool {
    let ok = |d: &DimensionSignal| d.confirmed && d.confidence >= 0.8;
    ok(&q.problem) && ok(&q.authority) && (ok(&q.company) || ok(&q.timing))
}

/// The topic the chat classifies a conversation under (a key of the tier stage's resources
/// catalogue); `None` when the conversation has no initiative.
pub fn topic_of(initiative: Option<&str>) -> Option<&'static str> {
    match initiative? {
        "inbound speed-to-lead" | "replace manual lead assignment" | "territory routing" => {
            Some("lead-routing")
        }
        "after-hours lead coverage" => Some("after-hours"),
        "unified lead scoring" | "lead scoring refresh" => Some("lead-scoring"),
        "CRM routing" => Some("crm-integration"),
        _ => None,
    }
}

fn hot_qualification(rng: &mut GenRng, company_fit: bool) -> Qualification {
    let problem = confirmed(rng, 80, 97);
    let authority = confirmed(rng, 80, 96);
    // some timing confirmations land just under the threshold
    let timing = if chance(rng, 0.85) {
        confirmed(rng, 76, 95)
    } else {
        unconfirmed(rng)
    };
    let company = if company_fit && chance(rng, 0.7) {
        confirmed(rng, 75, 95)
    } else {
        unconfirmed(rng)
    };
    Qualification {
        problem,
        authority,
        company,
        timing,
    }
}

fn ordinary_qualification(
    rng: &mut GenRng,
    persona: SyntheticPersona,
    intent: Intent,
    company_fit: bool,
) -> Qualification {
    use SyntheticPersona::*;
    let problem_p = match intent {
        Intent::Hot => 0.6,
        Intent::Warm => 0.45,
        Intent::Cold => 0.1,
    };
    let authority_p = match persona {
        Executive => 0.7,
        Manager => 0.45,
        FreeMail => 0.25,
        Competitor => 0.2,
        Practitioner => 0.08,
        Student | Analyst | JobSeeker => 0.02,
    };
    let company_p = if company_fit { 0.5 } else { 0.05 };
    let timing_p = match intent {
        Intent::Hot => 0.5,
        Intent::Warm => 0.2,
        Intent::Cold => 0.03,
    };
    let mut dim = |p: f64| {
        if chance(rng, p) {
            confirmed(rng, 60, 95)
        } else {
            unconfirmed(rng)
        }
    };
    Qualification {
        problem: dim(problem_p),
        authority: dim(authority_p),
        company: dim(company_p),
        timing: dim(timing_p),
    }
}

fn confirmed(rng: &mut GenRng, lo: u32, hi: u32) -> DimensionSignal {
    DimensionSignal {
        confirmed: true,
        confidence: confidence(rng, lo, hi),
    }
}

fn unconfirmed(rng: &mut GenRng) -> DimensionSignal {
    DimensionSignal {
        confirmed: false,
        confidence: confidence(rng, 5, 55),
    }
}

fn out_of_scope_category(rng: &mut GenRng, persona: SyntheticPersona) -> OutOfScopeCategory {
    use OutOfScopeCategory::*;
    if persona == SyntheticPersona::Competitor {
        weighted(
            rng,
            &[
                (CommercialTerms, 45),
                (SensitiveInternal, 30),
                (TechnicalScoping, 25),
            ],
        )
    } else {
        weighted(
            rng,
            &[
                (ExistingClientSupport, 35),
                (CommercialTerms, 25),
                (TechnicalScoping, 20),
                (LegalCompliance, 12),
                (SensitiveInternal, 8),
            ],
        )
    }
}

fn story(
    rng: &mut GenRng,
    persona: SyntheticPersona,
    intent: Intent,
    hot: bool,
) -> (&'static str, Option<&'static str>) {
    use SyntheticPersona::*;
    let stories: &[(&str, Option<&str>)] = match persona {
        Competitor => &[
            (
                "Asked detailed questions about pricing tiers and the routing API; vague about their own use case.",
                None,
            ),
            (
                "Wanted a feature-by-feature comparison and the customer list; would not share team size.",
                None,
            ),
        ],
        Student => &[
            (
                "Writing a thesis on sales automation; asked for benchmark data to cite.",
                None,
            ),
            (
                "Class project on lead scoring; asked how the model weights intent.",
                None,
            ),
        ],
        Analyst => &[
            (
                "Preparing a market overview of lead routing vendors; asked for a briefing.",
                None,
            ),
            (
                "Asked about positioning and customer counts for an upcoming report.",
                None,
            ),
        ],
        JobSeeker => &[
            (
                "Asked whether the company is hiring SDRs and how to apply.",
                None,
            ),
            ("Looking for open roles in customer success.", None),
        ],
        _ if hot => &[
            (
                "Inbound leads wait hours for a rep; wants routing live before next quarter's campaign.",
                Some("inbound speed-to-lead"),
            ),
            (
                "Replacing manual round-robin for a 30-person SDR team; budget approved this quarter.",
                Some("replace manual lead assignment"),
            ),
            (
                "After-hours demo requests go unanswered; needs escalation with SLAs this month.",
                Some("after-hours lead coverage"),
            ),
            (
                "Consolidating three lead sources into one scoring model; evaluating vendors now.",
                Some("unified lead scoring"),
            ),
        ],
        _ => match intent {
            Intent::Hot | Intent::Warm => &[
                (
                    "Exploring better lead scoring; no timeline yet.",
                    Some("lead scoring refresh"),
                ),
                (
                    "Asked how routing works with Salesforce queues.",
                    Some("CRM routing"),
                ),
                (
                    "Comparing options for territory-based assignment next year.",
                    Some("territory routing"),
                ),
            ],
            Intent::Cold => &[
                (
                    "Browsing after reading a blog post; no concrete project.",
                    None,
                ),
                ("Asked a general question about the product and left.", None),
            ],
        },
    };
    *pick(rng, stories)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dim(confirmed: bool, confidence: f64) -> DimensionSignal {
        DimensionSignal {
            confirmed,
            confidence,
        }
    }

    #[test]
    fn hot_rule() {
        let q = |p, a, c, t| Qualification {
            problem: p,
            authority: a,
            company: c,
            timing: t,
        };
        let yes = dim(true, 0.9);
        let no = dim(false, 0.3);
        let weak = dim(true, 0.79);
        let cases = [
            (q(yes, yes, no, yes), true),
            (q(yes, yes, yes, no), true),
            (q(yes, yes, no, no), false),
            (q(no, yes, yes, yes), false),
            (q(yes, no, yes, yes), false),
            (q(yes, yes, no, weak), false),
            (q(weak, yes, yes, yes), false),
        ];
        for (i, (qualification, want)) in cases.iter().enumerate() {
            assert_eq!(is_hot(qualification), *want, "case {i}");
        }
    }
}
