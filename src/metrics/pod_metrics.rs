//! The metrics APIs as the HorizontalPodAutoscaler reads them: `metrics.k8s.io`
//! PodMetrics (per-container CPU and memory usage with a timestamp and a window) and the
//! custom metrics API (per-pod metrics such as requests per second, and metrics that
//! describe another object). In the simulation the metrics-server analog fills the
//! registry on its scrape loop from the load model; live, a scraper fills it from the
//! containers' cgroups. Readers (the HPA controller) only see what was last scraped,
//! with its timestamp, exactly as upstream's REST clients do.
//!
//! Pods are keyed by their store id and checked against their uid, so a sample left
//! from a deleted pod whose id was reused is never returned for the new pod.

use crate::api::Kind;
use crate::api::objects::Uid;
use crate::engine::{SimDuration, SimTime};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

/// One container's usage in a PodMetrics sample.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerUsage {
    /// The container's name.
    pub name: String,
    /// CPU usage in millicores.
    pub cpu_milli: i64,
    /// Memory working set in bytes.
    pub memory_bytes: i64,
}

/// A `metrics.k8s.io/v1beta1` PodMetrics: usage averaged over `window`, ending at
/// `timestamp`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodUsage {
    /// When the window ended (upstream `PodMetrics.timestamp`).
    pub timestamp: SimTime,
    /// The averaging window (upstream `PodMetrics.window`).
    pub window: SimDuration,
    /// Per-container usage.
    pub containers: Vec<ContainerUsage>,
}

/// A custom-metrics value: milli-units (a `Quantity`'s `MilliValue`) at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricValue {
    /// The value in milli-units (1 request/s is 1000).
    pub milli: i64,
    /// When it was measured.
    pub timestamp: SimTime,
}

/// The object a custom Object metric describes, and the metric's name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ObjectMetricKey {
    /// The described object's kind.
    pub kind: Kind,
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// The metric's name.
    pub metric: String,
}

/// What the metrics APIs currently serve.
#[derive(Debug, Default)]
pub struct MetricsRegistry {
    pods: BTreeMap<u32, (Uid, PodUsage)>,
    pod_custom: BTreeMap<(u32, String), (Uid, MetricValue)>,
    objects: BTreeMap<ObjectMetricKey, MetricValue>,
}

/// The registry shared between the scraper and its readers (single-threaded, like the
/// backend seam).
pub type SharedMetrics = Rc<RefCell<MetricsRegistry>>;

impl MetricsRegistry {
    /// A new shared, empty registry.
    pub fn shared() -> SharedMetrics {
        Rc::new(RefCell::new(MetricsRegistry::default()))
    }

    /// Publishes a pod's PodMetrics (replacing the previous sample).
    pub fn set_pod_usage(&mut self, pod: u32, uid: Uid, usage: PodUsage) {
        self.pods.insert(pod, (uid, usage));
    }

    /// The pod's latest PodMetrics, if the API serves one for this uid.
    pub fn pod_usage(&self, pod: u32, uid: Uid) -> Option<&PodUsage> {
        self.pods
            .get(&pod)
            .filter(|(u, _)| *u == uid)
            .map(|(_, s)| s)
    }

    /// Publishes a per-pod custom metric (`pods/<name>/<metric>`).
    pub fn set_pod_metric(&mut self, pod: u32, uid: Uid, metric: &str, value: MetricValue) {
        self.pod_custom
            .insert((pod, metric.to_string()), (uid, value));
    }

    /// A per-pod custom metric, if served for this uid.
    pub fn pod_metric(&self, pod: u32, uid: Uid, metric: &str) -> Option<MetricValue> {
        self.pod_custom
            .get(&(pod, metric.to_string()))
            .filter(|(u, _)| *u == uid)
            .map(|(_, v)| *v)
    }

    /// Publishes a custom metric describing an object.
    pub fn set_object_metric(&mut self, key: ObjectMetricKey, value: MetricValue) {
        self.objects.insert(key, value);
    }

    /// A custom metric describing an object.
    pub fn object_metric(&self, key: &ObjectMetricKey) -> Option<MetricValue> {
        self.objects.get(key).copied()
    }

    /// Stops serving anything about a pod (it was deleted or stopped running).
    pub fn remove_pod(&mut self, pod: u32) {
        self.pods.remove(&pod);
        self.pod_custom.retain(|(p, _), _| *p != pod);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_are_checked_against_the_uid() {
        let mut r = MetricsRegistry::default();
        let usage = PodUsage {
            timestamp: SimTime::ZERO,
            window: SimDuration::from_secs(15),
            containers: vec![ContainerUsage {
                name: "c".into(),
                cpu_milli: 100,
                memory_bytes: 1 << 20,
            }],
        };
        r.set_pod_usage(3, Uid(7), usage.clone());
        assert_eq!(r.pod_usage(3, Uid(7)), Some(&usage));
        assert_eq!(r.pod_usage(3, Uid(8)), None);
        let v = MetricValue {
            milli: 2500,
            timestamp: SimTime::ZERO,
        };
        r.set_pod_metric(3, Uid(7), "rps", v);
        assert_eq!(r.pod_metric(3, Uid(7), "rps"), Some(v));
        r.remove_pod(3);
        assert_eq!(r.pod_usage(3, Uid(7)), None);
        assert_eq!(r.pod_metric(3, Uid(7), "rps"), None);
    }
}
