//! The console's `/quality` page: the funnel-quality report of `leadflow quality report` with
//! inline SVG charts (`leadflow_cli::quality::svg`; no script). Read-only: no form, so no CSRF token
//! (`RULES.md` C1 concerns state-changing posts); it passes `guard.rs` like every page.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use leadflow_events::Timestamp;
use minijinja::{Value, context};
use serde::Deserialize;

use super::App;
use super::pages::render;
use leadflow_cli::quality::{collect, svg};
use leadflow_cli::sla_report::parse_window;

/// The window when the page is asked for none.
const DEFAULT_WINDOW: &str = "30d";

#[derive(Debug, Default, Deserialize)]
pub struct QualityQuery {
    /// `30d`, `24h`, `90m`.
    pub since: Option<String>,
}

pub async fn quality(State(app): State<Arc<App>>, Query(q): Query<QualityQuery>) -> Response {
    let window = q
        .since
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_WINDOW.to_owned());
    let span = match parse_window(&window) {
        Ok(d) => d,
        Err(e) => {
            let mut page = render(&app, "quality.html", context! { error => e, window });
            *page.status_mut() = StatusCode::BAD_REQUEST;
            return page;
        }
    };
    let now = Timestamp::from(chrono::Utc::now());
    let since = Timestamp(now.0 - i64::try_from(span.as_millis()).unwrap_or(i64::MAX));
    match collect(&app.cfg, since, now).await {
        Ok(r) => {
            let charts = context! {
                tier => Value::from_safe_string(svg::acceptance("acceptance-tier", "Acceptance rate per tier", &r.acceptance_by_tier)),
                source => Value::from_safe_string(svg::acceptance("acceptance-source", "Acceptance rate per source", &r.acceptance_by_source)),
                rep => Value::from_safe_string(svg::acceptance("acceptance-rep", "Acceptance rate per rep", &r.acceptance_by_rep)),
                reasons => Value::from_safe_string(svg::reasons(&r)),
                funnel => Value::from_safe_string(svg::funnel(&r)),
                contact => Value::from_safe_string(svg::contact(&r)),
                calibration => Value::from_safe_string(svg::calibration(&r)),
            };
            render(
                &app,
                "quality.html",
                context! { r => Value::from_serialize(&r), charts, window, pct => Value::from_function(pct) },
            )
        }
        Err(e) => {
            let mut page = render(
                &app,
                "quality.html",
                context! { error => format!("cannot read the topics: {e}"), window },
            );
            *page.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
            page
        }
    }
}

/// `pct(x)` in templates: a share as a percentage with one decimal, `-` for none.
fn pct(x: Option<f64>) -> String {
    leadflow_cli::quality::render::pct(x)
}
