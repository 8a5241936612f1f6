//! One input per operation, members as in botocore's kinesis
//! 2013-12-02 model. Members are listed in the order they are read: the
//! stream and shard names every operation shares first, then the
//! operation's own; that order decides which of several members of the
//! wrong type is reported. `req` members are required (by the model, or
//! by eddy where noted), `opt` ones optional. Members eddy does not use
//! (StreamId, DryRun, StreamCreationTimestamp, RecordDistributionStrategy)
//! are read for their type only.

use super::member::{inputs, Blob, TagMap, Timestamp};

inputs! {
    // ---- streams ----
    CreateStreamInput {
        stream_name: req String = "StreamName",
        shard_count: opt i32 = "ShardCount",
        stream_mode_details: opt StreamModeDetails = "StreamModeDetails",
        max_record_size_in_kib: opt i32 = "MaxRecordSizeInKiB",
        warm_throughput_mibps: opt i32 = "WarmThroughputMiBps",
        tags: opt TagMap = "Tags",
        record_distribution_strategy: opt String = "RecordDistributionStrategy",
    }
    StreamModeDetails {
        stream_mode: req String = "StreamMode",
    }
    DeleteStreamInput {
        stream_name: opt String = "StreamName",
        stream_arn: opt String = "StreamARN",
        enforce_consumer_deletion: opt bool = "EnforceConsumerDeletion",
        stream_id: opt String = "StreamId",
    }
    DescribeStreamInput {
        stream_name: opt String = "StreamName",
        stream_arn: opt String = "StreamARN",
        exclusive_start_shard_id: opt String = "ExclusiveStartShardId",
        limit: opt i32 = "Limit",
        stream_id: opt String = "StreamId",
    }
    DescribeStreamSummaryInput {
        stream_name: opt String = "StreamName",
        stream_arn: opt String = "StreamARN",
        stream_id: opt String = "StreamId",
    }
    ListStreamsInput {
        limit: opt i32 = "Limit",
        exclusive_start_stream_name: opt String = "ExclusiveStartStreamName",
        next_token: opt String = "NextToken",
    }
    ListShardsInput {
        stream_name: opt String = "StreamName",
        stream_arn: opt String = "StreamARN",
        exclusive_start_shard_id: opt String = "ExclusiveStartShardId",
        max_results: opt i32 = "MaxResults",
        shard_filter: opt ShardFilter = "ShardFilter",
        next_token: opt String = "NextToken",
        stream_creation_timestamp: opt Timestamp = "StreamCreationTimestamp",
        stream_id: opt String = "StreamId",
    }
    ShardFilter {
        r#type: req String = "Type",
        shard_id: opt String = "ShardId",
        timestamp: opt Timestamp = "Timestamp",
    }
    UpdateStreamModeInput {
        stream_arn: req String = "StreamARN",
        warm_throughput_mibps: opt i32 = "WarmThroughputMiBps",
        stream_mode_details: req StreamModeDetails = "StreamModeDetails",
        stream_id: opt String = "StreamId",
    }
    IncreaseStreamRetentionPeriodInput {
        stream_name: opt String = "StreamName",
        stream_arn: opt String = "StreamARN",
        retention_period_hours: req i32 = "RetentionPeriodHours",
        stream_id: opt String = "StreamId",
    }
    DecreaseStreamRetentionPeriodInput {
        stream_name: opt String = "StreamName",
        stream_arn: opt String = "StreamARN",
        retention_period_hours: req i32 = "RetentionPeriodHours",
        stream_id: opt String = "StreamId",
    }
    StartStreamEncryptionInput {
        stream_name: opt String = "StreamName",
        stream_arn: opt String = "StreamARN",
        encryption_type: req String = "EncryptionType",
        key_id: req String = "KeyId",
        stream_id: opt String = "StreamId",
    }
    StopStreamEncryptionInput {
        stream_name: opt String = "StreamName",
        stream_arn: opt String = "StreamARN",
        encryption_type: req String = "EncryptionType",
        key_id: req String = "KeyId",
        stream_id: opt String = "StreamId",
    }
    EnableEnhancedMonitoringInput {
        stream_name: opt String = "StreamName",
        stream_arn: opt String = "StreamARN",
        shard_level_metrics: req Vec<String> = "ShardLevelMetrics",
        stream_id: opt String = "StreamId",
    }
    DisableEnhancedMonitoringInput {
        stream_name: opt String = "StreamName",
        stream_arn: opt String = "StreamARN",
        shard_level_metrics: req Vec<String> = "ShardLevelMetrics",
        stream_id: opt String = "StreamId",
    }
    UpdateMaxRecordSizeInput {
        /// Optional in the model; eddy names the stream by ARN only.
        stream_arn: req String = "StreamARN",
        max_record_size_in_kib: req i32 = "MaxRecordSizeInKiB",
        stream_id: opt String = "StreamId",
    }

    // ---- shards ----
    UpdateShardCountInput {
        stream_name: opt String = "StreamName",
        stream_arn: opt String = "StreamARN",
        target_shard_count: req i32 = "TargetShardCount",
        scaling_type: req String = "ScalingType",
        stream_id: opt String = "StreamId",
    }
    SplitShardInput {
        stream_name: opt String = "StreamName",
        stream_arn: opt String = "StreamARN",
        shard_to_split: req String = "ShardToSplit",
        new_starting_hash_key: req String = "NewStartingHashKey",
        stream_id: opt String = "StreamId",
    }
    MergeShardsInput {
        stream_name: opt String = "StreamName",
        stream_arn: opt String = "StreamARN",
        shard_to_merge: req String = "ShardToMerge",
        adjacent_shard_to_merge: req String = "AdjacentShardToMerge",
        stream_id: opt String = "StreamId",
    }

    // ---- tags ----
    AddTagsToStreamInput {
        stream_name: opt String = "StreamName",
        stream_arn: opt String = "StreamARN",
        tags: req TagMap = "Tags",
        stream_id: opt String = "StreamId",
    }
    RemoveTagsFromStreamInput {
        stream_name: opt String = "StreamName",
        stream_arn: opt String = "StreamARN",
        tag_keys: req Vec<String> = "TagKeys",
        stream_id: opt String = "StreamId",
    }
    ListTagsForStreamInput {
        stream_name: opt String = "StreamName",
        stream_arn: opt String = "StreamARN",
        limit: opt i32 = "Limit",
        exclusive_start_tag_key: opt String = "ExclusiveStartTagKey",
        stream_id: opt String = "StreamId",
    }
    TagResourceInput {
        tags: req TagMap = "Tags",
        resource_arn: req String = "ResourceARN",
        stream_id: opt String = "StreamId",
    }
    UntagResourceInput {
        tag_keys: req Vec<String> = "TagKeys",
        resource_arn: req String = "ResourceARN",
        stream_id: opt String = "StreamId",
    }
    ListTagsForResourceInput {
        resource_arn: req String = "ResourceARN",
        stream_id: opt String = "StreamId",
    }

    // ---- records ----
    PutRecordInput {
        stream_name: opt String = "StreamName",
        stream_arn: opt String = "StreamARN",
        /// Optional in the newest model (for streams that place records
        /// themselves); eddy routes every record by its key.
        partition_key: req String = "PartitionKey",
        explicit_hash_key: opt String = "ExplicitHashKey",
        data: req Blob = "Data",
        sequence_number_for_ordering: opt String = "SequenceNumberForOrdering",
        stream_id: opt String = "StreamId",
        dry_run: opt bool = "DryRun",
    }
    PutRecordsInput {
        stream_name: opt String = "StreamName",
        stream_arn: opt String = "StreamARN",
        records: req Vec<PutRecordsRequestEntry> = "Records",
        stream_id: opt String = "StreamId",
        dry_run: opt bool = "DryRun",
    }
    PutRecordsRequestEntry {
        /// Required by eddy, as for PutRecord.
        partition_key: req String = "PartitionKey",
        explicit_hash_key: opt String = "ExplicitHashKey",
        data: req Blob = "Data",
    }
    GetShardIteratorInput {
        stream_name: opt String = "StreamName",
        stream_arn: opt String = "StreamARN",
        shard_id: req String = "ShardId",
        shard_iterator_type: req String = "ShardIteratorType",
        starting_sequence_number: opt String = "StartingSequenceNumber",
        timestamp: opt Timestamp = "Timestamp",
        stream_id: opt String = "StreamId",
        dry_run: opt bool = "DryRun",
    }
    GetRecordsInput {
        stream_arn: opt String = "StreamARN",
        shard_iterator: req String = "ShardIterator",
        limit: opt i32 = "Limit",
        stream_id: opt String = "StreamId",
        dry_run: opt bool = "DryRun",
    }

    // ---- consumers ----
    RegisterStreamConsumerInput {
        stream_arn: req String = "StreamARN",
        consumer_name: req String = "ConsumerName",
        tags: opt TagMap = "Tags",
        stream_id: opt String = "StreamId",
    }
    DeregisterStreamConsumerInput {
        stream_arn: opt String = "StreamARN",
        consumer_name: opt String = "ConsumerName",
        consumer_arn: opt String = "ConsumerARN",
        stream_id: opt String = "StreamId",
    }
    DescribeStreamConsumerInput {
        stream_arn: opt String = "StreamARN",
        consumer_name: opt String = "ConsumerName",
        consumer_arn: opt String = "ConsumerARN",
        stream_id: opt String = "StreamId",
    }
    ListStreamConsumersInput {
        stream_arn: req String = "StreamARN",
        max_results: opt i32 = "MaxResults",
        next_token: opt String = "NextToken",
        stream_creation_timestamp: opt Timestamp = "StreamCreationTimestamp",
        stream_id: opt String = "StreamId",
    }
    SubscribeToShardInput {
        consumer_arn: req String = "ConsumerARN",
        shard_id: req String = "ShardId",
        starting_position: req StartingPosition = "StartingPosition",
        stream_id: opt String = "StreamId",
        dry_run: opt bool = "DryRun",
    }
    StartingPosition {
        r#type: req String = "Type",
        sequence_number: opt String = "SequenceNumber",
        timestamp: opt Timestamp = "Timestamp",
    }

    // ---- account and policies ----
    DescribeLimitsInput {}
    DescribeAccountSettingsInput {}
    UpdateAccountSettingsInput {
        minimum_throughput_billing_commitment: req MinimumThroughputBillingCommitmentInput =
            "MinimumThroughputBillingCommitment",
    }
    MinimumThroughputBillingCommitmentInput {
        status: req String = "Status",
    }
    PutResourcePolicyInput {
        policy: req String = "Policy",
        resource_arn: req String = "ResourceARN",
        stream_id: opt String = "StreamId",
    }
    GetResourcePolicyInput {
        resource_arn: req String = "ResourceARN",
        stream_id: opt String = "StreamId",
    }
    DeleteResourcePolicyInput {
        resource_arn: req String = "ResourceARN",
        stream_id: opt String = "StreamId",
    }
}
