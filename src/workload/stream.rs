//! Streamed arrivals: objects created over a run that are generated (or read) one at a
//! time instead of being held in the scenario, so a run's memory does not grow with the
//! length of its workload. A scenario carries at most one [`Arrivals`] source; every run
//! starts a fresh iterator from it, so repeated runs (seeds, sweeps, comparisons) see the
//! same objects. The runtime keeps exactly one arrival pending in its event queue.

use crate::api::manifest::Loaded;
use crate::engine::SimTime;
use std::sync::Arc;

/// An iterator of timed objects, in non-decreasing time order.
pub type ArrivalIter = Box<dyn Iterator<Item = (SimTime, Loaded)>>;

/// A restartable source of timed object arrivals.
#[derive(Clone)]
pub struct Arrivals {
    label: String,
    make: Arc<dyn Fn() -> ArrivalIter + Send + Sync>,
}

impl Arrivals {
    /// A source named `label` whose iterators come from `make`.
    pub fn new(
        label: impl Into<String>,
        make: impl Fn() -> ArrivalIter + Send + Sync + 'static,
    ) -> Self {
        Arrivals {
            label: label.into(),
            make: Arc::new(make),
        }
    }

    /// A fresh iterator over the arrivals, from the first.
    pub fn start(&self) -> ArrivalIter {
        (self.make)()
    }

    /// The source's name.
    pub fn label(&self) -> &str {
        &self.label
    }
}

impl std::fmt::Debug for Arrivals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Arrivals")
            .field("label", &self.label)
            .finish()
    }
}
