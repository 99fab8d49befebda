//! Faults as the kubelet sees them: a container exit injected by a `containerCrash` or
//! `oomKill` fault goes through the same path as an exit of the container's own (restart
//! per `restartPolicy` with CrashLoopBackOff), and a `probeFlap` window makes the
//! readiness or liveness probe fail. The probe worker publishes a failure after
//! `failureThreshold` consecutive failed probes and a recovery after `successThreshold`
//! successes (pkg/kubelet/prober/worker.go: doProbe), so a readiness flap takes the pod
//! out of its endpoints `failureThreshold × periodSeconds` after the window opens and
//! back `successThreshold × periodSeconds` after it closes; a window shorter than
//! `failureThreshold` periods has no effect. A liveness flap kills the container once
//! per window, `failureThreshold × periodSeconds` after it opens.

use super::{Kubelet, set_ready};
use crate::api::Kind;
use crate::controllers::Ctx;
use crate::engine::{SimDuration, SimTime};
use crate::faults::plan::Probe;
use crate::faults::state::InjectedExit;

impl Kubelet {
    /// Applies an injected exit to a pod whose containers are running.
    pub(super) fn injected_exit(&mut self, id: u32, exit: InjectedExit, ctx: &mut Ctx<'_>) {
        let now = ctx.now;
        let Some(p) = ctx.store.pods.get(id) else {
            return;
        };
        let (ns, name) = (p.meta.namespace.clone(), p.meta.name.clone());
        let c = p
            .spec
            .containers
            .first()
            .map(|c| c.name.clone())
            .unwrap_or_default();
        let oom = exit.reason == "OOMKilled";
        if oom {
            // Upstream reports it as lastState.terminated {reason: OOMKilled, exitCode: 137}.
            ctx.store
                .record_event(now, Kind::Pod, &ns, &name, "OOMKilled", || {
                    format!("Container {c} was OOM-killed (exit code 137)")
                });
        }
        self.container_exited(id, exit.code, ctx);
        if oom
            && ctx
                .store
                .pods
                .get(id)
                .is_some_and(|p| p.status.phase.is_terminal())
        {
            ctx.store.update_pod(id, now, |p| {
                for c in &mut p.status.containers {
                    c.reason = "OOMKilled".into();
                }
            });
        }
    }

    /// Applies the pod's probe-flapping windows at `now` and restores the readiness the
    /// kubelet had published (after the node lifecycle controller marked the pod not
    /// ready while this kubelet could not report). Returns when to look again.
    pub(super) fn fault_pass(&mut self, id: u32, ctx: &mut Ctx<'_>) -> Option<SimTime> {
        let now = ctx.now;
        let p = ctx.store.pods.get(id)?;
        let flaps: Vec<_> = self
            .faults
            .as_ref()
            .map(|f| f.borrow().flaps(id).to_vec())
            .unwrap_or_default();
        let mut next: Option<SimTime> = None;
        let mut soon = |t: SimTime| next = Some(next.map_or(t, |n: SimTime| n.min(t)));
        let mut unready = false;
        let mut kill = false;
        let mut done = Vec::new();
        for (i, fl) in flaps.iter().enumerate() {
            let probe = p.spec.containers.iter().find_map(|c| match fl.probe {
                Probe::Readiness => c.readiness.as_ref(),
                Probe::Liveness => c.liveness.as_ref(),
            });
            let Some(pr) = probe else {
                // No such probe: nothing can fail.
                done.push(i);
                continue;
            };
            let period = SimDuration::from_secs(pr.period_seconds.max(1) as u64);
            let times = |n: i32| SimDuration::from_nanos(period.as_nanos() * n.max(1) as u64);
            let fails_at = fl.from + times(pr.failure_threshold);
            if fl.until.is_some_and(|u| u < fails_at) {
                done.push(i);
                continue;
            }
            if now < fails_at {
                soon(fails_at);
                continue;
            }
            match fl.probe {
                Probe::Readiness => {
                    let up_at = fl.until.map(|u| u + times(pr.success_threshold));
                    match up_at {
                        Some(u) if now >= u => done.push(i),
                        Some(u) => {
                            unready = true;
                            soon(u);
                        }
                        None => unready = true,
                    }
                }
                Probe::Liveness => {
                    kill = true;
                    done.push(i);
                }
            }
        }
        if let Some(f) = &self.faults
            && !done.is_empty()
        {
            let mut k = 0;
            f.borrow_mut().retain_flaps(id, |_| {
                k += 1;
                !done.contains(&(k - 1))
            });
        }
        let ready_now = p.status.ready;
        let (ns, name) = (p.meta.namespace.clone(), p.meta.name.clone());
        let r = self.runs.get_mut(&id)?;
        if kill && r.kill_at.is_none_or(|(t, _)| t > now) {
            r.kill_at = Some((now, "Liveness"));
        }
        if unready {
            if !r.flapped && ready_now {
                ctx.store
                    .record_event(now, Kind::Pod, &ns, &name, "Unhealthy", || {
                        "Readiness probe failed".to_string()
                    });
                ctx.store.update_pod(id, now, |p| {
                    for c in &mut p.status.containers {
                        c.ready = false;
                    }
                    set_ready(p, false, now);
                });
            }
            r.flapped = true;
        } else {
            r.flapped = false;
            if r.ready && !ready_now {
                ctx.store.update_pod(id, now, |p| {
                    for c in &mut p.status.containers {
                        c.ready = true;
                    }
                    set_ready(p, true, now);
                });
            }
        }
        next
    }
}
