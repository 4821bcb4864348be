//! Decode limits: every length in an Avro body is checked against the bytes actually there before
//! apache-avro allocates anything.
//!
//! apache-avro trusts length prefixes: a string or bytes length is allocated up to its global
//! `max_allocation_bytes` (512 MiB by default) before the bytes are read, and an array or map block
//! count reserves `count × size_of::<Value>()` up front — a 10-byte payload claiming 100 million
//! items asks for gigabytes and aborts the process. So before a body reaches apache-avro it is walked
//! once against its writer schema, allocating nothing:
//!
//! - a payload longer than [`MAX_PAYLOAD_BYTES`] is rejected outright (Kafka's default message
//!   limit is 1 MiB);
//! - a string or bytes length must fit in the bytes that remain;
//! - an array or map block count must not exceed the bytes that remain (every item takes at least
//!   one byte), except for items that encode to zero bytes (`null`, empty records), of which at
//!   most [`MAX_ZERO_SIZE_ITEMS`] are accepted per block;
//! - the walk visits at most [`node_budget`] values and nests at most [`MAX_DEPTH`] deep (recursive
//!   named types cannot exhaust the stack);
//! - union and enum indexes must name a branch or symbol, and the body must end exactly where the
//!   schema does (trailing bytes are rejected by the codec).
//!
//! A body that passes is a structurally valid Avro encoding whose declared sizes are backed by real
//! bytes, so what apache-avro then allocates is proportional to the payload.

use std::collections::HashMap;

use apache_avro::Schema;
use apache_avro::schema::DecimalSchema;

/// Largest payload the codec decodes (bytes, frame header included).
pub const MAX_PAYLOAD_BYTES: usize = 8 * 1024 * 1024;
/// Largest block of zero-byte items (array of `null`, map of empty records) accepted.
pub const MAX_ZERO_SIZE_ITEMS: usize = 4096;
/// Deepest nesting of values walked (the event schemas nest fewer than 10 levels).
pub const MAX_DEPTH: usize = 64;

/// Most values visited in a body of `len` bytes: every value but a zero-byte one consumes a byte.
pub fn node_budget(len: usize) -> usize {
    len.saturating_mul(2)
        .saturating_add(4 * MAX_ZERO_SIZE_ITEMS)
}

/// Why a body was rejected before decoding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BoundsError {
    #[error("{what} at body byte {at} needs {needed} bytes, {remaining} remain")]
    Truncated {
        what: &'static str,
        at: usize,
        needed: u64,
        remaining: usize,
    },
    #[error("{what} at byte {at} has negative length {len}")]
    NegativeLength {
        what: &'static str,
        at: usize,
        len: i64,
    },
    #[error("variable-length integer at byte {0} is longer than 10 bytes")]
    VarintTooLong(usize),
    #[error("block of {count} zero-byte items at byte {at} exceeds {MAX_ZERO_SIZE_ITEMS}")]
    TooManyItems { count: u64, at: usize },
    #[error("{what} index {index} at byte {at} is out of range (0..{len})")]
    BadIndex {
        what: &'static str,
        index: i64,
        at: usize,
        len: usize,
    },
    #[error("values nest deeper than {MAX_DEPTH} levels")]
    TooDeep,
    #[error("more values than a {0}-byte payload can hold")]
    TooManyValues(usize),
    #[error("named type {0} is not defined by the writer schema")]
    UnknownType(String),
}

/// A writer schema prepared for the walk: its body schema and its named types by full name.
pub(crate) struct BodyShape {
    schema: Schema,
    names: HashMap<String, Schema>,
}

impl BodyShape {
    /// `schema` (ideally with references inlined) and the named types references may still use.
    pub(crate) fn new(schema: Schema, names: HashMap<String, Schema>) -> Self {
        Self { schema, names }
    }

    /// Walks `body`; `Ok(n)` is the number of bytes the encoded value occupies.
    pub(crate) fn check(&self, body: &[u8]) -> Result<usize, BoundsError> {
        let mut walk = Walk {
            body,
            pos: 0,
            budget: node_budget(body.len()),
            names: &self.names,
        };
        walk.value(&self.schema, 0)?;
        Ok(walk.pos)
    }
}

/// The named types of `schema` by full name (for [`BodyShape::new`]).
pub(crate) fn named_types(schema: &Schema) -> HashMap<String, Schema> {
    apache_avro::schema::ResolvedSchema::try_from(schema)
        .map(|r| {
            r.get_names()
                .iter()
                .map(|(name, s)| (name.fullname(None), (*s).clone()))
                .collect()
        })
        .unwrap_or_default()
}

struct Walk<'a> {
    body: &'a [u8],
    pos: usize,
    budget: usize,
    names: &'a HashMap<String, Schema>,
}

impl Walk<'_> {
    fn remaining(&self) -> usize {
        self.body.len() - self.pos
    }

    fn skip(&mut self, what: &'static str, n: u64) -> Result<(), BoundsError> {
        let at = self.pos;
        self.skip_from(what, at, n)
    }

    /// Skips `n` bytes of a value that starts at `at` (before its length prefix).
    fn skip_from(&mut self, what: &'static str, at: usize, n: u64) -> Result<(), BoundsError> {
        let remaining = self.remaining();
        match usize::try_from(n) {
            Ok(n) if n <= remaining => {
                self.pos += n;
                Ok(())
            }
            _ => Err(BoundsError::Truncated {
                what,
                at,
                needed: n,
                remaining,
            }),
        }
    }

    /// A zig-zag variable-length long.
    fn long(&mut self, what: &'static str) -> Result<i64, BoundsError> {
        let start = self.pos;
        let mut raw = 0u64;
        for i in 0..10 {
            let Some(&b) = self.body.get(self.pos) else {
                return Err(BoundsError::Truncated {
                    what,
                    at: start,
                    needed: (i + 1) as u64,
                    remaining: self.body.len() - start,
                });
            };
            self.pos += 1;
            raw |= u64::from(b & 0x7F) << (i * 7);
            if b & 0x80 == 0 {
                return Ok(((raw >> 1) as i64) ^ -((raw & 1) as i64));
            }
        }
        Err(BoundsError::VarintTooLong(start))
    }

    /// A length prefix (strings, bytes): non-negative and backed by bytes.
    fn length_prefixed(&mut self, what: &'static str) -> Result<(), BoundsError> {
        let at = self.pos;
        let len = self.long(what)?;
        let len = u64::try_from(len).map_err(|_| BoundsError::NegativeLength { what, at, len })?;
        self.skip_from(what, at, len)
    }

    fn index(&mut self, what: &'static str, len: usize) -> Result<usize, BoundsError> {
        let at = self.pos;
        let index = self.long(what)?;
        usize::try_from(index)
            .ok()
            .filter(|i| *i < len)
            .ok_or(BoundsError::BadIndex {
                what,
                index,
                at,
                len,
            })
    }

    fn value(&mut self, schema: &Schema, depth: usize) -> Result<(), BoundsError> {
        if depth > MAX_DEPTH {
            return Err(BoundsError::TooDeep);
        }
        self.budget = self
            .budget
            .checked_sub(1)
            .ok_or(BoundsError::TooManyValues(self.body.len()))?;
        match schema {
            Schema::Null => Ok(()),
            Schema::Boolean => self.skip("boolean", 1),
            avro_int_schema!() | avro_long_schema!() => self.long("integer").map(drop),
            Schema::Float => self.skip("float", 4),
            Schema::Double => self.skip("double", 8),
            Schema::Bytes | Schema::BigDecimal | Schema::Uuid => self.length_prefixed("bytes"),
            Schema::String => self.length_prefixed("string"),
            Schema::Fixed(f) => self.skip("fixed", f.size as u64),
            Schema::Duration => self.skip("duration", 12),
            Schema::Decimal(DecimalSchema { inner, .. }) => self.value(inner, depth + 1),
            Schema::Enum(e) => self.index("enum", e.symbols.len()).map(drop),
            Schema::Union(u) => {
                let variants = u.variants();
                let i = self.index("union", variants.len())?;
                self.value(&variants[i], depth + 1)
            }
            Schema::Record(r) => {
                for field in &r.fields {
                    self.value(&field.schema, depth + 1)?;
                }
                Ok(())
            }
            Schema::Array(a) => self.blocks("array", |w| w.value(&a.items, depth + 1)),
            Schema::Map(m) => self.blocks("map", |w| {
                w.length_prefixed("map key")?;
                w.value(&m.types, depth + 1)
            }),
            Schema::Ref { name } => {
                let full = name.fullname(None);
                let names = self.names;
                let target = names
                    .get(&full)
                    .or_else(|| {
                        names
                            .iter()
                            .find(|(n, _)| n.rsplit('.').next() == Some(name.name.as_str()))
                            .map(|(_, s)| s)
                    })
                    .ok_or(BoundsError::UnknownType(full))?;
                self.value(target, depth + 1)
            }
        }
    }

    /// Array or map blocks: a count (negative: followed by the block's byte size), items, until 0.
    fn blocks(
        &mut self,
        what: &'static str,
        mut item: impl FnMut(&mut Self) -> Result<(), BoundsError>,
    ) -> Result<(), BoundsError> {
        loop {
            let at = self.pos;
            let count = self.long(what)?;
            if count == 0 {
                return Ok(());
            }
            if count < 0 {
                let size_at = self.pos;
                let size = self.long(what)?;
                if size < 0 {
                    return Err(BoundsError::NegativeLength {
                        what: "block size",
                        at: size_at,
                        len: size,
                    });
                }
            }
            let count = count.unsigned_abs();
            if count > self.remaining() as u64 && count > MAX_ZERO_SIZE_ITEMS as u64 {
                return Err(BoundsError::TooManyItems { count, at });
            }
            for _ in 0..count {
                let before = self.pos;
                item(self)?;
                // zero-byte items are only fine in small numbers
                if self.pos == before && count > MAX_ZERO_SIZE_ITEMS as u64 {
                    return Err(BoundsError::TooManyItems { count, at });
                }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn shape(json: &str) -> BodyShape {
        let schema = Schema::parse_str(json).unwrap();
        let names = named_types(&schema);
        BodyShape::new(schema, names)
    }

    /// Zig-zag varint of `v`.
    fn long(v: i64) -> Vec<u8> {
        let mut z = ((v << 1) ^ (v >> 63)) as u64;
        let mut out = Vec::new();
        loop {
            let b = (z & 0x7F) as u8;
            z >>= 7;
            if z == 0 {
                out.push(b);
                return out;
            }
            out.push(b | 0x80);
        }
    }

    #[test]
    fn a_2_gib_string_length_is_rejected_without_allocating() {
        let s = shape(r#""string""#);
        let body = long(2 * 1024 * 1024 * 1024);
        let err = s.check(&body).unwrap_err();
        assert!(
            matches!(err, BoundsError::Truncated { what: "string", needed, .. } if needed == 2 << 30),
            "{err}"
        );
    }

    #[test]
    fn a_huge_array_count_is_rejected() {
        let s = shape(r#"{"type":"array","items":"long"}"#);
        let mut body = long(100_000_000);
        body.extend(long(1));
        assert!(matches!(
            s.check(&body),
            Err(BoundsError::TooManyItems { .. })
        ));
        // a negative count (with block size) is checked the same way
        let mut body = long(-100_000_000);
        body.extend(long(8));
        body.extend(long(1));
        assert!(matches!(
            s.check(&body),
            Err(BoundsError::TooManyItems { .. })
        ));
    }

    #[test]
    fn zero_byte_items_are_capped() {
        let s = shape(r#"{"type":"array","items":"null"}"#);
        let mut ok = long(MAX_ZERO_SIZE_ITEMS as i64);
        ok.push(0);
        assert_eq!(s.check(&ok), Ok(ok.len()));
        let mut bad = long(i64::MAX);
        bad.push(0);
        assert!(matches!(
            s.check(&bad),
            Err(BoundsError::TooManyItems { .. })
        ));
    }

    #[test]
    fn a_valid_body_reports_its_length() {
        let s = shape(
            r#"{"type":"record","name":"R","fields":[
                {"name":"a","type":"string"},
                {"name":"b","type":{"type":"map","values":"int"}},
                {"name":"c","type":["null","double"]},
                {"name":"d","type":{"type":"enum","name":"E","symbols":["X","Y"]}}]}"#,
        );
        let mut body = long(3);
        body.extend(b"abc");
        body.extend(long(1));
        body.extend(long(1));
        body.push(b'k');
        body.extend(long(7));
        body.push(0);
        body.extend(long(1));
        body.extend(1.5f64.to_le_bytes());
        body.extend(long(1));
        assert_eq!(s.check(&body), Ok(body.len()));
        // a union index out of range
        let mut bad = body.clone();
        let union_at = body.len() - 10;
        bad[union_at] = long(5)[0];
        assert!(matches!(
            s.check(&bad),
            Err(BoundsError::BadIndex { what: "union", .. })
        ));
    }

    #[test]
    fn recursion_is_depth_limited() {
        let s = shape(
            r#"{"type":"record","name":"Node","fields":[
                {"name":"next","type":["null","Node"]}]}"#,
        );
        let deep = vec![2u8; 1000]; // union index 1 (zig-zag 2) a thousand times
        assert_eq!(s.check(&deep), Err(BoundsError::TooDeep));
    }

    #[test]
    fn negative_lengths_and_long_varints_are_rejected() {
        let s = shape(r#""bytes""#);
        assert!(matches!(
            s.check(&long(-1)),
            Err(BoundsError::NegativeLength { .. })
        ));
        assert_eq!(s.check(&[0xFF; 11]), Err(BoundsError::VarintTooLong(0)));
    }
}
