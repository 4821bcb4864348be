//! Qualification (RULES.md SC2): the chat's four dimensions (problem, authority, company, timing). A
//! confirmed dimension is worth its `qualification.<dimension>` weight times the chat's confidence
//! in it (clamped to 0..1); an unconfirmed one is worth nothing here (its confidence still counts as
//! evidence in [`crate::confidence`]). An explicit request for a human adds
//! `qualification.human_requested`.

use leadflow_events::{DimensionSignal, EnrichedLead};

use crate::explain::{Component, Contribution, Detail, Dimension};
use crate::model::Model;

/// Confidence as a share, NaN treated as 0.
pub fn unit(x: f64) -> f64 {
    if x.is_nan() { 0.0 } else { x.clamp(0.0, 1.0) }
}

/// Appends one contribution per confirmed, weighted dimension (and a human request).
pub fn contribute<'a>(lead: &'a EnrichedLead, model: &'a Model, out: &mut Vec<Contribution<'a>>) {
    let Some(chat) = &lead.lead.chat else {
        return;
    };
    let q = &chat.qualification;
    let dims: [(Dimension, &DimensionSignal); 4] = [
        (Dimension::Problem, &q.problem),
        (Dimension::Authority, &q.authority),
        (Dimension::Company, &q.company),
        (Dimension::Timing, &q.timing),
    ];
    for (dimension, signal) in dims {
        if !signal.confirmed {
            continue;
        }
        let Some(w) = model.weight(dimension.code()) else {
            continue;
        };
        let confidence = unit(signal.confidence);
        out.push(Contribution {
            component: Component::Qualification,
            code: &w.code,
            points: w.points * confidence,
            detail: Detail::Qualification {
                dimension,
                confidence,
            },
        });
    }
    if chat.human_requested {
        if let Some(w) = model.weight("qualification.human_requested") {
            out.push(Contribution {
                component: Component::Qualification,
                code: &w.code,
                points: w.points,
                detail: Detail::HumanRequested,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use leadflow_events::samples;

    use super::*;

    fn run(lead: &EnrichedLead) -> Vec<(String, f64)> {
        let model = Model::embedded("lead-priority").unwrap();
        let mut out = Vec::new();
        contribute(lead, &model, &mut out);
        out.into_iter()
            .map(|c| (c.code.to_owned(), (c.points * 1000.0).round() / 1000.0))
            .collect()
    }

    #[test]
    fn confirmed_dimensions_weighted_by_confidence() {
        // problem 10 x 0.92, authority 8 x 0.88, company unconfirmed, timing 8 x 0.85
        let got = run(&samples::enriched_lead());
        assert_eq!(
            got,
            vec![
                ("qualification.problem".to_owned(), 9.2),
                ("qualification.authority".to_owned(), 7.04),
                ("qualification.timing".to_owned(), 6.8),
            ]
        );
    }

    #[test]
    fn table_of_chat_states() {
        type Edit = fn(&mut EnrichedLead);
        let cases: [(&str, Edit, f64); 5] = [
            ("no chat", |l| l.lead.chat = None, 0.0),
            (
                "nothing confirmed",
                |l| {
                    if let Some(c) = &mut l.lead.chat {
                        c.qualification = Default::default();
                    }
                },
                0.0,
            ),
            (
                "confidence above 1 is clamped",
                |l| {
                    if let Some(c) = &mut l.lead.chat {
                        c.qualification = Default::default();
                        c.qualification.problem.confirmed = true;
                        c.qualification.problem.confidence = 7.0;
                    }
                },
                10.0,
            ),
            (
                "NaN confidence counts as 0",
                |l| {
                    if let Some(c) = &mut l.lead.chat {
                        c.qualification = Default::default();
                        c.qualification.timing.confirmed = true;
                        c.qualification.timing.confidence = f64::NAN;
                    }
                },
                0.0,
            ),
            (
                "human requested",
                |l| {
                    if let Some(c) = &mut l.lead.chat {
                        c.qualification = Default::default();
                        c.human_requested = true;
                    }
                },
                4.0,
            ),
        ];
        for (name, edit, want) in cases {
            let mut lead = samples::enriched_lead();
            edit(&mut lead);
            let total: f64 = run(&lead).iter().map(|(_, p)| p).sum();
            assert!((total - want).abs() < 1e-9, "{name}: {total}");
        }
    }
}
