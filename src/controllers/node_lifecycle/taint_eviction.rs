//! Taint-based eviction (pkg/controller/tainteviction/taint_eviction.go): when a node
//! carries NoExecute taints, each pod on it is deleted at once if some taint is not
//! tolerated, or after the smallest `tolerationSeconds` of the tolerations used, or
//! never. Deletions are timers, cancelled in effect when the taint is gone by then.

use super::rules::taint_eviction_time;
use crate::api::taint::TaintEffect;
use crate::api::{Change, Kind, Op, Store};
use crate::controllers::{Controller, Ctx, Key, Next, WorkQueue};
use crate::engine::{SimDuration, SimTime};
use std::collections::BTreeMap;

/// The taint eviction controller.
#[derive(Debug, Default)]
pub struct TaintEviction {
    /// Pod id -> (node id, deletion time) for pods on tainted nodes.
    pending: BTreeMap<u32, SimTime>,
    /// Nodes whose NoExecute taints changed and need their pods re-examined.
    dirty_nodes: Vec<u32>,
}

impl TaintEviction {
    /// A new controller.
    pub fn new() -> Self {
        Self::default()
    }

    fn examine_pod(&mut self, id: u32, ctx: &mut Ctx<'_>) {
        let now = ctx.now;
        let Some(p) = ctx.store.pods.get(id) else {
            self.pending.remove(&id);
            return;
        };
        let Some(node_id) = ctx.store.pod_node(id) else {
            return;
        };
        let Some(node) = ctx.store.nodes.get(node_id) else {
            return;
        };
        if p.meta.deletion.is_some() || p.status.phase.is_terminal() {
            self.pending.remove(&id);
            return;
        }
        match taint_eviction_time(&p.spec.tolerations, &node.taints, 0, false) {
            None => {
                self.pending.remove(&id);
            }
            Some(delay) => {
                let at = now + SimDuration::from_secs(delay.max(0) as u64);
                let at = *self.pending.entry(id).or_insert(at);
                if at <= now {
                    self.pending.remove(&id);
                    let (ns, name) = (p.meta.namespace.clone(), p.meta.name.clone());
                    ctx.store.record_event(
                        now,
                        Kind::Pod,
                        &ns,
                        &name,
                        "TaintManagerEviction",
                        || format!("Marking for deletion Pod {ns}/{name}"),
                    );
                    ctx.store.delete_pod(id, now, None);
                } else {
                    ctx.requeue_at(at, Key::new(Kind::Pod, id));
                }
            }
        }
    }
}

impl Controller for TaintEviction {
    fn name(&self) -> &'static str {
        "taint-eviction"
    }

    fn on_change(&mut self, change: &Change, store: &Store, queue: &mut WorkQueue) {
        match (change.kind, change.op) {
            (Kind::Node, Op::Modified) => {
                let tainted = store
                    .nodes
                    .get(change.id)
                    .is_some_and(|n| n.taints.iter().any(|t| t.effect == TaintEffect::NoExecute));
                let had_pending = store
                    .pods_on_node(change.id)
                    .any(|p| self.pending.contains_key(&p));
                if tainted || had_pending {
                    self.dirty_nodes.push(change.id);
                    queue.add(Key::SINGLETON);
                }
            }
            (Kind::Pod, Op::Deleted) => {
                self.pending.remove(&change.id);
            }
            (Kind::Pod, _) => {
                if let Some(n) = store.pod_node(change.id)
                    && store.nodes.get(n).is_some_and(|n| {
                        n.taints.iter().any(|t| t.effect == TaintEffect::NoExecute)
                    })
                    && !self.pending.contains_key(&change.id)
                {
                    queue.add(Key::new(Kind::Pod, change.id));
                }
            }
            _ => {}
        }
    }

    fn reconcile(&mut self, key: Key, ctx: &mut Ctx<'_>) -> Next {
        if key == Key::SINGLETON {
            let nodes = std::mem::take(&mut self.dirty_nodes);
            for n in nodes {
                let pods: Vec<u32> = ctx.store.pods_on_node(n).collect();
                for p in pods {
                    // A taint change restarts the clock (upstream cancels and re-adds the work).
                    self.pending.remove(&p);
                    self.examine_pod(p, ctx);
                }
            }
        } else {
            self.examine_pod(key.id, ctx);
        }
        Next::Done
    }
}
