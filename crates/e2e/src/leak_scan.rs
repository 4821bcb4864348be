//! The scanner of the "no personal data or secrets in logs" test
//! (`tests/no_pii_or_secrets_in_logs.rs`): recognisable canaries planted in leads (names, emails,
//! phones) and configured as secrets, searched for in every log line and `/metrics` body. The test's
//! own checks of the check (planted leaks are flagged, clean lines are not) use these same functions.

use std::path::{Path, PathBuf};

use leadflow_events::LeadEvent;

/// Gives lead `i` recognisable personal data, and returns the strings that must never be logged for
/// it: the first and last name, the email's local part and whole address (lower-cased, as enrich
/// normalises it), and the phone as given, in E.164 and as its national significant number.
///
/// A third of the leads (`i % 3 == 0`) get an invalid address (`local@@domain`), so the exception
/// path runs too; the others keep the generated lead's domain so they enrich and hand off as usual.
/// The phones are UK drama numbers (+44 20 7946 0xxx), never assigned.
pub fn with_pii(mut lead: LeadEvent, i: usize) -> (LeadEvent, Vec<String>) {
    let first = format!("Zebulonpii{i}");
    let last = format!("Quixcanary{i}");
    let local = format!("zq.canary{i}");
    let domain = lead
        .contact
        .email
        .as_deref()
        .and_then(|e| e.split_once('@').map(|(_, d)| d.to_owned()))
        .unwrap_or_else(|| "example.com".into());
    let email = if i % 3 == 0 {
        format!("{local}@@{domain}")
    } else {
        format!("{local}@{domain}")
    };
    let national = format!("2079460{i:03}");
    let phone = format!("+44 20 7946 0{i:03}");
    lead.contact.first_name = Some(first.clone());
    lead.contact.last_name = Some(last.clone());
    lead.contact.email = Some(email.clone());
    lead.contact.phone = Some(phone.clone());
    let canaries = vec![
        first,
        last,
        local,
        email.to_ascii_lowercase(),
        phone,
        format!("+44{national}"),
        national,
    ];
    (lead, canaries)
}

/// Every canary found in `text` (case-insensitively), with the whole line it is on; one entry per
/// canary found (its first occurrence).
pub fn leaks<'a>(text: &'a str, canaries: &[String]) -> Vec<(String, &'a str)> {
    // ASCII lower-casing keeps every byte offset, so positions in `lower` are positions in `text`
    let lower = text.to_ascii_lowercase();
    let mut found = Vec::new();
    for c in canaries {
        let c_lower = c.to_ascii_lowercase();
        if let Some(at) = lower.find(&c_lower) {
            let start = text[..at].rfind('\n').map_or(0, |n| n + 1);
            let end = text[at..].find('\n').map_or(text.len(), |n| at + n);
            found.push((c.clone(), &text[start..end]));
        }
    }
    found
}

/// The text of every file under `dir` (recursively), concatenated: what the processes of a test
/// wrote to their log files, including after they were stopped. Bytes that are not UTF-8 are
/// replaced, never a reason to skip a file.
pub fn read_logs_under(dir: &Path) -> String {
    let mut all = String::new();
    for file in files_under(dir) {
        if let Ok(bytes) = std::fs::read(&file) {
            all.push_str(&String::from_utf8_lossy(&bytes));
            all.push('\n');
        }
    }
    all
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}
