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
    sample_stats(GpuStats::of(store, typical).as_ref(), m);
}

/// Records already computed `stats` (see [`sample`]).
pub fn sample_stats(stats: Option<&GpuStats>, m: &mut MetricsTable) {
    if let Some(s) = stats {
        for f in FIELDS {
            m.set(&format!("gpu_{f}"), s.field(f));
        }
    }
}

/// summary.json's `gpu` object: the last sample of each GPU column (`None` when the run
/// sampled none: no GPU in the cluster, or no metrics recorded).
pub fn summary(m: &MetricsTable) -> Option<serde_json::Value> {
    let mut map = serde_json::Map::new();
    for f in FIELDS {
        if let Some(v) = m
            .column(&format!("gpu_{f}"))
            .and_then(|c| c.last().copied())
        {
            map.insert((*f).to_string(), serde_json::json!(v));
        }
    }
    (!map.is_empty()).then_some(serde_json::Value::Object(map))
}

/// The value of expectation field `gpu.<field>` (NaN when the cluster has no GPU).
pub fn value(store: &Store, typical: &TypicalPods, field: &str) -> f64 {
    GpuStats::of(store, typical).map_or(f64::NAN, |s| s.field(field))
}

#[cfg(test)]
mod tests {
    use crate::controllers::scheduler::plugins::gpu::GPU_INDEX_ANNOTATION;
    use crate::simulation::{RunOptions, run};
    use crate::workload::Scenario;

    const CONFIG: &str = "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\npercentageOfNodesToScore: 100\nprofiles:\n- schedulerName: default-scheduler\n  plugins:\n    filter:\n      enabled: [{name: GpuShare}]\n    score:\n      disabled: [{name: '*'}]\n      enabled: [{name: BestFitScore, weight: 1}]\n";

    fn pod(name: &str, n: u8, milli: i32) -> String {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, annotations: {{alibabacloud.com/gpu-count: '{n}', alibabacloud.com/gpu-milli: '{milli}'}}}}\nspec:\n  terminationGracePeriodSeconds: 0\n  containers:\n  - name: main\n    image: t\n    resources: {{requests: {{cpu: 1, memory: 1Gi}}}}\n"
        )
    }

    fn indent(s: &str) -> String {
        s.lines().map(|l| format!("      {l}\n")).collect()
    }

    fn scenario(dir: &std::path::Path) -> Scenario {
        std::fs::write(dir.join("sched.yaml"), CONFIG).unwrap();
        let node = "apiVersion: v1\nkind: Node\nmetadata:\n  name: g0\n  labels: {alibabacloud.com/gpu-card-model: T4}\nstatus:\n  allocatable: {cpu: '8', memory: 32Gi, pods: '110', alibabacloud.com/gpu-count: '2', alibabacloud.com/gpu-milli: '2000'}\n";
        let first = [node.to_string(), pod("a", 1, 600), pod("b", 1, 1000)].join("---\n");
        let text = format!(
            "apiVersion: kubetwin.dev/v1alpha1\nkind: Scenario\nmetadata: {{name: gpu}}\nspec:\n  duration: 1m\n  scheduler: {{config: sched.yaml}}\n  manifests:\n  - inline: |\n{}  timeline:\n  - at: 10s\n    delete: pod/a\n  - at: 40s\n    apply:\n      inline: |\n{}  expectations:\n  - gpu.capacity == 2\n  - gpu.unallocated == 0.4 at 5s\n  - gpu.unplaced == 0\n  - gpu.unallocated == 0\n",
            indent(&first),
            indent(&indent(&pod("c", 1, 1000)))
        );
        Scenario::from_str(&text, "gpu.yaml", dir.to_path_buf()).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn binding_records_gpu_indices_and_deletion_releases_them() {
        let d = tempfile::tempdir().unwrap();
        let s = scenario(d.path());
        let out = run(&s, &RunOptions::default()).unwrap();
        let idx = |name: &str| {
            let id = out.store.pods.id_of("default", name).unwrap();
            let p = out.store.pods.get(id).unwrap();
            p.meta.annotations.get(GPU_INDEX_ANNOTATION).cloned()
        };
        assert_eq!(
            idx("b").as_deref(),
            Some("1"),
            "the whole GPU after the share"
        );
        // `a`'s share on GPU 0 is freed by its deletion, so the whole-GPU pod `c` fits there.
        assert!(out.store.pods.id_of("default", "a").is_none());
        assert_eq!(idx("c").as_deref(), Some("0"));
        for e in &out.expectations {
            assert!(e.passed, "{}: {}", e.expr, e.detail);
        }
        let cols = out.metrics.columns();
        assert!(
            cols.iter().any(|c| c == "gpu_fragmentation_pct"),
            "{cols:?}"
        );
        assert_eq!(
            out.metrics
                .column("gpu_unallocated")
                .unwrap()
                .last()
                .copied(),
            Some(0.0)
        );
    }

    #[test]
    fn a_cluster_without_gpus_has_no_gpu_columns() {
        let s = Scenario::default_scenario().unwrap();
        let out = run(&s, &RunOptions::default()).unwrap();
        assert!(!out.metrics.columns().iter().any(|c| c.starts_with("gpu_")));
        assert!(super::value(&out.store, &Default::default(), "unallocated").is_nan());
    }
}
