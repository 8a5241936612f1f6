//! Decoding Kinesis inputs from the values both encodings arrive as.

use serde_json::{json, Value};

use super::*;
use crate::cbor;

fn err<T>(input: Value) -> WireError
where
    T: Input + std::fmt::Debug,
    T::Raw: DeserializeOwned + Check + member::Build<Out = T>,
{
    decode::<T>(input).unwrap_err()
}

fn serialization_message<T>(input: Value) -> String
where
    T: Input + std::fmt::Debug,
    T::Raw: DeserializeOwned + Check + member::Build<Out = T>,
{
    let e = err::<T>(input);
    assert_eq!((e.shape, e.status), ("SerializationException", 400), "{}", e.message);
    e.message
}

fn validation_message<T>(input: Value) -> String
where
    T: Input + std::fmt::Debug,
    T::Raw: DeserializeOwned + Check + member::Build<Out = T>,
{
    let e = err::<T>(input);
    assert_eq!((e.shape, e.status), ("ValidationException", 400), "{}", e.message);
    e.message
}

#[test]
fn members_of_the_wrong_type() {
    let m = serialization_message::<DescribeStreamSummaryInput>;
    assert_eq!(m(json!({"StreamName": 5})), "Member StreamName must be a string.");
    assert_eq!(m(json!({"StreamARN": ["a"]})), "Member StreamARN must be a string.");
    let m = serialization_message::<DeleteStreamInput>;
    assert_eq!(m(json!({"EnforceConsumerDeletion": "true"})), "Member EnforceConsumerDeletion must be a boolean.");
    let m = serialization_message::<ListStreamsInput>;
    assert_eq!(m(json!({"Limit": "1"})), "Member Limit must be an integer.");
    assert_eq!(m(json!({"Limit": 1.5})), "Member Limit must be an integer.");
    let m = serialization_message::<EnableEnhancedMonitoringInput>;
    assert_eq!(m(json!({"ShardLevelMetrics": "ALL"})), "Member ShardLevelMetrics must be a list.");
    assert_eq!(m(json!({"ShardLevelMetrics": ["ALL", 5]})), "ShardLevelMetrics must hold strings.");
    let m = serialization_message::<AddTagsToStreamInput>;
    assert_eq!(m(json!({"Tags": []})), "Member Tags must be a map.");
    assert_eq!(m(json!({"Tags": {"a": 1}})), "Tags values must be strings.");
    let m = serialization_message::<CreateStreamInput>;
    assert_eq!(m(json!({"StreamModeDetails": "ON_DEMAND"})), "Member StreamModeDetails must be a structure.");
    assert_eq!(m(json!({"StreamModeDetails": {"StreamMode": 1}})), "Member StreamMode must be a string.");
    let m = serialization_message::<PutRecordsInput>;
    assert_eq!(m(json!({"Records": {}})), "Member Records must be a list.");
    assert_eq!(m(json!({"Records": [{"PartitionKey": "k", "Data": 5}]})), "Member Data must be a string.");
}

#[test]
fn the_first_wrong_member_in_read_order_is_reported() {
    // Alphabetically ShardCount comes first; the stream's name is read first.
    let m = serialization_message::<CreateStreamInput>(json!({"StreamName": 1, "ShardCount": "x"}));
    assert_eq!(m, "Member StreamName must be a string.");
    // Every member is read before any check: a bad name does not hide a wrong type.
    let m = serialization_message::<CreateStreamInput>(json!({"StreamName": "bad name", "Tags": 5}));
    assert_eq!(m, "Member Tags must be a map.");
}

#[test]
fn integers_are_32_bit() {
    let limit = |v: Value| decode::<ListStreamsInput>(json!({ "Limit": v }));
    assert_eq!(limit(json!(10)).unwrap().limit, Some(10));
    let out_of_range = "Member Limit is out of range for a 32-bit integer.";
    assert_eq!(limit(json!(2_147_483_648u64)).unwrap_err().message, out_of_range);
    assert_eq!(limit(json!(-2_147_483_649i64)).unwrap_err().message, out_of_range);
    // Past i64 it is no integer at all.
    assert_eq!(limit(json!(u64::MAX)).unwrap_err().message, "Member Limit must be an integer.");
    // In range for the type, out of the model's range: a validation error.
    let m = limit(json!(2_147_483_647)).unwrap_err().message;
    assert!(m.contains("Value '2147483647' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 10000"), "{m}");
}

#[test]
fn null_is_absent() {
    let i: ListStreamsInput = decode(json!({"Limit": null, "NextToken": null})).unwrap();
    assert_eq!(i, ListStreamsInput::default());
    let m = validation_message::<GetRecordsInput>(json!({"ShardIterator": null}));
    assert!(m.contains("Value null at 'shardIterator'"), "{m}");
    // A null tag value is an empty one.
    let i: AddTagsToStreamInput = decode(json!({"StreamName": "s", "Tags": {"a": null}})).unwrap();
    assert_eq!(i.tags["a"], "");
}

#[test]
fn blobs_are_base64() {
    let put = |data: Value| decode::<PutRecordInput>(json!({"StreamName": "s", "PartitionKey": "k", "Data": data}));
    assert_eq!(put(json!("aGk=")).unwrap().data, Blob(b"hi".to_vec()));
    assert_eq!(put(json!("")).unwrap().data, Blob(Vec::new()));
    assert_eq!(put(json!("not base64!")).unwrap_err().message, "Member Data is not valid base64.");
    assert_eq!(put(json!("aGk")).unwrap_err().message, "Member Data is not valid base64.");
    assert_eq!(put(json!(5)).unwrap_err().message, "Member Data must be a string.");
}

#[test]
fn timestamps_are_epoch_seconds() {
    let at = |ts: Value| {
        decode::<GetShardIteratorInput>(
            json!({"StreamName": "s", "ShardId": "shardId-000000000000", "ShardIteratorType": "AT_TIMESTAMP", "Timestamp": ts}),
        )
    };
    assert_eq!(at(json!(1_700_000_000)).unwrap().timestamp, Some(Timestamp(1_700_000_000_000)));
    assert_eq!(at(json!(1_700_000_000.123_4)).unwrap().timestamp, Some(Timestamp(1_700_000_000_123)));
    assert_eq!(at(json!(0)).unwrap().timestamp, Some(Timestamp(0)));
    for bad in [json!(-1), json!("2024-01-01T00:00:00Z"), json!(true), json!({})] {
        assert_eq!(at(bad).unwrap_err().message, "Member Timestamp must be a timestamp.");
    }
}

#[test]
fn cbor_blobs_and_tag_1_timestamps() {
    // {"StreamName": "s", "PartitionKey": "k", "Data": h'6869'}
    let body = [
        &[0xa3][..],
        &[0x6a],
        b"StreamName",
        &[0x61, b's'],
        &[0x6c],
        b"PartitionKey",
        &[0x61, b'k'],
        &[0x64],
        b"Data",
        &[0x42, b'h', b'i'],
    ]
    .concat();
    let value = cbor::decode_request(&body, &cbor::KINESIS).unwrap();
    let i: PutRecordInput = decode(value).unwrap();
    assert_eq!((i.partition_key.as_str(), i.data), ("k", Blob(b"hi".to_vec())));

    // StartingPosition.Timestamp as tag 1 around epoch milliseconds (the Java SDKs).
    let millis: u64 = 1_700_000_000_123;
    let mut body = vec![0xa3, 0x6b];
    body.extend_from_slice(b"ConsumerARN");
    body.extend_from_slice(&[0x61, b'c', 0x67]);
    body.extend_from_slice(b"ShardId");
    body.extend_from_slice(&[0x61, b'0', 0x70]);
    body.extend_from_slice(b"StartingPosition");
    body.extend_from_slice(&[0xa2, 0x64]);
    body.extend_from_slice(b"Type");
    body.extend_from_slice(&[0x6c]);
    body.extend_from_slice(b"AT_TIMESTAMP");
    body.extend_from_slice(&[0x69]);
    body.extend_from_slice(b"Timestamp");
    body.extend_from_slice(&[0xc1, 0x1b]);
    body.extend_from_slice(&millis.to_be_bytes());
    let value = cbor::decode_request(&body, &cbor::KINESIS).unwrap();
    let i: SubscribeToShardInput = decode(value).unwrap();
    assert_eq!(i.starting_position.timestamp, Some(Timestamp(millis)));
    assert_eq!(i.starting_position.r#type, "AT_TIMESTAMP");
}

#[test]
fn required_members_in_aws_order() {
    let m = validation_message::<UpdateShardCountInput>;
    // The pass over the constraints comes before the required members.
    assert!(m(json!({"StreamName": "s", "TargetShardCount": 0})).contains("at 'targetShardCount'"));
    assert!(m(json!({"StreamName": "s", "TargetShardCount": 1})).contains("Value null at 'scalingType'"));
    let m = validation_message::<TagResourceInput>;
    assert!(m(json!({})).contains("Value null at 'tags'"));
    assert!(m(json!({"Tags": {"a": "b"}})).contains("Value null at 'resourceARN'"));
    let m = validation_message::<CreateStreamInput>(json!({"StreamName": "s", "StreamModeDetails": {}}));
    assert!(m.contains("Value null at 'streamModeDetails.StreamMode'"), "{m}");
    let m = validation_message::<UpdateAccountSettingsInput>(json!({"MinimumThroughputBillingCommitment": {}}));
    assert!(m.contains("Value null at 'minimumThroughputBillingCommitment'"), "{m}");
    // A record that is not a structure has no members.
    let m = validation_message::<PutRecordsInput>(json!({"StreamName": "s", "Records": [5]}));
    assert!(m.contains("Value null at 'partitionKey'"), "{m}");
}

#[test]
fn one_pass_reports_every_failure_in_order() {
    let m = validation_message::<DescribeStreamInput>(
        json!({"StreamName": "bad name", "ExclusiveStartShardId": "", "StreamARN": "", "Limit": 0}),
    );
    assert_eq!(
        m,
        "3 validation errors detected: Value 'bad name' at 'streamName' failed to satisfy constraint: Member must \
         satisfy regular expression pattern: [a-zA-Z0-9_.-]+; Value '' at 'exclusiveStartShardId' failed to satisfy \
         constraint: Member must have length greater than or equal to 1; Value '' at 'streamARN' failed to satisfy \
         constraint: Member must have length greater than or equal to 1"
    );
    let m = validation_message::<CreateStreamInput>(
        json!({"StreamName": "s", "ShardCount": 0, "MaxRecordSizeInKiB": 1, "WarmThroughputMiBps": -1}),
    );
    assert!(m.starts_with("3 validation errors detected: Value '0' at 'shardCount'"), "{m}");
    assert!(m.ends_with("Value '-1' at 'warmThroughputMiBps' failed to satisfy constraint: Member must have value greater than or equal to 0"), "{m}");
}

#[test]
fn enums_and_filters() {
    let m = validation_message::<GetShardIteratorInput>(
        json!({"StreamName": "s", "ShardId": "shardId-000000000000", "ShardIteratorType": "NEWEST"}),
    );
    assert!(m.contains("Value 'NEWEST' at 'shardIteratorType' failed to satisfy constraint: Member must satisfy enum value set: [AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER, TRIM_HORIZON, LATEST, AT_TIMESTAMP]"), "{m}");
    let e = err::<ListShardsInput>(json!({"StreamName": "s", "ShardFilter": {"Type": "AT_TIMESTAMP"}}));
    assert_eq!(
        (e.shape, e.message.as_str()),
        ("InvalidArgumentException", "Timestamp must be specified for ShardFilter type AT_TIMESTAMP.")
    );
    let i: ListShardsInput =
        decode(json!({"StreamName": "s", "ShardFilter": {"Type": "FROM_TIMESTAMP", "Timestamp": 1.5}})).unwrap();
    assert_eq!(i.shard_filter.unwrap().timestamp, Some(Timestamp(1500)));
    let e = err::<StartStreamEncryptionInput>(json!({"StreamName": "s", "EncryptionType": "NONE", "KeyId": "k"}));
    assert_eq!((e.shape, e.message.as_str()), ("InvalidArgumentException", "Encryption type NONE is not supported."));
    assert!(
        decode::<StopStreamEncryptionInput>(json!({"StreamName": "s", "EncryptionType": "NONE", "KeyId": "k"})).is_ok()
    );
}

#[test]
fn members_of_other_operations_are_ignored() {
    let i: ListStreamsInput = decode(json!({"ShardId": 5, "StreamName": "bad name"})).unwrap();
    assert_eq!(i, ListStreamsInput::default());
}
