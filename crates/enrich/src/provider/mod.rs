//! Firmographic providers: who is the company behind a domain?
//!
//! [`LocalProvider`] answers from the user's company file (or the demo dataset); [`HttpProvider`] asks a
//! Clearbit-style API with timeouts, bounded retries and a circuit breaker. A provider error never
//! stops a lead: the transform records `PROVIDER_UNAVAILABLE` and moves on.

pub mod http;
pub mod local;

use std::future::Future;

pub use http::{HttpProvider, HttpProviderConfig};
pub use leadflow_events::Firmographics;
pub use leadflow_runtime::resilience::{
    BreakerState, CircuitBreaker, ManualMonotonicClock, MonotonicClock, SystemMonotonicClock,
};
pub use local::LocalProvider;

use crate::settings::{ProviderKind, ProviderSettings};

/// Why a lookup failed. Messages name no personal data.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("the provider did not answer within {0} ms")]
    Timeout(u64),
    #[error("could not reach the provider: {0}")]
    Transport(String),
    #[error("the provider answered HTTP {0}")]
    Status(u16),
    #[error("the provider's answer could not be read: {0}")]
    Decode(String),
    #[error("the circuit breaker is open after repeated provider failures")]
    CircuitOpen,
}

impl ProviderError {
    /// Bounded label for metrics.
    pub fn label(&self) -> &'static str {
        match self {
            ProviderError::Timeout(_) => "timeout",
            ProviderError::Transport(_) => "transport",
            ProviderError::Status(_) => "status",
            ProviderError::Decode(_) => "decode",
            ProviderError::CircuitOpen => "circuit_open",
        }
    }
}

/// Looks companies up by domain.
pub trait FirmographicsProvider: Send + Sync + 'static {
    /// `Ok(None)` when the provider does not know the domain.
    fn lookup(
        &self,
        domain: &str,
    ) -> impl Future<Output = Result<Option<Firmographics>, ProviderError>> + Send;
}

/// The provider chosen in the settings.
#[derive(Debug)]
pub enum AnyProvider {
    Local(LocalProvider),
    /// Boxed: the client, its breaker and its settings are far larger than a local dataset handle.
    Http(Box<HttpProvider>),
}

/// The provider could not be built from the settings.
#[derive(Debug, thiserror::Error)]
pub enum ProviderSetupError {
    #[error(transparent)]
    Dataset(#[from] crate::dataset::DatasetError),
    #[error("kind = \"local\" needs dataset_path (the demo dataset is kind = \"demo\")")]
    NoDataset,
    #[error("HTTP provider: {0}")]
    Http(String),
}

impl AnyProvider {
    /// Builds the provider the settings name.
    pub fn from_settings(settings: &ProviderSettings) -> Result<Self, ProviderSetupError> {
        Ok(match settings.kind {
            ProviderKind::Local => {
                let path = settings
                    .dataset_path
                    .as_deref()
                    .ok_or(ProviderSetupError::NoDataset)?;
                let provider = LocalProvider::from_path(path)?;
                tracing::info!(path = %path.display(), companies = provider.len(), "firmographics: local company dataset loaded");
                AnyProvider::Local(provider)
            }
            ProviderKind::Demo => {
                let provider = LocalProvider::demo();
                tracing::warn!(
                    companies = provider.len(),
                    "firmographics: kind = \"demo\", the bundled DEMO dataset of invented companies; not for production"
                );
                AnyProvider::Local(provider)
            }
            ProviderKind::Http => AnyProvider::Http(Box::new(
                HttpProvider::new(
                    HttpProviderConfig::from_settings(settings),
                    SystemMonotonicClock,
                )
                .map_err(ProviderSetupError::Http)?,
            )),
        })
    }
}

impl FirmographicsProvider for AnyProvider {
    async fn lookup(&self, domain: &str) -> Result<Option<Firmographics>, ProviderError> {
        match self {
            AnyProvider::Local(p) => p.lookup(domain).await,
            AnyProvider::Http(p) => p.lookup(domain).await,
        }
    }
}
