//! Webhook shapes of real lead sources → `LeadEvent`. Each adapter is pure: a parsed body and the
//! publisher's id in, an event or every field error (JSON pointers into the webhook body) out.
//! Field mappings and their rules: `RULES.md` § Adapters.

pub mod chat;
pub mod hubspot;
pub mod hubspot_reply;

use sha2::{Digest, Sha256};

use crate::api::FieldError;

/// A deterministic id from parts (a retried webhook maps to the same event id, hence is not written
/// twice): a UUID (v5-shaped) from SHA-256 of the parts.
pub(crate) fn derived_id(prefix: &str, parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0x1f]);
    }
    let d = h.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&d[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x50;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    format!("{prefix}{}", uuid::Uuid::from_bytes(bytes))
}

/// A lead id from an email address (lower-cased), so a person's submissions share one lead; the
/// address itself never appears in the id.
pub(crate) fn lead_id_from_email(email: &str) -> String {
    derived_id("lead-", &["email", &email.trim().to_lowercase()])
}

pub(crate) fn field_error(pointer: &str, reason: &str) -> FieldError {
    FieldError {
        pointer: pointer.to_owned(),
        reason: reason.to_owned(),
    }
}

/// The host of a URL-ish string (`https://www.acme.com/x` → `acme.com`), lower-cased, `www.` dropped.
pub(crate) fn host_of(url: &str) -> Option<String> {
    let rest = url.trim().split("://").last()?;
    let host = rest
        .split(['/', '?', '#', ':'])
        .next()?
        .trim()
        .to_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host).to_owned();
    (host.contains('.') && !host.contains(' ')).then_some(host)
}
