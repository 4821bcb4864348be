//! The console's pages and its one form endpoint.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use leadflow_events::Timestamp;
use minijinja::context;
use serde::Deserialize;

use super::security::Session;
use super::{App, url_encode, views};
use leadflow_cli::exceptions::queue::Filter;
use leadflow_cli::exceptions::{Request, decode_original, perform, store};
use leadflow_cli::trace;

/// How far back the SLA page looks.
const SLA_WINDOW_DAYS: i64 = 7;
/// Open deadlines listed on the SLA page.
const OPEN_LIMIT: usize = 200;

fn now() -> Timestamp {
    Timestamp::from(chrono::Utc::now())
}

pub(super) fn render(app: &App, name: &str, ctx: minijinja::Value) -> Response {
    match app.templates.get_template(name).and_then(|t| t.render(ctx)) {
        Ok(html) => Html(html).into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("template {name}: {e}"),
        )
            .into_response(),
    }
}

fn unavailable(app: &App, what: &str, e: impl std::fmt::Display) -> Response {
    let mut page = render(
        app,
        "exceptions.html",
        context! { error => format!("{what}: {e}"), entries => Vec::<()>::new(), filter => context!{} },
    );
    *page.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    page
}

fn nonempty(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.trim().is_empty())
}

pub async fn home() -> Redirect {
    Redirect::to("/exceptions")
}

#[derive(Debug, Default, Deserialize)]
pub struct QueueQuery {
    pub stage: Option<String>,
    pub owner: Option<String>,
    pub overdue: Option<String>,
    pub all: Option<String>,
    pub flash: Option<String>,
}

pub async fn queue(State(app): State<Arc<App>>, Query(q): Query<QueueQuery>) -> Response {
    let queue = match store::load(&app.cfg, &app.codec).await {
        Ok(q) => q,
        Err(e) => return unavailable(&app, "cannot read the exception queue", e),
    };
    let now = now();
    let filter = Filter {
        stage: nonempty(q.stage),
        owner: nonempty(q.owner),
        overdue: q.overdue.is_some(),
        all: q.all.is_some(),
        ..Filter::default()
    };
    let entries: Vec<_> = queue
        .list(&filter, now)
        .into_iter()
        .map(|e| views::entry(e, now))
        .collect();
    let overdue = queue.overdue_counts(now).values().sum::<u64>();
    render(
        &app,
        "exceptions.html",
        context! {
            entries, overdue, now => now.to_string(), flash => q.flash,
            refresh => app.refresh,
            filter => context! { stage => filter.stage, owner => filter.owner, overdue => filter.overdue, all => filter.all },
        },
    )
}

#[derive(Debug, Deserialize)]
pub struct EntryQuery {
    pub id: String,
    pub flash: Option<String>,
    pub error: Option<String>,
}

pub async fn exception(
    State(app): State<Arc<App>>,
    Extension(session): Extension<Session>,
    Query(q): Query<EntryQuery>,
) -> Response {
    let queue = match store::load(&app.cfg, &app.codec).await {
        Ok(q) => q,
        Err(e) => return unavailable(&app, "cannot read the exception queue", e),
    };
    let Some(entry) = queue.get(&q.id) else {
        let mut page = render(
            &app,
            "exceptions.html",
            context! { error => format!("no exception {:?}", q.id), entries => Vec::<()>::new(), filter => context!{} },
        );
        *page.status_mut() = StatusCode::NOT_FOUND;
        return page;
    };
    let now = now();
    let original = match decode_original(&app.cfg, &app.codec, entry).await {
        Ok(json) => serde_json::to_string_pretty(&json).unwrap_or_default(),
        Err(why) => format!("{} bytes, not decodable: {why}", entry.first.original.len()),
    };
    let f = &entry.first;
    render(
        &app,
        "exception.html",
        context! {
            e => views::entry(entry, now),
            history => views::history(entry),
            actions => views::actions(entry),
            source => format!("{} partition {} offset {} key {}", f.source_topic, f.source_partition,
                f.source_offset, f.source_key.as_deref().unwrap_or("-")),
            original, flash => q.flash, error => q.error,
            csrf => app.security.csrf_token(&session.sid),
            ticket => app.security.ticket(&session.sid, entry.id()),
        },
    )
}

#[derive(Debug, Deserialize)]
pub struct ActionForm {
    /// The session's CSRF token (rule C1).
    #[serde(default)]
    pub csrf: String,
    /// The ticket of this exception for this session (rule C3).
    #[serde(default)]
    pub ticket: String,
    pub id: String,
    pub action: String,
    pub actor: String,
    pub reason: Option<String>,
    pub owner: Option<String>,
    pub edited: Option<String>,
}

pub async fn action(
    State(app): State<Arc<App>>,
    Extension(session): Extension<Session>,
    Form(f): Form<ActionForm>,
) -> Response {
    let sec = &app.security;
    if !sec.csrf_ok(&session.sid, &f.csrf) || !sec.ticket_ok(&session.sid, &f.id, &f.ticket) {
        return (
            StatusCode::FORBIDDEN,
            "this form expired or came from another page; reload the exception and act again",
        )
            .into_response();
    }
    let back = |key: &str, msg: &str| {
        Redirect::to(&format!(
            "/exception?id={}&{key}={}",
            url_encode(&f.id),
            url_encode(msg)
        ))
        .into_response()
    };
    let req = match f.action.as_str() {
        "close" => Request::Close,
        "reopen" => Request::Reopen,
        "assign" => Request::Assign {
            owner: f.owner.clone().unwrap_or_default(),
        },
        "escalate" => Request::Escalate {
            owner: nonempty(f.owner.clone()),
        },
        "retry" => Request::Retry { force: false },
        "replay" => Request::Replay {
            force: false,
            edited: nonempty(f.edited.clone()),
        },
        other => return back("error", &format!("unknown action {other:?}")),
    };
    if f.actor.trim().is_empty() {
        return back("error", "say who you are (your name) to act");
    }
    let queue = match store::load(&app.cfg, &app.codec).await {
        Ok(q) => q,
        Err(e) => return back("error", &e.to_string()),
    };
    match perform(
        &app.cfg,
        &app.codec,
        &queue,
        &f.id,
        req,
        f.actor.trim(),
        nonempty(f.reason.clone()),
    )
    .await
    {
        Ok(state) => back(
            "flash",
            &format!(
                "{}: now {} (owner {})",
                state.history.last().map_or("done", |a| a.action.label()),
                state.status.label(),
                state.owner
            ),
        ),
        Err(e) => back("error", &e.to_string()),
    }
}

#[derive(Debug, Deserialize)]
pub struct TraceQuery {
    pub lead: Option<String>,
}

pub async fn trace(State(app): State<Arc<App>>, Query(q): Query<TraceQuery>) -> Response {
    let Some(lead) = nonempty(q.lead) else {
        return render(&app, "trace.html", context! {});
    };
    match trace::collect(&app.cfg, &app.codec, &lead, &app.trace).await {
        Ok(t) => {
            let json = trace::to_json(&lead, &t);
            render(
                &app,
                "trace.html",
                context! {
                    lead_id => lead, steps => t.steps,
                    scanned => json["scanned_records"].as_u64(), elapsed_ms => json["elapsed_ms"].as_u64(),
                },
            )
        }
        Err(e) => {
            let mut page = render(
                &app,
                "trace.html",
                context! { error => format!("cannot trace {lead}: {e}") },
            );
            *page.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
            page
        }
    }
}

pub async fn queues(State(app): State<Arc<App>>) -> Response {
    let now = now();
    let since = Timestamp(now.0 - SLA_WINDOW_DAYS * 86_400_000);
    match leadflow_cli::sla_report::deadline_views(&app.cfg, since).await {
        Ok(deadlines) => {
            let (tiers, open) = views::tiers(&deadlines, now, OPEN_LIMIT);
            render(
                &app,
                "queues.html",
                context! {
                    tiers, open, now => now.to_string(), refresh => app.refresh,
                    window => format!("{SLA_WINDOW_DAYS} days"),
                },
            )
        }
        Err(e) => {
            let mut page = render(
                &app,
                "queues.html",
                context! { error => format!("cannot read the SLA topics: {e}") },
            );
            *page.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
            page
        }
    }
}
