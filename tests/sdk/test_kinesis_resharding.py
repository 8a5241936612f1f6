"""Kinesis resharding: SplitShard, MergeShards, UpdateShardCount (UNIFORM_SCALING), and reading
across the resulting shard lineage.

Expectations: Kinesis API reference (SplitShard: "the new hash key, which is the position in the
shard where the shard gets split in two"; MergeShards: "Two shards are considered adjacent if the
union of the hash key ranges for the two shards form a contiguous set with no gaps"; Shard:
ParentShardId / AdjacentParentShardId; GetRecords: "If the shard has been closed, the shard iterator
can't return more data and GetRecords returns null in NextShardIterator"; ChildShards "returned ...
only when the end of the current shard is reached"; UpdateShardCount output fields)."""

import pytest

from kinesis_helpers import (
    INVALID_ARGUMENT,
    MAX_HASH,
    RESOURCE_NOT_FOUND,
    SHARD_ID_RE,
    assert_covers_key_space,
    assert_strictly_increasing,
    datas,
    expect_error,
    hash_key,
    hrange,
    is_open,
    iterator,
    list_shards,
    open_shards,
    read_from,
    read_shard,
    seqs,
    shard_for,
    summary,
    wait_active,
)

S0, S1, S2 = "shardId-000000000000", "shardId-000000000001", "shardId-000000000002"


def _by_id(kinesis, name):
    return {s["ShardId"]: s for s in list_shards(kinesis, name)}


# ----------------------------------------------------------------- SplitShard


def test_split_shard_lineage_and_ranges(kinesis, stream):
    split_at = 2**127 + 12345
    kinesis.split_shard(StreamName=stream, ShardToSplit=S0, NewStartingHashKey=str(split_at))
    wait_active(kinesis, stream)
    shards = _by_id(kinesis, stream)
    assert len(shards) == 3
    parent = shards[S0]
    assert "EndingSequenceNumber" in parent["SequenceNumberRange"]
    assert int(parent["SequenceNumberRange"]["EndingSequenceNumber"]) >= int(
        parent["SequenceNumberRange"]["StartingSequenceNumber"]
    )
    assert hrange(parent) == (0, MAX_HASH)
    children = [s for sid, s in shards.items() if sid != S0]
    for c in children:
        assert SHARD_ID_RE.match(c["ShardId"])
        assert c["ParentShardId"] == S0
        assert "AdjacentParentShardId" not in c
        assert is_open(c)
    assert sorted(hrange(c) for c in children) == [(0, split_at - 1), (split_at, MAX_HASH)]
    assert summary(kinesis, stream)["OpenShardCount"] == 2


def test_split_then_records_route_to_children(kinesis, stream):
    before = [f"before-{i}" for i in range(10)]
    for k in before:
        kinesis.put_record(StreamName=stream, Data=k.encode(), PartitionKey=k)
    kinesis.split_shard(StreamName=stream, ShardToSplit=S0, NewStartingHashKey=str(2**127))
    wait_active(kinesis, stream)
    after = [f"after-{i}" for i in range(20)]
    open_now = open_shards(kinesis, stream)
    for k in after:
        r = kinesis.put_record(StreamName=stream, Data=k.encode(), PartitionKey=k)
        assert r["ShardId"] != S0
        assert r["ShardId"] == shard_for(open_now, hash_key(k))

    # the closed parent: the records written before the split, then the end of the shard
    recs, last = read_from(kinesis, iterator(kinesis, stream, S0))
    assert datas(recs) == [k.encode() for k in before]
    assert last.get("NextShardIterator") is None
    child_shards = last.get("ChildShards")
    assert child_shards, "the last GetRecords of a closed shard lists its ChildShards"
    assert sorted(c["ShardId"] for c in child_shards) == sorted(s["ShardId"] for s in open_now)
    for c in child_shards:
        assert c["ParentShards"] == [S0]
        assert hrange(c) == hrange(next(s for s in open_now if s["ShardId"] == c["ShardId"]))

    # the children: exactly the records written after the split, by hash
    for s in open_now:
        got = read_shard(kinesis, stream, s["ShardId"])
        assert datas(got) == [k.encode() for k in after if shard_for(open_now, hash_key(k)) == s["ShardId"]]
        assert_strictly_increasing(seqs(got))


def test_closed_shard_iterator_at_end(kinesis, stream):
    kinesis.put_record(StreamName=stream, Data=b"only", PartitionKey="k")
    kinesis.split_shard(StreamName=stream, ShardToSplit=S0, NewStartingHashKey=str(2**100))
    wait_active(kinesis, stream)
    # LATEST on a closed shard: no records, and the iterator ends
    recs, last = read_from(kinesis, iterator(kinesis, stream, S0, "LATEST"))
    assert recs == []
    assert last.get("NextShardIterator") is None
    # GetRecords with a small Limit walks to the end and then reports the children
    recs, last = read_from(kinesis, iterator(kinesis, stream, S0), limit=1)
    assert datas(recs) == [b"only"]
    assert last.get("NextShardIterator") is None
    assert len(last["ChildShards"]) == 2


def test_put_record_explicit_hash_after_split(kinesis, stream):
    kinesis.split_shard(StreamName=stream, ShardToSplit=S0, NewStartingHashKey="1000")
    wait_active(kinesis, stream)
    lo = kinesis.put_record(StreamName=stream, Data=b"a", PartitionKey="k", ExplicitHashKey="999")["ShardId"]
    hi = kinesis.put_record(StreamName=stream, Data=b"b", PartitionKey="k", ExplicitHashKey="1000")["ShardId"]
    shards = _by_id(kinesis, stream)
    assert hrange(shards[lo]) == (0, 999)
    assert hrange(shards[hi]) == (1000, MAX_HASH)


@pytest.mark.parametrize("key", ["0", str(2**128)])
def test_split_shard_hash_key_outside_range(kinesis, kinesis_factory, stream, key):
    raw = kinesis_factory(parameter_validation=False)
    with pytest.raises(Exception) as info:
        raw.split_shard(StreamName=stream, ShardToSplit=S0, NewStartingHashKey=key)
    err = getattr(info.value, "response", {}).get("Error", {})
    assert err.get("Code") in (INVALID_ARGUMENT, "ValidationException"), info.value
    assert summary(kinesis, stream)["OpenShardCount"] == 1


def test_split_unknown_shard(kinesis, stream):
    expect_error(
        kinesis.split_shard, RESOURCE_NOT_FOUND, 400, StreamName=stream, ShardToSplit=S2, NewStartingHashKey=str(2**127)
    )


def test_split_closed_shard_is_rejected(kinesis, stream):
    kinesis.split_shard(StreamName=stream, ShardToSplit=S0, NewStartingHashKey=str(2**127))
    wait_active(kinesis, stream)
    with pytest.raises(Exception) as info:
        kinesis.split_shard(StreamName=stream, ShardToSplit=S0, NewStartingHashKey=str(2**126))
    # AWS: "Shard shardId-000000000000 in stream ... has already been merged or split, and thus is
    # not eligible for merging or splitting."
    err = getattr(info.value, "response", {}).get("Error", {})
    assert err.get("Code") == INVALID_ARGUMENT, info.value


# ----------------------------------------------------------------- MergeShards


def test_merge_adjacent_shards(kinesis, create_stream):
    name = create_stream(shard_count=2)
    kinesis.put_record(StreamName=name, Data=b"in-0", PartitionKey="x", ExplicitHashKey="0")
    kinesis.put_record(StreamName=name, Data=b"in-1", PartitionKey="x", ExplicitHashKey=str(MAX_HASH))
    kinesis.merge_shards(StreamName=name, ShardToMerge=S0, AdjacentShardToMerge=S1)
    wait_active(kinesis, name)
    shards = _by_id(kinesis, name)
    assert len(shards) == 3
    for p in (S0, S1):
        assert not is_open(shards[p])
    (child,) = [s for s in shards.values() if is_open(s)]
    assert child["ParentShardId"] == S0
    assert child["AdjacentParentShardId"] == S1
    assert hrange(child) == (0, MAX_HASH)
    assert summary(kinesis, name)["OpenShardCount"] == 1
    # new records go to the child; the parents keep theirs and end with ChildShards
    r = kinesis.put_record(StreamName=name, Data=b"merged", PartitionKey="anything")
    assert r["ShardId"] == child["ShardId"]
    for p, expected in ((S0, [b"in-0"]), (S1, [b"in-1"])):
        recs, last = read_from(kinesis, iterator(kinesis, name, p))
        assert datas(recs) == expected
        assert last.get("NextShardIterator") is None
        assert [c["ShardId"] for c in last["ChildShards"]] == [child["ShardId"]]
        assert sorted(last["ChildShards"][0]["ParentShards"]) == [S0, S1]
    assert datas(read_shard(kinesis, name, child["ShardId"])) == [b"merged"]


def test_merge_non_adjacent_shards_is_invalid(kinesis, create_stream):
    name = create_stream(shard_count=3)
    expect_error(kinesis.merge_shards, INVALID_ARGUMENT, 400, StreamName=name, ShardToMerge=S0, AdjacentShardToMerge=S2)
    assert summary(kinesis, name)["OpenShardCount"] == 3


def test_merge_unknown_shard(kinesis, create_stream):
    name = create_stream(shard_count=2)
    expect_error(
        kinesis.merge_shards,
        RESOURCE_NOT_FOUND,
        400,
        StreamName=name,
        ShardToMerge=S0,
        AdjacentShardToMerge="shardId-000000000077",
    )


# ----------------------------------------------------------------- UpdateShardCount


def test_update_shard_count_up_and_down(kinesis, create_stream):
    name = create_stream(shard_count=2)
    arn = summary(kinesis, name)["StreamARN"]
    r = kinesis.update_shard_count(StreamName=name, TargetShardCount=4, ScalingType="UNIFORM_SCALING")
    assert r["CurrentShardCount"] == 2
    assert r["TargetShardCount"] == 4
    assert r["StreamName"] == name
    if "StreamARN" in r:
        assert r["StreamARN"] == arn
    s = wait_active(kinesis, name)
    assert s["OpenShardCount"] == 4
    shards = open_shards(kinesis, name)
    assert len(shards) == 4
    assert_covers_key_space(shards)

    r = kinesis.update_shard_count(StreamName=name, TargetShardCount=2, ScalingType="UNIFORM_SCALING")
    assert (r["CurrentShardCount"], r["TargetShardCount"]) == (4, 2)
    wait_active(kinesis, name)
    shards = open_shards(kinesis, name)
    assert len(shards) == 2
    assert_covers_key_space(shards)
    # records still route by hash to the open shards
    for k in ("a", "b", "c", "d", "e"):
        assert kinesis.put_record(StreamName=name, Data=b"x", PartitionKey=k)["ShardId"] == shard_for(shards, hash_key(k))


def test_update_shard_count_odd_target(kinesis, create_stream):
    name = create_stream(shard_count=2)
    kinesis.update_shard_count(StreamName=name, TargetShardCount=3, ScalingType="UNIFORM_SCALING")
    wait_active(kinesis, name)
    shards = open_shards(kinesis, name)
    assert len(shards) == 3
    assert_covers_key_space(shards)


def test_update_shard_count_keeps_old_records_readable(kinesis, create_stream):
    name = create_stream(shard_count=1)
    payloads = [f"old-{i}".encode() for i in range(20)]
    kinesis.put_records(StreamName=name, Records=[{"Data": p, "PartitionKey": p.decode()} for p in payloads])
    kinesis.update_shard_count(StreamName=name, TargetShardCount=2, ScalingType="UNIFORM_SCALING")
    wait_active(kinesis, name)
    got = []
    for s in list_shards(kinesis, name):
        got += datas(read_shard(kinesis, name, s["ShardId"]))
    assert sorted(got) == sorted(payloads)


def test_update_shard_count_beyond_double_is_rejected(kinesis, create_stream):
    name = create_stream(shard_count=1)
    with pytest.raises(Exception) as info:
        kinesis.update_shard_count(StreamName=name, TargetShardCount=3, ScalingType="UNIFORM_SCALING")
    err = getattr(info.value, "response", {}).get("Error", {})
    assert err.get("Code") in (INVALID_ARGUMENT, "LimitExceededException"), info.value
    assert summary(kinesis, name)["OpenShardCount"] == 1


def test_merge_closed_shard_is_rejected(kinesis, create_stream):
    name = create_stream(shard_count=3)
    kinesis.merge_shards(StreamName=name, ShardToMerge=S0, AdjacentShardToMerge=S1)
    wait_active(kinesis, name)
    expect_error(kinesis.merge_shards, INVALID_ARGUMENT, 400, StreamName=name, ShardToMerge=S1, AdjacentShardToMerge=S2)
    assert summary(kinesis, name)["OpenShardCount"] == 2
