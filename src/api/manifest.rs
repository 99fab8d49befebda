//! Loading real Kubernetes manifests: files and directories (`-f`, `-R`), multi-document
//! YAML, `kind: List`. Each document is deserialized into its `k8s-openapi` wire type
//! with `serde-saphyr` (type errors carry line, column and field path), then converted
//! into kubetwin's internal types by [`super::convert`], which applies the API server's
//! defaults and validation. Kinds kubetwin does not model are skipped with a warning
//! naming file and line.

use super::convert::{self, ConvertError};
use super::location;
use super::objects::Object;
use crate::error::{Error, InputError};
use k8s_openapi::api::policy::v1 as policy;
use k8s_openapi::api::scheduling::v1 as scheduling;
use k8s_openapi::api::{apps::v1 as apps, autoscaling::v2 as autoscaling, core::v1 as core};
use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Parser options whose resource budget grows with the input: serde-saphyr's defaults
/// (250,000 nodes, 1,000,000 events, 64 MiB of scalars) refuse a cluster dump of a few
/// thousand pods. The limits stay linear in the text's size, so they still stop
/// alias bombs.
pub fn yaml_options(text: &str) -> serde_saphyr::Options {
    let n = text.len();
    let mut budget = serde_saphyr::Budget::default();
    budget.max_nodes = budget.max_nodes.max(n / 2);
    budget.max_events = budget.max_events.max(n);
    budget.max_total_scalar_bytes = budget.max_total_scalar_bytes.max(n);
    let mut o = serde_saphyr::Options::default();
    o.budget = Some(budget);
    o
}

/// Where an object came from, so later errors (duplicates, actions) can point at it.
#[derive(Debug, Clone)]
pub struct SourceDoc {
    /// File name as given.
    pub file: Arc<str>,
    /// The document's text.
    pub text: Arc<str>,
    /// 1-based line of the document's first line in the file.
    pub first_line: usize,
    /// Index within a `kind: List` document, if the object is a list item.
    pub item: Option<usize>,
}

impl SourceDoc {
    /// An [`InputError`] at `field` (a path relative to the object) in this document;
    /// for a list item the reported field is the full path (`items[7].spec.replicas`).
    pub fn error(&self, field: &str, message: impl Into<String>) -> InputError {
        let full = match self.item {
            Some(i) if field.is_empty() => format!("items[{i}]"),
            Some(i) => format!("items[{i}].{field}"),
            None => field.to_string(),
        };
        let (line, column) = location::locate(&self.text, &full).unwrap_or((1, 1));
        let file_line = self.first_line + line - 1;
        InputError::at(&self.file, file_line, column, &full, message)
            .with_source_lines(&self.text, self.first_line)
    }

    /// The 1-based line in the file where the object starts.
    pub fn line(&self) -> usize {
        match self.item {
            Some(i) => location::locate(&self.text, &format!("items[{i}]"))
                .map(|(l, _)| self.first_line + l - 1)
                .unwrap_or(self.first_line),
            None => self.first_line,
        }
    }
}

impl InputError {
    /// Attaches a document's text as the snippet source, padding it so that line
    /// numbers match the file's.
    pub fn with_source_lines(self, doc: &str, first_line: usize) -> Self {
        let padded = format!("{}{}", "\n".repeat(first_line.saturating_sub(1)), doc);
        self.with_source(&padded)
    }
}

/// A loaded object with its origin.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The converted, defaulted object.
    pub object: Object,
    /// Its source.
    pub source: SourceDoc,
}

/// A non-fatal problem (an unmodelled kind, an ignored field).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// File name.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// What happened.
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: warning: {}", self.file, self.line, self.message)
    }
}

/// The result of loading manifests.
#[derive(Debug, Default)]
pub struct LoadResult {
    /// Objects in file and document order.
    pub objects: Vec<Loaded>,
    /// Warnings in the same order.
    pub warnings: Vec<Warning>,
}

/// Expands `-f` paths: files as given, directories to their `*.yaml`, `*.yml` and
/// `*.json` files in sorted order (recursively with `recursive`, as `kubectl -R`).
pub fn expand_paths(paths: &[PathBuf], recursive: bool) -> Result<Vec<PathBuf>, Error> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| Error::io(p, e))?;
        if meta.is_dir() {
            collect_dir(p, recursive, &mut out)?;
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

fn collect_dir(dir: &Path, recursive: bool, out: &mut Vec<PathBuf>) -> Result<(), Error> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for e in entries {
        if e.is_dir() {
            if recursive {
                collect_dir(&e, recursive, out)?;
            }
        } else if matches!(
            e.extension().and_then(|x| x.to_str()),
            Some("yaml" | "yml" | "json")
        ) {
            out.push(e);
        }
    }
    Ok(())
}

/// Loads every manifest under `paths`.
pub fn load_paths(paths: &[PathBuf], recursive: bool) -> Result<LoadResult, Error> {
    let mut result = LoadResult::default();
    for p in expand_paths(paths, recursive)? {
        let text = std::fs::read_to_string(&p).map_err(|e| Error::io(&p, e))?;
        let part = load_str(&text, &p.display().to_string(), 1)?;
        result.objects.extend(part.objects);
        result.warnings.extend(part.warnings);
    }
    check_duplicates(&result.objects)?;
    Ok(result)
}

/// Rejects two objects of the same kind with the same namespace and name.
pub fn check_duplicates(objects: &[Loaded]) -> Result<(), InputError> {
    let mut seen: BTreeMap<(crate::api::Kind, &str, &str), &SourceDoc> = BTreeMap::new();
    for l in objects {
        let m = l.object.meta();
        if m.name.is_empty() {
            continue;
        }
        let key = (l.object.kind(), m.namespace.as_str(), m.name.as_str());
        if let Some(first) = seen.get(&key) {
            return Err(l.source.error(
                "metadata.name",
                format!(
                    "duplicate {} {:?} in namespace {:?} (first defined at {}:{})",
                    key.0,
                    m.name,
                    m.namespace,
                    first.file,
                    first.line()
                ),
            ));
        }
        seen.insert(key, &l.source);
    }
    Ok(())
}

/// One document of a multi-document YAML stream.
struct Doc<'a> {
    text: &'a str,
    first_line: usize,
}

/// Splits a YAML stream at document markers (`---` and `...` at column 0), which is
/// where YAML itself ends a document, even inside a block scalar.
fn split_documents(text: &str) -> Vec<Doc<'_>> {
    let mut docs = Vec::new();
    let mut start = 0;
    let mut start_line = 1;
    let mut offset = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let l = line.trim_end_matches(['\n', '\r']);
        let is_marker = |m: &str| {
            l.strip_prefix(m)
                .is_some_and(|r| r.is_empty() || r.starts_with([' ', '\t']))
        };
        if is_marker("---") || is_marker("...") {
            docs.push(Doc {
                text: &text[start..offset],
                first_line: start_line,
            });
            // Content after `--- ` on the marker line belongs to the next document.
            let after = if is_marker("---") { 3 } else { line.len() };
            start = offset + after.min(line.len());
            start_line = i + 1;
        }
        offset += line.len();
    }
    docs.push(Doc {
        text: &text[start..],
        first_line: start_line,
    });
    docs.into_iter()
        .filter(|d| {
            d.text
                .lines()
                .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        })
        .collect()
}

#[derive(Deserialize)]
struct Header {
    #[serde(rename = "apiVersion")]
    api_version: Option<String>,
    kind: Option<String>,
}

/// Loads the manifests in one YAML text. `first_line` is the line of `text` in `file`
/// (1 for a whole file; larger for manifests inlined in a scenario).
pub fn load_str(text: &str, file: &str, first_line: usize) -> Result<LoadResult, InputError> {
    let mut result = LoadResult::default();
    let file: Arc<str> = Arc::from(file);
    for doc in split_documents(text) {
        let source = SourceDoc {
            file: file.clone(),
            text: Arc::from(doc.text),
            first_line: first_line + doc.first_line - 1,
            item: None,
        };
        load_document(&source, &mut result)?;
    }
    Ok(result)
}

/// A serde-saphyr error's 1-based (line, column) and its message without the position
/// serde-saphyr appends (kept short; the caller reports the position its own way).
pub fn yaml_error_parts(e: &serde_saphyr::Error) -> (usize, usize, String) {
    let (line, column) = e
        .location()
        .map(|l| (l.line() as usize, l.column() as usize))
        .unwrap_or((1, 1));
    let msg = e.without_snippet().to_string();
    let msg = msg
        .split(" at line ")
        .next()
        .unwrap_or(&msg)
        .trim()
        .to_string();
    (line, column, msg)
}

fn yaml_error(source: &SourceDoc, e: &serde_saphyr::Error, field: &str) -> InputError {
    let (line, column, msg) = yaml_error_parts(e);
    InputError::at(
        &source.file,
        source.first_line + line - 1,
        column,
        field,
        msg,
    )
    .with_source_lines(&source.text, source.first_line)
}

fn load_document(source: &SourceDoc, out: &mut LoadResult) -> Result<(), InputError> {
    let header: Header =
        serde_saphyr::from_str_with_options(&source.text, yaml_options(&source.text)).map_err(
            |e| {
                let mut err = yaml_error(source, &e, "");
                err.message = format!("malformed YAML: {}", err.message);
                err
            },
        )?;
    let (Some(api_version), Some(kind)) = (header.api_version.clone(), header.kind.clone()) else {
        let field = if header.api_version.is_none() {
            "apiVersion"
        } else {
            "kind"
        };
        return Err(source.error(field, format!("missing {field}: not a Kubernetes object")));
    };
    if kind == "List" || kind.ends_with("List") && api_version == "v1" {
        return load_list(source, out);
    }
    match deserialize_kind(&source.text, &api_version, &kind, source)? {
        Typed::Known(wire) => {
            let object = convert_wire(wire, source)?;
            out.objects.push(Loaded {
                object,
                source: source.clone(),
            });
        }
        Typed::Skipped(msg) => out.warnings.push(Warning {
            file: source.file.to_string(),
            line: source.line(),
            message: msg,
        }),
    }
    Ok(())
}

/// A wire object of a modelled kind.
enum Wire {
    Namespace(Box<core::Namespace>),
    Node(Box<core::Node>),
    Pod(Box<core::Pod>),
    ReplicationController(Box<core::ReplicationController>),
    Service(Box<core::Service>),
    ReplicaSet(Box<apps::ReplicaSet>),
    Deployment(Box<apps::Deployment>),
    Hpa(Box<autoscaling::HorizontalPodAutoscaler>),
    Pdb(Box<policy::PodDisruptionBudget>),
    PriorityClass(Box<scheduling::PriorityClass>),
}

enum Typed {
    Known(Wire),
    Skipped(String),
}

/// What a (apiVersion, kind) pair means to kubetwin.
enum KindMatch {
    Modelled,
    WrongVersion(&'static str),
    Unmodelled,
}

fn classify(api_version: &str, kind: &str) -> KindMatch {
    let expected = match kind {
        "Namespace" | "Node" | "Pod" | "ReplicationController" | "Service" => "v1",
        "ReplicaSet" | "Deployment" => "apps/v1",
        "HorizontalPodAutoscaler" => "autoscaling/v2",
        "PodDisruptionBudget" => "policy/v1",
        "PriorityClass" => "scheduling.k8s.io/v1",
        _ => return KindMatch::Unmodelled,
    };
    if api_version == expected {
        KindMatch::Modelled
    } else {
        KindMatch::WrongVersion(expected)
    }
}

/// Deserializes one document (or list item) as the wire type of its kind, recording the
/// field path of a type error.
fn deserialize_kind(
    text: &str,
    api_version: &str,
    kind: &str,
    source: &SourceDoc,
) -> Result<Typed, InputError> {
    match classify(api_version, kind) {
        KindMatch::Unmodelled => {
            return Ok(Typed::Skipped(format!(
                "skipping {api_version}/{kind}: kind not modelled by kubetwin"
            )));
        }
        KindMatch::WrongVersion(expected) => {
            return Err(source.error(
                "apiVersion",
                format!(
                    "unknown apiVersion {api_version:?} for kind {kind} (expected {expected:?})"
                ),
            ));
        }
        KindMatch::Modelled => {}
    }
    let mut path = String::new();
    let result =
        serde_saphyr::with_deserializer_from_str_with_options(text, yaml_options(text), |de| {
            let mut track = serde_path_to_error::Track::new();
            let tracked = serde_path_to_error::Deserializer::new(de, &mut track);
            let r = WireSeed { kind }.deserialize(tracked);
            if r.is_err() {
                path = track.path().to_string();
            }
            r
        });
    match result {
        Ok(w) => Ok(Typed::Known(w)),
        Err(e) => {
            let field = if path == "?" { String::new() } else { path };
            let field = match source.item {
                Some(i) => field
                    .strip_prefix(&format!("items[{i}]."))
                    .unwrap_or(&field)
                    .to_string(),
                None => field,
            };
            Err(yaml_error(source, &e, &field))
        }
    }
}

struct WireSeed<'a> {
    kind: &'a str,
}

impl<'de> DeserializeSeed<'de> for WireSeed<'_> {
    type Value = Wire;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Wire, D::Error> {
        Ok(match self.kind {
            "Namespace" => Wire::Namespace(Box::new(Deserialize::deserialize(d)?)),
            "Node" => Wire::Node(Box::new(Deserialize::deserialize(d)?)),
            "Pod" => Wire::Pod(Box::new(Deserialize::deserialize(d)?)),
            "ReplicationController" => {
                Wire::ReplicationController(Box::new(Deserialize::deserialize(d)?))
            }
            "Service" => Wire::Service(Box::new(Deserialize::deserialize(d)?)),
            "ReplicaSet" => Wire::ReplicaSet(Box::new(Deserialize::deserialize(d)?)),
            "Deployment" => Wire::Deployment(Box::new(Deserialize::deserialize(d)?)),
            "HorizontalPodAutoscaler" => Wire::Hpa(Box::new(Deserialize::deserialize(d)?)),
            "PodDisruptionBudget" => Wire::Pdb(Box::new(Deserialize::deserialize(d)?)),
            "PriorityClass" => Wire::PriorityClass(Box::new(Deserialize::deserialize(d)?)),
            other => {
                return Err(serde::de::Error::custom(format!(
                    "kind {other} not modelled"
                )));
            }
        })
    }
}

/// `kind: List`: items are read one by one, each with the typed seed of its kind, so
/// type errors inside items keep their positions.
fn load_list(source: &SourceDoc, out: &mut LoadResult) -> Result<(), InputError> {
    #[derive(Deserialize)]
    struct ListHeaders {
        #[serde(default)]
        items: Vec<Header>,
    }
    let headers: ListHeaders =
        serde_saphyr::from_str_with_options(&source.text, yaml_options(&source.text))
            .map_err(|e| yaml_error(source, &e, "items"))?;
    // One pass for the items' lines: locating each skipped item separately would
    // re-read the whole document per item (quadratic on a large cluster dump).
    let item_lines = location::list_item_lines(&source.text);
    let mut plan = Vec::new();
    for (i, h) in headers.items.iter().enumerate() {
        let item_src = SourceDoc {
            item: Some(i),
            ..source.clone()
        };
        let (Some(av), Some(k)) = (h.api_version.as_deref(), h.kind.as_deref()) else {
            return Err(item_src.error("kind", "list item without apiVersion and kind"));
        };
        match classify(av, k) {
            KindMatch::Modelled => plan.push(Some(k.to_string())),
            KindMatch::Unmodelled => {
                let line = if item_lines.len() == headers.items.len() {
                    source.first_line + item_lines[i] - 1
                } else {
                    item_src.line()
                };
                out.warnings.push(Warning {
                    file: source.file.to_string(),
                    line,
                    message: format!("skipping {av}/{k}: kind not modelled by kubetwin"),
                });
                plan.push(None);
            }
            KindMatch::WrongVersion(expected) => {
                return Err(item_src.error(
                    "apiVersion",
                    format!("unknown apiVersion {av:?} for kind {k} (expected {expected:?})"),
                ));
            }
        }
    }
    let mut path = String::new();
    let wires = serde_saphyr::with_deserializer_from_str_with_options(
        &source.text,
        yaml_options(&source.text),
        |de| {
            let mut track = serde_path_to_error::Track::new();
            let tracked = serde_path_to_error::Deserializer::new(de, &mut track);
            let r = ListSeed { plan: &plan }.deserialize(tracked);
            if r.is_err() {
                path = track.path().to_string();
            }
            r
        },
    );
    let wires = match wires {
        Ok(w) => w,
        // The field keeps its `items[i].` prefix, naming the item.
        Err(e) => return Err(yaml_error(source, &e, &path)),
    };
    for (i, w) in wires.into_iter().enumerate() {
        if let Some(w) = w {
            let item_src = SourceDoc {
                item: Some(i),
                ..source.clone()
            };
            let object = convert_wire(w, &item_src)?;
            out.objects.push(Loaded {
                object,
                source: item_src,
            });
        }
    }
    Ok(())
}

struct ListSeed<'a> {
    plan: &'a [Option<String>],
}

impl<'de> DeserializeSeed<'de> for ListSeed<'_> {
    type Value = Vec<Option<Wire>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ListSeed<'_> {
    type Value = Vec<Option<Wire>>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a List object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(key) = m.next_key::<String>()? {
            if key == "items" {
                items = m.next_value_seed(ItemsSeed { plan: self.plan })?;
            } else {
                m.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        Ok(items)
    }
}

struct ItemsSeed<'a> {
    plan: &'a [Option<String>],
}

impl<'de> DeserializeSeed<'de> for ItemsSeed<'_> {
    type Value = Vec<Option<Wire>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ItemsSeed<'_> {
    type Value = Vec<Option<Wire>>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of objects")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        for kind in self.plan {
            let item = match kind {
                Some(k) => s.next_element_seed(OptionalWire(Some(k)))?,
                None => s.next_element_seed(OptionalWire(None))?,
            };
            match item {
                Some(w) => out.push(w),
                None => break,
            }
        }
        while s.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(out)
    }
}

struct OptionalWire<'a>(Option<&'a str>);

impl<'de> DeserializeSeed<'de> for OptionalWire<'_> {
    type Value = Option<Wire>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        match self.0 {
            Some(kind) => WireSeed { kind }.deserialize(d).map(Some),
            None => serde::de::IgnoredAny::deserialize(d).map(|_| None),
        }
    }
}

fn convert_wire(w: Wire, source: &SourceDoc) -> Result<Object, InputError> {
    let r: Result<Object, ConvertError> = match w {
        Wire::Namespace(o) => convert::namespace(*o),
        Wire::Node(o) => convert::node(*o),
        Wire::Pod(o) => convert::pod(*o),
        Wire::ReplicationController(o) => convert::replication_controller(*o),
        Wire::Service(o) => convert::service(*o),
        Wire::ReplicaSet(o) => convert::replica_set(*o),
        Wire::Deployment(o) => convert::deployment(*o),
        Wire::Hpa(o) => convert::hpa(*o),
        Wire::Pdb(o) => convert::pdb(*o),
        Wire::PriorityClass(o) => convert::priority_class(*o),
    };
    r.map_err(|e| source.error(&e.field, e.message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_documents_with_lines() {
        let t = "a: 1\n---\nb: 2\n--- # c\n\n---\n# only comment\n...\nc: 3\n";
        let docs = split_documents(t);
        assert_eq!(docs.len(), 3);
        assert_eq!(docs[0].first_line, 1);
        assert_eq!(docs[1].first_line, 2);
        assert_eq!(docs[2].first_line, 8);
        assert!(docs[2].text.contains("c: 3"));
    }
}
