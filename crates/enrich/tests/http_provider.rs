//! The HTTP provider against a local Clearbit-style server (the test kit's `HttpRecorder`): found, not found, slow (timeout),
//! 500s until the circuit breaker opens, recovery after the cooldown, and the stage degrading to
//! PROVIDER_UNAVAILABLE while the provider is down.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::time::Duration;

use leadflow_enrich::provider::{
    BreakerState, FirmographicsProvider, HttpProvider, HttpProviderConfig, ManualMonotonicClock,
    ProviderError,
};
use leadflow_enrich::{EnrichSettings, EnrichStage, warnings};
use leadflow_events::AnyEvent;
use leadflow_events::{EnrichmentStatus, samples};
use leadflow_runtime::{Context, Stage};
use leadflow_testkit::{HttpRecorder, RecordedRequest};

/// The company document a Clearbit-style API answers for northwind.io (RULES.md §10).
fn northwind() -> String {
    serde_json::json!({
        "name": "Northwind",
        "domain": "northwind.io",
        "category": {"sector": "Information Technology", "industry": "Internet Software & Services"},
        "metrics": {"employees": 420, "employeesRange": "251-1K", "estimatedAnnualRevenue": "$50M-$100M"},
        "geo": {"countryCode": "FR", "country": "France"}
    })
    .to_string()
}

const NOT_FOUND: &str = "{\"error\":\"unknown\"}";

/// The `domain` query parameter of a recorded request.
fn domain(r: &RecordedRequest) -> Option<&str> {
    r.query.as_deref()?.strip_prefix("domain=")
}

const COOLDOWN: Duration = Duration::from_secs(3600);

fn provider(api: &HttpRecorder, clock: ManualMonotonicClock) -> HttpProvider<ManualMonotonicClock> {
    HttpProvider::new(
        HttpProviderConfig {
            base_url: format!("{}/", api.url()),
            api_key: "sk_test".into(),
            timeout: Duration::from_millis(200),
            max_retries: 1,
            retry_backoff: Duration::from_millis(1),
            breaker_failure_threshold: 3,
            breaker_cooldown: COOLDOWN,
        },
        clock,
    )
    .unwrap()
}

#[tokio::test]
async fn found_maps_the_company_and_sends_the_key() {
    let api = HttpRecorder::start(200, northwind()).await;
    let p = provider(&api, ManualMonotonicClock::default());
    let f = p.lookup("northwind.io").await.unwrap().unwrap();
    assert_eq!(f.provider, "http");
    assert_eq!(f.industry.as_deref(), Some("software"));
    assert_eq!(f.employee_band.as_deref(), Some("201-1000"));
    assert_eq!(f.revenue_band.as_deref(), Some("50M-250M"));
    assert_eq!(f.country.as_deref(), Some("FR"));
    let seen = api.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "GET");
    assert_eq!(seen[0].path, "/v2/companies/find");
    assert_eq!(domain(&seen[0]), Some("northwind.io"));
    assert_eq!(seen[0].header("authorization"), Some("Bearer sk_test"));
}

#[tokio::test]
async fn not_found_is_none_and_not_retried() {
    let api = HttpRecorder::start(404, NOT_FOUND).await;
    let p = provider(&api, ManualMonotonicClock::default());
    assert_eq!(p.lookup("unknown-company.example").await.unwrap(), None);
    assert_eq!(api.requests().len(), 1);
    assert_eq!(p.breaker_state(), BreakerState::Closed { failures: 0 });
}

#[tokio::test]
async fn a_slow_provider_times_out_after_bounded_retries() {
    let api = HttpRecorder::start(200, northwind()).await;
    api.set_delay(Duration::from_secs(2));
    let p = provider(&api, ManualMonotonicClock::default());
    let err = p.lookup("slow.example").await.unwrap_err();
    assert!(matches!(err, ProviderError::Timeout(200)), "{err:?}");
    // One try plus max_retries = 1.
    assert_eq!(api.requests().len(), 2);
    assert_eq!(p.breaker_state(), BreakerState::Closed { failures: 2 });
}

#[tokio::test]
async fn server_errors_open_the_breaker_and_it_recovers_after_the_cooldown() {
    let api = HttpRecorder::start(500, "").await;
    let clock = ManualMonotonicClock::default();
    let p = provider(&api, clock.clone());

    // Two attempts, both 500.
    let err = p.lookup("northwind.io").await.unwrap_err();
    assert!(matches!(err, ProviderError::Status(500)), "{err:?}");
    assert_eq!(api.requests().len(), 2);
    assert_eq!(p.breaker_state(), BreakerState::Closed { failures: 2 });

    // The third consecutive failure opens the breaker; the retry is refused without a request.
    let err = p.lookup("northwind.io").await.unwrap_err();
    assert!(matches!(err, ProviderError::CircuitOpen), "{err:?}");
    assert_eq!(api.requests().len(), 3);
    assert_eq!(p.breaker_state(), BreakerState::Open);

    // While open: no traffic at all.
    for _ in 0..5 {
        assert!(matches!(
            p.lookup("northwind.io").await,
            Err(ProviderError::CircuitOpen)
        ));
    }
    assert_eq!(api.requests().len(), 3);

    // After the cooldown one trial goes; it fails, so the breaker opens again at once.
    clock.advance(COOLDOWN);
    assert_eq!(p.breaker_state(), BreakerState::HalfOpen);
    assert!(matches!(
        p.lookup("northwind.io").await,
        Err(ProviderError::CircuitOpen)
    ));
    assert_eq!(api.requests().len(), 4);
    assert_eq!(p.breaker_state(), BreakerState::Open);

    // The provider recovers; after the next cooldown the trial succeeds and the breaker closes.
    api.set_response(200, northwind());
    clock.advance(COOLDOWN - Duration::from_millis(1));
    assert!(matches!(
        p.lookup("northwind.io").await,
        Err(ProviderError::CircuitOpen)
    ));
    assert_eq!(api.requests().len(), 4);
    clock.advance(Duration::from_millis(1));
    assert!(p.lookup("northwind.io").await.unwrap().is_some());
    assert_eq!(api.requests().len(), 5);
    assert_eq!(p.breaker_state(), BreakerState::Closed { failures: 0 });
    api.set_response(404, NOT_FOUND);
    assert_eq!(p.lookup("unknown-company.example").await.unwrap(), None);
}

#[tokio::test]
async fn an_unreachable_provider_is_a_transport_error() {
    // Bind then drop a listener: nothing listens on that port any more.
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let p = HttpProvider::new(
        HttpProviderConfig {
            base_url: format!("http://{addr}"),
            api_key: "sk_test".into(),
            timeout: Duration::from_millis(200),
            max_retries: 0,
            retry_backoff: Duration::from_millis(1),
            breaker_failure_threshold: 1,
            breaker_cooldown: COOLDOWN,
        },
        ManualMonotonicClock::default(),
    )
    .unwrap();
    let err = p.lookup("northwind.io").await.unwrap_err();
    assert!(matches!(err, ProviderError::Transport(_)), "{err:?}");
    assert_eq!(p.breaker_state(), BreakerState::Open);
}

#[tokio::test]
async fn the_stage_keeps_flowing_while_the_provider_is_down() {
    let api = HttpRecorder::start(500, "").await;
    let stage = EnrichStage::with_provider(
        &EnrichSettings::default(),
        provider(&api, ManualMonotonicClock::default()),
    );
    let ctx = Context::for_test(samples::T0);
    for i in 0..5 {
        let mut event = samples::lead_event();
        event.event_id = format!("e{i}");
        let out = stage.process(event, &ctx).await.unwrap();
        let AnyEvent::EnrichedLead(enriched) = &out[0].event else {
            panic!("{out:?}");
        };
        assert_eq!(enriched.enrichment, EnrichmentStatus::ProviderUnavailable);
        assert!(
            enriched
                .quality_warnings
                .iter()
                .any(|w| w == warnings::PROVIDER_UNAVAILABLE)
        );
    }
    // Threshold 3: the breaker opened during the second lead; later leads cost no request.
    assert_eq!(api.requests().len(), 3);

    api.set_response(200, northwind());
    let settings = EnrichSettings::default();
    let healthy =
        EnrichStage::with_provider(&settings, provider(&api, ManualMonotonicClock::default()));
    let out = healthy.process(samples::lead_event(), &ctx).await.unwrap();
    let AnyEvent::EnrichedLead(enriched) = &out[0].event else {
        panic!("{out:?}");
    };
    assert_eq!(enriched.enrichment, EnrichmentStatus::Enriched);
    assert_eq!(
        enriched.firmographics.as_ref().map(|f| f.provider.as_str()),
        Some("http")
    );
}
