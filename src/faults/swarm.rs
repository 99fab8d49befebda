//! Swarm mode: for each seed, draw a fault mix from the seed alone (kinds, targets,
//! times), inject it before a cut-off at which everything is healed, run on for the
//! convergence bound, and require the cluster to be back at its desired state: every
//! Deployment, ReplicaSet and ReplicationController with `readyReplicas == replicas`,
//! every node Ready, and no Pending pod that a node could take (the scheduler's
//! node-local filters pass on some Ready node). Seeds run in parallel with rayon; the
//! results come back in seed order.

use super::plan::{Fault, FaultKind, FaultPlan, Probe, Target, Timing};
use crate::api::objects::{ConditionStatus, Object};
use crate::api::selector::Labels;
use crate::api::{Kind, PodPhase, Store};
use crate::controllers::scheduler::hypothetical::NodeFilter;
use crate::controllers::scheduler::profile::Profile;
use crate::engine::rng::{SimRng, below};
use crate::engine::{RngStreams, SimDuration, SimTime};
use crate::error::Error;
use crate::simulation::faults::FaultRecord;
use crate::simulation::{RunOptions, run};
use crate::workload::Scenario;
use rayon::prelude::*;
use std::collections::BTreeSet;

/// The outcome of one swarm run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SwarmRun {
    /// The seed (of the fault mix and of the run).
    pub seed: u64,
    /// The faults injected.
    pub faults: Vec<FaultRecord>,
    /// When everything was healed (seconds).
    pub cutoff_s: f64,
    /// When convergence was checked (seconds).
    pub checked_at_s: f64,
    /// Why the cluster is not at its desired state (empty: converged).
    pub violations: Vec<String>,
}

impl SwarmRun {
    /// Whether the cluster converged.
    pub fn converged(&self) -> bool {
        self.violations.is_empty()
    }
}

fn pick<'a, T>(rng: &mut SimRng, v: &'a [T]) -> &'a T {
    &v[below(rng, v.len() as u64) as usize]
}

fn between(rng: &mut SimRng, lo: u64, hi: u64) -> u64 {
    if hi <= lo {
        lo
    } else {
        lo + below(rng, hi - lo + 1)
    }
}

/// Draws a fault mix for `seed` with every fault healed by `cutoff` (stream
/// `faults/swarm`): one to four faults of the kinds the scenario can have (node faults
/// need nodes, zone faults zones, pod faults a workload), each starting in the first
/// three quarters of the window and lasting 30 s to 10 min.
pub fn draw_mix(scenario: &Scenario, seed: u64, cutoff: SimDuration) -> FaultPlan {
    let mut rng = RngStreams::new(seed).stream("faults/swarm");
    let mut nodes: Vec<(String, Labels)> = Vec::new();
    let mut workloads: Vec<(String, Labels)> = Vec::new();
    for l in &scenario.objects {
        match &l.object {
            Object::Node(n) => nodes.push((n.meta.name.clone(), n.meta.labels.clone())),
            Object::Deployment(d) => {
                workloads.push((d.meta.namespace.clone(), d.template.labels.clone()))
            }
            Object::ReplicaSet(r) => {
                workloads.push((r.meta.namespace.clone(), r.template.labels.clone()))
            }
            _ => {}
        }
    }
    nodes.sort_by(|a, b| a.0.cmp(&b.0));
    let zones: Vec<String> = nodes
        .iter()
        .filter_map(|(_, l)| l.get(super::spec::ZONE_LABEL).cloned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut kinds: Vec<&str> = vec![
        "registryOutage",
        "slowImagePull",
        "watchLatency",
        "schedulerDown",
    ];
    if !nodes.is_empty() {
        kinds.extend(["nodeCrash", "kubeletStop", "partition"]);
    }
    if !zones.is_empty() {
        kinds.push("zoneOutage");
    }
    if !workloads.is_empty() {
        kinds.extend(["containerCrash", "oomKill", "probeFlap"]);
    }
    let window = cutoff.as_millis().max(60_000);
    let count = 1 + below(&mut rng, 4);
    let mut faults = Vec::new();
    for k in 0..count {
        let kind = *pick(&mut rng, &kinds);
        let start_ms = below(&mut rng, window * 3 / 4);
        let room = window - start_ms;
        let len_ms = between(&mut rng, 30_000.min(room), room.min(600_000));
        let at = SimTime::ZERO + SimDuration::from_millis(start_ms);
        let end = at + SimDuration::from_millis(len_ms.max(1));
        let placed = Timing::At { at, end: Some(end) };
        let node_target = |rng: &mut SimRng| {
            let (n, _) = pick(rng, &nodes);
            Target::Nodes(vec![n.clone()], format!("node/{n}"))
        };
        let zone_target = |rng: &mut SimRng| {
            let z = pick(rng, &zones).clone();
            let ns: Vec<String> = nodes
                .iter()
                .filter(|(_, l)| l.get(super::spec::ZONE_LABEL) == Some(&z))
                .map(|(n, _)| n.clone())
                .collect();
            Target::Nodes(ns, format!("zone/{z}"))
        };
        let pod_target = |rng: &mut SimRng| {
            let (ns, labels) = pick(rng, &workloads).clone();
            Target::Pods {
                namespace: Some(ns),
                selector: labels,
            }
        };
        let (kind, target, timing) = match kind {
            "nodeCrash" => (FaultKind::NodeCrash, node_target(&mut rng), placed),
            "kubeletStop" => (FaultKind::KubeletStop, node_target(&mut rng), placed),
            "partition" => {
                let t = if !zones.is_empty() && below(&mut rng, 3) == 0 {
                    zone_target(&mut rng)
                } else {
                    node_target(&mut rng)
                };
                (FaultKind::Partition, t, placed)
            }
            "zoneOutage" => (FaultKind::ZoneOutage, zone_target(&mut rng), placed),
            "containerCrash" | "oomKill" => {
                let per_hour = between(&mut rng, 6, 60) as f64;
                let kind = if kind == "oomKill" {
                    FaultKind::OomKill
                } else {
                    FaultKind::ContainerCrash
                };
                let timing = Timing::Rate {
                    per_second: per_hour / 3600.0,
                    from: at,
                    until: Some(end),
                    duration: None,
                };
                (kind, pod_target(&mut rng), timing)
            }
            "probeFlap" => {
                let probe = if below(&mut rng, 2) == 0 {
                    Probe::Readiness
                } else {
                    Probe::Liveness
                };
                (FaultKind::ProbeFlap(probe), pod_target(&mut rng), placed)
            }
            "slowImagePull" => {
                let d = SimDuration::from_secs(between(&mut rng, 10, 120));
                (FaultKind::SlowImagePull(d), Target::Cluster, placed)
            }
            "watchLatency" => {
                let d = SimDuration::from_secs(between(&mut rng, 1, 30));
                (FaultKind::WatchLatency(d), Target::Cluster, placed)
            }
            "registryOutage" => (FaultKind::RegistryOutage, Target::Cluster, placed),
            _ => (FaultKind::SchedulerDown, Target::Cluster, placed),
        };
        faults.push(Fault {
            kind,
            target,
            timing,
            field: format!("swarm[{k}]"),
        });
    }
    FaultPlan { faults }
}

/// Why `store` is not at its desired state (empty: converged).
pub fn violations(store: &Store) -> Vec<String> {
    let mut out = Vec::new();
    for (_, d) in store.deployments.iter_by_name() {
        if d.status.ready_replicas != d.replicas {
            out.push(format!(
                "deployment {}/{}: readyReplicas {} != replicas {}",
                d.meta.namespace, d.meta.name, d.status.ready_replicas, d.replicas
            ));
        }
    }
    for kind in [Kind::ReplicaSet, Kind::ReplicationController] {
        for (_, r) in store.rs_arena(kind).iter_by_name() {
            if r.status.ready_replicas != r.replicas {
                out.push(format!(
                    "{} {}/{}: readyReplicas {} != replicas {}",
                    kind.as_str().to_ascii_lowercase(),
                    r.meta.namespace,
                    r.meta.name,
                    r.status.ready_replicas,
                    r.replicas
                ));
            }
        }
    }
    let mut ready_nodes = Vec::new();
    for (id, n) in store.nodes.iter_by_name() {
        if n.ready == ConditionStatus::True {
            ready_nodes.push((id, n));
        } else {
            out.push(format!(
                "node {}: Ready is {}",
                n.meta.name,
                n.ready.as_str()
            ));
        }
    }
    let profile = Profile::default();
    let filter = NodeFilter::new(&profile);
    for (_, p) in store.pods.iter_by_name() {
        if p.status.phase != PodPhase::Pending
            || !p.spec.node_name.is_empty()
            || p.meta.deletion.is_some()
        {
            continue;
        }
        if let Some((_, n)) = ready_nodes
            .iter()
            .find(|(id, n)| filter.filter(p, n, store.node_usage(*id), store).is_ok())
        {
            out.push(format!(
                "pod {}/{}: Pending although node {} could take it",
                p.meta.namespace, p.meta.name, n.meta.name
            ));
        }
    }
    out
}

/// One swarm run: `scenario` with the fault mix of `seed` (replacing its own
/// `spec.faults`; its timeline and expectations other than convergence are ignored),
/// healed at `cutoff`, checked `converge_within` later.
pub fn run_one(
    scenario: &Scenario,
    seed: u64,
    cutoff: SimDuration,
    converge_within: SimDuration,
) -> Result<SwarmRun, Error> {
    let mut s = scenario.clone();
    s.faults = draw_mix(scenario, seed, cutoff);
    heal_timeline(&mut s, SimTime::ZERO + cutoff);
    s.duration = cutoff + converge_within;
    s.expectations.clear();
    let out = run(
        &s,
        &RunOptions {
            seed: Some(seed),
            journal: false,
            metrics: false,
            ..RunOptions::default()
        },
    )?;
    Ok(SwarmRun {
        seed,
        faults: out.faults.clone(),
        cutoff_s: cutoff.as_secs_f64(),
        checked_at_s: out.end.as_secs_f64(),
        violations: violations(&out.store),
    })
}

/// Heals what the scenario's own timeline broke: a node crashed by `crashNode` and not
/// restarted by the cut-off is restarted at the cut-off.
fn heal_timeline(s: &mut Scenario, cutoff: SimTime) {
    use crate::workload::{Action, TimedAction};
    let mut down: Vec<(String, (String, usize, usize, String))> = Vec::new();
    for a in s.actions.iter().filter(|a| a.at <= cutoff) {
        match &a.action {
            Action::CrashNode(n) if !down.iter().any(|(d, _)| d == n) => {
                down.push((n.clone(), a.source.clone()))
            }
            Action::RestartNode(n) | Action::DeleteNode(n) => down.retain(|(d, _)| d != n),
            _ => {}
        }
    }
    for (n, source) in down {
        s.actions.push(TimedAction {
            at: cutoff,
            description: format!("restart node {n} (swarm cut-off)"),
            action: Action::RestartNode(n),
            source,
        });
    }
    s.actions.sort_by_key(|a| a.at);
}

/// Runs seeds `first..first + runs` in parallel; results in seed order.
pub fn run_swarm(
    scenario: &Scenario,
    first: u64,
    runs: u64,
    cutoff: SimDuration,
    converge_within: SimDuration,
) -> Result<Vec<SwarmRun>, Error> {
    let seeds: Vec<u64> = (0..runs).map(|k| first.wrapping_add(k)).collect();
    seeds
        .par_iter()
        .with_max_len(1)
        .map(|&seed| run_one(scenario, seed, cutoff, converge_within))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixes_are_seeded_and_healed_by_the_cutoff() {
        let s = Scenario::default_scenario().unwrap();
        let cutoff = SimDuration::from_secs(600);
        let a = draw_mix(&s, 11, cutoff);
        assert_eq!(a, draw_mix(&s, 11, cutoff));
        let mut differs = false;
        for seed in 0..20 {
            let m = draw_mix(&s, seed, cutoff);
            differs |= m != a;
            assert!((1..=4).contains(&m.faults.len()));
            for o in m.occurrences(seed, SimTime::ZERO + cutoff) {
                let end = o.end.unwrap_or(o.start);
                assert!(end <= SimTime::ZERO + cutoff, "{o:?}");
            }
        }
        assert!(differs);
    }
}
