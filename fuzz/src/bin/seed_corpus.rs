//! Writes the seed corpus of every fuzz target to `fuzz/seeds/<target>/` from generated leads
//! (`leadflow generate`'s generator, seed 42) and one sample of every event kind. Run by
//! `scripts/fuzz.sh` before fuzzing; the files are regenerated, not committed.

use std::path::{Path, PathBuf};

use leadflow_cli::generate::LeadGenerator;
use leadflow_events::{AnyEvent, EventKind, Timestamp};
use leadflow_fuzz::{codecs, every_sample};

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::create_dir_all(dir).expect("seed directory");
    std::fs::write(dir.join(name), bytes).expect("seed file");
}

fn main() {
    let root = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "fuzz/seeds".into()));
    let c = codecs();
    let start = Timestamp::parse_rfc3339("2026-11-20T09:00:00Z").expect("time");
    let mut generator = LeadGenerator::new(42, start);
    let mut events: Vec<AnyEvent> = every_sample();
    let mut normalisers = Vec::new();
    for _ in 0..40 {
        let lead = generator.next_lead().event;
        let field = |v: &Option<String>| v.clone().unwrap_or_default();
        normalisers.push(format!(
            "{}\u{1f}{}\u{1f}{}\u{1f}{}",
            field(&lead.contact.email),
            field(&lead.contact.phone),
            field(&lead.contact.country),
            field(&lead.account_domain)
        ));
        events.push(lead.into());
    }

    for (i, event) in events.iter().enumerate() {
        let kind = event.kind();
        let k = EventKind::ALL.iter().position(|x| *x == kind).unwrap_or(0) as u8;
        // codec: raw single-object frame, and the body behind each framing's header
        let single = c.rt.block_on(event.encode(&c.single, "fuzz")).expect("encodes");
        let mut raw = vec![0u8];
        raw.extend_from_slice(&single);
        write(&root.join("codec"), &format!("raw-{i}"), &raw);
        let pick = c.single_headers.iter().position(|(_, h)| single.starts_with(h)).unwrap_or(0);
        let mut framed = vec![1u8, pick as u8];
        framed.extend_from_slice(&single[10..]);
        write(&root.join("codec"), &format!("single-{i}"), &framed);
        let pick = c.confluent_headers.iter().position(|(kk, _)| *kk == kind).unwrap_or(0);
        let mut framed = vec![2u8, pick as u8];
        framed.extend_from_slice(&single[10..]);
        write(&root.join("codec"), &format!("confluent-{i}"), &framed);
        // produce: the JSON line `leadflow tail` prints and `produce` reads
        let json = event.to_json().expect("json").to_string();
        let mut line = vec![k];
        line.extend_from_slice(json.as_bytes());
        write(&root.join("produce_line"), &format!("line-{i}"), &line);
    }
    for (i, n) in normalisers.iter().enumerate() {
        write(&root.join("normalisers"), &format!("lead-{i}"), n.as_bytes());
    }
    // config: each service's documented config file, with the settings type it belongs to
    let configs = [
        (0u8, "leadflow.toml"),
        (1, "enrich.toml"),
        (2, "score.toml"),
        (3, "tier.toml"),
        (4, "route.toml"),
        (5, "sla-watchdog.toml"),
    ];
    let deploy = root.join("../../deploy/config");
    for (pick, file) in configs {
        if let Ok(text) = std::fs::read(deploy.join(file)) {
            let mut seed = vec![pick];
            seed.extend_from_slice(&text);
            write(&root.join("config"), file, &seed);
        }
    }
    println!("seed corpus written to {}", root.display());
}
