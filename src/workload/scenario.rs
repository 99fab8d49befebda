//! The scenario file: a Kubernetes-shaped document (`apiVersion: kubetwin.dev/v1alpha1`,
//! `kind: Scenario`) naming the cluster (node pools or Node manifests), the manifests,
//! a timeline of actions, the duration, seed, sampling interval and expectations. See
//! `docs/scenario.md` for the reference. Loading validates everything up front, so a
//! run never starts on bad input: every error names file, line and field.

use super::expectation::Expectation;
use crate::api::manifest::{self, Loaded, SourceDoc, Warning};
use crate::api::objects::{ConditionStatus, Node, Object, ObjectMeta};
use crate::api::selector::Labels;
use crate::api::taint::{Taint, TaintEffect};
use crate::api::{Kind, Resources};
use crate::backend::sim::Behaviour;
use crate::controllers::cluster_autoscaler::config::template_node;
use crate::controllers::scheduler::config::SchedulerSettings;
use crate::engine::{SimDuration, SimTime};
use crate::error::{Error, InputError};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as WireQuantity;
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

mod node_groups;

pub use node_groups::Autoscaling;

/// The scenario API version.
pub const API_VERSION: &str = "kubetwin.dev/v1alpha1";

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ScenarioFile {
    api_version: Spanned<String>,
    kind: Spanned<String>,
    metadata: MetaSpec,
    spec: Spec,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MetaSpec {
    name: Spanned<String>,
    #[serde(default)]
    description: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Spec {
    #[serde(default)]
    seed: Option<u64>,
    duration: Spanned<SimDuration>,
    #[serde(default)]
    sampling: Option<SamplingSpec>,
    #[serde(default)]
    cluster: Option<ClusterSpec>,
    #[serde(default)]
    manifests: Vec<ManifestRef>,
    #[serde(default)]
    timeline: Vec<ActionSpec>,
    #[serde(default)]
    expectations: Vec<Spanned<String>>,
    #[serde(default)]
    scheduler: Option<SchedulerSpec>,
    #[serde(default)]
    load: Vec<super::load::LoadEntrySpec>,
    #[serde(default)]
    cluster_autoscaler: Option<node_groups::AutoscalerSpec>,
    /// `spec.parameters`: sweep parameters, checked by `crate::sweep::parameters`.
    #[serde(default)]
    parameters: Option<serde::de::IgnoredAny>,
    /// `spec.faults`: fault injection, checked by `crate::faults::spec`.
    #[serde(default)]
    faults: Vec<crate::faults::spec::FaultSpec>,
    /// `spec.openb`: the Alibaba openb GPU trace as cluster and arrivals.
    #[serde(default)]
    openb: Option<crate::workload::traces::openb_run::OpenbSpec>,
    /// `spec.traces`: event traces replayed over the run (`docs/traces.md`).
    #[serde(default)]
    traces: Vec<super::traces::spec::TraceSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct SamplingSpec {
    interval: Spanned<SimDuration>,
    #[serde(default)]
    per_node: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct SchedulerSpec {
    #[serde(default)]
    percentage_of_nodes_to_score: Option<Spanned<i64>>,
    #[serde(default)]
    tie_break: Option<Spanned<String>>,
    #[serde(default)]
    config: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ClusterSpec {
    #[serde(default)]
    node_pools: Vec<NodePool>,
    #[serde(default)]
    unavailable_images: Vec<String>,
    #[serde(default)]
    node_groups: Vec<node_groups::NodeGroupSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct NodePool {
    name: Spanned<String>,
    count: Spanned<i64>,
    capacity: BTreeMap<String, Spanned<WireQuantity>>,
    #[serde(default)]
    allocatable: Option<BTreeMap<String, Spanned<WireQuantity>>>,
    #[serde(default)]
    labels: Labels,
    #[serde(default)]
    taints: Vec<TaintSpec>,
    #[serde(default)]
    zones: Vec<String>,
    #[serde(default)]
    images: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TaintSpec {
    key: String,
    #[serde(default)]
    value: String,
    effect: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestRef {
    #[serde(default)]
    path: Option<Spanned<String>>,
    #[serde(default)]
    inline: Option<Spanned<String>>,
    /// A ByteDance cluster snapshot (file or dataset directory), imported as a twin.
    #[serde(default)]
    bytedance: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ScaleSpec {
    target: Spanned<String>,
    replicas: Spanned<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct SetImageSpec {
    target: Spanned<String>,
    container: Spanned<String>,
    image: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct UndoSpec {
    target: Spanned<String>,
    #[serde(default)]
    to_revision: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct DrainSpec {
    node: Spanned<String>,
    #[serde(default)]
    force: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ActionSpec {
    at: Spanned<SimDuration>,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    apply: Option<ManifestRef>,
    #[serde(default)]
    delete: Option<Spanned<String>>,
    #[serde(default)]
    scale: Option<ScaleSpec>,
    #[serde(default)]
    crash_node: Option<Spanned<String>>,
    #[serde(default)]
    restart_node: Option<Spanned<String>>,
    #[serde(default)]
    delete_node: Option<Spanned<String>>,
    #[serde(default)]
    cordon: Option<Spanned<String>>,
    #[serde(default)]
    uncordon: Option<Spanned<String>>,
    #[serde(default)]
    set_image: Option<SetImageSpec>,
    #[serde(default)]
    rollout_undo: Option<UndoSpec>,
    #[serde(default)]
    drain: Option<DrainSpec>,
    #[serde(default)]
    rollout_pause: Option<Spanned<String>>,
    #[serde(default)]
    rollout_resume: Option<Spanned<String>>,
    #[serde(default)]
    autoscale: Option<super::autoscale::AutoscaleSpec>,
}

/// A timeline action, validated.
#[derive(Debug, Clone)]
pub enum Action {
    /// Create (or replace the spec of) objects, as `kubectl apply`.
    Apply(Vec<Loaded>),
    /// Delete an object (`kubectl delete KIND/NAME`).
    Delete {
        /// Kind.
        kind: Kind,
        /// Namespace.
        namespace: String,
        /// Name.
        name: String,
    },
    /// Set a workload's replicas (`kubectl scale --replicas`).
    Scale {
        /// Kind.
        kind: Kind,
        /// Namespace.
        namespace: String,
        /// Name.
        name: String,
        /// New replica count.
        replicas: i32,
    },
    /// The node's machine crashes: kubelet and containers stop silently.
    CrashNode(String),
    /// A crashed node's machine comes back.
    RestartNode(String),
    /// The Node object is deleted (the machine is gone).
    DeleteNode(String),
    /// `kubectl cordon`.
    Cordon(String),
    /// `kubectl uncordon`.
    Uncordon(String),
    /// `kubectl drain NODE [--force]`: cordon, then evict every pod through the
    /// Eviction API, retrying refusals every 5 s.
    Drain {
        /// The node.
        node: String,
        /// Also evict pods no controller manages.
        force: bool,
    },
    /// `kubectl set image deployment/NAME CONTAINER=IMAGE`.
    SetImage {
        /// Namespace.
        namespace: String,
        /// Deployment name.
        name: String,
        /// Container name.
        container: String,
        /// New image.
        image: String,
    },
    /// `kubectl rollout undo deployment/NAME [--to-revision=N]` (0: the previous revision).
    RolloutUndo {
        /// Namespace.
        namespace: String,
        /// Deployment name.
        name: String,
        /// Target revision (0: the previous one).
        to_revision: i64,
    },
    /// `kubectl rollout pause deployment/NAME`.
    RolloutPause {
        /// Namespace.
        namespace: String,
        /// Deployment name.
        name: String,
    },
    /// `kubectl rollout resume deployment/NAME`.
    RolloutResume {
        /// Namespace.
        namespace: String,
        /// Deployment name.
        name: String,
    },
    /// A trace's load event: the `spec.load` entry `name` is offered a constant `rps`
    /// from now on (see `docs/traces.md`).
    SetLoad {
        /// The load entry's name.
        name: String,
        /// Requests per second.
        rps: f64,
    },
}

/// An action at a time.
#[derive(Debug, Clone)]
pub struct TimedAction {
    /// When.
    pub at: SimTime,
    /// What.
    pub action: Action,
    /// A kubectl-like description for logs and plots (`crash node node-2`).
    pub description: String,
    /// Where the entry is written (file, line, column, field), for errors found while
    /// it runs.
    pub source: (String, usize, usize, String),
}

/// A loaded, validated scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.description`.
    pub description: String,
    /// The file it came from.
    pub file: String,
    /// `spec.seed` (default 1).
    pub seed: u64,
    /// `spec.duration`.
    pub duration: SimDuration,
    /// `spec.sampling.interval` (default 10s).
    pub sampling_interval: SimDuration,
    /// `spec.sampling.perNode` (default: true for at most 100 nodes).
    pub per_node: Option<bool>,
    /// Objects present at time zero (nodes first), in order.
    pub objects: Vec<Loaded>,
    /// The timeline, sorted by time (stable).
    pub actions: Vec<TimedAction>,
    /// Expectations.
    pub expectations: Vec<Expectation>,
    /// `spec.scheduler.percentageOfNodesToScore` (0 = adaptive).
    pub percentage_of_nodes_to_score: usize,
    /// `spec.scheduler.tieBreak: name` breaks score ties by node name.
    pub tie_break_by_name: bool,
    /// `spec.scheduler.config`: the `KubeSchedulerConfiguration` it names, loaded and
    /// validated (`None`: upstream's default profile).
    pub scheduler_settings: Option<SchedulerSettings>,
    /// Warnings (skipped kinds).
    pub warnings: Vec<Warning>,
    /// `spec.cluster.unavailableImages`: images the registry does not have.
    pub unavailable_images: Vec<String>,
    /// Objects created over the run from a generator or a trace, streamed one at a time.
    pub arrivals: Option<super::stream::Arrivals>,
    /// `spec.load`: offered load per Service or Deployment (empty: no load model, no
    /// metrics-server scrapes).
    pub load: Vec<super::load::LoadSpec>,
    /// `spec.cluster.nodeGroups` with `spec.clusterAutoscaler` (`None`: no node groups).
    pub cluster_autoscaler: Option<Autoscaling>,
    /// `spec.faults`, validated (empty: no fault injection).
    pub faults: crate::faults::FaultPlan,
    /// FGD's typical pods when the workload defines them (`spec.openb`: the pod list's
    /// shapes); `None`: the shapes of the pods present at time zero.
    pub gpu_typical: Option<crate::controllers::scheduler::plugins::gpu::TypicalPods>,
    /// `spec.traces`: event traces, each read lazily as the run advances.
    pub traces: Vec<super::traces::source::TraceSource>,
}

/// The default scenario (the seeds' example), embedded in the binary.
pub const DEFAULT_SCENARIO: &str = include_str!("../../scenarios/nginx-self-heal.yaml");
/// The default scenario's display name.
pub const DEFAULT_SCENARIO_FILE: &str = "<embedded>/scenarios/nginx-self-heal.yaml";

struct Ctx<'a> {
    file: &'a str,
    text: &'a str,
    base: PathBuf,
}

impl Ctx<'_> {
    fn err_at<T>(&self, span: &Spanned<T>, field: &str, msg: impl Into<String>) -> InputError {
        InputError::at_spanned(self.file, self.text, span, field, msg)
    }
}

/// Whether a YAML text looks like a scenario (`kind: Scenario`).
pub fn is_scenario(text: &str) -> bool {
    text.lines().any(|l| l.trim() == "kind: Scenario")
}

impl Scenario {
    /// Loads a scenario file.
    pub fn load(path: &Path) -> Result<Scenario, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Scenario::from_str(&text, &path.display().to_string(), base)
    }

    /// The embedded default scenario.
    pub fn default_scenario() -> Result<Scenario, Error> {
        Scenario::from_str(
            DEFAULT_SCENARIO,
            DEFAULT_SCENARIO_FILE,
            PathBuf::from("scenarios"),
        )
    }

    /// Parses and validates scenario text; relative manifest paths resolve against `base`.
    pub fn from_str(text: &str, file: &str, base: PathBuf) -> Result<Scenario, Error> {
        let cx = Ctx { file, text, base };
        let f: ScenarioFile = serde_saphyr::from_str(text).map_err(|e| {
            let (line, col) = e
                .location()
                .map(|l| (l.line() as usize, l.column() as usize))
                .unwrap_or((1, 1));
            let msg = e.without_snippet().to_string();
            let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
            InputError::at(file, line, col, "", msg).with_source(text)
        })?;
        if f.api_version.value != API_VERSION {
            return Err(cx
                .err_at(
                    &f.api_version,
                    "apiVersion",
                    format!(
                        "unknown apiVersion {:?} (expected {API_VERSION:?})",
                        f.api_version.value
                    ),
                )
                .into());
        }
        if f.kind.value != "Scenario" {
            return Err(cx
                .err_at(
                    &f.kind,
                    "kind",
                    format!("expected kind Scenario, got {:?}", f.kind.value),
                )
                .into());
        }
        let spec = f.spec;
        if spec.parameters.is_some() {
            crate::sweep::parameters::check_declarations(text, file)?;
        }
        if spec.duration.value == SimDuration::ZERO {
            return Err(cx
                .err_at(&spec.duration, "spec.duration", "must be greater than 0")
                .into());
        }
        let (sampling_interval, per_node) = match &spec.sampling {
            Some(s) => {
                if s.interval.value == SimDuration::ZERO {
                    return Err(cx
                        .err_at(
                            &s.interval,
                            "spec.sampling.interval",
                            "must be greater than 0",
                        )
                        .into());
                }
                (s.interval.value, s.per_node)
            }
            None => (SimDuration::from_secs(10), None),
        };
        let mut objects = Vec::new();
        let mut warnings = Vec::new();
        if let Some(c) = &spec.cluster {
            for (i, pool) in c.node_pools.iter().enumerate() {
                objects.extend(cx.node_pool(pool, i)?);
            }
        }
        let pool_names: Vec<&str> = spec
            .cluster
            .iter()
            .flat_map(|c| &c.node_pools)
            .map(|p| p.name.value.as_str())
            .collect();
        let (cluster_autoscaler, group_nodes) = cx.autoscaling(
            spec.cluster.as_ref().map_or(&[][..], |c| &c.node_groups),
            &pool_names,
            spec.cluster_autoscaler.as_ref(),
        )?;
        objects.extend(group_nodes);
        let openb = match &spec.openb {
            Some(o) => {
                use crate::workload::traces::openb_run::{OpenbError, resolve};
                let src = resolve(o, &cx.base, spec.seed.unwrap_or(1)).map_err(|e| match e {
                    OpenbError::Field((line, col), field, msg) => {
                        Error::from(InputError::at(file, line, col, &field, msg).with_source(text))
                    }
                    OpenbError::Input(e) => e,
                })?;
                objects.extend(src.nodes);
                Some((src.arrivals, src.typical))
            }
            None => None,
        };
        for (i, m) in spec.manifests.iter().enumerate() {
            let r = cx.manifests(m, &format!("spec.manifests[{i}]"))?;
            objects.extend(r.objects);
            warnings.extend(r.warnings);
        }
        // Nodes first, so pods bound in manifests find them, and PriorityClasses, so the
        // priority admission resolves the pods' classes.
        objects.sort_by_key(|l| !matches!(l.object.kind(), Kind::Node | Kind::PriorityClass));
        manifest::check_duplicates(&objects)?;
        for l in &objects {
            check_behaviour(l)?;
        }
        let mut known: BTreeSet<(Kind, String, String)> = objects
            .iter()
            .map(|l| {
                (
                    l.object.kind(),
                    l.object.meta().namespace.clone(),
                    l.object.meta().name.clone(),
                )
            })
            .collect();
        for l in &objects {
            check_priority_class(l, &known)?;
            check_hpa_target(l, &known)?;
        }
        let mut specs: Vec<(usize, &ActionSpec)> = spec.timeline.iter().enumerate().collect();
        specs.sort_by_key(|(_, a)| a.at.value);
        let mut actions = Vec::new();
        for (i, a) in specs {
            let ta = cx.action(a, i, &mut known)?;
            if let Action::Apply(objs) = &ta.action {
                for l in objs {
                    check_behaviour(l)?;
                    check_priority_class(l, &known)?;
                    check_hpa_target(l, &known)?;
                }
            }
            actions.push(ta);
        }
        let mut expectations = Vec::new();
        for (i, e) in spec.expectations.iter().enumerate() {
            let exp = Expectation::parse(&e.value)
                .map_err(|m| cx.err_at(e, &format!("spec.expectations[{i}]"), m))?;
            expectations.push(exp);
        }
        let load = {
            let mut defined: BTreeSet<(Kind, String, String)> = BTreeSet::new();
            let objs = objects
                .iter()
                .chain(actions.iter().flat_map(|a| match &a.action {
                    Action::Apply(o) => o.as_slice(),
                    _ => &[],
                }));
            for l in objs {
                let m = l.object.meta();
                defined.insert((l.object.kind(), m.namespace.clone(), m.name.clone()));
            }
            let exists =
                |k: Kind, ns: &str, n: &str| defined.contains(&(k, ns.to_string(), n.to_string()));
            super::load::build(&spec.load, file, text, &cx.base, &exists)?
        };
        for (i, e) in spec.expectations.iter().enumerate() {
            super::load::check_expectation(&expectations[i], &load)
                .map_err(|m| cx.err_at(e, &format!("spec.expectations[{i}]"), m))?;
        }
        let (mut pct, mut by_name, mut scheduler_settings) = (0usize, false, None);
        if let Some(s) = &spec.scheduler {
            if let Some(c) = &s.config {
                let path = cx.base.join(&c.value);
                if !path.is_file() {
                    return Err(cx
                        .err_at(
                            c,
                            "spec.scheduler.config",
                            format!("no such file: {}", path.display()),
                        )
                        .into());
                }
                let settings =
                    crate::controllers::scheduler::plugins::gpu::framework::load_config(&path)?;
                warnings.extend(settings.warnings.iter().cloned());
                scheduler_settings = Some(settings);
            }
            if let Some(p) = &s.percentage_of_nodes_to_score {
                if !(0..=100).contains(&p.value) {
                    return Err(cx
                        .err_at(
                            p,
                            "spec.scheduler.percentageOfNodesToScore",
                            format!("must be between 0 and 100, got {}", p.value),
                        )
                        .into());
                }
                pct = p.value as usize;
            }
            if let Some(t) = &s.tie_break {
                by_name = match t.value.as_str() {
                    "random" => false,
                    "name" => true,
                    other => {
                        return Err(cx
                            .err_at(
                                t,
                                "spec.scheduler.tieBreak",
                                format!("unknown tie break {other:?} (random, name)"),
                            )
                            .into());
                    }
                };
            }
        }
        let faults = {
            let mut nodes: Vec<(String, crate::api::selector::Labels)> = objects
                .iter()
                .chain(actions.iter().flat_map(|a| match &a.action {
                    Action::Apply(o) => o.as_slice(),
                    _ => &[],
                }))
                .filter_map(|l| match &l.object {
                    Object::Node(n) => Some((n.meta.name.clone(), n.meta.labels.clone())),
                    _ => None,
                })
                .collect();
            nodes.sort_by(|a, b| a.0.cmp(&b.0));
            nodes.dedup_by(|a, b| a.0 == b.0);
            crate::faults::spec::build(
                &spec.faults,
                &crate::faults::spec::Context {
                    file,
                    text,
                    nodes: &nodes,
                    duration: spec.duration.value,
                },
            )?
        };
        let traces =
            super::traces::spec::build(&spec.traces, file, text, &cx.base, &known, &mut warnings)?;
        Ok(Scenario {
            name: f.metadata.name.value.clone(),
            description: f.metadata.description,
            file: file.to_string(),
            seed: spec.seed.unwrap_or(1),
            duration: spec.duration.value,
            sampling_interval,
            per_node,
            objects,
            actions,
            expectations,
            percentage_of_nodes_to_score: pct,
            tie_break_by_name: by_name,
            scheduler_settings,
            warnings,
            unavailable_images: spec
                .cluster
                .as_ref()
                .map(|c| c.unavailable_images.clone())
                .unwrap_or_default(),
            gpu_typical: openb.as_ref().map(|(_, t)| t.clone()),
            arrivals: openb.map(|(a, _)| a),
            load,
            cluster_autoscaler,
            faults,
            traces,
        })
    }
}

/// The priority admission's "no PriorityClass with name X was found", found before the
/// run: a pod or pod template naming a class that is neither built in nor defined by then.
fn check_priority_class(
    l: &Loaded,
    known: &BTreeSet<(Kind, String, String)>,
) -> Result<(), InputError> {
    let (spec, field) = match &l.object {
        Object::Pod(p) => (&p.spec, "spec.priorityClassName"),
        Object::ReplicaSet(r) => (&r.template.spec, "spec.template.spec.priorityClassName"),
        Object::Deployment(d) => (&d.template.spec, "spec.template.spec.priorityClassName"),
        _ => return Ok(()),
    };
    let name = &spec.priority_class_name;
    if name.is_empty()
        || crate::api::store::system_priority_class(name).is_some()
        || known.contains(&(Kind::PriorityClass, String::new(), name.clone()))
    {
        return Ok(());
    }
    Err(l.source.error(
        field,
        format!("no PriorityClass with name {name} was found"),
    ))
}

/// An HPA whose scale target does not exist at that point of the timeline (upstream's
/// controller would record FailedGetScale forever): refused at load time.
fn check_hpa_target(
    l: &Loaded,
    known: &BTreeSet<(Kind, String, String)>,
) -> Result<(), InputError> {
    let Object::HorizontalPodAutoscaler(h) = &l.object else {
        return Ok(());
    };
    let t = &h.spec.target;
    let (kind, resource) = match t.kind.as_str() {
        "Deployment" => (Kind::Deployment, "deployments.apps"),
        "ReplicaSet" => (Kind::ReplicaSet, "replicasets.apps"),
        "ReplicationController" => (Kind::ReplicationController, "replicationcontrollers"),
        other => {
            return Err(l.source.error(
                "spec.scaleTargetRef.kind",
                format!(
                    "cannot autoscale a {other}: kubetwin scales Deployment, ReplicaSet and ReplicationController"
                ),
            ));
        }
    };
    if known.contains(&(kind, h.meta.namespace.clone(), t.name.clone())) {
        return Ok(());
    }
    Err(l.source.error(
        "spec.scaleTargetRef.name",
        format!(
            "{resource} {:?} not found in namespace {:?} at this point of the timeline",
            t.name, h.meta.namespace
        ),
    ))
}

fn check_behaviour(l: &Loaded) -> Result<(), InputError> {
    let (anns, field) = match &l.object {
        Object::Pod(p) => (&p.meta.annotations, "metadata.annotations"),
        Object::ReplicaSet(r) => (
            &r.template.annotations,
            "spec.template.metadata.annotations",
        ),
        Object::Deployment(d) => (
            &d.template.annotations,
            "spec.template.metadata.annotations",
        ),
        _ => return Ok(()),
    };
    Behaviour::from_annotations(anns)
        .map(|_| ())
        .map_err(|e| l.source.error(&format!("{field}.{}", e.key), e.message))
}

impl Ctx<'_> {
    fn quantities(
        &self,
        m: &BTreeMap<String, Spanned<WireQuantity>>,
        field: &str,
    ) -> Result<Resources, InputError> {
        let mut r = Resources::default();
        for (k, v) in m {
            r.set_str(k, &v.value.0)
                .map_err(|e| self.err_at(v, &format!("{field}.{k}"), e.to_string()))?;
        }
        Ok(r)
    }

    fn node_pool(&self, pool: &NodePool, i: usize) -> Result<Vec<Loaded>, InputError> {
        let f = format!("spec.cluster.nodePools[{i}]");
        crate::api::convert::validate_name(&pool.name.value)
            .map_err(|m| self.err_at(&pool.name, &format!("{f}.name"), m))?;
        if pool.count.value < 0 || pool.count.value > 100_000 {
            return Err(self.err_at(
                &pool.count,
                &format!("{f}.count"),
                format!("must be between 0 and 100000, got {}", pool.count.value),
            ));
        }
        let template = self.node_template(
            &pool.capacity,
            pool.allocatable.as_ref(),
            &pool.labels,
            &pool.taints,
            &pool.images,
            &f,
        )?;
        let text: Arc<str> = Arc::from(self.text);
        let mut out = Vec::new();
        for n in 1..=pool.count.value as usize {
            let name = format!("{}-{n}", pool.name.value);
            let node = template_node(&template, &pool.zones, &name, n);
            out.push(self.loaded_node(node, &pool.name, &text));
        }
        Ok(out)
    }

    /// A pool's or node group's node before naming: resources (pods default 110,
    /// allocatable defaults to capacity), labels, taints, images; Ready at time zero.
    fn node_template(
        &self,
        capacity: &BTreeMap<String, Spanned<WireQuantity>>,
        allocatable: Option<&BTreeMap<String, Spanned<WireQuantity>>>,
        labels: &Labels,
        taint_specs: &[TaintSpec],
        images: &[String],
        f: &str,
    ) -> Result<Node, InputError> {
        let mut capacity = self.quantities(capacity, &format!("{f}.capacity"))?;
        if capacity.pods == 0 {
            capacity.pods = 110;
        }
        let allocatable = match allocatable {
            Some(a) => {
                let mut r = self.quantities(a, &format!("{f}.allocatable"))?;
                if r.pods == 0 {
                    r.pods = capacity.pods;
                }
                r
            }
            None => capacity.clone(),
        };
        let mut taints = Vec::new();
        for (j, t) in taint_specs.iter().enumerate() {
            let effect = t.effect.value.parse::<TaintEffect>().map_err(|e| {
                self.err_at(&t.effect, &format!("{f}.taints[{j}].effect"), e.to_string())
            })?;
            taints.push(Taint {
                key: t.key.clone(),
                value: t.value.clone(),
                effect,
            });
        }
        Ok(Node {
            meta: ObjectMeta {
                labels: labels.clone(),
                ..ObjectMeta::default()
            },
            unschedulable: false,
            taints,
            capacity,
            allocatable,
            ready: ConditionStatus::True,
            ready_transition: SimTime::ZERO,
            images: images
                .iter()
                .map(|i| crate::api::objects::NodeImage {
                    names: vec![i.clone()],
                    size_bytes: 0,
                })
                .collect(),
        })
    }

    /// A node created at time zero, attributed to the line of `at`.
    fn loaded_node(&self, node: Node, at: &Spanned<String>, text: &Arc<str>) -> Loaded {
        Loaded {
            object: Object::Node(Box::new(node)),
            source: SourceDoc {
                file: Arc::from(self.file),
                text: text.clone(),
                first_line: at.referenced.line() as usize,
                item: None,
            },
        }
    }

    fn manifests(&self, m: &ManifestRef, field: &str) -> Result<manifest::LoadResult, Error> {
        if let Some(b) = &m.bytedance {
            if m.path.is_some() || m.inline.is_some() {
                return Err(self
                    .err_at(b, field, "give one of path, inline or bytedance")
                    .into());
            }
            let path = self.base.join(&b.value);
            if !path.exists() {
                return Err(self
                    .err_at(
                        b,
                        &format!("{field}.bytedance"),
                        format!("no such file or directory: {}", path.display()),
                    )
                    .into());
            }
            return super::traces::bytedance::load_manifests(&path);
        }
        match (&m.path, &m.inline) {
            (Some(p), None) => {
                let path = self.base.join(&p.value);
                if !path.exists() {
                    return Err(self
                        .err_at(
                            p,
                            &format!("{field}.path"),
                            format!("no such file or directory: {}", path.display()),
                        )
                        .into());
                }
                manifest::load_paths(&[path], true)
            }
            (None, Some(inline)) => {
                // A block scalar's content starts on the line after its indicator.
                let line = inline.referenced.line() as usize;
                let indicator = self.text.lines().nth(line - 1).is_some_and(|l| {
                    let t = l.trim_end();
                    t.ends_with('|') || t.ends_with("|-") || t.ends_with("|+") || t.ends_with('>')
                });
                let first = if indicator { line + 1 } else { line };
                Ok(manifest::load_str(&inline.value, self.file, first)?)
            }
            (Some(p), Some(_)) => Err(self
                .err_at(p, field, "give either path or inline, not both")
                .into()),
            (None, None) => {
                Err(
                    InputError::at(self.file, 1, 1, field, "a manifest needs path or inline")
                        .with_source(self.text)
                        .into(),
                )
            }
        }
    }

    fn target(
        &self,
        s: &Spanned<String>,
        field: &str,
        ns: &str,
        known: &BTreeSet<(Kind, String, String)>,
        kinds: &[Kind],
    ) -> Result<(Kind, String, String), InputError> {
        let Some((k, name)) = s.value.split_once('/') else {
            return Err(self.err_at(
                s,
                field,
                format!("expected KIND/NAME (e.g. rc/nginx), got {:?}", s.value),
            ));
        };
        let kind = Kind::from_kubectl(k)
            .filter(|k| kinds.contains(k))
            .ok_or_else(|| {
                let allowed: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
                self.err_at(
                    s,
                    field,
                    format!(
                        "unsupported kind {k:?} here (one of {})",
                        allowed.join(", ")
                    ),
                )
            })?;
        let ns = if kind.namespaced() {
            ns.to_string()
        } else {
            String::new()
        };
        if !known.contains(&(kind, ns.clone(), name.to_string())) {
            let where_ = if kind.namespaced() {
                format!(" in namespace {ns:?}")
            } else {
                String::new()
            };
            return Err(self.err_at(
                s,
                field,
                format!("{kind} {name:?} does not exist{where_} at this point of the timeline"),
            ));
        }
        Ok((kind, ns, name.to_string()))
    }

    /// The `autoscale` action: the HPA `kubectl autoscale` creates, applied.
    fn autoscale(
        &self,
        asc: &super::autoscale::AutoscaleSpec,
        f: &str,
        ns: &str,
        known: &mut BTreeSet<(Kind, String, String)>,
    ) -> Result<(Action, String), Error> {
        let kinds = [
            Kind::ReplicationController,
            Kind::ReplicaSet,
            Kind::Deployment,
        ];
        let (kind, ns, name) = self.target(
            &asc.target,
            &format!("{f}.autoscale.target"),
            ns,
            known,
            &kinds,
        )?;
        let (wire, desc) = super::autoscale::build(asc, kind, &ns, &name).map_err(|e| {
            InputError::at(
                self.file,
                e.at.0,
                e.at.1,
                &format!("{f}.autoscale.{}", e.field),
                e.message,
            )
            .with_source(self.text)
        })?;
        let object = crate::api::convert::hpa(wire)
            .map_err(|e| self.err_at(&asc.target, &format!("{f}.autoscale"), e.to_string()))?;
        let m = object.meta();
        known.insert((
            Kind::HorizontalPodAutoscaler,
            m.namespace.clone(),
            m.name.clone(),
        ));
        let source = SourceDoc {
            file: Arc::from(self.file),
            text: Arc::from(self.text),
            first_line: 1,
            item: None,
        };
        Ok((Action::Apply(vec![Loaded { object, source }]), desc))
    }

    fn node_target(
        &self,
        s: &Spanned<String>,
        field: &str,
        known: &BTreeSet<(Kind, String, String)>,
    ) -> Result<String, InputError> {
        let name = s
            .value
            .strip_prefix("node/")
            .unwrap_or(&s.value)
            .to_string();
        if !known.contains(&(Kind::Node, String::new(), name.clone())) {
            return Err(self.err_at(
                s,
                field,
                format!("node {name:?} does not exist at this point of the timeline"),
            ));
        }
        Ok(name)
    }

    fn action(
        &self,
        a: &ActionSpec,
        i: usize,
        known: &mut BTreeSet<(Kind, String, String)>,
    ) -> Result<TimedAction, Error> {
        let f = format!("spec.timeline[{i}]");
        let ns = a.namespace.clone().unwrap_or_else(|| "default".into());
        let set = [
            a.apply.is_some(),
            a.delete.is_some(),
            a.scale.is_some(),
            a.crash_node.is_some(),
            a.restart_node.is_some(),
            a.delete_node.is_some(),
            a.cordon.is_some(),
            a.uncordon.is_some(),
            a.set_image.is_some(),
            a.rollout_undo.is_some(),
            a.rollout_pause.is_some(),
            a.rollout_resume.is_some(),
            a.drain.is_some(),
            a.autoscale.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        if set != 1 {
            return Err(self.err_at(&a.at, &f, "each timeline entry needs exactly one action (apply, delete, scale, crashNode, restartNode, deleteNode, cordon, uncordon, setImage, rolloutUndo, rolloutPause, rolloutResume, drain, autoscale)").into());
        }
        let at = SimTime::ZERO + a.at.value;
        let (action, description) = if let Some(m) = &a.apply {
            let r = self.manifests(m, &format!("{f}.apply"))?;
            for l in &r.objects {
                let m = l.object.meta();
                known.insert((l.object.kind(), m.namespace.clone(), m.name.clone()));
            }
            let names: Vec<String> = r
                .objects
                .iter()
                .map(|l| {
                    format!(
                        "{}/{}",
                        l.object.kind().as_str().to_ascii_lowercase(),
                        l.object.meta().name
                    )
                })
                .collect();
            (
                Action::Apply(r.objects),
                format!("apply {}", names.join(", ")),
            )
        } else if let Some(d) = &a.delete {
            // Every modelled kind but namespaces.
            let kinds: Vec<Kind> = Kind::ALL
                .into_iter()
                .filter(|k| *k != Kind::Namespace)
                .collect();
            let (kind, ns, name) = self.target(d, &format!("{f}.delete"), &ns, known, &kinds)?;
            known.remove(&(kind, ns.clone(), name.clone()));
            let desc = format!("delete {}/{name}", kind.as_str().to_ascii_lowercase());
            if kind == Kind::Node {
                (Action::DeleteNode(name), desc)
            } else {
                (
                    Action::Delete {
                        kind,
                        namespace: ns,
                        name,
                    },
                    desc,
                )
            }
        } else if let Some(s) = &a.scale {
            let kinds = [
                Kind::ReplicationController,
                Kind::ReplicaSet,
                Kind::Deployment,
            ];
            let (kind, ns, name) =
                self.target(&s.target, &format!("{f}.scale.target"), &ns, known, &kinds)?;
            if s.replicas.value < 0 || s.replicas.value > i32::MAX as i64 {
                return Err(self
                    .err_at(
                        &s.replicas,
                        &format!("{f}.scale.replicas"),
                        format!(
                            "must be greater than or equal to 0, got {}",
                            s.replicas.value
                        ),
                    )
                    .into());
            }
            let desc = format!(
                "scale {}/{name} --replicas={}",
                kind.as_str().to_ascii_lowercase(),
                s.replicas.value
            );
            (
                Action::Scale {
                    kind,
                    namespace: ns,
                    name,
                    replicas: s.replicas.value as i32,
                },
                desc,
            )
        } else if let Some(asc) = &a.autoscale {
            self.autoscale(asc, &f, &ns, known)?
        } else if let Some(si) = &a.set_image {
            let (_, ns, name) = self.target(
                &si.target,
                &format!("{f}.setImage.target"),
                &ns,
                known,
                &[Kind::Deployment],
            )?;
            for (v, field) in [(&si.container, "container"), (&si.image, "image")] {
                if v.value.trim().is_empty() {
                    return Err(self
                        .err_at(v, &format!("{f}.setImage.{field}"), "must not be empty")
                        .into());
                }
            }
            let (container, image) = (si.container.value.clone(), si.image.value.clone());
            let desc = format!("set image deployment/{name} {container}={image}");
            (
                Action::SetImage {
                    namespace: ns,
                    name,
                    container,
                    image,
                },
                desc,
            )
        } else if let Some(u) = &a.rollout_undo {
            let (_, ns, name) = self.target(
                &u.target,
                &format!("{f}.rolloutUndo.target"),
                &ns,
                known,
                &[Kind::Deployment],
            )?;
            let to_revision = match &u.to_revision {
                Some(r) if r.value < 0 => {
                    return Err(self
                        .err_at(
                            r,
                            &format!("{f}.rolloutUndo.toRevision"),
                            format!("must be greater than or equal to 0, got {}", r.value),
                        )
                        .into());
                }
                Some(r) => r.value,
                None => 0,
            };
            let desc = if to_revision > 0 {
                format!("rollout undo deployment/{name} --to-revision={to_revision}")
            } else {
                format!("rollout undo deployment/{name}")
            };
            (
                Action::RolloutUndo {
                    namespace: ns,
                    name,
                    to_revision,
                },
                desc,
            )
        } else if let Some((which, s)) = [
            ("rolloutPause", &a.rollout_pause),
            ("rolloutResume", &a.rollout_resume),
        ]
        .into_iter()
        .find_map(|(w, s)| s.as_ref().map(|s| (w, s)))
        {
            let (_, ns, name) =
                self.target(s, &format!("{f}.{which}"), &ns, known, &[Kind::Deployment])?;
            if which == "rolloutPause" {
                let desc = format!("rollout pause deployment/{name}");
                (
                    Action::RolloutPause {
                        namespace: ns,
                        name,
                    },
                    desc,
                )
            } else {
                let desc = format!("rollout resume deployment/{name}");
                (
                    Action::RolloutResume {
                        namespace: ns,
                        name,
                    },
                    desc,
                )
            }
        } else if let Some(d) = &a.drain {
            let node = self.node_target(&d.node, &format!("{f}.drain.node"), known)?;
            let desc = format!("drain {node}{}", if d.force { " --force" } else { "" });
            (
                Action::Drain {
                    node,
                    force: d.force,
                },
                desc,
            )
        } else {
            let (which, s) = [
                ("crashNode", &a.crash_node),
                ("restartNode", &a.restart_node),
                ("deleteNode", &a.delete_node),
                ("cordon", &a.cordon),
                ("uncordon", &a.uncordon),
            ]
            .into_iter()
            .find_map(|(w, s)| s.as_ref().map(|s| (w, s)))
            .ok_or_else(|| Error::Internal("no action".into()))?;
            let node = self.node_target(s, &format!("{f}.{which}"), known)?;
            match which {
                "crashNode" => (
                    Action::CrashNode(node.clone()),
                    format!("crash node {node}"),
                ),
                "restartNode" => (
                    Action::RestartNode(node.clone()),
                    format!("restart node {node}"),
                ),
                "deleteNode" => {
                    known.remove(&(Kind::Node, String::new(), node.clone()));
                    (
                        Action::DeleteNode(node.clone()),
                        format!("delete node {node}"),
                    )
                }
                "cordon" => (Action::Cordon(node.clone()), format!("cordon {node}")),
                _ => (Action::Uncordon(node.clone()), format!("uncordon {node}")),
            }
        };
        Ok(TimedAction {
            at,
            action,
            description,
            source: (
                self.file.to_string(),
                a.at.referenced.line() as usize,
                a.at.referenced.column() as usize,
                f,
            ),
        })
    }
}
