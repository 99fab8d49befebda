//! Trace sources shared by every event-trace reader (kubetwin's own format, the Alibaba
//! DLRM v2025 trace, SimKube traces): a reader turns its file into [`RawEvent`]s in
//! trace time, one at a time; [`Windowed`] applies the options every reader shares
//! (`from`/`until` window, `timeScale`, namespace and label filters, `skipBadRows`),
//! checks time order and object references, and yields timeline actions. A
//! [`TraceSource`] is restartable: loading a scenario scans it once (so bad rows are
//! reported before the run and counted), and every run reads it again from the start.
//! Neither pass holds more than the row being read plus the names of the objects the
//! trace has created and not yet deleted.

use crate::api::Kind;
use crate::api::selector::LabelSelector;
use crate::engine::{SimDuration, SimTime};
use crate::error::{Error, InputError};
use crate::workload::scenario::{Action, TimedAction};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

/// The trace formats `spec.traces[].format` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceFormat {
    /// kubetwin's own CSV or JSON-lines event format (`docs/traces.md`).
    Kubetwin,
    /// The Alibaba GPU-disaggregated DLRM trace (clusterdata `gpu-v2025`).
    AlibabaDlrm,
    /// A SimKube trace in its JSON form.
    Simkube,
}

impl TraceFormat {
    /// Every format name accepted, for messages.
    pub const NAMES: &'static str = "kubetwin, alibaba-dlrm-v2025, simkube";

    /// Parses a format name.
    pub fn parse(s: &str) -> Option<TraceFormat> {
        Some(match s {
            "kubetwin" => TraceFormat::Kubetwin,
            "alibaba-dlrm-v2025" | "dlrm" => TraceFormat::AlibabaDlrm,
            "simkube" => TraceFormat::Simkube,
            _ => return None,
        })
    }

    /// The canonical name.
    pub fn as_str(self) -> &'static str {
        match self {
            TraceFormat::Kubetwin => "kubetwin",
            TraceFormat::AlibabaDlrm => "alibaba-dlrm-v2025",
            TraceFormat::Simkube => "simkube",
        }
    }
}

/// Options every trace reader honours.
#[derive(Debug, Clone)]
pub struct TraceOptions {
    /// Start of the window in trace time: earlier events build the state at time 0.
    pub from: SimDuration,
    /// End of the window in trace time (exclusive); `None`: the whole trace.
    pub until: Option<SimDuration>,
    /// Virtual time = (trace time − `from`) × `time_scale` (`0.5` plays twice as fast).
    pub time_scale: f64,
    /// Keep only objects in these namespaces (empty: every namespace).
    pub namespaces: Vec<String>,
    /// Keep only objects whose labels match.
    pub selector: Option<LabelSelector>,
    /// Skip rows that cannot be read (counted) instead of failing.
    pub skip_bad_rows: bool,
}

impl Default for TraceOptions {
    fn default() -> Self {
        TraceOptions {
            from: SimDuration::ZERO,
            until: None,
            time_scale: 1.0,
            namespaces: Vec::new(),
            selector: None,
            skip_bad_rows: false,
        }
    }
}

/// One trace, as a scenario's `spec.traces[]` entry names it.
#[derive(Debug, Clone)]
pub struct TraceConfig {
    /// The format.
    pub format: TraceFormat,
    /// The file, resolved.
    pub path: PathBuf,
    /// The file as the user wrote it, for messages.
    pub display: String,
    /// Window, scale and filters.
    pub options: TraceOptions,
}

/// One event as a reader produces it, in trace time.
#[derive(Debug, Clone)]
pub struct RawEvent {
    /// Trace time since the trace's start.
    pub time: SimDuration,
    /// What happens.
    pub action: Action,
    /// A kubectl-like description (`trace: scale deployment/web to 3`).
    pub description: String,
    /// 1-based line of the row in the file.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

/// A row a reader could not use.
#[derive(Debug)]
pub struct RowError {
    /// Where and why.
    pub error: InputError,
    /// The file cannot be read further (I/O, header): `skipBadRows` does not apply.
    pub fatal: bool,
}

impl RowError {
    /// A bad row (skippable with `skipBadRows`).
    pub fn row(error: InputError) -> RowError {
        RowError {
            error,
            fatal: false,
        }
    }

    /// A problem with the whole file.
    pub fn fatal(error: InputError) -> RowError {
        RowError { error, fatal: true }
    }
}

/// A reader's events, in file order.
pub type RawIter = Box<dyn Iterator<Item = Result<RawEvent, RowError>>>;

/// A trace's timeline actions, in time order; an `Err` ends the trace.
pub type ActionIter = Box<dyn Iterator<Item = Result<TimedAction, Error>>>;

/// (kind, namespace, name) of an object.
pub type ObjectKey = (Kind, String, String);

/// What one scan of a trace found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TraceStats {
    /// Timeline actions produced (after window and filters).
    pub events: u64,
    /// Rows skipped as bad (`skipBadRows`).
    pub skipped_rows: u64,
    /// The first skipped row's error.
    pub first_skipped: Option<String>,
}

/// A restartable trace: its configuration, what the load-time scan found, and the
/// objects that exist without it (for reference checks).
#[derive(Debug, Clone)]
pub struct TraceSource {
    /// The configuration.
    pub config: TraceConfig,
    /// The load-time scan's figures.
    pub stats: TraceStats,
    known: Arc<BTreeSet<ObjectKey>>,
}

impl TraceSource {
    /// Opens and scans a trace: every row is read and checked once (fails on the first
    /// bad row unless `skipBadRows`). `known` names the objects the scenario itself
    /// creates, which delete and scale events may reference.
    pub fn open(config: TraceConfig, known: Arc<BTreeSet<ObjectKey>>) -> Result<Self, Error> {
        let mut src = TraceSource {
            config,
            stats: TraceStats::default(),
            known,
        };
        let mut w = src.windowed()?;
        for r in w.by_ref() {
            r?;
        }
        src.stats = w.stats();
        Ok(src)
    }

    /// A source that has not been scanned yet (see
    /// [`super::spec::with_deferred_scans`]): its rows are checked by the run, or by a
    /// later [`TraceSource::open`] with overridden options.
    pub fn unscanned(config: TraceConfig, known: Arc<BTreeSet<ObjectKey>>) -> Self {
        TraceSource {
            config,
            stats: TraceStats::default(),
            known,
        }
    }

    /// A fresh reader over the trace's actions, from the first.
    pub fn start(&self) -> Result<ActionIter, Error> {
        Ok(Box::new(self.windowed()?))
    }

    fn windowed(&self) -> Result<Windowed, Error> {
        let raw = match self.config.format {
            TraceFormat::Kubetwin => super::kubetwin::read(&self.config)?,
            TraceFormat::AlibabaDlrm => super::dlrm::read(&self.config)?,
            TraceFormat::Simkube => super::simkube::read(&self.config)?,
        };
        Ok(Windowed::new(
            raw,
            self.config.display.clone(),
            self.config.options.clone(),
            self.known.clone(),
        ))
    }

    /// summary.json's entry for this trace.
    pub fn summary(&self) -> serde_json::Value {
        serde_json::json!({
            "format": self.config.format.as_str(),
            "path": self.config.display,
            "events": self.stats.events,
            "skipped_rows": self.stats.skipped_rows,
        })
    }
}

/// Window, scale, filters, order and reference checks over a reader's events.
pub struct Windowed {
    raw: RawIter,
    file: String,
    opts: TraceOptions,
    known: Arc<BTreeSet<ObjectKey>>,
    /// Objects the trace created (and kept) and has not deleted.
    live: BTreeSet<ObjectKey>,
    /// Objects the trace created that the filters dropped.
    dropped: BTreeSet<ObjectKey>,
    last: Option<(SimDuration, usize)>,
    stats: TraceStats,
    done: bool,
}

impl Windowed {
    /// Wraps a reader.
    pub fn new(
        raw: RawIter,
        file: String,
        opts: TraceOptions,
        known: Arc<BTreeSet<ObjectKey>>,
    ) -> Windowed {
        Windowed {
            raw,
            file,
            opts,
            known,
            live: BTreeSet::new(),
            dropped: BTreeSet::new(),
            last: None,
            stats: TraceStats::default(),
            done: false,
        }
    }

    /// The figures so far.
    pub fn stats(&self) -> TraceStats {
        self.stats.clone()
    }

    /// How many created objects the reader tracks (for the memory tests).
    pub fn tracked(&self) -> usize {
        self.live.len() + self.dropped.len()
    }

    fn keep_ns(&self, ns: &str) -> bool {
        self.opts.namespaces.is_empty() || self.opts.namespaces.iter().any(|n| n == ns)
    }

    /// Applies filters and reference checks; `Ok(None)`: filtered out.
    fn filter(&mut self, ev: &mut RawEvent) -> Result<bool, InputError> {
        match &mut ev.action {
            Action::Apply(objs) => {
                let mut kept = Vec::new();
                for l in std::mem::take(objs) {
                    let m = l.object.meta();
                    let key = (l.object.kind(), m.namespace.clone(), m.name.clone());
                    let ok = (!key.0.namespaced() || self.keep_ns(&m.namespace))
                        && self
                            .opts
                            .selector
                            .as_ref()
                            .is_none_or(|s| s.matches(&m.labels));
                    if ok {
                        self.dropped.remove(&key);
                        self.live.insert(key);
                        kept.push(l);
                    } else {
                        self.live.remove(&key);
                        self.dropped.insert(key);
                    }
                }
                let any = !kept.is_empty();
                *objs = kept;
                Ok(any)
            }
            Action::Delete {
                kind,
                namespace,
                name,
            }
            | Action::Scale {
                kind,
                namespace,
                name,
                ..
            } => {
                let key = (*kind, namespace.clone(), name.clone());
                let delete = matches!(ev.action, Action::Delete { .. });
                if self.dropped.contains(&key) {
                    if delete {
                        self.dropped.remove(&key);
                    }
                    return Ok(false);
                }
                if key.0.namespaced() && !self.keep_ns(&key.1) {
                    return Ok(false);
                }
                if !self.live.contains(&key) && !self.known.contains(&key) {
                    let ns = if key.0.namespaced() {
                        format!(" in namespace {:?}", key.1)
                    } else {
                        String::new()
                    };
                    return Err(InputError::at(
                        &self.file,
                        ev.line,
                        ev.column,
                        "",
                        format!(
                            "unknown object: {} {:?}{ns} was not created by the trace or the scenario (or was already deleted)",
                            key.0, key.2
                        ),
                    ));
                }
                if delete {
                    self.live.remove(&key);
                }
                Ok(true)
            }
            _ => Ok(true),
        }
    }

    fn fail(&mut self, e: RowError) -> Option<Result<TimedAction, Error>> {
        if e.fatal || !self.opts.skip_bad_rows {
            self.done = true;
            return Some(Err(e.error.into()));
        }
        self.stats.skipped_rows += 1;
        if self.stats.first_skipped.is_none() {
            self.stats.first_skipped = Some(e.error.to_string());
        }
        None
    }
}

impl Iterator for Windowed {
    type Item = Result<TimedAction, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            let mut ev = match self.raw.next()? {
                Ok(ev) => ev,
                Err(e) => match self.fail(e) {
                    Some(r) => return Some(r),
                    None => continue,
                },
            };
            if let Some((t, line)) = self.last
                && ev.time < t
            {
                let e = RowError::row(InputError::at(
                    &self.file,
                    ev.line,
                    ev.column,
                    "time",
                    format!(
                        "event out of time order: {} is before {} (line {line}); a trace must be sorted by time",
                        ev.time, t
                    ),
                ));
                match self.fail(e) {
                    Some(r) => return Some(r),
                    None => continue,
                }
            }
            self.last = Some((ev.time, ev.line));
            if self.opts.until.is_some_and(|u| ev.time >= u) {
                self.done = true;
                return None;
            }
            match self.filter(&mut ev) {
                Ok(true) => {}
                Ok(false) => continue,
                Err(e) => match self.fail(RowError::row(e)) {
                    Some(r) => return Some(r),
                    None => continue,
                },
            }
            let rel = ev.time.as_secs_f64() - self.opts.from.as_secs_f64();
            let at =
                SimTime::ZERO + SimDuration::from_secs_f64((rel * self.opts.time_scale).max(0.0));
            self.stats.events += 1;
            return Some(Ok(TimedAction {
                at,
                action: ev.action,
                description: ev.description,
                source: (self.file.clone(), ev.line, ev.column, String::new()),
            }));
        }
        None
    }
}

/// Parses a trace time: a Go duration (`90s`, `1h30m`) or seconds (`90`, `1.5`).
pub fn parse_time(s: &str) -> Result<SimDuration, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("missing time".into());
    }
    if let Ok(v) = s.parse::<f64>() {
        if !v.is_finite() || v < 0.0 {
            return Err(format!(
                "time {s:?} must be a finite number of seconds >= 0"
            ));
        }
        return Ok(SimDuration::from_secs_f64(v));
    }
    SimDuration::parse(s).map_err(|e| {
        format!("bad time {s:?}: {e} (a Go duration such as 90s or seconds such as 90)")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_as_durations_or_seconds() {
        assert_eq!(parse_time("90s").unwrap(), SimDuration::from_secs(90));
        assert_eq!(parse_time("1m30s").unwrap(), SimDuration::from_secs(90));
        assert_eq!(parse_time("1.5").unwrap(), SimDuration::from_millis(1500));
        assert!(parse_time("-1").is_err());
        assert!(parse_time("soon").is_err());
        assert!(parse_time("").is_err());
    }

    #[test]
    fn formats_parse() {
        assert_eq!(TraceFormat::parse("simkube"), Some(TraceFormat::Simkube));
        assert_eq!(TraceFormat::parse("dlrm"), Some(TraceFormat::AlibabaDlrm));
        assert_eq!(TraceFormat::parse("openb"), None);
    }
}
