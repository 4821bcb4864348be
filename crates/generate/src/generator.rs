//! The seeded lead stream: `LeadGenerator::new(seed, start)` yields the same `LeadEvent`s for the same
//! seed and start, with ids derived from both (`evt-<seed>-<index>`, `lead-<seed>-<index>`).

use std::collections::VecDeque;

use leadflow_events::{Company, Contact, LeadEvent, LeadEventType, Timestamp};
use rand::SeedableRng;

use super::Intent;
use super::activity;
use super::chat;
use super::clock;
use super::companies::{ANALYST_FIRMS, Companies, CompanyRecord, FREE_MAIL_DOMAINS, UNIVERSITIES};
use super::people::{self, SyntheticPersona};
use super::pick::{Rng as GenRng, chance, pick, weighted};
use super::sources::{self, Source};

/// Share of events that are another touch of an earlier lead (same lead id and email).
pub const REPEAT_SHARE: f64 = 0.08;
/// Share of business leads (executives, managers, practitioners) at a company the dataset does not
/// know; with their 69 % share of new leads this is about 10 % of all leads.
pub const UNKNOWN_DOMAIN_SHARE: f64 = 0.145;
/// Share of new leads with a data-quality problem.
pub const QUIRK_SHARE: f64 = 0.03;
/// Earlier leads remembered for repeats.
const HISTORY: usize = 5000;
/// A repeat this soon after the lead's previous event may be a double submission.
const DOUBLE_SUBMIT_WINDOW_MS: i64 = 30 * 60 * 1000;

/// How an event repeats an earlier lead.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Repeat {
    /// The same submission again minutes later: same source system and source record id.
    DoubleSubmit,
    /// A later touch of the same person from any source.
    LaterTouch,
}

/// A data-quality problem the capture stage should notice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Quirk {
    /// No email although the source normally has one.
    MissingEmail,
    /// Email with surrounding spaces and capitals.
    MessyEmail,
    /// An obvious test submission (test@test.com).
    TestLead,
    /// No name and no title.
    Anonymous,
}

/// One generated event with what the generator designed it to be (ground truth for tests).
#[derive(Clone, Debug)]
pub struct GeneratedLead {
    pub event: LeadEvent,
    pub persona: SyntheticPersona,
    pub intent: Intent,
    pub repeat: Option<Repeat>,
    /// The company domain is not in the enrich dataset (business personas only).
    pub unknown_domain: bool,
    /// A chat whose qualification meets the hot-lead rule at confidence ≥ 0.80.
    pub hot_chat: bool,
    pub quirk: Option<Quirk>,
}

/// Who a lead works for, as far as the generator knows.
#[derive(Clone, Debug)]
struct Employer {
    name: String,
    domain: Option<String>,
    industry: Option<String>,
    country: String,
    employee_count: Option<i32>,
    annual_revenue_usd: Option<i64>,
    /// A plausible buyer (a business of 50+ people).
    fit: bool,
}

impl Employer {
    fn from_record(r: &CompanyRecord, fit: bool) -> Self {
        Self {
            name: r.name.clone(),
            domain: Some(r.domain.clone()),
            industry: Some(r.industry.clone()),
            country: r.country.clone(),
            employee_count: Some(r.employee_count),
            annual_revenue_usd: Some(r.annual_revenue_usd),
            fit,
        }
    }
}

/// A person the generator created, remembered for repeats.
#[derive(Clone, Debug)]
struct Profile {
    lead_id: String,
    persona: SyntheticPersona,
    intent: Intent,
    first: &'static str,
    last: &'static str,
    email: String,
    title: &'static str,
    department: Option<&'static str>,
    phone: Option<String>,
    country: String,
    timezone: &'static str,
    employer: Option<Employer>,
    unknown_domain: bool,
    last_source: Source,
    last_record_id: String,
    last_event_type: LeadEventType,
    last_at: Timestamp,
}

impl Profile {
    /// The event just generated for this person becomes the last one a repeat refers to.
    fn record(
        &mut self,
        source: Source,
        record_id: String,
        event_type: LeadEventType,
        at: Timestamp,
    ) {
        self.last_source = source;
        self.last_record_id = record_id;
        self.last_event_type = event_type;
        self.last_at = at;
    }

    /// `event` with what the generator knows about this person.
    fn lead(
        &self,
        event: LeadEvent,
        repeat: Option<Repeat>,
        hot_chat: bool,
        quirk: Option<Quirk>,
    ) -> GeneratedLead {
        GeneratedLead {
            event,
            persona: self.persona,
            intent: self.intent,
            repeat,
            unknown_domain: self.unknown_domain,
            hot_chat,
            quirk,
        }
    }
}

/// A deterministic stream of realistic `LeadEvent`s.
pub struct LeadGenerator {
    seed: u64,
    rng: GenRng,
    next_index: u64,
    clock: Timestamp,
    companies: Companies,
    history: VecDeque<Profile>,
}

impl LeadGenerator {
    /// A stream for `seed` whose first event happens shortly after `start`.
    pub fn new(seed: u64, start: Timestamp) -> Self {
        Self {
            seed,
            rng: GenRng::seed_from_u64(seed),
            next_index: 0,
            clock: start,
            companies: Companies::bundled(),
            history: VecDeque::new(),
        }
    }

    /// The next event with its design.
    pub fn next_lead(&mut self) -> GeneratedLead {
        let index = self.next_index;
        self.next_index += 1;
        self.clock = Timestamp(self.clock.0 + clock::next_gap_ms(&mut self.rng, self.clock));
        let at = self.clock;
        if !self.history.is_empty() && chance(&mut self.rng, REPEAT_SHARE) {
            return self.repeat(index, at);
        }
        let mut profile = self.new_profile(index);
        let source = Source::draw(&mut self.rng, profile.persona);
        let event_type = source.event_type(&mut self.rng, profile.intent);
        let record_id = source.record_id(&mut self.rng);
        let (mut event, hot_chat) =
            self.build(index, &profile, source, event_type, record_id.clone(), at);
        let quirk = if chance(&mut self.rng, QUIRK_SHARE) {
            Some(self.apply_quirk(&mut event))
        } else {
            None
        };
        profile.record(source, record_id, event_type, at);
        let lead = profile.lead(event, None, hot_chat, quirk);
        self.remember(profile);
        lead
    }

    fn remember(&mut self, profile: Profile) {
        if self.history.len() >= HISTORY {
            self.history.pop_front();
        }
        self.history.push_back(profile);
    }

    fn repeat(&mut self, index: u64, at: Timestamp) -> GeneratedLead {
        let recent: Vec<usize> = (0..self.history.len())
            .rev()
            .take(20)
            .filter(|i| at.0 - self.history[*i].last_at.0 < DOUBLE_SUBMIT_WINDOW_MS)
            .collect();
        let double = !recent.is_empty() && chance(&mut self.rng, 0.3);
        let slot = if double {
            *pick(&mut self.rng, &recent)
        } else {
            rand::Rng::random_range(&mut self.rng, 0..self.history.len())
        };
        let mut profile = self.history[slot].clone();
        let (source, event_type, record_id, kind) = if double {
            (
                profile.last_source,
                profile.last_event_type,
                profile.last_record_id.clone(),
                Repeat::DoubleSubmit,
            )
        } else {
            profile.intent = match profile.intent {
                Intent::Cold if chance(&mut self.rng, 0.3) => Intent::Warm,
                Intent::Warm if chance(&mut self.rng, 0.25) => Intent::Hot,
                same => same,
            };
            let source = Source::draw(&mut self.rng, profile.persona);
            let event_type = source.event_type(&mut self.rng, profile.intent);
            (
                source,
                event_type,
                source.record_id(&mut self.rng),
                Repeat::LaterTouch,
            )
        };
        let (mut event, hot_chat) =
            self.build(index, &profile, source, event_type, record_id.clone(), at);
        // people type their address differently the second time; dedup must normalise
        if chance(&mut self.rng, 0.1) {
            if let Some(email) = &mut event.contact.email {
                *email = capitalised(email);
            }
        }
        profile.record(source, record_id, event_type, at);
        let lead = profile.lead(event, Some(kind), hot_chat, None);
        self.history[slot] = profile;
        lead
    }

    fn new_profile(&mut self, index: u64) -> Profile {
        let rng = &mut self.rng;
        let persona = SyntheticPersona::draw(rng);
        let intent = draw_intent(rng, persona);
        let (first, last) = people::name(rng);
        let (title, department) = persona.title(rng);
        let mut unknown_domain = false;
        let (employer, email) = match persona {
            SyntheticPersona::Executive
            | SyntheticPersona::Manager
            | SyntheticPersona::Practitioner => {
                let record = if chance(rng, UNKNOWN_DOMAIN_SHARE) {
                    unknown_domain = true;
                    self.companies.invent(rng)
                } else {
                    pick(rng, &self.companies.prospects).clone()
                };
                let email = people::work_email(rng, first, last, &record.domain);
                let fit = record.employee_count >= 50;
                (Some(Employer::from_record(&record, fit)), email)
            }
            SyntheticPersona::Competitor => {
                let record = pick(rng, &self.companies.competitors).clone();
                let email = people::work_email(rng, first, last, &record.domain);
                (Some(Employer::from_record(&record, true)), email)
            }
            SyntheticPersona::Student => {
                let (domain, name) = *pick(rng, &UNIVERSITIES);
                let email = people::work_email(rng, first, last, domain);
                let employer = Employer {
                    name: name.to_owned(),
                    domain: Some(domain.to_owned()),
                    industry: Some("education".to_owned()),
                    country: "US".to_owned(),
                    employee_count: Some(rand::Rng::random_range(rng, 8_000..30_000)),
                    annual_revenue_usd: None,
                    fit: false,
                };
                (Some(employer), email)
            }
            SyntheticPersona::Analyst => {
                let (domain, name) = *pick(rng, &ANALYST_FIRMS);
                let email = people::work_email(rng, first, last, domain);
                let employer = Employer {
                    name: name.to_owned(),
                    domain: Some(domain.to_owned()),
                    industry: Some("consulting".to_owned()),
                    country: "US".to_owned(),
                    employee_count: Some(if domain == "gartner.com" {
                        20_000
                    } else {
                        1_900
                    }),
                    annual_revenue_usd: None,
                    fit: false,
                };
                (Some(employer), email)
            }
            SyntheticPersona::JobSeeker => {
                let email = people::personal_email(rng, first, last, "gmail.com");
                (None, email)
            }
            SyntheticPersona::FreeMail => {
                let domain = *pick(rng, &FREE_MAIL_DOMAINS);
                let email = people::personal_email(rng, first, last, domain);
                // some name a company (dataset or not), without a domain to go with it
                let employer = if chance(rng, 0.6) {
                    let record = if chance(rng, 0.4) {
                        pick(rng, &self.companies.prospects).clone()
                    } else {
                        self.companies.invent(rng)
                    };
                    Some(Employer {
                        domain: None,
                        industry: None,
                        employee_count: None,
                        annual_revenue_usd: None,
                        fit: false,
                        ..Employer::from_record(&record, false)
                    })
                } else {
                    None
                };
                (employer, email)
            }
        };
        let company_country = employer.as_ref().map(|e| e.country.clone());
        let country = match company_country {
            Some(c) if chance(rng, 0.85) => c,
            _ => people::home_country(rng).to_owned(),
        };
        let timezone = people::timezone(rng, &country);
        let phone = chance(rng, 0.45).then(|| people::phone(rng, &country));
        Profile {
            lead_id: format!("lead-{}-{index}", self.seed),
            persona,
            intent,
            first,
            last,
            email,
            title,
            department,
            phone,
            country,
            timezone,
            employer,
            unknown_domain,
            last_source: Source::HubspotForms,
            last_record_id: String::new(),
            last_event_type: LeadEventType::Other,
            last_at: Timestamp(0),
        }
    }

    /// The event of `profile` arriving from `source` at `at`.
    fn build(
        &mut self,
        index: u64,
        profile: &Profile,
        source: Source,
        event_type: LeadEventType,
        source_record_id: String,
        at: Timestamp,
    ) -> (LeadEvent, bool) {
        let rng = &mut self.rng;
        let contact = contact_for(rng, profile, source);
        let company = company_for(rng, profile.employer.as_ref(), source);
        let account_domain = profile
            .employer
            .as_ref()
            .and_then(|e| e.domain.clone())
            .filter(|_| {
                matches!(source, Source::Salesforce | Source::IntentFeed) || chance(rng, 0.4)
            });
        let activities = activity::history(rng, profile.persona, profile.intent, source, at);
        let (chat, hot_chat) = if source == Source::WebsiteChat {
            let fit = profile.employer.as_ref().is_some_and(|e| e.fit);
            let c = chat::conversation(rng, profile.persona, profile.intent, fit);
            (Some(c.signals), c.hot)
        } else {
            (None, false)
        };
        let session = source.is_web().then(|| {
            let page = landing_page(source, event_type, profile.intent);
            sources::session(rng, profile.timezone, page, at)
        });
        let attributes = sources::attributes(rng, source, event_type);
        let event = LeadEvent {
            event_id: format!("evt-{}-{index}", self.seed),
            lead_id: profile.lead_id.clone(),
            account_domain,
            source_system: source.system().to_owned(),
            source_record_id,
            occurred_at: at,
            event_type,
            contact,
            company,
            activities,
            chat,
            session,
            attributes,
        };
        (event, hot_chat)
    }

    fn apply_quirk(&mut self, event: &mut LeadEvent) -> Quirk {
        let quirk = weighted(
            &mut self.rng,
            &[
                (Quirk::MissingEmail, 35),
                (Quirk::MessyEmail, 30),
                (Quirk::TestLead, 15),
                (Quirk::Anonymous, 20),
            ],
        );
        let c = &mut event.contact;
        match quirk {
            Quirk::MissingEmail => c.email = None,
            Quirk::MessyEmail => {
                c.email = c.email.as_deref().map(|e| format!("  {} ", capitalised(e)));
            }
            Quirk::TestLead => {
                c.email = Some("test@test.com".to_owned());
                c.first_name = Some("Test".to_owned());
                c.last_name = Some("Test".to_owned());
                event.company.name = Some("test".to_owned());
            }
            Quirk::Anonymous => {
                c.first_name = None;
                c.last_name = None;
                c.title = None;
            }
        }
        quirk
    }
}

impl Iterator for LeadGenerator {
    type Item = LeadEvent;

    /// Never ends.
    fn next(&mut self) -> Option<LeadEvent> {
        Some(self.next_lead().event)
    }
}

fn draw_intent(rng: &mut GenRng, persona: SyntheticPersona) -> Intent {
    use SyntheticPersona::*;
    let (hot, warm, cold) = match persona {
        Executive => (30, 40, 30),
        Manager => (25, 45, 30),
        Practitioner => (12, 43, 45),
        Competitor => (15, 50, 35),
        Student | Analyst | JobSeeker => (3, 27, 70),
        FreeMail => (10, 40, 50),
    };
    weighted(
        rng,
        &[
            (Intent::Hot, hot),
            (Intent::Warm, warm),
            (Intent::Cold, cold),
        ],
    )
}

/// What each source system knows about the person.
fn contact_for(rng: &mut GenRng, p: &Profile, source: Source) -> Contact {
    let some = |s: &str| Some(s.to_owned());
    let full = Contact {
        email: Some(p.email.clone()),
        first_name: some(p.first),
        last_name: some(p.last),
        phone: p.phone.clone(),
        title: some(p.title),
        department: p.department.map(str::to_owned),
        country: Some(p.country.clone()),
    };
    match source {
        Source::Salesforce => full,
        Source::HubspotForms => Contact {
            phone: full.phone.filter(|_| chance(rng, 0.6)),
            title: full.title.filter(|_| chance(rng, 0.85)),
            country: full.country.filter(|_| chance(rng, 0.7)),
            ..full
        },
        Source::WebsiteChat => Contact {
            email: full.email,
            first_name: full.first_name,
            last_name: full.last_name.filter(|_| chance(rng, 0.5)),
            title: full.title.filter(|_| chance(rng, 0.4)),
            ..Contact::default()
        },
        Source::Webinar => Contact {
            phone: None,
            title: full.title.filter(|_| chance(rng, 0.9)),
            country: full.country.filter(|_| chance(rng, 0.6)),
            ..full
        },
        // intent data is often account-level only
        Source::IntentFeed if chance(rng, 0.35) => Contact::default(),
        Source::IntentFeed => Contact {
            phone: None,
            ..full
        },
        Source::ProductSignup => Contact {
            email: full.email,
            first_name: full.first_name.filter(|_| chance(rng, 0.7)),
            ..Contact::default()
        },
    }
}

/// What each source system knows about the company.
fn company_for(rng: &mut GenRng, employer: Option<&Employer>, source: Source) -> Company {
    let Some(e) = employer else {
        return Company::default();
    };
    let mut keep = |p: f64| chance(rng, p);
    let name = Some(e.name.clone());
    match source {
        Source::Salesforce | Source::IntentFeed => Company {
            name,
            domain: e.domain.clone(),
            industry: e.industry.clone(),
            employee_count: e.employee_count,
            annual_revenue_usd: e.annual_revenue_usd.filter(|_| keep(0.7)),
            country: Some(e.country.clone()),
        },
        Source::HubspotForms => Company {
            name: name.filter(|_| keep(0.9)),
            domain: None,
            industry: e.industry.clone().filter(|_| keep(0.25)),
            employee_count: e.employee_count.filter(|_| keep(0.35)),
            annual_revenue_usd: None,
            country: Some(e.country.clone()).filter(|_| keep(0.5)),
        },
        Source::WebsiteChat => Company {
            name: name.filter(|_| keep(0.55)),
            ..Company::default()
        },
        Source::Webinar => Company {
            name: name.filter(|_| keep(0.9)),
            ..Company::default()
        },
        Source::ProductSignup => Company {
            name: name.filter(|_| keep(0.35)),
            ..Company::default()
        },
    }
}

fn landing_page(source: Source, event_type: LeadEventType, intent: Intent) -> &'static str {
    match (source, event_type) {
        (Source::ProductSignup, _) => "/signup",
        (_, LeadEventType::FormSubmission) => "/demo",
        (_, LeadEventType::ContentDownload) => "/resources",
        (Source::WebsiteChat, _) if intent == Intent::Cold => "/blog",
        _ => "/pricing",
    }
}

/// `ada.lovelace@northwind.io` → `Ada.Lovelace@Northwind.io`.
fn capitalised(email: &str) -> String {
    let mut out = String::with_capacity(email.len());
    let mut start = true;
    for c in email.chars() {
        out.push(if start { c.to_ascii_uppercase() } else { c });
        start = matches!(c, '.' | '@' | '_');
    }
    out
}

/// Moves an event and its history by `delta_ms` (for `generate --live`).
pub fn shift(event: &mut LeadEvent, delta_ms: i64) {
    event.occurred_at = Timestamp(event.occurred_at.0 + delta_ms);
    for a in &mut event.activities {
        a.occurred_at = Timestamp(a.occurred_at.0 + delta_ms);
    }
    if let Some(started) = event.session.as_mut().and_then(|s| s.started_at.as_mut()) {
        *started = Timestamp(started.0 + delta_ms);
    }
}
