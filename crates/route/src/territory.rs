//! Territories: ISO country codes and the region names a roster may use instead.

/// Region names and the ISO 3166-1 alpha-2 codes they cover.
pub const REGIONS: [(&str, &[&str]); 8] = [
    ("NA", &["US", "CA"]),
    (
        "LATAM",
        &["MX", "BR", "AR", "CL", "CO", "PE", "UY", "CR", "PA", "EC"],
    ),
    ("UKI", &["GB", "IE"]),
    ("DACH", &["DE", "AT", "CH", "LI"]),
    ("BENELUX", &["BE", "NL", "LU"]),
    ("NORDICS", &["SE", "NO", "DK", "FI", "IS"]),
    (
        "APAC",
        &[
            "AU", "NZ", "JP", "CN", "HK", "TW", "KR", "SG", "IN", "ID", "MY", "TH", "VN", "PH",
        ],
    ),
    (
        "EMEA",
        &[
            "GB", "IE", "FR", "DE", "AT", "CH", "LI", "BE", "NL", "LU", "SE", "NO", "DK", "FI",
            "IS", "ES", "PT", "IT", "PL", "CZ", "SK", "HU", "RO", "BG", "GR", "EE", "LV", "LT",
            "SI", "HR", "RS", "UA", "TR", "IL", "AE", "SA", "QA", "EG", "MA", "NG", "KE", "ZA",
            "MT", "CY",
        ],
    ),
];

/// Every territory name a roster may use: `GLOBAL`, a region, or a two-letter country code.
pub fn is_valid(territory: &str) -> bool {
    let t = territory.trim().to_ascii_uppercase();
    t == "GLOBAL"
        || REGIONS.iter().any(|(r, _)| *r == t)
        || (t.len() == 2 && t.chars().all(|c| c.is_ascii_uppercase()))
}

/// Whether a rep with `territories` covers a lead from `country`. An empty list or `GLOBAL` covers
/// everything; a lead whose country is unknown is covered by every rep (it cannot be excluded on
/// data we do not have).
pub fn covers(territories: &[String], country: Option<&str>) -> bool {
    let Some(country) = country else {
        return true;
    };
    if territories.is_empty() {
        return true;
    }
    territories.iter().any(|t| {
        t.eq_ignore_ascii_case("GLOBAL")
            || t.eq_ignore_ascii_case(country)
            || REGIONS.iter().any(|(r, members)| {
                t.eq_ignore_ascii_case(r) && members.iter().any(|m| m.eq_ignore_ascii_case(country))
            })
    })
}

/// The countries `territories` cover, as upper-case two-letter codes; `None` = every country
/// (empty list or `GLOBAL`).
pub fn expand(territories: &[String]) -> Option<Vec<[u8; 2]>> {
    if territories.is_empty() || territories.iter().any(|t| t.eq_ignore_ascii_case("GLOBAL")) {
        return None;
    }
    let mut codes = Vec::new();
    let mut push = |c: &str| {
        let b = c.as_bytes();
        if b.len() == 2 {
            let code = [b[0].to_ascii_uppercase(), b[1].to_ascii_uppercase()];
            if !codes.contains(&code) {
                codes.push(code);
            }
        }
    };
    for t in territories {
        match REGIONS.iter().find(|(r, _)| t.eq_ignore_ascii_case(r)) {
            Some((_, members)) => members.iter().for_each(|m| push(m)),
            None => push(t),
        }
    }
    Some(codes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countries_regions_and_unknowns() {
        let emea = vec!["EMEA".to_owned()];
        assert!(covers(&emea, Some("FR")));
        assert!(covers(&emea, Some("gb")));
        assert!(!covers(&emea, Some("US")));
        assert!(covers(&["US".into(), "CA".into()], Some("CA")));
        assert!(covers(&[], Some("IN")));
        assert!(covers(&["GLOBAL".into()], Some("IN")));
        assert!(covers(&emea, None));
        assert!(is_valid("dach") && is_valid("FR") && !is_valid("France"));
        // the precomputed form answers the same
        for t in [
            vec![],
            vec!["EMEA".to_owned()],
            vec!["us".to_owned(), "DACH".to_owned()],
            vec!["GLOBAL".to_owned()],
        ] {
            let codes = expand(&t);
            for c in ["FR", "US", "at", "IN", "CA"] {
                let fast = codes.as_ref().is_none_or(|v| {
                    v.contains(&[
                        c.as_bytes()[0].to_ascii_uppercase(),
                        c.as_bytes()[1].to_ascii_uppercase(),
                    ])
                });
                assert_eq!(fast, covers(&t, Some(c)), "{t:?} {c}");
            }
        }
    }
}
