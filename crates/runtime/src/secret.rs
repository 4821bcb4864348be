//! `Secret` lives in `leadflow-events` (the schema registry client's password is one too); the runtime
//! re-exports it so stages keep writing `leadflow_runtime::Secret`.

pub use leadflow_events::secret::Secret;
