//! `[stage]` settings of the nurture service: which tier enrols in which HubSpot list, the retries of
//! a failed enrolment, who owns what cannot be enrolled, and the HubSpot connection.
//! `deploy/config/nurture.toml` documents every key with its default; `RULES.md` explains them.
//!
//! ```toml
//! [stage]
//! retry_attempts = 5              # attempts per enrolment before the exception
//! initial_backoff_ms = 500        # doubled per retry, capped at max_backoff_ms
//! max_backoff_ms = 8000
//! exceptions_owner = "marketing-ops"
//!
//! [stage.sequences]               # tier -> HubSpot list id (the list's workflow runs the sequence)
//! NURTURE_24H = "101"
//! NURTURE = "102"
//!
//! [stage.hubspot]
//! api_url = "https://api.hubapi.com"
//! token = { env = "HUBSPOT_TOKEN" }
//! lead_id_property = "leadflow_lead_id"   # custom contact property set to the lead id ("" = none)
//! ```

use std::collections::BTreeMap;

use leadflow_runtime::{Secret, StageSettings};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NurtureSettings {
    /// Tier name → HubSpot list id whose membership starts the tier's sequence. A no-handoff tier
    /// that is not listed is not enrolled (counted as `no_sequence`).
    pub sequences: BTreeMap<String, String>,
    /// Attempts of one enrolment (the HubSpot unavailable or rate limiting) before it becomes an
    /// exception for `exceptions_owner`.
    pub retry_attempts: u32,
    pub initial_backoff_ms: u64,
    pub max_backoff_ms: u64,
    /// One HTTP call's timeout.
    pub attempt_timeout_ms: u64,
    /// Owner of the exceptions the stage raises (no email, enrolment failed or refused).
    pub exceptions_owner: String,
    /// Enrolments of one partition at once (outputs and offsets stay in partition order).
    pub partition_concurrency: usize,
    pub hubspot: HubspotConnection,
}

impl Default for NurtureSettings {
    fn default() -> Self {
        Self {
            sequences: BTreeMap::from([
                // four-band (tier POLICY.md B1)
                ("NURTURE_24H".to_owned(), "101".to_owned()),
                ("NURTURE".to_owned(), "102".to_owned()),
                // hql-mql (B2)
                ("MEL".to_owned(), "101".to_owned()),
                ("COLD".to_owned(), "102".to_owned()),
            ]),
            retry_attempts: 5,
            initial_backoff_ms: 500,
            max_backoff_ms: 8_000,
            attempt_timeout_ms: 10_000,
            exceptions_owner: "marketing-ops".into(),
            partition_concurrency: 8,
            hubspot: HubspotConnection::default(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HubspotConnection {
    pub api_url: String,
    /// Private-app access token (scopes: crm.objects.contacts.write, crm.lists.write). Secret:
    /// env/file.
    pub token: Option<Secret>,
    /// The contact's record link on the receipt; `{contact_id}` is replaced.
    pub record_url: String,
    /// A custom contact property (single-line text) the upsert sets to the lead id, so a HubSpot
    /// workflow that reports the contact's reply names the lead (ingest RULES.md A3). Empty: not
    /// set (the reply is then matched by email).
    pub lead_id_property: String,
}

impl Default for HubspotConnection {
    fn default() -> Self {
        Self {
            api_url: "https://api.hubapi.com".into(),
            token: None,
            record_url: "https://app.hubspot.com/contacts/0/record/0-1/{contact_id}".into(),
            lead_id_property: "leadflow_lead_id".into(),
        }
    }
}

impl StageSettings for NurtureSettings {
    fn validate(&self) -> Result<(), String> {
        if self.hubspot.token.as_ref().is_none_or(Secret::is_empty) {
            return Err("hubspot.token is not set (LEADFLOW_NURTURE__HUBSPOT__TOKEN, or { env = \"VAR\" } / { file = \"path\" } in the file): enrolments go through HubSpot".into());
        }
        if !(self.hubspot.api_url.starts_with("https://")
            || self.hubspot.api_url.starts_with("http://"))
        {
            return Err(format!(
                "hubspot.api_url {:?} must be an http(s) URL",
                self.hubspot.api_url
            ));
        }
        for (tier, list) in &self.sequences {
            if tier.trim().is_empty() || list.trim().is_empty() {
                return Err(format!(
                    "sequences: {tier:?} = {list:?}: a tier name and a list id are both required"
                ));
            }
            if !list
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(format!(
                    "sequences.{tier}: list id {list:?} must be letters, digits, - or _ (HubSpot list ids are numbers)"
                ));
            }
        }
        if self.retry_attempts == 0 {
            return Err("retry_attempts must be at least 1".into());
        }
        if self.initial_backoff_ms == 0 || self.initial_backoff_ms > self.max_backoff_ms {
            return Err(format!(
                "initial_backoff_ms ({}) must be at least 1 and no more than max_backoff_ms ({})",
                self.initial_backoff_ms, self.max_backoff_ms
            ));
        }
        if self.partition_concurrency == 0 {
            return Err("partition_concurrency must be at least 1".into());
        }
        if self.exceptions_owner.trim().is_empty() {
            return Err("exceptions_owner must not be empty".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> NurtureSettings {
        NurtureSettings {
            hubspot: HubspotConnection {
                token: Some(Secret::new("pat-1")),
                ..HubspotConnection::default()
            },
            ..NurtureSettings::default()
        }
    }

    /// deploy/config/nurture.toml documents every key with its default: its `[stage]` table must
    /// equal `NurtureSettings::default()`.
    #[test]
    fn deploy_config_equals_the_defaults() {
        use figment::Figment;
        use figment::providers::{Format, Toml};
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../deploy/config/nurture.toml"
        );
        let stage: NurtureSettings = Figment::from(Toml::file(path))
            .extract_inner("stage")
            .unwrap();
        assert_eq!(stage, NurtureSettings::default());
        // the demo's: the sandbox's HubSpot, valid
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../deploy/demo/nurture.toml"
        );
        let demo: NurtureSettings = Figment::from(Toml::file(path))
            .extract_inner("stage")
            .unwrap();
        assert_eq!(demo.validate(), Ok(()));
        assert_eq!(demo.sequences, NurtureSettings::default().sequences);
    }

    #[test]
    fn defaults_with_a_token_are_valid_and_each_bad_value_is_named() {
        assert_eq!(valid().validate(), Ok(()));
        type Breaks = fn(&mut NurtureSettings);
        let cases: [(Breaks, &str); 6] = [
            (|s| s.hubspot.token = None, "hubspot.token is not set"),
            (|s| s.hubspot.api_url = "ftp://x".into(), "hubspot.api_url"),
            (
                |s| {
                    s.sequences.insert("NURTURE".into(), "a b".into());
                },
                "sequences.NURTURE: list id",
            ),
            (|s| s.retry_attempts = 0, "retry_attempts"),
            (|s| s.initial_backoff_ms = 9_000, "initial_backoff_ms"),
            (|s| s.exceptions_owner = " ".into(), "exceptions_owner"),
        ];
        for (break_it, expected) in cases {
            let mut s = valid();
            break_it(&mut s);
            let err = s.validate().unwrap_err();
            assert!(err.contains(expected), "{err} should name {expected}");
        }
    }
}
