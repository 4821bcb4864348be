//! `/metrics`: the exception queue in Prometheus text format, computed at scrape time from the topics.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use leadflow_events::Timestamp;

use super::App;
use leadflow_cli::exceptions::queue::{Filter, Queue};
use leadflow_cli::exceptions::store;

/// Escapes a label value (owners and stages are configured team and service names).
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The exposition text: overdue entries per owner and stage, open entries per stage.
pub fn render(queue: &Queue, now: Timestamp) -> String {
    let mut out = String::new();
    out.push_str("# HELP leadflow_exceptions_overdue Open exceptions past their due time, per owner and stage.\n");
    out.push_str("# TYPE leadflow_exceptions_overdue gauge\n");
    for ((owner, stage), n) in queue.overdue_counts(now) {
        let _ = writeln!(
            out,
            "leadflow_exceptions_overdue{{owner=\"{}\",stage=\"{}\"}} {n}",
            label(&owner),
            label(&stage)
        );
    }
    let mut open: BTreeMap<String, u64> = BTreeMap::new();
    for e in queue.list(&Filter::default(), now) {
        *open.entry(e.first.stage.clone()).or_default() += 1;
    }
    out.push_str("# HELP leadflow_exceptions_open Exceptions not closed, per stage.\n");
    out.push_str("# TYPE leadflow_exceptions_open gauge\n");
    for (stage, n) in open {
        let _ = writeln!(
            out,
            "leadflow_exceptions_open{{stage=\"{}\"}} {n}",
            label(&stage)
        );
    }
    out
}

pub async fn metrics(State(app): State<Arc<App>>) -> Response {
    match store::load(&app.cfg, &app.codec).await {
        Ok(queue) => (
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
            render(&queue, Timestamp::from(chrono::Utc::now())),
        )
            .into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use leadflow_events::{ErrorKind, samples};

    #[test]
    fn overdue_is_counted_per_owner_and_stage() {
        let mut r = samples::exception_record();
        r.error_kind = ErrorKind::Validation;
        r.raised_at = Timestamp(0);
        r.due_at = Timestamp(60_000);
        let q = Queue::build(vec![], vec![r]);
        let text = render(&q, Timestamp(120_000));
        assert!(
            text.contains("leadflow_exceptions_overdue{owner=\"revops\",stage=\"enrich\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("leadflow_exceptions_open{stage=\"enrich\"} 1"),
            "{text}"
        );
        let early = render(&q, Timestamp(0));
        assert!(!early.contains("leadflow_exceptions_overdue{"), "{early}");
    }
}
