//! The GPU plugins as out-of-tree scheduler plugins ([`FilterPlugin`], [`ScorePlugin`]),
//! so a profile of kubetwin's scheduler can enable them by name
//! (`GpuShare`, `DotProductScore`, `GpuClusteringScore`, `GpuPackingScore`,
//! `BestFitScore`, `FGDScore`) through [`registry`].
//!
//! The GPU state of a node is derived from the store: its `alibabacloud.com/gpu-count`,
//! the CPU and memory left by its non-terminal pods, and their GPU indices: the
//! `alibabacloud.com/gpu-index` annotation when a pod carries one, otherwise the best-fit
//! GPUs replayed in bind (id) order, which is what the Reserve plugin would have picked.
//! Released GPUs follow from the pod leaving the node. GPU-model constraints are left to
//! the NodeAffinity filter (the openb mapping writes them as a node affinity `In`).

use super::cache::GpuStateCache;
use super::frag::{TypicalPods, node_frag};
use super::model::{
    GPU_COUNT_RESOURCE, GPU_INDEX_ANNOTATION, GPU_MILLI_RESOURCE, GpuNode, GpuRequest, MAX_GPUS,
    best_fit_gpus, fits, mask_to_indices, random_fit_gpus,
};
use super::score::{self, Policy};
use crate::api::{Node, Pod, Store};
use crate::controllers::scheduler::profile::{FilterPlugin, Profile, Registry, ScorePlugin};
use crate::engine::rng::{RngStreams, SimRng, below};
use std::cell::RefCell;
use std::rc::Rc;

/// The Filter plugin's name.
pub const GPU_SHARE: &str = "GpuShare";

fn ext(list: &[(String, i64)], name: &str) -> i64 {
    list.iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| *v)
        .unwrap_or(0)
}

/// A pod's GPU quantity `name`: its extended-resource request, else its annotation of
/// that name (the GPU-share convention that keeps shares out of the kubelet's and
/// NodeResourcesFit's extended-resource accounting, where one share would count as one
/// whole `gpu-count`); 0 when absent or not an integer.
fn pod_gpu(pod: &Pod, name: &str) -> i64 {
    match ext(&pod.requests.extended, name) {
        0 => pod
            .meta
            .annotations
            .get(name)
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0),
        v => v,
    }
}

/// A pod's request as the GPU plugins see it (no model constraint: see the module doc).
pub fn pod_request(pod: &Pod) -> GpuRequest {
    let n = pod_gpu(pod, GPU_COUNT_RESOURCE).clamp(0, u8::MAX as i64) as u8;
    let milli = pod_gpu(pod, GPU_MILLI_RESOURCE).clamp(0, 1000) as i32;
    GpuRequest {
        cpu_milli: pod.requests.cpu_milli,
        memory_mib: pod.requests.memory / (1024 * 1024),
        num_gpu: if milli == 0 { 0 } else { n },
        gpu_milli: if n == 0 { 0 } else { milli },
        allowed: 0,
    }
}

fn parse_indices(s: &str, gpus: u8) -> Option<u32> {
    let mut mask = 0u32;
    for part in s.split('-') {
        let i: u8 = part.trim().parse().ok()?;
        if i >= gpus {
            return None;
        }
        mask |= 1 << i;
    }
    Some(mask)
}

/// The GPU state of `node` from the pods bound to it.
pub fn node_state(node: &Node, store: &Store) -> GpuNode {
    let gpus = ext(&node.allocatable.extended, GPU_COUNT_RESOURCE).clamp(0, MAX_GPUS as i64) as u8;
    let mut state = GpuNode::new(
        if gpus > 0 { 1 } else { 0 },
        gpus,
        node.allocatable.cpu_milli,
        node.allocatable.memory / (1024 * 1024),
    );
    let Some(id) = store.nodes.id_of("", &node.meta.name) else {
        return state;
    };
    for pid in store.pods_on_node(id) {
        let Some(p) = store.pods.get(pid) else {
            continue;
        };
        if !p.is_active() {
            continue;
        }
        let req = pod_request(p);
        let mask = if req.num_gpu == 0 {
            0
        } else {
            p.meta
                .annotations
                .get(GPU_INDEX_ANNOTATION)
                .and_then(|s| parse_indices(s, gpus))
                .unwrap_or_else(|| best_fit_gpus(&state, &req))
        };
        state.bind(&req, mask);
    }
    state
}

/// The `GpuShare` Filter plugin, with its Reserve step: the GPU indices it picks on the
/// chosen node go in the pod's `alibabacloud.com/gpu-index` annotation at binding (FGD's
/// own choice when the profile enables `FGDScore`, else the best-fit GPUs), and are freed
/// when the pod stops counting on the node (see [`node_state`]).
#[derive(Debug, Clone)]
pub struct GpuShareFilter {
    /// The typical pods FGD's GPU choice measures fragmentation against.
    pub typical: TypicalPods,
    /// The per-node GPU state, shared with the GPU Score plugins of the same registry.
    pub cache: Rc<GpuStateCache>,
    /// The random GPU choice's stream (profiles enabling `RandomScore`).
    pub rng: Rc<RefCell<SimRng>>,
}

impl Default for GpuShareFilter {
    fn default() -> Self {
        GpuShareFilter {
            typical: TypicalPods::default(),
            cache: Rc::default(),
            rng: Rc::new(RefCell::new(
                RngStreams::new(0).stream("scheduler/random-gpu"),
            )),
        }
    }
}

impl GpuShareFilter {
    /// The GPUs (a bit mask) the Reserve step takes for `req` on `state`.
    pub fn select(&self, state: &GpuNode, req: &GpuRequest, fgd: bool) -> u32 {
        if fgd {
            let before = node_frag(state, &self.typical);
            let chosen = score::fgd(state, req, &self.typical, before).gpus;
            if chosen != 0 {
                return chosen;
            }
        }
        best_fit_gpus(state, req)
    }
}

impl FilterPlugin for GpuShareFilter {
    fn name(&self) -> &str {
        GPU_SHARE
    }

    fn filter(&self, pod: &Pod, node: &Node, store: &Store) -> Result<(), Vec<String>> {
        // CPU and memory too (upstream GpuSharePlugin.Filter), so a profile can disable
        // NodeResourcesFit's Filter, which would count `gpu-count` per pod as a plain
        // extended resource (one GPU share taking a whole GPU).
        check(&node_state(node, store), &pod_request(pod))
    }

    fn filter_node(
        &self,
        pod: &Pod,
        node_id: u32,
        node: &Node,
        store: &Store,
    ) -> Result<(), Vec<String>> {
        let (req, _) = self.cache.request(pod);
        // The common case reads the cached entry in place; only a failure copies the
        // state to name the reasons.
        if self.cache.fits(node_id, node, store, &req) {
            return Ok(());
        }
        check(&self.cache.state(node_id, node, store), &req)
    }

    fn reserve(
        &self,
        pod: &Pod,
        node: &Node,
        store: &Store,
        profile: &Profile,
    ) -> Vec<(String, String)> {
        let req = pod_request(pod);
        if req.num_gpu == 0 || pod.meta.annotations.contains_key(GPU_INDEX_ANNOTATION) {
            return Vec::new();
        }
        let fgd = profile.score_weight(Policy::Fgd.plugin_name()) > 0;
        if profile.score_weight(Policy::Random.plugin_name()) > 0 && !fgd {
            let state = match store.nodes.id_of("", &node.meta.name) {
                Some(id) => self.cache.state(id, node, store),
                None => node_state(node, store),
            };
            let mask = random_fit_gpus(&state, &req, &mut self.rng.borrow_mut());
            if mask == 0 {
                return Vec::new();
            }
            return vec![(GPU_INDEX_ANNOTATION.to_string(), mask_to_indices(mask))];
        }
        let mask = match store.nodes.id_of("", &node.meta.name) {
            Some(id) => {
                let (_, shape) = self.cache.request(pod);
                let chosen = if fgd {
                    self.cache
                        .fgd(id, node, store, &req, shape, &self.typical)
                        .gpus
                } else {
                    0
                };
                if chosen != 0 {
                    chosen
                } else {
                    best_fit_gpus(&self.cache.state(id, node, store), &req)
                }
            }
            None => self.select(&node_state(node, store), &req, fgd),
        };
        if mask == 0 {
            return Vec::new();
        }
        vec![(GPU_INDEX_ANNOTATION.to_string(), mask_to_indices(mask))]
    }
}

/// Whether `state` can run `req`, else the failure reasons.
fn check(state: &GpuNode, req: &GpuRequest) -> Result<(), Vec<String>> {
    if fits(state, req) {
        return Ok(());
    }
    let mut reasons = Vec::new();
    if state.cpu_left < req.cpu_milli {
        reasons.push("Insufficient cpu".to_string());
    }
    if state.memory_left < req.memory_mib {
        reasons.push("Insufficient memory".to_string());
    }
    if reasons.is_empty() {
        reasons.push("Insufficient GPU".to_string());
    }
    Err(reasons)
}

/// One GPU Score plugin.
#[derive(Debug, Clone)]
pub struct GpuScore {
    /// The policy.
    pub policy: Policy,
    /// The typical pods FGD measures fragmentation against.
    pub typical: TypicalPods,
    /// The per-node GPU state, shared with the registry's `GpuShare` filter.
    pub cache: Rc<GpuStateCache>,
}

impl ScorePlugin for GpuScore {
    fn name(&self) -> &str {
        self.policy.plugin_name()
    }

    fn score(&self, pod: &Pod, node: &Node, store: &Store) -> i64 {
        let state = node_state(node, store);
        let req = pod_request(pod);
        let before = if self.policy == Policy::Fgd {
            node_frag(&state, &self.typical)
        } else {
            0.0
        };
        score::score(self.policy, &state, &req, &self.typical, before)
            .score
            .clamp(0, score::MAX_NODE_SCORE)
    }

    fn score_node(&self, pod: &Pod, node_id: u32, node: &Node, store: &Store) -> i64 {
        let (req, shape) = self.cache.request(pod);
        let out = if self.policy == Policy::Fgd {
            self.cache
                .fgd(node_id, node, store, &req, shape, &self.typical)
        } else {
            let state = self.cache.state(node_id, node, store);
            score::score(self.policy, &state, &req, &self.typical, 0.0)
        };
        out.score.clamp(0, score::MAX_NODE_SCORE)
    }

    fn normalize(&self, _pod: &Pod, scores: &mut [i64]) {
        if self.policy.normalizes() {
            score::normalize(scores);
        }
    }
}

/// The typical-pod distribution of `pods` (their CPU, milli-GPU and GPU-count shapes; the
/// GPU-model constraint is left to NodeAffinity, see the module doc). `kubetwin run`
/// passes the scenario's pods present at time zero; with none, the distribution is empty,
/// FGD scores every node alike and its GPU choice falls back to best fit.
pub fn typical_of_pods<'a>(pods: impl IntoIterator<Item = &'a Pod>) -> TypicalPods {
    let reqs: Vec<GpuRequest> = pods.into_iter().map(pod_request).collect();
    TypicalPods::from_pods(reqs.iter().map(|r| {
        (
            super::frag::ShapeKey {
                cpu_milli: r.cpu_milli,
                gpu_milli: r.gpu_milli,
                num_gpu: r.num_gpu,
                spec: 0,
            },
            r,
        )
    }))
}

/// Loads and validates a `KubeSchedulerConfiguration` file accepting the built-in plugins
/// and the GPU plugins of [`registry`] by name (an unknown name is still an input error
/// naming file, line and field).
pub fn load_config(
    path: &std::path::Path,
) -> Result<crate::controllers::scheduler::config::SchedulerSettings, crate::error::Error> {
    let text = std::fs::read_to_string(path).map_err(|e| crate::error::Error::io(path, e))?;
    Ok(crate::controllers::scheduler::config::parse_for_registry(
        &path.display().to_string(),
        &text,
        &registry(&TypicalPods::default()),
    )?)
}

/// A registry with the `GpuShare` filter and every GPU Score plugin, `RandomScore`'s
/// draws from fixed streams (for validating configurations; runs use
/// [`registry_with_streams`]).
pub fn registry(typical: &TypicalPods) -> Registry {
    registry_with_streams(typical, &RngStreams::new(0))
}

/// A registry with the `GpuShare` filter and every GPU Score plugin; `RandomScore`'s node
/// choice draws from the run's stream `scheduler/random-score`, the GPU inside the node
/// (its Reserve step) from `scheduler/random-gpu`.
pub fn registry_with_streams(typical: &TypicalPods, streams: &RngStreams) -> Registry {
    let cache = Rc::new(GpuStateCache::new());
    let mut scores: Vec<Box<dyn ScorePlugin>> = vec![Box::new(RandomScore {
        rng: RefCell::new(streams.stream("scheduler/random-score")),
    })];
    scores.extend(
        Policy::ALL
            .into_iter()
            .filter(|p| *p != Policy::Random)
            .map(|policy| {
                Box::new(GpuScore {
                    policy,
                    typical: typical.clone(),
                    cache: cache.clone(),
                }) as Box<dyn ScorePlugin>
            }),
    );
    Registry {
        filters: vec![Box::new(GpuShareFilter {
            typical: typical.clone(),
            cache: cache.clone(),
            rng: Rc::new(RefCell::new(streams.stream("scheduler/random-gpu"))),
        })],
        scores,
    }
}

/// `RandomScore` (the artifact's `random_score.go`): one uniformly random feasible node
/// gets the maximum score and every other node 0. The artifact draws it in PreScore;
/// kubetwin draws it in NormalizeScore, which sees the same feasible nodes (in the
/// scheduler's node order). A single feasible node is chosen without scoring, as
/// upstream. The GPU inside the node is a random fitting one (the Reserve step).
#[derive(Debug)]
pub struct RandomScore {
    /// The node draw's stream.
    pub rng: RefCell<SimRng>,
}

impl ScorePlugin for RandomScore {
    fn name(&self) -> &str {
        Policy::Random.plugin_name()
    }

    fn score(&self, _pod: &Pod, _node: &Node, _store: &Store) -> i64 {
        0
    }

    fn normalize(&self, _pod: &Pod, scores: &mut [i64]) {
        if scores.is_empty() {
            return;
        }
        let k = below(&mut self.rng.borrow_mut(), scores.len() as u64) as usize;
        scores.iter_mut().for_each(|s| *s = 0);
        scores[k] = score::MAX_NODE_SCORE;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Object;
    use crate::api::manifest::load_str;
    use crate::engine::rng::RngStreams;
    use crate::engine::time::SimTime;
    use crate::workload::traces::openb::{OpenbNode, OpenbPod, node_manifest, pod_manifest};

    fn pod(name: &str, n: u8, milli: i32, node: &str) -> String {
        let p = OpenbPod {
            name: name.into(),
            cpu_milli: 1000,
            memory_mib: 1024,
            num_gpu: n,
            gpu_milli: milli,
            gpu_spec: vec![],
            gpu_spec_text: String::new(),
            line: 1,
        };
        pod_manifest(&p).replace("spec:\n", &format!("spec:\n  nodeName: {node}\n"))
    }

    #[test]
    fn node_state_replays_bound_pods_and_the_filter_uses_it() {
        let n = OpenbNode {
            name: "n0".into(),
            cpu_milli: 8000,
            memory_mib: 65536,
            gpus: 2,
            model: "T4".into(),
        };
        let yaml = [
            node_manifest(&n),
            pod("a", 1, 600, "n0"),
            pod("b", 1, 1000, "n0"),
        ]
        .join("---\n");
        let mut store = Store::new(RngStreams::new(1).stream("names"), false);
        let loaded = load_str(&yaml, "t.yaml", 1).unwrap();
        let mut node = None;
        let mut probe = None;
        for l in loaded.objects {
            if let Object::Node(nd) = &l.object {
                node = Some((**nd).clone());
            }
            store.create(l.object, SimTime::from_secs(1)).unwrap();
        }
        let node = node.unwrap();
        let s = node_state(&node, &store);
        assert_eq!(s.left(), &[400, 0], "share on GPU 0, whole GPU on GPU 1");
        assert_eq!(s.cpu_left, 6000);
        let loaded = load_str(&pod("c", 1, 500, ""), "c.yaml", 1).unwrap();
        if let Object::Pod(p) = &loaded.objects[0].object {
            probe = Some((**p).clone());
        }
        let probe = probe.unwrap();
        assert!(
            GpuShareFilter::default()
                .filter(&probe, &node, &store)
                .is_err()
        );
        let fgd = GpuScore {
            policy: Policy::Fgd,
            typical: TypicalPods::default(),
            cache: Rc::default(),
        };
        assert_eq!(fgd.name(), "FGDScore");
        let _ = fgd.score(&probe, &node, &store);
        assert_eq!(registry(&TypicalPods::default()).scores.len(), 6);
    }

    #[test]
    fn a_scheduler_configuration_enables_the_gpu_plugins_alone() {
        // The paper's setup: percentageOfNodesToScore 100, the GPU filter, FGD alone.
        let text = "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\npercentageOfNodesToScore: 100\nprofiles:\n- schedulerName: default-scheduler\n  plugins:\n    filter:\n      enabled: [{name: GpuShare}]\n    score:\n      disabled: [{name: '*'}]\n      enabled: [{name: FGDScore, weight: 1}]\n";
        let reg = registry(&TypicalPods::default());
        let s = crate::controllers::scheduler::config::parse_for_registry("s.yaml", text, &reg)
            .unwrap_or_else(|e| panic!("{e}"));
        let p = &s.profiles[0];
        assert!(p.filter_enabled(GPU_SHARE));
        assert_eq!(p.score_weight("FGDScore"), 1);
        assert_eq!(p.score_weight("NodeResourcesFit"), 0);
        let bad = text.replace("FGDScore", "NoSuchScore");
        assert!(
            crate::controllers::scheduler::config::parse_for_registry("s.yaml", &bad, &reg)
                .is_err()
        );
    }
}

#[cfg(test)]
mod random_tests {
    use super::*;

    #[test]
    fn random_score_gives_one_node_the_maximum() {
        let reg = registry_with_streams(&TypicalPods::default(), &RngStreams::new(3));
        let r = reg
            .scores
            .iter()
            .find(|s| s.name() == "RandomScore")
            .unwrap();
        let yaml = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - {name: c, image: i}\n";
        let crate::api::Object::Pod(pod) = crate::api::manifest::load_str(yaml, "p.yaml", 1)
            .unwrap()
            .objects
            .remove(0)
            .object
        else {
            panic!("not a pod")
        };
        let mut picks = std::collections::BTreeSet::new();
        for _ in 0..50 {
            let mut scores = vec![7i64; 5];
            r.normalize(&pod, &mut scores);
            assert_eq!(scores.iter().filter(|&&s| s == 100).count(), 1);
            assert_eq!(scores.iter().filter(|&&s| s == 0).count(), 4);
            picks.insert(scores.iter().position(|&s| s == 100).unwrap());
        }
        assert!(picks.len() > 1, "draws vary: {picks:?}");
        // The same streams draw the same nodes.
        let again = registry_with_streams(&TypicalPods::default(), &RngStreams::new(3));
        let r2 = again
            .scores
            .iter()
            .find(|s| s.name() == "RandomScore")
            .unwrap();
        let (mut a, mut b) = (vec![0i64; 9], vec![0i64; 9]);
        let fresh = registry_with_streams(&TypicalPods::default(), &RngStreams::new(3));
        let r3 = fresh
            .scores
            .iter()
            .find(|s| s.name() == "RandomScore")
            .unwrap();
        r2.normalize(&pod, &mut a);
        r3.normalize(&pod, &mut b);
        assert_eq!(a, b);
    }
}
