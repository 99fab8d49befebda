//! Importing a `kubectl get nodes,pods,deployments,replicasets,hpa,pdb,services -A -o yaml`
//! dump. The dump is read twice: once through the ordinary manifest loader
//! ([`crate::api::manifest::load_str`]), which types, defaults and validates every
//! modelled item and fails with the item's path and line (`items[7].spec.replicas`);
//! once as plain YAML values, which are cleaned (managedFields, uid, resourceVersion,
//! timestamps and controller status dropped; a Running pod's phase, Ready condition
//! and restart counts kept) and written back in creation order.
//!
//! Rules (see `docs/import.md`):
//! - kinds kubetwin does not model (Endpoints, Events, ConfigMaps, custom resources,
//!   ...) are skipped with a warning naming the item;
//! - a pod bound to a node that is not in the dump is an error at its `spec.nodeName`;
//! - Succeeded and Failed pods are dropped (they hold no resources);
//! - owner references to kinds kubetwin does not model (DaemonSet, StatefulSet, Job,
//!   Node) are removed: the pod stays bound as a standalone pod, with a warning;
//! - an HPA whose target is not a Deployment, ReplicaSet or ReplicationController of the
//!   dump is dropped with a warning;
//! - a `priorityClassName` not in the dump gets a PriorityClass synthesized from the
//!   pods' resolved `spec.priority`, with a warning;
//! - spec fields kubetwin does not simulate (volumes, security contexts, ...) are kept
//!   in the manifests and reported once per field.

use super::{Twin, TwinWarning};
use crate::api::Kind;
use crate::api::location;
use crate::api::manifest::{self, Loaded};
use crate::api::objects::Object;
use crate::error::{Error, InputError};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// Pod spec fields the simulation reads; others are reported as ignored.
const MODELLED_POD_SPEC: &[&str] = &[
    "containers",
    "initContainers",
    "nodeName",
    "nodeSelector",
    "affinity",
    "tolerations",
    "priority",
    "priorityClassName",
    "restartPolicy",
    "terminationGracePeriodSeconds",
    "schedulerName",
    "dnsPolicy",
    "hostNetwork",
    "topologySpreadConstraints",
    "preemptionPolicy",
];

/// The annotation `kubectl apply` leaves (a copy of the whole object): dropped.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Creation order of the kinds in the manifests.
fn rank(kind: Kind) -> u8 {
    match kind {
        Kind::Namespace => 0,
        Kind::Node => 1,
        Kind::PriorityClass => 2,
        Kind::Deployment => 3,
        Kind::ReplicaSet | Kind::ReplicationController => 4,
        Kind::Pod => 5,
        Kind::Service => 6,
        Kind::PodDisruptionBudget => 7,
        Kind::HorizontalPodAutoscaler => 8,
    }
}

/// Reads a dump (`file` names it in messages) into a twin.
pub fn import(text: &str, file: &str) -> Result<Twin, Error> {
    let raw = read_raw(text, file)?;
    let loaded = manifest::load_str(text, file, 1)?;
    manifest::check_duplicates(&loaded.objects)?;
    let lines = location::list_item_lines(text);
    let items = raw
        .get("items")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let line_of = |i: usize| {
        if lines.len() == items.len() {
            lines[i]
        } else {
            location::locate(text, &format!("items[{i}]")).map_or(1, |(l, _)| l)
        }
    };
    let by_item: BTreeMap<usize, &Loaded> = loaded
        .objects
        .iter()
        .filter_map(|l| l.source.item.map(|i| (i, l)))
        .collect();
    let nodes: BTreeSet<&str> = loaded
        .objects
        .iter()
        .filter(|l| l.object.kind() == Kind::Node)
        .map(|l| l.object.meta().name.as_str())
        .collect();
    let defined: BTreeSet<(Kind, &str, &str)> = loaded
        .objects
        .iter()
        .map(|l| {
            let m = l.object.meta();
            (l.object.kind(), m.namespace.as_str(), m.name.as_str())
        })
        .collect();
    let mut twin = Twin {
        source: file.to_string(),
        ..Twin::default()
    };
    let warn = |twin: &mut Twin, i: usize, message: String| {
        twin.warnings.push(TwinWarning {
            file: file.to_string(),
            line: line_of(i),
            message,
        })
    };
    // (rank, item index, object) so the output is in creation order.
    let mut out: Vec<(u8, usize, Value)> = Vec::new();
    // Ignored pod spec fields: field -> (count, first item, its name).
    let mut ignored: BTreeMap<String, (usize, usize, String)> = BTreeMap::new();
    // Priority classes named but not defined: name -> (highest pod priority, first item).
    let mut classes: BTreeMap<String, (i32, usize)> = BTreeMap::new();
    for (i, item) in items.iter().enumerate() {
        let api_version = item.get("apiVersion").and_then(Value::as_str).unwrap_or("");
        let kind_name = item.get("kind").and_then(Value::as_str).unwrap_or("");
        let ns = item
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or("");
        let name = item
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        let who = if ns.is_empty() {
            format!("items[{i}] {api_version}/{kind_name} {name}")
        } else {
            format!("items[{i}] {api_version}/{kind_name} {ns}/{name}")
        };
        let Some(l) = by_item.get(&i) else {
            warn(
                &mut twin,
                i,
                format!("{who}: kind not modelled by kubetwin, skipped"),
            );
            continue;
        };
        let kind = l.object.kind();
        let mut obj = Map::new();
        obj.insert("apiVersion".into(), Value::from(api_version));
        obj.insert("kind".into(), Value::from(kind_name));
        let mut meta = clean_meta(item.get("metadata"), kind == Kind::Node);
        match &l.object {
            Object::Pod(p) => {
                let phase = item
                    .pointer("/status/phase")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                if matches!(phase, "Succeeded" | "Failed") {
                    warn(
                        &mut twin,
                        i,
                        format!("{who}: pod is {phase}, dropped (it holds no resources)"),
                    );
                    continue;
                }
                if !p.spec.node_name.is_empty() && !nodes.contains(p.spec.node_name.as_str()) {
                    return Err(l
                        .source
                        .error(
                            "spec.nodeName",
                            format!(
                                "pod is bound to node {:?}, which is not in the dump (dump the nodes too: kubectl get nodes,pods,... -A -o yaml)",
                                p.spec.node_name
                            ),
                        )
                        .into());
                }
                owners(&mut meta, &who, ns, &defined, &mut |m| {
                    warn(&mut twin, i, m)
                });
                if let Some(spec) = item.get("spec").and_then(Value::as_object) {
                    for k in spec.keys() {
                        if !MODELLED_POD_SPEC.contains(&k.as_str()) {
                            let e = ignored.entry(format!("spec.{k}")).or_insert((
                                0,
                                i,
                                format!("{ns}/{name}"),
                            ));
                            e.0 += 1;
                        }
                    }
                }
                note_class(&p.spec, Some(p.spec.priority), i, &defined, &mut classes);
                obj.insert("metadata".into(), Value::Object(meta));
                obj.insert("spec".into(), item.get("spec").cloned().unwrap_or_default());
                if let Some(status) = pod_status(item, p) {
                    obj.insert("status".into(), status);
                }
            }
            Object::Node(_) => {
                obj.insert("metadata".into(), Value::Object(meta));
                node_parts(item, &mut obj);
            }
            Object::HorizontalPodAutoscaler(h) => {
                let t = &h.spec.target;
                let target_kind = match t.kind.as_str() {
                    "Deployment" => Some(Kind::Deployment),
                    "ReplicaSet" => Some(Kind::ReplicaSet),
                    "ReplicationController" => Some(Kind::ReplicationController),
                    _ => None,
                };
                let found = target_kind
                    .is_some_and(|k| defined.contains(&(k, h.meta.namespace.as_str(), &t.name)));
                if !found {
                    warn(
                        &mut twin,
                        i,
                        format!(
                            "{who}: scale target {}/{} is not a Deployment, ReplicaSet or ReplicationController of the dump, HPA dropped",
                            t.kind, t.name
                        ),
                    );
                    continue;
                }
                obj.insert("metadata".into(), Value::Object(meta));
                obj.insert("spec".into(), item.get("spec").cloned().unwrap_or_default());
            }
            o => {
                if matches!(o, Object::ReplicaSet(_)) {
                    owners(&mut meta, &who, ns, &defined, &mut |m| {
                        warn(&mut twin, i, m)
                    });
                }
                match o {
                    Object::ReplicaSet(r) => {
                        note_class(&r.template.spec, None, i, &defined, &mut classes)
                    }
                    Object::Deployment(d) => {
                        note_class(&d.template.spec, None, i, &defined, &mut classes)
                    }
                    _ => {}
                }
                obj.insert("metadata".into(), Value::Object(meta));
                if let Some(spec) = item.get("spec") {
                    obj.insert("spec".into(), spec.clone());
                }
                if let Object::PriorityClass(_) = o {
                    for k in ["value", "globalDefault", "preemptionPolicy", "description"] {
                        if let Some(v) = item.get(k) {
                            obj.insert(k.into(), v.clone());
                        }
                    }
                }
            }
        }
        out.push((rank(kind), i, Value::Object(obj)));
    }
    for (field, (count, first, name)) in &ignored {
        warn(
            &mut twin,
            *first,
            format!(
                "{field} is not simulated: kept in the manifests, ignored on {count} pod(s) (first items[{first}] {name})"
            ),
        );
    }
    for (class, (value, first)) in &classes {
        warn(
            &mut twin,
            *first,
            format!(
                "PriorityClass {class:?} is not in the dump: synthesized with value {value} from the pods' spec.priority (add priorityclasses to the kubectl command to import it)"
            ),
        );
        let mut pc = Map::new();
        pc.insert("apiVersion".into(), Value::from("scheduling.k8s.io/v1"));
        pc.insert("kind".into(), Value::from("PriorityClass"));
        pc.insert("metadata".into(), serde_json::json!({ "name": class }));
        pc.insert("value".into(), Value::from(*value));
        out.push((rank(Kind::PriorityClass), *first, Value::Object(pc)));
    }
    out.sort_by_key(|(r, i, _)| (*r, *i));
    twin.objects = out.into_iter().map(|(_, _, v)| v).collect();
    twin.warnings.sort_by_key(|w| w.line);
    Ok(twin)
}

/// The dump as plain values; it must be one `kind: List` document.
fn read_raw(text: &str, file: &str) -> Result<Value, Error> {
    let value: Value = serde_saphyr::from_str_with_options(text, manifest::yaml_options(text))
        .map_err(|e| {
            let (line, column, msg) = manifest::yaml_error_parts(&e);
            InputError::at(
                file,
                line,
                column,
                "",
                format!("malformed YAML: {msg} (a truncated dump?)"),
            )
            .with_source(text)
        })?;
    let kind = value.get("kind").and_then(Value::as_str).unwrap_or("");
    let is_list = kind == "List"
        || (kind.ends_with("List")
            && value.get("apiVersion").and_then(Value::as_str) == Some("v1"));
    if !is_list || !value.get("items").is_none_or(Value::is_array) {
        let (line, column) = location::locate(text, "kind").unwrap_or((1, 1));
        return Err(InputError::at(
            file,
            line,
            column,
            "kind",
            format!(
                "not a cluster dump: expected one `kind: List` document as `kubectl get nodes,pods,deployments,replicasets,hpa,pdb,services -A -o yaml` prints, got kind {kind:?}"
            ),
        )
        .with_source(text)
        .into());
    }
    Ok(value)
}

/// `metadata` without the server's bookkeeping: name, namespace, labels, annotations
/// (without `last-applied-configuration`; none on nodes) and owner references.
fn clean_meta(meta: Option<&Value>, node: bool) -> Map<String, Value> {
    let mut out = Map::new();
    let Some(m) = meta.and_then(Value::as_object) else {
        return out;
    };
    for k in ["name", "namespace", "labels"] {
        if let Some(v) = m.get(k) {
            out.insert(k.into(), v.clone());
        }
    }
    if !node && let Some(Value::Object(a)) = m.get("annotations") {
        let kept: Map<String, Value> = a
            .iter()
            .filter(|(k, _)| k.as_str() != LAST_APPLIED)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if !kept.is_empty() {
            out.insert("annotations".into(), Value::Object(kept));
        }
    }
    if let Some(Value::Array(refs)) = m.get("ownerReferences") {
        let kept: Vec<Value> = refs
            .iter()
            .filter_map(Value::as_object)
            .map(|r| {
                let mut o = Map::new();
                for k in ["apiVersion", "kind", "name", "uid", "controller"] {
                    if let Some(v) = r.get(k) {
                        o.insert(k.into(), v.clone());
                    }
                }
                Value::Object(o)
            })
            .collect();
        out.insert("ownerReferences".into(), Value::Array(kept));
    }
    out
}

/// Keeps the owner references kubetwin models whose owner is in the dump; warns about
/// the others (removed: the object becomes standalone or an orphan).
fn owners(
    meta: &mut Map<String, Value>,
    who: &str,
    ns: &str,
    defined: &BTreeSet<(Kind, &str, &str)>,
    warn: &mut dyn FnMut(String),
) {
    let Some(Value::Array(refs)) = meta.get_mut("ownerReferences") else {
        return;
    };
    refs.retain(|r| {
        let av = r.get("apiVersion").and_then(Value::as_str).unwrap_or("");
        let k = r.get("kind").and_then(Value::as_str).unwrap_or("");
        let n = r.get("name").and_then(Value::as_str).unwrap_or("");
        let kind = match (av, k) {
            ("apps/v1", "ReplicaSet") => Kind::ReplicaSet,
            ("apps/v1", "Deployment") => Kind::Deployment,
            ("v1", "ReplicationController") => Kind::ReplicationController,
            _ => {
                warn(format!(
                    "{who}: owned by {k}/{n}, which kubetwin does not model: kept as a standalone pod bound where it runs (not recreated if evicted; drain its node with force: true)"
                ));
                return false;
            }
        };
        if defined.contains(&(kind, ns, n)) {
            true
        } else {
            warn(format!(
                "{who}: owner {k}/{n} is not in the dump: imported as an orphan (a controller whose selector matches adopts it)"
            ));
            false
        }
    });
    if refs.is_empty() {
        meta.remove("ownerReferences");
    }
}

/// Records a `priorityClassName` that is neither built in nor in the dump.
fn note_class(
    spec: &crate::api::objects::PodSpec,
    priority: Option<i32>,
    item: usize,
    defined: &BTreeSet<(Kind, &str, &str)>,
    classes: &mut BTreeMap<String, (i32, usize)>,
) {
    let name = &spec.priority_class_name;
    if name.is_empty()
        || crate::api::store::system_priority_class(name).is_some()
        || defined.contains(&(Kind::PriorityClass, "", name.as_str()))
    {
        return;
    }
    let value = priority
        .unwrap_or(0)
        .min(crate::api::store::HIGHEST_USER_DEFINABLE_PRIORITY);
    let e = classes.entry(name.clone()).or_insert((value, item));
    e.0 = e.0.max(value);
}

/// A bound Running pod's status as the loader reads it (phase, Ready condition,
/// container names, readiness and restart counts); `None` otherwise (the pod starts
/// from scratch).
fn pod_status(item: &Value, p: &crate::api::Pod) -> Option<Value> {
    if p.status.phase != crate::api::PodPhase::Running {
        return None;
    }
    let s = item.get("status")?;
    let conditions: Vec<Value> = s
        .get("conditions")
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .filter(|c| c.get("type").and_then(Value::as_str) == Some("Ready"))
                .map(|c| {
                    serde_json::json!({
                        "type": "Ready",
                        "status": c.get("status").cloned().unwrap_or(Value::from("Unknown")),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let containers: Vec<Value> = s
        .get("containerStatuses")
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .map(|c| {
                    serde_json::json!({
                        "name": c.get("name").cloned().unwrap_or_default(),
                        "image": c.get("image").cloned().unwrap_or(Value::from("")),
                        "imageID": c.get("imageID").cloned().unwrap_or(Value::from("")),
                        "ready": c.get("ready").cloned().unwrap_or(Value::from(false)),
                        "restartCount": c.get("restartCount").cloned().unwrap_or(Value::from(0)),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let mut out = Map::new();
    out.insert("phase".into(), Value::from("Running"));
    if !conditions.is_empty() {
        out.insert("conditions".into(), Value::Array(conditions));
    }
    if !containers.is_empty() {
        out.insert("containerStatuses".into(), Value::Array(containers));
    }
    Some(Value::Object(out))
}

/// A node's spec (taints, unschedulable) and status (capacity, allocatable, the Ready
/// condition, images).
fn node_parts(item: &Value, obj: &mut Map<String, Value>) {
    let mut spec = Map::new();
    for k in ["taints", "unschedulable"] {
        if let Some(v) = item.get("spec").and_then(|s| s.get(k)) {
            spec.insert(k.into(), v.clone());
        }
    }
    if !spec.is_empty() {
        obj.insert("spec".into(), Value::Object(spec));
    }
    let mut status = Map::new();
    if let Some(s) = item.get("status") {
        for k in ["capacity", "allocatable"] {
            if let Some(v) = s.get(k) {
                status.insert(k.into(), v.clone());
            }
        }
        if let Some(Value::Array(cs)) = s.get("conditions") {
            let ready: Vec<Value> = cs
                .iter()
                .filter(|c| c.get("type").and_then(Value::as_str) == Some("Ready"))
                .map(|c| {
                    serde_json::json!({
                        "type": "Ready",
                        "status": c.get("status").cloned().unwrap_or(Value::from("Unknown")),
                    })
                })
                .collect();
            if !ready.is_empty() {
                status.insert("conditions".into(), Value::Array(ready));
            }
        }
        if let Some(Value::Array(images)) = s.get("images") {
            let kept: Vec<Value> = images
                .iter()
                .map(|im| {
                    let mut o = Map::new();
                    for k in ["names", "sizeBytes"] {
                        if let Some(v) = im.get(k) {
                            o.insert(k.into(), v.clone());
                        }
                    }
                    Value::Object(o)
                })
                .collect();
            status.insert("images".into(), Value::Array(kept));
        }
    }
    if !status.is_empty() {
        obj.insert("status".into(), Value::Object(status));
    }
}
