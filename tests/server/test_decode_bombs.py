"""Decode bombs (issue 9): a 16 MiB body must not expand to hundreds of MiB
or seconds of CPU. Each bomb goes to a fresh eddy, whose peak RSS (VmHWM)
and CPU time are read from /proc. Before the bounded decoders: 622 MiB
(awsQuery `a=&`), 801 MiB (JSON array), 1,568 MiB and 4 s (CBOR array),
2,460 MiB for two CBOR bombs at once.
"""

from __future__ import annotations

import http.client
import os
import threading

import pytest

from conftest import peak_rss_mib

MAX = 16 * 1024 * 1024 - 64
SQS = {"X-Amz-Target": "AmazonSQS.SendMessage", "Content-Type": "application/x-amz-json-1.0"}
KJ = {"X-Amz-Target": "Kinesis_20131202.PutRecords", "Content-Type": "application/x-amz-json-1.1"}
KC = {"X-Amz-Target": "Kinesis_20131202.PutRecords", "Content-Type": "application/x-amz-cbor-1.1"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def fill(prefix: bytes, unit: bytes, suffix: bytes) -> bytes:
    return prefix + unit * ((MAX - len(prefix) - len(suffix)) // len(unit)) + suffix


BOMBS = {
    "awsQuery a=& (SQS)": ([fill(b"Action=SendMessage&", b"a=&", b"QueueUrl=x")], FORM),
    "SQS JSON [0,0,...]": ([fill(b'{"a":[', b"0,", b"0]}")], SQS),
    "SQS JSON [[],[],...]": ([fill(b'{"a":[', b"[],", b"[]]}")], SQS),
    "Kinesis JSON [0,0,...]": ([fill(b'{"a":[', b"0,", b"0]}")], KJ),
    "Kinesis CBOR [0,0,...]": ([fill(b"\xa1\x61a\x9f", b"\x00", b"\xff")], KC),
    "two Kinesis CBOR bombs at once": ([fill(b"\xa1\x61a\x9f", b"\x00", b"\xff")] * 2, KC),
}


def post(port: int, body: bytes, headers: dict) -> int:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    c.request("POST", "/", body=body, headers=headers)
    r = c.getresponse()
    r.read()
    c.close()
    return r.status


def cpu_seconds(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.parametrize("name", list(BOMBS))
def test_a_decode_bomb_costs_little_memory_and_cpu(spawn, figure, name):
    bodies, headers = BOMBS[name]
    server = spawn()
    cpu_before = cpu_seconds(server.proc.pid)
    statuses = []
    threads = [threading.Thread(target=lambda b=b: statuses.append(post(server.port, b, headers))) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    peak = peak_rss_mib(server.proc.pid)
    cpu = cpu_seconds(server.proc.pid) - cpu_before
    figure(f"decode bomb, {name}: peak RSS, CPU", f"{peak:.0f} MiB, {cpu:.2f} s (statuses {sorted(statuses)})")
    assert all(s == 400 for s in statuses), statuses
    assert peak < 96, f"peak RSS {peak:.0f} MiB"
    assert cpu < 1.5, f"{cpu:.2f} s of CPU"
    assert post(server.port, b"{}", {**SQS, "X-Amz-Target": "AmazonSQS.ListQueues"}) == 200
