//! Required fields: what a lead event must carry to be processed at all.

use leadflow_events::{ErrorKind, LeadEvent};

/// Why an event cannot be processed. The reason names the field and never quotes personal data.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{kind:?}: {reason}")]
pub struct Invalid {
    pub kind: ErrorKind,
    pub reason: String,
}

impl Invalid {
    pub fn missing(reason: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::MissingField,
            reason: reason.into(),
        }
    }

    pub fn validation(reason: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Validation,
            reason: reason.into(),
        }
    }
}

fn blank(value: Option<&str>) -> bool {
    value.is_none_or(|v| v.trim().is_empty())
}

/// Checks the identifiers (event_id, lead_id, source_system, source_record_id), the event time, and
/// that an email or a company domain is present.
pub fn check_required(event: &LeadEvent) -> Result<(), Invalid> {
    let ids = [
        ("event_id", &event.event_id),
        ("lead_id", &event.lead_id),
        ("source_system", &event.source_system),
        ("source_record_id", &event.source_record_id),
    ];
    for (field, value) in ids {
        if value.trim().is_empty() {
            return Err(Invalid::missing(format!("{field} is empty")));
        }
    }
    if event.occurred_at.0 <= 0 {
        return Err(Invalid::missing("occurred_at is not set"));
    }
    if blank(event.contact.email.as_deref())
        && blank(event.company.domain.as_deref())
        && blank(event.account_domain.as_deref())
    {
        return Err(Invalid::missing(
            "neither contact.email nor a company domain (company.domain or account_domain) is present",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use leadflow_events::{Timestamp, samples};

    use super::*;

    #[test]
    fn required_fields() {
        type Edit = fn(&mut LeadEvent);
        type Case = (&'static str, Edit, Option<(ErrorKind, &'static str)>);
        let cases: &[Case] = &[
            ("complete sample", |_| {}, None),
            (
                "empty event_id",
                |e| e.event_id = String::new(),
                Some((ErrorKind::MissingField, "event_id is empty")),
            ),
            (
                "blank lead_id",
                |e| e.lead_id = "  ".into(),
                Some((ErrorKind::MissingField, "lead_id is empty")),
            ),
            (
                "empty source_system",
                |e| e.source_system = String::new(),
                Some((ErrorKind::MissingField, "source_system is empty")),
            ),
            (
                "empty source_record_id",
                |e| e.source_record_id = String::new(),
                Some((ErrorKind::MissingField, "source_record_id is empty")),
            ),
            (
                "no event time",
                |e| e.occurred_at = Timestamp(0),
                Some((ErrorKind::MissingField, "occurred_at is not set")),
            ),
            (
                "no email and no domain",
                |e| {
                    e.contact.email = None;
                    e.company.domain = None;
                    e.account_domain = None;
                },
                Some((
                    ErrorKind::MissingField,
                    "neither contact.email nor a company domain",
                )),
            ),
            (
                "blank email and blank domains",
                |e| {
                    e.contact.email = Some(" ".into());
                    e.company.domain = Some("".into());
                    e.account_domain = None;
                },
                Some((
                    ErrorKind::MissingField,
                    "neither contact.email nor a company domain",
                )),
            ),
            (
                "email only",
                |e| {
                    e.company.domain = None;
                    e.account_domain = None;
                },
                None,
            ),
            (
                "company domain only",
                |e| {
                    e.contact.email = None;
                    e.account_domain = None;
                },
                None,
            ),
            (
                "account domain only",
                |e| {
                    e.contact.email = None;
                    e.company.domain = None;
                },
                None,
            ),
        ];
        for (name, edit, want) in cases {
            let mut event = samples::lead_event();
            edit(&mut event);
            let got = check_required(&event).err().map(|e| e.kind);
            let reason = check_required(&event)
                .err()
                .map(|e| e.reason)
                .unwrap_or_default();
            match want {
                None => assert_eq!(got, None, "{name}: {reason}"),
                Some((kind, text)) => {
                    assert_eq!(got, Some(*kind), "{name}");
                    assert!(reason.starts_with(text), "{name}: {reason}");
                }
            }
        }
    }
}
