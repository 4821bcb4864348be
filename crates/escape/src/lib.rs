//! One escaping function per output format, for every lead-provided (or otherwise untrusted) string
//! that reaches a rendered output. A renderer never escapes by hand: it calls the function of its
//! format here (rules in `crates/notify/RULES.md`, section "Escaping").
//!
//! | format | function | what it guarantees |
//! | --- | --- | --- |
//! | Slack mrkdwn (block text) | [`slack_mrkdwn`] | no `<`, `>` and no `&` that is not one of the three escapes: no link, mention, `<!channel>` or `<!date>` can start inside the value |
//! | Slack `text` fallback (notification text) | [`slack_text`] | as `slack_mrkdwn`, and on one line (controls and line breaks become spaces) |
//! | HTML (text and quoted attributes) | [`html`] | no raw `<`, `>`, `"`, `'`; every `&` starts an entity |
//! | CRM notes and task bodies (HubSpot renders them as HTML) | [`crm`] | as `html`, controls other than line breaks removed |
//! | email (plain-text body and subject lines) | [`email`] | one line: no CR, LF or other control character, so a value cannot add header or body lines |
//!
//! Link targets are a separate question from escaping: [`safe_link`] says whether a URL may become a
//! clickable link (http, https, mailto only).

/// Slack mrkdwn: `&` → `&amp;`, `<` → `&lt;`, `>` → `&gt;` (Slack's own three escapes). Control
/// characters other than line breaks are dropped.
pub fn slack_mrkdwn(s: &str) -> String {
    slack_escaped(s, true)
}

/// Slack's plain `text` (the notification and screen-reader text). Slack parses it like mrkdwn, so
/// it gets the same three escapes; it is one line, so every control character (line breaks too)
/// becomes a space.
pub fn slack_text(s: &str) -> String {
    slack_escaped(s, false)
}

/// Slack's three escapes. `multi_line`: line breaks are kept and other control characters dropped
/// (mrkdwn); otherwise every control character, line breaks too, becomes a space (one line).
fn slack_escaped(s: &str, multi_line: bool) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\n' if multi_line => out.push('\n'),
            c if c.is_control() && multi_line => {}
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// HTML text and quoted attribute values: `&`, `<`, `>`, `"`, `'` as entities.
pub fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    push_html(&mut out, s);
    out
}

fn push_html(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// CRM notes and task bodies (HubSpot stores and shows them as HTML): HTML-escaped, control
/// characters other than line breaks and tabs removed.
pub fn crm(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' | '\t' => out.push(c),
            c if c.is_control() => {}
            c => push_html(&mut out, c.encode_utf8(&mut [0; 4])),
        }
    }
    out
}

/// A value in a plain-text email (a subject or a `Label: value` line): every control character,
/// CR and LF included, becomes a space, so a value is always one line of its own field.
pub fn email(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Whether `url` may be rendered as a clickable link: only `http:`, `https:` and `mailto:` (scheme
/// case-insensitive, no leading blanks or controls). `javascript:`, `data:`, `vbscript:`,
/// relative and scheme-less URLs are not links.
pub fn safe_link(url: &str) -> bool {
    let Some((scheme, rest)) = url.split_once(':') else {
        return false;
    };
    if url.chars().any(char::is_control) {
        return false;
    }
    match scheme.to_ascii_lowercase().as_str() {
        "http" | "https" => rest.starts_with("//") && rest.len() > 2,
        "mailto" => !rest.is_empty(),
        _ => false,
    }
}

/// Reverses [`html`] (and [`slack_mrkdwn`]'s three escapes): for round-trip checks.
pub fn unescape_entities(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests;
