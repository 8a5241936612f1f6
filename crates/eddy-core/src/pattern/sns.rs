//! What SNS adds around ruler: reading the policy, scope rules, limits,
//! and turning message attributes into values.
//!
//! Order of checks: size, JSON syntax, empty policy, ruler compilation,
//! nesting under `MessageAttributes` (recorded: ruler's error wins over
//! the nesting one), key count, combinations (AWS's order between the
//! last three is not recorded).

use std::borrow::Cow;

use serde_json::Value;

use super::compile::{self, Branch};
use super::event::{self, Leaves};
use super::lexer::Source;
use super::matcher::{comparable, Scalar};
use super::tree::{self, JNode};
use super::{Dialect, PatternError, Rule, Scope};

/// "The maximum size of a filter policy is 256 KB."
const MAX_POLICY_BYTES: usize = 256 * 1024;
/// "A filter policy can have a maximum of five keys."
const MAX_KEYS: usize = 5;
/// "The total combination of values … must not exceed 150."
const MAX_COMBINATIONS: u64 = 150;

const PREFIX: &str = "Invalid parameter: FilterPolicy: ";

fn invalid(reason: impl std::fmt::Display) -> PatternError {
    PatternError::Invalid(format!("{PREFIX}{reason}"))
}

/// `Ok(None)` for the empty policy.
pub(super) fn parse(json: &str, scope: Scope) -> Result<Option<Rule>, PatternError> {
    if json.len() > MAX_POLICY_BYTES {
        // Unverified wording: AWS's text for an oversized policy is not recorded.
        return Err(invalid("Filter policy is too large"));
    }
    // SNS reads the policy with a Jackson that hides the source in errors.
    let tree =
        tree::parse(json).map_err(|f| invalid(format!("failed to parse JSON. {}", f.render(&Source::Redacted))))?;
    let Some(tree) = tree else { return Ok(None) };
    if matches!(&tree, JNode::Object(entries) if entries.is_empty()) {
        return Ok(None);
    }
    // Ruler sees the policy as SNS re-serializes it (compact).
    let compact = tree::compact(&tree);
    let source = Source::Text(&compact);
    let compiled = compile::compile(&compact, source, Dialect::Sns, MAX_COMBINATIONS as usize)
        .map_err(|f| invalid(f.render(&source)))?;
    // After ruler: AWS answers `{"key": {"suffix": "value"}}` under
    // MessageAttributes with ruler's error, not the nesting one.
    if scope == Scope::MessageAttributes && nested(&tree) {
        return Err(PatternError::Invalid(
            "Invalid parameter: Filter policy scope MessageAttributes does not support nested filter policy".into(),
        ));
    }
    if compiled.branches.iter().any(|b| keys(b) > MAX_KEYS) {
        return Err(invalid("Filter policy can not have more than 5 keys"));
    }
    if compiled.overflow || combinations(&compiled.branches) > MAX_COMBINATIONS {
        return Err(invalid("Filter policy is too complex"));
    }
    Ok(Some(Rule::new(Dialect::Sns, compiled.branches)))
}

/// Whether a key (outside `$or` arrays) has an object value.
fn nested(node: &JNode) -> bool {
    let JNode::Object(entries) = node else { return false };
    entries.iter().any(|(key, value)| match (key.as_str(), value) {
        ("$or", JNode::Array(items)) => items.iter().any(nested),
        ("$or", _) => false,
        (_, value) => matches!(value, JNode::Object(_)),
    })
}

/// Top-level keys of one branch. For nested (body) policies AWS counts only
/// parent keys.
fn keys(branch: &Branch) -> usize {
    let mut tops: Vec<&str> = branch.iter().map(|f| f.top.as_str()).collect();
    tops.sort_unstable();
    tops.dedup();
    tops.len()
}

/// AWS's combination count: per branch, the product over fields of
/// (values × nesting depth), summed over `$or` branches. Matches the
/// documented examples (3 × 1 × 2 = 6; nested: 3 × 4 × 2 × 3 = 72) and the
/// recorded `$or` cases (152 and 160 rejected, 150 accepted).
fn combinations(branches: &[Branch]) -> u64 {
    let product =
        |b: &Branch| b.iter().fold(1u64, |acc, f| acc.saturating_mul(u64::from(f.count) * u64::from(f.depth)));
    branches.iter().map(product).fold(0u64, u64::saturating_add)
}

/// How SNS types an attribute for matching; `None` for Binary (ignored).
enum AttrKind {
    Str,
    Num,
    Array,
}

impl AttrKind {
    fn of(data_type: &str) -> Option<AttrKind> {
        if data_type == "String.Array" || data_type == "Number.Array" {
            return Some(AttrKind::Array);
        }
        match data_type.split('.').next() {
            Some("Binary") => None,
            Some("Number") => Some(AttrKind::Num),
            _ => Some(AttrKind::Str),
        }
    }
}

pub(super) fn matches_attributes<'a>(
    rule: &Rule,
    attrs: impl IntoIterator<Item = (&'a str, &'a str, &'a str)>,
) -> bool {
    let mut any = false;
    let mut scalars: Vec<(&'a str, Scalar<'a>)> = Vec::new();
    let mut arrays: Vec<(&'a str, Value)> = Vec::new();
    for (name, data_type, value) in attrs {
        let Some(kind) = AttrKind::of(data_type) else { continue };
        any = true;
        if !rule.paths.wants(name) {
            continue;
        }
        match kind {
            AttrKind::Array => match serde_json::from_str::<Value>(value) {
                Ok(array @ Value::Array(_)) => arrays.push((name, array)),
                _ => scalars.push((name, Scalar::Str(Cow::Borrowed(value)))),
            },
            AttrKind::Num => scalars.push((name, number(value))),
            AttrKind::Str => scalars.push((name, Scalar::Str(Cow::Borrowed(value)))),
        }
    }
    // AWS: "An empty set of attributes results in the filter not matching."
    if !any {
        return false;
    }
    let mut leaves = Leaves::default();
    for (name, scalar) in scalars {
        leaves.push(name.to_string(), scalar, Vec::new());
    }
    for (name, array) in &arrays {
        leaves.add(array, name.to_string(), Vec::new(), &rule.paths, rule.dialect);
    }
    event::any_branch(&rule.branches, &leaves, rule.dialect)
}

/// A `Number` attribute is a JSON number to the matcher; text that is not
/// a number (which Publish should have refused) stays a string.
fn number(text: &str) -> Scalar<'_> {
    if text.trim().parse::<f64>().is_err() {
        return Scalar::Str(Cow::Borrowed(text));
    }
    Scalar::Num { num: comparable(Dialect::Sns, text), text: Cow::Borrowed(text) }
}
