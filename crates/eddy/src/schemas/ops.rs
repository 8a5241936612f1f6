//! Each Schemas operation: its typed input from the path, query and body,
//! the core call, and its output members.

use serde_json::{json, Map, Value};

use eddy_core::clock::{iso8601_ms, Millis};
use eddy_core::schemas::{
    self as core, Discoverer, Registry, SchemaInput, SchemaRecord, SchemaUpdate, SchemasError, SchemasResult, Scope,
    VersionRecord,
};
use eddy_core::tags::Tags;
use eddy_wire::schemas::{self as wire};

use super::{Op, Request};
use crate::request::RequestCtx;
use crate::server::AppState;

type Output = SchemasResult<Option<Value>>;

pub async fn dispatch(state: &AppState, ctx: &RequestCtx, op: Op, req: &Request<'_>) -> Output {
    match op {
        Op::CreateRegistry
        | Op::DescribeRegistry
        | Op::UpdateRegistry
        | Op::DeleteRegistry
        | Op::ListRegistries
        | Op::PutResourcePolicy
        | Op::GetResourcePolicy
        | Op::DeleteResourcePolicy => registries(state, ctx, op, req).await,
        Op::CreateDiscoverer
        | Op::DescribeDiscoverer
        | Op::UpdateDiscoverer
        | Op::DeleteDiscoverer
        | Op::ListDiscoverers
        | Op::StartDiscoverer
        | Op::StopDiscoverer
        | Op::GetDiscoveredSchema => discoverers(state, ctx, op, req).await,
        Op::TagResource | Op::UntagResource | Op::ListTagsForResource => tags(state, op, req).await,
        _ => schemas(state, ctx, op, req).await,
    }
}

async fn registries(state: &AppState, ctx: &RequestCtx, op: Op, req: &Request<'_>) -> Output {
    let s = &state.schemas;
    let caller = &ctx.caller;
    let registry = req.query("registryName");
    match op {
        Op::CreateRegistry => {
            let body: wire::RegistryBody = decode(req)?;
            let r = s.create_registry(caller, path(req, "RegistryName")?, body.description, tag_map(body.tags)).await?;
            Ok(Some(registry_output(&r, true)))
        }
        Op::DescribeRegistry => {
            Ok(Some(registry_output(&s.describe_registry(caller, path(req, "RegistryName")?)?, true)))
        }
        Op::UpdateRegistry => {
            let body: wire::RegistryBody = decode(req)?;
            let r = s.update_registry(caller, path(req, "RegistryName")?, body.description).await?;
            Ok(Some(registry_output(&r, true)))
        }
        Op::DeleteRegistry => {
            s.delete_registry(caller, path(req, "RegistryName")?).await?;
            Ok(None)
        }
        Op::ListRegistries => {
            let scope = match req.query("scope") {
                None => None,
                Some("LOCAL") => Some(Scope::Local),
                Some("AWS") => Some(Scope::Aws),
                Some(other) => return Err(bad(format!("Scope {other} is not valid: use LOCAL or AWS."))),
            };
            let page =
                s.list_registries(caller, req.query("registryNamePrefix"), scope, req.query("nextToken"), limit(req)?)?;
            let items: Vec<Value> = page.items.iter().map(|r| registry_output(r, false)).collect();
            Ok(Some(with_token(json!({"Registries": items}), page.next_token)))
        }
        Op::PutResourcePolicy => {
            let body: wire::PolicyBody = decode(req)?;
            let policy = body.policy.ok_or_else(|| missing("Policy"))?;
            let (policy, revision) = s.put_policy(caller, registry, &policy, body.revision_id.as_deref()).await?;
            Ok(Some(json!({"Policy": policy, "RevisionId": revision})))
        }
        Op::GetResourcePolicy => {
            let (policy, revision) = s.get_policy(caller, registry)?;
            Ok(Some(json!({"Policy": policy, "RevisionId": revision})))
        }
        _ => {
            s.delete_policy(caller, registry).await?;
            Ok(None)
        }
    }
}

async fn schemas(state: &AppState, ctx: &RequestCtx, op: Op, req: &Request<'_>) -> Output {
    let s = &state.schemas;
    let caller = &ctx.caller;
    let registry = path(req, "RegistryName")?;
    let version = req.query("schemaVersion");
    match op {
        Op::CreateSchema => {
            let body: wire::SchemaBody = decode(req)?;
            let input = SchemaInput {
                registry: registry.to_string(),
                name: path(req, "SchemaName")?.to_string(),
                schema_type: body.schema_type.ok_or_else(|| missing("Type"))?,
                content: body.content.ok_or_else(|| missing("Content"))?,
                description: body.description,
                tags: tag_map(body.tags),
            };
            let r = s.create_schema(caller, input).await?;
            Ok(Some(schema_output(&r, r.latest(), false)))
        }
        Op::DescribeSchema => {
            let (r, v) = s.describe_schema(caller, registry, path(req, "SchemaName")?, version)?;
            Ok(Some(schema_output(&r, &v, true)))
        }
        Op::UpdateSchema => {
            let body: wire::SchemaBody = decode(req)?;
            if body.client_token_id.as_ref().is_some_and(|t| t.len() > 36) {
                return Err(bad("ClientTokenId must be at most 36 characters long."));
            }
            let update = SchemaUpdate {
                registry: registry.to_string(),
                name: path(req, "SchemaName")?.to_string(),
                schema_type: body.schema_type,
                content: body.content,
                description: body.description,
            };
            let r = s.update_schema(caller, update).await?;
            Ok(Some(schema_output(&r, r.latest(), false)))
        }
        Op::DeleteSchema => {
            s.delete_schema(caller, registry, path(req, "SchemaName")?).await?;
            Ok(None)
        }
        Op::DeleteSchemaVersion => {
            s.delete_schema_version(caller, registry, path(req, "SchemaName")?, path(req, "SchemaVersion")?).await?;
            Ok(None)
        }
        Op::ListSchemas => {
            let prefix = req.query("schemaNamePrefix");
            let page = s.list_schemas(caller, registry, prefix, req.query("nextToken"), limit(req)?)?;
            let items: Vec<Value> = page.items.iter().map(summary_output).collect();
            Ok(Some(with_token(json!({"Schemas": items}), page.next_token)))
        }
        Op::SearchSchemas => {
            let keywords = req.query("keywords").ok_or_else(|| missing("Keywords"))?;
            let page = s.search_schemas(caller, registry, keywords, req.query("nextToken"), limit(req)?)?;
            let items: Vec<Value> = page.items.iter().map(search_output).collect();
            Ok(Some(with_token(json!({"Schemas": items}), page.next_token)))
        }
        Op::ListSchemaVersions => {
            let name = path(req, "SchemaName")?;
            let page = s.list_schema_versions(caller, registry, name, req.query("nextToken"), limit(req)?)?;
            let arn = core::schema_arn(&caller.region, &caller.account, registry, name);
            let items: Vec<Value> = page
                .items
                .iter()
                .map(|v| json!({"SchemaArn": arn, "SchemaName": name, "SchemaVersion": v.version.to_string(), "Type": v.schema_type}))
                .collect();
            Ok(Some(with_token(json!({"SchemaVersions": items}), page.next_token)))
        }
        Op::ExportSchema => {
            let export_type = req.query("type").ok_or_else(|| missing("Type"))?;
            let (r, v, content) = s.export_schema(caller, registry, path(req, "SchemaName")?, version, export_type)?;
            Ok(Some(json!({
                "Content": content, "SchemaArn": arn_of(&r), "SchemaName": r.name,
                "SchemaVersion": v.version.to_string(), "Type": export_type,
            })))
        }
        Op::PutCodeBinding | Op::DescribeCodeBinding | Op::GetCodeBindingSource => {
            let language = path(req, "Language")?;
            Err(s.code_binding(caller, registry, path(req, "SchemaName")?, language, op == Op::PutCodeBinding))
        }
        _ => Err(SchemasError::Internal(format!("{op:?} is not a schema operation"))),
    }
}

async fn discoverers(state: &AppState, ctx: &RequestCtx, op: Op, req: &Request<'_>) -> Output {
    let s = &state.schemas;
    let caller = &ctx.caller;
    let id = || path(req, "DiscovererId");
    match op {
        Op::CreateDiscoverer => {
            let body: wire::DiscovererBody = decode(req)?;
            let source = body.source_arn.ok_or_else(|| missing("SourceArn"))?;
            let d =
                s.create_discoverer(caller, &source, body.description, body.cross_account, tag_map(body.tags)).await?;
            Ok(Some(discoverer_output(&d, true)))
        }
        Op::DescribeDiscoverer => Ok(Some(discoverer_output(&s.describe_discoverer(caller, id()?)?, true))),
        Op::UpdateDiscoverer => {
            let body: wire::DiscovererBody = decode(req)?;
            let d = s.update_discoverer(caller, id()?, body.description, body.cross_account).await?;
            Ok(Some(discoverer_output(&d, true)))
        }
        Op::DeleteDiscoverer => {
            s.delete_discoverer(caller, id()?).await?;
            Ok(None)
        }
        Op::ListDiscoverers => {
            let page = s.list_discoverers(
                caller,
                req.query("discovererIdPrefix"),
                req.query("sourceArnPrefix"),
                req.query("nextToken"),
                limit(req)?,
            )?;
            let items: Vec<Value> = page.items.iter().map(|d| discoverer_output(d, false)).collect();
            Ok(Some(with_token(json!({"Discoverers": items}), page.next_token)))
        }
        Op::StartDiscoverer | Op::StopDiscoverer => {
            let d = s.set_discoverer_state(caller, id()?, op == Op::StartDiscoverer).await?;
            Ok(Some(json!({"DiscovererId": d.id, "State": d.state})))
        }
        _ => {
            let body: wire::DiscoverBody = decode(req)?;
            let events = body.events.ok_or_else(|| missing("Events"))?;
            let schema_type = body.schema_type.ok_or_else(|| missing("Type"))?;
            Ok(Some(json!({"Content": s.get_discovered_schema(&events, &schema_type)?})))
        }
    }
}

async fn tags(state: &AppState, op: Op, req: &Request<'_>) -> Output {
    let s = &state.schemas;
    let arn = path(req, "ResourceArn")?;
    match op {
        Op::ListTagsForResource => Ok(Some(json!({"tags": s.list_tags(arn)?}))),
        Op::TagResource => {
            let body: wire::TagsBody = decode(req)?;
            s.tag_resource(arn, body.tags.ok_or_else(|| missing("Tags"))?).await?;
            Ok(None)
        }
        _ => {
            if req.query("tagKeys").is_none() {
                return Err(missing("TagKeys"));
            }
            s.untag_resource(arn, &req.query_all("tagKeys")).await?;
            Ok(None)
        }
    }
}

fn path<'a>(req: &'a Request<'_>, name: &str) -> SchemasResult<&'a str> {
    req.params.get(name).ok_or_else(|| missing(name))
}

fn bad(message: impl Into<String>) -> SchemasError {
    SchemasError::BadRequest(message.into())
}

fn missing(member: &str) -> SchemasError {
    bad(format!("{member} is a required parameter."))
}

fn decode<T: serde::de::DeserializeOwned>(req: &Request<'_>) -> SchemasResult<T> {
    wire::decode(req.body).map_err(|e| bad(format!("The request body is not valid: {e}")))
}

fn limit(req: &Request<'_>) -> SchemasResult<usize> {
    let parsed = match req.query("limit") {
        None => None,
        Some(text) => Some(text.parse::<i64>().map_err(|_| bad(format!("Limit {text} is not a number.")))?),
    };
    core::check_limit(parsed)
}

fn time(ms: Millis) -> Value {
    json!(iso8601_ms(ms))
}

fn with_token(mut out: Value, token: Option<String>) -> Value {
    if let Some(t) = token {
        out["NextToken"] = json!(t);
    }
    out
}

fn tag_map(tags: Option<wire::Tags>) -> Tags {
    tags.unwrap_or_default()
}

/// A registry; `full` for Describe/Create/Update (Description).
fn registry_output(r: &Registry, full: bool) -> Value {
    let mut out = json!({"RegistryArn": r.arn, "RegistryName": r.name, "tags": r.tags});
    if let (true, Some(d)) = (full, &r.description) {
        out["Description"] = json!(d);
    }
    out
}

fn arn_of(r: &SchemaRecord) -> String {
    core::schema_arn(&r.region, &r.account, &r.registry, &r.name)
}

/// A schema at a version; `content` for DescribeSchema.
fn schema_output(r: &SchemaRecord, v: &VersionRecord, content: bool) -> Value {
    let mut out = Map::new();
    out.insert("SchemaArn".into(), json!(arn_of(r)));
    out.insert("SchemaName".into(), json!(r.name));
    out.insert("SchemaVersion".into(), json!(v.version.to_string()));
    out.insert("Type".into(), json!(v.schema_type));
    out.insert("LastModified".into(), time(r.modified_ms));
    out.insert("VersionCreatedDate".into(), time(v.created_ms));
    out.insert("tags".into(), json!(r.tags));
    if let Some(d) = &r.description {
        out.insert("Description".into(), json!(d));
    }
    if content {
        out.insert("Content".into(), json!(v.content));
    }
    Value::Object(out)
}

fn summary_output(r: &SchemaRecord) -> Value {
    json!({
        "SchemaArn": arn_of(r), "SchemaName": r.name, "LastModified": time(r.modified_ms),
        "VersionCount": r.versions.len(), "tags": r.tags,
    })
}

fn search_output(r: &SchemaRecord) -> Value {
    let versions: Vec<Value> = r
        .versions
        .iter()
        .map(|v| json!({"SchemaVersion": v.version.to_string(), "Type": v.schema_type, "CreatedDate": time(v.created_ms)}))
        .collect();
    json!({"RegistryName": r.registry, "SchemaArn": arn_of(r), "SchemaName": r.name, "SchemaVersions": versions})
}

/// A discoverer; `full` adds Description (not in DiscovererSummary).
fn discoverer_output(d: &Discoverer, full: bool) -> Value {
    let mut out = json!({
        "DiscovererArn": core::discoverer_arn(&d.region, &d.account, &d.id), "DiscovererId": d.id,
        "SourceArn": d.source_arn, "State": d.state, "CrossAccount": d.cross_account, "tags": d.tags,
    });
    if let (true, Some(desc)) = (full, &d.description) {
        out["Description"] = json!(desc);
    }
    out
}
