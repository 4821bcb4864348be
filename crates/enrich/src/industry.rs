//! Provider industry labels -> the product's industries (software, fintech, healthcare, ...).

/// Keyword (lower-case substring) -> industry, first match wins.
const RULES: &[(&str, &str)] = &[
    ("fintech", "fintech"),
    ("bank", "fintech"),
    ("financ", "fintech"),
    ("insurance", "fintech"),
    ("payment", "fintech"),
    ("capital market", "fintech"),
    ("telecom", "telecom"),
    ("wireless", "telecom"),
    ("retail", "retail"),
    ("e-commerce", "retail"),
    ("ecommerce", "retail"),
    ("software", "software"),
    ("internet", "software"),
    ("saas", "software"),
    ("it services", "software"),
    ("information technology", "software"),
    ("computer", "software"),
    ("health", "healthcare"),
    ("pharma", "healthcare"),
    ("biotech", "healthcare"),
    ("life science", "healthcare"),
    ("medical", "healthcare"),
    ("hospital", "healthcare"),
    ("logistic", "logistics"),
    ("transport", "logistics"),
    ("freight", "logistics"),
    ("shipping", "logistics"),
    ("air freight", "logistics"),
    ("consumer", "retail"),
    ("education", "education"),
    ("school", "education"),
    ("universit", "education"),
    ("media", "media"),
    ("entertainment", "media"),
    ("publishing", "media"),
    ("broadcast", "media"),
    ("advertising", "media"),
    ("government", "government"),
    ("public sector", "government"),
    ("consult", "consulting"),
    ("professional services", "consulting"),
    ("manufactur", "manufacturing"),
    ("machinery", "manufacturing"),
    ("industrial", "manufacturing"),
    ("automotive", "manufacturing"),
    ("electrical", "manufacturing"),
    ("chemical", "manufacturing"),
    ("aerospace", "manufacturing"),
    ("semiconductor", "manufacturing"),
];

/// The product's industry for a provider label; the label lower-cased when no rule matches.
pub fn normalise_industry(label: &str) -> Option<String> {
    let lower = label.trim().to_lowercase();
    if lower.is_empty() {
        return None;
    }
    Some(
        RULES
            .iter()
            .find(|(kw, _)| lower.contains(kw))
            .map_or(lower.clone(), |(_, industry)| (*industry).to_owned()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_labels() {
        let cases = [
            ("Internet Software & Services", Some("software")),
            ("Software", Some("software")),
            ("Banks", Some("fintech")),
            ("Diversified Financial Services", Some("fintech")),
            ("Health Care Providers & Services", Some("healthcare")),
            ("Biotechnology", Some("healthcare")),
            ("Machinery", Some("manufacturing")),
            ("Air Freight & Logistics", Some("logistics")),
            ("Diversified Telecommunication Services", Some("telecom")),
            ("Media", Some("media")),
            ("Education Services", Some("education")),
            ("Professional Services", Some("consulting")),
            ("Internet & Catalog Retail", Some("retail")),
            ("Government Administration", Some("government")),
            ("Utilities", Some("utilities")),
            ("  ", None),
        ];
        for (label, want) in cases {
            assert_eq!(normalise_industry(label).as_deref(), want, "{label}");
        }
    }
}
