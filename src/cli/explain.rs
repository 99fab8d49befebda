//! `kubetwin explain`: one pod's scheduling attempts as kubectl-like tables (per visited
//! node: the Filter result, the per-plugin scores, the total and the chosen marker), or
//! as JSON. The attempts come from running a scenario with the pod explained, or from a
//! report's `explain.jsonl` (written by `kubetwin run --explain`).

use super::{EXIT_OK, Output};
use crate::controllers::scheduler::explain::{Attempt, ExplainSelector};
use crate::engine::{SimDuration, SimTime};
use crate::error::{Error, InputError};
use crate::simulation::{RunOptions, run as simulate};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Arguments of `explain`.
#[derive(Debug, Clone, clap::Args)]
pub struct ExplainArgs {
    /// A scenario file, or a report's `explain.jsonl`.
    pub target: PathBuf,
    /// The pod: NAME or NAMESPACE/NAME.
    #[arg(long)]
    pub pod: String,
    /// Override the scenario's seed (scenario targets only).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Show only this attempt (1 is the first).
    #[arg(long)]
    pub attempt: Option<u32>,
    /// A KubeSchedulerConfiguration file overriding the scenario's (scenario targets only).
    #[arg(long, value_name = "FILE")]
    pub scheduler_config: Option<PathBuf>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value = "table")]
    pub output: Output,
}

/// Whether `target` is an `explain.jsonl` file rather than a scenario.
fn is_jsonl(target: &Path) -> bool {
    target.extension().is_some_and(|e| e == "jsonl")
}

/// Parses `explain.jsonl` text; a bad line is an error naming the file, line and column.
pub fn parse_jsonl(file: &str, text: &str) -> Result<Vec<Attempt>, Error> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let a: Attempt = serde_json::from_str(line).map_err(|e| {
            InputError::at(
                file,
                i + 1,
                e.column(),
                "",
                format!("not an explain.jsonl record: {e}"),
            )
            .with_source(text)
        })?;
        out.push(a);
    }
    Ok(out)
}

/// Whether record pod `ns/name` is `wanted` (NAME or NAMESPACE/NAME).
fn pod_matches(record: &str, wanted: &str) -> bool {
    if wanted.contains('/') {
        record == wanted
    } else {
        record.split_once('/').is_some_and(|(_, n)| n == wanted)
    }
}

/// Runs the command.
pub fn explain(a: &ExplainArgs) -> Result<i32, Error> {
    let mut check = ExplainSelector::default();
    check
        .add_names(&a.pod)
        .map_err(|e| Error::Usage(format!("--pod: {}", e.why)))?;
    if a.pod.contains(['*', '?', ',']) || a.pod == "all" {
        return Err(Error::Usage(format!(
            "--pod {:?}: expected one pod name (NAME or NAMESPACE/NAME), not a selector",
            a.pod
        )));
    }
    let source = a.target.display().to_string();
    let (attempts, known): (Vec<Attempt>, Vec<String>) = if is_jsonl(&a.target) {
        if a.seed.is_some() || a.scheduler_config.is_some() {
            return Err(Error::Usage(
                "--seed and --scheduler-config apply to scenario targets, not explain.jsonl".into(),
            ));
        }
        let text = std::fs::read_to_string(&a.target).map_err(|e| Error::io(&a.target, e))?;
        let all = parse_jsonl(&source, &text)?;
        let mut known: Vec<String> = all.iter().map(|x| x.pod.clone()).collect();
        known.dedup();
        let mine = all
            .into_iter()
            .filter(|x| pod_matches(&x.pod, &a.pod))
            .collect();
        (mine, known)
    } else {
        let scenario = super::run::load(Some(&a.target))?;
        let scheduler = match &a.scheduler_config {
            Some(p) => Some(crate::controllers::scheduler::config::load(p)?),
            None => None,
        };
        let out = simulate(
            &scenario,
            &RunOptions {
                seed: a.seed,
                scheduler,
                explain: Some(ExplainSelector::exact(&a.pod)),
                ..RunOptions::default()
            },
        )?;
        let known = out
            .store
            .pods
            .iter_by_name()
            .map(|(_, p)| format!("{}/{}", p.meta.namespace, p.meta.name))
            .collect();
        (out.explain.unwrap_or_default(), known)
    };
    if attempts.is_empty() {
        let mut some: Vec<&str> = known.iter().map(String::as_str).collect();
        some.sort_unstable();
        some.dedup();
        let more = some.len().saturating_sub(10);
        some.truncate(10);
        let list = if some.is_empty() {
            "none".to_string()
        } else if more > 0 {
            format!("{}, ... ({more} more)", some.join(", "))
        } else {
            some.join(", ")
        };
        return Err(Error::Usage(format!(
            "{source}: pod {:?} has no scheduling attempts{}; pods: {list}",
            a.pod,
            if is_jsonl(&a.target) {
                String::new()
            } else {
                format!(
                    " in this run{}",
                    a.seed.map(|s| format!(" (seed {s})")).unwrap_or_default()
                )
            }
        )));
    }
    let total = attempts.len();
    let shown: Vec<Attempt> = match a.attempt {
        Some(k) => {
            let v: Vec<Attempt> = attempts.into_iter().filter(|x| x.attempt == k).collect();
            if v.is_empty() {
                return Err(Error::Usage(format!(
                    "--attempt {k}: pod {:?} has {total} scheduling attempt(s)",
                    a.pod
                )));
            }
            v
        }
        None => attempts,
    };
    match a.output {
        Output::Json => println!(
            "{}",
            serde_json::to_string_pretty(&shown).unwrap_or_default()
        ),
        Output::Table | Output::Wide => print!("{}", render(&shown)),
    }
    Ok(EXIT_OK)
}

/// The attempts as kubectl-like tables, one block per attempt.
pub fn render(attempts: &[Attempt]) -> String {
    let mut out = String::new();
    for (i, a) in attempts.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        render_attempt(&mut out, a);
    }
    out
}

fn render_attempt(out: &mut String, a: &Attempt) {
    let t = SimTime::ZERO + SimDuration::from_millis(a.t_ms);
    let _ = writeln!(
        out,
        "POD {}  ATTEMPT {}  AT {}  PROFILE {}  FROM {}",
        a.pod, a.attempt, t, a.profile, a.queue
    );
    let s = &a.sampling;
    let _ = writeln!(
        out,
        "SAMPLING {} nodes, percentageOfNodesToScore {}, numFeasibleNodesToFind {}, start index {}, {} processed, {} feasible",
        s.all_nodes,
        s.percentage_of_nodes_to_score,
        s.num_feasible_nodes_to_find,
        s.start_index,
        s.processed,
        s.feasible
    );
    if let Some(n) = &a.nominated_node {
        let _ = writeln!(
            out,
            "NOMINATED {} ({})",
            n.node,
            if n.passed {
                "passed the filters: the only feasible node"
            } else {
                "failed the filters: all nodes scanned"
            }
        );
    }
    // Score plugin columns, in the order the plugins first appear.
    let mut plugins: Vec<(String, i64)> = Vec::new();
    for n in &a.nodes {
        for p in &n.scores {
            if !plugins.iter().any(|(name, _)| *name == p.plugin) {
                plugins.push((p.plugin.clone(), p.weight));
            }
        }
    }
    let mut header = vec!["NODE".to_string(), "FILTER".to_string()];
    header.extend(plugins.iter().map(|(n, w)| format!("{n}(x{w})")));
    header.push("TOTAL".into());
    header.push("CHOSEN".into());
    let mut rows = vec![header];
    for n in &a.nodes {
        let filter = match &n.filter.plugin {
            None if n.filter.reasons.is_empty() => n.filter.code.clone(),
            plugin => format!(
                "{}: {}: {}",
                plugin.as_deref().unwrap_or("?"),
                n.filter.code,
                n.filter.reasons.join(", ")
            ),
        };
        let mut row = vec![n.node.clone(), filter];
        for (name, _) in &plugins {
            row.push(match n.scores.iter().find(|p| p.plugin == *name) {
                Some(p) if p.raw == p.normalized => p.normalized.to_string(),
                Some(p) => format!("{}->{}", p.raw, p.normalized),
                None => String::new(),
            });
        }
        row.push(n.total.map(|t| t.to_string()).unwrap_or_default());
        row.push(if n.chosen { "*".into() } else { String::new() });
        rows.push(row);
    }
    table(out, &rows);
    let r = &a.result;
    match (r.outcome.as_str(), &r.node) {
        ("Scheduled", Some(node)) if r.scored => {
            let _ = writeln!(
                out,
                "RESULT Scheduled on {node}: top score {}, {} node(s) with the top score{}",
                r.top_score.unwrap_or_default(),
                r.tied.unwrap_or(1),
                match (r.tied, r.tie_break.as_deref()) {
                    (Some(t), Some(how)) if t > 1 => format!(" (tie broken by {how})"),
                    _ => String::new(),
                }
            );
        }
        ("Scheduled", Some(node)) => {
            let _ = writeln!(
                out,
                "RESULT Scheduled on {node}: the only feasible node (not scored)"
            );
        }
        _ => {
            let _ = writeln!(
                out,
                "RESULT {}: {}",
                r.outcome,
                r.message.as_deref().unwrap_or("")
            );
            if let Some(p) = &r.post_filter {
                let plugin = p.plugin.as_deref().unwrap_or("PostFilter");
                match &p.nominated_node {
                    Some(node) => {
                        let _ = writeln!(
                            out,
                            "POSTFILTER {plugin}: nominated {node}, victims: {}",
                            if p.victims.is_empty() {
                                "none".to_string()
                            } else {
                                p.victims.join(", ")
                            }
                        );
                    }
                    None => {
                        let what = if p.nomination == "kept" {
                            "nomination kept"
                        } else {
                            "no nomination"
                        };
                        let why = if p.message.is_empty() {
                            String::new()
                        } else {
                            format!(" ({})", p.message)
                        };
                        let _ = writeln!(out, "POSTFILTER {plugin}: {what}{why}");
                    }
                }
            }
        }
    }
}

/// Left-aligned columns separated by three spaces, as kubectl prints them.
fn table(out: &mut String, rows: &[Vec<String>]) {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for r in rows {
        let mut line = String::new();
        for (c, cell) in r.iter().enumerate() {
            if c + 1 < r.len() {
                let _ = write!(line, "{cell:<w$}   ", w = widths[c]);
            } else {
                line.push_str(cell);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_jsonl_names_file_and_line() {
        let e = parse_jsonl("x.jsonl", "\n{\"t_ms\": 1}\n").expect_err("bad");
        let s = e.to_string();
        assert!(s.starts_with("x.jsonl:2:"), "{s}");
    }

    #[test]
    fn pod_names_match_with_or_without_namespace() {
        assert!(pod_matches("default/web-1", "web-1"));
        assert!(pod_matches("default/web-1", "default/web-1"));
        assert!(!pod_matches("default/web-1", "other/web-1"));
        assert!(!pod_matches("default/web-12", "web-1"));
    }
}
