//! The typed `autoscaling/v2` HorizontalPodAutoscaler spec and status, with the API
//! server's defaulting and validation.
//!
//! Defaulting restates upstream `pkg/apis/autoscaling/v2/defaults.go`
//! (SetDefaults_HorizontalPodAutoscaler: `minReplicas` 1, a missing metrics list becomes
//! one CPU Resource metric at 80 % utilization; SetDefaults_HorizontalPodAutoscalerBehavior:
//! a given `behavior` has every unset field filled by GenerateHPAScaleUpRules /
//! GenerateHPAScaleDownRules, an absent one stays absent). Validation restates
//! `pkg/apis/autoscaling/validation/validation.go` (ValidateHorizontalPodAutoscalerSpec,
//! ValidateCrossVersionObjectReference, validateMetrics, validateMetricSpec,
//! validateObjectSource, validatePodsSource, validateResourceSource,
//! validateContainerResourceSource, validateExternalSource, validateMetricTarget,
//! validateMetricIdentifier, validateBehavior, validateScalingRules, validateScalingPolicy)
//! with the `HPAScaleToZero` gate off (alpha), so `minReplicas` must be at least 1.

use super::convert::{ConvertError, label_selector_of};
use super::quantity::Quantity;
use super::selector::LabelSelector;
use crate::api::objects::ConditionStatus;
use crate::controllers::hpa::behavior::{
    Behavior, PartialScalingRules, ScalingPolicy, ScalingPolicyType, SelectPolicy,
    generate_scale_down_rules, generate_scale_up_rules,
};
use crate::engine::SimTime;
use k8s_openapi::api::autoscaling::v2 as wire;
use serde::Serialize;

/// Upstream `autoscaling.DefaultCPUUtilization`: the target of the defaulted metric.
pub const DEFAULT_CPU_UTILIZATION: i32 = 80;
/// Upstream `MaxStabilizationWindowSeconds` (one hour).
pub const MAX_STABILIZATION_WINDOW_SECONDS: i32 = 3600;
/// Upstream `MaxPeriodSeconds` of a scaling policy (30 minutes).
pub const MAX_PERIOD_SECONDS: i32 = 1800;

/// A metric target (`MetricTarget`), by type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum MetricTarget {
    /// `type: Utilization`, `averageUtilization` percent of the request.
    Utilization(i32),
    /// `type: AverageValue`, `averageValue` in milli-units.
    AverageValue(i64),
    /// `type: Value`, `value` in milli-units.
    Value(i64),
}

/// `MetricIdentifier`: a metric's name and optional label selector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MetricIdentifier {
    /// `name`.
    pub name: String,
    /// `selector` (`None` when unset).
    pub selector: Option<LabelSelector>,
}

/// `CrossVersionObjectReference`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObjectReference {
    /// `apiVersion` (empty when unset).
    pub api_version: String,
    /// `kind`.
    pub kind: String,
    /// `name`.
    pub name: String,
}

/// One `spec.metrics[]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum MetricSpec {
    /// `type: Resource`: a resource of every container of the pods.
    Resource {
        /// Resource name (`cpu`, `memory`).
        name: String,
        /// Utilization or AverageValue.
        target: MetricTarget,
    },
    /// `type: ContainerResource`: a resource of one container.
    ContainerResource {
        /// Resource name.
        name: String,
        /// Container name.
        container: String,
        /// Utilization or AverageValue.
        target: MetricTarget,
    },
    /// `type: Pods`: a custom per-pod metric, averaged.
    Pods {
        /// The metric.
        metric: MetricIdentifier,
        /// AverageValue.
        target: MetricTarget,
    },
    /// `type: Object`: a custom metric describing another object.
    Object {
        /// `describedObject`.
        described: ObjectReference,
        /// The metric.
        metric: MetricIdentifier,
        /// Value or AverageValue.
        target: MetricTarget,
    },
    /// `type: External`: accepted, but no external metrics API exists in kubetwin, so it
    /// always fails as upstream does without an adapter.
    External {
        /// The metric.
        metric: MetricIdentifier,
        /// Value or AverageValue.
        target: MetricTarget,
    },
}

impl MetricSpec {
    /// The target of the metric.
    pub fn target(&self) -> MetricTarget {
        match self {
            MetricSpec::Resource { target, .. }
            | MetricSpec::ContainerResource { target, .. }
            | MetricSpec::Pods { target, .. }
            | MetricSpec::Object { target, .. }
            | MetricSpec::External { target, .. } => *target,
        }
    }
}

/// `MetricValueStatus`: the current value of one metric (all in milli-units).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct MetricValueStatus {
    /// `value`.
    pub value: Option<i64>,
    /// `averageValue`.
    pub average_value: Option<i64>,
    /// `averageUtilization` (percent).
    pub average_utilization: Option<i32>,
}

/// One `status.currentMetrics[]` entry, at the index of its spec; `None` for a metric
/// that could not be computed (upstream leaves a zero-valued entry there).
pub type MetricStatus = Option<MetricValueStatus>;

/// A `status.conditions[]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HpaCondition {
    /// `type`: `AbleToScale`, `ScalingActive` or `ScalingLimited`.
    pub condition_type: &'static str,
    /// `status`.
    pub status: ConditionStatus,
    /// `reason`.
    pub reason: String,
    /// `message`.
    pub message: String,
    /// `lastTransitionTime`.
    pub last_transition: SimTime,
}

/// The HPA's `status`, as the controller writes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HpaStatus {
    /// `currentReplicas`.
    pub current_replicas: i32,
    /// `desiredReplicas`.
    pub desired_replicas: i32,
    /// `lastScaleTime`.
    pub last_scale_time: Option<SimTime>,
    /// `currentMetrics`, one per spec metric (empty until computed).
    pub current_metrics: Vec<MetricStatus>,
    /// `conditions`, in the order they were first set.
    pub conditions: Vec<HpaCondition>,
}

impl HpaStatus {
    /// The condition of a type, if set.
    pub fn condition(&self, condition_type: &str) -> Option<&HpaCondition> {
        self.conditions
            .iter()
            .find(|c| c.condition_type == condition_type)
    }

    /// Port of `horizontal.go` setConditionInList: adds the condition when missing,
    /// bumps `lastTransitionTime` only when the status changes, always replaces reason
    /// and message.
    pub fn set_condition(
        &mut self,
        condition_type: &'static str,
        status: ConditionStatus,
        reason: &str,
        message: String,
        now: SimTime,
    ) {
        let Some(c) = self
            .conditions
            .iter_mut()
            .find(|c| c.condition_type == condition_type)
        else {
            self.conditions.push(HpaCondition {
                condition_type,
                status,
                reason: reason.to_string(),
                message,
                last_transition: now,
            });
            return;
        };
        if c.status != status {
            c.last_transition = now;
        }
        c.status = status;
        c.reason = reason.to_string();
        c.message = message;
    }
}

/// Counters kubetwin keeps per HPA for the report (not part of the API object).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct HpaStats {
    /// Successful rescales upward.
    pub scale_ups: u32,
    /// Successful rescales downward.
    pub scale_downs: u32,
    /// Largest replica count the HPA set or observed.
    pub max_replicas_seen: i32,
    /// Smallest replica count the HPA set or observed (0 until the first sync).
    pub min_replicas_seen: i32,
}

/// The converted, defaulted and validated spec.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HpaSpec {
    /// `scaleTargetRef`.
    pub target: ObjectReference,
    /// `minReplicas` (defaulted to 1).
    pub min_replicas: i32,
    /// `maxReplicas`.
    pub max_replicas: i32,
    /// `metrics` (defaulted to CPU at 80 %).
    pub metrics: Vec<MetricSpec>,
    /// `behavior`, fully defaulted when given; `None` when absent (the legacy rules).
    pub behavior: Option<Behavior>,
}

fn fail<T>(field: impl Into<String>, message: impl Into<String>) -> Result<T, ConvertError> {
    Err(ConvertError {
        field: field.into(),
        message: message.into(),
    })
}

fn quantity_milli(
    field: &str,
    q: &k8s_openapi::apimachinery::pkg::api::resource::Quantity,
) -> Result<i64, ConvertError> {
    Quantity::parse(&q.0)
        .map(|q| q.milli_value())
        .map_err(|e| ConvertError {
            field: field.into(),
            message: e.to_string(),
        })
}

/// Port of ValidateCrossVersionObjectReference: kind and name required and valid path
/// segments.
fn object_reference(
    field: &str,
    r: &wire::CrossVersionObjectReference,
) -> Result<ObjectReference, ConvertError> {
    for (value, sub) in [(&r.kind, "kind"), (&r.name, "name")] {
        if value.is_empty() {
            return fail(format!("{field}.{sub}"), "Required value");
        }
        path_segment(&format!("{field}.{sub}"), value)?;
    }
    Ok(ObjectReference {
        api_version: r.api_version.clone().unwrap_or_default(),
        kind: r.kind.clone(),
        name: r.name.clone(),
    })
}

/// A target's set values in milli-units, after validateMetricTarget.
#[derive(Debug, Clone, Copy)]
struct TargetValues {
    type_is_value: bool,
    type_is_average_value: bool,
    value: Option<i64>,
    average_value: Option<i64>,
    average_utilization: Option<i32>,
}

/// Port of validateMetricTarget: a known type, and every value that is set positive
/// (upstream checks what is set, not what the type names).
fn metric_target(field: &str, t: &wire::MetricTarget) -> Result<TargetValues, ConvertError> {
    if t.type_.is_empty() {
        return fail(
            format!("{field}.type"),
            "Required value: must specify a metric target type",
        );
    }
    if !matches!(t.type_.as_str(), "Utilization" | "Value" | "AverageValue") {
        return fail(
            format!("{field}.type"),
            format!(
                "Invalid value: {:?}: must be either Utilization, Value, or AverageValue",
                t.type_
            ),
        );
    }
    let value = t
        .value
        .as_ref()
        .map(|q| quantity_milli(&format!("{field}.value"), q))
        .transpose()?;
    if let Some(v) = value
        && v <= 0
    {
        return fail(
            format!("{field}.value"),
            format!(
                "Invalid value: {:?}: must be positive",
                t.value.as_ref().map(|q| &q.0).unwrap_or(&String::new())
            ),
        );
    }
    let average_value = t
        .average_value
        .as_ref()
        .map(|q| quantity_milli(&format!("{field}.averageValue"), q))
        .transpose()?;
    if let Some(v) = average_value
        && v <= 0
    {
        return fail(
            format!("{field}.averageValue"),
            format!(
                "Invalid value: {:?}: must be positive",
                t.average_value
                    .as_ref()
                    .map(|q| &q.0)
                    .unwrap_or(&String::new())
            ),
        );
    }
    if let Some(u) = t.average_utilization
        && u < 1
    {
        return fail(
            format!("{field}.averageUtilization"),
            format!("Invalid value: {u}: must be greater than 0"),
        );
    }
    Ok(TargetValues {
        type_is_value: t.type_ == "Value",
        type_is_average_value: t.type_ == "AverageValue",
        value,
        average_value,
        average_utilization: t.average_utilization,
    })
}

/// Port of validateMetricIdentifier: a name that is a valid path segment.
fn metric_identifier(
    field: &str,
    m: &wire::MetricIdentifier,
) -> Result<MetricIdentifier, ConvertError> {
    if m.name.is_empty() {
        return fail(
            format!("{field}.name"),
            "Required value: must specify a metric name",
        );
    }
    path_segment(&format!("{field}.name"), &m.name)?;
    let selector = m
        .selector
        .as_ref()
        .map(|s| label_selector_of(&format!("{field}.selector"), s))
        .transpose()?;
    Ok(MetricIdentifier {
        name: m.name.clone(),
        selector,
    })
}

/// Upstream IsValidPathSegmentName.
fn path_segment(field: &str, value: &str) -> Result<(), ConvertError> {
    if value == "." || value == ".." {
        return fail(
            field,
            format!("Invalid value: {value:?}: may not be '{value}'"),
        );
    }
    for c in ['/', '%'] {
        if value.contains(c) {
            return fail(
                field,
                format!("Invalid value: {value:?}: may not contain '{c}'"),
            );
        }
    }
    Ok(())
}

/// validateResourceSource / validateContainerResourceSource's target rule; the
/// controller then uses averageValue when set, else averageUtilization.
fn resource_target(f: &str, t: &wire::MetricTarget) -> Result<MetricTarget, ConvertError> {
    let v = metric_target(&format!("{f}.target"), t)?;
    match (v.average_value, v.average_utilization) {
        (None, None) => fail(
            format!("{f}.target.averageUtilization"),
            "Required value: must set either a target raw value or a target utilization",
        ),
        (Some(_), Some(_)) => fail(
            format!("{f}.target.averageValue"),
            "Forbidden: may not set both a target raw value and a target utilization",
        ),
        (Some(a), None) => Ok(MetricTarget::AverageValue(a)),
        (None, Some(u)) => Ok(MetricTarget::Utilization(u)),
    }
}

/// Port of validateObjectSource, validateExternalSource, validatePodsSource,
/// validateResourceSource and validateContainerResourceSource.
fn metric_source(
    field: &str,
    which: &str,
    m: &wire::MetricSpec,
) -> Result<MetricSpec, ConvertError> {
    let f = format!("{field}.{which}");
    match which {
        "object" => {
            let o = m.object.as_ref().expect("present");
            let described = object_reference(&format!("{f}.describedObject"), &o.described_object)?;
            let metric = metric_identifier(&format!("{f}.metric"), &o.metric)?;
            let v = metric_target(&format!("{f}.target"), &o.target)?;
            if v.value.is_none() && v.average_value.is_none() {
                return fail(
                    format!("{f}.target.averageValue"),
                    "Required value: must set either a target value or averageValue",
                );
            }
            // computeStatusForObjectMetric dispatches on the type; a type naming a value
            // that is not set would fail every sync (or crash) upstream: refused here.
            let target = match (
                v.type_is_value,
                v.type_is_average_value,
                v.value,
                v.average_value,
            ) {
                (true, _, Some(x), _) => MetricTarget::Value(x),
                (_, true, _, Some(x)) => MetricTarget::AverageValue(x),
                _ => {
                    return fail(
                        format!("{f}.target.type"),
                        "invalid object metric source: neither a value target nor an average value target was set",
                    );
                }
            };
            Ok(MetricSpec::Object {
                described,
                metric,
                target,
            })
        }
        "external" => {
            let e = m.external.as_ref().expect("present");
            let metric = metric_identifier(&format!("{f}.metric"), &e.metric)?;
            let v = metric_target(&format!("{f}.target"), &e.target)?;
            let target = match (v.value, v.average_value) {
                (None, None) => {
                    return fail(
                        format!("{f}.target.averageValue"),
                        "Required value: must set either a target value for metric or a per-pod target",
                    );
                }
                (Some(_), Some(_)) => {
                    return fail(
                        format!("{f}.target.value"),
                        "Forbidden: may not set both a target value for metric and a per-pod target",
                    );
                }
                (None, Some(a)) => MetricTarget::AverageValue(a),
                (Some(x), None) => MetricTarget::Value(x),
            };
            Ok(MetricSpec::External { metric, target })
        }
        "pods" => {
            let p = m.pods.as_ref().expect("present");
            let metric = metric_identifier(&format!("{f}.metric"), &p.metric)?;
            let v = metric_target(&format!("{f}.target"), &p.target)?;
            let Some(a) = v.average_value else {
                return fail(
                    format!("{f}.target.averageValue"),
                    "Required value: must specify a positive target averageValue",
                );
            };
            Ok(MetricSpec::Pods {
                metric,
                target: MetricTarget::AverageValue(a),
            })
        }
        "resource" => {
            let r = m.resource.as_ref().expect("present");
            if r.name.is_empty() {
                return fail(
                    format!("{f}.name"),
                    "Required value: must specify a resource name",
                );
            }
            let target = resource_target(&f, &r.target)?;
            Ok(MetricSpec::Resource {
                name: r.name.clone(),
                target,
            })
        }
        _ => {
            let r = m.container_resource.as_ref().expect("present");
            if r.name.is_empty() {
                return fail(
                    format!("{f}.name"),
                    "Required value: must specify a resource name",
                );
            }
            if r.container.is_empty() {
                return fail(
                    format!("{f}.container"),
                    "Required value: must specify a container",
                );
            }
            super::convert::validate_name(&r.container).map_err(|message| ConvertError {
                field: format!("{f}.container"),
                message,
            })?;
            let target = resource_target(&f, &r.target)?;
            Ok(MetricSpec::ContainerResource {
                name: r.name.clone(),
                container: r.container.clone(),
                target,
            })
        }
    }
}

/// Port of validateMetricSpec, in upstream's order: the type, the first source present
/// (object, external, pods, resource, containerResource), the source the type names,
/// then any other source.
fn metric_spec(field: &str, m: &wire::MetricSpec) -> Result<MetricSpec, ConvertError> {
    const SUPPORTED: &str =
        "supported values: \"ContainerResource\", \"External\", \"Object\", \"Pods\", \"Resource\"";
    if m.type_.is_empty() {
        return fail(
            format!("{field}.type"),
            "Required value: must specify a metric source type",
        );
    }
    let own = match m.type_.as_str() {
        "Object" => "object",
        "Pods" => "pods",
        "Resource" => "resource",
        "ContainerResource" => "containerResource",
        "External" => "external",
        other => {
            return fail(
                format!("{field}.type"),
                format!("Unsupported value: {other:?}: {SUPPORTED}"),
            );
        }
    };
    let present: Vec<&str> = [
        ("object", m.object.is_some()),
        ("external", m.external.is_some()),
        ("pods", m.pods.is_some()),
        ("resource", m.resource.is_some()),
        ("containerResource", m.container_resource.is_some()),
    ]
    .into_iter()
    .filter_map(|(n, set)| set.then_some(n))
    .collect();
    let Some(first) = present.first() else {
        return fail(
            format!("{field}.{own}"),
            "Required value: must populate information for the given metric source",
        );
    };
    let spec = metric_source(field, first, m)?;
    if !present.contains(&own) {
        return fail(
            format!("{field}.{own}"),
            "Required value: must populate information for the given metric source",
        );
    }
    if let Some(other) = present.iter().find(|n| **n != own) {
        return fail(
            format!("{field}.{other}"),
            "Forbidden: must populate the given metric source only",
        );
    }
    Ok(spec)
}

/// Port of validateScalingRules / validateScalingPolicy on the user's rules (before the
/// defaults are overlaid, so an explicit empty policy list is refused).
fn scaling_rules(
    field: &str,
    r: &wire::HPAScalingRules,
) -> Result<PartialScalingRules, ConvertError> {
    if let Some(w) = r.stabilization_window_seconds {
        if w < 0 {
            return fail(
                format!("{field}.stabilizationWindowSeconds"),
                format!("Invalid value: {w}: must be greater than or equal to zero"),
            );
        }
        if w > MAX_STABILIZATION_WINDOW_SECONDS {
            return fail(
                format!("{field}.stabilizationWindowSeconds"),
                format!(
                    "Invalid value: {w}: must be less than or equal to {MAX_STABILIZATION_WINDOW_SECONDS}"
                ),
            );
        }
    }
    let select_policy = match &r.select_policy {
        None => None,
        Some(s) => Some(SelectPolicy::parse(s).ok_or_else(|| ConvertError {
            field: format!("{field}.selectPolicy"),
            message: format!(
                "Unsupported value: {s:?}: supported values: \"Disabled\", \"Max\", \"Min\""
            ),
        })?),
    };
    let policies = match &r.policies {
        None => None,
        Some(ps) => {
            if ps.is_empty() {
                return fail(
                    format!("{field}.policies"),
                    "must specify at least one Policy",
                );
            }
            let mut out = Vec::with_capacity(ps.len());
            for (i, p) in ps.iter().enumerate() {
                let pf = format!("{field}.policies[{i}]");
                let policy_type = match p.type_.as_str() {
                    "Pods" => ScalingPolicyType::Pods,
                    "Percent" => ScalingPolicyType::Percent,
                    other => {
                        return fail(
                            format!("{pf}.type"),
                            format!(
                                "Unsupported value: {other:?}: supported values: \"Percent\", \"Pods\""
                            ),
                        );
                    }
                };
                if p.value <= 0 {
                    return fail(
                        format!("{pf}.value"),
                        format!("Invalid value: {}: must be greater than zero", p.value),
                    );
                }
                if p.period_seconds <= 0 {
                    return fail(
                        format!("{pf}.periodSeconds"),
                        format!(
                            "Invalid value: {}: must be greater than zero",
                            p.period_seconds
                        ),
                    );
                }
                if p.period_seconds > MAX_PERIOD_SECONDS {
                    return fail(
                        format!("{pf}.periodSeconds"),
                        format!(
                            "Invalid value: {}: must be less than or equal to {MAX_PERIOD_SECONDS}",
                            p.period_seconds
                        ),
                    );
                }
                out.push(ScalingPolicy {
                    policy_type,
                    value: p.value,
                    period_seconds: p.period_seconds,
                });
            }
            Some(out)
        }
    };
    let tolerance = match &r.tolerance {
        None => None,
        Some(q) => {
            let milli = quantity_milli(&format!("{field}.tolerance"), q)?;
            if milli < 0 {
                return fail(
                    format!("{field}.tolerance"),
                    "must be greater than or equal to zero",
                );
            }
            Some(milli as f64 / 1000.0)
        }
    };
    Ok(PartialScalingRules {
        stabilization_window_seconds: r.stabilization_window_seconds,
        select_policy,
        policies,
        tolerance,
    })
}

/// Converts, defaults and validates an `autoscaling/v2` spec (field paths relative to
/// the object).
pub fn convert_spec(spec: &wire::HorizontalPodAutoscalerSpec) -> Result<HpaSpec, ConvertError> {
    let min = spec.min_replicas.unwrap_or(1);
    if min < 1 {
        return fail(
            "spec.minReplicas",
            format!("Invalid value: {min}: must be greater than or equal to 1"),
        );
    }
    if spec.max_replicas < 1 {
        return fail(
            "spec.maxReplicas",
            format!(
                "Invalid value: {}: must be greater than 0",
                spec.max_replicas
            ),
        );
    }
    if spec.max_replicas < min {
        return fail(
            "spec.maxReplicas",
            format!(
                "Invalid value: {}: must be greater than or equal to `minReplicas`",
                spec.max_replicas
            ),
        );
    }
    let target = object_reference("spec.scaleTargetRef", &spec.scale_target_ref)?;
    let metrics = match spec.metrics.as_deref() {
        None | Some([]) => vec![MetricSpec::Resource {
            name: "cpu".into(),
            target: MetricTarget::Utilization(DEFAULT_CPU_UTILIZATION),
        }],
        Some(ms) => ms
            .iter()
            .enumerate()
            .map(|(i, m)| metric_spec(&format!("spec.metrics[{i}]"), m))
            .collect::<Result<_, _>>()?,
    };
    let behavior = match &spec.behavior {
        None => None,
        Some(b) => {
            let up = b
                .scale_up
                .as_ref()
                .map(|r| scaling_rules("spec.behavior.scaleUp", r))
                .transpose()?;
            let down = b
                .scale_down
                .as_ref()
                .map(|r| scaling_rules("spec.behavior.scaleDown", r))
                .transpose()?;
            Some(Behavior {
                scale_up: generate_scale_up_rules(up.as_ref()),
                scale_down: generate_scale_down_rules(down.as_ref()),
            })
        }
    };
    Ok(HpaSpec {
        target,
        min_replicas: min,
        max_replicas: spec.max_replicas,
        metrics,
        behavior,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(yaml: &str) -> Result<HpaSpec, ConvertError> {
        let s: wire::HorizontalPodAutoscalerSpec = serde_saphyr::from_str(yaml).expect("yaml");
        convert_spec(&s)
    }

    const TARGET: &str = "scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n";

    #[test]
    fn defaults_as_upstream() {
        // SetDefaults_HorizontalPodAutoscaler: minReplicas 1, CPU 80 %, no behavior.
        let s = spec(&format!("{TARGET}maxReplicas: 5\n")).unwrap();
        assert_eq!(s.min_replicas, 1);
        assert_eq!(
            s.metrics,
            vec![MetricSpec::Resource {
                name: "cpu".into(),
                target: MetricTarget::Utilization(80)
            }]
        );
        assert_eq!(s.behavior, None);
        // A given behavior is filled with upstream's rules.
        let s = spec(&format!(
            "{TARGET}maxReplicas: 5\nbehavior:\n  scaleDown: {{stabilizationWindowSeconds: 60}}\n"
        ))
        .unwrap();
        let b = s.behavior.unwrap();
        assert_eq!(
            b.scale_up,
            crate::controllers::hpa::behavior::ScalingRules::default_scale_up()
        );
        assert_eq!(b.scale_down.stabilization_window_seconds, Some(60));
        assert_eq!(b.scale_down.policies.len(), 1);
    }

    #[test]
    fn validation_rejects_as_upstream() {
        // (spec tail, field, message fragment), restated from validation.go's rules.
        let rows: &[(&str, &str, &str)] = &[
            (
                "maxReplicas: 0\n",
                "spec.maxReplicas",
                "must be greater than 0",
            ),
            (
                "minReplicas: 0\nmaxReplicas: 3\n",
                "spec.minReplicas",
                "greater than or equal to 1",
            ),
            (
                "minReplicas: 4\nmaxReplicas: 3\n",
                "spec.maxReplicas",
                "`minReplicas`",
            ),
            (
                "maxReplicas: 3\nmetrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 0}}}]\n",
                "spec.metrics[0].resource.target.averageUtilization",
                "must be greater than 0",
            ),
            (
                "maxReplicas: 3\nmetrics: [{type: Pods, pods: {metric: {name: rps}, target: {type: AverageValue, averageValue: '0'}}}]\n",
                "spec.metrics[0].pods.target.averageValue",
                "must be positive",
            ),
            (
                "maxReplicas: 3\nmetrics: [{type: Resource}]\n",
                "spec.metrics[0].resource",
                "must populate information",
            ),
            (
                "maxReplicas: 3\nmetrics: [{type: Resource, resource: {name: cpu, target: {type: Value, value: '1'}}}]\n",
                "spec.metrics[0].resource.target.averageUtilization",
                "raw value or a target utilization",
            ),
            (
                "maxReplicas: 3\nbehavior: {scaleUp: {stabilizationWindowSeconds: 3601}}\n",
                "spec.behavior.scaleUp.stabilizationWindowSeconds",
                "less than or equal to 3600",
            ),
            (
                "maxReplicas: 3\nbehavior: {scaleDown: {selectPolicy: Fastest}}\n",
                "spec.behavior.scaleDown.selectPolicy",
                "Unsupported value",
            ),
            (
                "maxReplicas: 3\nbehavior: {scaleDown: {policies: []}}\n",
                "spec.behavior.scaleDown.policies",
                "at least one Policy",
            ),
            (
                "maxReplicas: 3\nbehavior: {scaleUp: {policies: [{type: Pods, value: 0, periodSeconds: 15}]}}\n",
                "spec.behavior.scaleUp.policies[0].value",
                "greater than zero",
            ),
            (
                "maxReplicas: 3\nbehavior: {scaleUp: {policies: [{type: Pods, value: 1, periodSeconds: 1801}]}}\n",
                "spec.behavior.scaleUp.policies[0].periodSeconds",
                "less than or equal to 1800",
            ),
        ];
        for (tail, field, frag) in rows {
            let e = spec(&format!("{TARGET}{tail}")).expect_err(tail);
            assert_eq!(e.field, *field, "{tail}");
            assert!(e.message.contains(frag), "{tail}: {}", e.message);
        }
        let e = spec("scaleTargetRef: {kind: Deployment, name: ''}\nmaxReplicas: 3\n").unwrap_err();
        assert_eq!(e.field, "spec.scaleTargetRef.name");
        // Upstream's order: replica bounds before the target reference.
        let e = spec("scaleTargetRef: {kind: Deployment, name: ''}\nmaxReplicas: 0\n").unwrap_err();
        assert_eq!(e.field, "spec.maxReplicas");
        // Sources are validated by presence, the first present one first.
        let e = spec(&format!(
            "{TARGET}maxReplicas: 3\nmetrics: [{{type: Pods, resource: {{name: cpu, target: {{type: Utilization, averageUtilization: 50}}}}}}]\n"
        ))
        .unwrap_err();
        assert_eq!(e.field, "spec.metrics[0].pods");
        let e = spec(&format!(
            "{TARGET}maxReplicas: 3\nmetrics: [{{type: External, external: {{metric: {{name: q}}, target: {{type: Value, value: '1', averageValue: '1'}}}}}}]\n"
        ))
        .unwrap_err();
        assert_eq!(e.field, "spec.metrics[0].external.target.value");
        // A Resource target is what is set, whatever the type says (the controller reads
        // averageValue first).
        let s = spec(&format!(
            "{TARGET}maxReplicas: 3\nmetrics: [{{type: Resource, resource: {{name: memory, target: {{type: Utilization, averageValue: 1Gi}}}}}}]\n"
        ))
        .unwrap();
        assert_eq!(
            s.metrics[0].target(),
            MetricTarget::AverageValue(1024 * 1024 * 1024 * 1000)
        );
    }

    #[test]
    fn conditions_transition_only_on_status_change() {
        let mut s = HpaStatus::default();
        let t1 = SimTime::from_secs(15);
        let t2 = SimTime::from_secs(30);
        s.set_condition("AbleToScale", ConditionStatus::True, "A", "a".into(), t1);
        s.set_condition("AbleToScale", ConditionStatus::True, "B", "b".into(), t2);
        assert_eq!(s.conditions[0].last_transition, t1);
        assert_eq!(s.conditions[0].reason, "B");
        s.set_condition("AbleToScale", ConditionStatus::False, "C", "c".into(), t2);
        assert_eq!(s.conditions[0].last_transition, t2);
    }
}
