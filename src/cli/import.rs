//! `kubetwin import`: builds a digital twin scenario from a `kubectl get ... -A -o yaml`
//! dump (`-f`) or a ByteDance cluster snapshot (`--bytedance`), and writes the scenario
//! and its manifests (`-o FILE` or `--out-dir DIR`). Warnings go to stderr (the first
//! [`MAX_WARNINGS`], then a count); bad input exits 2 with nothing written.

use super::EXIT_OK;
use crate::engine::SimDuration;
use crate::error::Error;
use crate::workload::traces::bytedance::{self, BytedanceOptions};
use crate::workload::twin::{self, Destination, Twin};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Warnings printed one by one; the rest are counted.
pub const MAX_WARNINGS: usize = 40;

/// Arguments of `import`.
#[derive(Debug, Clone, clap::Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["file", "bytedance"])))]
#[command(group(clap::ArgGroup::new("dest").required(true).args(["output", "out_dir"])))]
pub struct ImportArgs {
    /// The dump: `kubectl get nodes,pods,deployments,replicasets,hpa,pdb,services -A -o yaml`.
    #[arg(short = 'f', long = "filename", value_name = "DUMP")]
    pub file: Option<PathBuf>,
    /// A ByteDance cluster snapshot: a cluster JSON file or the dataset directory (M3).
    #[arg(long, value_name = "PATH")]
    pub bytedance: Option<PathBuf>,
    /// Write the scenario to FILE and the manifests beside it (`<stem>.manifests.yaml`).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Write `scenario.yaml` and `manifests.yaml` into DIR (replaced atomically).
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// The scenario's name (default: from the source file name).
    #[arg(long)]
    pub name: Option<String>,
    /// The scenario's duration.
    #[arg(long, default_value = "10m")]
    pub duration: String,
    /// ByteDance: the whole cluster's CPU in cores (the data is normalized to 1.0).
    #[arg(long, default_value_t = 5000)]
    pub cpu_total: i64,
    /// ByteDance: the whole cluster's memory in GiB.
    #[arg(long, default_value_t = 20000)]
    pub memory_total_gib: i64,
}

/// A DNS-1123 scenario name from a file stem.
fn default_name(stem: &str) -> String {
    let s: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let s = s.trim_matches('-').to_string();
    if s.is_empty() { "twin".into() } else { s }
}

/// Runs the command.
pub fn import(args: &ImportArgs) -> Result<i32, Error> {
    let duration = SimDuration::parse(&args.duration)
        .map_err(|e| Error::Usage(format!("--duration {:?}: {e}", args.duration)))?;
    if duration == SimDuration::ZERO {
        return Err(Error::Usage("--duration must be greater than 0".into()));
    }
    let (twin, stem, command): (Twin, String, String) = match (&args.file, &args.bytedance) {
        (Some(f), _) => {
            let text = std::fs::read_to_string(f).map_err(|e| Error::io(f, e))?;
            let t = twin::dump::import(&text, &f.display().to_string())?;
            let stem = f
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("twin")
                .to_string();
            (t, stem, format!("kubetwin import -f {}", f.display()))
        }
        (None, Some(d)) => {
            if args.cpu_total <= 0 || args.memory_total_gib <= 0 {
                return Err(Error::Usage(
                    "--cpu-total and --memory-total-gib must be positive".into(),
                ));
            }
            let file = bytedance::resolve(d)?;
            let opts = BytedanceOptions {
                cpu_total_milli: args.cpu_total.saturating_mul(1000),
                memory_total_bytes: args.memory_total_gib.saturating_mul(1 << 30),
            };
            let t = bytedance::import(&file, &opts)?;
            let stem = file
                .file_stem()
                .and_then(|s| s.to_str())
                .map(|s| format!("bytedance-{s}"))
                .unwrap_or_else(|| "bytedance".into());
            (
                t,
                stem,
                format!("kubetwin import --bytedance {}", d.display()),
            )
        }
        (None, None) => return Err(Error::Usage("give -f DUMP or --bytedance PATH".into())),
    };
    let dest = match (&args.output, &args.out_dir) {
        (Some(o), _) => Destination::File(o.clone()),
        (None, Some(d)) => Destination::Dir(d.clone()),
        (None, None) => return Err(Error::Usage("give -o FILE or --out-dir DIR".into())),
    };
    let name = args.name.clone().unwrap_or_else(|| default_name(&stem));
    crate::api::convert::validate_name(&name).map_err(|e| Error::Usage(format!("--name: {e}")))?;
    print_warnings(&twin);
    let w = twin::write(&twin, &dest, &name, duration, &command)?;
    let s = &w.summary;
    println!(
        "imported {} nodes, {} pods ({} bound, {} running), {} deployments, {} replica sets, {} services/HPAs/PDBs; {} warnings",
        s.nodes,
        s.pods,
        s.bound_pods,
        s.running_pods,
        s.deployments,
        s.replica_sets,
        s.others,
        twin.warnings.len()
    );
    println!(
        "wrote {} and {}",
        w.scenario.display(),
        w.manifests.display()
    );
    Ok(EXIT_OK)
}

fn print_warnings(twin: &Twin) {
    for w in twin.warnings.iter().take(MAX_WARNINGS) {
        eprintln!("{w}");
    }
    if twin.warnings.len() > MAX_WARNINGS {
        // Group the rest by their message's first word after the item (the kind).
        let mut by_kind: BTreeMap<String, usize> = BTreeMap::new();
        for w in &twin.warnings[MAX_WARNINGS..] {
            let kind = w
                .message
                .split_whitespace()
                .nth(1)
                .filter(|_| w.message.starts_with("items["))
                .unwrap_or("other")
                .to_string();
            *by_kind.entry(kind).or_default() += 1;
        }
        let parts: Vec<String> = by_kind.iter().map(|(k, n)| format!("{n} {k}")).collect();
        eprintln!(
            "warning: ... and {} more warnings ({})",
            twin.warnings.len() - MAX_WARNINGS,
            parts.join(", ")
        );
    }
}
