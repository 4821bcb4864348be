#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! `leadflow-console` (what `leadflow console` runs, with the same arguments) as a process against
//! the local broker, driven over raw HTTP/1.1: a forged post (no CSRF token, a foreign Origin, a
//! foreign Host, another exception's ticket) changes nothing; the console's own form, with its
//! cookie, token and ticket, does. A non-loopback listen address without a login is refused; with a
//! token, every page asks for the login first. The state is read back through the CLI's library (the
//! queue `leadflow exceptions list` shows).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use leadflow_cli::exceptions::{render, store};
use leadflow_cli::kafka::CliConfig;
use leadflow_events::{Codec, ErrorKind, ExceptionRecord, Timestamp};
use leadflow_testkit::{bootstrap, create_topic, free_port, produce_raw, unique_name};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_leadflow-console");

struct Env {
    vars: Vec<(String, String)>,
    /// The same topics, for reading the queue through the CLI's library.
    cfg: CliConfig,
    exceptions: String,
    raw: String,
}

async fn env(bs: &str) -> Env {
    let (raw, exceptions, state) = (
        unique_name("raw"),
        unique_name("exceptions"),
        unique_name("exceptions-state"),
    );
    for t in [&raw, &exceptions, &state] {
        create_topic(bs, t, 1).await;
    }
    let mut cfg = CliConfig {
        bootstrap_servers: bs.into(),
        ..CliConfig::default()
    };
    cfg.topics.raw = raw.clone();
    cfg.topics.exceptions = exceptions.clone();
    cfg.topics.exceptions_state = state.clone();
    Env {
        cfg,
        vars: vec![
            ("LEADFLOW_BOOTSTRAP_SERVERS".into(), bs.into()),
            ("LEADFLOW_TOPICS__RAW".into(), raw.clone()),
            ("LEADFLOW_TOPICS__EXCEPTIONS".into(), exceptions.clone()),
            ("LEADFLOW_TOPICS__EXCEPTIONS_STATE".into(), state),
        ],
        exceptions,
        raw,
    }
}

fn command(e: &Env) -> Command {
    let mut cmd = Command::new(BIN);
    for (key, _) in std::env::vars() {
        if key.starts_with("LEADFLOW_") {
            cmd.env_remove(key);
        }
    }
    for (k, v) in &e.vars {
        cmd.env(k, v);
    }
    cmd
}

fn cli(e: &Env, args: &[&str]) -> Output {
    command(e).args(args).output().expect("leadflow runs")
}

async fn raise(bs: &str, e: &Env, id: &str) {
    let now = Timestamp::from(chrono::Utc::now());
    let record = ExceptionRecord {
        exception_id: id.into(),
        stage: "enrich".into(),
        source_topic: e.raw.clone(),
        source_partition: 0,
        source_offset: 0,
        source_key: Some("lead-1".into()),
        error_kind: ErrorKind::Validation,
        reason: "email is not valid".into(),
        owner: "marketing-ops".into(),
        lead_id: Some("lead-1".into()),
        raised_at: now,
        due_at: Timestamp(now.0 + 86_400_000),
        original: Vec::new(),
    };
    let codec = Codec::single_object().unwrap();
    let bytes = codec.encode(&e.exceptions, &record).await.unwrap();
    produce_raw(bs, &e.exceptions, Some(id.as_bytes()), &bytes).await;
}

/// The exception's status as `leadflow exceptions list --all --json` shows it.
async fn status_of(e: &Env, id: &str) -> String {
    let codec = Codec::single_object().unwrap();
    let queue = store::load(&e.cfg, &codec).await.expect("the queue loads");
    let now = Timestamp::from(chrono::Utc::now());
    queue
        .get(id)
        .map(|entry| {
            let v: Value = render::entry_json(entry, now);
            v["status"].as_str().unwrap_or_default().to_owned()
        })
        .unwrap_or_default()
}

struct Console {
    child: Child,
    port: u16,
}

impl Drop for Console {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(e: &Env, extra_env: &[(&str, &str)]) -> Console {
    let port = free_port();
    let mut cmd = command(e);
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let child = cmd
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("console starts");
    let c = Console { child, port };
    let deadline = Instant::now() + Duration::from_secs(30);
    while http(c.port, "GET", "/healthz", &[], "").status != 200 {
        assert!(Instant::now() < deadline, "the console did not come up");
        std::thread::sleep(Duration::from_millis(100));
    }
    c
}

struct Reply {
    status: u16,
    headers: String,
    body: String,
}

/// One HTTP/1.1 request; `headers` may override Host.
fn http(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return Reply {
            status: 0,
            headers: String::new(),
            body: String::new(),
        };
    };
    let mut req = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        req.push_str(&format!("Host: 127.0.0.1:{port}\r\n"));
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if method == "POST" {
        req.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    Reply {
        status,
        headers: head.to_owned(),
        body: body.to_owned(),
    }
}

/// A form or query value: RFC 3986's unreserved characters as they are, everything else `%XX`.
fn enc(s: &str) -> String {
    const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    utf8_percent_encode(s, UNRESERVED).to_string()
}

fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {html}"))
        + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

fn cookie(headers: &str) -> String {
    headers
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .and_then(|c| c.split(';').next())
        .unwrap_or_else(|| panic!("no cookie in {headers}"))
        .to_owned()
}

fn close_form(id: &str, csrf: &str, ticket: &str) -> String {
    format!(
        "csrf={}&ticket={}&id={}&action=close&actor=mallory&reason=forged",
        enc(csrf),
        enc(ticket),
        enc(id)
    )
}

/// (what it is, its headers, its form body)
type Forged<'a> = (&'a str, Vec<(&'a str, &'a str)>, String);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_post_changes_nothing_and_the_consoles_own_form_works() {
    let bs = bootstrap();
    let e = env(&bs).await;
    let id = format!("enrich:{}:0:0", e.raw);
    let other = format!("enrich:{}:0:1", e.raw);
    raise(&bs, &e, &id).await;
    raise(&bs, &e, &other).await;
    let c = start(&e, &[]);
    let page = http(
        c.port,
        "GET",
        &format!("/exception?id={}", enc(&id)),
        &[],
        "",
    );
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.headers.contains("HttpOnly; SameSite=Strict"),
        "{}",
        page.headers
    );
    let (session, csrf, ticket) = (
        cookie(&page.headers),
        hidden(&page.body, "csrf"),
        hidden(&page.body, "ticket"),
    );
    let other_page = http(
        c.port,
        "GET",
        &format!("/exception?id={}", enc(&other)),
        &[("Cookie", &session)],
        "",
    );
    let other_ticket = hidden(&other_page.body, "ticket");
    let own_origin = format!("http://127.0.0.1:{}", c.port);

    let forged: Vec<Forged> = vec![
        // a page elsewhere auto-submitting the form: no cookie it can read, no token
        (
            "cross-site, no token",
            vec![("Origin", "http://127.0.0.1:9")],
            close_form(&id, "", ""),
        ),
        // even with the session's cookie, token and ticket, a foreign Origin is refused
        (
            "foreign Origin",
            vec![("Origin", "http://evil.example"), ("Cookie", &session)],
            close_form(&id, &csrf, &ticket),
        ),
        (
            "same origin, no token",
            vec![("Origin", &own_origin), ("Cookie", &session)],
            close_form(&id, "", &ticket),
        ),
        (
            "same origin, a guessed token",
            vec![("Origin", &own_origin), ("Cookie", &session)],
            close_form(&id, &"0".repeat(64), &ticket),
        ),
        (
            "another exception's ticket",
            vec![("Origin", &own_origin), ("Cookie", &session)],
            close_form(&id, &csrf, &other_ticket),
        ),
        (
            "token without its session cookie",
            vec![("Origin", &own_origin)],
            close_form(&id, &csrf, &ticket),
        ),
        (
            "DNS rebinding: a foreign Host",
            vec![("Host", "rebind.evil.example"), ("Cookie", &session)],
            close_form(&id, &csrf, &ticket),
        ),
    ];
    for (what, headers, body) in &forged {
        let r = http(c.port, "POST", "/exception/action", headers, body);
        assert_eq!(r.status, 403, "{what}: {} {}", r.headers, r.body);
    }
    let big = "x".repeat(400 * 1024);
    let r = http(
        c.port,
        "POST",
        "/exception/action",
        &[("Origin", &own_origin), ("Cookie", &session)],
        &format!("{}&edited={big}", close_form(&id, &csrf, &ticket)),
    );
    assert_eq!(r.status, 413, "an oversized body is refused");
    let r = http(
        c.port,
        "GET",
        "/exceptions",
        &[("Host", "rebind.evil.example:80")],
        "",
    );
    assert_eq!(r.status, 403, "pages are not served under a foreign host");
    assert_eq!(
        status_of(&e, &id).await,
        "open",
        "no forged post changed the state"
    );

    // the console's own form, as the browser submits it
    let r = http(
        c.port,
        "POST",
        "/exception/action",
        &[("Origin", &own_origin), ("Cookie", &session)],
        &close_form(&id, &csrf, &ticket),
    );
    assert_eq!(r.status, 303, "{} {}", r.headers, r.body);
    assert_eq!(status_of(&e, &id).await, "closed");
    assert_eq!(status_of(&e, &other).await, "open");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beyond_loopback_the_console_needs_a_login_token() {
    let bs = bootstrap();
    let e = env(&bs).await;
    let refused = cli(&e, &["--listen", "0.0.0.0:0"]);
    assert_eq!(refused.status.code(), Some(2), "{refused:?}");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("not a loopback address"));

    let token = "a-console-token-for-the-test";
    let c = start(&e, &[("LEADFLOW_CONSOLE_TOKEN", token)]);
    let r = http(c.port, "GET", "/exceptions", &[], "");
    assert_eq!(r.status, 303);
    assert!(r.headers.contains("location: /login"), "{}", r.headers);
    let login = http(c.port, "GET", "/login", &[], "");
    assert_eq!(login.status, 200);
    let (session, csrf) = (cookie(&login.headers), hidden(&login.body, "csrf"));
    let origin = format!("http://127.0.0.1:{}", c.port);
    let wrong = http(
        c.port,
        "POST",
        "/login",
        &[("Origin", &origin), ("Cookie", &session)],
        &format!("csrf={csrf}&token=wrong-token-of-some-length"),
    );
    assert_eq!(wrong.status, 403);
    assert!(!wrong.headers.contains("set-cookie"), "{}", wrong.headers);
    let ok = http(
        c.port,
        "POST",
        "/login",
        &[("Origin", &origin), ("Cookie", &session)],
        &format!("csrf={csrf}&token={}", enc(token)),
    );
    assert_eq!(ok.status, 303, "{}", ok.body);
    let logged_in = cookie(&ok.headers);
    assert_ne!(logged_in, session, "a new session at login");
    let page = http(c.port, "GET", "/exceptions", &[("Cookie", &logged_in)], "");
    assert_eq!(page.status, 200, "{}", page.body);
    let scrape = http(
        c.port,
        "GET",
        "/metrics",
        &[("Authorization", &format!("Bearer {token}"))],
        "",
    );
    assert_eq!(scrape.status, 200);
}
