"""Kinesis streams: CreateStream, DeleteStream, DescribeStream, DescribeStreamSummary, ListStreams,
StreamARN in place of StreamName, retention periods, and input validation.

Expectations: Kinesis Data Streams API reference (CreateStream, DeleteStream, DescribeStream,
DescribeStreamSummary, ListStreams, Increase/DecreaseStreamRetentionPeriod) and the botocore model."""

from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError, ParamValidationError

from conftest import unique_name
from kinesis_helpers import (
    BAD_INPUT,
    INVALID_ARGUMENT,
    RESOURCE_IN_USE,
    RESOURCE_NOT_FOUND,
    SHARD_ID_RE,
    STREAM_ARN_RE,
    assert_covers_key_space,
    expect_error,
    need_member,
    summary,
    wait_active,
    wait_gone,
)


# ----------------------------------------------------------------- create / describe


def test_create_stream_provisioned_summary_defaults(kinesis, create_stream):
    name = create_stream(shard_count=3)
    s = summary(kinesis, name)
    assert s["StreamName"] == name
    m = STREAM_ARN_RE.match(s["StreamARN"])
    assert m and m.group("name") == name, s["StreamARN"]
    assert ":us-east-1:" in s["StreamARN"]
    assert s["StreamStatus"] == "ACTIVE"
    assert s["OpenShardCount"] == 3
    assert s["RetentionPeriodHours"] == 24
    assert s["EncryptionType"] == "NONE"
    assert s["StreamModeDetails"] == {"StreamMode": "PROVISIONED"}
    assert s.get("ConsumerCount", 0) == 0
    metrics = [m for em in s["EnhancedMonitoring"] for m in em.get("ShardLevelMetrics", [])]
    assert metrics == []
    created = s["StreamCreationTimestamp"]
    assert isinstance(created, datetime)
    assert abs(datetime.now(timezone.utc) - created) < timedelta(minutes=5)


def test_create_stream_waiter_stream_exists(kinesis):
    name = unique_name("ks")
    kinesis.create_stream(StreamName=name, ShardCount=1)
    try:
        kinesis.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
        d = kinesis.describe_stream(StreamName=name)["StreamDescription"]
        assert d["StreamStatus"] == "ACTIVE"
    finally:
        kinesis.delete_stream(StreamName=name)


def test_create_stream_on_demand_has_four_shards(kinesis, create_stream):
    name = create_stream(on_demand=True)
    s = summary(kinesis, name)
    assert s["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}
    assert s["OpenShardCount"] == 4
    shards = kinesis.list_shards(StreamName=name)["Shards"]
    assert len(shards) == 4
    assert_covers_key_space(shards)


def test_describe_stream_shards(kinesis, create_stream):
    name = create_stream(shard_count=4)
    d = kinesis.describe_stream(StreamName=name)["StreamDescription"]
    assert d["StreamName"] == name
    assert d["StreamStatus"] == "ACTIVE"
    assert d["HasMoreShards"] is False
    assert d["RetentionPeriodHours"] == 24
    assert d["EncryptionType"] == "NONE"
    assert isinstance(d["StreamCreationTimestamp"], datetime)
    ids = [s["ShardId"] for s in d["Shards"]]
    assert ids == [f"shardId-{i:012d}" for i in range(4)]
    for s in d["Shards"]:
        assert SHARD_ID_RE.match(s["ShardId"])
        assert "ParentShardId" not in s
        assert int(s["SequenceNumberRange"]["StartingSequenceNumber"]) >= 0
        assert "EndingSequenceNumber" not in s["SequenceNumberRange"]
    # 4 shards: exact quarters of the 128-bit key space
    q = 2**128 // 4
    assert [(int(s["HashKeyRange"]["StartingHashKey"]), int(s["HashKeyRange"]["EndingHashKey"])) for s in d["Shards"]] == [
        (0, q - 1),
        (q, 2 * q - 1),
        (2 * q, 3 * q - 1),
        (3 * q, 2**128 - 1),
    ]


def test_describe_stream_limit_and_exclusive_start(kinesis, create_stream):
    name = create_stream(shard_count=5)
    seen = []
    d = kinesis.describe_stream(StreamName=name, Limit=2)["StreamDescription"]
    assert len(d["Shards"]) == 2
    assert d["HasMoreShards"] is True
    seen += [s["ShardId"] for s in d["Shards"]]
    while d["HasMoreShards"]:
        d = kinesis.describe_stream(StreamName=name, Limit=2, ExclusiveStartShardId=seen[-1])["StreamDescription"]
        assert 1 <= len(d["Shards"]) <= 2
        seen += [s["ShardId"] for s in d["Shards"]]
        assert len(seen) <= 5
    assert seen == [f"shardId-{i:012d}" for i in range(5)]
    # starting after the last shard: nothing more
    d = kinesis.describe_stream(StreamName=name, ExclusiveStartShardId=seen[-1])["StreamDescription"]
    assert d["Shards"] == [] and d["HasMoreShards"] is False


def test_uneven_shard_counts_cover_key_space(kinesis, create_stream):
    for n in (3, 7):
        name = create_stream(shard_count=n)
        shards = kinesis.describe_stream(StreamName=name)["StreamDescription"]["Shards"]
        assert len(shards) == n
        assert_covers_key_space(shards)


def test_create_duplicate_stream_is_resource_in_use(kinesis, create_stream):
    name = create_stream()
    expect_error(kinesis.create_stream, RESOURCE_IN_USE, 400, StreamName=name, ShardCount=1)


def test_create_stream_with_tags(kinesis, create_stream):
    need_member(kinesis, "CreateStream", "Tags")
    name = create_stream(Tags={"team": "blue", "env": "test"})
    tags = kinesis.list_tags_for_stream(StreamName=name)["Tags"]
    assert {t["Key"]: t["Value"] for t in tags} == {"team": "blue", "env": "test"}


# ----------------------------------------------------------------- delete


def test_delete_stream(kinesis, create_stream):
    name = create_stream()
    kinesis.delete_stream(StreamName=name)
    wait_gone(kinesis, name)
    expect_error(kinesis.describe_stream, RESOURCE_NOT_FOUND, 400, StreamName=name)
    expect_error(kinesis.put_record, RESOURCE_NOT_FOUND, 400, StreamName=name, Data=b"x", PartitionKey="k")
    expect_error(kinesis.delete_stream, RESOURCE_NOT_FOUND, 400, StreamName=name)


def test_delete_stream_name_reusable(kinesis, create_stream):
    name = create_stream(shard_count=2)
    kinesis.put_record(StreamName=name, Data=b"old", PartitionKey="k")
    kinesis.delete_stream(StreamName=name)
    wait_gone(kinesis, name)
    create_stream(name=name, shard_count=1)
    s = summary(kinesis, name)
    assert s["OpenShardCount"] == 1
    it = kinesis.get_shard_iterator(StreamName=name, ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON")
    assert kinesis.get_records(ShardIterator=it["ShardIterator"])["Records"] == []


def test_delete_stream_with_consumer_needs_enforce(kinesis, create_stream):
    name = create_stream()
    arn = summary(kinesis, name)["StreamARN"]
    kinesis.register_stream_consumer(StreamARN=arn, ConsumerName="c1")
    expect_error(kinesis.delete_stream, RESOURCE_IN_USE, 400, StreamName=name)
    assert summary(kinesis, name)["StreamStatus"] == "ACTIVE"
    kinesis.delete_stream(StreamName=name, EnforceConsumerDeletion=True)
    wait_gone(kinesis, name)


def test_unknown_stream_is_not_found(kinesis):
    name = unique_name("nope")
    expect_error(kinesis.describe_stream_summary, RESOURCE_NOT_FOUND, 400, StreamName=name)
    expect_error(kinesis.list_shards, RESOURCE_NOT_FOUND, 400, StreamName=name)
    expect_error(kinesis.put_record, RESOURCE_NOT_FOUND, 400, StreamName=name, Data=b"x", PartitionKey="k")
    expect_error(
        kinesis.get_shard_iterator,
        RESOURCE_NOT_FOUND,
        400,
        StreamName=name,
        ShardId="shardId-000000000000",
        ShardIteratorType="LATEST",
    )


# ----------------------------------------------------------------- list


def _all_stream_names(kinesis, limit=2):
    names, pages = [], 0
    resp = kinesis.list_streams(Limit=limit)
    while True:
        pages += 1
        assert len(resp["StreamNames"]) <= limit
        names += resp["StreamNames"]
        if not resp["HasMoreStreams"]:
            break
        assert resp.get("NextToken"), "HasMoreStreams without NextToken"
        resp = kinesis.list_streams(NextToken=resp["NextToken"], Limit=limit)
        assert pages < 1000
    return names, pages


def test_list_streams_pagination(kinesis, create_stream):
    prefix = unique_name("ks-list")
    mine = [create_stream(name=f"{prefix}-{c}") for c in "abc"]
    names, pages = _all_stream_names(kinesis, limit=2)
    assert pages >= 2
    assert len(names) == len(set(names)), "a stream was listed twice"
    assert set(mine) <= set(names)


def test_list_streams_exclusive_start_stream_name(kinesis, create_stream):
    prefix = unique_name("ks-list")
    a, b, c = (create_stream(name=f"{prefix}-{x}") for x in "abc")
    resp = kinesis.list_streams(ExclusiveStartStreamName=a, Limit=2)
    assert resp["StreamNames"] == [b, c]
    resp = kinesis.list_streams(ExclusiveStartStreamName=c, Limit=1)
    assert c not in resp["StreamNames"] and a not in resp["StreamNames"]


def test_list_streams_summaries(kinesis, create_stream):
    need_member(kinesis, "ListStreams", "StreamSummaries", output=True)
    name = create_stream(on_demand=True)
    summaries = []
    resp = kinesis.list_streams()
    summaries += resp.get("StreamSummaries", [])
    while resp["HasMoreStreams"]:
        resp = kinesis.list_streams(NextToken=resp["NextToken"])
        summaries += resp.get("StreamSummaries", [])
    mine = [s for s in summaries if s["StreamName"] == name]
    assert len(mine) == 1
    s = mine[0]
    assert STREAM_ARN_RE.match(s["StreamARN"]).group("name") == name
    assert s["StreamStatus"] == "ACTIVE"
    assert s["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}
    assert isinstance(s["StreamCreationTimestamp"], datetime)


# ----------------------------------------------------------------- StreamARN instead of StreamName


def test_stream_arn_accepted_instead_of_name(kinesis, create_stream):
    need_member(kinesis, "PutRecord", "StreamARN")
    name = create_stream(shard_count=2)
    arn = summary(kinesis, name)["StreamARN"]
    assert kinesis.describe_stream_summary(StreamARN=arn)["StreamDescriptionSummary"]["StreamName"] == name
    assert kinesis.describe_stream(StreamARN=arn)["StreamDescription"]["StreamName"] == name
    assert len(kinesis.list_shards(StreamARN=arn)["Shards"]) == 2
    put = kinesis.put_record(StreamARN=arn, Data=b"by-arn", PartitionKey="p")
    it = kinesis.get_shard_iterator(StreamARN=arn, ShardId=put["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    recs = kinesis.get_records(ShardIterator=it, StreamARN=arn)["Records"]
    assert [r["Data"] for r in recs] == [b"by-arn"]
    res = kinesis.put_records(StreamARN=arn, Records=[{"Data": b"r", "PartitionKey": "p"}])
    assert res.get("FailedRecordCount", 0) == 0
    kinesis.increase_stream_retention_period(StreamARN=arn, RetentionPeriodHours=48)
    kinesis.add_tags_to_stream(StreamARN=arn, Tags={"k": "v"})
    assert kinesis.list_tags_for_stream(StreamARN=arn)["Tags"] == [{"Key": "k", "Value": "v"}]
    assert summary(kinesis, name)["RetentionPeriodHours"] == 48
    kinesis.delete_stream(StreamARN=arn)
    wait_gone(kinesis, name)


def test_stream_arn_of_unknown_stream_is_not_found(kinesis, create_stream):
    need_member(kinesis, "DescribeStreamSummary", "StreamARN")
    name = create_stream()
    arn = summary(kinesis, name)["StreamARN"]
    other = arn.rsplit("/", 1)[0] + "/" + unique_name("nope")
    expect_error(kinesis.describe_stream_summary, RESOURCE_NOT_FOUND, 400, StreamARN=other)


# ----------------------------------------------------------------- retention


def test_retention_increase_and_decrease(kinesis, stream):
    kinesis.increase_stream_retention_period(StreamName=stream, RetentionPeriodHours=168)
    assert wait_active(kinesis, stream)["RetentionPeriodHours"] == 168
    kinesis.decrease_stream_retention_period(StreamName=stream, RetentionPeriodHours=48)
    assert wait_active(kinesis, stream)["RetentionPeriodHours"] == 48
    assert kinesis.describe_stream(StreamName=stream)["StreamDescription"]["RetentionPeriodHours"] == 48
    kinesis.increase_stream_retention_period(StreamName=stream, RetentionPeriodHours=8760)
    assert wait_active(kinesis, stream)["RetentionPeriodHours"] == 8760
    kinesis.decrease_stream_retention_period(StreamName=stream, RetentionPeriodHours=24)
    assert wait_active(kinesis, stream)["RetentionPeriodHours"] == 24


@pytest.mark.parametrize(
    "op,hours",
    [
        ("increase_stream_retention_period", 8761),  # above the 8760 h maximum
        ("increase_stream_retention_period", 12),  # below the current 24 h
        ("decrease_stream_retention_period", 23),  # below the 24 h minimum
        ("decrease_stream_retention_period", 72),  # above the current 24 h
    ],
)
def test_retention_out_of_range_is_invalid_argument(kinesis, stream, op, hours):
    expect_error(getattr(kinesis, op), INVALID_ARGUMENT, 400, StreamName=stream, RetentionPeriodHours=hours)
    assert summary(kinesis, stream)["RetentionPeriodHours"] == 24


# ----------------------------------------------------------------- validation


@pytest.fixture(scope="module")
def raw_kinesis(kinesis_factory):
    """A client that skips botocore's client-side parameter validation, so that the server judges."""
    return kinesis_factory(parameter_validation=False)


@pytest.mark.parametrize("bad", ["has space", "slash/name", "x" * 129, "ümlaut"])
def test_create_stream_bad_name(raw_kinesis, bad):
    expect_error(raw_kinesis.create_stream, BAD_INPUT, 400, StreamName=bad, ShardCount=1)


def test_create_stream_empty_name_client_side(kinesis):
    with pytest.raises(ParamValidationError):
        kinesis.create_stream(StreamName="", ShardCount=1)


def test_create_stream_shard_count_zero(raw_kinesis, kinesis):
    name = unique_name("ks")
    expect_error(raw_kinesis.create_stream, BAD_INPUT, 400, StreamName=name, ShardCount=0)
    expect_error(kinesis.describe_stream_summary, RESOURCE_NOT_FOUND, 400, StreamName=name)


def test_create_stream_max_name_length_ok(kinesis, create_stream):
    name = ("ks-" + unique_name("x") + "_." + "a" * 128)[:128]
    assert len(name) == 128
    assert summary(kinesis, create_stream(name=name))["StreamName"] == name


def test_describe_stream_limit_out_of_range(raw_kinesis, stream):
    expect_error(raw_kinesis.describe_stream, BAD_INPUT, 400, StreamName=stream, Limit=0)
    expect_error(raw_kinesis.describe_stream, BAD_INPUT, 400, StreamName=stream, Limit=10001)


def test_missing_stream_name_and_arn(raw_kinesis):
    with pytest.raises(ClientError) as info:
        raw_kinesis.describe_stream_summary()
    assert info.value.response["Error"]["Code"] in BAD_INPUT + (RESOURCE_NOT_FOUND,)
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_stream_status_not_active_before_create_visible(kinesis, create_stream):
    # DescribeStreamSummary right after CreateStream: CREATING or ACTIVE, never anything else
    name = create_stream(wait=False)
    status = summary(kinesis, name)["StreamStatus"]
    assert status in ("CREATING", "ACTIVE")
    assert wait_active(kinesis, name)["OpenShardCount"] == 1


def test_stream_arn_accepted_by_resharding_and_admin_ops(kinesis, create_stream):
    need_member(kinesis, "SplitShard", "StreamARN")
    name = create_stream(shard_count=2)
    arn = summary(kinesis, name)["StreamARN"]
    kinesis.split_shard(StreamARN=arn, ShardToSplit="shardId-000000000000", NewStartingHashKey="1000")
    wait_active(kinesis, name)
    kinesis.merge_shards(StreamARN=arn, ShardToMerge="shardId-000000000002", AdjacentShardToMerge="shardId-000000000003")
    wait_active(kinesis, name)
    r = kinesis.update_shard_count(StreamARN=arn, TargetShardCount=4, ScalingType="UNIFORM_SCALING")
    assert r["TargetShardCount"] == 4
    assert wait_active(kinesis, name)["OpenShardCount"] == 4
    r = kinesis.enable_enhanced_monitoring(StreamARN=arn, ShardLevelMetrics=["IncomingBytes"])
    assert r["DesiredShardLevelMetrics"] == ["IncomingBytes"]
    wait_active(kinesis, name)
    kinesis.disable_enhanced_monitoring(StreamARN=arn, ShardLevelMetrics=["IncomingBytes"])
    wait_active(kinesis, name)
    kinesis.start_stream_encryption(StreamARN=arn, EncryptionType="KMS", KeyId="alias/aws/kinesis")
    assert wait_active(kinesis, name)["EncryptionType"] == "KMS"
    kinesis.stop_stream_encryption(StreamARN=arn, EncryptionType="KMS", KeyId="alias/aws/kinesis")
    assert wait_active(kinesis, name)["EncryptionType"] == "NONE"
    kinesis.increase_stream_retention_period(StreamARN=arn, RetentionPeriodHours=36)
    kinesis.decrease_stream_retention_period(StreamARN=arn, RetentionPeriodHours=30)
    assert wait_active(kinesis, name)["RetentionPeriodHours"] == 30
    kinesis.add_tags_to_stream(StreamARN=arn, Tags={"a": "1", "b": "2"})
    kinesis.remove_tags_from_stream(StreamARN=arn, TagKeys=["a"])
    assert kinesis.list_tags_for_stream(StreamARN=arn)["Tags"] == [{"Key": "b", "Value": "2"}]
    ids = {s["ShardId"] for s in kinesis.list_shards(StreamARN=arn, ShardFilter={"Type": "AT_LATEST"})["Shards"]}
    assert len(ids) == 4


def test_stream_name_and_arn_must_agree(kinesis, create_stream):
    need_member(kinesis, "DescribeStreamSummary", "StreamARN")
    a = create_stream()
    b = create_stream()
    arn_b = summary(kinesis, b)["StreamARN"]
    # both given and naming the same stream: fine
    assert kinesis.describe_stream_summary(StreamName=b, StreamARN=arn_b)["StreamDescriptionSummary"]["StreamName"] == b
    # naming different streams: rejected
    with pytest.raises(ClientError) as info:
        kinesis.describe_stream_summary(StreamName=a, StreamARN=arn_b)
    assert info.value.response["Error"]["Code"] in (INVALID_ARGUMENT, "ValidationException", RESOURCE_NOT_FOUND)


# ----------------------------------------------------------------- scoping by account and region
# CreateStream: "The name is scoped to the Amazon Web Services account used by the application. It is
# also scoped by Amazon Web Services Region." (eddy takes a 12-digit access key id as the account id
# and the region from the SigV4 credential scope.)


def test_stream_names_scoped_by_account_and_region(kinesis, kinesis_factory, create_stream):
    name = create_stream()
    other_account = kinesis_factory(access_key="111122223333")
    other_region = kinesis_factory(region="eu-west-1")
    create_stream(name=name, client=other_account)
    create_stream(name=name, client=other_region, shard_count=2)
    arn_default = summary(kinesis, name)["StreamARN"]
    arn_account = summary(other_account, name)["StreamARN"]
    arn_region = summary(other_region, name)["StreamARN"]
    assert len({arn_default, arn_account, arn_region}) == 3
    assert ":111122223333:stream/" in arn_account
    assert arn_region.startswith("arn:aws:kinesis:eu-west-1:")
    assert summary(other_region, name)["OpenShardCount"] == 2
    assert summary(kinesis, name)["OpenShardCount"] == 1
    # records do not leak between them
    other_account.put_record(StreamName=name, Data=b"other", PartitionKey="k")
    it = kinesis.get_shard_iterator(StreamName=name, ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON")
    assert kinesis.get_records(ShardIterator=it["ShardIterator"])["Records"] == []


@pytest.mark.parametrize("op", ["split_shard", "merge_shards", "update_shard_count"])
def test_on_demand_stream_rejects_manual_resharding(kinesis, create_stream, op):
    # SplitShard / MergeShards / UpdateShardCount: "This API is only supported for the data streams
    # with the provisioned capacity mode."
    name = create_stream(on_demand=True)
    kwargs = {
        "split_shard": dict(ShardToSplit="shardId-000000000000", NewStartingHashKey="1000"),
        "merge_shards": dict(ShardToMerge="shardId-000000000000", AdjacentShardToMerge="shardId-000000000001"),
        "update_shard_count": dict(TargetShardCount=8, ScalingType="UNIFORM_SCALING"),
    }[op]
    with pytest.raises(ClientError) as info:
        getattr(kinesis, op)(StreamName=name, **kwargs)
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert info.value.response["Error"]["Code"] in BAD_INPUT + (RESOURCE_IN_USE,)
    assert len(kinesis.list_shards(StreamName=name)["Shards"]) == 4
