//! Pure rules of the Deployment controller: fencepost resolution, rolling-update scaling of the
//! new and old ReplicaSets, proportional scaling, progress/completeness checks and history
//! cleanup.
//!
//! Port of pkg/controller/deployment/util/deployment_util.go, pkg/controller/deployment/rolling.go,
//! pkg/controller/deployment/sync.go and pkg/controller/deployment/progress.go, plus the
//! IntOrString scaling of k8s.io/apimachinery/pkg/util/intstr (GetScaledValueFromIntOrPercent).

use std::collections::BTreeMap;

/// Annotation recording the deployment's desired replicas on its ReplicaSets.
pub const DESIRED_REPLICAS_ANNOTATION: &str = "deployment.kubernetes.io/desired-replicas";
/// Annotation recording the deployment's replicas + maxSurge on its ReplicaSets.
pub const MAX_REPLICAS_ANNOTATION: &str = "deployment.kubernetes.io/max-replicas";
/// Annotation recording a ReplicaSet's revision.
pub const REVISION_ANNOTATION: &str = "deployment.kubernetes.io/revision";
/// Progressing condition reason: the new ReplicaSet is available (never times out).
pub const NEW_RS_AVAILABLE_REASON: &str = "NewReplicaSetAvailable";
/// Progressing condition reason: the progress deadline was exceeded.
pub const TIMED_OUT_REASON: &str = "ProgressDeadlineExceeded";
/// `progressDeadlineSeconds` / `revisionHistoryLimit` value meaning "none".
pub const NO_LIMIT: i32 = i32::MAX;

/// Errors of this module.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RulesError {
    /// An IntOrString string that is not `N%`.
    #[error("invalid IntOrString value {0:?}: not an integer percentage")]
    InvalidPercent(String),
}

/// An IntOrString of the rolling-update parameters: an absolute number or a percentage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntOrPercent {
    /// Absolute value.
    Int(i32),
    /// Percentage of the total (`"25%"` -> `Percent(25)`).
    Percent(i32),
}

impl IntOrPercent {
    /// Parses the string form, which must be `N%` (a string without `%` is invalid, as upstream).
    pub fn parse(s: &str) -> Result<Self, RulesError> {
        s.strip_suffix('%')
            .and_then(|n| n.parse::<i32>().ok())
            .map(IntOrPercent::Percent)
            .ok_or_else(|| RulesError::InvalidPercent(s.to_string()))
    }

    /// The value scaled against `total`: an integer as is, a percentage as
    /// ceil/floor(p * total / 100) computed in floating point.
    // Port of k8s.io/apimachinery/pkg/util/intstr: GetScaledValueFromIntOrPercent.
    pub fn scaled_value(&self, total: i32, round_up: bool) -> i32 {
        match *self {
            IntOrPercent::Int(v) => v,
            IntOrPercent::Percent(p) => {
                let x = f64::from(p) * f64::from(total) / 100.0;
                (if round_up { x.ceil() } else { x.floor() }) as i32
            }
        }
    }
}

/// A deployment strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Kill all old pods before creating new ones.
    Recreate,
    /// Rolling update with optional (unset = 0) surge / unavailability bounds.
    RollingUpdate {
        /// `maxSurge`.
        max_surge: Option<IntOrPercent>,
        /// `maxUnavailable`.
        max_unavailable: Option<IntOrPercent>,
    },
}

/// The deployment spec fields the rules use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeploymentParams {
    /// `spec.replicas`.
    pub replicas: i32,
    /// `spec.strategy`.
    pub strategy: Strategy,
}

/// Deployment status counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DeploymentStatusView {
    /// `status.replicas`.
    pub replicas: i32,
    /// `status.updatedReplicas`.
    pub updated_replicas: i32,
    /// `status.readyReplicas`.
    pub ready_replicas: i32,
    /// `status.availableReplicas`.
    pub available_replicas: i32,
    /// `status.observedGeneration`.
    pub observed_generation: i64,
}

/// The facts about one ReplicaSet the rules use.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RsView {
    /// Name (tie-break of the creation-time orderings).
    pub name: String,
    /// `metadata.creationTimestamp` (Unix seconds); `None` = unset (sorts oldest).
    pub creation_timestamp: Option<i64>,
    /// `spec.replicas`.
    pub replicas: i32,
    /// `status.availableReplicas`.
    pub available_replicas: i32,
    /// Parsed `deployment.kubernetes.io/desired-replicas` annotation.
    pub desired_replicas: Option<i32>,
    /// Parsed `deployment.kubernetes.io/max-replicas` annotation.
    pub max_replicas: Option<i32>,
}

/// Parses a replicas annotation like upstream `getIntFromAnnotation` (decimal integer, else none).
pub fn replicas_annotation(annotations: &BTreeMap<String, String>, key: &str) -> Option<i32> {
    annotations.get(key).and_then(|v| v.parse::<i32>().ok())
}

impl RsView {
    /// Fills the two replica annotations from an annotation map.
    pub fn with_annotations(mut self, annotations: &BTreeMap<String, String>) -> Self {
        self.desired_replicas = replicas_annotation(annotations, DESIRED_REPLICAS_ANNOTATION);
        self.max_replicas = replicas_annotation(annotations, MAX_REPLICAS_ANNOTATION);
        self
    }
}

/// Orders ReplicaSets oldest first (creation time, then name), like
/// `controller.ReplicaSetsByCreationTimestamp`.
pub fn older_first(a: &RsView, b: &RsView) -> std::cmp::Ordering {
    a.creation_timestamp
        .cmp(&b.creation_timestamp)
        .then_with(|| a.name.cmp(&b.name))
}

/// (surge, unavailable): maxSurge rounded up, maxUnavailable rounded down against `desired`
/// (unset = 0); when both are 0, unavailable becomes 1.
// Port of deployment_util.go: ResolveFenceposts.
pub fn resolve_fenceposts(
    max_surge: Option<IntOrPercent>,
    max_unavailable: Option<IntOrPercent>,
    desired: i32,
) -> (i32, i32) {
    let surge = max_surge.map_or(0, |v| v.scaled_value(desired, true));
    let mut unavailable = max_unavailable.map_or(0, |v| v.scaled_value(desired, false));
    if surge == 0 && unavailable == 0 {
        unavailable = 1;
    }
    (surge, unavailable)
}

/// maxSurge of a deployment (0 unless RollingUpdate).
// Port of deployment_util.go: MaxSurge.
pub fn max_surge(d: &DeploymentParams) -> i32 {
    match d.strategy {
        Strategy::Recreate => 0,
        Strategy::RollingUpdate {
            max_surge,
            max_unavailable,
        } => resolve_fenceposts(max_surge, max_unavailable, d.replicas).0,
    }
}

/// maxUnavailable of a deployment: 0 unless RollingUpdate with replicas > 0; capped at replicas.
// Port of deployment_util.go: MaxUnavailable.
pub fn max_unavailable(d: &DeploymentParams) -> i32 {
    match d.strategy {
        Strategy::RollingUpdate {
            max_surge,
            max_unavailable,
        } if d.replicas != 0 => {
            let (_, u) = resolve_fenceposts(max_surge, max_unavailable, d.replicas);
            u.min(d.replicas)
        }
        _ => 0,
    }
}

/// Minimum available pods: 0 for Recreate, else replicas - maxUnavailable.
// Port of deployment_util.go: MinAvailable.
pub fn min_available(d: &DeploymentParams) -> i32 {
    match d.strategy {
        Strategy::Recreate => 0,
        Strategy::RollingUpdate { .. } => d.replicas - max_unavailable(d),
    }
}

/// The new ReplicaSet's target size: `replicas` for Recreate; for RollingUpdate, grow by
/// min(maxTotal - current, replicas - new) while current (the sum of `all_rs_replicas`, exactly as
/// passed) is below maxTotal = replicas + surge.
// Port of deployment_util.go: NewRSNewReplicas.
pub fn new_rs_new_replicas(
    d: &DeploymentParams,
    all_rs_replicas: &[i32],
    new_rs_replicas: i32,
) -> i32 {
    match d.strategy {
        Strategy::Recreate => d.replicas,
        Strategy::RollingUpdate { max_surge, .. } => {
            let surge = max_surge.map_or(0, |v| v.scaled_value(d.replicas, true));
            let current: i32 = all_rs_replicas
                .iter()
                .fold(0i32, |acc, r| acc.wrapping_add(*r));
            let max_total = d.replicas + surge;
            if current >= max_total {
                return new_rs_replicas;
            }
            let scale_up = (max_total - current).min(d.replicas - new_rs_replicas);
            new_rs_replicas + scale_up
        }
    }
}

/// True when every status counter equals `replicas` and the generation has been observed.
// Port of deployment_util.go: DeploymentComplete.
pub fn deployment_complete(replicas: i32, generation: i64, status: &DeploymentStatusView) -> bool {
    status.updated_replicas == replicas
        && status.replicas == replicas
        && status.available_replicas == replicas
        && status.observed_generation >= generation
}

/// True when the new status shows progress over the old one.
// Port of deployment_util.go: DeploymentProgressing.
pub fn deployment_progressing(old: &DeploymentStatusView, new: &DeploymentStatusView) -> bool {
    let old_old = old.replicas - old.updated_replicas;
    let new_old = new.replicas - new.updated_replicas;
    new.updated_replicas > old.updated_replicas
        || new_old < old_old
        || new.ready_replicas > old.ready_replicas
        || new.available_replicas > old.available_replicas
}

/// The Progressing condition as far as the timeout check needs it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProgressingCondition {
    /// Condition reason.
    pub reason: String,
    /// `lastUpdateTime` (Unix seconds), `None` = unset (Go zero time).
    pub last_update_time: Option<i64>,
}

/// Whether a deployment has a progress deadline (set and not `i32::MAX`).
pub fn has_progress_deadline(progress_deadline_seconds: Option<i32>) -> bool {
    progress_deadline_seconds.is_some_and(|s| s != NO_LIMIT)
}

/// True when the deployment's progress deadline has passed.
// Port of deployment_util.go: DeploymentTimedOut.
pub fn deployment_timed_out(
    progress_deadline_seconds: Option<i32>,
    condition: Option<&ProgressingCondition>,
    now: i64,
) -> bool {
    let Some(deadline) = progress_deadline_seconds.filter(|s| *s != NO_LIMIT) else {
        return false;
    };
    let Some(cond) = condition else {
        return false;
    };
    if cond.reason == NEW_RS_AVAILABLE_REASON {
        return false;
    }
    if cond.reason == TIMED_OUT_REASON {
        return true;
    }
    match cond.last_update_time {
        // Go's zero time plus any deadline lies before any realistic `now`.
        None => true,
        Some(from) => from.saturating_add(i64::from(deadline)) < now,
    }
}

/// The share of a size change that `rs` gets during proportional scaling:
/// round(rs.replicas * (replicas + surge) / oldMax) - rs.replicas, where oldMax is the RS's
/// max-replicas annotation (absent or 0: `status_replicas`; 0 then: fraction 0).
// Port of deployment_util.go: getReplicaSetFraction.
pub fn replica_set_fraction(d: &DeploymentParams, status_replicas: i32, rs: &RsView) -> i32 {
    if d.replicas == 0 {
        return -rs.replicas;
    }
    let deployment_max = d.replicas + max_surge(d);
    let annotated = match rs.max_replicas {
        Some(v) if v != 0 => v,
        _ => status_replicas,
    };
    if annotated == 0 {
        return 0;
    }
    let new_size = f64::from(rs.replicas.wrapping_mul(deployment_max)) / f64::from(annotated);
    (new_size.round() as i32) - rs.replicas
}

/// How many replicas `rs` gains (or loses) given the total still to add / already added.
// Port of deployment_util.go: GetProportion.
pub fn get_proportion(
    d: &DeploymentParams,
    status_replicas: i32,
    rs: &RsView,
    to_add: i32,
    added: i32,
) -> i32 {
    if rs.replicas == 0 || to_add == 0 || to_add == added {
        return 0;
    }
    let fraction = replica_set_fraction(d, status_replicas, rs);
    let allowed = to_add - added;
    if to_add > 0 {
        fraction.min(allowed)
    } else {
        fraction.max(allowed)
    }
}

/// True when `rs` is the saturated new ReplicaSet: its size, desired-replicas annotation and
/// available replicas all equal `replicas`.
// Port of deployment_util.go: IsSaturated.
pub fn is_saturated(replicas: i32, rs: Option<&RsView>) -> bool {
    rs.is_some_and(|rs| {
        rs.replicas == replicas
            && rs.desired_replicas == Some(replicas)
            && rs.available_replicas == replicas
    })
}

/// Result of [`proportional_scale`]: sizes afterwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScaleResult {
    /// The new ReplicaSet's size (`None` without a new ReplicaSet).
    pub new_replicas: Option<i32>,
    /// The old ReplicaSets' sizes, in input order.
    pub old_replicas: Vec<i32>,
}

/// Resizes the ReplicaSets of a deployment whose size changed (also while paused).
// Port of pkg/controller/deployment/sync.go: scale (with FindActiveOrLatest, IsSaturated,
// FilterActiveReplicaSets, ReplicaSetsBySizeNewer / ReplicaSetsBySizeOlder and GetProportion).
pub fn proportional_scale(
    d: &DeploymentParams,
    status_replicas: i32,
    new_rs: Option<&RsView>,
    old_rss: &[RsView],
) -> ScaleResult {
    // Index usize::MAX stands for the new RS; others index `old_rss`.
    const NEW: usize = usize::MAX;
    let mut result = ScaleResult {
        new_replicas: new_rs.map(|r| r.replicas),
        old_replicas: old_rss.iter().map(|r| r.replicas).collect(),
    };
    let get = |i: usize| -> Option<&RsView> { if i == NEW { new_rs } else { old_rss.get(i) } };
    let set = |res: &mut ScaleResult, i: usize, v: i32| {
        if i == NEW {
            res.new_replicas = Some(v);
        } else if let Some(slot) = res.old_replicas.get_mut(i) {
            *slot = v;
        }
    };

    // FindActiveOrLatest: old RSes newest first, then the new RS; active = replicas > 0.
    let mut old_newest_first: Vec<usize> = (0..old_rss.len()).collect();
    old_newest_first.sort_by(|&a, &b| older_first(&old_rss[b], &old_rss[a]));
    let mut candidates = old_newest_first.clone();
    if new_rs.is_some() {
        candidates.push(NEW);
    }
    let active: Vec<usize> = candidates
        .iter()
        .copied()
        .filter(|&i| get(i).is_some_and(|r| r.replicas > 0))
        .collect();
    match active.len() {
        0 => {
            let latest = if new_rs.is_some() {
                Some(NEW)
            } else {
                old_newest_first.first().copied()
            };
            if let Some(i) = latest {
                set(&mut result, i, d.replicas);
            }
            return result;
        }
        1 => {
            set(&mut result, active[0], d.replicas);
            return result;
        }
        _ => {}
    }

    if is_saturated(d.replicas, new_rs) {
        for &i in &active {
            if i != NEW {
                set(&mut result, i, 0);
            }
        }
        return result;
    }

    if !matches!(d.strategy, Strategy::RollingUpdate { .. }) {
        return result;
    }
    let mut all: Vec<usize> = active;
    let total: i32 = all
        .iter()
        .filter_map(|&i| get(i))
        .fold(0i32, |acc, r| acc.wrapping_add(r.replicas));
    let allowed = if d.replicas > 0 {
        d.replicas + max_surge(d)
    } else {
        0
    };
    let to_add = allowed - total;
    let size = |i: usize| get(i).map_or(0, |r| r.replicas);
    if to_add > 0 {
        // ReplicaSetsBySizeNewer: bigger first; equal sizes newer first (name descending).
        all.sort_by(|&a, &b| match (get(a), get(b)) {
            (Some(ra), Some(rb)) => size(b).cmp(&size(a)).then_with(|| older_first(rb, ra)),
            _ => std::cmp::Ordering::Equal,
        });
    } else if to_add < 0 {
        // ReplicaSetsBySizeOlder: bigger first; equal sizes older first (name ascending).
        all.sort_by(|&a, &b| match (get(a), get(b)) {
            (Some(ra), Some(rb)) => size(b).cmp(&size(a)).then_with(|| older_first(ra, rb)),
            _ => std::cmp::Ordering::Equal,
        });
    }
    let mut added = 0;
    let mut new_sizes: Vec<(usize, i32)> = Vec::with_capacity(all.len());
    for &i in &all {
        let Some(rs) = get(i) else { continue };
        if to_add != 0 {
            let p = get_proportion(d, status_replicas, rs, to_add, added);
            new_sizes.push((i, rs.replicas + p));
            added += p;
        } else {
            new_sizes.push((i, rs.replicas));
        }
    }
    if let Some(first) = new_sizes.first_mut()
        && to_add != 0
    {
        first.1 = (first.1 + to_add - added).max(0);
    }
    for (i, v) in new_sizes {
        set(&mut result, i, v);
    }
    result
}

/// Rolling update, new side: the new ReplicaSet's size afterwards, `None` when not scaled.
// Port of pkg/controller/deployment/rolling.go: reconcileNewReplicaSet.
pub fn reconcile_new_replica_set(
    d: &DeploymentParams,
    new_rs: &RsView,
    old_rss: &[RsView],
) -> Option<i32> {
    if new_rs.replicas == d.replicas {
        return None;
    }
    if new_rs.replicas > d.replicas {
        return Some(d.replicas);
    }
    let mut all: Vec<i32> = old_rss.iter().map(|r| r.replicas).collect();
    all.push(new_rs.replicas);
    let target = new_rs_new_replicas(d, &all, new_rs.replicas);
    (target != new_rs.replicas).then_some(target)
}

/// Scales down unhealthy replicas of the old ReplicaSets (given oldest first), at most
/// `max_cleanup_count` in total; returns the number removed and updates `replicas` in place.
// Port of rolling.go: cleanupUnhealthyReplicas.
pub fn cleanup_unhealthy_replicas(old_oldest_first: &mut [RsView], max_cleanup_count: i32) -> i32 {
    let mut total = 0;
    for rs in old_oldest_first.iter_mut() {
        if total >= max_cleanup_count {
            break;
        }
        if rs.replicas == 0 || rs.replicas == rs.available_replicas {
            continue;
        }
        let n = (max_cleanup_count - total).min(rs.replicas - rs.available_replicas);
        let new_count = rs.replicas - n;
        if new_count > rs.replicas {
            // Upstream reports an error here (more unhealthy than replicas); stop like it does.
            break;
        }
        rs.replicas = new_count;
        total += n;
    }
    total
}

/// Scales down old ReplicaSets (given oldest first) as far as availability allows; returns the
/// number removed and updates `replicas` in place.
// Port of rolling.go: scaleDownOldReplicaSetsForRollingUpdate.
pub fn scale_down_old_replica_sets(
    d: &DeploymentParams,
    new_rs: Option<&RsView>,
    old_oldest_first: &mut [RsView],
) -> i32 {
    let min_avail = d.replicas - max_unavailable(d);
    let available: i32 = old_oldest_first
        .iter()
        .chain(new_rs)
        .fold(0i32, |acc, r| acc.wrapping_add(r.available_replicas));
    if available <= min_avail {
        return 0;
    }
    let budget = available - min_avail;
    let mut total = 0;
    for rs in old_oldest_first.iter_mut() {
        if total >= budget {
            break;
        }
        if rs.replicas == 0 {
            continue;
        }
        let n = rs.replicas.min(budget - total);
        rs.replicas -= n;
        total += n;
    }
    total
}

/// Rolling update, old side: cleans up unhealthy old replicas and scales old ReplicaSets down
/// (given oldest first, updated in place); returns the total removed (scaled iff > 0).
// Port of rolling.go: reconcileOldReplicaSets.
pub fn reconcile_old_replica_sets(
    d: &DeploymentParams,
    new_rs: Option<&RsView>,
    old_oldest_first: &mut [RsView],
) -> i32 {
    let old_count: i32 = old_oldest_first
        .iter()
        .fold(0i32, |a, r| a.wrapping_add(r.replicas));
    if old_count == 0 {
        return 0;
    }
    let all_count = old_count.wrapping_add(new_rs.map_or(0, |r| r.replicas));
    let min_avail = d.replicas - max_unavailable(d);
    let new_unavailable = new_rs.map_or(0, |r| r.replicas - r.available_replicas);
    let max_scaled_down = all_count - min_avail - new_unavailable;
    if max_scaled_down <= 0 {
        return 0;
    }
    let cleaned = cleanup_unhealthy_replicas(old_oldest_first, max_scaled_down);
    let scaled = scale_down_old_replica_sets(d, new_rs, old_oldest_first);
    cleaned + scaled
}

/// One old ReplicaSet as the history cleanup sees it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HistoryRs {
    /// Name.
    pub name: String,
    /// `spec.replicas`.
    pub replicas: i32,
    /// `status.replicas`.
    pub status_replicas: i32,
    /// `metadata.deletionTimestamp` (Unix seconds), `None` if not being deleted.
    pub deletion_timestamp: Option<i64>,
    /// `metadata.generation`.
    pub generation: i64,
    /// `status.observedGeneration`.
    pub observed_generation: i64,
}

/// Indices (into `old_by_revision`, oldest revision first) of the old ReplicaSets to delete so
/// that at most `revision_history_limit` alive ones remain; RSes still holding replicas or with
/// unobserved generations are skipped but count against the excess.
// Port of pkg/controller/deployment/sync.go: cleanupDeployment.
pub fn cleanup_history(
    revision_history_limit: Option<i32>,
    old_by_revision: &[HistoryRs],
) -> Vec<usize> {
    let Some(limit) = revision_history_limit.filter(|l| *l != NO_LIMIT) else {
        return Vec::new();
    };
    let alive: Vec<usize> = (0..old_by_revision.len())
        .filter(|&i| old_by_revision[i].deletion_timestamp.is_none())
        .collect();
    let diff = i64::try_from(alive.len()).unwrap_or(i64::MAX) - i64::from(limit);
    if diff <= 0 {
        return Vec::new();
    }
    alive
        .into_iter()
        .take(usize::try_from(diff).unwrap_or(usize::MAX))
        .filter(|&i| {
            let rs = &old_by_revision[i];
            rs.status_replicas == 0
                && rs.replicas == 0
                && rs.generation <= rs.observed_generation
                && rs.deletion_timestamp.is_none()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rolling(replicas: i32, surge: i32, unavail: i32) -> DeploymentParams {
        DeploymentParams {
            replicas,
            strategy: Strategy::RollingUpdate {
                max_surge: Some(IntOrPercent::Int(surge)),
                max_unavailable: Some(IntOrPercent::Int(unavail)),
            },
        }
    }

    fn rs(name: &str, ts: i64, replicas: i32, avail: i32) -> RsView {
        RsView {
            name: name.into(),
            creation_timestamp: Some(ts),
            replicas,
            available_replicas: avail,
            ..Default::default()
        }
    }

    #[test]
    fn parse_percent() {
        assert_eq!(IntOrPercent::parse("25%"), Ok(IntOrPercent::Percent(25)));
        assert!(IntOrPercent::parse("25").is_err());
        assert!(IntOrPercent::parse("x%").is_err());
    }

    #[test]
    fn fenceposts() {
        assert_eq!(
            resolve_fenceposts(None, Some(IntOrPercent::Percent(39)), 10),
            (0, 3)
        );
        assert_eq!(resolve_fenceposts(None, None, 10), (0, 1));
        assert_eq!(
            resolve_fenceposts(
                Some(IntOrPercent::Percent(25)),
                Some(IntOrPercent::Percent(25)),
                10
            ),
            (3, 2)
        );
    }

    #[test]
    fn max_and_min_available() {
        assert_eq!(max_unavailable(&rolling(5, 1, 10)), 5);
        assert_eq!(max_unavailable(&rolling(0, 1, 10)), 0);
        assert_eq!(min_available(&rolling(10, 1, 5)), 5);
        let recreate = DeploymentParams {
            replicas: 10,
            strategy: Strategy::Recreate,
        };
        assert_eq!(min_available(&recreate), 0);
        assert_eq!(max_unavailable(&recreate), 0);
    }

    #[test]
    fn new_rs_replicas() {
        let d = DeploymentParams {
            replicas: 3,
            strategy: Strategy::Recreate,
        };
        assert_eq!(new_rs_new_replicas(&d, &[5], 1), 3);
        assert_eq!(new_rs_new_replicas(&rolling(10, 2, 0), &[10, 0], 0), 2);
        assert_eq!(new_rs_new_replicas(&rolling(10, 2, 0), &[12, 0], 0), 0);
    }

    #[test]
    fn timed_out() {
        let c = ProgressingCondition {
            reason: String::new(),
            last_update_time: Some(100),
        };
        assert!(deployment_timed_out(Some(10), Some(&c), 111));
        assert!(!deployment_timed_out(Some(10), Some(&c), 110));
        assert!(!deployment_timed_out(None, Some(&c), 1000));
        assert!(!deployment_timed_out(Some(NO_LIMIT), Some(&c), 1000));
        let done = ProgressingCondition {
            reason: NEW_RS_AVAILABLE_REASON.into(),
            last_update_time: Some(0),
        };
        assert!(!deployment_timed_out(Some(10), Some(&done), 1000));
    }

    #[test]
    fn fraction() {
        let mut r = rs("a", 0, 50, 0);
        r.max_replicas = Some(100);
        assert_eq!(replica_set_fraction(&rolling(120, 0, 1), 0, &r), 10);
        r.max_replicas = Some(130);
        assert_eq!(replica_set_fraction(&rolling(100, 10, 1), 0, &r), -8);
        r.max_replicas = None;
        assert_eq!(replica_set_fraction(&rolling(100, 10, 1), 0, &r), 0);
        assert_eq!(replica_set_fraction(&rolling(0, 10, 1), 0, &r), -50);
    }

    #[test]
    fn proportional_leftover() {
        let ann = |mut r: RsView, v: i32| {
            r.desired_replicas = Some(v);
            r.max_replicas = Some(v);
            r
        };
        let new = ann(rs("foo-v3", 3, 1, 0), 3);
        let old = vec![ann(rs("foo-v2", 2, 1, 0), 3), ann(rs("foo-v1", 1, 1, 0), 3)];
        let res = proportional_scale(&rolling(4, 0, 0), 0, Some(&new), &old);
        assert_eq!(res.new_replicas, Some(2));
        assert_eq!(res.old_replicas, vec![1, 1]);
    }

    #[test]
    fn proportional_single_active_and_saturated() {
        let new = rs("new", 2, 0, 0);
        let old = vec![rs("old", 1, 3, 3)];
        let res = proportional_scale(&rolling(5, 1, 0), 0, Some(&new), &old);
        assert_eq!(res.old_replicas, vec![5]);
        let mut new = rs("new", 2, 5, 5);
        new.desired_replicas = Some(5);
        let res = proportional_scale(&rolling(5, 1, 0), 0, Some(&new), &old);
        assert_eq!(res.old_replicas, vec![0]);
        assert_eq!(res.new_replicas, Some(5));
    }

    #[test]
    fn rolling_old_side() {
        let mut old = vec![rs("old", 1, 10, 10)];
        let new = rs("new", 2, 0, 0);
        assert_eq!(
            reconcile_old_replica_sets(&rolling(10, 0, 0), Some(&new), &mut old),
            1
        );
        assert_eq!(old[0].replicas, 9);
        let mut old = vec![rs("old", 1, 10, 8)];
        assert_eq!(cleanup_unhealthy_replicas(&mut old, 3), 2);
        assert_eq!(old[0].replicas, 8);
        let mut old = vec![rs("old", 1, 0, 10)];
        assert_eq!(
            scale_down_old_replica_sets(&rolling(10, 0, 2), None, &mut old),
            0
        );
    }

    #[test]
    fn reconcile_new() {
        let old = vec![rs("old", 1, 10, 0)];
        assert_eq!(
            reconcile_new_replica_set(&rolling(10, 2, 0), &rs("n", 2, 0, 0), &old),
            Some(2)
        );
        assert_eq!(
            reconcile_new_replica_set(&rolling(10, 2, 0), &rs("n", 2, 11, 0), &old),
            Some(10)
        );
        assert_eq!(
            reconcile_new_replica_set(&rolling(10, 2, 0), &rs("n", 2, 10, 0), &old),
            None
        );
    }

    #[test]
    fn history() {
        let h = |name: &str, replicas: i32| HistoryRs {
            name: name.into(),
            replicas,
            ..Default::default()
        };
        let rss = vec![h("a", 0), h("b", 1), h("c", 0)];
        assert_eq!(cleanup_history(Some(1), &rss), vec![0]);
        assert_eq!(cleanup_history(Some(0), &rss), vec![0, 2]);
        assert!(cleanup_history(None, &rss).is_empty());
    }

    #[test]
    fn progress_and_complete() {
        let s = |replicas, updated, ready, avail| DeploymentStatusView {
            replicas,
            updated_replicas: updated,
            ready_replicas: ready,
            available_replicas: avail,
            observed_generation: 1,
        };
        assert!(!deployment_progressing(&s(10, 7, 3, 3), &s(10, 6, 3, 3)));
        assert!(deployment_progressing(&s(10, 6, 3, 3), &s(10, 7, 3, 3)));
        assert!(deployment_complete(5, 1, &s(5, 5, 5, 5)));
        assert!(!deployment_complete(5, 2, &s(5, 5, 5, 5)));
    }
}
