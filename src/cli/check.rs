//! `kubetwin check`: runs scenarios over a set of seeds under one scheduler configuration
//! and compares each metric's mean with a baseline file; exits 1 when a metric is worse
//! than its baseline beyond its tolerance. `--update-baseline` records the baseline
//! instead. Tolerance semantics are in [`crate::compare::tolerance`] and docs/compare.md.

use super::compare::{DEFAULT_SEEDS, execute, jobs, load_configs, load_scenarios, seeds, stem};
use super::{EXIT_CHECK_FAILED, EXIT_OK};
use crate::compare::baseline::{BaselineError, BaselineScenario, SCHEMA};
use crate::compare::check::{check as judge_all, render_check};
use crate::compare::seeds::format_seeds;
use crate::compare::table::render_comparison;
use crate::compare::{Baseline, Comparison, ConfigEntry, Format, RunPlan, Tolerances};
use crate::error::Error;
use clap::Args;
use std::path::PathBuf;

/// Arguments of `check`.
#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// Scenario files.
    #[arg(required = true)]
    pub scenarios: Vec<PathBuf>,
    /// The baseline file (JSON).
    #[arg(long, value_name = "FILE")]
    pub baseline: PathBuf,
    /// A KubeSchedulerConfiguration file (default: the scenarios' own scheduler settings).
    #[arg(long = "scheduler-config", value_name = "FILE")]
    pub scheduler_config: Option<PathBuf>,
    /// Seeds: `1..20` (inclusive), `5`, `1,2,7`, or a mix (`1..3,9`).
    #[arg(long, default_value = DEFAULT_SEEDS)]
    pub seeds: String,
    /// Tolerances: `5%` for every metric, `METRIC=N%` (relative, with the unit's noise
    /// floor) or `METRIC=N` (absolute); comma-separated, repeatable. Default 5%.
    #[arg(long, value_name = "SPEC")]
    pub tolerance: Vec<String>,
    /// Record the baseline from this run instead of checking against it.
    #[arg(long)]
    pub update_baseline: bool,
    /// Runs in parallel (default: one per core).
    #[arg(short = 'j', long)]
    pub jobs: Option<usize>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value = "table")]
    pub output: Format,
    /// Also write the result as GitHub-flavoured Markdown (a headline and the metric
    /// deltas per scenario, for a CI comment) to this file.
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
}

/// Writes `body` to `path` through a temporary file renamed into place, so a failure
/// never leaves a partial file.
fn write_markdown(path: &std::path::Path, body: &str) -> Result<(), Error> {
    use std::io::Write as _;
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(parent).map_err(|e| Error::io(parent, e))?;
    tmp.write_all(body.as_bytes())
        .map_err(|e| Error::io(path, e))?;
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(())
}

/// The `--markdown` document: a headline, then the check's Markdown tables.
fn markdown_doc(headline: &str, tables: &str) -> String {
    format!("## {headline}\n\n{tables}")
}

/// The command line that records the baseline, for the "missing baseline" message.
fn update_command(a: &CheckArgs) -> String {
    let mut cmd = String::from("kubetwin check");
    for s in &a.scenarios {
        cmd.push_str(&format!(" {}", s.display()));
    }
    cmd.push_str(&format!(" --baseline {}", a.baseline.display()));
    if let Some(c) = &a.scheduler_config {
        cmd.push_str(&format!(" --scheduler-config {}", c.display()));
    }
    cmd.push_str(&format!(" --seeds {} --update-baseline", a.seeds));
    cmd
}

/// Runs the command.
pub fn check(a: &CheckArgs) -> Result<i32, Error> {
    let seeds = seeds(&a.seeds)?;
    let jobs = jobs(a.jobs)?;
    let tolerances = Tolerances::parse(&a.tolerance).map_err(|e| Error::Usage(e.to_string()))?;
    let baseline = if a.update_baseline {
        None
    } else {
        match Baseline::load(&a.baseline) {
            Ok(b) => Some(b),
            Err(BaselineError::Missing(p)) => {
                return Err(Error::Usage(format!(
                    "{p}: no baseline file; record one with: {}",
                    update_command(a)
                )));
            }
            Err(e) => return Err(Error::Usage(e.to_string())),
        }
    };
    let scenarios = load_scenarios(&a.scenarios)?;
    for (i, s) in scenarios.iter().enumerate() {
        if let Some(prev) = scenarios[..i].iter().find(|p| p.name == s.name) {
            return Err(Error::Usage(format!(
                "{} and {} are both named {:?}: baselines key scenarios by name",
                prev.file, s.file, s.name
            )));
        }
    }
    // Seeds and scenarios must match the baseline before anything runs.
    if let Some(b) = &baseline {
        let stub = Baseline {
            scenarios: scenarios
                .iter()
                .map(|s| BaselineScenario {
                    file: s.file.clone(),
                    metrics: Default::default(),
                    name: s.name.clone(),
                })
                .collect(),
            scheduler_config: None,
            schema: SCHEMA,
            seeds: seeds.clone(),
        };
        b.matches(&stub)
            .map_err(|e| Error::Usage(format!("{}: {e}", a.baseline.display())))?;
    }
    let config = match &a.scheduler_config {
        Some(p) => load_configs(std::slice::from_ref(p))?.remove(0),
        None => ConfigEntry {
            label: "current".to_string(),
            source: "scenario settings".to_string(),
            settings: None,
        },
    };
    let source = a.scheduler_config.as_ref().map(|p| p.display().to_string());
    let plan = RunPlan {
        scenarios,
        configs: vec![config],
        seeds,
    };
    let results = execute("check", &plan, jobs)?;
    let comparison = Comparison::build(&plan, &results);
    let current = Baseline::from_comparison(&comparison, 0, source.clone());
    let Some(baseline) = baseline else {
        current
            .write(&a.baseline)
            .map_err(|e| Error::Usage(e.to_string()))?;
        print!("{}", render_comparison(&comparison, a.output));
        if let Some(p) = &a.markdown {
            let doc = markdown_doc(
                &format!("📝 check: recorded baseline `{}`", a.baseline.display()),
                &render_comparison(&comparison, Format::Markdown),
            );
            write_markdown(p, &doc)?;
        }
        eprintln!(
            "check: wrote baseline {} ({} scenarios, seeds {})",
            a.baseline.display(),
            current.scenarios.len(),
            format_seeds(&current.seeds)
        );
        return Ok(EXIT_OK);
    };
    if baseline.scheduler_config != source {
        let show = |s: &Option<String>| s.clone().unwrap_or_else(|| "scenario settings".into());
        eprintln!(
            "note: the baseline was recorded with scheduler config {}, this check uses {}",
            show(&baseline.scheduler_config),
            show(&source)
        );
    }
    let report = judge_all(&baseline, &current, &tolerances)
        .map_err(|e| Error::Usage(format!("{}: {e}", a.baseline.display())))?;
    print!("{}", render_check(&report, a.output));
    let n = report.regressions();
    if let Some(p) = &a.markdown {
        let headline = if n > 0 {
            format!(
                "❌ check: {n} regression{} against `{}`",
                if n == 1 { "" } else { "s" },
                a.baseline.display()
            )
        } else {
            format!("✅ check: no regression against `{}`", a.baseline.display())
        };
        write_markdown(
            p,
            &markdown_doc(&headline, &render_check(&report, Format::Markdown)),
        )?;
    }
    if n > 0 {
        eprintln!(
            "check: {n} regression{} against {}; if intended, re-record with: {}",
            if n == 1 { "" } else { "s" },
            a.baseline.display(),
            update_command(a)
        );
        return Ok(EXIT_CHECK_FAILED);
    }
    eprintln!(
        "check: no regression against {} ({})",
        a.baseline.display(),
        a.scheduler_config
            .as_deref()
            .map_or_else(|| "scenario settings".to_string(), stem)
    );
    Ok(EXIT_OK)
}
