//! `--tolerance`: how much worse than the baseline a metric may get before `check`
//! calls it a regression.
//!
//! Items are comma-separated and the flag may repeat; later items win. `N%` applies to
//! every metric, `METRIC=N%` or `METRIC=N` to one. A relative tolerance `N%` allows a
//! worsening of `max(N% of |baseline|, floor)`, where the floor is the metric unit's
//! noise floor ([`super::metric::Unit::noise_floor`]: 0.5 pods/counts/nodes, 1 s, 5 ms,
//! 0.5 percentage points), so a baseline of 0 does not turn every change into a
//! regression. An absolute tolerance `N` (in the metric's unit, no floor) allows exactly
//! `N`: `pending=0` forbids any increase. The default is `5%` for every metric.

use super::metric::Metric;
use std::collections::BTreeMap;
use thiserror::Error;

/// The default relative tolerance (5 %).
pub const DEFAULT_RELATIVE: f64 = 0.05;

/// One metric's tolerance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Tolerance {
    /// A fraction of the baseline value, with the unit's noise floor.
    Relative(f64),
    /// An absolute amount in the metric's unit.
    Absolute(f64),
}

impl Tolerance {
    /// The worsening allowed for `metric` from `baseline`.
    pub fn allowed(self, metric: Metric, baseline: f64) -> f64 {
        match self {
            Tolerance::Relative(r) => (r * baseline.abs()).max(metric.unit().noise_floor()),
            Tolerance::Absolute(a) => a,
        }
    }

    /// `5%` or `0`, as printed in tables.
    pub fn describe(self) -> String {
        match self {
            Tolerance::Relative(r) => format!("{}%", super::metric::format_value(r * 100.0, 2)),
            Tolerance::Absolute(a) => super::metric::format_value(a, 3),
        }
    }
}

/// A bad `--tolerance` value.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ToleranceError {
    /// Unparseable amount.
    #[error(
        "--tolerance: {0:?} is not a non-negative number or percentage (expected e.g. 5%, p99_latency=20%, pending=0)"
    )]
    Syntax(String),
    /// Unknown metric key.
    #[error("--tolerance: unknown metric {0:?} (known: {1})")]
    UnknownMetric(String, String),
    /// An absolute amount for every metric (units differ).
    #[error(
        "--tolerance: {0:?} applies to every metric, so it must be relative (N%); give absolute amounts per metric (METRIC=N)"
    )]
    GlobalAbsolute(String),
}

/// Tolerances for all metrics.
#[derive(Debug, Clone, PartialEq)]
pub struct Tolerances {
    /// The default for metrics without their own.
    pub default: Tolerance,
    /// Per-metric tolerances.
    pub per_metric: BTreeMap<Metric, Tolerance>,
}

impl Default for Tolerances {
    fn default() -> Self {
        Tolerances {
            default: Tolerance::Relative(DEFAULT_RELATIVE),
            per_metric: BTreeMap::new(),
        }
    }
}

fn amount(text: &str, item: &str) -> Result<Tolerance, ToleranceError> {
    let bad = || ToleranceError::Syntax(item.to_string());
    let (num, relative) = match text.trim().strip_suffix('%') {
        Some(n) => (n, true),
        None => (text.trim(), false),
    };
    let v: f64 = num.trim().parse().map_err(|_| bad())?;
    if !v.is_finite() || v < 0.0 {
        return Err(bad());
    }
    Ok(if relative {
        Tolerance::Relative(v / 100.0)
    } else {
        Tolerance::Absolute(v)
    })
}

impl Tolerances {
    /// Parses the `--tolerance` values in order.
    pub fn parse(values: &[String]) -> Result<Tolerances, ToleranceError> {
        let mut t = Tolerances::default();
        for v in values {
            for item in v.split(',') {
                let item = item.trim();
                if item.is_empty() {
                    return Err(ToleranceError::Syntax(v.clone()));
                }
                match item.split_once('=') {
                    Some((key, amt)) => {
                        let key = key.trim();
                        let m = Metric::from_key(key).ok_or_else(|| {
                            ToleranceError::UnknownMetric(
                                key.to_string(),
                                Metric::ALL
                                    .iter()
                                    .map(|m| m.key())
                                    .collect::<Vec<_>>()
                                    .join(", "),
                            )
                        })?;
                        t.per_metric.insert(m, amount(amt, item)?);
                    }
                    None => match amount(item, item)? {
                        Tolerance::Absolute(_) => {
                            return Err(ToleranceError::GlobalAbsolute(item.to_string()));
                        }
                        rel => t.default = rel,
                    },
                }
            }
        }
        Ok(t)
    }

    /// The tolerance of one metric.
    pub fn get(&self, m: Metric) -> Tolerance {
        self.per_metric.get(&m).copied().unwrap_or(self.default)
    }
}

/// The outcome of comparing one metric with its baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Within tolerance.
    Ok,
    /// Better than the baseline beyond the tolerance (consider updating it).
    Improved,
    /// Worse than the baseline beyond the tolerance, or no longer defined.
    Regressed,
    /// A neutral metric: reported, never judged.
    Info,
    /// Undefined in both.
    NotApplicable,
    /// Not in the baseline (a metric added later, or undefined then).
    New,
}

impl Status {
    /// As printed in tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Improved => "improved",
            Status::Regressed => "REGRESSED",
            Status::Info => "info",
            Status::NotApplicable => "n/a",
            Status::New => "new",
        }
    }
}

/// Judges `current` against `baseline` for `metric`. A value defined in the baseline but
/// undefined now (e.g. `time_to_schedule_all` once pods stay pending) is a regression for
/// metrics with a direction.
pub fn judge(
    metric: Metric,
    baseline: Option<f64>,
    current: Option<f64>,
    tolerance: Tolerance,
) -> Status {
    let neutral = metric.direction() == super::metric::Direction::Neutral;
    match (baseline, current) {
        (None, None) => Status::NotApplicable,
        (None, Some(_)) => Status::New,
        (Some(_), None) => {
            if neutral {
                Status::Info
            } else {
                Status::Regressed
            }
        }
        (Some(b), Some(c)) => {
            if neutral {
                return Status::Info;
            }
            let worse = metric.direction().worsening(b, c);
            let allowed = tolerance.allowed(metric, b);
            // A hair of slack for values that went through rounding in the baseline file.
            let eps = 1e-6;
            if worse > allowed + eps {
                Status::Regressed
            } else if -worse > allowed + eps {
                Status::Improved
            } else {
                Status::Ok
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn parse_defaults_and_overrides() {
        let t = Tolerances::parse(&[]).unwrap();
        assert_eq!(t.get(Metric::P99Latency), Tolerance::Relative(0.05));
        let t = Tolerances::parse(&s(&["10%", "p99_latency=20%,pending=0"])).unwrap();
        assert_eq!(t.get(Metric::CpuAlloc), Tolerance::Relative(0.1));
        assert_eq!(t.get(Metric::P99Latency), Tolerance::Relative(0.2));
        assert_eq!(t.get(Metric::Pending), Tolerance::Absolute(0.0));
        // Later items win.
        let t = Tolerances::parse(&s(&["pending=0", "pending=2"])).unwrap();
        assert_eq!(t.get(Metric::Pending), Tolerance::Absolute(2.0));
    }

    #[test]
    fn parse_errors() {
        assert!(matches!(
            Tolerances::parse(&s(&["5"])),
            Err(ToleranceError::GlobalAbsolute(_))
        ));
        assert!(matches!(
            Tolerances::parse(&s(&["latency=5%"])),
            Err(ToleranceError::UnknownMetric(..))
        ));
        for bad in [
            "x%",
            "-5%",
            "pending=-1",
            "pending=",
            "5%,",
            "inf%",
            "pending=nan",
        ] {
            assert!(
                matches!(
                    Tolerances::parse(&s(&[bad])),
                    Err(ToleranceError::Syntax(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn relative_tolerance_has_a_noise_floor() {
        let t = Tolerance::Relative(0.05);
        // 5 % of 1000 ms = 50 ms.
        assert_eq!(t.allowed(Metric::P99Latency, 1000.0), 50.0);
        // 5 % of 0 pending is 0: the floor (0.5 pods) applies.
        assert_eq!(t.allowed(Metric::Pending, 0.0), 0.5);
        assert_eq!(Tolerance::Absolute(0.0).allowed(Metric::Pending, 0.0), 0.0);
    }

    #[test]
    fn judging() {
        let rel = Tolerance::Relative(0.05);
        let j = |m, b, c, t| judge(m, b, c, t);
        assert_eq!(
            j(Metric::P99Latency, Some(1000.0), Some(1040.0), rel),
            Status::Ok
        );
        assert_eq!(
            j(Metric::P99Latency, Some(1000.0), Some(1060.0), rel),
            Status::Regressed
        );
        assert_eq!(
            j(Metric::P99Latency, Some(1000.0), Some(900.0), rel),
            Status::Improved
        );
        // Higher is better for allocation: a drop is the regression.
        assert_eq!(
            j(Metric::CpuAlloc, Some(60.0), Some(50.0), rel),
            Status::Regressed
        );
        assert_eq!(
            j(Metric::CpuAlloc, Some(60.0), Some(70.0), rel),
            Status::Improved
        );
        // Zeros: the floor absorbs noise, an absolute 0 does not.
        assert_eq!(j(Metric::Pending, Some(0.0), Some(0.4), rel), Status::Ok);
        assert_eq!(
            j(
                Metric::Pending,
                Some(0.0),
                Some(0.4),
                Tolerance::Absolute(0.0)
            ),
            Status::Regressed
        );
        assert_eq!(
            j(Metric::Preemptions, Some(0.0), Some(9.0), rel),
            Status::Info
        );
        assert_eq!(
            j(Metric::TimeToScheduleAll, Some(30.0), None, rel),
            Status::Regressed
        );
        assert_eq!(j(Metric::GpuAlloc, None, None, rel), Status::NotApplicable);
        assert_eq!(
            j(Metric::TimeToScheduleAll, None, Some(3.0), rel),
            Status::New
        );
    }
}
