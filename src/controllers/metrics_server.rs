//! The metrics-server analog: scrapes every running pod of a load target on
//! metrics-server's resolution and publishes `metrics.k8s.io` PodMetrics and the
//! per-pod custom metric (served requests per second) into the
//! [`MetricsRegistry`](crate::metrics::pod_metrics::MetricsRegistry) the HPA reads.
//! It also keeps the load model's ready-endpoint sets in step with pod changes.
//!
//! Upstream rules restated (kubernetes-sigs/metrics-server):
//! - `pkg/server/server.go` (`runScrape`): one tick at start, then one every
//!   `--metric-resolution`; the project's deployment manifest
//!   (`manifests/base/deployment.yaml`) runs it with `--metric-resolution=15s` (the
//!   binary's own default, `cmd/metrics-server/app/options/options.go`, is 60 s).
//! - `pkg/storage/pod.go` (`podStorage.Store`, `GetMetrics`): the last two points per
//!   container are kept; usage is served only with both. A container that started less
//!   than one resolution but at least 10 s (`freshContainerMinMetricsResolution`) before
//!   the scrape gets a synthetic previous point at its start time with zero CPU, so it
//!   appears after one scrape; otherwise it needs two. A container whose start time is
//!   not before the last point's timestamp restarted: its old points are dropped. A pod
//!   missing from a scrape is dropped.
//! - `pkg/storage/types.go` (`resourceUsage`): CPU is the counter's increase over the
//!   window, truncated to whole nanocores; the PodMetrics timestamp is the last point's,
//!   the window the time between the two points; memory is the last working set. The
//!   HPA reads CPU as `MilliValue`, which rounds nanocores up to millicores.
//!
//! Scrapes are timestamped at the scrape itself (the kubelet's cAdvisor housekeeping
//! lag is not modelled). With no `spec.load` the controller schedules nothing.

use super::{Controller, Ctx, Key, Next, WorkQueue};
use crate::api::objects::Uid;
use crate::api::store::Op;
use crate::api::{Change, Kind, Store};
use crate::engine::{SimDuration, SimTime};
use crate::metrics::pod_metrics::{ContainerUsage, MetricValue, PodUsage, SharedMetrics};
use crate::workload::load::model::SharedLoad;
use std::collections::BTreeMap;

/// `--metric-resolution` as metrics-server's manifests set it.
pub const METRIC_RESOLUTION: SimDuration = SimDuration::from_secs(15);
/// `freshContainerMinMetricsResolution` (pkg/storage/pod.go).
pub const FRESH_CONTAINER_MIN_RESOLUTION: SimDuration = SimDuration::from_secs(10);

/// The key that re-evaluates every target's pods (a Service changed, a Deployment was
/// created or deleted).
const RESYNC: Key = Key {
    kind: Kind::Service,
    id: u32::MAX,
};

/// One stored metrics point (a container's cumulative counters at a time).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Container start time.
    pub start: SimTime,
    /// When the point was measured.
    pub timestamp: SimTime,
    /// Cumulative CPU (core-nanoseconds).
    pub cpu: f64,
    /// Working set (bytes).
    pub memory: f64,
    /// Cumulative requests served.
    pub requests: f64,
}

/// The last two points of a pod.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stored {
    /// The pod's uid.
    pub uid: Uid,
    /// The latest point.
    pub last: Point,
    /// The one before, if usable for a rate.
    pub prev: Option<Point>,
}

/// The storage rule of `podStorage.Store` for one container: the new (last, prev).
pub fn store_point(old: Option<&Stored>, uid: Uid, new: Point, resolution: SimDuration) -> Stored {
    let age = new.timestamp.since(new.start);
    let prev =
        if new.start < new.timestamp && age < resolution && age >= FRESH_CONTAINER_MIN_RESOLUTION {
            Some(Point {
                timestamp: new.start,
                cpu: 0.0,
                requests: 0.0,
                ..new
            })
        } else {
            match old.filter(|o| o.uid == uid) {
                Some(o) if new.start < o.last.timestamp => {
                    if new.timestamp > o.last.timestamp {
                        Some(o.last)
                    } else {
                        o.prev.filter(|p| p.timestamp < new.timestamp)
                    }
                }
                _ => None,
            }
        };
    Stored {
        uid,
        last: new,
        prev,
    }
}

/// The served usage of two points (`resourceUsage`): (cpu millicores as the HPA reads
/// them, memory bytes, requests/s in milli-units, window).
pub fn usage(last: &Point, prev: &Point) -> (i64, i64, i64, SimDuration) {
    let window = last.timestamp.since(prev.timestamp);
    let secs = window.as_secs_f64();
    if secs <= 0.0 {
        return (0, last.memory as i64, 0, window);
    }
    let nanocores = ((last.cpu - prev.cpu).max(0.0) / secs).floor() as i64;
    let cpu_milli = (nanocores + 999_999).div_euclid(1_000_000);
    let rps_milli = ((last.requests - prev.requests).max(0.0) / secs * 1000.0).floor() as i64;
    (cpu_milli, last.memory.floor() as i64, rps_milli, window)
}

/// The metrics-server controller.
pub struct MetricsServer {
    load: SharedLoad,
    api: SharedMetrics,
    resolution: SimDuration,
    /// The last two points per pod, with the scrape that last saw it.
    storage: BTreeMap<u32, (u64, Stored)>,
    /// Scrapes so far.
    generation: u64,
}

impl MetricsServer {
    /// A metrics-server over the load model, publishing into `api`.
    pub fn new(load: SharedLoad, api: SharedMetrics) -> MetricsServer {
        MetricsServer {
            load,
            api,
            resolution: METRIC_RESOLUTION,
            storage: BTreeMap::new(),
            generation: 0,
        }
    }

    /// The key the runtime queues once at the start to begin the scrape loop (only when
    /// the scenario has load).
    pub const SCRAPE: Key = Key::SINGLETON;

    fn scrape(&mut self, store: &Store, now: SimTime) {
        let load = self.load.clone();
        {
            let mut l = load.borrow_mut();
            l.advance(now);
            l.refresh(now);
        }
        self.generation += 1;
        let generation = self.generation;
        let resolution = self.resolution;
        let storage = &mut self.storage;
        let mut api = self.api.borrow_mut();
        load.borrow().for_each_point(store, now, |p| {
            let point = Point {
                start: p.start,
                timestamp: now,
                cpu: p.cpu_core_nanos,
                memory: p.memory_bytes,
                requests: p.requests,
            };
            let old = storage.get(&p.pod).map(|(_, s)| s);
            let published = old.is_some_and(|o| o.prev.is_some());
            let s = store_point(old, p.uid, point, resolution);
            match &s.prev {
                Some(prev) => {
                    let (cpu_milli, memory_bytes, rps_milli, window) = usage(&s.last, prev);
                    let containers = p
                        .containers
                        .iter()
                        .enumerate()
                        .map(|(i, c)| ContainerUsage {
                            name: c.name.clone(),
                            cpu_milli: if i == 0 { cpu_milli } else { 0 },
                            memory_bytes: if i == 0 { memory_bytes } else { 0 },
                        })
                        .collect();
                    api.set_pod_usage(
                        p.pod,
                        p.uid,
                        PodUsage {
                            timestamp: now,
                            window,
                            containers,
                        },
                    );
                    if let Some(m) = p.metric {
                        api.set_pod_metric(
                            p.pod,
                            p.uid,
                            m,
                            MetricValue {
                                milli: rps_milli,
                                timestamp: now,
                            },
                        );
                    }
                }
                None if published => api.remove_pod(p.pod),
                None => {}
            }
            storage.insert(p.pod, (generation, s));
        });
        // Pods missing from this scrape are dropped (upstream replaces its maps).
        storage.retain(|id, (g, s)| {
            if *g != generation && s.prev.is_some() {
                api.remove_pod(*id);
            }
            *g == generation
        });
    }
}

impl Controller for MetricsServer {
    fn name(&self) -> &'static str {
        "metrics-server"
    }

    fn on_change(&mut self, change: &Change, _store: &Store, queue: &mut WorkQueue) {
        if self.load.borrow().is_empty() {
            return;
        }
        // Pod changes (readiness, deletion, ownership, labels) re-evaluate that pod; a
        // Service's selector or a Deployment's existence changes whole target sets.
        // Deployment status updates change no membership and are ignored.
        match (change.kind, change.op) {
            (Kind::Pod, _) => queue.add(Key::new(Kind::Pod, change.id)),
            (Kind::Service, _) | (Kind::Deployment, Op::Added | Op::Deleted) => queue.add(RESYNC),
            _ => {}
        }
    }

    fn reconcile(&mut self, key: Key, ctx: &mut Ctx<'_>) -> Next {
        if self.load.borrow().is_empty() {
            return Next::Done;
        }
        if key == Self::SCRAPE {
            self.scrape(ctx.store, ctx.now);
            return Next::RequeueAfter(self.resolution);
        }
        let mut load = self.load.borrow_mut();
        load.advance(ctx.now);
        if key == RESYNC {
            load.resync(ctx.store);
        } else {
            load.update_pod(ctx.store, key.id);
        }
        Next::Done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pt(start: u64, t: u64, cpu: f64) -> Point {
        Point {
            start: SimTime::from_secs(start),
            timestamp: SimTime::from_secs(t),
            cpu,
            memory: 1024.0,
            requests: cpu / 1e6,
        }
    }

    #[test]
    fn a_pod_appears_after_two_scrapes() {
        let r = METRIC_RESOLUTION;
        // Started 3 s before the scrape: too fresh for the synthetic point.
        let s1 = store_point(None, Uid(1), pt(12, 15, 3e8), r);
        assert_eq!(s1.prev, None);
        let s2 = store_point(Some(&s1), Uid(1), pt(12, 30, 18e8), r);
        assert_eq!(s2.prev, Some(s1.last));
        // 1.5e9 core-ns over 15 s = 100,000,000 nanocores = 100m.
        let (cpu, mem, rps, window) = usage(&s2.last, s2.prev.as_ref().unwrap());
        assert_eq!(
            (cpu, mem, rps, window),
            (100, 1024, 100_000, SimDuration::from_secs(15))
        );
        // A re-scrape at the same timestamp keeps the older previous point.
        let s3 = store_point(Some(&s2), Uid(1), pt(12, 30, 18e8), r);
        assert_eq!(s3.prev, Some(s1.last));
    }

    #[test]
    fn fresh_containers_get_a_synthetic_point() {
        // Started 12 s before the scrape (10 s ≤ age < 15 s): served after one scrape.
        let s = store_point(None, Uid(1), pt(18, 30, 12e8), METRIC_RESOLUTION);
        let prev = s.prev.unwrap();
        assert_eq!((prev.timestamp, prev.cpu), (SimTime::from_secs(18), 0.0));
        assert_eq!(usage(&s.last, &prev).0, 100);
    }

    #[test]
    fn restarts_and_new_uids_start_over() {
        let r = METRIC_RESOLUTION;
        let s1 = store_point(None, Uid(1), pt(0, 30, 1e9), r);
        // The container restarted at 40 s (not before the last point at 30 s).
        let s2 = store_point(Some(&s1), Uid(1), pt(40, 60, 1e8), r);
        assert_eq!(s2.prev, None);
        // Another pod reusing the id.
        let s3 = store_point(Some(&s1), Uid(2), pt(0, 45, 2e9), r);
        assert_eq!(s3.prev, None);
    }

    #[test]
    fn cpu_rounds_up_to_millicores() {
        let a = pt(0, 30, 0.0);
        let mut b = pt(0, 45, 0.0);
        // 15,000,015 core-ns over 15 s = 1,000,001 nanocores: 2m as MilliValue.
        b.cpu = 15_000_015.0;
        assert_eq!(usage(&b, &a).0, 2);
    }

    mod pipeline {
        use super::super::*;
        use crate::api::manifest::load_str;
        use crate::api::objects::{ContainerState, ContainerStatus, PodPhase};
        use crate::controllers::Outbox;
        use crate::engine::RngStreams;
        use crate::metrics::pod_metrics::MetricsRegistry;
        use crate::workload::load::model::LoadModel;
        use crate::workload::load::{Curve, LoadSpec, LoadTarget, PerPod};

        const OBJECTS: &str = "apiVersion: v1
kind: Node
metadata: {name: n1}
status:
  capacity: {cpu: '4', memory: 8Gi, pods: '110'}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
";

        fn pod(i: usize) -> String {
            format!(
                "apiVersion: v1
kind: Pod
metadata: {{name: web-{i}, labels: {{app: web}}}}
spec:
  nodeName: n1
  containers:
  - name: web
    image: web
    resources: {{limits: {{cpu: 500m}}}}
"
            )
        }

        struct Rig {
            ms: MetricsServer,
            store: Store,
            api: SharedMetrics,
        }

        impl Rig {
            fn settle(&mut self, now: SimTime, extra: Option<Key>) {
                let mut q = WorkQueue::default();
                for ch in self.store.take_changes() {
                    self.ms.on_change(&ch, &self.store, &mut q);
                }
                if let Some(k) = extra {
                    q.add(k);
                }
                let mut rng = RngStreams::new(1).stream("c");
                let mut out = Outbox::default();
                while let Some(k) = q.pop() {
                    self.ms.reconcile(
                        k,
                        &mut Ctx {
                            now,
                            store: &mut self.store,
                            rng: &mut rng,
                            out: &mut out,
                        },
                    );
                }
            }
            fn scrape(&mut self, secs: u64) {
                self.settle(SimTime::from_secs(secs), Some(MetricsServer::SCRAPE));
            }
            fn cpu(&self, id: u32) -> Option<(i64, SimDuration)> {
                let uid = self.store.pods.get(id)?.meta.uid;
                let api = self.api.borrow();
                let u = api.pod_usage(id, uid)?;
                Some((u.containers[0].cpu_milli, u.window))
            }
            fn rps(&self, id: u32) -> Option<i64> {
                let uid = self.store.pods.get(id)?.meta.uid;
                self.api
                    .borrow()
                    .pod_metric(id, uid, "rps")
                    .map(|v| v.milli)
            }
        }

        #[test]
        fn scrapes_publish_usage_from_the_load_share() {
            let spec = LoadSpec {
                name: "web".into(),
                target: LoadTarget {
                    kind: Kind::Service,
                    namespace: "default".into(),
                    name: "web".into(),
                },
                curve: Curve::Constant(200.0),
                scale: 1.0,
                spikes: vec![],
                noise: None,
                per_pod: PerPod {
                    cpu_per_request: 2e6,
                    base_cpu: 20e6,
                    base_memory: 1e6,
                    memory_per_request: 0.0,
                },
                service_time: 0.02,
                custom_metric: Some("rps".into()),
            };
            let streams = RngStreams::new(1);
            let load = LoadModel::shared(std::slice::from_ref(&spec), &streams);
            let api = MetricsRegistry::shared();
            let mut store = Store::new(streams.stream("names"), false);
            for l in load_str(OBJECTS, "o.yaml", 1).unwrap().objects {
                store.create(l.object, SimTime::ZERO).unwrap();
            }
            let mut ids = vec![];
            for i in 0..2 {
                let o = load_str(&pod(i), "p.yaml", 1)
                    .unwrap()
                    .objects
                    .remove(0)
                    .object;
                let (_, id) = store.create(o, SimTime::ZERO).unwrap();
                store.update_pod(id, SimTime::ZERO, |p| {
                    p.status.phase = PodPhase::Running;
                    p.status.ready = true;
                    p.status.containers = vec![ContainerStatus {
                        name: "web".into(),
                        ready: true,
                        restart_count: 0,
                        state: ContainerState::Running(SimTime::ZERO),
                        reason: String::new(),
                    }];
                });
                ids.push(id);
            }
            let mut rig = Rig {
                ms: MetricsServer::new(load.clone(), api.clone()),
                store,
                api,
            };
            rig.scrape(0);
            rig.scrape(15);
            assert_eq!(rig.cpu(ids[0]), None, "one point is not enough");
            rig.scrape(30);
            // 100 rps each: 20m + 2m × 100 = 220m over the 15 s window.
            assert_eq!(rig.cpu(ids[0]), Some((220, SimDuration::from_secs(15))));
            assert_eq!(rig.rps(ids[1]), Some(100_000));
            // Pod 1 stops being ready at 35 s: pod 0 serves everything from then on.
            rig.store
                .update_pod(ids[1], SimTime::from_secs(35), |p| p.status.ready = false);
            rig.settle(SimTime::from_secs(35), None);
            rig.scrape(45);
            // Pod 0: (5 s × 100 + 10 s × 200) / 15 s = 166.67 rps → 353.33m, rounded up.
            assert_eq!(rig.cpu(ids[0]).map(|c| c.0), Some(354));
            assert_eq!(rig.rps(ids[0]), Some(166_666));
            // Pod 1: (5 s × 220m + 10 s × 20m) / 15 s = 86.67m.
            assert_eq!(rig.cpu(ids[1]).map(|c| c.0), Some(87));
            // A pod that stops running is dropped at the next scrape.
            rig.store.update_pod(ids[1], SimTime::from_secs(50), |p| {
                p.status.phase = PodPhase::Failed;
            });
            rig.settle(SimTime::from_secs(50), None);
            rig.scrape(60);
            assert_eq!(rig.cpu(ids[1]), None);
            assert_eq!(rig.rps(ids[1]), None);
            assert_eq!(rig.cpu(ids[0]).map(|c| c.0), Some(420));
        }
    }
}
