//! The baseline file of `check`: versioned JSON holding, per scenario (name and file), the
//! aggregate of every metric over the seeds it was recorded with. Keys are sorted (struct
//! fields are declared in alphabetical order, metric maps are BTreeMaps), numbers are
//! rounded to 4 decimals and printed in their shortest round-trip form, and the file is
//! written atomically, so re-recording an unchanged run rewrites identical bytes.

use super::comparison::Comparison;
use super::metric::Metric;
use super::seeds::format_seeds;
use super::stats::Aggregate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;
use thiserror::Error;

/// The schema version this kubetwin reads and writes.
pub const SCHEMA: u32 = 1;

/// Rounds to 4 decimals (what baseline files store).
pub fn round4(v: f64) -> f64 {
    let r = (v * 1e4).round() / 1e4;
    if r == 0.0 { 0.0 } else { r }
}

/// A metric's aggregate as stored.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineValue {
    /// Mean over seeds (what `check` compares).
    pub mean: f64,
    /// Number of seeds.
    pub n: usize,
    /// 5th percentile.
    pub p5: f64,
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
}

impl From<Aggregate> for BaselineValue {
    fn from(a: Aggregate) -> Self {
        BaselineValue {
            mean: round4(a.mean),
            n: a.n,
            p5: round4(a.p5),
            p50: round4(a.p50),
            p95: round4(a.p95),
        }
    }
}

/// One scenario of a baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineScenario {
    /// The scenario file, as given when recorded.
    pub file: String,
    /// Metric key to aggregate (`null`: undefined).
    pub metrics: BTreeMap<String, Option<BaselineValue>>,
    /// `metadata.name` (what `check` matches on).
    pub name: String,
}

impl BaselineScenario {
    /// A metric's stored mean.
    pub fn mean(&self, m: Metric) -> Option<f64> {
        self.metrics.get(m.key()).copied().flatten().map(|v| v.mean)
    }
}

/// A baseline file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    /// Scenarios, in the order given when recorded.
    pub scenarios: Vec<BaselineScenario>,
    /// The `--scheduler-config` used (`null`: the scenarios' own scheduler settings).
    pub scheduler_config: Option<String>,
    /// Schema version ([`SCHEMA`]).
    pub schema: u32,
    /// Seeds the aggregates cover.
    pub seeds: Vec<u64>,
}

/// A baseline that cannot be read.
#[derive(Debug, Error)]
pub enum BaselineError {
    /// The file does not exist.
    #[error("{0}: no baseline file")]
    Missing(String),
    /// Reading or writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// Not a baseline.
    #[error("{path}: not a kubetwin baseline: {message}")]
    Parse {
        /// The path.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// Another schema version.
    #[error(
        "{path}: baseline schema {found} is not supported (this kubetwin reads schema {SCHEMA}); re-record it with --update-baseline"
    )]
    Schema {
        /// The path.
        path: String,
        /// The version found.
        found: String,
    },
}

/// A baseline recorded for other runs than the current ones.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Mismatch {
    /// Other seeds.
    #[error(
        "the baseline was recorded with seeds {baseline}, this check runs seeds {current}: pass --seeds {baseline}, or re-record with --update-baseline"
    )]
    Seeds {
        /// The baseline's seeds.
        baseline: String,
        /// The current seeds.
        current: String,
    },
    /// Other scenarios.
    #[error(
        "the baseline covers other scenarios: {detail}; check the same scenarios, or re-record with --update-baseline"
    )]
    Scenarios {
        /// Which scenarios differ.
        detail: String,
    },
}

impl Baseline {
    /// The baseline of configuration `config` of a comparison.
    pub fn from_comparison(
        c: &Comparison,
        config: usize,
        scheduler_config: Option<String>,
    ) -> Baseline {
        Baseline {
            scenarios: c
                .scenarios
                .iter()
                .map(|s| BaselineScenario {
                    file: s.file.clone(),
                    metrics: s
                        .rows
                        .iter()
                        .map(|r| {
                            (
                                r.metric.key().to_string(),
                                r.aggregates.get(config).copied().flatten().map(Into::into),
                            )
                        })
                        .collect(),
                    name: s.name.clone(),
                })
                .collect(),
            scheduler_config,
            schema: SCHEMA,
            seeds: c.seeds.clone(),
        }
    }

    /// The file text: pretty JSON and a final newline.
    pub fn to_text(&self) -> String {
        format!(
            "{}\n",
            serde_json::to_string_pretty(self).unwrap_or_default()
        )
    }

    /// Parses a baseline file's text.
    pub fn parse(path: &Path, text: &str) -> Result<Baseline, BaselineError> {
        let p = || path.display().to_string();
        let v: serde_json::Value =
            serde_json::from_str(text).map_err(|e| BaselineError::Parse {
                path: p(),
                message: e.to_string(),
            })?;
        match v.get("schema") {
            Some(s) if s.as_u64() == Some(SCHEMA as u64) => {}
            Some(s) => {
                return Err(BaselineError::Schema {
                    path: p(),
                    found: s.to_string(),
                });
            }
            None => {
                return Err(BaselineError::Parse {
                    path: p(),
                    message: "no `schema` field".to_string(),
                });
            }
        }
        serde_json::from_value(v).map_err(|e| BaselineError::Parse {
            path: p(),
            message: e.to_string(),
        })
    }

    /// Reads a baseline file.
    pub fn load(path: &Path) -> Result<Baseline, BaselineError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                BaselineError::Missing(path.display().to_string())
            } else {
                BaselineError::Io {
                    path: path.display().to_string(),
                    source: e,
                }
            }
        })?;
        Baseline::parse(path, &text)
    }

    /// Writes the file atomically (a temporary file in the same directory, renamed).
    pub fn write(&self, path: &Path) -> Result<(), BaselineError> {
        let io = |e: std::io::Error| BaselineError::Io {
            path: path.display().to_string(),
            source: e,
        };
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(io)?;
        let mut tmp = tempfile::Builder::new()
            .prefix(".kubetwin-baseline-")
            .tempfile_in(dir)
            .map_err(io)?;
        tmp.write_all(self.to_text().as_bytes()).map_err(io)?;
        tmp.as_file().sync_all().map_err(io)?;
        tmp.persist(path).map_err(|e| io(e.error))?;
        Ok(())
    }

    /// Whether this baseline covers the same seeds and scenarios (by name) as `current`.
    pub fn matches(&self, current: &Baseline) -> Result<(), Mismatch> {
        let sorted = |v: &[u64]| {
            let mut v = v.to_vec();
            v.sort_unstable();
            v
        };
        if sorted(&self.seeds) != sorted(&current.seeds) {
            return Err(Mismatch::Seeds {
                baseline: format_seeds(&self.seeds),
                current: format_seeds(&current.seeds),
            });
        }
        let names = |b: &Baseline| {
            b.scenarios
                .iter()
                .map(|s| s.name.clone())
                .collect::<std::collections::BTreeSet<_>>()
        };
        let (old, new) = (names(self), names(current));
        if old != new {
            let mut parts = Vec::new();
            let missing: Vec<&str> = new.difference(&old).map(String::as_str).collect();
            if !missing.is_empty() {
                parts.push(format!("not in the baseline: {}", missing.join(", ")));
            }
            let extra: Vec<&str> = old.difference(&new).map(String::as_str).collect();
            if !extra.is_empty() {
                parts.push(format!(
                    "in the baseline but not checked: {}",
                    extra.join(", ")
                ));
            }
            return Err(Mismatch::Scenarios {
                detail: parts.join("; "),
            });
        }
        Ok(())
    }

    /// The scenario named `name`.
    pub fn scenario(&self, name: &str) -> Option<&BaselineScenario> {
        self.scenarios.iter().find(|s| s.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Baseline {
        let mut metrics = BTreeMap::new();
        metrics.insert(
            "p99_latency".to_string(),
            Some(BaselineValue {
                mean: 12.3457,
                n: 3,
                p5: 10.0,
                p50: 12.0,
                p95: 15.5,
            }),
        );
        metrics.insert("gpu_alloc".to_string(), None);
        Baseline {
            scenarios: vec![BaselineScenario {
                file: "scenarios/x.yaml".into(),
                metrics,
                name: "x".into(),
            }],
            scheduler_config: None,
            schema: SCHEMA,
            seeds: vec![1, 2, 3],
        }
    }

    #[test]
    fn round_trip_through_a_file_is_byte_stable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/baseline.json");
        let b = sample();
        b.write(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let back = Baseline::load(&path).unwrap();
        assert_eq!(back, b);
        back.write(&path).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
        // Sorted keys: gpu_alloc before p99_latency, file < metrics < name, and the
        // top level in alphabetical order.
        let g = text.find("gpu_alloc").unwrap();
        assert!(g < text.find("p99_latency").unwrap());
        let order = [
            "\"scenarios\"",
            "\"scheduler_config\"",
            "\"schema\"",
            "\"seeds\"",
        ];
        let pos: Vec<usize> = order.iter().map(|k| text.find(k).unwrap()).collect();
        assert!(pos.windows(2).all(|w| w[0] < w[1]), "{text}");
        assert!(text.contains("\"mean\": 12.3457"));
        // Only the baseline itself in the directory: no temporary left behind.
        assert_eq!(
            std::fs::read_dir(dir.path().join("sub")).unwrap().count(),
            1
        );
    }

    #[test]
    fn load_errors() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("b.json");
        assert!(matches!(Baseline::load(&p), Err(BaselineError::Missing(_))));
        let text = sample().to_text().replace("\"schema\": 1", "\"schema\": 2");
        assert!(matches!(
            Baseline::parse(&p, &text),
            Err(BaselineError::Schema { .. })
        ));
        assert!(matches!(
            Baseline::parse(&p, "{\"seeds\": []}"),
            Err(BaselineError::Parse { .. })
        ));
        assert!(matches!(
            Baseline::parse(&p, "not json"),
            Err(BaselineError::Parse { .. })
        ));
    }

    #[test]
    fn mismatches_name_the_difference() {
        let b = sample();
        let mut other = sample();
        other.seeds = vec![1, 2, 3, 4];
        let e = b.matches(&other).unwrap_err();
        assert!(
            e.to_string().contains("seeds 1..3") && e.to_string().contains("1..4"),
            "{e}"
        );
        let mut other = sample();
        other.scenarios[0].name = "y".into();
        let e = b.matches(&other).unwrap_err().to_string();
        assert!(
            e.contains("not in the baseline: y") && e.contains("not checked: x"),
            "{e}"
        );
        assert_eq!(b.matches(&sample()), Ok(()));
    }

    #[test]
    fn rounding() {
        assert_eq!(round4(1.0 / 3.0), 0.3333);
        assert_eq!(round4(-0.00001), 0.0);
        assert!(round4(-0.00001).is_sign_positive());
    }
}
