//! Probe outcomes in closed form. A probe worker (pkg/kubelet/prober/worker.go) probes
//! at its start and every `periodSeconds` after, skipping probes until
//! `initialDelaySeconds` after the container started; the published result follows the
//! threshold rule of [`ProbeWorker`]. The application's behaviour is known in advance
//! (an [`AppModel`] from the backend), so instead of an event per period the kubelet
//! asks for the *next change*: this module steps the shared `ProbeWorker` over the
//! probe ticks until the published result changes or can no longer change.

use super::rules::{ProbeObservation, ProbeResult, ProbeType, ProbeWorker};
use crate::api::objects::Probe;
use crate::engine::{SimDuration, SimTime};

/// How an application behaves relative to its container's start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AppModel {
    /// The startup probe succeeds from this long after start.
    pub started_after: SimDuration,
    /// The readiness probe succeeds from this long after start; `None`: never (a bad version).
    pub ready_after: Option<SimDuration>,
    /// The liveness probe fails from this long after start; `None`: never.
    pub live_for: Option<SimDuration>,
}

impl AppModel {
    /// A healthy application: started, ready and live at once, forever.
    pub fn healthy() -> AppModel {
        AppModel {
            started_after: SimDuration::ZERO,
            ready_after: Some(SimDuration::ZERO),
            live_for: None,
        }
    }
}

/// A published change of a probe worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    /// When the probe that caused it ran.
    pub at: SimTime,
    /// The new published result.
    pub published: ProbeResult,
    /// Whether the kubelet kills the container.
    pub kill: bool,
}

/// The first published change of a new worker of `kind` for `probe`, whose ticks are
/// `origin + k * period`. Probes run only at ticks at or after `not_before` (the later of
/// the startup gate and `initialDelaySeconds` after start). `raw(t)` is the raw result
/// at `t`; it must be constant from `settled` on. `None`: the result never changes.
pub fn first_transition(
    kind: ProbeType,
    probe: &Probe,
    origin: SimTime,
    not_before: SimTime,
    settled: SimTime,
    raw: impl Fn(SimTime) -> ProbeResult,
) -> Option<Transition> {
    let period = SimDuration::from_secs(probe.period_seconds.max(1) as u64).as_nanos();
    let mut worker = ProbeWorker::new(
        kind,
        probe.success_threshold.max(1),
        probe.failure_threshold.max(1),
    );
    let mut published = worker.published();
    let k0 = not_before.since(origin).as_nanos().div_ceil(period);
    let settle_steps = (probe.success_threshold.max(probe.failure_threshold).max(1) as u64) + 1;
    let mut after_settled = 0u64;
    // Bounded: the raw result is constant after `settled`, so a change comes within the
    // larger threshold of ticks after it, or never.
    for k in k0.. {
        let t = SimTime(origin.as_nanos().saturating_add(k.saturating_mul(period)));
        let ProbeObservation {
            published: p,
            kill_container,
        } = worker.observe(raw(t));
        if p != published || kill_container {
            return Some(Transition {
                at: t,
                published: p,
                kill: kill_container,
            });
        }
        published = p;
        if t >= settled {
            after_settled += 1;
            if after_settled > settle_steps {
                return None;
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::objects::ProbeHandler;

    fn probe(delay: i32, period: i32, success: i32, failure: i32) -> Probe {
        Probe {
            handler: ProbeHandler::TcpSocket("80".into()),
            initial_delay_seconds: delay,
            timeout_seconds: 1,
            period_seconds: period,
            success_threshold: success,
            failure_threshold: failure,
        }
    }

    fn s(x: u64) -> SimTime {
        SimTime::from_secs(x)
    }

    #[test]
    fn readiness_after_warm_up() {
        // Worker ticks at 0, 10, 20, ...; container started at 3 s; ready after 25 s of run.
        let p = probe(5, 10, 2, 3);
        let ready_from = s(3 + 25);
        let t = first_transition(ProbeType::Readiness, &p, s(0), s(3 + 5), ready_from, |t| {
            if t >= ready_from {
                ProbeResult::Success
            } else {
                ProbeResult::Failure
            }
        })
        .unwrap();
        // Ticks 30 and 40 succeed; the second reaches successThreshold 2.
        assert_eq!(
            (t.at, t.published, t.kill),
            (s(40), ProbeResult::Success, false)
        );
    }

    #[test]
    fn never_ready_never_changes() {
        let p = probe(0, 10, 1, 3);
        assert_eq!(
            first_transition(ProbeType::Readiness, &p, s(0), s(0), s(0), |_| {
                ProbeResult::Failure
            }),
            None
        );
    }

    #[test]
    fn liveness_failure_kills_after_threshold() {
        let p = probe(0, 10, 1, 3);
        let fail_from = s(61);
        let t = first_transition(ProbeType::Liveness, &p, s(0), s(2), fail_from, |t| {
            if t >= fail_from {
                ProbeResult::Failure
            } else {
                ProbeResult::Success
            }
        })
        .unwrap();
        // Failures at 70, 80, 90: the third kills.
        assert_eq!(
            (t.at, t.published, t.kill),
            (s(90), ProbeResult::Failure, true)
        );
    }

    #[test]
    fn startup_probe_success_or_kill() {
        let p = probe(0, 10, 1, 3);
        let up = s(25);
        let t = first_transition(ProbeType::Startup, &p, s(0), s(0), up, |t| {
            if t >= up {
                ProbeResult::Success
            } else {
                ProbeResult::Failure
            }
        })
        .unwrap();
        // Failures at 0, 10, 20 reach failureThreshold 3 before the app is up: killed at 20.
        assert_eq!((t.at, t.kill), (s(20), true));
        let p = probe(0, 10, 1, 5);
        let t = first_transition(ProbeType::Startup, &p, s(0), s(0), up, |t| {
            if t >= up {
                ProbeResult::Success
            } else {
                ProbeResult::Failure
            }
        })
        .unwrap();
        assert_eq!(
            (t.at, t.published, t.kill),
            (s(30), ProbeResult::Success, false)
        );
    }
}
