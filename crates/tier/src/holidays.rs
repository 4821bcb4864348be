//! Public holidays of any year: rules (fixed dates and days counted from Easter Sunday) computed per
//! year, with per-year lists from the config that replace the computed days of their year
//! (POLICY.md, "Business time and commitments", rules C1–C3).
//!
//! Easter Sunday is the Gregorian computus (the "anonymous Gregorian algorithm", Meeus/Jones/Butcher),
//! valid for every year of the Gregorian calendar (1583 on).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::{Datelike, Duration, NaiveDate};
use serde::{Deserialize, Serialize};

/// First year of the Gregorian calendar: the computus is meaningless before it.
pub const FIRST_GREGORIAN_YEAR: i32 = 1583;

/// Easter Sunday of `year` (Gregorian calendar), `None` before 1583 or past chrono's range.
pub fn easter_sunday(year: i32) -> Option<NaiveDate> {
    if year < FIRST_GREGORIAN_YEAR {
        return None;
    }
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, u32::try_from(month).ok()?, u32::try_from(day).ok()?)
}

/// One holiday rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HolidayRule {
    /// The same date every year, e.g. 14 July.
    Fixed { month: u32, day: u32 },
    /// Days after Easter Sunday: Easter Monday +1, Ascension +39, Whit Monday +50.
    Easter { offset: i64 },
}

impl HolidayRule {
    /// The date of the rule in `year`, if it has one.
    pub fn date_in(self, year: i32) -> Option<NaiveDate> {
        match self {
            HolidayRule::Fixed { month, day } => NaiveDate::from_ymd_opt(year, month, day),
            HolidayRule::Easter { offset } => {
                easter_sunday(year).and_then(|e| e.checked_add_signed(Duration::days(offset)))
            }
        }
    }
}

/// Which computed holidays the calendar starts from (`[stage.calendar] holiday_rules`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HolidayRules {
    /// The 11 public holidays of metropolitan France: 1 January, Easter Monday, 1 May, 8 May,
    /// Ascension Day, Whit Monday, 14 July, 15 August, 1 November, 11 November, 25 December.
    #[default]
    France,
    /// No computed holidays: only the per-year lists of the config.
    None,
}

impl HolidayRules {
    pub fn rules(self) -> &'static [HolidayRule] {
        match self {
            HolidayRules::France => FRANCE,
            HolidayRules::None => &[],
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            HolidayRules::France => "france",
            HolidayRules::None => "none",
        }
    }
}

impl fmt::Display for HolidayRules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

const FRANCE: &[HolidayRule] = &[
    HolidayRule::Fixed { month: 1, day: 1 },
    HolidayRule::Easter { offset: 1 },
    HolidayRule::Fixed { month: 5, day: 1 },
    HolidayRule::Fixed { month: 5, day: 8 },
    HolidayRule::Easter { offset: 39 },
    HolidayRule::Easter { offset: 50 },
    HolidayRule::Fixed { month: 7, day: 14 },
    HolidayRule::Fixed { month: 8, day: 15 },
    HolidayRule::Fixed { month: 11, day: 1 },
    HolidayRule::Fixed { month: 11, day: 11 },
    HolidayRule::Fixed { month: 12, day: 25 },
];

/// A holiday list given for a year holds a date of another year.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("holidays.{year}: {date} is not in {year}")]
pub struct HolidayOutsideYear {
    pub year: i32,
    pub date: NaiveDate,
}

/// The holidays of every year: computed rules, replaced year by year by the config's lists.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Holidays {
    rules: HolidayRules,
    overrides: BTreeMap<i32, BTreeSet<NaiveDate>>,
}

impl Holidays {
    /// `rules` for every year, except the years of `overrides`, whose lists replace them.
    pub fn new(
        rules: HolidayRules,
        overrides: BTreeMap<i32, Vec<NaiveDate>>,
    ) -> Result<Self, HolidayOutsideYear> {
        let mut out = BTreeMap::new();
        for (year, dates) in overrides {
            if let Some(date) = dates.iter().find(|d| d.year() != year) {
                return Err(HolidayOutsideYear { year, date: *date });
            }
            out.insert(year, dates.into_iter().collect());
        }
        Ok(Self {
            rules,
            overrides: out,
        })
    }

    pub fn rules(&self) -> HolidayRules {
        self.rules
    }

    pub fn is_holiday(&self, date: NaiveDate) -> bool {
        match self.overrides.get(&date.year()) {
            Some(list) => list.contains(&date),
            None => self
                .rules
                .rules()
                .iter()
                .any(|r| r.date_in(date.year()) == Some(date)),
        }
    }

    /// The holidays of `year`, in date order.
    pub fn of_year(&self, year: i32) -> Vec<NaiveDate> {
        match self.overrides.get(&year) {
            Some(list) => list.iter().copied().collect(),
            None => {
                let days: BTreeSet<NaiveDate> = self
                    .rules
                    .rules()
                    .iter()
                    .filter_map(|r| r.date_in(year))
                    .collect();
                days.into_iter().collect()
            }
        }
    }

    /// The calendar knows the holidays of `year`: a list was given for it, or rules compute it.
    pub fn knows_year(&self, year: i32) -> bool {
        self.overrides.contains_key(&year)
            || (!self.rules.rules().is_empty() && year >= FIRST_GREGORIAN_YEAR)
    }

    /// The most holidays any year can have (bounds the scans for a business day).
    pub fn max_per_year(&self) -> usize {
        self.overrides
            .values()
            .map(BTreeSet::len)
            .max()
            .unwrap_or(0)
            .max(self.rules.rules().len())
    }

    /// What the calendar knows, in words: `France (computed for any year), 2028 from the config`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        match self.rules {
            HolidayRules::France => {
                parts.push("French public holidays computed for any year".into())
            }
            HolidayRules::None => parts.push("no computed holidays".to_owned()),
        }
        if !self.overrides.is_empty() {
            let years: Vec<String> = self.overrides.keys().map(i32::to_string).collect();
            parts.push(format!("lists from the config for {}", years.join(", ")));
        }
        parts.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn easter_sunday_known_dates() {
        // Published Easter Sunday dates (Gregorian), including the extremes 22 March and 25 April.
        let cases = [
            (1583, "1583-04-10"),
            (1818, "1818-03-22"),
            (1943, "1943-04-25"),
            (2000, "2000-04-23"),
            (2008, "2008-03-23"),
            (2011, "2011-04-24"),
            (2019, "2019-04-21"),
            (2024, "2024-03-31"),
            (2025, "2025-04-20"),
            (2026, "2026-04-05"),
            (2027, "2027-03-28"),
            (2028, "2028-04-16"),
            (2029, "2029-04-01"),
            (2030, "2030-04-21"),
            (2035, "2035-03-25"),
            (2038, "2038-04-25"),
            (2285, "2285-03-22"),
        ];
        for (year, want) in cases {
            assert_eq!(easter_sunday(year), Some(date(want)), "{year}");
        }
        assert_eq!(easter_sunday(1582), None, "before the Gregorian calendar");
    }

    #[test]
    fn french_holidays_of_2028_and_2035() {
        let h = Holidays::default();
        let cases = [
            (
                2028,
                [
                    "2028-01-01",
                    "2028-04-17", // Easter Monday (Easter 16 April)
                    "2028-05-01",
                    "2028-05-08",
                    "2028-05-25", // Ascension
                    "2028-06-05", // Whit Monday
                    "2028-07-14",
                    "2028-08-15",
                    "2028-11-01",
                    "2028-11-11",
                    "2028-12-25",
                ],
            ),
            (
                2035,
                [
                    "2035-01-01",
                    "2035-03-26", // Easter Monday (Easter 25 March)
                    "2035-05-01",
                    "2035-05-03", // Ascension
                    "2035-05-08",
                    "2035-05-14", // Whit Monday
                    "2035-07-14",
                    "2035-08-15",
                    "2035-11-01",
                    "2035-11-11",
                    "2035-12-25",
                ],
            ),
        ];
        for (year, want) in cases {
            let want: Vec<NaiveDate> = want.iter().map(|d| date(d)).collect();
            assert_eq!(h.of_year(year), want, "{year}");
            for d in &want {
                assert!(h.is_holiday(*d), "{d}");
            }
            assert!(h.knows_year(year));
        }
        // ordinary days are not holidays
        for d in ["2028-04-16", "2028-04-18", "2035-03-27", "2035-05-15"] {
            assert!(!h.is_holiday(date(d)), "{d}");
        }
    }

    #[test]
    fn the_published_lists_of_2026_and_2027_are_computed() {
        let h = Holidays::default();
        let y2026 = [
            "2026-01-01",
            "2026-04-06",
            "2026-05-01",
            "2026-05-08",
            "2026-05-14",
            "2026-05-25",
            "2026-07-14",
            "2026-08-15",
            "2026-11-01",
            "2026-11-11",
            "2026-12-25",
        ];
        let y2027 = [
            "2027-01-01",
            "2027-03-29",
            "2027-05-01",
            "2027-05-06",
            "2027-05-08",
            "2027-05-17",
            "2027-07-14",
            "2027-08-15",
            "2027-11-01",
            "2027-11-11",
            "2027-12-25",
        ];
        for (year, list) in [(2026, y2026), (2027, y2027)] {
            let want: Vec<NaiveDate> = list.iter().map(|d| date(d)).collect();
            assert_eq!(h.of_year(year), want, "{year}");
        }
    }

    #[test]
    fn a_year_from_the_config_replaces_the_computed_one() {
        let h = Holidays::new(
            HolidayRules::France,
            BTreeMap::from([(2028, vec![date("2028-06-06")])]),
        )
        .unwrap();
        assert!(h.is_holiday(date("2028-06-06")));
        assert!(!h.is_holiday(date("2028-12-25")), "2028 is replaced");
        assert!(
            h.is_holiday(date("2029-12-25")),
            "other years stay computed"
        );
        assert_eq!(h.max_per_year(), 11);
    }

    #[test]
    fn without_rules_only_listed_years_are_known() {
        let h = Holidays::new(
            HolidayRules::None,
            BTreeMap::from([(2026, vec![date("2026-11-26")])]),
        )
        .unwrap();
        assert!(h.knows_year(2026));
        assert!(!h.knows_year(2027));
        assert!(!h.is_holiday(date("2027-12-25")));
        assert!(!Holidays::default().knows_year(1500));
    }

    #[test]
    fn a_listed_date_must_be_in_its_year() {
        let err = Holidays::new(
            HolidayRules::France,
            BTreeMap::from([(2028, vec![date("2029-01-01")])]),
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "holidays.2028: 2029-01-01 is not in 2028");
    }
}
