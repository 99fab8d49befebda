//! `report.md`: a GitHub-flavoured Markdown summary of one run, short enough for a CI
//! comment. `kubetwin run --markdown` prints it; every report directory holds it.
//!
//! Sections, in order:
//! 1. a headline: PASS/FAIL, scenario, seed, how many expectations held, simulated time;
//! 2. the expectations table ([`super::expectations::markdown_table`]);
//! 3. key metrics from `summary.json` (nodes, pods, container restarts, scheduling
//!    latency, per-Service availability, HPAs, cost, load), only those the run has;
//! 4. the timeline annotations (id, time, kind, label), the ids matching the plots'
//!    callouts; at most [`MAX_ANNOTATIONS`] rows, then a count of the rest;
//! 5. the plots, as relative links with their captions.
//!
//! [`render`] is pure: the same run gives the same bytes.

use super::annotations::numbered;
use super::expectations::{markdown_table, md_cell};
use super::plots::fmt_dur;
use crate::simulation::RunOutput;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Most annotation rows listed before the rest are counted.
pub const MAX_ANNOTATIONS: usize = 40;

/// The time column of an annotation: `2m`, or `2m – 5m` for a window.
pub fn annotation_time(at_s: f64, until_s: Option<f64>) -> String {
    match until_s {
        Some(u) => format!("{} – {}", fmt_dur(at_s), fmt_dur(u)),
        None => fmt_dur(at_s),
    }
}

/// Container restarts over the run, from the journal: each pod's highest `restarts=N`,
/// summed. `None` without a journal.
pub fn container_restarts(out: &RunOutput) -> Option<u64> {
    if out.journal.is_empty() {
        return None;
    }
    let mut per_pod: BTreeMap<(&str, &str), u64> = BTreeMap::new();
    for e in out.journal.iter().filter(|e| e.kind == "Pod") {
        let Some(n) = e
            .message
            .split_whitespace()
            .find_map(|w| w.strip_prefix("restarts="))
            .and_then(|n| n.parse::<u64>().ok())
        else {
            continue;
        };
        let v = per_pod
            .entry((e.namespace.as_str(), e.name.as_str()))
            .or_default();
        *v = (*v).max(n);
    }
    Some(per_pod.values().sum())
}

/// A JSON scalar as table text (`—` for null or missing).
fn text(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "—".to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => match n.as_f64() {
            Some(f) if f.fract() != 0.0 => {
                let s = format!("{f:.3}");
                s.trim_end_matches('0').trim_end_matches('.').to_string()
            }
            _ => n.to_string(),
        },
        Some(v) => v.to_string(),
    }
}

/// Key-metric rows `(metric, value)` from the summary.
fn key_metrics(out: &RunOutput, s: &Value) -> Vec<(String, String)> {
    let g = |p: &str| text(s.pointer(p));
    let mut rows = vec![
        (
            "nodes ready / total".to_string(),
            format!("{} / {}", g("/nodes/ready"), g("/nodes/total")),
        ),
        (
            "pods created / running / pending / failed".to_string(),
            format!(
                "{} / {} / {} / {}",
                g("/pods/created"),
                g("/pods/running"),
                g("/pods/pending"),
                g("/pods/failed")
            ),
        ),
    ];
    if let Some(r) = container_restarts(out) {
        rows.push(("container restarts".to_string(), r.to_string()));
    }
    rows.push((
        "scheduling latency p50 / p99 / max".to_string(),
        format!(
            "{} / {} / {} ms",
            g("/scheduling/latency_ms_p50"),
            g("/scheduling/latency_ms_p99"),
            g("/scheduling/latency_ms_max")
        ),
    ));
    rows.push((
        "bindings / failed scheduling attempts".to_string(),
        format!(
            "{} / {}",
            g("/scheduling/bindings"),
            g("/scheduling/failed_attempts")
        ),
    ));
    if let Some(svcs) = s.get("services").and_then(Value::as_object) {
        for (name, v) in svcs {
            let value = if v.get("ever_ready") == Some(&Value::Bool(false)) {
                "never ready".to_string()
            } else {
                format!(
                    "{}% of samples, {}s without endpoints, min {} ready",
                    text(v.get("available_samples_pct")),
                    text(v.get("seconds_without_endpoints")),
                    text(v.get("min_ready_endpoints"))
                )
            };
            rows.push((format!("svc/{name} availability"), value));
        }
    }
    if let Some(hpas) = s.get("hpa").and_then(Value::as_object) {
        for (name, v) in hpas {
            rows.push((
                format!("hpa/{name}"),
                format!(
                    "{} replicas at end ({}–{} seen), {} scale-ups, {} scale-downs",
                    text(v.get("final_current")),
                    text(v.get("min_replicas_reached")),
                    text(v.get("max_replicas_reached")),
                    text(v.get("scale_ups")),
                    text(v.get("scale_downs"))
                ),
            ));
        }
    }
    if let Some(c) = s.get("cost") {
        rows.push((
            "cost (node-hours)".to_string(),
            format!("{} ({})", text(c.get("total")), text(c.get("node_hours"))),
        ));
    }
    if let Some(load) = s.get("load").and_then(Value::as_object) {
        for (target, v) in load {
            let Some(fields) = v.as_object() else {
                rows.push((format!("load {target}"), text(Some(v))));
                continue;
            };
            let parts: Vec<String> = fields
                .iter()
                .filter(|(_, x)| !x.is_object() && !x.is_array())
                .map(|(k, x)| format!("{k} {}", text(Some(x))))
                .collect();
            if !parts.is_empty() {
                rows.push((format!("load {target}"), parts.join(", ")));
            }
        }
    }
    rows
}

/// Renders `report.md` for `out`, with its `summary` (the content of `summary.json`)
/// and its plots as `(file name, caption)`.
pub fn render(out: &RunOutput, summary: &Value, plots: &[(&str, &str)]) -> String {
    let mut md = String::new();
    let total = out.expectations.len();
    let passed = out.expectations.iter().filter(|e| e.passed).count();
    let verdict = if out.passed() { "✅ PASS" } else { "❌ FAIL" };
    let _ = writeln!(
        md,
        "## {verdict}: `{}` (seed {})\n",
        out.scenario.replace('`', "'"),
        out.seed
    );
    let _ = write!(
        md,
        "{passed} of {total} expectations passed · simulated {} · {} events",
        out.end, out.events
    );
    if out.truncated {
        md.push_str(" · ⚠️ stopped at the event limit");
    }
    md.push_str("\n\n### Expectations\n\n");
    md.push_str(&markdown_table(&out.expectations));
    md.push_str("\n### Key metrics\n\n| Metric | Value |\n|---|---|\n");
    for (k, v) in key_metrics(out, summary) {
        let _ = writeln!(md, "| {} | {} |", md_cell(&k), md_cell(&v));
    }
    let shown = numbered(&out.annotations, out.end);
    md.push_str("\n### Timeline\n\n");
    if shown.is_empty() {
        md.push_str("No actions, faults, rollouts or autoscaling events.\n");
    } else {
        md.push_str("| Id | Time | Kind | Annotation |\n|---|---|---|---|\n");
        for (id, a) in shown.iter().take(MAX_ANNOTATIONS) {
            let _ = writeln!(
                md,
                "| {id} | {} | {} | {} |",
                annotation_time(a.at.as_secs_f64(), a.until.map(|u| u.as_secs_f64())),
                a.kind.as_str(),
                md_cell(&a.label)
            );
        }
        if shown.len() > MAX_ANNOTATIONS {
            let _ = writeln!(
                md,
                "\n…and {} more (all in `summary.json`, `annotations`).",
                shown.len() - MAX_ANNOTATIONS
            );
        }
    }
    if !plots.is_empty() {
        md.push_str("\n### Plots\n\n");
        for (file, caption) in plots {
            let _ = writeln!(md, "- [{}]({file}) (`{file}`)", md_cell(caption));
        }
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_text() {
        assert_eq!(annotation_time(120.0, None), "2m");
        assert_eq!(annotation_time(120.0, Some(330.0)), "2m – 5m30s");
        assert_eq!(text(None), "—");
        assert_eq!(text(Some(&serde_json::json!(2.5))), "2.5");
        assert_eq!(text(Some(&serde_json::json!(1.0 / 3.0))), "0.333");
        assert_eq!(text(Some(&serde_json::json!(7))), "7");
    }
}
