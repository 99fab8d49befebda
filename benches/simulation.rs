//! `cargo bench`: the engine's raw event rate and the reference workload, timed over a
//! few repetitions (median reported). The same figures come from `kubetwin bench`.
#![allow(clippy::disallowed_methods)]

use kubetwin::engine::rng::below;
use kubetwin::engine::{EventQueue, RngStreams, SimDuration, SimTime};
use kubetwin::simulation::{RunOptions, run};
use kubetwin::workload::reference::{ReferenceParams, reference_scenario};
use std::time::Instant;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn engine(pending: usize, events: u64) -> f64 {
    let mut q: EventQueue<u64> = EventQueue::new();
    let mut rng = RngStreams::new(1).stream("bench/engine");
    for i in 0..pending as u64 {
        q.schedule(SimTime(below(&mut rng, 1_000_000)), i);
    }
    let start = Instant::now();
    for _ in 0..events {
        let Some((t, e)) = q.pop() else { break };
        q.schedule(
            t + SimDuration::from_nanos(1 + below(&mut rng, 1_000_000)),
            e,
        );
    }
    events as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    for pending in [1_000, 100_000, 1_000_000] {
        let rates: Vec<f64> = (0..3).map(|_| engine(pending, 5_000_000)).collect();
        println!(
            "engine, {pending} pending: {:.1} M events/s (median of 3)",
            median(rates) / 1e6
        );
    }
    let s = reference_scenario(ReferenceParams {
        nodes: 1000,
        pods: 10_000,
        span: SimDuration::from_secs(10_000),
        drain: SimDuration::from_secs(4_000),
        seed: 1,
    });
    let walls: Vec<f64> = (0..5)
        .map(|_| {
            let start = Instant::now();
            let out = run(
                &s,
                &RunOptions {
                    journal: false,
                    metrics: false,
                    ..RunOptions::default()
                },
            )
            .expect("runs");
            assert_eq!(out.store.pod_counts().succeeded, 10_000);
            start.elapsed().as_secs_f64()
        })
        .collect();
    println!(
        "reference 1000 nodes / 10000 pods / 10000s + 4000s: {:.3} s wall (median of 5)",
        median(walls)
    );
}
