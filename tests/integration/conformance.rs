//! The shared conformance suite through `kubetwin conformance`. It needs the project's
//! shared data, which a user's clone does not have: `.ci/run` points `KUBETWIN_SHARED`
//! at it and runs ignored tests; elsewhere the test shows as ignored, never as passed.

use super::*;

#[test]
#[ignore = "needs the shared conformance cases: set KUBETWIN_SHARED (as .ci/run does)"]
fn shared_conformance_cases_all_pass() {
    let shared = std::env::var("KUBETWIN_SHARED")
        .expect("KUBETWIN_SHARED must point at the shared directory");
    let cases = Path::new(&shared).join("conformance").join("cases");
    let o = kubetwin(&["conformance", cases.to_str().unwrap()]);
    let out = stdout(&o);
    let last = out.lines().last().unwrap_or_default();
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        last.ends_with("passed, 0 failed"),
        "failures or skips: {last}\n{out}"
    );
}

#[test]
fn runner_contract_on_a_small_file() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("cases.yaml");
    std::fs::write(
        &f,
        "- name: ok\n  function: scheduler.normalize_score\n  source: test\n  input: {maxPriority: 100, reverse: false, scores: [10, 20]}\n  expected: {scores: [50, 100]}\n\
         - name: wrong\n  function: scheduler.normalize_score\n  source: test\n  input: {maxPriority: 100, reverse: false, scores: [10, 20]}\n  expected: {scores: [50, 99]}\n\
         - name: unknown\n  function: future.thing\n  source: test\n  input: {}\n  expected: {}\n",
    )
    .unwrap();
    let o = kubetwin(&["conformance", f.to_str().unwrap()]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1));
    assert!(out.contains("FAIL wrong"), "{out}");
    assert!(out.contains("SKIP future.thing (1 cases)"), "{out}");
    assert_eq!(out.lines().last(), Some("1 passed, 1 failed, 1 skipped"));
    let o = kubetwin(&["conformance", "no/such/dir"]);
    assert_eq!(o.status.code(), Some(2));
}
