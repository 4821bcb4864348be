//! Ingest's JSON Schema validator on any JSON against each request body schema (`LeadIn`, `BatchIn`,
//! `HubSpotFormSubmission`, `ChatTranscript`; the first byte picks one): no panic, no stack overflow
//! on deep nesting, and every error names a JSON pointer into the body (empty or starting with `/`).
#![no_main]

use std::sync::OnceLock;

use leadflow_ingest::service::{Schemas, parse_json};
use leadflow_ingest::validate::validate;
use libfuzzer_sys::fuzz_target;

const NAMES: [&str; 4] = ["LeadIn", "BatchIn", "HubSpotFormSubmission", "ChatTranscript"];

fn schemas() -> &'static Schemas {
    static S: OnceLock<Schemas> = OnceLock::new();
    S.get_or_init(|| leadflow_ingest::handlers::schemas(&leadflow_ingest::openapi::document()))
}

fuzz_target!(|data: &[u8]| {
    let Some((pick, body)) = data.split_first() else {
        return;
    };
    let Ok(value) = parse_json(body) else {
        return;
    };
    let s = schemas();
    let name = NAMES[*pick as usize % NAMES.len()];
    for e in validate(&value, s.named(name), &s.components) {
        assert!(
            e.pointer.is_empty() || e.pointer.starts_with('/'),
            "pointer {:?}",
            e.pointer
        );
        assert!(!e.reason.is_empty());
    }
});
