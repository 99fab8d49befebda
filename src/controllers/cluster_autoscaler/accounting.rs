//! Node-hours and cost per node group, integrated over the run.
//!
//! A node is billed from the scale-up request that asked for it (a cloud bills an
//! instance from its launch, and the autoscaler's request launches it) to the deletion
//! of its Node object; nodes present at time zero from time zero. The ledger is shared
//! (`Rc<RefCell<_>>`) between the controller, which reports counts as they change, and the
//! runtime, which samples it into metrics.csv, expectations and `summary.json`'s `cost`.

use crate::engine::SimTime;
use crate::metrics::MetricsTable;
use serde_json::{Map, Value, json};
use std::cell::RefCell;
use std::rc::Rc;

/// One group's account.
#[derive(Debug, Clone, Default)]
pub struct GroupAccount {
    /// The group's name.
    pub name: String,
    /// Price per node-hour.
    pub cost_per_hour: f64,
    /// Minimum size.
    pub min: usize,
    /// Maximum size.
    pub max: usize,
    /// Registered nodes now.
    pub nodes: usize,
    /// Requested nodes not registered yet.
    pub upcoming: usize,
    /// Most registered nodes at once.
    pub peak_nodes: usize,
    /// Nodes requested by scale-ups.
    pub scale_ups: u64,
    /// Nodes removed by scale-downs.
    pub scale_downs: u64,
    billed_ms: u128,
    since: SimTime,
}

impl GroupAccount {
    fn billed_ms_at(&self, now: SimTime) -> u128 {
        let dt = now.as_millis().saturating_sub(self.since.as_millis()) as u128;
        self.billed_ms + dt * (self.nodes + self.upcoming) as u128
    }

    /// Node-hours billed up to `now`.
    pub fn node_hours(&self, now: SimTime) -> f64 {
        self.billed_ms_at(now) as f64 / 3_600_000.0
    }

    /// Cost up to `now`.
    pub fn cost(&self, now: SimTime) -> f64 {
        self.node_hours(now) * self.cost_per_hour
    }
}

/// Every group's account.
#[derive(Debug, Clone, Default)]
pub struct CostLedger {
    /// By group, in scenario order.
    pub groups: Vec<GroupAccount>,
}

/// The ledger as the controller and the runtime share it.
pub type SharedLedger = Rc<RefCell<CostLedger>>;

impl CostLedger {
    /// A ledger for groups `(name, cost per hour, min, max)`.
    pub fn new(groups: impl IntoIterator<Item = (String, f64, usize, usize)>) -> CostLedger {
        CostLedger {
            groups: groups
                .into_iter()
                .map(|(name, cost_per_hour, min, max)| GroupAccount {
                    name,
                    cost_per_hour,
                    min,
                    max,
                    ..GroupAccount::default()
                })
                .collect(),
        }
    }

    /// Records group `g`'s counts from `now` on.
    pub fn set(&mut self, g: usize, nodes: usize, upcoming: usize, now: SimTime) {
        if let Some(a) = self.groups.get_mut(g) {
            a.billed_ms = a.billed_ms_at(now);
            a.since = now;
            a.nodes = nodes;
            a.upcoming = upcoming;
            a.peak_nodes = a.peak_nodes.max(nodes);
        }
    }

    /// The group called `name`.
    pub fn group(&self, name: &str) -> Option<&GroupAccount> {
        self.groups.iter().find(|a| a.name == name)
    }

    /// Total node-hours up to `now`.
    pub fn node_hours(&self, now: SimTime) -> f64 {
        self.groups.iter().map(|a| a.node_hours(now)).sum()
    }

    /// Total cost up to `now`.
    pub fn total(&self, now: SimTime) -> f64 {
        self.groups.iter().map(|a| a.cost(now)).sum()
    }

    /// An expectation's value: `cost.{total,node_hours}` (`group` None) or
    /// `nodegroup/NAME.{nodes,upcoming,node_hours,cost,peak_nodes,scale_ups,scale_downs}`.
    pub fn value(&self, group: Option<&str>, field: &str, now: SimTime) -> f64 {
        match group {
            None => match field {
                "node_hours" => self.node_hours(now),
                _ => self.total(now),
            },
            Some(name) => match self.group(name) {
                None => f64::NAN,
                Some(a) => match field {
                    "nodes" => a.nodes as f64,
                    "upcoming" => a.upcoming as f64,
                    "node_hours" => a.node_hours(now),
                    "cost" => a.cost(now),
                    "peak_nodes" => a.peak_nodes as f64,
                    "scale_ups" => a.scale_ups as f64,
                    _ => a.scale_downs as f64,
                },
            },
        }
    }

    /// metrics.csv columns `nodegroup/NAME:nodes` and `nodegroup/NAME:upcoming`.
    pub fn sample(&self, m: &mut MetricsTable) {
        for a in &self.groups {
            m.set(&format!("nodegroup/{}:nodes", a.name), a.nodes as f64);
            m.set(&format!("nodegroup/{}:upcoming", a.name), a.upcoming as f64);
        }
    }

    /// `summary.json`'s `cost` object at the end of the run.
    pub fn summary(&self, end: SimTime) -> Value {
        let mut groups = Map::new();
        for a in &self.groups {
            groups.insert(
                a.name.clone(),
                json!({
                    "node_hours": a.node_hours(end),
                    "cost": a.cost(end),
                    "min": a.min,
                    "max": a.max,
                    "peak_nodes": a.peak_nodes,
                    "scale_ups": a.scale_ups,
                    "scale_downs": a.scale_downs,
                }),
            );
        }
        json!({
            "node_hours": self.node_hours(end),
            "total": self.total(end),
            "groups": groups,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::SimDuration;

    #[test]
    fn integrates_billed_nodes() {
        let t = |s| SimTime::ZERO + SimDuration::from_secs(s);
        let mut l = CostLedger::new([("a".to_string(), 2.0, 1, 5)]);
        l.set(0, 2, 0, t(0));
        // Two nodes for an hour, then a third requested (billed while it boots).
        l.set(0, 2, 1, t(3600));
        l.set(0, 3, 0, t(3660));
        assert_eq!(l.node_hours(t(7200)), 2.0 + 2.0 + 1.0);
        assert_eq!(l.total(t(7200)), 10.0);
        assert_eq!(l.groups[0].peak_nodes, 3);
        assert_eq!(l.value(Some("a"), "nodes", t(7200)), 3.0);
        assert!(l.value(Some("b"), "nodes", t(0)).is_nan());
        let s = l.summary(t(7200));
        assert_eq!(s["groups"]["a"]["cost"], json!(10.0));
    }
}
