//! Kubernetes resource quantities (`500m`, `2Gi`, `1e3`, ...), parsed and held exactly.
//!
//! Port of `staging/src/k8s.io/apimachinery/pkg/api/resource/quantity.go` (`ParseQuantity`,
//! `CanonicalizeBytes`, `Value`, `MilliValue`) and `suffix.go`, restated in Rust.
//!
//! Representation: a [`Quantity`] holds its value as an `i128` count of nano-units (10^-9), plus
//! the [`QuantityFormat`] the text was written in (used only for printing). Upstream rounds every
//! parsed value *up* (away from zero) to nano precision, so nano-units are exact for every value
//! upstream can hold. No floating point is used anywhere except in [`Quantity::from_f64`], which
//! formats the float to its shortest decimal text first.
//!
//! Grammar (upstream):
//! ```text
//! <quantity>        ::= <signedNumber><suffix>
//! <signedNumber>    ::= <number> | <sign><number>
//! <number>          ::= <digits> | <digits>.<digits> | <digits>. | .<digits>
//! <sign>            ::= "+" | "-"
//! <suffix>          ::= <binarySI> | <decimalExponent> | <decimalSI>
//! <binarySI>        ::= Ki | Mi | Gi | Ti | Pi | Ei
//! <decimalSI>       ::= n | u | m | "" | k | M | G | T | P | E
//! <decimalExponent> ::= "e" <signedInteger> | "E" <signedInteger>
//! ```
//!
//! Upstream quirks kept on purpose: the digits may be omitted entirely (`""` is an error, but
//! `"+"`, `"."`, `"Ki"` and `"m"` all parse as zero, exactly as `ParseQuantity` does); binary
//! quantities are capped at 2^63-1 in magnitude. Deviations (documented): whitespace is rejected
//! by [`parse`] (upstream's JSON decoding trims it first; [`parse_trimmed`] and the serde
//! `Deserialize` impl do the same); values whose magnitude exceeds about 1.7e29 (beyond an `i128`
//! of nano-units) and exponents outside `i32` are rejected with [`QuantityError::OutOfRange`]
//! instead of being held in arbitrary precision.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Nano-units per unit.
const NANO: i128 = 1_000_000_000;

/// Upstream's cap for binary-SI quantities (`maxAllowed`: 2^63-1 units), in nano-units.
const BINARY_CAP_NANOS: i128 = (i64::MAX as i128) * NANO;

/// The notation a quantity was written in; upstream prints a quantity back in the same notation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum QuantityFormat {
    /// Decimal SI suffixes (`n u m k M G T P E` or none), e.g. `12M`.
    DecimalSI,
    /// Binary SI suffixes (`Ki Mi Gi Ti Pi Ei`), e.g. `12Mi`.
    BinarySI,
    /// Decimal exponent notation, e.g. `12e6`.
    DecimalExponent,
}

/// Why a quantity string could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    /// The input was the empty string.
    #[error(
        "invalid quantity \"\": expected a number with an optional suffix (m, k, M, Gi, ...), got an empty string"
    )]
    Empty,
    /// The input does not have the shape `<number><suffix>`.
    #[error(
        "invalid quantity {input:?}: expected a number with an optional suffix (m, k, M, Gi, ...)"
    )]
    Format {
        /// The offending input.
        input: String,
    },
    /// The number was well formed but the suffix is not a known one.
    #[error(
        "invalid quantity {input:?}: unknown suffix {suffix:?} (expected one of n, u, m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei, or an exponent such as e3)"
    )]
    Suffix {
        /// The offending input.
        input: String,
        /// The suffix that was not recognised.
        suffix: String,
    },
    /// The value (or its exponent) is too large to be represented.
    #[error(
        "invalid quantity {input:?}: value out of range (magnitude must be below about 1.7e29 and exponents must fit in 32 bits)"
    )]
    OutOfRange {
        /// The offending input.
        input: String,
    },
    /// A floating point value was NaN or infinite.
    #[error("invalid quantity {value}: not a finite number")]
    NotFinite {
        /// The offending value, as printed.
        value: String,
    },
}

/// A Kubernetes resource quantity: an exact fixed-point number with nano-unit precision.
///
/// Equality, ordering and hashing consider only the numeric value (like upstream `Cmp`/`Equal`),
/// never the [`QuantityFormat`].
#[derive(Clone, Copy, Debug)]
pub struct Quantity {
    nanos: i128,
    format: QuantityFormat,
}

impl PartialEq for Quantity {
    fn eq(&self, other: &Self) -> bool {
        self.nanos == other.nanos
    }
}

impl Eq for Quantity {}

impl PartialOrd for Quantity {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Quantity {
    fn cmp(&self, other: &Self) -> Ordering {
        self.nanos.cmp(&other.nanos)
    }
}

impl std::hash::Hash for Quantity {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.nanos.hash(state);
    }
}

impl Default for Quantity {
    fn default() -> Self {
        Quantity::ZERO
    }
}

/// Parses a quantity string exactly like upstream `ParseQuantity` (no whitespace allowed).
pub fn parse(s: &str) -> Result<Quantity, QuantityError> {
    Quantity::parse(s)
}

/// Parses a quantity after trimming surrounding whitespace, as upstream `Quantity.UnmarshalJSON` does.
pub fn parse_trimmed(s: &str) -> Result<Quantity, QuantityError> {
    Quantity::parse(s.trim())
}

/// Builds a decimal-SI quantity holding the integer `v` (upstream `NewQuantity(v, DecimalSI)`).
pub fn from_int(v: i64) -> Quantity {
    Quantity::from_int(v)
}

/// Builds a quantity from a float (e.g. a YAML number): shortest decimal text, then [`parse`].
pub fn from_f64(v: f64) -> Result<Quantity, QuantityError> {
    Quantity::from_f64(v)
}

/// Suffix interpretation: (base, exponent, format). Port of suffix.go `interpret`.
fn interpret_suffix(
    suffix: &str,
    input: &str,
) -> Result<(u32, i32, QuantityFormat), QuantityError> {
    use QuantityFormat::*;
    let found = match suffix {
        "" => Some((10, 0, DecimalSI)),
        "n" => Some((10, -9, DecimalSI)),
        "u" => Some((10, -6, DecimalSI)),
        "m" => Some((10, -3, DecimalSI)),
        "k" => Some((10, 3, DecimalSI)),
        "M" => Some((10, 6, DecimalSI)),
        "G" => Some((10, 9, DecimalSI)),
        "T" => Some((10, 12, DecimalSI)),
        "P" => Some((10, 15, DecimalSI)),
        "E" => Some((10, 18, DecimalSI)),
        "Ki" => Some((2, 10, BinarySI)),
        "Mi" => Some((2, 20, BinarySI)),
        "Gi" => Some((2, 30, BinarySI)),
        "Ti" => Some((2, 40, BinarySI)),
        "Pi" => Some((2, 50, BinarySI)),
        "Ei" => Some((2, 60, BinarySI)),
        _ => None,
    };
    if let Some(f) = found {
        return Ok(f);
    }
    let bytes = suffix.as_bytes();
    if bytes.len() > 1 && (bytes[0] == b'e' || bytes[0] == b'E') {
        let rest = &suffix[1..];
        // Upstream uses strconv.ParseInt: optional sign then decimal digits.
        let digits = rest.strip_prefix(['+', '-']).unwrap_or(rest);
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            return match rest.parse::<i32>() {
                Ok(e) => Ok((10, e, DecimalExponent)),
                Err(_) => Err(QuantityError::OutOfRange {
                    input: input.to_string(),
                }),
            };
        }
    }
    Err(QuantityError::Suffix {
        input: input.to_string(),
        suffix: suffix.to_string(),
    })
}

/// Multiplies a big-endian decimal digit vector by `m` in place (exact).
fn mul_digits(digits: &mut Vec<u8>, m: u64) {
    let mut carry: u128 = 0;
    for d in digits.iter_mut().rev() {
        let v = u128::from(*d) * u128::from(m) + carry;
        *d = (v % 10) as u8;
        carry = v / 10;
    }
    let mut prefix = Vec::new();
    while carry > 0 {
        prefix.push((carry % 10) as u8);
        carry /= 10;
    }
    prefix.reverse();
    prefix.append(digits);
    *digits = prefix;
}

impl Quantity {
    /// The zero quantity (decimal SI).
    pub const ZERO: Quantity = Quantity {
        nanos: 0,
        format: QuantityFormat::DecimalSI,
    };

    /// Parses a quantity string exactly like upstream `ParseQuantity` (no whitespace allowed).
    pub fn parse(s: &str) -> Result<Quantity, QuantityError> {
        // Port of quantity.go: parseQuantityString + ParseQuantity.
        if s.is_empty() {
            return Err(QuantityError::Empty);
        }
        let format_err = || QuantityError::Format {
            input: s.to_string(),
        };
        let b = s.as_bytes();
        let end = b.len();
        let mut pos = 0;
        let mut negative = false;
        match b[0] {
            b'-' => {
                negative = true;
                pos += 1;
            }
            b'+' => pos += 1,
            _ => {}
        }
        let num_start = pos;
        while pos < end && b[pos].is_ascii_digit() {
            pos += 1;
        }
        let num = &s[num_start..pos];
        let mut denom = "";
        if pos < end && b[pos] == b'.' {
            pos += 1;
            let denom_start = pos;
            while pos < end && b[pos].is_ascii_digit() {
                pos += 1;
            }
            denom = &s[denom_start..pos];
        }
        let suffix_start = pos;
        while pos < end && b"eEinumkKMGTP".contains(&b[pos]) {
            pos += 1;
        }
        if pos < end && (b[pos] == b'-' || b[pos] == b'+') {
            pos += 1;
        }
        while pos < end && b[pos].is_ascii_digit() {
            pos += 1;
        }
        if pos != end {
            return Err(format_err());
        }
        let suffix = &s[suffix_start..];
        let (base, exponent, mut format) = interpret_suffix(suffix, s)?;

        let out_of_range = || QuantityError::OutOfRange {
            input: s.to_string(),
        };
        let mut digits: Vec<u8> = num.bytes().chain(denom.bytes()).map(|c| c - b'0').collect();
        let frac_len = denom.len() as i64;
        let mut exp10 = 0i64;
        if base == 2 {
            mul_digits(&mut digits, 1u64 << exponent);
        } else {
            exp10 = i64::from(exponent);
        }
        let any_nonzero = digits.iter().any(|&d| d != 0);
        let mut nanos: i128 = 0;
        if any_nonzero {
            // Number of leading digits that make up the integer count of nano-units.
            let len = digits.len() as i64;
            let k = len - frac_len + exp10 + 9;
            let mut overflow = false;
            if k <= 0 {
                // Everything is below nano precision: round up to 1n.
                nanos = 1;
            } else {
                let keep = k.min(len) as usize;
                for &d in &digits[..keep] {
                    match nanos
                        .checked_mul(10)
                        .and_then(|v| v.checked_add(i128::from(d)))
                    {
                        Some(v) => nanos = v,
                        None => {
                            overflow = true;
                            break;
                        }
                    }
                }
                if !overflow {
                    if k > len {
                        let shift = u32::try_from(k - len).unwrap_or(u32::MAX);
                        match 10i128.checked_pow(shift).and_then(|p| nanos.checked_mul(p)) {
                            Some(v) => nanos = v,
                            None => overflow = nanos != 0,
                        }
                    } else if digits[keep..].iter().any(|&d| d != 0) {
                        // Upstream rounds the magnitude up (inf.RoundUp) to nano precision.
                        match nanos.checked_add(1) {
                            Some(v) => nanos = v,
                            None => overflow = true,
                        }
                    }
                }
            }
            if format == QuantityFormat::BinarySI {
                if overflow || nanos > BINARY_CAP_NANOS {
                    nanos = BINARY_CAP_NANOS;
                }
                if nanos < NANO {
                    // Upstream: non-zero binary amounts below 1 become DecimalSI.
                    format = QuantityFormat::DecimalSI;
                }
            } else if overflow {
                return Err(out_of_range());
            }
        }
        if negative {
            nanos = -nanos;
        }
        Ok(Quantity { nanos, format })
    }

    /// Builds a decimal-SI quantity holding the integer `v` (upstream `NewQuantity(v, DecimalSI)`).
    pub fn from_int(v: i64) -> Quantity {
        Quantity {
            nanos: i128::from(v) * NANO,
            format: QuantityFormat::DecimalSI,
        }
    }

    /// Builds a decimal-SI quantity holding `v / 1000` (upstream `NewMilliQuantity(v, DecimalSI)`).
    pub fn from_milli(v: i64) -> Quantity {
        Quantity {
            nanos: i128::from(v) * 1_000_000,
            format: QuantityFormat::DecimalSI,
        }
    }

    /// Builds a quantity holding `v` in the given format (upstream `NewQuantity(v, format)`).
    pub fn from_int_with_format(v: i64, format: QuantityFormat) -> Quantity {
        Quantity {
            nanos: i128::from(v) * NANO,
            format,
        }
    }

    /// Builds a decimal-SI quantity from an exact count of nano-units.
    pub fn from_nanos(nanos: i128) -> Quantity {
        Quantity {
            nanos,
            format: QuantityFormat::DecimalSI,
        }
    }

    /// Builds a quantity from a float (e.g. a YAML number): shortest decimal text, then [`parse`].
    ///
    /// NaN and infinities are rejected.
    pub fn from_f64(v: f64) -> Result<Quantity, QuantityError> {
        if !v.is_finite() {
            return Err(QuantityError::NotFinite {
                value: v.to_string(),
            });
        }
        // Rust's `Display` for f64 prints the shortest round-tripping decimal, never exponent form.
        Quantity::parse(&format!("{v}"))
    }

    /// The exact value in nano-units (10^-9).
    pub fn as_nanos(&self) -> i128 {
        self.nanos
    }

    /// The notation used when printing this quantity.
    pub fn format(&self) -> QuantityFormat {
        self.format
    }

    /// The same value, printed in another notation.
    pub fn with_format(self, format: QuantityFormat) -> Quantity {
        Quantity { format, ..self }
    }

    /// Value rounded to `unit` nano-units, away from zero, saturating at `i64` bounds.
    fn scaled(&self, unit: i128) -> i64 {
        let q = self.nanos / unit;
        let r = self.nanos % unit;
        let q = if r != 0 { q + self.nanos.signum() } else { q };
        i64::try_from(q).unwrap_or(if q < 0 { i64::MIN } else { i64::MAX })
    }

    /// Upstream `Value()`: the value rounded up to an integer (away from zero), saturating.
    pub fn value(&self) -> i64 {
        self.scaled(NANO)
    }

    /// Upstream `MilliValue()`: `ceil(q * 1000)` (away from zero for negatives), saturating.
    pub fn milli_value(&self) -> i64 {
        self.scaled(1_000_000)
    }

    /// True if the quantity is exactly zero.
    pub fn is_zero(&self) -> bool {
        self.nanos == 0
    }

    /// True if the quantity is below zero.
    pub fn is_negative(&self) -> bool {
        self.nanos < 0
    }

    /// Exact sum, or `None` on `i128` overflow. Format follows upstream `Add`: `self`'s unless
    /// `self` is zero, in which case `other`'s.
    pub fn checked_add(self, other: Quantity) -> Option<Quantity> {
        let format = if self.nanos == 0 {
            other.format
        } else {
            self.format
        };
        Some(Quantity {
            nanos: self.nanos.checked_add(other.nanos)?,
            format,
        })
    }

    /// Exact difference, or `None` on `i128` overflow (format as in upstream `Sub`).
    pub fn checked_sub(self, other: Quantity) -> Option<Quantity> {
        let format = if self.nanos == 0 {
            other.format
        } else {
            self.format
        };
        Some(Quantity {
            nanos: self.nanos.checked_sub(other.nanos)?,
            format,
        })
    }

    /// Sum saturating at the `i128` nano-unit bounds.
    pub fn saturating_add(self, other: Quantity) -> Quantity {
        self.checked_add(other).unwrap_or(Quantity {
            nanos: if other.nanos < 0 {
                i128::MIN
            } else {
                i128::MAX
            },
            format: self.format,
        })
    }

    /// Difference saturating at the `i128` nano-unit bounds.
    pub fn saturating_sub(self, other: Quantity) -> Quantity {
        self.checked_sub(other).unwrap_or(Quantity {
            nanos: if other.nanos > 0 {
                i128::MIN
            } else {
                i128::MAX
            },
            format: self.format,
        })
    }

    /// Canonical decimal mantissa/exponent (exponent a multiple of 3, as large as possible).
    /// Port of amount.go `AsCanonicalBytes`.
    fn canonical_decimal(nanos: i128) -> (i128, i32) {
        let mut m = nanos;
        let mut e: i32 = -9;
        while m != 0 && m % 10 == 0 {
            m /= 10;
            e += 1;
        }
        while e.rem_euclid(3) != 0 {
            m *= 10;
            e -= 1;
        }
        (m, e)
    }
}

impl fmt::Display for Quantity {
    /// Canonical form like upstream `String()`: `500m`, `2Gi`, `1536Mi`, `1k`, `1e3`.
    ///
    /// Binary quantities in (-1024, 1024) or with a fractional part print as decimal SI (as
    /// upstream). Best-effort deviation: decimal-SI values of 10^21 or more, which upstream would
    /// print without any suffix (losing the magnitude), print with the `E` suffix instead.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Port of quantity.go: CanonicalizeBytes.
        if self.nanos == 0 {
            return f.write_str("0");
        }
        let mut format = self.format;
        if format == QuantityFormat::BinarySI
            && ((-1024 * NANO < self.nanos && self.nanos < 1024 * NANO) || self.nanos % NANO != 0)
        {
            format = QuantityFormat::DecimalSI;
        }
        match format {
            QuantityFormat::BinarySI => {
                let mut v = self.nanos / NANO;
                let mut e = 0usize;
                while e < 6 && v.abs() >= 1024 && v % 1024 == 0 {
                    v /= 1024;
                    e += 1;
                }
                let suffix = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"][e];
                write!(f, "{v}{suffix}")
            }
            QuantityFormat::DecimalExponent => {
                let (m, e) = Quantity::canonical_decimal(self.nanos);
                if e == 0 {
                    write!(f, "{m}")
                } else {
                    write!(f, "{m}e{e}")
                }
            }
            QuantityFormat::DecimalSI => {
                let (mut m, mut e) = Quantity::canonical_decimal(self.nanos);
                while e > 18 {
                    m *= 10;
                    e -= 1;
                }
                let suffix = match e {
                    -9 => "n",
                    -6 => "u",
                    -3 => "m",
                    0 => "",
                    3 => "k",
                    6 => "M",
                    9 => "G",
                    12 => "T",
                    15 => "P",
                    _ => "E",
                };
                write!(f, "{m}{suffix}")
            }
        }
    }
}

impl FromStr for Quantity {
    type Err = QuantityError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Quantity::parse(s)
    }
}

impl std::ops::Add for Quantity {
    type Output = Quantity;

    /// Saturating exact addition (see [`Quantity::saturating_add`]).
    fn add(self, rhs: Quantity) -> Quantity {
        self.saturating_add(rhs)
    }
}

impl std::ops::Sub for Quantity {
    type Output = Quantity;

    /// Saturating exact subtraction (see [`Quantity::saturating_sub`]).
    fn sub(self, rhs: Quantity) -> Quantity {
        self.saturating_sub(rhs)
    }
}

impl std::ops::Neg for Quantity {
    type Output = Quantity;

    fn neg(self) -> Quantity {
        Quantity {
            nanos: self.nanos.saturating_neg(),
            format: self.format,
        }
    }
}

impl std::iter::Sum for Quantity {
    fn sum<I: Iterator<Item = Quantity>>(iter: I) -> Quantity {
        iter.fold(Quantity::ZERO, |a, b| a + b)
    }
}

impl Serialize for Quantity {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Quantity {
    /// Accepts a string (trimmed, as upstream `UnmarshalJSON`), an integer or a float.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Quantity;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a quantity such as \"500m\", \"2Gi\" or a number")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Quantity, E> {
                parse_trimmed(v).map_err(E::custom)
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Quantity, E> {
                Ok(Quantity::from_int(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Quantity, E> {
                Ok(Quantity::from_nanos(i128::from(v) * NANO))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Quantity, E> {
                Quantity::from_f64(v).map_err(E::custom)
            }
        }
        deserializer.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn q(s: &str) -> Quantity {
        parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn basic_values() {
        assert_eq!(q("500m").milli_value(), 500);
        assert_eq!(q("0.5").milli_value(), 500);
        assert_eq!(q(".5").milli_value(), 500);
        assert_eq!(q("5.").value(), 5);
        assert_eq!(q("2Gi").value(), 2_147_483_648);
        assert_eq!(q("1G").value(), 1_000_000_000);
        assert_eq!(q("1e3").value(), 1000);
        assert_eq!(q("1E3").value(), 1000);
        assert_eq!(q("1E-3").milli_value(), 1);
        assert_eq!(q("1e+3").value(), 1000);
        assert_eq!(q("1.5Ki").value(), 1536);
        assert_eq!(q("100n").milli_value(), 1);
        assert_eq!(q("100n").value(), 1);
        assert_eq!(q("1u").as_nanos(), 1000);
        assert_eq!(q("1k").value(), 1000);
        assert_eq!(q("1M").value(), 1_000_000);
        assert_eq!(q("1T").value(), 1_000_000_000_000);
        assert_eq!(q("1P").value(), 1_000_000_000_000_000);
        assert_eq!(q("1E").value(), 1_000_000_000_000_000_000);
        assert_eq!(q("1Ei").value(), 1 << 60);
        assert_eq!(q("+3").value(), 3);
        assert!(q("-1").is_negative());
        assert_eq!(q("-1").value(), -1);
        assert!(q("0").is_zero());
        assert!(q("-0").is_zero());
        assert_eq!(q("1.5"), q("1500m"));
        assert_eq!(q("1Gi"), q("1024Mi"));
        assert!(q("1Gi") > q("1G"));
    }

    #[test]
    fn rounding_up_to_nano() {
        assert_eq!(q("0.1n").as_nanos(), 1);
        assert_eq!(q("1e-20").as_nanos(), 1);
        assert_eq!(q("-1e-20").as_nanos(), -1);
        assert_eq!(q("1.0000000001").as_nanos(), 1_000_000_001);
        assert_eq!(q("1.0000000000").as_nanos(), 1_000_000_000);
        // 1e-10 Ki = 102.4n -> 103n (binary multiply happens before rounding).
        assert_eq!(q("0.0000000001Ki").as_nanos(), 103);
        assert_eq!(q("0.1Ki").as_nanos(), 102_400_000_000);
        assert_eq!(q("1.1m").milli_value(), 2);
        assert_eq!(q("-1.5").value(), -2);
    }

    #[test]
    fn upstream_quirks() {
        // ParseQuantity accepts numbers without digits as zero.
        for s in ["+", "-", ".", "Ki", "m", "-.Ki"] {
            assert!(q(s).is_zero(), "{s}");
        }
        // Binary values are capped at 2^63-1.
        assert_eq!(q("8Ei").value(), i64::MAX);
        assert_eq!(q("-100Ei").value(), -i64::MAX);
        // Decimal values are not capped; accessors saturate.
        assert_eq!(q("100E").value(), i64::MAX);
        assert_eq!(q("100E").to_string(), "100E");
    }

    #[test]
    fn bad_inputs() {
        for s in [
            "5 cores", "abc", "1Zi", "--1", "", "1.2.3", " 1", "1 ", "1ki", "1e", "1e3.5", "1Mi5",
            "1ee3", "0x10",
        ] {
            assert!(parse(s).is_err(), "{s:?} should fail");
        }
        let e = parse("5 cores").unwrap_err().to_string();
        assert_eq!(
            e,
            "invalid quantity \"5 cores\": expected a number with an optional suffix (m, k, M, Gi, ...)"
        );
        let e = parse("1ki").unwrap_err().to_string();
        assert!(e.contains("unknown suffix \"ki\""), "{e}");
        assert!(matches!(
            parse("1e99999999999"),
            Err(QuantityError::OutOfRange { .. })
        ));
        assert!(matches!(
            parse("1e40"),
            Err(QuantityError::OutOfRange { .. })
        ));
        assert!(q("0e99999").is_zero());
        assert_eq!(parse_trimmed(" 2Gi\n").map(|x| x.value()), Ok(1 << 31));
    }

    #[test]
    fn display_canonical() {
        let cases = [
            ("500m", "500m"),
            ("0.5", "500m"),
            ("2Gi", "2Gi"),
            ("1.5Gi", "1536Mi"),
            ("1000", "1k"),
            ("1k", "1k"),
            ("100M", "100M"),
            ("1e3", "1e3"),
            ("1.5e3", "1500"),
            ("1500", "1500"),
            ("100n", "100n"),
            ("0.1n", "1n"),
            ("512Ki", "512Ki"),
            ("1023Ki", "1023Ki"),
            ("1024Ki", "1Mi"),
            ("100Ki", "100Ki"),
            ("1Ki", "1Ki"),
            ("1000Mi", "1000Mi"),
            ("0.5Ki", "512"),
            ("0.5Gi", "512Mi"),
            ("100", "100"),
            ("-1", "-1"),
            ("-2Gi", "-2Gi"),
            ("0", "0"),
            ("0Gi", "0"),
            ("1.0001Ki", "1024102400u"),
            ("12e6", "12e6"),
            ("1E-3", "1e-3"),
            ("10m", "10m"),
            ("1200m", "1200m"),
        ];
        for (input, want) in cases {
            assert_eq!(q(input).to_string(), want, "{input}");
        }
        assert_eq!(from_int(1000).to_string(), "1k");
        assert_eq!(Quantity::from_milli(1500).to_string(), "1500m");
    }

    #[test]
    fn floats_and_serde() {
        assert_eq!(from_f64(0.5).map(|x| x.milli_value()), Ok(500));
        assert_eq!(from_f64(2.0).map(|x| x.value()), Ok(2));
        assert_eq!(from_f64(1e-7).map(|x| x.as_nanos()), Ok(100));
        assert!(from_f64(f64::NAN).is_err());
        assert!(from_f64(f64::INFINITY).is_err());
        let v: Quantity = serde_json::from_str("\"250m\"").unwrap_or_default();
        assert_eq!(v.milli_value(), 250);
        let v: Quantity = serde_json::from_str("3").unwrap_or_default();
        assert_eq!(v.value(), 3);
        let v: Quantity = serde_json::from_str("0.25").unwrap_or_default();
        assert_eq!(v.milli_value(), 250);
        assert_eq!(
            serde_json::to_string(&q("1.5Gi")).ok(),
            Some("\"1536Mi\"".into())
        );
        assert!(serde_json::from_str::<Quantity>("\"5 cores\"").is_err());
    }

    #[test]
    fn arithmetic() {
        assert_eq!(q("1") + q("500m"), q("1.5"));
        assert_eq!(q("1") - q("1500m"), q("-500m"));
        let total: Quantity = ["1Gi", "1Gi"].iter().map(|s| q(s)).sum();
        assert_eq!(total.to_string(), "2Gi");
    }

    proptest! {
        #[test]
        fn roundtrip_ints(v in any::<i64>()) {
            let x = from_int(v);
            prop_assert_eq!(parse(&x.to_string()), Ok(x));
            prop_assert_eq!(x.value(), v);
        }

        #[test]
        fn roundtrip_nanos(n in -(1i128 << 90)..(1i128 << 90), fmt in 0u8..3) {
            let format = match fmt {
                0 => QuantityFormat::DecimalSI,
                1 => QuantityFormat::BinarySI,
                _ => QuantityFormat::DecimalExponent,
            };
            let x = Quantity::from_nanos(n).with_format(format);
            prop_assert_eq!(parse(&x.to_string()), Ok(x));
        }

        #[test]
        fn roundtrip_binary(v in -(1i64 << 40)..(1i64 << 40), e in 0usize..4) {
            let s = format!("{v}{}", ["Ki", "Mi", "Gi", "Ti"][e]);
            let x = q(&s);
            prop_assert_eq!(parse(&x.to_string()), Ok(x));
        }
    }
}
