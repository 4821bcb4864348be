//! Free-mail (consumer webmail) domains (RULES.md §6): an email there says nothing about the lead's
//! company.

use std::collections::HashSet;
use std::sync::LazyLock;

/// Exact free-mail domains.
const EXACT: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "live.com",
    "msn.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "aol.com",
    "proton.me",
    "protonmail.com",
    "protonmail.ch",
    "pm.me",
    "tutanota.com",
    "tuta.io",
    "zoho.com",
    "mail.com",
    "fastmail.com",
    "hey.com",
    "yandex.com",
    "yandex.ru",
    "mail.ru",
    "web.de",
    "t-online.de",
    "freenet.de",
    "posteo.de",
    "orange.fr",
    "wanadoo.fr",
    "free.fr",
    "sfr.fr",
    "laposte.net",
    "bbox.fr",
    "neuf.fr",
    "libero.it",
    "virgilio.it",
    "tiscali.it",
    "alice.it",
    "seznam.cz",
    "wp.pl",
    "o2.pl",
    "interia.pl",
    "onet.pl",
    "telenet.be",
    "skynet.be",
    "ziggo.nl",
    "kpnmail.nl",
    "bluewin.ch",
    "btinternet.com",
    "sky.com",
    "virginmedia.com",
    "qq.com",
    "163.com",
    "126.com",
    "naver.com",
    "daum.net",
    "rediffmail.com",
    "comcast.net",
    "verizon.net",
    "att.net",
    "sbcglobal.net",
];

/// Families that exist under many country TLDs: `yahoo.*` matches yahoo.com, yahoo.co.uk, yahoo.fr ...
const FAMILIES: &[&str] = &[
    "yahoo", "ymail", "gmx", "hotmail", "outlook", "live", "aol", "libero",
];

/// [`EXACT`] as a set: one hash instead of a scan of ~90 names.
static EXACT_SET: LazyLock<foldhash::HashSet<&'static str>> =
    LazyLock::new(|| EXACT.iter().copied().collect());

/// The bundled free-mail list plus configured extra domains.
#[derive(Clone, Debug, Default)]
pub struct FreeMailList {
    /// Every configured entry as written (lower-cased).
    extra: HashSet<String>,
    /// The `family` of each configured `family.*` entry, so a lookup needs no `format!`.
    extra_families: HashSet<String>,
}

impl FreeMailList {
    /// The bundled list plus `extra` (lower-cased domains; a `family.*` entry matches every TLD).
    pub fn new(extra: &[String]) -> Self {
        let extra: HashSet<String> = extra
            .iter()
            .map(|d| d.trim().to_ascii_lowercase())
            .filter(|d| !d.is_empty())
            .collect();
        let extra_families = extra
            .iter()
            .filter_map(|d| d.strip_suffix(".*"))
            .map(str::to_owned)
            .collect();
        Self {
            extra,
            extra_families,
        }
    }

    /// Whether a lower-cased domain is a free-mail provider.
    pub fn contains(&self, domain: &str) -> bool {
        if EXACT_SET.contains(domain) || (!self.extra.is_empty() && self.extra.contains(domain)) {
            return true;
        }
        let Some((first, rest)) = domain.split_once('.') else {
            return false;
        };
        // `yahoo.co.uk` is a family member, `yahoo.a.b.c` is not: the rest must be a public suffix
        // (looked up last: most domains are not in a family).
        (FAMILIES.contains(&first) || self.extra_families.contains(first))
            && crate::address::public_suffix(domain) == rest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lookup as it was before the sets: a scan of the bundled list, `format!` for families.
    fn contains_by_scan(list: &FreeMailList, domain: &str) -> bool {
        if EXACT.contains(&domain) || list.extra.contains(domain) {
            return true;
        }
        let Some((first, rest)) = domain.split_once('.') else {
            return false;
        };
        if crate::address::public_suffix(domain) != rest {
            return false;
        }
        FAMILIES.contains(&first) || list.extra.contains(&format!("{first}.*"))
    }

    #[test]
    fn the_sets_give_what_the_scan_gives() {
        let lists = [
            FreeMailList::new(&[]),
            FreeMailList::new(&[
                "corp-mail.example".into(),
                "mailbox.*".into(),
                "laposte.*".into(),
            ]),
        ];
        let mut domains: Vec<String> = EXACT.iter().map(|d| (*d).to_owned()).collect();
        for family in FAMILIES.iter().chain(&["mailbox", "laposte", "corp-mail"]) {
            for tail in ["com", "co.uk", "fr", "a.b", "example", "*", "github.io"] {
                domains.push(format!("{family}.{tail}"));
                domains.push(format!("x.{family}.{tail}"));
            }
        }
        domains.extend(["", ".", "com", "northwind.io", "mailbox.*", "a..b"].map(str::to_owned));
        for list in &lists {
            for d in &domains {
                assert_eq!(list.contains(d), contains_by_scan(list, d), "{d:?}");
            }
        }
    }

    #[test]
    fn bundled_and_family_domains() {
        let list = FreeMailList::new(&["corp-mail.example".into(), "mailbox.*".into()]);
        let cases = [
            ("gmail.com", true),
            ("yahoo.com", true),
            ("yahoo.fr", true),
            ("yahoo.co.uk", true),
            ("yahoo.com.br", true),
            ("hotmail.co.jp", true),
            ("gmx.de", true),
            ("gmx.net", true),
            ("web.de", true),
            ("orange.fr", true),
            ("free.fr", true),
            ("proton.me", true),
            ("outlook.com", true),
            ("hotmail.fr", true),
            ("icloud.com", true),
            ("corp-mail.example", true),
            ("mailbox.org", true),
            ("northwind.io", false),
            ("yahoo-inc.example", false),
            ("research.yahoo.com", false),
            ("yahoo.a.b.c", false),
            ("gmail.com.evil.io", false),
            ("orange-business.com", false),
            ("localhost", false),
        ];
        for (domain, want) in cases {
            assert_eq!(list.contains(domain), want, "{domain}");
        }
    }
}
