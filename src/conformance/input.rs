//! Typed accessors for conformance `input` JSON, returning `Err(String)` (a case failure) instead
//! of panicking on missing or mistyped fields.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::controllers::deployment::rules::IntOrPercent;

/// The value of `key` in the map `v`; missing key (or `v` not a map) is an error.
pub fn field<'a>(v: &'a Value, key: &str) -> Result<&'a Value, String> {
    match v {
        Value::Object(map) => map.get(key).ok_or_else(|| format!("missing field `{key}`")),
        _ => Err(format!("expected a map holding `{key}`")),
    }
}

/// The value of `key`, `None` when absent or `null`.
pub fn opt_field<'a>(v: &'a Value, key: &str) -> Result<Option<&'a Value>, String> {
    match v {
        Value::Object(map) => Ok(map.get(key).filter(|x| !x.is_null())),
        Value::Null => Ok(None),
        _ => Err(format!("expected a map holding `{key}`")),
    }
}

/// An integer value.
pub fn as_i64(v: &Value, what: &str) -> Result<i64, String> {
    v.as_i64()
        .ok_or_else(|| format!("`{what}` is not an integer: {v}"))
}

/// Integer field `key`.
pub fn i64_field(v: &Value, key: &str) -> Result<i64, String> {
    as_i64(field(v, key)?, key)
}

/// Optional integer field (`null` / absent = `None`).
pub fn opt_i64_field(v: &Value, key: &str) -> Result<Option<i64>, String> {
    opt_field(v, key)?.map(|x| as_i64(x, key)).transpose()
}

/// 32-bit integer field.
pub fn i32_field(v: &Value, key: &str) -> Result<i32, String> {
    to_i32(i64_field(v, key)?, key)
}

/// Optional 32-bit integer field.
pub fn opt_i32_field(v: &Value, key: &str) -> Result<Option<i32>, String> {
    opt_i64_field(v, key)?.map(|x| to_i32(x, key)).transpose()
}

/// Non-negative integer field as `usize`.
pub fn usize_field(v: &Value, key: &str) -> Result<usize, String> {
    let x = i64_field(v, key)?;
    usize::try_from(x).map_err(|_| format!("`{key}` must be non-negative, got {x}"))
}

fn to_i32(x: i64, key: &str) -> Result<i32, String> {
    i32::try_from(x).map_err(|_| format!("`{key}` out of 32-bit range: {x}"))
}

/// Boolean field.
pub fn bool_field(v: &Value, key: &str) -> Result<bool, String> {
    let x = field(v, key)?;
    x.as_bool()
        .ok_or_else(|| format!("`{key}` is not a boolean: {x}"))
}

/// Floating-point field (integers accepted).
pub fn f64_field(v: &Value, key: &str) -> Result<f64, String> {
    let x = field(v, key)?;
    x.as_f64()
        .ok_or_else(|| format!("`{key}` is not a number: {x}"))
}

/// String field.
pub fn str_field<'a>(v: &'a Value, key: &str) -> Result<&'a str, String> {
    let x = field(v, key)?;
    x.as_str()
        .ok_or_else(|| format!("`{key}` is not a string: {x}"))
}

/// Optional string field (`null` / absent = `None`).
pub fn opt_str_field<'a>(v: &'a Value, key: &str) -> Result<Option<&'a str>, String> {
    opt_field(v, key)?
        .map(|x| {
            x.as_str()
                .ok_or_else(|| format!("`{key}` is not a string: {x}"))
        })
        .transpose()
}

/// List field (`null` / absent = empty list).
pub fn list_field<'a>(v: &'a Value, key: &str) -> Result<&'a [Value], String> {
    match opt_field(v, key)? {
        None => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(x) => Err(format!("`{key}` is not a list: {x}")),
    }
}

/// Map of strings (`null` / absent = empty); non-string scalar values are stringified.
pub fn string_map_field(v: &Value, key: &str) -> Result<BTreeMap<String, String>, String> {
    match opt_field(v, key)? {
        None => Ok(BTreeMap::new()),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, x)| match x {
                Value::String(s) => Ok((k.clone(), s.clone())),
                Value::Number(n) => Ok((k.clone(), n.to_string())),
                Value::Bool(b) => Ok((k.clone(), b.to_string())),
                _ => Err(format!("`{key}.{k}` is not a string: {x}")),
            })
            .collect(),
        Some(x) => Err(format!("`{key}` is not a map: {x}")),
    }
}

/// Boolean feature gate `gate` in the `featureGates` map of `v`.
pub fn feature_gate(v: &Value, gate: &str) -> Result<bool, String> {
    bool_field(field(v, "featureGates")?, gate)
}

/// IntOrString field: integer, `"N%"` string, or `null` / absent.
pub fn int_or_percent_field(v: &Value, key: &str) -> Result<Option<IntOrPercent>, String> {
    match opt_field(v, key)? {
        None => Ok(None),
        Some(Value::String(s)) => IntOrPercent::parse(s)
            .map(Some)
            .map_err(|e| format!("`{key}`: {e}")),
        Some(x) => Ok(Some(IntOrPercent::Int(to_i32(as_i64(x, key)?, key)?))),
    }
}
