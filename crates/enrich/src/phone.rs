//! Phone numbers -> E.164 (RULES.md §5) with the `phonenumber` crate, a port of Google's
//! libphonenumber with its metadata compiled in.
//!
//! A number written with its country code (`+33 1 23 45 67 89`, `0033 1 ...`) needs no region; a
//! national number (`01 23 45 67 89`, `(415) 555-0132`) is read in the lead's region: the contact's
//! country, else the company's. A number that cannot be read, or that is not a valid number of its
//! region, is a problem the caller turns into a warning: it never rejects a lead.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{LazyLock, Mutex, Once, PoisonError};

use phonenumber::Mode;

/// Longest input looked at (bytes): E.164 has at most 15 digits; leave room for spacing, an
/// extension and a `tel:` prefix.
pub const MAX_INPUT_LEN: usize = 64;

/// Why a phone number was not normalised. Messages never repeat the number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PhoneProblem {
    #[error("is longer than 64 characters")]
    TooLong,
    #[error("has no country code and the lead has no country to read it in")]
    NoRegion,
    #[error("could not be read as a phone number")]
    Unparsable,
    #[error("is not a valid number for its country")]
    Invalid,
}

/// Compiled patterns the phone metadata keeps. The crate's default (100) is smaller than the patterns
/// one country code can need (+1 alone spans 25 regions), so every parse would recompile regexes:
/// ~40 µs a number instead of a few. Only patterns of the regions actually seen are compiled.
const REGEX_CACHE_CAPACITY: usize = 4096;

static ENLARGE_CACHE: Once = Once::new();

/// Results remembered (the same number in the same region always gives the same answer): a repeat
/// lead, a redelivered or replayed record, a number shared by a switchboard skips the ~20 µs parse.
/// Bounded: the memory is emptied when full (at most ~2 MB).
const MEMO_CAPACITY: usize = 16_384;

/// Keyed by [`memo_key`]: the region and the raw text in one string, so a lookup builds its key on the
/// stack instead of allocating two strings.
type Memo = HashMap<String, Result<String, PhoneProblem>>;

static MEMO: LazyLock<Mutex<Memo>> = LazyLock::new(|| Mutex::new(HashMap::new()));

/// The E.164 form (`+33123456789`) of `raw`, read in `region` (ISO alpha-2) when it has no country
/// code. Extensions are dropped (E.164 has none).
pub fn to_e164(raw: &str, region: Option<&str>) -> Result<String, PhoneProblem> {
    if raw.len() > MAX_INPUT_LEN {
        return Err(PhoneProblem::TooLong);
    }
    let mut buf = [0u8; MEMO_KEY_MAX];
    let Some(key) = memo_key(raw, region, &mut buf) else {
        return parse_e164(raw, region);
    };
    if let Some(known) = MEMO.lock().unwrap_or_else(PoisonError::into_inner).get(key) {
        return known.clone();
    }
    let result = parse_e164(raw, region);
    let mut memo = MEMO.lock().unwrap_or_else(PoisonError::into_inner);
    if memo.len() >= MEMO_CAPACITY {
        memo.clear();
    }
    memo.insert(key.to_owned(), result.clone());
    result
}

/// Longest memo key: a region of up to 15 bytes and a raw number of up to [`MAX_INPUT_LEN`].
const MEMO_KEY_MAX: usize = 1 + 15 + MAX_INPUT_LEN;

/// The memo key of (`raw`, `region`), written into `buf`: one byte saying which region follows (`-`
/// for none, `'0' + length` for one), the region, then the raw text; unambiguous since the first
/// byte gives the region's length. `None` (not memoised) for a region longer than 15 bytes.
fn memo_key<'b>(
    raw: &str,
    region: Option<&str>,
    buf: &'b mut [u8; MEMO_KEY_MAX],
) -> Option<&'b str> {
    let (tag, region) = match region {
        None => (b'-', ""),
        Some(r) if r.len() <= 15 => (b'0' + u8::try_from(r.len()).ok()?, r),
        Some(_) => return None,
    };
    let len = 1 + region.len() + raw.len();
    let out = buf.get_mut(..len)?;
    out[0] = tag;
    out[1..=region.len()].copy_from_slice(region.as_bytes());
    out[1 + region.len()..].copy_from_slice(raw.as_bytes());
    std::str::from_utf8(out).ok()
}

fn parse_e164(raw: &str, region: Option<&str>) -> Result<String, PhoneProblem> {
    ENLARGE_CACHE.call_once(|| {
        let cache = phonenumber::metadata::DATABASE.cache();
        let mut guard = cache.lock().unwrap_or_else(PoisonError::into_inner);
        *guard = regex_cache::RegexCache::new(REGEX_CACHE_CAPACITY);
    });
    let raw = raw.trim();
    let region = region.and_then(|r| phonenumber::country::Id::from_str(r).ok());
    let international = raw.starts_with('+') || raw.starts_with("00") || raw.starts_with("tel:");
    if region.is_none() && !international {
        return Err(PhoneProblem::NoRegion);
    }
    let number = phonenumber::parse(region, raw).map_err(|_| PhoneProblem::Unparsable)?;
    if !phonenumber::is_valid(&number) {
        return Err(PhoneProblem::Invalid);
    }
    let e164 = number.format().mode(Mode::E164).to_string();
    // What enrich writes must be accepted as it is when read back (by the CRM, by a later enrich):
    // libphonenumber can accept a number through a region's national rules that it rejects in the
    // E.164 form it prints (found by fuzzing: "+7.85 79400 700" with region OM).
    let reparsed = phonenumber::parse(None, &e164).map_err(|_| PhoneProblem::Invalid)?;
    if !phonenumber::is_valid(&reparsed) || reparsed.format().mode(Mode::E164).to_string() != e164 {
        return Err(PhoneProblem::Invalid);
    }
    Ok(e164)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the normalisers fuzz target (fuzz/findings/normalisers-phone-not-idempotent): a
    /// number accepted for a region must come out in a form that is accepted again as it is.
    #[test]
    fn what_is_written_is_accepted_when_read_back() {
        for (raw, region) in [
            ("+7.85 79400 700", Some("OM")),
            ("+44 20 7946 0958", None),
            ("030 901820", Some("DE")),
        ] {
            if let Ok(e164) = to_e164(raw, region) {
                assert_eq!(to_e164(&e164, None).as_deref(), Ok(e164.as_str()), "{raw}");
            }
        }
        assert_eq!(
            to_e164("+7.85 79400 700", Some("OM")),
            Err(PhoneProblem::Invalid)
        );
    }

    #[test]
    fn memo_keys_tell_regions_and_numbers_apart() {
        let key = |raw: &str, region: Option<&str>| {
            let mut buf = [0u8; MEMO_KEY_MAX];
            memo_key(raw, region, &mut buf).map(str::to_owned)
        };
        let keys = [
            key("12345", None),
            key("12345", Some("")),
            key("12345", Some("FR")),
            key("FR12345", None),
            key("R12345", Some("F")),
            key("012345", Some("FR")),
        ];
        for (i, a) in keys.iter().enumerate() {
            assert!(a.is_some(), "{i}");
            for b in &keys[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert_eq!(key("1", Some(&"X".repeat(16))), None);
        assert!(key(&"1".repeat(MAX_INPUT_LEN), Some(&"X".repeat(15))).is_some());
    }

    #[test]
    fn numbers_of_several_countries_with_and_without_a_national_prefix() {
        let cases: &[(&str, Option<&str>, Result<&str, PhoneProblem>)] = &[
            // France: international, national with trunk prefix 0, IDD 00
            ("+33 1 23 45 67 89", None, Ok("+33123456789")),
            ("+33 (0)1 23 45 67 89", None, Ok("+33123456789")),
            ("01 23 45 67 89", Some("FR"), Ok("+33123456789")),
            ("0033 1 23 45 67 89", Some("FR"), Ok("+33123456789")),
            ("06.12.34.56.78", Some("FR"), Ok("+33612345678")),
            // United States / Canada: no trunk prefix, 1 as country code
            ("(415) 555-0132", Some("US"), Ok("+14155550132")),
            ("1-415-555-0132", Some("US"), Ok("+14155550132")),
            ("+1 415 555 0132 ext. 12", None, Ok("+14155550132")),
            ("tel:+1-613-555-0199", None, Ok("+16135550199")),
            // United Kingdom: trunk 0 dropped after the country code
            ("020 7946 0018", Some("GB"), Ok("+442079460018")),
            ("+44 (0)20 7946 0018", None, Ok("+442079460018")),
            ("07911 123456", Some("GB"), Ok("+447911123456")),
            // Germany
            ("030 12345678", Some("DE"), Ok("+493012345678")),
            ("+49 30 12345678", Some("FR"), Ok("+493012345678")),
            // Japan, India, Brazil, Australia
            ("03-1234-5678", Some("JP"), Ok("+81312345678")),
            ("+91 98765 43210", None, Ok("+919876543210")),
            ("(11) 91234-5678", Some("BR"), Ok("+5511912345678")),
            ("02 9876 5432", Some("AU"), Ok("+61298765432")),
            // Problems
            ("01 23 45 67 89", None, Err(PhoneProblem::NoRegion)),
            ("call me", Some("FR"), Err(PhoneProblem::Unparsable)),
            ("12", Some("FR"), Err(PhoneProblem::Invalid)),
            ("+33 1 23", None, Err(PhoneProblem::Invalid)),
            ("555-0000", Some("ZZ"), Err(PhoneProblem::NoRegion)),
        ];
        for (raw, region, want) in cases {
            let got = to_e164(raw, *region);
            assert_eq!(
                got.as_deref().map_err(|e| *e),
                *want,
                "{raw:?} in {region:?}"
            );
        }
        let long = "1".repeat(MAX_INPUT_LEN + 1);
        assert_eq!(to_e164(&long, Some("US")), Err(PhoneProblem::TooLong));
    }
}
