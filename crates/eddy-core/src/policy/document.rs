//! Reading a policy document: its elements, validated and compiled.

use serde_json::{Map, Value};

use super::condition::Condition;
use super::pattern::{wild, Template, Tok};
use super::{malformed, PolicyError};
use crate::arn::is_account_id;

/// The policy language version (`Version`). Policy variables exist only in
/// 2012-10-17; an absent `Version` means 2008-10-17.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyVersion {
    V2008_10_17,
    V2012_10_17,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyDocument {
    pub version: PolicyVersion,
    pub id: Option<String>,
    pub statements: Vec<Statement>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

/// One statement. Exactly one of `actions`/`not_actions` is non-empty, and
/// exactly one of `principal`/`not_principal` is set; `resources` and
/// `not_resources` are both empty when the statement names no resource
/// (it then covers the resource the policy is attached to).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub sid: Option<String>,
    pub effect: Effect,
    pub principal: Option<Principals>,
    pub not_principal: Option<Principals>,
    pub actions: Vec<String>,
    pub not_actions: Vec<String>,
    pub resources: Vec<String>,
    pub not_resources: Vec<String>,
    pub conditions: Vec<Condition>,
    /// `actions` or `not_actions`, lower-cased and compiled.
    pub(super) action_patterns: Vec<Vec<Tok>>,
    /// `resources` or `not_resources`, compiled.
    pub(super) resource_patterns: Vec<Template>,
}

/// The principals a `Principal` or `NotPrincipal` element names (OR).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Principals {
    pub entries: Vec<PrincipalEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalEntry {
    /// `"*"` or `{"AWS": "*"}`: everyone, services and anonymous included.
    Any,
    /// A 12-digit account id, or `arn:aws:iam::<id>:root`.
    Account(String),
    /// Any other principal ARN (user, role, session), matched exactly.
    Arn(String),
    /// `{"Service": "sns.amazonaws.com"}`.
    Service(String),
    /// `Federated` and `CanonicalUser` principals: accepted, never eddy callers.
    Other { kind: String, id: String },
}

impl Principals {
    /// The service principals named, for `eddy doctor`.
    pub fn services(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().filter_map(|e| match e {
            PrincipalEntry::Service(s) => Some(s.as_str()),
            _ => None,
        })
    }
}

/// Which kind of policy a document is: it decides whether statements name
/// a principal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    /// Attached to a resource (queue, topic, role trust policy): every
    /// statement names its `Principal` or `NotPrincipal`.
    Resource,
    /// Attached to a user, group or role (IAM managed and inline policies):
    /// the principal is whoever the policy is attached to, so no statement
    /// may name one, and each must say which `Resource` it covers.
    Identity,
}

impl PolicyDocument {
    /// Reads a resource policy; anything AWS would refuse is a [`PolicyError`].
    pub fn parse(json: &str) -> Result<PolicyDocument, PolicyError> {
        PolicyDocument::parse_kind(json, PolicyKind::Resource)
    }

    /// Reads a policy of `kind`, with IAM's refusals for identity policies.
    pub fn parse_kind(json: &str, kind: PolicyKind) -> Result<PolicyDocument, PolicyError> {
        let doc = PolicyDocument::parse_statements(json, kind)?;
        if kind == PolicyKind::Identity {
            for s in &doc.statements {
                if s.principal.is_some() || s.not_principal.is_some() {
                    return Err(malformed("Policy document should not specify a principal."));
                }
                if s.resources.is_empty() && s.not_resources.is_empty() {
                    return Err(malformed("Policy statement must contain resources."));
                }
            }
        }
        Ok(doc)
    }

    fn parse_statements(json: &str, kind: PolicyKind) -> Result<PolicyDocument, PolicyError> {
        let doc: Value = serde_json::from_str(json).map_err(|e| malformed(format!("Policy is not valid JSON: {e}")))?;
        let Value::Object(top) = doc else { return Err(malformed("Policy document must be a JSON object")) };
        only_elements(&top, &["Version", "Id", "Statement"], "the policy")?;
        let version = version(top.get("Version"))?;
        let id = optional_string(&top, "Id")?;
        let variables = version == PolicyVersion::V2012_10_17;
        let statements = match top.get("Statement") {
            Some(Value::Array(items)) => {
                items.iter().map(|s| Statement::parse(s, variables, kind)).collect::<Result<_, _>>()?
            }
            Some(one @ Value::Object(_)) => vec![Statement::parse(one, variables, kind)?],
            Some(_) => return Err(malformed("Statement must be an object or an array of objects")),
            None => return Err(malformed("Missing required field Statement")),
        };
        Ok(PolicyDocument { version, id, statements })
    }
}

fn version(v: Option<&Value>) -> Result<PolicyVersion, PolicyError> {
    match v.map(|v| v.as_str()) {
        None => Ok(PolicyVersion::V2008_10_17),
        Some(Some("2008-10-17")) => Ok(PolicyVersion::V2008_10_17),
        Some(Some("2012-10-17")) => Ok(PolicyVersion::V2012_10_17),
        Some(_) => {
            Err(malformed(format!("The policy failed legacy parsing: invalid Version {}", v.unwrap_or(&Value::Null))))
        }
    }
}

/// AWS refuses elements it does not know (names are case-sensitive).
fn only_elements(obj: &Map<String, Value>, known: &[&str], what: &str) -> Result<(), PolicyError> {
    match obj.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(malformed(format!("Unknown field {k} in {what}"))),
        None => Ok(()),
    }
}

fn optional_string(obj: &Map<String, Value>, name: &str) -> Result<Option<String>, PolicyError> {
    match obj.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(malformed(format!("{name} must be a string"))),
    }
}

const STATEMENT_ELEMENTS: [&str; 9] =
    ["Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"];

impl Statement {
    fn parse(v: &Value, variables: bool, kind: PolicyKind) -> Result<Statement, PolicyError> {
        let Value::Object(s) = v else { return Err(malformed("Each Statement must be a JSON object")) };
        only_elements(s, &STATEMENT_ELEMENTS, "a statement")?;
        let (principal, not_principal) = either(s, "Principal", "NotPrincipal", kind == PolicyKind::Resource)?;
        let (actions, not_actions) = either(s, "Action", "NotAction", true)?;
        let (resources, not_resources) = either(s, "Resource", "NotResource", false)?;
        let principal = principal.map(parse_principals).transpose()?;
        let not_principal = not_principal.map(parse_principals).transpose()?;
        let actions = actions.map(|v| string_list(v, "Action")).transpose()?.unwrap_or_default();
        let not_actions = not_actions.map(|v| string_list(v, "NotAction")).transpose()?.unwrap_or_default();
        let resources = resources.map(|v| string_list(v, "Resource")).transpose()?.unwrap_or_default();
        let not_resources = not_resources.map(|v| string_list(v, "NotResource")).transpose()?.unwrap_or_default();
        let action_patterns = compile_actions(if actions.is_empty() { &not_actions } else { &actions })?;
        let resource_source = if resources.is_empty() { &not_resources } else { &resources };
        let resource_patterns = resource_source
            .iter()
            .map(|r| if variables { Template::with_variables(r) } else { Template::plain(r) })
            .collect();
        let conditions = match s.get("Condition") {
            Some(block) => Condition::parse_block(block, variables)?,
            None => Vec::new(),
        };
        Ok(Statement {
            sid: optional_string(s, "Sid")?,
            effect: effect(s.get("Effect"))?,
            principal,
            not_principal,
            actions,
            not_actions,
            resources,
            not_resources,
            conditions,
            action_patterns,
            resource_patterns,
        })
    }
}

/// An element and its `Not…` form: at most one of them, and (when
/// `required`) at least one.
fn either<'a>(
    s: &'a Map<String, Value>,
    name: &str,
    not_name: &str,
    required: bool,
) -> Result<(Option<&'a Value>, Option<&'a Value>), PolicyError> {
    match (s.get(name), s.get(not_name)) {
        (Some(_), Some(_)) => Err(malformed(format!("Statement cannot have both {name} and {not_name}"))),
        (None, None) if required => Err(malformed(format!("Missing required field {name}"))),
        pair => Ok(pair),
    }
}

fn effect(v: Option<&Value>) -> Result<Effect, PolicyError> {
    match v {
        Some(Value::String(s)) if s == "Allow" => Ok(Effect::Allow),
        Some(Value::String(s)) if s == "Deny" => Ok(Effect::Deny),
        Some(other) => Err(malformed(format!("Invalid effect: {other}"))),
        None => Err(malformed("Missing required field Effect")),
    }
}

/// A string or a non-empty array of strings.
fn string_list(v: &Value, name: &str) -> Result<Vec<String>, PolicyError> {
    let bad = || malformed(format!("{name} must be a string or a non-empty array of strings"));
    match v {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) if !items.is_empty() => {
            items.iter().map(|i| i.as_str().map(str::to_string).ok_or_else(bad)).collect()
        }
        _ => Err(bad()),
    }
}

/// Actions are `service:Action` or `*`, matched ignoring case.
fn compile_actions(actions: &[String]) -> Result<Vec<Vec<Tok>>, PolicyError> {
    actions
        .iter()
        .map(|a| match a.as_str() {
            "*" => Ok(wild("*")),
            a if a.split_once(':').is_some_and(|(svc, op)| !svc.is_empty() && !op.is_empty()) => {
                Ok(wild(&a.to_lowercase()))
            }
            a => Err(malformed(format!(
                "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.: {a}"
            ))),
        })
        .collect()
}

fn parse_principals(v: &Value) -> Result<Principals, PolicyError> {
    let entries = match v {
        Value::String(s) if s == "*" => vec![PrincipalEntry::Any],
        Value::Object(kinds) if !kinds.is_empty() => {
            let mut entries = Vec::new();
            for (kind, ids) in kinds {
                for id in string_list(ids, "Principal")? {
                    entries.push(principal_entry(kind, id)?);
                }
            }
            entries
        }
        other => return Err(malformed(format!("Invalid principal in policy: {other}"))),
    };
    Ok(Principals { entries })
}

fn principal_entry(kind: &str, id: String) -> Result<PrincipalEntry, PolicyError> {
    let invalid = |id: &str| malformed(format!("Invalid principal in policy: \"{kind}\":\"{id}\""));
    match kind {
        "AWS" if id == "*" => Ok(PrincipalEntry::Any),
        // "You cannot use a wildcard to match part of a principal name or ARN."
        "AWS" if id.contains(['*', '?']) => Err(invalid(&id)),
        "AWS" if is_account_id(&id) => Ok(PrincipalEntry::Account(id)),
        "AWS" => match root_account(&id) {
            Some(account) => Ok(PrincipalEntry::Account(account.to_string())),
            None if id.starts_with("arn:") => Ok(PrincipalEntry::Arn(id)),
            None => Err(invalid(&id)),
        },
        "Service" if !id.is_empty() => Ok(PrincipalEntry::Service(id)),
        "Federated" | "CanonicalUser" if !id.is_empty() => Ok(PrincipalEntry::Other { kind: kind.to_string(), id }),
        _ => Err(invalid(&id)),
    }
}

/// `arn:<partition>:iam::<account>:root` names the whole account.
fn root_account(arn: &str) -> Option<&str> {
    let mut parts = arn.split(':');
    let ok = parts.next() == Some("arn") && parts.next().is_some() && parts.next() == Some("iam");
    let (region, account, resource) = (parts.next()?, parts.next()?, parts.next()?);
    (ok && region.is_empty() && is_account_id(account) && resource == "root" && parts.next().is_none())
        .then_some(account)
}
