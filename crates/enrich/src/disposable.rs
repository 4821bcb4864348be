//! Disposable (throwaway) mailbox domains (RULES.md §6), from the `mailchecker` crate's list
//! (github.com/FGRibreau/mailchecker, tens of thousands of domains, released several times a year;
//! the crate version in use is exported as `leadflow_enrich_reference_data_info`).
//!
//! The crate's own check scans its list linearly; the list is loaded once into a hash set here, so
//! a lookup costs one hash per label of the domain (foldhash: the set holds a fixed list, so SipHash's
//! resistance to chosen keys buys nothing).

use std::sync::LazyLock;

static DISPOSABLE: LazyLock<foldhash::HashSet<&'static str>> =
    LazyLock::new(|| mailchecker::blacklist().into_iter().collect());

/// Loads the list now (start-up), so the first lead does not pay for it.
pub fn preload() -> usize {
    DISPOSABLE.len()
}

/// Whether a normalised (lower-case ASCII) domain, or a parent of it, is a disposable-mail provider.
pub fn is_disposable(domain: &str) -> bool {
    if domain.len() > 253 {
        return false;
    }
    let mut candidate = domain;
    loop {
        if DISPOSABLE.contains(candidate) {
            return true;
        }
        match candidate.split_once('.') {
            Some((_, parent)) if parent.contains('.') => candidate = parent,
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throwaway_providers_and_their_subdomains() {
        assert!(preload() > 10_000, "{}", preload());
        let cases = [
            ("mailinator.com", true),
            ("guerrillamailblock.com", true),
            ("10minutemail.com", true),
            ("yopmail.com", true),
            ("ok.33mail.com", true),
            ("northwind.io", false),
            ("gmail.com", false),
            ("outlook.com", false),
            ("com", false),
            ("", false),
        ];
        for (domain, want) in cases {
            assert_eq!(is_disposable(domain), want, "{domain}");
        }
    }

    #[test]
    fn no_demo_company_is_disposable() {
        for c in crate::dataset::demo_companies() {
            assert!(!is_disposable(&c.domain), "{}", c.domain);
        }
    }
}
