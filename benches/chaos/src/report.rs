//! The table the harness prints, and whether the run failed.

use std::time::Duration;

use crate::audit::Audit;
use crate::effects::Effects;

/// What was done to the pipeline.
pub struct Run {
    pub leads: u64,
    pub rate: f64,
    pub kills: usize,
    pub restarts: usize,
    pub second_instances: usize,
    pub unexpected_exits: Vec<(String, String)>,
    pub broker_restarts: usize,
    pub broker_down_s: f64,
    pub sandbox_faults: usize,
    /// Leads the feeder gave up on (never on leads.raw).
    pub undelivered: usize,
    /// Feeder sends repeated after a failed delivery.
    pub resends: usize,
    pub settled: bool,
    pub bad_exits: Vec<String>,
    pub elapsed_s: f64,
}

/// Prints the tables; returns true when the run failed (a lead lost, an exception without reason,
/// the generator failed or the pipeline never settled).
pub fn print(run: &Run, audit: &Audit, fx: &Effects) -> bool {
    println!();
    println!(
        "chaos run: {} leads at {}/s; {} kill -9 ({} restarts, {} second instances, {} exits on their own); {} broker restart ({:.1} s down); {} stand-in outages; {:.0} s",
        run.leads,
        run.rate,
        run.kills,
        run.restarts,
        run.second_instances,
        run.unexpected_exits.len(),
        run.broker_restarts,
        run.broker_down_s,
        run.sandbox_faults,
        run.elapsed_s
    );
    println!(
        "feeder: {} sends repeated after a failed delivery (a lead can be on leads.raw twice)",
        run.resends
    );
    for (label, tail) in &run.unexpected_exits {
        println!("  exited on its own: {label}: {tail}");
    }
    println!();
    println!("| hop | inputs | forwarded | ended by design | exceptions | lost |");
    println!("|---|---|---|---|---|---|");
    for h in &audit.hops {
        println!(
            "| {} | {} | {} | {} | {} | {} |",
            h.name, h.inputs, h.forwarded, h.terminal, h.excepted, h.lost
        );
    }
    println!();
    println!(
        "leads on leads.raw: {}; lost leads: {}",
        audit.raw_events, audit.lost_leads
    );
    for h in audit.hops.iter().filter(|h| h.lost > 0) {
        println!("  lost at {}: e.g. {:?}", h.name, h.lost_examples);
    }
    let without_reason: usize = audit.hops.iter().map(|h| h.without_reason).sum();
    println!(
        "exceptions by stage: {}",
        audit
            .exceptions_by_stage
            .iter()
            .map(|(s, n)| format!("{s} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for (stage, reason, n) in &audit.top_reasons {
        println!("  {n:>6} × {stage}: {reason}");
    }
    println!();
    println!(
        "| topic | identity | records | distinct | duplicate records | ids seen more than once |"
    );
    println!("|---|---|---|---|---|---|");
    for d in &audit.duplicates {
        println!(
            "| {} | {} | {} | {} | {} | {} |",
            d.topic, d.identity, d.records, d.distinct, d.duplicates, d.repeated_ids
        );
    }
    println!();
    println!("| external effect | count | duplicates |");
    println!("|---|---|---|");
    println!(
        "| Slack posts (by idempotency key) | {} | {} (of them direct messages: {}) |",
        fx.slack_posts, fx.slack_duplicate_posts, fx.slack_duplicate_dms
    );
    println!(
        "| Slack history lookups (an intent without its outcome) | {} | |",
        fx.slack_lookups
    );
    println!(
        "| HubSpot tasks (by idempotency key) | {} | {} (rewrites of the same task: {}) |",
        fx.crm_tasks, fx.crm_duplicate_tasks, fx.crm_task_rewrites
    );
    println!(
        "| requests answered by an injected fault | {} | |",
        fx.requests_failed_by_faults
    );
    println!();
    let mut problems = Vec::new();
    if audit.lost_leads > 0 {
        problems.push(format!("{} leads lost", audit.lost_leads));
    }
    if without_reason > 0 {
        problems.push(format!("{without_reason} exceptions without a reason"));
    }
    let raw_distinct = audit.duplicates.first().map_or(0, |d| d.distinct);
    let expected = run.leads as usize - run.undelivered;
    if raw_distinct != expected {
        problems.push(format!(
            "{raw_distinct} distinct leads on leads.raw, {expected} delivered by the feeder"
        ));
    }
    if run.undelivered > 0 {
        problems.push(format!("{} leads never reached leads.raw", run.undelivered));
    }
    if !run.settled {
        problems.push("the pipeline did not settle".to_owned());
    }
    if !run.bad_exits.is_empty() {
        // reported, not failed: the shutdown bound is checked by crates/e2e/tests/shutdown_broker_gone.rs
        println!("stages that did not exit 0 on SIGTERM: {:?}", run.bad_exits);
    }
    if problems.is_empty() {
        println!("RESULT: ok — every lead accounted for");
        false
    } else {
        println!("RESULT: FAILED — {}", problems.join("; "));
        true
    }
}

/// The recovery time of every kill: from the SIGKILL until every partition of the killed stage's
/// group was consumed again.
pub fn print_kill_recoveries(done: &[(String, Option<Duration>)], goal: Duration) {
    if done.is_empty() {
        return;
    }
    let mut secs: Vec<f64> = done
        .iter()
        .filter_map(|(_, d)| d.map(|d| d.as_secs_f64()))
        .collect();
    secs.sort_by(f64::total_cmp);
    let not_recovered: Vec<&str> = done
        .iter()
        .filter(|(_, d)| d.is_none())
        .map(|(l, _)| l.as_str())
        .collect();
    let over: Vec<String> = done
        .iter()
        .filter_map(|(l, d)| {
            d.filter(|d| *d > goal)
                .map(|d| format!("{l} {:.1} s", d.as_secs_f64()))
        })
        .collect();
    println!(
        "kill recovery (SIGKILL → every partition of the stage consumed again): {} kills; \
         median {:.1} s, max {:.1} s; over {} s: {}; not recovered: {}",
        done.len(),
        secs.get(secs.len() / 2).copied().unwrap_or(f64::NAN),
        secs.last().copied().unwrap_or(f64::NAN),
        goal.as_secs(),
        if over.is_empty() {
            "none".to_owned()
        } else {
            over.join(", ")
        },
        if not_recovered.is_empty() {
            "none".to_owned()
        } else {
            not_recovered.join(", ")
        },
    );
    println!(
        "  per kill: {}",
        done.iter()
            .map(|(l, d)| format!(
                "{l} {}",
                d.map_or("—".to_owned(), |d| format!("{:.1} s", d.as_secs_f64()))
            ))
            .collect::<Vec<_>>()
            .join(", ")
    );
}
