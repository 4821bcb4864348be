//! Withdrawal notices (RULES.md §1a): the SLA watchdog withdrew a reassignment because the previous
//! owner's contact was in time but recorded late. The rep the lead had been reassigned to is told no
//! action is needed — in the team channel, by direct message, and by their CRM task being closed
//! with a note saying why. A notice creates no task and no booking link; every effect is keyed by
//! the notice's own idempotency key (`<reassigned key>:withdrawn`), so a redelivery does nothing new.

use leadflow_escape::{crm as crm_escape, slack_text};
use serde_json::{Value, json};

use crate::channel::ChannelError;
use crate::hubspot_api::HubspotApi;
use crate::packet::Handoff;
use crate::slack_message::esc;

pub use crate::packet::WITHDRAWN_SUFFIX;

/// The idempotency key of the packet the notice withdraws, when the key has the notice's form.
pub fn withdrawn_key(h: &Handoff) -> Option<&str> {
    h.idempotency_key.strip_suffix(WITHDRAWN_SUFFIX)
}

fn stays_with(h: &Handoff) -> &str {
    h.previous_assignee
        .as_ref()
        .map_or("the previous owner", |r| r.name.as_str())
}

/// The notification text (channel post and DM): Slack's plain-text escaper, one line.
pub fn notice_text(h: &Handoff) -> String {
    format!(
        "No action needed: the {} lead {} at {} stays with {}",
        h.level_label(),
        slack_text(&h.visitor.display_name()),
        slack_text(h.visitor.company.as_deref().unwrap_or("unknown company")),
        slack_text(stays_with(h))
    )
}

/// The message: who no longer needs to act, who keeps the lead and why.
pub fn notice_blocks(h: &Handoff) -> Value {
    let told = match &h.assignee {
        Some(rep) => match &rep.slack_user_id {
            Some(uid) => format!("<@{}>", esc(uid)),
            None => format!("*{}*", esc(&rep.name)),
        },
        None => format!("team *{}*", esc(&h.team)),
    };
    let text = format!(
        ":white_check_mark: *No action needed*, {told}: the {} lead *{}* ({}) stays with *{}*.\n{}\n\
The reassignment is withdrawn and your CRM task for it is closed.",
        h.level_label(),
        esc(&h.visitor.display_name()),
        esc(h.visitor.company.as_deref().unwrap_or("unknown company")),
        esc(stays_with(h)),
        esc(&h.assignment_reason),
    );
    json!([
        {"type": "section", "text": {"type": "mrkdwn", "text": text}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": format!("lead `{}`", esc(&h.lead_id))}]}
    ])
}

/// The CRM side of a notice: the withdrawn packet's task is completed (when it exists) and a note
/// saying why is written on the contact. Returns the note's id (the notice's CRM effect).
pub async fn close_withdrawn_task(
    crm: &HubspotApi,
    h: &Handoff,
    contact_id: &str,
    owner: Option<&str>,
) -> Result<String, ChannelError> {
    let Some(withdrawn) = withdrawn_key(h) else {
        return Err(ChannelError::rejected(
            "a withdrawal notice whose idempotency key does not name the withdrawn packet",
        ));
    };
    let closed = crm
        .complete_tasks(vec![format!("{withdrawn}:task")])
        .await?;
    let body = format!(
        "leadflow closed {}'s task: {}",
        crm_escape(
            h.assignee
                .as_ref()
                .map_or("the reassigned rep", |r| r.name.as_str())
        ),
        crm_escape(&h.assignment_reason)
    );
    let key = format!("{}:note", h.idempotency_key);
    crm.write_note(&key, h.created_at, body, owner, contact_id, &closed)
        .await
}

#[cfg(test)]
mod tests {
    use leadflow_events::samples;

    use super::*;

    #[test]
    fn a_notice_names_who_keeps_the_lead_and_escapes_what_the_lead_typed() {
        let mut p = samples::handoff_packet();
        p.escalation_level = 1;
        p.previous_assignee = p.assignee.clone().map(|mut a| {
            a.name = "Ana <!channel>".into();
            a
        });
        p.idempotency_key = "lead-1|evt|HOT|HOT_LEAD|1:withdrawn".into();
        p.withdraws = Some("pkt-1".into());
        p.visitor.company = Some("<https://evil.example|Reset>".into());
        p.assignment_reason = "No action needed: Ana contacted this lead in time.".into();
        let h = Handoff::from_packet(&p);
        assert!(h.is_notice());
        assert_eq!(h.sla_due, None, "a notice carries no deadline");
        assert_eq!(withdrawn_key(&h), Some("lead-1|evt|HOT|HOT_LEAD|1"));
        let text = notice_text(&h);
        assert!(text.starts_with("No action needed: the HOT lead"), "{text}");
        assert!(
            !text.contains("<https://evil") && !text.contains("<!channel>"),
            "{text}"
        );
        assert!(text.contains("stays with Ana &lt;!channel&gt;"), "{text}");
        let blocks = notice_blocks(&h).to_string();
        assert!(blocks.contains("No action needed"), "{blocks}");
        assert!(
            blocks.contains("stays with *Ana &lt;!channel&gt;*"),
            "{blocks}"
        );
        assert!(!blocks.contains("<https://evil"), "{blocks}");
        assert!(
            blocks.contains("&lt;https://evil.example|Reset&gt;"),
            "{blocks}"
        );
    }
}
