//! Reports: `report.md` (snapshots for a passing and a failing run), the expectations
//! table on stdout, `kubetwin run --markdown`, timeline annotations in summary.json and
//! as markers in the SVG plots, and `kubetwin check --markdown`.

use super::*;

/// Runs `scenario` into a fresh report directory; returns the directory and the output.
fn run_report(scenario: &Path, extra: &[&str]) -> (tempfile::TempDir, PathBuf, Output) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report");
    let mut args = vec![
        "run",
        scenario.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let o = kubetwin(&args);
    (dir, out, o)
}

/// The `<text>` contents of an SVG document (plotters writes each on its own line).
fn svg_texts(svg: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = svg;
    while let Some(i) = rest.find("<text") {
        let after = &rest[i..];
        let Some(open_end) = after.find('>') else {
            break;
        };
        let Some(close) = after.find("</text>") else {
            break;
        };
        out.push(after[open_end + 1..close].trim().to_string());
        rest = &after[close + 7..];
    }
    out
}

#[test]
fn rolling_update_report_md_and_rollout_markers() {
    let s = root().join("scenarios/rolling-update.yaml");
    let (_d, out, o) = run_report(&s, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let md = read(&out.join("report.md"));
    insta::assert_snapshot!("rolling_update_report_md", md);
    // The rollout start and completion, for the update at 2m and the undo at 6m.
    let summary: serde_json::Value =
        serde_json::from_str(&read(&out.join("summary.json"))).unwrap();
    let anns = summary["annotations"].as_array().expect("annotations");
    let rollouts: Vec<&str> = anns
        .iter()
        .filter(|a| a["kind"] == "rollout")
        .map(|a| a["label"].as_str().unwrap())
        .collect();
    assert_eq!(rollouts.len(), 4, "{rollouts:?}");
    assert!(rollouts[0].starts_with("deployment/web rollout started: web-"));
    assert!(rollouts[1].starts_with("deployment/web rollout complete: web-"));
    assert_eq!(anns[0]["id"], "A1");
    assert_eq!(anns[0]["at_s"], 120.0);
    // Every time-axis plot draws every annotation's marker with its id.
    for plot in [
        "pods_by_phase.svg",
        "cluster_utilisation.svg",
        "readiness.svg",
    ] {
        let texts = svg_texts(&read(&out.join(plot)));
        for a in anns {
            let id = a["id"].as_str().unwrap();
            assert!(
                texts.iter().any(|t| t.starts_with(&format!("{id} "))),
                "{plot}: no marker label for {id} in {texts:?}"
            );
        }
        assert!(
            texts.iter().any(|t| t == "rollout marker"),
            "{plot}: {texts:?}"
        );
        assert!(
            texts.iter().any(|t| t == "action marker"),
            "{plot}: {texts:?}"
        );
    }
    let html = read(&out.join("index.html"));
    assert!(html.contains("<h2>Timeline</h2>") && html.contains("<th>Observed</th>"));
}

#[test]
fn failing_autoscaler_report_md_and_markdown_flag() {
    let s = root().join("tests/data/reports-autoscaler-fails.yaml");
    let (_d, out, o) = run_report(&s, &["--markdown"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let md = read(&out.join("report.md"));
    // `--markdown` prints exactly the file.
    assert_eq!(stdout(&o), md);
    insta::assert_snapshot!("autoscaler_fails_report_md", md);
    assert!(md.starts_with("## ❌ FAIL: `reports-autoscaler-fails` (seed 1)"));
    // Scale-ups and node removals (drained ones as windows) are annotated and drawn.
    let summary: serde_json::Value =
        serde_json::from_str(&read(&out.join("summary.json"))).unwrap();
    let anns = summary["annotations"].as_array().unwrap();
    assert!(anns.iter().any(|a| {
        a["kind"] == "autoscale"
            && a["label"]
                .as_str()
                .unwrap()
                .starts_with("scale-up web-pool ")
    }));
    assert!(anns.iter().any(|a| a["kind"] == "autoscale"
        && a["label"].as_str().unwrap().starts_with("scale-down node ")));
    let svg = read(&out.join("node_groups.svg"));
    let texts = svg_texts(&svg);
    assert!(
        texts.iter().any(|t| t.starts_with("S1 scale-up web-pool")),
        "{texts:?}"
    );
    assert!(texts.iter().any(|t| t == "autoscale marker"), "{texts:?}");
}

#[test]
fn expectations_table_on_stdout() {
    let s = root().join("tests/data/reports-autoscaler-fails.yaml");
    let o = kubetwin(&["run", s.to_str().unwrap(), "--no-report"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let text = stdout(&o);
    let table = &text[text.find("EXPECTATION").expect("expectations table")..];
    insta::assert_snapshot!("autoscaler_fails_expectations_table", table);
}

#[test]
fn check_writes_markdown() {
    let dir = tempfile::tempdir().unwrap();
    let baseline = dir.path().join("baseline.json");
    let md = dir.path().join("check.md");
    let s = root().join("scenarios/nginx-self-heal.yaml");
    let common = [
        "check",
        s.to_str().unwrap(),
        "--baseline",
        baseline.to_str().unwrap(),
        "--seeds",
        "1..2",
        "--markdown",
        md.to_str().unwrap(),
    ];
    let mut record = common.to_vec();
    record.push("--update-baseline");
    let o = kubetwin(&record);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(read(&md).starts_with("## 📝 check: recorded baseline"));
    let o = kubetwin(&common);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc = read(&md);
    assert!(
        doc.starts_with("## ✅ check: no regression against `"),
        "{doc}"
    );
    assert!(doc.contains("### nginx-self-heal"), "{doc}");
    assert!(doc.contains("| `pending (pods)` |"), "{doc}");
}
