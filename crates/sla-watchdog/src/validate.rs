//! Which packets the watchdog can watch (RULES.md "Bad packets"): the input path sends the others
//! to the exceptions topic, the timer task's replay of `handoff.packets` skips them.

use leadflow_events::{HandoffKind, HandoffPacket};

/// Why a packet cannot be watched, or `Ok`.
pub fn check(packet: &HandoffPacket) -> Result<(), String> {
    if packet.packet_id.trim().is_empty() {
        return Err("packet_id is empty: deadlines and escalation ids are keyed by it".into());
    }
    let d = &packet.decision;
    if d.scored.enriched.lead.lead_id.trim().is_empty() {
        return Err("the decision's lead_id is empty".into());
    }
    let has_deadlines = !packet.sla.is_empty() || !d.sla.is_empty();
    if has_deadlines && d.handoff != HandoffKind::None && d.target_team.trim().is_empty() {
        return Err(
            "the decision's target_team is empty: a missed deadline could not be escalated to a pool"
                .into(),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use leadflow_events::samples;

    use super::*;

    #[test]
    fn refuses_packets_without_ids_or_a_pool_to_escalate_to() {
        assert_eq!(check(&samples::handoff_packet()), Ok(()));
        let mut p = samples::handoff_packet();
        p.packet_id = " ".into();
        assert!(check(&p).unwrap_err().contains("packet_id"));
        let mut p = samples::handoff_packet();
        p.decision.scored.enriched.lead.lead_id = String::new();
        assert!(check(&p).unwrap_err().contains("lead_id"));
        let mut p = samples::handoff_packet();
        p.decision.target_team = String::new();
        assert!(check(&p).unwrap_err().contains("target_team"));
        // a no-handoff decision is never escalated: no team needed
        p.decision.handoff = HandoffKind::None;
        assert_eq!(check(&p), Ok(()));
    }
}
