//! Schedules: CreateSchedule, GetSchedule, UpdateSchedule (which replaces
//! the whole definition), DeleteSchedule and ListSchedules, with AWS's
//! checks of each member.

use serde_json::Value;

use super::error::{validation, SchedulerResult};
use super::expression::Expression;
use super::group::group_not_found;
use super::records::{self, FlexibleTimeWindow, ScheduleRecord, ScheduleTarget};
use super::{schedule_arn, valid_name, Scheduler, SchedulerError, DEFAULT_GROUP};
use crate::clock::Millis;
use crate::identity::Caller;
use crate::page::{Page, PageRequest};

/// A schedule in memory: its record and its parsed expression.
#[derive(Debug)]
pub(crate) struct Entry {
    pub record: ScheduleRecord,
    pub expression: Expression,
    /// When the schedule is next due, worked out once per change.
    next: Option<Millis>,
}

impl Entry {
    pub fn new(record: ScheduleRecord) -> SchedulerResult<Entry> {
        let expression = Expression::parse(&record.expression, record.timezone.as_deref())?;
        let mut entry = Entry { record, expression, next: None };
        entry.next = entry.compute_next_due();
        Ok(entry)
    }

    /// The next time the schedule is due, if it ever is again.
    pub fn next_due(&self) -> Option<Millis> {
        self.next
    }

    pub fn arn(&self) -> String {
        let r = &self.record;
        schedule_arn(&r.region, &r.account, &r.group, &r.name)
    }

    fn compute_next_due(&self) -> Option<Millis> {
        let r = &self.record;
        if r.state != "ENABLED" {
            return None;
        }
        // Firings count from the last change, to the second (at() and cron have no finer grain).
        let changed = r.modified_ms / 1000 * 1000;
        let since = match (&self.expression.kind, r.last_fired_ms) {
            (_, Some(last)) => last,
            (super::expression::Kind::Rate { .. }, None) => match r.start_ms {
                Some(start) => start.saturating_sub(1).max(changed.saturating_sub(1)),
                None => r.modified_ms,
            },
            (_, None) => r.start_ms.unwrap_or(0).max(changed).saturating_sub(1),
        };
        let anchor = r.start_ms.unwrap_or(r.modified_ms);
        let mut next = self.expression.next_after(since, anchor)?;
        if let Some(start) = r.start_ms {
            if next < start && !self.expression.is_one_time() {
                next = self.expression.next_after(start.saturating_sub(1), anchor)?;
            }
        }
        match r.end_ms {
            Some(end) if next > end && !self.expression.is_one_time() => None,
            _ => Some(next),
        }
    }
}

/// What CreateSchedule and UpdateSchedule carry (the target as the request's JSON).
#[derive(Debug, Clone, Default)]
pub struct ScheduleInput {
    pub name: String,
    pub group: Option<String>,
    pub expression: String,
    pub timezone: Option<String>,
    pub start_ms: Option<Millis>,
    pub end_ms: Option<Millis>,
    pub description: Option<String>,
    pub state: Option<String>,
    pub kms_key_arn: Option<String>,
    pub target: Value,
    pub flexible_time_window: Value,
    pub action_after_completion: Option<String>,
}

/// A schedule as ListSchedules shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleSummary {
    pub arn: String,
    pub name: String,
    pub group: String,
    pub state: String,
    pub created_ms: Millis,
    pub modified_ms: Millis,
    pub target_arn: String,
}

#[derive(Debug, Clone, Default)]
pub struct ListSchedules<'a> {
    pub group: Option<&'a str>,
    pub name_prefix: Option<&'a str>,
    pub state: Option<&'a str>,
    pub token: Option<&'a str>,
    pub limit: usize,
}

fn constraint(value: &str, member: &str, rule: &str) -> SchedulerError {
    validation(format!(
        "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {rule}"
    ))
}

fn check_name(value: &str, member: &str) -> SchedulerResult<()> {
    if valid_name(value) {
        Ok(())
    } else {
        Err(constraint(value, member, "Member must satisfy regular expression pattern: [0-9a-zA-Z-_.]+"))
    }
}

fn not_found(name: &str) -> SchedulerError {
    SchedulerError::NotFound(format!("Schedule {name} does not exist."))
}

fn one_of(value: &str, member: &str, allowed: &[&str]) -> SchedulerResult<()> {
    if allowed.contains(&value) {
        Ok(())
    } else {
        Err(constraint(value, member, &format!("Member must satisfy enum value set: [{}]", allowed.join(", "))))
    }
}

fn is_arn_like(s: &str, service: &str, pattern_tail: impl Fn(&str) -> bool) -> bool {
    let mut parts = s.splitn(6, ':');
    let (Some("arn"), Some(partition), Some(svc), Some(region), Some(account), Some(rest)) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    partition.starts_with("aws")
        && svc == service
        && region.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && (account.is_empty() || (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())))
        && pattern_tail(rest)
}

/// The target's members, checked as the model and AWS check them.
fn parse_target(value: &Value) -> SchedulerResult<ScheduleTarget> {
    let target: ScheduleTarget =
        serde_json::from_value(value.clone()).map_err(|e| validation(format!("Target is not valid: {e}")))?;
    if target.arn.is_empty() || target.arn.len() > 1600 {
        return Err(constraint(&target.arn, "target.arn", "Member must have length between 1 and 1600"));
    }
    let role_ok = target.role_arn.len() <= 1600
        && is_arn_like(&target.role_arn, "iam", |rest| {
            rest.strip_prefix("role/")
                .is_some_and(|r| !r.is_empty() && r.chars().all(|c| c.is_alphanumeric() || "_+=,.@/-".contains(c)))
        })
        && target.role_arn.split(':').nth(4).is_some_and(|a| a.len() == 12);
    if !role_ok {
        return Err(constraint(
            &target.role_arn,
            "target.roleArn",
            "Member must satisfy regular expression pattern: arn:aws[a-z-]*:iam::\\d{12}:role\\/[\\w+=,.@\\/-]+",
        ));
    }
    if target.input.as_deref() == Some("") {
        return Err(constraint("", "target.input", "Member must have length greater than or equal to 1"));
    }
    if let Some(dlq) = target.dead_letter_arn() {
        let ok = is_arn_like(dlq, "sqs", |name| {
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
        if !ok {
            return Err(constraint(
                dlq,
                "target.deadLetterConfig.arn",
                "Member must satisfy regular expression pattern: arn:aws[a-z-]*:sqs:[a-z0-9\\-]+:\\d{12}:[a-zA-Z0-9\\-_]+",
            ));
        }
    }
    let retry = &target.retry_policy;
    if !(60..=86_400).contains(&retry.maximum_event_age_in_seconds) {
        return Err(constraint(
            &retry.maximum_event_age_in_seconds.to_string(),
            "target.retryPolicy.maximumEventAgeInSeconds",
            "Member must have value between 60 and 86400",
        ));
    }
    if retry.maximum_retry_attempts > 185 {
        return Err(constraint(
            &retry.maximum_retry_attempts.to_string(),
            "target.retryPolicy.maximumRetryAttempts",
            "Member must have value less than or equal to 185",
        ));
    }
    if let Some(k) = &target.kinesis_parameters {
        if k.partition_key.is_empty() || k.partition_key.chars().count() > 256 {
            return Err(constraint(
                &k.partition_key,
                "target.kinesisParameters.partitionKey",
                "Member must have length between 1 and 256",
            ));
        }
    }
    if let Some(group) = target.sqs_parameters.as_ref().and_then(|s| s.message_group_id.as_deref()) {
        if group.is_empty() || group.chars().count() > 128 {
            return Err(constraint(
                group,
                "target.sqsParameters.messageGroupId",
                "Member must have length between 1 and 128",
            ));
        }
    }
    if let Some(e) = &target.event_bridge_parameters {
        if e.detail_type.is_empty() || e.detail_type.chars().count() > 128 {
            return Err(constraint(
                &e.detail_type,
                "target.eventBridgeParameters.detailType",
                "Member must have length between 1 and 128",
            ));
        }
        if e.source.is_empty() || e.source.chars().count() > 256 || e.source.starts_with("aws.") {
            return Err(constraint(
                &e.source,
                "target.eventBridgeParameters.source",
                "Member must satisfy regular expression pattern: (?=[/\\.\\-_A-Za-z0-9]+)((?!aws\\.).*)|(\\$(\\.[\\w_-]+(\\[(\\d+|\\*)\\])*)*)",
            ));
        }
    }
    Ok(target)
}

fn parse_window(value: &Value) -> SchedulerResult<FlexibleTimeWindow> {
    let window: FlexibleTimeWindow = serde_json::from_value(value.clone())
        .map_err(|e| validation(format!("FlexibleTimeWindow is not valid: {e}")))?;
    one_of(&window.mode, "flexibleTimeWindow.mode", &["OFF", "FLEXIBLE"])?;
    match (window.mode.as_str(), window.maximum_window_in_minutes) {
        ("FLEXIBLE", None) => {
            Err(validation("MaximumWindowInMinutes must be provided when FlexibleTimeWindow Mode is FLEXIBLE."))
        }
        ("FLEXIBLE", Some(m)) if !(1..=1440).contains(&m) => Err(constraint(
            &m.to_string(),
            "flexibleTimeWindow.maximumWindowInMinutes",
            "Member must have value between 1 and 1440",
        )),
        ("OFF", Some(_)) => {
            Err(validation("MaximumWindowInMinutes must not be provided when FlexibleTimeWindow Mode is OFF."))
        }
        _ => Ok(window),
    }
}

impl Scheduler {
    /// The record an input describes, checked; `previous` is the schedule it replaces.
    fn build(&self, caller: &Caller, input: ScheduleInput, now: Millis) -> SchedulerResult<Entry> {
        check_name(&input.name, "name")?;
        let group = input.group.unwrap_or_else(|| DEFAULT_GROUP.to_string());
        check_name(&group, "groupName")?;
        if input.expression.is_empty() || input.expression.len() > 256 {
            return Err(constraint(
                &input.expression,
                "scheduleExpression",
                "Member must have length between 1 and 256",
            ));
        }
        if let Some(tz) = &input.timezone {
            if tz.is_empty() || tz.len() > 50 {
                return Err(constraint(tz, "scheduleExpressionTimezone", "Member must have length between 1 and 50"));
            }
        }
        if let Some(d) = &input.description {
            if d.chars().count() > 512 {
                return Err(constraint(d, "description", "Member must have length less than or equal to 512"));
            }
        }
        let state = input.state.unwrap_or_else(|| "ENABLED".into());
        one_of(&state, "state", &["ENABLED", "DISABLED"])?;
        let action = input.action_after_completion.unwrap_or_else(|| "NONE".into());
        one_of(&action, "actionAfterCompletion", &["NONE", "DELETE"])?;
        if let Some(kms) = &input.kms_key_arn {
            let ok = is_arn_like(kms, "kms", |rest| rest.starts_with("key/") || rest.starts_with("alias/"));
            if !ok {
                return Err(constraint(
                    kms,
                    "kmsKeyArn",
                    "Member must satisfy regular expression pattern: arn:aws[a-z-]*:kms:[a-z0-9\\-]+:\\d{12}:(key|alias)\\/[0-9a-zA-Z-_]*",
                ));
            }
        }
        let target = parse_target(&input.target)?;
        let window = parse_window(&input.flexible_time_window)?;
        if let (Some(start), Some(end)) = (input.start_ms, input.end_ms) {
            if end <= start {
                return Err(validation("The provided start date must be before the end date."));
            }
        }
        if let Some(end) = input.end_ms {
            if end <= now {
                return Err(validation("The EndDate you specify cannot be earlier than the current date."));
            }
        }
        let record = ScheduleRecord {
            account: caller.account.clone(),
            region: caller.region.clone(),
            group,
            name: input.name,
            expression: input.expression,
            timezone: input.timezone,
            start_ms: input.start_ms,
            end_ms: input.end_ms,
            description: input.description,
            state,
            kms_key_arn: input.kms_key_arn,
            target,
            flexible_time_window: window,
            action_after_completion: action,
            created_ms: now,
            modified_ms: now,
            last_fired_ms: None,
        };
        Entry::new(record)
    }

    pub async fn create_schedule(&self, caller: &Caller, input: ScheduleInput) -> SchedulerResult<String> {
        let now = self.now_ms();
        let entry = self.build(caller, input, now)?;
        let r = &entry.record;
        let key = records::schedule_key(&r.account, &r.region, &r.group, &r.name);
        let arn = entry.arn();
        let bytes = records::to_json(&entry.record);
        {
            let _w = self.write.lock();
            if !self.group_exists(&r.account, &r.region, &r.group) {
                return Err(group_not_found(&r.group));
            }
            if self.schedules.read().contains_key(&key) {
                return Err(SchedulerError::Conflict(format!("Schedule {} already exists.", r.name)));
            }
            self.schedules.write().insert(key.clone(), std::sync::Arc::new(entry));
        }
        let mut batch = self.store.batch();
        batch.put(&self.schedules_part, key, bytes);
        self.commit(batch).await?;
        self.firings.wake();
        Ok(arn)
    }

    pub async fn update_schedule(&self, caller: &Caller, input: ScheduleInput) -> SchedulerResult<String> {
        let now = self.now_ms();
        let mut entry = self.build(caller, input, now)?;
        let key = {
            let r = &entry.record;
            records::schedule_key(&r.account, &r.region, &r.group, &r.name)
        };
        let arn = entry.arn();
        let bytes = {
            let _w = self.write.lock();
            let r = &entry.record;
            if !self.group_exists(&r.account, &r.region, &r.group) {
                return Err(group_not_found(&r.group));
            }
            let Some(previous) = self.schedules.read().get(&key).cloned() else {
                return Err(not_found(&r.name));
            };
            entry.record.created_ms = previous.record.created_ms;
            let bytes = records::to_json(&entry.record);
            self.schedules.write().insert(key.clone(), std::sync::Arc::new(entry));
            bytes
        };
        let mut batch = self.store.batch();
        batch.put(&self.schedules_part, key, bytes);
        self.commit(batch).await?;
        self.firings.wake();
        Ok(arn)
    }

    pub fn get_schedule(&self, caller: &Caller, group: Option<&str>, name: &str) -> SchedulerResult<ScheduleRecord> {
        check_name(name, "name")?;
        let group = group.unwrap_or(DEFAULT_GROUP);
        check_name(group, "groupName")?;
        if !self.group_exists(&caller.account, &caller.region, group) {
            return Err(group_not_found(group));
        }
        let key = records::schedule_key(&caller.account, &caller.region, group, name);
        self.schedules.read().get(&key).map(|e| e.record.clone()).ok_or_else(|| not_found(name))
    }

    pub async fn delete_schedule(&self, caller: &Caller, group: Option<&str>, name: &str) -> SchedulerResult<()> {
        check_name(name, "name")?;
        let group = group.unwrap_or(DEFAULT_GROUP);
        check_name(group, "groupName")?;
        let key = records::schedule_key(&caller.account, &caller.region, group, name);
        {
            let _w = self.write.lock();
            if !self.group_exists(&caller.account, &caller.region, group) {
                return Err(group_not_found(group));
            }
            if self.schedules.write().remove(&key).is_none() {
                return Err(not_found(name));
            }
        }
        let mut batch = self.store.batch();
        batch.delete(&self.schedules_part, key);
        self.commit(batch).await
    }

    pub fn list_schedules(&self, caller: &Caller, q: &ListSchedules<'_>) -> SchedulerResult<Page<ScheduleSummary>> {
        if let Some(group) = q.group {
            check_name(group, "groupName")?;
            if !self.group_exists(&caller.account, &caller.region, group) {
                return Err(group_not_found(group));
            }
        }
        if let Some(prefix) = q.name_prefix {
            check_name(prefix, "namePrefix")?;
        }
        if let Some(state) = q.state {
            one_of(state, "state", &["ENABLED", "DISABLED"])?;
        }
        let scope = records::group_key(&caller.account, &caller.region, "");
        let mut all: Vec<ScheduleSummary> = self
            .schedules
            .read()
            .range(scope.clone()..)
            .take_while(|(k, _)| k.starts_with(&scope))
            .map(|(_, e)| &e.record)
            .filter(|r| q.group.is_none_or(|g| r.group == g))
            .filter(|r| q.name_prefix.is_none_or(|p| r.name.starts_with(p)))
            .filter(|r| q.state.is_none_or(|s| r.state == s))
            .map(|r| ScheduleSummary {
                arn: schedule_arn(&r.region, &r.account, &r.group, &r.name),
                name: r.name.clone(),
                group: r.group.clone(),
                state: r.state.clone(),
                created_ms: r.created_ms,
                modified_ms: r.modified_ms,
                target_arn: r.target.arn.clone(),
            })
            .collect();
        all.sort_by(|a, b| a.arn.cmp(&b.arn));
        let listing = format!("scheduler-schedules/{}/{}", caller.account, caller.region);
        let req = PageRequest::new(&listing, q.token, q.limit, self.now_ms());
        self.tokens.page(all, |s| s.arn.as_str(), &req).map_err(|_| validation("Invalid NextToken."))
    }
}
