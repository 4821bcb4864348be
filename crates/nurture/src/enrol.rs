//! The pure part: which decisions enrol (RULES.md E1–E3), and the receipt and activity an enrolment
//! produces (E4). No HubSpot, no broker.

use leadflow_events::{
    DeliveryChannel, DeliveryReceipt, DeliveryStatus, HandoffKind, RepActivity, RepActivityKind,
    TierDecision, Timestamp,
};

use crate::AUTOMATION;
use crate::settings::NurtureSettings;

/// What to do with one decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Plan {
    Enrol(Box<Enrol>),
    /// Nothing to enrol; the reason is a metric label.
    Skip(Skip),
}

/// Why a decision enrols nothing (bounded: metric labels).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Skip {
    /// A human takes the lead (E1).
    Handoff,
    /// A no-handoff tier without a configured sequence (E2).
    NoSequence,
}

impl Skip {
    pub fn label(self) -> &'static str {
        match self {
            Skip::Handoff => "handoff",
            Skip::NoSequence => "no_sequence",
        }
    }
}

/// One enrolment to make.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Enrol {
    pub lead_id: String,
    pub tier: String,
    pub list_id: String,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company: Option<String>,
    /// `sequence:<lead>:<decided_at ms>`: the id the sla-watchdog gives the decision's clocks, and
    /// the receipt's packet id.
    pub sequence_id: String,
    /// `nurture|<lead>|<decided_at ms>|<tier>`: one enrolment per decision, however often it is read.
    pub idempotency_key: String,
    pub decided_at: Timestamp,
}

/// Why a decision that should enrol cannot (it goes to the exceptions topic).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NotEnrolled {
    #[error("the {tier} sequence needs the lead's email, and the lead has none")]
    NoEmail { tier: String },
}

/// Decides what `decision` needs (E1–E3).
pub fn plan(decision: &TierDecision, settings: &NurtureSettings) -> Result<Plan, NotEnrolled> {
    if decision.handoff != HandoffKind::None {
        return Ok(Plan::Skip(Skip::Handoff));
    }
    let Some(list_id) = settings.sequences.get(&decision.tier) else {
        return Ok(Plan::Skip(Skip::NoSequence));
    };
    let lead = &decision.scored.enriched.lead;
    let email = lead
        .contact
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .ok_or_else(|| NotEnrolled::NoEmail {
            tier: decision.tier.clone(),
        })?;
    let at = decision.decided_at.0;
    Ok(Plan::Enrol(Box::new(Enrol {
        lead_id: lead.lead_id.clone(),
        tier: decision.tier.clone(),
        list_id: list_id.clone(),
        email: email.to_owned(),
        first_name: lead.contact.first_name.clone(),
        last_name: lead.contact.last_name.clone(),
        company: lead.company.name.clone(),
        sequence_id: format!("sequence:{}:{at}", lead.lead_id),
        idempotency_key: format!("nurture|{}|{at}|{}", lead.lead_id, decision.tier),
        decided_at: decision.decided_at,
    })))
}

/// Where the enrolment landed in HubSpot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Enrolled {
    pub contact_id: String,
    pub record_url: String,
    /// Calls made, the successful one included.
    pub attempts: u32,
}

impl Enrol {
    /// The `CRM` receipt of the enrolment (E4): deterministic id, so a replay maps to the same one.
    pub fn receipt(&self, done: &Enrolled, now: Timestamp) -> DeliveryReceipt {
        DeliveryReceipt {
            receipt_id: format!("{}|CRM|enrolled", self.idempotency_key),
            packet_id: self.sequence_id.clone(),
            lead_id: self.lead_id.clone(),
            channel: DeliveryChannel::Crm,
            status: DeliveryStatus::Delivered,
            attempts: i32::try_from(done.attempts).unwrap_or(i32::MAX),
            external_id: Some(format!("list:{}/contact:{}", self.list_id, done.contact_id)),
            error: None,
            delivered_at: now,
            idempotency_key: Some(self.idempotency_key.clone()),
            fallback_for: Vec::new(),
            remote_url: Some(done.record_url.clone()),
            latency_ms: Some(now.0.saturating_sub(self.decided_at.0).max(0)),
        }
    }

    /// The `ENROLLED` activity by automation (E4): `reason` names the tier whose sequence it is, the
    /// time is when the enrolment happened.
    pub fn activity(&self, now: Timestamp) -> RepActivity {
        let id = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, self.idempotency_key.as_bytes());
        RepActivity {
            activity_id: format!("enrol-{id}"),
            lead_id: self.lead_id.clone(),
            packet_id: Some(self.sequence_id.clone()),
            rep_id: AUTOMATION.to_owned(),
            kind: RepActivityKind::Enrolled,
            reason: Some(self.tier.clone()),
            reassigned_to: None,
            occurred_at: now,
        }
    }
}

#[cfg(test)]
mod tests {
    use leadflow_events::samples;

    use super::*;

    fn decision(tier: &str, handoff: HandoffKind, email: Option<&str>) -> TierDecision {
        let mut d = samples::tier_decision();
        d.tier = tier.into();
        d.handoff = handoff;
        d.scored.enriched.lead.contact.email = email.map(str::to_owned);
        d
    }

    #[test]
    fn which_decisions_enrol() {
        let s = NurtureSettings::default();
        let e = Some("ana@northwind.io");
        // (tier, handoff, email) -> outcome
        type Case<'a> = (
            &'a str,
            HandoffKind,
            Option<&'a str>,
            Result<Option<&'a str>, Skip>,
        );
        let table: [Case; 7] = [
            ("NURTURE_24H", HandoffKind::None, e, Ok(Some("101"))),
            ("NURTURE", HandoffKind::None, e, Ok(Some("102"))),
            ("COLD", HandoffKind::None, e, Ok(Some("102"))),
            ("WARM", HandoffKind::Capture, e, Err(Skip::Handoff)),
            ("HOT", HandoffKind::Escalation, e, Err(Skip::Handoff)),
            // a nurture band's lead handed to a human (a reply, T2): not enrolled again
            ("NURTURE_24H", HandoffKind::Capture, e, Err(Skip::Handoff)),
            // a tier with no list configured
            ("WARM", HandoffKind::None, e, Err(Skip::NoSequence)),
        ];
        for (tier, handoff, email, expected) in table {
            let got = plan(&decision(tier, handoff, email), &s).unwrap();
            match (got, expected) {
                (Plan::Enrol(en), Ok(Some(list))) => {
                    assert_eq!(en.list_id, list, "{tier}");
                    assert_eq!(en.email, "ana@northwind.io");
                }
                (Plan::Skip(k), Err(want)) => assert_eq!(k, want, "{tier} {handoff:?}"),
                (got, want) => panic!("{tier} {handoff:?}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn a_lead_without_an_email_cannot_be_enrolled() {
        let s = NurtureSettings::default();
        for email in [None, Some(""), Some("  ")] {
            let err = plan(&decision("NURTURE_24H", HandoffKind::None, email), &s).unwrap_err();
            assert_eq!(
                err.to_string(),
                "the NURTURE_24H sequence needs the lead's email, and the lead has none"
            );
        }
    }

    #[test]
    fn receipt_and_activity_are_deterministic_and_meet_the_sequence_clock() {
        let d = decision("NURTURE_24H", HandoffKind::None, Some("ana@northwind.io"));
        let Plan::Enrol(en) = plan(&d, &NurtureSettings::default()).unwrap() else {
            panic!("enrols");
        };
        let done = Enrolled {
            contact_id: "c-7".into(),
            record_url: "https://crm/c-7".into(),
            attempts: 2,
        };
        let now = Timestamp(d.decided_at.0 + 1_500);
        let r = en.receipt(&done, now);
        assert_eq!(r.channel, DeliveryChannel::Crm);
        assert_eq!(r.status, DeliveryStatus::Delivered);
        assert_eq!(r.external_id.as_deref(), Some("list:101/contact:c-7"));
        assert_eq!(r.latency_ms, Some(1_500));
        assert_eq!(r.attempts, 2);
        let lead = &d.scored.enriched.lead.lead_id;
        // the sla-watchdog's id for the clocks of a no-handoff decision
        assert_eq!(r.packet_id, format!("sequence:{lead}:{}", d.decided_at.0));
        let a = en.activity(now);
        assert_eq!(a.kind, RepActivityKind::Enrolled);
        assert_eq!(a.rep_id, "automation");
        assert_eq!(a.reason.as_deref(), Some("NURTURE_24H"));
        assert_eq!(a.occurred_at, now);
        assert_eq!(
            a.activity_id,
            en.activity(Timestamp(0)).activity_id,
            "one id per decision"
        );
        assert_eq!(r.receipt_id, en.receipt(&done, Timestamp(0)).receipt_id);
    }
}
