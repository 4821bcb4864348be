//! Events per second of the pure decision (`decide`) on one core, over a mix of leads: hot, warm,
//! cold, after hours, weekend, out of scope, a competitor asking for a human, low confidence.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use leadflow_events::{OutOfScopeCategory, Persona, ScoredLead, Timestamp, samples};
use leadflow_tier::{TierSettings, decide};

const HOUR: i64 = 3_600_000;

fn mix() -> Vec<ScoredLead> {
    let base = samples::scored_lead();
    let vary = |score: i32, offset_hours: i64, f: fn(&mut ScoredLead)| {
        let mut s = base.clone();
        s.score = score;
        s.enriched.lead.occurred_at = Timestamp(samples::T0.0 + offset_hours * HOUR);
        f(&mut s);
        s
    };
    vec![
        vary(91, 0, |_| {}),
        vary(75, 1, |s| {
            if let Some(c) = s.enriched.lead.chat.as_mut() {
                c.qualification.authority.confirmed = false;
            }
        }),
        vary(55, 2, |s| s.enriched.lead.chat = None),
        vary(30, 3, |s| s.enriched.lead.chat = None),
        vary(91, 10, |_| {}),
        vary(88, 26, |_| {}),
        vary(72, 4, |s| {
            if let Some(c) = s.enriched.lead.chat.as_mut() {
                c.out_of_scope = Some(OutOfScopeCategory::LegalCompliance);
                c.qualification.authority.confirmed = false;
            }
        }),
        vary(20, 5, |s| {
            s.enriched.persona = Persona::N1;
            if let Some(c) = s.enriched.lead.chat.as_mut() {
                c.human_requested = true;
            }
        }),
        vary(95, 6, |s| s.confidence = 0.5),
    ]
}

fn bench(c: &mut Criterion) {
    let Ok((policy, calendar)) = TierSettings::default().build() else {
        return;
    };
    let leads = mix();
    let mut group = c.benchmark_group("tier");
    group.throughput(Throughput::Elements(leads.len() as u64));
    group.bench_function("decide", |b| {
        b.iter(|| {
            for lead in &leads {
                black_box(decide(black_box(lead), &policy, &calendar));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
