//! Sharded sweeps: the `manifest.json` every sweep directory carries (scenario, its
//! text's hash, parameters and values, seeds, shard, run count) and `kubetwin merge`,
//! which checks that shard directories belong to one sweep and hold every run exactly
//! once, and rebuilds the whole run table.

use super::grid::{Axis, Grid, Shard};
use super::results::RunTable;
use super::values::ParamValue;
use crate::compare::seeds::{format_seeds, parse_seeds};
use crate::error::Error;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The manifest format version.
pub const FORMAT: u32 = 1;

/// One parameter in a manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestParam {
    /// Name.
    pub name: String,
    /// Paths it sets.
    pub paths: Vec<String>,
    /// Values, in order.
    pub values: Vec<String>,
}

/// `manifest.json` of a sweep or shard directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// [`FORMAT`].
    pub format: u32,
    /// The scenario's `metadata.name`.
    pub scenario: String,
    /// The scenario file, as given.
    pub file: String,
    /// FNV-1a 64 of the scenario file's text (`fnv1a64:<hex>`).
    pub scenario_hash: String,
    /// Parameters in `--set` order.
    pub parameters: Vec<ManifestParam>,
    /// Seeds in the `--seeds` syntax.
    pub seeds: String,
    /// `I/N`.
    pub shard: String,
    /// Runs of the whole sweep.
    pub runs: usize,
}

/// FNV-1a 64-bit hash of a text, as `fnv1a64:<16 hex digits>`.
pub fn hash(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("fnv1a64:{h:016x}")
}

impl Manifest {
    /// The manifest of a sweep.
    pub fn new(scenario: &str, file: &str, text: &str, grid: &Grid, shard: Shard) -> Manifest {
        Manifest {
            format: FORMAT,
            scenario: scenario.to_string(),
            file: file.to_string(),
            scenario_hash: hash(text),
            parameters: grid
                .axes
                .iter()
                .map(|a| ManifestParam {
                    name: a.name.clone(),
                    paths: a.paths.clone(),
                    values: a.values.iter().map(|v| v.text.clone()).collect(),
                })
                .collect(),
            seeds: format_seeds(&grid.seeds),
            shard: format!("{}/{}", shard.index, shard.count),
            runs: grid.runs(),
        }
    }

    /// Pretty JSON with a final newline.
    pub fn to_text(&self) -> String {
        format!(
            "{}\n",
            serde_json::to_string_pretty(self).unwrap_or_default()
        )
    }

    /// The grid it describes.
    pub fn grid(&self) -> Result<Grid, String> {
        let seeds = parse_seeds(&self.seeds).map_err(|e| e.to_string())?;
        let grid = Grid {
            axes: self
                .parameters
                .iter()
                .map(|p| Axis {
                    name: p.name.clone(),
                    paths: p.paths.clone(),
                    values: p.values.iter().map(|v| ParamValue::new(v)).collect(),
                })
                .collect(),
            seeds,
        };
        if grid.axes.iter().any(|a| a.values.is_empty()) || grid.runs() != self.runs {
            return Err(format!(
                "{} runs do not match the parameters and seeds",
                self.runs
            ));
        }
        Ok(grid)
    }

    /// The shard.
    pub fn shard(&self) -> Result<Shard, String> {
        Shard::parse(&self.shard).map_err(|e| e.to_string())
    }
}

/// A loaded shard directory.
struct Loaded {
    dir: PathBuf,
    manifest: Manifest,
    shard: Shard,
    table: RunTable,
}

fn load(dir: &Path) -> Result<Loaded, Error> {
    let bad = |m: String| Error::Usage(format!("merge: {}: {m}", dir.display()));
    let mp = dir.join("manifest.json");
    let text = std::fs::read_to_string(&mp).map_err(|e| Error::io(&mp, e))?;
    let manifest: Manifest = serde_json::from_str(&text).map_err(|e| {
        bad(format!(
            "manifest.json is not a kubetwin sweep manifest: {e}"
        ))
    })?;
    if manifest.format != FORMAT {
        return Err(bad(format!(
            "manifest format {} (this kubetwin reads {FORMAT})",
            manifest.format
        )));
    }
    let grid = manifest
        .grid()
        .map_err(|m| bad(format!("manifest.json: {m}")))?;
    let shard = manifest
        .shard()
        .map_err(|m| bad(format!("manifest.json: {m}")))?;
    let rp = dir.join("runs.csv");
    let text = std::fs::read_to_string(&rp).map_err(|e| Error::io(&rp, e))?;
    let table = RunTable::from_csv(&text, &grid, &rp.display().to_string())?;
    let got: Vec<usize> = table.rows.iter().map(|r| r.0).collect();
    if got != shard.runs(grid.runs()) {
        return Err(bad(format!(
            "runs.csv does not hold exactly the runs of shard {} ({} rows, {} expected)",
            manifest.shard,
            got.len(),
            shard.runs(grid.runs()).len()
        )));
    }
    Ok(Loaded {
        dir: dir.to_path_buf(),
        manifest,
        shard,
        table,
    })
}

/// Loads shard directories and merges them: the common manifest (as shard `0/1`), the
/// grid and the complete run table.
pub fn merge(dirs: &[PathBuf]) -> Result<(Manifest, Grid, RunTable), Error> {
    if dirs.is_empty() {
        return Err(Error::Usage("merge: no shard directories given".into()));
    }
    let shards: Vec<Loaded> = dirs.iter().map(|d| load(d)).collect::<Result<_, _>>()?;
    let first = &shards[0];
    let mut common = first.manifest.clone();
    common.shard = "0/1".to_string();
    let mut seen = BTreeSet::new();
    for s in &shards {
        let mut m = s.manifest.clone();
        m.shard = "0/1".to_string();
        if m != common {
            let what = if m.scenario_hash != common.scenario_hash || m.file != common.file {
                "another scenario (file or text hash differs)"
            } else if m.parameters != common.parameters {
                "other parameters or values"
            } else if m.seeds != common.seeds {
                "other seeds"
            } else {
                "a different sweep"
            };
            return Err(Error::Usage(format!(
                "merge: {} is a shard of {what} than {}",
                s.dir.display(),
                first.dir.display()
            )));
        }
        if s.shard.count != first.shard.count {
            return Err(Error::Usage(format!(
                "merge: {} is shard {} but {} is shard {}: shard counts differ",
                s.dir.display(),
                s.manifest.shard,
                first.dir.display(),
                first.manifest.shard
            )));
        }
        if !seen.insert(s.shard.index) {
            return Err(Error::Usage(format!(
                "merge: shard {} is given twice ({})",
                s.manifest.shard,
                s.dir.display()
            )));
        }
    }
    let n = first.shard.count;
    let missing: Vec<String> = (0..n)
        .filter(|i| !seen.contains(i))
        .map(|i| format!("{i}/{n}"))
        .collect();
    if !missing.is_empty() {
        return Err(Error::Usage(format!(
            "merge: missing shard(s) {}; every run must be present exactly once",
            missing.join(", ")
        )));
    }
    let grid = common.grid().map_err(Error::Usage)?;
    let table = RunTable::merge(shards.into_iter().map(|s| s.table).collect());
    Ok((common, grid, table))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_stable() {
        assert_eq!(hash(""), "fnv1a64:cbf29ce484222325");
        assert_ne!(hash("a"), hash("b"));
    }

    #[test]
    fn manifest_round_trips() {
        let grid = Grid {
            axes: vec![Axis {
                name: "n".into(),
                paths: vec!["spec.x".into()],
                values: vec![ParamValue::new("1"), ParamValue::new("5m")],
            }],
            seeds: vec![1, 2, 3],
        };
        let m = Manifest::new("s", "s.yaml", "text", &grid, Shard { index: 1, count: 2 });
        let back: Manifest = serde_json::from_str(&m.to_text()).unwrap();
        assert_eq!(back, m);
        assert_eq!(back.grid().unwrap(), grid);
        assert_eq!(back.shard().unwrap(), Shard { index: 1, count: 2 });
        let mut bad = m.clone();
        bad.runs = 7;
        assert!(bad.grid().is_err());
    }
}
