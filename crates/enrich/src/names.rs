//! Text clean-up for people's names, titles and company names.

/// Name particles kept lower-case when they are not the first word ("Ludwig van Beethoven").
const PARTICLES: &[&str] = &[
    "van", "von", "der", "den", "de", "du", "des", "da", "di", "del", "della", "la", "le", "y",
    "zu", "ter", "ten", "dos", "das",
];

/// Trims and collapses inner whitespace; `None` when nothing is left.
pub fn clean_text(raw: Option<&str>) -> Option<String> {
    let words: Vec<&str> = raw?.split_whitespace().collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// [`clean_text`] on an owned value: returned as it is, without a copy, when it is already clean (no
/// leading, trailing or repeated whitespace, no whitespace but single spaces).
pub fn clean_owned(raw: Option<String>) -> Option<String> {
    let s = raw?;
    if is_clean(&s) {
        Some(s)
    } else {
        clean_text(Some(&s))
    }
}

/// Whether [`clean_text`] would return `s` unchanged.
fn is_clean(s: &str) -> bool {
    if s.is_ascii() {
        return is_clean_ascii(s.as_bytes());
    }
    let mut after_space = true;
    for c in s.chars() {
        if c.is_whitespace() {
            if c != ' ' || after_space {
                return false;
            }
            after_space = true;
        } else {
            after_space = false;
        }
    }
    !after_space
}

/// [`is_clean`] for ASCII, by bytes: ASCII's whitespace is `\t`..=`\r` and the space.
fn is_clean_ascii(s: &[u8]) -> bool {
    let mut after_space = true;
    for &b in s {
        if matches!(b, b'\t'..=b'\r' | b' ') {
            if b != b' ' || after_space {
                return false;
            }
            after_space = true;
        } else {
            after_space = false;
        }
    }
    !after_space
}

/// [`normalise_person_name`] on an owned value (no copy when nothing changes).
pub fn normalise_person_name_owned(raw: Option<String>) -> Option<String> {
    recase(clean_owned(raw)?)
}

/// Cleans a person's name and fixes its capitalisation when it was typed all in one case
/// ("ADA" / "ada" -> "Ada", "jean-luc o'brien" -> "Jean-Luc O'Brien"). Mixed-case input is kept as
/// typed ("McDonald", "DeVito", "van Dijk"), since the person probably wrote it that way on purpose.
pub fn normalise_person_name(raw: Option<&str>) -> Option<String> {
    recase(clean_text(raw)?)
}

fn recase(cleaned: String) -> Option<String> {
    if cleaned.is_ascii() {
        let bytes = cleaned.as_bytes();
        if bytes.iter().any(u8::is_ascii_lowercase) && bytes.iter().any(u8::is_ascii_uppercase) {
            return Some(cleaned);
        }
        return Some(recase_ascii_owned(cleaned));
    }
    let has_lower = cleaned.chars().any(char::is_lowercase);
    let has_upper = cleaned.chars().any(char::is_uppercase);
    if has_lower && has_upper {
        return Some(cleaned);
    }
    let words: Vec<String> = cleaned
        .split(' ')
        .enumerate()
        .map(|(i, word)| {
            let lower = word.to_lowercase();
            if i > 0 && PARTICLES.contains(&lower.as_str()) {
                lower
            } else {
                capitalise_word(&lower)
            }
        })
        .collect();
    Some(words.join(" "))
}

/// What the general path gives for an ASCII name, written into one string: each word lower-cased,
/// then (unless it is a particle after the first word) its first letter and every letter after a
/// hyphen or apostrophe upper-cased. (Used by [`recase_ascii_owned`]'s test as the reference.)
#[cfg(test)]
fn recase_ascii(cleaned: &str) -> String {
    let mut out = String::with_capacity(cleaned.len());
    for (i, word) in cleaned.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let start = out.len();
        out.extend(word.bytes().map(|b| char::from(b.to_ascii_lowercase())));
        if i > 0 && PARTICLES.contains(&&out[start..]) {
            continue;
        }
        let mut capital = true;
        for j in start..out.len() {
            let b = out.as_bytes()[j];
            if capital && b.is_ascii_alphabetic() {
                if let Some(letter) = out.get_mut(j..=j) {
                    letter.make_ascii_uppercase();
                }
                capital = false;
            } else if matches!(b, b'-' | b'\'') {
                capital = true;
            }
        }
    }
    out
}

/// [`recase_ascii`] in the string's own buffer (no second string): the same bytes.
fn recase_ascii_owned(cleaned: String) -> String {
    let mut bytes = cleaned.into_bytes();
    bytes.make_ascii_lowercase();
    for (i, word) in bytes.split_mut(|b| *b == b' ').enumerate() {
        if i > 0 && PARTICLES.iter().any(|p| p.as_bytes() == &word[..]) {
            continue;
        }
        let mut capital = true;
        for b in word.iter_mut() {
            if capital && b.is_ascii_alphabetic() {
                b.make_ascii_uppercase();
                capital = false;
            } else if matches!(*b, b'-' | b'\'') {
                capital = true;
            }
        }
    }
    // only ASCII bytes were changed, into ASCII bytes: still UTF-8
    match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

/// Upper-cases the first letter and every letter after a hyphen or apostrophe.
fn capitalise_word(lower: &str) -> String {
    let mut out = String::with_capacity(lower.len());
    let mut start = true;
    for c in lower.chars() {
        if start && c.is_alphabetic() {
            out.extend(c.to_uppercase());
            start = false;
        } else {
            out.push(c);
            if matches!(c, '-' | '\'' | '’') {
                start = true;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `recase` as it was before the ASCII case test by bytes.
    fn recase_by_chars(cleaned: String) -> Option<String> {
        let has_lower = cleaned.chars().any(char::is_lowercase);
        let has_upper = cleaned.chars().any(char::is_uppercase);
        if has_lower && has_upper {
            return Some(cleaned);
        }
        if cleaned.is_ascii() {
            return Some(recase_ascii(&cleaned));
        }
        recase(cleaned)
    }

    proptest::proptest! {
        #[test]
        fn recasing_in_place_gives_what_the_copy_gives(s in "[aZé' -]{0,6}( (de|van|LA|y|x-y|O'b)?[aZ' -]{0,5}){0,3}") {
            if s.is_ascii() {
                proptest::prop_assert_eq!(recase_ascii_owned(s.clone()), recase_ascii(&s));
            }
        }

        #[test]
        fn the_byte_checks_agree_with_the_char_ones(s in "[aZ'\\- \t\n\r\x0b\x0c\u{a0}\u{85}é]{0,12}") {
            proptest::prop_assert_eq!(is_clean(&s), clean_text(Some(&s)).as_deref() == Some(s.as_str()));
            proptest::prop_assert_eq!(recase(s.clone()), recase_by_chars(s));
        }
    }

    #[test]
    fn owned_variants_and_the_ascii_path_agree_with_the_general_ones() {
        let inputs = [
            "ada",
            "  ADA  ",
            "Ada",
            "jean-luc",
            "o'brien",
            "MCDONALD",
            "van dijk",
            "ludwig van beethoven",
            "DE LA CRUZ",
            "josé   maría",
            "ÉLODIE",
            "   ",
            "",
            "a\tb",
            "x\u{a0}y",
            "1st-2nd",
            "-ann",
            "o''neil",
            "VON",
            "le",
            "ana  le  DU",
            "d'ARTAGNAN",
        ];
        for input in inputs {
            assert_eq!(
                clean_owned(Some(input.to_owned())),
                clean_text(Some(input)),
                "{input:?}"
            );
            assert_eq!(
                normalise_person_name_owned(Some(input.to_owned())),
                normalise_person_name(Some(input)),
                "{input:?}"
            );
            let words: Vec<String> = input
                .split_whitespace()
                .enumerate()
                .map(|(i, word)| {
                    let lower = word.to_lowercase();
                    if i > 0 && PARTICLES.contains(&lower.as_str()) {
                        lower
                    } else {
                        capitalise_word(&lower)
                    }
                })
                .collect();
            if input.is_ascii() && !input.trim().is_empty() {
                assert_eq!(
                    recase_ascii(&words.join(" ").to_lowercase()),
                    words.join(" "),
                    "{input:?}"
                );
            }
        }
        assert_eq!(clean_owned(None), None);
    }

    #[test]
    fn person_names() {
        let cases = [
            (Some("ada"), Some("Ada")),
            (Some("  ADA  "), Some("Ada")),
            (Some("Ada"), Some("Ada")),
            (Some("jean-luc"), Some("Jean-Luc")),
            (Some("o'brien"), Some("O'Brien")),
            (Some("MCDONALD"), Some("Mcdonald")),
            (Some("McDonald"), Some("McDonald")),
            (Some("van dijk"), Some("Van Dijk")),
            (Some("ludwig van beethoven"), Some("Ludwig van Beethoven")),
            (Some("DE LA CRUZ"), Some("De la Cruz")),
            (Some("josé   maría"), Some("José María")),
            (Some("ÉLODIE"), Some("Élodie")),
            (Some("   "), None),
            (Some(""), None),
            (None, None),
        ];
        for (raw, want) in cases {
            assert_eq!(normalise_person_name(raw).as_deref(), want, "{raw:?}");
        }
    }

    #[test]
    fn text_is_trimmed_and_collapsed() {
        assert_eq!(
            clean_text(Some("  VP   Engineering \t")).as_deref(),
            Some("VP Engineering")
        );
        assert_eq!(clean_text(Some(" \n ")), None);
        assert_eq!(clean_text(None), None);
    }
}
