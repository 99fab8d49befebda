//! Conformance adapter for `kubelet.*` (README 4.5).

use serde_json::{Value, json};

use super::input::{
    feature_gate, field, i32_field, list_field, opt_i32_field, opt_i64_field, opt_str_field,
    str_field,
};
use crate::controllers::kubelet::rules::{
    CrashLoopBackoff, PodSpecDefaults, ProbeResult, ProbeSettings, ProbeType, ProbeWorker,
};

/// Evaluates one `kubelet.*` function; `None` when the function is unknown.
pub fn eval(function: &str, input: &Value) -> Option<Result<Value, String>> {
    let f = match function {
        "kubelet.probe_defaults" => probe_defaults,
        "kubelet.pod_spec_defaults" => pod_spec_defaults,
        "kubelet.crashloop_backoff" => crashloop_backoff,
        "kubelet.probe_results" => probe_results,
        _ => return None,
    };
    Some(f(input))
}

fn probe_defaults(input: &Value) -> Result<Value, String> {
    let p = field(input, "probe")?;
    let get = |k: &str| opt_i32_field(p, k).map(|v| v.unwrap_or(0));
    let s = ProbeSettings {
        initial_delay_seconds: get("initialDelaySeconds")?,
        timeout_seconds: get("timeoutSeconds")?,
        period_seconds: get("periodSeconds")?,
        success_threshold: get("successThreshold")?,
        failure_threshold: get("failureThreshold")?,
    }
    .defaulted();
    Ok(json!({
        "initialDelaySeconds": s.initial_delay_seconds,
        "timeoutSeconds": s.timeout_seconds,
        "periodSeconds": s.period_seconds,
        "successThreshold": s.success_threshold,
        "failureThreshold": s.failure_threshold,
    }))
}

fn pod_spec_defaults(input: &Value) -> Result<Value, String> {
    let p = field(input, "podSpec")?;
    let d = PodSpecDefaults::apply(
        opt_str_field(p, "restartPolicy")?,
        opt_i64_field(p, "terminationGracePeriodSeconds")?,
        opt_str_field(p, "dnsPolicy")?,
        opt_str_field(p, "schedulerName")?,
    );
    Ok(json!({
        "restartPolicy": d.restart_policy,
        "terminationGracePeriodSeconds": d.termination_grace_period_seconds,
        "dnsPolicy": d.dns_policy,
        "schedulerName": d.scheduler_name,
    }))
}

fn crashloop_backoff(input: &Value) -> Result<Value, String> {
    let gate = feature_gate(input, "ReduceDefaultCrashLoopBackOffDecay")?;
    let max = opt_i64_field(input, "maxContainerRestartPeriodSeconds")?;
    let mut backoff = CrashLoopBackoff::new(gate, max);
    let mut t: i64 = 0;
    let mut waits = Vec::new();
    for run in list_field(input, "runSecondsBeforeEachExit")? {
        let run = run
            .as_i64()
            .ok_or_else(|| format!("bad run length {run}"))?;
        t = t.saturating_add(run);
        let wait = backoff.next_restart_delay("container", t);
        t = t.saturating_add(wait);
        waits.push(wait);
    }
    Ok(json!({ "waitSecondsBeforeEachRestart": waits }))
}

fn probe_results(input: &Value) -> Result<Value, String> {
    let probe_type = match str_field(input, "probeType")? {
        "liveness" => ProbeType::Liveness,
        "readiness" => ProbeType::Readiness,
        "startup" => ProbeType::Startup,
        other => return Err(format!("unknown probeType {other:?}")),
    };
    let probe = field(input, "probe")?;
    let mut worker = ProbeWorker::new(
        probe_type,
        i32_field(probe, "successThreshold")?,
        i32_field(probe, "failureThreshold")?,
    );
    let mut published = Vec::new();
    let mut killed_after: Option<usize> = None;
    for (i, raw) in list_field(input, "results")?.iter().enumerate() {
        let raw = match raw.as_str() {
            Some("Success") => ProbeResult::Success,
            Some("Failure") => ProbeResult::Failure,
            _ => return Err(format!("bad probe result {raw}")),
        };
        let obs = worker.observe(raw);
        published.push(obs.published.as_str());
        if obs.kill_container {
            if killed_after.is_none() {
                killed_after = Some(i + 1);
            }
            // The container is restarted; later results belong to the new container.
            worker.container_restarted();
        }
    }
    Ok(json!({
        "resultAfterEachProbe": published,
        "containerKilledAfterProbe": killed_after,
    }))
}
