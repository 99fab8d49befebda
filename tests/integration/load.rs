//! The load model and the metrics pipeline end to end: a small scenario under constant
//! load whose capacity is known in closed form (metrics.csv, summary.json,
//! expectations), and the bad-input paths of `spec.load` (exit 2, file and line).

use super::*;

/// A scenario with two web pods capped at 220m CPU: (220m − 20m) / 2m = 100 rps each.
fn scenario(load: &str) -> String {
    format!(
        "apiVersion: kubetwin.dev/v1alpha1
kind: Scenario
metadata:
  name: load-test
spec:
  duration: 10m
  sampling:
    interval: 30s
  cluster:
    nodePools:
    - name: node
      count: 2
      capacity: {{cpu: '2', memory: 4Gi}}
      images: [web:1]
  manifests:
  - inline: |
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: web
      spec:
        replicas: 2
        selector:
          matchLabels: {{app: web}}
        template:
          metadata:
            labels: {{app: web}}
          spec:
            containers:
            - name: web
              image: web:1
              resources:
                limits: {{cpu: 220m, memory: 256Mi}}
      ---
      apiVersion: v1
      kind: Service
      metadata:
        name: web
      spec:
        selector: {{app: web}}
        ports:
        - port: 80
{load}"
    )
}

const GOOD_LOAD: &str = "  load:
  - target: service/web
    curve: {step: {from: 150, to: 300, at: 5m}}
    perPod: {cpuPerRequest: 2m, baseCpu: 20m}
    latency: {serviceTime: 10ms}
  expectations:
  - svc/web.served_rps == 150 at 4m
  - svc/web.latency_ms < 50 at 4m
  - svc/web.offered_rps == 300 after 5m
  - svc/web.served_rps == 200 after 5m
  - svc/web.dropped_rps == 100 after 5m
  - svc/web.dropped_pct > 10 at end
";

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn constant_capacity_serves_what_fits_and_drops_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "load.yaml", &scenario(GOOD_LOAD));
    let out = dir.path().join("report");
    let o = kubetwin(&["run", f.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let csv = read(&out.join("metrics.csv"));
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |n: &str| {
        header
            .iter()
            .position(|c| *c == n)
            .unwrap_or_else(|| panic!("no column {n}"))
    };
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let at = |t: &str| rows.iter().find(|r| r[0] == t).unwrap();
    let (off, srv, drop, ready, cpu, lat) = (
        col("svc/default/web:offered_rps"),
        col("svc/default/web:served_rps"),
        col("svc/default/web:dropped_rps"),
        col("svc/default/web:load_ready_pods"),
        col("svc/default/web:cpu_usage_m"),
        col("svc/default/web:latency_ms"),
    );
    // At 4 min: 150 rps over 2 pods, 75 each: 20m + 150m = 170m each, ρ = 170/220.
    let r = at("240");
    assert_eq!(
        (r[off], r[srv], r[drop], r[ready]),
        ("150", "150", "0", "2")
    );
    assert_eq!(r[cpu], "340");
    let want = 10.0 / (1.0 - 170.0 / 220.0);
    assert!(
        (r[lat].parse::<f64>().unwrap() - want).abs() < 1e-3,
        "{}",
        r[lat]
    );
    // From 5 min: 300 offered, 2 × 100 served at the CPU cap, 100 dropped.
    let r = at("420");
    assert_eq!(
        (r[off], r[srv], r[drop], r[cpu]),
        ("300", "200", "100", "440")
    );
    let summary: serde_json::Value =
        serde_json::from_str(&read(&out.join("summary.json"))).unwrap();
    let l = &summary["load"]["web"];
    assert_eq!(l["target"], "svc/default/web");
    assert_eq!(l["peak_offered_rps"], 300.0);
    // 5 min at 150 and 5 min at 300 offered; 30,000 dropped after 5 min, plus the
    // first seconds before the pods are ready.
    assert_eq!(l["offered_requests"], 135_000.0);
    let dropped = l["dropped_requests"].as_f64().unwrap();
    assert!(
        (30_000.0..30_000.0 + 150.0 * 10.0).contains(&dropped),
        "{dropped}"
    );
    let served = l["served_requests"].as_f64().unwrap();
    assert!((served + dropped - 135_000.0).abs() < 1e-6);
    assert!(l["latency_ms_p99"].as_f64().unwrap() >= 1000.0, "{l}");
    assert!(out.join("load.svg").exists());
}

#[test]
fn the_shipped_diurnal_scenario_reports_its_load() {
    let dir = tempfile::tempdir().unwrap();
    let o = kubetwin(&[
        "run",
        "scenarios/load-diurnal.yaml",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let summary: serde_json::Value =
        serde_json::from_str(&read(&dir.path().join("summary.json"))).unwrap();
    let l = &summary["load"]["web"];
    // The raised cosine's mean is (200 + 1000) / 2 over a whole day, noise averages out.
    let offered = l["offered_requests"].as_f64().unwrap();
    assert!((offered / 86_400.0 - 600.0).abs() < 15.0, "{offered}");
    assert!(l["dropped_pct"].as_f64().unwrap() < 0.01);
    assert!(l["peak_offered_rps"].as_f64().unwrap() > 1000.0);
}

fn expect_error(dir: &Path, text: &str, file: &Path, line: usize, needles: &[&str]) {
    let f = write(dir, "bad.yaml", text);
    let out = dir.join("report");
    let o = kubetwin(&["run", f.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "expected exit 2, stderr:\n{err}");
    assert!(!err.contains("panicked"), "{err}");
    let at = format!("{}:{line}:", file.display());
    assert!(err.contains(&at), "expected {at} in:\n{err}");
    for n in needles {
        assert!(err.contains(n), "expected {n:?} in:\n{err}");
    }
    assert!(!out.exists(), "no partial report");
}

/// The line of the scenario's `load:` block (to compute expected lines).
fn load_line(text: &str) -> usize {
    text.lines().position(|l| l == "  load:").unwrap() + 1
}

#[test]
fn bad_csv_row_names_the_csv_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let csv = write(dir.path(), "load.csv", "time,rps\n0,100\n1m,200\n2m,many\n");
    let text = scenario("  load:\n  - target: service/web\n    curve: {csv: {path: load.csv}}\n");
    expect_error(dir.path(), &text, &csv, 4, &["rps", "\"many\""]);
}

#[test]
fn out_of_order_csv_times_are_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let csv = write(dir.path(), "load.csv", "time,rps\n0,100\n120,200\n60,150\n");
    let text = scenario(
        "  load:\n  - target: service/web\n    curve: {csv: {path: load.csv, interpolate: step}}\n",
    );
    expect_error(dir.path(), &text, &csv, 4, &["time", "increase"]);
}

#[test]
fn a_missing_csv_names_the_scenario_line() {
    let dir = tempfile::tempdir().unwrap();
    let text = scenario("  load:\n  - target: service/web\n    curve: {csv: {path: nope.csv}}\n");
    let line = load_line(&text) + 2;
    let f = dir.path().join("bad.yaml");
    expect_error(
        dir.path(),
        &text,
        &f,
        line,
        &["spec.load[0].curve.csv.path", "nope.csv"],
    );
}

#[test]
fn an_unknown_load_target_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let text = scenario("  load:\n  - target: service/api\n    curve: {constant: {rps: 10}}\n");
    let line = load_line(&text) + 1;
    let f = dir.path().join("bad.yaml");
    expect_error(
        dir.path(),
        &text,
        &f,
        line,
        &["spec.load[0].target", "\"api\" does not exist"],
    );
    let text = scenario("  load:\n  - target: pod/web\n    curve: {constant: {rps: 10}}\n");
    expect_error(dir.path(), &text, &f, line, &["unsupported kind"]);
}

#[test]
fn bad_curve_fields_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("bad.yaml");
    let text = scenario(
        "  load:\n  - target: service/web\n    curve:\n      diurnal: {base: 500, peak: 100}\n",
    );
    let line = load_line(&text) + 3;
    expect_error(
        dir.path(),
        &text,
        &f,
        line,
        &["spec.load[0].curve.diurnal.peak", "at least base"],
    );
    let text = scenario(
        "  load:\n  - target: service/web\n    curve:\n      diurnal: {base: 100, peek: 500}\n",
    );
    expect_error(dir.path(), &text, &f, line, &["peek"]);
    let text =
        scenario("  load:\n  - target: service/web\n    curve:\n      constant: {rps: -5}\n");
    expect_error(
        dir.path(),
        &text,
        &f,
        line,
        &["spec.load[0].curve.constant.rps"],
    );
    let text = scenario("  load:\n  - target: service/web\n    curve: {}\n");
    expect_error(dir.path(), &text, &f, line - 1, &["exactly one curve"]);
}

#[test]
fn a_load_expectation_needs_a_load_target() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("bad.yaml");
    let text = scenario("  expectations:\n  - svc/web.dropped_pct < 1\n");
    let line = text
        .lines()
        .position(|l| l.contains("dropped_pct"))
        .unwrap()
        + 1;
    expect_error(dir.path(), &text, &f, line, &["no spec.load entry targets"]);
}
