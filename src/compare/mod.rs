//! Scheduling-policy comparison for CI: `kubetwin compare` runs scenarios under several
//! `KubeSchedulerConfiguration`s over many seeds and reports per-metric aggregates and
//! paired deltas; `kubetwin check` compares one configuration's aggregates with a
//! recorded baseline file and flags regressions beyond a tolerance.
//!
//! - [`metric`]: the metrics, their direction, unit and noise floor;
//! - [`outcome`]: [`RunMetrics`], computed from one run's output;
//! - [`seeds`]: the `--seeds` syntax;
//! - [`plan`]: running every (scenario, configuration, seed) in parallel;
//! - [`stats`]: aggregation over seeds and paired deltas;
//! - [`comparison`] and [`table`]: the comparison and its rendering;
//! - [`tolerance`], [`baseline`] and [`check`]: regression checks against a baseline.
//!
//! Definitions are in docs/compare.md.

pub mod baseline;
pub mod check;
pub mod comparison;
pub mod metric;
pub mod outcome;
pub mod plan;
pub mod seeds;
pub mod stats;
pub mod table;
pub mod tolerance;

pub use baseline::Baseline;
pub use comparison::Comparison;
pub use metric::{Direction, Metric};
pub use outcome::RunMetrics;
pub use plan::{ConfigEntry, PlanResults, RunPlan};
pub use seeds::parse_seeds;
pub use table::Format;
pub use tolerance::Tolerances;
