//! Broker security for every Kafka client (stages and the CLI): `security.protocol`, SASL with
//! PLAIN or SCRAM-SHA-256/512, TLS (CA bundle, client certificate), mapped onto librdkafka's
//! `security.protocol`, `sasl.*` and `ssl.*` settings.
//!
//! Secrets are [`Secret`]s: never printed by `Debug`, logs or metrics. A password is given as
//! - `sasl_password = { env = "KAFKA_PASSWORD" }` or `{ file = "/run/secrets/kafka/password" }` in
//!   the file (a plain string works too, for tests),
//! - `LEADFLOW_SECURITY__SASL_PASSWORD` in the environment, or
//! - `sasl_password_file = "/run/secrets/kafka/password"` (also
//!   `LEADFLOW_SECURITY__SASL_PASSWORD_FILE`): the file a Kubernetes secret is mounted as, read at
//!   start-up (trailing newline trimmed).
//!
//! Invalid combinations stop the service at start-up with a message naming the keys
//! ([`SecurityConfig::validate`]): SASL settings without a SASL protocol, a SASL protocol without
//! mechanism/username/password, TLS files with a protocol that does not use TLS, a password given
//! twice, or a password in the raw `[kafka]` table (where it would not be redacted).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::secret::Secret;

/// librdkafka's `security.protocol`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SecurityProtocol {
    #[serde(rename = "PLAINTEXT")]
    Plaintext,
    #[serde(rename = "SSL")]
    Ssl,
    #[serde(rename = "SASL_PLAINTEXT")]
    SaslPlaintext,
    #[serde(rename = "SASL_SSL")]
    SaslSsl,
}

impl SecurityProtocol {
    pub fn as_str(self) -> &'static str {
        match self {
            SecurityProtocol::Plaintext => "PLAINTEXT",
            SecurityProtocol::Ssl => "SSL",
            SecurityProtocol::SaslPlaintext => "SASL_PLAINTEXT",
            SecurityProtocol::SaslSsl => "SASL_SSL",
        }
    }

    fn uses_sasl(self) -> bool {
        matches!(
            self,
            SecurityProtocol::SaslPlaintext | SecurityProtocol::SaslSsl
        )
    }

    fn uses_tls(self) -> bool {
        matches!(self, SecurityProtocol::Ssl | SecurityProtocol::SaslSsl)
    }
}

impl fmt::Display for SecurityProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// librdkafka's `sasl.mechanism` (OAUTHBEARER needs a token provider and is not offered).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SaslMechanism {
    #[serde(rename = "PLAIN")]
    Plain,
    #[serde(rename = "SCRAM-SHA-256")]
    ScramSha256,
    #[serde(rename = "SCRAM-SHA-512")]
    ScramSha512,
}

impl SaslMechanism {
    pub fn as_str(self) -> &'static str {
        match self {
            SaslMechanism::Plain => "PLAIN",
            SaslMechanism::ScramSha256 => "SCRAM-SHA-256",
            SaslMechanism::ScramSha512 => "SCRAM-SHA-512",
        }
    }
}

/// Broker security, the `[security]` table of every service's config.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecurityConfig {
    /// PLAINTEXT (the default when unset), SSL, SASL_PLAINTEXT or SASL_SSL.
    pub protocol: Option<SecurityProtocol>,
    /// PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512; required with a SASL protocol.
    pub sasl_mechanism: Option<SaslMechanism>,
    pub sasl_username: Option<String>,
    /// A [`Secret`]: string, `{ env = "VAR" }` or `{ file = "/path" }`.
    pub sasl_password: Option<Secret>,
    /// File holding the SASL password (a mounted Kubernetes secret); read at start-up.
    pub sasl_password_file: Option<String>,
    /// CA bundle (PEM) to verify the brokers with; the system store when unset.
    pub ssl_ca_location: Option<String>,
    /// Client certificate (PEM) for mutual TLS.
    pub ssl_certificate_location: Option<String>,
    /// Client private key (PEM) for mutual TLS.
    pub ssl_key_location: Option<String>,
    /// Password of the client private key, when it is encrypted. A [`Secret`].
    pub ssl_key_password: Option<Secret>,
}

/// Raw `[kafka]` keys that hold credentials: they belong in `[security]`, where they are redacted.
/// (`ssl.key.pem` is a private key itself; `sasl.oauthbearer.config` carries the token settings,
/// client secrets included.)
const SECRET_KAFKA_KEYS: [&str; 6] = [
    "sasl.password",
    "ssl.key.password",
    "ssl.keystore.password",
    "sasl.oauthbearer.client.secret",
    "ssl.key.pem",
    "sasl.oauthbearer.config",
];

impl SecurityConfig {
    /// The protocol in effect: `protocol`, else the raw table's `security.protocol`, else PLAINTEXT.
    pub fn effective_protocol(
        &self,
        kafka: &BTreeMap<String, String>,
    ) -> Result<SecurityProtocol, String> {
        let raw = kafka
            .get("security.protocol")
            .map(|p| p.trim().to_ascii_uppercase());
        let from_raw = match raw.as_deref() {
            None => None,
            Some("PLAINTEXT") => Some(SecurityProtocol::Plaintext),
            Some("SSL") => Some(SecurityProtocol::Ssl),
            Some("SASL_PLAINTEXT") => Some(SecurityProtocol::SaslPlaintext),
            Some("SASL_SSL") => Some(SecurityProtocol::SaslSsl),
            Some(other) => {
                return Err(format!(
                    "kafka.\"security.protocol\" must be PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL, got {other:?}"
                ));
            }
        };
        match (self.protocol, from_raw) {
            (Some(a), Some(b)) if a != b => Err(format!(
                "security.protocol is {a} but kafka.\"security.protocol\" is {b}; set it once"
            )),
            (Some(p), _) | (None, Some(p)) => Ok(p),
            (None, None) => Ok(SecurityProtocol::Plaintext),
        }
    }

    /// The SASL password from `sasl_password` or `sasl_password_file`.
    pub fn password(&self) -> Result<Option<Secret>, String> {
        match (&self.sasl_password, &self.sasl_password_file) {
            (Some(_), Some(_)) => Err(
                "security.sasl_password and security.sasl_password_file are both set; keep one"
                    .into(),
            ),
            (Some(p), None) => Ok(Some(p.clone())),
            (None, Some(path)) => Secret::from_file(path)
                .map(Some)
                .map_err(|e| format!("security.sasl_password_file: {e}")),
            (None, None) => Ok(None),
        }
    }

    /// Checks the combination; `kafka` is the raw librdkafka table. The message names the keys.
    pub fn validate(&self, kafka: &BTreeMap<String, String>) -> Result<(), String> {
        if let Some(key) = SECRET_KAFKA_KEYS.iter().find(|k| kafka.contains_key(**k)) {
            return Err(format!(
                "kafka.\"{key}\" holds a credential in the raw librdkafka table, where it is not \
                 redacted; set it in [security] (sasl_password / ssl_key_password, from env or a file)"
            ));
        }
        let protocol = self.effective_protocol(kafka)?;
        let password = self.password()?;
        let sasl_given =
            self.sasl_mechanism.is_some() || self.sasl_username.is_some() || password.is_some();
        if protocol.uses_sasl() {
            let mut missing = Vec::new();
            let raw_mechanism =
                kafka.contains_key("sasl.mechanism") || kafka.contains_key("sasl.mechanisms");
            if self.sasl_mechanism.is_none() && !raw_mechanism {
                missing.push("security.sasl_mechanism (PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512)");
            }
            if self
                .sasl_username
                .as_deref()
                .is_none_or(|u| u.trim().is_empty())
                && !kafka.contains_key("sasl.username")
            {
                missing.push("security.sasl_username");
            }
            if password.as_ref().is_none_or(Secret::is_empty) {
                missing.push("security.sasl_password (or sasl_password_file)");
            }
            if !missing.is_empty() {
                return Err(format!(
                    "security.protocol {protocol} needs {}",
                    missing.join(", ")
                ));
            }
        } else if sasl_given {
            return Err(format!(
                "security.sasl_* settings are given but security.protocol is {protocol}; \
                 use SASL_SSL (or SASL_PLAINTEXT on a trusted network)"
            ));
        }
        let tls_given = self.ssl_ca_location.is_some()
            || self.ssl_certificate_location.is_some()
            || self.ssl_key_location.is_some()
            || self.ssl_key_password.is_some();
        if tls_given && !protocol.uses_tls() {
            return Err(format!(
                "security.ssl_* settings are given but security.protocol is {protocol}; use SSL or SASL_SSL"
            ));
        }
        if self.ssl_certificate_location.is_some() != self.ssl_key_location.is_some() {
            return Err(
                "security.ssl_certificate_location and security.ssl_key_location go together (mutual TLS)"
                    .into(),
            );
        }
        for (key, path) in [
            ("ssl_ca_location", &self.ssl_ca_location),
            ("ssl_certificate_location", &self.ssl_certificate_location),
            ("ssl_key_location", &self.ssl_key_location),
        ] {
            if let Some(path) = path {
                if !std::path::Path::new(path).is_file() {
                    return Err(format!("security.{key}: {path} is not a readable file"));
                }
            }
        }
        Ok(())
    }

    /// The librdkafka settings (the password exposed: this map goes to librdkafka only, never to a
    /// log). Call after [`SecurityConfig::validate`]; an unreadable password file yields no password.
    pub fn client_settings(&self) -> BTreeMap<String, String> {
        let mut m = BTreeMap::new();
        if let Some(p) = self.protocol {
            m.insert("security.protocol".into(), p.as_str().into());
        }
        if let Some(mech) = self.sasl_mechanism {
            m.insert("sasl.mechanism".into(), mech.as_str().into());
        }
        if let Some(u) = &self.sasl_username {
            m.insert("sasl.username".into(), u.clone());
        }
        if let Ok(Some(p)) = self.password() {
            m.insert("sasl.password".into(), p.expose().to_owned());
        }
        let files = [
            ("ssl.ca.location", &self.ssl_ca_location),
            ("ssl.certificate.location", &self.ssl_certificate_location),
            ("ssl.key.location", &self.ssl_key_location),
        ];
        for (k, v) in files {
            if let Some(v) = v {
                m.insert(k.into(), v.clone());
            }
        }
        if let Some(p) = &self.ssl_key_password {
            m.insert("ssl.key.password".into(), p.expose().to_owned());
        }
        m
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn private_keys_and_oauth_configs_are_refused_in_the_raw_table() {
        for key in ["ssl.key.pem", "sasl.oauthbearer.config", "sasl.password"] {
            let raw = BTreeMap::from([(key.to_owned(), "x".to_owned())]);
            let e = SecurityConfig::default().validate(&raw).unwrap_err();
            assert!(e.contains(key), "{e}");
        }
    }

    fn sasl(protocol: SecurityProtocol) -> SecurityConfig {
        SecurityConfig {
            protocol: Some(protocol),
            sasl_mechanism: Some(SaslMechanism::ScramSha512),
            sasl_username: Some("leadflow-enrich".into()),
            sasl_password: Some(Secret::new("s3cr3t-sasl")),
            ..SecurityConfig::default()
        }
    }

    #[test]
    fn sasl_ssl_with_scram_maps_onto_librdkafka() {
        let s = sasl(SecurityProtocol::SaslSsl);
        assert_eq!(s.validate(&BTreeMap::new()), Ok(()));
        let m = s.client_settings();
        assert_eq!(m["security.protocol"], "SASL_SSL");
        assert_eq!(m["sasl.mechanism"], "SCRAM-SHA-512");
        assert_eq!(m["sasl.username"], "leadflow-enrich");
        assert_eq!(m["sasl.password"], "s3cr3t-sasl");
        assert!(!format!("{s:?}").contains("s3cr3t"), "Debug is redacted");
    }

    #[test]
    fn parses_from_toml_names() {
        let s: SecurityConfig = serde_json::from_value(serde_json::json!({
            "protocol": "SASL_PLAINTEXT",
            "sasl_mechanism": "SCRAM-SHA-256",
            "sasl_username": "u",
            "sasl_password": "p",
        }))
        .unwrap();
        assert_eq!(s.protocol, Some(SecurityProtocol::SaslPlaintext));
        assert_eq!(s.sasl_mechanism, Some(SaslMechanism::ScramSha256));
        let bad = serde_json::from_value::<SecurityConfig>(serde_json::json!({"protocol": "TLS"}));
        assert!(bad.is_err());
    }

    #[test]
    fn sasl_protocol_without_credentials_names_what_is_missing() {
        let s = SecurityConfig {
            protocol: Some(SecurityProtocol::SaslSsl),
            ..SecurityConfig::default()
        };
        let e = s.validate(&BTreeMap::new()).unwrap_err();
        assert!(e.contains("security.protocol SASL_SSL needs"), "{e}");
        assert!(
            e.contains("sasl_mechanism") && e.contains("sasl_username"),
            "{e}"
        );
        assert!(e.contains("sasl_password"), "{e}");
    }

    #[test]
    fn sasl_settings_without_a_sasl_protocol_are_rejected() {
        let mut s = sasl(SecurityProtocol::Ssl);
        let e = s.validate(&BTreeMap::new()).unwrap_err();
        assert!(e.contains("security.protocol is SSL"), "{e}");
        s.protocol = None;
        let e = s.validate(&BTreeMap::new()).unwrap_err();
        assert!(e.contains("security.protocol is PLAINTEXT"), "{e}");
    }

    #[test]
    fn tls_files_need_a_tls_protocol_and_must_exist() {
        let s = SecurityConfig {
            protocol: Some(SecurityProtocol::SaslPlaintext),
            ssl_ca_location: Some("/nonexistent/ca.pem".into()),
            ..sasl(SecurityProtocol::SaslPlaintext)
        };
        let e = s.validate(&BTreeMap::new()).unwrap_err();
        assert!(e.contains("use SSL or SASL_SSL"), "{e}");
        let s = SecurityConfig {
            protocol: Some(SecurityProtocol::Ssl),
            ssl_ca_location: Some("/nonexistent/ca.pem".into()),
            ..SecurityConfig::default()
        };
        let e = s.validate(&BTreeMap::new()).unwrap_err();
        assert!(
            e.contains("/nonexistent/ca.pem is not a readable file"),
            "{e}"
        );
    }

    #[test]
    fn password_from_a_file_and_not_twice() {
        let dir = std::env::temp_dir().join(format!("leadflow-sasl-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("password");
        std::fs::write(&path, "from-k8s-secret\n").unwrap();
        let mut s = sasl(SecurityProtocol::SaslSsl);
        s.sasl_password = None;
        s.sasl_password_file = Some(path.to_str().unwrap().into());
        assert_eq!(s.validate(&BTreeMap::new()), Ok(()));
        assert_eq!(s.client_settings()["sasl.password"], "from-k8s-secret");
        s.sasl_password = Some(Secret::new("x"));
        let e = s.validate(&BTreeMap::new()).unwrap_err();
        assert!(e.contains("both set"), "{e}");
        s.sasl_password = None;
        s.sasl_password_file = Some(dir.join("missing").to_str().unwrap().into());
        let e = s.validate(&BTreeMap::new()).unwrap_err();
        assert!(
            e.contains("sasl_password_file: cannot read secret file"),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_raw_table_counts_for_the_protocol_and_mechanism() {
        let kafka = BTreeMap::from([
            ("security.protocol".to_owned(), "SASL_SSL".to_owned()),
            ("sasl.mechanism".to_owned(), "PLAIN".to_owned()),
        ]);
        let s = SecurityConfig {
            sasl_username: Some("u".into()),
            sasl_password: Some(Secret::new("p")),
            ..SecurityConfig::default()
        };
        assert_eq!(s.validate(&kafka), Ok(()));
        let bad = BTreeMap::from([("security.protocol".to_owned(), "SASL".to_owned())]);
        let e = s.validate(&bad).unwrap_err();
        assert!(e.contains("kafka.\"security.protocol\""), "{e}");
    }

    #[test]
    fn a_password_in_the_raw_kafka_table_is_rejected() {
        let kafka = BTreeMap::from([("sasl.password".to_owned(), "leaky".to_owned())]);
        let e = SecurityConfig::default().validate(&kafka).unwrap_err();
        assert!(e.contains("kafka.\"sasl.password\""), "{e}");
        assert!(!e.contains("leaky"), "the message never repeats the value");
    }
}
