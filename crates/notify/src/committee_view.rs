//! The buying committee of a handoff as Slack and the CRM show it (RULES.md §1d): who owns the
//! account, the map in the recommended engagement order, the strategy line, and the counts of a
//! committee larger than the packet lists.

use leadflow_events::{Committee, CommitteeMember};
use serde_json::{Value, json};

use leadflow_escape::slack_mrkdwn as esc;

/// `block_id` prefix of the committee's Slack blocks: a card update replaces exactly these.
pub const BLOCK_PREFIX: &str = "leadflow_committee";
/// People a Slack message lists (a section's text stays under Slack's 3,000 characters); the
/// rest are counted.
pub const SLACK_LISTED: usize = 15;
/// Characters of one person's line at most.
const LINE_MAX: usize = 180;

/// Whether a committee is worth showing: an account with at least two known people.
pub fn shown(c: &Committee) -> bool {
    c.total >= 2
}

fn role_label(role: &str) -> &'static str {
    match role {
        "champion" => "Champion",
        "economic_buyer" => "Economic buyer",
        "technical_evaluator" => "Technical evaluator",
        "competitor" => "Competitor",
        "researcher" => "Researcher",
        _ => "Unclassified",
    }
}

/// One line: control characters (a newline in a lead-provided name or title) become spaces.
fn flat(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn cut(s: String) -> String {
    let s = flat(&s);
    if s.chars().count() <= LINE_MAX {
        return s;
    }
    let mut out: String = s.chars().take(LINE_MAX - 1).collect();
    out.push('…');
    out
}

/// One person, plain: `Champion — Marc Doe, IT Manager · score 60 WARM · HANDED_OFF · rep ae-1`.
pub fn member_line(m: &CommitteeMember) -> String {
    let who = match (&m.name, &m.title) {
        (Some(n), Some(t)) => format!("{n}, {t}"),
        (Some(n), None) => n.clone(),
        (None, Some(t)) => t.clone(),
        (None, None) => format!("lead {}", m.lead_id),
    };
    let rep = m
        .owner_rep_id
        .as_deref()
        .map(|r| format!(" · rep {r}"))
        .unwrap_or_default();
    cut(format!(
        "{} — {who} · score {} {} · {}{rep}",
        role_label(&m.role),
        m.score,
        m.tier,
        m.status
    ))
}

/// The people in order with their place in the engagement order (`1.`), `–` for people not to
/// engage, at most `max`.
fn lines(c: &Committee, max: usize) -> Vec<String> {
    c.members
        .iter()
        .take(max)
        .map(|m| {
            let place = c
                .engagement_order
                .iter()
                .position(|id| *id == m.lead_id)
                .map_or_else(|| "–".to_owned(), |i| format!("{}.", i + 1));
            format!("{place} {}", member_line(m))
        })
        .collect()
}

/// "3 known people" and, when the packet or the message lists fewer, the counts.
fn counts(c: &Committee, listed: usize) -> Option<String> {
    let total = usize::try_from(c.total).unwrap_or(0);
    if total <= listed {
        return None;
    }
    let mut out = format!("{} more not listed", total - listed);
    if !c.summary.is_empty() {
        let parts: Vec<String> = c
            .summary
            .iter()
            .map(|x| format!("{} {}: {}", x.dimension, x.value, x.count))
            .collect();
        out.push_str(&format!(" (all {total}: {})", parts.join(", ")));
    }
    Some(out)
}

fn heading(c: &Committee) -> String {
    let owner = c.owner.as_ref().map_or_else(
        || "no owner yet".to_owned(),
        |o| format!("owner {}", o.name),
    );
    flat(&format!(
        "Buying committee of {} — {} known people, {owner}",
        c.account_key, c.total
    ))
}

/// The committee as plain text (CRM note, email).
pub fn text(c: &Committee) -> String {
    let mut out = heading(c);
    if c.updates_card.is_some() {
        out.push_str("\nThis person joins the account's existing card (same owner).");
    }
    out.push_str(&format!("\nStrategy: {}", flat(&c.strategy)));
    for l in lines(c, c.members.len()) {
        out.push('\n');
        out.push_str(&l);
    }
    if let Some(more) = counts(c, c.members.len()) {
        out.push('\n');
        out.push_str(&more);
    }
    out
}

/// The committee as Slack blocks, every one with a `block_id` starting [`BLOCK_PREFIX`] and ending
/// with `:<stamp>` (the packet's `created_at`, ms), so an update never replaces a newer map.
pub fn blocks(c: &Committee, stamp: i64) -> Vec<Value> {
    let owner = c.owner.as_ref().map_or_else(
        || "no owner yet".to_owned(),
        |o| match &o.slack_user_id {
            Some(uid) => format!("owner <@{}>", esc(uid)),
            None => format!("owner *{}*", esc(&o.name)),
        },
    );
    let head = format!(
        "*Buying committee* of {} — {} known people, {owner}\n*Strategy:* {}",
        esc(&flat(&c.account_key)),
        c.total,
        esc(&flat(&c.strategy))
    );
    let mut map: Vec<String> = lines(c, SLACK_LISTED).iter().map(|l| esc(l)).collect();
    if let Some(more) = counts(c, c.members.len().min(SLACK_LISTED)) {
        map.push(format!("_{}_", esc(&more)));
    }
    vec![
        json!({"type": "section", "block_id": format!("{BLOCK_PREFIX}_head:{stamp}"), "text": {"type": "mrkdwn", "text": head}}),
        json!({"type": "section", "block_id": format!("{BLOCK_PREFIX}_map:{stamp}"), "text": {"type": "mrkdwn", "text": map.join("\n")}}),
    ]
}

/// The stamp of a committee block (`None`: not a committee block).
fn stamp_of(b: &Value) -> Option<i64> {
    let id = b["block_id"].as_str()?.strip_prefix(BLOCK_PREFIX)?;
    Some(
        id.rsplit_once(':')
            .and_then(|(_, t)| t.parse().ok())
            .unwrap_or(i64::MIN),
    )
}

/// `card` (a posted message's blocks) with its committee blocks replaced by `c`'s (stamped
/// `stamp`), or `c`'s added before the closing context block when it had none; `None` when the
/// card already shows a newer map (a later packet's update went first).
pub fn replace_in(card: &Value, c: &Committee, stamp: i64) -> Option<Value> {
    let new = blocks(c, stamp);
    let Some(old) = card.as_array() else {
        return Some(Value::Array(new));
    };
    if old.iter().filter_map(stamp_of).any(|s| s > stamp) {
        return None;
    }
    let is_committee = |b: &Value| stamp_of(b).is_some();
    let mut out: Vec<Value> = Vec::with_capacity(old.len() + new.len());
    let mut placed = false;
    for b in old {
        if is_committee(b) {
            if !placed {
                out.extend(new.iter().cloned());
                placed = true;
            }
        } else {
            out.push(b.clone());
        }
    }
    if !placed {
        let at = out
            .iter()
            .rposition(|b| b["type"] == "context")
            .unwrap_or(out.len());
        out.splice(at..at, new);
    }
    Some(Value::Array(out))
}

#[cfg(test)]
mod tests {
    use leadflow_events::samples;

    use super::*;

    fn committee() -> Committee {
        samples::committee_packet().committee.unwrap()
    }

    #[test]
    fn the_map_lists_people_in_engagement_order_with_the_strategy() {
        let c = committee();
        let t = text(&c);
        assert!(
            t.starts_with("Buying committee of northwind.io — 2 known people, owner "),
            "{t}"
        );
        assert!(t.contains("joins the account's existing card"), "{t}");
        assert!(
            t.contains("Strategy: Start with the champion, Ana Lopez"),
            "{t}"
        );
        assert!(
            t.contains(
                "1. Champion — Ana Lopez, Data Engineering Manager · score 72 WARM · CONTACTED"
            ),
            "{t}"
        );
        assert!(
            t.contains("2. Economic buyer — Jane Doe, VP Data · score 91 HOT · HANDED_OFF"),
            "{t}"
        );
        let b = Value::Array(blocks(&c, 7)).to_string();
        assert!(b.contains("*Buying committee* of northwind.io"), "{b}");
        assert!(b.contains("leadflow_committee_head:7"), "{b}");
        assert!(b.contains("1. Champion — Ana Lopez"), "{b}");
    }

    #[test]
    fn a_lead_provided_newline_stays_on_its_line() {
        let mut c = committee();
        c.members[0].name = Some("Ana\nOwner: someone else".into());
        let t = text(&c);
        assert_eq!(t.lines().count(), 5, "{t}");
        assert!(t.contains("Ana Owner: someone else"), "{t}");
    }

    #[test]
    fn a_large_committee_lists_15_in_slack_and_counts_the_rest() {
        let mut c = committee();
        let one = c.members[0].clone();
        c.members = (0..50)
            .map(|i| CommitteeMember {
                lead_id: format!("l{i}"),
                ..one.clone()
            })
            .collect();
        c.total = 120;
        let b = Value::Array(blocks(&c, 7)).to_string();
        assert_eq!(b.matches("Champion — ").count(), SLACK_LISTED, "{b}");
        assert!(
            b.contains("105 more not listed (all 120: persona P1: 1)"),
            "{b}"
        );
        let t = text(&c);
        assert_eq!(t.matches("Champion — ").count(), 50);
        assert!(t.contains("70 more not listed"), "{t}");
    }

    #[test]
    fn replacing_the_map_keeps_the_rest_of_the_card() {
        let c = committee();
        let card = json!([
            {"type": "header", "text": {"type": "plain_text", "text": "card"}},
            {"type": "section", "block_id": "leadflow_committee_head:5", "text": {"type": "mrkdwn", "text": "old"}},
            {"type": "section", "block_id": "leadflow_committee_map:5", "text": {"type": "mrkdwn", "text": "old"}},
            {"type": "actions", "block_id": "leadflow|lead-0000|pkt-card-0000", "elements": []},
            {"type": "context", "elements": []}
        ]);
        assert_eq!(replace_in(&card, &c, 4), None, "never over a newer map");
        let new = replace_in(&card, &c, 6).unwrap();
        let ids: Vec<&str> = new
            .as_array()
            .unwrap()
            .iter()
            .map(|b| {
                b["block_id"]
                    .as_str()
                    .unwrap_or(b["type"].as_str().unwrap())
            })
            .collect();
        assert_eq!(
            ids,
            [
                "header",
                "leadflow_committee_head:6",
                "leadflow_committee_map:6",
                "leadflow|lead-0000|pkt-card-0000",
                "context"
            ]
        );
        assert!(!new.to_string().contains("\"old\""));
        // a card posted without a map gets one before its context line
        let bare = json!([{"type": "header"}, {"type": "context"}]);
        let new = replace_in(&bare, &c, 6).unwrap();
        assert_eq!(new.as_array().unwrap().len(), 4);
        assert_eq!(new[3]["type"], "context");
    }
}
