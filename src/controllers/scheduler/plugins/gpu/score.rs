//! The six GPU Score plugins of the ATC'23 study and the GPU each one picks inside the
//! chosen node.
//!
//! Restated from `hkust-adsl/kubernetes-scheduler-simulator` `pkg/simulator/plugin/`:
//! `random_score.go`, `dot_product_score.go` (with `pkg/utils/utils.go`
//! `GenerateSchedulingMatchGroups`, merged GPU dimension, max-spec normalisation),
//! `gpu_clustering_score.go`, `gpu_packing_score.go`, `best_fit_score.go` (with
//! `plugin_utils.go` `NormalizeScore`) and `fgd_score.go`. The GPU selection per policy is
//! the artifact's experiment setup (`experiments/run_scripts/generate_run_scripts.py` and
//! `scripts/generate_config_and_run.py`): Random picks a random GPU, FGD its own best
//! GPU, every other policy the best-fit GPU.

use super::frag::{TypicalPods, node_frag};
use super::model::{GpuNode, GpuRequest, MILLI, best_fit_gpus, exclusive_gpus, random_fit_gpus};
use crate::engine::rng::SimRng;

/// The framework's highest node score.
pub const MAX_NODE_SCORE: i64 = 100;
/// BestFit and GpuClustering's CPU normalisation (millicores).
pub const MAX_SPEC_CPU: i64 = 128_000;
/// BestFit and GpuClustering's GPU normalisation (milli-GPU: 8 GPUs).
pub const MAX_SPEC_GPU: i64 = 8_000;

/// A GPU scheduling policy (one Score plugin, used alone).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Policy {
    /// One random feasible node; a random GPU inside it.
    Random,
    /// Tetris-style dot product of free and requested resources.
    DotProd,
    /// Nodes whose GPU pods have the pod's request shape.
    GpuClustering,
    /// Partly used GPU, then a free GPU on a used node, then an empty node.
    GpuPacking,
    /// Least remaining CPU and GPU.
    BestFit,
    /// Fragmentation gradient descent.
    Fgd,
}

impl Policy {
    /// Every policy, in the paper's order.
    pub const ALL: [Policy; 6] = [
        Policy::Random,
        Policy::DotProd,
        Policy::GpuClustering,
        Policy::GpuPacking,
        Policy::BestFit,
        Policy::Fgd,
    ];

    /// The policy's name (as in the paper's figures).
    pub fn name(self) -> &'static str {
        match self {
            Policy::Random => "Random",
            Policy::DotProd => "DotProd",
            Policy::GpuClustering => "GpuClustering",
            Policy::GpuPacking => "GpuPacking",
            Policy::BestFit => "BestFit",
            Policy::Fgd => "FGD",
        }
    }

    /// The Score plugin name a `KubeSchedulerConfiguration` enables (the artifact's names).
    pub fn plugin_name(self) -> &'static str {
        match self {
            Policy::Random => "RandomScore",
            Policy::DotProd => "DotProductScore",
            Policy::GpuClustering => "GpuClusteringScore",
            Policy::GpuPacking => "GpuPackingScore",
            Policy::BestFit => "BestFitScore",
            Policy::Fgd => "FGDScore",
        }
    }

    /// Parses a policy name (case-insensitive; the plugin name is accepted too).
    pub fn parse(s: &str) -> Option<Policy> {
        Policy::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(s) || p.plugin_name().eq_ignore_ascii_case(s))
    }

    /// Whether the raw scores are min-max normalised over the feasible nodes.
    pub fn normalizes(self) -> bool {
        self == Policy::BestFit
    }
}

/// A node's raw score and, when the plugin decides it, the GPUs it would use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScoreOutcome {
    /// Raw score.
    pub score: i64,
    /// GPU mask the plugin picked (FGD only; 0 otherwise).
    pub gpus: u32,
}

/// The raw score of a feasible `node` for `pod` under `policy`. `frag_before` is
/// `node_frag(node, typical)` (callers keep it per node). Random scores every node 0:
/// its choice is made by [`Policy::Random`]'s PreScore in the caller.
pub fn score(
    policy: Policy,
    node: &GpuNode,
    pod: &GpuRequest,
    typical: &TypicalPods,
    frag_before: f64,
) -> ScoreOutcome {
    let plain = |score| ScoreOutcome { score, gpus: 0 };
    match policy {
        Policy::Random => plain(0),
        Policy::DotProd => plain(dot_product(node, pod)),
        Policy::GpuClustering => plain(gpu_clustering(node, pod)),
        Policy::GpuPacking => plain(gpu_packing(node, pod)),
        Policy::BestFit => plain(best_fit(node, pod)),
        Policy::Fgd => fgd(node, pod, typical, frag_before),
    }
}

/// The GPUs the Reserve plugin takes on the chosen `node`: FGD's own choice (`chosen`),
/// a random fitting GPU for Random, the best-fit GPU otherwise.
pub fn select_gpus(
    policy: Policy,
    node: &GpuNode,
    pod: &GpuRequest,
    chosen: u32,
    rng: &mut SimRng,
) -> u32 {
    match policy {
        Policy::Fgd if pod.num_gpu > 0 => chosen,
        Policy::Random => random_fit_gpus(node, pod, rng),
        _ => best_fit_gpus(node, pod),
    }
}

/// `NormalizeScore` of `plugin_utils.go`: min-max scaling to 0..=100 in integers; all
/// equal scores become 0.
pub fn normalize(scores: &mut [i64]) {
    let (Some(&hi), Some(&lo)) = (scores.iter().max(), scores.iter().min()) else {
        return;
    };
    let range = hi - lo;
    for s in scores.iter_mut() {
        *s = if range == 0 {
            0
        } else {
            (*s - lo) * MAX_NODE_SCORE / range
        };
    }
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// DotProd with the merged GPU dimension and max-spec normalisation: `100 * (1 -
/// (free . request) / 2)`, vectors `[cpu / 128 cores, gpu / 8 GPUs]`; 0 when the CPU does
/// not fit.
pub fn dot_product(node: &GpuNode, pod: &GpuRequest) -> i64 {
    if node.cpu_left < pod.cpu_milli {
        return 0;
    }
    let (mc, mg) = (MAX_SPEC_CPU as f64, MAX_SPEC_GPU as f64);
    let dot = (node.cpu_left as f64 / mc) * (pod.cpu_milli as f64 / mc)
        + (node.total_left() as f64 / mg) * (pod.total_milli() as f64 / mg);
    let s = 1.0 - dot / 2.0;
    (MAX_NODE_SCORE as f64 * s) as i64
}

/// GpuClustering: four bands of 25 points (the node's GPU pods all share the pod's tag;
/// include it among others; the node has no GPU pods; only other tags), each scaled by
/// the node's used GPU share of 8 GPUs; 0 for a CPU pod.
pub fn gpu_clustering(node: &GpuNode, pod: &GpuRequest) -> i64 {
    let Some(tag) = pod.affinity_tag() else {
        return 0;
    };
    let quarter = MAX_NODE_SCORE / 4;
    let used = quarter * (MAX_SPEC_GPU - node.total_left()) / MAX_SPEC_GPU;
    let tags = node.affinity_tags();
    let band = if node.affinity[tag] > 0 {
        if tags == 1 { 3 } else { 2 }
    } else if tags == 0 {
        1
    } else {
        0
    };
    used + quarter * band
}

/// GpuPacking: a partly used GPU scores in [50, 100] (less free on the GPUs used is
/// better), a free GPU on a used node in [33, 50], an empty node below 33; 0 for a CPU pod.
pub fn gpu_packing(node: &GpuNode, pod: &GpuRequest) -> i64 {
    if pod.gpu_milli <= 0 {
        return 0;
    }
    let fully_free = node.fully_free();
    if fully_free == node.gpus as usize {
        let s = MAX_NODE_SCORE / 3 - fully_free as i64;
        return s.max(fully_free as i64);
    }
    let mut order: [u8; super::model::MAX_GPUS] = [0; super::model::MAX_GPUS];
    let n = node.gpus as usize;
    for (i, o) in order.iter_mut().enumerate().take(n) {
        *o = i as u8;
    }
    order[..n].sort_by_key(|&i| node.gpu_left[i as usize]);
    let mut need = pod.num_gpu as usize;
    let mut free_used = 0i64;
    let mut ratio_sum = 0i64;
    for &i in &order[..n] {
        if need == 0 {
            break;
        }
        let g = node.gpu_left[i as usize];
        if pod.gpu_milli <= g {
            need -= 1;
            ratio_sum += g as i64 * 100 / MILLI as i64;
            if g == MILLI {
                free_used += 1;
            }
        }
    }
    if need != 0 {
        return 0;
    }
    if free_used > 0 {
        return (MAX_NODE_SCORE / 2 - free_used).max(MAX_NODE_SCORE / 3);
    }
    (MAX_NODE_SCORE - ratio_sum / 10).max(MAX_NODE_SCORE / 2)
}

/// BestFit: `100 * (1 - sum over CPU and GPU of 0.5 * (free - requested) / maxSpec)`,
/// truncated (raw; normalised over the feasible nodes by [`normalize`]).
pub fn best_fit(node: &GpuNode, pod: &GpuRequest) -> i64 {
    let cpu = (node.cpu_left - pod.cpu_milli) as f64 / MAX_SPEC_CPU as f64 * 0.5;
    let gpu = (node.total_left() - pod.total_milli()) as f64 / MAX_SPEC_GPU as f64 * 0.5;
    ((1.0 - (cpu + gpu)) * MAX_NODE_SCORE as f64) as i64
}

/// FGD: `100 * sigmoid((F_before - F_after) / 1000)` for the placement that grows the
/// node's fragmentation least; a share tries every GPU that fits (first best wins), whole
/// GPUs go to the first free ones.
pub fn fgd(
    node: &GpuNode,
    pod: &GpuRequest,
    typical: &TypicalPods,
    frag_before: f64,
) -> ScoreOutcome {
    let to_score = |after: f64| -> i64 {
        (sigmoid((frag_before - after) / 1000.0) * MAX_NODE_SCORE as f64) as i64
    };
    if pod.is_share() {
        let mut best: Option<ScoreOutcome> = None;
        for i in 0..node.gpus as usize {
            if node.gpu_left[i] >= pod.gpu_milli {
                let mut n = *node;
                n.cpu_left -= pod.cpu_milli;
                n.gpu_left[i] -= pod.gpu_milli;
                let s = to_score(node_frag(&n, typical));
                if best.is_none_or(|b| s > b.score) {
                    best = Some(ScoreOutcome {
                        score: s,
                        gpus: 1 << i,
                    });
                }
            }
        }
        best.unwrap_or(ScoreOutcome { score: 0, gpus: 0 })
    } else {
        let after = node.sub(pod).unwrap_or(*node);
        ScoreOutcome {
            score: to_score(node_frag(&after, typical)),
            gpus: exclusive_gpus(node, pod.num_gpu),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controllers::scheduler::plugins::gpu::frag::TypicalPod;

    fn req(cpu: i64, n: u8, milli: i32) -> GpuRequest {
        GpuRequest {
            cpu_milli: cpu,
            memory_mib: 0,
            num_gpu: n,
            gpu_milli: milli,
            allowed: 0,
        }
    }

    fn node8() -> GpuNode {
        GpuNode::new(1, 8, 96_000, 1 << 20)
    }

    #[test]
    fn best_fit_formula() {
        let n = node8();
        // free cpu 96 cores, gpu 8000; request 32 cores, 1 GPU:
        // 1 - (0.5*64000/128000 + 0.5*7000/8000) = 1 - 0.25 - 0.4375 = 0.3125
        assert_eq!(best_fit(&n, &req(32_000, 1, 1000)), 31);
        let mut s = [31, 40, 31, 60];
        normalize(&mut s);
        assert_eq!(s, [0, 31, 0, 100]);
        let mut same = [7, 7];
        normalize(&mut same);
        assert_eq!(same, [0, 0]);
    }

    #[test]
    fn packing_bands() {
        let mut n = node8();
        let share = req(1000, 1, 300);
        assert_eq!(gpu_packing(&n, &share), 25, "empty node: 33 - 8");
        n.gpu_left[3] = 500;
        // a partly used GPU fits: 100 - 50/10 = 95
        assert_eq!(gpu_packing(&n, &share), 95);
        // a whole GPU on a used node: 50 - 1
        assert_eq!(gpu_packing(&n, &req(1000, 1, 1000)), 49);
        assert_eq!(gpu_packing(&n, &req(1000, 0, 0)), 0);
    }

    #[test]
    fn clustering_bands() {
        let mut n = node8();
        let share = req(1000, 1, 500);
        assert_eq!(gpu_clustering(&n, &share), 25, "idle node: (25, 50]");
        n.bind(&share, 1);
        // same tag only: 25*(8000-7500)/8000 + 75 = 1 + 75
        assert_eq!(gpu_clustering(&n, &share), 76);
        let whole = req(1000, 1, 1000);
        assert_eq!(gpu_clustering(&n, &whole), 1, "other tags only: (0, 25]");
        n.bind(&whole, 2);
        // 6500 milli left: 25 * 1500 / 8000 = 4, in the mixed band (50, 75]
        assert_eq!(gpu_clustering(&n, &share), 4 + 50);
        assert_eq!(gpu_clustering(&n, &req(1000, 0, 0)), 0);
    }

    #[test]
    fn dot_product_prefers_less_aligned_free_resources() {
        let mut full = node8();
        let mut busy = node8();
        busy.cpu_left = 10_000;
        busy.gpu_left = [0, 0, 0, 0, 0, 0, 1000, 1000, 0, 0, 0, 0, 0, 0, 0, 0];
        let p = req(8000, 1, 1000);
        assert!(dot_product(&busy, &p) > dot_product(&full, &p));
        full.cpu_left = 100;
        assert_eq!(dot_product(&full, &p), 0, "CPU does not fit");
    }

    #[test]
    fn fgd_picks_the_gpu_that_fragments_least() {
        // Typical pods: half-GPU shares only. GPU 0 has 600 free, GPU 1 is free.
        let typical = TypicalPods {
            pods: vec![TypicalPod {
                cpu_milli: 1000,
                gpu_milli: 500,
                num_gpu: 1,
                allowed: 0,
                freq: 1.0,
            }],
        };
        let mut n = GpuNode::new(1, 2, 8000, 1 << 20);
        n.gpu_left[0] = 600;
        let before = node_frag(&n, &typical);
        assert_eq!(before, 0.0);
        // A 100-milli share on GPU 0 leaves 500 (still usable); on GPU 1 leaves 900 and 600:
        // both usable. A 200-milli share on GPU 0 leaves 400 (fragment), on GPU 1 leaves 800.
        let out = fgd(&n, &req(1000, 1, 200), &typical, before);
        assert_eq!(out.gpus, 1 << 1);
        assert_eq!(out.score, 50, "no fragmentation growth: sigmoid(0)");
        let whole = fgd(&n, &req(1000, 1, 1000), &typical, before);
        assert_eq!(whole.gpus, 1 << 1);
        assert_eq!(whole.score, 50, "GPU 0 stays usable by the typical share");
    }

    #[test]
    fn policies_parse_by_name() {
        assert_eq!(Policy::parse("fgd"), Some(Policy::Fgd));
        assert_eq!(Policy::parse("BestFitScore"), Some(Policy::BestFit));
        assert_eq!(Policy::parse("nope"), None);
    }
}
