"""Helpers shared by the Kinesis Data Streams suites (tests/sdk/test_kinesis_*.py).

Expectations come from AWS documentation: the Kinesis Data Streams API reference, the developer
guide (partition key -> MD5 -> 128-bit hash key -> shard whose HashKeyRange contains it; on-demand
streams start with 4 shards; retention 24..8760 hours) and the botocore service model
(kinesis/2013-12-02). Kinesis speaks awsJson1_1 in every botocore version, so both suite runs
(current boto3 and botocore 1.31.80) exercise the same protocol; operations that the old botocore
does not know are skipped with `need_op`."""

from __future__ import annotations

import hashlib
import re
import time

import pytest
from botocore.exceptions import ClientError

from sqs_helpers import expect_error, wait_until  # noqa: F401  (re-exported for the Kinesis tests)

MAX_HASH = 2**128 - 1
KEY_SPACE = 2**128
MIB = 1024 * 1024

# error codes (the `__type` of the awsJson error, which botocore reports as Error.Code)
RESOURCE_NOT_FOUND = "ResourceNotFoundException"
RESOURCE_IN_USE = "ResourceInUseException"
INVALID_ARGUMENT = "InvalidArgumentException"
VALIDATION = "ValidationException"
# Constraint violations of the service model (length, pattern, range, required) are reported as
# ValidationException by current AWS; older documentation and some front ends say
# InvalidArgumentException. Where the docs do not pin one down, either is accepted.
BAD_INPUT = (VALIDATION, INVALID_ARGUMENT)

SHARD_ID_RE = re.compile(r"^shardId-\d{12}$")
STREAM_ARN_RE = re.compile(r"^arn:aws[a-z-]*:kinesis:[a-z0-9-]+:\d{12}:stream/(?P<name>[a-zA-Z0-9_.-]+)$")
CONSUMER_ARN_RE = re.compile(
    r"^arn:aws[a-z-]*:kinesis:[a-z0-9-]+:\d{12}:stream/(?P<stream>[a-zA-Z0-9_.-]+)/consumer/(?P<name>[a-zA-Z0-9_.-]+):\d+$"
)
ALL_METRICS = {
    "IncomingBytes",
    "IncomingRecords",
    "OutgoingBytes",
    "OutgoingRecords",
    "WriteProvisionedThroughputExceeded",
    "ReadProvisionedThroughputExceeded",
    "IteratorAgeMilliseconds",
}


# --------------------------------------------------------------------------- botocore capabilities


def need_op(client, op: str) -> None:
    """Skip the test when this botocore does not know the operation (snake_case method name)."""
    if not hasattr(client, op):
        pytest.skip(f"{op} is not in this botocore's Kinesis model")


def has_member(client, operation: str, member: str, output: bool = False) -> bool:
    om = client.meta.service_model.operation_model(operation)
    shape = om.output_shape if output else om.input_shape
    return shape is not None and member in shape.members


def need_member(client, operation: str, member: str, output: bool = False) -> None:
    if not has_member(client, operation, member, output):
        pytest.skip(f"{operation}.{member} is not in this botocore's Kinesis model")


def error_code(e: ClientError) -> str:
    return e.response.get("Error", {}).get("Code", "")


# --------------------------------------------------------------------------- hashing


def hash_key(partition_key: str) -> int:
    """The 128-bit hash key of a partition key: MD5 of its UTF-8 bytes as a big-endian integer."""
    return int.from_bytes(hashlib.md5(partition_key.encode("utf-8")).digest(), "big")


def hrange(shard: dict) -> tuple[int, int]:
    r = shard["HashKeyRange"]
    return int(r["StartingHashKey"]), int(r["EndingHashKey"])


def is_open(shard: dict) -> bool:
    return "EndingSequenceNumber" not in shard["SequenceNumberRange"]


def shard_for(shards: list[dict], h: int) -> str:
    """The open shard whose hash key range contains h."""
    hits = [s["ShardId"] for s in shards if is_open(s) and hrange(s)[0] <= h <= hrange(s)[1]]
    assert len(hits) == 1, f"hash key {h} is in {len(hits)} open shards: {hits}"
    return hits[0]


def assert_covers_key_space(shards: list[dict], even: bool = True) -> None:
    """The shards' hash key ranges are contiguous, without gaps or overlaps, from 0 to 2^128-1;
    with even=True every range is within rounding of 2^128/N."""
    ranges = sorted(hrange(s) for s in shards)
    assert ranges[0][0] == 0, f"first range starts at {ranges[0][0]}"
    assert ranges[-1][1] == MAX_HASH, f"last range ends at {ranges[-1][1]}"
    for (a_start, a_end), (b_start, _b_end) in zip(ranges, ranges[1:]):
        assert a_start <= a_end
        assert b_start == a_end + 1, f"gap or overlap between ...{a_end} and {b_start}..."
    if even:
        n = len(ranges)
        ideal = KEY_SPACE / n
        for start, end in ranges:
            size = end - start + 1
            assert abs(size - ideal) <= n, f"range {start}..{end} has size {size}, expected ~{ideal:.0f}"


# --------------------------------------------------------------------------- stream state


def summary(kinesis, name: str) -> dict:
    return kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]


def stream_arn(kinesis, name: str) -> str:
    return summary(kinesis, name)["StreamARN"]


def wait_active(kinesis, name: str, timeout: float = 60.0) -> dict:
    """Poll DescribeStreamSummary until the stream is ACTIVE (creation and resharding are
    asynchronous on AWS)."""
    deadline = time.monotonic() + timeout
    while True:
        s = summary(kinesis, name)
        if s["StreamStatus"] == "ACTIVE":
            return s
        if time.monotonic() > deadline:
            raise AssertionError(f"stream {name} not ACTIVE after {timeout}s (status {s['StreamStatus']})")
        time.sleep(0.2)


def wait_gone(kinesis, name: str, timeout: float = 60.0) -> ClientError:
    """Poll until DescribeStreamSummary says ResourceNotFoundException; return that error."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            s = summary(kinesis, name)
        except ClientError as e:
            assert error_code(e) == RESOURCE_NOT_FOUND, f"unexpected error {e}"
            return e
        assert s["StreamStatus"] == "DELETING", f"stream {name} is {s['StreamStatus']} after DeleteStream"
        if time.monotonic() > deadline:
            raise AssertionError(f"stream {name} still exists {timeout}s after DeleteStream")
        time.sleep(0.2)


def list_shards(kinesis, name: str, **kwargs) -> list[dict]:
    """Every shard of ListShards (following NextToken)."""
    out: list[dict] = []
    resp = kinesis.list_shards(StreamName=name, **kwargs)
    out += resp.get("Shards", [])
    while resp.get("NextToken"):
        resp = kinesis.list_shards(NextToken=resp["NextToken"])
        out += resp.get("Shards", [])
    return out


def open_shards(kinesis, name: str) -> list[dict]:
    return [s for s in list_shards(kinesis, name) if is_open(s)]


def wait_consumer_active(kinesis, consumer_arn: str, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        d = kinesis.describe_stream_consumer(ConsumerARN=consumer_arn)["ConsumerDescription"]
        if d["ConsumerStatus"] == "ACTIVE":
            return d
        if time.monotonic() > deadline:
            raise AssertionError(f"consumer {consumer_arn} not ACTIVE after {timeout}s")
        time.sleep(0.2)


# --------------------------------------------------------------------------- reading


def iterator(kinesis, name: str, shard_id: str, kind: str = "TRIM_HORIZON", **kwargs) -> str:
    return kinesis.get_shard_iterator(StreamName=name, ShardId=shard_id, ShardIteratorType=kind, **kwargs)[
        "ShardIterator"
    ]


def read_from(kinesis, shard_iterator: str, limit: int | None = None, max_calls: int = 200) -> tuple[list[dict], dict]:
    """GetRecords from an iterator until the shard is exhausted (NextShardIterator absent) or caught
    up (an empty page with MillisBehindLatest 0). Returns (records, last response)."""
    records: list[dict] = []
    resp: dict = {}
    it = shard_iterator
    for _ in range(max_calls):
        kw = {"ShardIterator": it}
        if limit is not None:
            kw["Limit"] = limit
        resp = kinesis.get_records(**kw)
        records += resp["Records"]
        it = resp.get("NextShardIterator")
        if it is None:
            break
        if not resp["Records"] and resp.get("MillisBehindLatest", 0) == 0:
            break
    else:
        raise AssertionError(f"shard not exhausted after {max_calls} GetRecords calls")
    return records, resp


def read_shard(kinesis, name: str, shard_id: str, kind: str = "TRIM_HORIZON", **kwargs) -> list[dict]:
    return read_from(kinesis, iterator(kinesis, name, shard_id, kind, **kwargs))[0]


def read_stream(kinesis, name: str) -> dict[str, list[dict]]:
    """Every shard (open and closed) read from TRIM_HORIZON: {shard id: records}."""
    return {s["ShardId"]: read_shard(kinesis, name, s["ShardId"]) for s in list_shards(kinesis, name)}


def seqs(records: list[dict]) -> list[int]:
    return [int(r["SequenceNumber"]) for r in records]


def datas(records: list[dict]) -> list[bytes]:
    return [r["Data"] for r in records]


def assert_strictly_increasing(values: list[int], what: str = "sequence numbers") -> None:
    for a, b in zip(values, values[1:]):
        assert b > a, f"{what} not strictly increasing: {a} then {b}"
