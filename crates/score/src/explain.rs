//! Factor contributions and their plain-words explanations: "Viewed the pricing page 2 hours before
//! (+11.3)". Contributions are collected cheaply while scoring; only the top ones are rendered.

use std::cmp::Ordering;

use leadflow_events::{ActivityKind, ScoreFactor};

use crate::codes::Negative;
use crate::demographics::{self, Seniority};

/// Which score component a contribution (or a weight code) belongs to (SC1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Component {
    Fit,
    Intent,
    Qualification,
    Negative,
}

impl Component {
    /// The component of a weight code by its family (`activity.*` intent, `qualification.*`,
    /// `negative.*`, every other family fit).
    pub fn of(code: &str) -> Component {
        match code.split_once('.').map(|(f, _)| f) {
            Some(crate::codes::ACTIVITY) => Component::Intent,
            Some(crate::codes::QUALIFICATION) => Component::Qualification,
            Some(crate::codes::NEGATIVE) => Component::Negative,
            _ => Component::Fit,
        }
    }
}

/// A chat qualification dimension (RULES.md SC2: the four of the chat).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dimension {
    Problem,
    Authority,
    Company,
    Timing,
}

impl Dimension {
    pub fn code(self) -> &'static str {
        match self {
            Dimension::Problem => "qualification.problem",
            Dimension::Authority => "qualification.authority",
            Dimension::Company => "qualification.company",
            Dimension::Timing => "qualification.timing",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Dimension::Problem => "Problem fit",
            Dimension::Authority => "Authority",
            Dimension::Company => "Company fit",
            Dimension::Timing => "Timing fit",
        }
    }
}

/// What a contribution is about, with what its explanation needs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Detail<'a> {
    Industry(&'a str),
    EmployeeBand(&'a str),
    RevenueBand(&'a str),
    Country(&'a str),
    Seniority(Seniority),
    Department(&'static str),
    Activity {
        kind: ActivityKind,
        count: u32,
        latest_age_ms: i64,
    },
    Qualification {
        dimension: Dimension,
        confidence: f64,
    },
    HumanRequested,
    Negative {
        signal: Negative,
        count: u32,
    },
}

/// One signed contribution to the score before ranking.
#[derive(Clone, Debug, PartialEq)]
pub struct Contribution<'a> {
    pub component: Component,
    /// The weight code as written in the model.
    pub code: &'a str,
    pub points: f64,
    pub detail: Detail<'a>,
}

/// Rounds to one decimal, the precision factors are reported with.
pub fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// The top `max` contributions as factors: largest absolute points first, then by code; those that
/// round to 0.0 are left out.
///
/// Only the factors kept are rendered, each into one string (no intermediate `String`s, and the
/// points written from their integer tenths rather than through float formatting).
pub fn top_factors(contributions: &[Contribution<'_>], max: usize) -> Vec<ScoreFactor> {
    let mut ranked: Vec<(f64, &Contribution<'_>)> = contributions
        .iter()
        .map(|c| (round1(c.points), c))
        .filter(|(p, _)| *p != 0.0)
        .collect();
    ranked.sort_by(|(pa, a), (pb, b)| {
        pb.abs()
            .total_cmp(&pa.abs())
            .then_with(|| a.code.cmp(b.code))
            .then_with(|| pb.total_cmp(pa))
    });
    ranked
        .into_iter()
        .take(max)
        .map(|(points, c)| {
            let mut explanation = String::with_capacity(64);
            describe_into(&c.detail, &mut explanation);
            explanation.push_str(" (");
            push_points(&mut explanation, points);
            explanation.push(')');
            ScoreFactor {
                code: c.code.to_owned(),
                points,
                explanation,
            }
        })
        .collect()
}

/// Appends `points` (already rounded to one decimal, not zero) as `{:+.1}` writes it: `+11.3`,
/// `-70.0`. Written from the integer tenths: the float closest to k/10 prints as k/10 at one decimal
/// whenever |k| is below 2^50, far beyond any factor (weights are at most 1000 points).
fn push_points(out: &mut String, points: f64) {
    use std::fmt::Write as _;
    let tenths = (points * 10.0).round();
    if tenths.is_nan() || tenths.abs() >= 1e15 {
        let _ = write!(out, "{points:+.1}");
        return;
    }
    // |tenths| < 1e15: the cast is exact
    let abs = (tenths as i64).unsigned_abs();
    out.push(if points < 0.0 { '-' } else { '+' });
    push_u64(out, abs / 10);
    out.push('.');
    push_u64(out, abs % 10);
}

/// Appends a share 0..1 as `{:.2}` writes it (`0.92`). Written from the integer hundredths unless
/// the value sits within 1e-6 of a rounding tie (or is not a share), where float formatting decides.
fn push_share(out: &mut String, share: f64) {
    use std::fmt::Write as _;
    let hundredths = share * 100.0;
    let k = hundredths.round();
    if !(0.0..=1.0).contains(&share)
        || share.is_sign_negative()
        || ((hundredths - hundredths.trunc()) - 0.5).abs() < 1e-6
    {
        let _ = write!(out, "{share:.2}");
        return;
    }
    // 0 <= k <= 100: the cast is exact
    let k = k as u64;
    push_u64(out, k / 100);
    out.push('.');
    if k % 100 < 10 {
        out.push('0');
    }
    push_u64(out, k % 100);
}

/// Appends the decimal digits of `n`.
fn push_u64(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        // n % 10 < 10: the cast is exact
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in &digits[start..] {
        out.push(char::from(d));
    }
}
/// Orders factors as [`top_factors`] does (for checks on output).
pub fn factor_order(a: &ScoreFactor, b: &ScoreFactor) -> Ordering {
    b.points
        .abs()
        .total_cmp(&a.points.abs())
        .then_with(|| a.code.cmp(&b.code))
}

/// The explanation of a contribution, without its points.
pub fn describe(detail: &Detail<'_>) -> String {
    let mut out = String::with_capacity(48);
    describe_into(detail, &mut out);
    out
}

/// Appends the explanation of a contribution, without its points, to `out`.
pub fn describe_into(detail: &Detail<'_>, out: &mut String) {
    let mut push_all = |parts: &[&str]| parts.iter().for_each(|p| out.push_str(p));
    match *detail {
        Detail::Industry(v) => push_all(&["Company in the ", v.trim(), " industry"]),
        Detail::EmployeeBand(v) => push_all(&["Company size ", v.trim(), " employees"]),
        Detail::RevenueBand(v) => push_all(&["Company revenue ", v.trim(), " USD"]),
        Detail::Country(v) => push_all(&["Company based in ", v.trim()]),
        Detail::Seniority(s) => push_all(&[s.label()]),
        Detail::Department(d) => push_all(&["Works in ", demographics::department_label(d)]),
        Detail::Activity {
            kind,
            count,
            latest_age_ms,
        } => {
            out.push_str(activity_phrase(kind));
            if count > 1 {
                out.push(' ');
                push_u64(out, u64::from(count));
                out.push_str(" times, most recently ");
            } else {
                out.push(' ');
            }
            age_phrase_into(latest_age_ms, out);
        }
        Detail::Qualification {
            dimension,
            confidence,
        } => {
            push_all(&[dimension.label(), " confirmed in chat (confidence "]);
            push_share(out, confidence);
            out.push(')');
        }
        Detail::HumanRequested => out.push_str("Asked for a human in chat"),
        Detail::Negative { signal, count } => negative_phrase_into(signal, count, out),
    }
}

/// The activity as a past-tense phrase.
pub fn activity_phrase(kind: ActivityKind) -> &'static str {
    match kind {
        ActivityKind::PageView => "Viewed a page",
        ActivityKind::PricingPageView => "Viewed the pricing page",
        ActivityKind::DemoRequest => "Requested a demo",
        ActivityKind::ContactSales => "Contacted sales",
        ActivityKind::ContentDownload => "Downloaded content",
        ActivityKind::WebinarRegistered => "Registered for a webinar",
        ActivityKind::WebinarAttended => "Attended a webinar",
        ActivityKind::EmailOpen => "Opened an email",
        ActivityKind::EmailClick => "Clicked a link in an email",
        ActivityKind::TrialSignup => "Signed up for a trial",
        ActivityKind::IntentSurge => "Showed an intent surge",
        ActivityKind::Other => "Other activity",
        ActivityKind::EmailReply => "Replied to a nurture email",
    }
}

fn negative_phrase_into(signal: Negative, count: u32, out: &mut String) {
    out.push_str(match signal {
        Negative::Competitor => "Classified as a competitor (persona N1)",
        Negative::Researcher => "Classified as a researcher (persona N2)",
        Negative::ExistingCustomerSupport => "Existing-client support request, not a new lead",
        Negative::InvalidEmail => "Email address is not valid",
        Negative::FreeMail => "Uses a free-mail address",
        Negative::MissingEmail => "No email address",
        Negative::MissingCompany => "No company known",
        Negative::DataQuality if count == 1 => "1 data quality warning",
        Negative::DataQuality => {
            push_u64(out, u64::from(count));
            out.push_str(" data quality warnings");
            return;
        }
        Negative::RepeatSubmission => "Repeats a lead already seen",
    });
}

/// How long before the lead event something happened, in words: "moments before", "10 minutes
/// before", "2 hours before", "3 days before".
pub fn age_phrase(age_ms: i64) -> String {
    let mut out = String::with_capacity(20);
    age_phrase_into(age_ms, &mut out);
    out
}

/// Appends [`age_phrase`] to `out`.
pub fn age_phrase_into(age_ms: i64, out: &mut String) {
    const MINUTE: i64 = 60_000;
    const HOUR: i64 = 60 * MINUTE;
    const DAY: i64 = 24 * HOUR;
    let (n, unit) = match age_ms.max(0) {
        a if a < MINUTE => {
            out.push_str("moments before");
            return;
        }
        a if a < HOUR => (a / MINUTE, "minute"),
        a if a < 2 * DAY => (a / HOUR, "hour"),
        a => (a / DAY, "day"),
    };
    // n >= 1: the age is at least a minute here
    push_u64(out, n.unsigned_abs());
    out.push(' ');
    out.push_str(unit);
    if n != 1 {
        out.push('s');
    }
    out.push_str(" before");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn age_phrase_table() {
        let cases = [
            (-5_000, "moments before"),
            (0, "moments before"),
            (59_999, "moments before"),
            (60_000, "1 minute before"),
            (600_000, "10 minutes before"),
            (3_600_000, "1 hour before"),
            (7_200_000, "2 hours before"),
            (47 * 3_600_000, "47 hours before"),
            (2 * 86_400_000, "2 days before"),
            (90 * 86_400_000, "90 days before"),
        ];
        for (age, want) in cases {
            assert_eq!(age_phrase(age), want, "{age}");
        }
    }

    fn c(code: &'static str, points: f64) -> Contribution<'static> {
        Contribution {
            component: Component::Fit,
            code,
            points,
            detail: Detail::Industry("software"),
        }
    }

    #[test]
    fn factors_are_ranked_by_absolute_points_then_code_and_limited() {
        let cs = [
            c("a.small", 1.0),
            c("b.big_negative", -30.0),
            c("c.medium", 12.0),
            c("d.zero", 0.02),
            c("e.tie", 12.0),
            c("f.tiny", 0.3),
        ];
        let got: Vec<_> = top_factors(&cs, 4)
            .into_iter()
            .map(|f| (f.code, f.points))
            .collect();
        assert_eq!(
            got,
            vec![
                ("b.big_negative".to_owned(), -30.0),
                ("c.medium".to_owned(), 12.0),
                ("e.tie".to_owned(), 12.0),
                ("a.small".to_owned(), 1.0),
            ]
        );
        assert!(top_factors(&cs, 0).is_empty());
        // 0.02 rounds to 0.0 and is never reported
        assert_eq!(top_factors(&cs, 10).len(), 5);
    }

    /// The points are written as `{:+.1}` would write them, for every value a factor can carry
    /// (one-decimal values of up to ±3000 points, and what rounding a scaled weight gives).
    #[test]
    fn points_are_written_as_float_formatting_writes_them() {
        let mut checked = 0;
        for k in (-30_000_i64..=30_000).filter(|k| *k != 0) {
            for x in [
                k as f64 / 10.0,
                k as f64 / 10.0 + 0.0499,
                k as f64 * 0.1 - 0.04,
            ] {
                let points = round1(x);
                if points == 0.0 {
                    continue;
                }
                let mut got = String::new();
                push_points(&mut got, points);
                assert_eq!(got, format!("{points:+.1}"), "{x}");
                checked += 1;
            }
        }
        assert!(checked > 170_000, "{checked}");
        for points in [1e16, -1e16, 123_456_789.1] {
            let mut got = String::new();
            push_points(&mut got, points);
            assert_eq!(got, format!("{points:+.1}"));
        }
    }

    #[test]
    fn shares_and_counts_are_written_as_float_and_integer_formatting_write_them() {
        let mut shares: Vec<f64> = (0..=100_000).map(|i| f64::from(i) / 100_000.0).collect();
        shares.extend([
            0.005,
            0.015,
            0.125,
            0.285,
            0.995,
            1.0,
            0.0,
            -0.0,
            1.5,
            -0.2,
            f64::NAN,
        ]);
        for share in shares {
            let mut got = String::new();
            push_share(&mut got, share);
            assert_eq!(got, format!("{share:.2}"), "{share}");
        }
        for n in [0, 1, 9, 10, 99, 100, 12_345, u64::from(u32::MAX), u64::MAX] {
            let mut got = String::new();
            push_u64(&mut got, n);
            assert_eq!(got, n.to_string());
        }
    }

    #[test]
    fn explanation_table() {
        let cases: Vec<(Detail<'static>, f64, &str)> = vec![
            (
                Detail::Activity {
                    kind: ActivityKind::PricingPageView,
                    count: 1,
                    latest_age_ms: 7_200_000,
                },
                11.34,
                "Viewed the pricing page 2 hours before (+11.3)",
            ),
            (
                Detail::Activity {
                    kind: ActivityKind::PageView,
                    count: 3,
                    latest_age_ms: 3 * 86_400_000,
                },
                2.5,
                "Viewed a page 3 times, most recently 3 days before (+2.5)",
            ),
            (
                Detail::Qualification {
                    dimension: Dimension::Problem,
                    confidence: 0.92,
                },
                9.2,
                "Problem fit confirmed in chat (confidence 0.92) (+9.2)",
            ),
            (
                Detail::HumanRequested,
                4.0,
                "Asked for a human in chat (+4.0)",
            ),
            (
                Detail::Negative {
                    signal: Negative::Competitor,
                    count: 1,
                },
                -70.0,
                "Classified as a competitor (persona N1) (-70.0)",
            ),
            (
                Detail::Negative {
                    signal: Negative::DataQuality,
                    count: 2,
                },
                -4.0,
                "2 data quality warnings (-4.0)",
            ),
            (
                Detail::Seniority(Seniority::Vp),
                9.6,
                "VP-level title (+9.6)",
            ),
            (Detail::Department("it"), 5.6, "Works in IT (+5.6)"),
            (
                Detail::Industry("software"),
                9.6,
                "Company in the software industry (+9.6)",
            ),
            (
                Detail::EmployeeBand("201-1000"),
                9.6,
                "Company size 201-1000 employees (+9.6)",
            ),
            (
                Detail::RevenueBand("50M-250M"),
                4.8,
                "Company revenue 50M-250M USD (+4.8)",
            ),
            (Detail::Country("FR"), 1.0, "Company based in FR (+1.0)"),
        ];
        for (detail, points, want) in cases {
            let contribution = Contribution {
                component: Component::Intent,
                code: "x.y",
                points,
                detail,
            };
            let f = top_factors(&[contribution], 1);
            assert_eq!(f[0].explanation, want);
        }
    }
}
