//! The `[stage]` table of the enrich service's configuration.
//!
//! ```toml
//! [stage]
//! dedup_window_hours = 720
//! dedup_bootstrap_from_enriched = false
//! competitor_domains = ["pipelinerival.com", "hotleads.ai", "funnelforge.io"]
//! extra_free_mail_domains = ["mailbox.org", "laposte.*"]
//! invalid_owner = "marketing-ops"
//!
//! [stage.provider]
//! kind = "http"                       # or "local" (+ dataset_path), or "demo"
//! url = "https://company.clearbit.com"
//! api_key = "sk_..."                  # better: LEADFLOW_STAGE__PROVIDER__API_KEY
//! timeout_ms = 800
//! ```

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use leadflow_runtime::StageSettings;
use serde::{Deserialize, Serialize};

/// The competitors (persona N1) unless configured otherwise.
pub const DEFAULT_COMPETITORS: [&str; 3] = ["pipelinerival.com", "hotleads.ai", "funnelforge.io"];

/// Settings of the enrich stage.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EnrichSettings {
    /// A lead seen again (same email or lead id) within this many hours of event time is an update.
    pub dedup_window_hours: u32,
    /// Also replay the last dedup window of `leads.enriched` at start-up (and follow it), next to the
    /// dedup changelog: for the first window after upgrading from a version without the changelog
    /// (RULES.md §12, RUNBOOK "Upgrading enrich to the dedup changelog"). Costs what the changelog
    /// saves; turn it off again once the changelog holds a full window.
    pub dedup_bootstrap_from_enriched: bool,
    /// Domains of competitors (persona N1); subdomains match too.
    pub competitor_domains: Vec<String>,
    /// Free-mail domains on top of the bundled list; `name.*` matches every TLD.
    pub extra_free_mail_domains: Vec<String>,
    /// Team owning invalid leads in the exceptions queue.
    pub invalid_owner: String,
    /// Where firmographics come from.
    pub provider: ProviderSettings,
}

impl Default for EnrichSettings {
    fn default() -> Self {
        Self {
            dedup_window_hours: 30 * 24,
            dedup_bootstrap_from_enriched: false,
            competitor_domains: DEFAULT_COMPETITORS.iter().map(|d| (*d).into()).collect(),
            extra_free_mail_domains: Vec::new(),
            invalid_owner: "marketing-ops".into(),
            provider: ProviderSettings::default(),
        }
    }
}

impl EnrichSettings {
    /// The defaults with the bundled demo dataset as the provider: for the demo and tests, which say
    /// so explicitly (production names its own dataset or API).
    pub fn demo() -> Self {
        Self {
            provider: ProviderSettings {
                kind: ProviderKind::Demo,
                ..ProviderSettings::default()
            },
            ..Self::default()
        }
    }

    /// The deduplication window.
    pub fn dedup_window(&self) -> Duration {
        Duration::from_secs(u64::from(self.dedup_window_hours) * 3600)
    }

    /// Competitor domains, trimmed and lower-cased.
    pub fn competitors(&self) -> Vec<String> {
        self.competitor_domains
            .iter()
            .map(|d| d.trim().to_ascii_lowercase())
            .filter(|d| !d.is_empty())
            .collect()
    }
}

impl StageSettings for EnrichSettings {
    fn validate(&self) -> Result<(), String> {
        if self.dedup_window_hours == 0 {
            return Err("dedup_window_hours must be at least 1".into());
        }
        for d in &self.competitor_domains {
            if crate::address::normalise_domain(d).is_err() {
                return Err(format!(
                    "competitor_domains entry {d:?} is not a domain like hotleads.ai"
                ));
            }
        }
        for d in &self.extra_free_mail_domains {
            let plain = d.strip_suffix(".*").unwrap_or(d);
            let ok = if d.ends_with(".*") {
                !plain.is_empty() && !plain.contains('.')
            } else {
                crate::address::normalise_domain(d).is_ok()
            };
            if !ok {
                return Err(format!(
                    "extra_free_mail_domains entry {d:?} must be a domain (mail.example) or a family (yahoo.*)"
                ));
            }
        }
        if self.invalid_owner.trim().is_empty() {
            return Err("invalid_owner must name a team, e.g. marketing-ops".into());
        }
        self.provider
            .validate()
            .map_err(|m| format!("provider.{m}"))
    }
}

/// Which firmographics provider to use (RULES.md §9).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    /// The user's company file at `dataset_path` (required: there is no production default).
    #[default]
    Local,
    /// The bundled demo dataset (157 invented companies): the demo and tests only.
    Demo,
    /// A Clearbit-style HTTP API.
    Http,
}

/// Provider settings: `kind` picks the provider; `dataset_path` is for `local`, the rest for `http`.
/// The defaults do not validate on purpose: `kind = "local"` needs the user's `dataset_path`, so a
/// deployment never runs on the demo data by accident.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProviderSettings {
    pub kind: ProviderKind,
    /// The company file for `kind = "local"` (CSV, JSON or JSON Lines; schema in RULES.md §9).
    pub dataset_path: Option<PathBuf>,
    /// Base URL of the API; requests go to `{url}/v2/companies/find?domain=...`.
    pub url: Option<String>,
    /// Bearer token. Never logged.
    pub api_key: Option<String>,
    /// Per-request timeout.
    pub timeout_ms: u64,
    /// Retries after a failed request (so at most `max_retries + 1` attempts per lookup).
    pub max_retries: u32,
    /// Backoff before the first retry; doubles for each further one.
    pub retry_backoff_ms: u64,
    /// Consecutive failed requests that open the circuit breaker.
    pub breaker_failure_threshold: u32,
    /// How long the breaker stays open before letting one trial request through.
    pub breaker_cooldown_ms: u64,
}

impl Default for ProviderSettings {
    fn default() -> Self {
        Self {
            kind: ProviderKind::Local,
            dataset_path: None,
            url: None,
            api_key: None,
            timeout_ms: 1_000,
            max_retries: 2,
            retry_backoff_ms: 100,
            breaker_failure_threshold: 5,
            breaker_cooldown_ms: 30_000,
        }
    }
}

impl fmt::Debug for ProviderSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderSettings")
            .field("kind", &self.kind)
            .field("dataset_path", &self.dataset_path)
            .field("url", &self.url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("timeout_ms", &self.timeout_ms)
            .field("max_retries", &self.max_retries)
            .field("retry_backoff_ms", &self.retry_backoff_ms)
            .field("breaker_failure_threshold", &self.breaker_failure_threshold)
            .field("breaker_cooldown_ms", &self.breaker_cooldown_ms)
            .finish()
    }
}

impl ProviderSettings {
    fn validate(&self) -> Result<(), String> {
        match self.kind {
            ProviderKind::Local | ProviderKind::Demo => {
                let kind = if self.kind == ProviderKind::Local {
                    "local"
                } else {
                    "demo"
                };
                if self.url.is_some() || self.api_key.is_some() {
                    return Err(format!(
                        "url and api_key are only used with kind = \"http\" (kind is \"{kind}\")"
                    ));
                }
                match (self.kind, &self.dataset_path) {
                    (ProviderKind::Local, None) => {
                        return Err("dataset_path is required with kind = \"local\": the path of your company file (CSV, JSON or JSON Lines; schema in crates/enrich/RULES.md). For the bundled demo dataset say kind = \"demo\"".into());
                    }
                    (ProviderKind::Demo, Some(_)) => {
                        return Err("dataset_path is not used with kind = \"demo\" (the bundled demo dataset); use kind = \"local\" for your own file".into());
                    }
                    _ => {}
                }
            }
            ProviderKind::Http => {
                let url = self.url.as_deref().map(str::trim).unwrap_or_default();
                if url.is_empty() {
                    return Err("url is required with kind = \"http\"".into());
                }
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return Err(format!("url {url:?} must start with http:// or https://"));
                }
                if reqwest::Url::parse(url).is_err() {
                    return Err(format!("url {url:?} is not a valid URL"));
                }
                if self.api_key.as_deref().is_none_or(|k| k.trim().is_empty()) {
                    return Err("api_key is required with kind = \"http\" (set LEADFLOW_STAGE__PROVIDER__API_KEY)".into());
                }
                if self.dataset_path.is_some() {
                    return Err("dataset_path is only used with kind = \"local\"".into());
                }
            }
        }
        if self.timeout_ms == 0 {
            return Err("timeout_ms must be at least 1".into());
        }
        if self.max_retries > 10 {
            return Err(format!(
                "max_retries must be at most 10, got {}",
                self.max_retries
            ));
        }
        if self.breaker_failure_threshold == 0 {
            return Err("breaker_failure_threshold must be at least 1".into());
        }
        if self.breaker_cooldown_ms == 0 {
            return Err("breaker_cooldown_ms must be at least 1".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// deploy/config/enrich.toml documents every key with its default; the one deviation is the
    /// production dataset path, which `kind = "local"` requires (there is no default dataset outside
    /// the demo).
    #[test]
    fn deploy_config_equals_the_defaults() {
        let stage: EnrichSettings =
            leadflow_runtime::config::deploy_config_stage("enrich").unwrap();
        let mut expected = EnrichSettings::default();
        assert_eq!(expected.provider.dataset_path, None);
        expected.provider.dataset_path = stage.provider.dataset_path.clone();
        assert!(expected.provider.dataset_path.is_some());
        assert_eq!(stage, expected);
    }

    fn http() -> ProviderSettings {
        ProviderSettings {
            kind: ProviderKind::Http,
            url: Some("https://company.example.com".into()),
            api_key: Some("sk_test".into()),
            ..ProviderSettings::default()
        }
    }

    #[test]
    fn the_defaults_refuse_to_run_on_demo_data_and_the_demo_says_so() {
        let err = EnrichSettings::default()
            .validate()
            .err()
            .unwrap_or_default();
        assert!(
            err.starts_with("provider.dataset_path is required with kind = \"local\""),
            "{err}"
        );
        let s = EnrichSettings::demo();
        assert_eq!(s.validate(), Ok(()));
        assert_eq!(s.provider.kind, ProviderKind::Demo);
        let local = EnrichSettings {
            provider: ProviderSettings {
                dataset_path: Some("/etc/leadflow/firmographics.csv".into()),
                ..ProviderSettings::default()
            },
            ..EnrichSettings::default()
        };
        assert_eq!(local.validate(), Ok(()));
        assert_eq!(s.dedup_window(), Duration::from_secs(30 * 86_400));
        let s = EnrichSettings::default();
        assert_eq!(s.invalid_owner, "marketing-ops");
        assert_eq!(
            s.competitors(),
            vec!["pipelinerival.com", "hotleads.ai", "funnelforge.io"]
        );
    }

    #[test]
    fn invalid_settings_name_the_key() {
        type Edit = fn(&mut EnrichSettings);
        let cases: &[(Edit, &str)] = &[
            (|s| s.dedup_window_hours = 0, "dedup_window_hours"),
            (
                |s| s.competitor_domains = vec!["not a domain".into()],
                "competitor_domains",
            ),
            (
                |s| s.extra_free_mail_domains = vec!["a.b.*".into()],
                "extra_free_mail_domains",
            ),
            (|s| s.invalid_owner = " ".into(), "invalid_owner"),
            (
                |s| s.provider.url = Some("https://x.io".into()),
                "provider.url",
            ),
            (
                |s| s.provider.dataset_path = Some("x.csv".into()),
                "provider.dataset_path is not used with kind = \"demo\"",
            ),
            (
                |s| s.provider.kind = ProviderKind::Local,
                "provider.dataset_path is required",
            ),
            (
                |s| {
                    s.provider = ProviderSettings {
                        url: None,
                        ..http()
                    }
                },
                "provider.url is required",
            ),
            (
                |s| {
                    s.provider = ProviderSettings {
                        url: Some("ftp://x.io".into()),
                        ..http()
                    }
                },
                "provider.url",
            ),
            (
                |s| {
                    s.provider = ProviderSettings {
                        api_key: None,
                        ..http()
                    }
                },
                "provider.api_key",
            ),
            (
                |s| {
                    s.provider = ProviderSettings {
                        dataset_path: Some("x.csv".into()),
                        ..http()
                    }
                },
                "provider.dataset_path",
            ),
            (
                |s| {
                    s.provider = ProviderSettings {
                        timeout_ms: 0,
                        ..http()
                    }
                },
                "provider.timeout_ms",
            ),
            (
                |s| {
                    s.provider = ProviderSettings {
                        max_retries: 11,
                        ..http()
                    }
                },
                "provider.max_retries",
            ),
            (
                |s| {
                    s.provider = ProviderSettings {
                        breaker_failure_threshold: 0,
                        ..http()
                    }
                },
                "provider.breaker_failure_threshold",
            ),
            (
                |s| {
                    s.provider = ProviderSettings {
                        breaker_cooldown_ms: 0,
                        ..http()
                    }
                },
                "provider.breaker_cooldown_ms",
            ),
        ];
        for (edit, key) in cases {
            let mut s = EnrichSettings::demo();
            edit(&mut s);
            let err = s.validate().err().unwrap_or_default();
            assert!(err.starts_with(key), "{key}: got {err:?}");
        }
        let ok = EnrichSettings {
            provider: http(),
            extra_free_mail_domains: vec!["mailbox.org".into(), "laposte.*".into()],
            ..EnrichSettings::default()
        };
        assert_eq!(ok.validate(), Ok(()));
        let ok = EnrichSettings {
            provider: ProviderSettings {
                kind: ProviderKind::Demo,
                ..ProviderSettings::default()
            },
            ..EnrichSettings::default()
        };
        assert_eq!(ok.validate(), Ok(()));
    }

    #[test]
    fn unknown_keys_are_rejected_and_the_key_is_redacted() {
        let err = serde_json::from_str::<EnrichSettings>(r#"{"dedup_window": 3}"#)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("unknown field"), "{err}");
        let parsed: EnrichSettings = serde_json::from_str(
            r#"{"provider": {"kind": "http", "url": "https://x.io", "api_key": "sk_secret"}}"#,
        )
        .unwrap_or_default();
        assert_eq!(parsed.provider.kind, ProviderKind::Http);
        let demo: EnrichSettings =
            serde_json::from_str(r#"{"provider": {"kind": "demo"}}"#).unwrap_or_default();
        assert_eq!(demo, EnrichSettings::demo());
        assert!(!format!("{parsed:?}").contains("sk_secret"));
    }
}
