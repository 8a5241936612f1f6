#!/usr/bin/env python3
"""Kinesis crash test: kill -9 eddy while producers write, and prove that acknowledged records survive.

Run with the .venv-json interpreter (current boto3). Exit code 0 on success, 1 when a guarantee is
broken, 2 when the test could not run.

Setup: one 4-shard provisioned stream. Per round (two rounds, same data dir, same stream):
  * producer threads call PutRecords with batches of unique payloads (partition keys spread over
    the key space) and record every acknowledged entry (ShardId, SequenceNumber, payload); entries
    of a request that failed (connection refused/reset, 5xx) or that came back with an ErrorCode
    are "unacknowledged" and may or may not be stored;
  * mid-load the server is killed with SIGKILL, stays down briefly while producers keep retrying,
    is restarted on the same data dir, and the load runs on.
Afterwards every shard (open or closed) is read from TRIM_HORIZON.

Guarantees checked (Kinesis API reference: PutRecord / PutRecords acknowledge with a sequence number;
"Sequence numbers increase over time and are specific to a shard"):
  * every acknowledged record is present exactly once, in the shard and with the sequence number
    the acknowledgement named;
  * within a shard, sequence numbers are strictly increasing and no sequence number or payload is
    returned twice;
  * sequence numbers acknowledged after a restart are greater than every sequence number stored in
    that shard before the kill;
  * no payload that was never sent shows up.
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections import defaultdict
from pathlib import Path

import boto3
from botocore.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parent))
from crash_test import Cluster, clean_up, log, verdict  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
EDDY_BIN = os.environ.get("EDDY_BIN", str(REPO / "target" / "release" / "eddy"))

ROUNDS = 2
SHARDS = 4
PRODUCERS = 4
LOAD_BEFORE_KILL = 3.0
DOWN_TIME = 0.7
LOAD_AFTER_RESTART = 2.0


def client(endpoint: str):
    return boto3.session.Session().client(
        "kinesis",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 0}, connect_timeout=2, read_timeout=15, max_pool_connections=4),
    )


class Ledger:
    def __init__(self):
        self.lock = threading.Lock()
        self.attempted: set[bytes] = set()
        self.acked: dict[bytes, tuple[str, int, int]] = {}  # payload -> (shard, seq, epoch)
        self.epoch = 0  # incremented at every kill
        self.errors: dict[str, int] = defaultdict(int)
        self.violations: list[str] = []


def producer(endpoint: str, stream: str, ledger: Ledger, tag: str, stop: threading.Event) -> None:
    c = client(endpoint)
    rnd = random.Random(tag)
    n = 0
    while not stop.is_set():
        size = rnd.randint(100, 500)
        payloads = [f"{tag}-{n + i}-{uuid.uuid4().hex[:8]}".encode() for i in range(size)]
        n += size
        with ledger.lock:
            ledger.attempted.update(payloads)
            epoch = ledger.epoch
        try:
            resp = c.put_records(
                StreamName=stream, Records=[{"Data": p, "PartitionKey": uuid.uuid4().hex} for p in payloads]
            )
        except Exception as e:  # server down, reset, 5xx: nothing acknowledged
            with ledger.lock:
                ledger.errors[f"put_records:{type(e).__name__}"] += 1
            time.sleep(0.02)
            continue
        with ledger.lock:
            if len(resp["Records"]) != len(payloads):
                ledger.violations.append(f"PutRecords returned {len(resp['Records'])} results for {len(payloads)} entries")
                continue
            if ledger.epoch != epoch:
                # the server was killed while this request was in flight: an answer is still an
                # acknowledgement, but it may come from either side of the kill
                epoch = -1
            for p, r in zip(payloads, resp["Records"]):
                if "ErrorCode" in r:
                    ledger.errors[f"entry:{r['ErrorCode']}"] += 1
                    continue
                ledger.acked[p] = (r["ShardId"], int(r["SequenceNumber"]), epoch)


def read_all(endpoint: str, stream: str) -> dict[str, list[tuple[int, bytes]]]:
    c = client(endpoint)
    shards = []
    resp = c.list_shards(StreamName=stream)
    shards += resp["Shards"]
    while resp.get("NextToken"):
        resp = c.list_shards(NextToken=resp["NextToken"])
        shards += resp["Shards"]
    out: dict[str, list[tuple[int, bytes]]] = {}
    for s in shards:
        it = c.get_shard_iterator(StreamName=stream, ShardId=s["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        recs: list[tuple[int, bytes]] = []
        for _ in range(100000):
            r = c.get_records(ShardIterator=it, Limit=10000)
            recs += [(int(x["SequenceNumber"]), x["Data"]) for x in r["Records"]]
            it = r.get("NextShardIterator")
            if it is None or (not r["Records"] and r.get("MillisBehindLatest", 0) == 0):
                break
        out[s["ShardId"]] = recs
    return out


def run() -> int:
    if not (os.path.isfile(EDDY_BIN) and os.access(EDDY_BIN, os.X_OK)):
        log(f"eddy binary not found at {EDDY_BIN}")
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="eddy-kinesis-crash-"))
    server = Cluster(tmp)
    try:
        server.start()
    except RuntimeError as e:
        log(str(e))
        return 2
    ok = False
    try:
        admin = client(server.endpoint)
        stream = f"crash-{uuid.uuid4().hex[:8]}"
        admin.create_stream(StreamName=stream, ShardCount=SHARDS)
        deadline = time.monotonic() + 30
        while admin.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamStatus"] != "ACTIVE":
            if time.monotonic() > deadline:
                log("stream never became ACTIVE")
                return 2
            time.sleep(0.1)
        ledger = Ledger()
        for round_no in range(1, ROUNDS + 1):
            stop = threading.Event()
            threads = [
                threading.Thread(target=producer, args=(server.endpoint_for(i), stream, ledger, f"r{round_no}p{i}", stop), daemon=True)
                for i in range(PRODUCERS)
            ]
            for t in threads:
                t.start()
            log(f"round {round_no}: load running")
            time.sleep(LOAD_BEFORE_KILL)
            victim = server.leader()
            log(f"round {round_no}: kill -9 (pid {victim.proc.pid}, {victim.endpoint})")
            victim.kill9()
            with ledger.lock:
                ledger.epoch += 1
            time.sleep(DOWN_TIME)
            victim.start()
            log(f"round {round_no}: restarted, load continues")
            time.sleep(LOAD_AFTER_RESTART)
            stop.set()
            for t in threads:
                t.join(30)
            if any(t.is_alive() for t in threads):
                log("producer threads did not stop")
                return 1

        log("reading every shard from TRIM_HORIZON")
        stored = read_all(server.endpoint, stream)
        seen: dict[bytes, list[tuple[str, int]]] = defaultdict(list)
        for sid, recs in stored.items():
            seq_list = [q for q, _ in recs]
            for a, b in zip(seq_list, seq_list[1:]):
                if b <= a:
                    ledger.violations.append(f"{sid}: sequence numbers not strictly increasing: {a} then {b}")
            for q, p in recs:
                seen[p].append((sid, q))
        for p, where in seen.items():
            if len(where) > 1:
                ledger.violations.append(f"DUPLICATE: {p!r} stored {len(where)} times: {where[:3]}")
            if p not in ledger.attempted:
                ledger.violations.append(f"UNKNOWN: {p!r} was never sent")
        # Acknowledgements are tagged with the epoch (number of kills so far) in which their request
        # was sent and answered: epoch e < k was answered by a server that died at kill k, epoch >= k
        # by a server started after it. Per shard, everything acknowledged after kill k must have a
        # larger sequence number than everything acknowledged before it.
        for k in range(1, ledger.epoch + 1):
            pre: dict[str, tuple[int, bytes]] = {}
            post: dict[str, tuple[int, bytes]] = {}
            for p, (sid, seq, epoch) in ledger.acked.items():
                if 0 <= epoch < k and seq > pre.get(sid, (-1, b""))[0]:
                    pre[sid] = (seq, p)
                elif epoch >= k and (sid not in post or seq < post[sid][0]):
                    post[sid] = (seq, p)
            for sid in sorted(set(pre) & set(post)):
                if post[sid][0] <= pre[sid][0]:
                    ledger.violations.append(
                        f"SEQUENCE WENT BACK after kill {k} in {sid}: {post[sid][1]!r} got {post[sid][0]} after the "
                        f"restart, but {pre[sid][1]!r} had {pre[sid][0]} before the kill"
                    )
        missing = wrong = 0
        for p, (sid, seq, _) in ledger.acked.items():
            where = seen.get(p)
            if not where:
                missing += 1
                if missing <= 5:
                    ledger.violations.append(f"LOST: acknowledged {p!r} ({sid} {seq}) not stored")
            elif where[0] != (sid, seq):
                wrong += 1
                if wrong <= 5:
                    ledger.violations.append(f"MOVED: {p!r} acknowledged as {sid} {seq}, stored as {where[0]}")
        total_stored = sum(len(v) for v in stored.values())
        unacked_present = sum(1 for p in seen if p not in ledger.acked)
        print("\n===== kinesis crash test summary =====")
        print(
            f"acknowledged={len(ledger.acked)} attempted={len(ledger.attempted)} stored={total_stored} "
            f"(of which unacknowledged: {unacked_present}) lost={missing} moved={wrong} shards={len(stored)}"
        )
        print(f"errors during load: {dict(ledger.errors)}")
        if len(ledger.acked) < 500:
            ledger.violations.append(f"too little load to prove anything: only {len(ledger.acked)} acknowledged records")
        code = verdict(ledger.violations, server, "kinesis crash test")
        ok = code == 0
        return code
    except Exception:
        traceback.print_exc()
        print(f"\nserver log tail:\n{server.tail()}")
        return 2
    finally:
        clean_up(server, tmp, ok)


if __name__ == "__main__":
    sys.exit(run())
