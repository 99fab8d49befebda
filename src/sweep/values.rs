//! The `--set NAME=VALUES` syntax. VALUES is a comma-separated list of items; an item
//! is a single value (a number, or any other text such as a duration `5m`) or an
//! inclusive numeric range `a..b` (step 1) or `a..b:step`. Ranges work on integers and
//! decimals; they are computed in exact decimal arithmetic (scaled integers), so
//! `0.1..0.3:0.1` gives `0.1, 0.2, 0.3` and never `0.30000000000000004`. The end is
//! included when it lies on the grid (`0..10:4` gives `0, 4, 8`). Values keep their
//! given order; a value given twice is an error.

use thiserror::Error;

/// The most values one `--set` may produce.
pub const MAX_VALUES: usize = 10_000;

/// One value of a parameter, as text (numbers in their shortest decimal form).
#[derive(Debug, Clone, PartialEq)]
pub struct ParamValue {
    /// The text (`10`, `0.25`, `5m`).
    pub text: String,
    /// The number, when the text is one.
    pub number: Option<f64>,
}

impl ParamValue {
    /// A value from its text.
    pub fn new(text: &str) -> ParamValue {
        ParamValue {
            text: text.to_string(),
            number: parse_decimal(text).map(|d| d.to_f64()),
        }
    }
}

/// A malformed `--set` value list (the caller adds the place: which `--set`).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ValuesError {
    /// Nothing after `=`.
    #[error("no values (expected a..b, a..b:step or a comma list)")]
    Empty,
    /// An empty item in a list (`1,,2`).
    #[error("empty item in the list {0:?}")]
    EmptyItem(String),
    /// A range without a start or an end.
    #[error("range {0:?} needs a start and an end (a..b or a..b:step)")]
    OpenRange(String),
    /// A range bound or step that is not a number.
    #[error("range {item:?}: {part:?} is not a number")]
    NotANumber {
        /// The range.
        item: String,
        /// The offending part.
        part: String,
    },
    /// A step of zero or below.
    #[error("range {0:?}: the step must be greater than 0")]
    BadStep(String),
    /// A range whose end is before its start.
    #[error("range {0:?} ends before it starts")]
    Backwards(String),
    /// Too many values.
    #[error("more than {MAX_VALUES} values")]
    TooMany,
    /// A value given twice.
    #[error("value {0} is given twice")]
    Duplicate(String),
}

/// A decimal number as `mantissa / 10^scale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Decimal {
    mantissa: i128,
    scale: u32,
}

impl Decimal {
    fn rescale(self, scale: u32) -> i128 {
        self.mantissa * 10i128.pow(scale - self.scale)
    }

    fn to_f64(self) -> f64 {
        format_scaled(self.mantissa, self.scale)
            .parse()
            .unwrap_or(f64::NAN)
    }
}

/// Parses `-12`, `3.25`, `+4` (at most 18 digits either side of the point).
fn parse_decimal(text: &str) -> Option<Decimal> {
    let t = text.trim();
    let (neg, body) = match t.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (int, frac) = match body.split_once('.') {
        Some((i, f)) => (i, f),
        None => (body, ""),
    };
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if int.is_empty()
        || !digits(int)
        || !digits(frac)
        || int.len() > 18
        || frac.len() > 18
        || (body.contains('.') && frac.is_empty())
    {
        return None;
    }
    let scale = frac.len() as u32;
    let m: i128 = format!("{int}{frac}").parse().ok()?;
    Some(Decimal {
        mantissa: if neg { -m } else { m },
        scale,
    })
}

/// `mantissa / 10^scale` as the shortest decimal text (`1.50` -> `1.5`, `2.0` -> `2`).
fn format_scaled(mantissa: i128, scale: u32) -> String {
    let sign = if mantissa < 0 { "-" } else { "" };
    let a = mantissa.unsigned_abs();
    let p = 10u128.pow(scale);
    let (int, frac) = (a / p, a % p);
    if frac == 0 {
        return format!("{sign}{int}");
    }
    let frac = format!("{frac:0width$}", width = scale as usize);
    format!("{sign}{int}.{}", frac.trim_end_matches('0'))
}

/// Expands one range item `a..b` or `a..b:step`.
fn expand_range(
    item: &str,
    lo: &str,
    rest: &str,
    out: &mut Vec<ParamValue>,
) -> Result<(), ValuesError> {
    let (hi, step) = match rest.split_once(':') {
        Some((h, s)) => (h, Some(s)),
        None => (rest, None),
    };
    if lo.trim().is_empty() || hi.trim().is_empty() || step.is_some_and(|s| s.trim().is_empty()) {
        return Err(ValuesError::OpenRange(item.to_string()));
    }
    let num = |part: &str| {
        parse_decimal(part).ok_or_else(|| ValuesError::NotANumber {
            item: item.to_string(),
            part: part.trim().to_string(),
        })
    };
    let (a, b) = (num(lo)?, num(hi)?);
    let s = match step {
        Some(s) => num(s)?,
        None => Decimal {
            mantissa: 1,
            scale: 0,
        },
    };
    let scale = a.scale.max(b.scale).max(s.scale);
    let (a, b, s) = (a.rescale(scale), b.rescale(scale), s.rescale(scale));
    if s <= 0 {
        return Err(ValuesError::BadStep(item.to_string()));
    }
    if b < a {
        return Err(ValuesError::Backwards(item.to_string()));
    }
    let count = (b - a) / s + 1;
    if count + out.len() as i128 > MAX_VALUES as i128 {
        return Err(ValuesError::TooMany);
    }
    for k in 0..count {
        let text = format_scaled(a + k * s, scale);
        out.push(ParamValue::new(&text));
    }
    Ok(())
}

/// Parses VALUES.
pub fn parse_values(text: &str) -> Result<Vec<ParamValue>, ValuesError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(ValuesError::Empty);
    }
    let mut out: Vec<ParamValue> = Vec::new();
    for item in text.split(',') {
        let item = item.trim();
        if item.is_empty() {
            return Err(ValuesError::EmptyItem(text.to_string()));
        }
        match item.split_once("..") {
            Some((lo, rest)) => expand_range(item, lo, rest, &mut out)?,
            None => {
                if out.len() >= MAX_VALUES {
                    return Err(ValuesError::TooMany);
                }
                // Numbers in their canonical form, so `10` and `10.0` are one value.
                let text = match parse_decimal(item) {
                    Some(d) => format_scaled(d.mantissa, d.scale),
                    None => item.to_string(),
                };
                out.push(ParamValue::new(&text));
            }
        }
    }
    let mut sorted: Vec<&str> = out.iter().map(|v| v.text.as_str()).collect();
    sorted.sort_unstable();
    if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
        return Err(ValuesError::Duplicate(w[0].to_string()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &str) -> Vec<String> {
        parse_values(s)
            .unwrap()
            .into_iter()
            .map(|v| v.text)
            .collect()
    }

    #[test]
    fn integer_ranges() {
        assert_eq!(texts("10..50:10"), ["10", "20", "30", "40", "50"]);
        assert_eq!(texts("1..3"), ["1", "2", "3"]);
        assert_eq!(texts("0..10:4"), ["0", "4", "8"]);
        assert_eq!(texts("5..5"), ["5"]);
        assert_eq!(texts("-2..2:2"), ["-2", "0", "2"]);
    }

    #[test]
    fn decimal_ranges_are_exact() {
        assert_eq!(texts("0.1..0.3:0.1"), ["0.1", "0.2", "0.3"]);
        assert_eq!(texts("0.5..2:0.5"), ["0.5", "1", "1.5", "2"]);
        assert_eq!(texts("1..2:0.25"), ["1", "1.25", "1.5", "1.75", "2"]);
        assert_eq!(parse_values("0.25").unwrap()[0].number, Some(0.25));
    }

    #[test]
    fn lists_of_numbers_and_strings() {
        assert_eq!(texts("1000, 2000"), ["1000", "2000"]);
        assert_eq!(texts("30s,5m,1h"), ["30s", "5m", "1h"]);
        assert_eq!(texts("1..2,10"), ["1", "2", "10"]);
        assert_eq!(texts("2.50"), ["2.5"]);
        assert_eq!(parse_values("5m").unwrap()[0].number, None);
    }

    #[test]
    fn malformed() {
        use ValuesError::*;
        assert_eq!(parse_values(""), Err(Empty));
        assert_eq!(parse_values("10.."), Err(OpenRange("10..".into())));
        assert_eq!(parse_values("..5"), Err(OpenRange("..5".into())));
        assert_eq!(parse_values("1..5:"), Err(OpenRange("1..5:".into())));
        assert_eq!(parse_values("1..5:0"), Err(BadStep("1..5:0".into())));
        assert_eq!(parse_values("1..5:-1"), Err(BadStep("1..5:-1".into())));
        assert_eq!(parse_values("5..1"), Err(Backwards("5..1".into())));
        assert_eq!(
            parse_values("a..b"),
            Err(NotANumber {
                item: "a..b".into(),
                part: "a".into()
            })
        );
        assert!(matches!(parse_values("1..x:1"), Err(NotANumber { .. })));
        assert!(matches!(parse_values("1...3"), Err(NotANumber { .. })));
        assert_eq!(parse_values("1,,2"), Err(EmptyItem("1,,2".into())));
        assert_eq!(parse_values("1,2,1"), Err(Duplicate("1".into())));
        assert_eq!(parse_values("10,10.0"), Err(Duplicate("10".into())));
        assert_eq!(parse_values("0..100000"), Err(TooMany));
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// A range starts at its start, steps exactly, never passes its end, and stops
        /// less than one step before it.
        #[test]
        fn ranges_step_exactly(a in -1000i64..1000, len in 0i64..500, step in 1i64..50, dec in 0u32..3) {
            let scale = 10f64.powi(dec as i32);
            let f = |v: i64| format_scaled(v as i128, dec);
            let text = format!("{}..{}:{}", f(a), f(a + len), f(step));
            let v = parse_values(&text).unwrap();
            prop_assert_eq!(v.len() as i64, len / step + 1);
            for (k, x) in v.iter().enumerate() {
                let want = (a + k as i64 * step) as f64 / scale;
                prop_assert!((x.number.unwrap() - want).abs() < 1e-9, "{} vs {}", x.text, want);
            }
        }
    }
}
