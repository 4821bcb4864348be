//! Encoding an event straight into Avro bytes, guided by its schema.
//!
//! apache-avro's schema-aware serializer finds each record field by name in a `BTreeMap` (string
//! comparisons per field of every nested record) and gives every array or map item a buffer of its
//! own, a large share of a stage's CPU per record under `perf`. This serializer
//! walks the record's fields in schema order instead — the event types declare their fields in the
//! schema's order, which is what apache-avro's writer relies on too — and writes every value
//! straight into the output.
//!
//! Anything it does not expect (a field out of schema order, a missing field, a value that does not
//! fit its schema, a union with more than one non-null branch) is an error, and the codec then
//! encodes with apache-avro as before: this is a fast path, never a second definition of the format.
//! Its output equals apache-avro's byte for byte for every event kind (tests below), except that an
//! array or map is written as one block where apache-avro splits blocks of more than 1,024 items —
//! both are valid Avro and read the same.

use std::fmt;

use apache_avro::Schema;
use apache_avro::schema::{RecordSchema, UnionSchema};
use serde::Serialize;
use serde::ser::{self, Impossible};

/// Why the fast path did not encode a value (the codec falls back to apache-avro).
#[derive(Debug)]
pub(crate) struct Unsupported(String);

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Unsupported {}

impl ser::Error for Unsupported {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Unsupported(msg.to_string())
    }
}

type Result<T> = std::result::Result<T, Unsupported>;

fn unsupported<T>(what: impl fmt::Display, schema: &Schema) -> Result<T> {
    Err(Unsupported(format!(
        "{what} for schema {:?}",
        schema_name(schema)
    )))
}

fn schema_name(schema: &Schema) -> String {
    match schema {
        Schema::Record(r) => r.name.fullname(None),
        Schema::Enum(e) => e.name.fullname(None),
        other => format!("{:?}", apache_avro::schema::SchemaKind::from(other)),
    }
}

/// Appends the Avro encoding of `value` (written with `schema`, references inlined) to `out`. On
/// error `out` may hold a partial encoding: the caller truncates it.
pub(crate) fn encode<T: Serialize + ?Sized>(
    schema: &Schema,
    value: &T,
    out: &mut Vec<u8>,
) -> Result<()> {
    value.serialize(Enc { schema, out })
}

fn write_long(out: &mut Vec<u8>, n: i64) {
    let mut z = ((n << 1) ^ (n >> 63)) as u64;
    while z >= 0x80 {
        out.push((z as u8) | 0x80);
        z >>= 7;
    }
    out.push(z as u8);
}

fn write_len(out: &mut Vec<u8>, len: usize) -> Result<()> {
    let n = i64::try_from(len).map_err(|_| Unsupported("length over i64".into()))?;
    write_long(out, n);
    Ok(())
}

/// The branch index of `null` and of the one other branch of a nullable union.
fn nullable(u: &UnionSchema) -> Option<(usize, usize, &Schema)> {
    let variants = u.variants();
    if variants.len() != 2 {
        return None;
    }
    match (&variants[0], &variants[1]) {
        (Schema::Null, other) if !matches!(other, Schema::Null) => Some((0, 1, other)),
        (other, Schema::Null) if !matches!(other, Schema::Null) => Some((1, 0, other)),
        _ => None,
    }
}

struct Enc<'s, 'o> {
    schema: &'s Schema,
    out: &'o mut Vec<u8>,
}

impl<'s, 'o> Enc<'s, 'o> {
    /// A value (not `None`) written into a nullable union: its branch index, then the value with
    /// the branch's schema. Other schemas are returned unchanged.
    fn branch(self) -> Result<Enc<'s, 'o>> {
        match self.schema {
            Schema::Union(u) => match nullable(u) {
                Some((_, index, inner)) => {
                    write_long(self.out, index as i64);
                    Ok(Enc {
                        schema: inner,
                        out: self.out,
                    })
                }
                None => unsupported("a union that is not [null, T]", self.schema),
            },
            _ => Ok(self),
        }
    }

    fn long(self, v: i64) -> Result<()> {
        let e = self.branch()?;
        match e.schema {
            avro_long_schema!() => {
                write_long(e.out, v);
                Ok(())
            }
            avro_int_schema!() => {
                let v = i32::try_from(v).map_err(|_| Unsupported("int out of range".into()))?;
                write_long(e.out, i64::from(v));
                Ok(())
            }
            Schema::Double => {
                e.out.extend_from_slice(&(v as f64).to_le_bytes());
                Ok(())
            }
            Schema::Float => {
                e.out.extend_from_slice(&(v as f32).to_le_bytes());
                Ok(())
            }
            other => unsupported("an integer", other),
        }
    }

    fn double(self, v: f64) -> Result<()> {
        let e = self.branch()?;
        match e.schema {
            Schema::Double => {
                e.out.extend_from_slice(&v.to_le_bytes());
                Ok(())
            }
            Schema::Float => {
                e.out.extend_from_slice(&(v as f32).to_le_bytes());
                Ok(())
            }
            other => unsupported("a float", other),
        }
    }

    fn text(self, v: &str) -> Result<()> {
        let e = self.branch()?;
        match e.schema {
            Schema::String => {
                write_len(e.out, v.len())?;
                e.out.extend_from_slice(v.as_bytes());
                Ok(())
            }
            Schema::Enum(en) => match en.symbols.iter().position(|s| s == v) {
                Some(i) => {
                    write_long(e.out, i as i64);
                    Ok(())
                }
                None => unsupported(format_args!("symbol {v:?}"), e.schema),
            },
            other => unsupported("a string", other),
        }
    }
}

impl<'s, 'o> ser::Serializer for Enc<'s, 'o> {
    type Ok = ();
    type Error = Unsupported;
    type SerializeSeq = Items<'s, 'o>;
    type SerializeTuple = Impossible<(), Unsupported>;
    type SerializeTupleStruct = Impossible<(), Unsupported>;
    type SerializeTupleVariant = Impossible<(), Unsupported>;
    type SerializeMap = Entries<'s, 'o>;
    type SerializeStruct = Fields<'s, 'o>;
    type SerializeStructVariant = Impossible<(), Unsupported>;

    fn serialize_bool(self, v: bool) -> Result<()> {
        let e = self.branch()?;
        match e.schema {
            Schema::Boolean => {
                e.out.push(u8::from(v));
                Ok(())
            }
            other => unsupported("a boolean", other),
        }
    }

    fn serialize_i8(self, v: i8) -> Result<()> {
        self.long(i64::from(v))
    }

    fn serialize_i16(self, v: i16) -> Result<()> {
        self.long(i64::from(v))
    }

    fn serialize_i32(self, v: i32) -> Result<()> {
        self.long(i64::from(v))
    }

    fn serialize_i64(self, v: i64) -> Result<()> {
        self.long(v)
    }

    fn serialize_u8(self, v: u8) -> Result<()> {
        self.long(i64::from(v))
    }

    fn serialize_u16(self, v: u16) -> Result<()> {
        self.long(i64::from(v))
    }

    fn serialize_u32(self, v: u32) -> Result<()> {
        self.long(i64::from(v))
    }

    fn serialize_u64(self, v: u64) -> Result<()> {
        let v = i64::try_from(v).map_err(|_| Unsupported("u64 over i64".into()))?;
        self.long(v)
    }

    fn serialize_f32(self, v: f32) -> Result<()> {
        let e = self.branch()?;
        match e.schema {
            Schema::Float => {
                e.out.extend_from_slice(&v.to_le_bytes());
                Ok(())
            }
            Schema::Double => {
                e.out.extend_from_slice(&f64::from(v).to_le_bytes());
                Ok(())
            }
            other => unsupported("a float", other),
        }
    }

    fn serialize_f64(self, v: f64) -> Result<()> {
        self.double(v)
    }

    fn serialize_char(self, v: char) -> Result<()> {
        let mut buf = [0u8; 4];
        self.text(v.encode_utf8(&mut buf))
    }

    fn serialize_str(self, v: &str) -> Result<()> {
        self.text(v)
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<()> {
        let e = self.branch()?;
        match e.schema {
            Schema::Bytes => {
                write_len(e.out, v.len())?;
                e.out.extend_from_slice(v);
                Ok(())
            }
            Schema::Fixed(f) if f.size == v.len() => {
                e.out.extend_from_slice(v);
                Ok(())
            }
            other => unsupported("bytes", other),
        }
    }

    fn serialize_none(self) -> Result<()> {
        match self.schema {
            Schema::Union(u) => match nullable(u) {
                Some((null, _, _)) => {
                    write_long(self.out, null as i64);
                    Ok(())
                }
                None => unsupported("none", self.schema),
            },
            Schema::Null => Ok(()),
            other => unsupported("none", other),
        }
    }

    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<()> {
        match self.schema {
            Schema::Union(_) => value.serialize(self.branch()?),
            _ => unsupported("some", self.schema),
        }
    }

    fn serialize_unit(self) -> Result<()> {
        match self.schema {
            Schema::Null => Ok(()),
            other => unsupported("unit", other),
        }
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<()> {
        self.serialize_unit()
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<()> {
        self.text(variant)
    }

    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<()> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _value: &T,
    ) -> Result<()> {
        unsupported(format_args!("variant {variant} with data"), self.schema)
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<Items<'s, 'o>> {
        let Some(len) = len else {
            return unsupported("a sequence of unknown length", self.schema);
        };
        let e = self.branch()?;
        match e.schema {
            Schema::Array(a) => Ok(Items {
                items: &a.items,
                block: Block::open(e.out, len, "items")?,
            }),
            other => unsupported("a sequence", other),
        }
    }

    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple> {
        unsupported("a tuple", self.schema)
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct> {
        unsupported("a tuple struct", self.schema)
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        unsupported("a tuple variant", self.schema)
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Entries<'s, 'o>> {
        let Some(len) = len else {
            return unsupported("a map of unknown length", self.schema);
        };
        let e = self.branch()?;
        match e.schema {
            Schema::Map(m) => Ok(Entries {
                values: &m.types,
                block: Block::open(e.out, len, "entries")?,
            }),
            other => unsupported("a map", other),
        }
    }

    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Fields<'s, 'o>> {
        let e = self.branch()?;
        match e.schema {
            Schema::Record(record) => Ok(Fields {
                record,
                next: 0,
                out: e.out,
            }),
            other => unsupported("a struct", other),
        }
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant> {
        unsupported("a struct variant", self.schema)
    }
}

/// One block of an array or a map: its count written up front, then exactly that many items,
/// then the terminating 0.
pub(crate) struct Block<'o> {
    out: &'o mut Vec<u8>,
    left: usize,
    /// What the block holds, for the error messages ("items", "entries").
    unit: &'static str,
}

impl<'o> Block<'o> {
    fn open(out: &'o mut Vec<u8>, len: usize, unit: &'static str) -> Result<Self> {
        if len > 0 {
            write_len(out, len)?;
        }
        Ok(Self {
            out,
            left: len,
            unit,
        })
    }

    /// Counts one more item against the announced length.
    fn take(&mut self) -> Result<()> {
        self.left = self
            .left
            .checked_sub(1)
            .ok_or_else(|| Unsupported(format!("more {} than announced", self.unit)))?;
        Ok(())
    }

    fn close(self) -> Result<()> {
        if self.left != 0 {
            return Err(Unsupported(format!("fewer {} than announced", self.unit)));
        }
        self.out.push(0);
        Ok(())
    }
}

/// An array's items, one block.
pub(crate) struct Items<'s, 'o> {
    items: &'s Schema,
    block: Block<'o>,
}

impl ser::SerializeSeq for Items<'_, '_> {
    type Ok = ();
    type Error = Unsupported;

    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<()> {
        self.block.take()?;
        value.serialize(Enc {
            schema: self.items,
            out: self.block.out,
        })
    }

    fn end(self) -> Result<()> {
        self.block.close()
    }
}

/// A map's entries, one block; keys are strings.
pub(crate) struct Entries<'s, 'o> {
    values: &'s Schema,
    block: Block<'o>,
}

impl ser::SerializeMap for Entries<'_, '_> {
    type Ok = ();
    type Error = Unsupported;

    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<()> {
        self.block.take()?;
        key.serialize(Enc {
            schema: &Schema::String,
            out: self.block.out,
        })
    }

    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<()> {
        value.serialize(Enc {
            schema: self.values,
            out: self.block.out,
        })
    }

    fn end(self) -> Result<()> {
        self.block.close()
    }
}

/// A record's fields, which must come in schema order.
pub(crate) struct Fields<'s, 'o> {
    record: &'s RecordSchema,
    next: usize,
    out: &'o mut Vec<u8>,
}

impl ser::SerializeStruct for Fields<'_, '_> {
    type Ok = ();
    type Error = Unsupported;

    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<()> {
        let Some(field) = self.record.fields.get(self.next) else {
            return Err(Unsupported(format!("field {key} after the last field")));
        };
        if field.name != key {
            return Err(Unsupported(format!(
                "field {key} where the schema has {}",
                field.name
            )));
        }
        self.next += 1;
        value.serialize(Enc {
            schema: &field.schema,
            out: self.out,
        })
    }

    fn end(self) -> Result<()> {
        match self.record.fields.get(self.next) {
            None => Ok(()),
            Some(missing) => Err(Unsupported(format!("field {} missing", missing.name))),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::samples;

    fn inline(kind: crate::event::EventKind) -> Schema {
        let codec = crate::codec::Codec::single_object().unwrap();
        codec.direct.get(&kind).cloned().expect("inlined schema")
    }

    fn same_as_apache<T: Serialize>(kind: crate::event::EventKind, value: &T) {
        let schema = inline(kind);
        let mut expected = Vec::new();
        apache_avro::write_avro_datum_ref(&schema, value, &mut expected).unwrap();
        let mut direct = Vec::new();
        encode(&schema, value, &mut direct).expect("encodes directly");
        assert_eq!(direct, expected, "{kind}: byte for byte");
    }

    #[test]
    fn every_event_kind_encodes_byte_for_byte_as_apache_avro_does() {
        use crate::event::EventKind as K;
        same_as_apache(K::LeadEvent, &samples::lead_event());
        same_as_apache(K::EnrichedLead, &samples::enriched_lead());
        same_as_apache(K::ScoredLead, &samples::scored_lead());
        same_as_apache(K::TierDecision, &samples::tier_decision());
        same_as_apache(K::HandoffPacket, &samples::handoff_packet());
        same_as_apache(K::RepState, &samples::rep_state());
        same_as_apache(K::DeliveryReceipt, &samples::delivery_receipt());
        same_as_apache(K::RepActivity, &samples::rep_activity());
        same_as_apache(K::SlaEscalation, &samples::sla_escalation());
        same_as_apache(K::SlaOutcome, &samples::sla_outcome());
        same_as_apache(K::LeadOutcome, &samples::lead_outcome());
        same_as_apache(K::ModelParams, &samples::model_params());
        same_as_apache(K::ExceptionRecord, &samples::exception_record());
        same_as_apache(K::ExceptionState, &samples::exception_state());
        same_as_apache(K::DedupKey, &samples::dedup_key());
        same_as_apache(K::DedupKeyBatch, &samples::dedup_key_batch());
    }

    #[test]
    fn empty_and_absent_values_encode_as_apache_avro_does() {
        use crate::event::EventKind as K;
        let mut lead = samples::lead_event();
        lead.attributes.clear();
        lead.contact.email = None;
        lead.contact.phone = None;
        same_as_apache(K::LeadEvent, &lead);
        let mut scored = samples::scored_lead();
        scored.factors.clear();
        same_as_apache(K::ScoredLead, &scored);
    }

    #[test]
    fn negative_and_large_numbers_use_zigzag_varints() {
        for (n, bytes) in [
            (0_i64, vec![0x00]),
            (-1, vec![0x01]),
            (1, vec![0x02]),
            (-64, vec![0x7f]),
            (64, vec![0x80, 0x01]),
            (
                i64::MAX,
                vec![0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
            ),
            (
                i64::MIN,
                vec![0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
            ),
        ] {
            let mut out = Vec::new();
            write_long(&mut out, n);
            assert_eq!(out, bytes, "{n}");
        }
    }

    #[test]
    fn a_field_out_of_schema_order_is_refused_not_misencoded() {
        #[derive(Serialize)]
        struct Swapped {
            b: String,
            a: i64,
        }
        let schema = Schema::parse_str(
            r#"{"type":"record","name":"R","fields":[{"name":"a","type":"long"},{"name":"b","type":"string"}]}"#,
        )
        .unwrap();
        let mut out = Vec::new();
        let refused = encode(
            &schema,
            &Swapped {
                b: "x".into(),
                a: 1,
            },
            &mut out,
        );
        assert!(refused.is_err(), "out-of-order fields must fall back");
    }
}
