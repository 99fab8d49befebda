//! `kubetwin get KIND --at 10m SCENARIO`: runs the scenario to the given simulated time
//! and prints objects the way `kubectl get` does (columns, STATUS logic, AGE via
//! k8s.io/apimachinery/pkg/util/duration HumanDuration), or as JSON.

use super::{EXIT_OK, Output};
use crate::api::objects::{ConditionStatus, ContainerState, Pod};
use crate::api::selector::{LabelSelector, Labels};
use crate::api::store::{SYSTEM_CLUSTER_CRITICAL, SYSTEM_NODE_CRITICAL, system_priority_class};
use crate::api::{Kind, Store};
use crate::engine::{SimDuration, SimTime};
use crate::error::Error;
use std::path::PathBuf;

/// Arguments of `get`.
#[derive(Debug, Clone, clap::Args)]
pub struct GetArgs {
    /// pods, nodes, replicasets, replicationcontrollers, deployments, services, priorityclasses (kubectl names and short names).
    pub resource: String,
    /// The scenario (the embedded default when omitted).
    pub scenario: Option<PathBuf>,
    /// The simulated time (`10m`).
    #[arg(long, default_value = "0s")]
    pub at: String,
    /// Override the scenario's seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Namespace (default `default`).
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
    /// All namespaces.
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    /// Label selector (`app=web,tier!=db`).
    #[arg(short = 'l', long)]
    pub selector: Option<String>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value = "table")]
    pub output: Output,
}

/// kubectl's HumanDuration.
pub fn human_duration(d: SimDuration) -> String {
    let seconds = d.as_secs();
    if seconds < 120 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    }
    if minutes < 180 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{h}h", hours / 24)
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        return if dy == 0 {
            format!("{}y", hours / 24 / 365)
        } else {
            format!("{}y{dy}d", hours / 24 / 365)
        };
    }
    format!("{}y", hours / 24 / 365)
}

/// kubectl's pod STATUS column (pkg/printers/internalversion/printers.go printPod).
pub fn pod_status(p: &Pod) -> String {
    let mut reason = if p.status.reason.is_empty() {
        p.status.phase.as_str().to_string()
    } else {
        p.status.reason.clone()
    };
    for c in &p.status.containers {
        match &c.state {
            ContainerState::Waiting if !c.reason.is_empty() => reason = c.reason.clone(),
            ContainerState::Terminated(_) if !c.reason.is_empty() => reason = c.reason.clone(),
            _ => {}
        }
    }
    if p.meta.deletion.is_some() {
        reason = if p.status.reason == "NodeLost" {
            "Unknown".into()
        } else {
            "Terminating".into()
        };
    }
    reason
}

fn tabulate(rows: &[Vec<String>]) -> String {
    let cols = rows.iter().map(|r| r.len()).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for r in rows {
        let mut line = String::new();
        for (i, c) in r.iter().enumerate() {
            if i + 1 < r.len() {
                line.push_str(&format!("{c:<w$}   ", w = widths[i]));
            } else {
                line.push_str(c);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Renders `kubectl get` output for a store at time `now`.
pub fn render(
    store: &Store,
    now: SimTime,
    kind: Kind,
    namespace: Option<&str>,
    selector: &LabelSelector,
    output: Output,
) -> String {
    let age = |t: SimTime| human_duration(now.since(t));
    let in_ns =
        |ns: &str, labels: &Labels| namespace.is_none_or(|n| n == ns) && selector.matches(labels);
    let wide = output == Output::Wide;
    let all_ns = namespace.is_none();
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut json: Vec<serde_json::Value> = Vec::new();
    let mut header = |cols: &[&str]| {
        let mut h: Vec<String> = cols.iter().map(|s| s.to_string()).collect();
        if all_ns && kind.namespaced() {
            h.insert(0, "NAMESPACE".into());
        }
        rows.push(h);
    };
    let push = |rows: &mut Vec<Vec<String>>, ns: &str, mut r: Vec<String>| {
        if all_ns && kind.namespaced() {
            r.insert(0, ns.to_string());
        }
        rows.push(r);
    };
    match kind {
        Kind::Pod => {
            let mut cols = vec!["NAME", "READY", "STATUS", "RESTARTS", "AGE"];
            if wide {
                cols.push("NODE");
                cols.push("NOMINATED NODE");
            }
            header(&cols);
            for (_, p) in store.pods.iter_by_name() {
                if !in_ns(&p.meta.namespace, &p.meta.labels) {
                    continue;
                }
                let ready = p.status.containers.iter().filter(|c| c.ready).count();
                let mut r = vec![
                    p.meta.name.clone(),
                    format!("{ready}/{}", p.spec.containers.len()),
                    pod_status(p),
                    p.restarts().to_string(),
                    age(p.meta.creation),
                ];
                if wide {
                    let or_none = |s: &str| {
                        if s.is_empty() {
                            "<none>".to_string()
                        } else {
                            s.to_string()
                        }
                    };
                    r.push(or_none(&p.spec.node_name));
                    r.push(or_none(&p.status.nominated_node_name));
                }
                push(&mut rows, &p.meta.namespace, r);
                json.push(serde_json::to_value(p).unwrap_or_default());
            }
        }
        Kind::Node => {
            header(&["NAME", "STATUS", "ROLES", "AGE", "VERSION"]);
            for (_, n) in store.nodes.iter_by_name() {
                if !selector.matches(&n.meta.labels) {
                    continue;
                }
                let mut status = if n.ready == ConditionStatus::True {
                    "Ready".to_string()
                } else {
                    "NotReady".to_string()
                };
                if n.unschedulable {
                    status.push_str(",SchedulingDisabled");
                }
                push(
                    &mut rows,
                    "",
                    vec![
                        n.meta.name.clone(),
                        status,
                        "<none>".into(),
                        age(n.meta.creation),
                        "kubetwin".into(),
                    ],
                );
                json.push(serde_json::to_value(n).unwrap_or_default());
            }
        }
        Kind::ReplicaSet | Kind::ReplicationController => {
            header(&["NAME", "DESIRED", "CURRENT", "READY", "AGE"]);
            for (_, r) in store.rs_arena(kind).iter_by_name() {
                if !in_ns(&r.meta.namespace, &r.meta.labels) {
                    continue;
                }
                push(
                    &mut rows,
                    &r.meta.namespace,
                    vec![
                        r.meta.name.clone(),
                        r.replicas.to_string(),
                        r.status.replicas.to_string(),
                        r.status.ready_replicas.to_string(),
                        age(r.meta.creation),
                    ],
                );
                json.push(serde_json::to_value(r).unwrap_or_default());
            }
        }
        Kind::Deployment => {
            header(&["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]);
            for (_, d) in store.deployments.iter_by_name() {
                if !in_ns(&d.meta.namespace, &d.meta.labels) {
                    continue;
                }
                push(
                    &mut rows,
                    &d.meta.namespace,
                    vec![
                        d.meta.name.clone(),
                        format!("{}/{}", d.status.ready_replicas, d.replicas),
                        d.status.updated_replicas.to_string(),
                        d.status.available_replicas.to_string(),
                        age(d.meta.creation),
                    ],
                );
                json.push(serde_json::to_value(d).unwrap_or_default());
            }
        }
        Kind::Service => {
            header(&["NAME", "TYPE", "SELECTOR", "PORT(S)", "AGE"]);
            for (_, s) in store.services.iter_by_name() {
                if !in_ns(&s.meta.namespace, &s.meta.labels) {
                    continue;
                }
                let sel: Vec<String> = s.selector.iter().map(|(k, v)| format!("{k}={v}")).collect();
                let ports: Vec<String> = s
                    .ports
                    .iter()
                    .map(|p| format!("{}/{}", p.port, p.protocol))
                    .collect();
                push(
                    &mut rows,
                    &s.meta.namespace,
                    vec![
                        s.meta.name.clone(),
                        s.service_type.clone(),
                        sel.join(","),
                        ports.join(","),
                        age(s.meta.creation),
                    ],
                );
                json.push(serde_json::to_value(s).unwrap_or_default());
            }
        }
        Kind::HorizontalPodAutoscaler => {
            header(&[
                "NAME",
                "REFERENCE",
                "TARGETS",
                "MINPODS",
                "MAXPODS",
                "REPLICAS",
                "AGE",
            ]);
            for (_, h) in store.hpas.iter_by_name() {
                if !in_ns(&h.meta.namespace, &h.meta.labels) {
                    continue;
                }
                push(
                    &mut rows,
                    &h.meta.namespace,
                    vec![
                        h.meta.name.clone(),
                        format!("{}/{}", h.spec.target.kind, h.spec.target.name),
                        crate::simulation::hpa_observe::targets(h),
                        h.spec.min_replicas.to_string(),
                        h.spec.max_replicas.to_string(),
                        h.status.current_replicas.to_string(),
                        age(h.meta.creation),
                    ],
                );
                json.push(serde_json::to_value(h).unwrap_or_default());
            }
        }
        Kind::PriorityClass => {
            // kubectl's columns; the built-in system classes exist from the start.
            header(&["NAME", "VALUE", "GLOBAL-DEFAULT", "AGE", "PREEMPTIONPOLICY"]);
            let mut items: Vec<(String, i32, bool, SimTime, &str)> = store
                .priority_classes
                .iter()
                .filter(|(_, c)| selector.matches(&c.meta.labels))
                .map(|(_, c)| {
                    json.push(serde_json::to_value(c).unwrap_or_default());
                    (
                        c.meta.name.clone(),
                        c.value,
                        c.global_default,
                        c.meta.creation,
                        c.preemption_policy.as_str(),
                    )
                })
                .collect();
            if selector.is_empty() {
                for name in [SYSTEM_CLUSTER_CRITICAL, SYSTEM_NODE_CRITICAL] {
                    let value = system_priority_class(name).unwrap_or(0);
                    items.push((
                        name.to_string(),
                        value,
                        false,
                        SimTime::ZERO,
                        "PreemptLowerPriority",
                    ));
                }
            }
            items.sort_by(|a, b| a.0.cmp(&b.0));
            for (name, value, def, created, policy) in items {
                push(
                    &mut rows,
                    "",
                    vec![
                        name,
                        value.to_string(),
                        def.to_string(),
                        age(created),
                        policy.to_string(),
                    ],
                );
            }
        }
        _ => {}
    }
    if output == Output::Json {
        return format!(
            "{}\n",
            serde_json::to_string_pretty(
                &serde_json::json!({"apiVersion": "v1", "kind": "List", "items": json})
            )
            .unwrap_or_default()
        );
    }
    if rows.len() <= 1 {
        return match namespace {
            Some(ns) if kind.namespaced() => format!("No resources found in {ns} namespace.\n"),
            _ => "No resources found\n".to_string(),
        };
    }
    tabulate(&rows)
}

/// Runs the command.
pub fn get(a: &GetArgs) -> Result<i32, Error> {
    let kind = Kind::from_kubectl(&a.resource)
        .filter(|k| matches!(k, Kind::Pod | Kind::Node | Kind::ReplicaSet | Kind::ReplicationController | Kind::Deployment | Kind::Service | Kind::PriorityClass | Kind::HorizontalPodAutoscaler))
        .ok_or_else(|| Error::Usage(format!("error: the server doesn't have a resource type \"{}\" (kubetwin get supports pods, nodes, replicasets, replicationcontrollers, deployments, services, priorityclasses, horizontalpodautoscalers)", a.resource)))?;
    let at = SimDuration::parse(&a.at).map_err(|e| Error::Usage(format!("--at: {e}")))?;
    let selector = match &a.selector {
        Some(s) => LabelSelector::parse(s).map_err(|e| Error::Usage(format!("-l: {e}")))?,
        None => LabelSelector::everything(),
    };
    let scenario = super::run::load(a.scenario.as_deref())?;
    if at > scenario.duration {
        return Err(Error::Usage(format!(
            "--at {} is after the end of the scenario ({})",
            at, scenario.duration
        )));
    }
    let out = crate::simulation::state_at(&scenario, at, a.seed)?;
    let ns = if a.all_namespaces {
        None
    } else {
        Some(a.namespace.clone().unwrap_or_else(|| "default".into()))
    };
    print!(
        "{}",
        render(
            &out.store,
            SimTime::ZERO + at,
            kind,
            ns.as_deref(),
            &selector,
            a.output
        )
    );
    Ok(EXIT_OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_durations() {
        let s = SimDuration::from_secs;
        assert_eq!(human_duration(s(5)), "5s");
        assert_eq!(human_duration(s(119)), "119s");
        assert_eq!(human_duration(s(150)), "2m30s");
        assert_eq!(human_duration(s(600)), "10m");
        assert_eq!(human_duration(s(3 * 3600 + 120)), "3h2m");
        assert_eq!(human_duration(s(30 * 3600)), "30h");
        assert_eq!(human_duration(s(50 * 3600)), "2d2h");
    }
}
