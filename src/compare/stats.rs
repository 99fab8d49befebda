//! Aggregation over seeds and paired deltas between configurations. Percentiles use the
//! nearest-rank rule of [`crate::metrics::percentile`] (the median of an even count is
//! the lower middle value). A metric undefined in any seed is undefined in the aggregate,
//! so averages always cover the same seeds.

/// Mean and percentiles of one metric over seeds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Aggregate {
    /// Arithmetic mean, summed in seed order.
    pub mean: f64,
    /// 5th percentile.
    pub p5: f64,
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// Number of seeds.
    pub n: usize,
}

/// Paired per-seed differences `B - A`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DeltaSpread {
    /// Median difference.
    pub median: f64,
    /// Smallest difference.
    pub min: f64,
    /// Largest difference.
    pub max: f64,
    /// Number of seed pairs.
    pub n: usize,
}

pub use crate::metrics::percentile_f64;

fn all_defined(values: &[Option<f64>]) -> Option<Vec<f64>> {
    if values.is_empty() {
        return None;
    }
    values.iter().copied().collect()
}

/// Aggregates per-seed values; none when empty or when any seed lacks the value.
pub fn aggregate(values: &[Option<f64>]) -> Option<Aggregate> {
    let v = all_defined(values)?;
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    let mut sorted = v;
    sorted.sort_by(f64::total_cmp);
    Some(Aggregate {
        mean,
        p5: percentile_f64(&sorted, 5.0)?,
        p50: percentile_f64(&sorted, 50.0)?,
        p95: percentile_f64(&sorted, 95.0)?,
        n: sorted.len(),
    })
}

/// Paired deltas `b[i] - a[i]` per seed; none when the lengths differ, or when any seed
/// lacks a value on either side.
pub fn paired_deltas(a: &[Option<f64>], b: &[Option<f64>]) -> Option<DeltaSpread> {
    if a.len() != b.len() {
        return None;
    }
    let (a, b) = (all_defined(a)?, all_defined(b)?);
    let mut d: Vec<f64> = a.iter().zip(&b).map(|(x, y)| y - x).collect();
    d.sort_by(f64::total_cmp);
    Some(DeltaSpread {
        median: percentile_f64(&d, 50.0)?,
        min: *d.first()?,
        max: *d.last()?,
        n: d.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregate_over_seeds() {
        let v: Vec<Option<f64>> = (1..=20).map(|i| Some(i as f64)).collect();
        let a = aggregate(&v).unwrap();
        assert_eq!(a.mean, 10.5);
        assert_eq!((a.p5, a.p50, a.p95, a.n), (1.0, 10.0, 19.0, 20));
        let one = aggregate(&[Some(3.0)]).unwrap();
        assert_eq!((one.mean, one.p5, one.p50, one.p95), (3.0, 3.0, 3.0, 3.0));
    }

    #[test]
    fn undefined_anywhere_is_undefined() {
        assert_eq!(aggregate(&[]), None);
        assert_eq!(aggregate(&[Some(1.0), None]), None);
        assert_eq!(
            paired_deltas(&[Some(1.0), None], &[Some(1.0), Some(2.0)]),
            None
        );
        assert_eq!(paired_deltas(&[Some(1.0)], &[Some(1.0), Some(2.0)]), None);
    }

    #[test]
    fn paired_deltas_are_b_minus_a_per_seed() {
        let a = [Some(10.0), Some(20.0), Some(30.0)];
        let b = [Some(8.0), Some(21.0), Some(25.0)];
        let d = paired_deltas(&a, &b).unwrap();
        assert_eq!((d.median, d.min, d.max, d.n), (-2.0, -5.0, 1.0, 3));
        // Even count: the lower middle value.
        let d = paired_deltas(&[Some(0.0), Some(0.0)], &[Some(-3.0), Some(-1.0)]).unwrap();
        assert_eq!(d.median, -3.0);
    }
}
