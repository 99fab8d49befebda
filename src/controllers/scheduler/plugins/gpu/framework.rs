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

use super::frag::{TypicalPods, node_frag};
use super::model::{
    GPU_COUNT_RESOURCE, GPU_INDEX_ANNOTATION, GPU_MILLI_RESOURCE, GpuNode, GpuRequest, MAX_GPUS,
    best_fit_gpus, fits,
};
use super::score::{self, Policy};
use crate::api::{Node, Pod, Store};
use crate::controllers::scheduler::profile::{FilterPlugin, Registry, ScorePlugin};

/// The Filter plugin's name.
pub const GPU_SHARE: &str = "GpuShare";

fn ext(list: &[(String, i64)], name: &str) -> i64 {
    list.iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| *v)
        .unwrap_or(0)
}

/// A pod's request as the GPU plugins see it (no model constraint: see the module doc).
pub fn pod_request(pod: &Pod) -> GpuRequest {
    let n = ext(&pod.requests.extended, GPU_COUNT_RESOURCE).clamp(0, u8::MAX as i64) as u8;
    let milli = ext(&pod.requests.extended, GPU_MILLI_RESOURCE).clamp(0, 1000) as i32;
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

/// The `GpuShare` Filter plugin.
#[derive(Debug, Default)]
pub struct GpuShareFilter;

impl FilterPlugin for GpuShareFilter {
    fn name(&self) -> &str {
        GPU_SHARE
    }

    fn filter(&self, pod: &Pod, node: &Node, store: &Store) -> Result<(), Vec<String>> {
        let req = pod_request(pod);
        if req.num_gpu == 0 {
            return Ok(());
        }
        if fits(&node_state(node, store), &req) {
            Ok(())
        } else {
            Err(vec!["Insufficient GPU".to_string()])
        }
    }
}

/// One GPU Score plugin.
#[derive(Debug, Clone)]
pub struct GpuScore {
    /// The policy.
    pub policy: Policy,
    /// The typical pods FGD measures fragmentation against.
    pub typical: TypicalPods,
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

    fn normalize(&self, _pod: &Pod, scores: &mut [i64]) {
        if self.policy.normalizes() {
            score::normalize(scores);
        }
    }
}

/// A registry with the `GpuShare` filter and every GPU Score plugin but Random (whose
/// choice is a PreScore step the plugin traits do not have).
pub fn registry(typical: &TypicalPods) -> Registry {
    Registry {
        filters: vec![Box::new(GpuShareFilter)],
        scores: Policy::ALL
            .into_iter()
            .filter(|p| *p != Policy::Random)
            .map(|policy| {
                Box::new(GpuScore {
                    policy,
                    typical: typical.clone(),
                }) as Box<dyn ScorePlugin>
            })
            .collect(),
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
        assert!(GpuShareFilter.filter(&probe, &node, &store).is_err());
        let fgd = GpuScore {
            policy: Policy::Fgd,
            typical: TypicalPods::default(),
        };
        assert_eq!(fgd.name(), "FGDScore");
        let _ = fgd.score(&probe, &node, &store);
        assert_eq!(registry(&TypicalPods::default()).scores.len(), 5);
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
        let bad = text.replace("FGDScore", "RandomScore");
        assert!(
            crate::controllers::scheduler::config::parse_for_registry("s.yaml", &bad, &reg)
                .is_err()
        );
    }
}
