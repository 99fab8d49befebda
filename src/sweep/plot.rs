//! SVG plots of a sweep: one chart per metric, the metric against the first parameter,
//! with the p50 line and a p5–p95 band per line. With one parameter there is one line;
//! with more, one line per value of the other parameters (at most [`MAX_LINES`]). A
//! parameter whose values are not all numbers is drawn as evenly spaced categories.
//! `pass_share` (the share of seeds whose expectations held) is plotted as a plain line.
//! The SVG is written by hand (plain `<path>`, `<polygon>` and `<text>` elements), so
//! identical data give byte-identical files.

use super::grid::Grid;
use super::results::{PointSummary, RunTable};
use std::fmt::Write as _;

/// The pseudo-metric of the pass share.
pub const PASS_SHARE: &str = "pass_share";
/// Metrics plotted by default, when they exist.
pub const DEFAULT_PLOTS: [&str; 5] = [
    PASS_SHARE,
    "cost.total",
    "pods.pending",
    "scheduling.latency_ms_p99",
    "nodes.total",
];
/// Most lines on one chart.
pub const MAX_LINES: usize = 10;

const W: f64 = 900.0;
const H: f64 = 420.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 720.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 360.0;

/// One line: a label and (x, p5, p50, p95) per grid point where the metric is defined.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// Legend text (the other parameters' values; empty with one parameter).
    pub label: String,
    /// Points in grid order.
    pub points: Vec<(f64, f64, f64, f64)>,
}

/// Whether `metric` can be plotted (it is a metric of the table, or the pass share).
pub fn exists(table: &RunTable, metric: &str) -> bool {
    metric == PASS_SHARE || table.column(metric).is_some()
}

/// The lines of `metric`.
pub fn lines(grid: &Grid, table: &RunTable, points: &[PointSummary], metric: &str) -> Vec<Line> {
    let Some(first) = grid.axes.first() else {
        return Vec::new();
    };
    let numeric = first.values.iter().all(|v| v.number.is_some());
    let n0 = first.values.len();
    let others = grid.points() / n0.max(1);
    let col = table.column(metric);
    let mut out = Vec::new();
    for o in 0..others.min(MAX_LINES) {
        let mut line = Line {
            label: String::new(),
            points: Vec::new(),
        };
        for i in 0..n0 {
            let p = i * others + o;
            if i == 0 {
                line.label = grid
                    .axes
                    .iter()
                    .zip(grid.values(p))
                    .skip(1)
                    .map(|(a, v)| format!("{}={v}", a.name))
                    .collect::<Vec<_>>()
                    .join(" ");
            }
            let x = if numeric {
                first.values[i].number.unwrap_or(i as f64)
            } else {
                i as f64
            };
            let s = &points[p];
            if metric == PASS_SHARE {
                let v = s.pass_share();
                line.points.push((x, v, v, v));
            } else if let Some(sp) = col.and_then(|j| s.spreads[j]) {
                line.points.push((x, sp.p5, sp.p50, sp.p95));
            }
        }
        out.push(line);
    }
    out
}

/// A file name for a metric's chart (`cost.total` -> `cost_total.svg`).
pub fn file_name(metric: &str) -> String {
    let s: String = metric
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("{s}.svg")
}

/// The chart of `metric`.
pub fn svg(grid: &Grid, lines: &[Line], metric: &str) -> String {
    let first = &grid.axes[0];
    let numeric = first.values.iter().all(|v| v.number.is_some());
    let all = lines.iter().flat_map(|l| l.points.iter());
    let (mut x0, mut x1, mut y0, mut y1) =
        (f64::INFINITY, f64::NEG_INFINITY, 0.0f64, f64::NEG_INFINITY);
    for &(x, lo, _, hi) in all {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(lo);
        y1 = y1.max(hi);
    }
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" font-family=\"sans-serif\">\n<rect width=\"{W}\" height=\"{H}\" fill=\"white\"/>\n"
    );
    let title = if metric == PASS_SHARE {
        "expectations pass share".to_string()
    } else {
        format!("{metric} (p50, band p5–p95)")
    };
    let _ = writeln!(
        s,
        "<text x=\"{}\" y=\"24\" font-size=\"16\" text-anchor=\"middle\" fill=\"#333\">{}</text>",
        (LEFT + RIGHT) / 2.0,
        esc(&title)
    );
    if !y1.is_finite() {
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{}\" font-size=\"14\" text-anchor=\"middle\" fill=\"#888\">no data</text>\n</svg>",
            (LEFT + RIGHT) / 2.0,
            (TOP + BOTTOM) / 2.0
        );
        return s;
    }
    if !numeric {
        x0 = -0.5;
        x1 = first.values.len() as f64 - 0.5;
    } else if x1 <= x0 {
        x0 -= 1.0;
        x1 += 1.0;
    } else {
        let pad = (x1 - x0) * 0.03;
        x0 -= pad;
        x1 += pad;
    }
    let y1 = if metric == PASS_SHARE {
        1.05
    } else {
        (y1 * 1.1).max(y0 + 1.0)
    };
    let sx = |x: f64| LEFT + (x - x0) / (x1 - x0) * (RIGHT - LEFT);
    let sy = |y: f64| BOTTOM - (y - y0) / (y1 - y0) * (BOTTOM - TOP);
    // Axes, grid and ticks.
    let ystep = nice_step((y1 - y0) / 6.0);
    let mut t = (y0 / ystep).ceil() * ystep;
    while t <= y1 + 1e-12 {
        let y = sy(t);
        let _ = writeln!(
            s,
            "<line x1=\"{LEFT}\" x2=\"{RIGHT}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#e6e6e6\"/>\n<text x=\"{}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\" fill=\"#333\">{}</text>",
            LEFT - 6.0,
            y + 4.0,
            fmt_tick(t, ystep)
        );
        t += ystep;
    }
    let ticks: Vec<(f64, String)> = if numeric {
        let integral = first
            .values
            .iter()
            .all(|v| v.number.is_some_and(|n| n.fract() == 0.0));
        let step = nice_step((x1 - x0) / 8.0);
        let step = if integral { step.max(1.0) } else { step };
        let mut v = Vec::new();
        let mut t = (x0 / step).ceil() * step;
        while t <= x1 + 1e-12 && v.len() < 64 {
            v.push((t, fmt_tick(t, step)));
            t += step;
        }
        v
    } else {
        first
            .values
            .iter()
            .enumerate()
            .map(|(i, v)| (i as f64, v.text.clone()))
            .collect()
    };
    for (x, label) in ticks {
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\" fill=\"#333\">{}</text>",
            sx(x),
            BOTTOM + 16.0,
            esc(&label)
        );
    }
    let _ = writeln!(
        s,
        "<path d=\"M{LEFT} {TOP}V{BOTTOM}H{RIGHT}\" fill=\"none\" stroke=\"#888\"/>\n<text x=\"{}\" y=\"{}\" font-size=\"12\" text-anchor=\"middle\" fill=\"#333\">{}</text>",
        (LEFT + RIGHT) / 2.0,
        BOTTOM + 40.0,
        esc(&first.name)
    );
    for (i, line) in lines.iter().enumerate() {
        let c = crate::report::plots::colour_hex(i);
        if line.points.is_empty() {
            continue;
        }
        if metric != PASS_SHARE {
            let mut poly = String::new();
            for &(x, _, _, hi) in &line.points {
                let _ = write!(poly, "{:.1},{:.1} ", sx(x), sy(hi));
            }
            for &(x, lo, _, _) in line.points.iter().rev() {
                let _ = write!(poly, "{:.1},{:.1} ", sx(x), sy(lo));
            }
            let _ = writeln!(
                s,
                "<polygon points=\"{}\" fill=\"{c}\" fill-opacity=\"0.18\" stroke=\"none\"/>",
                poly.trim_end()
            );
        }
        let mut d = String::new();
        for (k, &(x, _, mid, _)) in line.points.iter().enumerate() {
            let _ = write!(
                d,
                "{}{:.1} {:.1}",
                if k == 0 { "M" } else { "L" },
                sx(x),
                sy(mid)
            );
        }
        let _ = writeln!(
            s,
            "<path d=\"{d}\" fill=\"none\" stroke=\"{c}\" stroke-width=\"2\"/>"
        );
        for &(x, _, mid, _) in &line.points {
            let _ = writeln!(
                s,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{c}\"/>",
                sx(x),
                sy(mid)
            );
        }
        let label = if line.label.is_empty() {
            "p50"
        } else {
            &line.label
        };
        let ly = TOP + 10.0 + 18.0 * i as f64;
        let _ = writeln!(
            s,
            "<line x1=\"{}\" x2=\"{}\" y1=\"{ly}\" y2=\"{ly}\" stroke=\"{c}\" stroke-width=\"2\"/>\n<text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"#333\">{}</text>",
            RIGHT + 15.0,
            RIGHT + 35.0,
            RIGHT + 40.0,
            ly + 4.0,
            esc(&shorten(label, 24))
        );
    }
    s.push_str("</svg>\n");
    s
}

/// Smallest 1-2-5 step at least `raw`.
fn nice_step(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let p = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * p)
        .find(|s| *s >= raw * (1.0 - 1e-12))
        .unwrap_or(10.0 * p)
}

/// A tick label with the decimals the step needs.
fn fmt_tick(v: f64, step: f64) -> String {
    let dec = if step >= 1.0 {
        0
    } else {
        ((-step.log10()).ceil().clamp(0.0, 6.0)) as usize
    };
    let t = format!("{v:.dec$}");
    if t.trim_start_matches('-')
        .chars()
        .all(|c| c == '0' || c == '.')
    {
        "0".to_string()
    } else {
        t
    }
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut o: String = s.chars().take(max - 1).collect();
        o.push('…');
        o
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::grid::Axis;
    use crate::sweep::results::{PASSED, Spread};
    use crate::sweep::values::ParamValue;

    fn setup() -> (Grid, RunTable, Vec<PointSummary>) {
        let vals = |v: &[&str]| v.iter().map(|t| ParamValue::new(t)).collect();
        let grid = Grid {
            axes: vec![
                Axis {
                    name: "nodes".into(),
                    paths: vec![],
                    values: vals(&["2", "4", "6"]),
                },
                Axis {
                    name: "mode".into(),
                    paths: vec![],
                    values: vals(&["a", "b"]),
                },
            ],
            seeds: vec![1],
        };
        let table = RunTable {
            metrics: vec![PASSED.into(), "m".into()],
            rows: vec![],
        };
        let points = (0..6)
            .map(|p| PointSummary {
                point: p,
                runs: 1,
                passed: p % 2,
                spreads: vec![
                    None,
                    (p != 3).then_some(Spread {
                        p5: p as f64,
                        p50: p as f64 + 1.0,
                        p95: p as f64 + 2.0,
                        p99: p as f64 + 3.0,
                    }),
                ],
            })
            .collect();
        (grid, table, points)
    }

    #[test]
    fn one_line_per_value_of_the_second_parameter() {
        let (g, t, p) = setup();
        let l = lines(&g, &t, &p, "m");
        assert_eq!(l.len(), 2);
        assert_eq!(l[0].label, "mode=a");
        // Points 0, 2, 4 are mode=a at nodes 2, 4, 6.
        assert_eq!(
            l[0].points,
            [
                (2.0, 0.0, 1.0, 2.0),
                (4.0, 2.0, 3.0, 4.0),
                (6.0, 4.0, 5.0, 6.0)
            ]
        );
        // Point 3 has no value: left out.
        assert_eq!(l[1].points.len(), 2);
        let pass = lines(&g, &t, &p, PASS_SHARE);
        assert_eq!(pass[1].points[0], (2.0, 1.0, 1.0, 1.0));
    }

    #[test]
    fn svg_is_deterministic_and_well_formed() {
        let (g, t, p) = setup();
        let a = svg(&g, &lines(&g, &t, &p, "m"), "m");
        assert_eq!(a, svg(&g, &lines(&g, &t, &p, "m"), "m"));
        assert!(a.starts_with("<svg") && a.ends_with("</svg>\n"));
        assert_eq!(a.matches("<polygon").count(), 2);
        assert!(a.contains("mode=b"));
        let empty = svg(&g, &lines(&g, &t, &p, "absent"), "absent");
        assert!(empty.contains("no data"));
        assert_eq!(file_name("cost.total"), "cost_total.svg");
    }
}
