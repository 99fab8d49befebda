//! Label selectors: requirements, matching, the kubectl `-l` string syntax, and conversion from
//! the API's `matchLabels`/`matchExpressions` form.
//!
//! Port of `staging/src/k8s.io/apimachinery/pkg/labels/selector.go` (`NewRequirement`,
//! `Requirement.Matches`, `Requirement.String`, the lexer/parser behind `labels.Parse`,
//! `ValidatedSelectorFromSet`) and `pkg/apis/meta/v1/helpers.go` (`LabelSelectorAsSelector`),
//! with key/value validation from `pkg/util/validation/validation.go` (`IsQualifiedName`,
//! `IsValidLabelValue`, `IsDNS1123Subdomain`).
//!
//! Deviation (documented): requirement values are stored sorted and de-duplicated (upstream keeps
//! them as given but matches them as a set and prints them sorted), so the in-memory form equals
//! the parsed form of its own `Display` output.

use std::fmt;

use serde::Serialize;

/// A set of labels (`metadata.labels`), ordered for determinism.
pub type Labels = std::collections::BTreeMap<String, String>;

/// Why a selector or requirement is invalid.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SelectorError {
    /// The label key is not a valid qualified name.
    #[error("invalid label key {key:?}: {reason}")]
    InvalidKey {
        /// The offending key.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A value is not a valid label value.
    #[error("invalid label value {value:?} for key {key:?}: {reason}")]
    InvalidValue {
        /// The requirement's key.
        key: String,
        /// The offending value.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The operator got the wrong number of values.
    #[error(
        "invalid requirement on key {key:?}: operator {operator} {expected}, got {count} value(s)"
    )]
    ValueCount {
        /// The requirement's key.
        key: String,
        /// The operator, as written in the API.
        operator: Operator,
        /// Human description of the expected count.
        expected: &'static str,
        /// How many values were given.
        count: usize,
    },
    /// A `Gt`/`Lt` value is not a 64-bit integer.
    #[error(
        "invalid requirement on key {key:?}: operator {operator} needs an integer value, got {value:?}"
    )]
    NotInteger {
        /// The requirement's key.
        key: String,
        /// The operator.
        operator: Operator,
        /// The offending value.
        value: String,
    },
    /// An operator name is not supported in this context.
    #[error("{operator:?} is not a valid {context} operator (expected one of {expected})")]
    UnknownOperator {
        /// The operator as written.
        operator: String,
        /// Where it was used (e.g. "label selector").
        context: &'static str,
        /// The accepted operator names.
        expected: &'static str,
    },
    /// A field selector (node affinity `matchFields`) used an unsupported key or operator.
    #[error("invalid matchFields requirement: {reason}")]
    InvalidField {
        /// What is wrong with it.
        reason: String,
    },
    /// A selector string could not be parsed.
    #[error("invalid label selector {input:?}: unable to parse requirement: {message}")]
    Parse {
        /// The whole selector string.
        input: String,
        /// What went wrong.
        message: String,
    },
}

/// A selector operator (upstream `selection.Operator`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Operator {
    /// Key present and value in the set.
    In,
    /// Key absent, or value not in the set.
    NotIn,
    /// Key present.
    Exists,
    /// Key absent.
    DoesNotExist,
    /// `key=value`.
    Equals,
    /// `key==value`.
    DoubleEquals,
    /// `key!=value` (also matches when the key is absent).
    NotEquals,
    /// Key present and its integer value greater than the single integer value.
    Gt,
    /// Key present and its integer value less than the single integer value.
    Lt,
}

impl Operator {
    /// Parses an operator as written in the API (`In`, `NotIn`, `Exists`, `DoesNotExist`, `Gt`,
    /// `Lt`), as used by label selector and node selector requirements.
    pub fn from_api_name(s: &str) -> Option<Operator> {
        match s {
            "In" => Some(Operator::In),
            "NotIn" => Some(Operator::NotIn),
            "Exists" => Some(Operator::Exists),
            "DoesNotExist" => Some(Operator::DoesNotExist),
            "Gt" => Some(Operator::Gt),
            "Lt" => Some(Operator::Lt),
            _ => None,
        }
    }

    /// The API spelling (`In`, `NotIn`, ...; `=`, `==`, `!=` for the string-only operators).
    pub fn api_name(&self) -> &'static str {
        match self {
            Operator::In => "In",
            Operator::NotIn => "NotIn",
            Operator::Exists => "Exists",
            Operator::DoesNotExist => "DoesNotExist",
            Operator::Equals => "=",
            Operator::DoubleEquals => "==",
            Operator::NotEquals => "!=",
            Operator::Gt => "Gt",
            Operator::Lt => "Lt",
        }
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.api_name())
    }
}

fn is_alnum(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

/// Checks `s` against `[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?` (empty is rejected).
fn is_qualified_name_part(s: &str) -> bool {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(&f), Some(&l)) => {
            is_alnum(f)
                && is_alnum(l)
                && b.iter()
                    .all(|&c| is_alnum(c) || c == b'-' || c == b'_' || c == b'.')
        }
        _ => false,
    }
}

/// Port of validation.go `IsDNS1123Subdomain`: returns a reason when invalid.
fn dns1123_subdomain_error(s: &str) -> Option<String> {
    if s.len() > 253 {
        return Some("must be no more than 253 characters".into());
    }
    let ok = s.split('.').all(|label| {
        let b = label.as_bytes();
        let lower = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
        match (b.first(), b.last()) {
            (Some(&f), Some(&l)) => {
                lower(f) && lower(l) && b.iter().all(|&c| lower(c) || c == b'-')
            }
            _ => false,
        }
    });
    if ok {
        None
    } else {
        Some(
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com')".into(),
        )
    }
}

/// Validates a label key (upstream `IsQualifiedName`): an optional DNS-subdomain prefix and `/`,
/// then a name of at most 63 characters from `[A-Za-z0-9._-]`, starting and ending alphanumeric.
pub fn validate_label_key(key: &str) -> Result<(), SelectorError> {
    // Port of k8s.io/apimachinery/pkg/util/validation/validation.go: IsQualifiedName.
    let err = |reason: String| SelectorError::InvalidKey {
        key: key.to_string(),
        reason,
    };
    let parts: Vec<&str> = key.split('/').collect();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                return Err(err("prefix part must be non-empty".into()));
            }
            if let Some(reason) = dns1123_subdomain_error(prefix) {
                return Err(err(format!("prefix part {reason}")));
            }
            *name
        }
        _ => {
            return Err(err(
                "a qualified name must be an optional DNS subdomain prefix and '/' followed by a name (e.g. 'example.com/MyName')".into(),
            ));
        }
    };
    if name.is_empty() {
        return Err(err("name part must be non-empty".into()));
    }
    if name.len() > 63 {
        return Err(err("name part must be no more than 63 characters".into()));
    }
    if !is_qualified_name_part(name) {
        return Err(err(
            "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName', 'my.name', '123-abc')".into(),
        ));
    }
    Ok(())
}

/// Validates a label value (upstream `IsValidLabelValue`): empty, or at most 63 characters from
/// `[A-Za-z0-9._-]` starting and ending alphanumeric. `key` is used only in the error.
pub fn validate_label_value(key: &str, value: &str) -> Result<(), SelectorError> {
    let err = |reason: &str| SelectorError::InvalidValue {
        key: key.to_string(),
        value: value.to_string(),
        reason: reason.to_string(),
    };
    if value.len() > 63 {
        return Err(err("must be no more than 63 characters"));
    }
    if !value.is_empty() && !is_qualified_name_part(value) {
        return Err(err(
            "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue', 'my_value', '12345')",
        ));
    }
    Ok(())
}

/// One `key <op> values` condition of a label selector.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Requirement {
    /// The label key.
    pub key: String,
    /// The operator.
    pub operator: Operator,
    /// The values, sorted and de-duplicated.
    pub values: Vec<String>,
}

impl Requirement {
    /// Builds a validated requirement (port of selector.go `NewRequirement`).
    ///
    /// In/NotIn need at least one value; Equals/DoubleEquals/NotEquals exactly one;
    /// Exists/DoesNotExist none; Gt/Lt exactly one, an integer. The key must be a qualified name
    /// and every value a valid label value.
    pub fn new(
        key: impl Into<String>,
        operator: Operator,
        values: Vec<String>,
    ) -> Result<Self, SelectorError> {
        let key = key.into();
        validate_label_key(&key)?;
        let count_err = |expected: &'static str| SelectorError::ValueCount {
            key: key.clone(),
            operator,
            expected,
            count: values.len(),
        };
        match operator {
            Operator::In | Operator::NotIn => {
                if values.is_empty() {
                    return Err(count_err("needs at least one value"));
                }
            }
            Operator::Equals | Operator::DoubleEquals | Operator::NotEquals => {
                if values.len() != 1 {
                    return Err(count_err("needs exactly one value"));
                }
            }
            Operator::Exists | Operator::DoesNotExist => {
                if !values.is_empty() {
                    return Err(count_err("takes no values"));
                }
            }
            Operator::Gt | Operator::Lt => {
                if values.len() != 1 {
                    return Err(count_err("needs exactly one value"));
                }
                for v in &values {
                    if v.parse::<i64>().is_err() {
                        return Err(SelectorError::NotInteger {
                            key: key.clone(),
                            operator,
                            value: v.clone(),
                        });
                    }
                }
            }
        }
        for v in &values {
            validate_label_value(&key, v)?;
        }
        let mut values = values;
        values.sort();
        values.dedup();
        Ok(Requirement {
            key,
            operator,
            values,
        })
    }

    fn has_value(&self, v: &str) -> bool {
        self.values.binary_search_by(|x| x.as_str().cmp(v)).is_ok()
    }

    /// Whether `labels` satisfy this requirement (port of selector.go `Requirement.Matches`).
    pub fn matches(&self, labels: &Labels) -> bool {
        let val = labels.get(&self.key);
        match self.operator {
            Operator::In | Operator::Equals | Operator::DoubleEquals => {
                val.is_some_and(|v| self.has_value(v))
            }
            Operator::NotIn | Operator::NotEquals => val.is_none_or(|v| !self.has_value(v)),
            Operator::Exists => val.is_some(),
            Operator::DoesNotExist => val.is_none(),
            Operator::Gt | Operator::Lt => {
                let Some(Ok(have)) = val.map(|v| v.parse::<i64>()) else {
                    return false;
                };
                let [want] = self.values.as_slice() else {
                    return false;
                };
                let Ok(want) = want.parse::<i64>() else {
                    return false;
                };
                if self.operator == Operator::Gt {
                    have > want
                } else {
                    have < want
                }
            }
        }
    }
}

impl fmt::Display for Requirement {
    /// Upstream `Requirement.String()`: `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`,
    /// `k`, `!k`, `k>1`, `k<1`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.operator == Operator::DoesNotExist {
            f.write_str("!")?;
        }
        f.write_str(&self.key)?;
        let op = match self.operator {
            Operator::Equals => "=",
            Operator::DoubleEquals => "==",
            Operator::NotEquals => "!=",
            Operator::In => " in ",
            Operator::NotIn => " notin ",
            Operator::Gt => ">",
            Operator::Lt => "<",
            Operator::Exists | Operator::DoesNotExist => return Ok(()),
        };
        f.write_str(op)?;
        let set = matches!(self.operator, Operator::In | Operator::NotIn);
        if set {
            f.write_str("(")?;
        }
        f.write_str(&self.values.join(","))?;
        if set {
            f.write_str(")")?;
        }
        Ok(())
    }
}

/// A label selector: the AND of its requirements (sorted by key), or the special "nothing"
/// selector that matches no labels at all.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LabelSelector {
    requirements: Vec<Requirement>,
    nothing: bool,
}

impl Default for LabelSelector {
    fn default() -> Self {
        LabelSelector::everything()
    }
}

impl LabelSelector {
    /// The selector that matches every label set (upstream `labels.Everything()`).
    pub fn everything() -> Self {
        LabelSelector {
            requirements: Vec::new(),
            nothing: false,
        }
    }

    /// The selector that matches nothing (upstream `labels.Nothing()`, what a nil API selector
    /// converts to). It prints as the empty string, like upstream.
    pub fn nothing() -> Self {
        LabelSelector {
            requirements: Vec::new(),
            nothing: true,
        }
    }

    /// Builds a selector from requirements, sorting them (stably) by key like upstream `Add`.
    pub fn from_requirements(mut requirements: Vec<Requirement>) -> Self {
        requirements.sort_by(|a, b| a.key.cmp(&b.key));
        LabelSelector {
            requirements,
            nothing: false,
        }
    }

    /// Upstream `Empty()`: true when the selector does not restrict anything (no requirements
    /// and not the "nothing" selector).
    pub fn is_empty(&self) -> bool {
        !self.nothing && self.requirements.is_empty()
    }

    /// True for the "nothing" selector (upstream `labels.MatchesNothing`).
    pub fn is_nothing(&self) -> bool {
        self.nothing
    }

    /// The requirements, sorted by key (empty for both "everything" and "nothing").
    pub fn requirements(&self) -> &[Requirement] {
        &self.requirements
    }

    /// Adds a requirement, keeping key order (upstream `Add`). Adding to "nothing" is a no-op.
    pub fn add(&mut self, requirement: Requirement) {
        if self.nothing {
            return;
        }
        self.requirements.push(requirement);
        self.requirements.sort_by(|a, b| a.key.cmp(&b.key));
    }

    /// Equality selector from a label map (upstream `ValidatedSelectorFromSet`); an empty map
    /// gives "everything". Used for ReplicationController selectors and `nodeSelector`.
    pub fn from_map(labels: &Labels) -> Result<Self, SelectorError> {
        let reqs = labels
            .iter()
            .map(|(k, v)| Requirement::new(k.clone(), Operator::Equals, vec![v.clone()]))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(LabelSelector::from_requirements(reqs))
    }

    /// Converts the API form (`matchLabels` + `matchExpressions`) to a selector (port of
    /// helpers.go `LabelSelectorAsSelector`). Expression operators are written as in the API:
    /// `In`, `NotIn`, `Exists`, `DoesNotExist`. Both lists empty gives "everything"; a missing
    /// (nil) API selector should use [`LabelSelector::nothing`] instead.
    pub fn from_parts(
        match_labels: &Labels,
        match_expressions: &[(String, String, Vec<String>)],
    ) -> Result<Self, SelectorError> {
        if match_labels.is_empty() && match_expressions.is_empty() {
            return Ok(LabelSelector::everything());
        }
        let mut reqs = Vec::with_capacity(match_labels.len() + match_expressions.len());
        for (k, v) in match_labels {
            reqs.push(Requirement::new(
                k.clone(),
                Operator::Equals,
                vec![v.clone()],
            )?);
        }
        for (key, op, values) in match_expressions {
            let operator = match op.as_str() {
                "In" => Operator::In,
                "NotIn" => Operator::NotIn,
                "Exists" => Operator::Exists,
                "DoesNotExist" => Operator::DoesNotExist,
                _ => {
                    return Err(SelectorError::UnknownOperator {
                        operator: op.clone(),
                        context: "label selector",
                        expected: "In, NotIn, Exists, DoesNotExist",
                    });
                }
            };
            reqs.push(Requirement::new(key.clone(), operator, values.clone())?);
        }
        Ok(LabelSelector::from_requirements(reqs))
    }

    /// Parses the kubectl `-l` syntax (port of selector.go `labels.Parse`), e.g.
    /// `app=web,tier!=frontend,environment in (production, qa),!partition,x>1`.
    /// The empty string gives "everything".
    pub fn parse(input: &str) -> Result<Self, SelectorError> {
        let tokens = lex(input);
        let mut p = Parser {
            tokens,
            pos: 0,
            input,
        };
        let reqs = p.parse()?;
        Ok(LabelSelector::from_requirements(reqs))
    }

    /// Whether `labels` satisfy every requirement ("nothing" matches no labels).
    pub fn matches(&self, labels: &Labels) -> bool {
        !self.nothing && self.requirements.iter().all(|r| r.matches(labels))
    }
}

/// True if every `key: value` of `selector` is present in `labels` (upstream
/// `SelectorFromSet(selector).Matches(labels)` without validation); an empty map matches all.
pub fn map_matches(selector: &Labels, labels: &Labels) -> bool {
    selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

impl fmt::Display for LabelSelector {
    /// Upstream `String()`: requirements joined by `,` (empty for everything and nothing).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.requirements.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for LabelSelector {
    type Err = SelectorError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        LabelSelector::parse(s)
    }
}

/// Lexer tokens (upstream `Token`).
#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok {
    Error(String),
    End,
    ClosedPar,
    Comma,
    Bang,
    DoubleEquals,
    Equals,
    Gt,
    Ident(String),
    In,
    Lt,
    NotEquals,
    NotIn,
    OpenPar,
}

impl Tok {
    /// The literal upstream shows in error messages.
    fn literal(&self) -> &str {
        match self {
            Tok::Error(s) | Tok::Ident(s) => s,
            Tok::End => "",
            Tok::ClosedPar => ")",
            Tok::Comma => ",",
            Tok::Bang => "!",
            Tok::DoubleEquals => "==",
            Tok::Equals => "=",
            Tok::Gt => ">",
            Tok::In => "in",
            Tok::Lt => "<",
            Tok::NotEquals => "!=",
            Tok::NotIn => "notin",
            Tok::OpenPar => "(",
        }
    }

    /// In a value context `in`/`notin` are plain identifiers (upstream `lookahead(Values)`).
    fn as_value(&self) -> Tok {
        match self {
            Tok::In | Tok::NotIn => Tok::Ident(self.literal().to_string()),
            t => t.clone(),
        }
    }
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_special(b: u8) -> bool {
    matches!(b, b'=' | b'!' | b'(' | b')' | b',' | b'>' | b'<')
}

fn symbol_token(s: &[u8]) -> Option<Tok> {
    Some(match s {
        b")" => Tok::ClosedPar,
        b"," => Tok::Comma,
        b"!" => Tok::Bang,
        b"==" => Tok::DoubleEquals,
        b"=" => Tok::Equals,
        b">" => Tok::Gt,
        b"<" => Tok::Lt,
        b"!=" => Tok::NotEquals,
        b"(" => Tok::OpenPar,
        _ => return None,
    })
}

/// Port of selector.go `Lexer`: splits the input into tokens, ending with `End`. Like upstream,
/// a NUL byte ends the input.
fn lex(input: &str) -> Vec<Tok> {
    let b = input.as_bytes();
    let at = |i: usize| if i < b.len() { b[i] } else { 0 };
    let mut pos = 0;
    let mut out = Vec::new();
    loop {
        while is_ws(at(pos)) {
            pos += 1;
        }
        let ch = at(pos);
        if ch == 0 {
            out.push(Tok::End);
            return out;
        }
        if is_special(ch) {
            // Greedy scan of special symbols, keeping the longest known token.
            let start = pos;
            let mut last: Option<(Tok, usize)> = None;
            while is_special(at(pos)) {
                pos += 1;
                if let Some(t) = symbol_token(&b[start..pos]) {
                    last = Some((t, pos));
                } else if last.is_some() {
                    pos -= 1;
                    break;
                }
            }
            match last {
                Some((t, end)) => {
                    pos = end;
                    out.push(t);
                }
                None => {
                    out.push(Tok::Error(format!(
                        "error expected: keyword found '{}'",
                        String::from_utf8_lossy(&b[start..pos])
                    )));
                }
            }
        } else {
            let start = pos;
            while at(pos) != 0 && !is_special(at(pos)) && !is_ws(at(pos)) {
                pos += 1;
            }
            let word = String::from_utf8_lossy(&b[start..pos]).into_owned();
            out.push(match word.as_str() {
                "in" => Tok::In,
                "notin" => Tok::NotIn,
                _ => Tok::Ident(word),
            });
        }
    }
}

/// Port of selector.go `Parser` (recursive descent over the pre-scanned tokens).
struct Parser<'a> {
    tokens: Vec<Tok>,
    pos: usize,
    input: &'a str,
}

impl Parser<'_> {
    fn err(&self, message: impl Into<String>) -> SelectorError {
        SelectorError::Parse {
            input: self.input.to_string(),
            message: message.into(),
        }
    }

    /// Wraps a validation error from `Requirement::new` / key validation.
    fn wrap(&self, e: SelectorError) -> SelectorError {
        match e {
            SelectorError::Parse { .. } => e,
            other => self.err(other.to_string()),
        }
    }

    fn peek(&self) -> &Tok {
        // The token list always ends with End and parsing never consumes past it.
        self.tokens
            .get(self.pos)
            .or(self.tokens.last())
            .unwrap_or(&Tok::End)
    }

    /// Lookahead in the value context.
    fn peek_value(&self) -> Tok {
        self.peek().as_value()
    }

    /// Consume in the key/operator context.
    fn next_raw(&mut self) -> Tok {
        let t = self.peek().clone();
        if self.pos < self.tokens.len() {
            self.pos += 1;
        }
        t
    }

    /// Consume in the value context.
    fn next_value(&mut self) -> Tok {
        self.next_raw().as_value()
    }

    fn parse(&mut self) -> Result<Vec<Requirement>, SelectorError> {
        let mut reqs = Vec::new();
        loop {
            match self.peek_value() {
                Tok::Ident(_) | Tok::Bang => {
                    let r = self.parse_requirement()?;
                    reqs.push(r);
                    match self.next_value() {
                        Tok::End => return Ok(reqs),
                        Tok::Comma => {
                            let t2 = self.peek_value();
                            if !matches!(t2, Tok::Ident(_) | Tok::Bang) {
                                return Err(self.err(format!(
                                    "found '{}', expected: identifier after ','",
                                    t2.literal()
                                )));
                            }
                        }
                        t => {
                            return Err(self.err(format!(
                                "found '{}', expected: ',' or 'end of string'",
                                t.literal()
                            )));
                        }
                    }
                }
                Tok::End => return Ok(reqs),
                t => {
                    return Err(self.err(format!(
                        "found '{}', expected: !, identifier, or 'end of string'",
                        t.literal()
                    )));
                }
            }
        }
    }

    fn parse_requirement(&mut self) -> Result<Requirement, SelectorError> {
        // parseKeyAndInferOperator
        let mut operator = None;
        let mut tok = self.next_value();
        if tok == Tok::Bang {
            operator = Some(Operator::DoesNotExist);
            tok = self.next_value();
        }
        let Tok::Ident(key) = tok else {
            return Err(self.err(format!("found '{}', expected: identifier", tok.literal())));
        };
        validate_label_key(&key).map_err(|e| self.wrap(e))?;
        if matches!(self.peek_value(), Tok::End | Tok::Comma) && operator.is_none() {
            operator = Some(Operator::Exists);
        }
        if let Some(op) = operator {
            return Requirement::new(key, op, Vec::new()).map_err(|e| self.wrap(e));
        }
        // parseOperator
        let op = match self.next_raw() {
            Tok::In => Operator::In,
            Tok::Equals => Operator::Equals,
            Tok::DoubleEquals => Operator::DoubleEquals,
            Tok::Gt => Operator::Gt,
            Tok::Lt => Operator::Lt,
            Tok::NotIn => Operator::NotIn,
            Tok::NotEquals => Operator::NotEquals,
            t => {
                return Err(self.err(format!(
                    "found '{}', expected: in, notin, =, ==, !=, >, <",
                    t.literal()
                )));
            }
        };
        let values = match op {
            Operator::In | Operator::NotIn => self.parse_values()?,
            _ => self.parse_exact_value()?,
        };
        Requirement::new(key, op, values).map_err(|e| self.wrap(e))
    }

    fn parse_values(&mut self) -> Result<Vec<String>, SelectorError> {
        let t = self.next_value();
        if t != Tok::OpenPar {
            return Err(self.err(format!("found '{}' expected: '('", t.literal())));
        }
        let look = self.peek_value();
        match look {
            Tok::Ident(_) | Tok::Comma => {
                let s = self.parse_identifiers_list()?;
                if self.next_value() != Tok::ClosedPar {
                    return Err(self.err(format!("found '{}', expected: ')'", look.literal())));
                }
                Ok(s)
            }
            Tok::ClosedPar => {
                self.next_value();
                Ok(vec![String::new()])
            }
            t => Err(self.err(format!(
                "found '{}', expected: ',', ')' or identifier",
                t.literal()
            ))),
        }
    }

    fn parse_identifiers_list(&mut self) -> Result<Vec<String>, SelectorError> {
        let mut s: Vec<String> = Vec::new();
        loop {
            match self.next_value() {
                Tok::Ident(lit) => {
                    s.push(lit);
                    match self.peek_value() {
                        Tok::Comma => continue,
                        Tok::ClosedPar => return Ok(s),
                        t => {
                            return Err(
                                self.err(format!("found '{}', expected: ',' or ')'", t.literal()))
                            );
                        }
                    }
                }
                Tok::Comma => {
                    if s.is_empty() {
                        s.push(String::new()); // "(,"
                    }
                    match self.peek_value() {
                        Tok::ClosedPar => {
                            s.push(String::new()); // ",)"
                            return Ok(s);
                        }
                        Tok::Comma => {
                            self.next_value();
                            s.push(String::new()); // ",,"
                        }
                        _ => {}
                    }
                }
                t => {
                    return Err(self.err(format!(
                        "found '{}', expected: ',', or identifier",
                        t.literal()
                    )));
                }
            }
        }
    }

    fn parse_exact_value(&mut self) -> Result<Vec<String>, SelectorError> {
        if matches!(self.peek_value(), Tok::End | Tok::Comma) {
            return Ok(vec![String::new()]);
        }
        match self.next_value() {
            Tok::Ident(lit) => Ok(vec![lit]),
            t => Err(self.err(format!("found '{}', expected: identifier", t.literal()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn sel(s: &str) -> LabelSelector {
        LabelSelector::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn docs_examples() {
        let prod_web = labels(&[
            ("environment", "production"),
            ("tier", "web"),
            ("app", "web"),
        ]);
        assert!(sel("app=web").matches(&prod_web));
        assert!(sel("app==web").matches(&prod_web));
        assert!(sel("tier!=frontend").matches(&prod_web));
        assert!(sel("tier!=frontend").matches(&labels(&[])));
        assert!(!sel("tier!=web").matches(&prod_web));
        assert!(sel("environment in (production, qa)").matches(&prod_web));
        assert!(!sel("environment in (qa)").matches(&prod_web));
        assert!(sel("tier notin (frontend,backend)").matches(&prod_web));
        assert!(sel("tier notin (frontend,backend)").matches(&labels(&[])));
        assert!(!sel("partition").matches(&prod_web));
        assert!(sel("!partition").matches(&prod_web));
        assert!(sel("environment=production,tier!=frontend").matches(&prod_web));
        assert!(!sel("environment=production,tier=frontend").matches(&prod_web));
        assert!(sel("x>1").matches(&labels(&[("x", "2")])));
        assert!(!sel("x>1").matches(&labels(&[("x", "1")])));
        assert!(!sel("x>1").matches(&labels(&[("x", "abc")])));
        assert!(!sel("x>1").matches(&labels(&[])));
        assert!(sel("x<1").matches(&labels(&[("x", "0")])));
        assert!(sel("").matches(&labels(&[])));
        assert!(sel("").is_empty());
    }

    #[test]
    fn display_forms() {
        let cases = [
            ("app=web", "app=web"),
            ("app==web", "app==web"),
            ("b!=x , a", "a,b!=x"),
            (
                "environment in (qa, production)",
                "environment in (production,qa)",
            ),
            (
                "tier notin(frontend,backend)",
                "tier notin (backend,frontend)",
            ),
            ("!partition", "!partition"),
            ("x>1,y<20", "x>1,y<20"),
            (
                "x in (foo,,baz),y,z notin ()",
                "x in (,baz,foo),y,z notin ()",
            ),
            ("x=", "x="),
            ("x in (in,notin)", "x in (in,notin)"),
            ("in in (a)", "in in (a)"),
            ("example.com/role=db", "example.com/role=db"),
        ];
        for (input, want) in cases {
            assert_eq!(sel(input).to_string(), want, "{input}");
            assert_eq!(sel(want), sel(input), "{input}");
        }
    }

    #[test]
    fn parse_errors() {
        for s in [
            "x=a=b",
            "x in a",
            "x in (a",
            "x in (a b)",
            "!x=a",
            "x,",
            ",x",
            "x>a",
            "x>-1",
            "-x=a",
            "x=-a",
            "a/b/c=d",
            "Example.com/x=a",
            "x notin",
            "=a",
            "x)",
            "x = ( a )",
        ] {
            assert!(LabelSelector::parse(s).is_err(), "{s:?} should fail");
        }
        let e = LabelSelector::parse("x=a=b").unwrap_err().to_string();
        assert_eq!(
            e,
            "invalid label selector \"x=a=b\": unable to parse requirement: found '=', expected: ',' or 'end of string'"
        );
        let e = LabelSelector::parse("x>a").unwrap_err().to_string();
        assert!(e.contains("needs an integer value, got \"a\""), "{e}");
    }

    #[test]
    fn requirement_validation() {
        let r = |k: &str, op, vals: &[&str]| {
            Requirement::new(k, op, vals.iter().map(|s| s.to_string()).collect())
        };
        assert!(r("a", Operator::In, &[]).is_err());
        assert!(r("a", Operator::In, &["x", "y"]).is_ok());
        assert!(r("a", Operator::Equals, &["x", "y"]).is_err());
        assert!(r("a", Operator::Exists, &["x"]).is_err());
        assert!(r("a", Operator::Gt, &["1", "2"]).is_err());
        assert!(r("a", Operator::Gt, &["x"]).is_err());
        assert!(r("a", Operator::Lt, &["10"]).is_ok());
        assert!(r("", Operator::Exists, &[]).is_err());
        assert!(r(&"k".repeat(64), Operator::Exists, &[]).is_err());
        assert!(r(&"k".repeat(63), Operator::Exists, &[]).is_ok());
        assert!(r("/a", Operator::Exists, &[]).is_err());
        assert!(r("a/", Operator::Exists, &[]).is_err());
        assert!(r("kubernetes.io/hostname", Operator::Exists, &[]).is_ok());
        assert!(r("a_b.c-D", Operator::Exists, &[]).is_ok());
        assert!(r("a", Operator::In, &[&"v".repeat(64)]).is_err());
        assert!(r("a", Operator::In, &[""]).is_ok());
        assert!(r("a", Operator::In, &["_x"]).is_err());
        let req = r("a", Operator::In, &["z", "b", "z"]).ok();
        assert_eq!(req.map(|x| x.values), Some(vec!["b".into(), "z".into()]));
    }

    #[test]
    fn from_parts_and_map() {
        let ml = labels(&[("app", "web")]);
        let exprs = vec![(
            "tier".to_string(),
            "NotIn".to_string(),
            vec!["cache".to_string()],
        )];
        let s = LabelSelector::from_parts(&ml, &exprs).unwrap_or_default();
        assert_eq!(s.to_string(), "app=web,tier notin (cache)");
        assert!(s.matches(&labels(&[("app", "web")])));
        assert!(!s.matches(&labels(&[("app", "web"), ("tier", "cache")])));
        let bad = vec![("tier".to_string(), "Equals".to_string(), vec![])];
        let e = LabelSelector::from_parts(&ml, &bad).unwrap_err();
        assert!(
            e.to_string()
                .contains("\"Equals\" is not a valid label selector operator")
        );
        let empty = LabelSelector::from_parts(&Labels::new(), &[])
            .unwrap_or_else(|_| LabelSelector::nothing());
        assert!(empty.is_empty() && empty.matches(&labels(&[("a", "b")])));
        let nothing = LabelSelector::nothing();
        assert!(!nothing.is_empty() && !nothing.matches(&labels(&[])));
        let m = LabelSelector::from_map(&labels(&[("b", "2"), ("a", "1")])).unwrap_or_default();
        assert_eq!(m.to_string(), "a=1,b=2");
        assert!(LabelSelector::from_map(&labels(&[("a", "bad value")])).is_err());
        assert!(map_matches(
            &labels(&[("a", "1")]),
            &labels(&[("a", "1"), ("b", "2")])
        ));
        assert!(!map_matches(&labels(&[("a", "1")]), &labels(&[("a", "2")])));
    }

    fn arb_requirement() -> impl Strategy<Value = Option<Requirement>> {
        let keys = prop::sample::select(vec!["a", "b", "in", "x.io/c", "d-e_f"]);
        let vals = prop::collection::vec(
            prop::sample::select(vec!["", "a", "b1", "in", "notin", "1", "22"]),
            0..4,
        );
        let ops = prop::sample::select(vec![
            Operator::In,
            Operator::NotIn,
            Operator::Exists,
            Operator::DoesNotExist,
            Operator::Equals,
            Operator::DoubleEquals,
            Operator::NotEquals,
            Operator::Gt,
            Operator::Lt,
        ]);
        (keys, ops, vals).prop_map(|(k, op, vs)| {
            Requirement::new(k, op, vs.into_iter().map(String::from).collect()).ok()
        })
    }

    proptest! {
        #[test]
        fn roundtrip(reqs in prop::collection::vec(arb_requirement(), 0..5),
                     lbls in prop::collection::btree_map(
                         prop::sample::select(vec!["a", "b", "in", "x.io/c", "d-e_f"]),
                         prop::sample::select(vec!["", "a", "b1", "1", "22", "-3"]), 0..5)) {
            let s = LabelSelector::from_requirements(reqs.into_iter().flatten().collect());
            let text = s.to_string();
            let back = LabelSelector::parse(&text);
            prop_assert_eq!(back.as_ref(), Ok(&s), "text {}", text);
            let l: Labels = lbls.into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            if let Ok(b) = back {
                prop_assert_eq!(b.matches(&l), s.matches(&l));
            }
        }
    }
}
