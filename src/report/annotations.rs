//! Timeline annotations: the things that happened to a run, drawn on every time-axis plot
//! of the report and listed in `report.md` and `summary.json` (`annotations`).
//!
//! An [`Annotation`] is an instant (`until: None`, drawn as a dashed vertical line) or a
//! window (`until: Some(end)`, drawn as a shaded span with a dashed start line). Each has
//! a [`AnnotationKind`] that picks its colour and its one-letter callout prefix:
//!
//! | kind        | source                                                              |
//! |-------------|---------------------------------------------------------------------|
//! | `action`    | the scenario's timeline actions (their descriptions)                |
//! | `fault`     | injected faults: a window from fault start to fault end (or an instant) |
//! | `rollout`   | Deployment rollouts: start (a new ReplicaSet scaled up from 0 on a template change) and complete (the new ReplicaSet fully available, old ones at 0) |
//! | `autoscale` | HPA rescales (`New size: N; reason: ...`) and cluster-autoscaler scale-ups and scale-downs |
//!
//! # Feeding annotations
//!
//! [`RunOutput::annotations`](crate::simulation::RunOutput) carries the list. The
//! simulation fills it at the end of a run from the scenario's actions and the journal
//! ([`super::annotate::derive`]); a feature that knows better (for example fault
//! injection, which knows each fault's start and end) pushes its own with
//! [`Annotation::window`] / [`Annotation::instant`] and then calls [`sort`] so the
//! order stays deterministic. Times are simulated time ([`SimTime`]); labels are short,
//! human text (`crash node-2`, `hpa/web: New size: 5`), shortened when drawn.
//!
//! Annotations after the run's end are dropped when drawn; a window still open at the
//! end is drawn up to the end of the chart.

use crate::engine::SimTime;
use serde::Serialize;

/// What an annotation marks; picks its colour on the plots and its callout prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AnnotationKind {
    /// A timeline action of the scenario (`crashNode`, `scale`, `setImage`, ...).
    Action,
    /// An injected fault (usually a window from its start to its end).
    Fault,
    /// A Deployment rollout starting or completing.
    Rollout,
    /// An autoscaler decision: HPA rescale, cluster-autoscaler scale-up or scale-down.
    Autoscale,
}

impl AnnotationKind {
    /// The kind as written in `summary.json` and `report.md`: `action`, `fault`,
    /// `rollout`, `autoscale`.
    pub fn as_str(self) -> &'static str {
        match self {
            AnnotationKind::Action => "action",
            AnnotationKind::Fault => "fault",
            AnnotationKind::Rollout => "rollout",
            AnnotationKind::Autoscale => "autoscale",
        }
    }

    /// One-letter prefix of the numbered callouts on the plots (`A1`, `F2`, `R3`, `S4`).
    pub fn letter(self) -> char {
        match self {
            AnnotationKind::Action => 'A',
            AnnotationKind::Fault => 'F',
            AnnotationKind::Rollout => 'R',
            AnnotationKind::Autoscale => 'S',
        }
    }
}

/// One thing that happened during a run, at an instant or over a window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Annotation {
    /// When it happened (or started).
    #[serde(rename = "at_s", serialize_with = "ser_secs")]
    pub at: SimTime,
    /// When it ended, for a window (a fault from injection to healing); `None` for an
    /// instant.
    #[serde(
        rename = "until_s",
        serialize_with = "ser_opt_secs",
        skip_serializing_if = "Option::is_none"
    )]
    pub until: Option<SimTime>,
    /// What kind of thing it is.
    pub kind: AnnotationKind,
    /// Short human text, e.g. `crash node-2` or `hpa/web: New size: 5`.
    pub label: String,
}

impl Annotation {
    /// An instant annotation.
    pub fn instant(at: SimTime, kind: AnnotationKind, label: impl Into<String>) -> Self {
        Annotation {
            at,
            until: None,
            kind,
            label: label.into(),
        }
    }

    /// A window annotation from `at` to `until` (`until` before `at` is clamped to `at`).
    pub fn window(
        at: SimTime,
        until: SimTime,
        kind: AnnotationKind,
        label: impl Into<String>,
    ) -> Self {
        Annotation {
            at,
            until: Some(until.max(at)),
            kind,
            label: label.into(),
        }
    }
}

/// Sorts annotations into their canonical order: by time, then kind, then label (stable,
/// so equal ones keep their insertion order). Call after pushing annotations.
pub fn sort(list: &mut [Annotation]) {
    list.sort_by(|a, b| (a.at, a.kind, &a.label, a.until).cmp(&(b.at, b.kind, &b.label, b.until)));
}

/// The annotations that start no later than `end` (the run's end), each with its
/// callout id: the kind's letter and its number among that kind, in order (`A1`, `A2`,
/// `S1`, ...). Plots, `report.md`, `index.html` and `summary.json` use the same ids.
pub fn numbered(list: &[Annotation], end: SimTime) -> Vec<(String, &Annotation)> {
    let mut counts = [0usize; 4];
    list.iter()
        .filter(|a| a.at <= end)
        .map(|a| {
            let n = &mut counts[a.kind as usize];
            *n += 1;
            (format!("{}{n}", a.kind.letter()), a)
        })
        .collect()
}

fn ser_secs<S: serde::Serializer>(t: &SimTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(t.as_secs_f64())
}

fn ser_opt_secs<S: serde::Serializer>(t: &Option<SimTime>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_f64(t.as_secs_f64()),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::SimDuration;

    fn t(s: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_millis(s * 1000)
    }

    #[test]
    fn serialises_seconds_and_kind() {
        let a = Annotation::window(t(60), t(30), AnnotationKind::Fault, "zone b down");
        assert_eq!(a.until, Some(t(60)));
        let v = serde_json::to_value(&a).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"at_s": 60.0, "until_s": 60.0, "kind": "fault", "label": "zone b down"})
        );
        let i = Annotation::instant(t(5), AnnotationKind::Action, "scale web to 3");
        let v = serde_json::to_value(&i).unwrap();
        assert!(v.get("until_s").is_none());
    }

    #[test]
    fn sort_is_by_time_then_kind() {
        let mut v = vec![
            Annotation::instant(t(10), AnnotationKind::Autoscale, "b"),
            Annotation::instant(t(10), AnnotationKind::Action, "a"),
            Annotation::instant(t(1), AnnotationKind::Rollout, "c"),
        ];
        sort(&mut v);
        let labels: Vec<&str> = v.iter().map(|a| a.label.as_str()).collect();
        assert_eq!(labels, ["c", "a", "b"]);
        assert_eq!(AnnotationKind::Autoscale.letter(), 'S');
        assert_eq!(AnnotationKind::Fault.as_str(), "fault");
        let ids: Vec<String> = numbered(&v, t(5)).into_iter().map(|(id, _)| id).collect();
        assert_eq!(ids, ["R1"]);
        let ids: Vec<String> = numbered(&v, t(10)).into_iter().map(|(id, _)| id).collect();
        assert_eq!(ids, ["R1", "A1", "S1"]);
    }
}
