//! Re-running a recorded run: the scenario and its inputs are rebuilt in a temporary
//! directory from the header (external inputs are checked against their recorded size
//! and hash and linked in), then run with the recorded seed and options, and the new
//! journal, `metrics.csv`, `summary.json` and `explain.jsonl` are compared with the
//! recorded ones.

use super::divergence::{self, Divergence};
use super::header::{Header, Input};
use super::journal::Recording;
use super::record::{hash_file, normalize};
use crate::error::Error;
use crate::simulation::{RunOptions, RunOutput, run as simulate};
use crate::workload::Scenario;
use serde::Serialize;
use std::path::{Component, Path, PathBuf};

/// Re-runs the run `h` records. External inputs are looked for below `inputs_dir`
/// (default: the scenario directory the header names, relative to the working
/// directory). Warnings (a different kubetwin version) go to `warn`.
pub fn rerun(
    h: &Header,
    inputs_dir: Option<&Path>,
    warn: &mut dyn FnMut(String),
) -> Result<RunOutput, Error> {
    if h.kubetwin_version != env!("CARGO_PKG_VERSION") {
        warn(format!(
            "warning: recorded by kubetwin {}, replaying with {}: differences may come from the version",
            h.kubetwin_version,
            env!("CARGO_PKG_VERSION")
        ));
    }
    let tmp = tempfile::Builder::new()
        .prefix(".kubetwin-replay-")
        .tempdir()
        .map_err(|e| Error::io(&std::env::temp_dir(), e))?;
    let depth = h
        .inputs
        .iter()
        .filter_map(|i| normalize(Path::new(&i.path)))
        .map(|p| {
            p.components()
                .take_while(|c| *c == Component::ParentDir)
                .count()
        })
        .max()
        .unwrap_or(0);
    let mut dir = tmp.path().to_path_buf();
    for i in 0..depth {
        dir.push(format!("d{i}"));
    }
    let scenario_dir = dir.join("scenario");
    std::fs::create_dir_all(&scenario_dir).map_err(|e| Error::io(&scenario_dir, e))?;
    for (i, input) in h.inputs.iter().enumerate() {
        place(input, i, &scenario_dir, h, inputs_dir)?;
    }
    let scheduler = match &h.options.scheduler_config {
        Some(c) => {
            let d = tmp.path().join("options");
            std::fs::create_dir_all(&d).map_err(|e| Error::io(&d, e))?;
            let name = Path::new(&c.path)
                .file_name()
                .map(|n| n.to_os_string())
                .unwrap_or_else(|| "scheduler-config.yaml".into());
            let p = d.join(name);
            let text = c.text.as_deref().unwrap_or_default();
            std::fs::write(&p, text).map_err(|e| Error::io(&p, e))?;
            Some(crate::controllers::scheduler::plugins::gpu::framework::load_config(&p)?)
        }
        None => None,
    };
    let explain = crate::controllers::scheduler::explain::ExplainSelector::from_flags(
        &h.options.explain,
        &h.options.explain_labels,
    )
    .map_err(|e| Error::Usage(e.to_string()))?;
    let scenario = Scenario::from_str(&h.scenario.text, &h.scenario.file, scenario_dir)?;
    let out = simulate(
        &scenario,
        &RunOptions {
            seed: Some(h.seed),
            scheduler,
            explain,
            ..RunOptions::default()
        },
    )?;
    drop(tmp);
    Ok(out)
}

/// Writes (embedded) or links (external) one input below `scenario_dir`.
fn place(
    input: &Input,
    i: usize,
    scenario_dir: &Path,
    h: &Header,
    inputs_dir: Option<&Path>,
) -> Result<(), Error> {
    let bad = |msg: String| Error::Usage(format!("header inputs[{i}] ({}): {msg}", input.path));
    let p = Path::new(&input.path);
    if p.is_absolute() {
        if input.text.is_some() {
            return Err(bad("an absolute path cannot be embedded".into()));
        }
        return check_external(p, input).map_err(bad);
    }
    let rel = normalize(p).ok_or_else(|| bad("not a path".into()))?;
    if rel.as_os_str() == "." || super::record::slash_path(&rel) != input.path {
        return Err(bad("not a normalised relative path".into()));
    }
    let ups = rel
        .components()
        .take_while(|c| *c == Component::ParentDir)
        .count();
    let mut target = scenario_dir.to_path_buf();
    for _ in 0..ups {
        target.pop();
    }
    target.extend(rel.components().skip(ups));
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    match &input.text {
        Some(t) => std::fs::write(&target, t).map_err(|e| Error::io(&target, e)),
        None => {
            let root: PathBuf = match (inputs_dir, &h.scenario.dir) {
                (Some(d), _) => d.to_path_buf(),
                (None, Some(d)) => PathBuf::from(d),
                (None, None) => {
                    return Err(bad(
                        "an external input and no recorded scenario directory: pass --inputs DIR (the original scenario's directory)".into(),
                    ));
                }
            };
            let src = root.join(&rel);
            check_external(&src, input).map_err(bad)?;
            link(&src, &target)
        }
    }
}

/// Checks that an external input is at `p` with its recorded size and hash.
fn check_external(p: &Path, input: &Input) -> Result<(), String> {
    let md = std::fs::metadata(p).map_err(|e| {
        format!(
            "external input not found at {} ({e}); pass --inputs DIR (the original scenario's directory)",
            p.display()
        )
    })?;
    if md.len() != input.size {
        return Err(format!(
            "{}: size {} differs from the recorded {}",
            p.display(),
            md.len(),
            input.size
        ));
    }
    let h = hash_file(p).map_err(|e| e.to_string())?;
    if h != input.sha256 {
        return Err(format!(
            "{}: contents hash to {h}, recorded {}",
            p.display(),
            input.sha256
        ));
    }
    Ok(())
}

fn link(src: &Path, target: &Path) -> Result<(), Error> {
    let abs = std::fs::canonicalize(src).map_err(|e| Error::io(src, e))?;
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(&abs, target).map_err(|e| Error::io(target, e))
    }
    #[cfg(not(unix))]
    {
        std::fs::copy(&abs, target)
            .map(|_| ())
            .map_err(|e| Error::io(target, e))
    }
}

/// The check of one report file against the re-run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileCheck {
    /// The file name (`metrics.csv`, ...).
    pub name: String,
    /// `None`: identical; else the first differing line (1-based) and both lines.
    pub difference: Option<(usize, Option<String>, Option<String>)>,
}

/// The outcome of a replay.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// Journal lines recorded.
    pub events: usize,
    /// The first divergence between the recorded journal (A) and the re-run (B).
    pub divergence: Option<Divergence>,
    /// The other report files present in the recording's directory.
    pub files: Vec<FileCheck>,
}

impl Verdict {
    /// Whether the re-run reproduced everything.
    pub fn identical(&self) -> bool {
        self.divergence.is_none() && self.files.iter().all(|f| f.difference.is_none())
    }
}

/// Compares a re-run with the recording.
pub fn verify(rec: &Recording, out: &RunOutput) -> Result<Verdict, Error> {
    let new = crate::report::writer::events_jsonl(out);
    let lines: Vec<String> = new.lines().map(str::to_string).collect();
    let times: Vec<u64> = out.journal.iter().map(|e| e.t_ms).collect();
    let divergence = divergence::first(&rec.lines, &rec.times, &lines, &times);
    let mut files = Vec::new();
    let mut check = |name: &str, fresh: String| -> Result<(), Error> {
        let p = rec.dir.join(name);
        if !p.is_file() {
            return Ok(());
        }
        let old = std::fs::read_to_string(&p).map_err(|e| Error::io(&p, e))?;
        files.push(FileCheck {
            name: name.to_string(),
            difference: divergence::first_text_line(&old, &fresh),
        });
        Ok(())
    };
    check("metrics.csv", out.metrics.to_csv())?;
    check(
        "summary.json",
        format!(
            "{}\n",
            serde_json::to_string_pretty(&crate::report::summary(out)).unwrap_or_default()
        ),
    )?;
    if let Some(a) = &out.explain {
        check(
            "explain.jsonl",
            crate::controllers::scheduler::explain::to_jsonl(a),
        )?;
    }
    Ok(Verdict {
        events: rec.lines.len(),
        divergence,
        files,
    })
}
