//! Who owns an exception and by when, per stage and error kind: the numbers of `RULES.md` beside
//! this file, in one place.

use leadflow_events::{ErrorKind, ExceptionRecord, Timestamp};

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;

/// The team that owns system failures (contract breaches, bugs, outages): the system owner owns
/// connector health.
pub const PLATFORM_OWNER: &str = "platform";

/// How long the owner has to act on a new exception of `kind`, from the time it was raised.
pub fn window(kind: ErrorKind) -> i64 {
    match kind {
        // a lead is waiting for a rep: the shortest SLA (HOT, 5 min) plus time to act
        ErrorKind::Delivery => 15 * MINUTE,
        // a bug or an outage on a record that should have gone through
        ErrorKind::Processing => HOUR,
        // the producer broke the data contract: it must fix what it sends
        ErrorKind::Decode => 4 * HOUR,
        // bad or incomplete data: the functional team corrects and replays it within a working day
        ErrorKind::Validation | ErrorKind::MissingField | ErrorKind::Stale => 24 * HOUR,
        // informational: the record was not lost, a second copy was stopped
        ErrorKind::Duplicate => 72 * HOUR,
    }
}

/// The default owner of a stage's exceptions when the record names none.
pub fn stage_owner(stage: &str) -> &'static str {
    match stage {
        "enrich" => "marketing-ops",
        "notify" | "route-reassign" | "sla-watchdog" => "sales-ops",
        _ => "revops",
    }
}

/// Owner of a new entry: the platform team for decode and processing failures, else the owner the
/// stage wrote (its `[exceptions] owner`, or the lead's team), else the stage's default.
pub fn owner(record: &ExceptionRecord) -> String {
    match record.error_kind {
        ErrorKind::Decode | ErrorKind::Processing => PLATFORM_OWNER.to_owned(),
        _ if record.owner.trim().is_empty() => stage_owner(&record.stage).to_owned(),
        _ => record.owner.clone(),
    }
}

/// Due time of a new (or re-opened) entry: the kind's window after it was raised, or earlier when
/// the stage asked for earlier (notify uses the lead's SLA deadline).
pub fn due(record: &ExceptionRecord) -> Timestamp {
    let by_kind = record.raised_at.0.saturating_add(window(record.error_kind));
    Timestamp(by_kind.min(record.due_at.0.max(record.raised_at.0)))
}

/// Who an escalation goes to: the owner's manager role.
pub fn escalation_owner(owner: &str) -> String {
    match owner {
        PLATFORM_OWNER => "platform-oncall".to_owned(),
        o if o.ends_with("-manager") || o.ends_with("-oncall") => o.to_owned(),
        "sales-ops" => "sales-manager".to_owned(),
        _ => "revops-manager".to_owned(),
    }
}

/// Due time after an escalation: half the kind's window from now, at least 15 minutes.
pub fn escalation_due(kind: ErrorKind, now: Timestamp) -> Timestamp {
    Timestamp(now.0 + (window(kind) / 2).max(15 * MINUTE))
}

/// After a retry or replay the owner watches for a re-failure for one hour, then closes the entry.
pub const REPLAY_WATCH: i64 = HOUR;

#[cfg(test)]
mod tests {
    use super::*;
    use leadflow_events::samples;

    #[test]
    fn owner_follows_kind_then_record_then_stage() {
        let mut r = samples::exception_record();
        r.error_kind = ErrorKind::Decode;
        assert_eq!(owner(&r), "platform");
        r.error_kind = ErrorKind::Validation;
        r.owner = "marketing-ops".into();
        assert_eq!(owner(&r), "marketing-ops");
        r.owner = " ".into();
        r.stage = "notify".into();
        assert_eq!(owner(&r), "sales-ops");
    }

    #[test]
    fn due_is_the_kind_window_or_the_stage_due_if_earlier() {
        let mut r = samples::exception_record();
        r.raised_at = Timestamp(0);
        r.due_at = Timestamp(24 * HOUR);
        r.error_kind = ErrorKind::Decode;
        assert_eq!(due(&r), Timestamp(4 * HOUR));
        r.error_kind = ErrorKind::Duplicate;
        assert_eq!(due(&r), Timestamp(24 * HOUR));
        r.error_kind = ErrorKind::Delivery;
        r.due_at = Timestamp(5 * MINUTE);
        assert_eq!(due(&r), Timestamp(5 * MINUTE));
    }

    #[test]
    fn escalation_goes_to_the_manager_role() {
        assert_eq!(escalation_owner("platform"), "platform-oncall");
        assert_eq!(escalation_owner("sales-ops"), "sales-manager");
        assert_eq!(escalation_owner("marketing-ops"), "revops-manager");
        assert_eq!(escalation_owner("revops-manager"), "revops-manager");
        assert_eq!(
            escalation_due(ErrorKind::Delivery, Timestamp(0)),
            Timestamp(15 * MINUTE)
        );
        assert_eq!(
            escalation_due(ErrorKind::Validation, Timestamp(0)),
            Timestamp(12 * HOUR)
        );
    }
}
