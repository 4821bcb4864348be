//! `[stage]` settings of the notify service: delivery rules, and one table per channel.
//! `deploy/config/notify.toml` documents every key with its default; `RULES.md` explains them.

use std::collections::BTreeMap;
use std::time::Duration;

use leadflow_runtime::{Secret, StageSettings};
use serde::{Deserialize, Serialize};

/// The Kafka consumer's `max.poll.interval.ms` default; one packet is never held longer.
pub const POLL_INTERVAL_MS: u64 = 300_000;
/// Budget of the email fallback when it starts late (after a primary gave up or was rejected).
pub const EMAIL_BUDGET_MS: u64 = 30_000;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotifySettings {
    /// A primary channel unavailable this long (for this packet, or already before it) → email.
    pub fallback_after_ms: u64,
    /// A primary channel still unavailable after this long → FAILED receipt + exception.
    pub give_up_after_ms: u64,
    /// One HTTP/SMTP attempt's timeout.
    pub attempt_timeout_ms: u64,
    /// Backoff between attempts: initial, doubled each time, capped, ±`jitter` (fraction).
    pub initial_backoff_ms: u64,
    pub max_backoff_ms: u64,
    pub jitter: f64,
    /// A `Retry-After` longer than this is capped (the packet's give-up deadline still applies).
    pub max_retry_after_ms: u64,
    /// Consecutive unavailable answers that open a channel's circuit breaker.
    pub breaker_failures: u32,
    /// How long an open breaker waits before letting one probe through.
    pub breaker_open_ms: u64,
    /// How long the Slack message waits for the CRM record link before posting without it.
    pub crm_link_wait_ms: u64,
    /// Packets of one partition delivered at once (outputs and offsets stay in partition order).
    pub partition_concurrency: usize,
    /// Receipts replayed at start to skip what was already delivered.
    pub ledger_window_hours: u64,
    /// Owner of exception records when the packet names no team.
    pub exceptions_owner: String,
    /// Due time of an exception when the packet has no SLA deadline still ahead.
    pub exceptions_due_minutes: u64,
    pub slack: SlackSettings,
    pub hubspot: HubspotSettings,
    pub email: EmailSettings,
}

impl Default for NotifySettings {
    fn default() -> Self {
        Self {
            fallback_after_ms: 60_000,
            give_up_after_ms: 180_000,
            attempt_timeout_ms: 10_000,
            initial_backoff_ms: 500,
            max_backoff_ms: 30_000,
            jitter: 0.2,
            max_retry_after_ms: 60_000,
            breaker_failures: 5,
            breaker_open_ms: 15_000,
            crm_link_wait_ms: 1_500,
            partition_concurrency: 16,
            ledger_window_hours: 168,
            exceptions_owner: "sales-ops".into(),
            exceptions_due_minutes: 60,
            slack: SlackSettings::default(),
            hubspot: HubspotSettings::default(),
            email: EmailSettings::default(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SlackSettings {
    pub enabled: bool,
    /// Web API base (`{api_url}/chat.postMessage`).
    pub api_url: String,
    /// Bot token (`xoxb-...`, scope `chat:write`). Secret: env/file.
    pub bot_token: Option<Secret>,
    /// Incoming-webhook URL, used only when no bot token is configured. Secret: env/file.
    pub webhook_url: Option<Secret>,
    /// Channel of a team without an entry in `channels`.
    pub default_channel: String,
    /// Channel per team.
    pub channels: BTreeMap<String, String>,
}

impl Default for SlackSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            api_url: "https://slack.com/api".into(),
            bot_token: None,
            webhook_url: None,
            default_channel: "#new-leads".into(),
            channels: BTreeMap::new(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HubspotSettings {
    pub enabled: bool,
    pub api_url: String,
    /// Private-app access token (scopes: crm.objects.contacts.write, crm.objects.owners.read).
    pub token: Option<Secret>,
    /// Record link shown in Slack; `{contact_id}` is replaced.
    pub record_url: String,
    /// Rep id → HubSpot owner id, for reps whose packet carries no `crm_owner_id`.
    pub owners: BTreeMap<String, String>,
    /// Look the owner up by the rep's email (`/crm/v3/owners?email=`) when neither gives it.
    pub lookup_owner_by_email: bool,
}

impl Default for HubspotSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            api_url: "https://api.hubapi.com".into(),
            token: None,
            record_url: "https://app.hubspot.com/contacts/0/record/0-1/{contact_id}".into(),
            owners: BTreeMap::new(),
            lookup_owner_by_email: true,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS (required).
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No TLS at all: local relays and the sandbox only.
    None,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmailSettings {
    pub enabled: bool,
    pub smtp_host: String,
    pub smtp_port: u16,
    pub tls: SmtpTls,
    pub username: Option<String>,
    /// Secret: env/file.
    pub password: Option<Secret>,
    pub from: String,
    /// Inbox of a team without an entry in `team_inboxes`.
    pub default_inbox: String,
    pub team_inboxes: BTreeMap<String, String>,
}

impl Default for EmailSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            smtp_host: "localhost".into(),
            smtp_port: 587,
            tls: SmtpTls::Starttls,
            username: None,
            password: None,
            from: "leadflow <leadflow@example.com>".into(),
            default_inbox: "sales@example.com".into(),
            team_inboxes: BTreeMap::new(),
        }
    }
}

fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

impl NotifySettings {
    pub fn fallback_after(&self) -> Duration {
        ms(self.fallback_after_ms)
    }
    pub fn give_up_after(&self) -> Duration {
        ms(self.give_up_after_ms)
    }
    pub fn attempt_timeout(&self) -> Duration {
        ms(self.attempt_timeout_ms)
    }
}

impl StageSettings for NotifySettings {
    fn validate(&self) -> Result<(), String> {
        if !self.slack.enabled && !self.hubspot.enabled {
            return Err("slack.enabled and hubspot.enabled are both false: notify needs at least one primary channel".into());
        }
        if self.slack.enabled
            && self.slack.bot_token.as_ref().is_none_or(Secret::is_empty)
            && self.slack.webhook_url.as_ref().is_none_or(Secret::is_empty)
        {
            return Err("slack is enabled but neither slack.bot_token nor slack.webhook_url is set (LEADFLOW_STAGE__SLACK__BOT_TOKEN, or { env = \"VAR\" } / { file = \"path\" } in the file); set one or slack.enabled = false".into());
        }
        if self.hubspot.enabled && self.hubspot.token.as_ref().is_none_or(Secret::is_empty) {
            return Err("hubspot is enabled but hubspot.token is not set (LEADFLOW_STAGE__HUBSPOT__TOKEN, or { env = \"VAR\" } / { file = \"path\" }); set it or hubspot.enabled = false".into());
        }
        if self.email.enabled {
            if self.email.smtp_host.is_empty() {
                return Err("email.smtp_host is empty".into());
            }
            if self.email.username.is_some() != self.email.password.is_some() {
                return Err("email.username and email.password go together".into());
            }
            if !self.email.default_inbox.contains('@') {
                return Err(format!(
                    "email.default_inbox {:?} is not an address",
                    self.email.default_inbox
                ));
            }
        }
        if self.fallback_after_ms > self.give_up_after_ms {
            return Err(format!(
                "fallback_after_ms ({}) must not exceed give_up_after_ms ({})",
                self.fallback_after_ms, self.give_up_after_ms
            ));
        }
        if self.give_up_after_ms + EMAIL_BUDGET_MS >= POLL_INTERVAL_MS {
            return Err(format!(
                "give_up_after_ms ({}) + the email budget ({EMAIL_BUDGET_MS}) must stay below the consumer's max.poll.interval.ms ({POLL_INTERVAL_MS})",
                self.give_up_after_ms
            ));
        }
        if self.initial_backoff_ms == 0 || self.initial_backoff_ms > self.max_backoff_ms {
            return Err("initial_backoff_ms must be > 0 and <= max_backoff_ms".into());
        }
        if !(0.0..=1.0).contains(&self.jitter) {
            return Err(format!(
                "jitter must be between 0 and 1, got {}",
                self.jitter
            ));
        }
        if self.breaker_failures == 0 {
            return Err("breaker_failures must be at least 1".into());
        }
        if self.attempt_timeout_ms == 0 {
            return Err("attempt_timeout_ms must be > 0".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn configured() -> NotifySettings {
        let mut s = NotifySettings::default();
        s.slack.bot_token = Some(Secret::new("xoxb-1"));
        s.hubspot.token = Some(Secret::new("pat-1"));
        s
    }

    #[test]
    fn refuses_to_start_without_the_configured_channels() {
        let err = NotifySettings::default().validate().unwrap_err();
        assert!(err.contains("slack.bot_token"), "{err}");
        let mut s = configured();
        s.hubspot.token = None;
        assert!(s.validate().unwrap_err().contains("hubspot.token"));
        let mut s = configured();
        s.slack.bot_token = None;
        s.slack.webhook_url = Some(Secret::new("https://hooks.example/x"));
        assert_eq!(s.validate(), Ok(()));
        assert_eq!(configured().validate(), Ok(()));
    }

    #[test]
    fn rules_are_checked() {
        let mut s = configured();
        s.fallback_after_ms = s.give_up_after_ms + 1;
        assert!(s.validate().unwrap_err().contains("fallback_after_ms"));
        let mut s = configured();
        s.give_up_after_ms = 290_000;
        assert!(s.validate().unwrap_err().contains("max.poll.interval.ms"));
    }

    #[test]
    fn secrets_never_show_in_debug() {
        let s = configured();
        let dbg = format!("{s:?}");
        assert!(!dbg.contains("xoxb-1") && !dbg.contains("pat-1"), "{dbg}");
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let r: Result<NotifySettings, _> =
            serde_json::from_value(serde_json::json!({ "slack": { "token": "x" } }));
        assert!(r.is_err());
    }
}
