//! `kubetwin bench`: the engine's raw event rate, and the reference workload
//! (`--nodes 1000 --pods 10000 --span 10000s --drain 4000s`), reporting wall time,
//! events per second and peak memory. Results belong in docs/PERFORMANCE.md. Timing
//! runs is its job, so it may read the clock.
#![allow(clippy::disallowed_methods)]

use super::EXIT_OK;
use crate::engine::rng::below;
use crate::engine::{EventQueue, RngStreams, SimDuration, SimTime};
use crate::error::Error;
use crate::simulation::{RunOptions, run};
use crate::workload::reference::{ReferenceParams, reference_scenario};
use clap::Args;
use std::time::Instant;

/// Arguments of `bench`.
#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// Which benchmark: `reference`, `rollouts`, `scheduler` or `engine`.
    #[arg(default_value = "reference")]
    pub which: String,
    /// Nodes (reference).
    #[arg(long, default_value_t = 1000)]
    pub nodes: usize,
    /// Pods (reference; pending pods to schedule for `scheduler`).
    #[arg(long, default_value_t = 10000)]
    pub pods: usize,
    /// Arrival span (reference).
    #[arg(long, default_value = "10000s")]
    pub span: String,
    /// Drain time after the span (reference).
    #[arg(long, default_value = "4000s")]
    pub drain: String,
    /// Deployments (rollouts).
    #[arg(long, default_value_t = 500)]
    pub deployments: usize,
    /// Replicas per Deployment (rollouts).
    #[arg(long, default_value_t = 20)]
    pub replicas: usize,
    /// Node crashes during the hour (rollouts).
    #[arg(long, default_value_t = 3)]
    pub crashes: usize,
    /// Pending events held in the queue (engine).
    #[arg(long, default_value_t = 1000)]
    pub pending: usize,
    /// Events to process (engine).
    #[arg(long, default_value_t = 20_000_000)]
    pub events: u64,
    /// Pods already bound per node (scheduler).
    #[arg(long, default_value_t = 10)]
    pub existing_per_node: usize,
    /// A KubeSchedulerConfiguration file for the scheduler benchmark (default profile
    /// otherwise).
    #[arg(long)]
    pub scheduler_config: Option<std::path::PathBuf>,
    /// Seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Also record the journal and metrics, as `run` does.
    #[arg(long)]
    pub with_outputs: bool,
}

/// Peak resident memory of this process in KiB (Linux `VmHWM`), if known.
pub fn peak_rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Runs a benchmark scenario once; returns the output and the wall time in seconds.
fn timed_run(
    scenario: &crate::workload::Scenario,
    a: &BenchArgs,
) -> Result<(crate::simulation::RunOutput, f64), Error> {
    let opts = RunOptions {
        seed: Some(a.seed),
        journal: a.with_outputs,
        metrics: a.with_outputs,
        ..RunOptions::default()
    };
    let start = Instant::now();
    let out = run(scenario, &opts)?;
    Ok((out, start.elapsed().as_secs_f64()))
}

/// Runs the command.
pub fn bench(a: &BenchArgs) -> Result<i32, Error> {
    match a.which.as_str() {
        "engine" => {
            let mut q: EventQueue<u64> = EventQueue::new();
            let mut rng = RngStreams::new(a.seed).stream("bench/engine");
            for i in 0..a.pending as u64 {
                q.schedule(SimTime(below(&mut rng, 1_000_000)), i);
            }
            let start = Instant::now();
            let mut n = 0u64;
            while n < a.events {
                let Some((t, e)) = q.pop() else { break };
                q.schedule(
                    t + SimDuration::from_nanos(1 + below(&mut rng, 1_000_000)),
                    e,
                );
                n += 1;
            }
            let wall = start.elapsed().as_secs_f64();
            println!(
                "engine: {n} events with {} pending in {wall:.3}s = {:.1} M events/s",
                a.pending,
                n as f64 / wall / 1e6
            );
        }
        "reference" => {
            let span =
                SimDuration::parse(&a.span).map_err(|e| Error::Usage(format!("--span: {e}")))?;
            let drain =
                SimDuration::parse(&a.drain).map_err(|e| Error::Usage(format!("--drain: {e}")))?;
            let build = Instant::now();
            let scenario = reference_scenario(ReferenceParams {
                nodes: a.nodes,
                pods: a.pods,
                span,
                drain,
                seed: a.seed,
            });
            let build = build.elapsed().as_secs_f64();
            let (out, wall) = timed_run(&scenario, a)?;
            let c = out.store.pod_counts();
            println!(
                "reference: {} nodes, {} pods, {} simulated: wall {wall:.3}s (+{build:.3}s to build), {} events, {:.2} M events/s, {} bindings, {} succeeded, {} pending at end, peak RSS {} MiB",
                a.nodes,
                a.pods,
                out.end,
                out.events,
                out.events as f64 / wall / 1e6,
                out.store.stats.bindings,
                c.succeeded,
                c.pending,
                peak_rss_kib().map_or("?".into(), |k| format!("{:.1}", k as f64 / 1024.0))
            );
        }
        "rollouts" => {
            let build = Instant::now();
            let scenario = crate::workload::reference::rollout_scenario(
                a.nodes,
                a.deployments,
                a.replicas,
                a.crashes,
                a.seed,
            );
            let build = build.elapsed().as_secs_f64();
            let (out, wall) = timed_run(&scenario, a)?;
            let c = out.store.pod_counts();
            println!(
                "rollouts: {} nodes, {} deployments x {} replicas, {} node crashes, 1h simulated: wall {wall:.3}s (+{build:.3}s to load), {} events, {} reconciles, {} pods created, {} ready at end, peak RSS {} MiB",
                a.nodes,
                a.deployments,
                a.replicas,
                a.crashes,
                out.events,
                out.reconciles,
                out.store.stats.pods_created,
                c.ready,
                peak_rss_kib().map_or("?".into(), |k| format!("{:.1}", k as f64 / 1024.0))
            );
        }
        "scheduler" => scheduler_bench(a)?,
        other => {
            return Err(Error::Usage(format!(
                "unknown benchmark {other:?} (reference, rollouts, scheduler, engine)"
            )));
        }
    }
    Ok(EXIT_OK)
}

/// The scheduler throughput benchmark: a loaded cluster (see
/// [`crate::workload::scheduler_bench`]), then every pending pod scheduled in one batch
/// by the scheduler alone; only that batch is timed.
fn scheduler_bench(a: &BenchArgs) -> Result<(), Error> {
    use crate::api::Store;
    use crate::controllers::manager::Manager;
    use crate::controllers::scheduler::{Scheduler, SchedulerConfig};
    use crate::workload::scheduler_bench::{SchedulerBenchParams, scheduler_bench_cluster};
    let build = Instant::now();
    let cluster = scheduler_bench_cluster(SchedulerBenchParams {
        nodes: a.nodes,
        existing_per_node: a.existing_per_node,
        pending: a.pods,
        seed: a.seed,
    })?;
    let config = match &a.scheduler_config {
        Some(p) => crate::controllers::scheduler::config::load(p)?.scheduler_config(false, 0),
        None => SchedulerConfig::default(),
    };
    let streams = RngStreams::new(a.seed);
    let mut store = Store::new(streams.stream("apiserver/names"), false);
    let existing = cluster.existing.len();
    for o in cluster.infrastructure.into_iter().chain(cluster.existing) {
        store
            .create(o, SimTime::ZERO)
            .map_err(|e| Error::Internal(format!("benchmark cluster: {e}")))?;
    }
    let mut manager = Manager::new(vec![Box::new(Scheduler::new(config))], &streams);
    manager.settle(SimTime::ZERO, &mut store);
    let t1 = SimTime::ZERO + SimDuration::from_secs(1);
    for o in cluster.pending {
        store
            .create(o, t1)
            .map_err(|e| Error::Internal(format!("benchmark cluster: {e}")))?;
    }
    let build = build.elapsed().as_secs_f64();
    let bound_before = store.stats.bindings;
    let start = Instant::now();
    manager.settle(t1, &mut store);
    let wall = start.elapsed().as_secs_f64();
    let bound = store.stats.bindings - bound_before;
    let failed = store.stats.failed_scheduling_attempts;
    let decisions = bound + failed;
    println!(
        "scheduler: {} nodes holding {existing} pods, {} pending: {decisions} decisions ({bound} bound, {failed} unschedulable) in {wall:.3}s = {:.0} decisions/s (+{build:.3}s to build), peak RSS {} MiB",
        a.nodes,
        a.pods,
        decisions as f64 / wall.max(1e-9),
        peak_rss_kib().map_or("?".into(), |k| format!("{:.1}", k as f64 / 1024.0))
    );
    Ok(())
}
