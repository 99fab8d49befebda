//! The scheduling queue (pkg/scheduler/backend/queue/scheduling_queue.go): an active
//! queue ordered by PrioritySort (higher priority first, then earlier arrival), a
//! backoff queue (1 s initial, doubling per failed attempt, 10 s max), and the
//! unschedulable pool, whose pods move back on cluster events that may make them
//! schedulable, or after `podMaxInUnschedulablePodsDuration` (5 min). The queue also
//! holds the [`Nominator`]: the pods a preemption nominated to a node, which later cycles
//! count on that node (backend/queue/nominator.go).

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
    /// How the pod last reached the active queue (for explanations).
    origin: Origin,
}

/// How a pod reached the active queue (upstream's queue names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Origin {
    /// Added as a new pending pod (`activeQ`).
    #[default]
    New,
    /// Moved by a cluster event, through the backoff queue (`backoffQ`).
    Backoff,
    /// Flushed from the unschedulable pool after `podMaxInUnschedulablePodsDuration`.
    Unschedulable,
}

impl Origin {
    /// Upstream's name of the queue.
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::New => "activeQ",
            Origin::Backoff => "backoffQ",
            Origin::Unschedulable => "unschedulablePods",
        }
    }
}

/// The three-part queue.
#[derive(Debug, Default)]
pub struct SchedulingQueue {
    infos: BTreeMap<u32, Info>,
    active: BTreeSet<((Reverse<i32>, u64), u32)>,
    backoff: BTreeSet<(SimTime, u32)>,
    unschedulable: BTreeMap<u32, SimTime>,
    arrivals: u64,
    /// Pods nominated to nodes by preemption.
    pub nominator: Nominator,
    /// Bound pods counted by priority (preemption's "any victim at all" check).
    pub bound_priorities: BoundPriorities,
}

/// Bound, non-terminal pods counted by priority, kept current from watch events, so
/// preemption knows in O(log n) whether any pod of lower priority exists at all.
#[derive(Debug, Default)]
pub struct BoundPriorities {
    tracked: Vec<Option<i32>>,
    counts: BTreeMap<i32, u64>,
}

impl BoundPriorities {
    /// Records pod `id`'s current state: `Some(priority)` when bound and not terminal.
    pub fn track(&mut self, id: u32, now: Option<i32>) {
        let slot = id as usize;
        if self.tracked.len() <= slot {
            if now.is_none() {
                return;
            }
            self.tracked.resize(slot + 1, None);
        }
        let before = self.tracked[slot];
        if before == now {
            return;
        }
        if let Some(p) = before
            && let Some(c) = self.counts.get_mut(&p)
        {
            *c -= 1;
            if *c == 0 {
                self.counts.remove(&p);
            }
        }
        if let Some(p) = now {
            *self.counts.entry(p).or_default() += 1;
        }
        self.tracked[slot] = now;
    }

    /// Whether some tracked pod has a priority below `priority`.
    pub fn any_below(&self, priority: i32) -> bool {
        self.counts.range(..priority).next().is_some()
    }
}

/// Port of pkg/scheduler/backend/queue/nominator.go: unbound pods with a
/// `nominatedNodeName`, by node name, with their (immutable) priority.
#[derive(Debug, Default)]
pub struct Nominator {
    by_node: BTreeMap<String, Vec<(u32, i32)>>,
    of_pod: BTreeMap<u32, String>,
}

impl Nominator {
    /// Whether no pod is nominated anywhere (the common case: everything else is skipped).
    pub fn is_empty(&self) -> bool {
        self.of_pod.is_empty()
    }

    /// Records pod `id` (priority `priority`) as nominated to `node`; an empty `node`
    /// removes the nomination (AddNominatedPod / DeleteNominatedPodIfExists).
    pub fn set(&mut self, id: u32, priority: i32, node: &str) {
        if self.of_pod.get(&id).is_some_and(|n| n == node) {
            return;
        }
        self.remove(id);
        if node.is_empty() {
            return;
        }
        self.of_pod.insert(id, node.to_string());
        self.by_node
            .entry(node.to_string())
            .or_default()
            .push((id, priority));
    }

    /// Forgets pod `id`'s nomination, if any.
    pub fn remove(&mut self, id: u32) {
        let Some(node) = self.of_pod.remove(&id) else {
            return;
        };
        if let Some(v) = self.by_node.get_mut(&node) {
            v.retain(|(p, _)| *p != id);
            if v.is_empty() {
                self.by_node.remove(&node);
            }
        }
    }

    /// The node pod `id` is nominated to.
    pub fn node_of(&self, id: u32) -> Option<&str> {
        self.of_pod.get(&id).map(String::as_str)
    }

    /// The pods nominated to `node`, `(pod id, priority)` in nomination order
    /// (NominatedPodsForNode).
    pub fn for_node(&self, node: &str) -> &[(u32, i32)] {
        self.by_node.get(node).map_or(&[], Vec::as_slice)
    }
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
                origin: Origin::New,
            },
        );
        self.active.insert((key, id));
        true
    }

    /// Forgets a pod (deleted or bound), with its nomination.
    pub fn remove(&mut self, id: u32) {
        self.nominator.remove(id);
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

    /// Pod `id`'s failed attempts so far and how it last reached the active queue.
    pub fn attempts_of(&self, id: u32) -> (u32, Origin) {
        self.infos
            .get(&id)
            .map_or((0, Origin::New), |i| (i.attempts, i.origin))
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
            if let Some(info) = self.infos.get_mut(&id) {
                info.origin = Origin::Backoff;
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
            if let Some(info) = self.infos.get_mut(&id) {
                info.origin = Origin::Unschedulable;
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

    /// Forgets pods that were bound (called after a successful cycle); a bound pod is
    /// no longer a nominated one (schedule_one.go assume: DeleteNominatedPodIfExists).
    pub fn forget(&mut self, id: u32) {
        self.infos.remove(&id);
        self.nominator.remove(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bound_priorities_follow_pods() {
        let mut b = BoundPriorities::default();
        b.track(3, Some(5));
        b.track(1, Some(10));
        assert!(b.any_below(6) && !b.any_below(5));
        b.track(3, None);
        assert!(!b.any_below(10) && b.any_below(11));
        b.track(9, None);
        b.track(1, None);
        assert!(!b.any_below(i32::MAX));
    }

    #[test]
    fn nominator_tracks_one_node_per_pod() {
        let mut n = Nominator::default();
        assert!(n.is_empty());
        n.set(1, 10, "a");
        n.set(2, 5, "a");
        n.set(1, 10, "b");
        assert_eq!(n.for_node("a"), &[(2, 5)]);
        assert_eq!(n.for_node("b"), &[(1, 10)]);
        assert_eq!(n.node_of(1), Some("b"));
        n.set(2, 5, "");
        assert!(n.for_node("a").is_empty());
        n.remove(1);
        assert!(n.is_empty());
    }

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
