//! Conformance adapter for `replicaset.*` (README 4.2).

use serde_json::{Value, json};

use super::input::{
    bool_field, feature_gate, field, i32_field, i64_field, list_field, opt_i64_field, str_field,
    string_map_field, usize_field,
};
use crate::controllers::replicaset::ranking::{
    RankedPod, delete_before, deletion_cost_from_annotations, max_restarts, sort_for_deletion,
};
use crate::controllers::replicaset::slow_start::{
    SLOW_START_INITIAL_BATCH_SIZE, diff_to_create_or_delete, slow_start_batch_sizes,
    slow_start_batch_with_sizes,
};

/// Evaluates one `replicaset.*` function; `None` when the function is unknown.
pub fn eval(function: &str, input: &Value) -> Option<Result<Value, String>> {
    let f = match function {
        "replicaset.pod_deletion_compare" => pod_deletion_compare,
        "replicaset.pod_deletion_order" => pod_deletion_order,
        "replicaset.slow_start_batch" => slow_start_batch,
        "replicaset.diff_to_create_or_delete" => diff,
        _ => return None,
    };
    Some(f(input))
}

fn ranked_pod(v: &Value) -> Result<RankedPod, String> {
    let restarts = list_field(v, "containerRestartCounts")?
        .iter()
        .map(|x| {
            x.as_i64()
                .and_then(|n| i32::try_from(n).ok())
                .ok_or_else(|| format!("bad restart count {x}"))
        })
        .collect::<Result<Vec<i32>, String>>()?;
    Ok(RankedPod {
        name: str_field(v, "name")?.to_string(),
        uid: str_field(v, "uid")?.to_string(),
        node_name: str_field(v, "nodeName")?.to_string(),
        phase: str_field(v, "phase")?.to_string(),
        ready: bool_field(v, "ready")?,
        ready_last_transition_time: opt_i64_field(v, "readyLastTransitionTime")?,
        max_container_restarts: max_restarts(&restarts),
        max_sidecar_restarts: 0,
        creation_timestamp: opt_i64_field(v, "creationTimestamp")?,
        deletion_cost: deletion_cost_from_annotations(&string_map_field(v, "annotations")?),
        rank: i32_field(v, "rank")?,
    })
}

fn pod_deletion_compare(input: &Value) -> Result<Value, String> {
    let now = i64_field(input, "now")?;
    let gate = feature_gate(input, "PodDeletionCost")?;
    let a = ranked_pod(field(input, "a")?)?;
    let b = ranked_pod(field(input, "b")?)?;
    Ok(json!({
        "aBeforeB": delete_before(&a, &b, now, gate),
        "bBeforeA": delete_before(&b, &a, now, gate),
    }))
}

fn pod_deletion_order(input: &Value) -> Result<Value, String> {
    let now = i64_field(input, "now")?;
    let gate = feature_gate(input, "PodDeletionCost")?;
    let mut pods = list_field(input, "pods")?
        .iter()
        .map(ranked_pod)
        .collect::<Result<Vec<_>, _>>()?;
    sort_for_deletion(&mut pods, now, gate);
    let order: Vec<&str> = pods.iter().map(|p| p.name.as_str()).collect();
    Ok(json!({ "order": order }))
}

fn slow_start_batch(input: &Value) -> Result<Value, String> {
    let count = usize_field(input, "count")?;
    let initial = usize_field(input, "initialBatchSize")?;
    let succeed = usize_field(input, "callsThatSucceed")?;
    let out =
        slow_start_batch_with_sizes(
            count,
            initial,
            |i| {
                if i < succeed { Ok(()) } else { Err(i) }
            },
        );
    Ok(json!({
        "successes": out.successes,
        "totalCalls": out.total_calls(),
        "batchSizes": out.batch_sizes,
        "error": out.error.is_some(),
    }))
}

fn diff(input: &Value) -> Result<Value, String> {
    let spec = i32_field(input, "specReplicas")?;
    let active = usize_field(input, "activePods")?;
    let burst = usize_field(input, "burstReplicas")?;
    let d = diff_to_create_or_delete(spec, active, burst);
    Ok(json!({
        "createCount": d.create,
        "deleteCount": d.delete,
        "createBatchSizes": slow_start_batch_sizes(d.create, SLOW_START_INITIAL_BATCH_SIZE),
    }))
}
