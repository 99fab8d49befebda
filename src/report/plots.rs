//! SVG charts for the run report.
//!
//! Every function here is pure: it takes the data and returns the SVG document as a
//! `String` (the caller writes the file). Charts are 900x420 px, drawn with plotters'
//! SVG backend, which emits `<text>` elements and therefore needs no font files.
//!
//! Conventions shared by both chart kinds:
//! - the x axis is simulated time in seconds, labelled in Go duration style (`0s`, `2m`,
//!   `1h30m`) on "nice" steps (1s, 5s, 1m, 15m, 1h, ...);
//! - the y axis runs from 0 (or below, if a line chart has negative values) to
//!   `max * 1.1`, and at least to 1;
//! - series get distinct colours from a fixed palette (cycled), and a legend is drawn
//!   in a column to the right of the plot so it never hides data;
//! - [`Marker`]s (the run's annotations) are dashed vertical lines in their kind's colour
//!   ([`kind_colour`]) with a small rotated label; windows are shaded spans; labels that
//!   would land too far from their line in a crowd are left out (the line stays, and the
//!   report's annotation list has every label); the legend ends with one entry per
//!   marker kind shown;
//! - no finite data at all gives a framed chart reading "no data".
//!
//! Output is deterministic: identical inputs give byte-identical SVG.

use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::annotations::AnnotationKind;

/// Chart width in pixels.
const WIDTH: u32 = 900;
/// Chart height in pixels.
const HEIGHT: u32 = 420;
/// Width of the legend column on the right.
const LEGEND_WIDTH: u32 = 170;
/// Font family used for every text element.
const FONT: &str = "sans-serif";
/// Longest legend entry, in characters, before it is shortened with an ellipsis.
const MAX_LEGEND_CHARS: usize = 22;
/// Longest marker label, in characters, before it is shortened with an ellipsis.
const MAX_MARKER_CHARS: usize = 40;
/// Minimum horizontal distance in pixels between two marker labels.
const MARKER_LABEL_GAP: i32 = 13;
/// Furthest a marker label is shifted right of its line (to clear earlier labels)
/// before it is left out.
const MAX_LABEL_SHIFT: i32 = 4 + 3 * MARKER_LABEL_GAP;

/// Series colours (Tableau 10), used in order and cycled.
const PALETTE: [RGBColor; 10] = [
    RGBColor(0x4e, 0x79, 0xa7),
    RGBColor(0xf2, 0x8e, 0x2b),
    RGBColor(0xe1, 0x57, 0x59),
    RGBColor(0x76, 0xb7, 0xb2),
    RGBColor(0x59, 0xa1, 0x4f),
    RGBColor(0xed, 0xc9, 0x48),
    RGBColor(0xb0, 0x7a, 0xa1),
    RGBColor(0xff, 0x9d, 0xa7),
    RGBColor(0x9c, 0x75, 0x5f),
    RGBColor(0xba, 0xb0, 0xac),
];
/// Text colour.
const TEXT: RGBColor = RGBColor(0x33, 0x33, 0x33);
/// Grid line colour.
const GRID: RGBColor = RGBColor(0xe6, 0xe6, 0xe6);
/// Axis line colour.
const AXIS: RGBColor = RGBColor(0x88, 0x88, 0x88);
/// Marker line and label colour.
const MARKER: RGBColor = RGBColor(0x55, 0x55, 0x55);

/// A timeline annotation drawn on a chart: a dashed vertical line in the colour of its
/// kind with a small rotated label, and for a window (`until_seconds`) a lightly shaded
/// span up to its end, e.g.
/// `Marker { t_seconds: 120.0, label: "F1 crash node-2".into(), until_seconds: Some(300.0), kind: AnnotationKind::Fault }`.
#[derive(Debug, Clone, PartialEq)]
pub struct Marker {
    /// Simulated time of the event, in seconds (same axis as the chart's x values).
    pub t_seconds: f64,
    /// Short text shown next to the line.
    pub label: String,
    /// End of a window, in seconds; `None` for an instant.
    pub until_seconds: Option<f64>,
    /// What the marker marks; picks the colour.
    pub kind: AnnotationKind,
}

impl Marker {
    /// An instant marker of kind [`AnnotationKind::Action`].
    pub fn action(t_seconds: f64, label: impl Into<String>) -> Self {
        Marker {
            t_seconds,
            label: label.into(),
            until_seconds: None,
            kind: AnnotationKind::Action,
        }
    }
}

/// Colour of the markers of a kind: grey actions, red faults, purple rollouts, green
/// autoscaling.
pub fn kind_colour(kind: AnnotationKind) -> RGBColor {
    match kind {
        AnnotationKind::Action => MARKER,
        AnnotationKind::Fault => RGBColor(0xc6, 0x28, 0x28),
        AnnotationKind::Rollout => RGBColor(0x6a, 0x3d, 0x9a),
        AnnotationKind::Autoscale => RGBColor(0x1b, 0x7e, 0x5a),
    }
}

/// Why a chart could not be drawn.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlotError {
    /// A series does not have one value per x value.
    #[error("series {series:?} has {got} values but there are {expected} x values")]
    LengthMismatch {
        /// Name of the offending series.
        series: String,
        /// Number of x values.
        expected: usize,
        /// Number of values in the series.
        got: usize,
    },
    /// The data spans a range too large to draw (an axis span overflows `f64`).
    #[error("{axis} axis range is too large to draw")]
    RangeTooLarge {
        /// `"x"` or `"y"`.
        axis: &'static str,
    },
    /// The drawing backend failed.
    #[error("drawing failed: {0}")]
    Backend(String),
}

/// Draws a line chart of `series` against simulated time `x_seconds`.
///
/// Each series must have exactly `x_seconds.len()` values. Non-finite values (NaN, ±inf),
/// in a series or in `x_seconds`, are gaps: the line is broken there, and a point
/// isolated between gaps is drawn as a dot. The y axis runs from `min(0, min * 1.1)` to
/// `max(max * 1.1, 1)`. Markers outside the time range are not drawn.
///
/// With no x values, no series, or no finite point, the chart reads "no data".
pub fn line_chart_svg(
    title: &str,
    y_label: &str,
    x_seconds: &[f64],
    series: &[(&str, &[f64])],
    markers: &[Marker],
) -> Result<String, PlotError> {
    check_lengths(x_seconds, series)?;
    let mut y_lo = 0.0_f64;
    let mut y_hi = f64::NEG_INFINITY;
    for (_, ys) in series {
        for (x, y) in x_seconds.iter().zip(ys.iter()) {
            if x.is_finite() && y.is_finite() {
                y_lo = y_lo.min(*y);
                y_hi = y_hi.max(*y);
            }
        }
    }
    if y_hi == f64::NEG_INFINITY {
        return no_data_svg(title, y_label);
    }
    let y_lo = if y_lo < 0.0 { y_lo * 1.1 } else { 0.0 };
    let frame = Frame::new(x_seconds, y_lo, y_hi)?;
    let legend: Vec<(String, RGBColor)> = series
        .iter()
        .enumerate()
        .map(|(i, (name, _))| ((*name).to_string(), colour(i)))
        .collect();
    render(title, y_label, &frame, &legend, markers, |chart| {
        for (i, (_, ys)) in series.iter().enumerate() {
            let style = ShapeStyle::from(colour(i)).stroke_width(2);
            for seg in segments(x_seconds, ys) {
                if let [only] = seg.as_slice() {
                    chart
                        .draw_series(std::iter::once(Circle::new(*only, 2, style.filled())))
                        .map_err(backend)?;
                } else {
                    chart
                        .draw_series(LineSeries::new(seg, style))
                        .map_err(backend)?;
                }
            }
        }
        Ok(())
    })
}

/// Draws stacked areas (e.g. pods by phase) of `series` against simulated time
/// `x_seconds`; the first series is the bottom band.
///
/// Each series must have exactly `x_seconds.len()` values. Points with a non-finite x are
/// skipped; non-finite or negative values count as 0 in the stack. The y axis runs from 0
/// to `max(total * 1.1, 1)`. The legend lists the top band first, matching the picture.
///
/// With no x values, no series, or no finite point, the chart reads "no data".
pub fn stacked_area_svg(
    title: &str,
    y_label: &str,
    x_seconds: &[f64],
    series: &[(&str, &[f64])],
    markers: &[Marker],
) -> Result<String, PlotError> {
    check_lengths(x_seconds, series)?;
    let idx: Vec<usize> = (0..x_seconds.len())
        .filter(|&i| x_seconds[i].is_finite())
        .collect();
    let any_value = series
        .iter()
        .any(|(_, ys)| idx.iter().any(|&i| ys[i].is_finite()));
    if idx.is_empty() || !any_value {
        return no_data_svg(title, y_label);
    }
    // Cumulative tops of each band, per finite-x point.
    let mut bands: Vec<Vec<f64>> = Vec::with_capacity(series.len());
    let mut running = vec![0.0_f64; idx.len()];
    for (_, ys) in series {
        for (acc, &i) in running.iter_mut().zip(idx.iter()) {
            let v = ys[i];
            if v.is_finite() && v > 0.0 {
                *acc += v;
            }
        }
        bands.push(running.clone());
    }
    let y_hi = running.iter().copied().fold(0.0_f64, f64::max);
    let frame = Frame::new(x_seconds, 0.0, y_hi)?;
    let legend: Vec<(String, RGBColor)> = series
        .iter()
        .enumerate()
        .rev()
        .map(|(i, (name, _))| ((*name).to_string(), colour(i)))
        .collect();
    render(title, y_label, &frame, &legend, markers, |chart| {
        let xs: Vec<f64> = idx.iter().map(|&i| x_seconds[i]).collect();
        let zeros = vec![0.0_f64; xs.len()];
        for (i, top) in bands.iter().enumerate() {
            let bottom = if i == 0 { &zeros } else { &bands[i - 1] };
            let mut pts: Vec<(f64, f64)> = xs.iter().copied().zip(top.iter().copied()).collect();
            pts.extend(xs.iter().copied().zip(bottom.iter().copied()).rev());
            chart
                .draw_series(std::iter::once(Polygon::new(
                    pts,
                    colour(i).mix(0.85).filled(),
                )))
                .map_err(backend)?;
        }
        Ok(())
    })
}

/// Formats a number of seconds as a Go-style duration with zero units left out:
/// `0s`, `500ms`, `45s`, `2m`, `1h30m`, `1m2.5s`, `-30s`; non-finite input gives `n/a`.
///
/// Time is rounded to the millisecond (below one millisecond, microseconds are shown);
/// hours are the largest unit, as in Go (`48h`).
pub fn fmt_dur(secs: f64) -> String {
    if !secs.is_finite() {
        return "n/a".to_string();
    }
    let sign = if secs < 0.0 { "-" } else { "" };
    let a = secs.abs();
    if a == 0.0 {
        return "0s".to_string();
    }
    if a < 0.000_5 {
        return format!("{sign}{}µs", trim_decimals(a * 1e6, 3));
    }
    if a >= 1e15 {
        return format!("{sign}{a:e}s");
    }
    // Bounded above by 1e18, so the conversion cannot saturate.
    let ms = (a * 1000.0).round() as u64;
    if ms < 1000 {
        return format!("{sign}{ms}ms");
    }
    let h = ms / 3_600_000;
    let m = ms / 60_000 % 60;
    let s_ms = ms % 60_000;
    let mut out = String::from(sign);
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s_ms > 0 {
        let (s, frac) = (s_ms / 1000, s_ms % 1000);
        if frac == 0 {
            out.push_str(&format!("{s}s"));
        } else {
            let f = format!("{frac:03}");
            out.push_str(&format!("{s}.{}s", f.trim_end_matches('0')));
        }
    }
    out
}

/// Formats an axis value given the tick step: SI suffixes (k, M, G, T) from 10 000 up
/// (or from 1000 when the step is at least 1000), scientific notation from 1e15, and
/// as many decimals as the step needs.
fn fmt_num(v: f64, step: f64) -> String {
    if !v.is_finite() {
        return "n/a".to_string();
    }
    let a = v.abs();
    if a >= 1e15 {
        return format!("{v:.2e}");
    }
    if a >= 1e4 || (a >= 1e3 && step >= 1e3) {
        for (scale, suffix) in [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")] {
            if a >= scale {
                return format!(
                    "{}{suffix}",
                    trim_decimals(v / scale, decimals(step / scale))
                );
            }
        }
    }
    trim_decimals(v, decimals(step))
}

/// Number of decimals needed to show multiples of `step` exactly (0 to 6).
fn decimals(step: f64) -> usize {
    if !(step.is_finite() && step > 0.0) || step >= 1.0 {
        return 0;
    }
    let d = (-step.log10()).ceil();
    // Clamped to 0..=6 before the conversion.
    d.clamp(0.0, 6.0) as usize
}

/// Formats `v` with at most `max_dec` decimals, trailing zeros removed, and no `-0`.
fn trim_decimals(v: f64, max_dec: usize) -> String {
    let s = format!("{v:.max_dec$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    if s == "-0" { "0".to_string() } else { s }
}

/// Smallest "nice" number (1, 2 or 5 times a power of ten) that is at least `raw`.
fn nice_step(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let p = 10f64.powf(raw.log10().floor());
    for m in [1.0, 2.0, 5.0, 10.0] {
        if m * p >= raw * (1.0 - 1e-12) {
            return m * p;
        }
    }
    10.0 * p
}

/// Step in seconds for time ticks, so a span gets at most about 8 ticks: sub-second
/// steps are 1-2-5, then 1s..30s, 1m..30m, 1h..12h, then 1-2-5 multiples of a day.
fn time_step(span: f64) -> f64 {
    const STEPS: [f64; 16] = [
        1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0,
        21600.0, 43200.0,
    ];
    let target = span / 8.0;
    if target <= 1.0 {
        return nice_step(target).min(1.0);
    }
    for s in STEPS {
        if s >= target {
            return s;
        }
    }
    86400.0 * nice_step(target / 86400.0)
}

/// Multiples of `step` within `[lo, hi]` (at most a few dozen for the steps used here).
fn ticks(lo: f64, hi: f64, step: f64) -> Vec<f64> {
    let first = (lo / step).ceil();
    let last = (hi / step).floor();
    let mut out = Vec::new();
    let mut k = first;
    while k <= last && out.len() < 64 {
        // Avoid -0 and accumulated error: compute each tick from its index.
        out.push(if k == 0.0 { 0.0 } else { k * step });
        k += 1.0;
    }
    out
}

/// Axis ranges and ticks of a chart with data.
struct Frame {
    /// Time range.
    x: (f64, f64),
    /// Value range.
    y: (f64, f64),
    /// Time tick positions.
    x_ticks: Vec<f64>,
    /// Value tick positions.
    y_ticks: Vec<f64>,
    /// Value tick step (for label formatting).
    y_step: f64,
}

impl Frame {
    /// Builds the frame from the x values (non-finite ones ignored) and the value extent.
    fn new(xs: &[f64], y_lo: f64, y_hi: f64) -> Result<Self, PlotError> {
        let finite = xs.iter().copied().filter(|x| x.is_finite());
        let x_lo = finite.clone().fold(f64::INFINITY, f64::min);
        let x_hi = finite.fold(f64::NEG_INFINITY, f64::max);
        let (x_lo, x_hi) = if x_lo < x_hi {
            (x_lo, x_hi)
        } else {
            // A single instant: show one second after it.
            (x_lo, x_lo + 1.0)
        };
        let x_span = x_hi - x_lo;
        if !x_span.is_finite() || x_span <= 0.0 {
            return Err(PlotError::RangeTooLarge { axis: "x" });
        }
        let y_hi = (y_hi * 1.1).max(1.0);
        let y_span = y_hi - y_lo;
        if !y_span.is_finite() {
            return Err(PlotError::RangeTooLarge { axis: "y" });
        }
        let x_step = time_step(x_span);
        let y_step = nice_step(y_span / 6.0);
        Ok(Self {
            x: (x_lo, x_hi),
            y: (y_lo, y_hi),
            x_ticks: ticks(x_lo, x_hi, x_step),
            y_ticks: ticks(y_lo, y_hi, y_step),
            y_step,
        })
    }
}

/// A linear `f64` axis whose tick positions are given explicitly.
///
/// (plotters' own `f64` axis wrapped in `with_key_points` cannot take a custom label
/// formatter, hence this small axis type.)
#[derive(Debug, Clone)]
struct Axis {
    /// Lowest value shown.
    lo: f64,
    /// Highest value shown.
    hi: f64,
    /// Tick positions.
    ticks: Vec<f64>,
}

impl Ranged for Axis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        // Same mapping as plotters' RangedCoordf64.
        let len = limit.1 - limit.0;
        if len == 0 || self.hi == self.lo {
            return limit.0 + len / 2;
        }
        let frac = (*v - self.lo) / (self.hi - self.lo);
        if !frac.is_finite() {
            return if frac > 0.0 { limit.1 } else { limit.0 };
        }
        // `as` saturates, so far-off values land beyond the edge without panicking.
        if len > 0 {
            limit.0 + (f64::from(len) * frac + 1e-3).floor() as i32
        } else {
            limit.0 + (f64::from(len) * frac - 1e-3).ceil() as i32
        }
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

/// Chart type used by both chart kinds.
type Chart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<Axis, Axis>>;

/// Checks that every series has one value per x value.
fn check_lengths(xs: &[f64], series: &[(&str, &[f64])]) -> Result<(), PlotError> {
    for (name, ys) in series {
        if ys.len() != xs.len() {
            return Err(PlotError::LengthMismatch {
                series: (*name).to_string(),
                expected: xs.len(),
                got: ys.len(),
            });
        }
    }
    Ok(())
}

/// Colour of series `i` (the palette, cycled); every chart kubetwin draws uses it.
pub fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// [`colour`] as an SVG `#rrggbb` string, for charts written without plotters.
pub fn colour_hex(i: usize) -> String {
    let RGBColor(r, g, b) = colour(i);
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// Converts any drawing error into [`PlotError::Backend`].
fn backend<E: std::fmt::Display>(e: E) -> PlotError {
    PlotError::Backend(e.to_string())
}

/// Shortens `s` to at most `max` characters, ending with an ellipsis when cut.
fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// Runs of consecutive points where both x and y are finite.
fn segments(xs: &[f64], ys: &[f64]) -> Vec<Vec<(f64, f64)>> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    for (&x, &y) in xs.iter().zip(ys.iter()) {
        if x.is_finite() && y.is_finite() {
            cur.push((x, y));
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Text style of the given size and colour.
fn text_style(size: u32, c: &'static RGBColor) -> TextStyle<'static> {
    (FONT, size).into_font().color(c)
}

/// Draws the whole chart into a fresh SVG string; `draw_data` draws the series.
fn render<F>(
    title: &str,
    y_label: &str,
    frame: &Frame,
    legend: &[(String, RGBColor)],
    markers: &[Marker],
    draw_data: F,
) -> Result<String, PlotError>
where
    F: FnOnce(&mut Chart<'_, '_>) -> Result<(), PlotError>,
{
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(backend)?;
        let body = draw_title(&root, title)?;
        let (plot_area, legend_area) = body.split_horizontally(WIDTH - LEGEND_WIDTH);

        let mut chart = ChartBuilder::on(&plot_area)
            .margin_top(8)
            .margin_left(8)
            .margin_right(12)
            .margin_bottom(4)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d(
                Axis {
                    lo: frame.x.0,
                    hi: frame.x.1,
                    ticks: frame.x_ticks.clone(),
                },
                Axis {
                    lo: frame.y.0,
                    hi: frame.y.1,
                    ticks: frame.y_ticks.clone(),
                },
            )
            .map_err(backend)?;
        let x_fmt = |v: &f64| fmt_dur(*v);
        let y_fmt = |v: &f64| fmt_num(*v, frame.y_step);
        chart
            .configure_mesh()
            .bold_line_style(GRID)
            .axis_style(AXIS)
            .label_style(text_style(13, &TEXT))
            .axis_desc_style(text_style(14, &TEXT))
            .x_desc("simulated time")
            .y_desc(y_label)
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&y_fmt)
            .draw()
            .map_err(backend)?;

        draw_spans(&mut chart, frame, markers)?;
        draw_data(&mut chart)?;
        draw_markers(&mut chart, frame, markers)?;
        let mut entries = legend.to_vec();
        entries.extend(
            marker_kinds(frame, markers)
                .into_iter()
                .map(|k| (format!("{} marker", k.as_str()), kind_colour(k))),
        );
        draw_legend(&legend_area, &entries)?;
        root.present().map_err(backend)?;
    }
    Ok(buf)
}

/// Draws the title and returns the area below it.
fn draw_title<'a>(
    root: &DrawingArea<SVGBackend<'a>, Shift>,
    title: &str,
) -> Result<DrawingArea<SVGBackend<'a>, Shift>, PlotError> {
    let style = (FONT, 20, FontStyle::Bold)
        .into_font()
        .color(&TEXT)
        .pos(Pos::new(HPos::Center, VPos::Top));
    root.draw(&Text::new(
        shorten(title, 80),
        ((WIDTH / 2) as i32, 10),
        style,
    ))
    .map_err(backend)?;
    let (_, body) = root.split_vertically(40);
    Ok(body)
}

/// Draws the legend entries down the legend column.
fn draw_legend(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    entries: &[(String, RGBColor)],
) -> Result<(), PlotError> {
    const TOP: i32 = 16;
    const ROW: i32 = 20;
    let (_, h) = area.dim_in_pixel();
    let fits = usize::try_from((h as i32 - TOP - 50) / ROW)
        .unwrap_or(0)
        .max(1);
    let style = text_style(13, &TEXT).pos(Pos::new(HPos::Left, VPos::Center));
    for (row, (name, c)) in entries.iter().enumerate() {
        let y = TOP + ROW * row as i32;
        if row + 1 == fits && entries.len() > fits {
            let more = format!("+{} more", entries.len() - row);
            area.draw(&Text::new(more, (26, y), style.clone()))
                .map_err(backend)?;
            break;
        }
        area.draw(&Rectangle::new([(4, y - 6), (18, y + 6)], c.filled()))
            .map_err(backend)?;
        area.draw(&Text::new(
            shorten(name, MAX_LEGEND_CHARS),
            (26, y),
            style.clone(),
        ))
        .map_err(backend)?;
    }
    Ok(())
}

/// Whether a marker (or its window) shows inside the time range.
fn visible(frame: &Frame, m: &Marker) -> bool {
    let end = m
        .until_seconds
        .filter(|u| u.is_finite())
        .unwrap_or(m.t_seconds);
    m.t_seconds.is_finite() && m.t_seconds <= frame.x.1 && end.max(m.t_seconds) >= frame.x.0
}

/// The kinds of the visible markers, in kind order.
fn marker_kinds(frame: &Frame, markers: &[Marker]) -> Vec<AnnotationKind> {
    let mut kinds: Vec<AnnotationKind> = markers
        .iter()
        .filter(|m| visible(frame, m))
        .map(|m| m.kind)
        .collect();
    kinds.sort();
    kinds.dedup();
    kinds
}

/// Shades the windows (markers with an end) that overlap the time range.
fn draw_spans(
    chart: &mut Chart<'_, '_>,
    frame: &Frame,
    markers: &[Marker],
) -> Result<(), PlotError> {
    for m in markers.iter().filter(|m| visible(frame, m)) {
        let Some(until) = m.until_seconds.filter(|u| u.is_finite()) else {
            continue;
        };
        let (a, b) = (m.t_seconds.max(frame.x.0), until.min(frame.x.1));
        if b <= a {
            continue;
        }
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(a, frame.y.0), (b, frame.y.1)],
                kind_colour(m.kind).mix(0.12).filled(),
            )))
            .map_err(backend)?;
    }
    Ok(())
}

/// Draws the markers whose time falls inside the time range, shifting labels of markers
/// that are too close together so they do not overlap; a label that would land more
/// than [`MAX_LABEL_SHIFT`] pixels from its line is left out.
fn draw_markers(
    chart: &mut Chart<'_, '_>,
    frame: &Frame,
    markers: &[Marker],
) -> Result<(), PlotError> {
    let mut shown: Vec<&Marker> = markers
        .iter()
        .filter(|m| m.t_seconds.is_finite() && m.t_seconds >= frame.x.0 && m.t_seconds <= frame.x.1)
        .collect();
    shown.sort_by(|a, b| a.t_seconds.total_cmp(&b.t_seconds));
    let mut last_label_px: Option<i32> = None;
    let (plot_right, _) = chart.backend_coord(&(frame.x.1, frame.y.1));
    for m in shown {
        let c = kind_colour(m.kind);
        let line = ShapeStyle::from(c.mix(0.8)).stroke_width(1);
        chart
            .draw_series(DashedLineSeries::new(
                [(m.t_seconds, frame.y.0), (m.t_seconds, frame.y.1)],
                6,
                4,
                line,
            ))
            .map_err(backend)?;
        let (px, _) = chart.backend_coord(&(m.t_seconds, frame.y.1));
        let label_px = match last_label_px {
            Some(last) if px + 4 < last + MARKER_LABEL_GAP => last + MARKER_LABEL_GAP,
            _ => px + 4,
        };
        if label_px - px > MAX_LABEL_SHIFT || label_px > plot_right + 4 {
            continue;
        }
        last_label_px = Some(label_px);
        let label_style = (FONT, 11)
            .into_font()
            .color(&c)
            .transform(FontTransform::Rotate270)
            .pos(Pos::new(HPos::Right, VPos::Top));
        let anchor = EmptyElement::at((m.t_seconds, frame.y.1))
            + Text::new(
                shorten(&m.label, MAX_MARKER_CHARS),
                (label_px - px, 4),
                label_style,
            );
        chart.plotting_area().draw(&anchor).map_err(backend)?;
    }
    Ok(())
}

/// A framed chart with the title and a centred "no data".
fn no_data_svg(title: &str, y_label: &str) -> Result<String, PlotError> {
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(backend)?;
        let body = draw_title(&root, title)?;
        let (w, h) = body.dim_in_pixel();
        let (w, h) = (w as i32, h as i32);
        body.draw(&Rectangle::new([(20, 10), (w - 20, h - 20)], AXIS))
            .map_err(backend)?;
        let centre = Pos::new(HPos::Center, VPos::Center);
        body.draw(&Text::new(
            "no data",
            (w / 2, h / 2 - 10),
            text_style(18, &AXIS).pos(centre),
        ))
        .map_err(backend)?;
        if !y_label.is_empty() {
            body.draw(&Text::new(
                shorten(y_label, 80),
                (w / 2, h / 2 + 14),
                text_style(12, &AXIS).pos(centre),
            ))
            .map_err(backend)?;
        }
        root.present().map_err(backend)?;
    }
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let xs: Vec<f64> = (0..=60).map(|i| f64::from(i) * 60.0).collect();
        let a: Vec<f64> = (0..=60).map(|i| f64::from(i % 17)).collect();
        let b: Vec<f64> = (0..=60)
            .map(|i| {
                if (20..25).contains(&i) {
                    f64::NAN
                } else {
                    f64::from(i) / 4.0
                }
            })
            .collect();
        (xs, a, b)
    }

    fn markers() -> Vec<Marker> {
        vec![
            Marker::action(600.0, "crash node-2"),
            Marker::action(620.0, "scale web to 5"),
            Marker::action(2400.0, "recover node-2"),
            Marker::action(99999.0, "outside"),
        ]
    }

    #[test]
    fn fmt_dur_go_style() {
        assert_eq!(fmt_dur(0.0), "0s");
        assert_eq!(fmt_dur(45.0), "45s");
        assert_eq!(fmt_dur(120.0), "2m");
        assert_eq!(fmt_dur(5400.0), "1h30m");
        assert_eq!(fmt_dur(3600.0), "1h");
        assert_eq!(fmt_dur(3661.0), "1h1m1s");
        assert_eq!(fmt_dur(62.5), "1m2.5s");
        assert_eq!(fmt_dur(0.5), "500ms");
        assert_eq!(fmt_dur(0.000_25), "250µs");
        assert_eq!(fmt_dur(-30.0), "-30s");
        assert_eq!(fmt_dur(172_800.0), "48h");
        assert_eq!(fmt_dur(59.9999), "1m");
        assert_eq!(fmt_dur(f64::NAN), "n/a");
        assert_eq!(fmt_dur(f64::INFINITY), "n/a");
        assert_eq!(fmt_dur(1e20), "1e20s");
    }

    #[test]
    fn fmt_num_and_steps() {
        assert_eq!(fmt_num(0.0, 0.2), "0");
        assert_eq!(fmt_num(0.4, 0.2), "0.4");
        assert_eq!(fmt_num(5.0, 1.0), "5");
        assert_eq!(fmt_num(20_000.0, 5000.0), "20k");
        assert_eq!(fmt_num(2_500_000_000.0, 500_000_000.0), "2.5G");
        assert_eq!(fmt_num(1500.0, 500.0), "1500");
        assert_eq!(fmt_num(2000.0, 1000.0), "2k");
        assert_eq!(fmt_num(-0.0, 1.0), "0");
        assert_eq!(fmt_num(2e20, 1e20), "2.00e20");
        assert_eq!(nice_step(0.3), 0.5);
        assert_eq!(nice_step(7.0), 10.0);
        assert_eq!(nice_step(2.0), 2.0);
        assert_eq!(time_step(3600.0), 600.0);
        assert_eq!(time_step(30.0), 5.0);
        assert_eq!(time_step(4.0), 0.5);
        assert_eq!(time_step(86400.0 * 30.0), 86400.0 * 5.0);
        assert_eq!(ticks(0.0, 3600.0, 600.0).len(), 7);
    }

    #[test]
    fn line_chart_has_text_and_is_deterministic() {
        let (xs, a, b) = sample();
        let series: [(&str, &[f64]); 2] = [("ready pods", &a), ("pending <pods>", &b)];
        let svg = line_chart_svg("Pods & nodes", "count", &xs, &series, &markers()).unwrap();
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("<text"));
        assert!(svg.contains("Pods &amp; nodes"));
        assert!(svg.contains("pending &lt;pods&gt;"));
        assert!(svg.contains("\ncrash node-2\n"));
        assert!(!svg.contains("outside"));
        for label in ["\n0s\n", "\n10m\n", "\n1h\n"] {
            assert!(svg.contains(label), "missing tick {label:?}");
        }
        assert!(svg.contains("width=\"900\"") && svg.contains("height=\"420\""));
        let again = line_chart_svg("Pods & nodes", "count", &xs, &series, &markers()).unwrap();
        assert_eq!(svg, again);
    }

    #[test]
    fn stacked_area_is_deterministic() {
        let (xs, a, b) = sample();
        let series: [(&str, &[f64]); 2] = [("Running", &a), ("Pending", &b)];
        let svg = stacked_area_svg("Pods by phase", "pods", &xs, &series, &markers()).unwrap();
        assert!(svg.contains("<polygon"));
        assert!(svg.contains("\nRunning\n") && svg.contains("\nPending\n"));
        let again = stacked_area_svg("Pods by phase", "pods", &xs, &series, &markers()).unwrap();
        assert_eq!(svg, again);
    }

    #[test]
    fn empty_and_degenerate_inputs_do_not_panic() {
        for f in [line_chart_svg, stacked_area_svg] {
            let svg = f("t", "y", &[], &[], &[]).unwrap();
            assert!(svg.contains("no data"));
            let nan = [f64::NAN, f64::NAN];
            let svg = f("t", "y", &[0.0, 1.0], &[("s", &nan)], &[]).unwrap();
            assert!(svg.contains("no data"));
            let svg = f("t", "y", &[f64::NAN, 5.0], &[("s", &[1.0, 2.0])], &[]).unwrap();
            assert!(!svg.contains("no data"));
            // Single point, zero values, infinite values, non-finite marker.
            let m = [Marker::action(f64::NAN, "x")];
            f("t", "y", &[7.0], &[("s", &[0.0])], &m).unwrap();
            f("t", "y", &[0.0, 1.0], &[("s", &[f64::INFINITY, -1.0])], &m).unwrap();
            f("t", "y", &[-1e308, 1e308], &[("s", &[1.0, 1.0])], &[]).unwrap_err();
            f("t", "y", &[0.0, 1.0], &[("s", &[1.7e308, 1.0])], &[]).unwrap_err();
            f("t", "y", &[0.0, 1.0], &[("s", &[1e300, 1.0])], &[]).unwrap();
        }
    }

    #[test]
    fn windows_are_shaded_and_crowded_labels_dropped() {
        let (xs, a, _) = sample();
        let mut marks = vec![Marker {
            t_seconds: 300.0,
            label: "F1 zone b outage".into(),
            until_seconds: Some(900.0),
            kind: AnnotationKind::Fault,
        }];
        // Twenty markers within one second: only the first few keep a label.
        marks.extend((0..20).map(|i| Marker {
            t_seconds: 1800.0 + f64::from(i) * 0.01,
            label: format!("S{} burst", i + 1),
            until_seconds: None,
            kind: AnnotationKind::Autoscale,
        }));
        let series: [(&str, &[f64]); 1] = [("ready", &a)];
        let svg = line_chart_svg("t", "y", &xs, &series, &marks).unwrap();
        assert!(svg.contains("\nF1 zone b outage\n"));
        assert!(svg.contains("opacity=\"0.12\" fill=\"#C62828\""));
        assert!(svg.contains("\nfault marker\n") && svg.contains("\nautoscale marker\n"));
        assert!(svg.contains("\nS1 burst\n"));
        assert!(!svg.contains("\nS20 burst\n"));
        let labelled = (1..=20)
            .filter(|i| svg.contains(&format!("\nS{i} burst\n")))
            .count();
        assert!((2..=5).contains(&labelled), "{labelled}");
    }

    #[test]
    fn length_mismatch_is_an_error() {
        let err = line_chart_svg("t", "y", &[0.0, 1.0], &[("s", &[1.0])], &[]).unwrap_err();
        assert_eq!(
            err,
            PlotError::LengthMismatch {
                series: "s".into(),
                expected: 2,
                got: 1
            }
        );
        assert!(stacked_area_svg("t", "y", &[0.0], &[("s", &[])], &[]).is_err());
    }

    #[test]
    fn many_series_cycle_colours_and_truncate_legend() {
        let xs = [0.0, 10.0];
        let vals: Vec<Vec<f64>> = (0..30).map(|i| vec![f64::from(i), 1.0]).collect();
        let names: Vec<String> = (0..30).map(|i| format!("series-{i}")).collect();
        let series: Vec<(&str, &[f64])> = names
            .iter()
            .zip(vals.iter())
            .map(|(n, v)| (n.as_str(), v.as_slice()))
            .collect();
        let svg = line_chart_svg("many", "v", &xs, &series, &[]).unwrap();
        assert!(svg.contains("more\n"));
    }
}
