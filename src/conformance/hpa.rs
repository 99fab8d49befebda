//! Conformance adapter for the `hpa.*` functions of the conformance suite
//! (`/work/shared/conformance/README.md` section 4.4).
//!
//! Each function parses the case `input` (JSON) into the typed inputs of
//! [`crate::controllers::hpa::replica_calc`] / [`crate::controllers::hpa::behavior`], runs the
//! port of the upstream logic and renders the `expected` keys.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::api::quantity::Quantity;
use crate::controllers::hpa::behavior::{
    self, Direction, ReplicaBounds, ScaleEvent, ScalingPolicy, ScalingPolicyType, ScalingRules,
    SelectPolicy,
};
use crate::controllers::hpa::replica_calc::{
    self, ConditionStatus, ContainerUsage, HpaContainer, HpaPod, PodMetric, PodMetricsInfo,
    PodPhase, PodResourceSample, ReplicaCalcConfig, ResourceTarget, Tolerances,
};

/// Evaluates one `hpa.*` conformance function; `None` when `function` is not an hpa function.
pub fn eval(function: &str, input: &Value) -> Option<Result<Value, String>> {
    let result = match function {
        "hpa.replica_calc.resource" => replica_calc_resource(input),
        "hpa.replica_calc.pods" => replica_calc_pods(input),
        "hpa.replica_calc.object_external" => replica_calc_object_external(input),
        "hpa.legacy_convert_desired_replicas" => legacy_convert(input),
        "hpa.legacy_stabilization" => legacy_stabilization(input),
        "hpa.scale_limit" => scale_limit(input),
        "hpa.scaling_rules" => scaling_rules(input),
        "hpa.out_of_range_replicas" => out_of_range(input),
        _ => return None,
    };
    Some(result)
}

// ---- input helpers ----

fn field<'a>(v: &'a Value, key: &str) -> Result<&'a Value, String> {
    v.get(key).ok_or_else(|| format!("missing field {key:?}"))
}

fn get_i64(v: &Value, key: &str) -> Result<i64, String> {
    field(v, key)?
        .as_i64()
        .ok_or_else(|| format!("field {key:?} is not an integer"))
}

fn get_i32(v: &Value, key: &str) -> Result<i32, String> {
    i32::try_from(get_i64(v, key)?).map_err(|_| format!("field {key:?} out of int32 range"))
}

fn get_f64(v: &Value, key: &str) -> Result<f64, String> {
    field(v, key)?
        .as_f64()
        .ok_or_else(|| format!("field {key:?} is not a number"))
}

fn get_str<'a>(v: &'a Value, key: &str) -> Result<&'a str, String> {
    field(v, key)?
        .as_str()
        .ok_or_else(|| format!("field {key:?} is not a string"))
}

fn get_opt_i64(v: &Value, key: &str) -> Result<Option<i64>, String> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(x) => x
            .as_i64()
            .map(Some)
            .ok_or_else(|| format!("field {key:?} is not an integer")),
    }
}

fn get_array<'a>(v: &'a Value, key: &str) -> Result<&'a Vec<Value>, String> {
    field(v, key)?
        .as_array()
        .ok_or_else(|| format!("field {key:?} is not a list"))
}

/// Quantity (string or number) in milli-units, rounded up.
fn quantity_milli(v: &Value) -> Result<i64, String> {
    let text = match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => return Err(format!("not a quantity: {other}")),
    };
    Quantity::parse(&text)
        .map(|q| q.milli_value())
        .map_err(|e| format!("bad quantity {text:?}: {e}"))
}

fn quantity_map(v: &Value) -> Result<BTreeMap<String, i64>, String> {
    let mut out = BTreeMap::new();
    match v {
        Value::Null => {}
        Value::Object(m) => {
            for (k, q) in m {
                out.insert(k.clone(), quantity_milli(q)?);
            }
        }
        other => return Err(format!("not a resource map: {other}")),
    }
    Ok(out)
}

fn parse_phase(s: &str) -> Result<PodPhase, String> {
    Ok(match s {
        "Pending" => PodPhase::Pending,
        "Running" => PodPhase::Running,
        "Succeeded" => PodPhase::Succeeded,
        "Failed" => PodPhase::Failed,
        "Unknown" => PodPhase::Unknown,
        other => return Err(format!("unknown pod phase {other:?}")),
    })
}

fn parse_pod(v: &Value) -> Result<HpaPod, String> {
    let phase = match v.get("phase") {
        None | Some(Value::Null) => None,
        Some(p) => Some(parse_phase(p.as_str().ok_or("phase is not a string")?)?),
    };
    let ready = match v.get("ready") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(match s.as_str() {
            "True" => ConditionStatus::True,
            "False" => ConditionStatus::False,
            "Unknown" => ConditionStatus::Unknown,
            other => return Err(format!("unknown ready status {other:?}")),
        }),
        Some(Value::Bool(b)) => Some(if *b {
            ConditionStatus::True
        } else {
            ConditionStatus::False
        }),
        Some(other) => return Err(format!("bad ready value {other}")),
    };
    let mut containers = Vec::new();
    if let Some(list) = v.get("containers").and_then(Value::as_array) {
        for c in list {
            containers.push(HpaContainer {
                name: c
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                requests_milli: quantity_map(c.get("requests").unwrap_or(&Value::Null))?,
            });
        }
    }
    Ok(HpaPod {
        name: get_str(v, "name")?.to_string(),
        phase,
        ready,
        ready_last_transition_time: get_opt_i64(v, "readyLastTransitionTime")?,
        start_time: get_opt_i64(v, "startTime")?,
        deletion_timestamp: get_opt_i64(v, "deletionTimestamp")?,
        containers,
        restartable_init_containers: Vec::new(),
    })
}

fn parse_pods(input: &Value) -> Result<Vec<HpaPod>, String> {
    get_array(input, "pods")?.iter().map(parse_pod).collect()
}

fn tolerances(input: &Value) -> Result<Tolerances, String> {
    Ok(Tolerances::symmetric(get_f64(input, "tolerance")?))
}

fn config(input: &Value) -> Result<ReplicaCalcConfig, String> {
    Ok(ReplicaCalcConfig {
        cpu_initialization_period_seconds: get_i64(input, "cpuInitializationPeriodSeconds")?,
        delay_of_initial_readiness_status_seconds: get_i64(
            input,
            "delayOfInitialReadinessStatusSeconds",
        )?,
    })
}

fn parse_events(input: &Value, key: &str) -> Result<Vec<ScaleEvent>, String> {
    let mut out = Vec::new();
    if let Some(list) = input.get(key).and_then(Value::as_array) {
        for e in list {
            out.push(ScaleEvent {
                replica_change: get_i32(e, "replicaChange")?,
                timestamp: get_i64(e, "timestamp")?,
                outdated: false,
            });
        }
    }
    Ok(out)
}

fn parse_rules(v: &Value) -> Result<ScalingRules, String> {
    let select = match v.get("selectPolicy") {
        None | Some(Value::Null) => SelectPolicy::Max,
        Some(s) => {
            let s = s.as_str().ok_or("selectPolicy is not a string")?;
            SelectPolicy::parse(s).ok_or_else(|| format!("unknown selectPolicy {s:?}"))?
        }
    };
    let mut policies = Vec::new();
    if let Some(list) = v.get("policies").and_then(Value::as_array) {
        for p in list {
            let policy_type = match get_str(p, "type")? {
                "Pods" => ScalingPolicyType::Pods,
                "Percent" => ScalingPolicyType::Percent,
                other => return Err(format!("unknown policy type {other:?}")),
            };
            policies.push(ScalingPolicy {
                policy_type,
                value: get_i32(p, "value")?,
                period_seconds: get_i32(p, "periodSeconds")?,
            });
        }
    }
    Ok(ScalingRules {
        stabilization_window_seconds: get_opt_i64(v, "stabilizationWindowSeconds")?
            .map(|w| i32::try_from(w).unwrap_or(i32::MAX)),
        select_policy: select,
        policies,
        tolerance: None,
    })
}

fn obj(pairs: Vec<(&str, Value)>) -> Value {
    let mut m = Map::new();
    for (k, v) in pairs {
        m.insert(k.to_string(), v);
    }
    Value::Object(m)
}

// ---- functions ----

fn replica_calc_resource(input: &Value) -> Result<Value, String> {
    let pods = parse_pods(input)?;
    let resource = get_str(input, "resourceName")?;
    let mut samples = Vec::new();
    for m in get_array(input, "podMetrics")? {
        let mut containers = Vec::new();
        if let Some(list) = m.get("containers").and_then(Value::as_array) {
            for c in list {
                containers.push(ContainerUsage {
                    name: c
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    usage_milli: quantity_map(c.get("usage").unwrap_or(&Value::Null))?,
                });
            }
        }
        samples.push(PodResourceSample {
            pod_name: get_str(m, "podName")?.to_string(),
            timestamp: get_i64(m, "timestamp")?,
            window_seconds: get_i64(m, "windowSeconds")?,
            containers,
        });
    }
    let target = ResourceTarget {
        resource,
        container: None,
        target_utilization: get_i32(input, "targetAverageUtilization")?,
    };
    let result = replica_calc::get_resource_replicas(
        get_i32(input, "currentReplicas")?,
        target,
        tolerances(input)?,
        &pods,
        &samples,
        &config(input)?,
        get_i64(input, "now")?,
    );
    Ok(match result {
        Ok(r) => obj(vec![
            ("error", json!(false)),
            ("replicas", json!(r.replicas)),
            ("currentAverageUtilization", json!(r.utilization)),
            ("currentAverageValueMilli", json!(r.raw_utilization)),
        ]),
        Err(_) => obj(vec![
            ("error", json!(true)),
            ("replicas", Value::Null),
            ("currentAverageUtilization", Value::Null),
            ("currentAverageValueMilli", Value::Null),
        ]),
    })
}

fn replica_calc_pods(input: &Value) -> Result<Value, String> {
    let pods = parse_pods(input)?;
    let mut metrics = PodMetricsInfo::new();
    for m in get_array(input, "podMetrics")? {
        metrics.insert(
            get_str(m, "podName")?.to_string(),
            PodMetric {
                timestamp: get_opt_i64(m, "timestamp")?.unwrap_or(0),
                window_seconds: get_opt_i64(m, "windowSeconds")?.unwrap_or(0),
                value: quantity_milli(field(m, "value")?)?,
            },
        );
    }
    let (replicas, usage) = replica_calc::get_metric_replicas(
        get_i32(input, "currentReplicas")?,
        quantity_milli(field(input, "targetAverageValue")?)?,
        tolerances(input)?,
        &pods,
        metrics,
        &ReplicaCalcConfig::TESTING,
        get_opt_i64(input, "now")?.unwrap_or(0),
    )
    .map_err(|e| e.to_string())?;
    Ok(obj(vec![
        ("replicas", json!(replicas)),
        ("currentAverageValueMilli", json!(usage)),
    ]))
}

fn replica_calc_object_external(input: &Value) -> Result<Value, String> {
    let pods = parse_pods(input)?;
    let current = get_i32(input, "currentReplicas")?;
    let tol = tolerances(input)?;
    let target = quantity_milli(field(input, "target")?)?;
    let values = get_array(input, "metricValues")?
        .iter()
        .map(quantity_milli)
        .collect::<Result<Vec<_>, _>>()?;
    let source = get_str(input, "metricSourceType")?;
    let target_type = get_str(input, "targetType")?;
    let (replicas, value) = match (source, target_type) {
        ("Object", _) if values.len() != 1 => {
            return Err(format!(
                "Object metric needs exactly one value, got {}",
                values.len()
            ));
        }
        ("Object", "Value") => {
            replica_calc::get_object_metric_replicas(current, target, values[0], tol, &pods)
                .map_err(|e| e.to_string())?
        }
        ("Object", "AverageValue") => {
            replica_calc::get_object_per_pod_metric_replicas(current, target, values[0], tol)
        }
        ("External", "Value") => {
            replica_calc::get_external_metric_replicas(current, target, &values, tol, &pods)
                .map_err(|e| e.to_string())?
        }
        ("External", "AverageValue") => {
            replica_calc::get_external_per_pod_metric_replicas(current, target, &values, tol)
        }
        (s, t) => return Err(format!("unsupported metric source/target {s}/{t}")),
    };
    Ok(obj(vec![
        ("replicas", json!(replicas)),
        ("currentValueMilli", json!(value)),
    ]))
}

fn legacy_convert(input: &Value) -> Result<Value, String> {
    let (replicas, reason) = behavior::convert_desired_replicas_with_rules(
        get_i32(input, "currentReplicas")?,
        get_i32(input, "desiredReplicas")?,
        get_i32(input, "minReplicas")?,
        get_i32(input, "maxReplicas")?,
    );
    Ok(obj(vec![
        ("replicas", json!(replicas)),
        ("scalingLimitedReason", json!(reason.as_str())),
    ]))
}

fn legacy_stabilization(input: &Value) -> Result<Value, String> {
    let mut recs = Vec::new();
    for r in get_array(input, "recommendations")? {
        recs.push(behavior::Recommendation {
            replicas: get_i32(r, "replicas")?,
            timestamp: get_i64(r, "timestamp")?,
        });
    }
    let stabilized = behavior::legacy_stabilized_recommendation(
        &recs,
        get_i32(input, "desiredReplicas")?,
        get_i64(input, "now")?,
        get_i64(input, "downscaleStabilizationWindowSeconds")?,
    );
    Ok(obj(vec![("stabilizedReplicas", json!(stabilized))]))
}

fn scale_limit(input: &Value) -> Result<Value, String> {
    let direction = match get_str(input, "direction")? {
        "Up" => Direction::Up,
        "Down" => Direction::Down,
        other => return Err(format!("unknown direction {other:?}")),
    };
    let limit = behavior::scale_limit(
        direction,
        get_i32(input, "currentReplicas")?,
        &parse_events(input, "scaleUpEvents")?,
        &parse_events(input, "scaleDownEvents")?,
        &parse_rules(field(input, "rules")?)?,
        get_i64(input, "now")?,
    );
    Ok(obj(vec![("limit", json!(limit))]))
}

fn scaling_rules(input: &Value) -> Result<Value, String> {
    let up = parse_rules(field(input, "scaleUp")?)?;
    let down = parse_rules(field(input, "scaleDown")?)?;
    let args = behavior::NormalizationArg {
        scale_up: &up,
        scale_down: &down,
        min_replicas: get_i32(input, "minReplicas")?,
        max_replicas: get_i32(input, "maxReplicas")?,
        current_replicas: get_i32(input, "currentReplicas")?,
        desired_replicas: get_i32(input, "desiredReplicas")?,
    };
    let (replicas, reason) = behavior::convert_desired_replicas_with_behavior_rate(
        &args,
        &parse_events(input, "scaleUpEvents")?,
        &parse_events(input, "scaleDownEvents")?,
        get_i64(input, "now")?,
    );
    Ok(obj(vec![
        ("replicas", json!(replicas)),
        ("scalingLimitedReason", json!(reason.as_str())),
    ]))
}

fn out_of_range(input: &Value) -> Result<Value, String> {
    let current = get_i32(input, "currentReplicas")?;
    let min = match input.get("minReplicas") {
        None | Some(Value::Null) => None,
        Some(_) => Some(get_i32(input, "minReplicas")?),
    };
    let bounds = behavior::check_replica_bounds(current, min, get_i32(input, "maxReplicas")?);
    let (desired, rescale) = match bounds.decision(current) {
        Some(d) => d,
        // In range: the metrics would decide; report "no change" without them.
        None => {
            debug_assert_eq!(bounds, ReplicaBounds::InRange);
            (current, false)
        }
    };
    Ok(obj(vec![
        ("desiredReplicas", json!(desired)),
        ("rescale", json!(rescale)),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_function_is_none() {
        assert!(eval("scheduler.foo", &Value::Null).is_none());
        assert!(eval("hpa.nope", &Value::Null).is_none());
    }

    #[test]
    fn malformed_input_is_error_not_panic() {
        for f in [
            "hpa.replica_calc.resource",
            "hpa.replica_calc.pods",
            "hpa.replica_calc.object_external",
            "hpa.legacy_convert_desired_replicas",
            "hpa.legacy_stabilization",
            "hpa.scale_limit",
            "hpa.scaling_rules",
            "hpa.out_of_range_replicas",
        ] {
            assert!(matches!(eval(f, &json!({})), Some(Err(_))), "{f}");
            assert!(matches!(eval(f, &json!([1, 2])), Some(Err(_))), "{f}");
        }
    }
}
