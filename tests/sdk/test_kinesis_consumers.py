"""Kinesis enhanced fan-out: RegisterStreamConsumer, DescribeStreamConsumer, ListStreamConsumers,
DeregisterStreamConsumer, and SubscribeToShard through boto3's event stream.

Expectations: Kinesis API reference (Consumer / ConsumerDescription shapes, the ConsumerARN pattern
`.../stream/<name>/consumer/<consumer>:<timestamp>`, SubscribeToShardEvent with Records,
ContinuationSequenceNumber, MillisBehindLatest and, "only at the end of the current shard",
ChildShards)."""

import threading
import time
from datetime import datetime

import pytest

from conftest import unique_name
from kinesis_helpers import (
    CONSUMER_ARN_RE,
    RESOURCE_IN_USE,
    RESOURCE_NOT_FOUND,
    assert_strictly_increasing,
    error_code,
    expect_error,
    hrange,
    summary,
    wait_active,
    wait_consumer_active,
)

S0 = "shardId-000000000000"


@pytest.fixture
def stream_arn(kinesis, stream):
    return summary(kinesis, stream)["StreamARN"]


def _register(kinesis, arn, name=None):
    c = kinesis.register_stream_consumer(StreamARN=arn, ConsumerName=name or unique_name("c"))["Consumer"]
    return wait_consumer_active(kinesis, c["ConsumerARN"])


# ----------------------------------------------------------------- registration


def test_register_stream_consumer(kinesis, stream, stream_arn):
    c = kinesis.register_stream_consumer(StreamARN=stream_arn, ConsumerName="app-1")["Consumer"]
    assert c["ConsumerName"] == "app-1"
    m = CONSUMER_ARN_RE.match(c["ConsumerARN"])
    assert m, c["ConsumerARN"]
    assert m.group("stream") == stream and m.group("name") == "app-1"
    assert c["ConsumerARN"].startswith(stream_arn + "/consumer/app-1:")
    assert c["ConsumerStatus"] in ("CREATING", "ACTIVE")
    assert isinstance(c["ConsumerCreationTimestamp"], datetime)
    d = wait_consumer_active(kinesis, c["ConsumerARN"])
    assert d["StreamARN"] == stream_arn
    assert summary(kinesis, stream)["ConsumerCount"] == 1


def test_describe_consumer_by_arn_and_by_name(kinesis, stream_arn):
    c = _register(kinesis, stream_arn, "by-name")
    by_arn = kinesis.describe_stream_consumer(ConsumerARN=c["ConsumerARN"])["ConsumerDescription"]
    by_name = kinesis.describe_stream_consumer(StreamARN=stream_arn, ConsumerName="by-name")["ConsumerDescription"]
    for d in (by_arn, by_name):
        assert d["ConsumerName"] == "by-name"
        assert d["ConsumerARN"] == c["ConsumerARN"]
        assert d["StreamARN"] == stream_arn
        assert d["ConsumerStatus"] == "ACTIVE"
    assert by_arn["ConsumerCreationTimestamp"] == by_name["ConsumerCreationTimestamp"]


def test_register_duplicate_consumer_in_use(kinesis, stream_arn):
    _register(kinesis, stream_arn, "dup")
    expect_error(kinesis.register_stream_consumer, RESOURCE_IN_USE, 400, StreamARN=stream_arn, ConsumerName="dup")


def test_list_stream_consumers(kinesis, stream_arn):
    names = ["c-a", "c-b", "c-c"]
    arns = {n: _register(kinesis, stream_arn, n)["ConsumerARN"] for n in names}
    consumers = kinesis.list_stream_consumers(StreamARN=stream_arn)["Consumers"]
    assert {c["ConsumerName"]: c["ConsumerARN"] for c in consumers} == arns
    for c in consumers:
        assert c["ConsumerStatus"] == "ACTIVE"
    # pagination
    got = []
    resp = kinesis.list_stream_consumers(StreamARN=stream_arn, MaxResults=2)
    got += resp["Consumers"]
    assert len(resp["Consumers"]) == 2 and resp.get("NextToken")
    while resp.get("NextToken"):
        resp = kinesis.list_stream_consumers(StreamARN=stream_arn, NextToken=resp["NextToken"], MaxResults=2)
        got += resp["Consumers"]
    assert sorted(c["ConsumerName"] for c in got) == names


def test_deregister_consumer_by_arn(kinesis, stream, stream_arn):
    c = _register(kinesis, stream_arn, "gone")
    kinesis.deregister_stream_consumer(ConsumerARN=c["ConsumerARN"])
    deadline = time.monotonic() + 30
    while True:
        try:
            d = kinesis.describe_stream_consumer(ConsumerARN=c["ConsumerARN"])["ConsumerDescription"]
            assert d["ConsumerStatus"] == "DELETING"
        except Exception as e:
            assert error_code(e) == RESOURCE_NOT_FOUND
            break
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert kinesis.list_stream_consumers(StreamARN=stream_arn).get("Consumers", []) == []
    assert summary(kinesis, stream).get("ConsumerCount", 0) == 0


def test_deregister_consumer_by_name(kinesis, stream_arn):
    _register(kinesis, stream_arn, "gone2")
    kinesis.deregister_stream_consumer(StreamARN=stream_arn, ConsumerName="gone2")
    deadline = time.monotonic() + 30
    while kinesis.list_stream_consumers(StreamARN=stream_arn).get("Consumers"):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    expect_error(kinesis.describe_stream_consumer, RESOURCE_NOT_FOUND, 400, StreamARN=stream_arn, ConsumerName="gone2")


def test_describe_unknown_consumer(kinesis, stream_arn):
    expect_error(kinesis.describe_stream_consumer, RESOURCE_NOT_FOUND, 400, StreamARN=stream_arn, ConsumerName="nobody")


def test_register_consumer_unknown_stream(kinesis, stream_arn):
    other = stream_arn.rsplit("/", 1)[0] + "/" + unique_name("nope")
    expect_error(kinesis.register_stream_consumer, RESOURCE_NOT_FOUND, 400, StreamARN=other, ConsumerName="c")


# ----------------------------------------------------------------- SubscribeToShard


@pytest.fixture(scope="module")
def sub_kinesis(kinesis_factory):
    # a bounded read timeout so that a server that never pushes fails the test instead of hanging it
    return kinesis_factory(read_timeout=15)


def _collect(event_stream, want, deadline_s=20.0):
    """Iterate SubscribeToShardEvents until `want(records, events)` is true; return (records, events)."""
    records, events = [], []
    deadline = time.monotonic() + deadline_s
    for ev in event_stream:
        assert "SubscribeToShardEvent" in ev, ev
        e = ev["SubscribeToShardEvent"]
        events.append(e)
        records += e["Records"]
        if want(records, events) or time.monotonic() > deadline:
            break
    return records, events


def test_subscribe_trim_horizon_then_live(kinesis, sub_kinesis, stream, stream_arn):
    c = _register(kinesis, stream_arn, "sub")
    before = [f"before-{i}".encode() for i in range(5)]
    after = [f"after-{i}".encode() for i in range(5)]
    for d in before:
        kinesis.put_record(StreamName=stream, Data=d, PartitionKey="k")
    resp = sub_kinesis.subscribe_to_shard(ConsumerARN=c["ConsumerARN"], ShardId=S0, StartingPosition={"Type": "TRIM_HORIZON"})
    es = resp["EventStream"]
    try:
        writer = threading.Timer(
            0.5, lambda: [kinesis.put_record(StreamName=stream, Data=d, PartitionKey="k") for d in after]
        )
        writer.start()
        records, events = _collect(es, lambda recs, _: len(recs) >= 10)
        writer.join()
    finally:
        es.close()
    assert [r["Data"] for r in records] == before + after
    assert_strictly_increasing([int(r["SequenceNumber"]) for r in records])
    for r in records:
        assert r["PartitionKey"] == "k"
        assert isinstance(r["ApproximateArrivalTimestamp"], datetime)
    for e in events:
        assert e["ContinuationSequenceNumber"].isdigit()
        assert e["MillisBehindLatest"] >= 0
    last_with_records = [e for e in events if e["Records"]][-1]
    assert int(last_with_records["ContinuationSequenceNumber"]) >= int(records[-1]["SequenceNumber"])


def test_subscribe_latest_only_new(kinesis, sub_kinesis, stream, stream_arn):
    c = _register(kinesis, stream_arn, "latest")
    kinesis.put_record(StreamName=stream, Data=b"old", PartitionKey="k")
    resp = sub_kinesis.subscribe_to_shard(ConsumerARN=c["ConsumerARN"], ShardId=S0, StartingPosition={"Type": "LATEST"})
    es = resp["EventStream"]
    try:
        writer = threading.Timer(0.5, lambda: kinesis.put_record(StreamName=stream, Data=b"new", PartitionKey="k"))
        writer.start()
        records, _ = _collect(es, lambda recs, _: len(recs) >= 1)
        writer.join()
    finally:
        es.close()
    assert [r["Data"] for r in records] == [b"new"]


def test_subscribe_after_sequence_number(kinesis, sub_kinesis, stream, stream_arn):
    c = _register(kinesis, stream_arn, "after")
    seqs = [kinesis.put_record(StreamName=stream, Data=b"%d" % i, PartitionKey="k")["SequenceNumber"] for i in range(4)]
    resp = sub_kinesis.subscribe_to_shard(
        ConsumerARN=c["ConsumerARN"],
        ShardId=S0,
        StartingPosition={"Type": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": seqs[1]},
    )
    es = resp["EventStream"]
    try:
        records, _ = _collect(es, lambda recs, _: len(recs) >= 2)
    finally:
        es.close()
    assert [r["SequenceNumber"] for r in records] == seqs[2:]


def test_subscribe_closed_shard_ends_with_child_shards(kinesis, sub_kinesis, stream, stream_arn):
    c = _register(kinesis, stream_arn, "closed")
    payloads = [b"p1", b"p2", b"p3"]
    for d in payloads:
        kinesis.put_record(StreamName=stream, Data=d, PartitionKey="k")
    kinesis.split_shard(StreamName=stream, ShardToSplit=S0, NewStartingHashKey=str(2**127))
    wait_active(kinesis, stream)
    children = sorted(
        (s["ShardId"], hrange(s)) for s in kinesis.list_shards(StreamName=stream)["Shards"] if s.get("ParentShardId") == S0
    )
    resp = sub_kinesis.subscribe_to_shard(ConsumerARN=c["ConsumerARN"], ShardId=S0, StartingPosition={"Type": "TRIM_HORIZON"})
    es = resp["EventStream"]
    try:
        records, events = _collect(es, lambda _, evs: bool(evs[-1].get("ChildShards")))
    finally:
        es.close()
    assert [r["Data"] for r in records] == payloads
    final = events[-1]
    assert final.get("ChildShards"), "the end of a closed shard is announced with ChildShards"
    assert sorted((cs["ShardId"], hrange(cs)) for cs in final["ChildShards"]) == children
    for cs in final["ChildShards"]:
        assert cs["ParentShards"] == [S0]


def test_subscribe_unknown_consumer(kinesis, sub_kinesis, stream_arn):
    fake = stream_arn + "/consumer/nobody:1700000000"
    with pytest.raises(Exception) as info:
        resp = sub_kinesis.subscribe_to_shard(ConsumerARN=fake, ShardId=S0, StartingPosition={"Type": "LATEST"})
        for _ in resp["EventStream"]:
            break
    err = getattr(info.value, "response", {}).get("Error", {})
    assert err.get("Code") == RESOURCE_NOT_FOUND, info.value


def test_subscribe_unknown_shard(kinesis, sub_kinesis, stream_arn):
    c = _register(kinesis, stream_arn, "noshard")
    with pytest.raises(Exception) as info:
        resp = sub_kinesis.subscribe_to_shard(
            ConsumerARN=c["ConsumerARN"], ShardId="shardId-000000000042", StartingPosition={"Type": "LATEST"}
        )
        for _ in resp["EventStream"]:
            break
    err = getattr(info.value, "response", {}).get("Error", {})
    assert err.get("Code") in (RESOURCE_NOT_FOUND, "InvalidArgumentException"), info.value


def test_subscribe_at_sequence_number_and_timestamp(kinesis, sub_kinesis, stream, stream_arn):
    from datetime import timedelta

    c = _register(kinesis, stream_arn, "at")
    puts = [kinesis.put_record(StreamName=stream, Data=b"%d" % i, PartitionKey="k") for i in range(4)]
    resp = sub_kinesis.subscribe_to_shard(
        ConsumerARN=c["ConsumerARN"],
        ShardId=S0,
        StartingPosition={"Type": "AT_SEQUENCE_NUMBER", "SequenceNumber": puts[2]["SequenceNumber"]},
    )
    es = resp["EventStream"]
    try:
        records, _ = _collect(es, lambda recs, _: len(recs) >= 2)
    finally:
        es.close()
    assert [r["Data"] for r in records] == [b"2", b"3"]
    # another consumer: a second subscription of the same consumer and shard within 5 s is refused
    c2 = _register(kinesis, stream_arn, "at2")
    start = datetime.now().astimezone() - timedelta(hours=1)
    resp = sub_kinesis.subscribe_to_shard(
        ConsumerARN=c2["ConsumerARN"], ShardId=S0, StartingPosition={"Type": "AT_TIMESTAMP", "Timestamp": start}
    )
    es = resp["EventStream"]
    try:
        records, _ = _collect(es, lambda recs, _: len(recs) >= 4)
    finally:
        es.close()
    assert [r["Data"] for r in records] == [b"0", b"1", b"2", b"3"]


def test_resubscribe_within_five_seconds_in_use(kinesis, sub_kinesis, stream, stream_arn):
    # "If you call SubscribeToShard again with the same ConsumerARN and ShardId within 5 seconds of a
    # successful call, you'll get a ResourceInUseException."
    c = _register(kinesis, stream_arn, "twice")
    resp = sub_kinesis.subscribe_to_shard(ConsumerARN=c["ConsumerARN"], ShardId=S0, StartingPosition={"Type": "LATEST"})
    try:
        expect_error(
            sub_kinesis.subscribe_to_shard,
            RESOURCE_IN_USE,
            400,
            ConsumerARN=c["ConsumerARN"],
            ShardId=S0,
            StartingPosition={"Type": "LATEST"},
        )
    finally:
        resp["EventStream"].close()


def test_consumer_count_and_unknown_stream_listing(kinesis, stream, stream_arn):
    _register(kinesis, stream_arn, "one")
    _register(kinesis, stream_arn, "two")
    assert summary(kinesis, stream)["ConsumerCount"] == 2
    other = stream_arn.rsplit("/", 1)[0] + "/" + unique_name("nope")
    expect_error(kinesis.list_stream_consumers, RESOURCE_NOT_FOUND, 400, StreamARN=other)


def test_stream_deletion_removes_consumers(kinesis, create_stream):
    name = create_stream()
    arn = summary(kinesis, name)["StreamARN"]
    c = _register(kinesis, arn, "doomed")
    kinesis.delete_stream(StreamName=name, EnforceConsumerDeletion=True)
    from kinesis_helpers import wait_gone

    wait_gone(kinesis, name)
    deadline = time.monotonic() + 30
    while True:
        try:
            kinesis.describe_stream_consumer(ConsumerARN=c["ConsumerARN"])
        except Exception as e:
            assert error_code(e) == RESOURCE_NOT_FOUND
            break
        assert time.monotonic() < deadline, "consumer of a deleted stream still exists"
        time.sleep(0.2)
    # a new stream of the same name starts without consumers
    create_stream(name=name)
    new_arn = summary(kinesis, name)["StreamARN"]
    assert kinesis.list_stream_consumers(StreamARN=new_arn).get("Consumers", []) == []


def test_subscribe_resume_from_continuation_sequence_number(kinesis, sub_kinesis, stream, stream_arn):
    # ContinuationSequenceNumber: "Use this as SequenceNumber in the next call to SubscribeToShard,
    # with StartingPosition set to AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER."
    c1 = _register(kinesis, stream_arn, "resume-1")
    c2 = _register(kinesis, stream_arn, "resume-2")
    for i in range(3):
        kinesis.put_record(StreamName=stream, Data=b"first-%d" % i, PartitionKey="k")
    resp = sub_kinesis.subscribe_to_shard(ConsumerARN=c1["ConsumerARN"], ShardId=S0, StartingPosition={"Type": "TRIM_HORIZON"})
    es = resp["EventStream"]
    try:
        records, events = _collect(es, lambda recs, _: len(recs) >= 3)
    finally:
        es.close()
    assert [r["Data"] for r in records] == [b"first-0", b"first-1", b"first-2"]
    assert events[-1]["MillisBehindLatest"] == 0
    checkpoint = events[-1]["ContinuationSequenceNumber"]
    for i in range(2):
        kinesis.put_record(StreamName=stream, Data=b"second-%d" % i, PartitionKey="k")
    resp = sub_kinesis.subscribe_to_shard(
        ConsumerARN=c2["ConsumerARN"],
        ShardId=S0,
        StartingPosition={"Type": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": checkpoint},
    )
    es = resp["EventStream"]
    try:
        records, _ = _collect(es, lambda recs, _: len(recs) >= 2)
    finally:
        es.close()
    assert [r["Data"] for r in records] == [b"second-0", b"second-1"]
