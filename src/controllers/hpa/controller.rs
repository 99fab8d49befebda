//! The HorizontalPodAutoscaler controller ("hpa").
//!
//! Port of upstream `pkg/controller/podautoscaler/horizontal.go`: reconcileKey,
//! reconcileAutoscaler, computeReplicasForMetrics, computeReplicasForMetric, the
//! per-metric computeStatusForObjectMetric / computeStatusForPodsMetric /
//! computeStatusForResourceMetricGeneric / computeStatusForResourceMetric /
//! computeStatusForContainerResourceMetric / computeStatusForExternalMetric,
//! getUnableComputeReplicaCountCondition, recordInitialRecommendation, the normalization
//! (through [`super::behavior`]), storeScaleEvent, setCurrentReplicasInStatus, setStatus,
//! updateStatusIfNeeded and setCondition, plus the `/scale` subresource of Deployments,
//! ReplicaSets and ReplicationControllers. The replica arithmetic is
//! [`super::replica_calc`].
//!
//! Timing follows kube-controller-manager's defaults: each HPA is queued with the
//! HPA rate limiter's fixed 15 s interval (`--horizontal-pod-autoscaler-sync-period`)
//! when it is added, and again after every reconcile, so it syncs 15 s after creation
//! and every 15 s after that; updates to an HPA that already waits change nothing, as
//! upstream's delaying queue keeps the earlier time. So each HPA costs one timer per
//! period and a cluster without HPAs costs nothing. Metrics are read from the metrics
//! APIs registry ([`SharedMetrics`]) exactly as last scraped.

use super::behavior::{
    ReplicaBounds, ScalingHistory, check_replica_bounds, normalize_desired_replicas,
    normalize_desired_replicas_with_behaviors,
};
use super::fast_resource::{self, ResourcePod};
use super::replica_calc::{
    self as calc, ConditionStatus as CalcCondition, HpaContainer, HpaPod, PodMetric,
    PodMetricsInfo, PodPhase as CalcPhase, PodResourceSample, ReplicaCalcConfig, ResourceTarget,
    Tolerances,
};
use crate::api::hpa::{MetricSpec, MetricStatus, MetricTarget, MetricValueStatus};
use crate::api::objects::{ConditionStatus, HorizontalPodAutoscaler, Pod, PodPhase, Uid};
use crate::api::selector::LabelSelector;
use crate::api::{Change, Kind, Op, Store};
use crate::controllers::{Controller, Ctx, Key, Next, WorkQueue};
use crate::engine::{SimDuration, SimTime};
use crate::metrics::pod_metrics::{MetricsRegistry, ObjectMetricKey, SharedMetrics};
use std::collections::BTreeMap;

/// `AbleToScale` condition type.
pub const ABLE_TO_SCALE: &str = "AbleToScale";
/// `ScalingActive` condition type.
pub const SCALING_ACTIVE: &str = "ScalingActive";
/// `ScalingLimited` condition type.
pub const SCALING_LIMITED: &str = "ScalingLimited";

/// The controller's flags (kube-controller-manager defaults).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HpaConfig {
    /// `--horizontal-pod-autoscaler-sync-period` (15 s).
    pub sync_period: SimDuration,
    /// `--horizontal-pod-autoscaler-tolerance` (0.1).
    pub tolerance: f64,
    /// `--horizontal-pod-autoscaler-cpu-initialization-period` (5 m) and
    /// `--horizontal-pod-autoscaler-initial-readiness-delay` (30 s).
    pub calc: ReplicaCalcConfig,
    /// `--horizontal-pod-autoscaler-downscale-stabilization` (5 m), in seconds.
    pub downscale_stabilization_seconds: i64,
}

impl Default for HpaConfig {
    fn default() -> Self {
        HpaConfig {
            sync_period: SimDuration::from_secs(15),
            tolerance: calc::DEFAULT_TOLERANCE,
            calc: ReplicaCalcConfig::default(),
            downscale_stabilization_seconds:
                super::behavior::DEFAULT_DOWNSCALE_STABILIZATION_WINDOW_SECONDS,
        }
    }
}

/// What the controller remembers per HPA (upstream's recommendations and scale-event
/// maps), keyed by the HPA's store id and checked against its uid.
#[derive(Debug, Clone)]
struct HpaState {
    uid: Uid,
    history: ScalingHistory,
}

/// The HPA controller.
pub struct HpaController {
    metrics: SharedMetrics,
    config: HpaConfig,
    state: BTreeMap<u32, HpaState>,
    /// The selector each HPA last read from its target's scale (upstream's hpaSelectors),
    /// with its namespace and name: used to find pods controlled by several HPAs.
    selectors: BTreeMap<u32, (String, String, LabelSelector)>,
}

/// The `/scale` subresource of a target.
#[derive(Debug, Clone)]
struct Scale {
    kind: Kind,
    id: u32,
    spec_replicas: i32,
    status_replicas: i32,
    selector: LabelSelector,
}

/// A failed metric: the condition reason, the error recorded in the Event and the
/// condition, and the error returned to computeReplicasForMetrics.
struct MetricError {
    reason: &'static str,
    condition_error: String,
    error: String,
}

impl MetricError {
    fn new(reason: &'static str, condition_error: String, error: String) -> MetricError {
        MetricError {
            reason,
            condition_error,
            error,
        }
    }
}

/// The store id of an HPA (by namespace and name).
fn hpa_id(store: &Store, hpa: &HorizontalPodAutoscaler) -> u32 {
    store
        .hpas
        .id_of(&hpa.meta.namespace, &hpa.meta.name)
        .unwrap_or(u32::MAX)
}

fn secs(t: SimTime) -> i64 {
    t.as_secs() as i64
}

/// The replica calculator's pod phase.
fn calc_phase(phase: PodPhase) -> CalcPhase {
    match phase {
        PodPhase::Pending => CalcPhase::Pending,
        PodPhase::Running => CalcPhase::Running,
        PodPhase::Succeeded => CalcPhase::Succeeded,
        PodPhase::Failed => CalcPhase::Failed,
        PodPhase::Unknown => CalcPhase::Unknown,
    }
}

/// The replica calculator's view of a pod.
fn hpa_pod(p: &Pod) -> HpaPod {
    let phase = calc_phase(p.status.phase);
    // The kubelet sets the Ready condition when it starts the pod.
    let ready = p.status.start_time.map(|_| {
        if p.status.ready {
            CalcCondition::True
        } else {
            CalcCondition::False
        }
    });
    let container = |c: &crate::api::objects::Container| {
        let mut requests_milli = BTreeMap::new();
        if c.requests.cpu_milli > 0 {
            requests_milli.insert("cpu".to_string(), c.requests.cpu_milli);
        }
        if c.requests.memory > 0 {
            requests_milli.insert("memory".to_string(), c.requests.memory.saturating_mul(1000));
        }
        HpaContainer {
            name: c.name.clone(),
            requests_milli,
        }
    };
    HpaPod {
        name: p.meta.name.clone(),
        phase: Some(phase),
        ready,
        ready_last_transition_time: p.status.ready_transition.or(p.status.start_time).map(secs),
        start_time: p.status.start_time.map(secs),
        deletion_timestamp: p.meta.deletion.map(secs),
        containers: p.spec.containers.iter().map(container).collect(),
        restartable_init_containers: Vec::new(),
    }
}

/// Whether a metric takes the allocation-free Utilization path ([`fast_resource`]): a
/// Resource metric (no container) on CPU or memory with a Utilization target.
fn fast_eligible(spec: &MetricSpec) -> bool {
    matches!(
        spec,
        MetricSpec::Resource {
            name,
            target: MetricTarget::Utilization(_),
        } if name == "cpu" || name == "memory"
    )
}

/// The fast path's record of each selected pod: what [`hpa_pod`] and the PodMetrics
/// conversion would give the reference calculator, already reduced to the pod's request
/// and metric of `resource` (a zero request counts as missing, as in [`hpa_pod`]).
fn resource_pods<'a>(
    store: &'a Store,
    registry: &MetricsRegistry,
    ids: &[u32],
    cpu: bool,
) -> Vec<ResourcePod<'a>> {
    ids.iter()
        .filter_map(|&id| {
            let p = store.pods.get(id)?;
            let mut request = Ok(0i64);
            for c in &p.spec.containers {
                let r = if cpu {
                    c.requests.cpu_milli
                } else {
                    c.requests.memory.saturating_mul(1000)
                };
                if r <= 0 {
                    request = Err(c.name.as_str());
                    break;
                }
                request = request.map(|s| s.saturating_add(r));
            }
            let usage = registry.pod_usage(id, p.meta.uid);
            let metric = usage
                .filter(|u| !u.containers.is_empty())
                .map(|u| PodMetric {
                    timestamp: secs(u.timestamp),
                    window_seconds: u.window.as_secs() as i64,
                    value: u.containers.iter().fold(0i64, |s, c| {
                        s.saturating_add(if cpu {
                            c.cpu_milli
                        } else {
                            c.memory_bytes.saturating_mul(1000)
                        })
                    }),
                });
            let ready = p.status.start_time.map(|_| {
                if p.status.ready {
                    CalcCondition::True
                } else {
                    CalcCondition::False
                }
            });
            Some(ResourcePod {
                phase: Some(calc_phase(p.status.phase)),
                ready,
                ready_last_transition_time: p
                    .status
                    .ready_transition
                    .or(p.status.start_time)
                    .map(secs),
                start_time: p.status.start_time.map(secs),
                deleted: p.meta.deletion.is_some(),
                request,
                sample_timestamp: usage.map(|u| secs(u.timestamp)),
                metric,
            })
        })
        .collect()
}

/// A Go-style `%s` of a quantity in milli-units, as `resource.NewMilliQuantity` prints it
/// (`500m`, `2`).
pub fn milli_text(v: i64) -> String {
    crate::api::quantity::Quantity::from_milli(v).to_string()
}

impl HpaController {
    /// A controller reading metrics from `metrics`, with the default flags.
    pub fn new(metrics: SharedMetrics) -> HpaController {
        HpaController::with_config(metrics, HpaConfig::default())
    }

    /// A controller with explicit flags.
    pub fn with_config(metrics: SharedMetrics, config: HpaConfig) -> HpaController {
        HpaController {
            metrics,
            config,
            state: BTreeMap::new(),
            selectors: BTreeMap::new(),
        }
    }

    /// The scale subresource of the HPA's target, or the error the API returns.
    fn get_scale(store: &Store, hpa: &HorizontalPodAutoscaler) -> Result<Scale, String> {
        let t = &hpa.spec.target;
        let ns = &hpa.meta.namespace;
        // schema.ParseGroupVersion: "", "v1" (core) or "group/version".
        let group = match t.api_version.split('/').collect::<Vec<_>>().as_slice() {
            [""] | [_] => "",
            [g, _] => *g,
            _ => return Err(format!("unexpected GroupVersion string: {}", t.api_version)),
        };
        let (kind, resource) = match (group, t.kind.as_str()) {
            ("apps", "Deployment") => (Kind::Deployment, "deployments.apps"),
            ("apps", "ReplicaSet") => (Kind::ReplicaSet, "replicasets.apps"),
            ("", "ReplicationController") => {
                (Kind::ReplicationController, "replicationcontrollers")
            }
            (g, k) => return Err(format!("no matches for kind {k:?} in group {g:?}")),
        };
        let not_found = || format!("{resource} {:?} not found", t.name);
        if kind == Kind::Deployment {
            let id = store.deployments.id_of(ns, &t.name).ok_or_else(not_found)?;
            let d = store.deployments.get(id).ok_or_else(not_found)?;
            return Ok(Scale {
                kind,
                id,
                spec_replicas: d.replicas,
                status_replicas: d.status.replicas,
                selector: d.selector.clone(),
            });
        }
        let arena = store.rs_arena(kind);
        let id = arena.id_of(ns, &t.name).ok_or_else(not_found)?;
        let rs = arena.get(id).ok_or_else(not_found)?;
        Ok(Scale {
            kind,
            id,
            spec_replicas: rs.replicas,
            status_replicas: rs.status.replicas,
            selector: rs.selector.clone(),
        })
    }

    fn tolerances(&self, hpa: &HorizontalPodAutoscaler) -> Tolerances {
        let mut t = Tolerances::symmetric(self.config.tolerance);
        if let Some(b) = &hpa.spec.behavior {
            if let Some(up) = b.scale_up.tolerance {
                t.scale_up = up;
            }
            if let Some(down) = b.scale_down.tolerance {
                t.scale_down = down;
            }
        }
        t
    }

    /// Port of computeReplicasForMetric (one metric): the proposal, the metric's
    /// description and its status.
    #[allow(clippy::too_many_arguments)]
    fn compute_replicas_for_metric(
        &self,
        store: &Store,
        hpa: &HorizontalPodAutoscaler,
        spec: &MetricSpec,
        scale: &Scale,
        ids: &[u32],
        pods: &[(u32, HpaPod)],
        calc_pods: &[HpaPod],
        tolerances: Tolerances,
        now: i64,
    ) -> Result<(i32, String, MetricValueStatus), MetricError> {
        let ns = &hpa.meta.namespace;
        let registry = self.metrics.borrow();
        let current = scale.spec_replicas;
        if let MetricSpec::Resource {
            name,
            target: MetricTarget::Utilization(u),
        } = spec
            && fast_eligible(spec)
        {
            let records = resource_pods(store, &registry, ids, name == "cpu");
            let pod_name = |i: usize| {
                store
                    .pods
                    .get(ids[i])
                    .map_or_else(String::new, |p| p.meta.name.clone())
            };
            let r = fast_resource::get_resource_replicas(
                current,
                name,
                *u,
                tolerances,
                &records,
                &self.config.calc,
                now,
                &pod_name,
            )
            .map_err(|e| {
                let e = format!("failed to get {name} utilization: {e}");
                MetricError::new("FailedGetResourceMetric", e.clone(), e)
            })?;
            return Ok((
                r.replicas,
                format!("{name} resource utilization (percentage of request)"),
                MetricValueStatus {
                    average_utilization: Some(r.utilization),
                    average_value: Some(r.raw_utilization),
                    value: None,
                },
            ));
        }
        match spec {
            MetricSpec::Resource { name, target }
            | MetricSpec::ContainerResource { name, target, .. } => {
                let container = match spec {
                    MetricSpec::ContainerResource { container, .. } => Some(container.as_str()),
                    _ => None,
                };
                let reason = if container.is_some() {
                    "FailedGetContainerResourceMetric"
                } else {
                    "FailedGetResourceMetric"
                };
                let fail = |e: String| {
                    let e = format!("failed to get {name} utilization: {e}");
                    MetricError::new(reason, e.clone(), e)
                };
                // metrics.k8s.io PodMetrics of the selected pods.
                let samples: Vec<PodResourceSample> = pods
                    .iter()
                    .filter_map(|(id, p)| {
                        let pod = store.pods.get(*id)?;
                        let u = registry.pod_usage(*id, pod.meta.uid)?;
                        Some(PodResourceSample {
                            pod_name: p.name.clone(),
                            timestamp: secs(u.timestamp),
                            window_seconds: u.window.as_secs() as i64,
                            containers: u
                                .containers
                                .iter()
                                .map(|c| calc::ContainerUsage {
                                    name: c.name.clone(),
                                    usage_milli: [
                                        ("cpu".to_string(), c.cpu_milli),
                                        ("memory".to_string(), c.memory_bytes.saturating_mul(1000)),
                                    ]
                                    .into(),
                                })
                                .collect(),
                        })
                    })
                    .collect();
                match *target {
                    MetricTarget::AverageValue(v) => {
                        let (replicas, raw, _) = calc::get_raw_resource_replicas(
                            current,
                            v,
                            name,
                            container,
                            tolerances,
                            calc_pods,
                            &samples,
                            &self.config.calc,
                            now,
                        )
                        .map_err(|e| fail(e.to_string()))?;
                        Ok((
                            replicas,
                            format!("{name} resource"),
                            MetricValueStatus {
                                average_value: Some(raw),
                                ..MetricValueStatus::default()
                            },
                        ))
                    }
                    MetricTarget::Utilization(u) => {
                        let r = calc::get_resource_replicas(
                            current,
                            ResourceTarget {
                                resource: name,
                                container,
                                target_utilization: u,
                            },
                            tolerances,
                            calc_pods,
                            &samples,
                            &self.config.calc,
                            now,
                        )
                        .map_err(|e| fail(e.to_string()))?;
                        Ok((
                            r.replicas,
                            format!("{name} resource utilization (percentage of request)"),
                            MetricValueStatus {
                                average_utilization: Some(r.utilization),
                                average_value: Some(r.raw_utilization),
                                value: None,
                            },
                        ))
                    }
                    MetricTarget::Value(_) => {
                        let e = "invalid resource metric source: neither a utilization target nor a value target was set".to_string();
                        Err(MetricError::new(reason, e.clone(), e))
                    }
                }
            }
            MetricSpec::Pods { metric, target } => {
                let MetricTarget::AverageValue(target) = *target else {
                    unreachable!("validation requires an AverageValue target")
                };
                let mut values = PodMetricsInfo::new();
                for (id, p) in pods {
                    if let Some(pod) = store.pods.get(*id)
                        && let Some(v) = registry.pod_metric(*id, pod.meta.uid, &metric.name)
                    {
                        values.insert(
                            p.name.clone(),
                            PodMetric {
                                timestamp: secs(v.timestamp),
                                window_seconds: 0,
                                value: v.milli,
                            },
                        );
                    }
                }
                let wrap = |e: String| {
                    MetricError::new(
                        "FailedGetPodsMetric",
                        e.clone(),
                        format!("failed to get pods metric value: {e}"),
                    )
                };
                if values.is_empty() {
                    return Err(wrap(format!(
                        "unable to get metric {}: no metrics returned from custom metrics API",
                        metric.name
                    )));
                }
                let (replicas, usage) = calc::get_metric_replicas(
                    current,
                    target,
                    tolerances,
                    calc_pods,
                    values,
                    &self.config.calc,
                    now,
                )
                .map_err(|e| wrap(e.to_string()))?;
                Ok((
                    replicas,
                    format!("pods metric {}", metric.name),
                    MetricValueStatus {
                        average_value: Some(usage),
                        ..MetricValueStatus::default()
                    },
                ))
            }
            MetricSpec::Object {
                described,
                metric,
                target,
            } => {
                let wrap = |e: String, outer: String| {
                    MetricError::new(
                        "FailedGetObjectMetric",
                        e,
                        format!("failed to get object metric value: {outer}"),
                    )
                };
                let kind = Kind::from_kubectl(&described.kind);
                let value = kind.and_then(|kind| {
                    registry.object_metric(&ObjectMetricKey {
                        kind,
                        namespace: ns.clone(),
                        name: described.name.clone(),
                        metric: metric.name.clone(),
                    })
                });
                let Some(value) = value else {
                    let e = format!(
                        "unable to get metric {}: {} on {ns} {}/the server could not find the metric {} for {} {}",
                        metric.name,
                        described.kind,
                        described.name,
                        metric.name,
                        described.kind.to_ascii_lowercase(),
                        described.name
                    );
                    let outer = match target {
                        MetricTarget::AverageValue(_) => {
                            format!("failed to get {} object metric: {e}", metric.name)
                        }
                        _ => e.clone(),
                    };
                    return Err(wrap(e, outer));
                };
                match *target {
                    MetricTarget::AverageValue(t) => {
                        let (replicas, per_pod) = calc::get_object_per_pod_metric_replicas(
                            scale.status_replicas,
                            t,
                            value.milli,
                            tolerances,
                        );
                        let selector = metric
                            .selector
                            .as_ref()
                            .map_or_else(|| "nil".to_string(), |s| s.to_string());
                        Ok((
                            replicas,
                            format!("external metric {}({selector})", metric.name),
                            MetricValueStatus {
                                average_value: Some(per_pod),
                                ..MetricValueStatus::default()
                            },
                        ))
                    }
                    _ => {
                        let MetricTarget::Value(t) = *target else {
                            unreachable!("validation refuses Utilization for Object")
                        };
                        let (replicas, usage) = calc::get_object_metric_replicas(
                            current,
                            t,
                            value.milli,
                            tolerances,
                            calc_pods,
                        )
                        .map_err(|e| wrap(e.to_string(), e.to_string()))?;
                        Ok((
                            replicas,
                            format!("{} metric {}", described.kind, metric.name),
                            MetricValueStatus {
                                value: Some(usage),
                                ..MetricValueStatus::default()
                            },
                        ))
                    }
                }
            }
            MetricSpec::External { metric, target } => {
                // No external metrics API is served in kubetwin: the request fails as it
                // does upstream when no adapter is registered.
                let selector = metric
                    .selector
                    .as_ref()
                    .map(|s| s.to_string())
                    .unwrap_or_default();
                let e = format!(
                    "unable to get external metric {ns}/{}/{selector}: the server could not find the requested resource (get {}.external.metrics.k8s.io)",
                    metric.name, metric.name
                );
                let outer = match target {
                    MetricTarget::AverageValue(_) => {
                        format!("failed to get {} external metric: {e}", metric.name)
                    }
                    _ => format!("failed to get external metric {}: {e}", metric.name),
                };
                Err(MetricError::new("FailedGetExternalMetric", e, outer))
            }
        }
    }

    /// Port of computeReplicasForMetrics: the largest proposal over the metrics, or an
    /// error when every metric failed, or some failed and the rest would scale down.
    fn compute_replicas_for_metrics(
        &mut self,
        ctx: &mut Ctx<'_>,
        hpa: &HorizontalPodAutoscaler,
        scale: &Scale,
        status: &mut crate::api::hpa::HpaStatus,
    ) -> Result<(i32, String, Vec<MetricStatus>), String> {
        let ns = &hpa.meta.namespace;
        let ids = ctx.store.select_pods(ns, &scale.selector);
        // validateAndParseSelector: record this HPA's selector, then refuse pods that more
        // than one HPA selects.
        self.selectors.insert(
            hpa_id(ctx.store, hpa),
            (ns.clone(), hpa.meta.name.clone(), scale.selector.clone()),
        );
        // Pods of one template share their labels: match each distinct label set once.
        let mut label_sets: Vec<&crate::api::selector::Labels> = Vec::new();
        for id in &ids {
            if let Some(p) = ctx.store.pods.get(*id)
                && !label_sets.contains(&&p.meta.labels)
            {
                label_sets.push(&p.meta.labels);
            }
        }
        let selects =
            |n: &String, sel: &LabelSelector| n == ns && label_sets.iter().any(|l| sel.matches(l));
        let count = self
            .selectors
            .values()
            .filter(|(n, _, sel)| selects(n, sel))
            .count();
        let mut selecting: Vec<String> = if count > 1 {
            self.selectors
                .values()
                .filter(|(n, _, sel)| selects(n, sel))
                .map(|(n, name, _)| format!("{n}/{name}"))
                .collect()
        } else {
            Vec::new()
        };
        if selecting.len() > 1 {
            selecting.sort();
            let msg = format!(
                "pods by selector {} are controlled by multiple HPAs: [{}]",
                scale.selector,
                selecting.join(" ")
            );
            let m = msg.clone();
            ctx.store.record_event(
                ctx.now,
                Kind::HorizontalPodAutoscaler,
                ns,
                &hpa.meta.name,
                "AmbiguousSelector",
                || m,
            );
            status.set_condition(
                SCALING_ACTIVE,
                ConditionStatus::False,
                "AmbiguousSelector",
                msg.clone(),
                ctx.now,
            );
            return Err(msg);
        }
        // The reference calculator's inputs, only for metrics off the fast path.
        let general = !hpa.spec.metrics.iter().all(fast_eligible);
        let pods: Vec<(u32, HpaPod)> = if general {
            ids.iter()
                .filter_map(|&id| ctx.store.pods.get(id).map(|p| (id, hpa_pod(p))))
                .collect()
        } else {
            Vec::new()
        };
        let calc_pods: Vec<HpaPod> = pods.iter().map(|(_, p)| p.clone()).collect();
        let tolerances = self.tolerances(hpa);
        let now = secs(ctx.now);
        let n = hpa.spec.metrics.len();
        let mut statuses: Vec<MetricStatus> = vec![None; n];
        let (mut replicas, mut metric) = (0i32, String::new());
        let mut invalid = 0usize;
        let mut first: Option<MetricError> = None;
        for (i, spec) in hpa.spec.metrics.iter().enumerate() {
            match self.compute_replicas_for_metric(
                ctx.store, hpa, spec, scale, &ids, &pods, &calc_pods, tolerances, now,
            ) {
                Ok((proposal, name, st)) => {
                    statuses[i] = Some(st);
                    if replicas == 0 || proposal > replicas {
                        replicas = proposal;
                        metric = name;
                    }
                }
                Err(e) => {
                    // getUnableComputeReplicaCountCondition records the Event at once.
                    let msg = e.condition_error.clone();
                    ctx.store.record_event(
                        ctx.now,
                        Kind::HorizontalPodAutoscaler,
                        ns,
                        &hpa.meta.name,
                        e.reason,
                        || msg,
                    );
                    invalid += 1;
                    if first.is_none() {
                        first = Some(e);
                    }
                }
            }
        }
        if let Some(e) = first.as_ref()
            && (invalid >= n || replicas < scale.spec_replicas)
        {
            status.set_condition(
                SCALING_ACTIVE,
                ConditionStatus::False,
                e.reason,
                format!(
                    "the HPA was unable to compute the replica count: {}",
                    e.condition_error
                ),
                ctx.now,
            );
            return Err(format!(
                "invalid metrics ({invalid} invalid out of {n}), first error is: {}",
                e.error
            ));
        }
        status.set_condition(
            SCALING_ACTIVE,
            ConditionStatus::True,
            "ValidMetricFound",
            format!("the HPA was able to successfully calculate a replica count from {metric}"),
            ctx.now,
        );
        Ok((replicas, metric, statuses))
    }

    /// Port of reconcileAutoscaler.
    fn reconcile_autoscaler(&mut self, id: u32, ctx: &mut Ctx<'_>) {
        let Some(hpa) = ctx.store.hpas.get(id).cloned() else {
            return;
        };
        let now = ctx.now;
        let (ns, name) = (hpa.meta.namespace.clone(), hpa.meta.name.clone());
        let mut status = hpa.status.clone();
        let event = |store: &mut Store, reason: &'static str, msg: String| {
            store.record_event(
                now,
                Kind::HorizontalPodAutoscaler,
                &ns,
                &name,
                reason,
                || msg,
            );
        };
        let scale = match Self::get_scale(ctx.store, &hpa) {
            Ok(s) => s,
            Err(e) => {
                event(ctx.store, "FailedGetScale", e.clone());
                status.set_condition(
                    ABLE_TO_SCALE,
                    ConditionStatus::False,
                    "FailedGetScale",
                    format!("the HPA controller was unable to get the target's current scale: {e}"),
                    now,
                );
                Self::update_status_if_needed(ctx.store, id, &hpa, status, now);
                return;
            }
        };
        status.set_condition(
            ABLE_TO_SCALE,
            ConditionStatus::True,
            "SucceededGetScale",
            "the HPA controller was able to get the target's current scale".into(),
            now,
        );
        let current = scale.spec_replicas;
        let now_s = secs(now);
        if let Some(st) = self.state.get_mut(&id) {
            st.history.record_initial_recommendation(current, now_s);
        }
        let (min, max) = (hpa.spec.min_replicas, hpa.spec.max_replicas);
        let mut desired = 0;
        let mut rescale_reason = String::new();
        let mut metric_statuses: Vec<MetricStatus> = Vec::new();
        let rescale;
        match check_replica_bounds(current, Some(min), max) {
            ReplicaBounds::ScalingDisabled => {
                rescale = false;
                status.set_condition(
                    SCALING_ACTIVE,
                    ConditionStatus::False,
                    "ScalingDisabled",
                    "scaling is disabled since the replica count of the target is zero".into(),
                    now,
                );
            }
            ReplicaBounds::AboveMax(d) => {
                rescale_reason = "Current number of replicas above Spec.MaxReplicas".into();
                desired = d;
                rescale = true;
            }
            ReplicaBounds::BelowMin(d) => {
                rescale_reason = "Current number of replicas below Spec.MinReplicas".into();
                desired = d;
                rescale = true;
            }
            ReplicaBounds::InRange => {
                match self.compute_replicas_for_metrics(ctx, &hpa, &scale, &mut status) {
                    Err(e) => {
                        // setCurrentReplicasInStatus keeps the previous desired count and
                        // metrics.
                        status.current_replicas = current;
                        Self::update_status_if_needed(ctx.store, id, &hpa, status, now);
                        event(ctx.store, "FailedComputeMetricsReplicas", e);
                        return;
                    }
                    Ok((metric_desired, metric_name, statuses)) => {
                        metric_statuses = statuses;
                        let mut rescale_metric = String::new();
                        if metric_desired > desired {
                            desired = metric_desired;
                            rescale_metric = metric_name;
                        }
                        if desired > current {
                            rescale_reason = format!("{rescale_metric} above target");
                        }
                        if desired < current {
                            rescale_reason = "All metrics below target".into();
                        }
                        // As upstream, a proposal equal to the current scale leaves the
                        // reason empty even when stabilization or the rate limits then
                        // change the size ("New size: 5; reason: ").
                        let window = self.config.downscale_stabilization_seconds;
                        let history = &mut self
                            .state
                            .get_mut(&id)
                            .expect("state is created before the first sync")
                            .history;
                        let n = match &hpa.spec.behavior {
                            None => normalize_desired_replicas(
                                history, current, desired, min, max, window, now_s,
                            ),
                            Some(b) => normalize_desired_replicas_with_behaviors(
                                history, b, current, desired, min, max, window, now_s,
                            ),
                        };
                        status.set_condition(
                            ABLE_TO_SCALE,
                            ConditionStatus::True,
                            n.able_to_scale_reason.as_str(),
                            n.able_to_scale_reason.message().into(),
                            now,
                        );
                        status.set_condition(
                            SCALING_LIMITED,
                            if n.scaling_limited {
                                ConditionStatus::True
                            } else {
                                ConditionStatus::False
                            },
                            n.scaling_limited_reason.as_str(),
                            n.scaling_limited_reason.message().into(),
                            now,
                        );
                        desired = n.desired_replicas;
                        rescale = desired != current;
                    }
                }
            }
        }
        if rescale {
            // The scale write (PUT .../scale): spec.replicas of the target.
            let r = desired;
            match scale.kind {
                Kind::Deployment => {
                    ctx.store
                        .update_deployment(scale.id, now, true, |d| d.replicas = r);
                }
                kind => {
                    ctx.store
                        .update_rs(kind, scale.id, now, true, |rs| rs.replicas = r);
                }
            }
            status.set_condition(
                ABLE_TO_SCALE,
                ConditionStatus::True,
                "SucceededRescale",
                format!("the HPA controller was able to update the target scale to {desired}"),
                now,
            );
            event(
                ctx.store,
                "SuccessfulRescale",
                format!("New size: {desired}; reason: {rescale_reason}"),
            );
            if let Some(st) = self.state.get_mut(&id) {
                st.history
                    .store_scale_event(hpa.spec.behavior.as_ref(), current, desired, now_s);
            }
        } else {
            desired = current;
        }
        // setStatus.
        status.current_replicas = current;
        status.desired_replicas = desired;
        status.current_metrics = metric_statuses;
        if rescale {
            status.last_scale_time = Some(now);
        }
        let mut stats = hpa.stats;
        if rescale {
            if desired > current {
                stats.scale_ups += 1;
            } else {
                stats.scale_downs += 1;
            }
        }
        stats.max_replicas_seen = stats.max_replicas_seen.max(current).max(desired);
        let low = current.min(desired);
        stats.min_replicas_seen = if stats.min_replicas_seen == 0 {
            low
        } else {
            stats.min_replicas_seen.min(low)
        };
        // Report counters ride along with the status write (they only change when the
        // status does).
        if status != hpa.status || stats != hpa.stats {
            ctx.store.update_hpa(id, now, |h| {
                h.status = status;
                h.stats = stats;
            });
        }
    }

    /// Port of updateStatusIfNeeded: writes only a changed status.
    fn update_status_if_needed(
        store: &mut Store,
        id: u32,
        hpa: &HorizontalPodAutoscaler,
        status: crate::api::hpa::HpaStatus,
        now: SimTime,
    ) {
        if status != hpa.status {
            store.update_hpa(id, now, |h| h.status = status);
        }
    }
}

impl Controller for HpaController {
    fn name(&self) -> &'static str {
        "hpa"
    }

    fn on_change(&mut self, change: &Change, _store: &Store, queue: &mut WorkQueue) {
        if change.kind != Kind::HorizontalPodAutoscaler {
            return;
        }
        match change.op {
            // enqueueHPA: AddRateLimited, i.e. the first sync one period later (the key
            // is picked up now only to arm that timer).
            Op::Added => queue.add(Key::new(change.kind, change.id)),
            // deleteHPA / reconcileKey's not-found branch drop the history.
            Op::Deleted => {
                self.state.remove(&change.id);
                self.selectors.remove(&change.id);
            }
            // An update while the HPA already waits in the delaying queue changes nothing.
            Op::Modified => {}
        }
    }

    fn reconcile(&mut self, key: Key, ctx: &mut Ctx<'_>) -> Next {
        let Some(hpa) = ctx.store.hpas.get(key.id) else {
            self.state.remove(&key.id);
            self.selectors.remove(&key.id);
            return Next::Done;
        };
        let uid = hpa.meta.uid;
        if self.state.get(&key.id).is_none_or(|s| s.uid != uid) {
            self.state.insert(
                key.id,
                HpaState {
                    uid,
                    history: ScalingHistory::default(),
                },
            );
            return Next::RequeueAfter(self.config.sync_period);
        }
        self.reconcile_autoscaler(key.id, ctx);
        Next::RequeueAfter(self.config.sync_period)
    }
}

#[cfg(test)]
mod tests {
    //! Cases restated from upstream `pkg/controller/podautoscaler/horizontal_test.go`
    //! (named in each test) or, where marked `derived`, worked out from `horizontal.go`,
    //! run through the controller against a store and a hand-filled metrics registry.
    use super::*;
    use crate::api::manifest;
    use crate::api::objects::Object;
    use crate::controllers::Outbox;
    use crate::engine::RngStreams;
    use crate::metrics::pod_metrics::{
        ContainerUsage, MetricValue, MetricsRegistry, ObjectMetricKey, PodUsage,
    };

    /// Pods start long before the first sync (outside the CPU initialization period).
    const T0: u64 = 1000;

    struct Fx {
        store: Store,
        metrics: SharedMetrics,
        hpa: HpaController,
        rng: crate::engine::SimRng,
        now: SimTime,
        hpa_id: u32,
        pods: Vec<u32>,
    }

    fn create(store: &mut Store, yaml: &str, now: SimTime) -> u32 {
        let r = manifest::load_str(yaml, "test.yaml", 1).expect("manifest");
        let mut last = 0;
        for l in r.objects {
            last = store.create(l.object, now).expect("create").1;
        }
        last
    }

    /// A Deployment `web` with `spec` replicas (and as many pods, Running and Ready, each
    /// requesting `requests[i]` millicores) and an HPA with `hpa_spec` (YAML under `spec:`,
    /// after the target). `ready[i]` false makes pod i unready since its start.
    fn fx(replicas: i32, requests: &[i64], ready: &[bool], hpa_spec: &str, cfg: HpaConfig) -> Fx {
        let mut store = Store::new(RngStreams::new(1).stream("names"), true);
        let t = SimTime::from_secs(T0);
        let dep = create(
            &mut store,
            &format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web}}\nspec:\n  replicas: {replicas}\n  selector: {{matchLabels: {{app: web}}}}\n  template:\n    metadata: {{labels: {{app: web}}}}\n    spec:\n      containers: [{{name: c, image: i}}]\n"
            ),
            t,
        );
        store.update_deployment(dep, t, false, |d| d.status.replicas = replicas);
        let mut pods = Vec::new();
        for (i, req) in requests.iter().enumerate() {
            let r = manifest::load_str(
                &format!(
                    "apiVersion: v1\nkind: Pod\nmetadata: {{name: web-{i}, labels: {{app: web}}}}\nspec:\n  containers: [{{name: c, image: i, resources: {{requests: {{cpu: {req}m}}}}}}]\n"
                ),
                "pod.yaml",
                1,
            )
            .expect("pod");
            let mut o = r.objects.into_iter().next().expect("one").object;
            if let Object::Pod(p) = &mut o {
                p.status.phase = PodPhase::Running;
                p.status.ready = ready.get(i).copied().unwrap_or(true);
                p.status.start_time = Some(SimTime::ZERO);
                p.status.ready_transition = Some(SimTime::ZERO);
            }
            pods.push(store.create(o, t).expect("pod").1);
        }
        let hpa_id = create(
            &mut store,
            &format!(
                "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {{name: web}}\nspec:\n  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: web}}\n{hpa_spec}"
            ),
            t,
        );
        let metrics = MetricsRegistry::shared();
        let mut f = Fx {
            store,
            hpa: HpaController::with_config(metrics.clone(), cfg),
            metrics,
            rng: RngStreams::new(1).stream("hpa"),
            now: t,
            hpa_id,
            pods,
        };
        // The Added event arms the first sync one period later.
        assert_eq!(
            f.reconcile(),
            Next::RequeueAfter(SimDuration::from_secs(15))
        );
        f.store.take_journal();
        f
    }

    impl Fx {
        fn reconcile(&mut self) -> Next {
            let mut out = Outbox::default();
            let mut ctx = Ctx {
                now: self.now,
                store: &mut self.store,
                rng: &mut self.rng,
                out: &mut out,
            };
            self.hpa.reconcile(
                Key::new(Kind::HorizontalPodAutoscaler, self.hpa_id),
                &mut ctx,
            )
        }

        /// Publishes the pods' CPU usage (`None`: no PodMetrics for that pod).
        fn cpu(&mut self, levels: &[Option<i64>]) {
            let mut r = self.metrics.borrow_mut();
            for (i, l) in levels.iter().enumerate() {
                let id = self.pods[i];
                r.remove_pod(id);
                if let Some(l) = l {
                    let uid = self.store.pods.get(id).expect("pod").meta.uid;
                    r.set_pod_usage(
                        id,
                        uid,
                        PodUsage {
                            timestamp: self.now,
                            window: SimDuration::from_secs(30),
                            containers: vec![ContainerUsage {
                                name: "c".into(),
                                cpu_milli: *l,
                                memory_bytes: 0,
                            }],
                        },
                    );
                }
            }
        }

        /// Advances one sync period and syncs; returns the Deployment's replicas.
        fn sync(&mut self) -> i32 {
            self.now += SimDuration::from_secs(15);
            self.reconcile();
            self.replicas()
        }

        fn replicas(&self) -> i32 {
            let id = self.store.deployments.id_of("default", "web").expect("dep");
            self.store.deployments.get(id).expect("dep").replicas
        }

        /// Mirrors a completed scale in the Deployment's status (the ReplicaSet
        /// controller is not running here).
        fn settle_status(&mut self) {
            let id = self.store.deployments.id_of("default", "web").expect("dep");
            let r = self.replicas();
            self.store
                .update_deployment(id, self.now, false, |d| d.status.replicas = r);
        }

        fn hpa(&self) -> &HorizontalPodAutoscaler {
            self.store.hpas.get(self.hpa_id).expect("hpa")
        }

        fn condition(&self, t: &str) -> (ConditionStatus, String) {
            let c = self.hpa().status.condition(t).expect("condition");
            (c.status, c.reason.clone())
        }

        fn events(&mut self) -> Vec<(&'static str, String)> {
            self.store
                .take_journal()
                .into_iter()
                .filter(|e| e.entry_type == "Event")
                .map(|e| (e.reason, e.message))
                .collect()
        }
    }

    fn cfg() -> HpaConfig {
        HpaConfig::default()
    }

    #[test]
    fn scale_up() {
        // TestScaleUp: min 2, max 6, 3 replicas, CPU target 30 %, levels 300/500/700 of
        // 1 CPU requests: 50 % -> 5 replicas.
        let mut f = fx(
            3,
            &[1000; 3],
            &[],
            "  minReplicas: 2\n  maxReplicas: 6\n  metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 30}}}]\n",
            cfg(),
        );
        f.cpu(&[Some(300), Some(500), Some(700)]);
        assert_eq!(f.sync(), 5);
        let h = f.hpa().status.clone();
        assert_eq!((h.current_replicas, h.desired_replicas), (3, 5));
        assert_eq!(h.last_scale_time, Some(f.now));
        assert_eq!(
            h.current_metrics,
            vec![Some(MetricValueStatus {
                average_utilization: Some(50),
                average_value: Some(500),
                value: None
            })]
        );
        assert_eq!(
            f.condition(ABLE_TO_SCALE),
            (ConditionStatus::True, "SucceededRescale".into())
        );
        assert_eq!(
            f.condition(SCALING_ACTIVE),
            (ConditionStatus::True, "ValidMetricFound".into())
        );
        assert_eq!(
            f.condition(SCALING_LIMITED),
            (ConditionStatus::False, "DesiredWithinRange".into())
        );
        assert_eq!(
            f.events(),
            vec![(
                "SuccessfulRescale",
                "New size: 5; reason: cpu resource utilization (percentage of request) above target"
                    .to_string()
            )]
        );
        assert_eq!(
            crate::simulation::hpa_observe::targets(f.hpa()),
            "cpu: 50%/30%"
        );
    }

    #[test]
    fn scale_down_waits_for_the_stabilization_window() {
        // TestScaleDown's numbers (min 2, max 6, 5 replicas, target 50 %, levels
        // 100/300/500/250/250: 28 % -> 3), with the production 5 m downscale window: the
        // initial recommendation (5) holds the scale until it is older than the window.
        let mut f = fx(
            5,
            &[1000; 5],
            &[],
            "  minReplicas: 2\n  maxReplicas: 6\n  metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}}]\n",
            cfg(),
        );
        let first = f.now + SimDuration::from_secs(15);
        let levels = [Some(100), Some(300), Some(500), Some(250), Some(250)];
        while f.now + SimDuration::from_secs(15) <= first + SimDuration::from_secs(300) {
            f.cpu(&levels);
            assert_eq!(f.sync(), 5, "at {}", f.now);
            assert_eq!(
                f.condition(ABLE_TO_SCALE),
                (ConditionStatus::True, "ScaleDownStabilized".into())
            );
        }
        f.cpu(&levels);
        assert_eq!(f.sync(), 3);
        assert_eq!(f.now, first + SimDuration::from_secs(315));
        let ev = f.events();
        assert_eq!(
            ev.last().map(|e| e.1.as_str()),
            Some("New size: 3; reason: All metrics below target")
        );
    }

    #[test]
    fn tolerance_band_keeps_the_scale() {
        // TestTolerance: target 100 %, levels 1010/1030/1020 of 0.9/1.0/1.1 CPU: 102 %.
        let mut f = fx(
            3,
            &[900, 1000, 1100],
            &[],
            "  minReplicas: 1\n  maxReplicas: 5\n  metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 100}}}]\n",
            cfg(),
        );
        f.cpu(&[Some(1010), Some(1030), Some(1020)]);
        assert_eq!(f.sync(), 3);
        assert_eq!(f.hpa().status.desired_replicas, 3);
        assert_eq!(f.hpa().status.last_scale_time, None);
        assert_eq!(
            f.condition(ABLE_TO_SCALE),
            (ConditionStatus::True, "ReadyForNewScale".into())
        );
        assert!(f.events().is_empty());
    }

    #[test]
    fn unready_pods_count_as_idle_when_scaling_up() {
        // TestScaleUpUnreadyLessScale: levels 300/500/700, the first pod unready: the
        // ready pods' 60 % would give 4 of 2, the unready pod at 0 gives 40 % -> 4.
        let mut f = fx(
            3,
            &[1000; 3],
            &[false, true, true],
            "  minReplicas: 2\n  maxReplicas: 6\n  metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 30}}}]\n",
            cfg(),
        );
        f.cpu(&[Some(300), Some(500), Some(700)]);
        assert_eq!(f.sync(), 4);
    }

    #[test]
    fn fresh_cpu_samples_of_starting_pods_are_ignored() {
        // derived (groupPods' CPU initialization period): pod 0 started 60 s ago and
        // turned Ready 20 s ago, so its 30 s sample still covers its unready time and it
        // counts as unready (0 %) when scaling up: 40 % -> 4 instead of 50 % -> 5. After
        // the 5 m initialization period only never-ready pods are ignored.
        let mut f = fx(
            3,
            &[1000; 3],
            &[],
            "  minReplicas: 2\n  maxReplicas: 10\n  metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 30}}}]\n",
            cfg(),
        );
        let sync_at = f.now + SimDuration::from_secs(15);
        let p0 = f.pods[0];
        f.store.update_pod(p0, f.now, |p| {
            p.status.start_time = Some(SimTime::from_secs(sync_at.as_secs() - 60));
            p.status.ready_transition = Some(SimTime::from_secs(sync_at.as_secs() - 20));
        });
        f.cpu(&[Some(300), Some(500), Some(700)]);
        assert_eq!(f.sync(), 4);
        let mut g = fx(
            3,
            &[1000; 3],
            &[],
            "  minReplicas: 2\n  maxReplicas: 10\n  metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 30}}}]\n",
            cfg(),
        );
        g.cpu(&[Some(300), Some(500), Some(700)]);
        assert_eq!(g.sync(), 5, "all three pods count once initialized");
    }

    #[test]
    fn failed_pods_are_ignored() {
        // TestScaleUpIgnoresFailedPods: two Running pods at 500/700 of 1 CPU, two Failed
        // pods: 60 % of target 30 % over 2 pods -> 4.
        let mut f = fx(
            2,
            &[1000; 4],
            &[true, true, false, false],
            "  minReplicas: 2\n  maxReplicas: 6\n  metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 30}}}]\n",
            cfg(),
        );
        for id in [f.pods[2], f.pods[3]] {
            f.store
                .update_pod(id, f.now, |p| p.status.phase = PodPhase::Failed);
        }
        f.cpu(&[Some(500), Some(700), Some(0), Some(0)]);
        assert_eq!(f.sync(), 4);
    }

    #[test]
    fn missing_metrics_assume_full_request_on_scale_down() {
        // derived (calcPlainMetricReplicas / GetResourceReplicas through the controller):
        // 4 pods, one without PodMetrics, the others at 100 m of 1 CPU, target 50 %: 10 %
        // alone would give 1, the missing pod at 100 % of its request gives 32.5 % -> 3.
        // A zero scale-down window (behavior) lets the first sync scale down.
        let mut f = fx(
            4,
            &[1000; 4],
            &[],
            "  minReplicas: 1\n  maxReplicas: 6\n  metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}}]\n  behavior: {scaleDown: {stabilizationWindowSeconds: 0}}\n",
            cfg(),
        );
        f.cpu(&[Some(100), Some(100), Some(100), None]);
        assert_eq!(f.sync(), 3);
        assert_eq!(
            f.events().last().map(|e| e.1.clone()),
            Some("New size: 3; reason: All metrics below target".into())
        );
    }

    #[test]
    fn no_metrics_fail_with_upstream_events_and_conditions() {
        // derived (computeReplicasForMetrics with every metric invalid): no PodMetrics at
        // all.
        let mut f = fx(3, &[1000; 3], &[], "  maxReplicas: 5\n", cfg());
        assert_eq!(f.sync(), 3);
        let msg = "failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API";
        assert_eq!(
            f.events(),
            vec![
                ("FailedGetResourceMetric", msg.to_string()),
                (
                    "FailedComputeMetricsReplicas",
                    format!("invalid metrics (1 invalid out of 1), first error is: {msg}")
                ),
            ]
        );
        assert_eq!(
            f.condition(SCALING_ACTIVE),
            (ConditionStatus::False, "FailedGetResourceMetric".into())
        );
        assert_eq!(f.hpa().status.current_replicas, 3);
        assert_eq!(
            crate::simulation::hpa_observe::targets(f.hpa()),
            "cpu: <unknown>/80%"
        );
    }

    #[test]
    fn largest_proposal_of_several_metrics_wins() {
        // derived (computeReplicasForMetrics): CPU proposes 5 (TestScaleUp's levels), the
        // Pods metric qps proposes 4 (TestScaleUpCM: 20/10/30 against 15) -> 5, named after
        // the CPU metric.
        let mut f = fx(
            3,
            &[1000; 3],
            &[],
            "  minReplicas: 2\n  maxReplicas: 6\n  metrics:\n  - {type: Pods, pods: {metric: {name: qps}, target: {type: AverageValue, averageValue: '15'}}}\n  - {type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 30}}}\n",
            cfg(),
        );
        f.cpu(&[Some(300), Some(500), Some(700)]);
        {
            let mut r = f.metrics.borrow_mut();
            for (i, v) in [20000, 10000, 30000].into_iter().enumerate() {
                let id = f.pods[i];
                let uid = f.store.pods.get(id).expect("pod").meta.uid;
                r.set_pod_metric(
                    id,
                    uid,
                    "qps",
                    MetricValue {
                        milli: v,
                        timestamp: f.now,
                    },
                );
            }
        }
        assert_eq!(f.sync(), 5);
        assert_eq!(
            f.events().last().map(|e| e.1.clone()),
            Some("New size: 5; reason: cpu resource utilization (percentage of request) above target".into())
        );
        assert_eq!(
            f.hpa().status.current_metrics[0],
            Some(MetricValueStatus {
                average_value: Some(20000),
                ..MetricValueStatus::default()
            })
        );
        assert_eq!(
            crate::simulation::hpa_observe::targets(f.hpa()),
            "qps: 20/15, cpu: 50%/30%"
        );
    }

    #[test]
    fn pods_metric_alone_scales() {
        // TestScaleUpCM: qps 20/10/30 against an average of 15 -> 4.
        let mut f = fx(
            3,
            &[1000; 3],
            &[],
            "  minReplicas: 2\n  maxReplicas: 6\n  metrics: [{type: Pods, pods: {metric: {name: qps}, target: {type: AverageValue, averageValue: '15'}}}]\n",
            cfg(),
        );
        {
            let mut r = f.metrics.borrow_mut();
            for (i, v) in [20000, 10000, 30000].into_iter().enumerate() {
                let id = f.pods[i];
                let uid = f.store.pods.get(id).expect("pod").meta.uid;
                r.set_pod_metric(
                    id,
                    uid,
                    "qps",
                    MetricValue {
                        milli: v,
                        timestamp: f.now,
                    },
                );
            }
        }
        assert_eq!(f.sync(), 4);
        assert_eq!(
            f.events().last().map(|e| e.1.clone()),
            Some("New size: 4; reason: pods metric qps above target".into())
        );
    }

    #[test]
    fn object_metric_scales_and_clamps_at_max() {
        // TestScaleUpCMObject: qps of a Deployment at 40 against a Value of 10 with 3 ready
        // pods -> 12, clamped to maxReplicas 6 (TooManyReplicas).
        let mut f = fx(
            3,
            &[1000; 3],
            &[],
            "  minReplicas: 2\n  maxReplicas: 6\n  metrics: [{type: Object, object: {describedObject: {apiVersion: apps/v1, kind: Deployment, name: some-deployment}, metric: {name: qps}, target: {type: Value, value: '10'}}}]\n",
            cfg(),
        );
        f.metrics.borrow_mut().set_object_metric(
            ObjectMetricKey {
                kind: Kind::Deployment,
                namespace: "default".into(),
                name: "some-deployment".into(),
                metric: "qps".into(),
            },
            MetricValue {
                milli: 40000,
                timestamp: f.now,
            },
        );
        assert_eq!(f.sync(), 6);
        assert_eq!(
            f.condition(SCALING_LIMITED),
            (ConditionStatus::True, "TooManyReplicas".into())
        );
        assert_eq!(
            f.events().last().map(|e| e.1.clone()),
            Some("New size: 6; reason: Deployment metric qps above target".into())
        );
    }

    #[test]
    fn max_replicas_limit_sets_scaling_limited() {
        // TestMaxReplicas: levels 8000/9500/1000 of 0.9/1.0/1.1 CPU against 90 %: 21,
        // limited to maxReplicas 5.
        let mut f = fx(
            3,
            &[900, 1000, 1100],
            &[],
            "  minReplicas: 2\n  maxReplicas: 5\n  metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 90}}}]\n",
            cfg(),
        );
        f.cpu(&[Some(8000), Some(9500), Some(1000)]);
        assert_eq!(f.sync(), 5);
        assert_eq!(
            f.condition(SCALING_LIMITED),
            (ConditionStatus::True, "TooManyReplicas".into())
        );
    }

    #[test]
    fn min_replicas_limit_sets_scaling_limited() {
        // TestMinReplicas: levels 10/95/10 of 0.9/1.0/1.1 CPU against 90 %: 1, limited to
        // minReplicas 2 (a zero downscale window so the first recommendation ages out).
        let mut f = fx(
            3,
            &[900, 1000, 1100],
            &[],
            "  minReplicas: 2\n  maxReplicas: 5\n  metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 90}}}]\n",
            HpaConfig {
                downscale_stabilization_seconds: 0,
                ..cfg()
            },
        );
        f.cpu(&[Some(10), Some(95), Some(10)]);
        assert_eq!(
            f.sync(),
            3,
            "the initial recommendation is as new as the sync"
        );
        f.cpu(&[Some(10), Some(95), Some(10)]);
        assert_eq!(f.sync(), 2);
        assert_eq!(
            f.condition(SCALING_LIMITED),
            (ConditionStatus::True, "TooFewReplicas".into())
        );
    }

    #[test]
    fn behavior_policy_limits_the_rate() {
        // derived (convertDesiredReplicasWithBehaviorRate): scaleUp allows 1 pod per
        // 60 s; demand for 5 from 3 gives 4, then nothing more until the event ages out.
        let mut f = fx(
            3,
            &[1000; 3],
            &[],
            "  minReplicas: 1\n  maxReplicas: 10\n  metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 30}}}]\n  behavior: {scaleUp: {policies: [{type: Pods, value: 1, periodSeconds: 60}]}}\n",
            cfg(),
        );
        let first = f.now + SimDuration::from_secs(15);
        f.cpu(&[Some(300), Some(500), Some(700)]);
        assert_eq!(f.sync(), 4);
        assert_eq!(
            f.condition(SCALING_LIMITED),
            (ConditionStatus::True, "ScaleUpLimit".into())
        );
        f.settle_status();
        // 4 pods are wanted at 50 % each -> 7, still one per minute.
        let mut seen = vec![];
        for _ in 0..5 {
            f.cpu(&[Some(500), Some(500), Some(500)]);
            seen.push(f.sync());
        }
        // Syncs at +15..+75 s after the first rescale: the event leaves the 60 s period
        // at +60 s (strictly newer than now - 60 s counts).
        assert_eq!(seen, vec![4, 4, 4, 5, 5]);
        assert_eq!(f.now, first + SimDuration::from_secs(75));
    }

    #[test]
    fn missing_target_is_failed_get_scale() {
        // derived (reconcileAutoscaler's scale lookup): the target was deleted.
        let mut f = fx(3, &[1000; 3], &[], "  maxReplicas: 5\n", cfg());
        let id = f.store.deployments.id_of("default", "web").expect("dep");
        f.store.delete_object(Kind::Deployment, id, f.now);
        f.now += SimDuration::from_secs(15);
        assert_eq!(
            f.reconcile(),
            Next::RequeueAfter(SimDuration::from_secs(15))
        );
        assert_eq!(
            f.events(),
            vec![(
                "FailedGetScale",
                "deployments.apps \"web\" not found".to_string()
            )]
        );
        let c = f.hpa().status.condition(ABLE_TO_SCALE).expect("condition");
        assert_eq!(c.status, ConditionStatus::False);
        assert_eq!(
            c.message,
            "the HPA controller was unable to get the target's current scale: deployments.apps \"web\" not found"
        );
    }

    #[test]
    fn below_min_scales_without_metrics_and_zero_disables() {
        // TestMinReplicas' bounds branch (derived): 1 replica under minReplicas 2 goes to 2
        // before any metric is read; 0 replicas disable scaling (ScalingDisabled).
        let mut f = fx(
            1,
            &[1000],
            &[],
            "  minReplicas: 2\n  maxReplicas: 5\n",
            cfg(),
        );
        assert_eq!(f.sync(), 2);
        assert_eq!(
            f.events(),
            vec![(
                "SuccessfulRescale",
                "New size: 2; reason: Current number of replicas below Spec.MinReplicas"
                    .to_string()
            )]
        );
        let id = f.store.deployments.id_of("default", "web").expect("dep");
        f.store
            .update_deployment(id, f.now, true, |d| d.replicas = 0);
        assert_eq!(f.sync(), 0);
        assert_eq!(
            f.condition(SCALING_ACTIVE),
            (ConditionStatus::False, "ScalingDisabled".into())
        );
        assert_eq!(f.hpa().status.desired_replicas, 0);
    }

    #[test]
    fn external_metrics_fail_as_without_an_adapter() {
        // derived (computeStatusForExternalMetric with no external metrics API).
        let mut f = fx(
            3,
            &[1000; 3],
            &[],
            "  maxReplicas: 5\n  metrics: [{type: External, external: {metric: {name: queue}, target: {type: Value, value: '10'}}}]\n",
            cfg(),
        );
        f.sync();
        let ev = f.events();
        assert_eq!(ev[0].0, "FailedGetExternalMetric");
        assert!(ev[1].1.starts_with(
            "invalid metrics (1 invalid out of 1), first error is: failed to get external metric queue: unable to get external metric default/queue/"
        ), "{}", ev[1].1);
        assert_eq!(
            f.condition(SCALING_ACTIVE),
            (ConditionStatus::False, "FailedGetExternalMetric".into())
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

        /// Invariant (derived from reconcileAutoscaler and the legacy rules): whatever the
        /// usage, every sync leaves the target within [min, max], never grows it past
        /// the default scale-up policies (max(+4, +100 %)) in one step, and the status reports the scale it saw.
        #[test]
        fn syncs_stay_within_bounds(
            levels in proptest::collection::vec(proptest::collection::vec(0i64..4000, 3), 1..6),
            min in 1i32..4,
            extra in 0i32..8,
        ) {
            let max = min + extra;
            let mut f = fx(
                3,
                &[1000; 3],
                &[],
                &format!("  minReplicas: {min}\n  maxReplicas: {max}\n  metrics: [{{type: Resource, resource: {{name: cpu, target: {{type: Utilization, averageUtilization: 60}}}}}}]\n  behavior: {{scaleDown: {{stabilizationWindowSeconds: 0}}}}\n"),
                cfg(),
            );
            for l in &levels {
                let before = f.replicas();
                let lv: Vec<Option<i64>> = l.iter().map(|v| Some(*v)).collect();
                f.cpu(&lv);
                let after = f.sync();
                proptest::prop_assert!((min..=max).contains(&after), "{before} -> {after}");
                // The default scale-up behavior: the larger of +4 pods and +100 % per 15 s.
                proptest::prop_assert!(after <= (before + 4).max(2 * before).max(min));
                proptest::prop_assert_eq!(f.hpa().status.current_replicas, before);
                proptest::prop_assert_eq!(f.hpa().status.desired_replicas, after);
            }
        }
    }

    #[test]
    fn pods_of_two_hpas_are_an_ambiguous_selector() {
        // derived (validateAndParseSelector): a second HPA on the same Deployment; once
        // both have synced, each finds the pods selected by two HPAs.
        let spec = "  maxReplicas: 5\n  metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 30}}}]\n";
        let mut f = fx(3, &[1000; 3], &[], spec, cfg());
        let second = create(
            &mut f.store,
            &format!(
                "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {{name: web2}}\nspec:\n  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: web}}\n{spec}"
            ),
            f.now,
        );
        let first = f.hpa_id;
        f.hpa_id = second;
        f.reconcile(); // arms web2
        f.cpu(&[Some(300), Some(300), Some(300)]);
        f.hpa_id = first;
        assert_eq!(f.sync(), 3, "web alone: 30 % is on target");
        f.hpa_id = second;
        f.reconcile();
        f.events();
        f.hpa_id = first;
        f.sync();
        let msg =
            "pods by selector app=web are controlled by multiple HPAs: [default/web default/web2]";
        assert_eq!(
            f.events().first().cloned(),
            Some(("AmbiguousSelector", msg.to_string()))
        );
        assert_eq!(
            f.condition(SCALING_ACTIVE),
            (ConditionStatus::False, "AmbiguousSelector".into())
        );
    }

    #[test]
    fn deleted_hpa_stops_its_timer() {
        let mut f = fx(3, &[1000; 3], &[], "  maxReplicas: 5\n", cfg());
        f.store
            .delete_object(Kind::HorizontalPodAutoscaler, f.hpa_id, f.now);
        assert_eq!(f.reconcile(), Next::Done);
    }
}
