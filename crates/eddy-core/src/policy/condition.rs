//! Condition operators: parsing their names and deciding one condition.

use std::fmt;

use serde_json::Value;

use super::context::Lookup;
use super::pattern::{arn_match, glob, Template};
use super::{malformed, values, PolicyError};

/// The comparison a condition makes, without its `ForAllValues:`/
/// `ForAnyValue:` qualifier or `IfExists` suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OperatorKind {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
}

use OperatorKind as K;

const ALL: [OperatorKind; 27] = [
    K::StringEquals,
    K::StringNotEquals,
    K::StringEqualsIgnoreCase,
    K::StringNotEqualsIgnoreCase,
    K::StringLike,
    K::StringNotLike,
    K::NumericEquals,
    K::NumericNotEquals,
    K::NumericLessThan,
    K::NumericLessThanEquals,
    K::NumericGreaterThan,
    K::NumericGreaterThanEquals,
    K::DateEquals,
    K::DateNotEquals,
    K::DateLessThan,
    K::DateLessThanEquals,
    K::DateGreaterThan,
    K::DateGreaterThanEquals,
    K::Bool,
    K::BinaryEquals,
    K::IpAddress,
    K::NotIpAddress,
    K::ArnEquals,
    K::ArnLike,
    K::ArnNotEquals,
    K::ArnNotLike,
    K::Null,
];

impl OperatorKind {
    pub fn name(self) -> &'static str {
        match self {
            K::StringEquals => "StringEquals",
            K::StringNotEquals => "StringNotEquals",
            K::StringEqualsIgnoreCase => "StringEqualsIgnoreCase",
            K::StringNotEqualsIgnoreCase => "StringNotEqualsIgnoreCase",
            K::StringLike => "StringLike",
            K::StringNotLike => "StringNotLike",
            K::NumericEquals => "NumericEquals",
            K::NumericNotEquals => "NumericNotEquals",
            K::NumericLessThan => "NumericLessThan",
            K::NumericLessThanEquals => "NumericLessThanEquals",
            K::NumericGreaterThan => "NumericGreaterThan",
            K::NumericGreaterThanEquals => "NumericGreaterThanEquals",
            K::DateEquals => "DateEquals",
            K::DateNotEquals => "DateNotEquals",
            K::DateLessThan => "DateLessThan",
            K::DateLessThanEquals => "DateLessThanEquals",
            K::DateGreaterThan => "DateGreaterThan",
            K::DateGreaterThanEquals => "DateGreaterThanEquals",
            K::Bool => "Bool",
            K::BinaryEquals => "BinaryEquals",
            K::IpAddress => "IpAddress",
            K::NotIpAddress => "NotIpAddress",
            K::ArnEquals => "ArnEquals",
            K::ArnLike => "ArnLike",
            K::ArnNotEquals => "ArnNotEquals",
            K::ArnNotLike => "ArnNotLike",
            K::Null => "Null",
        }
    }

    /// The operator this one negates, if it is a negated one. Negated
    /// operators hold when their positive twin does not: for a missing key,
    /// and (NOR) when none of several values match.
    pub fn negates(self) -> Option<OperatorKind> {
        Some(match self {
            K::StringNotEquals => K::StringEquals,
            K::StringNotEqualsIgnoreCase => K::StringEqualsIgnoreCase,
            K::StringNotLike => K::StringLike,
            K::NumericNotEquals => K::NumericEquals,
            K::DateNotEquals => K::DateEquals,
            K::NotIpAddress => K::IpAddress,
            K::ArnNotEquals => K::ArnEquals,
            K::ArnNotLike => K::ArnLike,
            _ => return None,
        })
    }

    /// Policy variables work only with string, ARN and Bool operators.
    fn takes_variables(self) -> bool {
        let base = self.negates().unwrap_or(self);
        matches!(
            base,
            K::StringEquals | K::StringEqualsIgnoreCase | K::StringLike | K::ArnEquals | K::ArnLike | K::Bool
        )
    }

    /// Whether `*` and `?` in the policy value are wildcards.
    fn wildcards(self) -> bool {
        matches!(self.negates().unwrap_or(self), K::StringLike | K::ArnEquals | K::ArnLike)
    }
}

/// `ForAllValues:` / `ForAnyValue:`: how a multivalued key's values combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SetQualifier {
    /// Every request value must match (true when the key is absent or empty).
    ForAllValues,
    /// Some request value must match (false when the key is absent or empty).
    ForAnyValue,
}

/// A full operator name such as `ForAnyValue:StringLikeIfExists`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Operator {
    pub set: Option<SetQualifier>,
    pub kind: OperatorKind,
    pub if_exists: bool,
}

impl Operator {
    /// Reads an operator name; names are matched ignoring case.
    pub fn parse(name: &str) -> Result<Operator, PolicyError> {
        let bad = || malformed(format!("Invalid Condition type : {name}"));
        let (set, rest) = split_qualifier(name);
        let (base, if_exists) = match strip_suffix_ci(rest, "IfExists") {
            Some(base) => (base, true),
            None => (rest, false),
        };
        let kind = ALL.into_iter().find(|k| k.name().eq_ignore_ascii_case(base)).ok_or_else(bad)?;
        if kind == K::Null && if_exists {
            return Err(bad());
        }
        Ok(Operator { set, kind, if_exists })
    }
}

fn split_qualifier(name: &str) -> (Option<SetQualifier>, &str) {
    for (prefix, q) in [("ForAllValues:", SetQualifier::ForAllValues), ("ForAnyValue:", SetQualifier::ForAnyValue)] {
        if let Some(head) = name.get(..prefix.len()).filter(|h| h.eq_ignore_ascii_case(prefix)) {
            return (Some(q), &name[head.len()..]);
        }
    }
    (None, name)
}

fn strip_suffix_ci<'a>(s: &'a str, suffix: &str) -> Option<&'a str> {
    let cut = s.len().checked_sub(suffix.len())?;
    let tail = s.get(cut..)?;
    (tail.eq_ignore_ascii_case(suffix) && cut > 0).then(|| &s[..cut])
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.set {
            Some(SetQualifier::ForAllValues) => f.write_str("ForAllValues:")?,
            Some(SetQualifier::ForAnyValue) => f.write_str("ForAnyValue:")?,
            None => {}
        }
        f.write_str(self.kind.name())?;
        if self.if_exists {
            f.write_str("IfExists")?;
        }
        Ok(())
    }
}

/// One operator applied to one key: `{"ArnLike": {"aws:SourceArn": [..]}}`
/// gives one `Condition` per key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub operator: Operator,
    /// The key as written in the policy.
    pub key: String,
    /// The values as written (JSON numbers and booleans as their text).
    pub values: Vec<String>,
    key_lower: String,
    templates: Vec<Template>,
}

impl Condition {
    /// Every condition of a `Condition` block.
    pub(super) fn parse_block(block: &Value, variables: bool) -> Result<Vec<Condition>, PolicyError> {
        let Value::Object(ops) = block else { return Err(malformed("Condition must be a JSON object")) };
        let mut out = Vec::new();
        for (op_name, keys) in ops {
            let operator = Operator::parse(op_name)?;
            let Value::Object(keys) = keys else {
                return Err(malformed(format!("Condition {op_name} must map condition keys to values")));
            };
            for (key, vals) in keys {
                out.push(Condition::new(operator, key, condition_values(op_name, key, vals)?, variables));
            }
        }
        Ok(out)
    }

    fn new(operator: Operator, key: &str, values: Vec<String>, variables: bool) -> Condition {
        let with_vars = variables && operator.kind.takes_variables();
        let templates =
            values.iter().map(|v| if with_vars { Template::with_variables(v) } else { Template::plain(v) }).collect();
        Condition { operator, key: key.to_string(), values, key_lower: key.to_ascii_lowercase(), templates }
    }

    /// Whether this condition holds for the request.
    pub(super) fn holds(&self, lookup: &Lookup) -> bool {
        let present = lookup.get(&self.key_lower);
        if self.operator.kind == K::Null {
            return self
                .values
                .iter()
                .any(|v| v.eq_ignore_ascii_case(if present.is_some() { "false" } else { "true" }));
        }
        let Some(request_values) = present else { return self.when_missing() };
        // AWS: a variable that cannot be resolved makes the statement invalid.
        let Some(policy) = self.resolved(lookup) else { return false };
        let per_value = |v: &String| self.value_holds(&policy, v);
        match self.operator.set {
            Some(SetQualifier::ForAllValues) => request_values.iter().all(per_value),
            Some(SetQualifier::ForAnyValue) => request_values.iter().any(per_value),
            // Unqualified on a multivalued key: a positive operator holds when
            // some request value matches, a negated one when none does.
            None if self.operator.kind.negates().is_some() => request_values.iter().all(per_value),
            None => request_values.iter().any(per_value),
        }
    }

    /// The IAM rules for a key absent from the request.
    fn when_missing(&self) -> bool {
        if self.operator.if_exists {
            return true;
        }
        match self.operator.set {
            Some(SetQualifier::ForAllValues) => true,
            Some(SetQualifier::ForAnyValue) => false,
            None => self.operator.kind.negates().is_some(),
        }
    }

    /// One request value against all policy values: OR, or NOR if negated.
    fn value_holds(&self, policy: &[Resolved], value: &str) -> bool {
        match self.operator.kind.negates() {
            Some(base) => !policy.iter().any(|p| positive_match(base, p, value)),
            None => policy.iter().any(|p| positive_match(self.operator.kind, p, value)),
        }
    }

    fn resolved(&self, lookup: &Lookup) -> Option<Vec<Resolved>> {
        let wildcards = self.operator.kind.wildcards();
        self.templates
            .iter()
            .map(|t| {
                if wildcards {
                    t.resolve(lookup, true).map(Resolved::Pattern)
                } else {
                    t.resolve_text(lookup).map(Resolved::Text)
                }
            })
            .collect()
    }
}

/// A policy value after variables were substituted.
enum Resolved {
    Text(String),
    Pattern(Vec<super::pattern::Tok>),
}

/// Whether the positive operator `kind` matches `value` against `policy`.
fn positive_match(kind: OperatorKind, policy: &Resolved, value: &str) -> bool {
    match policy {
        Resolved::Pattern(p) if matches!(kind, K::ArnEquals | K::ArnLike) => arn_match(p, value),
        Resolved::Pattern(p) => glob(p, value),
        Resolved::Text(t) => text_matches(kind, t, value),
    }
}

fn text_matches(kind: OperatorKind, policy: &str, value: &str) -> bool {
    use std::cmp::Ordering::{Equal, Greater, Less};
    let num = || values::number(value)?.partial_cmp(&values::number(policy)?);
    let date = || Some(values::date_ms(value)?.cmp(&values::date_ms(policy)?));
    match kind {
        K::StringEquals => value == policy,
        K::StringEqualsIgnoreCase => value.to_lowercase() == policy.to_lowercase(),
        K::NumericEquals => num() == Some(Equal),
        K::NumericLessThan => num() == Some(Less),
        K::NumericLessThanEquals => matches!(num(), Some(Less | Equal)),
        K::NumericGreaterThan => num() == Some(Greater),
        K::NumericGreaterThanEquals => matches!(num(), Some(Greater | Equal)),
        K::DateEquals => date() == Some(Equal),
        K::DateLessThan => date() == Some(Less),
        K::DateLessThanEquals => matches!(date(), Some(Less | Equal)),
        K::DateGreaterThan => date() == Some(Greater),
        K::DateGreaterThanEquals => matches!(date(), Some(Greater | Equal)),
        K::Bool => value.eq_ignore_ascii_case(policy),
        K::BinaryEquals => values::binary_equals(policy, value),
        K::IpAddress => values::cidr(policy).is_some_and(|c| c.contains(value)),
        // Negated operators are decided through their positive twin, and the
        // wildcard operators through `Resolved::Pattern`.
        _ => false,
    }
}

/// A key's values: one scalar or an array of scalars, as text.
fn condition_values(op: &str, key: &str, v: &Value) -> Result<Vec<String>, PolicyError> {
    let one = |v: &Value| match v {
        Value::String(s) => Ok(s.clone()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err(malformed(format!("Condition {op} has an invalid value for key {key}"))),
    };
    match v {
        Value::Array(items) => items.iter().map(one).collect(),
        scalar => Ok(vec![one(scalar)?]),
    }
}
