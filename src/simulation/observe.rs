//! Reading the cluster's state for metrics samples and expectations. Everything here
//! uses the store's incremental counters and aggregates, plus one pass over nodes and
//! workload controllers (never over pods).

use crate::api::objects::ConditionStatus;
use crate::api::{Kind, Store};
use crate::engine::SimTime;
use crate::metrics::{MetricsTable, percentile};
use crate::workload::expectation::Subject;

/// Node counts: (total, ready, not ready).
pub fn node_counts(store: &Store) -> (usize, usize, usize) {
    let total = store.nodes.len();
    let ready = store
        .nodes
        .iter()
        .filter(|(_, n)| n.ready == ConditionStatus::True)
        .count();
    (total, ready, total - ready)
}

/// A workload's (desired, current, ready, available), if it exists.
pub fn workload(
    store: &Store,
    kind: Kind,
    namespace: &str,
    name: &str,
) -> Option<(i32, i32, i32, i32)> {
    match kind {
        Kind::ReplicaSet | Kind::ReplicationController => {
            let r = store
                .rs_arena(kind)
                .get(store.rs_arena(kind).id_of(namespace, name)?)?;
            Some((
                r.replicas,
                r.status.replicas,
                r.status.ready_replicas,
                r.status.available_replicas,
            ))
        }
        Kind::Deployment => {
            let d = store
                .deployments
                .get(store.deployments.id_of(namespace, name)?)?;
            Some((
                d.replicas,
                d.status.replicas,
                d.status.ready_replicas,
                d.status.available_replicas,
            ))
        }
        _ => None,
    }
}

/// A workload's (updatedReplicas, unavailableReplicas): a Deployment's status fields; for
/// a ReplicaSet or ReplicationController every pod is of its template, and unavailable is
/// desired minus available (floored at 0), as the Deployment computes it.
pub fn rollout_counts(
    store: &Store,
    kind: Kind,
    namespace: &str,
    name: &str,
) -> Option<(i32, i32)> {
    match kind {
        Kind::Deployment => {
            let d = store
                .deployments
                .get(store.deployments.id_of(namespace, name)?)?;
            Some((d.status.updated_replicas, d.status.unavailable_replicas))
        }
        _ => {
            let (desired, current, _, available) = workload(store, kind, namespace, name)?;
            Some((current, (desired - available).max(0)))
        }
    }
}

/// The value an expectation reads.
pub fn value(store: &Store, subject: &Subject, field: &str) -> f64 {
    let c = store.pod_counts();
    match subject {
        Subject::Pods => match field {
            "pending" => c.pending as f64,
            "unscheduled" => c.unscheduled as f64,
            "running" => c.running as f64,
            "ready" => c.ready as f64,
            "succeeded" => c.succeeded as f64,
            "failed" => c.failed as f64,
            "terminating" => c.terminating as f64,
            _ => store.pods.len() as f64,
        },
        Subject::Nodes => {
            let (t, r, nr) = node_counts(store);
            match field {
                "ready" => r as f64,
                "notready" => nr as f64,
                _ => t as f64,
            }
        }
        Subject::Scheduling => {
            let mut l = store.stats.binding_latencies_ms.clone();
            l.sort_unstable();
            match field {
                "scheduled" => store.stats.bindings as f64,
                "p50_ms" => percentile(&l, 50.0).map_or(0.0, |v| v as f64),
                "p99_ms" => percentile(&l, 99.0).map_or(0.0, |v| v as f64),
                "max_ms" => l.last().map_or(0.0, |v| *v as f64),
                _ => store.stats.failed_scheduling_attempts as f64,
            }
        }
        // Read from the cluster autoscaler's ledger by the runtime.
        Subject::Cost | Subject::NodeGroup(_) => f64::NAN,
        // Read by the runtime with FGD's typical pods (simulation/gpu_metrics.rs).
        Subject::Gpu => f64::NAN,
        Subject::Workload {
            kind: Kind::Service,
            namespace,
            name,
        } => {
            let svc = store
                .services
                .id_of(namespace, name)
                .and_then(|id| store.services.get(id));
            match svc.and_then(|s| service_availability(store, s)) {
                None => f64::NAN,
                Some((ready, desired)) => {
                    if field == "endpoints" {
                        ready as f64
                    } else {
                        desired as f64
                    }
                }
            }
        }
        Subject::Workload {
            kind: Kind::HorizontalPodAutoscaler,
            namespace,
            name,
        } => super::hpa_observe::value(store, namespace, name, field),
        Subject::Workload {
            kind,
            namespace,
            name,
        } => match workload(store, *kind, namespace, name) {
            None => f64::NAN,
            Some(_) if field == "progressing" => store
                .deployments
                .id_of(namespace, name)
                .and_then(|id| store.deployments.get(id))
                .and_then(|d| {
                    d.status
                        .conditions
                        .iter()
                        .find(|c| c.condition_type == "Progressing")
                })
                .map_or(f64::NAN, |c| {
                    if c.status == crate::api::ConditionStatus::True {
                        1.0
                    } else {
                        0.0
                    }
                }),
            Some(_) if field == "updated" || field == "unavailable" => {
                rollout_counts(store, *kind, namespace, name).map_or(
                    f64::NAN,
                    |(u, un)| if field == "updated" { u } else { un } as f64,
                )
            }
            Some((d, r, ready, a)) => match field {
                "desired" => d as f64,
                "replicas" => r as f64,
                "ready" => ready as f64,
                _ => a as f64,
            },
        },
    }
}

/// A Service's ready endpoints (pods matching its selector that are Ready and not being
/// deleted, as the endpoints controller publishes them) and the desired replicas of the
/// workloads whose pod template it selects. `None` for a Service without a selector.
pub fn service_availability(
    store: &Store,
    svc: &crate::api::objects::Service,
) -> Option<(i64, i64)> {
    if svc.selector.is_empty() {
        return None;
    }
    let sel = crate::api::selector::LabelSelector::from_map(&svc.selector).ok()?;
    let ns = &svc.meta.namespace;
    let ready = store
        .select_pods(ns, &sel)
        .into_iter()
        .filter_map(|id| store.pods.get(id))
        .filter(|p| p.status.ready && p.meta.deletion.is_none())
        .count() as i64;
    let mut desired = 0i64;
    for kind in [Kind::ReplicationController, Kind::ReplicaSet] {
        for (_, r) in store.rs_arena(kind).iter() {
            let owned_by_deployment = r
                .meta
                .controller_ref()
                .is_some_and(|o| o.kind == Kind::Deployment);
            if &r.meta.namespace == ns && !owned_by_deployment && sel.matches(&r.template.labels) {
                desired += r.replicas as i64;
            }
        }
    }
    for (_, d) in store.deployments.iter() {
        if &d.meta.namespace == ns && sel.matches(&d.template.labels) {
            desired += d.replicas as i64;
        }
    }
    Some((ready, desired))
}

/// Short kubectl-style prefix of a workload kind.
pub fn short_kind(kind: Kind) -> &'static str {
    match kind {
        Kind::ReplicationController => "rc",
        Kind::ReplicaSet => "rs",
        Kind::Deployment => "deployment",
        _ => "object",
    }
}

/// Appends one metrics row at `now`. `bindings_from` is the index of the first binding
/// since the previous sample (for the interval's scheduling latency).
pub fn sample(
    store: &Store,
    m: &mut MetricsTable,
    now: SimTime,
    per_node: bool,
    bindings_from: usize,
) {
    m.begin_row(now.as_secs_f64());
    let c = store.pod_counts();
    m.set("pods_pending", c.pending as f64);
    m.set("pods_unscheduled", c.unscheduled as f64);
    m.set("pods_running", c.running as f64);
    m.set("pods_ready", c.ready as f64);
    m.set("pods_succeeded", c.succeeded as f64);
    m.set("pods_failed", c.failed as f64);
    m.set("pods_terminating", c.terminating as f64);
    m.set("pods_running_terminating", c.running_terminating as f64);
    let (total, ready, not_ready) = node_counts(store);
    m.set("nodes_total", total as f64);
    m.set("nodes_ready", ready as f64);
    m.set("nodes_not_ready", not_ready as f64);
    let (mut cpu_req, mut cpu_alloc, mut mem_req, mut mem_alloc) = (0i64, 0i64, 0i64, 0i64);
    for (id, n) in store.nodes.iter() {
        let u = store.node_usage(id);
        cpu_req += u.requested.cpu_milli;
        mem_req += u.requested.memory;
        cpu_alloc += n.allocatable.cpu_milli;
        mem_alloc += n.allocatable.memory;
    }
    m.set("cpu_requested_m", cpu_req as f64);
    m.set("cpu_allocatable_m", cpu_alloc as f64);
    m.set("memory_requested_bytes", mem_req as f64);
    m.set("memory_allocatable_bytes", mem_alloc as f64);
    let pct = |a: i64, b: i64| {
        if b > 0 {
            (a as f64 * 10000.0 / b as f64).round() / 100.0
        } else {
            0.0
        }
    };
    m.set("cpu_requested_pct", pct(cpu_req, cpu_alloc));
    m.set("memory_requested_pct", pct(mem_req, mem_alloc));
    m.set("pods_scheduled_total", store.stats.bindings as f64);
    let mut recent: Vec<u64> = store
        .stats
        .binding_latencies_ms
        .get(bindings_from..)
        .unwrap_or(&[])
        .to_vec();
    recent.sort_unstable();
    m.set(
        "scheduling_latency_p50_ms",
        percentile(&recent, 50.0).map_or(f64::NAN, |v| v as f64),
    );
    m.set(
        "scheduling_latency_max_ms",
        recent.last().map_or(f64::NAN, |v| *v as f64),
    );
    for kind in [Kind::ReplicationController, Kind::ReplicaSet] {
        for (_, r) in store.rs_arena(kind).iter_by_name() {
            let p = format!("{}/{}/{}", short_kind(kind), r.meta.namespace, r.meta.name);
            m.set(&format!("{p}:desired"), r.replicas as f64);
            m.set(&format!("{p}:ready"), r.status.ready_replicas as f64);
            m.set(
                &format!("{p}:available"),
                r.status.available_replicas as f64,
            );
        }
    }
    for (_, d) in store.deployments.iter_by_name() {
        let p = format!("deployment/{}/{}", d.meta.namespace, d.meta.name);
        m.set(&format!("{p}:desired"), d.replicas as f64);
        m.set(&format!("{p}:replicas"), d.status.replicas as f64);
        m.set(&format!("{p}:updated"), d.status.updated_replicas as f64);
        m.set(&format!("{p}:ready"), d.status.ready_replicas as f64);
        m.set(
            &format!("{p}:available"),
            d.status.available_replicas as f64,
        );
    }
    for (_, svc) in store.services.iter_by_name() {
        if let Some((ready, desired)) = service_availability(store, svc) {
            let p = format!("svc/{}/{}", svc.meta.namespace, svc.meta.name);
            m.set(&format!("{p}:ready_endpoints"), ready as f64);
            let pct = if desired > 0 {
                (ready as f64 * 10000.0 / desired as f64).round() / 100.0
            } else {
                f64::NAN
            };
            m.set(&format!("{p}:capacity_ready_pct"), pct);
        }
    }
    super::hpa_observe::sample(store, m);
    if per_node {
        for (id, n) in store.nodes.iter_by_name() {
            let u = store.node_usage(id);
            m.set(
                &format!("node/{}:cpu_requested_m", n.meta.name),
                u.requested.cpu_milli as f64,
            );
            m.set(
                &format!("node/{}:memory_requested_bytes", n.meta.name),
                u.requested.memory as f64,
            );
            m.set(&format!("node/{}:pods", n.meta.name), u.pods as f64);
        }
    }
}
