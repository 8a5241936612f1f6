//! The request context: condition keys and their values.

use std::cell::OnceCell;
use std::collections::HashMap;

use super::Principal;

/// Condition keys of one request, each with one or more values.
///
/// Key names are case-insensitive, as IAM's are: `aws:SourceArn`,
/// `AWS:sourcearn` and `aws:sourceARN` are one key. Values are kept as given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConditionContext {
    values: HashMap<String, Vec<String>>,
}

impl ConditionContext {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `key` to the single `value`, replacing what it had.
    pub fn insert(&mut self, key: &str, value: impl Into<String>) {
        self.values.insert(key.to_ascii_lowercase(), vec![value.into()]);
    }

    /// Sets `key` to several values (a multivalued key, tested with
    /// `ForAllValues:`/`ForAnyValue:`), replacing what it had. No values
    /// leaves the key present but empty.
    pub fn insert_many<I, S>(&mut self, key: &str, values: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.values.insert(key.to_ascii_lowercase(), values.into_iter().map(Into::into).collect());
    }

    /// Sets `aws:CurrentTime` and `aws:EpochTime` from a clock reading, so
    /// date conditions are testable without the system clock.
    pub fn set_time(&mut self, now_ms: u64) {
        self.insert("aws:CurrentTime", crate::clock::iso8601_ms(now_ms));
        self.insert("aws:EpochTime", (now_ms / 1000).to_string());
    }

    pub fn get(&self, key: &str) -> Option<&[String]> {
        self.values.get(&key.to_ascii_lowercase()).map(Vec::as_slice)
    }
}

/// What evaluation reads keys through: the caller's context, then the keys
/// AWS always has and eddy can derive (time, the principal's identity).
pub(super) struct Lookup<'a> {
    ctx: &'a ConditionContext,
    principal: Principal<'a>,
    derived: OnceCell<HashMap<&'static str, Vec<String>>>,
}

impl<'a> Lookup<'a> {
    pub(super) fn new(ctx: &'a ConditionContext, principal: Principal<'a>) -> Self {
        Lookup { ctx, principal, derived: OnceCell::new() }
    }

    /// `key` must already be lower-case (compiled conditions store it so).
    pub(super) fn get(&self, key: &str) -> Option<&[String]> {
        if let Some(v) = self.ctx.values.get(key) {
            return Some(v);
        }
        self.derived.get_or_init(|| derive(self.principal)).get(key).map(Vec::as_slice)
    }

    /// A key's value when it has exactly one (policy variables need that).
    pub(super) fn single(&self, key: &str) -> Option<&str> {
        match self.get(key) {
            Some([one]) => Some(one.as_str()),
            _ => None,
        }
    }
}

/// Built lazily: most evaluations never read these keys.
fn derive(principal: Principal<'_>) -> HashMap<&'static str, Vec<String>> {
    let now_ms =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0);
    let mut out = HashMap::from([
        ("aws:currenttime", vec![crate::clock::iso8601_ms(now_ms)]),
        ("aws:epochtime", vec![(now_ms / 1000).to_string()]),
    ]);
    match principal {
        Principal::Account { account, arn } => {
            out.insert("aws:principalaccount", vec![account.to_string()]);
            if !arn.is_empty() {
                out.insert("aws:principalarn", vec![arn.to_string()]);
            }
        }
        Principal::Service(name) => {
            out.insert("aws:principalservicename", vec![name.to_string()]);
        }
        Principal::Anonymous => {}
    }
    out
}
