//! Conformance adapter for the `scheduler.*` functions of the shared conformance suite
//! (`conformance/README.md` section 4.1): decodes each case's JSON `input`, calls the scheduler
//! hot-path functions and encodes the result in the `expected` shape.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::api::affinity::{NodeAffinity, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm};
use crate::api::quantity::Quantity;
use crate::api::selector::{LabelSelector, Labels, Operator};
use crate::api::taint::{Taint, TaintEffect, Toleration, TolerationOperator};
use crate::controllers::scheduler::feasible::num_feasible_nodes_to_find;
use crate::controllers::scheduler::normalize::{
    FunctionShapePoint, broken_linear_function, default_normalize_score,
};
use crate::controllers::scheduler::plugins::balanced_allocation::{
    balanced_resource_score, pre_score_skip,
};
use crate::controllers::scheduler::plugins::image_locality::{
    build_image_states, image_locality_score, normalized_image_name,
};
use crate::controllers::scheduler::plugins::noderesources::{
    RESOURCE_CPU, ResourceScorer, ResourceWeight, ScoringStrategy, allocatable_and_requested,
    pod_request,
};
use crate::controllers::scheduler::plugins::pod_topology_spread::{
    ExistingPod, NodeEligibility, NodeInclusionPolicy, PreFilterState, SpreadConstraint,
};
use crate::controllers::scheduler::plugins::taint_toleration::{
    count_intolerable_taints_prefer_no_schedule, filter_code, normalize_scores,
    prefer_no_schedule_tolerations,
};

/// Why a case input could not be evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    /// A required field is missing or has the wrong JSON type.
    #[error("field {field}: expected {expected}")]
    Field {
        /// Dotted path of the field.
        field: String,
        /// What was expected there.
        expected: &'static str,
    },
    /// A value could not be parsed.
    #[error("field {field}: invalid value {value:?}: {reason}")]
    Invalid {
        /// Dotted path of the field.
        field: String,
        /// The offending value.
        value: String,
        /// Why it is invalid.
        reason: String,
    },
}

type R<T> = Result<T, EvalError>;

/// Evaluates one `scheduler.*` conformance function on `input`. Returns `None` for a function
/// name this adapter does not know, else the output object or an error message.
pub fn eval(function: &str, input: &Value) -> Option<Result<Value, String>> {
    let r = match function {
        "scheduler.score.noderesources" => score_noderesources(input),
        "scheduler.score.balanced_allocation" => score_balanced_allocation(input),
        "scheduler.broken_linear_function" => eval_broken_linear_function(input),
        "scheduler.normalize_score" => eval_normalize_score(input),
        "scheduler.num_feasible_nodes_to_find" => eval_num_feasible(input),
        "scheduler.score.image_locality" => score_image_locality(input),
        "scheduler.filter.taint_toleration" => filter_taint_toleration(input),
        "scheduler.score.taint_toleration" => score_taint_toleration(input),
        "scheduler.filter.pod_topology_spread" => filter_pod_topology_spread(input),
        _ => return None,
    };
    Some(r.map_err(|e| e.to_string()))
}

// ---------------------------------------------------------------------------------------------
// JSON helpers

fn field<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    v.get(key).filter(|x| !x.is_null())
}

fn req<'a>(v: &'a Value, key: &str) -> R<&'a Value> {
    field(v, key).ok_or_else(|| EvalError::Field {
        field: key.to_string(),
        expected: "a value",
    })
}

fn int(v: &Value, key: &str) -> R<i64> {
    req(v, key)?.as_i64().ok_or_else(|| EvalError::Field {
        field: key.to_string(),
        expected: "an integer",
    })
}

fn boolean(v: &Value, key: &str) -> R<bool> {
    req(v, key)?.as_bool().ok_or_else(|| EvalError::Field {
        field: key.to_string(),
        expected: "a boolean",
    })
}

fn string<'a>(v: &'a Value, key: &str) -> R<&'a str> {
    req(v, key)?.as_str().ok_or_else(|| EvalError::Field {
        field: key.to_string(),
        expected: "a string",
    })
}

fn opt_str<'a>(v: &'a Value, key: &str) -> R<Option<&'a str>> {
    match field(v, key) {
        None => Ok(None),
        Some(x) => x.as_str().map(Some).ok_or_else(|| EvalError::Field {
            field: key.to_string(),
            expected: "a string",
        }),
    }
}

/// A list field; absent / null is an empty list.
fn list<'a>(v: &'a Value, key: &str) -> R<&'a [Value]> {
    match field(v, key) {
        None => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(_) => Err(EvalError::Field {
            field: key.to_string(),
            expected: "a list",
        }),
    }
}

/// A string map field; absent / null is an empty map.
fn string_map(v: &Value, key: &str) -> R<Labels> {
    match field(v, key) {
        None => Ok(Labels::new()),
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, x)| {
                x.as_str()
                    .map(|s| (k.clone(), s.to_string()))
                    .ok_or_else(|| EvalError::Field {
                        field: format!("{key}.{k}"),
                        expected: "a string",
                    })
            })
            .collect(),
        Some(_) => Err(EvalError::Field {
            field: key.to_string(),
            expected: "a map",
        }),
    }
}

fn int_list(v: &Value, key: &str) -> R<Vec<i64>> {
    list(v, key)?
        .iter()
        .map(|x| {
            x.as_i64().ok_or_else(|| EvalError::Field {
                field: key.to_string(),
                expected: "a list of integers",
            })
        })
        .collect()
}

fn quantity(field_name: &str, x: &Value) -> R<Quantity> {
    let text = match x {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => {
            return Err(EvalError::Field {
                field: field_name.to_string(),
                expected: "a quantity string",
            });
        }
    };
    Quantity::parse(text.trim()).map_err(|e| EvalError::Invalid {
        field: field_name.to_string(),
        value: text.clone(),
        reason: e.to_string(),
    })
}

/// A `{resource: quantity}` map.
fn resource_list(v: &Value, key: &str) -> R<BTreeMap<String, Quantity>> {
    match field(v, key) {
        None => Ok(BTreeMap::new()),
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, x)| Ok((k.clone(), quantity(&format!("{key}.{k}"), x)?)))
            .collect(),
        Some(_) => Err(EvalError::Field {
            field: key.to_string(),
            expected: "a resource map",
        }),
    }
}

/// Scheduler integer of a quantity: millicores for cpu, base units (rounded up) otherwise.
fn scheduler_int(resource: &str, q: &Quantity) -> i64 {
    if resource == RESOURCE_CPU {
        q.milli_value()
    } else {
        q.value()
    }
}

fn containers_requests(pod: &Value) -> R<Vec<BTreeMap<String, Quantity>>> {
    list(pod, "containers")?
        .iter()
        .map(|c| resource_list(c, "requests"))
        .collect()
}

fn resource_weights(input: &Value) -> R<Vec<ResourceWeight>> {
    list(input, "resources")?
        .iter()
        .map(|r| Ok(ResourceWeight::new(string(r, "name")?, int(r, "weight")?)))
        .collect()
}

fn shape_points(input: &Value) -> R<Vec<(i64, i64)>> {
    list(input, "shape")?
        .iter()
        .map(|p| Ok((int(p, "utilization")?, int(p, "score")?)))
        .collect()
}

/// Per-resource (allocatable, requested) vectors for every node of a resource-scoring case.
struct ResourceCase {
    names: Vec<String>,
    /// Per node: (allocatable, requested) per configured resource.
    per_node: Vec<(Vec<i64>, Vec<i64>)>,
    pod_requests: Vec<i64>,
}

fn resource_case(input: &Value, resources: &[ResourceWeight], non_zero: bool) -> R<ResourceCase> {
    let pod = req(input, "pod")?;
    let pod_containers = containers_requests(pod)?;
    let no_init: [(&BTreeMap<String, Quantity>, bool); 0] = [];
    let pod_requests: Vec<i64> = resources
        .iter()
        .map(|r| pod_request(&r.name, pod_containers.iter(), no_init, non_zero))
        .collect();

    // Existing pods grouped by node: per node, per resource, summed request.
    let mut node_requested: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for p in list(input, "existingPods")? {
        let node = string(p, "nodeName")?;
        let cs = containers_requests(p)?;
        let entry = node_requested
            .entry(node.to_string())
            .or_insert_with(|| vec![0; resources.len()]);
        for (slot, r) in entry.iter_mut().zip(resources) {
            *slot += pod_request(&r.name, cs.iter(), no_init, non_zero);
        }
    }

    let mut names = Vec::new();
    let mut per_node = Vec::new();
    for n in list(input, "nodes")? {
        let name = string(n, "name")?;
        let alloc = resource_list(n, "allocatable")?;
        let existing = node_requested.get(name);
        let mut a = Vec::with_capacity(resources.len());
        let mut q = Vec::with_capacity(resources.len());
        for (i, r) in resources.iter().enumerate() {
            let node_alloc = alloc.get(&r.name).map(|x| scheduler_int(&r.name, x));
            let node_req = existing.and_then(|e| e.get(i)).copied().unwrap_or(0);
            let (al, rq) =
                allocatable_and_requested(&r.name, pod_requests[i], node_alloc, node_req);
            a.push(al);
            q.push(rq);
        }
        names.push(name.to_string());
        per_node.push((a, q));
    }
    Ok(ResourceCase {
        names,
        per_node,
        pod_requests,
    })
}

// ---------------------------------------------------------------------------------------------
// Functions

fn score_noderesources(input: &Value) -> R<Value> {
    let resources = resource_weights(input)?;
    let strategy = match string(input, "strategy")? {
        "LeastAllocated" => ScoringStrategy::LeastAllocated,
        "MostAllocated" => ScoringStrategy::MostAllocated,
        "RequestedToCapacityRatio" => ScoringStrategy::RequestedToCapacityRatio {
            shape: shape_points(input)?,
        },
        other => {
            return Err(EvalError::Invalid {
                field: "strategy".into(),
                value: other.into(),
                reason: "unknown scoring strategy".into(),
            });
        }
    };
    let case = resource_case(input, &resources, true)?;
    let scorer = ResourceScorer::new(strategy, resources);
    let mut scores = Map::new();
    for (name, (alloc, requested)) in case.names.iter().zip(&case.per_node) {
        scores.insert(name.clone(), json!(scorer.score(requested, alloc)));
    }
    Ok(json!({ "scores": scores }))
}

fn score_balanced_allocation(input: &Value) -> R<Value> {
    let resources = resource_weights(input)?;
    let case = resource_case(input, &resources, false)?;
    if pre_score_skip(&case.pod_requests) {
        return Ok(json!({ "preScoreSkip": true, "scores": null }));
    }
    let mut scores = Map::new();
    for (name, (alloc, requested)) in case.names.iter().zip(&case.per_node) {
        scores.insert(
            name.clone(),
            json!(balanced_resource_score(requested, alloc)),
        );
    }
    Ok(json!({ "preScoreSkip": false, "scores": scores }))
}

fn eval_broken_linear_function(input: &Value) -> R<Value> {
    let shape: Vec<FunctionShapePoint> = shape_points(input)?
        .into_iter()
        .map(|(utilization, score)| FunctionShapePoint { utilization, score })
        .collect();
    let scores: Vec<i64> = int_list(input, "utilizations")?
        .into_iter()
        .map(|p| broken_linear_function(&shape, p))
        .collect();
    Ok(json!({ "scores": scores }))
}

fn eval_normalize_score(input: &Value) -> R<Value> {
    let max = int(input, "maxPriority")?;
    let reverse = boolean(input, "reverse")?;
    let mut scores = int_list(input, "scores")?;
    default_normalize_score(max, reverse, &mut scores);
    Ok(json!({ "scores": scores }))
}

fn eval_num_feasible(input: &Value) -> R<Value> {
    let n = int(input, "numAllNodes")?;
    let pct = field(input, "percentageOfNodesToScore")
        .map(|_| int(input, "percentageOfNodesToScore"))
        .transpose()?
        .unwrap_or(0);
    Ok(json!({ "numNodes": num_feasible_nodes_to_find(pct, n) }))
}

/// A node's images as `(names, sizeBytes)` pairs.
type NodeImages<'a> = Vec<(Vec<&'a str>, i64)>;

fn score_image_locality(input: &Value) -> R<Value> {
    let pod = req(input, "pod")?;
    let mut images: Vec<String> = Vec::new();
    for c in list(pod, "initContainers")?
        .iter()
        .chain(list(pod, "containers")?)
    {
        images.push(normalized_image_name(string(c, "image")?).into_owned());
    }
    let nodes = list(input, "nodes")?;
    let mut parsed: Vec<(String, NodeImages<'_>)> = Vec::with_capacity(nodes.len());
    for n in nodes {
        let name = string(n, "name")?.to_string();
        let mut imgs = Vec::new();
        for img in list(n, "images")? {
            let names = list(img, "names")?
                .iter()
                .map(|x| {
                    x.as_str().ok_or_else(|| EvalError::Field {
                        field: "images.names".into(),
                        expected: "a list of strings",
                    })
                })
                .collect::<R<Vec<&str>>>()?;
            imgs.push((names, int(img, "sizeBytes")?));
        }
        parsed.push((name, imgs));
    }
    let states = build_image_states(parsed.iter().map(|(_, imgs)| imgs.iter().cloned()));
    let total = parsed.len() as i64;
    let mut scores = Map::new();
    for ((name, _), st) in parsed.iter().zip(&states) {
        scores.insert(
            name.clone(),
            json!(image_locality_score(&images, st, total)),
        );
    }
    Ok(json!({ "scores": scores }))
}

fn comparison_gate(input: &Value) -> R<bool> {
    match field(input, "featureGates") {
        None => Ok(false),
        Some(g) => match field(g, "TaintTolerationComparisonOperators") {
            None => Ok(false),
            Some(_) => boolean(g, "TaintTolerationComparisonOperators"),
        },
    }
}

fn effect(field_name: &str, s: &str) -> R<TaintEffect> {
    s.parse()
        .map_err(|e: crate::api::taint::TaintError| EvalError::Invalid {
            field: field_name.into(),
            value: s.into(),
            reason: e.to_string(),
        })
}

fn tolerations(v: &Value, key: &str) -> R<Vec<Toleration>> {
    list(v, key)?
        .iter()
        .map(|t| {
            let op_text = opt_str(t, "operator")?.unwrap_or("");
            let operator: TolerationOperator =
                op_text
                    .parse()
                    .map_err(|e: crate::api::taint::TaintError| EvalError::Invalid {
                        field: "tolerations.operator".into(),
                        value: op_text.into(),
                        reason: e.to_string(),
                    })?;
            let effect = match opt_str(t, "effect")? {
                None | Some("") => None,
                Some(e) => Some(effect("tolerations.effect", e)?),
            };
            Ok(Toleration {
                key: opt_str(t, "key")?.unwrap_or("").to_string(),
                operator,
                value: opt_str(t, "value")?.unwrap_or("").to_string(),
                effect,
                toleration_seconds: field(t, "tolerationSeconds").and_then(Value::as_i64),
            })
        })
        .collect()
}

fn taints(v: &Value, key: &str) -> R<Vec<Taint>> {
    list(v, key)?
        .iter()
        .map(|t| {
            Ok(Taint {
                key: opt_str(t, "key")?.unwrap_or("").to_string(),
                value: opt_str(t, "value")?.unwrap_or("").to_string(),
                effect: effect("taints.effect", string(t, "effect")?)?,
            })
        })
        .collect()
}

fn filter_taint_toleration(input: &Value) -> R<Value> {
    let gate = comparison_gate(input)?;
    let tols = tolerations(input, "tolerations")?;
    let taints = taints(input, "taints")?;
    Ok(json!({ "status": filter_code(&taints, &tols, gate).as_str() }))
}

fn score_taint_toleration(input: &Value) -> R<Value> {
    let gate = comparison_gate(input)?;
    let tols = tolerations(input, "tolerations")?;
    let prefer = prefer_no_schedule_tolerations(&tols);
    let mut names = Vec::new();
    let mut raw = Vec::new();
    for n in list(input, "nodes")? {
        names.push(string(n, "name")?.to_string());
        raw.push(count_intolerable_taints_prefer_no_schedule(
            &taints(n, "taints")?,
            &prefer,
            gate,
        ));
    }
    normalize_scores(&mut raw);
    let scores: Map<String, Value> = names
        .into_iter()
        .zip(raw)
        .map(|(n, s)| (n, json!(s)))
        .collect();
    Ok(json!({ "scores": scores }))
}

fn label_selector(v: Option<&Value>, ctx: &str) -> R<LabelSelector> {
    let Some(sel) = v.filter(|x| !x.is_null()) else {
        return Ok(LabelSelector::nothing());
    };
    let match_labels = string_map(sel, "matchLabels")?;
    let mut exprs = Vec::new();
    for e in list(sel, "matchExpressions")? {
        let values = list(e, "values")?
            .iter()
            .map(|x| {
                x.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| EvalError::Field {
                        field: format!("{ctx}.matchExpressions.values"),
                        expected: "a list of strings",
                    })
            })
            .collect::<R<Vec<String>>>()?;
        exprs.push((
            string(e, "key")?.to_string(),
            string(e, "operator")?.to_string(),
            values,
        ));
    }
    LabelSelector::from_parts(&match_labels, &exprs).map_err(|e| EvalError::Invalid {
        field: ctx.into(),
        value: sel.to_string(),
        reason: e.to_string(),
    })
}

fn node_selector_requirements(v: &Value, key: &str) -> R<Vec<NodeSelectorRequirement>> {
    list(v, key)?
        .iter()
        .map(|r| {
            let op_text = string(r, "operator")?;
            let operator = Operator::from_api_name(op_text).ok_or_else(|| EvalError::Invalid {
                field: format!("{key}.operator"),
                value: op_text.into(),
                reason: "unknown node selector operator".into(),
            })?;
            let values = list(r, "values")?
                .iter()
                .map(|x| x.as_str().unwrap_or_default().to_string())
                .collect();
            Ok(NodeSelectorRequirement {
                key: string(r, "key")?.to_string(),
                operator,
                values,
            })
        })
        .collect()
}

fn node_affinity(pod: &Value) -> R<Option<NodeAffinity>> {
    let Some(na) = field(pod, "affinity").and_then(|a| field(a, "nodeAffinity")) else {
        return Ok(None);
    };
    let required = match field(na, "requiredDuringSchedulingIgnoredDuringExecution") {
        None => None,
        Some(sel) => {
            let mut terms = Vec::new();
            for t in list(sel, "nodeSelectorTerms")? {
                terms.push(NodeSelectorTerm {
                    match_expressions: node_selector_requirements(t, "matchExpressions")?,
                    match_fields: node_selector_requirements(t, "matchFields")?,
                });
            }
            Some(NodeSelector { terms })
        }
    };
    Ok(Some(NodeAffinity {
        required,
        preferred: Vec::new(),
    }))
}

fn inclusion_policy(v: &Value, key: &str, default: NodeInclusionPolicy) -> R<NodeInclusionPolicy> {
    match opt_str(v, key)? {
        None => Ok(default),
        Some("Honor") => Ok(NodeInclusionPolicy::Honor),
        Some("Ignore") => Ok(NodeInclusionPolicy::Ignore),
        Some(other) => Err(EvalError::Invalid {
            field: key.into(),
            value: other.into(),
            reason: "expected Honor or Ignore".into(),
        }),
    }
}

fn filter_pod_topology_spread(input: &Value) -> R<Value> {
    let pod = req(input, "pod")?;
    let namespace = opt_str(pod, "namespace")?.unwrap_or("default");
    let pod_labels = string_map(pod, "labels")?;
    let node_selector = string_map(pod, "nodeSelector")?;
    let affinity = node_affinity(pod)?;

    let mut constraints = Vec::new();
    for c in list(pod, "topologySpreadConstraints")? {
        if string(c, "whenUnsatisfiable")? != "DoNotSchedule" {
            continue;
        }
        let mut sc = SpreadConstraint::new(
            int(c, "maxSkew")?,
            string(c, "topologyKey")?,
            label_selector(c.get("labelSelector"), "labelSelector")?,
        );
        if field(c, "minDomains").is_some() {
            sc.min_domains = int(c, "minDomains")?;
        }
        sc.node_affinity_policy =
            inclusion_policy(c, "nodeAffinityPolicy", NodeInclusionPolicy::Honor)?;
        sc.node_taints_policy =
            inclusion_policy(c, "nodeTaintsPolicy", NodeInclusionPolicy::Ignore)?;
        constraints.push(sc);
    }

    // Existing pods grouped by node name.
    struct PodRec {
        namespace: String,
        labels: Labels,
        terminating: bool,
    }
    let mut by_node: BTreeMap<String, Vec<PodRec>> = BTreeMap::new();
    for p in list(input, "existingPods")? {
        let node = string(p, "nodeName")?;
        by_node.entry(node.to_string()).or_default().push(PodRec {
            namespace: opt_str(p, "namespace")?.unwrap_or("default").to_string(),
            labels: string_map(p, "labels")?,
            terminating: field(p, "deletionTimestamp").is_some(),
        });
    }

    let mut nodes = Vec::new();
    for n in list(input, "nodes")? {
        nodes.push((string(n, "name")?.to_string(), string_map(n, "labels")?));
    }

    let mut state = PreFilterState::new(constraints);
    let empty: Vec<PodRec> = Vec::new();
    for (name, labels) in &nodes {
        let eligibility = NodeEligibility {
            matches_node_affinity: crate::api::affinity::required_node_affinity_matches(
                &node_selector,
                affinity.as_ref(),
                labels,
                name,
            ),
            // The suite's nodes carry no taints (nodeTaintsPolicy defaults to Ignore anyway).
            taints_tolerated: true,
        };
        let pods = by_node
            .get(name)
            .unwrap_or(&empty)
            .iter()
            .map(|p| ExistingPod {
                namespace: &p.namespace,
                labels: &p.labels,
                terminating: p.terminating,
            });
        state.add_node(labels, eligibility, namespace, pods);
    }
    state.finish();

    let mut out = Map::new();
    for (name, labels) in &nodes {
        out.insert(
            name.clone(),
            json!(state.filter_code(&pod_labels, labels).as_str()),
        );
    }
    Ok(json!({ "filterStatus": out }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_function_is_none() {
        assert!(eval("scheduler.nope", &json!({})).is_none());
        assert!(eval("replicaset.slow_start_batch", &json!({})).is_none());
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        let r = eval("scheduler.normalize_score", &json!({"maxPriority": "x"}));
        assert!(matches!(r, Some(Err(_))));
        let r = eval(
            "scheduler.score.noderesources",
            &json!({"strategy": "LeastAllocated", "resources": [{"name": "cpu", "weight": 1}],
                    "pod": {"containers": [{"requests": {"cpu": "abc"}}]}, "nodes": []}),
        );
        assert!(matches!(r, Some(Err(_))));
    }

    #[test]
    fn rtcr_and_balanced_skip_through_adapter() {
        // Upstream RTCR 'nothing scheduled, resources requested, differently sized nodes'.
        let input = json!({
            "strategy": "RequestedToCapacityRatio",
            "resources": [{"name": "cpu", "weight": 1}, {"name": "memory", "weight": 1}],
            "shape": [{"utilization": 0, "score": 10}, {"utilization": 100, "score": 0}],
            "pod": {"containers": [{"requests": {"cpu": "1000", "memory": "2000"}},
                                    {"requests": {"cpu": "2000", "memory": "3000"}}]},
            "nodes": [{"name": "node1", "allocatable": {"cpu": "4000", "memory": "10000"}},
                      {"name": "node2", "allocatable": {"cpu": "6000", "memory": "10000"}}],
            "existingPods": []
        });
        let got = eval("scheduler.score.noderesources", &input)
            .expect("known")
            .expect("ok");
        assert_eq!(got, json!({"scores": {"node1": 38, "node2": 50}}));
        // Balanced: pod without requests is skipped at PreScore.
        let input = json!({
            "resources": [{"name": "cpu", "weight": 1}, {"name": "memory", "weight": 1}],
            "pod": {"containers": [{"requests": {}}]},
            "nodes": [{"name": "n", "allocatable": {"cpu": "1", "memory": "1Gi"}}],
            "existingPods": []
        });
        let got = eval("scheduler.score.balanced_allocation", &input)
            .expect("known")
            .expect("ok");
        assert_eq!(got, json!({"preScoreSkip": true, "scores": null}));
    }

    #[test]
    fn topology_spread_honours_node_affinity() {
        // Derived from upstream TestSingleConstraint 'pod is required to be placed on zone1,
        // so only node-a/node-b are eligible': zone2 is not a domain, min over zone1 only.
        let input = json!({
            "pod": {
                "namespace": "default", "labels": {"foo": ""}, "nodeSelector": {},
                "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution":
                    {"nodeSelectorTerms": [{"matchExpressions":
                        [{"key": "zone", "operator": "In", "values": ["zone1"]}]}]}}},
                "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "node",
                    "whenUnsatisfiable": "DoNotSchedule",
                    "labelSelector": {"matchExpressions": [{"key": "foo", "operator": "Exists"}]}}]
            },
            "nodes": [
                {"name": "node-a", "labels": {"zone": "zone1", "node": "node-a"}},
                {"name": "node-b", "labels": {"zone": "zone1", "node": "node-b"}},
                {"name": "node-x", "labels": {"zone": "zone2", "node": "node-x"}}
            ],
            "existingPods": [
                {"name": "p-a", "namespace": "default", "nodeName": "node-a", "labels": {"foo": ""}, "deletionTimestamp": null},
                {"name": "p-b", "namespace": "default", "nodeName": "node-b", "labels": {"foo": ""}, "deletionTimestamp": null}
            ]
        });
        let got = eval("scheduler.filter.pod_topology_spread", &input)
            .expect("known")
            .expect("ok");
        // min over node-a/node-b = 1: node-a 1+1-1 = 1 ok; node-x is not eligible (count 0):
        // 0+1-1 = 0 ok (the filter itself does not reject affinity mismatches).
        assert_eq!(
            got,
            json!({"filterStatus": {"node-a": "Success", "node-b": "Success", "node-x": "Success"}})
        );
    }
}
