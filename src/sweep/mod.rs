//! Parameter sweeps (`kubetwin sweep`, `kubetwin merge`): a scenario run over a grid of
//! parameter values times a set of seeds, in parallel, with per-grid-point percentiles
//! of every summary metric and the cheapest grid point that meets the expectations.
//!
//! - [`yaml`]: the scenario document as a generic tree, with paths;
//! - [`values`]: the `--set NAME=VALUES` value syntax (ranges and lists);
//! - [`parameters`]: `spec.parameters`, resolving `--set`s, building a grid point's scenario;
//! - [`grid`]: grid points, runs and shards;
//! - [`results`]: per-run metrics, percentiles, `runs.csv` and `sweep.csv`;
//!
//! Definitions are in docs/sweeps.md.

pub mod grid;
pub mod parameters;
pub mod results;
pub mod values;
pub mod yaml;
