//! Fault injection (`spec.faults`): what can go wrong in a production cluster, placed
//! at a time or drawn from a process, and what the runtime does about it.
//!
//! - [`spec`] reads and validates the scenario's `spec.faults` entries (kinds, targets
//!   by node name, node label selector or zone, times, rates, MTBF/MTTR);
//! - [`plan`] holds the validated faults and draws their occurrences for a run from the
//!   `faults` RNG stream, so a (scenario, seed) pair always injects the same faults;
//! - [`process`] has the draws themselves (exponential inter-arrival and repair times);
//! - [`state`] is the part of the fault state the kubelet consults (injected container
//!   exits, probe flapping windows);
//! - [`swarm`] draws a whole fault mix from a seed, heals it at a cut-off and checks
//!   that the cluster converges to its desired state.
//!
//! The runtime side (what each fault does to the backend, the kubelet, the controller
//! manager) lives in `simulation::faults`. See `docs/faults.md`.

pub mod plan;
pub mod process;
pub mod spec;
pub mod state;
pub mod swarm;

pub use plan::{Fault, FaultKind, FaultPlan, Occurrence, Target, Timing};
pub use state::{FaultState, SharedFaultState};
