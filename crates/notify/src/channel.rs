//! The `Channel` trait every delivery target implements (Slack, HubSpot, the email fallback; a
//! Salesforce client would be one more implementation), and how an attempt can fail.

use std::time::Duration;

use futures::future::BoxFuture;
use leadflow_events::DeliveryChannel;
use tokio::sync::watch;

use crate::packet::Handoff;

/// What a channel returns when it accepted the handoff.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivered {
    /// The channel's id of what it created (Slack `ts`, CRM task id, SMTP Message-ID).
    pub external_id: String,
    /// A link to it, when there is one (the CRM contact record).
    pub url: Option<String>,
}

/// Why one attempt did not deliver.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChannelError {
    /// Down, timing out, 5xx, connection refused: retry with backoff; counts against the breaker.
    #[error("unavailable: {reason}")]
    Unavailable {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// 429 / rate-limit body: the service is up; wait `retry_after` before the next call.
    #[error("rate limited: {reason}")]
    RateLimited {
        reason: String,
        retry_after: Duration,
    },
    /// Will never work for this packet (bad address, unknown channel, 4xx other than 429).
    #[error("rejected: {reason}")]
    Rejected { reason: String },
}

impl ChannelError {
    pub fn unavailable(reason: impl Into<String>) -> Self {
        ChannelError::Unavailable {
            reason: reason.into(),
            retry_after: None,
        }
    }

    pub fn rejected(reason: impl Into<String>) -> Self {
        ChannelError::Rejected {
            reason: reason.into(),
        }
    }

    /// Metric label.
    pub fn kind(&self) -> &'static str {
        match self {
            ChannelError::Unavailable { .. } => "unavailable",
            ChannelError::RateLimited { .. } => "rate_limited",
            ChannelError::Rejected { .. } => "rejected",
        }
    }
}

/// Shared between the channels of one packet: the CRM publishes the contact's record URL as soon as
/// the contact exists, so the Slack message can link to it.
pub type CrmLink = watch::Sender<Link>;

/// The CRM record link as the Slack message sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Link {
    /// The CRM is still writing: worth waiting a moment.
    Pending,
    Ready(String),
    /// No link is coming (no CRM channel, or it failed this attempt).
    None,
}

/// Context of one attempt.
pub struct Attempt<'a> {
    /// 1-based attempt number for this packet and channel.
    pub number: u32,
    pub crm_link: &'a CrmLink,
    /// For the email fallback: the primary channels that failed, and why.
    pub failures: &'a [(DeliveryChannel, String)],
}

/// A delivery target.
pub trait Channel: Send + Sync + 'static {
    /// Which receipt channel it reports as.
    fn kind(&self) -> DeliveryChannel;

    /// Delivers one handoff. Must be idempotent per `handoff.idempotency_key` where the remote API
    /// allows it (CRM upserts); must return within the caller's attempt timeout or be cancelled.
    fn deliver<'a>(
        &'a self,
        handoff: &'a Handoff,
        attempt: &'a Attempt<'a>,
    ) -> BoxFuture<'a, Result<Delivered, ChannelError>>;

    /// Whether a call creates something the remote API cannot deduplicate (Slack `chat.postMessage`
    /// has no idempotency key) *and* the channel can look for it afterwards ([`Channel::find`]):
    /// notify then writes a durable intent before every call (RULES.md §3a). False by default.
    fn journaled(&self) -> bool {
        false
    }

    /// Looks for what an earlier call for this handoff created at or after `since` (an intent
    /// without its outcome: a crash, or an answer lost to a timeout). `Ok(None)`: not there, the
    /// caller delivers again. Errors are classified like [`Channel::deliver`]'s.
    fn find<'a>(
        &'a self,
        _handoff: &'a Handoff,
        _since: leadflow_events::Timestamp,
    ) -> BoxFuture<'a, Result<Option<Delivered>, ChannelError>> {
        Box::pin(async { Ok(None) })
    }
}

/// `Retry-After` as seconds (HTTP-date values are treated as one second).
pub fn parse_retry_after(value: Option<&str>) -> Option<Duration> {
    let v = value?.trim();
    match v.parse::<f64>() {
        Ok(s) if s.is_finite() && s >= 0.0 => Some(Duration::from_secs_f64(s.min(3_600.0))),
        _ => Some(Duration::from_secs(1)),
    }
}

/// Maps a reqwest transport error (connect, timeout, body) to a retryable failure.
pub fn transport_error(service: &str, e: reqwest::Error) -> ChannelError {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    // Without the URL: a webhook URL is a secret, and query strings may carry an email address.
    let e = e.without_url();
    ChannelError::unavailable(format!("{service} {what}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_parses_seconds() {
        assert_eq!(parse_retry_after(Some("3")), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after(Some("Wed, 21 Oct 2015 07:28:00 GMT")),
            Some(Duration::from_secs(1))
        );
        assert_eq!(parse_retry_after(None), None);
    }
}
