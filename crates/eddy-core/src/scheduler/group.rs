//! Schedule groups and their tags. The `default` group exists in every
//! account and region without being created, and cannot be deleted;
//! deleting another group deletes its schedules with it.

use super::error::{validation, SchedulerResult};
use super::records::{self, GroupRecord};
use super::{group_arn, valid_name, Scheduler, SchedulerError, DEFAULT_GROUP};
use crate::clock::Millis;
use crate::identity::Caller;
use crate::page::{Page, PageRequest};
use crate::tags::{TagRules, TagViolation, Tags};

/// Groups an account may have in a region (AWS's default quota).
pub const MAX_GROUPS: usize = 500;

/// A group as GetScheduleGroup and ListScheduleGroups show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub arn: String,
    pub name: String,
    pub created_ms: Millis,
    pub modified_ms: Millis,
}

pub(crate) fn group_not_found(name: &str) -> SchedulerError {
    SchedulerError::NotFound(format!("Schedule group {name} does not exist."))
}

fn check_name(name: &str) -> SchedulerResult<()> {
    if valid_name(name) {
        Ok(())
    } else {
        Err(validation(format!(
            "1 validation error detected: Value '{name}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [0-9a-zA-Z-_.]+"
        )))
    }
}

fn tag_error(v: TagViolation) -> SchedulerError {
    match v {
        TagViolation::TooMany => validation("The number of tags exceeds the limit of 50 tags per resource."),
        TagViolation::Key(k) => validation(format!("Tag key {k} is not valid.")),
        TagViolation::Value(k) => validation(format!("The value of tag {k} is not valid.")),
    }
}

impl Scheduler {
    fn group_view(&self, caller: &Caller, record: Option<&GroupRecord>, name: &str) -> Group {
        Group {
            arn: group_arn(&caller.region, &caller.account, name),
            name: name.to_string(),
            created_ms: record.map_or(self.opened_ms, |r| r.created_ms),
            modified_ms: record.map_or(self.opened_ms, |r| r.modified_ms),
        }
    }

    /// The group's record; None for a default group never tagged.
    pub(crate) fn group_exists(&self, account: &str, region: &str, name: &str) -> bool {
        name == DEFAULT_GROUP || self.groups.read().contains_key(&records::group_key(account, region, name))
    }

    pub async fn create_group(&self, caller: &Caller, name: &str, tags: Tags) -> SchedulerResult<String> {
        check_name(name)?;
        TagRules::AWS.check(&tags).map_err(tag_error)?;
        let key = records::group_key(&caller.account, &caller.region, name);
        let record = {
            let _w = self.write.lock();
            if name == DEFAULT_GROUP || self.groups.read().contains_key(&key) {
                return Err(SchedulerError::Conflict(format!("Schedule group {name} already exists.")));
            }
            let prefix = records::group_key(&caller.account, &caller.region, "");
            let count = self.groups.read().range(prefix.clone()..).take_while(|(k, _)| k.starts_with(&prefix)).count();
            if count >= MAX_GROUPS {
                return Err(SchedulerError::QuotaExceeded(format!(
                    "You have reached the maximum number of schedule groups ({MAX_GROUPS}) for this account."
                )));
            }
            let now = self.now_ms();
            let record = GroupRecord {
                account: caller.account.clone(),
                region: caller.region.clone(),
                name: name.to_string(),
                created_ms: now,
                modified_ms: now,
                tags,
            };
            self.groups.write().insert(key.clone(), record.clone());
            record
        };
        let mut batch = self.store.batch();
        batch.put(&self.groups_part, key, records::to_json(&record));
        self.commit(batch).await?;
        Ok(group_arn(&caller.region, &caller.account, name))
    }

    pub fn get_group(&self, caller: &Caller, name: &str) -> SchedulerResult<Group> {
        check_name(name)?;
        let groups = self.groups.read();
        let record = groups.get(&records::group_key(&caller.account, &caller.region, name));
        if record.is_none() && name != DEFAULT_GROUP {
            return Err(group_not_found(name));
        }
        Ok(self.group_view(caller, record, name))
    }

    pub fn list_groups(
        &self,
        caller: &Caller,
        prefix: Option<&str>,
        token: Option<&str>,
        limit: usize,
    ) -> SchedulerResult<Page<Group>> {
        let mut all: Vec<Group> = {
            let groups = self.groups.read();
            let scope = records::group_key(&caller.account, &caller.region, "");
            let mut all: Vec<Group> = groups
                .range(scope.clone()..)
                .take_while(|(k, _)| k.starts_with(&scope))
                .map(|(_, r)| self.group_view(caller, Some(r), &r.name))
                .collect();
            if !all.iter().any(|g| g.name == DEFAULT_GROUP) {
                all.push(self.group_view(caller, None, DEFAULT_GROUP));
            }
            all
        };
        all.retain(|g| prefix.is_none_or(|p| g.name.starts_with(p)));
        all.sort_by(|a, b| a.name.cmp(&b.name));
        let listing = format!("scheduler-groups/{}/{}", caller.account, caller.region);
        let req = PageRequest::new(&listing, token, limit, self.now_ms());
        self.tokens.page(all, |g| g.name.as_str(), &req).map_err(|_| validation("Invalid NextToken."))
    }

    /// Deletes a group and every schedule in it.
    pub async fn delete_group(&self, caller: &Caller, name: &str) -> SchedulerResult<()> {
        check_name(name)?;
        if name == DEFAULT_GROUP {
            return Err(validation("The default schedule group cannot be deleted."));
        }
        let key = records::group_key(&caller.account, &caller.region, name);
        let mut batch = self.store.batch();
        {
            let _w = self.write.lock();
            if self.groups.write().remove(&key).is_none() {
                return Err(group_not_found(name));
            }
            batch.delete(&self.groups_part, key);
            let scope = records::schedule_key(&caller.account, &caller.region, name, "");
            let mut schedules = self.schedules.write();
            let doomed: Vec<Vec<u8>> = schedules
                .range(scope.clone()..)
                .take_while(|(k, _)| k.starts_with(&scope))
                .map(|(k, _)| k.clone())
                .collect();
            for k in doomed {
                schedules.remove(&k);
                batch.delete(&self.schedules_part, k);
            }
        }
        self.commit(batch).await
    }

    /// The group a tagging ARN names: (account, region, name).
    fn tagged_group(&self, arn: &str) -> SchedulerResult<(String, String, String)> {
        let parsed = crate::arn::Arn::parse(arn).ok();
        let found = parsed.as_ref().and_then(|a| {
            let name = a.resource.strip_prefix("schedule-group/")?;
            (a.service == "scheduler" && valid_name(name) && a.account.len() == 12)
                .then(|| (a.account.to_string(), a.region.to_string(), name.to_string()))
        });
        let Some((account, region, name)) = found else {
            return Err(validation(format!(
                "1 validation error detected: Value '{arn}' at 'resourceArn' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:aws[a-z-]*:scheduler:[a-z0-9\\-]+:\\d{{12}}:schedule-group\\/[0-9a-zA-Z-_.]+"
            )));
        };
        if !self.group_exists(&account, &region, &name) {
            return Err(group_not_found(&name));
        }
        Ok((account, region, name))
    }

    pub fn list_tags(&self, arn: &str) -> SchedulerResult<Tags> {
        let (account, region, name) = self.tagged_group(arn)?;
        let groups = self.groups.read();
        Ok(groups.get(&records::group_key(&account, &region, &name)).map(|r| r.tags.clone()).unwrap_or_default())
    }

    pub async fn tag_resource(&self, arn: &str, tags: Tags) -> SchedulerResult<()> {
        self.change_tags(arn, |existing| TagRules::AWS.merged(existing, &tags).map_err(tag_error)).await
    }

    pub async fn untag_resource(&self, arn: &str, keys: &[String]) -> SchedulerResult<()> {
        self.change_tags(arn, |existing| Ok(crate::tags::without(existing, keys))).await
    }

    async fn change_tags(&self, arn: &str, change: impl FnOnce(&Tags) -> SchedulerResult<Tags>) -> SchedulerResult<()> {
        let (account, region, name) = self.tagged_group(arn)?;
        let key = records::group_key(&account, &region, &name);
        let record = {
            let _w = self.write.lock();
            let mut groups = self.groups.write();
            let now = self.now_ms();
            let mut record = groups.get(&key).cloned().unwrap_or_else(|| GroupRecord {
                account,
                region,
                name,
                created_ms: self.opened_ms,
                modified_ms: self.opened_ms,
                tags: Tags::new(),
            });
            record.tags = change(&record.tags)?;
            record.modified_ms = now;
            groups.insert(key.clone(), record.clone());
            record
        };
        let mut batch = self.store.batch();
        batch.put(&self.groups_part, key, records::to_json(&record));
        self.commit(batch).await
    }
}
