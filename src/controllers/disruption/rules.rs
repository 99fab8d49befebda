//! PodDisruptionBudget rules: the status the disruption controller computes and the decision
//! of the Eviction API.
//!
//! Port of pkg/controller/disruption/disruption.go (getExpectedPodCount, getExpectedScale,
//! countHealthyPods, updatePdbStatus) and pkg/registry/core/pod/storage/eviction.go (Create,
//! canIgnorePDB, checkAndDecrement).

use crate::api::selector::{LabelSelector, Labels};
use crate::controllers::deployment::rules::IntOrPercent;

/// How long an evicted pod stays in `disruptedPods` before it counts as healthy again (s).
pub const DELETION_TIMEOUT_SECONDS: i64 = 120;

/// Errors of the PDB status computation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PdbError {
    /// A matching pod's controller is unknown (upstream "found no controllers for pod").
    #[error("found no controllers for pod {pod:?}")]
    ControllerNotFound {
        /// The pod's name.
        pod: String,
    },
    /// Neither or both of `minAvailable` / `maxUnavailable` are set.
    #[error("exactly one of minAvailable and maxUnavailable must be set")]
    InvalidBudget,
}

/// A controller reference: kind and name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ControllerRef {
    /// Kind (`ReplicaSet`, `StatefulSet`, ...).
    pub kind: String,
    /// Name.
    pub name: String,
}

/// A scalable controller and its `spec.replicas`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScaledController {
    /// Which controller.
    pub reference: ControllerRef,
    /// Its scale.
    pub replicas: i32,
}

/// The facts about one pod the disruption controller uses.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PdbPod {
    /// Pod name.
    pub name: String,
    /// Pod labels.
    pub labels: Labels,
    /// Whether the Ready condition is `True`.
    pub ready: bool,
    /// Deletion timestamp, `None` if not being deleted.
    pub deletion_timestamp: Option<i64>,
    /// The owning controller, if any.
    pub controller_ref: Option<ControllerRef>,
    /// When the Eviction API recorded this pod in `status.disruptedPods`, if it did.
    pub disrupted_at: Option<i64>,
}

/// The PDB budget (exactly one field set).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budget {
    /// `minAvailable`.
    MinAvailable(IntOrPercent),
    /// `maxUnavailable`.
    MaxUnavailable(IntOrPercent),
}

/// The computed PDB status counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PdbStatus {
    /// `disruptionsAllowed`.
    pub disruptions_allowed: i32,
    /// `currentHealthy`.
    pub current_healthy: i32,
    /// `desiredHealthy`.
    pub desired_healthy: i32,
    /// `expectedPods`.
    pub expected_pods: i32,
}

/// Sum of the scales of the distinct controllers of `pods`; pods without a controller are
/// ignored; a controller missing from `controllers` is an error.
// Port of disruption.go: getExpectedScale.
pub fn expected_scale(pods: &[&PdbPod], controllers: &[ScaledController]) -> Result<i32, PdbError> {
    let mut seen: Vec<&ControllerRef> = Vec::new();
    let mut total: i32 = 0;
    for pod in pods {
        let Some(r) = &pod.controller_ref else {
            continue;
        };
        if seen.contains(&r) {
            continue;
        }
        let c = controllers
            .iter()
            .find(|c| &c.reference == r)
            .ok_or_else(|| PdbError::ControllerNotFound {
                pod: pod.name.clone(),
            })?;
        seen.push(r);
        total = total.wrapping_add(c.replicas);
    }
    Ok(total)
}

/// Pods counted healthy: ready, not being deleted and not recently evicted.
// Port of disruption.go: countHealthyPods.
pub fn count_healthy(pods: &[&PdbPod], now: i64) -> i32 {
    let n = pods
        .iter()
        .filter(|p| p.deletion_timestamp.is_none())
        .filter(|p| {
            p.disrupted_at
                .is_none_or(|t| t.saturating_add(DELETION_TIMEOUT_SECONDS) <= now)
        })
        .filter(|p| p.ready)
        .count();
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// The PDB status for the pods matching `selector`.
// Port of disruption.go: getExpectedPodCount + updatePdbStatus.
pub fn compute_status(
    budget: Budget,
    selector: &LabelSelector,
    controllers: &[ScaledController],
    pods: &[PdbPod],
    now: i64,
) -> Result<PdbStatus, PdbError> {
    let matching: Vec<&PdbPod> = pods
        .iter()
        .filter(|p| selector.matches(&p.labels))
        .collect();
    let (expected, desired) = match budget {
        Budget::MaxUnavailable(mu) => {
            let expected = expected_scale(&matching, controllers)?;
            let max_unavailable = mu.scaled_value(expected, true);
            (expected, (expected - max_unavailable).max(0))
        }
        Budget::MinAvailable(IntOrPercent::Int(v)) => {
            (i32::try_from(matching.len()).unwrap_or(i32::MAX), v)
        }
        Budget::MinAvailable(p @ IntOrPercent::Percent(_)) => {
            let expected = expected_scale(&matching, controllers)?;
            (expected, p.scaled_value(expected, true))
        }
    };
    let current = count_healthy(&matching, now);
    let mut allowed = current - desired;
    if expected <= 0 || allowed <= 0 {
        allowed = 0;
    }
    Ok(PdbStatus {
        disruptions_allowed: allowed,
        current_healthy: current,
        desired_healthy: desired,
        expected_pods: expected,
    })
}

/// `spec.unhealthyPodEvictionPolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnhealthyPodEvictionPolicy {
    /// Unready pods may be evicted only while the budget is met (the default behaviour).
    IfHealthyBudget,
    /// Unready pods may always be evicted.
    AlwaysAllow,
}

/// A PDB as the Eviction API sees it (spec policy + status).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvictionPdb {
    /// `metadata.generation`.
    pub generation: i64,
    /// `status.observedGeneration`.
    pub observed_generation: i64,
    /// `spec.unhealthyPodEvictionPolicy` (`None` = unset).
    pub unhealthy_pod_eviction_policy: Option<UnhealthyPodEvictionPolicy>,
    /// `status.currentHealthy`.
    pub current_healthy: i32,
    /// `status.desiredHealthy`.
    pub desired_healthy: i32,
    /// `status.disruptionsAllowed`.
    pub disruptions_allowed: i32,
}

/// The pod being evicted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvictionPod {
    /// `status.phase`.
    pub phase: String,
    /// Whether the Ready condition is `True`.
    pub ready: bool,
    /// Deletion timestamp, `None` if not being deleted.
    pub deletion_timestamp: Option<i64>,
}

/// Outcome of an eviction request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvictionOutcome {
    /// The pod is deleted.
    Evicted,
    /// HTTP 429: budget exhausted or PDB status stale.
    TooManyRequests,
    /// HTTP 500: more than one PDB matches the pod.
    InternalError,
    /// HTTP 403: the PDB has negative disruptionsAllowed.
    Forbidden,
}

impl EvictionOutcome {
    /// Name used in conformance output.
    pub fn as_str(&self) -> &'static str {
        match self {
            EvictionOutcome::Evicted => "Evicted",
            EvictionOutcome::TooManyRequests => "TooManyRequests",
            EvictionOutcome::InternalError => "InternalError",
            EvictionOutcome::Forbidden => "Forbidden",
        }
    }
}

/// Decides an eviction of `pod` given the PDBs whose selector matches it; on a budgeted
/// eviction the PDB's `disruptions_allowed` is decremented in place.
// Port of pkg/registry/core/pod/storage/eviction.go: EvictionREST.Create / checkAndDecrement.
pub fn evict(pod: &EvictionPod, pdbs: &mut [EvictionPdb]) -> EvictionOutcome {
    // canIgnorePDB
    if matches!(pod.phase.as_str(), "Succeeded" | "Failed" | "Pending")
        || pod.deletion_timestamp.is_some()
    {
        return EvictionOutcome::Evicted;
    }
    if pdbs.len() > 1 {
        return EvictionOutcome::InternalError;
    }
    let Some(pdb) = pdbs.first_mut() else {
        return EvictionOutcome::Evicted;
    };
    if !pod.ready {
        if pdb.unhealthy_pod_eviction_policy == Some(UnhealthyPodEvictionPolicy::AlwaysAllow) {
            return EvictionOutcome::Evicted;
        }
        if pdb.current_healthy >= pdb.desired_healthy && pdb.desired_healthy > 0 {
            return EvictionOutcome::Evicted;
        }
    }
    if pdb.observed_generation < pdb.generation {
        return EvictionOutcome::TooManyRequests;
    }
    if pdb.disruptions_allowed < 0 {
        return EvictionOutcome::Forbidden;
    }
    if pdb.disruptions_allowed == 0 {
        return EvictionOutcome::TooManyRequests;
    }
    pdb.disruptions_allowed -= 1;
    EvictionOutcome::Evicted
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str, ready: bool, ctrl: Option<(&str, &str)>) -> PdbPod {
        let mut labels = Labels::new();
        labels.insert("foo".into(), "bar".into());
        PdbPod {
            name: name.into(),
            labels,
            ready,
            controller_ref: ctrl.map(|(k, n)| ControllerRef {
                kind: k.into(),
                name: n.into(),
            }),
            ..Default::default()
        }
    }

    fn ctrl(kind: &str, name: &str, replicas: i32) -> ScaledController {
        ScaledController {
            reference: ControllerRef {
                kind: kind.into(),
                name: name.into(),
            },
            replicas,
        }
    }

    #[test]
    fn min_available_int() {
        let s = compute_status(
            Budget::MinAvailable(IntOrPercent::Int(3)),
            &LabelSelector::everything(),
            &[],
            &[pod("a", true, None)],
            0,
        )
        .unwrap();
        assert_eq!(
            s,
            PdbStatus {
                disruptions_allowed: 0,
                current_healthy: 1,
                desired_healthy: 3,
                expected_pods: 1
            }
        );
    }

    #[test]
    fn percent_and_max_unavailable() {
        let pods = vec![
            pod("a", true, Some(("RC", "rc"))),
            pod("b", true, Some(("RC", "rc"))),
        ];
        let s = compute_status(
            Budget::MinAvailable(IntOrPercent::Percent(1)),
            &LabelSelector::everything(),
            &[ctrl("RC", "rc", 1)],
            &pods,
            0,
        )
        .unwrap();
        assert_eq!(
            s,
            PdbStatus {
                disruptions_allowed: 1,
                current_healthy: 2,
                desired_healthy: 1,
                expected_pods: 1
            }
        );
        let s = compute_status(
            Budget::MaxUnavailable(IntOrPercent::Percent(30)),
            &LabelSelector::everything(),
            &[ctrl("RC", "rc", 3)],
            &pods[..1],
            0,
        )
        .unwrap();
        assert_eq!(s.desired_healthy, 2);
        let err = compute_status(
            Budget::MaxUnavailable(IntOrPercent::Int(1)),
            &LabelSelector::everything(),
            &[],
            &pods,
            0,
        );
        assert!(err.is_err());
    }

    #[test]
    fn recently_disrupted_not_healthy() {
        let mut p = pod("a", true, None);
        p.disrupted_at = Some(100);
        assert_eq!(count_healthy(&[&p], 150), 0);
        assert_eq!(count_healthy(&[&p], 220), 1);
    }

    fn pdb(allowed: i32) -> EvictionPdb {
        EvictionPdb {
            generation: 1,
            observed_generation: 1,
            unhealthy_pod_eviction_policy: None,
            current_healthy: 3,
            desired_healthy: 3,
            disruptions_allowed: allowed,
        }
    }

    #[test]
    fn eviction_decisions() {
        let running = EvictionPod {
            phase: "Running".into(),
            ready: true,
            deletion_timestamp: None,
        };
        let mut pdbs = [pdb(1)];
        assert_eq!(evict(&running, &mut pdbs), EvictionOutcome::Evicted);
        assert_eq!(pdbs[0].disruptions_allowed, 0);
        assert_eq!(evict(&running, &mut pdbs), EvictionOutcome::TooManyRequests);
        assert_eq!(evict(&running, &mut [pdb(-1)]), EvictionOutcome::Forbidden);
        assert_eq!(
            evict(&running, &mut [pdb(1), pdb(1)]),
            EvictionOutcome::InternalError
        );
        assert_eq!(evict(&running, &mut []), EvictionOutcome::Evicted);
        let pending = EvictionPod {
            phase: "Pending".into(),
            ..running.clone()
        };
        assert_eq!(evict(&pending, &mut [pdb(0)]), EvictionOutcome::Evicted);
        let unready = EvictionPod {
            ready: false,
            ..running.clone()
        };
        assert_eq!(evict(&unready, &mut [pdb(0)]), EvictionOutcome::Evicted);
        let mut stale = pdb(5);
        stale.generation = 2;
        assert_eq!(
            evict(&running, &mut [stale]),
            EvictionOutcome::TooManyRequests
        );
    }
}
