//! Text and JSON views of queue entries (the CLI's; the console renders its own HTML).

use std::fmt::Write as _;

use leadflow_events::Timestamp;
use serde_json::{Value, json};

use super::queue::Entry;

/// `in 3h 20m` / `overdue 15m`.
pub fn due_in(due: Timestamp, now: Timestamp) -> String {
    let ms = due.0 - now.0;
    let text = span(ms.unsigned_abs());
    if ms < 0 {
        format!("overdue {text}")
    } else {
        format!("in {text}")
    }
}

fn span(ms: u64) -> String {
    let m = ms / 60_000;
    match m {
        0 => format!("{}s", ms / 1_000),
        1..=59 => format!("{m}m"),
        60..=2_879 => format!("{}h {}m", m / 60, m % 60),
        _ => format!("{}d {}h", m / 1_440, (m % 1_440) / 60),
    }
}

/// The JSON summary of an entry (list lines, the console's API).
pub fn entry_json(e: &Entry, now: Timestamp) -> Value {
    json!({
        "exception_id": e.id(),
        "status": e.state.status.label(),
        "stage": e.first.stage,
        "kind": e.latest.error_kind.label(),
        "owner": e.state.owner,
        "due_at": e.state.due_at.to_string(),
        "overdue": e.is_overdue(now),
        "escalation_level": e.state.escalation_level,
        "lead_id": e.first.lead_id,
        "reason": e.latest.reason,
        "failures": e.failures,
        "raised_at": e.first.raised_at.to_string(),
    })
}

/// The `list` output.
pub fn list(entries: &[&Entry], now: Timestamp, as_json: bool) -> String {
    let mut out = String::new();
    if as_json {
        for e in entries {
            let _ = writeln!(out, "{}", entry_json(e, now));
        }
        return out;
    }
    if entries.is_empty() {
        out.push_str("no exceptions match\n");
        return out;
    }
    let _ = writeln!(
        out,
        "{:<40} {:<10} {:<14} {:<13} {:<16} {:<16} {:<14} REASON",
        "ID", "STATUS", "STAGE", "KIND", "OWNER", "DUE", "LEAD"
    );
    for e in entries {
        let mut reason = e.latest.reason.replace('\n', " ");
        if reason.chars().count() > 60 {
            reason = reason.chars().take(59).collect::<String>() + "…";
        }
        let _ = writeln!(
            out,
            "{:<40} {:<10} {:<14} {:<13} {:<16} {:<16} {:<14} {}",
            e.id(),
            e.state.status.label(),
            e.first.stage,
            e.latest.error_kind.label(),
            e.state.owner,
            due_in(e.state.due_at, now),
            e.first.lead_id.as_deref().unwrap_or("-"),
            reason
        );
    }
    out
}

/// The `show` output.
pub fn show(e: &Entry, original: &Result<Value, String>, now: Timestamp, as_json: bool) -> String {
    if as_json {
        let mut v = entry_json(e, now);
        if let Value::Object(o) = &mut v {
            o.insert(
                "source".into(),
                json!({"topic": e.first.source_topic, "partition": e.first.source_partition,
                       "offset": e.first.source_offset, "key": e.first.source_key}),
            );
            o.insert(
                "original".into(),
                match original {
                    Ok(j) => j.clone(),
                    Err(why) => json!({"undecodable": why, "bytes": e.first.original.len()}),
                },
            );
            o.insert(
                "history".into(),
                serde_json::to_value(&e.state.history).unwrap_or(Value::Null),
            );
        }
        return format!("{v}\n");
    }
    let mut out = String::new();
    let f = &e.first;
    let _ = writeln!(out, "exception  {}", e.id());
    let _ = writeln!(
        out,
        "status     {} (escalation level {})",
        e.state.status.label(),
        e.state.escalation_level
    );
    let _ = writeln!(
        out,
        "owner      {}, due {} ({})",
        e.state.owner,
        e.state.due_at,
        due_in(e.state.due_at, now)
    );
    let _ = writeln!(
        out,
        "stage      {} ({})",
        f.stage,
        e.latest.error_kind.label()
    );
    let _ = writeln!(out, "reason     {}", e.latest.reason);
    let _ = writeln!(
        out,
        "source     {} partition {} offset {} key {}",
        f.source_topic,
        f.source_partition,
        f.source_offset,
        f.source_key.as_deref().unwrap_or("-")
    );
    let _ = writeln!(out, "lead       {}", f.lead_id.as_deref().unwrap_or("-"));
    let _ = writeln!(out, "failures   {}", e.failures);
    match original {
        Ok(j) => {
            let pretty = serde_json::to_string_pretty(j).unwrap_or_default();
            let _ = writeln!(out, "original\n{pretty}");
        }
        Err(why) => {
            let _ = writeln!(
                out,
                "original   {} bytes, not decodable: {why}",
                f.original.len()
            );
        }
    }
    let _ = writeln!(out, "history");
    for a in &e.state.history {
        let _ = writeln!(
            out,
            "  {}  {:<9} by {:<14} owner {:<16} due {}{}{}",
            a.at,
            a.action.label(),
            a.actor,
            a.owner,
            a.due_at,
            a.target.as_ref().map_or(String::new(), |t| format!(
                "  at {}:{}:{}",
                t.topic, t.partition, t.offset
            )),
            a.reason
                .as_ref()
                .map_or(String::new(), |r| format!("  — {r}"))
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_reads_like_a_person_would_say_it() {
        assert_eq!(due_in(Timestamp(90 * 60_000), Timestamp(0)), "in 1h 30m");
        assert_eq!(due_in(Timestamp(0), Timestamp(15 * 60_000)), "overdue 15m");
        assert_eq!(due_in(Timestamp(3 * 86_400_000), Timestamp(0)), "in 3d 0h");
    }
}
