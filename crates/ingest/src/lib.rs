//! `leadflow-ingest`: the HTTP front door for publishers that cannot speak Kafka.
//!
//! Publishers POST lead events (the contract's JSON shape), HubSpot form submissions or chat
//! transcripts with an API key or a signed webhook; each is validated against the published OpenAPI
//! schema, deduplicated (Idempotency-Key, event id), produced to `leads.raw` and answered 202 only once
//! the broker acknowledged it. Rules and numbers: `RULES.md`.

pub mod adapters;
pub mod api;
pub mod auth;
pub mod config;
pub mod ecma_regex;
pub mod handlers;
pub mod idempotency;
pub mod listener;
pub mod metrics;
pub mod openapi;
pub mod problem;
pub mod rate;
pub mod rebuild;
pub mod rep_actions;
pub mod server;
pub mod service;
pub mod sink;
pub mod validate;
