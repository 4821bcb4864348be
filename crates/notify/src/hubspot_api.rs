//! The HubSpot CRM v3/v4 HTTP client notify writes through: one call at a time per window, `429`
//! and the `X-HubSpot-RateLimit-*` headers honoured, statuses mapped to channel errors (a 404 can be
//! asked for as "missing"), upserts by a unique property, default associations. The channel
//! (`hubspot.rs`) and the follow-ups of a reassignment (`hubspot_reassign.rs`) and of a withdrawal
//! notice (`notice.rs`) share it.

use std::sync::Mutex;
use std::time::Duration;

use leadflow_runtime::Secret;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::channel::{ChannelError, parse_retry_after, transport_error};

/// The unique custom property tasks and notes are upserted by.
pub const ID_PROPERTY: &str = "leadflow_idempotency_key";

pub struct HubspotApi {
    http: reqwest::Client,
    base: String,
    token: Secret,
    /// No request before this instant (rate-limit window exhausted).
    not_before: Mutex<Option<Instant>>,
    /// The longest a rate limit holds the next request (the caller's cap on `Retry-After`).
    max_hold: Duration,
}

impl HubspotApi {
    /// `max_hold`: the longest an exhausted window or a 429's `Retry-After` holds the next request
    /// (notify's `max_retry_after_ms`, nurture's 60 s); a longer wait asked for is cut to it.
    pub fn new(http: reqwest::Client, base: &str, token: Secret, max_hold: Duration) -> Self {
        Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
            token,
            not_before: Mutex::new(None),
            max_hold,
        }
    }

    async fn respect_rate_limit(&self) {
        let until = *self.not_before.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(until) = until {
            tokio::time::sleep_until(until).await;
        }
    }

    /// One call: waits out an exhausted window, maps statuses to channel errors.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, ChannelError> {
        self.call_or_missing(method, path, body)
            .await?
            .ok_or_else(|| {
                ChannelError::rejected(format!(
                    "hubspot {} answered 404 Not Found: OBJECT_NOT_FOUND",
                    path.split('?').next().unwrap_or(path)
                ))
            })
    }

    /// [`Self::call`], with a 404 (the object does not exist) as `Ok(None)`.
    pub async fn call_or_missing(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Option<Value>, ChannelError> {
        self.respect_rate_limit().await;
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(self.token.expose());
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| transport_error("hubspot", e))?;
        let status = resp.status();
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let interval = header("x-hubspot-ratelimit-interval-milliseconds")
            .and_then(|v| v.parse::<u64>().ok())
            .map(Duration::from_millis);
        let remaining = header("x-hubspot-ratelimit-remaining").and_then(|v| v.parse::<u64>().ok());
        let retry_after = parse_retry_after(header("retry-after").as_deref());
        if remaining == Some(0) || status.as_u16() == 429 {
            let wait = retry_after
                .or(interval)
                .unwrap_or(Duration::from_secs(1))
                .min(self.max_hold);
            *self.not_before.lock().unwrap_or_else(|e| e.into_inner()) =
                Some(Instant::now() + wait);
        }
        let text = resp.text().await.unwrap_or_default();
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let message = body["message"]
            .as_str()
            .unwrap_or(text.as_str())
            .chars()
            .take(200)
            .collect::<String>();
        match status.as_u16() {
            200..=299 => Ok(Some(body)),
            404 => Ok(None),
            429 => Err(ChannelError::RateLimited {
                reason: format!("hubspot 429: {message}"),
                retry_after: retry_after.or(interval).unwrap_or(Duration::from_secs(1)),
            }),
            500..=599 => Err(ChannelError::Unavailable {
                reason: format!("hubspot answered {status}"),
                retry_after,
            }),
            // The category, not the message: HubSpot quotes the rejected values (emails).
            _ => Err(ChannelError::rejected(format!(
                "hubspot {} answered {status}: {}",
                path.split('?').next().unwrap_or(path),
                body["category"].as_str().unwrap_or("error")
            ))),
        }
    }

    pub async fn upsert(
        &self,
        object: &str,
        id_property: &str,
        id: &str,
        properties: Value,
    ) -> Result<String, ChannelError> {
        let body =
            json!({"inputs": [{"idProperty": id_property, "id": id, "properties": properties}]});
        let reply = self
            .call(
                reqwest::Method::POST,
                &format!("/crm/v3/objects/{object}/batch/upsert"),
                Some(&body),
            )
            .await?;
        reply["results"][0]["id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| {
                ChannelError::unavailable(format!("hubspot {object} upsert returned no id"))
            })
    }

    /// A v4 default association (an idempotent PUT).
    pub async fn associate_to(
        &self,
        from: &str,
        from_id: &str,
        to: &str,
        to_id: &str,
    ) -> Result<(), ChannelError> {
        self.call(
            reqwest::Method::PUT,
            &format!("/crm/v4/objects/{from}/{from_id}/associations/default/{to}/{to_id}"),
            None,
        )
        .await
        .map(|_| ())
    }

    /// Completes the tasks whose unique `leadflow_idempotency_key` is in `task_keys` (an idempotent
    /// PATCH each); a task that does not exist (404) is skipped. Returns the ids of those completed.
    pub async fn complete_tasks(
        &self,
        task_keys: Vec<String>,
    ) -> Result<Vec<String>, ChannelError> {
        let body = json!({"properties": {"hs_task_status": "COMPLETED"}});
        let mut closed = Vec::new();
        for key in task_keys {
            let path = format!(
                "/crm/v3/objects/tasks/{}?idProperty={ID_PROPERTY}",
                path_segment(&key)
            );
            let reply = self
                .call_or_missing(reqwest::Method::PATCH, &path, Some(&body))
                .await?;
            if let Some(id) = reply.as_ref().and_then(|r| r["id"].as_str()) {
                closed.push(id.to_owned());
            }
        }
        Ok(closed)
    }

    /// Upserts the note `key` (`hs_timestamp` = `at`, owned by `owner` when known) and associates it
    /// to the contact and to `tasks`. Returns the note's id.
    pub async fn write_note(
        &self,
        key: &str,
        at: leadflow_events::Timestamp,
        body: String,
        owner: Option<&str>,
        contact_id: &str,
        tasks: &[String],
    ) -> Result<String, ChannelError> {
        let mut note = json!({"hs_timestamp": at.0.to_string(), "hs_note_body": body});
        if let Some(o) = owner {
            note["hubspot_owner_id"] = json!(o);
        }
        let note_id = self.upsert("notes", ID_PROPERTY, key, note).await?;
        self.associate_to("notes", &note_id, "contacts", contact_id)
            .await?;
        for task_id in tasks {
            self.associate_to("notes", &note_id, "tasks", task_id)
                .await?;
        }
        Ok(note_id)
    }
}

/// What a path segment keeps as it is: RFC 3986's unreserved characters; everything else is `%XX`.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes a unique property value for a URL path segment.
pub(crate) fn path_segment(value: &str) -> String {
    utf8_percent_encode(value, PATH_SEGMENT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use leadflow_sandbox::{FaultMode, FaultSpec, Sandbox, SandboxConfig, Service};

    #[tokio::test]
    async fn a_retry_after_beyond_the_cap_holds_the_next_call_only_for_the_cap() {
        let sb = Sandbox::start(SandboxConfig::default()).await.unwrap();
        sb.set_fault(
            Service::Hubspot,
            FaultSpec::new(FaultMode::RateLimit)
                .count(1)
                .retry_after(65),
        );
        let cap = Duration::from_millis(300);
        let api = HubspotApi::new(
            reqwest::Client::new(),
            &sb.hubspot_api_url(),
            Secret::new("pat-sandbox-token"),
            cap,
        );
        let upsert = || {
            api.upsert(
                "contacts",
                "email",
                "ada@acme.example",
                json!({"email": "ada@acme.example"}),
            )
        };
        let first = upsert().await;
        assert!(
            matches!(&first, Err(ChannelError::RateLimited { retry_after, .. }) if *retry_after == Duration::from_secs(65)),
            "{first:?}"
        );
        let started = Instant::now();
        let second = upsert().await;
        let held = started.elapsed();
        assert!(second.is_ok(), "{second:?}");
        assert!(held >= cap, "the rate limit was not respected: {held:?}");
        assert!(
            held < Duration::from_secs(30),
            "the 65 s Retry-After held the client past its cap: {held:?}"
        );
    }

    #[test]
    fn path_segments_encode_as_they_always_did() {
        // expected values computed with the hand-written encoder this one replaced
        let cases = [
            ("a|0:task", "a%7C0%3Atask"),
            ("notify:k 1/x", "notify%3Ak%201%2Fx"),
            (
                "lead 42 & co=1#top+%",
                "lead%2042%20%26%20co%3D1%23top%2B%25",
            ),
            ("Zoë-Łódź_~.", "Zo%C3%AB-%C5%81%C3%B3d%C5%BA_~."),
            ("", ""),
            (
                "\u{7f}\t\n\"'<>?[]@!$()*,;",
                "%7F%09%0A%22%27%3C%3E%3F%5B%5D%40%21%24%28%29%2A%2C%3B",
            ),
        ];
        for (raw, want) in cases {
            assert_eq!(path_segment(raw), want, "{raw:?}");
        }
    }
}
