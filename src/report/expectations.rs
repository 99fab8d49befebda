//! The expectations table of a run: every expectation with its observed value, its
//! bound and PASS/FAIL, as aligned text (the terminal output of `kubetwin run`) and as a
//! GitHub-flavoured Markdown table (`report.md`). `index.html` draws the same columns.
//!
//! Both renderings are pure and deterministic.

use crate::workload::ExpectationResult;

/// The observed value as shown in the tables: integers without decimals, others with
/// up to three, `—` when the expectation was never checked.
pub fn observed_text(e: &ExpectationResult) -> String {
    match e.observed {
        None => "—".to_string(),
        Some(v) if v.fract() == 0.0 && v.abs() < 1e15 => format!("{}", v as i64),
        Some(v) => {
            let s = format!("{v:.3}");
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        }
    }
}

/// `PASS` or `FAIL`.
pub fn verdict(e: &ExpectationResult) -> &'static str {
    if e.passed { "PASS" } else { "FAIL" }
}

/// The aligned text table (`EXPECTATION  OBSERVED  BOUND  RESULT  DETAIL`), one line per
/// expectation, trailing blanks trimmed; empty for no expectations.
pub fn text_table(rows: &[ExpectationResult]) -> String {
    if rows.is_empty() {
        return String::new();
    }
    let header = ["EXPECTATION", "OBSERVED", "BOUND", "RESULT", "DETAIL"];
    let cells: Vec<[String; 5]> = rows
        .iter()
        .map(|e| {
            [
                e.expr.clone(),
                observed_text(e),
                e.bound.clone(),
                verdict(e).to_string(),
                e.detail.clone(),
            ]
        })
        .collect();
    let mut widths = header.map(|h| h.chars().count());
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row.iter()) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cols: [&str; 5]| {
        let mut l = String::new();
        for (i, c) in cols.iter().enumerate() {
            l.push_str(c);
            if i + 1 < cols.len() {
                let pad = widths[i] + 2 - c.chars().count();
                l.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(header);
    for r in &cells {
        line([&r[0], &r[1], &r[2], &r[3], &r[4]]);
    }
    out
}

/// Escapes text for a Markdown table cell: `|` and backslashes, newlines as spaces, and
/// a `<` that could open an HTML tag (`<b`, `</`, `<!`); `<=` and `a < b` stay readable.
pub fn md_cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '|' => out.push_str("\\|"),
            '\\' => out.push_str("\\\\"),
            '\n' | '\r' => out.push(' '),
            '<' if chars
                .peek()
                .is_some_and(|n| n.is_ascii_alphabetic() || matches!(n, '/' | '!' | '?')) =>
            {
                out.push_str("&lt;")
            }
            c => out.push(c),
        }
    }
    out
}

/// Text in a Markdown code span (a cell's expression), with backticks that cannot break
/// out of it.
pub fn md_code(s: &str) -> String {
    let s = s.replace('|', "\\|").replace(['\n', '\r'], " ");
    if s.contains('`') {
        format!("`` {s} ``")
    } else {
        format!("`{s}`")
    }
}

/// The Markdown table (`| Result | Expectation | Observed | Bound | Detail |`); a line
/// reading `No expectations declared.` for none.
pub fn markdown_table(rows: &[ExpectationResult]) -> String {
    if rows.is_empty() {
        return "No expectations declared.\n".to_string();
    }
    let mut out = String::from(
        "| Result | Expectation | Observed | Bound | Detail |\n|---|---|---:|---|---|\n",
    );
    for e in rows {
        let result = if e.passed { "✅ PASS" } else { "❌ **FAIL**" };
        out.push_str(&format!(
            "| {result} | {} | {} | {} | {} |\n",
            md_code(&e.expr),
            md_cell(&observed_text(e)),
            md_cell(&e.bound),
            md_cell(&e.detail)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> Vec<ExpectationResult> {
        vec![
            ExpectationResult {
                expr: "rc/nginx.ready == 3 by 1m".into(),
                passed: true,
                detail: "observed 3 at 10s".into(),
                observed: Some(3.0),
                bound: "== 3 by 1m0s".into(),
            },
            ExpectationResult {
                expr: "scheduling.p99_ms < 1.5".into(),
                passed: false,
                detail: "was 2.25 at 12m0s | <b>odd".into(),
                observed: Some(2.25),
                bound: "< 1.5 at end".into(),
            },
            ExpectationResult {
                expr: "pods.pending == 0 at 1h".into(),
                passed: false,
                detail: "never checked: the run ended before its time".into(),
                observed: None,
                bound: "== 0 at 1h0m0s".into(),
            },
        ]
    }

    #[test]
    fn text_table_aligns() {
        insta::assert_snapshot!(text_table(&rows()), @r"
        EXPECTATION                OBSERVED  BOUND           RESULT  DETAIL
        rc/nginx.ready == 3 by 1m  3         == 3 by 1m0s    PASS    observed 3 at 10s
        scheduling.p99_ms < 1.5    2.25      < 1.5 at end    FAIL    was 2.25 at 12m0s | <b>odd
        pods.pending == 0 at 1h    —         == 0 at 1h0m0s  FAIL    never checked: the run ended before its time
        ");
        assert_eq!(text_table(&[]), "");
    }

    #[test]
    fn markdown_table_escapes_pipes() {
        insta::assert_snapshot!(markdown_table(&rows()), @r"
        | Result | Expectation | Observed | Bound | Detail |
        |---|---|---:|---|---|
        | ✅ PASS | `rc/nginx.ready == 3 by 1m` | 3 | == 3 by 1m0s | observed 3 at 10s |
        | ❌ **FAIL** | `scheduling.p99_ms < 1.5` | 2.25 | < 1.5 at end | was 2.25 at 12m0s \| &lt;b>odd |
        | ❌ **FAIL** | `pods.pending == 0 at 1h` | — | == 0 at 1h0m0s | never checked: the run ended before its time |
        ");
    }
}
