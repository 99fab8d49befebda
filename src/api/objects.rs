//! kubetwin's compact internal object model: the fields of Kubernetes objects that the
//! control loops read or write, after the API server's defaults have been applied.
//! Wire types (`k8s-openapi`) are converted into these by [`crate::api::manifest`].

use super::affinity::{NodeAffinity, PodAffinity};
use super::resources::Resources;
use super::selector::{LabelSelector, Labels};
use super::taint::{Taint, Toleration};
use crate::engine::SimTime;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

/// The kinds kubetwin models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Kind {
    /// `v1/Namespace`.
    Namespace,
    /// `v1/Node`.
    Node,
    /// `v1/Pod`.
    Pod,
    /// `v1/ReplicationController`.
    ReplicationController,
    /// `apps/v1/ReplicaSet`.
    ReplicaSet,
    /// `apps/v1/Deployment`.
    Deployment,
    /// `v1/Service`.
    Service,
    /// `autoscaling/v2/HorizontalPodAutoscaler`.
    HorizontalPodAutoscaler,
    /// `policy/v1/PodDisruptionBudget`.
    PodDisruptionBudget,
    /// `scheduling.k8s.io/v1/PriorityClass`.
    PriorityClass,
}

impl Kind {
    /// Every modelled kind, in a fixed order.
    pub const ALL: [Kind; 10] = [
        Kind::Namespace,
        Kind::Node,
        Kind::Pod,
        Kind::ReplicationController,
        Kind::ReplicaSet,
        Kind::Deployment,
        Kind::Service,
        Kind::HorizontalPodAutoscaler,
        Kind::PodDisruptionBudget,
        Kind::PriorityClass,
    ];

    /// The Kubernetes kind name (`ReplicaSet`).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Namespace => "Namespace",
            Kind::Node => "Node",
            Kind::Pod => "Pod",
            Kind::ReplicationController => "ReplicationController",
            Kind::ReplicaSet => "ReplicaSet",
            Kind::Deployment => "Deployment",
            Kind::Service => "Service",
            Kind::HorizontalPodAutoscaler => "HorizontalPodAutoscaler",
            Kind::PodDisruptionBudget => "PodDisruptionBudget",
            Kind::PriorityClass => "PriorityClass",
        }
    }

    /// Whether objects of this kind live in a namespace.
    pub fn namespaced(self) -> bool {
        !matches!(self, Kind::Namespace | Kind::Node | Kind::PriorityClass)
    }

    /// Resolves kubectl-style names and short names (`rc`, `rs`, `deploy`, `po`, `no`,
    /// `svc`, `hpa`, `pdb`, `ns`, `pc`), singular or plural, case-insensitively.
    pub fn from_kubectl(name: &str) -> Option<Kind> {
        let n = name.to_ascii_lowercase();
        Some(match n.as_str() {
            "ns" | "namespace" | "namespaces" => Kind::Namespace,
            "no" | "node" | "nodes" => Kind::Node,
            "po" | "pod" | "pods" => Kind::Pod,
            "rc" | "replicationcontroller" | "replicationcontrollers" => {
                Kind::ReplicationController
            }
            "rs" | "replicaset" | "replicasets" => Kind::ReplicaSet,
            "deploy" | "deployment" | "deployments" => Kind::Deployment,
            "svc" | "service" | "services" => Kind::Service,
            "hpa" | "horizontalpodautoscaler" | "horizontalpodautoscalers" => {
                Kind::HorizontalPodAutoscaler
            }
            "pdb" | "poddisruptionbudget" | "poddisruptionbudgets" => Kind::PodDisruptionBudget,
            "pc" | "priorityclass" | "priorityclasses" => Kind::PriorityClass,
            _ => return None,
        })
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A unique object id, assigned by the store (printed as a UUID-shaped string).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
pub struct Uid(pub u64);

impl fmt::Display for Uid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "00000000-0000-4000-8000-{:012x}", self.0)
    }
}

/// A reference from a dependent to its owner (`metadata.ownerReferences[]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OwnerRef {
    /// The owner's kind.
    pub kind: Kind,
    /// The owner's name.
    pub name: String,
    /// The owner's uid.
    pub uid: Uid,
    /// Whether the owner is the managing controller.
    pub controller: bool,
}

/// `metadata` of every object.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ObjectMeta {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.generateName` (used when `name` is empty at creation).
    pub generate_name: String,
    /// `metadata.namespace` (empty for cluster-scoped kinds).
    pub namespace: String,
    /// `metadata.uid`.
    pub uid: Uid,
    /// `metadata.resourceVersion`: the store's revision at the last write.
    pub resource_version: u64,
    /// `metadata.generation`: bumped by every spec change.
    pub generation: i64,
    /// `metadata.creationTimestamp`.
    pub creation: SimTime,
    /// `metadata.deletionTimestamp` (graceful deletion in progress).
    pub deletion: Option<SimTime>,
    /// `metadata.deletionGracePeriodSeconds`.
    pub deletion_grace_seconds: Option<i64>,
    /// `metadata.labels`.
    pub labels: Labels,
    /// `metadata.annotations`.
    pub annotations: BTreeMap<String, String>,
    /// `metadata.ownerReferences`.
    pub owners: Vec<OwnerRef>,
}

impl ObjectMeta {
    /// The owner reference with `controller: true`, if any.
    pub fn controller_ref(&self) -> Option<&OwnerRef> {
        self.owners.iter().find(|o| o.controller)
    }
}

/// `pod.spec.restartPolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub enum RestartPolicy {
    /// Restart containers whatever their exit code (the default).
    #[default]
    Always,
    /// Restart containers that exit non-zero.
    OnFailure,
    /// Never restart.
    Never,
}

impl RestartPolicy {
    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            RestartPolicy::Always => "Always",
            RestartPolicy::OnFailure => "OnFailure",
            RestartPolicy::Never => "Never",
        }
    }
}

/// How a probe checks the container.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum ProbeHandler {
    /// `exec.command`.
    Exec(Vec<String>),
    /// `httpGet` (path, port).
    HttpGet(String, String),
    /// `tcpSocket.port`.
    TcpSocket(String),
    /// `grpc.port`.
    Grpc(i32),
}

/// A liveness, readiness or startup probe with the API defaults applied.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Probe {
    /// The check.
    pub handler: ProbeHandler,
    /// `initialDelaySeconds` (default 0).
    pub initial_delay_seconds: i32,
    /// `timeoutSeconds` (default 1).
    pub timeout_seconds: i32,
    /// `periodSeconds` (default 10).
    pub period_seconds: i32,
    /// `successThreshold` (default 1).
    pub success_threshold: i32,
    /// `failureThreshold` (default 3).
    pub failure_threshold: i32,
}

/// A container port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContainerPort {
    /// `containerPort`.
    pub container_port: i32,
    /// `hostPort` (0 = none).
    pub host_port: i32,
    /// `protocol` (default TCP).
    pub protocol: String,
}

/// A container of a pod.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Container {
    /// `name`.
    pub name: String,
    /// `image`.
    pub image: String,
    /// `resources.requests`.
    pub requests: Resources,
    /// `resources.limits`.
    pub limits: Resources,
    /// `ports`.
    pub ports: Vec<ContainerPort>,
    /// `livenessProbe`.
    pub liveness: Option<Probe>,
    /// `readinessProbe`.
    pub readiness: Option<Probe>,
    /// `startupProbe`.
    pub startup: Option<Probe>,
}

/// `pod.spec`, defaulted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PodSpec {
    /// `containers`.
    pub containers: Vec<Container>,
    /// `initContainers`.
    pub init_containers: Vec<Container>,
    /// `nodeName` (empty while unscheduled).
    pub node_name: String,
    /// `nodeSelector`.
    pub node_selector: Labels,
    /// `affinity.nodeAffinity`.
    pub node_affinity: Option<NodeAffinity>,
    /// `tolerations`.
    pub tolerations: Vec<Toleration>,
    /// `priority` (resolved from the priority class; default 0).
    pub priority: i32,
    /// `priorityClassName`.
    pub priority_class_name: String,
    /// `restartPolicy` (default Always).
    pub restart_policy: RestartPolicy,
    /// `terminationGracePeriodSeconds` (default 30).
    pub termination_grace_period_seconds: i64,
    /// `schedulerName` (default `default-scheduler`).
    pub scheduler_name: String,
    /// `dnsPolicy` (default `ClusterFirst`).
    pub dns_policy: String,
    /// `hostNetwork`.
    pub host_network: bool,
    /// `topologySpreadConstraints`.
    pub topology_spread_constraints: Vec<TopologySpreadConstraint>,
    /// `preemptionPolicy` (`None` when unset: the scheduler treats it as
    /// `PreemptLowerPriority`; the priority admission fills it from the pod's class).
    pub preemption_policy: Option<PreemptionPolicy>,
    /// `affinity.podAffinity`.
    pub pod_affinity: Option<PodAffinity>,
    /// `affinity.podAntiAffinity`.
    pub pod_anti_affinity: Option<PodAffinity>,
}

/// One `pod.spec.topologySpreadConstraints` entry, defaulted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TopologySpreadConstraint {
    /// `maxSkew` (>= 1).
    pub max_skew: i32,
    /// `topologyKey`.
    pub topology_key: String,
    /// `whenUnsatisfiable`: true for `DoNotSchedule`, false for `ScheduleAnyway`.
    pub do_not_schedule: bool,
    /// `labelSelector` (`None` when absent: matches nothing).
    pub label_selector: Option<LabelSelector>,
    /// `matchLabelKeys`.
    pub match_label_keys: Vec<String>,
    /// `minDomains` (default 1).
    pub min_domains: i32,
    /// `nodeAffinityPolicy` is `Honor` (the default).
    pub node_affinity_policy_honor: bool,
    /// `nodeTaintsPolicy` is `Honor` (default `Ignore`).
    pub node_taints_policy_honor: bool,
}

impl PodSpec {
    /// The pod's effective request: the larger of the sum over containers and each init
    /// container (upstream `resourcehelper.PodRequests` without overhead).
    pub fn effective_requests(&self) -> Resources {
        let mut sum = Resources::default();
        for c in &self.containers {
            sum.add(&c.requests);
        }
        for c in &self.init_containers {
            sum.max_with(&c.requests);
        }
        sum
    }
}

/// A pod template (`spec.template` of workload controllers).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PodTemplate {
    /// Template labels.
    pub labels: Labels,
    /// Template annotations (carry kubetwin's simulation knobs).
    pub annotations: BTreeMap<String, String>,
    /// The pod spec.
    pub spec: PodSpec,
}

/// `pod.status.phase`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Default)]
pub enum PodPhase {
    /// Accepted, not all containers running yet.
    #[default]
    Pending,
    /// Bound and at least one container running.
    Running,
    /// All containers terminated successfully and will not restart.
    Succeeded,
    /// All containers terminated, at least one in failure.
    Failed,
    /// The state could not be obtained.
    Unknown,
}

impl PodPhase {
    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            PodPhase::Pending => "Pending",
            PodPhase::Running => "Running",
            PodPhase::Succeeded => "Succeeded",
            PodPhase::Failed => "Failed",
            PodPhase::Unknown => "Unknown",
        }
    }
    /// Succeeded or Failed.
    pub fn is_terminal(self) -> bool {
        matches!(self, PodPhase::Succeeded | PodPhase::Failed)
    }
}

/// The state of one container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub enum ContainerState {
    /// Not running yet (reason: ContainerCreating, CrashLoopBackOff, ...).
    #[default]
    Waiting,
    /// Running since the given time.
    Running(SimTime),
    /// Exited with this code.
    Terminated(i32),
}

/// `pod.status.containerStatuses[]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct ContainerStatus {
    /// Container name.
    pub name: String,
    /// `ready`.
    pub ready: bool,
    /// `restartCount`.
    pub restart_count: i32,
    /// The current state.
    pub state: ContainerState,
    /// The reason of a Waiting or Terminated state.
    pub reason: String,
}

/// `pod.status`.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct PodStatus {
    /// `phase`.
    pub phase: PodPhase,
    /// When the PodScheduled condition became True.
    pub scheduled_at: Option<SimTime>,
    /// PodScheduled=False reason (`Unschedulable`) while pending.
    pub unschedulable: bool,
    /// The Ready condition.
    pub ready: bool,
    /// Last transition time of the Ready condition.
    pub ready_transition: Option<SimTime>,
    /// `startTime`: when the kubelet accepted the pod.
    pub start_time: Option<SimTime>,
    /// `containerStatuses`.
    pub containers: Vec<ContainerStatus>,
    /// `reason` (e.g. `OutOfcpu`, `Evicted`, `NodeLost`).
    pub reason: String,
    /// `message`.
    pub message: String,
    /// `nominatedNodeName`: the node a preemption cleared room on (empty when none).
    pub nominated_node_name: String,
    /// Reason of the `DisruptionTarget=True` condition (`PreemptionByScheduler`); empty
    /// when the pod has no such condition.
    pub disruption_target: String,
}

/// A Pod.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pod {
    /// Metadata.
    pub meta: ObjectMeta,
    /// Spec.
    pub spec: PodSpec,
    /// Status.
    pub status: PodStatus,
    /// Cached `spec.effective_requests()` (the spec's resources are immutable).
    pub requests: Resources,
}

impl Pod {
    /// A pod from its metadata and spec, with an empty status.
    pub fn new(meta: ObjectMeta, spec: PodSpec) -> Pod {
        let requests = spec.effective_requests();
        Pod {
            meta,
            spec,
            status: PodStatus::default(),
            requests,
        }
    }
    /// Whether the pod counts as active for controllers (upstream `IsPodActive`): not
    /// terminal and not being deleted.
    pub fn is_active(&self) -> bool {
        !self.status.phase.is_terminal() && self.meta.deletion.is_none()
    }
    /// Total restarts over containers.
    pub fn restarts(&self) -> i32 {
        self.status.containers.iter().map(|c| c.restart_count).sum()
    }
}

/// The Ready condition of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub enum ConditionStatus {
    /// Healthy.
    #[default]
    True,
    /// Reported unhealthy.
    False,
    /// Not heard from within the grace period.
    Unknown,
}

impl ConditionStatus {
    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ConditionStatus::True => "True",
            ConditionStatus::False => "False",
            ConditionStatus::Unknown => "Unknown",
        }
    }
}

/// An image present on a node (`node.status.images[]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeImage {
    /// Names (tags and digests) of the image.
    pub names: Vec<String>,
    /// Size in bytes.
    pub size_bytes: i64,
}

/// A Node.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Node {
    /// Metadata.
    pub meta: ObjectMeta,
    /// `spec.unschedulable` (cordoned).
    pub unschedulable: bool,
    /// `spec.taints`.
    pub taints: Vec<Taint>,
    /// `status.capacity`.
    pub capacity: Resources,
    /// `status.allocatable` (defaults to capacity).
    pub allocatable: Resources,
    /// The Ready condition's status.
    pub ready: ConditionStatus,
    /// When the Ready condition last changed.
    pub ready_transition: SimTime,
    /// `status.images`.
    pub images: Vec<NodeImage>,
}

impl Node {
    /// The node's zone key from its region and zone labels
    /// (k8s.io/component-helpers/node/topology GetZoneKey); empty without either label.
    pub fn zone_key(&self) -> String {
        let get = |k: &str| self.meta.labels.get(k).map(String::as_str).unwrap_or("");
        let (region, zone) = (
            get("topology.kubernetes.io/region"),
            get("topology.kubernetes.io/zone"),
        );
        if region.is_empty() && zone.is_empty() {
            String::new()
        } else {
            format!("{region}:\x00:{zone}")
        }
    }
}

/// `spec.strategy` of a Deployment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum DeploymentStrategy {
    /// Kill all old pods before creating new ones.
    Recreate,
    /// Replace pods gradually.
    RollingUpdate {
        /// `maxSurge` (`25%` by default), as written: an integer or `"N%"`.
        max_surge: String,
        /// `maxUnavailable` (`25%` by default).
        max_unavailable: String,
    },
}

/// A ReplicaSet or a ReplicationController (one controller serves both, as upstream).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReplicaSet {
    /// Metadata.
    pub meta: ObjectMeta,
    /// Which of the two kinds this is.
    pub kind: Kind,
    /// `spec.replicas` (default 1).
    pub replicas: i32,
    /// `spec.selector`.
    pub selector: LabelSelector,
    /// `spec.minReadySeconds`.
    pub min_ready_seconds: i32,
    /// `spec.template`.
    pub template: PodTemplate,
    /// Status.
    pub status: ReplicaSetStatus,
}

/// `status` of a ReplicaSet or ReplicationController.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReplicaSetStatus {
    /// `replicas`: active pods.
    pub replicas: i32,
    /// `fullyLabeledReplicas`.
    pub fully_labeled_replicas: i32,
    /// `readyReplicas`.
    pub ready_replicas: i32,
    /// `availableReplicas` (ready for minReadySeconds).
    pub available_replicas: i32,
    /// `observedGeneration`.
    pub observed_generation: i64,
}

/// A Deployment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Deployment {
    /// Metadata.
    pub meta: ObjectMeta,
    /// `spec.replicas` (default 1).
    pub replicas: i32,
    /// `spec.selector`.
    pub selector: LabelSelector,
    /// `spec.template`.
    pub template: PodTemplate,
    /// `spec.strategy`.
    pub strategy: DeploymentStrategy,
    /// `spec.minReadySeconds`.
    pub min_ready_seconds: i32,
    /// `spec.revisionHistoryLimit` (default 10).
    pub revision_history_limit: i32,
    /// `spec.progressDeadlineSeconds` (default 600).
    pub progress_deadline_seconds: i32,
    /// `spec.paused`.
    pub paused: bool,
    /// Status.
    pub status: DeploymentStatus,
}

/// `status` of a Deployment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DeploymentStatus {
    /// `replicas`.
    pub replicas: i32,
    /// `updatedReplicas`.
    pub updated_replicas: i32,
    /// `readyReplicas`.
    pub ready_replicas: i32,
    /// `availableReplicas`.
    pub available_replicas: i32,
    /// `unavailableReplicas`.
    pub unavailable_replicas: i32,
    /// `observedGeneration`.
    pub observed_generation: i64,
    /// `conditions`: `Available`, then `Progressing`, as the Deployment controller
    /// sets them.
    pub conditions: Vec<DeploymentCondition>,
}

/// A Deployment condition (`status.conditions[]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeploymentCondition {
    /// `type` (`Available` or `Progressing`).
    pub condition_type: String,
    /// `status`.
    pub status: ConditionStatus,
    /// `reason` (`MinimumReplicasAvailable`, `NewReplicaSetAvailable`,
    /// `ProgressDeadlineExceeded`, ...).
    pub reason: String,
    /// `message`.
    pub message: String,
    /// `lastUpdateTime`.
    pub last_update: SimTime,
    /// `lastTransitionTime`.
    pub last_transition: SimTime,
}

/// A Service port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServicePort {
    /// `port`.
    pub port: i32,
    /// `targetPort` as written.
    pub target_port: String,
    /// `protocol`.
    pub protocol: String,
}

/// A Service.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Service {
    /// Metadata.
    pub meta: ObjectMeta,
    /// `spec.selector` (empty: no managed endpoints).
    pub selector: Labels,
    /// `spec.type` (default ClusterIP).
    pub service_type: String,
    /// `spec.ports`.
    pub ports: Vec<ServicePort>,
}

/// A HorizontalPodAutoscaler (autoscaling/v2): the defaulted, validated spec (see
/// [`crate::api::hpa`]) and the status the HPA controller writes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HorizontalPodAutoscaler {
    /// Metadata.
    pub meta: ObjectMeta,
    /// `spec`.
    pub spec: crate::api::hpa::HpaSpec,
    /// `status`.
    pub status: crate::api::hpa::HpaStatus,
    /// Counters for the report (kubetwin's, not the API's).
    pub stats: crate::api::hpa::HpaStats,
}

/// A PodDisruptionBudget (policy/v1).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PodDisruptionBudget {
    /// Metadata.
    pub meta: ObjectMeta,
    /// `spec.minAvailable` as written (integer or percent), if set.
    pub min_available: Option<String>,
    /// `spec.maxUnavailable` as written, if set.
    pub max_unavailable: Option<String>,
    /// `spec.selector`.
    pub selector: LabelSelector,
    /// `spec.unhealthyPodEvictionPolicy`.
    pub unhealthy_pod_eviction_policy: Option<String>,
    /// Status, written by the disruption controller and the eviction API.
    pub status: PdbStatusFields,
}

/// `status` of a PodDisruptionBudget.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PdbStatusFields {
    /// `observedGeneration` (0 until the controller has computed the status).
    pub observed_generation: i64,
    /// `disruptionsAllowed`.
    pub disruptions_allowed: i32,
    /// `currentHealthy`.
    pub current_healthy: i32,
    /// `desiredHealthy`.
    pub desired_healthy: i32,
    /// `expectedPods`.
    pub expected_pods: i32,
    /// `disruptedPods`: pods evicted but not yet deleted, with the eviction time.
    pub disrupted_pods: BTreeMap<String, SimTime>,
}

/// A Namespace.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Namespace {
    /// Metadata.
    pub meta: ObjectMeta,
}

/// Any modelled object (what manifests and actions carry).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Object {
    /// A Namespace.
    Namespace(Namespace),
    /// A Node.
    Node(Box<Node>),
    /// A Pod.
    Pod(Box<Pod>),
    /// A ReplicaSet or ReplicationController.
    ReplicaSet(Box<ReplicaSet>),
    /// A Deployment.
    Deployment(Box<Deployment>),
    /// A Service.
    Service(Box<Service>),
    /// An HPA.
    HorizontalPodAutoscaler(Box<HorizontalPodAutoscaler>),
    /// A PDB.
    PodDisruptionBudget(Box<PodDisruptionBudget>),
    /// A PriorityClass.
    PriorityClass(Box<PriorityClass>),
}

impl Object {
    /// The object's kind.
    pub fn kind(&self) -> Kind {
        match self {
            Object::Namespace(_) => Kind::Namespace,
            Object::Node(_) => Kind::Node,
            Object::Pod(_) => Kind::Pod,
            Object::ReplicaSet(r) => r.kind,
            Object::Deployment(_) => Kind::Deployment,
            Object::Service(_) => Kind::Service,
            Object::HorizontalPodAutoscaler(_) => Kind::HorizontalPodAutoscaler,
            Object::PodDisruptionBudget(_) => Kind::PodDisruptionBudget,
            Object::PriorityClass(_) => Kind::PriorityClass,
        }
    }
    /// The object's metadata.
    pub fn meta(&self) -> &ObjectMeta {
        match self {
            Object::Namespace(o) => &o.meta,
            Object::Node(o) => &o.meta,
            Object::Pod(o) => &o.meta,
            Object::ReplicaSet(o) => &o.meta,
            Object::Deployment(o) => &o.meta,
            Object::Service(o) => &o.meta,
            Object::HorizontalPodAutoscaler(o) => &o.meta,
            Object::PodDisruptionBudget(o) => &o.meta,
            Object::PriorityClass(o) => &o.meta,
        }
    }
    /// Mutable metadata.
    pub fn meta_mut(&mut self) -> &mut ObjectMeta {
        match self {
            Object::Namespace(o) => &mut o.meta,
            Object::Node(o) => &mut o.meta,
            Object::Pod(o) => &mut o.meta,
            Object::ReplicaSet(o) => &mut o.meta,
            Object::Deployment(o) => &mut o.meta,
            Object::Service(o) => &mut o.meta,
            Object::HorizontalPodAutoscaler(o) => &mut o.meta,
            Object::PodDisruptionBudget(o) => &mut o.meta,
            Object::PriorityClass(o) => &mut o.meta,
        }
    }
}

/// `preemptionPolicy` of a pod or PriorityClass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub enum PreemptionPolicy {
    /// May preempt lower-priority pods (the default).
    #[default]
    PreemptLowerPriority,
    /// Never preempts.
    Never,
}

impl PreemptionPolicy {
    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            PreemptionPolicy::PreemptLowerPriority => "PreemptLowerPriority",
            PreemptionPolicy::Never => "Never",
        }
    }
}

/// A PriorityClass (scheduling.k8s.io/v1), defaulted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PriorityClass {
    /// Metadata (cluster-scoped).
    pub meta: ObjectMeta,
    /// `value`.
    pub value: i32,
    /// `globalDefault`.
    pub global_default: bool,
    /// `preemptionPolicy` (default `PreemptLowerPriority`).
    pub preemption_policy: PreemptionPolicy,
    /// `description`.
    pub description: String,
}
