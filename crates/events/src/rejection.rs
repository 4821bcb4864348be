//! The fixed list of rejection reasons a rejected handoff is counted under (the quality report's
//! ranking and the `reason` label of `leadflow_sla_watchdog_rejections_total`; rule Q4 of
//! `crates/cli/src/quality/RULES.md`). Reasons arrive as free text (a Slack menu's value — every
//! value of [`crate::slack_actions::REJECT_REASONS`] is on this list as is —, a CRM field, a typed
//! note); they are mapped onto this list so a label can never carry free text.

/// Every reason a rejection is counted under, in display order.
pub const REJECTION_REASONS: [&str; 12] = [
    "not_a_fit",
    "no_budget",
    "bad_data",
    "duplicate",
    "competitor",
    "wrong_territory",
    "not_a_buyer",
    "timing",
    "unresponsive",
    "test_lead",
    "other",
    "unspecified",
];

/// The reason of [`REJECTION_REASONS`] a free-text rejection reason counts under: no text is
/// `unspecified`, text naming none of the known reasons is `other`.
pub fn rejection_reason(text: Option<&str>) -> &'static str {
    let Some(text) = text else {
        return "unspecified";
    };
    let t: String = text
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { '_' })
        .collect();
    if t.trim_matches('_').is_empty() {
        return "unspecified";
    }
    let has = |words: &[&str]| words.iter().any(|w| t.contains(w));
    if has(&["duplicate", "dupe"]) {
        "duplicate"
    } else if has(&["competitor"]) {
        "competitor"
    } else if has(&["test"]) {
        "test_lead"
    } else if has(&["budget", "price", "too_expensive"]) {
        "no_budget"
    } else if has(&[
        "not_a_buyer",
        "research",
        "student",
        "job_seeker",
        "analyst",
    ]) {
        "not_a_buyer"
    } else if has(&["territory", "segment", "region"]) {
        "wrong_territory"
    } else if has(&[
        "bad_data",
        "contact_data",
        "invalid",
        "wrong_data",
        "fake",
        "spam",
    ]) {
        "bad_data"
    } else if has(&["timing", "next_year", "not_now", "later"]) {
        "timing"
    } else if has(&["unresponsive", "no_response", "no_answer", "unreachable"]) {
        "unresponsive"
    } else if has(&["fit"]) {
        "not_a_fit"
    } else {
        "other"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_text_maps_onto_the_fixed_list() {
        for (text, want) in [
            (None, "unspecified"),
            (Some("  "), "unspecified"),
            (Some("not_a_fit"), "not_a_fit"),
            (Some("Not a fit"), "not_a_fit"),
            (Some("no budget"), "no_budget"),
            (Some("bad_data"), "bad_data"),
            (Some("duplicate"), "duplicate"),
            (Some("competitor"), "competitor"),
            (Some("not a buyer: research"), "not_a_buyer"),
            (Some("not a buyer: job seeker"), "not_a_buyer"),
            (Some("timing: next year"), "timing"),
            (Some("unresponsive"), "unresponsive"),
            (Some("test submission"), "test_lead"),
            (Some("Wrong territory or segment"), "wrong_territory"),
            (Some("Bad contact data"), "bad_data"),
            (Some("my cat walked on the keyboard"), "other"),
        ] {
            let got = rejection_reason(text);
            assert_eq!(got, want, "{text:?}");
            assert!(REJECTION_REASONS.contains(&got));
        }
    }

    #[test]
    fn the_slack_menu_reasons_count_as_themselves() {
        for (value, label) in crate::slack_actions::REJECT_REASONS {
            assert_eq!(rejection_reason(Some(value)), value, "value {value}");
            assert_eq!(rejection_reason(Some(label)), value, "label {label:?}");
        }
    }
}
