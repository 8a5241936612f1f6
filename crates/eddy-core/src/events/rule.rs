//! Rules and their targets. PutRule is an upsert that replaces the rule's
//! definition (omitted fields are not kept) but keeps its targets and tags;
//! a rule with targets is deleted only with `Force`.

use std::sync::Arc;

use serde_json::Value;

use super::bus::{check_pattern, check_tags, invalid_token, page_limit};
use super::error::{not_found, validation};
use super::records::{self, RuleRecord};
use super::{resolve_bus, rule_arn, schedule, target, Events, EventsError, EventsResult, DEFAULT_BUS};
use crate::identity::Caller;
use crate::page::{Page, PageRequest};
use crate::pattern::EventPattern;
use crate::tags::Tags;

/// Targets one rule may have (AWS's quota).
pub const MAX_TARGETS: usize = 5;
/// Rules one bus may have (AWS's default quota).
pub const DEFAULT_RULES_PER_BUS: usize = 300;

/// A rule, with its pattern compiled.
#[derive(Debug)]
pub struct Rule {
    pub record: RuleRecord,
    pub arn: String,
    pub(crate) pattern: Option<EventPattern>,
    pub(crate) schedule: Option<schedule::Schedule>,
}

impl Rule {
    pub(crate) fn from_record(record: RuleRecord) -> EventsResult<Rule> {
        let pattern = record.event_pattern.as_deref().map(parse_pattern).transpose()?;
        let schedule = record.schedule.as_deref().map(schedule::Schedule::parse).transpose()?;
        let arn = rule_arn(&record.region, &record.account, &record.bus, &record.name);
        Ok(Rule { record, arn, pattern, schedule })
    }

    pub fn enabled(&self) -> bool {
        self.record.state != "DISABLED"
    }

    /// Whether the rule takes `event` (a scheduled rule takes none).
    pub(crate) fn matches(&self, event: &Value) -> bool {
        self.enabled() && self.pattern.as_ref().is_some_and(|p| p.matches(event))
    }
}

/// PutRule's input.
#[derive(Debug, Clone, Default)]
pub struct RuleInput {
    pub name: String,
    pub bus: Option<String>,
    pub event_pattern: Option<String>,
    pub schedule: Option<String>,
    pub state: Option<String>,
    pub description: Option<String>,
    pub role_arn: Option<String>,
    pub tags: Tags,
}

/// One target PutTargets or RemoveTargets could not take.
#[derive(Debug, Clone)]
pub struct TargetFailure {
    pub id: String,
    pub code: String,
    pub message: String,
}

pub(crate) fn parse_pattern(text: &str) -> EventsResult<EventPattern> {
    EventPattern::parse(text).map_err(|e| EventsError::InvalidEventPattern(e.message().to_string()))
}

fn check_rule_name(name: &str) -> EventsResult<()> {
    check_pattern(
        name,
        "name",
        64,
        |c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'),
        "[\\.\\-_A-Za-z0-9]+",
    )
}

impl Events {
    pub async fn put_rule(&self, caller: &Caller, input: RuleInput) -> EventsResult<String> {
        check_rule_name(&input.name)?;
        let (account, region, bus) = resolve_bus(caller, input.bus.as_deref())?;
        let state = input.state.clone().unwrap_or_else(|| "ENABLED".into());
        if !matches!(state.as_str(), "ENABLED" | "DISABLED" | "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS") {
            return Err(validation(format!(
                "1 validation error detected: Value '{state}' at 'state' failed to satisfy constraint: Member must satisfy enum value set: [ENABLED, DISABLED, ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS]"
            )));
        }
        let pattern = input.event_pattern.as_deref().filter(|p| !p.is_empty());
        let schedule = input.schedule.as_deref().filter(|s| !s.is_empty());
        if pattern.is_none() && schedule.is_none() {
            return Err(validation("Parameter(s) EventPattern or ScheduleExpression must be specified."));
        }
        if schedule.is_some() && bus != DEFAULT_BUS {
            return Err(validation("ScheduleExpression is supported only on the default event bus."));
        }
        check_tags(&input.tags)?;
        let now = self.now_ms();
        let record = RuleRecord {
            account: account.clone(),
            region: region.clone(),
            bus: bus.clone(),
            name: input.name.clone(),
            event_pattern: pattern.map(str::to_string),
            schedule: schedule.map(str::to_string),
            state,
            description: input.description.clone().filter(|d| !d.is_empty()),
            role_arn: input.role_arn.clone().filter(|r| !r.is_empty()),
            tags: input.tags.clone(),
            targets: Vec::new(),
            created_ms: now,
            last_fired_ms: None,
        };
        // Validates the pattern and the schedule before anything changes.
        let mut rule = Rule::from_record(record)?;
        let key = records::rule_key(&account, &region, &bus, &input.name);
        let ticket = {
            let _w = self.write.lock();
            if self.bus_record(&account, &region, &bus).is_none() {
                return Err(not_found(format!("Event bus {bus} does not exist.")));
            }
            match self.rules.read().get(&key) {
                Some(old) => {
                    // An update keeps what PutRule does not define: targets, tags, creation.
                    rule.record.targets = old.record.targets.clone();
                    rule.record.tags = old.record.tags.clone();
                    rule.record.created_ms = old.record.created_ms;
                    rule.record.last_fired_ms = old.record.last_fired_ms;
                }
                None if self.rule_keys_of(&account, &region, &bus).len() >= self.sh.config.rules_per_bus => {
                    return Err(EventsError::LimitExceeded(format!(
                        "The requested resource exceeds the maximum number allowed: {} rules per event bus.",
                        self.sh.config.rules_per_bus
                    )));
                }
                None => {}
            }
            let mut batch = self.sh.store.batch();
            batch.put(&self.sh.rules, key.clone(), records::to_json(&rule.record));
            let ticket = batch.commit()?;
            self.rules.write().insert(key, Arc::new(rule));
            ticket
        };
        self.sh.store.durable(ticket).await?;
        Ok(rule_arn(&region, &account, &bus, &input.name))
    }

    pub fn describe_rule(&self, caller: &Caller, name: &str, bus: Option<&str>) -> EventsResult<Arc<Rule>> {
        let (account, region, bus) = resolve_bus(caller, bus)?;
        self.rule(&account, &region, &bus, name)
    }

    pub(crate) fn rule(&self, account: &str, region: &str, bus: &str, name: &str) -> EventsResult<Arc<Rule>> {
        self.rules
            .read()
            .get(&records::rule_key(account, region, bus, name))
            .cloned()
            .ok_or_else(|| not_found(format!("Rule {name} does not exist on EventBus {bus}.")))
    }

    /// The keys of a bus's rules, in name order.
    pub(crate) fn rule_keys_of(&self, account: &str, region: &str, bus: &str) -> Vec<Vec<u8>> {
        let mut prefix = records::rule_key(account, region, bus, "");
        let start = prefix.clone();
        prefix.push(0xff);
        self.rules.read().range(start..prefix).map(|(k, _)| k.clone()).collect()
    }

    /// A bus's rules, in name order.
    pub(crate) fn rules_of(&self, account: &str, region: &str, bus: &str) -> Vec<Arc<Rule>> {
        let mut end = records::rule_key(account, region, bus, "");
        let start = end.clone();
        end.push(0xff);
        self.rules.read().range(start..end).map(|(_, r)| r.clone()).collect()
    }

    pub fn list_rules(
        &self,
        caller: &Caller,
        bus: Option<&str>,
        prefix: Option<&str>,
        token: Option<&str>,
        limit: Option<i64>,
    ) -> EventsResult<Page<Arc<Rule>>> {
        let limit = page_limit(limit)?;
        let (account, region, bus) = resolve_bus(caller, bus)?;
        if self.bus_record(&account, &region, &bus).is_none() {
            return Err(not_found(format!("Event bus {bus} does not exist.")));
        }
        let rules: Vec<_> = self
            .rules_of(&account, &region, &bus)
            .into_iter()
            .filter(|r| prefix.is_none_or(|p| r.record.name.starts_with(p)))
            .collect();
        let listing = format!("events:rules:{account}:{region}:{bus}:{}", prefix.unwrap_or(""));
        let req = PageRequest::new(&listing, token, limit, self.now_ms());
        self.sh.tokens.page(rules, |r| r.record.name.as_str(), &req).map_err(|_| invalid_token())
    }

    pub fn list_rule_names_by_target(
        &self,
        caller: &Caller,
        target_arn: &str,
        bus: Option<&str>,
        token: Option<&str>,
        limit: Option<i64>,
    ) -> EventsResult<Page<String>> {
        let limit = page_limit(limit)?;
        let (account, region, bus) = resolve_bus(caller, bus)?;
        let names: Vec<String> = self
            .rules_of(&account, &region, &bus)
            .into_iter()
            .filter(|r| r.record.targets.iter().any(|t| t["Arn"] == target_arn))
            .map(|r| r.record.name.clone())
            .collect();
        let listing = format!("events:rules-by-target:{account}:{region}:{bus}:{target_arn}");
        let req = PageRequest::new(&listing, token, limit, self.now_ms());
        self.sh.tokens.page(names, |n| n.as_str(), &req).map_err(|_| invalid_token())
    }

    pub async fn set_rule_state(
        &self,
        caller: &Caller,
        name: &str,
        bus: Option<&str>,
        enabled: bool,
    ) -> EventsResult<()> {
        self.change_rule(caller, name, bus, |r| {
            r.state = if enabled { "ENABLED".into() } else { "DISABLED".into() };
            Ok(())
        })
        .await
        .map(|_| ())
    }

    /// DeleteRule: a rule that does not exist is not an error (AWS answers success).
    pub async fn delete_rule(&self, caller: &Caller, name: &str, bus: Option<&str>, force: bool) -> EventsResult<()> {
        let (account, region, bus) = resolve_bus(caller, bus)?;
        let key = records::rule_key(&account, &region, &bus, name);
        let ticket = {
            let _w = self.write.lock();
            let Some(rule) = self.rules.read().get(&key).cloned() else { return Ok(()) };
            if !rule.record.targets.is_empty() && !force {
                return Err(validation("Rule can't be deleted since it has targets."));
            }
            let mut batch = self.sh.store.batch();
            batch.delete(&self.sh.rules, key.clone());
            let ticket = batch.commit()?;
            self.rules.write().remove(&key);
            ticket
        };
        self.sh.store.durable(ticket).await?;
        Ok(())
    }

    /// Applies `change` to a rule's record and stores it.
    pub(crate) async fn change_rule<T>(
        &self,
        caller: &Caller,
        name: &str,
        bus: Option<&str>,
        change: impl FnOnce(&mut RuleRecord) -> EventsResult<T>,
    ) -> EventsResult<T> {
        let (account, region, bus) = resolve_bus(caller, bus)?;
        self.change_rule_at(&account, &region, &bus, name, change).await
    }

    pub(crate) async fn change_rule_at<T>(
        &self,
        account: &str,
        region: &str,
        bus: &str,
        name: &str,
        change: impl FnOnce(&mut RuleRecord) -> EventsResult<T>,
    ) -> EventsResult<T> {
        let key = records::rule_key(account, region, bus, name);
        let (ticket, out) = {
            let _w = self.write.lock();
            let current = self.rule(account, region, bus, name)?;
            let mut record = current.record.clone();
            let out = change(&mut record)?;
            let mut batch = self.sh.store.batch();
            batch.put(&self.sh.rules, key.clone(), records::to_json(&record));
            let ticket = batch.commit()?;
            let rule = Rule {
                record,
                arn: current.arn.clone(),
                pattern: current.pattern.clone(),
                schedule: current.schedule.clone(),
            };
            self.rules.write().insert(key, Arc::new(rule));
            (ticket, out)
        };
        self.sh.store.durable(ticket).await?;
        Ok(out)
    }

    /// PutTargets: adds or replaces targets by Id.
    pub async fn put_targets(
        &self,
        caller: &Caller,
        rule: &str,
        bus: Option<&str>,
        targets: Vec<Value>,
    ) -> EventsResult<Vec<TargetFailure>> {
        if targets.is_empty() || targets.len() > 10 {
            return Err(validation(format!(
                "1 validation error detected: Value at 'targets' failed to satisfy constraint: Member must have length {}",
                if targets.is_empty() { "greater than or equal to 1" } else { "less than or equal to 10" }
            )));
        }
        for (i, t) in targets.iter().enumerate() {
            target::validate(t, i + 1)?;
        }
        self.change_rule(caller, rule, bus, |r| {
            let mut merged = r.targets.clone();
            for t in &targets {
                match merged.iter_mut().find(|old| old["Id"] == t["Id"]) {
                    Some(old) => *old = t.clone(),
                    None => merged.push(t.clone()),
                }
            }
            if merged.len() > MAX_TARGETS {
                return Err(EventsError::LimitExceeded(
                    "The requested resource exceeds the maximum number allowed.".into(),
                ));
            }
            r.targets = merged;
            Ok(Vec::new())
        })
        .await
    }

    /// RemoveTargets: Ids the rule does not have are not an error.
    pub async fn remove_targets(
        &self,
        caller: &Caller,
        rule: &str,
        bus: Option<&str>,
        ids: &[String],
    ) -> EventsResult<Vec<TargetFailure>> {
        if ids.is_empty() || ids.len() > 100 {
            return Err(validation(format!(
                "1 validation error detected: Value at 'ids' failed to satisfy constraint: Member must have length {}",
                if ids.is_empty() { "greater than or equal to 1" } else { "less than or equal to 100" }
            )));
        }
        self.change_rule(caller, rule, bus, |r| {
            r.targets.retain(|t| !ids.iter().any(|id| t["Id"] == id.as_str()));
            Ok(Vec::new())
        })
        .await
    }

    pub fn list_targets(
        &self,
        caller: &Caller,
        rule: &str,
        bus: Option<&str>,
        token: Option<&str>,
        limit: Option<i64>,
    ) -> EventsResult<Page<Value>> {
        let limit = page_limit(limit)?;
        let (account, region, bus) = resolve_bus(caller, bus)?;
        let rule = self.rule(&account, &region, &bus, rule)?;
        let mut targets = rule.record.targets.clone();
        targets.sort_by(|a, b| a["Id"].as_str().cmp(&b["Id"].as_str()));
        let listing = format!("events:targets:{}", rule.arn);
        let req = PageRequest::new(&listing, token, limit, self.now_ms());
        self.sh.tokens.page(targets, |t| t["Id"].as_str().unwrap_or_default(), &req).map_err(|_| invalid_token())
    }

    // ------------------------------------------------------------ tags

    /// The tags of a bus or rule ARN.
    pub fn list_tags(&self, arn: &str) -> EventsResult<Tags> {
        match tagged(arn)? {
            Tagged::Bus { account, region, name } => self
                .bus_record(&account, &region, &name)
                .map(|b| b.tags.clone())
                .ok_or_else(|| not_found(format!("Event bus {name} does not exist."))),
            Tagged::Rule { account, region, bus, name } => {
                Ok(self.rule(&account, &region, &bus, &name)?.record.tags.clone())
            }
        }
    }

    pub async fn tag_resource(&self, arn: &str, tags: Tags) -> EventsResult<()> {
        self.retag(arn, |existing| {
            let merged = crate::tags::TagRules::AWS
                .merged(existing, &tags)
                .map_err(|_| EventsError::LimitExceeded("Tags exceed the limit of 50 per resource.".into()))?;
            check_tags(&merged)?;
            Ok(merged)
        })
        .await
    }

    pub async fn untag_resource(&self, arn: &str, keys: &[String]) -> EventsResult<()> {
        self.retag(arn, |existing| Ok(crate::tags::without(existing, keys))).await
    }

    async fn retag(&self, arn: &str, change: impl FnOnce(&Tags) -> EventsResult<Tags>) -> EventsResult<()> {
        match tagged(arn)? {
            Tagged::Bus { account, region, name } => {
                self.change_bus(&account, &region, &name, |b| {
                    b.tags = change(&b.tags)?;
                    Ok(())
                })
                .await?;
            }
            Tagged::Rule { account, region, bus, name } => {
                self.change_rule_at(&account, &region, &bus, &name, |r| {
                    r.tags = change(&r.tags)?;
                    Ok(())
                })
                .await?;
            }
        }
        Ok(())
    }
}

enum Tagged {
    Bus { account: String, region: String, name: String },
    Rule { account: String, region: String, bus: String, name: String },
}

fn tagged(arn: &str) -> EventsResult<Tagged> {
    let bad = || validation(format!("Parameter {arn} is not valid. Reason: Provided Arn is not in correct format."));
    let parsed = crate::arn::Arn::parse(arn).map_err(|_| bad())?;
    if parsed.service != "events" {
        return Err(bad());
    }
    let (account, region) = (parsed.account.to_string(), parsed.region.to_string());
    if let Some(name) = parsed.resource.strip_prefix("event-bus/") {
        return Ok(Tagged::Bus { account, region, name: name.to_string() });
    }
    match parsed.resource.strip_prefix("rule/").map(|r| r.rsplit_once('/')) {
        Some(Some((bus, name))) => Ok(Tagged::Rule { account, region, bus: bus.to_string(), name: name.to_string() }),
        Some(None) => Ok(Tagged::Rule {
            account,
            region,
            bus: DEFAULT_BUS.to_string(),
            name: parsed.resource["rule/".len()..].to_string(),
        }),
        None => Err(bad()),
    }
}
