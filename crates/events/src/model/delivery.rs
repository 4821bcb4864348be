//! `schemas/delivery_receipt.avsc`: one channel's delivery result on `handoff.deliveries`.

use serde::{Deserialize, Serialize};

use crate::event::impl_event;
use crate::time::Timestamp;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeliveryReceipt {
    pub receipt_id: String,
    pub packet_id: String,
    pub lead_id: String,
    pub channel: DeliveryChannel,
    pub status: DeliveryStatus,
    pub attempts: i32,
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
    pub delivered_at: Timestamp,
    #[serde(default)]
    pub idempotency_key: Option<String>,
    #[serde(default)]
    pub fallback_for: Vec<DeliveryChannel>,
    #[serde(default)]
    pub remote_url: Option<String>,
    #[serde(default)]
    pub latency_ms: Option<i64>,
}

impl_event!(DeliveryReceipt, lead_id = lead_id);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DeliveryChannel {
    Slack,
    Crm,
    Email,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DeliveryStatus {
    Delivered,
    Failed,
    Skipped,
    Retrying,
    FellBack,
    /// v3: the intent written before a call that has no idempotency key of its own (Slack).
    Posting,
}
