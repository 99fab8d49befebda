//! [`RunMetrics`]: the scheduling metrics of one finished run, read from the final store
//! and the sampled metrics table. One pass over nodes and one over pods.

use super::metric::Metric;
use crate::api::{ConditionStatus, Store};
use crate::metrics::{MetricsTable, percentile};
use crate::simulation::RunOutput;

/// The extended resource of whole GPUs.
pub const GPU: &str = "nvidia.com/gpu";
/// The openb-style GPU share resource (thousandths of a GPU).
pub const GPU_MILLI: &str = "alibabacloud.com/gpu-milli";

/// The metrics of one run; `None` where a metric is undefined (see docs/compare.md).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunMetrics {
    /// Pods without a node at the end.
    pub pending: f64,
    /// Seconds until the last binding, when nothing is pending at the end.
    pub time_to_schedule_all_s: Option<f64>,
    /// Scheduling latency p50 in ms (none without bindings).
    pub p50_latency_ms: Option<f64>,
    /// Scheduling latency p99 in ms (none without bindings).
    pub p99_latency_ms: Option<f64>,
    /// Scheduling attempts that found no feasible node.
    pub failed_attempts: f64,
    /// Successful preemption attempts.
    pub preemptions: f64,
    /// Pods evicted by preemption.
    pub preemption_victims: f64,
    /// CPU requested / allocatable over Ready nodes at the end, percent.
    pub cpu_alloc_pct: Option<f64>,
    /// Time-averaged CPU requested / allocatable, percent (needs the metrics samples).
    pub cpu_alloc_avg_pct: Option<f64>,
    /// Memory requested / allocatable over Ready nodes at the end, percent.
    pub memory_alloc_pct: Option<f64>,
    /// Time-averaged memory requested / allocatable, percent.
    pub memory_alloc_avg_pct: Option<f64>,
    /// `nvidia.com/gpu` requested / allocatable over Ready nodes, percent.
    pub gpu_alloc_pct: Option<f64>,
    /// `alibabacloud.com/gpu-milli` requested / allocatable over Ready nodes, percent.
    pub gpu_milli_alloc_pct: Option<f64>,
    /// Free CPU on Ready, schedulable nodes that cannot fit the median pod CPU request,
    /// as a percent of all their free CPU.
    pub cpu_fragmentation_pct: Option<f64>,
    /// Nodes with at least one non-terminal pod at the end.
    pub nodes_used: f64,
}

impl RunMetrics {
    /// A metric's value.
    pub fn get(&self, m: Metric) -> Option<f64> {
        match m {
            Metric::Pending => Some(self.pending),
            Metric::TimeToScheduleAll => self.time_to_schedule_all_s,
            Metric::P50Latency => self.p50_latency_ms,
            Metric::P99Latency => self.p99_latency_ms,
            Metric::FailedAttempts => Some(self.failed_attempts),
            Metric::Preemptions => Some(self.preemptions),
            Metric::PreemptionVictims => Some(self.preemption_victims),
            Metric::CpuAlloc => self.cpu_alloc_pct,
            Metric::CpuAllocAvg => self.cpu_alloc_avg_pct,
            Metric::MemoryAlloc => self.memory_alloc_pct,
            Metric::MemoryAllocAvg => self.memory_alloc_avg_pct,
            Metric::GpuAlloc => self.gpu_alloc_pct,
            Metric::GpuMilliAlloc => self.gpu_milli_alloc_pct,
            Metric::CpuFragmentation => self.cpu_fragmentation_pct,
            Metric::NodesUsed => Some(self.nodes_used),
        }
    }

    /// Computes the metrics of a finished run.
    pub fn from_output(out: &RunOutput) -> RunMetrics {
        let s = &out.store;
        let stats = &s.stats;
        let pending = s.pod_counts().unscheduled;
        let mut lat = stats.binding_latencies_ms.clone();
        lat.sort_unstable();
        let p = |q: f64| percentile(&lat, q).map(|v| v as f64);
        let time_to_schedule_all_s = if pending == 0 {
            s.pods
                .iter()
                .filter_map(|(_, p)| p.status.scheduled_at)
                .max()
                .map(|t| t.as_secs_f64())
        } else {
            None
        };
        let ready = ready_totals(s);
        let table = &out.metrics;
        RunMetrics {
            pending: pending as f64,
            time_to_schedule_all_s,
            p50_latency_ms: p(50.0),
            p99_latency_ms: p(99.0),
            failed_attempts: stats.failed_scheduling_attempts as f64,
            preemptions: stats.preemptions as f64,
            preemption_victims: stats.preemption_victims as f64,
            cpu_alloc_pct: pct(ready.cpu_req, ready.cpu_alloc),
            cpu_alloc_avg_pct: time_average_ratio(table, "cpu_requested_m", "cpu_allocatable_m"),
            memory_alloc_pct: pct(ready.mem_req, ready.mem_alloc),
            memory_alloc_avg_pct: time_average_ratio(
                table,
                "memory_requested_bytes",
                "memory_allocatable_bytes",
            ),
            gpu_alloc_pct: pct(ready.gpu_req, ready.gpu_alloc),
            gpu_milli_alloc_pct: pct(ready.gpu_milli_req, ready.gpu_milli_alloc),
            cpu_fragmentation_pct: cpu_fragmentation(s),
            nodes_used: s
                .nodes
                .iter()
                .filter(|(id, _)| s.node_usage(*id).pods > 0)
                .count() as f64,
        }
    }
}

#[derive(Default)]
struct Totals {
    cpu_req: i64,
    cpu_alloc: i64,
    mem_req: i64,
    mem_alloc: i64,
    gpu_req: i64,
    gpu_alloc: i64,
    gpu_milli_req: i64,
    gpu_milli_alloc: i64,
}

/// Requested and allocatable sums over Ready nodes.
fn ready_totals(s: &Store) -> Totals {
    let mut t = Totals::default();
    for (id, n) in s.nodes.iter() {
        if n.ready != ConditionStatus::True {
            continue;
        }
        let u = &s.node_usage(id).requested;
        let a = &n.allocatable;
        t.cpu_req += u.cpu_milli;
        t.cpu_alloc += a.cpu_milli;
        t.mem_req += u.memory;
        t.mem_alloc += a.memory;
        t.gpu_req += u.get(GPU);
        t.gpu_alloc += a.get(GPU);
        t.gpu_milli_req += u.get(GPU_MILLI);
        t.gpu_milli_alloc += a.get(GPU_MILLI);
    }
    t
}

/// `requested / allocatable` in percent; none without allocatable.
fn pct(requested: i64, allocatable: i64) -> Option<f64> {
    (allocatable > 0).then(|| requested as f64 * 100.0 / allocatable as f64)
}

/// The time-weighted mean of `num / den` over the samples (each sample holds until the
/// next one; the last sample only counts when it is the only one), in percent. None when
/// the table lacks either series or no sample has a positive denominator.
pub fn time_average_ratio(m: &MetricsTable, num: &str, den: &str) -> Option<f64> {
    let (t, n, d) = (m.column("time_s")?, m.column(num)?, m.column(den)?);
    let mut points: Vec<(f64, f64)> = Vec::with_capacity(t.len());
    for i in 0..t.len() {
        if d[i] > 0.0 && !n[i].is_nan() {
            points.push((t[i], n[i] * 100.0 / d[i]));
        }
    }
    match points.as_slice() {
        [] => None,
        [(_, v)] => Some(*v),
        _ => {
            let (mut area, mut span) = (0.0, 0.0);
            for w in points.windows(2) {
                let dt = w[1].0 - w[0].0;
                area += w[0].1 * dt;
                span += dt;
            }
            if span > 0.0 {
                Some(area / span)
            } else {
                points.last().map(|p| p.1)
            }
        }
    }
}

/// CPU fragmentation: with `R` the median (nearest rank) CPU request of the active pods
/// at the end (bound or pending, positive requests only), the free CPU
/// (allocatable - requested) of Ready, schedulable nodes whose free CPU is positive but
/// below `R`, as a percent of the free CPU of all Ready, schedulable nodes. None without
/// such pods or without free CPU.
pub fn cpu_fragmentation(s: &Store) -> Option<f64> {
    let mut requests: Vec<u64> = s
        .pods
        .iter()
        .filter(|(_, p)| p.is_active() && p.requests.cpu_milli > 0)
        .map(|(_, p)| p.requests.cpu_milli as u64)
        .collect();
    requests.sort_unstable();
    let reference = percentile(&requests, 50.0)? as i64;
    let (mut free_total, mut stranded) = (0i64, 0i64);
    for (id, n) in s.nodes.iter() {
        if n.ready != ConditionStatus::True || n.unschedulable {
            continue;
        }
        let free = (n.allocatable.cpu_milli - s.node_usage(id).requested.cpu_milli).max(0);
        free_total += free;
        if free > 0 && free < reference {
            stranded += free;
        }
    }
    pct(stranded, free_total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_average_weights_by_interval() {
        let mut m = MetricsTable::new();
        for (t, r, a) in [(0.0, 0.0, 100.0), (10.0, 50.0, 100.0), (30.0, 100.0, 100.0)] {
            m.begin_row(t);
            m.set("req", r);
            m.set("alloc", a);
        }
        // 0 % for 10 s, 50 % for 20 s; the last sample ends the span.
        let v = time_average_ratio(&m, "req", "alloc").unwrap();
        assert!((v - 100.0 / 3.0).abs() < 1e-9, "{v}");
        assert_eq!(time_average_ratio(&m, "req", "missing"), None);
        let mut one = MetricsTable::new();
        one.begin_row(0.0);
        one.set("req", 1.0);
        one.set("alloc", 4.0);
        assert_eq!(time_average_ratio(&one, "req", "alloc"), Some(25.0));
        assert_eq!(
            time_average_ratio(&MetricsTable::new(), "req", "alloc"),
            None
        );
    }

    #[test]
    fn pct_needs_allocatable() {
        assert_eq!(pct(1, 0), None);
        assert_eq!(pct(1, 4), Some(25.0));
    }
}
