//! Node utilization for scale-down: port of cluster-autoscaler/simulator/utilization/info.go
//! `Calculate`: per resource, the sum of the node's pods' requests over its allocatable;
//! the node's utilization is the larger of CPU and memory. DaemonSet and mirror pods
//! count (`--ignore-daemonsets-utilization` and `--ignore-mirror-pods-utilization`
//! default to false; kubetwin models neither kind). The sums are the store's incremental
//! per-node aggregate of non-terminal pods, so terminating pods count until they are gone
//! (upstream drops pods terminating for longer than their grace period plus 5 minutes).

use crate::api::Node;
use crate::api::store::NodeUsage;

/// A node's utilization (utilization.Info).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Utilization {
    /// CPU requests / allocatable CPU.
    pub cpu: f64,
    /// Memory requests / allocatable memory.
    pub memory: f64,
}

impl Utilization {
    /// `max(cpu, memory)`, what the threshold is compared with.
    pub fn value(&self) -> f64 {
        self.cpu.max(self.memory)
    }
}

/// The utilization of `node` holding `usage`; `None` when its allocatable CPU or memory is
/// zero (upstream's error: the node is not considered).
pub fn calculate(node: &Node, usage: &NodeUsage) -> Option<Utilization> {
    let a = &node.allocatable;
    if a.cpu_milli == 0 || a.memory == 0 {
        return None;
    }
    Some(Utilization {
        cpu: usage.requested.cpu_milli as f64 / a.cpu_milli as f64,
        memory: usage.requested.memory as f64 / a.memory as f64,
    })
}

/// eligibility.go: a node is underutilized when its utilization is strictly below the
/// threshold.
pub fn underutilized(u: &Utilization, threshold: f64) -> bool {
    u.value() < threshold
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_of_cpu_and_memory_strictly_below() {
        let mut node = Node {
            meta: Default::default(),
            unschedulable: false,
            taints: Vec::new(),
            capacity: Default::default(),
            allocatable: Default::default(),
            ready: crate::api::objects::ConditionStatus::True,
            ready_transition: crate::engine::SimTime::ZERO,
            images: Vec::new(),
        };
        node.allocatable.cpu_milli = 4000;
        node.allocatable.memory = 8 << 30;
        let mut usage = NodeUsage::default();
        usage.requested.cpu_milli = 1000;
        usage.requested.memory = 4 << 30;
        let u = calculate(&node, &usage).unwrap();
        assert_eq!((u.cpu, u.memory, u.value()), (0.25, 0.5, 0.5));
        assert!(!underutilized(&u, 0.5), "at the threshold is not below it");
        assert!(underutilized(&u, 0.51));
        node.allocatable.memory = 0;
        assert_eq!(calculate(&node, &usage), None);
    }
}
