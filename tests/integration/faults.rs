//! Fault injection against upstream timelines: a stopped kubelet or a partition makes
//! the node NotReady after node-monitor-grace-period (50 s since v1.32, seen at the next 5 s monitor
//! pass) and its pods are evicted 300 s after the NoExecute taint (the default
//! tolerationSeconds) unless it heals first; container faults go through
//! CrashLoopBackOff, registry outages through ImagePullBackOff; the scheduler down keeps
//! pods Pending; watch latency delays reactions. Also: determinism, swarm mode and bad
//! input.

use super::*;
use kubetwin::api::store::JournalEntry;
use kubetwin::simulation::{RunOptions, RunOutput, run};
use kubetwin::workload::Scenario;

/// Three nodes, an RC of 3 (one pod per node by name tie-break and spreading), plus
/// `faults` (YAML list items indented by 2).
fn scenario(duration: &str, faults: &str, extra_manifest: &str) -> Scenario {
    let text = format!(
        r#"apiVersion: kubetwin.dev/v1alpha1
kind: Scenario
metadata: {{name: faults-test}}
spec:
  seed: 1
  duration: {duration}
  sampling: {{interval: 5s}}
  scheduler: {{tieBreak: name}}
  cluster:
    nodePools:
    - name: node
      count: 3
      capacity: {{cpu: "2", memory: 4Gi}}
      zones: [zone-a, zone-b, zone-c]
  manifests:
  - inline: |
      apiVersion: v1
      kind: ReplicationController
      metadata: {{name: web}}
      spec:
        replicas: 3
        selector: {{app: web}}
        template:
          metadata:
            labels: {{app: web}}
            annotations: {{kubetwin.dev/start-latency: 1s, kubetwin.dev/pull-latency: 2s}}
          spec:
            containers:
            - name: web
              image: web:1
              resources: {{requests: {{cpu: 600m, memory: 1Gi}}}}
              readinessProbe: {{httpGet: {{path: /, port: 80}}, periodSeconds: 5}}
              livenessProbe: {{httpGet: {{path: /live, port: 80}}, periodSeconds: 10}}
{extra_manifest}
  faults:
{faults}
"#
    );
    Scenario::from_str(&text, "faults-test.yaml", root().join("scenarios")).expect("loads")
}

fn go(s: &Scenario) -> RunOutput {
    run(s, &RunOptions::default()).expect("runs")
}

fn events<'a>(out: &'a RunOutput, reason: &str) -> Vec<&'a JournalEntry> {
    out.journal
        .iter()
        .filter(|e| e.entry_type == "Event" && e.reason == reason)
        .collect()
}

fn secs(e: &JournalEntry) -> f64 {
    e.t_ms as f64 / 1000.0
}

/// The pod of `web` on `node` at the end of the run.
fn pod_on<'a>(out: &'a RunOutput, node: &str) -> Vec<&'a kubetwin::api::Pod> {
    out.store
        .pods
        .iter()
        .map(|(_, p)| p)
        .filter(|p| p.spec.node_name == node)
        .collect()
}

#[test]
fn kubelet_stopped_node_not_ready_then_evicted_after_toleration() {
    let s = scenario(
        "15m",
        "  - {kind: kubeletStop, node: node-2, at: 60s, duration: 10m}",
        "",
    );
    let out = go(&s);
    let nr: Vec<_> = events(&out, "NodeNotReady");
    assert_eq!(nr.len(), 1, "{nr:?}");
    assert_eq!(nr[0].name, "node-2");
    // Last lease renewal at 60 s; older than the 50 s grace period (v1.32+) at the
    // 115 s monitor pass.
    assert_eq!(secs(nr[0]), 115.0);
    let ev = events(&out, "TaintManagerEviction");
    assert_eq!(ev.len(), 1, "{ev:?}");
    // NoExecute taint at 115 s, tolerationSeconds 300.
    assert_eq!(secs(ev[0]), 415.0);
    // The evicted pod stays Terminating while the kubelet is away (nothing confirms
    // its deletion), and is removed once the kubelet is back at 660 s.
    let removed = out
        .journal
        .iter()
        .find(|e| e.entry_type == "DELETED" && e.kind == "Pod")
        .expect("the evicted pod is removed");
    assert!(secs(removed) >= 660.0, "{removed:?}");
    let ready = events(&out, "NodeReady");
    assert_eq!(ready.len(), 1);
    assert!((660.0..=665.0).contains(&secs(ready[0])), "{ready:?}");
    assert_eq!(
        out.store
            .rs_arena(kubetwin::api::Kind::ReplicationController)
            .iter()
            .next()
            .unwrap()
            .1
            .status
            .ready_replicas,
        3
    );
    let faults: Vec<_> = out
        .journal
        .iter()
        .filter(|e| e.entry_type == "Fault")
        .collect();
    assert_eq!(faults.len(), 2);
    assert_eq!(faults[0].reason, "FaultStarted");
    assert_eq!(faults[0].message, "kubelet stopped node/node-2");
    assert_eq!(faults[1].reason, "FaultHealed");
    assert_eq!(secs(faults[1]), 660.0);
    assert_eq!(out.faults.len(), 1);
    assert_eq!(out.faults[0].end_s, Some(660.0));
}

#[test]
fn partition_healed_before_toleration_evicts_nothing() {
    let s = scenario(
        "8m",
        "  - {kind: partition, zone: zone-b, at: 60s, duration: 3m}",
        "",
    );
    let before = go(&scenario("50s", "    []", ""));
    let uid_before: Vec<_> = pod_on(&before, "node-2")
        .iter()
        .map(|p| p.meta.uid)
        .collect();
    let out = go(&s);
    assert_eq!(events(&out, "NodeNotReady").len(), 1);
    assert!(events(&out, "TaintManagerEviction").is_empty());
    let ready = events(&out, "NodeReady");
    assert_eq!(ready.len(), 1);
    assert!((240.0..=245.0).contains(&secs(ready[0])), "{ready:?}");
    // The same pod, never restarted, Ready again.
    let pods = pod_on(&out, "node-2");
    assert_eq!(pods.len(), 1);
    assert_eq!(vec![pods[0].meta.uid], uid_before);
    assert!(pods[0].status.ready);
    assert!(
        pods[0]
            .status
            .containers
            .iter()
            .all(|c| c.restart_count == 0)
    );
    // While partitioned the pod was marked not ready.
    let col = out.metrics.column("rc/default/web:ready").expect("column");
    let t = out.metrics.column("time_s").unwrap();
    let at = |x: f64| col[t.iter().position(|v| *v == x).unwrap()];
    assert_eq!(at(100.0), 3.0);
    assert_eq!(at(120.0), 2.0);
    assert_eq!(at(300.0), 3.0);
}

#[test]
fn node_crash_with_recovery_restarts_containers() {
    let s = scenario(
        "8m",
        "  - {kind: nodeCrash, node: node-3, at: 60s, duration: 2m}",
        "",
    );
    let out = go(&s);
    assert_eq!(secs(events(&out, "NodeNotReady")[0]), 115.0);
    assert!(events(&out, "TaintManagerEviction").is_empty());
    let pods = pod_on(&out, "node-3");
    assert_eq!(pods.len(), 1);
    assert!(pods[0].status.ready);
    assert_eq!(
        pods[0].status.containers[0].restart_count, 1,
        "containers were gone"
    );
}

#[test]
fn oom_kill_and_crash_go_through_crashloop_backoff() {
    let s = scenario(
        "5m",
        "  - {kind: oomKill, selector: {app: web}, at: 60s}\n  - {kind: containerCrash, selector: {app: web}, rate: 60/h, at: 2m, until: 4m}",
        "",
    );
    let out = go(&s);
    let oom = events(&out, "OOMKilled");
    assert_eq!(oom.len(), 3, "every running pod, once");
    assert!(oom.iter().all(|e| secs(e) == 60.0));
    let crashes: Vec<_> = out
        .faults
        .iter()
        .filter(|f| f.kind == "containerCrash")
        .collect();
    assert!(!crashes.is_empty());
    for c in &crashes {
        assert!(c.start_s >= 120.0 && c.start_s < 240.0);
        assert!(
            c.description
                .starts_with("container crash pods app=web: default/web-"),
            "{c:?}"
        );
    }
    // Each OOM kill restarts its container (CrashLoopBackOff); crashes add restarts.
    let restarts: i32 = out
        .store
        .pods
        .iter()
        .map(|(_, p)| p.status.containers[0].restart_count)
        .sum();
    assert!(
        restarts >= 3 && restarts <= 3 + crashes.len() as i32,
        "{restarts}"
    );
}

#[test]
fn registry_outage_image_pull_backoff_then_recovers() {
    let s = scenario("6m", "  - {kind: registryOutage, at: 0s, duration: 2m}", "");
    let out = go(&s);
    let failed = events(&out, "Failed");
    assert!(!failed.is_empty());
    assert!(
        failed
            .iter()
            .all(|e| e.message.contains("ErrImagePull") && secs(e) < 120.0 + 2.0)
    );
    // Back-off 10 s doubling: retries at ~12, 32, 72 s fail; ~152 s succeeds.
    assert!(failed.iter().any(|e| e.message.contains("back-off 40s")));
    let started = events(&out, "Started");
    assert_eq!(started.len(), 3);
    assert!(started.iter().all(|e| secs(e) > 120.0), "{started:?}");
}

#[test]
fn scheduler_down_keeps_pods_pending() {
    let s = scenario("5m", "  - {kind: schedulerDown, at: 0s, until: 2m}", "");
    let out = go(&s);
    let sched = events(&out, "Scheduled");
    assert_eq!(sched.len(), 3);
    assert!(sched.iter().all(|e| secs(e) == 120.0), "{sched:?}");
    let pending = out
        .metrics
        .column("pods_pending")
        .or_else(|| out.metrics.column("pods:pending"));
    if let Some(p) = pending {
        assert_eq!(p[10], 3.0);
    }
}

#[test]
fn watch_latency_delays_reactions() {
    let s = scenario(
        "3m",
        "  - {kind: watchLatency, latency: 20s, at: 0s, duration: 1m}",
        "",
    );
    let out = go(&s);
    // The RC sees itself 20 s late, creates pods; the scheduler sees them 20 s later.
    let created = events(&out, "SuccessfulCreate");
    assert!(!created.is_empty());
    assert!(created.iter().all(|e| secs(e) == 20.0), "{created:?}");
    let sched = events(&out, "Scheduled");
    assert!(sched.iter().all(|e| secs(e) == 40.0), "{sched:?}");
    let normal = go(&scenario("3m", "    []", ""));
    assert!(events(&normal, "Scheduled").iter().all(|e| secs(e) == 0.0));
}

#[test]
fn readiness_flap_takes_pods_out_then_back() {
    let s = scenario(
        "4m",
        "  - {kind: probeFlap, probe: readiness, selector: {app: web}, at: 60s, duration: 30s}\n  - {kind: probeFlap, probe: liveness, selector: {app: web}, at: 150s, duration: 40s}",
        "",
    );
    let out = go(&s);
    let unhealthy: Vec<_> = events(&out, "Unhealthy");
    // failureThreshold 3 x period 5 s after the window opens.
    let readiness: Vec<_> = unhealthy
        .iter()
        .filter(|e| e.message == "Readiness probe failed")
        .collect();
    assert_eq!(readiness.len(), 3);
    assert!(readiness.iter().all(|e| secs(e) == 75.0));
    let col = out.metrics.column("rc/default/web:ready").expect("column");
    let t = out.metrics.column("time_s").unwrap();
    let at = |x: f64| col[t.iter().position(|v| *v == x).unwrap()];
    assert_eq!(at(70.0), 3.0);
    assert_eq!(at(80.0), 0.0);
    // Back successThreshold 1 x 5 s after the window closes at 90 s.
    assert_eq!(at(95.0), 3.0);
    // Liveness: 3 x 10 s into the window, killed and restarted.
    let live: Vec<_> = unhealthy
        .iter()
        .filter(|e| e.message == "Liveness probe failed")
        .collect();
    assert_eq!(live.len(), 3);
    assert!(live.iter().all(|e| secs(e) == 180.0));
}

#[test]
fn same_seed_same_journal() {
    let s = scenario(
        "20m",
        "  - {kind: nodeCrash, nodeSelector: {topology.kubernetes.io/zone: zone-b}, mtbf: 10m, mttr: 2m}\n  - {kind: containerCrash, selector: {app: web}, rate: 20/h}\n  - {kind: partition, zone: zone-a, rate: 4/h, duration: 90s}",
        "",
    );
    let a = go(&s);
    let b = go(&s);
    let ja: Vec<String> = a
        .journal
        .iter()
        .map(|e| serde_json::to_string(e).unwrap())
        .collect();
    let jb: Vec<String> = b
        .journal
        .iter()
        .map(|e| serde_json::to_string(e).unwrap())
        .collect();
    assert_eq!(ja, jb);
    assert!(a.faults.len() >= 2, "{:?}", a.faults);
    let c = run(
        &s,
        &RunOptions {
            seed: Some(2),
            ..RunOptions::default()
        },
    )
    .unwrap();
    assert_ne!(a.faults, c.faults, "another seed draws other faults");
}

#[test]
fn swarm_converges_and_is_deterministic() {
    let o = kubetwin(&[
        "swarm",
        "scenarios/nginx-self-heal.yaml",
        "--runs",
        "4",
        "--seed",
        "1",
        "-o",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
    let again = kubetwin(&[
        "swarm",
        "scenarios/nginx-self-heal.yaml",
        "--runs",
        "4",
        "--seed",
        "1",
        "-o",
        "json",
    ]);
    assert_eq!(stdout(&o), stdout(&again));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let runs = v.as_array().unwrap();
    assert_eq!(runs.len(), 4);
    assert_eq!(runs[0]["seed"], 1);
    assert_eq!(runs[3]["seed"], 4);
    assert!(
        runs.iter()
            .all(|r| !r["faults"].as_array().unwrap().is_empty())
    );
    assert!(stderr(&o).contains("4/4 runs converged"));
}

#[test]
fn swarm_that_cannot_converge_prints_the_reproducer() {
    // Four replicas of 1.5 CPU on three 2-CPU nodes: one never fits, so the RC never
    // has readyReplicas == replicas whatever the faults.
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("tight.yaml");
    let text = read(&root().join("scenarios/nginx-self-heal.yaml"))
        .replace("replicas: 3", "replicas: 4")
        .replace("cpu: 250m", "cpu: 1500m");
    std::fs::write(&f, text).unwrap();
    let o = kubetwin(&[
        "swarm",
        f.to_str().unwrap(),
        "--runs",
        "2",
        "--seed",
        "7",
        "--converge-within",
        "5m",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}\n{}", stdout(&o), stderr(&o));
    let err = stderr(&o);
    let cmd = format!(
        "kubetwin swarm {} --seed 7 --runs 1 --cutoff 12m0s --converge-within 5m0s",
        f.display()
    );
    assert!(err.contains(&cmd), "{err}");
    assert!(
        stdout(&o).contains("readyReplicas 3 != replicas 4"),
        "{}",
        stdout(&o)
    );
}

fn bad(faults: &str, line: usize, needles: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("bad.yaml");
    let text = read(&root().join("scenarios/nginx-self-heal.yaml")).replace(
        "  timeline:\n",
        &format!("  faults:\n{faults}\n  timeline:\n"),
    );
    std::fs::write(&f, &text).unwrap();
    let o = kubetwin(&["validate", "-f", f.to_str().unwrap()]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let at = format!("{}:{line}:", f.display());
    assert!(err.contains(&at), "expected {at} in:\n{err}");
    for n in needles {
        assert!(err.contains(n), "expected {n:?} in:\n{err}");
    }
}

#[test]
fn bad_fault_input() {
    // `faults:` is on line 56 of the edited file; the first entry on line 57.
    bad(
        "  - kind: meteorStrike\n    at: 1m",
        57,
        &["spec.faults[0].kind", "unknown fault kind \"meteorStrike\""],
    );
    bad(
        "  - kind: nodeCrash\n    node: node-9\n    at: 1m",
        58,
        &["spec.faults[0].node", "node \"node-9\" does not exist"],
    );
    bad(
        "  - kind: zoneOutage\n    zone: zone-x\n    at: 1m",
        58,
        &[
            "spec.faults[0].zone",
            "no node is in zone \"zone-x\" (zones: zone-a)",
        ],
    );
    bad(
        "  - kind: containerCrash\n    selector: {app: nginx}\n    rate: -3/h",
        59,
        &["spec.faults[0].rate", "must not be negative"],
    );
    bad(
        "  - kind: kubeletStop\n    node: node-1\n    at: 5m\n    until: 2m",
        60,
        &[
            "spec.faults[0].until",
            "until (2m0s) must be after at (5m0s)",
        ],
    );
    bad(
        "  - kind: nodeCrash\n    node: node-1\n    at: 1h",
        59,
        &["spec.faults[0].at", "after the end of the run"],
    );
    bad(
        "  - kind: partition\n    nodeSelector: {pool: none}\n    at: 1m",
        58,
        &["spec.faults[0].nodeSelector", "selects no node"],
    );
    bad(
        "  - kind: probeFlap\n    selector: {app: nginx}\n    at: 1m",
        57,
        &["spec.faults[0].probe", "readiness or liveness"],
    );
    bad(
        "  - kind: schedulerDown\n    node: node-1\n    at: 1m",
        58,
        &["spec.faults[0].node", "takes no node"],
    );
    bad(
        "  - kind: nodeCrash\n    node: node-1\n    mttr: 1m",
        59,
        &["spec.faults[0].mttr", "mttr needs mtbf"],
    );
    bad(
        "  - kind: nodeCrash\n    node: node-1\n    at: 1m\n    colour: red",
        60,
        &["unknown field"],
    );
}
