//! Shared set-up of the fuzz targets: codecs for both framings (a fake schema registry on loopback,
//! asked once at start-up so fuzzing itself never touches the network), the known writer schemas,
//! and the round-trip property every decoded event must satisfy.

use std::sync::OnceLock;

use leadflow_events::{AnyEvent, Codec, EventKind, RegistryClient, RegistryConfig, samples};
use leadflow_testkit::FakeSchemaRegistry;
use tokio::runtime::Runtime;

/// Every event kind once, as the seed corpus and the registry warm-up use them.
pub fn every_sample() -> Vec<AnyEvent> {
    vec![
        samples::lead_event().into(),
        samples::enriched_lead().into(),
        samples::scored_lead().into(),
        samples::tier_decision().into(),
        samples::handoff_packet().into(),
        samples::delivery_receipt().into(),
        samples::rep_activity().into(),
        samples::sla_escalation().into(),
        samples::lead_outcome().into(),
        samples::model_params().into(),
        samples::exception_record().into(),
        samples::rep_state().into(),
        samples::dedup_key().into(),
    ]
}

/// The codecs and frame headers the codec target builds payloads with.
pub struct Codecs {
    pub rt: Runtime,
    /// No registry: single-object encoding; Confluent frames fail with `NoRegistry`.
    pub single: Codec,
    /// With the fake registry, every current schema registered (ids cached).
    pub confluent: Codec,
    /// (kind, single-object header) for every known writer schema, current and historical.
    pub single_headers: Vec<(EventKind, Vec<u8>)>,
    /// (kind, Confluent header) for every registered current schema.
    pub confluent_headers: Vec<(EventKind, Vec<u8>)>,
    _registry: FakeSchemaRegistry,
}

/// Built once per fuzzing process.
pub fn codecs() -> &'static Codecs {
    static CODECS: OnceLock<Codecs> = OnceLock::new();
    CODECS.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("tokio runtime");
        let registry = rt.block_on(FakeSchemaRegistry::start());
        let config = RegistryConfig {
            url: registry.url().to_owned(),
            username: None,
            password: None,
            timeout_ms: 2000,
        };
        let confluent =
            Codec::with_registry(RegistryClient::new(&config).expect("client")).expect("codec");
        let single = Codec::single_object().expect("codec");
        let mut confluent_headers = Vec::new();
        let mut single_headers = Vec::new();
        for event in every_sample() {
            let kind = event.kind();
            let framed = rt
                .block_on(event.encode(&confluent, "fuzz"))
                .expect("registers");
            confluent_headers.push((kind, framed[..5].to_vec()));
            let schemas = single.schemas();
            let mut entries = schemas.history(kind);
            entries.push(schemas.current(kind).clone());
            for e in entries {
                let mut h = vec![0xC3, 0x01];
                h.extend_from_slice(&e.fingerprint);
                single_headers.push((kind, h));
            }
        }
        Codecs {
            rt,
            single,
            confluent,
            single_headers,
            confluent_headers,
            _registry: registry,
        }
    })
}

/// Decodes `bytes` as every kind with `codec`; whatever decodes must re-encode and decode to the same
/// event (in the current schema). Panics (a fuzz finding) when that property breaks.
pub fn decode_every_kind(c: &Codecs, codec: &Codec, bytes: &[u8]) {
    for kind in EventKind::ALL {
        let decoded = c.rt.block_on(AnyEvent::decode(codec, kind, bytes));
        if let Ok(event) = decoded {
            assert_round_trips(c, codec, &event);
        }
    }
}

/// `event` encodes, and decodes back to itself.
pub fn assert_round_trips(c: &Codecs, codec: &Codec, event: &AnyEvent) {
    let bytes = match c.rt.block_on(event.encode(codec, "fuzz")) {
        Ok(b) => b,
        Err(e) => panic!("a decoded {} does not encode: {e}", event.kind()),
    };
    let back =
        c.rt.block_on(AnyEvent::decode(codec, event.kind(), &bytes))
            .unwrap_or_else(|e| panic!("a re-encoded {} does not decode: {e}", event.kind()));
    // NaN is never equal to itself; such events are compared by their encoding instead
    if format!("{event:?}").contains("NaN") {
        let again = c.rt.block_on(back.encode(codec, "fuzz")).expect("encodes");
        assert_eq!(again, bytes, "{} re-encoding differs", event.kind());
    } else {
        assert_eq!(&back, event, "{} round trip", event.kind());
    }
}
