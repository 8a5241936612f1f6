"""Crafted Kinesis pagination tokens and out-of-range numbers.

A NextToken is opaque to clients; one eddy never issued (garbage, a
timestamp near 2^64, an offset past the end) is refused with
InvalidArgumentException instead of silently restarting the listing. Numbers
follow the model: every Kinesis number is a 32-bit `integer`, and
WarmThroughputMiBps has `min: 0` (AWS's ValidationException wording).
"""

import base64
import time

import pytest
import requests
from botocore.exceptions import ClientError

from conftest import unique_name
from kinesis_helpers import error_code, need_member, need_op, stream_arn

HUGE = 2**64 - 1


def _token(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _now_ms() -> int:
    return int(time.time() * 1000)


def _invalid(call, **kwargs) -> ClientError:
    with pytest.raises(ClientError) as e:
        call(**kwargs)
    assert error_code(e.value) == "InvalidArgumentException", e.value.response
    return e.value


@pytest.fixture(scope="module")
def loose(kinesis_factory):
    """A client that lets out-of-model values through to the server."""
    return kinesis_factory(parameter_validation=False)


def test_list_streams_crafted_tokens(kinesis, create_stream):
    create_stream()
    create_stream()
    page = kinesis.list_streams(Limit=1)
    assert page["HasMoreStreams"] and page["NextToken"]
    assert kinesis.list_streams(NextToken=page["NextToken"])["StreamNames"]
    for token in [_token(f"{HUGE}|zzz"), _token(f"{_now_ms()}|"), "not base64 !", _token("no-bar")]:
        _invalid(kinesis.list_streams, NextToken=token)


def test_list_shards_crafted_tokens(kinesis, create_stream):
    name = create_stream(shard_count=3)
    page = kinesis.list_shards(StreamName=name, MaxResults=1)
    assert page["NextToken"]
    second = kinesis.list_shards(NextToken=page["NextToken"], MaxResults=1)
    assert second["Shards"][0]["ShardId"] != page["Shards"][0]["ShardId"]
    arn = stream_arn(kinesis, name)
    for token in [
        _token(f"{_now_ms()}|{arn}|{HUGE}"),  # a shard index past u32: used to restart at shard 0
        _token(f"{_now_ms()}|{arn}|garbage"),
        _token(f"{HUGE}|{arn}|0"),  # issued in the far future: would never expire
    ]:
        _invalid(kinesis.list_shards, NextToken=token)


def test_list_shards_token_with_a_crafted_old_timestamp(kinesis, create_stream):
    # Tokens are sealed: rewriting one's timestamp makes it a token eddy never
    # issued (InvalidArgument), not an expired one. Expiry after five minutes
    # (ExpiredNextTokenException) is tested in eddy-core on a manual clock.
    name = create_stream()
    arn = stream_arn(kinesis, name)
    _invalid(kinesis.list_shards, NextToken=_token(f"{_now_ms() - 3_600_000}|{arn}|0"))


def test_list_stream_consumers_crafted_tokens(kinesis, create_stream):
    need_op(kinesis, "list_stream_consumers")
    arn = stream_arn(kinesis, create_stream())
    for i in range(3):
        kinesis.register_stream_consumer(StreamARN=arn, ConsumerName=f"c{i}")
    page = kinesis.list_stream_consumers(StreamARN=arn, MaxResults=2)
    assert len(page["Consumers"]) == 2 and page["NextToken"]
    rest = kinesis.list_stream_consumers(StreamARN=arn, NextToken=page["NextToken"], MaxResults=2)
    assert len(rest["Consumers"]) == 1 and "NextToken" not in rest
    # 2^64 - 1 used to wrap around to offset 0 (and a NextToken of 1): back to the start.
    for token in [str(HUGE), str(2**63), "4", "-1", "x"]:
        _invalid(kinesis.list_stream_consumers, StreamARN=arn, NextToken=token, MaxResults=2)


def test_create_stream_negative_warm_throughput(loose, kinesis):
    need_member(loose, "CreateStream", "WarmThroughputMiBps")
    name = unique_name("ks")
    with pytest.raises(ClientError) as e:
        loose.create_stream(StreamName=name, StreamModeDetails={"StreamMode": "ON_DEMAND"}, WarmThroughputMiBps=-1)
    assert error_code(e.value) == "ValidationException"
    assert e.value.response["Error"]["Message"] == (
        "1 validation error detected: Value '-1' at 'warmThroughputMiBps' failed to satisfy constraint: "
        "Member must have value greater than or equal to 0"
    )
    with pytest.raises(ClientError) as gone:
        kinesis.describe_stream_summary(StreamName=name)
    assert error_code(gone.value) == "ResourceNotFoundException"


def test_update_stream_mode_negative_warm_throughput(loose, create_stream, kinesis):
    need_member(loose, "UpdateStreamMode", "WarmThroughputMiBps")
    arn = stream_arn(kinesis, create_stream())
    with pytest.raises(ClientError) as e:
        loose.update_stream_mode(StreamARN=arn, StreamModeDetails={"StreamMode": "ON_DEMAND"}, WarmThroughputMiBps=-5)
    assert error_code(e.value) == "ValidationException"
    assert "Value '-5' at 'warmThroughputMiBps'" in e.value.response["Error"]["Message"]


@pytest.mark.parametrize("member,value", [("ShardCount", 2**32 + 1), ("ShardCount", -(2**40)), ("WarmThroughputMiBps", 2**32 - 1)])
def test_numbers_beyond_32_bits_are_serialization_errors(endpoint, member, value):
    """Raw, because a client would not serialise these for an `integer` member."""
    body = {"StreamName": unique_name("ks"), "ShardCount": 1, member: value}
    r = requests.post(
        endpoint + "/",
        json=body,
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "Kinesis_20131202.CreateStream",
            "Authorization": "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/kinesis/aws4_request, "
            "SignedHeaders=host, Signature=" + "0" * 64,
        },
        timeout=30,
    )
    assert r.status_code == 400, r.text
    assert r.json()["__type"] == "SerializationException", r.text
    assert member in r.json()["message"]


def test_limits_still_validated_in_range(loose, create_stream):
    name = create_stream()
    with pytest.raises(ClientError) as e:
        loose.list_shards(StreamName=name, MaxResults=0)
    assert error_code(e.value) == "ValidationException"
    with pytest.raises(ClientError) as e:
        loose.list_streams(Limit=2**31 - 1)
    assert error_code(e.value) == "ValidationException"
