//! `GET /`: what arrived, as a person would see it — Slack messages rendered from their Block Kit
//! blocks, CRM contacts with their tasks and notes, the emails, the faults in force and the last
//! requests. Refreshes itself every 3 seconds.

use std::fmt::Write;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::response::Html;
use axum::routing::get;
use leadflow_escape::{html as esc, safe_link, unescape_entities};
use leadflow_events::slack_actions::{ACCEPT, BLOCK_PREFIX, CONTACTED, REJECT};
use serde_json::Value;

use crate::state::{CrmObject, SandboxState};

pub(crate) fn routes() -> Router<Arc<SandboxState>> {
    Router::new().route("/", get(index))
}

/// A link when `url` is http, https or mailto; anything else (`javascript:`, `data:`...) is shown
/// as text, never as an `href`.
fn link(url: &str, label_html: &str, class: &str) -> String {
    if safe_link(url) {
        format!("<a{class} href=\"{}\">{label_html}</a>", esc(url))
    } else {
        format!(
            "<span{class} title=\"not a link: {}\">{label_html}</span>",
            esc(url)
        )
    }
}

/// Text as Slack (its `&amp;`, `&lt;`, `&gt;` escapes) or HubSpot (HTML entities in task and note
/// bodies) shows it, escaped again for this page: entities decoded, nothing interpreted as markup.
fn text_html(s: &str) -> String {
    esc(&unescape_entities(s))
}

/// Slack mrkdwn → HTML: `<url|text>` links, `<@U1>` mentions, `*bold*`, `_italic_`, newlines.
pub(crate) fn mrkdwn(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find('<') {
        out.push_str(&emphasis(&text_html(&rest[..start])));
        let Some(len) = rest[start..].find('>') else {
            out.push_str(&text_html(&rest[start..]));
            rest = "";
            break;
        };
        let inner = &rest[start + 1..start + len];
        if inner.starts_with('!') {
            // <!date^...|fallback>, <!here>: the fallback text.
            let label = inner.split_once('|').map_or(inner, |(_, l)| l);
            out.push_str(&text_html(label));
        } else if let Some(user) = inner.strip_prefix('@') {
            let _ = write!(out, "<span class=\"mention\">@{}</span>", esc(user));
        } else {
            let (url, label) = inner.split_once('|').unwrap_or((inner, inner));
            out.push_str(&link(&unescape_entities(url), &text_html(label), ""));
        }
        rest = &rest[start + len + 1..];
    }
    out.push_str(&emphasis(&text_html(rest)));
    out.replace('\n', "<br>")
}

/// `*bold*` pairs (an unpaired `*` stays as it is).
fn emphasis(s: &str) -> String {
    let parts: Vec<&str> = s.split('*').collect();
    let mut out = String::new();
    let pairs = (parts.len() - 1) / 2;
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            if i <= pairs * 2 {
                out.push_str(if i % 2 == 1 { "<b>" } else { "</b>" });
            } else {
                out.push('*');
            }
        }
        out.push_str(p);
    }
    out
}

fn render_blocks(blocks: &Value, fallback: &str, ts: &str) -> String {
    let Some(blocks) = blocks.as_array() else {
        return format!("<div class=\"section\">{}</div>", mrkdwn(fallback));
    };
    let mut out = String::new();
    for b in blocks {
        let text = |v: &Value| -> String {
            let t = v["text"].as_str().unwrap_or_default();
            if v["type"] == "plain_text" {
                esc(t)
            } else {
                mrkdwn(t)
            }
        };
        match b["type"].as_str().unwrap_or_default() {
            "header" => {
                let _ = write!(out, "<div class=\"header\">{}</div>", text(&b["text"]));
            }
            "section" => {
                out.push_str("<div class=\"section\">");
                if !b["text"].is_null() {
                    let _ = write!(out, "<div>{}</div>", text(&b["text"]));
                }
                if let Some(fields) = b["fields"].as_array() {
                    out.push_str("<div class=\"fields\">");
                    for f in fields {
                        let _ = write!(out, "<div>{}</div>", text(f));
                    }
                    out.push_str("</div>");
                }
                out.push_str("</div>");
            }
            "context" => {
                out.push_str("<div class=\"context\">");
                for e in b["elements"].as_array().into_iter().flatten() {
                    let _ = write!(out, "<span>{}</span> ", text(e));
                }
                out.push_str("</div>");
            }
            "actions"
                if b["block_id"]
                    .as_str()
                    .is_some_and(|id| id.starts_with(BLOCK_PREFIX)) =>
            {
                out.push_str(&rep_controls(b, ts));
            }
            "actions" => {
                out.push_str("<div class=\"actions\">");
                for e in b["elements"].as_array().into_iter().flatten() {
                    let style = if e["style"] == "primary" {
                        " primary"
                    } else {
                        ""
                    };
                    out.push_str(&link(
                        e["url"].as_str().unwrap_or_default(),
                        &text(&e["text"]),
                        &format!(" class=\"button{style}\""),
                    ));
                }
                out.push_str("</div>");
            }
            "divider" => out.push_str("<hr>"),
            _ => {}
        }
    }
    out
}

/// Accept / Contacted / Reject as forms that post the click to the sandbox, which sends it to
/// leadflow as Slack would (`interact.rs`).
fn rep_controls(block: &Value, ts: &str) -> String {
    let mut out = String::from("<div class=\"actions rep-controls\">");
    for e in block["elements"].as_array().into_iter().flatten() {
        let form = |action: &str, inner: &str| {
            format!(
                "<form method=\"post\" action=\"/slack/click\" class=\"inline\"><input type=\"hidden\" name=\"ts\" value=\"{}\"><input type=\"hidden\" name=\"action\" value=\"{action}\">{inner}</form>",
                esc(ts)
            )
        };
        let label = esc(e["text"]["text"].as_str().unwrap_or_default());
        match e["action_id"].as_str().unwrap_or_default() {
            ACCEPT => out.push_str(&form(
                "accept",
                &format!(
                    "<button class=\"button primary\" data-action=\"accept\">{label}</button>"
                ),
            )),
            CONTACTED => out.push_str(&form(
                "contacted",
                &format!("<button class=\"button\" data-action=\"contacted\">{label}</button>"),
            )),
            REJECT => {
                let mut options = String::new();
                for o in e["options"].as_array().into_iter().flatten() {
                    let _ = write!(
                        options,
                        "<option value=\"{}\">{}</option>",
                        esc(o["value"].as_str().unwrap_or_default()),
                        esc(o["text"]["text"].as_str().unwrap_or_default())
                    );
                }
                out.push_str(&form("reject", &format!("<select name=\"reason\">{options}</select> <button class=\"button\" data-action=\"reject\">Reject</button>")));
            }
            _ => {}
        }
    }
    out.push_str("</div>");
    out
}

fn prop(o: &CrmObject, name: &str) -> String {
    match o.properties.get(name) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(v) => v.to_string(),
    }
}

fn due(ms: &str) -> String {
    ms.parse::<i64>()
        .ok()
        .and_then(chrono::DateTime::from_timestamp_millis)
        .map_or_else(
            || ms.to_owned(),
            |t| t.format("%Y-%m-%d %H:%M UTC").to_string(),
        )
}

async fn index(State(state): State<Arc<SandboxState>>) -> Html<String> {
    let mut html = String::from(STYLE);
    let slack = state.slack_messages();
    let contacts = state.crm_objects("contacts");
    let tasks = state.crm_objects("tasks");
    let notes = state.crm_objects("notes");
    let emails = state.emails();
    let requests = state.requests();
    let _ = write!(
        html,
        "<h1>leadflow sandbox</h1><p class=\"summary\">{} Slack message(s) · {} contact(s), {} task(s), {} note(s) · {} email(s) · {} request(s) recorded</p>",
        slack.len(),
        contacts.len(),
        tasks.len(),
        notes.len(),
        emails.len(),
        requests.len()
    );
    let faults = state.faults();
    if !faults.is_empty() {
        html.push_str("<div class=\"faults\"><b>Faults in force:</b> ");
        for (s, f) in faults {
            let _ = write!(html, "{} → {:?} ", s.as_str(), f.mode);
        }
        html.push_str("</div>");
    }
    html.push_str("<div class=\"cols\"><section><h2>Slack</h2>");
    for m in slack.iter().rev() {
        let _ = write!(
            html,
            "<div class=\"msg\"><div class=\"who\"><span class=\"bot\">leadflow</span> <span class=\"app\">APP</span> <span class=\"meta\">{} · {} · ts {}</span></div>{}</div>",
            esc(&m.channel),
            m.via,
            esc(&m.ts),
            render_blocks(&m.blocks, &m.text, &m.ts)
        );
        for e in state.ephemerals(&m.ts) {
            let _ = write!(
                html,
                "<div class=\"ephemeral\"><span class=\"meta\">Only visible to you</span> {}</div>",
                mrkdwn(&e)
            );
        }
    }
    html.push_str("</section><section><h2>CRM (HubSpot)</h2>");
    let lists = state.lists();
    for c in contacts.iter().rev() {
        let name = format!("{} {}", prop(c, "firstname"), prop(c, "lastname"));
        // the nurture sequences' lists the contact was enrolled in
        let member_of: Vec<&str> = lists
            .iter()
            .filter(|(_, members)| members.contains(&c.id))
            .map(|(id, _)| id.as_str())
            .collect();
        let _ = write!(
            html,
            "<div class=\"card\"><div class=\"contact\">{} <span class=\"meta\">contact {} · {} · {} · owner {}{}</span></div>",
            esc(name.trim()),
            esc(&c.id),
            esc(&prop(c, "email")),
            esc(&prop(c, "company")),
            esc(&Some(prop(c, "hubspot_owner_id"))
                .filter(|o| !o.is_empty())
                .unwrap_or_else(|| "unassigned".into())),
            if member_of.is_empty() {
                String::new()
            } else {
                format!(" · in list {}", esc(&member_of.join(", ")))
            }
        );
        for t in tasks.iter().filter(|t| {
            c.associations
                .get("tasks")
                .is_some_and(|l| l.contains(&t.id))
        }) {
            let _ = write!(
                html,
                "<div class=\"task\"><b>Task:</b> {} <span class=\"meta\">due {} · {} · {} · owner {} · written {}×</span>{}<div class=\"body\">{}</div></div>",
                text_html(&prop(t, "hs_task_subject")),
                esc(&due(&prop(t, "hs_timestamp"))),
                esc(&prop(t, "hs_task_priority")),
                esc(&prop(t, "hs_task_status")),
                esc(&prop(t, "hubspot_owner_id")),
                t.writes,
                if prop(t, "hs_task_status") == "COMPLETED" {
                    String::new()
                } else {
                    format!(
                        " <form method=\"post\" action=\"/hubspot/complete/{}\" class=\"inline\"><button class=\"button\" data-action=\"complete\">Complete</button></form>",
                        esc(&t.id)
                    )
                },
                text_html(&prop(t, "hs_task_body")).replace('\n', "<br>")
            );
        }
        for n in notes.iter().filter(|n| {
            c.associations
                .get("notes")
                .is_some_and(|l| l.contains(&n.id))
        }) {
            let _ = write!(
                html,
                "<details class=\"note\"><summary><b>Note</b> (context packet) <span class=\"meta\">{}</span></summary><pre>{}</pre></details>",
                esc(&due(&prop(n, "hs_timestamp"))),
                text_html(&prop(n, "hs_note_body"))
            );
        }
        html.push_str("</div>");
    }
    html.push_str("</section></div><section><h2>Email (fallback)</h2>");
    for e in emails.iter().rev() {
        let _ = write!(
            html,
            "<details class=\"card\"><summary><b>{}</b> <span class=\"meta\">to {} · {}</span></summary><pre>{}</pre></details>",
            esc(&e.subject),
            esc(&e.to.join(", ")),
            esc(e.message_id.as_deref().unwrap_or("")),
            esc(&e.data)
        );
    }
    html.push_str("</section><section><h2>Last requests</h2><table><tr><th>#</th><th>at</th><th>service</th><th>request</th><th>status</th><th>fault</th></tr>");
    for r in requests.iter().rev().take(40) {
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{} {}</td><td>{}</td><td>{}</td></tr>",
            r.seq,
            esc(&r.at),
            r.service.as_str(),
            esc(&r.method),
            esc(&r.path),
            r.status,
            esc(r.fault.as_deref().unwrap_or(""))
        );
    }
    html.push_str("</table></section></body></html>");
    Html(html)
}

const STYLE: &str = r#"<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="3"><title>leadflow sandbox</title><style>
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:16px 24px;color:#1d1c1d;background:#f8f8f8}
h1{margin:0 0 4px}h2{border-bottom:1px solid #ddd;padding-bottom:4px}
.summary,.meta{color:#616061;font-size:12px}.faults{background:#fde8e8;border:1px solid #e01e5a;padding:6px 10px;border-radius:6px;margin:8px 0}
.cols{display:flex;gap:24px}.cols section{flex:1;min-width:0}
.msg{background:#fff;border:1px solid #e2e2e2;border-radius:8px;padding:10px 14px;margin:8px 0}
.who{margin-bottom:4px}.bot{font-weight:700}.app{background:#e8e8e8;font-size:10px;padding:1px 3px;border-radius:2px}
.header{font-size:18px;font-weight:700;margin:4px 0}.section{margin:6px 0;line-height:1.4}
.fields{display:grid;grid-template-columns:1fr 1fr;gap:4px 16px;margin-top:4px}
.context{color:#616061;font-size:12px;margin:4px 0}.mention{background:#e8f5fa;color:#1264a3;border-radius:3px;padding:0 2px}
.actions{margin:6px 0}.button{display:inline-block;border:1px solid #bbb;border-radius:4px;padding:3px 10px;margin-right:6px;color:#1d1c1d;text-decoration:none;font-weight:600;font-size:13px}
.button.primary{background:#007a5a;color:#fff;border-color:#007a5a}
form.inline{display:inline}button.button{cursor:pointer;background:#fff}button.button.primary{background:#007a5a}
.ephemeral{background:#f4ede4;border-left:3px solid #e8912d;padding:4px 10px;margin:-4px 0 8px;font-size:13px}
.card{background:#fff;border:1px solid #cbd6e2;border-radius:6px;padding:10px 14px;margin:8px 0}
.contact{font-weight:700;color:#33475b}.task{border-left:3px solid #ff7a59;padding-left:8px;margin:8px 0}.body{font-size:13px;margin-top:3px}
.note{border-left:3px solid #00bda5;padding-left:8px;margin:8px 0}pre{white-space:pre-wrap;font-size:12px;background:#f5f8fa;padding:6px}
table{border-collapse:collapse;font-size:12px;background:#fff}td,th{border:1px solid #ddd;padding:2px 6px;text-align:left}
</style></head><body>"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mrkdwn_renders_links_mentions_and_escapes() {
        let html = mrkdwn("<@U123> *hot* lead <https://x.test/a?b=1|open> & <b>");
        assert!(
            html.contains("<span class=\"mention\">@U123</span>"),
            "{html}"
        );
        assert!(html.contains("<b>hot</b>"), "{html}");
        assert!(
            html.contains("<a href=\"https://x.test/a?b=1\">open</a>"),
            "{html}"
        );
        assert!(html.contains("&amp;"), "{html}");
    }

    #[test]
    fn only_http_https_and_mailto_urls_become_links() {
        let html = mrkdwn(
            "<javascript:alert(document.cookie)|Reset password> <JaVaScRiPt:x> <data:text/html,x|d> <mailto:a@b.test|mail>",
        );
        assert!(!html.contains("href=\"javascript"), "{html}");
        assert!(
            !html.to_ascii_lowercase().contains("href=\"javascript"),
            "{html}"
        );
        assert!(!html.contains("href=\"data:"), "{html}");
        assert!(html.contains("Reset password"), "{html}");
        assert!(
            html.contains("<a href=\"mailto:a@b.test\">mail</a>"),
            "{html}"
        );
        let blocks = serde_json::json!([{"type": "actions", "elements": [
            {"type": "button", "text": {"type": "plain_text", "text": "Book"}, "url": "javascript:alert(1)"},
            {"type": "button", "text": {"type": "plain_text", "text": "CRM"}, "url": "https://crm.test/1"}
        ]}]);
        let html = render_blocks(&blocks, "", "1.000001");
        assert!(!html.contains("href=\"javascript"), "{html}");
        assert!(html.contains("href=\"https://crm.test/1\""), "{html}");
    }

    #[test]
    fn escaped_slack_text_is_shown_as_slack_shows_it() {
        // notify escapes a lead named <!channel>: Slack shows the characters, not a mention
        let html = mrkdwn("Lead &lt;!channel&gt; at &lt;https://evil.example|Reset&gt; &amp; co");
        assert!(
            html.contains("Lead &lt;!channel&gt; at &lt;https://evil.example|Reset&gt; &amp; co"),
            "{html}"
        );
        assert!(!html.contains("<a "), "{html}");
    }

    #[test]
    fn a_quote_in_a_url_cannot_leave_the_attribute() {
        let html = mrkdwn("<https://x.test/\" onmouseover=\"alert(1)|x> <https://x.test/'a|y>");
        assert!(!html.contains("\" onmouseover"), "{html}");
        assert!(!html.contains("'a"), "{html}");
    }
}
