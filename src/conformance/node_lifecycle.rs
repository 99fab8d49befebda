//! Conformance adapter for `node_lifecycle.*` (README 4.6).

use serde_json::{Value, json};

use super::input::{
    f64_field, i32_field, i64_field, list_field, opt_i64_field, opt_str_field, str_field,
    usize_field,
};
use crate::api::taint::{Taint, TaintEffect, Toleration, TolerationOperator};
use crate::controllers::node_lifecycle::rules::{
    NodeLifecycleConfig, ZoneState, default_tolerations, eviction_rate, ready_condition_taint,
    taint_eviction_time, zone_state,
};

/// Evaluates one `node_lifecycle.*` function; `None` when the function is unknown.
pub fn eval(function: &str, input: &Value) -> Option<Result<Value, String>> {
    let f = match function {
        "node_lifecycle.zone_state" => zone,
        "node_lifecycle.eviction_rate" => rate,
        "node_lifecycle.controller_defaults" => defaults,
        "node_lifecycle.default_tolerations" => tolerations,
        "node_lifecycle.ready_condition_taint" => ready_taint,
        "node_lifecycle.taint_eviction_timing" => eviction_timing,
        _ => return None,
    };
    Some(f(input))
}

fn effect(s: &str) -> Result<TaintEffect, String> {
    s.parse().map_err(|e| format!("{e}"))
}

/// A Kubernetes toleration object (every field optional).
pub(crate) fn toleration(v: &Value) -> Result<Toleration, String> {
    Ok(Toleration {
        key: opt_str_field(v, "key")?.unwrap_or_default().to_string(),
        operator: opt_str_field(v, "operator")?
            .unwrap_or_default()
            .parse::<TolerationOperator>()
            .map_err(|e| format!("{e}"))?,
        value: opt_str_field(v, "value")?.unwrap_or_default().to_string(),
        effect: opt_str_field(v, "effect")?
            .filter(|s| !s.is_empty())
            .map(effect)
            .transpose()?,
        toleration_seconds: opt_i64_field(v, "tolerationSeconds")?,
    })
}

fn zone(input: &Value) -> Result<Value, String> {
    let s = zone_state(
        usize_field(input, "readyNodes")?,
        usize_field(input, "notReadyNodes")?,
        f64_field(input, "unhealthyZoneThreshold")?,
    );
    Ok(json!({ "state": s.as_str() }))
}

fn rate(input: &Value) -> Result<Value, String> {
    let state_name = str_field(input, "zoneState")?;
    let state =
        ZoneState::parse(state_name).ok_or_else(|| format!("unknown zoneState {state_name:?}"))?;
    let config = NodeLifecycleConfig {
        node_eviction_rate: f64_field(input, "nodeEvictionRate")?,
        secondary_node_eviction_rate: f64_field(input, "secondaryNodeEvictionRate")?,
        large_cluster_size_threshold: i32_field(input, "largeClusterSizeThreshold")?,
        ..NodeLifecycleConfig::default()
    };
    let qps = eviction_rate(state, usize_field(input, "zoneSize")?, &config);
    Ok(json!({ "taintingQPS": qps }))
}

fn defaults(_input: &Value) -> Result<Value, String> {
    let c = NodeLifecycleConfig::default();
    Ok(json!({
        "nodeMonitorPeriodSeconds": c.node_monitor_period_seconds,
        "nodeMonitorGracePeriodSeconds": c.node_monitor_grace_period_seconds,
        "nodeStartupGracePeriodSeconds": c.node_startup_grace_period_seconds,
        "nodeEvictionRate": c.node_eviction_rate,
        "secondaryNodeEvictionRate": c.secondary_node_eviction_rate,
        "largeClusterSizeThreshold": c.large_cluster_size_threshold,
        "unhealthyZoneThreshold": c.unhealthy_zone_threshold,
    }))
}

fn tolerations(input: &Value) -> Result<Value, String> {
    let existing = list_field(input, "tolerations")?
        .iter()
        .map(toleration)
        .collect::<Result<Vec<_>, _>>()?;
    let added: Vec<Value> = default_tolerations(&existing)
        .iter()
        .map(|t| {
            json!({
                "key": t.key,
                "operator": t.operator.to_string(),
                "effect": t.effect.map(|e| e.as_str()),
                "tolerationSeconds": t.toleration_seconds,
            })
        })
        .collect();
    Ok(json!({ "addedTolerations": added }))
}

fn ready_taint(input: &Value) -> Result<Value, String> {
    Ok(
        json!({ "noExecuteTaintKey": ready_condition_taint(str_field(input, "readyConditionStatus")?) }),
    )
}

fn eviction_timing(input: &Value) -> Result<Value, String> {
    let tols = list_field(input, "tolerations")?
        .iter()
        .map(toleration)
        .collect::<Result<Vec<_>, _>>()?;
    let taints = list_field(input, "taints")?
        .iter()
        .map(|t| -> Result<Taint, String> {
            Ok(Taint {
                key: str_field(t, "key")?.to_string(),
                value: opt_str_field(t, "value")?.unwrap_or_default().to_string(),
                effect: effect(str_field(t, "effect")?)?,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let at = taint_eviction_time(&tols, &taints, i64_field(input, "taintObservedAt")?, false);
    Ok(json!({ "deletionAt": at }))
}
