//! The scheduling metrics `compare` and `check` report: a stable key per metric (used in
//! baselines and `--tolerance`), which way is better, the unit, and the noise floor
//! applied to relative tolerances. Definitions are in docs/compare.md.

use std::fmt;

/// Which way a metric improves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Smaller values are better (latency, pending pods).
    LowerIsBetter,
    /// Larger values are better (allocation).
    HigherIsBetter,
    /// Informational: neither way is better, never a regression.
    Neutral,
}

impl Direction {
    /// `lower`, `higher` or `-`, as printed in tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::LowerIsBetter => "lower",
            Direction::HigherIsBetter => "higher",
            Direction::Neutral => "-",
        }
    }

    /// How much worse `current` is than `reference` (negative when better, 0 for neutral
    /// metrics).
    pub fn worsening(self, reference: f64, current: f64) -> f64 {
        match self {
            Direction::LowerIsBetter => current - reference,
            Direction::HigherIsBetter => reference - current,
            Direction::Neutral => 0.0,
        }
    }
}

/// The unit of a metric's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A number of pods.
    Pods,
    /// A number of events (attempts, preemptions).
    Count,
    /// A number of nodes.
    Nodes,
    /// Simulated seconds.
    Seconds,
    /// Milliseconds.
    Millis,
    /// Percent (0 to 100).
    Percent,
}

impl Unit {
    /// The short unit name printed next to the metric key.
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Pods => "pods",
            Unit::Count => "count",
            Unit::Nodes => "nodes",
            Unit::Seconds => "s",
            Unit::Millis => "ms",
            Unit::Percent => "%",
        }
    }

    /// Decimals shown in tables (trailing zeros are trimmed).
    pub fn decimals(self) -> usize {
        match self {
            Unit::Pods | Unit::Count | Unit::Nodes => 2,
            Unit::Seconds | Unit::Millis | Unit::Percent => 1,
        }
    }

    /// The absolute noise floor of a relative tolerance: a change smaller than this is
    /// never a regression, so a baseline of 0 does not turn every change into one.
    pub fn noise_floor(self) -> f64 {
        match self {
            Unit::Pods | Unit::Count | Unit::Nodes => 0.5,
            Unit::Seconds => 1.0,
            Unit::Millis => 5.0,
            Unit::Percent => 0.5,
        }
    }
}

/// One scheduling metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Metric {
    /// Pods without a node at the end of the run.
    Pending,
    /// Simulated time of the last binding, when no pod is left pending.
    TimeToScheduleAll,
    /// Scheduling latency (creation to binding), 50th percentile.
    P50Latency,
    /// Scheduling latency, 99th percentile.
    P99Latency,
    /// Scheduling attempts that found no feasible node.
    FailedAttempts,
    /// Successful preemption attempts.
    Preemptions,
    /// Pods evicted by preemption.
    PreemptionVictims,
    /// CPU requested / allocatable over Ready nodes at the end.
    CpuAlloc,
    /// Time-average of CPU requested / allocatable from the metrics samples.
    CpuAllocAvg,
    /// Memory requested / allocatable over Ready nodes at the end.
    MemoryAlloc,
    /// Time-average of memory requested / allocatable from the metrics samples.
    MemoryAllocAvg,
    /// `nvidia.com/gpu` requested / allocatable over Ready nodes at the end.
    GpuAlloc,
    /// `alibabacloud.com/gpu-milli` requested / allocatable over Ready nodes at the end.
    GpuMilliAlloc,
    /// Share of free CPU stranded on nodes that cannot fit the median pod's CPU request.
    CpuFragmentation,
    /// Nodes with at least one non-terminal pod at the end.
    NodesUsed,
}

impl Metric {
    /// Every metric, in table order.
    pub const ALL: [Metric; 15] = [
        Metric::Pending,
        Metric::TimeToScheduleAll,
        Metric::P50Latency,
        Metric::P99Latency,
        Metric::FailedAttempts,
        Metric::Preemptions,
        Metric::PreemptionVictims,
        Metric::CpuAlloc,
        Metric::CpuAllocAvg,
        Metric::MemoryAlloc,
        Metric::MemoryAllocAvg,
        Metric::GpuAlloc,
        Metric::GpuMilliAlloc,
        Metric::CpuFragmentation,
        Metric::NodesUsed,
    ];

    /// The stable key (baselines, `--tolerance`, JSON).
    pub fn key(self) -> &'static str {
        match self {
            Metric::Pending => "pending",
            Metric::TimeToScheduleAll => "time_to_schedule_all",
            Metric::P50Latency => "p50_latency",
            Metric::P99Latency => "p99_latency",
            Metric::FailedAttempts => "failed_attempts",
            Metric::Preemptions => "preemptions",
            Metric::PreemptionVictims => "preemption_victims",
            Metric::CpuAlloc => "cpu_alloc",
            Metric::CpuAllocAvg => "cpu_alloc_avg",
            Metric::MemoryAlloc => "memory_alloc",
            Metric::MemoryAllocAvg => "memory_alloc_avg",
            Metric::GpuAlloc => "gpu_alloc",
            Metric::GpuMilliAlloc => "gpu_milli_alloc",
            Metric::CpuFragmentation => "cpu_fragmentation",
            Metric::NodesUsed => "nodes_used",
        }
    }

    /// The metric with this key.
    pub fn from_key(key: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.key() == key)
    }

    /// Which way is better.
    pub fn direction(self) -> Direction {
        match self {
            Metric::Preemptions => Direction::Neutral,
            Metric::CpuAlloc
            | Metric::CpuAllocAvg
            | Metric::MemoryAlloc
            | Metric::MemoryAllocAvg
            | Metric::GpuAlloc
            | Metric::GpuMilliAlloc => Direction::HigherIsBetter,
            _ => Direction::LowerIsBetter,
        }
    }

    /// The unit.
    pub fn unit(self) -> Unit {
        match self {
            Metric::Pending => Unit::Pods,
            Metric::TimeToScheduleAll => Unit::Seconds,
            Metric::P50Latency | Metric::P99Latency => Unit::Millis,
            Metric::FailedAttempts | Metric::Preemptions | Metric::PreemptionVictims => Unit::Count,
            Metric::NodesUsed => Unit::Nodes,
            _ => Unit::Percent,
        }
    }

    /// `key (unit)`, the first column of tables.
    pub fn label(self) -> String {
        format!("{} ({})", self.key(), self.unit().as_str())
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// Formats a value with at most `decimals` decimals, trailing zeros trimmed, and no
/// negative zero: identical text on every platform.
pub fn format_value(v: f64, decimals: usize) -> String {
    let s = format!("{:.*}", decimals, v);
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    if s == "-0" { "0".to_string() } else { s }
}

/// Like [`format_value`] with an explicit sign (`+0` for zero).
pub fn format_signed(v: f64, decimals: usize) -> String {
    let s = format_value(v, decimals);
    if s.starts_with('-') {
        s
    } else {
        format!("+{s}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_are_unique() {
        for m in Metric::ALL {
            assert_eq!(Metric::from_key(m.key()), Some(m));
        }
        let mut keys: Vec<&str> = Metric::ALL.iter().map(|m| m.key()).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), Metric::ALL.len());
        assert_eq!(Metric::from_key("nope"), None);
    }

    #[test]
    fn formatting_is_trimmed_and_signed() {
        assert_eq!(format_value(8.0, 2), "8");
        assert_eq!(format_value(8.333_333, 2), "8.33");
        assert_eq!(format_value(-0.0001, 1), "0");
        assert_eq!(format_signed(0.0, 1), "+0");
        assert_eq!(format_signed(-2.5, 1), "-2.5");
        assert_eq!(format_signed(12.25, 1), "+12.2");
    }

    #[test]
    fn worsening_follows_direction() {
        assert_eq!(Direction::LowerIsBetter.worsening(10.0, 12.0), 2.0);
        assert_eq!(Direction::HigherIsBetter.worsening(10.0, 12.0), -2.0);
        assert_eq!(Direction::Neutral.worsening(10.0, 12.0), 0.0);
    }
}
