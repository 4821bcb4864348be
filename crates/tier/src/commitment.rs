//! The honest follow-up commitment of a capture handoff (POLICY.md rules S1–S4).
//!
//! A commitment is a specific time the team can keep, in the team's zone, with the weekday and date,
//! and it depends only on when the lead arrived — never on its band, so a warmer lead is never
//! promised a later time than a colder one:
//! - S1: inside business hours and before the same-day cutoff (16:00): before closing today;
//! - S2: otherwise: before 10:00 the next business morning (the same morning for an arrival before
//!   10:00 on a business day), skipping weekends and public holidays.
//!
//! The rep's first-contact deadline is then the earlier of the band's deadline and the promise
//! (rule S3, in [`crate::decide`]).

use chrono::{DateTime, NaiveTime, Utc};

use crate::calendar::Calendar;

/// Which slot the commitment took.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommitmentSlot {
    /// Before closing, the day of arrival.
    SameDay,
    /// Before the morning commitment time of the next business morning.
    NextBusinessMorning,
}

/// A promise to the visitor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Commitment {
    pub slot: CommitmentSlot,
    /// The promised instant; someone reaches out before it.
    pub due: DateTime<Utc>,
    /// E.g. `Someone from the team will reach out before 10:00 CET on Monday 23 November.`
    pub text: String,
}

/// When the commitment may be made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommitmentRules {
    /// Arrivals at or after this local time get no same-day promise.
    pub same_day_cutoff: NaiveTime,
    /// The next-business-morning promise: before this local time.
    pub next_morning_by: NaiveTime,
}

/// The commitment for a capture at `arrival` (rules S1 and S2).
pub fn commit(calendar: &Calendar, rules: &CommitmentRules, arrival: DateTime<Utc>) -> Commitment {
    let local = calendar.local(arrival);
    if calendar.is_open(arrival) && local.time() < rules.same_day_cutoff {
        let closing = calendar.closing_on_day_of(arrival);
        return Commitment {
            slot: CommitmentSlot::SameDay,
            due: closing,
            text: format!(
                "Someone from the team will reach out before {} {} today, {}.",
                calendar.local(closing).format("%H:%M"),
                calendar.abbreviation(closing),
                calendar.local(closing).format("%A %-d %B"),
            ),
        };
    }
    let due = calendar.next_business_time_at(arrival, rules.next_morning_by);
    Commitment {
        slot: CommitmentSlot::NextBusinessMorning,
        due,
        text: format!(
            "Someone from the team will reach out before {} {} on {}.",
            calendar.local(due).format("%H:%M"),
            calendar.abbreviation(due),
            calendar.local(due).format("%A %-d %B"),
        ),
    }
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::calendar::paris;

    fn rules() -> CommitmentRules {
        CommitmentRules {
            same_day_cutoff: NaiveTime::from_hms_opt(16, 0, 0).unwrap(),
            next_morning_by: NaiveTime::from_hms_opt(10, 0, 0).unwrap(),
        }
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn commitment_table() {
        let cal = paris();
        let cases: [(&str, CommitmentSlot, &str, &str); 10] = [
            (
                "2026-11-20T09:30:00Z",
                CommitmentSlot::SameDay,
                "2026-11-20T17:00:00Z",
                "Someone from the team will reach out before 18:00 CET today, Friday 20 November.",
            ),
            (
                "2026-11-20T14:59:00Z",
                CommitmentSlot::SameDay,
                "2026-11-20T17:00:00Z",
                "Someone from the team will reach out before 18:00 CET today, Friday 20 November.",
            ),
            (
                "2026-11-20T15:00:00Z",
                CommitmentSlot::NextBusinessMorning,
                "2026-11-23T09:00:00Z",
                "Someone from the team will reach out before 10:00 CET on Monday 23 November.",
            ),
            (
                "2026-11-20T15:30:00Z",
                CommitmentSlot::NextBusinessMorning,
                "2026-11-23T09:00:00Z",
                "Someone from the team will reach out before 10:00 CET on Monday 23 November.",
            ),
            (
                "2026-11-21T11:00:00Z",
                CommitmentSlot::NextBusinessMorning,
                "2026-11-23T09:00:00Z",
                "Someone from the team will reach out before 10:00 CET on Monday 23 November.",
            ),
            (
                "2026-11-24T06:30:00Z",
                CommitmentSlot::NextBusinessMorning,
                "2026-11-24T09:00:00Z",
                "Someone from the team will reach out before 10:00 CET on Tuesday 24 November.",
            ),
            (
                "2026-12-24T19:00:00Z",
                CommitmentSlot::NextBusinessMorning,
                "2026-12-28T09:00:00Z",
                "Someone from the team will reach out before 10:00 CET on Monday 28 December.",
            ),
            (
                "2026-03-28T12:00:00Z",
                CommitmentSlot::NextBusinessMorning,
                "2026-03-30T08:00:00Z",
                "Someone from the team will reach out before 10:00 CEST on Monday 30 March.",
            ),
            (
                "2026-10-24T12:00:00Z",
                CommitmentSlot::NextBusinessMorning,
                "2026-10-26T09:00:00Z",
                "Someone from the team will reach out before 10:00 CET on Monday 26 October.",
            ),
            // In hours before the cutoff: before closing today, whatever the band.
            (
                "2026-11-24T14:00:00Z",
                CommitmentSlot::SameDay,
                "2026-11-24T17:00:00Z",
                "Someone from the team will reach out before 18:00 CET today, Tuesday 24 November.",
            ),
        ];
        for (arrival, slot, due, text) in cases {
            let c = commit(&cal, &rules(), utc(arrival));
            assert_eq!(c.slot, slot, "{arrival}");
            assert_eq!(c.due, utc(due), "{arrival}");
            assert_eq!(c.text, text, "{arrival}");
        }
    }
}
