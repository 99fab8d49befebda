//! The GPU plugins' per-node state cache in `kubetwin run`: one [`GpuNode`] per node id
//! (free CPU, memory and milli per GPU index), shared by the `GpuShare` filter, its
//! Reserve step and the GPU Score plugins, so a Filter or Score call costs O(GPUs on the
//! node) instead of a walk over the node's pods.
//!
//! An entry is valid while the store's [`Store::node_stamp`] of the node (bumped on every
//! bind, update and removal of a pod on it) and the node's allocatable CPU, memory and
//! GPU count are unchanged; otherwise it is rebuilt once from the node's pods with
//! [`node_state`], so it always equals that recomputation (a property test checks it
//! over random bind/delete sequences). On top, FGD's fragmentation of the node before a
//! placement and its score per request shape are memoised per entry: they depend only
//! on the node state and the request.
//!
//! A cache belongs to one run (one store): stamps of two stores are not comparable.

use super::frag::{TypicalPods, node_frag};
use super::framework::{node_state, pod_request};
use super::model::{GPU_COUNT_RESOURCE, GpuNode, GpuRequest, MAX_GPUS};
use super::score::{self, ScoreOutcome};
use crate::api::{Node, Pod, Store};
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;

/// The fields of a node the state is derived from besides its pods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct NodeKey {
    gpus: u8,
    cpu_milli: i64,
    memory: i64,
}

fn node_key(node: &Node) -> NodeKey {
    let gpus = node
        .allocatable
        .extended
        .iter()
        .find(|(n, _)| n == GPU_COUNT_RESOURCE)
        .map_or(0, |(_, v)| *v)
        .clamp(0, MAX_GPUS as i64) as u8;
    NodeKey {
        gpus,
        cpu_milli: node.allocatable.cpu_milli,
        memory: node.allocatable.memory,
    }
}

#[derive(Debug, Clone)]
struct Entry {
    /// The store's node stamp the entry was built at (0: never built).
    stamp: u64,
    key: NodeKey,
    /// The Node's resourceVersion `key` was last checked at: the store's versions are
    /// unique, so an unchanged version means an unchanged key (no scan of the node's
    /// extended resources); a changed one only re-checks the key.
    node_rv: u64,
    state: GpuNode,
    /// `node_frag(state)`, once computed.
    frag: Option<f64>,
    /// FGD outcomes per request shape index (`None`: not computed).
    fgd: Vec<Option<ScoreOutcome>>,
}

impl Default for Entry {
    fn default() -> Self {
        Entry {
            stamp: 0,
            key: NodeKey::default(),
            node_rv: 0,
            state: GpuNode::new(0, 0, 0, 0),
            frag: None,
            fgd: Vec::new(),
        }
    }
}

/// The request a pod's GPU plugins see, with the index of its shape.
type PodKey = (u64, u64);

/// The per-node GPU state cache (see the module doc).
#[derive(Debug, Default)]
pub struct GpuStateCache {
    entries: RefCell<Vec<Entry>>,
    shapes: RefCell<BTreeMap<(i64, i64, u8, i32), usize>>,
    last_pod: Cell<Option<(PodKey, GpuRequest, usize)>>,
    rebuilds: Cell<u64>,
}

impl GpuStateCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many times an entry was (re)built from a node's pods.
    pub fn rebuilds(&self) -> u64 {
        self.rebuilds.get()
    }

    /// `pod`'s GPU request and its shape index, parsed once per pod version.
    pub fn request(&self, pod: &Pod) -> (GpuRequest, usize) {
        let key = (pod.meta.uid.0, pod.meta.resource_version);
        if let Some((k, r, s)) = self.last_pod.get()
            && k == key
        {
            return (r, s);
        }
        let r = pod_request(pod);
        let mut shapes = self.shapes.borrow_mut();
        let n = shapes.len();
        let s = *shapes
            .entry((r.cpu_milli, r.memory_mib, r.num_gpu, r.gpu_milli))
            .or_insert(n);
        self.last_pod.set(Some((key, r, s)));
        (r, s)
    }

    fn with<R>(
        &self,
        node_id: u32,
        node: &Node,
        store: &Store,
        f: impl FnOnce(&mut Entry) -> R,
    ) -> R {
        let mut entries = self.entries.borrow_mut();
        let i = node_id as usize;
        if entries.len() <= i {
            entries.resize_with(i + 1, Entry::default);
        }
        let e = &mut entries[i];
        let stamp = store.node_stamp(node_id);
        let rv = node.meta.resource_version;
        let fresh = e.stamp != 0 && e.stamp == stamp && {
            if e.node_rv != rv {
                if e.key != node_key(node) {
                    false
                } else {
                    e.node_rv = rv;
                    true
                }
            } else {
                true
            }
        };
        if !fresh {
            self.rebuilds.set(self.rebuilds.get() + 1);
            e.stamp = stamp.max(1);
            e.key = node_key(node);
            e.node_rv = rv;
            e.state = node_state(node, store);
            e.frag = None;
            e.fgd.iter_mut().for_each(|o| *o = None);
        }
        f(e)
    }

    /// The GPU state of node `node_id` (equal to [`node_state`]).
    pub fn state(&self, node_id: u32, node: &Node, store: &Store) -> GpuNode {
        self.with(node_id, node, store, |e| e.state)
    }

    /// Whether `req` fits node `node_id`'s state (no copy of the state).
    pub fn fits(&self, node_id: u32, node: &Node, store: &Store, req: &GpuRequest) -> bool {
        self.with(node_id, node, store, |e| super::model::fits(&e.state, req))
    }

    /// The node's state and its fragmentation against `typical` (memoised).
    pub fn state_and_frag(
        &self,
        node_id: u32,
        node: &Node,
        store: &Store,
        typical: &TypicalPods,
    ) -> (GpuNode, f64) {
        self.with(node_id, node, store, |e| {
            let frag = *e.frag.get_or_insert_with(|| node_frag(&e.state, typical));
            (e.state, frag)
        })
    }

    /// FGD's outcome for a request of shape index `shape` on the node (memoised per node
    /// state and shape).
    pub fn fgd(
        &self,
        node_id: u32,
        node: &Node,
        store: &Store,
        req: &GpuRequest,
        shape: usize,
        typical: &TypicalPods,
    ) -> ScoreOutcome {
        self.with(node_id, node, store, |e| {
            if let Some(Some(o)) = e.fgd.get(shape) {
                return *o;
            }
            let before = *e.frag.get_or_insert_with(|| node_frag(&e.state, typical));
            let o = score::fgd(&e.state, req, typical, before);
            if e.fgd.len() <= shape {
                e.fgd.resize(shape + 1, None);
            }
            e.fgd[shape] = Some(o);
            o
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Object;
    use crate::api::manifest::load_str;
    use crate::api::objects::PodPhase;
    use crate::controllers::scheduler::plugins::gpu::GPU_INDEX_ANNOTATION;
    use crate::engine::rng::RngStreams;
    use crate::engine::time::SimTime;
    use crate::workload::traces::openb::{OpenbNode, OpenbPod, node_manifest, pod_manifest};

    /// One step of a random sequence on two nodes.
    #[derive(Debug, Clone)]
    enum Op {
        /// Bind a new pod (GPUs, milli per GPU, node, GPU indices annotated by Reserve).
        Bind(u8, i32, bool, Option<u8>),
        /// Delete the k-th existing pod.
        Delete(usize),
        /// The k-th existing pod terminates.
        Finish(usize),
        /// The k-th existing pod gets a deletion timestamp (graceful deletion).
        Terminate(usize),
    }

    fn op() -> impl proptest::strategy::Strategy<Value = Op> {
        use proptest::prelude::*;
        prop_oneof![
            4 => (0u8..3, 1i32..=1000, any::<bool>(), proptest::option::of(0u8..4))
                .prop_map(|(n, m, b, i)| Op::Bind(n, m, b, i)),
            2 => (0usize..16).prop_map(Op::Delete),
            1 => (0usize..16).prop_map(Op::Finish),
            1 => (0usize..16).prop_map(Op::Terminate),
        ]
    }

    fn object(yaml: &str) -> Object {
        load_str(yaml, "t.yaml", 1)
            .unwrap_or_else(|e| panic!("{e}\n{yaml}"))
            .objects
            .remove(0)
            .object
    }

    proptest::proptest! {
        /// After any sequence of binds, deletions, terminations and graceful deletions,
        /// with the cache read between the steps, every node's cached GPU state equals
        /// the state recomputed from its pods.
        #[test]
        fn cached_state_equals_recomputation(ops in proptest::collection::vec(op(), 1..40)) {
            let mut store = Store::new(RngStreams::new(1).stream("names"), false);
            let mut nodes = Vec::new();
            for (i, gpus) in [4u8, 2].into_iter().enumerate() {
                let n = OpenbNode {
                    name: format!("n{i}"),
                    cpu_milli: 64_000,
                    memory_mib: 1 << 20,
                    gpus,
                    model: "T4".into(),
                };
                let (_, id) = store.create(object(&node_manifest(&n)), SimTime::ZERO).unwrap();
                nodes.push(id);
            }
            let cache = GpuStateCache::new();
            let mut pods: Vec<u32> = Vec::new();
            let check = |store: &Store| -> Result<(), proptest::test_runner::TestCaseError> {
                for &id in &nodes {
                    let node = store.nodes.get(id).unwrap();
                    proptest::prop_assert_eq!(
                        cache.state(id, node, store),
                        node_state(node, store)
                    );
                }
                Ok(())
            };
            for (k, op) in ops.into_iter().enumerate() {
                let now = SimTime::from_secs(k as u64 + 1);
                match op {
                    Op::Bind(n, milli, second, index) => {
                        let p = OpenbPod {
                            name: format!("p{k}"),
                            cpu_milli: 1000,
                            memory_mib: 1024,
                            num_gpu: n,
                            gpu_milli: if n > 1 { 1000 } else { milli },
                            gpu_spec: vec![],
                            gpu_spec_text: String::new(),
                            line: 1,
                        };
                        let node = if second { "n1" } else { "n0" };
                        let mut yaml = pod_manifest(&p)
                            .replace("spec:\n", &format!("spec:\n  nodeName: {node}\n"));
                        if let Some(i) = index.filter(|_| n == 1) {
                            yaml = yaml.replace(
                                "metadata:\n",
                                &format!("metadata:\n  annotations:\n    {GPU_INDEX_ANNOTATION}: '{i}'\n"),
                            );
                        }
                        let (_, id) = store.create(object(&yaml), now).unwrap();
                        pods.push(id);
                    }
                    Op::Delete(i) if !pods.is_empty() => {
                        let id = pods.remove(i % pods.len());
                        store.remove_pod(id, now);
                    }
                    Op::Finish(i) if !pods.is_empty() => {
                        let id = pods[i % pods.len()];
                        store.update_pod(id, now, |p| p.status.phase = PodPhase::Succeeded);
                    }
                    Op::Terminate(i) if !pods.is_empty() => {
                        let id = pods[i % pods.len()];
                        store.update_pod(id, now, |p| p.meta.deletion = Some(now));
                    }
                    _ => {}
                }
                check(&store)?;
            }
        }
    }

    #[test]
    fn an_entry_is_rebuilt_only_when_its_node_changes() {
        let mut store = Store::new(RngStreams::new(1).stream("names"), false);
        let n = OpenbNode {
            name: "n0".into(),
            cpu_milli: 8000,
            memory_mib: 1 << 16,
            gpus: 2,
            model: "T4".into(),
        };
        let (_, id) = store
            .create(object(&node_manifest(&n)), SimTime::ZERO)
            .unwrap();
        let cache = GpuStateCache::new();
        let node = store.nodes.get(id).unwrap().clone();
        cache.state(id, &node, &store);
        cache.state(id, &node, &store);
        assert_eq!(cache.rebuilds(), 1);
        let p = OpenbPod {
            name: "p".into(),
            cpu_milli: 1000,
            memory_mib: 1024,
            num_gpu: 1,
            gpu_milli: 500,
            gpu_spec: vec![],
            gpu_spec_text: String::new(),
            line: 1,
        };
        let yaml = pod_manifest(&p).replace("spec:\n", "spec:\n  nodeName: n0\n");
        store.create(object(&yaml), SimTime::ZERO).unwrap();
        assert_eq!(cache.state(id, &node, &store).left(), &[500, 1000]);
        assert_eq!(cache.rebuilds(), 2);
    }
}
