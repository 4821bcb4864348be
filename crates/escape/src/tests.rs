use proptest::prelude::*;

use super::*;

const HOSTILE: &[&str] = &[
    "<!channel>",
    "<!here|here>",
    "<@U123>",
    "<https://evil.example|Reset password>",
    "&lt;!channel&gt;",
    "&amp",
    "\"><script>alert(1)</script>",
    "' onmouseover='x",
    "a\r\nBcc: victim@example.com",
    "line\u{0}null\u{1b}[31m",
];

/// Every `&` in `s` starts one of the escapes in `allowed`.
fn ampersands_are_escapes(s: &str, allowed: &[&str]) -> bool {
    s.match_indices('&')
        .all(|(i, _)| allowed.iter().any(|e| s[i..].starts_with(e)))
}

#[test]
fn the_issue_strings_are_inert_in_slack() {
    assert_eq!(slack_text("<!channel>"), "&lt;!channel&gt;");
    assert_eq!(
        slack_mrkdwn("<https://evil.example|Reset password>"),
        "&lt;https://evil.example|Reset password&gt;"
    );
    assert_eq!(slack_text("a\nb"), "a b");
    assert_eq!(slack_mrkdwn("a\nb"), "a\nb");
}

#[test]
fn slack_mrkdwn_keeps_line_breaks_and_drops_controls_slack_text_makes_them_spaces() {
    assert_eq!(slack_mrkdwn("a\tb\nc\r<d>"), "ab\nc&lt;d&gt;");
    assert_eq!(slack_text("a\tb\nc\r<d>"), "a b c &lt;d&gt;");
}

#[test]
fn html_and_crm_escape_quotes_too() {
    assert_eq!(html("\"><script>'"), "&quot;&gt;&lt;script&gt;&#39;");
    assert_eq!(crm("a<b>\n\u{7}c"), "a&lt;b&gt;\nc");
    assert_eq!(email("x\r\nBcc: y"), "x  Bcc: y");
}

#[test]
fn only_web_and_mail_urls_are_links() {
    for ok in [
        "https://x.test/a?b=1",
        "http://x.test",
        "HTTPS://x.test",
        "mailto:a@b.test",
    ] {
        assert!(safe_link(ok), "{ok}");
    }
    for bad in [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html,<script>",
        "vbscript:x",
        "//evil.example",
        "/relative",
        "https:",
        "mailto:",
        "",
    ] {
        assert!(!safe_link(bad), "{bad:?}");
    }
}

#[test]
fn fixed_hostile_strings() {
    for s in HOSTILE {
        check_all(s);
    }
}

fn check_all(s: &str) {
    let m = slack_mrkdwn(s);
    assert!(!m.contains('<') && !m.contains('>'), "{m}");
    assert!(
        ampersands_are_escapes(&m, &["&amp;", "&lt;", "&gt;"]),
        "{m}"
    );
    let t = slack_text(s);
    assert!(
        !t.contains('<') && !t.contains('>') && !t.contains('\n'),
        "{t}"
    );
    assert!(
        ampersands_are_escapes(&t, &["&amp;", "&lt;", "&gt;"]),
        "{t}"
    );
    for h in [html(s), crm(s)] {
        for raw in ['<', '>', '"', '\''] {
            assert!(!h.contains(raw), "{h}");
        }
        assert!(
            ampersands_are_escapes(&h, &["&amp;", "&lt;", "&gt;", "&quot;", "&#39;"]),
            "{h}"
        );
    }
    let e = email(s);
    assert!(!e.chars().any(char::is_control), "{e:?}");
    assert_eq!(e.chars().count(), s.chars().count());
    // round trips where nothing is dropped
    assert_eq!(unescape_entities(&html(s)), s);
    if !s.chars().any(|c| c.is_control() && c != '\n') {
        assert_eq!(unescape_entities(&slack_mrkdwn(s)), s);
    }
}

fn hostile() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "<",
        ">",
        "&",
        "\"",
        "'",
        "!channel",
        "!here",
        "@U1",
        "|",
        "http://x",
        "javascript:",
        "amp;",
        "lt;",
        "gt;",
        "#39;",
        "quot;",
        "\n",
        "\r",
        "\u{0}",
        "\u{1b}",
        "é",
        "🔥",
        " ",
        "*",
        "_",
    ]);
    prop::collection::vec(
        prop_oneof![pieces.prop_map(str::to_owned), any::<String>()],
        0..24,
    )
    .prop_map(|v| v.concat())
}

proptest! {
    #[test]
    fn escapers_leave_no_control_sequence(s in hostile()) {
        check_all(&s);
    }

    #[test]
    fn escaping_twice_is_escaping_the_escaped(s in hostile()) {
        // an escaper is a pure function of its input: no state, no partial escapes
        prop_assert_eq!(unescape_entities(&html(&html(&s))), html(&s));
    }
}
