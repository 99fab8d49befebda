//! The `--seeds` syntax: a comma-separated list of seeds (`5`) and inclusive ranges
//! (`1..20`), e.g. `1..3,7`. Seeds keep their given order; a seed given twice is an error.

use thiserror::Error;

/// The most seeds one `--seeds` may name (guards against `1..18446744073709551615`).
pub const MAX_SEEDS: usize = 100_000;

/// A bad `--seeds` value.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SeedsError {
    /// Nothing given.
    #[error("--seeds: empty (expected e.g. 1..20, 5 or 1,2,7)")]
    Empty,
    /// An item is neither a number nor a range.
    #[error("--seeds: {0:?} is not a seed or an inclusive range (expected e.g. 1..20, 5 or 1,2,7)")]
    Syntax(String),
    /// A range whose end is before its start.
    #[error("--seeds: range {0:?} ends before it starts")]
    Backwards(String),
    /// A seed named twice.
    #[error("--seeds: seed {0} is given twice")]
    Duplicate(u64),
    /// Too many seeds.
    #[error("--seeds: more than {MAX_SEEDS} seeds")]
    TooMany,
}

/// Parses a `--seeds` value.
pub fn parse_seeds(text: &str) -> Result<Vec<u64>, SeedsError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(SeedsError::Empty);
    }
    let num = |s: &str, item: &str| {
        s.trim()
            .parse::<u64>()
            .map_err(|_| SeedsError::Syntax(item.to_string()))
    };
    let mut seeds: Vec<u64> = Vec::new();
    for item in text.split(',') {
        let item = item.trim();
        if item.is_empty() {
            return Err(SeedsError::Syntax(item.to_string()));
        }
        let (lo, hi) = match item.split_once("..") {
            Some((a, b)) => (num(a, item)?, num(b, item)?),
            None => {
                let v = num(item, item)?;
                (v, v)
            }
        };
        if hi < lo {
            return Err(SeedsError::Backwards(item.to_string()));
        }
        if (hi - lo) as u128 + seeds.len() as u128 >= MAX_SEEDS as u128 {
            return Err(SeedsError::TooMany);
        }
        seeds.extend(lo..=hi);
    }
    let mut sorted = seeds.clone();
    sorted.sort_unstable();
    if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
        return Err(SeedsError::Duplicate(w[0]));
    }
    Ok(seeds)
}

/// The shortest text naming `seeds` in the `--seeds` syntax (`1..20`, `1..3,7`).
pub fn format_seeds(seeds: &[u64]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < seeds.len() {
        let mut j = i;
        while j + 1 < seeds.len() && seeds[j + 1] == seeds[j].wrapping_add(1) {
            j += 1;
        }
        if j > i {
            parts.push(format!("{}..{}", seeds[i], seeds[j]));
        } else {
            parts.push(seeds[i].to_string());
        }
        i = j + 1;
    }
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_singles_and_lists() {
        assert_eq!(parse_seeds("1..5").unwrap(), vec![1, 2, 3, 4, 5]);
        assert_eq!(parse_seeds("5").unwrap(), vec![5]);
        assert_eq!(parse_seeds("1,2,7").unwrap(), vec![1, 2, 7]);
        assert_eq!(parse_seeds(" 1..3, 9 ").unwrap(), vec![1, 2, 3, 9]);
        assert_eq!(parse_seeds("4..4").unwrap(), vec![4]);
    }

    #[test]
    fn bad_syntax_is_an_error() {
        assert_eq!(parse_seeds(""), Err(SeedsError::Empty));
        assert!(matches!(parse_seeds("a"), Err(SeedsError::Syntax(_))));
        assert!(matches!(parse_seeds("1..x"), Err(SeedsError::Syntax(_))));
        assert!(matches!(parse_seeds("1,,2"), Err(SeedsError::Syntax(_))));
        assert!(matches!(parse_seeds("1...3"), Err(SeedsError::Syntax(_))));
        assert!(matches!(parse_seeds("-1"), Err(SeedsError::Syntax(_))));
        assert!(matches!(parse_seeds("5..1"), Err(SeedsError::Backwards(_))));
        assert_eq!(parse_seeds("1..3,2"), Err(SeedsError::Duplicate(2)));
        assert_eq!(
            parse_seeds("0..18446744073709551615"),
            Err(SeedsError::TooMany)
        );
        assert_eq!(parse_seeds("1..20").unwrap().len(), 20);
    }

    #[test]
    fn format_compacts_runs() {
        assert_eq!(format_seeds(&[1, 2, 3, 7]), "1..3,7");
        assert_eq!(format_seeds(&[5]), "5");
        assert_eq!(format_seeds(&[]), "");
        for text in ["1..20", "1,3,5", "2..4,9..10"] {
            assert_eq!(format_seeds(&parse_seeds(text).unwrap()), text);
        }
    }
}
