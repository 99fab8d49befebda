//! Controller expectations: after issuing creations or deletions a controller waits to
//! observe them before syncing again, so it never acts twice on a stale view. Port of
//! pkg/controller/controller_utils.go `ControlleeExpectations` and
//! `UIDTrackingControllerExpectations` (deletions tracked per pod key), with the
//! 5-minute `ExpectationsTimeout`.

use crate::engine::{SimDuration, SimTime};
use std::collections::BTreeSet;

/// How long expectations may stay unfulfilled before a sync proceeds anyway.
pub const EXPECTATIONS_TIMEOUT: SimDuration = SimDuration::from_secs(5 * 60);

/// Outstanding creations and deletions of one controller.
#[derive(Debug, Clone, Default)]
pub struct Expectations {
    add: i64,
    deletions: BTreeSet<String>,
    timestamp: SimTime,
}

impl Expectations {
    /// Expects `n` pod creations (replacing earlier expectations, as `ExpectCreations`).
    pub fn expect_creations(&mut self, n: i64, now: SimTime) {
        self.add = n;
        self.timestamp = now;
    }
    /// Expects the deletion of the pods with these keys (`ExpectDeletions`).
    pub fn expect_deletions(&mut self, keys: Vec<String>, now: SimTime) {
        self.deletions = keys.into_iter().collect();
        self.timestamp = now;
    }
    /// One creation observed.
    pub fn creation_observed(&mut self) {
        self.add -= 1;
    }
    /// The deletion of `key` observed (counted once however often it is seen).
    pub fn deletion_observed(&mut self, key: &str) {
        self.deletions.remove(key);
    }
    /// Fulfilled, or expired (`SatisfiedExpectations`).
    pub fn satisfied(&self, now: SimTime) -> bool {
        (self.add <= 0 && self.deletions.is_empty())
            || now.since(self.timestamp) > EXPECTATIONS_TIMEOUT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle() {
        let mut e = Expectations::default();
        assert!(e.satisfied(SimTime::ZERO));
        e.expect_creations(2, SimTime::ZERO);
        e.creation_observed();
        assert!(!e.satisfied(SimTime::ZERO));
        e.creation_observed();
        assert!(e.satisfied(SimTime::ZERO));
        e.expect_deletions(vec!["a".into()], SimTime::ZERO);
        e.deletion_observed("a");
        e.deletion_observed("a");
        assert!(e.satisfied(SimTime::ZERO));
        e.expect_deletions(vec!["b".into()], SimTime::ZERO);
        assert!(e.satisfied(SimTime::ZERO + EXPECTATIONS_TIMEOUT + SimDuration::from_secs(1)));
    }
}
