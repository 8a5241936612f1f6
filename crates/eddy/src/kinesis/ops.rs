//! Every Kinesis operation except SubscribeToShard (see `subscribe`):
//! model checks, one core call, the output shape.

use serde_json::{json, Map, Value};

use eddy_core::kinesis::{
    self as core, Checks, ConsumerRef, CreateStream, IteratorType, PutEntry, PutOutcome, ShardFilter, ShardMeta,
    StreamMeta,
};

use super::errors::{serialization, KinesisWireError};
use super::input::{self, epoch_seconds, stream_ref, In};
use crate::request::RequestCtx;
use crate::server::AppState;

const STREAM_MODES: [&str; 2] = ["PROVISIONED", "ON_DEMAND"];

pub async fn dispatch(state: &AppState, ctx: &RequestCtx, op: &str, input: Value) -> In<Value> {
    let k = &state.kinesis;
    let caller = &ctx.caller;
    let stream = stream_ref(&input)?;
    check_common(&input)?;
    Ok(match op {
        "CreateStream" => {
            let name = required(&input, "StreamName")?;
            let mut c = Checks::default();
            let shards = input::int(&input, "ShardCount")?;
            c.range(shards, "shardCount", 1, 100_000);
            let mode = mode(&input)?;
            let max_kib = input::int(&input, "MaxRecordSizeInKiB")?;
            c.range(max_kib, "maxRecordSizeInKiB", 1024, 10240);
            let warm = warm_throughput(&input, &mut c)?;
            let tags = input::tags(&input, "Tags")?.unwrap_or_default();
            c.done()?;
            k.create_stream(
                caller,
                CreateStream {
                    name: name.to_string(),
                    shard_count: shards.map(|n| n as u32),
                    on_demand: mode,
                    tags,
                    max_record_size_kib: max_kib.map(|n| n as u32),
                    warm_throughput_mibps: warm,
                },
            )
            .await?;
            json!({})
        }
        "DeleteStream" => {
            let enforce = input::boolean(&input, "EnforceConsumerDeletion")?.unwrap_or(false);
            k.delete_stream(caller, &stream, enforce).await?;
            json!({})
        }
        "DescribeStream" => describe_stream(state, ctx, &input)?,
        "DescribeStreamSummary" => {
            let s = k.describe(caller, &stream)?;
            let mut d = stream_fields(&s.meta);
            d.insert("OpenShardCount".into(), json!(s.open_shards));
            d.insert("ConsumerCount".into(), json!(s.meta.consumers.len()));
            d.insert("MaxRecordSizeInKiB".into(), json!(s.meta.max_record_size_kib));
            if let Some(w) = s.meta.warm_throughput_mibps {
                d.insert("WarmThroughput".into(), json!({"TargetMiBps": w, "CurrentMiBps": w}));
            }
            json!({ "StreamDescriptionSummary": d })
        }
        "ListStreams" => {
            let mut c = Checks::default();
            let limit = input::int(&input, "Limit")?;
            c.range(limit, "limit", 1, 10_000);
            c.done()?;
            let page = k.list_streams(
                caller,
                limit.map(|n| n as usize),
                input::string(&input, "ExclusiveStartStreamName")?,
                input::string(&input, "NextToken")?,
            )?;
            let summaries: Vec<Value> = page
                .streams
                .iter()
                .map(|m| {
                    json!({"StreamName": m.name, "StreamARN": core::stream_arn(&m.region, &m.account, &m.name),
                        "StreamStatus": "ACTIVE", "StreamModeDetails": {"StreamMode": mode_name(m)},
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
            out
        }
        "ListShards" => list_shards(state, ctx, &input)?,
        "UpdateShardCount" => {
            let mut c = Checks::default();
            let target = input::int(&input, "TargetShardCount")?;
            let scaling = input::string(&input, "ScalingType")?;
            c.range(target, "targetShardCount", 1, 100_000);
            c.one_of(scaling, "scalingType", &["UNIFORM_SCALING"]);
            c.done()?;
            let target = target.ok_or_else(|| missing("TargetShardCount"))? as u32;
            scaling.ok_or_else(|| missing("ScalingType"))?;
            let current = k.update_shard_count(caller, &stream, target).await?;
            let s = k.describe(caller, &stream)?;
            json!({"StreamName": s.meta.name, "StreamARN": arn(&s.meta), "CurrentShardCount": current, "TargetShardCount": target})
        }
        "SplitShard" => {
            let shard = required(&input, "ShardToSplit")?;
            let at = required(&input, "NewStartingHashKey")?;
            k.split_shard(caller, &stream, shard, at).await?;
            json!({})
        }
        "MergeShards" => {
            let a = required(&input, "ShardToMerge")?;
            let b = required(&input, "AdjacentShardToMerge")?;
            k.merge_shards(caller, &stream, a, b).await?;
            json!({})
        }
        "UpdateStreamMode" => {
            required(&input, "StreamARN")?;
            let mut c = Checks::default();
            warm_throughput(&input, &mut c)?;
            c.done()?;
            let on_demand = mode(&input)?.ok_or_else(|| missing("StreamModeDetails"))?;
            k.set_mode(caller, &stream, on_demand).await?;
            json!({})
        }
        "IncreaseStreamRetentionPeriod" | "DecreaseStreamRetentionPeriod" => {
            let hours = input::int(&input, "RetentionPeriodHours")?.ok_or_else(|| missing("RetentionPeriodHours"))?;
            k.change_retention(caller, &stream, hours, op.starts_with("Increase")).await?;
            json!({})
        }
        "StartStreamEncryption" | "StopStreamEncryption" => {
            let kind = required(&input, "EncryptionType")?;
            let key = required(&input, "KeyId")?;
            let mut c = Checks::default();
            c.one_of(Some(kind), "encryptionType", &["NONE", "KMS"]);
            c.length(Some(key), "keyId", 1, 2048);
            c.done()?;
            let start = op.starts_with("Start");
            if start && kind != "KMS" {
                return Err(
                    core::KinesisError::InvalidArgument(format!("Encryption type {kind} is not supported.")).into()
                );
            }
            k.set_encryption(caller, &stream, start.then(|| key.to_string())).await?;
            json!({})
        }
        "EnableEnhancedMonitoring" | "DisableEnhancedMonitoring" => {
            let metrics = input::strings(&input, "ShardLevelMetrics")?.ok_or_else(|| missing("ShardLevelMetrics"))?;
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
            let (meta, before) = k.set_monitoring(caller, &stream, &metrics, op.starts_with("Enable")).await?;
            json!({"StreamName": meta.name, "StreamARN": arn(&meta), "CurrentShardLevelMetrics": before,
                "DesiredShardLevelMetrics": meta.shard_level_metrics})
        }
        "AddTagsToStream" => {
            let tags = input::tags(&input, "Tags")?.ok_or_else(|| missing("Tags"))?;
            check_tags(&tags)?;
            k.add_tags(caller, &stream, tags).await?;
            json!({})
        }
        "RemoveTagsFromStream" => {
            let keys = input::strings(&input, "TagKeys")?.ok_or_else(|| missing("TagKeys"))?;
            k.remove_tags(caller, &stream, &keys).await?;
            json!({})
        }
        "ListTagsForStream" => {
            let mut c = Checks::default();
            let limit = input::int(&input, "Limit")?;
            c.range(limit, "limit", 1, 50);
            c.done()?;
            let (tags, more) = k.list_tags(
                caller,
                &stream,
                input::string(&input, "ExclusiveStartTagKey")?,
                limit.map(|n| n as usize),
            )?;
            json!({"Tags": tag_list(tags), "HasMoreTags": more})
        }
        "TagResource" => {
            let tags = input::tags(&input, "Tags")?.ok_or_else(|| missing("Tags"))?;
            check_tags(&tags)?;
            k.tag_resource(caller, required(&input, "ResourceARN")?, tags).await?;
            json!({})
        }
        "UntagResource" => {
            let keys = input::strings(&input, "TagKeys")?.ok_or_else(|| missing("TagKeys"))?;
            k.untag_resource(caller, required(&input, "ResourceARN")?, &keys).await?;
            json!({})
        }
        "ListTagsForResource" => json!({"Tags": tag_list(k.resource_tags(caller, required(&input, "ResourceARN")?)?)}),
        "PutRecord" => put_record(state, ctx, &input).await?,
        "PutRecords" => put_records(state, ctx, &input).await?,
        "GetShardIterator" => {
            let shard = required(&input, "ShardId")?;
            let kind = iterator_type(required(&input, "ShardIteratorType")?, "shardIteratorType")?;
            let it = k.get_shard_iterator(
                caller,
                &stream,
                shard,
                kind,
                input::string(&input, "StartingSequenceNumber")?,
                input::timestamp_ms(&input, "Timestamp")?,
            )?;
            json!({ "ShardIterator": it })
        }
        "GetRecords" => get_records(state, ctx, &input)?,
        "RegisterStreamConsumer" => {
            let stream_arn = required(&input, "StreamARN")?;
            let name = required(&input, "ConsumerName")?;
            let tags = input::tags(&input, "Tags")?.unwrap_or_default();
            let c = k.register_consumer(caller, stream_arn, name, tags).await?;
            json!({"Consumer": consumer_json(&c, false)})
        }
        "DeregisterStreamConsumer" => {
            k.deregister_consumer(caller, &consumer_ref(&input)?).await?;
            json!({})
        }
        "DescribeStreamConsumer" => {
            let c = k.describe_consumer(caller, &consumer_ref(&input)?)?;
            json!({"ConsumerDescription": consumer_json(&c, true)})
        }
        "ListStreamConsumers" => {
            let stream_arn = required(&input, "StreamARN")?;
            let mut c = Checks::default();
            let max = input::int(&input, "MaxResults")?;
            c.range(max, "maxResults", 1, 10_000);
            c.done()?;
            let all = k.list_consumers(caller, stream_arn)?;
            let start = match input::string(&input, "NextToken")? {
                // A token is an offset into the list; one past its end is
                // crafted (or the list shrank): refused, never wrapped around.
                Some(t) => t
                    .parse::<usize>()
                    .ok()
                    .filter(|n| *n <= all.len())
                    .ok_or_else(|| core::KinesisError::InvalidArgument(format!("Invalid NextToken {t}.")))?,
                None => 0,
            };
            let max = max.unwrap_or(100) as usize;
            let page: Vec<Value> = all.iter().skip(start).take(max).map(|c| consumer_json(c, false)).collect();
            let mut out = json!({ "Consumers": page });
            if start + max < all.len() {
                out["NextToken"] = json!((start + max).to_string());
            }
            out
        }
        "DescribeLimits" => {
            let l = k.limits(caller);
            json!({"ShardLimit": l.shard_limit, "OpenShardCount": l.open_shards,
                "OnDemandStreamCount": l.on_demand_streams, "OnDemandStreamCountLimit": l.on_demand_stream_limit})
        }
        "DescribeAccountSettings" => {
            json!({"MinimumThroughputBillingCommitment": commitment(&k.account_settings(caller)?)})
        }
        "UpdateAccountSettings" => {
            let status = input::object(&input, "MinimumThroughputBillingCommitment")?
                .and_then(|c| c.get("Status"))
                .and_then(Value::as_str)
                .ok_or_else(|| missing("MinimumThroughputBillingCommitment"))?;
            let mut c = Checks::default();
            c.one_of(Some(status), "minimumThroughputBillingCommitment.status", &["ENABLED", "DISABLED"]);
            c.done()?;
            let s = k.update_account_settings(caller, status == "ENABLED").await?;
            json!({"MinimumThroughputBillingCommitment": commitment(&s)})
        }
        "UpdateMaxRecordSize" => {
            required(&input, "StreamARN")?;
            let kib = input::int(&input, "MaxRecordSizeInKiB")?.ok_or_else(|| missing("MaxRecordSizeInKiB"))?;
            let mut c = Checks::default();
            c.range(Some(kib), "maxRecordSizeInKiB", 1024, 10240);
            c.done()?;
            k.set_max_record_size(caller, &stream, kib as u32).await?;
            json!({})
        }
        "PutResourcePolicy" => {
            let policy = required(&input, "Policy")?;
            k.set_policy(caller, required(&input, "ResourceARN")?, Some(policy.to_string())).await?;
            json!({})
        }
        "GetResourcePolicy" => json!({"Policy": k.policy(caller, required(&input, "ResourceARN")?)?}),
        "DeleteResourcePolicy" => {
            k.set_policy(caller, required(&input, "ResourceARN")?, None).await?;
            json!({})
        }
        other => return Err(super::errors::unknown_operation(other)),
    })
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

fn describe_stream(state: &AppState, ctx: &RequestCtx, input: &Value) -> In<Value> {
    let mut c = Checks::default();
    let limit = input::int(input, "Limit")?;
    c.range(limit, "limit", 1, 10_000);
    c.done()?;
    let s = state.kinesis.describe(&ctx.caller, &stream_ref(input)?)?;
    let after = input::string(input, "ExclusiveStartShardId")?.map(String::from);
    // "If you specify a value greater than 100, at most 100 shards are returned."
    let limit = limit.unwrap_or(100).min(100) as usize;
    let shards: Vec<&ShardMeta> =
        s.meta.shards.iter().filter(|sh| after.as_ref().is_none_or(|a| core::shard_id(sh.index) > *a)).collect();
    let mut d = stream_fields(&s.meta);
    d.insert("Shards".into(), Value::Array(shards.iter().take(limit).map(|sh| shard_json(sh)).collect()));
    d.insert("HasMoreShards".into(), json!(shards.len() > limit));
    Ok(json!({ "StreamDescription": d }))
}

fn list_shards(state: &AppState, ctx: &RequestCtx, input: &Value) -> In<Value> {
    let mut c = Checks::default();
    let max = input::int(input, "MaxResults")?;
    c.range(max, "maxResults", 1, 10_000);
    c.done()?;
    let filter = match input::object(input, "ShardFilter")? {
        None => None,
        Some(f) => Some(shard_filter(f)?),
    };
    if input::string(input, "NextToken")?.is_some() && input::string(input, "ExclusiveStartShardId")?.is_some() {
        return Err(core::KinesisError::InvalidArgument(
            "NextToken and ExclusiveStartShardId cannot be provided together.".into(),
        )
        .into());
    }
    let (shards, token) = state.kinesis.list_shards(
        &ctx.caller,
        &stream_ref(input)?,
        input::string(input, "NextToken")?,
        input::string(input, "ExclusiveStartShardId")?,
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

async fn put_record(state: &AppState, ctx: &RequestCtx, input: &Value) -> In<Value> {
    let entry = put_entry(input)?;
    let ordering = input::string(input, "SequenceNumberForOrdering")?;
    let (shard, seq, encrypted) = state.kinesis.put_record(&ctx.caller, &stream_ref(input)?, entry, ordering).await?;
    Ok(json!({"ShardId": shard, "SequenceNumber": seq.to_string(), "EncryptionType": encryption(encrypted)}))
}

async fn put_records(state: &AppState, ctx: &RequestCtx, input: &Value) -> In<Value> {
    let records = match input.get("Records") {
        Some(Value::Array(items)) => items,
        None | Some(Value::Null) => return Err(missing("Records")),
        Some(_) => return Err(serialization("Member Records must be a list.")),
    };
    let entries = records.iter().map(put_entry).collect::<In<Vec<_>>>()?;
    let (outcomes, encrypted) = state.kinesis.put_records(&ctx.caller, &stream_ref(input)?, entries).await?;
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

fn get_records(state: &AppState, ctx: &RequestCtx, input: &Value) -> In<Value> {
    let iterator = required(input, "ShardIterator")?;
    let mut c = Checks::default();
    let limit = input::int(input, "Limit")?;
    c.range(limit, "limit", 1, 10_000);
    c.done()?;
    let out = state.kinesis.get_records(&stream_ref(input)?, &ctx.caller, iterator, limit.map(|n| n as usize))?;
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
