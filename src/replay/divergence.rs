//! The first divergence between two journals (or two CSV/JSON outputs): the line, the
//! simulated time, both lines and a field-level diff.

use serde::Serialize;
use serde_json::Value;

/// Where two journals first differ.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Divergence {
    /// The line number in `events.jsonl` (the header is line 1).
    pub line: usize,
    /// The simulated time of the line (ms), from whichever side has it (A first).
    pub t_ms: Option<u64>,
    /// Side A's line (`None`: A's journal ended first).
    pub a: Option<String>,
    /// Side B's line (`None`: B's journal ended first).
    pub b: Option<String>,
    /// The fields that differ: (field, A's value, B's value), JSON-encoded, `-` for absent.
    pub fields: Vec<FieldDiff>,
}

/// One differing field.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldDiff {
    /// The field name.
    pub field: String,
    /// A's value (JSON), or `-` when absent.
    pub a: String,
    /// B's value (JSON), or `-` when absent.
    pub b: String,
}

/// The first line at which journals `a` and `b` (lines after the header, with their
/// times) differ; `None` when identical.
pub fn first(a: &[String], ta: &[u64], b: &[String], tb: &[u64]) -> Option<Divergence> {
    let i = (0..a.len().max(b.len())).find(|&i| a.get(i) != b.get(i))?;
    let (la, lb) = (a.get(i).cloned(), b.get(i).cloned());
    let fields = match (&la, &lb) {
        (Some(x), Some(y)) => fields(x, y),
        _ => Vec::new(),
    };
    Some(Divergence {
        line: super::journal::Recording::line_no(i),
        t_ms: ta.get(i).or(tb.get(i)).copied(),
        a: la,
        b: lb,
        fields,
    })
}

/// The fields that differ between two JSON object lines, in A's field order then B's
/// extra fields (a whole-line entry when either is not an object).
pub fn fields(a: &str, b: &str) -> Vec<FieldDiff> {
    let (Ok(Value::Object(x)), Ok(Value::Object(y))) = (
        serde_json::from_str::<Value>(a),
        serde_json::from_str::<Value>(b),
    ) else {
        return vec![FieldDiff {
            field: "(line)".into(),
            a: a.to_string(),
            b: b.to_string(),
        }];
    };
    // The journal's own field order, then any others by name.
    const ORDER: [&str; 8] = [
        "t_ms",
        "type",
        "kind",
        "namespace",
        "name",
        "rv",
        "reason",
        "message",
    ];
    let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
    keys.sort_by_key(|k| (ORDER.iter().position(|o| o == k).unwrap_or(ORDER.len()), *k));
    keys.dedup();
    let show = |v: Option<&Value>| v.map_or_else(|| "-".to_string(), Value::to_string);
    keys.into_iter()
        .filter(|k| x.get(*k) != y.get(*k))
        .map(|k| FieldDiff {
            field: k.clone(),
            a: show(x.get(k)),
            b: show(y.get(k)),
        })
        .collect()
}

/// The first differing line of two texts (1-based), with both lines (`None`: that
/// text ended); `None` when identical.
pub fn first_text_line(a: &str, b: &str) -> Option<(usize, Option<String>, Option<String>)> {
    let (la, lb): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    if a == b {
        return None;
    }
    let i = (0..la.len().max(lb.len()))
        .find(|&i| la.get(i) != lb.get(i))
        .unwrap_or(la.len().min(lb.len()));
    Some((
        i + 1,
        la.get(i).map(|s| s.to_string()),
        lb.get(i).map(|s| s.to_string()),
    ))
}

/// Renders a divergence for people, labelling the sides `la` and `lb`.
pub fn render(d: &Divergence, la: &str, lb: &str) -> String {
    let mut s = String::new();
    let t = d
        .t_ms
        .map_or_else(|| "?".to_string(), |t| format!("{:.3}s", t as f64 / 1000.0));
    s.push_str(&format!("first divergence at line {} (t={t})\n", d.line));
    let w = la.len().max(lb.len());
    s.push_str(&format!(
        "  {la:<w$}  {}\n",
        d.a.as_deref().unwrap_or("<end of journal>")
    ));
    s.push_str(&format!(
        "  {lb:<w$}  {}\n",
        d.b.as_deref().unwrap_or("<end of journal>")
    ));
    for f in &d.fields {
        s.push_str(&format!("  field {}: {} -> {}\n", f.field, f.a, f.b));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn identical_journals_have_no_divergence() {
        let a = v(&[r#"{"t_ms":0,"type":"Event"}"#]);
        assert_eq!(first(&a, &[0], &a, &[0]), None);
    }

    #[test]
    fn the_first_differing_line_and_fields_are_named() {
        let a = v(&[
            r#"{"t_ms":0,"type":"ADDED","name":"p"}"#,
            r#"{"t_ms":5,"type":"Event","name":"p","message":"to n1"}"#,
        ]);
        let b = v(&[
            r#"{"t_ms":0,"type":"ADDED","name":"p"}"#,
            r#"{"t_ms":5,"type":"Event","name":"p","message":"to n2","rv":3}"#,
        ]);
        let d = first(&a, &[0, 5], &b, &[0, 5]).unwrap();
        assert_eq!(d.line, 3);
        assert_eq!(d.t_ms, Some(5));
        let f: Vec<&str> = d.fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(f, ["rv", "message"]);
        assert_eq!(d.fields[0].a, "-");
    }

    #[test]
    fn a_shorter_journal_diverges_where_it_ends() {
        let a = v(&[r#"{"t_ms":0,"type":"Event"}"#]);
        let d = first(&a, &[0], &[], &[]).unwrap();
        assert_eq!((d.line, d.b.clone()), (2, None));
        assert!(render(&d, "recorded", "replayed").contains("<end of journal>"));
    }

    #[test]
    fn first_text_line_finds_the_row() {
        assert_eq!(first_text_line("a\nb\n", "a\nb\n"), None);
        assert_eq!(
            first_text_line("a\nb\n", "a\nc\n"),
            Some((2, Some("b".into()), Some("c".into())))
        );
    }
}
