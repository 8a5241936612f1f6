#!/usr/bin/env python3
"""SNS crash test: kill -9 eddy during fan-out and prove no accepted Publish is lost.

Run with the .venv-json interpreter. Exit code 0 on success, 1 when a guarantee is broken, 2 when
the test could not run.

Per round (two rounds, same data dir): publishers send unique messages (Publish and PublishBatch)
to a standard topic fanned out to three raw-delivery queues, and a FIFO topic fanned out to a FIFO
queue, recording every message whose Publish was acknowledged. Mid-load the server is killed with
SIGKILL and restarted while the load keeps trying; then every queue is drained.

Guarantees: every acknowledged message reaches every subscribed queue (deliveries left unfinished by
the crash are resumed after the restart); nothing that was never published shows up. SNS delivers
at least once, so a delivery interrupted by the crash may arrive twice; copies are counted and
reported, not failed.
"""

from __future__ import annotations

import json
import sys
import tempfile
import threading
import time
import traceback
import uuid
from pathlib import Path

import boto3
from botocore.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parent))
from crash_test import Cluster, log  # noqa: E402

ROUNDS = 2
LOAD_BEFORE_KILL = 2.5
DOWN_TIME = 0.7
LOAD_AFTER_RESTART = 1.5
PUBLISHERS = 4
DRAIN_QUIET = 3.0  # seconds without new messages that end a drain
DRAIN_TIMEOUT = 90.0


def client(service: str, endpoint: str):
    return boto3.session.Session().client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 0}, connect_timeout=2, read_timeout=15, max_pool_connections=8),
    )


def allow_topic(sqs, url: str, topic_arn: str) -> str:
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
            }
        ],
    }
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    return arn


def setup(endpoint: str):
    sns, sqs = client("sns", endpoint), client("sqs", endpoint)
    topic = sns.create_topic(Name="crash-fanout")["TopicArn"]
    fifo_topic = sns.create_topic(
        Name="crash-fanout.fifo", Attributes={"FifoTopic": "true", "ContentBasedDeduplication": "true"}
    )["TopicArn"]
    queues = []
    for i in range(3):
        url = sqs.create_queue(QueueName=f"crash-fanout-{i}")["QueueUrl"]
        arn = allow_topic(sqs, url, topic)
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
        queues.append(url)
    fifo_url = sqs.create_queue(QueueName="crash-fanout.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    arn = allow_topic(sqs, fifo_url, fifo_topic)
    sns.subscribe(TopicArn=fifo_topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    return topic, fifo_topic, queues, fifo_url


class Acked:
    def __init__(self):
        self.lock = threading.Lock()
        self.standard: set[str] = set()
        self.fifo: set[str] = set()
        self.errors = 0

    def add(self, fifo: bool, bodies):
        with self.lock:
            (self.fifo if fifo else self.standard).update(bodies)


def publisher(endpoint, topic, fifo_topic, acked: Acked, tag: str, stop: threading.Event):
    sns = client("sns", endpoint)
    n = 0
    while not stop.is_set():
        n += 1
        fifo = n % 4 == 0
        try:
            if n % 3 == 0 and not fifo:
                bodies = [f"{tag}-{n}-{i}" for i in range(5)]
                entries = [{"Id": str(i), "Message": b} for i, b in enumerate(bodies)]
                r = sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=entries)
                ok = {bodies[int(e["Id"])] for e in r.get("Successful", [])}
                acked.add(False, ok)
            else:
                body = f"{tag}-{n}"
                kwargs = {"MessageGroupId": f"g{n % 3}"} if fifo else {}
                sns.publish(TopicArn=fifo_topic if fifo else topic, Message=body, **kwargs)
                acked.add(fifo, [body])
        except Exception:  # noqa: BLE001 - the server is down part of the time
            with acked.lock:
                acked.errors += 1
            time.sleep(0.05)


def drain(endpoint: str, url: str) -> list[str]:
    """Receives and deletes until the queue stays empty for DRAIN_QUIET seconds."""
    sqs = client("sqs", endpoint)
    got: list[str] = []
    quiet_since = time.monotonic()
    deadline = time.monotonic() + DRAIN_TIMEOUT
    while time.monotonic() - quiet_since < DRAIN_QUIET and time.monotonic() < deadline:
        msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        if msgs:
            quiet_since = time.monotonic()
            got.extend(m["Body"] for m in msgs)
            sqs.delete_message_batch(
                QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(msgs)]
            )
    return got


def check(name: str, expected: set[str], got: list[str], tag: str) -> tuple[list[str], int]:
    problems = []
    ours = [b for b in got if b.startswith(tag)]
    missing = expected - set(ours)
    unknown = {b for b in ours if not b.startswith(tag)}
    copies = len(ours) - len(set(ours))
    if missing:
        problems.append(f"{name}: {len(missing)} acknowledged messages never delivered, e.g. {sorted(missing)[:5]}")
    if unknown:
        problems.append(f"{name}: {len(unknown)} unexpected messages, e.g. {sorted(unknown)[:5]}")
    log(f"  {name}: {len(set(ours))} delivered of {len(expected)} acknowledged, {copies} copies")
    return problems, copies


def run() -> int:
    with tempfile.TemporaryDirectory(prefix="eddy-sns-crash-") as tmp:
        server = Cluster(Path(tmp))
        try:
            server.start()
            topic, fifo_topic, queues, fifo_url = setup(server.endpoint)
        except Exception as e:  # noqa: BLE001
            log(f"could not start: {e}")
            return 2
        failures = []
        try:
            for round_no in range(1, ROUNDS + 1):
                tag = f"r{round_no}-{uuid.uuid4().hex[:6]}"
                acked, stop = Acked(), threading.Event()
                threads = [
                    threading.Thread(
                        target=publisher, args=(server.endpoint_for(i), topic, fifo_topic, acked, f"{tag}-p{i}", stop)
                    )
                    for i in range(PUBLISHERS)
                ]
                for t in threads:
                    t.start()
                time.sleep(LOAD_BEFORE_KILL)
                log(f"round {round_no}: kill -9 after {len(acked.standard) + len(acked.fifo)} acknowledged publishes")
                victim = server.leader()
                victim.kill9()
                time.sleep(DOWN_TIME)
                victim.start()
                time.sleep(LOAD_AFTER_RESTART)
                stop.set()
                for t in threads:
                    t.join()
                log(f"round {round_no}: {len(acked.standard)} standard + {len(acked.fifo)} FIFO acknowledged, "
                    f"{acked.errors} failed while down; draining")
                for i, url in enumerate(queues):
                    problems, _ = check(f"queue {i}", acked.standard, drain(server.endpoint, url), tag)
                    failures += problems
                problems, _ = check("FIFO queue", acked.fifo, drain(server.endpoint, fifo_url), tag)
                failures += problems
        except Exception:  # noqa: BLE001
            traceback.print_exc()
            log(server.tail())
            return 2
        finally:
            server.stop()
        if failures:
            for f in failures:
                log(f"FAIL {f}")
            log(server.tail())
            return 1
        log("SNS crash test passed: every acknowledged Publish reached every subscribed queue")
        return 0


if __name__ == "__main__":
    sys.exit(run())
