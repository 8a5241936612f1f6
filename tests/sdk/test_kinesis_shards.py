"""Kinesis shards: ListShards (MaxResults / NextToken pagination, ExclusiveStartShardId, every
ShardFilter type), shard ids and hash key ranges.

Expectations: Kinesis API reference, ListShards and ShardFilter ("AT_LATEST - only the currently
open shards", "AT_TRIM_HORIZON - all the shards that were open at TRIM_HORIZON", "FROM_TRIM_HORIZON
- (default) all the shards within the retention period", "AT_TIMESTAMP - start <= ts and end >= ts
or still open", "FROM_TIMESTAMP - closed shards whose end >= ts and all open shards");
"Don't specify StreamName or StreamCreationTimestamp if you specify NextToken"."""

import time
from datetime import datetime, timedelta, timezone

import pytest

from conftest import unique_name
from kinesis_helpers import (
    INVALID_ARGUMENT,
    SHARD_ID_RE,
    assert_covers_key_space,
    expect_error,
    hrange,
    is_open,
    list_shards,
    summary,
    wait_active,
)


def _ids(shards):
    return [s["ShardId"] for s in shards]


def test_list_shards_ids_and_ranges(kinesis, create_stream):
    name = create_stream(shard_count=4)
    shards = kinesis.list_shards(StreamName=name)["Shards"]
    assert _ids(shards) == [f"shardId-{i:012d}" for i in range(4)]
    for s in shards:
        assert SHARD_ID_RE.match(s["ShardId"])
        assert is_open(s)
    assert_covers_key_space(shards)
    # the same view as DescribeStream
    d = kinesis.describe_stream(StreamName=name)["StreamDescription"]["Shards"]
    assert [(x["ShardId"], hrange(x)) for x in d] == [(x["ShardId"], hrange(x)) for x in shards]


def test_list_shards_max_results_next_token(kinesis, create_stream):
    name = create_stream(shard_count=5)
    resp = kinesis.list_shards(StreamName=name, MaxResults=2)
    got = _ids(resp["Shards"])
    assert len(got) == 2 and resp.get("NextToken")
    pages = 1
    while resp.get("NextToken"):
        resp = kinesis.list_shards(NextToken=resp["NextToken"], MaxResults=2)
        assert len(resp["Shards"]) <= 2
        got += _ids(resp["Shards"])
        pages += 1
        assert pages <= 5
    assert got == [f"shardId-{i:012d}" for i in range(5)]


def test_list_shards_no_next_token_when_all_fit(kinesis, create_stream):
    name = create_stream(shard_count=2)
    resp = kinesis.list_shards(StreamName=name, MaxResults=2)
    assert len(resp["Shards"]) == 2
    assert "NextToken" not in resp


def test_list_shards_next_token_with_stream_name_is_invalid(kinesis, create_stream):
    name = create_stream(shard_count=3)
    token = kinesis.list_shards(StreamName=name, MaxResults=1)["NextToken"]
    expect_error(kinesis.list_shards, INVALID_ARGUMENT, 400, StreamName=name, NextToken=token)


def test_list_shards_exclusive_start_shard_id(kinesis, create_stream):
    name = create_stream(shard_count=4)
    shards = kinesis.list_shards(StreamName=name, ExclusiveStartShardId="shardId-000000000001")["Shards"]
    assert _ids(shards) == ["shardId-000000000002", "shardId-000000000003"]
    assert kinesis.list_shards(StreamName=name, ExclusiveStartShardId="shardId-000000000003")["Shards"] == []


def test_list_shards_garbage_next_token(kinesis):
    with pytest.raises(Exception) as info:
        kinesis.list_shards(NextToken="bm90LWEtcmVhbC10b2tlbg==")
    err = getattr(info.value, "response", {}).get("Error", {})
    assert err.get("Code") in (INVALID_ARGUMENT, "ExpiredNextTokenException"), info.value


@pytest.fixture(scope="module")
def split_stream(kinesis):
    """A one-shard stream split in two, with timestamps around the split (shared by the module's
    read-only tests): (name, parent id, child ids, t_before_split, t_after_split)."""
    name = unique_name("ks-split")
    kinesis.create_stream(StreamName=name, ShardCount=1)
    try:
        wait_active(kinesis, name)
        time.sleep(1.5)  # botocore sends timestamps with whole-second precision
        t_before = datetime.now(timezone.utc)
        time.sleep(1.5)
        kinesis.split_shard(StreamName=name, ShardToSplit="shardId-000000000000", NewStartingHashKey=str(2**127))
        wait_active(kinesis, name)
        time.sleep(1.5)
        t_after = datetime.now(timezone.utc)
        shards = kinesis.list_shards(StreamName=name)["Shards"]
        children = [s["ShardId"] for s in shards if s.get("ParentShardId") == "shardId-000000000000"]
        assert len(children) == 2, shards
        yield name, "shardId-000000000000", sorted(children), t_before, t_after
    finally:
        try:
            kinesis.delete_stream(StreamName=name)
        except Exception:
            pass


def test_shard_filter_at_latest(kinesis, split_stream):
    name, parent, children, _, _ = split_stream
    shards = kinesis.list_shards(StreamName=name, ShardFilter={"Type": "AT_LATEST"})["Shards"]
    assert sorted(_ids(shards)) == children
    assert all(is_open(s) for s in shards)
    assert_covers_key_space(shards)


def test_shard_filter_trim_horizon(kinesis, split_stream):
    name, parent, children, _, _ = split_stream
    at = kinesis.list_shards(StreamName=name, ShardFilter={"Type": "AT_TRIM_HORIZON"})["Shards"]
    assert _ids(at) == [parent]
    frm = kinesis.list_shards(StreamName=name, ShardFilter={"Type": "FROM_TRIM_HORIZON"})["Shards"]
    assert sorted(_ids(frm)) == sorted([parent] + children)
    # no filter: the default is FROM_TRIM_HORIZON
    assert sorted(_ids(kinesis.list_shards(StreamName=name)["Shards"])) == sorted([parent] + children)


def test_shard_filter_after_shard_id(kinesis, split_stream):
    name, parent, children, _, _ = split_stream
    shards = kinesis.list_shards(StreamName=name, ShardFilter={"Type": "AFTER_SHARD_ID", "ShardId": parent})["Shards"]
    assert sorted(_ids(shards)) == children


def test_shard_filter_timestamps(kinesis, split_stream):
    name, parent, children, t_before, t_after = split_stream
    at_before = kinesis.list_shards(StreamName=name, ShardFilter={"Type": "AT_TIMESTAMP", "Timestamp": t_before})
    assert _ids(at_before["Shards"]) == [parent]
    at_after = kinesis.list_shards(StreamName=name, ShardFilter={"Type": "AT_TIMESTAMP", "Timestamp": t_after})
    assert sorted(_ids(at_after["Shards"])) == children
    from_before = kinesis.list_shards(StreamName=name, ShardFilter={"Type": "FROM_TIMESTAMP", "Timestamp": t_before})
    assert sorted(_ids(from_before["Shards"])) == sorted([parent] + children)
    from_after = kinesis.list_shards(StreamName=name, ShardFilter={"Type": "FROM_TIMESTAMP", "Timestamp": t_after})
    assert sorted(_ids(from_after["Shards"])) == children
    # FROM_TIMESTAMP before the stream existed is corrected to TRIM_HORIZON: everything
    long_ago = t_before - timedelta(hours=1)
    from_old = kinesis.list_shards(StreamName=name, ShardFilter={"Type": "FROM_TIMESTAMP", "Timestamp": long_ago})
    assert sorted(_ids(from_old["Shards"])) == sorted([parent] + children)


def test_shard_filter_after_shard_id_needs_shard_id(kinesis, stream):
    expect_error(kinesis.list_shards, INVALID_ARGUMENT, 400, StreamName=stream, ShardFilter={"Type": "AFTER_SHARD_ID"})


def test_shard_filter_at_timestamp_needs_timestamp(kinesis, stream):
    expect_error(kinesis.list_shards, INVALID_ARGUMENT, 400, StreamName=stream, ShardFilter={"Type": "AT_TIMESTAMP"})


def test_closed_parent_listed_with_ending_sequence_number(kinesis, split_stream):
    name, parent, children, _, _ = split_stream
    shards = {s["ShardId"]: s for s in list_shards(kinesis, name)}
    assert "EndingSequenceNumber" in shards[parent]["SequenceNumberRange"]
    for c in children:
        assert is_open(shards[c])
        assert shards[c]["ParentShardId"] == parent
    assert summary(kinesis, name)["OpenShardCount"] == 2


def test_describe_stream_returns_at_most_100_shards(kinesis, create_stream):
    # DescribeStream Limit: "The default value is 100. If you specify a value greater than 100, at
    # most 100 results are returned."
    name = create_stream(shard_count=120)
    d = kinesis.describe_stream(StreamName=name)["StreamDescription"]
    assert len(d["Shards"]) == 100 and d["HasMoreShards"] is True
    d = kinesis.describe_stream(StreamName=name, Limit=10000)["StreamDescription"]
    assert len(d["Shards"]) == 100 and d["HasMoreShards"] is True
    rest = kinesis.describe_stream(StreamName=name, ExclusiveStartShardId=d["Shards"][-1]["ShardId"])["StreamDescription"]
    assert len(rest["Shards"]) == 20 and rest["HasMoreShards"] is False
    # ListShards pages hold up to 1000 (its MaxResults default is also far above 120)
    shards = kinesis.list_shards(StreamName=name)["Shards"]
    assert len(shards) == 120
    assert_covers_key_space(shards)
