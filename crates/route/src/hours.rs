//! Working hours: is a rep at work at an instant, in their own time zone?

use chrono::{Datelike, TimeZone, Timelike};
use chrono_tz::Tz;
use leadflow_events::{Timestamp, WorkingHours};

/// A rep's weekly working window, parsed once when the roster entry arrives.
#[derive(Clone, Debug, PartialEq)]
pub struct ParsedHours {
    pub tz: Tz,
    /// Bit `n` set = ISO weekday `n` (Monday = 0 .. Sunday = 6) is a working day.
    pub days: u8,
    /// Minutes after local midnight, start inclusive.
    pub start: u16,
    /// Minutes after local midnight, end exclusive; `end <= start` spans midnight.
    pub end: u16,
}

const DAY_NAMES: [&str; 7] = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"];

impl ParsedHours {
    /// Parses and validates; the message names the part that is wrong.
    pub fn parse(h: &WorkingHours) -> Result<Self, String> {
        let tz: Tz = h.time_zone.parse().map_err(|_| {
            format!(
                "working_hours.time_zone {:?} is not an IANA time zone",
                h.time_zone
            )
        })?;
        let mut days = 0u8;
        for d in &h.days {
            let up = d.trim().to_ascii_uppercase();
            let idx = DAY_NAMES
                .iter()
                .position(|n| up.starts_with(n))
                .ok_or_else(|| format!("working_hours.days: {d:?} is not MON..SUN"))?;
            days |= 1 << idx;
        }
        if days == 0 {
            return Err("working_hours.days is empty".into());
        }
        let start = parse_hm(&h.start)
            .ok_or_else(|| format!("working_hours.start {:?} is not HH:MM", h.start))?;
        let end = parse_hm(&h.end)
            .ok_or_else(|| format!("working_hours.end {:?} is not HH:MM", h.end))?;
        if start == end {
            return Err("working_hours.start equals working_hours.end".into());
        }
        Ok(Self {
            tz,
            days,
            start,
            end,
        })
    }

    /// Whether `at` falls in the window (local day and time in the rep's zone). A window spanning
    /// midnight belongs to the day it starts on.
    pub fn is_working(&self, at: Timestamp) -> bool {
        let Some(local) = self.tz.timestamp_millis_opt(at.0).single() else {
            return false;
        };
        let minute = u16::try_from(local.hour() * 60 + local.minute()).unwrap_or(0);
        let day = local.weekday().num_days_from_monday();
        let day_on = |d: u32| self.days & (1 << d) != 0;
        if self.start < self.end {
            day_on(day) && minute >= self.start && minute < self.end
        } else {
            // e.g. 22:00-06:00: the evening part on a working day, the morning part after one
            (day_on(day) && minute >= self.start) || (day_on((day + 6) % 7) && minute < self.end)
        }
    }
}

fn parse_hm(s: &str) -> Option<u16> {
    let (h, m) = s.trim().split_once(':')?;
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(rfc: &str) -> Timestamp {
        Timestamp::parse_rfc3339(rfc).unwrap()
    }

    #[test]
    fn office_hours_in_the_reps_zone_across_dst() {
        let h = ParsedHours::parse(&WorkingHours::office("Europe/Paris")).unwrap();
        // Friday 2026-11-20 09:30 UTC = 10:30 Paris
        assert!(h.is_working(at("2026-11-20T09:30:00Z")));
        // 17:30 UTC = 18:30 Paris: closed
        assert!(!h.is_working(at("2026-11-20T17:30:00Z")));
        // Saturday
        assert!(!h.is_working(at("2026-11-21T10:00:00Z")));
        // summer time: 07:30 UTC = 09:30 CEST
        assert!(h.is_working(at("2026-07-01T07:30:00Z")));
        assert!(!h.is_working(at("2026-07-01T06:30:00Z")));
        let ny = ParsedHours::parse(&WorkingHours::office("America/New_York")).unwrap();
        assert!(
            !ny.is_working(at("2026-11-20T09:30:00Z")),
            "04:30 in New York"
        );
    }

    #[test]
    fn overnight_windows_and_bad_values() {
        let mut w = WorkingHours::office("UTC");
        w.start = "22:00".into();
        w.end = "06:00".into();
        let h = ParsedHours::parse(&w).unwrap();
        assert!(h.is_working(at("2026-11-20T23:00:00Z")), "Friday night");
        assert!(
            h.is_working(at("2026-11-21T05:00:00Z")),
            "Saturday morning, after Friday"
        );
        assert!(
            !h.is_working(at("2026-11-22T05:00:00Z")),
            "Sunday morning, after Saturday"
        );
        w.time_zone = "Mars/Olympus".into();
        assert!(ParsedHours::parse(&w).unwrap_err().contains("time_zone"));
        let mut w = WorkingHours::office("UTC");
        w.start = "25:00".into();
        assert!(ParsedHours::parse(&w).unwrap_err().contains("start"));
        w.start = "09:00".into();
        w.days = vec!["FUNDAY".into()];
        assert!(ParsedHours::parse(&w).unwrap_err().contains("days"));
    }
}
