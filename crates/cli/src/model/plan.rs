//! What `model promote` and `model rollback` publish (crates/recalibrate/RULES.md R7). Pure.

use leadflow_events::{ModelParams, ModelStatus, Timestamp};

/// The latest record of each version on `model.history`, newest first.
pub fn versions(history: &[ModelParams], model: &str) -> Vec<ModelParams> {
    let mut latest: Vec<ModelParams> = Vec::new();
    for p in history.iter().filter(|p| p.model == model) {
        match latest.iter_mut().find(|l| l.version == p.version) {
            Some(l) if p.created_at >= l.created_at => *l = p.clone(),
            Some(_) => {}
            None => latest.push(p.clone()),
        }
    }
    latest.sort_by(|a, b| {
        b.created_at
            .cmp(&a.created_at)
            .then_with(|| b.version.cmp(&a.version))
    });
    latest
}

/// A version of the history (or the live one, or the embedded default) by name.
pub fn find<'a>(
    version: &str,
    history: &'a [ModelParams],
    live: Option<&'a ModelParams>,
    default: &'a ModelParams,
) -> Option<&'a ModelParams> {
    history
        .iter()
        .filter(|p| p.version == version)
        .max_by_key(|p| p.created_at)
        .or_else(|| live.filter(|l| l.version == version))
        .or_else(|| (default.version == version).then_some(default))
}

/// `model promote V`: V as the live version, status PROMOTED.
pub fn promote(
    version: &str,
    history: &[ModelParams],
    live: Option<&ModelParams>,
    default: &ModelParams,
    now: Timestamp,
) -> Result<ModelParams, String> {
    let found = find(version, history, live, default).ok_or_else(|| {
        format!("no version {version:?} on the model history (see `leadflow model list`)")
    })?;
    if live.is_some_and(|l| l.version == version && l.status != ModelStatus::ROLLBACK) {
        return Err(format!("{version} is already the live version"));
    }
    let mut p = found.clone();
    if p.status == ModelStatus::REJECTED {
        p.description = format!(
            "{} Promoted by hand over the gate's refusal (leadflow model promote).",
            p.description
        );
    }
    p.status = ModelStatus::PROMOTED.to_owned();
    p.created_at = now;
    Ok(p)
}

/// `model rollback`: the live version's parent as the live version, status ROLLBACK.
pub fn rollback(
    live: Option<&ModelParams>,
    history: &[ModelParams],
    default: &ModelParams,
    now: Timestamp,
) -> Result<ModelParams, String> {
    let live = live.ok_or("no live version on model.params: the score stage uses its embedded default; nothing to roll back")?;
    let parent = live.parent_version.as_deref().ok_or_else(|| {
        format!(
            "the live version {} has no parent version to roll back to",
            live.version
        )
    })?;
    let found = find(parent, history, None, default).ok_or_else(|| {
        format!(
            "the parent {parent:?} of the live version {} is not on the model history",
            live.version
        )
    })?;
    let mut p = found.clone();
    p.status = ModelStatus::ROLLBACK.to_owned();
    p.created_at = now;
    p.description = format!(
        "Rolled back from {} (leadflow model rollback). {}",
        live.version, found.description
    );
    Ok(p)
}

#[cfg(test)]
mod tests {
    use leadflow_events::samples;

    use super::*;

    fn v(version: &str, parent: Option<&str>, at: i64, status: &str) -> ModelParams {
        let mut p = samples::model_params();
        p.version = version.into();
        p.parent_version = parent.map(str::to_owned);
        p.created_at = Timestamp(at);
        p.status = status.into();
        p
    }

    #[test]
    fn rollback_restores_the_parent_and_can_go_further_back() {
        let default = v("default-1", None, 0, "");
        let history = vec![
            v("r1", Some("default-1"), 10, ModelStatus::PROMOTED),
            v("r2", Some("r1"), 20, ModelStatus::PROMOTED),
            v("r3", Some("r2"), 30, ModelStatus::REJECTED),
        ];
        let live = history[1].clone();
        let back = rollback(Some(&live), &history, &default, Timestamp(40)).unwrap();
        assert_eq!(back.version, "r1");
        assert_eq!(back.status, ModelStatus::ROLLBACK);
        assert_eq!(back.created_at, Timestamp(40));
        assert!(back.description.starts_with("Rolled back from r2"));
        // rolling back again goes to r1's parent, the embedded default
        let again = rollback(Some(&back), &history, &default, Timestamp(50)).unwrap();
        assert_eq!(again.version, "default-1");
        // and the default has no parent
        let e = rollback(Some(&again), &history, &default, Timestamp(60)).unwrap_err();
        assert!(e.contains("no parent"), "{e}");
        assert!(rollback(None, &history, &default, Timestamp(60)).is_err());
    }

    #[test]
    fn promote_takes_a_history_version_even_a_refused_one() {
        let default = v("default-1", None, 0, "");
        let history = vec![
            v("r1", Some("default-1"), 10, ModelStatus::PROMOTED),
            v("r2", Some("r1"), 20, ModelStatus::REJECTED),
        ];
        let p = promote("r2", &history, Some(&history[0]), &default, Timestamp(30)).unwrap();
        assert_eq!(p.status, ModelStatus::PROMOTED);
        assert!(p.description.contains("over the gate's refusal"));
        assert!(promote("r1", &history, Some(&history[0]), &default, Timestamp(30)).is_err());
        assert!(promote("nope", &history, None, &default, Timestamp(30)).is_err());
    }

    #[test]
    fn versions_lists_the_latest_record_of_each_newest_first() {
        let mut h = vec![
            v("r1", None, 10, ModelStatus::REJECTED),
            v("r2", None, 20, ModelStatus::PROMOTED),
            v("r1", None, 30, ModelStatus::PROMOTED),
        ];
        h[0].model = "lead-priority".into();
        let l = versions(&h, "lead-priority");
        assert_eq!(
            l.iter()
                .map(|p| (p.version.as_str(), p.status.as_str()))
                .collect::<Vec<_>>(),
            vec![("r1", ModelStatus::PROMOTED), ("r2", ModelStatus::PROMOTED)]
        );
    }
}
