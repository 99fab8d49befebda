//! The store: kubetwin's apiserver + etcd analog. Objects live in dense per-kind arenas
//! addressed by small integer ids, with a name index per kind. Every write assigns a
//! resourceVersion, runs validation and records a [`Change`] (the watch event) that the
//! runtime feeds to controllers. Indexes (pods by node, by owner) and per-node
//! aggregates (requested resources and pod count of non-terminal pods, the scheduler's
//! NodeInfo sums) are maintained incrementally on every write, never recomputed.
//!
//! With journaling on, each write and each Kubernetes Event is also appended to a
//! journal that becomes the run's `events.jsonl`.

use super::objects::*;
use super::resources::Resources;
use crate::engine::{SimTime, rng::SimRng};
use rand::Rng;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// A dense arena of one kind's objects with a (namespace, name) index.
#[derive(Debug, Clone)]
pub struct Arena<T> {
    slots: Vec<Option<T>>,
    /// namespace -> name -> id (nested so lookups borrow `&str` without allocating).
    by_name: BTreeMap<String, BTreeMap<String, u32>>,
    len: usize,
}

impl<T> Default for Arena<T> {
    fn default() -> Self {
        Arena {
            slots: Vec::new(),
            by_name: BTreeMap::new(),
            len: 0,
        }
    }
}

impl<T> Arena<T> {
    /// The object with this id, if it exists.
    pub fn get(&self, id: u32) -> Option<&T> {
        self.slots.get(id as usize).and_then(|s| s.as_ref())
    }
    fn get_mut(&mut self, id: u32) -> Option<&mut T> {
        self.slots.get_mut(id as usize).and_then(|s| s.as_mut())
    }
    /// The id of the object named `name` in `namespace` (empty for cluster-scoped).
    pub fn id_of(&self, namespace: &str, name: &str) -> Option<u32> {
        self.by_name.get(namespace)?.get(name).copied()
    }
    /// Live objects in id (creation) order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &T)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.as_ref().map(|o| (i as u32, o)))
    }
    /// Live objects sorted by (namespace, name).
    pub fn iter_by_name(&self) -> impl Iterator<Item = (u32, &T)> {
        self.by_name
            .values()
            .flat_map(|m| m.values())
            .filter_map(|&id| self.get(id).map(|o| (id, o)))
    }
    /// Number of live objects.
    pub fn len(&self) -> usize {
        self.len
    }
    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// One past the largest id ever assigned (for id-indexed side tables).
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }
}

/// What happened to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Op {
    /// Created.
    Added,
    /// Updated.
    Modified,
    /// Removed (finally, after any graceful period).
    Deleted,
}

impl Op {
    /// The watch event type (`ADDED`, `MODIFIED`, `DELETED`).
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Added => "ADDED",
            Op::Modified => "MODIFIED",
            Op::Deleted => "DELETED",
        }
    }
}

/// A watch event. For deletions `old` holds the removed object.
#[derive(Debug, Clone)]
pub struct Change {
    /// The object's kind.
    pub kind: Kind,
    /// Its id within the kind's arena.
    pub id: u32,
    /// What happened.
    pub op: Op,
    /// The removed object, for `Deleted`.
    pub old: Option<Box<Object>>,
}

/// Why the store refused a write.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// A name collision.
    #[error("{kind} {namespace}/{name} already exists")]
    AlreadyExists {
        /// Kind.
        kind: Kind,
        /// Namespace.
        namespace: String,
        /// Name.
        name: String,
    },
    /// The object does not exist.
    #[error("{kind} {0} not found", kind = .1)]
    NotFound(String, Kind),
    /// Validation failed.
    #[error("invalid {kind} {name}: {message}")]
    Invalid {
        /// Kind.
        kind: Kind,
        /// Name.
        name: String,
        /// Why.
        message: String,
    },
    /// An admission plugin refused the object (`pods "web-" is forbidden: ...`).
    #[error("{resource} {name:?} is forbidden: {message}")]
    Forbidden {
        /// The resource (`pods`, `priorityclasses`).
        resource: &'static str,
        /// The name (the generateName prefix when the name is not generated yet).
        name: String,
        /// Why.
        message: String,
    },
}

/// Incrementally maintained sums over the non-terminal pods bound to a node (the
/// scheduler's and kubelet's view of what is in use).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NodeUsage {
    /// Sum of effective requests.
    pub requested: Resources,
    /// Sum of CPU requests with the scheduler's non-zero default (100m) applied.
    pub non_zero_cpu_milli: i64,
    /// Sum of memory requests with the non-zero default (200Mi) applied.
    pub non_zero_memory: i64,
    /// Number of pods.
    pub pods: i64,
    /// Host ports in use, `(protocol, port, number of containers using it)`, sorted
    /// (the scheduler's NodeInfo.UsedPorts; every host IP is the wildcard `0.0.0.0`).
    pub host_ports: Vec<(String, i32, i64)>,
}

impl NodeUsage {
    /// Whether `protocol`/`port` is in use on the node.
    pub fn host_port_used(&self, protocol: &str, port: i32) -> bool {
        self.host_ports
            .iter()
            .any(|(p, n, c)| *n == port && p == protocol && *c > 0)
    }

    /// Adds (`sign` 1) or removes (`sign` -1) a non-terminal pod's contribution: what the
    /// scheduler's NodeInfo AddPod/RemovePod do to the sums it filters on.
    pub fn apply_pod(&mut self, p: &Pod, sign: i64) {
        let (nzc, nzm) = non_zero_requests(&p.spec);
        if sign > 0 {
            self.requested.add(&p.requests);
        } else {
            self.requested.sub(&p.requests);
        }
        self.non_zero_cpu_milli += sign * nzc;
        self.non_zero_memory += sign * nzm;
        self.pods += sign;
        for c in p.spec.containers.iter().chain(&p.spec.init_containers) {
            for cp in &c.ports {
                if cp.host_port > 0 {
                    self.add_host_port(&cp.protocol, cp.host_port, sign);
                }
            }
        }
    }

    fn add_host_port(&mut self, protocol: &str, port: i32, delta: i64) {
        match self
            .host_ports
            .binary_search_by(|(p, n, _)| (p.as_str(), *n).cmp(&(protocol, port)))
        {
            Ok(i) => {
                self.host_ports[i].2 += delta;
                if self.host_ports[i].2 <= 0 {
                    self.host_ports.remove(i);
                }
            }
            Err(i) => {
                if delta > 0 {
                    self.host_ports
                        .insert(i, (protocol.to_string(), port, delta));
                }
            }
        }
    }
}

/// The scheduler's default CPU request for a container that sets none (millicores);
/// pkg/scheduler/util/pod_resources.go DefaultMilliCPURequest.
pub const DEFAULT_MILLI_CPU_REQUEST: i64 = 100;
/// The scheduler's default memory request for a container that sets none (bytes);
/// pkg/scheduler/util/pod_resources.go DefaultMemoryRequest.
pub const DEFAULT_MEMORY_REQUEST: i64 = 200 * 1024 * 1024;

/// A pod's (cpu, memory) request with the non-zero defaults applied per container
/// (pkg/scheduler/util/pod_resources.go GetNonzeroRequests), init containers taken as max.
pub fn non_zero_requests(spec: &PodSpec) -> (i64, i64) {
    let nz = |c: &Container| {
        let cpu = if c.requests.cpu_milli == 0 && !has_explicit(c, "cpu") {
            DEFAULT_MILLI_CPU_REQUEST
        } else {
            c.requests.cpu_milli
        };
        let mem = if c.requests.memory == 0 && !has_explicit(c, "memory") {
            DEFAULT_MEMORY_REQUEST
        } else {
            c.requests.memory
        };
        (cpu, mem)
    };
    let (mut cpu, mut mem) = (0, 0);
    for c in &spec.containers {
        let (a, b) = nz(c);
        cpu += a;
        mem += b;
    }
    for c in &spec.init_containers {
        let (a, b) = nz(c);
        cpu = cpu.max(a);
        mem = mem.max(b);
    }
    (cpu, mem)
}

// Our resource lists do not distinguish "0" from unset; a request of exactly 0 is
// treated as unset, which only differs from upstream for explicit zero requests.
fn has_explicit(_c: &Container, _name: &str) -> bool {
    false
}

/// One line of the run journal (`events.jsonl`).
#[derive(Debug, Clone, Serialize)]
pub struct JournalEntry {
    /// Simulated time in milliseconds.
    pub t_ms: u64,
    /// `ADDED`/`MODIFIED`/`DELETED` for object changes, `Event` for Kubernetes Events,
    /// `Action` for timeline actions.
    #[serde(rename = "type")]
    pub entry_type: &'static str,
    /// Kind of the object concerned.
    pub kind: &'static str,
    /// Namespace (empty for cluster-scoped objects).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    /// Name.
    pub name: String,
    /// resourceVersion after the write (0 for events).
    #[serde(skip_serializing_if = "is_zero")]
    pub rv: u64,
    /// Event reason (`Scheduled`, `FailedScheduling`, `SuccessfulCreate`, ...).
    #[serde(skip_serializing_if = "str::is_empty")]
    pub reason: &'static str,
    /// Event message or a compact state summary.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub message: String,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

/// Counts of pods by phase (plus terminating and ready), maintained incrementally.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PodCounts {
    /// Pending and not bound to a node.
    pub unscheduled: i64,
    /// Pending (bound or not).
    pub pending: i64,
    /// Running.
    pub running: i64,
    /// Succeeded.
    pub succeeded: i64,
    /// Failed.
    pub failed: i64,
    /// Unknown.
    pub unknown: i64,
    /// With a deletionTimestamp.
    pub terminating: i64,
    /// Running and with a deletionTimestamp.
    pub running_terminating: i64,
    /// Ready condition True.
    pub ready: i64,
}

impl PodCounts {
    fn apply(&mut self, p: &Pod, sign: i64) {
        match p.status.phase {
            PodPhase::Pending => {
                self.pending += sign;
                if p.spec.node_name.is_empty() {
                    self.unscheduled += sign;
                }
            }
            PodPhase::Running => self.running += sign,
            PodPhase::Succeeded => self.succeeded += sign,
            PodPhase::Failed => self.failed += sign,
            PodPhase::Unknown => self.unknown += sign,
        }
        if p.meta.deletion.is_some() {
            self.terminating += sign;
            if p.status.phase == PodPhase::Running {
                self.running_terminating += sign;
            }
        }
        if p.status.ready {
            self.ready += sign;
        }
    }
}

/// The apiserver + etcd analog.
#[derive(Debug)]
pub struct Store {
    /// Namespaces.
    pub namespaces: Arena<Namespace>,
    /// Nodes.
    pub nodes: Arena<Node>,
    /// Pods.
    pub pods: Arena<Pod>,
    /// ReplicationControllers.
    pub rcs: Arena<ReplicaSet>,
    /// ReplicaSets.
    pub replicasets: Arena<ReplicaSet>,
    /// Deployments.
    pub deployments: Arena<Deployment>,
    /// Services.
    pub services: Arena<Service>,
    /// HorizontalPodAutoscalers.
    pub hpas: Arena<HorizontalPodAutoscaler>,
    /// PodDisruptionBudgets.
    pub pdbs: Arena<PodDisruptionBudget>,
    /// PriorityClasses (the built-in system classes are not stored: see
    /// [`system_priority_class`]).
    pub priority_classes: Arena<PriorityClass>,
    rv: u64,
    /// Counts the writes that can change a scheduling decision: every write except a
    /// status or metadata update of a pod that stays unbound and un-nominated (see
    /// [`Store::scheduling_epoch`]).
    scheduling_epoch: u64,
    next_uid: u64,
    changes: Vec<Change>,
    pod_node: Vec<Option<u32>>,
    pods_by_node: Vec<BTreeSet<u32>>,
    node_usage: Vec<NodeUsage>,
    /// Per node id, the value of `stamp_clock` when its set of pods (or one of them)
    /// last changed: lets per-node caches outside the store know when to refresh.
    node_stamps: Vec<u64>,
    stamp_clock: u64,
    pods_by_owner: BTreeMap<Uid, BTreeSet<u32>>,
    pods_by_label: BTreeMap<(String, String), BTreeSet<u32>>,
    /// ReplicaSets by controller owner uid; `Uid(0)` holds the orphans.
    rs_by_owner: BTreeMap<Uid, BTreeSet<u32>>,
    counts: PodCounts,
    names_rng: SimRng,
    journal: Option<Vec<JournalEntry>>,
    /// Counters for reports.
    pub stats: StoreStats,
}

/// Counters the store keeps for reports.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StoreStats {
    /// Pods created.
    pub pods_created: u64,
    /// Pods removed for good.
    pub pods_removed: u64,
    /// Bindings (a pod's nodeName set).
    pub bindings: u64,
    /// Scheduling attempts that found no feasible node.
    pub failed_scheduling_attempts: u64,
    /// Scheduling latency of every binding, creation to binding, in milliseconds, in
    /// binding order.
    pub binding_latencies_ms: Vec<u64>,
    /// Pods evicted by preemption (victims).
    pub preemption_victims: u64,
    /// Successful preemption attempts (a nominated node chosen).
    pub preemptions: u64,
}

/// Alphabet of generated name suffixes (k8s.io/apimachinery/pkg/util/rand: no vowels,
/// no confusable characters).
const NAME_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

impl Store {
    /// An empty store with the `default` and `kube-system` namespaces. `names_rng`
    /// generates `generateName` suffixes.
    pub fn new(names_rng: SimRng, journal: bool) -> Store {
        let mut s = Store {
            namespaces: Arena::default(),
            nodes: Arena::default(),
            pods: Arena::default(),
            rcs: Arena::default(),
            replicasets: Arena::default(),
            deployments: Arena::default(),
            services: Arena::default(),
            hpas: Arena::default(),
            pdbs: Arena::default(),
            priority_classes: Arena::default(),
            rv: 0,
            scheduling_epoch: 0,
            next_uid: 1,
            changes: Vec::new(),
            pod_node: Vec::new(),
            pods_by_node: Vec::new(),
            node_usage: Vec::new(),
            node_stamps: Vec::new(),
            stamp_clock: 0,
            pods_by_owner: BTreeMap::new(),
            pods_by_label: BTreeMap::new(),
            rs_by_owner: BTreeMap::new(),
            counts: PodCounts::default(),
            names_rng,
            journal: journal.then(Vec::new),
            stats: StoreStats::default(),
        };
        for ns in ["default", "kube-system"] {
            s.ensure_namespace(ns, SimTime::ZERO);
        }
        s.changes.clear();
        s
    }

    /// The current resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.rv
    }

    /// Takes the watch events recorded since the last call.
    pub fn take_changes(&mut self) -> Vec<Change> {
        std::mem::take(&mut self.changes)
    }

    /// Whether watch events are waiting to be delivered.
    pub fn has_changes(&self) -> bool {
        !self.changes.is_empty()
    }

    /// Takes the journal (empty when journaling is off).
    pub fn take_journal(&mut self) -> Vec<JournalEntry> {
        self.journal
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// Whether the journal is being recorded.
    pub fn journaling(&self) -> bool {
        self.journal.is_some()
    }

    /// Pod counts by phase.
    pub fn pod_counts(&self) -> &PodCounts {
        &self.counts
    }

    /// The aggregate of non-terminal pods bound to node `id`.
    pub fn node_usage(&self, node: u32) -> &NodeUsage {
        static EMPTY: std::sync::OnceLock<NodeUsage> = std::sync::OnceLock::new();
        self.node_usage
            .get(node as usize)
            .unwrap_or_else(|| EMPTY.get_or_init(NodeUsage::default))
    }

    /// A stamp that changes whenever a pod is bound to, updated on or removed from node
    /// `id` (or the node is created): equal stamps mean the node's pods are unchanged,
    /// so a cache derived from them (the GPU plugins' per-node GPU state) is still valid.
    /// Stamps are unique over the store's life, also across deleted and re-created nodes.
    pub fn node_stamp(&self, node: u32) -> u64 {
        self.node_stamps.get(node as usize).copied().unwrap_or(0)
    }

    fn touch_node(&mut self, node: u32) {
        self.stamp_clock += 1;
        grow(&mut self.node_stamps, node);
        self.node_stamps[node as usize] = self.stamp_clock;
    }

    /// Ids of the pods bound to node `id` (any phase), ascending.
    pub fn pods_on_node(&self, node: u32) -> impl Iterator<Item = u32> + '_ {
        self.pods_by_node
            .get(node as usize)
            .into_iter()
            .flat_map(|s| s.iter().copied())
    }

    /// The node id a pod is bound to.
    pub fn pod_node(&self, pod: u32) -> Option<u32> {
        self.pod_node.get(pod as usize).copied().flatten()
    }

    /// Ids of the pods whose controller owner has this uid, ascending.
    pub fn pods_owned_by(&self, owner: Uid) -> impl Iterator<Item = u32> + '_ {
        self.pods_by_owner
            .get(&owner)
            .into_iter()
            .flat_map(|s| s.iter().copied())
    }

    /// Ids of the ReplicaSets whose controller owner has this uid, ascending.
    pub fn replicasets_owned_by(&self, owner: Uid) -> impl Iterator<Item = u32> + '_ {
        self.rs_by_owner
            .get(&owner)
            .into_iter()
            .flat_map(|s| s.iter().copied())
    }

    /// Ids of the ReplicaSets without a controller owner, ascending.
    pub fn orphan_replicasets(&self) -> impl Iterator<Item = u32> + '_ {
        self.replicasets_owned_by(Uid(0))
    }

    /// Ids of the pods carrying label `key=value`, ascending.
    pub fn pods_with_label<'a>(&'a self, key: &str, value: &str) -> impl Iterator<Item = u32> + 'a {
        self.pods_by_label
            .get(&(key.to_string(), value.to_string()))
            .into_iter()
            .flat_map(|s| s.iter().copied())
    }

    /// Ids of the pods in `namespace` matching `selector`, ascending. Uses the label index
    /// through the selector's most selective equality or `In` requirement; a selector
    /// without one falls back to a scan of all pods.
    pub fn select_pods(
        &self,
        namespace: &str,
        selector: &crate::api::selector::LabelSelector,
    ) -> Vec<u32> {
        use crate::api::selector::Operator;
        let mut best: Option<BTreeSet<u32>> = None;
        for r in selector.requirements() {
            if matches!(
                r.operator,
                Operator::Equals | Operator::DoubleEquals | Operator::In
            ) {
                let mut set = BTreeSet::new();
                for v in &r.values {
                    set.extend(self.pods_with_label(&r.key, v));
                }
                if best.as_ref().is_none_or(|b| set.len() < b.len()) {
                    best = Some(set);
                }
            }
        }
        let matches = |id: &u32| {
            self.pods
                .get(*id)
                .is_some_and(|p| p.meta.namespace == namespace && selector.matches(&p.meta.labels))
        };
        match best {
            Some(candidates) => candidates.into_iter().filter(matches).collect(),
            None => self.pods.iter().map(|(id, _)| id).filter(matches).collect(),
        }
    }

    /// Appends a Kubernetes Event (a decision) to the journal.
    pub fn record_event(
        &mut self,
        now: SimTime,
        kind: Kind,
        namespace: &str,
        name: &str,
        reason: &'static str,
        message: impl FnOnce() -> String,
    ) {
        if let Some(j) = self.journal.as_mut() {
            j.push(JournalEntry {
                t_ms: now.as_millis(),
                entry_type: "Event",
                kind: kind.as_str(),
                namespace: namespace.to_string(),
                name: name.to_string(),
                rv: 0,
                reason,
                message: message(),
            });
        }
    }

    /// Appends a timeline action to the journal.
    pub fn record_action(&mut self, now: SimTime, description: String) {
        if let Some(j) = self.journal.as_mut() {
            j.push(JournalEntry {
                t_ms: now.as_millis(),
                entry_type: "Action",
                kind: "Scenario",
                namespace: String::new(),
                name: String::new(),
                rv: 0,
                reason: "",
                message: description,
            });
        }
    }

    /// Journals a fault starting or healing (`type: Fault`, reason `FaultStarted` or
    /// `FaultHealed`, the fault's description as message).
    pub fn record_fault(&mut self, now: SimTime, reason: &'static str, description: String) {
        if let Some(j) = self.journal.as_mut() {
            j.push(JournalEntry {
                t_ms: now.as_millis(),
                entry_type: "Fault",
                kind: "Scenario",
                namespace: String::new(),
                name: String::new(),
                rv: 0,
                reason,
                message: description,
            });
        }
    }

    fn journal_change(
        &mut self,
        now: SimTime,
        kind: Kind,
        op: Op,
        meta: &ObjectMeta,
        summary: String,
    ) {
        if let Some(j) = self.journal.as_mut() {
            j.push(JournalEntry {
                t_ms: now.as_millis(),
                entry_type: op.as_str(),
                kind: kind.as_str(),
                namespace: meta.namespace.clone(),
                name: meta.name.clone(),
                rv: meta.resource_version,
                reason: "",
                message: summary,
            });
        }
    }

    fn ensure_namespace(&mut self, name: &str, now: SimTime) {
        if self.namespaces.id_of("", name).is_none() {
            let meta = ObjectMeta {
                name: name.to_string(),
                ..ObjectMeta::default()
            };
            let _ = self.create(Object::Namespace(Namespace { meta }), now);
        }
    }

    fn generate_name(&mut self, prefix: &str) -> String {
        // Upstream truncates the prefix to keep the name within 63 characters.
        let prefix = &prefix[..prefix.len().min(58)];
        let mut s = String::with_capacity(prefix.len() + 5);
        s.push_str(prefix);
        for _ in 0..5 {
            let i = (self.names_rng.next_u32() as usize) % NAME_ALPHABET.len();
            s.push(NAME_ALPHABET[i] as char);
        }
        s
    }

    fn next_rv(&mut self) -> u64 {
        self.scheduling_epoch += 1;
        self.rv += 1;
        self.rv
    }

    /// A counter that moves on every write that may change what the scheduler computes
    /// for a pending pod: any object created, changed or removed, except an update of a
    /// pod that is unbound and not nominated both before and after it (such a pod is not
    /// counted on any node by any plugin). Equal values mean an identical cluster for
    /// scheduling, which the scheduler's failure memo relies on.
    pub fn scheduling_epoch(&self) -> u64 {
        self.scheduling_epoch
    }

    /// Creates an object: fills in name (from generateName), uid, resourceVersion,
    /// creation time; rejects duplicates. Namespaces that do not exist are created.
    pub fn create(&mut self, mut obj: Object, now: SimTime) -> Result<(Kind, u32), StoreError> {
        let kind = obj.kind();
        if kind.namespaced() {
            let ns = obj.meta().namespace.clone();
            self.ensure_namespace(&ns, now);
        }
        match &mut obj {
            Object::Pod(p) => self.admit_pod_priority(p)?,
            Object::PriorityClass(pc) => self.validate_priority_class(pc)?,
            _ => {}
        }
        if obj.meta().owners.iter().any(|o| o.uid == Uid(0)) {
            self.resolve_owners(obj.meta_mut());
        }
        if obj.meta().name.is_empty() {
            let prefix = obj.meta().generate_name.clone();
            if prefix.is_empty() {
                return Err(StoreError::Invalid {
                    kind,
                    name: String::new(),
                    message: "name or generateName is required".into(),
                });
            }
            let mut name = self.generate_name(&prefix);
            let ns = obj.meta().namespace.clone();
            while self.id_of(kind, &ns, &name).is_some() {
                name = self.generate_name(&prefix);
            }
            obj.meta_mut().name = name;
        }
        let (ns, name) = (obj.meta().namespace.clone(), obj.meta().name.clone());
        if self.id_of(kind, &ns, &name).is_some() {
            return Err(StoreError::AlreadyExists {
                kind,
                namespace: ns,
                name,
            });
        }
        let rv = self.next_rv();
        let uid = Uid(self.next_uid);
        self.next_uid += 1;
        {
            let m = obj.meta_mut();
            m.uid = uid;
            m.resource_version = rv;
            m.creation = now;
            m.deletion = None;
            if m.generation == 0 {
                m.generation = 1;
            }
        }
        let summary = if self.journaling() {
            summarize(&obj)
        } else {
            String::new()
        };
        self.journal_change(now, kind, Op::Added, obj.meta(), summary);
        let key = (ns, name);
        let id = match obj {
            Object::Namespace(o) => insert(&mut self.namespaces, key, o),
            Object::Node(o) => {
                let id = insert(&mut self.nodes, key, *o);
                grow(&mut self.pods_by_node, id);
                grow(&mut self.node_usage, id);
                self.pods_by_node[id as usize].clear();
                self.node_usage[id as usize] = NodeUsage::default();
                self.touch_node(id);
                id
            }
            Object::Pod(mut p) => {
                // DefaultTolerationSeconds admission (not-ready/unreachable for 300 s).
                let extra = crate::controllers::node_lifecycle::rules::default_tolerations(
                    &p.spec.tolerations,
                );
                p.spec.tolerations.extend(extra);
                self.stats.pods_created += 1;
                let labels: Vec<(String, String)> = p
                    .meta
                    .labels
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                let id = insert(&mut self.pods, key, *p);
                for l in labels {
                    self.pods_by_label.entry(l).or_default().insert(id);
                }
                grow(&mut self.pod_node, id);
                self.pod_node[id as usize] = None;
                self.index_pod(id, 1);
                id
            }
            Object::ReplicaSet(r) => match r.kind {
                Kind::ReplicationController => insert(&mut self.rcs, key, *r),
                _ => {
                    let owner = r.meta.controller_ref().map_or(Uid(0), |o| o.uid);
                    let id = insert(&mut self.replicasets, key, *r);
                    self.rs_by_owner.entry(owner).or_default().insert(id);
                    id
                }
            },
            Object::Deployment(o) => insert(&mut self.deployments, key, *o),
            Object::Service(o) => insert(&mut self.services, key, *o),
            Object::HorizontalPodAutoscaler(o) => insert(&mut self.hpas, key, *o),
            Object::PodDisruptionBudget(o) => insert(&mut self.pdbs, key, *o),
            Object::PriorityClass(o) => insert(&mut self.priority_classes, key, *o),
        };
        self.changes.push(Change {
            kind,
            id,
            op: Op::Added,
            old: None,
        });
        Ok((kind, id))
    }

    /// Fills the uid of owner references loaded from manifests (a cluster dump names
    /// its owners, whose uids are the store's own here) by the owner's kind and name in
    /// the object's namespace; a reference to an owner that does not exist is dropped
    /// (the object is an orphan, which its controller may adopt by selector).
    fn resolve_owners(&self, meta: &mut ObjectMeta) {
        let ns = meta.namespace.clone();
        meta.owners.retain_mut(|o| {
            if o.uid != Uid(0) {
                return true;
            }
            let uid = match o.kind {
                Kind::ReplicaSet => self
                    .replicasets
                    .id_of(&ns, &o.name)
                    .and_then(|id| self.replicasets.get(id))
                    .map(|r| r.meta.uid),
                Kind::ReplicationController => self
                    .rcs
                    .id_of(&ns, &o.name)
                    .and_then(|id| self.rcs.get(id))
                    .map(|r| r.meta.uid),
                Kind::Deployment => self
                    .deployments
                    .id_of(&ns, &o.name)
                    .and_then(|id| self.deployments.get(id))
                    .map(|d| d.meta.uid),
                _ => None,
            };
            match uid {
                Some(u) => {
                    o.uid = u;
                    true
                }
                None => false,
            }
        });
    }

    /// The id of a named object of any kind.
    pub fn id_of(&self, kind: Kind, namespace: &str, name: &str) -> Option<u32> {
        match kind {
            Kind::Namespace => self.namespaces.id_of("", name),
            Kind::Node => self.nodes.id_of("", name),
            Kind::Pod => self.pods.id_of(namespace, name),
            Kind::ReplicationController => self.rcs.id_of(namespace, name),
            Kind::ReplicaSet => self.replicasets.id_of(namespace, name),
            Kind::Deployment => self.deployments.id_of(namespace, name),
            Kind::Service => self.services.id_of(namespace, name),
            Kind::HorizontalPodAutoscaler => self.hpas.id_of(namespace, name),
            Kind::PodDisruptionBudget => self.pdbs.id_of(namespace, name),
            Kind::PriorityClass => self.priority_classes.id_of("", name),
        }
    }

    /// The arena of ReplicaSet-shaped objects of `kind` (ReplicaSet or ReplicationController).
    pub fn rs_arena(&self, kind: Kind) -> &Arena<ReplicaSet> {
        if kind == Kind::ReplicationController {
            &self.rcs
        } else {
            &self.replicasets
        }
    }

    /// Adds (sign 1) or removes (sign -1) a pod's contribution to indexes and aggregates.
    fn index_pod(&mut self, id: u32, sign: i64) {
        let Some(p) = self.pods.get(id) else { return };
        self.counts.apply(p, sign);
        if let Some(owner) = p.meta.controller_ref() {
            let set = self.pods_by_owner.entry(owner.uid).or_default();
            if sign > 0 {
                set.insert(id);
            } else {
                set.remove(&id);
                if set.is_empty() {
                    self.pods_by_owner.remove(&owner.uid);
                }
            }
        }
        let node = if sign < 0 {
            self.pod_node[id as usize]
        } else if p.spec.node_name.is_empty() {
            None
        } else {
            // Reuse the cached id while it still names the same node.
            match self.pod_node[id as usize] {
                Some(n)
                    if self
                        .nodes
                        .get(n)
                        .is_some_and(|node| node.meta.name == p.spec.node_name) =>
                {
                    Some(n)
                }
                _ => self.nodes.id_of("", &p.spec.node_name),
            }
        };
        if sign > 0 {
            self.pod_node[id as usize] = node;
        }
        let Some(n) = node else { return };
        let p = self.pods.get(id).expect("checked above");
        let terminal = p.status.phase.is_terminal();
        let (nzc, nzm) = non_zero_requests(&p.spec);
        let requests = p.requests.clone();
        let ports: Vec<(String, i32)> = p
            .spec
            .containers
            .iter()
            .chain(&p.spec.init_containers)
            .flat_map(|c| &c.ports)
            .filter(|cp| cp.host_port > 0)
            .map(|cp| (cp.protocol.clone(), cp.host_port))
            .collect();
        self.touch_node(n);
        let set = &mut self.pods_by_node[n as usize];
        if sign > 0 {
            set.insert(id);
        } else {
            set.remove(&id);
        }
        if !terminal {
            let u = &mut self.node_usage[n as usize];
            if sign > 0 {
                u.requested.add(&requests);
            } else {
                u.requested.sub(&requests);
            }
            u.non_zero_cpu_milli += sign * nzc;
            u.non_zero_memory += sign * nzm;
            u.pods += sign;
            for (proto, port) in &ports {
                u.add_host_port(proto, *port, sign);
            }
        }
    }

    /// Updates a pod in place through `f`, keeping indexes and aggregates consistent.
    /// Returns `f`'s result, or `None` when the pod does not exist.
    pub fn update_pod<T>(
        &mut self,
        id: u32,
        now: SimTime,
        f: impl FnOnce(&mut Pod) -> T,
    ) -> Option<T> {
        let before = self.pods.get(id)?;
        let was_unbound = before.spec.node_name.is_empty();
        let was_nominated = !before.status.nominated_node_name.is_empty();
        let labels_before = labels_fingerprint(&before.meta.labels);
        self.index_pod(id, -1);
        self.rv += 1;
        let rv = self.rv;
        let pod = self.pods.get_mut(id).expect("checked above");
        let out = f(pod);
        if !(was_unbound
            && !was_nominated
            && pod.spec.node_name.is_empty()
            && pod.status.nominated_node_name.is_empty())
        {
            self.scheduling_epoch += 1;
        }
        if was_unbound && !pod.spec.node_name.is_empty() {
            self.stats.bindings += 1;
            self.stats
                .binding_latencies_ms
                .push(now.since(pod.meta.creation).as_millis());
        }
        pod.meta.resource_version = rv;
        if labels_fingerprint(&pod.meta.labels) != labels_before {
            // Labels rarely change: drop the pod from every label entry, then re-add.
            let labels: Vec<(String, String)> = pod
                .meta
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            self.pods_by_label.retain(|_, set| {
                set.remove(&id);
                !set.is_empty()
            });
            for l in labels {
                self.pods_by_label.entry(l).or_default().insert(id);
            }
        }
        self.index_pod(id, 1);
        if self.journaling() {
            let p = self.pods.get(id).expect("exists");
            let summary = pod_summary(p);
            let meta = p.meta.clone();
            self.journal_change(now, Kind::Pod, Op::Modified, &meta, summary);
        }
        self.changes.push(Change {
            kind: Kind::Pod,
            id,
            op: Op::Modified,
            old: None,
        });
        Some(out)
    }

    /// Removes a pod for good (after graceful termination, or at once for unscheduled pods).
    pub fn remove_pod(&mut self, id: u32, now: SimTime) -> Option<Pod> {
        self.pods.get(id)?;
        self.index_pod(id, -1);
        let rv = self.next_rv();
        let mut pod = remove(&mut self.pods, id)?;
        pod.meta.resource_version = rv;
        for (k, v) in &pod.meta.labels {
            let key = (k.clone(), v.clone());
            if let Some(set) = self.pods_by_label.get_mut(&key) {
                set.remove(&id);
                if set.is_empty() {
                    self.pods_by_label.remove(&key);
                }
            }
        }
        self.stats.pods_removed += 1;
        if self.journaling() {
            self.journal_change(now, Kind::Pod, Op::Deleted, &pod.meta, pod_summary(&pod));
        }
        self.changes.push(Change {
            kind: Kind::Pod,
            id,
            op: Op::Deleted,
            old: Some(Box::new(Object::Pod(Box::new(pod.clone())))),
        });
        Some(pod)
    }

    /// Starts graceful deletion of a pod (sets deletionTimestamp and grace period), as
    /// the apiserver does; an unscheduled or already terminal pod is removed at once.
    pub fn delete_pod(&mut self, id: u32, now: SimTime, grace_seconds: Option<i64>) -> bool {
        let Some(p) = self.pods.get(id) else {
            return false;
        };
        if p.meta.deletion.is_some() {
            return true;
        }
        // pkg/registry/core/pod/strategy.go CheckGracefulDelete: unscheduled or terminal
        // pods are deleted immediately.
        if p.spec.node_name.is_empty() || p.status.phase.is_terminal() || grace_seconds == Some(0) {
            self.remove_pod(id, now);
            return true;
        }
        let grace = grace_seconds.unwrap_or(p.spec.termination_grace_period_seconds);
        self.update_pod(id, now, |p| {
            p.meta.deletion =
                Some(now + crate::engine::SimDuration::from_secs(grace.max(0) as u64));
            p.meta.deletion_grace_seconds = Some(grace);
        });
        true
    }

    /// Updates a ReplicaSet or ReplicationController through `f`. `spec_change` bumps
    /// `metadata.generation`.
    pub fn update_rs<T>(
        &mut self,
        kind: Kind,
        id: u32,
        now: SimTime,
        spec_change: bool,
        f: impl FnOnce(&mut ReplicaSet) -> T,
    ) -> Option<T> {
        let rv = self.next_rv();
        let arena = if kind == Kind::ReplicationController {
            &mut self.rcs
        } else {
            &mut self.replicasets
        };
        let o = arena.get_mut(id)?;
        let owner_before = o.meta.controller_ref().map_or(Uid(0), |o| o.uid);
        let out = f(o);
        o.meta.resource_version = rv;
        if spec_change {
            o.meta.generation += 1;
        }
        let owner_after = o.meta.controller_ref().map_or(Uid(0), |o| o.uid);
        if kind == Kind::ReplicaSet && owner_before != owner_after {
            if let Some(set) = self.rs_by_owner.get_mut(&owner_before) {
                set.remove(&id);
            }
            self.rs_by_owner.entry(owner_after).or_default().insert(id);
        }
        if self.journal.is_some() {
            let o = self.rs_arena(kind).get(id).expect("exists");
            let (meta, s) = (o.meta.clone(), rs_summary(o));
            self.journal_change(now, kind, Op::Modified, &meta, s);
        }
        self.changes.push(Change {
            kind,
            id,
            op: Op::Modified,
            old: None,
        });
        Some(out)
    }

    /// Updates a node through `f`.
    pub fn update_node<T>(
        &mut self,
        id: u32,
        now: SimTime,
        f: impl FnOnce(&mut Node) -> T,
    ) -> Option<T> {
        let rv = self.next_rv();
        let o = self.nodes.get_mut(id)?;
        let out = f(o);
        o.meta.resource_version = rv;
        if self.journal.is_some() {
            let o = self.nodes.get(id).expect("exists");
            let (meta, s) = (o.meta.clone(), node_summary(o));
            self.journal_change(now, Kind::Node, Op::Modified, &meta, s);
        }
        self.changes.push(Change {
            kind: Kind::Node,
            id,
            op: Op::Modified,
            old: None,
        });
        Some(out)
    }

    /// Updates a Deployment through `f`; `spec_change` bumps generation.
    pub fn update_deployment<T>(
        &mut self,
        id: u32,
        now: SimTime,
        spec_change: bool,
        f: impl FnOnce(&mut Deployment) -> T,
    ) -> Option<T> {
        let rv = self.next_rv();
        let o = self.deployments.get_mut(id)?;
        let out = f(o);
        o.meta.resource_version = rv;
        if spec_change {
            o.meta.generation += 1;
        }
        if self.journal.is_some() {
            let o = self.deployments.get(id).expect("exists");
            let meta = o.meta.clone();
            let s = format!(
                "replicas={} updated={} ready={} available={}",
                o.replicas,
                o.status.updated_replicas,
                o.status.ready_replicas,
                o.status.available_replicas
            );
            self.journal_change(now, Kind::Deployment, Op::Modified, &meta, s);
        }
        self.changes.push(Change {
            kind: Kind::Deployment,
            id,
            op: Op::Modified,
            old: None,
        });
        Some(out)
    }

    /// Updates a PodDisruptionBudget through `f` (status writes; no generation bump).
    pub fn update_pdb<T>(
        &mut self,
        id: u32,
        now: SimTime,
        f: impl FnOnce(&mut PodDisruptionBudget) -> T,
    ) -> Option<T> {
        let rv = self.next_rv();
        let o = self.pdbs.get_mut(id)?;
        let out = f(o);
        o.meta.resource_version = rv;
        if self.journal.is_some() {
            let o = self.pdbs.get(id).expect("exists");
            let meta = o.meta.clone();
            let st = &o.status;
            let s = format!(
                "disruptionsAllowed={} currentHealthy={} desiredHealthy={} expectedPods={}",
                st.disruptions_allowed, st.current_healthy, st.desired_healthy, st.expected_pods
            );
            self.journal_change(now, Kind::PodDisruptionBudget, Op::Modified, &meta, s);
        }
        self.changes.push(Change {
            kind: Kind::PodDisruptionBudget,
            id,
            op: Op::Modified,
            old: None,
        });
        Some(out)
    }

    /// Updates a HorizontalPodAutoscaler through `f` (status writes; no generation bump).
    pub fn update_hpa<T>(
        &mut self,
        id: u32,
        now: SimTime,
        f: impl FnOnce(&mut HorizontalPodAutoscaler) -> T,
    ) -> Option<T> {
        let rv = self.next_rv();
        let o = self.hpas.get_mut(id)?;
        let out = f(o);
        o.meta.resource_version = rv;
        if self.journal.is_some() {
            let o = self.hpas.get(id).expect("exists");
            let meta = o.meta.clone();
            let s = format!(
                "currentReplicas={} desiredReplicas={}",
                o.status.current_replicas, o.status.desired_replicas
            );
            self.journal_change(now, Kind::HorizontalPodAutoscaler, Op::Modified, &meta, s);
        }
        self.changes.push(Change {
            kind: Kind::HorizontalPodAutoscaler,
            id,
            op: Op::Modified,
            old: None,
        });
        Some(out)
    }

    /// Deletes any non-pod object at once (cascading deletion of dependents is the
    /// garbage collector's job, done by the caller).
    pub fn delete_object(&mut self, kind: Kind, id: u32, now: SimTime) -> Option<Object> {
        let rv = self.next_rv();
        let mut obj = match kind {
            Kind::Pod => {
                return self.remove_pod(id, now).map(|p| Object::Pod(Box::new(p)));
            }
            Kind::Namespace => Object::Namespace(remove(&mut self.namespaces, id)?),
            Kind::Node => Object::Node(Box::new(remove(&mut self.nodes, id)?)),
            Kind::ReplicationController => Object::ReplicaSet(Box::new(remove(&mut self.rcs, id)?)),
            Kind::ReplicaSet => {
                let rs = remove(&mut self.replicasets, id)?;
                let owner = rs.meta.controller_ref().map_or(Uid(0), |o| o.uid);
                if let Some(set) = self.rs_by_owner.get_mut(&owner) {
                    set.remove(&id);
                }
                Object::ReplicaSet(Box::new(rs))
            }
            Kind::Deployment => Object::Deployment(Box::new(remove(&mut self.deployments, id)?)),
            Kind::Service => Object::Service(Box::new(remove(&mut self.services, id)?)),
            Kind::HorizontalPodAutoscaler => {
                Object::HorizontalPodAutoscaler(Box::new(remove(&mut self.hpas, id)?))
            }
            Kind::PodDisruptionBudget => {
                Object::PodDisruptionBudget(Box::new(remove(&mut self.pdbs, id)?))
            }
            Kind::PriorityClass => {
                Object::PriorityClass(Box::new(remove(&mut self.priority_classes, id)?))
            }
        };
        obj.meta_mut().resource_version = rv;
        if self.journal.is_some() {
            let meta = obj.meta().clone();
            self.journal_change(now, kind, Op::Deleted, &meta, String::new());
        }
        self.changes.push(Change {
            kind,
            id,
            op: Op::Deleted,
            old: Some(Box::new(obj.clone())),
        });
        Some(obj)
    }
}

/// Upstream `scheduling.SystemPriorityClasses`: the built-in classes and their values
/// (`system-node-critical`, `system-cluster-critical`).
pub fn system_priority_class(name: &str) -> Option<i32> {
    match name {
        SYSTEM_NODE_CRITICAL => Some(SYSTEM_CRITICAL_PRIORITY + 1000),
        SYSTEM_CLUSTER_CRITICAL => Some(SYSTEM_CRITICAL_PRIORITY),
        _ => None,
    }
}

/// Upstream `scheduling.SystemCriticalPriority`.
pub const SYSTEM_CRITICAL_PRIORITY: i32 = 2_000_000_000;
/// Upstream `scheduling.HighestUserDefinablePriority`.
pub const HIGHEST_USER_DEFINABLE_PRIORITY: i32 = 1_000_000_000;
/// Name of the built-in node-critical class.
pub const SYSTEM_NODE_CRITICAL: &str = "system-node-critical";
/// Name of the built-in cluster-critical class.
pub const SYSTEM_CLUSTER_CRITICAL: &str = "system-cluster-critical";

impl Store {
    /// The class a pod's `priorityClassName` names: `(value, preemptionPolicy)`, from the
    /// built-in system classes or the stored ones.
    pub fn resolve_priority_class(&self, name: &str) -> Option<(i32, PreemptionPolicy)> {
        if let Some(v) = system_priority_class(name) {
            return Some((v, PreemptionPolicy::PreemptLowerPriority));
        }
        let id = self.priority_classes.id_of("", name)?;
        let pc = self.priority_classes.get(id)?;
        Some((pc.value, pc.preemption_policy))
    }

    /// The `globalDefault` class; with several, the one with the lowest value
    /// (admission.go getDefaultPriorityClass).
    pub fn default_priority_class(&self) -> Option<&PriorityClass> {
        let mut best: Option<&PriorityClass> = None;
        for (_, pc) in self.priority_classes.iter_by_name() {
            if pc.global_default && best.is_none_or(|b| b.value > pc.value) {
                best = Some(pc);
            }
        }
        best
    }

    /// Port of plugin/pkg/admission/priority/admission.go admitPod (creation): resolves
    /// `priorityClassName` (or the `globalDefault` class when none is named, which also
    /// sets the name) into `priority` and, when the class has one, `preemptionPolicy`.
    /// A pod whose spec carries a different non-zero priority or a different policy is
    /// refused, as upstream (kubetwin cannot tell an explicit `priority: 0` from an
    /// unset one, so that case is accepted).
    fn admit_pod_priority(&self, p: &mut Pod) -> Result<(), StoreError> {
        let forbidden = |p: &Pod, message: String| StoreError::Forbidden {
            resource: "pods",
            name: if p.meta.name.is_empty() {
                p.meta.generate_name.clone()
            } else {
                p.meta.name.clone()
            },
            message,
        };
        let (priority, policy) = if p.spec.priority_class_name.is_empty() {
            match self.default_priority_class() {
                Some(pc) => {
                    p.spec.priority_class_name = pc.meta.name.clone();
                    (pc.value, Some(pc.preemption_policy))
                }
                None => (p.spec.priority, None),
            }
        } else {
            match self.resolve_priority_class(&p.spec.priority_class_name) {
                Some((v, pol)) => (v, Some(pol)),
                None => {
                    let msg = format!(
                        "no PriorityClass with name {} was found",
                        p.spec.priority_class_name
                    );
                    return Err(forbidden(p, msg));
                }
            }
        };
        if p.spec.priority != 0 && p.spec.priority != priority {
            let msg = format!(
                "the integer value of priority ({}) must not be provided in pod spec; priority admission controller computed {priority} from the given PriorityClass name",
                p.spec.priority
            );
            return Err(forbidden(p, msg));
        }
        p.spec.priority = priority;
        if let Some(pol) = policy {
            if let Some(own) = p.spec.preemption_policy
                && own != pol
            {
                let msg = format!(
                    "the string value of PreemptionPolicy ({}) must not be provided in pod spec; priority admission controller computed {} from the given PriorityClass name",
                    own.as_str(),
                    pol.as_str()
                );
                return Err(forbidden(p, msg));
            }
            p.spec.preemption_policy = Some(pol);
        }
        Ok(())
    }

    /// Port of admission.go validatePriorityClass: a user class may not exceed
    /// [`HIGHEST_USER_DEFINABLE_PRIORITY`] nor take a system name, and only one class may
    /// be the `globalDefault`.
    fn validate_priority_class(&self, pc: &PriorityClass) -> Result<(), StoreError> {
        let forbidden = |message: String| StoreError::Forbidden {
            resource: "priorityclasses",
            name: pc.meta.name.clone(),
            message,
        };
        if pc.value > HIGHEST_USER_DEFINABLE_PRIORITY {
            return Err(forbidden(format!(
                "maximum allowed value of a user defined priority is {HIGHEST_USER_DEFINABLE_PRIORITY}"
            )));
        }
        if system_priority_class(&pc.meta.name).is_some() {
            return Err(forbidden(format!(
                "the name of the priority class is a reserved name for system use only: {}",
                pc.meta.name
            )));
        }
        if pc.global_default
            && let Some(d) = self.default_priority_class()
        {
            return Err(forbidden(format!(
                "PriorityClass {} is already marked as default. Only one default can exist",
                d.meta.name
            )));
        }
        Ok(())
    }
}

/// An allocation-free fingerprint of a label map (FNV-1a), to notice label changes.
fn labels_fingerprint(labels: &crate::api::selector::Labels) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (k, v) in labels {
        for b in k.bytes().chain([0u8]).chain(v.bytes()).chain([1u8]) {
            h ^= b as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

fn grow<T: Default>(v: &mut Vec<T>, id: u32) {
    if v.len() <= id as usize {
        v.resize_with(id as usize + 1, T::default);
    }
}

fn insert<T>(arena: &mut Arena<T>, key: (String, String), obj: T) -> u32 {
    let id = arena.slots.len() as u32;
    arena.slots.push(Some(obj));
    arena.by_name.entry(key.0).or_default().insert(key.1, id);
    arena.len += 1;
    id
}

fn remove<T: HasMeta>(arena: &mut Arena<T>, id: u32) -> Option<T> {
    let obj = arena.slots.get_mut(id as usize)?.take()?;
    let m = obj.meta_ref();
    if let Some(names) = arena.by_name.get_mut(m.namespace.as_str()) {
        names.remove(m.name.as_str());
        if names.is_empty() {
            arena.by_name.remove(m.namespace.as_str());
        }
    }
    arena.len -= 1;
    Some(obj)
}

/// Access to metadata for arena bookkeeping.
pub trait HasMeta {
    /// The object's metadata.
    fn meta_ref(&self) -> &ObjectMeta;
}

macro_rules! has_meta {
    ($($t:ty),*) => {$(impl HasMeta for $t { fn meta_ref(&self) -> &ObjectMeta { &self.meta } })*};
}
has_meta!(
    Namespace,
    Node,
    Pod,
    ReplicaSet,
    Deployment,
    Service,
    HorizontalPodAutoscaler,
    PodDisruptionBudget,
    PriorityClass
);

fn pod_summary(p: &Pod) -> String {
    let mut s = format!("phase={}", p.status.phase.as_str());
    if !p.spec.node_name.is_empty() {
        s.push_str(" node=");
        s.push_str(&p.spec.node_name);
    }
    if p.status.ready {
        s.push_str(" ready");
    }
    let restarts = p.restarts();
    if restarts > 0 {
        s.push_str(&format!(" restarts={restarts}"));
    }
    if !p.status.nominated_node_name.is_empty() {
        s.push_str(" nominated=");
        s.push_str(&p.status.nominated_node_name);
    }
    if p.meta.deletion.is_some() {
        s.push_str(" terminating");
    }
    if !p.status.reason.is_empty() {
        s.push_str(" reason=");
        s.push_str(&p.status.reason);
    }
    s
}

fn rs_summary(r: &ReplicaSet) -> String {
    format!(
        "replicas={} current={} ready={} available={}",
        r.replicas, r.status.replicas, r.status.ready_replicas, r.status.available_replicas
    )
}

fn node_summary(n: &Node) -> String {
    let mut s = format!("ready={}", n.ready.as_str());
    if n.unschedulable {
        s.push_str(" unschedulable");
    }
    for t in &n.taints {
        s.push_str(&format!(" taint={}:{:?}", t.key, t.effect));
    }
    s
}

fn summarize(o: &Object) -> String {
    match o {
        Object::Pod(p) => pod_summary(p),
        Object::ReplicaSet(r) => rs_summary(r),
        Object::Node(n) => node_summary(n),
        Object::Deployment(d) => format!("replicas={}", d.replicas),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::RngStreams;

    fn node(name: &str, cpu: &str) -> Object {
        let mut capacity = Resources::default();
        capacity.set_str("cpu", cpu).unwrap();
        capacity.set_str("pods", "110").unwrap();
        Object::Node(Box::new(Node {
            meta: ObjectMeta {
                name: name.into(),
                ..Default::default()
            },
            unschedulable: false,
            taints: vec![],
            allocatable: capacity.clone(),
            capacity,
            ready: ConditionStatus::True,
            ready_transition: SimTime::ZERO,
            images: vec![],
        }))
    }

    fn pod(name: &str, node: &str, cpu: &str) -> Object {
        let mut requests = Resources::default();
        requests.set_str("cpu", cpu).unwrap();
        let spec = PodSpec {
            containers: vec![Container {
                name: "c".into(),
                image: "nginx".into(),
                requests,
                limits: Resources::default(),
                ports: vec![],
                liveness: None,
                readiness: None,
                startup: None,
            }],
            init_containers: vec![],
            node_name: node.into(),
            node_selector: Default::default(),
            node_affinity: None,
            tolerations: vec![],
            priority: 0,
            priority_class_name: String::new(),
            restart_policy: RestartPolicy::Always,
            termination_grace_period_seconds: 30,
            topology_spread_constraints: Vec::new(),
            scheduler_name: "default-scheduler".into(),
            dns_policy: "ClusterFirst".into(),
            host_network: false,
            preemption_policy: None,
            pod_affinity: None,
            pod_anti_affinity: None,
        };
        let meta = ObjectMeta {
            name: name.into(),
            namespace: "default".into(),
            ..Default::default()
        };
        Object::Pod(Box::new(Pod::new(meta, spec)))
    }

    #[test]
    fn aggregates_follow_writes() {
        let mut s = Store::new(RngStreams::new(1).stream("names"), true);
        let (_, n) = s.create(node("n1", "4"), SimTime::ZERO).unwrap();
        let (_, p) = s.create(pod("a", "", "500m"), SimTime::ZERO).unwrap();
        assert_eq!(s.node_usage(n).pods, 0);
        assert_eq!(s.pod_counts().unscheduled, 1);
        s.update_pod(p, SimTime(5), |p| p.spec.node_name = "n1".into());
        assert_eq!(s.node_usage(n).requested.cpu_milli, 500);
        assert_eq!(s.pods_on_node(n).collect::<Vec<_>>(), vec![p]);
        assert_eq!(s.pod_counts().unscheduled, 0);
        s.update_pod(p, SimTime(6), |p| p.status.phase = PodPhase::Succeeded);
        assert_eq!(s.node_usage(n).pods, 0, "terminal pods leave the aggregate");
        s.remove_pod(p, SimTime(7));
        assert_eq!(s.pods_on_node(n).count(), 0);
        assert!(matches!(
            s.create(node("n1", "1"), SimTime(8)),
            Err(StoreError::AlreadyExists { .. })
        ));
        let changes = s.take_changes();
        assert_eq!(changes.last().unwrap().op, Op::Deleted);
        assert!(s.take_journal().len() >= 5);
    }

    #[test]
    fn label_index_follows_writes() {
        use crate::api::selector::LabelSelector;
        let mut s = Store::new(RngStreams::new(1).stream("names"), false);
        let mut a = pod("a", "", "1");
        a.meta_mut().labels.insert("app".into(), "web".into());
        let mut b = pod("b", "", "1");
        b.meta_mut().labels.insert("app".into(), "db".into());
        let (_, ia) = s.create(a, SimTime::ZERO).unwrap();
        let (_, ib) = s.create(b, SimTime::ZERO).unwrap();
        let web = LabelSelector::parse("app=web").unwrap();
        assert_eq!(s.select_pods("default", &web), vec![ia]);
        assert_eq!(s.select_pods("other", &web), Vec::<u32>::new());
        let any = LabelSelector::parse("app in (web, db)").unwrap();
        assert_eq!(s.select_pods("default", &any), vec![ia, ib]);
        s.update_pod(ib, SimTime(1), |p| {
            p.meta.labels.insert("app".into(), "web".into());
        });
        assert_eq!(s.select_pods("default", &web), vec![ia, ib]);
        assert_eq!(s.pods_with_label("app", "db").count(), 0);
        s.remove_pod(ia, SimTime(2));
        assert_eq!(s.select_pods("default", &web), vec![ib]);
        let exists = LabelSelector::parse("app").unwrap();
        assert_eq!(
            s.select_pods("default", &exists),
            vec![ib],
            "no equality requirement: scan"
        );
    }

    #[test]
    fn generate_name_is_deterministic() {
        let mk = || {
            let mut s = Store::new(RngStreams::new(9).stream("names"), false);
            let mut p = pod("", "", "1");
            p.meta_mut().generate_name = "web-".into();
            let (_, id) = s.create(p, SimTime::ZERO).unwrap();
            s.pods.get(id).unwrap().meta.name.clone()
        };
        let a = mk();
        assert_eq!(a, mk());
        assert!(a.starts_with("web-") && a.len() == 9);
    }

    #[test]
    fn graceful_delete() {
        let mut s = Store::new(RngStreams::new(1).stream("names"), false);
        s.create(node("n1", "4"), SimTime::ZERO).unwrap();
        let (_, unbound) = s.create(pod("u", "", "1"), SimTime::ZERO).unwrap();
        let (_, bound) = s.create(pod("b", "n1", "1"), SimTime::ZERO).unwrap();
        s.delete_pod(unbound, SimTime(1), None);
        assert!(s.pods.get(unbound).is_none(), "unscheduled pods go at once");
        s.delete_pod(bound, SimTime(1), None);
        let p = s.pods.get(bound).unwrap();
        assert_eq!(p.meta.deletion_grace_seconds, Some(30));
        assert_eq!(s.pod_counts().terminating, 1);
    }
}
