//! Incrementally maintained per-node counts of pods matching a label selector, the data
//! PodTopologySpread's PreFilter and PreScore read (upstream `countPodsMatchSelector` over
//! `nodeInfo.Pods`, pkg/scheduler/framework/plugins/podtopologyspread/common.go).
//!
//! Upstream recounts every node's pods for every scheduling cycle; here each distinct
//! `(namespace, selector)` gets an entry the first time a pod needs it (one scan over all
//! pods), and from then on every pod change adjusts the entries it affects, so a cycle reads
//! a count per node in O(1). A pod counts when it is bound, not terminal (terminal pods are
//! not in the scheduler's cache) and not terminating.

use crate::api::Store;
use crate::api::selector::{LabelSelector, Operator};
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
struct Entry {
    namespace: String,
    selector: LabelSelector,
    per_node: Vec<i64>,
    /// Nodes whose count is not 0.
    nonzero: usize,
    /// Per-domain sums for topology keys asked for (see [`SelectorCounts::domain_sums`]).
    domains: Vec<DomainSums>,
}

/// The sums of an entry's per-node counts over the domains of one topology key, kept in
/// step with the per-node counts until the node set changes.
#[derive(Debug, Clone)]
struct DomainSums {
    key: String,
    /// Topology value -> value id (the scheduler's topology cache numbering).
    values: BTreeMap<String, u32>,
    sums: Vec<i64>,
}

/// The selector count cache.
#[derive(Debug, Clone, Default)]
pub struct SelectorCounts {
    entries: Vec<Entry>,
    index: BTreeMap<String, usize>,
    /// Per pod id: the `(entry, node)` pairs the pod is counted in.
    tracked: Vec<Vec<(u32, u32)>>,
    /// Entries by one of their equality (or `In`) requirements: a pod can only match the
    /// entries filed under one of its labels, so a pod change checks a few candidates.
    by_label: BTreeMap<(String, String), Vec<u32>>,
    /// Entries without such a requirement (checked for every pod).
    unanchored: Vec<u32>,
}

/// Adds `delta` to the domain of node `n` in every cached domain sum.
fn adjust_domains(domains: &mut [DomainSums], store: &Store, n: u32, delta: i64) {
    if domains.is_empty() {
        return;
    }
    let Some(node) = store.nodes.get(n) else {
        return;
    };
    for d in domains {
        if let Some(v) = node.meta.labels.get(&d.key)
            && let Some(&vid) = d.values.get(v)
            && let Some(s) = d.sums.get_mut(vid as usize)
        {
            *s += delta;
        }
    }
}

fn counted_node(store: &Store, pod_id: u32) -> Option<u32> {
    let p = store.pods.get(pod_id)?;
    if p.meta.deletion.is_some() || p.status.phase.is_terminal() {
        return None;
    }
    store.pod_node(pod_id)
}

impl SelectorCounts {
    /// The entry for `(namespace, selector)`, built on first use; `None` for an empty
    /// selector (upstream counts 0 for it).
    pub fn entry(
        &mut self,
        store: &Store,
        namespace: &str,
        selector: &LabelSelector,
    ) -> Option<u32> {
        if selector.is_empty() {
            return None;
        }
        let key = format!("{namespace}\u{0}{selector:?}");
        if let Some(&i) = self.index.get(&key) {
            return Some(i as u32);
        }
        let e = self.entries.len() as u32;
        let mut per_node = vec![0i64; store.nodes.capacity()];
        // The store's label index finds the matching pods without a scan.
        for id in store.select_pods(namespace, selector) {
            let Some(n) = counted_node(store, id) else {
                continue;
            };
            if per_node.len() <= n as usize {
                per_node.resize(n as usize + 1, 0);
            }
            per_node[n as usize] += 1;
            if self.tracked.len() <= id as usize {
                self.tracked.resize(id as usize + 1, Vec::new());
            }
            self.tracked[id as usize].push((e, n));
        }
        let nonzero = per_node.iter().filter(|&&c| c != 0).count();
        self.entries.push(Entry {
            namespace: namespace.to_string(),
            selector: selector.clone(),
            per_node,
            nonzero,
            domains: Vec::new(),
        });
        self.index.insert(key, e as usize);
        match selector.requirements().iter().find(|r| {
            matches!(
                r.operator,
                Operator::Equals | Operator::DoubleEquals | Operator::In
            )
        }) {
            Some(r) => {
                for v in &r.values {
                    self.by_label
                        .entry((r.key.clone(), v.clone()))
                        .or_default()
                        .push(e);
                }
            }
            None => self.unanchored.push(e),
        }
        Some(e)
    }

    /// Matching pods of entry `e` on node `node`.
    pub fn count(&self, e: u32, node: u32) -> i64 {
        self.entries
            .get(e as usize)
            .and_then(|x| x.per_node.get(node as usize))
            .copied()
            .unwrap_or(0)
    }

    /// Brings pod `pod_id`'s contribution up to date with the store (idempotent).
    pub fn retrack(&mut self, store: &Store, pod_id: u32) {
        if self.entries.is_empty() {
            return;
        }
        if let Some(old) = self.tracked.get_mut(pod_id as usize) {
            for (e, n) in old.drain(..) {
                let entry = &mut self.entries[e as usize];
                if let Some(c) = entry.per_node.get_mut(n as usize) {
                    *c -= 1;
                    if *c == 0 {
                        entry.nonzero -= 1;
                    }
                    adjust_domains(&mut entry.domains, store, n, -1);
                }
            }
        }
        let Some(n) = counted_node(store, pod_id) else {
            return;
        };
        let Some(p) = store.pods.get(pod_id) else {
            return;
        };
        if self.tracked.len() <= pod_id as usize {
            self.tracked.resize(pod_id as usize + 1, Vec::new());
        }
        let mut candidates: Vec<u32> = self.unanchored.clone();
        for (k, v) in &p.meta.labels {
            if let Some(es) = self.by_label.get(&(k.clone(), v.clone())) {
                candidates.extend(es);
            }
        }
        candidates.sort_unstable();
        candidates.dedup();
        for e in candidates {
            let entry = &mut self.entries[e as usize];
            if entry.namespace != p.meta.namespace || !entry.selector.matches(&p.meta.labels) {
                continue;
            }
            if entry.per_node.len() <= n as usize {
                entry.per_node.resize(n as usize + 1, 0);
            }
            entry.per_node[n as usize] += 1;
            if entry.per_node[n as usize] == 1 {
                entry.nonzero += 1;
            }
            adjust_domains(&mut entry.domains, store, n, 1);
            self.tracked[pod_id as usize].push((e, n));
        }
    }

    /// Nodes with at least one matching pod, for entry `e`.
    pub fn nonzero_nodes(&self, e: u32) -> usize {
        self.entries.get(e as usize).map_or(0, |x| x.nonzero)
    }

    /// The sums of entry `e`'s per-node counts per domain of topology `key`, indexed by
    /// the value ids of `node_values` (node id -> value id, `u32::MAX` without the label)
    /// with `values` the value strings; built on first use with one pass over the nodes,
    /// then kept in step by [`SelectorCounts::retrack`] until
    /// [`SelectorCounts::clear_domains`].
    pub fn domain_sums(
        &mut self,
        e: u32,
        key: &str,
        node_values: &[u32],
        values: &[String],
    ) -> &[i64] {
        let Some(entry) = self.entries.get_mut(e as usize) else {
            return &[];
        };
        let i = match entry.domains.iter().position(|d| d.key == key) {
            Some(i) => i,
            None => {
                let mut sums = vec![0i64; values.len()];
                for (n, &c) in entry.per_node.iter().enumerate() {
                    if c != 0
                        && let Some(&v) = node_values.get(n)
                        && v != u32::MAX
                    {
                        sums[v as usize] += c;
                    }
                }
                entry.domains.push(DomainSums {
                    key: key.to_string(),
                    values: values
                        .iter()
                        .enumerate()
                        .map(|(i, v)| (v.clone(), i as u32))
                        .collect(),
                    sums,
                });
                entry.domains.len() - 1
            }
        };
        &entry.domains[i].sums
    }

    /// Drops every cached domain sum (the node set or node labels changed).
    pub fn clear_domains(&mut self) {
        for e in &mut self.entries {
            e.domains.clear();
        }
    }
}
