//! The Slack message of a handoff, as Block Kit: headline with lead level and tier, the visitor's own
//! data, the 2–3 sentence summary, commitment and SLA deadline, booking link (hot escalations only),
//! and the CRM record link.

use serde_json::{Value, json};

use crate::packet::{Handoff, format_time};

pub(crate) use leadflow_escape::slack_mrkdwn as esc;
use leadflow_escape::slack_text;

fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// `<!date^...>` shows the deadline in each reader's own time zone; the fallback is UTC.
fn slack_date(ms: i64) -> String {
    format!(
        "<!date^{}^{{date_short_pretty}} at {{time}}|{}>",
        ms.div_euclid(1000),
        format_time(leadflow_events::Timestamp(ms))
    )
}

/// The notification text (push notifications, screen readers, clients without blocks).
pub fn fallback_text(h: &Handoff) -> String {
    let who = h.visitor.display_name();
    let company = h.visitor.company.as_deref().unwrap_or("unknown company");
    let due = h
        .sla_due
        .map(|t| format!(" — first contact by {}", format_time(t)))
        .unwrap_or_default();
    format!(
        "{} lead ({} tier): {} at {}{}",
        h.level_label(),
        slack_text(&h.tier),
        slack_text(&who),
        slack_text(company),
        due
    )
}

/// The Block Kit blocks.
pub fn blocks(h: &Handoff, crm_url: Option<&str>) -> Value {
    let emoji = match h.level_label() {
        "HOT" => "🔥",
        "WARM" => "🌤️",
        _ => "❄️",
    };
    let company = h.visitor.company.as_deref().unwrap_or("unknown company");
    let mut out = vec![json!({
        "type": "header",
        "text": {"type": "plain_text", "emoji": true, "text": cut(&format!("{emoji} {} lead · {} tier — {}", h.level_label(), h.tier, company), 150)}
    })];

    let mention = |rep: &crate::packet::Rep| match &rep.slack_user_id {
        Some(uid) => format!("<@{}>", esc(uid)),
        None => format!("*{}*", esc(&rep.name)),
    };
    let mut owner = match &h.assignee {
        Some(rep) => format!(
            "{} this one is yours (team *{}*: {}).",
            mention(rep),
            esc(&h.team),
            esc(&h.assignment_reason)
        ),
        None => format!(
            "No rep assigned ({}): team *{}*, please pick it up.",
            esc(h.unassigned_reason.as_deref().unwrap_or("nobody eligible")),
            esc(&h.team)
        ),
    };
    if let (Some(_), Some(why)) = (&h.assignee, &h.unassigned_reason) {
        // a manager fallback: say why nobody in the pool could take it
        owner.push_str(&format!("\nNobody else could take it: {}.", esc(why)));
    }
    if let Some(prev) = &h.previous_assignee {
        owner.push_str(&format!(
            "\nReassigned from {} {} (escalation level {}).",
            mention(prev),
            h.reassigned_because(),
            h.escalation_level
        ));
    }
    // never cc the owner to themself (a manager fallback is assigned to the manager)
    let cc_is_owner =
        |cc: &crate::packet::Rep| h.assignee.as_ref().is_some_and(|a| a.rep_id == cc.rep_id);
    if let Some(cc) = h.manager_cc.as_ref().filter(|cc| !cc_is_owner(cc)) {
        owner.push_str(&format!("\ncc {}", mention(cc)));
    }
    if h.card_ts.is_some() {
        owner.push_str(
            "\nA new person of an account you already work: the account's card is updated.",
        );
    }
    out.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": owner}}));

    let v = &h.visitor;
    let mut fields = Vec::new();
    for (label, value) in v.contact_fields() {
        if let Some(value) = value.filter(|s| !s.is_empty()) {
            fields.push(json!({"type": "mrkdwn", "text": format!("*{label}*\n{}", esc(&value))}));
        }
    }
    if !fields.is_empty() {
        out.push(json!({"type": "section", "fields": fields}));
    }
    let summary = h.short_summary();
    if !summary.is_empty() {
        out.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": format!("*Summary*\n{}", esc(&cut(&summary, 2_900)))}}));
    }
    if !h.next_step.is_empty() {
        out.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": format!("*Next step*\n{}", esc(&cut(&h.next_step, 500)))}}));
    }
    let mut promise = Vec::new();
    promise.push(json!({"type": "mrkdwn", "text": format!("*Commitment*\n{}", esc(h.commitment.as_deref().unwrap_or("Contact within the SLA")))}));
    promise.push(json!({"type": "mrkdwn", "text": match h.sla_due {
        Some(t) => format!("*SLA deadline*\nFirst contact by {}", slack_date(t.0)),
        None => "*SLA deadline*\nnone".to_owned(),
    }}));
    out.push(json!({"type": "section", "fields": promise}));
    if let Some(c) = h
        .committee
        .as_ref()
        .filter(|c| crate::committee_view::shown(c))
    {
        out.extend(crate::committee_view::blocks(c, h.created_at.0));
    }

    if let Some(controls) = rep_controls(h) {
        out.push(controls);
    }
    let mut buttons = Vec::new();
    if h.lead_level == leadflow_events::LeadLevel::Hot {
        if let Some(link) = &h.booking_link {
            buttons.push(json!({"type": "button", "style": "primary", "text": {"type": "plain_text", "text": "Book the meeting"}, "url": link, "action_id": "booking"}));
        }
    }
    if let Some(url) = crm_url {
        buttons.push(json!({"type": "button", "text": {"type": "plain_text", "text": "Open in CRM"}, "url": url, "action_id": "crm"}));
    }
    if !buttons.is_empty() {
        out.push(json!({"type": "actions", "elements": buttons}));
    }
    out.push(
        json!({"type": "context", "elements": [{"type": "mrkdwn", "text": format!(
            "Score {} · {} · {} · lead `{}`",
            h.score,
            esc(&h.trigger),
            esc(&cut(&h.qualification, 200)),
            esc(&h.lead_id)
        )}]}),
    );
    Value::Array(out)
}

/// Accept, Contacted and Reject (with a reason) for the owner (RULES.md §1c): clicks go to
/// ingest's interactivity endpoint, which records them and updates this message in place.
/// Withdrawal notices have none.
fn rep_controls(h: &Handoff) -> Option<Value> {
    use leadflow_events::slack_actions::{ACCEPT, CONTACTED, REJECT, REJECT_REASONS, block_id};
    if h.is_notice() {
        return None;
    }
    let block = block_id(&h.lead_id, &h.packet_id)?;
    let options: Vec<Value> = REJECT_REASONS
        .iter()
        .map(
            |(value, label)| json!({"text": {"type": "plain_text", "text": label}, "value": value}),
        )
        .collect();
    Some(json!({"type": "actions", "block_id": block, "elements": [
        {"type": "button", "style": "primary", "text": {"type": "plain_text", "text": "Accept"}, "action_id": ACCEPT, "value": "accept"},
        {"type": "button", "text": {"type": "plain_text", "text": "Contacted"}, "action_id": CONTACTED, "value": "contacted"},
        {"type": "static_select", "placeholder": {"type": "plain_text", "text": "Reject…"}, "action_id": REJECT, "options": options}
    ]}))
}

/// The direct message's notification text to the original owner of a reassigned lead.
pub fn direct_text(h: &Handoff) -> String {
    format!(
        "{} lead {} at {} was reassigned from you to {}",
        h.level_label(),
        slack_text(&h.visitor.display_name()),
        slack_text(h.visitor.company.as_deref().unwrap_or("unknown company")),
        slack_text(h.assignee.as_ref().map_or("the team", |a| a.name.as_str()))
    )
}

/// The direct message to the original owner: what was taken from them, to whom, why, and that
/// their CRM task is closed (so they do not call the lead too).
pub fn direct_blocks(h: &Handoff) -> Value {
    let new_owner = match &h.assignee {
        Some(rep) => match &rep.slack_user_id {
            Some(uid) => format!("<@{}>", esc(uid)),
            None => format!("*{}*", esc(&rep.name)),
        },
        None => format!("team *{}*", esc(&h.team)),
    };
    let company = h.visitor.company.as_deref().unwrap_or("unknown company");
    let text = format!(
        "The {} lead *{}* ({}) was reassigned from you to {} {} (escalation level {}): {}.\n\
Your CRM task for it is closed; {} follows up from here, no need to contact the lead.",
        h.level_label(),
        esc(&h.visitor.display_name()),
        esc(company),
        new_owner,
        h.reassigned_because().replace("they", "you"),
        h.escalation_level,
        esc(&cut(&h.assignment_reason, 500)),
        new_owner
    );
    json!([
        {"type": "section", "text": {"type": "mrkdwn", "text": text}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": format!("lead `{}`", esc(&h.lead_id))}]}
    ])
}

#[cfg(test)]
mod tests {
    use leadflow_events::samples;

    use super::*;

    #[test]
    fn the_owner_gets_accept_contacted_and_reject_with_the_lead_and_packet_named() {
        let p = samples::handoff_packet();
        let h = Handoff::from_packet(&p);
        let b = blocks(&h, None);
        let controls = b
            .as_array()
            .unwrap()
            .iter()
            .find(|b| {
                b["block_id"]
                    .as_str()
                    .is_some_and(|id| id.starts_with("leadflow|"))
            })
            .expect("the rep controls");
        assert_eq!(
            controls["block_id"],
            format!("leadflow|{}|{}", p.lead_id(), p.packet_id)
        );
        let ids: Vec<&str> = controls["elements"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action_id"].as_str().unwrap())
            .collect();
        assert_eq!(
            ids,
            ["leadflow_accept", "leadflow_contacted", "leadflow_reject"]
        );
        assert_eq!(
            controls["elements"][2]["options"].as_array().unwrap().len(),
            6
        );
    }

    #[test]
    fn hot_message_mentions_owner_and_shows_booking_and_crm_links() {
        let h = Handoff::from_packet(&samples::handoff_packet());
        let b = blocks(&h, Some("https://crm.example/c/1"));
        let text = b.to_string();
        assert!(text.contains("HOT lead · HOT tier"), "{text}");
        assert!(text.contains("<@U123>"), "{text}");
        assert!(text.contains("https://cal.example.com/intro"), "{text}");
        assert!(text.contains("https://crm.example/c/1"), "{text}");
        assert!(text.contains("First contact by <!date^"), "{text}");
        assert!(fallback_text(&h).starts_with("HOT lead (HOT tier)"));
    }

    #[test]
    fn a_reassigned_packet_mentions_the_new_owner_and_tells_the_original_one() {
        let mut p = samples::handoff_packet();
        let first = blocks(&Handoff::from_packet(&p), None).to_string();
        assert!(!first.contains("Reassigned from"), "{first}");
        let mut previous = p.assignee.clone().expect("sample assignee");
        previous.rep_id = "rep-old".into();
        previous.name = "Old Owner".into();
        previous.slack_user_id = Some("U0OLD".into());
        p.previous_assignee = Some(previous.clone());
        p.escalation_level = 1;
        let text = blocks(&Handoff::from_packet(&p), None).to_string();
        assert!(text.contains("<@U123> this one is yours"), "{text}");
        assert!(
            text.contains("Reassigned from <@U0OLD> after the SLA breach (escalation level 1)."),
            "{text}"
        );
        // without a Slack id the original owner is named
        previous.slack_user_id = None;
        p.previous_assignee = Some(previous);
        let text = blocks(&Handoff::from_packet(&p), None).to_string();
        assert!(text.contains("Reassigned from *Old Owner*"), "{text}");
    }

    #[test]
    fn a_manager_fallback_says_why_and_does_not_cc_the_manager_to_himself() {
        let mut p = samples::handoff_packet();
        let mut mgr = p.assignee.clone().expect("sample assignee");
        mgr.rep_id = "mgr-1".into();
        mgr.slack_user_id = Some("U0MGR".into());
        p.assignee = Some(mgr.clone());
        p.manager_cc = Some(mgr);
        p.assignment_reason = "manager fallback: nobody eligible in the pool".into();
        p.unassigned_reason =
            Some("none of the 3 reps in team ae is eligible: 2 off_hours, 1 at_cap".into());
        let text = blocks(&Handoff::from_packet(&p), None).to_string();
        assert!(text.contains("<@U0MGR> this one is yours"), "{text}");
        assert!(
            text.contains("Nobody else could take it: none of the 3 reps in team ae is eligible: 2 off_hours, 1 at_cap."),
            "{text}"
        );
        assert!(!text.contains("cc <@U0MGR>"), "{text}");
        // a manager copied on someone else's lead is still cc'd
        let mut p2 = samples::handoff_packet();
        let mut cc = p2.assignee.clone().expect("sample assignee");
        cc.rep_id = "mgr-1".into();
        cc.slack_user_id = Some("U0MGR".into());
        p2.manager_cc = Some(cc);
        let text = blocks(&Handoff::from_packet(&p2), None).to_string();
        assert!(text.contains("cc <@U0MGR>"), "{text}");
    }

    #[test]
    fn the_direct_message_tells_the_original_owner_who_took_it_and_why() {
        let mut p = samples::handoff_packet();
        let mut prev = p.assignee.clone().expect("sample assignee");
        prev.rep_id = "rep-old".into();
        prev.slack_user_id = Some("U0OLD".into());
        p.previous_assignee = Some(prev);
        p.escalation_level = 1;
        p.assignment_reason = "reassigned after SLA breach: least loaded eligible rep in ae".into();
        let h = Handoff::from_packet(&p);
        let text = direct_blocks(&h).to_string();
        assert!(text.contains("reassigned from you to <@U123>"), "{text}");
        assert!(text.contains("escalation level 1"), "{text}");
        assert!(text.contains("least loaded eligible rep in ae"), "{text}");
        assert!(text.contains("CRM task for it is closed"), "{text}");
        assert!(direct_text(&h).contains("was reassigned from you"));
    }

    fn mrkdwn_texts(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Array(a) => a.iter().for_each(|x| mrkdwn_texts(x, out)),
            Value::Object(o) => {
                if o.get("type").and_then(Value::as_str) == Some("mrkdwn") {
                    out.extend(o.get("text").and_then(Value::as_str).map(str::to_owned));
                }
                o.values().for_each(|x| mrkdwn_texts(x, out));
            }
            _ => {}
        }
    }

    #[test]
    fn lead_provided_text_cannot_start_a_slack_control_sequence() {
        let mut h = Handoff::from_packet(&samples::handoff_packet());
        h.visitor.name = Some("<!channel>".into());
        h.visitor.company = Some("<https://evil.example|Reset password>".into());
        // the notification texts, and every mrkdwn object of both messages (a plain_text header
        // is not parsed by Slack)
        let mut texts = vec![fallback_text(&h), direct_text(&h)];
        mrkdwn_texts(&blocks(&h, None), &mut texts);
        mrkdwn_texts(&direct_blocks(&h), &mut texts);
        assert!(texts.len() > 8, "{texts:?}");
        for text in &texts {
            assert!(!text.contains("<!channel>"), "{text}");
            assert!(!text.contains("<https://evil.example"), "{text}");
        }
        assert!(fallback_text(&h).contains("&lt;!channel&gt;"));
        assert!(direct_text(&h).contains("&lt;https://evil.example|Reset password&gt;"));
    }

    #[test]
    fn booking_link_only_for_hot_leads() {
        let mut h = Handoff::from_packet(&samples::handoff_packet());
        h.lead_level = leadflow_events::LeadLevel::Warm;
        assert!(!blocks(&h, None).to_string().contains("cal.example.com"));
    }
}
