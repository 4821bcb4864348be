//! The vocabulary of weight codes: `<family>.<value>`, e.g. `industry.software`, `seniority.vp`,
//! `activity.PRICING_PAGE_VIEW`, `negative.competitor`.
//!
//! Open families (industry, sizes, country, seniority, department) take any value and fall back to
//! `<family>.other` when the model has no weight for the exact value. Closed families (activity,
//! qualification, negative) only accept the codes listed here, so a typo in a model is rejected instead
//! of silently scoring nothing.

use leadflow_events::ActivityKind;

pub const INDUSTRY: &str = "industry";
pub const EMPLOYEE_BAND: &str = "employee_band";
pub const REVENUE_BAND: &str = "revenue_band";
pub const COUNTRY: &str = "country";
pub const SENIORITY: &str = "seniority";
pub const DEPARTMENT: &str = "department";
pub const ACTIVITY: &str = "activity";
pub const QUALIFICATION: &str = "qualification";
pub const NEGATIVE: &str = "negative";

/// Families whose values are open-ended.
pub const OPEN_FAMILIES: [&str; 6] = [
    INDUSTRY,
    EMPLOYEE_BAND,
    REVENUE_BAND,
    COUNTRY,
    SENIORITY,
    DEPARTMENT,
];

/// The value every open family falls back to.
pub const OTHER: &str = "other";

/// Every activity kind, in a fixed order (the index into per-kind tables).
pub const ACTIVITY_KINDS: [ActivityKind; 13] = [
    ActivityKind::PageView,
    ActivityKind::PricingPageView,
    ActivityKind::DemoRequest,
    ActivityKind::ContactSales,
    ActivityKind::ContentDownload,
    ActivityKind::WebinarRegistered,
    ActivityKind::WebinarAttended,
    ActivityKind::EmailOpen,
    ActivityKind::EmailClick,
    ActivityKind::TrialSignup,
    ActivityKind::IntentSurge,
    ActivityKind::Other,
    ActivityKind::EmailReply,
];

/// Position of `kind` in [`ACTIVITY_KINDS`].
pub fn activity_index(kind: ActivityKind) -> usize {
    match kind {
        ActivityKind::PageView => 0,
        ActivityKind::PricingPageView => 1,
        ActivityKind::DemoRequest => 2,
        ActivityKind::ContactSales => 3,
        ActivityKind::ContentDownload => 4,
        ActivityKind::WebinarRegistered => 5,
        ActivityKind::WebinarAttended => 6,
        ActivityKind::EmailOpen => 7,
        ActivityKind::EmailClick => 8,
        ActivityKind::TrialSignup => 9,
        ActivityKind::IntentSurge => 10,
        ActivityKind::Other => 11,
        ActivityKind::EmailReply => 12,
    }
}

/// Chat qualification codes (`qualification.<x>`).
pub const QUALIFICATION_CODES: [&str; 5] = [
    "problem",
    "authority",
    "company",
    "timing",
    "human_requested",
];

/// A disqualifier: points subtracted from the score.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Negative {
    /// Persona N1: works for a competitor.
    Competitor,
    /// Persona N2: researcher, student, analyst, not buying.
    Researcher,
    /// A chat that is an existing client's support request, not a new lead.
    ExistingCustomerSupport,
    /// An email that is present but not a valid address.
    InvalidEmail,
    /// A free-mail address (gmail.com, outlook.com, ...).
    FreeMail,
    /// No email address at all.
    MissingEmail,
    /// No company name, domain or firmographics.
    MissingCompany,
    /// Data quality warnings raised by enrichment (points per warning, at most 3 counted).
    DataQuality,
    /// The event updates a lead already seen within the dedup window (off unless the model weights it).
    RepeatSubmission,
}

impl Negative {
    pub const ALL: [Negative; 9] = [
        Negative::Competitor,
        Negative::Researcher,
        Negative::ExistingCustomerSupport,
        Negative::InvalidEmail,
        Negative::FreeMail,
        Negative::MissingEmail,
        Negative::MissingCompany,
        Negative::DataQuality,
        Negative::RepeatSubmission,
    ];

    /// The value after `negative.`.
    pub fn name(self) -> &'static str {
        match self {
            Negative::Competitor => "competitor",
            Negative::Researcher => "researcher",
            Negative::ExistingCustomerSupport => "existing_customer_support",
            Negative::InvalidEmail => "invalid_email",
            Negative::FreeMail => "free_mail",
            Negative::MissingEmail => "missing_email",
            Negative::MissingCompany => "missing_company",
            Negative::DataQuality => "data_quality",
            Negative::RepeatSubmission => "repeat_submission",
        }
    }

    /// The normalised lookup key, e.g. `negative.competitor`.
    pub fn key(self) -> &'static str {
        match self {
            Negative::Competitor => "negative.competitor",
            Negative::Researcher => "negative.researcher",
            Negative::ExistingCustomerSupport => "negative.existing_customer_support",
            Negative::InvalidEmail => "negative.invalid_email",
            Negative::FreeMail => "negative.free_mail",
            Negative::MissingEmail => "negative.missing_email",
            Negative::MissingCompany => "negative.missing_company",
            Negative::DataQuality => "negative.data_quality",
            Negative::RepeatSubmission => "negative.repeat_submission",
        }
    }
}

/// Normalises a code value so that `Financial Services`, `financial-services` and
/// `financial_services` meet: lower case, alphanumerics and `+ < > .` kept, every other run of
/// characters becomes one `_`, no leading or trailing `_`. `201-1000` becomes `201_1000`, `5000+`
/// stays, `PRICING_PAGE_VIEW` becomes `pricing_page_view`.
pub fn normalize(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut pending_sep = false;
    for c in value.chars() {
        if c.is_alphanumeric() || matches!(c, '+' | '<' | '>' | '.') {
            if pending_sep && !out.is_empty() {
                out.push('_');
            }
            pending_sep = false;
            out.extend(c.to_lowercase());
        } else {
            pending_sep = true;
        }
    }
    out
}

/// Runs `f` on [`normalize`]`(value)`, without allocating for an ASCII value of up to 64 bytes (the
/// codes leads carry: `software`, `201-1000`, `FR`, ...).
pub fn with_normalized<R>(value: &str, f: impl FnOnce(&str) -> R) -> R {
    let mut buf = [0u8; 64];
    if value.len() <= buf.len() && value.is_ascii() {
        // Each input byte writes at most one output byte (a `_` only stands for skipped bytes), so
        // `n` never exceeds `value.len()` <= 64.
        let mut n = 0;
        let mut pending_sep = false;
        for b in value.bytes() {
            if b.is_ascii_alphanumeric() || matches!(b, b'+' | b'<' | b'>' | b'.') {
                if pending_sep && n > 0 {
                    buf[n] = b'_';
                    n += 1;
                }
                pending_sep = false;
                buf[n] = b.to_ascii_lowercase();
                n += 1;
            } else {
                pending_sep = true;
            }
        }
        if let Ok(s) = std::str::from_utf8(&buf[..n]) {
            return f(s);
        }
    }
    f(&normalize(value))
}

/// Position of an open family in [`OPEN_FAMILIES`].
pub fn open_family_index(family: &str) -> Option<usize> {
    OPEN_FAMILIES.iter().position(|f| *f == family)
}

/// The lookup key of `family` + `value`: `family.normalized_value`.
pub fn key(family: &str, value: &str) -> String {
    let mut k = String::with_capacity(family.len() + 1 + value.len());
    k.push_str(family);
    k.push('.');
    k.push_str(&normalize(value));
    k
}

/// Employee band of a head count (the bands of `enriched_lead.avsc`); none for a count below 1.
pub fn employee_band_for(count: i32) -> Option<&'static str> {
    u64::try_from(count)
        .ok()
        .filter(|&n| n > 0)
        .map(leadflow_events::bands::employee_band)
}

/// Revenue band of an annual revenue in USD (the bands of `enriched_lead.avsc`); none below 0.
pub fn revenue_band_for(usd: i64) -> Option<&'static str> {
    u64::try_from(usd)
        .ok()
        .map(leadflow_events::bands::revenue_band)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_table() {
        let cases = [
            ("software", "software"),
            ("Financial Services", "financial_services"),
            ("financial-services", "financial_services"),
            ("  Software  ", "software"),
            ("201-1000", "201_1000"),
            ("5000+", "5000+"),
            ("<1M", "<1m"),
            ("50M-250M", "50m_250m"),
            ("PRICING_PAGE_VIEW", "pricing_page_view"),
            ("C-Level", "c_level"),
            ("", ""),
            ("--", ""),
        ];
        for (input, want) in cases {
            assert_eq!(normalize(input), want, "normalize({input:?})");
        }
    }

    #[test]
    fn with_normalized_is_normalize() {
        let mut inputs: Vec<String> = [
            "software",
            "Financial Services",
            "  Software  ",
            "201-1000",
            "5000+",
            "<1M",
            "50M-250M",
            "C-Level",
            "",
            "--",
            "_a__b_",
            "Zürich Ünïon",
            "K\u{212A}elvin",
            "İstanbul",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        inputs.push("a-".repeat(32));
        inputs.push("a-".repeat(33));
        inputs.push("X".repeat(64));
        inputs.push("X".repeat(65));
        for b in 0u8..128 {
            inputs.push(format!("{}a{}B", b as char, b as char));
        }
        for input in inputs {
            assert_eq!(
                with_normalized(&input, str::to_owned),
                normalize(&input),
                "{input:?}"
            );
        }
    }

    #[test]
    fn employee_bands() {
        let cases = [
            (0, None),
            (-3, None),
            (1, Some("1-10")),
            (10, Some("1-10")),
            (11, Some("11-50")),
            (200, Some("51-200")),
            (420, Some("201-1000")),
            (1000, Some("201-1000")),
            (5000, Some("1001-5000")),
            (5001, Some("5000+")),
        ];
        for (count, want) in cases {
            assert_eq!(employee_band_for(count), want, "{count}");
        }
    }

    #[test]
    fn revenue_bands() {
        let cases = [
            (-1, None),
            (0, Some("<1M")),
            (999_999, Some("<1M")),
            (1_000_000, Some("1M-10M")),
            (60_000_000, Some("50M-250M")),
            (250_000_000, Some("250M-1B")),
            (1_000_000_000, Some("1B+")),
        ];
        for (usd, want) in cases {
            assert_eq!(revenue_band_for(usd), want, "{usd}");
        }
    }

    #[test]
    fn activity_index_matches_table() {
        for (i, kind) in ACTIVITY_KINDS.iter().enumerate() {
            assert_eq!(activity_index(*kind), i);
        }
    }
}
