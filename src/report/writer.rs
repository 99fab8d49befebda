//! Writing a run's report directory: `summary.json`, `metrics.csv`, `events.jsonl`,
//! SVG plots, `index.html` and `report.md`. Everything is written into a temporary directory next to
//! the destination and renamed into place at the end, so a failed run never leaves a
//! partial report behind.

use super::annotations::numbered;
use super::html::{AnnotationRow, ExpectationRow, HtmlReport, render};
use super::plots::{Marker, line_chart_svg, stacked_area_svg};
use crate::error::Error;
use crate::metrics::percentile;
use crate::simulation::RunOutput;
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::path::Path;

/// The summary of a run (`summary.json`). Contains no wall-clock figures, so it is
/// identical for identical inputs.
pub fn summary(out: &RunOutput) -> Value {
    let s = &out.store;
    let c = s.pod_counts();
    let (nodes, ready, not_ready) = crate::simulation::observe::node_counts(s);
    let mut lat = s.stats.binding_latencies_ms.clone();
    lat.sort_unstable();
    let p = |q| percentile(&lat, q).map(Value::from).unwrap_or(Value::Null);
    let mut workloads = serde_json::Map::new();
    for kind in [
        crate::api::Kind::ReplicationController,
        crate::api::Kind::ReplicaSet,
        crate::api::Kind::Deployment,
    ] {
        let names: Vec<(String, String)> = match kind {
            crate::api::Kind::Deployment => s
                .deployments
                .iter_by_name()
                .map(|(_, d)| (d.meta.namespace.clone(), d.meta.name.clone()))
                .collect(),
            k => s
                .rs_arena(k)
                .iter_by_name()
                .map(|(_, r)| (r.meta.namespace.clone(), r.meta.name.clone()))
                .collect(),
        };
        for (ns, name) in names {
            if let Some((d, cur, r, a)) = crate::simulation::observe::workload(s, kind, &ns, &name)
            {
                let key = format!(
                    "{}/{ns}/{name}",
                    crate::simulation::observe::short_kind(kind)
                );
                workloads.insert(
                    key,
                    json!({"desired": d, "current": cur, "ready": r, "available": a}),
                );
            }
        }
    }
    let mut v = json!({
        "scenario": out.scenario,
        "seed": out.seed,
        "simulated_seconds": out.end.as_secs_f64(),
        "events_processed": out.events,
        "reconciles": out.reconciles,
        "truncated": out.truncated,
        "passed": out.passed(),
        "nodes": {"total": nodes, "ready": ready, "not_ready": not_ready},
        "pods": {
            "created": s.stats.pods_created,
            "removed": s.stats.pods_removed,
            "existing": s.pods.len(),
            "pending": c.pending,
            "unscheduled": c.unscheduled,
            "running": c.running,
            "ready": c.ready,
            "succeeded": c.succeeded,
            "failed": c.failed,
            "terminating": c.terminating,
        },
        "scheduling": {
            "bindings": s.stats.bindings,
            "failed_attempts": s.stats.failed_scheduling_attempts,
            "latency_ms_p50": p(50.0),
            "latency_ms_p90": p(90.0),
            "latency_ms_p99": p(99.0),
            "latency_ms_max": lat.last().copied().map(Value::from).unwrap_or(Value::Null),
        },
        "workloads": workloads,
        "services": service_summary(out),
        "hpa": crate::simulation::hpa_observe::summary(s),
        "expectations": out.expectations,
        "annotations": annotations_json(out),
    });
    if let Some(o) = v.as_object_mut() {
        if !out.load.is_empty() {
            o.insert("load".into(), Value::Object(out.load.clone()));
        }
        if let Some(l) = &out.cost {
            o.insert("cost".into(), l.summary(out.end));
        }
        if !out.faults.is_empty() {
            o.insert("faults".into(), json!(out.faults));
        }
        if let Some(g) = crate::simulation::gpu_metrics::summary(&out.metrics) {
            o.insert("gpu".into(), g);
        }
        if !out.traces.is_empty() {
            o.insert("traces".into(), Value::Array(out.traces.clone()));
        }
    }
    v
}

/// Per-Service availability from the sampled `:ready_endpoints` columns: from the first
/// sample with a ready endpoint on, the time with none (sample-based: samples with zero
/// endpoints times the interval), the lowest count, and the share of samples with at
/// least one ready endpoint.
pub fn service_summary(out: &RunOutput) -> serde_json::Map<String, Value> {
    let m = &out.metrics;
    let times = m.column("time_s").unwrap_or_default();
    let mut services = serde_json::Map::new();
    for c in m.columns() {
        let Some(name) = c.strip_suffix(":ready_endpoints") else {
            continue;
        };
        let vals = m.column(c).unwrap_or_default();
        let Some(first) = vals.iter().position(|v| *v > 0.0) else {
            services.insert(name.to_string(), json!({"ever_ready": false}));
            continue;
        };
        let (mut zero_s, mut up, mut min) = (0.0, 0usize, f64::INFINITY);
        for i in first..vals.len() {
            let v = vals[i];
            min = min.min(v);
            if v > 0.0 {
                up += 1;
            } else if i + 1 < vals.len() {
                zero_s += times[i + 1] - times[i];
            }
        }
        let n = vals.len() - first;
        let cap = m
            .column(&format!("{name}:capacity_ready_pct"))
            .unwrap_or_default();
        let min_cap = cap[first..]
            .iter()
            .copied()
            .filter(|v| !v.is_nan())
            .fold(f64::INFINITY, f64::min);
        services.insert(
            name.to_string(),
            json!({
                "ever_ready": true,
                "first_ready_s": times[first],
                "ready_endpoints_end": vals.last().copied().unwrap_or(0.0),
                "min_ready_endpoints": min,
                "seconds_without_endpoints": zero_s,
                "available_samples_pct": (up as f64 * 10000.0 / n as f64).round() / 100.0,
                "min_capacity_ready_pct": if min_cap.is_finite() { Value::from(min_cap) } else { Value::Null },
            }),
        );
    }
    services
}

/// The journal as JSON lines.
pub fn events_jsonl(out: &RunOutput) -> String {
    let mut s = String::with_capacity(out.journal.len() * 120);
    for e in &out.journal {
        let _ = writeln!(s, "{}", serde_json::to_string(e).unwrap_or_default());
    }
    s
}

/// summary.json's `annotations`: the run's annotations up to its end, each with its
/// plot callout id (`{"id": "A1", "at_s": 120.0, "kind": "action", "label": ...}`).
fn annotations_json(out: &RunOutput) -> Value {
    Value::Array(
        numbered(&out.annotations, out.end)
            .into_iter()
            .map(|(id, a)| {
                let mut v = serde_json::to_value(a).unwrap_or(Value::Null);
                if let Some(o) = v.as_object_mut() {
                    o.insert("id".into(), Value::String(id));
                }
                v
            })
            .collect(),
    )
}

/// The plot markers: every annotation up to the end, labelled `ID label`.
fn markers(out: &RunOutput) -> Vec<Marker> {
    numbered(&out.annotations, out.end)
        .into_iter()
        .map(|(id, a)| Marker {
            t_seconds: a.at.as_secs_f64(),
            label: format!("{id} {}", a.label),
            until_seconds: a.until.map(|u| u.as_secs_f64()),
            kind: a.kind,
        })
        .collect()
}

/// The SVG plots: (file name, caption, svg text).
pub fn plots(out: &RunOutput) -> Result<Vec<(String, String, String)>, Error> {
    let m = &out.metrics;
    let x = m.column("time_s").unwrap_or_default();
    let marks = markers(out);
    let col = |n: &str| m.column(n).unwrap_or_else(|| vec![f64::NAN; x.len()]);
    let perr = |e: super::plots::PlotError| Error::Internal(format!("plot: {e}"));
    let mut v = Vec::new();
    // Running pods being deleted (for example on an unreachable node) get their own band.
    let running: Vec<f64> = col("pods_running")
        .iter()
        .zip(col("pods_running_terminating"))
        .map(|(r, t)| r - t)
        .collect();
    let phases: Vec<(&str, Vec<f64>)> = vec![
        ("Pending", col("pods_pending")),
        ("Running", running),
        ("Running, terminating", col("pods_running_terminating")),
        ("Succeeded", col("pods_succeeded")),
        ("Failed", col("pods_failed")),
    ];
    let series: Vec<(&str, &[f64])> = phases.iter().map(|(n, c)| (*n, c.as_slice())).collect();
    v.push((
        "pods_by_phase.svg".to_string(),
        "Pods by phase".to_string(),
        stacked_area_svg("Pods by phase", "pods", &x, &series, &marks).map_err(perr)?,
    ));
    let util: Vec<(&str, Vec<f64>)> = vec![
        ("CPU requested %", col("cpu_requested_pct")),
        ("memory requested %", col("memory_requested_pct")),
    ];
    let series: Vec<(&str, &[f64])> = util.iter().map(|(n, c)| (*n, c.as_slice())).collect();
    v.push((
        "cluster_utilisation.svg".to_string(),
        "Cluster utilisation (requests / allocatable)".to_string(),
        line_chart_svg(
            "Cluster utilisation",
            "% of allocatable",
            &x,
            &series,
            &marks,
        )
        .map_err(perr)?,
    ));
    let ready_cols: Vec<(String, Vec<f64>)> = m
        .columns()
        .iter()
        .filter(|c| c.ends_with(":ready"))
        .map(|c| (c.trim_end_matches(":ready").to_string(), col(c)))
        .collect();
    let mut health: Vec<(String, Vec<f64>)> = vec![
        ("ready pods".to_string(), col("pods_ready")),
        ("ready nodes".to_string(), col("nodes_ready")),
    ];
    health.extend(
        ready_cols
            .into_iter()
            .map(|(n, c)| (format!("{n} ready"), c)),
    );
    health.extend(
        m.columns()
            .iter()
            .filter_map(|c| c.strip_suffix(":ready_endpoints").map(|n| (n, c)))
            .map(|(n, c)| (format!("{n} ready endpoints"), col(c))),
    );
    let series: Vec<(&str, &[f64])> = health
        .iter()
        .map(|(n, c)| (n.as_str(), c.as_slice()))
        .collect();
    v.push((
        "readiness.svg".to_string(),
        "Ready pods, nodes and workload replicas".to_string(),
        line_chart_svg("Readiness", "count", &x, &series, &marks).map_err(perr)?,
    ));
    let load: Vec<(String, Vec<f64>)> = m
        .columns()
        .iter()
        .filter_map(|c| c.strip_suffix(":offered_rps"))
        .flat_map(|p| {
            [
                (format!("{p} offered"), col(&format!("{p}:offered_rps"))),
                (format!("{p} served"), col(&format!("{p}:served_rps"))),
            ]
        })
        .collect();
    if !load.is_empty() {
        let series: Vec<(&str, &[f64])> = load
            .iter()
            .map(|(n, c)| (n.as_str(), c.as_slice()))
            .collect();
        v.push((
            "load.svg".to_string(),
            "Offered and served load".to_string(),
            line_chart_svg("Load", "requests/s", &x, &series, &marks).map_err(perr)?,
        ));
    }
    // The cluster autoscaler's node groups: registered and upcoming nodes.
    let groups: Vec<(String, Vec<f64>)> = m
        .columns()
        .iter()
        .filter_map(|c| {
            let rest = c.strip_prefix("nodegroup/")?;
            let (g, f) = rest.rsplit_once(':')?;
            Some((format!("{g} {f}"), col(c)))
        })
        .collect();
    if !groups.is_empty() {
        let series: Vec<(&str, &[f64])> = groups
            .iter()
            .map(|(n, c)| (n.as_str(), c.as_slice()))
            .collect();
        v.push((
            "node_groups.svg".to_string(),
            "Node groups: registered and upcoming nodes".to_string(),
            line_chart_svg("Node groups", "nodes", &x, &series, &marks).map_err(perr)?,
        ));
    }
    Ok(v)
}

/// The run's `report.md` (as written into the report directory), for
/// `kubetwin run --markdown`. Draws the plots to name them.
pub fn markdown(out: &RunOutput) -> Result<String, Error> {
    let plots = plots(out)?;
    let refs: Vec<(&str, &str)> = plots
        .iter()
        .map(|(n, c, _)| (n.as_str(), c.as_str()))
        .collect();
    Ok(super::markdown::render(out, &summary(out), &refs))
}

/// Writes the report for `out` into `dir` (replacing it), atomically.
pub fn write_report(dir: &Path, out: &RunOutput) -> Result<(), Error> {
    write_recorded_report(dir, out, None)
}

/// The journal as JSON lines after the recording header (`crate::replay`), when given.
pub fn recorded_events_jsonl(header: Option<&crate::replay::Header>, out: &RunOutput) -> String {
    match header {
        Some(h) => format!("{}\n{}", h.to_line(), events_jsonl(out)),
        None => events_jsonl(out),
    }
}

/// Writes the report for `out` into `dir` like [`write_report`], with `header` as line 1
/// of `events.jsonl` so `kubetwin replay` can re-run it.
pub fn write_recorded_report(
    dir: &Path,
    out: &RunOutput,
    header: Option<&crate::replay::Header>,
) -> Result<(), Error> {
    let mut files: Vec<(String, String)> = Vec::new();
    let mut write = |name: &str, body: &str| -> Result<(), Error> {
        files.push((name.to_string(), body.to_string()));
        Ok(())
    };
    let summary = summary(out);
    write(
        "summary.json",
        &format!(
            "{}\n",
            serde_json::to_string_pretty(&summary).unwrap_or_default()
        ),
    )?;
    write("metrics.csv", &out.metrics.to_csv())?;
    write("events.jsonl", &recorded_events_jsonl(header, out))?;
    if let Some(attempts) = &out.explain {
        write(
            "explain.jsonl",
            &crate::controllers::scheduler::explain::to_jsonl(attempts),
        )?;
    }
    let plots = plots(out)?;
    for (name, _, svg) in &plots {
        write(name, svg)?;
    }
    let rows: Vec<ExpectationRow> = out
        .expectations
        .iter()
        .map(|e| ExpectationRow {
            expr: e.expr.clone(),
            passed: e.passed,
            detail: e.detail.clone(),
            observed: super::expectations::observed_text(e),
            bound: e.bound.clone(),
        })
        .collect();
    let annotation_rows: Vec<AnnotationRow> = numbered(&out.annotations, out.end)
        .into_iter()
        .map(|(id, a)| AnnotationRow {
            id,
            time: super::markdown::annotation_time(
                a.at.as_secs_f64(),
                a.until.map(|u| u.as_secs_f64()),
            ),
            kind: a.kind.as_str().to_string(),
            label: a.label.clone(),
        })
        .collect();
    let plot_refs: Vec<(&str, &str)> = plots
        .iter()
        .map(|(n, c, _)| (n.as_str(), c.as_str()))
        .collect();
    let title = format!("kubetwin: {} (seed {})", out.scenario, out.seed);
    // The expectations have their own table on the page.
    let mut figures = summary.clone();
    if let Some(o) = figures.as_object_mut() {
        o.remove("expectations");
    }
    let html = render(&HtmlReport {
        title: &title,
        summary: &figures,
        expectations: &rows,
        annotations: &annotation_rows,
        plots: &plot_refs,
        files: if out.explain.is_some() {
            &[
                "summary.json",
                "metrics.csv",
                "events.jsonl",
                "explain.jsonl",
                "report.md",
            ]
        } else {
            &["summary.json", "metrics.csv", "events.jsonl", "report.md"]
        },
    });
    write("index.html", &html)?;
    write(
        "report.md",
        &super::markdown::render(out, &summary, &plot_refs),
    )?;
    write_dir_atomically(dir, ".kubetwin-report-", &files)
}

/// Writes `files` (name, contents) as the directory `dir`, replacing it: into a
/// temporary sibling directory named with `prefix`, renamed into place at the end, so a
/// failure leaves nothing behind. Reports, sweeps and experiments all write this way.
pub fn write_dir_atomically(
    dir: &Path,
    prefix: &str,
    files: &[(String, String)],
) -> Result<(), Error> {
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    let tmp = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in(parent)
        .map_err(|e| Error::io(parent, e))?;
    for (name, body) in files {
        let p = tmp.path().join(name);
        std::fs::write(&p, body).map_err(|e| Error::io(&p, e))?;
    }
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let kept = tmp.keep();
    std::fs::rename(&kept, dir).map_err(|e| {
        let _ = std::fs::remove_dir_all(&kept);
        Error::io(dir, e)
    })
}
