//! Country names and codes -> ISO 3166-1 alpha-2 ("France", "fr", "FRA" -> "FR"; "UK" -> "GB").

use std::collections::HashMap;
use std::sync::LazyLock;

/// ISO alpha-2, ISO alpha-3, then English name and common aliases (native names, abbreviations).
const COUNTRIES: &[(&str, &str, &[&str])] = &[
    // European Union
    ("AT", "AUT", &["Austria", "Österreich", "Osterreich"]),
    ("BE", "BEL", &["Belgium", "Belgique", "België", "Belgien"]),
    ("BG", "BGR", &["Bulgaria"]),
    ("HR", "HRV", &["Croatia", "Hrvatska"]),
    ("CY", "CYP", &["Cyprus"]),
    (
        "CZ",
        "CZE",
        &["Czechia", "Czech Republic", "Česko", "Ceska republika"],
    ),
    ("DK", "DNK", &["Denmark", "Danmark"]),
    ("EE", "EST", &["Estonia", "Eesti"]),
    ("FI", "FIN", &["Finland", "Suomi"]),
    ("FR", "FRA", &["France", "République française"]),
    ("DE", "DEU", &["Germany", "Deutschland", "Allemagne"]),
    ("GR", "GRC", &["Greece", "Hellas", "Ελλάδα", "EL"]),
    ("HU", "HUN", &["Hungary", "Magyarország"]),
    (
        "IE",
        "IRL",
        &["Ireland", "Republic of Ireland", "Éire", "Eire"],
    ),
    ("IT", "ITA", &["Italy", "Italia", "Italie"]),
    ("LV", "LVA", &["Latvia", "Latvija"]),
    ("LT", "LTU", &["Lithuania", "Lietuva"]),
    ("LU", "LUX", &["Luxembourg", "Luxemburg"]),
    ("MT", "MLT", &["Malta"]),
    (
        "NL",
        "NLD",
        &[
            "Netherlands",
            "The Netherlands",
            "Nederland",
            "Holland",
            "Pays-Bas",
        ],
    ),
    ("PL", "POL", &["Poland", "Polska", "Pologne"]),
    ("PT", "PRT", &["Portugal"]),
    ("RO", "ROU", &["Romania", "România"]),
    ("SK", "SVK", &["Slovakia", "Slovensko", "Slovak Republic"]),
    ("SI", "SVN", &["Slovenia", "Slovenija"]),
    ("ES", "ESP", &["Spain", "España", "Espagne", "Spanien"]),
    ("SE", "SWE", &["Sweden", "Sverige", "Suède"]),
    // Rest of Europe
    (
        "GB",
        "GBR",
        &[
            "United Kingdom",
            "UK",
            "U.K.",
            "Great Britain",
            "Britain",
            "England",
            "Scotland",
            "Wales",
            "Northern Ireland",
            "United Kingdom of Great Britain and Northern Ireland",
            "Royaume-Uni",
        ],
    ),
    (
        "CH",
        "CHE",
        &[
            "Switzerland",
            "Schweiz",
            "Suisse",
            "Svizzera",
            "Swiss Confederation",
        ],
    ),
    ("NO", "NOR", &["Norway", "Norge", "Noreg"]),
    ("IS", "ISL", &["Iceland", "Ísland"]),
    ("LI", "LIE", &["Liechtenstein"]),
    ("MC", "MCO", &["Monaco"]),
    ("AD", "AND", &["Andorra"]),
    ("SM", "SMR", &["San Marino"]),
    ("RS", "SRB", &["Serbia", "Srbija"]),
    ("BA", "BIH", &["Bosnia and Herzegovina", "Bosnia"]),
    ("ME", "MNE", &["Montenegro"]),
    ("MK", "MKD", &["North Macedonia", "Macedonia"]),
    ("AL", "ALB", &["Albania"]),
    ("MD", "MDA", &["Moldova", "Republic of Moldova"]),
    ("UA", "UKR", &["Ukraine", "Україна"]),
    ("BY", "BLR", &["Belarus"]),
    ("RU", "RUS", &["Russia", "Russian Federation"]),
    ("TR", "TUR", &["Turkey", "Türkiye", "Turkiye"]),
    ("GE", "GEO", &["Georgia"]),
    ("AM", "ARM", &["Armenia"]),
    ("AZ", "AZE", &["Azerbaijan"]),
    // Americas
    (
        "US",
        "USA",
        &[
            "United States",
            "United States of America",
            "U.S.",
            "U.S.A.",
            "America",
            "Etats-Unis",
            "États-Unis",
        ],
    ),
    ("CA", "CAN", &["Canada"]),
    ("MX", "MEX", &["Mexico", "México"]),
    ("BR", "BRA", &["Brazil", "Brasil"]),
    ("AR", "ARG", &["Argentina"]),
    ("CL", "CHL", &["Chile"]),
    ("CO", "COL", &["Colombia"]),
    ("PE", "PER", &["Peru", "Perú"]),
    ("UY", "URY", &["Uruguay"]),
    ("EC", "ECU", &["Ecuador"]),
    ("VE", "VEN", &["Venezuela"]),
    ("CR", "CRI", &["Costa Rica"]),
    ("PA", "PAN", &["Panama", "Panamá"]),
    ("PR", "PRI", &["Puerto Rico"]),
    ("DO", "DOM", &["Dominican Republic"]),
    ("JM", "JAM", &["Jamaica"]),
    // Asia-Pacific
    ("AU", "AUS", &["Australia"]),
    ("NZ", "NZL", &["New Zealand", "Aotearoa"]),
    ("JP", "JPN", &["Japan", "Nippon", "日本"]),
    (
        "CN",
        "CHN",
        &["China", "People's Republic of China", "PRC", "中国"],
    ),
    ("HK", "HKG", &["Hong Kong", "Hong Kong SAR"]),
    ("TW", "TWN", &["Taiwan"]),
    (
        "KR",
        "KOR",
        &[
            "South Korea",
            "Korea",
            "Republic of Korea",
            "Korea, Republic of",
        ],
    ),
    ("SG", "SGP", &["Singapore"]),
    ("IN", "IND", &["India", "Bharat"]),
    ("ID", "IDN", &["Indonesia"]),
    ("MY", "MYS", &["Malaysia"]),
    ("TH", "THA", &["Thailand"]),
    ("VN", "VNM", &["Vietnam", "Viet Nam"]),
    ("PH", "PHL", &["Philippines"]),
    ("PK", "PAK", &["Pakistan"]),
    ("BD", "BGD", &["Bangladesh"]),
    ("LK", "LKA", &["Sri Lanka"]),
    ("NP", "NPL", &["Nepal"]),
    ("KZ", "KAZ", &["Kazakhstan"]),
    // Middle East and Africa
    (
        "AE",
        "ARE",
        &["United Arab Emirates", "UAE", "U.A.E.", "Emirates"],
    ),
    ("SA", "SAU", &["Saudi Arabia", "KSA"]),
    ("QA", "QAT", &["Qatar"]),
    ("KW", "KWT", &["Kuwait"]),
    ("BH", "BHR", &["Bahrain"]),
    ("OM", "OMN", &["Oman"]),
    ("IL", "ISR", &["Israel"]),
    ("JO", "JOR", &["Jordan"]),
    ("LB", "LBN", &["Lebanon"]),
    ("EG", "EGY", &["Egypt"]),
    ("MA", "MAR", &["Morocco", "Maroc"]),
    ("TN", "TUN", &["Tunisia", "Tunisie"]),
    ("DZ", "DZA", &["Algeria", "Algérie"]),
    ("ZA", "ZAF", &["South Africa", "RSA"]),
    ("NG", "NGA", &["Nigeria"]),
    ("KE", "KEN", &["Kenya"]),
    ("GH", "GHA", &["Ghana"]),
    ("SN", "SEN", &["Senegal", "Sénégal"]),
    (
        "CI",
        "CIV",
        &["Ivory Coast", "Côte d'Ivoire", "Cote d'Ivoire"],
    ),
    ("ET", "ETH", &["Ethiopia"]),
    ("RW", "RWA", &["Rwanda"]),
    ("MU", "MUS", &["Mauritius"]),
];

/// Folded lookup key -> alpha-2.
static INDEX: LazyLock<HashMap<String, &'static str>> = LazyLock::new(|| {
    let mut m = HashMap::new();
    for (alpha2, alpha3, names) in COUNTRIES {
        m.insert(fold(alpha2), *alpha2);
        m.insert(fold(alpha3), *alpha2);
        for name in *names {
            m.insert(fold(name), *alpha2);
        }
    }
    m
});

/// The ISO alpha-2 code for a country name, alias, alpha-2 or alpha-3 code in any case; `None` when
/// the value is not recognised.
pub fn to_alpha2(value: &str) -> Option<&'static str> {
    let key = fold(value);
    if key.is_empty() {
        return None;
    }
    INDEX.get(&key).copied().or_else(|| {
        // "The Netherlands" vs "Netherlands", "Republic of Korea" handled by the table; also accept
        // a leading "the ".
        key.strip_prefix("the ")
            .and_then(|rest| INDEX.get(rest).copied())
    })
}

/// Whether `code` is an alpha-2 code this table knows.
pub fn is_known_alpha2(code: &str) -> bool {
    COUNTRIES.iter().any(|(a2, _, _)| *a2 == code)
}

/// Lower-cases, strips accents of common Latin letters, drops dots, and collapses whitespace and
/// hyphens so "U.S.A.", "usa" and "Pays-Bas" / "pays bas" compare equal.
fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
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
            '’' => '\'',
            other => other,
        };
        if c == '.' {
            continue;
        }
        if c.is_whitespace() || c == '-' || c == '_' || c == ',' {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_aliases_and_codes_map_to_alpha2() {
        let cases = [
            ("France", Some("FR")),
            ("fr", Some("FR")),
            ("FRA", Some("FR")),
            ("  france ", Some("FR")),
            ("USA", Some("US")),
            ("U.S.A.", Some("US")),
            ("United States", Some("US")),
            ("united states of america", Some("US")),
            ("us", Some("US")),
            ("UK", Some("GB")),
            ("England", Some("GB")),
            ("Great Britain", Some("GB")),
            ("gb", Some("GB")),
            ("Deutschland", Some("DE")),
            ("DEU", Some("DE")),
            ("España", Some("ES")),
            ("Espana", Some("ES")),
            ("Pays-Bas", Some("NL")),
            ("the netherlands", Some("NL")),
            ("Holland", Some("NL")),
            ("Österreich", Some("AT")),
            ("Türkiye", Some("TR")),
            ("Côte d'Ivoire", Some("CI")),
            ("South Korea", Some("KR")),
            ("UAE", Some("AE")),
            ("Singapore", Some("SG")),
            ("Australia", Some("AU")),
            ("Narnia", None),
            ("", None),
            ("   ", None),
            ("XX", None),
        ];
        for (input, want) in cases {
            assert_eq!(to_alpha2(input), want, "input {input:?}");
        }
    }

    #[test]
    fn every_table_entry_is_consistent() {
        let mut seen = std::collections::HashSet::new();
        for (a2, a3, _) in COUNTRIES {
            assert_eq!(a2.len(), 2, "{a2}");
            assert_eq!(a3.len(), 3, "{a3}");
            assert!(a2.chars().all(|c| c.is_ascii_uppercase()), "{a2}");
            assert!(seen.insert(*a2), "duplicate {a2}");
            assert_eq!(to_alpha2(a2), Some(*a2));
            assert_eq!(to_alpha2(a3), Some(*a2));
        }
        // No alias may name two countries.
        let mut owner: std::collections::HashMap<String, &str> = std::collections::HashMap::new();
        for (a2, a3, names) in COUNTRIES {
            for key in [*a2, *a3].into_iter().chain(names.iter().copied()) {
                let previous = owner.insert(fold(key), a2);
                assert!(
                    previous.is_none_or(|p| p == *a2),
                    "{key:?} names both {previous:?} and {a2}"
                );
            }
        }
        assert!(is_known_alpha2("FR"));
        assert!(!is_known_alpha2("fr"));
    }
}
