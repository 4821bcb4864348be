//! Roster files (`.csv`, `.json` array or `.jsonl`): parsed and validated as a whole. A bad row
//! rejects the whole file with its line number; nothing is returned, so nothing is published.

use std::collections::{BTreeMap, BTreeSet};

use leadflow_events::json::describe_json_error;
use leadflow_events::{RepRole, RepState, RepStatus, Timestamp, WorkingHours};
use leadflow_route::roster;
use serde::Deserialize;
use serde_json::Value;

/// Why a roster file is refused; nothing of it is returned, so nothing of it is published.
#[derive(Debug, thiserror::Error)]
pub enum RosterError {
    /// The file holds no rep at all.
    #[error("{name}: the roster has no reps")]
    Empty { name: String },
    /// A row, the header or the JSON that is not valid; `line` counts from 1, blank lines included.
    #[error("line {line}: {message}")]
    BadLine { line: u64, message: String },
}

/// CSV columns; list columns separate values with `;`. Only the first four plus `teams` and
/// `max_open_leads` are required.
pub const CSV_COLUMNS: [&str; 17] = [
    "rep_id",
    "name",
    "email",
    "role",
    "teams",
    "territories",
    "segments",
    "max_open_leads",
    "time_zone",
    "days",
    "start",
    "end",
    "status",
    "status_until",
    "manager_id",
    "slack_user_id",
    "crm_owner_id",
];

/// One roster row as people write it (lower-case role and status, lists, flat working hours).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RosterRow {
    pub rep_id: String,
    pub name: String,
    pub email: String,
    pub role: String,
    #[serde(default)]
    pub teams: Vec<String>,
    #[serde(default)]
    pub territories: Vec<String>,
    #[serde(default)]
    pub segments: Vec<String>,
    pub max_open_leads: i64,
    #[serde(default)]
    pub time_zone: Option<String>,
    #[serde(default)]
    pub days: Option<Vec<String>>,
    #[serde(default)]
    pub start: Option<String>,
    #[serde(default)]
    pub end: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub status_until: Option<String>,
    #[serde(default)]
    pub manager_id: Option<String>,
    #[serde(default)]
    pub slack_user_id: Option<String>,
    #[serde(default)]
    pub crm_owner_id: Option<String>,
}

impl RosterRow {
    /// The `RepState` of the row, validated like route validates the topic.
    pub fn into_state(self, now: Timestamp) -> Result<RepState, String> {
        let role = RepRole::parse(&self.role).ok_or_else(|| {
            format!(
                "role {:?} is not one of ae, sdr, manager, account_management, legal, solutions, other",
                self.role
            )
        })?;
        let status = match self
            .status
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => RepStatus::Available,
            Some(s) => RepStatus::parse(s).ok_or_else(|| {
                format!("status {s:?} is not available, busy, out-of-office or inactive")
            })?,
        };
        let status_until = match self
            .status_until
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => None,
            Some(s) => Some(parse_time(s)?),
        };
        let max_open_leads = i32::try_from(self.max_open_leads)
            .map_err(|_| format!("max_open_leads {} is out of range", self.max_open_leads))?;
        let working_hours = match self
            .time_zone
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
        {
            None => {
                if self.days.is_some() || self.start.is_some() || self.end.is_some() {
                    return Err("days/start/end need a time_zone".into());
                }
                None
            }
            Some(tz) => {
                let mut h = WorkingHours::office(&tz);
                if let Some(d) = self.days.filter(|d| !d.is_empty()) {
                    h.days = d;
                }
                if let Some(s) = self.start.filter(|s| !s.is_empty()) {
                    h.start = s;
                }
                if let Some(e) = self.end.filter(|s| !s.is_empty()) {
                    h.end = e;
                }
                Some(h)
            }
        };
        let opt = |s: Option<String>| s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        let state = RepState {
            rep_id: self.rep_id.trim().to_owned(),
            name: self.name.trim().to_owned(),
            email: self.email.trim().to_owned(),
            slack_user_id: opt(self.slack_user_id),
            crm_owner_id: opt(self.crm_owner_id),
            role,
            teams: clean(self.teams, false),
            territories: clean(self.territories, true),
            segments: clean(self.segments, false),
            max_open_leads,
            working_hours,
            status,
            status_until,
            manager_id: opt(self.manager_id),
            updated_at: now,
        };
        roster::validate(&state)?;
        Ok(state)
    }
}

fn clean(v: Vec<String>, upper: bool) -> Vec<String> {
    v.into_iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .map(|s| if upper { s.to_ascii_uppercase() } else { s })
        .collect()
}

/// RFC 3339, or a date (`2026-12-01`, midnight UTC).
pub fn parse_time(s: &str) -> Result<Timestamp, String> {
    if let Ok(t) = Timestamp::parse_rfc3339(s) {
        return Ok(t);
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|dt| Timestamp(dt.and_utc().timestamp_millis()))
        .ok_or_else(|| format!("{s:?} is neither an RFC 3339 time nor a YYYY-MM-DD date"))
}

/// Parses a whole roster file; `name` decides the format (`.csv`, else JSON array or JSON lines).
pub fn parse(name: &str, text: &str, now: Timestamp) -> Result<Vec<RepState>, RosterError> {
    let rows: Rows = if name.to_ascii_lowercase().ends_with(".csv") {
        csv_rows(text)?
    } else {
        json_rows(text)?
    };
    if rows.is_empty() {
        return Err(RosterError::Empty {
            name: name.to_owned(),
        });
    }
    let mut states = Vec::with_capacity(rows.len());
    let mut lines: BTreeMap<String, u64> = BTreeMap::new();
    for (line, row) in rows {
        let bad = |message: String| RosterError::BadLine { line, message };
        let state = row.map_err(&bad)?.into_state(now).map_err(&bad)?;
        if let Some(first) = lines.insert(state.rep_id.clone(), line) {
            return Err(bad(format!(
                "rep_id {} is already defined on line {first}",
                state.rep_id
            )));
        }
        states.push((line, state));
    }
    let ids: BTreeSet<&str> = states.iter().map(|(_, s)| s.rep_id.as_str()).collect();
    for (line, s) in &states {
        if let Some(m) = s.manager_id.as_deref() {
            if !ids.contains(m) {
                return Err(RosterError::BadLine {
                    line: *line,
                    message: format!("manager_id {m} is not a rep of this roster"),
                });
            }
        }
    }
    Ok(states.into_iter().map(|(_, s)| s).collect())
}

/// Rows with the line they start on; a row that does not parse carries its reason.
type Rows = Vec<(u64, Result<RosterRow, String>)>;

fn csv_rows(text: &str) -> Result<Rows, RosterError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| RosterError::BadLine {
            line: 1,
            message: format!("cannot read the header: {e}"),
        })?
        .clone();
    for h in &headers {
        if !CSV_COLUMNS.contains(&h) {
            return Err(RosterError::BadLine {
                line: 1,
                message: format!("unknown column {h:?}; columns: {}", CSV_COLUMNS.join(",")),
            });
        }
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| RosterError::BadLine {
            line: e.position().map_or(0, |p| p.line()),
            message: e.to_string(),
        })?;
        let line = record.position().map_or(0, |p| p.line());
        let mut obj = serde_json::Map::new();
        for (h, v) in headers.iter().zip(record.iter()) {
            if v.is_empty() {
                continue;
            }
            let value = match h {
                "teams" | "territories" | "segments" | "days" => Value::Array(
                    v.split([';', '|'])
                        .map(|s| Value::String(s.trim().to_owned()))
                        .collect(),
                ),
                "max_open_leads" => match v.parse::<i64>() {
                    Ok(n) => Value::from(n),
                    Err(_) => {
                        rows.push((line, Err(format!("max_open_leads {v:?} is not a number"))));
                        continue;
                    }
                },
                _ => Value::String(v.to_owned()),
            };
            obj.insert(h.to_owned(), value);
        }
        if rows.last().is_some_and(|(l, r)| *l == line && r.is_err()) {
            continue;
        }
        rows.push((line, row_of(Value::Object(obj))));
    }
    Ok(rows)
}

fn row_of(v: Value) -> Result<RosterRow, String> {
    serde_json::from_value(v).map_err(|e| e.to_string())
}

fn json_rows(text: &str) -> Result<Rows, RosterError> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') {
        let starts = array_element_lines(text);
        let values: Vec<Value> = serde_json::from_str(text).map_err(|e| RosterError::BadLine {
            line: e.line() as u64,
            message: describe_json_error(&e),
        })?;
        Ok(values
            .into_iter()
            .enumerate()
            .map(|(i, v)| (starts.get(i).copied().unwrap_or(0), row_of(v)))
            .collect())
    } else {
        let mut rows = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let n = i as u64 + 1;
            if line.trim().is_empty() {
                continue;
            }
            let row = serde_json::from_str::<Value>(line)
                .map_err(|e| describe_json_error(&e))
                .and_then(row_of);
            rows.push((n, row));
        }
        Ok(rows)
    }
}

/// The 1-based line on which each top-level element of a JSON array starts.
fn array_element_lines(text: &str) -> Vec<u64> {
    let (mut line, mut depth, mut in_str, mut escaped) = (1u64, 0i32, false, false);
    let mut starts = Vec::new();
    let mut expecting = false;
    for c in text.chars() {
        if c == '\n' {
            line += 1;
        }
        if in_str {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_str = false,
                _ => {}
            }
            continue;
        }
        if depth == 1 && expecting && !c.is_whitespace() && c != ']' {
            starts.push(line);
            expecting = false;
        }
        match c {
            '"' => in_str = true,
            '[' | '{' => {
                depth += 1;
                if depth == 1 {
                    expecting = true;
                }
            }
            ']' | '}' => depth -= 1,
            ',' if depth == 1 => expecting = true,
            _ => {}
        }
    }
    starts
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Timestamp = leadflow_events::samples::T0;

    const CSV: &str = "\
rep_id,name,email,role,teams,territories,segments,max_open_leads,time_zone,status,manager_id
mgr-1,Mia Manager,mia@example.com,manager,ae;sdr,,,0,Europe/Paris,available,
ae-1,Ada AE,ada@example.com,ae,ae,FR;emea,201-1000;1001-5000,8,Europe/Paris,available,mgr-1
sdr-1,Sam SDR,sam@example.com,sdr,sdr,NA,,12,America/New_York,out-of-office,mgr-1
";

    #[test]
    fn csv_roster_parses() {
        let reps = parse("roster.csv", CSV, NOW).unwrap();
        assert_eq!(reps.len(), 3);
        assert_eq!(reps[1].territories, ["FR", "EMEA"]);
        assert_eq!(reps[1].segments, ["201-1000", "1001-5000"]);
        assert_eq!(reps[1].role, RepRole::Ae);
        assert_eq!(reps[2].status, RepStatus::OutOfOffice);
        assert_eq!(
            reps[2].working_hours.as_ref().unwrap().time_zone,
            "America/New_York"
        );
        assert_eq!(reps[0].teams, ["ae", "sdr"]);
    }

    #[test]
    fn a_bad_row_rejects_the_file_with_its_line() {
        let cases = [
            (CSV.replace("201-1000;1001-5000", "mid-size"), 3, "segment"),
            (CSV.replace(",sdr,sdr,", ",wizard,sdr,"), 4, "role"),
            (CSV.replace("sam@example.com", "sam"), 4, "email"),
            (CSV.replace(",12,", ",twelve,"), 4, "max_open_leads"),
            (CSV.replace("America/New_York", "Mars/Base"), 4, "time_zone"),
            (
                CSV.replace(",mgr-1\nsdr", ",mgr-9\nsdr"),
                3,
                "manager_id mgr-9",
            ),
            (
                CSV.replace("sdr-1,", "ae-1,"),
                4,
                "already defined on line 3",
            ),
            (CSV.replace(",NA,", ",Narnia,"), 4, "territory"),
        ];
        for (text, line, want) in cases {
            let err = parse("r.csv", &text, NOW).expect_err(want);
            let msg = err.to_string();
            assert!(msg.starts_with(&format!("line {line}: ")), "{want}: {msg}");
            assert!(msg.contains(want), "{want}: {msg}");
            assert!(
                matches!(err, RosterError::BadLine { .. }),
                "{want}: {err:?}"
            );
        }
    }

    #[test]
    fn json_array_and_lines_report_lines() {
        let json = r#"[
  {"rep_id": "m", "name": "M", "email": "m@x.io", "role": "manager", "max_open_leads": 0},
  {"rep_id": "a", "name": "A", "email": "a@x.io", "role": "ae", "teams": ["ae"],
   "max_open_leads": 5, "manager_id": "m", "status": "busy"},
  {"rep_id": "b", "name": "B", "email": "b@x.io", "role": "ae", "teams": ["ae"],
   "max_open_leads": -1}
]"#;
        let err = parse("r.json", json, NOW).unwrap_err().to_string();
        assert!(err.starts_with("line 5: "), "{err}");
        let ok = parse("r.json", &json.replace("-1", "3"), NOW).unwrap();
        assert_eq!(ok[1].status, RepStatus::Busy);
        let lines = "{\"rep_id\":\"a\",\"name\":\"A\",\"email\":\"a@x.io\",\"role\":\"ae\",\"teams\":[\"ae\"],\"max_open_leads\":1}\n\n{\"rep_id\":\"b\",\"nme\":\"B\"}\n";
        let err = parse("r.jsonl", lines, NOW).unwrap_err().to_string();
        assert!(err.starts_with("line 3: ") && err.contains("nme"), "{err}");
    }

    #[test]
    fn the_sample_roster_in_deploy_is_valid() {
        let text = include_str!("../../../deploy/roster.csv");
        let reps = parse("roster.csv", text, NOW).unwrap();
        assert!(reps.len() >= 12, "{}", reps.len());
        for team in [
            "ae",
            "sdr",
            "sales",
            "account_management",
            "legal",
            "solutions",
        ] {
            assert!(
                reps.iter()
                    .any(|r| r.role != RepRole::Manager && r.teams.iter().any(|t| t == team)),
                "nobody takes {team}"
            );
            let (roster, _) = leadflow_route::Roster::from_states(reps.clone());
            assert!(
                roster.manager_of(team, NOW).is_some(),
                "{team} has no manager"
            );
        }
    }
}
