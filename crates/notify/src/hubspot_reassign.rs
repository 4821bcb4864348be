//! After a reassignment, the original owner's HubSpot task is closed with a note saying why, so a
//! lead never has two open tasks (RULES.md §1). Every write is idempotent: the task is addressed by
//! its unique `leadflow_idempotency_key` (`PATCH /crm/v3/objects/tasks/{key}?idProperty=…` with
//! `hs_task_status=COMPLETED`), the note is upserted by its own key, associations are PUTs. A
//! redelivered packet is skipped by the ledger; a retried attempt rewrites the same values.

use leadflow_escape::crm;

use crate::channel::ChannelError;
use crate::hubspot_api::HubspotApi;
use crate::packet::{Handoff, WITHDRAWN_SUFFIX};

/// A packet that took the lead from someone: `escalation_level` ≥ 1 with a previous assignee.
pub fn is_reassignment(h: &Handoff) -> bool {
    h.escalation_level >= 1 && h.previous_assignee.is_some()
}

/// The task keys of the packets this one replaced: the same decision at every lower escalation
/// level (`lead|event|tier|trigger|level` + `:task`), newest first. Route reassigns a lead under
/// the decision it was routed for and only raises the level, so these are the only tasks a
/// reassignment can leave open. Empty when the key does not end with the packet's level.
pub fn previous_task_keys(h: &Handoff) -> Vec<String> {
    let suffix = format!("|{}", h.escalation_level);
    let Some(base) = h.idempotency_key.strip_suffix(&suffix) else {
        return Vec::new();
    };
    (0..h.escalation_level)
        .rev()
        .map(|level| format!("{base}|{level}:task"))
        .collect()
}

/// The packets of the same lead for another decision whose tasks this packet replaces, among the
/// keys `delivered` to the CRM (the ledger's): every other key of the lead except the levels of
/// this decision (those are [`previous_task_keys`]) and withdrawal notices (they own no task).
/// Empty for a notice.
pub fn superseded_keys(h: &Handoff, delivered: &[String]) -> Vec<String> {
    if h.is_notice() {
        return Vec::new();
    }
    let base = |k: &str| k.rsplit_once('|').map_or(k, |(b, _)| b).to_owned();
    let own = base(&h.idempotency_key);
    delivered
        .iter()
        .filter(|k| **k != h.idempotency_key && !k.ends_with(WITHDRAWN_SUFFIX) && base(k) != own)
        .cloned()
        .collect()
}

/// What the closing note says (a CRM note: every value passes the CRM escaper).
pub fn closing_note(h: &Handoff) -> String {
    let from = crm(h
        .previous_assignee
        .as_ref()
        .map_or("the previous owner", |r| r.name.as_str()));
    let to = crm(h.assignee.as_ref().map_or("the team", |r| r.name.as_str()));
    format!(
        "leadflow closed {from}'s task: the lead was reassigned to {to} {} (escalation level {}). \
Why: {}.{}",
        h.reassigned_because(),
        h.escalation_level,
        crm(&h.assignment_reason),
        h.unassigned_reason
            .as_deref()
            .map(|u| format!(" Nobody else was eligible: {}.", crm(u)))
            .unwrap_or_default()
    )
}

/// Completes every task the reassignment replaced that exists, and writes one note saying why,
/// associated to the contact and to the closed tasks. A task that does not exist (its packet never
/// reached the CRM) is skipped.
pub async fn close_previous_tasks(
    crm: &HubspotApi,
    h: &Handoff,
    contact_id: &str,
    owner: Option<&str>,
) -> Result<(), ChannelError> {
    let closed = crm.complete_tasks(previous_task_keys(h)).await?;
    if !closed.is_empty() {
        let key = format!("{}:reassigned-note", h.idempotency_key);
        crm.write_note(
            &key,
            h.created_at,
            closing_note(h),
            owner,
            contact_id,
            &closed,
        )
        .await?;
    }
    Ok(())
}

/// Completes the tasks of the packets `h` supersedes (a newer decision for the same lead: a chat
/// that escalated after a form, a rescored lead) with one note saying why, so the lead keeps one
/// open task. A task that does not exist is skipped.
pub async fn close_superseded_tasks(
    crm: &HubspotApi,
    h: &Handoff,
    contact_id: &str,
    owner: Option<&str>,
) -> Result<(), ChannelError> {
    let keys = h.supersedes.iter().map(|k| format!("{k}:task")).collect();
    let closed = crm.complete_tasks(keys).await?;
    if !closed.is_empty() {
        let body = format!(
            "leadflow closed the earlier task for this lead: a newer decision replaced it ({} lead, {} tier, trigger {}). The open task is the one for that decision.",
            h.level_label(),
            leadflow_escape::crm(&h.tier),
            leadflow_escape::crm(&h.trigger)
        );
        let key = format!("{}:superseded-note", h.idempotency_key);
        crm.write_note(&key, h.created_at, body, owner, contact_id, &closed)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use leadflow_events::samples;

    use super::*;

    #[test]
    fn the_replaced_tasks_are_the_same_decision_at_lower_levels() {
        let mut h = Handoff::from_packet(&samples::handoff_packet());
        assert!(!is_reassignment(&h));
        h.idempotency_key = "lead-1|evt-1|HOT|HOT_LEAD|2".into();
        h.escalation_level = 2;
        assert_eq!(
            previous_task_keys(&h),
            vec![
                "lead-1|evt-1|HOT|HOT_LEAD|1:task".to_owned(),
                "lead-1|evt-1|HOT|HOT_LEAD|0:task".to_owned()
            ]
        );
        h.idempotency_key = "pkt-legacy".into();
        assert!(previous_task_keys(&h).is_empty());
        // another decision of the lead is superseded; this decision's levels and notices are not
        h.idempotency_key = "lead-1|evt-2|HOT|HOT_LEAD|0".into();
        let delivered = [
            "lead-1|evt-1|WARM|SCORE_BAND|0",
            "lead-1|evt-1|WARM|SCORE_BAND|1",
            "lead-1|evt-1|WARM|SCORE_BAND|1:withdrawn",
            "lead-1|evt-2|HOT|HOT_LEAD|0",
        ]
        .map(String::from);
        assert_eq!(
            superseded_keys(&h, &delivered),
            [
                "lead-1|evt-1|WARM|SCORE_BAND|0",
                "lead-1|evt-1|WARM|SCORE_BAND|1"
            ]
        );
        assert_eq!(crate::hubspot_api::path_segment("a|0:task"), "a%7C0%3Atask");
    }
}
