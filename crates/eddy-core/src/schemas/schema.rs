//! Schemas and their versions: content checked as JSON and as its declared
//! type's structure; a new version ("1", "2", …) only when the content or
//! type changes; listing, search by name and export to JSON Schema.

use serde_json::Value;

use super::error::{bad_request, SchemasResult};
use super::records::{self, SchemaRecord, VersionRecord};
use super::registry::{check_description, registry_not_found};
use super::{infer, scoped, tag_error, Schemas, SchemasError, JSON_SCHEMA_DRAFT4, OPENAPI3};
use crate::identity::Caller;
use crate::page::{Page, PageRequest};
use crate::tags::{TagRules, Tags};

/// The model's bound on `Content`.
pub const MAX_CONTENT_CHARS: usize = 100_000;
/// AWS's bound on schema names.
pub const MAX_NAME_CHARS: usize = 385;

pub struct SchemaInput {
    pub registry: String,
    pub name: String,
    pub schema_type: String,
    pub content: String,
    pub description: Option<String>,
    pub tags: Tags,
}

pub struct SchemaUpdate {
    pub registry: String,
    pub name: String,
    pub schema_type: Option<String>,
    pub content: Option<String>,
    pub description: Option<String>,
}

pub(crate) fn schema_not_found(name: &str) -> SchemasError {
    SchemasError::NotFound(format!("Schema {name} does not exist."))
}

fn check_schema_name(name: &str) -> SchemasResult<()> {
    let valid = (1..=MAX_NAME_CHARS).contains(&name.chars().count())
        && name.chars().all(|c| c.is_alphanumeric() || ".-_@".contains(c));
    if valid {
        Ok(())
    } else {
        Err(bad_request(format!(
            "Schema name {name} is not valid: use 1 to {MAX_NAME_CHARS} letters, digits, '.', '-', '_' and '@'."
        )))
    }
}

/// Content that is JSON of the declared type's basic structure: an
/// OpenAPI 3 document (`openapi` 3.x, object `components.schemas` if
/// given) or a JSON Schema draft 4 (an object whose `type`, `properties`
/// and `$schema` have their kinds).
pub fn check_content(schema_type: &str, content: &str) -> SchemasResult<()> {
    if content.is_empty() || content.chars().count() > MAX_CONTENT_CHARS {
        return Err(bad_request(format!("Content must be 1 to {MAX_CONTENT_CHARS} characters long.")));
    }
    let doc: Value =
        serde_json::from_str(content).map_err(|e| bad_request(format!("Content is not valid JSON: {e}")))?;
    let Value::Object(fields) = &doc else {
        return Err(bad_request("Content must be a JSON object."));
    };
    match schema_type {
        OPENAPI3 => {
            let version = fields.get("openapi").and_then(Value::as_str).unwrap_or_default();
            if !version.starts_with("3.") {
                return Err(bad_request("Content is not an OpenAPI 3 document: its openapi member must be 3.x."));
            }
            let components = fields.get("components");
            if components.is_some_and(|c| !c.is_object())
                || doc.pointer("/components/schemas").is_some_and(|s| !s.is_object())
            {
                return Err(bad_request("Content is not an OpenAPI 3 document: components.schemas must be an object."));
            }
        }
        JSON_SCHEMA_DRAFT4 => {
            let kind_ok = |k: &str, ok: fn(&Value) -> bool| fields.get(k).is_none_or(ok);
            if !kind_ok("type", |t| t.is_string() || t.is_array())
                || !kind_ok("properties", Value::is_object)
                || !kind_ok("$schema", Value::is_string)
            {
                return Err(bad_request("Content is not a JSON Schema draft 4 document."));
            }
        }
        other => return Err(bad_type(other)),
    }
    Ok(())
}

fn bad_type(other: &str) -> SchemasError {
    bad_request(format!("Type {other} is not valid: use {OPENAPI3} or {JSON_SCHEMA_DRAFT4}."))
}

fn parse_version(text: &str) -> SchemasResult<u64> {
    text.parse::<u64>().map_err(|_| SchemasError::NotFound(format!("Schema version {text} does not exist.")))
}

impl Schemas {
    fn schema_key(caller: &Caller, registry: &str, name: &str) -> Vec<u8> {
        records::key(&[&caller.account, &caller.region, registry, name])
    }

    /// A schema of a registry that exists.
    fn schema(&self, caller: &Caller, registry: &str, name: &str) -> SchemasResult<SchemaRecord> {
        if !self.registry_exists(&caller.account, &caller.region, registry) {
            return Err(registry_not_found(registry));
        }
        self.schemas
            .read()
            .get(&Self::schema_key(caller, registry, name))
            .cloned()
            .ok_or_else(|| schema_not_found(name))
    }

    pub async fn create_schema(&self, caller: &Caller, input: SchemaInput) -> SchemasResult<SchemaRecord> {
        check_schema_name(&input.name)?;
        check_description(input.description.as_deref())?;
        check_content(&input.schema_type, &input.content)?;
        TagRules::AWS.check(&input.tags).map_err(tag_error)?;
        self.writable_registry(caller, &input.registry)?;
        let key = Self::schema_key(caller, &input.registry, &input.name);
        let record = {
            let _w = self.write.lock();
            if self.schemas.read().contains_key(&key) {
                return Err(SchemasError::Conflict(format!("Schema {} already exists.", input.name)));
            }
            let now = self.now_ms();
            let record = SchemaRecord {
                account: caller.account.clone(),
                region: caller.region.clone(),
                registry: input.registry,
                name: input.name,
                description: input.description,
                tags: input.tags,
                modified_ms: now,
                versions: vec![VersionRecord {
                    version: 1,
                    schema_type: input.schema_type,
                    content: input.content,
                    created_ms: now,
                }],
                last_version: 1,
            };
            self.schemas.write().insert(key.clone(), record.clone());
            record
        };
        let mut batch = self.store.batch();
        batch.put(&self.schemas_part, key, records::to_json(&record));
        self.commit(batch).await?;
        tracing::info!(registry = %record.registry, schema = %record.name, "Schemas: schema created");
        Ok(record)
    }

    /// The schema and the version asked for (the latest if none).
    pub fn describe_schema(
        &self,
        caller: &Caller,
        registry: &str,
        name: &str,
        version: Option<&str>,
    ) -> SchemasResult<(SchemaRecord, VersionRecord)> {
        let record = self.schema(caller, registry, name)?;
        let chosen = match version {
            None => record.latest().clone(),
            Some(text) => {
                let wanted = parse_version(text)?;
                record
                    .versions
                    .iter()
                    .find(|v| v.version == wanted)
                    .cloned()
                    .ok_or_else(|| SchemasError::NotFound(format!("Schema version {text} does not exist.")))?
            }
        };
        Ok((record, chosen))
    }

    pub async fn update_schema(&self, caller: &Caller, update: SchemaUpdate) -> SchemasResult<SchemaRecord> {
        check_description(update.description.as_deref())?;
        self.writable_registry(caller, &update.registry)?;
        let key = Self::schema_key(caller, &update.registry, &update.name);
        let record = {
            let _w = self.write.lock();
            let mut record = self.schema(caller, &update.registry, &update.name)?;
            let latest = record.latest().clone();
            let schema_type = update.schema_type.unwrap_or_else(|| latest.schema_type.clone());
            let content = update.content.unwrap_or_else(|| latest.content.clone());
            if schema_type != latest.schema_type || content != latest.content {
                check_content(&schema_type, &content)?;
                record.last_version += 1;
                let version =
                    VersionRecord { version: record.last_version, schema_type, content, created_ms: self.now_ms() };
                record.versions.push(version);
            }
            if update.description.is_some() {
                record.description = update.description;
            }
            record.modified_ms = self.now_ms();
            self.schemas.write().insert(key.clone(), record.clone());
            record
        };
        let mut batch = self.store.batch();
        batch.put(&self.schemas_part, key, records::to_json(&record));
        self.commit(batch).await?;
        Ok(record)
    }

    pub async fn delete_schema(&self, caller: &Caller, registry: &str, name: &str) -> SchemasResult<()> {
        self.writable_registry(caller, registry)?;
        let key = Self::schema_key(caller, registry, name);
        {
            let _w = self.write.lock();
            if self.schemas.write().remove(&key).is_none() {
                return Err(schema_not_found(name));
            }
        }
        let mut batch = self.store.batch();
        batch.delete(&self.schemas_part, key);
        self.commit(batch).await
    }

    /// Deletes one version; a schema's only version goes with DeleteSchema.
    pub async fn delete_schema_version(
        &self,
        caller: &Caller,
        registry: &str,
        name: &str,
        version: &str,
    ) -> SchemasResult<()> {
        self.writable_registry(caller, registry)?;
        let wanted = parse_version(version)?;
        let key = Self::schema_key(caller, registry, name);
        let record = {
            let _w = self.write.lock();
            let mut record = self.schema(caller, registry, name)?;
            let Some(at) = record.versions.iter().position(|v| v.version == wanted) else {
                return Err(SchemasError::NotFound(format!("Schema version {version} does not exist.")));
            };
            if record.versions.len() == 1 {
                return Err(bad_request(format!(
                    "Version {version} is the only version of schema {name}: delete the schema instead."
                )));
            }
            record.versions.remove(at);
            self.schemas.write().insert(key.clone(), record.clone());
            record
        };
        let mut batch = self.store.batch();
        batch.put(&self.schemas_part, key, records::to_json(&record));
        self.commit(batch).await
    }

    /// The registry's schemas in name order, those whose names pass `keep`.
    fn schemas_of(
        &self,
        caller: &Caller,
        registry: &str,
        keep: impl Fn(&str) -> bool,
    ) -> SchemasResult<Vec<SchemaRecord>> {
        if !self.registry_exists(&caller.account, &caller.region, registry) {
            return Err(registry_not_found(registry));
        }
        let prefix = records::key(&[&caller.account, &caller.region, registry, ""]);
        let schemas = self.schemas.read();
        Ok(scoped(&schemas, &prefix).map(|(_, r)| r).filter(|r| keep(&r.name)).cloned().collect())
    }

    pub fn list_schemas(
        &self,
        caller: &Caller,
        registry: &str,
        prefix: Option<&str>,
        token: Option<&str>,
        limit: usize,
    ) -> SchemasResult<Page<SchemaRecord>> {
        let all = self.schemas_of(caller, registry, |n| prefix.is_none_or(|p| n.starts_with(p)))?;
        let listing = format!("schemas-schemas/{}/{}/{registry}", caller.account, caller.region);
        self.page(all, &listing, token, limit)
    }

    /// Schemas whose names contain `keywords`, ignoring case, as AWS's
    /// search matches them.
    pub fn search_schemas(
        &self,
        caller: &Caller,
        registry: &str,
        keywords: &str,
        token: Option<&str>,
        limit: usize,
    ) -> SchemasResult<Page<SchemaRecord>> {
        let wanted = keywords.trim().to_lowercase();
        if wanted.is_empty() {
            return Err(bad_request("Keywords must not be empty."));
        }
        let all = self.schemas_of(caller, registry, |n| n.to_lowercase().contains(&wanted))?;
        let listing = format!("schemas-search/{}/{}/{registry}/{wanted}", caller.account, caller.region);
        self.page(all, &listing, token, limit)
    }

    pub fn list_schema_versions(
        &self,
        caller: &Caller,
        registry: &str,
        name: &str,
        token: Option<&str>,
        limit: usize,
    ) -> SchemasResult<Page<VersionRecord>> {
        let record = self.schema(caller, registry, name)?;
        let listing = format!("schemas-versions/{}/{}/{registry}/{name}", caller.account, caller.region);
        let req = PageRequest::new(&listing, token, limit, self.now_ms());
        // Keyed on zero-padded numbers, so the token's order is the versions'.
        let keyed: Vec<(String, VersionRecord)> =
            record.versions.into_iter().map(|v| (format!("{:020}", v.version), v)).collect();
        let page = self.tokens.page(keyed, |(k, _)| k.as_str(), &req).map_err(|_| bad_token())?;
        Ok(Page { items: page.items.into_iter().map(|(_, v)| v).collect(), next_token: page.next_token })
    }

    fn page(
        &self,
        all: Vec<SchemaRecord>,
        listing: &str,
        token: Option<&str>,
        limit: usize,
    ) -> SchemasResult<Page<SchemaRecord>> {
        let req = PageRequest::new(listing, token, limit, self.now_ms());
        self.tokens.page(all, |r| r.name.as_str(), &req).map_err(|_| bad_token())
    }

    /// ExportSchema: the version as JSON Schema draft 4 (the only export type).
    pub fn export_schema(
        &self,
        caller: &Caller,
        registry: &str,
        name: &str,
        version: Option<&str>,
        export_type: &str,
    ) -> SchemasResult<(SchemaRecord, VersionRecord, String)> {
        if export_type != JSON_SCHEMA_DRAFT4 {
            return Err(bad_request(format!(
                "Type {export_type} is not valid: schemas export as {JSON_SCHEMA_DRAFT4}."
            )));
        }
        let (record, version) = self.describe_schema(caller, registry, name, version)?;
        let content = if version.schema_type == JSON_SCHEMA_DRAFT4 {
            version.content.clone()
        } else {
            let doc: Value = serde_json::from_str(&version.content)
                .map_err(|_| SchemasError::Internal("a stored schema is not JSON".into()))?;
            infer::to_draft4(&doc).map_err(bad_request)?.to_string()
        };
        Ok((record, version, content))
    }

    /// Code bindings: eddy generates none, so every binding is one never
    /// created (NotFoundException, as AWS answers for those); PutCodeBinding
    /// says so rather than pretend a generation started.
    pub fn code_binding(&self, caller: &Caller, registry: &str, name: &str, language: &str, put: bool) -> SchemasError {
        if let Err(e) = self.schema(caller, registry, name) {
            return e;
        }
        if put {
            tracing::warn!(schema = %name, language, "Schemas: PutCodeBinding refused: eddy does not generate code bindings");
            return bad_request(format!(
                "eddy does not generate code bindings; no {language} binding was created for {name}."
            ));
        }
        SchemasError::NotFound(format!("Code binding for schema {name} in {language} does not exist."))
    }
}

fn bad_token() -> SchemasError {
    bad_request("The NextToken is not valid.")
}
