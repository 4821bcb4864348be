#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Property: over 10,000 random leads (100 random rosters × 100 leads), no rep ever exceeds their
//! open-lead cap, and every lead ends assigned to an eligible rep (or its account owner), flagged
//! to the pool's manager, or unroutable (exceptions topic) only when the pool has no manager.

mod common;

use common::*;
use leadflow_events::{RepActivity, RepActivityKind, RepRole, RepStatus, Timestamp, WorkingHours};
use leadflow_route::eligibility::{self, LeadFacts};
use leadflow_route::{Roster, Routed, Router, RouterConfig};
use proptest::prelude::*;

const TEAMS: [&str; 3] = ["ae", "sdr", "legal"];
const COUNTRIES: [&str; 6] = ["FR", "US", "DE", "GB", "IN", "CA"];
const TERRITORIES: [&str; 7] = ["FR", "US", "EMEA", "NA", "APAC", "DACH", "GLOBAL"];
const SEGMENTS: [&str; 6] = ["1-10", "11-50", "51-200", "201-1000", "1001-5000", "5000+"];
const ZONES: [&str; 3] = ["Europe/Paris", "America/New_York", "Asia/Kolkata"];

#[derive(Clone, Debug)]
struct RepSpec {
    team: usize,
    manager: bool,
    territories: Vec<usize>,
    segments: Vec<usize>,
    cap: i32,
    status: usize,
    zone: Option<usize>,
}

fn rep_spec() -> impl Strategy<Value = RepSpec> {
    (
        0..TEAMS.len(),
        prop::bool::weighted(0.15),
        prop::collection::vec(0..TERRITORIES.len(), 0..3),
        prop::collection::vec(0..SEGMENTS.len(), 0..3),
        0..5i32,
        prop::sample::select(vec![0usize, 0, 0, 1, 2, 3]),
        prop::option::of(0..ZONES.len()),
    )
        .prop_map(
            |(team, manager, territories, segments, cap, status, zone)| RepSpec {
                team,
                manager,
                territories,
                segments,
                cap,
                status,
                zone,
            },
        )
}

#[derive(Clone, Debug)]
struct LeadSpec {
    team: usize,
    country: usize,
    employees: i32,
    account: Option<u8>,
    minutes: i64,
    release: bool,
}

fn lead_spec() -> impl Strategy<Value = LeadSpec> {
    (
        0..TEAMS.len(),
        0..COUNTRIES.len(),
        1..8000i32,
        prop::option::of(0..6u8),
        0..(7 * 24 * 60i64),
        prop::bool::weighted(0.3),
    )
        .prop_map(
            |(team, country, employees, account, minutes, release)| LeadSpec {
                team,
                country,
                employees,
                account,
                minutes,
                release,
            },
        )
}

fn to_state(i: usize, s: &RepSpec) -> leadflow_events::RepState {
    let mut r = rep(&format!("r{i:02}"), TEAMS[s.team]);
    if s.manager {
        r.role = RepRole::Manager;
        r.manager_id = None;
    } else {
        r.manager_id = Some(format!("m-{}", TEAMS[s.team]));
    }
    r.territories = s
        .territories
        .iter()
        .map(|t| TERRITORIES[*t].into())
        .collect();
    r.segments = s.segments.iter().map(|t| SEGMENTS[*t].into()).collect();
    r.max_open_leads = s.cap;
    r.status = [
        RepStatus::Available,
        RepStatus::Busy,
        RepStatus::OutOfOffice,
        RepStatus::Inactive,
    ][s.status];
    if r.status == RepStatus::OutOfOffice {
        r.status_until = Some(Timestamp(T0.0 + 2 * 86_400_000));
    }
    r.working_hours = s.zone.map(|z| WorkingHours::office(ZONES[z]));
    r
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 100, ..ProptestConfig::default() })]

    #[test]
    fn caps_hold_and_every_lead_lands(
        reps in prop::collection::vec(rep_spec(), 0..14),
        leads in prop::collection::vec(lead_spec(), 100),
    ) {
        let states: Vec<_> = reps.iter().enumerate().map(|(i, s)| to_state(i, s)).collect();
        let (roster, rejected) = Roster::from_states(states.clone());
        prop_assert!(rejected.is_empty(), "{rejected:?}");
        let router = Router::new(RouterConfig::default());
        for s in &states {
            router.apply_rep(s.clone()).unwrap();
        }
        for (i, l) in leads.iter().enumerate() {
            let account = l.account.map(|a| format!("acct{a}.io"));
            let mut d = decision(&format!("lead-{i}"), account.as_deref(), COUNTRIES[l.country], l.employees);
            d.target_team = TEAMS[l.team].into();
            let d = at(d, Timestamp(T0.0 + l.minutes * 60_000 + i64::try_from(i).unwrap()));
            let facts = LeadFacts::of(&d);
            let loads_before: Vec<u32> = states.iter().map(|s| router.load(&s.rep_id)).collect();
            match router.route(&d) {
                Routed::Packet(p) => {
                    let a = p.assignee.clone().expect("a packet always has an owner");
                    let rep = roster.get(&a.rep_id).expect("owner is in the roster");
                    let idx = states.iter().position(|s| s.rep_id == a.rep_id).unwrap();
                    if p.unassigned_reason.is_some() {
                        // flagged: the pool's manager, and truly nobody was eligible
                        prop_assert_eq!(
                            roster.manager_of(&facts.team, facts.at).map(|m| m.id().to_owned()),
                            Some(a.rep_id.clone())
                        );
                        for (j, s) in states.iter().enumerate() {
                            if s.teams.contains(&facts.team) {
                                let r = roster.get(&s.rep_id).unwrap();
                                prop_assert!(eligibility::check(r, &facts, loads_before[j]).is_err(),
                                    "{} was eligible but the lead went to the manager", s.rep_id);
                            }
                        }
                    } else if p.assignment_reason.starts_with("account owner") {
                        prop_assert!(!matches!(rep.status_at(facts.at), RepStatus::OutOfOffice | RepStatus::Inactive));
                        prop_assert!(eligibility::under_cap(rep, loads_before[idx]));
                    } else {
                        prop_assert_eq!(eligibility::check(rep, &facts, loads_before[idx]), Ok(()));
                        // least loaded among the eligible
                        for (j, s) in states.iter().enumerate() {
                            if s.teams.contains(&facts.team) {
                                let r = roster.get(&s.rep_id).unwrap();
                                if eligibility::check(r, &facts, loads_before[j]).is_ok() {
                                    prop_assert!(loads_before[j] >= loads_before[idx]);
                                }
                            }
                        }
                    }
                    if l.release && p.unassigned_reason.is_none() {
                        router.apply_activity(&RepActivity {
                            activity_id: format!("act-{i}"),
                            lead_id: p.lead_id().to_owned(),
                            packet_id: Some(p.packet_id.clone()),
                            rep_id: a.rep_id.clone(),
                            kind: RepActivityKind::Contacted,
                            reason: None,
                            reassigned_to: None,
                            occurred_at: Timestamp(p.created_at.0 + 1),
                        });
                    }
                }
                Routed::Unroutable(reason) => {
                    prop_assert!(roster.manager_of(&facts.team, facts.at).is_none(), "{reason}");
                }
                other => prop_assert!(false, "unexpected {other:?}"),
            }
            for s in &states {
                if s.role != RepRole::Manager {
                    let load = router.load(&s.rep_id);
                    prop_assert!(i64::from(load) <= i64::from(s.max_open_leads),
                        "{} has {load} open leads, cap {}", s.rep_id, s.max_open_leads);
                }
            }
        }
    }
}
