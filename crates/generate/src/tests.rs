//! Properties of the generated stream: determinism, validity, the designed mix, realistic timing.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, Timelike, Weekday};
use leadflow_events::AnyEvent;
use leadflow_events::json::event_to_json;
use leadflow_events::{Codec, EventKind, LeadEvent, LeadEventType, Timestamp};

use super::companies::Companies;
use super::*;

fn start() -> Timestamp {
    Timestamp::parse_rfc3339(DEFAULT_START).expect("valid default start")
}

fn leads(seed: u64, n: usize) -> Vec<GeneratedLead> {
    let mut g = LeadGenerator::new(seed, start());
    (0..n).map(|_| g.next_lead()).collect()
}

fn domain(email: &str) -> &str {
    email.rsplit('@').next().unwrap_or_default().trim()
}

#[test]
fn same_seed_same_stream_other_seed_other_stream() {
    let a: Vec<LeadEvent> = LeadGenerator::new(7, start()).take(300).collect();
    let b: Vec<LeadEvent> = LeadGenerator::new(7, start()).take(300).collect();
    let c: Vec<LeadEvent> = LeadGenerator::new(8, start()).take(300).collect();
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_eq!(a[0].event_id, "evt-7-0");
    assert_eq!(a[299].event_id, "evt-7-299");
    assert_eq!(c[0].event_id, "evt-8-0");
}

#[test]
fn the_start_moves_the_whole_stream() {
    let later = Timestamp(start().0 + 3_600_000);
    let a = LeadGenerator::new(1, start()).next().expect("endless");
    let b = LeadGenerator::new(1, later).next().expect("endless");
    assert!(a.occurred_at > start());
    assert!(b.occurred_at > later);
}

#[tokio::test]
async fn every_event_encodes_decodes_and_survives_json() {
    let codec = Codec::single_object().expect("codec");
    for lead in leads(11, 600) {
        let e = lead.event;
        let bytes = codec.encode("leads.raw", &e).await.expect("encodes");
        let back: LeadEvent = codec.decode(&bytes).await.expect("decodes");
        assert_eq!(back, e);
        let line = event_to_json(&e).expect("renders").to_string();
        let parsed = AnyEvent::from_json(EventKind::LeadEvent, &line).expect("parses");
        assert_eq!(parsed, AnyEvent::LeadEvent(e));
        // the line `tail` prints for the decoded record is the line `generate` printed
        let value = codec
            .decode_value(&bytes, Some(EventKind::LeadEvent))
            .await
            .expect("decodes");
        assert_eq!(
            leadflow_events::json::avro_to_json(&value).to_string(),
            line
        );
    }
}

#[test]
fn ids_are_unique_and_times_are_consistent() {
    let all = leads(3, 2000);
    let ids: BTreeSet<_> = all.iter().map(|l| l.event.event_id.clone()).collect();
    assert_eq!(ids.len(), all.len());
    let mut previous = start();
    for l in &all {
        let e = &l.event;
        assert!(e.occurred_at > previous, "{}", e.event_id);
        previous = e.occurred_at;
        for a in &e.activities {
            assert!(a.occurred_at < e.occurred_at, "{} {:?}", e.event_id, a.kind);
        }
        assert!(
            e.activities
                .windows(2)
                .all(|w| w[0].occurred_at <= w[1].occurred_at)
        );
        if let Some(started) = e.session.as_ref().and_then(|s| s.started_at) {
            assert!(started < e.occurred_at);
        }
        assert_eq!(
            e.chat.is_some(),
            e.event_type == LeadEventType::ChatConversation
        );
        assert_eq!(e.source_system == "website_chat", e.chat.is_some());
        assert!(!e.source_record_id.is_empty());
    }
}

#[test]
fn persona_mix_is_as_designed() {
    let all = leads(42, 20_000);
    let new: Vec<_> = all.iter().filter(|l| l.repeat.is_none()).collect();
    let mut counts: BTreeMap<SyntheticPersona, usize> = BTreeMap::new();
    for l in &new {
        *counts.entry(l.persona).or_default() += 1;
    }
    for persona in SyntheticPersona::ALL {
        let share = counts.get(&persona).copied().unwrap_or_default() as f64 / new.len() as f64;
        let designed = f64::from(persona.share_percent()) / 100.0;
        assert!(
            (share - designed).abs() < 0.015,
            "{persona:?}: {share:.3} vs {designed:.3}"
        );
    }
    let repeats = all.len() - new.len();
    let repeat_share = repeats as f64 / all.len() as f64;
    assert!(
        (0.06..0.10).contains(&repeat_share),
        "repeats {repeat_share:.3}"
    );
    let unknown = new.iter().filter(|l| l.unknown_domain).count() as f64 / new.len() as f64;
    assert!(
        (0.08..0.12).contains(&unknown),
        "unknown domains {unknown:.3}"
    );
}

#[test]
fn personas_look_like_what_they_are() {
    let companies = Companies::bundled();
    let all = leads(5, 5000);
    let new = all
        .iter()
        .filter(|l| l.repeat.is_none() && l.quirk.is_none());
    let mut known_business = 0;
    let mut business = 0;
    for l in new {
        let Some(email) = l.event.contact.email.as_deref() else {
            continue;
        };
        let d = domain(email);
        let title = l.event.contact.title.clone().unwrap_or_default();
        match l.persona {
            SyntheticPersona::Competitor => assert!(COMPETITOR_DOMAINS.contains(&d), "{d}"),
            SyntheticPersona::Student => assert!(d.ends_with(".edu"), "{d}"),
            SyntheticPersona::Analyst => {
                assert!(["gartner.com", "forrester.com"].contains(&d), "{d}");
            }
            SyntheticPersona::JobSeeker => {
                assert_eq!(d, "gmail.com");
                assert!(l.event.company.name.is_none());
            }
            SyntheticPersona::FreeMail => {
                assert!(FREE_MAIL_DOMAINS.contains(&d), "{d}");
                assert!(l.event.account_domain.is_none());
            }
            SyntheticPersona::Executive
            | SyntheticPersona::Manager
            | SyntheticPersona::Practitioner => {
                business += 1;
                assert!(!COMPETITOR_DOMAINS.contains(&d) && !FREE_MAIL_DOMAINS.contains(&d));
                assert_eq!(companies.knows(d), !l.unknown_domain, "{d}");
                if companies.knows(d) {
                    known_business += 1;
                }
            }
        }
        if l.persona == SyntheticPersona::JobSeeker && !title.is_empty() {
            assert!(
                ["open to work", "opportunit", "looking for", "job seeker"]
                    .iter()
                    .any(|w| title.to_lowercase().contains(w)),
                "{title}"
            );
        }
    }
    assert!(
        known_business * 100 / business >= 80,
        "{known_business}/{business}"
    );
}

#[test]
fn chats_carry_a_realistic_signal_mix() {
    let all = leads(9, 20_000);
    let chats: Vec<_> = all.iter().filter(|l| l.event.chat.is_some()).collect();
    let n = chats.len() as f64;
    let share =
        |f: &dyn Fn(&&GeneratedLead) -> bool| chats.iter().filter(|l| f(l)).count() as f64 / n;
    let hot = share(&|l| l.hot_chat);
    let human = share(&|l| l.event.chat.as_ref().is_some_and(|c| c.human_requested));
    let oos = share(&|l| {
        l.event
            .chat
            .as_ref()
            .is_some_and(|c| c.out_of_scope.is_some())
    });
    let flagged = share(&|l| l.event.chat.as_ref().is_some_and(|c| c.stalled));
    // the observable stall signals of POLICY.md T4 (default thresholds: > 8 exchanges without a
    // proposal, 2 consecutive short answers)
    let by_exchanges = share(&|l| {
        l.event
            .chat
            .as_ref()
            .is_some_and(|c| c.proposal_made == Some(false) && c.exchange_count > 8)
    });
    let by_short_answers = share(&|l| {
        l.event
            .chat
            .as_ref()
            .is_some_and(|c| c.short_answer_streak >= 2)
    });
    let stalled = share(&|l| {
        l.event.chat.as_ref().is_some_and(|c| {
            c.stalled
                || c.repeated_question
                || c.short_answer_streak >= 2
                || (c.proposal_made == Some(false) && c.exchange_count > 8)
        })
    });
    let topical = share(&|l| l.event.chat.as_ref().is_some_and(|c| c.topic.is_some()));
    let pat = share(&|l| {
        l.event.chat.as_ref().is_some_and(|c| {
            let q = &c.qualification;
            q.problem.confirmed && q.authority.confirmed && q.timing.confirmed
        })
    });
    assert!((0.08..0.25).contains(&hot), "hot {hot:.3}");
    assert!(
        (0.06..0.25).contains(&pat),
        "problem+authority+timing {pat:.3}"
    );
    assert!((0.04..0.08).contains(&human), "human requests {human:.3}");
    assert!((0.06..0.12).contains(&oos), "out of scope {oos:.3}");
    assert!((0.10..0.30).contains(&stalled), "stalled {stalled:.3}");
    assert!(
        (0.04..0.15).contains(&by_exchanges),
        "stalls by exchanges {by_exchanges:.3}"
    );
    assert!(
        (0.04..0.12).contains(&by_short_answers),
        "stalls by short answers {by_short_answers:.3}"
    );
    assert!(
        (0.01..0.05).contains(&flagged),
        "flagged by the chat {flagged:.3}"
    );
    assert!((0.2..0.8).contains(&topical), "with a topic {topical:.3}");
    // hot chats made their proposal; no proposal in the first two exchanges
    for l in &chats {
        let c = l.event.chat.as_ref().expect("chat");
        assert!(c.proposal_made.is_some());
        if l.hot_chat {
            assert_eq!(c.proposal_made, Some(true));
        }
        if c.exchange_count < 3 && !l.hot_chat {
            assert_eq!(c.proposal_made, Some(false));
        }
    }
    // hot_chat is exactly the hot-lead rule (POLICY.md T1) on the event's own signals
    for l in &chats {
        let chat = l.event.chat.as_ref().expect("chat");
        assert_eq!(l.hot_chat, is_hot(&chat.qualification));
        assert!(chat.exchange_count >= 1);
        for d in [
            &chat.qualification.problem,
            &chat.qualification.authority,
            &chat.qualification.company,
            &chat.qualification.timing,
        ] {
            assert!((0.0..=1.0).contains(&d.confidence));
        }
    }
    // hot chats come mostly from decision makers, never from researchers
    assert!(chats.iter().filter(|l| l.hot_chat).all(|l| !matches!(
        l.persona,
        SyntheticPersona::Student | SyntheticPersona::Analyst | SyntheticPersona::JobSeeker
    )));
    // a competitor sometimes looks hot: the negative-persona gate needs that case
    assert!(
        chats
            .iter()
            .any(|l| l.hot_chat && l.persona == SyntheticPersona::Competitor)
    );
}

#[test]
fn every_source_and_event_type_appears() {
    let all = leads(13, 3000);
    let systems: BTreeSet<_> = all.iter().map(|l| l.event.source_system.as_str()).collect();
    for s in [
        "hubspot",
        "website_chat",
        "salesforce",
        "intent_feed",
        "zoom_webinars",
        "product",
    ] {
        assert!(systems.contains(s), "{s} missing from {systems:?}");
    }
    let types: BTreeSet<_> = all
        .iter()
        .map(|l| format!("{:?}", l.event.event_type))
        .collect();
    assert!(types.len() >= 7, "{types:?}");
    let utm = all
        .iter()
        .filter(|l| l.event.attributes.contains_key("utm_source"))
        .count();
    assert!(utm > all.len() / 3, "utm on {utm}");
    let tz: BTreeSet<_> = all
        .iter()
        .filter_map(|l| l.event.session.as_ref()?.timezone.clone())
        .map(|t| t.split('/').next().unwrap_or_default().to_owned())
        .collect();
    for region in ["Europe", "America", "Asia"] {
        assert!(tz.contains(region), "{tz:?}");
    }
    let quirks: BTreeSet<_> = all
        .iter()
        .filter_map(|l| l.quirk)
        .map(|q| format!("{q:?}"))
        .collect();
    assert_eq!(quirks.len(), 4, "{quirks:?}");
}

#[test]
fn repeats_reuse_the_lead() {
    let all = leads(21, 5000);
    let mut by_lead: BTreeMap<&str, Vec<&GeneratedLead>> = BTreeMap::new();
    for l in &all {
        by_lead.entry(l.event.lead_id.as_str()).or_default().push(l);
    }
    let mut doubles = 0;
    for l in all.iter().filter(|l| l.repeat.is_some()) {
        let earlier = &by_lead[l.event.lead_id.as_str()];
        assert!(earlier.len() >= 2);
        let first = earlier[0];
        assert!(first.repeat.is_none() && first.event.occurred_at < l.event.occurred_at);
        assert_eq!(first.persona, l.persona);
        if let (Some(a), Some(b)) = (&first.event.contact.email, &l.event.contact.email) {
            if first.quirk.is_none() {
                assert!(a.eq_ignore_ascii_case(b), "{a} vs {b}");
            }
        }
        if l.repeat == Some(Repeat::DoubleSubmit) {
            doubles += 1;
            assert!(earlier.iter().any(|e| e.event.event_id != l.event.event_id
                && e.event.source_record_id == l.event.source_record_id
                && e.event.source_system == l.event.source_system));
        }
    }
    assert!(doubles > 10, "{doubles} double submissions");
}

#[test]
fn times_cover_business_hours_evenings_and_weekends() {
    let all = leads(42, 600);
    let mut weekday_business = 0;
    let mut weekday_evening = 0;
    let mut weekend = 0;
    for l in &all {
        // classify in Paris time (UTC+1 in November)
        let t = l.event.occurred_at.to_datetime() + chrono::Duration::hours(1);
        match (t.weekday(), t.hour()) {
            (Weekday::Sat | Weekday::Sun, _) => weekend += 1,
            (_, 9..=17) => weekday_business += 1,
            _ => weekday_evening += 1,
        }
    }
    assert!(weekday_business > 100, "{weekday_business}");
    assert!(weekday_evening > 20, "{weekday_evening}");
    assert!(weekend > 20, "{weekend}");
}

#[test]
fn shift_moves_every_time_of_an_event() {
    let mut e = LeadGenerator::new(1, start())
        .find(|e| e.session.is_some() && !e.activities.is_empty())
        .expect("some web event with history");
    let before = e.clone();
    shift(&mut e, 1000);
    assert_eq!(e.occurred_at.0, before.occurred_at.0 + 1000);
    assert_eq!(
        e.activities[0].occurred_at.0,
        before.activities[0].occurred_at.0 + 1000
    );
    let started = |e: &LeadEvent| e.session.as_ref().and_then(|s| s.started_at).map(|t| t.0);
    assert_eq!(started(&e), started(&before).map(|t| t + 1000));
}

/// Buying committees (route RULES.md §9): a demo-sized stream (200 leads, the demo's default
/// `COUNT`) already has accounts with several people of different personas, because the business
/// leads are drawn from the ~150 companies of the enrich dataset.
#[test]
fn a_demo_sized_stream_has_multi_person_accounts() {
    for seed in [7, 23, 29] {
        let mut people: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut personas: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for l in leads(seed, 200) {
            let Some(email) = l.event.contact.email.as_deref() else {
                continue;
            };
            let d = domain(email).to_ascii_lowercase();
            if d == "gmail.com" || super::companies::FREE_MAIL_DOMAINS.contains(&d.as_str()) {
                continue; // free mail has no account
            }
            people
                .entry(d.clone())
                .or_default()
                .insert(l.event.lead_id.clone());
            personas
                .entry(d)
                .or_default()
                .insert(format!("{:?}", l.persona));
        }
        let committees = people.values().filter(|p| p.len() >= 2).count();
        let mixed = personas.values().filter(|p| p.len() >= 2).count();
        let largest = people.values().map(BTreeSet::len).max().unwrap_or(0);
        assert!(
            committees >= 10,
            "seed {seed}: {committees} accounts with 2+ people"
        );
        assert!(mixed >= 5, "seed {seed}: {mixed} accounts mixing personas");
        assert!(
            largest >= 3,
            "seed {seed}: largest account has {largest} people"
        );
    }
}
