//! Property test: no normaliser panics on arbitrary input, and none does work or builds output out of
//! proportion to it. Inputs over each normaliser's cap are refused before any parsing (so a 1 MB
//! "email" costs a length check), and every output is bounded by its format (254 octets for an
//! address, 253 for a domain, 16 for an E.164 number, 2 for a country code).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use leadflow_enrich::address::{self, Email};
use leadflow_enrich::free_mail::FreeMailList;
use leadflow_enrich::normalise::normalise;
use leadflow_enrich::{country, disposable, phone, role_account};
use leadflow_events::samples;
use proptest::prelude::*;

/// Text that looks like what the normalisers expect, with the characters that matter to them.
fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,120}",
        "[a-zA-Z0-9@.\"+\\-_ ()<>:/\\\\üé日本\u{0}\t]{0,80}",
        "(mailto:)?[a-z0-9.+\"]{0,20}@[a-zü0-9.\\-]{0,40}",
        "[+0-9 ().\\-]{0,30}",
        // long inputs, far over every cap
        "[a-z@.+0-9]{1,8}".prop_map(|s| s.repeat(4_000)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn each_normaliser_is_total_and_bounded(s in field(), region in "[A-Z]{2}") {
        if let Ok(e) = Email::parse(&s) {
            prop_assert!(e.as_str().len() <= 254);
            prop_assert!(e.domain().len() <= 253);
            prop_assert!(e.local_part().len() <= 64, "RFC 5321: a local part is at most 64 octets");
            let _ = role_account::is_role_account(e.local_part());
        }
        if let Ok(d) = address::normalise_domain(&s) {
            prop_assert!(d.len() <= 253);
            prop_assert!(d.is_ascii());
            let r = address::registrable_domain(&d);
            prop_assert!(d.ends_with(r));
            let _ = disposable::is_disposable(&d);
            let _ = FreeMailList::new(&[]).contains(&d);
        }
        if let Some(a2) = country::to_alpha2(&s) {
            prop_assert!(country::is_known_alpha2(a2));
        }
        for r in [None, Some(region.as_str()), Some("FR"), Some("US")] {
            if let Ok(n) = phone::to_e164(&s, r) {
                prop_assert!(n.starts_with('+') && n.len() <= 16, "{n}");
            }
        }
        let _ = role_account::is_role_account(&s);
        let _ = disposable::is_disposable(&s);
    }

    #[test]
    fn the_whole_lead_normaliser_is_total(
        email in field(),
        domain in field(),
        phone in field(),
        country in field(),
        title in field(),
    ) {
        let mut event = samples::lead_event();
        event.contact.email = Some(email);
        event.company.domain = Some(domain);
        event.contact.phone = Some(phone);
        event.contact.country = Some(country);
        event.contact.title = Some(title);
        if let Ok(n) = normalise(event, &FreeMailList::new(&[])) {
            prop_assert!(n.lead.contact.email.as_ref().is_none_or(|e| e.len() <= 254));
            prop_assert!(n.company_domain.as_ref().is_none_or(|d| d.len() <= 253));
            prop_assert!(n.lead.contact.country.as_ref().is_none_or(|c| c.len() == 2));
            prop_assert!(n.warnings.len() <= leadflow_enrich::warnings::ALL.len());
        }
    }
}

#[test]
fn oversized_inputs_are_refused_before_parsing() {
    let huge = format!("{}@{}.com", "a".repeat(1 << 20), "b".repeat(1 << 20));
    assert_eq!(Email::parse(&huge), Err(address::SyntaxError::TooLong));
    assert_eq!(
        address::normalise_domain(&huge),
        Err(address::SyntaxError::TooLong)
    );
    assert_eq!(country::to_alpha2(&huge), None);
    assert_eq!(
        phone::to_e164(&huge, Some("FR")),
        Err(phone::PhoneProblem::TooLong)
    );
    assert!(!role_account::is_role_account(&huge));
}
