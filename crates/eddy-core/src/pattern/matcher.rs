//! What one pattern value matches. Semantics follow event-ruler, which
//! compares JSON text: a pattern string matches only event strings, a
//! pattern number only event numbers (numerically when both sides are
//! "comparable", else by text), and `anything-but` lets through every value
//! its list does not name, null and other types included.

use std::borrow::Cow;
use std::cmp::Ordering;

use super::ip::{self, IpBytes, IpRange};
use super::wildcard::Wildcard;
use super::Dialect;

/// One scalar of the message or event.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Scalar<'a> {
    Str(Cow<'a, str>),
    /// `num` is set only when the number is comparable in the dialect.
    Num {
        text: Cow<'a, str>,
        num: Option<f64>,
    },
    Bool(bool),
    Null,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Literal {
    True,
    False,
    Null,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Bound {
    pub value: f64,
    pub open: bool,
}

/// A numeric interval; equality is the closed interval [v, v].
#[derive(Debug, Clone, PartialEq)]
pub(super) struct NumRange {
    pub lo: Option<Bound>,
    pub hi: Option<Bound>,
}

impl NumRange {
    fn contains(&self, d: Dialect, x: f64) -> bool {
        let above = self.lo.is_none_or(|b| match num_cmp(d, x, b.value) {
            Ordering::Greater => true,
            Ordering::Equal => !b.open,
            Ordering::Less => false,
        });
        let below = self.hi.is_none_or(|b| match num_cmp(d, x, b.value) {
            Ordering::Less => true,
            Ordering::Equal => !b.open,
            Ordering::Greater => false,
        });
        above && below
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum AnythingBut {
    Strings(Vec<String>),
    Numbers(Vec<f64>),
    Prefixes(Vec<String>),
    Suffixes(Vec<String>),
    IgnoreCase(Vec<String>),
    Wildcards(Vec<Wildcard>),
}

impl AnythingBut {
    /// Each form excludes only values of its own kind; everything else,
    /// including null, passes (recorded EventBridge behaviour).
    fn allows(&self, v: &Scalar<'_>, d: Dialect) -> bool {
        match (self, v) {
            (AnythingBut::Strings(set), Scalar::Str(s)) => !set.iter().any(|x| x == s),
            (AnythingBut::Numbers(set), Scalar::Num { num: Some(n), .. }) => {
                !set.iter().any(|x| num_cmp(d, *n, *x) == Ordering::Equal)
            }
            (AnythingBut::Prefixes(set), Scalar::Str(s)) => !set.iter().any(|x| s.starts_with(x.as_str())),
            (AnythingBut::Suffixes(set), Scalar::Str(s)) => !set.iter().any(|x| s.ends_with(x.as_str())),
            (AnythingBut::IgnoreCase(set), Scalar::Str(s)) => !set.iter().any(|x| eq_ignore_case(s, x)),
            (AnythingBut::Wildcards(set), Scalar::Str(s)) => !set.iter().any(|w| w.matches(s)),
            _ => true,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Matcher {
    Exact(String),
    /// A pattern string that is an IP address matches any spelling of it.
    Ip(IpBytes),
    Number {
        text: String,
        num: Option<f64>,
    },
    Literal(Literal),
    Prefix(String),
    Suffix(String),
    EqualsIgnoreCase(String),
    PrefixIgnoreCase(String),
    SuffixIgnoreCase(String),
    Wildcard(Wildcard),
    Numeric(NumRange),
    Cidr(IpRange),
    AnythingBut(AnythingBut),
    /// Only during compilation; fields keep `exists` as flags.
    Exists(bool),
}

impl Matcher {
    pub(super) fn matches(&self, v: &Scalar<'_>, d: Dialect) -> bool {
        match (self, v) {
            (Matcher::Exact(p), Scalar::Str(s)) => p == s,
            (Matcher::Ip(p), Scalar::Str(s)) => ip::parse(s).is_ok_and(|ip| &ip == p),
            (Matcher::Number { text, num }, Scalar::Num { text: t, num: n }) => match (num, n) {
                (Some(a), Some(b)) => num_cmp(d, *a, *b) == Ordering::Equal,
                _ => text == t,
            },
            (Matcher::Literal(l), v) => literal_matches(*l, v),
            (Matcher::Prefix(p), Scalar::Str(s)) => s.starts_with(p.as_str()),
            (Matcher::Suffix(p), Scalar::Str(s)) => s.ends_with(p.as_str()),
            (Matcher::EqualsIgnoreCase(p), Scalar::Str(s)) => eq_ignore_case(s, p),
            (Matcher::PrefixIgnoreCase(p), Scalar::Str(s)) => prefix_ignore_case(s, p),
            (Matcher::SuffixIgnoreCase(p), Scalar::Str(s)) => suffix_ignore_case(s, p),
            (Matcher::Wildcard(w), Scalar::Str(s)) => w.matches(s),
            (Matcher::Numeric(r), Scalar::Num { num: Some(n), .. }) => r.contains(d, *n),
            (Matcher::Cidr(r), Scalar::Str(s)) => ip::parse(s).is_ok_and(|ip| r.contains(&ip)),
            (Matcher::AnythingBut(ab), v) => ab.allows(v, d),
            _ => false,
        }
    }
}

fn literal_matches(l: Literal, v: &Scalar<'_>) -> bool {
    matches!(
        (l, v),
        (Literal::True, Scalar::Bool(true)) | (Literal::False, Scalar::Bool(false)) | (Literal::Null, Scalar::Null)
    )
}

/// Ruler folds case one character at a time.
fn char_eq_ignore_case(a: char, b: char) -> bool {
    a == b || a.to_lowercase().eq(b.to_lowercase()) || a.to_uppercase().eq(b.to_uppercase())
}

fn eq_ignore_case(s: &str, p: &str) -> bool {
    s.chars().count() == p.chars().count() && s.chars().zip(p.chars()).all(|(a, b)| char_eq_ignore_case(a, b))
}

fn prefix_ignore_case(s: &str, p: &str) -> bool {
    let mut chars = s.chars();
    p.chars().all(|b| chars.next().is_some_and(|a| char_eq_ignore_case(a, b)))
}

fn suffix_ignore_case(s: &str, p: &str) -> bool {
    let mut chars = s.chars().rev();
    p.chars().rev().all(|b| chars.next().is_some_and(|a| char_eq_ignore_case(a, b)))
}

/// The bound the SNS generation of ruler accepts for numbers (±5e9).
pub(super) const SNS_NUMERIC_LIMIT: f64 = 5e9;

/// Compares two comparable numbers. SNS's ruler generation stores numbers
/// as `(long)(1e6 * (5e9 + v))`, so it only sees six decimal places;
/// current ruler (EventBridge) compares full doubles.
pub(super) fn num_cmp(d: Dialect, a: f64, b: f64) -> Ordering {
    match d {
        Dialect::Sns => sns_key(a).cmp(&sns_key(b)),
        Dialect::EventBridge => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
    }
}

fn sns_key(v: f64) -> i64 {
    (1e6 * (SNS_NUMERIC_LIMIT + v)) as i64
}

/// The comparable value of a number's text, if the dialect can compare
/// it: SNS needs |v| <= 5e9; EventBridge needs the text to be exactly a
/// double (ruler checks `BigDecimal(text) == BigDecimal.valueOf(double)`).
pub(super) fn comparable(d: Dialect, text: &str) -> Option<f64> {
    let v: f64 = text.trim().parse().ok().filter(|v: &f64| v.is_finite())?;
    match d {
        Dialect::Sns => (-SNS_NUMERIC_LIMIT..=SNS_NUMERIC_LIMIT).contains(&v).then_some(v),
        Dialect::EventBridge => exactly_double(text, v).then_some(v),
    }
}

/// Whether the decimal `text` denotes exactly the shortest decimal of `v`.
fn exactly_double(text: &str, v: f64) -> bool {
    decimal(text) == decimal(&format!("{v:e}"))
}

/// A decimal as (negative, significant digits, exponent) with value
/// 0.d1d2… × 10^exp; zero is (false, "", 0). `None` if not a number.
fn decimal(text: &str) -> Option<(bool, String, i64)> {
    let text = text.trim();
    let (neg, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (mantissa, exp) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], saturating_exp(&body[i + 1..])?),
        None => (body, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if !(int.bytes().chain(frac.bytes())).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let all: String = format!("{int}{frac}");
    let leading = all.len() - all.trim_start_matches('0').len();
    let digits = all.trim_matches('0').to_string();
    if digits.is_empty() {
        return Some((false, digits, 0));
    }
    let exp = exp.saturating_add(int.len() as i64).saturating_sub(leading as i64);
    Some((neg, digits, exp))
}

fn saturating_exp(s: &str) -> Option<i64> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let v = digits.parse::<i64>().unwrap_or(i64::MAX / 2);
    Some(if neg { -v } else { v })
}
