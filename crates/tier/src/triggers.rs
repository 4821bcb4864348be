//! The conversation's handoff triggers (POLICY.md T1–T4), read from the chat signals of the lead, in
//! priority order: hot lead, explicit request for a human, out-of-scope question, stall or
//! frustration.
//!
//! This module only says which triggers fired; [`crate::decide`] applies the gates (negative personas,
//! confidence) and the priority.

use leadflow_events::{ChatSignals, DimensionSignal, HandoffTrigger, OutOfScopeCategory};

use crate::conversation::{StallCauses, StallRules};

/// Hot lead (POLICY.md T1): problem and authority fit confirmed plus company or timing fit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HotLead {
    pub problem: DimensionSignal,
    pub authority: DimensionSignal,
    pub company: DimensionSignal,
    pub timing: DimensionSignal,
}

impl HotLead {
    /// The dimensions that fired the trigger whose confidence is below `threshold` (POLICY.md rule
    /// T1): problem and authority always fire it; company and timing fire it when confirmed, and one
    /// confident one of them is enough. Empty when the trigger holds.
    pub fn below(&self, threshold: f64) -> Vec<(&'static str, f64)> {
        let sure = |d: &DimensionSignal| confidence(d) >= threshold;
        let mut weak = Vec::new();
        for (name, d) in [("problem", &self.problem), ("authority", &self.authority)] {
            if !sure(d) {
                weak.push((name, confidence(d)));
            }
        }
        let extra = [("company fit", &self.company), ("timing fit", &self.timing)];
        if !extra.iter().any(|(_, d)| d.confirmed && sure(d)) {
            weak.extend(
                extra
                    .iter()
                    .filter(|(_, d)| d.confirmed)
                    .map(|(name, d)| (*name, confidence(d))),
            );
        }
        weak
    }

    /// E.g. `problem (0.92) and authority (0.88) confirmed, plus timing fit (0.85)`.
    pub fn describe(&self) -> String {
        let mut extra = Vec::new();
        if self.company.confirmed {
            extra.push(format!("company fit ({:.2})", self.company.confidence));
        }
        if self.timing.confirmed {
            extra.push(format!("timing fit ({:.2})", self.timing.confidence));
        }
        format!(
            "problem ({:.2}) and authority ({:.2}) confirmed, plus {}",
            self.problem.confidence,
            self.authority.confidence,
            extra.join(" and ")
        )
    }
}

/// A dimension's confidence as a share; NaN counts as 0.
fn confidence(d: &DimensionSignal) -> f64 {
    if d.confidence.is_nan() {
        0.0
    } else {
        d.confidence.clamp(0.0, 1.0)
    }
}

/// Which triggers fired for one lead.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Signals {
    pub hot_lead: Option<HotLead>,
    pub human_requested: bool,
    pub out_of_scope: Option<OutOfScopeCategory>,
    pub stalled: bool,
    pub frustrated: bool,
    /// Why the conversation counts as stalled (rule T4).
    pub stall: StallCauses,
}

impl Signals {
    /// Reads the chat signals; a lead without a chat (a form, a download) fires no trigger.
    pub fn detect(chat: Option<&ChatSignals>, stall_rules: &StallRules) -> Self {
        let Some(chat) = chat else {
            return Self::default();
        };
        let q = &chat.qualification;
        let hot = q.problem.confirmed
            && q.authority.confirmed
            && (q.company.confirmed || q.timing.confirmed);
        let stall = StallCauses::detect(chat, stall_rules);
        Self {
            hot_lead: hot.then_some(HotLead {
                problem: q.problem,
                authority: q.authority,
                company: q.company,
                timing: q.timing,
            }),
            human_requested: chat.human_requested,
            out_of_scope: chat.out_of_scope,
            stalled: stall.any(),
            frustrated: chat.frustrated,
            stall,
        }
    }

    /// The triggers that fired, highest priority first.
    pub fn fired(&self) -> Vec<HandoffTrigger> {
        let mut out = Vec::new();
        if self.hot_lead.is_some() {
            out.push(HandoffTrigger::HotLead);
        }
        if self.human_requested {
            out.push(HandoffTrigger::ExplicitRequest);
        }
        if self.out_of_scope.is_some() {
            out.push(HandoffTrigger::OutOfScope);
        }
        if self.stalled || self.frustrated {
            out.push(HandoffTrigger::StallOrFrustration);
        }
        out
    }

    /// `conversation stalled`, `visitor frustrated` or both, with the observed stall causes, e.g.
    /// `conversation stalled (9 exchanges without a proposal (more than 8))`.
    pub fn stall_text(&self, rules: &StallRules) -> String {
        let causes = self.stall.describe(rules);
        let stalled = if causes.is_empty() {
            "conversation stalled".to_owned()
        } else {
            format!("conversation stalled ({})", causes.join("; "))
        };
        match (self.stalled, self.frustrated) {
            (true, true) => format!("{stalled} and visitor frustrated"),
            (true, false) => stalled,
            _ => "visitor frustrated".to_owned(),
        }
    }
}

/// The category in plain words.
pub fn category_text(c: OutOfScopeCategory) -> &'static str {
    match c {
        OutOfScopeCategory::ExistingClientSupport => "existing client support",
        OutOfScopeCategory::CommercialTerms => "contract or commercial terms",
        OutOfScopeCategory::SensitiveInternal => "sensitive internal information",
        OutOfScopeCategory::LegalCompliance => "legal or compliance",
        OutOfScopeCategory::TechnicalScoping => "detailed technical scoping",
    }
}

#[cfg(test)]
mod tests {
    use leadflow_events::Qualification;

    use super::*;

    fn dim(confirmed: bool) -> DimensionSignal {
        DimensionSignal {
            confirmed,
            confidence: if confirmed { 0.9 } else { 0.3 },
        }
    }

    fn chat(problem: bool, authority: bool, company: bool, timing: bool) -> ChatSignals {
        ChatSignals {
            qualification: Qualification {
                problem: dim(problem),
                authority: dim(authority),
                company: dim(company),
                timing: dim(timing),
            },
            ..ChatSignals::default()
        }
    }

    #[test]
    fn hot_lead_rule_table() {
        // (problem, authority, company, timing, hot?)
        let cases = [
            (true, true, true, false, true),
            (true, true, false, true, true),
            (true, true, true, true, true),
            (true, true, false, false, false),
            (true, false, true, true, false),
            (false, true, true, true, false),
            (false, false, false, false, false),
        ];
        for (p, a, c, t, hot) in cases {
            let s = Signals::detect(Some(&chat(p, a, c, t)), &StallRules::default());
            assert_eq!(s.hot_lead.is_some(), hot, "p={p} a={a} c={c} t={t}");
        }
    }

    #[test]
    fn hot_lead_confidence_gate_table() {
        let d = |confirmed: bool, confidence: f64| DimensionSignal {
            confirmed,
            confidence,
        };
        // (problem, authority, company, timing, dimensions below 0.80)
        let cases: [(_, _, _, _, &[&str]); 7] = [
            (d(true, 0.9), d(true, 0.9), d(false, 0.1), d(true, 0.9), &[]),
            (d(true, 0.8), d(true, 0.8), d(true, 0.8), d(false, 0.0), &[]),
            (
                d(true, 0.79),
                d(true, 0.9),
                d(false, 0.1),
                d(true, 0.9),
                &["problem"],
            ),
            (
                d(true, 0.9),
                d(true, f64::NAN),
                d(true, 0.9),
                d(false, 0.0),
                &["authority"],
            ),
            // one confident extra dimension is enough, a weak second one does not matter
            (d(true, 0.9), d(true, 0.9), d(true, 0.5), d(true, 0.85), &[]),
            (
                d(true, 0.9),
                d(true, 0.9),
                d(true, 0.5),
                d(true, 0.6),
                &["company fit", "timing fit"],
            ),
            (
                d(true, 0.5),
                d(true, 0.9),
                d(false, 0.9),
                d(true, 0.7),
                &["problem", "timing fit"],
            ),
        ];
        for (problem, authority, company, timing, want) in cases {
            let hot = HotLead {
                problem,
                authority,
                company,
                timing,
            };
            let got: Vec<&str> = hot.below(0.8).into_iter().map(|(n, _)| n).collect();
            assert_eq!(got, want, "{hot:?}");
        }
    }

    #[test]
    fn no_chat_no_trigger() {
        assert_eq!(
            Signals::detect(None, &StallRules::default()),
            Signals::default()
        );
        assert!(
            Signals::detect(None, &StallRules::default())
                .fired()
                .is_empty()
        );
    }

    #[test]
    fn fired_in_priority_order() {
        let mut c = chat(true, true, true, false);
        c.human_requested = true;
        c.out_of_scope = Some(OutOfScopeCategory::LegalCompliance);
        c.frustrated = true;
        assert_eq!(
            Signals::detect(Some(&c), &StallRules::default()).fired(),
            vec![
                HandoffTrigger::HotLead,
                HandoffTrigger::ExplicitRequest,
                HandoffTrigger::OutOfScope,
                HandoffTrigger::StallOrFrustration
            ]
        );
    }

    #[test]
    fn hot_lead_description_names_the_dimensions() {
        let s = Signals::detect(Some(&chat(true, true, false, true)), &StallRules::default());
        assert_eq!(
            s.hot_lead.unwrap().describe(),
            "problem (0.90) and authority (0.90) confirmed, plus timing fit (0.90)"
        );
    }

    #[test]
    fn stall_text_table() {
        let cases = [
            (true, false, "conversation stalled"),
            (false, true, "visitor frustrated"),
            (true, true, "conversation stalled and visitor frustrated"),
        ];
        for (stalled, frustrated, text) in cases {
            let s = Signals {
                stalled,
                frustrated,
                ..Signals::default()
            };
            assert_eq!(s.stall_text(&StallRules::default()), text);
        }
    }
}
