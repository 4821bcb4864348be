//! `schemas/rep_state.avsc`: one rep of the roster on the compacted `reps` topic (keyed by rep id).

use serde::{Deserialize, Serialize};

use crate::event::impl_event;
use crate::time::Timestamp;

/// A rep's current state. The latest record per rep id wins; a tombstone removes the rep.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RepState {
    pub rep_id: String,
    pub name: String,
    pub email: String,
    #[serde(default)]
    pub slack_user_id: Option<String>,
    #[serde(default)]
    pub crm_owner_id: Option<String>,
    #[serde(default)]
    pub role: RepRole,
    #[serde(default)]
    pub teams: Vec<String>,
    /// ISO country codes or region names; empty covers every territory.
    #[serde(default)]
    pub territories: Vec<String>,
    /// Employee bands as enrich emits them; empty covers every segment.
    #[serde(default)]
    pub segments: Vec<String>,
    pub max_open_leads: i32,
    /// `None`: always working.
    #[serde(default)]
    pub working_hours: Option<WorkingHours>,
    #[serde(default)]
    pub status: RepStatus,
    #[serde(default)]
    pub status_until: Option<Timestamp>,
    #[serde(default)]
    pub manager_id: Option<String>,
    pub updated_at: Timestamp,
}

impl_event!(RepState, key = rep_id);

#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RepRole {
    Ae,
    Sdr,
    Manager,
    AccountManagement,
    Legal,
    Solutions,
    #[default]
    Other,
}

impl RepRole {
    pub const ALL: [RepRole; 7] = [
        RepRole::Ae,
        RepRole::Sdr,
        RepRole::Manager,
        RepRole::AccountManagement,
        RepRole::Legal,
        RepRole::Solutions,
        RepRole::Other,
    ];

    /// Lower-case name as rosters and packets spell it: `ae`, `account_management`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            RepRole::Ae => "ae",
            RepRole::Sdr => "sdr",
            RepRole::Manager => "manager",
            RepRole::AccountManagement => "account_management",
            RepRole::Legal => "legal",
            RepRole::Solutions => "solutions",
            RepRole::Other => "other",
        }
    }

    /// Parses the lower- or upper-case name.
    pub fn parse(s: &str) -> Option<RepRole> {
        let s = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        RepRole::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RepStatus {
    Available,
    Busy,
    OutOfOffice,
    #[default]
    Inactive,
}

impl RepStatus {
    pub const ALL: [RepStatus; 4] = [
        RepStatus::Available,
        RepStatus::Busy,
        RepStatus::OutOfOffice,
        RepStatus::Inactive,
    ];

    /// Lower-case name with dashes, as the CLI spells it: `available`, `out-of-office`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            RepStatus::Available => "available",
            RepStatus::Busy => "busy",
            RepStatus::OutOfOffice => "out-of-office",
            RepStatus::Inactive => "inactive",
        }
    }

    /// Parses `out-of-office`, `out_of_office`, `OUT_OF_OFFICE`, `ooo`, ...
    pub fn parse(s: &str) -> Option<RepStatus> {
        let s = s.trim().to_ascii_lowercase().replace(['_', ' '], "-");
        if s == "ooo" {
            return Some(RepStatus::OutOfOffice);
        }
        RepStatus::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// A weekly working window in the rep's own time zone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkingHours {
    /// IANA time zone, e.g. `Europe/Paris`.
    pub time_zone: String,
    /// `MON` .. `SUN`.
    #[serde(default = "default_days")]
    pub days: Vec<String>,
    /// `HH:MM`, inclusive.
    #[serde(default = "default_start")]
    pub start: String,
    /// `HH:MM`, exclusive; before `start` spans midnight.
    #[serde(default = "default_end")]
    pub end: String,
}

fn default_days() -> Vec<String> {
    ["MON", "TUE", "WED", "THU", "FRI"]
        .into_iter()
        .map(String::from)
        .collect()
}

fn default_start() -> String {
    "09:00".into()
}

fn default_end() -> String {
    "18:00".into()
}

impl WorkingHours {
    /// Monday to Friday, 09:00 to 18:00 in `time_zone`.
    pub fn office(time_zone: &str) -> Self {
        Self {
            time_zone: time_zone.into(),
            days: default_days(),
            start: default_start(),
            end: default_end(),
        }
    }
}
