//! Metrics: a columnar table sampled on a fixed virtual interval and written once as
//! `metrics.csv`, and percentile helpers. Columns appear in the order they are first
//! set (deterministic); a column that appears later is empty in earlier rows.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// A table of samples: one row per sample time, one column per series.
#[derive(Debug, Clone, Default)]
pub struct MetricsTable {
    columns: Vec<String>,
    index: BTreeMap<String, usize>,
    rows: Vec<Vec<f64>>,
}

impl MetricsTable {
    /// An empty table whose first column is `time_s`.
    pub fn new() -> Self {
        let mut t = MetricsTable::default();
        t.column_index("time_s");
        t
    }

    fn column_index(&mut self, name: &str) -> usize {
        if let Some(&i) = self.index.get(name) {
            return i;
        }
        let i = self.columns.len();
        self.columns.push(name.to_string());
        self.index.insert(name.to_string(), i);
        for r in &mut self.rows {
            r.push(f64::NAN);
        }
        i
    }

    /// Starts a row at `t_seconds`.
    pub fn begin_row(&mut self, t_seconds: f64) {
        let mut row = vec![f64::NAN; self.columns.len()];
        row[0] = t_seconds;
        self.rows.push(row);
    }

    /// Sets a value in the current row.
    pub fn set(&mut self, column: &str, v: f64) {
        let i = self.column_index(column);
        if let Some(r) = self.rows.last_mut() {
            r[i] = v;
        }
    }

    /// Column names in order.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True without rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// A column's values (NaN where unset), if the column exists.
    pub fn column(&self, name: &str) -> Option<Vec<f64>> {
        let i = *self.index.get(name)?;
        Some(self.rows.iter().map(|r| r[i]).collect())
    }

    /// The CSV text: a header, then one line per row; NaN is an empty field. Numbers use
    /// Rust's shortest round-trip formatting, identical on every platform.
    pub fn to_csv(&self) -> String {
        let mut s = String::with_capacity(self.rows.len() * self.columns.len() * 6);
        s.push_str(&self.columns.join(","));
        s.push('\n');
        for r in &self.rows {
            for (i, v) in r.iter().enumerate() {
                if i > 0 {
                    s.push(',');
                }
                if !v.is_nan() {
                    let _ = write!(s, "{v}");
                }
            }
            s.push('\n');
        }
        s
    }
}

/// The nearest-rank percentile (`p` in 0..=100) of sorted values.
pub fn percentile(sorted: &[u64], p: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    Some(sorted[rank.min(sorted.len()) - 1])
}

/// The nearest-rank percentile (`p` in 0..=100) of sorted floats: the value at rank
/// `ceil(p/100 * n)` (at least 1).
pub fn percentile_f64(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    Some(sorted[rank.min(sorted.len()) - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_with_late_columns() {
        let mut t = MetricsTable::new();
        t.begin_row(0.0);
        t.set("a", 1.0);
        t.begin_row(5.0);
        t.set("a", 2.5);
        t.set("b", 3.0);
        assert_eq!(t.to_csv(), "time_s,a,b\n0,1,\n5,2.5,3\n");
        assert_eq!(t.column("b").unwrap()[1], 3.0);
    }

    #[test]
    fn percentiles() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), Some(50));
        assert_eq!(percentile(&v, 99.0), Some(99));
        assert_eq!(percentile(&v, 100.0), Some(100));
        assert_eq!(percentile(&[], 50.0), None);
    }
}
