//! Fit: firmographic (industry, employee band, revenue band, country) and demographic (seniority,
//! department) points. Enrichment wins over what the lead typed in; sizes fall back to the bands of
//! the self-reported head count and revenue; seniority and department come from the contact's title
//! and department field.

use leadflow_events::EnrichedLead;

use crate::codes;
use crate::demographics::{self, Seniority};
use crate::explain::{Component, Contribution, Detail};
use crate::model::Model;

/// The fit facts known about a lead.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FitFacts<'a> {
    pub industry: Option<&'a str>,
    pub employee_band: Option<&'a str>,
    pub revenue_band: Option<&'a str>,
    pub country: Option<&'a str>,
    pub seniority: Option<Seniority>,
    pub department: Option<&'static str>,
}

/// Number of facts confidence counts (industry, employee band, revenue band, seniority, department).
pub const FIT_FIELDS: u32 = 5;

fn present(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl<'a> FitFacts<'a> {
    /// Reads the facts from an enriched lead.
    pub fn of(lead: &'a EnrichedLead) -> Self {
        let firmo = lead.firmographics.as_ref();
        let company = &lead.lead.company;
        let contact = &lead.lead.contact;
        let title = present(&contact.title);
        Self {
            industry: firmo
                .and_then(|f| present(&f.industry))
                .or_else(|| present(&company.industry)),
            employee_band: firmo
                .and_then(|f| present(&f.employee_band))
                .or_else(|| company.employee_count.and_then(codes::employee_band_for)),
            revenue_band: firmo
                .and_then(|f| present(&f.revenue_band))
                .or_else(|| company.annual_revenue_usd.and_then(codes::revenue_band_for)),
            country: firmo
                .and_then(|f| present(&f.country))
                .or_else(|| present(&company.country)),
            seniority: title.and_then(demographics::seniority),
            department: present(&contact.department)
                .and_then(demographics::department)
                .or_else(|| title.and_then(demographics::department)),
        }
    }

    /// How many of the [`FIT_FIELDS`] facts are known.
    pub fn known_fields(&self) -> u32 {
        [
            self.industry.is_some(),
            self.employee_band.is_some(),
            self.revenue_band.is_some(),
            self.seniority.is_some(),
            self.department.is_some(),
        ]
        .into_iter()
        .map(u32::from)
        .sum()
    }

    /// Appends one contribution per known fact the model weighs.
    pub fn contribute(&self, model: &'a Model, out: &mut Vec<Contribution<'a>>) {
        let mut push = |family: &str, value: &str, detail: Detail<'a>| {
            if let Some(w) = model.open_weight(family, value) {
                out.push(Contribution {
                    component: Component::Fit,
                    code: &w.code,
                    points: w.points,
                    detail,
                });
            }
        };
        if let Some(v) = self.industry {
            push(codes::INDUSTRY, v, Detail::Industry(v));
        }
        if let Some(v) = self.employee_band {
            push(codes::EMPLOYEE_BAND, v, Detail::EmployeeBand(v));
        }
        if let Some(v) = self.revenue_band {
            push(codes::REVENUE_BAND, v, Detail::RevenueBand(v));
        }
        if let Some(v) = self.country {
            push(codes::COUNTRY, v, Detail::Country(v));
        }
        if let Some(s) = self.seniority {
            push(codes::SENIORITY, s.code(), Detail::Seniority(s));
        }
        if let Some(d) = self.department {
            push(codes::DEPARTMENT, d, Detail::Department(d));
        }
    }
}

#[cfg(test)]
mod tests {
    use leadflow_events::{EnrichmentStatus, samples};

    use super::*;

    #[test]
    fn sample_facts_come_from_firmographics_and_title() {
        let lead = samples::enriched_lead();
        let f = FitFacts::of(&lead);
        assert_eq!(f.industry, Some("software"));
        assert_eq!(f.employee_band, Some("201-1000"));
        assert_eq!(f.revenue_band, Some("50M-250M"));
        assert_eq!(f.country, Some("FR"));
        assert_eq!(f.seniority, Some(Seniority::Vp));
        assert_eq!(f.department, Some("engineering"));
        assert_eq!(f.known_fields(), FIT_FIELDS);
    }

    #[test]
    fn self_reported_company_is_the_fallback() {
        let mut lead = samples::enriched_lead();
        lead.firmographics = None;
        lead.enrichment = EnrichmentStatus::NotFound;
        lead.lead.company.industry = Some(" Fintech ".into());
        lead.lead.company.employee_count = Some(45);
        lead.lead.company.annual_revenue_usd = Some(6_000_000);
        lead.lead.contact.department = None;
        lead.lead.contact.title = Some("Head of Marketing".into());
        let f = FitFacts::of(&lead);
        assert_eq!(f.industry, Some("Fintech"));
        assert_eq!(f.employee_band, Some("11-50"));
        assert_eq!(f.revenue_band, Some("1M-10M"));
        assert_eq!(f.seniority, Some(Seniority::Director));
        assert_eq!(f.department, Some("marketing"));
    }

    #[test]
    fn nothing_known_is_zero_fields() {
        let mut lead = samples::enriched_lead();
        lead.firmographics = None;
        lead.lead.company = Default::default();
        lead.lead.contact = Default::default();
        let f = FitFacts::of(&lead);
        assert_eq!(f, FitFacts::default());
        assert_eq!(f.known_fields(), 0);
    }

    #[test]
    fn contributions_use_model_codes_and_other_fallback() {
        let model = Model::embedded("lead-priority").unwrap();
        let facts = FitFacts {
            industry: Some("Mining"),
            employee_band: Some("201-1000"),
            seniority: Some(Seniority::Vp),
            ..FitFacts::default()
        };
        let mut out = Vec::new();
        facts.contribute(&model, &mut out);
        let got: Vec<_> = out.iter().map(|c| (c.code, c.points)).collect();
        assert_eq!(
            got,
            vec![
                ("industry.other", 3.0),
                ("employee_band.201-1000", 12.0),
                ("seniority.vp", 12.0)
            ]
        );
    }
}
