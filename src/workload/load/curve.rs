//! Offered-load curves: requests per second as a function of time since the start of
//! the run (in seconds), with exact integrals. Every curve can answer two questions over
//! an interval `[a, b]`: how many requests it offers (`∫ f`), and how many of them lie
//! above a level `L` (`∫ max(0, f − L)`), which is what a set of pods with a bounded
//! capacity cannot serve. Both are closed forms: constants, steps, ramps and CSV series
//! are piecewise linear (trapezoids and triangles); the diurnal curve is a raised cosine
//! (sines and arc-cosines).

/// A load curve (requests per second over time in seconds).
#[derive(Debug, Clone, PartialEq)]
pub enum Curve {
    /// `constant: {rps}`.
    Constant(f64),
    /// `step: {from, to, at}`: `from` before `at`, `to` from `at` on.
    Step {
        /// Rate before `at`.
        from: f64,
        /// Rate from `at` on.
        to: f64,
        /// When the step happens (s).
        at: f64,
    },
    /// `ramp: {from, to, start, end}`: `from` until `start`, linear to `to` at `end`,
    /// `to` after.
    Ramp {
        /// Rate until `start`.
        from: f64,
        /// Rate from `end` on.
        to: f64,
        /// Start of the ramp (s).
        start: f64,
        /// End of the ramp (s).
        end: f64,
    },
    /// `diurnal: {base, peak, period, peakAt}`: a raised cosine,
    /// `base + (peak − base) · (1 + cos(2π (t − peakAt) / period)) / 2`: `peak` at
    /// `peakAt` (and every period from it), `base` half a period away.
    Diurnal {
        /// The lowest rate.
        base: f64,
        /// The highest rate.
        peak: f64,
        /// The period (s, > 0).
        period: f64,
        /// When the peak is reached (s).
        peak_at: f64,
    },
    /// `csv: {path, interpolate}`: a time series, sorted by time; the first value holds
    /// before the first point, the last after the last point.
    Series {
        /// (time s, rps) points, strictly increasing in time, at least one.
        points: Vec<(f64, f64)>,
        /// Linear interpolation between points (`false`: each value holds until the
        /// next point).
        linear: bool,
    },
}

/// `∫ max(0, v − level)` over a linear piece of length `dt` from `v0` to `v1`.
fn linear_excess(dt: f64, v0: f64, v1: f64, level: f64) -> f64 {
    let (a, b) = (v0 - level, v1 - level);
    if a >= 0.0 && b >= 0.0 {
        (a + b) / 2.0 * dt
    } else if a <= 0.0 && b <= 0.0 {
        0.0
    } else {
        // One crossing: the positive part is a triangle.
        let pos = a.max(b);
        pos * pos / (2.0 * (a - b).abs()) * dt
    }
}

impl Curve {
    /// The rate at time `t` (s).
    pub fn value(&self, t: f64) -> f64 {
        match self {
            Curve::Constant(r) => *r,
            Curve::Step { from, to, at } => {
                if t < *at {
                    *from
                } else {
                    *to
                }
            }
            Curve::Ramp {
                from,
                to,
                start,
                end,
            } => {
                if t <= *start {
                    *from
                } else if t >= *end {
                    *to
                } else {
                    from + (to - from) * (t - start) / (end - start)
                }
            }
            Curve::Diurnal {
                base,
                peak,
                period,
                peak_at,
            } => {
                let phase = (t - peak_at).rem_euclid(*period) / period;
                base + (peak - base) * (1.0 + (std::f64::consts::TAU * phase).cos()) / 2.0
            }
            Curve::Series { points, linear } => {
                let i = points.partition_point(|(pt, _)| *pt <= t);
                if i == 0 {
                    points[0].1
                } else if i == points.len() || !linear {
                    points[i - 1].1
                } else {
                    let ((t0, v0), (t1, v1)) = (points[i - 1], points[i]);
                    v0 + (v1 - v0) * (t - t0) / (t1 - t0)
                }
            }
        }
    }

    /// The curve's breakpoints inside `(a, b)`, ascending: where a piecewise-linear
    /// curve changes slope or jumps.
    fn breakpoints(&self, a: f64, b: f64, out: &mut Vec<f64>) {
        out.clear();
        let mut push = |t: f64| {
            if t > a && t < b {
                out.push(t);
            }
        };
        match self {
            Curve::Constant(_) | Curve::Diurnal { .. } => {}
            Curve::Step { at, .. } => push(*at),
            Curve::Ramp { start, end, .. } => {
                push(*start);
                push(*end);
            }
            Curve::Series { points, .. } => {
                let from = points.partition_point(|(t, _)| *t <= a);
                for (t, _) in points[from..].iter().take_while(|(t, _)| *t < b) {
                    push(*t);
                }
            }
        }
    }

    /// Whether the curve jumps at its breakpoints (constant on each piece).
    fn stepwise(&self) -> bool {
        matches!(
            self,
            Curve::Step { .. } | Curve::Series { linear: false, .. }
        )
    }

    /// Calls `f(dt, v0, v1)` for each linear piece of `[a, b]`.
    fn linear_pieces(&self, a: f64, b: f64, mut f: impl FnMut(f64, f64, f64)) {
        let mut cuts = Vec::new();
        self.breakpoints(a, b, &mut cuts);
        let mut t0 = a;
        for t1 in cuts.into_iter().chain(std::iter::once(b)) {
            if t1 > t0 {
                if self.stepwise() {
                    let v = self.value((t0 + t1) / 2.0);
                    f(t1 - t0, v, v);
                } else {
                    f(t1 - t0, self.value(t0), self.value(t1));
                }
            }
            t0 = t1;
        }
    }

    /// `∫ f(t) dt` over `[a, b]` (requests offered), exact.
    pub fn integral(&self, a: f64, b: f64) -> f64 {
        if b <= a {
            return 0.0;
        }
        match self {
            Curve::Diurnal {
                base,
                peak,
                period,
                peak_at,
            } => {
                let (mid, amp) = ((base + peak) / 2.0, (peak - base) / 2.0);
                let w = std::f64::consts::TAU / period;
                let s = |t: f64| (w * (t - peak_at).rem_euclid(*period)).sin();
                mid * (b - a) + amp / w * (s(b) - s(a))
            }
            _ => {
                let mut sum = 0.0;
                self.linear_pieces(a, b, |dt, v0, v1| sum += (v0 + v1) / 2.0 * dt);
                sum
            }
        }
    }

    /// `∫ max(0, f(t) − level) dt` over `[a, b]`: the requests above `level`, exact.
    /// An infinite level gives 0.
    pub fn excess(&self, a: f64, b: f64, level: f64) -> f64 {
        if b <= a || level == f64::INFINITY {
            return 0.0;
        }
        match self {
            Curve::Diurnal {
                base,
                peak,
                period,
                peak_at,
            } => {
                let (mid, amp) = ((base + peak) / 2.0, (peak - base) / 2.0);
                if amp <= 0.0 {
                    return (mid - level).max(0.0) * (b - a);
                }
                let c = (level - mid) / amp;
                if c <= -1.0 {
                    return self.integral(a, b) - level * (b - a);
                }
                if c >= 1.0 {
                    return 0.0;
                }
                // Above the level within ±h of every peak.
                let w = std::f64::consts::TAU / period;
                let h = c.acos() / w;
                let first = ((a - peak_at - h) / period).floor() as i64;
                let last = ((b - peak_at + h) / period).ceil() as i64;
                let mut sum = 0.0;
                for k in first..=last {
                    let centre = peak_at + k as f64 * period;
                    let (w0, w1) = ((centre - h).max(a), (centre + h).min(b));
                    if w1 > w0 {
                        sum += self.integral(w0, w1) - level * (w1 - w0);
                    }
                }
                sum.max(0.0)
            }
            _ => {
                let mut sum = 0.0;
                self.linear_pieces(a, b, |dt, v0, v1| sum += linear_excess(dt, v0, v1, level));
                sum
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() <= 1e-6 * (1.0 + b.abs()), "{a} != {b}");
    }

    /// A fine midpoint rule, to check the closed forms against.
    fn numeric(c: &Curve, a: f64, b: f64, level: f64) -> (f64, f64) {
        let n = 200_000;
        let dt = (b - a) / n as f64;
        let (mut i, mut e) = (0.0, 0.0);
        for k in 0..n {
            let v = c.value(a + (k as f64 + 0.5) * dt);
            i += v * dt;
            e += (v - level).max(0.0) * dt;
        }
        (i, e)
    }

    #[test]
    fn constant_and_step() {
        let c = Curve::Constant(300.0);
        assert_eq!(c.value(5.0), 300.0);
        assert_eq!(c.integral(0.0, 10.0), 3000.0);
        assert_eq!(c.excess(0.0, 10.0, 100.0), 2000.0);
        assert_eq!(c.excess(0.0, 10.0, 400.0), 0.0);
        let s = Curve::Step {
            from: 100.0,
            to: 500.0,
            at: 60.0,
        };
        assert_eq!(s.value(59.9), 100.0);
        assert_eq!(s.value(60.0), 500.0);
        assert_eq!(s.integral(30.0, 90.0), 30.0 * 100.0 + 30.0 * 500.0);
        assert_eq!(s.excess(30.0, 90.0, 200.0), 30.0 * 300.0);
    }

    #[test]
    fn ramp() {
        let r = Curve::Ramp {
            from: 0.0,
            to: 100.0,
            start: 10.0,
            end: 20.0,
        };
        assert_eq!(r.value(5.0), 0.0);
        assert_eq!(r.value(15.0), 50.0);
        assert_eq!(r.value(25.0), 100.0);
        // 0 for 10 s, a triangle of 500, then 100/s for 10 s.
        assert_eq!(r.integral(0.0, 30.0), 500.0 + 1000.0);
        // Above 50: a triangle of 5 s × 50 / 2, then 10 s × 50.
        assert_eq!(r.excess(0.0, 30.0, 50.0), 125.0 + 500.0);
    }

    #[test]
    fn diurnal() {
        let d = Curve::Diurnal {
            base: 200.0,
            peak: 1000.0,
            period: 86_400.0,
            peak_at: 14.0 * 3600.0,
        };
        close(d.value(14.0 * 3600.0), 1000.0);
        close(d.value(2.0 * 3600.0), 200.0);
        close(d.value(8.0 * 3600.0), 600.0);
        // A whole period offers the mean rate.
        close(d.integral(0.0, 86_400.0), 600.0 * 86_400.0);
        close(d.integral(100.0, 86_500.0), 600.0 * 86_400.0);
        for (a, b, level) in [
            (0.0, 86_400.0, 600.0),
            (10_000.0, 70_000.0, 900.0),
            (50_000.0, 51_000.0, 950.0),
            (0.0, 200_000.0, 300.0),
            (0.0, 3_600.0, 100.0),
        ] {
            let (i, e) = numeric(&d, a, b, level);
            close(d.integral(a, b), i);
            assert!(
                (d.excess(a, b, level) - e).abs() < 1e-3 * (1.0 + e),
                "{a} {b} {level}"
            );
        }
        assert_eq!(d.excess(0.0, 86_400.0, 1000.0), 0.0);
    }

    #[test]
    fn series() {
        let pts = vec![(0.0, 100.0), (60.0, 200.0), (120.0, 100.0)];
        let lin = Curve::Series {
            points: pts.clone(),
            linear: true,
        };
        assert_eq!(lin.value(-5.0), 100.0);
        assert_eq!(lin.value(30.0), 150.0);
        assert_eq!(lin.value(500.0), 100.0);
        assert_eq!(lin.integral(0.0, 120.0), 18_000.0);
        assert_eq!(lin.integral(0.0, 180.0), 24_000.0);
        // Above 150 from 30 s to 90 s: a triangle 60 s wide, 50 high.
        assert_eq!(lin.excess(0.0, 180.0, 150.0), 1500.0);
        let step = Curve::Series {
            points: pts,
            linear: false,
        };
        assert_eq!(step.value(59.0), 100.0);
        assert_eq!(step.value(60.0), 200.0);
        assert_eq!(
            step.integral(0.0, 180.0),
            60.0 * 100.0 + 60.0 * 200.0 + 60.0 * 100.0
        );
        assert_eq!(step.excess(30.0, 90.0, 150.0), 30.0 * 50.0);
    }

    proptest::proptest! {
        /// Splitting an interval never changes the integrals, and the excess never
        /// exceeds the integral.
        #[test]
        fn additive(a in 0.0f64..50_000.0, len in 0.0f64..50_000.0, cut in 0.0f64..1.0, level in 0.0f64..1200.0) {
            let b = a + len;
            let m = a + cut * len;
            for c in [
                Curve::Diurnal { base: 200.0, peak: 1000.0, period: 3_600.0, peak_at: 600.0 },
                Curve::Ramp { from: 50.0, to: 900.0, start: 1000.0, end: 40_000.0 },
                Curve::Series { points: vec![(0.0, 10.0), (10_000.0, 800.0), (30_000.0, 100.0)], linear: true },
            ] {
                let whole = c.integral(a, b);
                proptest::prop_assert!((whole - c.integral(a, m) - c.integral(m, b)).abs() <= 1e-6 * (1.0 + whole));
                let e = c.excess(a, b, level);
                proptest::prop_assert!((e - c.excess(a, m, level) - c.excess(m, b, level)).abs() <= 1e-6 * (1.0 + whole));
                proptest::prop_assert!(e <= whole + 1e-6 * (1.0 + whole));
                proptest::prop_assert!(e >= 0.0);
            }
        }
    }
}
