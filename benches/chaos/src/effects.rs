//! The Slack/CRM stand-ins (`leadflow-sandbox`): faults during the run, external effects after it.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context, Result};
use serde_json::{Value, json};

/// Duplicate external effects, from what the stand-ins hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Effects {
    pub slack_posts: usize,
    /// Posts whose idempotency key was already posted (a rep pinged twice for one handoff).
    pub slack_duplicate_posts: usize,
    /// Of those, direct messages (`channel_kind` "dm" in the post's metadata).
    pub slack_duplicate_dms: usize,
    /// `conversations.history` calls Slack answered: notify looking for a post of an intent
    /// without its outcome before posting again (notify RULES.md §3a).
    pub slack_lookups: usize,
    pub crm_tasks: usize,
    /// Tasks whose idempotency key already had a task (the CRM upserts by key, so 0 by design).
    pub crm_duplicate_tasks: usize,
    /// Upserts that rewrote an existing task (harmless: same key, same task).
    pub crm_task_rewrites: usize,
    pub requests_failed_by_faults: usize,
}

pub struct Sandbox {
    base: String,
    http: reqwest::Client,
}

impl Sandbox {
    pub fn new(base: String) -> Self {
        Self {
            base,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
        }
    }

    /// Tells `service` (slack, hubspot, smtp) to answer with `mode` (down = 503, error = 500,
    /// rate_limit = 429) for `for_ms`.
    pub async fn fault(&self, service: &str, mode: &str, for_ms: u64) -> Result<()> {
        self.http
            .post(format!("{}/_sandbox/faults/{service}", self.base))
            .json(&json!({"mode": mode, "for_ms": for_ms}))
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .with_context(|| format!("setting a {mode} fault on the {service} stand-in"))?;
        Ok(())
    }

    /// The effects; the stand-ins' full state is also written to `save` (JSON) for a closer look.
    pub async fn effects(&self, save: &std::path::Path) -> Result<Effects> {
        let state: Value = self
            .http
            .get(format!("{}/_sandbox/state", self.base))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await
            .context("sandbox state")?;
        let requests: Value = self
            .http
            .get(format!("{}/_sandbox/requests", self.base))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await
            .context("sandbox requests")?;
        let _ = std::fs::write(save, serde_json::to_vec_pretty(&state).unwrap_or_default());
        Ok(count(&state, &requests))
    }
}

/// Counts effects in the stand-ins' state (`GET /_sandbox/state`) and requests.
pub fn count(state: &Value, requests: &Value) -> Effects {
    let mut e = Effects::default();
    let mut posts: BTreeMap<String, (usize, bool)> = BTreeMap::new();
    for m in state["slack"].as_array().into_iter().flatten() {
        e.slack_posts += 1;
        let key = m["metadata"]["event_payload"]["idempotency_key"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| format!("text:{}", m["text"].as_str().unwrap_or_default()));
        let dm = m["metadata"]["event_payload"]["channel_kind"].as_str() == Some("dm");
        let entry = posts.entry(key).or_default();
        entry.0 += 1;
        entry.1 |= dm;
    }
    e.slack_duplicate_posts = posts.values().map(|(n, _)| n - 1).sum();
    e.slack_duplicate_dms = posts
        .values()
        .filter(|(_, dm)| *dm)
        .map(|(n, _)| n - 1)
        .sum();
    let mut tasks: BTreeMap<String, usize> = BTreeMap::new();
    for o in state["crm"].as_array().into_iter().flatten() {
        if o["object_type"].as_str() != Some("tasks") {
            continue;
        }
        e.crm_tasks += 1;
        let key = o["properties"]["leadflow_idempotency_key"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| format!("id:{}", o["id"]));
        *tasks.entry(key).or_default() += 1;
        e.crm_task_rewrites += o["writes"].as_u64().unwrap_or(1).saturating_sub(1) as usize;
    }
    e.crm_duplicate_tasks = tasks.values().map(|n| n - 1).sum();
    e.slack_lookups = requests
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["path"] == "/api/conversations.history" && r["fault"].is_null())
        .count();
    e.requests_failed_by_faults = requests
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| !r["fault"].is_null())
        .count();
    e
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn counts_repeated_slack_keys_and_crm_task_keys() {
        let state = json!({
            "slack": [
                {"text": "a", "metadata": {"event_payload": {"idempotency_key": "k1"}}},
                {"text": "a", "metadata": {"event_payload": {"idempotency_key": "k1"}}},
                {"text": "b", "metadata": {"event_payload": {"idempotency_key": "k2"}}},
                {"text": "d", "metadata": {"event_payload": {"idempotency_key": "k2:dm", "channel_kind": "dm"}}},
                {"text": "d", "metadata": {"event_payload": {"idempotency_key": "k2:dm", "channel_kind": "dm"}}},
            ],
            "crm": [
                {"id": "1", "object_type": "tasks", "writes": 3,
                 "properties": {"leadflow_idempotency_key": "k1:task"}},
                {"id": "2", "object_type": "tasks", "writes": 1,
                 "properties": {"leadflow_idempotency_key": "k2:task"}},
                {"id": "3", "object_type": "tasks", "writes": 1,
                 "properties": {"leadflow_idempotency_key": "k2:task"}},
                {"id": "4", "object_type": "contacts", "writes": 5, "properties": {}},
            ],
        });
        let requests = json!([
            {"fault": "down"},
            {"fault": null},
            {"fault": "error"},
            {"path": "/api/conversations.history", "fault": null},
            {"path": "/api/conversations.history", "fault": "error"},
        ]);
        let e = count(&state, &requests);
        assert_eq!(e.slack_posts, 5);
        assert_eq!(e.slack_duplicate_posts, 2);
        assert_eq!(e.slack_duplicate_dms, 1);
        assert_eq!(e.slack_lookups, 1);
        assert_eq!(e.crm_tasks, 3);
        assert_eq!(e.crm_duplicate_tasks, 1);
        assert_eq!(e.crm_task_rewrites, 2);
        assert_eq!(e.requests_failed_by_faults, 3);
    }
}
