//! The committee section of a packet (RULES.md §9): the account's known people with this packet
//! applied, the account's owner in the team, and the card this packet updates.

use leadflow_events::{Committee, HandoffPacket};

use super::Inner;
use crate::committee::{self, Known};
use crate::packet;

/// The committee of `p` as the state knows the account once `p` is applied; `None` for a lead
/// without an account. The packet itself is not applied: the caller applies it with its
/// committee.
pub(super) fn committee_of(inner: &Inner, p: &HandoffPacket) -> Option<Committee> {
    let decision = &p.decision;
    let account = decision.scored.enriched.account()?;
    let team = &decision.target_team;
    let mut preview = inner.state.accounts().clone_account(account);
    preview.apply_packet(p);
    let (members, untracked) = preview.members(account);
    let holder = p
        .assignee
        .as_ref()
        .filter(|a| p.unassigned_reason.is_none() && a.role != "manager");
    let owner_id = holder
        .map(|a| a.rep_id.clone())
        .or_else(|| inner.state.owner(account, team).map(str::to_owned));
    let owner = match (owner_id, holder) {
        (Some(id), Some(a)) if a.rep_id == id => Some(a.clone()),
        (Some(id), _) => inner.roster.get(&id).map(|r| packet::assignee(r, team)),
        (None, _) => None,
    };
    let card = holder.and_then(|a| {
        inner
            .state
            .accounts()
            .card(account, team, &a.rep_id, p.lead_id())
    });
    Some(committee::build(Known {
        account_key: account.to_owned(),
        members,
        untracked,
        lead_id: p.lead_id().to_owned(),
        owner,
        card,
    }))
}
