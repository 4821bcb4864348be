//! A client for the Confluent Schema Registry REST API (also served by Redpanda, Karapace, Apicurio's
//! compatibility layer): register a subject version, look a schema up by id.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::secret::Secret;

const CONTENT_TYPE: &str = "application/vnd.schemaregistry.v1+json";

/// Where the registry is and how to reach it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryConfig {
    /// Base URL, e.g. `http://127.0.0.1:8081`.
    pub url: String,
    /// Basic-auth user (Confluent Cloud API key).
    #[serde(default)]
    pub username: Option<String>,
    /// Basic-auth password (API secret): a [`Secret`] — a string, `{ env = "VAR" }` or
    /// `{ file = "/run/secrets/registry" }`; never printed.
    #[serde(default)]
    pub password: Option<Secret>,
    /// Per-request timeout in milliseconds.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
}

fn default_timeout_ms() -> u64 {
    5_000
}

/// A registry call failed.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("invalid registry configuration: {0}")]
    Config(String),
    #[error("registry request failed: {0}")]
    Transport(#[source] Box<reqwest::Error>),
    #[error("not found in registry: {0}")]
    NotFound(String),
    #[error("registry rejected the request ({status}): {body}")]
    Rejected { status: u16, body: String },
}

impl RegistryError {
    /// Transport failures and 5xx answers are retryable; rejections are not.
    pub fn is_retryable(&self) -> bool {
        match self {
            RegistryError::Transport(_) => true,
            RegistryError::Rejected { status, .. } => *status >= 500,
            _ => false,
        }
    }
}

/// A Confluent-compatible registry client.
#[derive(Clone, Debug)]
pub struct RegistryClient {
    base: String,
    http: reqwest::Client,
    /// Basic-auth user and password (redacted in `Debug`).
    auth: Option<(String, Option<Secret>)>,
}

#[derive(Serialize)]
struct SchemaBody<'a> {
    schema: &'a str,
}

#[derive(Deserialize)]
struct IdBody {
    id: u32,
}

#[derive(Deserialize)]
struct SchemaText {
    schema: String,
}

impl RegistryClient {
    pub fn new(config: &RegistryConfig) -> Result<Self, RegistryError> {
        let base = config.url.trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(RegistryError::Config(format!(
                "schema registry url must start with http:// or https://, got {:?}",
                config.url
            )));
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(config.timeout_ms))
            .build()
            .map_err(|e| RegistryError::Config(e.to_string()))?;
        Ok(Self {
            base,
            http,
            auth: config
                .username
                .clone()
                .map(|u| (u, config.password.clone())),
        })
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let rb = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header(reqwest::header::ACCEPT, CONTENT_TYPE);
        match &self.auth {
            Some((u, p)) => rb.basic_auth(u, p.as_ref().map(Secret::expose)),
            None => rb,
        }
    }

    /// Registers `schema` under `subject` (idempotent in the registry) and returns its id.
    pub async fn register(&self, subject: &str, schema: &str) -> Result<u32, RegistryError> {
        let resp = self
            .request(
                reqwest::Method::POST,
                &format!("/subjects/{subject}/versions"),
            )
            .header(reqwest::header::CONTENT_TYPE, CONTENT_TYPE)
            .json(&SchemaBody { schema })
            .send()
            .await
            .map_err(|e| RegistryError::Transport(Box::new(e)))?;
        let body: IdBody = Self::json(resp, subject).await?;
        Ok(body.id)
    }

    /// The schema text registered with `id`.
    pub async fn schema_by_id(&self, id: u32) -> Result<String, RegistryError> {
        let resp = self
            .request(reqwest::Method::GET, &format!("/schemas/ids/{id}"))
            .send()
            .await
            .map_err(|e| RegistryError::Transport(Box::new(e)))?;
        let body: SchemaText = Self::json(resp, &format!("schema id {id}")).await?;
        Ok(body.schema)
    }

    async fn json<T: serde::de::DeserializeOwned>(
        resp: reqwest::Response,
        what: &str,
    ) -> Result<T, RegistryError> {
        let status = resp.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Err(RegistryError::NotFound(what.to_owned()));
        }
        if !status.is_success() {
            let body = resp.text().await.unwrap_or_default();
            return Err(RegistryError::Rejected {
                status: status.as_u16(),
                body,
            });
        }
        resp.json::<T>()
            .await
            .map_err(|e| RegistryError::Transport(Box::new(e)))
    }
}
