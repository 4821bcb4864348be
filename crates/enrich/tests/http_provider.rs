//! The HTTP provider against a local Clearbit-style server: found, not found, slow (timeout),
//! 500s until the circuit breaker opens, recovery after the cooldown, and the stage degrading to
//! PROVIDER_UNAVAILABLE while the provider is down.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use leadflow_enrich::provider::{
    BreakerState, FirmographicsProvider, HttpProvider, HttpProviderConfig, ManualClock,
    ProviderError,
};
use leadflow_enrich::{EnrichSettings, EnrichStage, warnings};
use leadflow_events::json::AnyEvent;
use leadflow_events::{EnrichmentStatus, samples};
use leadflow_runtime::{Context, Stage};

/// One request as the server saw it.
#[derive(Clone, Debug)]
struct Seen {
    domain: Option<String>,
    authorization: Option<String>,
}

#[derive(Default)]
struct ServerState {
    requests: Mutex<Vec<Seen>>,
    failing: AtomicBool,
}

/// A fake company API. `slow.example` answers after 2 s; `northwind.io` is known; other domains
/// are 404; while `failing` every request gets a 500.
struct FakeApi {
    addr: SocketAddr,
    state: Arc<ServerState>,
}

impl FakeApi {
    async fn start() -> Self {
        let state = Arc::new(ServerState::default());
        let app = Router::new()
            .route("/v2/companies/find", get(find))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { addr, state }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn requests(&self) -> Vec<Seen> {
        self.state.requests.lock().unwrap().clone()
    }

    fn set_failing(&self, failing: bool) {
        self.state.failing.store(failing, Ordering::SeqCst);
    }
}

async fn find(
    State(state): State<Arc<ServerState>>,
    Query(query): Query<std::collections::HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let domain = query.get("domain").cloned();
    state.requests.lock().unwrap().push(Seen {
        domain: domain.clone(),
        authorization: headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    });
    if state.failing.load(Ordering::SeqCst) {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    match domain.as_deref() {
        Some("slow.example") => {
            tokio::time::sleep(Duration::from_secs(2)).await;
            axum::Json(northwind()).into_response()
        }
        Some("northwind.io") => axum::Json(northwind()).into_response(),
        _ => (StatusCode::NOT_FOUND, "{\"error\":\"unknown\"}").into_response(),
    }
}

fn northwind() -> serde_json::Value {
    serde_json::json!({
        "name": "Northwind",
        "domain": "northwind.io",
        "category": {"sector": "Information Technology", "industry": "Internet Software & Services"},
        "metrics": {"employees": 420, "employeesRange": "251-1K", "estimatedAnnualRevenue": "$50M-$100M"},
        "geo": {"countryCode": "FR", "country": "France"}
    })
}

const COOLDOWN: Duration = Duration::from_secs(3600);

fn provider(api: &FakeApi, clock: ManualClock) -> HttpProvider<ManualClock> {
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
    let api = FakeApi::start().await;
    let p = provider(&api, ManualClock::default());
    let f = p.lookup("northwind.io").await.unwrap().unwrap();
    assert_eq!(f.provider, "http");
    assert_eq!(f.industry.as_deref(), Some("software"));
    assert_eq!(f.employee_band.as_deref(), Some("201-1000"));
    assert_eq!(f.revenue_band.as_deref(), Some("50M-250M"));
    assert_eq!(f.country.as_deref(), Some("FR"));
    let seen = api.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].domain.as_deref(), Some("northwind.io"));
    assert_eq!(seen[0].authorization.as_deref(), Some("Bearer sk_test"));
}

#[tokio::test]
async fn not_found_is_none_and_not_retried() {
    let api = FakeApi::start().await;
    let p = provider(&api, ManualClock::default());
    assert_eq!(p.lookup("unknown-company.example").await.unwrap(), None);
    assert_eq!(api.requests().len(), 1);
    assert_eq!(p.breaker_state(), BreakerState::Closed { failures: 0 });
}

#[tokio::test]
async fn a_slow_provider_times_out_after_bounded_retries() {
    let api = FakeApi::start().await;
    let p = provider(&api, ManualClock::default());
    let err = p.lookup("slow.example").await.unwrap_err();
    assert!(matches!(err, ProviderError::Timeout(200)), "{err:?}");
    // One try plus max_retries = 1.
    assert_eq!(api.requests().len(), 2);
    assert_eq!(p.breaker_state(), BreakerState::Closed { failures: 2 });
}

#[tokio::test]
async fn server_errors_open_the_breaker_and_it_recovers_after_the_cooldown() {
    let api = FakeApi::start().await;
    let clock = ManualClock::default();
    let p = provider(&api, clock.clone());
    api.set_failing(true);

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
    api.set_failing(false);
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
        ManualClock::default(),
    )
    .unwrap();
    let err = p.lookup("northwind.io").await.unwrap_err();
    assert!(matches!(err, ProviderError::Transport(_)), "{err:?}");
    assert_eq!(p.breaker_state(), BreakerState::Open);
}

#[tokio::test]
async fn the_stage_keeps_flowing_while_the_provider_is_down() {
    let api = FakeApi::start().await;
    api.set_failing(true);
    let stage = EnrichStage::with_provider(
        &EnrichSettings::default(),
        provider(&api, ManualClock::default()),
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

    api.set_failing(false);
    let settings = EnrichSettings::default();
    let healthy = EnrichStage::with_provider(&settings, provider(&api, ManualClock::default()));
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
