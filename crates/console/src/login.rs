//! `/login`: the token login of a console served beyond loopback (rule C5). The form posts the
//! token with the session's CSRF token; a right token gives the browser a new session marked as
//! logged in (a new id: a session id known before the login is worth nothing after it).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::SET_COOKIE;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use minijinja::context;
use serde::Deserialize;

use super::App;
use super::pages::render;
use super::security::{Security, Session};

pub async fn form(State(app): State<Arc<App>>, Extension(session): Extension<Session>) -> Response {
    if !app.security.login_required() {
        return Redirect::to("/exceptions").into_response();
    }
    let csrf = app.security.csrf_token(&session.sid);
    render(&app, "login.html", context! { csrf })
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub token: String,
}

pub async fn submit(
    State(app): State<Arc<App>>,
    Extension(session): Extension<Session>,
    Form(f): Form<LoginForm>,
) -> Response {
    let sec = &app.security;
    if !sec.login_required() {
        return Redirect::to("/exceptions").into_response();
    }
    if !sec.csrf_ok(&session.sid, &f.csrf) {
        return (
            StatusCode::FORBIDDEN,
            "the login form expired or came from another site; reload /login",
        )
            .into_response();
    }
    if !sec.token_ok(&f.token) {
        let mut page = render(
            &app,
            "login.html",
            context! { csrf => sec.csrf_token(&session.sid), error => "wrong token" },
        );
        *page.status_mut() = StatusCode::FORBIDDEN;
        return page;
    }
    let logged_in = Session {
        sid: Security::new_sid(),
        authenticated: true,
        fresh: true,
    };
    let mut response = Redirect::to("/exceptions").into_response();
    if let Ok(cookie) = sec.set_cookie(&logged_in).parse() {
        response.headers_mut().insert(SET_COOKIE, cookie);
    }
    response
}
