#!/usr/bin/env python3
"""Power-loss test: cut the power under SQS, SNS, Kinesis and EventBridge load and prove that everything eddy
acknowledged was on stable storage.

Run with the .venv-json interpreter (as root: it mounts a FUSE filesystem). Exit code 0 on success,
1 when a guarantee is broken, 2 when the test could not run.

Why: the crash tests in tests/crash/ kill -9 eddy, but the kernel's page cache survives a killed
process, so a write eddy acknowledged before it was fsynced survives there too. Here eddy's data
dir lives on volatile_fs.py, a FUSE passthrough that keeps everything written since the last
fsync in a volatile layer (its docstring has the exact model: file data and size are durable only
after fsync/fdatasync of the file). A power cut is: SIGKILL eddy, SIGKILL the filesystem process
and detach its mount (the volatile layer is gone), mount a fresh volatile_fs over what was
durable, start eddy on it. eddy creates the data dir itself on its first start.

Model of names (create, mkdir, rename, unlink): `strict` (POSIX) by default, a name is durable
only once its directory is fsynced. This is what first found two real gaps, both fixed in eddy:
fjall 2.11 creates a partition's folder data/partitions/<name>/ without fsyncing data/partitions/
(eddy-store now fsyncs it after creating a partition), and eddy created a missing data dir without
fsyncing its parent (it now does). Before those fixes a queue, its acknowledged messages, or a whole
stream vanished at the first cut. `--metadata ordered` (names committed by any later fsync, as ext4
data=ordered and XFS journal them) is kept for comparison.

Before the load, `volatile_fs.self_check` proves the filesystem really loses unsynced data and
names (and keeps synced ones), so this test can fail.

Load, on one eddy (reusing the crash tests' load generators and checks by import):
  * SQS: producers send unique bodies (single and batch) to a standard and a FIFO queue, consumers
    receive and delete (crash_test.producer/consumer);
  * SNS: publishers publish (single and batch) to a standard topic fanned out to two raw-delivery
    queues, and to a FIFO topic fanned out to a FIFO queue (sns_crash_test.publisher);
  * Kinesis: producers PutRecords batches into a 2-shard stream (kinesis_crash_test.producer);
  * EventBridge: producers PutEvents (1 to 10 entries) on the default and a custom bus, whose rules
    send them to two standard queues and a FIFO queue (events_crash_test.producer).
Per round (ROUNDS of them): load, power cut mid-load, restart while the load keeps trying, load a
little longer, stop; then check.

Guarantees checked after every cut:
  * SQS: every acknowledged send that was never deleted is drained exactly once with its MessageId;
    no acknowledged delete comes back (crash_test.drain/verify);
  * SNS: every acknowledged Publish reaches every subscribed queue: delivered before the cut, or
    still a pending job after it and delivered after the restart (sns_crash_test.drain/check);
  * Kinesis: every record acknowledged so far (all rounds) is stored exactly once, in the shard and
    under the sequence number its acknowledgement named; per shard, records acknowledged after a
    cut number above those acknowledged before it;
  * EventBridge: every event PutEvents accepted reaches every queue its rules target: delivered
    before the cut, or a pending job after it delivered after the restart (events_crash_test's check).
What eddy itself documents as not fsynced before the answer (a ReceiveMessage's receive count and
visibility) may be lost: the message is then simply received again, which the checks allow.

Options: --metadata strict|ordered (the filesystem model, default strict); --durability flush runs
eddy with `--durability flush` (no fsync), which must make this test fail: that is how the test was
shown to catch a missing fsync. EDDY_KEEP_DATA=1 keeps the state dir after a pass.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import functools
import json
import os
import shutil
import stat
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "crash"))

import crash_test as sqs_t  # noqa: E402
import events_crash_test as ev_t  # noqa: E402
import kinesis_crash_test as kin_t  # noqa: E402
import sns_crash_test as sns_t  # noqa: E402
from crash_test import Server, free_port, log, verdict  # noqa: E402
from volatile_fs import VolatileMount, self_check  # noqa: E402

ROUNDS = 2
LOAD_BEFORE_CUT = 4.0  # seconds of load before the power cut
LOAD_AFTER_CUT = 2.0  # seconds of load after the restart
SQS_PRODUCERS = 2  # per queue
SQS_CONSUMERS = 1  # per queue
SNS_PUBLISHERS = 2
KINESIS_PRODUCERS = 2
EVENTS_PRODUCERS = 2
SHARDS = 2
MIN_ACKED_BEFORE_CUT = {"sqs": 100, "sns": 30, "kinesis": 500, "events": 50}  # per round: less proves little


# --------------------------------------------------------------------------- setup


def setup(endpoint: str) -> dict:
    sqs, sns, kin = sns_t.client("sqs", endpoint), sns_t.client("sns", endpoint), kin_t.client(endpoint)
    r: dict = {}
    r["sqs"] = [
        ("standard", sqs.create_queue(QueueName="pl-std")["QueueUrl"], False, sqs_t.Ledger("standard")),
        ("fifo", sqs.create_queue(QueueName="pl-fifo.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"], True,
         sqs_t.Ledger("fifo")),
    ]
    topic = sns.create_topic(Name="pl-fanout")["TopicArn"]
    fifo_topic = sns.create_topic(
        Name="pl-fanout.fifo", Attributes={"FifoTopic": "true", "ContentBasedDeduplication": "true"}
    )["TopicArn"]
    fanout = []
    for i in range(2):
        url = sqs.create_queue(QueueName=f"pl-fanout-{i}")["QueueUrl"]
        arn = sns_t.allow_topic(sqs, url, topic)
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
        fanout.append(url)
    fifo_url = sqs.create_queue(QueueName="pl-fanout-q.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    arn = sns_t.allow_topic(sqs, fifo_url, fifo_topic)
    sns.subscribe(TopicArn=fifo_topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    r["sns"] = (topic, fifo_topic, fanout, fifo_url)
    stream = f"pl-{uuid.uuid4().hex[:8]}"
    kin.create_stream(StreamName=stream, ShardCount=SHARDS)
    deadline = time.monotonic() + 30
    while kin.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamStatus"] != "ACTIVE":
        if time.monotonic() > deadline:
            raise RuntimeError("stream never became ACTIVE")
        time.sleep(0.1)
    r["kinesis"] = stream
    r["events"] = ev_t.setup(endpoint)
    return r


# --------------------------------------------------------------------------- checks


def check_sqs(endpoint: str, server: Server, queue: tuple, round_no: int) -> tuple[str, list[str]]:
    """Every acknowledged send not deleted since is drained once, under its MessageId; no acknowledged
    delete comes back (violations go to the ledger)."""
    qname, url, _, ledger = queue
    s = sqs_t.verify(ledger, sqs_t.drain(endpoint, url, ledger, server), round_no)
    found = s["expected_in_drain"] - s["missing"]
    return (f"SQS {qname:8s}: acknowledged={s['acked_sends']} (never deleted: {s['expected_in_drain']}) "
            f"found={found} lost={s['missing']} resurrected={s['resurrected']} duplicates={s['duplicates']}"), []


def check_delivered(endpoint: str, label: str, url: str, expected: set[str], tag: str, round_no: int,
                    decode=lambda body: body) -> tuple[str, list[str]]:
    """Every acknowledged Publish (SNS) or accepted event (EventBridge) of this round reached the
    queue, its body decoded by `decode` (copies are allowed: delivery is at least once)."""
    problems = []
    try:
        got = [decode(b) for b in sns_t.drain(endpoint, url)]
    except Exception as e:  # noqa: BLE001 - e.g. the queue itself was lost
        problems.append(f"round {round_no}: {label}: drain failed: {e!r}")
        got = []
    found = len(expected & set(got))
    more, copies = sns_t.check(label, expected, got, tag)
    problems += [f"round {round_no}: {p}" for p in more]
    return f"{label}: acknowledged={len(expected)} found={found} lost={len(expected) - found} copies={copies}", problems


def check_kinesis(endpoint: str, stream: str, ledger: kin_t.Ledger, round_no: int) -> tuple[str, list[str]]:
    """Every record acknowledged so far (all rounds) is stored once, where its acknowledgement said."""
    try:
        stored = kin_t.read_all(endpoint, stream)
    except Exception as e:  # noqa: BLE001 - e.g. the stream itself was lost
        stored = {}
        ledger.violations.append(f"round {round_no}: reading the stream failed: {e!r}")
    seen: dict[bytes, list[tuple[str, int]]] = defaultdict(list)
    for sid, recs in stored.items():
        seqs = [q for q, _ in recs]
        for a, b in zip(seqs, seqs[1:]):
            if b <= a:
                ledger.violations.append(f"round {round_no}: {sid}: sequence numbers not increasing: {a} then {b}")
        for q, p in recs:
            seen[p].append((sid, q))
    # Per shard, a record acknowledged after cut k (epoch >= k) numbers above every record acknowledged
    # before it (epoch < k; -1: the request straddled a cut, either side).
    for k in range(1, ledger.epoch + 1):
        pre: dict[str, int] = {}
        post: dict[str, int] = {}
        for sid, seq, epoch in ledger.acked.values():
            if 0 <= epoch < k:
                pre[sid] = max(pre.get(sid, seq), seq)
            elif epoch >= k:
                post[sid] = min(post.get(sid, seq), seq)
        for sid in sorted(set(pre) & set(post)):
            if post[sid] <= pre[sid]:
                ledger.violations.append(f"round {round_no}: SEQUENCE WENT BACK after cut {k} in {sid}: "
                                         f"{post[sid]} acknowledged after it, {pre[sid]} before")
    dups = [p for p, where in seen.items() if len(where) > 1]
    unknown = [p for p in seen if p not in ledger.attempted]
    lost = [p for p in ledger.acked if p not in seen]
    moved = [p for p, (sid, seq, _) in ledger.acked.items() if p in seen and seen[p][0] != (sid, seq)]
    for label, items in (
        ("LOST (acknowledged record not stored)", lost),
        ("MOVED (stored elsewhere than acknowledged)", moved),
        ("DUPLICATED", dups),
        ("UNKNOWN (never sent)", unknown),
    ):
        if items:
            ledger.violations.append(f"round {round_no}: {label}: {len(items)} e.g. {items[:3]}")
    n = len(ledger.acked)
    return (f"Kinesis (all cuts so far): acknowledged={n} found={n - len(lost)} lost={len(lost)} "
            f"moved={len(moved)} duplicates={len(dups)}"), []


# --------------------------------------------------------------------------- main


def eddy_wrapper(tmp: Path, durability: str) -> str:
    """crash_test.Server runs crash_test.EDDY_BIN with fixed flags: a wrapper adds --durability."""
    w = tmp / "eddy-wrapper.sh"
    w.write_text(f'#!/bin/sh\nexec "{sqs_t.EDDY_BIN}" "$@" --durability {durability}\n')
    w.chmod(w.stat().st_mode | stat.S_IXUSR)
    return str(w)


def run(metadata: str, durability: str) -> int:
    if not (os.path.isfile(sqs_t.EDDY_BIN) and os.access(sqs_t.EDDY_BIN, os.X_OK)):
        log(f"eddy binary not found at {sqs_t.EDDY_BIN}")
        return 2
    if os.geteuid() != 0 or not os.path.exists("/dev/fuse"):
        log("the power-loss test mounts a FUSE filesystem: it needs root and /dev/fuse")
        return 2
    t0 = time.monotonic()
    for model in ("strict", "ordered"):
        problems = self_check(model)
        if problems:
            for p in problems:
                log(f"volatile_fs self-check ({model} model): {p}")
            return 1 if not any("could not run" in p for p in problems) else 2
    log(f"volatile_fs self-check passed (both models): unsynced data and names are lost at a cut, synced ones "
        f"kept ({time.monotonic() - t0:.1f}s)")

    tmp = Path(tempfile.mkdtemp(prefix="eddy-powerloss-"))
    if durability != "fsync":
        sqs_t.EDDY_BIN = eddy_wrapper(tmp, durability)
    fs = VolatileMount(tmp / "state", tmp / "mnt", metadata, tmp / "volatile_fs.log")
    server = Server(tmp / "mnt" / "data", tmp / "eddy.log", free_port())
    ok = False
    try:
        fs.start()
        server.start()  # eddy creates the data dir (and fsyncs its parent)
        res = setup(server.endpoint)
    except Exception as e:  # noqa: BLE001
        traceback.print_exc()
        log(f"could not start: {e}\n{server.tail()}\n{fs.tail()}")
        server.kill9()
        fs.stop()
        return 2
    ep = server.endpoint
    kin_ledger = kin_t.Ledger()
    violations: list[str] = []
    rows: list[str] = []
    try:
        for round_no in range(1, ROUNDS + 1):
            tag = f"r{round_no}-{uuid.uuid4().hex[:6]}"
            for _, _, _, ledger in res["sqs"]:
                ledger.new_round()
            topic, fifo_topic, fanout, fifo_url = res["sns"]
            acked_sns = sns_t.Acked()
            accepted_events = ev_t.Accepted()
            kin_before = len(kin_ledger.acked)
            stop = threading.Event()
            threads = []
            for qname, url, fifo, ledger in res["sqs"]:
                for i in range(SQS_PRODUCERS):
                    threads.append(threading.Thread(target=sqs_t.producer,
                                                    args=(ep, url, ledger, fifo, f"{tag}-{qname}-p{i}", stop)))
                for _ in range(SQS_CONSUMERS):
                    threads.append(threading.Thread(target=sqs_t.consumer, args=(ep, url, ledger, stop)))
            for i in range(SNS_PUBLISHERS):
                threads.append(threading.Thread(target=sns_t.publisher,
                                                args=(ep, topic, fifo_topic, acked_sns, f"{tag}-p{i}", stop)))
            for i in range(KINESIS_PRODUCERS):
                threads.append(threading.Thread(target=kin_t.producer,
                                                args=(ep, res["kinesis"], kin_ledger, f"{tag}-k{i}", stop)))
            for i in range(EVENTS_PRODUCERS):
                threads.append(threading.Thread(target=ev_t.producer, args=(ep, accepted_events, f"{tag}-e{i}", stop)))
            for t in threads:
                t.daemon = True
                t.start()
            log(f"round {round_no}: load running")
            time.sleep(LOAD_BEFORE_CUT)

            # ---- the power cut
            before = {
                "sqs": sum(len(lg.sent_acked) for _, _, _, lg in res["sqs"]),
                "sns": len(acked_sns.standard) + len(acked_sns.fifo),
                "kinesis": len(kin_ledger.acked) - kin_before,
                "events": len(accepted_events.default) + len(accepted_events.custom),
            }
            server.kill9()
            with kin_ledger.lock:
                kin_ledger.epoch += 1
            thrown = fs.cut()
            log(f"round {round_no}: POWER CUT after {before} acknowledged; the cut threw away "
                f"{thrown['bytes']} unsynced bytes in {thrown['files']} files, {thrown['names_lost']} unsynced "
                f"names, brought back {thrown['names_back']} unsynced removals"
                + (f"; names lost: {thrown['lost'][:8]}" if thrown["lost"] else ""))
            rows.append(f"cut {round_no}: acknowledged before it: SQS sends {before['sqs']}, SNS publishes "
                        f"{before['sns']}, Kinesis records {before['kinesis']}, EventBridge events {before['events']}; "
                        f"it threw away {thrown['bytes']} "
                        f"unsynced bytes in {thrown['files']} files and {thrown['names_lost']} unsynced names")
            fs.start()
            server.start()
            log(f"round {round_no}: remounted what was durable, eddy restarted, load continues")
            time.sleep(LOAD_AFTER_CUT)
            stop.set()
            for t in threads:
                t.join(30)
            if any(t.is_alive() for t in threads):
                violations.append("load threads did not stop")
                break
            for kind, n in before.items():
                if n < MIN_ACKED_BEFORE_CUT[kind]:
                    violations.append(f"round {round_no}: too little {kind} load to prove anything: "
                                      f"{n} acknowledged before the cut (want {MIN_ACKED_BEFORE_CUT[kind]})")

            # ---- checks, all queues and the stream at once (each drain mostly waits)
            checks = [functools.partial(check_sqs, ep, server, q, round_no) for q in res["sqs"]]
            for name, urls, expected in (("standard", fanout, acked_sns.standard), ("fifo", [fifo_url], acked_sns.fifo)):
                checks += [functools.partial(check_delivered, ep, f"SNS {name} queue {i}", url, expected, tag, round_no)
                           for i, url in enumerate(urls)]
            checks.append(functools.partial(check_kinesis, ep, res["kinesis"], kin_ledger, round_no))
            default_url, bus_url, fifo_url = res["events"]
            for name, url, expected in (("default-bus queue", default_url, accepted_events.default),
                                        ("custom-bus queue", bus_url, accepted_events.custom),
                                        ("FIFO queue", fifo_url, accepted_events.default)):
                checks.append(functools.partial(check_delivered, ep, f"EventBridge {name}", url, expected, tag,
                                                round_no, json.loads))
            with concurrent.futures.ThreadPoolExecutor(len(checks)) as pool:
                for row, problems in pool.map(lambda f: f(), checks):
                    rows.append(f"cut {round_no} {row}")
                    violations += problems
                    log(rows[-1])
        for _, _, _, ledger in res["sqs"]:
            violations += [f"[SQS {ledger.name}] {v}" for v in ledger.violations[:10]]
        violations += [f"[Kinesis] {v}" for v in kin_ledger.violations[:10]]
        print(f"\n===== power-loss test summary ({metadata} metadata model, eddy --durability {durability}, "
              f"{time.monotonic() - t0:.0f}s) =====")
        for r in rows:
            print(r)
        code = verdict(violations, server, "power-loss test")
        ok = code == 0
        return code
    except Exception:  # noqa: BLE001
        traceback.print_exc()
        print(f"\nserver log tail:\n{server.tail()}\nvolatile_fs log tail:\n{fs.tail()}")
        return 2
    finally:
        server.stop()
        fs.stop()
        if ok and not os.environ.get("EDDY_KEEP_DATA"):
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"state dir and logs kept in {tmp}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--metadata", choices=["strict", "ordered"], default="strict")
    ap.add_argument("--durability", choices=["fsync", "flush"], default="fsync")
    args = ap.parse_args()
    return run(args.metadata, args.durability)


if __name__ == "__main__":
    sys.exit(main())
