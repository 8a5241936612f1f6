//! Every Kinesis operation except SubscribeToShard (see `subscribe`):
//! `dispatch` decodes the operation's typed input ([`eddy_wire::kinesis`],
//! which also makes the model's checks), and each function makes one core
//! call and shapes the output. Paging and the service's own rules live in
//! core.

use serde_json::{json, Map, Value};

use eddy_core::kinesis::{
    self as core, ConsumerRef, CreateStream, IteratorType, Kinesis, KinesisError, PutEntry, PutOutcome, ShardFilter,
    ShardMeta, StreamMeta, StreamRef,
};
use eddy_core::sqs::Caller;
use eddy_wire::kinesis::{self as k, decode};

use super::errors::KinesisWireError;

type In<T> = Result<T, KinesisWireError>;

/// Who calls which service.
struct Handler<'a> {
    k: &'a Kinesis,
    caller: &'a Caller,
}

pub async fn dispatch(k: &Kinesis, caller: &Caller, op: &str, input: Value) -> In<Value> {
    let h = Handler { k, caller };
    // The input's type is the handler's parameter.
    macro_rules! run {
        ($method:ident) => {
            h.$method(decode(input)?)
        };
    }
    match op {
        "CreateStream" => run!(create_stream).await,
        "DeleteStream" => run!(delete_stream).await,
        "DescribeStream" => run!(describe_stream),
        "DescribeStreamSummary" => run!(describe_stream_summary),
        "ListStreams" => run!(list_streams),
        "ListShards" => run!(list_shards),
        "UpdateShardCount" => run!(update_shard_count).await,
        "SplitShard" => run!(split_shard).await,
        "MergeShards" => run!(merge_shards).await,
        "UpdateStreamMode" => run!(update_stream_mode).await,
        "IncreaseStreamRetentionPeriod" => run!(increase_retention).await,
        "DecreaseStreamRetentionPeriod" => run!(decrease_retention).await,
        "StartStreamEncryption" => run!(start_encryption).await,
        "StopStreamEncryption" => run!(stop_encryption).await,
        "EnableEnhancedMonitoring" => run!(enable_monitoring).await,
        "DisableEnhancedMonitoring" => run!(disable_monitoring).await,
        "AddTagsToStream" => run!(add_tags_to_stream).await,
        "RemoveTagsFromStream" => run!(remove_tags_from_stream).await,
        "ListTagsForStream" => run!(list_tags_for_stream),
        "TagResource" => run!(tag_resource).await,
        "UntagResource" => run!(untag_resource).await,
        "ListTagsForResource" => run!(list_tags_for_resource),
        "PutRecord" => run!(put_record).await,
        "PutRecords" => run!(put_records).await,
        "GetShardIterator" => run!(get_shard_iterator),
        "GetRecords" => run!(get_records),
        "RegisterStreamConsumer" => run!(register_stream_consumer).await,
        "DeregisterStreamConsumer" => run!(deregister_stream_consumer).await,
        "DescribeStreamConsumer" => run!(describe_stream_consumer),
        "ListStreamConsumers" => run!(list_stream_consumers),
        "DescribeLimits" => run!(describe_limits),
        "DescribeAccountSettings" => run!(describe_account_settings),
        "UpdateAccountSettings" => run!(update_account_settings).await,
        "UpdateMaxRecordSize" => run!(update_max_record_size).await,
        "PutResourcePolicy" => run!(put_resource_policy).await,
        "GetResourcePolicy" => run!(get_resource_policy),
        "DeleteResourcePolicy" => run!(delete_resource_policy).await,
        other => Err(super::errors::unknown_operation(other)),
    }
}

fn stream(name: Option<String>, arn: Option<String>) -> StreamRef {
    StreamRef { name, arn }
}

fn by_arn(arn: String) -> StreamRef {
    StreamRef { name: None, arn: Some(arn) }
}

/// Model integers the checks bounded to be positive.
fn count(n: Option<i32>) -> Option<usize> {
    n.and_then(|n| usize::try_from(n).ok())
}

impl Handler<'_> {
    // ---- streams ----

    async fn create_stream(&self, i: k::CreateStreamInput) -> In<Value> {
        let create = CreateStream {
            name: i.stream_name,
            shard_count: i.shard_count.and_then(|n| u32::try_from(n).ok()),
            on_demand: i.stream_mode_details.map(|d| d.stream_mode == "ON_DEMAND"),
            tags: i.tags.unwrap_or_default(),
            max_record_size_kib: i.max_record_size_in_kib.and_then(|n| u32::try_from(n).ok()),
            warm_throughput_mibps: i.warm_throughput_mibps.and_then(|n| u32::try_from(n).ok()),
        };
        self.k.create_stream(self.caller, create).await?;
        Ok(json!({}))
    }

    async fn delete_stream(&self, i: k::DeleteStreamInput) -> In<Value> {
        let enforce = i.enforce_consumer_deletion.unwrap_or(false);
        self.k.delete_stream(self.caller, &stream(i.stream_name, i.stream_arn), enforce).await?;
        Ok(json!({}))
    }

    fn describe_stream(&self, i: k::DescribeStreamInput) -> In<Value> {
        let (s, shards, more) = self.k.describe_shards(
            self.caller,
            &stream(i.stream_name, i.stream_arn),
            i.exclusive_start_shard_id.as_deref(),
            count(i.limit),
        )?;
        let mut d = stream_fields(&s.meta);
        d.insert("Shards".into(), Value::Array(shards.iter().map(shard_json).collect()));
        d.insert("HasMoreShards".into(), json!(more));
        Ok(json!({ "StreamDescription": d }))
    }

    fn describe_stream_summary(&self, i: k::DescribeStreamSummaryInput) -> In<Value> {
        let s = self.k.describe(self.caller, &stream(i.stream_name, i.stream_arn))?;
        let mut d = stream_fields(&s.meta);
        d.insert("OpenShardCount".into(), json!(s.open_shards));
        d.insert("ConsumerCount".into(), json!(s.meta.consumers.len()));
        d.insert("MaxRecordSizeInKiB".into(), json!(s.meta.max_record_size_kib));
        if let Some(w) = s.meta.warm_throughput_mibps {
            d.insert("WarmThroughput".into(), json!({"TargetMiBps": w, "CurrentMiBps": w}));
        }
        Ok(json!({ "StreamDescriptionSummary": d }))
    }

    fn list_streams(&self, i: k::ListStreamsInput) -> In<Value> {
        let page = self.k.list_streams(
            self.caller,
            count(i.limit),
            i.exclusive_start_stream_name.as_deref(),
            i.next_token.as_deref(),
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

    async fn update_stream_mode(&self, i: k::UpdateStreamModeInput) -> In<Value> {
        let on_demand = i.stream_mode_details.stream_mode == "ON_DEMAND";
        self.k.set_mode(self.caller, &by_arn(i.stream_arn), on_demand).await?;
        Ok(json!({}))
    }

    async fn increase_retention(&self, i: k::IncreaseStreamRetentionPeriodInput) -> In<Value> {
        let which = stream(i.stream_name, i.stream_arn);
        self.k.change_retention(self.caller, &which, i64::from(i.retention_period_hours), true).await?;
        Ok(json!({}))
    }

    async fn decrease_retention(&self, i: k::DecreaseStreamRetentionPeriodInput) -> In<Value> {
        let which = stream(i.stream_name, i.stream_arn);
        self.k.change_retention(self.caller, &which, i64::from(i.retention_period_hours), false).await?;
        Ok(json!({}))
    }

    async fn start_encryption(&self, i: k::StartStreamEncryptionInput) -> In<Value> {
        self.k.set_encryption(self.caller, &stream(i.stream_name, i.stream_arn), Some(i.key_id)).await?;
        Ok(json!({}))
    }

    async fn stop_encryption(&self, i: k::StopStreamEncryptionInput) -> In<Value> {
        self.k.set_encryption(self.caller, &stream(i.stream_name, i.stream_arn), None).await?;
        Ok(json!({}))
    }

    async fn enable_monitoring(&self, i: k::EnableEnhancedMonitoringInput) -> In<Value> {
        self.set_monitoring(stream(i.stream_name, i.stream_arn), &i.shard_level_metrics, true).await
    }

    async fn disable_monitoring(&self, i: k::DisableEnhancedMonitoringInput) -> In<Value> {
        self.set_monitoring(stream(i.stream_name, i.stream_arn), &i.shard_level_metrics, false).await
    }

    async fn set_monitoring(&self, which: StreamRef, metrics: &[String], enable: bool) -> In<Value> {
        let (meta, before) = self.k.set_monitoring(self.caller, &which, metrics, enable).await?;
        Ok(json!({"StreamName": meta.name, "StreamARN": arn(&meta), "CurrentShardLevelMetrics": before,
            "DesiredShardLevelMetrics": meta.shard_level_metrics}))
    }

    async fn update_max_record_size(&self, i: k::UpdateMaxRecordSizeInput) -> In<Value> {
        let kib = u32::try_from(i.max_record_size_in_kib).unwrap_or_default();
        self.k.set_max_record_size(self.caller, &by_arn(i.stream_arn), kib).await?;
        Ok(json!({}))
    }

    // ---- shards ----

    fn list_shards(&self, i: k::ListShardsInput) -> In<Value> {
        let filter = i.shard_filter.map(shard_filter).transpose()?;
        let (shards, token) = self.k.list_shards(
            self.caller,
            &stream(i.stream_name, i.stream_arn),
            i.next_token.as_deref(),
            i.exclusive_start_shard_id.as_deref(),
            count(i.max_results),
            filter,
        )?;
        let mut out = json!({"Shards": shards.iter().map(shard_json).collect::<Vec<_>>()});
        if let Some(t) = token {
            out["NextToken"] = json!(t);
        }
        Ok(out)
    }

    async fn update_shard_count(&self, i: k::UpdateShardCountInput) -> In<Value> {
        let which = stream(i.stream_name, i.stream_arn);
        let target = u32::try_from(i.target_shard_count).unwrap_or_default();
        let current = self.k.update_shard_count(self.caller, &which, target).await?;
        let s = self.k.describe(self.caller, &which)?;
        Ok(json!({"StreamName": s.meta.name, "StreamARN": arn(&s.meta), "CurrentShardCount": current,
            "TargetShardCount": target}))
    }

    async fn split_shard(&self, i: k::SplitShardInput) -> In<Value> {
        let which = stream(i.stream_name, i.stream_arn);
        self.k.split_shard(self.caller, &which, &i.shard_to_split, &i.new_starting_hash_key).await?;
        Ok(json!({}))
    }

    async fn merge_shards(&self, i: k::MergeShardsInput) -> In<Value> {
        let which = stream(i.stream_name, i.stream_arn);
        self.k.merge_shards(self.caller, &which, &i.shard_to_merge, &i.adjacent_shard_to_merge).await?;
        Ok(json!({}))
    }

    // ---- tags ----

    async fn add_tags_to_stream(&self, i: k::AddTagsToStreamInput) -> In<Value> {
        self.k.add_tags(self.caller, &stream(i.stream_name, i.stream_arn), i.tags).await?;
        Ok(json!({}))
    }

    async fn remove_tags_from_stream(&self, i: k::RemoveTagsFromStreamInput) -> In<Value> {
        self.k.remove_tags(self.caller, &stream(i.stream_name, i.stream_arn), &i.tag_keys).await?;
        Ok(json!({}))
    }

    fn list_tags_for_stream(&self, i: k::ListTagsForStreamInput) -> In<Value> {
        let which = stream(i.stream_name, i.stream_arn);
        let (tags, more) =
            self.k.list_tags(self.caller, &which, i.exclusive_start_tag_key.as_deref(), count(i.limit))?;
        Ok(json!({"Tags": tag_list(tags), "HasMoreTags": more}))
    }

    async fn tag_resource(&self, i: k::TagResourceInput) -> In<Value> {
        self.k.tag_resource(self.caller, &i.resource_arn, i.tags).await?;
        Ok(json!({}))
    }

    async fn untag_resource(&self, i: k::UntagResourceInput) -> In<Value> {
        self.k.untag_resource(self.caller, &i.resource_arn, &i.tag_keys).await?;
        Ok(json!({}))
    }

    fn list_tags_for_resource(&self, i: k::ListTagsForResourceInput) -> In<Value> {
        Ok(json!({"Tags": tag_list(self.k.resource_tags(self.caller, &i.resource_arn)?)}))
    }

    // ---- records ----

    async fn put_record(&self, i: k::PutRecordInput) -> In<Value> {
        let entry = PutEntry { partition_key: i.partition_key, explicit_hash_key: i.explicit_hash_key, data: i.data.0 };
        let which = stream(i.stream_name, i.stream_arn);
        let ordering = i.sequence_number_for_ordering.as_deref();
        let (shard, seq, encrypted) = self.k.put_record(self.caller, &which, entry, ordering).await?;
        Ok(json!({"ShardId": shard, "SequenceNumber": seq.to_string(), "EncryptionType": encryption(encrypted)}))
    }

    async fn put_records(&self, i: k::PutRecordsInput) -> In<Value> {
        let entries = i
            .records
            .into_iter()
            .map(|e| PutEntry {
                partition_key: e.partition_key,
                explicit_hash_key: e.explicit_hash_key,
                data: e.data.0,
            })
            .collect();
        let which = stream(i.stream_name, i.stream_arn);
        let (outcomes, encrypted) = self.k.put_records(self.caller, &which, entries).await?;
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

    fn get_shard_iterator(&self, i: k::GetShardIteratorInput) -> In<Value> {
        let it = self.k.get_shard_iterator(
            self.caller,
            &stream(i.stream_name, i.stream_arn),
            &i.shard_id,
            iterator_type(&i.shard_iterator_type)?,
            i.starting_sequence_number.as_deref(),
            i.timestamp.map(|t| t.0),
        )?;
        Ok(json!({ "ShardIterator": it }))
    }

    fn get_records(&self, i: k::GetRecordsInput) -> In<Value> {
        let which = stream(None, i.stream_arn);
        let out = self.k.get_records(&which, self.caller, &i.shard_iterator, count(i.limit))?;
        let mut v = json!({"Records": records_json(&out.records), "MillisBehindLatest": out.millis_behind});
        if let Some(next) = out.next_iterator {
            v["NextShardIterator"] = json!(next);
        }
        if let Some(children) = out.child_shards {
            v["ChildShards"] = child_shards_json(&children);
        }
        Ok(v)
    }

    // ---- consumers ----

    async fn register_stream_consumer(&self, i: k::RegisterStreamConsumerInput) -> In<Value> {
        let tags = i.tags.unwrap_or_default();
        let c = self.k.register_consumer(self.caller, &i.stream_arn, &i.consumer_name, tags).await?;
        Ok(json!({"Consumer": consumer_json(&c, false)}))
    }

    async fn deregister_stream_consumer(&self, i: k::DeregisterStreamConsumerInput) -> In<Value> {
        let which = ConsumerRef { stream_arn: i.stream_arn, name: i.consumer_name, arn: i.consumer_arn };
        self.k.deregister_consumer(self.caller, &which).await?;
        Ok(json!({}))
    }

    fn describe_stream_consumer(&self, i: k::DescribeStreamConsumerInput) -> In<Value> {
        let which = ConsumerRef { stream_arn: i.stream_arn, name: i.consumer_name, arn: i.consumer_arn };
        let c = self.k.describe_consumer(self.caller, &which)?;
        Ok(json!({"ConsumerDescription": consumer_json(&c, true)}))
    }

    fn list_stream_consumers(&self, i: k::ListStreamConsumersInput) -> In<Value> {
        let max = count(i.max_results).unwrap_or(100);
        let (page, next) = self.k.list_consumers_page(self.caller, &i.stream_arn, i.next_token.as_deref(), max)?;
        let mut out = json!({ "Consumers": page.iter().map(|c| consumer_json(c, false)).collect::<Vec<_>>() });
        if let Some(t) = next {
            out["NextToken"] = json!(t);
        }
        Ok(out)
    }

    // ---- account and policies ----

    fn describe_limits(&self, _: k::DescribeLimitsInput) -> In<Value> {
        let l = self.k.limits(self.caller);
        Ok(json!({"ShardLimit": l.shard_limit, "OpenShardCount": l.open_shards,
            "OnDemandStreamCount": l.on_demand_streams, "OnDemandStreamCountLimit": l.on_demand_stream_limit}))
    }

    fn describe_account_settings(&self, _: k::DescribeAccountSettingsInput) -> In<Value> {
        Ok(json!({"MinimumThroughputBillingCommitment": commitment(&self.k.account_settings(self.caller)?)}))
    }

    async fn update_account_settings(&self, i: k::UpdateAccountSettingsInput) -> In<Value> {
        let enabled = i.minimum_throughput_billing_commitment.status == "ENABLED";
        let s = self.k.update_account_settings(self.caller, enabled).await?;
        Ok(json!({"MinimumThroughputBillingCommitment": commitment(&s)}))
    }

    async fn put_resource_policy(&self, i: k::PutResourcePolicyInput) -> In<Value> {
        self.k.set_policy(self.caller, &i.resource_arn, Some(i.policy)).await?;
        Ok(json!({}))
    }

    fn get_resource_policy(&self, i: k::GetResourcePolicyInput) -> In<Value> {
        Ok(json!({"Policy": self.k.policy(self.caller, &i.resource_arn)?}))
    }

    async fn delete_resource_policy(&self, i: k::DeleteResourcePolicyInput) -> In<Value> {
        self.k.set_policy(self.caller, &i.resource_arn, None).await?;
        Ok(json!({}))
    }
}

/// An iterator type the input's checks accepted.
pub fn iterator_type(text: &str) -> In<IteratorType> {
    IteratorType::parse(text)
        .ok_or_else(|| KinesisError::InvalidArgument(format!("Unknown iterator type {text}.")).into())
}

/// A filter the input's checks accepted: its type names what it needs.
fn shard_filter(f: k::ShardFilter) -> In<ShardFilter> {
    let at = |t: Option<k::Timestamp>| t.map_or(0, |t| t.0);
    Ok(match f.r#type.as_str() {
        "AFTER_SHARD_ID" => ShardFilter::AfterShardId(f.shard_id.unwrap_or_default()),
        "AT_TRIM_HORIZON" => ShardFilter::AtTrimHorizon,
        "FROM_TRIM_HORIZON" => ShardFilter::FromTrimHorizon,
        "AT_LATEST" => ShardFilter::AtLatest,
        "AT_TIMESTAMP" => ShardFilter::AtTimestamp(at(f.timestamp)),
        "FROM_TIMESTAMP" => ShardFilter::FromTimestamp(at(f.timestamp)),
        other => return Err(KinesisError::InvalidArgument(format!("Unknown ShardFilter type {other}.")).into()),
    })
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

fn encryption(encrypted: bool) -> &'static str {
    if encrypted {
        "KMS"
    } else {
        "NONE"
    }
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

/// Seconds since the epoch with millisecond precision, as awsJson sends timestamps.
fn epoch_seconds(ms: u64) -> Value {
    serde_json::Number::from_f64(ms as f64 / 1000.0).map(Value::Number).unwrap_or(Value::Null)
}
