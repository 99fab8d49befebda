//! Reading a recorded `events.jsonl`: the header (line 1) and the journal lines after
//! it, checked as they are read. A missing or corrupt header, a header whose hash does
//! not match, a garbage line, a line cut off mid-JSON (a truncated file) and events out
//! of time order are input errors naming the file, the line and the reason.

use super::header::{Header, MARKER};
use crate::error::{Error, InputError};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// A recorded run: its header and journal lines.
#[derive(Debug, Clone)]
pub struct Recording {
    /// The `events.jsonl` file.
    pub file: PathBuf,
    /// The report directory holding it (where `summary.json` and `metrics.csv` are looked for).
    pub dir: PathBuf,
    /// The header.
    pub header: Header,
    /// The journal lines after the header, as written.
    pub lines: Vec<String>,
    /// Each line's simulated time in ms.
    pub times: Vec<u64>,
}

impl Recording {
    /// The file line number of journal line `i` (0-based; the header is line 1).
    pub fn line_no(i: usize) -> usize {
        i + 2
    }

    /// Reads `DIR_OR_EVENTS`: a report directory or an `events.jsonl` file.
    pub fn open(path: &Path) -> Result<Recording, Error> {
        let (file, dir) = if path.is_dir() {
            (path.join("events.jsonl"), path.to_path_buf())
        } else {
            let dir = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."))
                .to_path_buf();
            (path.to_path_buf(), dir)
        };
        let bytes = std::fs::read(&file).map_err(|e| Error::io(&file, e))?;
        let name = file.display().to_string();
        let text = String::from_utf8(bytes).map_err(|e| {
            let upto = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let line = upto.iter().filter(|b| **b == b'\n').count() + 1;
            InputError::at(&name, line, 1, "", "not UTF-8 text")
        })?;
        let (header, lines, times) = parse(&text, &name)?;
        Ok(Recording {
            file,
            dir,
            header,
            lines,
            times,
        })
    }
}

/// Parses the text of an `events.jsonl` (named `file` in errors).
pub fn parse(text: &str, file: &str) -> Result<(Header, Vec<String>, Vec<u64>), Error> {
    let err = |line: usize, field: &str, msg: String| -> Error {
        InputError::at(file, line, 1, field, msg).into()
    };
    if text.is_empty() {
        return Err(err(1, "", "empty file: missing header".into()));
    }
    let ends_with_newline = text.ends_with('\n');
    let raw: Vec<&str> = text.lines().collect();
    let last = raw.len();
    let bad_json = |n: usize, e: serde_json::Error| -> Error {
        if n == last && !ends_with_newline && e.is_eof() {
            err(
                n,
                "",
                format!("truncated: the last line ends mid-JSON ({e}); the file was cut off"),
            )
        } else {
            err(n, "", format!("not a JSON line: {e}"))
        }
    };
    let first: Value = serde_json::from_str(raw[0]).map_err(|e| bad_json(1, e))?;
    let Some(obj) = first.as_object() else {
        return Err(err(
            1,
            "",
            "missing header: line 1 is not a JSON object".into(),
        ));
    };
    if !obj.contains_key(MARKER) {
        let what = if obj.contains_key("t_ms") {
            "line 1 is a journal event (was this run recorded by a kubetwin without record and replay?)"
        } else {
            "line 1 has no `kubetwin_recording` key"
        };
        return Err(err(1, "", format!("missing header: {what}")));
    }
    let header: Header =
        serde_json::from_value(first).map_err(|e| err(1, "", format!("unreadable header: {e}")))?;
    if header.kubetwin_recording != super::header::FORMAT {
        return Err(err(
            1,
            MARKER,
            format!(
                "unsupported recording format {} (this kubetwin reads {})",
                header.kubetwin_recording,
                super::header::FORMAT
            ),
        ));
    }
    header.verify().map_err(|(f, m)| err(1, &f, m))?;
    let mut lines = Vec::with_capacity(raw.len().saturating_sub(1));
    let mut times = Vec::with_capacity(raw.len().saturating_sub(1));
    let mut prev: Option<(u64, usize)> = None;
    for (i, l) in raw.iter().enumerate().skip(1) {
        let n = i + 1;
        if l.trim().is_empty() {
            return Err(err(n, "", "empty line".into()));
        }
        let v: Value = serde_json::from_str(l).map_err(|e| bad_json(n, e))?;
        let Some(o) = v.as_object() else {
            return Err(err(n, "", "not a journal entry: not a JSON object".into()));
        };
        let Some(t) = o.get("t_ms").and_then(Value::as_u64) else {
            return Err(err(
                n,
                "t_ms",
                "not a journal entry: no t_ms (simulated time in ms)".into(),
            ));
        };
        if !o.get("type").is_some_and(Value::is_string) {
            return Err(err(n, "type", "not a journal entry: no type".into()));
        }
        if let Some((pt, pn)) = prev
            && t < pt
        {
            return Err(err(
                n,
                "t_ms",
                format!("events out of time order: t_ms {t} after t_ms {pt} on line {pn}"),
            ));
        }
        prev = Some((t, n));
        lines.push((*l).to_string());
        times.push(t);
    }
    Ok((header, lines, times))
}
