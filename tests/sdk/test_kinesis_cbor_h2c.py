"""Kinesis over CBOR (`application/x-amz-cbor-1.1`, what the AWS SDK for Java and the KPL/KCL send)
and over HTTP/2 with prior knowledge (h2c) as well as HTTP/1.1, with a client written from the
specs since no JVM is available here:

* requests: POST / with `X-Amz-Target: Kinesis_20131202.<Op>` and a CBOR body (RFC 8949). Blobs are
  byte strings; timestamps are sent both as tag 1 (epoch seconds) and as plain integer epoch
  milliseconds (what SDK v1 sends); Jackson's CBOR generator (SDK v1) writes indefinite-length maps
  and arrays, so those are used as well;
* responses: Data as a CBOR byte string, timestamps as tag 1 around an *integer* of epoch
  milliseconds (against RFC 8949, which says seconds: what AWS sends and the Java SDKs read, see
  aws-sdk-java-v2 #4661 and #979; LocalStack's AWS-validated test_get_records and
  test_subscribe_to_shard_with_at_timestamp_cbor decode tag 1 as milliseconds and check the bytes
  are not a tagged float), errors as HTTP 400 with a CBOR map holding `__type` and `message`;
* SubscribeToShard: an `application/vnd.amazon.eventstream` body of binary frames (prelude total
  length u32, headers length u32, prelude CRC32; headers; payload; message CRC32), first the
  `initial-response` event, then `SubscribeToShardEvent`s with CBOR payloads."""

from __future__ import annotations

import struct
import threading
import time
import zlib

import pytest

cbor2 = pytest.importorskip("cbor2")
httpx = pytest.importorskip("httpx")
pytest.importorskip("h2")

from conftest import unique_name  # noqa: E402

CBOR = "application/x-amz-cbor-1.1"
AUTH = (
    "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/kinesis/aws4_request, "
    "SignedHeaders=host;x-amz-date;x-amz-target, Signature=" + "0" * 64
)
S0 = "shardId-000000000000"


# --------------------------------------------------------------------------- a hand-made CBOR encoder


class IMap(dict):
    """Encoded as an indefinite-length map (0xbf ... 0xff)."""


class IList(list):
    """Encoded as an indefinite-length array (0x9f ... 0xff)."""


class IBytes(bytes):
    """Encoded as an indefinite-length byte string of 3-byte chunks (0x5f ... 0xff)."""


def _head(major: int, n: int) -> bytes:
    if n < 24:
        return bytes([major << 5 | n])
    for ai, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if n < 1 << (8 * size):
            return bytes([major << 5 | ai]) + n.to_bytes(size, "big")
    raise ValueError(n)


def enc(v) -> bytes:
    if isinstance(v, IMap):
        return b"\xbf" + b"".join(enc(k) + enc(x) for k, x in v.items()) + b"\xff"
    if isinstance(v, dict):
        return _head(5, len(v)) + b"".join(enc(k) + enc(x) for k, x in v.items())
    if isinstance(v, IList):
        return b"\x9f" + b"".join(enc(x) for x in v) + b"\xff"
    if isinstance(v, list):
        return _head(4, len(v)) + b"".join(enc(x) for x in v)
    if isinstance(v, IBytes):
        raw = bytes(v)
        return b"\x5f" + b"".join(cbor2.dumps(raw[i : i + 3]) for i in range(0, len(raw), 3)) + b"\xff"
    return cbor2.dumps(v)


def test_encoder_self_check():
    # the hand-made encoder produces what a standard decoder reads back
    v = IMap({"a": IList([1, b"\x00\x01", IMap({"x": "y"})]), "b": IBytes(b"abcdefgh"), "t": cbor2.CBORTag(1, 5)})
    out = cbor2.loads(enc(v))
    assert out["a"][0] == 1 and out["a"][1] == b"\x00\x01" and out["a"][2] == {"x": "y"}
    assert out["b"] == b"abcdefgh"
    assert enc(v)[0] == 0xBF


class EpochMillis(int):
    """A tag 1 timestamp as Kinesis sends it: integer epoch milliseconds."""


def _tag1(value, *_):
    # cbor2's stock tag 1 decoder reads seconds and fails on AWS's milliseconds
    assert isinstance(value, int) and not isinstance(value, bool), f"tag 1 around {value!r}, not an integer"
    return EpochMillis(value)


def loads(data: bytes):
    return cbor2.loads(data, semantic_decoders={1: _tag1})


def test_tag1_decoder_self_check():
    assert loads(b"\xa1\x61t\xc1\x1b" + (1700000000123).to_bytes(8, "big")) == {"t": 1700000000123}
    assert isinstance(loads(b"\xc1\x01"), EpochMillis)


# --------------------------------------------------------------------------- client


class CborKinesis:
    def __init__(self, endpoint: str, http2: bool):
        self.http2 = http2
        self.url = endpoint + "/"
        self.client = httpx.Client(http1=not http2, http2=http2, timeout=15.0)

    def headers(self, op: str, content_type: str = CBOR) -> dict:
        return {
            "Content-Type": content_type,
            "X-Amz-Target": f"Kinesis_20131202.{op}",
            "X-Amz-Date": "20240101T000000Z",
            "Authorization": AUTH,
        }

    def raw(self, op: str, body) -> httpx.Response:
        data = body if isinstance(body, bytes) else enc(body)
        r = self.client.post(self.url, content=data, headers=self.headers(op))
        if self.http2:
            assert r.http_version == "HTTP/2", f"{op} answered over {r.http_version}"
        return r

    def call(self, op: str, body=None) -> dict:
        r = self.raw(op, {} if body is None else body)
        assert r.status_code == 200, f"{op}: HTTP {r.status_code} {self._decode(r)!r}"
        return self._decode(r)

    def error(self, op: str, body) -> dict:
        r = self.raw(op, body)
        assert r.status_code == 400, f"{op}: expected HTTP 400, got {r.status_code}"
        assert r.headers.get("content-type", "").startswith(CBOR), r.headers.get("content-type")
        err = loads(r.content)
        assert isinstance(err, dict), err
        assert isinstance(err.get("__type"), str) and isinstance(err.get("message"), str), err
        return err

    @staticmethod
    def _decode(r: httpx.Response):
        if not r.content:
            return {}
        assert r.headers.get("content-type", "").startswith(CBOR), r.headers.get("content-type")
        return loads(r.content)

    def close(self):
        self.client.close()


@pytest.fixture(params=["h2c", "http1"])
def cb(request, endpoint):
    c = CborKinesis(endpoint, http2=request.param == "h2c")
    yield c
    c.close()


@pytest.fixture
def cbor_stream(cb, kinesis):
    name = unique_name("ks-cbor")
    cb.call("CreateStream", IMap({"StreamName": name, "ShardCount": 1}))
    deadline = time.monotonic() + 30
    while cb.call("DescribeStreamSummary", {"StreamName": name})["StreamDescriptionSummary"]["StreamStatus"] != "ACTIVE":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    yield name
    try:
        kinesis.delete_stream(StreamName=name, EnforceConsumerDeletion=True)
    except Exception:
        pass


def _type(err: dict) -> str:
    return err["__type"].split("#")[-1]


def _is_epoch_millis(v) -> bool:
    """A tag 1 integer of epoch milliseconds, within 10 minutes of now."""
    now_ms = time.time() * 1000
    return isinstance(v, EpochMillis) and abs(v - now_ms) < 10 * 60 * 1000


# --------------------------------------------------------------------------- tests


def test_cbor_describe_stream_summary(cb, cbor_stream):
    s = cb.call("DescribeStreamSummary", IMap({"StreamName": cbor_stream}))["StreamDescriptionSummary"]
    assert s["StreamName"] == cbor_stream
    assert s["StreamStatus"] == "ACTIVE"
    assert s["OpenShardCount"] == 1
    assert s["RetentionPeriodHours"] == 24
    assert _is_epoch_millis(s["StreamCreationTimestamp"]), s["StreamCreationTimestamp"]


def test_cbor_put_and_get_records(cb, cbor_stream):
    payloads = [b"\x00\xff binary \x01", b"", bytes(range(256))]
    seqs = []
    for p in payloads:
        r = cb.call("PutRecord", {"StreamName": cbor_stream, "Data": p, "PartitionKey": "pk"})
        assert r["ShardId"] == S0
        assert isinstance(r["SequenceNumber"], str) and r["SequenceNumber"].isdigit()
        seqs.append(r["SequenceNumber"])
    it = cb.call("GetShardIterator", {"StreamName": cbor_stream, "ShardId": S0, "ShardIteratorType": "TRIM_HORIZON"})[
        "ShardIterator"
    ]
    resp = cb.call("GetRecords", {"ShardIterator": it})
    recs = resp["Records"]
    assert [r["SequenceNumber"] for r in recs] == seqs
    for r, p in zip(recs, payloads):
        assert isinstance(r["Data"], bytes), f"Data must be a CBOR byte string, got {type(r['Data']).__name__}"
        assert r["Data"] == p
        assert r["PartitionKey"] == "pk"
        assert _is_epoch_millis(r["ApproximateArrivalTimestamp"]), r["ApproximateArrivalTimestamp"]
    assert resp["MillisBehindLatest"] == 0
    assert isinstance(resp["NextShardIterator"], str)


def test_cbor_indefinite_lengths_put_records(cb, cbor_stream):
    # what Jackson's CBOR generator writes: indefinite-length maps and arrays
    entries = IList(IMap({"Data": f"rec-{i}".encode(), "PartitionKey": f"k{i}"}) for i in range(5))
    entries.append(IMap({"Data": IBytes(b"chunked-bytes"), "PartitionKey": "chunked"}))
    resp = cb.call("PutRecords", IMap({"StreamName": cbor_stream, "Records": entries}))
    assert resp.get("FailedRecordCount", 0) == 0
    assert len(resp["Records"]) == 6
    it = cb.call("GetShardIterator", IMap({"StreamName": cbor_stream, "ShardId": S0, "ShardIteratorType": "TRIM_HORIZON"}))[
        "ShardIterator"
    ]
    recs = cb.call("GetRecords", IMap({"ShardIterator": it, "Limit": 100}))["Records"]
    assert [r["Data"] for r in recs] == [f"rec-{i}".encode() for i in range(5)] + [b"chunked-bytes"]
    assert [r["SequenceNumber"] for r in recs] == [r["SequenceNumber"] for r in resp["Records"]]


@pytest.mark.parametrize("encoding", ["tag1-seconds", "tag1-float-seconds", "tag1-millis", "int-millis"])
def test_cbor_at_timestamp(cb, cbor_stream, encoding):
    cb.call("PutRecord", {"StreamName": cbor_stream, "Data": b"old", "PartitionKey": "k"})
    time.sleep(1.1 if encoding == "tag1-seconds" else 0.3)
    t = time.time()
    time.sleep(0.3)
    cb.call("PutRecord", {"StreamName": cbor_stream, "Data": b"new", "PartitionKey": "k"})
    if encoding == "tag1-seconds":
        ts = cbor2.CBORTag(1, int(t))  # whole seconds, rounded down: still after "old" (1.1 s earlier)
    elif encoding == "tag1-float-seconds":
        ts = cbor2.CBORTag(1, t)
    elif encoding == "tag1-millis":
        ts = cbor2.CBORTag(1, int(t * 1000))  # what the Java SDKs send
    else:
        ts = int(t * 1000)
    it = cb.call(
        "GetShardIterator",
        IMap({"StreamName": cbor_stream, "ShardId": S0, "ShardIteratorType": "AT_TIMESTAMP", "Timestamp": ts}),
    )["ShardIterator"]
    recs = cb.call("GetRecords", {"ShardIterator": it})["Records"]
    assert [r["Data"] for r in recs] == [b"new"]


def test_cbor_timestamps_are_tagged_integers_on_the_wire(cb, cbor_stream):
    # tag 1 (0xc1) then an 8-byte unsigned integer (0x1b); never a tagged double (0xfb), which
    # LocalStack's AWS-validated test rules out because the AWS SDKs cannot read it
    raw = cb.raw("DescribeStream", {"StreamName": cbor_stream}).content
    assert b"StreamCreationTimestamp\xc1\x1b" in raw
    assert b"\xc1\xfb" not in raw
    cb.call("PutRecord", {"StreamName": cbor_stream, "Data": b"x", "PartitionKey": "k"})
    it = cb.call("GetShardIterator", {"StreamName": cbor_stream, "ShardId": S0, "ShardIteratorType": "TRIM_HORIZON"})[
        "ShardIterator"
    ]
    assert b"ApproximateArrivalTimestamp\xc1\x1b" in cb.raw("GetRecords", {"ShardIterator": it}).content


def test_cbor_and_json_arrival_timestamps_agree(cb, kinesis, cbor_stream):
    # LocalStack's AWS-validated test_get_records: the same record read over JSON and over CBOR
    # carries the same ApproximateArrivalTimestamp
    kinesis.put_records(StreamName=cbor_stream, Records=[{"Data": b"Hello world", "PartitionKey": "1"}])
    it = kinesis.get_shard_iterator(StreamName=cbor_stream, ShardId=S0, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    over_json = kinesis.get_records(ShardIterator=it)["Records"][0]
    over_cbor = cb.call("GetRecords", {"ShardIterator": it})["Records"][0]
    for k in ("Data", "PartitionKey", "SequenceNumber"):
        assert over_json[k] == over_cbor[k]
    assert round(over_json["ApproximateArrivalTimestamp"].timestamp() * 1000) == over_cbor["ApproximateArrivalTimestamp"]


def test_cbor_quoted_iterator_and_empty_read(cb, cbor_stream):
    it = cb.call("GetShardIterator", {"StreamName": cbor_stream, "ShardId": S0, "ShardIteratorType": "TRIM_HORIZON"})[
        "ShardIterator"
    ]
    assert cb.call("GetRecords", {"ShardIterator": f'"{it}"'})["Records"] == []


def test_cbor_error_for_unknown_stream_arn(cb, cbor_stream):
    # recorded from AWS (LocalStack test_cbor_exceptions): the name and account, not the ARN
    arn = cb.call("DescribeStreamSummary", {"StreamName": cbor_stream})["StreamDescriptionSummary"]["StreamARN"]
    missing = arn.rsplit("/", 1)[0] + "/wrong-stream-name"
    err = cb.error("DescribeStream", {"StreamARN": missing})
    assert err == {
        "__type": "ResourceNotFoundException",
        "message": f"Stream wrong-stream-name under account {arn.split(':')[4]} not found.",
    }


def test_cbor_list_shards_and_streams(cb, cbor_stream):
    shards = cb.call("ListShards", {"StreamName": cbor_stream})["Shards"]
    assert [s["ShardId"] for s in shards] == [S0]
    assert shards[0]["HashKeyRange"] == {"StartingHashKey": "0", "EndingHashKey": str(2**128 - 1)}
    listed = cb.call("ListStreams", {"ExclusiveStartStreamName": cbor_stream[:-1], "Limit": 100})
    assert cbor_stream in listed["StreamNames"]
    assert isinstance(listed["HasMoreStreams"], bool)
    desc = cb.call("DescribeStream", {"StreamName": cbor_stream})["StreamDescription"]
    assert _is_epoch_millis(desc["StreamCreationTimestamp"])
    assert desc["HasMoreShards"] is False


def test_cbor_error_resource_not_found(cb):
    err = cb.error("DescribeStreamSummary", {"StreamName": unique_name("missing")})
    assert _type(err) == "ResourceNotFoundException"
    assert err["message"]


def test_cbor_error_invalid_argument(cb, cbor_stream):
    err = cb.error("GetRecords", {"ShardIterator": "AAAAAAAAAAGgarbage-not-an-iterator=="})
    assert _type(err) == "InvalidArgumentException"
    err = cb.error("IncreaseStreamRetentionPeriod", {"StreamName": cbor_stream, "RetentionPeriodHours": 9000})
    assert _type(err) == "InvalidArgumentException"


def test_cbor_garbage_body_is_4xx(cb):
    r = cb.raw("ListStreams", b"\xff\x00not cbor")
    assert 400 <= r.status_code < 500


def test_json_over_h2c(endpoint, kinesis, stream):
    # the same port also answers awsJson1_1 over h2c
    with httpx.Client(http1=False, http2=True, timeout=15.0) as c:
        r = c.post(
            endpoint + "/",
            content=b'{"StreamName": "%s"}' % stream.encode(),
            headers={
                "Content-Type": "application/x-amz-json-1.1",
                "X-Amz-Target": "Kinesis_20131202.DescribeStreamSummary",
                "Authorization": AUTH,
                "X-Amz-Date": "20240101T000000Z",
            },
        )
    assert r.http_version == "HTTP/2"
    assert r.status_code == 200
    s = r.json()["StreamDescriptionSummary"]
    assert s["StreamName"] == stream
    assert isinstance(s["StreamCreationTimestamp"], (int, float))  # JSON: epoch seconds


# --------------------------------------------------------------------------- event stream


def _parse_headers(b: bytes) -> dict:
    out, i = {}, 0
    while i < len(b):
        n = b[i]
        name = b[i + 1 : i + 1 + n].decode()
        i += 1 + n
        t = b[i]
        i += 1
        if t in (0, 1):
            val = t == 0
        elif t == 2:
            val = struct.unpack(">b", b[i : i + 1])[0]
            i += 1
        elif t == 3:
            val = struct.unpack(">h", b[i : i + 2])[0]
            i += 2
        elif t == 4:
            val = struct.unpack(">i", b[i : i + 4])[0]
            i += 4
        elif t in (5, 8):
            val = struct.unpack(">q", b[i : i + 8])[0]
            i += 8
        elif t in (6, 7):
            ln = struct.unpack(">H", b[i : i + 2])[0]
            val = b[i + 2 : i + 2 + ln]
            val = val.decode() if t == 7 else val
            i += 2 + ln
        elif t == 9:
            val = b[i : i + 16]
            i += 16
        else:
            raise AssertionError(f"unknown event-stream header type {t}")
        out[name] = val
    return out


def parse_frames(buf: bytearray) -> list[tuple[dict, bytes]]:
    """Pop every complete frame from buf, verifying both CRCs."""
    msgs = []
    while len(buf) >= 12:
        total, hlen, pcrc = struct.unpack(">III", bytes(buf[:12]))
        assert zlib.crc32(bytes(buf[:8])) == pcrc, "prelude CRC mismatch"
        assert 16 <= total and hlen <= total - 16, (total, hlen)
        if len(buf) < total:
            break
        msg = bytes(buf[:total])
        del buf[:total]
        (mcrc,) = struct.unpack(">I", msg[-4:])
        assert zlib.crc32(msg[:-4]) == mcrc, "message CRC mismatch"
        msgs.append((_parse_headers(msg[12 : 12 + hlen]), msg[12 + hlen : -4]))
    return msgs


def test_frame_parser_self_check():
    def frame(headers: bytes, payload: bytes) -> bytes:
        total = 12 + len(headers) + len(payload) + 4
        prelude = struct.pack(">II", total, len(headers))
        prelude += struct.pack(">I", zlib.crc32(prelude))
        body = prelude + headers + payload
        return body + struct.pack(">I", zlib.crc32(body))

    h = b"\x0b:event-type" + b"\x07" + struct.pack(">H", 4) + b"Ping"
    buf = bytearray(frame(h, b"xyz") + frame(b"", b"")[:5])
    msgs = parse_frames(buf)
    assert msgs == [({":event-type": "Ping"}, b"xyz")]
    assert len(buf) == 5


def _register_consumer(cb: CborKinesis, stream: str) -> str:
    arn = cb.call("DescribeStreamSummary", {"StreamName": stream})["StreamDescriptionSummary"]["StreamARN"]
    c = cb.call("RegisterStreamConsumer", {"StreamARN": arn, "ConsumerName": "cbor-c"})["Consumer"]
    assert _is_epoch_millis(c["ConsumerCreationTimestamp"])
    deadline = time.monotonic() + 30
    while cb.call("DescribeStreamConsumer", {"ConsumerARN": c["ConsumerARN"]})["ConsumerDescription"]["ConsumerStatus"] != "ACTIVE":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    return c["ConsumerARN"]


def test_subscribe_to_shard_over_h2c(endpoint, kinesis, cbor_stream):
    cb = CborKinesis(endpoint, http2=True)
    try:
        consumer = _register_consumer(cb, cbor_stream)
        before = [b"before-1", b"before-2"]
        after = [b"after-1", b"after-2"]
        for d in before:
            cb.call("PutRecord", {"StreamName": cbor_stream, "Data": d, "PartitionKey": "k"})
        body = enc(IMap({"ConsumerARN": consumer, "ShardId": S0, "StartingPosition": IMap({"Type": "TRIM_HORIZON"})}))
        events: list[tuple[dict, bytes]] = []
        records: list[dict] = []
        writer = None
        with cb.client.stream("POST", cb.url, content=body, headers=cb.headers("SubscribeToShard")) as r:
            assert r.status_code == 200
            assert r.http_version == "HTTP/2"
            assert r.headers.get("content-type", "").startswith("application/vnd.amazon.eventstream"), r.headers
            buf = bytearray()
            deadline = time.monotonic() + 15
            for chunk in r.iter_raw():
                buf += chunk
                for headers, payload in parse_frames(buf):
                    events.append((headers, payload))
                    if headers.get(":event-type") == "SubscribeToShardEvent":
                        records += loads(payload)["Records"]
                    if writer is None and len(events) >= 1:
                        # write more records once the subscription is established
                        writer = threading.Thread(
                            target=lambda: [kinesis.put_record(StreamName=cbor_stream, Data=d, PartitionKey="k") for d in after]
                        )
                        writer.start()
                if len(records) >= 4 or time.monotonic() > deadline:
                    break
        if writer:
            writer.join()
    finally:
        cb.close()

    assert events, "no event-stream frames"
    first_headers, _ = events[0]
    assert first_headers.get(":message-type") == "event"
    assert first_headers.get(":event-type") == "initial-response"
    sub_events = [(h, p) for h, p in events if h.get(":event-type") == "SubscribeToShardEvent"]
    assert sub_events
    for h, p in sub_events:
        assert h.get(":message-type") == "event"
        assert h.get(":content-type", "").startswith(CBOR), h
        ev = loads(p)
        assert isinstance(ev["ContinuationSequenceNumber"], str) and ev["ContinuationSequenceNumber"].isdigit()
        assert isinstance(ev["MillisBehindLatest"], int)
    assert [r["Data"] for r in records] == before + after
    for r in records:
        assert isinstance(r["Data"], bytes)
        assert _is_epoch_millis(r["ApproximateArrivalTimestamp"])


def test_subscribe_to_shard_unknown_consumer_h2c(endpoint, cbor_stream):
    cb = CborKinesis(endpoint, http2=True)
    try:
        arn = cb.call("DescribeStreamSummary", {"StreamName": cbor_stream})["StreamDescriptionSummary"]["StreamARN"]
        err = cb.error(
            "SubscribeToShard",
            {"ConsumerARN": arn + "/consumer/nobody:1700000000", "ShardId": S0, "StartingPosition": {"Type": "LATEST"}},
        )
        assert _type(err) == "ResourceNotFoundException"
    finally:
        cb.close()


# --------------------------------------------------------------------------- awsJson1_1 on the wire


@pytest.mark.parametrize("http2", [False, True], ids=["http1", "h2c"])
def test_json_wire_format(endpoint, stream, http2):
    import base64
    import json

    def call(c, op, body):
        return c.post(
            endpoint + "/",
            content=json.dumps(body).encode(),
            headers={
                "Content-Type": "application/x-amz-json-1.1",
                "X-Amz-Target": f"Kinesis_20131202.{op}",
                "Authorization": AUTH,
                "X-Amz-Date": "20240101T000000Z",
            },
        )

    with httpx.Client(http1=not http2, http2=http2, timeout=15.0) as c:
        r = call(c, "PutRecord", {"StreamName": stream, "Data": base64.b64encode(b"\x00json\xff").decode(), "PartitionKey": "k"})
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("application/x-amz-json-1.1")
        seq = r.json()["SequenceNumber"]
        it = call(c, "GetShardIterator", {"StreamName": stream, "ShardId": S0, "ShardIteratorType": "TRIM_HORIZON"}).json()[
            "ShardIterator"
        ]
        recs = call(c, "GetRecords", {"ShardIterator": it}).json()["Records"]
        assert [r["SequenceNumber"] for r in recs] == [seq]
        assert base64.b64decode(recs[0]["Data"]) == b"\x00json\xff"
        ts = recs[0]["ApproximateArrivalTimestamp"]
        assert isinstance(ts, (int, float)) and abs(ts - time.time()) < 600  # epoch seconds
        err = call(c, "DescribeStreamSummary", {"StreamName": unique_name("missing")})
        assert err.status_code == 400
        assert err.headers["content-type"].startswith("application/x-amz-json-1.1")
        body = err.json()
        assert body["__type"].split("#")[-1] == "ResourceNotFoundException"
        assert body.get("message") or body.get("Message")
        unknown = call(c, "NoSuchOperation", {})
        assert 400 <= unknown.status_code < 500


def test_subscribe_to_closed_shard_over_h2c_child_shards(endpoint, kinesis, cbor_stream):
    cb = CborKinesis(endpoint, http2=True)
    try:
        consumer = _register_consumer(cb, cbor_stream)
        for d in (b"c1", b"c2"):
            cb.call("PutRecord", {"StreamName": cbor_stream, "Data": d, "PartitionKey": "k"})
        cb.call("SplitShard", {"StreamName": cbor_stream, "ShardToSplit": S0, "NewStartingHashKey": str(2**127)})
        deadline = time.monotonic() + 30
        while cb.call("DescribeStreamSummary", {"StreamName": cbor_stream})["StreamDescriptionSummary"]["StreamStatus"] != "ACTIVE":
            assert time.monotonic() < deadline
            time.sleep(0.2)
        body = enc({"ConsumerARN": consumer, "ShardId": S0, "StartingPosition": {"Type": "TRIM_HORIZON"}})
        records, child_shards = [], None
        with cb.client.stream("POST", cb.url, content=body, headers=cb.headers("SubscribeToShard")) as r:
            assert r.status_code == 200
            buf = bytearray()
            deadline = time.monotonic() + 15
            for chunk in r.iter_raw():
                buf += chunk
                for headers, payload in parse_frames(buf):
                    if headers.get(":event-type") == "SubscribeToShardEvent":
                        ev = loads(payload)
                        records += ev["Records"]
                        if ev.get("ChildShards"):
                            child_shards = ev["ChildShards"]
                if child_shards is not None or time.monotonic() > deadline:
                    break
    finally:
        cb.close()
    assert [r["Data"] for r in records] == [b"c1", b"c2"]
    assert child_shards, "no ChildShards at the end of the closed shard"
    assert sorted(
        (int(c["HashKeyRange"]["StartingHashKey"]), int(c["HashKeyRange"]["EndingHashKey"])) for c in child_shards
    ) == [(0, 2**127 - 1), (2**127, 2**128 - 1)]
    for c in child_shards:
        assert c["ParentShards"] == [S0]
        assert isinstance(c["HashKeyRange"]["StartingHashKey"], str)
