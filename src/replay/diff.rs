//! Two recorded runs side by side: what differs in their inputs (from the headers), the
//! first divergence of their journals and the deltas of their summaries' metrics.

use super::deltas::{Delta, deltas};
use super::divergence::{self, Divergence};
use super::header::{Header, Input};
use super::journal::Recording;
use crate::error::Error;
use serde::Serialize;
use std::collections::BTreeMap;

/// The comparison of two runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunDiff {
    /// Side A: label, scenario name, seed and journal length.
    pub a: Side,
    /// Side B.
    pub b: Side,
    /// The input differences, one line each (`seed: 1 -> 2`).
    pub inputs: Vec<String>,
    /// The first divergence of the journals (`None`: identical).
    pub first_divergence: Option<Divergence>,
    /// Every numeric field of the two `summary.json` (empty when either is missing).
    pub metrics: Vec<Delta>,
    /// Why `metrics` is empty, when a summary is missing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics_note: Option<String>,
}

/// One side of a diff.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Side {
    /// The path as given.
    pub label: String,
    /// The scenario name.
    pub scenario: String,
    /// The seed.
    pub seed: u64,
    /// Journal lines.
    pub events: usize,
}

/// Compares run `a` with run `b` (labelled as given).
pub fn diff(a: &Recording, la: &str, b: &Recording, lb: &str) -> Result<RunDiff, Error> {
    let side = |r: &Recording, l: &str| Side {
        label: l.to_string(),
        scenario: r.header.scenario.name.clone(),
        seed: r.header.seed,
        events: r.lines.len(),
    };
    let first_divergence = divergence::first(&a.lines, &a.times, &b.lines, &b.times);
    let (sa, sb) = (summary(a)?, summary(b)?);
    let (metrics, metrics_note) = match (sa, sb) {
        (Some(x), Some(y)) => (deltas(&x, &y), None),
        (x, _) => {
            let missing = if x.is_none() { a } else { b };
            (
                Vec::new(),
                Some(format!(
                    "no metric deltas: {} has no summary.json",
                    missing.dir.display()
                )),
            )
        }
    };
    Ok(RunDiff {
        a: side(a, la),
        b: side(b, lb),
        inputs: input_changes(&a.header, &b.header),
        first_divergence,
        metrics,
        metrics_note,
    })
}

fn summary(r: &Recording) -> Result<Option<serde_json::Value>, Error> {
    let p = r.dir.join("summary.json");
    if !p.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&p).map_err(|e| Error::io(&p, e))?;
    serde_json::from_str(&text).map(Some).map_err(|e| {
        crate::error::InputError::at(
            &p.display().to_string(),
            e.line(),
            e.column(),
            "",
            format!("not JSON: {e}"),
        )
        .into()
    })
}

fn short(h: &str) -> &str {
    let hex = h.strip_prefix("sha256:").unwrap_or(h);
    &hex[..hex.len().min(12)]
}

fn file(i: Option<&Input>) -> String {
    i.map_or_else(
        || "none".to_string(),
        |i| format!("{} ({})", i.path, short(&i.sha256)),
    )
}

/// The differences between two headers' inputs, one line each.
pub fn input_changes(a: &Header, b: &Header) -> Vec<String> {
    let mut v = Vec::new();
    if a.kubetwin_version != b.kubetwin_version {
        v.push(format!(
            "kubetwin version: {} -> {}",
            a.kubetwin_version, b.kubetwin_version
        ));
    }
    if a.seed != b.seed {
        v.push(format!("seed: {} -> {}", a.seed, b.seed));
    }
    if a.scenario.sha256 != b.scenario.sha256 || a.scenario.file != b.scenario.file {
        v.push(format!(
            "scenario: {} ({}) -> {} ({})",
            a.scenario.file,
            short(&a.scenario.sha256),
            b.scenario.file,
            short(&b.scenario.sha256)
        ));
    }
    let (ca, cb) = (
        a.options.scheduler_config.as_ref(),
        b.options.scheduler_config.as_ref(),
    );
    if ca.map(|c| &c.sha256) != cb.map(|c| &c.sha256) {
        v.push(format!("--scheduler-config: {} -> {}", file(ca), file(cb)));
    }
    if (&a.options.explain, &a.options.explain_labels)
        != (&b.options.explain, &b.options.explain_labels)
    {
        v.push(format!(
            "--explain: {:?} {:?} -> {:?} {:?}",
            a.options.explain,
            a.options.explain_labels,
            b.options.explain,
            b.options.explain_labels
        ));
    }
    let ia: BTreeMap<&str, &Input> = a.inputs.iter().map(|i| (i.path.as_str(), i)).collect();
    let ib: BTreeMap<&str, &Input> = b.inputs.iter().map(|i| (i.path.as_str(), i)).collect();
    let mut paths: Vec<&str> = ia.keys().chain(ib.keys()).copied().collect();
    paths.sort_unstable();
    paths.dedup();
    for p in paths {
        match (ia.get(p), ib.get(p)) {
            (Some(x), Some(y)) if x.sha256 != y.sha256 => v.push(format!(
                "input {p}: changed ({} -> {})",
                short(&x.sha256),
                short(&y.sha256)
            )),
            (Some(_), None) => v.push(format!("input {p}: only in A")),
            (None, Some(_)) => v.push(format!("input {p}: only in B")),
            _ => {}
        }
    }
    v
}

/// Renders a diff as text tables.
pub fn render_table(d: &RunDiff, changed_only: bool) -> String {
    use super::deltas::fmt_num;
    let mut s = String::new();
    for (tag, x) in [("A", &d.a), ("B", &d.b)] {
        s.push_str(&format!(
            "RUN {tag}  {}  ({}, seed {}, {} events)\n",
            x.label, x.scenario, x.seed, x.events
        ));
    }
    if d.inputs.is_empty() {
        s.push_str("INPUTS  identical\n");
    } else {
        for (i, l) in d.inputs.iter().enumerate() {
            s.push_str(if i == 0 { "INPUTS  " } else { "        " });
            s.push_str(l);
            s.push('\n');
        }
    }
    match &d.first_divergence {
        None => s.push_str(&format!("JOURNALS  identical ({} events)\n", d.a.events)),
        Some(x) => {
            s.push_str("JOURNALS  ");
            s.push_str(&divergence::render(x, "A", "B"));
        }
    }
    if let Some(n) = &d.metrics_note {
        s.push_str(&format!("\n{n}\n"));
        return s;
    }
    let rows: Vec<&Delta> = d
        .metrics
        .iter()
        .filter(|m| !changed_only || m.a != m.b)
        .collect();
    let w = rows.iter().map(|m| m.field.len()).max().unwrap_or(6).max(6);
    s.push_str(&format!(
        "\n{:<w$}  {:>12}  {:>12}  {:>12}  {:>9}\n",
        "METRIC", "A", "B", "DELTA", "%"
    ));
    for m in rows {
        let pct = m
            .pct
            .map_or_else(|| "-".to_string(), |p| format!("{p:+.1}%"));
        let delta = match m.delta {
            Some(x) if x > 0.0 => format!("+{}", fmt_num(Some(x))),
            x => fmt_num(x),
        };
        s.push_str(&format!(
            "{:<w$}  {:>12}  {:>12}  {:>12}  {:>9}\n",
            m.field,
            fmt_num(m.a),
            fmt_num(m.b),
            delta,
            pct
        ));
    }
    s
}
