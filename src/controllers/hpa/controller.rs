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
use crate::metrics::pod_metrics::{ObjectMetricKey, SharedMetrics};
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

fn secs(t: SimTime) -> i64 {
    t.as_secs() as i64
}

/// The replica calculator's view of a pod.
fn hpa_pod(p: &Pod) -> HpaPod {
    let phase = match p.status.phase {
        PodPhase::Pending => CalcPhase::Pending,
        PodPhase::Running => CalcPhase::Running,
        PodPhase::Succeeded => CalcPhase::Succeeded,
        PodPhase::Failed => CalcPhase::Failed,
        PodPhase::Unknown => CalcPhase::Unknown,
    };
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
        pods: &[(u32, HpaPod)],
        calc_pods: &[HpaPod],
        tolerances: Tolerances,
        now: i64,
    ) -> Result<(i32, String, MetricValueStatus), MetricError> {
        let ns = &hpa.meta.namespace;
        let registry = self.metrics.borrow();
        let current = scale.spec_replicas;
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
        &self,
        ctx: &mut Ctx<'_>,
        hpa: &HorizontalPodAutoscaler,
        scale: &Scale,
        status: &mut crate::api::hpa::HpaStatus,
    ) -> Result<(i32, String, Vec<MetricStatus>), String> {
        let ns = &hpa.meta.namespace;
        let pods: Vec<(u32, HpaPod)> = ctx
            .store
            .select_pods(ns, &scale.selector)
            .into_iter()
            .filter_map(|id| ctx.store.pods.get(id).map(|p| (id, hpa_pod(p))))
            .collect();
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
                ctx.store, hpa, spec, scale, &pods, &calc_pods, tolerances, now,
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
            }
            // An update while the HPA already waits in the delaying queue changes nothing.
            Op::Modified => {}
        }
    }

    fn reconcile(&mut self, key: Key, ctx: &mut Ctx<'_>) -> Next {
        let Some(hpa) = ctx.store.hpas.get(key.id) else {
            self.state.remove(&key.id);
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
