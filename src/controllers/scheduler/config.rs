//! `KubeSchedulerConfiguration` (`kubescheduler.config.k8s.io/v1`): scheduling profiles,
//! plugins enabled and disabled per extension point, weights, plugin args and
//! `percentageOfNodesToScore`, loaded from YAML and validated as upstream
//! (pkg/scheduler/apis/config/validation/validation.go and validation_pluginargs.go).
//!
//! Decoding is strict, as upstream's: an unknown field is an error. Each profile's
//! plugins are merged with upstream's defaults (pkg/scheduler/apis/config/v1/
//! default_plugins.go `getDefaultPlugins` / `mergePlugins`), then the `multiPoint`
//! plugins are expanded into the extension points they implement
//! (pkg/scheduler/framework/runtime/framework.go `expandMultiPointPlugins`, with score
//! weights from `getScoreWeights`). The result is one [`Profile`] per profile. Every
//! error is an [`InputError`] naming the file, line, column and field
//! (`profiles[0].plugins.score.enabled[1].weight`).
//!
//! The volume plugins (VolumeRestrictions, NodeVolumeLimits, VolumeBinding, VolumeZone),
//! SchedulingGates and DynamicResources are accepted wherever upstream accepts them but do
//! nothing: kubetwin models no volumes, scheduling gates or resource claims.

use super::SchedulerConfig;
use super::plugins::noderesources::{ResourceWeight, ScoringStrategy, default_resources};
use super::profile::{Profile, Registry, names};
use crate::api::location;
use crate::api::manifest::Warning;
use crate::api::objects::TopologySpreadConstraint;
use crate::error::{Error, InputError};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::path::Path;

/// The configuration's `apiVersion`.
pub const API_VERSION: &str = "kubescheduler.config.k8s.io/v1";
/// The configuration's `kind`.
pub const KIND: &str = "KubeSchedulerConfiguration";

/// Scheduler settings read from a `KubeSchedulerConfiguration` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchedulerSettings {
    /// The profiles, in file order (each serves its `schedulerName`).
    pub profiles: Vec<Profile>,
    /// Top-level `percentageOfNodesToScore` (0 = adaptive; `None`: not set, so the
    /// scenario's `spec.scheduler.percentageOfNodesToScore` applies).
    pub percentage_of_nodes_to_score: Option<usize>,
    /// Where the settings came from (a path, for reports).
    pub source: String,
    /// Settings accepted but not modelled (extenders, ignored plugin args).
    pub warnings: Vec<Warning>,
}

impl Default for SchedulerSettings {
    fn default() -> Self {
        SchedulerSettings {
            profiles: vec![Profile::default()],
            percentage_of_nodes_to_score: None,
            source: String::new(),
            warnings: Vec::new(),
        }
    }
}

impl SchedulerSettings {
    /// The scheduler configuration for these settings: `tie_break_by_name` is kubetwin's
    /// scenario option; `fallback_percentage` applies when the file sets no top-level
    /// `percentageOfNodesToScore`.
    pub fn scheduler_config(
        &self,
        tie_break_by_name: bool,
        fallback_percentage: usize,
    ) -> SchedulerConfig {
        SchedulerConfig {
            percentage_of_nodes_to_score: self
                .percentage_of_nodes_to_score
                .unwrap_or(fallback_percentage),
            tie_break_by_name,
            profiles: self.profiles.clone(),
        }
    }
}

/// Whether a YAML text looks like a scheduler configuration (`kind:
/// KubeSchedulerConfiguration`).
pub fn is_scheduler_config(text: &str) -> bool {
    text.lines()
        .any(|l| l.trim() == "kind: KubeSchedulerConfiguration")
}

/// Loads and validates a `KubeSchedulerConfiguration` file with the built-in plugins.
pub fn load(path: &Path) -> Result<SchedulerSettings, Error> {
    load_with(path, &[])
}

/// Loads and validates a `KubeSchedulerConfiguration` file; `extra_plugins` names
/// out-of-tree plugins (accepted at the filter and score extension points).
pub fn load_with(path: &Path, extra_plugins: &[&str]) -> Result<SchedulerSettings, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    Ok(parse(&path.display().to_string(), &text, extra_plugins)?)
}

/// Parses and validates configuration text; `file` names it in errors. `extra_plugins`
/// names out-of-tree plugins (accepted at the filter and score extension points).
pub fn parse(
    file: &str,
    text: &str,
    extra_plugins: &[&str],
) -> Result<SchedulerSettings, InputError> {
    let extra: Vec<(String, u16)> = extra_plugins
        .iter()
        .map(|n| (n.to_string(), Point::Filter.bit() | Point::Score.bit()))
        .collect();
    parse_inner(file, text, &extra)
}

/// Parses and validates configuration text with the out-of-tree plugins of `registry`
/// (each accepted at the extension points it implements).
pub fn parse_for_registry(
    file: &str,
    text: &str,
    registry: &Registry,
) -> Result<SchedulerSettings, InputError> {
    let mut extra: Vec<(String, u16)> = Vec::new();
    let plugins = registry
        .filters
        .iter()
        .map(|p| (p.name(), Point::Filter))
        .chain(registry.scores.iter().map(|p| (p.name(), Point::Score)));
    for (name, point) in plugins {
        match extra.iter_mut().find(|(n, _)| n == name) {
            Some((_, bits)) => *bits |= point.bit(),
            None => extra.push((name.to_string(), point.bit())),
        }
    }
    parse_inner(file, text, &extra)
}

// ---------------------------------------------------------------------------------------
// Extension points and the plugins kubetwin knows.

/// An extension point of the scheduling framework.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Point {
    QueueSort,
    PreEnqueue,
    PreFilter,
    Filter,
    PostFilter,
    PreScore,
    Score,
    Reserve,
    Permit,
    PreBind,
    Bind,
    PostBind,
}

impl Point {
    const ALL: [Point; 12] = [
        Point::QueueSort,
        Point::PreEnqueue,
        Point::PreFilter,
        Point::Filter,
        Point::PostFilter,
        Point::PreScore,
        Point::Score,
        Point::Reserve,
        Point::Permit,
        Point::PreBind,
        Point::Bind,
        Point::PostBind,
    ];

    fn bit(self) -> u16 {
        1 << (self as u16)
    }

    /// The field name under `plugins`.
    fn field(self) -> &'static str {
        match self {
            Point::QueueSort => "queueSort",
            Point::PreEnqueue => "preEnqueue",
            Point::PreFilter => "preFilter",
            Point::Filter => "filter",
            Point::PostFilter => "postFilter",
            Point::PreScore => "preScore",
            Point::Score => "score",
            Point::Reserve => "reserve",
            Point::Permit => "permit",
            Point::PreBind => "preBind",
            Point::Bind => "bind",
            Point::PostBind => "postBind",
        }
    }

    /// Upstream's interface name, for messages.
    fn interface(self) -> &'static str {
        match self {
            Point::QueueSort => "QueueSortPlugin",
            Point::PreEnqueue => "PreEnqueuePlugin",
            Point::PreFilter => "PreFilterPlugin",
            Point::Filter => "FilterPlugin",
            Point::PostFilter => "PostFilterPlugin",
            Point::PreScore => "PreScorePlugin",
            Point::Score => "ScorePlugin",
            Point::Reserve => "ReservePlugin",
            Point::Permit => "PermitPlugin",
            Point::PreBind => "PreBindPlugin",
            Point::Bind => "BindPlugin",
            Point::PostBind => "PostBindPlugin",
        }
    }
}

const fn bits(points: &[Point]) -> u16 {
    let mut b = 0;
    let mut i = 0;
    while i < points.len() {
        b |= 1 << (points[i] as u16);
        i += 1;
    }
    b
}

/// A built-in plugin: its name, the extension points it implements (upstream's Go
/// interfaces), and whether kubetwin models it (no-ops are left out of [`Profile`]).
struct Builtin {
    name: &'static str,
    points: u16,
    modelled: bool,
}

use Point as P;

/// The in-tree plugins of upstream's default registry that the default profile enables,
/// in upstream's default `multiPoint` order (default_plugins.go getDefaultPlugins with
/// the DynamicResourceAllocation feature gate on, as in current releases; the removed
/// cloud volume-limit plugins are left out), each with its default score weight (0: unset).
const DEFAULT_MULTI_POINT: [(&str, i64); 19] = [
    (names::SCHEDULING_GATES, 0),
    (names::PRIORITY_SORT, 0),
    (names::NODE_UNSCHEDULABLE, 0),
    (names::NODE_NAME, 0),
    (names::TAINT_TOLERATION, 3),
    (names::NODE_AFFINITY, 2),
    (names::NODE_PORTS, 0),
    (names::NODE_RESOURCES_FIT, 1),
    (names::VOLUME_RESTRICTIONS, 0),
    (names::NODE_VOLUME_LIMITS, 0),
    (names::VOLUME_BINDING, 0),
    (names::VOLUME_ZONE, 0),
    (names::POD_TOPOLOGY_SPREAD, 2),
    (names::INTER_POD_AFFINITY, 2),
    (names::DYNAMIC_RESOURCES, 0),
    (names::DEFAULT_PREEMPTION, 0),
    (names::BALANCED_ALLOCATION, 1),
    (names::IMAGE_LOCALITY, 1),
    (names::DEFAULT_BINDER, 0),
];

/// The plugins kubetwin accepts by name, with the extension points each implements
/// (the `var _ framework.XPlugin = &T{}` assertions of each upstream plugin package).
const BUILTINS: [Builtin; 19] = [
    Builtin {
        name: names::SCHEDULING_GATES,
        points: bits(&[P::PreEnqueue]),
        modelled: false,
    },
    Builtin {
        name: names::PRIORITY_SORT,
        points: bits(&[P::QueueSort]),
        modelled: true,
    },
    Builtin {
        name: names::NODE_UNSCHEDULABLE,
        points: bits(&[P::Filter]),
        modelled: true,
    },
    Builtin {
        name: names::NODE_NAME,
        points: bits(&[P::Filter]),
        modelled: true,
    },
    Builtin {
        name: names::TAINT_TOLERATION,
        points: bits(&[P::Filter, P::PreScore, P::Score]),
        modelled: true,
    },
    Builtin {
        name: names::NODE_AFFINITY,
        points: bits(&[P::PreFilter, P::Filter, P::PreScore, P::Score]),
        modelled: true,
    },
    Builtin {
        name: names::NODE_PORTS,
        points: bits(&[P::PreFilter, P::Filter]),
        modelled: true,
    },
    Builtin {
        name: names::NODE_RESOURCES_FIT,
        points: bits(&[P::PreFilter, P::Filter, P::PreScore, P::Score]),
        modelled: true,
    },
    Builtin {
        name: names::VOLUME_RESTRICTIONS,
        points: bits(&[P::PreFilter, P::Filter]),
        modelled: false,
    },
    Builtin {
        name: names::NODE_VOLUME_LIMITS,
        points: bits(&[P::PreFilter, P::Filter]),
        modelled: false,
    },
    Builtin {
        name: names::VOLUME_BINDING,
        points: bits(&[
            P::PreFilter,
            P::Filter,
            P::Reserve,
            P::PreBind,
            P::PreScore,
            P::Score,
        ]),
        modelled: false,
    },
    Builtin {
        name: names::VOLUME_ZONE,
        points: bits(&[P::PreFilter, P::Filter]),
        modelled: false,
    },
    Builtin {
        name: names::POD_TOPOLOGY_SPREAD,
        points: bits(&[P::PreFilter, P::Filter, P::PreScore, P::Score]),
        modelled: true,
    },
    Builtin {
        name: names::INTER_POD_AFFINITY,
        points: bits(&[P::PreFilter, P::Filter, P::PreScore, P::Score]),
        modelled: true,
    },
    Builtin {
        name: names::DYNAMIC_RESOURCES,
        points: bits(&[
            P::PreEnqueue,
            P::PreFilter,
            P::Filter,
            P::PostFilter,
            P::Reserve,
            P::PreBind,
        ]),
        modelled: false,
    },
    Builtin {
        name: names::DEFAULT_PREEMPTION,
        points: bits(&[P::PreEnqueue, P::PostFilter]),
        modelled: true,
    },
    Builtin {
        name: names::BALANCED_ALLOCATION,
        points: bits(&[P::PreScore, P::Score]),
        modelled: true,
    },
    Builtin {
        name: names::IMAGE_LOCALITY,
        points: bits(&[P::Score]),
        modelled: true,
    },
    Builtin {
        name: names::DEFAULT_BINDER,
        points: bits(&[P::Bind]),
        modelled: true,
    },
];

/// Plugins removed from upstream and invalid in `kubescheduler.config.k8s.io/v1`
/// (validation.go invalidPluginsByVersion).
const INVALID_IN_V1: [&str; 4] = [
    "AzureDiskLimits",
    "CinderLimits",
    "EBSLimits",
    "GCEPDLimits",
];

/// The plugins one parse knows: built-ins and the caller's out-of-tree ones.
struct Known<'a> {
    extra: &'a [(String, u16)],
}

impl Known<'_> {
    /// The extension points `name` implements, or `None` for an unknown plugin.
    fn points(&self, name: &str) -> Option<u16> {
        BUILTINS
            .iter()
            .find(|b| b.name == name)
            .map(|b| b.points)
            .or_else(|| self.extra.iter().find(|(n, _)| n == name).map(|(_, b)| *b))
    }

    fn implements(&self, name: &str, p: Point) -> bool {
        self.points(name).is_some_and(|b| b & p.bit() != 0)
    }

    /// Whether the plugin does something in kubetwin (and so belongs in a [`Profile`]).
    fn modelled(&self, name: &str) -> bool {
        match BUILTINS.iter().find(|b| b.name == name) {
            Some(b) => b.modelled,
            None => self.extra.iter().any(|(n, _)| n == name),
        }
    }

    fn names(&self) -> String {
        let mut v: Vec<&str> = BUILTINS.iter().map(|b| b.name).collect();
        v.extend(self.extra.iter().map(|(n, _)| n.as_str()));
        v.join(", ")
    }
}

// ---------------------------------------------------------------------------------------
// The wire format (k8s.io/kube-scheduler/config/v1 types), decoded strictly.

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Header {
    #[serde(default)]
    api_version: Option<String>,
    #[serde(default)]
    kind: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ConfigV1 {
    #[serde(default)]
    #[allow(dead_code)]
    api_version: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    kind: Option<String>,
    #[serde(default)]
    parallelism: Option<i64>,
    #[serde(default)]
    #[allow(dead_code)]
    leader_election: Option<LeaderElectionV1>,
    #[serde(default)]
    #[allow(dead_code)]
    client_connection: Option<ClientConnectionV1>,
    #[serde(default)]
    #[allow(dead_code)]
    healthz_bind_address: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    metrics_bind_address: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    enable_profiling: Option<bool>,
    #[serde(default)]
    #[allow(dead_code)]
    enable_contention_profiling: Option<bool>,
    #[serde(default)]
    percentage_of_nodes_to_score: Option<i64>,
    #[serde(default)]
    pod_initial_backoff_seconds: Option<i64>,
    #[serde(default)]
    pod_max_backoff_seconds: Option<i64>,
    #[serde(default)]
    profiles: Option<Vec<ProfileV1>>,
    #[serde(default)]
    extenders: Option<Vec<ExtenderV1>>,
    #[serde(default)]
    #[allow(dead_code)]
    delay_cache_until_active: Option<bool>,
}

/// component-base `LeaderElectionConfiguration` (accepted, not modelled).
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[allow(dead_code)]
struct LeaderElectionV1 {
    #[serde(default)]
    leader_elect: Option<bool>,
    #[serde(default)]
    lease_duration: Option<String>,
    #[serde(default)]
    renew_deadline: Option<String>,
    #[serde(default)]
    retry_period: Option<String>,
    #[serde(default)]
    resource_lock: Option<String>,
    #[serde(default)]
    resource_name: Option<String>,
    #[serde(default)]
    resource_namespace: Option<String>,
}

/// component-base `ClientConnectionConfiguration` (accepted, not modelled).
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[allow(dead_code)]
struct ClientConnectionV1 {
    #[serde(default)]
    kubeconfig: Option<String>,
    #[serde(default)]
    accept_content_types: Option<String>,
    #[serde(default)]
    content_type: Option<String>,
    #[serde(default)]
    qps: Option<f64>,
    #[serde(default)]
    burst: Option<i64>,
}

/// An extender (accepted, validated, never called).
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[allow(dead_code)]
struct ExtenderV1 {
    #[serde(default)]
    url_prefix: Option<String>,
    #[serde(default)]
    filter_verb: Option<String>,
    #[serde(default)]
    preempt_verb: Option<String>,
    #[serde(default)]
    prioritize_verb: Option<String>,
    #[serde(default)]
    weight: Option<i64>,
    #[serde(default)]
    bind_verb: Option<String>,
    #[serde(default, rename = "enableHTTPS")]
    enable_https: Option<bool>,
    #[serde(default)]
    tls_config: Option<serde_json::Value>,
    #[serde(default)]
    http_timeout: Option<String>,
    #[serde(default)]
    node_cache_capable: Option<bool>,
    #[serde(default)]
    managed_resources: Option<Vec<serde_json::Value>>,
    #[serde(default)]
    ignorable: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ProfileV1 {
    #[serde(default)]
    scheduler_name: Option<String>,
    #[serde(default)]
    percentage_of_nodes_to_score: Option<i64>,
    #[serde(default)]
    plugins: Option<PluginsV1>,
    #[serde(default)]
    plugin_config: Option<Vec<PluginConfigV1>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PluginsV1 {
    #[serde(default)]
    queue_sort: Option<PluginSetV1>,
    #[serde(default)]
    pre_enqueue: Option<PluginSetV1>,
    #[serde(default)]
    pre_filter: Option<PluginSetV1>,
    #[serde(default)]
    filter: Option<PluginSetV1>,
    #[serde(default)]
    post_filter: Option<PluginSetV1>,
    #[serde(default)]
    pre_score: Option<PluginSetV1>,
    #[serde(default)]
    score: Option<PluginSetV1>,
    #[serde(default)]
    reserve: Option<PluginSetV1>,
    #[serde(default)]
    permit: Option<PluginSetV1>,
    #[serde(default)]
    pre_bind: Option<PluginSetV1>,
    #[serde(default)]
    bind: Option<PluginSetV1>,
    #[serde(default)]
    post_bind: Option<PluginSetV1>,
    #[serde(default)]
    multi_point: Option<PluginSetV1>,
}

impl PluginsV1 {
    fn point(&self, p: Point) -> Option<&PluginSetV1> {
        match p {
            Point::QueueSort => self.queue_sort.as_ref(),
            Point::PreEnqueue => self.pre_enqueue.as_ref(),
            Point::PreFilter => self.pre_filter.as_ref(),
            Point::Filter => self.filter.as_ref(),
            Point::PostFilter => self.post_filter.as_ref(),
            Point::PreScore => self.pre_score.as_ref(),
            Point::Score => self.score.as_ref(),
            Point::Reserve => self.reserve.as_ref(),
            Point::Permit => self.permit.as_ref(),
            Point::PreBind => self.pre_bind.as_ref(),
            Point::Bind => self.bind.as_ref(),
            Point::PostBind => self.post_bind.as_ref(),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct PluginSetV1 {
    #[serde(default)]
    enabled: Option<Vec<PluginV1>>,
    #[serde(default)]
    disabled: Option<Vec<PluginV1>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PluginV1 {
    name: String,
    #[serde(default)]
    weight: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PluginConfigV1 {
    name: String,
    #[serde(default)]
    args: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct FitArgsV1 {
    #[serde(default)]
    api_version: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    ignored_resources: Option<Vec<String>>,
    #[serde(default)]
    ignored_resource_groups: Option<Vec<String>>,
    #[serde(default)]
    scoring_strategy: Option<ScoringStrategyV1>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ScoringStrategyV1 {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    resources: Option<Vec<ResourceSpecV1>>,
    #[serde(default)]
    requested_to_capacity_ratio: Option<RequestedToCapacityRatioV1>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResourceSpecV1 {
    name: String,
    #[serde(default)]
    weight: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestedToCapacityRatioV1 {
    #[serde(default)]
    shape: Option<Vec<ShapePointV1>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ShapePointV1 {
    #[serde(default)]
    utilization: i64,
    #[serde(default)]
    score: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct SpreadArgsV1 {
    #[serde(default)]
    api_version: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    default_constraints: Option<Vec<DefaultConstraintV1>>,
    #[serde(default)]
    defaulting_type: Option<String>,
}

/// A core/v1 `TopologySpreadConstraint` as PodTopologySpreadArgs takes it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct DefaultConstraintV1 {
    #[serde(default)]
    max_skew: i64,
    #[serde(default)]
    topology_key: String,
    #[serde(default)]
    when_unsatisfiable: String,
    #[serde(default)]
    label_selector: Option<serde_json::Value>,
    #[serde(default)]
    min_domains: Option<i64>,
    #[serde(default)]
    node_affinity_policy: Option<String>,
    #[serde(default)]
    node_taints_policy: Option<String>,
    #[serde(default)]
    match_label_keys: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct InterPodAffinityArgsV1 {
    #[serde(default)]
    api_version: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    hard_pod_affinity_weight: Option<i64>,
    #[serde(default)]
    ignore_preferred_terms_of_existing_pods: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PreemptionArgsV1 {
    #[serde(default)]
    api_version: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    min_candidate_nodes_percentage: Option<i64>,
    #[serde(default)]
    min_candidate_nodes_absolute: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct BalancedArgsV1 {
    #[serde(default)]
    api_version: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    resources: Option<Vec<ResourceSpecV1>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct NodeAffinityArgsV1 {
    #[serde(default)]
    api_version: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    added_affinity: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct VolumeBindingArgsV1 {
    #[serde(default)]
    api_version: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    bind_timeout_seconds: Option<i64>,
    #[serde(default)]
    #[allow(dead_code)]
    shape: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct DynamicResourcesArgsV1 {
    #[serde(default)]
    api_version: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    filter_timeout: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    binding_timeout: Option<String>,
}

// ---------------------------------------------------------------------------------------
// Parsing and validation.

struct Cx<'a> {
    file: &'a str,
    text: &'a str,
    known: Known<'a>,
    warnings: Vec<Warning>,
}

impl Cx<'_> {
    /// An error at `field` (located in the text; the deepest existing prefix when the
    /// field itself is absent).
    fn err(&self, field: &str, msg: impl Into<String>) -> InputError {
        let (line, col) = location::locate(self.text, field).unwrap_or((1, 1));
        InputError::at(self.file, line, col, field, msg).with_source(self.text)
    }

    fn warn(&mut self, field: &str, msg: impl Into<String>) {
        let (line, _) = location::locate(self.text, field).unwrap_or((1, 1));
        self.warnings.push(Warning {
            file: self.file.to_string(),
            line,
            message: format!("{field}: {}", msg.into()),
        });
    }

    /// Decodes plugin args strictly into `T`; errors are located under `field`.
    fn args<T: DeserializeOwned>(
        &self,
        value: &serde_json::Value,
        field: &str,
    ) -> Result<T, InputError> {
        serde_path_to_error::deserialize(value.clone()).map_err(|e| {
            let inner = e.path().to_string();
            let f = if inner.is_empty() || inner == "." || inner == "?" {
                field.to_string()
            } else {
                format!("{field}.{inner}")
            };
            self.err(&f, e.into_inner().to_string())
        })
    }

    /// Checks the optional `apiVersion` / `kind` of plugin args.
    fn args_header(
        &self,
        api_version: &Option<String>,
        kind: &Option<String>,
        plugin: &str,
        field: &str,
    ) -> Result<(), InputError> {
        if let Some(v) = api_version
            && v != API_VERSION
        {
            return Err(self.err(
                &format!("{field}.apiVersion"),
                format!("unknown apiVersion {v:?} (expected {API_VERSION:?})"),
            ));
        }
        let want = format!("{plugin}Args");
        if let Some(k) = kind
            && *k != want
        {
            return Err(self.err(
                &format!("{field}.kind"),
                format!("has to match plugin args: expected kind {want}, got {k}"),
            ));
        }
        Ok(())
    }
}

/// One plugin set, as upstream's `PluginSet` (weight 0: unset).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Set {
    enabled: Vec<(String, i64)>,
    disabled: Vec<String>,
}

impl Set {
    fn disables(&self, name: &str) -> bool {
        self.disabled.iter().any(|d| d == name)
    }
}

fn parse_inner(
    file: &str,
    text: &str,
    extra: &[(String, u16)],
) -> Result<SchedulerSettings, InputError> {
    let mut cx = Cx {
        file,
        text,
        known: Known { extra },
        warnings: Vec::new(),
    };
    let header: Header = serde_saphyr::from_str(text).map_err(|e| {
        let mut err = saphyr_error(file, text, &e, "");
        err.message = format!("malformed YAML: {}", err.message);
        err
    })?;
    match header.api_version.as_deref() {
        Some(API_VERSION) => {}
        Some(other) => {
            return Err(cx.err(
                "apiVersion",
                format!("unknown apiVersion {other:?} (expected {API_VERSION:?})"),
            ));
        }
        None => return Err(cx.err("apiVersion", "missing apiVersion")),
    }
    match header.kind.as_deref() {
        Some(KIND) => {}
        Some(other) => {
            return Err(cx.err("kind", format!("expected kind {KIND}, got {other:?}")));
        }
        None => return Err(cx.err("kind", "missing kind")),
    }
    let mut path = String::new();
    let cfg: ConfigV1 = serde_saphyr::with_deserializer_from_str(text, |de| {
        let mut track = serde_path_to_error::Track::new();
        let tracked = serde_path_to_error::Deserializer::new(de, &mut track);
        let r = ConfigV1::deserialize(tracked);
        if r.is_err() {
            path = track.path().to_string();
        }
        r
    })
    .map_err(|e| {
        let field = if path == "?" || path == "." {
            ""
        } else {
            &path
        };
        saphyr_error(file, text, &e, field)
    })?;
    validate_top_level(&mut cx, &cfg)?;
    let pct = match cfg.percentage_of_nodes_to_score {
        Some(p) => Some(percentage(&cx, p, "percentageOfNodesToScore")?),
        None => None,
    };
    let wire_profiles = cfg.profiles.unwrap_or_default();
    let mut profiles = Vec::new();
    let mut queue_sorts: Vec<Set> = Vec::new();
    if wire_profiles.is_empty() {
        // defaults.go: no profiles means one default profile.
        let (p, qs) = build_profile(&mut cx, None, 0, true)?;
        profiles.push(p);
        queue_sorts.push(qs);
    }
    for (i, wp) in wire_profiles.iter().enumerate() {
        let (p, qs) = build_profile(&mut cx, Some(wp), i, wire_profiles.len() == 1)?;
        if let Some(k) = profiles
            .iter()
            .position(|q: &Profile| q.scheduler_name == p.scheduler_name)
        {
            return Err(cx.err(
                &format!("profiles[{i}].schedulerName"),
                format!(
                    "duplicate value {:?} (also profiles[{k}].schedulerName)",
                    p.scheduler_name
                ),
            ));
        }
        // validation.go validateCommonQueueSort.
        if i > 0 && qs != queue_sorts[0] {
            return Err(cx.err(
                &format!("profiles[{i}].plugins.queueSort"),
                "must be the same for all profiles",
            ));
        }
        profiles.push(p);
        queue_sorts.push(qs);
    }
    Ok(SchedulerSettings {
        profiles,
        percentage_of_nodes_to_score: pct,
        source: file.to_string(),
        warnings: cx.warnings,
    })
}

fn saphyr_error(file: &str, text: &str, e: &serde_saphyr::Error, field: &str) -> InputError {
    let (line, col, msg) = crate::api::manifest::yaml_error_parts(e);
    InputError::at(file, line, col, field, msg).with_source(text)
}

fn percentage(cx: &Cx<'_>, p: i64, field: &str) -> Result<usize, InputError> {
    if !(0..=100).contains(&p) {
        return Err(cx.err(
            field,
            format!("invalid value {p}: not in valid range [0-100]"),
        ));
    }
    Ok(p as usize)
}

/// The top-level checks of validation.go ValidateKubeSchedulerConfiguration that apply to
/// fields kubetwin accepts but does not model.
fn validate_top_level(cx: &mut Cx<'_>, cfg: &ConfigV1) -> Result<(), InputError> {
    if let Some(p) = cfg.parallelism
        && p <= 0
    {
        return Err(cx.err(
            "parallelism",
            format!("invalid value {p}: should be an integer value greater than zero"),
        ));
    }
    // defaults.go: 1 s and 10 s.
    let initial = cfg.pod_initial_backoff_seconds.unwrap_or(1);
    if initial <= 0 {
        return Err(cx.err(
            "podInitialBackoffSeconds",
            format!("invalid value {initial}: must be greater than 0"),
        ));
    }
    let max = cfg.pod_max_backoff_seconds.unwrap_or(10);
    if max < initial {
        return Err(cx.err(
            "podMaxBackoffSeconds",
            format!(
                "invalid value {max}: must be greater than or equal to PodInitialBackoffSeconds"
            ),
        ));
    }
    if cfg.pod_initial_backoff_seconds.is_some() || cfg.pod_max_backoff_seconds.is_some() {
        cx.warn(
            "podInitialBackoffSeconds",
            "not modelled: the scheduling queue backs off 1s doubling to 10s",
        );
    }
    if let Some(ext) = &cfg.extenders {
        let mut binders = 0;
        for (i, e) in ext.iter().enumerate() {
            if e.prioritize_verb.as_deref().is_some_and(|v| !v.is_empty())
                && e.weight.unwrap_or(0) <= 0
            {
                return Err(cx.err(
                    &format!("extenders[{i}].weight"),
                    format!(
                        "invalid value {}: must have a positive weight applied to it",
                        e.weight.unwrap_or(0)
                    ),
                ));
            }
            if e.bind_verb.as_deref().is_some_and(|v| !v.is_empty()) {
                binders += 1;
            }
        }
        if binders > 1 {
            return Err(cx.err(
                "extenders",
                format!("found {binders} extenders implementing bind: only one extender can implement bind"),
            ));
        }
        if !ext.is_empty() {
            cx.warn("extenders", "extenders are not called by kubetwin");
        }
    }
    Ok(())
}

/// Builds one profile: validates the custom plugin sets, merges them with the defaults,
/// expands multiPoint and applies the plugin args. Also returns the merged queueSort set
/// (for the common-queueSort check).
fn build_profile(
    cx: &mut Cx<'_>,
    wp: Option<&ProfileV1>,
    i: usize,
    single: bool,
) -> Result<(Profile, Set), InputError> {
    let base = format!("profiles[{i}]");
    let mut profile = Profile::default();
    // defaults.go: only a single profile gets the default name.
    let name = match wp.and_then(|p| p.scheduler_name.clone()) {
        Some(n) => n,
        None if single => super::DEFAULT_SCHEDULER.to_string(),
        None => String::new(),
    };
    if name.is_empty() {
        return Err(cx.err(&format!("{base}.schedulerName"), "required value"));
    }
    profile.scheduler_name = name;
    if let Some(p) = wp.and_then(|p| p.percentage_of_nodes_to_score) {
        profile.percentage_of_nodes_to_score = Some(percentage(
            cx,
            p,
            &format!("{base}.percentageOfNodesToScore"),
        )?);
    }
    let empty = PluginsV1::default();
    let custom = wp.and_then(|p| p.plugins.as_ref()).unwrap_or(&empty);
    let plugins_path = format!("{base}.plugins");
    let custom_multi = custom_set(cx, custom.multi_point.as_ref(), None, &plugins_path)?;
    let default_multi = Set {
        enabled: DEFAULT_MULTI_POINT
            .iter()
            .map(|(n, w)| (n.to_string(), *w))
            .collect(),
        disabled: Vec::new(),
    };
    let multi = merge_set(&default_multi, &custom_multi);
    let mut merged: Vec<(Point, Set)> = Vec::new();
    for p in Point::ALL {
        let c = custom_set(cx, custom.point(p), Some(p), &plugins_path)?;
        // The defaults of every specific extension point are empty (all in multiPoint).
        merged.push((p, merge_set(&Set::default(), &c)));
    }
    let mut expanded: Vec<(Point, Vec<String>)> = Vec::new();
    for (p, set) in &merged {
        let list = expand(cx, set, &multi, *p, &plugins_path)?;
        expanded.push((*p, list));
    }
    let list = |p: Point| -> &Vec<String> {
        &expanded
            .iter()
            .find(|(q, _)| *q == p)
            .expect("every extension point is expanded")
            .1
    };
    // framework.go NewFramework: exactly one QueueSort plugin, at least one Bind plugin.
    let qs = list(Point::QueueSort).len();
    if qs != 1 {
        return Err(cx.err(
            &format!("{plugins_path}.queueSort"),
            format!(
                "only one queue sort plugin required for profile with scheduler name {:?}, but got {qs}",
                profile.scheduler_name
            ),
        ));
    }
    if list(Point::Bind).is_empty() {
        return Err(cx.err(
            &format!("{plugins_path}.bind"),
            format!(
                "at least one bind plugin is needed for profile with scheduler name {:?}",
                profile.scheduler_name
            ),
        ));
    }
    let score_set = &merged
        .iter()
        .find(|(p, _)| *p == Point::Score)
        .expect("score is merged")
        .1;
    profile.filters = list(Point::Filter)
        .iter()
        .filter(|n| cx.known.modelled(n))
        .cloned()
        .collect();
    profile.post_filters = list(Point::PostFilter)
        .iter()
        .filter(|n| cx.known.modelled(n))
        .cloned()
        .collect();
    profile.scores = list(Point::Score)
        .iter()
        .filter(|n| cx.known.modelled(n))
        .map(|n| (n.clone(), score_weight(n, score_set, &multi)))
        .collect();
    if let Some(configs) = wp.and_then(|p| p.plugin_config.as_ref()) {
        apply_plugin_config(cx, configs, &base, &mut profile)?;
    }
    let queue_sort = merged
        .iter()
        .find(|(p, _)| *p == Point::QueueSort)
        .map(|(_, s)| s.clone())
        .unwrap_or_default();
    Ok((profile, queue_sort))
}

/// Validates one custom plugin set (`point` `None`: multiPoint) and converts it.
fn custom_set(
    cx: &Cx<'_>,
    set: Option<&PluginSetV1>,
    point: Option<Point>,
    plugins_path: &str,
) -> Result<Set, InputError> {
    let Some(set) = set else {
        return Ok(Set::default());
    };
    let field = point.map_or("multiPoint", Point::field);
    let mut out = Set::default();
    for (j, pl) in set.enabled.iter().flatten().enumerate() {
        let f = format!("{plugins_path}.{field}.enabled[{j}]");
        if INVALID_IN_V1.contains(&pl.name.as_str()) {
            return Err(cx.err(
                &format!("{f}.name"),
                format!(
                    "invalid value {:?}: was invalid in version {API_VERSION:?} (KubeSchedulerConfiguration is version {API_VERSION:?})",
                    pl.name
                ),
            ));
        }
        let Some(points) = cx.known.points(&pl.name) else {
            return Err(cx.err(
                &format!("{f}.name"),
                format!("unknown plugin {:?} (known: {})", pl.name, cx.known.names()),
            ));
        };
        if let Some(p) = point
            && points & p.bit() == 0
        {
            return Err(cx.err(
                &format!("{f}.name"),
                format!("plugin {:?} does not extend {}", pl.name, p.interface()),
            ));
        }
        if out.enabled.iter().any(|(n, _)| *n == pl.name) {
            return Err(cx.err(
                &format!("{f}.name"),
                format!(
                    "plugin {:?} already registered as {:?}",
                    pl.name,
                    point.map_or("multiPoint", Point::interface)
                ),
            ));
        }
        let weight = pl.weight.unwrap_or(0);
        if matches!(point, None | Some(Point::Score)) && !(0..=100).contains(&weight) {
            return Err(cx.err(
                &format!("{f}.weight"),
                format!("invalid value {weight}: score weight not in valid range [1, 100] (0 or unset means 1)"),
            ));
        }
        out.enabled.push((pl.name.clone(), weight));
    }
    // Upstream ignores names here that no default enables; so does kubetwin.
    out.disabled
        .extend(set.disabled.iter().flatten().map(|pl| pl.name.clone()));
    Ok(out)
}

/// Port of default_plugins.go mergePluginSet: default plugins not disabled (all with
/// `*`), each replaced in place by a custom entry of the same name, then the remaining
/// custom plugins in order.
fn merge_set(default: &Set, custom: &Set) -> Set {
    let mut disabled = custom.disabled.clone();
    disabled.extend(default.disabled.iter().cloned());
    let all = disabled.iter().any(|d| d == "*");
    let mut replaced = vec![false; custom.enabled.len()];
    let mut enabled = Vec::new();
    if !all {
        for d in &default.enabled {
            if disabled.contains(&d.0) {
                continue;
            }
            // A Go map keyed by name: the last custom entry of a name wins.
            match custom.enabled.iter().rposition(|c| c.0 == d.0) {
                Some(k) => {
                    enabled.push(custom.enabled[k].clone());
                    replaced[k] = true;
                }
                None => enabled.push(d.clone()),
            }
        }
    }
    for (k, c) in custom.enabled.iter().enumerate() {
        if !replaced[k] {
            enabled.push(c.clone());
        }
    }
    Set { enabled, disabled }
}

/// Port of framework.go expandMultiPointPlugins for one extension point: the plugins
/// enabled at the point itself that multiPoint also names (overrides) first, then the
/// multiPoint plugins implementing the point, then the rest of the point's own plugins.
/// `*` in the point's disabled list skips the expansion.
fn expand(
    cx: &Cx<'_>,
    set: &Set,
    multi: &Set,
    p: Point,
    plugins_path: &str,
) -> Result<Vec<String>, InputError> {
    let own: Vec<&str> = set.enabled.iter().map(|(n, _)| n.as_str()).collect();
    if set.disables("*") {
        return Ok(own.iter().map(|s| s.to_string()).collect());
    }
    let mut from_multi: Vec<&str> = Vec::new();
    let mut overrides: Vec<&str> = Vec::new();
    for (name, _) in &multi.enabled {
        if !cx.known.implements(name, p) || set.disables(name) {
            continue;
        }
        if own.contains(&name.as_str()) {
            overrides.push(name);
            continue;
        }
        if from_multi.contains(&name.as_str()) {
            return Err(cx.err(
                &format!("{plugins_path}.multiPoint"),
                format!("plugin {name:?} already registered as {:?}", p.interface()),
            ));
        }
        from_multi.push(name);
    }
    let mut out: Vec<String> = Vec::new();
    out.extend(
        own.iter()
            .filter(|n| overrides.contains(n))
            .map(|s| s.to_string()),
    );
    out.extend(from_multi.iter().map(|s| s.to_string()));
    out.extend(
        own.iter()
            .filter(|n| !overrides.contains(n))
            .map(|s| s.to_string()),
    );
    Ok(out)
}

/// Port of framework.go getScoreWeights: the first of the score point's own entries and
/// then multiPoint's that names the plugin gives its weight; 0 (unset) means 1.
fn score_weight(name: &str, score: &Set, multi: &Set) -> i64 {
    let w = score
        .enabled
        .iter()
        .chain(&multi.enabled)
        .find(|(n, _)| n == name)
        .map_or(0, |(_, w)| *w);
    if w == 0 { 1 } else { w }
}

/// Applies `pluginConfig` (defaults.go SetDefaults_*Args, validation_pluginargs.go).
fn apply_plugin_config(
    cx: &mut Cx<'_>,
    configs: &[PluginConfigV1],
    base: &str,
    profile: &mut Profile,
) -> Result<(), InputError> {
    let mut seen: Vec<&str> = Vec::new();
    for (j, pc) in configs.iter().enumerate() {
        let f = format!("{base}.pluginConfig[{j}]");
        if seen.contains(&pc.name.as_str()) {
            return Err(cx.err(
                &format!("{f}.name"),
                format!("duplicate value {:?}", pc.name),
            ));
        }
        seen.push(&pc.name);
        if INVALID_IN_V1.contains(&pc.name.as_str()) {
            return Err(cx.err(
                &format!("{f}.name"),
                format!(
                    "invalid value {:?}: was invalid in version {API_VERSION:?} (KubeSchedulerConfiguration is version {API_VERSION:?})",
                    pc.name
                ),
            ));
        }
        let af = format!("{f}.args");
        let null = serde_json::Value::Object(serde_json::Map::new());
        let args = match &pc.args {
            Some(serde_json::Value::Null) | None => &null,
            Some(a) => a,
        };
        match pc.name.as_str() {
            names::NODE_RESOURCES_FIT => fit_args(cx, args, &af, profile)?,
            names::POD_TOPOLOGY_SPREAD => spread_args(cx, args, &af, profile)?,
            names::INTER_POD_AFFINITY => {
                let a: InterPodAffinityArgsV1 = cx.args(args, &af)?;
                cx.args_header(&a.api_version, &a.kind, &pc.name, &af)?;
                let w = a.hard_pod_affinity_weight.unwrap_or(1);
                if !(0..=100).contains(&w) {
                    return Err(cx.err(
                        &format!("{af}.hardPodAffinityWeight"),
                        format!("invalid value {w}: not in valid range [0, 100]"),
                    ));
                }
                profile.hard_pod_affinity_weight = w;
                if a.ignore_preferred_terms_of_existing_pods == Some(true) {
                    cx.warn(
                        &format!("{af}.ignorePreferredTermsOfExistingPods"),
                        "not modelled by kubetwin; ignored",
                    );
                }
            }
            names::DEFAULT_PREEMPTION => {
                let a: PreemptionArgsV1 = cx.args(args, &af)?;
                cx.args_header(&a.api_version, &a.kind, &pc.name, &af)?;
                let pct = a.min_candidate_nodes_percentage.unwrap_or(10);
                let abs = a.min_candidate_nodes_absolute.unwrap_or(100);
                let pf = format!("{af}.minCandidateNodesPercentage");
                let absf = format!("{af}.minCandidateNodesAbsolute");
                if !(0..=100).contains(&pct) {
                    return Err(cx.err(
                        &pf,
                        format!("invalid value {pct}: not in valid range [0, 100]"),
                    ));
                }
                if abs < 0 {
                    return Err(cx.err(
                        &absf,
                        format!("invalid value {abs}: not in valid range [0, inf)"),
                    ));
                }
                if pct == 0 && abs == 0 {
                    return Err(cx.err(
                        &pf,
                        "invalid value 0: cannot be zero at the same time as minCandidateNodesAbsolute",
                    ));
                }
                profile.min_candidate_nodes_percentage = pct;
                profile.min_candidate_nodes_absolute = abs;
            }
            names::BALANCED_ALLOCATION => {
                let a: BalancedArgsV1 = cx.args(args, &af)?;
                cx.args_header(&a.api_version, &a.kind, &pc.name, &af)?;
                let mut res: Vec<ResourceWeight> = Vec::new();
                for (k, r) in a.resources.iter().flatten().enumerate() {
                    let rf = format!("{af}.resources[{k}]");
                    if res.iter().any(|x| x.name == r.name) {
                        return Err(cx.err(
                            &format!("{rf}.name"),
                            format!("duplicate value {:?}", r.name),
                        ));
                    }
                    // defaults.go: weight 0 (unset) means 1; validation requires 1.
                    let w = match r.weight.unwrap_or(0) {
                        0 => 1,
                        w => w,
                    };
                    if w != 1 {
                        return Err(cx.err(
                            &format!("{rf}.weight"),
                            format!("invalid value {w}: must be 1"),
                        ));
                    }
                    res.push(ResourceWeight::new(r.name.clone(), w));
                }
                if !res.is_empty() && res != default_resources() {
                    cx.warn(
                        &format!("{af}.resources"),
                        "kubetwin's NodeResourcesBalancedAllocation scores cpu and memory only; ignored",
                    );
                }
            }
            names::NODE_AFFINITY => {
                let a: NodeAffinityArgsV1 = cx.args(args, &af)?;
                cx.args_header(&a.api_version, &a.kind, &pc.name, &af)?;
                if a.added_affinity.is_some() {
                    cx.warn(
                        &format!("{af}.addedAffinity"),
                        "not modelled by kubetwin; ignored",
                    );
                }
            }
            names::VOLUME_BINDING => {
                let a: VolumeBindingArgsV1 = cx.args(args, &af)?;
                cx.args_header(&a.api_version, &a.kind, &pc.name, &af)?;
                if let Some(t) = a.bind_timeout_seconds
                    && t < 0
                {
                    return Err(cx.err(
                        &format!("{af}.bindTimeoutSeconds"),
                        format!("invalid value {t}: invalid BindTimeoutSeconds, should not be a negative value"),
                    ));
                }
            }
            names::DYNAMIC_RESOURCES => {
                let a: DynamicResourcesArgsV1 = cx.args(args, &af)?;
                cx.args_header(&a.api_version, &a.kind, &pc.name, &af)?;
            }
            other => {
                // Upstream passes args of plugins without an args type through untyped.
                let msg = if cx.known.points(other).is_some() {
                    format!("plugin {other:?} takes no args kubetwin models; ignored")
                } else {
                    format!("no plugin named {other:?}; args ignored")
                };
                cx.warn(&format!("{f}.name"), msg);
            }
        }
    }
    Ok(())
}

/// NodeResourcesFitArgs: defaults.go SetDefaults_NodeResourcesFitArgs and
/// validation_pluginargs.go ValidateNodeResourcesFitArgs.
fn fit_args(
    cx: &mut Cx<'_>,
    args: &serde_json::Value,
    af: &str,
    profile: &mut Profile,
) -> Result<(), InputError> {
    let a: FitArgsV1 = cx.args(args, af)?;
    cx.args_header(&a.api_version, &a.kind, names::NODE_RESOURCES_FIT, af)?;
    if a.ignored_resources.as_ref().is_some_and(|v| !v.is_empty())
        || a.ignored_resource_groups
            .as_ref()
            .is_some_and(|v| !v.is_empty())
    {
        cx.warn(
            &format!("{af}.ignoredResources"),
            "not modelled by kubetwin; ignored",
        );
    }
    let Some(s) = &a.scoring_strategy else {
        profile.fit_strategy = ScoringStrategy::LeastAllocated;
        profile.fit_resources = default_resources();
        return Ok(());
    };
    let sf = format!("{af}.scoringStrategy");
    let kind = s.kind.as_deref().unwrap_or("");
    let supported =
        "supported values: \"LeastAllocated\", \"MostAllocated\", \"RequestedToCapacityRatio\"";
    let mut resources = Vec::new();
    for (k, r) in s.resources.iter().flatten().enumerate() {
        let w = match r.weight.unwrap_or(0) {
            0 => 1,
            w => w,
        };
        if !(1..=100).contains(&w) {
            return Err(cx.err(
                &format!("{sf}.resources[{k}].weight"),
                format!(
                    "invalid value {w}: resource weight of {} not in valid range (0, 100]",
                    r.name
                ),
            ));
        }
        resources.push(ResourceWeight::new(r.name.clone(), w));
    }
    if resources.is_empty() {
        resources = default_resources();
    }
    let strategy = match kind {
        "LeastAllocated" | "MostAllocated" => {
            if s.requested_to_capacity_ratio.is_some() {
                return Err(cx.err(
                    &format!("{sf}.requestedToCapacityRatio"),
                    "forbidden: must be nil when type is not RequestedToCapacityRatio",
                ));
            }
            if kind == "LeastAllocated" {
                ScoringStrategy::LeastAllocated
            } else {
                ScoringStrategy::MostAllocated
            }
        }
        "RequestedToCapacityRatio" => {
            let rf = format!("{sf}.requestedToCapacityRatio");
            let Some(r) = &s.requested_to_capacity_ratio else {
                return Err(cx.err(
                    &rf,
                    "required value: must be specified when type is RequestedToCapacityRatio",
                ));
            };
            let shape = r.shape.as_deref().unwrap_or(&[]);
            let shf = format!("{rf}.shape");
            validate_shape(cx, shape, &shf)?;
            ScoringStrategy::RequestedToCapacityRatio {
                shape: shape.iter().map(|p| (p.utilization, p.score)).collect(),
            }
        }
        other => {
            return Err(cx.err(
                &format!("{sf}.type"),
                format!("unsupported value {other:?}: {supported}"),
            ));
        }
    };
    profile.fit_strategy = strategy;
    profile.fit_resources = resources;
    Ok(())
}

/// validation_pluginargs.go validateFunctionShape: at least one point, utilization
/// strictly increasing within 0..=100, score within 0..=10.
fn validate_shape(cx: &Cx<'_>, shape: &[ShapePointV1], f: &str) -> Result<(), InputError> {
    if shape.is_empty() {
        return Err(cx.err(f, "required value: at least one point must be specified"));
    }
    for i in 1..shape.len() {
        if shape[i - 1].utilization >= shape[i].utilization {
            return Err(cx.err(
                &format!("{f}[{i}].utilization"),
                format!(
                    "invalid value {}: values must be sorted in increasing order",
                    shape[i].utilization
                ),
            ));
        }
    }
    for (i, p) in shape.iter().enumerate() {
        if !(0..=100).contains(&p.utilization) {
            return Err(cx.err(
                &format!("{f}[{i}].utilization"),
                format!(
                    "invalid value {}: not in valid range [0, 100]",
                    p.utilization
                ),
            ));
        }
        if !(0..=10).contains(&p.score) {
            return Err(cx.err(
                &format!("{f}[{i}].score"),
                format!("invalid value {}: not in valid range [0, 10]", p.score),
            ));
        }
    }
    Ok(())
}

/// PodTopologySpreadArgs: defaults.go SetDefaults_PodTopologySpreadArgs and
/// validation_pluginargs.go ValidatePodTopologySpreadArgs.
fn spread_args(
    cx: &mut Cx<'_>,
    args: &serde_json::Value,
    af: &str,
    profile: &mut Profile,
) -> Result<(), InputError> {
    let a: SpreadArgsV1 = cx.args(args, af)?;
    cx.args_header(&a.api_version, &a.kind, names::POD_TOPOLOGY_SPREAD, af)?;
    let cs = a.default_constraints.as_deref().unwrap_or(&[]);
    let system = match a.defaulting_type.as_deref().unwrap_or("System") {
        "System" => {
            if !cs.is_empty() {
                return Err(cx.err(
                    &format!("{af}.defaultingType"),
                    "invalid value \"System\": when .defaultConstraints are not empty",
                ));
            }
            true
        }
        "List" => false,
        other => {
            return Err(cx.err(
                &format!("{af}.defaultingType"),
                format!("unsupported value {other:?}: supported values: \"List\", \"System\""),
            ));
        }
    };
    let mut out: Vec<TopologySpreadConstraint> = Vec::new();
    for (i, c) in cs.iter().enumerate() {
        let f = format!("{af}.defaultConstraints[{i}]");
        if c.max_skew <= 0 || c.max_skew > i64::from(i32::MAX) {
            return Err(cx.err(
                &format!("{f}.maxSkew"),
                format!("invalid value {}: not in valid range (0, inf)", c.max_skew),
            ));
        }
        if c.topology_key.is_empty() {
            return Err(cx.err(
                &format!("{f}.topologyKey"),
                "required value: can not be empty",
            ));
        }
        let do_not_schedule = match c.when_unsatisfiable.as_str() {
            "DoNotSchedule" => true,
            "ScheduleAnyway" => false,
            "" => {
                return Err(cx.err(
                    &format!("{f}.whenUnsatisfiable"),
                    "required value: can not be empty",
                ));
            }
            other => {
                return Err(cx.err(
                    &format!("{f}.whenUnsatisfiable"),
                    format!("unsupported value {other:?}: supported values: \"DoNotSchedule\", \"ScheduleAnyway\""),
                ));
            }
        };
        if c.label_selector.is_some() {
            return Err(cx.err(
                &format!("{f}.labelSelector"),
                "forbidden: constraint must not define a selector, as they deduced for each pod",
            ));
        }
        if let Some(k) = out
            .iter()
            .position(|o| o.topology_key == c.topology_key && o.do_not_schedule == do_not_schedule)
        {
            return Err(cx.err(
                &f,
                format!(
                    "duplicate value {{{}, {}}} (also defaultConstraints[{k}])",
                    c.topology_key, c.when_unsatisfiable
                ),
            ));
        }
        let policy = |name: &str, v: &Option<String>, default_honor: bool| match v.as_deref() {
            None | Some("") => Ok(default_honor),
            Some("Honor") => Ok(true),
            Some("Ignore") => Ok(false),
            Some(other) => Err(cx.err(
                &format!("{f}.{name}"),
                format!("unsupported value {other:?}: supported values: \"Honor\", \"Ignore\""),
            )),
        };
        out.push(TopologySpreadConstraint {
            max_skew: c.max_skew as i32,
            topology_key: c.topology_key.clone(),
            do_not_schedule,
            label_selector: None,
            match_label_keys: c.match_label_keys.clone().unwrap_or_default(),
            // minDomains below 1 behaves as 1 (no domain count is below it).
            min_domains: c.min_domains.unwrap_or(1).clamp(1, i64::from(i32::MAX)) as i32,
            node_affinity_policy_honor: policy(
                "nodeAffinityPolicy",
                &c.node_affinity_policy,
                true,
            )?,
            node_taints_policy_honor: policy("nodeTaintsPolicy", &c.node_taints_policy, false)?,
        });
    }
    profile.system_default_spreading = system;
    profile.default_spread_constraints = out;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Store;
    use crate::api::manifest::load_str;
    use crate::controllers::scheduler::Scheduler;
    use crate::controllers::{Controller, Ctx, Key, Outbox, WorkQueue};
    use crate::engine::{RngStreams, SimTime};
    use std::collections::BTreeMap;

    const HEAD: &str =
        "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n";

    fn ok(body: &str) -> SchedulerSettings {
        parse("s.yaml", &format!("{HEAD}{body}"), &["Custom"]).expect("valid config")
    }

    fn one(body: &str) -> Profile {
        let mut s = ok(body);
        assert_eq!(s.profiles.len(), 1);
        s.profiles.remove(0)
    }

    /// (line, field, message) of the error.
    fn bad(body: &str) -> (usize, String, String) {
        let e = parse("s.yaml", &format!("{HEAD}{body}"), &[]).expect_err("invalid config");
        assert_eq!(e.file, "s.yaml");
        (e.line, e.field, e.message)
    }

    fn scores(p: &Profile) -> Vec<(&str, i64)> {
        p.scores.iter().map(|(n, w)| (n.as_str(), *w)).collect()
    }

    #[test]
    fn defaults_equal_the_default_profile() {
        let s = ok("");
        assert_eq!(s.profiles, vec![Profile::default()]);
        assert_eq!(s.percentage_of_nodes_to_score, None);
        let s = ok(
            "percentageOfNodesToScore: 50\nprofiles:\n- schedulerName: default-scheduler\n  plugins: {}\n  pluginConfig: []\n",
        );
        assert_eq!(s.profiles, vec![Profile::default()]);
        assert_eq!(s.percentage_of_nodes_to_score, Some(50));
        // Accepted upstream fields.
        ok(
            "parallelism: 16\nleaderElection: {leaderElect: false}\nclientConnection: {qps: 50, burst: 100}\nenableProfiling: true\npodInitialBackoffSeconds: 1\npodMaxBackoffSeconds: 10\ndelayCacheUntilActive: false\n",
        );
    }

    #[test]
    fn score_point_overrides_multi_point_weight() {
        // Enabled at `score` without a weight: weight 1 (getScoreWeights), listed first.
        let p = one(
            "profiles:\n- plugins:\n    score:\n      enabled:\n      - name: TaintToleration\n      - name: ImageLocality\n        weight: 7\n",
        );
        assert_eq!(
            scores(&p),
            vec![
                ("TaintToleration", 1),
                ("ImageLocality", 7),
                ("NodeAffinity", 2),
                ("NodeResourcesFit", 1),
                ("PodTopologySpread", 2),
                ("InterPodAffinity", 2),
                ("NodeResourcesBalancedAllocation", 1),
            ]
        );
        assert_eq!(p.filters, Profile::default().filters);
    }

    #[test]
    fn multi_point_weights_and_replacement() {
        // A default re-listed at multiPoint is replaced in place; weight 0 means 1.
        let p = one(
            "profiles:\n- plugins:\n    multiPoint:\n      enabled:\n      - {name: TaintToleration, weight: 0}\n      - {name: NodeAffinity, weight: 9}\n      - {name: Custom, weight: 4}\n",
        );
        assert_eq!(p.score_weight("TaintToleration"), 1);
        assert_eq!(p.score_weight("NodeAffinity"), 9);
        assert_eq!(p.scores.last(), Some(&("Custom".to_string(), 4)));
        assert_eq!(p.filters.last().map(String::as_str), Some("Custom"));
    }

    #[test]
    fn disabled_star_and_single_plugins() {
        let p = one(
            "profiles:\n- plugins:\n    score:\n      disabled: [{name: '*'}]\n      enabled: [{name: NodeResourcesFit, weight: 3}]\n    filter:\n      disabled: [{name: NodePorts}]\n",
        );
        assert_eq!(scores(&p), vec![("NodeResourcesFit", 3)]);
        assert!(!p.filter_enabled("NodePorts"));
        assert!(p.filter_enabled("NodeResourcesFit"));
        // multiPoint `*`: only what is listed again.
        let p = one(
            "profiles:\n- plugins:\n    multiPoint:\n      disabled: [{name: '*'}]\n      enabled: [{name: PrioritySort}, {name: DefaultBinder}, {name: NodeResourcesFit}]\n",
        );
        assert_eq!(p.filters, vec!["NodeResourcesFit".to_string()]);
        assert_eq!(scores(&p), vec![("NodeResourcesFit", 1)]);
        assert!(p.post_filters.is_empty());
        // Volume plugins are accepted and do nothing.
        let p = one(
            "profiles:\n- plugins:\n    filter:\n      disabled: [{name: VolumeBinding}]\n    preFilter:\n      enabled: [{name: VolumeZone}]\n",
        );
        assert_eq!(p, Profile::default());
    }

    #[test]
    fn plugin_args() {
        let p = one(
            "profiles:\n- pluginConfig:\n  - name: NodeResourcesFit\n    args:\n      scoringStrategy:\n        type: MostAllocated\n        resources: [{name: cpu, weight: 3}, {name: memory}]\n  - name: InterPodAffinity\n    args: {hardPodAffinityWeight: 7}\n  - name: DefaultPreemption\n    args: {minCandidateNodesPercentage: 0, minCandidateNodesAbsolute: 5}\n  - name: PodTopologySpread\n    args:\n      defaultingType: List\n      defaultConstraints:\n      - {maxSkew: 2, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: DoNotSchedule}\n",
        );
        assert_eq!(p.fit_strategy, ScoringStrategy::MostAllocated);
        assert_eq!(
            p.fit_resources,
            vec![
                ResourceWeight::new("cpu", 3),
                ResourceWeight::new("memory", 1)
            ]
        );
        assert_eq!(p.hard_pod_affinity_weight, 7);
        assert_eq!(
            (
                p.min_candidate_nodes_percentage,
                p.min_candidate_nodes_absolute
            ),
            (0, 5)
        );
        assert!(!p.system_default_spreading);
        assert_eq!(p.default_spread_constraints.len(), 1);
        assert!(p.default_spread_constraints[0].do_not_schedule);
        let p = one(
            "profiles:\n- pluginConfig:\n  - name: NodeResourcesFit\n    args:\n      apiVersion: kubescheduler.config.k8s.io/v1\n      kind: NodeResourcesFitArgs\n      scoringStrategy:\n        type: RequestedToCapacityRatio\n        requestedToCapacityRatio:\n          shape: [{utilization: 0, score: 0}, {utilization: 100, score: 10}]\n",
        );
        assert_eq!(
            p.fit_strategy,
            ScoringStrategy::RequestedToCapacityRatio {
                shape: vec![(0, 0), (100, 10)]
            }
        );
        assert_eq!(p.fit_resources, default_resources());
    }

    #[test]
    fn located_errors() {
        // Line numbers count the two header lines.
        let (line, field, msg) =
            bad("profiles:\n- plugins:\n    score:\n      enabled:\n      - name: Nope\n");
        assert_eq!(
            (line, field.as_str()),
            (7, "profiles[0].plugins.score.enabled[0].name")
        );
        assert!(msg.contains("unknown plugin \"Nope\""), "{msg}");
        let (line, field, _) = bad(
            "profiles:\n- plugins:\n    score:\n      enabled:\n      - name: ImageLocality\n      - name: NodeAffinity\n        weight: 101\n",
        );
        assert_eq!(
            (line, field.as_str()),
            (9, "profiles[0].plugins.score.enabled[1].weight")
        );
        let (_, field, _) = bad(
            "profiles:\n- plugins:\n    multiPoint:\n      enabled: [{name: NodeAffinity, weight: -1}]\n",
        );
        assert_eq!(field, "profiles[0].plugins.multiPoint.enabled[0].weight");
        let (line, field, _) = bad("percentageOfNodesToScore: 101\n");
        assert_eq!((line, field.as_str()), (3, "percentageOfNodesToScore"));
        let (_, field, msg) = bad(
            "profiles:\n- pluginConfig:\n  - name: NodeResourcesFit\n    args: {scoringStrategy: {type: Balanced}}\n",
        );
        assert_eq!(
            field,
            "profiles[0].pluginConfig[0].args.scoringStrategy.type"
        );
        assert!(msg.contains("unsupported value \"Balanced\""), "{msg}");
        let (line, _, msg) = bad("profiles: [\n");
        assert!(
            line >= 3 && msg.starts_with("malformed YAML"),
            "{line} {msg}"
        );
        let (line, field, msg) = bad("profiles:\n- schedulerName: a\n  color: red\n");
        assert_eq!(line, 5);
        assert!(field.starts_with("profiles[0]"), "{field}");
        assert!(msg.contains("unknown field `color`"), "{msg}");
        let (_, field, msg) = bad(
            "profiles:\n- pluginConfig:\n  - name: NodeResourcesFit\n    args: {scoringStrategy: {type: MostAllocated, shape: []}}\n",
        );
        assert_eq!(
            field,
            "profiles[0].pluginConfig[0].args.scoringStrategy.shape"
        );
        assert!(msg.contains("unknown field"), "{msg}");
        let (_, field, msg) = bad("profiles:\n- schedulerName: a\n- schedulerName: a\n");
        assert_eq!(field, "profiles[1].schedulerName");
        assert!(msg.contains("duplicate"), "{msg}");
        let (_, field, _) = bad("profiles:\n- schedulerName: a\n- {}\n");
        assert_eq!(field, "profiles[1].schedulerName");
        let (_, field, msg) = bad(
            "profiles:\n- schedulerName: a\n- schedulerName: b\n  plugins:\n    queueSort:\n      disabled: [{name: '*'}]\n      enabled: [{name: PrioritySort}]\n",
        );
        assert_eq!(field, "profiles[1].plugins.queueSort");
        assert!(msg.contains("same for all profiles"), "{msg}");
        let (_, field, msg) =
            bad("profiles:\n- plugins:\n    filter:\n      enabled: [{name: ImageLocality}]\n");
        assert_eq!(field, "profiles[0].plugins.filter.enabled[0].name");
        assert!(msg.contains("does not extend FilterPlugin"), "{msg}");
        let (_, field, _) = bad(
            "profiles:\n- pluginConfig:\n  - name: PodTopologySpread\n    args: {defaultConstraints: [{maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule}]}\n",
        );
        assert_eq!(field, "profiles[0].pluginConfig[0].args.defaultingType");
        let (_, field, _) = bad(
            "profiles:\n- pluginConfig:\n  - name: PodTopologySpread\n    args: {defaultingType: List, defaultConstraints: [{maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule, labelSelector: {}}]}\n",
        );
        assert_eq!(
            field,
            "profiles[0].pluginConfig[0].args.defaultConstraints[0].labelSelector"
        );
        let (_, field, _) = bad(
            "profiles:\n- pluginConfig:\n  - name: NodeResourcesFit\n    args:\n      scoringStrategy:\n        type: RequestedToCapacityRatio\n        requestedToCapacityRatio: {shape: [{utilization: 50, score: 1}, {utilization: 40, score: 11}]}\n",
        );
        assert_eq!(
            field,
            "profiles[0].pluginConfig[0].args.scoringStrategy.requestedToCapacityRatio.shape[1].utilization"
        );
        let (_, field, _) = bad(
            "profiles:\n- pluginConfig:\n  - name: DefaultPreemption\n    args: {minCandidateNodesPercentage: 0, minCandidateNodesAbsolute: 0}\n",
        );
        assert_eq!(
            field,
            "profiles[0].pluginConfig[0].args.minCandidateNodesPercentage"
        );
        let (_, field, _) = bad(
            "profiles:\n- pluginConfig:\n  - name: InterPodAffinity\n    args: {hardPodAffinityWeight: 101}\n",
        );
        assert_eq!(
            field,
            "profiles[0].pluginConfig[0].args.hardPodAffinityWeight"
        );
        let (_, field, _) =
            bad("profiles:\n- plugins:\n    queueSort:\n      disabled: [{name: PrioritySort}]\n");
        assert_eq!(field, "profiles[0].plugins.queueSort");
        let e = parse(
            "s.yaml",
            "apiVersion: kubescheduler.config.k8s.io/v1beta3\nkind: KubeSchedulerConfiguration\n",
            &[],
        )
        .expect_err("old version");
        assert_eq!((e.line, e.field.as_str()), (1, "apiVersion"));
    }

    #[test]
    fn registry_variant_knows_extension_points() {
        struct F;
        impl crate::controllers::scheduler::profile::FilterPlugin for F {
            fn name(&self) -> &str {
                "OnlyFilter"
            }
            fn filter(
                &self,
                _: &crate::api::Pod,
                _: &crate::api::Node,
                _: &Store,
            ) -> Result<(), Vec<String>> {
                Ok(())
            }
        }
        let reg = Registry {
            filters: vec![Box::new(F)],
            scores: Vec::new(),
        };
        let text = format!(
            "{HEAD}profiles:\n- plugins:\n    multiPoint:\n      enabled: [{{name: OnlyFilter}}]\n"
        );
        let s = parse_for_registry("s.yaml", &text, &reg).expect("valid");
        assert!(s.profiles[0].filter_enabled("OnlyFilter"));
        assert_eq!(s.profiles[0].score_weight("OnlyFilter"), 0);
        let text = format!(
            "{HEAD}profiles:\n- plugins:\n    score:\n      enabled: [{{name: OnlyFilter}}]\n"
        );
        assert!(parse_for_registry("s.yaml", &text, &reg).is_err());
    }

    #[test]
    fn shipped_examples_are_valid() {
        let least = include_str!("../../../scenarios/scheduler/least-allocated.yaml");
        let s = parse("least-allocated.yaml", least, &[]).expect("valid");
        assert_eq!(s.profiles, vec![Profile::default()]);
        let most = include_str!("../../../scenarios/scheduler/most-allocated.yaml");
        let s = parse("most-allocated.yaml", most, &[]).expect("valid");
        assert_eq!(s.profiles[0].fit_strategy, ScoringStrategy::MostAllocated);
        assert_eq!(s.profiles[0].score_weight(names::NODE_RESOURCES_FIT), 5);
        let multi = include_str!("../../../scenarios/scheduler/multi-profile.yaml");
        let s = parse("multi-profile.yaml", multi, &[]).expect("valid");
        assert_eq!(s.profiles[0], Profile::default());
        let p = &s.profiles[1];
        assert_eq!(p.scheduler_name, "bin-packing-scheduler");
        assert_eq!(p.score_weight(names::NODE_RESOURCES_FIT), 5);
        assert_eq!(p.score_weight(names::POD_TOPOLOGY_SPREAD), 0);
        assert_eq!(p.score_weight(names::BALANCED_ALLOCATION), 0);
        assert!(p.filter_enabled(names::POD_TOPOLOGY_SPREAD));
    }

    fn node(name: &str, extra: &str) -> String {
        format!(
            "apiVersion: v1\nkind: Node\nmetadata:\n  name: {name}\n  labels: {{kubernetes.io/hostname: {name}}}\n{extra}status:\n  allocatable: {{cpu: '4', memory: 8Gi, pods: '110'}}\n---\n"
        )
    }

    fn pod(name: &str, scheduler: &str) -> String {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: default}}\nspec:\n  schedulerName: {scheduler}\n  containers:\n  - name: c\n    image: nginx\n    resources: {{requests: {{cpu: '1', memory: 1Gi}}}}\n---\n"
        )
    }

    /// Schedules every pending pod of `yaml` with `settings`; returns pod -> node ("" when
    /// unbound) and the FailedScheduling messages.
    fn schedule(
        yaml: &str,
        settings: &SchedulerSettings,
    ) -> (BTreeMap<String, String>, Vec<String>) {
        let mut s = Store::new(RngStreams::new(1).stream("names"), true);
        for l in load_str(yaml, "t.yaml", 1).expect("valid yaml").objects {
            s.create(l.object, SimTime::ZERO).expect("created");
        }
        let mut sched = Scheduler::new(settings.scheduler_config(true, 0));
        let mut rng = RngStreams::new(1).stream("sched");
        let mut out = Outbox::default();
        let mut wq = WorkQueue::default();
        for c in s.take_changes() {
            sched.on_change(&c, &s, &mut wq);
        }
        let mut ctx = Ctx {
            now: SimTime::ZERO,
            store: &mut s,
            rng: &mut rng,
            out: &mut out,
        };
        sched.reconcile(Key::SINGLETON, &mut ctx);
        let placed = s
            .pods
            .iter_by_name()
            .map(|(_, p)| (p.meta.name.clone(), p.spec.node_name.clone()))
            .collect();
        let msgs = s
            .take_journal()
            .into_iter()
            .filter(|j| j.reason == "FailedScheduling")
            .map(|j| j.message)
            .collect();
        (placed, msgs)
    }

    fn nodes_used(placed: &BTreeMap<String, String>) -> usize {
        placed
            .values()
            .filter(|n| !n.is_empty())
            .collect::<std::collections::BTreeSet<_>>()
            .len()
    }

    #[test]
    fn listed_default_constraints_filter_and_score() {
        // Zone a has three nodes, zone b one; a Service gives the pods a default selector.
        let mut y = String::new();
        for (n, z) in [("a1", "a"), ("a2", "a"), ("a3", "a"), ("b1", "b")] {
            y += &node(n, "").replace(
                "labels: {kubernetes.io/hostname",
                &format!("labels: {{topology.kubernetes.io/zone: {z}, kubernetes.io/hostname"),
            );
        }
        y += "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default}\nspec:\n  selector: {app: web}\n  ports: [{port: 80}]\n---\n";
        for i in 0..4 {
            y += &pod(&format!("w{i}"), "default-scheduler").replace(
                "namespace: default}",
                "namespace: default, labels: {app: web}}",
            );
        }
        let in_zones = |placed: &BTreeMap<String, String>| {
            let a = placed.values().filter(|n| n.starts_with('a')).count();
            let b = placed.values().filter(|n| n.starts_with('b')).count();
            (a, b)
        };
        // System defaults (soft): one pod per node.
        let (placed, _) = schedule(&y, &SchedulerSettings::default());
        assert_eq!(in_zones(&placed), (3, 1), "{placed:?}");
        // A listed DoNotSchedule zone constraint with maxSkew 1: two per zone.
        let hard = ok(
            "profiles:\n- pluginConfig:\n  - name: PodTopologySpread\n    args:\n      defaultingType: List\n      defaultConstraints:\n      - {maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: DoNotSchedule}\n",
        );
        let (placed, _) = schedule(&y, &hard);
        assert_eq!(in_zones(&placed), (2, 2), "{placed:?}");
        // A listed ScheduleAnyway hostname constraint only: zone b's node gets one pod.
        let soft = ok(
            "profiles:\n- pluginConfig:\n  - name: PodTopologySpread\n    args:\n      defaultingType: List\n      defaultConstraints:\n      - {maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: ScheduleAnyway}\n",
        );
        let (placed, _) = schedule(&y, &soft);
        assert_eq!(in_zones(&placed), (3, 1), "{placed:?}");
    }

    const MOST_ALLOCATED: &str = "profiles:\n- pluginConfig:\n  - name: NodeResourcesFit\n    args:\n      scoringStrategy: {type: MostAllocated}\n";

    #[test]
    fn most_allocated_packs_onto_fewer_nodes() {
        let mut y = String::new();
        for n in 1..=4 {
            y += &node(&format!("n{n}"), "");
        }
        for i in 0..3 {
            y += &pod(&format!("p{i}"), "default-scheduler");
        }
        let (spread, _) = schedule(&y, &SchedulerSettings::default());
        let (packed, _) = schedule(&y, &ok(MOST_ALLOCATED));
        assert_eq!(nodes_used(&spread), 3, "{spread:?}");
        assert_eq!(nodes_used(&packed), 1, "{packed:?}");
    }

    #[test]
    fn two_profiles_coexist() {
        // Profile `tolerant` runs no TaintToleration filter and bin-packs.
        let settings = ok(
            "profiles:\n- schedulerName: default-scheduler\n- schedulerName: tolerant\n  plugins:\n    filter:\n      disabled: [{name: TaintToleration}]\n  pluginConfig:\n  - name: NodeResourcesFit\n    args: {scoringStrategy: {type: MostAllocated}}\n",
        );
        let y = node(
            "tainted",
            "spec:\n  taints: [{key: k, value: v, effect: NoSchedule}]\n",
        ) + &node("free-1", "")
            + &node("free-2", "")
            + &pod("a", "default-scheduler")
            + &pod("b1", "tolerant")
            + &pod("b2", "tolerant")
            + &pod("c", "nobody");
        let (placed, msgs) = schedule(&y, &settings);
        assert!(placed["a"].starts_with("free"), "{placed:?}");
        // `a` went first to free-1; the packing profile puts both of its pods there too.
        assert_eq!(placed["b1"], placed["b2"], "{placed:?}");
        assert_eq!(placed["c"], "", "pods naming no profile are not scheduled");
        assert!(msgs.is_empty(), "{msgs:?}");
        // Only the tainted node: the default profile fails, the tolerant one binds.
        let y = node(
            "tainted",
            "spec:\n  taints: [{key: k, value: v, effect: NoSchedule}]\n",
        ) + &pod("a", "default-scheduler")
            + &pod("b", "tolerant");
        let (placed, msgs) = schedule(&y, &settings);
        assert_eq!(placed["a"], "");
        assert_eq!(placed["b"], "tainted");
        assert_eq!(msgs.len(), 1, "{msgs:?}");
    }
}
