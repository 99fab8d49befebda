//! GPU fragmentation measured against the distribution of typical pods.
//!
//! Restated from `hkust-adsl/kubernetes-scheduler-simulator` `pkg/utils/frag.go`
//! (`GetTypicalPods`, `NodeGpuShareFragAmount`, `GetNodePodFrag`,
//! `CanNodeHostPodOnGpuMemory`, `GetGpuFragMilliByNodeResAndPodRes`) with the artifact's
//! experiment settings (`scripts/generate_config_and_run.py`: CPU pods included,
//! popularity threshold 95%, increase step 1, no GPU weight).
//!
//! For one typical pod, the idle GPU milli of a node that pod could not use is *all* of
//! it when the pod is a CPU pod, when the node lacks the model, the CPU or enough GPUs
//! with the pod's milli free; otherwise only the free milli on GPUs with less free than
//! the pod needs. A node's expected fragment amount weights these by frequency.

use super::model::{GpuNode, GpuRequest, accessible};
use std::collections::BTreeMap;

/// Popularity threshold of the typical-pod set, percent of all pods.
pub const POPULARITY_THRESHOLD_PCT: f64 = 95.0;

/// One typical pod shape with its (renormalised) frequency.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TypicalPod {
    /// CPU request, millicores.
    pub cpu_milli: i64,
    /// Milli-GPU per GPU (0 for a CPU pod).
    pub gpu_milli: i32,
    /// Number of GPUs.
    pub num_gpu: u8,
    /// Allowed models mask (0: any).
    pub allowed: u64,
    /// Frequency, 0..=1; the set sums to 1.
    pub freq: f64,
}

/// The typical-pod distribution.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TypicalPods {
    /// The shapes, most frequent first.
    pub pods: Vec<TypicalPod>,
}

/// A pod's shape key as upstream's `PodResource` (CPU, milli-GPU, GPU count, GPU-type
/// string); `spec` is an id of the pod's GPU-type constraint string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ShapeKey {
    /// CPU, millicores.
    pub cpu_milli: i64,
    /// Milli-GPU per GPU (0 for a CPU pod).
    pub gpu_milli: i32,
    /// GPU count.
    pub num_gpu: u8,
    /// Id of the constraint string (ordered as the strings are).
    pub spec: u32,
}

impl TypicalPods {
    /// The most frequent shapes covering at least 95% of `pods`, frequencies renormalised
    /// over the kept ones. `pods` yields each original pod's shape key, request and
    /// constraint-string rank; ties in count are broken by the larger key first, as
    /// upstream's reversed sort does.
    pub fn from_pods<'a>(pods: impl IntoIterator<Item = (ShapeKey, &'a GpuRequest)>) -> Self {
        let mut counts: BTreeMap<ShapeKey, (f64, u64)> = BTreeMap::new();
        let mut total = 0.0;
        for (key, req) in pods {
            let e = counts.entry(key).or_insert((0.0, req.allowed));
            e.0 += 1.0;
            total += 1.0;
        }
        if total == 0.0 {
            return TypicalPods::default();
        }
        let mut list: Vec<(ShapeKey, f64, u64)> =
            counts.into_iter().map(|(k, (c, a))| (k, c, a)).collect();
        // Decreasing count, then decreasing key.
        list.sort_by(|a, b| b.1.total_cmp(&a.1).then(b.0.cmp(&a.0)));
        let expected = POPULARITY_THRESHOLD_PCT * total / 100.0;
        let mut cum = 0.0;
        let mut kept = 0;
        while cum < expected && kept < list.len() {
            cum += list[kept].1;
            kept += 1;
        }
        let pods = list[..kept]
            .iter()
            .map(|(k, c, a)| TypicalPod {
                cpu_milli: k.cpu_milli,
                gpu_milli: k.gpu_milli,
                num_gpu: k.num_gpu,
                allowed: *a,
                freq: c / cum,
            })
            .collect();
        TypicalPods { pods }
    }
}

/// The expected GPU fragment amount of `node` (milli-GPU) against `typical` (upstream
/// `NodeGpuShareFragAmountScore`: every category but "satisfied").
pub fn node_frag(node: &GpuNode, typical: &TypicalPods) -> f64 {
    let left = node.left();
    let total: i64 = left.iter().map(|&g| g as i64).sum();
    if total == 0 {
        return 0.0;
    }
    let total_f = total as f64;
    let mut frag = 0.0;
    for tp in &typical.pods {
        if tp.gpu_milli == 0 || !accessible(node.model, tp.allowed) {
            frag += tp.freq * total_f;
            continue;
        }
        let mut fitting = 0usize;
        let mut small: i64 = 0;
        for &g in left {
            if g >= tp.gpu_milli {
                fitting += 1;
            } else {
                small += g as i64;
            }
        }
        if fitting >= tp.num_gpu as usize && node.cpu_left >= tp.cpu_milli {
            frag += tp.freq * small as f64;
        } else {
            frag += tp.freq * total_f;
        }
    }
    frag
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controllers::scheduler::plugins::gpu::model::MILLI;

    fn tp(cpu: i64, milli: i32, n: u8, freq: f64) -> TypicalPod {
        TypicalPod {
            cpu_milli: cpu,
            gpu_milli: milli,
            num_gpu: n,
            allowed: 0,
            freq,
        }
    }

    #[test]
    fn fragment_counts_only_what_typical_pods_cannot_use() {
        let mut n = GpuNode::new(1, 2, 8000, 1 << 20);
        n.gpu_left = [300, MILLI, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        // A half-GPU pod fits on GPU 1 only: GPU 0's 300 milli is fragment.
        let half = TypicalPods {
            pods: vec![tp(1000, 500, 1, 1.0)],
        };
        assert_eq!(node_frag(&n, &half), 300.0);
        // A two-GPU pod does not fit: all 1300 idle milli is fragment.
        let two = TypicalPods {
            pods: vec![tp(1000, MILLI, 2, 1.0)],
        };
        assert_eq!(node_frag(&n, &two), 1300.0);
        // Lacking CPU makes all of it fragment; a CPU pod counts all of it too.
        let cpu_heavy = TypicalPods {
            pods: vec![tp(9000, 100, 1, 0.5), tp(1000, 0, 0, 0.5)],
        };
        assert_eq!(node_frag(&n, &cpu_heavy), 1300.0);
        // A model constraint the node does not meet: all of it.
        let other_model = TypicalPods {
            pods: vec![TypicalPod {
                allowed: 1 << 2,
                ..tp(1000, 100, 1, 1.0)
            }],
        };
        assert_eq!(node_frag(&n, &other_model), 1300.0);
        n.gpu_left = [0; 16];
        assert_eq!(node_frag(&n, &two), 0.0, "no idle GPU, no fragment");
    }

    #[test]
    fn typical_pods_cover_95_percent_and_renormalise() {
        let req = GpuRequest {
            cpu_milli: 0,
            memory_mib: 0,
            num_gpu: 1,
            gpu_milli: 1000,
            allowed: 0,
        };
        let key = |c: i64| ShapeKey {
            cpu_milli: c,
            gpu_milli: 1000,
            num_gpu: 1,
            spec: 0,
        };
        let mut pods = Vec::new();
        for _ in 0..90 {
            pods.push((key(1), &req));
        }
        for _ in 0..6 {
            pods.push((key(2), &req));
        }
        for _ in 0..4 {
            pods.push((key(3), &req));
        }
        let t = TypicalPods::from_pods(pods);
        assert_eq!(t.pods.len(), 2, "90% + 6% reaches 95%");
        assert!((t.pods[0].freq - 90.0 / 96.0).abs() < 1e-12);
        let sum: f64 = t.pods.iter().map(|p| p.freq).sum();
        assert!((sum - 1.0).abs() < 1e-12);
    }
}
