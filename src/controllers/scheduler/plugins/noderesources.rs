//! NodeResourcesFit scoring math: LeastAllocated, MostAllocated and RequestedToCapacityRatio,
//! plus the scheduler's non-zero request defaults and pod request aggregation.
//!
//! Ports of (all under `pkg/scheduler/framework/plugins/noderesources/` unless noted):
//! * `least_allocated.go`: `leastResourceScorer`, `leastRequestedScore`;
//! * `most_allocated.go`: `mostResourceScorer`, `mostRequestedScore`;
//! * `requested_to_capacity_ratio.go`: `requestedToCapacityRatioScorer`,
//!   `buildRequestedToCapacityRatioScorerFunction`, `scaledUtilization`;
//! * `resource_allocation.go`: `calculateResourceAllocatableRequest`, `calculatePodResourceRequest`;
//! * `pkg/scheduler/util/pod_resources.go`: `DefaultMilliCPURequest`, `DefaultMemoryRequest`,
//!   `GetRequestForResource`;
//! * `staging/src/k8s.io/component-helpers/resource/helpers.go`: `AggregateContainerRequests`
//!   (sum of containers, max with init containers, sidecar accounting).
//!
//! Everything here works on plain integers (CPU in millicores, everything else in base units)
//! so the hot path never touches quantities or allocates: the caller converts requests once
//! (see [`ResourceRequests`]) and keeps per-node sums incrementally.

use std::collections::BTreeMap;

use crate::api::quantity::Quantity;
use crate::controllers::scheduler::normalize::{
    FunctionShapePoint, MAX_CUSTOM_PRIORITY_SCORE, MAX_NODE_SCORE, broken_linear_function,
};

/// Upstream `schedutil.DefaultMilliCPURequest`: CPU counted for a container without a CPU request.
pub const DEFAULT_MILLI_CPU_REQUEST: i64 = 100;

/// Upstream `schedutil.DefaultMemoryRequest`: memory counted for a container without a memory
/// request (200 MiB).
pub const DEFAULT_MEMORY_REQUEST: i64 = 200 * 1024 * 1024;

/// Resource name `cpu`.
pub const RESOURCE_CPU: &str = "cpu";
/// Resource name `memory`.
pub const RESOURCE_MEMORY: &str = "memory";
/// Resource name `ephemeral-storage`.
pub const RESOURCE_EPHEMERAL_STORAGE: &str = "ephemeral-storage";

/// How NodeResourcesFit turns per-resource utilisation into a node score
/// (upstream `config.ScoringStrategy`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScoringStrategy {
    /// Favour nodes with more free capacity (the default).
    LeastAllocated,
    /// Favour nodes with less free capacity (bin packing).
    MostAllocated,
    /// Piecewise-linear score of utilisation.
    RequestedToCapacityRatio {
        /// Shape points `(utilization 0-100, score 0-10)`, sorted by utilisation. Scores are
        /// scaled by 10 to the 0-100 node score range when the scorer is built.
        shape: Vec<(i64, i64)>,
    },
}

/// One configured resource and its weight (upstream `config.ResourceSpec`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceWeight {
    /// Resource name, e.g. `cpu`, `memory`, `example.com/gpu`.
    pub name: String,
    /// Weight, 1-100 after validation.
    pub weight: i64,
}

impl ResourceWeight {
    /// Convenience constructor.
    pub fn new(name: impl Into<String>, weight: i64) -> ResourceWeight {
        ResourceWeight {
            name: name.into(),
            weight,
        }
    }
}

/// Upstream default resources for NodeResourcesFit scoring: cpu and memory with weight 1.
pub fn default_resources() -> Vec<ResourceWeight> {
    vec![
        ResourceWeight::new(RESOURCE_CPU, 1),
        ResourceWeight::new(RESOURCE_MEMORY, 1),
    ]
}

/// Per-resource LeastAllocated score: `(capacity - requested) * 100 / capacity`, 0 when
/// `capacity` is 0 or `requested > capacity` (upstream `leastRequestedScore`).
pub fn least_allocated_score(requested: i64, capacity: i64) -> i64 {
    if capacity == 0 || requested > capacity {
        return 0;
    }
    // i64 on the hot path; i128 only when (capacity - requested) * 100 would overflow.
    match (capacity - requested).checked_mul(MAX_NODE_SCORE) {
        Some(v) => v / capacity,
        None => {
            (i128::from(capacity - requested) * i128::from(MAX_NODE_SCORE) / i128::from(capacity))
                as i64
        }
    }
}

/// Per-resource MostAllocated score: `min(requested, capacity) * 100 / capacity`, 0 when
/// `capacity` is 0 (upstream `mostRequestedScore`).
pub fn most_allocated_score(requested: i64, capacity: i64) -> i64 {
    if capacity == 0 {
        return 0;
    }
    let requested = requested.min(capacity);
    match requested.checked_mul(MAX_NODE_SCORE) {
        Some(v) => v / capacity,
        None => (i128::from(requested) * i128::from(MAX_NODE_SCORE) / i128::from(capacity)) as i64,
    }
}

/// Upstream `scaledUtilization`: `requested * max / capacity` with `requested` clamped to
/// `[0, capacity]`, exact (128-bit intermediate).
pub fn scaled_utilization(requested: i64, capacity: i64, max: i64) -> i64 {
    if capacity <= 0 || requested <= 0 {
        return 0;
    }
    if requested >= capacity {
        return max;
    }
    (i128::from(requested) * i128::from(max) / i128::from(capacity)) as i64
}

/// Scales a RequestedToCapacityRatio shape from the 0-10 config scale to node scores 0-100
/// (upstream `requestedToCapacityRatioScorer`).
pub fn scale_shape(shape: &[(i64, i64)]) -> Vec<FunctionShapePoint> {
    shape
        .iter()
        .map(|&(utilization, score)| FunctionShapePoint {
            utilization,
            score: score * (MAX_NODE_SCORE / MAX_CUSTOM_PRIORITY_SCORE),
        })
        .collect()
}

/// Per-resource RequestedToCapacityRatio score over an already scaled shape: f(100) when
/// `capacity` is 0 or `requested > capacity`, else f(floor(requested * 100 / capacity))
/// (upstream `resourceScoringFunction` inside `buildRequestedToCapacityRatioScorerFunction`).
pub fn requested_to_capacity_ratio_score(
    scaled_shape: &[FunctionShapePoint],
    requested: i64,
    capacity: i64,
) -> i64 {
    const MAX_UTILIZATION: i64 = 100;
    if capacity == 0 || requested > capacity {
        return broken_linear_function(scaled_shape, MAX_UTILIZATION);
    }
    broken_linear_function(
        scaled_shape,
        scaled_utilization(requested, capacity, MAX_UTILIZATION),
    )
}

/// A ready-to-use NodeResourcesFit scorer: strategy, configured resources and (for
/// RequestedToCapacityRatio) the pre-scaled shape. Build once per profile, call
/// [`ResourceScorer::score`] per node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceScorer {
    strategy: ScoringStrategy,
    resources: Vec<ResourceWeight>,
    scaled_shape: Vec<FunctionShapePoint>,
}

impl ResourceScorer {
    /// Builds a scorer; the shape (if any) is scaled x10 here.
    pub fn new(strategy: ScoringStrategy, resources: Vec<ResourceWeight>) -> ResourceScorer {
        let scaled_shape = match &strategy {
            ScoringStrategy::RequestedToCapacityRatio { shape } => scale_shape(shape),
            _ => Vec::new(),
        };
        ResourceScorer {
            strategy,
            resources,
            scaled_shape,
        }
    }

    /// The configured resources, in configuration order (the order of the slices passed to
    /// [`ResourceScorer::score`]).
    pub fn resources(&self) -> &[ResourceWeight] {
        &self.resources
    }

    /// The scoring strategy.
    pub fn strategy(&self) -> &ScoringStrategy {
        &self.strategy
    }

    /// Node score from per-resource `requested` and `allocatable` values, both in the order of
    /// [`ResourceScorer::resources`] (use [`allocatable_and_requested`] to fill them).
    /// Resources with allocatable 0 are left out; see [`node_score`].
    pub fn score(&self, requested: &[i64], allocatable: &[i64]) -> i64 {
        node_score(
            &self.strategy,
            &self.scaled_shape,
            &self.resources,
            requested,
            allocatable,
        )
    }
}

/// Combines per-resource scores into the node score (0-100).
///
/// Resources with `allocatable == 0` are left out (the caller encodes "left out" as (0, 0), see
/// [`allocatable_and_requested`]). LeastAllocated / MostAllocated:
/// `floor(sum(s * w) / sum(w))`; RequestedToCapacityRatio additionally leaves out resources
/// whose score is 0 and rounds `sum(s * w) / sum(w)` half away from zero in floating point.
/// 0 when no weight remains. `scaled_shape` is only used for RequestedToCapacityRatio and must
/// be the x10-scaled shape ([`scale_shape`]). Missing trailing entries of `requested` /
/// `allocatable` count as left out.
pub fn node_score(
    strategy: &ScoringStrategy,
    scaled_shape: &[FunctionShapePoint],
    resources: &[ResourceWeight],
    requested: &[i64],
    allocatable: &[i64],
) -> i64 {
    let mut node_score: i64 = 0;
    let mut weight_sum: i64 = 0;
    for ((rw, &req), &alloc) in resources.iter().zip(requested).zip(allocatable) {
        if alloc == 0 {
            continue;
        }
        let s = match strategy {
            ScoringStrategy::LeastAllocated => least_allocated_score(req, alloc),
            ScoringStrategy::MostAllocated => most_allocated_score(req, alloc),
            ScoringStrategy::RequestedToCapacityRatio { .. } => {
                let s = requested_to_capacity_ratio_score(scaled_shape, req, alloc);
                if s <= 0 {
                    continue;
                }
                s
            }
        };
        node_score += s * rw.weight;
        weight_sum += rw.weight;
    }
    if weight_sum == 0 {
        return 0;
    }
    match strategy {
        ScoringStrategy::RequestedToCapacityRatio { .. } => {
            (node_score as f64 / weight_sum as f64).round() as i64
        }
        _ => node_score / weight_sum,
    }
}

/// Upstream `schedutil.IsScalarResourceName` (approximation without qualified-name
/// validation): extended resources (domain-prefixed, not `requests.`), prefixed native
/// resources (`kubernetes.io/...`), `hugepages-*` and `attachable-volumes-*`.
pub fn is_scalar_resource_name(name: &str) -> bool {
    name.starts_with("hugepages-")
        || name.starts_with("attachable-volumes-")
        || (name.contains('/') && !name.starts_with("requests."))
}

/// Upstream `calculateResourceAllocatableRequest`: the `(allocatable, requested)` pair of one
/// resource on one node, or `(0, 0)` when the resource is left out of scoring.
///
/// * `pod_request`: the incoming pod's request ([`pod_request`], with `non_zero` for
///   Least/Most/RTCR, without for BalancedAllocation);
/// * `node_allocatable`: the node's allocatable (`None` when the node does not list it);
/// * `node_requested`: sum over pods already on the node (non-zero sums for cpu/memory in
///   Least/Most/RTCR, actual sums otherwise; ephemeral-storage and extended resources always
///   use actual sums).
///
/// Left out: an extended (scalar) resource the pod does not request, a scalar resource the node
/// does not list, and any other non-cpu/memory/ephemeral-storage resource (e.g. `pods`).
pub fn allocatable_and_requested(
    resource: &str,
    pod_request: i64,
    node_allocatable: Option<i64>,
    node_requested: i64,
) -> (i64, i64) {
    let scalar = is_scalar_resource_name(resource);
    if pod_request == 0 && scalar {
        return (0, 0);
    }
    match resource {
        RESOURCE_CPU | RESOURCE_MEMORY | RESOURCE_EPHEMERAL_STORAGE => (
            node_allocatable.unwrap_or(0),
            node_requested.saturating_add(pod_request),
        ),
        _ if scalar => match node_allocatable {
            Some(a) => (a, node_requested.saturating_add(pod_request)),
            None => (0, 0),
        },
        _ => (0, 0),
    }
}

/// Read access to one container's requests in scheduler integers: CPU in millicores, every
/// other resource in base units rounded up (`Quantity.MilliValue()` / `Quantity.Value()`).
pub trait ResourceRequests {
    /// The request for `resource`, or `None` when the container does not list it.
    fn request(&self, resource: &str) -> Option<i64>;
}

impl ResourceRequests for BTreeMap<String, i64> {
    fn request(&self, resource: &str) -> Option<i64> {
        self.get(resource).copied()
    }
}

impl ResourceRequests for BTreeMap<String, Quantity> {
    fn request(&self, resource: &str) -> Option<i64> {
        let q = self.get(resource)?;
        Some(if resource == RESOURCE_CPU {
            q.milli_value()
        } else {
            q.value()
        })
    }
}

impl<T: ResourceRequests + ?Sized> ResourceRequests for &T {
    fn request(&self, resource: &str) -> Option<i64> {
        (**self).request(resource)
    }
}

/// Upstream `schedutil.GetRequestForResource`: one container's request for `resource`; with
/// `non_zero`, a missing (not an explicit `0`) cpu / memory request counts as
/// [`DEFAULT_MILLI_CPU_REQUEST`] / [`DEFAULT_MEMORY_REQUEST`].
pub fn container_request<R: ResourceRequests + ?Sized>(
    resource: &str,
    requests: &R,
    non_zero: bool,
) -> i64 {
    match requests.request(resource) {
        Some(v) => v,
        None if non_zero && resource == RESOURCE_CPU => DEFAULT_MILLI_CPU_REQUEST,
        None if non_zero && resource == RESOURCE_MEMORY => DEFAULT_MEMORY_REQUEST,
        None => 0,
    }
}

/// A pod's request for one resource (upstream `AggregateContainerRequests` restricted to one
/// resource, with `NonMissingContainerRequests` = the non-zero defaults when `non_zero`).
///
/// `containers` are summed; `init_containers` are `(requests, restartable)` in spec order,
/// where `restartable` marks sidecars (`restartPolicy: Always`): a sidecar adds to the running
/// sum and to every later init container, a regular init container counts its own request
/// plus the sidecars started before it; the result is the max of the container sum and every
/// init step. Pod overhead is not included (add it yourself). A pod with no containers
/// requests 0 even with `non_zero`.
pub fn pod_request<'a, R, C, I>(
    resource: &str,
    containers: C,
    init_containers: I,
    non_zero: bool,
) -> i64
where
    R: ResourceRequests + ?Sized + 'a,
    C: IntoIterator<Item = &'a R>,
    I: IntoIterator<Item = (&'a R, bool)>,
{
    let mut total: i64 = 0;
    for c in containers {
        total = total.saturating_add(container_request(resource, c, non_zero));
    }
    let mut restartable: i64 = 0;
    let mut init_max: i64 = 0;
    for (c, is_sidecar) in init_containers {
        let v = container_request(resource, c, non_zero);
        let step = if is_sidecar {
            total = total.saturating_add(v);
            restartable = restartable.saturating_add(v);
            restartable
        } else {
            v.saturating_add(restartable)
        };
        init_max = init_max.max(step);
    }
    total.max(init_max)
}

/// Non-zero request of a pod made of plain containers (no init containers), i.e. the value the
/// scheduler uses for cpu / memory in Least/Most/RequestedToCapacityRatio and in
/// `NodeInfo.NonZeroRequested`.
pub fn pod_nonzero_request<'a, R, C>(resource: &str, containers: C) -> i64
where
    R: ResourceRequests + ?Sized + 'a,
    C: IntoIterator<Item = &'a R>,
{
    pod_request::<R, C, [(&R, bool); 0]>(resource, containers, [], true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reqs(pairs: &[(&str, i64)]) -> BTreeMap<String, i64> {
        pairs.iter().map(|&(k, v)| (k.to_string(), v)).collect()
    }

    #[test]
    fn per_resource_scores() {
        assert_eq!(least_allocated_score(3000, 4000), 25);
        assert_eq!(least_allocated_score(5000, 4000), 0);
        assert_eq!(least_allocated_score(0, 0), 0);
        assert_eq!(least_allocated_score(0, 10), 100);
        assert_eq!(most_allocated_score(3000, 4000), 75);
        assert_eq!(most_allocated_score(5000, 4000), 100);
        assert_eq!(most_allocated_score(1, 0), 0);
        assert_eq!(scaled_utilization(-1, 10, 100), 0);
        assert_eq!(scaled_utilization(i64::MAX - 1, i64::MAX, 100), 99);
        // Overflow safety: huge byte counts.
        assert_eq!(least_allocated_score(i64::MAX / 2, i64::MAX), 50);
    }

    fn score(strategy: ScoringStrategy, ws: &[(&str, i64)], req: &[i64], alloc: &[i64]) -> i64 {
        let resources = ws.iter().map(|&(n, w)| ResourceWeight::new(n, w)).collect();
        ResourceScorer::new(strategy, resources).score(req, alloc)
    }

    // Upstream least_allocated_test.go TestLeastAllocatedScoringStrategy rows (values already
    // reduced to requested/allocatable integers).
    #[test]
    fn least_allocated_rows() {
        let cm = [("cpu", 1), ("memory", 1)];
        // 'nothing scheduled, resources requested, differently sized nodes'
        assert_eq!(
            score(
                ScoringStrategy::LeastAllocated,
                &cm,
                &[3000, 5000],
                &[4000, 10000]
            ),
            37
        );
        assert_eq!(
            score(
                ScoringStrategy::LeastAllocated,
                &cm,
                &[3000, 5000],
                &[6000, 10000]
            ),
            50
        );
        // 'requested resources at node capacity': cpu 6000/6000, mem 0/10000 -> (0+100)/2
        assert_eq!(
            score(
                ScoringStrategy::LeastAllocated,
                &cm,
                &[6000, 0],
                &[6000, 10000]
            ),
            50
        );
        // 'requested resources exceed node capacity' -> 0 for that resource.
        assert_eq!(
            score(
                ScoringStrategy::LeastAllocated,
                &cm,
                &[7000, 10001],
                &[6000, 10000]
            ),
            0
        );
        // 'zero node resources': all resources left out -> 0.
        assert_eq!(
            score(ScoringStrategy::LeastAllocated, &cm, &[3000, 5000], &[0, 0]),
            0
        );
        // Weighted: memory 2, cpu 1 -> (50*2 + 25) / 3 = 41.
        assert_eq!(
            score(
                ScoringStrategy::LeastAllocated,
                &[("memory", 2), ("cpu", 1)],
                &[5000, 3000],
                &[10000, 4000]
            ),
            41
        );
    }

    // Upstream most_allocated_test.go TestMostAllocatedScoringStrategy rows.
    #[test]
    fn most_allocated_rows() {
        let cm = [("cpu", 1), ("memory", 1)];
        // 'nothing scheduled, resources requested, differently sized nodes'
        // node1 cpu 3000/4000=75 mem 5000/10000=50 -> 62; node2 cpu 50, mem 50 -> 50.
        assert_eq!(
            score(
                ScoringStrategy::MostAllocated,
                &cm,
                &[3000, 5000],
                &[4000, 10000]
            ),
            62
        );
        assert_eq!(
            score(
                ScoringStrategy::MostAllocated,
                &cm,
                &[3000, 5000],
                &[6000, 10000]
            ),
            50
        );
        // 'resources requested with more than the node, pods scheduled with resources'
        // cpu capped at 100.
        assert_eq!(
            score(
                ScoringStrategy::MostAllocated,
                &cm,
                &[8000, 5000],
                &[6000, 10000]
            ),
            75
        );
        // 'nothing scheduled, resources requested, with different weight on CPU and memory'
        // cpu weight 1: 75, memory weight 2: 50 -> (75 + 100) / 3 = 58.
        assert_eq!(
            score(
                ScoringStrategy::MostAllocated,
                &[("cpu", 1), ("memory", 2)],
                &[3000, 5000],
                &[4000, 10000]
            ),
            58
        );
    }

    // Upstream requested_to_capacity_ratio_test.go TestRequestedToCapacityRatioScoringStrategy:
    // shape {0,10},{100,0} (spread) and {0,0},{100,10} (bin packing), cpu+memory weight 1.
    #[test]
    fn requested_to_capacity_ratio_rows() {
        let cm = [("cpu", 1), ("memory", 1)];
        let spread = ScoringStrategy::RequestedToCapacityRatio {
            shape: vec![(0, 10), (100, 0)],
        };
        let pack = ScoringStrategy::RequestedToCapacityRatio {
            shape: vec![(0, 0), (100, 10)],
        };
        // 'nothing scheduled, nothing requested (default - least requested nodes have priority)':
        // pods without containers request nothing -> f(0) = 100 for both resources.
        assert_eq!(
            score(spread.clone(), &cm, &[0, 0], &[4_000_000, 10000]),
            100
        );
        // 'nothing scheduled, resources requested, differently sized nodes (default - least
        // requested nodes have priority)': 3000m/4000m cpu=25, 5000/10000 mem=50 -> 38 (round).
        assert_eq!(
            score(spread.clone(), &cm, &[3000, 5000], &[4000, 10000]),
            38
        );
        assert_eq!(score(spread, &cm, &[3000, 5000], &[6000, 10000]), 50);
        // bin packing: 75 and 50 -> 62.5 -> 63 (round half away from zero).
        assert_eq!(score(pack.clone(), &cm, &[3000, 5000], &[4000, 10000]), 63);
        // A resource scoring 0 is left out: cpu 0 util -> score 0, memory 50 -> 50.
        assert_eq!(score(pack, &cm, &[0, 5000], &[4000, 10000]), 50);
    }

    #[test]
    fn rtcr_extended_resource_rows() {
        // Upstream 'TestResourceBinPackingSingleExtended' style: shape {0,0},{100,1}
        // (scaled to 0..10), intel.com/foo weight 1, 2 of 4 used -> util 50 -> 5.
        let s = ScoringStrategy::RequestedToCapacityRatio {
            shape: vec![(0, 0), (100, 1)],
        };
        assert_eq!(score(s.clone(), &[("intel.com/foo", 1)], &[2], &[4]), 5);
        assert_eq!(score(s.clone(), &[("intel.com/foo", 1)], &[4], &[4]), 10);
        // TestResourceBinPackingMultipleExtended: foo weight 3, bar weight 5.
        let w = [("intel.com/foo", 3), ("intel.com/bar", 5)];
        // node1: foo 2/8 -> 2, bar 2/4 -> 5 -> round(31 / 8) = 4.
        assert_eq!(score(s.clone(), &w, &[2, 2], &[8, 4]), 4);
        // node2: foo 2/4 -> 5, bar 2/8 -> 2 -> round(25 / 8) = 3.
        assert_eq!(score(s, &w, &[2, 2], &[4, 8]), 3);
    }

    #[test]
    fn allocatable_requested_leave_out() {
        assert_eq!(
            allocatable_and_requested("example.com/ext", 0, Some(4), 1),
            (0, 0)
        );
        assert_eq!(
            allocatable_and_requested("example.com/ext", 1, Some(4), 1),
            (4, 2)
        );
        assert_eq!(
            allocatable_and_requested("example.com/ext", 1, None, 0),
            (0, 0)
        );
        assert_eq!(allocatable_and_requested("cpu", 0, None, 5), (0, 5));
        assert_eq!(allocatable_and_requested("memory", 7, Some(9), 1), (9, 8));
        assert_eq!(allocatable_and_requested("pods", 1, Some(110), 0), (0, 0));
        assert!(is_scalar_resource_name("hugepages-2Mi"));
        assert!(is_scalar_resource_name("kubernetes.io/batteries"));
        assert!(!is_scalar_resource_name("ephemeral-storage"));
    }

    #[test]
    fn nonzero_requests() {
        let empty = reqs(&[]);
        let zero = reqs(&[("cpu", 0), ("memory", 0)]);
        assert_eq!(container_request("cpu", &empty, true), 100);
        assert_eq!(
            container_request("memory", &empty, true),
            DEFAULT_MEMORY_REQUEST
        );
        assert_eq!(container_request("cpu", &empty, false), 0);
        assert_eq!(container_request("cpu", &zero, true), 0);
        assert_eq!(container_request("example.com/x", &empty, true), 0);
        // No containers -> nothing, even with defaults.
        let none: [&BTreeMap<String, i64>; 0] = [];
        assert_eq!(pod_nonzero_request("cpu", none), 0);
        let a = reqs(&[("cpu", 1000)]);
        assert_eq!(pod_nonzero_request("cpu", [&a, &empty]), 1100);
        assert_eq!(
            pod_nonzero_request("memory", [&a, &empty]),
            2 * DEFAULT_MEMORY_REQUEST
        );
    }

    // Upstream component-helpers resource/helpers_test.go TestPodResourceRequests
    // 'restartable init container' style rows.
    #[test]
    fn init_and_sidecar_aggregation() {
        let c = reqs(&[("cpu", 1000)]);
        let init_big = reqs(&[("cpu", 5000)]);
        let side = reqs(&[("cpu", 2000)]);
        // Regular init larger than containers dominates.
        assert_eq!(pod_request("cpu", [&c], [(&init_big, false)], false), 5000);
        // Sidecar adds to the running total: 1000 + 2000.
        assert_eq!(pod_request("cpu", [&c], [(&side, true)], false), 3000);
        // Sidecar then regular init: max(1000 + 2000, 5000 + 2000) = 7000.
        assert_eq!(
            pod_request("cpu", [&c], [(&side, true), (&init_big, false)], false),
            7000
        );
        // Regular init before the sidecar does not include it: max(3000, 5000) = 5000.
        assert_eq!(
            pod_request("cpu", [&c], [(&init_big, false), (&side, true)], false),
            5000
        );
    }
}
