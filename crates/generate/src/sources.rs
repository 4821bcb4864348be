//! Source systems a lead arrives from, their event types, record ids, UTM attributes and web sessions.

use std::collections::BTreeMap;

use leadflow_events::{LeadEventType, Timestamp, VisitorSession};
use rand::Rng;

use super::Intent;
use super::catalogue::{CONTENT, WEBINARS};
use super::people::SyntheticPersona;
use super::pick::{Rng as GenRng, chance, pick, secs, weighted};

/// An upstream system that publishes lead events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Source {
    /// HubSpot forms: demo / contact forms and gated content downloads.
    HubspotForms,
    /// The website's qualification chat.
    WebsiteChat,
    /// Salesforce lead records created or updated by people and imports.
    Salesforce,
    /// A third-party intent data feed (account-level research surges).
    IntentFeed,
    /// The webinar platform's registrations and attendance.
    Webinar,
    /// Self-serve product sign-ups.
    ProductSignup,
}

impl Source {
    /// The `source_system` value on the wire.
    pub fn system(self) -> &'static str {
        match self {
            Source::HubspotForms => "hubspot",
            Source::WebsiteChat => "website_chat",
            Source::Salesforce => "salesforce",
            Source::IntentFeed => "intent_feed",
            Source::Webinar => "zoom_webinars",
            Source::ProductSignup => "product",
        }
    }

    /// Where a persona typically comes from.
    pub fn draw(rng: &mut GenRng, persona: SyntheticPersona) -> Self {
        use Source::*;
        let weights: &[(Source, u32)] = match persona {
            SyntheticPersona::Executive
            | SyntheticPersona::Manager
            | SyntheticPersona::Practitioner => &[
                (HubspotForms, 30),
                (WebsiteChat, 28),
                (Salesforce, 14),
                (IntentFeed, 10),
                (Webinar, 12),
                (ProductSignup, 6),
            ],
            SyntheticPersona::Competitor => &[
                (HubspotForms, 35),
                (WebsiteChat, 30),
                (Webinar, 25),
                (ProductSignup, 10),
            ],
            SyntheticPersona::Student => &[(HubspotForms, 45), (Webinar, 35), (WebsiteChat, 20)],
            SyntheticPersona::Analyst => &[(Webinar, 40), (HubspotForms, 40), (WebsiteChat, 20)],
            SyntheticPersona::JobSeeker => &[(WebsiteChat, 50), (HubspotForms, 50)],
            SyntheticPersona::FreeMail => &[
                (HubspotForms, 40),
                (WebsiteChat, 35),
                (Webinar, 15),
                (ProductSignup, 10),
            ],
        };
        weighted(rng, weights)
    }

    /// The event type, given how interested the lead is.
    pub fn event_type(self, rng: &mut GenRng, intent: Intent) -> LeadEventType {
        match self {
            Source::HubspotForms => {
                let form = match intent {
                    Intent::Hot => 0.85,
                    Intent::Warm => 0.45,
                    Intent::Cold => 0.15,
                };
                if chance(rng, form) {
                    LeadEventType::FormSubmission
                } else {
                    LeadEventType::ContentDownload
                }
            }
            Source::WebsiteChat => LeadEventType::ChatConversation,
            Source::Salesforce => LeadEventType::CrmUpdate,
            Source::IntentFeed => LeadEventType::IntentSurge,
            Source::Webinar => LeadEventType::Webinar,
            Source::ProductSignup => LeadEventType::ProductSignup,
        }
    }

    /// A record id in the source system's own style.
    pub fn record_id(self, rng: &mut GenRng) -> String {
        match self {
            Source::HubspotForms => format!("hs-sub-{:09}", rng.random_range(0..1_000_000_000u64)),
            Source::WebsiteChat => format!("chat-{:012x}", rng.random_range(0..1u64 << 48)),
            Source::Salesforce => {
                const ALNUM: &[u8] =
                    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
                let tail: String = (0..12).map(|_| char::from(*pick(rng, ALNUM))).collect();
                format!("00Q{tail}")
            }
            Source::IntentFeed => format!("surge-{:08}", rng.random_range(0..100_000_000u64)),
            Source::Webinar => format!("zw-reg-{:010}", rng.random_range(0..10_000_000_000u64)),
            Source::ProductSignup => format!("usr_{:016x}", rng.random::<u64>()),
        }
    }

    /// Whether the event comes from a visit to the website (and so carries a visitor session).
    pub fn is_web(self) -> bool {
        matches!(
            self,
            Source::HubspotForms | Source::WebsiteChat | Source::ProductSignup
        )
    }
}

/// Source-specific attributes plus UTM parameters for marketing-driven sources.
pub fn attributes(
    rng: &mut GenRng,
    source: Source,
    event_type: LeadEventType,
) -> BTreeMap<String, String> {
    let mut a = BTreeMap::new();
    let mut put = |k: &str, v: String| {
        a.insert(k.to_owned(), v);
    };
    match source {
        Source::HubspotForms => {
            let form = if event_type == LeadEventType::FormSubmission {
                (*pick(rng, &["demo-request", "contact-sales", "pricing-inquiry"])).to_owned()
            } else {
                format!("ebook-{}", slug(pick::<&str>(rng, &CONTENT)))
            };
            put("form_name", form);
        }
        Source::Salesforce => {
            let origin = *pick(
                rng,
                &[
                    "Trade Show",
                    "Outbound",
                    "Partner Referral",
                    "List Import",
                    "Event Badge Scan",
                ],
            );
            put("lead_source", origin.to_owned());
        }
        Source::IntentFeed => {
            put(
                "intent_provider",
                (*pick(rng, &["bombora", "g2", "6sense"])).to_owned(),
            );
            put("intent_score", rng.random_range(55..100).to_string());
        }
        Source::Webinar => {
            let title = *pick(rng, &WEBINARS);
            put("webinar_id", format!("wbn-{}", slug(title)));
        }
        Source::WebsiteChat | Source::ProductSignup => {}
    }
    let marketing = matches!(
        source,
        Source::HubspotForms | Source::WebsiteChat | Source::Webinar | Source::ProductSignup
    );
    if marketing && chance(rng, 0.7) {
        let (utm_source, medium) = weighted(
            rng,
            &[
                (("google", "cpc"), 30),
                (("linkedin", "paid_social"), 25),
                (("newsletter", "email"), 15),
                (("g2", "referral"), 10),
                (("partner", "referral"), 8),
                (("bing", "cpc"), 5),
                (("twitter", "social"), 7),
            ],
        );
        put("utm_source", utm_source.to_owned());
        put("utm_medium", medium.to_owned());
        put(
            "utm_campaign",
            (*pick(
                rng,
                &[
                    "q4-speed-to-lead",
                    "revops-benchmark-2026",
                    "webinar-handoff",
                    "brand-always-on",
                    "competitor-switch",
                ],
            ))
            .to_owned(),
        );
        if medium == "cpc" && chance(rng, 0.6) {
            put(
                "utm_term",
                (*pick(
                    rng,
                    &[
                        "lead routing software",
                        "lead scoring tool",
                        "speed to lead",
                    ],
                ))
                .to_owned(),
            );
        }
    }
    a
}

/// The web session that led to the event (some visitors share no timezone).
pub fn session(rng: &mut GenRng, timezone: &str, page: &str, at: Timestamp) -> VisitorSession {
    let platform = weighted(
        rng,
        &[("web-desktop", 70), ("web-mobile", 25), ("web-tablet", 5)],
    );
    VisitorSession {
        session_id: Some(format!("sess-{:016x}", rng.random::<u64>())),
        page_url: Some(format!("https://www.leadflow.example{page}")),
        platform: Some(platform.to_owned()),
        timezone: chance(rng, 0.9).then(|| timezone.to_owned()),
        started_at: Some(Timestamp(at.0 - secs(rng, 60, 2400))),
    }
}

fn slug(title: &str) -> String {
    let lower: String = title
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    lower
        .split('-')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(
            slug("After-Hours Leads: Who Picks Up?"),
            "after-hours-leads-who-picks-up"
        );
        assert_eq!(
            slug("2026 Lead Routing Benchmark"),
            "2026-lead-routing-benchmark"
        );
    }
}
