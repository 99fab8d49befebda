//! Rendering comparisons as a text table, Markdown (for CI comments) or JSON. Column
//! widths come from the content; numbers use [`format_value`], so the text is the same on
//! every platform and for any thread count.

use super::comparison::{Comparison, MetricRow, verdict};
use super::metric::{Metric, format_signed, format_value};
use super::seeds::format_seeds;
use super::stats::{Aggregate, DeltaSpread};
use serde_json::{Value, json};

/// Output formats of `compare` and `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned text columns.
    Table,
    /// JSON.
    Json,
    /// A Markdown table.
    Markdown,
}

/// Text `n/a` for undefined values.
pub const NA: &str = "n/a";

/// Left-aligned columns separated by two spaces, trailing blanks trimmed.
pub fn text_table(header: &[String], rows: &[Vec<String>]) -> String {
    let cols = header.len();
    let mut width = vec![0usize; cols];
    for r in std::iter::once(header).chain(rows.iter().map(Vec::as_slice)) {
        for (i, c) in r.iter().enumerate().take(cols) {
            width[i] = width[i].max(c.chars().count());
        }
    }
    let mut out = String::new();
    for r in std::iter::once(header).chain(rows.iter().map(Vec::as_slice)) {
        let mut line = String::new();
        for (i, c) in r.iter().enumerate().take(cols) {
            line.push_str(c);
            if i + 1 < cols {
                let pad = width[i] - c.chars().count() + 2;
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn numeric(cell: &str) -> bool {
    let c = cell.trim_start_matches(['+', '-']);
    cell == NA || c.starts_with(|ch: char| ch.is_ascii_digit())
}

/// A Markdown pipe table; columns whose cells are all numbers are right-aligned.
pub fn markdown_table(header: &[String], rows: &[Vec<String>]) -> String {
    let mut out = format!("| {} |\n", header.join(" | "));
    out.push_str(&format!(
        "|{}\n",
        (0..header.len())
            .map(|i| {
                let right =
                    !rows.is_empty() && rows.iter().all(|r| r.get(i).is_some_and(|c| numeric(c)));
                if right { "---:|" } else { "---|" }
            })
            .collect::<String>()
    ));
    for r in rows {
        out.push_str(&format!("| {} |\n", r.join(" | ")));
    }
    out
}

fn fmt_opt(v: Option<f64>, m: Metric) -> String {
    v.map_or_else(|| NA.to_string(), |v| format_value(v, m.unit().decimals()))
}

fn fmt_delta(d: Option<DeltaSpread>, m: Metric) -> (String, String, String) {
    let dec = m.unit().decimals();
    match d {
        None => (NA.to_string(), NA.to_string(), String::new()),
        Some(d) => (
            format_signed(d.median, dec),
            format!(
                "{}..{}",
                format_signed(d.min, dec),
                format_signed(d.max, dec)
            ),
            verdict(m.direction(), d.median).to_string(),
        ),
    }
}

/// The header and rows of one scenario's comparison table; rows undefined in every
/// configuration are left out.
fn rows(c: &Comparison, rows: &[MetricRow], markdown: bool) -> (Vec<String>, Vec<Vec<String>>) {
    let two = c.configs.len() == 2;
    let mut header = vec!["METRIC".to_string(), "BETTER".to_string()];
    header.extend(c.configs.iter().map(|k| k.label.clone()));
    for k in c.configs.iter().skip(1) {
        let (d, s, v) = if two {
            (
                "DELTA".to_string(),
                "SPREAD".to_string(),
                "VERDICT".to_string(),
            )
        } else {
            (
                format!("DELTA {}", k.label),
                format!("SPREAD {}", k.label),
                format!("VERDICT {}", k.label),
            )
        };
        header.extend([d, s, v]);
    }
    if markdown {
        for h in &mut header {
            *h = h.to_lowercase();
        }
    }
    let body = rows
        .iter()
        .filter(|r| !r.undefined())
        .map(|r| {
            let m = r.metric;
            let mut line = vec![m.label(), m.direction().as_str().to_string()];
            line.extend(r.aggregates.iter().map(|a| fmt_opt(a.map(|a| a.mean), m)));
            for d in &r.deltas {
                let (d, s, v) = fmt_delta(*d, m);
                line.extend([d, s, v]);
            }
            if markdown {
                line[0] = format!("`{}`", line[0]);
            }
            line
        })
        .collect();
    (header, body)
}

fn configs_line(c: &Comparison) -> String {
    c.configs
        .iter()
        .map(|k| format!("{} ({})", k.label, k.source))
        .collect::<Vec<_>>()
        .join(" vs ")
}

/// Renders a comparison.
pub fn render_comparison(c: &Comparison, format: Format) -> String {
    match format {
        Format::Json => format!(
            "{}\n",
            serde_json::to_string_pretty(&comparison_json(c)).unwrap_or_default()
        ),
        Format::Table => {
            let mut out = String::new();
            for (i, s) in c.scenarios.iter().enumerate() {
                if i > 0 {
                    out.push('\n');
                }
                out.push_str(&format!("SCENARIO  {}  ({})\n", s.name, s.file));
                out.push_str(&format!(
                    "SEEDS     {}  ({} per configuration; values are means, deltas are paired per seed: median, min..max)\n",
                    format_seeds(&c.seeds),
                    c.seeds.len()
                ));
                out.push_str(&format!("CONFIGS   {}\n\n", configs_line(c)));
                let (h, r) = rows(c, &s.rows, false);
                out.push_str(&text_table(&h, &r));
            }
            out
        }
        Format::Markdown => {
            let mut out = String::new();
            for (i, s) in c.scenarios.iter().enumerate() {
                if i > 0 {
                    out.push('\n');
                }
                out.push_str(&format!(
                    "### {} (`{}`)\n\nSeeds {} ({} per configuration), {}. Values are means over seeds; deltas are paired per seed (median, min..max).\n\n",
                    s.name,
                    s.file,
                    format_seeds(&c.seeds),
                    c.seeds.len(),
                    configs_line(c)
                ));
                let (h, r) = rows(c, &s.rows, true);
                out.push_str(&markdown_table(&h, &r));
            }
            out
        }
    }
}

/// An aggregate as JSON (`null` when undefined).
pub fn aggregate_json(a: Option<Aggregate>) -> Value {
    a.map_or(
        Value::Null,
        |a| json!({"mean": a.mean, "p5": a.p5, "p50": a.p50, "p95": a.p95, "n": a.n}),
    )
}

/// A comparison as JSON.
pub fn comparison_json(c: &Comparison) -> Value {
    let scenarios: Vec<Value> = c
        .scenarios
        .iter()
        .map(|s| {
            let mut metrics = serde_json::Map::new();
            for r in &s.rows {
                let m = r.metric;
                let configs: Vec<Value> = r
                    .aggregates
                    .iter()
                    .zip(&r.values)
                    .zip(&c.configs)
                    .map(|((a, v), k)| {
                        json!({"config": k.label, "aggregate": aggregate_json(*a), "per_seed": v})
                    })
                    .collect();
                let deltas: Vec<Value> = r
                    .deltas
                    .iter()
                    .zip(c.configs.iter().skip(1))
                    .map(|(d, k)| match d {
                        None => json!({"config": k.label, "delta": Value::Null}),
                        Some(d) => json!({
                            "config": k.label,
                            "delta": {"median": d.median, "min": d.min, "max": d.max, "n": d.n},
                            "verdict": verdict(m.direction(), d.median),
                        }),
                    })
                    .collect();
                metrics.insert(
                    m.key().to_string(),
                    json!({
                        "unit": m.unit().as_str(),
                        "better": m.direction().as_str(),
                        "configs": configs,
                        "deltas_vs_first": deltas,
                    }),
                );
            }
            json!({"name": s.name, "file": s.file, "metrics": metrics})
        })
        .collect();
    json!({
        "seeds": c.seeds,
        "configs": c.configs.iter().map(|k| json!({"label": k.label, "source": k.source})).collect::<Vec<_>>(),
        "scenarios": scenarios,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_table_aligns_and_trims() {
        let h = vec!["A".to_string(), "BB".to_string(), "C".to_string()];
        let r = vec![vec!["xxx".to_string(), "y".to_string(), String::new()]];
        assert_eq!(text_table(&h, &r), "A    BB  C\nxxx  y\n");
    }

    #[test]
    fn markdown_has_alignment_row() {
        let h = vec!["m".to_string(), "v".to_string()];
        let r = vec![vec!["a".to_string(), "1".to_string()]];
        assert_eq!(markdown_table(&h, &r), "| m | v |\n|---|---:|\n| a | 1 |\n");
        let r = vec![vec!["-".to_string(), "+1.5".to_string()]];
        assert_eq!(
            markdown_table(&h, &r),
            "| m | v |\n|---|---:|\n| - | +1.5 |\n"
        );
    }
}
