//! Role accounts (RULES.md §6): shared mailboxes such as `info@` or `sales@` that belong to a function,
//! not a person, so a rep's reply may reach nobody in particular.

/// Local parts (before any `+tag`) of role mailboxes, lower-case; compared after dropping `.`, `-`
/// and `_` ("no-reply", "no_reply" and "noreply" are one entry).
const ROLE_LOCAL_PARTS: &[&str] = &[
    // general contact
    "info",
    "contact",
    "contactus",
    "hello",
    "hi",
    "enquiries",
    "enquiry",
    "inquiries",
    "inquiry",
    "office",
    "mail",
    "email",
    "general",
    "team",
    "welcome",
    "reception",
    "kontakt",
    "bonjour",
    // sales, marketing, partnerships
    "sales",
    "vertrieb",
    "ventes",
    "marketing",
    "partners",
    "partnerships",
    "business",
    "bizdev",
    "newsletter",
    "press",
    "media",
    "pr",
    "events",
    // support and operations
    "support",
    "help",
    "helpdesk",
    "service",
    "customerservice",
    "care",
    "feedback",
    "ops",
    "operations",
    "it",
    "tech",
    "security",
    "abuse",
    "postmaster",
    "hostmaster",
    "webmaster",
    "admin",
    "administrator",
    "root",
    "sysadmin",
    "noc",
    "devops",
    // finance, legal, people
    "billing",
    "accounts",
    "accounting",
    "finance",
    "invoices",
    "invoice",
    "payments",
    "legal",
    "privacy",
    "compliance",
    "gdpr",
    "dpo",
    "hr",
    "jobs",
    "careers",
    "recruiting",
    "recruitment",
    "talent",
    "procurement",
    "purchasing",
    // automated
    "noreply",
    "donotreply",
    "notifications",
    "alerts",
    "mailerdaemon",
    "bounce",
    "bounces",
];

/// Whether a lower-cased local part names a role mailbox (`info`, `sales+emea`, `no-reply`).
pub fn is_role_account(local_part: &str) -> bool {
    let base = local_part.split('+').next().unwrap_or(local_part);
    if base.len() > 32 {
        return false;
    }
    let mut key = String::with_capacity(base.len());
    key.extend(base.chars().filter(|c| !matches!(c, '.' | '-' | '_')));
    ROLE_LOCAL_PARTS.contains(&key.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_mailboxes_and_people() {
        let cases = [
            ("info", true),
            ("sales", true),
            ("sales+emea", true),
            ("no-reply", true),
            ("no_reply", true),
            ("do-not-reply", true),
            ("support", true),
            ("hr", true),
            ("kontakt", true),
            ("ada.lovelace", false),
            ("ada", false),
            ("information.officer", false),
            ("salesforce-admin-bot", false),
            ("\"info\"", false),
            ("", false),
        ];
        for (local, want) in cases {
            assert_eq!(is_role_account(local), want, "{local}");
        }
    }
}
