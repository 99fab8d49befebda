//! What each fault does to the running simulation. A fault's start and end are events
//! of the run; both are journaled (`type: Fault`) and drawn on the plots.
//!
//! | kind | start | end |
//! |---|---|---|
//! | `nodeCrash`, `zoneOutage` | the machines crash (as `crashNode`) | they restart (as `restartNode`) |
//! | `kubeletStop`, `partition` | heartbeats and status updates stop; containers keep running | heartbeats resume; the kubelet resyncs its pods as they are |
//! | `containerCrash`, `oomKill` | a running container of a matching pod exits (1, or 137 OOMKilled) | - |
//! | `probeFlap` | the matching pods' probe fails until the end | - |
//! | `slowImagePull`, `registryOutage` | pulls take longer, or fail | pulls are normal |
//! | `watchLatency` | controllers see store changes late | delivery catches up |
//! | `schedulerDown` | no scheduling cycles | the scheduler resumes |
//!
//! Everything downstream (NotReady after node-monitor-grace-period, the unreachable
//! taints, eviction after tolerationSeconds, CrashLoopBackOff, ImagePullBackOff) is the
//! controllers' own upstream behaviour.

use super::Runtime;
use crate::api::{Kind, PodPhase};
use crate::backend::Backend;
use crate::controllers::Key;
use crate::engine::rng::below;
use crate::engine::{SimDuration, SimTime};
use crate::faults::plan::{FaultKind, Target, Timing};
use crate::faults::state::{Flap, InjectedExit};

/// A fault as it happened in a run, for `summary.json`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FaultRecord {
    /// The kind (`nodeCrash`, ...).
    pub kind: &'static str,
    /// What it hit (`node crash node/node-2`, with the pods for container faults).
    pub description: String,
    /// When it started (seconds).
    pub start_s: f64,
    /// When it was healed (seconds; `None`: not within the run, or an instant).
    pub end_s: Option<f64>,
    /// The `spec.faults` entry it comes from (`spec.faults[0]`, `swarm`).
    pub source: String,
}

impl FaultRecord {
    /// The fault as a report annotation: a window from its start to its healing, or an
    /// instant when it has no end within the run.
    pub fn annotation(&self) -> crate::report::annotations::Annotation {
        use crate::report::annotations::{Annotation, AnnotationKind};
        let at = |s: f64| SimTime::ZERO + SimDuration::from_millis((s * 1000.0).round() as u64);
        match self.end_s {
            Some(end) => Annotation::window(
                at(self.start_s),
                at(end),
                AnnotationKind::Fault,
                self.description.clone(),
            ),
            None => Annotation::instant(
                at(self.start_s),
                AnnotationKind::Fault,
                self.description.clone(),
            ),
        }
    }
}

impl Runtime<'_> {
    /// Schedules the fault occurrences due by `stop`.
    pub(super) fn schedule_faults(&mut self, stop: SimTime) {
        for i in 0..self.fault_occ.len() {
            let (start, end) = (self.fault_occ[i].start, self.fault_occ[i].end);
            if start > stop {
                continue;
            }
            if start == SimTime::ZERO {
                // In effect from the start, before the cluster's first instant settles.
                self.fault_start(i, SimTime::ZERO);
            } else {
                self.queue.schedule(start, super::Ev::FaultStart(i));
            }
            if let Some(e) = end
                && e <= stop
            {
                self.queue.schedule(e, super::Ev::FaultEnd(i));
            }
        }
    }

    /// Pods a pod fault targets at `now`: bound, not terminal, not being deleted, matching
    /// the selector; `running` keeps only those whose phase is Running.
    fn fault_pods(&self, target: &Target, running: bool) -> Vec<u32> {
        let Target::Pods {
            namespace,
            selector,
        } = target
        else {
            return Vec::new();
        };
        self.store
            .pods
            .iter()
            .filter(|(_, p)| {
                namespace.as_ref().is_none_or(|ns| *ns == p.meta.namespace)
                    && selector
                        .iter()
                        .all(|(k, v)| p.meta.labels.get(k) == Some(v))
                    && !p.spec.node_name.is_empty()
                    && p.meta.deletion.is_none()
                    && !p.status.phase.is_terminal()
                    && (!running || p.status.phase == PodPhase::Running)
            })
            .map(|(id, _)| id)
            .collect()
    }

    fn node_down(&mut self, name: &str, down: bool, now: SimTime) {
        if down {
            self.backend.borrow_mut().crash_node(name, now);
        } else {
            self.backend.borrow_mut().restart_node(name, now);
        }
        if let Some(id) = self.store.nodes.id_of("", name) {
            self.load
                .borrow_mut()
                .set_node_down(&self.store, id, down, now);
        }
    }

    /// A fault occurrence starts.
    pub(super) fn fault_start(&mut self, i: usize, now: SimTime) {
        let o = self.fault_occ[i].clone();
        let mut desc = o.description.clone();
        let kubelet = self.index("kubelet");
        match o.kind {
            FaultKind::NodeCrash | FaultKind::ZoneOutage => {
                for n in &o.nodes {
                    let d = self.crash_depth.entry(n.clone()).or_default();
                    *d += 1;
                    if *d == 1 {
                        self.node_down(n, true, now);
                    }
                }
            }
            FaultKind::KubeletStop | FaultKind::Partition => {
                for n in &o.nodes {
                    self.backend.borrow_mut().silence_node(n, now);
                }
            }
            FaultKind::ContainerCrash | FaultKind::OomKill => {
                let target = o.pods.clone().unwrap_or(Target::Cluster);
                let mut pods = self.fault_pods(&target, true);
                let one = !matches!(self.scenario_faults()[o.fault].timing, Timing::At { .. });
                if one && pods.len() > 1 {
                    let k = below(&mut self.fault_rng, pods.len() as u64) as usize;
                    pods = vec![pods[k]];
                }
                let exit = if o.kind == FaultKind::OomKill {
                    InjectedExit {
                        code: 137,
                        reason: "OOMKilled",
                    }
                } else {
                    InjectedExit {
                        code: 1,
                        reason: "Error",
                    }
                };
                let names: Vec<String> = pods
                    .iter()
                    .filter_map(|id| self.store.pods.get(*id))
                    .map(|p| format!("{}/{}", p.meta.namespace, p.meta.name))
                    .collect();
                desc = format!(
                    "{desc}: {}",
                    if names.is_empty() {
                        "no running pod".to_string()
                    } else {
                        names.join(", ")
                    }
                );
                for id in pods {
                    self.fault_state.borrow_mut().inject_exit(id, exit.clone());
                    self.manager.enqueue(kubelet, Key::new(Kind::Pod, id));
                }
            }
            FaultKind::ProbeFlap(probe) => {
                let target = o.pods.clone().unwrap_or(Target::Cluster);
                for id in self.fault_pods(&target, false) {
                    self.fault_state.borrow_mut().add_flap(
                        id,
                        Flap {
                            probe,
                            from: now,
                            until: o.end,
                        },
                    );
                    self.manager.enqueue(kubelet, Key::new(Kind::Pod, id));
                }
            }
            FaultKind::SlowImagePull(d) => self.backend.borrow_mut().slow_pulls(d, true),
            FaultKind::RegistryOutage => self.backend.borrow_mut().registry_outage(true),
            FaultKind::WatchLatency(d) => self.manager.watch_latency(d, true),
            FaultKind::SchedulerDown => {
                let s = self.index("scheduler");
                self.manager.pause(s, true);
            }
        }
        if o.kind.on_nodes() {
            let idx = self.index("node-lifecycle");
            self.manager.enqueue(idx, Key::SINGLETON);
        }
        self.store.record_fault(now, "FaultStarted", desc.clone());
        self.markers.push((now, desc.clone()));
        self.fault_log.push(FaultRecord {
            kind: o.kind.name(),
            description: desc,
            start_s: now.as_secs_f64(),
            end_s: None,
            source: self.fault_source(o.fault),
        });
        self.fault_log_index.insert(i, self.fault_log.len() - 1);
    }

    /// A fault occurrence is healed.
    pub(super) fn fault_end(&mut self, i: usize, now: SimTime) {
        let o = self.fault_occ[i].clone();
        match o.kind {
            FaultKind::NodeCrash | FaultKind::ZoneOutage => {
                for n in &o.nodes {
                    let d = self.crash_depth.entry(n.clone()).or_default();
                    *d = d.saturating_sub(1);
                    if *d == 0 {
                        self.node_down(n, false, now);
                    }
                }
            }
            FaultKind::KubeletStop | FaultKind::Partition => {
                for n in &o.nodes {
                    self.backend.borrow_mut().unsilence_node(n, now);
                }
            }
            FaultKind::ContainerCrash | FaultKind::OomKill | FaultKind::ProbeFlap(_) => {}
            FaultKind::SlowImagePull(d) => self.backend.borrow_mut().slow_pulls(d, false),
            FaultKind::RegistryOutage => self.backend.borrow_mut().registry_outage(false),
            FaultKind::WatchLatency(d) => self.manager.watch_latency(d, false),
            FaultKind::SchedulerDown => {
                let s = self.index("scheduler");
                self.manager.pause(s, false);
                self.manager.enqueue(s, Key::SINGLETON);
            }
        }
        if o.kind.on_nodes() {
            let idx = self.index("node-lifecycle");
            self.manager.enqueue(idx, Key::SINGLETON);
        }
        let desc = format!("{} healed", o.description);
        self.store.record_fault(now, "FaultHealed", desc.clone());
        self.markers.push((now, desc));
        if let Some(&k) = self.fault_log_index.get(&i) {
            self.fault_log[k].end_s = Some(now.as_secs_f64());
        }
    }

    fn scenario_faults(&self) -> &[crate::faults::Fault] {
        &self.scenario.faults.faults
    }

    fn fault_source(&self, fault: usize) -> String {
        self.scenario
            .faults
            .faults
            .get(fault)
            .map(|f| f.field.clone())
            .unwrap_or_default()
    }
}
