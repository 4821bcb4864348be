//! Decoding an Avro body straight into the event type, guided by its schema.
//!
//! apache-avro decodes a body into an `apache_avro::types::Value` tree (every string, record, array
//! and union boxed and allocated) and `from_value` then deserializes the event from that tree (every
//! string allocated a second time). This is a serde `Deserializer` over the bytes instead: the schema
//! says what comes next, the bytes are read in place and the event's own `Deserialize` impl builds
//! the struct — one allocation per owned string, none for the tree.
//!
//! It is used only when the payload was written with the reader's current schema (same fingerprint:
//! nothing to resolve) and after the bounds walk (`bounds.rs`) accepted the body, so every length it
//! meets is backed by bytes; it checks them again anyway and never panics on any input. Payloads
//! written with an older schema take apache-avro's resolving path.
//!
//! What it accepts and rejects matches apache-avro's reader for the schemas it supports: booleans
//! must be 0 or 1, ints must fit 32 bits, strings must be UTF-8, union and enum indexes must name a
//! branch or symbol, the body must end where the schema does.

use std::fmt;

use apache_avro::Schema;
use apache_avro::error::Details;
use serde::Deserializer;
use serde::de::value::{BorrowedStrDeserializer, StrDeserializer};
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, EnumAccess, IgnoredAny, MapAccess, SeqAccess,
    VariantAccess, Visitor,
};

use super::DecodeError;
use super::bounds::node_budget;
use crate::event::EventKind;

/// Why a body did not decode directly.
#[derive(Debug)]
pub(crate) enum DirectError {
    /// The bytes are not a valid encoding of the schema.
    Body(String),
    /// The bytes are valid but do not fit the Rust type (a missing field, a wrong type).
    Shape(String),
}

impl DirectError {
    /// The codec's error for a payload of `kind` that did not decode.
    pub(crate) fn into_decode_error(self, kind: EventKind) -> DecodeError {
        match self {
            DirectError::Body(m) => {
                DecodeError::Body(Box::new(Details::DeserializeValue(m).into()))
            }
            DirectError::Shape(m) => DecodeError::Shape {
                kind,
                source: Box::new(Details::DeserializeValue(m).into()),
            },
        }
    }
}

impl fmt::Display for DirectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DirectError::Body(m) | DirectError::Shape(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for DirectError {}

impl de::Error for DirectError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DirectError::Shape(msg.to_string())
    }
}

type Result<T> = std::result::Result<T, DirectError>;

fn body(msg: impl Into<String>) -> DirectError {
    DirectError::Body(msg.into())
}

/// Whether the direct decoder reads every type `schema` uses (references must be inlined).
pub(crate) fn supported(schema: &Schema) -> bool {
    match schema {
        Schema::Null
        | Schema::Boolean
        | avro_int_schema!()
        | avro_long_schema!()
        | Schema::Float
        | Schema::Double
        | Schema::Bytes
        | Schema::String
        | Schema::Enum(_)
        | Schema::Fixed(_) => true,
        Schema::Array(a) => supported(&a.items),
        Schema::Map(m) => supported(&m.types),
        Schema::Union(u) => u.variants().iter().all(supported),
        Schema::Record(r) => r.fields.iter().all(|f| supported(&f.schema)),
        _ => false,
    }
}

/// Decodes `body` (an Avro datum, no frame header) written with `schema` into `T`; the whole body
/// must be used.
pub(crate) fn decode<T: DeserializeOwned>(schema: &Schema, body: &[u8]) -> Result<T> {
    let mut reader = Reader {
        buf: body,
        pos: 0,
        budget: node_budget(body.len()),
    };
    let value = T::deserialize(De {
        r: &mut reader,
        schema,
    })?;
    if reader.pos != body.len() {
        return Err(body_err_trailing(body.len() - reader.pos));
    }
    Ok(value)
}

fn body_err_trailing(n: usize) -> DirectError {
    body(format!("{n} bytes left over after the Avro body"))
}

/// The body and the read position.
struct Reader<'de> {
    buf: &'de [u8],
    pos: usize,
    /// Values still allowed (every value but a zero-byte one takes a byte): bounds the work on
    /// blocks of zero-byte items.
    budget: usize,
}

impl<'de> Reader<'de> {
    fn tick(&mut self) -> Result<()> {
        self.budget = self
            .budget
            .checked_sub(1)
            .ok_or_else(|| body("more values than the payload can hold"))?;
        Ok(())
    }

    fn take(&mut self, n: usize) -> Result<&'de [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|end| *end <= self.buf.len())
            .ok_or_else(|| {
                body(format!(
                    "{n} bytes needed at body byte {}, {} remain",
                    self.pos,
                    self.buf.len().saturating_sub(self.pos)
                ))
            })?;
        let bytes = self.buf.get(self.pos..end).unwrap_or_default();
        self.pos = end;
        Ok(bytes)
    }

    fn byte(&mut self) -> Result<u8> {
        let b = *self
            .buf
            .get(self.pos)
            .ok_or_else(|| body(format!("truncated at body byte {}", self.pos)))?;
        self.pos += 1;
        Ok(b)
    }

    fn fixed<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    /// A zig-zag variable-length long (at most 10 bytes).
    fn long(&mut self) -> Result<i64> {
        let at = self.pos;
        let mut z: u64 = 0;
        for i in 0..10u32 {
            let b = self.byte()?;
            z |= u64::from(b & 0x7F) << (i * 7);
            if b & 0x80 == 0 {
                return Ok(if z & 1 == 0 {
                    (z >> 1) as i64
                } else {
                    !(z >> 1) as i64
                });
            }
        }
        Err(body(format!(
            "variable-length integer at byte {at} is longer than 10 bytes"
        )))
    }

    fn int(&mut self) -> Result<i32> {
        let v = self.long()?;
        i32::try_from(v).map_err(|_| body(format!("int {v} out of range")))
    }

    fn len(&mut self) -> Result<usize> {
        let n = self.long()?;
        usize::try_from(n).map_err(|_| body(format!("negative length {n}")))
    }

    fn bytes(&mut self) -> Result<&'de [u8]> {
        let n = self.len()?;
        self.take(n)
    }

    fn str(&mut self) -> Result<&'de str> {
        let at = self.pos;
        std::str::from_utf8(self.bytes()?)
            .map_err(|e| body(format!("string at body byte {at} is not UTF-8: {e}")))
    }

    fn bool(&mut self) -> Result<bool> {
        match self.byte()? {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(body(format!("invalid boolean byte {b}"))),
        }
    }

    /// The index of a union branch or enum symbol, checked against `len`.
    fn index(&mut self, what: &str, len: usize) -> Result<usize> {
        let i = self.long()?;
        usize::try_from(i)
            .ok()
            .filter(|i| *i < len)
            .ok_or_else(|| body(format!("{what} index {i} out of range (0..{len})")))
    }
}

/// Array and map blocks: a count (negative: followed by the block's byte size), items, ..., 0.
#[derive(Default)]
struct Blocks {
    left: u64,
    done: bool,
}

impl Blocks {
    /// Whether another item follows (reading the next block header when one ends).
    fn next(&mut self, r: &mut Reader<'_>) -> Result<bool> {
        while self.left == 0 {
            if self.done {
                return Ok(false);
            }
            let n = r.long()?;
            if n == 0 {
                self.done = true;
                return Ok(false);
            }
            if n < 0 {
                r.long()?; // the block's size in bytes
            }
            self.left = n.unsigned_abs();
        }
        self.left -= 1;
        Ok(true)
    }

    /// Items left in the current block, as a size hint (capped by the bytes left).
    fn hint(&self, r: &Reader<'_>) -> Option<usize> {
        let left = usize::try_from(self.left).unwrap_or(usize::MAX);
        Some(left.min(r.buf.len().saturating_sub(r.pos)))
    }
}

/// One value of the body, of `schema`.
struct De<'s, 'de> {
    r: &'s mut Reader<'de>,
    schema: &'s Schema,
}

impl<'s, 'de> De<'s, 'de> {
    /// The union's branch this value takes.
    fn branch(&mut self, u: &'s apache_avro::schema::UnionSchema) -> Result<&'s Schema> {
        let variants = u.variants();
        let i = self.r.index("union", variants.len())?;
        variants
            .get(i)
            .ok_or_else(|| body(format!("union index {i} out of range")))
    }
}

impl<'de> Deserializer<'de> for De<'_, 'de> {
    type Error = DirectError;

    fn deserialize_any<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value> {
        self.r.tick()?;
        match self.schema {
            Schema::Null => visitor.visit_unit(),
            Schema::Boolean => visitor.visit_bool(self.r.bool()?),
            avro_int_schema!() => visitor.visit_i32(self.r.int()?),
            avro_long_schema!() => visitor.visit_i64(self.r.long()?),
            Schema::Float => visitor.visit_f32(f32::from_le_bytes(self.r.fixed()?)),
            Schema::Double => visitor.visit_f64(f64::from_le_bytes(self.r.fixed()?)),
            Schema::Bytes => visitor.visit_borrowed_bytes(self.r.bytes()?),
            Schema::String => visitor.visit_borrowed_str(self.r.str()?),
            Schema::Fixed(f) => visitor.visit_borrowed_bytes(self.r.take(f.size)?),
            Schema::Enum(e) => {
                let i = self.r.index("enum", e.symbols.len())?;
                let symbol = e.symbols.get(i).map(String::as_str).unwrap_or_default();
                visitor.visit_str(symbol)
            }
            Schema::Union(u) => {
                let branch = self.branch(u)?;
                match branch {
                    Schema::Null => visitor.visit_unit(),
                    _ => De {
                        r: self.r,
                        schema: branch,
                    }
                    .deserialize_any(visitor),
                }
            }
            Schema::Array(a) => visitor.visit_seq(Blocked {
                r: self.r,
                schema: &a.items,
                blocks: Blocks::default(),
            }),
            Schema::Map(m) => visitor.visit_map(Blocked {
                r: self.r,
                schema: &m.types,
                blocks: Blocks::default(),
            }),
            Schema::Record(rec) => visitor.visit_map(Fields {
                r: self.r,
                fields: rec.fields.iter(),
                value: None,
            }),
            other => Err(body(format!("schema type {other:?} is not read directly"))),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value> {
        match self.schema {
            Schema::Union(u) => {
                self.r.tick()?;
                let branch = self.branch(u)?;
                match branch {
                    Schema::Null => visitor.visit_none(),
                    _ => visitor.visit_some(De {
                        r: self.r,
                        schema: branch,
                    }),
                }
            }
            Schema::Null => {
                self.r.tick()?;
                visitor.visit_none()
            }
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        mut self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        self.r.tick()?;
        match self.schema {
            Schema::Enum(e) => {
                let i = self.r.index("enum", e.symbols.len())?;
                let symbol = e.symbols.get(i).map(String::as_str).unwrap_or_default();
                visitor.visit_enum(Symbol(symbol))
            }
            Schema::String => visitor.visit_enum(Symbol(self.r.str()?)),
            Schema::Union(u) => {
                let branch = self.branch(u)?;
                De {
                    r: self.r,
                    schema: branch,
                }
                .deserialize_enum(_name, _variants, visitor)
            }
            other => Err(DirectError::Shape(format!(
                "an enum cannot be read from {other:?}"
            ))),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        // a field the type does not have: read past it
        self.deserialize_any(IgnoredAny)?;
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf unit
        unit_struct seq tuple tuple_struct map struct identifier
    }
}

/// The blocks of an array (its items) or of a map (its entries, string keys): `schema` is the
/// schema of the items or of the map's values.
struct Blocked<'s, 'de> {
    r: &'s mut Reader<'de>,
    schema: &'s Schema,
    blocks: Blocks,
}

impl<'de> Blocked<'_, 'de> {
    /// Reads one item or value with the blocks' schema.
    fn element<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value> {
        seed.deserialize(De {
            r: &mut *self.r,
            schema: self.schema,
        })
    }
}

impl<'de> SeqAccess<'de> for Blocked<'_, 'de> {
    type Error = DirectError;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        if !self.blocks.next(self.r)? {
            return Ok(None);
        }
        self.element(seed).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        self.blocks.hint(self.r)
    }
}

impl<'de> MapAccess<'de> for Blocked<'_, 'de> {
    type Error = DirectError;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        if !self.blocks.next(self.r)? {
            return Ok(None);
        }
        self.r.tick()?;
        let key = self.r.str()?;
        seed.deserialize(BorrowedStrDeserializer::new(key))
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        self.element(seed)
    }

    fn size_hint(&self) -> Option<usize> {
        self.blocks.hint(self.r)
    }
}

/// The fields of a record, in schema order.
struct Fields<'s, 'de> {
    r: &'s mut Reader<'de>,
    fields: std::slice::Iter<'s, apache_avro::schema::RecordField>,
    value: Option<&'s Schema>,
}

impl<'de> MapAccess<'de> for Fields<'_, 'de> {
    type Error = DirectError;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        let Some(field) = self.fields.next() else {
            return Ok(None);
        };
        self.value = Some(&field.schema);
        seed.deserialize(StrDeserializer::<DirectError>::new(field.name.as_str()))
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        let schema = self
            .value
            .take()
            .ok_or_else(|| DirectError::Shape("a record value without its field".into()))?;
        seed.deserialize(De {
            r: &mut *self.r,
            schema,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.fields.len())
    }
}

/// An enum symbol as a unit variant.
struct Symbol<'s>(&'s str);

impl<'de> EnumAccess<'de> for Symbol<'_> {
    type Error = DirectError;
    type Variant = UnitOnly;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, UnitOnly)> {
        let variant = seed.deserialize(StrDeserializer::<DirectError>::new(self.0))?;
        Ok((variant, UnitOnly))
    }
}

/// Avro enums carry no data: only unit variants.
struct UnitOnly;

impl<'de> VariantAccess<'de> for UnitOnly {
    type Error = DirectError;

    fn unit_variant(self) -> Result<()> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, _seed: T) -> Result<T::Value> {
        Err(DirectError::Shape(
            "an Avro enum symbol carries no data".into(),
        ))
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, _visitor: V) -> Result<V::Value> {
        Err(DirectError::Shape(
            "an Avro enum symbol carries no data".into(),
        ))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value> {
        Err(DirectError::Shape(
            "an Avro enum symbol carries no data".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_primitives_and_rejects_what_apache_avro_rejects() {
        let long = Schema::Long;
        assert_eq!(decode::<i64>(&long, &[0x03]).ok(), Some(-2));
        assert_eq!(decode::<i64>(&long, &[0x80, 0x01]).ok(), Some(64));
        assert!(
            decode::<i64>(&long, &[0x80; 11]).is_err(),
            "over-long varint"
        );
        assert!(decode::<i64>(&long, &[0x80]).is_err(), "truncated varint");
        assert!(decode::<i32>(&Schema::Int, &[0xFE, 0xFF, 0xFF, 0xFF, 0x1F]).is_err());
        assert!(decode::<bool>(&Schema::Boolean, &[2]).is_err());
        assert!(decode::<String>(&Schema::String, &[0x04, 0xFF, 0xFE]).is_err());
        assert!(decode::<String>(&Schema::String, &[0x08, b'a']).is_err());
        assert!(
            decode::<i64>(&long, &[0x02, 0x00]).is_err(),
            "trailing byte"
        );
    }
}
