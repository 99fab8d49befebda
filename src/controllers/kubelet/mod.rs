//! The kubelet, for every node at once: admits pods bound to its node against the
//! node's allocatable resources (pkg/kubelet/lifecycle/predicate.go), starts their
//! containers through the [`Backend`](crate::backend::Backend), tracks the container
//! states, restarts them per `restartPolicy` with CrashLoopBackOff
//! (pkg/kubelet/kuberuntime, see [`rules::CrashLoopBackoff`]), computes readiness from
//! the readiness probe's schedule (pkg/kubelet/prober/worker.go: a probe at admission
//! and every period after, skipped until `initialDelaySeconds` after the container
//! started), and carries out graceful deletion (SIGTERM, SIGKILL at the grace period,
//! then the final delete of the pod object).
//!
//! A kubelet whose node is down does nothing: its pods stay as they were in the API
//! until the node lifecycle controller acts.

mod faults;
pub mod probes;
pub mod rules;

use super::{Controller, Ctx, Key, Next, WorkQueue};
use crate::api::objects::{ContainerState, ContainerStatus, Object};
use crate::api::{Change, Kind, Op, Pod, PodPhase, RestartPolicy, Uid};
use crate::backend::{Backend, ContainerEvent, ContainerEventKind};
use crate::engine::{SimDuration, SimTime};
use rules::CrashLoopBackoff;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

/// Shared handle to the runtime's backend.
pub type SharedBackend = Rc<RefCell<dyn Backend>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RunState {
    /// Waiting for the containers to start.
    Starting,
    /// Containers running.
    Running,
    /// Exited; restart due at the given time.
    BackOff(SimTime),
    /// Stop requested (deletion).
    Terminating,
    /// Stopping a container a probe failed; it restarts once stopped.
    Killing,
    /// Terminal or stopped.
    Done,
}

#[derive(Debug, Clone)]
struct PodRun {
    uid: Uid,
    attempt: u32,
    state: RunState,
    admitted_at: SimTime,
    ready_at: Option<SimTime>,
    /// When a liveness or startup probe kills the containers, and which probe.
    kill_at: Option<(SimTime, &'static str)>,
    /// The image-pull back-off of the next failed pull (10 s doubling to 300 s).
    pull_backoff: SimDuration,
    incarnation: u64,
    /// Whether the kubelet has published the containers as ready (restored after the
    /// node lifecycle controller marked them not ready while the kubelet was away).
    ready: bool,
    /// Whether a readiness-flapping fault holds the pod not ready.
    flapped: bool,
    /// The pod was already running when the run began (imported from a cluster dump):
    /// its first start keeps the dumped Ready state and records no `Started` event.
    adopted: bool,
}

/// Image pull back-off bounds (pkg/kubelet: flowcontrol.NewBackOff(10s, 300s)).
const PULL_BACKOFF_INITIAL: SimDuration = SimDuration::from_secs(10);
const PULL_BACKOFF_MAX: SimDuration = SimDuration::from_secs(300);

/// The kubelet controller.
pub struct Kubelet {
    backend: SharedBackend,
    runs: BTreeMap<u32, PodRun>,
    backoff: CrashLoopBackoff,
    faults: Option<crate::faults::SharedFaultState>,
}

impl Kubelet {
    /// A kubelet driving `backend` with the default CrashLoopBackOff (10 s doubling to 300 s).
    pub fn new(backend: SharedBackend) -> Kubelet {
        Kubelet {
            backend,
            runs: BTreeMap::new(),
            backoff: CrashLoopBackoff::new(false, None),
            faults: None,
        }
    }

    /// Consults `faults` for injected container exits and probe flapping.
    pub fn with_faults(mut self, faults: crate::faults::SharedFaultState) -> Kubelet {
        self.faults = Some(faults);
        self
    }
}

fn set_containers(p: &mut Pod, state: ContainerState, ready: bool, reason: &str, restarted: bool) {
    if p.status.containers.len() != p.spec.containers.len() {
        p.status.containers = p
            .spec
            .containers
            .iter()
            .map(|c| ContainerStatus {
                name: c.name.clone(),
                ..Default::default()
            })
            .collect();
    }
    for c in &mut p.status.containers {
        c.state = state.clone();
        c.ready = ready;
        c.reason = reason.to_string();
        if restarted {
            c.restart_count += 1;
        }
    }
}

fn set_ready(p: &mut Pod, ready: bool, now: SimTime) {
    if p.status.ready != ready {
        p.status.ready = ready;
        p.status.ready_transition = Some(now);
    }
}

/// Admission: the pod must fit next to the node's other non-terminal pods
/// (pkg/scheduler/framework/plugins/noderesources Fits, run by the kubelet).
fn admission_failure(ctx: &Ctx<'_>, pod: u32, p: &Pod) -> Option<(String, String)> {
    let node_id = ctx.store.pod_node(pod)?;
    let node = ctx.store.nodes.get(node_id)?;
    let usage = ctx.store.node_usage(node_id);
    let alloc = &node.allocatable;
    if alloc.pods > 0 && usage.pods > alloc.pods {
        return Some((
            "OutOfpods".into(),
            "Pod was rejected: Node didn't have enough resource: pods".into(),
        ));
    }
    let check = |name: &str, req: i64, used_with_pod: i64, cap: i64| {
        (req > 0 && used_with_pod > cap).then(|| {
            (
                format!("Out{name}"),
                format!(
                    "Pod was rejected: Node didn't have enough resource: {name}, requested: {req}, used: {}, capacity: {cap}",
                    used_with_pod - req
                ),
            )
        })
    };
    check(
        "cpu",
        p.requests.cpu_milli,
        usage.requested.cpu_milli,
        alloc.cpu_milli,
    )
    .or_else(|| {
        check(
            "memory",
            p.requests.memory,
            usage.requested.memory,
            alloc.memory,
        )
    })
    .or_else(|| {
        p.requests
            .extended
            .iter()
            .find_map(|(n, v)| check(n, *v, usage.requested.get(n), alloc.get(n)))
    })
}

impl Controller for Kubelet {
    fn name(&self) -> &'static str {
        "kubelet"
    }

    fn on_change(&mut self, change: &Change, store: &crate::api::Store, queue: &mut WorkQueue) {
        if change.kind == Kind::Node && change.op == Op::Modified {
            // A node coming back: its kubelet resyncs every pod bound to it.
            if store
                .nodes
                .get(change.id)
                .is_some_and(|n| n.ready == crate::api::ConditionStatus::True)
            {
                for p in store.pods_on_node(change.id) {
                    queue.add(Key::new(Kind::Pod, p));
                }
            }
            return;
        }
        if change.kind != Kind::Pod {
            return;
        }
        match change.op {
            Op::Deleted => {
                if let Some(Object::Pod(_)) = change.old.as_deref() {
                    self.runs.remove(&change.id);
                    if let Some(f) = &self.faults {
                        f.borrow_mut().forget(change.id);
                    }
                }
            }
            _ => {
                if store
                    .pods
                    .get(change.id)
                    .is_some_and(|p| !p.spec.node_name.is_empty())
                {
                    queue.add(Key::new(Kind::Pod, change.id));
                }
            }
        }
    }

    fn reconcile(&mut self, key: Key, ctx: &mut Ctx<'_>) -> Next {
        let id = key.id;
        let now = ctx.now;
        let Some(p) = ctx.store.pods.get(id) else {
            self.runs.remove(&id);
            return Next::Done;
        };
        let node = p.spec.node_name.clone();
        if node.is_empty() || !self.backend.borrow().node_alive(&node) {
            return Next::Done;
        }
        if self.runs.get(&id).is_some_and(|r| r.uid != p.meta.uid) {
            self.runs.remove(&id);
        }
        // The machine restarted since we started this pod: its containers are gone and
        // are started again (a new attempt, counted as a restart).
        let incarnation = self.backend.borrow().node_incarnation(&node);
        if let Some(r) = self.runs.get_mut(&id)
            && r.incarnation != incarnation
        {
            r.incarnation = incarnation;
            r.ready = false;
            if matches!(r.state, RunState::Starting | RunState::Running) {
                r.state = RunState::BackOff(now);
                ctx.store.update_pod(id, now, |p| {
                    set_containers(p, ContainerState::Waiting, false, "ContainerCreating", true);
                    set_ready(p, false, now);
                });
            } else if r.state == RunState::Terminating {
                r.state = RunState::Done;
            }
        }
        let Some(p) = ctx.store.pods.get(id) else {
            return Next::Done;
        };
        // Graceful deletion.
        if p.meta.deletion.is_some() {
            match self.runs.get(&id).map(|r| r.state) {
                None | Some(RunState::Done) => {
                    ctx.store.remove_pod(id, now);
                    self.runs.remove(&id);
                }
                Some(RunState::Terminating) => {}
                Some(_) => {
                    let grace = p
                        .meta
                        .deletion_grace_seconds
                        .unwrap_or(p.spec.termination_grace_period_seconds);
                    self.stop_containers(
                        id,
                        p,
                        RunState::Terminating,
                        grace,
                        now,
                        &mut ctx.out.container_events,
                    );
                    let (ns, name) = (p.meta.namespace.clone(), p.meta.name.clone());
                    ctx.store
                        .record_event(now, Kind::Pod, &ns, &name, "Killing", || {
                            "Stopping container".to_string()
                        });
                }
            }
            return Next::Done;
        }
        if p.status.phase.is_terminal() {
            return Next::Done;
        }
        let Some(run) = self.runs.get(&id).cloned() else {
            // Admission.
            if let Some((reason, message)) = admission_failure(ctx, id, p) {
                let (ns, name) = (p.meta.namespace.clone(), p.meta.name.clone());
                let msg = message.clone();
                ctx.store.update_pod(id, now, |p| {
                    p.status.phase = PodPhase::Failed;
                    p.status.reason = reason;
                    p.status.message = message;
                });
                ctx.store
                    .record_event(now, Kind::Pod, &ns, &name, "OutOfResources", || msg);
                return Next::Done;
            }
            self.runs.insert(
                id,
                PodRun {
                    uid: p.meta.uid,
                    attempt: 0,
                    state: RunState::Starting,
                    admitted_at: now,
                    ready_at: None,
                    kill_at: None,
                    pull_backoff: PULL_BACKOFF_INITIAL,
                    incarnation: self.backend.borrow().node_incarnation(&node),
                    ready: false,
                    flapped: false,
                    adopted: p.status.phase == PodPhase::Running,
                },
            );
            if p.status.phase == PodPhase::Running {
                // Already running in the API (a cluster snapshot): the kubelet finds its
                // containers up, as after a kubelet restart, and keeps the pod's status.
                self.backend
                    .borrow_mut()
                    .adopt(id, p, &node, now, &mut ctx.out.container_events);
                return Next::Done;
            }
            self.backend
                .borrow_mut()
                .start(id, p, &node, 0, now, &mut ctx.out.container_events);
            ctx.store.update_pod(id, now, |p| {
                p.status.start_time = Some(now);
                set_containers(
                    p,
                    ContainerState::Waiting,
                    false,
                    "ContainerCreating",
                    false,
                );
            });
            return Next::Done;
        };
        // A container exit injected by a fault applies to running containers only.
        let injected = self
            .faults
            .as_ref()
            .and_then(|f| f.borrow_mut().take_exit(id));
        match run.state {
            RunState::BackOff(at) if at <= now => {
                let r = self.runs.get_mut(&id).expect("exists");
                r.attempt += 1;
                r.state = RunState::Starting;
                let attempt = r.attempt;
                self.backend.borrow_mut().start(
                    id,
                    p,
                    &node,
                    attempt,
                    now,
                    &mut ctx.out.container_events,
                );
            }
            RunState::BackOff(at) => ctx.requeue_at(at, key),
            RunState::Running => {
                if let Some(exit) = injected {
                    self.injected_exit(id, exit, ctx);
                    return Next::Done;
                }
                if let Some(at) = self.fault_pass(id, ctx) {
                    ctx.requeue_at(at, key);
                }
                let (Some(p), Some(run)) = (ctx.store.pods.get(id), self.runs.get(&id).cloned())
                else {
                    return Next::Done;
                };
                if let Some((at, probe)) = run.kill_at
                    && at <= now
                {
                    let (ns, name) = (p.meta.namespace.clone(), p.meta.name.clone());
                    let c = p.spec.containers[0].name.clone();
                    // The container is stopped with the pod's grace period (SIGTERM, then
                    // SIGKILL); it restarts per restartPolicy once it has exited.
                    let grace = p.spec.termination_grace_period_seconds;
                    self.stop_containers(
                        id,
                        p,
                        RunState::Killing,
                        grace,
                        now,
                        &mut ctx.out.container_events,
                    );
                    ctx.store
                        .record_event(now, Kind::Pod, &ns, &name, "Unhealthy", || {
                            format!("{probe} probe failed")
                        });
                    ctx.store
                        .record_event(now, Kind::Pod, &ns, &name, "Killing", || {
                            format!(
                                "Container {c} failed {} probe, will be restarted",
                                probe.to_ascii_lowercase()
                            )
                        });
                    ctx.store.update_pod(id, now, |p| {
                        for c in &mut p.status.containers {
                            c.ready = false;
                        }
                        set_ready(p, false, now);
                    });
                    return Next::Done;
                }
                if let Some(at) = run.ready_at
                    && at <= now
                {
                    let r = self.runs.get_mut(&id).expect("exists");
                    r.ready_at = None;
                    r.ready = true;
                    // A readiness-flapping fault keeps the pod not ready until it ends.
                    if !r.flapped {
                        ctx.store.update_pod(id, now, |p| {
                            for c in &mut p.status.containers {
                                c.ready = true;
                            }
                            set_ready(p, true, now);
                        });
                    }
                }
                let r = self.runs.get(&id).expect("exists");
                let next = [r.ready_at, r.kill_at.map(|k| k.0)]
                    .into_iter()
                    .flatten()
                    .min();
                if let Some(at) = next {
                    ctx.requeue_at(at, key);
                }
            }
            _ => {}
        }
        Next::Done
    }

    fn on_container_event(&mut self, ev: &ContainerEvent, ctx: &mut Ctx<'_>) {
        let now = ctx.now;
        let Some(run) = self.runs.get(&ev.pod).cloned() else {
            return;
        };
        if run.uid != ev.uid || run.attempt != ev.attempt {
            return;
        }
        let Some(p) = ctx.store.pods.get(ev.pod) else {
            return;
        };
        if !self.backend.borrow().node_alive(&p.spec.node_name) {
            return;
        }
        let (ns, name) = (p.meta.namespace.clone(), p.meta.name.clone());
        let key = Key::new(Kind::Pod, ev.pod);
        match ev.kind {
            ContainerEventKind::Started => {
                if run.state != RunState::Starting {
                    return;
                }
                let (ready_at, kill_at) = self.probe_schedule(p, run.admitted_at, now);
                // Ready at once without probes; later after a readiness probe or warm-up.
                // An adopted pod that was Ready stays Ready.
                let adopted_ready = run.adopted && run.attempt == 0 && p.status.ready;
                let ready_now = adopted_ready || ready_at.is_some_and(|t| t <= now);
                let ready_at = ready_at.filter(|t| *t > now && !adopted_ready);
                let r = self.runs.get_mut(&ev.pod).expect("exists");
                r.state = RunState::Running;
                r.ready_at = ready_at;
                r.kill_at = kill_at;
                r.pull_backoff = PULL_BACKOFF_INITIAL;
                r.ready = ready_now;
                let restarted = run.attempt > 0;
                ctx.store.update_pod(ev.pod, now, |p| {
                    p.status.phase = PodPhase::Running;
                    set_containers(p, ContainerState::Running(now), ready_now, "", false);
                    if ready_now {
                        set_ready(p, true, now);
                    }
                });
                if !(run.adopted && run.attempt == 0) {
                    ctx.store
                        .record_event(now, Kind::Pod, &ns, &name, "Started", || {
                            if restarted {
                                "Restarted container".into()
                            } else {
                                "Started container".into()
                            }
                        });
                }
                let next = [ready_at, kill_at.map(|k| k.0)].into_iter().flatten().min();
                if let Some(at) = next {
                    ctx.requeue_at(at, key);
                }
            }
            ContainerEventKind::PullFailed => {
                if run.state != RunState::Starting {
                    return;
                }
                let delay = run.pull_backoff;
                let at = now + delay;
                let r = self.runs.get_mut(&ev.pod).expect("exists");
                r.state = RunState::BackOff(at);
                r.pull_backoff = delay.doubled().min(PULL_BACKOFF_MAX);
                let image = p
                    .spec
                    .containers
                    .first()
                    .map(|c| c.image.clone())
                    .unwrap_or_default();
                ctx.store.update_pod(ev.pod, now, |p| {
                    set_containers(p, ContainerState::Waiting, false, "ImagePullBackOff", false)
                });
                ctx.store.record_event(now, Kind::Pod, &ns, &name, "Failed", || format!("Failed to pull image \"{image}\": not found (ErrImagePull); back-off {delay}"));
                ctx.requeue_at(at, key);
            }
            ContainerEventKind::Exited(code) => {
                if run.state != RunState::Running {
                    return;
                }
                self.container_exited(ev.pod, code, ctx);
            }
            ContainerEventKind::Stopped(code) if run.state == RunState::Killing => {
                // A probe kill finished: exit code 143 (SIGTERM) or 137 (SIGKILL).
                self.runs.get_mut(&ev.pod).expect("exists").state = RunState::Running;
                self.container_exited(ev.pod, if code == 0 { 143 } else { code }, ctx);
            }
            ContainerEventKind::Stopped(code) => {
                self.runs.get_mut(&ev.pod).expect("exists").state = RunState::Done;
                if code == 137 {
                    ctx.store
                        .record_event(now, Kind::Pod, &ns, &name, "Killing", || {
                            "Container did not stop within the grace period: killed".into()
                        });
                }
                ctx.store.remove_pod(ev.pod, now);
                self.runs.remove(&ev.pod);
            }
        }
    }
}

impl Kubelet {
    /// Asks the backend to stop a pod's containers (SIGTERM, SIGKILL after `grace`
    /// seconds), for a deletion (`Terminating`) or a failed probe (`Killing`); pending
    /// readiness and kill timers no longer apply.
    fn stop_containers(
        &mut self,
        id: u32,
        p: &Pod,
        state: RunState,
        grace: i64,
        now: SimTime,
        out: &mut Vec<(SimTime, ContainerEvent)>,
    ) {
        let Some(r) = self.runs.get_mut(&id) else {
            return;
        };
        r.state = state;
        r.ready_at = None;
        r.kill_at = None;
        r.ready = false;
        let attempt = r.attempt;
        self.backend
            .borrow_mut()
            .stop(id, p, attempt, grace, now, out);
    }

    /// When the pod becomes Ready and when a probe kills it, for containers started at
    /// `started`: the startup probe gates the others; readiness and liveness follow the
    /// backend's application model (see [`probes`]). The first container that defines a
    /// probe of a kind speaks for the pod (containers share one lifecycle here).
    fn probe_schedule(
        &self,
        p: &Pod,
        origin: SimTime,
        started: SimTime,
    ) -> (Option<SimTime>, Option<(SimTime, &'static str)>) {
        use probes::first_transition;
        use rules::{ProbeResult, ProbeType};
        let app = self.backend.borrow_mut().app_model(p);
        let find = |f: fn(&crate::api::Container) -> Option<&crate::api::objects::Probe>| {
            p.spec.containers.iter().find_map(f)
        };
        let delay = |pr: &crate::api::objects::Probe| {
            started + SimDuration::from_secs(pr.initial_delay_seconds.max(0) as u64)
        };
        let mut kill = None;
        let gate = match find(|c| c.startup.as_ref()) {
            None => Some(started),
            Some(pr) => {
                let up = started + app.started_after;
                match first_transition(ProbeType::Startup, pr, origin, delay(pr), up, |t| {
                    if t >= up {
                        ProbeResult::Success
                    } else {
                        ProbeResult::Failure
                    }
                }) {
                    Some(t) if t.kill => {
                        kill = Some((t.at, "Startup"));
                        None
                    }
                    Some(t) => Some(t.at),
                    None => None,
                }
            }
        };
        let Some(gate) = gate else {
            return (None, kill);
        };
        let ready_at = match find(|c| c.readiness.as_ref()) {
            None => Some(gate),
            Some(pr) => {
                let from = app.ready_after.map(|d| started + d);
                let settled = from.unwrap_or(started);
                first_transition(
                    ProbeType::Readiness,
                    pr,
                    origin,
                    delay(pr).max(gate),
                    settled,
                    |t| {
                        if from.is_some_and(|f| t >= f) {
                            ProbeResult::Success
                        } else {
                            ProbeResult::Failure
                        }
                    },
                )
                .filter(|t| t.published == ProbeResult::Success)
                .map(|t| t.at)
            }
        };
        if let Some(pr) = find(|c| c.liveness.as_ref())
            && let Some(d) = app.live_for
        {
            let fail_from = started + d;
            if let Some(t) = first_transition(
                ProbeType::Liveness,
                pr,
                origin,
                delay(pr).max(gate),
                fail_from,
                |t| {
                    if t >= fail_from {
                        ProbeResult::Failure
                    } else {
                        ProbeResult::Success
                    }
                },
            ) && t.kill
            {
                kill = Some((t.at, "Liveness"));
            }
        }
        // A pod that would be ready only after it is killed never becomes ready.
        let ready_at = match (ready_at, kill) {
            (Some(r), Some((k, _))) if r >= k => None,
            (r, _) => r,
        };
        (ready_at, kill)
    }

    /// The containers exited (on their own or killed by a probe) with `code`: restart per
    /// `restartPolicy` with CrashLoopBackOff, or finish the pod.
    fn container_exited(&mut self, id: u32, code: i32, ctx: &mut Ctx<'_>) {
        let now = ctx.now;
        let Some(p) = ctx.store.pods.get(id) else {
            return;
        };
        let (ns, name, uid) = (p.meta.namespace.clone(), p.meta.name.clone(), p.meta.uid);
        let key = Key::new(Kind::Pod, id);
        if let Some(r) = self.runs.get_mut(&id) {
            r.ready_at = None;
            r.kill_at = None;
            r.ready = false;
        }
        let restart = match p.spec.restart_policy {
            RestartPolicy::Always => true,
            RestartPolicy::OnFailure => code != 0,
            RestartPolicy::Never => false,
        };
        if restart {
            let delay = self
                .backoff
                .next_restart_delay(&uid.to_string(), now.as_secs() as i64);
            let at = now + SimDuration::from_secs(delay.max(0) as u64);
            if let Some(r) = self.runs.get_mut(&id) {
                r.state = RunState::BackOff(at);
            }
            ctx.store.update_pod(id, now, |p| {
                let reason = if delay > 0 {
                    "CrashLoopBackOff"
                } else {
                    "Completed"
                };
                set_containers(p, ContainerState::Waiting, false, reason, true);
                set_ready(p, false, now);
            });
            if delay > 0 {
                ctx.store
                    .record_event(now, Kind::Pod, &ns, &name, "BackOff", || {
                        format!("Back-off {delay}s restarting failed container (exit code {code})")
                    });
            }
            ctx.requeue_at(at, key);
        } else {
            if let Some(r) = self.runs.get_mut(&id) {
                r.state = RunState::Done;
            }
            ctx.store.update_pod(id, now, |p| {
                p.status.phase = if code == 0 {
                    PodPhase::Succeeded
                } else {
                    PodPhase::Failed
                };
                let reason = if code == 0 { "Completed" } else { "Error" };
                set_containers(p, ContainerState::Terminated(code), false, reason, false);
                set_ready(p, false, now);
            });
        }
    }
}
