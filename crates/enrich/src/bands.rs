//! Employee and revenue bands (defined in `leadflow_events::bands`, re-exported) and the midpoints
//! of the ranges provider APIs print.

pub use leadflow_events::bands::{EMPLOYEE_BANDS, REVENUE_BANDS, employee_band, revenue_band};

/// The midpoint of a range as APIs print it ("251-1K", "$50M-$100M", "10K+", "$0-$1M"), in units.
pub fn range_midpoint(range: &str) -> Option<u64> {
    let cleaned: String = range
        .chars()
        .filter(|c| !matches!(c, '$' | ',' | ' '))
        .collect();
    if let Some(low) = cleaned.strip_suffix('+') {
        return parse_amount(low);
    }
    match cleaned.split_once('-') {
        Some((low, high)) => {
            let (low, high) = (parse_amount(low)?, parse_amount(high)?);
            Some(low / 2 + high / 2)
        }
        None => parse_amount(&cleaned),
    }
}

/// "1K" -> 1000, "2.5M" -> 2500000, "1B" -> 10^9, "420" -> 420.
fn parse_amount(s: &str) -> Option<u64> {
    let (number, factor) = match s.chars().last()? {
        'k' | 'K' => (&s[..s.len() - 1], 1e3),
        'm' | 'M' => (&s[..s.len() - 1], 1e6),
        'b' | 'B' => (&s[..s.len() - 1], 1e9),
        't' | 'T' => (&s[..s.len() - 1], 1e12),
        _ => (s, 1.0),
    };
    let value: f64 = number.parse().ok()?;
    let scaled = value * factor;
    (0.0..1.8e19)
        .contains(&scaled)
        .then(|| scaled.round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn employee_bands() {
        let cases = [
            (0, "1-10"),
            (1, "1-10"),
            (10, "1-10"),
            (11, "11-50"),
            (50, "11-50"),
            (51, "51-200"),
            (200, "51-200"),
            (201, "201-1000"),
            (420, "201-1000"),
            (1000, "201-1000"),
            (1001, "1001-5000"),
            (5000, "1001-5000"),
            (5001, "5000+"),
        ];
        for (n, band) in cases {
            assert_eq!(employee_band(n), band, "{n}");
        }
    }

    #[test]
    fn revenue_bands() {
        let cases = [
            (0, "<1M"),
            (999_999, "<1M"),
            (1_000_000, "1M-10M"),
            (9_999_999, "1M-10M"),
            (10_000_000, "10M-50M"),
            (60_000_000, "50M-250M"),
            (250_000_000, "250M-1B"),
            (999_999_999, "250M-1B"),
            (1_000_000_000, "1B+"),
        ];
        for (usd, band) in cases {
            assert_eq!(revenue_band(usd), band, "{usd}");
        }
    }

    #[test]
    fn api_ranges_map_to_our_bands() {
        let employees = [
            ("1-10", "1-10"),
            ("11-50", "11-50"),
            ("51-250", "51-200"),
            ("251-1K", "201-1000"),
            ("1K-5K", "1001-5000"),
            ("5K-10K", "5000+"),
            ("100K+", "5000+"),
        ];
        for (range, band) in employees {
            let mid = range_midpoint(range).unwrap_or_default();
            assert_eq!(employee_band(mid), band, "{range}");
        }
        let revenue = [
            ("$0-$1M", "<1M"),
            ("$1M-$10M", "1M-10M"),
            ("$10M-$50M", "10M-50M"),
            ("$50M-$100M", "50M-250M"),
            ("$100M-$250M", "50M-250M"),
            ("$250M-$500M", "250M-1B"),
            ("$500M-$1B", "250M-1B"),
            ("$1B-$10B", "1B+"),
            ("$10B+", "1B+"),
        ];
        for (range, band) in revenue {
            let mid = range_midpoint(range).unwrap_or_default();
            assert_eq!(revenue_band(mid), band, "{range}");
        }
        assert_eq!(range_midpoint("2.5M"), Some(2_500_000));
        assert_eq!(range_midpoint("lots"), None);
        assert_eq!(range_midpoint(""), None);
        assert_eq!(range_midpoint("-5"), None);
    }
}
