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


# --------------------------------------------------------------------------- archives and replays
# ARN shapes recorded against AWS in LocalStack's test_archive_and_replay.snapshot.json.

ILLEGAL_STATUS = "IllegalStatusException"


def archive_arn(name: str, account: str = ACCOUNT, region: str = REGION) -> str:
    return f"arn:aws:events:{region}:{account}:archive/{name}"


def replay_arn(name: str, account: str = ACCOUNT, region: str = REGION) -> str:
    return f"arn:aws:events:{region}:{account}:replay/{name}"


def whole_seconds(dt):
    """dt without its fraction of a second (events carry their time to the second)."""
    return dt.replace(microsecond=0)


def wait_archive_count(events, name: str, count: int, timeout: float = 8.0) -> dict:
    """Polls DescribeArchive until EventCount reaches count (AWS: "incoming events might not
    immediately start being sent to the archive"); returns the last description."""
    deadline = time.monotonic() + timeout
    desc = events.describe_archive(ArchiveName=name)
    while desc.get("EventCount", 0) < count and time.monotonic() < deadline:
        time.sleep(0.1)
        desc = events.describe_archive(ArchiveName=name)
    assert desc.get("EventCount") == count, f"archive {name}: EventCount {desc.get('EventCount')}, expected {count}"
    return desc


def wait_replay_state(events, name: str, state: str = "COMPLETED", timeout: float = 10.0) -> dict:
    """Polls DescribeReplay until State is `state`; returns the description."""
    deadline = time.monotonic() + timeout
    desc = events.describe_replay(ReplayName=name)
    while desc.get("State") != state and time.monotonic() < deadline:
        assert desc.get("State") not in ("FAILED", "CANCELLED") or state in ("FAILED", "CANCELLED"), desc
        time.sleep(0.1)
        desc = events.describe_replay(ReplayName=name)
    assert desc.get("State") == state, f"replay {name} is {desc.get('State')} ({desc.get('StateReason')}), expected {state}"
    return desc


# --------------------------------------------------------------------------- connections and API destinations
# ARN shapes: the ConnectionArn pattern AWS quotes in its ValidationException (LocalStack's
# test_api_destinations_and_connection.snapshot.json::test_create_api_destination_invalid_parameters)
# and the recorded connection/<name>/<id>, secret:events!connection/<name>/<id> ARNs.

import base64 as _base64  # noqa: E402
import re as _re  # noqa: E402
import threading as _threading  # noqa: E402
import urllib.parse as _urlparse  # noqa: E402
from http.server import BaseHTTPRequestHandler as _BaseHandler, ThreadingHTTPServer as _ThreadingServer  # noqa: E402


def connection_arn_re(name: str, account: str = ACCOUNT, region: str = REGION) -> str:
    return rf"^arn:aws:events:{region}:{account}:connection/{_re.escape(name)}/[-A-Za-z0-9]+$"


def api_destination_arn_re(name: str, account: str = ACCOUNT, region: str = REGION) -> str:
    return rf"^arn:aws:events:{region}:{account}:api-destination/{_re.escape(name)}/[-A-Za-z0-9]+$"


def connection_secret_arn_prefix(name: str, account: str = ACCOUNT, region: str = REGION) -> str:
    return f"arn:aws:secretsmanager:{region}:{account}:secret:events!connection/{name}/"


def basic_auth(user: str, password: str) -> str:
    return "Basic " + _base64.b64encode(f"{user}:{password}".encode()).decode()


def wait_connection_state(events, name: str, state: str, timeout: float = 8.0) -> dict:
    deadline = time.monotonic() + timeout
    desc = events.describe_connection(Name=name)
    while desc.get("ConnectionState") != state and time.monotonic() < deadline:
        time.sleep(0.1)
        desc = events.describe_connection(Name=name)
    assert desc.get("ConnectionState") == state, f"connection {name} is {desc.get('ConnectionState')} ({desc.get('StateReason')}), expected {state}"
    return desc


class RecordedRequest:
    """One request the recorder got: method, path (without query), query (parse_qs lists),
    headers (lower-cased names), raw body."""

    def __init__(self, method: str, target: str, headers, body: bytes):
        parts = _urlparse.urlsplit(target)
        self.method = method
        self.path = parts.path
        self.query = _urlparse.parse_qs(parts.query, keep_blank_values=True)
        self.headers = {k.lower(): v for k, v in headers.items()}
        self.body = body

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError as e:  # pragma: no cover - reported as a failure
            raise AssertionError(f"request body is not JSON: {self.body[:300]!r}") from e

    def __repr__(self) -> str:
        return f"<{self.method} {self.path} {self.query} {self.headers} {self.body[:200]!r}>"


class HttpRecorder:
    """A local HTTP endpoint (127.0.0.1, random port, own thread) that records every request.

    Requests under `token_path` get an OAuth client-credentials token answer
    ({"access_token": TOKEN, "token_type": "Bearer", "expires_in": 3600}); every other request gets
    `status` (200 by default; settable per path prefix with respond())."""

    TOKEN = "tok"

    def __init__(self, token_path: str = "/oauth/token"):
        self.token_path = token_path
        self.requests: list[RecordedRequest] = []
        self._statuses: dict[str, int] = {}
        self.status = 200
        self._lock = _threading.Lock()
        recorder = self

        class Handler(_BaseHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep pytest output clean
                pass

            def _read_body(self) -> bytes:
                if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                    out = b""
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            return out
                        out += self.rfile.read(size)
                        self.rfile.readline()
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def _handle(self):
                req = RecordedRequest(self.command, self.path, self.headers, self._read_body())
                with recorder._lock:
                    recorder.requests.append(req)
                if req.path.startswith(recorder.token_path):
                    status, body = 200, json.dumps({"access_token": recorder.TOKEN, "token_type": "Bearer", "expires_in": 3600})
                else:
                    status, body = recorder.status_for(req.path), "{}"
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle

        self.server = _ThreadingServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self._thread = _threading.Thread(target=self.server.serve_forever, name="http-recorder", daemon=True)
        self._thread.start()

    def respond(self, path_prefix: str, status: int) -> None:
        self._statuses[path_prefix] = status

    def status_for(self, path: str) -> int:
        for prefix, status in self._statuses.items():
            if path.startswith(prefix):
                return status
        return self.status

    def got(self, path_prefix: str = "/") -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.path.startswith(path_prefix)]

    def wait(self, n: int = 1, path_prefix: str = "/", timeout: float = 5.0) -> list[RecordedRequest]:
        """Waits until at least n requests under path_prefix arrived; returns them all."""
        deadline = time.monotonic() + timeout
        while len(self.got(path_prefix)) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        got = self.got(path_prefix)
        assert len(got) >= n, f"{len(got)} request(s) under {path_prefix} within {timeout}s, expected {n}: {got}"
        return got

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
