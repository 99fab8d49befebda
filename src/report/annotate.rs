//! Deriving a run's [`Annotation`]s from what it already records: the scenario's
//! timeline actions and the journal (`events.jsonl`).
//!
//! - **Actions**: one instant per timeline action, labelled with its description.
//! - **Rollouts**: the Deployment controller's `ScalingReplicaSet` Events name the
//!   ReplicaSets of each Deployment. A ReplicaSet scaled up from 0 while another
//!   ReplicaSet of the same Deployment still has replicas is a rollout start (a new
//!   template, or `rollout undo` bringing an old ReplicaSet back); the first ReplicaSet of
//!   a new Deployment is not. The rollout completes at the first ReplicaSet journal line
//!   afterwards where the new ReplicaSet has all its replicas available and every other
//!   ReplicaSet of the Deployment has none left (spec and status). Annotated as
//!   `deployment/NAME rollout started: RS` and `deployment/NAME rollout complete: RS`.
//! - **Autoscaling**: HPA `SuccessfulRescale` Events (`hpa/NAME: New size: N; reason:
//!   ...`); cluster-autoscaler `TriggeredScaleUp` Events, one per distinct decision (the
//!   autoscaler records the same message on every pod that triggered it) as
//!   `scale-up GROUP FROM->TO`; and node removals (`ScaleDown`/`ScaleDownEmpty` on a
//!   Node) as a window from the node being marked for deletion to its removal.
//!
//! Without a journal (`RunOptions::journal = false`) only the actions are annotated.
//! The scan is one pass over the journal, with maps keyed by name (`BTreeMap`, so nothing
//! depends on hash order).

use super::annotations::{Annotation, AnnotationKind, sort};
use crate::api::store::JournalEntry;
use crate::engine::{SimDuration, SimTime};
use crate::workload::scenario::TimedAction;
use std::collections::{BTreeMap, BTreeSet};

/// The annotations of a run: its actions, then everything derived from the journal, in
/// canonical order ([`sort`]).
pub fn derive(actions: &[TimedAction], journal: &[JournalEntry]) -> Vec<Annotation> {
    let mut out: Vec<Annotation> = actions
        .iter()
        .map(|a| Annotation::instant(a.at, AnnotationKind::Action, a.description.clone()))
        .collect();
    out.extend(rollouts(journal));
    out.extend(autoscaling(journal));
    sort(&mut out);
    out
}

fn time(e: &JournalEntry) -> SimTime {
    SimTime::ZERO + SimDuration::from_millis(e.t_ms)
}

/// Last known state of a ReplicaSet (from its journal summary and the scaling Events).
#[derive(Debug, Clone, Copy, Default)]
struct RsState {
    replicas: i64,
    current: i64,
    available: i64,
}

/// Parses `replicas=N current=N ready=N available=N` (the ReplicaSet journal summary).
fn parse_rs_summary(msg: &str) -> Option<RsState> {
    let mut st = RsState::default();
    let mut seen = 0;
    for part in msg.split_whitespace() {
        let (k, v) = part.split_once('=')?;
        let v: i64 = v.parse().ok()?;
        match k {
            "replicas" => st.replicas = v,
            "current" => st.current = v,
            "available" => st.available = v,
            _ => continue,
        }
        seen += 1;
    }
    (seen == 3).then_some(st)
}

/// Parses `Scaled up replica set NAME from A to B` / `Scaled down ...`.
fn parse_scaling(msg: &str) -> Option<(&str, i64, i64)> {
    let rest = msg
        .strip_prefix("Scaled up replica set ")
        .or_else(|| msg.strip_prefix("Scaled down replica set "))?;
    let (name, rest) = rest.split_once(" from ")?;
    let (from, to) = rest.split_once(" to ")?;
    Some((name, from.trim().parse().ok()?, to.trim().parse().ok()?))
}

/// Rollout start and completion annotations.
fn rollouts(journal: &[JournalEntry]) -> Vec<Annotation> {
    // ReplicaSet key (namespace, name) -> its Deployment key; Deployment -> its ReplicaSets.
    let mut owner: BTreeMap<(String, String), (String, String)> = BTreeMap::new();
    let mut sets: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    let mut state: BTreeMap<(String, String), RsState> = BTreeMap::new();
    // Deployment -> the ReplicaSet it is rolling out to.
    let mut rolling: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut out = Vec::new();
    for e in journal {
        if e.entry_type == "Event" && e.kind == "Deployment" && e.reason == "ScalingReplicaSet" {
            let Some((rs, from, to)) = parse_scaling(&e.message) else {
                continue;
            };
            let dep = (e.namespace.clone(), e.name.clone());
            let others_up = sets.get(&dep).is_some_and(|s| {
                s.iter().any(|o| {
                    o != rs
                        && state
                            .get(&(e.namespace.clone(), o.clone()))
                            .is_some_and(|st| st.replicas > 0 || st.current > 0)
                })
            });
            let key = (e.namespace.clone(), rs.to_string());
            owner.insert(key.clone(), dep.clone());
            sets.entry(dep.clone()).or_default().insert(rs.to_string());
            state.entry(key).or_default().replicas = to;
            if from == 0 && to > 0 && others_up && rolling.get(&dep).map(String::as_str) != Some(rs)
            {
                rolling.insert(dep, rs.to_string());
                out.push(Annotation::instant(
                    time(e),
                    AnnotationKind::Rollout,
                    format!("deployment/{} rollout started: {rs}", e.name),
                ));
            }
            continue;
        }
        if e.kind != "ReplicaSet" || e.entry_type == "Event" {
            continue;
        }
        let key = (e.namespace.clone(), e.name.clone());
        if e.entry_type == "DELETED" {
            state.remove(&key);
        } else if let Some(st) = parse_rs_summary(&e.message) {
            state.insert(key.clone(), st);
        } else {
            continue;
        }
        let Some(dep) = owner.get(&key).cloned() else {
            continue;
        };
        let Some(new) = rolling.get(&dep).cloned() else {
            continue;
        };
        let ns = &dep.0;
        let done = state
            .get(&(ns.clone(), new.clone()))
            .is_some_and(|st| st.replicas > 0 && st.available >= st.replicas)
            && sets[&dep].iter().filter(|o| **o != new).all(|o| {
                state
                    .get(&(ns.clone(), o.clone()))
                    .is_none_or(|st| st.replicas == 0 && st.current == 0)
            });
        if done {
            rolling.remove(&dep);
            out.push(Annotation::instant(
                time(e),
                AnnotationKind::Rollout,
                format!("deployment/{} rollout complete: {new}", dep.1),
            ));
        }
    }
    out
}

/// `pod triggered scale-up: [{GROUP FROM->TO (max: M)}]` -> `scale-up GROUP FROM->TO`.
fn scale_up_label(msg: &str) -> String {
    let inner = msg
        .strip_prefix("pod triggered scale-up: ")
        .unwrap_or(msg)
        .trim_matches(|c| c == '[' || c == ']' || c == '{' || c == '}');
    let inner = inner.split(" (max").next().unwrap_or(inner);
    format!("scale-up {inner}")
}

/// HPA rescales and cluster-autoscaler scale-ups and node removals.
fn autoscaling(journal: &[JournalEntry]) -> Vec<Annotation> {
    let mut out = Vec::new();
    let mut last_scale_up: Option<(u64, &str)> = None;
    // Node name -> when it was marked for deletion.
    let mut marked: BTreeMap<&str, SimTime> = BTreeMap::new();
    for e in journal {
        if e.entry_type != "Event" {
            continue;
        }
        match (e.kind, e.reason) {
            ("HorizontalPodAutoscaler", "SuccessfulRescale") => {
                out.push(Annotation::instant(
                    time(e),
                    AnnotationKind::Autoscale,
                    format!("hpa/{}: {}", e.name, e.message),
                ));
            }
            ("Pod", "TriggeredScaleUp") => {
                if last_scale_up == Some((e.t_ms, e.message.as_str())) {
                    continue;
                }
                last_scale_up = Some((e.t_ms, e.message.as_str()));
                out.push(Annotation::instant(
                    time(e),
                    AnnotationKind::Autoscale,
                    scale_up_label(&e.message),
                ));
            }
            ("Node", "ScaleDown") if e.message.starts_with("marked the node") => {
                marked.insert(e.name.as_str(), time(e));
            }
            ("Node", "ScaleDown" | "ScaleDownEmpty") => {
                let how = if e.reason == "ScaleDownEmpty" {
                    "empty"
                } else {
                    "drained"
                };
                let label = format!("scale-down node {} ({how})", e.name);
                out.push(match marked.remove(e.name.as_str()) {
                    Some(from) => {
                        Annotation::window(from, time(e), AnnotationKind::Autoscale, label)
                    }
                    None => Annotation::instant(time(e), AnnotationKind::Autoscale, label),
                });
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(
        t_s: u64,
        kind: &'static str,
        name: &str,
        reason: &'static str,
        msg: &str,
    ) -> JournalEntry {
        JournalEntry {
            t_ms: t_s * 1000,
            entry_type: "Event",
            kind,
            namespace: if kind == "Node" {
                String::new()
            } else {
                "default".into()
            },
            name: name.into(),
            rv: 0,
            reason,
            message: msg.into(),
        }
    }

    fn rs(t_s: u64, name: &str, replicas: i64, current: i64, available: i64) -> JournalEntry {
        JournalEntry {
            t_ms: t_s * 1000,
            entry_type: "MODIFIED",
            kind: "ReplicaSet",
            namespace: "default".into(),
            name: name.into(),
            rv: 7,
            reason: "",
            message: format!(
                "replicas={replicas} current={current} ready={available} available={available}"
            ),
        }
    }

    fn labels(v: &[Annotation]) -> Vec<(u64, String)> {
        v.iter()
            .map(|a| (a.at.as_secs(), a.label.clone()))
            .collect()
    }

    #[test]
    fn rollout_start_and_complete() {
        let d = "Deployment";
        let s = "ScalingReplicaSet";
        let j = vec![
            ev(0, d, "web", s, "Scaled up replica set web-a from 0 to 2"),
            rs(0, "web-a", 2, 0, 0),
            rs(10, "web-a", 2, 2, 2),
            ev(60, d, "web", s, "Scaled up replica set web-b from 0 to 1"),
            rs(60, "web-b", 1, 0, 0),
            rs(70, "web-b", 1, 1, 1),
            ev(70, d, "web", s, "Scaled down replica set web-a from 2 to 0"),
            ev(70, d, "web", s, "Scaled up replica set web-b from 1 to 2"),
            rs(70, "web-a", 0, 2, 2),
            rs(72, "web-a", 0, 0, 0),
            rs(80, "web-b", 2, 2, 1),
            rs(90, "web-b", 2, 2, 2),
            rs(95, "web-b", 2, 2, 2),
        ];
        assert_eq!(
            labels(&rollouts(&j)),
            [
                (60, "deployment/web rollout started: web-b".to_string()),
                (90, "deployment/web rollout complete: web-b".to_string()),
            ]
        );
    }

    #[test]
    fn scaling_a_lone_replica_set_is_not_a_rollout() {
        let d = "Deployment";
        let s = "ScalingReplicaSet";
        let j = vec![
            ev(0, d, "web", s, "Scaled up replica set web-a from 0 to 2"),
            rs(5, "web-a", 2, 2, 2),
            ev(9, d, "web", s, "Scaled down replica set web-a from 2 to 0"),
            rs(10, "web-a", 0, 0, 0),
            ev(20, d, "web", s, "Scaled up replica set web-a from 0 to 3"),
        ];
        assert!(rollouts(&j).is_empty());
    }

    #[test]
    fn autoscaler_events() {
        let msg = "pod triggered scale-up: [{pool 1->3 (max: 10)}]";
        let j = vec![
            ev(
                5,
                "HorizontalPodAutoscaler",
                "web",
                "SuccessfulRescale",
                "New size: 4; reason: cpu resource utilization (percentage of request) above target",
            ),
            ev(10, "Pod", "p1", "TriggeredScaleUp", msg),
            ev(10, "Pod", "p2", "TriggeredScaleUp", msg),
            ev(
                100,
                "Node",
                "pool-2",
                "ScaleDown",
                "marked the node as toBeDeleted/unschedulable",
            ),
            ev(
                110,
                "Node",
                "pool-2",
                "ScaleDown",
                "Scale-down: node pool-2 removed with drain",
            ),
            ev(
                120,
                "Node",
                "pool-3",
                "ScaleDownEmpty",
                "Scale-down: empty node pool-3 removed",
            ),
        ];
        let v = autoscaling(&j);
        assert_eq!(
            labels(&v),
            [
                (5, "hpa/web: New size: 4; reason: cpu resource utilization (percentage of request) above target".to_string()),
                (10, "scale-up pool 1->3".to_string()),
                (100, "scale-down node pool-2 (drained)".to_string()),
                (120, "scale-down node pool-3 (empty)".to_string()),
            ]
        );
        assert_eq!(v[2].until.map(|t| t.as_secs()), Some(110));
        assert_eq!(v[3].until, None);
    }
}
