//! Factor contributions and their plain-words explanations: "Viewed the pricing page 2 hours before
//! (+11.3)". Contributions are collected cheaply while scoring; only the top ones are rendered.

use std::cmp::Ordering;

use leadflow_events::{ActivityKind, ScoreFactor};

use crate::codes::Negative;
use crate::demographics::{self, Seniority};

/// Which score component a contribution belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Component {
    Fit,
    Intent,
    Qualification,
    Negative,
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
        .map(|(points, c)| ScoreFactor {
            code: c.code.to_owned(),
            points,
            explanation: format!("{} ({points:+.1})", describe(&c.detail)),
        })
        .collect()
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
    match *detail {
        Detail::Industry(v) => format!("Company in the {} industry", v.trim()),
        Detail::EmployeeBand(v) => format!("Company size {} employees", v.trim()),
        Detail::RevenueBand(v) => format!("Company revenue {} USD", v.trim()),
        Detail::Country(v) => format!("Company based in {}", v.trim()),
        Detail::Seniority(s) => s.label().to_owned(),
        Detail::Department(d) => format!("Works in {}", demographics::department_label(d)),
        Detail::Activity {
            kind,
            count,
            latest_age_ms,
        } => {
            let age = age_phrase(latest_age_ms);
            if count > 1 {
                format!(
                    "{} {count} times, most recently {age}",
                    activity_phrase(kind)
                )
            } else {
                format!("{} {age}", activity_phrase(kind))
            }
        }
        Detail::Qualification {
            dimension,
            confidence,
        } => format!(
            "{} confirmed in chat (confidence {confidence:.2})",
            dimension.label()
        ),
        Detail::HumanRequested => "Asked for a human in chat".to_owned(),
        Detail::Negative { signal, count } => negative_phrase(signal, count),
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
    }
}

fn negative_phrase(signal: Negative, count: u32) -> String {
    match signal {
        Negative::Competitor => "Classified as a competitor (persona N1)".to_owned(),
        Negative::Researcher => "Classified as a researcher (persona N2)".to_owned(),
        Negative::ExistingCustomerSupport => {
            "Existing-client support request, not a new lead".to_owned()
        }
        Negative::InvalidEmail => "Email address is not valid".to_owned(),
        Negative::FreeMail => "Uses a free-mail address".to_owned(),
        Negative::MissingEmail => "No email address".to_owned(),
        Negative::MissingCompany => "No company known".to_owned(),
        Negative::DataQuality if count == 1 => "1 data quality warning".to_owned(),
        Negative::DataQuality => format!("{count} data quality warnings"),
        Negative::RepeatSubmission => "Repeats a lead already seen".to_owned(),
    }
}

/// How long before the lead event something happened, in words: "moments before", "10 minutes
/// before", "2 hours before", "3 days before".
pub fn age_phrase(age_ms: i64) -> String {
    const MINUTE: i64 = 60_000;
    const HOUR: i64 = 60 * MINUTE;
    const DAY: i64 = 24 * HOUR;
    let (n, unit) = match age_ms.max(0) {
        a if a < MINUTE => return "moments before".to_owned(),
        a if a < HOUR => (a / MINUTE, "minute"),
        a if a < 2 * DAY => (a / HOUR, "hour"),
        a => (a / DAY, "day"),
    };
    let plural = if n == 1 { "" } else { "s" };
    format!("{n} {unit}{plural} before")
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
