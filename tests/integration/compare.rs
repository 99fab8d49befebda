//! `kubetwin compare` and `kubetwin check`: the library (in-code scheduler settings) and
//! the CLI end to end on the small `scenarios/bin-packing.yaml`.

use super::*;
use kubetwin::compare::table::render_comparison;
use kubetwin::compare::{Comparison, ConfigEntry, Format, Metric, RunPlan};
use kubetwin::controllers::scheduler::config::SchedulerSettings;
use kubetwin::controllers::scheduler::plugins::noderesources::ScoringStrategy;
use kubetwin::controllers::scheduler::profile::Profile;
use kubetwin::workload::Scenario;

const PACKING: &str = "scenarios/bin-packing.yaml";

fn settings(strategy: ScoringStrategy) -> SchedulerSettings {
    SchedulerSettings {
        profiles: vec![Profile {
            fit_strategy: strategy,
            ..Profile::default()
        }],
        ..Default::default()
    }
}

fn entry(label: &str, s: Option<SchedulerSettings>) -> ConfigEntry {
    ConfigEntry {
        label: label.to_string(),
        source: format!("{label}.yaml"),
        settings: s,
    }
}

fn packing_plan(configs: Vec<ConfigEntry>, seeds: Vec<u64>) -> RunPlan {
    RunPlan {
        scenarios: vec![Scenario::load(Path::new(PACKING)).expect("scenario loads")],
        configs,
        seeds,
    }
}

#[test]
fn most_allocated_uses_fewer_nodes_than_least_allocated() {
    let plan = packing_plan(
        vec![
            entry("least", Some(settings(ScoringStrategy::LeastAllocated))),
            entry("most", Some(settings(ScoringStrategy::MostAllocated))),
        ],
        vec![1, 2, 3],
    );
    let results = plan.execute(Some(2)).unwrap();
    for k in 0..3 {
        let (least, most) = (results.get(0, 0, k), results.get(0, 1, k));
        assert_eq!(least.pending, 0.0);
        assert_eq!(most.pending, 0.0);
        assert!(
            most.nodes_used < least.nodes_used,
            "seed {}: MostAllocated used {} nodes, LeastAllocated {}",
            plan.seeds[k],
            most.nodes_used,
            least.nodes_used
        );
    }
    let c = Comparison::build(&plan, &results);
    let row = &c.scenarios[0].rows[Metric::ALL
        .iter()
        .position(|m| *m == Metric::NodesUsed)
        .unwrap()];
    assert!(row.deltas[0].unwrap().max < 0.0);
}

#[test]
fn output_does_not_depend_on_the_thread_count() {
    let plan = packing_plan(
        vec![
            entry("least", Some(settings(ScoringStrategy::LeastAllocated))),
            entry("most", Some(settings(ScoringStrategy::MostAllocated))),
        ],
        vec![1, 2, 3, 4],
    );
    let one = plan.execute(Some(1)).unwrap();
    let two = plan.execute(Some(2)).unwrap();
    assert_eq!(one.threads, 1);
    let (a, b) = (
        render_comparison(&Comparison::build(&plan, &one), Format::Json),
        render_comparison(&Comparison::build(&plan, &two), Format::Json),
    );
    assert_eq!(a, b);
    for k in 0..4 {
        assert_eq!(one.get(0, 1, k), two.get(0, 1, k));
    }
}

#[test]
fn metrics_of_the_packing_scenario() {
    let plan = packing_plan(vec![entry("default", None)], vec![1]);
    let r = plan.execute(Some(1)).unwrap();
    let m = r.get(0, 0, 0);
    assert_eq!(m.pending, 0.0);
    assert_eq!(m.failed_attempts, 0.0);
    // 8.25 CPUs requested of 24; 16 GiB of 96.
    assert!((m.cpu_alloc_pct.unwrap() - 8.25 * 100.0 / 24.0).abs() < 1e-9);
    assert!((m.memory_alloc_pct.unwrap() - 16.0 * 100.0 / 96.0).abs() < 1e-9);
    // The average includes the first 30 s with eight pods.
    assert!(m.cpu_alloc_avg_pct.unwrap() < m.cpu_alloc_pct.unwrap());
    assert_eq!(m.gpu_alloc_pct, None);
    assert_eq!(m.gpu_milli_alloc_pct, None);
    let t = m.time_to_schedule_all_s.unwrap();
    assert!((30.0..40.0).contains(&t), "{t}");
    assert!(m.p50_latency_ms.unwrap() <= m.p99_latency_ms.unwrap());
    assert!(m.nodes_used >= 1.0 && m.nodes_used <= 6.0);
    assert!(m.cpu_fragmentation_pct.is_some());
}

#[test]
fn compare_table_snapshot_same_settings() {
    // Two labels for the scenario's own settings: real metrics, zero deltas, a table
    // independent of scheduler-configuration loading.
    let plan = packing_plan(vec![entry("a", None), entry("b", None)], vec![1, 2, 3]);
    let results = plan.execute(Some(2)).unwrap();
    let c = Comparison::build(&plan, &results);
    insta::assert_snapshot!(
        "compare_table_same_settings",
        render_comparison(&c, Format::Table)
    );
    let md = render_comparison(&c, Format::Markdown);
    assert!(md.starts_with("### bin-packing"), "{md}");
    assert!(md.contains("| `nodes_used (nodes)` | lower |"), "{md}");
}

// ---- CLI: compare ----

#[test]
fn compare_rejects_bad_seeds_jobs_and_a_single_config() {
    let cfg = "scenarios/scheduler/least-allocated.yaml";
    let o = kubetwin(&[
        "compare",
        PACKING,
        "--scheduler-config",
        cfg,
        "--scheduler-config",
        cfg,
        "--seeds",
        "3..1",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--seeds: range \"3..1\" ends before it starts"),
        "{}",
        stderr(&o)
    );
    let o = kubetwin(&[
        "compare",
        PACKING,
        "--scheduler-config",
        cfg,
        "--scheduler-config",
        cfg,
        "--seeds",
        "x",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("expected e.g. 1..20, 5 or 1,2,7"),
        "{}",
        stderr(&o)
    );
    let o = kubetwin(&[
        "compare",
        PACKING,
        "--scheduler-config",
        cfg,
        "--scheduler-config",
        cfg,
        "-j",
        "0",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let o = kubetwin(&["compare", PACKING, "--scheduler-config", cfg]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("at least two --scheduler-config"),
        "{}",
        stderr(&o)
    );
    // A scenario that does not load: exit 2 as `run`.
    let o = kubetwin(&[
        "compare",
        "scenarios/nope.yaml",
        "--scheduler-config",
        cfg,
        "--scheduler-config",
        cfg,
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("nope.yaml"), "{}", stderr(&o));
}

#[test]
fn compare_least_and_most_allocated() {
    let args = [
        "compare",
        PACKING,
        "--scheduler-config",
        "scenarios/scheduler/least-allocated.yaml",
        "--scheduler-config",
        "scenarios/scheduler/most-allocated.yaml",
        "--seeds",
        "1..3",
    ];
    let with = |extra: &[&str]| {
        let mut a: Vec<&str> = args.to_vec();
        a.extend_from_slice(extra);
        let o = kubetwin(&a);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        o
    };
    let o = with(&["-j", "2"]);
    assert!(
        stderr(&o).contains("compare: 6 runs on 2 threads in"),
        "{}",
        stderr(&o)
    );
    insta::assert_snapshot!("compare_least_vs_most_allocated", stdout(&o));
    let j1 = stdout(&with(&["-j", "1", "-o", "json"]));
    let j2 = stdout(&with(&["-j", "2", "-o", "json"]));
    assert_eq!(j1, j2);
    let v: serde_json::Value = serde_json::from_str(&j1).unwrap();
    let d = &v["scenarios"][0]["metrics"]["nodes_used"]["deltas_vs_first"][0];
    assert_eq!(d["config"], "most-allocated");
    assert!(d["delta"]["max"].as_f64().unwrap() < 0.0, "{d}");
    assert!(
        stdout(&with(&["-o", "markdown"]))
            .contains("| metric | better | least-allocated | most-allocated |")
    );
}

// ---- CLI: check ----

fn check(baseline: &Path, extra: &[&str]) -> Output {
    let mut a = vec![
        "check",
        PACKING,
        "--baseline",
        baseline.to_str().unwrap(),
        "--seeds",
        "1..2",
    ];
    a.extend_from_slice(extra);
    kubetwin(&a)
}

#[test]
fn check_records_passes_and_catches_a_regression() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("ci/baseline.json");
    // No baseline yet: exit 2 with the command that records one.
    let o = check(&base, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains(
            "no baseline file; record one with: kubetwin check scenarios/bin-packing.yaml"
        ),
        "{}",
        stderr(&o)
    );
    assert!(
        stderr(&o).contains("--seeds 1..2 --update-baseline"),
        "{}",
        stderr(&o)
    );
    // Record it.
    let o = check(&base, &["--update-baseline"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("check: wrote baseline"),
        "{}",
        stderr(&o)
    );
    let text = read(&base);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["schema"], 1);
    assert_eq!(v["seeds"], serde_json::json!([1, 2]));
    assert_eq!(v["scenarios"][0]["name"], "bin-packing");
    assert_eq!(v["scenarios"][0]["file"], PACKING);
    // Re-recording rewrites the same bytes.
    assert_eq!(check(&base, &["--update-baseline"]).status.code(), Some(0));
    assert_eq!(read(&base), text);
    // Unchanged: no regression.
    let o = check(&base, &[]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    insta::assert_snapshot!("check_unchanged", stdout(&o));
    assert!(!stdout(&o).contains("REGRESSED"));
    // A baseline that used fewer nodes: nodes_used regressed.
    let mut v = v;
    let used = v["scenarios"][0]["metrics"]["nodes_used"]["mean"]
        .as_f64()
        .unwrap();
    v["scenarios"][0]["metrics"]["nodes_used"]["mean"] = serde_json::json!(used - 1.0);
    std::fs::write(&base, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    let o = check(&base, &[]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let line = stdout(&o)
        .lines()
        .find(|l| l.starts_with("nodes_used"))
        .unwrap()
        .to_string();
    assert!(line.ends_with("REGRESSED"), "{line}");
    assert!(
        stderr(&o).contains("check: 1 regression against"),
        "{}",
        stderr(&o)
    );
    // An absolute tolerance of one node accepts it.
    let o = check(&base, &["--tolerance", "5%,nodes_used=1"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    // JSON output carries the verdicts.
    let o = check(&base, &["-o", "json"]);
    assert_eq!(o.status.code(), Some(1));
    let j: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(j["regressions"], 1);
}

#[test]
fn check_rejects_mismatched_baselines_and_bad_tolerances() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("baseline.json");
    assert_eq!(check(&base, &["--update-baseline"]).status.code(), Some(0));
    // Other seeds.
    let o = kubetwin(&[
        "check",
        PACKING,
        "--baseline",
        base.to_str().unwrap(),
        "--seeds",
        "1..3",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("recorded with seeds 1..2, this check runs seeds 1..3"),
        "{}",
        stderr(&o)
    );
    // Other scenarios.
    let o = kubetwin(&[
        "check",
        "scenarios/scale-and-lose-node.yaml",
        "--baseline",
        base.to_str().unwrap(),
        "--seeds",
        "1..2",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("not in the baseline: scale-and-lose-node"),
        "{}",
        stderr(&o)
    );
    assert!(
        stderr(&o).contains("not checked: bin-packing"),
        "{}",
        stderr(&o)
    );
    // Bad tolerances.
    let o = check(&base, &["--tolerance", "latency=5%"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("unknown metric \"latency\""),
        "{}",
        stderr(&o)
    );
    let o = check(&base, &["--tolerance", "3"]);
    assert_eq!(o.status.code(), Some(2));
    // Not a baseline.
    std::fs::write(&base, "{}").unwrap();
    let o = check(&base, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("not a kubetwin baseline"),
        "{}",
        stderr(&o)
    );
}
