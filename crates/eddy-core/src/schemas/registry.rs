//! Registries, their resource policies, and tagging (registries, schemas
//! and discoverers, by ARN). `aws.events` exists in every account and
//! region with scope AWS and cannot be changed; eddy ships no schemas in it.

use super::error::{bad_request, SchemasResult};
use super::records::{self, PolicyRecord, RegistryRecord};
use super::{registry_arn, scoped, tag_error, Schemas, SchemasError, AWS_EVENTS_REGISTRY, DISCOVERED_REGISTRY};
use crate::identity::Caller;
use crate::page::{Page, PageRequest};
use crate::tags::{TagRules, Tags};

/// ListRegistries' `Scope`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Local,
    Aws,
}

/// A registry as DescribeRegistry and ListRegistries show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registry {
    pub arn: String,
    pub name: String,
    pub description: Option<String>,
    pub tags: Tags,
    pub scope: Scope,
}

pub(crate) fn registry_not_found(name: &str) -> SchemasError {
    SchemasError::NotFound(format!("Registry {name} does not exist."))
}

/// AWS's registry names: 1 to 64 letters, digits, `.`, `-` and `_`.
fn check_registry_name(name: &str) -> SchemasResult<()> {
    let valid = (1..=64).contains(&name.len()) && name.chars().all(|c| c.is_alphanumeric() || ".-_".contains(c));
    if valid {
        Ok(())
    } else {
        Err(bad_request(format!("Registry name {name} is not valid: use 1 to 64 letters, digits, '.', '-' and '_'.")))
    }
}

pub(crate) fn check_description(description: Option<&str>) -> SchemasResult<()> {
    match description {
        Some(d) if d.chars().count() > 256 => Err(bad_request("Description must be at most 256 characters long.")),
        _ => Ok(()),
    }
}

fn aws_managed(name: &str) -> bool {
    name == AWS_EVENTS_REGISTRY
}

impl Schemas {
    fn view(&self, r: &RegistryRecord) -> Registry {
        Registry {
            arn: registry_arn(&r.region, &r.account, &r.name),
            name: r.name.clone(),
            description: r.description.clone(),
            tags: r.tags.clone(),
            scope: Scope::Local,
        }
    }

    fn aws_registry(&self, caller: &Caller) -> Registry {
        Registry {
            arn: registry_arn(&caller.region, &caller.account, AWS_EVENTS_REGISTRY),
            name: AWS_EVENTS_REGISTRY.into(),
            description: Some("Schemas of the events AWS services emit.".into()),
            tags: Tags::new(),
            scope: Scope::Aws,
        }
    }

    /// Whether schemas may be read from the registry (AWS's or a created one).
    pub(crate) fn registry_exists(&self, account: &str, region: &str, name: &str) -> bool {
        aws_managed(name) || self.registries.read().contains_key(&records::key(&[account, region, name]))
    }

    /// A created registry schemas may be written to; `aws.events` is AWS's alone.
    pub(crate) fn writable_registry(&self, caller: &Caller, name: &str) -> SchemasResult<()> {
        if aws_managed(name) {
            return Err(SchemasError::Forbidden(format!("Registry {name} is managed by AWS and cannot be changed.")));
        }
        if !self.registry_exists(&caller.account, &caller.region, name) {
            return Err(registry_not_found(name));
        }
        Ok(())
    }

    pub async fn create_registry(
        &self,
        caller: &Caller,
        name: &str,
        description: Option<String>,
        tags: Tags,
    ) -> SchemasResult<Registry> {
        check_registry_name(name)?;
        check_description(description.as_deref())?;
        TagRules::AWS.check(&tags).map_err(tag_error)?;
        let key = records::key(&[&caller.account, &caller.region, name]);
        let record = {
            let _w = self.write.lock();
            if self.registry_exists(&caller.account, &caller.region, name) {
                return Err(SchemasError::Conflict(format!("Registry {name} already exists.")));
            }
            let record = RegistryRecord {
                account: caller.account.clone(),
                region: caller.region.clone(),
                name: name.to_string(),
                description,
                tags,
                created_ms: self.now_ms(),
            };
            self.registries.write().insert(key.clone(), record.clone());
            record
        };
        let mut batch = self.store.batch();
        batch.put(&self.registries_part, key, records::to_json(&record));
        self.commit(batch).await?;
        tracing::info!(registry = %name, account = %caller.account, "Schemas: registry created");
        Ok(self.view(&record))
    }

    /// The discovered-schemas registry of an account and region, made on
    /// first use by a discoverer; returns the batch's record if it is new.
    pub(crate) fn ensure_discovered_registry(&self, account: &str, region: &str) -> Option<RegistryRecord> {
        let key = records::key(&[account, region, DISCOVERED_REGISTRY]);
        let mut registries = self.registries.write();
        if registries.contains_key(&key) {
            return None;
        }
        let record = RegistryRecord {
            account: account.to_string(),
            region: region.to_string(),
            name: DISCOVERED_REGISTRY.into(),
            description: Some("Schemas discovered from the events on event buses.".into()),
            tags: Tags::new(),
            created_ms: self.now_ms(),
        };
        registries.insert(key, record.clone());
        Some(record)
    }

    pub(crate) fn registry_batch_put(&self, batch: &mut eddy_store::WriteBatch, record: &RegistryRecord) {
        let key = records::key(&[&record.account, &record.region, &record.name]);
        batch.put(&self.registries_part, key, records::to_json(record));
    }

    pub fn describe_registry(&self, caller: &Caller, name: &str) -> SchemasResult<Registry> {
        if aws_managed(name) {
            return Ok(self.aws_registry(caller));
        }
        let registries = self.registries.read();
        let record = registries
            .get(&records::key(&[&caller.account, &caller.region, name]))
            .ok_or_else(|| registry_not_found(name))?;
        Ok(self.view(record))
    }

    pub async fn update_registry(
        &self,
        caller: &Caller,
        name: &str,
        description: Option<String>,
    ) -> SchemasResult<Registry> {
        check_description(description.as_deref())?;
        self.writable_registry(caller, name)?;
        let key = records::key(&[&caller.account, &caller.region, name]);
        let record = {
            let _w = self.write.lock();
            let mut registries = self.registries.write();
            let record = registries.get_mut(&key).ok_or_else(|| registry_not_found(name))?;
            if description.is_some() {
                record.description = description;
            }
            record.clone()
        };
        let mut batch = self.store.batch();
        batch.put(&self.registries_part, key, records::to_json(&record));
        self.commit(batch).await?;
        Ok(self.view(&record))
    }

    /// Deletes a registry with its schemas and its resource policy.
    pub async fn delete_registry(&self, caller: &Caller, name: &str) -> SchemasResult<()> {
        self.writable_registry(caller, name)?;
        let key = records::key(&[&caller.account, &caller.region, name]);
        let mut batch = self.store.batch();
        {
            let _w = self.write.lock();
            if self.registries.write().remove(&key).is_none() {
                return Err(registry_not_found(name));
            }
            batch.delete(&self.registries_part, key.clone());
            if self.policies.write().remove(&key).is_some() {
                batch.delete(&self.policies_part, key);
            }
            let prefix = records::key(&[&caller.account, &caller.region, name, ""]);
            let mut schemas = self.schemas.write();
            let doomed: Vec<Vec<u8>> = scoped(&schemas, &prefix).map(|(k, _)| k.clone()).collect();
            for k in doomed {
                schemas.remove(&k);
                batch.delete(&self.schemas_part, k);
            }
        }
        self.commit(batch).await?;
        tracing::info!(registry = %name, account = %caller.account, "Schemas: registry deleted");
        Ok(())
    }

    pub fn list_registries(
        &self,
        caller: &Caller,
        prefix: Option<&str>,
        scope: Option<Scope>,
        token: Option<&str>,
        limit: usize,
    ) -> SchemasResult<Page<Registry>> {
        let mut all: Vec<Registry> = Vec::new();
        if scope != Some(Scope::Aws) {
            let registries = self.registries.read();
            let scope_key = records::key(&[&caller.account, &caller.region, ""]);
            all.extend(scoped(&registries, &scope_key).map(|(_, r)| self.view(r)));
        }
        if scope != Some(Scope::Local) {
            all.push(self.aws_registry(caller));
        }
        all.retain(|r| prefix.is_none_or(|p| r.name.starts_with(p)));
        all.sort_by(|a, b| a.name.cmp(&b.name));
        let listing = format!("schemas-registries/{}/{}/{scope:?}", caller.account, caller.region);
        let req = PageRequest::new(&listing, token, limit, self.now_ms());
        self.tokens.page(all, |r| r.name.as_str(), &req).map_err(|_| bad_request("The NextToken is not valid."))
    }

    // --- resource policies ------------------------------------------------------------------

    /// A policy's key: its registry's, or the account's for no registry.
    fn policy_key(&self, caller: &Caller, registry: Option<&str>) -> SchemasResult<Vec<u8>> {
        let name = registry.unwrap_or_default();
        if let Some(name) = registry {
            self.writable_registry(caller, name)?;
        }
        Ok(records::key(&[&caller.account, &caller.region, name]))
    }

    pub async fn put_policy(
        &self,
        caller: &Caller,
        registry: Option<&str>,
        policy: &str,
        revision_id: Option<&str>,
    ) -> SchemasResult<(String, String)> {
        let parsed: serde_json::Value =
            serde_json::from_str(policy).map_err(|_| bad_request("The policy is not valid JSON."))?;
        if !parsed.is_object() {
            return Err(bad_request("The policy must be a JSON object."));
        }
        let key = self.policy_key(caller, registry)?;
        let record = {
            let _w = self.write.lock();
            let mut policies = self.policies.write();
            // A RevisionId asks for an update of exactly that revision.
            if let Some(expected) = revision_id {
                let current = policies.get(&key).map(|p| p.revision_id.as_str());
                if current != Some(expected) {
                    return Err(SchemasError::PreconditionFailed(format!(
                        "The revision ID {expected} does not match the current revision of the policy."
                    )));
                }
            }
            let record = PolicyRecord { policy: parsed.to_string(), revision_id: uuid::Uuid::new_v4().to_string() };
            policies.insert(key.clone(), record.clone());
            record
        };
        let mut batch = self.store.batch();
        batch.put(&self.policies_part, key, records::to_json(&record));
        self.commit(batch).await?;
        Ok((record.policy, record.revision_id))
    }

    pub fn get_policy(&self, caller: &Caller, registry: Option<&str>) -> SchemasResult<(String, String)> {
        let key = self.policy_key(caller, registry)?;
        let policies = self.policies.read();
        let record = policies.get(&key).ok_or_else(|| SchemasError::NotFound("Resource policy not found.".into()))?;
        Ok((record.policy.clone(), record.revision_id.clone()))
    }

    pub async fn delete_policy(&self, caller: &Caller, registry: Option<&str>) -> SchemasResult<()> {
        let key = self.policy_key(caller, registry)?;
        {
            let _w = self.write.lock();
            if self.policies.write().remove(&key).is_none() {
                return Err(SchemasError::NotFound("Resource policy not found.".into()));
            }
        }
        let mut batch = self.store.batch();
        batch.delete(&self.policies_part, key);
        self.commit(batch).await
    }

    // --- tags -------------------------------------------------------------------------------

    pub fn list_tags(&self, arn: &str) -> SchemasResult<Tags> {
        let target = Tagged::parse(arn)?;
        let _w = self.write.lock();
        self.tags_of(&target)
    }

    pub async fn tag_resource(&self, arn: &str, tags: Tags) -> SchemasResult<()> {
        TagRules::AWS.check_each(&tags).map_err(tag_error)?;
        self.change_tags(arn, |existing| TagRules::AWS.merged(existing, &tags).map_err(tag_error)).await
    }

    pub async fn untag_resource(&self, arn: &str, keys: &[String]) -> SchemasResult<()> {
        self.change_tags(arn, |existing| Ok(crate::tags::without(existing, keys))).await
    }

    async fn change_tags(&self, arn: &str, change: impl FnOnce(&Tags) -> SchemasResult<Tags>) -> SchemasResult<()> {
        let target = Tagged::parse(arn)?;
        let mut batch = self.store.batch();
        {
            let _w = self.write.lock();
            let tags = change(&self.tags_of(&target)?)?;
            self.set_tags(&target, tags, &mut batch);
        }
        self.commit(batch).await
    }

    fn tags_of(&self, target: &Tagged) -> SchemasResult<Tags> {
        let not_found = || SchemasError::NotFound(format!("Resource {} does not exist.", target.arn));
        let found = match target.kind {
            Kind::Registry => self.registries.read().get(&target.key).map(|r| r.tags.clone()),
            Kind::Schema => self.schemas.read().get(&target.key).map(|r| r.tags.clone()),
            Kind::Discoverer => self.discoverers.read().get(&target.key).map(|r| r.tags.clone()),
        };
        found.ok_or_else(not_found)
    }

    fn set_tags(&self, target: &Tagged, tags: Tags, batch: &mut eddy_store::WriteBatch) {
        match target.kind {
            Kind::Registry => {
                if let Some(r) = self.registries.write().get_mut(&target.key) {
                    r.tags = tags;
                    batch.put(&self.registries_part, target.key.clone(), records::to_json(r));
                }
            }
            Kind::Schema => {
                if let Some(r) = self.schemas.write().get_mut(&target.key) {
                    r.tags = tags;
                    batch.put(&self.schemas_part, target.key.clone(), records::to_json(r));
                }
            }
            Kind::Discoverer => {
                if let Some(r) = self.discoverers.write().get_mut(&target.key) {
                    r.tags = tags;
                    batch.put(&self.discoverers_part, target.key.clone(), records::to_json(r));
                }
            }
        }
    }
}

enum Kind {
    Registry,
    Schema,
    Discoverer,
}

/// A taggable resource an ARN names, and its record's key.
struct Tagged {
    arn: String,
    kind: Kind,
    key: Vec<u8>,
}

impl Tagged {
    fn parse(arn: &str) -> SchemasResult<Tagged> {
        let invalid = || bad_request(format!("Resource ARN {arn} is not valid."));
        let parsed = crate::arn::Arn::parse(arn).map_err(|_| invalid())?;
        if parsed.service != "schemas" {
            return Err(invalid());
        }
        let (account, region) = (parsed.account, parsed.region);
        let (kind, key) = if let Some(name) = parsed.resource.strip_prefix("registry/") {
            (Kind::Registry, records::key(&[account, region, name]))
        } else if let Some(rest) = parsed.resource.strip_prefix("schema/") {
            let (registry, name) = rest.split_once('/').ok_or_else(invalid)?;
            (Kind::Schema, records::key(&[account, region, registry, name]))
        } else if let Some(id) = parsed.resource.strip_prefix("discoverer/") {
            (Kind::Discoverer, records::key(&[account, region, id]))
        } else {
            return Err(invalid());
        };
        Ok(Tagged { arn: arn.to_string(), kind, key })
    }
}
