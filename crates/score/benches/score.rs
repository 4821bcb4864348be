//! Events per second of the pure scoring function on one core.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use leadflow_events::samples;
use leadflow_score::{DEFAULT_MAX_FACTORS, Model, assess, score};

fn bench_score(c: &mut Criterion) {
    let Ok(model) = Model::embedded("lead-priority") else {
        return;
    };
    let lead = samples::enriched_lead();
    let mut group = c.benchmark_group("score");
    group.throughput(Throughput::Elements(1));
    group.bench_function("assess_sample_lead", |b| {
        b.iter(|| assess(std::hint::black_box(&lead), &model, DEFAULT_MAX_FACTORS));
    });
    group.bench_function("score_sample_lead_with_clone", |b| {
        b.iter(|| score(std::hint::black_box(&lead), &model));
    });
    group.finish();
}

criterion_group!(benches, bench_score);
criterion_main!(benches);
