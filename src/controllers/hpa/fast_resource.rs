//! An allocation-free form of the replica calculator's `GetResourceReplicas` (Resource
//! metric, Utilization target), for the controller's hot path: what `kubectl autoscale`
//! creates, synced every 15 s for every HPA.
//!
//! [`replica_calc::get_resource_replicas`](super::replica_calc::get_resource_replicas) is
//! the port of upstream `pkg/controller/podautoscaler/replica_calculator.go` that the
//! conformance cases pin; it works on pod names, string-keyed maps and sets, as upstream
//! does. This module computes the same result from one compact record per pod (its request
//! and metric already resolved) with counts and integer sums instead of maps, and a property
//! test below requires it to agree with the reference on generated inputs: results, errors
//! and their order. Inputs must hold each pod once and no sample of a pod outside the list
//! (the controller builds both from the same selected pods).

use super::replica_calc::{
    ConditionStatus, PodMetric, PodPhase, RESOURCE_CPU, ReplicaCalcConfig, ReplicaCalcError,
    ResourceReplicas, Tolerances, UtilizationRatio, ceil_i32, cpu_sample_unready,
    utilization_ratio_of_sums,
};

/// One selected pod as the calculator needs it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ResourcePod<'a> {
    /// `status.phase` (`None`: neither Pending, Running nor Failed).
    pub phase: Option<PodPhase>,
    /// The Ready condition's status (`None`: no Ready condition).
    pub ready: Option<ConditionStatus>,
    /// The Ready condition's `lastTransitionTime` (`None`: zero time).
    pub ready_last_transition_time: Option<i64>,
    /// `status.startTime`.
    pub start_time: Option<i64>,
    /// Whether `metadata.deletionTimestamp` is set.
    pub deleted: bool,
    /// The pod's request of the resource in milli-units, summed over its containers, or the
    /// name of the first container without a request for it.
    pub request: Result<i64, &'a str>,
    /// The timestamp of the pod's sample, if the metrics API returned one (even one
    /// without a value for the resource).
    pub sample_timestamp: Option<i64>,
    /// The pod's metric (`None`: no sample, or a sample without a value for the resource).
    pub metric: Option<PodMetric>,
}

/// Integer sums for `GetResourceUtilizationRatio`.
#[derive(Debug, Clone, Copy, Default)]
struct Sums {
    metrics: i128,
    requests: i128,
    entries: i128,
}

impl Sums {
    fn add(&mut self, metric: i64, request: i64) {
        self.metrics += i128::from(metric);
        self.requests += i128::from(request);
        self.entries += 1;
    }

    /// `metrics/utilization.go` GetResourceUtilizationRatio over the summed entries.
    fn ratio(&self, target_utilization: i32) -> Result<UtilizationRatio, ReplicaCalcError> {
        utilization_ratio_of_sums(
            self.metrics,
            self.requests,
            self.entries,
            target_utilization,
        )
    }
}

/// How `groupPods` classifies a pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Group {
    Ignored,
    Unready,
    Missing,
    Ready,
}

/// `GetResourceReplicas` for a Resource metric without a container: the same result as
/// [`super::replica_calc::get_resource_replicas`] on the equivalent named inputs.
/// `pod_name(i)` names pod `i` for the missing-request error.
#[allow(clippy::too_many_arguments)]
pub fn get_resource_replicas(
    current_replicas: i32,
    resource: &str,
    target_utilization: i32,
    tolerances: Tolerances,
    pods: &[ResourcePod<'_>],
    config: &ReplicaCalcConfig,
    now: i64,
    pod_name: &dyn Fn(usize) -> String,
) -> Result<ResourceReplicas, ReplicaCalcError> {
    // pod_metrics_from_samples: the first sample's timestamp; no samples is an error.
    let timestamp = pods
        .iter()
        .find_map(|p| p.sample_timestamp)
        .ok_or_else(|| ReplicaCalcError::NoMetricsReturned(resource.to_string()))?;
    if pods.is_empty() {
        return Err(ReplicaCalcError::NoPods);
    }
    let group = |p: &ResourcePod<'_>| -> Group {
        if p.deleted || p.phase == Some(PodPhase::Failed) {
            return Group::Ignored;
        }
        if p.phase == Some(PodPhase::Pending) {
            return Group::Unready;
        }
        let Some(metric) = p.metric else {
            return Group::Missing;
        };
        if resource == RESOURCE_CPU
            && cpu_sample_unready(
                p.ready,
                p.start_time,
                p.ready_last_transition_time,
                &metric,
                config,
                now,
            )
        {
            return Group::Unready;
        }
        Group::Ready
    };
    let (mut ready, mut unready, mut missing) = (0usize, 0usize, 0usize);
    for p in pods {
        match group(p) {
            Group::Ready => ready += 1,
            Group::Unready => unready += 1,
            Group::Missing => missing += 1,
            Group::Ignored => {}
        }
    }
    if ready == 0 {
        return Err(ReplicaCalcError::NoMetricsForTargetedPods);
    }
    // calculate_requests: every pod, in order; the first missing request is the error.
    for (i, p) in pods.iter().enumerate() {
        if let Err(container) = p.request {
            return Err(ReplicaCalcError::MissingRequest {
                resource: resource.to_string(),
                container: container.to_string(),
                pod: pod_name(i),
            });
        }
    }
    let request = |p: &ResourcePod<'_>| p.request.unwrap_or(0);
    let mut sums = Sums::default();
    for p in pods {
        if group(p) == Group::Ready
            && let Some(m) = p.metric
        {
            sums.add(m.value, request(p));
        }
    }
    let first = sums.ratio(target_utilization)?;
    let usage_ratio = first.usage_ratio;
    let result = |replicas: i32| ResourceReplicas {
        replicas,
        utilization: first.utilization,
        raw_utilization: first.raw_average_value,
        timestamp,
    };
    let scale_up_with_unready = unready > 0 && usage_ratio > 1.0;
    if !scale_up_with_unready && missing == 0 {
        if tolerances.is_within(usage_ratio) {
            return Ok(result(current_replicas));
        }
        return Ok(result(ceil_i32(usage_ratio * ready as f64)));
    }
    // The second pass: missing pods at 100% of their request (or the target when above
    // 100%) on a scale-down, at 0 on a scale-up; unready pods at 0 on a scale-up.
    let fallback = i64::from(target_utilization.max(100));
    for p in pods {
        match group(p) {
            Group::Missing if usage_ratio < 1.0 => {
                sums.add(request(p).saturating_mul(fallback) / 100, request(p));
            }
            Group::Missing if usage_ratio > 1.0 => sums.add(0, request(p)),
            Group::Unready if scale_up_with_unready => sums.add(0, request(p)),
            _ => {}
        }
    }
    let new_usage_ratio = sums.ratio(target_utilization)?.usage_ratio;
    if tolerances.is_within(new_usage_ratio)
        || (usage_ratio < 1.0 && new_usage_ratio > 1.0)
        || (usage_ratio > 1.0 && new_usage_ratio < 1.0)
    {
        return Ok(result(current_replicas));
    }
    let new_replicas = ceil_i32(new_usage_ratio * sums.entries as f64);
    if (new_usage_ratio < 1.0 && new_replicas > current_replicas)
        || (new_usage_ratio > 1.0 && new_replicas < current_replicas)
    {
        return Ok(result(current_replicas));
    }
    Ok(result(new_replicas))
}

#[cfg(test)]
mod tests {
    use super::super::replica_calc::{
        self as calc, ContainerUsage, HpaContainer, HpaPod, PodResourceSample, ResourceTarget,
    };
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    /// A generated pod: phase, readiness, times, its container requests (None = missing)
    /// and its sample (None = no sample; per container usage, None = lacks the resource).
    #[derive(Debug, Clone)]
    struct Gen {
        phase: Option<PodPhase>,
        ready: Option<ConditionStatus>,
        transition: Option<i64>,
        start: Option<i64>,
        deleted: bool,
        requests: Vec<Option<i64>>,
        sample: Option<(i64, i64, Vec<Option<i64>>)>,
    }

    fn gen_pod() -> impl Strategy<Value = Gen> {
        let phase = prop_oneof![
            Just(Some(PodPhase::Running)),
            Just(Some(PodPhase::Running)),
            Just(Some(PodPhase::Running)),
            Just(Some(PodPhase::Pending)),
            Just(Some(PodPhase::Failed)),
            Just(None),
        ];
        let cond = prop_oneof![
            Just(Some(ConditionStatus::True)),
            Just(Some(ConditionStatus::True)),
            Just(Some(ConditionStatus::False)),
            Just(None),
        ];
        let time = prop_oneof![Just(None), (900i64..1000).prop_map(Some)];
        let req = prop_oneof![
            Just(None),
            (0i64..2000).prop_map(Some),
            (1i64..2000).prop_map(Some)
        ];
        let usage = prop_oneof![
            Just(None),
            (0i64..4000).prop_map(Some),
            (0i64..4000).prop_map(Some)
        ];
        (
            phase,
            cond,
            time.clone(),
            time,
            prop::bool::weighted(0.1),
            prop::collection::vec(req, 0..3),
            prop::option::weighted(
                0.85,
                (950i64..1000, 10i64..60, prop::collection::vec(usage, 0..3)),
            ),
        )
            .prop_map(
                |(phase, ready, transition, start, deleted, requests, sample)| Gen {
                    phase,
                    ready,
                    transition,
                    start,
                    deleted,
                    requests,
                    sample,
                },
            )
    }

    fn reference(
        pods: &[Gen],
        resource: &str,
        current: i32,
        target: i32,
    ) -> Result<ResourceReplicas, ReplicaCalcError> {
        let name = |i: usize| format!("pod-{i}");
        let hpa_pods: Vec<HpaPod> = pods
            .iter()
            .enumerate()
            .map(|(i, g)| HpaPod {
                name: name(i),
                phase: g.phase,
                ready: g.ready,
                ready_last_transition_time: g.transition,
                start_time: g.start,
                deletion_timestamp: g.deleted.then_some(1),
                containers: g
                    .requests
                    .iter()
                    .enumerate()
                    .map(|(c, r)| HpaContainer {
                        name: format!("c{c}"),
                        requests_milli: r
                            .map(|v| BTreeMap::from([(resource.to_string(), v)]))
                            .unwrap_or_default(),
                    })
                    .collect(),
                restartable_init_containers: vec![],
            })
            .collect();
        let samples: Vec<PodResourceSample> = pods
            .iter()
            .enumerate()
            .filter_map(|(i, g)| {
                let (ts, window, usage) = g.sample.as_ref()?;
                Some(PodResourceSample {
                    pod_name: name(i),
                    timestamp: *ts,
                    window_seconds: *window,
                    containers: usage
                        .iter()
                        .enumerate()
                        .map(|(c, u)| ContainerUsage {
                            name: format!("c{c}"),
                            usage_milli: u
                                .map(|v| BTreeMap::from([(resource.to_string(), v)]))
                                .unwrap_or_default(),
                        })
                        .collect(),
                })
            })
            .collect();
        calc::get_resource_replicas(
            current,
            ResourceTarget {
                resource,
                container: None,
                target_utilization: target,
            },
            Tolerances::default(),
            &hpa_pods,
            &samples,
            &ReplicaCalcConfig::default(),
            1000,
        )
    }

    fn fast(
        pods: &[Gen],
        resource: &str,
        current: i32,
        target: i32,
    ) -> Result<ResourceReplicas, ReplicaCalcError> {
        let names: Vec<String> = (0..3).map(|c| format!("c{c}")).collect();
        let records: Vec<ResourcePod<'_>> = pods
            .iter()
            .map(|g| {
                let mut request = Ok(0i64);
                for (c, r) in g.requests.iter().enumerate() {
                    match r {
                        Some(v) => request = request.map(|s: i64| s.saturating_add(*v)),
                        None => {
                            request = Err(names[c].as_str());
                            break;
                        }
                    }
                }
                let metric = g.sample.as_ref().and_then(|(ts, window, usage)| {
                    if usage.is_empty() {
                        return None;
                    }
                    let mut sum = 0i64;
                    for u in usage {
                        sum = sum.saturating_add((*u)?);
                    }
                    Some(PodMetric {
                        timestamp: *ts,
                        window_seconds: *window,
                        value: sum,
                    })
                });
                ResourcePod {
                    phase: g.phase,
                    ready: g.ready,
                    ready_last_transition_time: g.transition,
                    start_time: g.start,
                    deleted: g.deleted,
                    request,
                    sample_timestamp: g.sample.as_ref().map(|(ts, _, _)| *ts),
                    metric,
                }
            })
            .collect();
        get_resource_replicas(
            current,
            resource,
            target,
            Tolerances::default(),
            &records,
            &ReplicaCalcConfig::default(),
            1000,
            &|i| format!("pod-{i}"),
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        /// The fast path decides exactly as the reference port, errors included.
        #[test]
        fn agrees_with_the_reference_calculator(
            pods in prop::collection::vec(gen_pod(), 0..8),
            cpu in any::<bool>(),
            current in 1i32..12,
            target in 1i32..150,
        ) {
            let resource = if cpu { "cpu" } else { "memory" };
            prop_assert_eq!(
                fast(&pods, resource, current, target),
                reference(&pods, resource, current, target)
            );
        }
    }
}
