//! The run report's `index.html`: one self-contained page (inline CSS, no JavaScript,
//! no external URLs) with a header, the key figures from the summary, the expectations
//! table (observed value, bound, pass/fail), the plots (as `<img>` of the SVG files
//! beside it), the timeline annotations with the ids the plots show, and links to the
//! other output files.
//!
//! [`render`] is pure and deterministic: it returns the page as a `String` and the caller
//! writes it. Every string that comes from the run is HTML-escaped.

use std::fmt::Write as _;

use serde_json::Value;

/// One checked expectation of the scenario, as shown in the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectationRow {
    /// The expectation as written in the scenario, e.g. `ready(web) == 3 within 2m`.
    pub expr: String,
    /// Whether it held.
    pub passed: bool,
    /// Explanation, e.g. the observed value or when it failed.
    pub detail: String,
    /// The observed value the verdict rests on, as text (`—` when never checked).
    pub observed: String,
    /// The bound, e.g. `>= 2 after 1m0s`.
    pub bound: String,
}

/// One timeline annotation as listed on the page (and numbered on the plots).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnotationRow {
    /// Callout id on the plots, e.g. `A1`.
    pub id: String,
    /// Time or window, e.g. `2m` or `2m – 5m`.
    pub time: String,
    /// Kind: `action`, `fault`, `rollout`, `autoscale`.
    pub kind: String,
    /// The label.
    pub label: String,
}

/// Everything the report page shows; all borrowed from the caller.
#[derive(Debug, Clone, Copy)]
pub struct HtmlReport<'a> {
    /// Page title and heading, e.g. the scenario name.
    pub title: &'a str,
    /// The run summary (the content of `summary.json`); its top-level fields become the
    /// key-figures table, nested objects nested tables.
    pub summary: &'a Value,
    /// Expectation results, in scenario order.
    pub expectations: &'a [ExpectationRow],
    /// Timeline annotations, in time order.
    pub annotations: &'a [AnnotationRow],
    /// Plots as `(svg file name, caption)`, relative to the page.
    pub plots: &'a [(&'a str, &'a str)],
    /// Other output files to link to (e.g. `summary.json`), relative to the page.
    pub files: &'a [&'a str],
}

/// The page's style sheet, inlined in `<head>`.
const CSS: &str = "\
body{font-family:system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif;color:#333;\
margin:0;background:#f6f7f9;line-height:1.4}
main{max-width:960px;margin:0 auto;padding:16px 24px 48px;background:#fff;min-height:100vh}
h1{font-size:1.6em;margin:8px 0 4px}
h2{font-size:1.2em;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
.status{display:inline-block;padding:2px 10px;border-radius:10px;font-weight:600;\
font-size:.9em;color:#fff}
.status.pass,.badge.pass{background:#2e7d32}
.status.fail,.badge.fail{background:#c62828}
table{border-collapse:collapse;font-size:.92em}
th,td{text-align:left;vertical-align:top;padding:4px 10px;border:1px solid #e0e0e0}
th{background:#f2f3f5;font-weight:600}
table.kv td:first-child{font-weight:600;white-space:nowrap}
table.kv table{margin:0}
td.num{font-variant-numeric:tabular-nums}
tr.pass td{background:#f1f8f1}
tr.fail td{background:#fdf0f0}
.badge{display:inline-block;min-width:3.2em;text-align:center;padding:1px 6px;\
border-radius:4px;color:#fff;font-weight:600;font-size:.85em}
code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.95em}
figure{margin:12px 0 24px}
figure img{max-width:100%;height:auto;border:1px solid #e0e0e0}
figcaption{color:#555;font-size:.9em;margin-top:4px}
.muted{color:#777}
ul.files{padding-left:20px}
";

/// Renders the report page.
pub fn render(r: &HtmlReport) -> String {
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    // Writing into a String cannot fail; the results are ignored on purpose.
    let _ = writeln!(out, "<title>{}</title>", esc(r.title));
    let _ = writeln!(out, "<style>\n{CSS}</style>\n</head>\n<body>\n<main>");

    render_header(&mut out, r);
    render_summary(&mut out, r.summary);
    render_expectations(&mut out, r.expectations);
    render_plots(&mut out, r.plots);
    render_annotations(&mut out, r.annotations);
    render_files(&mut out, r.files);

    out.push_str("</main>\n</body>\n</html>\n");
    out
}

/// Heading with the overall expectation status.
fn render_header(out: &mut String, r: &HtmlReport) {
    let total = r.expectations.len();
    let passed = r.expectations.iter().filter(|e| e.passed).count();
    let _ = writeln!(out, "<header>\n<h1>{}</h1>", esc(r.title));
    if total == 0 {
        out.push_str("<p class=\"muted\">No expectations declared.</p>\n");
    } else {
        let class = if passed == total { "pass" } else { "fail" };
        let word = if passed == total { "PASS" } else { "FAIL" };
        let _ = writeln!(
            out,
            "<p><span class=\"status {class}\">{word}</span> {passed} of {total} expectations passed</p>"
        );
    }
    out.push_str("</header>\n");
}

/// Key-figures section from the summary.
fn render_summary(out: &mut String, summary: &Value) {
    out.push_str("<section>\n<h2>Key figures</h2>\n");
    match summary {
        Value::Object(map) if map.is_empty() => {
            out.push_str("<p class=\"muted\">Empty summary.</p>\n");
        }
        Value::Null => out.push_str("<p class=\"muted\">No summary.</p>\n"),
        _ => value_table(out, summary),
    }
    out.push_str("</section>\n");
}

/// Writes `v` as a key/value table (an object), an index/value table (an array of
/// non-scalars), or a one-row table (anything else).
fn value_table(out: &mut String, v: &Value) {
    out.push_str("<table class=\"kv\">\n");
    match v {
        Value::Object(map) => {
            for (k, item) in map {
                table_row(out, k, item);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                table_row(out, &i.to_string(), item);
            }
        }
        other => table_row(out, "value", other),
    }
    out.push_str("</table>\n");
}

/// One key/value row; nested objects and arrays of non-scalars become nested tables.
fn table_row(out: &mut String, key: &str, v: &Value) {
    let _ = write!(out, "<tr><td>{}</td>", esc(key));
    match v {
        Value::Object(map) if !map.is_empty() => {
            out.push_str("<td>\n");
            value_table(out, v);
            out.push_str("</td></tr>\n");
        }
        Value::Array(items) if items.iter().any(|i| i.is_object() || i.is_array()) => {
            out.push_str("<td>\n");
            value_table(out, v);
            out.push_str("</td></tr>\n");
        }
        Value::Number(_) => {
            let _ = writeln!(out, "<td class=\"num\">{}</td></tr>", esc(&scalar_text(v)));
        }
        _ => {
            let _ = writeln!(out, "<td>{}</td></tr>", esc(&scalar_text(v)));
        }
    }
}

/// Display text of a scalar (or of an empty object or an array of scalars).
fn scalar_text(v: &Value) -> String {
    match v {
        Value::Null => "—".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Array(items) if items.is_empty() => "(none)".to_string(),
        Value::Array(items) => items.iter().map(scalar_text).collect::<Vec<_>>().join(", "),
        Value::Object(_) => "(empty)".to_string(),
    }
}

/// Expectations table with a pass/fail badge per row.
fn render_expectations(out: &mut String, rows: &[ExpectationRow]) {
    out.push_str("<section>\n<h2>Expectations</h2>\n");
    if rows.is_empty() {
        out.push_str("<p class=\"muted\">None.</p>\n</section>\n");
        return;
    }
    out.push_str(
        "<table>\n<tr><th>Result</th><th>Expectation</th><th>Observed</th><th>Bound</th>\
         <th>Detail</th></tr>\n",
    );
    for row in rows {
        let (class, word) = if row.passed {
            ("pass", "pass")
        } else {
            ("fail", "FAIL")
        };
        let _ = writeln!(
            out,
            "<tr class=\"{class}\"><td><span class=\"badge {class}\">{word}</span></td>\
             <td><code>{}</code></td><td class=\"num\">{}</td><td>{}</td><td>{}</td></tr>",
            esc(&row.expr),
            esc(&row.observed),
            esc(&row.bound),
            esc(&row.detail)
        );
    }
    out.push_str("</table>\n</section>\n");
}

/// Plots as images with captions.
fn render_plots(out: &mut String, plots: &[(&str, &str)]) {
    if plots.is_empty() {
        return;
    }
    out.push_str("<section>\n<h2>Plots</h2>\n");
    for (file, caption) in plots {
        let _ = writeln!(
            out,
            "<figure><img src=\"{}\" alt=\"{}\" width=\"900\" height=\"420\">\
             <figcaption>{}</figcaption></figure>",
            esc(&local_href(file)),
            esc(caption),
            esc(caption)
        );
    }
    out.push_str("</section>\n");
}

/// The timeline annotations, with the ids the plots show.
fn render_annotations(out: &mut String, rows: &[AnnotationRow]) {
    if rows.is_empty() {
        return;
    }
    out.push_str("<section>\n<h2>Timeline</h2>\n");
    out.push_str("<table>\n<tr><th>Id</th><th>Time</th><th>Kind</th><th>Annotation</th></tr>\n");
    for r in rows {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&r.id),
            esc(&r.time),
            esc(&r.kind),
            esc(&r.label)
        );
    }
    out.push_str("</table>\n</section>\n");
}

/// Links to the other output files.
fn render_files(out: &mut String, files: &[&str]) {
    if files.is_empty() {
        return;
    }
    out.push_str("<section>\n<h2>Files</h2>\n<ul class=\"files\">\n");
    for f in files {
        let _ = writeln!(
            out,
            "<li><a href=\"{}\">{}</a></li>",
            esc(&local_href(f)),
            esc(f)
        );
    }
    out.push_str("</ul>\n</section>\n");
}

/// Makes a file name safe to use as a relative link: a name whose first path segment
/// contains `:` (which a browser would read as a URL scheme, e.g. `javascript:`) gets a
/// `./` prefix.
fn local_href(name: &str) -> String {
    let first_segment = name.split('/').next().unwrap_or("");
    if first_segment.contains(':') {
        format!("./{name}")
    } else {
        name.to_string()
    }
}

/// Escapes text for HTML element content and quoted attribute values.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rows() -> Vec<ExpectationRow> {
        vec![
            ExpectationRow {
                expr: "ready(web) == 3 within 2m".into(),
                passed: true,
                detail: "held at 1m12s".into(),
                observed: "3".into(),
                bound: "== 3 by 2m0s".into(),
            },
            ExpectationRow {
                expr: "pending(\"batch\") < 1 && x > 2".into(),
                passed: false,
                detail: "observed 4 at <5m>".into(),
                observed: "4".into(),
                bound: "< 1 at end".into(),
            },
        ]
    }

    #[test]
    fn full_report_snapshot() {
        // Keys in sorted order, so the snapshot is the same whether or not serde_json's
        // `preserve_order` feature is on.
        let summary = json!({
            "deterministic": true,
            "empty": {},
            "events": 1234,
            "nodes": [{"name": "node-1"}, {"name": "node-2"}],
            "note": null,
            "pods": {"Pending": 2, "Running": 10, "by_node": {"node-1": 5, "node-2": 5}},
            "scenario": "node-failure <demo>",
            "seed": 42,
            "sim_duration_s": 5400.0,
            "tags": ["chaos", "a&b"],
        });
        let expectations = rows();
        let html = render(&HtmlReport {
            title: "Run: node-failure & recovery",
            summary: &summary,
            expectations: &expectations,
            annotations: &[AnnotationRow {
                id: "F1".into(),
                time: "2m – 5m".into(),
                kind: "fault".into(),
                label: "zone <b> down".into(),
            }],
            plots: &[
                ("pods_by_phase.svg", "Pods by phase"),
                ("replicas.svg", "Ready vs desired \"web\" replicas"),
            ],
            files: &[
                "summary.json",
                "metrics.csv",
                "events.jsonl",
                "javascript:alert(1)",
            ],
        });
        insta::assert_snapshot!(html);
    }

    #[test]
    fn minimal_report_snapshot() {
        let summary = json!({});
        let html = render(&HtmlReport {
            title: "empty",
            summary: &summary,
            expectations: &[],
            annotations: &[],
            plots: &[],
            files: &[],
        });
        insta::assert_snapshot!(html);
    }

    #[test]
    fn escapes_and_stays_self_contained() {
        let summary = json!({"<k>": "<script>alert('x')</script>"});
        let expectations = rows();
        let html = render(&HtmlReport {
            title: "<b>t</b>",
            summary: &summary,
            expectations: &expectations,
            annotations: &[],
            plots: &[("a\".svg", "<c>")],
            files: &["x.json"],
        });
        assert!(!html.contains("<script"));
        assert!(!html.contains("<b>t"));
        assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
        assert!(html.contains("src=\"a&quot;.svg\""));
        assert!(!html.contains("http://") && !html.contains("https://"));
        assert!(html.contains("1 of 2 expectations passed"));
        assert!(html.contains("class=\"status fail\""));
    }

    #[test]
    fn all_passed_and_scalar_summary() {
        let summary = json!(3.5);
        let expectations = vec![rows().remove(0)];
        let html = render(&HtmlReport {
            title: "t",
            summary: &summary,
            expectations: &expectations,
            annotations: &[],
            plots: &[],
            files: &[],
        });
        assert!(html.contains("class=\"status pass\""));
        assert!(html.contains("<td>value</td><td class=\"num\">3.5</td>"));
    }

    #[test]
    fn local_href_guards_schemes() {
        assert_eq!(local_href("a.svg"), "a.svg");
        assert_eq!(local_href("plots/a.svg"), "plots/a.svg");
        assert_eq!(local_href("javascript:x"), "./javascript:x");
        assert_eq!(local_href("dir/a:b.svg"), "dir/a:b.svg");
    }
}
