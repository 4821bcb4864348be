//! Both webhook adapters (HubSpot form submissions, chat transcripts; the first byte picks one): a
//! body that passes the adapter's schema deserializes, and maps either to field errors or to a
//! `LeadEvent` that fits the Avro contract (encodes and decodes back to itself).
#![no_main]

use std::sync::OnceLock;

use leadflow_events::LeadEvent;
use leadflow_fuzz::{assert_round_trips, codecs};
use leadflow_ingest::adapters::{chat, hubspot};
use leadflow_ingest::api::FieldError;
use leadflow_ingest::service::{Schemas, parse_json};
use leadflow_ingest::validate::validate;
use libfuzzer_sys::fuzz_target;

fn schemas() -> &'static Schemas {
    static S: OnceLock<Schemas> = OnceLock::new();
    S.get_or_init(|| leadflow_ingest::handlers::schemas(&leadflow_ingest::openapi::document()))
}

fn map(name: &str, value: serde_json::Value) -> Option<Result<LeadEvent, Vec<FieldError>>> {
    match name {
        "HubSpotFormSubmission" => {
            let sub: hubspot::HubSpotFormSubmission = serde_json::from_value(value).ok()?;
            Some(hubspot::to_lead_event(&sub, "fuzz-publisher"))
        }
        _ => {
            let t: chat::ChatTranscript = serde_json::from_value(value).ok()?;
            Some(chat::to_lead_event(&t, "fuzz-publisher"))
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((pick, body)) = data.split_first() else {
        return;
    };
    let Ok(value) = parse_json(body) else {
        return;
    };
    let name = if pick % 2 == 0 { "HubSpotFormSubmission" } else { "ChatTranscript" };
    let s = schemas();
    if !validate(&value, s.named(name), &s.components).is_empty() {
        return;
    }
    let Some(Ok(event)) = map(name, value) else {
        return;
    };
    let c = codecs();
    let any: leadflow_events::AnyEvent = event.into();
    c.rt.block_on(any.encode(&c.single, "fuzz"))
        .expect("a mapped webhook fits the Avro contract");
    assert_round_trips(c, &c.single, &any);
});
