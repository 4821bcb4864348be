//! Where the sandbox sends the reps' clicks and task completions, and the apps' secrets.

/// Where leadflow listens for the reps' actions, and the apps' secrets.
#[derive(Clone, Debug, Default)]
pub struct Interactivity {
    /// leadflow-ingest's `POST /v1/slack/interactions` (the Slack app's Request URL).
    pub slack_interactions_url: Option<String>,
    pub slack_signing_secret: String,
    /// leadflow-ingest's `POST /v1/crm/hubspot/events` (the HubSpot app's webhook target).
    pub hubspot_events_url: Option<String>,
    pub hubspot_client_secret: String,
    /// The sandbox's own base URL as leadflow reaches it (`response_url` points back at it).
    pub base_url: String,
}
