//! Integer virtual time. [`SimTime`] is an instant and [`SimDuration`] a span, both in
//! nanoseconds since the start of the run, never floats. Durations parse and print in
//! Go's `time.Duration` syntax (`90s`, `1h30m`, `250ms`), as Kubernetes users write them.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::ops::{Add, AddAssign, Sub};

const NS_PER_US: u64 = 1_000;
const NS_PER_MS: u64 = 1_000_000;
const NS_PER_S: u64 = 1_000_000_000;
const NS_PER_M: u64 = 60 * NS_PER_S;
const NS_PER_H: u64 = 60 * NS_PER_M;

/// An instant of virtual time, in nanoseconds since the run started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SimTime(pub u64);

/// A non-negative span of virtual time, in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SimDuration(pub u64);

impl SimTime {
    /// The start of every run.
    pub const ZERO: SimTime = SimTime(0);
    /// The largest representable instant ("never").
    pub const MAX: SimTime = SimTime(u64::MAX);

    /// Nanoseconds since the start.
    pub fn as_nanos(self) -> u64 {
        self.0
    }
    /// Whole milliseconds since the start (truncated).
    pub fn as_millis(self) -> u64 {
        self.0 / NS_PER_MS
    }
    /// Seconds since the start as a float (for plots and reports only).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NS_PER_S as f64
    }
    /// Whole seconds since the start (truncated).
    pub fn as_secs(self) -> u64 {
        self.0 / NS_PER_S
    }
    /// The instant `secs` seconds after the start.
    pub fn from_secs(secs: u64) -> SimTime {
        SimTime(secs.saturating_mul(NS_PER_S))
    }
    /// The span since `earlier`, zero if `earlier` is later.
    pub fn since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
    /// This instant as a duration since the start.
    pub fn as_duration(self) -> SimDuration {
        SimDuration(self.0)
    }
}

impl SimDuration {
    /// No time at all.
    pub const ZERO: SimDuration = SimDuration(0);

    /// A span of whole seconds.
    pub const fn from_secs(s: u64) -> SimDuration {
        SimDuration(s.saturating_mul(NS_PER_S))
    }
    /// A span of whole milliseconds.
    pub const fn from_millis(ms: u64) -> SimDuration {
        SimDuration(ms.saturating_mul(NS_PER_MS))
    }
    /// A span of nanoseconds.
    pub const fn from_nanos(ns: u64) -> SimDuration {
        SimDuration(ns)
    }
    /// A span from float seconds, rounded to the nearest nanosecond (negative and NaN give zero).
    pub fn from_secs_f64(s: f64) -> SimDuration {
        if s.is_nan() || s <= 0.0 {
            SimDuration::ZERO
        } else {
            SimDuration((s * NS_PER_S as f64).round().min(u64::MAX as f64) as u64)
        }
    }
    /// Nanoseconds in the span.
    pub fn as_nanos(self) -> u64 {
        self.0
    }
    /// Whole milliseconds (truncated).
    pub fn as_millis(self) -> u64 {
        self.0 / NS_PER_MS
    }
    /// Whole seconds (truncated).
    pub fn as_secs(self) -> u64 {
        self.0 / NS_PER_S
    }
    /// Seconds as a float (for reports only).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NS_PER_S as f64
    }
    /// Twice this span, saturating.
    pub fn doubled(self) -> SimDuration {
        SimDuration(self.0.saturating_mul(2))
    }
    /// Parses Go's `time.ParseDuration` syntax, restricted to non-negative spans:
    /// a sequence of decimal numbers with units `ns`, `us`, `µs`, `ms`, `s`, `m`, `h`
    /// (`1h30m`, `1.5s`, `300ms`). A bare `0` is allowed, as in Go.
    pub fn parse(s: &str) -> Result<SimDuration, DurationParseError> {
        let err = |why: &'static str| DurationParseError {
            input: s.to_string(),
            why,
        };
        let mut rest = s;
        if rest.starts_with('+') {
            rest = &rest[1..];
        }
        if rest.starts_with('-') {
            return Err(err("negative durations are not allowed"));
        }
        if rest == "0" {
            return Ok(SimDuration::ZERO);
        }
        if rest.is_empty() {
            return Err(err("empty duration"));
        }
        let mut total: u128 = 0;
        while !rest.is_empty() {
            let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
            let int_part = &rest[..int_len];
            rest = &rest[int_len..];
            let mut frac_part = "";
            if let Some(r) = rest.strip_prefix('.') {
                let frac_len = r.bytes().take_while(u8::is_ascii_digit).count();
                frac_part = &r[..frac_len];
                rest = &r[frac_len..];
            }
            if int_part.is_empty() && frac_part.is_empty() {
                return Err(err("expected a number"));
            }
            let unit_len = rest
                .char_indices()
                .find(|(_, c)| c.is_ascii_digit() || *c == '.')
                .map(|(i, _)| i)
                .unwrap_or(rest.len());
            let unit = &rest[..unit_len];
            rest = &rest[unit_len..];
            let scale: u64 = match unit {
                "ns" => 1,
                "us" | "µs" | "μs" => NS_PER_US,
                "ms" => NS_PER_MS,
                "s" => NS_PER_S,
                "m" => NS_PER_M,
                "h" => NS_PER_H,
                "" => return Err(err("missing unit (use ns, us, ms, s, m or h)")),
                _ => return Err(err("unknown unit (use ns, us, ms, s, m or h)")),
            };
            let int_val: u128 = if int_part.is_empty() {
                0
            } else {
                int_part
                    .parse::<u128>()
                    .map_err(|_| err("number too large"))?
            };
            let mut v = int_val
                .checked_mul(scale as u128)
                .ok_or_else(|| err("duration too large"))?;
            // Fractions are truncated to whole nanoseconds, as Go does.
            let mut f_scale = scale as u128;
            for d in frac_part.bytes().take(30) {
                f_scale /= 10;
                v += (d - b'0') as u128 * f_scale;
            }
            total = total
                .checked_add(v)
                .ok_or_else(|| err("duration too large"))?;
        }
        if total > u64::MAX as u128 {
            return Err(err("duration too large"));
        }
        Ok(SimDuration(total as u64))
    }
}

/// A duration string that does not follow Go's syntax.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration {input:?}: {why}")]
pub struct DurationParseError {
    /// The text that failed to parse.
    pub input: String,
    /// What is wrong with it.
    pub why: &'static str,
}

/// Formats like Go's `time.Duration.String()`: `1h30m0s`, `1m30s`, `1.5s`, `250ms`, `0s`.
impl fmt::Display for SimDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = self.0;
        if ns == 0 {
            return f.write_str("0s");
        }
        if ns < NS_PER_S {
            let (unit, scale) = if ns < NS_PER_US {
                ("ns", 1)
            } else if ns < NS_PER_MS {
                ("µs", NS_PER_US)
            } else {
                ("ms", NS_PER_MS)
            };
            write_frac(f, ns / scale, ns % scale, scale)?;
            return f.write_str(unit);
        }
        let h = ns / NS_PER_H;
        let m = (ns % NS_PER_H) / NS_PER_M;
        let s_ns = ns % NS_PER_M;
        if h > 0 {
            write!(f, "{h}h")?;
        }
        if h > 0 || m > 0 {
            write!(f, "{m}m")?;
        }
        write_frac(f, s_ns / NS_PER_S, s_ns % NS_PER_S, NS_PER_S)?;
        f.write_str("s")
    }
}

fn write_frac(f: &mut fmt::Formatter<'_>, whole: u64, frac: u64, scale: u64) -> fmt::Result {
    write!(f, "{whole}")?;
    if frac > 0 {
        let width = scale.ilog10() as usize;
        let digits = format!("{frac:0width$}");
        write!(f, ".{}", digits.trim_end_matches('0'))?;
    }
    Ok(())
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        SimDuration(self.0).fmt(f)
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    fn add(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }
}

impl AddAssign<SimDuration> for SimTime {
    fn add_assign(&mut self, d: SimDuration) {
        self.0 = self.0.saturating_add(d.0);
    }
}

impl Sub<SimDuration> for SimTime {
    type Output = SimTime;
    fn sub(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_sub(d.0))
    }
}

impl Add for SimDuration {
    type Output = SimDuration;
    fn add(self, d: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(d.0))
    }
}

/// Serialized as the Go duration since the start (`1m30s`).
impl Serialize for SimTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl Serialize for SimDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

/// Accepts a Go duration string (`90s`) or a plain integer number of seconds.
impl<'de> Deserialize<'de> for SimDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = SimDuration;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration such as 90s, 1h30m or 250ms")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<SimDuration, E> {
                SimDuration::parse(v).map_err(E::custom)
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<SimDuration, E> {
                Ok(SimDuration::from_secs(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<SimDuration, E> {
                u64::try_from(v)
                    .map(SimDuration::from_secs)
                    .map_err(|_| E::custom("negative durations are not allowed"))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_durations() {
        assert_eq!(
            SimDuration::parse("90s").unwrap(),
            SimDuration::from_secs(90)
        );
        assert_eq!(
            SimDuration::parse("1h30m").unwrap(),
            SimDuration::from_secs(5400)
        );
        assert_eq!(
            SimDuration::parse("1.5s").unwrap(),
            SimDuration::from_millis(1500)
        );
        assert_eq!(SimDuration::parse("300ms").unwrap().as_millis(), 300);
        assert_eq!(SimDuration::parse("2us").unwrap().as_nanos(), 2000);
        assert_eq!(SimDuration::parse("0").unwrap(), SimDuration::ZERO);
        assert_eq!(
            SimDuration::parse(".5m").unwrap(),
            SimDuration::from_secs(30)
        );
        for bad in ["", "10", "5 s", "-1s", "1x", "s", "1..2s"] {
            assert!(SimDuration::parse(bad).is_err(), "{bad} should fail");
        }
    }

    #[test]
    fn prints_like_go() {
        let cases = [
            (0, "0s"),
            (90 * NS_PER_S, "1m30s"),
            (5400 * NS_PER_S, "1h30m0s"),
            (1500 * NS_PER_MS, "1.5s"),
            (250 * NS_PER_MS, "250ms"),
            (1500, "1.5µs"),
            (7, "7ns"),
            (3600 * NS_PER_S, "1h0m0s"),
        ];
        for (ns, want) in cases {
            assert_eq!(SimDuration(ns).to_string(), want);
        }
    }

    proptest::proptest! {
        #[test]
        fn print_parse_roundtrip(ns in 0u64..10_000_000_000_000_000u64) {
            let d = SimDuration(ns);
            let text = d.to_string().replace('µ', "u");
            proptest::prop_assert_eq!(SimDuration::parse(&text).unwrap(), d);
        }
    }
}
