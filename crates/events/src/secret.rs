//! `Secret`: a credential (API token, SMTP, SASL or registry password) that never shows up in `Debug`, `Display`, logs
//! or metrics.
//!
//! In configuration it is one of:
//! - a plain string: `token = "xoxb-..."` (fine for tests; prefer the two forms below),
//! - `{ env = "SLACK_BOT_TOKEN" }`: read from that environment variable when the config is loaded,
//! - `{ file = "/run/secrets/slack" }`: read from that file (trailing newline trimmed), e.g. a mounted
//!   Kubernetes secret.
//!
//! Serialisation writes the plain string back (so figment's layering of defaults → file → env keeps
//! working); nothing else ever prints it: use [`Secret::expose`] at the one place that needs the value.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A redacted string.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value. Call it only where the credential is sent (an `Authorization` header, SMTP AUTH).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `true` when no value was given.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Reads the secret from an environment variable.
    pub fn from_env(var: &str) -> Result<Self, String> {
        match std::env::var(var) {
            Ok(v) if !v.is_empty() => Ok(Self(v)),
            Ok(_) => Err(format!("environment variable {var} is empty")),
            Err(_) => Err(format!("environment variable {var} is not set")),
        }
    }

    /// Reads the secret from a file; surrounding whitespace (a trailing newline) is trimmed.
    pub fn from_file(path: &str) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read secret file {path}: {e}"))?;
        let value = text.trim();
        if value.is_empty() {
            return Err(format!("secret file {path} is empty"));
        }
        Ok(Self(value.to_owned()))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum SecretSource {
    Plain(String),
    Env { env: String },
    File { file: String },
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let source = SecretSource::deserialize(deserializer).map_err(|_| {
            serde::de::Error::custom(
                "a secret is a string, { env = \"VAR\" } or { file = \"/path\" }",
            )
        })?;
        match source {
            SecretSource::Plain(v) => Ok(Self(v)),
            SecretSource::Env { env } => Self::from_env(&env).map_err(serde::de::Error::custom),
            SecretSource::File { file } => Self::from_file(&file).map_err(serde::de::Error::custom),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize, Serialize)]
    struct Cfg {
        token: Secret,
    }

    #[test]
    fn debug_and_display_are_redacted() {
        let s = Secret::new("xoxb-123");
        assert_eq!(format!("{s:?}"), "[redacted]");
        assert_eq!(format!("{s}"), "[redacted]");
        let cfg = Cfg { token: s.clone() };
        assert!(!format!("{cfg:?}").contains("xoxb"));
        assert_eq!(s.expose(), "xoxb-123");
    }

    #[test]
    fn loads_plain_env_and_file() {
        let plain: Cfg = serde_json::from_str(r#"{"token":"abc"}"#).unwrap();
        assert_eq!(plain.token.expose(), "abc");

        let path = std::env::temp_dir().join(format!("leadflow-secret-{}", std::process::id()));
        std::fs::write(&path, "from-file\n").unwrap();
        let json = serde_json::json!({ "token": { "file": path.to_str().unwrap() } });
        let from_file: Cfg = serde_json::from_value(json).unwrap();
        assert_eq!(from_file.token.expose(), "from-file");
        std::fs::remove_file(&path).unwrap();

        // PATH is set in every test environment.
        let from_env: Cfg = serde_json::from_str(r#"{"token":{"env":"PATH"}}"#).unwrap();
        assert_eq!(from_env.token.expose(), std::env::var("PATH").unwrap());

        let missing: Result<Cfg, _> =
            serde_json::from_str(r#"{"token":{"env":"LEADFLOW_TEST_NO_SUCH_VAR_9"}}"#);
        let err = missing.unwrap_err().to_string();
        assert!(
            err.contains("LEADFLOW_TEST_NO_SUCH_VAR_9 is not set"),
            "{err}"
        );
    }

    #[test]
    fn serialises_the_plain_value_for_layering() {
        let cfg = Cfg {
            token: Secret::new("abc"),
        };
        assert_eq!(serde_json::to_string(&cfg).unwrap(), r#"{"token":"abc"}"#);
    }
}
