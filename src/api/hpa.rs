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
        if value == "." || value == ".." || value.contains('/') || value.contains('%') {
            return fail(
                format!("{field}.{sub}"),
                format!(
                    "Invalid value: {value:?}: may not be '.' or '..' and may not contain '/' or '%'"
                ),
            );
        }
    }
    Ok(ObjectReference {
        api_version: r.api_version.clone().unwrap_or_default(),
        kind: r.kind.clone(),
        name: r.name.clone(),
    })
}

/// Port of validateMetricTarget: the type is one of the three, and the value it names
/// is positive.
fn metric_target(field: &str, t: &wire::MetricTarget) -> Result<MetricTarget, ConvertError> {
    if t.type_.is_empty() {
        return fail(format!("{field}.type"), "must specify a metric target type");
    }
    let out = match t.type_.as_str() {
        "Utilization" => match t.average_utilization {
            Some(u) => MetricTarget::Utilization(u),
            None => {
                return fail(
                    format!("{field}.averageUtilization"),
                    "must set averageUtilization for a Utilization target",
                );
            }
        },
        "AverageValue" => match &t.average_value {
            Some(q) => {
                MetricTarget::AverageValue(quantity_milli(&format!("{field}.averageValue"), q)?)
            }
            None => {
                return fail(
                    format!("{field}.averageValue"),
                    "must set averageValue for an AverageValue target",
                );
            }
        },
        "Value" => match &t.value {
            Some(q) => MetricTarget::Value(quantity_milli(&format!("{field}.value"), q)?),
            None => {
                return fail(
                    format!("{field}.value"),
                    "must set value for a Value target",
                );
            }
        },
        other => {
            return fail(
                format!("{field}.type"),
                format!(
                    "Invalid value: {other:?}: must be either Utilization, Value, or AverageValue"
                ),
            );
        }
    };
    match out {
        MetricTarget::Value(v) if v <= 0 => fail(format!("{field}.value"), "must be positive"),
        MetricTarget::AverageValue(v) if v <= 0 => {
            fail(format!("{field}.averageValue"), "must be positive")
        }
        MetricTarget::Utilization(u) if u < 1 => fail(
            format!("{field}.averageUtilization"),
            "must be greater than 0",
        ),
        _ => Ok(out),
    }
}

fn metric_identifier(
    field: &str,
    m: &wire::MetricIdentifier,
) -> Result<MetricIdentifier, ConvertError> {
    if m.name.is_empty() {
        return fail(format!("{field}.name"), "must specify a metric name");
    }
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

/// Port of validateMetricSpec and the per-source validators.
fn metric_spec(field: &str, m: &wire::MetricSpec) -> Result<MetricSpec, ConvertError> {
    if m.type_.is_empty() {
        return fail(format!("{field}.type"), "must specify a metric source type");
    }
    let given = [
        ("object", m.object.is_some()),
        ("pods", m.pods.is_some()),
        ("resource", m.resource.is_some()),
        ("containerResource", m.container_resource.is_some()),
        ("external", m.external.is_some()),
    ];
    let own = match m.type_.as_str() {
        "Object" => "object",
        "Pods" => "pods",
        "Resource" => "resource",
        "ContainerResource" => "containerResource",
        "External" => "external",
        other => {
            return fail(
                format!("{field}.type"),
                format!(
                    "Unsupported value: {other:?}: supported values: \"ContainerResource\", \"External\", \"Object\", \"Pods\", \"Resource\""
                ),
            );
        }
    };
    for (name, set) in given {
        if set && name != own {
            return fail(
                format!("{field}.{name}"),
                "must populate the given metric source only",
            );
        }
    }
    let missing = || {
        fail(
            format!("{field}.{own}"),
            "must populate information for the given metric source",
        )
    };
    match own {
        "object" => {
            let Some(o) = &m.object else { return missing() };
            let f = format!("{field}.object");
            let described = object_reference(&format!("{f}.describedObject"), &o.described_object)?;
            let metric = metric_identifier(&format!("{f}.metric"), &o.metric)?;
            let target = metric_target(&format!("{f}.target"), &o.target)?;
            if matches!(target, MetricTarget::Utilization(_)) {
                return fail(
                    format!("{f}.target"),
                    "must set either a target value or averageValue",
                );
            }
            Ok(MetricSpec::Object {
                described,
                metric,
                target,
            })
        }
        "pods" => {
            let Some(p) = &m.pods else { return missing() };
            let f = format!("{field}.pods");
            let metric = metric_identifier(&format!("{f}.metric"), &p.metric)?;
            let target = metric_target(&format!("{f}.target"), &p.target)?;
            if !matches!(target, MetricTarget::AverageValue(_)) {
                return fail(
                    format!("{f}.target.averageValue"),
                    "must specify a positive target averageValue",
                );
            }
            Ok(MetricSpec::Pods { metric, target })
        }
        "resource" => {
            let Some(r) = &m.resource else {
                return missing();
            };
            let f = format!("{field}.resource");
            if r.name.is_empty() {
                return fail(format!("{f}.name"), "must specify a resource name");
            }
            let target = resource_target(&f, &r.target)?;
            Ok(MetricSpec::Resource {
                name: r.name.clone(),
                target,
            })
        }
        "containerResource" => {
            let Some(r) = &m.container_resource else {
                return missing();
            };
            let f = format!("{field}.containerResource");
            if r.name.is_empty() {
                return fail(format!("{f}.name"), "must specify a resource name");
            }
            if r.container.is_empty() {
                return fail(format!("{f}.container"), "must specify a container");
            }
            let target = resource_target(&f, &r.target)?;
            Ok(MetricSpec::ContainerResource {
                name: r.name.clone(),
                container: r.container.clone(),
                target,
            })
        }
        _ => {
            let Some(e) = &m.external else {
                return missing();
            };
            let f = format!("{field}.external");
            let metric = metric_identifier(&format!("{f}.metric"), &e.metric)?;
            let target = metric_target(&format!("{f}.target"), &e.target)?;
            if matches!(target, MetricTarget::Utilization(_)) {
                return fail(
                    format!("{f}.target"),
                    "must set either a target value for metric or a per-pod target",
                );
            }
            Ok(MetricSpec::External { metric, target })
        }
    }
}

fn resource_target(f: &str, t: &wire::MetricTarget) -> Result<MetricTarget, ConvertError> {
    let target = metric_target(&format!("{f}.target"), t)?;
    if t.average_utilization.is_some() && t.average_value.is_some() {
        return fail(
            format!("{f}.target.averageValue"),
            "may not set both a target raw value and a target utilization",
        );
    }
    if matches!(target, MetricTarget::Value(_)) {
        return fail(
            format!("{f}.target.type"),
            "must set either a target raw value or a target utilization",
        );
    }
    Ok(target)
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
    let target = object_reference("spec.scaleTargetRef", &spec.scale_target_ref)?;
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
                "spec.metrics[0].resource.target.type",
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
