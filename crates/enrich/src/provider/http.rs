//! A Clearbit-style company API: `GET {base_url}/v2/companies/find?domain=<d>` with a bearer token.
//!
//! Each request has its own timeout; failed requests are retried a bounded number of times with
//! exponential backoff; a circuit breaker stops calling a provider that keeps failing and lets one
//! trial through after a cooldown. So the worst case per lookup is bounded, and an outage costs
//! nothing once the breaker is open.

use std::fmt;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use leadflow_events::Firmographics;
use leadflow_runtime::resilience::{
    BackoffPolicy, BreakerConfig, BreakerState, CircuitBreaker, MonotonicClock,
    SystemMonotonicClock,
};
use reqwest::{StatusCode, Url};
use serde::Deserialize;

use super::{FirmographicsProvider, ProviderError};
use crate::bands::{employee_band, range_midpoint, revenue_band};
use crate::settings::ProviderSettings;
use crate::{country, industry, metrics};

/// Provider name written into `Firmographics::provider`.
pub const HTTP_PROVIDER: &str = "http";

/// Longest wait between two retries.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// What the HTTP provider needs.
#[derive(Clone)]
pub struct HttpProviderConfig {
    pub base_url: String,
    pub api_key: String,
    pub timeout: Duration,
    pub max_retries: u32,
    pub retry_backoff: Duration,
    pub breaker_failure_threshold: u32,
    pub breaker_cooldown: Duration,
}

impl fmt::Debug for HttpProviderConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpProviderConfig")
            .field("base_url", &self.base_url)
            .field("api_key", &"<redacted>")
            .field("timeout", &self.timeout)
            .field("max_retries", &self.max_retries)
            .field("retry_backoff", &self.retry_backoff)
            .field("breaker_failure_threshold", &self.breaker_failure_threshold)
            .field("breaker_cooldown", &self.breaker_cooldown)
            .finish()
    }
}

impl HttpProviderConfig {
    /// From validated stage settings.
    pub fn from_settings(s: &ProviderSettings) -> Self {
        Self {
            base_url: s.url.clone().unwrap_or_default(),
            api_key: s.api_key.clone().unwrap_or_default(),
            timeout: Duration::from_millis(s.timeout_ms),
            max_retries: s.max_retries,
            retry_backoff: Duration::from_millis(s.retry_backoff_ms),
            breaker_failure_threshold: s.breaker_failure_threshold,
            breaker_cooldown: Duration::from_millis(s.breaker_cooldown_ms),
        }
    }
}

/// The HTTP provider, generic over the breaker's clock.
pub struct HttpProvider<C: MonotonicClock = SystemMonotonicClock> {
    client: reqwest::Client,
    endpoint: Url,
    config: HttpProviderConfig,
    breaker: Mutex<CircuitBreaker>,
    clock: C,
}

impl<C: MonotonicClock> fmt::Debug for HttpProvider<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpProvider")
            .field("endpoint", &self.endpoint.as_str())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// How one failed request counts.
struct AttemptError {
    error: ProviderError,
    /// Counts towards opening the breaker.
    breaker_failure: bool,
    /// Worth another attempt.
    retryable: bool,
}

impl<C: MonotonicClock> HttpProvider<C> {
    /// A provider for `config.base_url`; the message says what is wrong with the config.
    pub fn new(config: HttpProviderConfig, clock: C) -> Result<Self, String> {
        let base = config.base_url.trim().trim_end_matches('/');
        let endpoint = Url::parse(&format!("{base}/v2/companies/find"))
            .map_err(|e| format!("url {base:?} is not valid: {e}"))?;
        let client = reqwest::Client::builder()
            .connect_timeout(config.timeout)
            .user_agent(concat!("leadflow-enrich/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        let breaker = Mutex::new(CircuitBreaker::new(BreakerConfig {
            threshold: config.breaker_failure_threshold,
            open_for: config.breaker_cooldown,
            // a lookup is not cancelled while it is out: its trial always reports
            probe_timeout: None,
        }));
        Ok(Self {
            client,
            endpoint,
            config,
            breaker,
            clock,
        })
    }

    /// The breaker's state now.
    pub fn breaker_state(&self) -> BreakerState {
        self.with_breaker(|b| b.state(self.clock.now()))
    }

    fn with_breaker<T>(&self, f: impl FnOnce(&mut CircuitBreaker) -> T) -> T {
        let mut guard = self.breaker.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut guard)
    }

    /// `retry_backoff` doubling per retry, capped at [`MAX_BACKOFF`], no jitter.
    fn backoff(&self) -> BackoffPolicy {
        BackoffPolicy {
            initial: self.config.retry_backoff,
            max: MAX_BACKOFF,
            jitter: 0.0,
        }
    }

    fn publish_breaker_state(&self) {
        metrics::set_breaker_open(!matches!(self.breaker_state(), BreakerState::Closed { .. }));
    }

    async fn lookup_with_retries(
        &self,
        domain: &str,
    ) -> Result<Option<Firmographics>, ProviderError> {
        let mut attempt: u32 = 0;
        loop {
            if !self.with_breaker(|b| b.try_acquire(self.clock.now())) {
                metrics::provider_request("circuit_open");
                return Err(ProviderError::CircuitOpen);
            }
            match self.request_once(domain).await {
                Ok(found) => {
                    self.with_breaker(CircuitBreaker::on_success);
                    self.publish_breaker_state();
                    metrics::provider_request(if found.is_some() {
                        "found"
                    } else {
                        "not_found"
                    });
                    return Ok(found);
                }
                Err(failed) => {
                    metrics::provider_request(failed.error.label());
                    if failed.breaker_failure {
                        self.with_breaker(|b| b.on_failure(self.clock.now()));
                    } else {
                        self.with_breaker(CircuitBreaker::on_success);
                    }
                    self.publish_breaker_state();
                    if !failed.retryable || attempt >= self.config.max_retries {
                        return Err(failed.error);
                    }
                    let backoff = self.backoff().delay(attempt + 1, 0.5);
                    tracing::debug!(attempt, error = %failed.error, backoff_ms = backoff.as_millis() as u64, "provider request failed, retrying");
                    tokio::time::sleep(backoff).await;
                    attempt += 1;
                }
            }
        }
    }

    async fn request_once(&self, domain: &str) -> Result<Option<Firmographics>, AttemptError> {
        let transport = |e: reqwest::Error| {
            let error = if e.is_timeout() {
                ProviderError::Timeout(self.config.timeout.as_millis() as u64)
            } else if e.is_decode() {
                ProviderError::Decode(e.without_url().to_string())
            } else {
                ProviderError::Transport(e.without_url().to_string())
            };
            let decode = matches!(error, ProviderError::Decode(_));
            AttemptError {
                error,
                breaker_failure: !decode,
                retryable: !decode,
            }
        };
        let response = self
            .client
            .get(self.endpoint.clone())
            .query(&[("domain", domain)])
            .bearer_auth(&self.config.api_key)
            .timeout(self.config.timeout)
            .send()
            .await
            .map_err(transport)?;
        let status = response.status();
        match status {
            StatusCode::OK => {
                let body = response.bytes().await.map_err(transport)?;
                let company: CompanyJson =
                    serde_json::from_slice(&body).map_err(|e| AttemptError {
                        error: ProviderError::Decode(e.to_string()),
                        breaker_failure: false,
                        retryable: false,
                    })?;
                Ok(Some(company.into_firmographics()))
            }
            // 202: the provider queued the lookup and has no answer yet.
            StatusCode::NOT_FOUND | StatusCode::ACCEPTED => Ok(None),
            s => Err(AttemptError {
                error: ProviderError::Status(s.as_u16()),
                breaker_failure: true,
                retryable: s.is_server_error() || s == StatusCode::TOO_MANY_REQUESTS,
            }),
        }
    }
}

impl<C: MonotonicClock> FirmographicsProvider for HttpProvider<C> {
    async fn lookup(&self, domain: &str) -> Result<Option<Firmographics>, ProviderError> {
        self.lookup_with_retries(domain).await
    }
}

/// The parts of the API's company document we use.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CompanyJson {
    category: Option<CategoryJson>,
    metrics: Option<MetricsJson>,
    geo: Option<GeoJson>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CategoryJson {
    industry: Option<String>,
    sector: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct MetricsJson {
    employees: Option<f64>,
    employees_range: Option<String>,
    annual_revenue: Option<f64>,
    estimated_annual_revenue: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct GeoJson {
    country_code: Option<String>,
}

impl CompanyJson {
    fn into_firmographics(self) -> Firmographics {
        let category = self.category.unwrap_or_default();
        let m = self.metrics.unwrap_or_default();
        let whole = |v: f64| (v.is_finite() && v >= 0.0).then(|| v.round() as u64);
        let employees = m
            .employees
            .and_then(whole)
            .or_else(|| m.employees_range.as_deref().and_then(range_midpoint));
        let revenue = m.annual_revenue.and_then(whole).or_else(|| {
            m.estimated_annual_revenue
                .as_deref()
                .and_then(range_midpoint)
        });
        Firmographics {
            provider: HTTP_PROVIDER.into(),
            industry: category
                .industry
                .or(category.sector)
                .as_deref()
                .and_then(industry::normalise_industry),
            employee_band: employees.map(|n| employee_band(n).to_owned()),
            revenue_band: revenue.map(|usd| revenue_band(usd).to_owned()),
            country: self
                .geo
                .and_then(|g| g.country_code)
                .as_deref()
                .and_then(country::to_alpha2)
                .map(str::to_owned),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn company_documents_map_to_firmographics() {
        let cases = [
            (
                r#"{"name":"Northwind","category":{"industry":"Internet Software & Services"},
                   "metrics":{"employees":420,"estimatedAnnualRevenue":"$50M-$100M"},
                   "geo":{"countryCode":"FR"}}"#,
                Firmographics {
                    provider: "http".into(),
                    industry: Some("software".into()),
                    employee_band: Some("201-1000".into()),
                    revenue_band: Some("50M-250M".into()),
                    country: Some("FR".into()),
                },
            ),
            (
                r#"{"category":{"sector":"Financials"},
                   "metrics":{"employeesRange":"1K-5K","annualRevenue":2500000000},
                   "geo":{"countryCode":"gb"}}"#,
                Firmographics {
                    provider: "http".into(),
                    industry: Some("fintech".into()),
                    employee_band: Some("1001-5000".into()),
                    revenue_band: Some("1B+".into()),
                    country: Some("GB".into()),
                },
            ),
            (
                r#"{"name":"Bare","category":null,"metrics":{},"geo":{"countryCode":"ZZ"}}"#,
                Firmographics {
                    provider: "http".into(),
                    ..Firmographics::default()
                },
            ),
        ];
        for (json, want) in cases {
            let doc: CompanyJson = serde_json::from_str(json).unwrap();
            assert_eq!(doc.into_firmographics(), want, "{json}");
        }
    }

    #[test]
    fn the_api_key_is_not_printed() {
        let cfg = HttpProviderConfig {
            base_url: "http://127.0.0.1:1".into(),
            api_key: "sk_secret".into(),
            timeout: Duration::from_millis(10),
            max_retries: 0,
            retry_backoff: Duration::from_millis(1),
            breaker_failure_threshold: 1,
            breaker_cooldown: Duration::from_millis(10),
        };
        let p = HttpProvider::new(cfg, SystemMonotonicClock).unwrap();
        assert!(!format!("{p:?}").contains("sk_secret"));
        assert!(
            HttpProvider::new(
                HttpProviderConfig {
                    base_url: "not a url".into(),
                    ..p.config.clone()
                },
                SystemMonotonicClock
            )
            .is_err()
        );
    }
}
