//! HPA scaling rules: `spec.behavior` policies and stabilization, the legacy (no behavior)
//! stabilization and clamp, and the out-of-range check done before metrics are read.
//!
//! Port of upstream `pkg/controller/podautoscaler/horizontal.go` (reconcileAutoscaler's bounds
//! check, stabilizeRecommendation, normalizeDesiredReplicas, convertDesiredReplicasWithRules,
//! calculateScaleUpLimit, stabilizeRecommendationWithBehaviors,
//! convertDesiredReplicasWithBehaviorRate, getReplicasChangePerPeriod,
//! calculateScaleUpLimitWithScalingRules, calculateScaleDownLimitWithBehaviors, storeScaleEvent,
//! markScaleEventsOutdated, getLongestPolicyPeriod) and the API defaults of
//! `pkg/apis/autoscaling/v2/defaults.go` (GenerateHPAScaleUpRules / GenerateHPAScaleDownRules).
//!
//! Timestamps are Unix seconds; `now` is always an explicit argument.

use serde::Serialize;
use std::fmt;

/// `scaleUpLimitFactor` of the legacy (no behavior) clamp.
pub const SCALE_UP_LIMIT_FACTOR: f64 = 2.0;
/// `scaleUpLimitMinimum` of the legacy (no behavior) clamp.
pub const SCALE_UP_LIMIT_MINIMUM: f64 = 4.0;
/// Default `--horizontal-pod-autoscaler-downscale-stabilization` (5 minutes).
pub const DEFAULT_DOWNSCALE_STABILIZATION_WINDOW_SECONDS: i64 = 300;
/// Default scale-up stabilization window of `spec.behavior.scaleUp` (0 s).
pub const DEFAULT_SCALE_UP_STABILIZATION_WINDOW_SECONDS: i32 = 0;
/// Default scale-up Percent policy value (100 %).
pub const DEFAULT_SCALE_UP_LIMIT_PERCENT: i32 = 100;
/// Default scale-up Pods policy value (4 pods).
pub const DEFAULT_SCALE_UP_LIMIT_MINIMUM_PODS: i32 = 4;
/// Default scale-up policy period (15 s).
pub const DEFAULT_SCALE_UP_PERIOD_SECONDS: i32 = 15;
/// Default scale-down Percent policy value (100 %).
pub const DEFAULT_SCALE_DOWN_LIMIT_PERCENT: i32 = 100;
/// Default scale-down policy period (15 s).
pub const DEFAULT_SCALE_DOWN_PERIOD_SECONDS: i32 = 15;
/// Default `minReplicas` when unset.
pub const DEFAULT_MIN_REPLICAS: i32 = 1;

/// Kind of a scaling policy (`HPAScalingPolicyType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum ScalingPolicyType {
    /// `Pods`: an absolute number of pods per period.
    Pods,
    /// `Percent`: a percentage of the period-start replicas per period.
    Percent,
}

/// One `HPAScalingPolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ScalingPolicy {
    /// Policy type.
    pub policy_type: ScalingPolicyType,
    /// Pods or percent.
    pub value: i32,
    /// Look-back period in seconds.
    pub period_seconds: i32,
}

/// `ScalingPolicySelect`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize)]
pub enum SelectPolicy {
    /// `Max`: the policy allowing the biggest change.
    #[default]
    Max,
    /// `Min`: the policy allowing the smallest change.
    Min,
    /// `Disabled`: no scaling in this direction.
    Disabled,
}

impl SelectPolicy {
    /// Parses the API spelling (`Max`, `Min`, `Disabled`).
    pub fn parse(s: &str) -> Option<SelectPolicy> {
        match s {
            "Max" => Some(SelectPolicy::Max),
            "Min" => Some(SelectPolicy::Min),
            "Disabled" => Some(SelectPolicy::Disabled),
            _ => None,
        }
    }
}

/// A fully defaulted `HPAScalingRules` (after API defaulting every field but the scale-down
/// stabilization window is set; that one is filled from the controller flag).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScalingRules {
    /// `stabilizationWindowSeconds`; `None` only for scaleDown before
    /// `maybeInitScaleDownStabilizationWindow`.
    pub stabilization_window_seconds: Option<i32>,
    /// `selectPolicy`.
    pub select_policy: SelectPolicy,
    /// `policies`.
    pub policies: Vec<ScalingPolicy>,
    /// `tolerance` (HPAConfigurableTolerance); `None` = controller-wide tolerance.
    pub tolerance: Option<f64>,
}

impl ScalingRules {
    /// The upstream default scale-up rules: window 0, Max of Pods 4/15 s and Percent 100/15 s.
    pub fn default_scale_up() -> ScalingRules {
        ScalingRules {
            stabilization_window_seconds: Some(DEFAULT_SCALE_UP_STABILIZATION_WINDOW_SECONDS),
            select_policy: SelectPolicy::Max,
            policies: vec![
                ScalingPolicy {
                    policy_type: ScalingPolicyType::Pods,
                    value: DEFAULT_SCALE_UP_LIMIT_MINIMUM_PODS,
                    period_seconds: DEFAULT_SCALE_UP_PERIOD_SECONDS,
                },
                ScalingPolicy {
                    policy_type: ScalingPolicyType::Percent,
                    value: DEFAULT_SCALE_UP_LIMIT_PERCENT,
                    period_seconds: DEFAULT_SCALE_UP_PERIOD_SECONDS,
                },
            ],
            tolerance: None,
        }
    }

    /// The upstream default scale-down rules: window unset (controller flag), Max of
    /// Percent 100/15 s.
    pub fn default_scale_down() -> ScalingRules {
        ScalingRules {
            stabilization_window_seconds: None,
            select_policy: SelectPolicy::Max,
            policies: vec![ScalingPolicy {
                policy_type: ScalingPolicyType::Percent,
                value: DEFAULT_SCALE_DOWN_LIMIT_PERCENT,
                period_seconds: DEFAULT_SCALE_DOWN_PERIOD_SECONDS,
            }],
            tolerance: None,
        }
    }

    /// Overlays the set fields of a user-given rule on `self` (upstream copyHPAScalingRules).
    pub fn overlay(mut self, from: &PartialScalingRules) -> ScalingRules {
        if let Some(p) = from.select_policy {
            self.select_policy = p;
        }
        if let Some(w) = from.stabilization_window_seconds {
            self.stabilization_window_seconds = Some(w);
        }
        if let Some(p) = &from.policies {
            self.policies = p.clone();
        }
        if let Some(t) = from.tolerance {
            self.tolerance = Some(t);
        }
        self
    }

    /// `getLongestPolicyPeriod`.
    pub fn longest_policy_period(&self) -> i32 {
        self.policies
            .iter()
            .map(|p| p.period_seconds)
            .fold(0, i32::max)
    }
}

/// An `HPAScalingRules` as written by a user (every field optional).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PartialScalingRules {
    /// `stabilizationWindowSeconds`.
    pub stabilization_window_seconds: Option<i32>,
    /// `selectPolicy`.
    pub select_policy: Option<SelectPolicy>,
    /// `policies` (`None` = unset; `Some(vec![])` overrides with no policies).
    pub policies: Option<Vec<ScalingPolicy>>,
    /// `tolerance`.
    pub tolerance: Option<f64>,
}

/// Port of `defaults.go` GenerateHPAScaleUpRules.
pub fn generate_scale_up_rules(rules: Option<&PartialScalingRules>) -> ScalingRules {
    let d = ScalingRules::default_scale_up();
    match rules {
        Some(r) => d.overlay(r),
        None => d,
    }
}

/// Port of `defaults.go` GenerateHPAScaleDownRules.
pub fn generate_scale_down_rules(rules: Option<&PartialScalingRules>) -> ScalingRules {
    let d = ScalingRules::default_scale_down();
    match rules {
        Some(r) => d.overlay(r),
        None => d,
    }
}

/// A defaulted `spec.behavior`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Behavior {
    /// `scaleUp`.
    pub scale_up: ScalingRules,
    /// `scaleDown`.
    pub scale_down: ScalingRules,
}

impl Default for Behavior {
    fn default() -> Self {
        Behavior {
            scale_up: ScalingRules::default_scale_up(),
            scale_down: ScalingRules::default_scale_down(),
        }
    }
}

impl Behavior {
    /// Port of `maybeInitScaleDownStabilizationWindow`: an unset scale-down window takes the
    /// controller's downscale stabilization window.
    pub fn init_scale_down_stabilization_window(&mut self, downscale_window_seconds: i64) {
        if self.scale_down.stabilization_window_seconds.is_none() {
            self.scale_down.stabilization_window_seconds =
                Some(i32::try_from(downscale_window_seconds).unwrap_or(i32::MAX));
        }
    }
}

/// A recorded scale event (`timestampedScaleEvent`); `replica_change` is positive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScaleEvent {
    /// Number of replicas added (scale-up list) or removed (scale-down list).
    pub replica_change: i32,
    /// When it happened (Unix seconds).
    pub timestamp: i64,
    /// Marked for reuse by `markScaleEventsOutdated`.
    pub outdated: bool,
}

/// A recorded recommendation (`timestampedRecommendation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recommendation {
    /// The recommended (unstabilized) replica count.
    pub replicas: i32,
    /// When it was made (Unix seconds).
    pub timestamp: i64,
}

/// The `ScalingLimited` condition reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ScalingLimitedReason {
    /// Desired count within bounds.
    DesiredWithinRange,
    /// Bounded by the scale-up rate.
    ScaleUpLimit,
    /// Bounded by the scale-down rate.
    ScaleDownLimit,
    /// Bounded by maxReplicas.
    TooManyReplicas,
    /// Bounded by minReplicas.
    TooFewReplicas,
}

impl ScalingLimitedReason {
    /// The reason string used in the condition.
    pub fn as_str(&self) -> &'static str {
        match self {
            ScalingLimitedReason::DesiredWithinRange => "DesiredWithinRange",
            ScalingLimitedReason::ScaleUpLimit => "ScaleUpLimit",
            ScalingLimitedReason::ScaleDownLimit => "ScaleDownLimit",
            ScalingLimitedReason::TooManyReplicas => "TooManyReplicas",
            ScalingLimitedReason::TooFewReplicas => "TooFewReplicas",
        }
    }

    /// The upstream condition message for this reason.
    pub fn message(&self) -> &'static str {
        match self {
            ScalingLimitedReason::DesiredWithinRange => {
                "the desired count is within the acceptable range"
            }
            ScalingLimitedReason::ScaleUpLimit => {
                "the desired replica count is increasing faster than the maximum scale rate"
            }
            ScalingLimitedReason::ScaleDownLimit => {
                "the desired replica count is decreasing faster than the maximum scale rate"
            }
            ScalingLimitedReason::TooManyReplicas => {
                "the desired replica count is more than the maximum replica count"
            }
            ScalingLimitedReason::TooFewReplicas => {
                "the desired replica count is less than the minimum replica count"
            }
        }
    }
}

impl fmt::Display for ScalingLimitedReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `AbleToScale` reasons set by stabilization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum StabilizationReason {
    /// The stabilized value equals the recommendation.
    ReadyForNewScale,
    /// A scale-up was held back by lower recent recommendations.
    ScaleUpStabilized,
    /// A scale-down was held back by higher recent recommendations.
    ScaleDownStabilized,
}

impl StabilizationReason {
    /// The reason string used in the condition.
    pub fn as_str(&self) -> &'static str {
        match self {
            StabilizationReason::ReadyForNewScale => "ReadyForNewScale",
            StabilizationReason::ScaleUpStabilized => "ScaleUpStabilized",
            StabilizationReason::ScaleDownStabilized => "ScaleDownStabilized",
        }
    }

    /// The upstream condition message for this reason.
    pub fn message(&self) -> &'static str {
        match self {
            StabilizationReason::ReadyForNewScale => "recommended size matches current size",
            StabilizationReason::ScaleUpStabilized => {
                "recent recommendations were lower than current one, applying the lowest recent recommendation"
            }
            StabilizationReason::ScaleDownStabilized => {
                "recent recommendations were higher than current one, applying the highest recent recommendation"
            }
        }
    }
}

/// Direction of a rate limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Scale up.
    Up,
    /// Scale down.
    Down,
}

fn clamp_i32(v: i64) -> i32 {
    v.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
}

/// Port of `getReplicasChangePerPeriod`: sum of changes of events strictly newer than
/// `now - period`.
pub fn replicas_change_per_period(period_seconds: i32, events: &[ScaleEvent], now: i64) -> i64 {
    let cutoff = now - i64::from(period_seconds);
    events
        .iter()
        .filter(|e| e.timestamp > cutoff)
        .map(|e| i64::from(e.replica_change))
        .sum()
}

/// Port of `calculateScaleUpLimitWithScalingRules`.
pub fn calculate_scale_up_limit_with_scaling_rules(
    current_replicas: i32,
    scale_up_events: &[ScaleEvent],
    scale_down_events: &[ScaleEvent],
    rules: &ScalingRules,
    now: i64,
) -> i32 {
    let mut result: i64 = match rules.select_policy {
        SelectPolicy::Disabled => return current_replicas,
        SelectPolicy::Min => i64::from(i32::MAX),
        SelectPolicy::Max => i64::from(i32::MIN),
    };
    for policy in &rules.policies {
        let added = replicas_change_per_period(policy.period_seconds, scale_up_events, now);
        let deleted = replicas_change_per_period(policy.period_seconds, scale_down_events, now);
        let period_start = clamp_i32(i64::from(current_replicas) - added + deleted);
        let proposed: i64 = match policy.policy_type {
            ScalingPolicyType::Pods => i64::from(period_start) + i64::from(policy.value),
            // Rounded up so that a small percentage still makes progress.
            ScalingPolicyType::Percent => i64::from(
                (f64::from(period_start) * (1.0 + f64::from(policy.value) / 100.0)).ceil() as i32,
            ),
        };
        let proposed = i64::from(clamp_i32(proposed));
        result = match rules.select_policy {
            SelectPolicy::Min => result.min(proposed),
            _ => result.max(proposed),
        };
    }
    clamp_i32(result)
}

/// Port of `calculateScaleDownLimitWithBehaviors`.
pub fn calculate_scale_down_limit_with_behaviors(
    current_replicas: i32,
    scale_up_events: &[ScaleEvent],
    scale_down_events: &[ScaleEvent],
    rules: &ScalingRules,
    now: i64,
) -> i32 {
    let mut result: i64 = match rules.select_policy {
        SelectPolicy::Disabled => return current_replicas,
        SelectPolicy::Min => i64::from(i32::MIN),
        SelectPolicy::Max => i64::from(i32::MAX),
    };
    for policy in &rules.policies {
        let added = replicas_change_per_period(policy.period_seconds, scale_up_events, now);
        let deleted = replicas_change_per_period(policy.period_seconds, scale_down_events, now);
        let period_start = clamp_i32(i64::from(current_replicas) - added + deleted);
        let proposed: i64 = match policy.policy_type {
            ScalingPolicyType::Pods => i64::from(period_start) - i64::from(policy.value),
            // Go's int32(float64) conversion truncates toward zero.
            ScalingPolicyType::Percent => i64::from(
                (f64::from(period_start) * (1.0 - f64::from(policy.value) / 100.0)) as i32,
            ),
        };
        let proposed = i64::from(clamp_i32(proposed));
        result = match rules.select_policy {
            SelectPolicy::Min => result.max(proposed),
            _ => result.min(proposed),
        };
    }
    clamp_i32(result)
}

/// The rate limit of one direction (dispatches to the two functions above).
pub fn scale_limit(
    direction: Direction,
    current_replicas: i32,
    scale_up_events: &[ScaleEvent],
    scale_down_events: &[ScaleEvent],
    rules: &ScalingRules,
    now: i64,
) -> i32 {
    match direction {
        Direction::Up => calculate_scale_up_limit_with_scaling_rules(
            current_replicas,
            scale_up_events,
            scale_down_events,
            rules,
            now,
        ),
        Direction::Down => calculate_scale_down_limit_with_behaviors(
            current_replicas,
            scale_up_events,
            scale_down_events,
            rules,
            now,
        ),
    }
}

/// Inputs of the behavior normalization (upstream `NormalizationArg` without the key).
#[derive(Debug, Clone, PartialEq)]
pub struct NormalizationArg<'a> {
    /// Defaulted `scaleUp` rules.
    pub scale_up: &'a ScalingRules,
    /// Defaulted `scaleDown` rules (window already initialized).
    pub scale_down: &'a ScalingRules,
    /// Effective minReplicas.
    pub min_replicas: i32,
    /// maxReplicas.
    pub max_replicas: i32,
    /// Current replicas of the scale target.
    pub current_replicas: i32,
    /// Desired replicas (the stabilized recommendation when rate-limiting).
    pub desired_replicas: i32,
}

/// Port of `convertDesiredReplicasWithBehaviorRate`: applies the rate limits and min/max.
pub fn convert_desired_replicas_with_behavior_rate(
    args: &NormalizationArg<'_>,
    scale_up_events: &[ScaleEvent],
    scale_down_events: &[ScaleEvent],
    now: i64,
) -> (i32, ScalingLimitedReason) {
    if args.desired_replicas > args.current_replicas {
        let limit = calculate_scale_up_limit_with_scaling_rules(
            args.current_replicas,
            scale_up_events,
            scale_down_events,
            args.scale_up,
            now,
        )
        // No further scale-up until the scale-up events age out.
        .max(args.current_replicas);
        let (maximum, reason) = if args.max_replicas > limit {
            (limit, ScalingLimitedReason::ScaleUpLimit)
        } else {
            (args.max_replicas, ScalingLimitedReason::TooManyReplicas)
        };
        if args.desired_replicas > maximum {
            return (maximum, reason);
        }
    } else if args.desired_replicas < args.current_replicas {
        let limit = calculate_scale_down_limit_with_behaviors(
            args.current_replicas,
            scale_up_events,
            scale_down_events,
            args.scale_down,
            now,
        )
        .min(args.current_replicas);
        let (minimum, reason) = if args.min_replicas < limit {
            (limit, ScalingLimitedReason::ScaleDownLimit)
        } else {
            (args.min_replicas, ScalingLimitedReason::TooFewReplicas)
        };
        if args.desired_replicas < minimum {
            return (minimum, reason);
        }
    }
    (
        args.desired_replicas,
        ScalingLimitedReason::DesiredWithinRange,
    )
}

/// Port of `calculateScaleUpLimit`: max(2 * current, 4).
pub fn calculate_scale_up_limit(current_replicas: i32) -> i32 {
    (SCALE_UP_LIMIT_FACTOR * f64::from(current_replicas)).max(SCALE_UP_LIMIT_MINIMUM) as i32
}

/// Port of `convertDesiredReplicasWithRules` (HPA without `spec.behavior`).
pub fn convert_desired_replicas_with_rules(
    current_replicas: i32,
    desired_replicas: i32,
    min_replicas: i32,
    max_replicas: i32,
) -> (i32, ScalingLimitedReason) {
    let scale_up_limit = calculate_scale_up_limit(current_replicas);
    let (maximum, reason) = if max_replicas > scale_up_limit {
        (scale_up_limit, ScalingLimitedReason::ScaleUpLimit)
    } else {
        (max_replicas, ScalingLimitedReason::TooManyReplicas)
    };
    if desired_replicas < min_replicas {
        (min_replicas, ScalingLimitedReason::TooFewReplicas)
    } else if desired_replicas > maximum {
        (maximum, reason)
    } else {
        (desired_replicas, ScalingLimitedReason::DesiredWithinRange)
    }
}

/// The read-only part of `stabilizeRecommendation`: max of `desired` and every recommendation
/// not older than `now - window` (one exactly at the cutoff counts).
pub fn legacy_stabilized_recommendation(
    recommendations: &[Recommendation],
    desired_replicas: i32,
    now: i64,
    window_seconds: i64,
) -> i32 {
    let cutoff = now - window_seconds;
    recommendations
        .iter()
        .filter(|r| r.timestamp >= cutoff)
        .map(|r| r.replicas)
        .fold(desired_replicas, i32::max)
}

/// Port of `stabilizeRecommendation`: returns the stabilized value and records `desired`
/// (replacing the last too-old recommendation, else appending).
pub fn stabilize_recommendation(
    recommendations: &mut Vec<Recommendation>,
    desired_replicas: i32,
    now: i64,
    window_seconds: i64,
) -> i32 {
    let cutoff = now - window_seconds;
    let stabilized =
        legacy_stabilized_recommendation(recommendations, desired_replicas, now, window_seconds);
    let new = Recommendation {
        replicas: desired_replicas,
        timestamp: now,
    };
    match recommendations.iter().rposition(|r| r.timestamp < cutoff) {
        Some(i) => recommendations[i] = new,
        None => recommendations.push(new),
    }
    stabilized
}

/// Port of `stabilizeRecommendationWithBehaviors`: bounds `current` between the min of
/// recommendations newer than the scale-up window and the max of those newer than the
/// scale-down window (both including `desired`), then records `desired`.
pub fn stabilize_recommendation_with_behaviors(
    recommendations: &mut Vec<Recommendation>,
    args: &NormalizationArg<'_>,
    downscale_window_seconds: i64,
    now: i64,
) -> (i32, StabilizationReason) {
    let up_window = args
        .scale_up
        .stabilization_window_seconds
        .map(i64::from)
        .unwrap_or(0);
    let down_window = args
        .scale_down
        .stabilization_window_seconds
        .map(i64::from)
        .unwrap_or(downscale_window_seconds);
    let up_cutoff = now - up_window;
    let down_cutoff = now - down_window;
    let mut up_recommendation = args.desired_replicas;
    let mut down_recommendation = args.desired_replicas;
    let mut old_index = None;
    for (i, rec) in recommendations.iter().enumerate() {
        if rec.timestamp > up_cutoff {
            up_recommendation = up_recommendation.min(rec.replicas);
        }
        if rec.timestamp > down_cutoff {
            down_recommendation = down_recommendation.max(rec.replicas);
        }
        if rec.timestamp < up_cutoff && rec.timestamp < down_cutoff {
            old_index = Some(i);
        }
    }
    let mut recommendation = args.current_replicas;
    if recommendation < up_recommendation {
        recommendation = up_recommendation;
    }
    if recommendation > down_recommendation {
        recommendation = down_recommendation;
    }
    let new = Recommendation {
        replicas: args.desired_replicas,
        timestamp: now,
    };
    match old_index {
        Some(i) => recommendations[i] = new,
        None => recommendations.push(new),
    }
    let reason = if args.desired_replicas >= args.current_replicas {
        StabilizationReason::ScaleUpStabilized
    } else {
        StabilizationReason::ScaleDownStabilized
    };
    (recommendation, reason)
}

/// Port of `markScaleEventsOutdated`: events strictly older than `now - longest period`.
pub fn mark_scale_events_outdated(events: &mut [ScaleEvent], longest_policy_period: i32, now: i64) {
    let cutoff = now - i64::from(longest_policy_period);
    for e in events.iter_mut() {
        if e.timestamp < cutoff {
            e.outdated = true;
        }
    }
}

fn store_event(events: &mut Vec<ScaleEvent>, longest: i32, change: i32, now: i64) {
    mark_scale_events_outdated(events, longest, now);
    let new = ScaleEvent {
        replica_change: change,
        timestamp: now,
        outdated: false,
    };
    match events.iter().rposition(|e| e.outdated) {
        Some(i) => events[i] = new,
        None => events.push(new),
    }
}

/// What the HPA controller remembers per HPA between syncs.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ScalingHistory {
    /// Unstabilized recommendations.
    pub recommendations: Vec<Recommendation>,
    /// Scale-up events (only recorded for HPAs with behavior).
    pub scale_up_events: Vec<ScaleEvent>,
    /// Scale-down events (only recorded for HPAs with behavior).
    pub scale_down_events: Vec<ScaleEvent>,
}

impl ScalingHistory {
    /// Port of `recordInitialRecommendation`: seeds an empty history with `current`.
    pub fn record_initial_recommendation(&mut self, current_replicas: i32, now: i64) {
        if self.recommendations.is_empty() {
            self.recommendations.push(Recommendation {
                replicas: current_replicas,
                timestamp: now,
            });
        }
    }

    /// Port of `storeScaleEvent` (no-op without behavior).
    pub fn store_scale_event(
        &mut self,
        behavior: Option<&Behavior>,
        prev_replicas: i32,
        new_replicas: i32,
        now: i64,
    ) {
        let Some(behavior) = behavior else {
            return;
        };
        if new_replicas > prev_replicas {
            store_event(
                &mut self.scale_up_events,
                behavior.scale_up.longest_policy_period(),
                new_replicas - prev_replicas,
                now,
            );
        } else {
            store_event(
                &mut self.scale_down_events,
                behavior.scale_down.longest_policy_period(),
                prev_replicas - new_replicas,
                now,
            );
        }
    }
}

/// The outcome of a normalization step with the condition reasons upstream sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Normalized {
    /// Final desired replicas.
    pub desired_replicas: i32,
    /// `AbleToScale` reason from stabilization.
    pub able_to_scale_reason: StabilizationReason,
    /// `ScalingLimited` reason.
    pub scaling_limited_reason: ScalingLimitedReason,
    /// `ScalingLimited` condition status (true when the bound changed the value).
    pub scaling_limited: bool,
}

/// Port of `normalizeDesiredReplicas` (HPA without behavior).
pub fn normalize_desired_replicas(
    history: &mut ScalingHistory,
    current_replicas: i32,
    prenormalized_desired_replicas: i32,
    min_replicas: i32,
    max_replicas: i32,
    downscale_window_seconds: i64,
    now: i64,
) -> Normalized {
    let stabilized = stabilize_recommendation(
        &mut history.recommendations,
        prenormalized_desired_replicas,
        now,
        downscale_window_seconds,
    );
    let able = if stabilized != prenormalized_desired_replicas {
        StabilizationReason::ScaleDownStabilized
    } else {
        StabilizationReason::ReadyForNewScale
    };
    let (desired, reason) = convert_desired_replicas_with_rules(
        current_replicas,
        stabilized,
        min_replicas,
        max_replicas,
    );
    Normalized {
        desired_replicas: desired,
        able_to_scale_reason: able,
        scaling_limited_reason: reason,
        scaling_limited: desired != stabilized,
    }
}

/// Port of `normalizeDesiredReplicasWithBehaviors` (stabilize, then rate-limit and clamp).
#[allow(clippy::too_many_arguments)]
pub fn normalize_desired_replicas_with_behaviors(
    history: &mut ScalingHistory,
    behavior: &Behavior,
    current_replicas: i32,
    prenormalized_desired_replicas: i32,
    min_replicas: i32,
    max_replicas: i32,
    downscale_window_seconds: i64,
    now: i64,
) -> Normalized {
    let mut behavior = behavior.clone();
    behavior.init_scale_down_stabilization_window(downscale_window_seconds);
    let mut args = NormalizationArg {
        scale_up: &behavior.scale_up,
        scale_down: &behavior.scale_down,
        min_replicas,
        max_replicas,
        current_replicas,
        desired_replicas: prenormalized_desired_replicas,
    };
    let (stabilized, reason) = stabilize_recommendation_with_behaviors(
        &mut history.recommendations,
        &args,
        downscale_window_seconds,
        now,
    );
    args.desired_replicas = stabilized;
    let able = if stabilized != prenormalized_desired_replicas {
        reason
    } else {
        StabilizationReason::ReadyForNewScale
    };
    let (desired, limited) = convert_desired_replicas_with_behavior_rate(
        &args,
        &history.scale_up_events,
        &history.scale_down_events,
        now,
    );
    Normalized {
        desired_replicas: desired,
        able_to_scale_reason: able,
        scaling_limited_reason: limited,
        scaling_limited: desired != stabilized,
    }
}

/// Result of the bounds check in `reconcileAutoscaler` before metrics are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplicaBounds {
    /// currentReplicas = 0 and minReplicas != 0: scaling disabled (desired 0, no rescale).
    ScalingDisabled,
    /// currentReplicas > maxReplicas: desired = maxReplicas.
    AboveMax(i32),
    /// currentReplicas < minReplicas: desired = minReplicas.
    BelowMin(i32),
    /// In range: compute from metrics.
    InRange,
}

impl ReplicaBounds {
    /// The (desired replicas, rescale) pair for an out-of-range result; `None` when in range.
    pub fn decision(&self, current_replicas: i32) -> Option<(i32, bool)> {
        match *self {
            ReplicaBounds::ScalingDisabled => Some((0, false)),
            ReplicaBounds::AboveMax(d) | ReplicaBounds::BelowMin(d) => {
                Some((d, d != current_replicas))
            }
            ReplicaBounds::InRange => None,
        }
    }
}

/// Port of the bounds check at the top of `reconcileAutoscaler` (`min_replicas = None` means
/// the default 1).
pub fn check_replica_bounds(
    current_replicas: i32,
    min_replicas: Option<i32>,
    max_replicas: i32,
) -> ReplicaBounds {
    let min = min_replicas.unwrap_or(DEFAULT_MIN_REPLICAS);
    if current_replicas == 0 && min != 0 {
        ReplicaBounds::ScalingDisabled
    } else if current_replicas > max_replicas {
        ReplicaBounds::AboveMax(max_replicas)
    } else if current_replicas < min {
        ReplicaBounds::BelowMin(min)
    } else {
        ReplicaBounds::InRange
    }
}

#[cfg(test)]
mod tests {
    //! Rows restated from upstream `pkg/controller/podautoscaler/horizontal_test.go`
    //! (TestConvertDesiredReplicasWithRules, TestCalculateScaleUpLimitWithScalingRules,
    //! TestCalculateScaleDownLimitWithBehaviors, TestStoreScaleEvents,
    //! TestNormalizeDesiredReplicasWithBehaviors, TestStabilizeRecommendationWithBehaviors) or,
    //! where marked `derived`, worked out from `horizontal.go`.
    use super::*;

    const NOW: i64 = 1_700_000_000;

    fn pods(value: i32, period: i32) -> ScalingPolicy {
        ScalingPolicy {
            policy_type: ScalingPolicyType::Pods,
            value,
            period_seconds: period,
        }
    }

    fn percent(value: i32, period: i32) -> ScalingPolicy {
        ScalingPolicy {
            policy_type: ScalingPolicyType::Percent,
            value,
            period_seconds: period,
        }
    }

    fn rules(
        select: SelectPolicy,
        window: Option<i32>,
        policies: Vec<ScalingPolicy>,
    ) -> ScalingRules {
        ScalingRules {
            stabilization_window_seconds: window,
            select_policy: select,
            policies,
            tolerance: None,
        }
    }

    fn ev(change: i32, ago: i64) -> ScaleEvent {
        ScaleEvent {
            replica_change: change,
            timestamp: NOW - ago,
            outdated: false,
        }
    }

    #[test]
    fn legacy_convert_rows() {
        use ScalingLimitedReason::*;
        assert_eq!(
            convert_desired_replicas_with_rules(5, 7, 3, 10),
            (7, DesiredWithinRange)
        );
        assert_eq!(
            convert_desired_replicas_with_rules(5, 2, 3, 10),
            (3, TooFewReplicas)
        );
        assert_eq!(
            convert_desired_replicas_with_rules(5, 15, 3, 10),
            (10, TooManyReplicas)
        );
        assert_eq!(
            convert_desired_replicas_with_rules(3, 1000, 1, 2000),
            (6, ScaleUpLimit)
        );
        assert_eq!(
            convert_desired_replicas_with_rules(1, 0, 0, 10),
            (0, DesiredWithinRange)
        );
        assert_eq!(calculate_scale_up_limit(0), 4);
        assert_eq!(calculate_scale_up_limit(1), 4);
        assert_eq!(calculate_scale_up_limit(3), 6);
    }

    #[test]
    fn scale_up_limit_rows() {
        // derived: events within the period shift the period start; an event exactly at the
        // cutoff does not count.
        let policies = vec![pods(4, 60), percent(100, 60)];
        let up = [ev(3, 30), ev(2, 60), ev(5, 70)];
        let max = rules(SelectPolicy::Max, None, policies.clone());
        let min = rules(SelectPolicy::Min, None, policies.clone());
        let off = rules(SelectPolicy::Disabled, None, policies);
        assert_eq!(
            calculate_scale_up_limit_with_scaling_rules(10, &up, &[], &max, NOW),
            14
        );
        assert_eq!(
            calculate_scale_up_limit_with_scaling_rules(10, &up, &[], &min, NOW),
            11
        );
        assert_eq!(
            calculate_scale_up_limit_with_scaling_rules(10, &up, &[], &off, NOW),
            10
        );
        // Scale-down events raise the period start.
        let down = [ev(2, 10)];
        assert_eq!(
            calculate_scale_up_limit_with_scaling_rules(10, &up, &down, &max, NOW),
            18
        );
        // Percent rounds up: 3 * 1.1 = 3.3 -> 4.
        let small = rules(SelectPolicy::Max, None, vec![percent(10, 60)]);
        assert_eq!(
            calculate_scale_up_limit_with_scaling_rules(3, &[], &[], &small, NOW),
            4
        );
        // No policies: the selector's starting value.
        let none = rules(SelectPolicy::Max, None, vec![]);
        assert_eq!(
            calculate_scale_up_limit_with_scaling_rules(3, &[], &[], &none, NOW),
            i32::MIN
        );
    }

    #[test]
    fn scale_down_limit_rows() {
        let policies = vec![pods(2, 60), percent(50, 60)];
        let min = rules(SelectPolicy::Min, None, policies.clone());
        let max = rules(SelectPolicy::Max, None, policies.clone());
        let off = rules(SelectPolicy::Disabled, None, policies);
        assert_eq!(
            calculate_scale_down_limit_with_behaviors(5, &[], &[], &min, NOW),
            3
        );
        assert_eq!(
            calculate_scale_down_limit_with_behaviors(5, &[], &[], &max, NOW),
            2
        );
        assert_eq!(
            calculate_scale_down_limit_with_behaviors(5, &[], &[], &off, NOW),
            5
        );
        // derived: a recent scale-down of 3 means the period started at 8: Percent 4, Pods 6.
        let down = [ev(3, 20)];
        assert_eq!(
            calculate_scale_down_limit_with_behaviors(5, &[], &down, &max, NOW),
            4
        );
        assert_eq!(
            calculate_scale_down_limit_with_behaviors(5, &[], &down, &min, NOW),
            6
        );
    }

    #[test]
    fn behavior_rate_rows() {
        use ScalingLimitedReason::*;
        let up = rules(SelectPolicy::Max, Some(0), vec![percent(200, 60)]);
        let down = rules(SelectPolicy::Max, Some(300), vec![percent(100, 60)]);
        let arg = |current, desired| NormalizationArg {
            scale_up: &up,
            scale_down: &down,
            min_replicas: 1,
            max_replicas: 10,
            current_replicas: current,
            desired_replicas: desired,
        };
        assert_eq!(
            convert_desired_replicas_with_behavior_rate(&arg(5, 8), &[], &[], NOW),
            (8, DesiredWithinRange)
        );
        assert_eq!(
            convert_desired_replicas_with_behavior_rate(&arg(5, 3), &[], &[], NOW),
            (3, DesiredWithinRange)
        );
        assert_eq!(
            convert_desired_replicas_with_behavior_rate(&arg(8, 12), &[], &[], NOW),
            (10, TooManyReplicas)
        );
        // Scale-up events that already used the budget keep the limit at current.
        let slow = rules(SelectPolicy::Max, Some(0), vec![pods(1, 60)]);
        let a = NormalizationArg {
            scale_up: &slow,
            ..arg(5, 9)
        };
        assert_eq!(
            convert_desired_replicas_with_behavior_rate(&a, &[ev(4, 10)], &[], NOW),
            (5, ScaleUpLimit)
        );
    }

    #[test]
    fn stabilization_with_behaviors_rows() {
        let up = rules(SelectPolicy::Max, Some(300), vec![]);
        let down = rules(SelectPolicy::Max, Some(600), vec![]);
        let arg = |current, desired| NormalizationArg {
            scale_up: &up,
            scale_down: &down,
            min_replicas: 1,
            max_replicas: 100,
            current_replicas: current,
            desired_replicas: desired,
        };
        let rec = |replicas, ago| Recommendation {
            replicas,
            timestamp: NOW - ago,
        };
        let mut recs = vec![rec(8, 120), rec(7, 240)];
        assert_eq!(
            stabilize_recommendation_with_behaviors(&mut recs, &arg(5, 10), 300, NOW),
            (7, StabilizationReason::ScaleUpStabilized)
        );
        assert_eq!(recs.len(), 3);
        let mut recs = vec![rec(5, 300), rec(4, 480)];
        assert_eq!(
            stabilize_recommendation_with_behaviors(&mut recs, &arg(8, 3), 300, NOW),
            (5, StabilizationReason::ScaleDownStabilized)
        );
        assert_eq!(recs.len(), 3);
        // An entry older than both windows is replaced.
        let mut recs = vec![rec(5, 60), rec(9, 700)];
        assert_eq!(
            stabilize_recommendation_with_behaviors(&mut recs, &arg(5, 5), 300, NOW),
            (5, StabilizationReason::ScaleUpStabilized)
        );
        assert_eq!(recs, vec![rec(5, 60), rec(5, 0)]);
    }

    #[test]
    fn normalize_with_behaviors_rows() {
        let behavior = |up: i32, down: i32| Behavior {
            scale_up: rules(SelectPolicy::Max, Some(300), vec![percent(up, 60)]),
            scale_down: rules(SelectPolicy::Max, Some(300), vec![percent(down, 60)]),
        };
        let mut h = ScalingHistory::default();
        let n = normalize_desired_replicas_with_behaviors(
            &mut h,
            &behavior(200, 100),
            5,
            15,
            1,
            10,
            300,
            NOW,
        );
        assert_eq!(n.desired_replicas, 10);
        assert_eq!(
            n.scaling_limited_reason,
            ScalingLimitedReason::TooManyReplicas
        );
        assert!(n.scaling_limited);
        let mut h = ScalingHistory::default();
        let n = normalize_desired_replicas_with_behaviors(
            &mut h,
            &behavior(200, 50),
            8,
            2,
            1,
            10,
            300,
            NOW,
        );
        assert_eq!(n.desired_replicas, 4);
        assert_eq!(
            n.scaling_limited_reason,
            ScalingLimitedReason::ScaleDownLimit
        );
        assert_eq!(
            n.able_to_scale_reason,
            StabilizationReason::ReadyForNewScale
        );
    }

    #[test]
    fn legacy_stabilization_rows() {
        let rec = |replicas, ago| Recommendation {
            replicas,
            timestamp: NOW - ago,
        };
        // TestNormalizeDesiredReplicas 'stabilize - old recommendations'.
        let recs = vec![rec(10, 600), rec(4, 60), rec(5, 120), rec(9, 540)];
        assert_eq!(legacy_stabilized_recommendation(&recs, 3, NOW, 300), 5);
        // A recommendation exactly at the cutoff counts.
        assert_eq!(
            legacy_stabilized_recommendation(&[rec(7, 300)], 3, NOW, 300),
            7
        );
        let mut recs = vec![rec(10, 600), rec(4, 60)];
        let mut h = ScalingHistory {
            recommendations: recs.clone(),
            ..ScalingHistory::default()
        };
        assert_eq!(stabilize_recommendation(&mut recs, 3, NOW, 300), 4);
        assert_eq!(recs, vec![rec(3, 0), rec(4, 60)]);
        let n = normalize_desired_replicas(&mut h, 5, 3, 1, 10, 300, NOW);
        assert_eq!(n.desired_replicas, 4);
        assert_eq!(
            n.able_to_scale_reason,
            StabilizationReason::ScaleDownStabilized
        );
        assert_eq!(
            n.scaling_limited_reason,
            ScalingLimitedReason::DesiredWithinRange
        );
        assert!(!n.scaling_limited);
    }

    #[test]
    fn store_scale_events_rows() {
        let b = Behavior {
            scale_up: rules(SelectPolicy::Max, Some(0), vec![pods(4, 60)]),
            scale_down: rules(SelectPolicy::Max, Some(300), vec![percent(100, 60)]),
        };
        let mut h = ScalingHistory::default();
        h.store_scale_event(Some(&b), 5, 10, NOW);
        h.store_scale_event(Some(&b), 10, 5, NOW);
        h.store_scale_event(None, 5, 10, NOW);
        assert_eq!(h.scale_up_events, vec![ev(5, 0)]);
        assert_eq!(h.scale_down_events, vec![ev(5, 0)]);
        // An event older than the longest period is replaced.
        h.store_scale_event(Some(&b), 5, 7, NOW + 61);
        assert_eq!(
            h.scale_up_events,
            vec![ScaleEvent {
                replica_change: 2,
                timestamp: NOW + 61,
                outdated: false
            }]
        );
        let mut h = ScalingHistory::default();
        h.record_initial_recommendation(3, NOW);
        h.record_initial_recommendation(9, NOW);
        assert_eq!(h.recommendations.len(), 1);
    }

    #[test]
    fn replica_bounds_rows() {
        assert_eq!(
            check_replica_bounds(0, Some(1), 10).decision(0),
            Some((0, false))
        );
        assert_eq!(
            check_replica_bounds(0, None, 10),
            ReplicaBounds::ScalingDisabled
        );
        assert_eq!(check_replica_bounds(0, Some(0), 10), ReplicaBounds::InRange);
        assert_eq!(
            check_replica_bounds(12, Some(1), 10).decision(12),
            Some((10, true))
        );
        assert_eq!(
            check_replica_bounds(1, Some(2), 10).decision(1),
            Some((2, true))
        );
        assert_eq!(check_replica_bounds(5, Some(2), 10).decision(5), None);
    }

    #[test]
    fn defaults() {
        let up = generate_scale_up_rules(None);
        assert_eq!(up.stabilization_window_seconds, Some(0));
        assert_eq!(up.select_policy, SelectPolicy::Max);
        assert_eq!(up.policies, vec![pods(4, 15), percent(100, 15)]);
        let down = generate_scale_down_rules(Some(&PartialScalingRules {
            select_policy: Some(SelectPolicy::Min),
            ..PartialScalingRules::default()
        }));
        assert_eq!(down.stabilization_window_seconds, None);
        assert_eq!(down.select_policy, SelectPolicy::Min);
        assert_eq!(down.policies, vec![percent(100, 15)]);
        let mut b = Behavior::default();
        b.init_scale_down_stabilization_window(DEFAULT_DOWNSCALE_STABILIZATION_WINDOW_SECONDS);
        assert_eq!(b.scale_down.stabilization_window_seconds, Some(300));
        assert_eq!(b.scale_up.longest_policy_period(), 15);
    }
}
