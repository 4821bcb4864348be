//! Employee and revenue bands, as the `Firmographics` schema (`schemas/enriched_lead.avsc`) and
//! the company dataset spell them: enrich writes them, score and route read them.

/// Employee bands, smallest first.
pub const EMPLOYEE_BANDS: [&str; 6] = ["1-10", "11-50", "51-200", "201-1000", "1001-5000", "5000+"];

/// Revenue bands in USD, smallest first.
pub const REVENUE_BANDS: [&str; 6] = ["<1M", "1M-10M", "10M-50M", "50M-250M", "250M-1B", "1B+"];

/// The employee band of a head count (0 counts as the smallest band).
pub fn employee_band(count: u64) -> &'static str {
    match count {
        0..=10 => "1-10",
        11..=50 => "11-50",
        51..=200 => "51-200",
        201..=1000 => "201-1000",
        1001..=5000 => "1001-5000",
        _ => "5000+",
    }
}

/// The revenue band of an annual revenue in USD.
pub fn revenue_band(usd: u64) -> &'static str {
    const M: u64 = 1_000_000;
    match usd {
        0..M => "<1M",
        M..10_000_000 => "1M-10M",
        10_000_000..50_000_000 => "10M-50M",
        50_000_000..250_000_000 => "50M-250M",
        250_000_000..1_000_000_000 => "250M-1B",
        _ => "1B+",
    }
}
