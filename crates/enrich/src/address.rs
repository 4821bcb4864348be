//! Email address and domain syntax: normalisation (trim, lower-case) and validation.
//!
//! Errors say what is wrong without repeating the value, so they can go into exception reasons and
//! logs without leaking personal data.

/// Why an email address or domain is not valid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SyntaxError {
    #[error("has no '@'")]
    MissingAt,
    #[error("has more than one '@'")]
    SeveralAt,
    #[error("has an empty local part")]
    EmptyLocal,
    #[error("has a local part longer than 64 characters")]
    LocalTooLong,
    #[error("has a character not allowed in the local part")]
    BadLocalChar,
    #[error("has a misplaced '.' in the local part")]
    BadLocalDot,
    #[error("is longer than 254 characters")]
    TooLong,
    #[error("has an empty domain")]
    EmptyDomain,
    #[error("has a domain without a top-level domain")]
    NoTld,
    #[error("has an empty domain label")]
    EmptyLabel,
    #[error("has a domain label longer than 63 characters")]
    LabelTooLong,
    #[error("has a character not allowed in a domain")]
    BadDomainChar,
    #[error("has a domain label starting or ending with '-'")]
    BadHyphen,
    #[error("has a top-level domain that is not alphabetic")]
    BadTld,
}

/// A syntactically valid, lower-cased email address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email {
    address: String,
    at: usize,
}

impl Email {
    /// Trims, strips a `mailto:` prefix and surrounding `<>`, lower-cases and validates.
    pub fn parse(raw: &str) -> Result<Email, SyntaxError> {
        let mut s = raw.trim();
        if let Some(rest) = strip_prefix_ignore_case(s, "mailto:") {
            s = rest.trim();
        }
        if let Some(inner) = s.strip_prefix('<').and_then(|r| r.strip_suffix('>')) {
            s = inner.trim();
        }
        let address = s.to_lowercase();
        if address.chars().count() > 254 {
            return Err(SyntaxError::TooLong);
        }
        let mut parts = address.split('@');
        let (Some(local), Some(domain)) = (parts.next(), parts.next()) else {
            return Err(SyntaxError::MissingAt);
        };
        if parts.next().is_some() {
            return Err(SyntaxError::SeveralAt);
        }
        check_local(local)?;
        check_domain(domain)?;
        let at = local.len();
        Ok(Email { address, at })
    }

    /// The whole address, lower-cased.
    pub fn as_str(&self) -> &str {
        &self.address
    }

    /// The domain part.
    pub fn domain(&self) -> &str {
        &self.address[self.at + 1..]
    }

    /// The address as an owned string.
    pub fn into_string(self) -> String {
        self.address
    }
}

/// Normalises a company domain as people type it ("https://www.Northwind.io/about" -> "northwind.io")
/// and validates its syntax.
pub fn normalise_domain(raw: &str) -> Result<String, SyntaxError> {
    let mut s = raw.trim().to_lowercase();
    for scheme in ["https://", "http://"] {
        if let Some(rest) = s.strip_prefix(scheme) {
            s = rest.to_owned();
        }
    }
    if let Some(i) = s.find(['/', '?', '#']) {
        s.truncate(i);
    }
    if let Some(rest) = s.strip_prefix("www.") {
        s = rest.to_owned();
    }
    while s.ends_with('.') {
        s.pop();
    }
    check_domain(&s)?;
    Ok(s)
}

/// Whether `domain` is `parent` or a subdomain of it (`eu.hotleads.ai` is under `hotleads.ai`).
pub fn domain_is_under(domain: &str, parent: &str) -> bool {
    domain == parent
        || domain
            .strip_suffix(parent)
            .is_some_and(|head| head.ends_with('.'))
}

/// The organisation's domain under a mail host: `mail.northwind.io` -> `northwind.io`,
/// `london.kestrelbank.co.uk` -> `kestrelbank.co.uk`. A heuristic (no public-suffix list): under a
/// two-letter country TLD, a generic second level (`co`, `com`, `ac`, ...) keeps three labels.
pub fn registrable_domain(domain: &str) -> &str {
    let labels: Vec<&str> = domain.split('.').collect();
    let n = labels.len();
    if n <= 2 {
        return domain;
    }
    let generic_second_level = matches!(
        labels[n - 2],
        "co" | "com" | "net" | "org" | "ac" | "gov" | "gouv" | "edu" | "ne" | "or" | "go" | "gob"
    );
    let keep = if labels[n - 1].len() == 2 && generic_second_level {
        3
    } else {
        2
    };
    let skip: usize = labels[..n - keep.min(n)].iter().map(|l| l.len() + 1).sum();
    &domain[skip..]
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

fn check_local(local: &str) -> Result<(), SyntaxError> {
    if local.is_empty() {
        return Err(SyntaxError::EmptyLocal);
    }
    if local.len() > 64 {
        return Err(SyntaxError::LocalTooLong);
    }
    // RFC 5322 dot-atom: atext characters separated by single dots.
    // Non-ASCII letters are allowed (RFC 6531 internationalised addresses).
    let atext = |c: char| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c);
    if !local.chars().all(|c| c == '.' || atext(c)) {
        return Err(SyntaxError::BadLocalChar);
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Err(SyntaxError::BadLocalDot);
    }
    Ok(())
}

fn check_domain(domain: &str) -> Result<(), SyntaxError> {
    if domain.is_empty() {
        return Err(SyntaxError::EmptyDomain);
    }
    if domain.len() > 253 {
        return Err(SyntaxError::TooLong);
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 {
        return Err(SyntaxError::NoTld);
    }
    for label in &labels {
        if label.is_empty() {
            return Err(SyntaxError::EmptyLabel);
        }
        if label.len() > 63 {
            return Err(SyntaxError::LabelTooLong);
        }
        // Letters may be non-ASCII (internationalised domain names); callers lower-cased them.
        if !label
            .chars()
            .all(|c| (c.is_alphanumeric() && !c.is_uppercase()) || c == '-')
        {
            return Err(SyntaxError::BadDomainChar);
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(SyntaxError::BadHyphen);
        }
    }
    let tld = labels.last().copied().unwrap_or_default();
    let punycode = tld.starts_with("xn--");
    if !punycode && (tld.chars().count() < 2 || !tld.chars().all(char::is_alphabetic)) {
        return Err(SyntaxError::BadTld);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_emails_are_lower_cased_and_split() {
        let cases = [
            (
                "ada.lovelace@northwind.io",
                "ada.lovelace@northwind.io",
                "northwind.io",
            ),
            (
                "  Ada.Lovelace@NorthWind.IO ",
                "ada.lovelace@northwind.io",
                "northwind.io",
            ),
            (
                "mailto:bob@acme-robotics.com",
                "bob@acme-robotics.com",
                "acme-robotics.com",
            ),
            (
                "<bob+leads@acme-robotics.com>",
                "bob+leads@acme-robotics.com",
                "acme-robotics.com",
            ),
            (
                "o'brien@kestrelbank.co.uk",
                "o'brien@kestrelbank.co.uk",
                "kestrelbank.co.uk",
            ),
            (
                "x@xn--bcher-kva.example",
                "x@xn--bcher-kva.example",
                "xn--bcher-kva.example",
            ),
            ("José@Bücher.de", "josé@bücher.de", "bücher.de"),
        ];
        for (raw, address, domain) in cases {
            let e = Email::parse(raw).unwrap_or_else(|err| panic!("{raw}: {err}"));
            assert_eq!(e.as_str(), address);
            assert_eq!(e.domain(), domain);
        }
    }

    #[test]
    fn invalid_emails_say_why() {
        let long_local = format!("{}@a.io", "a".repeat(65));
        let long_label = format!("a@{}.io", "b".repeat(64));
        let cases = [
            ("ada.northwind.io", SyntaxError::MissingAt),
            ("ada@@northwind.io", SyntaxError::SeveralAt),
            ("a@b@northwind.io", SyntaxError::SeveralAt),
            ("@northwind.io", SyntaxError::EmptyLocal),
            (long_local.as_str(), SyntaxError::LocalTooLong),
            ("ada lovelace@northwind.io", SyntaxError::BadLocalChar),
            ("ada(x)@northwind.io", SyntaxError::BadLocalChar),
            (".ada@northwind.io", SyntaxError::BadLocalDot),
            ("ada.@northwind.io", SyntaxError::BadLocalDot),
            ("ada..l@northwind.io", SyntaxError::BadLocalDot),
            ("ada@", SyntaxError::EmptyDomain),
            ("ada@localhost", SyntaxError::NoTld),
            ("ada@northwind..io", SyntaxError::EmptyLabel),
            ("ada@.northwind.io", SyntaxError::EmptyLabel),
            (long_label.as_str(), SyntaxError::LabelTooLong),
            ("ada@north_wind.io", SyntaxError::BadDomainChar),
            ("ada@-northwind.io", SyntaxError::BadHyphen),
            ("ada@northwind.i", SyntaxError::BadTld),
            ("ada@northwind.123", SyntaxError::BadTld),
            ("ada@[127.0.0.1]", SyntaxError::BadDomainChar),
        ];
        for (raw, want) in cases {
            assert_eq!(Email::parse(raw), Err(want), "{raw}");
        }
    }

    #[test]
    fn error_messages_never_contain_the_address() {
        let err = Email::parse("secret.person@@example.com").err();
        let msg = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(!msg.contains("secret"), "{msg}");
    }

    #[test]
    fn domains_are_normalised() {
        let cases = [
            ("northwind.io", Ok("northwind.io")),
            (" NorthWind.IO ", Ok("northwind.io")),
            ("https://www.northwind.io/about?x=1", Ok("northwind.io")),
            ("http://northwind.io", Ok("northwind.io")),
            ("www.northwind.io.", Ok("northwind.io")),
            ("eu.northwind.io", Ok("eu.northwind.io")),
            ("northwind", Err(SyntaxError::NoTld)),
            ("", Err(SyntaxError::EmptyDomain)),
            ("north wind.io", Err(SyntaxError::BadDomainChar)),
        ];
        for (raw, want) in cases {
            assert_eq!(normalise_domain(raw), want.map(str::to_owned), "{raw:?}");
        }
    }

    #[test]
    fn registrable_domains() {
        let cases = [
            ("northwind.io", "northwind.io"),
            ("mail.northwind.io", "northwind.io"),
            ("a.b.northwind.io", "northwind.io"),
            ("kestrelbank.co.uk", "kestrelbank.co.uk"),
            ("london.kestrelbank.co.uk", "kestrelbank.co.uk"),
            ("sydney-stack.com.au", "sydney-stack.com.au"),
            ("eu.sydney-stack.com.au", "sydney-stack.com.au"),
            ("cs.ox.ac.uk", "ox.ac.uk"),
            ("io", "io"),
        ];
        for (domain, want) in cases {
            assert_eq!(registrable_domain(domain), want, "{domain}");
        }
    }

    #[test]
    fn subdomain_matching() {
        assert!(domain_is_under("hotleads.ai", "hotleads.ai"));
        assert!(domain_is_under("eu.hotleads.ai", "hotleads.ai"));
        assert!(!domain_is_under("nothotleads.ai", "hotleads.ai"));
        assert!(!domain_is_under("hotleads.ai.evil.io", "hotleads.ai"));
    }
}
