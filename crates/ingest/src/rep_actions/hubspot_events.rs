//! HubSpot's webhook events (a JSON array, at least once, up to 100 per request) → CRM signals
//! (RULES.md RA5). Only the events below mean something for a lead's SLA; every other event is read
//! and ignored.
//!
//! | event | signal |
//! |---|---|
//! | `object.propertyChange`, `objectTypeId` `0-27` (task), `hs_task_status` → `COMPLETED` | CONTACTED, by the task |
//! | `contact.propertyChange`, `notes_last_contacted` or `hs_last_sales_activity_timestamp` (set when a call, email or meeting is logged) | CONTACTED, by the contact |
//! | `contact.propertyChange`, `hs_lead_status` → `CONNECTED` / `OPEN_DEAL` / `UNQUALIFIED` | CONTACTED / QUALIFIED / DISQUALIFIED |
//! | `contact.propertyChange`, `lifecyclestage` → `salesqualifiedlead` / `opportunity` | QUALIFIED |

use leadflow_events::{RepActivityKind, Timestamp};
use serde::Deserialize;

use super::decide::{CrmObject, CrmSignal};

/// One event of HubSpot's webhook body (the fields leadflow reads).
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HubSpotEvent {
    #[serde(default)]
    pub event_id: Option<serde_json::Value>,
    #[serde(default)]
    pub subscription_type: String,
    #[serde(default)]
    pub object_type_id: Option<String>,
    pub object_id: serde_json::Value,
    #[serde(default)]
    pub property_name: Option<String>,
    #[serde(default)]
    pub property_value: Option<serde_json::Value>,
    #[serde(default)]
    pub occurred_at: Option<i64>,
}

/// Parses the body: a JSON array of events (400 otherwise).
pub fn parse(body: &[u8]) -> Result<Vec<HubSpotEvent>, String> {
    serde_json::from_slice(body).map_err(|e| format!("not a HubSpot webhook body: {e}"))
}

fn text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The signal of one event, if it carries one.
pub fn signal(e: &HubSpotEvent, now: Timestamp) -> Option<CrmSignal> {
    let id = text(&e.object_id).filter(|s| !s.is_empty())?;
    let property = e.property_name.as_deref().unwrap_or_default();
    let value = e.property_value.as_ref().and_then(text).unwrap_or_default();
    let at = e.occurred_at.map_or(now, Timestamp);
    let (object, kind) = match e.subscription_type.as_str() {
        "object.propertyChange"
            if e.object_type_id.as_deref() == Some("0-27")
                && property == "hs_task_status"
                && value == "COMPLETED" =>
        {
            (CrmObject::Task(id), RepActivityKind::Contacted)
        }
        "contact.propertyChange" => {
            let kind = match (property, value.as_str()) {
                ("notes_last_contacted" | "hs_last_sales_activity_timestamp", v)
                    if !v.is_empty() =>
                {
                    RepActivityKind::Contacted
                }
                ("hs_lead_status", "CONNECTED") => RepActivityKind::Contacted,
                ("hs_lead_status", "OPEN_DEAL") => RepActivityKind::Qualified,
                ("hs_lead_status", "UNQUALIFIED") => RepActivityKind::Disqualified,
                ("lifecyclestage", "salesqualifiedlead" | "opportunity") => {
                    RepActivityKind::Qualified
                }
                _ => return None,
            };
            (CrmObject::Contact(id), kind)
        }
        _ => return None,
    };
    Some(CrmSignal { object, kind, at })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn maps_the_documented_events_and_ignores_the_rest() {
        let body = br#"[
          {"eventId":1,"subscriptionType":"object.propertyChange","objectTypeId":"0-27","objectId":42,"propertyName":"hs_task_status","propertyValue":"COMPLETED","occurredAt":1764495000000,"portalId":62515,"attemptNumber":0},
          {"eventId":2,"subscriptionType":"contact.propertyChange","objectId":7,"propertyName":"hs_lead_status","propertyValue":"OPEN_DEAL","occurredAt":1764495001000},
          {"eventId":3,"subscriptionType":"contact.propertyChange","objectId":7,"propertyName":"hs_lead_status","propertyValue":"UNQUALIFIED"},
          {"eventId":4,"subscriptionType":"contact.propertyChange","objectId":"7","propertyName":"notes_last_contacted","propertyValue":"1764495002000"},
          {"eventId":5,"subscriptionType":"object.propertyChange","objectTypeId":"0-27","objectId":42,"propertyName":"hs_task_status","propertyValue":"IN_PROGRESS"},
          {"eventId":6,"subscriptionType":"contact.creation","objectId":8},
          {"eventId":7,"subscriptionType":"deal.propertyChange","objectId":9,"propertyName":"dealstage","propertyValue":"closedwon"}
        ]"#;
        let events = parse(body).unwrap();
        let now = Timestamp(5);
        let got: Vec<_> = events.iter().map(|e| signal(e, now)).collect();
        assert_eq!(
            got[0],
            Some(CrmSignal {
                object: CrmObject::Task("42".into()),
                kind: RepActivityKind::Contacted,
                at: Timestamp(1_764_495_000_000)
            })
        );
        assert_eq!(got[1].as_ref().unwrap().kind, RepActivityKind::Qualified);
        assert_eq!(got[2].as_ref().unwrap().kind, RepActivityKind::Disqualified);
        assert_eq!(got[2].as_ref().unwrap().at, now);
        assert_eq!(
            got[3].as_ref().unwrap().object,
            CrmObject::Contact("7".into())
        );
        assert!(got[4..].iter().all(Option::is_none));
        assert!(parse(b"{\"not\":\"an array\"}").is_err());
    }
}
