//! Reads every pipeline topic from the beginning after the run, decodes it and feeds the ledger.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::{Context, Result};
use leadflow_events::{
    AnyEvent, Codec, DeliveryReceipt, EnrichedLead, EventKind, ExceptionRecord, HandoffKind,
    HandoffPacket, LeadEvent, ScoredLead, TierDecision, TopicNames, TopicRole,
};
use leadflow_runtime::topic_range::{RangeError, RangeSpec, TopicRange};
use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;

use crate::ledger::{self, At, DupCount, Hop, HopCount, Input};

/// How long a topic's read may make no progress before the audit gives up.
const READ_TIMEOUT: Duration = Duration::from_secs(120);

/// One record: its position and the decoded event (`None` when it does not decode).
pub struct Rec<T> {
    pub at: At,
    pub event: Option<T>,
}

/// The end offsets of `topics`, summed (to see when the pipeline has gone quiet).
pub fn end_offsets(bootstrap: &str, topics: &[String]) -> Result<i64> {
    let consumer: BaseConsumer = reader_config(bootstrap).create()?;
    let mut total = 0;
    for topic in topics {
        let md = consumer.fetch_metadata(Some(topic), Duration::from_secs(10))?;
        let Some(t) = md.topics().first() else {
            continue;
        };
        for p in t.partitions() {
            let (_, high) = consumer.fetch_watermarks(topic, p.id(), Duration::from_secs(10))?;
            total += high;
        }
    }
    Ok(total)
}

fn reader_config(bootstrap: &str) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", bootstrap)
        .set("group.id", "leadflow-chaos-audit")
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "false")
        .set("auto.offset.reset", "earliest")
        .set("client.id", "leadflow-chaos-audit");
    c
}

/// Every record of `topic`, from the beginning to the end offsets seen at the start, in partition
/// and offset order (a topic that does not exist has none).
fn read_topic(bootstrap: &str, topic: &str) -> Result<Vec<(At, Vec<u8>)>> {
    let mut spec = RangeSpec::whole(topic);
    spec.stall.give_up_after = READ_TIMEOUT;
    let mut reader = match TopicRange::open(&reader_config(bootstrap), spec) {
        Ok(reader) => reader,
        Err(RangeError::NoSuchTopic { .. }) => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let mut out = Vec::new();
    reader.for_each(|m| {
        let at = (m.partition(), m.offset());
        out.push((at, m.payload().unwrap_or_default().to_vec()));
    })?;
    out.sort_by_key(|(at, _)| *at);
    Ok(out)
}

async fn decoded<T>(
    bootstrap: &str,
    codec: &Codec,
    topic: &str,
    kind: EventKind,
    pick: fn(AnyEvent) -> Option<T>,
) -> Result<Vec<Rec<T>>> {
    let raw = read_topic(bootstrap, topic).with_context(|| format!("reading {topic}"))?;
    let mut out = Vec::with_capacity(raw.len());
    for (at, bytes) in raw {
        let event = AnyEvent::decode(codec, kind, &bytes)
            .await
            .ok()
            .and_then(pick);
        out.push(Rec { at, event });
    }
    Ok(out)
}

/// What the audit found.
pub struct Audit {
    pub hops: Vec<HopCount>,
    pub lost_leads: usize,
    pub raw_events: usize,
    pub duplicates: Vec<DupCount>,
    pub exceptions_by_stage: Vec<(String, usize)>,
    /// (stage, reason with digits blanked, count), most frequent first.
    pub top_reasons: Vec<(String, String, usize)>,
}

/// Reads the topics and accounts for every raw lead.
pub async fn run(bootstrap: &str, topics: &TopicNames) -> Result<Audit> {
    let codec = Codec::single_object().context("codec")?;
    let name = |r: TopicRole| topics.name(r).to_owned();
    let raw: Vec<Rec<LeadEvent>> = decoded(
        bootstrap,
        &codec,
        &name(TopicRole::Raw),
        EventKind::LeadEvent,
        |e| match e {
            AnyEvent::LeadEvent(e) => Some(e),
            _ => None,
        },
    )
    .await?;
    let enriched: Vec<Rec<EnrichedLead>> = decoded(
        bootstrap,
        &codec,
        &name(TopicRole::Enriched),
        EventKind::EnrichedLead,
        |e| match e {
            AnyEvent::EnrichedLead(e) => Some(e),
            _ => None,
        },
    )
    .await?;
    let scored: Vec<Rec<ScoredLead>> = decoded(
        bootstrap,
        &codec,
        &name(TopicRole::Scored),
        EventKind::ScoredLead,
        |e| match e {
            AnyEvent::ScoredLead(e) => Some(e),
            _ => None,
        },
    )
    .await?;
    let tiered: Vec<Rec<TierDecision>> = decoded(
        bootstrap,
        &codec,
        &name(TopicRole::Tiered),
        EventKind::TierDecision,
        |e| match e {
            AnyEvent::TierDecision(e) => Some(e),
            _ => None,
        },
    )
    .await?;
    let packets: Vec<Rec<HandoffPacket>> = decoded(
        bootstrap,
        &codec,
        &name(TopicRole::Packets),
        EventKind::HandoffPacket,
        |e| match e {
            AnyEvent::HandoffPacket(e) => Some(e),
            _ => None,
        },
    )
    .await?;
    let receipts: Vec<Rec<DeliveryReceipt>> = decoded(
        bootstrap,
        &codec,
        &name(TopicRole::Deliveries),
        EventKind::DeliveryReceipt,
        |e| match e {
            AnyEvent::DeliveryReceipt(e) => Some(e),
            _ => None,
        },
    )
    .await?;
    let exceptions: Vec<Rec<ExceptionRecord>> = decoded(
        bootstrap,
        &codec,
        &name(TopicRole::Exceptions),
        EventKind::ExceptionRecord,
        |e| match e {
            AnyEvent::ExceptionRecord(e) => Some(e),
            _ => None,
        },
    )
    .await?;

    // exceptions by the input they name
    let mut exc_at: HashMap<String, HashMap<At, bool>> = HashMap::new();
    let mut by_stage: HashMap<String, usize> = HashMap::new();
    let mut reasons: HashMap<(String, String), usize> = HashMap::new();
    for e in exceptions.iter().filter_map(|r| r.event.as_ref()) {
        exc_at.entry(e.source_topic.clone()).or_default().insert(
            (e.source_partition, e.source_offset),
            !e.reason.trim().is_empty(),
        );
        *by_stage.entry(e.stage.clone()).or_default() += 1;
        let shape: String = e
            .reason
            .chars()
            .take(90)
            .map(|c| if c.is_ascii_digit() { '#' } else { c })
            .collect();
        *reasons.entry((e.stage.clone(), shape)).or_default() += 1;
    }
    let mut top_reasons: Vec<(String, String, usize)> =
        reasons.into_iter().map(|((s, r), n)| (s, r, n)).collect();
    top_reasons.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
    top_reasons.truncate(8);
    let exc_of = |r: TopicRole| exc_at.get(topics.name(r)).cloned().unwrap_or_default();

    let hop_enrich = Hop {
        name: "enrich",
        inputs: raw
            .iter()
            .map(|r| Input {
                at: r.at,
                key: r.event.as_ref().map(|e| e.event_id.clone()),
                lead_event: r.event.as_ref().map(|e| e.event_id.clone()),
                terminal: false,
            })
            .collect(),
        output_keys: enriched
            .iter()
            .filter_map(|r| r.event.as_ref().map(|e| e.lead.event_id.clone()))
            .collect(),
        exceptions: exc_of(TopicRole::Raw),
    };
    let hop_score = Hop {
        name: "score",
        inputs: enriched
            .iter()
            .map(|r| {
                let id = r.event.as_ref().map(|e| e.lead.event_id.clone());
                Input {
                    at: r.at,
                    key: id.clone(),
                    lead_event: id,
                    terminal: false,
                }
            })
            .collect(),
        output_keys: scored
            .iter()
            .filter_map(|r| r.event.as_ref().map(|e| e.enriched.lead.event_id.clone()))
            .collect(),
        exceptions: exc_of(TopicRole::Enriched),
    };
    let hop_tier = Hop {
        name: "tier",
        inputs: scored
            .iter()
            .map(|r| {
                let id = r.event.as_ref().map(|e| e.enriched.lead.event_id.clone());
                Input {
                    at: r.at,
                    key: id.clone(),
                    lead_event: id,
                    terminal: false,
                }
            })
            .collect(),
        output_keys: tiered
            .iter()
            .filter_map(|r| {
                r.event
                    .as_ref()
                    .map(|e| e.scored.enriched.lead.event_id.clone())
            })
            .collect(),
        exceptions: exc_of(TopicRole::Scored),
    };
    let hop_route = Hop {
        name: "route",
        inputs: tiered
            .iter()
            .map(|r| Input {
                at: r.at,
                key: r
                    .event
                    .as_ref()
                    .map(|e| e.scored.enriched.lead.lead_id.clone()),
                lead_event: r
                    .event
                    .as_ref()
                    .map(|e| e.scored.enriched.lead.event_id.clone()),
                terminal: r
                    .event
                    .as_ref()
                    .is_some_and(|e| e.handoff == HandoffKind::None),
            })
            .collect(),
        output_keys: packets
            .iter()
            .filter_map(|r| r.event.as_ref().map(|p| p.lead_id().to_owned()))
            .collect(),
        exceptions: exc_of(TopicRole::Tiered),
    };
    let hop_notify = Hop {
        name: "notify",
        inputs: packets
            .iter()
            .map(|r| Input {
                at: r.at,
                key: r.event.as_ref().map(|p| p.packet_id.clone()),
                lead_event: r
                    .event
                    .as_ref()
                    .map(|p| p.decision.scored.enriched.lead.event_id.clone()),
                terminal: false,
            })
            .collect(),
        output_keys: receipts
            .iter()
            .filter_map(|r| r.event.as_ref().map(|d| d.packet_id.clone()))
            .collect(),
        exceptions: exc_of(TopicRole::Packets),
    };

    let mut hops = Vec::new();
    let mut lost = std::collections::BTreeSet::new();
    for hop in [hop_enrich, hop_score, hop_tier, hop_route, hop_notify] {
        let (count, lost_here) = ledger::account(&hop);
        hops.push(count);
        lost.extend(lost_here);
    }

    fn ids<T>(recs: &[Rec<T>], f: impl Fn(&T) -> String) -> Vec<String> {
        recs.iter()
            .map(|r| {
                r.event
                    .as_ref()
                    .map(&f)
                    .unwrap_or_else(|| format!("undecodable@{}:{}", r.at.0, r.at.1))
            })
            .collect()
    }
    let dup = |topic: TopicRole, identity: &'static str, ids: Vec<String>| {
        ledger::duplicates(topics.name(topic), identity, ids.iter().map(String::as_str))
    };
    let duplicates = vec![
        dup(
            TopicRole::Raw,
            "event id",
            ids(&raw, |e| e.event_id.clone()),
        ),
        dup(
            TopicRole::Enriched,
            "event id",
            ids(&enriched, |e| e.lead.event_id.clone()),
        ),
        dup(
            TopicRole::Scored,
            "event id",
            ids(&scored, |e| e.enriched.lead.event_id.clone()),
        ),
        dup(
            TopicRole::Tiered,
            "event id",
            ids(&tiered, |e| e.scored.enriched.lead.event_id.clone()),
        ),
        dup(
            TopicRole::Packets,
            "packet id",
            ids(&packets, |p| p.packet_id.clone()),
        ),
        dup(
            TopicRole::Deliveries,
            "packet+channel+status",
            ids(&receipts, |d| {
                format!("{}/{:?}/{:?}", d.packet_id, d.channel, d.status)
            }),
        ),
        dup(
            TopicRole::Exceptions,
            "stage+source position",
            ids(&exceptions, |e| {
                format!(
                    "{}/{}/{}/{}",
                    e.stage, e.source_topic, e.source_partition, e.source_offset
                )
            }),
        ),
    ];
    let mut exceptions_by_stage: Vec<(String, usize)> = by_stage.into_iter().collect();
    exceptions_by_stage.sort();
    Ok(Audit {
        hops,
        lost_leads: lost.len(),
        raw_events: raw.len(),
        duplicates,
        exceptions_by_stage,
        top_reasons,
    })
}
