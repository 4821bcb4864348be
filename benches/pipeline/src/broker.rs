//! The broker a harness measures: the one given, or a private tansu of its own.

use leadflow_testkit::PrivateBroker;

/// A broker address, with the private broker (stopped on drop) when one was started.
pub struct BenchBroker {
    pub bootstrap: String,
    pub private: Option<PrivateBroker>,
}

impl BenchBroker {
    /// `given` when set, otherwise a fresh private tansu on SQLite.
    pub async fn given_or_private(given: Option<&str>) -> anyhow::Result<Self> {
        Ok(match given {
            Some(b) => Self {
                bootstrap: b.to_owned(),
                private: None,
            },
            None => {
                let broker = tokio::task::spawn_blocking(PrivateBroker::start).await?;
                Self {
                    bootstrap: broker.bootstrap(),
                    private: Some(broker),
                }
            }
        })
    }

    /// How to describe it in a report.
    pub fn label(&self) -> &'static str {
        if self.private.is_some() {
            "private tansu (SQLite)"
        } else {
            "given broker"
        }
    }
}
