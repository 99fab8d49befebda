//! SVG charts of the GPU fragmentation experiment: grouped bars of unallocated GPUs per
//! trace family (one bar per policy, error bars of one standard deviation over seeds)
//! and curves of allocation or fragmentation against the arrived workload, one per policy.

use crate::report::plots::colour;
use plotters::prelude::*;

const WIDTH: u32 = 900;
const HEIGHT: u32 = 420;

fn err<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// One bar: its mean and standard deviation.
pub type Bar = (f64, f64);

/// Grouped bar chart: `groups[g]` is the group's label and one bar per series.
pub fn bars_svg(
    title: &str,
    y_label: &str,
    series: &[&str],
    groups: &[(String, Vec<Bar>)],
) -> Result<String, String> {
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let y_hi = groups
            .iter()
            .flat_map(|(_, b)| b.iter().map(|(m, s)| m + s))
            .fold(1.0_f64, f64::max)
            * 1.15;
        let n = groups.len().max(1) as f64;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(56)
            .build_cartesian_2d(0.0..n, 0.0..y_hi)
            .map_err(err)?;
        let labels: Vec<String> = groups.iter().map(|(l, _)| l.clone()).collect();
        let x_fmt = |v: &f64| {
            let i = v.floor() as usize;
            if (v - i as f64 - 0.5).abs() < 1e-6 {
                labels.get(i).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(groups.len() * 2 + 1)
            .x_label_formatter(&x_fmt)
            .y_desc(y_label)
            .draw()
            .map_err(err)?;
        let k = series.len().max(1) as f64;
        let width = 0.8 / k;
        for (s, name) in series.iter().enumerate() {
            let c = colour(s);
            let rects = groups.iter().enumerate().filter_map(|(g, (_, bars))| {
                bars.get(s).map(|(m, _)| {
                    let x0 = g as f64 + 0.1 + s as f64 * width;
                    Rectangle::new([(x0, 0.0), (x0 + width * 0.9, *m)], c.filled())
                })
            });
            chart
                .draw_series(rects)
                .map_err(err)?
                .label(*name)
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], c.filled()));
            let whiskers = groups.iter().enumerate().filter_map(|(g, (_, bars))| {
                bars.get(s).map(|(m, sd)| {
                    let x = g as f64 + 0.1 + s as f64 * width + width * 0.45;
                    PathElement::new(vec![(x, (m - sd).max(0.0)), (x, m + sd)], BLACK)
                })
            });
            chart.draw_series(whiskers).map_err(err)?;
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperRight)
            .draw()
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(buf)
}

/// Line chart of `series` against the arrived workload (percent of GPU capacity).
pub fn curves_svg(
    title: &str,
    y_label: &str,
    x: &[f64],
    series: &[(&str, Vec<f64>)],
) -> Result<String, String> {
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let x_hi = x.iter().copied().fold(1.0_f64, f64::max);
        let y_hi = series
            .iter()
            .flat_map(|(_, v)| v.iter().copied())
            .filter(|v| v.is_finite())
            .fold(1.0_f64, f64::max)
            * 1.1;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(56)
            .build_cartesian_2d(0.0..x_hi, 0.0..y_hi)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("arrived workload (% of GPU capacity)")
            .y_desc(y_label)
            .draw()
            .map_err(err)?;
        for (i, (name, ys)) in series.iter().enumerate() {
            let c = colour(i);
            chart
                .draw_series(LineSeries::new(
                    x.iter().copied().zip(ys.iter().copied()),
                    c.stroke_width(2),
                ))
                .map_err(err)?
                .label(*name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 14, y)], c));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperLeft)
            .draw()
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_render() {
        let b = bars_svg(
            "t",
            "y",
            &["A", "B"],
            &[("g1".into(), vec![(3.0, 1.0), (2.0, 0.5)])],
        )
        .unwrap();
        assert!(
            b.contains("<svg") && b.contains("g1") && b.contains("<rect"),
            "{b}"
        );
        let c = curves_svg("t", "y", &[0.0, 1.0], &[("A", vec![0.0, 1.0])]).unwrap();
        assert!(c.contains("<polyline") || c.contains("<path"));
    }
}
