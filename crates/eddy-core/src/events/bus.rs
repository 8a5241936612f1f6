//! Event buses: the default bus (every account has one in every region,
//! with no record until something is set on it), custom buses, and bus
//! policies (PutPermission / RemovePermission, or a whole `Policy`).

use std::sync::Arc;

use serde_json::{json, Value};

use super::error::{not_found, validation};
use super::records::{self, BusRecord};
use super::{bus_arn, resolve_bus, Events, EventsError, EventsResult, DEFAULT_BUS};
use crate::clock::Millis;
use crate::identity::Caller;
use crate::page::{Page, PageRequest};
use crate::policy::PolicyDocument;
use crate::tags::{TagRules, Tags};

/// A bus as DescribeEventBus and ListEventBuses show it.
#[derive(Debug, Clone)]
pub struct Bus {
    pub name: String,
    pub arn: String,
    pub description: Option<String>,
    pub kms_key: Option<String>,
    pub dead_letter_arn: Option<String>,
    /// The policy as JSON text.
    pub policy: Option<String>,
    pub created_ms: Option<Millis>,
    pub modified_ms: Option<Millis>,
}

/// UpdateEventBus: fields given replace the bus's.
#[derive(Debug, Clone, Default)]
pub struct BusUpdate {
    pub description: Option<String>,
    pub kms_key: Option<String>,
    pub dead_letter_arn: Option<String>,
}

/// PutPermission: a statement to add, or (`policy`) the whole policy.
#[derive(Debug, Clone, Default)]
pub struct Permission {
    pub action: Option<String>,
    pub principal: Option<String>,
    pub statement_id: Option<String>,
    /// `(Type, Key, Value)`, e.g. `("StringEquals", "aws:PrincipalOrgID", "o-…")`.
    pub condition: Option<(String, String, String)>,
    pub policy: Option<String>,
}

const MAX_DESCRIPTION: usize = 512;

impl Events {
    pub async fn create_bus(
        &self,
        caller: &Caller,
        name: &str,
        update: BusUpdate,
        event_source: Option<&str>,
        tags: Tags,
    ) -> EventsResult<String> {
        check_bus_name(name)?;
        if name.contains('/') && event_source.is_none() {
            return Err(validation(format!("Event bus name must not contain '/'. Received: {name}")));
        }
        check_description(update.description.as_deref())?;
        check_tags(&tags)?;
        let arn = bus_arn(&caller.region, &caller.account, name);
        let now = self.now_ms();
        let record = BusRecord {
            account: caller.account.clone(),
            region: caller.region.clone(),
            name: name.to_string(),
            description: update.description,
            kms_key: update.kms_key,
            dead_letter_arn: update.dead_letter_arn,
            policy: None,
            tags,
            created_ms: now,
            modified_ms: now,
        };
        let key = records::bus_key(&caller.account, &caller.region, name);
        let ticket = {
            let _w = self.write.lock();
            if name == DEFAULT_BUS || self.buses.read().contains_key(&key) {
                return Err(EventsError::AlreadyExists(format!("Event bus {name} already exists.")));
            }
            let mut batch = self.sh.store.batch();
            batch.put(&self.sh.buses, key.clone(), records::to_json(&record));
            let ticket = batch.commit()?;
            self.buses.write().insert(key, Arc::new(record));
            ticket
        };
        self.sh.store.durable(ticket).await?;
        Ok(arn)
    }

    pub fn describe_bus(&self, caller: &Caller, name_or_arn: Option<&str>) -> EventsResult<Bus> {
        let (account, region, name) = resolve_bus(caller, name_or_arn)?;
        self.bus_record(&account, &region, &name)
            .map(|r| view(&r))
            .ok_or_else(|| not_found(format!("Event bus {name} does not exist.")))
    }

    /// The bus's record; the default bus's is made up until it has one.
    pub(crate) fn bus_record(&self, account: &str, region: &str, name: &str) -> Option<Arc<BusRecord>> {
        if let Some(r) = self.buses.read().get(&records::bus_key(account, region, name)) {
            return Some(r.clone());
        }
        (name == DEFAULT_BUS).then(|| Arc::new(default_record(account, region)))
    }

    pub fn list_buses(
        &self,
        caller: &Caller,
        prefix: Option<&str>,
        token: Option<&str>,
        limit: Option<i64>,
    ) -> EventsResult<Page<Bus>> {
        let limit = page_limit(limit)?;
        let mut buses: Vec<Bus> = self
            .buses
            .read()
            .values()
            .filter(|b| b.account == caller.account && b.region == caller.region && b.name != DEFAULT_BUS)
            .map(|b| view(b))
            .collect();
        let default = self.bus_record(&caller.account, &caller.region, DEFAULT_BUS).expect("the default bus exists");
        buses.push(view(&default));
        buses.retain(|b| prefix.is_none_or(|p| b.name.starts_with(p)));
        buses.sort_by(|a, b| a.name.cmp(&b.name));
        let listing = format!("events:buses:{}:{}:{}", caller.account, caller.region, prefix.unwrap_or(""));
        let req = PageRequest::new(&listing, token, limit, self.now_ms());
        self.sh.tokens.page(buses, |b| b.name.as_str(), &req).map_err(|_| invalid_token())
    }

    pub async fn update_bus(&self, caller: &Caller, name_or_arn: Option<&str>, update: BusUpdate) -> EventsResult<Bus> {
        check_description(update.description.as_deref())?;
        let (account, region, name) = resolve_bus(caller, name_or_arn)?;
        let record = self
            .change_bus(&account, &region, &name, |r| {
                if update.description.is_some() {
                    r.description = update.description.clone().filter(|d| !d.is_empty());
                }
                if update.kms_key.is_some() {
                    r.kms_key = update.kms_key.clone().filter(|k| !k.is_empty());
                }
                if update.dead_letter_arn.is_some() {
                    r.dead_letter_arn = update.dead_letter_arn.clone().filter(|a| !a.is_empty());
                }
                Ok(())
            })
            .await?;
        Ok(view(&record))
    }

    /// DeleteEventBus: the bus and its rules. A bus that does not exist is
    /// not an error (AWS answers success); the default bus cannot go.
    pub async fn delete_bus(&self, caller: &Caller, name: &str) -> EventsResult<()> {
        if name == DEFAULT_BUS {
            return Err(validation("Cannot delete event bus default."));
        }
        let key = records::bus_key(&caller.account, &caller.region, name);
        let ticket = {
            let _w = self.write.lock();
            if !self.buses.read().contains_key(&key) {
                return Ok(());
            }
            let rule_keys = self.rule_keys_of(&caller.account, &caller.region, name);
            let mut batch = self.sh.store.batch();
            batch.delete(&self.sh.buses, key.clone());
            for k in &rule_keys {
                batch.delete(&self.sh.rules, k.clone());
            }
            let ticket = batch.commit()?;
            self.buses.write().remove(&key);
            let mut rules = self.rules.write();
            for k in &rule_keys {
                rules.remove(k);
            }
            ticket
        };
        self.sh.store.durable(ticket).await?;
        Ok(())
    }

    pub async fn put_permission(&self, caller: &Caller, bus: Option<&str>, p: Permission) -> EventsResult<()> {
        let (account, region, name) = resolve_bus(caller, bus)?;
        let arn = bus_arn(&region, &account, &name);
        if let Some(text) = &p.policy {
            let policy = parse_policy(text)?;
            self.change_bus(&account, &region, &name, |r| {
                r.policy = Some(policy.clone());
                Ok(())
            })
            .await?;
            return Ok(());
        }
        let statement = statement(&p, &arn)?;
        let sid = statement["Sid"].as_str().unwrap_or_default().to_string();
        self.change_bus(&account, &region, &name, |r| {
            let policy = r.policy.get_or_insert_with(|| json!({"Version": "2012-10-17", "Statement": []}));
            let statements = statements_mut(policy);
            if statements.iter().any(|s| s["Sid"] == sid.as_str()) {
                return Err(EventsError::AlreadyExists("Statement with the provided id already exists.".into()));
            }
            statements.push(statement.clone());
            Ok(())
        })
        .await?;
        Ok(())
    }

    pub async fn remove_permission(
        &self,
        caller: &Caller,
        bus: Option<&str>,
        statement_id: Option<&str>,
        remove_all: bool,
    ) -> EventsResult<()> {
        let (account, region, name) = resolve_bus(caller, bus)?;
        if !remove_all && statement_id.is_none() {
            return Err(validation("Either StatementId or RemoveAllPermissions must be specified."));
        }
        self.change_bus(&account, &region, &name, |r| {
            if remove_all {
                r.policy = None;
                return Ok(());
            }
            let Some(policy) = r.policy.as_mut() else {
                return Err(not_found("Statement with the provided id does not exist."));
            };
            let statements = statements_mut(policy);
            let before = statements.len();
            statements.retain(|s| s["Sid"].as_str() != statement_id);
            if statements.len() == before {
                return Err(not_found("Statement with the provided id does not exist."));
            }
            if statements.is_empty() {
                r.policy = None;
            }
            Ok(())
        })
        .await?;
        Ok(())
    }

    /// Applies `change` to a bus's record (made for the default bus if it
    /// had none) and stores it.
    pub(crate) async fn change_bus(
        &self,
        account: &str,
        region: &str,
        name: &str,
        change: impl FnOnce(&mut BusRecord) -> EventsResult<()>,
    ) -> EventsResult<Arc<BusRecord>> {
        let key = records::bus_key(account, region, name);
        let (ticket, record) = {
            let _w = self.write.lock();
            let current = self
                .bus_record(account, region, name)
                .ok_or_else(|| not_found(format!("Event bus {name} does not exist.")))?;
            let mut record = (*current).clone();
            change(&mut record)?;
            record.modified_ms = self.now_ms();
            let mut batch = self.sh.store.batch();
            batch.put(&self.sh.buses, key.clone(), records::to_json(&record));
            let ticket = batch.commit()?;
            let record = Arc::new(record);
            self.buses.write().insert(key, record.clone());
            (ticket, record)
        };
        self.sh.store.durable(ticket).await?;
        Ok(record)
    }

    /// Whether `caller_account` may put events on the bus (its own, or one
    /// whose policy allows `events:PutEvents` for that account).
    pub(crate) fn may_put_events(&self, bus: &BusRecord, caller_account: &str) -> bool {
        if bus.account == caller_account {
            return true;
        }
        let Some(policy) = &bus.policy else { return false };
        let Some(doc) = self.policies.get(&policy.to_string()) else { return false };
        let principal_arn = format!("arn:aws:iam::{caller_account}:root");
        let context = crate::policy::ConditionContext::new();
        let req = crate::policy::Request {
            principal: crate::policy::Principal::Account { account: caller_account, arn: &principal_arn },
            action: "events:PutEvents",
            resource: &bus_arn(&bus.region, &bus.account, &bus.name),
            context: &context,
        };
        matches!(doc.evaluate(&req), crate::policy::Decision::Allow { .. })
    }
}

fn default_record(account: &str, region: &str) -> BusRecord {
    BusRecord {
        account: account.to_string(),
        region: region.to_string(),
        name: DEFAULT_BUS.to_string(),
        description: None,
        kms_key: None,
        dead_letter_arn: None,
        policy: None,
        tags: Tags::new(),
        created_ms: 0,
        modified_ms: 0,
    }
}

fn view(r: &BusRecord) -> Bus {
    // The default bus shows times only once it has a record of its own.
    let times = (r.created_ms > 0).then_some((r.created_ms, r.modified_ms));
    Bus {
        name: r.name.clone(),
        arn: bus_arn(&r.region, &r.account, &r.name),
        description: r.description.clone(),
        kms_key: r.kms_key.clone(),
        dead_letter_arn: r.dead_letter_arn.clone(),
        policy: r.policy.as_ref().map(Value::to_string),
        created_ms: times.map(|t| t.0),
        modified_ms: times.map(|t| t.1),
    }
}

/// The statement PutPermission adds, as AWS writes it.
fn statement(p: &Permission, bus_arn: &str) -> EventsResult<Value> {
    let (Some(principal), Some(sid)) = (p.principal.as_deref(), p.statement_id.as_deref()) else {
        return Err(validation("Parameter(s) Principal, StatementId must be specified."));
    };
    let action = p.action.as_deref().unwrap_or("events:PutEvents");
    if action != "events:PutEvents" {
        return Err(validation(format!("Provided value {action} for parameter 'Action' is not supported.")));
    }
    check_pattern(sid, "statementId", 64, |c| c.is_ascii_alphanumeric() || c == '-' || c == '_', "[a-zA-Z0-9-_]+")?;
    let principal_json = match principal {
        "*" => json!("*"),
        account if crate::arn::is_account_id(account) => json!({"AWS": format!("arn:aws:iam::{account}:root")}),
        other => {
            return Err(validation(format!(
                "1 validation error detected: Value '{other}' at 'principal' failed to satisfy constraint: Member must satisfy regular expression pattern: (\\d{{12}}|\\*)"
            )))
        }
    };
    let mut s =
        json!({"Sid": sid, "Effect": "Allow", "Principal": principal_json, "Action": action, "Resource": bus_arn});
    if let Some((kind, key, value)) = &p.condition {
        s["Condition"] = json!({ kind.as_str(): { key.as_str(): value } });
    }
    Ok(s)
}

fn parse_policy(text: &str) -> EventsResult<Value> {
    PolicyDocument::parse(text).map_err(|e| validation(format!("Policy is not valid: {e}")))?;
    serde_json::from_str(text).map_err(|_| validation("Policy is not valid JSON."))
}

fn statements_mut(policy: &mut Value) -> &mut Vec<Value> {
    if !policy["Statement"].is_array() {
        let one = policy.get("Statement").cloned().filter(Value::is_object);
        policy["Statement"] = Value::Array(one.into_iter().collect());
    }
    policy["Statement"].as_array_mut().expect("made an array above")
}

pub(crate) fn check_bus_name(name: &str) -> EventsResult<()> {
    check_pattern(
        name,
        "name",
        256,
        |c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '-' | '_'),
        "[/\\.\\-_A-Za-z0-9]+",
    )
}

fn check_description(d: Option<&str>) -> EventsResult<()> {
    match d {
        Some(d) if d.chars().count() > MAX_DESCRIPTION => Err(validation(format!(
            "1 validation error detected: Value '{d}' at 'description' failed to satisfy constraint: Member must have length less than or equal to {MAX_DESCRIPTION}"
        ))),
        _ => Ok(()),
    }
}

pub(crate) fn check_tags(tags: &Tags) -> EventsResult<()> {
    TagRules::AWS.check(tags).map_err(|v| match v {
        crate::tags::TagViolation::TooMany => {
            EventsError::LimitExceeded("Tags exceed the limit of 50 per resource.".into())
        }
        crate::tags::TagViolation::Key(k) => validation(format!("Invalid tag key: {k}")),
        crate::tags::TagViolation::Value(k) => validation(format!("Invalid tag value for key {k}")),
    })
}

/// AWS's model check: length 1..=`max` and every character allowed.
pub(crate) fn check_pattern(
    value: &str,
    field: &str,
    max: usize,
    allowed: impl Fn(char) -> bool,
    pattern: &str,
) -> EventsResult<()> {
    let n = value.chars().count();
    if n == 0 || n > max {
        let bound =
            if n == 0 { "greater than or equal to 1".to_string() } else { format!("less than or equal to {max}") };
        return Err(validation(format!(
            "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: Member must have length {bound}"
        )));
    }
    if !value.chars().all(allowed) {
        return Err(validation(format!(
            "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: Member must satisfy regular expression pattern: {pattern}"
        )));
    }
    Ok(())
}

pub(crate) fn page_limit(limit: Option<i64>) -> EventsResult<usize> {
    match limit {
        None => Ok(100),
        Some(n) if (1..=100).contains(&n) => Ok(n as usize),
        Some(n) => Err(validation(format!(
            "1 validation error detected: Value '{n}' at 'limit' failed to satisfy constraint: Member must have value {}",
            if n < 1 { "greater than or equal to 1" } else { "less than or equal to 100" }
        ))),
    }
}

pub(crate) fn invalid_token() -> EventsError {
    validation("The NextToken provided is invalid.")
}
