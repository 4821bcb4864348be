//! What the conversation itself shows (POLICY.md rules T4 and T5): a stall derived from observable
//! signals, and the soft escalation of a warm lead still talking after several exchanges, with the
//! resource offered to the visitor, chosen by the conversation's topic from a catalogue.
//!
//! All thresholds and the catalogue are `[stage]` configuration.

use std::collections::BTreeMap;

use leadflow_events::{ChatSignals, RecommendedResource};
use serde::{Deserialize, Serialize};

/// When a conversation counts as stalled (rule T4), besides the chat's own `stalled` flag.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StallRules {
    /// More than this many exchanges while the chat reports no proposal made is a stall.
    pub max_exchanges_without_proposal: u32,
    /// This many consecutive short, non-committal answers is a stall.
    pub short_answers: u32,
}

impl Default for StallRules {
    fn default() -> Self {
        Self {
            max_exchanges_without_proposal: 8,
            short_answers: 2,
        }
    }
}

/// Why a conversation counts as stalled; several may hold at once.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StallCauses {
    /// The chat flagged the stall itself.
    pub flagged: bool,
    /// The visitor repeated a question after an answer.
    pub repeated_question: bool,
    /// Consecutive short non-committal answers, when at or above the threshold.
    pub short_answers: Option<i32>,
    /// Exchanges without a proposal, when above the threshold.
    pub exchanges_without_proposal: Option<i32>,
}

impl StallCauses {
    /// The causes present in `chat` under `rules`.
    pub fn detect(chat: &ChatSignals, rules: &StallRules) -> Self {
        let short = chat.short_answer_streak;
        let short_hit =
            rules.short_answers > 0 && u32::try_from(short).is_ok_and(|s| s >= rules.short_answers);
        let exchanges = chat.exchange_count;
        let long_hit = chat.proposal_made == Some(false)
            && u32::try_from(exchanges).is_ok_and(|e| e > rules.max_exchanges_without_proposal);
        Self {
            flagged: chat.stalled,
            repeated_question: chat.repeated_question,
            short_answers: short_hit.then_some(short),
            exchanges_without_proposal: long_hit.then_some(exchanges),
        }
    }

    pub fn any(&self) -> bool {
        self.flagged
            || self.repeated_question
            || self.short_answers.is_some()
            || self.exchanges_without_proposal.is_some()
    }

    /// The observed causes in words, e.g. `9 exchanges without a proposal (more than 8)`.
    pub fn describe(&self, rules: &StallRules) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(n) = self.exchanges_without_proposal {
            out.push(format!(
                "{n} exchanges without a proposal (more than {})",
                rules.max_exchanges_without_proposal
            ));
        }
        if let Some(n) = self.short_answers {
            out.push(format!(
                "{n} consecutive short non-committal answers (threshold {})",
                rules.short_answers
            ));
        }
        if self.repeated_question {
            out.push("the visitor repeated a question".into());
        }
        if self.flagged {
            out.push("the chat flagged a stall".into());
        }
        out
    }
}

/// When a warm lead is offered a lower-friction option (rule T5).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SoftEscalationRules {
    /// A warm lead with at least this many exchanges gets a soft escalation.
    pub min_exchanges: u32,
    /// Catalogue topic used when the conversation's topic has no entry ("" for none).
    pub fallback_topic: String,
}

impl Default for SoftEscalationRules {
    fn default() -> Self {
        Self {
            min_exchanges: 6,
            fallback_topic: "general".into(),
        }
    }
}

/// One catalogue entry (`[stage.resources.<topic>]`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resource {
    pub title: String,
    pub url: String,
}

/// The resources offered to visitors, by conversation topic.
pub type ResourceCatalogue = BTreeMap<String, Resource>;

/// The default catalogue: one entry per topic the qualification chat classifies, plus `general`.
/// The URLs are placeholders to replace with the company's own pages.
pub fn default_catalogue() -> ResourceCatalogue {
    [
        (
            "lead-routing",
            "Case study: a 30-person SDR team answering every inbound lead within 5 minutes",
            "https://example.com/resources/case-study-lead-routing",
        ),
        (
            "lead-scoring",
            "Guide: building a lead score your sales team trusts",
            "https://example.com/resources/guide-lead-scoring",
        ),
        (
            "after-hours",
            "Guide: covering after-hours and weekend leads without a night shift",
            "https://example.com/resources/guide-after-hours-coverage",
        ),
        (
            "crm-integration",
            "Guide: routing leads into Salesforce and HubSpot queues",
            "https://example.com/resources/guide-crm-routing",
        ),
        (
            "general",
            "The lead handoff playbook",
            "https://example.com/resources/lead-handoff-playbook",
        ),
    ]
    .into_iter()
    .map(|(topic, title, url)| {
        (
            topic.to_owned(),
            Resource {
                title: title.to_owned(),
                url: url.to_owned(),
            },
        )
    })
    .collect()
}

/// `Lead Routing ` → `lead-routing`: lower case, spaces and underscores as hyphens.
pub fn normalise_topic(topic: &str) -> String {
    topic
        .trim()
        .chars()
        .map(|c| match c {
            ' ' | '_' => '-',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// The resource for the conversation's `topic`, else the fallback topic's; `None` when neither is
/// in the catalogue.
pub fn pick_resource(
    catalogue: &ResourceCatalogue,
    rules: &SoftEscalationRules,
    topic: Option<&str>,
) -> Option<RecommendedResource> {
    let wanted = topic.map(normalise_topic).filter(|t| !t.is_empty());
    let (key, entry) = wanted
        .and_then(|t| catalogue.get_key_value(&t))
        .or_else(|| catalogue.get_key_value(&rules.fallback_topic))?;
    Some(RecommendedResource {
        topic: key.clone(),
        title: entry.title.clone(),
        url: entry.url.clone(),
    })
}

/// A catalogue topic: lower case letters, digits, `-` and `_`.
pub fn valid_topic(topic: &str) -> bool {
    !topic.is_empty()
        && topic
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chat(exchanges: i32, proposal: Option<bool>, short: i32, repeated: bool) -> ChatSignals {
        ChatSignals {
            exchange_count: exchanges,
            proposal_made: proposal,
            short_answer_streak: short,
            repeated_question: repeated,
            ..ChatSignals::default()
        }
    }

    #[test]
    fn stall_by_exchanges_and_by_short_answers_table() {
        let rules = StallRules::default();
        // (chat, stalled?, causes)
        let cases: [(ChatSignals, bool, &[&str]); 10] = [
            (chat(8, Some(false), 0, false), false, &[]),
            (
                chat(9, Some(false), 0, false),
                true,
                &["9 exchanges without a proposal (more than 8)"],
            ),
            (chat(14, Some(true), 0, false), false, &[]),
            // an old event never reported proposals: no stall from the count alone
            (chat(14, None, 0, false), false, &[]),
            (chat(3, None, 1, false), false, &[]),
            (
                chat(3, None, 2, false),
                true,
                &["2 consecutive short non-committal answers (threshold 2)"],
            ),
            (
                chat(4, Some(true), 3, false),
                true,
                &["3 consecutive short non-committal answers (threshold 2)"],
            ),
            (
                chat(2, None, 0, true),
                true,
                &["the visitor repeated a question"],
            ),
            (chat(-3, Some(false), -1, false), false, &[]),
            (
                chat(10, Some(false), 2, true),
                true,
                &[
                    "10 exchanges without a proposal (more than 8)",
                    "2 consecutive short non-committal answers (threshold 2)",
                    "the visitor repeated a question",
                ],
            ),
        ];
        for (c, stalled, causes) in cases {
            let s = StallCauses::detect(&c, &rules);
            assert_eq!(s.any(), stalled, "{c:?}");
            assert_eq!(s.describe(&rules), causes, "{c:?}");
        }
    }

    #[test]
    fn thresholds_come_from_the_rules() {
        let rules = StallRules {
            max_exchanges_without_proposal: 6,
            short_answers: 3,
        };
        assert!(StallCauses::detect(&chat(7, Some(false), 0, false), &rules).any());
        assert!(!StallCauses::detect(&chat(4, Some(false), 2, false), &rules).any());
        assert!(StallCauses::detect(&chat(4, Some(false), 3, false), &rules).any());
    }

    #[test]
    fn the_flag_is_honoured() {
        let c = ChatSignals {
            stalled: true,
            ..ChatSignals::default()
        };
        let s = StallCauses::detect(&c, &StallRules::default());
        assert!(s.any());
        assert_eq!(
            s.describe(&StallRules::default()),
            ["the chat flagged a stall"]
        );
    }

    #[test]
    fn resource_by_topic_then_fallback() {
        let catalogue = default_catalogue();
        let rules = SoftEscalationRules::default();
        let pick = |t: Option<&str>| pick_resource(&catalogue, &rules, t).map(|r| r.topic);
        assert_eq!(pick(Some("lead-scoring")).as_deref(), Some("lead-scoring"));
        assert_eq!(
            pick(Some(" Lead Routing ")).as_deref(),
            Some("lead-routing")
        );
        assert_eq!(pick(Some("After_Hours")).as_deref(), Some("after-hours"));
        assert_eq!(pick(Some("quantum")).as_deref(), Some("general"));
        assert_eq!(pick(None).as_deref(), Some("general"));
        let no_fallback = SoftEscalationRules {
            fallback_topic: String::new(),
            ..rules.clone()
        };
        assert_eq!(
            pick_resource(&catalogue, &no_fallback, Some("quantum")),
            None
        );
        assert_eq!(pick_resource(&ResourceCatalogue::new(), &rules, None), None);
    }
}
