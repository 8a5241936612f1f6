"""Kinesis behaviour pinned by responses recorded from AWS itself: LocalStack's AWS-validated
Kinesis suite (tests/aws/services/kinesis/test_kinesis.py and its .snapshot.json), whose tests
ran against real AWS and stored what it answered. Each test here says which recording it
follows; the flows are written anew for eddy, and only the facts are taken:

* GetResourcePolicy on a stream with no policy answers 200 with `Policy` = `{}` (recorded
  "default_policy_if_not_set" and "get_resource_policy_after_delete"); DeleteResourcePolicy with
  no policy attached, and PutResourcePolicy on a stream that does not exist, fail;
* GetRecords accepts a shard iterator wrapped in double quotes and reads from it;
* every GetRecords answers a NextShardIterator different from the iterator it was given and from
  every earlier one, even when nothing was read;
* CreateStream without StreamName is a 400; without ShardCount it makes 4 shards, each with a
  HashKeyRange and a StartingSequenceNumber only;
* ListStreamConsumers entries hold exactly ConsumerName, ConsumerARN, ConsumerStatus and
  ConsumerCreationTimestamp; DescribeStreamConsumer adds StreamARN;
* records of an unencrypted stream hold exactly SequenceNumber, ApproximateArrivalTimestamp, Data
  and PartitionKey, with Data byte for byte as written (empty, ASCII, 1,000 bytes, multi-byte
  UTF-8);
* a SubscribeToShard event holds Records, ContinuationSequenceNumber and MillisBehindLatest (0
  once caught up), and a single PutRecords of 5 records arrives as one event.

Consumer resource policies being their own, apart from their stream's, follows the API
reference: PutResourcePolicy "attaches a resource-based policy to a data stream or registered
consumer", each named by its ARN."""

import json

import pytest
from botocore.exceptions import ClientError

from kinesis_helpers import RESOURCE_NOT_FOUND, error_code, need_op, wait_until

S0 = "shardId-000000000000"


def _arn(kinesis, name):
    return kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]


def _policy(arn, sid, actions):
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": sid,
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                "Action": actions,
                "Resource": arn,
            }
        ],
    }


def _register(kinesis, stream_arn, name="consumer"):
    arn = kinesis.register_stream_consumer(StreamARN=stream_arn, ConsumerName=name)["Consumer"]["ConsumerARN"]
    wait_until(
        lambda: kinesis.describe_stream_consumer(ConsumerARN=arn)["ConsumerDescription"]["ConsumerStatus"] == "ACTIVE",
        timeout=30,
    )
    return arn


def _iterator(kinesis, stream, kind="TRIM_HORIZON"):
    return kinesis.get_shard_iterator(StreamName=stream, ShardId=S0, ShardIteratorType=kind)["ShardIterator"]


# ----------------------------------------------------------------- resource policies


def test_resource_policy_lifecycle_as_recorded(kinesis, stream):
    need_op(kinesis, "get_resource_policy")
    arn = _arn(kinesis, stream)
    assert kinesis.get_resource_policy(ResourceARN=arn)["Policy"] == "{}"
    first = _policy(arn, "AllowCrossAccountWrite", "kinesis:PutRecord")
    kinesis.put_resource_policy(ResourceARN=arn, Policy=json.dumps(first))
    assert json.loads(kinesis.get_resource_policy(ResourceARN=arn)["Policy"]) == first
    second = _policy(arn, "AllowCrossAccountReadWrite", ["kinesis:PutRecord", "kinesis:GetRecords"])
    kinesis.put_resource_policy(ResourceARN=arn, Policy=json.dumps(second))
    assert json.loads(kinesis.get_resource_policy(ResourceARN=arn)["Policy"]) == second
    kinesis.delete_resource_policy(ResourceARN=arn)
    assert kinesis.get_resource_policy(ResourceARN=arn)["Policy"] == "{}"
    with pytest.raises(ClientError):
        kinesis.delete_resource_policy(ResourceARN=arn)


def test_resource_policy_on_missing_stream_fails(kinesis, stream):
    need_op(kinesis, "put_resource_policy")
    missing = _arn(kinesis, stream) + "-missing"
    with pytest.raises(ClientError) as info:
        kinesis.put_resource_policy(ResourceARN=missing, Policy=json.dumps(_policy(missing, "S", "kinesis:PutRecord")))
    assert error_code(info.value) == RESOURCE_NOT_FOUND


def test_consumer_policy_is_its_own(kinesis, stream):
    need_op(kinesis, "get_resource_policy")
    stream_arn = _arn(kinesis, stream)
    consumer_arn = _register(kinesis, stream_arn)
    assert kinesis.get_resource_policy(ResourceARN=consumer_arn)["Policy"] == "{}"
    on_consumer = _policy(consumer_arn, "ConsumerRead", "kinesis:SubscribeToShard")
    kinesis.put_resource_policy(ResourceARN=consumer_arn, Policy=json.dumps(on_consumer))
    assert json.loads(kinesis.get_resource_policy(ResourceARN=consumer_arn)["Policy"]) == on_consumer
    # the stream's own policy is untouched, and deleting it leaves the consumer's in place
    assert kinesis.get_resource_policy(ResourceARN=stream_arn)["Policy"] == "{}"
    on_stream = _policy(stream_arn, "StreamWrite", "kinesis:PutRecord")
    kinesis.put_resource_policy(ResourceARN=stream_arn, Policy=json.dumps(on_stream))
    kinesis.delete_resource_policy(ResourceARN=stream_arn)
    assert json.loads(kinesis.get_resource_policy(ResourceARN=consumer_arn)["Policy"]) == on_consumer
    kinesis.delete_resource_policy(ResourceARN=consumer_arn)
    assert kinesis.get_resource_policy(ResourceARN=consumer_arn)["Policy"] == "{}"
    with pytest.raises(ClientError) as info:
        kinesis.delete_resource_policy(ResourceARN=consumer_arn)
    assert error_code(info.value) == RESOURCE_NOT_FOUND


def test_policy_of_unknown_consumer_is_not_found(kinesis, stream):
    need_op(kinesis, "get_resource_policy")
    ghost = _arn(kinesis, stream) + "/consumer/ghost:1700000000"
    with pytest.raises(ClientError) as info:
        kinesis.get_resource_policy(ResourceARN=ghost)
    assert error_code(info.value) == RESOURCE_NOT_FOUND


# ----------------------------------------------------------------- shard iterators


def test_quoted_shard_iterator_is_read(kinesis, stream):
    kinesis.put_records(StreamName=stream, Records=[{"Data": b"Hello world", "PartitionKey": "1"}])
    records = kinesis.get_records(ShardIterator=f'"{_iterator(kinesis, stream)}"')["Records"]
    assert [r["Data"] for r in records] == [b"Hello world"]


def test_next_shard_iterator_always_differs(kinesis, stream):
    latest = _iterator(kinesis, stream, "LATEST")
    second = kinesis.get_records(ShardIterator=latest)["NextShardIterator"]
    third = kinesis.get_records(ShardIterator=second)["NextShardIterator"]
    assert len({latest, second, third}) == 3


# ----------------------------------------------------------------- streams and consumers


def test_create_stream_without_name_is_400(kinesis_factory):
    client = kinesis_factory(parameter_validation=False)
    with pytest.raises(ClientError) as info:
        client.create_stream()
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_create_stream_without_shard_count_makes_four(kinesis, create_stream):
    name = create_stream(shard_count=None)
    shards = sorted(kinesis.describe_stream(StreamName=name)["StreamDescription"]["Shards"], key=lambda s: s["ShardId"])
    assert len(shards) == 4
    for s in shards:
        assert set(s) == {"ShardId", "HashKeyRange", "SequenceNumberRange"}
        assert set(s["HashKeyRange"]) == {"StartingHashKey", "EndingHashKey"}
        assert set(s["SequenceNumberRange"]) == {"StartingSequenceNumber"}


def test_consumer_fields_as_recorded(kinesis, stream):
    stream_arn = _arn(kinesis, stream)
    assert kinesis.list_stream_consumers(StreamARN=stream_arn)["Consumers"] == []
    consumer_arn = _register(kinesis, stream_arn)
    listed = kinesis.list_stream_consumers(StreamARN=stream_arn)["Consumers"]
    assert len(listed) == 1
    assert set(listed[0]) == {"ConsumerName", "ConsumerARN", "ConsumerStatus", "ConsumerCreationTimestamp"}
    assert listed[0]["ConsumerName"] == "consumer" and listed[0]["ConsumerStatus"] == "ACTIVE"
    described = kinesis.describe_stream_consumer(StreamARN=stream_arn, ConsumerARN=consumer_arn)["ConsumerDescription"]
    assert set(described) == set(listed[0]) | {"StreamARN"}
    assert described["StreamARN"] == stream_arn


# ----------------------------------------------------------------- records


def test_record_fields_and_data_integrity(kinesis, stream):
    iterator = _iterator(kinesis, stream)
    payloads = {"test", "ünicödé 统一码 💣💻🔥", "a" * 1000, ""}
    for p in payloads:
        kinesis.put_record(StreamName=stream, Data=p, PartitionKey="1")
    records = kinesis.get_records(ShardIterator=iterator)["Records"]
    assert {r["Data"] for r in records} == {p.encode() for p in payloads}
    for r in records:
        assert set(r) == {"SequenceNumber", "ApproximateArrivalTimestamp", "Data", "PartitionKey"}
        assert r["PartitionKey"] == "1"


def test_subscribe_to_shard_event_as_recorded(kinesis, stream):
    need_op(kinesis, "subscribe_to_shard")
    consumer_arn = _register(kinesis, _arn(kinesis, stream), "c1")
    events = kinesis.subscribe_to_shard(
        ConsumerARN=consumer_arn, ShardId=S0, StartingPosition={"Type": "TRIM_HORIZON"}
    )["EventStream"]
    kinesis.put_records(
        StreamName=stream, Records=[{"Data": f"Hello world_{i}", "PartitionKey": "1"} for i in range(5)]
    )
    for entry in events:
        event = entry["SubscribeToShardEvent"]
        if event["Records"]:
            break
    events.close()
    assert set(event) == {"Records", "ContinuationSequenceNumber", "MillisBehindLatest"}
    assert [r["Data"] for r in event["Records"]] == [f"Hello world_{i}".encode() for i in range(5)]
    assert event["MillisBehindLatest"] == 0
