//! Conformance adapter for `pdb.*` (README 4.7).

use serde_json::{Value, json};

use super::input::{
    bool_field, field, i32_field, i64_field, int_or_percent_field, list_field, opt_field,
    opt_i64_field, opt_str_field, str_field, string_map_field,
};
use crate::api::selector::LabelSelector;
use crate::controllers::disruption::rules::{
    Budget, ControllerRef, EvictionPdb, EvictionPod, PdbPod, ScaledController,
    UnhealthyPodEvictionPolicy, compute_status, evict,
};

/// Evaluates one `pdb.*` function; `None` when the function is unknown.
pub fn eval(function: &str, input: &Value) -> Option<Result<Value, String>> {
    let f = match function {
        "pdb.status" => status,
        "pdb.eviction" => eviction,
        _ => return None,
    };
    Some(f(input))
}

/// A Kubernetes `LabelSelector` object; `null` selects nothing, `{}` everything.
pub(crate) fn label_selector(v: Option<&Value>) -> Result<LabelSelector, String> {
    let Some(v) = v else {
        return Ok(LabelSelector::nothing());
    };
    let match_labels = string_map_field(v, "matchLabels")?;
    let exprs = list_field(v, "matchExpressions")?
        .iter()
        .map(|e| -> Result<(String, String, Vec<String>), String> {
            let values = list_field(e, "values")?
                .iter()
                .map(|x| {
                    x.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| format!("bad selector value {x}"))
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok((
                str_field(e, "key")?.to_string(),
                str_field(e, "operator")?.to_string(),
                values,
            ))
        })
        .collect::<Result<Vec<_>, _>>()?;
    LabelSelector::from_parts(&match_labels, &exprs).map_err(|e| e.to_string())
}

fn controller_ref(v: Option<&Value>) -> Result<Option<ControllerRef>, String> {
    v.map(|r| -> Result<ControllerRef, String> {
        Ok(ControllerRef {
            kind: str_field(r, "kind")?.to_string(),
            name: str_field(r, "name")?.to_string(),
        })
    })
    .transpose()
}

fn status(input: &Value) -> Result<Value, String> {
    let pdb = field(input, "pdb")?;
    let budget = match (
        int_or_percent_field(pdb, "minAvailable")?,
        int_or_percent_field(pdb, "maxUnavailable")?,
    ) {
        (Some(m), None) => Budget::MinAvailable(m),
        (None, Some(m)) => Budget::MaxUnavailable(m),
        _ => return Err("exactly one of minAvailable / maxUnavailable must be set".into()),
    };
    let selector = label_selector(opt_field(pdb, "selector")?)?;
    let controllers = list_field(input, "controllers")?
        .iter()
        .map(|c| -> Result<ScaledController, String> {
            Ok(ScaledController {
                reference: ControllerRef {
                    kind: str_field(c, "kind")?.to_string(),
                    name: str_field(c, "name")?.to_string(),
                },
                replicas: i32_field(c, "replicas")?,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let pods = list_field(input, "pods")?
        .iter()
        .map(|p| -> Result<PdbPod, String> {
            Ok(PdbPod {
                name: str_field(p, "name")?.to_string(),
                labels: string_map_field(p, "labels")?,
                ready: bool_field(p, "ready")?,
                deletion_timestamp: opt_i64_field(p, "deletionTimestamp")?,
                controller_ref: controller_ref(opt_field(p, "controllerRef")?)?,
                disrupted_at: None,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let s = compute_status(budget, &selector, &controllers, &pods, 0).map_err(|e| e.to_string())?;
    Ok(json!({
        "disruptionsAllowed": s.disruptions_allowed,
        "currentHealthy": s.current_healthy,
        "desiredHealthy": s.desired_healthy,
        "expectedPods": s.expected_pods,
    }))
}

fn eviction(input: &Value) -> Result<Value, String> {
    let p = field(input, "pod")?;
    let pod = EvictionPod {
        phase: str_field(p, "phase")?.to_string(),
        ready: bool_field(p, "ready")?,
        deletion_timestamp: opt_i64_field(p, "deletionTimestamp")?,
    };
    let mut pdbs = list_field(input, "pdbs")?
        .iter()
        .map(|b| -> Result<EvictionPdb, String> {
            let policy = match opt_str_field(b, "unhealthyPodEvictionPolicy")? {
                None => None,
                Some("IfHealthyBudget") => Some(UnhealthyPodEvictionPolicy::IfHealthyBudget),
                Some("AlwaysAllow") => Some(UnhealthyPodEvictionPolicy::AlwaysAllow),
                Some(other) => return Err(format!("unknown unhealthyPodEvictionPolicy {other:?}")),
            };
            Ok(EvictionPdb {
                generation: i64_field(b, "generation")?,
                observed_generation: i64_field(b, "observedGeneration")?,
                unhealthy_pod_eviction_policy: policy,
                current_healthy: i32_field(b, "currentHealthy")?,
                desired_healthy: i32_field(b, "desiredHealthy")?,
                disruptions_allowed: i32_field(b, "disruptionsAllowed")?,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let outcome = evict(&pod, &mut pdbs);
    let after: Vec<i32> = pdbs.iter().map(|b| b.disruptions_allowed).collect();
    Ok(json!({ "outcome": outcome.as_str(), "disruptionsAllowedAfter": after }))
}
