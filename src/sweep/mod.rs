//! Parameter sweeps (`kubetwin sweep`, `kubetwin merge`): a scenario run over a grid of
//! parameter values times a set of seeds, in parallel, with per-grid-point percentiles
//! of every summary metric and the cheapest grid point that meets the expectations.
//!
//! - [`yaml`]: the scenario document as a generic tree, with paths;
//! - [`values`]: the `--set NAME=VALUES` value syntax (ranges and lists);
//! - [`parameters`]: `spec.parameters`, resolving `--set`s, building a grid point's scenario;
//! - [`grid`]: grid points, runs and shards;
//! - [`results`]: per-run metrics, percentiles, `runs.csv` and `sweep.csv`;
//! - [`exec`]: running the runs on a rayon pool;
//! - [`answer`]: the cheapest grid point meeting the expectations;
//! - [`plot`]: SVG charts of metrics against parameters;
//! - [`shard`]: the manifest and `kubetwin merge`;
//! - [`output`]: the output directory, written atomically.
//!
//! Definitions are in docs/sweeps.md.

pub mod answer;
pub mod exec;
pub mod grid;
pub mod output;
pub mod parameters;
pub mod plot;
pub mod results;
pub mod shard;
pub mod values;
pub mod yaml;
