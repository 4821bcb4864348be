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

/// Cleans a person's name and fixes its capitalisation when it was typed all in one case
/// ("ADA" / "ada" -> "Ada", "jean-luc o'brien" -> "Jean-Luc O'Brien"). Mixed-case input is kept as
/// typed ("McDonald", "DeVito", "van Dijk"), since the person probably wrote it that way on purpose.
pub fn normalise_person_name(raw: Option<&str>) -> Option<String> {
    let cleaned = clean_text(raw)?;
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
