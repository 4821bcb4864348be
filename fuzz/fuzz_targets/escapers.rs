//! leadflow-escape: every escaper on any UTF-8 string. Slack mrkdwn and text output never hold `<`,
//! `>` or an `&` that is not one of Slack's three escapes (no link, mention or `<!channel>` can
//! start); HTML and CRM output never hold a raw `<`, `>`, `"`, `'`; email output is one line;
//! `html` round-trips; `safe_link` accepts only http(s)://... and mailto: without controls.
#![no_main]

use leadflow_escape::{crm, email, html, safe_link, slack_mrkdwn, slack_text, unescape_entities};
use libfuzzer_sys::fuzz_target;

fn ampersands_are_escapes(s: &str, allowed: &[&str]) -> bool {
    s.match_indices('&')
        .all(|(i, _)| allowed.iter().any(|e| s[i..].starts_with(e)))
}

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    for out in [slack_mrkdwn(s), slack_text(s)] {
        assert!(!out.contains('<') && !out.contains('>'), "{out:?}");
        assert!(ampersands_are_escapes(&out, &["&amp;", "&lt;", "&gt;"]), "{out:?}");
    }
    assert!(!slack_text(s).chars().any(char::is_control));
    let html_entities = ["&amp;", "&lt;", "&gt;", "&quot;", "&#39;"];
    for out in [html(s), crm(s)] {
        assert!(!out.contains(['<', '>', '"', '\'']), "{out:?}");
        assert!(ampersands_are_escapes(&out, &html_entities), "{out:?}");
    }
    assert_eq!(unescape_entities(&html(s)), s);
    let e = email(s);
    assert!(!e.chars().any(char::is_control), "{e:?}");
    if safe_link(s) {
        let lower = s.to_ascii_lowercase();
        assert!(
            lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("mailto:"),
            "{s:?}"
        );
        assert!(!s.chars().any(char::is_control), "{s:?}");
    }
});
