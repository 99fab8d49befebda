//! `spec.traces[]` in a scenario (`{format, path, from, until, timeScale, namespaces,
//! selector, skipBadRows}`) and the `kubetwin run` flags that override it: validated
//! into [`TraceSource`]s, each scanned once at load time.

use super::source::{ObjectKey, TraceConfig, TraceFormat, TraceOptions, TraceSource};
use crate::api::manifest::Warning;
use crate::api::selector::LabelSelector;
use crate::engine::SimDuration;
use crate::error::{Error, InputError};
use crate::workload::scenario::{Action, Scenario};
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::cell::Cell;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One `spec.traces[]` entry as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TraceSpec {
    format: Spanned<String>,
    path: Spanned<String>,
    #[serde(default)]
    from: Option<Spanned<SimDuration>>,
    #[serde(default)]
    until: Option<Spanned<SimDuration>>,
    #[serde(default)]
    time_scale: Option<Spanned<f64>>,
    #[serde(default)]
    namespaces: Vec<String>,
    #[serde(default)]
    selector: Option<Spanned<String>>,
    #[serde(default)]
    skip_bad_rows: bool,
}

fn at<T>(file: &str, text: &str, s: &Spanned<T>, field: &str, msg: String) -> InputError {
    InputError::at_spanned(file, text, s, field, msg)
}

/// Validates the entries and scans each trace; `known` are the objects the scenario
/// creates (manifests and timeline). Skipped rows become warnings.
pub fn build(
    specs: &[TraceSpec],
    file: &str,
    text: &str,
    base: &Path,
    known: &BTreeSet<ObjectKey>,
    warnings: &mut Vec<Warning>,
) -> Result<Vec<TraceSource>, Error> {
    let known = Arc::new(known.clone());
    let mut out = Vec::new();
    for (i, s) in specs.iter().enumerate() {
        let f = format!("spec.traces[{i}]");
        let format = TraceFormat::parse(&s.format.value).ok_or_else(|| {
            at(
                file,
                text,
                &s.format,
                &format!("{f}.format"),
                format!(
                    "unknown trace format {:?} ({}; openb replays through `kubetwin experiment gpu-fragmentation`)",
                    s.format.value,
                    TraceFormat::NAMES
                ),
            )
        })?;
        let path = base.join(&s.path.value);
        if !path.is_file() {
            return Err(at(
                file,
                text,
                &s.path,
                &format!("{f}.path"),
                format!("no such file: {}", path.display()),
            )
            .into());
        }
        let mut options = TraceOptions {
            skip_bad_rows: s.skip_bad_rows,
            namespaces: s.namespaces.clone(),
            ..TraceOptions::default()
        };
        if let Some(v) = &s.from {
            options.from = v.value;
        }
        if let Some(v) = &s.until {
            if v.value <= options.from {
                return Err(at(
                    file,
                    text,
                    v,
                    &format!("{f}.until"),
                    "must be after `from`".into(),
                )
                .into());
            }
            options.until = Some(v.value);
        }
        if let Some(v) = &s.time_scale {
            if !(v.value.is_finite() && v.value > 0.0) {
                return Err(at(
                    file,
                    text,
                    v,
                    &format!("{f}.timeScale"),
                    format!("must be a number > 0, got {}", v.value),
                )
                .into());
            }
            options.time_scale = v.value;
        }
        if let Some(v) = &s.selector {
            options.selector = Some(
                LabelSelector::parse(&v.value)
                    .map_err(|e| at(file, text, v, &format!("{f}.selector"), e.to_string()))?,
            );
        }
        let config = TraceConfig {
            format,
            display: display_path(&path),
            path,
            options,
        };
        if DEFER_SCANS.with(Cell::get) {
            out.push(TraceSource::unscanned(config, known.clone()));
            continue;
        }
        let src = TraceSource::open(config, known.clone())?;
        warn_skipped(&src, warnings);
        out.push(src);
    }
    Ok(out)
}

thread_local! {
    static DEFER_SCANS: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` (a scenario load) without scanning its traces: `kubetwin run` loads this way
/// when trace flags are given, so that `--skip-bad-rows` and the window apply to the
/// load-time scan that [`TraceArgs::apply`] then makes.
pub fn with_deferred_scans<T>(f: impl FnOnce() -> T) -> T {
    DEFER_SCANS.with(|d| d.set(true));
    let r = f();
    DEFER_SCANS.with(|d| d.set(false));
    r
}

/// The path as messages show it (relative paths stay relative).
fn display_path(p: &Path) -> String {
    p.display().to_string()
}

fn warn_skipped(src: &TraceSource, warnings: &mut Vec<Warning>) {
    if src.stats.skipped_rows > 0 {
        warnings.push(Warning {
            file: src.config.display.clone(),
            line: 1,
            message: format!(
                "skipped {} bad row(s) (skipBadRows); the first: {}",
                src.stats.skipped_rows,
                src.stats.first_skipped.clone().unwrap_or_default()
            ),
        });
    }
}

/// The objects a scenario creates (manifests and timeline applies), which trace delete
/// and scale events may reference.
pub fn known_objects(s: &Scenario) -> BTreeSet<ObjectKey> {
    let mut known = BTreeSet::new();
    let applies = s.actions.iter().flat_map(|a| match &a.action {
        Action::Apply(o) => o.as_slice(),
        _ => &[],
    });
    for l in s.objects.iter().chain(applies) {
        let m = l.object.meta();
        known.insert((l.object.kind(), m.namespace.clone(), m.name.clone()));
    }
    known
}

/// `kubetwin run`'s trace flags: extra traces and overrides of every trace's options.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TraceArgs {
    /// Replay a trace in this run: `FORMAT:PATH` (kubetwin, alibaba-dlrm-v2025,
    /// simkube). Repeatable.
    #[arg(long = "trace", value_name = "FORMAT:PATH")]
    pub traces: Vec<String>,
    /// Trace window start (trace time, Go duration or seconds) for every trace.
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// Trace window end (exclusive) for every trace.
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Virtual time = (trace time − from) × SCALE for every trace (0.5: twice as fast).
    #[arg(long, value_name = "SCALE")]
    pub time_scale: Option<f64>,
    /// Keep only trace objects in this namespace. Repeatable.
    #[arg(long = "trace-namespace", value_name = "NS")]
    pub namespaces: Vec<String>,
    /// Keep only trace objects this label selector matches (kubectl `-l` syntax).
    #[arg(long = "trace-selector", value_name = "SELECTOR")]
    pub selector: Option<String>,
    /// Skip unreadable trace rows (counted, warned, and in summary.json) instead of
    /// failing.
    #[arg(long)]
    pub skip_bad_rows: bool,
}

impl TraceArgs {
    /// Whether any trace flag was given.
    pub fn is_empty(&self) -> bool {
        self.traces.is_empty()
            && self.from.is_none()
            && self.until.is_none()
            && self.time_scale.is_none()
            && self.namespaces.is_empty()
            && self.selector.is_none()
            && !self.skip_bad_rows
    }

    /// Adds `--trace` traces to the scenario and applies the overrides to all of its
    /// traces, scanning each again.
    pub fn apply(&self, scenario: &mut Scenario) -> Result<(), Error> {
        if self.is_empty() {
            return Ok(());
        }
        let usage = |m: String| Error::Usage(m);
        let time = |flag: &str, v: &Option<String>| -> Result<Option<SimDuration>, Error> {
            v.as_deref()
                .map(|s| super::source::parse_time(s).map_err(|m| usage(format!("--{flag}: {m}"))))
                .transpose()
        };
        let from = time("from", &self.from)?;
        let until = time("until", &self.until)?;
        if let Some(s) = self.time_scale
            && !(s.is_finite() && s > 0.0)
        {
            return Err(usage(format!("--time-scale must be a number > 0, got {s}")));
        }
        let selector = self
            .selector
            .as_deref()
            .map(|s| LabelSelector::parse(s).map_err(|e| usage(format!("--trace-selector: {e}"))))
            .transpose()?;
        let mut configs: Vec<TraceConfig> =
            scenario.traces.iter().map(|t| t.config.clone()).collect();
        for t in &self.traces {
            let Some((f, p)) = t.split_once(':') else {
                return Err(usage(format!("--trace {t:?}: expected FORMAT:PATH")));
            };
            let format = TraceFormat::parse(f).ok_or_else(|| {
                usage(format!(
                    "--trace {t:?}: unknown format {f:?} ({})",
                    TraceFormat::NAMES
                ))
            })?;
            let path = PathBuf::from(p);
            if !path.is_file() {
                return Err(usage(format!("--trace {t:?}: no such file: {p}")));
            }
            configs.push(TraceConfig {
                format,
                display: p.to_string(),
                path,
                options: TraceOptions::default(),
            });
        }
        let known = Arc::new(known_objects(scenario));
        let mut out = Vec::new();
        for mut c in configs {
            let o = &mut c.options;
            if let Some(v) = from {
                o.from = v;
            }
            if until.is_some() {
                o.until = until;
            }
            if let Some(u) = o.until
                && u <= o.from
            {
                return Err(usage(format!(
                    "{}: the window's end {u} is not after its start {}",
                    c.display, o.from
                )));
            }
            if let Some(s) = self.time_scale {
                o.time_scale = s;
            }
            if !self.namespaces.is_empty() {
                o.namespaces = self.namespaces.clone();
            }
            if selector.is_some() {
                o.selector = selector.clone();
            }
            o.skip_bad_rows |= self.skip_bad_rows;
            let src = TraceSource::open(c, known.clone())?;
            warn_skipped(&src, &mut scenario.warnings);
            out.push(src);
        }
        scenario.traces = out;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_args_change_nothing() {
        assert!(TraceArgs::default().is_empty());
        let a = TraceArgs {
            skip_bad_rows: true,
            ..TraceArgs::default()
        };
        assert!(!a.is_empty());
    }

    #[test]
    fn bad_flags_are_usage_errors() {
        let mut s = Scenario::default_scenario().unwrap();
        for a in [
            TraceArgs {
                traces: vec!["nope".into()],
                ..TraceArgs::default()
            },
            TraceArgs {
                traces: vec!["csv:/nonexistent".into()],
                ..TraceArgs::default()
            },
            TraceArgs {
                time_scale: Some(0.0),
                ..TraceArgs::default()
            },
            TraceArgs {
                from: Some("later".into()),
                ..TraceArgs::default()
            },
        ] {
            assert!(matches!(a.apply(&mut s), Err(Error::Usage(_))));
        }
    }
}
