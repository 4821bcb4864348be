//! The `[stage]` table of `leadflow-sla-watchdog` (defaults = `deploy/config/sla-watchdog.toml`).

use leadflow_runtime::StageSettings;
use leadflow_tier::{Calendar, CalendarSettings};
use serde::{Deserialize, Serialize};

use crate::engine::EngineRules;

/// Settings of the watchdog. Every number is explained in `RULES.md`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WatchdogSettings {
    /// How long after a deadline a closing activity with an earlier event time may still arrive:
    /// timers fire at `due_at + allowed_lateness_ms`.
    pub allowed_lateness_ms: u64,
    /// Deadlines overdue by more than this when they would fire are counted, not escalated.
    pub stale_after_hours: u64,
    /// State kept and replayed at start: packets, decisions, activity and escalations of this many
    /// days (must cover the longest SLA plus `stale_after_hours`).
    pub retention_days: u64,
    /// How often due timers are checked (a timer fires at most this late, plus the broker's ack).
    pub tick_ms: u64,
    /// Calendar used to count time to first contact in business seconds (tier's calendar).
    pub calendar: CalendarSettings,
}

impl Default for WatchdogSettings {
    fn default() -> Self {
        Self {
            allowed_lateness_ms: 30_000,
            stale_after_hours: 24,
            retention_days: 14,
            tick_ms: 200,
            calendar: CalendarSettings::default(),
        }
    }
}

impl StageSettings for WatchdogSettings {
    fn validate(&self) -> Result<(), String> {
        if self.tick_ms == 0 || self.tick_ms > 1_000 {
            return Err(format!(
                "tick_ms must be 1..=1000 (a timer fires within 1 s), got {}",
                self.tick_ms
            ));
        }
        if self.retention_days == 0 {
            return Err("retention_days must be at least 1".into());
        }
        if self.stale_after_hours == 0 {
            return Err("stale_after_hours must be at least 1".into());
        }
        if self.stale_after_hours > self.retention_days * 24 {
            return Err(format!(
                "stale_after_hours ({}) must not exceed retention_days ({}) in hours",
                self.stale_after_hours, self.retention_days
            ));
        }
        self.calendar.build().map(|_| ()).map_err(|e| e.0)
    }
}

impl WatchdogSettings {
    /// The engine's timing rules.
    pub fn rules(&self) -> EngineRules {
        EngineRules {
            allowed_lateness_ms: i64::try_from(self.allowed_lateness_ms).unwrap_or(i64::MAX),
            stale_after_ms: i64::try_from(self.stale_after_hours.saturating_mul(3_600_000))
                .unwrap_or(i64::MAX),
            retention_ms: i64::try_from(self.retention_days.saturating_mul(86_400_000))
                .unwrap_or(i64::MAX),
        }
    }

    /// The validated calendar.
    pub fn calendar(&self) -> Result<Calendar, String> {
        self.calendar.build().map_err(|e| e.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage_table(path: &str) -> WatchdogSettings {
        use figment::providers::{Format, Toml};
        let file = format!("{}/../../{path}", env!("CARGO_MANIFEST_DIR"));
        figment::Figment::from(Toml::file(file))
            .extract_inner("stage")
            .unwrap()
    }

    #[test]
    fn the_deploy_file_documents_the_defaults() {
        assert_eq!(
            stage_table("deploy/config/sla-watchdog.toml"),
            WatchdogSettings::default()
        );
        // the demo file is valid and short
        let demo = stage_table("deploy/demo/sla-watchdog.toml");
        assert_eq!(demo.validate(), Ok(()));
        assert!(demo.allowed_lateness_ms < 5_000);
    }

    #[test]
    fn defaults_validate_and_bad_values_name_the_key() {
        assert_eq!(WatchdogSettings::default().validate(), Ok(()));
        let s = WatchdogSettings {
            tick_ms: 5_000,
            ..Default::default()
        };
        assert!(s.validate().unwrap_err().contains("tick_ms"));
        let s = WatchdogSettings {
            stale_after_hours: 1_000,
            ..Default::default()
        };
        assert!(s.validate().unwrap_err().contains("stale_after_hours"));
    }
}
