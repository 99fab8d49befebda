//! The node lifecycle controller (pkg/controller/nodelifecycle/node_lifecycle_controller.go):
//! every `node-monitor-period` it compares each node's last lease renewal with
//! `node-monitor-grace-period`; a silent node's Ready condition becomes Unknown, it gets
//! the `node.kubernetes.io/unreachable` NoSchedule taint at once, its pods are marked
//! not ready, and it joins its zone's queue for the NoExecute taint, drained at the
//! zone's eviction rate (token bucket, burst 1) chosen from the zone's state. A node
//! that heartbeats again is Ready and loses both taints.
//!
//! Only nodes that are down or not Ready are examined, so a healthy cluster costs no
//! work; monitor passes happen on the node-monitor-period grid from time zero.

pub mod rules;
pub mod taint_eviction;

use super::kubelet::SharedBackend;
use super::{Controller, Ctx, Key, Next, WorkQueue};
use crate::api::objects::ConditionStatus;
use crate::api::taint::{Taint, TaintEffect};
use crate::api::{Change, Kind, Op, Store};
use crate::engine::{SimDuration, SimTime};
use rules::{NodeLifecycleConfig, TAINT_NODE_NOT_READY, TAINT_NODE_UNREACHABLE, ZoneState};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

#[derive(Debug, Default)]
struct Zone {
    queue: VecDeque<String>,
    next_allowed: SimTime,
    state: Option<ZoneState>,
}

/// The node lifecycle controller.
pub struct NodeLifecycle {
    config: NodeLifecycleConfig,
    backend: SharedBackend,
    zones: BTreeMap<String, Zone>,
    /// Nodes currently not Ready, by name.
    not_ready: BTreeSet<String>,
}

impl NodeLifecycle {
    /// A controller with upstream's defaults.
    pub fn new(backend: SharedBackend, config: NodeLifecycleConfig) -> NodeLifecycle {
        NodeLifecycle {
            config,
            backend,
            zones: BTreeMap::new(),
            not_ready: BTreeSet::new(),
        }
    }

    fn period(&self) -> SimDuration {
        SimDuration::from_secs(self.config.node_monitor_period_seconds.max(1) as u64)
    }

    /// The first monitor pass at or after `t`.
    fn next_pass(&self, t: SimTime) -> SimTime {
        let p = self.period().as_nanos();
        SimTime(t.as_nanos().div_ceil(p) * p)
    }

    fn zone_states(&mut self, store: &Store) {
        let mut counts: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        for (_, n) in store.nodes.iter() {
            let c = counts.entry(n.zone_key()).or_default();
            if n.ready == ConditionStatus::True {
                c.0 += 1;
            } else {
                c.1 += 1;
            }
        }
        for (z, (ready, not_ready)) in counts {
            let s = rules::zone_state(ready, not_ready, self.config.unhealthy_zone_threshold);
            self.zones.entry(z).or_default().state = Some(s);
        }
    }

    fn set_taint(
        store: &mut Store,
        now: SimTime,
        node: u32,
        key: &str,
        effect: TaintEffect,
        present: bool,
    ) {
        let has = store
            .nodes
            .get(node)
            .is_some_and(|n| n.taints.iter().any(|t| t.key == key && t.effect == effect));
        if has == present {
            return;
        }
        store.update_node(node, now, |n| {
            if present {
                n.taints.push(Taint {
                    key: key.to_string(),
                    value: String::new(),
                    effect,
                });
            } else {
                n.taints.retain(|t| !(t.key == key && t.effect == effect));
            }
        });
    }

    /// One monitor pass at `now`.
    fn monitor(&mut self, ctx: &mut Ctx<'_>) {
        let now = ctx.now;
        let grace = SimDuration::from_secs(self.config.node_monitor_grace_period_seconds as u64);
        let mut candidates: BTreeSet<String> =
            self.backend.borrow().down_nodes().into_iter().collect();
        candidates.extend(self.not_ready.iter().cloned());
        for name in candidates {
            let Some(id) = ctx.store.nodes.id_of("", &name) else {
                self.not_ready.remove(&name);
                continue;
            };
            let alive = self.backend.borrow().node_alive(&name);
            let last = self.backend.borrow().last_heartbeat(&name, now);
            let ready = ctx.store.nodes.get(id).map(|n| n.ready).unwrap_or_default();
            if alive {
                if ready != ConditionStatus::True {
                    ctx.store.update_node(id, now, |n| {
                        n.ready = ConditionStatus::True;
                        n.ready_transition = now;
                    });
                    for key in [TAINT_NODE_UNREACHABLE, TAINT_NODE_NOT_READY] {
                        Self::set_taint(ctx.store, now, id, key, TaintEffect::NoSchedule, false);
                        Self::set_taint(ctx.store, now, id, key, TaintEffect::NoExecute, false);
                    }
                    for z in self.zones.values_mut() {
                        z.queue.retain(|n| *n != name);
                    }
                    ctx.store
                        .record_event(now, Kind::Node, "", &name, "NodeReady", || {
                            format!("Node {name} status is now: NodeReady")
                        });
                }
                self.not_ready.remove(&name);
                continue;
            }
            // The controller notices a renewal at its first pass after it (probeTimestamp).
            let observed = self.next_pass(last.unwrap_or(SimTime::ZERO));
            if ready == ConditionStatus::True && now.since(observed) > grace {
                ctx.store.update_node(id, now, |n| {
                    n.ready = ConditionStatus::Unknown;
                    n.ready_transition = now;
                });
                Self::set_taint(
                    ctx.store,
                    now,
                    id,
                    TAINT_NODE_UNREACHABLE,
                    TaintEffect::NoSchedule,
                    true,
                );
                ctx.store
                    .record_event(now, Kind::Node, "", &name, "NodeNotReady", || {
                        format!("Node {name} status is now: NodeNotReady")
                    });
                // MarkPodsNotReady (pkg/controller/util/node/controller_utils.go).
                let pods: Vec<u32> = ctx.store.pods_on_node(id).collect();
                for p in pods {
                    ctx.store.update_pod(p, now, |p| {
                        if p.status.ready {
                            p.status.ready = false;
                            p.status.ready_transition = Some(now);
                        }
                        for c in &mut p.status.containers {
                            c.ready = false;
                        }
                    });
                }
                let zone = ctx
                    .store
                    .nodes
                    .get(id)
                    .map(|n| n.zone_key())
                    .unwrap_or_default();
                self.zones
                    .entry(zone)
                    .or_default()
                    .queue
                    .push_back(name.clone());
                self.not_ready.insert(name.clone());
            } else if ready == ConditionStatus::True {
                self.not_ready.remove(&name);
            } else {
                self.not_ready.insert(name.clone());
            }
        }
    }

    /// Drains the zones' NoExecute-tainting queues at their rates; returns the next time
    /// a queue may proceed.
    fn taint_pass(&mut self, ctx: &mut Ctx<'_>) -> Option<SimTime> {
        let now = ctx.now;
        self.zone_states(ctx.store);
        let all_full = !self.zones.is_empty()
            && self
                .zones
                .values()
                .all(|z| z.state == Some(ZoneState::FullDisruption));
        let sizes: BTreeMap<String, usize> =
            ctx.store
                .nodes
                .iter()
                .fold(BTreeMap::new(), |mut m, (_, n)| {
                    *m.entry(n.zone_key()).or_default() += 1;
                    m
                });
        let mut next = None;
        for (zname, z) in &mut self.zones {
            if z.queue.is_empty() || all_full {
                continue;
            }
            let state = z.state.unwrap_or(ZoneState::Normal);
            let rate =
                rules::eviction_rate(state, sizes.get(zname).copied().unwrap_or(0), &self.config);
            if rate <= 0.0 {
                continue;
            }
            let interval = SimDuration::from_secs_f64(1.0 / rate);
            while z.next_allowed <= now {
                let Some(name) = z.queue.pop_front() else {
                    break;
                };
                let Some(id) = ctx.store.nodes.id_of("", &name) else {
                    continue;
                };
                let status = ctx.store.nodes.get(id).map(|n| n.ready).unwrap_or_default();
                let Some(key) = rules::ready_condition_taint(status.as_str()) else {
                    continue;
                };
                Self::set_taint(ctx.store, now, id, key, TaintEffect::NoExecute, true);
                z.next_allowed = now + interval;
            }
            if !z.queue.is_empty() {
                next = Some(next.map_or(z.next_allowed, |n: SimTime| n.min(z.next_allowed)));
            }
        }
        next
    }
}

impl Controller for NodeLifecycle {
    fn name(&self) -> &'static str {
        "node-lifecycle"
    }

    fn on_change(&mut self, change: &Change, _store: &Store, queue: &mut WorkQueue) {
        if change.kind == Kind::Node && change.op == Op::Added {
            queue.add(Key::SINGLETON);
        }
    }

    fn reconcile(&mut self, key: Key, ctx: &mut Ctx<'_>) -> Next {
        let now = ctx.now;
        let pass = self.next_pass(now);
        if pass == now {
            self.monitor(ctx);
        }
        let taint_next = self.taint_pass(ctx);
        let degraded = !self.not_ready.is_empty() || !self.backend.borrow().down_nodes().is_empty();
        let mut next = taint_next;
        if degraded {
            let p = if pass == now {
                now + self.period()
            } else {
                pass
            };
            next = Some(next.map_or(p, |n| n.min(p)));
        }
        if let Some(at) = next {
            ctx.requeue_at(at, key);
        }
        Next::Done
    }
}
