"""Kinesis records: PutRecord / PutRecords (routing by MD5 of the partition key and by
ExplicitHashKey, sequence numbers, limits), GetShardIterator (all five iterator types) and
GetRecords (Limit, NextShardIterator chaining, MillisBehindLatest, record fields, errors).

Expectations: Kinesis API reference (PutRecord: "An MD5 hash function is used to map partition keys
to 128-bit integer values and to map associated data records to shards using the hash key ranges of
the shards"; "Sequence numbers increase over time and are specific to a shard"; PutRecords: up to 500
records, results in request order; GetShardIterator / GetRecords / StartingPosition type
descriptions) and the botocore model (PartitionKey min 1 max 256, Records min 1 max 500)."""

import time
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError, ParamValidationError

from kinesis_helpers import (
    BAD_INPUT,
    INVALID_ARGUMENT,
    MIB,
    RESOURCE_NOT_FOUND,
    VALIDATION,
    assert_strictly_increasing,
    datas,
    expect_error,
    hash_key,
    hrange,
    iterator,
    list_shards,
    read_from,
    read_shard,
    seqs,
    shard_for,
)


@pytest.fixture(scope="module")
def raw_kinesis(kinesis_factory):
    """A client that skips botocore's client-side parameter validation, so that the server judges."""
    return kinesis_factory(parameter_validation=False)


# ----------------------------------------------------------------- PutRecord


def test_put_record_returns_shard_and_sequence(kinesis, stream):
    r = kinesis.put_record(StreamName=stream, Data=b"hello", PartitionKey="pk")
    assert r["ShardId"] == "shardId-000000000000"
    assert r["SequenceNumber"].isdigit()
    assert r.get("EncryptionType", "NONE") == "NONE"


def test_partition_key_routes_by_md5(kinesis, create_stream):
    name = create_stream(shard_count=4)
    shards = list_shards(kinesis, name)
    keys = [f"key-{i}" for i in range(40)]
    used = set()
    for k in keys:
        r = kinesis.put_record(StreamName=name, Data=k.encode(), PartitionKey=k)
        assert r["ShardId"] == shard_for(shards, hash_key(k)), k
        used.add(r["ShardId"])
    assert len(used) == 4  # 40 keys hit every quarter of the key space
    # and each record is stored in that shard
    for s in shards:
        got = [r["PartitionKey"] for r in read_shard(kinesis, name, s["ShardId"])]
        assert got == [k for k in keys if shard_for(shards, hash_key(k)) == s["ShardId"]]


def test_unicode_partition_key_hashes_utf8(kinesis, create_stream):
    name = create_stream(shard_count=8)
    shards = list_shards(kinesis, name)
    for k in ["ключ", "鍵-42", "🔑", "é" * 200]:
        r = kinesis.put_record(StreamName=name, Data=b"u", PartitionKey=k)
        assert r["ShardId"] == shard_for(shards, hash_key(k)), k


def test_explicit_hash_key_routes(kinesis, create_stream):
    name = create_stream(shard_count=4)
    shards = list_shards(kinesis, name)
    for s in shards:
        lo, hi = hrange(s)
        for h in (lo, hi, (lo + hi) // 2):
            # the partition key's own hash would land elsewhere for most of these
            r = kinesis.put_record(StreamName=name, Data=b"e", PartitionKey="same-key", ExplicitHashKey=str(h))
            assert r["ShardId"] == s["ShardId"], (h, s)


def test_explicit_hash_key_out_of_range(raw_kinesis, stream):
    with pytest.raises(ClientError) as info:
        raw_kinesis.put_record(StreamName=stream, Data=b"x", PartitionKey="k", ExplicitHashKey=str(2**128))
    assert info.value.response["Error"]["Code"] in BAD_INPUT
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_sequence_numbers_increase_per_shard(kinesis, create_stream):
    name = create_stream(shard_count=2)
    by_shard: dict[str, list[int]] = {}
    for i in range(30):
        r = kinesis.put_record(StreamName=name, Data=str(i).encode(), PartitionKey=f"p{i}")
        by_shard.setdefault(r["ShardId"], []).append(int(r["SequenceNumber"]))
    assert len(by_shard) == 2
    for values in by_shard.values():
        assert_strictly_increasing(values)


def test_sequence_number_for_ordering(kinesis, stream):
    first = kinesis.put_record(StreamName=stream, Data=b"1", PartitionKey="k")["SequenceNumber"]
    second = kinesis.put_record(StreamName=stream, Data=b"2", PartitionKey="k", SequenceNumberForOrdering=first)
    third = kinesis.put_record(
        StreamName=stream, Data=b"3", PartitionKey="k", SequenceNumberForOrdering=second["SequenceNumber"]
    )
    assert int(first) < int(second["SequenceNumber"]) < int(third["SequenceNumber"])
    assert datas(read_shard(kinesis, stream, "shardId-000000000000")) == [b"1", b"2", b"3"]


def test_put_record_empty_data_and_binary(kinesis, stream):
    payload = bytes(range(256))
    kinesis.put_record(StreamName=stream, Data=b"", PartitionKey="k")
    kinesis.put_record(StreamName=stream, Data=payload, PartitionKey="k")
    assert datas(read_shard(kinesis, stream, "shardId-000000000000")) == [b"", payload]


def test_put_record_empty_partition_key_client_side(kinesis, stream):
    with pytest.raises(ParamValidationError):
        kinesis.put_record(StreamName=stream, Data=b"x", PartitionKey="")


def test_put_record_empty_partition_key_server(raw_kinesis, stream):
    expect_error(raw_kinesis.put_record, VALIDATION, 400, StreamName=stream, Data=b"x", PartitionKey="")


def test_put_record_partition_key_too_long(raw_kinesis, stream):
    expect_error(raw_kinesis.put_record, BAD_INPUT, 400, StreamName=stream, Data=b"x", PartitionKey="k" * 257)
    # 256 characters is the maximum and fine
    assert raw_kinesis.put_record(StreamName=stream, Data=b"x", PartitionKey="k" * 256)["SequenceNumber"]


def test_put_record_missing_partition_key(raw_kinesis, stream):
    with pytest.raises(ClientError) as info:
        raw_kinesis.put_record(StreamName=stream, Data=b"x")
    assert info.value.response["Error"]["Code"] in BAD_INPUT
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_put_record_exactly_one_mib_ok(kinesis, stream):
    pk = "k"
    data = b"a" * (MIB - len(pk))
    r = kinesis.put_record(StreamName=stream, Data=data, PartitionKey=pk)
    recs = read_shard(kinesis, stream, r["ShardId"])
    assert len(recs) == 1 and recs[0]["Data"] == data


def test_put_record_over_one_mib_rejected(kinesis, stream):
    # the default maximum record size is 1 MiB (data + partition key)
    err = expect_error(
        kinesis.put_record, (INVALID_ARGUMENT, VALIDATION), 400, StreamName=stream, Data=b"a" * MIB, PartitionKey="k"
    )
    assert err.response["Error"].get("Message")
    assert read_shard(kinesis, stream, "shardId-000000000000") == []


# ----------------------------------------------------------------- PutRecords


def test_put_records_results_in_order(kinesis, create_stream):
    name = create_stream(shard_count=3)
    shards = list_shards(kinesis, name)
    entries = [{"Data": f"d{i}".encode(), "PartitionKey": f"pk-{i}"} for i in range(100)]
    resp = kinesis.put_records(StreamName=name, Records=entries)
    assert resp.get("FailedRecordCount", 0) == 0
    assert len(resp["Records"]) == 100
    for e, r in zip(entries, resp["Records"]):
        assert "ErrorCode" not in r
        assert r["ShardId"] == shard_for(shards, hash_key(e["PartitionKey"]))
    by_shard: dict[str, list[tuple[int, bytes]]] = {}
    for e, r in zip(entries, resp["Records"]):
        by_shard.setdefault(r["ShardId"], []).append((int(r["SequenceNumber"]), e["Data"]))
    for sid, expected in by_shard.items():
        assert_strictly_increasing([s for s, _ in expected])  # request order within a shard
        recs = read_shard(kinesis, name, sid)
        assert [(int(x["SequenceNumber"]), x["Data"]) for x in recs] == expected


def test_put_records_explicit_hash_key(kinesis, create_stream):
    name = create_stream(shard_count=2)
    resp = kinesis.put_records(
        StreamName=name,
        Records=[
            {"Data": b"lo", "PartitionKey": "x", "ExplicitHashKey": "0"},
            {"Data": b"hi", "PartitionKey": "x", "ExplicitHashKey": str(2**128 - 1)},
        ],
    )
    assert [r["ShardId"] for r in resp["Records"]] == ["shardId-000000000000", "shardId-000000000001"]


def test_put_records_500_ok(kinesis, stream):
    resp = kinesis.put_records(StreamName=stream, Records=[{"Data": b"%d" % i, "PartitionKey": "k"} for i in range(500)])
    assert resp.get("FailedRecordCount", 0) == 0
    assert len(resp["Records"]) == 500
    assert_strictly_increasing([int(r["SequenceNumber"]) for r in resp["Records"]])
    got = read_shard(kinesis, stream, "shardId-000000000000")
    assert datas(got) == [b"%d" % i for i in range(500)]


def test_put_records_501_rejected(kinesis, stream):
    expect_error(
        kinesis.put_records,
        BAD_INPUT,
        400,
        StreamName=stream,
        Records=[{"Data": b"x", "PartitionKey": "k"} for _ in range(501)],
    )
    assert read_shard(kinesis, stream, "shardId-000000000000") == []


def test_put_records_empty_list(raw_kinesis, stream):
    expect_error(raw_kinesis.put_records, BAD_INPUT, 400, StreamName=stream, Records=[])


def test_put_records_oversize_entry_fails_request(kinesis, stream):
    with pytest.raises(ClientError) as info:
        kinesis.put_records(
            StreamName=stream,
            Records=[{"Data": b"small", "PartitionKey": "k"}, {"Data": b"a" * MIB, "PartitionKey": "k"}],
        )
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert info.value.response["Error"]["Code"] in (INVALID_ARGUMENT, VALIDATION)
    assert read_shard(kinesis, stream, "shardId-000000000000") == []


def test_put_records_unknown_stream(kinesis):
    expect_error(
        kinesis.put_records, RESOURCE_NOT_FOUND, 400, StreamName="no-such-stream-x1", Records=[{"Data": b"x", "PartitionKey": "k"}]
    )


# ----------------------------------------------------------------- GetShardIterator types


@pytest.fixture
def ten_records(kinesis, stream):
    """(stream, [(sequence number, data)]) for ten records in shard 0."""
    out = []
    for i in range(10):
        r = kinesis.put_record(StreamName=stream, Data=f"r{i}".encode(), PartitionKey="k")
        out.append((r["SequenceNumber"], f"r{i}".encode()))
    return stream, out


def test_trim_horizon_reads_all_in_order(kinesis, ten_records):
    name, written = ten_records
    recs = read_shard(kinesis, name, "shardId-000000000000", "TRIM_HORIZON")
    assert [(r["SequenceNumber"], r["Data"]) for r in recs] == written
    for r in recs:
        assert r["PartitionKey"] == "k"
        assert isinstance(r["ApproximateArrivalTimestamp"], datetime)
        assert abs(datetime.now(timezone.utc) - r["ApproximateArrivalTimestamp"]) < timedelta(minutes=5)
        assert isinstance(r["Data"], bytes)


def test_latest_reads_only_new_records(kinesis, ten_records):
    name, _ = ten_records
    it = iterator(kinesis, name, "shardId-000000000000", "LATEST")
    first = kinesis.get_records(ShardIterator=it)
    assert first["Records"] == []
    assert first["MillisBehindLatest"] == 0
    kinesis.put_record(StreamName=name, Data=b"new-1", PartitionKey="k")
    kinesis.put_record(StreamName=name, Data=b"new-2", PartitionKey="k")
    recs, _ = read_from(kinesis, first["NextShardIterator"])
    assert datas(recs) == [b"new-1", b"new-2"]


def test_latest_iterator_taken_before_writes_sees_them(kinesis, ten_records):
    name, _ = ten_records
    it = iterator(kinesis, name, "shardId-000000000000", "LATEST")
    kinesis.put_record(StreamName=name, Data=b"after", PartitionKey="k")
    recs, _ = read_from(kinesis, it)
    assert datas(recs) == [b"after"]


def test_at_sequence_number(kinesis, ten_records):
    name, written = ten_records
    recs = read_shard(kinesis, name, "shardId-000000000000", "AT_SEQUENCE_NUMBER", StartingSequenceNumber=written[4][0])
    assert [(r["SequenceNumber"], r["Data"]) for r in recs] == written[4:]


def test_after_sequence_number(kinesis, ten_records):
    name, written = ten_records
    recs = read_shard(kinesis, name, "shardId-000000000000", "AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=written[4][0])
    assert [(r["SequenceNumber"], r["Data"]) for r in recs] == written[5:]
    last = read_shard(kinesis, name, "shardId-000000000000", "AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=written[-1][0])
    assert last == []


def test_at_timestamp(kinesis, stream):
    for i in range(3):
        kinesis.put_record(StreamName=stream, Data=f"old{i}".encode(), PartitionKey="k")
    time.sleep(2.1)  # botocore truncates timestamps to whole seconds
    ts = datetime.now(timezone.utc)
    for i in range(3):
        kinesis.put_record(StreamName=stream, Data=f"new{i}".encode(), PartitionKey="k")
    recs = read_shard(kinesis, stream, "shardId-000000000000", "AT_TIMESTAMP", Timestamp=ts)
    assert datas(recs) == [b"new0", b"new1", b"new2"]
    for r in recs:
        assert r["ApproximateArrivalTimestamp"] >= ts - timedelta(seconds=1)
    # a timestamp before everything reads everything
    all_recs = read_shard(kinesis, stream, "shardId-000000000000", "AT_TIMESTAMP", Timestamp=ts - timedelta(hours=1))
    assert len(all_recs) == 6


def test_at_timestamp_in_the_future_is_invalid(kinesis, stream):
    # AWS: "The timestampInMillis parameter cannot be greater than the currentTimestampInMillis"
    expect_error(
        kinesis.get_shard_iterator,
        INVALID_ARGUMENT,
        400,
        StreamName=stream,
        ShardId="shardId-000000000000",
        ShardIteratorType="AT_TIMESTAMP",
        Timestamp=datetime.now(timezone.utc) + timedelta(hours=1),
    )


def test_at_sequence_number_requires_sequence_number(kinesis, stream):
    expect_error(
        kinesis.get_shard_iterator,
        INVALID_ARGUMENT,
        400,
        StreamName=stream,
        ShardId="shardId-000000000000",
        ShardIteratorType="AT_SEQUENCE_NUMBER",
    )
    expect_error(
        kinesis.get_shard_iterator,
        INVALID_ARGUMENT,
        400,
        StreamName=stream,
        ShardId="shardId-000000000000",
        ShardIteratorType="AFTER_SEQUENCE_NUMBER",
    )


def test_at_timestamp_requires_timestamp(kinesis, stream):
    expect_error(
        kinesis.get_shard_iterator,
        INVALID_ARGUMENT,
        400,
        StreamName=stream,
        ShardId="shardId-000000000000",
        ShardIteratorType="AT_TIMESTAMP",
    )


def test_get_shard_iterator_unknown_shard(kinesis, stream):
    expect_error(
        kinesis.get_shard_iterator,
        RESOURCE_NOT_FOUND,
        400,
        StreamName=stream,
        ShardId="shardId-000000000009",
        ShardIteratorType="TRIM_HORIZON",
    )


def test_get_shard_iterator_missing_type_client_side(kinesis, stream):
    with pytest.raises(ParamValidationError):
        kinesis.get_shard_iterator(StreamName=stream, ShardId="shardId-000000000000")


def test_get_shard_iterator_missing_type_server(raw_kinesis, stream):
    with pytest.raises(ClientError) as info:
        raw_kinesis.get_shard_iterator(StreamName=stream, ShardId="shardId-000000000000")
    assert info.value.response["Error"]["Code"] in BAD_INPUT
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_get_shard_iterator_bad_type(raw_kinesis, stream):
    with pytest.raises(ClientError) as info:
        raw_kinesis.get_shard_iterator(StreamName=stream, ShardId="shardId-000000000000", ShardIteratorType="OLDEST")
    assert info.value.response["Error"]["Code"] in BAD_INPUT
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


# ----------------------------------------------------------------- GetRecords


def test_get_records_limit_and_chaining(kinesis, ten_records):
    name, written = ten_records
    it = iterator(kinesis, name, "shardId-000000000000")
    got = []
    calls = 0
    while len(got) < 10:
        resp = kinesis.get_records(ShardIterator=it, Limit=3)
        assert len(resp["Records"]) <= 3
        got += resp["Records"]
        it = resp["NextShardIterator"]
        calls += 1
        assert calls <= 20
    assert calls >= 4
    assert [(r["SequenceNumber"], r["Data"]) for r in got] == written
    tail = kinesis.get_records(ShardIterator=it, Limit=3)
    assert tail["Records"] == []
    assert tail["MillisBehindLatest"] == 0
    assert tail["NextShardIterator"]


def test_get_records_caught_up_millis_behind_zero(kinesis, ten_records):
    name, _ = ten_records
    recs, last = read_from(kinesis, iterator(kinesis, name, "shardId-000000000000"))
    assert len(recs) == 10
    assert last["MillisBehindLatest"] == 0
    assert last.get("NextShardIterator")  # an open shard never ends


def test_get_records_iterator_reusable(kinesis, ten_records):
    # an iterator is a position, not a cursor: using it twice gives the same records
    name, written = ten_records
    it = iterator(kinesis, name, "shardId-000000000000")
    a = kinesis.get_records(ShardIterator=it, Limit=5)["Records"]
    b = kinesis.get_records(ShardIterator=it, Limit=5)["Records"]
    assert [r["SequenceNumber"] for r in a] == [r["SequenceNumber"] for r in b] == [s for s, _ in written[:5]]


def test_get_records_garbage_iterator(kinesis):
    expect_error(kinesis.get_records, INVALID_ARGUMENT, 400, ShardIterator="AAAAAAAAAAGgarbage-not-an-iterator==")


def test_get_records_limit_out_of_range(raw_kinesis, ten_records):
    name, _ = ten_records
    it = iterator(raw_kinesis, name, "shardId-000000000000")
    expect_error(raw_kinesis.get_records, BAD_INPUT, 400, ShardIterator=it, Limit=0)
    expect_error(raw_kinesis.get_records, BAD_INPUT, 400, ShardIterator=it, Limit=10001)


def test_get_records_iterator_of_deleted_stream(kinesis, create_stream):
    name = create_stream()
    kinesis.put_record(StreamName=name, Data=b"x", PartitionKey="k")
    it = iterator(kinesis, name, "shardId-000000000000")
    kinesis.delete_stream(StreamName=name)
    from kinesis_helpers import wait_gone

    wait_gone(kinesis, name)
    with pytest.raises(ClientError) as info:
        kinesis.get_records(ShardIterator=it)
    assert info.value.response["Error"]["Code"] in (RESOURCE_NOT_FOUND, INVALID_ARGUMENT, "ExpiredIteratorException")


@pytest.mark.skip(reason="iterators expire after 5 minutes (ExpiredIteratorException): too slow for CI")
def test_iterator_expires_after_five_minutes(kinesis, stream):
    it = iterator(kinesis, stream, "shardId-000000000000")
    time.sleep(301)
    expect_error(kinesis.get_records, "ExpiredIteratorException", 400, ShardIterator=it)


def test_records_across_shards_all_readable(kinesis, create_stream):
    name = create_stream(shard_count=4)
    payloads = {f"p-{i}".encode() for i in range(60)}
    kinesis.put_records(StreamName=name, Records=[{"Data": p, "PartitionKey": p.decode()} for p in sorted(payloads)])
    got = []
    for s in list_shards(kinesis, name):
        recs = read_shard(kinesis, name, s["ShardId"])
        assert_strictly_increasing(seqs(recs))
        got += datas(recs)
    assert sorted(got) == sorted(payloads)


def test_concurrent_writers_one_shard(kinesis, stream):
    import threading

    acks: list[tuple[int, bytes]] = []
    lock = threading.Lock()
    errors = []

    def writer(w):
        try:
            for i in range(40):
                d = f"w{w}-{i}".encode()
                r = kinesis.put_record(StreamName=stream, Data=d, PartitionKey=f"w{w}")
                with lock:
                    acks.append((int(r["SequenceNumber"]), d))
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len({s for s, _ in acks}) == len(acks) == 240, "sequence numbers must be unique"
    got = read_shard(kinesis, stream, "shardId-000000000000")
    assert [(int(r["SequenceNumber"]), r["Data"]) for r in got] == sorted(acks)
    # each writer's own records are in the order it wrote them
    for w in range(6):
        mine = [r["Data"] for r in got if r["PartitionKey"] == f"w{w}"]
        assert mine == [f"w{w}-{i}".encode() for i in range(40)]


def test_create_provisioned_stream_without_shard_count(raw_kinesis):
    # "For the data streams with a provisioned mode, you must specify the number of shards"
    name = f"ks-noshards-{int(time.time() * 1000)}"
    with pytest.raises(ClientError) as info:
        raw_kinesis.create_stream(StreamName=name, StreamModeDetails={"StreamMode": "PROVISIONED"})
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert info.value.response["Error"]["Code"] in BAD_INPUT


def test_get_records_returns_at_most_10_mib(kinesis, stream):
    # GetRecords: "The maximum size of data that GetRecords can return is 10 MiB."
    chunk = b"g" * (MIB - 1)
    for i in range(12):
        kinesis.put_record(StreamName=stream, Data=chunk[:-2] + b"%02d" % i, PartitionKey="k")
    it = iterator(kinesis, stream, "shardId-000000000000")
    first = kinesis.get_records(ShardIterator=it)
    total = sum(len(r["Data"]) + len(r["PartitionKey"]) for r in first["Records"])
    assert 0 < len(first["Records"]) < 12
    assert total <= 10 * MIB
    rest, _ = read_from(kinesis, first["NextShardIterator"])
    assert [r["Data"][-2:] for r in first["Records"] + rest] == [b"%02d" % i for i in range(12)]


def test_put_records_request_over_10_mib_rejected(kinesis, stream):
    # PutRecords: "Each record in the request can be as large as 10 MiB, up to a limit of 10 MiB for
    # the entire request, including partition keys." (each entry here is within the 1 MiB default)
    entries = [{"Data": b"q" * (MIB - 16), "PartitionKey": f"k{i}"} for i in range(11)]
    with pytest.raises(ClientError) as info:
        kinesis.put_records(StreamName=stream, Records=entries)
    # an AWS error (JSON body with __type), whatever the status line
    assert info.value.response["Error"]["Code"] in (INVALID_ARGUMENT, VALIDATION), info.value.response
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] in (400, 413)
    assert read_shard(kinesis, stream, "shardId-000000000000") == []


def test_put_records_request_of_almost_10_mib_accepted(kinesis, stream):
    # ten records of just under 1 MiB each: within both the record and the request limit (the JSON
    # body is ~13.4 MB after base64)
    entries = [{"Data": bytes([65 + i]) * (MIB - 16), "PartitionKey": f"k{i}"} for i in range(10)]
    assert sum(len(e["Data"]) + len(e["PartitionKey"]) for e in entries) <= 10 * MIB
    resp = kinesis.put_records(StreamName=stream, Records=entries)
    assert resp.get("FailedRecordCount", 0) == 0
    got = read_shard(kinesis, stream, "shardId-000000000000")
    assert [r["Data"] for r in got] == [e["Data"] for e in entries]
