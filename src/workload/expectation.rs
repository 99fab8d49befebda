//! Expectations a scenario asserts, written as small expressions:
//!
//! ```text
//! <subject>.<field> <op> <number> [at|after|by <duration>]
//! ```
//!
//! * subjects: `pods`, `nodes`, `scheduling`, a workload `rc/NAME`, `rs/NAME`,
//!   `deployment/NAME`, or a Service `svc/NAME` (optionally `KIND/NAMESPACE/NAME`);
//! * fields: pods `pending unscheduled running ready succeeded failed terminating total`;
//!   nodes `ready notready total`; scheduling `scheduled failed p50_ms p99_ms max_ms`;
//!   workloads `desired replicas ready available updated unavailable` (`updated`: pods of
//!   a deployment's current template; for a ReplicaSet all its pods); a load target
//!   (`spec.load`) adds `offered_rps served_rps dropped_rps dropped_pct latency_ms
//!   cpu_usage_m`; `cost`
//!   `total node_hours` and `nodegroup/NAME` `nodes upcoming node_hours cost peak_nodes
//!   scale_ups scale_downs` (the cluster autoscaler's ledger);
//! * operators: `== != < <= > >=`;
//! * timing: none (or `at end`) = at the end of the run; `at D` = at time D; `after D` = at every
//!   metrics sample from D to the end (and at the end); `by D` = true at some sample or
//!   check no later than D.

use crate::api::Kind;
use crate::engine::{SimDuration, SimTime};
use serde::Serialize;
use std::fmt;

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum CmpOp {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl CmpOp {
    /// The operator as written: `==`, `!=`, `<`, `<=`, `>`, `>=`.
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }

    fn holds(self, a: f64, b: f64) -> bool {
        match self {
            CmpOp::Eq => a == b,
            CmpOp::Ne => a != b,
            CmpOp::Lt => a < b,
            CmpOp::Le => a <= b,
            CmpOp::Gt => a > b,
            CmpOp::Ge => a >= b,
        }
    }
}

/// What an expectation reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Subject {
    /// Pod counts.
    Pods,
    /// Node counts.
    Nodes,
    /// Scheduler statistics.
    Scheduling,
    /// The cluster autoscaler's cost ledger (`cost.total`, `cost.node_hours`).
    Cost,
    /// A cluster-autoscaler node group (`nodegroup/NAME`).
    NodeGroup(String),
    /// GPU allocation and fragmentation (clusters with GPUs).
    Gpu,
    /// A workload controller.
    Workload {
        /// Its kind.
        kind: Kind,
        /// Its namespace.
        namespace: String,
        /// Its name.
        name: String,
    },
}

/// When an expectation is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Timing {
    /// At the end of the run.
    End,
    /// At one instant.
    At(SimTime),
    /// Continuously from an instant to the end.
    After(SimTime),
    /// At least once no later than an instant.
    By(SimTime),
}

/// A parsed expectation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Expectation {
    /// The expression as written.
    pub text: String,
    /// What it reads.
    pub subject: Subject,
    /// The field of the subject.
    pub field: String,
    /// The comparison.
    pub op: CmpOp,
    /// The right-hand side.
    pub value: f64,
    /// When it is checked.
    pub timing: Timing,
}

/// The outcome of one expectation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExpectationResult {
    /// The expression.
    pub expr: String,
    /// Whether it held.
    pub passed: bool,
    /// The observed value, and when, for the report.
    pub detail: String,
    /// The value the verdict rests on (the one in `detail`); `None` when never checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed: Option<f64>,
    /// The bound it was held to: the operator, the number and the timing, e.g.
    /// `>= 2 after 1m0s` or `== 0 at end`.
    pub bound: String,
}

const POD_FIELDS: &[&str] = &[
    "pending",
    "unscheduled",
    "running",
    "ready",
    "succeeded",
    "failed",
    "terminating",
    "total",
];
const NODE_FIELDS: &[&str] = &["ready", "notready", "total"];
const SCHED_FIELDS: &[&str] = &["scheduled", "failed", "p50_ms", "p99_ms", "max_ms"];
const SERVICE_FIELDS: &[&str] = &["endpoints", "desired"];
const COST_FIELDS: &[&str] = &["total", "node_hours"];
const NODE_GROUP_FIELDS: &[&str] = &[
    "nodes",
    "upcoming",
    "node_hours",
    "cost",
    "peak_nodes",
    "scale_ups",
    "scale_downs",
];
const WORKLOAD_FIELDS: &[&str] = &[
    "desired",
    "replicas",
    "ready",
    "available",
    "updated",
    "unavailable",
    "progressing",
];

impl Expectation {
    /// Parses an expression; the error says what is wrong.
    pub fn parse(text: &str) -> Result<Expectation, String> {
        let t = text.trim();
        let (lhs, rest) = t
            .split_once(char::is_whitespace)
            .ok_or_else(|| format!("expected `<subject>.<field> <op> <number>`, got {t:?}"))?;
        let mut words = rest.split_whitespace();
        let op = match words.next() {
            Some("==") => CmpOp::Eq,
            Some("!=") => CmpOp::Ne,
            Some("<") => CmpOp::Lt,
            Some("<=") => CmpOp::Le,
            Some(">") => CmpOp::Gt,
            Some(">=") => CmpOp::Ge,
            other => {
                return Err(format!(
                    "expected a comparison (==, !=, <, <=, >, >=), got {:?}",
                    other.unwrap_or("")
                ));
            }
        };
        let num = words.next().ok_or("missing the number to compare with")?;
        let value: f64 = num
            .parse()
            .map_err(|_| format!("{num:?} is not a number"))?;
        let timing = match (words.next(), words.next()) {
            (None, _) | (Some("at"), Some("end")) => Timing::End,
            (Some(w), Some(d)) => {
                let at = SimTime::ZERO + SimDuration::parse(d).map_err(|e| e.to_string())?;
                match w {
                    "at" => Timing::At(at),
                    "after" => Timing::After(at),
                    "by" | "within" => Timing::By(at),
                    other => return Err(format!("expected `at`, `after` or `by`, got {other:?}")),
                }
            }
            (Some(w), None) => return Err(format!("{w:?} needs a duration")),
        };
        if words.next().is_some() {
            return Err("unexpected text after the expectation".into());
        }
        let (subject_text, field) = lhs
            .rsplit_once('.')
            .ok_or_else(|| format!("{lhs:?}: expected `<subject>.<field>`"))?;
        let (subject, fields) = match subject_text {
            "pods" => (Subject::Pods, POD_FIELDS),
            "nodes" => (Subject::Nodes, NODE_FIELDS),
            "scheduling" => (Subject::Scheduling, SCHED_FIELDS),
            "cost" => (Subject::Cost, COST_FIELDS),
            s if s.starts_with("nodegroup/") && s.len() > "nodegroup/".len() => (
                Subject::NodeGroup(s["nodegroup/".len()..].to_string()),
                NODE_GROUP_FIELDS,
            ),
            "gpu" => (Subject::Gpu, crate::simulation::gpu_metrics::FIELDS),
            s => {
                let parts: Vec<&str> = s.split('/').collect();
                let (k, ns, name) = match parts.as_slice() {
                    [k, name] => (*k, "default", *name),
                    [k, ns, name] => (*k, *ns, *name),
                    _ => {
                        return Err(format!(
                            "unknown subject {s:?} (pods, nodes, scheduling, gpu, rc/NAME, rs/NAME, deployment/NAME)"
                        ));
                    }
                };
                let kind = Kind::from_kubectl(k)
                    .filter(|k| {
                        matches!(
                            k,
                            Kind::ReplicationController
                                | Kind::ReplicaSet
                                | Kind::Deployment
                                | Kind::Service
                                | Kind::HorizontalPodAutoscaler
                        )
                    })
                    .ok_or_else(|| {
                        format!("unknown workload kind {k:?} (rc, rs, deployment, svc, hpa)")
                    })?;
                let fields = if kind == Kind::Service {
                    SERVICE_FIELDS
                } else if kind == Kind::HorizontalPodAutoscaler {
                    crate::simulation::hpa_observe::HPA_FIELDS
                } else {
                    WORKLOAD_FIELDS
                };
                (
                    Subject::Workload {
                        kind,
                        namespace: ns.to_string(),
                        name: name.to_string(),
                    },
                    fields,
                )
            }
        };
        // A load target's fields (`svc/web.dropped_pct`), checked against `spec.load`
        // when the scenario loads.
        let load_field = matches!(
            &subject,
            Subject::Workload {
                kind: Kind::Service | Kind::Deployment,
                ..
            }
        ) && super::load::LOAD_FIELDS.contains(&field);
        if !fields.contains(&field) && !load_field {
            return Err(format!(
                "unknown field {field:?} of {subject_text} (one of: {})",
                fields.join(", ")
            ));
        }
        Ok(Expectation {
            text: t.to_string(),
            subject,
            field: field.to_string(),
            op,
            value,
            timing,
        })
    }

    /// Whether `observed` satisfies the comparison.
    pub fn holds(&self, observed: f64) -> bool {
        self.op.holds(observed, self.value)
    }

    /// The bound as text: operator, number and timing, e.g. `>= 2 after 1m0s`,
    /// `== 3 by 1m0s`, `== 0 at end`.
    pub fn bound(&self) -> String {
        let timing = match self.timing {
            Timing::End => "at end".to_string(),
            Timing::At(t) => format!("at {t}"),
            Timing::After(t) => format!("after {t}"),
            Timing::By(t) => format!("by {t}"),
        };
        let v = fmt_num(self.value);
        let v = if v.contains('.') {
            v.trim_end_matches('0').trim_end_matches('.')
        } else {
            &v
        };
        format!("{} {v} {timing}", self.op.symbol())
    }
}

impl fmt::Display for Expectation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Tracks one expectation over a run.
#[derive(Debug, Clone)]
pub struct Tracker {
    /// The expectation.
    pub exp: Expectation,
    state: Option<bool>,
    detail: String,
    observed: Option<f64>,
    checked: bool,
}

impl Tracker {
    /// A tracker for `exp`.
    pub fn new(exp: Expectation) -> Tracker {
        Tracker {
            exp,
            state: None,
            detail: String::new(),
            observed: None,
            checked: false,
        }
    }

    /// Feeds an observation at `now`; `end` marks the end of the run.
    pub fn observe(&mut self, now: SimTime, observed: f64, end: bool) {
        let ok = self.exp.holds(observed);
        let note = |ok: bool| {
            format!(
                "{} {} at {now}",
                if ok { "observed" } else { "was" },
                fmt_num(observed)
            )
        };
        match self.exp.timing {
            Timing::End => {
                if end {
                    self.state = Some(ok);
                    self.detail = note(ok);
                    self.observed = Some(observed);
                    self.checked = true;
                }
            }
            Timing::At(t) => {
                if now == t && !self.checked {
                    self.state = Some(ok);
                    self.detail = note(ok);
                    self.observed = Some(observed);
                    self.checked = true;
                }
            }
            Timing::After(t) => {
                if now >= t && self.state != Some(false) {
                    self.checked = true;
                    self.state = Some(ok);
                    self.observed = Some(observed);
                    self.detail = if ok {
                        format!("held from {t} to {now} (last {})", fmt_num(observed))
                    } else {
                        note(false)
                    };
                }
            }
            Timing::By(t) => {
                if now <= t && self.state != Some(true) {
                    self.checked = true;
                    self.state = Some(ok);
                    self.observed = Some(observed);
                    self.detail = if ok {
                        note(true)
                    } else {
                        format!("not reached by {t} (last {})", fmt_num(observed))
                    };
                }
            }
        }
    }

    /// The final result.
    pub fn result(&self) -> ExpectationResult {
        let (passed, detail, observed) = match self.state {
            Some(p) if self.checked => (p, self.detail.clone(), self.observed),
            _ => (
                false,
                "never checked: the run ended before its time".to_string(),
                None,
            ),
        };
        ExpectationResult {
            expr: self.exp.text.clone(),
            passed,
            detail,
            observed,
            bound: self.exp.bound(),
        }
    }
}

fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v:.3}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses() {
        let e = Expectation::parse("deployment/web.available >= 3 after 2m").unwrap();
        assert_eq!(
            e.subject,
            Subject::Workload {
                kind: Kind::Deployment,
                namespace: "default".into(),
                name: "web".into()
            }
        );
        assert_eq!(e.timing, Timing::After(SimTime::from_secs(120)));
        assert!(Expectation::parse("pods.pending == 0").is_ok());
        assert!(Expectation::parse("rc/prod/nginx.ready == 3 by 10m").is_ok());
        for bad in [
            "pods.pending",
            "pods.bogus == 1",
            "pods.pending ~ 1",
            "pods.pending == x",
            "cm/x.ready == 1",
            "pods.pending == 1 at",
            "pods.pending == 1 at 5 parsecs",
        ] {
            assert!(Expectation::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn parses_autoscaler_subjects() {
        let e = Expectation::parse("nodegroup/web-pool.nodes <= 8 after 1m").unwrap();
        assert_eq!(e.subject, Subject::NodeGroup("web-pool".into()));
        assert_eq!(e.field, "nodes");
        let e = Expectation::parse("cost.total < 100").unwrap();
        assert_eq!((e.subject, e.field.as_str()), (Subject::Cost, "total"));
        for bad in [
            "cost.nodes < 1",
            "nodegroup/.nodes == 1",
            "nodegroup/a.bogus == 1",
        ] {
            assert!(Expectation::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tracks_after_and_by() {
        let mut t = Tracker::new(Expectation::parse("pods.ready >= 3 after 1m").unwrap());
        t.observe(SimTime::from_secs(30), 0.0, false);
        t.observe(SimTime::from_secs(60), 3.0, false);
        t.observe(SimTime::from_secs(90), 2.0, false);
        t.observe(SimTime::from_secs(120), 3.0, true);
        assert!(!t.result().passed);
        let mut b = Tracker::new(Expectation::parse("pods.ready >= 3 by 1m").unwrap());
        b.observe(SimTime::from_secs(30), 3.0, false);
        b.observe(SimTime::from_secs(90), 0.0, true);
        assert!(b.result().passed);
    }
}
