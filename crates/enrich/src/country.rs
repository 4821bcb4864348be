//! Country names and codes -> ISO 3166-1 alpha-2 (RULES.md §4): "France", "fr", "FRA", "250" -> "FR".
//!
//! ISO 3166-1 itself (alpha-2, alpha-3, numeric codes, English short names and the common English
//! aliases such as "UK", "USA", "Holland") comes from the `celes` crate. [`ALIASES`] holds only what
//! that crate does not know: native and foreign-language names ("Deutschland", "Allemagne",
//! "Países Bajos", "日本") and a few abbreviations people type ("EL", "UAE", "KSA"). A test keeps the
//! table honest: an entry the crate already resolves is an error.

use std::cell::RefCell;
use std::str::FromStr;
use std::sync::LazyLock;

/// Longest input looked at (bytes); longer values are not country names.
const MAX_INPUT_LEN: usize = 100;

/// Alpha-2 -> names `celes` does not resolve (German, French, Spanish, Italian, Portuguese, Dutch,
/// native names and scripts, common abbreviations).
const ALIASES: &[(&str, &[&str])] = &[
    (
        "AE",
        &[
            "UAE",
            "Emirates",
            "Émirats arabes unis",
            "Vereinigte Arabische Emirate",
            "Emiratos Árabes Unidos",
        ],
    ),
    ("AT", &["Österreich", "Autriche"]),
    (
        "BE",
        &["Belgique", "België", "Belgien", "Bélgica", "Belgio"],
    ),
    ("BR", &["Brasil", "Brésil", "Brasilien", "Brasile"]),
    (
        "CH",
        &[
            "Schweiz",
            "Suisse",
            "Svizzera",
            "Suiza",
            "Zwitserland",
            "Swiss Confederation",
        ],
    ),
    ("CI", &["Elfenbeinküste"]),
    ("CN", &["PRC", "中国", "Chine", "Volksrepublik China"]),
    (
        "CZ",
        &[
            "Česko",
            "Ceska republika",
            "Tschechien",
            "République tchèque",
            "Chequia",
        ],
    ),
    (
        "DE",
        &[
            "Deutschland",
            "Allemagne",
            "Alemania",
            "Germania",
            "Alemanha",
            "Duitsland",
            "BRD",
        ],
    ),
    (
        "DK",
        &["Danmark", "Dänemark", "Danemark", "Dinamarca", "Danimarca"],
    ),
    ("DZ", &["Algérie", "Algerien", "Argelia"]),
    ("EE", &["Eesti", "Estland", "Estonie"]),
    (
        "ES",
        &[
            "España", "Espagne", "Spanien", "Spagna", "Espanha", "Spanje",
        ],
    ),
    ("FI", &["Suomi", "Finnland", "Finlande", "Finlandia"]),
    (
        "FR",
        &[
            "République française",
            "Frankreich",
            "Francia",
            "França",
            "Frankrijk",
        ],
    ),
    (
        "GB",
        &[
            "UK",
            "U.K.",
            "Britain",
            "Wales",
            "Royaume-Uni",
            "Vereinigtes Königreich",
            "Großbritannien",
            "Reino Unido",
            "Regno Unito",
            "Verenigd Koninkrijk",
        ],
    ),
    (
        "GR",
        &["EL", "Hellas", "Ελλάδα", "Griechenland", "Grèce", "Grecia"],
    ),
    ("HR", &["Hrvatska", "Kroatien", "Croatie"]),
    ("HU", &["Magyarország", "Ungarn", "Hongrie", "Hungría"]),
    (
        "IE",
        &[
            "Republic of Ireland",
            "Éire",
            "Irland",
            "Irlande",
            "Irlanda",
        ],
    ),
    ("IN", &["Bharat", "Indien", "Inde"]),
    ("IS", &["Ísland", "Island"]),
    ("IT", &["Italia", "Italie", "Italien", "Itália", "Italië"]),
    (
        "JP",
        &["Nippon", "Nihon", "日本", "Japon", "Japón", "Giappone"],
    ),
    (
        "KR",
        &[
            "Korea",
            "Südkorea",
            "Corée du Sud",
            "Corea del Sur",
            "대한민국",
            "한국",
        ],
    ),
    ("LT", &["Lietuva", "Litauen", "Lituanie"]),
    ("LU", &["Luxemburg", "Lëtzebuerg", "Luxemburgo"]),
    ("LV", &["Latvija", "Lettland", "Lettonie"]),
    ("MA", &["Maroc", "Marokko", "Marruecos"]),
    ("MX", &["Mexiko", "Mexique", "Messico"]),
    (
        "NL",
        &[
            "Nederland",
            "Pays-Bas",
            "Niederlande",
            "Países Bajos",
            "Paesi Bassi",
            "Países Baixos",
        ],
    ),
    ("NO", &["Norge", "Noreg", "Norwegen", "Norvège", "Noruega"]),
    (
        "NZ",
        &[
            "Aotearoa",
            "Neuseeland",
            "Nouvelle-Zélande",
            "Nueva Zelanda",
        ],
    ),
    ("PE", &["Pérou"]),
    ("PL", &["Polska", "Pologne", "Polen", "Polonia"]),
    ("RO", &["Rumänien", "Roumanie", "Rumania"]),
    ("RS", &["Srbija", "Serbien", "Serbie"]),
    ("RU", &["Россия", "Russland", "Russie", "Rusia"]),
    (
        "SA",
        &["KSA", "Saudi-Arabien", "Arabie saoudite", "Arabia Saudita"],
    ),
    (
        "SE",
        &["Sverige", "Schweden", "Suède", "Suecia", "Svezia", "Zweden"],
    ),
    ("SI", &["Slovenija", "Slowenien", "Slovénie"]),
    ("SK", &["Slovensko", "Slowakei", "Slovaquie"]),
    ("TN", &["Tunisie", "Tunesien", "Túnez"]),
    (
        "TR",
        &["Türkiye", "Turkiye", "Türkei", "Turquie", "Turquía"],
    ),
    ("UA", &["Україна", "Ukraina"]),
    (
        "US",
        &[
            "Etats-Unis",
            "États-Unis",
            "Vereinigte Staaten",
            "Estados Unidos",
            "Stati Uniti",
            "EUA",
            "VS",
        ],
    ),
    ("ZA", &["RSA", "Südafrika", "Afrique du Sud", "Sudáfrica"]),
];

/// Folded alias -> alpha-2.
static ALIAS_INDEX: LazyLock<foldhash::HashMap<String, &'static str>> = LazyLock::new(|| {
    ALIASES
        .iter()
        .flat_map(|(a2, names)| names.iter().map(move |n| (fold(n), *a2)))
        .collect()
});

/// Answers remembered per thread, by the value as written: leads spell their countries in a few
/// hundred ways, so after warm-up a lookup is one hash instead of folding, the alias table and the
/// ISO crate's lookup. Bounded: emptied when full.
const MEMO_CAPACITY: usize = 1024;

thread_local! {
    static MEMO: RefCell<foldhash::HashMap<Box<str>, Option<&'static str>>> =
        RefCell::new(foldhash::HashMap::default());
}

/// The ISO alpha-2 code for a country name, alias, alpha-2, alpha-3 or numeric code, in any case and
/// with or without accents, dots, spaces or hyphens; `None` when the value is not recognised.
pub fn to_alpha2(value: &str) -> Option<&'static str> {
    if value.len() > MAX_INPUT_LEN {
        return None;
    }
    MEMO.with(|memo| {
        if let Some(known) = memo.borrow().get(value) {
            return *known;
        }
        let answer = resolve(value);
        let mut memo = memo.borrow_mut();
        if memo.len() >= MEMO_CAPACITY {
            memo.clear();
        }
        memo.insert(value.into(), answer);
        answer
    })
}

/// [`to_alpha2`] without the memo.
fn resolve(value: &str) -> Option<&'static str> {
    let key = fold(value);
    if key.is_empty() {
        return None;
    }
    if let Some(a2) = ALIAS_INDEX.get(&key) {
        return Some(a2);
    }
    from_iso(&key).or_else(|| key.strip_prefix("the").and_then(from_iso))
}

/// Whether `code` is an upper-case ISO 3166-1 alpha-2 code.
pub fn is_known_alpha2(code: &str) -> bool {
    code.len() == 2
        && code.bytes().all(|b| b.is_ascii_uppercase())
        && celes::Country::from_alpha2(code).is_ok()
}

/// `celes` knows codes, English names and aliases as lower-case keys without spaces.
fn from_iso(key: &str) -> Option<&'static str> {
    celes::Country::from_str(key).ok().map(|c| c.alpha2)
}

/// Lower-cases, strips accents of common Latin letters and drops dots, blanks, hyphens, underscores,
/// commas, apostrophes and parentheses, so "U.S.A.", "usa" and "Pays-Bas" / "pays bas" compare equal
/// (and match `celes`' keys such as "unitedkingdom").
fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.trim().chars().flat_map(char::to_lowercase) {
        let c = match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => 'a',
            'ç' => 'c',
            'è' | 'é' | 'ê' | 'ë' => 'e',
            'ì' | 'í' | 'î' | 'ï' => 'i',
            'ñ' => 'n',
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' => 'o',
            'ù' | 'ú' | 'û' | 'ü' => 'u',
            'ý' | 'ÿ' => 'y',
            'ß' => {
                out.push_str("ss");
                continue;
            }
            other => other,
        };
        if c.is_whitespace() || matches!(c, '.' | '-' | '_' | ',' | '\'' | '’' | '(' | ')') {
            continue;
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn names_aliases_and_codes_map_to_alpha2() {
        let cases = [
            // ISO codes (celes)
            ("fr", Some("FR")),
            ("FRA", Some("FR")),
            ("250", Some("FR")),
            ("gb", Some("GB")),
            ("DEU", Some("DE")),
            ("us", Some("US")),
            // English names and aliases (celes)
            ("France", Some("FR")),
            (" france ", Some("FR")),
            ("USA", Some("US")),
            ("united states of america", Some("US")),
            ("England", Some("GB")),
            ("United Kingdom", Some("GB")),
            ("the netherlands", Some("NL")),
            ("Holland", Some("NL")),
            ("Singapore", Some("SG")),
            ("Australia", Some("AU")),
            ("Czech Republic", Some("CZ")),
            ("Viet Nam", Some("VN")),
            ("Republic of Korea", Some("KR")),
            ("Russian Federation", Some("RU")),
            // Our aliases: abbreviations
            ("UK", Some("GB")),
            ("U.S.A.", Some("US")),
            ("UAE", Some("AE")),
            ("EL", Some("GR")),
            // German
            ("Deutschland", Some("DE")),
            ("Österreich", Some("AT")),
            ("Osterreich", Some("AT")),
            ("Schweiz", Some("CH")),
            ("Vereinigtes Königreich", Some("GB")),
            ("Großbritannien", Some("GB")),
            // French
            ("Allemagne", Some("DE")),
            ("Pays-Bas", Some("NL")),
            ("pays bas", Some("NL")),
            ("Royaume-Uni", Some("GB")),
            ("États-Unis", Some("US")),
            ("Côte d'Ivoire", Some("CI")),
            // Spanish, Italian, Portuguese, Dutch
            ("España", Some("ES")),
            ("Espana", Some("ES")),
            ("Estados Unidos", Some("US")),
            ("México", Some("MX")),
            ("Italia", Some("IT")),
            ("Regno Unito", Some("GB")),
            ("Brasil", Some("BR")),
            ("Nederland", Some("NL")),
            // Native scripts and names
            ("Türkiye", Some("TR")),
            ("日本", Some("JP")),
            ("中国", Some("CN")),
            ("Ελλάδα", Some("GR")),
            ("Россия", Some("RU")),
            ("대한민국", Some("KR")),
            ("Sverige", Some("SE")),
            // Not countries
            ("Narnia", None),
            ("", None),
            (" ", None),
            ("XX", None),
            ("...", None),
        ];
        for (input, want) in cases {
            assert_eq!(to_alpha2(input), want, "input {input:?}");
        }
        let long = "France".repeat(40);
        assert_eq!(to_alpha2(&long), None);
    }

    #[test]
    fn the_memo_answers_what_the_lookup_answers() {
        let mut inputs: Vec<String> = ALIASES
            .iter()
            .flat_map(|(a2, names)| names.iter().copied().chain([*a2]))
            .map(str::to_owned)
            .collect();
        for c in celes::Country::get_countries() {
            inputs.extend([c.long_name, c.alpha2, c.alpha3, c.code].map(str::to_owned));
            inputs.push(c.long_name.to_uppercase());
            inputs.push(format!("the {}", c.long_name));
        }
        inputs.extend(["", " ", "XX", "Narnia", "...", "u.s.a.", " france "].map(str::to_owned));
        for input in &inputs {
            let want = resolve(input);
            assert_eq!(to_alpha2(input), want, "{input:?}");
            assert_eq!(to_alpha2(input), want, "{input:?} again (memo)");
        }
    }

    #[test]
    fn the_memo_stays_bounded_and_right_when_emptied() {
        for i in 0..MEMO_CAPACITY + 10 {
            assert_eq!(to_alpha2(&format!("nowhere {i}")), None);
        }
        assert!(MEMO.with(|m| m.borrow().len()) <= MEMO_CAPACITY);
        assert_eq!(to_alpha2("Deutschland"), Some("DE"));
        assert_eq!(to_alpha2("Deutschland"), Some("DE"));
    }

    #[test]
    fn the_alias_table_holds_only_what_the_iso_crate_lacks() {
        let mut owner: HashMap<String, &str> = HashMap::new();
        let mut redundant = Vec::new();
        for (a2, names) in ALIASES {
            assert!(is_known_alpha2(a2), "{a2} is not an ISO alpha-2 code");
            for name in *names {
                let key = fold(name);
                if from_iso(&key)
                    .or_else(|| key.strip_prefix("the").and_then(from_iso))
                    .is_some()
                {
                    redundant.push(*name);
                }
                let previous = owner.insert(key, a2);
                assert!(
                    previous.is_none_or(|p| p == *a2),
                    "{name:?} names both {previous:?} and {a2}"
                );
            }
        }
        assert!(
            redundant.is_empty(),
            "known to the ISO crate already, drop from ALIASES: {redundant:?}"
        );
        assert!(is_known_alpha2("FR"));
        assert!(!is_known_alpha2("fr"));
        assert!(!is_known_alpha2("XX"));
    }
}
