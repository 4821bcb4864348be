//! Email address and domain syntax (RULES.md §2): normalisation and validation.
//!
//! - The local part is checked by the `email_address` crate against RFC 5322 (dot-atom or quoted
//!   string, at most 64 octets; UTF-8 allowed as in RFC 6531).
//! - Domains are mapped by UTS #46 (the `idna` crate: lower-case, NFC, Punycode) to their ASCII form
//!   (`Bücher.de` and `xn--bcher-kva.de` are the same domain), then checked as RFC 1035 host names
//!   (labels of letters, digits and inner hyphens, at most 63 octets, at most 253 in all).
//! - The organisation behind a domain is its registrable domain by the Public Suffix List (the `psl`
//!   crate, which compiles the list in: nothing is fetched at run time).
//!
//! Errors say what is wrong without repeating the value, so they can go into exception reasons and
//! logs without leaking personal data. Inputs longer than [`MAX_INPUT_LEN`] are refused before any
//! work, so the cost of a call is bounded whatever arrives.

use std::borrow::Cow;

/// Longest raw input (bytes) looked at: an address is at most 254 octets; leave room for
/// `mailto:`, brackets, blanks and multi-byte characters.
pub const MAX_INPUT_LEN: usize = 1024;

/// Why an email address or domain is not valid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SyntaxError {
    #[error("has no '@'")]
    MissingAt,
    #[error("has an empty local part")]
    EmptyLocal,
    #[error("has a local part longer than 64 characters")]
    LocalTooLong,
    #[error("has a local part that is neither a dot-atom nor a quoted string (RFC 5322)")]
    BadLocal,
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

/// A syntactically valid email address: local part lower-cased, domain in its ASCII (Punycode) form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email {
    address: String,
    at: usize,
}

impl Email {
    /// Trims, strips a `mailto:` prefix and surrounding `<>`, lower-cases and validates.
    pub fn parse(raw: &str) -> Result<Email, SyntaxError> {
        if raw.len() > MAX_INPUT_LEN {
            return Err(SyntaxError::TooLong);
        }
        let mut s = raw.trim();
        if let Some(rest) = strip_prefix_ignore_case(s, "mailto:") {
            s = rest.trim();
        }
        if let Some(inner) = s.strip_prefix('<').and_then(|r| r.strip_suffix('>')) {
            s = inner.trim();
        }
        // The last '@' separates the domain: a quoted local part may hold one.
        let Some((local, domain)) = s.rsplit_once('@') else {
            return Err(SyntaxError::MissingAt);
        };
        let domain = ascii_domain(domain)?;
        // The address is built in one string: the local part lower-cased into it (ASCII in place,
        // the general `to_lowercase` otherwise), then the domain.
        let mut address = String::with_capacity(local.len() + 1 + domain.len());
        if local.is_ascii() {
            address.push_str(local);
            address.make_ascii_lowercase();
        } else {
            address.push_str(&local.to_lowercase());
        }
        let local = address.as_str();
        if local.is_empty() {
            return Err(SyntaxError::EmptyLocal);
        }
        if local.len() > 64 {
            return Err(SyntaxError::LocalTooLong);
        }
        if !is_plain_dot_atom(local) && !email_address::EmailAddress::is_valid_local_part(local) {
            return Err(SyntaxError::BadLocal);
        }
        if local.len() + 1 + domain.len() > 254 {
            return Err(SyntaxError::TooLong);
        }
        let at = local.len();
        address.push('@');
        address.push_str(&domain);
        Ok(Email { address, at })
    }

    /// The whole address.
    pub fn as_str(&self) -> &str {
        &self.address
    }

    /// The local part (before the last '@'), lower-cased; quotes kept.
    pub fn local_part(&self) -> &str {
        &self.address[..self.at]
    }

    /// The domain part, ASCII.
    pub fn domain(&self) -> &str {
        &self.address[self.at + 1..]
    }

    /// The address as an owned string.
    pub fn into_string(self) -> String {
        self.address
    }
}

/// A local part of lower-case ASCII letters, digits, `+`, `-` and `_` in dot-separated non-empty
/// runs (`ada.lovelace`, `sales+emea`): the common case, a subset of RFC 5322's dot-atom, so
/// `email_address` accepts every such part (a test checks the two agree on it) and need not be asked.
fn is_plain_dot_atom(local: &str) -> bool {
    let mut after_dot = true;
    for b in local.bytes() {
        match b {
            b'.' if after_dot => return false,
            b'.' => after_dot = true,
            b'a'..=b'z' | b'0'..=b'9' | b'+' | b'-' | b'_' => after_dot = false,
            _ => return false,
        }
    }
    !after_dot
}

/// Normalises a company domain as people type it ("https://www.Northwind.io/about" -> "northwind.io",
/// "Bücher.de" -> "xn--bcher-kva.de") and validates its syntax.
pub fn normalise_domain(raw: &str) -> Result<String, SyntaxError> {
    if raw.len() > MAX_INPUT_LEN {
        return Err(SyntaxError::TooLong);
    }
    let mut s = raw.trim();
    for scheme in ["https://", "http://"] {
        if let Some(rest) = strip_prefix_ignore_case(s, scheme) {
            s = rest;
        }
    }
    if let Some(i) = s.find(['/', '?', '#']) {
        s = &s[..i];
    }
    let domain = ascii_domain(s)?;
    if let Some(rest) = domain.strip_prefix("www.") {
        if rest.contains('.') {
            return Ok(rest.to_owned());
        }
    }
    Ok(domain.into_owned())
}

/// Whether `domain` is `parent` or a subdomain of it (`eu.hotleads.ai` is under `hotleads.ai`).
pub fn domain_is_under(domain: &str, parent: &str) -> bool {
    domain == parent
        || domain
            .strip_suffix(parent)
            .is_some_and(|head| head.ends_with('.'))
}

/// The organisation's domain under a host name, by the Public Suffix List (RULES.md §3):
/// `mail.northwind.io` -> `northwind.io`, `london.kestrelbank.co.uk` -> `kestrelbank.co.uk`,
/// `foo.github.io` -> `foo.github.io` (github.io is a public suffix of its own). A domain that is a
/// public suffix itself (or has no registrable part) is returned unchanged. Expects a normalised
/// (lower-case ASCII) domain.
pub fn registrable_domain(domain: &str) -> &str {
    psl::domain_str(domain).unwrap_or(domain)
}

/// The public suffix of a normalised domain (`co.uk` for `kestrelbank.co.uk`; the last label when
/// the list does not know the TLD).
pub fn public_suffix(domain: &str) -> &str {
    psl::suffix_str(domain).unwrap_or(domain)
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// UTS #46 to ASCII, trailing dots dropped, then the host-name checks. Borrowed when the input
/// already is that form.
fn ascii_domain(raw: &str) -> Result<Cow<'_, str>, SyntaxError> {
    let trimmed = raw.trim().trim_end_matches('.');
    if trimmed.is_empty() {
        return Err(SyntaxError::EmptyDomain);
    }
    if trimmed.len() > MAX_INPUT_LEN {
        return Err(SyntaxError::TooLong);
    }
    // Already lower-case LDH without Punycode: UTS #46 would return it unchanged; checked in one
    // pass.
    if let Some(checked) = check_lower_ldh(trimmed) {
        return checked.map(|()| Cow::Borrowed(trimmed));
    }
    if trimmed.bytes().any(|b| b.is_ascii() && !is_host_byte(b)) {
        return Err(SyntaxError::BadDomainChar);
    }
    let ascii = idna::domain_to_ascii_cow(trimmed.as_bytes(), idna::AsciiDenyList::STD3)
        .map_err(|_| SyntaxError::BadDomainChar)?;
    check_domain(&ascii)?;
    Ok(ascii)
}

/// For a domain of lower-case letters, digits, dots and hyphens with no `xn--` in it (the common
/// case): what [`check_domain`] answers, in one pass over the bytes. `None` for any other domain.
fn check_lower_ldh(domain: &str) -> Option<Result<(), SyntaxError>> {
    let bytes = domain.as_bytes();
    // the first label error, in label order (an ineligible byte later still means `None`)
    let mut first_error = None;
    let mut labels = 0usize;
    let mut label_start = 0usize;
    let mut label_alphabetic = true;
    for i in 0..=bytes.len() {
        match bytes.get(i) {
            Some(b'x') if bytes[i..].starts_with(b"xn--") => return None,
            Some(b'a'..=b'z') => {}
            Some(b'0'..=b'9' | b'-') => label_alphabetic = false,
            Some(b'.') | None => {
                let label = &bytes[label_start..i];
                labels += 1;
                if first_error.is_none() {
                    first_error = if label.is_empty() {
                        Some(SyntaxError::EmptyLabel)
                    } else if label.len() > 63 {
                        Some(SyntaxError::LabelTooLong)
                    } else if label.first() == Some(&b'-') || label.last() == Some(&b'-') {
                        Some(SyntaxError::BadHyphen)
                    } else {
                        None
                    };
                }
                if i < bytes.len() {
                    label_start = i + 1;
                    label_alphabetic = true;
                }
            }
            Some(_) => return None,
        }
    }
    let tld_len = bytes.len() - label_start;
    Some(if bytes.is_empty() {
        Err(SyntaxError::EmptyDomain)
    } else if bytes.len() > 253 {
        Err(SyntaxError::TooLong)
    } else if let Some(e) = first_error {
        Err(e)
    } else if labels < 2 {
        Err(SyntaxError::NoTld)
    } else if tld_len < 2 || !label_alphabetic {
        Err(SyntaxError::BadTld)
    } else {
        Ok(())
    })
}

fn is_host_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'.' || b == b'-'
}

fn check_domain(domain: &str) -> Result<(), SyntaxError> {
    if domain.is_empty() {
        return Err(SyntaxError::EmptyDomain);
    }
    if domain.len() > 253 {
        return Err(SyntaxError::TooLong);
    }
    let mut labels = 0usize;
    let mut tld = "";
    for label in domain.split('.') {
        labels += 1;
        if label.is_empty() {
            return Err(SyntaxError::EmptyLabel);
        }
        if label.len() > 63 {
            return Err(SyntaxError::LabelTooLong);
        }
        if !label.bytes().all(is_host_byte) || label.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(SyntaxError::BadDomainChar);
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(SyntaxError::BadHyphen);
        }
        tld = label;
    }
    if labels < 2 {
        return Err(SyntaxError::NoTld);
    }
    let punycode = tld.starts_with("xn--");
    if !punycode && (tld.len() < 2 || !tld.bytes().all(|b| b.is_ascii_alphabetic())) {
        return Err(SyntaxError::BadTld);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Email::parse` as it was before the one-string build and the plain dot-atom fast path.
    fn parse_by_general_path(raw: &str) -> Result<(String, usize), SyntaxError> {
        if raw.len() > MAX_INPUT_LEN {
            return Err(SyntaxError::TooLong);
        }
        let mut s = raw.trim();
        if let Some(rest) = strip_prefix_ignore_case(s, "mailto:") {
            s = rest.trim();
        }
        if let Some(inner) = s.strip_prefix('<').and_then(|r| r.strip_suffix('>')) {
            s = inner.trim();
        }
        let Some((local, domain)) = s.rsplit_once('@') else {
            return Err(SyntaxError::MissingAt);
        };
        let domain = ascii_domain(domain)?.into_owned();
        let local = local.to_lowercase();
        if local.is_empty() {
            return Err(SyntaxError::EmptyLocal);
        }
        if local.len() > 64 {
            return Err(SyntaxError::LocalTooLong);
        }
        if !email_address::EmailAddress::is_valid_local_part(&local) {
            return Err(SyntaxError::BadLocal);
        }
        if local.len() + 1 + domain.len() > 254 {
            return Err(SyntaxError::TooLong);
        }
        Ok((format!("{local}@{domain}"), local.len()))
    }

    fn parse_by_fast_path(raw: &str) -> Result<(String, usize), SyntaxError> {
        Email::parse(raw).map(|e| (e.as_str().to_owned(), e.local_part().len()))
    }

    #[test]
    fn the_fast_paths_give_what_the_general_path_gives() {
        let locals = [
            "ada",
            "Ada.Lovelace",
            "a.b.c",
            ".ada",
            "ada.",
            "a..b",
            "+",
            "-",
            "_",
            "a+b-c_d",
            "\"ada lovelace\"",
            "\"\"",
            "josé",
            "JOSÉ",
            "a b",
            "a@b",
            "a,b",
            "!#$%&'*/=?^`{|}~",
            "",
            "x".repeat(64).as_str(),
            "x".repeat(65).as_str(),
            "İstanbul",
            "ǅ",
        ]
        .map(str::to_owned);
        let domains = [
            "northwind.io",
            "NorthWind.IO",
            "bücher.de",
            "x",
            "",
            "a..b",
            "-a.io",
        ];
        for local in &locals {
            for domain in domains {
                let raw = format!("{local}@{domain}");
                assert_eq!(
                    parse_by_fast_path(&raw),
                    parse_by_general_path(&raw),
                    "{raw:?}"
                );
            }
        }
    }

    /// `ascii_domain` as it was before the one-pass check.
    fn ascii_domain_general(raw: &str) -> Result<String, SyntaxError> {
        let trimmed = raw.trim().trim_end_matches('.');
        if trimmed.is_empty() {
            return Err(SyntaxError::EmptyDomain);
        }
        if trimmed.len() > MAX_INPUT_LEN {
            return Err(SyntaxError::TooLong);
        }
        let ascii: Cow<'_, str> = if trimmed
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
            && !trimmed.contains("xn--")
        {
            Cow::Borrowed(trimmed)
        } else {
            if trimmed.bytes().any(|b| b.is_ascii() && !is_host_byte(b)) {
                return Err(SyntaxError::BadDomainChar);
            }
            idna::domain_to_ascii_cow(trimmed.as_bytes(), idna::AsciiDenyList::STD3)
                .map_err(|_| SyntaxError::BadDomainChar)?
        };
        check_domain(&ascii)?;
        Ok(ascii.into_owned())
    }

    #[test]
    fn the_one_pass_domain_check_gives_what_the_general_one_gives() {
        let long_label = "a".repeat(64);
        let long_domain = format!("{}.com", ["abcdefghij"; 25].join("."));
        let cases = [
            "northwind.io",
            "a.b",
            "a.b1",
            "a.1b",
            "a.b-c",
            "-a.io",
            "a-.io",
            "a..io",
            ".io",
            "io",
            "",
            ".",
            "a.",
            "x.xn--p1ai",
            "xn--bcher-kva.de",
            "axn--b.de",
            "a.x",
            "a.xn",
            "a-b.c-d.ef",
            "Northwind.IO",
            "bücher.de",
            "a_b.io",
            long_label.as_str(),
            &format!("{long_label}.io"),
            long_domain.as_str(),
            "1.2.3.4",
            "a.io-",
            "a.i-o",
        ];
        for c in cases {
            assert_eq!(
                ascii_domain(c).map(Cow::into_owned),
                ascii_domain_general(c),
                "{c:?}"
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn the_one_pass_domain_check_agrees_on_any_ldh_text(raw in "[a-cxn0-9.-]{0,20}|[a-z.-]{60,70}") {
            proptest::prop_assert_eq!(ascii_domain(&raw).map(Cow::into_owned), ascii_domain_general(&raw));
        }

        #[test]
        fn a_plain_dot_atom_is_a_valid_local_part(local in "[a-z0-9+_.-]{0,64}") {
            if is_plain_dot_atom(&local) {
                proptest::prop_assert!(email_address::EmailAddress::is_valid_local_part(&local));
            }
        }

        #[test]
        fn parse_agrees_with_the_general_path(raw in "[a-zA-Z0-9+_.\"@ é-]{0,40}(@[a-zA-Z.-]{0,12})?") {
            proptest::prop_assert_eq!(parse_by_fast_path(&raw), parse_by_general_path(&raw));
        }
    }

    #[test]
    fn valid_emails_are_normalised_and_split() {
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
                "MAILTO:<bob+leads@acme-robotics.com>",
                "bob+leads@acme-robotics.com",
                "acme-robotics.com",
            ),
            (
                "o'brien@kestrelbank.co.uk",
                "o'brien@kestrelbank.co.uk",
                "kestrelbank.co.uk",
            ),
            // Quoted local parts (RFC 5322 quoted-string): spaces, '@' and escaped quotes inside.
            (
                "\"John Doe\"@northwind.io",
                "\"john doe\"@northwind.io",
                "northwind.io",
            ),
            (
                "\"ada@home\"@northwind.io",
                "\"ada@home\"@northwind.io",
                "northwind.io",
            ),
            (
                "\"a\\\"b\"@northwind.io",
                "\"a\\\"b\"@northwind.io",
                "northwind.io",
            ),
            // IDN: Unicode and Punycode forms of one domain are one domain.
            (
                "x@xn--bcher-kva.example",
                "x@xn--bcher-kva.example",
                "xn--bcher-kva.example",
            ),
            (
                "José@Bücher.de",
                "josé@xn--bcher-kva.de",
                "xn--bcher-kva.de",
            ),
            (
                "info@MÜNCHEN.de",
                "info@xn--mnchen-3ya.de",
                "xn--mnchen-3ya.de",
            ),
            (
                "用户@例子.中国",
                "用户@xn--fsqu00a.xn--fiqs8s",
                "xn--fsqu00a.xn--fiqs8s",
            ),
            (
                "ivan@пример.рф",
                "ivan@xn--e1afmkfd.xn--p1ai",
                "xn--e1afmkfd.xn--p1ai",
            ),
            ("ada@northwind.io.", "ada@northwind.io", "northwind.io"),
        ];
        for (raw, address, domain) in cases {
            let e = Email::parse(raw).unwrap_or_else(|err| panic!("{raw}: {err}"));
            assert_eq!(e.as_str(), address, "{raw}");
            assert_eq!(e.domain(), domain, "{raw}");
        }
        let e = Email::parse("\"ada@home\"@northwind.io").unwrap();
        assert_eq!(e.local_part(), "\"ada@home\"");
    }

    #[test]
    fn invalid_emails_say_why() {
        let long_local = format!("{}@a.io", "a".repeat(65));
        let long_label = format!("a@{}.io", "b".repeat(64));
        let long_address = format!(
            "{}@{}.io",
            "a".repeat(60),
            vec!["b".repeat(60); 4].join(".")
        );
        let huge = "a".repeat(MAX_INPUT_LEN + 1);
        let cases = [
            ("ada.northwind.io", SyntaxError::MissingAt),
            ("ada@@northwind.io", SyntaxError::BadLocal),
            ("a@b@northwind.io", SyntaxError::BadLocal),
            ("@northwind.io", SyntaxError::EmptyLocal),
            (long_local.as_str(), SyntaxError::LocalTooLong),
            (long_address.as_str(), SyntaxError::TooLong),
            (huge.as_str(), SyntaxError::TooLong),
            ("ada lovelace@northwind.io", SyntaxError::BadLocal),
            ("ada(x)@northwind.io", SyntaxError::BadLocal),
            ("\"unclosed@northwind.io", SyntaxError::BadLocal),
            (".ada@northwind.io", SyntaxError::BadLocal),
            ("ada.@northwind.io", SyntaxError::BadLocal),
            ("ada..l@northwind.io", SyntaxError::BadLocal),
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
        assert!(!msg.is_empty());
        assert!(!msg.contains("secret"), "{msg}");
    }

    #[test]
    fn domains_are_normalised() {
        let cases = [
            ("northwind.io", Ok("northwind.io")),
            (" NorthWind.IO ", Ok("northwind.io")),
            ("https://www.northwind.io/about?x=1", Ok("northwind.io")),
            ("HTTP://northwind.io", Ok("northwind.io")),
            ("www.northwind.io.", Ok("northwind.io")),
            ("eu.northwind.io", Ok("eu.northwind.io")),
            ("www.io", Ok("www.io")),
            ("Bücher.de", Ok("xn--bcher-kva.de")),
            ("xn--bcher-kva.de", Ok("xn--bcher-kva.de")),
            ("https://www.bücher.de/", Ok("xn--bcher-kva.de")),
            ("northwind", Err(SyntaxError::NoTld)),
            ("", Err(SyntaxError::EmptyDomain)),
            ("north wind.io", Err(SyntaxError::BadDomainChar)),
            ("n/a", Err(SyntaxError::NoTld)),
        ];
        for (raw, want) in cases {
            assert_eq!(normalise_domain(raw), want.map(str::to_owned), "{raw:?}");
        }
    }

    #[test]
    fn registrable_domains_follow_the_public_suffix_list() {
        let cases = [
            ("northwind.io", "northwind.io"),
            ("mail.northwind.io", "northwind.io"),
            ("a.b.northwind.io", "northwind.io"),
            ("kestrelbank.co.uk", "kestrelbank.co.uk"),
            ("london.kestrelbank.co.uk", "kestrelbank.co.uk"),
            ("sydney-stack.com.au", "sydney-stack.com.au"),
            ("eu.sydney-stack.com.au", "sydney-stack.com.au"),
            ("cs.ox.ac.uk", "ox.ac.uk"),
            // Private-section suffixes: each customer is an organisation of its own.
            ("foo.github.io", "foo.github.io"),
            ("docs.foo.github.io", "foo.github.io"),
            ("x.blogspot.com", "x.blogspot.com"),
            ("shop.myshopify.com", "shop.myshopify.com"),
            ("eu.herokuapp.com", "eu.herokuapp.com"),
            // Government and second-level country suffixes.
            ("dept.gc.ca", "dept.gc.ca"),
            ("www.dept.gc.ca", "dept.gc.ca"),
            ("a.b.com.br", "b.com.br"),
            ("mail.acme.co.jp", "acme.co.jp"),
            ("x.kommune.no", "x.kommune.no"),
            // IDN (normalised to Punycode first).
            ("mail.xn--bcher-kva.de", "xn--bcher-kva.de"),
            ("www.xn--e1afmkfd.xn--p1ai", "xn--e1afmkfd.xn--p1ai"),
            // A public suffix itself, and a lone label, stay as they are.
            ("github.io", "github.io"),
            ("co.uk", "co.uk"),
            ("io", "io"),
        ];
        for (domain, want) in cases {
            assert_eq!(registrable_domain(domain), want, "{domain}");
        }
        assert_eq!(public_suffix("kestrelbank.co.uk"), "co.uk");
        assert_eq!(public_suffix("foo.github.io"), "github.io");
    }

    #[test]
    fn subdomain_matching() {
        assert!(domain_is_under("hotleads.ai", "hotleads.ai"));
        assert!(domain_is_under("eu.hotleads.ai", "hotleads.ai"));
        assert!(!domain_is_under("nothotleads.ai", "hotleads.ai"));
        assert!(!domain_is_under("hotleads.ai.evil.io", "hotleads.ai"));
    }
}
