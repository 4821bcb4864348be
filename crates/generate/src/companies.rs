//! Companies a synthetic lead can come from: the enrich stage's demo firmographics dataset (so most
//! leads enrich), invented companies the dataset does not know, competitors, universities and
//! analyst firms.

use std::collections::BTreeSet;

use rand::Rng;

use super::pick::{Rng as GenRng, pick};

/// The enrich stage's default competitor list (persona N1), from `leadflow-enrich` itself.
pub use leadflow_enrich::settings::DEFAULT_COMPETITORS as COMPETITOR_DOMAINS;

/// Personal mailbox providers (free-mail leads, job seekers).
pub const FREE_MAIL_DOMAINS: [&str; 9] = [
    "gmail.com",
    "outlook.com",
    "yahoo.com",
    "hotmail.com",
    "icloud.com",
    "proton.me",
    "gmx.de",
    "web.de",
    "orange.fr",
];

/// Universities students write from (persona N2).
pub const UNIVERSITIES: [(&str, &str); 8] = [
    ("stanford.edu", "Stanford University"),
    ("mit.edu", "Massachusetts Institute of Technology"),
    ("umich.edu", "University of Michigan"),
    ("utexas.edu", "The University of Texas at Austin"),
    ("nyu.edu", "New York University"),
    ("gatech.edu", "Georgia Institute of Technology"),
    ("berkeley.edu", "University of California, Berkeley"),
    ("bu.edu", "Boston University"),
];

/// Industry analyst firms (persona N2).
pub const ANALYST_FIRMS: [(&str, &str); 2] =
    [("gartner.com", "Gartner"), ("forrester.com", "Forrester")];

/// A company as the generator uses it: a row of the enrich stage's demo dataset
/// ([`leadflow_enrich::dataset::demo_companies`]) or an invented one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompanyRecord {
    pub domain: String,
    pub name: String,
    pub industry: String,
    pub country: String,
    pub employee_count: i32,
    pub annual_revenue_usd: i64,
}

impl CompanyRecord {
    /// A dataset row with everything the generator needs (name, industry, country, head count and
    /// revenue); `None` for a partial row.
    pub fn from_dataset(c: &leadflow_enrich::dataset::CompanyRecord) -> Option<Self> {
        Some(Self {
            domain: c.domain.clone(),
            name: c.name.clone()?,
            industry: c.industry.clone()?,
            country: c.country.clone()?,
            employee_count: i32::try_from(c.employee_count?).ok()?,
            annual_revenue_usd: i64::try_from(c.annual_revenue_usd?).ok()?,
        })
    }
}

/// The companies leads are drawn from.
#[derive(Clone, Debug)]
pub struct Companies {
    /// Dataset companies that are not competitors.
    pub prospects: Vec<CompanyRecord>,
    /// Competitor companies (from the dataset when present there).
    pub competitors: Vec<CompanyRecord>,
    known: BTreeSet<String>,
}

impl Companies {
    /// The enrich stage's demo dataset, split into prospects and competitors.
    pub fn bundled() -> Self {
        Self::from_rows(
            leadflow_enrich::dataset::demo_companies()
                .iter()
                .filter_map(CompanyRecord::from_dataset)
                .collect(),
        )
    }

    pub fn from_rows(rows: Vec<CompanyRecord>) -> Self {
        let known = rows.iter().map(|r| r.domain.clone()).collect();
        let (mut competitors, mut prospects): (Vec<_>, Vec<_>) = rows
            .into_iter()
            .partition(|r| COMPETITOR_DOMAINS.contains(&r.domain.as_str()));
        for domain in COMPETITOR_DOMAINS {
            if !competitors.iter().any(|c| c.domain == domain) {
                competitors.push(fallback_competitor(domain));
            }
        }
        if prospects.is_empty() {
            prospects.push(CompanyRecord {
                domain: "northwind.io".into(),
                name: "Northwind".into(),
                industry: "software".into(),
                country: "FR".into(),
                employee_count: 420,
                annual_revenue_usd: 60_000_000,
            });
        }
        Self {
            prospects,
            competitors,
            known,
        }
    }

    /// Whether the dataset knows a domain.
    pub fn knows(&self, domain: &str) -> bool {
        self.known.contains(domain)
    }

    /// An invented company with a domain the dataset does not contain.
    pub fn invent(&self, rng: &mut GenRng) -> CompanyRecord {
        const PREFIXES: [&str; 20] = [
            "Brightwell",
            "Cobalt",
            "Harbor",
            "Juniper",
            "Meridian",
            "Northstar",
            "Oakline",
            "Pinecrest",
            "Quill",
            "Redwood",
            "Silverline",
            "Tidewater",
            "Vantage",
            "Willow",
            "Zephyr",
            "Amberfield",
            "Copperleaf",
            "Driftwood",
            "Evergreen",
            "Foxglove",
        ];
        const SUFFIXES: [(&str, &str); 12] = [
            ("Analytics", "software"),
            ("Systems", "software"),
            ("Labs", "software"),
            ("Partners", "consulting"),
            ("Logistics", "logistics"),
            ("Health", "healthcare"),
            ("Robotics", "manufacturing"),
            ("Capital", "fintech"),
            ("Media", "media"),
            ("Foods", "retail"),
            ("Telecom", "telecom"),
            ("Works", "manufacturing"),
        ];
        const PLACES: [(&str, &str); 8] = [
            ("US", "com"),
            ("US", "io"),
            ("GB", "co.uk"),
            ("DE", "de"),
            ("FR", "fr"),
            ("NL", "nl"),
            ("CA", "ca"),
            ("IN", "in"),
        ];
        let prefix = *pick(rng, &PREFIXES);
        let (suffix, industry) = *pick(rng, &SUFFIXES);
        let (country, tld) = *pick(rng, &PLACES);
        let base = format!("{prefix}{suffix}").to_ascii_lowercase();
        let mut domain = format!("{base}.{tld}");
        if self.knows(&domain) {
            domain = format!("{base}-group.{tld}");
        }
        let employee_count =
            *pick(rng, &[8, 25, 60, 140, 320, 900, 2400]) + rng.random_range(0..40);
        let revenue_per_head: i64 = rng.random_range(80_000..250_000);
        CompanyRecord {
            domain,
            name: format!("{prefix} {suffix}"),
            industry: industry.to_owned(),
            country: country.to_owned(),
            employee_count,
            annual_revenue_usd: i64::from(employee_count) * revenue_per_head,
        }
    }
}

fn fallback_competitor(domain: &str) -> CompanyRecord {
    let name = match domain {
        "pipelinerival.com" => "Pipeline Rival",
        "hotleads.ai" => "HotLeads AI",
        _ => "FunnelForge",
    };
    CompanyRecord {
        domain: domain.to_owned(),
        name: name.to_owned(),
        industry: "software".into(),
        country: "US".into(),
        employee_count: 120,
        annual_revenue_usd: 15_000_000,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn the_demo_dataset_splits_into_prospects_and_competitors() {
        let rows = leadflow_enrich::dataset::demo_companies();
        assert!(rows.len() >= 100, "only {} companies", rows.len());
        let companies = Companies::bundled();
        assert_eq!(companies.prospects.len() + 3, rows.len());
        assert_eq!(companies.competitors.len(), 3);
        assert!(
            companies
                .prospects
                .iter()
                .all(|c| !COMPETITOR_DOMAINS.contains(&c.domain.as_str()))
        );
        assert!(companies.knows("northwind.io"));
    }

    #[test]
    fn invented_companies_are_unknown_to_the_dataset() {
        let companies = Companies::bundled();
        let mut rng = GenRng::seed_from_u64(1);
        for _ in 0..500 {
            let c = companies.invent(&mut rng);
            assert!(!companies.knows(&c.domain), "{}", c.domain);
            assert!(c.employee_count > 0 && c.annual_revenue_usd > 0);
        }
    }
}
