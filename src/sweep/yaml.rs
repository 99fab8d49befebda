//! A generic YAML tree of a scenario document, so `--set` overrides can be applied
//! before the scenario is validated. Maps keep their key order and every node keeps the
//! line and column it was written at (for errors naming the scenario file). The tree
//! serializes back to YAML with `serde-saphyr`; the overridden text is then loaded by
//! [`crate::workload::Scenario::from_str`] as usual.
//!
//! Paths address nodes as `spec.cluster.nodePools[0].count`: map keys separated by
//! dots, list indexes in brackets.

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;
use std::fmt;

/// A YAML value.
#[derive(Debug, Clone, PartialEq)]
pub enum Yaml {
    /// `null` or `~`.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string.
    Str(String),
    /// A list.
    Seq(Vec<Node>),
    /// A map, in document order.
    Map(Vec<(String, Node)>),
}

/// A value and where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The value.
    pub value: Yaml,
    /// 1-based line (0 for a value set by an override).
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

impl Yaml {
    /// A short name of the value's kind, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Yaml::Null => "null",
            Yaml::Bool(_) => "a boolean",
            Yaml::Int(_) => "an integer",
            Yaml::Float(_) => "a number",
            Yaml::Str(_) => "a string",
            Yaml::Seq(_) => "a list",
            Yaml::Map(_) => "a map",
        }
    }
}

/// One step of a path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    /// A map key.
    Key(String),
    /// A list index.
    Index(usize),
}

/// A parsed path (`spec.cluster.nodePools[0].count`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Path(pub Vec<Step>);

impl Path {
    /// Parses a path; `Err` says what is malformed.
    pub fn parse(text: &str) -> Result<Path, String> {
        let mut steps = Vec::new();
        if text.is_empty() {
            return Err("empty path".to_string());
        }
        for part in text.split('.') {
            let (key, mut rest) = match part.find('[') {
                Some(i) => (&part[..i], &part[i..]),
                None => (part, ""),
            };
            if key.is_empty() && (steps.is_empty() || rest.is_empty()) {
                return Err(format!("empty key in path {text:?}"));
            }
            if !key.is_empty() {
                if key.contains(']') {
                    return Err(format!("unbalanced ']' in path {text:?}"));
                }
                steps.push(Step::Key(key.to_string()));
            }
            while !rest.is_empty() {
                let close = rest
                    .find(']')
                    .ok_or_else(|| format!("unclosed '[' in path {text:?}"))?;
                let idx: usize = rest[1..close].parse().map_err(|_| {
                    format!("bad list index {:?} in path {text:?}", &rest[1..close])
                })?;
                steps.push(Step::Index(idx));
                rest = &rest[close + 1..];
                if !rest.is_empty() && !rest.starts_with('[') {
                    return Err(format!("expected '.' or '[' after ']' in path {text:?}"));
                }
            }
        }
        Ok(Path(steps))
    }

    /// Whether one path is a prefix of the other (they touch the same value).
    pub fn overlaps(&self, other: &Path) -> bool {
        let n = self.0.len().min(other.0.len());
        self.0[..n] == other.0[..n]
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.0.iter().enumerate() {
            match s {
                Step::Key(k) if i == 0 => write!(f, "{k}")?,
                Step::Key(k) => write!(f, ".{k}")?,
                Step::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

impl Node {
    /// Parses a YAML document.
    pub fn parse(text: &str) -> Result<Node, String> {
        serde_saphyr::from_str::<Node>(text).map_err(|e| e.without_snippet().to_string())
    }

    /// The document as YAML text.
    pub fn to_text(&self) -> Result<String, String> {
        serde_saphyr::to_string(self).map_err(|e| e.to_string())
    }

    /// The node at `path`; `Err` names the longest prefix that exists and what is missing.
    pub fn get(&self, path: &Path) -> Result<&Node, Missing> {
        let mut cur = self;
        for (i, step) in path.0.iter().enumerate() {
            let here = Path(path.0[..i].to_vec());
            cur = match (step, &cur.value) {
                (Step::Key(k), Yaml::Map(m)) => match m.iter().find(|(key, _)| key == k) {
                    Some((_, n)) => n,
                    None => return Err(missing(&here, cur, &format!("no key {k:?}"))),
                },
                (Step::Index(n), Yaml::Seq(s)) => match s.get(*n) {
                    Some(v) => v,
                    None => {
                        return Err(missing(
                            &here,
                            cur,
                            &format!("index {n} is out of range (the list has {})", s.len()),
                        ));
                    }
                },
                (Step::Key(k), v) => {
                    return Err(missing(
                        &here,
                        cur,
                        &format!("{} has no key {k:?}", v.kind()),
                    ));
                }
                (Step::Index(n), v) => {
                    return Err(missing(
                        &here,
                        cur,
                        &format!("{} has no index {n}", v.kind()),
                    ));
                }
            };
        }
        Ok(cur)
    }

    /// The node at `path`, mutably (it must exist: check with [`Node::get`] first).
    pub fn get_mut(&mut self, path: &Path) -> Option<&mut Node> {
        let mut cur = self;
        for step in &path.0 {
            cur = match (step, &mut cur.value) {
                (Step::Key(k), Yaml::Map(m)) => &mut m.iter_mut().find(|(key, _)| key == k)?.1,
                (Step::Index(n), Yaml::Seq(s)) => s.get_mut(*n)?,
                _ => return None,
            };
        }
        Some(cur)
    }
}

/// A path that does not exist: what is missing, and where the longest existing prefix
/// is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    /// `prefix: what is missing`.
    pub message: String,
    /// Line of the longest existing prefix.
    pub line: usize,
    /// Column of the longest existing prefix.
    pub column: usize,
}

fn missing(prefix: &Path, at: &Node, what: &str) -> Missing {
    let message = if prefix.0.is_empty() {
        format!("the document: {what}")
    } else {
        format!("{prefix}: {what}")
    };
    Missing {
        message,
        line: at.line,
        column: at.column,
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = Spanned::<Yaml>::deserialize(d)?;
        Ok(Node {
            value: s.value,
            line: s.referenced.line() as usize,
            column: s.referenced.column() as usize,
        })
    }
}

struct YamlVisitor;

impl<'de> Visitor<'de> for YamlVisitor {
    type Value = Yaml;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Yaml, E> {
        Ok(Yaml::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Yaml, E> {
        Ok(Yaml::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Yaml, D::Error> {
        Yaml::deserialize(d)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Yaml, E> {
        Ok(Yaml::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Yaml, E> {
        Ok(Yaml::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Yaml, E> {
        Ok(i64::try_from(v).map_or(Yaml::Float(v as f64), Yaml::Int))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Yaml, E> {
        Ok(Yaml::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Yaml, E> {
        Ok(Yaml::Str(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Yaml, E> {
        Ok(Yaml::Str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Yaml, A::Error> {
        let mut v = Vec::new();
        while let Some(n) = a.next_element::<Node>()? {
            v.push(n);
        }
        Ok(Yaml::Seq(v))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Yaml, A::Error> {
        let mut v: Vec<(String, Node)> = Vec::new();
        while let Some((k, n)) = a.next_entry::<String, Node>()? {
            v.push((k, n));
        }
        Ok(Yaml::Map(v))
    }
}

impl<'de> Deserialize<'de> for Yaml {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(YamlVisitor)
    }
}

impl Serialize for Node {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(s)
    }
}

impl Serialize for Yaml {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Yaml::Null => s.serialize_unit(),
            Yaml::Bool(b) => s.serialize_bool(*b),
            Yaml::Int(i) => s.serialize_i64(*i),
            Yaml::Float(f) => s.serialize_f64(*f),
            Yaml::Str(t) => s.serialize_str(t),
            Yaml::Seq(v) => {
                let mut seq = s.serialize_seq(Some(v.len()))?;
                for n in v {
                    seq.serialize_element(n)?;
                }
                seq.end()
            }
            Yaml::Map(m) => {
                let mut map = s.serialize_map(Some(m.len()))?;
                for (k, n) in m {
                    map.serialize_entry(k, n)?;
                }
                map.end()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str =
        "a:\n  b: [1, 2.5, x]\n  c: \"3\"\n  d: |\n    line one\n    line: two\n  e: true\nz: ~\n";

    #[test]
    fn parses_kinds_and_positions() {
        let n = Node::parse(DOC).unwrap();
        let p = |s: &str| Path::parse(s).unwrap();
        assert_eq!(n.get(&p("a.b[0]")).unwrap().value, Yaml::Int(1));
        assert_eq!(n.get(&p("a.b[1]")).unwrap().value, Yaml::Float(2.5));
        assert_eq!(n.get(&p("a.b[2]")).unwrap().value, Yaml::Str("x".into()));
        assert_eq!(n.get(&p("a.c")).unwrap().value, Yaml::Str("3".into()));
        assert_eq!(n.get(&p("a.e")).unwrap().value, Yaml::Bool(true));
        assert_eq!(n.get(&p("z")).unwrap().value, Yaml::Null);
        let c = n.get(&p("a.c")).unwrap();
        assert_eq!((c.line, c.column), (3, 6));
    }

    #[test]
    fn round_trips_through_text() {
        let n = Node::parse(DOC).unwrap();
        let text = n.to_text().unwrap();
        let back = Node::parse(&text).unwrap();
        let strip = |n: &Node| n.to_text().unwrap();
        assert_eq!(strip(&back), text);
        // The quoted number stays a string, the block scalar keeps its lines.
        assert_eq!(
            back.get(&Path::parse("a.c").unwrap()).unwrap().value,
            Yaml::Str("3".into())
        );
        assert_eq!(
            back.get(&Path::parse("a.d").unwrap()).unwrap().value,
            Yaml::Str("line one\nline: two\n".into())
        );
    }

    #[test]
    fn paths() {
        let p = Path::parse("spec.cluster.nodePools[0].count").unwrap();
        assert_eq!(p.to_string(), "spec.cluster.nodePools[0].count");
        assert_eq!(p.0.len(), 5);
        assert_eq!(Path::parse("m[1][2]").unwrap().to_string(), "m[1][2]");
        for bad in ["", "a..b", "a[", "a[x]", "a]b", "a[0]b", ".a"] {
            assert!(Path::parse(bad).is_err(), "{bad}");
        }
        let a = Path::parse("a.b").unwrap();
        assert!(a.overlaps(&Path::parse("a.b[0]").unwrap()));
        assert!(!a.overlaps(&Path::parse("a.c").unwrap()));
    }

    #[test]
    fn missing_paths_name_the_existing_prefix() {
        let n = Node::parse(DOC).unwrap();
        let e = n.get(&Path::parse("a.b[7]").unwrap()).unwrap_err();
        assert_eq!(e.message, "a.b: index 7 is out of range (the list has 3)");
        assert_eq!(e.line, 2);
        let e = n.get(&Path::parse("a.nope.x").unwrap()).unwrap_err();
        assert_eq!(e.message, "a: no key \"nope\"");
        let e = n.get(&Path::parse("a.c.x").unwrap()).unwrap_err();
        assert_eq!(e.message, "a.c: a string has no key \"x\"");
    }
}
