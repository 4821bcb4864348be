//! What the generated leads download and attend: one list both the activity and the source
//! generators draw from (so neither imports the other).

/// Gated content, also offered as form downloads.
pub const CONTENT: [&str; 5] = [
    "The Speed-to-Lead Playbook",
    "2026 Lead Routing Benchmark",
    "Buying Committees in B2B SaaS",
    "RevOps KPI Handbook",
    "From MQL to Meeting in 5 Minutes",
];
/// Webinars, also the webinar platform's events.
pub const WEBINARS: [&str; 4] = [
    "Lead Handoff Without the Drop-off",
    "Scoring Models that Sales Trusts",
    "After-Hours Leads: Who Picks Up?",
    "RevOps Office Hours",
];
