//! Every Kinesis operation except SubscribeToShard (see `subscribe`):
//! `dispatch` names the function of each; each reads its input with the
//! model's checks, makes one core call and shapes the output. Paging and
//! the service's own rules live in core.

use serde_json::{json, Map, Value};

use eddy_core::kinesis::{
    self as core, Checks, ConsumerRef, CreateStream, IteratorType, Kinesis, PutEntry, PutOutcome, ShardFilter,
    ShardMeta, StreamMeta, StreamRef,
};
use eddy_core::sqs::Caller;

use super::errors::{serialization, KinesisWireError};
use super::input::{self, epoch_seconds, stream_ref, In};
use crate::request::RequestCtx;
use crate::server::AppState;

const STREAM_MODES: [&str; 2] = ["PROVISIONED", "ON_DEMAND"];

/// One request: the service, who calls, the decoded input and the stream
/// it names (if any).
struct Req<'a> {
    k: &'a Kinesis,
    caller: &'a Caller,
    input: &'a Value,
    stream: StreamRef,
}

pub async fn dispatch(state: &AppState, ctx: &RequestCtx, op: &str, input: Value) -> In<Value> {
    let stream = stream_ref(&input)?;
    check_common(&input)?;
    let r = Req { k: &state.kinesis, caller: &ctx.caller, input: &input, stream };
    match op {
        "CreateStream" => create_stream(&r).await,
        "DeleteStream" => delete_stream(&r).await,
        "DescribeStream" => describe_stream(&r),
        "DescribeStreamSummary" => describe_stream_summary(&r),
        "ListStreams" => list_streams(&r),
        "ListShards" => list_shards(&r),
        "UpdateShardCount" => update_shard_count(&r).await,
        "SplitShard" => split_shard(&r).await,
        "MergeShards" => merge_shards(&r).await,
        "UpdateStreamMode" => update_stream_mode(&r).await,
        "IncreaseStreamRetentionPeriod" => change_retention(&r, true).await,
        "DecreaseStreamRetentionPeriod" => change_retention(&r, false).await,
        "StartStreamEncryption" => set_encryption(&r, true).await,
        "StopStreamEncryption" => set_encryption(&r, false).await,
        "EnableEnhancedMonitoring" => set_monitoring(&r, true).await,
        "DisableEnhancedMonitoring" => set_monitoring(&r, false).await,
        "AddTagsToStream" => add_tags_to_stream(&r).await,
        "RemoveTagsFromStream" => remove_tags_from_stream(&r).await,
        "ListTagsForStream" => list_tags_for_stream(&r),
        "TagResource" => tag_resource(&r).await,
        "UntagResource" => untag_resource(&r).await,
        "ListTagsForResource" => {
            Ok(json!({"Tags": tag_list(r.k.resource_tags(r.caller, required(r.input, "ResourceARN")?)?)}))
        }
        "PutRecord" => put_record(&r).await,
        "PutRecords" => put_records(&r).await,
        "GetShardIterator" => get_shard_iterator(&r),
        "GetRecords" => get_records(&r),
        "RegisterStreamConsumer" => register_stream_consumer(&r).await,
        "DeregisterStreamConsumer" => {
            r.k.deregister_consumer(r.caller, &consumer_ref(r.input)?).await?;
            Ok(json!({}))
        }
        "DescribeStreamConsumer" => {
            let c = r.k.describe_consumer(r.caller, &consumer_ref(r.input)?)?;
            Ok(json!({"ConsumerDescription": consumer_json(&c, true)}))
        }
        "ListStreamConsumers" => list_stream_consumers(&r),
        "DescribeLimits" => Ok(describe_limits(&r)),
        "DescribeAccountSettings" => {
            Ok(json!({"MinimumThroughputBillingCommitment": commitment(&r.k.account_settings(r.caller)?)}))
        }
        "UpdateAccountSettings" => update_account_settings(&r).await,
        "UpdateMaxRecordSize" => update_max_record_size(&r).await,
        "PutResourcePolicy" => {
            let policy = required(r.input, "Policy")?;
            r.k.set_policy(r.caller, required(r.input, "ResourceARN")?, Some(policy.to_string())).await?;
            Ok(json!({}))
        }
        "GetResourcePolicy" => Ok(json!({"Policy": r.k.policy(r.caller, required(r.input, "ResourceARN")?)?})),
        "DeleteResourcePolicy" => {
            r.k.set_policy(r.caller, required(r.input, "ResourceARN")?, None).await?;
            Ok(json!({}))
        }
        other => Err(super::errors::unknown_operation(other)),
    }
}

async fn create_stream(r: &Req<'_>) -> In<Value> {
    let name = required(r.input, "StreamName")?;
    let mut c = Checks::default();
    let shards = input::int(r.input, "ShardCount")?;
    c.range(shards, "shardCount", 1, 100_000);
    let mode = mode(r.input)?;
    let max_kib = input::int(r.input, "MaxRecordSizeInKiB")?;
    c.range(max_kib, "maxRecordSizeInKiB", 1024, 10240);
    let warm = warm_throughput(r.input, &mut c)?;
    let tags = input::tags(r.input, "Tags")?.unwrap_or_default();
    c.done()?;
    let create = CreateStream {
        name: name.to_string(),
        shard_count: shards.map(|n| n as u32),
        on_demand: mode,
        tags,
        max_record_size_kib: max_kib.map(|n| n as u32),
        warm_throughput_mibps: warm,
    };
    r.k.create_stream(r.caller, create).await?;
    Ok(json!({}))
}

async fn delete_stream(r: &Req<'_>) -> In<Value> {
    let enforce = input::boolean(r.input, "EnforceConsumerDeletion")?.unwrap_or(false);
    r.k.delete_stream(r.caller, &r.stream, enforce).await?;
    Ok(json!({}))
}

fn describe_stream_summary(r: &Req<'_>) -> In<Value> {
    let s = r.k.describe(r.caller, &r.stream)?;
    let mut d = stream_fields(&s.meta);
    d.insert("OpenShardCount".into(), json!(s.open_shards));
    d.insert("ConsumerCount".into(), json!(s.meta.consumers.len()));
    d.insert("MaxRecordSizeInKiB".into(), json!(s.meta.max_record_size_kib));
    if let Some(w) = s.meta.warm_throughput_mibps {
        d.insert("WarmThroughput".into(), json!({"TargetMiBps": w, "CurrentMiBps": w}));
    }
    Ok(json!({ "StreamDescriptionSummary": d }))
}

fn list_streams(r: &Req<'_>) -> In<Value> {
    let mut c = Checks::default();
    let limit = input::int(r.input, "Limit")?;
    c.range(limit, "limit", 1, 10_000);
    c.done()?;
    let page = r.k.list_streams(
        r.caller,
        limit.map(|n| n as usize),
        input::string(r.input, "ExclusiveStartStreamName")?,
        input::string(r.input, "NextToken")?,
    )?;
    let summaries: Vec<Value> = page
        .streams
        .iter()
        .map(|m| {
            json!({"StreamName": m.name, "StreamARN": arn(m), "StreamStatus": "ACTIVE",
                "StreamModeDetails": {"StreamMode": mode_name(m)},
                "StreamCreationTimestamp": epoch_seconds(m.created_ms)})
        })
        .collect();
    let mut out = json!({
        "StreamNames": page.streams.iter().map(|m| m.name.clone()).collect::<Vec<_>>(),
        "HasMoreStreams": page.has_more,
        "StreamSummaries": summaries,
    });
    if let Some(t) = page.next_token {
        out["NextToken"] = json!(t);
    }
    Ok(out)
}

async fn update_shard_count(r: &Req<'_>) -> In<Value> {
    let mut c = Checks::default();
    let target = input::int(r.input, "TargetShardCount")?;
    let scaling = input::string(r.input, "ScalingType")?;
    c.range(target, "targetShardCount", 1, 100_000);
    c.one_of(scaling, "scalingType", &["UNIFORM_SCALING"]);
    c.done()?;
    let target = target.ok_or_else(|| missing("TargetShardCount"))? as u32;
    scaling.ok_or_else(|| missing("ScalingType"))?;
    let current = r.k.update_shard_count(r.caller, &r.stream, target).await?;
    let s = r.k.describe(r.caller, &r.stream)?;
    Ok(json!({"StreamName": s.meta.name, "StreamARN": arn(&s.meta), "CurrentShardCount": current,
        "TargetShardCount": target}))
}

async fn split_shard(r: &Req<'_>) -> In<Value> {
    let shard = required(r.input, "ShardToSplit")?;
    let at = required(r.input, "NewStartingHashKey")?;
    r.k.split_shard(r.caller, &r.stream, shard, at).await?;
    Ok(json!({}))
}

async fn merge_shards(r: &Req<'_>) -> In<Value> {
    let a = required(r.input, "ShardToMerge")?;
    let b = required(r.input, "AdjacentShardToMerge")?;
    r.k.merge_shards(r.caller, &r.stream, a, b).await?;
    Ok(json!({}))
}

async fn update_stream_mode(r: &Req<'_>) -> In<Value> {
    required(r.input, "StreamARN")?;
    let mut c = Checks::default();
    warm_throughput(r.input, &mut c)?;
    c.done()?;
    let on_demand = mode(r.input)?.ok_or_else(|| missing("StreamModeDetails"))?;
    r.k.set_mode(r.caller, &r.stream, on_demand).await?;
    Ok(json!({}))
}

async fn change_retention(r: &Req<'_>, increase: bool) -> In<Value> {
    let hours = input::int(r.input, "RetentionPeriodHours")?.ok_or_else(|| missing("RetentionPeriodHours"))?;
    r.k.change_retention(r.caller, &r.stream, hours, increase).await?;
    Ok(json!({}))
}

async fn set_encryption(r: &Req<'_>, start: bool) -> In<Value> {
    let kind = required(r.input, "EncryptionType")?;
    let key = required(r.input, "KeyId")?;
    let mut c = Checks::default();
    c.one_of(Some(kind), "encryptionType", &["NONE", "KMS"]);
    c.length(Some(key), "keyId", 1, 2048);
    c.done()?;
    if start && kind != "KMS" {
        return Err(core::KinesisError::InvalidArgument(format!("Encryption type {kind} is not supported.")).into());
    }
    r.k.set_encryption(r.caller, &r.stream, start.then(|| key.to_string())).await?;
    Ok(json!({}))
}

async fn set_monitoring(r: &Req<'_>, enable: bool) -> In<Value> {
    let metrics = input::strings(r.input, "ShardLevelMetrics")?.ok_or_else(|| missing("ShardLevelMetrics"))?;
    let mut c = Checks::default();
    let mut allowed = core::ALL_METRICS.to_vec();
    allowed.push("ALL");
    for m in &metrics {
        c.one_of(Some(m), "shardLevelMetrics.member", &allowed);
    }
    if metrics.is_empty() || metrics.len() > 7 {
        c.custom("[...]", "shardLevelMetrics", "have length between 1 and 7");
    }
    c.done()?;
    let (meta, before) = r.k.set_monitoring(r.caller, &r.stream, &metrics, enable).await?;
    Ok(json!({"StreamName": meta.name, "StreamARN": arn(&meta), "CurrentShardLevelMetrics": before,
        "DesiredShardLevelMetrics": meta.shard_level_metrics}))
}

async fn add_tags_to_stream(r: &Req<'_>) -> In<Value> {
    let tags = input::tags(r.input, "Tags")?.ok_or_else(|| missing("Tags"))?;
    check_tags(&tags)?;
    r.k.add_tags(r.caller, &r.stream, tags).await?;
    Ok(json!({}))
}

async fn remove_tags_from_stream(r: &Req<'_>) -> In<Value> {
    let keys = input::strings(r.input, "TagKeys")?.ok_or_else(|| missing("TagKeys"))?;
    r.k.remove_tags(r.caller, &r.stream, &keys).await?;
    Ok(json!({}))
}

fn list_tags_for_stream(r: &Req<'_>) -> In<Value> {
    let mut c = Checks::default();
    let limit = input::int(r.input, "Limit")?;
    c.range(limit, "limit", 1, 50);
    c.done()?;
    let start = input::string(r.input, "ExclusiveStartTagKey")?;
    let (tags, more) = r.k.list_tags(r.caller, &r.stream, start, limit.map(|n| n as usize))?;
    Ok(json!({"Tags": tag_list(tags), "HasMoreTags": more}))
}

async fn tag_resource(r: &Req<'_>) -> In<Value> {
    let tags = input::tags(r.input, "Tags")?.ok_or_else(|| missing("Tags"))?;
    check_tags(&tags)?;
    r.k.tag_resource(r.caller, required(r.input, "ResourceARN")?, tags).await?;
    Ok(json!({}))
}

async fn untag_resource(r: &Req<'_>) -> In<Value> {
    let keys = input::strings(r.input, "TagKeys")?.ok_or_else(|| missing("TagKeys"))?;
    r.k.untag_resource(r.caller, required(r.input, "ResourceARN")?, &keys).await?;
    Ok(json!({}))
}

fn get_shard_iterator(r: &Req<'_>) -> In<Value> {
    let shard = required(r.input, "ShardId")?;
    let kind = iterator_type(required(r.input, "ShardIteratorType")?, "shardIteratorType")?;
    let it = r.k.get_shard_iterator(
        r.caller,
        &r.stream,
        shard,
        kind,
        input::string(r.input, "StartingSequenceNumber")?,
        input::timestamp_ms(r.input, "Timestamp")?,
    )?;
    Ok(json!({ "ShardIterator": it }))
}

async fn register_stream_consumer(r: &Req<'_>) -> In<Value> {
    let stream_arn = required(r.input, "StreamARN")?;
    let name = required(r.input, "ConsumerName")?;
    let tags = input::tags(r.input, "Tags")?.unwrap_or_default();
    let c = r.k.register_consumer(r.caller, stream_arn, name, tags).await?;
    Ok(json!({"Consumer": consumer_json(&c, false)}))
}

fn list_stream_consumers(r: &Req<'_>) -> In<Value> {
    let stream_arn = required(r.input, "StreamARN")?;
    let mut c = Checks::default();
    let max = input::int(r.input, "MaxResults")?;
    c.range(max, "maxResults", 1, 10_000);
    c.done()?;
    let token = input::string(r.input, "NextToken")?;
    let (page, next) = r.k.list_consumers_page(r.caller, stream_arn, token, max.unwrap_or(100) as usize)?;
    let mut out = json!({ "Consumers": page.iter().map(|c| consumer_json(c, false)).collect::<Vec<_>>() });
    if let Some(t) = next {
        out["NextToken"] = json!(t);
    }
    Ok(out)
}

fn describe_limits(r: &Req<'_>) -> Value {
    let l = r.k.limits(r.caller);
    json!({"ShardLimit": l.shard_limit, "OpenShardCount": l.open_shards,
        "OnDemandStreamCount": l.on_demand_streams, "OnDemandStreamCountLimit": l.on_demand_stream_limit})
}

async fn update_account_settings(r: &Req<'_>) -> In<Value> {
    let status = input::object(r.input, "MinimumThroughputBillingCommitment")?
        .and_then(|c| c.get("Status"))
        .and_then(Value::as_str)
        .ok_or_else(|| missing("MinimumThroughputBillingCommitment"))?;
    let mut c = Checks::default();
    c.one_of(Some(status), "minimumThroughputBillingCommitment.status", &["ENABLED", "DISABLED"]);
    c.done()?;
    let s = r.k.update_account_settings(r.caller, status == "ENABLED").await?;
    Ok(json!({"MinimumThroughputBillingCommitment": commitment(&s)}))
}

async fn update_max_record_size(r: &Req<'_>) -> In<Value> {
    required(r.input, "StreamARN")?;
    let kib = input::int(r.input, "MaxRecordSizeInKiB")?.ok_or_else(|| missing("MaxRecordSizeInKiB"))?;
    let mut c = Checks::default();
    c.range(Some(kib), "maxRecordSizeInKiB", 1024, 10240);
    c.done()?;
    r.k.set_max_record_size(r.caller, &r.stream, kib as u32).await?;
    Ok(json!({}))
}

/// Checks members many operations share: names, ARNs, shard ids.
fn check_common(input: &Value) -> In<()> {
    let mut c = Checks::default();
    c.name(input::string(input, "StreamName")?, "streamName", 128);
    c.name(input::string(input, "ConsumerName")?, "consumerName", 128);
    for (member, field) in [
        ("ShardId", "shardId"),
        ("ShardToSplit", "shardToSplit"),
        ("ShardToMerge", "shardToMerge"),
        ("AdjacentShardToMerge", "adjacentShardToMerge"),
        ("ExclusiveStartShardId", "exclusiveStartShardId"),
    ] {
        c.name(input::string(input, member)?, field, 128);
    }
    c.length(input::string(input, "StreamARN")?, "streamARN", 1, 2048);
    c.length(input::string(input, "ShardIterator")?, "shardIterator", 1, 512);
    c.done().map_err(Into::into)
}

pub fn required<'a>(input: &'a Value, name: &str) -> In<&'a str> {
    input::string(input, name)?.ok_or_else(|| missing(name))
}

fn missing(name: &str) -> KinesisWireError {
    let field = lower_camel(name);
    core::validation_error(vec![format!(
        "Value null at '{field}' failed to satisfy constraint: Member must not be null"
    )])
    .into()
}

fn lower_camel(name: &str) -> String {
    let mut chars = name.chars();
    chars.next().map(|c| c.to_ascii_lowercase().to_string() + chars.as_str()).unwrap_or_default()
}

/// WarmThroughputMiBps (CreateStream, UpdateStreamMode): model `min: 0`.
/// Checked before the cast, which would store -1 as 4294967295.
fn warm_throughput(input: &Value, c: &mut Checks) -> In<Option<u32>> {
    let warm = input::int(input, "WarmThroughputMiBps")?;
    c.range(warm, "warmThroughputMiBps", 0, i64::from(i32::MAX));
    Ok(warm.and_then(|n| u32::try_from(n).ok()))
}

/// StreamModeDetails.StreamMode: `Some(true)` for ON_DEMAND.
fn mode(input: &Value) -> In<Option<bool>> {
    let Some(details) = input::object(input, "StreamModeDetails")? else { return Ok(None) };
    let mode = input::string(details, "StreamMode")?.ok_or_else(|| missing("StreamModeDetails.StreamMode"))?;
    let mut c = Checks::default();
    c.one_of(Some(mode), "streamModeDetails.streamMode", &STREAM_MODES);
    c.done()?;
    Ok(Some(mode == "ON_DEMAND"))
}

fn iterator_type(text: &str, field: &str) -> In<IteratorType> {
    IteratorType::parse(text).ok_or_else(|| {
        let mut c = Checks::default();
        c.one_of(
            Some(text),
            field,
            &["AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER", "TRIM_HORIZON", "LATEST", "AT_TIMESTAMP"],
        );
        c.done().expect_err("not one of them").into()
    })
}

fn check_tags(tags: &std::collections::BTreeMap<String, String>) -> In<()> {
    let mut c = Checks::default();
    for (k, v) in tags {
        c.length(Some(k), "tags.key", 1, 128);
        c.length(Some(v), "tags.value", 0, 256);
    }
    if tags.is_empty() || tags.len() > 200 {
        c.custom("{...}", "tags", "have length between 1 and 200");
    }
    c.done().map_err(Into::into)
}

fn arn(m: &StreamMeta) -> String {
    core::stream_arn(&m.region, &m.account, &m.name)
}

fn mode_name(m: &StreamMeta) -> &'static str {
    if m.on_demand {
        "ON_DEMAND"
    } else {
        "PROVISIONED"
    }
}

/// The members StreamDescription and StreamDescriptionSummary share.
fn stream_fields(m: &StreamMeta) -> Map<String, Value> {
    let mut d = Map::new();
    d.insert("StreamName".into(), json!(m.name));
    d.insert("StreamARN".into(), json!(arn(m)));
    d.insert("StreamStatus".into(), json!("ACTIVE"));
    d.insert("StreamModeDetails".into(), json!({"StreamMode": mode_name(m)}));
    d.insert("RetentionPeriodHours".into(), json!(m.retention_hours));
    d.insert("StreamCreationTimestamp".into(), epoch_seconds(m.created_ms));
    d.insert("EnhancedMonitoring".into(), json!([{"ShardLevelMetrics": m.shard_level_metrics}]));
    d.insert("EncryptionType".into(), json!(if m.encryption_key.is_some() { "KMS" } else { "NONE" }));
    if let Some(key) = &m.encryption_key {
        d.insert("KeyId".into(), json!(key));
    }
    d
}

fn shard_json(s: &ShardMeta) -> Value {
    let (start, end) = (s.start_hash.clone(), s.end_hash.clone());
    let mut range = json!({"StartingSequenceNumber": core::SeqNo(s.starting_seq.parse().unwrap_or(0)).to_string()});
    if let Some(e) = &s.ending_seq {
        range["EndingSequenceNumber"] = json!(core::SeqNo(e.parse().unwrap_or(0)).to_string());
    }
    let mut out = json!({"ShardId": core::shard_id(s.index), "HashKeyRange": {"StartingHashKey": start, "EndingHashKey": end},
        "SequenceNumberRange": range});
    if let Some(p) = s.parent {
        out["ParentShardId"] = json!(core::shard_id(p));
    }
    if let Some(p) = s.adjacent_parent {
        out["AdjacentParentShardId"] = json!(core::shard_id(p));
    }
    out
}

fn describe_stream(r: &Req<'_>) -> In<Value> {
    let mut c = Checks::default();
    let limit = input::int(r.input, "Limit")?;
    c.range(limit, "limit", 1, 10_000);
    c.done()?;
    let after = input::string(r.input, "ExclusiveStartShardId")?;
    let (s, shards, more) = r.k.describe_shards(r.caller, &r.stream, after, limit.map(|n| n as usize))?;
    let mut d = stream_fields(&s.meta);
    d.insert("Shards".into(), Value::Array(shards.iter().map(shard_json).collect()));
    d.insert("HasMoreShards".into(), json!(more));
    Ok(json!({ "StreamDescription": d }))
}

fn list_shards(r: &Req<'_>) -> In<Value> {
    let mut c = Checks::default();
    let max = input::int(r.input, "MaxResults")?;
    c.range(max, "maxResults", 1, 10_000);
    c.done()?;
    let filter = match input::object(r.input, "ShardFilter")? {
        None => None,
        Some(f) => Some(shard_filter(f)?),
    };
    let (shards, token) = r.k.list_shards(
        r.caller,
        &r.stream,
        input::string(r.input, "NextToken")?,
        input::string(r.input, "ExclusiveStartShardId")?,
        max.map(|n| n as usize),
        filter,
    )?;
    let mut out = json!({"Shards": shards.iter().map(shard_json).collect::<Vec<_>>()});
    if let Some(t) = token {
        out["NextToken"] = json!(t);
    }
    Ok(out)
}

fn shard_filter(f: &Value) -> In<ShardFilter> {
    let kind = input::string(f, "Type")?.ok_or_else(|| missing("ShardFilter.Type"))?;
    let invalid = |m: &str| KinesisWireError::from(core::KinesisError::InvalidArgument(m.to_string()));
    let shard = input::string(f, "ShardId")?;
    let ts = input::timestamp_ms(f, "Timestamp")?;
    Ok(match kind {
        "AFTER_SHARD_ID" => ShardFilter::AfterShardId(
            shard.ok_or_else(|| invalid("ShardId must be specified for ShardFilter type AFTER_SHARD_ID."))?.to_string(),
        ),
        "AT_TRIM_HORIZON" => ShardFilter::AtTrimHorizon,
        "FROM_TRIM_HORIZON" => ShardFilter::FromTrimHorizon,
        "AT_LATEST" => ShardFilter::AtLatest,
        "AT_TIMESTAMP" => ShardFilter::AtTimestamp(
            ts.ok_or_else(|| invalid("Timestamp must be specified for ShardFilter type AT_TIMESTAMP."))?,
        ),
        "FROM_TIMESTAMP" => ShardFilter::FromTimestamp(
            ts.ok_or_else(|| invalid("Timestamp must be specified for ShardFilter type FROM_TIMESTAMP."))?,
        ),
        other => {
            let mut c = Checks::default();
            c.one_of(
                Some(other),
                "shardFilter.type",
                &[
                    "AFTER_SHARD_ID",
                    "AT_TRIM_HORIZON",
                    "FROM_TRIM_HORIZON",
                    "AT_LATEST",
                    "AT_TIMESTAMP",
                    "FROM_TIMESTAMP",
                ],
            );
            return Err(c.done().expect_err("unknown type").into());
        }
    })
}

fn put_entry(e: &Value) -> In<PutEntry> {
    Ok(PutEntry {
        partition_key: input::string(e, "PartitionKey")?.ok_or_else(|| missing("PartitionKey"))?.to_string(),
        explicit_hash_key: input::string(e, "ExplicitHashKey")?.map(String::from),
        data: input::blob(e, "Data")?.ok_or_else(|| missing("Data"))?,
    })
}

fn encryption(encrypted: bool) -> &'static str {
    if encrypted {
        "KMS"
    } else {
        "NONE"
    }
}

async fn put_record(r: &Req<'_>) -> In<Value> {
    let entry = put_entry(r.input)?;
    let ordering = input::string(r.input, "SequenceNumberForOrdering")?;
    let (shard, seq, encrypted) = r.k.put_record(r.caller, &r.stream, entry, ordering).await?;
    Ok(json!({"ShardId": shard, "SequenceNumber": seq.to_string(), "EncryptionType": encryption(encrypted)}))
}

async fn put_records(r: &Req<'_>) -> In<Value> {
    let records = match r.input.get("Records") {
        Some(Value::Array(items)) => items,
        None | Some(Value::Null) => return Err(missing("Records")),
        Some(_) => return Err(serialization("Member Records must be a list.")),
    };
    let entries = records.iter().map(put_entry).collect::<In<Vec<_>>>()?;
    let (outcomes, encrypted) = r.k.put_records(r.caller, &r.stream, entries).await?;
    let failed = outcomes.iter().filter(|o| matches!(o, PutOutcome::Failed { .. })).count();
    let results: Vec<Value> = outcomes
        .into_iter()
        .map(|o| match o {
            PutOutcome::Stored { shard_id, seq } => json!({"ShardId": shard_id, "SequenceNumber": seq.to_string()}),
            PutOutcome::Failed { code, message } => json!({"ErrorCode": code, "ErrorMessage": message}),
        })
        .collect();
    Ok(json!({"FailedRecordCount": failed, "Records": results, "EncryptionType": encryption(encrypted)}))
}

fn get_records(r: &Req<'_>) -> In<Value> {
    let iterator = required(r.input, "ShardIterator")?;
    let mut c = Checks::default();
    let limit = input::int(r.input, "Limit")?;
    c.range(limit, "limit", 1, 10_000);
    c.done()?;
    let out = r.k.get_records(&r.stream, r.caller, iterator, limit.map(|n| n as usize))?;
    let mut v = json!({"Records": records_json(&out.records), "MillisBehindLatest": out.millis_behind});
    if let Some(next) = out.next_iterator {
        v["NextShardIterator"] = json!(next);
    }
    if let Some(children) = out.child_shards {
        v["ChildShards"] = child_shards_json(&children);
    }
    Ok(v)
}

pub fn records_json(records: &[core::Record]) -> Value {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    Value::Array(
        records
            .iter()
            .map(|r| {
                let mut v = json!({"SequenceNumber": r.seq.to_string(),
                    "ApproximateArrivalTimestamp": epoch_seconds(r.arrival_ms()),
                    "Data": STANDARD.encode(&r.data), "PartitionKey": r.partition_key});
                if r.encrypted {
                    v["EncryptionType"] = json!("KMS");
                }
                v
            })
            .collect(),
    )
}

pub fn child_shards_json(children: &[core::ChildShard]) -> Value {
    Value::Array(
        children
            .iter()
            .map(|c| {
                json!({"ShardId": c.shard_id, "ParentShards": c.parents,
                    "HashKeyRange": {"StartingHashKey": c.hash_range.0.to_string(), "EndingHashKey": c.hash_range.1.to_string()}})
            })
            .collect(),
    )
}

fn consumer_ref(input: &Value) -> In<ConsumerRef> {
    Ok(ConsumerRef {
        stream_arn: input::string(input, "StreamARN")?.map(String::from),
        name: input::string(input, "ConsumerName")?.map(String::from),
        arn: input::string(input, "ConsumerARN")?.map(String::from),
    })
}

fn consumer_json(c: &core::Consumer, with_stream: bool) -> Value {
    let mut v = json!({"ConsumerName": c.name, "ConsumerARN": c.arn, "ConsumerStatus": "ACTIVE",
        "ConsumerCreationTimestamp": epoch_seconds(c.created_ms)});
    if with_stream {
        v["StreamARN"] = json!(c.stream_arn);
    }
    v
}

fn tag_list(tags: Vec<(String, String)>) -> Vec<Value> {
    tags.into_iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect()
}

fn commitment(s: &core::AccountSettings) -> Value {
    let mut v = json!({"Status": if s.commitment_enabled { "ENABLED" } else { "DISABLED" }});
    if let Some(t) = s.started_ms {
        v["StartedAt"] = epoch_seconds(t);
    }
    if let Some(t) = s.ended_ms {
        v["EndedAt"] = epoch_seconds(t);
    }
    v
}

pub fn starting_position(input: &Value) -> In<(IteratorType, Option<String>, Option<u64>)> {
    let pos = input::object(input, "StartingPosition")?.ok_or_else(|| missing("StartingPosition"))?;
    let kind = iterator_type(
        input::string(pos, "Type")?.ok_or_else(|| missing("StartingPosition.Type"))?,
        "startingPosition.type",
    )?;
    Ok((kind, input::string(pos, "SequenceNumber")?.map(String::from), input::timestamp_ms(pos, "Timestamp")?))
}
