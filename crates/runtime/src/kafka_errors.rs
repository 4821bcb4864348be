//! Which broker and client errors are worth retrying (`crates/runtime/RULES.md`, rule 2).
//!
//! A delivery that failed with a *retryable* error is produced again with backoff, within the
//! stage's retry budget (`retry.*`): these are what a broker restart, a leader move or a network
//! blip produce, and they pass. A *record* error belongs to the record (too large, corrupt): sending
//! it again fails the same way. Anything else is *fatal*: the producer is closing, or is
//! misconfigured, or not allowed — the stage stops and its supervisor sees it.

use rdkafka::error::{KafkaError, RDKafkaErrorCode as C};

/// What a failed produce (or other broker request) means for what the stage does next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorClass {
    /// Passes with time: try again after a backoff, within the retry budget.
    Retryable,
    /// Belongs to this record: the same record fails the same way again.
    Record,
    /// The stage cannot go on.
    Fatal,
}

/// Classifies a Kafka error by its code.
pub fn classify(error: &KafkaError) -> ErrorClass {
    match error.rdkafka_error_code() {
        Some(code) => classify_code(code),
        // no code: the client is going away (Canceled) or a local misuse (config, ...)
        None => ErrorClass::Fatal,
    }
}

/// Classifies an error code (librdkafka's local codes and the broker's protocol codes).
pub fn classify_code(code: C) -> ErrorClass {
    match code {
        // the broker, or the way to it, is (briefly) not there: a restart, a network blip
        C::Unknown // "Unknown broker error": UNKNOWN_SERVER_ERROR, e.g. a broker shutting down
        | C::BrokerTransportFailure
        | C::AllBrokersDown
        | C::Resolve
        | C::OperationTimedOut
        | C::MessageTimedOut
        | C::TimedOutQueue
        | C::NetworkException
        | C::RequestTimedOut
        | C::BrokerNotAvailable
        | C::WaitingForCoordinator
        | C::UnknownPartition // metadata not yet propagated
        | C::Retry
        | C::KafkaStorageError
        // leadership moved or is being elected
        | C::LeaderNotAvailable
        | C::NotLeaderForPartition
        | C::FencedLeaderEpoch
        | C::UnknownLeaderEpoch
        | C::PreferredLeaderNotAvailable
        | C::NotController
        | C::UnknownTopicOrPartition // metadata not yet propagated (start-up checks the topics)
        // the cluster is short of in-sync replicas for a while
        | C::NotEnoughReplicas
        | C::NotEnoughReplicasAfterAppend
        // group coordinator moves (commits, joins)
        | C::CoordinatorNotAvailable
        | C::NotCoordinator
        | C::CoordinatorLoadInProgress
        | C::RebalanceInProgress
        // an idempotent producer's state the client re-establishes (new producer id / epoch)
        | C::UnknownProducerId
        | C::OutOfOrderSequenceNumber
        | C::QueueFull
        | C::ThrottlingQuotaExceeded => ErrorClass::Retryable,
        C::MessageSizeTooLarge
        | C::InvalidMessage
        | C::InvalidMessageSize
        | C::InvalidRecord
        | C::BadMessage
        | C::InvalidTimestamp
        | C::BadCompression => ErrorClass::Record,
        _ => ErrorClass::Fatal,
    }
}

/// `true` for [`ErrorClass::Retryable`].
pub fn is_retryable(error: &KafkaError) -> bool {
    classify(error) == ErrorClass::Retryable
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_seen_during_a_broker_restart_are_retryable() {
        // what producers and consumers logged while tansu restarted, and what Apache Kafka answers
        // during a rolling restart or a leader move
        for code in [
            C::Unknown,
            C::BrokerTransportFailure,
            C::AllBrokersDown,
            C::OperationTimedOut,
            C::MessageTimedOut,
            C::RequestTimedOut,
            C::NotLeaderForPartition,
            C::LeaderNotAvailable,
            C::NetworkException,
            C::NotEnoughReplicas,
            C::NotCoordinator,
            C::CoordinatorNotAvailable,
            C::KafkaStorageError,
        ] {
            assert_eq!(classify_code(code), ErrorClass::Retryable, "{code:?}");
            assert!(
                is_retryable(&KafkaError::MessageProduction(code)),
                "{code:?} in a delivery report"
            );
        }
    }

    #[test]
    fn an_oversized_or_corrupt_record_is_the_records_fault() {
        for code in [
            C::MessageSizeTooLarge,
            C::InvalidMessageSize,
            C::InvalidRecord,
            C::InvalidMessage,
        ] {
            assert_eq!(classify_code(code), ErrorClass::Record, "{code:?}");
        }
    }

    #[test]
    fn authorization_configuration_and_shutdown_are_fatal() {
        for code in [
            C::TopicAuthorizationFailed,
            C::ClusterAuthorizationFailed,
            C::SaslAuthenticationFailed,
            C::Fatal,
            C::InvalidArgument,
            C::InvalidRequiredAcks,
            C::PurgeQueue,
            C::ProducerFenced,
        ] {
            assert_eq!(classify_code(code), ErrorClass::Fatal, "{code:?}");
        }
        assert_eq!(classify(&KafkaError::Canceled), ErrorClass::Fatal);
    }
}
