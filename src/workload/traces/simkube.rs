//! SimKube traces in their JSON form (`skctl xray` / `msgpack2json -di` output of an
//! `.sktrace`, or SimKube's own JSON test traces): a map with `version` (2), `config`,
//! `events` (`{ts, applied_objs, deleted_objs}` in time order, `ts` in Unix seconds),
//! `index` and `pod_lifecycles`. Each event becomes, at `ts` minus the first event's
//! `ts`, an apply of its applied objects and a delete of each deleted object. Kinds
//! kubetwin does not model are skipped.
//!
//! The file is one JSON document, but only `events` matters and it is read one element
//! at a time: a small scanner walks the top-level map, skips other values, and hands
//! each event's bytes to serde, so memory holds one event, not the trace.

use super::source::{RawEvent, RawIter, RowError, TraceConfig};
use crate::api::Kind;
use crate::api::manifest::load_str;
use crate::engine::SimDuration;
use crate::error::{Error, InputError};
use crate::workload::scenario::Action;
use serde::Deserialize;
use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufReader, Bytes, Read};

#[derive(Deserialize)]
struct Event {
    ts: i64,
    #[serde(default)]
    applied_objs: Vec<serde_json::Value>,
    #[serde(default)]
    deleted_objs: Vec<serde_json::Value>,
}

/// A byte reader (over a `BufReader`) that counts lines and can push one byte back.
#[allow(clippy::unbuffered_bytes)]
struct Scanner<R: Read> {
    bytes: Bytes<R>,
    peeked: Option<u8>,
    line: usize,
    column: usize,
}

impl<R: Read> Scanner<R> {
    fn next(&mut self) -> Result<Option<u8>, std::io::Error> {
        let b = match self.peeked.take() {
            Some(b) => Some(b),
            None => self.bytes.next().transpose()?,
        };
        if b == Some(b'\n') {
            self.line += 1;
            self.column = 0;
        } else if b.is_some() {
            self.column += 1;
        }
        Ok(b)
    }

    fn unread(&mut self, b: u8) {
        // Only non-newline bytes are pushed back.
        self.column -= 1;
        self.peeked = Some(b);
    }

    /// The next byte that is not white space.
    fn skip_ws(&mut self) -> Result<Option<u8>, std::io::Error> {
        loop {
            match self.next()? {
                Some(b) if b.is_ascii_whitespace() => continue,
                other => return Ok(other),
            }
        }
    }

    /// Reads one JSON value whose first byte is `first` into `out` (strings and
    /// brackets matched; scalars up to the next delimiter).
    fn value(&mut self, first: u8, out: &mut Vec<u8>) -> Result<bool, std::io::Error> {
        out.push(first);
        match first {
            b'"' => self.string_rest(out),
            b'{' | b'[' => {
                let mut depth = 1usize;
                while depth > 0 {
                    let Some(b) = self.next()? else {
                        return Ok(false);
                    };
                    out.push(b);
                    match b {
                        b'"' if !self.string_rest(out)? => return Ok(false),
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => depth -= 1,
                        _ => {}
                    }
                }
                Ok(true)
            }
            _ => {
                while let Some(b) = self.next()? {
                    if b == b',' || b == b'}' || b == b']' || b.is_ascii_whitespace() {
                        if b != b'\n' {
                            self.unread(b);
                        }
                        return Ok(true);
                    }
                    out.push(b);
                }
                Ok(true)
            }
        }
    }

    /// The rest of a string after its opening quote.
    fn string_rest(&mut self, out: &mut Vec<u8>) -> Result<bool, std::io::Error> {
        let mut escaped = false;
        while let Some(b) = self.next()? {
            out.push(b);
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// Where the scanner is in the document.
enum State {
    /// Before the `events` array: walking the top-level map.
    Top,
    /// Inside `events`, before an element (`first`: no element read yet).
    Events {
        first: bool,
    },
    Done,
}

struct Reader<R: Read> {
    sc: Scanner<R>,
    file: String,
    state: State,
    t0: Option<i64>,
    last_ts: Option<i64>,
    pending: VecDeque<Result<RawEvent, RowError>>,
    buf: Vec<u8>,
}

/// Opens a SimKube JSON trace.
pub fn read(cfg: &TraceConfig) -> Result<RawIter, Error> {
    let f = File::open(&cfg.path).map_err(|e| Error::io(&cfg.path, e))?;
    Ok(Box::new(Reader::new(
        BufReader::new(f),
        cfg.display.clone(),
    )))
}

impl<R: Read> Reader<R> {
    #[allow(clippy::unbuffered_bytes)] // callers pass a BufReader or a slice
    fn new(r: R, file: String) -> Self {
        Reader {
            sc: Scanner {
                bytes: r.bytes(),
                peeked: None,
                line: 1,
                column: 0,
            },
            file,
            state: State::Top,
            t0: None,
            last_ts: None,
            pending: VecDeque::new(),
            buf: Vec::new(),
        }
    }

    fn fatal(&mut self, msg: impl Into<String>) -> RowError {
        self.state = State::Done;
        RowError::fatal(InputError::at(
            &self.file,
            self.sc.line,
            self.sc.column.max(1),
            "",
            msg,
        ))
    }

    /// Walks the top-level map up to the `events` array.
    fn find_events(&mut self) -> Result<(), RowError> {
        let io = |e: std::io::Error| e.to_string();
        match self.sc.skip_ws().map_err(io).map_err(|m| self.fatal(m))? {
            Some(b'{') => {}
            _ => return Err(self.fatal("not a SimKube JSON trace: expected a JSON object")),
        }
        loop {
            let b = self.sc.skip_ws().map_err(io).map_err(|m| self.fatal(m))?;
            match b {
                Some(b',') => continue,
                Some(b'"') => {}
                Some(b'}') | None => {
                    return Err(self.fatal("not a SimKube trace: no `events` array"));
                }
                Some(_) => return Err(self.fatal("malformed JSON: expected a key")),
            }
            let mut key = Vec::new();
            if !self
                .sc
                .string_rest(&mut key)
                .map_err(io)
                .map_err(|m| self.fatal(m))?
            {
                return Err(self.fatal("truncated JSON"));
            }
            key.pop();
            if self.sc.skip_ws().map_err(io).map_err(|m| self.fatal(m))? != Some(b':') {
                return Err(self.fatal("malformed JSON: expected `:`"));
            }
            let Some(first) = self.sc.skip_ws().map_err(io).map_err(|m| self.fatal(m))? else {
                return Err(self.fatal("truncated JSON"));
            };
            if key == b"events" {
                if first != b'[' {
                    return Err(self.fatal("`events` must be an array"));
                }
                self.state = State::Events { first: true };
                return Ok(());
            }
            let mut v = Vec::new();
            if !self
                .sc
                .value(first, &mut v)
                .map_err(io)
                .map_err(|m| self.fatal(m))?
            {
                return Err(self.fatal("truncated JSON"));
            }
            if key == b"version" {
                let ok = std::str::from_utf8(&v)
                    .ok()
                    .and_then(|s| s.parse::<i64>().ok());
                if !matches!(ok, Some(1 | 2)) {
                    return Err(self.fatal(format!(
                        "unsupported SimKube trace version {} (expected 2)",
                        String::from_utf8_lossy(&v)
                    )));
                }
            }
        }
    }

    /// Reads the next element of `events` into events.
    fn next_event(&mut self) -> Result<bool, RowError> {
        let io = |e: std::io::Error| e.to_string();
        let State::Events { first } = self.state else {
            return Ok(false);
        };
        let mut b = self.sc.skip_ws().map_err(io).map_err(|m| self.fatal(m))?;
        if !first && b == Some(b',') {
            b = self.sc.skip_ws().map_err(io).map_err(|m| self.fatal(m))?;
        }
        let Some(b) = b else {
            return Err(self.fatal("truncated JSON: the events array is not closed"));
        };
        if b == b']' {
            self.state = State::Done;
            return Ok(false);
        }
        self.state = State::Events { first: false };
        let (line, column) = (self.sc.line, self.sc.column);
        self.buf.clear();
        let mut buf = std::mem::take(&mut self.buf);
        let complete = self
            .sc
            .value(b, &mut buf)
            .map_err(io)
            .map_err(|m| self.fatal(m))?;
        if !complete {
            return Err(self.fatal("truncated JSON inside an event"));
        }
        let row_err =
            |msg: String| RowError::row(InputError::at(&self.file, line, column, "", msg));
        let ev: Event = match serde_json::from_slice(&buf) {
            Ok(e) => e,
            Err(e) => {
                self.buf = buf;
                return Err(row_err(format!("malformed event: {e}")));
            }
        };
        self.buf = buf;
        if let Some(l) = self.last_ts
            && ev.ts < l
        {
            return Err(row_err(format!(
                "event out of time order: ts {} is before {l}",
                ev.ts
            )));
        }
        self.last_ts = Some(ev.ts);
        let t0 = *self.t0.get_or_insert(ev.ts);
        let time = SimDuration::from_secs(ev.ts.saturating_sub(t0).max(0) as u64);
        let mut objs = Vec::new();
        for o in &ev.applied_objs {
            let text = o.to_string();
            let r = load_str(&text, &self.file, line).map_err(|e| {
                RowError::row(InputError::at(
                    &self.file,
                    line,
                    column,
                    &format!("applied_objs.{}", e.field),
                    e.message,
                ))
            })?;
            objs.extend(r.objects);
        }
        if !objs.is_empty() {
            let names: Vec<String> = objs
                .iter()
                .map(|l| {
                    format!(
                        "{}/{}",
                        l.object.kind().as_str().to_ascii_lowercase(),
                        l.object.meta().name
                    )
                })
                .collect();
            self.pending.push_back(Ok(RawEvent {
                time,
                action: Action::Apply(objs),
                description: format!("trace: apply {}", names.join(" ")),
                line,
                column,
            }));
        }
        for o in &ev.deleted_objs {
            let api = o.get("apiVersion").and_then(|v| v.as_str()).unwrap_or("");
            let kind_name = o.get("kind").and_then(|v| v.as_str()).unwrap_or("");
            let meta = o.get("metadata");
            let name = meta
                .and_then(|m| m.get("name"))
                .and_then(|v| v.as_str())
                .unwrap_or("");
            let Some(kind) = Kind::ALL.into_iter().find(|k| k.as_str() == kind_name) else {
                continue; // not modelled: its apply was skipped too
            };
            if name.is_empty() {
                return Err(row_err(format!(
                    "a deleted {api} {kind_name} without metadata.name"
                )));
            }
            let namespace = if kind.namespaced() {
                meta.and_then(|m| m.get("namespace"))
                    .and_then(|v| v.as_str())
                    .unwrap_or("default")
                    .to_string()
            } else {
                String::new()
            };
            self.pending.push_back(Ok(RawEvent {
                time,
                description: format!("trace: delete {}/{name}", kind_name.to_ascii_lowercase()),
                action: Action::Delete {
                    kind,
                    namespace,
                    name: name.to_string(),
                },
                line,
                column,
            }));
        }
        Ok(true)
    }
}

impl<R: Read> Iterator for Reader<R> {
    type Item = Result<RawEvent, RowError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(p) = self.pending.pop_front() {
                return Some(p);
            }
            match self.state {
                State::Done => return None,
                State::Top => {
                    if let Err(e) = self.find_events() {
                        return Some(Err(e));
                    }
                }
                State::Events { .. } => match self.next_event() {
                    Ok(true) => {}
                    Ok(false) => return None,
                    Err(e) => return Some(Err(e)),
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEPLOY: &str = r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"dsb"},"spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"nginx"}]}}}}"#;

    fn events(text: &str) -> Vec<Result<RawEvent, RowError>> {
        Reader::new(text.as_bytes(), "t.json".into()).collect()
    }

    #[test]
    fn events_become_applies_and_deletes() {
        let text = format!(
            "{{\"version\": 2, \"config\": {{\"a\": [1, \"]\"]}},\n \"events\": [\n {{\"ts\": 100, \"applied_objs\": [], \"deleted_objs\": []}},\n {{\"ts\": 160, \"applied_objs\": [{DEPLOY}, {{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {{\"name\": \"x\"}}}}], \"deleted_objs\": []}},\n {{\"ts\": 400, \"applied_objs\": [], \"deleted_objs\": [{DEPLOY}]}}\n], \"index\": {{}}}}"
        );
        let evs: Vec<RawEvent> = events(&text).into_iter().map(|r| r.unwrap()).collect();
        assert_eq!(evs.len(), 2);
        assert_eq!(evs[0].time.as_secs(), 60);
        assert_eq!(evs[0].line, 4);
        assert!(matches!(&evs[0].action, Action::Apply(o) if o.len() == 1));
        assert!(
            matches!(&evs[1].action, Action::Delete { kind: Kind::Deployment, namespace, name } if namespace == "dsb" && name == "web")
        );
        assert_eq!(evs[1].time.as_secs(), 300);
    }

    #[test]
    fn bad_input_is_located() {
        let e = events("{\"version\": 3, \"events\": []}");
        assert!(
            e[0].as_ref()
                .unwrap_err()
                .error
                .message
                .contains("version 3")
        );
        let e = events("{\"version\": 2, \"events\": [{\"ts\": 5}, {\"ts\": 4}]}");
        let m = e[0].as_ref().unwrap_err().error.to_string();
        assert!(
            m.contains("t.json:1:") && m.contains("out of time order"),
            "{m}"
        );
        let e = events("{\"version\": 2, \"events\": [{\"ts\": 5}, {\"ts\": \"x\"}]}");
        assert!(!e[0].as_ref().unwrap_err().fatal);
        let e = events("{\"version\": 2, \"events\": [{\"ts\": 5}, {\"ts\": 6");
        let err = e[0].as_ref().unwrap_err();
        assert!(
            err.fatal && err.error.message.contains("truncated"),
            "{:?}",
            err.error
        );
        let e = events("[1, 2]");
        assert!(e[0].as_ref().unwrap_err().fatal);
    }
}
