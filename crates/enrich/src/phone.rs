//! Phone numbers -> E.164 (RULES.md §5) with the `phonenumber` crate, a port of Google's
//! libphonenumber with its metadata compiled in.
//!
//! A number written with its country code (`+33 1 23 45 67 89`, `0033 1 ...`) needs no region; a
//! national number (`01 23 45 67 89`, `(415) 555-0132`) is read in the lead's region: the contact's
//! country, else the company's. A number that cannot be read, or that is not a valid number of its
//! region, is a problem the caller turns into a warning: it never rejects a lead.

use std::str::FromStr;
use std::sync::{LazyLock, Mutex, MutexGuard, Once, PoisonError};

use phonenumber::{Mode, PhoneNumber};

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
/// one country code can need (+1 alone spans 25 regions), so every parse would recompile regexes.
/// Only patterns of the regions actually seen are compiled.
const REGEX_CACHE_CAPACITY: usize = 4096;

static ENLARGE_CACHE: Once = Once::new();

/// Results remembered (the same number in the same region always gives the same answer): a repeat
/// lead, a redelivered or replayed record, a number shared by a switchboard skips the parse.
/// Bounded: the memory is emptied when full (at most ~2 MB).
const MEMO_CAPACITY: usize = 16_384;

/// Keyed by [`memo_key`]: the region and the raw text in one string, so a lookup builds its key on the
/// stack instead of allocating two strings. foldhash: the keys are bounded (at most
/// [`MEMO_KEY_MAX`] bytes, at most [`MEMO_CAPACITY`] of them), so SipHash's resistance to chosen keys
/// buys nothing.
type Memo = foldhash::HashMap<String, Result<String, PhoneProblem>>;

static MEMO: LazyLock<Mutex<Memo>> = LazyLock::new(|| Mutex::new(Memo::default()));

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
    if let Some(known) = memo().get(key) {
        return known.clone();
    }
    let result = parse_e164(raw, region);
    remember(key, &result);
    if let Ok(e164) = &result {
        // The number as written back is accepted as it is (`parse_e164` checked it): a later lead
        // with the normalised number hits the memo.
        let mut buf = [0u8; MEMO_KEY_MAX];
        if let Some(key) = memo_key(e164, None, &mut buf) {
            remember(key, &result);
        }
    }
    result
}

fn memo() -> MutexGuard<'static, Memo> {
    MEMO.lock().unwrap_or_else(PoisonError::into_inner)
}

fn remember(key: &str, result: &Result<String, PhoneProblem>) {
    let mut memo = memo();
    if memo.len() >= MEMO_CAPACITY {
        memo.clear();
    }
    if !memo.contains_key(key) {
        memo.insert(key.to_owned(), result.clone());
    }
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

/// The E.164 text of a parsed number: what `number.format().mode(Mode::E164)` writes (`+`, the
/// country code, the national number with its leading zeros) without the crate's search for a
/// national format pattern, which E.164 does not use. `None` when the metadata has no entry for the
/// country code (where the crate's formatting fails).
fn e164_text(number: &PhoneNumber) -> Option<String> {
    let code = number.country().code();
    phonenumber::metadata::DATABASE
        .by_code(&code)
        .and_then(|m| m.into_iter().next())
        .map(|_| format!("+{code}{}", number.national()))
}

fn enlarge_regex_cache() {
    ENLARGE_CACHE.call_once(|| {
        let cache = phonenumber::metadata::DATABASE.cache();
        let mut guard = cache.lock().unwrap_or_else(PoisonError::into_inner);
        *guard = regex_cache::RegexCache::new(REGEX_CACHE_CAPACITY);
    });
}

/// Reads, validates and writes one number (no memo for the number itself; the read-back may be
/// answered by the memo). Gives exactly what [`parse_e164_general`] gives (tests compare them), with
/// less of libphonenumber's work:
/// - one validation instead of two: validity depends only on the country code and the national
///   number, so a read-back with the same code and national number as the (valid) number is
///   valid;
/// - no read-back parse when there is no region and the input is its own E.164 form (`+` and
///   digits): the read-back would parse the same text in the same way;
/// - no read-back parse when the memo already holds the E.164 text as accepted as written;
/// - E.164 text written directly (see [`e164_text`]).
fn parse_e164(raw: &str, region: Option<&str>) -> Result<String, PhoneProblem> {
    let (raw, region, number) = parse_number(raw, region)?;
    if !phonenumber::is_valid(&number) {
        return Err(PhoneProblem::Invalid);
    }
    let Some(e164) = e164_text(&number) else {
        return check_and_read_back(&number);
    };
    if region.is_none() && raw == e164 {
        return Ok(e164);
    }
    let mut buf = [0u8; MEMO_KEY_MAX];
    if let Some(known) = memo_key(&e164, None, &mut buf).and_then(|key| memo().get(key).cloned()) {
        // `to_e164(e164, None) == Ok(e164)` is exactly "the read-back parses, is valid and writes
        // the same text"
        return if known.as_deref() == Ok(e164.as_str()) {
            Ok(e164)
        } else {
            Err(PhoneProblem::Invalid)
        };
    }
    // What enrich writes must be accepted as it is when read back (by the CRM, by a later enrich):
    // libphonenumber can accept a number through a region's national rules that it rejects in the
    // E.164 form it prints (found by fuzzing: "+7.85 79400 700" with region OM).
    let reparsed = phonenumber::parse(None, &e164).map_err(|_| PhoneProblem::Invalid)?;
    let Some(written) = e164_text(&reparsed) else {
        return check_and_read_back(&number);
    };
    if written != e164 {
        return Err(PhoneProblem::Invalid);
    }
    // the number is valid, so the read-back is when it has the same code and national number
    let same_number = reparsed.country().code() == number.country().code()
        && reparsed.national() == number.national();
    if same_number || phonenumber::is_valid(&reparsed) {
        Ok(e164)
    } else {
        Err(PhoneProblem::Invalid)
    }
}

/// The checks as first written (validate, format, read back, validate again), for numbers the
/// short cuts do not cover.
fn check_and_read_back(number: &PhoneNumber) -> Result<String, PhoneProblem> {
    if !phonenumber::is_valid(number) {
        return Err(PhoneProblem::Invalid);
    }
    let e164 = number.format().mode(Mode::E164).to_string();
    let reparsed = phonenumber::parse(None, &e164).map_err(|_| PhoneProblem::Invalid)?;
    if !phonenumber::is_valid(&reparsed) || reparsed.format().mode(Mode::E164).to_string() != e164 {
        return Err(PhoneProblem::Invalid);
    }
    Ok(e164)
}

/// [`to_e164`] as first written: no memo and none of [`parse_e164`]'s short cuts (parse, validate,
/// format, read back, validate again). The reference the tests and the normalisers fuzz target
/// compare [`to_e164`] with — the memo must not hide a wrong answer from them. Not for the data path
/// (about twice the work).
#[doc(hidden)]
pub fn to_e164_reference(raw: &str, region: Option<&str>) -> Result<String, PhoneProblem> {
    if raw.len() > MAX_INPUT_LEN {
        return Err(PhoneProblem::TooLong);
    }
    parse_e164_general(raw, region)
}

/// The first steps of every conversion: the trimmed text, the default region (when it names
/// one) and libphonenumber's parse of the text; a national number without a region is refused.
fn parse_number<'a>(
    raw: &'a str,
    region: Option<&str>,
) -> Result<
    (
        &'a str,
        Option<phonenumber::country::Id>,
        phonenumber::PhoneNumber,
    ),
    PhoneProblem,
> {
    enlarge_regex_cache();
    let raw = raw.trim();
    let region = region.and_then(|r| phonenumber::country::Id::from_str(r).ok());
    let international = raw.starts_with('+') || raw.starts_with("00") || raw.starts_with("tel:");
    if region.is_none() && !international {
        return Err(PhoneProblem::NoRegion);
    }
    let number = phonenumber::parse(region, raw).map_err(|_| PhoneProblem::Unparsable)?;
    Ok((raw, region, number))
}

fn parse_e164_general(raw: &str, region: Option<&str>) -> Result<String, PhoneProblem> {
    let (_, _, number) = parse_number(raw, region)?;
    check_and_read_back(&number)
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

    /// Numbers in several forms and regions: national, international, already E.164, invalid.
    fn sample_numbers() -> Vec<(String, Option<&'static str>)> {
        let mut cases: Vec<(String, Option<&'static str>)> = [
            ("+7.85 79400 700", Some("OM")),
            ("+78579400700", Some("OM")),
            ("+78579400700", None),
            ("+44 20 7946 0958", None),
            ("+442079460958", None),
            ("+442079460958", Some("GB")),
            ("+442079460958", Some("US")),
            ("030 901820", Some("DE")),
            ("+3930901820", None),
            ("+390612345678", None),
            ("06 1234 5678", Some("IT")),
            ("+33123456789", None),
            ("+33123456789", Some("FR")),
            ("+33 1 23 45 67 89", None),
            ("+330123456789", None),
            ("+1 800 555 0100", None),
            ("+18005550100", Some("CA")),
            ("+80012345678", None),
            ("+999123456", None),
            ("+0123456", None),
            ("+1", None),
            ("tel:+1-613-555-0199", None),
            ("0033 1 23 45 67 89", Some("FR")),
            ("12", Some("FR")),
            ("call me", Some("FR")),
            ("", None),
        ]
        .into_iter()
        .map(|(r, g)| (r.to_owned(), g))
        .collect();
        for i in 0..40u64 {
            let n = i * 7_919_993 % 100_000_000;
            cases.push((
                format!("(415) {:03}-{:04}", 200 + n / 10_000 % 800, n % 10_000),
                Some("US"),
            ));
            cases.push((
                format!(
                    "+33 6 {:02} {:02} {:02} {:02}",
                    n / 1_000_000 % 100,
                    n / 10_000 % 100,
                    n / 100 % 100,
                    n % 100
                ),
                Some("FR"),
            ));
            cases.push((format!("030 {n:08}"), Some("DE")));
            cases.push((format!("+{}", 10_000_000_000 + n * 97), None));
            cases.push((format!("+{}", 10_000_000_000 + n * 97), Some("JP")));
        }
        cases
    }

    #[test]
    fn the_short_cuts_give_what_the_general_path_gives() {
        for (raw, region) in sample_numbers() {
            let want = parse_e164_general(&raw, region);
            assert_eq!(parse_e164(&raw, region), want, "{raw:?} in {region:?}");
            // through the memo, twice (the second time answered by it)
            assert_eq!(to_e164(&raw, region), want, "{raw:?} in {region:?}");
            assert_eq!(to_e164(&raw, region), want, "{raw:?} in {region:?} again");
            // and the memo's answer for the written number is the general one
            if let Ok(e164) = &want {
                assert_eq!(
                    to_e164(e164, None),
                    parse_e164_general(e164, None),
                    "{e164}"
                );
                assert_eq!(
                    parse_e164(&raw, region),
                    want,
                    "{raw:?} with the read-back memoised"
                );
            }
        }
    }

    #[test]
    fn the_e164_text_is_what_the_crate_formats() {
        for (raw, region) in sample_numbers() {
            let region = region.and_then(|r| phonenumber::country::Id::from_str(r).ok());
            if let Ok(number) = phonenumber::parse(region, raw.trim()) {
                if let Some(text) = e164_text(&number) {
                    assert_eq!(text, number.format().mode(Mode::E164).to_string(), "{raw}");
                }
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        #[test]
        fn any_plus_number_agrees_with_the_general_path(
            digits in "[0-9]{4,15}",
            region in proptest::option::of(proptest::sample::select(vec!["US", "FR", "GB", "DE", "OM", "IT", "JP", "BR"])),
        ) {
            let raw = format!("+{digits}");
            proptest::prop_assert_eq!(parse_e164(&raw, region), parse_e164_general(&raw, region));
            proptest::prop_assert_eq!(to_e164(&raw, region), parse_e164_general(&raw, region));
        }
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
