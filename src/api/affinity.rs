//! Node affinity: node selector terms, required/preferred node affinity matching and scoring.
//!
//! Port of `staging/src/k8s.io/component-helpers/scheduling/corev1/nodeaffinity/nodeaffinity.go`
//! (`LazyErrorNodeSelector.Match`, `nodeSelectorTerm.match`, `nodeSelectorRequirementsAsSelector`,
//! `nodeSelectorRequirementsAsFieldSelector`, `PreferredSchedulingTerms.Score`,
//! `GetRequiredNodeAffinity(..).Match`).
//!
//! Matching follows the upstream runtime exactly: terms are ORed; requirements within a term are
//! ANDed; a term with no requirements matches nothing; a term with an unparsable requirement
//! matches nothing; `matchFields` are only checked when the node has a name. The constructors
//! ([`NodeSelectorRequirement::new`], [`NodeSelectorRequirement::new_field`]) additionally apply
//! API validation (e.g. `matchFields` keys must be `metadata.name`).
//!
//! Also the pod (anti-)affinity API types ([`PodAffinity`], [`PodAffinityTerm`]); the
//! scheduling rules over them live in the scheduler's InterPodAffinity plugin.

use serde::Serialize;

use crate::api::selector::{
    LabelSelector, Labels, Operator, Requirement, SelectorError, map_matches,
};

/// The only field a `matchFields` requirement may use.
pub const NODE_NAME_FIELD: &str = "metadata.name";

/// One `key <op> values` condition on node labels or fields.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NodeSelectorRequirement {
    /// Label key (or `metadata.name` for `matchFields`).
    pub key: String,
    /// One of In, NotIn, Exists, DoesNotExist, Gt, Lt (In/NotIn only for `matchFields`).
    pub operator: Operator,
    /// Values (see the operator for the allowed count).
    pub values: Vec<String>,
}

fn check_node_operator(op: Operator) -> Result<(), SelectorError> {
    match op {
        Operator::In
        | Operator::NotIn
        | Operator::Exists
        | Operator::DoesNotExist
        | Operator::Gt
        | Operator::Lt => Ok(()),
        _ => Err(SelectorError::UnknownOperator {
            operator: op.api_name().to_string(),
            context: "node selector",
            expected: "In, NotIn, Exists, DoesNotExist, Gt, Lt",
        }),
    }
}

impl NodeSelectorRequirement {
    /// A validated `matchExpressions` requirement: operator one of In, NotIn, Exists,
    /// DoesNotExist, Gt, Lt, with keys/values/counts checked as by `labels.NewRequirement`.
    pub fn new(
        key: impl Into<String>,
        operator: Operator,
        values: Vec<String>,
    ) -> Result<Self, SelectorError> {
        let r = NodeSelectorRequirement {
            key: key.into(),
            operator,
            values,
        };
        r.as_label_requirement()?;
        Ok(r)
    }

    /// A validated `matchFields` requirement: key `metadata.name`, operator In or NotIn, exactly
    /// one value (API validation, `ValidateNodeFieldSelectorRequirement`).
    pub fn new_field(
        key: impl Into<String>,
        operator: Operator,
        values: Vec<String>,
    ) -> Result<Self, SelectorError> {
        let r = NodeSelectorRequirement {
            key: key.into(),
            operator,
            values,
        };
        if r.key != NODE_NAME_FIELD {
            return Err(SelectorError::InvalidField {
                reason: format!(
                    "key {:?} is not supported (only {NODE_NAME_FIELD:?})",
                    r.key
                ),
            });
        }
        r.field_value()?;
        Ok(r)
    }

    /// Converts a `matchExpressions` entry to a label requirement (upstream
    /// `nodeSelectorRequirementsAsSelector`, one element).
    pub fn as_label_requirement(&self) -> Result<Requirement, SelectorError> {
        check_node_operator(self.operator)?;
        Requirement::new(self.key.clone(), self.operator, self.values.clone())
    }

    /// Checks a `matchFields` entry as upstream `nodeSelectorRequirementsAsFieldSelector`
    /// does (In/NotIn with exactly one value) and returns that value.
    fn field_value(&self) -> Result<&str, SelectorError> {
        match self.operator {
            Operator::In | Operator::NotIn => match self.values.as_slice() {
                [v] => Ok(v),
                vs => Err(SelectorError::InvalidField {
                    reason: format!(
                        "operator {} on {:?} must have exactly one value, got {}",
                        self.operator,
                        self.key,
                        vs.len()
                    ),
                }),
            },
            op => Err(SelectorError::InvalidField {
                reason: format!(
                    "operator {op} is not supported on {:?} (expected one of In, NotIn)",
                    self.key
                ),
            }),
        }
    }
}

/// A node selector term: all its requirements must match.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct NodeSelectorTerm {
    /// Requirements on node labels.
    pub match_expressions: Vec<NodeSelectorRequirement>,
    /// Requirements on node fields (only `metadata.name`).
    pub match_fields: Vec<NodeSelectorRequirement>,
}

impl NodeSelectorTerm {
    /// True when the term has no requirements at all (such a term matches nothing).
    pub fn is_empty(&self) -> bool {
        self.match_expressions.is_empty() && self.match_fields.is_empty()
    }

    /// Checks every requirement as the upstream runtime parser does (first error returned).
    pub fn validate(&self) -> Result<(), SelectorError> {
        self.parse().map(|_| ())
    }

    /// Parses the term: label requirements and (field key, value, is-In) triples.
    #[allow(clippy::type_complexity)]
    fn parse(&self) -> Result<(Vec<Requirement>, Vec<(&str, &str, bool)>), SelectorError> {
        let labels = self
            .match_expressions
            .iter()
            .map(NodeSelectorRequirement::as_label_requirement)
            .collect::<Result<Vec<_>, _>>()?;
        let fields = self
            .match_fields
            .iter()
            .map(|r| {
                r.field_value()
                    .map(|v| (r.key.as_str(), v, r.operator == Operator::In))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok((labels, fields))
    }

    /// Whether the node matches this term (port of `nodeSelectorTerm.match`). Empty or invalid
    /// terms match nothing; `matchFields` are ignored when `node_name` is empty, as upstream.
    pub fn matches(&self, node_labels: &Labels, node_name: &str) -> bool {
        if self.is_empty() {
            return false;
        }
        let Ok((label_reqs, field_reqs)) = self.parse() else {
            return false;
        };
        if !label_reqs.iter().all(|r| r.matches(node_labels)) {
            return false;
        }
        if !field_reqs.is_empty() && !node_name.is_empty() {
            // The node's field set holds only metadata.name; other keys read as "".
            let all = field_reqs.iter().all(|&(key, value, is_in)| {
                let have = if key == NODE_NAME_FIELD {
                    node_name
                } else {
                    ""
                };
                (have == value) == is_in
            });
            if !all {
                return false;
            }
        }
        true
    }
}

/// A node selector: the OR of its terms.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct NodeSelector {
    /// The terms (`nodeSelectorTerms`).
    pub terms: Vec<NodeSelectorTerm>,
}

impl NodeSelector {
    /// Whether any term matches (port of `LazyErrorNodeSelector.Match`); no terms = no match.
    pub fn matches(&self, node_labels: &Labels, node_name: &str) -> bool {
        self.terms.iter().any(|t| t.matches(node_labels, node_name))
    }

    /// Checks every non-empty term (upstream `NewNodeSelector` parse errors; first returned).
    pub fn validate(&self) -> Result<(), SelectorError> {
        self.terms
            .iter()
            .filter(|t| !t.is_empty())
            .try_for_each(NodeSelectorTerm::validate)
    }
}

/// A weighted preference for nodes matching a term.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PreferredSchedulingTerm {
    /// Weight in 1..=100 (0 means the term is ignored).
    pub weight: i32,
    /// The term.
    pub preference: NodeSelectorTerm,
}

/// A pod's node affinity.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct NodeAffinity {
    /// `requiredDuringSchedulingIgnoredDuringExecution`.
    pub required: Option<NodeSelector>,
    /// `preferredDuringSchedulingIgnoredDuringExecution`.
    pub preferred: Vec<PreferredSchedulingTerm>,
}

impl NodeAffinity {
    /// Checks the required selector and every scored preferred term (weight ≠ 0, non-empty), as
    /// upstream `NewNodeSelector`/`NewPreferredSchedulingTerms` would.
    pub fn validate(&self) -> Result<(), SelectorError> {
        if let Some(req) = &self.required {
            req.validate()?;
        }
        self.preferred
            .iter()
            .filter(|p| p.weight != 0 && !p.preference.is_empty())
            .try_for_each(|p| p.preference.validate())
    }
}

/// Whether a node satisfies a pod's `nodeSelector` map AND its required node affinity (port of
/// `GetRequiredNodeAffinity(pod).Match(node)`). No affinity / no required selector = no constraint.
pub fn required_node_affinity_matches(
    node_selector: &Labels,
    affinity: Option<&NodeAffinity>,
    node_labels: &Labels,
    node_name: &str,
) -> bool {
    if !node_selector.is_empty() && !map_matches(node_selector, node_labels) {
        return false;
    }
    match affinity.and_then(|a| a.required.as_ref()) {
        Some(sel) => sel.matches(node_labels, node_name),
        None => true,
    }
}

/// Sum of the weights of the preferred terms that match the node (port of
/// `PreferredSchedulingTerms.Score`). Terms with weight 0 or no requirements are skipped.
///
/// Deviation: upstream fails the whole PreScore when any preferred term is invalid; here invalid
/// terms simply never match (use [`NodeAffinity::validate`] to detect them).
pub fn preferred_score(
    affinity: Option<&NodeAffinity>,
    node_labels: &Labels,
    node_name: &str,
) -> i64 {
    let Some(a) = affinity else {
        return 0;
    };
    a.preferred
        .iter()
        .filter(|p| p.weight != 0 && p.preference.matches(node_labels, node_name))
        .map(|p| i64::from(p.weight))
        .sum()
}

/// One pod (anti-)affinity term (`v1.PodAffinityTerm`), as written in the manifest:
/// `matchLabelKeys`/`mismatchLabelKeys` are kept beside the selector and merged with the
/// pod's labels by [`PodAffinityTerm::effective_selector`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PodAffinityTerm {
    /// `labelSelector` (`None` when absent: matches no pod).
    pub label_selector: Option<LabelSelector>,
    /// `namespaces`.
    pub namespaces: Vec<String>,
    /// `namespaceSelector` (`None` when absent; `{}` selects every namespace).
    pub namespace_selector: Option<LabelSelector>,
    /// `topologyKey`.
    pub topology_key: String,
    /// `matchLabelKeys`.
    pub match_label_keys: Vec<String>,
    /// `mismatchLabelKeys`.
    pub mismatch_label_keys: Vec<String>,
}

impl PodAffinityTerm {
    /// The selector with `matchLabelKeys` merged as `key in (value)` and `mismatchLabelKeys` as
    /// `key notin (value)` for the keys `pod_labels` carry; "nothing" when no selector is set.
    /// Port of pkg/registry/core/pod/strategy.go applyMatchLabelKeysAndMismatchLabelKeys (which
    /// the API server runs when the pod is created).
    pub fn effective_selector(&self, pod_labels: &Labels) -> LabelSelector {
        let Some(sel) = &self.label_selector else {
            return LabelSelector::nothing();
        };
        let mut sel = sel.clone();
        let keyed = [
            (&self.match_label_keys, Operator::In),
            (&self.mismatch_label_keys, Operator::NotIn),
        ];
        for (keys, op) in keyed {
            for key in keys {
                if let Some(v) = pod_labels.get(key)
                    && let Ok(r) = Requirement::new(key.clone(), op, vec![v.clone()])
                {
                    sel.add(r);
                }
            }
        }
        sel
    }
}

/// A weighted preferred pod (anti-)affinity term (`v1.WeightedPodAffinityTerm`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WeightedPodAffinityTerm {
    /// `weight` in 1..=100.
    pub weight: i32,
    /// `podAffinityTerm`.
    pub term: PodAffinityTerm,
}

/// A pod's `podAffinity` or `podAntiAffinity` (both have the same shape).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PodAffinity {
    /// `requiredDuringSchedulingIgnoredDuringExecution`.
    pub required: Vec<PodAffinityTerm>,
    /// `preferredDuringSchedulingIgnoredDuringExecution`.
    pub preferred: Vec<WeightedPodAffinityTerm>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn req(k: &str, op: Operator, vals: &[&str]) -> NodeSelectorRequirement {
        NodeSelectorRequirement {
            key: k.into(),
            operator: op,
            values: vals.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn term(exprs: Vec<NodeSelectorRequirement>) -> NodeSelectorTerm {
        NodeSelectorTerm {
            match_expressions: exprs,
            match_fields: vec![],
        }
    }

    #[test]
    fn terms_or_and() {
        let node = labels(&[("zone", "a"), ("gpu", "true"), ("cores", "16")]);
        let sel = NodeSelector {
            terms: vec![
                term(vec![
                    req("zone", Operator::In, &["b"]),
                    req("gpu", Operator::Exists, &[]),
                ]),
                term(vec![
                    req("zone", Operator::In, &["a", "c"]),
                    req("cores", Operator::Gt, &["8"]),
                ]),
            ],
        };
        assert!(sel.matches(&node, "n1"));
        let sel2 = NodeSelector {
            terms: vec![term(vec![
                req("zone", Operator::In, &["a"]),
                req("cores", Operator::Lt, &["8"]),
            ])],
        };
        assert!(!sel2.matches(&node, "n1"));
        assert!(!NodeSelector::default().matches(&node, "n1"));
        assert!(
            !NodeSelector {
                terms: vec![NodeSelectorTerm::default()]
            }
            .matches(&node, "n1")
        );
        let not = NodeSelector {
            terms: vec![term(vec![
                req("zone", Operator::NotIn, &["b"]),
                req("ssd", Operator::DoesNotExist, &[]),
            ])],
        };
        assert!(not.matches(&node, "n1"));
    }

    #[test]
    fn invalid_terms_match_nothing() {
        let node = labels(&[("zone", "a")]);
        let bad = term(vec![req("zone", Operator::In, &[])]);
        let good = term(vec![req("zone", Operator::Exists, &[])]);
        assert!(
            !NodeSelector {
                terms: vec![bad.clone()]
            }
            .matches(&node, "n")
        );
        assert!(
            NodeSelector {
                terms: vec![bad.clone(), good]
            }
            .matches(&node, "n")
        );
        let eq = term(vec![req("zone", Operator::Equals, &["a"])]);
        assert!(!eq.matches(&node, "n"));
        assert!(eq.validate().is_err());
        assert!(bad.validate().is_err());
        let gt_bad = term(vec![req("zone", Operator::Gt, &["x"])]);
        assert!(!gt_bad.matches(&node, "n"));
    }

    #[test]
    fn match_fields() {
        let node = labels(&[("zone", "a")]);
        let by_name = NodeSelectorTerm {
            match_expressions: vec![],
            match_fields: vec![req(NODE_NAME_FIELD, Operator::In, &["n1"])],
        };
        assert!(by_name.matches(&node, "n1"));
        assert!(!by_name.matches(&node, "n2"));
        // Upstream ignores matchFields when the node has no name.
        assert!(by_name.matches(&node, ""));
        let not_name = NodeSelectorTerm {
            match_expressions: vec![req("zone", Operator::In, &["a"])],
            match_fields: vec![req(NODE_NAME_FIELD, Operator::NotIn, &["n1"])],
        };
        assert!(!not_name.matches(&node, "n1"));
        assert!(not_name.matches(&node, "n2"));
        let two_vals = NodeSelectorTerm {
            match_expressions: vec![],
            match_fields: vec![req(NODE_NAME_FIELD, Operator::In, &["n1", "n2"])],
        };
        assert!(!two_vals.matches(&node, "n1"));
        let exists = NodeSelectorTerm {
            match_expressions: vec![],
            match_fields: vec![req(NODE_NAME_FIELD, Operator::Exists, &[])],
        };
        assert!(!exists.matches(&node, "n1"));
        assert!(
            NodeSelectorRequirement::new_field("metadata.name", Operator::In, vec!["n".into()])
                .is_ok()
        );
        assert!(
            NodeSelectorRequirement::new_field("metadata.uid", Operator::In, vec!["n".into()])
                .is_err()
        );
        assert!(
            NodeSelectorRequirement::new_field("metadata.name", Operator::Exists, vec![]).is_err()
        );
    }

    #[test]
    fn constructor_validation() {
        assert!(NodeSelectorRequirement::new("zone", Operator::In, vec!["a".into()]).is_ok());
        assert!(NodeSelectorRequirement::new("zone", Operator::Gt, vec!["1".into()]).is_ok());
        assert!(NodeSelectorRequirement::new("zone", Operator::Gt, vec!["a".into()]).is_err());
        let e = NodeSelectorRequirement::new("zone", Operator::NotEquals, vec!["a".into()])
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a valid node selector operator"), "{e}");
        assert!(NodeSelectorRequirement::new("bad key!", Operator::Exists, vec![]).is_err());
    }

    #[test]
    fn required_and_preferred() {
        let node = labels(&[("zone", "a"), ("disk", "ssd")]);
        let ns = labels(&[("disk", "ssd")]);
        assert!(required_node_affinity_matches(&ns, None, &node, "n1"));
        assert!(!required_node_affinity_matches(
            &labels(&[("disk", "hdd")]),
            None,
            &node,
            "n1"
        ));
        assert!(required_node_affinity_matches(
            &Labels::new(),
            None,
            &node,
            "n1"
        ));
        let aff = NodeAffinity {
            required: Some(NodeSelector {
                terms: vec![term(vec![req("zone", Operator::In, &["b"])])],
            }),
            preferred: vec![
                PreferredSchedulingTerm {
                    weight: 10,
                    preference: term(vec![req("zone", Operator::In, &["a"])]),
                },
                PreferredSchedulingTerm {
                    weight: 5,
                    preference: term(vec![req("disk", Operator::Exists, &[])]),
                },
                PreferredSchedulingTerm {
                    weight: 7,
                    preference: term(vec![req("gpu", Operator::Exists, &[])]),
                },
                PreferredSchedulingTerm {
                    weight: 3,
                    preference: NodeSelectorTerm::default(),
                },
            ],
        };
        assert!(!required_node_affinity_matches(
            &ns,
            Some(&aff),
            &node,
            "n1"
        ));
        let no_req = NodeAffinity {
            required: None,
            ..aff.clone()
        };
        assert!(required_node_affinity_matches(
            &ns,
            Some(&no_req),
            &node,
            "n1"
        ));
        assert_eq!(preferred_score(Some(&aff), &node, "n1"), 15);
        assert_eq!(preferred_score(None, &node, "n1"), 0);
        assert!(aff.validate().is_ok());
        // Required with zero terms matches nothing.
        let empty_req = NodeAffinity {
            required: Some(NodeSelector::default()),
            preferred: vec![],
        };
        assert!(!required_node_affinity_matches(
            &Labels::new(),
            Some(&empty_req),
            &node,
            "n1"
        ));
    }
}
