//! A corrected record for `replay --edit` (CLI) and the console's replay form: parsed as the source
//! topic's event kind, checked to keep the identity that makes a replay safe, encoded, and decoded
//! back before anything is produced (RULES.md, "Replay without duplicates").

use leadflow_events::{AnyEvent, Codec};

use super::queue::Entry;
use crate::error::CliError;
use crate::kafka::{CliConfig, kind_for_topic};

/// Whether `corrected` may replace the failed record. With a decodable original: the same lead
/// id and, for a packet, the same idempotency key. Without one (the original bytes do not decode,
/// or none were kept): the lead id the stage recorded on the exception, and never a packet (its
/// idempotency key cannot be checked). Without either, nothing can be checked: refused.
pub fn check_identity(
    original: Option<&AnyEvent>,
    recorded_lead: Option<&str>,
    corrected: &AnyEvent,
) -> Result<(), String> {
    match original {
        Some(original) => {
            if original.lead_id() != corrected.lead_id() {
                return Err(format!(
                    "the corrected record is for lead {:?}, the original for {:?}; a replay must keep the lead id",
                    corrected.lead_id(),
                    original.lead_id()
                ));
            }
            if let (AnyEvent::HandoffPacket(o), AnyEvent::HandoffPacket(n)) = (original, corrected)
            {
                if o.idempotency_key != n.idempotency_key {
                    return Err("a replayed packet must keep its idempotency_key (the channels use it to deliver once)".into());
                }
            }
            Ok(())
        }
        None => {
            if matches!(corrected, AnyEvent::HandoffPacket(_)) {
                return Err("the original packet does not decode, so a corrected packet's idempotency_key cannot be checked; \
                     nothing was produced (close the exception and have route re-emit the packet)"
                    .into());
            }
            match recorded_lead {
                Some(lead) if corrected.lead_id() == Some(lead) => Ok(()),
                Some(lead) => Err(format!(
                    "the corrected record is for lead {:?}, the exception for {lead:?}; a replay must keep the lead id \
                     (the original bytes do not decode, so the exception's lead id is the reference)",
                    corrected.lead_id()
                )),
                None => Err("the original record does not decode and the exception names no lead, so the corrected \
                     record's identity cannot be checked; nothing was produced"
                    .into()),
            }
        }
    }
}

/// Parses a corrected record (JSON of the source topic's event kind), checks its identity
/// ([`check_identity`]), encodes it for the topic and decodes the bytes back as the topic's schema:
/// only bytes that decode are ever produced.
pub async fn corrected_payload(
    cfg: &CliConfig,
    codec: &Codec,
    entry: &Entry,
    text: &str,
) -> Result<Vec<u8>, CliError> {
    let topic = &entry.first.source_topic;
    let kind = kind_for_topic(&cfg.topics, topic, None).ok_or_else(|| {
        CliError::Usage(format!(
            "{topic} is not a configured pipeline topic; cannot encode a corrected record"
        ))
    })?;
    let event = AnyEvent::from_json(kind, text.trim()).map_err(|e| CliError::BadLine {
        line: 1,
        message: crate::error::describe_json_error(&e),
    })?;
    let original = AnyEvent::decode(codec, kind, &entry.first.original)
        .await
        .ok();
    check_identity(original.as_ref(), entry.first.lead_id.as_deref(), &event)
        .map_err(CliError::Usage)?;
    let bytes = event
        .encode(codec, topic)
        .await
        .map_err(|e| CliError::Usage(format!("the corrected record does not encode: {e}")))?;
    match AnyEvent::decode(codec, kind, &bytes).await {
        Ok(back) if back.lead_id() == event.lead_id() => Ok(bytes),
        Ok(_) => Err(CliError::Usage(format!(
            "the corrected record does not read back the same from {topic}'s schema; nothing was produced"
        ))),
        Err(e) => Err(CliError::Usage(format!(
            "the corrected record does not decode as {topic}'s schema ({e}); nothing was produced"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use leadflow_events::samples;

    use super::*;

    fn lead(id: &str) -> AnyEvent {
        let mut e = samples::lead_event();
        e.lead_id = id.into();
        AnyEvent::LeadEvent(e)
    }

    #[test]
    fn an_undecodable_original_is_checked_against_the_exceptions_lead() {
        // the hole: without a decodable original, any record could be written to the topic
        assert!(check_identity(None, Some("lead-1"), &lead("lead-1")).is_ok());
        let err = check_identity(None, Some("lead-1"), &lead("someone-else")).unwrap_err();
        assert!(err.contains("lead id"), "{err}");
        assert!(check_identity(None, None, &lead("lead-1")).is_err());
        let packet = AnyEvent::HandoffPacket(samples::handoff_packet());
        let own_lead = packet.lead_id().map(str::to_owned);
        assert!(check_identity(None, own_lead.as_deref(), &packet).is_err());
    }

    #[test]
    fn a_decodable_original_keeps_lead_and_idempotency_key() {
        assert!(check_identity(Some(&lead("a")), None, &lead("a")).is_ok());
        assert!(check_identity(Some(&lead("a")), Some("a"), &lead("b")).is_err());
        let p = samples::handoff_packet();
        let mut q = p.clone();
        q.idempotency_key = "other".into();
        assert!(
            check_identity(
                Some(&AnyEvent::HandoffPacket(p.clone())),
                None,
                &AnyEvent::HandoffPacket(q)
            )
            .is_err()
        );
        let same = AnyEvent::HandoffPacket(p.clone());
        assert!(check_identity(Some(&same), None, &AnyEvent::HandoffPacket(p)).is_ok());
    }
}
