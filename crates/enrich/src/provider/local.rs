//! The local provider: the bundled dataset, or a CSV of the same shape.

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
    /// The dataset compiled into the binary.
    pub fn bundled() -> Result<Self, DatasetError> {
        Ok(Self::from_records(dataset::parse_companies(
            dataset::BUNDLED_COMPANIES_CSV,
        )?))
    }

    /// A CSV file with the bundled dataset's header.
    pub fn from_path(path: &Path) -> Result<Self, DatasetError> {
        Ok(Self::from_records(dataset::load_companies(path)?))
    }

    /// An explicit table.
    pub fn from_records(records: Vec<CompanyRecord>) -> Self {
        let companies = records
            .into_iter()
            .map(|c| {
                let firmographics = Firmographics {
                    provider: LOCAL_PROVIDER.into(),
                    industry: Some(c.industry),
                    employee_band: Some(c.employee_band),
                    revenue_band: Some(c.revenue_band),
                    country: Some(c.country),
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
    fn bundled_lookups() {
        let p = LocalProvider::bundled().unwrap();
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
        let dir = std::env::temp_dir().join(format!("leadflow-enrich-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("companies.csv");
        std::fs::write(
            &path,
            format!(
                "{}\nexample.org,Example,media,11-50,1M-10M,DE,20,2000000\n",
                dataset::HEADER
            ),
        )
        .unwrap();
        let p = LocalProvider::from_path(&path).unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!(
            p.get("example.org").and_then(|f| f.country.as_deref()),
            Some("DE")
        );
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(LocalProvider::from_path(&dir.join("missing.csv")).is_err());
    }
}
