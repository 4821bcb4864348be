//! Unique topic and consumer-group names, so tests sharing one broker never see each other's data.

/// `prefix` + `-` + a random UUID (32 hex digits). Characters a Kafka topic name cannot hold
/// (anything but ASCII letters, digits, `.`, `_` and `-`) are replaced by `-`, and a long prefix is
/// cut so the result stays within Kafka's 249-character limit.
pub fn unique_name(prefix: &str) -> String {
    let clean: String = prefix
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .take(200)
        .collect();
    let id = uuid::Uuid::new_v4().simple();
    if clean.is_empty() {
        format!("t-{id}")
    } else {
        format!("{clean}-{id}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid_topic(name: &str) -> bool {
        !name.is_empty()
            && name.len() <= 249
            && name != "."
            && name != ".."
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    }

    #[test]
    fn names_are_valid_topic_names() {
        let long = "x".repeat(400);
        let cases = [
            "leads.raw",
            "enrich_test",
            "with space/and:colon",
            "",
            "ünïcödé",
            ".",
            "..",
            long.as_str(),
        ];
        for prefix in cases {
            let name = unique_name(prefix);
            assert!(valid_topic(&name), "{prefix:?} gave invalid {name:?}");
        }
    }

    #[test]
    fn names_keep_a_clean_prefix() {
        assert!(unique_name("leads.raw").starts_with("leads.raw-"));
        assert!(unique_name("a b").starts_with("a-b-"));
        assert!(unique_name("").starts_with("t-"));
    }

    #[test]
    fn names_differ_between_calls() {
        let a = unique_name("same");
        let b = unique_name("same");
        assert_ne!(a, b);
    }
}
