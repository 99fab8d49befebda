//! The load model at run time: per load target, the ready pods that share the offered
//! load, and per running pod a cumulative CPU counter (cAdvisor's
//! `container_cpu_usage_seconds_total`, in core-nanoseconds) and a cumulative served
//! requests counter, both integrated exactly between events from the curve's closed
//! forms (see [`super::curve`]).
//!
//! The rules (docs/scenario.md, "Load"):
//! - offered load `r(t) = scale · curve(t) · Π spikes(t) · noise(t)`;
//! - the `n` ready pods (Ready, not being deleted) split it evenly, as a round-robin
//!   Service does: each is offered `r / n`;
//! - a pod serves `min(r / n, c)`, where its capacity `c = (cap − baseCpu) /
//!   cpuPerRequest` is what fits under its CPU cap (`cap` = the sum of its containers'
//!   CPU limits, or the node's allocatable CPU when a container has no limit); the rest,
//!   and everything while no pod is ready, is dropped;
//! - its CPU usage is `min(baseCpu, cap) + cpuPerRequest · served` (so at most `cap`),
//!   a running pod that is not ready uses `min(baseCpu, cap)`; memory is `baseMemory +
//!   memoryPerRequest · served`;
//! - a pod on a crashed node (until the node lifecycle controller takes it out of the
//!   endpoints) is still offered its share but serves nothing;
//! - latency estimate `serviceTime / (1 − ρ)` with `ρ = Σ usage / Σ cap` over the ready
//!   pods, clamped at `ρ ≤ 0.99`.
//!
//! Pods with equal capacity form a group whose per-pod served integral is kept once, so
//! advancing time costs O(groups) per target, not O(pods).

use super::{LoadSpec, Noise};
use crate::api::objects::{ContainerState, Pod, PodPhase, Uid};
use crate::api::{Kind, Store};
use crate::engine::rng::{SimRng, unit_f64};
use crate::engine::{RngStreams, SimTime};
use crate::metrics::MetricsTable;
use serde_json::{Value, json};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

/// The load model shared by the metrics-server analog (which advances it on pod
/// changes and scrapes) and the runtime (which samples it).
pub type SharedLoad = Rc<RefCell<LoadModel>>;

/// Upper bound of the utilisation in the latency estimate.
pub const MAX_RHO: f64 = 0.99;

#[derive(Debug)]
struct NoiseState {
    noise: Noise,
    rng: SimRng,
    /// Index of the interval `value` belongs to.
    idx: u64,
    value: f64,
}

impl NoiseState {
    fn draw(&mut self) -> f64 {
        // Box–Muller: one standard normal from two uniforms.
        let u1 = 1.0 - unit_f64(&mut self.rng);
        let u2 = unit_f64(&mut self.rng);
        let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        (1.0 + self.noise.relative_sd * z).max(0.0)
    }

    /// The factor of interval `idx` (draws forward; `idx` never goes back).
    fn factor(&mut self, idx: u64) -> f64 {
        while self.idx < idx {
            self.value = self.draw();
            self.idx += 1;
        }
        self.value
    }
}

#[derive(Debug, Clone, Copy)]
struct Group {
    /// Per-pod capacity (requests/s).
    cap: f64,
    count: usize,
    /// Requests served per member pod since the start.
    acc: f64,
}

#[derive(Debug, Clone)]
struct PodState {
    uid: Uid,
    /// When its container started (its counters start at zero then).
    start: SimTime,
    /// CPU cap in nanocores.
    cap_cpu: f64,
    /// Requests served in earlier stints as a ready endpoint.
    served_before: f64,
    /// While serving: (group key, the group's `acc` when it joined).
    serving: Option<(u64, f64)>,
    /// Its node's machine is down (crashed): it serves nothing and is not scraped,
    /// although it stays an endpoint until the node lifecycle controller notices.
    dead: bool,
}

/// One target's state.
#[derive(Debug)]
struct Target {
    spec: LoadSpec,
    noise: Option<NoiseState>,
    groups: BTreeMap<u64, Group>,
    ready: usize,
    pods: BTreeMap<u32, PodState>,
    offered: f64,
    served: f64,
    peak_offered: f64,
    latency_ms: Vec<f64>,
    /// The offered rate at the last [`LoadModel::refresh`].
    last_offered: f64,
}

/// The instantaneous state of a target.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Instant {
    /// Offered requests/s.
    pub offered_rps: f64,
    /// Served requests/s.
    pub served_rps: f64,
    /// Dropped requests/s.
    pub dropped_rps: f64,
    /// Ready pods sharing the load.
    pub ready_pods: usize,
    /// CPU usage of the target's running pods, millicores.
    pub cpu_usage_m: f64,
    /// Latency estimate (ms), NaN without ready pods.
    pub latency_ms: f64,
}

/// What the metrics-server scrapes from one pod (a kubelet `/metrics/resource` point).
#[derive(Debug, Clone, PartialEq)]
pub struct PodPoint<'a> {
    /// The pod's store id.
    pub pod: u32,
    /// Its uid.
    pub uid: Uid,
    /// Its containers: the first serves and carries the usage, the others report 0.
    pub containers: &'a [crate::api::objects::Container],
    /// Container start time.
    pub start: SimTime,
    /// Cumulative CPU in core-nanoseconds since `start`.
    pub cpu_core_nanos: f64,
    /// Working set in bytes.
    pub memory_bytes: f64,
    /// Cumulative requests served since `start`.
    pub requests: f64,
    /// The custom metric it publishes, if any.
    pub metric: Option<&'a str>,
}

/// The load model: every target's state and the time integrated to.
#[derive(Debug, Default)]
pub struct LoadModel {
    targets: Vec<Target>,
    /// Integrated up to here (s).
    now: f64,
    /// Which target tracks a pod.
    owner: BTreeMap<u32, usize>,
    /// Nodes whose machine is down.
    down_nodes: BTreeSet<u32>,
}

fn key(cap: f64) -> u64 {
    cap.to_bits()
}

impl LoadModel {
    /// A model for `specs`; noise is drawn from the stream `load/<name>`.
    pub fn new(specs: &[LoadSpec], streams: &RngStreams) -> LoadModel {
        let targets = specs
            .iter()
            .map(|s| Target {
                noise: s.noise.map(|n| {
                    let mut st = NoiseState {
                        noise: n,
                        rng: streams.stream(&format!("load/{}", s.name)),
                        idx: 0,
                        value: 1.0,
                    };
                    st.value = st.draw();
                    st
                }),
                spec: s.clone(),
                groups: BTreeMap::new(),
                ready: 0,
                pods: BTreeMap::new(),
                offered: 0.0,
                served: 0.0,
                peak_offered: 0.0,
                latency_ms: Vec::new(),
                last_offered: 0.0,
            })
            .collect();
        LoadModel {
            targets,
            now: 0.0,
            owner: BTreeMap::new(),
            down_nodes: BTreeSet::new(),
        }
    }

    /// A shared model.
    pub fn shared(specs: &[LoadSpec], streams: &RngStreams) -> SharedLoad {
        Rc::new(RefCell::new(LoadModel::new(specs, streams)))
    }

    /// Whether the scenario has no load at all.
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    /// Integrates every target's counters up to `t`.
    pub fn advance(&mut self, t: SimTime) {
        let t = t.as_secs_f64();
        if t <= self.now {
            return;
        }
        let a = self.now;
        for tg in &mut self.targets {
            tg.integrate(a, t);
        }
        self.now = t;
    }

    /// Re-evaluates whether pod `id` belongs to a target, is running and is a ready
    /// endpoint (after any change to it). Call [`LoadModel::advance`] first.
    pub fn update_pod(&mut self, store: &Store, id: u32) {
        let want = store.pods.get(id).and_then(|p| {
            let start = running_since(p)?;
            let t = self.targets.iter().position(|t| t.claims(store, p))?;
            Some((t, p, start))
        });
        if let Some(&t) = self.owner.get(&id) {
            let keep = want.is_some_and(|(wt, p, start)| {
                let cur = &self.targets[t].pods[&id];
                wt == t && cur.uid == p.meta.uid && cur.start == start
            });
            if !keep {
                self.targets[t].leave(id);
                self.targets[t].pods.remove(&id);
                self.owner.remove(&id);
            }
        }
        let Some((t, p, start)) = want else { return };
        let tg = &mut self.targets[t];
        tg.pods.entry(id).or_insert_with(|| PodState {
            uid: p.meta.uid,
            start,
            cap_cpu: cpu_cap(store, id, p),
            served_before: 0.0,
            serving: None,
            dead: false,
        });
        self.owner.insert(id, t);
        let dead = store
            .pod_node(id)
            .is_some_and(|n| self.down_nodes.contains(&n));
        let serving = p.status.ready && p.meta.deletion.is_none();
        let cur = &tg.pods[&id];
        if cur.serving.is_some() && (!serving || cur.dead != dead) {
            tg.leave(id);
        }
        if let Some(ps) = tg.pods.get_mut(&id) {
            ps.dead = dead;
        }
        if serving && tg.pods[&id].serving.is_none() {
            tg.join(id);
        }
    }

    /// A node's machine crashed (`down`) or came back: its pods serve nothing, and
    /// their share of the load is dropped, until they are replaced or restart.
    pub fn set_node_down(&mut self, store: &Store, node: u32, down: bool, now: SimTime) {
        if self.is_empty() {
            return;
        }
        self.advance(now);
        if down {
            self.down_nodes.insert(node);
        } else {
            self.down_nodes.remove(&node);
        }
        let pods: Vec<u32> = store.pods_on_node(node).collect();
        for id in pods {
            self.update_pod(store, id);
        }
    }

    /// Re-evaluates every pod a target may hold (after a Service or Deployment change).
    pub fn resync(&mut self, store: &Store) {
        let mut ids: BTreeSet<u32> = self.owner.keys().copied().collect();
        for t in &self.targets {
            t.candidates(store, &mut ids);
        }
        for id in ids {
            self.update_pod(store, id);
        }
    }

    /// Calls `f` with the scrape point of every tracked pod at `now` (advance and
    /// refresh first), by pod id. Allocates nothing.
    pub fn for_each_point<'s>(
        &'s self,
        store: &'s Store,
        now: SimTime,
        mut f: impl FnMut(PodPoint<'s>),
    ) {
        let t = now.as_secs_f64();
        for (&id, &ti) in &self.owner {
            let tg = &self.targets[ti];
            let ps = &tg.pods[&id];
            // cAdvisor reports a container only once it has run for a while; a dead
            // machine's kubelet answers no scrape.
            if ps.start >= now || ps.dead {
                continue;
            }
            let Some(p) = store.pods.get(id) else {
                continue;
            };
            let pp = &tg.spec.per_pod;
            let served = tg.pod_served_total(ps);
            let running = (t - ps.start.as_secs_f64()).max(0.0);
            let rate = tg.pod_rate_now(ps, tg.last_offered);
            f(PodPoint {
                pod: id,
                uid: ps.uid,
                containers: &p.spec.containers,
                start: ps.start,
                cpu_core_nanos: pp.base_cpu.min(ps.cap_cpu) * running + pp.cpu_per_request * served,
                memory_bytes: pp.base_memory + pp.memory_per_request * rate,
                requests: served,
                metric: tg.spec.custom_metric.as_deref(),
            });
        }
    }

    /// A trace's load event: from `now` on, entry `name` is offered a constant `rps`
    /// (its curve becomes `constant` and its `scale` 1; spikes and noise still apply).
    /// `false` when no entry has that name.
    pub fn set_rps(&mut self, name: &str, rps: f64, now: SimTime) -> bool {
        self.advance(now);
        let Some(tg) = self.targets.iter_mut().find(|t| t.spec.name == name) else {
            return false;
        };
        tg.spec.curve = super::curve::Curve::Constant(rps);
        tg.spec.scale = 1.0;
        self.refresh(now);
        true
    }

    /// Refreshes every target's instantaneous offered rate at `now` (advance first).
    pub fn refresh(&mut self, now: SimTime) {
        let t = now.as_secs_f64();
        for tg in &mut self.targets {
            tg.last_offered = tg.offered_at(t);
        }
    }

    /// Appends the targets' columns to the current metrics row and records latency
    /// samples (advance first).
    pub fn sample(&mut self, now: SimTime, m: Option<&mut MetricsTable>) {
        self.refresh(now);
        let mut cols = Vec::new();
        for tg in &mut self.targets {
            let i = tg.instant();
            tg.peak_offered = tg.peak_offered.max(i.offered_rps);
            if i.latency_ms.is_finite() {
                tg.latency_ms.push(i.latency_ms);
            }
            cols.push((tg.spec.target.column_prefix(), i));
        }
        if let Some(m) = m {
            let r3 = |v: f64| (v * 1000.0).round() / 1000.0;
            for (p, i) in cols {
                m.set(&format!("{p}:offered_rps"), r3(i.offered_rps));
                m.set(&format!("{p}:served_rps"), r3(i.served_rps));
                m.set(&format!("{p}:dropped_rps"), r3(i.dropped_rps));
                m.set(&format!("{p}:load_ready_pods"), i.ready_pods as f64);
                m.set(&format!("{p}:cpu_usage_m"), r3(i.cpu_usage_m));
                m.set(&format!("{p}:latency_ms"), r3(i.latency_ms));
            }
        }
    }

    /// The value of a load field (`offered_rps served_rps dropped_rps dropped_pct
    /// latency_ms cpu_usage_m`) of the target `kind/namespace/name`, if it is one
    /// (refresh first).
    pub fn value(&self, kind: Kind, namespace: &str, name: &str, field: &str) -> Option<f64> {
        let tg = self.targets.iter().find(|t| {
            let g = &t.spec.target;
            g.kind == kind && g.namespace == namespace && g.name == name
        })?;
        let i = tg.instant();
        Some(match field {
            "offered_rps" => i.offered_rps,
            "served_rps" => i.served_rps,
            "dropped_rps" => i.dropped_rps,
            "latency_ms" => i.latency_ms,
            "cpu_usage_m" => i.cpu_usage_m,
            "dropped_pct" => tg.dropped_pct(),
            _ => return None,
        })
    }

    /// summary.json's `load` object: per entry name, the totals and percentiles.
    pub fn summary(&self) -> serde_json::Map<String, Value> {
        let r3 = |v: f64| (v * 1000.0).round() / 1000.0;
        let mut out = serde_json::Map::new();
        for tg in &self.targets {
            let mut lat = tg.latency_ms.clone();
            lat.sort_by(f64::total_cmp);
            let p = |q: f64| -> Value {
                if lat.is_empty() {
                    return Value::Null;
                }
                let rank = ((q / 100.0) * lat.len() as f64).ceil().max(1.0) as usize;
                Value::from(r3(lat[rank.min(lat.len()) - 1]))
            };
            out.insert(
                tg.spec.name.clone(),
                json!({
                    "target": tg.spec.target.column_prefix(),
                    "offered_requests": r3(tg.offered),
                    "served_requests": r3(tg.served),
                    "dropped_requests": r3((tg.offered - tg.served).max(0.0)),
                    "dropped_pct": r3(tg.dropped_pct()),
                    "peak_offered_rps": r3(tg.peak_offered),
                    "latency_ms_p50": p(50.0),
                    "latency_ms_p95": p(95.0),
                    "latency_ms_p99": p(99.0),
                }),
            );
        }
        out
    }
}

/// When a running pod's first container started (`None` unless it is running).
fn running_since(p: &Pod) -> Option<SimTime> {
    if p.status.phase != PodPhase::Running {
        return None;
    }
    match p.status.containers.first()?.state {
        ContainerState::Running(since) => Some(since),
        _ => None,
    }
}

/// A pod's CPU cap in nanocores: the sum of its containers' CPU limits when every
/// container has one, else its node's allocatable CPU.
fn cpu_cap(store: &Store, id: u32, p: &Pod) -> f64 {
    let cs = &p.spec.containers;
    if !cs.is_empty() && cs.iter().all(|c| c.limits.cpu_milli > 0) {
        return cs.iter().map(|c| c.limits.cpu_milli).sum::<i64>() as f64 * 1e6;
    }
    store
        .pod_node(id)
        .and_then(|n| store.nodes.get(n))
        .map_or(f64::INFINITY, |n| n.allocatable.cpu_milli as f64 * 1e6)
}

impl Target {
    /// `scale · Π spikes` at `t`.
    fn spike_factor(&self, t: f64) -> f64 {
        self.spec
            .spikes
            .iter()
            .filter(|s| t >= s.start && t < s.end)
            .fold(self.spec.scale, |f, s| f * s.factor)
    }

    fn offered_at(&mut self, t: f64) -> f64 {
        let mut k = self.spike_factor(t);
        if let Some(n) = self.noise.as_mut() {
            k *= n.factor((t / n.noise.interval).floor() as u64);
        }
        k * self.spec.curve.value(t)
    }

    /// The next factor breakpoint after `t` (spike edges, noise intervals), or `b`.
    fn next_cut(&self, t: f64, b: f64) -> f64 {
        let mut next = b;
        for s in &self.spec.spikes {
            for e in [s.start, s.end] {
                if e > t && e < next {
                    next = e;
                }
            }
        }
        if let Some(n) = &self.noise {
            let i = n.noise.interval;
            let e = ((t / i).floor() + 1.0) * i;
            if e > t && e < next {
                next = e;
            }
        }
        next
    }

    fn integrate(&mut self, a: f64, b: f64) {
        let mut s = a;
        while s < b {
            let e = self.next_cut(s, b);
            let mid = (s + e) / 2.0;
            let mut k = self.spike_factor(mid);
            if let Some(n) = self.noise.as_mut() {
                k *= n.factor((mid / n.noise.interval).floor() as u64);
            }
            self.integrate_piece(s, e, k);
            s = e;
        }
    }

    fn integrate_piece(&mut self, a: f64, b: f64, k: f64) {
        let c = &self.spec.curve;
        let off = k * c.integral(a, b);
        self.offered += off;
        let n = self.ready;
        if n == 0 || k <= 0.0 {
            return;
        }
        let nf = n as f64;
        for g in self.groups.values_mut().filter(|g| g.count > 0) {
            let level = nf * g.cap / k;
            let per_pod = ((off - k * c.excess(a, b, level)) / nf).max(0.0);
            g.acc += per_pod;
            self.served += g.count as f64 * per_pod;
        }
    }

    fn cap_rps(&self, cap_cpu: f64) -> f64 {
        let pp = &self.spec.per_pod;
        if pp.cpu_per_request <= 0.0 {
            f64::INFINITY
        } else {
            ((cap_cpu - pp.base_cpu).max(0.0) / pp.cpu_per_request).max(0.0)
        }
    }

    fn join(&mut self, id: u32) {
        let Some((cap_cpu, dead)) = self.pods.get(&id).map(|p| (p.cap_cpu, p.dead)) else {
            return;
        };
        let cap = if dead { 0.0 } else { self.cap_rps(cap_cpu) };
        let g = self.groups.entry(key(cap)).or_insert(Group {
            cap,
            count: 0,
            acc: 0.0,
        });
        g.count += 1;
        let acc = g.acc;
        self.ready += 1;
        if let Some(p) = self.pods.get_mut(&id) {
            p.serving = Some((key(cap), acc));
        }
    }

    fn leave(&mut self, id: u32) {
        let Some(p) = self.pods.get_mut(&id) else {
            return;
        };
        let Some((k, snap)) = p.serving.take() else {
            return;
        };
        if let Some(g) = self.groups.get_mut(&k) {
            p.served_before += g.acc - snap;
            g.count -= 1;
        }
        self.ready -= 1;
    }

    fn pod_served_total(&self, p: &PodState) -> f64 {
        p.served_before
            + p.serving
                .and_then(|(k, snap)| self.groups.get(&k).map(|g| g.acc - snap))
                .unwrap_or(0.0)
    }

    /// A pod's served rate when `offered` is the target's offered rate.
    fn pod_rate_now(&self, p: &PodState, offered: f64) -> f64 {
        match p.serving {
            Some((k, _)) if self.ready > 0 => {
                let cap = self.groups.get(&k).map_or(0.0, |g| g.cap);
                (offered / self.ready as f64).min(cap)
            }
            _ => 0.0,
        }
    }

    fn instant(&self) -> Instant {
        let offered = self.last_offered;
        let pp = &self.spec.per_pod;
        let served: f64 = if self.ready == 0 {
            0.0
        } else {
            let share = offered / self.ready as f64;
            self.groups
                .values()
                .map(|g| g.count as f64 * share.min(g.cap))
                .sum()
        };
        let (mut cpu, mut used, mut cap) = (0.0, 0.0, 0.0);
        for p in self.pods.values().filter(|p| !p.dead) {
            let u = pp.base_cpu.min(p.cap_cpu) + pp.cpu_per_request * self.pod_rate_now(p, offered);
            cpu += u;
            if p.serving.is_some() {
                used += u;
                cap += p.cap_cpu;
            }
        }
        let latency_ms = if self.ready == 0 {
            f64::NAN
        } else {
            let rho = if cap > 0.0 { used / cap } else { MAX_RHO };
            self.spec.service_time / (1.0 - rho.min(MAX_RHO)) * 1000.0
        };
        Instant {
            offered_rps: offered,
            served_rps: served,
            dropped_rps: (offered - served).max(0.0),
            ready_pods: self.ready,
            cpu_usage_m: cpu / 1e6,
            latency_ms,
        }
    }

    fn dropped_pct(&self) -> f64 {
        if self.offered > 0.0 {
            ((self.offered - self.served) / self.offered * 100.0).max(0.0)
        } else {
            0.0
        }
    }

    /// Whether pod `p` belongs to this target (whatever its readiness).
    fn claims(&self, store: &Store, p: &Pod) -> bool {
        let g = &self.spec.target;
        if p.meta.namespace != g.namespace {
            return false;
        }
        match g.kind {
            Kind::Service => store
                .services
                .id_of(&g.namespace, &g.name)
                .and_then(|id| store.services.get(id))
                .is_some_and(|s| {
                    !s.selector.is_empty()
                        && s.selector
                            .iter()
                            .all(|(k, v)| p.meta.labels.get(k) == Some(v))
                }),
            _ => {
                let Some(d) = store
                    .deployments
                    .id_of(&g.namespace, &g.name)
                    .and_then(|id| store.deployments.get(id))
                else {
                    return false;
                };
                p.meta
                    .controller_ref()
                    .filter(|o| o.kind == Kind::ReplicaSet)
                    .and_then(|o| {
                        store
                            .replicasets
                            .id_of(&p.meta.namespace, &o.name)
                            .and_then(|id| store.replicasets.get(id))
                            .filter(|rs| rs.meta.uid == o.uid)
                    })
                    .and_then(|rs| rs.meta.controller_ref())
                    .is_some_and(|o| o.kind == Kind::Deployment && o.uid == d.meta.uid)
            }
        }
    }

    /// Pods that may belong to this target.
    fn candidates(&self, store: &Store, out: &mut BTreeSet<u32>) {
        let g = &self.spec.target;
        match g.kind {
            Kind::Service => {
                if let Some(s) = store
                    .services
                    .id_of(&g.namespace, &g.name)
                    .and_then(|id| store.services.get(id))
                    && let Ok(sel) = crate::api::selector::LabelSelector::from_map(&s.selector)
                    && !s.selector.is_empty()
                {
                    out.extend(store.select_pods(&g.namespace, &sel));
                }
            }
            _ => {
                if let Some(d) = store
                    .deployments
                    .id_of(&g.namespace, &g.name)
                    .and_then(|id| store.deployments.get(id))
                {
                    for rs in store.replicasets_owned_by(d.meta.uid) {
                        if let Some(r) = store.replicasets.get(rs) {
                            out.extend(store.pods_owned_by(r.meta.uid));
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::load::{Curve, LoadTarget, PerPod};

    fn spec(curve: Curve) -> LoadSpec {
        LoadSpec {
            name: "web".into(),
            target: LoadTarget {
                kind: Kind::Service,
                namespace: "default".into(),
                name: "web".into(),
            },
            curve,
            scale: 1.0,
            spikes: vec![],
            noise: None,
            per_pod: PerPod {
                cpu_per_request: 1e6,
                base_cpu: 20e6,
                base_memory: 64.0 * 1024.0 * 1024.0,
                memory_per_request: 0.0,
            },
            service_time: 0.02,
            custom_metric: None,
        }
    }

    /// Adds a ready pod with a CPU cap (nanocores) started at 0.
    fn add(m: &mut LoadModel, id: u32, cap_cpu: f64) {
        let tg = &mut m.targets[0];
        tg.pods.insert(
            id,
            PodState {
                uid: Uid(id as u64),
                start: SimTime::ZERO,
                cap_cpu,
                served_before: 0.0,
                serving: None,
                dead: false,
            },
        );
        m.owner.insert(id, 0);
        m.targets[0].join(id);
    }

    #[test]
    fn even_split_and_cap_drop_rule() {
        let mut m = LoadModel::new(&[spec(Curve::Constant(300.0))], &RngStreams::new(1));
        // Three pods capped at 120m: (120m − 20m base) / 1m = 100 rps each.
        for id in 0..3 {
            add(&mut m, id, 120e6);
        }
        m.advance(SimTime::from_secs(10));
        m.refresh(SimTime::from_secs(10));
        let i = m.targets[0].instant();
        assert_eq!(
            (i.offered_rps, i.served_rps, i.dropped_rps),
            (300.0, 300.0, 0.0)
        );
        assert_eq!(i.cpu_usage_m, 360.0);
        // At the cap, ρ clamps to 0.99: 20 ms / 0.01.
        assert!((i.latency_ms - 2000.0).abs() < 1e-6, "{}", i.latency_ms);
        assert_eq!(m.targets[0].served, 3000.0);
        // One pod leaves: two serve 100 each, 100/s is dropped.
        m.targets[0].leave(2);
        m.advance(SimTime::from_secs(20));
        let tg = &m.targets[0];
        assert_eq!((tg.offered, tg.served), (6000.0, 5000.0));
        assert!((tg.dropped_pct() - 100.0 / 6.0).abs() < 1e-9);
        let store = Store::new(RngStreams::new(1).stream("x"), false);
        let mut n = 0;
        m.for_each_point(&store, SimTime::from_secs(20), |_| n += 1);
        assert_eq!(n, 0, "pods missing from the store are not scraped");
        // The leaving pod keeps its 1000 requests.
        let tg = &m.targets[0];
        let ps = &tg.pods[&2];
        assert_eq!(tg.pod_served_total(ps), 1000.0);
        assert_eq!(tg.pod_served_total(&tg.pods[&0]), 2000.0);
    }

    #[test]
    fn unequal_caps_split_evenly_and_drop_what_does_not_fit() {
        let mut m = LoadModel::new(&[spec(Curve::Constant(300.0))], &RngStreams::new(1));
        add(&mut m, 0, 70e6); // 50 rps
        add(&mut m, 1, 1020e6); // 1000 rps
        m.advance(SimTime::from_secs(4));
        let tg = &m.targets[0];
        // Each is offered 150: one serves 50, the other 150.
        assert_eq!(tg.served, 4.0 * 200.0);
        assert_eq!(tg.pod_served_total(&tg.pods[&0]), 200.0);
        assert_eq!(tg.pod_served_total(&tg.pods[&1]), 600.0);
    }

    #[test]
    fn no_ready_pod_drops_everything_and_noise_is_seeded() {
        let mut s = spec(Curve::Constant(100.0));
        s.noise = Some(Noise {
            relative_sd: 0.1,
            interval: 60.0,
        });
        let run = |seed| {
            let mut m = LoadModel::new(std::slice::from_ref(&s), &RngStreams::new(seed));
            m.advance(SimTime::from_secs(600));
            (m.targets[0].offered, m.targets[0].served)
        };
        let (o, served) = run(1);
        assert_eq!(served, 0.0);
        assert_ne!(o, 60_000.0);
        assert!((o - 60_000.0).abs() < 6_000.0, "{o}");
        assert_eq!(run(1), (o, 0.0));
        assert_ne!(run(2).0, o);
    }

    #[test]
    fn a_dead_endpoint_is_offered_its_share_and_drops_it() {
        let mut m = LoadModel::new(&[spec(Curve::Constant(100.0))], &RngStreams::new(1));
        add(&mut m, 0, 520e6);
        add(&mut m, 1, 520e6);
        let tg = &mut m.targets[0];
        tg.leave(1);
        tg.pods.get_mut(&1).unwrap().dead = true;
        tg.join(1);
        m.advance(SimTime::from_secs(10));
        m.refresh(SimTime::from_secs(10));
        let tg = &m.targets[0];
        assert_eq!((tg.offered, tg.served), (1000.0, 500.0));
        let i = tg.instant();
        assert_eq!((i.ready_pods, i.served_rps, i.dropped_rps), (2, 50.0, 50.0));
        // Only the live pod uses CPU: 20m + 1m × 50.
        assert_eq!(i.cpu_usage_m, 70.0);
    }

    proptest::proptest! {
        /// Whatever pods join and leave, requests are conserved: the pods' served
        /// counters add up to the target's served total, which never exceeds the offered
        /// total, and no pod serves beyond its capacity.
        #[test]
        fn requests_are_conserved(ops in proptest::collection::vec((0u32..6, 0u8..3, 1u64..900), 1..40)) {
            let mut s = spec(Curve::Diurnal { base: 100.0, peak: 900.0, period: 3600.0, peak_at: 600.0 });
            s.noise = Some(Noise { relative_sd: 0.2, interval: 60.0 });
            let mut m = LoadModel::new(&[s], &RngStreams::new(3));
            let mut t = 0u64;
            for (id, op, dt) in ops {
                let tg = &mut m.targets[0];
                match (op, tg.pods.contains_key(&id)) {
                    (0, false) => add(&mut m, id, 50e6 + id as f64 * 100e6),
                    (1, true) if tg.pods[&id].serving.is_some() => tg.leave(id),
                    (2, true) if tg.pods[&id].serving.is_none() => tg.join(id),
                    _ => {}
                }
                t += dt;
                m.advance(SimTime::from_secs(t));
            }
            let tg = &m.targets[0];
            let sum: f64 = tg.pods.values().map(|p| tg.pod_served_total(p)).sum();
            proptest::prop_assert!((sum - tg.served).abs() <= 1e-6 * (1.0 + tg.served));
            proptest::prop_assert!(tg.served <= tg.offered * (1.0 + 1e-12) + 1e-9);
            for (id, p) in &tg.pods {
                let cap = tg.cap_rps(p.cap_cpu);
                proptest::prop_assert!(tg.pod_served_total(p) <= cap * t as f64 * (1.0 + 1e-9) + 1e-6, "pod {}", id);
            }
        }
    }
}
