//! `[stage]` settings of the route services (`leadflow-route` and `leadflow-route-reassign`).
//!
//! ```toml
//! [stage]
//! booking_url = "https://meetings.example.com/{rep_id}/intro"
//! unroutable_owner = "revops"
//! state_window_days = 30
//! ```

use leadflow_runtime::StageSettings;
use serde::{Deserialize, Serialize};

use crate::router::RouterConfig;

/// Route's settings; `deploy/config/route.toml` documents every key with these defaults.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RouteSettings {
    /// Self-serve booking link put on hot escalations only (never on captures); `{rep_id}` is
    /// replaced by the assignee's rep id. Empty: no booking link.
    pub booking_url: String,
    /// Team that owns a lead nobody can take (no eligible rep and no manager in the pool): the
    /// exception record's owner.
    pub unroutable_owner: String,
    /// Days of `handoff.packets` and `handoff.activity` replayed at start to rebuild load, rotation
    /// and account owners. 0 replays everything retained. Leads older than this count as closed.
    pub state_window_days: u32,
}

impl Default for RouteSettings {
    fn default() -> Self {
        Self {
            booking_url: "https://meetings.example.com/{rep_id}/intro".into(),
            unroutable_owner: "revops".into(),
            state_window_days: 30,
        }
    }
}

impl StageSettings for RouteSettings {
    fn validate(&self) -> Result<(), String> {
        let url = self.booking_url.trim();
        if !(url.is_empty() || url.starts_with("https://") || url.starts_with("http://")) {
            return Err(format!(
                "stage.booking_url {url:?} must be an http(s) URL or empty"
            ));
        }
        if self.unroutable_owner.trim().is_empty() {
            return Err("stage.unroutable_owner must name a team".into());
        }
        if self.state_window_days > 3650 {
            return Err("stage.state_window_days must be at most 3650".into());
        }
        Ok(())
    }
}

impl RouteSettings {
    pub fn router_config(&self) -> RouterConfig {
        RouterConfig {
            booking_url: self.booking_url.trim().to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deploy_file_equals_the_defaults() {
        let text = include_str!("../../../deploy/config/route.toml");
        #[derive(Deserialize)]
        struct File {
            stage: RouteSettings,
        }
        let parsed: File = toml_stage(text);
        assert_eq!(parsed.stage, RouteSettings::default());
        assert!(RouteSettings::default().validate().is_ok());
    }

    fn toml_stage<T: serde::de::DeserializeOwned>(text: &str) -> T {
        use figment::Figment;
        use figment::providers::{Format, Toml};
        Figment::from(Toml::string(text)).extract().unwrap()
    }

    #[test]
    fn unknown_keys_and_bad_values_are_rejected() {
        let r: Result<RouteSettings, _> = serde_json::from_str(r#"{"booking_link": "https://x"}"#);
        assert!(r.unwrap_err().to_string().contains("unknown field"));
        let s = RouteSettings {
            booking_url: "cal.example.com".into(),
            ..RouteSettings::default()
        };
        assert!(s.validate().unwrap_err().contains("booking_url"));
    }
}
