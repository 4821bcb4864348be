//! JSON Schema's `pattern` keyword is an ECMA-262 regular expression, and the published schemas are
//! what senders (and schemathesis) check their requests against. Rust's `regex` reads the same text
//! differently in its class escapes: `\s` is Unicode's White_Space (which has U+0085 NEL and lacks
//! U+FEFF), `\d` and `\w` take every script's digits and letters. So a request valid by the
//! published schema could be refused here (found by schemathesis: a visitor id of "\u{85}" against
//! `\S`). [`to_rust`] rewrites those escapes to ECMA-262's sets before compiling a pattern, and
//! [`is_blank`] is "only ECMA-262 white space" for the handlers that check the same rule in code.

/// ECMA-262 `WhiteSpace` and `LineTerminator` (the set `\s` matches), as a `regex` class body.
const SPACE: &str = r"\t\n\x0B\x0C\r \x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}\x{FEFF}";

/// Whether ECMA-262's `\s` matches `c`.
pub fn is_ecma_whitespace(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{B}' | '\u{C}' | '\r' | ' ' | '\u{A0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200A}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202F}'
                | '\u{205F}'
                | '\u{3000}'
                | '\u{FEFF}'
    )
}

/// Whether `text` has no character a JSON-schema `\S` would match (empty included).
pub fn is_blank(text: &str) -> bool {
    text.chars().all(is_ecma_whitespace)
}

/// An ECMA-262 pattern as a `regex` pattern with the same meaning for `\s \S \d \D \w \W` (inside
/// a character class too: `regex` nests classes). Other syntax is passed through unchanged.
pub fn to_rust(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('s') => {
                out.push('[');
                out.push_str(SPACE);
                out.push(']');
            }
            Some('S') => {
                out.push_str("[^");
                out.push_str(SPACE);
                out.push(']');
            }
            Some('d') => out.push_str("[0-9]"),
            Some('D') => out.push_str("[^0-9]"),
            Some('w') => out.push_str("[0-9A-Za-z_]"),
            Some('W') => out.push_str("[^0-9A-Za-z_]"),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn matches(pattern: &str, text: &str) -> bool {
        regex::Regex::new(&to_rust(pattern)).unwrap().is_match(text)
    }

    #[test]
    fn non_space_means_what_ecma_262_says() {
        // NEL is white space to Unicode (and to Rust's \s), not to ECMA-262
        assert!(matches(r"\S", "\u{85}"));
        assert!(!regex::Regex::new(r"\S").unwrap().is_match("\u{85}"));
        // BOM is white space to ECMA-262, not to Unicode
        assert!(!matches(r"\S", "\u{FEFF}"));
        assert!(!matches(r"\S", " \t\u{A0}\u{3000}\u{2028}"));
        assert!(matches(r"\S", "  lead-1 "));
        assert!(!matches(r"\S", ""));
    }

    #[test]
    fn digits_and_word_characters_are_ascii() {
        assert!(matches(r"^\d+$", "2026"));
        assert!(!matches(r"^\d+$", "٢٠٢٦"));
        assert!(matches(r"^\w+$", "lead_1"));
        assert!(!matches(r"^\w+$", "lëad"));
        assert!(matches(r"^\D\W$", "a-"));
    }

    #[test]
    fn escapes_inside_classes_and_other_syntax_survive() {
        assert!(matches(r"^[\s\d]+$", "1 2\u{FEFF}"));
        assert!(!matches(r"^[\s\d]+$", "1\u{85}"));
        assert!(matches(r"^[^\S]$", " "));
        assert!(matches(r"^[!-~]{1,255}$", "abc"));
        assert!(matches(r"^a\.b\\s$", r"a.b\s"));
        assert!(matches(r"^[a-z0-9_-]{1,64}$", "chat-1"));
    }

    #[test]
    fn blank_is_ecma_white_space_only() {
        assert!(is_blank(""));
        assert!(is_blank(" \t\u{FEFF}\u{3000}"));
        assert!(!is_blank("\u{85}"));
        assert!(!is_blank(" x "));
        for c in [' ', '\u{85}', '\u{FEFF}', '\u{2003}', 'a'] {
            assert_eq!(
                is_blank(&c.to_string()),
                !matches(r"\S", &c.to_string()),
                "{c:?}"
            );
        }
    }
}
