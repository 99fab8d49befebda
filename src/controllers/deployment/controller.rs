//! The Deployment controller loop: owns ReplicaSets through controller references,
//! creates the new ReplicaSet for the current pod template (`<name>-<hash>` with the
//! `pod-template-hash` label), rolls out with the RollingUpdate or Recreate strategy,
//! scales proportionally when `spec.replicas` changes mid-rollout, only scales while
//! paused, keeps `status` and the Progressing/Available conditions, detects
//! `ProgressDeadlineExceeded` and cleans up old revisions.
//!
//! Port of pkg/controller/deployment: deployment_controller.go (`syncDeployment`,
//! `getReplicaSetsForDeployment`), sync.go (`sync`, `scale`, `getNewReplicaSet`,
//! `isScalingEvent`, `cleanupDeployment`, `calculateStatus`, `scaleReplicaSet`),
//! rolling.go (`rolloutRolling`), recreate.go (`rolloutRecreate`, `oldPodsRunning`),
//! progress.go (`syncRolloutStatus`, `requeueStuckDeployment`) and
//! util/deployment_util.go (annotations, conditions). The arithmetic lives in
//! [`super::rules`]; this module only gathers the ReplicaSets, calls the rules and
//! writes the results. The client side of `kubectl rollout undo`
//! (staging/src/k8s.io/kubectl/pkg/polymorphichelpers/rollback.go) is [`rollback`].
//!
//! Owned ReplicaSets are claimed as upstream's ClaimReplicaSets does: orphans whose labels
//! match the selector are adopted, owned ones that stop matching are released.
//!
//! Conditions are kept in the controller's own state ([`DeploymentController::conditions`])
//! since the store's `DeploymentStatus` has no conditions.

use super::rules::{
    self, DeploymentParams, DeploymentStatusView, HistoryRs, IntOrPercent, RsView, Strategy,
};
use crate::api::objects::{
    ConditionStatus, Deployment, DeploymentStatus, DeploymentStrategy, Object, PodTemplate,
    ReplicaSetStatus,
};
use crate::api::selector::{Operator, Requirement};
use crate::api::{Change, Kind, ObjectMeta, Op, OwnerRef, ReplicaSet, Store, Uid};
use crate::controllers::{Controller, Ctx, Key, Next, WorkQueue};
use crate::engine::{SimDuration, SimTime};
use std::collections::BTreeMap;

/// The label added to a Deployment's ReplicaSets and pods (`DefaultDeploymentUniqueLabelKey`).
pub const POD_TEMPLATE_HASH_LABEL: &str = "pod-template-hash";
/// Annotation keeping the revisions a ReplicaSet had before a rollback made it new again.
pub const REVISION_HISTORY_ANNOTATION: &str = "deployment.kubernetes.io/revision-history";
/// Length limit of the revision-history annotation (the controller's
/// `maxRevisionHistoryLengthInChars`, 2000 by default).
const MAX_REVISION_HISTORY_CHARS: usize = 2000;
/// Event reason of `kubectl rollout undo` to a revision that does not exist.
pub const ROLLBACK_REVISION_NOT_FOUND: &str = "DeploymentRollbackRevisionNotFound";

/// Progressing reasons (util/deployment_util.go).
const NEW_RS_REASON: &str = "NewReplicaSetCreated";
const FOUND_NEW_RS_REASON: &str = "FoundNewReplicaSet";
const RS_UPDATED_REASON: &str = "ReplicaSetUpdated";
const PAUSED_REASON: &str = "DeploymentPaused";
const RESUMED_REASON: &str = "DeploymentResumed";
const MIN_AVAILABLE_REASON: &str = "MinimumReplicasAvailable";
const MIN_UNAVAILABLE_REASON: &str = "MinimumReplicasUnavailable";

/// Annotations never copied between a Deployment and its ReplicaSets
/// (util/deployment_util.go annotationsToSkip).
const ANNOTATIONS_TO_SKIP: [&str; 5] = [
    "kubectl.kubernetes.io/last-applied-configuration",
    rules::REVISION_ANNOTATION,
    REVISION_HISTORY_ANNOTATION,
    rules::DESIRED_REPLICAS_ANNOTATION,
    rules::MAX_REPLICAS_ANNOTATION,
];

/// One deployment condition (`status.conditions[]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// `status`.
    pub status: ConditionStatus,
    /// `reason`.
    pub reason: &'static str,
    /// `message`.
    pub message: String,
    /// `lastUpdateTime`.
    pub last_update: SimTime,
    /// `lastTransitionTime`.
    pub last_transition: SimTime,
}

impl Condition {
    fn new(status: ConditionStatus, reason: &'static str, message: String, now: SimTime) -> Self {
        Condition {
            status,
            reason,
            message,
            last_update: now,
            last_transition: now,
        }
    }
}

/// A deployment's Available and Progressing conditions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conditions {
    /// `Available`.
    pub available: Option<Condition>,
    /// `Progressing`.
    pub progressing: Option<Condition>,
}

impl Conditions {
    /// Whether `status` already holds exactly these conditions (no allocation).
    pub fn matches_status(&self, status: &[crate::api::objects::DeploymentCondition]) -> bool {
        let mine = [
            ("Available", &self.available),
            ("Progressing", &self.progressing),
        ];
        let mut it = status.iter();
        for (t, c) in mine {
            let Some(c) = c else { continue };
            match it.next() {
                Some(s)
                    if s.condition_type == t
                        && s.status == c.status
                        && s.reason == c.reason
                        && s.message == c.message
                        && s.last_update == c.last_update
                        && s.last_transition == c.last_transition => {}
                _ => return false,
            }
        }
        it.next().is_none()
    }

    /// The conditions as `status.conditions` entries.
    pub fn to_status(&self) -> Vec<crate::api::objects::DeploymentCondition> {
        [
            ("Available", &self.available),
            ("Progressing", &self.progressing),
        ]
        .into_iter()
        .filter_map(|(t, c)| {
            c.as_ref()
                .map(|c| crate::api::objects::DeploymentCondition {
                    condition_type: t.to_string(),
                    status: c.status,
                    reason: c.reason.to_string(),
                    message: c.message.clone(),
                    last_update: c.last_update,
                    last_transition: c.last_transition,
                })
        })
        .collect()
    }
}

/// Port of util/deployment_util.go SetDeploymentCondition: no change when status and
/// reason are the same; the transition time is kept when only the reason changes.
fn set_condition(slot: &mut Option<Condition>, mut c: Condition) {
    if let Some(cur) = slot.as_ref() {
        if cur.status == c.status && cur.reason == c.reason {
            return;
        }
        if cur.status == c.status {
            c.last_transition = cur.last_transition;
        }
    }
    *slot = Some(c);
}

/// The Deployment controller.
#[derive(Debug, Default)]
pub struct DeploymentController {
    conditions: BTreeMap<Uid, Conditions>,
    collisions: BTreeMap<Uid, u32>,
    /// The progress-deadline check already asked for, per deployment (one timer per
    /// instant instead of one per sync).
    deadline_timers: BTreeMap<Uid, SimTime>,
    /// The work queue's rate limiter for rate-limited requeues.
    limiter: RateLimiter,
}

/// client-go's default controller rate limiter (workqueue.DefaultControllerRateLimiter):
/// the larger of a per-item exponential delay (5 ms base; reset by every successful sync,
/// so 5 ms here) and a token bucket shared by all items (10 per second, burst 100).
#[derive(Debug, Clone)]
struct RateLimiter {
    tokens: f64,
    last: SimTime,
}

impl Default for RateLimiter {
    fn default() -> Self {
        RateLimiter {
            tokens: 100.0,
            last: SimTime::ZERO,
        }
    }
}

impl RateLimiter {
    const QPS: f64 = 10.0;
    const BURST: f64 = 100.0;

    /// Reserves one token at `now` and returns how long the requeue waits.
    fn delay(&mut self, now: SimTime) -> SimDuration {
        let elapsed = now.since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * Self::QPS).min(Self::BURST) - 1.0;
        let wait = if self.tokens >= 0.0 {
            0.0
        } else {
            -self.tokens / Self::QPS
        };
        SimDuration::from_secs_f64(wait).max(SimDuration::from_millis(5))
    }
}

impl DeploymentController {
    /// A new controller.
    pub fn new() -> Self {
        Self::default()
    }

    /// The conditions recorded for the deployment with this uid.
    pub fn conditions(&self, uid: Uid) -> Option<&Conditions> {
        self.conditions.get(&uid)
    }
}

/// Parses the string form of `maxSurge`/`maxUnavailable` kept in the object (`"1"` or `"25%"`).
fn int_or_percent(s: &str) -> Option<IntOrPercent> {
    if s.ends_with('%') {
        IntOrPercent::parse(s).ok()
    } else {
        s.trim().parse::<i32>().ok().map(IntOrPercent::Int)
    }
}

/// The rules' view of a deployment's spec.
pub fn params(d: &Deployment) -> DeploymentParams {
    let strategy = match &d.strategy {
        DeploymentStrategy::Recreate => Strategy::Recreate,
        DeploymentStrategy::RollingUpdate {
            max_surge,
            max_unavailable,
        } => Strategy::RollingUpdate {
            max_surge: int_or_percent(max_surge),
            max_unavailable: int_or_percent(max_unavailable),
        },
    };
    DeploymentParams {
        replicas: d.replicas,
        strategy,
    }
}

fn status_view(s: &DeploymentStatus) -> DeploymentStatusView {
    DeploymentStatusView {
        replicas: s.replicas,
        updated_replicas: s.updated_replicas,
        ready_replicas: s.ready_replicas,
        available_replicas: s.available_replicas,
        observed_generation: s.observed_generation,
    }
}

/// Seconds as an API object carries them (metav1.Time has second precision).
fn secs(t: SimTime) -> i64 {
    t.as_secs() as i64
}

/// The rules' view of a ReplicaSet.
pub fn rs_view(rs: &ReplicaSet) -> RsView {
    RsView {
        name: rs.meta.name.clone(),
        creation_timestamp: Some(secs(rs.meta.creation)),
        replicas: rs.replicas,
        available_replicas: rs.status.available_replicas,
        ..RsView::default()
    }
    .with_annotations(&rs.meta.annotations)
}

/// A ReplicaSet's revision (util/deployment_util.go Revision); unparsable = 0.
pub fn revision(rs: &ReplicaSet) -> i64 {
    rs.meta
        .annotations
        .get(rules::REVISION_ANNOTATION)
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(0)
}

/// Whether two templates are equal once the `pod-template-hash` label is ignored
/// (util/deployment_util.go EqualIgnoreHash).
pub fn equal_ignore_hash(a: &PodTemplate, b: &PodTemplate) -> bool {
    // The labels without the hash label, compared in (sorted) order without copying them.
    fn strip(t: &PodTemplate) -> impl Iterator<Item = (&String, &String)> {
        t.labels
            .iter()
            .filter(|(k, _)| k.as_str() != POD_TEMPLATE_HASH_LABEL)
    }
    a.annotations == b.annotations && strip(a).eq(strip(b)) && a.spec == b.spec
}

/// Alphabet of upstream `rand.SafeEncodeString` (k8s.io/apimachinery/pkg/util/rand).
const SAFE_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// The pod-template hash: FNV-1a (32 bit) over a canonical JSON rendering of the template
/// (labels and annotations are sorted maps), then the collision count's four
/// little-endian bytes when non-zero, rendered as upstream `ComputeHash` does: the decimal
/// digits of the hash mapped through the SafeEncodeString alphabet. Upstream hashes a
/// spew dump of the Go object instead, so the values differ from a real cluster's.
pub fn template_hash(t: &PodTemplate, collision_count: u32) -> String {
    let text = serde_json::to_string(t).unwrap_or_default();
    let mut h: u32 = 0x811c_9dc5;
    let mut feed = |b: u8| {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    };
    for b in text.bytes() {
        feed(b);
    }
    if collision_count > 0 {
        for b in collision_count.to_le_bytes() {
            feed(b);
        }
    }
    h.to_string()
        .bytes()
        .map(|b| SAFE_ALPHABET[usize::from(b) % SAFE_ALPHABET.len()] as char)
        .collect()
}

/// The ReplicaSets a deployment controls (same namespace, controller reference to its
/// uid), oldest first (controller.ReplicaSetsByCreationTimestamp).
pub fn owned_replica_sets(store: &Store, d: &Deployment) -> Vec<u32> {
    // The store's owner index: no scan over every ReplicaSet.
    let mut v: Vec<(RsView, u32)> = store
        .replicasets_owned_by(d.meta.uid)
        .filter_map(|id| store.replicasets.get(id).map(|rs| (id, rs)))
        .filter(|(_, rs)| {
            rs.meta.namespace == d.meta.namespace
                && rs
                    .meta
                    .controller_ref()
                    .is_some_and(|o| o.kind == Kind::Deployment && o.uid == d.meta.uid)
        })
        .map(|(id, rs)| (rs_view(rs), id))
        .collect();
    v.sort_by(|a, b| rules::older_first(&a.0, &b.0));
    v.into_iter().map(|(_, id)| id).collect()
}

/// Adopts orphan ReplicaSets whose labels match the deployment's selector and releases
/// owned ones that no longer match (pkg/controller/controller_ref_manager.go
/// ClaimReplicaSets, as deployment_controller.go getReplicaSetsForDeployment uses it).
fn claim_replica_sets(d: &Deployment, ctx: &mut Ctx<'_>) {
    let mut adopt = Vec::new();
    let mut release = Vec::new();
    // Only the deployment's own ReplicaSets and the orphans can change hands.
    let candidates: Vec<u32> = ctx
        .store
        .replicasets_owned_by(d.meta.uid)
        .chain(ctx.store.orphan_replicasets())
        .collect();
    for id in candidates {
        let Some(rs) = ctx.store.replicasets.get(id) else {
            continue;
        };
        if rs.meta.namespace != d.meta.namespace {
            continue;
        }
        let matches = d.selector.matches(&rs.meta.labels);
        match rs.meta.controller_ref() {
            Some(o) if o.kind == Kind::Deployment && o.uid == d.meta.uid => {
                if !matches && d.meta.deletion.is_none() {
                    release.push(id);
                }
            }
            Some(_) => {}
            None => {
                if matches && rs.meta.deletion.is_none() && d.meta.deletion.is_none() {
                    adopt.push(id);
                }
            }
        }
    }
    let uid = d.meta.uid;
    for id in release {
        ctx.store
            .update_rs(Kind::ReplicaSet, id, ctx.now, false, |r| {
                r.meta.owners.retain(|o| !(o.controller && o.uid == uid));
            });
    }
    for id in adopt {
        let owner = OwnerRef {
            kind: Kind::Deployment,
            name: d.meta.name.clone(),
            uid,
            controller: true,
        };
        ctx.store
            .update_rs(Kind::ReplicaSet, id, ctx.now, false, |r| {
                r.meta.owners.push(owner)
            });
    }
}

/// The deployment owning a ReplicaSet, if any.
fn owner_deployment(store: &Store, rs: &ReplicaSet) -> Option<u32> {
    let o = rs.meta.controller_ref()?;
    if o.kind != Kind::Deployment {
        return None;
    }
    let id = store.deployments.id_of(&rs.meta.namespace, &o.name)?;
    (store.deployments.get(id)?.meta.uid == o.uid).then_some(id)
}

/// Copies the deployment's annotations (except the skipped ones) onto a ReplicaSet's;
/// returns whether anything changed (util/deployment_util.go copyDeploymentAnnotationsToReplicaSet).
fn copy_annotations(d: &Deployment, to: &mut BTreeMap<String, String>) -> bool {
    let mut changed = false;
    for (k, v) in &d.meta.annotations {
        if ANNOTATIONS_TO_SKIP.contains(&k.as_str()) || to.get(k) == Some(v) {
            continue;
        }
        to.insert(k.clone(), v.clone());
        changed = true;
    }
    changed
}

/// Sets the desired/max replicas annotations; returns whether they changed
/// (util/deployment_util.go SetReplicasAnnotations).
fn set_replicas_annotations(a: &mut BTreeMap<String, String>, desired: i32, max: i32) -> bool {
    let mut changed = false;
    for (k, v) in [
        (rules::DESIRED_REPLICAS_ANNOTATION, desired),
        (rules::MAX_REPLICAS_ANNOTATION, max),
    ] {
        let v = v.to_string();
        if a.get(k) != Some(&v) {
            a.insert(k.to_string(), v);
            changed = true;
        }
    }
    changed
}

/// Revision bookkeeping of the new ReplicaSet (util/deployment_util.go
/// SetNewReplicaSetAnnotations): annotations copied from the deployment, the revision raised
/// to `new_revision` (remembering the previous one in the revision history), and for a
/// ReplicaSet about to be created the replicas annotations. Returns whether anything changed.
fn set_new_rs_annotations(
    d: &Deployment,
    a: &mut BTreeMap<String, String>,
    new_revision: i64,
    exists: bool,
) -> bool {
    let mut changed = copy_annotations(d, a);
    let old = a.get(rules::REVISION_ANNOTATION).cloned();
    let old_int = match old.as_deref() {
        None | Some("") => 0,
        Some(s) => match s.parse::<i64>() {
            Ok(v) => v,
            Err(_) => return false,
        },
    };
    if old_int < new_revision {
        a.insert(rules::REVISION_ANNOTATION.into(), new_revision.to_string());
        changed = true;
        // A ReplicaSet that had a revision becomes new again (a rollback): keep the old
        // revisions, dropping the oldest beyond the length limit.
        if let Some(old) = old {
            let history = a
                .get(REVISION_HISTORY_ANNOTATION)
                .cloned()
                .unwrap_or_default();
            if history.is_empty() {
                a.insert(REVISION_HISTORY_ANNOTATION.into(), old);
            } else {
                let revs: Vec<&str> = history.split(',').collect();
                let mut total = history.len() + old.len() + 1;
                let mut start = 0;
                while total > MAX_REVISION_HISTORY_CHARS && start < revs.len() {
                    total -= revs[start].len() + 1;
                    start += 1;
                }
                if total <= MAX_REVISION_HISTORY_CHARS {
                    let mut kept: Vec<&str> = revs[start..].to_vec();
                    kept.push(&old);
                    a.insert(REVISION_HISTORY_ANNOTATION.into(), kept.join(","));
                }
            }
        }
    }
    if !exists {
        let p = params(d);
        changed |= set_replicas_annotations(a, d.replicas, d.replicas + rules::max_surge(&p));
    }
    changed
}

/// `DeploymentStatus` from the ReplicaSets (sync.go calculateStatus), plus whether the
/// deployment has minimum availability (the Available condition).
fn calculate_status(
    d: &Deployment,
    all: &[&ReplicaSet],
    new: Option<&ReplicaSet>,
) -> (DeploymentStatus, bool) {
    let sum = |f: &dyn Fn(&ReplicaSet) -> i32| all.iter().map(|r| f(r)).sum::<i32>();
    let available = sum(&|r| r.status.available_replicas);
    let total_spec = sum(&|r| r.replicas);
    let status = DeploymentStatus {
        replicas: sum(&|r| r.status.replicas),
        updated_replicas: new.map_or(0, |r| r.status.replicas),
        ready_replicas: sum(&|r| r.status.ready_replicas),
        available_replicas: available,
        unavailable_replicas: (total_spec - available).max(0),
        observed_generation: d.meta.generation,
        conditions: Vec::new(),
    };
    let min_ok = available >= d.replicas - rules::max_unavailable(&params(d));
    (status, min_ok)
}

/// What reconciling found: the new ReplicaSet (if any) and the old ones, oldest first.
struct Sets {
    new: Option<u32>,
    old: Vec<u32>,
}

impl Controller for DeploymentController {
    fn name(&self) -> &'static str {
        "deployment"
    }

    fn on_change(&mut self, change: &Change, store: &Store, queue: &mut WorkQueue) {
        match change.kind {
            Kind::Deployment => {
                if change.op == Op::Deleted {
                    if let Some(o) = change.old.as_deref() {
                        self.conditions.remove(&o.meta().uid);
                        self.collisions.remove(&o.meta().uid);
                        self.deadline_timers.remove(&o.meta().uid);
                    }
                } else {
                    queue.add(Key::new(Kind::Deployment, change.id));
                }
            }
            Kind::ReplicaSet => {
                let rs = match change.old.as_deref() {
                    Some(Object::ReplicaSet(rs)) => Some(rs.as_ref()),
                    _ => store.replicasets.get(change.id),
                };
                let Some(rs) = rs else { return };
                if let Some(id) = owner_deployment(store, rs) {
                    queue.add(Key::new(Kind::Deployment, id));
                } else if rs.meta.controller_ref().is_none() {
                    // An orphan: every deployment whose selector matches may adopt it
                    // (deployment_controller.go getDeploymentsForReplicaSet).
                    for (id, d) in store.deployments.iter() {
                        if d.meta.namespace == rs.meta.namespace
                            && d.selector.matches(&rs.meta.labels)
                        {
                            queue.add(Key::new(Kind::Deployment, id));
                        }
                    }
                }
            }
            Kind::Pod if change.op == Op::Deleted => {
                // Recreate waits for the old pods to be gone (deployment_controller.go deletePod).
                let Some(Object::Pod(p)) = change.old.as_deref() else {
                    return;
                };
                let Some(o) = p
                    .meta
                    .controller_ref()
                    .filter(|o| o.kind == Kind::ReplicaSet)
                else {
                    return;
                };
                let Some(rs) = store
                    .replicasets
                    .id_of(&p.meta.namespace, &o.name)
                    .and_then(|id| store.replicasets.get(id))
                    .filter(|rs| rs.meta.uid == o.uid)
                else {
                    return;
                };
                if let Some(id) = owner_deployment(store, rs)
                    && store
                        .deployments
                        .get(id)
                        .is_some_and(|d| d.strategy == DeploymentStrategy::Recreate)
                {
                    queue.add(Key::new(Kind::Deployment, id));
                }
            }
            _ => {}
        }
    }

    // Port of deployment_controller.go: syncDeployment.
    fn reconcile(&mut self, key: Key, ctx: &mut Ctx<'_>) -> Next {
        if key.kind != Kind::Deployment {
            return Next::Done;
        }
        let Some(d) = ctx.store.deployments.get(key.id).cloned() else {
            return Next::Done;
        };
        claim_replica_sets(&d, ctx);
        self.check_paused_conditions(&d, ctx.now);
        if d.paused {
            return self.sync(&d, key, ctx);
        }
        if self.is_scaling_event(&d, key, ctx) {
            return self.sync(&d, key, ctx);
        }
        match d.strategy {
            DeploymentStrategy::Recreate => self.rollout_recreate(&d, key, ctx),
            DeploymentStrategy::RollingUpdate { .. } => self.rollout_rolling(&d, key, ctx),
        }
    }
}

impl DeploymentController {
    // Port of sync.go: checkPausedConditions.
    fn check_paused_conditions(&mut self, d: &Deployment, now: SimTime) {
        if !rules::has_progress_deadline(Some(d.progress_deadline_seconds)) {
            return;
        }
        let conds = self.conditions.entry(d.meta.uid).or_default();
        let reason = conds.progressing.as_ref().map(|c| c.reason);
        if reason == Some(rules::TIMED_OUT_REASON) {
            return;
        }
        let paused_exists = reason == Some(PAUSED_REASON);
        if d.paused && !paused_exists {
            let c = Condition::new(
                ConditionStatus::Unknown,
                PAUSED_REASON,
                "Deployment is paused".into(),
                now,
            );
            set_condition(&mut conds.progressing, c);
        } else if !d.paused && paused_exists {
            let c = Condition::new(
                ConditionStatus::Unknown,
                RESUMED_REASON,
                "Deployment is resumed".into(),
                now,
            );
            set_condition(&mut conds.progressing, c);
        }
    }

    /// Finds the new and old ReplicaSets, syncs the new one's revision annotations and,
    /// with `create`, creates it when missing.
    // Port of sync.go: getAllReplicaSetsAndSyncRevision / getNewReplicaSet.
    fn rs_sets(&mut self, d: &Deployment, key: Key, ctx: &mut Ctx<'_>, create: bool) -> Sets {
        let now = ctx.now;
        let owned = owned_replica_sets(ctx.store, d);
        let new = owned.iter().copied().find(|&id| {
            ctx.store
                .replicasets
                .get(id)
                .is_some_and(|rs| equal_ignore_hash(&rs.template, &d.template))
        });
        let old: Vec<u32> = owned.into_iter().filter(|&id| Some(id) != new).collect();
        let max_old = old
            .iter()
            .filter_map(|&id| ctx.store.replicasets.get(id))
            .map(revision)
            .max()
            .unwrap_or(0);
        let new_revision = max_old + 1;
        if let Some(id) = new {
            let Some(rs) = ctx.store.replicasets.get(id) else {
                return Sets { new, old };
            };
            let mut ann = rs.meta.annotations.clone();
            let changed = set_new_rs_annotations(d, &mut ann, new_revision, true);
            let mrs_changed = rs.min_ready_seconds != d.min_ready_seconds;
            if changed || mrs_changed {
                let mrs = d.min_ready_seconds;
                ctx.store
                    .update_rs(Kind::ReplicaSet, id, now, mrs_changed, |r| {
                        r.meta.annotations = ann;
                        r.min_ready_seconds = mrs;
                    });
            }
            let rev = ctx
                .store
                .replicasets
                .get(id)
                .and_then(|r| r.meta.annotations.get(rules::REVISION_ANNOTATION).cloned())
                .unwrap_or_default();
            set_deployment_revision(ctx, key.id, &rev);
            let conds = self.conditions.entry(d.meta.uid).or_default();
            if rules::has_progress_deadline(Some(d.progress_deadline_seconds))
                && conds.progressing.is_none()
            {
                let name = ctx
                    .store
                    .replicasets
                    .get(id)
                    .map(|r| r.meta.name.clone())
                    .unwrap_or_default();
                let c = Condition::new(
                    ConditionStatus::True,
                    FOUND_NEW_RS_REASON,
                    format!("Found new replica set {name:?}"),
                    now,
                );
                set_condition(&mut conds.progressing, c);
            }
            return Sets { new, old };
        }
        if !create {
            return Sets { new: None, old };
        }
        // A name collision with a foreign template bumps the collision count and retries
        // (upstream returns an error and retries on the next sync).
        for _ in 0..8 {
            let collisions = self.collisions.get(&d.meta.uid).copied().unwrap_or(0);
            let hash = template_hash(&d.template, collisions);
            let mut template = d.template.clone();
            template
                .labels
                .insert(POD_TEMPLATE_HASH_LABEL.into(), hash.clone());
            let mut selector = d.selector.clone();
            if let Ok(r) = Requirement::new(
                POD_TEMPLATE_HASH_LABEL,
                Operator::Equals,
                vec![hash.clone()],
            ) {
                selector.add(r);
            }
            let p = params(d);
            let mut all: Vec<i32> = old
                .iter()
                .filter_map(|&id| ctx.store.replicasets.get(id))
                .map(|r| r.replicas)
                .collect();
            all.push(0);
            let replicas = rules::new_rs_new_replicas(&p, &all, 0);
            let mut annotations = BTreeMap::new();
            set_new_rs_annotations(d, &mut annotations, new_revision, false);
            let name = format!("{}-{hash}", d.meta.name);
            let rs = ReplicaSet {
                meta: ObjectMeta {
                    name: name.clone(),
                    namespace: d.meta.namespace.clone(),
                    labels: template.labels.clone(),
                    annotations,
                    owners: vec![OwnerRef {
                        kind: Kind::Deployment,
                        name: d.meta.name.clone(),
                        uid: d.meta.uid,
                        controller: true,
                    }],
                    ..ObjectMeta::default()
                },
                kind: Kind::ReplicaSet,
                replicas,
                selector,
                min_ready_seconds: d.min_ready_seconds,
                template,
                status: ReplicaSetStatus::default(),
            };
            match ctx.store.create(Object::ReplicaSet(Box::new(rs)), now) {
                Ok((_, id)) => {
                    if replicas > 0 {
                        ctx.store.record_event(
                            now,
                            Kind::Deployment,
                            &d.meta.namespace,
                            &d.meta.name,
                            "ScalingReplicaSet",
                            || format!("Scaled up replica set {name} from 0 to {replicas}"),
                        );
                    }
                    set_deployment_revision(ctx, key.id, &new_revision.to_string());
                    if rules::has_progress_deadline(Some(d.progress_deadline_seconds)) {
                        let conds = self.conditions.entry(d.meta.uid).or_default();
                        let c = Condition::new(
                            ConditionStatus::True,
                            NEW_RS_REASON,
                            format!("Created new replica set {name:?}"),
                            now,
                        );
                        set_condition(&mut conds.progressing, c);
                    }
                    return Sets { new: Some(id), old };
                }
                Err(_) => {
                    let existing = ctx
                        .store
                        .replicasets
                        .id_of(&d.meta.namespace, &name)
                        .and_then(|id| ctx.store.replicasets.get(id).map(|r| (id, r)));
                    if let Some((id, r)) = existing
                        && r.meta.controller_ref().is_some_and(|o| o.uid == d.meta.uid)
                        && equal_ignore_hash(&r.template, &d.template)
                    {
                        return Sets { new: Some(id), old };
                    }
                    *self.collisions.entry(d.meta.uid).or_default() += 1;
                }
            }
        }
        Sets { new: None, old }
    }

    /// Scales one ReplicaSet and refreshes its replicas annotations; returns whether its
    /// size changed.
    // Port of sync.go: scaleReplicaSet / scaleReplicaSetAndRecordEvent.
    fn scale_rs(&self, d: &Deployment, id: u32, to: i32, ctx: &mut Ctx<'_>) -> bool {
        let Some(rs) = ctx.store.replicasets.get(id) else {
            return false;
        };
        let from = rs.replicas;
        let p = params(d);
        let max = d.replicas + rules::max_surge(&p);
        let mut ann = rs.meta.annotations.clone();
        let ann_changed = set_replicas_annotations(&mut ann, d.replicas, max);
        let size_changed = from != to;
        if !size_changed && !ann_changed {
            return false;
        }
        let name = rs.meta.name.clone();
        ctx.store
            .update_rs(Kind::ReplicaSet, id, ctx.now, size_changed, |r| {
                r.replicas = to;
                r.meta.annotations = ann;
            });
        if size_changed {
            let dir = if to > from { "up" } else { "down" };
            ctx.store.record_event(
                ctx.now,
                Kind::Deployment,
                &d.meta.namespace,
                &d.meta.name,
                "ScalingReplicaSet",
                || format!("Scaled {dir} replica set {name} from {from} to {to}"),
            );
        }
        size_changed
    }

    fn views(ctx: &Ctx<'_>, ids: &[u32]) -> Vec<(RsView, u32)> {
        ids.iter()
            .filter_map(|&id| ctx.store.replicasets.get(id).map(|r| (rs_view(r), id)))
            .collect()
    }

    // Port of sync.go: isScalingEvent.
    fn is_scaling_event(&mut self, d: &Deployment, key: Key, ctx: &mut Ctx<'_>) -> bool {
        let sets = self.rs_sets(d, key, ctx, false);
        sets.old
            .iter()
            .chain(sets.new.as_ref())
            .filter_map(|&id| ctx.store.replicasets.get(id))
            .filter(|r| r.replicas > 0)
            .filter_map(|r| {
                rules::replicas_annotation(&r.meta.annotations, rules::DESIRED_REPLICAS_ANNOTATION)
            })
            .any(|desired| desired != d.replicas)
    }

    // Port of sync.go: sync (scaling events and paused deployments).
    fn sync(&mut self, d: &Deployment, key: Key, ctx: &mut Ctx<'_>) -> Next {
        let sets = self.rs_sets(d, key, ctx, false);
        self.scale(d, &sets, ctx);
        if d.paused {
            cleanup_deployment(d, &sets.old, ctx);
        }
        // syncDeploymentStatus: status and the Available condition only.
        self.write_status(d, key, &sets, ctx, false)
    }

    // Port of sync.go: scale.
    fn scale(&self, d: &Deployment, sets: &Sets, ctx: &mut Ctx<'_>) {
        let p = params(d);
        let new_view = sets
            .new
            .and_then(|id| ctx.store.replicasets.get(id))
            .map(rs_view);
        let old = Self::views(ctx, &sets.old);
        let old_views: Vec<RsView> = old.iter().map(|(v, _)| v.clone()).collect();
        let result =
            rules::proportional_scale(&p, d.status.replicas, new_view.as_ref(), &old_views);
        let active = old_views
            .iter()
            .chain(new_view.as_ref())
            .filter(|r| r.replicas > 0)
            .count();
        // The proportional branch rewrites every active ReplicaSet (annotations too).
        let proportional = active > 1
            && !rules::is_saturated(d.replicas, new_view.as_ref())
            && matches!(p.strategy, Strategy::RollingUpdate { .. });
        let mut targets: Vec<(u32, i32, i32)> = old
            .iter()
            .zip(&result.old_replicas)
            .map(|((v, id), to)| (*id, v.replicas, *to))
            .collect();
        if let (Some(id), Some(v), Some(to)) = (sets.new, new_view.as_ref(), result.new_replicas) {
            targets.push((id, v.replicas, to));
        }
        for (id, from, to) in targets {
            if from != to || (proportional && from > 0) {
                self.scale_rs(d, id, to, ctx);
            }
        }
    }

    // Port of rolling.go: rolloutRolling.
    fn rollout_rolling(&mut self, d: &Deployment, key: Key, ctx: &mut Ctx<'_>) -> Next {
        let sets = self.rs_sets(d, key, ctx, true);
        let p = params(d);
        // reconcileNewReplicaSet.
        if let Some(new_id) = sets.new {
            let new_view = ctx.store.replicasets.get(new_id).map(rs_view);
            let old: Vec<RsView> = Self::views(ctx, &sets.old)
                .into_iter()
                .map(|(v, _)| v)
                .collect();
            if let Some(nv) = new_view
                && let Some(to) = rules::reconcile_new_replica_set(&p, &nv, &old)
                && self.scale_rs(d, new_id, to, ctx)
            {
                return self.write_status(d, key, &sets, ctx, true);
            }
        }
        // reconcileOldReplicaSets over the active old ReplicaSets, oldest first.
        let mut active: Vec<(RsView, u32)> = Self::views(ctx, &sets.old)
            .into_iter()
            .filter(|(v, _)| v.replicas > 0)
            .collect();
        active.sort_by(|a, b| rules::older_first(&a.0, &b.0));
        let before: Vec<i32> = active.iter().map(|(v, _)| v.replicas).collect();
        let mut views: Vec<RsView> = active.iter().map(|(v, _)| v.clone()).collect();
        let new_view = sets
            .new
            .and_then(|id| ctx.store.replicasets.get(id))
            .map(rs_view);
        let scaled_down = rules::reconcile_old_replica_sets(&p, new_view.as_ref(), &mut views);
        if scaled_down > 0 {
            for ((v, (_, id)), from) in views.iter().zip(&active).zip(before) {
                if v.replicas != from {
                    self.scale_rs(d, *id, v.replicas, ctx);
                }
            }
            return self.write_status(d, key, &sets, ctx, true);
        }
        if rules::deployment_complete(d.replicas, d.meta.generation, &status_view(&d.status)) {
            cleanup_deployment(d, &sets.old, ctx);
        }
        self.write_status(d, key, &sets, ctx, true)
    }

    // Port of recreate.go: rolloutRecreate.
    fn rollout_recreate(&mut self, d: &Deployment, key: Key, ctx: &mut Ctx<'_>) -> Next {
        let mut sets = self.rs_sets(d, key, ctx, false);
        // scaleDownOldReplicaSetsForRecreate.
        let mut scaled = false;
        for id in sets.old.clone() {
            if ctx
                .store
                .replicasets
                .get(id)
                .is_some_and(|r| r.replicas > 0)
            {
                scaled |= self.scale_rs(d, id, 0, ctx);
            }
        }
        if scaled || old_pods_running(ctx.store, sets.new, &sets.old) {
            return self.write_status(d, key, &sets, ctx, true);
        }
        if sets.new.is_none() {
            sets = self.rs_sets(d, key, ctx, true);
        }
        if let Some(id) = sets.new {
            self.scale_rs(d, id, d.replicas, ctx);
        }
        if rules::deployment_complete(d.replicas, d.meta.generation, &status_view(&d.status)) {
            cleanup_deployment(d, &sets.old, ctx);
        }
        self.write_status(d, key, &sets, ctx, true)
    }

    /// Writes the status; with `rollout` also the Progressing condition and the stuck
    /// deployment requeue.
    // Port of sync.go: syncDeploymentStatus and progress.go: syncRolloutStatus,
    // requeueStuckDeployment.
    fn write_status(
        &mut self,
        d: &Deployment,
        key: Key,
        sets: &Sets,
        ctx: &mut Ctx<'_>,
        rollout: bool,
    ) -> Next {
        let now = ctx.now;
        let new = sets.new.and_then(|id| ctx.store.replicasets.get(id));
        let all: Vec<&ReplicaSet> = sets
            .old
            .iter()
            .filter_map(|&id| ctx.store.replicasets.get(id))
            .chain(new)
            .collect();
        let (status, min_ok) = calculate_status(d, &all, new);
        let new_name = new.map(|r| r.meta.name.clone());
        let conds = self.conditions.entry(d.meta.uid).or_default();
        let available = if min_ok {
            Condition::new(
                ConditionStatus::True,
                MIN_AVAILABLE_REASON,
                "Deployment has minimum availability.".into(),
                now,
            )
        } else {
            Condition::new(
                ConditionStatus::False,
                MIN_UNAVAILABLE_REASON,
                "Deployment does not have minimum availability.".into(),
                now,
            )
        };
        set_condition(&mut conds.available, available);
        let has_deadline = rules::has_progress_deadline(Some(d.progress_deadline_seconds));
        let new_view = status_view(&status);
        let mut next = Next::Done;
        if rollout {
            if !has_deadline {
                conds.progressing = None;
            }
            let complete_already = status.replicas == status.updated_replicas
                && conds
                    .progressing
                    .as_ref()
                    .is_some_and(|c| c.reason == rules::NEW_RS_AVAILABLE_REASON);
            let subject = match &new_name {
                Some(n) => format!("ReplicaSet {n:?}"),
                None => format!("Deployment {:?}", d.meta.name),
            };
            if has_deadline && !complete_already {
                let old_view = status_view(&d.status);
                if rules::deployment_complete(d.replicas, d.meta.generation, &new_view) {
                    let c = Condition::new(
                        ConditionStatus::True,
                        rules::NEW_RS_AVAILABLE_REASON,
                        format!("{subject} has successfully progressed."),
                        now,
                    );
                    set_condition(&mut conds.progressing, c);
                } else if rules::deployment_progressing(&old_view, &new_view) {
                    let mut c = Condition::new(
                        ConditionStatus::True,
                        RS_UPDATED_REASON,
                        format!("{subject} is progressing."),
                        now,
                    );
                    if let Some(cur) = conds.progressing.take()
                        && cur.status == ConditionStatus::True
                    {
                        c.last_transition = cur.last_transition;
                    }
                    conds.progressing = Some(c);
                } else {
                    let view = conds
                        .progressing
                        .as_ref()
                        .map(|c| rules::ProgressingCondition {
                            reason: c.reason.to_string(),
                            last_update_time: Some(secs(c.last_update)),
                        });
                    // Go compares the stored (second-precision) time with the exact now.
                    let now_ceil = now.as_millis().div_ceil(1000) as i64;
                    if rules::deployment_timed_out(
                        Some(d.progress_deadline_seconds),
                        view.as_ref(),
                        now_ceil,
                    ) && view
                        .as_ref()
                        .is_some_and(|v| v.reason != rules::TIMED_OUT_REASON)
                    {
                        let c = Condition::new(
                            ConditionStatus::False,
                            rules::TIMED_OUT_REASON,
                            format!("{subject} has timed out progressing."),
                            now,
                        );
                        set_condition(&mut conds.progressing, c);
                        ctx.store.record_event(
                            now,
                            Kind::Deployment,
                            &d.meta.namespace,
                            &d.meta.name,
                            rules::TIMED_OUT_REASON,
                            || format!("{subject} has timed out progressing."),
                        );
                    }
                }
            }
            // requeueStuckDeployment.
            if let Some(c) = conds.progressing.as_ref()
                && has_deadline
                && !rules::deployment_complete(d.replicas, d.meta.generation, &new_view)
                && c.reason != rules::TIMED_OUT_REASON
            {
                let deadline = SimTime::from_secs(
                    secs(c.last_update).max(0) as u64 + d.progress_deadline_seconds.max(0) as u64,
                );
                let after = if deadline > now {
                    deadline.since(now)
                } else {
                    SimDuration::ZERO
                };
                // Under a second: upstream's rate-limited requeue; else the remaining time
                // plus a second against clock skew.
                let after = if after < SimDuration::from_secs(1) {
                    self.limiter.delay(now)
                } else {
                    after + SimDuration::from_secs(1)
                };
                if self.deadline_timers.get(&d.meta.uid) != Some(&(now + after)) {
                    self.deadline_timers.insert(d.meta.uid, now + after);
                    next = Next::RequeueAfter(after);
                }
            }
        }
        // The conditions are published in status.conditions, Available then Progressing
        // (rebuilt only when they differ from what status holds).
        let mut status = status;
        status.conditions = match self.conditions.get(&d.meta.uid) {
            Some(c) if !c.matches_status(&d.status.conditions) => c.to_status(),
            Some(_) => d.status.conditions.clone(),
            None => Vec::new(),
        };
        if status != d.status {
            ctx.store
                .update_deployment(key.id, now, false, |x| x.status = status);
        }
        next
    }
}

/// Sets the deployment's revision annotation (util/deployment_util.go SetDeploymentRevision).
fn set_deployment_revision(ctx: &mut Ctx<'_>, id: u32, rev: &str) {
    let cur = ctx
        .store
        .deployments
        .get(id)
        .and_then(|d| d.meta.annotations.get(rules::REVISION_ANNOTATION).cloned());
    if rev.is_empty() || cur.as_deref() == Some(rev) {
        return;
    }
    let rev = rev.to_string();
    ctx.store.update_deployment(id, ctx.now, false, |d| {
        d.meta
            .annotations
            .insert(rules::REVISION_ANNOTATION.into(), rev);
    });
}

/// Whether any pod of an old ReplicaSet still exists and is not terminal, terminating
/// pods included (recreate.go oldPodsRunning).
fn old_pods_running(store: &Store, new: Option<u32>, old: &[u32]) -> bool {
    old.iter()
        .filter(|&&id| Some(id) != new)
        .filter_map(|&id| store.replicasets.get(id))
        .any(|rs| {
            rs.status.replicas > 0
                || store.pods_owned_by(rs.meta.uid).any(|p| {
                    store
                        .pods
                        .get(p)
                        .is_some_and(|p| !p.status.phase.is_terminal())
                })
        })
}

/// Deletes old ReplicaSets beyond `revisionHistoryLimit` (sync.go cleanupDeployment,
/// the choice made by [`rules::cleanup_history`]).
fn cleanup_deployment(d: &Deployment, old: &[u32], ctx: &mut Ctx<'_>) {
    // ReplicaSetsByRevision: revision, then creation time and name.
    let mut by_rev: Vec<(i64, RsView, u32)> = old
        .iter()
        .filter_map(|&id| {
            ctx.store
                .replicasets
                .get(id)
                .map(|r| (revision(r), rs_view(r), id))
        })
        .collect();
    by_rev.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| rules::older_first(&a.1, &b.1)));
    let hist: Vec<HistoryRs> = by_rev
        .iter()
        .filter_map(|(_, _, id)| ctx.store.replicasets.get(*id))
        .map(|r| HistoryRs {
            name: r.meta.name.clone(),
            replicas: r.replicas,
            status_replicas: r.status.replicas,
            deletion_timestamp: r.meta.deletion.map(secs),
            generation: r.meta.generation,
            observed_generation: r.status.observed_generation,
        })
        .collect();
    for i in rules::cleanup_history(Some(d.revision_history_limit), &hist) {
        if let Some((_, _, id)) = by_rev.get(i) {
            ctx.store.delete_object(Kind::ReplicaSet, *id, ctx.now);
        }
    }
}

/// Why `kubectl rollout undo` did nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RollbackError {
    /// The deployment does not exist.
    #[error("deployment not found")]
    NotFound,
    /// The deployment is paused.
    #[error(
        "you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume' and try again"
    )]
    Paused,
    /// No ReplicaSet has the requested revision (0: no previous revision).
    #[error("unable to find specified revision {0} in history")]
    RevisionNotFound(i64),
}

/// `kubectl rollout undo deployment/NAME [--to-revision=N]`: copies the template of the
/// ReplicaSet with revision `to_revision` (0: the previous one) into the deployment, without
/// its `pod-template-hash` label, together with the ReplicaSet's annotations (except the
/// skipped ones). Returns the revision rolled back to, or why nothing happened; a template
/// already equal to the target is a no-op success.
// Port of staging/src/k8s.io/kubectl/pkg/polymorphichelpers/rollback.go:
// DeploymentRollbacker.Rollback and deploymentRevision.
pub fn rollback(
    store: &mut Store,
    id: u32,
    to_revision: i64,
    now: SimTime,
) -> Result<i64, RollbackError> {
    let d = store.deployments.get(id).ok_or(RollbackError::NotFound)?;
    if d.paused {
        return Err(RollbackError::Paused);
    }
    let owned = owned_replica_sets(store, d);
    let mut target: Option<(i64, u32)> = None;
    if to_revision > 0 {
        target = owned
            .iter()
            .filter_map(|&rid| store.replicasets.get(rid).map(|r| (revision(r), rid)))
            .find(|(v, _)| *v == to_revision);
    } else {
        let mut latest: Option<(i64, u32)> = None;
        let mut previous: Option<(i64, u32)> = None;
        for &rid in &owned {
            let Some(r) = store.replicasets.get(rid) else {
                continue;
            };
            let v = revision(r);
            if latest.is_none_or(|(l, _)| l < v) {
                previous = latest;
                latest = Some((v, rid));
            } else if previous.is_none_or(|(p, _)| p < v) {
                previous = Some((v, rid));
            }
        }
        target = target.or(previous);
    }
    let (rev, rid) = target.ok_or(RollbackError::RevisionNotFound(to_revision))?;
    let rs = store
        .replicasets
        .get(rid)
        .ok_or(RollbackError::RevisionNotFound(to_revision))?;
    if equal_ignore_hash(&rs.template, &d.template) {
        return Ok(rev);
    }
    let mut template = rs.template.clone();
    template.labels.remove(POD_TEMPLATE_HASH_LABEL);
    let mut annotations: BTreeMap<String, String> = d
        .meta
        .annotations
        .iter()
        .filter(|(k, _)| ANNOTATIONS_TO_SKIP.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (k, v) in &rs.meta.annotations {
        if !ANNOTATIONS_TO_SKIP.contains(&k.as_str()) {
            annotations.insert(k.clone(), v.clone());
        }
    }
    store.update_deployment(id, now, true, |d| {
        d.template = template;
        d.meta.annotations = annotations;
    });
    Ok(rev)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::PodPhase;
    use crate::api::manifest::load_str;
    use crate::controllers::Outbox;
    use crate::controllers::replicaset::ReplicaSetController;
    use crate::engine::RngStreams;

    /// A store, the Deployment and ReplicaSet controllers, and a fake kubelet that makes
    /// pods ready and finishes terminations on request.
    struct Harness {
        store: Store,
        dc: DeploymentController,
        rc: ReplicaSetController,
        dq: WorkQueue,
        rq: WorkQueue,
        streams: RngStreams,
        now: SimTime,
        /// Times the deployment's reconciles asked to be requeued at.
        requeues: Vec<SimTime>,
    }

    impl Harness {
        fn new(yaml: &str) -> Harness {
            let streams = RngStreams::new(1);
            let mut h = Harness {
                store: Store::new(streams.stream("names"), true),
                dc: DeploymentController::new(),
                rc: ReplicaSetController::new(),
                dq: WorkQueue::default(),
                rq: WorkQueue::default(),
                streams,
                now: SimTime::ZERO,
                requeues: Vec::new(),
            };
            let r = load_str(yaml, "test.yaml", 1).expect("valid manifest");
            for l in r.objects {
                h.store.create(l.object, SimTime::ZERO).expect("created");
            }
            h.settle();
            h
        }

        fn settle(&mut self) {
            let mut rng = self.streams.stream("controller");
            for _ in 0..10_000 {
                for ch in self.store.take_changes() {
                    self.dc.on_change(&ch, &self.store, &mut self.dq);
                    self.rc.on_change(&ch, &self.store, &mut self.rq);
                }
                let mut out = Outbox::default();
                let mut ctx = Ctx {
                    now: self.now,
                    store: &mut self.store,
                    rng: &mut rng,
                    out: &mut out,
                };
                if let Some(k) = self.dq.pop() {
                    if let Next::RequeueAfter(d) = self.dc.reconcile(k, &mut ctx) {
                        self.requeues.push(self.now + d);
                    }
                } else if let Some(k) = self.rq.pop() {
                    self.rc.reconcile(k, &mut ctx);
                } else if !self.store.has_changes() {
                    return;
                }
            }
            panic!("did not settle");
        }

        fn advance(&mut self, secs: u64) {
            self.now += SimDuration::from_secs(secs);
            self.dq.add(Key::new(Kind::Deployment, 0));
            self.settle();
        }

        /// Binds and readies every pending pod (at most `n`), removes terminating ones.
        fn kubelet(&mut self, n: usize) {
            let now = self.now;
            let ids: Vec<u32> = self.store.pods.iter().map(|(id, _)| id).collect();
            let mut readied = 0;
            for id in ids {
                let Some(p) = self.store.pods.get(id) else {
                    continue;
                };
                if p.meta.deletion.is_some() {
                    self.store.remove_pod(id, now);
                } else if !p.status.ready && readied < n {
                    readied += 1;
                    self.store.update_pod(id, now, |p| {
                        p.spec.node_name = "node-1".into();
                        p.status.phase = PodPhase::Running;
                        p.status.ready = true;
                        p.status.ready_transition = Some(now);
                    });
                }
            }
            self.settle();
        }

        fn deployment(&self) -> &Deployment {
            self.store.deployments.get(0).expect("deployment")
        }

        /// (name, spec replicas, revision) of the owned ReplicaSets, by revision.
        fn sets(&self) -> Vec<(String, i32, i64)> {
            let mut v: Vec<(String, i32, i64)> = owned_replica_sets(&self.store, self.deployment())
                .into_iter()
                .filter_map(|id| self.store.replicasets.get(id))
                .map(|r| (r.meta.name.clone(), r.replicas, revision(r)))
                .collect();
            v.sort_by_key(|s| s.2);
            v
        }

        fn set_image(&mut self, image: &str) {
            let image = image.to_string();
            self.store.update_deployment(0, self.now, true, |d| {
                d.template.spec.containers[0].image = image;
            });
            self.settle();
        }

        fn progressing(&self) -> Option<&'static str> {
            let uid = self.deployment().meta.uid;
            self.dc
                .conditions(uid)
                .and_then(|c| c.progressing.as_ref())
                .map(|c| c.reason)
        }
    }

    fn manifest(replicas: i32, strategy: &str, extra: &str) -> String {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: {replicas}\n{extra}  selector:\n    matchLabels: {{app: web}}\n  strategy: {strategy}\n  template:\n    metadata:\n      labels: {{app: web}}\n    spec:\n      containers:\n      - name: web\n        image: web:1\n"
        )
    }

    const SURGE_1: &str = "{type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}";

    #[test]
    fn hash_is_stable_and_safe() {
        let h = Harness::new(&manifest(1, SURGE_1, ""));
        let t = &h.deployment().template;
        let a = template_hash(t, 0);
        assert_eq!(a, template_hash(t, 0));
        assert_ne!(a, template_hash(t, 1));
        assert!(a.bytes().all(|b| SAFE_ALPHABET.contains(&b)));
        let mut t2 = t.clone();
        t2.labels.insert(POD_TEMPLATE_HASH_LABEL.into(), a.clone());
        assert!(equal_ignore_hash(t, &t2));
    }

    #[test]
    fn creates_the_new_replica_set_with_hash_and_annotations() {
        let mut h = Harness::new(&manifest(4, SURGE_1, ""));
        let hash = template_hash(&h.deployment().template, 0);
        let rs = h.store.replicasets.get(0).expect("replica set");
        assert_eq!(rs.meta.name, format!("web-{hash}"));
        assert_eq!(rs.replicas, 4);
        assert_eq!(rs.template.labels.get(POD_TEMPLATE_HASH_LABEL), Some(&hash));
        assert!(rs.selector.matches(&rs.template.labels));
        let mut other = rs.template.labels.clone();
        other.insert(POD_TEMPLATE_HASH_LABEL.into(), "x".into());
        assert!(!rs.selector.matches(&other));
        let ann = |k: &str| rs.meta.annotations.get(k).cloned();
        assert_eq!(ann(rules::REVISION_ANNOTATION).as_deref(), Some("1"));
        assert_eq!(
            ann(rules::DESIRED_REPLICAS_ANNOTATION).as_deref(),
            Some("4")
        );
        assert_eq!(ann(rules::MAX_REPLICAS_ANNOTATION).as_deref(), Some("5"));
        assert_eq!(h.store.pods.len(), 4);
        assert!(
            h.store
                .pods
                .iter()
                .all(|(_, p)| p.meta.labels.get(POD_TEMPLATE_HASH_LABEL) == Some(&hash))
        );
        // The first sync created the ReplicaSet; the next saw its pods (progress).
        assert_eq!(h.progressing(), Some(RS_UPDATED_REASON));
        h.kubelet(usize::MAX);
        let d = h.deployment();
        assert_eq!(d.status.available_replicas, 4);
        assert_eq!(d.status.updated_replicas, 4);
        assert_eq!(d.status.unavailable_replicas, 0);
        assert_eq!(d.status.observed_generation, d.meta.generation);
        assert_eq!(h.progressing(), Some(rules::NEW_RS_AVAILABLE_REASON));
        assert_eq!(
            d.meta.annotations.get(rules::REVISION_ANNOTATION),
            Some(&"1".to_string())
        );
    }

    #[test]
    fn rolling_update_keeps_surge_and_availability() {
        let mut h = Harness::new(&manifest(4, SURGE_1, ""));
        h.kubelet(usize::MAX);
        h.set_image("web:2");
        let mut steps = 0;
        loop {
            let sets = h.sets();
            let total: i32 = sets.iter().map(|s| s.1).sum();
            assert!(total <= 5, "{sets:?}");
            assert!(h.deployment().status.available_replicas >= 4);
            if sets.len() == 2 && sets[0].1 == 0 && sets[1].1 == 4 {
                break;
            }
            h.advance(1);
            h.kubelet(1);
            steps += 1;
            assert!(steps < 20, "rollout stuck: {sets:?}");
        }
        h.kubelet(usize::MAX);
        let sets = h.sets();
        assert_eq!((sets[0].2, sets[1].2), (1, 2));
        let d = h.deployment();
        assert_eq!(d.status.updated_replicas, 4);
        assert_eq!(d.status.replicas, 4);
        assert_eq!(h.progressing(), Some(rules::NEW_RS_AVAILABLE_REASON));
    }

    #[test]
    fn recreate_waits_for_old_pods() {
        let mut h = Harness::new(&manifest(3, "{type: Recreate}", ""));
        h.kubelet(usize::MAX);
        h.set_image("web:2");
        // Old scaled to 0, pods terminating: no new ReplicaSet yet.
        assert_eq!(h.sets().len(), 1);
        assert_eq!(h.sets()[0].1, 0);
        assert!(h.store.pods.iter().all(|(_, p)| p.meta.deletion.is_some()));
        h.kubelet(0);
        let sets = h.sets();
        assert_eq!(sets.len(), 2, "{sets:?}");
        assert_eq!(sets[1].1, 3);
        h.kubelet(usize::MAX);
        assert_eq!(h.deployment().status.available_replicas, 3);
    }

    #[test]
    fn proportional_scaling_mid_rollout() {
        let s = "{type: RollingUpdate, rollingUpdate: {maxSurge: 3, maxUnavailable: 2}}";
        let mut h = Harness::new(&manifest(10, s, ""));
        h.kubelet(usize::MAX);
        h.set_image("web:2");
        // New RS surged to 3, old down to 8 (minAvailable 8), new up to 5 (13 in all).
        let sets = h.sets();
        assert_eq!((sets[0].1, sets[1].1), (8, 5), "{sets:?}");
        h.store
            .update_deployment(0, h.now, true, |d| d.replicas = 20);
        h.settle();
        let sets = h.sets();
        // 20 + maxSurge 3 = 23, spread 8:5 proportionally.
        let total: i32 = sets.iter().map(|s| s.1).sum();
        assert_eq!(total, 23, "{sets:?}");
        assert!(sets[0].1 > sets[1].1, "{sets:?}");
        for id in owned_replica_sets(&h.store, h.deployment()) {
            let rs = h.store.replicasets.get(id).expect("rs");
            assert_eq!(
                rs.meta.annotations.get(rules::DESIRED_REPLICAS_ANNOTATION),
                Some(&"20".to_string())
            );
        }
    }

    #[test]
    fn paused_deployment_only_scales() {
        let mut h = Harness::new(&manifest(2, SURGE_1, "  paused: true\n"));
        // Paused from the start: no new ReplicaSet is created.
        assert!(h.sets().is_empty());
        h.store
            .update_deployment(0, h.now, true, |d| d.paused = false);
        h.settle();
        h.kubelet(usize::MAX);
        h.store
            .update_deployment(0, h.now, true, |d| d.paused = true);
        h.settle();
        assert_eq!(h.progressing(), Some(PAUSED_REASON));
        h.set_image("web:2");
        assert_eq!(h.sets().len(), 1);
        h.store
            .update_deployment(0, h.now, true, |d| d.replicas = 5);
        h.settle();
        assert_eq!(h.sets()[0].1, 5);
        h.store
            .update_deployment(0, h.now, true, |d| d.paused = false);
        h.settle();
        assert_eq!(h.sets().len(), 2);
    }

    #[test]
    fn progress_deadline_exceeded() {
        let mut h = Harness::new(&manifest(2, SURGE_1, "  progressDeadlineSeconds: 60\n"));
        assert_eq!(h.requeues, vec![SimTime::from_secs(61)]);
        // Poked at the deadline itself (not past it): a rate-limited recheck 5 ms later.
        h.advance(60);
        assert_eq!(h.progressing(), Some(RS_UPDATED_REASON));
        h.now += SimDuration::from_millis(5);
        h.dq.add(Key::new(Kind::Deployment, 0));
        h.settle();
        assert_eq!(h.progressing(), Some(rules::TIMED_OUT_REASON));
        // Then no more timers.
        assert_eq!(
            h.requeues,
            vec![
                SimTime::from_secs(61),
                SimTime::from_secs(60) + SimDuration::from_millis(5)
            ]
        );
        // Progress afterwards clears the timeout.
        h.kubelet(1);
        assert_eq!(h.progressing(), Some(RS_UPDATED_REASON));
    }

    #[test]
    fn history_limit_deletes_old_replica_sets() {
        let mut h = Harness::new(&manifest(1, SURGE_1, "  revisionHistoryLimit: 1\n"));
        for v in 2..=4 {
            h.kubelet(usize::MAX);
            h.set_image(&format!("web:{v}"));
            for _ in 0..5 {
                h.kubelet(usize::MAX);
            }
        }
        let sets = h.sets();
        assert_eq!(sets.len(), 2, "{sets:?}");
        assert_eq!(sets.iter().map(|s| s.2).collect::<Vec<_>>(), vec![3, 4]);
    }

    #[test]
    fn rollback_makes_an_old_revision_new() {
        let mut h = Harness::new(&manifest(2, SURGE_1, ""));
        h.kubelet(usize::MAX);
        let first = h.sets()[0].0.clone();
        h.set_image("web:2");
        for _ in 0..5 {
            h.kubelet(usize::MAX);
        }
        assert_eq!(
            rollback(&mut h.store, 0, 9, h.now),
            Err(RollbackError::RevisionNotFound(9))
        );
        assert_eq!(rollback(&mut h.store, 0, 0, h.now), Ok(1));
        h.settle();
        for _ in 0..5 {
            h.kubelet(usize::MAX);
        }
        let rs = h
            .store
            .replicasets
            .get(h.store.replicasets.id_of("default", &first).expect("first"))
            .expect("rs");
        assert_eq!(rs.replicas, 2);
        assert_eq!(revision(rs), 3);
        assert_eq!(
            rs.meta.annotations.get(REVISION_HISTORY_ANNOTATION),
            Some(&"1".to_string())
        );
        assert_eq!(h.deployment().template.spec.containers[0].image, "web:1");
        assert!(
            !h.deployment()
                .template
                .labels
                .contains_key(POD_TEMPLATE_HASH_LABEL)
        );
    }

    #[test]
    fn adopts_a_matching_orphan_replica_set() {
        let yaml = format!(
            "{}---\napiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: old\n  labels: {{app: web}}\nspec:\n  replicas: 2\n  selector:\n    matchLabels: {{app: web}}\n  template:\n    metadata:\n      labels: {{app: web}}\n    spec:\n      containers:\n      - name: web\n        image: web:0\n",
            manifest(2, SURGE_1, "")
        );
        let mut h = Harness::new(&yaml);
        for _ in 0..6 {
            h.kubelet(usize::MAX);
        }
        let sets = h.sets();
        assert_eq!(sets.len(), 2, "{sets:?}");
        let old = sets.iter().find(|s| s.0 == "old").expect("adopted");
        assert_eq!(old.1, 0);
        assert_eq!(h.deployment().status.available_replicas, 2);
    }
}
