//! Reading a load time series from CSV (`csv: {path: load.csv}`): a header `time,rps`,
//! then one point per line, `time` in seconds (`90`, `1.5`) or as a Go duration
//! (`1m30s`), `rps` a non-negative number. Times must increase strictly. Blank lines
//! and lines starting with `#` are skipped. Every error names the CSV file, its line and
//! column and the column's name.

use crate::engine::SimDuration;
use crate::error::InputError;

/// Parses CSV text (`file` names it in errors) into (time s, rps) points.
pub fn parse(text: &str, file: &str) -> Result<Vec<(f64, f64)>, InputError> {
    let err = |line: usize, col: usize, field: &str, msg: String| {
        InputError::at(file, line, col, field, msg).with_source(text)
    };
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    let Some((hline, header)) = lines.next() else {
        return Err(err(
            1,
            1,
            "",
            "empty load CSV: expected a header `time,rps`".into(),
        ));
    };
    let cols: Vec<&str> = header.split(',').map(str::trim).collect();
    if cols != ["time", "rps"] {
        return Err(err(
            hline,
            1,
            "",
            format!("expected the header `time,rps`, got {header:?}"),
        ));
    }
    let mut points: Vec<(f64, f64)> = Vec::new();
    for (line, l) in lines {
        let fields: Vec<&str> = l.split(',').collect();
        if fields.len() != 2 {
            return Err(err(
                line,
                1,
                "",
                format!("expected 2 fields (time,rps), got {}", fields.len()),
            ));
        }
        let rps_col = fields[0].len() + 2;
        let (t_text, r_text) = (fields[0].trim(), fields[1].trim());
        let t = match t_text.parse::<f64>() {
            Ok(v) if v.is_finite() && v >= 0.0 => v,
            Ok(_) => {
                return Err(err(
                    line,
                    1,
                    "time",
                    format!("must be a non-negative number of seconds, got {t_text:?}"),
                ));
            }
            Err(_) => SimDuration::parse(t_text)
                .map_err(|e| {
                    err(
                        line,
                        1,
                        "time",
                        format!("expected seconds or a duration such as 1m30s: {e}"),
                    )
                })?
                .as_secs_f64(),
        };
        let rps = match r_text.parse::<f64>() {
            Ok(v) if v.is_finite() && v >= 0.0 => v,
            _ => {
                return Err(err(
                    line,
                    rps_col,
                    "rps",
                    format!("expected a non-negative number, got {r_text:?}"),
                ));
            }
        };
        if let Some((prev, _)) = points.last()
            && t <= *prev
        {
            return Err(err(
                line,
                1,
                "time",
                format!("times must increase: {t_text} is not after the previous row's {prev} s"),
            ));
        }
        points.push((t, rps));
    }
    if points.is_empty() {
        return Err(err(hline, 1, "", "no data rows after the header".into()));
    }
    Ok(points)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_seconds_and_durations() {
        let p = parse(
            "time,rps\n0,100\n\n# comment\n1m30s,250.5\n120,0\n",
            "l.csv",
        )
        .unwrap();
        assert_eq!(p, vec![(0.0, 100.0), (90.0, 250.5), (120.0, 0.0)]);
    }

    #[test]
    fn errors_name_line_and_column() {
        let e = parse("time,rps\n0,100\n60,lots\n", "l.csv").unwrap_err();
        assert_eq!((e.line, e.column, e.field.as_str()), (3, 4, "rps"));
        let e = parse("time,rps\n0,100\n60,10\n30,10\n", "l.csv").unwrap_err();
        assert_eq!((e.line, e.field.as_str()), (4, "time"));
        assert!(e.message.contains("increase"), "{}", e.message);
        let e = parse("time,rps\n0,1\nsoon,5\n", "l.csv").unwrap_err();
        assert_eq!((e.line, e.field.as_str()), (3, "time"));
        let e = parse("t,r\n0,1\n", "l.csv").unwrap_err();
        assert_eq!(e.line, 1);
        let e = parse("time,rps\n0,1,2\n", "l.csv").unwrap_err();
        assert_eq!(e.line, 2);
        let e = parse("time,rps\n0,-1\n", "l.csv").unwrap_err();
        assert_eq!(e.field, "rps");
        assert!(parse("time,rps\n", "l.csv").is_err());
        assert!(e.to_string().starts_with("l.csv:2:"), "{e}");
    }
}
