//! Ingest's JSON → event path (`POST /v1/leads`): a body parses (or is a 400), is validated against
//! the `LeadIn` schema of the OpenAPI document, and a lead the validator accepts maps to a
//! `LeadEvent` that encodes and decodes back to itself — the validator and the contract agree.
#![no_main]

use std::sync::OnceLock;

use leadflow_fuzz::{assert_round_trips, codecs};
use leadflow_ingest::service::{Schemas, event_from_value, parse_json, scope_lead_id};
use leadflow_ingest::validate::validate;
use libfuzzer_sys::fuzz_target;

fn schemas() -> &'static Schemas {
    static S: OnceLock<Schemas> = OnceLock::new();
    S.get_or_init(|| leadflow_ingest::handlers::schemas(&leadflow_ingest::openapi::document()))
}

fuzz_target!(|data: &[u8]| {
    let Ok(value) = parse_json(data) else {
        return;
    };
    let s = schemas();
    if !validate(&value, s.named("LeadIn"), &s.components).is_empty() {
        return;
    }
    let mut event = event_from_value(value, "fuzz-publisher")
        .expect("a lead the validator accepts maps to a LeadEvent");
    scope_lead_id(&mut event, "fuzz-publisher");
    let c = codecs();
    let any: leadflow_events::AnyEvent = event.into();
    c.rt.block_on(any.encode(&c.single, "fuzz"))
        .expect("a validated lead fits the Avro contract");
    assert_round_trips(c, &c.single, &any);
});
