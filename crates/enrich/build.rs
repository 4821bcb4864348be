//! Makes the versions of the reference data enrich embeds (Public Suffix List, libphonenumber
//! metadata, ISO 3166 table, disposable-domain list) visible to the code, from the workspace's
//! Cargo.lock, so /metrics and the start-up log can say which data a running binary holds.

use std::path::Path;

const CRATES: [(&str, &str); 5] = [
    ("psl", "LEADFLOW_REF_PSL"),
    ("phonenumber", "LEADFLOW_REF_PHONENUMBER"),
    ("celes", "LEADFLOW_REF_CELES"),
    ("mailchecker", "LEADFLOW_REF_MAILCHECKER"),
    ("email_address", "LEADFLOW_REF_EMAIL_ADDRESS"),
];

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    let lock = Path::new(&manifest).join("../../Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock.display());
    println!("cargo:rerun-if-changed=build.rs");
    let text = std::fs::read_to_string(&lock).unwrap_or_default();
    for (name, var) in CRATES {
        let version = locked_version(&text, name).unwrap_or("unknown");
        println!("cargo:rustc-env={var}={version}");
    }
}

/// The version of `[[package]] name = "<name>"` in a Cargo.lock (the first one listed).
fn locked_version<'a>(lock: &'a str, name: &str) -> Option<&'a str> {
    let wanted = format!("name = \"{name}\"");
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == wanted {
            let next = lines.next()?.trim();
            return next
                .strip_prefix("version = \"")
                .and_then(|v| v.strip_suffix('"'));
        }
    }
    None
}
