//! The **lead locator**: for every key of the lead topics (a lead id; an account on `leads.tiered`),
//! where its records are — per topic the partition, offset and write time of each record — kept in
//! memory as the pipeline writes them and served by `GET /v1/leads/{key}`. `leadflow trace
//! --locator-url` asks it once and then reads exactly those records (one consumer, `assign` at the
//! offsets), instead of scanning the lead's `leads.raw` partition from its beginning.
//!
//! [`book`] is the pure part (the map, its bounds: `RULES.md`), [`api`] the HTTP answer and its
//! JSON, [`follow`] the consumer that feeds the book from the topics.

pub mod api;
pub mod book;
pub mod follow;
pub mod metrics;

pub use api::{Located, Spot, router};
pub use book::{Book, BookLimits, Observed};

/// The service's name: its metrics prefix.
pub const SERVICE_NAME: &str = "locator";
