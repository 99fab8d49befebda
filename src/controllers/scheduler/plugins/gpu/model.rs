//! The GPU resource model: GPU models, a node's per-GPU free milli, a pod's GPU request,
//! the Filter plugin's fit test and the Reserve plugin's GPU selection.
//!
//! Restated from `hkust-adsl/kubernetes-scheduler-simulator`:
//! `pkg/simulator/plugin/open_gpu_share.go` (`Filter`, `allocateGpuIdBasedOnBestFit`,
//! `allocateGpuIdBasedOnRandomFit`), `pkg/type/resource.go` (`AllocateExclusiveGpuId`,
//! `NodeResource.Sub`) and `pkg/utils/utils.go` (`IsNodeAccessibleToPodByType`).

use crate::engine::rng::{SimRng, below};

/// Milli-GPU per GPU.
pub const MILLI: i32 = 1000;
/// Most GPUs a node may carry (the free-milli vector is a fixed array).
pub const MAX_GPUS: usize = 16;
/// Node capacity resource: the number of GPUs (as in the openb node YAML).
pub const GPU_COUNT_RESOURCE: &str = "alibabacloud.com/gpu-count";
/// Node capacity resource: the node's total milli-GPU (1000 per GPU).
pub const GPU_MILLI_RESOURCE: &str = "alibabacloud.com/gpu-milli";
/// Node label holding the GPU model; pods restrict models with a node affinity `In` on it.
pub const GPU_MODEL_LABEL: &str = "alibabacloud.com/gpu-card-model";
/// Pod annotation the Reserve plugin writes: the chosen GPU indices, joined by `-`
/// (upstream's `alibabacloud.com/gpu-index`).
pub const GPU_INDEX_ANNOTATION: &str = "alibabacloud.com/gpu-index";
/// Most distinct GPU models (a pod's allowed set is a 64-bit mask; id 0 is "no GPU").
pub const MAX_MODELS: usize = 63;

/// Interned GPU model names. Id 0 is the empty model (a CPU-only node).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GpuModels {
    names: Vec<String>,
}

impl GpuModels {
    /// An empty table.
    pub fn new() -> Self {
        GpuModels {
            names: vec![String::new()],
        }
    }

    /// The id of `name`, adding it when new; `None` when the table is full.
    pub fn intern(&mut self, name: &str) -> Option<u8> {
        if self.names.is_empty() {
            self.names.push(String::new());
        }
        if let Some(i) = self.names.iter().position(|n| n == name) {
            return Some(i as u8);
        }
        if self.names.len() > MAX_MODELS {
            return None;
        }
        self.names.push(name.to_string());
        Some((self.names.len() - 1) as u8)
    }

    /// The id of `name` if known.
    pub fn get(&self, name: &str) -> Option<u8> {
        self.names.iter().position(|n| n == name).map(|i| i as u8)
    }

    /// The name of model `id`.
    pub fn name(&self, id: u8) -> &str {
        self.names
            .get(id as usize)
            .map(String::as_str)
            .unwrap_or("")
    }

    /// Number of models, the empty one included.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether only the empty model is known.
    pub fn is_empty(&self) -> bool {
        self.names.len() <= 1
    }
}

/// A pod's request as the GPU plugins see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct GpuRequest {
    /// CPU request in millicores.
    pub cpu_milli: i64,
    /// Memory request in MiB.
    pub memory_mib: i64,
    /// Number of GPUs (0 for a CPU-only pod).
    pub num_gpu: u8,
    /// Milli-GPU per GPU: 1..=1000 with GPUs, below 1000 only for a one-GPU share.
    pub gpu_milli: i32,
    /// Allowed GPU models as a bit mask over model ids (0: any model).
    pub allowed: u64,
}

impl GpuRequest {
    /// Total milli-GPU requested.
    pub fn total_milli(&self) -> i64 {
        self.gpu_milli as i64 * self.num_gpu as i64
    }

    /// Whether this is a GPU-sharing pod (one GPU, less than all of it).
    pub fn is_share(&self) -> bool {
        self.num_gpu == 1 && self.gpu_milli < MILLI
    }

    /// The GPU-clustering tag: `None` for a CPU pod, `Some(0)` for a share, `Some(k)` for
    /// k whole GPUs (upstream `GetGpuAffinityFromPodAnnotation`).
    pub fn affinity_tag(&self) -> Option<usize> {
        if self.num_gpu == 0 {
            None
        } else if self.is_share() {
            Some(0)
        } else {
            Some((self.num_gpu as usize).min(MAX_GPUS))
        }
    }
}

/// Whether a node of model `node_model` may run a pod allowing `allowed` (upstream
/// `IsNodeAccessibleToPodByType`: no constraint fits any node; a constraint never fits a
/// CPU-only node).
pub fn accessible(node_model: u8, allowed: u64) -> bool {
    if allowed == 0 {
        return true;
    }
    node_model != 0 && allowed & (1u64 << node_model) != 0
}

/// A node's resources as the GPU plugins see them. `Copy`, so that a plugin can try a
/// placement on a copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GpuNode {
    /// GPU model id (0: CPU-only).
    pub model: u8,
    /// Number of GPUs.
    pub gpus: u8,
    /// CPU capacity in millicores.
    pub cpu_capacity: i64,
    /// Free CPU in millicores.
    pub cpu_left: i64,
    /// Free memory in MiB.
    pub memory_left: i64,
    /// Free milli-GPU per GPU index (entries past `gpus` are 0).
    pub gpu_left: [i32; MAX_GPUS],
    /// GPU pods on the node by clustering tag (index 0: shares; k: k whole GPUs).
    pub affinity: [u16; MAX_GPUS + 1],
}

impl GpuNode {
    /// An empty node.
    pub fn new(model: u8, gpus: u8, cpu_milli: i64, memory_mib: i64) -> GpuNode {
        let mut gpu_left = [0; MAX_GPUS];
        for g in gpu_left.iter_mut().take(gpus as usize) {
            *g = MILLI;
        }
        GpuNode {
            model,
            gpus,
            cpu_capacity: cpu_milli,
            cpu_left: cpu_milli,
            memory_left: memory_mib,
            gpu_left,
            affinity: [0; MAX_GPUS + 1],
        }
    }

    /// The free milli of the node's GPUs.
    pub fn left(&self) -> &[i32] {
        &self.gpu_left[..self.gpus as usize]
    }

    /// Total free milli-GPU.
    pub fn total_left(&self) -> i64 {
        self.left().iter().map(|&g| g as i64).sum()
    }

    /// Number of fully free GPUs.
    pub fn fully_free(&self) -> usize {
        self.left().iter().filter(|&&g| g == MILLI).count()
    }

    /// Number of distinct clustering tags among the node's GPU pods.
    pub fn affinity_tags(&self) -> usize {
        self.affinity.iter().filter(|&&c| c > 0).count()
    }

    /// Number of GPUs with at least `milli` free.
    pub fn gpus_with(&self, milli: i32) -> usize {
        self.left().iter().filter(|&&g| g >= milli).count()
    }

    /// Takes `pod` with the GPUs in `mask` (Reserve / bind).
    pub fn bind(&mut self, pod: &GpuRequest, mask: u32) {
        self.cpu_left -= pod.cpu_milli;
        self.memory_left -= pod.memory_mib;
        for i in 0..self.gpus as usize {
            if mask & (1 << i) != 0 {
                self.gpu_left[i] -= pod.gpu_milli;
            }
        }
        if let Some(t) = pod.affinity_tag() {
            self.affinity[t] += 1;
        }
    }

    /// Gives back what [`GpuNode::bind`] took (the pod was deleted).
    pub fn release(&mut self, pod: &GpuRequest, mask: u32) {
        self.cpu_left += pod.cpu_milli;
        self.memory_left += pod.memory_mib;
        for i in 0..self.gpus as usize {
            if mask & (1 << i) != 0 {
                self.gpu_left[i] += pod.gpu_milli;
            }
        }
        if let Some(t) = pod.affinity_tag() {
            self.affinity[t] = self.affinity[t].saturating_sub(1);
        }
    }

    /// The node after taking `pod` on the GPUs upstream's `NodeResource.Sub` would use
    /// (ascending free milli, first index on ties), or `None` when it does not fit. CPU is
    /// the only other dimension `Sub` takes.
    pub fn sub(&self, pod: &GpuRequest) -> Option<GpuNode> {
        let mut out = *self;
        if out.cpu_left < pod.cpu_milli || (out.gpus as usize) < pod.num_gpu as usize {
            return None;
        }
        out.cpu_left -= pod.cpu_milli;
        if pod.num_gpu == 0 {
            return Some(out);
        }
        let mut order: [u8; MAX_GPUS] = [0; MAX_GPUS];
        let n = self.gpus as usize;
        for (i, o) in order.iter_mut().enumerate().take(n) {
            *o = i as u8;
        }
        order[..n].sort_by_key(|&i| self.gpu_left[i as usize]);
        let mut need = pod.num_gpu as usize;
        for &i in &order[..n] {
            if pod.gpu_milli <= out.gpu_left[i as usize] {
                out.gpu_left[i as usize] -= pod.gpu_milli;
                need -= 1;
                if need == 0 {
                    return Some(out);
                }
            }
        }
        None
    }
}

/// The GPU Filter plugin with NodeResourcesFit's CPU and memory test: the node has the
/// CPU and memory, and (for a GPU pod) the allowed model and `num_gpu` distinct GPUs each
/// with at least `gpu_milli` free (upstream `GpuSharePlugin.Filter`).
pub fn fits(node: &GpuNode, pod: &GpuRequest) -> bool {
    if node.cpu_left < pod.cpu_milli || node.memory_left < pod.memory_mib {
        return false;
    }
    if pod.num_gpu == 0 {
        return true;
    }
    node.gpus > 0
        && accessible(node.model, pod.allowed)
        && node.gpus_with(pod.gpu_milli) >= pod.num_gpu as usize
}

/// The first `k` fully free GPUs by index (upstream `AllocateExclusiveGpuId`); 0 when
/// there are not enough.
pub fn exclusive_gpus(node: &GpuNode, k: u8) -> u32 {
    let mut mask = 0u32;
    let mut need = k as usize;
    for (i, &g) in node.left().iter().enumerate() {
        if need == 0 {
            break;
        }
        if g == MILLI {
            mask |= 1 << i;
            need -= 1;
        }
    }
    if need > 0 { 0 } else { mask }
}

/// Best-fit GPU selection: a share goes to the GPU with the least free milli that fits
/// (first index on ties), whole GPUs to the first free ones (upstream
/// `allocateGpuIdBasedOnBestFit`). 0 for a CPU pod or when nothing fits.
pub fn best_fit_gpus(node: &GpuNode, pod: &GpuRequest) -> u32 {
    if pod.num_gpu == 0 {
        return 0;
    }
    if pod.gpu_milli < MILLI {
        let mut best: Option<usize> = None;
        for (i, &g) in node.left().iter().enumerate() {
            if g >= pod.gpu_milli && best.is_none_or(|b| g < node.gpu_left[b]) {
                best = Some(i);
            }
        }
        best.map(|b| 1u32 << b).unwrap_or(0)
    } else {
        exclusive_gpus(node, pod.num_gpu)
    }
}

/// Random GPU selection: a share goes to a uniformly random GPU that fits (reservoir
/// sampling in index order), whole GPUs to the first free ones (upstream
/// `allocateGpuIdBasedOnRandomFit`).
pub fn random_fit_gpus(node: &GpuNode, pod: &GpuRequest, rng: &mut SimRng) -> u32 {
    if pod.num_gpu == 0 {
        return 0;
    }
    if pod.gpu_milli < MILLI {
        let mut count = 0u64;
        let mut chosen = 0u32;
        for (i, &g) in node.left().iter().enumerate() {
            if g >= pod.gpu_milli {
                count += 1;
                if below(rng, count) == 0 {
                    chosen = 1 << i;
                }
            }
        }
        chosen
    } else {
        exclusive_gpus(node, pod.num_gpu)
    }
}

/// The GPU indices of `mask`, joined by `-` (the Reserve plugin's annotation value).
pub fn mask_to_indices(mask: u32) -> String {
    let mut out = String::new();
    for i in 0..32 {
        if mask & (1 << i) != 0 {
            if !out.is_empty() {
                out.push('-');
            }
            out.push_str(&i.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::RngStreams;

    fn share(milli: i32) -> GpuRequest {
        GpuRequest {
            cpu_milli: 1000,
            memory_mib: 1024,
            num_gpu: 1,
            gpu_milli: milli,
            allowed: 0,
        }
    }

    #[test]
    fn filter_needs_distinct_gpus_with_enough_milli() {
        let mut n = GpuNode::new(1, 2, 8000, 8192);
        n.gpu_left = [600, 1000, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        assert!(fits(&n, &share(600)));
        assert!(fits(&n, &share(700)));
        let two = GpuRequest {
            num_gpu: 2,
            gpu_milli: 1000,
            ..share(0)
        };
        assert!(!fits(&n, &two), "only one GPU is fully free");
        n.gpu_left[0] = 1000;
        assert!(fits(&n, &two));
        let too_much_cpu = GpuRequest {
            cpu_milli: 9000,
            ..share(100)
        };
        assert!(!fits(&n, &too_much_cpu));
    }

    #[test]
    fn model_constraints_follow_upstream() {
        assert!(accessible(0, 0));
        assert!(accessible(3, 0));
        assert!(
            !accessible(0, 1 << 3),
            "a constrained pod never fits a CPU node"
        );
        assert!(accessible(3, 1 << 3));
        assert!(!accessible(2, 1 << 3));
    }

    #[test]
    fn best_fit_picks_the_tightest_gpu_and_release_undoes_bind() {
        let mut n = GpuNode::new(1, 4, 8000, 8192);
        n.gpu_left[0] = 900;
        n.gpu_left[2] = 300;
        n.gpu_left[3] = 300;
        let p = share(250);
        assert_eq!(best_fit_gpus(&n, &p), 1 << 2, "first of the tightest");
        let before = n;
        n.bind(&p, 1 << 2);
        assert_eq!(n.gpu_left[2], 50);
        assert_eq!(n.affinity[0], 1);
        n.release(&p, 1 << 2);
        assert_eq!(n, before);
        let whole = GpuRequest {
            num_gpu: 1,
            gpu_milli: 1000,
            ..p
        };
        assert_eq!(best_fit_gpus(&n, &whole), 1 << 1);
        assert_eq!(mask_to_indices(0b1011), "0-1-3");
    }

    #[test]
    fn sub_packs_into_the_least_free_gpus() {
        let mut n = GpuNode::new(1, 3, 8000, 8192);
        n.gpu_left[0] = 800;
        n.gpu_left[1] = 400;
        let after = n.sub(&share(300)).unwrap();
        assert_eq!(after.left(), &[800, 100, 1000]);
        assert_eq!(after.cpu_left, 7000);
        assert!(n.sub(&share(1000)).is_some());
        let three = GpuRequest {
            num_gpu: 3,
            gpu_milli: 1000,
            ..share(0)
        };
        assert!(n.sub(&three).is_none());
    }

    #[test]
    fn random_fit_only_picks_fitting_gpus() {
        let mut rng = RngStreams::new(7).stream("t");
        let mut n = GpuNode::new(1, 4, 8000, 8192);
        n.gpu_left[1] = 100;
        for _ in 0..50 {
            let m = random_fit_gpus(&n, &share(500), &mut rng);
            assert!(m.count_ones() == 1 && m & 0b10 == 0);
        }
    }
}
