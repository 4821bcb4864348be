//! The local provider: the user's company file (`kind = "local"`, `dataset_path`), or the bundled
//! demo dataset (`kind = "demo"`). Schema and rules: RULES.md §9.

use std::collections::HashMap;
use std::path::Path;

use leadflow_events::Firmographics;

use super::{FirmographicsProvider, ProviderError};
use crate::dataset::{self, CompanyRecord, DatasetError};

/// Provider name written into `Firmographics::provider`.
pub const LOCAL_PROVIDER: &str = "local-dataset";

/// Answers from an in-memory company table. Lookups of a subdomain fall back to its parents
/// (`eu.northwind.io` -> `northwind.io`).
#[derive(Clone, Debug)]
pub struct LocalProvider {
    companies: HashMap<String, Firmographics>,
}

impl LocalProvider {
    /// The demo dataset compiled into the binary (demo and tests only).
    pub fn demo() -> Self {
        Self::from_records(dataset::demo_companies().to_vec())
    }

    /// A user's dataset file (CSV, JSON or JSON Lines); every bad row is reported.
    pub fn from_path(path: &Path) -> Result<Self, DatasetError> {
        Ok(Self::from_records(dataset::load(path)?))
    }

    /// An explicit table.
    pub fn from_records(records: Vec<CompanyRecord>) -> Self {
        let companies = records
            .into_iter()
            .map(|c| {
                let firmographics = Firmographics {
                    provider: LOCAL_PROVIDER.into(),
                    industry: c.industry,
                    employee_band: c.employee_band,
                    revenue_band: c.revenue_band,
                    country: c.country,
                };
                (c.domain, firmographics)
            })
            .collect();
        Self { companies }
    }

    /// Number of companies known.
    pub fn len(&self) -> usize {
        self.companies.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.companies.is_empty()
    }

    /// The synchronous lookup behind the trait.
    pub fn get(&self, domain: &str) -> Option<&Firmographics> {
        let mut candidate = domain;
        loop {
            if let Some(f) = self.companies.get(candidate) {
                return Some(f);
            }
            let (_, parent) = candidate.split_once('.')?;
            if !parent.contains('.') {
                return None;
            }
            candidate = parent;
        }
    }
}

impl FirmographicsProvider for LocalProvider {
    async fn lookup(&self, domain: &str) -> Result<Option<Firmographics>, ProviderError> {
        Ok(self.get(domain).cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_lookups() {
        let p = LocalProvider::demo();
        assert!(p.len() >= 150);
        let nw = p.get("northwind.io").unwrap();
        assert_eq!(nw.provider, "local-dataset");
        assert_eq!(nw.industry.as_deref(), Some("software"));
        assert_eq!(nw.employee_band.as_deref(), Some("201-1000"));
        assert_eq!(nw.revenue_band.as_deref(), Some("50M-250M"));
        assert_eq!(nw.country.as_deref(), Some("FR"));
        assert_eq!(p.get("eu.northwind.io"), Some(nw));
        assert_eq!(p.get("unknown-company.example"), None);
        assert_eq!(p.get("io"), None);
        assert_eq!(p.get(""), None);
    }

    #[test]
    fn from_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("companies.csv");
        std::fs::write(
            &path,
            "domain,name,industry,country,employee_count\nexample.org,Example,media,DE,20\n",
        )
        .unwrap();
        let p = LocalProvider::from_path(&path).unwrap();
        assert_eq!(p.len(), 1);
        let f = p.get("www.example.org").unwrap();
        assert_eq!(f.country.as_deref(), Some("DE"));
        assert_eq!(f.employee_band.as_deref(), Some("11-50"));
        assert_eq!(f.revenue_band, None);
        assert!(LocalProvider::from_path(&dir.path().join("missing.csv")).is_err());
    }
}
