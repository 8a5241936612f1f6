"""Kinesis stream administration: tags (stream-level and resource-level APIs), server-side
encryption, enhanced monitoring, stream mode, DescribeLimits, resource policies, maximum record
size, and account settings.

Expectations: Kinesis API reference (AddTagsToStream / RemoveTagsFromStream / ListTagsForStream,
TagResource / UntagResource / ListTagsForResource, Start/StopStreamEncryption, EnhancedMonitoringOutput
"CurrentShardLevelMetrics ... before the operation" / "DesiredShardLevelMetrics ... after",
UpdateStreamMode, DescribeLimits, Put/Get/DeleteResourcePolicy, UpdateMaxRecordSize (1024..10240 KiB),
Describe/UpdateAccountSettings). Operations missing from botocore 1.31.80 are skipped there."""

import json

import pytest
from botocore.exceptions import ClientError

from conftest import unique_name
from kinesis_helpers import (
    ALL_METRICS,
    BAD_INPUT,
    INVALID_ARGUMENT,
    MIB,
    RESOURCE_NOT_FOUND,
    error_code,
    expect_error,
    need_member,
    need_op,
    read_shard,
    summary,
    wait_active,
)

S0 = "shardId-000000000000"


def _tags(kinesis, name, **kw):
    return {t["Key"]: t.get("Value", "") for t in kinesis.list_tags_for_stream(StreamName=name, **kw)["Tags"]}


# ----------------------------------------------------------------- stream tags


def test_add_list_remove_tags(kinesis, stream):
    empty = kinesis.list_tags_for_stream(StreamName=stream)
    assert empty["Tags"] == [] and empty["HasMoreTags"] is False
    kinesis.add_tags_to_stream(StreamName=stream, Tags={"a": "1", "b": "2", "c": ""})
    assert _tags(kinesis, stream) == {"a": "1", "b": "2", "c": ""}
    kinesis.add_tags_to_stream(StreamName=stream, Tags={"a": "one"})  # overwrite
    assert _tags(kinesis, stream) == {"a": "one", "b": "2", "c": ""}
    kinesis.remove_tags_from_stream(StreamName=stream, TagKeys=["b", "not-there"])
    assert _tags(kinesis, stream) == {"a": "one", "c": ""}


def test_list_tags_limit_and_exclusive_start(kinesis, stream):
    kinesis.add_tags_to_stream(StreamName=stream, Tags={"k1": "v1", "k2": "v2", "k3": "v3"})
    first = kinesis.list_tags_for_stream(StreamName=stream, Limit=2)
    assert len(first["Tags"]) == 2
    assert first["HasMoreTags"] is True
    rest = kinesis.list_tags_for_stream(StreamName=stream, ExclusiveStartTagKey=first["Tags"][-1]["Key"])
    assert rest["HasMoreTags"] is False
    keys = [t["Key"] for t in first["Tags"]] + [t["Key"] for t in rest["Tags"]]
    assert sorted(keys) == ["k1", "k2", "k3"]
    assert len(set(keys)) == 3


def test_tags_unknown_stream(kinesis):
    expect_error(kinesis.add_tags_to_stream, RESOURCE_NOT_FOUND, 400, StreamName=unique_name("nope"), Tags={"a": "b"})
    expect_error(kinesis.list_tags_for_stream, RESOURCE_NOT_FOUND, 400, StreamName=unique_name("nope"))


def test_tag_resource_api(kinesis, stream):
    need_op(kinesis, "tag_resource")
    arn = summary(kinesis, stream)["StreamARN"]
    kinesis.tag_resource(ResourceARN=arn, Tags={"x": "1", "y": "2"})
    tags = {t["Key"]: t["Value"] for t in kinesis.list_tags_for_resource(ResourceARN=arn)["Tags"]}
    assert tags == {"x": "1", "y": "2"}
    # the same tags as the stream-level API sees
    assert _tags(kinesis, stream) == {"x": "1", "y": "2"}
    kinesis.untag_resource(ResourceARN=arn, TagKeys=["x"])
    assert {t["Key"]: t["Value"] for t in kinesis.list_tags_for_resource(ResourceARN=arn)["Tags"]} == {"y": "2"}


def test_tag_resource_consumer(kinesis, stream):
    need_op(kinesis, "tag_resource")
    arn = summary(kinesis, stream)["StreamARN"]
    c = kinesis.register_stream_consumer(StreamARN=arn, ConsumerName="tagged")["Consumer"]["ConsumerARN"]
    kinesis.tag_resource(ResourceARN=c, Tags={"owner": "me"})
    assert kinesis.list_tags_for_resource(ResourceARN=c)["Tags"] == [{"Key": "owner", "Value": "me"}]
    # consumer tags are not stream tags
    assert _tags(kinesis, stream) == {}


# ----------------------------------------------------------------- retention is in test_kinesis_streams.py
# ----------------------------------------------------------------- encryption


def test_start_stop_stream_encryption(kinesis, stream):
    kinesis.start_stream_encryption(StreamName=stream, EncryptionType="KMS", KeyId="alias/aws/kinesis")
    s = wait_active(kinesis, stream)
    assert s["EncryptionType"] == "KMS"
    assert s["KeyId"] == "alias/aws/kinesis"
    d = kinesis.describe_stream(StreamName=stream)["StreamDescription"]
    assert d["EncryptionType"] == "KMS" and d["KeyId"] == "alias/aws/kinesis"
    put = kinesis.put_record(StreamName=stream, Data=b"secret", PartitionKey="k")
    assert put["EncryptionType"] == "KMS"
    batch = kinesis.put_records(StreamName=stream, Records=[{"Data": b"s2", "PartitionKey": "k"}])
    assert batch["EncryptionType"] == "KMS"
    recs = read_shard(kinesis, stream, S0)
    assert [r["Data"] for r in recs] == [b"secret", b"s2"]
    assert all(r["EncryptionType"] == "KMS" for r in recs)

    kinesis.stop_stream_encryption(StreamName=stream, EncryptionType="KMS", KeyId="alias/aws/kinesis")
    s = wait_active(kinesis, stream)
    assert s["EncryptionType"] == "NONE"
    assert kinesis.put_record(StreamName=stream, Data=b"plain", PartitionKey="k").get("EncryptionType", "NONE") == "NONE"


def test_start_encryption_bad_type(kinesis, kinesis_factory, stream):
    raw = kinesis_factory(parameter_validation=False)
    with pytest.raises(ClientError) as info:
        raw.start_stream_encryption(StreamName=stream, EncryptionType="AES", KeyId="alias/aws/kinesis")
    assert error_code(info.value) in BAD_INPUT
    assert summary(kinesis, stream)["EncryptionType"] == "NONE"


# ----------------------------------------------------------------- enhanced monitoring


def test_enhanced_monitoring(kinesis, stream):
    r = kinesis.enable_enhanced_monitoring(StreamName=stream, ShardLevelMetrics=["IncomingBytes"])
    assert r["StreamName"] == stream
    assert r.get("CurrentShardLevelMetrics", []) == []
    assert r["DesiredShardLevelMetrics"] == ["IncomingBytes"]
    wait_active(kinesis, stream)

    r = kinesis.enable_enhanced_monitoring(StreamName=stream, ShardLevelMetrics=["OutgoingRecords"])
    assert r["CurrentShardLevelMetrics"] == ["IncomingBytes"]
    assert set(r["DesiredShardLevelMetrics"]) == {"IncomingBytes", "OutgoingRecords"}
    s = wait_active(kinesis, stream)
    metrics = {m for em in s["EnhancedMonitoring"] for m in em.get("ShardLevelMetrics", [])}
    assert metrics == {"IncomingBytes", "OutgoingRecords"}

    r = kinesis.disable_enhanced_monitoring(StreamName=stream, ShardLevelMetrics=["IncomingBytes"])
    assert set(r["CurrentShardLevelMetrics"]) == {"IncomingBytes", "OutgoingRecords"}
    assert r["DesiredShardLevelMetrics"] == ["OutgoingRecords"]
    wait_active(kinesis, stream)


def test_enhanced_monitoring_all_expands(kinesis, stream):
    r = kinesis.enable_enhanced_monitoring(StreamName=stream, ShardLevelMetrics=["ALL"])
    assert set(r["DesiredShardLevelMetrics"]) == ALL_METRICS
    s = wait_active(kinesis, stream)
    assert {m for em in s["EnhancedMonitoring"] for m in em.get("ShardLevelMetrics", [])} == ALL_METRICS
    r = kinesis.disable_enhanced_monitoring(StreamName=stream, ShardLevelMetrics=["ALL"])
    assert set(r["CurrentShardLevelMetrics"]) == ALL_METRICS
    assert r.get("DesiredShardLevelMetrics", []) == []
    s = wait_active(kinesis, stream)
    assert {m for em in s["EnhancedMonitoring"] for m in em.get("ShardLevelMetrics", [])} == set()


def test_enhanced_monitoring_bad_metric(kinesis_factory, stream):
    raw = kinesis_factory(parameter_validation=False)
    with pytest.raises(ClientError) as info:
        raw.enable_enhanced_monitoring(StreamName=stream, ShardLevelMetrics=["CPUUtilization"])
    assert error_code(info.value) in BAD_INPUT


# ----------------------------------------------------------------- stream mode


def test_update_stream_mode(kinesis, create_stream):
    name = create_stream(shard_count=2)
    arn = summary(kinesis, name)["StreamARN"]
    kinesis.update_stream_mode(StreamARN=arn, StreamModeDetails={"StreamMode": "ON_DEMAND"})
    s = wait_active(kinesis, name)
    assert s["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}
    assert kinesis.put_record(StreamName=name, Data=b"x", PartitionKey="k")["SequenceNumber"]
    kinesis.update_stream_mode(StreamARN=arn, StreamModeDetails={"StreamMode": "PROVISIONED"})
    s = wait_active(kinesis, name)
    assert s["StreamModeDetails"] == {"StreamMode": "PROVISIONED"}
    assert s["OpenShardCount"] >= 1


def test_update_stream_mode_unknown_stream(kinesis, stream):
    arn = summary(kinesis, stream)["StreamARN"].rsplit("/", 1)[0] + "/" + unique_name("nope")
    expect_error(
        kinesis.update_stream_mode, RESOURCE_NOT_FOUND, 400, StreamARN=arn, StreamModeDetails={"StreamMode": "ON_DEMAND"}
    )


# ----------------------------------------------------------------- limits


def test_describe_limits_counts_open_shards(kinesis, create_stream):
    before = kinesis.describe_limits()
    assert before["ShardLimit"] > 0
    assert before["OnDemandStreamCountLimit"] > 0
    assert 0 <= before["OpenShardCount"] <= before["ShardLimit"]
    name = create_stream(shard_count=3)
    assert kinesis.describe_limits()["OpenShardCount"] == before["OpenShardCount"] + 3
    kinesis.split_shard(StreamName=name, ShardToSplit=S0, NewStartingHashKey="1000")
    wait_active(kinesis, name)
    # the parent closed, two children opened: one more open shard
    assert kinesis.describe_limits()["OpenShardCount"] == before["OpenShardCount"] + 4
    od = create_stream(on_demand=True)
    after = kinesis.describe_limits()
    assert after["OnDemandStreamCount"] == before["OnDemandStreamCount"] + 1
    assert after["OpenShardCount"] == before["OpenShardCount"] + 4 + summary(kinesis, od)["OpenShardCount"]


# ----------------------------------------------------------------- resource policy


def _policy(arn):
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "read",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                "Action": ["kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:DescribeStreamSummary"],
                "Resource": arn,
            }
        ],
    }


def test_resource_policy_put_get_delete(kinesis, stream):
    need_op(kinesis, "put_resource_policy")
    arn = summary(kinesis, stream)["StreamARN"]
    kinesis.put_resource_policy(ResourceARN=arn, Policy=json.dumps(_policy(arn)))
    assert json.loads(kinesis.get_resource_policy(ResourceARN=arn)["Policy"]) == _policy(arn)
    kinesis.delete_resource_policy(ResourceARN=arn)
    # with no policy attached AWS answers an empty document (recorded in LocalStack's
    # AWS-validated test_resource_policy_crud), not an error
    assert kinesis.get_resource_policy(ResourceARN=arn)["Policy"] == "{}"


def test_resource_policy_unknown_stream(kinesis, stream):
    need_op(kinesis, "put_resource_policy")
    arn = summary(kinesis, stream)["StreamARN"].rsplit("/", 1)[0] + "/" + unique_name("nope")
    expect_error(kinesis.put_resource_policy, RESOURCE_NOT_FOUND, 400, ResourceARN=arn, Policy=json.dumps(_policy(arn)))


def test_resource_policy_invalid_json(kinesis, stream):
    need_op(kinesis, "put_resource_policy")
    arn = summary(kinesis, stream)["StreamARN"]
    with pytest.raises(ClientError) as info:
        kinesis.put_resource_policy(ResourceARN=arn, Policy="{not json")
    assert error_code(info.value) in BAD_INPUT
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


# ----------------------------------------------------------------- max record size


def test_update_max_record_size(kinesis, stream):
    need_op(kinesis, "update_max_record_size")
    arn = summary(kinesis, stream)["StreamARN"]
    big = b"b" * (MIB + MIB // 2)  # 1.5 MiB: over the 1 MiB default
    with pytest.raises(ClientError) as info:
        kinesis.put_record(StreamName=stream, Data=big, PartitionKey="k")
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    kinesis.update_max_record_size(StreamARN=arn, MaxRecordSizeInKiB=2048)
    s = wait_active(kinesis, stream)
    if "MaxRecordSizeInKiB" in s:
        assert s["MaxRecordSizeInKiB"] == 2048
    else:
        need_member(kinesis, "DescribeStreamSummary", "MaxRecordSizeInKiB", output=True)
    r = kinesis.put_record(StreamName=stream, Data=big, PartitionKey="k")
    recs = read_shard(kinesis, stream, r["ShardId"])
    assert [x["Data"] for x in recs] == [big]
    # still bounded by the new maximum
    with pytest.raises(ClientError) as info:
        kinesis.put_record(StreamName=stream, Data=b"c" * (2 * MIB), PartitionKey="k")
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_update_max_record_size_out_of_range(kinesis_factory, kinesis, stream):
    need_op(kinesis, "update_max_record_size")
    raw = kinesis_factory(parameter_validation=False)
    arn = summary(kinesis, stream)["StreamARN"]
    for bad in (1023, 10241):
        with pytest.raises(ClientError) as info:
            raw.update_max_record_size(StreamARN=arn, MaxRecordSizeInKiB=bad)
        assert error_code(info.value) in BAD_INPUT, bad


def test_create_stream_with_max_record_size(kinesis, create_stream):
    need_member(kinesis, "CreateStream", "MaxRecordSizeInKiB")
    name = create_stream(MaxRecordSizeInKiB=4096)
    assert summary(kinesis, name)["MaxRecordSizeInKiB"] == 4096
    data = b"z" * (3 * MIB)
    kinesis.put_record(StreamName=name, Data=data, PartitionKey="k")
    assert [r["Data"] for r in read_shard(kinesis, name, S0)] == [data]


# ----------------------------------------------------------------- account settings


def test_account_settings(kinesis):
    need_op(kinesis, "update_account_settings")
    kinesis.describe_account_settings()  # answers, whatever the current state
    r = kinesis.update_account_settings(MinimumThroughputBillingCommitment={"Status": "ENABLED"})
    assert r["MinimumThroughputBillingCommitment"]["Status"] == "ENABLED"
    d = kinesis.describe_account_settings()["MinimumThroughputBillingCommitment"]
    assert d["Status"] == "ENABLED"
    assert "StartedAt" in d
    r = kinesis.update_account_settings(MinimumThroughputBillingCommitment={"Status": "DISABLED"})
    assert r["MinimumThroughputBillingCommitment"]["Status"] in ("DISABLED", "ENABLED_UNTIL_EARLIEST_ALLOWED_END")
    d = kinesis.describe_account_settings()["MinimumThroughputBillingCommitment"]
    assert d["Status"] in ("DISABLED", "ENABLED_UNTIL_EARLIEST_ALLOWED_END")


def test_account_settings_bad_status(kinesis_factory, kinesis):
    need_op(kinesis, "update_account_settings")
    raw = kinesis_factory(parameter_validation=False)
    with pytest.raises(ClientError) as info:
        raw.update_account_settings(MinimumThroughputBillingCommitment={"Status": "MAYBE"})
    assert error_code(info.value) in BAD_INPUT + (INVALID_ARGUMENT,)


def test_ten_mib_record_with_max_record_size_10240(kinesis, create_stream):
    # "You can ingest and digest single records up to 10240 KiB." (UpdateMaxRecordSize); the JSON
    # request carries the blob base64-encoded, ~13.4 MB.
    need_member(kinesis, "CreateStream", "MaxRecordSizeInKiB")
    name = create_stream(MaxRecordSizeInKiB=10240)
    data = b"t" * (10 * MIB - 1)
    r = kinesis.put_record(StreamName=name, Data=data, PartitionKey="k")
    recs = read_shard(kinesis, name, r["ShardId"])
    assert len(recs) == 1 and recs[0]["Data"] == data
