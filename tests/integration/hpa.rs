//! The HorizontalPodAutoscaler end to end: the `autoscale` action and its bounds in a
//! shipped scenario, `get hpa`, the summary and metrics columns; the HPA, Deployment and
//! ReplicaSet controllers chained through the manager with a hand-filled metrics
//! registry; and bad input (a missing target, bad flags, invalid specs) exiting 2 at the
//! file, line and field.

use super::*;
use kubetwin::api::Store;
use kubetwin::api::manifest;
use kubetwin::api::objects::PodPhase;
use kubetwin::controllers::Controller;
use kubetwin::controllers::deployment::controller::DeploymentController;
use kubetwin::controllers::hpa::controller::HpaController;
use kubetwin::controllers::manager::{Manager, Wake};
use kubetwin::controllers::replicaset::ReplicaSetController;
use kubetwin::engine::{RngStreams, SimDuration, SimTime};
use kubetwin::metrics::pod_metrics::{ContainerUsage, MetricsRegistry, PodUsage};
use kubetwin::simulation::{RunOptions, run};
use kubetwin::workload::Scenario;

#[test]
fn autoscale_action_enforces_bounds() {
    let s = Scenario::load(&root().join("scenarios/hpa-bounds.yaml")).expect("loads");
    let out = run(&s, &RunOptions::default()).expect("runs");
    assert!(out.passed(), "{:?}", out.expectations);
    let desired = out
        .metrics
        .column("hpa/default/web:desired")
        .expect("hpa column");
    assert_eq!(desired.last().copied(), Some(6.0));
    assert!(
        out.markers
            .iter()
            .any(|(t, m)| t.as_secs() == 75 && m == "hpa/web: New size: 3"),
        "{:?}",
        out.markers
    );
    let summary = kubetwin::report::writer::summary(&out);
    assert_eq!(summary["hpa"]["web"]["scale_ups"], 1);
    assert_eq!(summary["hpa"]["web"]["scale_downs"], 1);
    assert_eq!(summary["hpa"]["web"]["max_replicas_reached"], 9);
    let rescales: Vec<&str> = out
        .journal
        .iter()
        .filter(|e| e.reason == "SuccessfulRescale")
        .map(|e| e.message.as_str())
        .collect();
    assert_eq!(
        rescales,
        vec![
            "New size: 3; reason: Current number of replicas below Spec.MinReplicas",
            "New size: 6; reason: Current number of replicas above Spec.MaxReplicas",
        ]
    );
}

#[test]
fn get_hpa_prints_kubectl_columns() {
    let o = kubetwin(&["get", "hpa", "scenarios/hpa-bounds.yaml", "--at", "3m"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "NAME   REFERENCE        TARGETS              MINPODS   MAXPODS   REPLICAS   AGE\n\
         web    Deployment/web   cpu: <unknown>/50%   3         6         3          2m\n"
    );
}

/// The HPA, Deployment and ReplicaSet controllers under the manager, with the test
/// playing kubelet (pods Running and Ready at once) and metrics-server (a fixed CPU
/// usage per pod): a load of 900 m over 1 CPU requests against a 50 % target scales
/// 2 -> 4 (legacy limit max(2*2, 4)) -> 8 -> 10 (maxReplicas), one step per 15 s sync.
#[test]
fn hpa_drives_the_deployment_from_the_registry() {
    let streams = RngStreams::new(1);
    let metrics = MetricsRegistry::shared();
    let controllers: Vec<Box<dyn Controller>> = vec![
        Box::new(HpaController::new(metrics.clone())),
        Box::new(DeploymentController::new()),
        Box::new(ReplicaSetController::new()),
    ];
    let mut manager = Manager::new(controllers, &streams);
    let mut store = Store::new(streams.stream("names"), true);
    let yaml = "apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: c, image: web, resources: {requests: {cpu: '1'}}}]
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 2
  maxReplicas: 10
  metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}}]
";
    let start = SimTime::from_secs(600);
    for l in manifest::load_str(yaml, "e2e.yaml", 1)
        .expect("loads")
        .objects
    {
        store.create(l.object, start).expect("creates");
    }
    let mut timers: Vec<(SimTime, Wake)> = manager.settle(start, &mut store);
    let mut now = start;
    let mut replicas = Vec::new();
    while now < start + SimDuration::from_secs(75) {
        now += SimDuration::from_secs(5);
        // kubelet: every pod runs and is Ready, started long enough ago that the CPU
        // initialization period does not apply.
        let ids: Vec<u32> = store.pods.iter().map(|(id, _)| id).collect();
        for id in ids {
            if store
                .pods
                .get(id)
                .is_some_and(|p| p.status.phase != PodPhase::Running)
            {
                store.update_pod(id, now, |p| {
                    p.status.phase = PodPhase::Running;
                    p.status.ready = true;
                    p.status.start_time = Some(SimTime::ZERO);
                    p.status.ready_transition = Some(SimTime::ZERO);
                });
            }
            // metrics-server: 900 m per pod, scraped now.
            let uid = store.pods.get(id).expect("pod").meta.uid;
            metrics.borrow_mut().set_pod_usage(
                id,
                uid,
                PodUsage {
                    timestamp: now,
                    window: SimDuration::from_secs(15),
                    containers: vec![ContainerUsage {
                        name: "c".into(),
                        cpu_milli: 900,
                        memory_bytes: 0,
                    }],
                },
            );
        }
        let (due, later): (Vec<_>, Vec<_>) = timers.into_iter().partition(|(t, _)| *t <= now);
        timers = later;
        for (_, w) in due {
            if let Wake::Timer(idx, key) = w {
                manager.enqueue(idx, key);
            }
        }
        timers.extend(manager.settle(now, &mut store));
        let d = store.deployments.get(0).expect("deployment");
        replicas.push(d.replicas);
    }
    // Samples every 5 s from +5 s; syncs at +15, +30, +45, +60 s.
    assert_eq!(
        replicas,
        vec![2, 2, 4, 4, 4, 8, 8, 8, 10, 10, 10, 10, 10, 10, 10]
    );
    let h = store.hpas.get(0).expect("hpa");
    let limited = h.status.condition("ScalingLimited").expect("limited");
    assert_eq!(limited.reason, "TooManyReplicas");
    assert_eq!(
        store.pods.len(),
        10,
        "the ReplicaSet followed the Deployment's scale"
    );
}

/// Writes a scenario into a temp dir and runs `kubetwin run` on it (no report).
fn run_scenario_text(text: &str) -> (tempfile::TempDir, String, std::process::Output) {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("hpa.yaml");
    std::fs::write(&f, text).unwrap();
    let out = dir.path().join("out");
    let o = kubetwin(&["run", f.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert!(!out.exists(), "no partial report is left behind");
    (dir, f.display().to_string(), o)
}

fn expect_exit_2(text: &str, line: usize, needles: &[&str]) {
    let (_d, file, o) = run_scenario_text(text);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "expected exit 2, stderr:\n{err}");
    assert!(!err.contains("panicked"), "{err}");
    let at = format!("{file}:{line}:");
    assert!(err.contains(&at), "expected {at} in:\n{err}");
    for n in needles {
        assert!(err.contains(n), "expected {n:?} in:\n{err}");
    }
}

const HEAD: &str = "apiVersion: kubetwin.dev/v1alpha1
kind: Scenario
metadata: {name: hpa-bad}
spec:
  duration: 1m
  cluster:
    nodePools: [{name: n, count: 1, capacity: {cpu: '2', memory: 4Gi}}]
  manifests:
  - inline: |
      apiVersion: apps/v1
      kind: Deployment
      metadata: {name: web}
      spec:
        selector: {matchLabels: {app: web}}
        template:
          metadata: {labels: {app: web}}
          spec:
            containers: [{name: c, image: web}]
";

fn with_hpa(spec_lines: &str) -> String {
    format!(
        "{HEAD}      ---\n      apiVersion: autoscaling/v2\n      kind: HorizontalPodAutoscaler\n      metadata: {{name: web}}\n      spec:\n{spec_lines}"
    )
}

#[test]
fn hpa_with_a_missing_target_is_bad_input() {
    // Line 24: `scaleTargetRef` (its name field) of the inline HPA.
    let text = with_hpa(
        "        scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}\n        maxReplicas: 3\n",
    );
    expect_exit_2(
        &text,
        24,
        &[
            "spec.scaleTargetRef.name",
            "deployments.apps \"api\" not found",
        ],
    );
}

#[test]
fn hpa_spec_validation_is_bad_input() {
    let target = "        scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n";
    for (tail, line, field, msg) in [
        (
            "        maxReplicas: 0\n",
            25,
            "spec.maxReplicas",
            "must be greater than 0",
        ),
        (
            "        minReplicas: 5\n        maxReplicas: 3\n",
            26,
            "spec.maxReplicas",
            "`minReplicas`",
        ),
        (
            "        maxReplicas: 3\n        metrics:\n        - type: Resource\n          resource:\n            name: cpu\n            target: {type: Utilization, averageUtilization: 0}\n",
            30,
            "spec.metrics[0].resource.target.averageUtilization",
            "must be greater than 0",
        ),
        (
            "        maxReplicas: 3\n        behavior:\n          scaleUp:\n            policies: [{type: Pods, value: 1, periodSeconds: 4000}]\n",
            28,
            "spec.behavior.scaleUp.policies[0].periodSeconds",
            "less than or equal to 1800",
        ),
    ] {
        expect_exit_2(&with_hpa(&format!("{target}{tail}")), line, &[field, msg]);
    }
}

#[test]
fn autoscale_action_errors_are_bad_input() {
    let timeline =
        |entry: &str| format!("{HEAD}  timeline:\n  - at: 10s\n    autoscale: {entry}\n");
    // Line 21: the entry's `autoscale` mapping.
    expect_exit_2(
        &timeline("{target: deployment/api, max: 3}"),
        21,
        &["spec.timeline[0].autoscale.target", "does not exist"],
    );
    expect_exit_2(
        &timeline("{target: deployment/web, max: 0}"),
        21,
        &[
            "spec.timeline[0].autoscale.max",
            "--max=MAXPODS is required and must be at least 1, max: 0",
        ],
    );
    expect_exit_2(
        &timeline("{target: deployment/web, min: 4, max: 3}"),
        21,
        &[
            "spec.timeline[0].autoscale.min",
            "must be larger or equal to --min=MINPODS",
        ],
    );
    expect_exit_2(
        &timeline("{target: deployment/web, max: 3, cpu: lots}"),
        21,
        &[
            "spec.timeline[0].autoscale.cpu",
            "invalid resource cpu value: lots",
        ],
    );
    expect_exit_2(
        &timeline("{target: svc/web, max: 3}"),
        21,
        &["spec.timeline[0].autoscale.target", "unsupported kind"],
    );
}

#[test]
fn deleted_target_is_a_failed_get_scale_event() {
    // The target disappears at run time: upstream's FailedGetScale Event and
    // AbleToScale=False, not an input error.
    let text = format!(
        "{HEAD}  timeline:\n  - at: 10s\n    autoscale: {{target: deployment/web, max: 3}}\n  - at: 20s\n    delete: deployment/web\n  expectations:\n  - hpa/web.able_to_scale == 0 at 40s\n"
    );
    let s = kubetwin::workload::scenario::Scenario::from_str(
        &text,
        "inline.yaml",
        std::path::PathBuf::new(),
    )
    .expect("loads");
    let out = run(&s, &RunOptions::default()).expect("runs");
    assert!(out.passed(), "{:?}", out.expectations);
    let ev: Vec<(u64, &str)> = out
        .journal
        .iter()
        .filter(|e| e.reason == "FailedGetScale")
        .map(|e| (e.t_ms, e.message.as_str()))
        .collect();
    assert_eq!(
        ev.first(),
        Some(&(25_000, "deployments.apps \"web\" not found"))
    );
}
