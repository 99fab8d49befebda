//! Workload inputs: the scenario file format (cluster, manifests, timeline, faults,
//! expectations) and the expectation language.

pub mod autoscale;
pub mod expectation;
pub mod load;
pub mod reference;
pub mod scenario;
pub mod scheduler_bench;
pub mod stream;
pub mod traces;
pub mod twin;

pub use expectation::{Expectation, ExpectationResult};
pub use scenario::{Action, Scenario, TimedAction};
