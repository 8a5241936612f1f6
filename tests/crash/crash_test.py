#!/usr/bin/env python3
"""Crash test: kill -9 eddy under load and prove that acknowledged work survives.

Run with the .venv-json interpreter (current boto3). Exit code 0 on success, 1 when a guarantee is
broken, 2 when the test could not run.

Per round (two rounds, same data dir, same queues):
  * producers send unique bodies (SendMessage and SendMessageBatch) to a standard and a FIFO queue
    and record every body whose send was acknowledged (a response with a MessageId);
  * consumers receive (short visibility timeout), delete, and record every acknowledged delete;
  * in the middle of the load the server is killed with SIGKILL, restarted on the same data dir
    while the load keeps going, and the load runs on for a while;
  * then the queues are drained (receive + delete until empty, waiting for in-flight messages to
    become visible again).

Guarantees checked:
  * every acknowledged-sent body whose deletion was never attempted is drained exactly once, with
    the MessageId the send returned (no loss, no copies under other MessageIds);
  * no body is ever drained under two MessageIds, and no body we never sent shows up;
  * no acknowledged-deleted body comes back (neither during the load nor in the drain), and no
    message deleted during a drain comes back in a later drain.
Bodies whose send or delete was not acknowledged may or may not be present.

With EDDY_CRASH_NODES=2 (and EDDY_STORE=postgres://…) two eddy nodes share the store: producers and consumers
are spread over both, and each round kills the node that leads with kill -9; the other takes over while the
load goes on, and the killed one comes back as a standby.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections import defaultdict
from pathlib import Path

import boto3
import requests
from botocore.config import Config

REPO = Path(__file__).resolve().parents[2]
EDDY_BIN = os.environ.get("EDDY_BIN", str(REPO / "target" / "release" / "eddy"))

ROUNDS = 2
LOAD_BEFORE_KILL = 3.0  # seconds of load before kill -9
DOWN_TIME = 0.7  # seconds the server stays dead while the load keeps trying
LOAD_AFTER_RESTART = 2.0
CONSUMER_VISIBILITY = 5  # seconds; a delete acknowledged later than this after the receive may be stale
PRODUCERS_PER_QUEUE = 3
CONSUMERS_PER_QUEUE = 3
FIFO_GROUPS = 8
DRAIN_TIMEOUT = 60.0
NODES = int(os.environ.get("EDDY_CRASH_NODES", "1"))


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# --------------------------------------------------------------------------- server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, data_dir: Path, log_path: Path, port: int):
        self.data_dir, self.log_path, self.port = data_dir, log_path, port
        self.endpoint = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen | None = None
        self.started_at = 0.0

    def start(self) -> None:
        with open(self.log_path, "ab") as f:
            f.write(b"\n===== start =====\n")
            f.flush()
            self.proc = subprocess.Popen(
                [EDDY_BIN, "serve", "--listen", f"127.0.0.1:{self.port}", "--data-dir", str(self.data_dir)],
                stdout=f,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"eddy exited with {self.proc.returncode} at start-up\n{self.tail()}")
            try:
                if requests.get(self.endpoint + "/_eddy/health", timeout=1).status_code == 200:
                    self.started_at = time.monotonic()
                    return
            except requests.RequestException:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"eddy not healthy within 10 s\n{self.tail()}")

    def kill9(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


def client(endpoint: str):
    return boto3.session.Session().client(
        "sqs",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 0}, connect_timeout=2, read_timeout=15, max_pool_connections=4),
    )


class Cluster:
    """The nodes of one run (one unless EDDY_CRASH_NODES is set), seen as one server by the checks."""

    def __init__(self, tmp: Path):
        one = NODES == 1
        self.nodes = [
            Server(tmp / ("data" if one else f"data{i}"), tmp / ("eddy.log" if one else f"eddy{i}.log"), free_port())
            for i in range(NODES)
        ]
        self.endpoint = self.nodes[0].endpoint
        self.log_path = self.nodes[0].log_path

    @property
    def started_at(self) -> float:
        """When the last node (re)started: a takeover happens at the kill, before the restart."""
        return max(n.started_at for n in self.nodes)

    def start(self) -> None:
        for node in self.nodes:
            node.start()

    def endpoint_for(self, i: int) -> str:
        return self.nodes[i % len(self.nodes)].endpoint

    def leader(self) -> Server:
        """The node that serves: the only one, or the one whose health says it leads."""
        if len(self.nodes) == 1:
            return self.nodes[0]
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            for node in self.nodes:
                try:
                    if requests.get(node.endpoint + "/_eddy/health", timeout=1).json()["cluster"]["role"] == "leader":
                        return node
                except (requests.RequestException, KeyError, ValueError):
                    pass
            time.sleep(0.05)
        raise RuntimeError("no node leads within 10 s")

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

    def tail(self, n: int = 40) -> str:
        return "\n".join(f"--- {node.log_path.name}\n{node.tail(n)}" for node in self.nodes)


# --------------------------------------------------------------------------- bookkeeping


class Ledger:
    """Everything the clients were told, per queue."""

    def __init__(self, name: str):
        self.name = name
        self.lock = threading.Lock()
        self.sent_acked: dict[str, str] = {}  # body -> MessageId
        self.sent_attempted: set[str] = set()
        self.delete_attempted: set[str] = set()
        self.deleted_acked: dict[str, float] = {}  # body -> monotonic time of the ack
        self.possibly_stale_deletes: set[str] = set()
        self.drain_deleted: set[str] = set()  # bodies deleted (acked) by earlier drains
        self.violations: list[str] = []
        self.errors = defaultdict(int)
        self.receives = 0

    def new_round(self):
        self.sent_acked.clear()
        self.sent_attempted.clear()
        self.delete_attempted.clear()
        self.deleted_acked.clear()
        self.possibly_stale_deletes.clear()
        self.errors.clear()
        self.receives = 0


def producer(endpoint, url, ledger: Ledger, fifo: bool, tag: str, stop: threading.Event):
    c = client(endpoint)
    rnd = random.Random(tag)
    n = 0
    while not stop.is_set():
        batch = rnd.random() < 0.5
        count = 10 if batch else 1
        bodies = [f"{tag}-{n + i}-{uuid.uuid4().hex[:8]}" for i in range(count)]
        n += count
        with ledger.lock:
            ledger.sent_attempted.update(bodies)
        extra = lambda b: {"MessageGroupId": f"g{hash(b) % FIFO_GROUPS}", "MessageDeduplicationId": b} if fifo else {}  # noqa: E731
        try:
            if batch:
                resp = c.send_message_batch(
                    QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": b, **extra(b)} for i, b in enumerate(bodies)]
                )
                with ledger.lock:
                    for e in resp.get("Successful", []):
                        ledger.sent_acked[bodies[int(e["Id"])]] = e["MessageId"]
                    if resp.get("Failed"):
                        ledger.errors["send-batch-entry-failed"] += len(resp["Failed"])
            else:
                resp = c.send_message(QueueUrl=url, MessageBody=bodies[0], **extra(bodies[0]))
                with ledger.lock:
                    ledger.sent_acked[bodies[0]] = resp["MessageId"]
        except Exception as e:  # server down, connection reset, 5xx: not acknowledged
            with ledger.lock:
                ledger.errors[f"send:{type(e).__name__}"] += 1
            time.sleep(0.02)


def consumer(endpoint, url, ledger: Ledger, stop: threading.Event):
    c = client(endpoint)
    rnd = random.Random()
    while not stop.is_set():
        t_recv = time.monotonic()
        try:
            msgs = c.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, VisibilityTimeout=CONSUMER_VISIBILITY
            ).get("Messages", [])
        except Exception as e:
            with ledger.lock:
                ledger.errors[f"receive:{type(e).__name__}"] += 1
            time.sleep(0.02)
            continue
        with ledger.lock:
            ledger.receives += len(msgs)
            for m in msgs:
                b = m["Body"]
                acked_at = ledger.deleted_acked.get(b)
                if acked_at is not None and acked_at < t_recv and b not in ledger.possibly_stale_deletes:
                    ledger.violations.append(f"deleted body came back during load: {b} ({m['MessageId']})")
                if b in ledger.drain_deleted:
                    ledger.violations.append(f"body deleted by an earlier drain came back: {b}")
                if b not in ledger.sent_attempted:
                    ledger.violations.append(f"unknown body received: {b!r}")
        if not msgs:
            continue
        with ledger.lock:
            ledger.delete_attempted.update(m["Body"] for m in msgs)
        ok: list = []
        try:
            if rnd.random() < 0.5:
                resp = c.delete_message_batch(
                    QueueUrl=url,
                    Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(msgs)],
                )
                ok = [msgs[int(e["Id"])] for e in resp.get("Successful", [])]
                if resp.get("Failed"):
                    with ledger.lock:
                        ledger.errors["delete-batch-entry-failed"] += len(resp["Failed"])
            else:
                for m in msgs:
                    c.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
                    ok.append(m)
        except Exception as e:
            with ledger.lock:
                ledger.errors[f"delete:{type(e).__name__}"] += 1
            time.sleep(0.02)
        now = time.monotonic()
        with ledger.lock:
            for m in ok:
                ledger.deleted_acked[m["Body"]] = now
                if now - t_recv > CONSUMER_VISIBILITY - 0.5:
                    ledger.possibly_stale_deletes.add(m["Body"])


def drain(endpoint, url, ledger: Ledger, server: Server) -> list[tuple[str, str]]:
    """Receive + delete until the queue is empty and in-flight messages had time to come back."""
    c = client(endpoint)
    out: list[tuple[str, str]] = []
    seen_ids: set[str] = set()
    deadline = time.monotonic() + DRAIN_TIMEOUT
    while time.monotonic() < deadline:
        try:
            msgs = c.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, VisibilityTimeout=60).get(
                "Messages", []
            )
        except Exception as e:
            code = getattr(e, "response", {}).get("Error", {}).get("Code", "")
            ledger.violations.append(f"drain receive failed: {e!r}")
            if code == "AWS.SimpleQueueService.NonExistentQueue":
                return out  # the queue itself is gone: nothing to drain
            time.sleep(0.2)
            continue
        for m in msgs:
            if m["MessageId"] in seen_ids:
                ledger.violations.append(f"message deleted during the drain came back: {m['Body']} ({m['MessageId']})")
                continue
            seen_ids.add(m["MessageId"])
            out.append((m["Body"], m["MessageId"]))
            for attempt in range(20):
                try:
                    c.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
                    ledger.drain_deleted.add(m["Body"])
                    break
                except Exception as e:
                    if attempt == 19:
                        ledger.violations.append(f"drain delete failed: {e!r}")
                    time.sleep(0.1)
        if msgs:
            continue
        settled = time.monotonic() - server.started_at > CONSUMER_VISIBILITY + 1.5
        try:
            a = c.get_queue_attributes(
                QueueUrl=url,
                AttributeNames=[
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                    "ApproximateNumberOfMessagesDelayed",
                ],
            )["Attributes"]
        except Exception as e:
            ledger.violations.append(f"drain attributes failed: {e!r}")
            continue
        if settled and all(v == "0" for v in a.values()):
            break
        if not settled:
            time.sleep(0.2)
    else:
        ledger.violations.append(f"drain did not finish within {DRAIN_TIMEOUT}s")
    return out


def verify(ledger: Ledger, drained: list[tuple[str, str]], round_no: int) -> dict:
    ids_by_body: dict[str, set[str]] = defaultdict(set)
    for body, mid in drained:
        ids_by_body[body].add(mid)
    must_be_present = set(ledger.sent_acked) - ledger.delete_attempted
    missing = sorted(b for b in must_be_present if b not in ids_by_body)
    copies = sorted(b for b, ids in ids_by_body.items() if len(ids) > 1)
    wrong_id = sorted(
        b for b in must_be_present if b in ids_by_body and ids_by_body[b] != {ledger.sent_acked[b]}
    )
    resurrected = sorted(
        b for b in ids_by_body if b in ledger.deleted_acked and b not in ledger.possibly_stale_deletes
    )
    unknown = sorted(b for b in ids_by_body if b not in ledger.sent_attempted)
    unacked_present = sum(1 for b in ids_by_body if b not in ledger.sent_acked)
    for label, items in (
        ("LOST (acknowledged send, never deleted, not drained)", missing),
        ("DUPLICATED (same body under several MessageIds)", copies),
        ("WRONG MESSAGEID (drained under another id than the send returned)", wrong_id),
        ("RESURRECTED (acknowledged delete came back)", resurrected),
        ("UNKNOWN (never sent)", unknown),
    ):
        if items:
            ledger.violations.append(f"round {round_no}: {label}: {len(items)} e.g. {items[:5]}")
    return {
        "acked_sends": len(ledger.sent_acked),
        "unacked_send_attempts": len(ledger.sent_attempted) - len(ledger.sent_acked),
        "received_during_load": ledger.receives,
        "acked_deletes": len(ledger.deleted_acked),
        "possibly_stale_deletes": len(ledger.possibly_stale_deletes),
        "unacked_deletes": len(ledger.delete_attempted) - len(ledger.deleted_acked),
        "expected_in_drain": len(must_be_present),
        "drained": len(drained),
        "drained_unacked_sends": unacked_present,
        "missing": len(missing),
        "duplicates": len(copies),
        "resurrected": len(resurrected),
        "errors": dict(ledger.errors),
    }


# --------------------------------------------------------------------------- main


def run() -> int:
    if not (os.path.isfile(EDDY_BIN) and os.access(EDDY_BIN, os.X_OK)):
        log(f"eddy binary not found at {EDDY_BIN}")
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="eddy-crash-"))
    server = Cluster(tmp)
    try:
        server.start()
    except RuntimeError as e:
        log(str(e))
        return 2
    ok = False
    try:
        admin = client(server.endpoint)
        std_url = admin.create_queue(QueueName=f"crash-std-{uuid.uuid4().hex[:8]}")["QueueUrl"]
        fifo_url = admin.create_queue(
            QueueName=f"crash-fifo-{uuid.uuid4().hex[:8]}.fifo", Attributes={"FifoQueue": "true"}
        )["QueueUrl"]
        queues = [("standard", std_url, False, Ledger("standard")), ("fifo", fifo_url, True, Ledger("fifo"))]
        summaries = []
        for round_no in range(1, ROUNDS + 1):
            for _, _, _, ledger in queues:
                ledger.new_round()
            stop = threading.Event()
            threads = []
            for qname, url, fifo, ledger in queues:
                for i in range(PRODUCERS_PER_QUEUE):
                    tag = f"r{round_no}-{qname}-p{i}"
                    endpoint = server.endpoint_for(i)
                    threads.append(threading.Thread(target=producer, args=(endpoint, url, ledger, fifo, tag, stop)))
                for i in range(CONSUMERS_PER_QUEUE):
                    endpoint = server.endpoint_for(i + 1)
                    threads.append(threading.Thread(target=consumer, args=(endpoint, url, ledger, stop)))
            for t in threads:
                t.daemon = True
                t.start()
            log(f"round {round_no}: load running")
            time.sleep(LOAD_BEFORE_KILL)
            victim = server.leader()
            log(f"round {round_no}: kill -9 (pid {victim.proc.pid}, {victim.endpoint})")
            victim.kill9()
            time.sleep(DOWN_TIME)
            victim.start()
            log(f"round {round_no}: restarted, load continues")
            time.sleep(LOAD_AFTER_RESTART)
            stop.set()
            for t in threads:
                t.join(30)
            if any(t.is_alive() for t in threads):
                log("load threads did not stop")
                return 1
            # the admin view must still have both queues
            listed = set(client(server.endpoint).list_queues(QueueNamePrefix="crash-").get("QueueUrls", []))
            for qname, url, _, ledger in queues:
                if url not in listed:
                    ledger.violations.append(f"round {round_no}: queue {url} missing after restart")
            for qname, url, _, ledger in queues:
                drained = drain(server.endpoint, url, ledger, server)
                summary = verify(ledger, drained, round_no)
                summaries.append((round_no, qname, summary))
                log(f"round {round_no} {qname}: {summary}")
        violations = []
        for _, _, _, ledger in queues:
            seen_kinds: dict[str, int] = {}
            for v in ledger.violations:
                kind = v.split(":")[0]
                seen_kinds[kind] = seen_kinds.get(kind, 0) + 1
                if seen_kinds[kind] <= 3:
                    violations.append(f"[{ledger.name}] {v}")
            for kind, n in seen_kinds.items():
                if n > 3:
                    violations.append(f"[{ledger.name}] ... {n - 3} more like: {kind}")
        print("\n===== crash test summary =====")
        for round_no, qname, s in summaries:
            print(
                f"round {round_no} {qname:8s}: sent(acked)={s['acked_sends']} sent(unacked)={s['unacked_send_attempts']} "
                f"deleted(acked)={s['acked_deletes']} deleted(unacked)={s['unacked_deletes']} "
                f"expected={s['expected_in_drain']} drained={s['drained']} "
                f"(of which unacked sends: {s['drained_unacked_sends']}) missing={s['missing']} "
                f"duplicates={s['duplicates']} resurrected={s['resurrected']}"
            )
        total_acked = sum(s["acked_sends"] for _, _, s in summaries)
        if total_acked < 200:
            violations.append(f"too little load to prove anything: only {total_acked} acknowledged sends")
        code = verdict(violations, server, "crash test")
        ok = code == 0
        return code
    except Exception:
        traceback.print_exc()
        print(f"\nserver log tail:\n{server.tail()}")
        return 2
    finally:
        clean_up(server, tmp, ok)


def verdict(violations: list[str], server: Server, name: str) -> int:
    """Prints each broken guarantee (50 at most) with the server's log tail and returns 1, or says `name` passed
    and returns 0."""
    if violations:
        print("\nFAILED:")
        for v in violations[:50]:
            print("  - " + v)
        if len(violations) > 50:
            print(f"  ... and {len(violations) - 50} more")
        print(f"\nserver log tail ({server.log_path}):\n{server.tail()}")
        return 1
    print(f"\n{name} passed")
    return 0


def clean_up(server: Server, tmp: Path, ok: bool) -> None:
    """Stops the server; removes its data dir after a pass unless EDDY_KEEP_DATA is set."""
    server.stop()
    if ok and not os.environ.get("EDDY_KEEP_DATA"):
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        print(f"data dir and log kept in {tmp}")


if __name__ == "__main__":
    sys.exit(run())
