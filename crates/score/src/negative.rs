//! Negative signals (disqualifiers), each subtracting its `negative.<signal>` weight:
//! - `competitor`: persona N1; `researcher`: persona N2 (never escalated: crates/tier/POLICY.md G1);
//! - `existing_customer_support`: the chat was an existing client's support request;
//! - `invalid_email`: an email that is not `local@domain.tld`; `missing_email`: no email at all;
//! - `free_mail`: enrichment flagged a free-mail provider;
//! - `missing_company`: no company name, domain or firmographics at all;
//! - `data_quality`: per enrichment quality warning, at most three counted (warnings that have a
//!   disqualifier of their own, like `free_mail`, are not counted twice);
//! - `repeat_submission`: the event updates a lead already seen (`is_update`). An update usually means
//!   more engagement, so the default model leaves it unweighted; a model may weigh it to damp spam.

use leadflow_events::{EnrichedLead, OutOfScopeCategory, Persona};

use crate::codes::Negative;
use crate::explain::{Component, Contribution, Detail};
use crate::model::Model;

/// Warnings counted by `negative.data_quality` at most.
pub const MAX_QUALITY_WARNINGS: u32 = 3;

/// Enrichment warning codes that already have a disqualifier of their own (or are no problem at
/// all); `data_quality` does not count them a second time.
const SCORED_ELSEWHERE: [&str; 5] = [
    "free_mail",
    "missing_email",
    "missing_company",
    "company_domain_derived",
    "enrichment_not_found",
];

/// Whether `email` looks like a deliverable address: one `@`, a non-empty local part, a dotted domain,
/// no whitespace.
pub fn valid_email(email: &str) -> bool {
    let email = email.trim();
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && !email.chars().any(char::is_whitespace)
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
}

/// The disqualifiers that apply to `lead`, with their count (1 except for data quality).
pub fn signals(lead: &EnrichedLead) -> Vec<(Negative, u32)> {
    let mut found = Vec::new();
    match lead.persona {
        Persona::N1 => found.push((Negative::Competitor, 1)),
        Persona::N2 => found.push((Negative::Researcher, 1)),
        Persona::P1 | Persona::P2 | Persona::P3 | Persona::Unknown => {}
    }
    if lead
        .lead
        .chat
        .as_ref()
        .is_some_and(|c| c.out_of_scope == Some(OutOfScopeCategory::ExistingClientSupport))
    {
        found.push((Negative::ExistingCustomerSupport, 1));
    }
    match lead
        .lead
        .contact
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
    {
        None => found.push((Negative::MissingEmail, 1)),
        Some(e) if !valid_email(e) => found.push((Negative::InvalidEmail, 1)),
        Some(_) => {}
    }
    if lead.free_mail {
        found.push((Negative::FreeMail, 1));
    }
    let blank = |s: &Option<String>| s.as_deref().is_none_or(|s| s.trim().is_empty());
    if blank(&lead.lead.company.name)
        && blank(&lead.lead.company.domain)
        && blank(&lead.company_domain)
        && blank(&lead.lead.account_domain)
        && lead.firmographics.is_none()
    {
        found.push((Negative::MissingCompany, 1));
    }
    let counted = lead
        .quality_warnings
        .iter()
        .filter(|w| !SCORED_ELSEWHERE.contains(&w.as_str()))
        .count();
    let warnings = u32::try_from(counted).unwrap_or(u32::MAX);
    if warnings > 0 {
        found.push((Negative::DataQuality, warnings.min(MAX_QUALITY_WARNINGS)));
    }
    if lead.is_update {
        found.push((Negative::RepeatSubmission, 1));
    }
    found
}

/// Appends one (negative-points) contribution per weighted disqualifier.
pub fn contribute<'a>(lead: &'a EnrichedLead, model: &'a Model, out: &mut Vec<Contribution<'a>>) {
    for (signal, count) in signals(lead) {
        if let Some(w) = model.negative_weight(signal) {
            out.push(Contribution {
                component: Component::Negative,
                code: &w.code,
                points: -(w.points * f64::from(count)),
                detail: Detail::Negative { signal, count },
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use leadflow_events::samples;

    use super::*;

    #[test]
    fn valid_email_table() {
        let cases = [
            ("ada@northwind.io", true),
            (" ada@northwind.io ", true),
            ("ada.lovelace@mail.northwind.co.uk", true),
            ("ada", false),
            ("@northwind.io", false),
            ("ada@northwind", false),
            ("ada@@northwind.io", false),
            ("ada@north wind.io", false),
            ("ada@.io", false),
            ("ada@northwind.", false),
            ("ada@northwind..io", false),
        ];
        for (email, want) in cases {
            assert_eq!(valid_email(email), want, "{email:?}");
        }
    }

    #[test]
    fn each_disqualifier_table() {
        type Edit = fn(&mut EnrichedLead);
        type Case = (&'static str, Edit, Vec<(Negative, u32)>);
        let cases: [Case; 12] = [
            ("clean sample", |_| {}, vec![]),
            (
                "competitor",
                |l| l.persona = Persona::N1,
                vec![(Negative::Competitor, 1)],
            ),
            (
                "researcher",
                |l| l.persona = Persona::N2,
                vec![(Negative::Researcher, 1)],
            ),
            (
                "existing client support",
                |l| {
                    if let Some(c) = &mut l.lead.chat {
                        c.out_of_scope = Some(OutOfScopeCategory::ExistingClientSupport);
                    }
                },
                vec![(Negative::ExistingCustomerSupport, 1)],
            ),
            (
                "other out-of-scope is not a disqualifier",
                |l| {
                    if let Some(c) = &mut l.lead.chat {
                        c.out_of_scope = Some(OutOfScopeCategory::CommercialTerms);
                    }
                },
                vec![],
            ),
            (
                "missing email",
                |l| l.lead.contact.email = None,
                vec![(Negative::MissingEmail, 1)],
            ),
            (
                "blank email",
                |l| l.lead.contact.email = Some("  ".into()),
                vec![(Negative::MissingEmail, 1)],
            ),
            (
                "invalid email",
                |l| l.lead.contact.email = Some("ada-at-northwind".into()),
                vec![(Negative::InvalidEmail, 1)],
            ),
            (
                "free mail",
                |l| l.free_mail = true,
                vec![(Negative::FreeMail, 1)],
            ),
            (
                "free mail flagged by enrich is not counted again as a quality warning",
                |l| {
                    l.free_mail = true;
                    l.quality_warnings = vec!["free_mail".into(), "missing_title".into()];
                },
                vec![(Negative::FreeMail, 1), (Negative::DataQuality, 1)],
            ),
            (
                "missing company",
                |l| {
                    l.lead.company = Default::default();
                    l.lead.account_domain = None;
                    l.company_domain = None;
                    l.firmographics = None;
                },
                vec![(Negative::MissingCompany, 1)],
            ),
            (
                "quality warnings capped at three, update flagged",
                |l| {
                    l.quality_warnings = vec!["a".into(), "b".into(), "c".into(), "d".into()];
                    l.is_update = true;
                },
                vec![(Negative::DataQuality, 3), (Negative::RepeatSubmission, 1)],
            ),
        ];
        for (name, edit, want) in cases {
            let mut lead = samples::enriched_lead();
            edit(&mut lead);
            assert_eq!(signals(&lead), want, "{name}");
        }
    }

    #[test]
    fn contributions_subtract_weight_times_count() {
        let model = Model::embedded("lead-priority").unwrap();
        let mut lead = samples::enriched_lead();
        lead.persona = Persona::N1;
        lead.quality_warnings = vec!["a".into(), "b".into()];
        lead.is_update = true; // unweighted in the default model: no contribution
        let mut out = Vec::new();
        contribute(&lead, &model, &mut out);
        let got: Vec<_> = out.iter().map(|c| (c.code, c.points)).collect();
        assert_eq!(
            got,
            vec![
                ("negative.competitor", -70.0),
                ("negative.data_quality", -4.0)
            ]
        );
    }
}
