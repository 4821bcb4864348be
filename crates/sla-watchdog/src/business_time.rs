//! Business time elapsed between two instants, on the same calendar tier uses for the deadlines.

use chrono::Duration;
use leadflow_events::Timestamp;
use leadflow_tier::Calendar;

/// Seconds of business time in `from..to` (0 when `to <= from`): only the parts of business days
/// between opening and closing count, so a lead that arrives Friday 17:55 and is contacted Monday
/// 09:05 waited 10 business minutes.
pub fn business_seconds(calendar: &Calendar, from: Timestamp, to: Timestamp) -> f64 {
    if to <= from {
        return 0.0;
    }
    let (start, end) = (from.to_datetime(), to.to_datetime());
    let mut day = calendar.local(start).date_naive();
    let last = calendar.local(end).date_naive();
    let mut total = Duration::zero();
    // bounded: one step per calendar day between the two instants
    while day <= last {
        if calendar.is_business_day(day) {
            let open = calendar.at(day, calendar.open_time()).max(start);
            let close = calendar.at(day, calendar.close_time()).min(end);
            if close > open {
                total += close - open;
            }
        }
        match day.succ_opt() {
            Some(next) => day = next,
            None => break,
        }
    }
    total.num_milliseconds() as f64 / 1000.0
}

#[cfg(test)]
mod tests {
    use leadflow_tier::CalendarSettings;

    use super::*;

    fn ts(s: &str) -> Timestamp {
        Timestamp::parse_rfc3339(s).unwrap()
    }

    #[test]
    fn counts_only_open_hours() {
        let cal = CalendarSettings::default().build().unwrap();
        // Friday 27 Nov 2026 17:55 CET -> Monday 30 Nov 09:05 CET: 5 + 5 business minutes
        let s = business_seconds(&cal, ts("2026-11-27T16:55:00Z"), ts("2026-11-30T08:05:00Z"));
        assert_eq!(s, 600.0);
        // inside one business day
        assert_eq!(
            business_seconds(&cal, ts("2026-11-30T09:00:00Z"), ts("2026-11-30T09:01:30Z")),
            90.0
        );
        // Christmas Day (holiday) counts nothing
        assert_eq!(
            business_seconds(&cal, ts("2026-12-25T08:00:00Z"), ts("2026-12-25T17:00:00Z")),
            0.0
        );
        assert_eq!(
            business_seconds(&cal, ts("2026-11-30T09:00:00Z"), ts("2026-11-30T08:00:00Z")),
            0.0
        );
    }
}
