//! The API's operations on pipes: CreatePipe, DescribePipe, UpdatePipe
//! (the members given replace theirs; a parameter object's service member,
//! `SqsQueueParameters` say, is replaced as a whole, as AWS documents),
//! DeletePipe, ListPipes, StartPipe, StopPipe and the tagging operations.
//! Each leaves the pipe in a transitional state the run loop completes.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::error::{conflict, constraint, null_member, pipe_not_found, validation, PipesResult};
use super::records::{self, PipeRecord};
use super::source::SourceKind;
use super::{validate, Pipes, PipesError};
use crate::identity::Caller;
use crate::page::{Page, PageRequest};
use crate::tags::{self, TagRules, Tags};

/// CreatePipe's and UpdatePipe's members (UpdatePipe has no Source or Tags).
#[derive(Debug, Clone, Default)]
pub struct PipeInput {
    pub name: String,
    pub description: Option<String>,
    pub desired_state: Option<String>,
    pub source: Option<String>,
    pub source_parameters: Option<Map<String, Value>>,
    pub enrichment: Option<String>,
    pub enrichment_parameters: Option<Map<String, Value>>,
    pub target: Option<String>,
    pub target_parameters: Option<Map<String, Value>>,
    pub role_arn: Option<String>,
    pub tags: Option<Tags>,
    pub log_configuration: Option<Value>,
    pub kms_key_identifier: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct ListPipes<'a> {
    pub name_prefix: Option<&'a str>,
    pub desired_state: Option<&'a str>,
    pub current_state: Option<&'a str>,
    pub source_prefix: Option<&'a str>,
    pub target_prefix: Option<&'a str>,
    pub token: Option<&'a str>,
    pub limit: usize,
}

/// Members every write checks alike.
fn check_common(input: &PipeInput) -> PipesResult<()> {
    validate::name(&input.name, "Name")?;
    if let Some(d) = &input.description {
        validate::description(d)?;
    }
    if let Some(s) = &input.desired_state {
        validate::one_of(s, "DesiredState", &["RUNNING", "STOPPED"])?;
    }
    match &input.role_arn {
        Some(role) => validate::role_arn(role)?,
        None => return Err(null_member("RoleArn")),
    }
    if let Some(e) = input.enrichment.as_deref().filter(|e| !e.is_empty()) {
        validate::arn(e, "Enrichment")?;
    }
    if let Some(t) = &input.target {
        validate::arn(t, "Target")?;
    }
    if let Some(p) = &input.enrichment_parameters {
        validate::enrichment_parameters(p)?;
    }
    if let Some(k) = input.kms_key_identifier.as_deref() {
        if k.len() > 2048 {
            return Err(constraint("KmsKeyIdentifier", k, "Member must have length between 0 and 2048"));
        }
    }
    Ok(())
}

/// The members of `update` replace those of `base`, one service object at a time.
fn merge(base: &Map<String, Value>, update: Option<&Map<String, Value>>) -> Map<String, Value> {
    let mut out = base.clone();
    for (k, v) in update.into_iter().flatten() {
        if v.is_null() {
            out.remove(k);
        } else {
            out.insert(k.clone(), v.clone());
        }
    }
    out
}

impl Pipes {
    pub async fn create_pipe(&self, caller: &Caller, input: PipeInput) -> PipesResult<Arc<PipeRecord>> {
        check_common(&input)?;
        let source = input.source.clone().ok_or_else(|| null_member("Source"))?;
        validate::source(&source)?;
        let target = input.target.clone().ok_or_else(|| null_member("Target"))?;
        let source_parameters = input.source_parameters.clone().unwrap_or_default();
        validate::source_parameters(&source_parameters, SourceKind::of(&source))?;
        let target_parameters = input.target_parameters.clone().unwrap_or_default();
        validate::target_parameters(&target_parameters, &target)?;
        if let Some(t) = &input.tags {
            validate::tags(t, "Tags")?;
        }
        let now = self.now_ms();
        let record = PipeRecord {
            account: caller.account.clone(),
            region: caller.region.clone(),
            name: input.name.clone(),
            description: input.description,
            desired_state: input.desired_state.unwrap_or_else(|| "RUNNING".into()),
            current_state: "CREATING".into(),
            state_reason: None,
            source,
            source_parameters,
            enrichment: input.enrichment.filter(|e| !e.is_empty()),
            enrichment_parameters: input.enrichment_parameters.unwrap_or_default(),
            target,
            target_parameters,
            role_arn: input.role_arn.unwrap_or_default(),
            tags: input.tags.unwrap_or_default(),
            log_configuration: input.log_configuration,
            kms_key_identifier: input.kms_key_identifier,
            created_ms: now,
            modified_ms: now,
        };
        let key = records::pipe_key(&caller.account, &caller.region, &input.name);
        let record = {
            let _w = self.write.lock();
            if self.pipes.read().contains_key(&key) {
                return Err(conflict(&input.name, format!("Pipe {} already exists.", input.name)));
            }
            self.stage(key, record)
        };
        self.commit_staged(&record).await?;
        tracing::info!(pipe = %record.arn(), source = %record.source, target = %record.target,
            desired = %record.desired_state, "Pipes: pipe created");
        Ok(record)
    }

    pub fn describe_pipe(&self, caller: &Caller, name: &str) -> PipesResult<Arc<PipeRecord>> {
        validate::name(name, "Name")?;
        self.current(&records::pipe_key(&caller.account, &caller.region, name)).ok_or_else(|| pipe_not_found(name))
    }

    pub async fn update_pipe(&self, caller: &Caller, input: PipeInput) -> PipesResult<Arc<PipeRecord>> {
        check_common(&input)?;
        let key = records::pipe_key(&caller.account, &caller.region, &input.name);
        let record = {
            let _w = self.write.lock();
            let old = self.changeable(&key, &input.name)?;
            let mut r = (*old).clone();
            if let Some(d) = input.description {
                r.description = Some(d);
            }
            if let Some(s) = input.desired_state {
                r.desired_state = s;
            }
            if let Some(e) = input.enrichment {
                r.enrichment = Some(e).filter(|e| !e.is_empty());
            }
            if let Some(t) = input.target {
                r.target = t;
            }
            if let Some(k) = input.source_parameters.as_ref().and_then(|p| p.get("KinesisStreamParameters")) {
                validate::kinesis_parameters(k.as_object().unwrap_or(&Map::new()), false)?;
            }
            let mut source_update = input.source_parameters.clone();
            // StartingPosition is not UpdatePipe's to change: the stored one stays.
            if let (Some(update), Some(old_k)) =
                (source_update.as_mut(), r.source_parameters.get("KinesisStreamParameters"))
            {
                if let Some(k) = update.get_mut("KinesisStreamParameters").and_then(Value::as_object_mut) {
                    for member in ["StartingPosition", "StartingPositionTimestamp"] {
                        if let Some(v) = old_k.get(member) {
                            k.insert(member.into(), v.clone());
                        }
                    }
                }
            }
            r.source_parameters = merge(&r.source_parameters, source_update.as_ref());
            r.enrichment_parameters = merge(&r.enrichment_parameters, input.enrichment_parameters.as_ref());
            r.target_parameters = merge(&r.target_parameters, input.target_parameters.as_ref());
            validate::source_parameters(&r.source_parameters, SourceKind::of(&r.source))?;
            validate::target_parameters(&r.target_parameters, &r.target)?;
            if let Some(role) = input.role_arn {
                r.role_arn = role;
            }
            if input.log_configuration.is_some() {
                r.log_configuration = input.log_configuration;
            }
            if input.kms_key_identifier.is_some() {
                r.kms_key_identifier = input.kms_key_identifier.filter(|k| !k.is_empty());
            }
            r.current_state = "UPDATING".into();
            r.state_reason = None;
            r.modified_ms = self.now_ms();
            self.stage(key, r)
        };
        self.commit_staged(&record).await?;
        tracing::info!(pipe = %record.arn(), "Pipes: pipe updated");
        Ok(record)
    }

    /// DeletePipe: the pipe is DELETING until its reader has stopped, then gone.
    pub async fn delete_pipe(&self, caller: &Caller, name: &str) -> PipesResult<Arc<PipeRecord>> {
        validate::name(name, "Name")?;
        let key = records::pipe_key(&caller.account, &caller.region, name);
        let record = {
            let _w = self.write.lock();
            let mut r = (*self.changeable(&key, name)?).clone();
            r.current_state = "DELETING".into();
            r.modified_ms = self.now_ms();
            self.stage(key, r)
        };
        self.commit_staged(&record).await?;
        tracing::info!(pipe = %record.arn(), "Pipes: pipe deleting");
        Ok(record)
    }

    pub async fn start_pipe(&self, caller: &Caller, name: &str) -> PipesResult<Arc<PipeRecord>> {
        self.change_desired(caller, name, "RUNNING", "STARTING").await
    }

    pub async fn stop_pipe(&self, caller: &Caller, name: &str) -> PipesResult<Arc<PipeRecord>> {
        self.change_desired(caller, name, "STOPPED", "STOPPING").await
    }

    async fn change_desired(
        &self,
        caller: &Caller,
        name: &str,
        desired: &str,
        moving: &str,
    ) -> PipesResult<Arc<PipeRecord>> {
        validate::name(name, "Name")?;
        let key = records::pipe_key(&caller.account, &caller.region, name);
        let record = {
            let _w = self.write.lock();
            let old = self.changeable(&key, name)?;
            if old.desired_state == desired && old.current_state == desired {
                return Ok(old);
            }
            let mut r = (*old).clone();
            r.desired_state = desired.to_string();
            r.current_state = moving.to_string();
            r.state_reason = None;
            r.modified_ms = self.now_ms();
            self.stage(key, r)
        };
        self.commit_staged(&record).await?;
        tracing::info!(pipe = %record.arn(), desired, "Pipes: pipe's desired state changed");
        Ok(record)
    }

    /// The pipe, unless it is being deleted (AWS refuses changes then).
    fn changeable(&self, key: &[u8], name: &str) -> PipesResult<Arc<PipeRecord>> {
        let old = self.current(key).ok_or_else(|| pipe_not_found(name))?;
        if old.current_state == "DELETING" {
            return Err(conflict(name, format!("Pipe {name} is being deleted.")));
        }
        Ok(old)
    }

    /// Puts `record` in memory (under the write lock); [`Pipes::commit_staged`] makes it durable.
    fn stage(&self, key: Vec<u8>, record: PipeRecord) -> Arc<PipeRecord> {
        let record = Arc::new(record);
        self.pipes.write().insert(key, record.clone());
        record
    }

    async fn commit_staged(&self, record: &PipeRecord) -> PipesResult<()> {
        let mut batch = self.store.batch();
        let key = records::pipe_key(&record.account, &record.region, &record.name);
        batch.put(&self.pipes_part, key, records::to_json(record));
        self.commit(batch).await?;
        self.runners.wake();
        Ok(())
    }

    pub fn list_pipes(&self, caller: &Caller, q: &ListPipes<'_>) -> PipesResult<Page<Arc<PipeRecord>>> {
        if let Some(p) = q.name_prefix {
            validate::name(p, "NamePrefix")?;
        }
        if let Some(s) = q.desired_state {
            validate::one_of(s, "DesiredState", &["RUNNING", "STOPPED"])?;
        }
        if let Some(s) = q.current_state {
            validate::one_of(s, "CurrentState", validate::STATES)?;
        }
        let scope = records::pipe_key(&caller.account, &caller.region, "");
        let all: Vec<Arc<PipeRecord>> = self
            .pipes
            .read()
            .range(scope.clone()..)
            .take_while(|(k, _)| k.starts_with(&scope))
            .map(|(_, r)| r.clone())
            .filter(|r| q.name_prefix.is_none_or(|p| r.name.starts_with(p)))
            .filter(|r| q.desired_state.is_none_or(|s| r.desired_state == s))
            .filter(|r| q.current_state.is_none_or(|s| r.current_state == s))
            .filter(|r| q.source_prefix.is_none_or(|p| r.source.starts_with(p)))
            .filter(|r| q.target_prefix.is_none_or(|p| r.target.starts_with(p)))
            .collect();
        let listing = format!("pipes/{}/{}", caller.account, caller.region);
        let req = PageRequest::new(&listing, q.token, q.limit, self.now_ms());
        self.tokens.page(all, |r| r.name.as_str(), &req).map_err(|_| validation("The NextToken provided is invalid."))
    }

    /// The pipe an ARN names (tagging takes ARNs of any account's pipes in this region).
    fn key_of_arn(&self, arn: &str) -> PipesResult<Vec<u8>> {
        let parsed = crate::arn::Arn::parse(arn).ok().filter(|a| a.service == "pipes");
        let Some(name) = parsed.as_ref().and_then(|a| a.resource.strip_prefix("pipe/")) else {
            return Err(constraint(
                "resourceArn",
                arn,
                "Member must satisfy regular expression pattern: arn:aws([a-z]|\\-)*:([a-zA-Z0-9\\-]+):([a-z]|\\d|\\-)*:([0-9]{12})?:(.+)",
            ));
        };
        let a = parsed.as_ref().expect("checked above");
        let key = records::pipe_key(a.account, a.region, name);
        if !self.pipes.read().contains_key(&key) {
            return Err(PipesError::NotFound(format!("Resource {arn} does not exist.")));
        }
        Ok(key)
    }

    pub fn list_tags(&self, arn: &str) -> PipesResult<Tags> {
        let key = self.key_of_arn(arn)?;
        Ok(self.current(&key).map(|r| r.tags.clone()).unwrap_or_default())
    }

    pub async fn tag_resource(&self, arn: &str, new: &Tags) -> PipesResult<()> {
        validate::tags(new, "tags")?;
        let key = self.key_of_arn(arn)?;
        let record = {
            let _w = self.write.lock();
            let mut r = (*self.current(&key).ok_or_else(|| pipe_not_found(arn))?).clone();
            r.tags = TagRules::AWS.merged(&r.tags, new).map_err(|_| {
                constraint(
                    "tags",
                    &format!("{} tags", r.tags.len() + new.len()),
                    "Member must have length between 1 and 50",
                )
            })?;
            self.stage(key, r)
        };
        self.commit_staged(&record).await
    }

    pub async fn untag_resource(&self, arn: &str, keys: &[String]) -> PipesResult<()> {
        let key = self.key_of_arn(arn)?;
        let record = {
            let _w = self.write.lock();
            let mut r = (*self.current(&key).ok_or_else(|| pipe_not_found(arn))?).clone();
            r.tags = tags::without(&r.tags, keys);
            self.stage(key, r)
        };
        self.commit_staged(&record).await
    }
}
