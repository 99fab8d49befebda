//! GPU columns of `metrics.csv` and the `gpu.*` expectation fields, for clusters whose
//! nodes have GPUs (`alibabacloud.com/gpu-count`). The measures are the ATC'23 study's
//! (see docs/gpu-fragmentation.md): GPU allocation ratio, the cluster's expected
//! fragmentation amount against the typical pods (the same distribution FGD scores with)
//! and its ratio to the idle GPU milli, the arrived workload (GPU requests of every pod in
//! the store, placed or not, over capacity), the GPUs left unallocated and the GPUs asked
//! for by pods not bound to a node.

use crate::api::Store;
use crate::controllers::scheduler::plugins::gpu::framework::{node_state, pod_request};
use crate::controllers::scheduler::plugins::gpu::{GPU_COUNT_RESOURCE, TypicalPods, node_frag};
use crate::metrics::table::MetricsTable;

/// The `gpu.*` expectation fields.
pub const FIELDS: &[&str] = &[
    "capacity",
    "allocation_pct",
    "fragmentation_pct",
    "fragmentation_ratio_pct",
    "unallocated",
    "arrived_pct",
    "unplaced",
];

/// The cluster's GPU measures at one instant (milli-GPU unless said otherwise).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct GpuStats {
    /// GPU capacity of the existing nodes.
    pub capacity: i64,
    /// GPU milli held by pods bound to a node.
    pub allocated: i64,
    /// Expected fragmentation amount.
    pub fragmentation: f64,
    /// GPU milli requested by every pod in the store (bound or pending).
    pub arrived: i64,
    /// GPU milli requested by pods not bound to a node.
    pub unplaced: i64,
}

impl GpuStats {
    /// The stats of `store` (`None` when no node has a GPU).
    pub fn of(store: &Store, typical: &TypicalPods) -> Option<GpuStats> {
        let mut s = GpuStats::default();
        for (_, n) in store.nodes.iter() {
            // Nodes without GPUs cost one scan of their extended resources.
            if !n
                .allocatable
                .extended
                .iter()
                .any(|(r, v)| r == GPU_COUNT_RESOURCE && *v > 0)
            {
                continue;
            }
            let state = node_state(n, store);
            if state.gpus == 0 {
                continue;
            }
            let cap = state.gpus as i64 * 1000;
            s.capacity += cap;
            s.allocated += cap - state.total_left();
            s.fragmentation += node_frag(&state, typical);
        }
        if s.capacity == 0 {
            return None;
        }
        for (_, p) in store.pods.iter() {
            let milli = pod_request(p).total_milli();
            if milli == 0 || (!p.spec.node_name.is_empty() && !p.is_active()) {
                continue;
            }
            s.arrived += milli;
            if p.spec.node_name.is_empty() && p.meta.deletion.is_none() {
                s.unplaced += milli;
            }
        }
        Some(s)
    }

    fn pct(a: f64, b: f64) -> f64 {
        if b > 0.0 {
            (a * 10000.0 / b).round() / 100.0
        } else {
            0.0
        }
    }

    /// One `gpu.*` field (see [`FIELDS`]); GPU counts are whole GPUs (milli / 1000).
    pub fn field(&self, field: &str) -> f64 {
        let cap = self.capacity as f64;
        match field {
            "capacity" => cap / 1000.0,
            "allocation_pct" => Self::pct(self.allocated as f64, cap),
            "fragmentation_pct" => Self::pct(self.fragmentation, cap),
            "fragmentation_ratio_pct" => {
                Self::pct(self.fragmentation, (self.capacity - self.allocated) as f64)
            }
            "unallocated" => (self.capacity - self.allocated) as f64 / 1000.0,
            "arrived_pct" => Self::pct(self.arrived as f64, cap),
            "unplaced" => self.unplaced as f64 / 1000.0,
            _ => f64::NAN,
        }
    }
}

/// Appends the GPU columns (`gpu_<field>`) to the current metrics row when the cluster
/// has GPUs.
pub fn sample(store: &Store, m: &mut MetricsTable, typical: &TypicalPods) {
    if let Some(s) = GpuStats::of(store, typical) {
        for f in FIELDS {
            m.set(&format!("gpu_{f}"), s.field(f));
        }
    }
}

/// The value of expectation field `gpu.<field>` (NaN when the cluster has no GPU).
pub fn value(store: &Store, typical: &TypicalPods, field: &str) -> f64 {
    GpuStats::of(store, typical).map_or(f64::NAN, |s| s.field(field))
}
