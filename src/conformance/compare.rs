//! Structural comparison of a conformance result with a case's `expected` value (README 2.1), and
//! the short human-readable diff printed on `FAIL` lines.

use serde_json::Value;

/// Absolute tolerance applied where the expected value is a floating-point number.
pub const FLOAT_TOLERANCE: f64 = 1e-9;

/// Longest rendering of one value inside a diff before it is shortened with `...`.
const MAX_RENDERED: usize = 160;

/// At most this many differing keys are listed on one `FAIL` line.
const MAX_DIFFS: usize = 3;

/// Compares `actual` with `expected`; `Err` carries a short diff such as
/// `oldReplicaSetReplicas: expected [0, 0], got [1, 0]`.
///
/// A top-level map must have exactly the keys of `expected`; values compare with [`values_equal`].
pub fn compare(expected: &Value, actual: &Value) -> Result<(), String> {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            let mut diffs = Vec::new();
            for key in e.keys() {
                if !a.contains_key(key) {
                    diffs.push(format!("missing key {key:?}"));
                }
            }
            for key in a.keys() {
                if !e.contains_key(key) {
                    diffs.push(format!("unexpected key {key:?}"));
                }
            }
            for (key, ev) in e {
                if let Some(av) = a.get(key)
                    && !values_equal(ev, av)
                {
                    diffs.push(format!(
                        "{key}: expected {}, got {}",
                        render(ev),
                        render(av)
                    ));
                }
            }
            if diffs.is_empty() {
                Ok(())
            } else {
                let more = diffs.len().saturating_sub(MAX_DIFFS);
                let mut line = diffs
                    .into_iter()
                    .take(MAX_DIFFS)
                    .collect::<Vec<_>>()
                    .join("; ");
                if more > 0 {
                    line.push_str(&format!("; ({more} more)"));
                }
                Err(line)
            }
        }
        _ if values_equal(expected, actual) => Ok(()),
        _ => Err(format!(
            "expected {}, got {}",
            render(expected),
            render(actual)
        )),
    }
}

/// Structural equality of README 2.1: integers, booleans, strings and `null` must be identical
/// (an integer never equals a boolean or a float), lists compare in order, maps by key set and
/// per-key value; only where `expected` is a floating-point number is `actual` allowed any number
/// within [`FLOAT_TOLERANCE`].
pub fn values_equal(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(e), Value::Bool(a)) => e == a,
        (Value::String(e), Value::String(a)) => e == a,
        (Value::Number(e), Value::Number(a)) => {
            if e.is_f64() {
                match (e.as_f64(), a.as_f64()) {
                    (Some(e), Some(a)) => (e - a).abs() <= FLOAT_TOLERANCE,
                    _ => false,
                }
            } else if a.is_f64() {
                false
            } else {
                int_value(e).is_some() && int_value(e) == int_value(a)
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            e.len() == a.len() && e.iter().zip(a).all(|(e, a)| values_equal(e, a))
        }
        (Value::Object(e), Value::Object(a)) => {
            e.len() == a.len()
                && e.iter()
                    .all(|(k, ev)| a.get(k).is_some_and(|av| values_equal(ev, av)))
        }
        _ => false,
    }
}

/// The integer value of a JSON number (either signedness), `None` for floats.
fn int_value(n: &serde_json::Number) -> Option<i128> {
    n.as_i64()
        .map(i128::from)
        .or_else(|| n.as_u64().map(i128::from))
}

/// Compact one-line rendering of a value for diffs: `[1, 0]`, `{a: 1}`, `"text"`, `null`.
pub fn render(value: &Value) -> String {
    let mut s = String::new();
    render_into(value, &mut s);
    if s.chars().count() > MAX_RENDERED {
        let cut: String = s.chars().take(MAX_RENDERED).collect();
        format!("{cut}...")
    } else {
        s
    }
}

fn render_into(value: &Value, out: &mut String) {
    match value {
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                render_into(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(k);
                out.push_str(": ");
                render_into(v, out);
            }
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn equal_maps_pass() {
        assert!(
            compare(
                &json!({"a": [1, 2], "b": "x"}),
                &json!({"b": "x", "a": [1, 2]})
            )
            .is_ok()
        );
    }

    #[test]
    fn list_diff_shape() {
        let err = compare(
            &json!({"oldReplicaSetReplicas": [0, 0]}),
            &json!({"oldReplicaSetReplicas": [1, 0]}),
        )
        .unwrap_err();
        assert_eq!(err, "oldReplicaSetReplicas: expected [0, 0], got [1, 0]");
    }

    #[test]
    fn missing_and_extra_keys() {
        let err = compare(&json!({"a": 1}), &json!({"b": 1})).unwrap_err();
        assert!(err.contains("missing key \"a\""), "{err}");
        assert!(err.contains("unexpected key \"b\""), "{err}");
    }

    #[test]
    fn int_bool_float_distinct() {
        assert!(!values_equal(&json!(1), &json!(true)));
        assert!(!values_equal(&json!(0), &json!(0.0)));
        assert!(!values_equal(&json!(1), &json!(1.0)));
        assert!(values_equal(&json!(0.1), &json!(0.1 + 1e-12)));
        assert!(values_equal(&json!(0.0), &json!(0)));
        assert!(!values_equal(&json!(0.1), &json!(0.1 + 1e-6)));
        assert!(values_equal(&json!(5u64), &json!(5i64)));
        assert!(!values_equal(&json!(null), &json!(0)));
        assert!(!values_equal(&json!("True"), &json!("true")));
    }

    #[test]
    fn nested_maps_compare_by_key_set() {
        assert!(values_equal(
            &json!({"n1": 1, "n2": 2}),
            &json!({"n2": 2, "n1": 1})
        ));
        assert!(!values_equal(&json!({"n1": 1}), &json!({"n1": 1, "n2": 2})));
        assert!(!values_equal(&json!([1, 2]), &json!([2, 1])));
    }

    #[test]
    fn long_values_are_shortened() {
        let long: Vec<i64> = (0..500).collect();
        let r = render(&json!(long));
        assert!(r.ends_with("...") && r.len() < 200);
    }
}
