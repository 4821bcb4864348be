//! The middleware in front of every console route: applies [`Security::judge`], hands the session
//! to the handlers, sets the session cookie and the headers that keep the pages out of frames.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::{
    AUTHORIZATION, CONTENT_SECURITY_POLICY, COOKIE, HOST, ORIGIN, REFERER, REFERRER_POLICY,
    SET_COOKIE, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use super::security::{RequestFacts, Security, Verdict};

/// Largest request body the console reads (an action form with a corrected record).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

fn header(h: &HeaderMap, name: impl axum::http::header::AsHeaderName) -> Option<&str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

pub async fn guard(State(sec): State<Arc<Security>>, mut req: Request, next: Next) -> Response {
    let verdict = {
        let h = req.headers();
        // HTTP/1.1 carries the host in the Host header; an absolute-form request line in the URI
        let uri_host = req.uri().authority().map(|a| a.as_str());
        let facts = RequestFacts {
            safe_method: matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS),
            path: req.uri().path(),
            host: header(h, HOST).or(uri_host),
            origin: header(h, ORIGIN),
            referer: header(h, REFERER),
            fetch_site: header(h, "sec-fetch-site"),
            cookie: header(h, COOKIE),
            authorization: header(h, AUTHORIZATION),
        };
        sec.judge(&facts)
    };
    let mut response = match verdict {
        Verdict::Refuse(why) => (StatusCode::FORBIDDEN, why).into_response(),
        Verdict::Login => Redirect::to("/login").into_response(),
        Verdict::Pass(session) => {
            let fresh = session.fresh.then(|| sec.set_cookie(&session));
            req.extensions_mut().insert(session);
            let mut response = next.run(req).await;
            if let Some(cookie) = fresh.and_then(|c| HeaderValue::from_str(&c).ok()) {
                response.headers_mut().append(SET_COOKIE, cookie);
            }
            response
        }
    };
    let h = response.headers_mut();
    h.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("frame-ancestors 'none'; form-action 'self'"),
    );
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    response
}
