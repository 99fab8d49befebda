//! The sweep grid and its runs. Grid points are the cartesian product of the parameters'
//! values in `--set` order (the first parameter varies slowest, values in their given
//! order); runs are (grid point, seed) pairs numbered point-major: run `i` is point
//! `i / seeds` with seed `i % seeds`. A shard `I/N` owns the runs with `i % N == I`
//! (round robin, so every shard gets a share of every grid point).

use super::parameters::Param;
use super::values::ParamValue;
use thiserror::Error;

/// One swept parameter as the outputs need it.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// The name (declared, or the literal path).
    pub name: String,
    /// The paths it sets, as text.
    pub paths: Vec<String>,
    /// Its values in order.
    pub values: Vec<ParamValue>,
}

impl From<&Param> for Axis {
    fn from(p: &Param) -> Axis {
        Axis {
            name: p.name.clone(),
            paths: p.paths.iter().map(|p| p.to_string()).collect(),
            values: p.values.clone(),
        }
    }
}

/// The grid times the seeds.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    /// Parameters, in `--set` order.
    pub axes: Vec<Axis>,
    /// Seeds, in order.
    pub seeds: Vec<u64>,
}

impl Grid {
    /// The number of grid points (1 without parameters).
    pub fn points(&self) -> usize {
        self.axes.iter().map(|a| a.values.len()).product()
    }

    /// The number of runs.
    pub fn runs(&self) -> usize {
        self.points() * self.seeds.len()
    }

    /// The value index of every parameter at grid point `point`.
    pub fn choice(&self, point: usize) -> Vec<usize> {
        let mut c = vec![0; self.axes.len()];
        let mut rest = point;
        for (i, a) in self.axes.iter().enumerate().rev() {
            c[i] = rest % a.values.len();
            rest /= a.values.len();
        }
        c
    }

    /// The grid point and seed index of run `run`.
    pub fn run(&self, run: usize) -> (usize, usize) {
        (run / self.seeds.len(), run % self.seeds.len())
    }

    /// The values of grid point `point`, as text.
    pub fn values(&self, point: usize) -> Vec<&str> {
        self.choice(point)
            .iter()
            .zip(&self.axes)
            .map(|(&c, a)| a.values[c].text.as_str())
            .collect()
    }

    /// `nodes=10 load.peak=1000` (empty without parameters).
    pub fn label(&self, point: usize) -> String {
        self.axes
            .iter()
            .zip(self.values(point))
            .map(|(a, v)| format!("{}={v}", a.name))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// `--shard I/N`: shard `index` (0-based, as `JOB_COMPLETION_INDEX`) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This shard, `0..count`.
    pub index: usize,
    /// The number of shards.
    pub count: usize,
}

/// A bad `--shard`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("--shard {0:?}: {1} (expected I/N with 0 <= I < N, e.g. 0/4)")]
pub struct ShardError(pub String, pub &'static str);

impl Shard {
    /// The whole sweep.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// Parses `I/N`.
    pub fn parse(text: &str) -> Result<Shard, ShardError> {
        let e = |why| ShardError(text.to_string(), why);
        let (i, n) = text.split_once('/').ok_or_else(|| e("no '/'"))?;
        let index: usize = i.trim().parse().map_err(|_| e("I is not a number"))?;
        let count: usize = n.trim().parse().map_err(|_| e("N is not a number"))?;
        if count == 0 {
            return Err(e("N must be at least 1"));
        }
        if index >= count {
            return Err(e("I must be below N"));
        }
        Ok(Shard { index, count })
    }

    /// Whether this shard runs run `run`.
    pub fn owns(&self, run: usize) -> bool {
        run % self.count == self.index
    }

    /// The runs of this shard, in order.
    pub fn runs(&self, total: usize) -> Vec<usize> {
        (self.index..total).step_by(self.count).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid() -> Grid {
        let vals = |v: &[&str]| v.iter().map(|t| ParamValue::new(t)).collect();
        Grid {
            axes: vec![
                Axis {
                    name: "a".into(),
                    paths: vec![],
                    values: vals(&["1", "2"]),
                },
                Axis {
                    name: "b".into(),
                    paths: vec![],
                    values: vals(&["x", "y", "z"]),
                },
            ],
            seeds: vec![5, 6],
        }
    }

    #[test]
    fn points_in_set_order() {
        let g = grid();
        assert_eq!((g.points(), g.runs()), (6, 12));
        let labels: Vec<String> = (0..6).map(|p| g.label(p)).collect();
        assert_eq!(
            labels,
            [
                "a=1 b=x", "a=1 b=y", "a=1 b=z", "a=2 b=x", "a=2 b=y", "a=2 b=z"
            ]
        );
        assert_eq!(g.run(5), (2, 1));
        let none = Grid {
            axes: vec![],
            seeds: vec![1],
        };
        assert_eq!((none.points(), none.label(0)), (1, String::new()));
    }

    #[test]
    fn shards_partition_the_runs() {
        for n in 1..=5 {
            let mut seen = vec![0; 12];
            for i in 0..n {
                for r in (Shard { index: i, count: n }).runs(12) {
                    seen[r] += 1;
                    assert!(Shard { index: i, count: n }.owns(r));
                }
            }
            assert!(seen.iter().all(|&c| c == 1), "{n}: {seen:?}");
        }
        assert_eq!(Shard::parse("1/4"), Ok(Shard { index: 1, count: 4 }));
        for bad in ["4/4", "1", "a/2", "0/0", "-1/2"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Shards 0..N cover every run exactly once, in increasing order.
        #[test]
        fn shards_partition(total in 0usize..500, count in 1usize..12) {
            let mut all: Vec<usize> = (0..count)
                .flat_map(|index| Shard { index, count }.runs(total))
                .collect();
            all.sort_unstable();
            prop_assert_eq!(all, (0..total).collect::<Vec<_>>());
        }
    }
}
