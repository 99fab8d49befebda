//! kubetwin's integration tests: the CLI end to end, bad input, determinism,
//! invariants over many seeds, and the shared conformance suite.

mod affinity;
mod bad_input;
mod capacity;
mod cli;
mod cluster_autoscaler;
mod compare;
mod conformance;
mod deployment;
mod determinism;
mod explain;
mod faults;
mod gpu_fragmentation;
mod gpu_scheduling;
mod hpa;
mod import;
mod invariants;
mod load;
mod preemption;
mod replay;
mod reports;
mod sched_pinning;
mod scheduler_upstream;
mod sweep;
mod traces;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The kubetwin binary built for these tests.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kubetwin"))
}

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs kubetwin with `args` from the repository root.
pub fn kubetwin(args: &[&str]) -> Output {
    bin()
        .args(args)
        .current_dir(root())
        .output()
        .expect("kubetwin runs")
}

/// stdout as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// stderr as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The scenario files shipped in `scenarios/`.
pub fn shipped_scenarios() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("scenarios"))
        .expect("scenarios/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        // The openb scenarios read ../shared (not in a user's clone): they run in the
        // ignored `gpu_fragmentation::` tests.
        .filter(|p| !read(p).contains("\n  openb:\n"))
        .filter(|p| !needs_shared(p))
        .collect();
    v.sort();
    v
}

/// Whether a shipped scenario reads the project's shared data (`../shared/traces/...`),
/// which a user's clone does not have: such scenarios are run by `#[ignore]`d tests
/// with `KUBETWIN_SHARED` (`traces::`), not by the loops over every scenario.
pub fn needs_shared(p: &Path) -> bool {
    std::fs::read_to_string(p).is_ok_and(|t| t.contains("/shared/traces/"))
}

/// Reads a file as text.
pub fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}
