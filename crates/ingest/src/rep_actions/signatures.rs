//! The signatures of Slack's and HubSpot's requests (RULES.md RA1, RA2): Slack's `v0` scheme
//! (`X-Slack-Signature: v0=hex(HMAC-SHA256(signing secret, "v0:" + X-Slack-Request-Timestamp +
//! ":" + body))`, timestamp in seconds) and HubSpot's v3 (`X-HubSpot-Signature-v3:
//! base64(HMAC-SHA256(client secret, method + URI + body + X-HubSpot-Request-Timestamp))`,
//! timestamp in milliseconds). Both within the tolerance (300 s) of the clock; compared in
//! constant time.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// Why a request is not authentic (401; the answer names none of it, the log does).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the endpoint has no secret configured")]
    NotConfigured,
    #[error("signature or timestamp header missing")]
    Missing,
    #[error("timestamp is not a number")]
    BadTimestamp,
    #[error("timestamp is {0} s from the clock (tolerance {1} s)")]
    Expired(i64, u64),
    #[error("signature is malformed")]
    Malformed,
    #[error("signature does not match")]
    Mismatch,
}

fn hmac(secret: &str, parts: &[&[u8]]) -> Vec<u8> {
    // HMAC takes a key of any length: this cannot fail
    let Ok(mut m) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return Vec::new();
    };
    for p in parts {
        m.update(p);
    }
    m.finalize().into_bytes().to_vec()
}

fn within(skew_secs: i64, tolerance_secs: u64) -> Result<(), SignatureError> {
    if skew_secs.unsigned_abs() > tolerance_secs {
        Err(SignatureError::Expired(skew_secs, tolerance_secs))
    } else {
        Ok(())
    }
}

/// A request's timestamp header (seconds for Slack, milliseconds for HubSpot).
fn timestamp(text: &str) -> Result<i64, SignatureError> {
    text.trim()
        .parse()
        .map_err(|_| SignatureError::BadTimestamp)
}

/// Compares the signature a request carries with the one computed for it, in constant time.
fn matches(expected: &[u8], given: &[u8]) -> Result<(), SignatureError> {
    if bool::from(expected.ct_eq(given)) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// The HMAC of Slack's `v0` base string `v0:<timestamp>:<body>`.
fn slack_mac(secret: &str, timestamp: i64, body: &[u8]) -> Vec<u8> {
    let ts = timestamp.to_string();
    hmac(secret, &[b"v0:", ts.as_bytes(), b":", body])
}

/// The HMAC of HubSpot's v3 source string: method, URI, body and timestamp (ms) concatenated.
fn hubspot_mac(secret: &str, method: &str, uri: &str, body: &[u8], timestamp_ms: i64) -> Vec<u8> {
    let ts = timestamp_ms.to_string();
    hmac(
        secret,
        &[method.as_bytes(), uri.as_bytes(), body, ts.as_bytes()],
    )
}

/// Slack's `v0` signature of `body` sent at `timestamp` (seconds).
pub fn slack_sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    format!("v0={}", hex::encode(slack_mac(secret, timestamp, body)))
}

/// Checks a Slack request.
pub fn verify_slack(
    secret: &str,
    timestamp_secs: &str,
    signature: &str,
    body: &[u8],
    now_secs: i64,
    tolerance_secs: u64,
) -> Result<(), SignatureError> {
    let ts = timestamp(timestamp_secs)?;
    within(now_secs.saturating_sub(ts), tolerance_secs)?;
    let given = signature
        .trim()
        .strip_prefix("v0=")
        .and_then(|h| hex::decode(h).ok())
        .filter(|b| b.len() == 32)
        .ok_or(SignatureError::Malformed)?;
    matches(&slack_mac(secret, ts, body), &given)
}

/// HubSpot's v3 signature of a request (`uri`: the full URL HubSpot called, query included).
pub fn hubspot_sign(
    secret: &str,
    method: &str,
    uri: &str,
    body: &[u8],
    timestamp_ms: i64,
) -> String {
    base64::engine::general_purpose::STANDARD.encode(hubspot_mac(
        secret,
        method,
        uri,
        body,
        timestamp_ms,
    ))
}

/// Checks a HubSpot v3 request.
#[allow(clippy::too_many_arguments)]
pub fn verify_hubspot(
    secret: &str,
    method: &str,
    uri: &str,
    body: &[u8],
    timestamp_ms: &str,
    signature: &str,
    now_ms: i64,
    tolerance_secs: u64,
) -> Result<(), SignatureError> {
    let ts = timestamp(timestamp_ms)?;
    within(now_ms.saturating_sub(ts) / 1000, tolerance_secs)?;
    let given = base64::engine::general_purpose::STANDARD
        .decode(signature.trim())
        .ok()
        .filter(|b| b.len() == 32)
        .ok_or(SignatureError::Malformed)?;
    matches(&hubspot_mac(secret, method, uri, body, ts), &given)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The example of Slack's "Verifying requests from Slack" page: its signing secret, timestamp,
    /// slash-command body and the signature the page shows.
    const SLACK_SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
    const SLACK_TS: &str = "1531420618";
    const SLACK_BODY: &str = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    const SLACK_SIG: &str = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

    #[test]
    fn slacks_documented_example_verifies_and_any_change_does_not() {
        let now = 1_531_420_618 + 10;
        assert_eq!(
            slack_sign(SLACK_SECRET, 1_531_420_618, SLACK_BODY.as_bytes()),
            SLACK_SIG
        );
        assert_eq!(
            verify_slack(
                SLACK_SECRET,
                SLACK_TS,
                SLACK_SIG,
                SLACK_BODY.as_bytes(),
                now,
                300
            ),
            Ok(())
        );
        let forged = SLACK_BODY.replace("roadrunner", "coyote");
        assert_eq!(
            verify_slack(
                SLACK_SECRET,
                SLACK_TS,
                SLACK_SIG,
                forged.as_bytes(),
                now,
                300
            ),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_slack(
                "another-secret",
                SLACK_TS,
                SLACK_SIG,
                SLACK_BODY.as_bytes(),
                now,
                300
            ),
            Err(SignatureError::Mismatch)
        );
        // the same signed request six minutes later: stale
        assert_eq!(
            verify_slack(
                SLACK_SECRET,
                SLACK_TS,
                SLACK_SIG,
                SLACK_BODY.as_bytes(),
                1_531_420_618 + 360,
                300
            ),
            Err(SignatureError::Expired(360, 300))
        );
        assert_eq!(
            verify_slack(
                SLACK_SECRET,
                SLACK_TS,
                "v0=zz",
                SLACK_BODY.as_bytes(),
                now,
                300
            ),
            Err(SignatureError::Malformed)
        );
    }

    #[test]
    fn hubspot_v3_matches_its_documented_construction() {
        // HubSpot's page gives the recipe (method + URI + body + timestamp, HMAC-SHA256 under the
        // client secret, base64) but no v3 example; this one was computed independently with
        // printf 'POSThttps://leadflow.example.com/v1/webhooks/hubspot-crm[{"eventId":1}]1764495000000' \
        //   | openssl dgst -sha256 -hmac yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy -binary | base64
        let secret = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy";
        let uri = "https://leadflow.example.com/v1/webhooks/hubspot-crm";
        let body = br#"[{"eventId":1}]"#;
        let sig = hubspot_sign(secret, "POST", uri, body, 1_764_495_000_000);
        assert_eq!(sig, HUBSPOT_SIG);
        let now = 1_764_495_000_000 + 2_000;
        assert_eq!(
            verify_hubspot(secret, "POST", uri, body, "1764495000000", &sig, now, 300),
            Ok(())
        );
        assert_eq!(
            verify_hubspot(
                secret,
                "POST",
                "https://evil.example/v1/webhooks/hubspot-crm",
                body,
                "1764495000000",
                &sig,
                now,
                300
            ),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_hubspot(
                secret,
                "POST",
                uri,
                body,
                "1764495000000",
                &sig,
                1_764_495_000_000 + 301_000,
                300
            ),
            Err(SignatureError::Expired(301, 300))
        );
    }

    const HUBSPOT_SIG: &str = "DlTICVjZZNfeRW9dV5HgAkl0Ij6dHJXHYqBn2DFc4HY=";
}
