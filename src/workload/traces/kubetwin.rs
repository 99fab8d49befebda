//! kubetwin's own trace format: timed `create`, `delete`, `scale` and `load` events, as
//! CSV (a header row, then one event per row) or JSON lines (one object per line), read
//! one row at a time. `docs/traces.md` is the reference: columns, time syntax, object
//! references, inline manifests and manifest files.

use super::source::{RawEvent, RawIter, RowError, TraceConfig, parse_time};
use crate::api::Kind;
use crate::api::manifest::{self, Loaded};
use crate::error::{Error, InputError};
use crate::workload::scenario::Action;
use serde::Deserialize;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

/// The columns of the CSV form (`time` and `event` are required).
pub const COLUMNS: [&str; 7] = [
    "time",
    "event",
    "namespace",
    "object",
    "replicas",
    "rps",
    "manifest",
];

/// One event as written, before validation.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Row {
    time: Option<serde_json::Value>,
    event: Option<String>,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    object: Option<String>,
    #[serde(default)]
    replicas: Option<serde_json::Value>,
    #[serde(default)]
    rps: Option<serde_json::Value>,
    #[serde(default)]
    manifest: Option<serde_json::Value>,
}

/// Opens a kubetwin trace: `.csv` is CSV, anything else JSON lines.
pub fn read(cfg: &TraceConfig) -> Result<RawIter, Error> {
    let f = File::open(&cfg.path).map_err(|e| Error::io(&cfg.path, e))?;
    let base = cfg.path.parent().map(Path::to_path_buf).unwrap_or_default();
    let file = cfg.display.clone();
    let csv = cfg
        .path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    if csv {
        Ok(Box::new(CsvRows::new(BufReader::new(f), file, base)?))
    } else {
        Ok(Box::new(JsonRows {
            lines: BufReader::new(f),
            buf: String::new(),
            line: 0,
            file,
            base,
        }))
    }
}

/// The CSV form, read lazily.
pub struct CsvRows<R: std::io::Read> {
    rows: csv::Reader<R>,
    header: Vec<String>,
    record: csv::StringRecord,
    file: String,
    base: PathBuf,
}

impl<R: std::io::Read> CsvRows<R> {
    /// Reads the header.
    pub fn new(r: R, file: String, base: PathBuf) -> Result<Self, Error> {
        let mut rows = csv::ReaderBuilder::new().flexible(false).from_reader(r);
        let header: Vec<String> = rows
            .headers()
            .map_err(|e| InputError::at(&file, 1, 1, "", format!("unreadable header: {e}")))?
            .iter()
            .map(|h| h.trim().to_string())
            .collect();
        for (i, h) in header.iter().enumerate() {
            if !COLUMNS.contains(&h.as_str()) {
                return Err(InputError::at(
                    &file,
                    1,
                    col_of(&header, i),
                    "",
                    format!("unknown column `{h}` (columns: {})", COLUMNS.join(",")),
                )
                .into());
            }
        }
        for need in ["time", "event"] {
            if !header.iter().any(|h| h == need) {
                return Err(InputError::at(
                    &file,
                    1,
                    1,
                    "",
                    format!("missing column `{need}` (header: {})", header.join(",")),
                )
                .into());
            }
        }
        Ok(CsvRows {
            rows,
            header,
            record: csv::StringRecord::new(),
            file,
            base,
        })
    }
}

/// The 1-based column where field `i` starts (fields as written, unquoted).
fn col_of<S: AsRef<str>>(fields: &[S], i: usize) -> usize {
    1 + fields[..i]
        .iter()
        .map(|f| f.as_ref().chars().count() + 1)
        .sum::<usize>()
}

impl<R: std::io::Read> Iterator for CsvRows<R> {
    type Item = Result<RawEvent, RowError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let line = self.rows.position().line() as usize;
            match self.rows.read_record(&mut self.record) {
                Ok(false) => return None,
                Ok(true) => {}
                Err(e) => {
                    let (line, fatal) = match e.kind() {
                        csv::ErrorKind::Io(_) => (line, true),
                        _ => (e.position().map_or(line, |p| p.line() as usize), false),
                    };
                    let msg = match e.kind() {
                        csv::ErrorKind::UnequalLengths {
                            expected_len, len, ..
                        } => format!("row has {len} fields, the header {expected_len}"),
                        _ => format!("unreadable row: {e}"),
                    };
                    let err = InputError::at(&self.file, line, 1, "", msg);
                    return Some(Err(RowError { error: err, fatal }));
                }
            }
            let line = self.record.position().map_or(line, |p| p.line() as usize);
            if self.record.iter().all(|f| f.trim().is_empty()) {
                continue;
            }
            let fields: Vec<&str> = self.record.iter().collect();
            let get = |name: &str| -> (Option<String>, usize) {
                match self.header.iter().position(|h| h == name) {
                    Some(i) => {
                        let v = fields[i].trim();
                        ((!v.is_empty()).then(|| v.to_string()), col_of(&fields, i))
                    }
                    None => (None, 1),
                }
            };
            let mut cols = Columns::default();
            let mut row = Row::default();
            let (v, c) = get("time");
            row.time = v.map(serde_json::Value::String);
            cols.time = c;
            let (v, c) = get("event");
            row.event = v;
            cols.event = c;
            let (v, c) = get("namespace");
            row.namespace = v;
            cols.namespace = c;
            let (v, c) = get("object");
            row.object = v;
            cols.object = c;
            let (v, c) = get("replicas");
            row.replicas = v.map(serde_json::Value::String);
            cols.replicas = c;
            let (v, c) = get("rps");
            row.rps = v.map(serde_json::Value::String);
            cols.rps = c;
            let (v, c) = get("manifest");
            row.manifest = v.map(serde_json::Value::String);
            cols.manifest = c;
            return Some(event(row, &cols, &self.file, line, &self.base).map_err(RowError::row));
        }
    }
}

/// Columns of each field on the row (JSON lines: all 1).
#[derive(Debug)]
struct Columns {
    time: usize,
    event: usize,
    namespace: usize,
    object: usize,
    replicas: usize,
    rps: usize,
    manifest: usize,
}

impl Default for Columns {
    fn default() -> Self {
        Columns {
            time: 1,
            event: 1,
            namespace: 1,
            object: 1,
            replicas: 1,
            rps: 1,
            manifest: 1,
        }
    }
}

/// The JSON-lines form, read lazily.
pub struct JsonRows<R: BufRead> {
    lines: R,
    buf: String,
    line: usize,
    file: String,
    base: PathBuf,
}

impl<R: BufRead> Iterator for JsonRows<R> {
    type Item = Result<RawEvent, RowError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            self.buf.clear();
            self.line += 1;
            match self.lines.read_line(&mut self.buf) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => {
                    return Some(Err(RowError::fatal(InputError::at(
                        &self.file,
                        self.line,
                        1,
                        "",
                        format!("unreadable line: {e}"),
                    ))));
                }
            }
            let text = self.buf.trim();
            if text.is_empty() || text.starts_with('#') {
                continue;
            }
            let row: Row = match serde_json::from_str(text) {
                Ok(r) => r,
                Err(e) => {
                    let msg = e.to_string();
                    let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
                    return Some(Err(RowError::row(InputError::at(
                        &self.file,
                        self.line,
                        e.column(),
                        "",
                        format!("malformed event: {msg}"),
                    ))));
                }
            };
            return Some(
                event(row, &Columns::default(), &self.file, self.line, &self.base)
                    .map_err(RowError::row),
            );
        }
    }
}

fn scalar(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.trim().to_string(),
        other => other.to_string(),
    }
}

/// Validates one row into an event.
fn event(
    row: Row,
    cols: &Columns,
    file: &str,
    line: usize,
    base: &Path,
) -> Result<RawEvent, InputError> {
    let err = |col: usize, field: &str, msg: String| InputError::at(file, line, col, field, msg);
    let time = match &row.time {
        Some(t) => parse_time(&scalar(t)).map_err(|m| err(cols.time, "time", m))?,
        None => return Err(err(cols.time, "time", "missing time".into())),
    };
    let Some(ev) = row.event.as_deref() else {
        return Err(err(cols.event, "event", "missing event".into()));
    };
    let ns = row.namespace.clone().unwrap_or_else(|| "default".into());
    let object_ref = |kinds: &[Kind]| -> Result<(Kind, String, String), InputError> {
        let Some(o) = row.object.as_deref() else {
            return Err(err(
                cols.object,
                "object",
                format!("a {ev} event needs `object` (KIND/NAME, e.g. deployment/web)"),
            ));
        };
        let Some((k, name)) = o.split_once('/') else {
            return Err(err(
                cols.object,
                "object",
                format!("expected KIND/NAME (e.g. deployment/web), got {o:?}"),
            ));
        };
        let kind = Kind::from_kubectl(k)
            .filter(|k| kinds.is_empty() || kinds.contains(k))
            .ok_or_else(|| {
                err(
                    cols.object,
                    "object",
                    format!("unsupported kind {k:?} for a {ev} event"),
                )
            })?;
        if name.is_empty() {
            return Err(err(cols.object, "object", "empty object name".into()));
        }
        let ns = if kind.namespaced() {
            ns.clone()
        } else {
            String::new()
        };
        Ok((kind, ns, name.to_string()))
    };
    let (action, description) = match ev {
        "create" => {
            let Some(m) = &row.manifest else {
                return Err(err(
                    cols.manifest,
                    "manifest",
                    "a create event needs `manifest` (inline object or a file path)".into(),
                ));
            };
            let objs = manifest_objects(m, file, line, base)
                .map_err(|e| relocate(e, file, line, cols.manifest))?;
            let mut names = Vec::new();
            for l in &objs {
                let md = l.object.meta();
                if row.namespace.is_some() && l.object.kind().namespaced() && md.namespace != ns {
                    return Err(err(
                        cols.namespace,
                        "namespace",
                        format!(
                            "namespace {ns:?} differs from the manifest's {:?}",
                            md.namespace
                        ),
                    ));
                }
                names.push(format!("{}/{}", short(l.object.kind()), md.name));
            }
            (
                Action::Apply(objs),
                format!("trace: create {}", names.join(" ")),
            )
        }
        "delete" => {
            let (kind, namespace, name) = object_ref(&[])?;
            let d = format!("trace: delete {}/{name}", short(kind));
            (
                Action::Delete {
                    kind,
                    namespace,
                    name,
                },
                d,
            )
        }
        "scale" => {
            let (kind, namespace, name) = object_ref(&[
                Kind::Deployment,
                Kind::ReplicaSet,
                Kind::ReplicationController,
            ])?;
            let Some(r) = &row.replicas else {
                return Err(err(
                    cols.replicas,
                    "replicas",
                    "a scale event needs `replicas`".into(),
                ));
            };
            let r = scalar(r);
            let replicas: i32 = r.parse().ok().filter(|v| *v >= 0).ok_or_else(|| {
                err(
                    cols.replicas,
                    "replicas",
                    format!("expected a replica count >= 0, got {r:?}"),
                )
            })?;
            let d = format!("trace: scale {}/{name} --replicas={replicas}", short(kind));
            (
                Action::Scale {
                    kind,
                    namespace,
                    name,
                    replicas,
                },
                d,
            )
        }
        "load" => {
            let Some(name) = row.object.clone() else {
                return Err(err(
                    cols.object,
                    "object",
                    "a load event needs `object`: the spec.load entry's name".into(),
                ));
            };
            let Some(r) = &row.rps else {
                return Err(err(cols.rps, "rps", "a load event needs `rps`".into()));
            };
            let r = scalar(r);
            let rps: f64 = r
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite() && *v >= 0.0)
                .ok_or_else(|| {
                    err(
                        cols.rps,
                        "rps",
                        format!("expected requests per second >= 0, got {r:?}"),
                    )
                })?;
            let d = format!("trace: load {name} {rps} rps");
            (Action::SetLoad { name, rps }, d)
        }
        other => {
            return Err(err(
                cols.event,
                "event",
                format!("unknown event {other:?} (create, delete, scale, load)"),
            ));
        }
    };
    Ok(RawEvent {
        time,
        action,
        description,
        line,
        column: 1,
    })
}

/// kubectl's short kind names, for descriptions.
fn short(k: Kind) -> &'static str {
    match k {
        Kind::Deployment => "deployment",
        Kind::ReplicaSet => "rs",
        Kind::ReplicationController => "rc",
        Kind::Pod => "pod",
        Kind::Service => "svc",
        Kind::Node => "node",
        Kind::Namespace => "ns",
        Kind::HorizontalPodAutoscaler => "hpa",
        Kind::PodDisruptionBudget => "pdb",
        Kind::PriorityClass => "pc",
    }
}

/// Errors inside an inline manifest keep its message but point at the trace row.
fn relocate(e: Error, file: &str, line: usize, col: usize) -> InputError {
    match e {
        Error::Input(ie) if ie.file == file => InputError::at(
            file,
            line,
            col,
            format!("manifest.{}", ie.field).trim_end_matches('.'),
            ie.message,
        ),
        other => InputError::at(file, line, col, "manifest", other.to_string()),
    }
}

/// The objects of an inline manifest (a JSON object, or YAML/JSON text starting with
/// `{` or `apiVersion`) or of a manifest file (a path relative to the trace's folder).
fn manifest_objects(
    m: &serde_json::Value,
    file: &str,
    line: usize,
    base: &Path,
) -> Result<Vec<Loaded>, Error> {
    let result = match m {
        serde_json::Value::Object(_) => {
            let text = m.to_string();
            manifest::load_str(&text, file, line)?
        }
        serde_json::Value::String(s)
            if s.trim_start().starts_with('{') || s.contains("apiVersion:") =>
        {
            manifest::load_str(s, file, line)?
        }
        serde_json::Value::String(p) => {
            let path = base.join(p);
            if !path.is_file() {
                return Err(InputError::at(
                    file,
                    line,
                    1,
                    "manifest",
                    format!("no such manifest file: {}", path.display()),
                )
                .into());
            }
            manifest::load_paths(&[path], false)?
        }
        _ => {
            return Err(InputError::at(
                file,
                line,
                1,
                "manifest",
                "expected an object or a file path".to_string(),
            )
            .into());
        }
    };
    if result.objects.is_empty() {
        return Err(InputError::at(
            file,
            line,
            1,
            "manifest",
            "the manifest holds no object kubetwin models".to_string(),
        )
        .into());
    }
    Ok(result.objects)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::traces::source::{TraceOptions, Windowed};
    use std::collections::BTreeSet;
    use std::sync::Arc;

    const DEPLOY: &str = r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","labels":{"app":"web"}},"spec":{"replicas":1,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"nginx"}]}}}}"#;

    fn csv_rows(text: &str) -> Vec<Result<RawEvent, RowError>> {
        CsvRows::new(text.as_bytes(), "t.csv".into(), PathBuf::new())
            .unwrap()
            .collect()
    }

    fn windowed(text: &str, opts: TraceOptions) -> Windowed {
        let rows = CsvRows::new(
            std::io::Cursor::new(text.as_bytes().to_vec()),
            "t.csv".into(),
            PathBuf::new(),
        )
        .unwrap();
        Windowed::new(
            Box::new(rows),
            "t.csv".into(),
            opts,
            Arc::new(BTreeSet::new()),
        )
    }

    fn create_row(t: &str) -> String {
        format!("{t},create,,,,,\"{}\"\n", DEPLOY.replace('"', "\"\""))
    }

    #[test]
    fn csv_events_parse() {
        let text = format!(
            "time,event,namespace,object,replicas,rps,manifest\n{}30s,scale,,deployment/web,3,,\n1m,load,,web,,120,\n2m,delete,,deployment/web,,,\n",
            create_row("0")
        );
        let rows: Vec<RawEvent> = csv_rows(&text).into_iter().map(|r| r.unwrap()).collect();
        assert_eq!(rows.len(), 4);
        assert!(matches!(rows[0].action, Action::Apply(ref o) if o.len() == 1));
        assert!(matches!(rows[1].action, Action::Scale { replicas: 3, .. }));
        assert!(matches!(rows[2].action, Action::SetLoad { rps, .. } if rps == 120.0));
        assert!(matches!(rows[3].action, Action::Delete { .. }));
        assert_eq!(rows[3].line, 5);
        assert_eq!(rows[1].time.as_secs(), 30);
    }

    #[test]
    fn bad_rows_name_line_and_column() {
        let text = "time,event,object,replicas\n10s,scale,deployment/web,many\n";
        let e = csv_rows(text).remove(0).unwrap_err();
        let s = e.error.to_string();
        assert!(s.starts_with("t.csv:2:26: replicas:"), "{s}");
        let text = "time,event,object\nsoon,delete,pod/x\n";
        let s = csv_rows(text).remove(0).unwrap_err().error.to_string();
        assert!(s.starts_with("t.csv:2:1: time:"), "{s}");
        let text = "time,event,object\n1,delete,pod/x,extra\n";
        let s = csv_rows(text).remove(0).unwrap_err().error.to_string();
        assert!(s.contains("t.csv:2:1") && s.contains("fields"), "{s}");
        let text = "time,event,object\n1,explode,pod/x\n";
        let s = csv_rows(text).remove(0).unwrap_err().error.to_string();
        assert!(s.contains("t.csv:2:3: event: unknown event"), "{s}");
    }

    #[test]
    fn unknown_columns_are_refused() {
        let e = CsvRows::new(
            "time,event,colour\n".as_bytes(),
            "t.csv".into(),
            PathBuf::new(),
        )
        .err()
        .unwrap();
        assert!(
            e.to_string()
                .contains("t.csv:1:12: unknown column `colour`"),
            "{e}"
        );
    }

    #[test]
    fn out_of_order_and_unknown_objects_fail_with_the_line() {
        let text = format!(
            "time,event,namespace,object,replicas,rps,manifest\n{}5s,delete,,deployment/web,,,\n",
            create_row("10s")
        );
        let e = windowed(&text, TraceOptions::default())
            .find_map(|r| r.err())
            .unwrap();
        assert!(
            e.to_string()
                .contains("t.csv:3:1: time: event out of time order"),
            "{e}"
        );
        let text = "time,event,object,replicas\n5s,scale,deployment/ghost,2\n";
        let e = windowed(text, TraceOptions::default())
            .find_map(|r| r.err())
            .unwrap();
        assert!(e.to_string().contains("t.csv:2:1: unknown object"), "{e}");
    }

    #[test]
    fn skip_bad_rows_counts_them() {
        let text = format!(
            "time,event,namespace,object,replicas,rps,manifest\n{}x,scale,,deployment/web,1,,\n20s,scale,,deployment/web,2,,\n",
            create_row("0")
        );
        let opts = TraceOptions {
            skip_bad_rows: true,
            ..TraceOptions::default()
        };
        let mut w = windowed(&text, opts);
        let ok: Vec<_> = w.by_ref().map(|r| r.unwrap()).collect();
        assert_eq!(ok.len(), 2);
        assert_eq!(w.stats().skipped_rows, 1);
    }

    #[test]
    fn window_scale_and_filters() {
        let text = format!(
            "time,event,namespace,object,replicas,rps,manifest\n{}100s,scale,,deployment/web,2,,\n200s,scale,,deployment/web,3,,\n300s,scale,,deployment/web,4,,\n",
            create_row("0")
        );
        let opts = TraceOptions {
            from: crate::engine::SimDuration::from_secs(100),
            until: Some(crate::engine::SimDuration::from_secs(300)),
            time_scale: 0.5,
            ..TraceOptions::default()
        };
        let acts: Vec<_> = windowed(&text, opts).map(|r| r.unwrap()).collect();
        let at: Vec<u64> = acts.iter().map(|a| a.at.as_secs()).collect();
        assert_eq!(at, vec![0, 0, 50]);
        let opts = TraceOptions {
            namespaces: vec!["other".into()],
            ..TraceOptions::default()
        };
        // The Deployment is filtered out, and so are the events on it.
        assert_eq!(windowed(&text, opts).filter(|r| r.is_ok()).count(), 0);
        let opts = TraceOptions {
            selector: Some(crate::api::selector::LabelSelector::parse("app=web").unwrap()),
            ..TraceOptions::default()
        };
        assert_eq!(windowed(&text, opts).filter(|r| r.is_ok()).count(), 4);
    }

    #[test]
    fn json_lines_parse() {
        let text = format!(
            "{{\"time\": 0, \"event\": \"create\", \"manifest\": {DEPLOY}}}\n\n{{\"time\": \"1m\", \"event\": \"scale\", \"object\": \"deploy/web\", \"replicas\": 2}}\n{{\"time\": 1, \"event\": \"scale\", \"colour\": 1}}\n"
        );
        let rows: Vec<_> = JsonRows {
            lines: text.as_bytes(),
            buf: String::new(),
            line: 0,
            file: "t.jsonl".into(),
            base: PathBuf::new(),
        }
        .collect();
        assert!(rows[0].is_ok());
        assert_eq!(rows[1].as_ref().unwrap().line, 3);
        let e = rows[2].as_ref().unwrap_err().error.to_string();
        assert!(e.starts_with("t.jsonl:4:") && e.contains("colour"), "{e}");
    }

    /// A reader over a long generated trace holds one row at a time: the rows read from
    /// the source stay within the CSV reader's buffer ahead of the rows consumed, and the
    /// only state that grows is the set of live objects (one here).
    #[test]
    fn reading_is_streaming() {
        use std::cell::Cell;
        use std::rc::Rc;
        struct Gen(Rc<Cell<u64>>);
        impl std::io::Read for Gen {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let i = self.0.get();
                if i >= 200_000 {
                    return Ok(0);
                }
                self.0.set(i + 1);
                let row = if i == 0 {
                    "time,event,namespace,object,replicas,rps,manifest\n".to_string()
                } else if i == 1 {
                    create_row("0")
                } else {
                    format!("{i},scale,,deployment/web,{},,\n", i % 7)
                };
                let n = row.len().min(buf.len());
                assert_eq!(n, row.len(), "test rows fit the buffer");
                buf[..n].copy_from_slice(row.as_bytes());
                Ok(n)
            }
        }
        let produced = Rc::new(Cell::new(0));
        let rows = CsvRows::new(Gen(produced.clone()), "gen.csv".into(), PathBuf::new()).unwrap();
        let mut w = Windowed::new(
            Box::new(rows),
            "gen.csv".into(),
            TraceOptions::default(),
            Arc::new(BTreeSet::new()),
        );
        let (mut n, mut max_ahead, mut max_tracked) = (0u64, 0u64, 0);
        while let Some(r) = w.next() {
            r.unwrap();
            n += 1;
            // Rows pulled from the source but not yet consumed (header + consumed = n + 1).
            max_ahead = max_ahead.max(produced.get() - (n + 1));
            max_tracked = max_tracked.max(w.tracked());
        }
        assert_eq!(n, 199_999);
        assert!(max_ahead <= 1, "read {max_ahead} rows ahead");
        assert_eq!(max_tracked, 1);
    }
}
