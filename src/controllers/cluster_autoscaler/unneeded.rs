//! Unneeded nodes and when they may go: port of
//! cluster-autoscaler/core/scaledown/unneeded/nodes.go (`Update` keeps the time a node
//! was first found unneeded while it stays unneeded; `RemovableAt` requires
//! `--scale-down-unneeded-time` for a Ready node, `--scale-down-unready-time` for one that
//! is not, and keeps every group above its minimum size counting deletions in progress
//! and the nodes already picked) and of the cooldown in core/static_autoscaler.go
//! `isScaleDownInCooldown`.

use crate::engine::{SimDuration, SimTime};
use std::collections::BTreeMap;

/// Why an unneeded node is not removed yet (unremovable reasons).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotRemovable {
    /// `NotUnneededLongEnough`.
    NotUnneededLongEnough,
    /// `NotUnreadyLongEnough`.
    NotUnreadyLongEnough,
    /// `NodeGroupMinSizeReached`.
    NodeGroupMinSizeReached,
}

/// The unneeded nodes by id, with the time each became unneeded.
#[derive(Debug, Clone, Default)]
pub struct Unneeded {
    since: BTreeMap<u32, SimTime>,
}

impl Unneeded {
    /// Replaces the set with `nodes`, keeping the first time of those already in it.
    pub fn update(&mut self, nodes: &[u32], now: SimTime) {
        let mut next = BTreeMap::new();
        for &n in nodes {
            next.insert(n, self.since.get(&n).copied().unwrap_or(now));
        }
        self.since = next;
    }

    /// Since when `node` is unneeded.
    pub fn since(&self, node: u32) -> Option<SimTime> {
        self.since.get(&node).copied()
    }

    /// Forgets a node.
    pub fn remove(&mut self, node: u32) {
        self.since.remove(&node);
    }

    /// The unneeded node ids, ascending.
    pub fn nodes(&self) -> Vec<u32> {
        self.since.keys().copied().collect()
    }
}

/// nodes.go `RemovableAt` for one node: `ready`, unneeded since `since`; the group has
/// `size` nodes (registered and upcoming), `deleting` of which are already being deleted
/// or picked in this pass, and minimum `min`.
#[allow(clippy::too_many_arguments)]
pub fn removable(
    since: SimTime,
    now: SimTime,
    ready: bool,
    unneeded_time: SimDuration,
    unready_time: SimDuration,
    size: usize,
    deleting: usize,
    min: usize,
) -> Result<(), NotRemovable> {
    if ready && since + unneeded_time > now {
        return Err(NotRemovable::NotUnneededLongEnough);
    }
    if !ready && since + unready_time > now {
        return Err(NotRemovable::NotUnreadyLongEnough);
    }
    if size.saturating_sub(deleting) <= min {
        return Err(NotRemovable::NodeGroupMinSizeReached);
    }
    Ok(())
}

/// static_autoscaler.go `isScaleDownInCooldown`: within the delay after the last
/// scale-up, the last failed scale-down or the last deletion.
pub fn in_cooldown(
    now: SimTime,
    last_scale_up: Option<SimTime>,
    last_failure: Option<SimTime>,
    last_delete: Option<SimTime>,
    cfg: &super::config::AutoscalerConfig,
) -> bool {
    let within = |t: Option<SimTime>, d: SimDuration| t.is_some_and(|t| t + d > now);
    within(last_scale_up, cfg.scale_down_delay_after_add)
        || within(last_failure, cfg.scale_down_delay_after_failure)
        || within(last_delete, cfg.scale_down_delay_after_delete)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs(s)
    }

    #[test]
    fn unneeded_since_is_kept_while_unneeded() {
        let mut u = Unneeded::default();
        u.update(&[1, 2], t(10));
        u.update(&[2, 3], t(20));
        assert_eq!(u.since(1), None, "no longer unneeded: forgotten");
        assert_eq!(u.since(2), Some(t(10)));
        assert_eq!(u.since(3), Some(t(20)));
        u.update(&[3], t(30));
        u.update(&[2, 3], t(40));
        assert_eq!(u.since(2), Some(t(40)), "the clock restarts after a gap");
    }

    #[test]
    fn unneeded_time_and_min_size() {
        let (ten, twenty) = (SimDuration::from_secs(600), SimDuration::from_secs(1200));
        let r = |since, now, ready, size, deleting, min| {
            removable(t(since), t(now), ready, ten, twenty, size, deleting, min)
        };
        assert_eq!(
            r(0, 599, true, 3, 0, 1),
            Err(NotRemovable::NotUnneededLongEnough)
        );
        assert_eq!(r(0, 600, true, 3, 0, 1), Ok(()));
        assert_eq!(
            r(0, 600, false, 3, 0, 1),
            Err(NotRemovable::NotUnreadyLongEnough)
        );
        assert_eq!(r(0, 1200, false, 3, 0, 1), Ok(()));
        assert_eq!(
            r(0, 600, true, 2, 1, 1),
            Err(NotRemovable::NodeGroupMinSizeReached)
        );
        assert_eq!(
            r(0, 600, true, 1, 0, 1),
            Err(NotRemovable::NodeGroupMinSizeReached)
        );
        assert_eq!(r(0, 600, true, 3, 1, 1), Ok(()));
    }

    #[test]
    fn cooldowns() {
        let cfg = super::super::config::AutoscalerConfig::default();
        assert!(in_cooldown(t(599), Some(t(0)), None, None, &cfg));
        assert!(!in_cooldown(t(600), Some(t(0)), None, None, &cfg));
        assert!(in_cooldown(t(179), None, Some(t(0)), None, &cfg));
        assert!(!in_cooldown(t(180), None, Some(t(0)), None, &cfg));
        assert!(
            !in_cooldown(t(0), None, None, Some(t(0)), &cfg),
            "delay after delete defaults to 0"
        );
    }
}
