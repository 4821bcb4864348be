//! Events/second of the pure enrich transform with the local provider, on one core:
//! normalise + validate + persona + dedup + dataset lookup + assembly.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use futures::executor::block_on;
use leadflow_enrich::dataset::demo_companies;
use leadflow_enrich::provider::LocalProvider;
use leadflow_enrich::{EnrichSettings, Enricher};
use leadflow_events::{LeadEvent, Timestamp, samples};

const TITLES: [&str; 8] = [
    "VP Engineering",
    "engineering manager",
    "Senior Software Engineer",
    "Head of Data",
    "Student",
    "CTO & Co-Founder",
    "Marketing Specialist",
    "",
];

/// A mix of business and free-mail leads across the dataset, with some repeated people.
fn inputs(n: usize) -> Vec<LeadEvent> {
    let companies = demo_companies();
    (0..n)
        .map(|i| {
            let company = &companies[i % companies.len()];
            let person = i % (n / 2).max(1);
            let mut e = samples::lead_event();
            e.event_id = format!("evt-{i}");
            e.lead_id = format!("lead-{person}");
            e.occurred_at = Timestamp(samples::T0.0 + i as i64 * 60_000);
            e.contact.email = Some(if i % 5 == 0 {
                format!("Person.{person}@GMail.com")
            } else {
                format!("person.{person}@{}", company.domain)
            });
            e.contact.first_name = Some("ada".into());
            e.contact.last_name = Some("LOVELACE".into());
            e.contact.title = Some(TITLES[i % TITLES.len()].into());
            e.contact.country = Some(["France", "USA", "UK", "de"][i % 4].into());
            // A different number per event, national in the contact's country or international.
            let n = i % 10_000;
            e.contact.phone = Some(match i % 5 {
                0 => format!("01 23 45 {:02} {:02}", n / 100, n % 100),
                1 => format!("(415) 555-{n:04}"),
                2 => format!("020 7946 {n:04}"),
                3 => format!("030 1234{n:04}"),
                _ => format!("+33 6 12 34 {:02} {:02}", n / 100, n % 100),
            });
            e.company.domain = (i % 3 == 0).then(|| company.domain.clone());
            e.account_domain = None;
            e
        })
        .collect()
}

fn bench_transform(c: &mut Criterion) {
    let settings = EnrichSettings::demo();
    let provider = LocalProvider::demo();
    let events = inputs(events_len());
    let mut group = c.benchmark_group("enrich");
    group.throughput(Throughput::Elements(events.len() as u64));
    group.bench_function("transform_local_provider", |b| {
        b.iter_batched(
            || (Enricher::new(&settings, provider.clone()), events.clone()),
            |(mut enricher, events)| {
                for e in events {
                    black_box(block_on(enricher.enrich(e)).unwrap());
                }
            },
            BatchSize::LargeInput,
        );
    });
    // the same, with phone numbers never seen before in every batch (no memoised phone result):
    // the cost of leads whose numbers are all new
    let fresh = std::sync::atomic::AtomicUsize::new(0);
    group.bench_function("transform_local_provider_new_phones", |b| {
        b.iter_batched(
            || {
                let batch = fresh.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let mut events = events.clone();
                for (i, e) in events.iter_mut().enumerate() {
                    let n = (batch * events_len() + i) % 100_000_000;
                    e.contact.phone = Some(match i % 3 {
                        0 => format!("(415) {:03}-{:04}", 200 + n / 10_000 % 800, n % 10_000),
                        1 => format!(
                            "+33 6 {:02} {:02} {:02} {:02}",
                            n / 1_000_000 % 100,
                            n / 10_000 % 100,
                            n / 100 % 100,
                            n % 100
                        ),
                        _ => format!("030 {:08}", n),
                    });
                }
                (Enricher::new(&settings, provider.clone()), events)
            },
            |(mut enricher, events)| {
                for e in events {
                    black_box(block_on(enricher.enrich(e)).unwrap());
                }
            },
            BatchSize::LargeInput,
        );
    });
    group.finish();
}

fn events_len() -> usize {
    1_000
}

/// Each normaliser alone, per call, on a small mix of inputs.
fn bench_normalisers(c: &mut Criterion) {
    use leadflow_enrich::address::{Email, registrable_domain};
    use leadflow_enrich::{country, disposable, phone, role_account};
    let mut group = c.benchmark_group("normaliser");
    let emails = [
        "Ada.Lovelace@NorthWind.IO",
        "person.12@mail.kestrelbank.co.uk",
        "josé@bücher.de",
    ];
    group.bench_function("email", |b| {
        b.iter(|| emails.map(|e| black_box(Email::parse(black_box(e)).is_ok())))
    });
    let domains = [
        "mail.northwind.io",
        "london.kestrelbank.co.uk",
        "foo.github.io",
    ];
    group.bench_function("registrable_domain", |b| {
        b.iter(|| domains.map(|d| black_box(registrable_domain(black_box(d)).len())))
    });
    group.bench_function("disposable_and_role", |b| {
        b.iter(|| {
            domains.map(|d| black_box(disposable::is_disposable(black_box(d))))
                == [role_account::is_role_account(black_box("info")); 3]
        })
    });
    let countries = ["France", "USA", "Deutschland"];
    group.bench_function("country", |b| {
        b.iter(|| countries.map(|c| black_box(country::to_alpha2(black_box(c)))))
    });
    let phones = [
        ("01 23 45 67 89", "FR"),
        ("(415) 555-0132", "US"),
        ("+44 20 7946 0018", "GB"),
    ];
    group.bench_function("phone", |b| {
        b.iter(|| phones.map(|(p, r)| black_box(phone::to_e164(black_box(p), Some(r)).is_ok())))
    });
    group.bench_function("phone_parse_only", |b| {
        b.iter(|| {
            phones.map(|(p, r)| black_box(phonenumber::parse(r.parse().ok(), black_box(p)).is_ok()))
        })
    });
    group.finish();
}

criterion_group!(benches, bench_transform, bench_normalisers);
criterion_main!(benches);
