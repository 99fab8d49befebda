//! The discrete-event engine: integer virtual time, an event queue ordered by
//! (time, insertion sequence) with cancellation, named seeded random streams, the
//! [`Clock`] seam and run limits.
//!
//! Nothing in this module knows about Kubernetes; the simulation runtime defines
//! its own event type and drives [`EventQueue`] with it.

pub mod clock;
pub mod queue;
pub mod rng;
pub mod time;

pub use clock::{Clock, VirtualClock};
pub use queue::{EventId, EventQueue};
pub use rng::{RngStreams, SimRng, stream_id};
pub use time::{DurationParseError, SimDuration, SimTime};

/// Bounds on one run: the engine stops when either is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunLimits {
    /// Stop after processing this many events (a guard against runaway feedback loops).
    pub max_events: u64,
    /// Stop when virtual time would pass this instant.
    pub max_time: SimTime,
}

impl Default for RunLimits {
    fn default() -> Self {
        RunLimits {
            max_events: 500_000_000,
            max_time: SimTime::MAX,
        }
    }
}
