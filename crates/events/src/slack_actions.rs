//! The contract between notify's Slack message and ingest's interactivity endpoint: the actions
//! block's `block_id` names the lead and packet (`leadflow|<lead_id>|<packet_id>`), each control's
//! `action_id` the action, the Reject menu's option values the reason.

/// The `block_id` prefix of the rep-action controls.
pub const BLOCK_PREFIX: &str = "leadflow|";
pub const ACCEPT: &str = "leadflow_accept";
pub const CONTACTED: &str = "leadflow_contacted";
pub const REJECT: &str = "leadflow_reject";
/// Slack's longest `block_id`.
pub const MAX_BLOCK_ID: usize = 255;

/// The rejection reasons the Reject menu offers (value, label).
pub const REJECT_REASONS: [(&str, &str); 6] = [
    ("not_a_fit", "Not a fit"),
    ("bad_data", "Bad contact data"),
    ("duplicate", "Duplicate of another lead"),
    ("competitor", "Competitor or student"),
    ("wrong_territory", "Wrong territory or segment"),
    ("other", "Other"),
];

/// The `block_id` of a packet's controls; `None` when the ids do not fit Slack's limit.
pub fn block_id(lead_id: &str, packet_id: &str) -> Option<String> {
    let id = format!("{BLOCK_PREFIX}{lead_id}|{packet_id}");
    (id.len() <= MAX_BLOCK_ID && !lead_id.contains('|')).then_some(id)
}
