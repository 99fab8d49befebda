//! Building a run's recording header: the scenario text, the files it references and
//! the options of `kubetwin run`.
//!
//! The referenced files are found by walking the scenario document: every string value
//! that, read as a path relative to the scenario's directory, names an existing file is
//! an input (a directory counts under a `path` key, as `spec.manifests[].path` may name
//! one: all files below it). This covers manifests, load CSVs, scheduler configurations
//! and trace files without a list of fields to keep in step with the scenario format.
//! Absolute paths count only when they name a file, and are always external.

use super::header::{EMBED_LIMIT, FORMAT, Header, Input, RecordedOptions, ScenarioSource, sha256};
use crate::error::Error;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

/// Longest string value considered as a path.
const MAX_PATH_LEN: usize = 4096;

/// Where a scenario came from.
#[derive(Debug, Clone)]
pub struct ScenarioOrigin<'a> {
    /// The path given on the command line (`None`: the embedded default).
    pub path: Option<&'a Path>,
    /// The file name as shown in messages.
    pub file: &'a str,
    /// The scenario text.
    pub text: &'a str,
    /// The directory its relative paths resolve against.
    pub base: &'a Path,
}

/// A scenario loaded for a recorded run, with the text and directory it came from.
#[derive(Debug, Clone)]
pub struct LoadedScenario {
    /// The validated scenario.
    pub scenario: crate::workload::Scenario,
    /// The path given (`None`: the embedded default).
    pub path: Option<PathBuf>,
    /// The file as named in messages.
    pub file: String,
    /// The text.
    pub text: String,
    /// The directory its relative paths resolve against.
    pub base: PathBuf,
}

impl LoadedScenario {
    /// Loads a scenario file (as `Scenario::load` does), or the embedded default.
    pub fn load(path: Option<&Path>) -> Result<LoadedScenario, Error> {
        use crate::workload::scenario::{DEFAULT_SCENARIO, DEFAULT_SCENARIO_FILE};
        let (text, file, base) = match path {
            Some(p) => (
                std::fs::read_to_string(p).map_err(|e| Error::io(p, e))?,
                p.display().to_string(),
                p.parent().map(Path::to_path_buf).unwrap_or_default(),
            ),
            None => (
                DEFAULT_SCENARIO.to_string(),
                DEFAULT_SCENARIO_FILE.to_string(),
                PathBuf::from("scenarios"),
            ),
        };
        let scenario = crate::workload::Scenario::from_str(&text, &file, base.clone())?;
        Ok(LoadedScenario {
            scenario,
            path: path.map(Path::to_path_buf),
            file,
            text,
            base,
        })
    }

    /// The recording header of a run of this scenario with `seed` and the options.
    pub fn header(
        &self,
        seed: u64,
        scheduler_config: Option<&Path>,
        explain: &[String],
        explain_labels: &[String],
    ) -> Result<Header, Error> {
        header(
            &ScenarioOrigin {
                path: self.path.as_deref(),
                file: &self.file,
                text: &self.text,
                base: &self.base,
            },
            &self.scenario.name,
            seed,
            scheduler_config,
            explain,
            explain_labels,
        )
    }
}

/// Builds the header of a run of `origin` with `seed`, the `--scheduler-config` file and
/// the `--explain` values.
pub fn header(
    origin: &ScenarioOrigin<'_>,
    name: &str,
    seed: u64,
    scheduler_config: Option<&Path>,
    explain: &[String],
    explain_labels: &[String],
) -> Result<Header, Error> {
    let (file, dir) = match origin.path {
        Some(p) if p.is_relative() => (
            slash_path(p),
            Some(
                p.parent()
                    .map(slash_path)
                    .filter(|d| !d.is_empty())
                    .unwrap_or_else(|| ".".into()),
            ),
        ),
        Some(p) => (
            p.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            None,
        ),
        None => (origin.file.to_string(), Some(slash_path(origin.base))),
    };
    let scheduler_config = match scheduler_config {
        Some(p) => {
            let bytes = std::fs::read(p).map_err(|e| Error::io(p, e))?;
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "scheduler-config.yaml".into());
            let text = String::from_utf8(bytes.clone())
                .map_err(|_| Error::Usage(format!("{}: not UTF-8 text", p.display())))?;
            Some(Input {
                path: name,
                size: bytes.len() as u64,
                sha256: sha256(&bytes),
                text: Some(text),
            })
        }
        None => None,
    };
    Ok(Header {
        kubetwin_recording: FORMAT,
        kubetwin_version: env!("CARGO_PKG_VERSION").to_string(),
        scenario: ScenarioSource {
            name: name.to_string(),
            file,
            dir,
            sha256: sha256(origin.text.as_bytes()),
            text: origin.text.to_string(),
        },
        seed,
        options: RecordedOptions {
            scheduler_config,
            explain: explain.to_vec(),
            explain_labels: explain_labels.to_vec(),
        },
        inputs: inputs(origin.text, origin.base)?,
        hash: String::new(),
    })
}

/// The files a scenario text references, relative to `base`, sorted by path.
pub fn inputs(text: &str, base: &Path) -> Result<Vec<Input>, Error> {
    // The scenario was validated before this runs; a text that does not parse
    // references nothing we can find.
    let Ok(doc) = serde_saphyr::from_str::<Value>(text) else {
        return Ok(Vec::new());
    };
    let mut found: BTreeMap<String, PathBuf> = BTreeMap::new();
    walk(&doc, "", base, &mut found);
    let mut out = Vec::with_capacity(found.len());
    for (rel, full) in found {
        out.push(input(&rel, &full)?);
    }
    Ok(out)
}

fn walk(v: &Value, key: &str, base: &Path, found: &mut BTreeMap<String, PathBuf>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                walk(v, k, base, found);
            }
        }
        Value::Array(a) => {
            for v in a {
                walk(v, key, base, found);
            }
        }
        Value::String(s) => consider(s, key, base, found),
        _ => {}
    }
}

fn consider(s: &str, key: &str, base: &Path, found: &mut BTreeMap<String, PathBuf>) {
    if s.is_empty() || s.len() > MAX_PATH_LEN || s.contains('\n') {
        return;
    }
    let p = Path::new(s);
    if p.is_absolute() {
        if p.is_file() {
            found.insert(s.to_string(), p.to_path_buf());
        }
        return;
    }
    let Some(rel) = normalize(p) else { return };
    let full = base.join(&rel);
    if full.is_file() {
        found.insert(slash_path(&rel), full);
    } else if key == "path" && full.is_dir() {
        let mut files = Vec::new();
        list_files(&full, &mut files);
        for f in files {
            if let Ok(sub) = f.strip_prefix(&full) {
                found.insert(slash_path(&rel.join(sub)), f);
            }
        }
    }
}

/// Regular files below `dir` (not hidden), sorted.
fn list_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd
        .filter_map(|e| e.ok())
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| e.path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            list_files(&p, out);
        } else if p.is_file() {
            out.push(p);
        }
    }
}

fn input(rel: &str, full: &Path) -> Result<Input, Error> {
    let size = std::fs::metadata(full)
        .map_err(|e| Error::io(full, e))?
        .len();
    let external = Path::new(rel).is_absolute() || size > EMBED_LIMIT;
    if external {
        return Ok(Input {
            path: rel.to_string(),
            size,
            sha256: hash_file(full)?,
            text: None,
        });
    }
    let bytes = std::fs::read(full).map_err(|e| Error::io(full, e))?;
    let sha = sha256(&bytes);
    Ok(Input {
        path: rel.to_string(),
        size,
        sha256: sha,
        text: String::from_utf8(bytes).ok(),
    })
}

/// `sha256:<hex>` of a file, read in chunks (traces may be large).
pub fn hash_file(p: &Path) -> Result<String, Error> {
    use sha2::Digest as _;
    use std::io::Read as _;
    let mut f = std::fs::File::open(p).map_err(|e| Error::io(p, e))?;
    let mut h = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).map_err(|e| Error::io(p, e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(super::header::format_digest(h.finalize().as_slice()))
}

/// A relative path with `.` and inner `..` resolved lexically (leading `..` kept);
/// `None` for an absolute path or one that resolves to nothing.
pub fn normalize(p: &Path) -> Option<PathBuf> {
    let mut parts: Vec<Component<'_>> = Vec::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match parts.last() {
                Some(Component::Normal(_)) => {
                    parts.pop();
                }
                _ => parts.push(c),
            },
            Component::Normal(_) => parts.push(c),
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    if parts.is_empty() {
        return Some(PathBuf::from("."));
    }
    Some(parts.iter().collect())
}

/// A path with `/` separators.
pub fn slash_path(p: &Path) -> String {
    p.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_resolves_dots_and_keeps_leading_parents() {
        assert_eq!(
            normalize(Path::new("./a/../b/c.csv")),
            Some(PathBuf::from("b/c.csv"))
        );
        assert_eq!(
            normalize(Path::new("../../x/y")),
            Some(PathBuf::from("../../x/y"))
        );
        assert_eq!(normalize(Path::new("/etc")), None);
    }

    #[test]
    fn inputs_are_the_referenced_files_only() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("load")).unwrap();
        std::fs::create_dir_all(d.path().join("m/sub")).unwrap();
        std::fs::write(d.path().join("load/rps.csv"), "t,rps\n0,1\n").unwrap();
        std::fs::write(d.path().join("m/a.yaml"), "a").unwrap();
        std::fs::write(d.path().join("m/sub/b.yaml"), "b").unwrap();
        std::fs::write(d.path().join("unused.yaml"), "u").unwrap();
        let text = "spec:\n  manifests:\n  - path: m\n  load:\n  - curve: {csv: {path: ./load/rps.csv}}\n  probe: {path: /, name: load}\n";
        let got: Vec<(String, Option<String>)> = inputs(text, d.path())
            .unwrap()
            .into_iter()
            .map(|i| (i.path, i.text))
            .collect();
        assert_eq!(
            got,
            vec![
                ("load/rps.csv".to_string(), Some("t,rps\n0,1\n".to_string())),
                ("m/a.yaml".to_string(), Some("a".to_string())),
                ("m/sub/b.yaml".to_string(), Some("b".to_string())),
            ]
        );
    }

    #[test]
    fn large_files_are_external() {
        let d = tempfile::tempdir().unwrap();
        let big = vec![b'x'; EMBED_LIMIT as usize + 1];
        std::fs::write(d.path().join("big.csv"), &big).unwrap();
        let i = inputs("trace: big.csv\n", d.path()).unwrap();
        assert_eq!(i.len(), 1);
        assert_eq!(i[0].text, None);
        assert_eq!(i[0].size, EMBED_LIMIT + 1);
        assert_eq!(i[0].sha256, sha256(&big));
    }
}
