//! The Deployment controller end to end through the library API: a rolling update keeps
//! availability at or above `replicas - maxUnavailable` and the pod count at or below
//! `replicas + maxSurge`; Recreate never runs old and new pods together; pause holds a
//! rollout back; undo to a missing revision is bad input (exit 2 at the entry's line),
//! as `kubectl rollout undo --to-revision` fails.

use super::*;
use kubetwin::engine::SimDuration;
use kubetwin::simulation::{RunOptions, RunOutput, run};
use kubetwin::workload::Scenario;

fn run_scenario(mut s: Scenario) -> RunOutput {
    s.sampling_interval = SimDuration::from_millis(250);
    run(&s, &RunOptions::default()).expect("runs")
}

fn column(out: &RunOutput, name: &str) -> Vec<f64> {
    out.metrics
        .column(name)
        .unwrap_or_else(|| panic!("no column {name}"))
}

#[test]
fn rolling_update_respects_surge_and_unavailability() {
    let s = Scenario::load(&root().join("scenarios/rolling-update.yaml")).expect("loads");
    let out = run_scenario(s);
    assert!(out.passed(), "{:?}", out.expectations);
    let t = column(&out, "time_s");
    let avail = column(&out, "deployment/default/web:available");
    let replicas = column(&out, "deployment/default/web:replicas");
    let updated = column(&out, "deployment/default/web:updated");
    // replicas 4, maxSurge 1, maxUnavailable 0.
    let first_full = avail
        .iter()
        .position(|a| *a >= 4.0)
        .expect("becomes available");
    for i in first_full..t.len() {
        assert!(avail[i] >= 4.0, "available {} at {}s", avail[i], t[i]);
        assert!(replicas[i] <= 5.0, "replicas {} at {}s", replicas[i], t[i]);
    }
    // The rollout happened: updated pods dipped below 4 after the image change at 2m
    // and the old pods' replacement completed.
    let during = (0..t.len()).filter(|&i| t[i] > 120.0 && t[i] < 200.0);
    assert!(during.into_iter().any(|i| updated[i] < 4.0));
    // Exactly two ReplicaSets: the undo at 6m made the first one new again.
    assert_eq!(out.store.replicasets.len(), 2);
    let revs: Vec<String> = out
        .store
        .replicasets
        .iter_by_name()
        .map(|(_, r)| {
            r.meta
                .annotations
                .get("deployment.kubernetes.io/revision")
                .cloned()
                .unwrap_or_default()
        })
        .collect();
    let mut sorted = revs.clone();
    sorted.sort();
    assert_eq!(sorted, vec!["2".to_string(), "3".to_string()], "{revs:?}");
}

const BASE: &str = r#"apiVersion: kubetwin.dev/v1alpha1
kind: Scenario
metadata:
  name: deploy-test
spec:
  duration: 8m
  cluster:
    nodePools:
    - name: w
      count: 2
      capacity: {cpu: "4", memory: 8Gi}
  manifests:
  - inline: |
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: app
      spec:
        replicas: 3
        selector:
          matchLabels: {app: app}
        strategy: STRATEGY
        template:
          metadata:
            labels: {app: app}
            annotations:
              kubetwin.dev/start-latency: 2s
              kubetwin.dev/termination-delay: 5s
          spec:
            containers:
            - name: c
              image: img:1
  timeline:
TIMELINE
"#;

fn scenario(strategy: &str, timeline: &str) -> Scenario {
    let text = BASE
        .replace("STRATEGY", strategy)
        .replace("TIMELINE", timeline);
    Scenario::from_str(&text, "test.yaml", root()).expect("scenario loads")
}

#[test]
fn recreate_never_overlaps_old_and_new_pods() {
    let s = scenario(
        "{type: Recreate}",
        "  - at: 1m\n    setImage: {target: deployment/app, container: c, image: img:2}\n",
    );
    let out = run_scenario(s);
    let t = column(&out, "time_s");
    let updated = column(&out, "deployment/default/app:updated");
    let replicas = column(&out, "deployment/default/app:replicas");
    let terminating = column(&out, "pods_terminating");
    let running = column(&out, "pods_running");
    for i in 0..t.len() {
        if t[i] > 60.0 && updated[i] > 0.0 {
            // New pods only once every old pod is gone.
            assert_eq!(terminating[i], 0.0, "at {}s", t[i]);
            assert!(running[i] <= 3.0, "at {}s", t[i]);
        }
        assert!(replicas[i] <= 3.0);
    }
    let last = t.len() - 1;
    assert_eq!(updated[last], 3.0);
    assert_eq!(column(&out, "deployment/default/app:available")[last], 3.0);
}

#[test]
fn pause_holds_the_rollout_until_resume() {
    let s = scenario(
        "{type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}",
        "  - at: 1m\n    rolloutPause: deployment/app\n  - at: 2m\n    setImage: {target: deployment/app, container: c, image: img:2}\n  - at: 4m\n    rolloutResume: deployment/app\n",
    );
    let out = run_scenario(s);
    let t = column(&out, "time_s");
    let updated = column(&out, "deployment/default/app:updated");
    let replicas = column(&out, "deployment/default/app:replicas");
    let avail = column(&out, "deployment/default/app:available");
    for i in 0..t.len() {
        if t[i] > 60.0 && t[i] < 240.0 {
            // The old pods stay; with the template changed while paused no ReplicaSet
            // matches it, so none is "updated" (upstream: newRS nil in sync).
            assert_eq!(replicas[i], 3.0, "paused rollout moved at {}s", t[i]);
            assert_eq!(avail[i], 3.0, "paused rollout moved at {}s", t[i]);
            let want = if t[i] < 120.0 { 3.0 } else { 0.0 };
            assert_eq!(updated[i], want, "at {}s", t[i]);
        }
    }
    // The paused template change created no ReplicaSet; after resume the rollout ran.
    assert_eq!(out.store.replicasets.len(), 2);
    let d = out.store.deployments.iter().next().expect("deployment").1;
    assert_eq!(d.status.updated_replicas, 3);
    assert_eq!(d.status.available_replicas, 3);
    assert_eq!(
        d.meta.annotations.get("deployment.kubernetes.io/revision"),
        Some(&"2".to_string())
    );
}

#[test]
fn undo_to_unknown_revision_is_bad_input() {
    let s = scenario(
        "{type: RollingUpdate}",
        "  - at: 1m\n    rolloutUndo: {target: deployment/app, toRevision: 7}\n",
    );
    let e = run(&s, &RunOptions::default()).err().expect("fails");
    let msg = format!("{e}");
    assert!(
        msg.contains("test.yaml:34:")
            && msg.contains("spec.timeline[0].rolloutUndo.toRevision")
            && msg.contains("unable to find specified revision 7"),
        "{msg}"
    );
    // Through the CLI: exit 2, no report left behind.
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("undo.yaml");
    std::fs::write(
        &f,
        BASE.replace("STRATEGY", "{type: RollingUpdate}").replace(
            "TIMELINE",
            "  - at: 1m\n    rolloutUndo: {target: deployment/app, toRevision: 7}\n",
        ),
    )
    .unwrap();
    let out = dir.path().join("out");
    let o = kubetwin(&["run", f.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(!out.exists());
}

#[test]
fn set_image_on_unknown_deployment_is_bad_input() {
    let text = BASE.replace("STRATEGY", "{type: Recreate}").replace(
        "TIMELINE",
        "  - at: 1m\n    setImage: {target: deployment/nope, container: c, image: x}\n",
    );
    let e = Scenario::from_str(&text, "test.yaml", root()).expect_err("rejected");
    let msg = format!("{e}");
    assert!(msg.contains("spec.timeline[0].setImage.target"), "{msg}");
}
