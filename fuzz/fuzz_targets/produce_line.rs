//! `leadflow produce`'s JSON line parser, for every event kind: a line parses to an event or a
//! `BadLine` error; a parsed event encodes (or fails with an error the command reports) and what
//! encodes decodes back to the same event.
#![no_main]

use leadflow_events::EventKind;
use leadflow_fuzz::{assert_round_trips, codecs};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(line) = std::str::from_utf8(rest) else {
        return;
    };
    let kind = EventKind::ALL[*pick as usize % EventKind::ALL.len()];
    let Ok(event) = leadflow_cli::produce::parse_line(kind, line, 1) else {
        return;
    };
    let c = codecs();
    // a value the schema cannot hold is a reported error (`produce` names the line), not a crash
    if c.rt.block_on(event.encode(&c.single, "fuzz")).is_ok() {
        assert_round_trips(c, &c.single, &event);
    }
});
