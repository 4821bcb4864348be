//! The notify stage: `handoff.packets` → Slack and the CRM at once, email as the fallback, a receipt
//! per channel and attempt on `handoff.deliveries`. The rules, with their numbers: `RULES.md`.

pub mod channel;
pub mod committee_view;
pub mod deliver;
pub mod email;
pub mod hubspot;
pub mod hubspot_api;
pub mod hubspot_reassign;
pub mod intent;
pub mod lane;
pub mod ledger;
pub mod metrics;
pub mod notice;
pub mod packet;
pub mod receipt;
pub mod settings;
pub mod slack;
pub mod slack_api;
pub mod slack_card;
pub mod slack_dm;
pub mod slack_history;
pub mod slack_message;
pub mod stage;

pub use channel::{Attempt, Channel, ChannelError, Delivered};
pub use deliver::{DeliveryReport, DeliveryRules, Notifier, Undeliverable};
pub use packet::Handoff;
pub use settings::NotifySettings;
pub use stage::NotifyStage;
