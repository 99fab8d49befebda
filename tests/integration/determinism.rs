//! The determinism contract: the same scenario and seed give byte-identical
//! `events.jsonl`, `metrics.csv` and `summary.json`; on a difference the test names the
//! first differing line.

use super::*;

fn first_difference(a: &str, b: &str) -> Option<(usize, String, String)> {
    for (i, (x, y)) in a.lines().zip(b.lines()).enumerate() {
        if x != y {
            return Some((i + 1, x.to_string(), y.to_string()));
        }
    }
    let (la, lb) = (a.lines().count(), b.lines().count());
    (la != lb).then(|| {
        (
            la.min(lb) + 1,
            format!("<{la} lines>"),
            format!("<{lb} lines>"),
        )
    })
}

fn run_to(scenario: &Path, seed: &str, out: &Path) {
    let o = kubetwin(&[
        "run",
        scenario.to_str().unwrap(),
        "--seed",
        seed,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        o.status.code() == Some(0) || o.status.code() == Some(1),
        "{}",
        stderr(&o)
    );
}

#[test]
fn every_scenario_twice_is_byte_identical() {
    for s in shipped_scenarios() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        run_to(&s, "11", &a);
        run_to(&s, "11", &b);
        for f in [
            "events.jsonl",
            "metrics.csv",
            "summary.json",
            "pods_by_phase.svg",
            "index.html",
            "report.md",
        ] {
            let (x, y) = (read(&a.join(f)), read(&b.join(f)));
            if let Some((line, l, r)) = first_difference(&x, &y) {
                panic!(
                    "{} {f} differs at line {line}:\n  first:  {l}\n  second: {r}\nreproduce: kubetwin run {} --seed 11",
                    s.display(),
                    s.display()
                );
            }
        }
    }
}

#[test]
fn seeds_change_the_draws() {
    let s = root().join("scenarios/nginx-self-heal.yaml");
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    run_to(&s, "1", &a);
    run_to(&s, "2", &b);
    assert_ne!(read(&a.join("events.jsonl")), read(&b.join("events.jsonl")));
}

#[test]
fn reference_workload_is_deterministic_in_process() {
    use kubetwin::engine::SimDuration;
    use kubetwin::simulation::{RunOptions, run};
    use kubetwin::workload::reference::{ReferenceParams, reference_scenario};
    let p = ReferenceParams {
        nodes: 50,
        pods: 600,
        span: SimDuration::from_secs(2000),
        drain: SimDuration::from_secs(3600),
        seed: 5,
    };
    let s = reference_scenario(p);
    let a = run(&s, &RunOptions::default()).unwrap();
    let b = run(&s, &RunOptions::default()).unwrap();
    let ja = kubetwin::report::writer::events_jsonl(&a);
    let jb = kubetwin::report::writer::events_jsonl(&b);
    assert_eq!(first_difference(&ja, &jb), None);
    assert_eq!(a.metrics.to_csv(), b.metrics.to_csv());
    assert_eq!(
        a.store.pod_counts().succeeded,
        600,
        "every pod ran and completed"
    );
}
