"""Kinesis durability: records, sequence numbers, shard lineage and stream settings survive a hard
restart (kill -9) of the server; sequence numbers assigned after the restart are larger than every
earlier one in the same shard ("Sequence numbers increase over time and are specific to a shard",
PutRecord in the Kinesis API reference)."""

import time

import pytest

from kinesis_helpers import (
    assert_strictly_increasing,
    hrange,
    is_open,
    list_shards,
    read_shard,
    read_stream,
    summary,
    wait_active,
)

pytestmark = pytest.mark.restart


def _reconnect(kinesis):
    # pooled keep-alive connections point at the dead process
    try:
        kinesis._endpoint.http_session.close()
    except Exception:
        pass


def test_records_survive_hard_restart(kinesis, create_stream, restart_server):
    name = create_stream(shard_count=3)
    written: dict[str, list[tuple[str, bytes]]] = {}
    for i in range(30):
        r = kinesis.put_record(StreamName=name, Data=f"single-{i}".encode(), PartitionKey=f"pk-{i}")
        written.setdefault(r["ShardId"], []).append((r["SequenceNumber"], f"single-{i}".encode()))
    batch = [{"Data": f"batch-{i}".encode(), "PartitionKey": f"bk-{i}"} for i in range(100)]
    resp = kinesis.put_records(StreamName=name, Records=batch)
    assert resp.get("FailedRecordCount", 0) == 0
    for e, r in zip(batch, resp["Records"]):
        written.setdefault(r["ShardId"], []).append((r["SequenceNumber"], e["Data"]))

    restart_server(hard=True)
    _reconnect(kinesis)

    s = wait_active(kinesis, name)
    assert s["OpenShardCount"] == 3
    got = read_stream(kinesis, name)
    for sid, expected in written.items():
        actual = [(r["SequenceNumber"], r["Data"]) for r in got[sid]]
        if actual != expected:
            # say whether the records are lost or only late (an empty page claiming to be caught up)
            time.sleep(1.0)
            again = [(r["SequenceNumber"], r["Data"]) for r in read_shard(kinesis, name, sid)]
            pytest.fail(
                f"{sid} after kill -9 + restart: read {len(actual)} of {len(expected)} acknowledged records; "
                f"re-read 1 s later: {len(again)} ({'same as written' if again == expected else 'still wrong'})"
            )
    max_before = {sid: max(int(q) for q, _ in v) for sid, v in written.items()}

    # new records after the restart: sequence numbers above everything before, per shard
    for i in range(30):
        r = kinesis.put_record(StreamName=name, Data=b"after", PartitionKey=f"pk-{i}")
        assert int(r["SequenceNumber"]) > max_before[r["ShardId"]]
    for sid, recs in read_stream(kinesis, name).items():
        assert_strictly_increasing([int(r["SequenceNumber"]) for r in recs])


def test_stream_settings_and_lineage_survive_restart(kinesis, create_stream, restart_server):
    name = create_stream(shard_count=2)
    arn = summary(kinesis, name)["StreamARN"]
    kinesis.put_record(StreamName=name, Data=b"pre-split", PartitionKey="x", ExplicitHashKey="0")
    kinesis.split_shard(StreamName=name, ShardToSplit="shardId-000000000000", NewStartingHashKey=str(2**126))
    wait_active(kinesis, name)
    kinesis.increase_stream_retention_period(StreamName=name, RetentionPeriodHours=72)
    kinesis.add_tags_to_stream(StreamName=name, Tags={"keep": "me"})
    kinesis.enable_enhanced_monitoring(StreamName=name, ShardLevelMetrics=["IncomingRecords"])
    consumer = kinesis.register_stream_consumer(StreamARN=arn, ConsumerName="durable")["Consumer"]["ConsumerARN"]
    wait_active(kinesis, name)
    shards_before = [(s["ShardId"], s.get("ParentShardId"), hrange(s), is_open(s)) for s in list_shards(kinesis, name)]

    restart_server(hard=True)
    _reconnect(kinesis)

    s = wait_active(kinesis, name)
    assert s["StreamARN"] == arn
    assert s["RetentionPeriodHours"] == 72
    assert s["OpenShardCount"] == 3
    assert {m for em in s["EnhancedMonitoring"] for m in em.get("ShardLevelMetrics", [])} == {"IncomingRecords"}
    assert s.get("ConsumerCount") == 1
    assert {t["Key"]: t["Value"] for t in kinesis.list_tags_for_stream(StreamName=name)["Tags"]} == {"keep": "me"}
    shards_after = [(x["ShardId"], x.get("ParentShardId"), hrange(x), is_open(x)) for x in list_shards(kinesis, name)]
    assert shards_after == shards_before
    d = kinesis.describe_stream_consumer(ConsumerARN=consumer)["ConsumerDescription"]
    assert d["ConsumerName"] == "durable" and d["StreamARN"] == arn
    assert [r["Data"] for r in read_shard(kinesis, name, "shardId-000000000000")] == [b"pre-split"]


def test_deleted_stream_stays_deleted_after_restart(kinesis, create_stream, restart_server):
    name = create_stream()
    kinesis.put_record(StreamName=name, Data=b"x", PartitionKey="k")
    kinesis.delete_stream(StreamName=name)
    from kinesis_helpers import wait_gone

    wait_gone(kinesis, name)
    restart_server(hard=True)
    _reconnect(kinesis)
    wait_gone(kinesis, name, timeout=5)
    assert name not in kinesis.list_streams(ExclusiveStartStreamName=name[:-1], Limit=100)["StreamNames"]
