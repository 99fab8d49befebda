//! Pins the scheduler's decisions before performance work: a hash of every pod's
//! binding (node and reserved annotations) for a reduced `bench scheduler` cluster and
//! for small openb protocol runs (GpuShare + FGDScore / BestFitScore) on generated
//! traces, compared with the values the code gave before the optimisations. An
//! optimisation that changes any of these changed a decision, which is a bug.

use super::*;
use kubetwin::api::Store;

/// FNV-1a over every pod's `name -> node [annotations]`, in name order.
fn bindings_hash(store: &Store) -> (usize, usize, u64) {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut bound = 0;
    let mut n = 0;
    for (_, p) in store.pods.iter_by_name() {
        n += 1;
        if !p.spec.node_name.is_empty() {
            bound += 1;
        }
        let line = format!(
            "{}/{}={} {:?}\n",
            p.meta.namespace, p.meta.name, p.spec.node_name, p.meta.annotations
        );
        for b in line.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    (n, bound, h)
}

#[test]
fn bench_scheduler_cluster_bindings_are_pinned() {
    use kubetwin::controllers::manager::Manager;
    use kubetwin::controllers::scheduler::{Scheduler, SchedulerConfig};
    use kubetwin::engine::{RngStreams, SimTime};
    use kubetwin::workload::scheduler_bench::{SchedulerBenchParams, scheduler_bench_cluster};
    let mut got = Vec::new();
    for seed in [1u64, 2] {
        let c = scheduler_bench_cluster(SchedulerBenchParams {
            nodes: 300,
            existing_per_node: 8,
            pending: 3000,
            seed,
        })
        .expect("cluster");
        let streams = RngStreams::new(seed);
        let mut s = Store::new(streams.stream("apiserver/names"), false);
        for o in c.infrastructure.into_iter().chain(c.existing) {
            s.create(o, SimTime::ZERO).expect("created");
        }
        let mut m = Manager::new(
            vec![Box::new(Scheduler::new(SchedulerConfig::default()))],
            &streams,
        );
        m.settle(SimTime::ZERO, &mut s);
        for o in c.pending {
            s.create(o, SimTime::ZERO).expect("created");
        }
        m.settle(SimTime::ZERO, &mut s);
        got.push(bindings_hash(&s));
    }
    eprintln!("bench pins: {got:?}");
    assert_eq!(got, BENCH_PINS);
}

/// (pods, bound, hash) per seed, from the code before the performance work.
const BENCH_PINS: [(usize, usize, u64); 2] = [
    (5169, 5169, 697_767_024_721_646_374),
    (5119, 5119, 14_889_186_848_184_812_002),
];

/// A 24-node openb folder with GPU-model constraints, fractional and multi-GPU pods.
fn openb_traces(dir: &Path) {
    let csv = dir.join("csv");
    std::fs::create_dir_all(&csv).unwrap();
    let mut nodes = String::from("sn,cpu_milli,memory_mib,gpu,model\n");
    for i in 0..24 {
        match i % 4 {
            0 => nodes.push_str(&format!("n{i:02},64000,262144,2,T4\n")),
            1 => nodes.push_str(&format!("n{i:02},32000,131072,0,\n")),
            _ => nodes.push_str(&format!("n{i:02},96000,393216,8,G2\n")),
        }
    }
    std::fs::write(csv.join("openb_node_list_gpu_node.csv"), nodes).unwrap();
    let mut pods = String::from(
        "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time\n",
    );
    for i in 0..300 {
        let row = match i % 7 {
            0 => "8000,16384,1,1000,",
            1 => "4000,8192,1,500,",
            2 => "2000,4096,1,250,G2",
            3 => "16000,32768,0,0,",
            4 => "12000,16384,2,1000,T4|G2",
            5 => "6000,8192,1,300,T4",
            _ => "24000,65536,4,1000,",
        };
        pods.push_str(&format!("p{i},{row},LS,Running,{i},{},{i}\n", i + 50));
    }
    std::fs::write(csv.join("openb_pod_list_small.csv"), pods).unwrap();
}

#[test]
fn openb_protocol_bindings_are_pinned() {
    use kubetwin::simulation::{RunOptions, run};
    use kubetwin::workload::Scenario;
    let d = tempfile::tempdir().unwrap();
    openb_traces(d.path());
    let mut got = Vec::new();
    for policy in ["FGDScore", "BestFitScore"] {
        std::fs::copy(
            root().join("scenarios/scheduler/openb-fgd.yaml"),
            d.path().join("sched.yaml"),
        )
        .unwrap();
        let sched = std::fs::read_to_string(d.path().join("sched.yaml"))
            .unwrap()
            .replace("FGDScore", policy);
        std::fs::write(d.path().join("sched.yaml"), sched).unwrap();
        let text = format!(
            "apiVersion: kubetwin.dev/v1alpha1\nkind: Scenario\nmetadata: {{name: openb}}\nspec:\n  seed: 11\n  duration: 10m\n  scheduler: {{config: sched.yaml, tieBreak: name}}\n  openb:\n    traces: {}\n    trace: small\n    mode: protocol\n    targetPct: 130\n    interval: 10ms\n",
            d.path().display()
        );
        let p = d.path().join("openb.yaml");
        std::fs::write(&p, text).unwrap();
        let s = Scenario::load(&p).unwrap_or_else(|e| panic!("{e}"));
        let out = run(&s, &RunOptions::default()).unwrap();
        got.push(bindings_hash(&out.store));
    }
    eprintln!("openb pins: {got:?}");
    assert_eq!(got, OPENB_PINS);
}

/// (pods, bound, hash) for FGDScore and BestFitScore, from the code before the
/// performance work.
const OPENB_PINS: [(usize, usize, u64); 2] = [
    (300, 113, 2_070_413_588_972_405_245),
    (300, 113, 16_812_378_749_551_736_920),
];
