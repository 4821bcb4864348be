//! The team's business calendar: time zone, working days, opening hours and public holidays.
//!
//! Pure: every question takes the instant to ask about; nothing reads the wall clock. Local times are
//! resolved through the IANA time zone, so windows and deadlines are right on both sides of a daylight
//! saving change (a business day is always `open..close` local time, whatever its UTC offset).

use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc,
    Weekday,
};
use chrono_tz::Tz;

use std::collections::BTreeSet;
use std::sync::Mutex;

use crate::holidays::{HolidayOutsideYear, Holidays};

/// Why a calendar cannot be built. The only home of the calendar's validation: the settings parse
/// the strings, the calendar checks what they mean. Messages name the key within `[stage.calendar]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("working_days must list at least one day")]
    NoWorkingDays,
    #[error("working_days lists {0} twice")]
    DuplicateWorkingDay(Weekday),
    #[error("open ({}) must be before close ({})", .open.format("%H:%M"), .close.format("%H:%M"))]
    OpenNotBeforeClose { open: NaiveTime, close: NaiveTime },
    #[error(transparent)]
    HolidayOutsideYear(#[from] HolidayOutsideYear),
}

/// Business hours of one team.
#[derive(Clone, Debug, PartialEq)]
pub struct Calendar {
    tz: Tz,
    /// Indexed by `Weekday::num_days_from_monday`.
    working_days: [bool; 7],
    open: NaiveTime,
    close: NaiveTime,
    holidays: Holidays,
}

impl Calendar {
    /// A calendar open `open..close` local time on `working_days`, closed on `holidays`.
    pub fn new(
        tz: Tz,
        working_days: &[Weekday],
        open: NaiveTime,
        close: NaiveTime,
        holidays: Holidays,
    ) -> Result<Self, CalendarError> {
        if working_days.is_empty() {
            return Err(CalendarError::NoWorkingDays);
        }
        if open >= close {
            return Err(CalendarError::OpenNotBeforeClose { open, close });
        }
        let mut days = [false; 7];
        for d in working_days {
            let slot = &mut days[d.num_days_from_monday() as usize];
            if *slot {
                return Err(CalendarError::DuplicateWorkingDay(*d));
            }
            *slot = true;
        }
        Ok(Self {
            tz,
            working_days: days,
            open,
            close,
            holidays,
        })
    }

    /// The public holidays (rules and per-year lists).
    pub fn holidays(&self) -> &Holidays {
        &self.holidays
    }

    /// The calendar knows the public holidays of `year` (POLICY.md rule C3: a decision in a year it
    /// does not know says so, and the service warns once per year).
    pub fn knows_year(&self, year: i32) -> bool {
        self.holidays.knows_year(year)
    }

    pub fn timezone(&self) -> Tz {
        self.tz
    }

    pub fn open_time(&self) -> NaiveTime {
        self.open
    }

    pub fn close_time(&self) -> NaiveTime {
        self.close
    }

    /// The working days in week order (Monday first).
    pub fn working_days(&self) -> Vec<Weekday> {
        let mut out = Vec::new();
        let mut d = Weekday::Mon;
        for _ in 0..7 {
            if self.working_days[d.num_days_from_monday() as usize] {
                out.push(d);
            }
            d = d.succ();
        }
        out
    }

    pub fn is_holiday(&self, date: NaiveDate) -> bool {
        self.holidays.is_holiday(date)
    }

    /// A working day that is not a public holiday.
    pub fn is_business_day(&self, date: NaiveDate) -> bool {
        self.working_days[date.weekday().num_days_from_monday() as usize] && !self.is_holiday(date)
    }

    /// The instant in the team's time zone.
    pub fn local(&self, t: DateTime<Utc>) -> DateTime<Tz> {
        t.with_timezone(&self.tz)
    }

    /// The instant of local `time` on `date`. A time that falls in a daylight-saving gap moves forward
    /// to the first local time that exists; an ambiguous one (the repeated hour) takes the earlier.
    pub fn at(&self, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
        let mut local = date.and_time(time);
        for _ in 0..=96 {
            match self.tz.from_local_datetime(&local) {
                LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => {
                    return t.with_timezone(&Utc);
                }
                LocalResult::None => local += Duration::minutes(15),
            }
        }
        // No zone has a gap longer than a day; read the wall time as UTC rather than fail.
        Utc.from_utc_datetime(&NaiveDateTime::new(date, time))
    }

    /// Inside business hours: a business day, `open <= local time < close`.
    pub fn is_open(&self, t: DateTime<Utc>) -> bool {
        let local = self.local(t);
        let date = local.date_naive();
        self.is_business_day(date) && self.at(date, self.open) <= t && t < self.at(date, self.close)
    }

    /// How many days a search for a business day may scan: every 7 consecutive days hold a working day
    /// and each holiday removes at most one; a scan crosses at most two years' holidays.
    fn scan_limit(&self) -> usize {
        7 * (2 * self.holidays.max_per_year() + 2)
    }

    /// The first business day on or after `date` (`date` itself when it is one).
    pub fn business_day_from(&self, date: NaiveDate) -> NaiveDate {
        let mut d = date;
        for _ in 0..self.scan_limit() {
            if self.is_business_day(d) {
                return d;
            }
            match d.succ_opt() {
                Some(next) => d = next,
                None => break,
            }
        }
        d
    }

    /// The first business day strictly after `date`.
    pub fn next_business_day(&self, date: NaiveDate) -> NaiveDate {
        match date.succ_opt() {
            Some(next) => self.business_day_from(next),
            None => date,
        }
    }

    /// Closing time of the business day `t` falls on (meaningful when `t` is inside business hours).
    pub fn closing_on_day_of(&self, t: DateTime<Utc>) -> DateTime<Utc> {
        self.at(self.local(t).date_naive(), self.close)
    }

    /// The first instant strictly after `t` that is local `time` on a business day, e.g. "10:00 next
    /// business morning": the same day for an arrival before 10:00 on a business day.
    pub fn next_business_time_at(&self, t: DateTime<Utc>, time: NaiveTime) -> DateTime<Utc> {
        let today = self.local(t).date_naive();
        let day = self.business_day_from(today);
        let candidate = self.at(day, time);
        if candidate > t {
            candidate
        } else {
            self.at(self.next_business_day(day), time)
        }
    }

    /// `t` plus `duration` of business time: only the time inside business hours counts, so a clock
    /// started outside hours starts at the next opening, and one that runs past closing continues at
    /// the next business day's opening. A zero duration gives the next instant the team is open.
    pub fn add_business_time(&self, t: DateTime<Utc>, duration: Duration) -> DateTime<Utc> {
        let mut remaining = duration.max(Duration::zero());
        let day_length = self.close - self.open;
        let days_needed = remaining.num_minutes() / day_length.num_minutes().max(1) + 2;
        let limit = usize::try_from(days_needed)
            .unwrap_or(usize::MAX / 8)
            .saturating_mul(7)
            .saturating_add(self.scan_limit());
        let mut cursor = t;
        let mut day = self.local(t).date_naive();
        for _ in 0..limit {
            if self.is_business_day(day) {
                let start = self.at(day, self.open);
                let end = self.at(day, self.close);
                if cursor < start {
                    cursor = start;
                }
                if cursor < end {
                    let available = end - cursor;
                    if remaining <= available {
                        return cursor + remaining;
                    }
                    remaining -= available;
                    cursor = end;
                }
            }
            match day.succ_opt() {
                Some(next) => day = next,
                None => break,
            }
        }
        cursor + remaining
    }

    /// The zone abbreviation in force at `t`, e.g. `CET` or `CEST`.
    pub fn abbreviation(&self, t: DateTime<Utc>) -> String {
        self.local(t).format("%Z").to_string()
    }

    /// Working days and hours in words, e.g. `Mon–Fri 09:00–18:00 Europe/Paris`.
    pub fn hours_text(&self) -> String {
        format!(
            "{} {}–{} {}",
            days_text(&self.working_days()),
            self.open.format("%H:%M"),
            self.close.format("%H:%M"),
            self.tz.name()
        )
    }
}

/// Logs one warning per year the calendar does not know the holidays of (POLICY.md rule C3), however
/// many events fall in it. Shared by every partition the stage processes.
#[derive(Debug, Default)]
pub struct UnknownYearWarnings {
    warned: Mutex<BTreeSet<i32>>,
}

impl UnknownYearWarnings {
    /// Warns (once per year) when `at` falls in a year `calendar` knows no holidays of; `true` when
    /// this call logged the warning.
    pub fn check(&self, calendar: &Calendar, at: DateTime<Utc>) -> bool {
        let year = calendar.local(at).year();
        if calendar.knows_year(year) {
            return false;
        }
        let first = match self.warned.lock() {
            Ok(mut warned) => warned.insert(year),
            Err(poisoned) => poisoned.into_inner().insert(year),
        };
        if first {
            tracing::warn!(
                year,
                holidays = %calendar.holidays().describe(),
                "the calendar knows no public holidays for this year: every working day counts as a business day; add [stage.calendar.holidays] \"{year}\" or set holiday_rules"
            );
        }
        first
    }
}

/// `Mon–Fri` for a run of consecutive days, `Mon, Wed, Fri` otherwise.
fn days_text(days: &[Weekday]) -> String {
    let consecutive = days
        .windows(2)
        .all(|w| w[0].num_days_from_monday() + 1 == w[1].num_days_from_monday());
    match (days.first(), days.last()) {
        (Some(first), Some(last)) if consecutive && days.len() > 2 => format!("{first}–{last}"),
        _ => days
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// The default team calendar (Paris, Mon–Fri 09:00–18:00, French holidays), for unit tests.
#[cfg(test)]
pub(crate) fn paris() -> Calendar {
    Calendar::new(
        chrono_tz::Europe::Paris,
        &[
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
        ],
        NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
        NaiveTime::from_hms_opt(18, 0, 0).unwrap(),
        Holidays::default(),
    )
    .unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn open_hours_table() {
        let cal = paris();
        let cases = [
            // (instant, open?, why)
            (
                "2026-11-20T07:59:59Z",
                false,
                "Fri 08:59:59 CET, before opening",
            ),
            ("2026-11-20T08:00:00Z", true, "Fri 09:00 CET, opening"),
            ("2026-11-20T16:59:00Z", true, "Fri 17:59 CET"),
            ("2026-11-20T17:00:00Z", false, "Fri 18:00 CET, closing"),
            ("2026-11-21T10:00:00Z", false, "Saturday"),
            ("2026-11-22T10:00:00Z", false, "Sunday"),
            ("2026-12-25T10:00:00Z", false, "Christmas, a Friday"),
            ("2026-11-11T10:00:00Z", false, "Armistice Day, a Wednesday"),
            ("2026-07-14T09:00:00Z", false, "Bastille Day, CEST"),
            ("2026-07-15T07:00:00Z", true, "Wed 09:00 CEST"),
            ("2026-07-15T06:59:00Z", false, "Wed 08:59 CEST"),
            ("2026-07-15T15:59:00Z", true, "Wed 17:59 CEST"),
            ("2026-07-15T16:00:00Z", false, "Wed 18:00 CEST"),
        ];
        for (t, open, why) in cases {
            assert_eq!(cal.is_open(utc(t)), open, "{why} ({t})");
        }
    }

    #[test]
    fn business_time_table() {
        let cal = paris();
        let cases = [
            // (start, minutes, expected end, why)
            (
                "2026-11-20T15:00:00Z",
                240,
                "2026-11-23T10:00:00Z",
                "Fri 16:00 CET + 4 h = Mon 11:00 CET",
            ),
            (
                "2026-11-20T16:59:00Z",
                5,
                "2026-11-23T08:04:00Z",
                "Fri 17:59 + 5 min = Mon 09:04",
            ),
            (
                "2026-11-20T16:55:00Z",
                5,
                "2026-11-20T17:00:00Z",
                "Fri 17:55 + 5 min = Fri 18:00",
            ),
            (
                "2026-11-20T09:30:00Z",
                5,
                "2026-11-20T09:35:00Z",
                "inside hours, plain addition",
            ),
            (
                "2026-11-21T10:00:00Z",
                5,
                "2026-11-23T08:05:00Z",
                "Saturday: clock starts Mon 09:00",
            ),
            (
                "2026-11-24T06:00:00Z",
                60,
                "2026-11-24T09:00:00Z",
                "Tue 07:00: clock starts at 09:00",
            ),
            (
                "2026-11-21T10:00:00Z",
                0,
                "2026-11-23T08:00:00Z",
                "zero from Saturday = Monday opening",
            ),
            (
                "2026-12-24T16:00:00Z",
                120,
                "2026-12-28T09:00:00Z",
                "Thu 17:00 + 2 h skips Christmas Friday",
            ),
            (
                "2026-11-23T08:00:00Z",
                1440,
                "2026-11-25T14:00:00Z",
                "24 business hours = 2 days 6 h",
            ),
            // DST: Friday 27 March 2026 is CET, Monday 30 March CEST.
            (
                "2026-03-27T15:00:00Z",
                240,
                "2026-03-30T09:00:00Z",
                "Fri 16:00 CET + 4 h = Mon 11:00 CEST",
            ),
            // DST back: Friday 23 October 2026 is CEST, Monday 26 October CET.
            (
                "2026-10-23T14:00:00Z",
                240,
                "2026-10-26T10:00:00Z",
                "Fri 16:00 CEST + 4 h = Mon 11:00 CET",
            ),
            // 2027 Easter Monday (29 March) right after the 28 March DST change.
            (
                "2027-03-26T16:00:00Z",
                120,
                "2027-03-30T08:00:00Z",
                "Fri 17:00 CET + 2 h skips Easter Mon = Tue 10:00 CEST",
            ),
        ];
        for (start, minutes, end, why) in cases {
            assert_eq!(
                cal.add_business_time(utc(start), Duration::minutes(minutes)),
                utc(end),
                "{why}"
            );
        }
    }

    #[test]
    fn next_business_morning_table() {
        let cal = paris();
        let ten = NaiveTime::from_hms_opt(10, 0, 0).unwrap();
        let cases = [
            (
                "2026-11-20T15:30:00Z",
                "2026-11-23T09:00:00Z",
                "Fri 16:30 -> Mon 10:00 CET",
            ),
            (
                "2026-11-21T12:00:00Z",
                "2026-11-23T09:00:00Z",
                "Saturday -> Monday",
            ),
            (
                "2026-11-24T06:30:00Z",
                "2026-11-24T09:00:00Z",
                "Tue 07:30 -> same day 10:00",
            ),
            (
                "2026-12-24T19:00:00Z",
                "2026-12-28T09:00:00Z",
                "Christmas Eve evening -> Mon 28",
            ),
            (
                "2026-03-28T12:00:00Z",
                "2026-03-30T08:00:00Z",
                "Sat CET -> Mon 10:00 CEST",
            ),
            (
                "2026-10-24T12:00:00Z",
                "2026-10-26T09:00:00Z",
                "Sat CEST -> Mon 10:00 CET",
            ),
        ];
        for (t, expected, why) in cases {
            assert_eq!(
                cal.next_business_time_at(utc(t), ten),
                utc(expected),
                "{why}"
            );
        }
    }

    #[test]
    fn abbreviation_follows_dst() {
        let cal = paris();
        assert_eq!(cal.abbreviation(utc("2026-03-28T12:00:00Z")), "CET");
        assert_eq!(cal.abbreviation(utc("2026-03-29T12:00:00Z")), "CEST");
        assert_eq!(cal.abbreviation(utc("2026-10-24T12:00:00Z")), "CEST");
        assert_eq!(cal.abbreviation(utc("2026-10-25T12:00:00Z")), "CET");
    }

    #[test]
    fn local_times_in_gaps_and_overlaps_resolve() {
        let cal = paris();
        let d = NaiveDate::from_ymd_opt(2026, 3, 29).unwrap();
        // 02:30 does not exist on the spring-forward night: 03:00 CEST = 01:00 UTC.
        assert_eq!(
            cal.at(d, NaiveTime::from_hms_opt(2, 30, 0).unwrap()),
            utc("2026-03-29T01:00:00Z")
        );
        let d = NaiveDate::from_ymd_opt(2026, 10, 25).unwrap();
        // 02:30 happens twice on the fall-back night: the earlier one (CEST) is taken.
        assert_eq!(
            cal.at(d, NaiveTime::from_hms_opt(2, 30, 0).unwrap()),
            utc("2026-10-25T00:30:00Z")
        );
    }

    #[test]
    fn rejects_empty_week_and_inverted_hours() {
        let nine = NaiveTime::from_hms_opt(9, 0, 0).unwrap();
        let six = NaiveTime::from_hms_opt(18, 0, 0).unwrap();
        let none = Holidays::default;
        assert_eq!(
            Calendar::new(chrono_tz::UTC, &[], nine, six, none()),
            Err(CalendarError::NoWorkingDays)
        );
        assert!(matches!(
            Calendar::new(chrono_tz::UTC, &[Weekday::Mon], six, nine, none()),
            Err(CalendarError::OpenNotBeforeClose { .. })
        ));
        assert_eq!(
            Calendar::new(
                chrono_tz::UTC,
                &[Weekday::Mon, Weekday::Mon],
                nine,
                six,
                none()
            ),
            Err(CalendarError::DuplicateWorkingDay(Weekday::Mon))
        );
    }

    #[test]
    fn hours_text_is_compact() {
        assert_eq!(paris().hours_text(), "Mon–Fri 09:00–18:00 Europe/Paris");
        assert_eq!(
            days_text(&[Weekday::Mon, Weekday::Wed, Weekday::Fri]),
            "Mon, Wed, Fri"
        );
    }

    #[test]
    fn holidays_of_later_years_are_closed_days() {
        let cal = paris();
        let cases = [
            // (instant, open?, why)
            (
                "2028-04-17T08:00:00Z",
                false,
                "Easter Monday 2028, 10:00 CEST",
            ),
            ("2028-05-25T08:00:00Z", false, "Ascension 2028"),
            ("2028-06-05T08:00:00Z", false, "Whit Monday 2028"),
            (
                "2028-04-18T08:00:00Z",
                true,
                "the Tuesday after Easter 2028",
            ),
            (
                "2035-03-26T09:00:00Z",
                false,
                "Easter Monday 2035, 10:00 CET",
            ),
            ("2035-05-03T08:00:00Z", false, "Ascension 2035"),
            ("2035-05-14T08:00:00Z", false, "Whit Monday 2035"),
            ("2035-12-25T09:00:00Z", false, "Christmas 2035, a Tuesday"),
            (
                "2035-03-27T09:00:00Z",
                true,
                "the Tuesday after Easter 2035",
            ),
        ];
        for (t, open, why) in cases {
            assert_eq!(cal.is_open(utc(t)), open, "{why} ({t})");
        }
        // Thursday 24 May 2028 17:00 CEST + 2 h skips Ascension: Friday 26 May 10:00 CEST.
        assert_eq!(
            cal.add_business_time(utc("2028-05-24T15:00:00Z"), Duration::minutes(120)),
            utc("2028-05-26T08:00:00Z")
        );
        assert!(cal.knows_year(2035));
    }

    #[test]
    fn an_unknown_year_is_warned_about_once() {
        let nine = NaiveTime::from_hms_opt(9, 0, 0).unwrap();
        let six = NaiveTime::from_hms_opt(18, 0, 0).unwrap();
        let only_2026 = Holidays::new(
            crate::holidays::HolidayRules::None,
            std::collections::BTreeMap::from([(
                2026,
                vec![NaiveDate::from_ymd_opt(2026, 12, 25).unwrap()],
            )]),
        )
        .unwrap();
        let cal = Calendar::new(chrono_tz::UTC, &[Weekday::Mon], nine, six, only_2026).unwrap();
        let w = UnknownYearWarnings::default();
        assert!(!w.check(&cal, utc("2026-06-01T10:00:00Z")), "2026 is known");
        assert!(
            w.check(&cal, utc("2028-06-01T10:00:00Z")),
            "first 2028 event warns"
        );
        assert!(!w.check(&cal, utc("2028-07-01T10:00:00Z")), "only once");
        assert!(
            w.check(&cal, utc("2029-01-01T10:00:00Z")),
            "another year warns again"
        );
        // the default calendar computes every year
        assert!(!w.check(&paris(), utc("2035-01-01T10:00:00Z")));
    }
}
