//! A sweep's output directory: `manifest.json` and `runs.csv` always; for a complete
//! sweep (unsharded, or merged) also `sweep.csv`, `answer.json` and one SVG chart per
//! plotted metric. The directory is written into a temporary directory beside the
//! destination and renamed into place, so a failed sweep leaves nothing behind.

use super::answer::{Answer, DEFAULT_MINIMIZE, answer};
use super::grid::Grid;
use super::plot::{self, DEFAULT_PLOTS};
use super::results::{PointSummary, RunTable, summarize, sweep_csv};
use super::shard::Manifest;
use crate::error::Error;
use std::path::Path;

/// Options of the answer and the plots.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Required share of passing seeds.
    pub confidence: f64,
    /// `--minimize` (`None`: [`DEFAULT_MINIMIZE`], which may be absent).
    pub minimize: Option<String>,
    /// `--plot` (empty: [`DEFAULT_PLOTS`] that exist).
    pub plots: Vec<String>,
}

/// A complete sweep's results.
#[derive(Debug, Clone)]
pub struct Complete {
    /// Per grid point.
    pub points: Vec<PointSummary>,
    /// The answer.
    pub answer: Answer,
    /// Files to write: (name, contents).
    pub files: Vec<(String, String)>,
}

fn unknown_metric(flag: &str, m: &str, table: &RunTable) -> Error {
    let mut names: Vec<&str> = table.metrics.iter().map(String::as_str).collect();
    names.push(plot::PASS_SHARE);
    let shown = names
        .iter()
        .take(30)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    let more = if names.len() > 30 { ", ..." } else { "" };
    Error::Usage(format!(
        "{flag} {m}: no such metric in this sweep's runs (metrics: {shown}{more}; see runs.csv)"
    ))
}

/// Aggregates a complete run table and builds every output file.
pub fn complete(
    grid: &Grid,
    manifest: &Manifest,
    table: &RunTable,
    opts: &Options,
) -> Result<Complete, Error> {
    if let Some(m) = &opts.minimize
        && table.column(m).is_none()
    {
        return Err(unknown_metric("--minimize", m, table));
    }
    for m in &opts.plots {
        if !plot::exists(table, m) {
            return Err(unknown_metric("--plot", m, table));
        }
    }
    let points = summarize(grid, table);
    let minimize = opts.minimize.as_deref().unwrap_or(DEFAULT_MINIMIZE);
    let ans = answer(table, &points, minimize, opts.confidence);
    let mut files = vec![
        ("manifest.json".to_string(), manifest.to_text()),
        ("runs.csv".to_string(), table.to_csv(grid)?),
        ("sweep.csv".to_string(), sweep_csv(grid, table, &points)?),
        (
            "answer.json".to_string(),
            format!(
                "{}\n",
                serde_json::to_string_pretty(&ans.to_json(grid, table, &points))
                    .unwrap_or_default()
            ),
        ),
    ];
    if !grid.axes.is_empty() {
        let chosen: Vec<String> = if opts.plots.is_empty() {
            DEFAULT_PLOTS
                .iter()
                .filter(|m| plot::exists(table, m))
                .map(|m| m.to_string())
                .collect()
        } else {
            opts.plots.clone()
        };
        for m in chosen {
            let lines = plot::lines(grid, table, &points, &m);
            files.push((plot::file_name(&m), plot::svg(grid, &lines, &m)));
        }
    }
    Ok(Complete {
        points,
        answer: ans,
        files,
    })
}

/// Writes `files` as directory `dir`, replacing it, atomically.
pub fn write_dir(dir: &Path, files: &[(String, String)]) -> Result<(), Error> {
    crate::report::writer::write_dir_atomically(dir, ".kubetwin-sweep-", files)
}

/// The per-point table printed by `-o table`: parameters, runs, pass share and the
/// minimised metric's p50 when it exists.
pub fn text_table(grid: &Grid, table: &RunTable, c: &Complete) -> String {
    let mut header: Vec<String> = grid.axes.iter().map(|a| a.name.clone()).collect();
    header.push("RUNS".into());
    header.push("PASS".into());
    let col = table.column(&c.answer.minimize);
    if col.is_some() {
        header.push(format!("{} P50", c.answer.minimize.to_uppercase()));
    }
    let mut rows = vec![header];
    for s in &c.points {
        let mut r: Vec<String> = grid.values(s.point).iter().map(|v| v.to_string()).collect();
        r.push(s.runs.to_string());
        r.push(format!("{}/{}", s.passed, s.runs));
        if let Some(j) = col {
            r.push(
                s.spreads[j]
                    .map(|x| x.p50.to_string())
                    .unwrap_or_else(|| "-".into()),
            );
        }
        rows.push(r);
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|j| rows.iter().map(|r| r[j].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in rows {
        let line: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}
