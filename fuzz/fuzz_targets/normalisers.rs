//! enrich's normalisers: email address and domain, phone (E.164), country, and the whole lead
//! normalisation built from the same fields. Input: up to four fields separated by 0x1F.
#![no_main]

use std::sync::OnceLock;

use leadflow_enrich::address::{Email, normalise_domain, registrable_domain};
use leadflow_enrich::free_mail::FreeMailList;
use leadflow_enrich::{country, normalise, phone};
use leadflow_events::samples;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut parts = text.split('\u{1f}');
    let email = parts.next().unwrap_or_default();
    let phone_raw = parts.next().unwrap_or_default();
    let country_raw = parts.next().unwrap_or_default();
    let domain = parts.next().unwrap_or_default();

    if let Ok(e) = Email::parse(email) {
        // a parsed address is normalised: parsing it again gives the same address
        let again = Email::parse(e.as_str()).expect("a normalised email parses");
        assert_eq!(again.as_str(), e.as_str());
        assert!(!e.domain().is_empty());
    }
    if let Ok(d) = normalise_domain(domain) {
        let _ = registrable_domain(&d);
        assert_eq!(
            normalise_domain(&d).as_deref(),
            Ok(d.as_str()),
            "idempotent"
        );
    }
    let region = country::to_alpha2(country_raw);
    if let Some(code) = region {
        assert!(country::is_known_alpha2(code));
    }
    // the memoised, short-cut conversion answers what the plain one answers (the memo would
    // otherwise answer the read-back below itself)
    let converted = phone::to_e164(phone_raw, region);
    assert_eq!(converted, phone::to_e164_reference(phone_raw, region));
    if let Ok(e164) = converted {
        assert!(e164.starts_with('+'), "{e164}");
        assert_eq!(
            phone::to_e164_reference(&e164, None).as_deref(),
            Ok(e164.as_str()),
            "idempotent"
        );
        assert_eq!(phone::to_e164(&e164, None).as_deref(), Ok(e164.as_str()));
    }

    static FREE_MAIL: OnceLock<FreeMailList> = OnceLock::new();
    let free_mail = FREE_MAIL.get_or_init(|| FreeMailList::new(&[]));
    let mut lead = samples::lead_event();
    lead.contact.email = Some(email.to_owned());
    lead.contact.phone = Some(phone_raw.to_owned());
    lead.contact.country = Some(country_raw.to_owned());
    lead.account_domain = Some(domain.to_owned());
    let _ = normalise::normalise(lead, free_mail);
});
