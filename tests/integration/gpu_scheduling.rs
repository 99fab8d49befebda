//! The GPU plugins in `kubetwin run`: the shipped openb-shaped capacity scenarios (FGD and
//! BestFit), GPU columns in metrics.csv, and bad input (a configuration naming an unknown
//! GPU plugin, an unknown `gpu.*` expectation field): exit 2 with file and line.

use super::*;

fn gpu_config(score: &str) -> String {
    format!(
        "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nprofiles:\n- schedulerName: default-scheduler\n  plugins:\n    filter:\n      enabled:\n      - name: GpuShare\n    score:\n      disabled:\n      - name: '*'\n      enabled:\n      - name: {score}\n"
    )
}

#[test]
fn shipped_gpu_scenarios_answer_the_capacity_question() {
    let d = tempfile::tempdir().unwrap();
    let mut unallocated = Vec::new();
    for policy in ["fgd", "bestfit"] {
        let out = d.path().join(policy);
        let s = root().join(format!("scenarios/gpu-openb-like-{policy}.yaml"));
        let o = kubetwin(&["run", s.to_str().unwrap(), "--out", out.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let csv = read(&out.join("metrics.csv"));
        let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
        let col = header.iter().position(|c| *c == "gpu_unallocated").unwrap();
        for c in [
            "gpu_allocation_pct",
            "gpu_fragmentation_pct",
            "gpu_arrived_pct",
        ] {
            assert!(header.contains(&c), "{c}: {header:?}");
        }
        let last: f64 = csv
            .lines()
            .last()
            .unwrap()
            .split(',')
            .nth(col)
            .unwrap()
            .parse()
            .unwrap();
        unallocated.push(last);
    }
    // On this small cluster BestFit strands fewer GPUs than FGD (docs/gpu-fragmentation.md).
    assert_eq!(unallocated, vec![8.2, 2.2]);
}

#[test]
fn the_gpu_configurations_validate() {
    for f in ["gpu-fgd.yaml", "gpu-bestfit.yaml"] {
        let p = root().join("scenarios/scheduler").join(f);
        let o = kubetwin(&["validate", "-f", p.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{f}: {}", stderr(&o));
    }
}

#[test]
fn a_config_enabling_an_unknown_gpu_plugin_is_exit_2() {
    let d = tempfile::tempdir().unwrap();
    let cfg = d.path().join("sched.yaml");
    // A GPU-looking name that is no plugin.
    std::fs::write(&cfg, gpu_config("RandomFitScore")).unwrap();
    let out = d.path().join("out");
    let s = root().join("scenarios/gpu-openb-like-fgd.yaml");
    let o = kubetwin(&[
        "run",
        s.to_str().unwrap(),
        "--scheduler-config",
        cfg.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains(&format!("{}:13:", cfg.display())), "{err}");
    assert!(err.contains("RandomFitScore"), "{err}");
    assert!(!out.exists());
    // The same file named by a scenario's spec.scheduler.config.
    let scen = d.path().join("s.yaml");
    std::fs::write(
        &scen,
        "apiVersion: kubetwin.dev/v1alpha1\nkind: Scenario\nmetadata: {name: s}\nspec:\n  duration: 1m\n  scheduler: {config: sched.yaml}\n  cluster:\n    nodePools: [{name: n, count: 1, capacity: {cpu: '4', memory: 8Gi}}]\n",
    )
    .unwrap();
    let o = kubetwin(&["run", scen.to_str().unwrap(), "--no-report"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains(&format!("{}:13:", cfg.display())), "{err}");
    // Correctly named GPU plugins are accepted (RandomScore included).
    for name in ["FGDScore", "RandomScore"] {
        std::fs::write(&cfg, gpu_config(name)).unwrap();
        let o = kubetwin(&["run", scen.to_str().unwrap(), "--no-report"]);
        assert_eq!(o.status.code(), Some(0), "{name}: {}", stderr(&o));
    }
}

#[test]
fn an_unknown_gpu_expectation_field_is_exit_2() {
    let d = tempfile::tempdir().unwrap();
    let scen = d.path().join("s.yaml");
    std::fs::write(
        &scen,
        "apiVersion: kubetwin.dev/v1alpha1\nkind: Scenario\nmetadata: {name: s}\nspec:\n  duration: 1m\n  cluster:\n    nodePools: [{name: n, count: 1, capacity: {cpu: '4', memory: 8Gi}}]\n  expectations:\n  - gpu.stranded == 0\n",
    )
    .unwrap();
    let o = kubetwin(&["run", scen.to_str().unwrap(), "--no-report"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains(&format!("{}:9:", scen.display())), "{err}");
    assert!(err.contains("unallocated"), "{err}");
}

#[test]
fn compare_accepts_the_gpu_configurations() {
    let s = root().join("scenarios/gpu-openb-like-fgd.yaml");
    let cfg = |f: &str| root().join("scenarios/scheduler").join(f);
    let (a, b) = (cfg("gpu-bestfit.yaml"), cfg("gpu-fgd.yaml"));
    let o = kubetwin(&[
        "compare",
        s.to_str().unwrap(),
        "--scheduler-config",
        a.to_str().unwrap(),
        "--scheduler-config",
        b.to_str().unwrap(),
        "--seeds",
        "1..2",
        "-j",
        "1",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("gpu-bestfit"), "{}", stdout(&o));
}
