//! Errors that stop a stage. Input-level problems never get here: they are retried or become
//! exception records.

/// The stage cannot go on; the process exits non-zero.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("configuration: {0}")]
    Config(String),
    #[error("kafka: {0}")]
    Kafka(#[source] Box<rdkafka::error::KafkaError>),
    #[error("side input: {0}")]
    SideInput(#[source] Box<crate::topic_range::RangeError>),
    #[error("codec: {0}")]
    Codec(#[source] Box<leadflow_events::codec::CodecInitError>),
    #[error("metrics: {0}")]
    Metrics(#[source] Box<prometheus::Error>),
    #[error("http endpoint: {0}")]
    Http(#[source] std::io::Error),
    #[error("delivery to {topic} failed: {source}")]
    Delivery {
        topic: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("stage {stage} failed: {source}")]
    Stage {
        stage: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("gave up after {attempts} attempts: {error}")]
    RetriesExhausted { attempts: u32, error: String },
    #[error("shutdown did not finish within the {0} ms grace period")]
    GraceExceeded(u64),
}
