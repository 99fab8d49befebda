//! Conformance adapter for `deployment.*` (README 4.3).

use serde_json::{Value, json};

use super::input::{
    field, i32_field, i64_field, int_or_percent_field, list_field, opt_field, opt_i32_field,
    opt_i64_field, opt_str_field, str_field, string_map_field,
};
use crate::controllers::deployment::rules::{
    DeploymentParams, DeploymentStatusView, HistoryRs, ProgressingCondition, RsView, Strategy,
    cleanup_history, cleanup_unhealthy_replicas, deployment_complete, deployment_progressing,
    deployment_timed_out, max_unavailable, min_available, new_rs_new_replicas, older_first,
    proportional_scale, reconcile_new_replica_set, reconcile_old_replica_sets,
    replica_set_fraction, resolve_fenceposts, scale_down_old_replica_sets,
};

/// Evaluates one `deployment.*` function; `None` when the function is unknown.
pub fn eval(function: &str, input: &Value) -> Option<Result<Value, String>> {
    let f = match function {
        "deployment.resolve_fenceposts" => fenceposts,
        "deployment.new_rs_new_replicas" => new_rs_replicas,
        "deployment.complete" => complete,
        "deployment.progressing" => progressing,
        "deployment.timed_out" => timed_out,
        "deployment.max_unavailable" => max_unavail,
        "deployment.min_available" => min_avail,
        "deployment.replica_set_fraction" => fraction,
        "deployment.rolling.reconcile_new_replica_set" => reconcile_new,
        "deployment.rolling.reconcile_old_replica_sets" => reconcile_old,
        "deployment.rolling.cleanup_unhealthy_replicas" => cleanup_unhealthy,
        "deployment.rolling.scale_down_old_replica_sets" => scale_down_old,
        "deployment.proportional_scale" => proportional,
        "deployment.cleanup_history" => history,
        _ => return None,
    };
    Some(f(input))
}

/// Deployment params; the strategy defaults to RollingUpdate when the input has no `strategy`.
fn params(input: &Value) -> Result<DeploymentParams, String> {
    let strategy = match opt_str_field(input, "strategy")? {
        Some("Recreate") => Strategy::Recreate,
        Some("RollingUpdate") | None => Strategy::RollingUpdate {
            max_surge: int_or_percent_field(input, "maxSurge")?,
            max_unavailable: int_or_percent_field(input, "maxUnavailable")?,
        },
        Some(other) => return Err(format!("unknown strategy {other:?}")),
    };
    Ok(DeploymentParams {
        replicas: i32_field(input, "replicas")?,
        strategy,
    })
}

fn rs_view(v: &Value) -> Result<RsView, String> {
    Ok(RsView {
        name: opt_str_field(v, "name")?.unwrap_or_default().to_string(),
        creation_timestamp: opt_i64_field(v, "creationTimestamp")?,
        replicas: i32_field(v, "replicas")?,
        available_replicas: opt_i32_field(v, "availableReplicas")?.unwrap_or(0),
        ..Default::default()
    }
    .with_annotations(&string_map_field(v, "annotations")?))
}

fn rs_list(input: &Value, key: &str) -> Result<Vec<RsView>, String> {
    list_field(input, key)?.iter().map(rs_view).collect()
}

fn opt_new_rs(input: &Value) -> Result<Option<RsView>, String> {
    opt_field(input, "newReplicaSet")?.map(rs_view).transpose()
}

/// Permutation putting `rss` oldest first: by creation time (then name) when every RS carries a
/// creationTimestamp, otherwise the given order (README 4.3).
fn oldest_first_order(rss: &[RsView]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..rss.len()).collect();
    if rss.iter().all(|r| r.creation_timestamp.is_some()) {
        order.sort_by(|&a, &b| older_first(&rss[a], &rss[b]));
    }
    order
}

/// Runs `f` on the old RSes in oldest-first order and maps the sizes back to input order.
fn with_oldest_first(rss: &[RsView], f: impl FnOnce(&mut [RsView]) -> i32) -> (i32, Vec<i32>) {
    let order = oldest_first_order(rss);
    let mut sorted: Vec<RsView> = order.iter().map(|&i| rss[i].clone()).collect();
    let n = f(&mut sorted);
    let mut sizes = vec![0; rss.len()];
    for (pos, &i) in order.iter().enumerate() {
        sizes[i] = sorted[pos].replicas;
    }
    (n, sizes)
}

fn status(v: &Value) -> Result<DeploymentStatusView, String> {
    Ok(DeploymentStatusView {
        replicas: opt_i32_field(v, "replicas")?.unwrap_or(0),
        updated_replicas: opt_i32_field(v, "updatedReplicas")?.unwrap_or(0),
        ready_replicas: opt_i32_field(v, "readyReplicas")?.unwrap_or(0),
        available_replicas: opt_i32_field(v, "availableReplicas")?.unwrap_or(0),
        observed_generation: opt_i64_field(v, "observedGeneration")?.unwrap_or(0),
    })
}

fn fenceposts(input: &Value) -> Result<Value, String> {
    let (surge, unavailable) = resolve_fenceposts(
        int_or_percent_field(input, "maxSurge")?,
        int_or_percent_field(input, "maxUnavailable")?,
        i32_field(input, "desiredReplicas")?,
    );
    Ok(json!({ "surge": surge, "unavailable": unavailable }))
}

fn new_rs_replicas(input: &Value) -> Result<Value, String> {
    let d = params(input)?;
    let all = list_field(input, "allReplicaSetReplicas")?
        .iter()
        .map(|x| {
            x.as_i64()
                .and_then(|n| i32::try_from(n).ok())
                .ok_or_else(|| format!("bad replica count {x}"))
        })
        .collect::<Result<Vec<i32>, String>>()?;
    let n = new_rs_new_replicas(&d, &all, i32_field(input, "newReplicaSetReplicas")?);
    Ok(json!({ "newReplicaSetReplicas": n }))
}

fn complete(input: &Value) -> Result<Value, String> {
    let c = deployment_complete(
        i32_field(input, "replicas")?,
        i64_field(input, "generation")?,
        &status(field(input, "status")?)?,
    );
    Ok(json!({ "complete": c }))
}

fn progressing(input: &Value) -> Result<Value, String> {
    let p = deployment_progressing(
        &status(field(input, "oldStatus")?)?,
        &status(field(input, "newStatus")?)?,
    );
    Ok(json!({ "progressing": p }))
}

fn timed_out(input: &Value) -> Result<Value, String> {
    let cond = opt_field(input, "progressingCondition")?
        .map(|c| -> Result<ProgressingCondition, String> {
            Ok(ProgressingCondition {
                reason: opt_str_field(c, "reason")?.unwrap_or_default().to_string(),
                last_update_time: opt_i64_field(c, "lastUpdateTime")?,
            })
        })
        .transpose()?;
    let t = deployment_timed_out(
        opt_i32_field(input, "progressDeadlineSeconds")?,
        cond.as_ref(),
        i64_field(input, "now")?,
    );
    Ok(json!({ "timedOut": t }))
}

fn max_unavail(input: &Value) -> Result<Value, String> {
    Ok(json!({ "maxUnavailable": max_unavailable(&params(input)?) }))
}

fn min_avail(input: &Value) -> Result<Value, String> {
    Ok(json!({ "minAvailable": min_available(&params(input)?) }))
}

fn fraction(input: &Value) -> Result<Value, String> {
    let f = replica_set_fraction(
        &params(input)?,
        i32_field(input, "statusReplicas")?,
        &rs_view(field(input, "replicaSet")?)?,
    );
    Ok(json!({ "fraction": f }))
}

fn reconcile_new(input: &Value) -> Result<Value, String> {
    let new = rs_view(field(input, "newReplicaSet")?)?;
    let old = rs_list(input, "oldReplicaSets")?;
    let res = reconcile_new_replica_set(&params(input)?, &new, &old);
    Ok(json!({
        "scaled": res.is_some(),
        "newReplicaSetReplicas": res.unwrap_or(new.replicas),
    }))
}

fn reconcile_old(input: &Value) -> Result<Value, String> {
    let d = params(input)?;
    let new = opt_new_rs(input)?;
    let old = rs_list(input, "oldReplicaSets")?;
    let (n, sizes) = with_oldest_first(&old, |o| reconcile_old_replica_sets(&d, new.as_ref(), o));
    Ok(json!({ "scaled": n > 0, "oldReplicaSetReplicas": sizes }))
}

fn cleanup_unhealthy(input: &Value) -> Result<Value, String> {
    let max = i32_field(input, "maxCleanupCount")?;
    let old = rs_list(input, "oldReplicaSets")?;
    let (n, _) = with_oldest_first(&old, |o| cleanup_unhealthy_replicas(o, max));
    Ok(json!({ "cleanedUpCount": n }))
}

fn scale_down_old(input: &Value) -> Result<Value, String> {
    let d = params(input)?;
    let new = opt_new_rs(input)?;
    let old = rs_list(input, "oldReplicaSets")?;
    let (n, sizes) = with_oldest_first(&old, |o| scale_down_old_replica_sets(&d, new.as_ref(), o));
    Ok(json!({ "scaled": n > 0, "oldReplicaSetReplicas": sizes }))
}

fn proportional(input: &Value) -> Result<Value, String> {
    let d = params(input)?;
    let new = opt_new_rs(input)?;
    let old = rs_list(input, "oldReplicaSets")?;
    let res = proportional_scale(&d, i32_field(input, "statusReplicas")?, new.as_ref(), &old);
    Ok(json!({
        "newReplicaSetReplicas": res.new_replicas,
        "oldReplicaSetReplicas": res.old_replicas,
    }))
}

fn history(input: &Value) -> Result<Value, String> {
    let rss = list_field(input, "oldReplicaSets")?
        .iter()
        .map(|v| -> Result<HistoryRs, String> {
            Ok(HistoryRs {
                name: str_field(v, "name")?.to_string(),
                replicas: i32_field(v, "replicas")?,
                status_replicas: i32_field(v, "statusReplicas")?,
                deletion_timestamp: opt_i64_field(v, "deletionTimestamp")?,
                generation: 0,
                observed_generation: 0,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let deleted = cleanup_history(opt_i32_field(input, "revisionHistoryLimit")?, &rss);
    Ok(json!({ "deletions": deleted.len() }))
}
