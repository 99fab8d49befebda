//! TaintToleration plugin: Filter status, raw Score and NormalizeScore.
//!
//! Port of `pkg/scheduler/framework/plugins/tainttoleration/taint_toleration.go` (`Filter`,
//! `getAllTolerationPreferNoSchedule`, `countIntolerableTaintsPreferNoSchedule`, `Score`,
//! `NormalizeScore`) and `pkg/scheduler/framework/plugins/helper/taint.go`
//! (`DoNotScheduleTaintsFilterFunc`). Toleration matching itself lives in
//! [`crate::api::taint`].

use crate::api::taint::{
    Taint, TaintEffect, Toleration, find_untolerated_taint, tolerations_tolerate_taint,
};
use crate::controllers::scheduler::framework::status::{Code, Status};
use crate::controllers::scheduler::normalize::{MAX_NODE_SCORE, default_normalize_score};

/// Upstream Filter failure reason (current upstream no longer names the taint).
pub const ERR_REASON_UNTOLERATED_TAINT: &str = "node(s) had untolerated taint(s)";

/// Upstream `helper.DoNotScheduleTaintsFilterFunc`: taints that block scheduling
/// (`NoSchedule` and `NoExecute`).
pub fn is_do_not_schedule_taint(taint: &Taint) -> bool {
    matches!(
        taint.effect,
        TaintEffect::NoSchedule | TaintEffect::NoExecute
    )
}

/// The first `NoSchedule` / `NoExecute` taint not tolerated by any toleration, if any.
pub fn find_untolerated_do_not_schedule_taint<'a>(
    taints: &'a [Taint],
    tolerations: &[Toleration],
    comparison_operators_gate: bool,
) -> Option<&'a Taint> {
    find_untolerated_taint(
        taints,
        tolerations,
        is_do_not_schedule_taint,
        comparison_operators_gate,
    )
}

/// Filter code: `UnschedulableAndUnresolvable` when some `NoSchedule` / `NoExecute` taint is
/// not tolerated, else `Success` (`PreferNoSchedule` taints never fail a node).
pub fn filter_code(
    taints: &[Taint],
    tolerations: &[Toleration],
    comparison_operators_gate: bool,
) -> Code {
    if find_untolerated_do_not_schedule_taint(taints, tolerations, comparison_operators_gate)
        .is_some()
    {
        Code::UnschedulableAndUnresolvable
    } else {
        Code::Success
    }
}

/// [`filter_code`] as a [`Status`] with the upstream reason.
pub fn filter(
    taints: &[Taint],
    tolerations: &[Toleration],
    comparison_operators_gate: bool,
) -> Status {
    match filter_code(taints, tolerations, comparison_operators_gate) {
        Code::Success => Status::success(),
        code => Status::new(code, [ERR_REASON_UNTOLERATED_TAINT]),
    }
}

/// Upstream `getAllTolerationPreferNoSchedule` as a predicate: tolerations with an empty
/// effect or `PreferNoSchedule` are the only ones the Score considers.
pub fn is_prefer_no_schedule_toleration(toleration: &Toleration) -> bool {
    matches!(
        toleration.effect,
        None | Some(TaintEffect::PreferNoSchedule)
    )
}

/// Upstream PreScore: the pod's tolerations that matter for scoring (computed once per pod).
pub fn prefer_no_schedule_tolerations(tolerations: &[Toleration]) -> Vec<Toleration> {
    tolerations
        .iter()
        .filter(|t| is_prefer_no_schedule_toleration(t))
        .cloned()
        .collect()
}

/// Raw score (upstream `countIntolerableTaintsPreferNoSchedule`): the number of the node's
/// `PreferNoSchedule` taints not tolerated by `prefer_tolerations` (which must already be
/// filtered with [`prefer_no_schedule_tolerations`]).
pub fn count_intolerable_taints_prefer_no_schedule(
    taints: &[Taint],
    prefer_tolerations: &[Toleration],
    comparison_operators_gate: bool,
) -> i64 {
    taints
        .iter()
        .filter(|t| t.effect == TaintEffect::PreferNoSchedule)
        .filter(|t| !tolerations_tolerate_taint(prefer_tolerations, t, comparison_operators_gate))
        .count() as i64
}

/// Upstream NormalizeScore: `DefaultNormalizeScore(MaxNodeScore, reverse = true)` over the raw
/// scores of all scored nodes, in place.
pub fn normalize_scores(scores: &mut [i64]) {
    default_normalize_score(MAX_NODE_SCORE, true, scores);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::taint::TolerationOperator;

    fn taint(k: &str, v: &str, e: TaintEffect) -> Taint {
        Taint {
            key: k.into(),
            value: v.into(),
            effect: e,
        }
    }

    fn tol(k: &str, op: TolerationOperator, v: &str, e: Option<TaintEffect>) -> Toleration {
        Toleration {
            key: k.into(),
            operator: op,
            value: v.into(),
            effect: e,
            toleration_seconds: None,
        }
    }

    use TaintEffect::*;
    use TolerationOperator::*;

    fn scores(tols: &[Toleration], nodes: &[Vec<Taint>]) -> Vec<i64> {
        let prefer = prefer_no_schedule_tolerations(tols);
        let mut s: Vec<i64> = nodes
            .iter()
            .map(|t| count_intolerable_taints_prefer_no_schedule(t, &prefer, false))
            .collect();
        normalize_scores(&mut s);
        s
    }

    // Upstream taint_toleration_test.go TestTaintTolerationScore rows.
    #[test]
    fn score_rows() {
        // 'node with taints tolerated by the pod, gets a higher score than those node with
        // intolerable taints'
        let tols = [tol("foo", Equal, "bar", Some(PreferNoSchedule))];
        assert_eq!(
            scores(
                &tols,
                &[
                    vec![taint("foo", "bar", PreferNoSchedule)],
                    vec![taint("foo", "blah", PreferNoSchedule)],
                ]
            ),
            vec![100, 0]
        );
        // 'the nodes that all of their taints are tolerated by the pod, get the same score,
        // no matter how many tolerable taints a node has'
        let tols = [
            tol("cpu-type", Equal, "arm64", Some(PreferNoSchedule)),
            tol("disk-type", Equal, "ssd", Some(PreferNoSchedule)),
        ];
        assert_eq!(
            scores(
                &tols,
                &[
                    vec![],
                    vec![taint("cpu-type", "arm64", PreferNoSchedule)],
                    vec![
                        taint("cpu-type", "arm64", PreferNoSchedule),
                        taint("disk-type", "ssd", PreferNoSchedule),
                    ],
                ]
            ),
            vec![100, 100, 100]
        );
        // 'only taints and tolerations that have effect PreferNoSchedule are checked by
        // prioritizer function'
        let tols = [tol("cpu-type", Equal, "arm64", Some(NoSchedule))];
        assert_eq!(
            scores(
                &tols,
                &[
                    vec![],
                    vec![taint("cpu-type", "arm64", NoSchedule)],
                    vec![taint("cpu-type", "arm64", PreferNoSchedule)],
                ]
            ),
            vec![100, 100, 0]
        );
        // Toleration with empty effect applies to PreferNoSchedule taints.
        let tols = [tol("cpu-type", Exists, "", None)];
        assert_eq!(
            scores(
                &tols,
                &[vec![], vec![taint("cpu-type", "arm64", PreferNoSchedule)]]
            ),
            vec![100, 100]
        );
    }

    // Upstream TestTaintTolerationFilter rows.
    #[test]
    fn filter_rows() {
        let ns = [taint("dedicated", "user1", NoSchedule)];
        assert_eq!(
            filter_code(&ns, &[], false),
            Code::UnschedulableAndUnresolvable
        );
        let st = filter(&ns, &[], false);
        assert_eq!(st.message(), ERR_REASON_UNTOLERATED_TAINT);
        // 'A pod which can be scheduled on a dedicated node assigned to user1 with effect
        // NoSchedule'
        let t = [tol("dedicated", Equal, "user1", Some(NoSchedule))];
        assert_eq!(filter_code(&ns, &t, false), Code::Success);
        // 'A pod which can't be scheduled on a dedicated node assigned to user2 with effect
        // NoSchedule'
        let t = [tol("dedicated", Equal, "user2", Some(NoSchedule))];
        assert_eq!(
            filter_code(&ns, &t, false),
            Code::UnschedulableAndUnresolvable
        );
        // 'A pod can be scheduled onto the node, with a toleration uses operator Exists that
        // tolerates the taints on the node'
        let t = [tol("foo", Exists, "", Some(NoSchedule))];
        assert_eq!(
            filter_code(&[taint("foo", "bar", NoSchedule)], &t, false),
            Code::Success
        );
        // 'A pod has multiple tolerations, node has multiple taints, all the taints are
        // tolerated, pod can be scheduled onto the node'
        let t = [
            tol("dedicated", Equal, "user2", Some(NoSchedule)),
            tol("foo", Exists, "", Some(NoSchedule)),
        ];
        let taints = [
            taint("dedicated", "user2", NoSchedule),
            taint("foo", "bar", NoSchedule),
        ];
        assert_eq!(filter_code(&taints, &t, false), Code::Success);
        // 'A pod has a toleration that keys and values match the taint on the node, but
        // (non-empty) effect doesn't match, can't be scheduled onto the node'
        let t = [tol("foo", Equal, "bar", Some(PreferNoSchedule))];
        assert_eq!(
            filter_code(&[taint("foo", "bar", NoSchedule)], &t, false),
            Code::UnschedulableAndUnresolvable
        );
        // 'The pod has a toleration that keys and values match the taint on the node, the
        // effect of toleration is empty, and the effect of taint is NoSchedule. Pod can be
        // scheduled onto the node'
        let t = [tol("foo", Equal, "bar", None)];
        assert_eq!(
            filter_code(&[taint("foo", "bar", NoSchedule)], &t, false),
            Code::Success
        );
        // 'The pod has a toleration that key and value don't match the taint on the node, but
        // the effect of taint on node is PreferNoSchedule. Pod can be scheduled onto the node'
        let t = [tol("dedicated", Equal, "user2", Some(NoSchedule))];
        assert_eq!(
            filter_code(&[taint("dedicated", "user1", PreferNoSchedule)], &t, false),
            Code::Success
        );
        // NoExecute taints block too.
        assert_eq!(
            filter_code(&[taint("x", "", NoExecute)], &[], false),
            Code::UnschedulableAndUnresolvable
        );
    }

    #[test]
    fn comparison_operator_gate() {
        let taints = [taint("score", "10", NoSchedule)];
        let t = [tol("score", Gt, "5", Some(NoSchedule))];
        assert_eq!(filter_code(&taints, &t, true), Code::Success);
        assert_eq!(
            filter_code(&taints, &t, false),
            Code::UnschedulableAndUnresolvable
        );
    }
}
