//! Validated faults and their occurrences in one run. A [`Fault`] is a kind, a target
//! and a timing; [`FaultPlan::occurrences`] turns the plan into concrete start/end
//! times for a seed, drawing every random time from the run's `faults` stream in file
//! order (nodes of one entry in name order), so the same seed injects the same faults.

use super::process;
use crate::api::selector::Labels;
use crate::engine::{RngStreams, SimDuration, SimTime, rng::below};

/// Which probe a `probeFlap` fault makes fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Probe {
    /// The readiness probe: the pod leaves its Services' endpoints for the window.
    Readiness,
    /// The liveness probe: the kubelet kills and restarts the container.
    Liveness,
}

/// What goes wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// The machine dies (kubelet and containers); recovers at the end, if any.
    NodeCrash,
    /// The kubelet stops while its containers keep running.
    KubeletStop,
    /// The node cannot reach the control plane: no heartbeats, no status updates; its
    /// containers keep running.
    Partition,
    /// Every node of a zone crashes.
    ZoneOutage,
    /// A running container of a matching pod exits with code 1.
    ContainerCrash,
    /// A running container of a matching pod is OOM-killed (exit code 137, OOMKilled).
    OomKill,
    /// A probe of the matching pods fails for the window.
    ProbeFlap(Probe),
    /// Image pulls take this much longer.
    SlowImagePull(SimDuration),
    /// The registry is down: pulls fail (ErrImagePull, ImagePullBackOff).
    RegistryOutage,
    /// Controllers see store changes this much later.
    WatchLatency(SimDuration),
    /// The scheduler runs no scheduling cycles.
    SchedulerDown,
}

/// The YAML names of the kinds, for messages.
pub const KIND_NAMES: &str = "nodeCrash, kubeletStop, partition, zoneOutage, containerCrash, oomKill, probeFlap, slowImagePull, registryOutage, watchLatency, schedulerDown";

impl FaultKind {
    /// The YAML name.
    pub fn name(&self) -> &'static str {
        match self {
            FaultKind::NodeCrash => "nodeCrash",
            FaultKind::KubeletStop => "kubeletStop",
            FaultKind::Partition => "partition",
            FaultKind::ZoneOutage => "zoneOutage",
            FaultKind::ContainerCrash => "containerCrash",
            FaultKind::OomKill => "oomKill",
            FaultKind::ProbeFlap(_) => "probeFlap",
            FaultKind::SlowImagePull(_) => "slowImagePull",
            FaultKind::RegistryOutage => "registryOutage",
            FaultKind::WatchLatency(_) => "watchLatency",
            FaultKind::SchedulerDown => "schedulerDown",
        }
    }

    /// Whether the fault acts on nodes.
    pub fn on_nodes(&self) -> bool {
        matches!(
            self,
            FaultKind::NodeCrash
                | FaultKind::KubeletStop
                | FaultKind::Partition
                | FaultKind::ZoneOutage
        )
    }

    /// Whether the fault acts on pods (a label selector).
    pub fn on_pods(&self) -> bool {
        matches!(
            self,
            FaultKind::ContainerCrash | FaultKind::OomKill | FaultKind::ProbeFlap(_)
        )
    }

    /// Whether an occurrence is an instant (a container exit), not a window.
    pub fn instant(&self) -> bool {
        matches!(self, FaultKind::ContainerCrash | FaultKind::OomKill)
    }

    /// A short description of an occurrence on `target`.
    pub fn describe(&self, target: &str) -> String {
        match self {
            FaultKind::NodeCrash => format!("node crash {target}"),
            FaultKind::KubeletStop => format!("kubelet stopped {target}"),
            FaultKind::Partition => format!("partition {target}"),
            FaultKind::ZoneOutage => format!("zone outage {target}"),
            FaultKind::ContainerCrash => format!("container crash {target}"),
            FaultKind::OomKill => format!("oom kill {target}"),
            FaultKind::ProbeFlap(p) => format!(
                "{} probe flapping {target}",
                match p {
                    Probe::Readiness => "readiness",
                    Probe::Liveness => "liveness",
                }
            ),
            FaultKind::SlowImagePull(d) => format!("slow image pulls +{d}"),
            FaultKind::RegistryOutage => "registry outage".to_string(),
            FaultKind::WatchLatency(d) => format!("watch latency +{d}"),
            FaultKind::SchedulerDown => "scheduler down".to_string(),
        }
    }
}

/// What a fault acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The cluster as a whole (registry, scheduler, watch delivery).
    Cluster,
    /// These nodes (resolved from a name, a label selector or a zone), and how the
    /// target was written (`node-2`, `zone b`, `pool=a`).
    Nodes(Vec<String>, String),
    /// Pods matching `selector` (in `namespace`, or every namespace).
    Pods {
        /// The namespace (`None`: every namespace).
        namespace: Option<String>,
        /// matchLabels.
        selector: Labels,
    },
}

impl Target {
    /// How the target reads in descriptions.
    pub fn label(&self) -> String {
        match self {
            Target::Cluster => String::new(),
            Target::Nodes(_, l) => l.clone(),
            Target::Pods {
                namespace,
                selector,
            } => {
                let sel: Vec<String> = selector.iter().map(|(k, v)| format!("{k}={v}")).collect();
                let sel = if sel.is_empty() {
                    "all".to_string()
                } else {
                    sel.join(",")
                };
                match namespace {
                    Some(ns) => format!("pods {ns}/{sel}"),
                    None => format!("pods {sel}"),
                }
            }
        }
    }
}

/// When a fault happens.
#[derive(Debug, Clone, PartialEq)]
pub enum Timing {
    /// At a time, healed at `end` (never when `None`).
    At {
        /// Start.
        at: SimTime,
        /// End (`duration` or `until`).
        end: Option<SimTime>,
    },
    /// A Poisson process of `per_second` events over `[from, until)`, each lasting
    /// `duration` (instant kinds ignore it; `None`: never healed).
    Rate {
        /// Events per second.
        per_second: f64,
        /// Window start.
        from: SimTime,
        /// Window end (`None`: the end of the run).
        until: Option<SimTime>,
        /// How long each occurrence lasts.
        duration: Option<SimDuration>,
    },
    /// Alternating exponential up times (mean `mtbf`) and repair times (mean `mttr`),
    /// per node for node faults, over `[from, until)`.
    Mtbf {
        /// Mean time between failures.
        mtbf: SimDuration,
        /// Mean time to repair (`None`: a failure is permanent).
        mttr: Option<SimDuration>,
        /// Window start.
        from: SimTime,
        /// Window end (`None`: the end of the run).
        until: Option<SimTime>,
    },
}

/// One validated `spec.faults` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    /// What.
    pub kind: FaultKind,
    /// On what.
    pub target: Target,
    /// When.
    pub timing: Timing,
    /// Where it is written (`spec.faults[i]`).
    pub field: String,
}

/// One occurrence of a fault in a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Occurrence {
    /// The entry it comes from (index into the plan).
    pub fault: usize,
    /// What.
    pub kind: FaultKind,
    /// The nodes it acts on (node faults).
    pub nodes: Vec<String>,
    /// The pods it acts on (pod faults).
    pub pods: Option<Target>,
    /// Start.
    pub start: SimTime,
    /// End (`None`: never healed, or an instant).
    pub end: Option<SimTime>,
    /// A description for the journal and the plots (`node crash node-2`).
    pub description: String,
}

/// The validated `spec.faults`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FaultPlan {
    /// The entries, in file order.
    pub faults: Vec<Fault>,
}

impl FaultPlan {
    /// Whether there are no faults.
    pub fn is_empty(&self) -> bool {
        self.faults.is_empty()
    }

    /// The occurrences of every fault for a run with `seed` ending at `horizon`, ordered
    /// by start time (ties in file order).
    pub fn occurrences(&self, seed: u64, horizon: SimTime) -> Vec<Occurrence> {
        let mut rng = RngStreams::new(seed).stream("faults");
        let mut out = Vec::new();
        for (i, f) in self.faults.iter().enumerate() {
            let nodes = match &f.target {
                Target::Nodes(n, _) => n.clone(),
                _ => Vec::new(),
            };
            let pods = matches!(f.target, Target::Pods { .. }).then(|| f.target.clone());
            let occ = |start: SimTime, end: Option<SimTime>, nodes: Vec<String>, label: String| {
                let end = if f.kind.instant() { None } else { end };
                Occurrence {
                    fault: i,
                    kind: f.kind,
                    nodes,
                    pods: pods.clone(),
                    start,
                    end,
                    description: f.kind.describe(&label).trim_end().to_string(),
                }
            };
            let node_label = |n: &str| format!("node/{n}");
            match &f.timing {
                Timing::At { at, end } => {
                    out.push(occ(*at, *end, nodes.clone(), f.target.label()));
                }
                Timing::Rate {
                    per_second,
                    from,
                    until,
                    duration,
                } => {
                    let until = until.unwrap_or(horizon).min(horizon);
                    for t in process::poisson(&mut rng, *per_second, *from, until) {
                        let end = duration.map(|d| t + d);
                        if f.kind.on_nodes() && f.kind != FaultKind::ZoneOutage {
                            // Each event hits one of the targeted nodes.
                            let n = nodes[below(&mut rng, nodes.len() as u64) as usize].clone();
                            let label = node_label(&n);
                            out.push(occ(t, end, vec![n], label));
                        } else {
                            out.push(occ(t, end, nodes.clone(), f.target.label()));
                        }
                    }
                }
                Timing::Mtbf {
                    mtbf,
                    mttr,
                    from,
                    until,
                } => {
                    let until = until.unwrap_or(horizon).min(horizon);
                    if f.kind.on_nodes() && f.kind != FaultKind::ZoneOutage {
                        // Every node fails and is repaired on its own.
                        for n in &nodes {
                            for (s, e) in process::failures(&mut rng, *mtbf, *mttr, *from, until) {
                                out.push(occ(s, e, vec![n.clone()], node_label(n)));
                            }
                        }
                    } else {
                        for (s, e) in process::failures(&mut rng, *mtbf, *mttr, *from, until) {
                            out.push(occ(s, e, nodes.clone(), f.target.label()));
                        }
                    }
                }
            }
        }
        out.sort_by_key(|o| o.start);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(timing: Timing, kind: FaultKind, nodes: &[&str]) -> FaultPlan {
        FaultPlan {
            faults: vec![Fault {
                kind,
                target: Target::Nodes(
                    nodes.iter().map(|s| s.to_string()).collect(),
                    "pool=a".into(),
                ),
                timing,
                field: "spec.faults[0]".into(),
            }],
        }
    }

    #[test]
    fn placed_fault_is_one_occurrence() {
        let p = plan(
            Timing::At {
                at: SimTime::from_secs(60),
                end: Some(SimTime::from_secs(120)),
            },
            FaultKind::KubeletStop,
            &["a", "b"],
        );
        let o = p.occurrences(1, SimTime::from_secs(600));
        assert_eq!(o.len(), 1);
        assert_eq!(o[0].nodes, vec!["a", "b"]);
        assert_eq!(o[0].end, Some(SimTime::from_secs(120)));
        assert_eq!(o[0].description, "kubelet stopped pool=a");
    }

    #[test]
    fn processes_are_seeded_and_sorted() {
        let p = plan(
            Timing::Mtbf {
                mtbf: SimDuration::from_secs(600),
                mttr: Some(SimDuration::from_secs(60)),
                from: SimTime::ZERO,
                until: None,
            },
            FaultKind::NodeCrash,
            &["a", "b", "c"],
        );
        let h = SimTime::from_secs(3600 * 10);
        let a = p.occurrences(5, h);
        assert_eq!(a, p.occurrences(5, h));
        assert_ne!(a, p.occurrences(6, h));
        assert!(a.windows(2).all(|w| w[0].start <= w[1].start));
        assert!(a.iter().all(|o| o.nodes.len() == 1 && o.start < h));
        for n in ["a", "b", "c"] {
            assert!(a.iter().any(|o| o.nodes[0] == n), "every node fails");
        }
        let r = plan(
            Timing::Rate {
                per_second: 1.0 / 60.0,
                from: SimTime::from_secs(100),
                until: Some(SimTime::from_secs(1000)),
                duration: Some(SimDuration::from_secs(30)),
            },
            FaultKind::Partition,
            &["a", "b"],
        );
        let o = r.occurrences(2, h);
        assert!(!o.is_empty());
        assert!(o.iter().all(|o| o.start >= SimTime::from_secs(100)
            && o.start < SimTime::from_secs(1000)
            && o.end == Some(o.start + SimDuration::from_secs(30))));
    }
}
