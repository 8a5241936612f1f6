//! Each operation's checks, run on its deserialised input in the order AWS
//! reports them: first one pass over the stream, consumer and shard names
//! and the ARN most operations share ([`Shared`]), then the operation's
//! own required members and constraints. A pass stops the request with all
//! its failures; a required member stops it on its own.

use crate::error::WireError;

use super::checks::{missing, one_of, Checks};
use super::inputs::raw::*;
use super::invalid_argument;
use super::member::TagMap;

/// The checks AWS makes on one input before it looks at any stream.
pub trait Check {
    fn check(&self) -> Result<(), WireError>;
}

const STREAM_MODES: [&str; 2] = ["PROVISIONED", "ON_DEMAND"];
const ITERATOR_TYPES: [&str; 5] =
    ["AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER", "TRIM_HORIZON", "LATEST", "AT_TIMESTAMP"];
const SHARD_FILTER_TYPES: [&str; 6] =
    ["AFTER_SHARD_ID", "AT_TRIM_HORIZON", "FROM_TRIM_HORIZON", "AT_LATEST", "AT_TIMESTAMP", "FROM_TIMESTAMP"];
/// MetricsName: the seven metrics, then "ALL".
const METRICS: [&str; 8] = [
    "IncomingBytes",
    "IncomingRecords",
    "OutgoingBytes",
    "OutgoingRecords",
    "WriteProvisionedThroughputExceeded",
    "ReadProvisionedThroughputExceeded",
    "IteratorAgeMilliseconds",
    "ALL",
];

/// The names and ARN many operations share, checked together in one pass
/// and in this order; an operation sets the ones it has.
#[derive(Default)]
struct Shared<'a> {
    stream_name: Option<&'a str>,
    consumer_name: Option<&'a str>,
    shard_id: Option<&'a str>,
    shard_to_split: Option<&'a str>,
    shard_to_merge: Option<&'a str>,
    adjacent_shard_to_merge: Option<&'a str>,
    exclusive_start_shard_id: Option<&'a str>,
    stream_arn: Option<&'a str>,
    shard_iterator: Option<&'a str>,
}

impl Shared<'_> {
    fn check(self) -> Result<(), WireError> {
        let mut c = Checks::default();
        c.name(self.stream_name, "streamName", 128);
        c.name(self.consumer_name, "consumerName", 128);
        c.name(self.shard_id, "shardId", 128);
        c.name(self.shard_to_split, "shardToSplit", 128);
        c.name(self.shard_to_merge, "shardToMerge", 128);
        c.name(self.adjacent_shard_to_merge, "adjacentShardToMerge", 128);
        c.name(self.exclusive_start_shard_id, "exclusiveStartShardId", 128);
        c.length(self.stream_arn, "streamARN", 1, 2048);
        c.length(self.shard_iterator, "shardIterator", 1, 512);
        c.done()
    }
}

/// A stream named by name or ARN, the names checked.
fn stream(name: &Option<String>, arn: &Option<String>) -> Result<(), WireError> {
    Shared { stream_name: name.as_deref(), stream_arn: arn.as_deref(), ..Default::default() }.check()
}

/// A required member (`name` as the model spells it).
fn present<'a, T>(member: &'a Option<T>, name: &str) -> Result<&'a T, WireError> {
    member.as_ref().ok_or_else(|| missing(name))
}

/// StreamModeDetails, when given, must name a mode.
fn mode(details: &Option<StreamModeDetails>) -> Result<(), WireError> {
    let Some(d) = details else { return Ok(()) };
    let mode = present(&d.stream_mode, "StreamModeDetails.StreamMode")?;
    one_of(mode, "streamModeDetails.streamMode", &STREAM_MODES)
}

/// WarmThroughputMiBps: model `min: 0`.
fn warm_throughput(c: &mut Checks, warm: Option<i32>) {
    c.range(warm, "warmThroughputMiBps", 0, i64::from(i32::MAX));
}

fn limit(value: Option<i32>, field: &str, max: i64) -> Result<(), WireError> {
    let mut c = Checks::default();
    c.range(value, field, 1, max);
    c.done()
}

fn tags(tags: &TagMap) -> Result<(), WireError> {
    let mut c = Checks::default();
    for (k, v) in tags {
        c.length(Some(k), "tags.key", 1, 128);
        c.length(Some(v), "tags.value", 0, 256);
    }
    if tags.is_empty() || tags.len() > 200 {
        c.custom("{...}", "tags", "have length between 1 and 200");
    }
    c.done()
}

fn metrics(metrics: &Option<Vec<String>>) -> Result<(), WireError> {
    let metrics = present(metrics, "ShardLevelMetrics")?;
    let mut c = Checks::default();
    for m in metrics {
        c.one_of(Some(m), "shardLevelMetrics.member", &METRICS);
    }
    if metrics.is_empty() || metrics.len() > 7 {
        c.custom("[...]", "shardLevelMetrics", "have length between 1 and 7");
    }
    c.done()
}

fn encryption(
    stream_name: &Option<String>,
    stream_arn: &Option<String>,
    kind: &Option<String>,
    key: &Option<String>,
) -> Result<(), WireError> {
    stream(stream_name, stream_arn)?;
    let kind = present(kind, "EncryptionType")?;
    let key = present(key, "KeyId")?;
    let mut c = Checks::default();
    c.one_of(Some(kind), "encryptionType", &["NONE", "KMS"]);
    c.length(Some(key), "keyId", 1, 2048);
    c.done()
}

/// Each record needs its key and data; the model's limits on them are
/// checked by the core on every append.
fn entry(e: &PutRecordsRequestEntry) -> Result<(), WireError> {
    present(&e.partition_key, "PartitionKey")?;
    present(&e.data, "Data").map(drop)
}

/// The members a filter type needs, then the type itself.
fn shard_filter(f: &ShardFilter) -> Result<(), WireError> {
    let kind = present(&f.r#type, "ShardFilter.Type")?;
    let needs = |what: &str| invalid_argument(format!("{what} must be specified for ShardFilter type {kind}."));
    match kind.as_str() {
        "AFTER_SHARD_ID" if f.shard_id.is_none() => Err(needs("ShardId")),
        "AT_TIMESTAMP" | "FROM_TIMESTAMP" if f.timestamp.is_none() => Err(needs("Timestamp")),
        _ => one_of(kind, "shardFilter.type", &SHARD_FILTER_TYPES),
    }
}

macro_rules! checks {
    ($($input:ident(|$i:ident| $body:expr);)*) => {
        $(impl Check for $input {
            fn check(&self) -> Result<(), WireError> {
                let $i = self;
                $body
            }
        })*
    };
}

checks! {
    CreateStreamInput(|i| {
        Shared { stream_name: i.stream_name.as_deref(), ..Default::default() }.check()?;
        present(&i.stream_name, "StreamName")?;
        mode(&i.stream_mode_details)?;
        let mut c = Checks::default();
        c.range(i.shard_count, "shardCount", 1, 100_000);
        c.range(i.max_record_size_in_kib, "maxRecordSizeInKiB", 1024, 10240);
        warm_throughput(&mut c, i.warm_throughput_mibps);
        c.done()
    });
    DeleteStreamInput(|i| stream(&i.stream_name, &i.stream_arn));
    DescribeStreamInput(|i| {
        Shared {
            stream_name: i.stream_name.as_deref(),
            exclusive_start_shard_id: i.exclusive_start_shard_id.as_deref(),
            stream_arn: i.stream_arn.as_deref(),
            ..Default::default()
        }
        .check()?;
        limit(i.limit, "limit", 10_000)
    });
    DescribeStreamSummaryInput(|i| stream(&i.stream_name, &i.stream_arn));
    ListStreamsInput(|i| limit(i.limit, "limit", 10_000));
    ListShardsInput(|i| {
        Shared {
            stream_name: i.stream_name.as_deref(),
            exclusive_start_shard_id: i.exclusive_start_shard_id.as_deref(),
            stream_arn: i.stream_arn.as_deref(),
            ..Default::default()
        }
        .check()?;
        limit(i.max_results, "maxResults", 10_000)?;
        i.shard_filter.as_ref().map_or(Ok(()), shard_filter)
    });
    UpdateStreamModeInput(|i| {
        stream(&None, &i.stream_arn)?;
        present(&i.stream_arn, "StreamARN")?;
        let mut c = Checks::default();
        warm_throughput(&mut c, i.warm_throughput_mibps);
        c.done()?;
        mode(&i.stream_mode_details)?;
        present(&i.stream_mode_details, "StreamModeDetails").map(drop)
    });
    IncreaseStreamRetentionPeriodInput(|i| {
        stream(&i.stream_name, &i.stream_arn)?;
        present(&i.retention_period_hours, "RetentionPeriodHours").map(drop)
    });
    DecreaseStreamRetentionPeriodInput(|i| {
        stream(&i.stream_name, &i.stream_arn)?;
        present(&i.retention_period_hours, "RetentionPeriodHours").map(drop)
    });
    StartStreamEncryptionInput(|i| {
        encryption(&i.stream_name, &i.stream_arn, &i.encryption_type, &i.key_id)?;
        // Only KMS encrypts; NONE is for StopStreamEncryption.
        match i.encryption_type.as_deref() {
            Some(kind) if kind != "KMS" => Err(invalid_argument(format!("Encryption type {kind} is not supported."))),
            _ => Ok(()),
        }
    });
    StopStreamEncryptionInput(|i| encryption(&i.stream_name, &i.stream_arn, &i.encryption_type, &i.key_id));
    EnableEnhancedMonitoringInput(|i| {
        stream(&i.stream_name, &i.stream_arn)?;
        metrics(&i.shard_level_metrics)
    });
    DisableEnhancedMonitoringInput(|i| {
        stream(&i.stream_name, &i.stream_arn)?;
        metrics(&i.shard_level_metrics)
    });
    UpdateMaxRecordSizeInput(|i| {
        stream(&None, &i.stream_arn)?;
        present(&i.stream_arn, "StreamARN")?;
        let kib = present(&i.max_record_size_in_kib, "MaxRecordSizeInKiB")?;
        let mut c = Checks::default();
        c.range(Some(*kib), "maxRecordSizeInKiB", 1024, 10240);
        c.done()
    });
    UpdateShardCountInput(|i| {
        stream(&i.stream_name, &i.stream_arn)?;
        let mut c = Checks::default();
        c.range(i.target_shard_count, "targetShardCount", 1, 100_000);
        c.one_of(i.scaling_type.as_deref(), "scalingType", &["UNIFORM_SCALING"]);
        c.done()?;
        present(&i.target_shard_count, "TargetShardCount")?;
        present(&i.scaling_type, "ScalingType").map(drop)
    });
    SplitShardInput(|i| {
        Shared {
            stream_name: i.stream_name.as_deref(),
            shard_to_split: i.shard_to_split.as_deref(),
            stream_arn: i.stream_arn.as_deref(),
            ..Default::default()
        }
        .check()?;
        present(&i.shard_to_split, "ShardToSplit")?;
        present(&i.new_starting_hash_key, "NewStartingHashKey").map(drop)
    });
    MergeShardsInput(|i| {
        Shared {
            stream_name: i.stream_name.as_deref(),
            shard_to_merge: i.shard_to_merge.as_deref(),
            adjacent_shard_to_merge: i.adjacent_shard_to_merge.as_deref(),
            stream_arn: i.stream_arn.as_deref(),
            ..Default::default()
        }
        .check()?;
        present(&i.shard_to_merge, "ShardToMerge")?;
        present(&i.adjacent_shard_to_merge, "AdjacentShardToMerge").map(drop)
    });
    AddTagsToStreamInput(|i| {
        stream(&i.stream_name, &i.stream_arn)?;
        tags(present(&i.tags, "Tags")?)
    });
    RemoveTagsFromStreamInput(|i| {
        stream(&i.stream_name, &i.stream_arn)?;
        present(&i.tag_keys, "TagKeys").map(drop)
    });
    ListTagsForStreamInput(|i| {
        stream(&i.stream_name, &i.stream_arn)?;
        limit(i.limit, "limit", 50)
    });
    TagResourceInput(|i| {
        tags(present(&i.tags, "Tags")?)?;
        present(&i.resource_arn, "ResourceARN").map(drop)
    });
    UntagResourceInput(|i| {
        present(&i.tag_keys, "TagKeys")?;
        present(&i.resource_arn, "ResourceARN").map(drop)
    });
    ListTagsForResourceInput(|i| present(&i.resource_arn, "ResourceARN").map(drop));
    PutRecordInput(|i| {
        stream(&i.stream_name, &i.stream_arn)?;
        present(&i.partition_key, "PartitionKey")?;
        present(&i.data, "Data").map(drop)
    });
    PutRecordsInput(|i| {
        stream(&i.stream_name, &i.stream_arn)?;
        present(&i.records, "Records")?.iter().try_for_each(entry)
    });
    GetShardIteratorInput(|i| {
        Shared {
            stream_name: i.stream_name.as_deref(),
            shard_id: i.shard_id.as_deref(),
            stream_arn: i.stream_arn.as_deref(),
            ..Default::default()
        }
        .check()?;
        present(&i.shard_id, "ShardId")?;
        one_of(present(&i.shard_iterator_type, "ShardIteratorType")?, "shardIteratorType", &ITERATOR_TYPES)
    });
    GetRecordsInput(|i| {
        Shared { stream_arn: i.stream_arn.as_deref(), shard_iterator: i.shard_iterator.as_deref(), ..Default::default() }
            .check()?;
        present(&i.shard_iterator, "ShardIterator")?;
        limit(i.limit, "limit", 10_000)
    });
    RegisterStreamConsumerInput(|i| {
        Shared { consumer_name: i.consumer_name.as_deref(), stream_arn: i.stream_arn.as_deref(), ..Default::default() }
            .check()?;
        present(&i.stream_arn, "StreamARN")?;
        present(&i.consumer_name, "ConsumerName").map(drop)
    });
    DeregisterStreamConsumerInput(|i| {
        Shared { consumer_name: i.consumer_name.as_deref(), stream_arn: i.stream_arn.as_deref(), ..Default::default() }
            .check()
    });
    DescribeStreamConsumerInput(|i| {
        Shared { consumer_name: i.consumer_name.as_deref(), stream_arn: i.stream_arn.as_deref(), ..Default::default() }
            .check()
    });
    ListStreamConsumersInput(|i| {
        stream(&None, &i.stream_arn)?;
        present(&i.stream_arn, "StreamARN")?;
        limit(i.max_results, "maxResults", 10_000)
    });
    // The subscription checks no names (ShardId included) before the core looks up the consumer.
    SubscribeToShardInput(|i| {
        present(&i.consumer_arn, "ConsumerARN")?;
        present(&i.shard_id, "ShardId")?;
        let position = present(&i.starting_position, "StartingPosition")?;
        one_of(present(&position.r#type, "StartingPosition.Type")?, "startingPosition.type", &ITERATOR_TYPES)
    });
    DescribeLimitsInput(|_i| Ok(()));
    DescribeAccountSettingsInput(|_i| Ok(()));
    // A commitment without a status is reported as a missing commitment.
    UpdateAccountSettingsInput(|i| {
        let status = i.minimum_throughput_billing_commitment.as_ref().and_then(|c| c.status.as_ref());
        let status = status.ok_or_else(|| missing("MinimumThroughputBillingCommitment"))?;
        one_of(status, "minimumThroughputBillingCommitment.status", &["ENABLED", "DISABLED"])
    });
    PutResourcePolicyInput(|i| {
        present(&i.policy, "Policy")?;
        present(&i.resource_arn, "ResourceARN").map(drop)
    });
    GetResourcePolicyInput(|i| present(&i.resource_arn, "ResourceARN").map(drop));
    DeleteResourcePolicyInput(|i| present(&i.resource_arn, "ResourceARN").map(drop));
}
