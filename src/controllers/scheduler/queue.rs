//! The scheduling queue (pkg/scheduler/backend/queue/scheduling_queue.go): an active
//! queue ordered by PrioritySort (higher priority first, then earlier arrival), a
//! backoff queue (1 s initial, doubling per failed attempt, 10 s max), and the
//! unschedulable pool, whose pods move back on cluster events that may make them
//! schedulable, or after `podMaxInUnschedulablePodsDuration` (5 min).

use crate::api::Pod;
use crate::engine::{SimDuration, SimTime};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};

/// Initial backoff of a pod that failed scheduling.
pub const INITIAL_BACKOFF: SimDuration = SimDuration::from_secs(1);
/// Maximum backoff.
pub const MAX_BACKOFF: SimDuration = SimDuration::from_secs(10);
/// How long a pod may stay in the unschedulable pool without a triggering event.
pub const MAX_IN_UNSCHEDULABLE: SimDuration = SimDuration::from_secs(5 * 60);

#[derive(Debug, Clone)]
struct Info {
    key: (Reverse<i32>, u64),
    attempts: u32,
    /// When the last failed attempt happened.
    failed_at: SimTime,
}

/// The three-part queue.
#[derive(Debug, Default)]
pub struct SchedulingQueue {
    infos: BTreeMap<u32, Info>,
    active: BTreeSet<((Reverse<i32>, u64), u32)>,
    backoff: BTreeSet<(SimTime, u32)>,
    unschedulable: BTreeMap<u32, SimTime>,
    arrivals: u64,
}

impl SchedulingQueue {
    /// Adds a new pending pod to the active queue; false if it is already known.
    pub fn add_if_new(&mut self, id: u32, p: &Pod) -> bool {
        if self.infos.contains_key(&id) {
            return false;
        }
        self.arrivals += 1;
        let key = (Reverse(p.spec.priority), self.arrivals);
        self.infos.insert(
            id,
            Info {
                key,
                attempts: 0,
                failed_at: SimTime::ZERO,
            },
        );
        self.active.insert((key, id));
        true
    }

    /// Forgets a pod (deleted or bound).
    pub fn remove(&mut self, id: u32) {
        if let Some(info) = self.infos.remove(&id) {
            self.active.remove(&(info.key, id));
            self.backoff.retain(|&(_, i)| i != id);
            self.unschedulable.remove(&id);
        }
    }

    /// The next pod to schedule, in PrioritySort order.
    pub fn pop(&mut self) -> Option<u32> {
        let (_, id) = self.active.pop_first()?;
        Some(id)
    }

    /// Records a failed attempt: the pod goes to the unschedulable pool.
    pub fn add_unschedulable(&mut self, id: u32, now: SimTime) {
        if let Some(info) = self.infos.get_mut(&id) {
            info.attempts += 1;
            info.failed_at = now;
            self.unschedulable.insert(id, now);
        }
    }

    /// Whether any pod waits in the unschedulable pool.
    pub fn has_unschedulable(&self) -> bool {
        !self.unschedulable.is_empty()
    }

    fn backoff_duration(attempts: u32) -> SimDuration {
        let mut d = INITIAL_BACKOFF;
        for _ in 1..attempts {
            d = d.doubled();
            if d > MAX_BACKOFF {
                return MAX_BACKOFF;
            }
        }
        d
    }

    /// A cluster event: every unschedulable pod moves to backoff (still backing off) or
    /// to active (MoveAllToActiveOrBackoffQueue).
    pub fn move_all_to_active_or_backoff(&mut self) {
        let ids: Vec<u32> = self.unschedulable.keys().copied().collect();
        self.unschedulable.clear();
        for id in ids {
            if let Some(info) = self.infos.get(&id) {
                let until = info.failed_at + Self::backoff_duration(info.attempts);
                self.backoff.insert((until, id));
            }
        }
    }

    /// Moves pods whose backoff expired to active, and pods stuck in the unschedulable
    /// pool for longer than [`MAX_IN_UNSCHEDULABLE`] to backoff/active.
    pub fn flush_backoff(&mut self, now: SimTime) {
        let stale: Vec<u32> = self
            .unschedulable
            .iter()
            .filter(|(_, t)| now.since(**t) >= MAX_IN_UNSCHEDULABLE)
            .map(|(id, _)| *id)
            .collect();
        for id in stale {
            self.unschedulable.remove(&id);
            if let Some(info) = self.infos.get(&id) {
                let until = info.failed_at + Self::backoff_duration(info.attempts);
                self.backoff.insert((until, id));
            }
        }
        while let Some(&(t, id)) = self.backoff.first() {
            if t > now {
                break;
            }
            self.backoff.pop_first();
            if let Some(info) = self.infos.get(&id) {
                self.active.insert((info.key, id));
            }
        }
    }

    /// When the queue next needs attention: the earliest backoff expiry or unschedulable
    /// timeout.
    pub fn next_wake(&self, _now: SimTime) -> Option<SimTime> {
        let b = self.backoff.first().map(|&(t, _)| t);
        let u = self
            .unschedulable
            .values()
            .min()
            .map(|t| *t + MAX_IN_UNSCHEDULABLE);
        match (b, u) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Forgets pods that were bound (called after a successful cycle).
    pub fn forget(&mut self, id: u32) {
        self.infos.remove(&id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_cap() {
        assert_eq!(
            SchedulingQueue::backoff_duration(1),
            SimDuration::from_secs(1)
        );
        assert_eq!(
            SchedulingQueue::backoff_duration(3),
            SimDuration::from_secs(4)
        );
        assert_eq!(
            SchedulingQueue::backoff_duration(9),
            SimDuration::from_secs(10)
        );
    }
}
