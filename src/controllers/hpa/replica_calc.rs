//! The HPA replica calculator as pure functions.
//!
//! Port of upstream `pkg/controller/podautoscaler/replica_calculator.go` (ReplicaCalculator:
//! GetResourceReplicas, GetRawResourceReplicas, GetMetricReplicas, calcPlainMetricReplicas,
//! GetObjectMetricReplicas, GetObjectPerPodMetricReplicas, GetExternalMetricReplicas,
//! GetExternalPerPodMetricReplicas, groupPods, calculateRequests, removeMetricsForPods),
//! `pkg/controller/podautoscaler/metrics/utilization.go` (GetResourceUtilizationRatio,
//! GetMetricUsageRatio) and the per-pod sum of `pkg/controller/podautoscaler/metrics/client.go`
//! (getPodMetrics / getContainerMetrics).
//!
//! Everything the upstream code reads from listers, metrics clients and the wall clock is an
//! explicit input here: the pod list, the per-pod metric samples, `now` (Unix seconds) and the
//! controller timing parameters. Quantities are already converted to integer milli-units.
//! Timestamps are Unix seconds; `None` stands for Go's zero time (earlier than every real time).

use std::collections::{BTreeMap, BTreeSet};

use thiserror::Error;

/// Upstream test tolerance (`defaultTestingTolerance`); also the controller flag default.
pub const DEFAULT_TOLERANCE: f64 = 0.1;
/// Upstream test value of the CPU initialization period (`defaultTestingCPUInitializationPeriod`).
pub const TESTING_CPU_INITIALIZATION_PERIOD_SECONDS: i64 = 120;
/// Upstream test value of the initial readiness delay (`defaultTestingDelayOfInitialReadinessStatus`).
pub const TESTING_DELAY_OF_INITIAL_READINESS_STATUS_SECONDS: i64 = 10;
/// Production default of `--horizontal-pod-autoscaler-cpu-initialization-period` (5m).
pub const DEFAULT_CPU_INITIALIZATION_PERIOD_SECONDS: i64 = 300;
/// Production default of `--horizontal-pod-autoscaler-initial-readiness-delay` (30s).
pub const DEFAULT_DELAY_OF_INITIAL_READINESS_STATUS_SECONDS: i64 = 30;

/// Go's zero `time.Time` as Unix seconds (0001-01-01T00:00:00Z), for callers that need a set
/// but zero timestamp (upstream test fixtures use `metav1.Time{}` for start times).
pub const GO_ZERO_TIME_UNIX: i64 = -62_135_596_800;

/// The resource name whose pods get the extra CPU readiness rule in `groupPods`.
pub const RESOURCE_CPU: &str = "cpu";

/// Errors of the replica calculator (upstream returns these as `error` values).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ReplicaCalcError {
    /// The metrics API returned no samples at all.
    #[error(
        "unable to get metrics for resource {0}: no metrics returned from resource metrics API"
    )]
    NoMetricsReturned(String),
    /// The pod selector matched no pods.
    #[error("no pods returned by selector while calculating replica count")]
    NoPods,
    /// After dropping ignored and unready pods, no metric remained.
    #[error("did not receive metrics for targeted pods (pods might be unready)")]
    NoMetricsForTargetedPods,
    /// A (selected) container of a pod has no request for the resource.
    #[error("missing request for {resource} in container {container} of Pod {pod}")]
    MissingRequest {
        /// The resource name.
        resource: String,
        /// The container lacking the request.
        container: String,
        /// The pod name.
        pod: String,
    },
    /// A container name was given but the pod has no such container.
    #[error("container {container} not found in Pod {pod}")]
    ContainerNotFound {
        /// The container name.
        container: String,
        /// The pod name.
        pod: String,
    },
    /// No metric sample belongs to a pod with known requests.
    #[error("no metrics returned matched known pods")]
    NoMetricsMatchedKnownPods,
    /// The utilization percentage does not fit in an int32.
    #[error("resource utilization {0} is outside the int32 range")]
    UtilizationOutOfRange(i128),
    /// An Object metric target needs exactly one value.
    #[error("invalid metric values: {0}")]
    InvalidMetricValues(String),
}

/// Scale-up / scale-down tolerances (upstream `Tolerances`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerances {
    /// Tolerance below 1.0.
    pub scale_down: f64,
    /// Tolerance above 1.0.
    pub scale_up: f64,
}

impl Tolerances {
    /// The same tolerance for both directions.
    pub fn symmetric(tolerance: f64) -> Self {
        Tolerances {
            scale_down: tolerance,
            scale_up: tolerance,
        }
    }

    /// `1 - scaleDown <= ratio <= 1 + scaleUp` (upstream `Tolerances.isWithin`).
    pub fn is_within(&self, usage_ratio: f64) -> bool {
        (1.0 - self.scale_down) <= usage_ratio && usage_ratio <= (1.0 + self.scale_up)
    }
}

impl Default for Tolerances {
    fn default() -> Self {
        Tolerances::symmetric(DEFAULT_TOLERANCE)
    }
}

/// Timing parameters of the calculator (upstream `ReplicaCalculator` fields).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplicaCalcConfig {
    /// `cpuInitializationPeriod` in seconds.
    pub cpu_initialization_period_seconds: i64,
    /// `delayOfInitialReadinessStatus` in seconds.
    pub delay_of_initial_readiness_status_seconds: i64,
}

impl ReplicaCalcConfig {
    /// The values used by the upstream unit tests (120 s / 10 s).
    pub const TESTING: ReplicaCalcConfig = ReplicaCalcConfig {
        cpu_initialization_period_seconds: TESTING_CPU_INITIALIZATION_PERIOD_SECONDS,
        delay_of_initial_readiness_status_seconds:
            TESTING_DELAY_OF_INITIAL_READINESS_STATUS_SECONDS,
    };
}

impl Default for ReplicaCalcConfig {
    /// The kube-controller-manager defaults (300 s / 30 s).
    fn default() -> Self {
        ReplicaCalcConfig {
            cpu_initialization_period_seconds: DEFAULT_CPU_INITIALIZATION_PERIOD_SECONDS,
            delay_of_initial_readiness_status_seconds:
                DEFAULT_DELAY_OF_INITIAL_READINESS_STATUS_SECONDS,
        }
    }
}

/// Pod phase as far as the HPA cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PodPhase {
    /// `Pending`.
    Pending,
    /// `Running`.
    Running,
    /// `Succeeded`.
    Succeeded,
    /// `Failed`.
    Failed,
    /// `Unknown`.
    Unknown,
}

/// Status of the pod's `Ready` condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ConditionStatus {
    /// `True`.
    True,
    /// `False`.
    False,
    /// `Unknown`.
    Unknown,
}

/// One container's requests, in milli-units per resource name.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HpaContainer {
    /// Container name.
    pub name: String,
    /// Requests in milli-units (`Quantity.MilliValue()`), keyed by resource name.
    pub requests_milli: BTreeMap<String, i64>,
}

/// The pod fields the replica calculator reads.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HpaPod {
    /// Pod name (the key joining pods and metrics).
    pub name: String,
    /// `status.phase`; `None` is treated as neither Pending, Running nor Failed.
    pub phase: Option<PodPhase>,
    /// Status of the `Ready` condition; `None` = no Ready condition.
    pub ready: Option<ConditionStatus>,
    /// `lastTransitionTime` of the Ready condition (`None` = zero time).
    pub ready_last_transition_time: Option<i64>,
    /// `status.startTime` (`None` = unset).
    pub start_time: Option<i64>,
    /// `metadata.deletionTimestamp` (`None` = not being deleted).
    pub deletion_timestamp: Option<i64>,
    /// Regular containers.
    pub containers: Vec<HpaContainer>,
    /// Init containers with `restartPolicy: Always` (sidecars); they count toward requests.
    pub restartable_init_containers: Vec<HpaContainer>,
}

impl HpaPod {
    /// `podutil.IsPodReady`: the Ready condition exists and is `True`.
    pub fn is_ready(&self) -> bool {
        self.ready == Some(ConditionStatus::True)
    }
}

/// A metric value for one pod (upstream `metrics.PodMetric`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PodMetric {
    /// Sample timestamp (Unix seconds).
    pub timestamp: i64,
    /// Sample window in seconds.
    pub window_seconds: i64,
    /// Value in milli-units.
    pub value: i64,
}

/// Metrics per pod name (upstream `metrics.PodMetricsInfo`).
pub type PodMetricsInfo = BTreeMap<String, PodMetric>;

/// One container's usage in a resource-metrics sample, milli-units per resource name.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContainerUsage {
    /// Container name.
    pub name: String,
    /// Usage in milli-units keyed by resource name.
    pub usage_milli: BTreeMap<String, i64>,
}

/// A `PodMetrics` object of the resource metrics API.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PodResourceSample {
    /// Pod name.
    pub pod_name: String,
    /// Sample timestamp (Unix seconds).
    pub timestamp: i64,
    /// Sample window in seconds.
    pub window_seconds: i64,
    /// Per-container usage.
    pub containers: Vec<ContainerUsage>,
}

/// Converts resource-metrics samples to per-pod metrics and the reported timestamp.
///
/// Port of `metrics/client.go` resourceMetricsClient.GetResourceMetric + getPodMetrics /
/// getContainerMetrics: no samples is an error; the timestamp is the first sample's; with no
/// `container`, a pod's value is the sum over its containers and a pod with no containers or a
/// container lacking the resource gets no metric; with a `container`, only that container counts.
pub fn pod_metrics_from_samples(
    samples: &[PodResourceSample],
    resource: &str,
    container: Option<&str>,
) -> Result<(PodMetricsInfo, i64), ReplicaCalcError> {
    let first = samples
        .first()
        .ok_or_else(|| ReplicaCalcError::NoMetricsReturned(resource.to_string()))?;
    let mut out = PodMetricsInfo::new();
    for sample in samples {
        let value = match container {
            None => {
                let mut missing = sample.containers.is_empty();
                let mut sum = 0i64;
                for c in &sample.containers {
                    match c.usage_milli.get(resource) {
                        Some(v) => sum = sum.saturating_add(*v),
                        None => {
                            missing = true;
                            break;
                        }
                    }
                }
                if missing { None } else { Some(sum) }
            }
            Some(name) => sample
                .containers
                .iter()
                .find(|c| c.name == name)
                .and_then(|c| c.usage_milli.get(resource).copied()),
        };
        if let Some(value) = value {
            out.insert(
                sample.pod_name.clone(),
                PodMetric {
                    timestamp: sample.timestamp,
                    window_seconds: sample.window_seconds,
                    value,
                },
            );
        }
    }
    Ok((out, first.timestamp))
}

/// The result of `groupPods`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PodGroups {
    /// Number of ready pods that have a metric.
    pub ready_pod_count: usize,
    /// Pending pods, and (CPU only) pods judged unready.
    pub unready_pods: BTreeSet<String>,
    /// Pods without a metric.
    pub missing_pods: BTreeSet<String>,
    /// Deleted or Failed pods.
    pub ignored_pods: BTreeSet<String>,
}

/// The extra CPU rule of `replica_calculator.go` groupPods: whether a running pod's CPU
/// sample is ignored as unready (no Ready condition or start time; within the CPU
/// initialization period an unready pod or a sample younger than one window after the last
/// readiness transition; after it, a pod unready since before the initial readiness delay).
pub(crate) fn cpu_sample_unready(
    ready: Option<ConditionStatus>,
    start_time: Option<i64>,
    ready_last_transition_time: Option<i64>,
    metric: &PodMetric,
    config: &ReplicaCalcConfig,
    now: i64,
) -> bool {
    match (ready, start_time) {
        (None, _) | (_, None) => true,
        (Some(status), Some(start)) => {
            // Go zero time for an unset transition time: earlier than everything.
            let transition = ready_last_transition_time;
            if start.saturating_add(config.cpu_initialization_period_seconds) > now {
                // Still within the initialization period: ignore the sample if the pod is
                // unready or one metric window has not passed since the last transition.
                status == ConditionStatus::False
                    || match transition {
                        Some(t) => metric.timestamp < t.saturating_add(metric.window_seconds),
                        None => false,
                    }
            } else {
                // Ignore the metric if the pod is unready and has never been ready.
                status == ConditionStatus::False
                    && match transition {
                        Some(t) => {
                            start.saturating_add(config.delay_of_initial_readiness_status_seconds)
                                > t
                        }
                        None => true,
                    }
            }
        }
    }
}

/// Port of `replica_calculator.go` groupPods.
///
/// `resource` is the resource name for Resource metrics (`None` for Pods metrics); the extra
/// readiness rule applies only when it is `cpu`.
pub fn group_pods(
    pods: &[HpaPod],
    metrics: &PodMetricsInfo,
    resource: Option<&str>,
    config: &ReplicaCalcConfig,
    now: i64,
) -> PodGroups {
    let mut groups = PodGroups::default();
    for pod in pods {
        if pod.deletion_timestamp.is_some() || pod.phase == Some(PodPhase::Failed) {
            groups.ignored_pods.insert(pod.name.clone());
            continue;
        }
        if pod.phase == Some(PodPhase::Pending) {
            groups.unready_pods.insert(pod.name.clone());
            continue;
        }
        let Some(metric) = metrics.get(&pod.name) else {
            groups.missing_pods.insert(pod.name.clone());
            continue;
        };
        if resource == Some(RESOURCE_CPU) {
            let unready = cpu_sample_unready(
                pod.ready,
                pod.start_time,
                pod.ready_last_transition_time,
                metric,
                config,
                now,
            );
            if unready {
                groups.unready_pods.insert(pod.name.clone());
                continue;
            }
        }
        groups.ready_pod_count += 1;
    }
    groups
}

/// Port of `replica_calculator.go` calculateRequests / calculatePodRequestsFromContainers:
/// per-pod request (milli) of `resource`, summed over containers and restartable init
/// containers, or of the single named `container`. (Pod-level requests are not modelled.)
pub fn calculate_requests(
    pods: &[HpaPod],
    container: Option<&str>,
    resource: &str,
) -> Result<BTreeMap<String, i64>, ReplicaCalcError> {
    let mut requests = BTreeMap::new();
    'pods: for pod in pods {
        let mut request = 0i64;
        for c in pod
            .containers
            .iter()
            .chain(pod.restartable_init_containers.iter())
        {
            if container.is_none() || container == Some(c.name.as_str()) {
                match c.requests_milli.get(resource) {
                    Some(v) => request = request.saturating_add(*v),
                    None => {
                        return Err(ReplicaCalcError::MissingRequest {
                            resource: resource.to_string(),
                            container: c.name.clone(),
                            pod: pod.name.clone(),
                        });
                    }
                }
            }
            if container == Some(c.name.as_str()) {
                requests.insert(pod.name.clone(), request);
                continue 'pods;
            }
        }
        if let Some(name) = container {
            return Err(ReplicaCalcError::ContainerNotFound {
                container: name.to_string(),
                pod: pod.name.clone(),
            });
        }
        requests.insert(pod.name.clone(), request);
    }
    Ok(requests)
}

fn remove_metrics_for_pods(metrics: &mut PodMetricsInfo, pods: &BTreeSet<String>) {
    for pod in pods {
        metrics.remove(pod);
    }
}

/// Result of `GetResourceUtilizationRatio`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UtilizationRatio {
    /// utilization / target.
    pub usage_ratio: f64,
    /// floor(sum usage * 100 / sum requests), percent.
    pub utilization: i32,
    /// floor(sum usage / number of samples with a request), milli.
    pub raw_average_value: i64,
}

/// Port of `metrics/utilization.go` GetResourceUtilizationRatio (samples of pods without a
/// request are extraneous and skipped; exact integer arithmetic).
pub fn resource_utilization_ratio(
    metrics: &PodMetricsInfo,
    requests: &BTreeMap<String, i64>,
    target_utilization: i32,
) -> Result<UtilizationRatio, ReplicaCalcError> {
    let mut metrics_total: i128 = 0;
    let mut requests_total: i128 = 0;
    let mut entries: i128 = 0;
    for (pod, metric) in metrics {
        let Some(request) = requests.get(pod) else {
            continue;
        };
        metrics_total += i128::from(metric.value);
        requests_total += i128::from(*request);
        entries += 1;
    }
    utilization_ratio_of_sums(metrics_total, requests_total, entries, target_utilization)
}

/// The arithmetic of GetResourceUtilizationRatio on the sums of usage and requests over
/// `entries` samples.
pub(crate) fn utilization_ratio_of_sums(
    metrics_total: i128,
    requests_total: i128,
    entries: i128,
    target_utilization: i32,
) -> Result<UtilizationRatio, ReplicaCalcError> {
    if requests_total == 0 {
        return Err(ReplicaCalcError::NoMetricsMatchedKnownPods);
    }
    // Go integer division truncates toward zero, as does i128 division.
    let percentage = metrics_total * 100 / requests_total;
    let utilization = i32::try_from(percentage)
        .map_err(|_| ReplicaCalcError::UtilizationOutOfRange(percentage))?;
    let raw = metrics_total / entries;
    let raw_average_value = i64::try_from(raw).unwrap_or(if raw > 0 { i64::MAX } else { i64::MIN });
    Ok(UtilizationRatio {
        usage_ratio: f64::from(utilization) / f64::from(target_utilization),
        utilization,
        raw_average_value,
    })
}

/// Port of `metrics/utilization.go` GetMetricUsageRatio: (average / target, average) where
/// average = floor(sum / count) in milli-units. An empty map gives (0, 0) (callers never pass one).
pub fn metric_usage_ratio(metrics: &PodMetricsInfo, target_usage: i64) -> (f64, i64) {
    if metrics.is_empty() {
        return (0.0, 0);
    }
    let total: i128 = metrics.values().map(|m| i128::from(m.value)).sum();
    let avg = total / metrics.len() as i128;
    let current = i64::try_from(avg).unwrap_or(if avg > 0 { i64::MAX } else { i64::MIN });
    (current as f64 / target_usage as f64, current)
}

/// Go's `int32(math.Ceil(x))` for the values the HPA produces (saturating, NaN -> 0).
pub(crate) fn ceil_i32(x: f64) -> i32 {
    x.ceil() as i32
}

/// Output of [`get_resource_replicas`] (upstream's named results).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceReplicas {
    /// Proposed replica count.
    pub replicas: i32,
    /// Current average utilization (percent of request), first pass.
    pub utilization: i32,
    /// Current average value (milli), first pass.
    pub raw_utilization: i64,
    /// Timestamp of the metrics (first sample).
    pub timestamp: i64,
}

/// Everything [`get_resource_replicas`] needs besides the pods and samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ResourceTarget<'a> {
    /// Resource name (`cpu`, `memory`, ...).
    pub resource: &'a str,
    /// Container name for ContainerResource metrics; `None` for Resource metrics.
    pub container: Option<&'a str>,
    /// Target average utilization in percent.
    pub target_utilization: i32,
}

/// Port of `replica_calculator.go` GetResourceReplicas (Resource metric, Utilization target).
pub fn get_resource_replicas(
    current_replicas: i32,
    target: ResourceTarget<'_>,
    tolerances: Tolerances,
    pods: &[HpaPod],
    samples: &[PodResourceSample],
    config: &ReplicaCalcConfig,
    now: i64,
) -> Result<ResourceReplicas, ReplicaCalcError> {
    let (mut metrics, timestamp) =
        pod_metrics_from_samples(samples, target.resource, target.container)?;
    if pods.is_empty() {
        return Err(ReplicaCalcError::NoPods);
    }
    let groups = group_pods(pods, &metrics, Some(target.resource), config, now);
    remove_metrics_for_pods(&mut metrics, &groups.ignored_pods);
    remove_metrics_for_pods(&mut metrics, &groups.unready_pods);
    if metrics.is_empty() {
        return Err(ReplicaCalcError::NoMetricsForTargetedPods);
    }
    let requests = calculate_requests(pods, target.container, target.resource)?;
    let first = resource_utilization_ratio(&metrics, &requests, target.target_utilization)?;
    let usage_ratio = first.usage_ratio;
    let result = |replicas: i32| ResourceReplicas {
        replicas,
        utilization: first.utilization,
        raw_utilization: first.raw_average_value,
        timestamp,
    };

    let scale_up_with_unready = !groups.unready_pods.is_empty() && usage_ratio > 1.0;
    if !scale_up_with_unready && groups.missing_pods.is_empty() {
        if tolerances.is_within(usage_ratio) {
            return Ok(result(current_replicas));
        }
        return Ok(result(ceil_i32(
            usage_ratio * groups.ready_pod_count as f64,
        )));
    }

    if !groups.missing_pods.is_empty() {
        if usage_ratio < 1.0 {
            // Scale-down: missing pods use 100% of their request, or the target when above 100%.
            let fallback = i64::from(target.target_utilization.max(100));
            for pod in &groups.missing_pods {
                let request = requests.get(pod).copied().unwrap_or(0);
                metrics.insert(
                    pod.clone(),
                    PodMetric {
                        value: request.saturating_mul(fallback) / 100,
                        ..PodMetric::default()
                    },
                );
            }
        } else if usage_ratio > 1.0 {
            for pod in &groups.missing_pods {
                metrics.insert(pod.clone(), PodMetric::default());
            }
        }
    }
    if scale_up_with_unready {
        for pod in &groups.unready_pods {
            metrics.insert(pod.clone(), PodMetric::default());
        }
    }

    let new_usage_ratio =
        resource_utilization_ratio(&metrics, &requests, target.target_utilization)?.usage_ratio;
    if tolerances.is_within(new_usage_ratio)
        || (usage_ratio < 1.0 && new_usage_ratio > 1.0)
        || (usage_ratio > 1.0 && new_usage_ratio < 1.0)
    {
        return Ok(result(current_replicas));
    }
    let new_replicas = ceil_i32(new_usage_ratio * metrics.len() as f64);
    if (new_usage_ratio < 1.0 && new_replicas > current_replicas)
        || (new_usage_ratio > 1.0 && new_replicas < current_replicas)
    {
        return Ok(result(current_replicas));
    }
    Ok(result(new_replicas))
}

/// Port of `replica_calculator.go` GetRawResourceReplicas (Resource metric, AverageValue
/// target in milli): returns (replicas, average usage milli, timestamp).
#[allow(clippy::too_many_arguments)]
pub fn get_raw_resource_replicas(
    current_replicas: i32,
    target_usage_milli: i64,
    resource: &str,
    container: Option<&str>,
    tolerances: Tolerances,
    pods: &[HpaPod],
    samples: &[PodResourceSample],
    config: &ReplicaCalcConfig,
    now: i64,
) -> Result<(i32, i64, i64), ReplicaCalcError> {
    let (metrics, timestamp) = pod_metrics_from_samples(samples, resource, container)?;
    let (replicas, usage) = calc_plain_metric_replicas(
        metrics,
        current_replicas,
        target_usage_milli,
        tolerances,
        pods,
        Some(resource),
        config,
        now,
    )?;
    Ok((replicas, usage, timestamp))
}

/// Port of `replica_calculator.go` calcPlainMetricReplicas (used by GetMetricReplicas for Pods
/// metrics with `resource = None`, and by GetRawResourceReplicas). Returns (replicas, average).
#[allow(clippy::too_many_arguments)]
pub fn calc_plain_metric_replicas(
    mut metrics: PodMetricsInfo,
    current_replicas: i32,
    target_usage: i64,
    tolerances: Tolerances,
    pods: &[HpaPod],
    resource: Option<&str>,
    config: &ReplicaCalcConfig,
    now: i64,
) -> Result<(i32, i64), ReplicaCalcError> {
    if pods.is_empty() {
        return Err(ReplicaCalcError::NoPods);
    }
    let groups = group_pods(pods, &metrics, resource, config, now);
    remove_metrics_for_pods(&mut metrics, &groups.ignored_pods);
    remove_metrics_for_pods(&mut metrics, &groups.unready_pods);
    if metrics.is_empty() {
        return Err(ReplicaCalcError::NoMetricsForTargetedPods);
    }
    let (usage_ratio, usage) = metric_usage_ratio(&metrics, target_usage);

    let scale_up_with_unready = !groups.unready_pods.is_empty() && usage_ratio > 1.0;
    if !scale_up_with_unready && groups.missing_pods.is_empty() {
        if tolerances.is_within(usage_ratio) {
            return Ok((current_replicas, usage));
        }
        return Ok((ceil_i32(usage_ratio * groups.ready_pod_count as f64), usage));
    }

    if !groups.missing_pods.is_empty() {
        if usage_ratio < 1.0 {
            // Scale-down: missing pods use exactly the target.
            for pod in &groups.missing_pods {
                metrics.insert(
                    pod.clone(),
                    PodMetric {
                        value: target_usage,
                        ..PodMetric::default()
                    },
                );
            }
        } else if usage_ratio > 1.0 {
            for pod in &groups.missing_pods {
                metrics.insert(pod.clone(), PodMetric::default());
            }
        }
    }
    if scale_up_with_unready {
        for pod in &groups.unready_pods {
            metrics.insert(pod.clone(), PodMetric::default());
        }
    }

    let (new_usage_ratio, _) = metric_usage_ratio(&metrics, target_usage);
    if tolerances.is_within(new_usage_ratio)
        || (usage_ratio < 1.0 && new_usage_ratio > 1.0)
        || (usage_ratio > 1.0 && new_usage_ratio < 1.0)
    {
        return Ok((current_replicas, usage));
    }
    let new_replicas = ceil_i32(new_usage_ratio * metrics.len() as f64);
    if (new_usage_ratio < 1.0 && new_replicas > current_replicas)
        || (new_usage_ratio > 1.0 && new_replicas < current_replicas)
    {
        return Ok((current_replicas, usage));
    }
    Ok((new_replicas, usage))
}

/// Port of `replica_calculator.go` GetMetricReplicas (Pods metric, AverageValue target):
/// returns (replicas, average usage milli).
pub fn get_metric_replicas(
    current_replicas: i32,
    target_usage_milli: i64,
    tolerances: Tolerances,
    pods: &[HpaPod],
    metrics: PodMetricsInfo,
    config: &ReplicaCalcConfig,
    now: i64,
) -> Result<(i32, i64), ReplicaCalcError> {
    calc_plain_metric_replicas(
        metrics,
        current_replicas,
        target_usage_milli,
        tolerances,
        pods,
        None,
        config,
        now,
    )
}

/// Port of `replica_calculator.go` getReadyPodsCount: Running pods whose Ready condition is True.
pub fn ready_pods_count(pods: &[HpaPod]) -> Result<i64, ReplicaCalcError> {
    if pods.is_empty() {
        return Err(ReplicaCalcError::NoPods);
    }
    Ok(pods
        .iter()
        .filter(|p| p.phase == Some(PodPhase::Running) && p.is_ready())
        .count() as i64)
}

/// Port of `replica_calculator.go` getUsageRatioReplicaCount: with currentReplicas = 0 the
/// result is ceil(ratio) (scale from zero); otherwise current within tolerance, else
/// ceil(ratio * ready pods), capped at MaxInt32.
pub fn usage_ratio_replica_count(
    current_replicas: i32,
    usage_ratio: f64,
    tolerances: Tolerances,
    pods: &[HpaPod],
) -> Result<i32, ReplicaCalcError> {
    if current_replicas != 0 {
        if tolerances.is_within(usage_ratio) {
            return Ok(current_replicas);
        }
        let ready = ready_pods_count(pods)?;
        let proposal = usage_ratio * ready as f64;
        if proposal > f64::from(i32::MAX) {
            return Ok(i32::MAX);
        }
        Ok(ceil_i32(proposal))
    } else {
        Ok(ceil_i32(usage_ratio))
    }
}

/// Port of `replica_calculator.go` GetObjectMetricReplicas (Object metric, Value target):
/// returns (replicas, usage milli).
pub fn get_object_metric_replicas(
    current_replicas: i32,
    target_usage_milli: i64,
    usage_milli: i64,
    tolerances: Tolerances,
    pods: &[HpaPod],
) -> Result<(i32, i64), ReplicaCalcError> {
    let usage_ratio = usage_milli as f64 / target_usage_milli as f64;
    let replicas = usage_ratio_replica_count(current_replicas, usage_ratio, tolerances, pods)?;
    Ok((replicas, usage_milli))
}

/// Port of `replica_calculator.go` GetObjectPerPodMetricReplicas (Object metric, AverageValue
/// target): returns (replicas, usage per current replica, rounded up, milli).
pub fn get_object_per_pod_metric_replicas(
    status_replicas: i32,
    target_average_usage_milli: i64,
    usage_milli: i64,
    tolerances: Tolerances,
) -> (i32, i64) {
    let mut replicas = status_replicas;
    let usage_ratio =
        usage_milli as f64 / (target_average_usage_milli as f64 * f64::from(status_replicas));
    if !tolerances.is_within(usage_ratio) {
        replicas = ceil_i32(usage_milli as f64 / target_average_usage_milli as f64);
    }
    let per_pod = (usage_milli as f64 / f64::from(status_replicas)).ceil() as i64;
    (replicas, per_pod)
}

/// Sum of External metric series, capped at MaxInt64 on positive overflow (upstream
/// GetExternalMetricReplicas).
pub fn external_metric_usage(values_milli: &[i64]) -> i64 {
    let mut usage: i64 = 0;
    for v in values_milli {
        if *v > 0 && usage > i64::MAX - *v {
            return i64::MAX;
        }
        usage = usage.saturating_add(*v);
    }
    usage
}

/// Port of `replica_calculator.go` GetExternalMetricReplicas (External metric, Value target):
/// returns (replicas, summed usage milli).
pub fn get_external_metric_replicas(
    current_replicas: i32,
    target_usage_milli: i64,
    values_milli: &[i64],
    tolerances: Tolerances,
    pods: &[HpaPod],
) -> Result<(i32, i64), ReplicaCalcError> {
    let usage = external_metric_usage(values_milli);
    let usage_ratio = usage as f64 / target_usage_milli as f64;
    let replicas = usage_ratio_replica_count(current_replicas, usage_ratio, tolerances, pods)?;
    Ok((replicas, usage))
}

/// Port of `replica_calculator.go` GetExternalPerPodMetricReplicas (External metric,
/// AverageValue target): returns (replicas, usage per current replica, rounded up, milli).
pub fn get_external_per_pod_metric_replicas(
    status_replicas: i32,
    target_usage_per_pod_milli: i64,
    values_milli: &[i64],
    tolerances: Tolerances,
) -> (i32, i64) {
    let usage = external_metric_usage(values_milli);
    let mut replicas = status_replicas;
    let usage_ratio =
        usage as f64 / (target_usage_per_pod_milli as f64 * f64::from(status_replicas));
    if !tolerances.is_within(usage_ratio) {
        let proposal = (usage as f64 / target_usage_per_pod_milli as f64).ceil();
        replicas = if proposal > f64::from(i32::MAX) {
            i32::MAX
        } else {
            proposal as i32
        };
    }
    let per_pod = if usage as f64 >= i64::MAX as f64 {
        i64::MAX
    } else {
        (usage as f64 / f64::from(status_replicas)).ceil() as i64
    };
    (replicas, per_pod)
}

#[cfg(test)]
mod tests {
    //! Rows restated from upstream `pkg/controller/podautoscaler/replica_calculator_test.go`
    //! (TestReplicaCalc* tables, TestGroupPods, TestCalculateRequests). Upstream fixtures use a
    //! zero start time and zero Ready transition time unless stated, metric timestamps at the
    //! zero time and a 1 minute window; hot/cool CPU start times are now / now - 3 min.
    use super::*;

    const NOW: i64 = 1_700_000_000;
    const ZERO: i64 = GO_ZERO_TIME_UNIX;
    const T: ConditionStatus = ConditionStatus::True;
    const F: ConditionStatus = ConditionStatus::False;

    #[derive(Default)]
    struct Fx {
        current: i32,
        readiness: Vec<ConditionStatus>,
        start: Vec<i64>,
        phase: Vec<PodPhase>,
        deleted: Vec<bool>,
        requests: Vec<i64>,
        levels: Vec<Vec<i64>>,
        pod_names: Vec<&'static str>,
    }

    fn container(name: &str, req: Option<i64>) -> HpaContainer {
        HpaContainer {
            name: name.to_string(),
            requests_milli: req
                .map(|r| [("cpu".to_string(), r)].into())
                .unwrap_or_default(),
        }
    }

    fn pods(fx: &Fx) -> Vec<HpaPod> {
        let n = (fx.current as usize).max(fx.phase.len());
        (0..n)
            .map(|i| {
                let req = fx.requests.get(i).copied();
                HpaPod {
                    name: format!("test-pod-{i}"),
                    phase: Some(fx.phase.get(i).copied().unwrap_or(PodPhase::Running)),
                    ready: Some(fx.readiness.get(i).copied().unwrap_or(T)),
                    ready_last_transition_time: Some(ZERO),
                    start_time: Some(fx.start.get(i).copied().unwrap_or(ZERO)),
                    deletion_timestamp: fx.deleted.get(i).copied().unwrap_or(false).then_some(NOW),
                    containers: vec![container("container1", req), container("container2", req)],
                    restartable_init_containers: vec![],
                }
            })
            .collect()
    }

    fn samples(fx: &Fx) -> Vec<PodResourceSample> {
        fx.levels
            .iter()
            .enumerate()
            .map(|(i, lv)| PodResourceSample {
                pod_name: fx
                    .pod_names
                    .get(i)
                    .map(|s| s.to_string())
                    .unwrap_or(format!("test-pod-{i}")),
                timestamp: ZERO,
                window_seconds: 60,
                containers: (0..2)
                    .map(|j| match lv.get(j) {
                        Some(v) => ContainerUsage {
                            name: format!("container{}", j + 1),
                            usage_milli: [("cpu".to_string(), *v)].into(),
                        },
                        None => ContainerUsage::default(),
                    })
                    .collect(),
            })
            .collect()
    }

    fn levels(per_container: &[i64]) -> Vec<Vec<i64>> {
        per_container.iter().map(|v| vec![*v, *v]).collect()
    }

    fn run(
        fx: &Fx,
        container: Option<&str>,
        target: i32,
        tol: Tolerances,
    ) -> Result<ResourceReplicas, ReplicaCalcError> {
        get_resource_replicas(
            fx.current,
            ResourceTarget {
                resource: "cpu",
                container,
                target_utilization: target,
            },
            tol,
            &pods(fx),
            &samples(fx),
            &ReplicaCalcConfig::TESTING,
            NOW,
        )
    }

    fn check(fx: Fx, container: Option<&str>, target: i32, want: (i32, i32, i64)) {
        let r = run(&fx, container, target, Tolerances::default()).expect("no error");
        assert_eq!((r.replicas, r.utilization, r.raw_utilization), want);
        assert_eq!(r.timestamp, ZERO);
    }

    #[test]
    fn resource_scale_down() {
        check(
            Fx {
                current: 5,
                requests: vec![1000; 5],
                levels: levels(&[100, 300, 500, 250, 250]),
                ..Fx::default()
            },
            None,
            50,
            (3, 28, 560),
        );
    }

    #[test]
    fn resource_scale_down_container_metric() {
        check(
            Fx {
                current: 5,
                requests: vec![1000; 5],
                levels: vec![
                    vec![1000, 100],
                    vec![1000, 300],
                    vec![1000, 500],
                    vec![1000, 250],
                    vec![1000, 250],
                ],
                ..Fx::default()
            },
            Some("container2"),
            50,
            (3, 28, 280),
        );
    }

    #[test]
    fn resource_scale_down_excludes_unready_pods() {
        check(
            Fx {
                current: 5,
                readiness: vec![T, T, T, F, F],
                requests: vec![1000; 5],
                levels: levels(&[100, 300, 500, 250, 250]),
                ..Fx::default()
            },
            None,
            50,
            (2, 30, 600),
        );
    }

    #[test]
    fn resource_scale_down_ignores_hot_cpu_pods() {
        let (cool, hot) = (NOW - 180, NOW);
        check(
            Fx {
                current: 5,
                start: vec![cool, cool, cool, hot, hot],
                requests: vec![1000; 5],
                levels: levels(&[100, 300, 500, 250, 250]),
                ..Fx::default()
            },
            None,
            50,
            (2, 30, 600),
        );
    }

    #[test]
    fn resource_scale_down_failed_and_deleted_pods_ignored() {
        let base = || Fx {
            current: 5,
            readiness: vec![T, T, T, T, T, F, F],
            requests: vec![1000; 7],
            levels: levels(&[100, 300, 500, 250, 250]),
            ..Fx::default()
        };
        check(
            Fx {
                phase: [vec![PodPhase::Running; 5], vec![PodPhase::Failed; 2]].concat(),
                ..base()
            },
            None,
            50,
            (3, 28, 560),
        );
        check(
            Fx {
                phase: vec![PodPhase::Running; 7],
                deleted: vec![false, false, false, false, false, true, true],
                ..base()
            },
            None,
            50,
            (3, 28, 560),
        );
    }

    #[test]
    fn resource_scale_up_failed_pods_ignored_with_missing_container_metric() {
        check(
            Fx {
                current: 2,
                readiness: vec![T, T, F, F],
                phase: vec![
                    PodPhase::Running,
                    PodPhase::Running,
                    PodPhase::Failed,
                    PodPhase::Failed,
                ],
                requests: vec![1000; 4],
                levels: vec![vec![1000, 500], vec![9000, 700], vec![1000], vec![9000]],
                ..Fx::default()
            },
            Some("container2"),
            30,
            (4, 60, 600),
        );
    }

    #[test]
    fn resource_tolerance_rows() {
        let fx = |lv: &[i64]| Fx {
            current: 3,
            requests: vec![900, 1000, 1100],
            levels: levels(lv),
            ..Fx::default()
        };
        // TestReplicaCalcTolerance
        check(fx(&[1010, 1030, 1020]), None, 100, (3, 102, 2040));
        // TestReplicaCalcConfigurableTolerance rows.
        type Row<'a> = (&'a [i64], Tolerances, (i32, i32, i64));
        let cases: [Row<'_>; 5] = [
            (
                &[909, 1010, 1111],
                Tolerances::symmetric(0.0),
                (4, 101, 2020),
            ),
            (
                &[1890, 1910, 1900],
                Tolerances {
                    scale_down: 0.1,
                    scale_up: 2.0,
                },
                (3, 190, 3800),
            ),
            (
                &[1100, 1080, 1090],
                Tolerances {
                    scale_down: 2.0,
                    scale_up: 0.08,
                },
                (4, 109, 2180),
            ),
            (
                &[660, 640, 650],
                Tolerances {
                    scale_down: 0.36,
                    scale_up: 0.1,
                },
                (3, 65, 1300),
            ),
            (
                &[660, 640, 650],
                Tolerances {
                    scale_down: 0.34,
                    scale_up: 0.1,
                },
                (2, 65, 1300),
            ),
        ];
        for (lv, tol, want) in cases {
            let r = run(&fx(lv), None, 100, tol).expect("no error");
            assert_eq!(
                (r.replicas, r.utilization, r.raw_utilization),
                want,
                "{lv:?}"
            );
        }
    }

    #[test]
    fn resource_errors() {
        // TestReplicaCalcDisjointResourcesMetrics.
        let fx = Fx {
            current: 1,
            requests: vec![1000],
            levels: levels(&[100]),
            pod_names: vec!["an-older-pod-name"],
            ..Fx::default()
        };
        assert_eq!(
            run(&fx, None, 100, Tolerances::default()),
            Err(ReplicaCalcError::NoMetricsMatchedKnownPods)
        );
        // Empty metrics list.
        let fx = Fx {
            current: 4,
            requests: vec![1000; 4],
            ..Fx::default()
        };
        assert!(matches!(
            run(&fx, None, 100, Tolerances::default()),
            Err(ReplicaCalcError::NoMetricsReturned(_))
        ));
        // Missing request.
        let fx = Fx {
            current: 2,
            requests: vec![1000],
            levels: levels(&[100, 100]),
            ..Fx::default()
        };
        assert!(matches!(
            run(&fx, None, 100, Tolerances::default()),
            Err(ReplicaCalcError::MissingRequest { .. })
        ));
    }

    fn pod_metrics(values: &[i64]) -> PodMetricsInfo {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                (
                    format!("test-pod-{i}"),
                    PodMetric {
                        value: *v,
                        timestamp: ZERO,
                        window_seconds: 60,
                    },
                )
            })
            .collect()
    }

    fn run_cm(fx: &Fx, values: &[i64], target: i64, tol: Tolerances) -> (i32, i64) {
        get_metric_replicas(
            fx.current,
            target,
            tol,
            &pods(fx),
            pod_metrics(values),
            &ReplicaCalcConfig::TESTING,
            NOW,
        )
        .expect("no error")
    }

    #[test]
    fn pods_metric_rows() {
        let three = Fx {
            current: 3,
            ..Fx::default()
        };
        let tol = Tolerances::default();
        assert_eq!(
            run_cm(&three, &[20000, 10000, 30000], 15000, tol),
            (4, 20000)
        );
        assert_eq!(
            run_cm(&three, &[20000, 21000, 21000], 20000, tol),
            (3, 20666)
        );
        let narrow = Tolerances {
            scale_down: 0.1,
            scale_up: 0.01,
        };
        assert_eq!(
            run_cm(&three, &[20000, 21000, 21000], 20000, narrow),
            (4, 20666)
        );
        let five = Fx {
            current: 5,
            ..Fx::default()
        };
        assert_eq!(run_cm(&five, &[12000; 5], 20000, tol), (3, 12000));
        // TestReplicaCalcScaleUpCMUnreadyHotCpuScaleWouldScaleDown: readiness is not consulted
        // for Pods metrics.
        let (cool, hot) = (NOW - 180, NOW);
        let fx = Fx {
            current: 3,
            readiness: vec![F, T, F],
            start: vec![hot, cool, hot],
            ..Fx::default()
        };
        assert_eq!(run_cm(&fx, &[50000, 15000, 30000], 15000, tol), (7, 31666));
    }

    #[test]
    fn object_and_external_rows() {
        let tol = Tolerances::default();
        let three = pods(&Fx {
            current: 3,
            ..Fx::default()
        });
        let five = pods(&Fx {
            current: 5,
            ..Fx::default()
        });
        let unready = pods(&Fx {
            current: 3,
            readiness: vec![F, T, F],
            ..Fx::default()
        });
        assert_eq!(
            get_object_metric_replicas(3, 15000, 20000, tol, &three),
            Ok((4, 20000))
        );
        assert_eq!(
            get_object_per_pod_metric_replicas(3, 5000, 20000, tol),
            (4, 6667)
        );
        assert_eq!(
            get_object_metric_replicas(3, 10000, 50000, tol, &unready),
            Ok((5, 50000))
        );
        assert_eq!(
            get_external_metric_replicas(3, 4400, &[8600], tol, &unready),
            Ok((2, 8600))
        );
        assert_eq!(
            get_object_metric_replicas(5, 20000, 12000, tol, &five),
            Ok((3, 12000))
        );
        assert_eq!(
            get_object_per_pod_metric_replicas(5, 2000, 6000, tol),
            (3, 1200)
        );
        assert_eq!(
            get_external_metric_replicas(5, 14334, &[8600], tol, &five),
            Ok((3, 8600))
        );
        assert_eq!(
            get_external_per_pod_metric_replicas(5, 2867, &[8600], tol),
            (3, 1720)
        );
        assert_eq!(
            get_external_metric_replicas(3, 8888, &[8600], tol, &three),
            Ok((3, 8600))
        );
        // Overflow rows.
        assert_eq!(
            get_object_metric_replicas(3, 1, i64::MAX, tol, &three),
            Ok((i32::MAX, i64::MAX))
        );
        assert_eq!(
            get_external_per_pod_metric_replicas(1, 1, &[i64::MAX], tol),
            (i32::MAX, i64::MAX)
        );
        assert_eq!(
            get_external_per_pod_metric_replicas(1, i64::MAX, &[i64::MAX], tol),
            (1, i64::MAX)
        );
        // Scale from zero ignores tolerance and pods.
        assert_eq!(
            get_object_metric_replicas(0, 1000, 2500, tol, &[]),
            Ok((3, 2500))
        );
    }

    fn group_pod(
        name: &str,
        phase: PodPhase,
        start: Option<i64>,
        ready: Option<(ConditionStatus, i64)>,
    ) -> HpaPod {
        HpaPod {
            name: name.to_string(),
            phase: Some(phase),
            ready: ready.map(|r| r.0),
            ready_last_transition_time: ready.map(|r| r.1),
            start_time: start,
            ..HpaPod::default()
        }
    }

    fn metric(ts: i64, window: i64) -> PodMetric {
        PodMetric {
            value: 1,
            timestamp: ts,
            window_seconds: window,
        }
    }

    #[test]
    fn group_pods_rows() {
        let cfg = ReplicaCalcConfig::TESTING;
        let s = PodPhase::Succeeded;
        // (pod, metric, resource, expected ready count, unready?, missing?, ignored?)
        type Row = (
            HpaPod,
            Option<PodMetric>,
            &'static str,
            usize,
            bool,
            bool,
            bool,
        );
        let rows: Vec<Row> = vec![
            // count in a ready pod - memory
            (
                group_pod("bentham", s, Some(NOW - 60), None),
                Some(metric(ZERO, 0)),
                "memory",
                1,
                false,
                false,
                false,
            ),
            // unready a pod without ready condition - CPU
            (
                group_pod("lucretius", s, Some(NOW), None),
                Some(metric(ZERO, 0)),
                "cpu",
                0,
                true,
                false,
                false,
            ),
            // count in a ready pod with fresh metrics during initialization period - CPU
            (
                group_pod("bentham", s, Some(NOW - 60), Some((T, NOW - 30))),
                Some(metric(NOW, 30)),
                "cpu",
                1,
                false,
                false,
                false,
            ),
            // unready a ready pod without fresh metrics during initialization period - CPU
            (
                group_pod("bentham", s, Some(NOW - 60), Some((T, NOW - 30))),
                Some(metric(NOW, 60)),
                "cpu",
                0,
                true,
                false,
                false,
            ),
            // unready an unready pod during initialization period - CPU
            (
                group_pod("lucretius", s, Some(NOW - 600), Some((F, NOW - 594))),
                Some(metric(ZERO, 0)),
                "cpu",
                0,
                true,
                false,
                false,
            ),
            // count in a ready pod without fresh metrics after initialization period - CPU
            (
                group_pod("bentham", s, Some(NOW - 180), Some((T, NOW - 180))),
                Some(metric(NOW - 120, 60)),
                "cpu",
                1,
                false,
                false,
                false,
            ),
            // count in an unready pod that was ready after initialization period - CPU
            (
                group_pod("lucretius", s, Some(NOW - 600), Some((F, NOW - 540))),
                Some(metric(ZERO, 0)),
                "cpu",
                1,
                false,
                false,
                false,
            ),
            // unready pod that has never been ready after initialization period (boundary)
            (
                group_pod("lucretius", s, Some(NOW - 600), Some((F, NOW - 590))),
                Some(metric(ZERO, 0)),
                "cpu",
                1,
                false,
                false,
                false,
            ),
            // a missing pod
            (
                group_pod("epicurus", s, Some(NOW - 180), None),
                None,
                "cpu",
                0,
                false,
                true,
                false,
            ),
            // pending pods are unreadied
            (
                group_pod("unscheduled", PodPhase::Pending, None, None),
                None,
                "cpu",
                0,
                true,
                false,
                false,
            ),
            // ignore pods in a failed state
            (
                group_pod("failed", PodPhase::Failed, None, None),
                Some(metric(ZERO, 0)),
                "cpu",
                0,
                false,
                false,
                true,
            ),
            // ignore pods with deletion timestamps
            (
                HpaPod {
                    deletion_timestamp: Some(1),
                    ..group_pod("deleted", PodPhase::Pending, None, None)
                },
                Some(metric(ZERO, 0)),
                "cpu",
                0,
                false,
                false,
                true,
            ),
        ];
        for (pod, m, resource, ready, unready, missing, ignored) in rows {
            let name = pod.name.clone();
            let metrics: PodMetricsInfo = m.map(|m| (name.clone(), m)).into_iter().collect();
            let g = group_pods(&[pod], &metrics, Some(resource), &cfg, NOW);
            assert_eq!(g.ready_pod_count, ready, "{name}");
            assert_eq!(g.unready_pods.contains(&name), unready, "{name}");
            assert_eq!(g.missing_pods.contains(&name), missing, "{name}");
            assert_eq!(g.ignored_pods.contains(&name), ignored, "{name}");
        }
    }

    #[test]
    fn calculate_requests_rows() {
        let pod = HpaPod {
            name: "test-pod".to_string(),
            containers: vec![
                container("container1", Some(100)),
                container("container2", Some(50)),
            ],
            ..HpaPod::default()
        };
        let want: BTreeMap<String, i64> = [("test-pod".to_string(), 150)].into();
        assert_eq!(
            calculate_requests(std::slice::from_ref(&pod), None, "cpu"),
            Ok(want)
        );
        let want: BTreeMap<String, i64> = [("test-pod".to_string(), 100)].into();
        assert_eq!(
            calculate_requests(std::slice::from_ref(&pod), Some("container1"), "cpu"),
            Ok(want)
        );
        assert!(matches!(
            calculate_requests(std::slice::from_ref(&pod), Some("nope"), "cpu"),
            Err(ReplicaCalcError::ContainerNotFound { .. })
        ));
        let missing = HpaPod {
            containers: vec![
                container("container1", None),
                container("container2", Some(50)),
            ],
            ..pod.clone()
        };
        assert_eq!(
            calculate_requests(&[missing], None, "cpu"),
            Err(ReplicaCalcError::MissingRequest {
                resource: "cpu".into(),
                container: "container1".into(),
                pod: "test-pod".into()
            })
        );
        let sidecar = HpaPod {
            restartable_init_containers: vec![container("sidecar", Some(25))],
            ..pod
        };
        let want: BTreeMap<String, i64> = [("test-pod".to_string(), 175)].into();
        assert_eq!(calculate_requests(&[sidecar], None, "cpu"), Ok(want));
        assert_eq!(calculate_requests(&[], None, "cpu"), Ok(BTreeMap::new()));
    }
}
