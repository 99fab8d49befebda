//! Record and replay: a run's `events.jsonl` starts with a [`header::Header`] that holds
//! everything needed to re-run it (version, seed, options, the scenario and the files it
//! references), so `kubetwin replay` can rebuild and re-run it and check the journal,
//! `metrics.csv` and `summary.json` line by line, and `kubetwin diff` can show where two
//! runs part and how their metrics differ. See `docs/replay.md`.

pub mod deltas;
pub mod diff;
pub mod divergence;
pub mod header;
pub mod journal;
pub mod record;
pub mod rerun;

pub use header::Header;
pub use journal::Recording;
