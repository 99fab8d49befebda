//! Record, replay and diff: shipped scenarios replay identically, a tampered journal
//! diverges at the right line, `diff` names the first divergence and the metric deltas
//! (two seeds; LeastAllocated vs MostAllocated), and bad recordings exit 2 naming the
//! file, the line and the reason.

use super::*;
use std::process::Output;

const PACKING: &str = "scenarios/bin-packing.yaml";

/// Runs a scenario into `dir/name` with extra arguments; returns the report directory.
fn record(dir: &Path, name: &str, scenario: &str, extra: &[&str]) -> PathBuf {
    let out = dir.join(name);
    let mut args = vec!["run", scenario, "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    let o = kubetwin(&args);
    assert!(
        matches!(o.status.code(), Some(0) | Some(1)),
        "{}{}",
        stdout(&o),
        stderr(&o)
    );
    out
}

fn replay(p: &Path) -> Output {
    kubetwin(&["replay", p.to_str().unwrap()])
}

fn header(out: &Path) -> serde_json::Value {
    let ev = read(&out.join("events.jsonl"));
    serde_json::from_str(ev.lines().next().unwrap()).unwrap()
}

#[test]
fn shipped_scenarios_replay_identically() {
    let d = tempfile::tempdir().unwrap();
    for s in [
        PACKING,
        "scenarios/load-csv-node-crash.yaml",
        "scenarios/scale-and-lose-node.yaml",
    ] {
        let out = record(d.path(), "r", s, &[]);
        let n = read(&out.join("events.jsonl")).lines().count() - 1;
        let o = replay(&out);
        let text = stdout(&o);
        assert_eq!(o.status.code(), Some(0), "{s}: {text}{}", stderr(&o));
        assert!(text.contains(&format!("identical ({n} events)")), "{text}");
        assert!(text.contains("metrics.csv: identical"), "{text}");
        assert!(text.contains("summary.json: identical"), "{text}");
    }
}

#[test]
fn the_header_embeds_the_inputs_without_machine_paths() {
    let d = tempfile::tempdir().unwrap();
    let out = record(d.path(), "r", "scenarios/load-csv-node-crash.yaml", &[]);
    let h = header(&out);
    assert_eq!(h["kubetwin_recording"], 1);
    assert_eq!(h["kubetwin_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(h["scenario"]["file"], "scenarios/load-csv-node-crash.yaml");
    assert_eq!(h["scenario"]["dir"], "scenarios");
    let inputs = h["inputs"].as_array().unwrap();
    assert_eq!(inputs.len(), 1, "{inputs:?}");
    assert_eq!(inputs[0]["path"], "load/web-rps.csv");
    assert_eq!(
        inputs[0]["text"].as_str().unwrap(),
        read(&root().join("scenarios/load/web-rps.csv"))
    );
    assert!(h["hash"].as_str().unwrap().starts_with("sha256:"));
    let line = read(&out.join("events.jsonl"));
    let first = line.lines().next().unwrap();
    assert!(!first.contains(root().to_str().unwrap()), "{first}");
    assert!(!first.contains(d.path().to_str().unwrap()), "{first}");
    // Line 2 on is the journal as before.
    let second: serde_json::Value = serde_json::from_str(line.lines().nth(1).unwrap()).unwrap();
    assert_eq!(second["t_ms"], 0);
    // A second run records the same bytes.
    let again = record(d.path(), "again", "scenarios/load-csv-node-crash.yaml", &[]);
    assert_eq!(read(&again.join("events.jsonl")), line);
}

#[test]
fn the_default_scenario_replays_from_its_embedded_text() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("r");
    let o = kubetwin(&["run", "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        header(&out)["scenario"]["file"],
        "<embedded>/scenarios/nginx-self-heal.yaml"
    );
    let o = replay(&out.join("events.jsonl"));
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
}

#[test]
fn a_scheduler_config_override_is_recorded_and_replayed() {
    let d = tempfile::tempdir().unwrap();
    let out = record(
        d.path(),
        "most",
        PACKING,
        &[
            "--scheduler-config",
            "scenarios/scheduler/most-allocated.yaml",
        ],
    );
    let h = header(&out);
    assert_eq!(
        h["options"]["scheduler_config"]["path"],
        "most-allocated.yaml"
    );
    let o = replay(&out);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
}

/// Replaces journal line `n` (1-based file line) with `f(line)`.
fn edit_line(p: &Path, n: usize, f: impl Fn(&str) -> String) {
    let text = read(p);
    let lines: Vec<String> = text
        .lines()
        .enumerate()
        .map(|(i, l)| if i + 1 == n { f(l) } else { l.to_string() })
        .collect();
    std::fs::write(p, lines.join("\n") + "\n").unwrap();
}

#[test]
fn a_tampered_event_diverges_at_its_line() {
    let d = tempfile::tempdir().unwrap();
    let out = record(d.path(), "r", PACKING, &[]);
    let ev = out.join("events.jsonl");
    let original = read(&ev).lines().nth(9).unwrap().to_string();
    let v: serde_json::Value = serde_json::from_str(&original).unwrap();
    let name = v["name"].as_str().unwrap().to_string();
    edit_line(&ev, 10, |l| {
        l.replacen(&format!("\"name\":\"{name}\""), "\"name\":\"tampered\"", 1)
    });
    let o = replay(&out);
    let text = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{text}{}", stderr(&o));
    let t = v["t_ms"].as_u64().unwrap() as f64 / 1000.0;
    assert!(
        text.contains(&format!("first divergence at line 10 (t={t:.3}s)")),
        "{text}"
    );
    assert!(text.contains(&original), "{text}");
    assert!(
        text.contains(&format!("field name: \"tampered\" -> \"{name}\"")),
        "{text}"
    );
    // The other files still match.
    assert!(text.contains("summary.json: identical"), "{text}");
}

#[test]
fn a_tampered_summary_is_named() {
    let d = tempfile::tempdir().unwrap();
    let out = record(d.path(), "r", PACKING, &[]);
    let p = out.join("summary.json");
    let s = read(&p).replacen("\"bindings\": ", "\"bindings\": 1", 1);
    std::fs::write(&p, s).unwrap();
    let o = replay(&out);
    let text = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{text}");
    assert!(text.contains("identical ("), "{text}");
    assert!(text.contains("summary.json: differs at line"), "{text}");
}

/// Redacts the temp directory from command output.
fn redact(s: &str, d: &Path) -> String {
    s.replace(d.to_str().unwrap(), "<tmp>")
}

#[test]
fn diff_of_two_seeds_names_the_first_divergence_and_deltas() {
    let d = tempfile::tempdir().unwrap();
    let a = record(d.path(), "seed1", PACKING, &["--seed", "1"]);
    let b = record(d.path(), "seed2", PACKING, &["--seed", "2"]);
    let o = kubetwin(&["diff", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = redact(&stdout(&o), d.path());
    assert!(text.contains("INPUTS  seed: 1 -> 2"), "{text}");
    assert!(text.contains("first divergence at line"), "{text}");
    insta::assert_snapshot!("diff_seeds", text);
    let o = kubetwin(&[
        "diff",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--fail-on-divergence",
    ]);
    assert_eq!(o.status.code(), Some(1));
    // A run against itself: no divergence, all deltas 0.
    let o = kubetwin(&[
        "diff",
        a.to_str().unwrap(),
        a.join("events.jsonl").to_str().unwrap(),
        "--fail-on-divergence",
        "-o",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(v["first_divergence"].is_null());
    assert!(v["inputs"].as_array().unwrap().is_empty());
    let m = v["metrics"].as_array().unwrap();
    assert!(!m.is_empty());
    assert!(m.iter().all(|r| r["delta"] == 0.0), "{m:?}");
}

#[test]
fn diff_of_a_scheduler_config_change() {
    let d = tempfile::tempdir().unwrap();
    let least = record(
        d.path(),
        "least",
        PACKING,
        &[
            "--scheduler-config",
            "scenarios/scheduler/least-allocated.yaml",
        ],
    );
    let most = record(
        d.path(),
        "most",
        PACKING,
        &[
            "--scheduler-config",
            "scenarios/scheduler/most-allocated.yaml",
        ],
    );
    let o = kubetwin(&[
        "diff",
        least.to_str().unwrap(),
        most.to_str().unwrap(),
        "--changed",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = redact(&stdout(&o), d.path());
    assert!(
        text.contains("--scheduler-config: least-allocated.yaml"),
        "{text}"
    );
    insta::assert_snapshot!("diff_least_vs_most_allocated", text);
    let o = kubetwin(&[
        "diff",
        least.to_str().unwrap(),
        most.to_str().unwrap(),
        "-o",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let d0 = &v["first_divergence"];
    assert!(d0["line"].as_u64().unwrap() >= 2, "{d0}");
    assert!(!d0["fields"].as_array().unwrap().is_empty(), "{d0}");
}

/// A recording made into `dir/r`, then damaged by `f`; `replay` and `diff` both exit 2
/// naming `events.jsonl:<line>:` and every needle.
fn expect_bad(f: impl Fn(&Path), line: usize, needles: &[&str]) {
    let d = tempfile::tempdir().unwrap();
    let out = record(d.path(), "r", PACKING, &[]);
    let ev = out.join("events.jsonl");
    f(&ev);
    for o in [
        replay(&out),
        kubetwin(&["diff", out.to_str().unwrap(), ev.to_str().unwrap()]),
    ] {
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{}{err}", stdout(&o));
        assert!(!err.contains("panicked"), "{err}");
        let at = format!("{}:{line}:", ev.display());
        assert!(err.contains(&at), "expected {at} in:\n{err}");
        for n in needles {
            assert!(err.contains(n), "expected {n:?} in:\n{err}");
        }
    }
}

#[test]
fn bad_recordings_exit_2_naming_file_line_and_reason() {
    // Truncated: the last line cut mid-JSON.
    let d = tempfile::tempdir().unwrap();
    let out = record(d.path(), "r", PACKING, &[]);
    let n = read(&out.join("events.jsonl")).lines().count();
    drop(d);
    expect_bad(
        |p| {
            let t = read(p);
            std::fs::write(p, &t[..t.len() - 20]).unwrap();
        },
        n,
        &["truncated", "mid-JSON"],
    );
    // No header: line 1 removed.
    expect_bad(
        |p| {
            let t = read(p);
            std::fs::write(p, t.split_once('\n').unwrap().1).unwrap();
        },
        1,
        &["missing header", "journal event"],
    );
    // A header whose hash does not match its contents.
    expect_bad(
        |p| edit_line(p, 1, |l| l.replacen("\"seed\":1", "\"seed\":2", 1)),
        1,
        &["hash: header hash mismatch"],
    );
    // Events out of time order.
    expect_bad(
        |p| {
            let t = read(p);
            let mut lines: Vec<&str> = t.lines().collect();
            let last = lines.len() - 1;
            lines.swap(2, last);
            std::fs::write(p, lines.join("\n") + "\n").unwrap();
        },
        4,
        &["t_ms: events out of time order", "on line 3"],
    );
    // A garbage line.
    expect_bad(
        |p| edit_line(p, 5, |_| "}{ not json".into()),
        5,
        &["not a JSON line"],
    );
    // A JSON line that is no journal entry.
    expect_bad(
        |p| edit_line(p, 6, |_| "{\"hello\":1}".into()),
        6,
        &["t_ms: not a journal entry"],
    );
}

#[test]
fn large_inputs_are_external_and_checked_at_replay() {
    let d = tempfile::tempdir().unwrap();
    let sc = d.path().join("sc");
    std::fs::create_dir_all(sc.join("manifests")).unwrap();
    std::fs::copy(
        root().join("scenarios/scale-and-lose-node.yaml"),
        sc.join("s.yaml"),
    )
    .unwrap();
    // The manifest padded past the embedding limit with comments.
    let mut m = read(&root().join("scenarios/manifests/web-rs.yaml"));
    let pad = "# padding to make this file an external input of the recording\n";
    while m.len() <= kubetwin::replay::header::EMBED_LIMIT as usize {
        m.push_str(pad);
    }
    std::fs::write(sc.join("manifests/web-rs.yaml"), &m).unwrap();
    let run = |args: &[&str]| {
        bin()
            .args(args)
            .current_dir(d.path())
            .output()
            .expect("kubetwin runs")
    };
    let o = run(&["run", "sc/s.yaml", "--out", "r"]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    let h = header(&d.path().join("r"));
    assert_eq!(h["scenario"]["dir"], "sc");
    assert_eq!(h["inputs"][0]["path"], "manifests/web-rs.yaml");
    assert!(
        h["inputs"][0].get("text").is_none(),
        "embedded a large file"
    );
    assert_eq!(h["inputs"][0]["size"], m.len());
    let o = run(&["replay", "r"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    // Found with --inputs from elsewhere too.
    let o = kubetwin(&[
        "replay",
        d.path().join("r").to_str().unwrap(),
        "--inputs",
        sc.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    // A changed external file is refused.
    m = m.replacen("# padding", "# Padding", 1);
    std::fs::write(sc.join("manifests/web-rs.yaml"), &m).unwrap();
    let o = run(&["replay", "r"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("manifests/web-rs.yaml"), "{err}");
    assert!(err.contains("contents hash to"), "{err}");
}
