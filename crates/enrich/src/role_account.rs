//! Role accounts (RULES.md §6): shared mailboxes such as `info@` or `sales@` that belong to a function,
//! not a person, so a rep's reply may reach nobody in particular.

use std::sync::LazyLock;

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

/// [`ROLE_LOCAL_PARTS`] as a set: one hash instead of a scan of ~100 names.
static ROLE_SET: LazyLock<foldhash::HashSet<&'static str>> =
    LazyLock::new(|| ROLE_LOCAL_PARTS.iter().copied().collect());

/// Longest base (before `+`) looked at.
const MAX_BASE_LEN: usize = 32;

/// Whether a lower-cased local part names a role mailbox (`info`, `sales+emea`, `no-reply`).
pub fn is_role_account(local_part: &str) -> bool {
    let base = local_part.split('+').next().unwrap_or(local_part);
    if base.len() > MAX_BASE_LEN {
        return false;
    }
    // The key (base without `.`, `-`, `_`) is built on the stack: dropping ASCII bytes from UTF-8
    // leaves UTF-8.
    let mut buf = [0u8; MAX_BASE_LEN];
    let mut len = 0;
    for b in base.bytes().filter(|b| !matches!(b, b'.' | b'-' | b'_')) {
        buf[len] = b;
        len += 1;
    }
    std::str::from_utf8(&buf[..len]).is_ok_and(|key| ROLE_SET.contains(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_set_and_stack_key_give_what_the_scan_gives() {
        fn by_scan(local_part: &str) -> bool {
            let base = local_part.split('+').next().unwrap_or(local_part);
            if base.len() > 32 {
                return false;
            }
            let mut key = String::with_capacity(base.len());
            key.extend(base.chars().filter(|c| !matches!(c, '.' | '-' | '_')));
            ROLE_LOCAL_PARTS.contains(&key.as_str())
        }
        let mut inputs: Vec<String> = ROLE_LOCAL_PARTS.iter().map(|r| (*r).to_owned()).collect();
        for r in ROLE_LOCAL_PARTS {
            inputs.push(format!("{r}+x"));
            inputs.push(format!("{r}."));
            inputs.push(format!("_{r}-"));
            inputs.push(format!("{r}s"));
        }
        inputs.extend(
            [
                "",
                "+",
                "é",
                "no-répl",
                "info+",
                "i.n.f.o",
                &"a".repeat(33),
                &"é".repeat(16),
            ]
            .map(str::to_owned),
        );
        for input in &inputs {
            assert_eq!(is_role_account(input), by_scan(input), "{input:?}");
        }
    }

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
