use super::*;

fn local() -> Security {
    Security::new("127.0.0.1:8780".parse().unwrap(), None, &[]).unwrap()
}

fn with_login() -> Security {
    Security::new(
        "0.0.0.0:8780".parse().unwrap(),
        Some(Secret::new("correct horse battery staple")),
        &["console.internal.example".into()],
    )
    .unwrap()
}

fn post<'a>(host: &'a str, origin: Option<&'a str>, cookie: Option<&'a str>) -> RequestFacts<'a> {
    RequestFacts {
        safe_method: false,
        path: "/exception/action",
        host: Some(host),
        origin,
        cookie,
        ..RequestFacts::default()
    }
}

#[test]
fn a_non_loopback_bind_needs_a_login_token_of_some_length() {
    let any = "0.0.0.0:8780".parse().unwrap();
    assert!(Security::new(any, None, &[]).is_err());
    assert!(Security::new(any, Some(Secret::new("short")), &[]).is_err());
    assert!(Security::new(any, Some(Secret::new("a-long-enough-token")), &[]).is_ok());
    assert!(Security::new("[::1]:1".parse().unwrap(), None, &[]).is_ok());
}

#[test]
fn only_the_consoles_own_host_names_are_served() {
    let s = local();
    for ok in [
        "127.0.0.1:8780",
        "localhost:8780",
        "LOCALHOST",
        "[::1]:8780",
    ] {
        assert!(s.host_ok(ok), "{ok}");
    }
    // DNS rebinding: a name the attacker controls, resolved to 127.0.0.1
    for bad in [
        "evil.example:8780",
        "127.0.0.1.evil.example",
        "",
        "127.0.0.1:notaport",
        "user@127.0.0.1",
    ] {
        assert!(!s.host_ok(bad), "{bad}");
    }
    let get = RequestFacts {
        safe_method: true,
        path: "/exceptions",
        host: Some("rebind.evil.example:8780"),
        ..RequestFacts::default()
    };
    assert!(matches!(s.judge(&get), Verdict::Refuse(_)));
    assert!(matches!(
        s.judge(&RequestFacts { host: None, ..get }),
        Verdict::Refuse(_)
    ));
    assert!(with_login().host_ok("console.internal.example:443"));
}

#[test]
fn a_cross_site_post_is_refused() {
    let s = local();
    let host = "127.0.0.1:8780";
    assert!(matches!(
        s.judge(&post(host, Some("http://127.0.0.1:8780"), None)),
        Verdict::Pass(_)
    ));
    for origin in [
        "http://127.0.0.1:9999",
        "http://evil.example",
        "null",
        "http://127.0.0.1:8780.evil.example",
    ] {
        assert_eq!(
            s.judge(&post(host, Some(origin), None)),
            Verdict::Refuse("cross-site request refused (Origin)"),
            "{origin}"
        );
    }
    let mut r = post(host, None, None);
    r.referer = Some("http://evil.example/form.html");
    assert!(matches!(s.judge(&r), Verdict::Refuse(_)));
    r.referer = Some("http://127.0.0.1:8780/exception?id=x");
    assert!(matches!(s.judge(&r), Verdict::Pass(_)));
    let mut r = post(host, Some("http://127.0.0.1:8780"), None);
    r.fetch_site = Some("same-site");
    assert!(matches!(s.judge(&r), Verdict::Refuse(_)));
}

#[test]
fn csrf_tokens_and_tickets_are_bound_to_the_session_and_the_key() {
    let s = local();
    let (a, b) = (Security::new_sid(), Security::new_sid());
    assert_ne!(a, b);
    let token = s.csrf_token(&a);
    assert!(s.csrf_ok(&a, &token));
    assert!(!s.csrf_ok(&b, &token));
    assert!(!s.csrf_ok(&a, ""));
    assert!(!s.csrf_ok(&a, &token[..10]));
    // another process (another key) does not accept it
    assert!(!local().csrf_ok(&a, &token));
    let t = s.ticket(&a, "enrich:leads.raw:0:1");
    assert!(s.ticket_ok(&a, "enrich:leads.raw:0:1", &t));
    assert!(!s.ticket_ok(&a, "enrich:leads.raw:0:2", &t));
    assert!(!s.ticket_ok(&b, "enrich:leads.raw:0:1", &t));
}

#[test]
fn a_session_cookie_is_parsed_and_a_forged_one_is_not() {
    let s = local();
    let sid = Security::new_sid();
    let header = format!("other=1; {SESSION_COOKIE}={sid}; x=y");
    assert_eq!(s.session(Some(&header)).map(|x| x.sid), Some(sid.clone()));
    assert_eq!(s.session(Some(&format!("{SESSION_COOKIE}=abc"))), None);
    assert_eq!(s.session(None), None);
    let fresh = match s.judge(&RequestFacts {
        safe_method: true,
        path: "/",
        host: Some("localhost:8780"),
        ..RequestFacts::default()
    }) {
        Verdict::Pass(session) => session,
        other => panic!("{other:?}"),
    };
    assert!(fresh.fresh && fresh.authenticated);
    assert!(s.set_cookie(&fresh).contains("HttpOnly; SameSite=Strict"));
}

#[test]
fn with_a_login_every_page_but_the_login_needs_the_session_mark_or_the_token() {
    let s = with_login();
    let host = "console.internal.example";
    let page = RequestFacts {
        safe_method: true,
        path: "/exceptions",
        host: Some(host),
        ..RequestFacts::default()
    };
    assert_eq!(s.judge(&page), Verdict::Login);
    assert!(matches!(
        s.judge(&RequestFacts {
            path: "/login",
            ..page
        }),
        Verdict::Pass(_)
    ));
    assert!(matches!(
        s.judge(&post(host, None, None)),
        Verdict::Refuse("log in first")
    ));
    // a session id without the login mark, or with a forged one, is not logged in
    let sid = Security::new_sid();
    let plain = format!("{SESSION_COOKIE}={sid}");
    let forged = format!("{SESSION_COOKIE}={sid}.{}", "0".repeat(64));
    for cookie in [&plain, &forged] {
        assert_eq!(
            s.judge(&RequestFacts {
                cookie: Some(cookie),
                ..page
            }),
            Verdict::Login
        );
    }
    let logged_in = Session {
        sid: sid.clone(),
        authenticated: true,
        fresh: true,
    };
    let cookie = format!("{SESSION_COOKIE}={}", s.cookie_value(&logged_in));
    assert!(matches!(
        s.judge(&RequestFacts {
            cookie: Some(&cookie),
            ..page
        }),
        Verdict::Pass(Session {
            authenticated: true,
            ..
        })
    ));
    // the token itself, for scripts and scrapers
    assert!(matches!(
        s.judge(&RequestFacts {
            authorization: Some("Bearer correct horse battery staple"),
            ..page
        }),
        Verdict::Pass(_)
    ));
    assert_eq!(
        s.judge(&RequestFacts {
            authorization: Some("Bearer wrong"),
            ..page
        }),
        Verdict::Login
    );
    assert!(s.token_ok("correct horse battery staple"));
    assert!(!s.token_ok("correct horse battery stapl"));
    assert!(!local().token_ok(""));
}
