//! The simulation runtime: builds the store, the simulated backend and the controller
//! manager for a scenario, then runs the event loop. Events are timeline actions,
//! controller timers, container events, metric samples and expectation checks; after
//! each event the manager settles the controllers at that instant. Everything runs on
//! one thread from named RNG streams, so a (scenario, seed) pair always produces the
//! same journal, metrics and summary.

pub mod faults;
pub mod gpu_metrics;
pub mod hpa_observe;
pub mod observe;
mod traces;

use crate::api::manifest::Loaded;
use crate::api::objects::Object;
use crate::api::store::JournalEntry;
use crate::api::{Kind, Store};
use crate::backend::Backend;
use crate::backend::sim::SimBackend;
use crate::controllers::deployment::controller::{self as deployment, DeploymentController};
use crate::controllers::disruption::controller::DisruptionController;
use crate::controllers::drain::Drain;
use crate::controllers::garbage::GarbageCollector;
use crate::controllers::hpa::controller::HpaController;
use crate::controllers::kubelet::{Kubelet, SharedBackend};
use crate::controllers::manager::{Manager, Wake};
use crate::controllers::metrics_server::MetricsServer;
use crate::controllers::node_lifecycle::NodeLifecycle;
use crate::controllers::node_lifecycle::rules::NodeLifecycleConfig;
use crate::controllers::node_lifecycle::taint_eviction::TaintEviction;
use crate::controllers::replicaset::ReplicaSetController;
use crate::controllers::scheduler::config::SchedulerSettings;
use crate::controllers::scheduler::{Scheduler, SchedulerConfig};
use crate::controllers::{Controller, Key};
use crate::engine::{EventQueue, RngStreams, RunLimits, SimDuration, SimTime};
use crate::error::Error;
use crate::metrics::MetricsTable;
use crate::workload::expectation::{ExpectationResult, Subject, Timing, Tracker};
use crate::workload::stream::ArrivalIter;
use crate::workload::{Action, Scenario};
use std::cell::RefCell;
use std::rc::Rc;

/// How to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Overrides the scenario's seed.
    pub seed: Option<u64>,
    /// Record the journal (`events.jsonl`).
    pub journal: bool,
    /// Record metrics samples.
    pub metrics: bool,
    /// Stop at this time instead of the scenario's duration (for `get --at`).
    pub until: Option<SimTime>,
    /// Engine limits.
    pub limits: RunLimits,
    /// Scheduler settings overriding the scenario's (`--scheduler-config`).
    pub scheduler: Option<SchedulerSettings>,
    /// Explain the scheduling attempts of the pods this selects (`--explain`).
    pub explain: Option<crate::controllers::scheduler::explain::ExplainSelector>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            seed: None,
            journal: true,
            metrics: true,
            until: None,
            limits: RunLimits::default(),
            scheduler: None,
            explain: None,
        }
    }
}

/// Everything a run produced.
pub struct RunOutput {
    /// Scenario name.
    pub scenario: String,
    /// The seed used.
    pub seed: u64,
    /// When the run stopped.
    pub end: SimTime,
    /// Events processed by the engine.
    pub events: u64,
    /// Controller reconciles performed.
    pub reconciles: u64,
    /// The final cluster state.
    pub store: Store,
    /// Sampled metrics.
    pub metrics: MetricsTable,
    /// The journal (empty when disabled).
    pub journal: Vec<JournalEntry>,
    /// Expectation outcomes, in scenario order.
    pub expectations: Vec<ExpectationResult>,
    /// Timeline actions as (time, description), for plots.
    pub markers: Vec<(SimTime, String)>,
    /// Timeline annotations for the report's plots and `report.md`: actions, rollouts
    /// and autoscaling derived at the end of the run (see `report::annotate`); other
    /// features (faults) push their own and re-sort with `report::annotations::sort`.
    pub annotations: Vec<crate::report::annotations::Annotation>,
    /// Whether the event limit stopped the run early.
    pub truncated: bool,
    /// summary.json's `load` object (empty without `spec.load`).
    pub load: serde_json::Map<String, serde_json::Value>,
    /// The cluster autoscaler's node-hours and cost (`None` without node groups).
    pub cost: Option<crate::controllers::cluster_autoscaler::accounting::CostLedger>,
    /// The explained scheduling attempts (`Some` when `RunOptions::explain` was set).
    pub explain: Option<Vec<crate::controllers::scheduler::explain::Attempt>>,
    /// The faults injected (`spec.faults`), in start order.
    pub faults: Vec<faults::FaultRecord>,
    /// summary.json's `traces` entries (empty without `spec.traces`).
    pub traces: Vec<serde_json::Value>,
}

impl RunOutput {
    /// Whether every expectation held.
    pub fn passed(&self) -> bool {
        self.expectations.iter().all(|e| e.passed)
    }
}

#[derive(Debug, Clone)]
enum Ev {
    Action(usize),
    /// The pending streamed arrival is due.
    Arrival,
    /// Trace `k`'s pending action is due.
    Trace(usize),
    Wake(Wake),
    Sample,
    Check,
    /// A fault occurrence starts (index into `Runtime::fault_occ`).
    FaultStart(usize),
    /// A fault occurrence is healed.
    FaultEnd(usize),
}

/// Controller order: fixed, so ties at one instant always resolve the same way.
const CONTROLLERS: [&str; 12] = [
    "metrics-server",
    "hpa",
    "deployment",
    "replicaset",
    "garbage-collector",
    "node-lifecycle",
    "taint-eviction",
    "scheduler",
    "cluster-autoscaler",
    "kubelet",
    "disruption",
    "drain",
];

struct Runtime<'a> {
    scenario: &'a Scenario,
    queue: EventQueue<Ev>,
    store: Store,
    manager: Manager,
    backend: Rc<RefCell<SimBackend>>,
    metrics: MetricsTable,
    trackers: Vec<Tracker>,
    per_node: bool,
    last_binding_index: usize,
    opts: &'a RunOptions,
    /// The scenario's streamed arrivals and the one waiting in the event queue.
    arrivals: Option<ArrivalIter>,
    next_arrival: Option<Loaded>,
    /// `spec.traces`: each trace's reader and its one action waiting in the event queue.
    traces: Vec<Option<crate::workload::traces::source::ActionIter>>,
    trace_next: Vec<Option<crate::workload::TimedAction>>,
    /// The load model (empty without `spec.load`).
    load: crate::workload::load::model::SharedLoad,
    /// The cluster autoscaler's ledger (with node groups).
    ledger: Option<crate::controllers::cluster_autoscaler::accounting::SharedLedger>,
    /// FGD's typical pods, for the GPU columns and `gpu.*` expectations.
    gpu_typical: crate::controllers::scheduler::plugins::gpu::TypicalPods,
    /// The run's fault occurrences (`spec.faults` drawn for the seed).
    fault_occ: Vec<crate::faults::Occurrence>,
    /// Per-pod fault state shared with the kubelet.
    fault_state: crate::faults::SharedFaultState,
    /// Picks the pods a container fault hits (stream `faults/targets`).
    fault_rng: crate::engine::SimRng,
    /// How many crash faults hold each node down.
    crash_depth: std::collections::BTreeMap<String, u32>,
    /// Faults as they happened, and the record of each started occurrence.
    fault_log: Vec<faults::FaultRecord>,
    fault_log_index: std::collections::BTreeMap<usize, usize>,
    /// Plot markers of fault starts and ends.
    markers: Vec<(SimTime, String)>,
}

/// The scheduler's configuration: `--scheduler-config` over the scenario's
/// `spec.scheduler.config` over its `percentageOfNodesToScore` (a configuration file's
/// top-level `percentageOfNodesToScore` wins when set); `tieBreak` always from the scenario.
fn scheduler_config(scenario: &Scenario, opts: &RunOptions) -> SchedulerConfig {
    match opts
        .scheduler
        .as_ref()
        .or(scenario.scheduler_settings.as_ref())
    {
        Some(s) => s.scheduler_config(
            scenario.tie_break_by_name,
            scenario.percentage_of_nodes_to_score,
        ),
        None => SchedulerConfig {
            percentage_of_nodes_to_score: scenario.percentage_of_nodes_to_score,
            tie_break_by_name: scenario.tie_break_by_name,
            ..SchedulerConfig::default()
        },
    }
}

/// The cluster autoscaler for the scenario's node groups (idle without any) and its
/// ledger.
fn cluster_autoscaler(
    scenario: &Scenario,
    sched: &SchedulerConfig,
    backend: SharedBackend,
) -> (
    crate::controllers::cluster_autoscaler::ClusterAutoscaler,
    Option<crate::controllers::cluster_autoscaler::accounting::SharedLedger>,
) {
    use crate::controllers::cluster_autoscaler::ClusterAutoscaler;
    use crate::controllers::cluster_autoscaler::accounting::CostLedger;
    let a = scenario.cluster_autoscaler.clone();
    let groups = a.as_ref().map(|a| a.groups.clone()).unwrap_or_default();
    let ledger = Rc::new(RefCell::new(CostLedger::new(
        groups
            .iter()
            .map(|g| (g.name.clone(), g.cost_per_hour, g.min, g.max)),
    )));
    let ca = ClusterAutoscaler::new(
        a.map(|a| a.config).unwrap_or_default(),
        groups,
        sched.profiles.clone(),
        backend,
        ledger.clone(),
    );
    (ca, scenario.cluster_autoscaler.as_ref().map(|_| ledger))
}

/// FGD's typical pods in `kubetwin run`: the shapes of the scenario's pods at time zero
/// (also what the GPU fragmentation columns and `gpu.*` expectations measure against).
fn gpu_typical(scenario: &Scenario) -> crate::controllers::scheduler::plugins::gpu::TypicalPods {
    if let Some(t) = &scenario.gpu_typical {
        return t.clone();
    }
    crate::controllers::scheduler::plugins::gpu::framework::typical_of_pods(
        scenario.objects.iter().filter_map(|l| match &l.object {
            crate::api::Object::Pod(p) => Some(&**p),
            _ => None,
        }),
    )
}

/// Runs a scenario.
pub fn run(scenario: &Scenario, opts: &RunOptions) -> Result<RunOutput, Error> {
    let seed = opts.seed.unwrap_or(scenario.seed);
    let streams = RngStreams::new(seed);
    let backend = Rc::new(RefCell::new(SimBackend::new(&streams)));
    let shared: SharedBackend = backend.clone();
    let metrics_api = crate::metrics::pod_metrics::MetricsRegistry::shared();
    let load = crate::workload::load::model::LoadModel::shared(&scenario.load, &streams);
    let sched = scheduler_config(scenario, opts);
    let fault_state = crate::faults::FaultState::shared();
    let (ca, ledger) = cluster_autoscaler(scenario, &sched, shared.clone());
    let typical = gpu_typical(scenario);
    // The GPU plugins, enabled only when a scheduler configuration names them.
    let mut scheduler = Scheduler::with_registry(
        sched,
        crate::controllers::scheduler::plugins::gpu::framework::registry_with_streams(
            &typical, &streams,
        ),
    );
    let explain_log = opts
        .explain
        .clone()
        .map(crate::controllers::scheduler::explain::ExplainLog::shared);
    if let Some(log) = &explain_log {
        scheduler.set_explain_log(log.clone());
    }
    let controllers: Vec<Box<dyn Controller>> = vec![
        Box::new(MetricsServer::new(load.clone(), metrics_api.clone())),
        Box::new(HpaController::new(metrics_api.clone())),
        Box::new(DeploymentController::new()),
        Box::new(ReplicaSetController::new()),
        Box::new(GarbageCollector::new()),
        Box::new(NodeLifecycle::new(
            shared.clone(),
            NodeLifecycleConfig::default(),
        )),
        Box::new(TaintEviction::new()),
        Box::new(scheduler),
        Box::new(ca),
        Box::new(Kubelet::new(shared).with_faults(fault_state.clone())),
        Box::new(DisruptionController::new()),
        Box::new(Drain::new()),
    ];
    debug_assert!(
        controllers
            .iter()
            .zip(CONTROLLERS)
            .all(|(c, n)| c.name() == n)
    );
    let manager = Manager::new(controllers, &streams);
    let nodes = scenario
        .objects
        .iter()
        .filter(|l| l.object.kind() == Kind::Node)
        .count();
    let mut rt = Runtime {
        scenario,
        queue: EventQueue::new(),
        store: Store::new(streams.stream("apiserver/names"), opts.journal),
        manager,
        backend,
        metrics: MetricsTable::new(),
        trackers: scenario
            .expectations
            .iter()
            .cloned()
            .map(Tracker::new)
            .collect(),
        per_node: scenario.per_node.unwrap_or(nodes <= 100),
        last_binding_index: 0,
        opts,
        arrivals: scenario.arrivals.as_ref().map(|a| a.start()),
        next_arrival: None,
        traces: Vec::new(),
        trace_next: Vec::new(),
        load,
        ledger,
        gpu_typical: typical,
        fault_occ: scenario
            .faults
            .occurrences(seed, SimTime::ZERO + scenario.duration),
        fault_state,
        fault_rng: streams.stream("faults/targets"),
        crash_depth: std::collections::BTreeMap::new(),
        fault_log: Vec::new(),
        fault_log_index: std::collections::BTreeMap::new(),
        markers: Vec::new(),
    };
    let end = rt.run()?;
    let expectations = rt.trackers.iter().map(Tracker::result).collect();
    let journal = rt.store.take_journal();
    let mut markers: Vec<(SimTime, String)> = scenario
        .actions
        .iter()
        .map(|a| (a.at, a.description.clone()))
        .collect();
    markers.extend(std::mem::take(&mut rt.markers));
    markers.extend(hpa_observe::rescale_markers(&journal));
    markers.sort_by_key(|(t, _)| *t);
    let mut annotations = crate::report::annotate::derive(&scenario.actions, &journal);
    annotations.extend(rt.fault_log.iter().map(faults::FaultRecord::annotation));
    crate::report::annotations::sort(&mut annotations);
    let load = rt.load.borrow().summary();
    Ok(RunOutput {
        scenario: scenario.name.clone(),
        seed,
        end,
        events: rt.queue.processed(),
        reconciles: rt.manager.reconciles,
        metrics: rt.metrics,
        journal,
        expectations,
        markers,
        annotations,
        truncated: rt.queue.processed() >= opts.limits.max_events,
        load,
        cost: rt.ledger.as_ref().map(|l| l.borrow().clone()),
        store: rt.store,
        explain: explain_log.map(|l| std::mem::take(&mut l.borrow_mut().attempts)),
        faults: std::mem::take(&mut rt.fault_log),
        traces: scenario.traces.iter().map(|t| t.summary()).collect(),
    })
}

impl Runtime<'_> {
    fn stop_time(&self) -> SimTime {
        let end = SimTime::ZERO + self.scenario.duration;
        let end = self.opts.until.map_or(end, |u| u.min(end));
        end.min(self.opts.limits.max_time)
    }

    fn run(&mut self) -> Result<SimTime, Error> {
        let stop = self.stop_time();
        self.backend
            .borrow_mut()
            .set_unavailable_images(&self.scenario.unavailable_images);
        for l in &self.scenario.objects {
            self.create(l, SimTime::ZERO)?;
        }
        for (i, a) in self.scenario.actions.iter().enumerate() {
            if a.at <= stop {
                self.queue.schedule(a.at, Ev::Action(i));
            }
        }
        let checks: Vec<SimTime> = self
            .trackers
            .iter()
            .filter_map(|t| match t.exp.timing {
                Timing::At(t) | Timing::By(t) | Timing::After(t) => Some(t),
                Timing::End => None,
            })
            .filter(|t| *t <= stop)
            .collect();
        for t in checks {
            self.queue.schedule(t, Ev::Check);
        }
        self.schedule_faults(stop);
        self.pull_arrival(stop);
        self.start_traces(stop)?;
        if self.opts.metrics || !self.trackers.is_empty() {
            self.queue.schedule(SimTime::ZERO, Ev::Sample);
        }
        if !self.load.borrow().is_empty() {
            // metrics-server's first tick is at its start.
            let idx = self.index("metrics-server");
            self.manager.enqueue(idx, MetricsServer::SCRAPE);
        }
        self.settle(SimTime::ZERO);
        // Samples and checks observe the state at the end of an instant: they wait in
        // `deferred` until every other event due at their time has run.
        let mut deferred: Vec<Ev> = Vec::new();
        loop {
            let next = self.queue.peek_time();
            if !deferred.is_empty() && next != Some(self.queue.now()) {
                let now = self.queue.now();
                self.settle(now);
                for ev in std::mem::take(&mut deferred) {
                    if matches!(ev, Ev::Sample) {
                        self.sample(now, false);
                        let at = now + self.scenario.sampling_interval;
                        if at <= stop {
                            self.queue.schedule(at, Ev::Sample);
                        }
                    } else {
                        self.observe(now, false);
                    }
                }
                continue;
            }
            let Some(t) = next else { break };
            if t > stop || self.queue.processed() >= self.opts.limits.max_events {
                break;
            }
            let Some((now, ev)) = self.queue.pop() else {
                break;
            };
            match ev {
                Ev::Action(i) => self.action(i, now)?,
                Ev::Trace(k) => self.trace_event(k, now, stop)?,
                Ev::Arrival => {
                    if let Some(l) = self.next_arrival.take() {
                        self.apply(&l, now)?;
                    }
                    self.pull_arrival(stop);
                }
                Ev::Wake(Wake::Timer(idx, key)) => {
                    self.manager.enqueue(idx, key);
                }
                Ev::Wake(Wake::Container(idx, ce)) => {
                    let wakes = self.manager.container_event(idx, &ce, now, &mut self.store);
                    self.schedule(wakes);
                }
                Ev::Wake(Wake::Deliver) => {}
                Ev::FaultStart(i) => self.fault_start(i, now),
                Ev::FaultEnd(i) => self.fault_end(i, now),
                Ev::Sample | Ev::Check => {
                    deferred.push(ev);
                    continue;
                }
            }
            self.settle(now);
        }
        // The end of the run: a final sample (unless one was just taken) and the end checks.
        let end = if self.queue.processed() >= self.opts.limits.max_events {
            self.queue.now()
        } else {
            stop
        };
        self.settle(end);
        let last_sample = self
            .metrics
            .column("time_s")
            .and_then(|c| c.last().copied());
        if last_sample != Some(end.as_secs_f64())
            && (self.opts.metrics || !self.trackers.is_empty())
        {
            self.sample(end, false);
        }
        self.observe(end, true);
        Ok(end)
    }

    /// Takes the next streamed arrival (if due by `stop`) into the event queue.
    fn pull_arrival(&mut self, stop: SimTime) {
        if let Some(it) = self.arrivals.as_mut()
            && let Some((at, l)) = it.next()
            && at <= stop
        {
            self.next_arrival = Some(l);
            self.queue.schedule(at, Ev::Arrival);
        } else {
            self.arrivals = None;
        }
    }

    fn settle(&mut self, now: SimTime) {
        let wakes = self.manager.settle(now, &mut self.store);
        self.schedule(wakes);
    }

    fn schedule(&mut self, wakes: Vec<(SimTime, Wake)>) {
        for (t, w) in wakes {
            self.queue.schedule(t, Ev::Wake(w));
        }
    }

    fn create(&mut self, l: &Loaded, now: SimTime) -> Result<(), Error> {
        if let Object::Node(n) = &l.object {
            let images: Vec<String> = n
                .images
                .iter()
                .flat_map(|i| i.names.iter().cloned())
                .collect();
            self.backend
                .borrow_mut()
                .add_node(&n.meta.name, &images, now);
        }
        match self.store.create(l.object.clone(), now) {
            Ok(_) => Ok(()),
            Err(e) => Err(l.source.error("metadata.name", e.to_string()).into()),
        }
    }

    fn index(&self, name: &str) -> usize {
        self.manager.index_of(name).unwrap_or(0)
    }

    fn action(&mut self, i: usize, now: SimTime) -> Result<(), Error> {
        let a = &self.scenario.actions[i];
        self.perform(a, now)
    }

    fn perform(&mut self, a: &crate::workload::TimedAction, now: SimTime) -> Result<(), Error> {
        self.store.record_action(now, a.description.clone());
        match &a.action {
            Action::Apply(objs) => {
                for l in objs {
                    self.apply(l, now)?;
                }
            }
            Action::Delete {
                kind,
                namespace,
                name,
            } => {
                if let Some(id) = self.store.id_of(*kind, namespace, name) {
                    if *kind == Kind::Pod {
                        self.store.delete_pod(id, now, None);
                    } else {
                        self.store.delete_object(*kind, id, now);
                    }
                }
            }
            Action::Scale {
                kind,
                namespace,
                name,
                replicas,
            } => {
                if let Some(id) = self.store.id_of(*kind, namespace, name) {
                    let r = *replicas;
                    match kind {
                        Kind::Deployment => {
                            self.store
                                .update_deployment(id, now, true, |d| d.replicas = r);
                        }
                        _ => {
                            self.store
                                .update_rs(*kind, id, now, true, |rs| rs.replicas = r);
                        }
                    }
                }
            }
            Action::CrashNode(n) => {
                self.backend.borrow_mut().crash_node(n, now);
                if let Some(id) = self.store.nodes.id_of("", n) {
                    self.load
                        .borrow_mut()
                        .set_node_down(&self.store, id, true, now);
                }
                let idx = self.index("node-lifecycle");
                self.manager.enqueue(idx, Key::SINGLETON);
            }
            Action::RestartNode(n) => {
                self.backend.borrow_mut().restart_node(n, now);
                if let Some(id) = self.store.nodes.id_of("", n) {
                    self.load
                        .borrow_mut()
                        .set_node_down(&self.store, id, false, now);
                }
                let idx = self.index("node-lifecycle");
                self.manager.enqueue(idx, Key::SINGLETON);
            }
            Action::DeleteNode(n) => {
                self.backend.borrow_mut().remove_node(n);
                if let Some(id) = self.store.nodes.id_of("", n) {
                    self.store.delete_object(Kind::Node, id, now);
                }
            }
            Action::SetImage {
                namespace,
                name,
                container,
                image,
            } => {
                if let Some(id) = self.store.deployments.id_of(namespace, name) {
                    self.set_image(id, container, image, now);
                }
            }
            Action::RolloutUndo {
                namespace,
                name,
                to_revision,
            } => {
                if let Some(id) = self.store.deployments.id_of(namespace, name)
                    && let Err(e) = deployment::rollback(&mut self.store, id, *to_revision, now)
                {
                    let reason = match e {
                        deployment::RollbackError::RevisionNotFound(_) => {
                            // kubectl rollout undo fails: bad input, at the entry's line.
                            let (file, line, col, field) = &a.source;
                            return Err(crate::error::InputError::at(
                                file,
                                *line,
                                *col,
                                &format!("{field}.rolloutUndo.toRevision"),
                                format!("{e} (at {now})"),
                            )
                            .into());
                        }
                        _ => "DeploymentRollbackFailed",
                    };
                    self.store
                        .record_event(now, Kind::Deployment, namespace, name, reason, || {
                            e.to_string()
                        });
                }
            }
            Action::RolloutPause { namespace, name }
            | Action::RolloutResume { namespace, name } => {
                let paused = matches!(a.action, Action::RolloutPause { .. });
                if let Some(id) = self.store.deployments.id_of(namespace, name)
                    && self
                        .store
                        .deployments
                        .get(id)
                        .is_some_and(|d| d.paused != paused)
                {
                    self.store
                        .update_deployment(id, now, true, |d| d.paused = paused);
                }
            }
            Action::SetLoad { name, rps } => self.set_load(a, name, *rps, now)?,
            Action::Drain { node, force } => {
                if let Some(id) = self.store.nodes.id_of("", node) {
                    self.manager.request(&crate::controllers::Request::Drain {
                        node: id,
                        force: *force,
                    });
                }
            }
            Action::Cordon(n) | Action::Uncordon(n) => {
                let cordon = matches!(a.action, Action::Cordon(_));
                if let Some(id) = self.store.nodes.id_of("", n) {
                    self.store
                        .update_node(id, now, |node| node.unschedulable = cordon);
                }
            }
        }
        Ok(())
    }

    /// `kubectl apply`: creates missing objects; for existing workloads replaces the
    /// spec fields kubetwin models (bumping generation when they change).
    fn apply(&mut self, l: &Loaded, now: SimTime) -> Result<(), Error> {
        let kind = l.object.kind();
        let m = l.object.meta();
        let Some(id) = self.store.id_of(kind, &m.namespace, &m.name) else {
            return self.create(l, now);
        };
        match &l.object {
            Object::ReplicaSet(new) => {
                let new = new.clone();
                self.store.update_rs(kind, id, now, true, |rs| {
                    rs.replicas = new.replicas;
                    rs.selector = new.selector;
                    rs.template = new.template;
                    rs.min_ready_seconds = new.min_ready_seconds;
                    rs.meta.labels = new.meta.labels;
                    rs.meta.annotations = new.meta.annotations;
                });
            }
            Object::Deployment(new) => {
                let new = new.clone();
                self.store.update_deployment(id, now, true, |d| {
                    d.replicas = new.replicas;
                    d.selector = new.selector;
                    d.template = new.template;
                    d.strategy = new.strategy;
                    d.min_ready_seconds = new.min_ready_seconds;
                    d.revision_history_limit = new.revision_history_limit;
                    d.progress_deadline_seconds = new.progress_deadline_seconds;
                    d.paused = new.paused;
                });
            }
            Object::Node(new) => {
                let new = new.clone();
                self.store.update_node(id, now, |n| {
                    n.meta.labels = new.meta.labels;
                    n.taints = new.taints;
                    n.unschedulable = new.unschedulable;
                });
            }
            _ => {
                // Other kinds are replaced as a whole (delete + create).
                self.store.delete_object(kind, id, now);
                return self.create(l, now);
            }
        }
        Ok(())
    }

    /// `kubectl set image deployment/NAME C=I`: a template change when the image differs;
    /// an unknown container is recorded as an Event (kubectl's error) and changes nothing.
    fn set_image(&mut self, id: u32, container: &str, image: &str, now: SimTime) {
        let Some(d) = self.store.deployments.get(id) else {
            return;
        };
        let (ns, name) = (d.meta.namespace.clone(), d.meta.name.clone());
        let spec = &d.template.spec;
        let found = spec
            .containers
            .iter()
            .chain(&spec.init_containers)
            .find(|c| c.name == container);
        match found {
            None => {
                self.store.record_event(
                    now,
                    Kind::Deployment,
                    &ns,
                    &name,
                    "FailedSetImage",
                    || format!("unable to find container named {container:?}"),
                );
            }
            Some(c) if c.image == image => {}
            Some(_) => {
                self.store.update_deployment(id, now, true, |d| {
                    let spec = &mut d.template.spec;
                    for c in spec
                        .containers
                        .iter_mut()
                        .chain(spec.init_containers.iter_mut())
                    {
                        if c.name == container {
                            c.image = image.to_string();
                        }
                    }
                });
            }
        }
    }

    fn sample(&mut self, now: SimTime, end: bool) {
        // The GPU stats of this instant, shared by the metrics row and the expectations.
        let mut gpu = None;
        if self.opts.metrics {
            let from = self.last_binding_index;
            self.last_binding_index = self.store.stats.binding_latencies_ms.len();
            observe::sample(&self.store, &mut self.metrics, now, self.per_node, from);
            let stats = gpu_metrics::GpuStats::of(&self.store, &self.gpu_typical);
            gpu_metrics::sample_stats(stats.as_ref(), &mut self.metrics);
            gpu = Some(stats);
            if let Some(l) = &self.ledger {
                l.borrow().sample(&mut self.metrics);
            }
        }
        if !self.load.borrow().is_empty() {
            let mut load = self.load.borrow_mut();
            load.advance(now);
            load.sample(now, self.opts.metrics.then_some(&mut self.metrics));
        }
        self.observe_with(now, end, gpu);
    }

    fn observe(&mut self, now: SimTime, end: bool) {
        self.observe_with(now, end, None);
    }

    /// Checks the expectations at `now`; `gpu`: the GPU stats of this instant when
    /// already computed.
    fn observe_with(
        &mut self,
        now: SimTime,
        end: bool,
        mut gpu: Option<Option<gpu_metrics::GpuStats>>,
    ) {
        let mut load = self.load.borrow_mut();
        if !load.is_empty() {
            load.advance(now);
            load.refresh(now);
        }
        // The GPU stats walk every GPU node's pods: computed once per observation for
        // all `gpu.*` expectations (the store does not change in between).
        for t in &mut self.trackers {
            let v = match (&t.exp.subject, &self.ledger) {
                (Subject::Cost, Some(l)) => l.borrow().value(None, &t.exp.field, now),
                (Subject::NodeGroup(g), Some(l)) => l.borrow().value(Some(g), &t.exp.field, now),
                (
                    Subject::Workload {
                        kind,
                        namespace,
                        name,
                    },
                    _,
                ) => load
                    .value(*kind, namespace, name, &t.exp.field)
                    .unwrap_or_else(|| observe::value(&self.store, &t.exp.subject, &t.exp.field)),
                (Subject::Gpu, _) => gpu
                    .get_or_insert_with(|| {
                        gpu_metrics::GpuStats::of(&self.store, &self.gpu_typical)
                    })
                    .as_ref()
                    .map_or(f64::NAN, |s| s.field(&t.exp.field)),
                _ => observe::value(&self.store, &t.exp.subject, &t.exp.field),
            };
            t.observe(now, v, end);
        }
    }
}

/// Runs until `at` and returns the store (for `get --at`).
pub fn state_at(
    scenario: &Scenario,
    at: SimDuration,
    seed: Option<u64>,
) -> Result<RunOutput, Error> {
    run(
        scenario,
        &RunOptions {
            seed,
            journal: false,
            metrics: false,
            until: Some(SimTime::ZERO + at),
            ..RunOptions::default()
        },
    )
}
