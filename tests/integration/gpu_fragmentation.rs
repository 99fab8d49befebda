//! `kubetwin experiment gpu-fragmentation` end to end: outputs, determinism and bad
//! input on small generated openb-format traces; the paper's default-trace ordering on the
//! real openb data (ignored unless `KUBETWIN_SHARED` points at the shared folder).

use super::*;

const NODES: &str = "sn,cpu_milli,memory_mib,gpu,model\n";
const PODS: &str = "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time\n";

/// A traces folder with `csv/openb_node_list_gpu_node.csv` and one pod list `name`.
fn traces(dir: &Path, pods: &str) {
    let csv = dir.join("csv");
    std::fs::create_dir_all(&csv).unwrap();
    let mut nodes = String::from(NODES);
    for i in 0..24 {
        if i % 3 == 0 {
            nodes.push_str(&format!("n{i:02},64000,262144,2,T4\n"));
        } else {
            nodes.push_str(&format!("n{i:02},96000,393216,8,G2\n"));
        }
    }
    std::fs::write(csv.join("openb_node_list_gpu_node.csv"), nodes).unwrap();
    std::fs::write(csv.join("openb_pod_list_small.csv"), pods).unwrap();
}

fn mix() -> String {
    let mut s = String::from(PODS);
    for i in 0..200 {
        let row = match i % 5 {
            0 => "8000,16384,1,1000,",
            1 => "4000,8192,1,500,",
            2 => "2000,4096,1,250,",
            3 => "16000,32768,0,0,",
            _ => "12000,16384,2,1000,T4|G2",
        };
        s.push_str(&format!("p{i},{row},LS,Running,0,1,0\n"));
    }
    s
}

fn run(dir: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "experiment",
        "gpu-fragmentation",
        "--traces",
        dir.to_str().unwrap(),
        "--trace",
        "small",
        "--seeds",
        "1..3",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    kubetwin(&args)
}

#[test]
fn writes_table_csv_curves_and_charts_deterministically() {
    let d = tempfile::tempdir().unwrap();
    traces(d.path(), &mix());
    let (a, b) = (d.path().join("a"), d.path().join("b"));
    let o = run(d.path(), &a, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("| small |"), "{}", stdout(&o));
    let csv = std::fs::read_to_string(a.join("gpu-fragmentation.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("trace,policy,seeds,unallocated_gpu_pct_mean,unallocated_gpu_pct_sd")
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 6, "{csv}");
    for (row, policy) in rows.iter().zip([
        "Random",
        "DotProd",
        "GpuClustering",
        "GpuPacking",
        "BestFit",
        "FGD",
    ]) {
        assert!(row.starts_with(&format!("small,{policy},3,")), "{row}");
    }
    for f in [
        "gpu-fragmentation.md",
        "gpu-fragmentation-curves.csv",
        "curves_small_alloc.svg",
        "curves_small_frag.svg",
    ] {
        assert!(a.join(f).exists(), "{f}");
    }
    let o = run(d.path(), &b, &[]);
    assert_eq!(o.status.code(), Some(0));
    for f in ["gpu-fragmentation.csv", "gpu-fragmentation-curves.csv"] {
        assert_eq!(
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
            "{f} differs between identical runs"
        );
    }
}

#[test]
fn a_gpu_share_above_1000_milli_is_exit_2_naming_the_row() {
    let d = tempfile::tempdir().unwrap();
    let pods =
        format!("{PODS}p0,1000,10,1,500,,LS,Running,0,1,0\np1,1000,10,1,1200,,LS,Running,0,1,0\n");
    traces(d.path(), &pods);
    let out = d.path().join("out");
    let o = run(d.path(), &out, &[]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("openb_pod_list_small.csv:3:"), "{e}");
    assert!(
        e.contains("gpu_milli") && e.contains("above one GPU"),
        "{e}"
    );
    assert!(!out.exists(), "no partial output");
}

#[test]
fn a_gpu_node_without_a_model_is_exit_2_in_csv_and_yaml() {
    let d = tempfile::tempdir().unwrap();
    traces(d.path(), &mix());
    let csv = d.path().join("nodes.csv");
    std::fs::write(&csv, format!("{NODES}n0,64000,1024,2,\n")).unwrap();
    let o = run(
        d.path(),
        &d.path().join("o1"),
        &["--nodes", csv.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("nodes.csv:2:"), "{}", stderr(&o));
    let yaml = d.path().join("nodes.yaml");
    std::fs::write(
        &yaml,
        "apiVersion: v1\nkind: Node\nmetadata:\n  name: n0\n  labels:\n    kubernetes.io/os: linux\nstatus:\n  allocatable:\n    cpu: 64000m\n    memory: 1024Mi\n    alibabacloud.com/gpu-count: '2'\n",
    )
    .unwrap();
    let o = run(
        d.path(),
        &d.path().join("o2"),
        &["--nodes", yaml.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("nodes.yaml:") && e.contains("alibabacloud.com/gpu-card-model"),
        "{e}"
    );
}

#[test]
fn unknown_models_and_too_many_gpus_are_unschedulable_not_errors() {
    let d = tempfile::tempdir().unwrap();
    let mut pods = mix();
    pods.push_str("x0,1000,10,1,500,H100,LS,Pending,0,,\n");
    pods.push_str("x1,1000,10,16,1000,,LS,Pending,0,,\n");
    traces(d.path(), &pods);
    let o = run(d.path(), &d.path().join("out"), &["--policy", "FGD"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn bad_policy_seeds_and_trace_are_exit_2() {
    let d = tempfile::tempdir().unwrap();
    traces(d.path(), &mix());
    for extra in [
        vec!["--policy", "Tetris"],
        vec!["--seeds", "9..1"],
        vec!["--trace", "nosuch"],
    ] {
        let o = run(d.path(), &d.path().join("out"), &extra);
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {}", stderr(&o));
    }
}

#[test]
#[ignore = "needs the openb trace: set KUBETWIN_SHARED (as .ci/run does)"]
fn openb_default_trace_reproduces_the_papers_policy_ranking() {
    let shared = std::env::var("KUBETWIN_SHARED")
        .expect("KUBETWIN_SHARED must point at the shared directory");
    let dir = Path::new(&shared)
        .join("traces")
        .join("alibaba-clusterdata-gpu-v2023");
    let out = tempfile::tempdir().unwrap();
    let o = kubetwin(&[
        "experiment",
        "gpu-fragmentation",
        "--traces",
        dir.to_str().unwrap(),
        "--trace",
        "default",
        "--seeds",
        "42..51",
        "--out",
        out.path().join("r").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let csv = std::fs::read_to_string(out.path().join("r").join("gpu-fragmentation.csv")).unwrap();
    let mean = |policy: &str| -> f64 {
        let row = csv
            .lines()
            .find(|l| l.starts_with(&format!("default,{policy},")))
            .unwrap();
        row.split(',').nth(3).unwrap().parse().unwrap()
    };
    // The artifact's published results (experiments/analysis/expected_results,
    // seed 42): FGD 4.86, BestFit 7.06, GpuPacking 8.63, GpuClustering 8.67,
    // DotProd 9.66, Random 13.83 percent of GPUs unallocated at 100% arrived workload.
    for (policy, paper) in [
        ("FGD", 4.86),
        ("BestFit", 7.06),
        ("GpuPacking", 8.63),
        ("GpuClustering", 8.67),
        ("DotProd", 9.66),
        ("Random", 13.83),
    ] {
        let ours = mean(policy);
        assert!(
            (ours - paper).abs() < 1.0,
            "{policy}: kubetwin {ours:.2} vs paper {paper:.2}\n{csv}"
        );
    }
    assert!(mean("FGD") < mean("BestFit") && mean("BestFit") < mean("Random"));
}
