//! Company datasets for the local firmographics provider (RULES.md §9): the user's file (CSV, JSON
//! array or JSON Lines) and the demo dataset shipped with the product.
//!
//! Schema: one company per row/record, with the columns (keys)
//!
//! | column | required | value |
//! |---|---|---|
//! | `domain` | yes | the company's domain (`northwind.io`; `https://www.` and paths are stripped) |
//! | `name` | no | display name |
//! | `industry` | no | free text, mapped to the product's industries (`Banks` -> `fintech`) |
//! | `country` | no | ISO 3166 alpha-2/alpha-3 code or name (`FR`, `FRA`, `France`) |
//! | `employee_count` | no | whole number |
//! | `employee_band` | no | one of `1-10 11-50 51-200 201-1000 1001-5000 5000+`; derived from the count when absent |
//! | `annual_revenue_usd` | no | whole number |
//! | `revenue_band` | no | one of `<1M 1M-10M 10M-50M 50M-250M 250M-1B 1B+`; derived from the revenue when absent |
//!
//! Every bad row is reported with its line (CSV, JSON Lines) or record number (JSON array) and what
//! is wrong; a file with any bad row is refused as a whole, so a half-loaded dataset never goes
//! live unnoticed.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::sync::LazyLock;

use serde_json::Value;

use crate::address::normalise_domain;
use crate::bands::{EMPLOYEE_BANDS, REVENUE_BANDS, employee_band, revenue_band};
use crate::country;
use crate::industry::normalise_industry;

/// The demo dataset (157 invented companies), compiled in. For the demo, tests and the `leadflow
/// generate` command only; production names its own file.
pub const DEMO_COMPANIES_CSV: &str = include_str!("../data/companies.csv");

/// The columns a dataset may have.
pub const COLUMNS: [&str; 8] = [
    "domain",
    "name",
    "industry",
    "country",
    "employee_count",
    "employee_band",
    "annual_revenue_usd",
    "revenue_band",
];

/// Bad rows listed in an error message at most (the count says how many there were).
const MAX_LISTED: usize = 20;

/// One company of a dataset, normalised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompanyRecord {
    /// Normalised domain (lower-case ASCII).
    pub domain: String,
    pub name: Option<String>,
    /// One of the product's industries when the label maps to one, else the label lower-cased.
    pub industry: Option<String>,
    /// ISO alpha-2.
    pub country: Option<String>,
    pub employee_count: Option<u32>,
    pub employee_band: Option<String>,
    pub annual_revenue_usd: Option<u64>,
    pub revenue_band: Option<String>,
}

/// Where a bad row is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowAt {
    /// 1-based line of a CSV or JSON Lines file.
    Line(usize),
    /// 1-based record of a JSON array.
    Record(usize),
}

impl fmt::Display for RowAt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RowAt::Line(n) => write!(f, "line {n}"),
            RowAt::Record(n) => write!(f, "record {n}"),
        }
    }
}

/// One bad row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadRow {
    pub at: RowAt,
    pub problem: String,
}

/// A dataset that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    #[error("company dataset {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "company dataset {path}: the file name must end in .csv, .json, .jsonl or .ndjson (schema in crates/enrich/RULES.md)"
    )]
    Format { path: String },
    #[error("company dataset: {0} (columns: {cols})", cols = COLUMNS.join(","))]
    Header(String),
    #[error("company dataset: {} bad row(s): {}", .0.len(), list(.0))]
    Rows(Vec<BadRow>),
    #[error("company dataset: no company in the file")]
    Empty,
}

fn list(rows: &[BadRow]) -> String {
    let mut out: Vec<String> = rows
        .iter()
        .take(MAX_LISTED)
        .map(|r| format!("{}: {}", r.at, r.problem))
        .collect();
    if rows.len() > MAX_LISTED {
        out.push(format!("and {} more", rows.len() - MAX_LISTED));
    }
    out.join("; ")
}

/// The demo dataset, parsed once. Empty (and an error logged) if it were ever broken; a test keeps it
/// whole.
pub fn demo_companies() -> &'static [CompanyRecord] {
    static DEMO: LazyLock<Vec<CompanyRecord>> =
        LazyLock::new(|| match parse_csv(DEMO_COMPANIES_CSV) {
            Ok(rows) => rows,
            Err(error) => {
                tracing::error!(%error, "the bundled demo dataset does not parse");
                Vec::new()
            }
        });
    &DEMO
}

/// Reads a user's dataset: `.csv`, `.json` (an array of objects, or JSON Lines) or `.jsonl`/`.ndjson`.
pub fn load(path: &Path) -> Result<Vec<CompanyRecord>, DatasetError> {
    let shown = path.display().to_string();
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    if !matches!(ext.as_str(), "csv" | "json" | "jsonl" | "ndjson") {
        return Err(DatasetError::Format { path: shown });
    }
    let text = std::fs::read_to_string(path).map_err(|source| DatasetError::Io {
        path: shown,
        source,
    })?;
    let rows = if ext == "csv" {
        parse_csv(&text)?
    } else {
        parse_json(&text)?
    };
    if rows.is_empty() {
        return Err(DatasetError::Empty);
    }
    Ok(rows)
}

/// Parses CSV with a header row naming the columns (any order; RFC 4180 quoting, so names may hold
/// commas). Blank lines are skipped.
pub fn parse_csv(text: &str) -> Result<Vec<CompanyRecord>, DatasetError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(text.as_bytes());
    let header = reader
        .headers()
        .map_err(|e| DatasetError::Header(format!("the header cannot be read: {e}")))?
        .clone();
    let columns: Vec<String> = header.iter().map(str::to_ascii_lowercase).collect();
    check_columns(&columns)?;
    let mut rows = Rows::default();
    for result in reader.records() {
        let record = match result {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line() as usize);
                rows.bad(RowAt::Line(line), format!("cannot be read as CSV: {e}"));
                continue;
            }
        };
        let at = RowAt::Line(record.position().map_or(0, |p| p.line() as usize));
        if record.iter().all(str::is_empty) {
            continue;
        }
        if record.len() != columns.len() {
            rows.bad(
                at,
                format!("expected {} fields, found {}", columns.len(), record.len()),
            );
            continue;
        }
        let fields = columns
            .iter()
            .map(String::as_str)
            .zip(record.iter().map(|v| (!v.is_empty()).then(|| v.to_owned())));
        rows.push(at, fields);
    }
    rows.finish()
}

/// Parses a JSON array of objects, or JSON Lines (one object per line), keys as the CSV columns;
/// values are strings or numbers.
pub fn parse_json(text: &str) -> Result<Vec<CompanyRecord>, DatasetError> {
    let mut rows = Rows::default();
    if text.trim_start().starts_with('[') {
        let records: Vec<Value> = serde_json::from_str(text)
            .map_err(|e| DatasetError::Header(format!("not a JSON array of objects: {e}")))?;
        for (i, value) in records.into_iter().enumerate() {
            rows.push_json(RowAt::Record(i + 1), value);
        }
    } else {
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<Value>(line) {
                Ok(value) => rows.push_json(RowAt::Line(i + 1), value),
                Err(e) => rows.bad(RowAt::Line(i + 1), format!("is not JSON: {e}")),
            }
        }
    }
    rows.finish()
}

fn check_columns(columns: &[String]) -> Result<(), DatasetError> {
    for c in columns {
        if !COLUMNS.contains(&c.as_str()) {
            return Err(DatasetError::Header(format!("unknown column {c:?}")));
        }
    }
    if !columns.iter().any(|c| c == "domain") {
        return Err(DatasetError::Header(
            "the header has no domain column".into(),
        ));
    }
    for (i, c) in columns.iter().enumerate() {
        if columns[..i].contains(c) {
            return Err(DatasetError::Header(format!("column {c:?} appears twice")));
        }
    }
    Ok(())
}

/// Rows accepted so far, bad rows, and where each domain was first seen.
#[derive(Default)]
struct Rows {
    good: Vec<CompanyRecord>,
    bad: Vec<BadRow>,
    seen: HashMap<String, RowAt>,
}

impl Rows {
    fn bad(&mut self, at: RowAt, problem: String) {
        self.bad.push(BadRow { at, problem });
    }

    fn push_json(&mut self, at: RowAt, value: Value) {
        let Value::Object(map) = value else {
            self.bad(at, "is not a JSON object".into());
            return;
        };
        let mut fields = Vec::with_capacity(map.len());
        for (key, v) in map {
            let text = match v {
                Value::Null => None,
                Value::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
                Value::Number(n) => Some(n.to_string()),
                other => {
                    self.bad(
                        at,
                        format!("{key}: {other} is neither a string nor a number"),
                    );
                    return;
                }
            };
            if !COLUMNS.contains(&key.as_str()) {
                self.bad(at, format!("unknown key {key:?}"));
                return;
            }
            fields.push((key, text));
        }
        self.push(at, fields.iter().map(|(k, v)| (k.as_str(), v.clone())));
    }

    fn push<'a>(&mut self, at: RowAt, fields: impl Iterator<Item = (&'a str, Option<String>)>) {
        match record_from(fields) {
            Ok(record) => {
                if let Some(first) = self.seen.get(&record.domain) {
                    let problem = format!("domain {} already on {first}", record.domain);
                    self.bad(at, problem);
                } else {
                    self.seen.insert(record.domain.clone(), at);
                    self.good.push(record);
                }
            }
            Err(problem) => self.bad(at, problem),
        }
    }

    fn finish(self) -> Result<Vec<CompanyRecord>, DatasetError> {
        if self.bad.is_empty() {
            Ok(self.good)
        } else {
            Err(DatasetError::Rows(self.bad))
        }
    }
}

fn record_from<'a>(
    fields: impl Iterator<Item = (&'a str, Option<String>)>,
) -> Result<CompanyRecord, String> {
    let mut raw: HashMap<&str, String> = HashMap::new();
    for (k, v) in fields {
        if let Some(v) = v {
            raw.insert(k, v);
        }
    }
    let domain_raw = raw.get("domain").ok_or("domain is empty")?;
    let domain = normalise_domain(domain_raw)
        .map_err(|e| format!("domain {domain_raw:?} is not a domain: it {e}"))?;
    let country = match raw.get("country") {
        None => None,
        Some(c) => Some(
            country::to_alpha2(c)
                .ok_or_else(|| format!("country {c:?} is not an ISO 3166 country"))?
                .to_owned(),
        ),
    };
    let whole = |key: &str| -> Result<Option<u64>, String> {
        raw.get(key)
            .map(|v| {
                v.parse::<u64>()
                    .map_err(|_| format!("{key} {v:?} is not a whole number"))
            })
            .transpose()
    };
    let employee_count = whole("employee_count")?
        .map(|n| u32::try_from(n).map_err(|_| format!("employee_count {n} is too large")))
        .transpose()?;
    let annual_revenue_usd = whole("annual_revenue_usd")?;
    let employee_band = band(
        raw.get("employee_band"),
        employee_count.map(|n| employee_band(u64::from(n))),
        &EMPLOYEE_BANDS,
        "employee_band",
    )?;
    let revenue_band = band(
        raw.get("revenue_band"),
        annual_revenue_usd.map(revenue_band),
        &REVENUE_BANDS,
        "revenue_band",
    )?;
    Ok(CompanyRecord {
        domain,
        name: raw.get("name").cloned(),
        industry: raw.get("industry").and_then(|i| normalise_industry(i)),
        country,
        employee_count,
        employee_band,
        annual_revenue_usd,
        revenue_band,
    })
}

/// A given band must be a known one and agree with the figure when both are given; a missing band
/// is derived from the figure.
fn band(
    given: Option<&String>,
    derived: Option<&'static str>,
    known: &[&str],
    key: &str,
) -> Result<Option<String>, String> {
    match (given, derived) {
        (Some(b), _) if !known.contains(&b.as_str()) => {
            Err(format!("{key} {b:?} is not one of {}", known.join(" ")))
        }
        (Some(b), Some(d)) if b != d => Err(format!(
            "{key} {b:?} does not match its figure (which is in {d})"
        )),
        (Some(b), _) => Ok(Some(b.clone())),
        (None, d) => Ok(d.map(str::to_owned)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_dataset_is_consistent() {
        let companies = parse_csv(DEMO_COMPANIES_CSV).unwrap();
        assert_eq!(companies.len(), demo_companies().len());
        assert!(companies.len() >= 150, "{}", companies.len());
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
            let industry = c.industry.as_deref().unwrap_or_default();
            assert!(industries.contains(&industry), "{}: {industry}", c.domain);
            assert!(c.name.is_some(), "{}", c.domain);
            assert!(
                c.employee_band.is_some() && c.revenue_band.is_some(),
                "{}",
                c.domain
            );
            assert!(c.employee_count.is_some() && c.annual_revenue_usd.is_some());
            let country = c.country.as_deref().unwrap_or_default();
            assert!(country::is_known_alpha2(country), "{}: {country}", c.domain);
        }
        let northwind = companies
            .iter()
            .find(|c| c.domain == "northwind.io")
            .unwrap();
        assert_eq!(
            northwind,
            &CompanyRecord {
                domain: "northwind.io".into(),
                name: Some("Northwind".into()),
                industry: Some("software".into()),
                country: Some("FR".into()),
                employee_count: Some(420),
                employee_band: Some("201-1000".into()),
                annual_revenue_usd: Some(60_000_000),
                revenue_band: Some("50M-250M".into()),
            }
        );
        for competitor in crate::settings::DEFAULT_COMPETITORS {
            let c = companies.iter().find(|c| c.domain == competitor).unwrap();
            assert_eq!(c.industry.as_deref(), Some("software"));
        }
    }

    #[test]
    fn a_users_csv_with_quoted_fields_any_column_order_and_optional_columns() {
        let text = "\
Domain,Name,Country,Employee_Count,Industry
https://www.acme.example/,\"Acme, Inc.\",Deutschland,250,Industrial Machinery

bücher.de,Bücher,DEU,,
";
        let rows = parse_csv(text).unwrap();
        assert_eq!(
            rows[0],
            CompanyRecord {
                domain: "acme.example".into(),
                name: Some("Acme, Inc.".into()),
                industry: Some("manufacturing".into()),
                country: Some("DE".into()),
                employee_count: Some(250),
                employee_band: Some("201-1000".into()),
                annual_revenue_usd: None,
                revenue_band: None,
            }
        );
        assert_eq!(rows[1].domain, "xn--bcher-kva.de");
        assert_eq!(rows[1].employee_band, None);
        assert_eq!(rows.len(), 2);
    }

    #[test]
    fn every_bad_row_is_reported_with_its_line() {
        let text = "\
domain,name,country,employee_count,employee_band,revenue_band
good.example,Good,FR,20,11-50,
not a domain,Bad,FR,,,
dup.example,Dup,Narnia,,,
x.example,X,FR,many,,
y.example,Y,FR,,huge,
z.example,Z,FR,20,5000+,
w.example,W,FR
good.example,Again,FR,,,
m.example,M,FR,,,10M-50M
";
        let err = parse_csv(text).unwrap_err();
        let DatasetError::Rows(bad) = &err else {
            panic!("{err}");
        };
        let got: Vec<(RowAt, &str)> = bad.iter().map(|b| (b.at, b.problem.as_str())).collect();
        assert_eq!(
            got,
            vec![
                (
                    RowAt::Line(3),
                    "domain \"not a domain\" is not a domain: it has a character not allowed in a domain"
                ),
                (
                    RowAt::Line(4),
                    "country \"Narnia\" is not an ISO 3166 country"
                ),
                (
                    RowAt::Line(5),
                    "employee_count \"many\" is not a whole number"
                ),
                (
                    RowAt::Line(6),
                    "employee_band \"huge\" is not one of 1-10 11-50 51-200 201-1000 1001-5000 5000+"
                ),
                (
                    RowAt::Line(7),
                    "employee_band \"5000+\" does not match its figure (which is in 11-50)"
                ),
                (RowAt::Line(8), "expected 6 fields, found 3"),
                (RowAt::Line(9), "domain good.example already on line 2"),
            ]
        );
        let message = err.to_string();
        assert!(
            message.starts_with("company dataset: 7 bad row(s): line 3: "),
            "{message}"
        );
    }

    #[test]
    fn headers_are_checked() {
        let cases = [
            ("name,country\nA,FR\n", "no domain column"),
            ("domain,employees\na.io,3\n", "unknown column \"employees\""),
            ("domain,name,domain\na.io,A,b.io\n", "appears twice"),
        ];
        for (text, want) in cases {
            let err = parse_csv(text).unwrap_err().to_string();
            assert!(err.contains(want), "{want}: {err}");
        }
        assert_eq!(parse_csv("domain\n").unwrap(), vec![]);
    }

    #[test]
    fn json_arrays_and_json_lines() {
        let array = r#"[
            {"domain": "acme.example", "name": "Acme", "employee_count": 250, "country": "FR"},
            {"domain": "beta.example", "annual_revenue_usd": 2000000}
        ]"#;
        let rows = parse_json(array).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].employee_band.as_deref(), Some("201-1000"));
        assert_eq!(rows[1].revenue_band.as_deref(), Some("1M-10M"));

        let bad_array = r#"[{"domain": "a.example"}, {"domain": "b.example", "size": 3}, 7]"#;
        let DatasetError::Rows(bad) = parse_json(bad_array).unwrap_err() else {
            panic!("rows expected");
        };
        assert_eq!(bad[0].at, RowAt::Record(2));
        assert_eq!(bad[0].problem, "unknown key \"size\"");
        assert_eq!(bad[1].at, RowAt::Record(3));

        let lines =
            "{\"domain\": \"a.example\"}\n\n{oops\n{\"domain\": \"b.example\", \"country\": [1]}\n";
        let DatasetError::Rows(bad) = parse_json(lines).unwrap_err() else {
            panic!("rows expected");
        };
        assert_eq!(bad.len(), 2);
        assert_eq!(bad[0].at, RowAt::Line(3));
        assert!(
            bad[0].problem.starts_with("is not JSON"),
            "{}",
            bad[0].problem
        );
        assert_eq!(bad[1].at, RowAt::Line(4));
        assert_eq!(
            parse_json("{\"domain\": \"a.example\"}\n").unwrap()[0].domain,
            "a.example"
        );
    }

    #[test]
    fn files_by_extension() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("companies.csv");
        std::fs::write(&csv, "domain,country\nexample.org,DE\n").unwrap();
        assert_eq!(load(&csv).unwrap()[0].country.as_deref(), Some("DE"));
        let json = dir.path().join("companies.jsonl");
        std::fs::write(&json, "{\"domain\": \"example.org\"}\n").unwrap();
        assert_eq!(load(&json).unwrap()[0].domain, "example.org");
        let empty = dir.path().join("empty.csv");
        std::fs::write(&empty, "domain\n").unwrap();
        assert!(matches!(load(&empty), Err(DatasetError::Empty)));
        let xlsx = dir.path().join("companies.xlsx");
        std::fs::write(&xlsx, "").unwrap();
        assert!(matches!(load(&xlsx), Err(DatasetError::Format { .. })));
        assert!(matches!(
            load(&dir.path().join("missing.csv")),
            Err(DatasetError::Io { .. })
        ));
    }
}
