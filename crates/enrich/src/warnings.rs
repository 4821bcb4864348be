//! Codes written into `EnrichedLead::quality_warnings`: stable, lower-case, one finding each.
//! RULES.md §7 lists them with their reasons; [`reason`] gives the same text to tools and tests.

/// The email is on a free-mail provider (gmail.com, outlook.com, ...).
pub const FREE_MAIL: &str = "free_mail";
/// The email is on a disposable (throwaway) mail provider (mailinator.com, ...).
pub const DISPOSABLE_EMAIL: &str = "disposable_email";
/// The email is a role mailbox (info@, sales@, support@, ...), not a person's.
pub const ROLE_ACCOUNT: &str = "role_account";
/// No email address; the lead is known by its company domain only.
pub const MISSING_EMAIL: &str = "missing_email";
/// No company domain, provided or derivable (free-mail address and no company domain).
pub const MISSING_COMPANY: &str = "missing_company";
/// The company domain was derived from the business email's domain.
pub const COMPANY_DOMAIN_DERIVED: &str = "company_domain_derived";
/// A provided company or account domain was not a valid domain and was dropped.
pub const INVALID_COMPANY_DOMAIN: &str = "invalid_company_domain";
/// The provided company domain is a free-mail domain, so it does not identify a company.
pub const FREE_MAIL_COMPANY_DOMAIN: &str = "free_mail_company_domain";
/// The business email's domain is not the provided company domain (nor a subdomain of it).
pub const EMAIL_DOMAIN_DIFFERS: &str = "email_domain_differs_from_company";
/// Neither first nor last name.
pub const MISSING_NAME: &str = "missing_name";
/// No job title, so no persona.
pub const MISSING_TITLE: &str = "missing_title";
/// The phone number could not be brought to E.164; it is kept as given.
pub const INVALID_PHONE: &str = "invalid_phone";
/// A country value was not recognised and was dropped.
pub const UNKNOWN_COUNTRY: &str = "unknown_country";
/// No country from the contact, the company or the enrichment provider.
pub const MISSING_COUNTRY: &str = "missing_country";
/// The enrichment provider does not know the company domain.
pub const ENRICHMENT_NOT_FOUND: &str = "enrichment_not_found";
/// The enrichment provider could not be asked (outage, timeout, open circuit breaker).
pub const PROVIDER_UNAVAILABLE: &str = "provider_unavailable";

/// Every code with the reason a reader of the lead sees.
pub const ALL: [(&str, &str); 16] = [
    (
        FREE_MAIL,
        "the email is on a free-mail provider, so it says nothing about the company",
    ),
    (
        DISPOSABLE_EMAIL,
        "the email is on a disposable (throwaway) mail provider: replies may never be read",
    ),
    (
        ROLE_ACCOUNT,
        "the email is a shared role mailbox (info@, sales@, ...), not a person",
    ),
    (
        MISSING_EMAIL,
        "no email address: the lead is known by its company domain only",
    ),
    (
        MISSING_COMPANY,
        "no company domain, given or derivable from a business email",
    ),
    (
        COMPANY_DOMAIN_DERIVED,
        "the company domain was derived from the business email's domain",
    ),
    (
        INVALID_COMPANY_DOMAIN,
        "a given company or account domain was not a valid domain and was dropped",
    ),
    (
        FREE_MAIL_COMPANY_DOMAIN,
        "the given company domain is a free-mail domain and was not used",
    ),
    (
        EMAIL_DOMAIN_DIFFERS,
        "the business email's domain is not the company domain nor under it",
    ),
    (MISSING_NAME, "neither first nor last name"),
    (MISSING_TITLE, "no job title, so no persona"),
    (
        INVALID_PHONE,
        "the phone number could not be brought to E.164 and is kept as given",
    ),
    (
        UNKNOWN_COUNTRY,
        "a country value was not recognised and was dropped",
    ),
    (
        MISSING_COUNTRY,
        "no country from the contact, the company or the enrichment provider",
    ),
    (
        ENRICHMENT_NOT_FOUND,
        "the firmographics provider does not know the company domain",
    ),
    (
        PROVIDER_UNAVAILABLE,
        "the firmographics provider could not be asked (outage, timeout, open breaker)",
    ),
];

/// The reason behind a warning code; `None` for an unknown code.
pub fn reason(code: &str) -> Option<&'static str> {
    ALL.iter().find(|(c, _)| *c == code).map(|(_, r)| *r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_lower_case_and_explained() {
        let mut seen = std::collections::HashSet::new();
        for (code, why) in ALL {
            assert!(seen.insert(code), "{code} twice");
            assert!(
                code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{code}"
            );
            assert!(why.len() > 10, "{code}");
            assert_eq!(reason(code), Some(why));
        }
        assert_eq!(reason("nope"), None);
    }
}
