//! Scheduling explanations (`kubetwin run --explain`): for every scheduling attempt of a
//! selected pod, what the scheduling cycle saw and decided, as one [`Attempt`] record per
//! attempt (`explain.jsonl`).
//!
//! A record holds the sampling figures of pkg/scheduler/schedule_one.go
//! findNodesThatPassFilters (`numFeasibleNodesToFind`, the start index
//! `nextStartNodeIndex`, the nodes processed), each visited node in visiting order with
//! its Filter outcome (the first failing plugin with its status code and reasons, as the
//! FailedScheduling message aggregates them), the per-plugin raw and normalised scores,
//! weights and weighted sums of framework/runtime/framework.go RunScorePlugins for the
//! feasible nodes, the chosen node and how many nodes shared the top score (selectHost),
//! or the FailedScheduling message and the PostFilter (DefaultPreemption) outcome.
//!
//! Recording is off unless the scheduler was given an [`ExplainLog`]; the scheduling
//! cycle then decides once per pod whether it records ([`ExplainSelector::matches`]), so
//! unselected pods cost one check.

use super::plugins::inter_pod_affinity::{
    ERR_REASON_AFFINITY_RULES_NOT_MATCH, ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH,
    ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH,
};
use super::plugins::pod_topology_spread::{
    ERR_REASON_CONSTRAINTS_NOT_MATCH, ERR_REASON_NODE_LABEL_NOT_MATCH,
};
use super::plugins::taint_toleration::ERR_REASON_UNTOLERATED_TAINT;
use super::preemption::{Nominating, PostFilterResult};
use super::profile::names;
use crate::api::Pod;
use crate::api::selector::LabelSelector;
use crate::engine::SimTime;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::rc::Rc;

/// Which pods to explain: `all`, pod-name globs (`web-*`, `default/db-?`), or label
/// selectors in kubectl's `-l` syntax. A pod is selected when any item selects it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExplainSelector {
    all: bool,
    globs: Vec<NameGlob>,
    labels: Vec<LabelSelector>,
}

/// A pod-name glob with an optional namespace (`*` any run, `?` one character).
#[derive(Debug, Clone, PartialEq, Eq)]
struct NameGlob {
    namespace: Option<String>,
    pattern: String,
}

/// A malformed `--explain` / `--explain-labels` value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{flag} {value:?}: {why}")]
pub struct SelectorSyntaxError {
    /// The flag.
    pub flag: &'static str,
    /// The offending value.
    pub value: String,
    /// What is wrong.
    pub why: String,
}

impl ExplainSelector {
    /// The selector of `--explain` values (pod name globs) and `--explain-labels` values
    /// (label selectors); `None` when both are empty.
    pub fn from_flags(
        names: &[String],
        labels: &[String],
    ) -> Result<Option<ExplainSelector>, SelectorSyntaxError> {
        if names.is_empty() && labels.is_empty() {
            return Ok(None);
        }
        let mut s = ExplainSelector::default();
        for v in names {
            s.add_names(v)?;
        }
        for v in labels {
            s.add_labels(v)?;
        }
        Ok(Some(s))
    }

    /// Whether nothing is selected.
    pub fn is_empty(&self) -> bool {
        !self.all && self.globs.is_empty() && self.labels.is_empty()
    }

    /// Adds the items of one `--explain` value: comma-separated `all` or pod-name globs,
    /// each optionally `namespace/glob`. Names use the characters of a DNS subdomain
    /// (lowercase letters, digits, `-`, `.`) plus `*` and `?`.
    pub fn add_names(&mut self, value: &str) -> Result<(), SelectorSyntaxError> {
        let err = |why: String| SelectorSyntaxError {
            flag: "--explain",
            value: value.to_string(),
            why,
        };
        for item in value.split(',') {
            let item = item.trim();
            if item.is_empty() {
                return Err(err(
                    "empty item (expected all, a pod name glob such as web-*, or namespace/glob)"
                        .into(),
                ));
            }
            if item == "all" {
                self.all = true;
                continue;
            }
            let (namespace, pattern) = match item.split_once('/') {
                Some((ns, p)) => (Some(ns), p),
                None => (None, item),
            };
            let valid = |s: &str, globs: bool| {
                !s.is_empty()
                    && s.chars().all(|c| {
                        c.is_ascii_lowercase()
                            || c.is_ascii_digit()
                            || c == '-'
                            || c == '.'
                            || (globs && (c == '*' || c == '?'))
                    })
            };
            if let Some(ns) = namespace
                && !valid(ns, false)
            {
                return Err(err(format!(
                    "invalid namespace {ns:?} in {item:?} (lowercase letters, digits, '-' and '.')"
                )));
            }
            if !valid(pattern, true) {
                return Err(err(format!(
                    "invalid pod name glob {item:?} (lowercase letters, digits, '-', '.', and the wildcards '*' and '?'; use --explain-labels for a label selector)"
                )));
            }
            self.globs.push(NameGlob {
                namespace: namespace.map(str::to_string),
                pattern: pattern.to_string(),
            });
        }
        Ok(())
    }

    /// Adds one `--explain-labels` value: a label selector in kubectl's `-l` syntax
    /// (`app=web,tier!=db`, `env in (qa,prod)`); commas join requirements.
    pub fn add_labels(&mut self, value: &str) -> Result<(), SelectorSyntaxError> {
        if value.trim().is_empty() {
            return Err(SelectorSyntaxError {
                flag: "--explain-labels",
                value: value.to_string(),
                why: "empty label selector".into(),
            });
        }
        let s = LabelSelector::parse(value).map_err(|e| SelectorSyntaxError {
            flag: "--explain-labels",
            value: value.to_string(),
            why: e.to_string(),
        })?;
        self.labels.push(s);
        Ok(())
    }

    /// A selector for exactly one pod, `name` or `namespace/name` (the `explain` command).
    pub fn exact(name: &str) -> ExplainSelector {
        let (namespace, pattern) = match name.split_once('/') {
            Some((ns, p)) => (Some(ns.to_string()), p.to_string()),
            None => (None, name.to_string()),
        };
        ExplainSelector {
            all: false,
            globs: vec![NameGlob { namespace, pattern }],
            labels: Vec::new(),
        }
    }

    /// Whether `pod` is selected.
    pub fn matches(&self, pod: &Pod) -> bool {
        self.all
            || self.globs.iter().any(|g| {
                g.namespace
                    .as_deref()
                    .is_none_or(|ns| ns == pod.meta.namespace)
                    && glob_matches(g.pattern.as_bytes(), pod.meta.name.as_bytes())
            })
            || self.labels.iter().any(|s| s.matches(&pod.meta.labels))
    }
}

/// Whether `name` matches `pattern` (`*` any run, `?` one byte), iteratively with one
/// backtrack point.
fn glob_matches(pattern: &[u8], name: &[u8]) -> bool {
    let (mut p, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        if p < pattern.len() && (pattern[p] == b'?' || pattern[p] == name[n]) {
            p += 1;
            n += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, n));
            p += 1;
        } else if let Some((sp, sn)) = star {
            p = sp + 1;
            n = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

/// One scheduling attempt of a selected pod.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    /// Simulated time of the attempt, ms.
    pub t_ms: u64,
    /// `namespace/name`.
    pub pod: String,
    /// The profile (the pod's `schedulerName`).
    pub profile: String,
    /// 1 for the first attempt (upstream QueuedPodInfo.Attempts after the pop).
    pub attempt: u32,
    /// How the pod reached the active queue: `activeQ` (new), `backoffQ` (moved by a
    /// cluster event, then its backoff expired) or `unschedulablePods` (flushed after
    /// podMaxInUnschedulablePodsDuration).
    pub queue: String,
    /// The node sampling.
    pub sampling: Sampling,
    /// The nominated node tried before the scan (schedule_one.go evaluateNominatedNode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nominated_node: Option<NominatedCheck>,
    /// The nodes visited, in visiting order.
    pub nodes: Vec<NodeExplanation>,
    /// What the cycle decided.
    pub result: AttemptResult,
}

/// The sampling figures of findNodesThatPassFilters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sampling {
    /// Nodes in the snapshot.
    pub all_nodes: usize,
    /// The profile's (or scheduler's) `percentageOfNodesToScore` (0 = adaptive).
    pub percentage_of_nodes_to_score: usize,
    /// `numFeasibleNodesToFind`.
    pub num_feasible_nodes_to_find: usize,
    /// `nextStartNodeIndex` at the start of the scan (index into the node tree order).
    pub start_index: usize,
    /// Nodes processed (the start index advances by this much).
    pub processed: usize,
    /// Feasible nodes found.
    pub feasible: usize,
}

/// The nominated node's check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NominatedCheck {
    /// The node.
    pub node: String,
    /// Whether it passed the filters (it is then the only feasible node).
    pub passed: bool,
}

/// One visited node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeExplanation {
    /// The node's name.
    pub node: String,
    /// The Filter outcome.
    pub filter: FilterOutcome,
    /// Per-plugin scores (feasible nodes of a scored attempt), in plugin order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scores: Vec<PluginScore>,
    /// The weighted total (feasible nodes of a scored attempt).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<i64>,
    /// Whether this node was chosen.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub chosen: bool,
}

/// A node's Filter outcome: `Success`, or the first failing plugin's status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FilterOutcome {
    /// Upstream's status code (`Success`, `Unschedulable`, `UnschedulableAndUnresolvable`).
    pub code: String,
    /// The failing plugin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugin: Option<String>,
    /// The failure reasons, as the FailedScheduling message counts them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
}

/// One Score plugin's contribution on one node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PluginScore {
    /// The plugin.
    pub plugin: String,
    /// Score before NormalizeScore.
    pub raw: i64,
    /// Score after NormalizeScore (equal to `raw` for plugins without it).
    pub normalized: i64,
    /// The plugin's weight in the profile.
    pub weight: i64,
    /// `normalized * weight`.
    pub weighted: i64,
}

/// What a scheduling cycle decided.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttemptResult {
    /// `Scheduled` or `Unschedulable`.
    pub outcome: String,
    /// The chosen node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// Whether scores were computed (a single feasible node is chosen unscored).
    #[serde(default)]
    pub scored: bool,
    /// The chosen node's total.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_score: Option<i64>,
    /// How many nodes had the top score.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tied: Option<usize>,
    /// How the tie was broken: `random` (selectHost's reservoir sampling) or `name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tie_break: Option<String>,
    /// The FailedScheduling message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The PostFilter outcome.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_filter: Option<PostFilterExplanation>,
}

/// The PostFilter (DefaultPreemption) outcome of an unschedulable attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostFilterExplanation {
    /// The plugin (`DefaultPreemption`), or none when the profile has no PostFilter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugin: Option<String>,
    /// What became of the pod's `nominatedNodeName`: `set` (to `nominated_node`), `kept`
    /// or `cleared` (upstream NominatingInfo's modes).
    pub nomination: String,
    /// The node the pod was nominated to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nominated_node: Option<String>,
    /// The victims (`namespace/name`), most important first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub victims: Vec<String>,
    /// The `preemption: ...` part of the message (empty when a node was nominated).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
}

/// The records of a run, shared by the scheduler (which appends) and the runtime (which
/// writes `explain.jsonl`).
#[derive(Debug, Default)]
pub struct ExplainLog {
    /// Which pods to record.
    pub selector: ExplainSelector,
    /// The attempts, in attempt order.
    pub attempts: Vec<Attempt>,
}

/// A shared [`ExplainLog`].
pub type SharedExplainLog = Rc<RefCell<ExplainLog>>;

impl ExplainLog {
    /// A shared log recording the pods `selector` selects.
    pub fn shared(selector: ExplainSelector) -> SharedExplainLog {
        Rc::new(RefCell::new(ExplainLog {
            selector,
            attempts: Vec::new(),
        }))
    }
}

/// The attempts as JSON lines.
pub fn to_jsonl(attempts: &[Attempt]) -> String {
    let mut s = String::new();
    for a in attempts {
        s.push_str(&serde_json::to_string(a).unwrap_or_default());
        s.push('\n');
    }
    s
}

/// Score recording during RunScorePlugins: per plugin, the raw and normalised scores of
/// every feasible node (in feasible order) and the weight.
#[derive(Debug, Default)]
pub struct ScoreRecord {
    /// (plugin, weight, raw, normalised).
    pub plugins: Vec<(String, i64, Vec<i64>, Vec<i64>)>,
}

impl ScoreRecord {
    /// Records a plugin's raw scores (before NormalizeScore).
    pub fn raw(&mut self, plugin: &str, weight: i64, raw: &[i64]) {
        self.plugins
            .push((plugin.to_string(), weight, raw.to_vec(), raw.to_vec()));
    }

    /// Records the normalised scores of the plugin last given to [`ScoreRecord::raw`].
    pub fn normalized(&mut self, scores: &[i64]) {
        if let Some(last) = self.plugins.last_mut() {
            last.3 = scores.to_vec();
        }
    }

    /// Records one node's score of a plugin without NormalizeScore (appending to the
    /// plugin's entry, created on first use).
    pub fn push_unnormalized(&mut self, plugin: &str, weight: i64, score: i64) {
        match self.plugins.iter_mut().find(|p| p.0 == plugin) {
            Some(p) => {
                p.2.push(score);
                p.3.push(score);
            }
            None => self
                .plugins
                .push((plugin.to_string(), weight, vec![score], vec![score])),
        }
    }

    /// The per-plugin scores of feasible node `i`.
    pub fn node_scores(&self, i: usize) -> Vec<PluginScore> {
        self.plugins
            .iter()
            .filter_map(|(name, w, raw, norm)| {
                let (&r, &n) = (raw.get(i)?, norm.get(i)?);
                Some(PluginScore {
                    plugin: name.clone(),
                    raw: r,
                    normalized: n,
                    weight: *w,
                    weighted: n * w,
                })
            })
            .collect()
    }
}

/// An attempt being recorded by the scheduling cycle: node ids until
/// [`Recording::finish`] names them.
#[derive(Debug)]
pub struct Recording {
    /// The record (its `nodes` are filled by [`Recording::finish`]).
    pub attempt: Attempt,
    /// Visited nodes and their Filter outcome, in visiting order.
    visits: Vec<(u32, FilterOutcome)>,
    /// The scores of the feasible nodes.
    pub scores: ScoreRecord,
    /// The weighted totals of the feasible nodes.
    pub totals: Vec<i64>,
}

impl Recording {
    /// Starts recording attempt `attempt` of `pod` at `now`.
    pub fn new(
        now: SimTime,
        pod: &Pod,
        attempt: u32,
        queue: &str,
        sampling: Sampling,
    ) -> Recording {
        Recording {
            attempt: Attempt {
                t_ms: now.as_millis(),
                pod: format!("{}/{}", pod.meta.namespace, pod.meta.name),
                profile: pod.spec.scheduler_name.clone(),
                attempt,
                queue: queue.to_string(),
                sampling,
                nominated_node: None,
                nodes: Vec::new(),
                result: AttemptResult {
                    outcome: String::new(),
                    node: None,
                    scored: false,
                    top_score: None,
                    tied: None,
                    tie_break: None,
                    message: None,
                    post_filter: None,
                },
            },
            visits: Vec::new(),
            scores: ScoreRecord::default(),
            totals: Vec::new(),
        }
    }

    /// Records the nominated-node check (`passed`: the node id when it passed).
    pub fn nominated(&mut self, pod: &Pod, passed: Option<u32>) {
        if pod.status.nominated_node_name.is_empty() {
            return;
        }
        self.attempt.nominated_node = Some(NominatedCheck {
            node: pod.status.nominated_node_name.clone(),
            passed: passed.is_some(),
        });
        if let Some(id) = passed {
            self.visits.push((id, self::passed()));
        }
    }

    /// Records a visited node.
    pub fn visit(&mut self, node: u32, outcome: FilterOutcome) {
        self.visits.push((node, outcome));
    }

    /// Records an unschedulable outcome: the FailedScheduling message and, when the
    /// profile has a PostFilter, its result.
    pub fn unschedulable(&mut self, message: &str, post: Option<&PostFilterResult>) {
        let r = &mut self.attempt.result;
        r.outcome = "Unschedulable".into();
        r.message = Some(message.to_string());
        r.post_filter = post.map(|p| PostFilterExplanation {
            plugin: Some(names::DEFAULT_PREEMPTION.to_string()),
            nomination: match &p.nominating {
                Nominating::Set(_) => "set",
                Nominating::Noop => "kept",
                Nominating::Clear => "cleared",
            }
            .to_string(),
            nominated_node: match &p.nominating {
                Nominating::Set(n) => Some(n.clone()),
                _ => None,
            },
            victims: p.victims.clone(),
            message: p.message.clone(),
        });
    }

    /// Records a scheduled outcome; `by_name`: ties broken by node name.
    pub fn scheduled(&mut self, by_name: bool) {
        let r = &mut self.attempt.result;
        r.outcome = "Scheduled".into();
        r.scored = !self.totals.is_empty();
        if let Some(&top) = self.totals.iter().max() {
            r.top_score = Some(top);
            r.tied = Some(self.totals.iter().filter(|&&t| t == top).count());
            r.tie_break = Some(if by_name { "name" } else { "random" }.into());
        }
    }

    /// The finished record: node names from `name_of`, the scores of the `feasible`
    /// nodes (in feasible order) and the `chosen` node marked.
    pub fn finish(
        self,
        name_of: impl Fn(u32) -> Option<String>,
        feasible: &[u32],
        chosen: Option<u32>,
    ) -> Attempt {
        let mut a = self.attempt;
        a.nodes = self
            .visits
            .into_iter()
            .map(|(id, filter)| {
                let i = feasible.iter().position(|&f| f == id);
                let scored = i.filter(|&i| i < self.totals.len());
                NodeExplanation {
                    node: name_of(id).unwrap_or_default(),
                    filter,
                    scores: scored.map_or_else(Vec::new, |i| self.scores.node_scores(i)),
                    total: scored.map(|i| self.totals[i]),
                    chosen: chosen == Some(id),
                }
            })
            .collect();
        if let Some(c) = chosen {
            a.result.node = name_of(c);
        }
        a
    }
}

/// The built-in Filter plugin whose failure reason is `reason` (the reasons are distinct
/// per plugin); `None` for reasons of out-of-tree plugins.
pub fn plugin_of_reason(reason: &str) -> Option<&'static str> {
    Some(match reason {
        "node(s) were unschedulable" => names::NODE_UNSCHEDULABLE,
        "node(s) didn't match the requested node name" => names::NODE_NAME,
        "node(s) didn't match Pod's node affinity/selector" => names::NODE_AFFINITY,
        super::ERR_REASON_NODE_PORTS => names::NODE_PORTS,
        "Too many pods" => names::NODE_RESOURCES_FIT,
        ERR_REASON_NODE_LABEL_NOT_MATCH | ERR_REASON_CONSTRAINTS_NOT_MATCH => {
            names::POD_TOPOLOGY_SPREAD
        }
        ERR_REASON_AFFINITY_RULES_NOT_MATCH
        | ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH
        | ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH => names::INTER_POD_AFFINITY,
        r if r.starts_with("Insufficient ") => names::NODE_RESOURCES_FIT,
        r if r.starts_with(ERR_REASON_UNTOLERATED_TAINT)
            || r.starts_with("node(s) had untolerated taint {") =>
        {
            names::TAINT_TOLERATION
        }
        _ => return None,
    })
}

/// The Filter outcome for a node that failed with `reasons`: the plugin and the status
/// code (UnschedulableAndUnresolvable when any reason is, see
/// [`super::preemption::reason_unresolvable`]).
pub fn failed(reasons: &[String], plugin: Option<String>) -> FilterOutcome {
    let unresolvable = reasons
        .iter()
        .any(|r| super::preemption::reason_unresolvable(r));
    FilterOutcome {
        code: if unresolvable {
            "UnschedulableAndUnresolvable"
        } else {
            "Unschedulable"
        }
        .to_string(),
        plugin: plugin.or_else(|| {
            reasons
                .first()
                .and_then(|r| plugin_of_reason(r))
                .map(str::to_string)
        }),
        reasons: reasons.to_vec(),
    }
}

/// The Filter outcome of a node that passed.
pub fn passed() -> FilterOutcome {
    FilterOutcome {
        code: "Success".to_string(),
        plugin: None,
        reasons: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_matches(b"web-*", b"web-abc12"));
        assert!(glob_matches(b"*", b""));
        assert!(glob_matches(b"w?b-*-x", b"web-1-2-x"));
        assert!(!glob_matches(b"web-?", b"web-12"));
        assert!(!glob_matches(b"db", b"db-0"));
        assert!(glob_matches(b"*a*b", b"xxaxxb"));
        assert!(!glob_matches(b"*a*b", b"xxaxxbc"));
    }

    proptest::proptest! {
        /// A name matches itself, itself with any characters turned into `?`, and any
        /// prefix followed by `*`; a longer literal never matches.
        #[test]
        fn globs_match_their_names(name in "[a-z0-9.-]{0,12}", marks in proptest::collection::vec(proptest::bool::ANY, 12), cut in 0usize..13) {
            let n = name.as_bytes();
            proptest::prop_assert!(glob_matches(n, n));
            let q: Vec<u8> = n.iter().zip(&marks).map(|(&c, &m)| if m { b'?' } else { c }).collect();
            proptest::prop_assert!(glob_matches(&q, n));
            let mut prefix = n[..cut.min(n.len())].to_vec();
            prefix.push(b'*');
            proptest::prop_assert!(glob_matches(&prefix, n));
            let mut longer = n.to_vec();
            longer.push(b'x');
            proptest::prop_assert!(!glob_matches(&longer, n));
        }
    }

    #[test]
    fn selector_syntax() {
        let mut s = ExplainSelector::default();
        assert!(s.is_empty());
        s.add_names("web-*, kube-system/dns-?").expect("valid");
        assert!(!s.is_empty());
        for bad in ["", "web,,db", "Web-*", "a/b/c", "app=web", "/x"] {
            let mut s = ExplainSelector::default();
            let e = s.add_names(bad).expect_err(bad);
            assert_eq!(e.flag, "--explain");
        }
        let mut s = ExplainSelector::default();
        s.add_labels("app=web,tier in (fe)").expect("valid");
        let e = s.add_labels("app in web").expect_err("bad selector");
        assert!(
            e.to_string()
                .starts_with("--explain-labels \"app in web\":"),
            "{e}"
        );
    }

    #[test]
    fn reasons_name_their_plugin_and_code() {
        let f = failed(&["Insufficient cpu".into(), "Too many pods".into()], None);
        assert_eq!(f.plugin.as_deref(), Some("NodeResourcesFit"));
        assert_eq!(f.code, "Unschedulable");
        let f = failed(&[ERR_REASON_UNTOLERATED_TAINT.into()], None);
        assert_eq!(f.plugin.as_deref(), Some("TaintToleration"));
        assert_eq!(f.code, "UnschedulableAndUnresolvable");
        assert_eq!(plugin_of_reason("made up"), None);
    }

    #[test]
    fn score_record_rows() {
        let mut r = ScoreRecord::default();
        r.raw("TaintToleration", 3, &[0, 1]);
        r.normalized(&[100, 0]);
        r.push_unnormalized("NodeResourcesFit", 1, 40);
        r.push_unnormalized("NodeResourcesFit", 1, 60);
        let n1 = r.node_scores(1);
        assert_eq!(n1.len(), 2);
        assert_eq!((n1[0].raw, n1[0].normalized, n1[0].weighted), (1, 0, 0));
        assert_eq!(
            (n1[1].plugin.as_str(), n1[1].weighted),
            ("NodeResourcesFit", 60)
        );
    }
}
