#!/usr/bin/env python3
"""EventBridge crash test: kill -9 eddy while events are being put, and prove no accepted event is lost.

Run with the .venv-json interpreter. Exit code 0 on success, 1 when a guarantee is broken, 2 when
the test could not run.

Per round (two rounds, same data dir): producers put events (PutEvents, 1 to 10 entries per call)
on the default bus and on a custom bus, recording every entry PutEvents accepted (it answered an
EventId). A rule on each bus sends matching events to an SQS queue (with InputPath "$.detail" on
one of them); a third rule sends the default bus's events to a FIFO queue. Mid-load the server is
killed with SIGKILL and restarted while the load keeps trying; then every queue is drained.

Guarantees: every accepted event reaches every queue its rules target (deliveries the crash left
unfinished are resumed after the restart: PutEvents answers only once a job per matched target is
durable); nothing that was never put shows up. EventBridge delivers at least once, so a delivery
interrupted by the crash may arrive twice; copies are counted and reported, not failed.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from crash_test import Cluster, log  # noqa: E402
from sns_crash_test import DOWN_TIME, LOAD_AFTER_RESTART, LOAD_BEFORE_KILL, check, client, drain  # noqa: E402

ROUNDS = 2
PRODUCERS = 4
SOURCE = "crash.app"
BUS = "crash-bus"


def allow_rules(sqs, url: str, rule_arns: list[str]) -> str:
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": rule_arns}},
            }
        ],
    }
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    return arn


def setup(endpoint: str):
    events, sqs = client("events", endpoint), client("sqs", endpoint)
    events.create_event_bus(Name=BUS)
    pattern = json.dumps({"source": [SOURCE]})
    default_rule = events.put_rule(Name="crash-default", EventPattern=pattern)["RuleArn"]
    fifo_rule = events.put_rule(Name="crash-fifo", EventPattern=pattern)["RuleArn"]
    bus_rule = events.put_rule(Name="crash-custom", EventPattern=pattern, EventBusName=BUS)["RuleArn"]
    default_url = sqs.create_queue(QueueName="crash-events-default")["QueueUrl"]
    bus_url = sqs.create_queue(QueueName="crash-events-custom")["QueueUrl"]
    fifo_url = sqs.create_queue(QueueName="crash-events.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    default_arn = allow_rules(sqs, default_url, [default_rule])
    bus_arn = allow_rules(sqs, bus_url, [bus_rule])
    fifo_arn = allow_rules(sqs, fifo_url, [fifo_rule])
    events.put_targets(Rule="crash-default", Targets=[{"Id": "q", "Arn": default_arn, "InputPath": "$.detail.tag"}])
    events.put_targets(Rule="crash-custom", EventBusName=BUS, Targets=[{"Id": "q", "Arn": bus_arn, "InputPath": "$.detail.tag"}])
    events.put_targets(
        Rule="crash-fifo",
        Targets=[{"Id": "q", "Arn": fifo_arn, "InputPath": "$.detail.tag", "SqsParameters": {"MessageGroupId": "g"}}],
    )
    return default_url, bus_url, fifo_url


class Accepted:
    def __init__(self):
        self.lock = threading.Lock()
        self.default: set[str] = set()
        self.custom: set[str] = set()
        self.errors = 0


def producer(endpoint: str, accepted: Accepted, tag: str, stop: threading.Event):
    events = client("events", endpoint)
    n = 0
    while not stop.is_set():
        n += 1
        custom = n % 3 == 0
        tags = [f"{tag}-{n}-{i}" for i in range(1 + n % 10)]
        entries = [
            {"Source": SOURCE, "DetailType": "crash", "Detail": json.dumps({"tag": t}), **({"EventBusName": BUS} if custom else {})}
            for t in tags
        ]
        try:
            r = events.put_events(Entries=entries)
            ok = {t for t, e in zip(tags, r["Entries"]) if "EventId" in e}
            with accepted.lock:
                (accepted.custom if custom else accepted.default).update(ok)
        except Exception:  # noqa: BLE001 - the server is down part of the time
            with accepted.lock:
                accepted.errors += 1
            time.sleep(0.05)


def run() -> int:
    with tempfile.TemporaryDirectory(prefix="eddy-events-crash-") as tmp:
        server = Cluster(Path(tmp))
        try:
            server.start()
            default_url, bus_url, fifo_url = setup(server.endpoint)
        except Exception as e:  # noqa: BLE001
            log(f"could not start: {e}")
            return 2
        failures = []
        try:
            for round_no in range(1, ROUNDS + 1):
                tag = f"r{round_no}-{uuid.uuid4().hex[:6]}"
                accepted, stop = Accepted(), threading.Event()
                threads = [
                    threading.Thread(target=producer, args=(server.endpoint_for(i), accepted, f"{tag}-p{i}", stop))
                    for i in range(PRODUCERS)
                ]
                for t in threads:
                    t.start()
                time.sleep(LOAD_BEFORE_KILL)
                log(f"round {round_no}: kill -9 after {len(accepted.default) + len(accepted.custom)} accepted events")
                victim = server.leader()
                victim.kill9()
                time.sleep(DOWN_TIME)
                victim.start()
                time.sleep(LOAD_AFTER_RESTART)
                stop.set()
                for t in threads:
                    t.join()
                log(f"round {round_no}: {len(accepted.default)} default-bus + {len(accepted.custom)} custom-bus events "
                    f"accepted, {accepted.errors} calls failed while down; draining")
                # InputPath "$.detail.tag" makes each body the tag as a JSON string.
                for name, url, expected in [
                    ("default-bus queue", default_url, accepted.default),
                    ("custom-bus queue", bus_url, accepted.custom),
                    ("FIFO queue", fifo_url, accepted.default),
                ]:
                    got = [json.loads(b) for b in drain(server.endpoint, url)]
                    problems, _ = check(name, expected, got, tag)
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
        log("EventBridge crash test passed: every accepted event reached every queue its rules target")
        return 0


if __name__ == "__main__":
    sys.exit(run())
