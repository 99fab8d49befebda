//! Converting `k8s-openapi` wire objects into kubetwin's internal types, applying the
//! API server's defaults (pkg/apis/core/v1/defaults.go, pkg/apis/apps/v1/defaults.go)
//! and the validation that matters to the control loops (pkg/apis/core/validation,
//! pkg/apis/apps/validation). Errors carry the field path; the loader turns it into a
//! line and column.

use super::affinity::{
    NodeAffinity, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, PodAffinity,
    PodAffinityTerm, PreferredSchedulingTerm, WeightedPodAffinityTerm,
};
use super::objects::*;
use super::quantity::Quantity;
use super::resources::Resources;
use super::selector::{LabelSelector, Labels, Operator, validate_label_key};
use super::taint::{Taint, TaintEffect, Toleration, TolerationOperator};
use k8s_openapi::api::policy::v1 as policy;
use k8s_openapi::api::scheduling::v1 as scheduling;
use k8s_openapi::api::{apps::v1 as apps, autoscaling::v2 as autoscaling, core::v1 as core};
use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;

/// A conversion or validation failure at a field path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ConvertError {
    /// Field path relative to the object (`spec.replicas`).
    pub field: String,
    /// What is wrong.
    pub message: String,
}

fn err<T>(field: impl Into<String>, message: impl Into<String>) -> Result<T, ConvertError> {
    Err(ConvertError {
        field: field.into(),
        message: message.into(),
    })
}

type R<T> = Result<T, ConvertError>;

/// Default `terminationGracePeriodSeconds`.
pub const DEFAULT_TERMINATION_GRACE_SECONDS: i64 = 30;
/// Default scheduler name.
pub const DEFAULT_SCHEDULER_NAME: &str = "default-scheduler";
/// Default namespace.
pub const DEFAULT_NAMESPACE: &str = "default";
/// Default `maxSurge`/`maxUnavailable` of a RollingUpdate Deployment.
pub const DEFAULT_ROLLING_PERCENT: &str = "25%";
/// Default `revisionHistoryLimit` (apps/v1).
pub const DEFAULT_REVISION_HISTORY_LIMIT: i32 = 10;
/// Default `progressDeadlineSeconds` (apps/v1).
pub const DEFAULT_PROGRESS_DEADLINE_SECONDS: i32 = 600;

/// Validates a DNS-1123 subdomain name (most object names).
pub fn validate_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("name is required".into());
    }
    if name.len() > 253 {
        return Err(format!("name {name:?} is longer than 253 characters"));
    }
    let ok_chars = name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
    let b = name.as_bytes();
    let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    if !ok_chars || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return Err(format!(
            "invalid name {name:?}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"
        ));
    }
    Ok(())
}

fn convert_meta(m: meta::ObjectMeta, namespaced: bool, allow_generate: bool) -> R<ObjectMeta> {
    let name = m.name.unwrap_or_default();
    let generate_name = m.generate_name.unwrap_or_default();
    if name.is_empty() && (!allow_generate || generate_name.is_empty()) {
        return err("metadata.name", "name is required");
    }
    if !name.is_empty() {
        validate_name(&name).map_err(|message| ConvertError {
            field: "metadata.name".into(),
            message,
        })?;
    }
    let namespace = if namespaced {
        m.namespace
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| DEFAULT_NAMESPACE.to_string())
    } else {
        String::new()
    };
    Ok(ObjectMeta {
        name,
        generate_name,
        namespace,
        generation: 1,
        labels: m.labels.unwrap_or_default(),
        annotations: m.annotations.unwrap_or_default(),
        owners: owner_references(m.owner_references),
        ..ObjectMeta::default()
    })
}

/// `metadata.ownerReferences` naming modelled owner kinds (ReplicaSet,
/// ReplicationController, Deployment), as in a cluster dump. The owner's uid is
/// resolved by name when the object is created (`Uid(0)` until then); references to
/// kinds kubetwin does not model (DaemonSet, StatefulSet, Job, Node) are dropped, so
/// such pods are standalone.
fn owner_references(refs: Option<Vec<meta::OwnerReference>>) -> Vec<OwnerRef> {
    refs.unwrap_or_default()
        .into_iter()
        .filter_map(|r| {
            let kind = match (r.api_version.as_str(), r.kind.as_str()) {
                ("apps/v1", "ReplicaSet") => Kind::ReplicaSet,
                ("apps/v1", "Deployment") => Kind::Deployment,
                ("v1", "ReplicationController") => Kind::ReplicationController,
                _ => return None,
            };
            Some(OwnerRef {
                kind,
                name: r.name,
                uid: Uid(0),
                controller: r.controller.unwrap_or(false),
            })
        })
        .collect()
}

fn parse_quantity(field: &str, q: &str) -> R<Quantity> {
    Quantity::parse(q).map_err(|e| ConvertError {
        field: field.into(),
        message: e.to_string(),
    })
}

fn resource_list(
    field: &str,
    list: Option<BTreeMap<String, meta_quantity::Quantity>>,
) -> R<Resources> {
    let mut r = Resources::default();
    for (name, q) in list.unwrap_or_default() {
        let f = format!("{field}.{name}");
        let parsed = parse_quantity(&f, &q.0)?;
        if parsed.is_negative() {
            return err(
                f,
                format!("must be greater than or equal to 0, got {:?}", q.0),
            );
        }
        r.set(&name, &parsed);
    }
    Ok(r)
}

mod meta_quantity {
    pub use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
}

fn int_or_string_text(v: &IntOrString) -> String {
    match v {
        IntOrString::Int(i) => i.to_string(),
        IntOrString::String(s) => s.clone(),
    }
}

/// Validates an IntOrString that may be a percentage (`maxSurge`, `minAvailable`).
fn int_or_percent(field: &str, v: &IntOrString) -> R<String> {
    match v {
        IntOrString::Int(i) if *i < 0 => err(
            field,
            format!("must be greater than or equal to 0, got {i}"),
        ),
        IntOrString::Int(i) => Ok(i.to_string()),
        IntOrString::String(s) => {
            let Some(num) = s.strip_suffix('%') else {
                return err(
                    field,
                    format!("invalid value {s:?}: must be an integer or percentage (e.g. '5%')"),
                );
            };
            match num.parse::<i32>() {
                Ok(p) if p >= 0 => Ok(s.clone()),
                _ => err(
                    field,
                    format!("invalid value {s:?}: must be an integer or percentage (e.g. '5%')"),
                ),
            }
        }
    }
}

fn probe(field: &str, p: Option<core::Probe>, must_succeed_once: bool) -> R<Option<Probe>> {
    let Some(p) = p else { return Ok(None) };
    let mut handlers = Vec::new();
    if let Some(e) = p.exec {
        handlers.push(ProbeHandler::Exec(e.command.unwrap_or_default()));
    }
    if let Some(h) = p.http_get {
        handlers.push(ProbeHandler::HttpGet(
            h.path.unwrap_or_else(|| "/".into()),
            int_or_string_text(&h.port),
        ));
    }
    if let Some(t) = p.tcp_socket {
        handlers.push(ProbeHandler::TcpSocket(int_or_string_text(&t.port)));
    }
    if let Some(g) = p.grpc {
        handlers.push(ProbeHandler::Grpc(g.port));
    }
    if handlers.len() != 1 {
        return err(
            field,
            if handlers.is_empty() {
                "must specify a handler type (exec, httpGet, tcpSocket or grpc)"
            } else {
                "may not specify more than 1 handler type"
            },
        );
    }
    // Defaults: pkg/apis/core/v1/defaults.go SetDefaults_Probe (unset or 0 -> default).
    let pick = |v: Option<i32>, d: i32| match v {
        Some(x) if x != 0 => x,
        _ => d,
    };
    for (name, v) in [
        ("initialDelaySeconds", p.initial_delay_seconds),
        ("timeoutSeconds", p.timeout_seconds),
        ("periodSeconds", p.period_seconds),
        ("successThreshold", p.success_threshold),
        ("failureThreshold", p.failure_threshold),
    ] {
        if let Some(x) = v
            && x < 0
        {
            return err(
                format!("{field}.{name}"),
                format!("must be greater than or equal to 0, got {x}"),
            );
        }
    }
    let success = pick(p.success_threshold, 1);
    if must_succeed_once && success != 1 {
        return err(format!("{field}.successThreshold"), "must be 1");
    }
    Ok(Some(Probe {
        handler: handlers.remove(0),
        initial_delay_seconds: p.initial_delay_seconds.unwrap_or(0),
        timeout_seconds: pick(p.timeout_seconds, 1),
        period_seconds: pick(p.period_seconds, 10),
        success_threshold: success,
        failure_threshold: pick(p.failure_threshold, 3),
    }))
}

fn container(field: &str, c: core::Container, require_image: bool) -> R<Container> {
    if c.name.is_empty() {
        return err(format!("{field}.name"), "container name is required");
    }
    let image = c.image.unwrap_or_default();
    if image.is_empty() && require_image {
        return err(format!("{field}.image"), "image is required");
    }
    let res = c.resources.unwrap_or_default();
    let limits = resource_list(&format!("{field}.resources.limits"), res.limits.clone())?;
    let mut requests = resource_list(&format!("{field}.resources.requests"), res.requests.clone())?;
    // SetDefaults_Container: a limit without a request defaults the request to the limit.
    let req_names: Vec<String> = res
        .requests
        .map(|r| r.into_keys().collect())
        .unwrap_or_default();
    for name in res
        .limits
        .map(|l| l.into_keys().collect::<Vec<_>>())
        .unwrap_or_default()
    {
        if !req_names.contains(&name) {
            let v = limits.get(&name);
            match name.as_str() {
                "cpu" => requests.cpu_milli = v,
                "memory" => requests.memory = v,
                "ephemeral-storage" => requests.ephemeral_storage = v,
                other => requests.set_extended(other, v),
            }
        }
    }
    for name in ["cpu", "memory", "ephemeral-storage"] {
        let (r, l) = (requests.get(name), limits.get(name));
        if l > 0 && r > l {
            return err(
                format!("{field}.resources.requests.{name}"),
                format!("must be less than or equal to {name} limit"),
            );
        }
    }
    let ports = c
        .ports
        .unwrap_or_default()
        .into_iter()
        .map(|p| ContainerPort {
            container_port: p.container_port,
            host_port: p.host_port.unwrap_or(0),
            protocol: p.protocol.unwrap_or_else(|| "TCP".into()),
        })
        .collect();
    Ok(Container {
        name: c.name,
        image,
        requests,
        limits,
        ports,
        liveness: probe(&format!("{field}.livenessProbe"), c.liveness_probe, true)?,
        readiness: probe(&format!("{field}.readinessProbe"), c.readiness_probe, false)?,
        startup: probe(&format!("{field}.startupProbe"), c.startup_probe, true)?,
    })
}

fn node_selector_requirement(
    field: &str,
    r: core::NodeSelectorRequirement,
) -> R<NodeSelectorRequirement> {
    let op = match r.operator.as_str() {
        "In" => Operator::In,
        "NotIn" => Operator::NotIn,
        "Exists" => Operator::Exists,
        "DoesNotExist" => Operator::DoesNotExist,
        "Gt" => Operator::Gt,
        "Lt" => Operator::Lt,
        other => {
            return err(
                format!("{field}.operator"),
                format!("unsupported operator {other:?} (In, NotIn, Exists, DoesNotExist, Gt, Lt)"),
            );
        }
    };
    NodeSelectorRequirement::new(r.key, op, r.values.unwrap_or_default()).map_err(|e| {
        ConvertError {
            field: field.into(),
            message: e.to_string(),
        }
    })
}

fn node_selector_term(field: &str, t: core::NodeSelectorTerm) -> R<NodeSelectorTerm> {
    let mut match_expressions = Vec::new();
    for (i, r) in t
        .match_expressions
        .unwrap_or_default()
        .into_iter()
        .enumerate()
    {
        match_expressions.push(node_selector_requirement(
            &format!("{field}.matchExpressions[{i}]"),
            r,
        )?);
    }
    let mut match_fields = Vec::new();
    for (i, r) in t.match_fields.unwrap_or_default().into_iter().enumerate() {
        let f = format!("{field}.matchFields[{i}]");
        if r.key != "metadata.name" {
            return err(
                format!("{f}.key"),
                format!("unsupported field {:?} (only metadata.name)", r.key),
            );
        }
        match_fields.push(node_selector_requirement(&f, r)?);
    }
    Ok(NodeSelectorTerm {
        match_expressions,
        match_fields,
    })
}

fn node_affinity(field: &str, a: Option<core::Affinity>) -> R<Option<NodeAffinity>> {
    let Some(na) = a.and_then(|a| a.node_affinity) else {
        return Ok(None);
    };
    let field = format!("{field}.nodeAffinity");
    let required = match na.required_during_scheduling_ignored_during_execution {
        Some(ns) => {
            let mut terms = Vec::new();
            for (i, t) in ns.node_selector_terms.into_iter().enumerate() {
                terms.push(node_selector_term(
                    &format!("{field}.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[{i}]"),
                    t,
                )?);
            }
            Some(NodeSelector { terms })
        }
        None => None,
    };
    let mut preferred = Vec::new();
    for (i, p) in na
        .preferred_during_scheduling_ignored_during_execution
        .unwrap_or_default()
        .into_iter()
        .enumerate()
    {
        let f = format!("{field}.preferredDuringSchedulingIgnoredDuringExecution[{i}]");
        if !(1..=100).contains(&p.weight) {
            return err(
                format!("{f}.weight"),
                format!("must be in the range 1-100, got {}", p.weight),
            );
        }
        preferred.push(PreferredSchedulingTerm {
            weight: p.weight,
            preference: node_selector_term(&format!("{f}.preference"), p.preference)?,
        });
    }
    Ok(Some(NodeAffinity {
        required,
        preferred,
    }))
}

fn taint_effect(field: &str, s: &str) -> R<TaintEffect> {
    match s {
        "NoSchedule" => Ok(TaintEffect::NoSchedule),
        "PreferNoSchedule" => Ok(TaintEffect::PreferNoSchedule),
        "NoExecute" => Ok(TaintEffect::NoExecute),
        other => err(
            field,
            format!("unsupported taint effect {other:?} (NoSchedule, PreferNoSchedule, NoExecute)"),
        ),
    }
}

fn tolerations(field: &str, ts: Option<Vec<core::Toleration>>) -> R<Vec<Toleration>> {
    let mut out = Vec::new();
    for (i, t) in ts.unwrap_or_default().into_iter().enumerate() {
        let f = format!("{field}[{i}]");
        let operator = match t.operator.as_deref().unwrap_or("Equal") {
            "Equal" | "" => TolerationOperator::Equal,
            "Exists" => TolerationOperator::Exists,
            "Gt" => TolerationOperator::Gt,
            "Lt" => TolerationOperator::Lt,
            other => {
                return err(
                    format!("{f}.operator"),
                    format!("unsupported operator {other:?} (Equal, Exists)"),
                );
            }
        };
        let effect = match t.effect.as_deref() {
            None | Some("") => None,
            Some(e) => Some(taint_effect(&format!("{f}.effect"), e)?),
        };
        let key = t.key.unwrap_or_default();
        if key.is_empty() && operator != TolerationOperator::Exists {
            return err(
                format!("{f}.operator"),
                "operator must be Exists when key is empty",
            );
        }
        if t.toleration_seconds.is_some() && effect != Some(TaintEffect::NoExecute) {
            return err(
                format!("{f}.effect"),
                "effect must be 'NoExecute' when tolerationSeconds is set",
            );
        }
        out.push(Toleration {
            key,
            operator,
            value: t.value.unwrap_or_default(),
            effect,
            toleration_seconds: t.toleration_seconds,
        });
    }
    Ok(out)
}

/// Converts a pod spec at `field` (`spec` or `spec.template.spec`), applying defaults.
fn pod_spec(field: &str, s: core::PodSpec, in_template: bool) -> R<PodSpec> {
    if s.containers.is_empty() {
        return err(
            format!("{field}.containers"),
            "must have at least one container",
        );
    }
    let mut names = Vec::new();
    let mut containers = Vec::new();
    for (i, c) in s.containers.into_iter().enumerate() {
        let f = format!("{field}.containers[{i}]");
        if names.contains(&c.name) {
            return err(
                format!("{f}.name"),
                format!("duplicate container name {:?}", c.name),
            );
        }
        names.push(c.name.clone());
        containers.push(container(&f, c, true)?);
    }
    let mut init_containers = Vec::new();
    for (i, c) in s
        .init_containers
        .unwrap_or_default()
        .into_iter()
        .enumerate()
    {
        init_containers.push(container(&format!("{field}.initContainers[{i}]"), c, true)?);
    }
    // pkg/apis/core/v1/defaults.go SetDefaults_Pod: with hostNetwork, a port's hostPort
    // defaults to its containerPort.
    if s.host_network == Some(true) {
        for c in containers.iter_mut().chain(init_containers.iter_mut()) {
            for p in &mut c.ports {
                if p.host_port == 0 {
                    p.host_port = p.container_port;
                }
            }
        }
    }
    let restart_policy = match s.restart_policy.as_deref() {
        None | Some("") | Some("Always") => RestartPolicy::Always,
        Some("OnFailure") => RestartPolicy::OnFailure,
        Some("Never") => RestartPolicy::Never,
        Some(other) => {
            return err(
                format!("{field}.restartPolicy"),
                format!("unsupported value {other:?} (Always, OnFailure, Never)"),
            );
        }
    };
    if in_template && restart_policy != RestartPolicy::Always {
        return err(
            format!("{field}.restartPolicy"),
            format!(
                "unsupported value {:?}: only \"Always\" is allowed in a controller's pod template",
                restart_policy.as_str()
            ),
        );
    }
    let grace = s
        .termination_grace_period_seconds
        .unwrap_or(DEFAULT_TERMINATION_GRACE_SECONDS);
    if grace < 0 {
        return err(
            format!("{field}.terminationGracePeriodSeconds"),
            format!("must be greater than or equal to 0, got {grace}"),
        );
    }
    let preemption_policy = s
        .preemption_policy
        .as_deref()
        .map(|v| preemption_policy(&format!("{field}.preemptionPolicy"), v))
        .transpose()?;
    let priority_class_name = s.priority_class_name.unwrap_or_default();
    // Built-in priority classes (pkg/apis/scheduling: SystemCriticalPriority).
    let priority = s.priority.unwrap_or(match priority_class_name.as_str() {
        "system-node-critical" => 2_000_001_000,
        "system-cluster-critical" => 2_000_000_000,
        _ => 0,
    });
    let (pod_affinity, pod_anti_affinity) =
        pod_affinities(&format!("{field}.affinity"), s.affinity.as_ref())?;
    Ok(PodSpec {
        containers,
        init_containers,
        node_name: s.node_name.unwrap_or_default(),
        node_selector: s.node_selector.unwrap_or_default(),
        node_affinity: node_affinity(&format!("{field}.affinity"), s.affinity)?,
        tolerations: tolerations(&format!("{field}.tolerations"), s.tolerations)?,
        priority,
        priority_class_name,
        restart_policy,
        termination_grace_period_seconds: grace,
        scheduler_name: s
            .scheduler_name
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| DEFAULT_SCHEDULER_NAME.into()),
        dns_policy: s
            .dns_policy
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "ClusterFirst".into()),
        host_network: s.host_network.unwrap_or(false),
        topology_spread_constraints: spread_constraints(
            &format!("{field}.topologySpreadConstraints"),
            s.topology_spread_constraints,
        )?,
        preemption_policy,
        pod_affinity,
        pod_anti_affinity,
    })
}

/// Converts `affinity.podAffinity` and `affinity.podAntiAffinity` with the API validation
/// (pkg/apis/core/validation: validatePodAffinity, validatePodAntiAffinity,
/// validatePodAffinityTerm, validateWeightedPodAffinityTerms,
/// validateMatchLabelKeysAndMismatchLabelKeys).
fn pod_affinities(
    field: &str,
    a: Option<&core::Affinity>,
) -> R<(Option<PodAffinity>, Option<PodAffinity>)> {
    let Some(a) = a else {
        return Ok((None, None));
    };
    let affinity = match &a.pod_affinity {
        Some(p) => Some(pod_affinity_rules(
            &format!("{field}.podAffinity"),
            p.required_during_scheduling_ignored_during_execution
                .as_deref(),
            p.preferred_during_scheduling_ignored_during_execution
                .as_deref(),
        )?),
        None => None,
    };
    let anti = match &a.pod_anti_affinity {
        Some(p) => Some(pod_affinity_rules(
            &format!("{field}.podAntiAffinity"),
            p.required_during_scheduling_ignored_during_execution
                .as_deref(),
            p.preferred_during_scheduling_ignored_during_execution
                .as_deref(),
        )?),
        None => None,
    };
    Ok((affinity, anti))
}

fn pod_affinity_rules(
    field: &str,
    required: Option<&[core::PodAffinityTerm]>,
    preferred: Option<&[core::WeightedPodAffinityTerm]>,
) -> R<PodAffinity> {
    let mut out = PodAffinity::default();
    for (i, t) in required.unwrap_or_default().iter().enumerate() {
        out.required.push(pod_affinity_term(
            &format!("{field}.requiredDuringSchedulingIgnoredDuringExecution[{i}]"),
            t,
        )?);
    }
    for (i, w) in preferred.unwrap_or_default().iter().enumerate() {
        let f = format!("{field}.preferredDuringSchedulingIgnoredDuringExecution[{i}]");
        if !(1..=100).contains(&w.weight) {
            return err(
                format!("{f}.weight"),
                format!("must be in the range 1-100, got {}", w.weight),
            );
        }
        out.preferred.push(WeightedPodAffinityTerm {
            weight: w.weight,
            term: pod_affinity_term(&format!("{f}.podAffinityTerm"), &w.pod_affinity_term)?,
        });
    }
    Ok(out)
}

/// Whether `s` is a DNS-1123 label (a namespace name): at most 63 lowercase alphanumerics
/// or '-', starting and ending alphanumeric.
fn is_dns1123_label(s: &str) -> bool {
    let b = s.as_bytes();
    let alnum = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    !b.is_empty()
        && b.len() <= 63
        && b.iter().all(|c| alnum(c) || *c == b'-')
        && alnum(&b[0])
        && alnum(&b[b.len() - 1])
}

fn pod_affinity_term(field: &str, t: &core::PodAffinityTerm) -> R<PodAffinityTerm> {
    let selector = match &t.label_selector {
        Some(s) => Some(label_selector(&format!("{field}.labelSelector"), s)?),
        None => None,
    };
    let namespace_selector = match &t.namespace_selector {
        Some(s) => Some(label_selector(&format!("{field}.namespaceSelector"), s)?),
        None => None,
    };
    let namespaces = t.namespaces.clone().unwrap_or_default();
    for (i, ns) in namespaces.iter().enumerate() {
        if !is_dns1123_label(ns) {
            return err(
                format!("{field}.namespaces[{i}]"),
                format!(
                    "invalid namespace {ns:?}: a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character"
                ),
            );
        }
    }
    let match_label_keys = t.match_label_keys.clone().unwrap_or_default();
    let mismatch_label_keys = t.mismatch_label_keys.clone().unwrap_or_default();
    for (name, keys) in [
        ("matchLabelKeys", &match_label_keys),
        ("mismatchLabelKeys", &mismatch_label_keys),
    ] {
        if !keys.is_empty() && t.label_selector.is_none() {
            return err(
                format!("{field}.{name}"),
                "must not be specified when labelSelector is not set",
            );
        }
        for (i, k) in keys.iter().enumerate() {
            validate_label_key(k).map_err(|e| ConvertError {
                field: format!("{field}.{name}[{i}]"),
                message: e.to_string(),
            })?;
        }
    }
    if let Some(sel) = &t.label_selector {
        let in_selector = |k: &str| {
            sel.match_labels.as_ref().is_some_and(|m| m.contains_key(k))
                || sel
                    .match_expressions
                    .as_ref()
                    .is_some_and(|es| es.iter().any(|e| e.key == k))
        };
        for (i, k) in match_label_keys.iter().enumerate() {
            if in_selector(k) {
                return err(
                    format!("{field}.matchLabelKeys[{i}]"),
                    format!("{k:?} exists in both matchLabelKeys and labelSelector"),
                );
            }
        }
    }
    for (i, k) in match_label_keys.iter().enumerate() {
        if mismatch_label_keys.contains(k) {
            return err(
                format!("{field}.matchLabelKeys[{i}]"),
                format!("{k:?} exists in both matchLabelKeys and mismatchLabelKeys"),
            );
        }
    }
    if t.topology_key.is_empty() {
        return err(format!("{field}.topologyKey"), "can not be empty");
    }
    validate_label_key(&t.topology_key).map_err(|e| ConvertError {
        field: format!("{field}.topologyKey"),
        message: e.to_string(),
    })?;
    Ok(PodAffinityTerm {
        label_selector: selector,
        namespaces,
        namespace_selector,
        topology_key: t.topology_key.clone(),
        match_label_keys,
        mismatch_label_keys,
    })
}

/// Parses a `preemptionPolicy` value (pkg/apis/core/validation validatePreemptionPolicy).
fn preemption_policy(field: &str, v: &str) -> R<PreemptionPolicy> {
    match v {
        "PreemptLowerPriority" => Ok(PreemptionPolicy::PreemptLowerPriority),
        "Never" => Ok(PreemptionPolicy::Never),
        other => err(
            field,
            format!(
                "Unsupported value: {other:?}: supported values: \"Never\", \"PreemptLowerPriority\""
            ),
        ),
    }
}

/// Converts a scheduling.k8s.io/v1 PriorityClass (pkg/apis/scheduling/v1 defaults:
/// `preemptionPolicy` PreemptLowerPriority; pkg/apis/scheduling/validation: the `system-`
/// prefix is reserved; the priority admission's value limit is checked here too so the
/// error points at the field).
pub fn priority_class(o: scheduling::PriorityClass) -> R<Object> {
    let meta = convert_meta(o.metadata, false, false)?;
    if meta.name.starts_with("system-") {
        return err(
            "metadata.name",
            "priority class names with 'system-' prefix are reserved for system use only",
        );
    }
    if o.value > super::store::HIGHEST_USER_DEFINABLE_PRIORITY {
        return err(
            "value",
            format!(
                "maximum allowed value of a user defined priority is {}",
                super::store::HIGHEST_USER_DEFINABLE_PRIORITY
            ),
        );
    }
    let preemption_policy = o
        .preemption_policy
        .as_deref()
        .map(|v| preemption_policy("preemptionPolicy", v))
        .transpose()?
        .unwrap_or_default();
    Ok(Object::PriorityClass(Box::new(PriorityClass {
        meta,
        value: o.value,
        global_default: o.global_default.unwrap_or(false),
        preemption_policy,
        description: o.description.unwrap_or_default(),
    })))
}

/// Converts `topologySpreadConstraints` with the API defaults and validation
/// (pkg/apis/core/validation: validateTopologySpreadConstraints, the parts that matter).
fn spread_constraints(
    field: &str,
    cs: Option<Vec<core::TopologySpreadConstraint>>,
) -> R<Vec<TopologySpreadConstraint>> {
    let mut out = Vec::new();
    for (i, c) in cs.unwrap_or_default().into_iter().enumerate() {
        let f = format!("{field}[{i}]");
        if c.max_skew < 1 {
            return err(
                format!("{f}.maxSkew"),
                format!("must be greater than zero, got {}", c.max_skew),
            );
        }
        if c.topology_key.is_empty() {
            return err(format!("{f}.topologyKey"), "can not be empty");
        }
        let do_not_schedule = match c.when_unsatisfiable.as_str() {
            "DoNotSchedule" => true,
            "ScheduleAnyway" => false,
            other => {
                return err(
                    format!("{f}.whenUnsatisfiable"),
                    format!("unsupported value {other:?} (DoNotSchedule, ScheduleAnyway)"),
                );
            }
        };
        let min_domains = c.min_domains.unwrap_or(1);
        if min_domains < 1 {
            return err(
                format!("{f}.minDomains"),
                format!("must be greater than zero, got {min_domains}"),
            );
        }
        let policy = |name: &str, v: Option<String>, default_honor: bool| -> R<bool> {
            match v.as_deref() {
                None | Some("") => Ok(default_honor),
                Some("Honor") => Ok(true),
                Some("Ignore") => Ok(false),
                Some(other) => err(
                    format!("{f}.{name}"),
                    format!("unsupported value {other:?} (Honor, Ignore)"),
                ),
            }
        };
        let label_selector = match &c.label_selector {
            Some(s) => Some(label_selector(&format!("{f}.labelSelector"), s)?),
            None => None,
        };
        out.push(TopologySpreadConstraint {
            max_skew: c.max_skew,
            topology_key: c.topology_key.clone(),
            do_not_schedule,
            label_selector,
            match_label_keys: c.match_label_keys.clone().unwrap_or_default(),
            min_domains,
            node_affinity_policy_honor: policy("nodeAffinityPolicy", c.node_affinity_policy, true)?,
            node_taints_policy_honor: policy("nodeTaintsPolicy", c.node_taints_policy, false)?,
        });
    }
    Ok(out)
}

fn template(field: &str, t: Option<core::PodTemplateSpec>) -> R<PodTemplate> {
    let Some(t) = t else {
        return err(field, "template is required");
    };
    let m = t.metadata.unwrap_or_default();
    let Some(spec) = t.spec else {
        return err(format!("{field}.spec"), "template spec is required");
    };
    Ok(PodTemplate {
        labels: m.labels.unwrap_or_default(),
        annotations: m.annotations.unwrap_or_default(),
        spec: pod_spec(&format!("{field}.spec"), spec, true)?,
    })
}

/// Converts and validates a `metav1.LabelSelector` at a field path.
pub(crate) fn label_selector_of(field: &str, s: &meta::LabelSelector) -> R<LabelSelector> {
    label_selector(field, s)
}

fn label_selector(field: &str, s: &meta::LabelSelector) -> R<LabelSelector> {
    let exprs: Vec<(String, String, Vec<String>)> = s
        .match_expressions
        .clone()
        .unwrap_or_default()
        .into_iter()
        .map(|e| (e.key, e.operator, e.values.unwrap_or_default()))
        .collect();
    LabelSelector::from_parts(&s.match_labels.clone().unwrap_or_default(), &exprs).map_err(|e| {
        ConvertError {
            field: field.into(),
            message: e.to_string(),
        }
    })
}

fn replicas(field: &str, r: Option<i32>) -> R<i32> {
    match r {
        Some(n) if n < 0 => err(
            field,
            format!("must be greater than or equal to 0, got {n}"),
        ),
        Some(n) => Ok(n),
        None => Ok(1),
    }
}

fn check_selector_matches(selector: &LabelSelector, labels: &Labels) -> R<()> {
    if selector.is_empty() {
        return err(
            "spec.selector",
            "empty selector is invalid for a controller",
        );
    }
    if !selector.matches(labels) {
        return err(
            "spec.template.metadata.labels",
            format!("`selector` does not match template `labels` (selector {selector})"),
        );
    }
    Ok(())
}

/// Converts a Namespace.
pub fn namespace(o: core::Namespace) -> R<Object> {
    Ok(Object::Namespace(Namespace {
        meta: convert_meta(o.metadata, false, false)?,
    }))
}

/// Converts a Node (capacity and allocatable from status; allocatable defaults to capacity).
pub fn node(o: core::Node) -> R<Object> {
    let mut meta = convert_meta(o.metadata, false, false)?;
    meta.labels
        .entry("kubernetes.io/hostname".into())
        .or_insert_with(|| meta.name.clone());
    let spec = o.spec.unwrap_or_default();
    let status = o.status.unwrap_or_default();
    let capacity = resource_list("status.capacity", status.capacity.clone())?;
    let allocatable = if status.allocatable.is_some() {
        resource_list("status.allocatable", status.allocatable)?
    } else {
        capacity.clone()
    };
    let mut taints = Vec::new();
    for (i, t) in spec.taints.unwrap_or_default().into_iter().enumerate() {
        taints.push(Taint {
            effect: taint_effect(&format!("spec.taints[{i}].effect"), &t.effect)?,
            key: t.key,
            value: t.value.unwrap_or_default(),
        });
    }
    let ready = status
        .conditions
        .unwrap_or_default()
        .into_iter()
        .find(|c| c.type_ == "Ready")
        .map(|c| match c.status.as_str() {
            "False" => ConditionStatus::False,
            "Unknown" => ConditionStatus::Unknown,
            _ => ConditionStatus::True,
        })
        .unwrap_or(ConditionStatus::True);
    let images = status
        .images
        .unwrap_or_default()
        .into_iter()
        .map(|i| NodeImage {
            names: i.names.unwrap_or_default(),
            size_bytes: i.size_bytes.unwrap_or(0),
        })
        .collect();
    Ok(Object::Node(Box::new(Node {
        meta,
        unschedulable: spec.unschedulable.unwrap_or(false),
        taints,
        capacity,
        allocatable,
        ready,
        ready_transition: crate::engine::SimTime::ZERO,
        images,
    })))
}

/// Converts a Pod (a bare pod, or one from a cluster dump with its node binding).
pub fn pod(o: core::Pod) -> R<Object> {
    let meta = convert_meta(o.metadata, true, true)?;
    let Some(spec) = o.spec else {
        return err("spec", "pod spec is required");
    };
    let spec = pod_spec("spec", spec, false)?;
    let mut pod = Pod::new(meta, spec);
    if let Some(status) = o.status {
        running_status(&mut pod, status);
    }
    Ok(Object::Pod(Box::new(pod)))
}

/// A bound pod whose dumped status says it is Running starts the simulation running:
/// phase Running since time zero, Ready as its `Ready` condition says, containers
/// running with their restart counts (the kubelet adopts it without starting it
/// again). Any other status is ignored: the pod starts from scratch.
fn running_status(pod: &mut Pod, status: core::PodStatus) {
    use crate::engine::SimTime;
    if pod.spec.node_name.is_empty() || status.phase.as_deref() != Some("Running") {
        return;
    }
    let conditions = status.conditions.unwrap_or_default();
    let ready = conditions
        .iter()
        .any(|c| c.type_ == "Ready" && c.status == "True");
    let restarts: BTreeMap<String, i32> = status
        .container_statuses
        .unwrap_or_default()
        .into_iter()
        .map(|c| (c.name, c.restart_count.max(0)))
        .collect();
    let s = &mut pod.status;
    s.phase = PodPhase::Running;
    s.scheduled_at = Some(SimTime::ZERO);
    s.start_time = Some(SimTime::ZERO);
    s.ready = ready;
    s.ready_transition = Some(SimTime::ZERO);
    s.containers = pod
        .spec
        .containers
        .iter()
        .map(|c| ContainerStatus {
            name: c.name.clone(),
            ready,
            restart_count: restarts.get(&c.name).copied().unwrap_or(0),
            state: ContainerState::Running(SimTime::ZERO),
            reason: String::new(),
        })
        .collect();
}

/// Converts a ReplicationController (selector defaults to the template's labels).
pub fn replication_controller(o: core::ReplicationController) -> R<Object> {
    let meta = convert_meta(o.metadata, true, false)?;
    let Some(spec) = o.spec else {
        return err("spec", "spec is required");
    };
    let tpl = template("spec.template", spec.template)?;
    let sel_map = spec
        .selector
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| tpl.labels.clone());
    let selector = LabelSelector::from_map(&sel_map).map_err(|e| ConvertError {
        field: "spec.selector".into(),
        message: e.to_string(),
    })?;
    check_selector_matches(&selector, &tpl.labels)?;
    Ok(Object::ReplicaSet(Box::new(ReplicaSet {
        meta,
        kind: Kind::ReplicationController,
        replicas: replicas("spec.replicas", spec.replicas)?,
        selector,
        min_ready_seconds: spec.min_ready_seconds.unwrap_or(0),
        template: tpl,
        status: ReplicaSetStatus::default(),
    })))
}

/// Converts a ReplicaSet.
pub fn replica_set(o: apps::ReplicaSet) -> R<Object> {
    let meta = convert_meta(o.metadata, true, false)?;
    let Some(spec) = o.spec else {
        return err("spec", "spec is required");
    };
    let tpl = template("spec.template", spec.template)?;
    let selector = label_selector("spec.selector", &spec.selector)?;
    check_selector_matches(&selector, &tpl.labels)?;
    Ok(Object::ReplicaSet(Box::new(ReplicaSet {
        meta,
        kind: Kind::ReplicaSet,
        replicas: replicas("spec.replicas", spec.replicas)?,
        selector,
        min_ready_seconds: spec.min_ready_seconds.unwrap_or(0),
        template: tpl,
        status: ReplicaSetStatus::default(),
    })))
}

/// Converts a Deployment, applying apps/v1 defaults (RollingUpdate 25%/25%,
/// revisionHistoryLimit 10, progressDeadlineSeconds 600).
pub fn deployment(o: apps::Deployment) -> R<Object> {
    let meta = convert_meta(o.metadata, true, false)?;
    let Some(spec) = o.spec else {
        return err("spec", "spec is required");
    };
    let tpl = template("spec.template", Some(spec.template))?;
    let selector = label_selector("spec.selector", &spec.selector)?;
    check_selector_matches(&selector, &tpl.labels)?;
    let strategy_spec = spec.strategy.unwrap_or_default();
    let strategy = match strategy_spec.type_.as_deref() {
        None | Some("") | Some("RollingUpdate") => {
            let ru = strategy_spec.rolling_update.unwrap_or_default();
            let max_surge = match &ru.max_surge {
                Some(v) => int_or_percent("spec.strategy.rollingUpdate.maxSurge", v)?,
                None => DEFAULT_ROLLING_PERCENT.into(),
            };
            let max_unavailable = match &ru.max_unavailable {
                Some(v) => int_or_percent("spec.strategy.rollingUpdate.maxUnavailable", v)?,
                None => DEFAULT_ROLLING_PERCENT.into(),
            };
            let zero = |s: &str| s == "0" || s == "0%";
            if zero(&max_surge) && zero(&max_unavailable) {
                return err(
                    "spec.strategy.rollingUpdate.maxUnavailable",
                    "may not be 0 when `maxSurge` is 0",
                );
            }
            DeploymentStrategy::RollingUpdate {
                max_surge,
                max_unavailable,
            }
        }
        Some("Recreate") => {
            if strategy_spec.rolling_update.is_some() {
                return err(
                    "spec.strategy.rollingUpdate",
                    "may not be specified when strategy `type` is 'Recreate'",
                );
            }
            DeploymentStrategy::Recreate
        }
        Some(other) => {
            return err(
                "spec.strategy.type",
                format!("unsupported value {other:?} (Recreate, RollingUpdate)"),
            );
        }
    };
    let min_ready_seconds = spec.min_ready_seconds.unwrap_or(0);
    let progress_deadline_seconds = spec
        .progress_deadline_seconds
        .unwrap_or(DEFAULT_PROGRESS_DEADLINE_SECONDS);
    if progress_deadline_seconds <= min_ready_seconds {
        return err(
            "spec.progressDeadlineSeconds",
            "must be greater than minReadySeconds",
        );
    }
    Ok(Object::Deployment(Box::new(Deployment {
        meta,
        replicas: replicas("spec.replicas", spec.replicas)?,
        selector,
        template: tpl,
        strategy,
        min_ready_seconds,
        revision_history_limit: spec
            .revision_history_limit
            .unwrap_or(DEFAULT_REVISION_HISTORY_LIMIT),
        progress_deadline_seconds,
        paused: spec.paused.unwrap_or(false),
        status: DeploymentStatus::default(),
    })))
}

/// Converts a Service.
pub fn service(o: core::Service) -> R<Object> {
    let meta = convert_meta(o.metadata, true, false)?;
    let spec = o.spec.unwrap_or_default();
    let ports = spec
        .ports
        .unwrap_or_default()
        .into_iter()
        .map(|p| ServicePort {
            port: p.port,
            target_port: p
                .target_port
                .as_ref()
                .map(int_or_string_text)
                .unwrap_or_else(|| p.port.to_string()),
            protocol: p.protocol.unwrap_or_else(|| "TCP".into()),
        })
        .collect();
    Ok(Object::Service(Box::new(Service {
        meta,
        selector: spec.selector.unwrap_or_default(),
        service_type: spec.type_.unwrap_or_else(|| "ClusterIP".into()),
        ports,
    })))
}

/// Converts an autoscaling/v2 HorizontalPodAutoscaler (defaults and validation in
/// [`super::hpa`]).
pub fn hpa(o: autoscaling::HorizontalPodAutoscaler) -> R<Object> {
    let meta = convert_meta(o.metadata, true, false)?;
    let Some(spec) = o.spec else {
        return err("spec", "spec is required");
    };
    Ok(Object::HorizontalPodAutoscaler(Box::new(
        HorizontalPodAutoscaler {
            meta,
            spec: super::hpa::convert_spec(&spec)?,
            status: super::hpa::HpaStatus::default(),
            stats: super::hpa::HpaStats::default(),
        },
    )))
}

/// Converts a policy/v1 PodDisruptionBudget.
pub fn pdb(o: policy::PodDisruptionBudget) -> R<Object> {
    let meta = convert_meta(o.metadata, true, false)?;
    let spec = o.spec.unwrap_or_default();
    if spec.min_available.is_some() && spec.max_unavailable.is_some() {
        return err(
            "spec.maxUnavailable",
            "minAvailable and maxUnavailable cannot be both set",
        );
    }
    let min_available = spec
        .min_available
        .as_ref()
        .map(|v| int_or_percent("spec.minAvailable", v))
        .transpose()?;
    let max_unavailable = spec
        .max_unavailable
        .as_ref()
        .map(|v| int_or_percent("spec.maxUnavailable", v))
        .transpose()?;
    let selector = match &spec.selector {
        Some(s) => label_selector("spec.selector", s)?,
        None => LabelSelector::nothing(),
    };
    Ok(Object::PodDisruptionBudget(Box::new(PodDisruptionBudget {
        meta,
        min_available,
        max_unavailable,
        selector,
        unhealthy_pod_eviction_policy: spec.unhealthy_pod_eviction_policy,
        status: PdbStatusFields::default(),
    })))
}
