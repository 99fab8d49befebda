//! The reference workload other simulators have been measured on: N nodes of 16 CPU /
//! 64 GiB, M bare pods whose CPU request is drawn from {250m, 500m, 1, 2, 4} with 2 GiB
//! of memory per CPU, arriving uniformly over a span, each running U(60 s, 3600 s) and
//! then completing (`restartPolicy: Never`). Built directly as a [`Scenario`], drawing
//! from the `workload/reference` stream.

use super::scenario::{Action, Scenario, TimedAction};
use crate::api::manifest::{Loaded, SourceDoc};
use crate::api::objects::*;
use crate::api::resources::Resources;
use crate::backend::sim::RUN_DURATION;
use crate::engine::rng::{below, unit_f64};
use crate::engine::{RngStreams, SimDuration, SimTime};
use std::sync::Arc;

/// Parameters of the reference workload.
#[derive(Debug, Clone, Copy)]
pub struct ReferenceParams {
    /// Nodes.
    pub nodes: usize,
    /// Pods.
    pub pods: usize,
    /// Arrival span.
    pub span: SimDuration,
    /// Extra time after the last arrival.
    pub drain: SimDuration,
    /// Seed.
    pub seed: u64,
}

fn source() -> SourceDoc {
    SourceDoc {
        file: Arc::from("<reference-workload>"),
        text: Arc::from(""),
        first_line: 1,
        item: None,
    }
}

/// Builds the reference scenario.
pub fn reference_scenario(p: ReferenceParams) -> Scenario {
    let mut rng = RngStreams::new(p.seed).stream("workload/reference");
    let mut objects = Vec::with_capacity(p.nodes);
    let cap = Resources {
        cpu_milli: 16_000,
        memory: 64 << 30,
        pods: 110,
        ..Resources::default()
    };
    for i in 0..p.nodes {
        let name = format!("node-{:05}", i + 1);
        let mut labels = crate::api::selector::Labels::new();
        labels.insert("kubernetes.io/hostname".into(), name.clone());
        objects.push(Loaded {
            object: Object::Node(Box::new(Node {
                meta: ObjectMeta {
                    name,
                    labels,
                    ..ObjectMeta::default()
                },
                unschedulable: false,
                taints: vec![],
                capacity: cap.clone(),
                allocatable: cap.clone(),
                ready: ConditionStatus::True,
                ready_transition: SimTime::ZERO,
                images: vec![NodeImage {
                    names: vec!["busybox:latest".into()],
                    size_bytes: 0,
                }],
            })),
            source: source(),
        });
    }
    let mut arrivals: Vec<u64> = (0..p.pods)
        .map(|_| (unit_f64(&mut rng) * p.span.as_nanos() as f64) as u64)
        .collect();
    arrivals.sort_unstable();
    let cpus = [250i64, 500, 1000, 2000, 4000];
    let mut actions = Vec::with_capacity(p.pods);
    for (i, at) in arrivals.into_iter().enumerate() {
        let cpu = cpus[below(&mut rng, cpus.len() as u64) as usize];
        let run = 60.0 + unit_f64(&mut rng) * 3540.0;
        let requests = Resources {
            cpu_milli: cpu,
            memory: (2i64 << 30) * cpu / 1000,
            ..Resources::default()
        };
        let mut annotations = std::collections::BTreeMap::new();
        annotations.insert(
            RUN_DURATION.to_string(),
            SimDuration::from_secs_f64(run).to_string(),
        );
        let spec = PodSpec {
            containers: vec![Container {
                name: "main".into(),
                image: "busybox".into(),
                requests,
                limits: Resources::default(),
                ports: vec![],
                liveness: None,
                readiness: None,
                startup: None,
            }],
            init_containers: vec![],
            node_name: String::new(),
            node_selector: Default::default(),
            node_affinity: None,
            tolerations: vec![],
            priority: 0,
            priority_class_name: String::new(),
            restart_policy: RestartPolicy::Never,
            termination_grace_period_seconds: 30,
            scheduler_name: "default-scheduler".into(),
            dns_policy: "ClusterFirst".into(),
            host_network: false,
            topology_spread_constraints: Vec::new(),
        };
        let meta = ObjectMeta {
            name: format!("pod-{:06}", i + 1),
            namespace: "default".into(),
            annotations,
            ..ObjectMeta::default()
        };
        actions.push(TimedAction {
            at: SimTime(at),
            action: Action::Apply(vec![Loaded {
                object: Object::Pod(Box::new(Pod::new(meta, spec))),
                source: source(),
            }]),
            description: String::new(),
            source: (String::new(), 0, 0, String::new()),
        });
    }
    Scenario {
        name: format!("reference-{}n-{}p", p.nodes, p.pods),
        description: "reference workload".into(),
        file: "<reference-workload>".into(),
        seed: p.seed,
        duration: p.span + p.drain,
        sampling_interval: SimDuration::from_secs(60),
        per_node: Some(false),
        objects,
        actions,
        expectations: vec![],
        percentage_of_nodes_to_score: 0,
        tie_break_by_name: false,
        warnings: vec![],
        unavailable_images: vec![],
    }
}
