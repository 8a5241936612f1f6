"""Helpers shared by the EventBridge suites (test_events_*.py).

Expectations come from AWS, never from eddy's output: the EventBridge API reference and user guide
("Amazon EventBridge events" for the event envelope, "Transforming target input", "Using dead-letter
queues to process undelivered events", "Amazon EventBridge quotas"), the botocore service model
(events/2015-10-07) and responses recorded against AWS in LocalStack's
tests/aws/services/events/*.snapshot.json (exact error codes and messages; cited per test as
`<snapshot file>::<test name>`).

EventBridge reaches a target as the service principal events.amazonaws.com with aws:SourceArn = the
rule's ARN: an SQS queue (or SNS topic) must allow it in its resource policy, otherwise AWS drops
the delivery silently. eddy counts such drops under droppedByPolicy in GET /_eddy/events/stats.
"""

from __future__ import annotations

import json
import os
import time
import uuid

import pytest
import requests
from botocore.exceptions import ClientError

from sqs_helpers import expect_error, get_arn, receive

ACCOUNT = "000000000000"
REGION = "us-east-1"
EVENTS_PRINCIPAL = "events.amazonaws.com"

# Error codes (botocore model + AWS-recorded snapshots).
NOT_FOUND = "ResourceNotFoundException"
ALREADY_EXISTS = "ResourceAlreadyExistsException"
VALIDATION = "ValidationException"
INVALID_PATTERN = "InvalidEventPatternException"
LIMIT_EXCEEDED = "LimitExceededException"

# The skip every events module applies: EventBridge is awsJson1_1 in both SDK generations.
SKIP_SECOND_PASS = pytest.mark.skipif(
    os.environ.get("EDDY_EXPECT_PROTOCOL") == "query", reason="EventBridge speaks awsJson1_1 in both passes; run once"
)

EVENT_FIELDS = {"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"}


# --------------------------------------------------------------------------- ARNs


def bus_arn(name: str = "default", account: str = ACCOUNT, region: str = REGION) -> str:
    return f"arn:aws:events:{region}:{account}:event-bus/{name}"


def rule_arn(name: str, bus: str | None = None, account: str = ACCOUNT, region: str = REGION) -> str:
    """AWS: rule/<name> on the default bus, rule/<bus>/<name> on a custom bus."""
    if bus in (None, "default"):
        return f"arn:aws:events:{region}:{account}:rule/{name}"
    return f"arn:aws:events:{region}:{account}:rule/{bus}/{name}"


# --------------------------------------------------------------------------- errors


def expect_events_error(fn, code, message: str | None = None, message_prefix: str | None = None, **kwargs) -> ClientError:
    """expect_error (code, HTTP 400 as AWS answers every EventBridge client error), plus the exact
    message or its prefix when given."""
    err = expect_error(fn, code, 400, **kwargs)
    got = err.response.get("Error", {}).get("Message")
    if message is not None:
        assert got == message, f"expected error message {message!r}, got {got!r}"
    if message_prefix is not None:
        assert got and got.startswith(message_prefix), f"expected error message starting {message_prefix!r}, got {got!r}"
    return err


# --------------------------------------------------------------------------- events


def new_source() -> str:
    """A source no other test uses, so that patterns on the shared default bus match only this test's events."""
    return f"eddy.test.{uuid.uuid4().hex[:12]}"


def entry(source: str, detail_type: str = "thing.happened", detail=None, **extra) -> dict:
    """A PutEvents entry; detail (a dict) is serialised, a str is sent as is."""
    if detail is None:
        detail = {"k": "v"}
    e = {"Source": source, "DetailType": detail_type, "Detail": detail if isinstance(detail, str) else json.dumps(detail)}
    e.update(extra)
    return e


def pattern_for(source: str, **more) -> str:
    p = {"source": [source]}
    p.update(more)
    return json.dumps(p)


def put_ok(events, entries: list[dict]) -> list[str]:
    """PutEvents that must accept every entry; returns the event ids in entry order."""
    resp = events.put_events(Entries=entries)
    assert resp["FailedEntryCount"] == 0, resp["Entries"]
    assert len(resp["Entries"]) == len(entries)
    ids = [e.get("EventId") for e in resp["Entries"]]
    assert all(ids), resp["Entries"]
    return ids


# --------------------------------------------------------------------------- resource policies


def events_queue_policy(queue_arn: str, source_arn: str, sid: str = "AllowEventBridge", **overrides) -> dict:
    """The queue policy AWS documents for an EventBridge rule target ("Permissions for Amazon SQS")."""
    statement = {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"Service": EVENTS_PRINCIPAL},
        "Action": "sqs:SendMessage",
        "Resource": queue_arn,
        "Condition": {"ArnEquals": {"aws:SourceArn": source_arn}},
    }
    statement.update(overrides)
    return {"Version": "2012-10-17", "Statement": [statement]}


def allow_events(sqs, queue_url: str, source_arn: str) -> str:
    """Lets the rule `source_arn` send into the queue; returns the queue ARN."""
    q_arn = get_arn(sqs, queue_url)
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": json.dumps(events_queue_policy(q_arn, source_arn))})
    return q_arn


def events_topic_policy(topic_arn: str, source_arn: str) -> dict:
    """The topic policy AWS documents for an EventBridge rule target ("Permissions for Amazon SNS")."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowEventBridge",
                "Effect": "Allow",
                "Principal": {"Service": EVENTS_PRINCIPAL},
                "Action": "sns:Publish",
                "Resource": topic_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": source_arn}},
            }
        ],
    }


# --------------------------------------------------------------------------- wiring


def rule_to_queue(events, sqs, put_rule, queue_url: str, pattern: str, bus: str | None = None, policy: bool = True,
                  target_id: str = "q", **target_extra) -> tuple[str, str, str]:
    """A rule with `pattern` (on `bus`) whose one target is the queue (allowed by its policy unless
    policy=False). Returns (rule name, rule ARN, queue ARN)."""
    name, arn = put_rule(pattern=pattern, bus=bus)
    q_arn = allow_events(sqs, queue_url, arn) if policy else get_arn(sqs, queue_url)
    kwargs = {"Rule": name, "Targets": [{"Id": target_id, "Arn": q_arn, **target_extra}]}
    if bus:
        kwargs["EventBusName"] = bus
    resp = events.put_targets(**kwargs)
    assert resp["FailedEntryCount"] == 0, resp
    return name, arn, q_arn


# --------------------------------------------------------------------------- receiving


def wait_bodies(sqs, url: str, n: int, timeout: float = 5.0, **kwargs) -> list[dict]:
    """Long-polls (deleting what it takes) until n messages arrived or timeout; never takes more
    than n, so that later calls see the rest. Returns the messages."""
    out: list[dict] = []
    deadline = time.monotonic() + timeout
    while len(out) < n and time.monotonic() < deadline:
        wait = max(1, min(2, int(deadline - time.monotonic() + 0.999)))
        for m in receive(sqs, url, MaxNumberOfMessages=min(10, n - len(out)), WaitTimeSeconds=wait, **kwargs):
            out.append(m)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return out


def wait_one(sqs, url: str, timeout: float = 5.0, **kwargs) -> dict:
    got = wait_bodies(sqs, url, 1, timeout=timeout, **kwargs)
    assert got, f"no message arrived in {url} within {timeout}s"
    return got[0]


def wait_event(sqs, url: str, timeout: float = 5.0, **kwargs) -> dict:
    """The one event JSON that arrives in the queue."""
    m = wait_one(sqs, url, timeout=timeout, **kwargs)
    try:
        return json.loads(m["Body"])
    except ValueError as e:  # pragma: no cover - reported as a failure
        raise AssertionError(f"body is not JSON: {m['Body']!r}") from e


def assert_no_more(sqs, url: str, wait: int = 1) -> None:
    got = receive(sqs, url, MaxNumberOfMessages=10, WaitTimeSeconds=wait)
    assert got == [], f"expected no (more) message in {url}, got {[m['Body'][:300] for m in got]}"


def assert_event_envelope(event: dict, source: str, detail_type: str, detail: dict, event_id: str | None = None,
                          resources: list | None = None) -> None:
    """The envelope AWS documents ("Amazon EventBridge events") and records (test_events_targets
    TestEventsTargetSqs::test_put_events_with_target_sqs): exactly these top-level fields."""
    assert set(event) == EVENT_FIELDS, f"event fields: {sorted(event)}"
    assert event["version"] == "0"
    assert event["source"] == source
    assert event["detail-type"] == detail_type
    assert event["detail"] == detail
    assert event["account"] == ACCOUNT
    assert event["region"] == REGION
    assert event["resources"] == (resources or [])
    assert isinstance(event["time"], str) and len(event["time"]) == 20 and event["time"].endswith("Z"), event["time"]
    if event_id is not None:
        assert event["id"] == event_id


# --------------------------------------------------------------------------- eddy's own endpoint


def events_stats(endpoint: str) -> dict:
    r = requests.get(endpoint + "/_eddy/events/stats", timeout=10)
    assert r.status_code == 200, f"GET /_eddy/events/stats: HTTP {r.status_code}: {r.text[:300]}"
    return r.json()


def dropped_by_policy(endpoint: str) -> int:
    value = events_stats(endpoint).get("droppedByPolicy")
    assert isinstance(value, int), f"droppedByPolicy is not an integer: {value!r}"
    return value


def wait_dropped(endpoint: str, at_least: int, timeout: float = 5.0) -> int:
    deadline = time.monotonic() + timeout
    value = dropped_by_policy(endpoint)
    while value < at_least and time.monotonic() < deadline:
        time.sleep(0.1)
        value = dropped_by_policy(endpoint)
    assert value >= at_least, f"droppedByPolicy stayed at {value}, expected at least {at_least}"
    return value
