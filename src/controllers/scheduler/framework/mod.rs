//! Scheduler framework types: plugin status codes and results.

pub mod status;
