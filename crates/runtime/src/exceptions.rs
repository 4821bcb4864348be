//! Building exception records: the visible queue entry for an input a stage cannot process.

use leadflow_events::{ErrorKind, ExceptionRecord, Timestamp};

use crate::config::ExceptionsConfig;

/// Where the failed input came from.
#[derive(Clone, Debug)]
pub struct Source<'a> {
    pub stage: &'a str,
    pub topic: &'a str,
    pub partition: i32,
    pub offset: i64,
    pub key: Option<&'a [u8]>,
    pub payload: &'a [u8],
}

/// An exception record with a deterministic id (a replayed failure maps to the same entry), the
/// configured or stage-given owner, and a due time `due_in_hours` after `now`.
pub fn exception_record(
    source: &Source<'_>,
    kind: ErrorKind,
    reason: String,
    owner: Option<String>,
    lead_id: Option<String>,
    cfg: &ExceptionsConfig,
    now: Timestamp,
) -> ExceptionRecord {
    let source_key = source
        .key
        .and_then(|k| std::str::from_utf8(k).ok())
        .map(str::to_owned);
    ExceptionRecord {
        exception_id: format!(
            "{}:{}:{}:{}",
            source.stage, source.topic, source.partition, source.offset
        ),
        stage: source.stage.to_owned(),
        source_topic: source.topic.to_owned(),
        source_partition: source.partition,
        source_offset: source.offset,
        lead_id: lead_id.or_else(|| source_key.clone()),
        source_key,
        error_kind: kind,
        reason,
        owner: owner.unwrap_or_else(|| cfg.owner.clone()),
        raised_at: now,
        due_at: Timestamp(now.0 + i64::from(cfg.due_in_hours) * 3_600_000),
        original: source.payload.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_carries_source_owner_and_due_time() {
        let src = Source {
            stage: "enrich",
            topic: "leads.raw",
            partition: 2,
            offset: 17,
            key: Some(b"lead-9"),
            payload: &[0xC3, 0x01],
        };
        let cfg = ExceptionsConfig {
            owner: "revops".into(),
            due_in_hours: 4,
        };
        let r = exception_record(
            &src,
            ErrorKind::Decode,
            "truncated".into(),
            None,
            None,
            &cfg,
            Timestamp(1_000),
        );
        assert_eq!(r.exception_id, "enrich:leads.raw:2:17");
        assert_eq!(r.owner, "revops");
        assert_eq!(r.due_at, Timestamp(1_000 + 4 * 3_600_000));
        assert_eq!(r.lead_id.as_deref(), Some("lead-9"));
        assert_eq!(r.original, vec![0xC3, 0x01]);
        let owned = exception_record(
            &src,
            ErrorKind::Validation,
            "bad".into(),
            Some("marketing-ops".into()),
            Some("lead-1".into()),
            &cfg,
            Timestamp(0),
        );
        assert_eq!(owned.owner, "marketing-ops");
        assert_eq!(owned.lead_id.as_deref(), Some("lead-1"));
    }
}
