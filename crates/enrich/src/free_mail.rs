//! Free-mail (consumer webmail) domains (RULES.md §6): an email there says nothing about the lead's
//! company.

use std::collections::HashSet;

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

/// The bundled free-mail list plus configured extra domains.
#[derive(Clone, Debug, Default)]
pub struct FreeMailList {
    extra: HashSet<String>,
}

impl FreeMailList {
    /// The bundled list plus `extra` (lower-cased domains; a `family.*` entry matches every TLD).
    pub fn new(extra: &[String]) -> Self {
        Self {
            extra: extra
                .iter()
                .map(|d| d.trim().to_ascii_lowercase())
                .filter(|d| !d.is_empty())
                .collect(),
        }
    }

    /// Whether a lower-cased domain is a free-mail provider.
    pub fn contains(&self, domain: &str) -> bool {
        if EXACT.contains(&domain) || self.extra.contains(domain) {
            return true;
        }
        let Some((first, rest)) = domain.split_once('.') else {
            return false;
        };
        // `yahoo.co.uk` is a family member, `yahoo.a.b.c` is not: the rest must be a public suffix.
        if crate::address::public_suffix(domain) != rest {
            return false;
        }
        FAMILIES.contains(&first) || self.extra.contains(&format!("{first}.*"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
