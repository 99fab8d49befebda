//! Metric deltas between two runs: every numeric field of their `summary.json`, by
//! JSON path (`pods.created`, `scheduling.latency_ms_p99`, `workloads.deploy/ns/web.ready`).

use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// One numeric field of two summaries.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Delta {
    /// The field's path, `.`-separated.
    pub field: String,
    /// A's value (`None`: absent or not a number in A).
    pub a: Option<f64>,
    /// B's value.
    pub b: Option<f64>,
    /// `b - a` when both are present.
    pub delta: Option<f64>,
    /// `delta / |a|` in percent when both are present and `a` is not 0.
    pub pct: Option<f64>,
}

/// Every numeric leaf of `v` as (path, value), sorted by path (arrays by index).
pub fn flatten(v: &Value) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    walk(v, String::new(), &mut out);
    out
}

fn walk(v: &Value, path: String, out: &mut BTreeMap<String, f64>) {
    let join = |k: &str| {
        if path.is_empty() {
            k.to_string()
        } else {
            format!("{path}.{k}")
        }
    };
    match v {
        Value::Number(n) => {
            if let Some(f) = n.as_f64() {
                out.insert(path, f);
            }
        }
        Value::Object(m) => {
            for (k, v) in m {
                walk(v, join(k), out);
            }
        }
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                walk(v, join(&i.to_string()), out);
            }
        }
        _ => {}
    }
}

/// The deltas of every numeric field in `a` or `b`, sorted by field.
pub fn deltas(a: &Value, b: &Value) -> Vec<Delta> {
    let (fa, fb) = (flatten(a), flatten(b));
    let mut keys: Vec<&String> = fa.keys().chain(fb.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .map(|k| {
            let (x, y) = (fa.get(k).copied(), fb.get(k).copied());
            let delta = x.zip(y).map(|(x, y)| y - x);
            let pct = x
                .zip(delta)
                .filter(|(x, _)| *x != 0.0)
                .map(|(x, d)| d / x.abs() * 100.0);
            Delta {
                field: k.clone(),
                a: x,
                b: y,
                delta,
                pct,
            }
        })
        .collect()
}

/// A number as the table shows it: integers without a fraction, others to 3 places.
pub fn fmt_num(v: Option<f64>) -> String {
    match v {
        None => "-".into(),
        Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
        Some(f) => format!("{f:.3}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_numeric_leaf_is_compared() {
        let a = json!({"pods": {"created": 10, "ready": 4}, "passed": true, "p": [1.5]});
        let b = json!({"pods": {"created": 12}, "passed": false, "p": [1.5], "x": 3});
        let d = deltas(&a, &b);
        let fields: Vec<&str> = d.iter().map(|d| d.field.as_str()).collect();
        assert_eq!(fields, ["p.0", "pods.created", "pods.ready", "x"]);
        assert_eq!(d[1].delta, Some(2.0));
        assert_eq!(d[1].pct, Some(20.0));
        assert_eq!((d[2].b, d[2].delta), (None, None));
        assert_eq!(fmt_num(Some(2.0)), "2");
        assert_eq!(fmt_num(Some(0.25)), "0.250");
    }
}
