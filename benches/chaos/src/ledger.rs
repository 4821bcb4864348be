//! The accounting, pure: every input of every hop either reached the hop's output, ended there on
//! purpose (a decision that hands off to nobody), or became an exception with a reason — anything
//! else is lost. Duplicates are counted per topic by the record's identity.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// Where a record sits in its topic.
pub type At = (i32, i64);

/// One input record of a hop, as the ledger needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input {
    pub at: At,
    /// What the hop's output carries for it (event id, lead id or packet id); `None` when the record
    /// could not be decoded (it must then be an exception).
    pub key: Option<String>,
    /// The raw event it descends from, to count lost leads once across hops.
    pub lead_event: Option<String>,
    /// Ends here by design (a decision that hands off to nobody has no packet).
    pub terminal: bool,
}

/// One hop: its inputs, the keys its output topic holds, and the input positions its exceptions
/// name (with whether each has a reason).
#[derive(Clone, Debug, Default)]
pub struct Hop {
    pub name: &'static str,
    pub inputs: Vec<Input>,
    pub output_keys: HashSet<String>,
    pub exceptions: HashMap<At, bool>,
}

/// What the ledger found for one hop.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HopCount {
    pub name: &'static str,
    pub inputs: usize,
    pub forwarded: usize,
    pub terminal: usize,
    pub excepted: usize,
    /// Exceptions whose reason is empty (must be 0).
    pub without_reason: usize,
    pub lost: usize,
    /// A few lost inputs (position, key) for the report.
    pub lost_examples: Vec<(At, Option<String>)>,
}

/// Accounts for one hop; returns the count and the raw events lost at it.
pub fn account(hop: &Hop) -> (HopCount, BTreeSet<String>) {
    let mut c = HopCount {
        name: hop.name,
        inputs: hop.inputs.len(),
        ..HopCount::default()
    };
    let mut lost_leads = BTreeSet::new();
    for input in &hop.inputs {
        let forwarded = input
            .key
            .as_ref()
            .is_some_and(|k| hop.output_keys.contains(k));
        if forwarded {
            c.forwarded += 1;
        } else if let Some(has_reason) = hop.exceptions.get(&input.at) {
            c.excepted += 1;
            if !has_reason {
                c.without_reason += 1;
            }
        } else if input.terminal {
            c.terminal += 1;
        } else {
            c.lost += 1;
            if c.lost_examples.len() < 5 {
                c.lost_examples.push((input.at, input.key.clone()));
            }
            lost_leads.insert(
                input
                    .lead_event
                    .clone()
                    .unwrap_or_else(|| format!("{}@{}:{}", hop.name, input.at.0, input.at.1)),
            );
        }
    }
    (c, lost_leads)
}

/// Records and repeated identities of one topic.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DupCount {
    pub topic: String,
    /// What identifies a record (event id, packet id, ...).
    pub identity: &'static str,
    pub records: usize,
    pub distinct: usize,
    /// records - distinct: extra copies of an identity already on the topic.
    pub duplicates: usize,
    /// Identities present more than once.
    pub repeated_ids: usize,
}

/// Counts duplicates among `ids` (one per record).
pub fn duplicates<'a>(
    topic: &str,
    identity: &'static str,
    ids: impl IntoIterator<Item = &'a str>,
) -> DupCount {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    let mut records = 0;
    for id in ids {
        records += 1;
        *seen.entry(id).or_default() += 1;
    }
    DupCount {
        topic: topic.to_owned(),
        identity,
        records,
        distinct: seen.len(),
        duplicates: records - seen.len(),
        repeated_ids: seen.values().filter(|n| **n > 1).count(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn input(at: i64, key: Option<&str>, terminal: bool) -> Input {
        Input {
            at: (0, at),
            key: key.map(str::to_owned),
            lead_event: key.map(str::to_owned),
            terminal,
        }
    }

    #[test]
    fn every_input_is_forwarded_excepted_terminal_or_lost() {
        let hop = Hop {
            name: "score",
            inputs: vec![
                input(0, Some("a"), false),
                input(1, Some("b"), false),
                input(2, None, false),
                input(3, Some("d"), true),
                input(4, Some("e"), false),
                input(5, Some("f"), false),
            ],
            output_keys: ["a".to_owned()].into(),
            exceptions: [((0, 1), true), ((0, 2), false)].into(),
        };
        let (c, lost) = account(&hop);
        assert_eq!(c.inputs, 6);
        assert_eq!(c.forwarded, 1);
        assert_eq!(c.excepted, 2);
        assert_eq!(c.without_reason, 1);
        assert_eq!(c.terminal, 1);
        assert_eq!(c.lost, 2);
        assert_eq!(lost, ["e".to_owned(), "f".to_owned()].into());
        assert_eq!(c.lost_examples[0], ((0, 4), Some("e".to_owned())));
    }

    #[test]
    fn an_output_wins_over_an_exception_and_a_redelivered_input_counts_twice() {
        let hop = Hop {
            name: "tier",
            inputs: vec![input(0, Some("a"), false), input(1, Some("a"), false)],
            output_keys: ["a".to_owned()].into(),
            exceptions: [((0, 0), true)].into(),
        };
        let (c, lost) = account(&hop);
        assert_eq!((c.forwarded, c.excepted, c.lost), (2, 0, 0));
        assert!(lost.is_empty());
    }

    #[test]
    fn an_undecodable_input_without_exception_is_lost_under_its_position() {
        let hop = Hop {
            name: "enrich",
            inputs: vec![Input {
                at: (2, 7),
                key: None,
                lead_event: None,
                terminal: false,
            }],
            ..Hop::default()
        };
        let (c, lost) = account(&hop);
        assert_eq!(c.lost, 1);
        assert_eq!(lost, ["enrich@2:7".to_owned()].into());
    }

    #[test]
    fn duplicates_count_extra_copies_and_repeated_ids() {
        let d = duplicates("leads.tiered", "event id", ["a", "b", "a", "a", "c", "c"]);
        assert_eq!(d.records, 6);
        assert_eq!(d.distinct, 3);
        assert_eq!(d.duplicates, 3);
        assert_eq!(d.repeated_ids, 2);
        let none = duplicates("t", "id", ["x", "y"]);
        assert_eq!((none.duplicates, none.repeated_ids), (0, 0));
    }
}
