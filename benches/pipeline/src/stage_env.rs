//! The environment of a stage process the harnesses start: the broker, its own consumer group,
//! an HTTP listener on a free port, the topics by role, and the bundled demo dataset as enrich's
//! firmographics provider (said explicitly: `local` needs the user's own file).

use std::collections::BTreeMap;

/// `LEADFLOW_*` variables for `stage` (`enrich`, `score`, ...) on `names` (role → topic).
pub fn stage_env(
    stage: &str,
    bootstrap: &str,
    group: &str,
    names: &BTreeMap<&str, String>,
    log_level: &str,
) -> BTreeMap<String, String> {
    let mut env = BTreeMap::from([
        (
            "LEADFLOW_BOOTSTRAP_SERVERS".to_owned(),
            bootstrap.to_owned(),
        ),
        ("LEADFLOW_GROUP_ID".to_owned(), group.to_owned()),
        ("LEADFLOW_HTTP__LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
        ("LEADFLOW_LOG__LEVEL".to_owned(), log_level.to_owned()),
    ]);
    for (role, topic) in names {
        env.insert(
            format!("LEADFLOW_TOPICS__{}", role.to_ascii_uppercase()),
            topic.clone(),
        );
    }
    if stage == "enrich" {
        env.insert(
            "LEADFLOW_STAGE__PROVIDER__KIND".to_owned(),
            "demo".to_owned(),
        );
    }
    env
}
