//! Every EventBridge operation eddy serves: `dispatch` decodes the
//! operation's typed input ([`eddy_wire::events`]), and each function makes
//! one core call and shapes the output.

use serde_json::{json, Map, Value};

use std::sync::atomic::Ordering;
use std::sync::Arc;

use eddy_core::events::{
    Archive, ArchiveInput, Bus, BusUpdate, ConnectionInput, ConnectionRecord, DestinationInput, DestinationRecord,
    EntryResult, EventEntry, Events, Permission, ReplayInput, ReplayRecord, Rule, RuleInput,
};
use eddy_core::identity::Caller;
use eddy_wire::events::{self as w, decode, tag_map};

use super::errors::{self, EventsWireError};
use crate::request::RequestCtx;
use crate::server::AppState;

type Out = Result<Value, EventsWireError>;

/// Operations of the API that later work will serve (global endpoints,
/// partner event sources).
const NOT_YET: &[&str] = &[
    "CreateEndpoint",
    "DescribeEndpoint",
    "ListEndpoints",
    "UpdateEndpoint",
    "DeleteEndpoint",
    "ActivateEventSource",
    "DeactivateEventSource",
    "DescribeEventSource",
    "ListEventSources",
    "CreatePartnerEventSource",
    "DeletePartnerEventSource",
    "DescribePartnerEventSource",
    "ListPartnerEventSourceAccounts",
    "ListPartnerEventSources",
    "PutPartnerEvents",
];

pub async fn dispatch(state: &AppState, ctx: &RequestCtx, op: &str, input: Value) -> Out {
    let e = &*state.events;
    let c = &ctx.caller;
    match op {
        "CreateEventBus" => create_bus(e, c, decode(input)?).await,
        "DescribeEventBus" => describe_bus(e, c, decode(input)?),
        "ListEventBuses" => list_buses(e, c, decode(input)?),
        "UpdateEventBus" => update_bus(e, c, decode(input)?).await,
        "DeleteEventBus" => delete_bus(e, c, decode(input)?).await,
        "PutPermission" => put_permission(e, c, decode(input)?).await,
        "RemovePermission" => remove_permission(e, c, decode(input)?).await,
        "PutRule" => put_rule(e, c, decode(input)?).await,
        "DescribeRule" => describe_rule(e, c, decode(input)?),
        "ListRules" => list_rules(e, c, decode(input)?),
        "EnableRule" => set_state(e, c, decode(input)?, true).await,
        "DisableRule" => set_state(e, c, decode(input)?, false).await,
        "DeleteRule" => delete_rule(e, c, decode(input)?).await,
        "ListRuleNamesByTarget" => rule_names_by_target(e, c, decode(input)?),
        "PutTargets" => put_targets(e, c, decode(input)?).await,
        "RemoveTargets" => remove_targets(e, c, decode(input)?).await,
        "ListTargetsByRule" => list_targets(e, c, decode(input)?),
        "PutEvents" => put_events(e, ctx, decode(input)?).await,
        "TestEventPattern" => test_event_pattern(e, decode(input)?),
        "CreateArchive" => create_archive(e, c, decode(input)?).await,
        "DescribeArchive" => describe_archive(e, c, decode(input)?),
        "ListArchives" => list_archives(e, c, decode(input)?),
        "UpdateArchive" => update_archive(e, c, decode(input)?).await,
        "DeleteArchive" => delete_archive(e, c, decode(input)?).await,
        "StartReplay" => start_replay(&state.events, c, decode(input)?).await,
        "DescribeReplay" => describe_replay(e, c, decode(input)?),
        "ListReplays" => list_replays(e, c, decode(input)?),
        "CancelReplay" => cancel_replay(e, c, decode(input)?).await,
        "CreateConnection" => create_connection(&state.events, c, decode(input)?).await,
        "DescribeConnection" => describe_connection(e, c, decode(input)?),
        "ListConnections" => list_connections(e, c, decode(input)?),
        "UpdateConnection" => update_connection(&state.events, c, decode(input)?).await,
        "DeauthorizeConnection" => deauthorize_connection(e, c, decode(input)?).await,
        "DeleteConnection" => delete_connection(e, c, decode(input)?).await,
        "CreateApiDestination" => create_destination(e, c, decode(input)?).await,
        "DescribeApiDestination" => describe_destination(e, c, decode(input)?),
        "ListApiDestinations" => list_destinations(e, c, decode(input)?),
        "UpdateApiDestination" => update_destination(e, c, decode(input)?).await,
        "DeleteApiDestination" => delete_destination(e, c, decode(input)?).await,
        "TagResource" => tag_resource(e, decode(input)?).await,
        "UntagResource" => untag_resource(e, decode(input)?).await,
        "ListTagsForResource" => list_tags(e, decode(input)?),
        other if NOT_YET.contains(&other) => Err(errors::not_implemented(other)),
        other => Err(errors::unknown_operation(other)),
    }
}

fn secs(ms: u64) -> Value {
    json!(ms as f64 / 1000.0)
}

/// Adds `key: value` when there is a value.
fn put_opt(m: &mut Map<String, Value>, key: &str, value: Option<impl Into<Value>>) {
    if let Some(v) = value {
        m.insert(key.to_string(), v.into());
    }
}

fn bus_json(b: &Bus, full: bool) -> Value {
    let mut m = Map::new();
    m.insert("Name".into(), b.name.clone().into());
    m.insert("Arn".into(), b.arn.clone().into());
    put_opt(&mut m, "Description", b.description.clone());
    if full {
        put_opt(&mut m, "KmsKeyIdentifier", b.kms_key.clone());
        put_opt(&mut m, "DeadLetterConfig", b.dead_letter_arn.clone().map(|a| json!({"Arn": a})));
    }
    put_opt(&mut m, "Policy", b.policy.clone());
    put_opt(&mut m, "CreationTime", b.created_ms.map(secs));
    put_opt(&mut m, "LastModifiedTime", b.modified_ms.map(secs));
    Value::Object(m)
}

fn rule_json(r: &Rule, full: bool) -> Value {
    let rec = &r.record;
    let mut m = Map::new();
    m.insert("Name".into(), rec.name.clone().into());
    m.insert("Arn".into(), r.arn.clone().into());
    put_opt(&mut m, "EventPattern", rec.event_pattern.clone());
    put_opt(&mut m, "ScheduleExpression", rec.schedule.clone());
    m.insert("State".into(), rec.state.clone().into());
    put_opt(&mut m, "Description", rec.description.clone());
    put_opt(&mut m, "RoleArn", rec.role_arn.clone());
    m.insert("EventBusName".into(), rec.bus.clone().into());
    if full {
        m.insert("CreatedBy".into(), rec.account.clone().into());
    }
    Value::Object(m)
}

fn with_token(mut out: Value, token: Option<String>) -> Value {
    if let Some(t) = token {
        out["NextToken"] = t.into();
    }
    out
}

async fn create_bus(e: &Events, c: &Caller, i: w::CreateEventBus) -> Out {
    let update = BusUpdate {
        description: i.description,
        kms_key: i.kms_key_identifier,
        dead_letter_arn: i.dead_letter_config.and_then(|d| d.arn),
    };
    let arn = e.create_bus(c, &i.name, update.clone(), i.event_source_name.as_deref(), tag_map(i.tags)).await?;
    let mut out = json!({"EventBusArn": arn});
    let m = out.as_object_mut().expect("an object");
    put_opt(m, "Description", update.description);
    put_opt(m, "KmsKeyIdentifier", update.kms_key);
    put_opt(m, "DeadLetterConfig", update.dead_letter_arn.map(|a| json!({"Arn": a})));
    Ok(out)
}

fn describe_bus(e: &Events, c: &Caller, i: w::BusName) -> Out {
    Ok(bus_json(&e.describe_bus(c, i.name.as_deref())?, true))
}

fn list_buses(e: &Events, c: &Caller, i: w::ListEventBuses) -> Out {
    let page = e.list_buses(c, i.name_prefix.as_deref(), i.next_token.as_deref(), i.limit)?;
    let buses: Vec<Value> = page.items.iter().map(|b| bus_json(b, false)).collect();
    Ok(with_token(json!({"EventBuses": buses}), page.next_token))
}

async fn update_bus(e: &Events, c: &Caller, i: w::UpdateEventBus) -> Out {
    let update = BusUpdate {
        description: i.description,
        kms_key: i.kms_key_identifier,
        dead_letter_arn: i.dead_letter_config.map(|d| d.arn.unwrap_or_default()),
    };
    let bus = e.update_bus(c, i.name.as_deref(), update).await?;
    let mut out = bus_json(&bus, true);
    out.as_object_mut().expect("an object").remove("Policy");
    Ok(out)
}

async fn delete_bus(e: &Events, c: &Caller, i: w::BusName) -> Out {
    let name = i.name.ok_or_else(|| errors::serialization("Name is required"))?;
    e.delete_bus(c, &name).await?;
    Ok(json!({}))
}

async fn put_permission(e: &Events, c: &Caller, i: w::PutPermission) -> Out {
    let p = Permission {
        action: i.action,
        principal: i.principal,
        statement_id: i.statement_id,
        condition: i.condition.map(|c| (c.r#type, c.key, c.value)),
        policy: i.policy,
    };
    e.put_permission(c, i.event_bus_name.as_deref(), p).await?;
    Ok(json!({}))
}

async fn remove_permission(e: &Events, c: &Caller, i: w::RemovePermission) -> Out {
    let all = i.remove_all_permissions.unwrap_or(false);
    e.remove_permission(c, i.event_bus_name.as_deref(), i.statement_id.as_deref(), all).await?;
    Ok(json!({}))
}

async fn put_rule(e: &Events, c: &Caller, i: w::PutRule) -> Out {
    let input = RuleInput {
        name: i.name,
        bus: i.event_bus_name,
        event_pattern: i.event_pattern,
        schedule: i.schedule_expression,
        state: i.state,
        description: i.description,
        role_arn: i.role_arn,
        tags: tag_map(i.tags),
    };
    Ok(json!({"RuleArn": e.put_rule(c, input).await?}))
}

fn describe_rule(e: &Events, c: &Caller, i: w::RuleName) -> Out {
    Ok(rule_json(&*e.describe_rule(c, &i.name, i.event_bus_name.as_deref())?, true))
}

fn list_rules(e: &Events, c: &Caller, i: w::ListRules) -> Out {
    let page =
        e.list_rules(c, i.event_bus_name.as_deref(), i.name_prefix.as_deref(), i.next_token.as_deref(), i.limit)?;
    let rules: Vec<Value> = page.items.iter().map(|r| rule_json(r, false)).collect();
    Ok(with_token(json!({"Rules": rules}), page.next_token))
}

async fn set_state(e: &Events, c: &Caller, i: w::RuleName, enabled: bool) -> Out {
    e.set_rule_state(c, &i.name, i.event_bus_name.as_deref(), enabled).await?;
    Ok(json!({}))
}

async fn delete_rule(e: &Events, c: &Caller, i: w::RuleName) -> Out {
    e.delete_rule(c, &i.name, i.event_bus_name.as_deref(), i.force.unwrap_or(false)).await?;
    Ok(json!({}))
}

fn rule_names_by_target(e: &Events, c: &Caller, i: w::ListRuleNamesByTarget) -> Out {
    let page =
        e.list_rule_names_by_target(c, &i.target_arn, i.event_bus_name.as_deref(), i.next_token.as_deref(), i.limit)?;
    Ok(with_token(json!({"RuleNames": page.items}), page.next_token))
}

fn failures(list: Vec<eddy_core::events::TargetFailure>) -> Value {
    let entries: Vec<Value> =
        list.iter().map(|f| json!({"TargetId": f.id, "ErrorCode": f.code, "ErrorMessage": f.message})).collect();
    json!({"FailedEntryCount": entries.len(), "FailedEntries": entries})
}

async fn put_targets(e: &Events, c: &Caller, i: w::PutTargets) -> Out {
    Ok(failures(e.put_targets(c, &i.rule, i.event_bus_name.as_deref(), i.targets).await?))
}

async fn remove_targets(e: &Events, c: &Caller, i: w::RemoveTargets) -> Out {
    Ok(failures(e.remove_targets(c, &i.rule, i.event_bus_name.as_deref(), &i.ids).await?))
}

fn list_targets(e: &Events, c: &Caller, i: w::ListTargetsByRule) -> Out {
    let page = e.list_targets(c, &i.rule, i.event_bus_name.as_deref(), i.next_token.as_deref(), i.limit)?;
    Ok(with_token(json!({"Targets": page.items}), page.next_token))
}

async fn put_events(e: &Events, ctx: &RequestCtx, i: w::PutEvents) -> Out {
    let entries = i
        .entries
        .into_iter()
        .map(|en| EventEntry {
            source: en.source,
            detail_type: en.detail_type,
            detail: en.detail,
            resources: en.resources.unwrap_or_default(),
            time_ms: en.time.filter(|t| t.is_finite() && *t >= 0.0).map(|t| (t * 1000.0) as u64),
            bus: en.event_bus_name,
            // The entry's own header, else the request's X-Ray header.
            trace_header: en.trace_header.or_else(|| ctx.trace_header.clone()),
        })
        .collect();
    let results = e.put_events(&ctx.caller, entries).await?;
    let failed = results.iter().filter(|r| matches!(r, EntryResult::Failed { .. })).count();
    let entries: Vec<Value> = results
        .into_iter()
        .map(|r| match r {
            EntryResult::Accepted { event_id } => json!({"EventId": event_id}),
            EntryResult::Failed { code, message } => json!({"ErrorCode": code, "ErrorMessage": message}),
        })
        .collect();
    Ok(json!({"FailedEntryCount": failed, "Entries": entries}))
}

fn test_event_pattern(e: &Events, i: w::TestEventPattern) -> Out {
    Ok(json!({"Result": e.test_event_pattern(&i.event_pattern, &i.event)?}))
}

async fn tag_resource(e: &Events, i: w::TagResource) -> Out {
    e.tag_resource(&i.resource_arn, tag_map(Some(i.tags))).await?;
    Ok(json!({}))
}

async fn untag_resource(e: &Events, i: w::UntagResource) -> Out {
    e.untag_resource(&i.resource_arn, &i.tag_keys).await?;
    Ok(json!({}))
}

fn list_tags(e: &Events, i: w::ListTagsForResource) -> Out {
    let tags: Vec<Value> =
        e.list_tags(&i.resource_arn)?.into_iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect();
    Ok(json!({"Tags": tags}))
}

fn archive_json(a: &Archive, full: bool) -> Value {
    let r = &a.record;
    let mut m = Map::new();
    if full {
        m.insert("ArchiveArn".into(), a.arn.clone().into());
    }
    m.insert("ArchiveName".into(), r.name.clone().into());
    m.insert("EventSourceArn".into(), r.source_arn.clone().into());
    if full {
        put_opt(&mut m, "Description", r.description.clone());
        put_opt(&mut m, "EventPattern", r.event_pattern.clone());
        put_opt(&mut m, "KmsKeyIdentifier", r.kms_key.clone());
    }
    m.insert("State".into(), "ENABLED".into());
    m.insert("RetentionDays".into(), r.retention_days.into());
    m.insert("SizeBytes".into(), a.size_bytes.load(Ordering::Relaxed).into());
    m.insert("EventCount".into(), a.event_count.load(Ordering::Relaxed).into());
    m.insert("CreationTime".into(), secs(r.created_ms));
    Value::Object(m)
}

fn archive_input(i: w::CreateArchive) -> ArchiveInput {
    ArchiveInput {
        name: i.archive_name,
        source_arn: i.event_source_arn,
        description: i.description,
        event_pattern: i.event_pattern,
        retention_days: i.retention_days,
        kms_key: i.kms_key_identifier,
    }
}

async fn create_archive(e: &Events, c: &Caller, i: w::CreateArchive) -> Out {
    let a = e.create_archive(c, archive_input(i)).await?;
    Ok(json!({"ArchiveArn": a.arn, "State": "ENABLED", "CreationTime": secs(a.record.created_ms)}))
}

fn describe_archive(e: &Events, c: &Caller, i: w::ArchiveName) -> Out {
    Ok(archive_json(&*e.describe_archive(c, &i.archive_name)?, true))
}

fn list_archives(e: &Events, c: &Caller, i: w::ListArchives) -> Out {
    let page = e.list_archives(
        c,
        i.name_prefix.as_deref(),
        i.event_source_arn.as_deref(),
        i.state.as_deref(),
        i.next_token.as_deref(),
        i.limit,
    )?;
    let archives: Vec<Value> = page.items.iter().map(|a| archive_json(a, false)).collect();
    Ok(with_token(json!({"Archives": archives}), page.next_token))
}

async fn update_archive(e: &Events, c: &Caller, i: w::UpdateArchive) -> Out {
    let input = ArchiveInput {
        name: i.archive_name,
        source_arn: None,
        description: i.description,
        event_pattern: i.event_pattern,
        retention_days: i.retention_days,
        kms_key: i.kms_key_identifier,
    };
    let a = e.update_archive(c, input).await?;
    Ok(json!({"ArchiveArn": a.arn, "State": "ENABLED", "CreationTime": secs(a.record.created_ms)}))
}

async fn delete_archive(e: &Events, c: &Caller, i: w::ArchiveName) -> Out {
    e.delete_archive(c, &i.archive_name).await?;
    Ok(json!({}))
}

fn epoch_ms(secs: f64) -> u64 {
    if secs.is_finite() && secs > 0.0 {
        (secs * 1000.0) as u64
    } else {
        0
    }
}

fn replay_json(r: &ReplayRecord, full: bool) -> Value {
    let mut m = Map::new();
    m.insert("ReplayName".into(), r.name.clone().into());
    if full {
        m.insert("ReplayArn".into(), r.arn().into());
        put_opt(&mut m, "Description", r.description.clone());
        let mut dest = json!({"Arn": r.destination});
        if !r.filter_arns.is_empty() {
            dest["FilterArns"] = json!(r.filter_arns);
        }
        m.insert("Destination".into(), dest);
    }
    m.insert("EventSourceArn".into(), r.archive_arn.clone().into());
    m.insert("State".into(), r.state.clone().into());
    put_opt(&mut m, "StateReason", r.state_reason.clone());
    m.insert("EventStartTime".into(), secs(r.start_ms));
    m.insert("EventEndTime".into(), secs(r.end_ms));
    put_opt(&mut m, "EventLastReplayedTime", r.last_replayed_ms.map(secs));
    m.insert("ReplayStartTime".into(), secs(r.replay_start_ms));
    put_opt(&mut m, "ReplayEndTime", r.replay_end_ms.map(secs));
    Value::Object(m)
}

async fn start_replay(e: &Arc<Events>, c: &Caller, i: w::StartReplay) -> Out {
    let input = ReplayInput {
        name: i.replay_name,
        description: i.description,
        archive_arn: i.event_source_arn,
        start_ms: epoch_ms(i.event_start_time),
        end_ms: epoch_ms(i.event_end_time),
        destination: i.destination.arn,
        filter_arns: i.destination.filter_arns.unwrap_or_default(),
    };
    let r = e.start_replay(c, input).await?;
    Ok(json!({"ReplayArn": r.arn(), "State": r.state, "ReplayStartTime": secs(r.replay_start_ms)}))
}

fn describe_replay(e: &Events, c: &Caller, i: w::ReplayName) -> Out {
    Ok(replay_json(&e.describe_replay(c, &i.replay_name)?, true))
}

fn list_replays(e: &Events, c: &Caller, i: w::ListReplays) -> Out {
    let page = e.list_replays(
        c,
        i.name_prefix.as_deref(),
        i.state.as_deref(),
        i.event_source_arn.as_deref(),
        i.next_token.as_deref(),
        i.limit,
    )?;
    let replays: Vec<Value> = page.items.iter().map(|r| replay_json(r, false)).collect();
    Ok(with_token(json!({"Replays": replays}), page.next_token))
}

async fn cancel_replay(e: &Events, c: &Caller, i: w::ReplayName) -> Out {
    let r = e.cancel_replay(c, &i.replay_name).await?;
    Ok(json!({"ReplayArn": r.arn(), "State": r.state}))
}

/// A connection's state fields, as every connection operation answers them.
fn connection_state(r: &ConnectionRecord) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("ConnectionArn".into(), r.arn.clone().into());
    m.insert("ConnectionState".into(), r.state.clone().into());
    m.insert("CreationTime".into(), secs(r.created_ms));
    m.insert("LastModifiedTime".into(), secs(r.modified_ms));
    put_opt(&mut m, "LastAuthorizedTime", r.authorized_ms.map(secs));
    m
}

fn connection_json(r: &ConnectionRecord, full: bool) -> Value {
    let mut m = connection_state(r);
    m.insert("Name".into(), r.name.clone().into());
    m.insert("AuthorizationType".into(), r.authorization_type.clone().into());
    if full {
        put_opt(&mut m, "Description", r.description.clone());
        m.insert("SecretArn".into(), r.secret_arn.clone().into());
        m.insert("AuthParameters".into(), r.public_auth());
    }
    Value::Object(m)
}

fn connection_input(i: w::Connection) -> ConnectionInput {
    ConnectionInput {
        name: i.name,
        description: i.description,
        authorization_type: i.authorization_type,
        auth: i.auth_parameters,
    }
}

async fn create_connection(e: &Arc<Events>, c: &Caller, i: w::Connection) -> Out {
    let r = e.create_connection(c, connection_input(i)).await?;
    e.authorize_soon(c, &r.name);
    let mut m = connection_state(&r);
    m.remove("LastAuthorizedTime");
    Ok(Value::Object(m))
}

fn describe_connection(e: &Events, c: &Caller, i: w::Named) -> Out {
    Ok(connection_json(&e.describe_connection(c, &i.name)?, true))
}

fn list_connections(e: &Events, c: &Caller, i: w::ListConnections) -> Out {
    let page = e.list_connections(
        c,
        i.name_prefix.as_deref(),
        i.connection_state.as_deref(),
        i.next_token.as_deref(),
        i.limit,
    )?;
    let items: Vec<Value> = page.items.iter().map(|r| connection_json(r, false)).collect();
    Ok(with_token(json!({"Connections": items}), page.next_token))
}

async fn update_connection(e: &Arc<Events>, c: &Caller, i: w::Connection) -> Out {
    let r = e.update_connection(c, connection_input(i)).await?;
    e.authorize_soon(c, &r.name);
    Ok(Value::Object(connection_state(&r)))
}

async fn deauthorize_connection(e: &Events, c: &Caller, i: w::Named) -> Out {
    Ok(Value::Object(connection_state(&e.deauthorize_connection(c, &i.name).await?)))
}

async fn delete_connection(e: &Events, c: &Caller, i: w::Named) -> Out {
    Ok(Value::Object(connection_state(&e.delete_connection(c, &i.name).await?)))
}

fn destination_json(e: &Events, r: &DestinationRecord, full: bool) -> Value {
    let mut m = Map::new();
    m.insert("ApiDestinationArn".into(), r.arn.clone().into());
    m.insert("Name".into(), r.name.clone().into());
    if full {
        put_opt(&mut m, "Description", r.description.clone());
    }
    m.insert("ApiDestinationState".into(), e.destination_state(r).into());
    m.insert("ConnectionArn".into(), r.connection_arn.clone().into());
    m.insert("InvocationEndpoint".into(), r.endpoint.clone().into());
    m.insert("HttpMethod".into(), r.method.clone().into());
    m.insert("InvocationRateLimitPerSecond".into(), r.rate_per_second.into());
    m.insert("CreationTime".into(), secs(r.created_ms));
    m.insert("LastModifiedTime".into(), secs(r.modified_ms));
    Value::Object(m)
}

fn destination_state(e: &Events, r: &DestinationRecord) -> Value {
    json!({
        "ApiDestinationArn": r.arn,
        "ApiDestinationState": e.destination_state(r),
        "CreationTime": secs(r.created_ms),
        "LastModifiedTime": secs(r.modified_ms),
    })
}

fn destination_input(i: w::ApiDestination) -> DestinationInput {
    DestinationInput {
        name: i.name,
        description: i.description,
        connection_arn: i.connection_arn,
        endpoint: i.invocation_endpoint,
        method: i.http_method,
        rate_per_second: i.invocation_rate_limit_per_second,
    }
}

async fn create_destination(e: &Events, c: &Caller, i: w::ApiDestination) -> Out {
    if i.connection_arn.is_none() || i.invocation_endpoint.is_none() || i.http_method.is_none() {
        return Err(errors::serialization("ConnectionArn, InvocationEndpoint and HttpMethod are required"));
    }
    Ok(destination_state(e, &e.create_destination(c, destination_input(i)).await?))
}

fn describe_destination(e: &Events, c: &Caller, i: w::Named) -> Out {
    Ok(destination_json(e, &e.describe_destination(c, &i.name)?, true))
}

fn list_destinations(e: &Events, c: &Caller, i: w::ListApiDestinations) -> Out {
    let page = e.list_destinations(
        c,
        i.name_prefix.as_deref(),
        i.connection_arn.as_deref(),
        i.next_token.as_deref(),
        i.limit,
    )?;
    let items: Vec<Value> = page.items.iter().map(|r| destination_json(e, r, false)).collect();
    Ok(with_token(json!({"ApiDestinations": items}), page.next_token))
}

async fn update_destination(e: &Events, c: &Caller, i: w::ApiDestination) -> Out {
    Ok(destination_state(e, &e.update_destination(c, destination_input(i)).await?))
}

async fn delete_destination(e: &Events, c: &Caller, i: w::Named) -> Out {
    e.delete_destination(c, &i.name).await?;
    Ok(json!({}))
}
