//! The random processes faults are drawn from: exponential inter-arrival times (a
//! Poisson process of a given rate) and exponential up and repair times (MTBF/MTTR).
//! Every draw comes from a [`SimRng`] handed in (the run's `faults` stream) and is
//! rounded to the millisecond, so schedules read well in the journal and are identical
//! on every machine.

use crate::engine::rng::{SimRng, unit_f64};
use crate::engine::{SimDuration, SimTime};

/// At most this many occurrences are drawn per fault entry (a guard against a rate
/// that would flood the run).
pub const MAX_OCCURRENCES: usize = 100_000;

/// An exponential draw with the given mean: `-ln(1 - u) * mean`, rounded to the ms.
pub fn exponential(rng: &mut SimRng, mean: SimDuration) -> SimDuration {
    let u = unit_f64(rng);
    let secs = -(1.0 - u).ln() * mean.as_secs_f64();
    SimDuration::from_millis((secs * 1000.0).round().max(0.0) as u64)
}

/// The event times of a Poisson process of `per_second` events per second over
/// `[from, until)`.
pub fn poisson(rng: &mut SimRng, per_second: f64, from: SimTime, until: SimTime) -> Vec<SimTime> {
    let mut out = Vec::new();
    if per_second <= 0.0 || until <= from {
        return out;
    }
    let mean = SimDuration::from_secs_f64(1.0 / per_second);
    let mut t = from;
    while out.len() < MAX_OCCURRENCES {
        t += exponential(rng, mean);
        if t >= until {
            break;
        }
        out.push(t);
    }
    out
}

/// Alternating up and down periods over `[from, until)`: up for an exponential time of
/// mean `mtbf`, then down for an exponential time of mean `mttr` (forever without one).
/// Returns the (start, end) of each down period; an end past `until` is kept (the
/// repair happens after the window), `None` means it never recovers.
pub fn failures(
    rng: &mut SimRng,
    mtbf: SimDuration,
    mttr: Option<SimDuration>,
    from: SimTime,
    until: SimTime,
) -> Vec<(SimTime, Option<SimTime>)> {
    let mut out = Vec::new();
    let mut t = from;
    while out.len() < MAX_OCCURRENCES {
        let start = t + exponential(rng, mtbf);
        if start >= until {
            break;
        }
        match mttr {
            None => {
                out.push((start, None));
                break;
            }
            Some(m) => {
                // A repair takes at least a millisecond, so up and down alternate.
                let end = start + exponential(rng, m).max(SimDuration::from_millis(1));
                out.push((start, Some(end)));
                t = end;
            }
        }
    }
    out
}

/// Parses a rate `N/s`, `N/m`, `N/h` or `N/d` (events per unit, `N` a non-negative
/// decimal) into events per second.
pub fn parse_rate(s: &str) -> Result<f64, String> {
    let bad = || format!("invalid rate {s:?}: expected N/s, N/m, N/h or N/d (e.g. 6/h)");
    let (n, unit) = s.trim().split_once('/').ok_or_else(bad)?;
    let n: f64 = n.trim().parse().map_err(|_| bad())?;
    if !n.is_finite() {
        return Err(bad());
    }
    if n < 0.0 {
        return Err(format!("rate must not be negative, got {s:?}"));
    }
    let per = match unit.trim() {
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        "d" => 86400.0,
        _ => return Err(bad()),
    };
    Ok(n / per)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::RngStreams;

    fn rng(seed: u64) -> SimRng {
        RngStreams::new(seed).stream("faults")
    }

    #[test]
    fn draws_are_deterministic() {
        let a = poisson(&mut rng(3), 0.01, SimTime::ZERO, SimTime::from_secs(36_000));
        let b = poisson(&mut rng(3), 0.01, SimTime::ZERO, SimTime::from_secs(36_000));
        assert_eq!(a, b);
        let c = poisson(&mut rng(4), 0.01, SimTime::ZERO, SimTime::from_secs(36_000));
        assert_ne!(a, c);
        assert!(a.windows(2).all(|w| w[0] < w[1]));
        assert!(a.iter().all(|t| *t < SimTime::from_secs(36_000)));
    }

    #[test]
    fn poisson_mean_count() {
        // 0.01/s over 10^6 s: 10,000 expected events (sd 100).
        let n = poisson(
            &mut rng(1),
            0.01,
            SimTime::ZERO,
            SimTime::from_secs(1_000_000),
        )
        .len();
        assert!((9_600..=10_400).contains(&n), "{n}");
        assert!(poisson(&mut rng(1), 0.0, SimTime::ZERO, SimTime::from_secs(10)).is_empty());
    }

    #[test]
    fn mtbf_mttr_means() {
        let (mtbf, mttr) = (SimDuration::from_secs(3600), SimDuration::from_secs(600));
        let f = failures(
            &mut rng(7),
            mtbf,
            Some(mttr),
            SimTime::ZERO,
            SimTime::from_secs(4200 * 2000),
        );
        // ~2000 cycles of 4200 s on average.
        assert!((1800..=2200).contains(&f.len()), "{}", f.len());
        let down: f64 = f
            .iter()
            .map(|(s, e)| e.unwrap().since(*s).as_secs_f64())
            .sum::<f64>()
            / f.len() as f64;
        assert!((540.0..=660.0).contains(&down), "mean repair {down}");
        let mut prev_end = SimTime::ZERO;
        let mut up = 0.0;
        for (s, e) in &f {
            assert!(*s >= prev_end, "down periods do not overlap");
            up += s.since(prev_end).as_secs_f64();
            prev_end = e.unwrap();
        }
        let up = up / f.len() as f64;
        assert!((3240.0..=3960.0).contains(&up), "mean up {up}");
    }

    #[test]
    fn without_repair_one_failure() {
        let f = failures(
            &mut rng(1),
            SimDuration::from_secs(10),
            None,
            SimTime::ZERO,
            SimTime::from_secs(100_000),
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].1, None);
    }

    #[test]
    fn rates() {
        assert_eq!(parse_rate("6/h").unwrap(), 6.0 / 3600.0);
        assert_eq!(parse_rate("0.5/s").unwrap(), 0.5);
        assert!(parse_rate("-1/h").unwrap_err().contains("negative"));
        assert!(parse_rate("6").is_err());
        assert!(parse_rate("6/week").is_err());
        assert!(parse_rate("x/h").is_err());
    }
}
