//! Metrics: the sampled time series written as `metrics.csv` ([`table`]) and the
//! metrics APIs the autoscalers read ([`pod_metrics`]: metrics.k8s.io resource metrics
//! and custom/object metrics, filled by the metrics-server analog).

pub mod pod_metrics;
pub mod table;

pub use table::*;
