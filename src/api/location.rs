//! Finding where a field sits in YAML source. Conversion and validation errors are
//! raised against a field path (`spec.template.spec.containers[0].image`); this module
//! re-reads the document with `serde_saphyr::Spanned` to turn the path into a line and
//! column. It only runs when an error is reported, so the happy path pays nothing.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;
use std::fmt;

/// One step of a field path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathSeg {
    /// A mapping key.
    Key(String),
    /// A sequence index.
    Index(usize),
}

/// Splits `a.b[2].c` (the shape `serde_path_to_error` prints) into segments.
pub fn parse_path(path: &str) -> Vec<PathSeg> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let mut rest = part;
        if let Some(i) = rest.find('[') {
            if i > 0 {
                out.push(PathSeg::Key(rest[..i].to_string()));
            }
            rest = &rest[i..];
            while let Some(r) = rest.strip_prefix('[') {
                let end = r.find(']').unwrap_or(r.len());
                if let Ok(n) = r[..end].parse() {
                    out.push(PathSeg::Index(n));
                }
                rest = r.get(end + 1..).unwrap_or("");
            }
        } else if !rest.is_empty() && rest != "?" {
            out.push(PathSeg::Key(rest.to_string()));
        }
    }
    out
}

enum YNode {
    Map(Vec<(Spanned<KeyText>, Spanned<YNode>)>),
    Seq(Vec<Spanned<YNode>>),
    Scalar,
}

struct KeyText(String);

impl<'de> Deserialize<'de> for KeyText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = KeyText;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<KeyText, E> {
                Ok(KeyText(String::new()))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for YNode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = YNode;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any YAML node")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<YNode, A::Error> {
                let mut out = Vec::new();
                while let Some(k) = m.next_key::<Spanned<KeyText>>()? {
                    let v = m.next_value::<Spanned<YNode>>()?;
                    out.push((k, v));
                }
                Ok(YNode::Map(out))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<YNode, A::Error> {
                let mut out = Vec::new();
                while let Some(v) = s.next_element::<Spanned<YNode>>()? {
                    out.push(v);
                }
                Ok(YNode::Seq(out))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<YNode, E> {
                Ok(YNode::Scalar)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<YNode, E> {
                Ok(YNode::Scalar)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<YNode, E> {
                Ok(YNode::Scalar)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<YNode, E> {
                Ok(YNode::Scalar)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<YNode, E> {
                Ok(YNode::Scalar)
            }
            fn visit_unit<E: de::Error>(self) -> Result<YNode, E> {
                Ok(YNode::Scalar)
            }
            fn visit_none<E: de::Error>(self) -> Result<YNode, E> {
                Ok(YNode::Scalar)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<YNode, D::Error> {
                YNode::deserialize(d)
            }
        }
        d.deserialize_any(V)
    }
}

/// Returns the 1-based (line, column) of the deepest node along `path` in the YAML
/// document `doc` (the key's position for mapping entries), or `None` when the document
/// cannot be read.
pub fn locate(doc: &str, path: &str) -> Option<(usize, usize)> {
    let root: Spanned<YNode> =
        serde_saphyr::from_str_with_options(doc, super::manifest::yaml_options(doc)).ok()?;
    let segs = parse_path(path);
    let mut best = (
        root.referenced.line() as usize,
        root.referenced.column() as usize,
    );
    let mut node = &root.value;
    for seg in &segs {
        let next = match (node, seg) {
            (YNode::Map(entries), PathSeg::Key(k)) => entries
                .iter()
                .find(|(key, _)| key.value.0 == *k)
                .map(|(key, v)| (key.referenced, v)),
            (YNode::Seq(items), PathSeg::Index(i)) => items.get(*i).map(|v| (v.referenced, v)),
            _ => None,
        };
        match next {
            Some((loc, v)) => {
                best = (loc.line() as usize, loc.column() as usize);
                node = &v.value;
            }
            None => break,
        }
    }
    Some(best)
}

/// The 1-based first line of each item of a block-style `items:` sequence at the top
/// level of a YAML document (as `kubectl get -o yaml` prints a `List`), found in one
/// pass over the text. Empty when the document has no such sequence (flow style or
/// JSON): callers then fall back to [`locate`].
pub fn list_item_lines(doc: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let mut dash: Option<usize> = None;
    let mut in_items = false;
    for (i, line) in doc.lines().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let indent = line.len() - trimmed.len();
        if !in_items {
            if indent == 0 && trimmed.trim_end() == "items:" {
                in_items = true;
            }
            continue;
        }
        let is_dash = trimmed == "-" || trimmed.starts_with("- ");
        match dash {
            None if is_dash => {
                dash = Some(indent);
                out.push(i + 1);
            }
            None => break,
            Some(d) if indent == d && is_dash => out.push(i + 1),
            Some(d) if indent < d || (indent == d && !is_dash) => break,
            Some(_) => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_list_item_lines() {
        let doc = "apiVersion: v1\nitems:\n- kind: Node\n  metadata:\n    name: a\n- kind: Pod\n  spec:\n    containers:\n    - name: c\nkind: List\n";
        assert_eq!(list_item_lines(doc), vec![3, 6]);
        let indented = "items:\n  - a: 1\n    b:\n    - 2\n  - a: 3\nkind: List\n";
        assert_eq!(list_item_lines(indented), vec![2, 5]);
        assert!(list_item_lines("items: []\nkind: List\n").is_empty());
    }

    #[test]
    fn finds_nested_fields() {
        let doc = "kind: Pod\nspec:\n  containers:\n  - name: a\n    image: x\n  - name: b\n    resources:\n      requests:\n        cpu: 5 cores\n";
        assert_eq!(
            locate(doc, "spec.containers[1].resources.requests.cpu"),
            Some((9, 9))
        );
        assert_eq!(locate(doc, "spec.containers[0].image"), Some((5, 5)));
        // Missing tail: the deepest existing prefix.
        assert_eq!(locate(doc, "spec.containers[1].ports[0]"), Some((6, 5)));
    }

    #[test]
    fn parses_paths() {
        assert_eq!(
            parse_path("a.b[2].c"),
            vec![
                PathSeg::Key("a".into()),
                PathSeg::Key("b".into()),
                PathSeg::Index(2),
                PathSeg::Key("c".into())
            ]
        );
    }
}
