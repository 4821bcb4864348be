//! Who is posting: API keys (stored as SHA-256 hashes) and HMAC-SHA256 signed webhooks
//! (`v0=hex(HMAC(secret, "v0:" + timestamp + ":" + body))`, the scheme of Slack's signing secret).
//! Pure: the clock is passed in. Rules: `RULES.md` § Authentication.

use std::collections::{HashMap, HashSet};

use hmac::{Hmac, Mac};
use leadflow_runtime::Secret;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::PublisherConfig;

/// Why a request is not authenticated (401) or not allowed (403).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error(
        "missing credentials: send Authorization: Bearer <api key>, X-Api-Key, or a signed webhook"
    )]
    Missing,
    #[error("unknown API key")]
    UnknownKey,
    #[error("unknown publisher {0:?}")]
    UnknownPublisher(String),
    #[error("publisher {0:?} has no webhook secret: sign nothing, use an API key")]
    NoWebhookSecret(String),
    #[error("X-Leadflow-Timestamp must be Unix seconds")]
    BadTimestamp,
    #[error("signature timestamp is {0} s away from now (tolerance {1} s): expired or replayed")]
    Expired(i64, u64),
    #[error("X-Leadflow-Signature must be v0=<64 hex characters>")]
    MalformedSignature,
    #[error("signature does not match the body")]
    BadSignature,
    /// The API key belongs to another publisher than the one the request names (403).
    #[error("this API key belongs to publisher {key}, not {named}")]
    WrongPublisher { key: String, named: String },
    /// The publisher is not the CRM that may post replies for leadflow's lead ids (403, P6).
    #[error("publisher {0:?} may not post CRM replies (crm_replies is not set)")]
    NotCrm(String),
}

impl AuthError {
    /// 403 for a valid identity asking for someone else's publisher; 401 for everything else.
    pub fn status(&self) -> u16 {
        match self {
            AuthError::WrongPublisher { .. } | AuthError::NotCrm(_) => 403,
            _ => 401,
        }
    }
}

/// The configured publishers, indexed by key hash and by id.
#[derive(Debug, Default)]
pub struct Publishers {
    by_key_hash: HashMap<[u8; 32], String>,
    secrets: HashMap<String, Option<Secret>>,
    crm_replies: HashSet<String>,
    tolerance_secs: u64,
}

/// The SHA-256 of an API key (what the configuration stores, hex encoded).
pub fn hash_api_key(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// `v0=<hex>` for `body` sent at `timestamp` (Unix seconds) under `secret`; publishers compute the
/// same (see `RULES.md`).
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    format!("v0={}", hex::encode(mac(secret, timestamp, body)))
}

fn mac(secret: &str, timestamp: i64, body: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length: new_from_slice cannot fail for Hmac<Sha256>
    let mut m = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => return Vec::new(),
    };
    m.update(b"v0:");
    m.update(timestamp.to_string().as_bytes());
    m.update(b":");
    m.update(body);
    m.finalize().into_bytes().to_vec()
}

impl Publishers {
    /// Indexes the configured publishers (validated by `IngestSettings::validate`).
    pub fn new(config: &[PublisherConfig], tolerance_secs: u64) -> Self {
        let mut by_key_hash = HashMap::new();
        let mut secrets = HashMap::new();
        for p in config {
            for h in &p.api_key_sha256 {
                let mut bytes = [0u8; 32];
                if hex::decode_to_slice(h, &mut bytes).is_ok() {
                    by_key_hash.insert(bytes, p.id.clone());
                }
            }
            secrets.insert(p.id.clone(), p.webhook_secret.clone());
        }
        Self {
            by_key_hash,
            secrets,
            crm_replies: config
                .iter()
                .filter(|p| p.crm_replies)
                .map(|p| p.id.clone())
                .collect(),
            tolerance_secs,
        }
    }

    /// `true` when `id` may post contacts' replies naming leadflow's own lead ids (A3, P6).
    pub fn may_post_replies(&self, id: &str) -> bool {
        self.crm_replies.contains(id)
    }

    /// Ids of every configured publisher (the bounded set of metrics labels).
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.secrets.keys().map(String::as_str)
    }

    /// `true` when `id` is a configured publisher.
    pub fn contains(&self, id: &str) -> bool {
        self.secrets.contains_key(id)
    }

    /// The publisher owning `key`. The lookup is by SHA-256 of the key: the map never holds a key,
    /// and comparing hashes leaks nothing usable about one.
    pub fn by_api_key(&self, key: &str) -> Result<&str, AuthError> {
        self.by_key_hash
            .get(&hash_api_key(key))
            .map(String::as_str)
            .ok_or(AuthError::UnknownKey)
    }

    /// Checks a signed webhook of publisher `id`: `timestamp` (Unix seconds, within the tolerance of
    /// `now_secs`) and `signature` (`v0=<hex>`) over `body`.
    pub fn verify_signature(
        &self,
        id: &str,
        timestamp: &str,
        signature: &str,
        body: &[u8],
        now_secs: i64,
    ) -> Result<(), AuthError> {
        let secret = match self.secrets.get(id) {
            Some(Some(s)) => s,
            known => {
                // the same work as a wrong signature: the time taken tells no publisher ids (P5)
                let _ = mac("", 0, body);
                return Err(match known {
                    None => AuthError::UnknownPublisher(id.to_owned()),
                    Some(_) => AuthError::NoWebhookSecret(id.to_owned()),
                });
            }
        };
        let ts: i64 = timestamp
            .trim()
            .parse()
            .map_err(|_| AuthError::BadTimestamp)?;
        let skew = now_secs.saturating_sub(ts);
        if skew.unsigned_abs() > self.tolerance_secs {
            return Err(AuthError::Expired(skew, self.tolerance_secs));
        }
        let given = signature
            .trim()
            .strip_prefix("v0=")
            .and_then(|h| hex::decode(h).ok())
            .filter(|b| b.len() == 32)
            .ok_or(AuthError::MalformedSignature)?;
        let expected = mac(secret.expose(), ts, body);
        if bool::from(expected.ct_eq(&given)) {
            Ok(())
        } else {
            Err(AuthError::BadSignature)
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn publishers() -> Publishers {
        Publishers::new(
            &[
                PublisherConfig {
                    id: "forms".into(),
                    api_key_sha256: vec![hex::encode(hash_api_key("k-forms"))],
                    webhook_secret: Some(Secret::new("s3cret")),
                    crm_replies: false,
                },
                PublisherConfig {
                    id: "crm".into(),
                    api_key_sha256: vec![hex::encode(hash_api_key("k-crm"))],
                    webhook_secret: None,
                    crm_replies: false,
                },
            ],
            300,
        )
    }

    #[test]
    fn api_keys_map_to_their_publisher() {
        let p = publishers();
        assert_eq!(p.by_api_key("k-forms").unwrap(), "forms");
        assert_eq!(p.by_api_key("k-crm").unwrap(), "crm");
        assert_eq!(p.by_api_key("k-other"), Err(AuthError::UnknownKey));
    }

    #[test]
    fn slack_style_signatures_verify_within_the_tolerance() {
        let p = publishers();
        let body = br#"{"a":1}"#;
        let now = 1_764_480_000;
        let sig = sign("s3cret", now - 10, body);
        let ts = (now - 10).to_string();
        assert_eq!(p.verify_signature("forms", &ts, &sig, body, now), Ok(()));
        // another body
        assert_eq!(
            p.verify_signature("forms", &ts, &sig, br#"{"a":2}"#, now),
            Err(AuthError::BadSignature)
        );
        // another secret
        let forged = sign("guess", now, body);
        assert_eq!(
            p.verify_signature("forms", &now.to_string(), &forged, body, now),
            Err(AuthError::BadSignature)
        );
        // expired: 301 s old
        let old = sign("s3cret", now - 301, body);
        assert!(matches!(
            p.verify_signature("forms", &(now - 301).to_string(), &old, body, now),
            Err(AuthError::Expired(301, 300))
        ));
        assert_eq!(
            p.verify_signature("forms", &ts, "v1=abc", body, now),
            Err(AuthError::MalformedSignature)
        );
        assert_eq!(
            p.verify_signature("crm", &ts, &sig, body, now),
            Err(AuthError::NoWebhookSecret("crm".into()))
        );
        assert_eq!(
            p.verify_signature("nobody", &ts, &sig, body, now),
            Err(AuthError::UnknownPublisher("nobody".into()))
        );
    }

    #[test]
    fn the_signature_matches_slacks_documented_construction() {
        // v0:<ts>:<body> under HMAC-SHA256, hex; computed independently with
        // `printf 'v0:1531420618:hello' | openssl dgst -sha256 -hmac key`
        assert_eq!(
            sign("key", 1_531_420_618, b"hello"),
            "v0=f319b162e8d5779115c9c7def4ba3320d122a771201a636b5c22dc4595269d5c"
        );
    }
}
