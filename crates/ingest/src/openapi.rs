//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]`s and the `api.rs` /
//! adapter types; served at `/openapi.json` and used by the validator.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::adapters::{chat, hubspot, hubspot_reply};
use crate::api;
use crate::handlers;

struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A publisher's API key: `Authorization: Bearer <key>`"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "signature",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Leadflow-Signature",
                "Webhook routes: `X-Leadflow-Signature: v0=<hex>`, the lower-case hex HMAC-SHA256 of `v0:<timestamp>:<raw body>` under the publisher's webhook secret, with `X-Leadflow-Timestamp: <Unix seconds>` (at most 300 s from the server's clock; the scheme of Slack's signing secret). A missing, malformed, wrong or expired signature is answered 401. Signature headers that are \
present must verify even when an API key is sent too (and both must name the same publisher).",
            ))),
        );
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Api-Key",
                "A publisher's API key",
            ))),
        );
    }
}

/// The ingest API.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "leadflow ingest",
        description = "The HTTP front door of leadflow: publishers post lead events (or HubSpot form \
submissions, contacts' email replies and chat transcripts) and get 202 once the broker acknowledged them on leads.raw. \
Authentication: a publisher's API key (`Authorization: Bearer` or `X-Api-Key`) or, on the webhook \
routes, an HMAC-SHA256 signature (`X-Leadflow-Timestamp`, `X-Leadflow-Signature: v0=hex(HMAC(secret, \
\"v0:\" + timestamp + \":\" + body))`, timestamp within 300 s). Batches are all or nothing unless \
`?per_item=true`. Retries: send the same `Idempotency-Key` (or the same event id) and get the original \
answer without a second record. Rules and numbers: crates/ingest/RULES.md."
    ),
    paths(
        handlers::post_lead,
        handlers::post_batch,
        handlers::hubspot_webhook,
        handlers::hubspot_reply_webhook,
        handlers::chat_webhook,
    ),
    components(schemas(
        api::LeadIn,
        api::BatchIn,
        api::Accepted,
        api::Problem,
        api::FieldError,
        api::BatchResults,
        api::ItemResult,
        hubspot::HubSpotFormSubmission,
        hubspot_reply::HubSpotContactReply,
        chat::ChatTranscript,
    )),
    modifiers(&Security),
    tags(
        (name = "leads", description = "Lead events in the contract's JSON shape"),
        (name = "webhooks", description = "Webhook shapes of lead sources, mapped to lead events"),
    )
)]
pub struct ApiDoc;

/// The document as JSON.
pub fn document() -> serde_json::Value {
    serde_json::to_value(ApiDoc::openapi()).unwrap_or_default()
}
