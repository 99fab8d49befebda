//! The conformance runner (`kubetwin conformance PATH...`, see `shared/conformance/README.md`
//! section 2): loads case files, dispatches every case to the adapter of its area, compares the
//! result with `expected` and prints `FAIL` / `SKIP` lines and the final count line.
//!
//! Dispatch: the part of `function` before the first `.` selects an area module whose
//! `eval(function, input)` returns `None` for a function it does not implement (the case is then
//! skipped), `Some(Err(..))` when the input cannot be parsed or evaluation fails (a failure), and
//! `Some(Ok(value))` with the result to compare.

pub mod compare;
pub mod deployment;
pub mod hpa;
pub mod input;
pub mod kubelet;
pub mod node_lifecycle;
pub mod pdb;
pub mod replicaset;
pub mod scheduler;

use std::collections::BTreeMap;
use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use serde_json::Value;

/// Errors that abort a conformance run (the command then exits non-zero).
#[derive(Debug, thiserror::Error)]
pub enum ConformanceError {
    /// A path given on the command line (or found below a directory) could not be read.
    #[error("cannot read {path}: {source}")]
    Unreadable {
        /// The offending path.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// A case file is not a YAML list of well-formed cases.
    #[error("malformed case file {path}: {message}")]
    Malformed {
        /// The offending file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// Writing the report failed.
    #[error("cannot write the report: {0}")]
    Output(#[from] std::io::Error),
}

/// Counts of one run; `passed + failed + skipped` is the number of cases read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Cases whose result matched `expected`.
    pub passed: usize,
    /// Cases that did not match, could not be parsed, errored or panicked.
    pub failed: usize,
    /// Cases whose function is not implemented.
    pub skipped: usize,
}

impl Summary {
    /// True when the command should exit with status 0 (no failures; skips alone are fine).
    pub fn exit_ok(&self) -> bool {
        self.failed == 0
    }

    /// The final report line: `N passed, M failed` or `N passed, M failed, K skipped`.
    pub fn line(&self) -> String {
        if self.skipped > 0 {
            format!(
                "{} passed, {} failed, {} skipped",
                self.passed, self.failed, self.skipped
            )
        } else {
            format!("{} passed, {} failed", self.passed, self.failed)
        }
    }
}

/// One case as read from a case file.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// Unique case name.
    pub name: String,
    /// The function exercised, e.g. `deployment.proportional_scale`.
    pub function: String,
    /// Function-specific input.
    pub input: Value,
    /// Function-specific expected output.
    pub expected: Value,
}

/// Outcome of evaluating one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseOutcome {
    /// The result matched `expected`.
    Passed,
    /// Mismatch, unparseable input, evaluation error or panic; carries the short diff.
    Failed(String),
    /// The function is not implemented.
    Skipped,
}

/// Runs every case found in `paths` (files, or directories searched recursively for `*.yaml` /
/// `*.yml` in sorted path order), writing one `FAIL <name>: <diff>` line per failing case, one
/// `SKIP <function> (<n> cases)` line per unimplemented function and the final count line.
///
/// All files are read and parsed before any case runs, so an unreadable path or a malformed file
/// returns `Err` without partial output.
pub fn run(paths: &[PathBuf], out: &mut impl Write) -> Result<Summary, ConformanceError> {
    let mut files = Vec::new();
    for path in paths {
        collect_files(path, &mut files)?;
    }
    let mut cases = Vec::new();
    for file in &files {
        cases.extend(load_file(file)?);
    }
    run_cases(&cases, out)
}

/// Runs already-loaded cases (the second half of [`run`]).
pub fn run_cases(cases: &[Case], out: &mut impl Write) -> Result<Summary, ConformanceError> {
    run_cases_with(cases, out, dispatch)
}

/// [`run_cases`] with an explicit evaluator (used by the runner's own tests).
fn run_cases_with<F>(
    cases: &[Case],
    out: &mut impl Write,
    eval: F,
) -> Result<Summary, ConformanceError>
where
    F: Fn(&str, &Value) -> Option<Result<Value, String>>,
{
    let mut summary = Summary::default();
    let mut skipped: BTreeMap<&str, usize> = BTreeMap::new();
    for case in cases {
        match run_case_with(case, &eval) {
            CaseOutcome::Passed => summary.passed += 1,
            CaseOutcome::Failed(diff) => {
                summary.failed += 1;
                writeln!(out, "FAIL {}: {}", case.name, one_line(&diff))?;
            }
            CaseOutcome::Skipped => {
                summary.skipped += 1;
                *skipped.entry(case.function.as_str()).or_insert(0) += 1;
            }
        }
    }
    for (function, n) in &skipped {
        writeln!(out, "SKIP {function} ({n} cases)")?;
    }
    writeln!(out, "{}", summary.line())?;
    Ok(summary)
}

/// Evaluates one case, catching panics of the implementation.
pub fn run_case(case: &Case) -> CaseOutcome {
    run_case_with(case, &dispatch)
}

fn run_case_with<F>(case: &Case, eval: &F) -> CaseOutcome
where
    F: Fn(&str, &Value) -> Option<Result<Value, String>>,
{
    let result = catch_unwind(AssertUnwindSafe(|| eval(&case.function, &case.input)));
    match result {
        Err(payload) => CaseOutcome::Failed(format!("panicked: {}", panic_message(&payload))),
        Ok(None) => CaseOutcome::Skipped,
        Ok(Some(Err(e))) => CaseOutcome::Failed(format!("error: {e}")),
        Ok(Some(Ok(actual))) => match compare::compare(&case.expected, &actual) {
            Ok(()) => CaseOutcome::Passed,
            Err(diff) => CaseOutcome::Failed(diff),
        },
    }
}

/// Routes `function` to the adapter of its area (the text before the first `.`).
pub fn dispatch(function: &str, input: &Value) -> Option<Result<Value, String>> {
    let area = function.split('.').next().unwrap_or_default();
    match area {
        "scheduler" => scheduler::eval(function, input),
        "replicaset" => replicaset::eval(function, input),
        "deployment" => deployment::eval(function, input),
        "hpa" => hpa::eval(function, input),
        "kubelet" => kubelet::eval(function, input),
        "node_lifecycle" => node_lifecycle::eval(function, input),
        "pdb" => pdb::eval(function, input),
        _ => None,
    }
}

fn panic_message(payload: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_string()
    }
}

/// Keeps a FAIL line on one line.
fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

/// Adds `path` (a file) or every `*.yaml` / `*.yml` file below it (a directory) to `files`;
/// directory contents are added in sorted path order.
fn collect_files(path: &Path, files: &mut Vec<PathBuf>) -> Result<(), ConformanceError> {
    let unreadable = |source| ConformanceError::Unreadable {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(unreadable)?;
    if !meta.is_dir() {
        files.push(path.to_path_buf());
        return Ok(());
    }
    let mut found = Vec::new();
    walk_dir(path, &mut found)?;
    found.sort();
    files.extend(found);
    Ok(())
}

fn walk_dir(dir: &Path, found: &mut Vec<PathBuf>) -> Result<(), ConformanceError> {
    let unreadable = |source| ConformanceError::Unreadable {
        path: dir.to_path_buf(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(unreadable)? {
        let entry = entry.map_err(unreadable)?;
        let path = entry.path();
        let meta = std::fs::metadata(&path).map_err(|source| ConformanceError::Unreadable {
            path: path.clone(),
            source,
        })?;
        if meta.is_dir() {
            walk_dir(&path, found)?;
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        ) {
            found.push(path);
        }
    }
    Ok(())
}

/// Reads and parses one case file.
pub fn load_file(path: &Path) -> Result<Vec<Case>, ConformanceError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConformanceError::Unreadable {
        path: path.to_path_buf(),
        source,
    })?;
    parse_cases(&text).map_err(|message| ConformanceError::Malformed {
        path: path.to_path_buf(),
        message,
    })
}

/// Parses the text of a case file: a YAML list (an empty document counts as no cases) of maps
/// with string `name` and `function` and present `input` and `expected`.
pub fn parse_cases(text: &str) -> Result<Vec<Case>, String> {
    let doc: Value = serde_saphyr::from_str(text).map_err(|e| e.to_string())?;
    let items = match doc {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) => items,
        _ => return Err("top level is not a list of cases".to_string()),
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let Value::Object(mut map) = item else {
                return Err(format!("case #{} is not a map", i + 1));
            };
            let name = match map.get("name") {
                Some(Value::String(s)) => s.clone(),
                _ => return Err(format!("case #{} has no string `name`", i + 1)),
            };
            let function = match map.get("function") {
                Some(Value::String(s)) => s.clone(),
                _ => return Err(format!("case {name:?} has no string `function`")),
            };
            let input = map
                .remove("input")
                .ok_or_else(|| format!("case {name:?} has no `input`"))?;
            let expected = map
                .remove("expected")
                .ok_or_else(|| format!("case {name:?} has no `expected`"))?;
            Ok(Case {
                name,
                function,
                input,
                expected,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn case(name: &str, function: &str, expected: Value) -> Case {
        Case {
            name: name.into(),
            function: function.into(),
            input: json!({}),
            expected,
        }
    }

    /// Test evaluator: `t.ok` returns {x: 1}, `t.err` errors, `t.panic` panics, others skip.
    fn fake(function: &str, _input: &Value) -> Option<Result<Value, String>> {
        match function {
            "t.ok" => Some(Ok(json!({"x": 1}))),
            "t.err" => Some(Err("bad input".into())),
            "t.panic" => panic!("boom"),
            _ => None,
        }
    }

    fn run_fake(cases: &[Case]) -> (Summary, String) {
        let mut out = Vec::new();
        let s = run_cases_with(cases, &mut out, fake).unwrap();
        (s, String::from_utf8(out).unwrap())
    }

    #[test]
    fn all_pass_line() {
        let (s, out) = run_fake(&[case("a", "t.ok", json!({"x": 1}))]);
        assert_eq!(
            s,
            Summary {
                passed: 1,
                failed: 0,
                skipped: 0
            }
        );
        assert!(s.exit_ok());
        assert_eq!(out, "1 passed, 0 failed\n");
    }

    #[test]
    fn fail_lines_and_counts() {
        let cases = [
            case("mismatch", "t.ok", json!({"x": 2})),
            case("errs", "t.err", json!({"x": 1})),
            case("panics", "t.panic", json!({"x": 1})),
            case("good", "t.ok", json!({"x": 1})),
            case("s1", "t.todo", json!({})),
            case("s2", "t.todo", json!({})),
            case("s3", "u.other", json!({})),
        ];
        let (s, out) = run_fake(&cases);
        assert_eq!(
            s,
            Summary {
                passed: 1,
                failed: 3,
                skipped: 3
            }
        );
        assert!(!s.exit_ok());
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "FAIL mismatch: x: expected 2, got 1");
        assert_eq!(lines[1], "FAIL errs: error: bad input");
        assert_eq!(lines[2], "FAIL panics: panicked: boom");
        assert_eq!(lines[3], "SKIP t.todo (2 cases)");
        assert_eq!(lines[4], "SKIP u.other (1 cases)");
        assert_eq!(lines[5], "1 passed, 3 failed, 3 skipped");
        assert_eq!(lines.len(), 6);
    }

    #[test]
    fn skips_alone_exit_ok() {
        let (s, out) = run_fake(&[case("s", "t.todo", json!({}))]);
        assert!(s.exit_ok());
        assert!(out.ends_with("0 passed, 0 failed, 1 skipped\n"));
    }

    #[test]
    fn final_line_matches_regex_shape() {
        for s in [
            Summary {
                passed: 3,
                failed: 0,
                skipped: 0,
            },
            Summary {
                passed: 0,
                failed: 2,
                skipped: 5,
            },
        ] {
            let line = s.line();
            let parts: Vec<&str> = line.split(", ").collect();
            assert!(parts[0].ends_with(" passed") && parts[1].ends_with(" failed"));
            assert_eq!(parts.len(), if s.skipped > 0 { 3 } else { 2 });
        }
    }

    #[test]
    fn parse_case_file() {
        let text = "# c\n- name: a\n  function: t.ok\n  source: s\n  input: {n: 1, p: 39%, q: '1'}\n  expected: {x: 0.0, y: null}\n";
        let cases = parse_cases(text).unwrap();
        assert_eq!(cases.len(), 1);
        assert_eq!(cases[0].input, json!({"n": 1, "p": "39%", "q": "1"}));
        assert!(cases[0].expected["x"].is_f64());
        assert!(parse_cases("").unwrap().is_empty());
        assert!(parse_cases("a: 1").is_err());
        assert!(parse_cases("- name: a\n  function: f\n  input: {}\n").is_err());
        assert!(parse_cases("- [unclosed").is_err());
    }

    fn temp_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("kubetwin-conf-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        dir
    }

    #[test]
    fn directories_are_walked_in_sorted_order() {
        let dir = temp_dir("walk");
        let body = |n: &str| {
            format!("- name: {n}\n  function: replicaset.nope\n  input: {{}}\n  expected: {{}}\n")
        };
        std::fs::write(dir.join("b.yaml"), body("b")).unwrap();
        std::fs::write(dir.join("a.yml"), body("a")).unwrap();
        std::fs::write(dir.join("sub/c.yaml"), body("c")).unwrap();
        std::fs::write(dir.join("ignored.txt"), "not yaml: [").unwrap();
        let mut files = Vec::new();
        collect_files(&dir, &mut files).unwrap();
        let names: Vec<String> = files
            .iter()
            .map(|p| p.strip_prefix(&dir).unwrap().display().to_string())
            .collect();
        assert_eq!(names, ["a.yml", "b.yaml", "sub/c.yaml"]);
        let mut out = Vec::new();
        let s = run(std::slice::from_ref(&dir), &mut out).unwrap();
        assert_eq!(s.skipped, 3);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "SKIP replicaset.nope (3 cases)\n0 passed, 0 failed, 3 skipped\n"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn unreadable_and_malformed_are_errors() {
        let dir = temp_dir("err");
        let mut out = Vec::new();
        let missing = run(&[dir.join("missing.yaml")], &mut out);
        assert!(matches!(missing, Err(ConformanceError::Unreadable { .. })));
        std::fs::write(dir.join("bad.yaml"), "- name: x\n  input: [1\n").unwrap();
        let bad = run(std::slice::from_ref(&dir), &mut out);
        assert!(matches!(bad, Err(ConformanceError::Malformed { .. })));
        assert!(out.is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn unparseable_input_is_a_failure() {
        let mut c = case(
            "bad-input",
            "deployment.resolve_fenceposts",
            json!({"surge": 0, "unavailable": 1}),
        );
        c.input = json!({"maxSurge": "abc", "maxUnavailable": null, "desiredReplicas": 10});
        assert!(matches!(run_case(&c), CaseOutcome::Failed(_)));
    }
}
