//! Behavioural history before a lead event: page views, pricing visits, demo requests, content,
//! webinars, intent surges — more and stronger for hotter leads, always strictly before the event.

use leadflow_events::{Activity, ActivityKind, Timestamp};

use super::Intent;
use super::catalogue::{CONTENT, WEBINARS};
use super::people::SyntheticPersona;
use super::pick::{Rng as GenRng, chance, pick, secs, weighted};
use super::sources::Source;

const DAY: i64 = 86_400;

const BLOG_PAGES: [&str; 6] = [
    "/blog/speed-to-lead",
    "/blog/lead-routing-rules",
    "/blog/sla-for-inbound-leads",
    "/blog/ai-qualification",
    "/blog/buying-committees",
    "/blog/revops-metrics",
];
const PRODUCT_PAGES: [&str; 6] = [
    "/product",
    "/product/routing",
    "/product/scoring",
    "/integrations/salesforce",
    "/integrations/hubspot",
    "/customers",
];
const INTENT_TOPICS: [&str; 5] = [
    "lead routing",
    "lead scoring",
    "revenue operations",
    "sales engagement platform",
    "conversational marketing",
];

/// The activity history of one lead event at `at`, oldest first.
pub fn history(
    rng: &mut GenRng,
    persona: SyntheticPersona,
    intent: Intent,
    source: Source,
    at: Timestamp,
) -> Vec<Activity> {
    let mut out = Vec::new();
    let count = match intent {
        Intent::Cold => weighted(rng, &[(0, 30), (1, 35), (2, 25), (3, 10)]),
        Intent::Warm => weighted(rng, &[(2, 25), (3, 30), (4, 25), (5, 15), (6, 5)]),
        Intent::Hot => weighted(rng, &[(3, 15), (4, 25), (5, 25), (6, 20), (7, 10), (9, 5)]),
    };
    for _ in 0..count {
        let kind = kind_for(rng, persona, intent);
        let ago = offset_for(rng, kind, intent);
        out.push(activity(rng, kind, Timestamp(at.0 - ago)));
    }
    out.extend(source_touch(rng, source, intent, at));
    out.sort_by_key(|a| (a.occurred_at, a.kind));
    out
}

fn kind_for(rng: &mut GenRng, persona: SyntheticPersona, intent: Intent) -> ActivityKind {
    use ActivityKind::*;
    match persona {
        SyntheticPersona::Competitor => weighted(
            rng,
            &[
                (PricingPageView, 40),
                (PageView, 35),
                (ContentDownload, 15),
                (WebinarRegistered, 10),
            ],
        ),
        SyntheticPersona::Student | SyntheticPersona::Analyst => weighted(
            rng,
            &[
                (PageView, 40),
                (ContentDownload, 35),
                (WebinarRegistered, 15),
                (WebinarAttended, 10),
            ],
        ),
        SyntheticPersona::JobSeeker => weighted(rng, &[(PageView, 85), (EmailOpen, 15)]),
        _ => match intent {
            Intent::Cold => weighted(
                rng,
                &[
                    (PageView, 45),
                    (EmailOpen, 25),
                    (ContentDownload, 20),
                    (EmailClick, 10),
                ],
            ),
            Intent::Warm => weighted(
                rng,
                &[
                    (PageView, 30),
                    (PricingPageView, 15),
                    (ContentDownload, 15),
                    (EmailClick, 12),
                    (WebinarRegistered, 10),
                    (WebinarAttended, 8),
                    (IntentSurge, 5),
                    (EmailOpen, 5),
                ],
            ),
            Intent::Hot => weighted(
                rng,
                &[
                    (PricingPageView, 28),
                    (PageView, 18),
                    (DemoRequest, 14),
                    (ContactSales, 8),
                    (TrialSignup, 7),
                    (IntentSurge, 10),
                    (WebinarAttended, 8),
                    (ContentDownload, 7),
                ],
            ),
        },
    }
}

/// Milliseconds before the event: strong signals of hot leads are recent, the rest spread over weeks,
/// and some cold history is stale (months old) so intent decay has something to do.
fn offset_for(rng: &mut GenRng, kind: ActivityKind, intent: Intent) -> i64 {
    use ActivityKind::*;
    let strong = matches!(
        kind,
        PricingPageView | DemoRequest | ContactSales | TrialSignup | IntentSurge
    );
    match intent {
        Intent::Hot if strong => secs(rng, 60, 3 * DAY),
        Intent::Cold if chance(rng, 0.25) => secs(rng, 30 * DAY, 120 * DAY),
        _ => secs(rng, 3600, 45 * DAY),
    }
}

fn activity(rng: &mut GenRng, kind: ActivityKind, occurred_at: Timestamp) -> Activity {
    use ActivityKind::*;
    let detail = match kind {
        PageView => Some(if chance(rng, 0.5) {
            (*pick(rng, &BLOG_PAGES)).to_owned()
        } else {
            (*pick(rng, &PRODUCT_PAGES)).to_owned()
        }),
        PricingPageView => Some("/pricing".to_owned()),
        DemoRequest => Some("/demo".to_owned()),
        ContactSales => Some("/contact-sales".to_owned()),
        ContentDownload => Some(format!("ebook: {}", pick(rng, &CONTENT))),
        WebinarRegistered | WebinarAttended => Some(format!("webinar: {}", pick(rng, &WEBINARS))),
        EmailReply => Some("reply: nurture sequence".to_owned()),
        EmailOpen | EmailClick => Some(format!(
            "campaign: {}",
            pick(
                rng,
                &[
                    "nurture-week-3",
                    "product-update-nov",
                    "webinar-invite",
                    "case-study-digest"
                ]
            )
        )),
        TrialSignup => Some("/signup".to_owned()),
        IntentSurge => Some(format!(
            "topic: {}; score {}",
            pick(rng, &INTENT_TOPICS),
            rand::Rng::random_range(rng, 60..100)
        )),
        Other => None,
    };
    Activity {
        kind,
        occurred_at,
        detail,
    }
}

/// What the source system itself saw just before the event (the chat page, the webinar attended ...).
fn source_touch(rng: &mut GenRng, source: Source, intent: Intent, at: Timestamp) -> Vec<Activity> {
    use ActivityKind::*;
    let before = |ms: i64| Timestamp(at.0 - ms);
    match source {
        Source::WebsiteChat => {
            let page = if intent == Intent::Cold {
                *pick(rng, &BLOG_PAGES)
            } else {
                "/pricing"
            };
            let kind = if page == "/pricing" {
                PricingPageView
            } else {
                PageView
            };
            vec![Activity {
                kind,
                occurred_at: before(secs(rng, 30, 900)),
                detail: Some(page.to_owned()),
            }]
        }
        Source::Webinar => {
            let title = *pick(rng, &WEBINARS);
            let mut v = vec![Activity {
                kind: WebinarRegistered,
                occurred_at: before(secs(rng, DAY, 14 * DAY)),
                detail: Some(format!("webinar: {title}")),
            }];
            if chance(rng, 0.7) {
                v.push(Activity {
                    kind: WebinarAttended,
                    occurred_at: before(secs(rng, 60, 3600)),
                    detail: Some(format!("webinar: {title}")),
                });
            }
            v
        }
        Source::IntentFeed => {
            let ago = secs(rng, 3600, 2 * DAY);
            vec![activity(rng, IntentSurge, before(ago))]
        }
        Source::ProductSignup => vec![Activity {
            kind: TrialSignup,
            occurred_at: before(secs(rng, 5, 120)),
            detail: Some("/signup".to_owned()),
        }],
        Source::HubspotForms | Source::Salesforce => Vec::new(),
    }
}
