//! The reference workload other simulators have been measured on: N nodes of 16 CPU /
//! 64 GiB, M bare pods whose CPU request is drawn from {250m, 500m, 1, 2, 4} with 2 GiB
//! of memory per CPU, arriving uniformly over a span, each running U(60 s, 3600 s) and
//! then completing (`restartPolicy: Never`). Built directly as a [`Scenario`], drawing
//! from the `workload/reference` stream.

use super::scenario::Scenario;
use super::stream::Arrivals;
use crate::api::manifest::{Loaded, SourceDoc};
use crate::api::objects::*;
use crate::api::resources::Resources;
use crate::backend::sim::RUN_DURATION;
use crate::engine::rng::SimRng;
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
    Scenario {
        name: format!("reference-{}n-{}p", p.nodes, p.pods),
        description: "reference workload".into(),
        file: "<reference-workload>".into(),
        seed: p.seed,
        duration: p.span + p.drain,
        sampling_interval: SimDuration::from_secs(60),
        per_node: Some(false),
        objects,
        actions: vec![],
        expectations: vec![],
        percentage_of_nodes_to_score: 0,
        tie_break_by_name: false,
        warnings: vec![],
        unavailable_images: vec![],
        scheduler_settings: None,
        load: vec![],
        cluster_autoscaler: None,
        faults: crate::faults::FaultPlan::default(),
        gpu_typical: None,
        traces: vec![],
        arrivals: Some(Arrivals::new("reference-pods", move || {
            Box::new(ReferencePods::new(p))
        })),
    }
}

/// The reference workload's pods, generated one at a time in arrival order: the arrival
/// times are drawn first (8 bytes per pod), then each pod's shape and run time as it is
/// taken.
struct ReferencePods {
    rng: SimRng,
    arrivals: std::vec::IntoIter<u64>,
    index: usize,
}

impl ReferencePods {
    fn new(p: ReferenceParams) -> Self {
        let mut rng = RngStreams::new(p.seed).stream("workload/reference");
        let mut arrivals: Vec<u64> = (0..p.pods)
            .map(|_| (unit_f64(&mut rng) * p.span.as_nanos() as f64) as u64)
            .collect();
        arrivals.sort_unstable();
        ReferencePods {
            rng,
            arrivals: arrivals.into_iter(),
            index: 0,
        }
    }
}

impl Iterator for ReferencePods {
    type Item = (SimTime, Loaded);

    fn next(&mut self) -> Option<(SimTime, Loaded)> {
        let at = self.arrivals.next()?;
        self.index += 1;
        let rng = &mut self.rng;
        let cpus = [250i64, 500, 1000, 2000, 4000];
        let cpu = cpus[below(rng, cpus.len() as u64) as usize];
        let run = 60.0 + unit_f64(rng) * 3540.0;
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
            preemption_policy: None,
            pod_affinity: None,
            pod_anti_affinity: None,
        };
        let meta = ObjectMeta {
            name: format!("pod-{:06}", self.index),
            namespace: "default".into(),
            annotations,
            ..ObjectMeta::default()
        };
        Some((
            SimTime(at),
            Loaded {
                object: Object::Pod(Box::new(Pod::new(meta, spec))),
                source: source(),
            },
        ))
    }
}

/// The rollout benchmark: `nodes` nodes of 16 CPU / 64 GiB in three zones,
/// `deployments` Deployments of `replicas` pods, every pod with liveness and readiness
/// probes (ready 5 s after start), each Deployment rolled to a new image once at a time
/// drawn uniformly over the hour, and `crashes` node crashes spread over the hour.
/// Built as scenario text, so it exercises the loader too.
pub fn rollout_scenario(
    nodes: usize,
    deployments: usize,
    replicas: usize,
    crashes: usize,
    seed: u64,
) -> Scenario {
    let mut rng = RngStreams::new(seed).stream("workload/rollouts");
    let mut text = format!(
        "apiVersion: kubetwin.dev/v1alpha1\nkind: Scenario\nmetadata: {{name: rollouts-{nodes}n-{deployments}d}}\nspec:\n  seed: {seed}\n  duration: 1h\n  sampling: {{interval: 60s, perNode: false}}\n  cluster:\n    nodePools:\n    - name: node\n      count: {nodes}\n      capacity: {{cpu: \"16\", memory: 64Gi}}\n      zones: [a, b, c]\n      images: [app:1, app:2]\n  manifests:\n  - inline: |\n"
    );
    for d in 0..deployments {
        text.push_str(&format!(
            "      apiVersion: apps/v1\n      kind: Deployment\n      metadata: {{name: app-{d}}}\n      spec:\n        replicas: {replicas}\n        selector: {{matchLabels: {{app: app-{d}}}}}\n        template:\n          metadata:\n            labels: {{app: app-{d}}}\n            annotations: {{kubetwin.dev/ready-after: 5s, kubetwin.dev/start-latency: 1s}}\n          spec:\n            containers:\n            - name: app\n              image: app:1\n              resources: {{requests: {{cpu: 100m, memory: 128Mi}}}}\n              readinessProbe: {{httpGet: {{path: /ready, port: 8080}}, periodSeconds: 5}}\n              livenessProbe: {{httpGet: {{path: /live, port: 8080}}, periodSeconds: 10}}\n      ---\n"
        ));
    }
    text.push_str("  timeline:\n");
    let mut entries: Vec<(u64, String)> = (0..deployments)
        .map(|d| {
            let at = 300 + below(&mut rng, 3000);
            (at, format!("  - at: {at}s\n    setImage: {{target: deployment/app-{d}, container: app, image: app:2}}\n"))
        })
        .collect();
    for c in 0..crashes {
        let at = 600 + (c as u64 + 1) * 2400 / (crashes as u64 + 1);
        let node = 1 + below(&mut rng, nodes as u64);
        entries.push((at, format!("  - at: {at}s\n    crashNode: node-{node}\n")));
    }
    entries.sort();
    for (_, e) in entries {
        text.push_str(&e);
    }
    Scenario::from_str(&text, "<rollout-benchmark>", ".".into())
        .expect("generated rollout scenario is valid")
}
