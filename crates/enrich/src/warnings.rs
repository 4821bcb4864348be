//! Codes written into `EnrichedLead::quality_warnings`: stable, lower-case, one finding each.

/// The email is on a free-mail provider (gmail.com, outlook.com, ...).
pub const FREE_MAIL: &str = "free_mail";
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
/// A country value was not recognised and was dropped.
pub const UNKNOWN_COUNTRY: &str = "unknown_country";
/// No country from the contact, the company or the enrichment provider.
pub const MISSING_COUNTRY: &str = "missing_country";
/// The enrichment provider does not know the company domain.
pub const ENRICHMENT_NOT_FOUND: &str = "enrichment_not_found";
/// The enrichment provider could not be asked (outage, timeout, open circuit breaker).
pub const PROVIDER_UNAVAILABLE: &str = "provider_unavailable";
