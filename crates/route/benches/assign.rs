//! The assignment transform with 200 reps: one routed decision (eligibility over the pool, choice,
//! packet built, state updated) plus the activity that releases it, so the load stays steady.
//! Goal: >= 100k decisions/s on one core. Prints the figure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use leadflow_events::{
    RepActivity, RepActivityKind, RepRole, RepState, RepStatus, TierDecision, Timestamp,
    WorkingHours, samples,
};
use leadflow_route::{Routed, Router, RouterConfig};

const TEAMS: [&str; 6] = [
    "ae",
    "sdr",
    "sales",
    "account_management",
    "legal",
    "solutions",
];
const COUNTRIES: [&str; 8] = ["FR", "US", "GB", "DE", "NL", "CA", "IN", "BR"];
const TERRITORIES: [&str; 6] = ["EMEA", "NA", "APAC", "LATAM", "GLOBAL", "DACH"];
const SEGMENTS: [&str; 6] = ["1-10", "11-50", "51-200", "201-1000", "1001-5000", "5000+"];
const ZONES: [&str; 4] = [
    "Europe/Paris",
    "America/New_York",
    "Asia/Kolkata",
    "Europe/London",
];

fn roster() -> Vec<RepState> {
    let mut reps = Vec::new();
    for i in 0..200usize {
        let team = TEAMS[i % TEAMS.len()];
        let manager = i < TEAMS.len();
        reps.push(RepState {
            rep_id: format!("rep-{i:03}"),
            name: format!("Rep {i}"),
            email: format!("rep{i}@example.com"),
            slack_user_id: Some(format!("U{i:05}")),
            crm_owner_id: None,
            role: if manager {
                RepRole::Manager
            } else {
                RepRole::Ae
            },
            teams: vec![team.into()],
            territories: if i % 5 == 0 {
                vec![]
            } else {
                vec![TERRITORIES[i % TERRITORIES.len()].into()]
            },
            segments: if i % 3 == 0 {
                vec![]
            } else {
                vec![SEGMENTS[i % 6].into(), SEGMENTS[(i + 1) % 6].into()]
            },
            max_open_leads: 12,
            working_hours: (i % 4 != 0).then(|| WorkingHours::office(ZONES[i % ZONES.len()])),
            status: if i % 17 == 0 {
                RepStatus::OutOfOffice
            } else {
                RepStatus::Available
            },
            status_until: None,
            manager_id: (!manager).then(|| format!("rep-{:03}", i % TEAMS.len())),
            updated_at: samples::T0,
        });
    }
    reps
}

fn decisions() -> Vec<TierDecision> {
    (0..1000usize)
        .map(|i| {
            let mut d = samples::tier_decision();
            let e = &mut d.scored.enriched;
            e.lead.lead_id = format!("lead-{i}");
            e.company_domain = (i % 3 != 0).then(|| format!("acct{}.io", i % 97));
            e.lead.company.country = Some(COUNTRIES[i % COUNTRIES.len()].into());
            e.lead.company.employee_count = Some(i32::try_from(5 + (i * 37) % 6000).unwrap());
            e.firmographics = None;
            d.target_team = TEAMS[i % TEAMS.len()].into();
            d.decided_at = Timestamp(samples::T0.0 + i64::try_from(i % 480).unwrap() * 60_000);
            d
        })
        .collect()
}

fn router() -> Router {
    let r = Router::with_window(
        RouterConfig {
            booking_url: "https://meet.example.com/{rep_id}".into(),
        },
        30,
    );
    for rep in roster() {
        r.apply_rep(rep).unwrap();
    }
    r
}

/// Routes one decision (with a fresh event id) and releases it.
fn route_and_release(r: &Router, d: &TierDecision, n: u64) {
    match r.route(d) {
        Routed::Packet(p) => {
            if let Some(a) = &p.assignee {
                r.apply_activity(&RepActivity {
                    activity_id: format!("a{n}"),
                    lead_id: d.scored.enriched.lead.lead_id.clone(),
                    packet_id: None,
                    rep_id: a.rep_id.clone(),
                    kind: RepActivityKind::Contacted,
                    reason: None,
                    reassigned_to: None,
                    occurred_at: d.decided_at,
                });
            }
        }
        Routed::Unroutable(_) => {}
        other => panic!("unexpected {other:?}"),
    }
}

fn prepared(ds: &[TierDecision], n: u64) -> TierDecision {
    let mut d = ds[usize::try_from(n).unwrap() % ds.len()].clone();
    d.scored.enriched.lead.event_id = format!("evt-{n}");
    d
}

/// Nanoseconds this thread spent on a CPU (`/proc/thread-self/schedstat`, Linux); `None` elsewhere.
fn thread_cpu_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

fn bench(c: &mut Criterion) {
    let ds = decisions();
    // A plain single-threaded loop first, for the headline figure (input preparation excluded).
    let r = router();
    let total = 200_000u64;
    let inputs: Vec<TierDecision> = (0..total).map(|n| prepared(&ds, n)).collect();
    let start = Instant::now();
    let cpu_start = thread_cpu_ns();
    for (n, d) in inputs.iter().enumerate() {
        route_and_release(&r, d, n as u64);
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "route: {total} decisions with 200 reps in {secs:.3} s wall on one thread = {:.0} decisions/s",
        total as f64 / secs
    );
    // On a shared machine the wall clock includes time other processes had the core; the thread's
    // own CPU time (Linux schedstat) gives the rate one dedicated core sustains.
    if let (Some(a), Some(b)) = (cpu_start, thread_cpu_ns()) {
        let cpu = (b - a) as f64 / 1e9;
        println!(
            "route: {cpu:.3} s of CPU on that thread = {:.0} decisions per CPU-second",
            total as f64 / cpu
        );
    }
    drop(inputs);

    let r = router();
    let mut n = 0u64;
    let mut group = c.benchmark_group("route");
    group.throughput(Throughput::Elements(1));
    group.bench_function("assign_200_reps", |b| {
        b.iter_batched(
            || {
                n += 1;
                (prepared(&ds, n), n)
            },
            |(d, n)| route_and_release(&r, &d, n),
            BatchSize::SmallInput,
        );
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
