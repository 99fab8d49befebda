//! Sweep parameters: the `spec.parameters` a scenario declares (a short name for one or
//! more YAML paths of the scenario document), the `--set NAME=VALUES` arguments that
//! give them values (a declared name, or a literal path such as
//! `spec.cluster.nodePools[0].count`), and applying one grid point's values to the
//! document before it is validated.
//!
//! ```yaml
//! spec:
//!   parameters:
//!     nodes:
//!       paths:
//!       - spec.cluster.nodePools[0].count   # block style: `[` in a flow list needs quotes
//!       description: worker nodes
//! ```
//!
//! An override keeps the kind of the value it replaces: a string stays a string
//! (`cpu: "4"` set to `8` is `"8"`), a number becomes the number given (or the text,
//! which validation then rejects). Only scalars can be set.

use super::values::{ParamValue, ValuesError, parse_values};
use super::yaml::{Node, Path, Yaml};
use crate::error::{Error, InputError};
use crate::workload::Scenario;

/// A parameter declared in `spec.parameters`.
#[derive(Debug, Clone, PartialEq)]
pub struct Declared {
    /// The short name (`nodes`, `load.peak`).
    pub name: String,
    /// The paths it sets.
    pub paths: Vec<Path>,
    /// `description`.
    pub description: String,
}

/// A swept parameter: a name, the paths it sets and its values, in `--set` order.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// The declared name, or the literal path as given.
    pub name: String,
    /// The paths it sets.
    pub paths: Vec<Path>,
    /// Its values, in order.
    pub values: Vec<ParamValue>,
}

fn err_at(file: &str, text: &str, n: &Node, field: &str, msg: impl Into<String>) -> Error {
    InputError::at(file, n.line, n.column, field, msg)
        .with_source(text)
        .into()
}

/// Reads and checks `spec.parameters` of a scenario document (none without it): each
/// entry is a map with a non-empty `paths` list of paths that exist and point at
/// scalars, and an optional `description`.
pub fn declarations(tree: &Node, file: &str, text: &str) -> Result<Vec<Declared>, Error> {
    let Ok(params) = tree.get(&Path::parse("spec.parameters").unwrap_or(Path(Vec::new()))) else {
        return Ok(Vec::new());
    };
    let Yaml::Map(entries) = &params.value else {
        return Err(err_at(
            file,
            text,
            params,
            "spec.parameters",
            format!(
                "expected a map from parameter names to {{paths: [...]}}, got {}",
                params.value.kind()
            ),
        ));
    };
    let mut out = Vec::with_capacity(entries.len());
    for (name, entry) in entries {
        let field = format!("spec.parameters.{name}");
        let Yaml::Map(fields) = &entry.value else {
            return Err(err_at(
                file,
                text,
                entry,
                &field,
                format!("expected {{paths: [...]}}, got {}", entry.value.kind()),
            ));
        };
        let (mut paths, mut description, mut seen_paths) = (Vec::new(), String::new(), false);
        for (k, v) in fields {
            match (k.as_str(), &v.value) {
                ("paths", Yaml::Seq(items)) => {
                    seen_paths = true;
                    for (i, item) in items.iter().enumerate() {
                        let f = format!("{field}.paths[{i}]");
                        let Yaml::Str(p) = &item.value else {
                            return Err(err_at(file, text, item, &f, "expected a path string"));
                        };
                        let path = Path::parse(p).map_err(|m| err_at(file, text, item, &f, m))?;
                        check_target(tree, &path, "the scenario")
                            .map_err(|m| err_at(file, text, item, &f, m))?;
                        paths.push(path);
                    }
                }
                ("paths", other) => {
                    return Err(err_at(
                        file,
                        text,
                        v,
                        &format!("{field}.paths"),
                        format!("expected a list of paths, got {}", other.kind()),
                    ));
                }
                ("description", Yaml::Str(d)) => description = d.clone(),
                ("description", other) => {
                    return Err(err_at(
                        file,
                        text,
                        v,
                        &format!("{field}.description"),
                        format!("expected a string, got {}", other.kind()),
                    ));
                }
                (other, _) => {
                    return Err(err_at(
                        file,
                        text,
                        v,
                        &format!("{field}.{other}"),
                        format!("unknown field {other:?} (expected paths, description)"),
                    ));
                }
            }
        }
        if !seen_paths || paths.is_empty() {
            return Err(err_at(
                file,
                text,
                entry,
                &field,
                "needs `paths`: a non-empty list of paths in this document",
            ));
        }
        out.push(Declared {
            name: name.clone(),
            paths,
            description,
        });
    }
    Ok(out)
}

/// Checks the `spec.parameters` of scenario text (called when a scenario loads).
pub fn check_declarations(text: &str, file: &str) -> Result<(), Error> {
    let tree = Node::parse(text).map_err(|m| InputError::at(file, 1, 1, "", m))?;
    declarations(&tree, file, text).map(|_| ())
}

/// `Ok` when `path` exists in `tree` (the document of `file`) and holds a scalar.
fn check_target(tree: &Node, path: &Path, file: &str) -> Result<(), String> {
    let n = tree.get(path).map_err(|m| {
        format!(
            "path {path} does not exist in {file} ({}, line {})",
            m.message, m.line
        )
    })?;
    match n.value {
        Yaml::Seq(_) | Yaml::Map(_) => Err(format!(
            "path {path} holds {}; only single values can be set",
            n.value.kind()
        )),
        _ => Ok(()),
    }
}

/// A bad `--set` argument: names which one (its position and text) and the field.
pub fn set_error(position: usize, arg: &str, field: &str, msg: impl std::fmt::Display) -> Error {
    let field = if field.is_empty() {
        String::new()
    } else {
        format!("{field}: ")
    };
    Error::Usage(format!("--set #{position} {arg:?}: {field}{msg}"))
}

/// Resolves the `--set` arguments against the scenario document and its declared
/// parameters.
pub fn resolve(
    sets: &[String],
    tree: &Node,
    file: &str,
    declared: &[Declared],
) -> Result<Vec<Param>, Error> {
    let mut params: Vec<Param> = Vec::with_capacity(sets.len());
    for (i, arg) in sets.iter().enumerate() {
        let pos = i + 1;
        let Some((name, values)) = arg.split_once('=') else {
            return Err(set_error(
                pos,
                arg,
                "",
                "expected NAME=VALUES (e.g. nodes=10..50:5)",
            ));
        };
        let name = name.trim();
        if name.is_empty() {
            return Err(set_error(pos, arg, "", "no parameter name before '='"));
        }
        let paths = match declared.iter().find(|d| d.name == name) {
            Some(d) => d.paths.clone(),
            None => vec![literal_path(pos, arg, name, tree, file, declared)?],
        };
        let values = parse_values(values).map_err(|e: ValuesError| set_error(pos, arg, name, e))?;
        for (j, other) in params.iter().enumerate() {
            if other.name == name {
                return Err(set_error(
                    pos,
                    arg,
                    name,
                    format!("parameter {name} is already set by --set #{}", j + 1),
                ));
            }
            if let Some((a, b)) = other
                .paths
                .iter()
                .flat_map(|a| paths.iter().map(move |b| (a, b)))
                .find(|(a, b)| a.overlaps(b))
            {
                return Err(set_error(
                    pos,
                    arg,
                    name,
                    format!(
                        "path {b} is already set by --set #{} ({}, path {a})",
                        j + 1,
                        other.name
                    ),
                ));
            }
        }
        params.push(Param {
            name: name.to_string(),
            paths,
            values,
        });
    }
    Ok(params)
}

/// A `--set` name that is not declared: a literal path of the document, or an error.
fn literal_path(
    pos: usize,
    arg: &str,
    name: &str,
    tree: &Node,
    file: &str,
    declared: &[Declared],
) -> Result<Path, Error> {
    let looks_like_path = ["spec.", "metadata.", "spec[", "apiVersion", "kind"]
        .iter()
        .any(|p| name.starts_with(p));
    let parsed = Path::parse(name);
    if let Ok(p) = &parsed
        && tree.get(p).is_ok()
    {
        check_target(tree, p, file).map_err(|m| set_error(pos, arg, name, m))?;
        return Ok(p.clone());
    }
    if looks_like_path {
        let msg = match &parsed {
            Ok(p) => check_target(tree, p, file).err().unwrap_or_default(),
            Err(m) => m.clone(),
        };
        return Err(set_error(pos, arg, name, msg));
    }
    let names: Vec<&str> = declared.iter().map(|d| d.name.as_str()).collect();
    let known = if names.is_empty() {
        "the scenario declares no spec.parameters".to_string()
    } else {
        format!("declared parameters: {}", names.join(", "))
    };
    Err(set_error(
        pos,
        arg,
        name,
        format!(
            "unknown parameter {name:?} ({known}; or give a path such as spec.cluster.nodePools[0].count)"
        ),
    ))
}

/// The YAML value an override writes in place of `old`.
fn converted(old: &Yaml, v: &ParamValue) -> Yaml {
    let int = v.text.parse::<i64>().ok();
    match old {
        Yaml::Str(_) => Yaml::Str(v.text.clone()),
        Yaml::Bool(_) if v.text == "true" || v.text == "false" => Yaml::Bool(v.text == "true"),
        Yaml::Float(_) => match v.number {
            Some(f) => Yaml::Float(f),
            None => Yaml::Str(v.text.clone()),
        },
        _ => match (int, v.number) {
            (Some(i), _) => Yaml::Int(i),
            (None, Some(f)) => Yaml::Float(f),
            _ if v.text == "true" || v.text == "false" => Yaml::Bool(v.text == "true"),
            _ => Yaml::Str(v.text.clone()),
        },
    }
}

/// The scenario of one grid point: `choice[i]` is the index of parameter `i`'s value.
/// A value the scenario rejects is reported at the overridden value's place in the
/// scenario file, naming the `--set` values and the underlying field error.
pub fn scenario_at(
    tree: &Node,
    text: &str,
    file: &str,
    base: &std::path::Path,
    params: &[Param],
    choice: &[usize],
) -> Result<Scenario, Error> {
    let mut doc = tree.clone();
    for (p, &c) in params.iter().zip(choice) {
        for path in &p.paths {
            if let Some(n) = doc.get_mut(path) {
                n.value = converted(&n.value, &p.values[c]);
            }
        }
    }
    let new_text = doc
        .to_text()
        .map_err(|m| Error::Internal(format!("re-serializing the scenario: {m}")))?;
    Scenario::from_str(&new_text, file, base.to_path_buf()).map_err(|e| match e {
        Error::Input(ie) => {
            let assigned: Vec<String> = params
                .iter()
                .zip(choice)
                .map(|(p, &c)| format!("{}={}", p.name, p.values[c].text))
                .collect();
            // The parameter whose path the error is about, else the first one.
            let culprit = params.iter().find(|p| {
                p.paths.iter().any(|path| {
                    let s = path.to_string();
                    !ie.field.is_empty() && (ie.field.starts_with(&s) || s.starts_with(&ie.field))
                })
            });
            let at = culprit
                .or(params.first())
                .and_then(|p| p.paths.first())
                .and_then(|path| tree.get(path).ok());
            let (line, column) = at.map(|n| (n.line, n.column)).unwrap_or((1, 1));
            InputError::at(
                file,
                line,
                column,
                &ie.field,
                format!("with --set {}: {}", assigned.join(" --set "), ie.message),
            )
            .with_source(text)
            .into()
        }
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r#"apiVersion: kubetwin.dev/v1alpha1
kind: Scenario
metadata:
  name: p
spec:
  duration: 1m
  parameters:
    nodes:
      paths:
      - spec.cluster.nodePools[0].count
      - spec.cluster.nodePools[1].count
      description: both pools
  cluster:
    nodePools:
    - name: a
      count: 2
      capacity: {cpu: "4", memory: 8Gi}
    - name: b
      count: 1
      capacity: {cpu: "4", memory: 8Gi}
"#;

    fn tree() -> Node {
        Node::parse(DOC).unwrap()
    }

    fn sets(v: &[&str]) -> Result<Vec<Param>, Error> {
        let t = tree();
        let d = declarations(&t, "s.yaml", DOC).unwrap();
        resolve(
            &v.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            &t,
            "s.yaml",
            &d,
        )
    }

    fn msg(r: Result<Vec<Param>, Error>) -> String {
        r.unwrap_err().to_string()
    }

    #[test]
    fn declared_and_literal_names() {
        let p = sets(&["nodes=1..3", "spec.cluster.nodePools[0].capacity.cpu=2,8"]).unwrap();
        assert_eq!(p[0].paths.len(), 2);
        assert_eq!(p[0].values.len(), 3);
        assert_eq!(p[1].name, "spec.cluster.nodePools[0].capacity.cpu");
    }

    #[test]
    fn bad_sets() {
        let m = msg(sets(&["replicas=1,2"]));
        assert!(
            m.contains("--set #1 \"replicas=1,2\": replicas: unknown parameter"),
            "{m}"
        );
        assert!(m.contains("declared parameters: nodes"), "{m}");
        let m = msg(sets(&["spec.cluster.nodePools[5].count=1"]));
        assert!(
            m.contains("does not exist") && m.contains("index 5 is out of range"),
            "{m}"
        );
        let m = msg(sets(&["spec.cluster.nodePools=1"]));
        assert!(m.contains("holds a list"), "{m}");
        let m = msg(sets(&["nodes=10.."]));
        assert!(
            m.contains("nodes: range \"10..\" needs a start and an end"),
            "{m}"
        );
        let m = msg(sets(&["nodes=1", "nodes=2"]));
        assert!(
            m.contains("--set #2") && m.contains("already set by --set #1"),
            "{m}"
        );
        let m = msg(sets(&["nodes=1", "spec.cluster.nodePools[1].count=2"]));
        assert!(m.contains("already set by --set #1 (nodes"), "{m}");
        let m = msg(sets(&["nodes"]));
        assert!(m.contains("expected NAME=VALUES"), "{m}");
    }

    #[test]
    fn bad_declarations_name_file_and_line() {
        let bad = DOC.replace(
            "- spec.cluster.nodePools[1].count",
            "- spec.cluster.nodePools[1].size",
        );
        let t = Node::parse(&bad).unwrap();
        let e = declarations(&t, "s.yaml", &bad).unwrap_err().to_string();
        assert!(e.starts_with("s.yaml:11:"), "{e}");
        assert!(
            e.contains(
                "spec.parameters.nodes.paths[1]: path spec.cluster.nodePools[1].size does not exist"
            ),
            "{e}"
        );
        let bad = DOC.replace("description: both pools", "descr: x");
        let t = Node::parse(&bad).unwrap();
        let e = declarations(&t, "s.yaml", &bad).unwrap_err().to_string();
        assert!(
            e.contains("s.yaml:12:") && e.contains("unknown field \"descr\""),
            "{e}"
        );
    }

    #[test]
    fn overrides_keep_kinds_and_validate() {
        let t = tree();
        let p = sets(&["nodes=3", "spec.cluster.nodePools[0].capacity.cpu=8"]).unwrap();
        let s = scenario_at(&t, DOC, "s.yaml", std::path::Path::new("."), &p, &[0, 0]).unwrap();
        assert_eq!(s.objects.len(), 6);
        let cpu = |s: &Scenario| match &s.objects[0].object {
            crate::api::Object::Node(n) => n.allocatable.cpu_milli,
            _ => 0,
        };
        assert_eq!(cpu(&s), 8000);
        // A value the scenario rejects: reported at the value's line, naming the --set.
        let p = sets(&["nodes=-1"]).unwrap();
        let e = scenario_at(&t, DOC, "s.yaml", std::path::Path::new("."), &p, &[0])
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("s.yaml:16:"), "{e}");
        assert!(
            e.contains("spec.cluster.nodePools[0].count: with --set nodes=-1:"),
            "{e}"
        );
    }

    #[test]
    fn conversion() {
        let v = |t: &str| ParamValue::new(t);
        assert_eq!(
            converted(&Yaml::Str("4".into()), &v("8")),
            Yaml::Str("8".into())
        );
        assert_eq!(converted(&Yaml::Int(4), &v("8")), Yaml::Int(8));
        assert_eq!(converted(&Yaml::Int(4), &v("0.5")), Yaml::Float(0.5));
        assert_eq!(converted(&Yaml::Float(0.1), &v("2")), Yaml::Float(2.0));
        assert_eq!(converted(&Yaml::Bool(false), &v("true")), Yaml::Bool(true));
        assert_eq!(converted(&Yaml::Null, &v("5m")), Yaml::Str("5m".into()));
    }
}

#[cfg(test)]
mod round_trip {
    use super::*;

    /// Every shipped scenario means the same after the tree round trip (what an
    /// override-free grid point loads).
    #[test]
    fn shipped_scenarios_survive_the_tree() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
            .collect();
        files.sort();
        assert!(files.len() > 5);
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            let name = f.display().to_string();
            let a = Scenario::from_str(&text, &name, dir.clone()).unwrap();
            let tree = Node::parse(&text).unwrap();
            let b = scenario_at(&tree, &text, &name, &dir, &[], &[]).unwrap();
            let objs = |s: &Scenario| {
                format!(
                    "{:?}",
                    s.objects.iter().map(|l| &l.object).collect::<Vec<_>>()
                )
            };
            assert_eq!(objs(&a), objs(&b), "{name}");
            let acts = |s: &Scenario| {
                s.actions
                    .iter()
                    .map(|x| (x.at, x.description.clone()))
                    .collect::<Vec<_>>()
            };
            assert_eq!(acts(&a), acts(&b), "{name}");
            assert_eq!(
                format!("{:?}", a.expectations),
                format!("{:?}", b.expectations)
            );
            assert_eq!(
                (a.duration, a.seed, a.sampling_interval),
                (b.duration, b.seed, b.sampling_interval)
            );
        }
    }
}
