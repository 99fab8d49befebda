//! The grid of the GPU fragmentation experiment (traces x policies x seeds, in parallel
//! with rayon, merged in a fixed order) and its outputs: `gpu-fragmentation.csv`, a
//! Markdown table, the mean curves and the SVG charts.

use super::gpu_fragmentation::{Cluster, MAX_ARRIVED_PCT, RunResult, Workload, run};
use super::gpu_plots::{bars_svg, curves_svg};
use crate::controllers::scheduler::plugins::gpu::Policy;
use crate::error::Error;
use crate::workload::traces::openb;
use rayon::prelude::*;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The 17 pod lists of the paper's evaluation, by short name.
pub const TRACES: [&str; 17] = [
    "default",
    "cpu050",
    "cpu100",
    "cpu200",
    "cpu250",
    "gpushare40",
    "gpushare60",
    "gpushare80",
    "gpushare100",
    "gpuspec10",
    "gpuspec20",
    "gpuspec25",
    "gpuspec33",
    "multigpu20",
    "multigpu30",
    "multigpu40",
    "multigpu50",
];

/// Trace families (bar charts): file-name prefix, chart title, file stem.
pub const FAMILIES: [(&str, &str, &str); 4] = [
    ("cpu", "CPU-only share", "bars_cpu_share"),
    ("gpushare", "GPU-sharing share", "bars_gpu_sharing"),
    ("multigpu", "multi-GPU share", "bars_multi_gpu"),
    ("gpuspec", "GPU-model constraints", "bars_gpu_spec"),
];

/// The short name of a trace argument (`openb_pod_list_default.csv` -> `default`).
pub fn short_name(s: &str) -> String {
    let s = s.trim_end_matches(".csv");
    let s = s.rsplit('/').next().unwrap_or(s);
    s.strip_prefix("openb_pod_list_").unwrap_or(s).to_string()
}

/// The pod list file of trace `name` under the traces folder.
pub fn pod_file(dir: &Path, name: &str) -> PathBuf {
    let file = format!("openb_pod_list_{name}.csv");
    let in_csv = dir.join("csv").join(&file);
    if in_csv.exists() {
        in_csv
    } else {
        dir.join(file)
    }
}

/// The paper's node list under the traces folder (the 1,213 GPU nodes).
pub fn node_file(dir: &Path) -> PathBuf {
    let in_csv = dir.join("csv").join("openb_node_list_gpu_node.csv");
    if in_csv.exists() {
        in_csv
    } else {
        dir.join("openb_node_list_gpu_node.csv")
    }
}

/// Mean and sample standard deviation.
pub fn mean_sd(xs: &[f64]) -> (f64, f64) {
    if xs.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    if xs.len() < 2 {
        return (m, 0.0);
    }
    let v = xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0);
    (m, v.sqrt())
}

/// Results of one (trace, policy) over all seeds.
#[derive(Debug, Clone)]
pub struct Cell {
    /// Trace short name.
    pub trace: String,
    /// Policy.
    pub policy: Policy,
    /// Seeds run.
    pub seeds: Vec<u64>,
    /// Per-seed results, in seed order.
    pub runs: Vec<RunResult>,
}

impl Cell {
    /// Mean and sd over seeds of unallocated GPUs (percent) at `pct` arrived workload.
    pub fn unallocated(&self, pct: usize) -> (f64, f64) {
        let v: Vec<f64> = self.runs.iter().map(|r| r.unallocated_at(pct)).collect();
        mean_sd(&v)
    }

    /// Mean and sd over seeds of arrived-but-unplaced GPU requests (percent of capacity)
    /// at `pct` arrived workload.
    pub fn unplaced(&self, pct: usize) -> (f64, f64) {
        let v: Vec<f64> = self.runs.iter().map(|r| r.unplaced_at(pct)).collect();
        mean_sd(&v)
    }

    /// Mean curve of `f` over seeds.
    pub fn mean_curve(&self, f: impl Fn(&RunResult) -> &Vec<f64>) -> Vec<f64> {
        (0..=MAX_ARRIVED_PCT)
            .map(|i| {
                let v: Vec<f64> = self.runs.iter().map(|r| f(r)[i]).collect();
                mean_sd(&v).0
            })
            .collect()
    }
}

/// Loads the traces and runs the grid. Jobs run in parallel; results come back in
/// (trace, policy, seed) order.
pub fn run_grid(
    nodes_path: &Path,
    traces: &[(String, PathBuf)],
    policies: &[Policy],
    seeds: &[u64],
) -> Result<(Cluster, Vec<Cell>), Error> {
    let nodes = openb::read_nodes(nodes_path)?;
    let cluster = Cluster::new(&nodes)?;
    let mut workloads = Vec::new();
    for (name, path) in traces {
        let pods = openb::read_pods(path)?;
        workloads.push(Workload::new(name, &pods, &cluster));
    }
    let mut jobs = Vec::new();
    for (t, _) in workloads.iter().enumerate() {
        for &p in policies {
            for &s in seeds {
                jobs.push((t, p, s));
            }
        }
    }
    let results: Vec<RunResult> = jobs
        .par_iter()
        .map(|&(t, p, s)| run(&cluster, &workloads[t], p, s))
        .collect();
    let mut cells = Vec::new();
    let mut it = results.into_iter();
    for w in &workloads {
        for &p in policies {
            cells.push(Cell {
                trace: w.name.clone(),
                policy: p,
                seeds: seeds.to_vec(),
                runs: it.by_ref().take(seeds.len()).collect(),
            });
        }
    }
    Ok((cluster, cells))
}

/// `gpu-fragmentation.csv`: trace, policy, seeds, unallocated GPU % mean and sd at 100%
/// arrived workload.
pub fn results_csv(cells: &[Cell]) -> String {
    let mut s =
        String::from("trace,policy,seeds,unallocated_gpu_pct_mean,unallocated_gpu_pct_sd\n");
    for c in cells {
        let (m, sd) = c.unallocated(100);
        let _ = writeln!(
            s,
            "{},{},{},{:.4},{:.4}",
            c.trace,
            c.policy.name(),
            c.seeds.len(),
            m,
            sd
        );
    }
    s
}

/// The table (Markdown): one row per trace, one column per policy, `mean ± sd` over
/// seeds of unallocated GPUs (%) at 100% arrived workload; then the GPU requests that
/// could not be placed (stranded demand, %) at 90% and 100%.
pub fn results_table(cells: &[Cell], policies: &[Policy], capacity_gpus: f64) -> String {
    let mut s = String::new();
    for (pct, unplaced) in [(100usize, false), (90, true), (100, true)] {
        let what = if unplaced {
            "GPU requests not placed"
        } else {
            "Unallocated GPUs"
        };
        let _ = writeln!(
            s,
            "{what} (% of {capacity_gpus:.0} GPUs) at {pct}% arrived workload, mean ± sd over seeds\n"
        );
        s.push_str("| trace |");
        for p in policies {
            let _ = write!(s, " {} |", p.name());
        }
        s.push_str("\n|---|");
        for _ in policies {
            s.push_str("---:|");
        }
        s.push('\n');
        let mut traces: Vec<&str> = Vec::new();
        for c in cells {
            if !traces.contains(&c.trace.as_str()) {
                traces.push(&c.trace);
            }
        }
        for t in traces {
            let _ = write!(s, "| {t} |");
            for p in policies {
                match cells.iter().find(|c| c.trace == t && c.policy == *p) {
                    Some(c) => {
                        let (m, sd) = if unplaced {
                            c.unplaced(pct)
                        } else {
                            c.unallocated(pct)
                        };
                        let _ = write!(s, " {m:.2} ± {sd:.2} |");
                    }
                    None => s.push_str(" |"),
                }
            }
            s.push('\n');
        }
        s.push('\n');
    }
    s
}

/// Mean curves: trace, policy, arrived %, allocation %, fragmentation %, fragmentation
/// ratio %.
pub fn curves_csv(cells: &[Cell]) -> String {
    let mut s =
        String::from("trace,policy,arrived_pct,alloc_pct_mean,frag_pct_mean,frag_ratio_pct_mean\n");
    for c in cells {
        let r = c.mean_curve(|r| &r.arrived_pct);
        let a = c.mean_curve(|r| &r.alloc_pct);
        let f = c.mean_curve(|r| &r.frag_pct);
        let q = c.mean_curve(|r| &r.frag_ratio_pct);
        for i in 0..=MAX_ARRIVED_PCT {
            let _ = writeln!(
                s,
                "{},{},{},{:.4},{:.4},{:.4},{:.4}",
                c.trace,
                c.policy.name(),
                i,
                r[i],
                a[i],
                f[i],
                q[i]
            );
        }
    }
    s
}

/// Every output file (name, contents), in a fixed order.
pub fn outputs(
    cells: &[Cell],
    policies: &[Policy],
    capacity_gpus: f64,
) -> Result<Vec<(String, String)>, Error> {
    let mut files = vec![
        ("gpu-fragmentation.csv".to_string(), results_csv(cells)),
        (
            "gpu-fragmentation.md".to_string(),
            results_table(cells, policies, capacity_gpus),
        ),
        (
            "gpu-fragmentation-curves.csv".to_string(),
            curves_csv(cells),
        ),
    ];
    let names: Vec<&str> = policies.iter().map(|p| p.name()).collect();
    for (prefix, title, stem) in FAMILIES {
        let mut groups = Vec::new();
        let mut traces: Vec<&str> = Vec::new();
        for c in cells {
            if c.trace.starts_with(prefix) && !traces.contains(&c.trace.as_str()) {
                traces.push(&c.trace);
            }
        }
        for t in traces {
            let bars = policies
                .iter()
                .map(|p| {
                    cells
                        .iter()
                        .find(|c| c.trace == t && c.policy == *p)
                        .map(|c| c.unallocated(100))
                        .unwrap_or((0.0, 0.0))
                })
                .collect();
            groups.push((t.to_string(), bars));
        }
        if !groups.is_empty() {
            let svg = bars_svg(
                &format!("Unallocated GPUs at 100% arrived workload: {title}"),
                "unallocated GPU (%)",
                &names,
                &groups,
            )
            .map_err(Error::Internal)?;
            files.push((format!("{stem}.svg"), svg));
        }
    }
    let x: Vec<f64> = (0..=MAX_ARRIVED_PCT).map(|i| i as f64).collect();
    let mut traces: Vec<&str> = Vec::new();
    for c in cells {
        if !traces.contains(&c.trace.as_str()) {
            traces.push(&c.trace);
        }
    }
    for t in traces {
        type Pick = fn(&RunResult) -> &Vec<f64>;
        let kinds: [(&str, &str, Pick); 2] = [
            ("alloc", "GPU allocation (% of capacity)", |r| &r.alloc_pct),
            ("frag", "GPU fragmentation (% of capacity)", |r| &r.frag_pct),
        ];
        for (kind, label, pick) in kinds {
            let series: Vec<(&str, Vec<f64>)> = cells
                .iter()
                .filter(|c| c.trace == t)
                .map(|c| (c.policy.name(), c.mean_curve(pick)))
                .collect();
            let svg = curves_svg(&format!("{t}: {label}"), label, &x, &series)
                .map_err(Error::Internal)?;
            files.push((format!("curves_{t}_{kind}.svg"), svg));
        }
    }
    Ok(files)
}

/// Writes `files` into `out` through a temporary sibling directory renamed into place,
/// so a failure leaves nothing behind.
pub fn write_outputs(out: &Path, files: &[(String, String)]) -> Result<(), Error> {
    crate::report::writer::write_dir_atomically(out, ".kubetwin-gpu-", files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_stats() {
        assert_eq!(short_name("openb_pod_list_gpushare40.csv"), "gpushare40");
        assert_eq!(short_name("default"), "default");
        let (m, sd) = mean_sd(&[1.0, 2.0, 3.0]);
        assert_eq!(m, 2.0);
        assert!((sd - 1.0).abs() < 1e-12);
    }
}
