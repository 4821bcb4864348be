//! Events per second of the pure scoring function on one core: the hand-set model
//! (`models/default.json`) and a recalibrated one (`benches/recalibrated.json`: the output of
//! `leadflow-recalibrate` fitted on 3 000 generated leads, every one of its 66 weights non-zero,
//! caps 100), on the sample lead and on a lead with many activities.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use leadflow_events::{Activity, ActivityKind, Timestamp, samples};
use leadflow_score::{DEFAULT_MAX_FACTORS, Model, assess, score};

const RECALIBRATED: &str = include_str!("recalibrated.json");

fn bench_score(c: &mut Criterion) {
    let Ok(model) = Model::embedded("lead-priority") else {
        return;
    };
    let Ok(recalibrated) =
        Model::from_json(RECALIBRATED, "benches/recalibrated.json", "lead-priority")
    else {
        return;
    };
    let lead = samples::enriched_lead();
    let mut busy = lead.clone();
    for i in 0..24 {
        busy.lead.activities.push(Activity {
            kind: [
                ActivityKind::PageView,
                ActivityKind::PricingPageView,
                ActivityKind::EmailOpen,
                ActivityKind::ContentDownload,
            ][i % 4],
            occurred_at: Timestamp(lead.lead.occurred_at.0 - (i as i64 + 1) * 3_600_000),
            detail: None,
        });
    }
    let mut group = c.benchmark_group("score");
    group.throughput(Throughput::Elements(1));
    group.bench_function("assess_sample_lead", |b| {
        b.iter(|| assess(std::hint::black_box(&lead), &model, DEFAULT_MAX_FACTORS));
    });
    group.bench_function("score_sample_lead_with_clone", |b| {
        b.iter(|| score(std::hint::black_box(&lead), &model));
    });
    for (name, m) in [("hand_set", &model), ("recalibrated", &recalibrated)] {
        group.bench_function(format!("assess_sample_lead_{name}"), |b| {
            b.iter(|| assess(std::hint::black_box(&lead), m, DEFAULT_MAX_FACTORS));
        });
        group.bench_function(format!("assess_busy_lead_{name}"), |b| {
            b.iter(|| assess(std::hint::black_box(&busy), m, DEFAULT_MAX_FACTORS));
        });
    }
    group.finish();
}

criterion_group!(benches, bench_score);
criterion_main!(benches);
