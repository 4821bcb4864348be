//! The exception queue as a pure fold of `leads.exceptions` (what failed) and `exceptions.state`
//! (what operators decided), and the actions as pure functions from an entry to its next state.
//!
//! Ids are stable: an entry's id is the `exception_id` of its first record. A retried or replayed
//! record is re-produced at a new offset, so the stage's id for a second failure differs; each
//! retry/replay records where it landed (`replay_targets`), and a failure raised for one of those
//! coordinates folds into the original entry as `REOPENED` instead of opening a second one.

use std::collections::{BTreeMap, HashMap};

use leadflow_events::{
    ErrorKind, ExceptionAction, ExceptionActionKind, ExceptionRecord, ExceptionState,
    ExceptionStatus, ReplayTarget, Timestamp,
};

use super::rules;

/// One entry of the queue.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// The first failure (its id is the entry's id; its bytes are what a retry re-produces).
    pub first: ExceptionRecord,
    /// The latest failure (a re-opened entry shows why it failed again).
    pub latest: ExceptionRecord,
    /// How many distinct failures folded into the entry.
    pub failures: u32,
    pub state: ExceptionState,
}

impl Entry {
    pub fn id(&self) -> &str {
        &self.state.exception_id
    }

    pub fn is_open(&self) -> bool {
        self.state.status != ExceptionStatus::Closed
    }

    pub fn is_overdue(&self, now: Timestamp) -> bool {
        self.is_open() && self.state.due_at < now
    }
}

/// Which entries `list` shows.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub stage: Option<String>,
    pub kind: Option<ErrorKind>,
    pub owner: Option<String>,
    pub overdue: bool,
    /// Closed entries too.
    pub all: bool,
    pub lead: Option<String>,
}

/// The queue, rebuilt from the two topics.
#[derive(Clone, Debug, Default)]
pub struct Queue {
    entries: BTreeMap<String, Entry>,
    /// (topic, partition, offset) of a re-produced record → the entry it belongs to.
    aliases: HashMap<(String, i32, i64), String>,
}

fn coords(r: &ExceptionRecord) -> (String, i32, i64) {
    (r.source_topic.clone(), r.source_partition, r.source_offset)
}

fn target_of(r: &ExceptionRecord) -> ReplayTarget {
    ReplayTarget {
        topic: r.source_topic.clone(),
        partition: r.source_partition,
        offset: r.source_offset,
    }
}

/// The state of an entry nobody acted on yet.
pub fn opened(record: &ExceptionRecord) -> ExceptionState {
    let owner = rules::owner(record);
    let due_at = rules::due(record);
    ExceptionState {
        exception_id: record.exception_id.clone(),
        status: ExceptionStatus::Open,
        owner: owner.clone(),
        due_at,
        escalation_level: 0,
        updated_at: record.raised_at,
        replay_targets: Vec::new(),
        history: vec![ExceptionAction {
            action: ExceptionActionKind::Opened,
            actor: record.stage.clone(),
            reason: Some(record.reason.clone()),
            at: record.raised_at,
            owner,
            due_at,
            target: Some(target_of(record)),
            edited: false,
        }],
    }
}

impl Queue {
    /// Folds the latest state per id (later records of a key replace earlier ones, as compaction
    /// would) and every exception record, in the order they were read.
    pub fn build(states: Vec<ExceptionState>, records: Vec<ExceptionRecord>) -> Queue {
        let mut latest: HashMap<String, ExceptionState> = HashMap::new();
        for s in states {
            latest.insert(s.exception_id.clone(), s);
        }
        let mut aliases = HashMap::new();
        for s in latest.values() {
            for t in &s.replay_targets {
                aliases.insert(
                    (t.topic.clone(), t.partition, t.offset),
                    s.exception_id.clone(),
                );
            }
        }
        let mut records = records;
        records.sort_by(|a, b| {
            (
                a.raised_at,
                &a.source_topic,
                a.source_partition,
                a.source_offset,
            )
                .cmp(&(
                    b.raised_at,
                    &b.source_topic,
                    b.source_partition,
                    b.source_offset,
                ))
        });
        let mut q = Queue {
            entries: BTreeMap::new(),
            aliases,
        };
        for r in records {
            q.fold(r, &mut latest);
        }
        q
    }

    fn fold(&mut self, r: ExceptionRecord, persisted: &mut HashMap<String, ExceptionState>) {
        let id = self
            .aliases
            .get(&coords(&r))
            .cloned()
            .unwrap_or_else(|| r.exception_id.clone());
        match self.entries.get_mut(&id) {
            None => {
                let state = persisted.remove(&id).unwrap_or_else(|| opened(&r));
                self.entries.insert(
                    id,
                    Entry {
                        first: r.clone(),
                        latest: r,
                        failures: 1,
                        state,
                    },
                );
            }
            Some(e) => {
                // the same failure written twice (at-least-once) is one failure
                if coords(&e.latest) == coords(&r) || coords(&e.first) == coords(&r) {
                    return;
                }
                e.failures += 1;
                let target = target_of(&r);
                let known = e.state.history.iter().any(|a| {
                    a.action == ExceptionActionKind::Reopened && a.target.as_ref() == Some(&target)
                });
                if !known {
                    let due_at = rules::due(&r);
                    e.state.status = if e.state.escalation_level > 0 {
                        ExceptionStatus::Escalated
                    } else {
                        ExceptionStatus::Open
                    };
                    e.state.due_at = due_at;
                    e.state.updated_at = r.raised_at;
                    e.state.history.push(ExceptionAction {
                        action: ExceptionActionKind::Reopened,
                        actor: r.stage.clone(),
                        reason: Some(r.reason.clone()),
                        at: r.raised_at,
                        owner: e.state.owner.clone(),
                        due_at,
                        target: Some(target),
                        edited: false,
                    });
                }
                e.latest = r;
            }
        }
    }

    pub fn get(&self, id: &str) -> Option<&Entry> {
        self.entries.get(id)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entries matching `filter`, sorted by due time (most urgent first), then id.
    pub fn list(&self, filter: &Filter, now: Timestamp) -> Vec<&Entry> {
        let mut out: Vec<&Entry> = self
            .entries
            .values()
            .filter(|e| filter.all || e.is_open())
            .filter(|e| filter.stage.as_ref().is_none_or(|s| &e.first.stage == s))
            .filter(|e| filter.kind.is_none_or(|k| e.latest.error_kind == k))
            .filter(|e| filter.owner.as_ref().is_none_or(|o| &e.state.owner == o))
            .filter(|e| !filter.overdue || e.is_overdue(now))
            .filter(|e| {
                filter
                    .lead
                    .as_ref()
                    .is_none_or(|l| e.first.lead_id.as_ref() == Some(l))
            })
            .collect();
        out.sort_by(|a, b| (a.state.due_at, a.id()).cmp(&(b.state.due_at, b.id())));
        out
    }

    /// Open entries past their due time, per (owner, stage): the overdue metric.
    pub fn overdue_counts(&self, now: Timestamp) -> BTreeMap<(String, String), u64> {
        let mut out = BTreeMap::new();
        for e in self.entries.values().filter(|e| e.is_overdue(now)) {
            *out.entry((e.state.owner.clone(), e.first.stage.clone()))
                .or_default() += 1;
        }
        out
    }
}

/// An operator decision.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    Assign {
        owner: String,
    },
    Escalate {
        owner: Option<String>,
    },
    /// The original bytes were re-produced at `target`.
    Retry {
        target: ReplayTarget,
    },
    /// The original or a corrected record was re-produced at `target`.
    Replay {
        target: ReplayTarget,
        edited: bool,
    },
    Close,
    Reopen,
}

/// Why an action is refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ActionError {
    #[error("exception {0} is closed; reopen it first")]
    Closed(String),
    #[error("exception {0} is not closed")]
    NotClosed(String),
    #[error(
        "exception {0} was already {1} and has not failed again since; wait for the outcome or pass --force"
    )]
    AwaitingOutcome(String, &'static str),
    #[error("{0}")]
    Invalid(String),
}

/// Checks that a retry or replay may be sent now (before anything is produced).
pub fn check_resend(entry: &Entry, force: bool) -> Result<(), ActionError> {
    match entry.state.status {
        ExceptionStatus::Closed => Err(ActionError::Closed(entry.id().to_owned())),
        s @ (ExceptionStatus::Retried | ExceptionStatus::Replayed) if !force => Err(
            ActionError::AwaitingOutcome(entry.id().to_owned(), s.label()),
        ),
        _ => Ok(()),
    }
}

/// The entry's next state after `action` by `actor` at `now`; `reason` is required to close.
pub fn apply(
    entry: &Entry,
    action: Action,
    actor: &str,
    reason: Option<String>,
    now: Timestamp,
) -> Result<ExceptionState, ActionError> {
    let mut s = entry.state.clone();
    let id = s.exception_id.clone();
    if actor.trim().is_empty() {
        return Err(ActionError::Invalid("the actor must be named".into()));
    }
    let closed = s.status == ExceptionStatus::Closed;
    let (kind, target, edited) = match action {
        Action::Assign { owner } => {
            if closed {
                return Err(ActionError::Closed(id));
            }
            if owner.trim().is_empty() {
                return Err(ActionError::Invalid("the new owner must be named".into()));
            }
            s.owner = owner;
            s.status = ExceptionStatus::Assigned;
            (ExceptionActionKind::Assigned, None, false)
        }
        Action::Escalate { owner } => {
            if closed {
                return Err(ActionError::Closed(id));
            }
            s.escalation_level += 1;
            s.owner = owner
                .filter(|o| !o.trim().is_empty())
                .unwrap_or_else(|| rules::escalation_owner(&s.owner));
            s.due_at = rules::escalation_due(entry.latest.error_kind, now);
            s.status = ExceptionStatus::Escalated;
            (ExceptionActionKind::Escalated, None, false)
        }
        Action::Retry { target } => {
            check_resend(entry, true)?;
            s.status = ExceptionStatus::Retried;
            s.due_at = Timestamp(now.0 + rules::REPLAY_WATCH);
            s.replay_targets.push(target.clone());
            (ExceptionActionKind::Retried, Some(target), false)
        }
        Action::Replay { target, edited } => {
            check_resend(entry, true)?;
            s.status = ExceptionStatus::Replayed;
            s.due_at = Timestamp(now.0 + rules::REPLAY_WATCH);
            s.replay_targets.push(target.clone());
            (ExceptionActionKind::Replayed, Some(target), edited)
        }
        Action::Close => {
            if closed {
                return Err(ActionError::Closed(id));
            }
            if reason.as_ref().is_none_or(|r| r.trim().is_empty()) {
                return Err(ActionError::Invalid(
                    "closing needs a reason (--reason)".into(),
                ));
            }
            s.status = ExceptionStatus::Closed;
            (ExceptionActionKind::Closed, None, false)
        }
        Action::Reopen => {
            if !closed {
                return Err(ActionError::NotClosed(id));
            }
            s.status = if s.escalation_level > 0 {
                ExceptionStatus::Escalated
            } else {
                ExceptionStatus::Open
            };
            s.due_at = Timestamp(now.0 + rules::window(entry.latest.error_kind));
            (ExceptionActionKind::Reopened, None, false)
        }
    };
    s.updated_at = now;
    s.history.push(ExceptionAction {
        action: kind,
        actor: actor.to_owned(),
        reason,
        at: now,
        owner: s.owner.clone(),
        due_at: s.due_at,
        target,
        edited,
    });
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use leadflow_events::samples;

    fn record(offset: i64, at: i64) -> ExceptionRecord {
        let mut r = samples::exception_record();
        r.exception_id = format!("enrich:leads.raw:0:{offset}");
        r.source_offset = offset;
        r.raised_at = Timestamp(at);
        r.due_at = Timestamp(at + 86_400_000);
        r.error_kind = ErrorKind::Validation;
        r.lead_id = Some("lead-1".into());
        r
    }

    fn target(offset: i64) -> ReplayTarget {
        ReplayTarget {
            topic: "leads.raw".into(),
            partition: 0,
            offset,
        }
    }

    #[test]
    fn a_new_record_opens_an_entry_with_owner_and_due_time() {
        let q = Queue::build(vec![], vec![record(42, 1_000)]);
        let e = q.get("enrich:leads.raw:0:42").expect("entry");
        assert_eq!(e.state.status, ExceptionStatus::Open);
        assert_eq!(e.state.owner, "revops");
        assert_eq!(e.state.due_at, Timestamp(1_000 + 86_400_000));
        assert_eq!(e.state.history.len(), 1);
        assert_eq!(e.state.history[0].action, ExceptionActionKind::Opened);
    }

    #[test]
    fn a_duplicate_record_is_one_failure() {
        let q = Queue::build(vec![], vec![record(42, 1_000), record(42, 1_000)]);
        assert_eq!(q.len(), 1);
        assert_eq!(q.get("enrich:leads.raw:0:42").map(|e| e.failures), Some(1));
    }

    #[test]
    fn a_replayed_record_that_fails_again_reopens_the_same_id() {
        let q = Queue::build(vec![], vec![record(42, 1_000)]);
        let e = q.get("enrich:leads.raw:0:42").expect("entry");
        let s = apply(
            e,
            Action::Replay {
                target: target(90),
                edited: true,
            },
            "ana",
            None,
            Timestamp(2_000),
        )
        .expect("replay");
        assert_eq!(s.status, ExceptionStatus::Replayed);
        // the replayed record failed at offset 90: the stage's id differs, the entry does not
        let q = Queue::build(vec![s.clone()], vec![record(42, 1_000), record(90, 3_000)]);
        assert_eq!(q.len(), 1);
        let e = q.get("enrich:leads.raw:0:42").expect("same entry");
        assert_eq!(e.state.status, ExceptionStatus::Open);
        assert_eq!(e.failures, 2);
        assert_eq!(e.latest.source_offset, 90);
        let actions: Vec<_> = e.state.history.iter().map(|a| a.action).collect();
        assert_eq!(
            actions,
            [
                ExceptionActionKind::Opened,
                ExceptionActionKind::Replayed,
                ExceptionActionKind::Reopened
            ]
        );
        // a later action persists the derived REOPENED; folding again does not add a second one
        let closed = apply(
            e,
            Action::Close,
            "ana",
            Some("fixed".into()),
            Timestamp(4_000),
        )
        .expect("close");
        let q = Queue::build(vec![s, closed], vec![record(42, 1_000), record(90, 3_000)]);
        let e = q.get("enrich:leads.raw:0:42").expect("entry");
        assert_eq!(e.state.status, ExceptionStatus::Closed);
        assert_eq!(e.state.history.len(), 4);
    }

    #[test]
    fn actions_move_owner_status_and_due_time() {
        let q = Queue::build(vec![], vec![record(1, 0)]);
        let e = q.get("enrich:leads.raw:0:1").expect("entry").clone();
        let now = Timestamp(10_000);
        let s = apply(
            &e,
            Action::Assign {
                owner: "bob".into(),
            },
            "ana",
            None,
            now,
        )
        .expect("assign");
        assert_eq!(
            (s.owner.as_str(), s.status),
            ("bob", ExceptionStatus::Assigned)
        );
        let e2 = Entry {
            state: s,
            ..e.clone()
        };
        let s = apply(&e2, Action::Escalate { owner: None }, "ana", None, now).expect("esc");
        assert_eq!(s.owner, "revops-manager");
        assert_eq!(s.escalation_level, 1);
        assert_eq!(s.due_at, Timestamp(now.0 + 12 * 3_600_000));
        let e3 = Entry {
            state: s,
            ..e.clone()
        };
        assert!(matches!(
            apply(&e3, Action::Close, "ana", None, now),
            Err(ActionError::Invalid(_))
        ));
        let s = apply(&e3, Action::Close, "ana", Some("dup".into()), now).expect("close");
        let e4 = Entry {
            state: s,
            ..e.clone()
        };
        assert_eq!(
            apply(&e4, Action::Close, "ana", Some("x".into()), now),
            Err(ActionError::Closed("enrich:leads.raw:0:1".into()))
        );
        assert!(check_resend(&e4, true).is_err());
        let s = apply(&e4, Action::Reopen, "ana", None, now).expect("reopen");
        assert_eq!(s.status, ExceptionStatus::Escalated);
        assert_eq!(s.history.len(), 5);
    }

    #[test]
    fn a_second_replay_waits_for_the_outcome_of_the_first() {
        let q = Queue::build(vec![], vec![record(1, 0)]);
        let e = q.get("enrich:leads.raw:0:1").expect("entry").clone();
        let s = apply(
            &e,
            Action::Retry { target: target(5) },
            "ana",
            None,
            Timestamp(1),
        )
        .expect("retry");
        let e = Entry { state: s, ..e };
        assert!(matches!(
            check_resend(&e, false),
            Err(ActionError::AwaitingOutcome(_, "retried"))
        ));
        assert!(check_resend(&e, true).is_ok());
    }

    #[test]
    fn list_filters_and_sorts_by_due_time() {
        let mut late = record(2, 0);
        late.error_kind = ErrorKind::Delivery;
        late.stage = "notify".into();
        let q = Queue::build(vec![], vec![record(1, 0), late]);
        let all = q.list(&Filter::default(), Timestamp(0));
        assert_eq!(all[0].first.stage, "notify");
        let f = Filter {
            stage: Some("enrich".into()),
            ..Filter::default()
        };
        assert_eq!(q.list(&f, Timestamp(0)).len(), 1);
        let overdue = Filter {
            overdue: true,
            ..Filter::default()
        };
        assert_eq!(q.list(&overdue, Timestamp(20 * 60_000)).len(), 1);
        let counts = q.overdue_counts(Timestamp(20 * 60_000));
        assert_eq!(counts.get(&("revops".into(), "notify".into())), Some(&1));
    }
}
