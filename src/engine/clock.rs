//! The clock seam. Controllers never read a clock directly: the runtime hands them the
//! current time from a [`Clock`]. The simulation uses [`VirtualClock`], advanced by the
//! event loop; the live backend (a later feature) supplies a wall clock.

use super::time::SimTime;

/// A source of the current time.
pub trait Clock {
    /// The current instant.
    fn now(&self) -> SimTime;
}

/// Virtual time, set by the event loop as it pops events.
#[derive(Debug, Default, Clone, Copy)]
pub struct VirtualClock {
    now: SimTime,
}

impl VirtualClock {
    /// Moves the clock to `t` (never backwards).
    pub fn advance_to(&mut self, t: SimTime) {
        if t > self.now {
            self.now = t;
        }
    }
}

impl Clock for VirtualClock {
    fn now(&self) -> SimTime {
        self.now
    }
}
