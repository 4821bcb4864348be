//! The bundled company dataset (`data/companies.csv`) and CSV files of the same shape.
//!
//! Header: `domain,name,industry,employee_band,revenue_band,country,employee_count,annual_revenue_usd`.
//! Fields hold no commas or quotes, so parsing is a plain split.

/// The bundled dataset, compiled in.
pub const BUNDLED_COMPANIES_CSV: &str = include_str!("../data/companies.csv");

/// The expected header line.
pub const HEADER: &str =
    "domain,name,industry,employee_band,revenue_band,country,employee_count,annual_revenue_usd";

/// One company of the dataset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompanyRecord {
    pub domain: String,
    pub name: String,
    pub industry: String,
    pub employee_band: String,
    pub revenue_band: String,
    pub country: String,
    pub employee_count: u32,
    pub annual_revenue_usd: u64,
}

/// A dataset file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    #[error("company dataset: the header must be {HEADER:?}")]
    Header,
    #[error("company dataset line {line}: {problem}")]
    Line { line: usize, problem: String },
    #[error("company dataset {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// Parses a dataset; blank lines are skipped, anything else malformed is an error naming the line.
pub fn parse_companies(text: &str) -> Result<Vec<CompanyRecord>, DatasetError> {
    let mut lines = text.lines().enumerate();
    let header = lines.next().map(|(_, l)| l.trim()).unwrap_or_default();
    if header != HEADER {
        return Err(DatasetError::Header);
    }
    let mut out = Vec::new();
    for (i, line) in lines {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let bad = |problem: String| DatasetError::Line {
            line: i + 1,
            problem,
        };
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let [
            domain,
            name,
            industry,
            employee_band,
            revenue_band,
            country,
            count,
            revenue,
        ] = fields.as_slice()
        else {
            return Err(bad(format!("expected 8 fields, found {}", fields.len())));
        };
        let employee_count = count
            .parse()
            .map_err(|_| bad(format!("employee_count {count:?} is not a whole number")))?;
        let annual_revenue_usd = revenue.parse().map_err(|_| {
            bad(format!(
                "annual_revenue_usd {revenue:?} is not a whole number"
            ))
        })?;
        if domain.is_empty() {
            return Err(bad("domain is empty".into()));
        }
        out.push(CompanyRecord {
            domain: domain.to_ascii_lowercase(),
            name: (*name).into(),
            industry: (*industry).into(),
            employee_band: (*employee_band).into(),
            revenue_band: (*revenue_band).into(),
            country: (*country).into(),
            employee_count,
            annual_revenue_usd,
        });
    }
    Ok(out)
}

/// Reads and parses a dataset file.
pub fn load_companies(path: &std::path::Path) -> Result<Vec<CompanyRecord>, DatasetError> {
    let text = std::fs::read_to_string(path).map_err(|source| DatasetError::Io {
        path: path.display().to_string(),
        source,
    })?;
    parse_companies(&text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bands::{EMPLOYEE_BANDS, REVENUE_BANDS, employee_band, revenue_band};

    #[test]
    fn the_bundled_dataset_is_consistent() {
        let companies = parse_companies(BUNDLED_COMPANIES_CSV).unwrap();
        assert!(companies.len() >= 150, "{}", companies.len());
        let mut domains = std::collections::HashSet::new();
        let industries = [
            "software",
            "fintech",
            "healthcare",
            "manufacturing",
            "retail",
            "logistics",
            "education",
            "media",
            "telecom",
            "government",
            "consulting",
        ];
        for c in &companies {
            assert!(domains.insert(c.domain.clone()), "duplicate {}", c.domain);
            assert!(
                crate::address::normalise_domain(&c.domain).as_deref() == Ok(c.domain.as_str())
            );
            assert!(
                industries.contains(&c.industry.as_str()),
                "{}: {}",
                c.domain,
                c.industry
            );
            assert!(
                EMPLOYEE_BANDS.contains(&c.employee_band.as_str()),
                "{}",
                c.domain
            );
            assert!(
                REVENUE_BANDS.contains(&c.revenue_band.as_str()),
                "{}",
                c.domain
            );
            assert_eq!(
                employee_band(u64::from(c.employee_count)),
                c.employee_band,
                "{}",
                c.domain
            );
            assert_eq!(
                revenue_band(c.annual_revenue_usd),
                c.revenue_band,
                "{}",
                c.domain
            );
            assert!(
                crate::country::is_known_alpha2(&c.country),
                "{}: {}",
                c.domain,
                c.country
            );
        }
        let northwind = companies
            .iter()
            .find(|c| c.domain == "northwind.io")
            .unwrap();
        assert_eq!(
            (
                northwind.industry.as_str(),
                northwind.employee_band.as_str(),
                northwind.revenue_band.as_str()
            ),
            ("software", "201-1000", "50M-250M")
        );
        assert_eq!(
            (
                northwind.country.as_str(),
                northwind.employee_count,
                northwind.annual_revenue_usd
            ),
            ("FR", 420, 60_000_000)
        );
        for competitor in crate::settings::DEFAULT_COMPETITORS {
            let c = companies.iter().find(|c| c.domain == competitor).unwrap();
            assert_eq!(c.industry, "software");
        }
    }

    #[test]
    fn malformed_files_name_the_line() {
        let cases = [
            ("domain,name\n".to_owned(), "header"),
            (
                format!("{HEADER}\na.io,A,software\n"),
                "line 2: expected 8 fields, found 3",
            ),
            (
                format!("{HEADER}\n\na.io,A,software,1-10,<1M,FR,x,1\n"),
                "line 3: employee_count \"x\"",
            ),
            (
                format!("{HEADER}\na.io,A,software,1-10,<1M,FR,1,-5\n"),
                "line 2: annual_revenue_usd",
            ),
        ];
        for (text, want) in cases {
            let err = parse_companies(&text)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(err.contains(want), "{want}: {err}");
        }
        assert_eq!(parse_companies(&format!("{HEADER}\n")).unwrap(), vec![]);
    }
}
