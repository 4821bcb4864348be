//! The reference data compiled into enrich (RULES.md §8) and their versions, which the start-up log
//! and `leadflow_enrich_reference_data_info` report, so an operator can tell which Public Suffix
//! List or phone metadata a running binary holds (versions come from Cargo.lock via build.rs).

/// (data set, crate that ships it, crate version).
pub const VERSIONS: [(&str, &str, &str); 5] = [
    ("public_suffix_list", "psl", env!("LEADFLOW_REF_PSL")),
    (
        "libphonenumber_metadata",
        "phonenumber",
        env!("LEADFLOW_REF_PHONENUMBER"),
    ),
    ("iso3166", "celes", env!("LEADFLOW_REF_CELES")),
    (
        "disposable_email_domains",
        "mailchecker",
        env!("LEADFLOW_REF_MAILCHECKER"),
    ),
    (
        "email_syntax",
        "email_address",
        env!("LEADFLOW_REF_EMAIL_ADDRESS"),
    ),
];

/// Logs the versions, exports them as metrics, and loads the disposable-domain list now.
pub fn publish() {
    let disposable = crate::disposable::preload();
    for (dataset, source, version) in VERSIONS {
        crate::metrics::set_reference_data(dataset, version);
        tracing::info!(dataset, source, version, "reference data");
    }
    tracing::info!(domains = disposable, "disposable-mail domains loaded");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_version_is_known() {
        for (dataset, source, version) in VERSIONS {
            assert!(
                version.split(['.', '+']).all(|p| p.parse::<u32>().is_ok()),
                "{dataset} ({source}): {version:?}"
            );
        }
    }
}
