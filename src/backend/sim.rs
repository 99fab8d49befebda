//! The simulated backend: nodes that heartbeat every lease-renew interval until they
//! crash, and containers whose start latency, run time, exit code and stop time come
//! from a model. Per-pod knobs are annotations under `kubetwin.dev/` on the pod (or its
//! template), so manifests stay valid Kubernetes:
//!
//! | annotation | meaning | default |
//! |---|---|---|
//! | `kubetwin.dev/pull-latency` | image pull time when the image is not on the node | drawn U(2s, 6s) |
//! | `kubetwin.dev/start-latency` | container create + start time | drawn U(0.5s, 1.5s) |
//! | `kubetwin.dev/run-duration` | containers exit this long after starting | run forever |
//! | `kubetwin.dev/exit-code` | exit code when they do | 0 |
//! | `kubetwin.dev/termination-delay` | time to exit after SIGTERM (SIGKILL at the grace period) | 0s |
//! | `kubetwin.dev/startup-duration` | the startup probe succeeds this long after start | 0s |
//! | `kubetwin.dev/ready-after` | the readiness probe succeeds this long after start (`never`: a version that never becomes ready) | 0s |
//! | `kubetwin.dev/liveness-fails-after` | the liveness probe fails from this long after start | never |
//! | `kubetwin.dev/liveness-mtbf` | mean time between liveness failures: each start draws its failure time from an exponential distribution (stream `backend/app-failures`) | none |
//!
//! Images listed as unavailable (a registry without them) fail to pull: ErrImagePull,
//! then ImagePullBackOff.
//!
//! Draws come from the `backend/start-latency` stream, so they never shift other streams.

use super::{Backend, ContainerEvent, ContainerEventKind};
use crate::api::Pod;
use crate::engine::rng::{SimRng, unit_f64};
use crate::engine::{RngStreams, SimDuration, SimTime};
use std::collections::{BTreeMap, BTreeSet};

/// Annotation prefix of simulation knobs.
pub const ANNOTATION_PREFIX: &str = "kubetwin.dev/";
/// Image pull latency annotation.
pub const PULL_LATENCY: &str = "kubetwin.dev/pull-latency";
/// Container start latency annotation.
pub const START_LATENCY: &str = "kubetwin.dev/start-latency";
/// Run duration annotation.
pub const RUN_DURATION: &str = "kubetwin.dev/run-duration";
/// Exit code annotation.
pub const EXIT_CODE: &str = "kubetwin.dev/exit-code";
/// Termination delay annotation.
pub const TERMINATION_DELAY: &str = "kubetwin.dev/termination-delay";
/// Startup duration annotation (startup probe).
pub const STARTUP_DURATION: &str = "kubetwin.dev/startup-duration";
/// Readiness warm-up annotation (`never` for a version that never becomes ready).
pub const READY_AFTER: &str = "kubetwin.dev/ready-after";
/// Liveness failure annotation.
pub const LIVENESS_FAILS_AFTER: &str = "kubetwin.dev/liveness-fails-after";
/// Liveness failure rate annotation (mean time between failures).
pub const LIVENESS_MTBF: &str = "kubetwin.dev/liveness-mtbf";

/// The kubelet's lease renew interval: 25% of the 40 s lease duration
/// (pkg/kubelet/nodelease: renewIntervalFraction 0.25).
pub const LEASE_RENEW_INTERVAL: SimDuration = SimDuration::from_secs(10);

/// A pod's simulation knobs, parsed from its annotations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Behaviour {
    /// Fixed pull latency.
    pub pull_latency: Option<SimDuration>,
    /// Fixed start latency.
    pub start_latency: Option<SimDuration>,
    /// Time from start to exit.
    pub run_duration: Option<SimDuration>,
    /// Exit code at the end of the run.
    pub exit_code: i32,
    /// Time to exit after SIGTERM.
    pub termination_delay: SimDuration,
    /// How the application answers probes.
    pub app: crate::controllers::kubelet::probes::AppModel,
    /// Mean time between liveness failures (drawn per container start).
    pub liveness_mtbf: Option<SimDuration>,
}

/// A malformed simulation annotation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("annotation {key}: {message}")]
pub struct BehaviourError {
    /// The annotation key.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

impl Behaviour {
    /// Parses the knobs; unknown `kubetwin.dev/` keys are errors (typos should not be
    /// silently ignored).
    pub fn from_annotations(a: &BTreeMap<String, String>) -> Result<Behaviour, BehaviourError> {
        let mut b = Behaviour::default();
        for (k, v) in a.range(ANNOTATION_PREFIX.to_string()..) {
            if !k.starts_with(ANNOTATION_PREFIX) {
                break;
            }
            let dur = || {
                SimDuration::parse(v).map_err(|e| BehaviourError {
                    key: k.clone(),
                    message: e.to_string(),
                })
            };
            match k.as_str() {
                PULL_LATENCY => b.pull_latency = Some(dur()?),
                START_LATENCY => b.start_latency = Some(dur()?),
                RUN_DURATION => b.run_duration = Some(dur()?),
                TERMINATION_DELAY => b.termination_delay = dur()?,
                STARTUP_DURATION => b.app.started_after = dur()?,
                READY_AFTER => b.app.ready_after = if v == "never" { None } else { Some(dur()?) },
                LIVENESS_FAILS_AFTER => b.app.live_for = Some(dur()?),
                LIVENESS_MTBF => b.liveness_mtbf = Some(dur()?),
                EXIT_CODE => {
                    b.exit_code = v.parse().map_err(|_| BehaviourError {
                        key: k.clone(),
                        message: format!("invalid exit code {v:?}"),
                    })?
                }
                _ => {
                    return Err(BehaviourError {
                        key: k.clone(),
                        message: "unknown kubetwin annotation (pull-latency, start-latency, run-duration, exit-code, termination-delay, startup-duration, ready-after, liveness-fails-after, liveness-mtbf)".into(),
                    });
                }
            }
        }
        Ok(b)
    }
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour {
            pull_latency: None,
            start_latency: None,
            run_duration: None,
            exit_code: 0,
            termination_delay: SimDuration::ZERO,
            app: crate::controllers::kubelet::probes::AppModel::healthy(),
            liveness_mtbf: None,
        }
    }
}

#[derive(Debug, Clone)]
struct SimNode {
    registered: SimTime,
    crashed_at: Option<SimTime>,
    /// When its kubelet stopped reporting (a `kubeletStop` or `partition` fault) and
    /// how many such faults hold it; its containers keep running.
    silenced: Option<(SimTime, u32)>,
    incarnation: u64,
    images: BTreeSet<String>,
}

/// The simulated backend.
#[derive(Debug)]
pub struct SimBackend {
    nodes: BTreeMap<String, SimNode>,
    rng: SimRng,
    failures: SimRng,
    unavailable_images: BTreeSet<String>,
    /// Faults on image pulls: extra latency, and how many registry outages are on.
    pull_faults: (SimDuration, u32),
}

impl SimBackend {
    /// A backend drawing latencies from the run's streams.
    pub fn new(streams: &RngStreams) -> SimBackend {
        SimBackend {
            nodes: BTreeMap::new(),
            rng: streams.stream("backend/start-latency"),
            failures: streams.stream("backend/app-failures"),
            unavailable_images: BTreeSet::new(),
            pull_faults: (SimDuration::ZERO, 0),
        }
    }

    /// The node's kubelet stops reporting to the control plane (a stopped kubelet or a
    /// partition): no more heartbeats or status updates, containers keep running.
    /// Nested calls need as many [`SimBackend::unsilence_node`] calls.
    pub fn silence_node(&mut self, node: &str, now: SimTime) {
        if let Some(n) = self.nodes.get_mut(node) {
            n.silenced = Some(match n.silenced {
                Some((at, depth)) => (at, depth + 1),
                None => (now, 1),
            });
        }
    }

    /// Ends one silencing fault; the last one lets the kubelet heartbeat again from
    /// `now` with its containers as they were (same incarnation).
    pub fn unsilence_node(&mut self, node: &str, now: SimTime) {
        if let Some(n) = self.nodes.get_mut(node) {
            match n.silenced {
                Some((at, depth)) if depth > 1 => n.silenced = Some((at, depth - 1)),
                Some(_) => {
                    n.silenced = None;
                    if n.crashed_at.is_none() {
                        n.registered = now;
                    }
                }
                None => {}
            }
        }
    }

    /// Adds (or, with `add` false, removes) extra image pull latency.
    pub fn slow_pulls(&mut self, extra: SimDuration, add: bool) {
        let e = &mut self.pull_faults.0;
        *e = if add {
            *e + extra
        } else {
            SimDuration::from_nanos(e.as_nanos().saturating_sub(extra.as_nanos()))
        };
    }

    /// Starts (or ends) a registry outage: while one is on, every pull fails.
    pub fn registry_outage(&mut self, on: bool) {
        let d = &mut self.pull_faults.1;
        *d = if on { *d + 1 } else { d.saturating_sub(1) };
    }

    /// Marks images as missing from the registry (normalised like `nginx` ->
    /// `nginx:latest`): pulls fail with ErrImagePull.
    pub fn set_unavailable_images(&mut self, images: &[String]) {
        self.unavailable_images = images.iter().map(|i| normalize_image(i)).collect();
    }

    fn draw(&mut self, lo: f64, hi: f64) -> SimDuration {
        SimDuration::from_secs_f64(lo + (hi - lo) * unit_f64(&mut self.rng))
    }
}

impl Backend for SimBackend {
    fn node_alive(&self, node: &str) -> bool {
        self.nodes
            .get(node)
            .is_some_and(|n| n.crashed_at.is_none() && n.silenced.is_none())
    }

    fn last_heartbeat(&self, node: &str, now: SimTime) -> Option<SimTime> {
        let n = self.nodes.get(node)?;
        let until = n.crashed_at.map_or(now, |c| c.min(now));
        let until = n.silenced.map_or(until, |(s, _)| s.min(until));
        let since = until.since(n.registered).as_nanos();
        let step = LEASE_RENEW_INTERVAL.as_nanos();
        Some(SimTime(n.registered.as_nanos() + since - since % step))
    }

    fn node_incarnation(&self, node: &str) -> u64 {
        self.nodes.get(node).map_or(0, |n| n.incarnation)
    }

    fn add_node(&mut self, node: &str, images: &[String], now: SimTime) {
        self.nodes.insert(
            node.to_string(),
            SimNode {
                registered: now,
                crashed_at: None,
                silenced: None,
                incarnation: 0,
                images: images.iter().cloned().collect(),
            },
        );
    }

    fn start(
        &mut self,
        pod: u32,
        p: &Pod,
        node: &str,
        attempt: u32,
        now: SimTime,
        out: &mut Vec<(SimTime, ContainerEvent)>,
    ) {
        // Annotations were validated at load time; a bad one here falls back to defaults.
        let b = Behaviour::from_annotations(&p.meta.annotations).unwrap_or_default();
        let mut latency = SimDuration::ZERO;
        let missing: Vec<String> = {
            let n = self.nodes.get(node);
            p.spec
                .containers
                .iter()
                .map(|c| normalize_image(&c.image))
                .filter(|img| n.is_none_or(|n| !n.images.contains(img)))
                .collect()
        };
        let ev = |kind| ContainerEvent {
            pod,
            uid: p.meta.uid,
            attempt,
            kind,
        };
        if !missing.is_empty() {
            latency = latency + b.pull_latency.unwrap_or_else(|| self.draw(2.0, 6.0));
            latency = latency + self.pull_faults.0;
            if self.pull_faults.1 > 0 || missing.iter().any(|i| self.unavailable_images.contains(i))
            {
                out.push((now + latency, ev(ContainerEventKind::PullFailed)));
                return;
            }
            if let Some(n) = self.nodes.get_mut(node) {
                n.images.extend(missing);
            }
        }
        latency = latency + b.start_latency.unwrap_or_else(|| self.draw(0.5, 1.5));
        let started = now + latency;
        out.push((started, ev(ContainerEventKind::Started)));
        if let Some(run) = b.run_duration {
            out.push((started + run, ev(ContainerEventKind::Exited(b.exit_code))));
        }
    }

    fn adopt(
        &mut self,
        pod: u32,
        p: &Pod,
        _node: &str,
        now: SimTime,
        out: &mut Vec<(SimTime, ContainerEvent)>,
    ) {
        let b = Behaviour::from_annotations(&p.meta.annotations).unwrap_or_default();
        let ev = |kind| ContainerEvent {
            pod,
            uid: p.meta.uid,
            attempt: 0,
            kind,
        };
        out.push((now, ev(ContainerEventKind::Started)));
        if let Some(run) = b.run_duration {
            out.push((now + run, ev(ContainerEventKind::Exited(b.exit_code))));
        }
    }

    fn stop(
        &mut self,
        pod: u32,
        p: &Pod,
        attempt: u32,
        grace_seconds: i64,
        now: SimTime,
        out: &mut Vec<(SimTime, ContainerEvent)>,
    ) {
        let b = Behaviour::from_annotations(&p.meta.annotations).unwrap_or_default();
        let grace = SimDuration::from_secs(grace_seconds.max(0) as u64);
        let (after, code) = if b.termination_delay <= grace {
            (b.termination_delay, 0)
        } else {
            (grace, 137)
        };
        out.push((
            now + after,
            ContainerEvent {
                pod,
                uid: p.meta.uid,
                attempt,
                kind: ContainerEventKind::Stopped(code),
            },
        ));
    }

    fn app_model(&mut self, p: &Pod) -> crate::controllers::kubelet::probes::AppModel {
        let b = Behaviour::from_annotations(&p.meta.annotations).unwrap_or_default();
        let mut app = b.app;
        if let Some(mtbf) = b.liveness_mtbf {
            // Exponential time to the next failure: -ln(1 - u) * mean.
            let u = unit_f64(&mut self.failures);
            let draw = SimDuration::from_secs_f64(-(1.0 - u).ln() * mtbf.as_secs_f64());
            app.live_for = Some(app.live_for.map_or(draw, |d| d.min(draw)));
        }
        app
    }

    fn crash_node(&mut self, node: &str, now: SimTime) {
        if let Some(n) = self.nodes.get_mut(node) {
            n.crashed_at.get_or_insert(now);
        }
    }

    fn restart_node(&mut self, node: &str, now: SimTime) {
        if let Some(n) = self.nodes.get_mut(node) {
            n.crashed_at = None;
            n.registered = now;
            n.incarnation += 1;
            // A stopped kubelet stays stopped across the machine's restart.
            if let Some((_, depth)) = n.silenced {
                n.silenced = Some((now, depth));
            }
        }
    }

    fn remove_node(&mut self, node: &str) {
        self.nodes.remove(node);
    }

    fn down_nodes(&self) -> Vec<String> {
        self.nodes
            .iter()
            .filter(|(_, n)| n.crashed_at.is_some() || n.silenced.is_some())
            .map(|(k, _)| k.clone())
            .collect()
    }
}

/// Normalises an image reference the way the container runtime does for cache hits:
/// a reference without tag or digest means `:latest`.
pub fn normalize_image(image: &str) -> String {
    let last = image.rsplit('/').next().unwrap_or(image);
    if last.contains(':') || image.contains('@') {
        image.to_string()
    } else {
        format!("{image}:latest")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heartbeats_freeze_on_crash() {
        let mut b = SimBackend::new(&RngStreams::new(1));
        b.add_node("n", &[], SimTime::from_secs(3));
        assert_eq!(
            b.last_heartbeat("n", SimTime::from_secs(27)),
            Some(SimTime::from_secs(23))
        );
        b.crash_node("n", SimTime::from_secs(40));
        assert_eq!(
            b.last_heartbeat("n", SimTime::from_secs(100)),
            Some(SimTime::from_secs(33))
        );
        assert!(!b.node_alive("n"));
        assert_eq!(b.down_nodes(), vec!["n".to_string()]);
    }

    #[test]
    fn silenced_kubelet_keeps_its_incarnation() {
        let mut b = SimBackend::new(&RngStreams::new(1));
        b.add_node("n", &[], SimTime::ZERO);
        b.silence_node("n", SimTime::from_secs(25));
        b.silence_node("n", SimTime::from_secs(30));
        assert!(!b.node_alive("n"));
        assert_eq!(b.down_nodes(), vec!["n".to_string()]);
        assert_eq!(
            b.last_heartbeat("n", SimTime::from_secs(100)),
            Some(SimTime::from_secs(20))
        );
        b.unsilence_node("n", SimTime::from_secs(100));
        assert!(!b.node_alive("n"), "still held by the second fault");
        b.unsilence_node("n", SimTime::from_secs(105));
        assert!(b.node_alive("n"));
        assert_eq!(b.node_incarnation("n"), 0);
        assert_eq!(
            b.last_heartbeat("n", SimTime::from_secs(110)),
            Some(SimTime::from_secs(105))
        );
    }

    #[test]
    fn behaviour_annotations() {
        let mut a = BTreeMap::new();
        a.insert(RUN_DURATION.to_string(), "10m".to_string());
        a.insert(EXIT_CODE.to_string(), "3".to_string());
        a.insert("other.io/x".to_string(), "y".to_string());
        let b = Behaviour::from_annotations(&a).unwrap();
        assert_eq!(b.run_duration, Some(SimDuration::from_secs(600)));
        assert_eq!(b.exit_code, 3);
        a.insert("kubetwin.dev/typo".into(), "1".into());
        assert!(Behaviour::from_annotations(&a).is_err());
    }

    #[test]
    fn images() {
        assert_eq!(normalize_image("nginx"), "nginx:latest");
        assert_eq!(normalize_image("nginx:1.25"), "nginx:1.25");
        assert_eq!(normalize_image("reg:5000/app"), "reg:5000/app:latest");
    }
}
