//! Arrival times: leads come in bursts during European and American business hours, a trickle in the
//! evening and at night, fewer at weekends.

use chrono::{Datelike, Timelike, Weekday};
use leadflow_events::Timestamp;
use rand::Rng;

use super::pick::Rng as GenRng;

/// Mean seconds until the next lead, for a moment in UTC.
pub fn mean_gap_secs(at: Timestamp) -> f64 {
    let dt = at.to_datetime();
    let weekend = matches!(dt.weekday(), Weekday::Sat | Weekday::Sun);
    match (weekend, dt.hour()) {
        // European afternoon overlapping the American morning
        (false, 13..=16) => 120.0,
        // European morning, American afternoon
        (false, 7..=12 | 17..=21) => 210.0,
        // night in Europe and the Americas, daytime in Asia-Pacific
        (false, _) => 900.0,
        (true, 9..=20) => 1200.0,
        (true, _) => 2400.0,
    }
}

/// The gap to the next lead: exponential around the hour's mean, at least 200 ms, at most 6 hours.
pub fn next_gap_ms(rng: &mut GenRng, at: Timestamp) -> i64 {
    let u: f64 = rng.random();
    let secs = -mean_gap_secs(at) * (1.0 - u).ln();
    ((secs * 1000.0) as i64).clamp(200, 6 * 3600 * 1000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn at(s: &str) -> Timestamp {
        Timestamp::parse_rfc3339(s).expect("valid")
    }

    #[test]
    fn busier_in_business_hours_than_at_night_or_weekends() {
        let cases = [
            ("2026-11-20T14:00:00Z", 120.0),  // Friday afternoon
            ("2026-11-20T09:00:00Z", 210.0),  // Friday morning
            ("2026-11-20T19:30:00Z", 210.0),  // Friday evening in Europe
            ("2026-11-20T23:00:00Z", 900.0),  // Friday night
            ("2026-11-21T12:00:00Z", 1200.0), // Saturday
            ("2026-11-22T03:00:00Z", 2400.0), // Sunday night
        ];
        for (time, mean) in cases {
            assert!(
                (mean_gap_secs(at(time)) - mean).abs() < f64::EPSILON,
                "{time}"
            );
        }
    }

    #[test]
    fn gaps_average_near_the_mean_and_stay_bounded() {
        let mut rng = GenRng::seed_from_u64(5);
        let t = at("2026-11-20T14:00:00Z");
        let gaps: Vec<i64> = (0..20_000).map(|_| next_gap_ms(&mut rng, t)).collect();
        let mean = gaps.iter().sum::<i64>() as f64 / gaps.len() as f64 / 1000.0;
        assert!((110.0..130.0).contains(&mean), "mean gap {mean}");
        assert!(gaps.iter().all(|g| (200..=6 * 3600 * 1000).contains(g)));
    }
}
