//! Bad input exits 2 with a message naming file, line and field, never panics, and
//! leaves no partial report behind.

use super::*;

const RC_HEAD: &str = "apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: v1
kind: ReplicationController
metadata:
  name: web
  namespace: shop
spec:
";

/// Writes `text` to a temp file and runs `validate -f` on it; returns (dir, path, output).
fn validate(text: &str) -> (tempfile::TempDir, String, std::process::Output) {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("bad.yaml");
    std::fs::write(&f, text).unwrap();
    let o = kubetwin(&["validate", "-f", f.to_str().unwrap()]);
    (dir, f.display().to_string(), o)
}

fn expect_error(text: &str, line: usize, needles: &[&str]) {
    let (_d, file, o) = validate(text);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "expected exit 2, stderr:\n{err}");
    assert!(!err.contains("panicked"), "{err}");
    let at = format!("{file}:{line}:");
    assert!(err.contains(&at), "expected {at} in:\n{err}");
    for n in needles {
        assert!(err.contains(n), "expected {n:?} in:\n{err}");
    }
}

fn rc(spec: &str) -> String {
    format!("{RC_HEAD}{spec}")
}

const GOOD_TEMPLATE: &str = "  selector:
    app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: nginx
";

#[test]
fn malformed_yaml() {
    expect_error(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n  labels: [a, b\nspec: {}\n",
        6,
        &["malformed YAML"],
    );
}

#[test]
fn unknown_api_version() {
    expect_error(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n---\napiVersion: apps/v1beta1\nkind: Deployment\nmetadata:\n  name: d\n",
        6,
        &[
            "apiVersion",
            "unknown apiVersion \"apps/v1beta1\" for kind Deployment",
        ],
    );
}

#[test]
fn wrong_type() {
    expect_error(
        &rc(&format!("  replicas: three\n{GOOD_TEMPLATE}")),
        12,
        &["spec.replicas", "three"],
    );
}

#[test]
fn invalid_quantity() {
    let spec = format!(
        "  replicas: 2\n{GOOD_TEMPLATE}        resources:\n          requests:\n            cpu: 5 cores\n"
    );
    expect_error(
        &rc(&spec),
        25,
        &[
            "spec.template.spec.containers[0].resources.requests.cpu",
            "invalid quantity \"5 cores\"",
        ],
    );
}

#[test]
fn negative_replicas() {
    expect_error(
        &rc(&format!("  replicas: -1\n{GOOD_TEMPLATE}")),
        12,
        &["spec.replicas", "must be greater than or equal to 0"],
    );
}

#[test]
fn selector_does_not_match_template() {
    let spec = GOOD_TEMPLATE.replace(
        "      labels:\n        app: web",
        "      labels:\n        app: api",
    );
    expect_error(
        &rc(&format!("  replicas: 1\n{spec}")),
        17,
        &["spec.template.metadata.labels", "does not match template"],
    );
}

#[test]
fn selector_mismatch_in_a_replicaset_list_item() {
    let text = "apiVersion: v1
kind: List
items:
- apiVersion: apps/v1
  kind: ReplicaSet
  metadata:
    name: r
  spec:
    selector:
      matchLabels: {app: a}
    template:
      metadata:
        labels: {app: b}
      spec:
        containers:
        - {name: c, image: i}
";
    expect_error(text, 13, &["spec.template.metadata.labels"]);
}

#[test]
fn duplicate_names() {
    let one = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec: {}\n";
    expect_error(
        &format!("{one}---\n{one}"),
        10,
        &["duplicate Service \"web\"", "first defined at"],
    );
}

#[test]
fn missing_file() {
    let o = kubetwin(&["validate", "-f", "no/such/file.yaml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no/such/file.yaml"), "{}", stderr(&o));
    let o = kubetwin(&["run", "no/such/scenario.yaml"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn invalid_probe_and_restart_policy() {
    let spec = format!(
        "  replicas: 1\n{GOOD_TEMPLATE}        readinessProbe:\n          periodSeconds: -5\n          httpGet: {{path: /, port: 80}}\n"
    );
    expect_error(
        &rc(&spec),
        24,
        &[
            "readinessProbe.periodSeconds",
            "must be greater than or equal to 0",
        ],
    );
    let spec = format!(
        "  replicas: 1\n{GOOD_TEMPLATE}        livenessProbe:\n          periodSeconds: 5\n"
    );
    expect_error(
        &rc(&spec),
        23,
        &["livenessProbe", "must specify a handler type"],
    );
}

fn scenario(timeline: &str) -> String {
    format!(
        "apiVersion: kubetwin.dev/v1alpha1
kind: Scenario
metadata:
  name: bad
spec:
  duration: 5m
  cluster:
    nodePools:
    - name: n
      count: 2
      capacity: {{cpu: \"2\", memory: 4Gi}}
  manifests:
  - inline: |
      apiVersion: v1
      kind: ReplicationController
      metadata:
        name: web
      spec:
        replicas: 1
        template:
          metadata:
            labels: {{app: web}}
          spec:
            containers:
            - {{name: c, image: nginx}}
  timeline:
{timeline}"
    )
}

/// Runs a scenario with `--out` and checks exit 2, the location, and that no report
/// directory (or temporary directory) was left behind.
fn expect_scenario_error(text: &str, line: usize, needles: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("scenario.yaml");
    std::fs::write(&f, text).unwrap();
    let out = dir.path().join("out");
    let o = kubetwin(&["run", f.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    let at = format!("{}:{line}:", f.display());
    assert!(err.contains(&at), "expected {at} in:\n{err}");
    for n in needles {
        assert!(err.contains(n), "expected {n:?} in:\n{err}");
    }
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name())
        .collect();
    assert_eq!(
        left,
        vec![std::ffi::OsString::from("scenario.yaml")],
        "partial output left behind"
    );
}

#[test]
fn scenario_action_on_a_missing_object() {
    expect_scenario_error(
        &scenario("  - at: 1m\n    scale: {target: rc/nope, replicas: 3}\n"),
        28,
        &["spec.timeline[0].scale.target", "does not exist"],
    );
    expect_scenario_error(
        &scenario("  - at: 1m\n    crashNode: n-9\n"),
        28,
        &["spec.timeline[0].crashNode", "node \"n-9\" does not exist"],
    );
    expect_scenario_error(
        &scenario("  - at: 1m\n    deleteNode: n-1\n  - at: 2m\n    cordon: n-1\n"),
        30,
        &["spec.timeline[1].cordon"],
    );
    expect_scenario_error(
        &scenario("  - at: 1m\n    drain: {node: n-7}\n"),
        28,
        &["spec.timeline[0].drain.node", "node \"n-7\" does not exist"],
    );
}

#[test]
fn scenario_errors_point_into_inline_manifests() {
    let text = scenario("  - at: 1m\n    crashNode: n-1\n").replace("replicas: 1", "replicas: -4");
    expect_scenario_error(&text, 19, &["spec.replicas"]);
}

#[test]
fn scenario_field_errors() {
    expect_scenario_error(
        &scenario("  - at: soon\n    crashNode: n-1\n"),
        27,
        &["invalid duration \"soon\""],
    );
    expect_scenario_error(
        &scenario("  - at: 1m\n    crashNode: n-1\n").replace(
            "duration: 5m",
            "duration: 5m\n  expectations: [\"pods.bogus == 1\"]",
        ),
        7,
        &["unknown field \"bogus\""],
    );
    expect_scenario_error(
        &scenario("  - at: 1m\n    crashNode: n-1\n")
            .replace("count: 2", "count: 2\n      colour: blue"),
        11,
        &["colour"],
    );
    expect_scenario_error(
        &scenario("  - at: 1m\n    crashNode: n-1\n").replace("cpu: \"2\"", "cpu: lots"),
        11,
        &["invalid quantity \"lots\""],
    );
}

const KSC: &str = "apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
";

fn ksc(body: &str) -> String {
    format!("{KSC}{body}")
}

#[test]
fn scheduler_config_unknown_plugin() {
    expect_error(
        &ksc("profiles:\n- plugins:\n    score:\n      enabled:\n      - name: NodeResourceFit\n"),
        7,
        &[
            "profiles[0].plugins.score.enabled[0].name",
            "unknown plugin \"NodeResourceFit\"",
        ],
    );
}

#[test]
fn scheduler_config_weight_out_of_range() {
    expect_error(
        &ksc(
            "profiles:\n- plugins:\n    score:\n      enabled:\n      - name: ImageLocality\n      - name: NodeAffinity\n        weight: 101\n",
        ),
        9,
        &[
            "profiles[0].plugins.score.enabled[1].weight",
            "invalid value 101",
        ],
    );
    expect_error(
        &ksc(
            "profiles:\n- plugins:\n    multiPoint:\n      enabled:\n      - name: NodeAffinity\n        weight: -1\n",
        ),
        8,
        &[
            "profiles[0].plugins.multiPoint.enabled[0].weight",
            "invalid value -1",
        ],
    );
}

#[test]
fn scheduler_config_percentage_out_of_range() {
    expect_error(
        &ksc("profiles:\n- schedulerName: a\n  percentageOfNodesToScore: 101\n"),
        5,
        &[
            "profiles[0].percentageOfNodesToScore",
            "not in valid range [0-100]",
        ],
    );
    expect_error(
        &ksc("percentageOfNodesToScore: 101\n"),
        3,
        &["percentageOfNodesToScore: invalid value 101"],
    );
}

#[test]
fn scheduler_config_unknown_scoring_strategy() {
    expect_error(
        &ksc(
            "profiles:\n- pluginConfig:\n  - name: NodeResourcesFit\n    args:\n      scoringStrategy:\n        type: Packed\n",
        ),
        8,
        &[
            "profiles[0].pluginConfig[0].args.scoringStrategy.type",
            "unsupported value \"Packed\"",
        ],
    );
}

#[test]
fn scheduler_config_malformed_yaml_and_unknown_field() {
    expect_error(
        &ksc("profiles:\n- schedulerName: a\n  plugins: {score: [\n"),
        5,
        &["malformed YAML"],
    );
    expect_error(
        &ksc("profiles:\n- schedulerName: a\n  plugin: {}\n"),
        5,
        &["profiles[0]", "unknown field `plugin`"],
    );
}

#[test]
fn scheduler_config_errors_from_scenario_and_flag() {
    // spec.scheduler.config: the error points into the configuration file.
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("sched.yaml");
    std::fs::write(
        &cfg,
        ksc("profiles:\n- plugins:\n    filter:\n      enabled: [{name: ImageLocality}]\n"),
    )
    .unwrap();
    let s = dir.path().join("s.yaml");
    std::fs::write(
        &s,
        scenario("  - at: 1m\n    crashNode: n-1\n").replace(
            "duration: 5m",
            "duration: 5m\n  scheduler:\n    config: sched.yaml",
        ),
    )
    .unwrap();
    let o = kubetwin(&["validate", "-f", s.to_str().unwrap()]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains(&format!("{}:6:", cfg.display())), "{err}");
    assert!(
        err.contains("profiles[0].plugins.filter.enabled[0].name")
            && err.contains("does not extend FilterPlugin"),
        "{err}"
    );
    // A missing file is located in the scenario.
    std::fs::write(
        &s,
        scenario("  - at: 1m\n    crashNode: n-1\n").replace(
            "duration: 5m",
            "duration: 5m\n  scheduler:\n    config: nope.yaml",
        ),
    )
    .unwrap();
    let o = kubetwin(&["validate", "-f", s.to_str().unwrap()]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!("{}:8:", s.display())) && err.contains("spec.scheduler.config"),
        "{err}"
    );
    // --scheduler-config: exit 2, no report left behind.
    let out = dir.path().join("out");
    let o = kubetwin(&[
        "run",
        "--scheduler-config",
        cfg.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains(&format!("{}:6:", cfg.display())), "{err}");
    assert!(!out.exists());
}
