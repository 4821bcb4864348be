//! The codec: both framings, every event kind, current and historical writer schemas.
//!
//! Input byte 0 picks the mode: raw bytes to the registry-less codec (header parsing, unknown
//! framings), or a known frame header (single-object fingerprint or Confluent schema id, chosen by
//! byte 1) followed by the rest of the input as the Avro body. Whatever decodes must round-trip.
#![no_main]

use leadflow_fuzz::{codecs, decode_every_kind};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let c = codecs();
    let [mode, pick, body @ ..] = data else {
        decode_every_kind(c, &c.single, data);
        return;
    };
    match mode % 3 {
        0 => decode_every_kind(c, &c.single, &data[1..]),
        1 => {
            let (_, header) = &c.single_headers[*pick as usize % c.single_headers.len()];
            let mut framed = header.clone();
            framed.extend_from_slice(body);
            decode_every_kind(c, &c.single, &framed);
        }
        _ => {
            let (_, header) = &c.confluent_headers[*pick as usize % c.confluent_headers.len()];
            let mut framed = header.clone();
            framed.extend_from_slice(body);
            decode_every_kind(c, &c.confluent, &framed);
        }
    }
});
