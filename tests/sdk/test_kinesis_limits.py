"""Kinesis throughput limits of provisioned shards, against a second eddy started with
`--kinesis-enforce-limits` (the default server does not throttle).

Expectations: Kinesis API reference and developer guide quotas: "Each shard can support writes up to
1,000 records per second, up to a maximum data write total of 1 MiB per second"; PutRecord "throws
ProvisionedThroughputExceededException"; PutRecords keeps going after a failed entry ("A single record
failure does not stop the processing of subsequent records"), reports it in the entry's ErrorCode /
ErrorMessage and counts it in FailedRecordCount; GetRecords is limited to 5 transactions per second
per shard."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import requests
from botocore.exceptions import ClientError

from conftest import REPO, _free_port, make_client, unique_name
from kinesis_helpers import read_shard

THROTTLED = "ProvisionedThroughputExceededException"


@pytest.fixture(scope="module")
def limited(eddy):
    """A Kinesis client for a separate eddy that enforces the per-shard limits."""
    if not getattr(eddy, "can_restart", False):
        pytest.skip("EDDY_ENDPOINT is set: cannot start a second server")
    binary = os.environ.get("EDDY_BIN", str(REPO / "target" / "release" / "eddy"))
    tmp = Path(tempfile.mkdtemp(prefix="eddy-kin-limits-"))
    port = _free_port()
    log = open(tmp / "eddy.log", "wb")
    proc = subprocess.Popen(
        [binary, "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", str(tmp / "data"), "--kinesis-enforce-limits"],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 10
        while True:
            if proc.poll() is not None:
                pytest.fail(f"eddy --kinesis-enforce-limits exited with {proc.returncode}: {(tmp / 'eddy.log').read_text()[-2000:]}")
            try:
                if requests.get(endpoint + "/_eddy/health", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, "eddy --kinesis-enforce-limits did not become healthy"
            time.sleep(0.05)
        yield make_client(endpoint, service="kinesis")
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


def _stream(client, shards=1):
    name = unique_name("ks-lim")
    client.create_stream(StreamName=name, ShardCount=shards)
    while client.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamStatus"] != "ACTIVE":
        time.sleep(0.1)
    return name


def _start_of_a_second():
    """Waits until the wall clock (eddy's too: same machine) has just begun a second."""
    while time.time() % 1 > 0.05:
        time.sleep(0.005)


def test_put_records_over_1000_per_second_partially_fails(limited):
    # eddy counts each shard's records over the current wall-clock second: send all 1,500
    # within one such second (start just after a second begins; retry if the calls straddle one).
    for attempt in range(5):
        name = _stream(limited)  # a fresh stream per attempt: it holds exactly this attempt's records
        _start_of_a_second()
        started = time.time()
        results = []
        for batch in range(3):
            entries = [{"Data": b"x", "PartitionKey": f"{attempt}-{batch}-{i}"} for i in range(500)]
            results.append((entries, limited.put_records(StreamName=name, Records=entries)))
        if int(time.time()) == int(started):
            break
        time.sleep(1.1)  # a fresh second for the next attempt
    else:
        pytest.skip("machine too slow to send 1,500 records within one second")
    failed = ok = 0
    acked = []
    for entries, resp in results:
        assert len(resp["Records"]) == len(entries)
        n_failed = 0
        for e, r in zip(entries, resp["Records"]):
            if "ErrorCode" in r:
                n_failed += 1
                assert r["ErrorCode"] == THROTTLED, r
                assert r.get("ErrorMessage")
                assert "SequenceNumber" not in r and "ShardId" not in r
            else:
                acked.append((r["SequenceNumber"], e["PartitionKey"]))
        assert resp.get("FailedRecordCount", 0) == n_failed
        failed += n_failed
        ok += len(entries) - n_failed
    assert failed > 0, "1,500 records in under a second on one shard were all accepted"
    assert ok >= 1000 - 1  # the first second's budget was usable
    # exactly the acknowledged entries are stored
    time.sleep(1.1)
    got = [(r["SequenceNumber"], r["PartitionKey"]) for r in read_shard(limited, name, "shardId-000000000000")]
    assert got == acked


def test_put_record_over_1mib_per_second_throttled(limited):
    name = _stream(limited)
    payload = b"m" * (256 * 1024)
    codes = []
    _start_of_a_second()  # eddy counts over the current wall-clock second
    t0 = time.monotonic()
    for _ in range(8):  # 2 MiB within a second
        try:
            limited.put_record(StreamName=name, Data=payload, PartitionKey="k")
            codes.append("ok")
        except ClientError as e:
            codes.append(e.response["Error"]["Code"])
            assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    if time.monotonic() - t0 >= 1.0:
        pytest.skip("machine too slow to exceed 1 MiB/s")
    assert THROTTLED in codes, codes
    assert set(codes) <= {"ok", THROTTLED}
    assert codes.count("ok") >= 3  # about 1 MiB went through


def test_more_shards_more_throughput(limited):
    # the limit is per shard: 1,500 records spread over 2 shards fit in one second
    name = _stream(limited, shards=2)
    entries = [{"Data": b"y", "PartitionKey": f"k{i}", "ExplicitHashKey": str(0 if i % 2 else 2**128 - 1)} for i in range(500)]
    failed = 0
    t0 = time.monotonic()
    for _ in range(3):
        failed += limited.put_records(StreamName=name, Records=entries).get("FailedRecordCount", 0)
    if time.monotonic() - t0 >= 1.0:
        pytest.skip("machine too slow for this check")
    assert failed == 0
