//! Validates and normalises one raw lead (RULES.md §1–§7): identifiers trimmed, email and domains
//! normalised and checked, the company domain chosen (provided, or derived from a business email by
//! the Public Suffix List), names cleaned, countries to ISO alpha-2, phones to E.164, mailbox
//! warnings (free mail, disposable, role account). Pure: no I/O, no clock.

use leadflow_events::LeadEvent;

use crate::address::{self, Email};
use crate::free_mail::FreeMailList;
use crate::names::{clean_owned, normalise_person_name_owned};
use crate::validate::{Invalid, check_required};
use crate::{country, disposable, phone, role_account, warnings};

/// A lead after normalisation, with what was learnt on the way.
#[derive(Clone, Debug, PartialEq)]
pub struct Normalised {
    /// The event with normalised fields.
    pub lead: LeadEvent,
    /// Domain of the email, lower-cased.
    pub email_domain: Option<String>,
    /// The email is on a free-mail provider.
    pub free_mail: bool,
    /// The company domain: provided, or derived from a business email.
    pub company_domain: Option<String>,
    /// Quality warning codes (see [`crate::warnings`]).
    pub warnings: Vec<String>,
}

/// Validates and normalises `event`; an `Err` names the field at fault.
pub fn normalise(mut event: LeadEvent, free_mail: &FreeMailList) -> Result<Normalised, Invalid> {
    trim_in_place(&mut event.event_id);
    trim_in_place(&mut event.lead_id);
    trim_in_place(&mut event.source_system);
    trim_in_place(&mut event.source_record_id);
    check_required(&event)?;

    let mut warn = Warnings::default();
    let email = normalise_email(&mut event, free_mail, &mut warn)?;
    normalise_provided_domains(&mut event, &mut warn)?;
    let company_domain = choose_company_domain(&event, free_mail, &email, &mut warn);
    normalise_people_and_company_text(&mut event, &mut warn);
    normalise_countries(&mut event, &mut warn);
    normalise_phone(&mut event, &mut warn);

    Ok(Normalised {
        lead: event,
        email_domain: email.domain,
        free_mail: email.free_mail,
        company_domain,
        warnings: warn.0,
    })
}

/// Quality warning codes in the order first seen, each once.
#[derive(Default)]
struct Warnings(Vec<String>);

impl Warnings {
    fn push(&mut self, code: &str) {
        if !self.0.iter().any(|w| w == code) {
            self.0.push(code.to_owned());
        }
    }
}

/// What the email says about the lead.
struct EmailFacts {
    /// Domain of the email, lower-cased.
    domain: Option<String>,
    free_mail: bool,
    /// Neither free mail nor disposable: the mailbox says something about the company.
    business: bool,
}

/// Email (§2, §6): syntax and domain; free-mail, disposable and role-account warnings.
fn normalise_email(
    event: &mut LeadEvent,
    free_mail: &FreeMailList,
    warn: &mut Warnings,
) -> Result<EmailFacts, Invalid> {
    let email = match clean_owned(event.contact.email.take()) {
        None => None,
        Some(raw) => Some(Email::parse(&raw).map_err(|e| {
            Invalid::validation(format!(
                "contact.email is not a valid email address: it {e}"
            ))
        })?),
    };
    let domain = email.as_ref().map(|e| e.domain().to_owned());
    let is_free_mail = domain.as_deref().is_some_and(|d| free_mail.contains(d));
    let is_disposable = domain.as_deref().is_some_and(disposable::is_disposable);
    let is_role = email
        .as_ref()
        .is_some_and(|e| role_account::is_role_account(e.local_part()));
    event.contact.email = email.map(Email::into_string);
    if event.contact.email.is_none() {
        warn.push(warnings::MISSING_EMAIL);
    }
    if is_free_mail {
        warn.push(warnings::FREE_MAIL);
    }
    if is_disposable {
        warn.push(warnings::DISPOSABLE_EMAIL);
    }
    if is_role {
        warn.push(warnings::ROLE_ACCOUNT);
    }
    Ok(EmailFacts {
        domain,
        free_mail: is_free_mail,
        // A personal or throwaway mailbox says nothing about the company.
        business: !is_free_mail && !is_disposable,
    })
}

/// Provided domains (§3): normalised; invalid ones dropped (fatal only when nothing else identifies
/// the lead).
fn normalise_provided_domains(event: &mut LeadEvent, warn: &mut Warnings) -> Result<(), Invalid> {
    let mut first_domain_error = None;
    let mut provided = |field: &'static str, raw: Option<String>| -> Option<String> {
        let raw = clean_owned(raw)?;
        match address::normalise_domain(&raw) {
            Ok(d) => Some(d),
            Err(e) => {
                first_domain_error.get_or_insert((field, e));
                None
            }
        }
    };
    event.company.domain = provided("company.domain", event.company.domain.take());
    event.account_domain = provided("account_domain", event.account_domain.take());
    if let Some((field, e)) = first_domain_error {
        if event.contact.email.is_none()
            && event.company.domain.is_none()
            && event.account_domain.is_none()
        {
            return Err(Invalid::validation(format!(
                "{field} is not a valid domain: it {e} (and there is no contact.email)"
            )));
        }
        warn.push(warnings::INVALID_COMPANY_DOMAIN);
    }
    Ok(())
}

/// The company domain (§3): provided (not free-mail), else derived from a business email.
fn choose_company_domain(
    event: &LeadEvent,
    free_mail: &FreeMailList,
    email: &EmailFacts,
    warn: &mut Warnings,
) -> Option<String> {
    let mut company_domain = None;
    for d in [&event.company.domain, &event.account_domain]
        .into_iter()
        .flatten()
    {
        if free_mail.contains(d) {
            warn.push(warnings::FREE_MAIL_COMPANY_DOMAIN);
        } else if company_domain.is_none() {
            company_domain = Some(d.clone());
        }
    }
    match (&company_domain, &email.domain) {
        (None, Some(ed)) if email.business => {
            company_domain = Some(address::registrable_domain(ed).to_owned());
            warn.push(warnings::COMPANY_DOMAIN_DERIVED);
        }
        (None, _) => warn.push(warnings::MISSING_COMPANY),
        (Some(cd), Some(ed)) if email.business => {
            if !address::domain_is_under(ed, cd) && !address::domain_is_under(cd, ed) {
                warn.push(warnings::EMAIL_DOMAIN_DIFFERS);
            }
        }
        (Some(_), _) => {}
    }
    company_domain
}

/// People and company text: names cleaned, missing name and title warned.
fn normalise_people_and_company_text(event: &mut LeadEvent, warn: &mut Warnings) {
    let contact = &mut event.contact;
    contact.first_name = normalise_person_name_owned(contact.first_name.take());
    contact.last_name = normalise_person_name_owned(contact.last_name.take());
    contact.title = clean_owned(contact.title.take());
    contact.department = clean_owned(contact.department.take());
    if contact.first_name.is_none() && contact.last_name.is_none() {
        warn.push(warnings::MISSING_NAME);
    }
    if contact.title.is_none() {
        warn.push(warnings::MISSING_TITLE);
    }
    event.company.name = clean_owned(event.company.name.take());
    event.company.industry = clean_owned(event.company.industry.take());
}

/// Countries (§4) -> ISO alpha-2; unrecognised values are dropped with a warning.
fn normalise_countries(event: &mut LeadEvent, warn: &mut Warnings) {
    for value in [&mut event.contact.country, &mut event.company.country] {
        if let Some(raw) = clean_owned(value.take()) {
            *value = country::to_alpha2(&raw).map(str::to_owned);
            if value.is_none() {
                warn.push(warnings::UNKNOWN_COUNTRY);
            }
        } else {
            *value = None;
        }
    }
}

/// Phone (§5) -> E.164, read in the contact's country, else the company's; kept as given (with a
/// warning) when that fails.
fn normalise_phone(event: &mut LeadEvent, warn: &mut Warnings) {
    let Some(raw) = clean_owned(event.contact.phone.take()) else {
        event.contact.phone = None;
        return;
    };
    let region = event
        .contact
        .country
        .as_deref()
        .or(event.company.country.as_deref());
    event.contact.phone = Some(match phone::to_e164(&raw, region) {
        Ok(e164) => e164,
        Err(_) => {
            warn.push(warnings::INVALID_PHONE);
            raw
        }
    });
}

fn trim_in_place(s: &mut String) {
    let trimmed = s.trim();
    if trimmed.len() != s.len() {
        *s = trimmed.to_owned();
    }
}

#[cfg(test)]
mod tests {
    use leadflow_events::{ErrorKind, samples};

    use super::*;

    fn run(edit: impl FnOnce(&mut LeadEvent)) -> Result<Normalised, Invalid> {
        let mut event = samples::lead_event();
        edit(&mut event);
        normalise(event, &FreeMailList::new(&[]))
    }

    #[test]
    fn the_sample_passes_unchanged() {
        let n = run(|_| {}).unwrap();
        let mut want = samples::lead_event();
        want.contact.phone = Some("+33123456789".into());
        assert_eq!(n.lead, want);
        assert_eq!(n.email_domain.as_deref(), Some("northwind.io"));
        assert!(!n.free_mail);
        assert_eq!(n.company_domain.as_deref(), Some("northwind.io"));
        assert!(n.warnings.is_empty(), "{:?}", n.warnings);
    }

    #[test]
    fn invalid_events_name_the_field_and_not_the_value() {
        type Edit = fn(&mut LeadEvent);
        let cases: &[(&str, Edit, ErrorKind, &str)] = &[
            (
                "bad email syntax",
                |e| e.contact.email = Some("ada.lovelace.northwind.io".into()),
                ErrorKind::Validation,
                "contact.email is not a valid email address: it has no '@'",
            ),
            (
                "email with a space",
                |e| e.contact.email = Some("ada lovelace@northwind.io".into()),
                ErrorKind::Validation,
                "contact.email is not a valid email address: it has a local part that is neither a dot-atom nor a quoted string (RFC 5322)",
            ),
            (
                "email without TLD",
                |e| e.contact.email = Some("ada.lovelace@northwind".into()),
                ErrorKind::Validation,
                "contact.email is not a valid email address: it has a domain without a top-level domain",
            ),
            (
                "bad company domain and no email",
                |e| {
                    e.contact.email = None;
                    e.account_domain = None;
                    e.company.domain = Some("n/a".into());
                },
                ErrorKind::Validation,
                "company.domain is not a valid domain: it has a domain without a top-level domain (and there is no contact.email)",
            ),
            (
                "missing lead id (whitespace)",
                |e| e.lead_id = " \t".into(),
                ErrorKind::MissingField,
                "lead_id is empty",
            ),
            (
                "no email, no domain",
                |e| {
                    e.contact.email = None;
                    e.company.domain = None;
                    e.account_domain = None;
                },
                ErrorKind::MissingField,
                "neither contact.email nor a company domain (company.domain or account_domain) is present",
            ),
        ];
        for (name, edit, kind, reason) in cases {
            let err = run(*edit)
                .err()
                .unwrap_or_else(|| panic!("{name}: accepted"));
            assert_eq!(err.kind, *kind, "{name}");
            assert_eq!(err.reason, *reason, "{name}");
            assert!(!err.reason.contains("lovelace"), "{name}: {}", err.reason);
        }
    }

    struct Want {
        email: Option<&'static str>,
        email_domain: Option<&'static str>,
        free_mail: bool,
        company_domain: Option<&'static str>,
        warnings: &'static [&'static str],
    }

    type Edit = fn(&mut LeadEvent);

    fn check_email_cases(cases: &[(&str, Edit, Want)]) {
        for (name, edit, want) in cases {
            let n = run(*edit).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(n.lead.contact.email.as_deref(), want.email, "{name}");
            assert_eq!(n.email_domain.as_deref(), want.email_domain, "{name}");
            assert_eq!(n.free_mail, want.free_mail, "{name}");
            assert_eq!(n.company_domain.as_deref(), want.company_domain, "{name}");
            assert_eq!(n.warnings, want.warnings, "{name}");
        }
    }

    /// Upper case, `www`, a URL and surrounding blanks (§2, §3).
    #[test]
    fn emails_and_provided_domains_are_normalised() {
        check_email_cases(&[
            (
                "upper-case email and www company domain are normalised",
                |e| {
                    e.contact.email = Some("  Ada.Lovelace@NorthWind.IO ".into());
                    e.company.domain = Some("https://www.Northwind.io/".into());
                    e.account_domain = Some("NORTHWIND.IO".into());
                },
                Want {
                    email: Some("ada.lovelace@northwind.io"),
                    email_domain: Some("northwind.io"),
                    free_mail: false,
                    company_domain: Some("northwind.io"),
                    warnings: &[],
                },
            ),
            (
                "account domain used when company domain is missing",
                |e| {
                    e.company.domain = None;
                    e.account_domain = Some("Northwind.io".into());
                },
                Want {
                    email: Some("ada.lovelace@northwind.io"),
                    email_domain: Some("northwind.io"),
                    free_mail: false,
                    company_domain: Some("northwind.io"),
                    warnings: &[],
                },
            ),
            (
                "company domain without email",
                |e| {
                    e.contact.email = Some("   ".into());
                    e.account_domain = None;
                },
                Want {
                    email: None,
                    email_domain: None,
                    free_mail: false,
                    company_domain: Some("northwind.io"),
                    warnings: &[warnings::MISSING_EMAIL],
                },
            ),
        ]);
    }

    /// A business email derives the company domain when none is provided, else is compared with it (§3).
    #[test]
    fn a_business_email_gives_or_checks_the_company_domain() {
        check_email_cases(&[
            (
                "derived company domain from a business email",
                |e| {
                    e.company.domain = None;
                    e.account_domain = None;
                    e.contact.email = Some("ada@mail.northwind.io".into());
                },
                Want {
                    email: Some("ada@mail.northwind.io"),
                    email_domain: Some("mail.northwind.io"),
                    free_mail: false,
                    company_domain: Some("northwind.io"),
                    warnings: &[warnings::COMPANY_DOMAIN_DERIVED],
                },
            ),
            (
                "business email at another company",
                |e| e.contact.email = Some("ada@acme-robotics.com".into()),
                Want {
                    email: Some("ada@acme-robotics.com"),
                    email_domain: Some("acme-robotics.com"),
                    free_mail: false,
                    company_domain: Some("northwind.io"),
                    warnings: &[warnings::EMAIL_DOMAIN_DIFFERS],
                },
            ),
            (
                "email on a subdomain of the company domain",
                |e| e.contact.email = Some("ada@eu.northwind.io".into()),
                Want {
                    email: Some("ada@eu.northwind.io"),
                    email_domain: Some("eu.northwind.io"),
                    free_mail: false,
                    company_domain: Some("northwind.io"),
                    warnings: &[],
                },
            ),
        ]);
    }

    /// A free-mail address or a free-mail company domain names no company (§3, §6).
    #[test]
    fn free_mail_never_names_the_company() {
        check_email_cases(&[
            (
                "free-mail with no company",
                |e| {
                    e.company.domain = None;
                    e.account_domain = None;
                    e.contact.email = Some("ada.lovelace@gmail.com".into());
                },
                Want {
                    email: Some("ada.lovelace@gmail.com"),
                    email_domain: Some("gmail.com"),
                    free_mail: true,
                    company_domain: None,
                    warnings: &[warnings::FREE_MAIL, warnings::MISSING_COMPANY],
                },
            ),
            (
                "free-mail with a provided company domain",
                |e| {
                    e.contact.email = Some("ada@yahoo.co.uk".into());
                    e.account_domain = None;
                },
                Want {
                    email: Some("ada@yahoo.co.uk"),
                    email_domain: Some("yahoo.co.uk"),
                    free_mail: true,
                    company_domain: Some("northwind.io"),
                    warnings: &[warnings::FREE_MAIL],
                },
            ),
            (
                "free-mail typed as the company domain",
                |e| {
                    e.contact.email = Some("ada@gmx.de".into());
                    e.company.domain = Some("gmx.de".into());
                    e.account_domain = None;
                },
                Want {
                    email: Some("ada@gmx.de"),
                    email_domain: Some("gmx.de"),
                    free_mail: true,
                    company_domain: None,
                    warnings: &[
                        warnings::FREE_MAIL,
                        warnings::FREE_MAIL_COMPANY_DOMAIN,
                        warnings::MISSING_COMPANY,
                    ],
                },
            ),
        ]);
    }

    /// An invalid provided domain is not fatal while the email identifies the lead (§3).
    #[test]
    fn an_invalid_company_domain_is_dropped_when_the_email_identifies_the_lead() {
        check_email_cases(&[(
            "invalid company domain dropped when the email identifies the lead",
            |e| {
                e.company.domain = Some("n/a".into());
                e.account_domain = None;
            },
            Want {
                email: Some("ada.lovelace@northwind.io"),
                email_domain: Some("northwind.io"),
                free_mail: false,
                company_domain: Some("northwind.io"),
                warnings: &[
                    warnings::INVALID_COMPANY_DOMAIN,
                    warnings::COMPANY_DOMAIN_DERIVED,
                ],
            },
        )]);
    }

    #[test]
    fn mailbox_warnings_are_separate_and_named() {
        type Edit = fn(&mut LeadEvent);
        let cases: &[(&str, Edit, Option<&str>, &[&str])] = &[
            (
                "role account at the company",
                |e| e.contact.email = Some("Info@Northwind.io".into()),
                Some("northwind.io"),
                &[warnings::ROLE_ACCOUNT],
            ),
            (
                "tagged role account",
                |e| e.contact.email = Some("sales+emea@northwind.io".into()),
                Some("northwind.io"),
                &[warnings::ROLE_ACCOUNT],
            ),
            (
                "disposable mailbox, no company: nothing derived from it",
                |e| {
                    e.contact.email = Some("ada@mailinator.com".into());
                    e.company.domain = None;
                    e.account_domain = None;
                },
                None,
                &[warnings::DISPOSABLE_EMAIL, warnings::MISSING_COMPANY],
            ),
            (
                "disposable mailbox with a company domain: no domain mismatch reported",
                |e| e.contact.email = Some("ada@yopmail.com".into()),
                Some("northwind.io"),
                &[warnings::DISPOSABLE_EMAIL],
            ),
            (
                "free-mail role account",
                |e| {
                    e.contact.email = Some("contact@gmail.com".into());
                    e.account_domain = None;
                },
                Some("northwind.io"),
                &[warnings::FREE_MAIL, warnings::ROLE_ACCOUNT],
            ),
            (
                "quoted local part is a valid address",
                |e| e.contact.email = Some("\"Ada Lovelace\"@northwind.io".into()),
                Some("northwind.io"),
                &[],
            ),
            (
                "IDN email derives the Punycode company domain",
                |e| {
                    e.contact.email = Some("jürgen@mail.bücher.de".into());
                    e.company.domain = None;
                    e.account_domain = None;
                },
                Some("xn--bcher-kva.de"),
                &[warnings::COMPANY_DOMAIN_DERIVED],
            ),
            (
                "email on a GitHub Pages host groups under that host, not github.io",
                |e| {
                    e.contact.email = Some("ada@team.northwind.github.io".into());
                    e.company.domain = None;
                    e.account_domain = None;
                },
                Some("northwind.github.io"),
                &[warnings::COMPANY_DOMAIN_DERIVED],
            ),
        ];
        for (name, edit, company, warns) in cases {
            let n = run(*edit).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(n.company_domain.as_deref(), *company, "{name}");
            assert_eq!(n.warnings, *warns, "{name}");
        }
    }

    #[test]
    fn phones_become_e164_in_the_leads_country_or_stay_with_a_warning() {
        type Edit = fn(&mut LeadEvent);
        let cases: &[(&str, Edit, Option<&str>, &[&str])] = &[
            (
                "international number",
                |e| e.contact.phone = Some("+44 20 7946 0018".into()),
                Some("+442079460018"),
                &[],
            ),
            (
                "national number read in the contact's country",
                |e| e.contact.phone = Some("01 23 45 67 89".into()),
                Some("+33123456789"),
                &[],
            ),
            (
                "national number read in the company's country when the contact has none",
                |e| {
                    e.contact.country = None;
                    e.company.country = Some("United States".into());
                    e.contact.phone = Some("(415) 555-0132".into());
                },
                Some("+14155550132"),
                &[],
            ),
            (
                "contact country wins over the company's",
                |e| {
                    e.contact.country = Some("Deutschland".into());
                    e.company.country = Some("US".into());
                    e.contact.phone = Some("030 12345678".into());
                },
                Some("+493012345678"),
                &[],
            ),
            (
                "national number and no country: kept, warned, not rejected",
                |e| {
                    e.contact.country = None;
                    e.company.country = None;
                    e.contact.phone = Some("01 23 45 67 89".into());
                },
                Some("01 23 45 67 89"),
                &[warnings::INVALID_PHONE],
            ),
            (
                "garbage phone: kept, warned, not rejected",
                |e| e.contact.phone = Some("  ask   reception ".into()),
                Some("ask reception"),
                &[warnings::INVALID_PHONE],
            ),
            (
                "blank phone",
                |e| e.contact.phone = Some(" ".into()),
                None,
                &[],
            ),
        ];
        for (name, edit, phone, warns) in cases {
            let n = run(*edit).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(n.lead.contact.phone.as_deref(), *phone, "{name}");
            assert_eq!(n.warnings, *warns, "{name}");
        }
    }

    #[test]
    fn names_titles_ids_and_countries() {
        let n = run(|e| {
            e.event_id = " evt-1 ".into();
            e.contact.first_name = Some("  ADA ".into());
            e.contact.last_name = Some("de la cruz".into());
            e.contact.title = Some("  VP   Engineering ".into());
            e.contact.country = Some("France".into());
            e.company.country = Some("usa".into());
            e.company.name = Some("  Northwind  ".into());
        })
        .unwrap();
        assert_eq!(n.lead.event_id, "evt-1");
        assert_eq!(n.lead.contact.first_name.as_deref(), Some("Ada"));
        assert_eq!(n.lead.contact.last_name.as_deref(), Some("De la Cruz"));
        assert_eq!(n.lead.contact.title.as_deref(), Some("VP Engineering"));
        assert_eq!(n.lead.contact.country.as_deref(), Some("FR"));
        assert_eq!(n.lead.company.country.as_deref(), Some("US"));
        assert_eq!(n.lead.company.name.as_deref(), Some("Northwind"));
        assert!(n.warnings.is_empty());

        type Edit = fn(&mut LeadEvent);
        type Case = (
            Edit,
            Option<&'static str>,
            Option<&'static str>,
            &'static [&'static str],
        );
        let countries: &[Case] = &[
            (
                |e| e.contact.country = Some("fr".into()),
                Some("FR"),
                Some("FR"),
                &[],
            ),
            (
                |e| e.contact.country = Some("FRA".into()),
                Some("FR"),
                Some("FR"),
                &[],
            ),
            (
                |e| e.contact.country = Some("UK".into()),
                Some("GB"),
                Some("FR"),
                &[],
            ),
            (
                |e| e.company.country = Some("United States".into()),
                Some("FR"),
                Some("US"),
                &[],
            ),
            (
                |e| e.contact.country = Some("Narnia".into()),
                None,
                Some("FR"),
                &[warnings::UNKNOWN_COUNTRY],
            ),
            (
                |e| e.contact.country = Some(" ".into()),
                None,
                Some("FR"),
                &[],
            ),
        ];
        for (edit, contact, company, warns) in countries {
            let n = run(*edit).unwrap();
            assert_eq!(n.lead.contact.country.as_deref(), *contact);
            assert_eq!(n.lead.company.country.as_deref(), *company);
            assert_eq!(n.warnings, *warns);
        }

        let n = run(|e| {
            e.contact.first_name = Some(" ".into());
            e.contact.last_name = None;
            e.contact.title = None;
        })
        .unwrap();
        assert_eq!(
            n.warnings,
            [warnings::MISSING_NAME, warnings::MISSING_TITLE]
        );
    }
}
