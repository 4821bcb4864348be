//! The score stage: `leads.enriched` → `leads.scored`, an explainable Lead Priority Score computed as
//! fit + intent − negative plus the chat's qualification dimensions (`RULES.md`, rules SC1–SC5).
//!
//! # Score
//!
//! ```text
//! fit           = min(fit_max,           Σ industry, employee_band, revenue_band, country,
//!                                          seniority, department weights)
//! intent        = min(intent_max,        Σ activity weight · 0.5^(age / half_life) · repeat share)
//! qualification = min(qualification_max, Σ confirmed dimension weight · confidence (+ human request))
//! negative      = Σ disqualifier weights (competitor N1, researcher N2, existing-client support,
//!                  invalid / missing email, free mail, missing company, data quality, repeats)
//! score         = clamp(round(fit + intent + qualification − negative), 0, 100)
//! ```
//!
//! Ages are measured back from the lead event's own `occurred_at`, never the wall clock, so a replay
//! with the same model reproduces every score. The details of each component are in [`fit`],
//! [`intent`], [`qualification`] and [`negative`]; codes and their normalisation in [`codes`].
//!
//! # Confidence
//!
//! How much evidence stands behind the score, 0..1 (the tier stage's 0.80 human-queue threshold):
//! half profile evidence (enrichment outcome, how many of the 5 fit facts are known), half behaviour
//! evidence (recency-decayed activity count, chat dimension confidences). The formula is in
//! [`confidence`].
//!
//! # Explanations
//!
//! Each scored lead carries its top factors (`ScoreFactor { code, points, explanation }`), largest
//! absolute points first, at most `max_factors` (default 6), e.g. `activity.PRICING_PAGE_VIEW`,
//! `+11.3`, "Viewed the pricing page 2 hours before (+11.3)". When a component hits its cap its
//! factors are scaled down pro rata, so factor points add up to the unclamped total.
//!
//! # Model
//!
//! The model is data ([`leadflow_events::ModelParams`]): the default ships in `models/default.json`
//! (embedded; `stage.model_path` overrides it) and newer versions arrive on the compacted
//! `model.params` topic, validated and hot-swapped by [`ScoreStage`]; an invalid version is rejected
//! and the current one stays. Every scored lead carries the `model_version` that produced it.

pub mod codes;
pub mod confidence;
pub mod demographics;
pub mod explain;
pub mod fit;
pub mod intent;
pub mod metrics;
pub mod model;
pub mod negative;
pub mod qualification;
pub mod score;
pub mod settings;
pub mod stage;

pub use model::{DEFAULT_MODEL_JSON, Model, ModelError};
pub use score::{Assessment, DEFAULT_MAX_FACTORS, assess, score, score_with};
pub use settings::ScoreSettings;
pub use stage::{InitError, ModelUpdate, ScoreStage};
