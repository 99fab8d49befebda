//! Node taints and pod tolerations, and whether tolerations tolerate taints.
//!
//! Port of `staging/src/k8s.io/api/core/v1/toleration.go` (`ToleratesTaint`,
//! `compareNumericValues`), `staging/src/k8s.io/api/core/v1/taint.go` (`Taint.ToString`) and
//! `staging/src/k8s.io/component-helpers/scheduling/corev1/helpers.go`
//! (`TolerationsTolerateTaint`, `FindMatchingUntoleratedTaint`). The `Gt`/`Lt` toleration
//! operators are gated (upstream feature gate `TaintTolerationComparisonOperators`): callers pass
//! the gate explicitly.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

/// Why a taint or toleration field could not be interpreted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TaintError {
    /// Unknown taint effect name.
    #[error("invalid taint effect {0:?}: expected one of NoSchedule, PreferNoSchedule, NoExecute")]
    UnknownEffect(String),
    /// Unknown toleration operator name.
    #[error("invalid toleration operator {0:?}: expected one of Exists, Equal, Gt, Lt")]
    UnknownOperator(String),
    /// A `Gt`/`Lt` comparison value is not a canonical decimal 64-bit integer.
    #[error(
        "failed to parse {what} value {value:?} as int64: must be a valid decimal integer in canonical form"
    )]
    NotInteger {
        /// `"toleration"` or `"taint"`.
        what: &'static str,
        /// The offending value.
        value: String,
    },
}

/// What a taint does to pods that do not tolerate it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum TaintEffect {
    /// New pods are not scheduled onto the node.
    NoSchedule,
    /// The scheduler tries to avoid the node.
    PreferNoSchedule,
    /// Running pods are evicted and new pods not scheduled.
    NoExecute,
}

impl TaintEffect {
    /// The API spelling.
    pub fn as_str(&self) -> &'static str {
        match self {
            TaintEffect::NoSchedule => "NoSchedule",
            TaintEffect::PreferNoSchedule => "PreferNoSchedule",
            TaintEffect::NoExecute => "NoExecute",
        }
    }
}

impl FromStr for TaintEffect {
    type Err = TaintError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "NoSchedule" => Ok(TaintEffect::NoSchedule),
            "PreferNoSchedule" => Ok(TaintEffect::PreferNoSchedule),
            "NoExecute" => Ok(TaintEffect::NoExecute),
            _ => Err(TaintError::UnknownEffect(s.to_string())),
        }
    }
}

impl fmt::Display for TaintEffect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A node taint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Taint {
    /// The taint key.
    pub key: String,
    /// The taint value (may be empty).
    pub value: String,
    /// The effect.
    pub effect: TaintEffect,
}

impl fmt::Display for Taint {
    /// Upstream `Taint.ToString()`: `key=value:effect`, or `key:effect` when the value is empty.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.value.is_empty() {
            write!(f, "{}:{}", self.key, self.effect)
        } else {
            write!(f, "{}={}:{}", self.key, self.value, self.effect)
        }
    }
}

/// How a toleration compares its value with a taint's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum TolerationOperator {
    /// Any value (and, with an empty key, any key).
    Exists,
    /// Values equal (the API default when the operator is empty).
    Equal,
    /// Taint value (integer) greater than the toleration value (feature gated).
    Gt,
    /// Taint value (integer) less than the toleration value (feature gated).
    Lt,
}

impl FromStr for TolerationOperator {
    type Err = TaintError;

    /// Parses the API spelling; the empty string means `Equal`, as upstream.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "Exists" => Ok(TolerationOperator::Exists),
            "Equal" | "" => Ok(TolerationOperator::Equal),
            "Gt" => Ok(TolerationOperator::Gt),
            "Lt" => Ok(TolerationOperator::Lt),
            _ => Err(TaintError::UnknownOperator(s.to_string())),
        }
    }
}

impl fmt::Display for TolerationOperator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TolerationOperator::Exists => "Exists",
            TolerationOperator::Equal => "Equal",
            TolerationOperator::Gt => "Gt",
            TolerationOperator::Lt => "Lt",
        })
    }
}

/// A pod toleration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Toleration {
    /// Taint key to match; empty means any key (only meaningful with `Exists`).
    pub key: String,
    /// Comparison operator.
    pub operator: TolerationOperator,
    /// Value to compare (ignored by `Exists`).
    pub value: String,
    /// Effect to match; `None` matches all effects.
    pub effect: Option<TaintEffect>,
    /// For `NoExecute`: how long the pod stays bound after the taint appears; `None` = forever.
    pub toleration_seconds: Option<i64>,
}

/// Parses a canonical decimal integer (`0`, or an optional `-` then `[1-9][0-9]*`) into an i64.
/// Port of `content.IsDecimalInteger` followed by `strconv.ParseInt`.
fn parse_canonical_i64(value: &str, what: &'static str) -> Result<i64, TaintError> {
    let err = || TaintError::NotInteger {
        what,
        value: value.to_string(),
    };
    let digits = value.strip_prefix('-').unwrap_or(value);
    let canonical = value == "0"
        || (digits
            .as_bytes()
            .first()
            .is_some_and(|b| (b'1'..=b'9').contains(b))
            && digits.bytes().all(|b| b.is_ascii_digit()));
    if !canonical {
        return Err(err());
    }
    value.parse::<i64>().map_err(|_| err())
}

impl Toleration {
    /// Whether this toleration tolerates `taint` (port of toleration.go `ToleratesTaint`):
    /// the effect must be unset or equal; the key empty or equal; then `Exists` always matches,
    /// `Equal` compares values, and `Gt`/`Lt` match only when `comparison_operators_gate` is on
    /// and both values are canonical integers with taint > (Gt) / < (Lt) toleration value.
    pub fn tolerates(&self, taint: &Taint, comparison_operators_gate: bool) -> bool {
        self.try_tolerates(taint, comparison_operators_gate)
            .unwrap_or(false)
    }

    /// Like [`Toleration::tolerates`], but reports an unparsable `Gt`/`Lt` value as an error
    /// (upstream returns `(false, err)` there).
    pub fn try_tolerates(
        &self,
        taint: &Taint,
        comparison_operators_gate: bool,
    ) -> Result<bool, TaintError> {
        if self.effect.is_some_and(|e| e != taint.effect) {
            return Ok(false);
        }
        if !self.key.is_empty() && self.key != taint.key {
            return Ok(false);
        }
        match self.operator {
            TolerationOperator::Equal => Ok(self.value == taint.value),
            TolerationOperator::Exists => Ok(true),
            TolerationOperator::Gt | TolerationOperator::Lt => {
                if !comparison_operators_gate {
                    return Ok(false);
                }
                let tol = parse_canonical_i64(&self.value, "toleration")?;
                let tnt = parse_canonical_i64(&taint.value, "taint")?;
                Ok(if self.operator == TolerationOperator::Lt {
                    tnt < tol
                } else {
                    tnt > tol
                })
            }
        }
    }
}

/// True if any toleration tolerates `taint` (port of helpers.go `TolerationsTolerateTaint`).
pub fn tolerations_tolerate_taint(tols: &[Toleration], taint: &Taint, gate: bool) -> bool {
    tols.iter().any(|t| t.tolerates(taint, gate))
}

/// The first taint (in order) passing `inclusion` that no toleration tolerates, if any (port of
/// helpers.go `FindMatchingUntoleratedTaint`; a comparison error counts as untolerated there too).
pub fn find_untolerated_taint<'a>(
    taints: &'a [Taint],
    tols: &[Toleration],
    inclusion: impl Fn(&Taint) -> bool,
    gate: bool,
) -> Option<&'a Taint> {
    taints
        .iter()
        .filter(|t| inclusion(t))
        .find(|t| !tolerations_tolerate_taint(tols, t, gate))
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn basic_matching() {
        let t = taint("dedicated", "gpu", NoSchedule);
        assert!(tol("dedicated", Equal, "gpu", Some(NoSchedule)).tolerates(&t, false));
        assert!(tol("dedicated", Equal, "gpu", None).tolerates(&t, false));
        assert!(!tol("dedicated", Equal, "cpu", None).tolerates(&t, false));
        assert!(!tol("dedicated", Equal, "gpu", Some(NoExecute)).tolerates(&t, false));
        assert!(tol("dedicated", Exists, "", None).tolerates(&t, false));
        assert!(tol("", Exists, "", None).tolerates(&t, false));
        assert!(!tol("", Exists, "", Some(PreferNoSchedule)).tolerates(&t, false));
        assert!(!tol("other", Exists, "", None).tolerates(&t, false));
        // Empty key with Equal: key matches anything, value must equal.
        assert!(tol("", Equal, "gpu", None).tolerates(&t, false));
    }

    #[test]
    fn comparison_operators() {
        let t = taint("score", "10", NoSchedule);
        assert!(!tol("score", Gt, "5", None).tolerates(&t, false));
        assert!(tol("score", Gt, "5", None).tolerates(&t, true));
        assert!(!tol("score", Gt, "10", None).tolerates(&t, true));
        assert!(tol("score", Lt, "11", None).tolerates(&t, true));
        assert!(!tol("score", Lt, "10", None).tolerates(&t, true));
        assert!(tol("score", Gt, "-5", None).tolerates(&t, true));
        assert!(!tol("score", Gt, "05", None).tolerates(&t, true));
        assert!(!tol("score", Gt, "abc", None).tolerates(&t, true));
        assert!(
            tol("score", Gt, "+5", None)
                .try_tolerates(&t, true)
                .is_err()
        );
        let bad = taint("score", "x", NoSchedule);
        assert_eq!(
            tol("score", Lt, "5", None).try_tolerates(&bad, true),
            Err(TaintError::NotInteger {
                what: "taint",
                value: "x".into()
            })
        );
        assert!(parse_canonical_i64("-0", "taint").is_err());
        assert_eq!(parse_canonical_i64("0", "taint"), Ok(0));
        assert!(parse_canonical_i64("99999999999999999999", "taint").is_err());
    }

    #[test]
    fn find_untolerated() {
        let taints = vec![
            taint("a", "1", PreferNoSchedule),
            taint("b", "", NoSchedule),
            taint("c", "", NoExecute),
        ];
        let tols = vec![tol("b", Exists, "", None)];
        let hard = |t: &Taint| matches!(t.effect, NoSchedule | NoExecute);
        assert_eq!(
            find_untolerated_taint(&taints, &tols, hard, false).map(|t| t.key.as_str()),
            Some("c")
        );
        let tols2 = vec![tol("b", Exists, "", None), tol("c", Exists, "", None)];
        assert_eq!(find_untolerated_taint(&taints, &tols2, hard, false), None);
        assert_eq!(
            find_untolerated_taint(&taints, &tols2, |_| true, false).map(|t| t.key.as_str()),
            Some("a")
        );
        assert!(tolerations_tolerate_taint(&tols2, &taints[2], false));
        assert!(!tolerations_tolerate_taint(&[], &taints[2], false));
    }

    #[test]
    fn parsing_and_display() {
        assert_eq!("NoExecute".parse::<TaintEffect>(), Ok(NoExecute));
        let e = "noschedule".parse::<TaintEffect>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid taint effect \"noschedule\": expected one of NoSchedule, PreferNoSchedule, NoExecute"
        );
        assert_eq!("".parse::<TolerationOperator>(), Ok(Equal));
        assert!("Equals".parse::<TolerationOperator>().is_err());
        assert_eq!(taint("k", "v", NoSchedule).to_string(), "k=v:NoSchedule");
        assert_eq!(taint("k", "", NoExecute).to_string(), "k:NoExecute");
    }
}
