//! Building receipts.

use leadflow_events::{DeliveryChannel, DeliveryReceipt, DeliveryStatus, Timestamp};

use crate::packet::Handoff;

pub fn channel_label(c: DeliveryChannel) -> &'static str {
    match c {
        DeliveryChannel::Slack => "slack",
        DeliveryChannel::Crm => "crm",
        DeliveryChannel::Email => "email",
    }
}

pub fn status_label(s: DeliveryStatus) -> &'static str {
    match s {
        DeliveryStatus::Delivered => "delivered",
        DeliveryStatus::Failed => "failed",
        DeliveryStatus::Skipped => "skipped",
        DeliveryStatus::Retrying => "retrying",
        DeliveryStatus::FellBack => "fell_back",
        DeliveryStatus::Posting => "posting",
    }
}

/// A receipt; the id is deterministic per key, channel, status and attempt.
#[allow(clippy::too_many_arguments)]
pub fn receipt(
    h: &Handoff,
    channel: DeliveryChannel,
    status: DeliveryStatus,
    attempt: u32,
    external_id: Option<String>,
    error: Option<String>,
    now: Timestamp,
    remote_url: Option<String>,
) -> DeliveryReceipt {
    DeliveryReceipt {
        receipt_id: format!(
            "{}:{}:{}:{attempt}",
            h.idempotency_key,
            channel_label(channel),
            status_label(status)
        ),
        packet_id: h.packet_id.clone(),
        lead_id: h.lead_id.clone(),
        channel,
        status,
        attempts: i32::try_from(attempt).unwrap_or(i32::MAX),
        external_id,
        error,
        delivered_at: now,
        idempotency_key: Some(h.idempotency_key.clone()),
        fallback_for: Vec::new(),
        remote_url,
        latency_ms: Some((now.0 - h.created_at.0).max(0)),
    }
}
