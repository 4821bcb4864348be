//! The email fallback: SMTP with lettre (STARTTLS, implicit TLS or none for local relays) to the
//! team's inbox, saying which primary channel failed and why. One message per packet: its
//! Message-ID is derived from the idempotency key.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::future::BoxFuture;
use leadflow_escape::email as esc;
use leadflow_events::DeliveryChannel;
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::channel::{Attempt, Channel, ChannelError, Delivered};
use crate::packet::{Handoff, format_time};
use crate::settings::{EmailSettings, SmtpTls};

pub struct EmailChannel {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    default_inbox: Mailbox,
    team_inboxes: BTreeMap<String, Mailbox>,
}

fn mailbox(key: &str, value: &str) -> Result<Mailbox, String> {
    value
        .parse()
        .map_err(|e| format!("email.{key} {value:?} is not an address: {e}"))
}

impl EmailChannel {
    pub fn new(settings: &EmailSettings, timeout: Duration) -> Result<EmailChannel, String> {
        let builder = match settings.tls {
            SmtpTls::None => {
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&settings.smtp_host)
            }
            SmtpTls::Starttls => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&settings.smtp_host)
                    .map_err(|e| format!("email.smtp_host: {e}"))?
            }
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&settings.smtp_host)
                .map_err(|e| format!("email.smtp_host: {e}"))?,
        };
        let mut builder = builder.port(settings.smtp_port).timeout(Some(timeout));
        if let (Some(user), Some(password)) = (&settings.username, &settings.password) {
            builder =
                builder.credentials(Credentials::new(user.clone(), password.expose().to_owned()));
        }
        let mut team_inboxes = BTreeMap::new();
        for (team, addr) in &settings.team_inboxes {
            team_inboxes.insert(
                team.clone(),
                mailbox(&format!("team_inboxes.{team}"), addr)?,
            );
        }
        Ok(EmailChannel {
            transport: builder.build(),
            from: mailbox("from", &settings.from)?,
            default_inbox: mailbox("default_inbox", &settings.default_inbox)?,
            team_inboxes,
        })
    }

    fn inbox(&self, team: &str) -> &Mailbox {
        self.team_inboxes.get(team).unwrap_or(&self.default_inbox)
    }

    async fn send(&self, h: &Handoff, attempt: &Attempt<'_>) -> Result<Delivered, ChannelError> {
        let failed: Vec<&str> = attempt
            .failures
            .iter()
            .map(|(c, _)| channel_name(*c))
            .collect();
        let what = if h.is_notice() {
            "No action needed on"
        } else {
            ""
        };
        let subject = format!(
            "[leadflow] {what}{}{} lead for {}: {} — {} unavailable",
            if what.is_empty() { "" } else { " the " },
            h.level_label(),
            esc(&h.team),
            esc(&h.visitor.display_name()),
            failed.join(" and ")
        );
        let message_id = format!("<{}.fallback@leadflow>", sanitize(&h.idempotency_key));
        let message = Message::builder()
            .from(self.from.clone())
            .to(self.inbox(&h.team).clone())
            .subject(subject)
            .message_id(Some(message_id.clone()))
            .header(ContentType::TEXT_PLAIN)
            .body(body(h, attempt.failures))
            .map_err(|e| ChannelError::rejected(format!("email could not be built: {e}")))?;
        match self.transport.send(message).await {
            Ok(_) => Ok(Delivered {
                external_id: message_id,
                url: None,
            }),
            Err(e) if e.is_permanent() => Err(ChannelError::rejected(format!(
                "smtp rejected the mail: {e}"
            ))),
            Err(e) => Err(ChannelError::unavailable(format!("smtp: {e}"))),
        }
    }
}

fn sanitize(key: &str) -> String {
    key.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-._".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect()
}

pub fn channel_name(c: DeliveryChannel) -> &'static str {
    match c {
        DeliveryChannel::Slack => "Slack",
        DeliveryChannel::Crm => "CRM",
        DeliveryChannel::Email => "email",
    }
}

/// The plain-text body: every value passes [`esc`] (one line each: a lead-provided value cannot
/// add a line that looks like ours).
fn body(h: &Handoff, failures: &[(DeliveryChannel, String)]) -> String {
    let v = &h.visitor;
    let mut out = String::new();
    out.push_str("This handoff could not be delivered through every usual channel:\n");
    for (c, reason) in failures {
        out.push_str(&format!(
            "  - {} failed: {}\n",
            channel_name(*c),
            esc(reason)
        ));
    }
    out.push_str("The other channels are still retried; this email is the fallback.\n\n");
    if h.is_notice() {
        out.push_str(&format!("NO ACTION NEEDED: {}\n\n", h.assignment_reason));
    }
    out.push_str(&format!(
        "{} lead, {} tier, score {} — team {}\n",
        h.level_label(),
        esc(&h.tier),
        h.score,
        esc(&h.team)
    ));
    if let Some(rep) = &h.assignee {
        out.push_str(&format!(
            "Owner: {} ({})\n",
            esc(&rep.name),
            esc(&rep.rep_id)
        ));
    }
    for (label, value) in v.contact_fields() {
        if let Some(value) = value {
            out.push_str(&format!("{label}: {}\n", esc(&value)));
        }
    }
    out.push_str(&format!("\nSummary: {}\n", esc(&h.summary)));
    if let Some(c) = h
        .committee
        .as_ref()
        .filter(|c| crate::committee_view::shown(c))
    {
        for line in crate::committee_view::text(c).lines() {
            out.push_str(&format!("{}\n", esc(line)));
        }
    }
    if let Some(c) = &h.commitment {
        out.push_str(&format!("Commitment: {}\n", esc(c)));
    }
    if let Some(t) = h.sla_due {
        out.push_str(&format!("First contact by: {}\n", format_time(t)));
    }
    if let Some(link) = &h.booking_link {
        out.push_str(&format!("Booking link: {}\n", esc(link)));
    }
    out.push_str(&format!(
        "\nLead {} · packet {}\n",
        esc(&h.lead_id),
        esc(&h.packet_id)
    ));
    out
}

impl Channel for EmailChannel {
    fn kind(&self) -> DeliveryChannel {
        DeliveryChannel::Email
    }

    fn deliver<'a>(
        &'a self,
        handoff: &'a Handoff,
        attempt: &'a Attempt<'a>,
    ) -> BoxFuture<'a, Result<Delivered, ChannelError>> {
        Box::pin(self.send(handoff, attempt))
    }
}

#[cfg(test)]
mod tests {
    use leadflow_events::samples;

    use super::*;

    #[test]
    fn a_lead_provided_value_cannot_add_lines_to_the_email() {
        let mut h = Handoff::from_packet(&samples::handoff_packet());
        h.visitor.name = Some("Eve\r\nOwner: attacker (rep-x)".into());
        h.summary = "fine.\nBooking link: https://evil.example".into();
        let text = body(&h, &[]);
        assert!(!text.contains("\nOwner: attacker"), "{text}");
        assert!(
            !text.contains("\nBooking link: https://evil.example"),
            "{text}"
        );
        assert!(!text.contains('\r'), "{text}");
        assert!(
            text.contains("Name: Eve  Owner: attacker (rep-x)\n"),
            "{text}"
        );
    }
}
