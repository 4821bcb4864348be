#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! A reassigned packet closes the loop against the sandbox (no broker): the original owner's CRM
//! task is completed with a note saying why (one open task per lead), the original owner gets a
//! Slack DM (`conversations.open` + `chat.postMessage`), and a redelivery does neither twice.

mod common;

use common::*;
use leadflow_events::{DeliveryChannel as Ch, DeliveryStatus as St, HandoffPacket};

/// The packet route emits when it reassigns `first` after an SLA breach: same decision, level 1,
/// a new owner, the first owner as `previous_assignee`.
fn reassigned(first: &HandoffPacket) -> HandoffPacket {
    let mut p = first.clone();
    p.packet_id = format!("{}-l1", first.packet_id);
    p.idempotency_key = first.idempotency_key.replace("|0", "|1");
    p.escalation_level = 1;
    p.previous_assignee = first.assignee.clone();
    let mut new_owner = first.assignee.clone().expect("sample assignee");
    new_owner.rep_id = "ae-new".into();
    new_owner.name = "Nia New".into();
    new_owner.email = "nia@example.com".into();
    new_owner.slack_user_id = Some("U0NEW".into());
    new_owner.crm_owner_id = Some("777".into());
    p.assignee = Some(new_owner);
    p.assignment_reason =
        "reassigned after SLA breach: least loaded eligible rep in ae (0 open leads)".into();
    p
}

fn open_tasks(sb: &leadflow_sandbox::Sandbox) -> Vec<String> {
    sb.state
        .crm_objects("tasks")
        .into_iter()
        .filter(|t| t.properties["hs_task_status"] != "COMPLETED")
        .map(|t| t.properties["leadflow_idempotency_key"].to_string())
        .collect()
}

#[tokio::test]
async fn a_reassignment_closes_the_original_task_and_dms_the_original_owner_once() {
    let sb = sandbox().await;
    let stage = new_stage(&settings(&sb));
    let first = packet(41);
    let original_uid = first
        .assignee
        .as_ref()
        .and_then(|a| a.slack_user_id.clone())
        .expect("sample owner has a Slack id");
    run(&stage, first.clone()).await;
    assert_eq!(open_tasks(&sb).len(), 1);

    let second = reassigned(&first);
    let out = run(&stage, second.clone()).await;
    let rs = receipts(&out);
    assert!(exceptions(&out).is_empty(), "{:#?}", exceptions(&out));

    // one open task: the new owner's; the original one COMPLETED, with a note saying why
    let open = open_tasks(&sb);
    assert_eq!(open.len(), 1, "{open:?}");
    assert!(open[0].contains("|1:task"), "{open:?}");
    let tasks = sb.state.crm_objects("tasks");
    let old = tasks
        .iter()
        .find(|t| {
            t.properties["leadflow_idempotency_key"] == format!("{}:task", first.idempotency_key)
        })
        .expect("original task");
    assert_eq!(old.properties["hs_task_status"], "COMPLETED");
    let note = sb
        .state
        .crm_objects("notes")
        .into_iter()
        .find(|n| {
            old.associations
                .get("notes")
                .is_some_and(|ns| ns.contains(&n.id))
        })
        .expect("a note on the closed task");
    let body = note.properties["hs_note_body"].as_str().unwrap_or_default();
    assert!(body.contains("reassigned to Nia New"), "{body}");
    assert!(body.contains("least loaded eligible rep in ae"), "{body}");

    // the original owner got a direct message: conversations.open, then chat.postMessage to it
    let dms = sb.state.direct_messages(&original_uid);
    assert_eq!(dms.len(), 1, "{dms:#?}");
    let text = dms[0].blocks.to_string();
    assert!(text.contains("reassigned from you to <@U0NEW>"), "{text}");
    let opened: Vec<_> = sb
        .state
        .requests()
        .into_iter()
        .filter(|r| r.path == "/api/conversations.open" && r.status == 200)
        .collect();
    assert_eq!(opened.len(), 1);
    assert_eq!(opened[0].body["users"], original_uid.as_str());
    assert_eq!(
        with(&rs, Ch::Slack, St::Delivered)
            .iter()
            .filter(|r| r
                .idempotency_key
                .as_deref()
                .is_some_and(|k| k.ends_with(":dm-previous-owner")))
            .count(),
        1,
        "{rs:#?}"
    );
    // the team post still tells the channel, and mentions both
    assert_eq!(
        sb.state.slack_messages().len(),
        3,
        "first post, reassigned post, DM"
    );

    // redelivered (same process, then a restart that replayed the receipts): no second DM, no
    // second close
    let patches = |sb: &leadflow_sandbox::Sandbox| {
        sb.state
            .requests()
            .iter()
            .filter(|r| r.method == "PATCH")
            .count()
    };
    let closes = patches(&sb);
    run(&stage, second.clone()).await;
    let restarted = new_stage(&settings(&sb));
    for r in &rs {
        leadflow_runtime::Stage::on_side_input(&restarted, r.clone().into()).unwrap();
    }
    let again = receipts(&run(&restarted, second).await);
    assert_eq!(sb.state.direct_messages(&original_uid).len(), 1);
    assert_eq!(patches(&sb), closes);
    assert_eq!(with(&again, Ch::Slack, St::Skipped).len(), 2, "{again:#?}");
    assert_eq!(open_tasks(&sb).len(), 1);
}

#[tokio::test]
async fn a_reassignment_whose_first_task_never_reached_the_crm_closes_nothing_and_still_dms() {
    let sb = sandbox().await;
    let stage = new_stage(&settings(&sb));
    let first = packet(42);
    let out = run(&stage, reassigned(&first)).await;
    assert!(exceptions(&out).is_empty(), "{:#?}", exceptions(&out));
    assert_eq!(open_tasks(&sb).len(), 1);
    assert!(
        sb.state
            .crm_objects("notes")
            .iter()
            .all(|n| !n.properties["leadflow_idempotency_key"]
                .to_string()
                .contains("reassigned-note")),
        "no closing note without a closed task"
    );
    assert_eq!(sb.state.direct_messages("U123").len(), 1);
}

/// The withdrawal notice the SLA watchdog publishes when the original owner's contact was in time
/// but recorded after the escalation (sla-watchdog RULES.md "Late truth").
fn withdrawal(reassigned: &HandoffPacket) -> HandoffPacket {
    let mut n = reassigned.clone();
    n.packet_id = format!("{}:withdrawn", reassigned.packet_id);
    n.idempotency_key = format!("{}:withdrawn", reassigned.idempotency_key);
    n.withdraws = Some(reassigned.packet_id.clone());
    n.sla.clear();
    n.assignment_reason = "No action needed: Ana contacted this lead at 2026-12-07T10:00:00Z, \
within its first contact deadline; the contact was recorded after the escalation."
        .into();
    n
}

#[tokio::test]
async fn a_withdrawal_tells_the_new_owner_no_action_is_needed_and_closes_their_task_once() {
    let sb = sandbox().await;
    let stage = new_stage(&settings(&sb));
    let first = packet(43);
    run(&stage, first.clone()).await;
    let second = reassigned(&first);
    run(&stage, second.clone()).await;
    assert_eq!(open_tasks(&sb).len(), 1, "the new owner's task");
    let posts_before = sb.state.slack_messages().len();
    let tasks_before = sb.state.crm_objects("tasks").len();

    let notice = withdrawal(&second);
    let out = run(&stage, notice.clone()).await;
    assert!(exceptions(&out).is_empty(), "{:#?}", exceptions(&out));
    let rs = receipts(&out);

    // no task is created, and the new owner's task is COMPLETED with a note saying why
    assert_eq!(sb.state.crm_objects("tasks").len(), tasks_before);
    assert!(open_tasks(&sb).is_empty(), "{:?}", open_tasks(&sb));
    let tasks = sb.state.crm_objects("tasks");
    let withdrawn = tasks
        .iter()
        .find(|t| {
            t.properties["leadflow_idempotency_key"] == format!("{}:task", second.idempotency_key)
        })
        .expect("the new owner's task");
    assert_eq!(withdrawn.properties["hs_task_status"], "COMPLETED");
    let note = sb
        .state
        .crm_objects("notes")
        .into_iter()
        .find(|n| {
            withdrawn
                .associations
                .get("notes")
                .is_some_and(|ns| ns.contains(&n.id))
        })
        .expect("a note on the withdrawn task");
    let body = note.properties["hs_note_body"].as_str().unwrap_or_default();
    assert!(body.contains("closed Nia New's task"), "{body}");
    assert!(body.contains("No action needed: Ana contacted"), "{body}");

    // the new owner is told directly and in the team channel
    let dms = sb.state.direct_messages("U0NEW");
    assert_eq!(dms.len(), 1, "{dms:#?}");
    assert!(
        dms[0].blocks.to_string().contains("No action needed"),
        "{dms:#?}"
    );
    assert_eq!(
        sb.state.slack_messages().len(),
        posts_before + 2,
        "team post + DM"
    );
    assert_eq!(with(&rs, Ch::Crm, St::Delivered).len(), 1, "{rs:#?}");

    // redelivered: nothing twice
    let requests = sb.state.requests().len();
    let again = receipts(&run(&stage, notice).await);
    assert_eq!(sb.state.requests().len(), requests, "{again:#?}");
    assert_eq!(sb.state.direct_messages("U0NEW").len(), 1);
}

#[tokio::test]
async fn a_newer_decision_for_the_same_lead_closes_the_earlier_task_and_after_a_restart_too() {
    let sb = sandbox().await;
    let stage = new_stage(&settings(&sb));
    let first = packet(45);
    let out = run(&stage, first.clone()).await;
    assert_eq!(open_tasks(&sb).len(), 1);

    // the visitor comes back on the chat: a second decision for the same lead (another event)
    let mut second = packet(45);
    second.packet_id = "pkt-0045-chat".into();
    second.idempotency_key = "lead-0045|evt-0046|HOT|EXPLICIT_REQUEST|0".into();
    run(&stage, second.clone()).await;
    let open = open_tasks(&sb);
    assert_eq!(open.len(), 1, "one open task per lead: {open:?}");
    assert!(open[0].contains("evt-0046"), "{open:?}");
    let tasks = sb.state.crm_objects("tasks");
    let old = tasks
        .iter()
        .find(|t| {
            t.properties["leadflow_idempotency_key"] == format!("{}:task", first.idempotency_key)
        })
        .expect("the first task");
    assert_eq!(old.properties["hs_task_status"], "COMPLETED");
    let note = sb
        .state
        .crm_objects("notes")
        .into_iter()
        .find(|n| {
            old.associations
                .get("notes")
                .is_some_and(|ns| ns.contains(&n.id))
        })
        .expect("a note on the closed task");
    let body = note.properties["hs_note_body"].as_str().unwrap_or_default();
    assert!(body.contains("a newer decision replaced it"), "{body}");

    // a restarted notify knows the first task from the receipts it replays
    let sb2 = sandbox().await;
    let restarted = new_stage(&settings(&sb2));
    for r in receipts(&out) {
        leadflow_runtime::Stage::on_side_input(&restarted, r.into()).unwrap();
    }
    run(&restarted, second).await;
    let patched: Vec<_> = sb2
        .state
        .requests()
        .into_iter()
        .filter(|r| r.method == "PATCH")
        .map(|r| r.path)
        .collect();
    assert_eq!(patched.len(), 1, "{patched:?}");
    assert!(patched[0].contains("evt-0045"), "{patched:?}");
}
