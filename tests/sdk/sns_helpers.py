"""Helpers shared by the SNS suites. Expectations come from AWS documentation (the SNS developer
guide: "Amazon SNS message and JSON formats", "Verifying the signatures of Amazon SNS messages",
"Amazon SNS message filtering", "Amazon SNS dead-letter queues"; the SNS API reference) and from
responses recorded against AWS (error codes and messages).

SNS -> SQS delivery is made by the service principal sns.amazonaws.com, and the queue policy must
allow it (gotchas.md #3): `subscribe_queue` sets such a policy before subscribing.

eddy's own endpoints used here: GET /_eddy/sns/stats (delivery counters), GET /_eddy/sns/outbox
(messages for protocols eddy records instead of sending: SMS, email, mobile push) and the signing
certificate GET /_eddy/sns/SimpleNotificationService-eddy.pem that SigningCertURL points at.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from botocore.exceptions import ClientError

from sqs_helpers import expect_error, get_arn, receive

ACCOUNT = "000000000000"
OTHER_ACCOUNT = "111111111111"
REGION = "us-east-1"
SNS_PRINCIPAL = "sns.amazonaws.com"

# Error codes (the awsQuery <Code>), from the SNS service model and AWS-recorded responses.
NOT_FOUND = "NotFound"
INVALID_PARAMETER = "InvalidParameter"
PARAMETER_VALUE_INVALID = "ParameterValueInvalid"
RESOURCE_NOT_FOUND = "ResourceNotFound"
TAG_LIMIT_EXCEEDED = "TagLimitExceeded"
EMPTY_BATCH = "EmptyBatchRequest"
TOO_MANY_ENTRIES = "TooManyEntriesInBatchRequest"
IDS_NOT_DISTINCT = "BatchEntryIdsNotDistinct"
BATCH_TOO_LONG = "BatchRequestTooLong"
INVALID_BATCH_ENTRY_ID = "InvalidBatchEntryId"

MAX_MESSAGE_BYTES = 262_144

# Field order of AWS's notification envelope (SQS and HTTP subscribers, non-raw).
NOTIFICATION_FIELDS = [
    "Type",
    "MessageId",
    "TopicArn",
    "Subject",
    "Message",
    "Timestamp",
    "SignatureVersion",
    "Signature",
    "SigningCertURL",
    "UnsubscribeURL",
    "MessageAttributes",
]
# AWS-recorded: a FIFO topic's notification carries a SequenceNumber and is not signed.
FIFO_NOTIFICATION_FIELDS = [
    "Type",
    "MessageId",
    "SequenceNumber",
    "TopicArn",
    "Subject",
    "Message",
    "Timestamp",
    "UnsubscribeURL",
    "MessageAttributes",
]
CONFIRMATION_FIELDS = {
    "Type",
    "MessageId",
    "Token",
    "TopicArn",
    "Message",
    "SubscribeURL",
    "Timestamp",
    "SignatureVersion",
    "Signature",
    "SigningCertURL",
}
ISO8601_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


# --------------------------------------------------------------------------- errors


def expect_sns_error(fn, code, status=None, message: str | None = None, **kwargs) -> ClientError:
    """expect_error, plus (when given) the exact error message AWS returns."""
    err = expect_error(fn, code, status, **kwargs)
    if message is not None:
        got = err.response.get("Error", {}).get("Message")
        assert got == message, f"expected error message {message!r}, got {got!r}"
    return err


# --------------------------------------------------------------------------- ARNs


def topic_arn_for(name: str, account: str = ACCOUNT, region: str = REGION) -> str:
    return f"arn:aws:sns:{region}:{account}:{name}"


def topic_name_of(arn: str) -> str:
    return arn.rsplit(":", 1)[1]


# --------------------------------------------------------------------------- queue policies


def sns_queue_policy(queue_arn: str, source_arn: str, sid: str = "AllowSNS", **statement_overrides) -> dict:
    """The policy AWS documents for letting a topic send into a queue."""
    statement = {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"Service": SNS_PRINCIPAL},
        "Action": "sqs:SendMessage",
        "Resource": queue_arn,
        "Condition": {"ArnEquals": {"aws:SourceArn": source_arn}},
    }
    statement.update(statement_overrides)
    return {"Version": "2012-10-17", "Statement": [statement]}


def set_queue_policy(sqs, queue_url: str, policy: dict) -> None:
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": json.dumps(policy)})


def allow_sns(sqs, queue_url: str, source_arn: str) -> str:
    """Sets the queue policy that lets `source_arn` (a topic) deliver; returns the queue ARN."""
    arn = get_arn(sqs, queue_url)
    set_queue_policy(sqs, queue_url, sns_queue_policy(arn, source_arn))
    return arn


def subscribe_queue(
    sns, sqs, topic_arn: str, queue_url: str, raw: bool = False, attributes: dict | None = None, policy: bool = True
) -> str:
    """Lets the topic write to the queue (unless policy=False) and subscribes it; returns the subscription ARN."""
    queue_arn = allow_sns(sqs, queue_url, topic_arn) if policy else get_arn(sqs, queue_url)
    attrs = dict(attributes or {})
    if raw:
        attrs["RawMessageDelivery"] = "true"
    kwargs = {"TopicArn": topic_arn, "Protocol": "sqs", "Endpoint": queue_arn, "ReturnSubscriptionArn": True}
    if attrs:
        kwargs["Attributes"] = attrs
    return sns.subscribe(**kwargs)["SubscriptionArn"]


# --------------------------------------------------------------------------- receiving


def wait_messages(sqs, url: str, n: int, timeout: float = 10.0, delete: bool = True, **kwargs) -> list[dict]:
    """Long-polls until n messages arrived (or timeout); deletes them unless delete=False."""
    out: list[dict] = []
    deadline = time.monotonic() + timeout
    while len(out) < n and time.monotonic() < deadline:
        wait = max(1, min(5, int(deadline - time.monotonic())))
        got = receive(sqs, url, MaxNumberOfMessages=10, WaitTimeSeconds=wait, **kwargs)
        for m in got:
            out.append(m)
            if delete:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return out


def receive_until(sqs, url: str, predicate, timeout: float = 10.0, **kwargs) -> list[dict]:
    """Long-polls (deleting what it gets) until a message satisfying predicate arrived; returns all
    messages received, in order. On a FIFO topic delivering into a FIFO queue, a sentinel published
    last tells that everything published before it was delivered (or skipped)."""
    out: list[dict] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = receive(sqs, url, MaxNumberOfMessages=10, WaitTimeSeconds=1, **kwargs)
        for m in got:
            out.append(m)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        if any(predicate(m) for m in got):
            return out
    raise AssertionError(
        f"no matching message arrived in {url} within {timeout}s; got {[m['Body'][:200] for m in out]}"
    )


def wait_one(sqs, url: str, timeout: float = 10.0, **kwargs) -> dict:
    got = wait_messages(sqs, url, 1, timeout=timeout, **kwargs)
    assert got, f"no message arrived in {url} within {timeout}s"
    assert len(got) == 1, f"expected one message, got {len(got)}: {[m['Body'][:200] for m in got]}"
    return got[0]


def assert_empty(sqs, url: str, wait: int = 1) -> None:
    got = receive(sqs, url, MaxNumberOfMessages=10, WaitTimeSeconds=wait)
    assert got == [], f"expected no message in {url}, got {[m['Body'][:300] for m in got]}"


def envelope(message: dict) -> dict:
    """The JSON notification in an SQS message body."""
    try:
        return json.loads(message["Body"])
    except (ValueError, KeyError) as e:  # pragma: no cover - reported as a failure
        raise AssertionError(f"body is not a JSON notification: {message.get('Body')!r}") from e


# --------------------------------------------------------------------------- eddy endpoints


def eddy_get(endpoint: str, path: str) -> dict:
    r = requests.get(endpoint + path, timeout=10)
    assert r.status_code == 200, f"GET {path}: HTTP {r.status_code}: {r.text[:300]}"
    return r.json()


def sns_stats(endpoint: str) -> dict:
    return eddy_get(endpoint, "/_eddy/sns/stats")


def wait_stat(endpoint: str, key: str, at_least: int, timeout: float = 10.0) -> dict:
    """Waits until the delivery counter `key` reaches `at_least`; returns the stats."""
    deadline = time.monotonic() + timeout
    stats = sns_stats(endpoint)
    while stats.get(key, 0) < at_least and time.monotonic() < deadline:
        time.sleep(0.1)
        stats = sns_stats(endpoint)
    assert stats.get(key, 0) >= at_least, f"stats[{key!r}] stayed below {at_least}: {stats}"
    return stats


def outbox(endpoint: str) -> list[dict]:
    """Every outbox entry, oldest first: the outbox is served in pages of up to 1,000 entries,
    each naming the next with nextToken."""
    entries: list[dict] = []
    path = "/_eddy/sns/outbox"
    while True:
        page = eddy_get(endpoint, path)
        entries.extend(page["messages"])
        if not page.get("nextToken"):
            return entries
        path = "/_eddy/sns/outbox?nextToken=" + urllib.parse.quote(page["nextToken"])


def wait_outbox(endpoint: str, predicate, n: int = 1, timeout: float = 10.0) -> list[dict]:
    """Waits until at least n outbox entries satisfy predicate; returns them."""
    deadline = time.monotonic() + timeout
    while True:
        found = [e for e in outbox(endpoint) if predicate(e)]
        if len(found) >= n or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert len(found) >= n, f"expected {n} outbox entries, found {len(found)}: {found}"
    return found


# --------------------------------------------------------------------------- envelopes


def iso_to_epoch(ts: str) -> float:
    from datetime import datetime, timezone

    return datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp()


def assert_notification(
    env: dict,
    *,
    endpoint: str,
    topic_arn: str,
    message: str,
    subscription_arn: str | None = None,
    message_id: str | None = None,
    subject: str | None = None,
    attributes: dict | None = None,
    signature_version: str = "1",
) -> None:
    """A standard topic's Notification as AWS documents it ("HTTP/HTTPS notification JSON format")."""
    expected_keys = [
        k
        for k in NOTIFICATION_FIELDS
        if not (k == "Subject" and subject is None) and not (k == "MessageAttributes" and not attributes)
    ]
    assert list(env) == expected_keys, f"envelope fields {list(env)} != {expected_keys}"
    assert env["Type"] == "Notification"
    if message_id is not None:
        assert env["MessageId"] == message_id
    assert env["TopicArn"] == topic_arn
    assert env["Message"] == message
    if subject is not None:
        assert env["Subject"] == subject
    assert ISO8601_MS.match(env["Timestamp"]), env["Timestamp"]
    assert abs(iso_to_epoch(env["Timestamp"]) - time.time()) < 120
    assert env["SignatureVersion"] == signature_version
    base64.b64decode(env["Signature"], validate=True)
    assert env["SigningCertURL"] == f"{endpoint}/_eddy/sns/SimpleNotificationService-eddy.pem"
    assert_unsubscribe_url(env["UnsubscribeURL"], endpoint, subscription_arn)
    if attributes:
        assert env["MessageAttributes"] == attributes


def assert_unsubscribe_url(url: str, endpoint: str, subscription_arn: str | None) -> None:
    # AWS-recorded: the ARN is not percent-encoded ("/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:…")
    if subscription_arn is not None:
        assert url == f"{endpoint}/?Action=Unsubscribe&SubscriptionArn={subscription_arn}", url
    parts = urllib.parse.urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == endpoint, url
    q = dict(urllib.parse.parse_qsl(parts.query))
    assert q.get("Action") == "Unsubscribe", url
    if subscription_arn is not None:
        assert q.get("SubscriptionArn") == subscription_arn, url
    else:
        assert q.get("SubscriptionArn", "").startswith("arn:aws:sns:"), url


def sns_attributes_json(attrs: dict) -> dict:
    """Publish MessageAttributes as they appear in a notification's MessageAttributes."""
    out = {}
    for name, a in attrs.items():
        if "BinaryValue" in a:
            value = base64.b64encode(bytes(a["BinaryValue"])).decode()
        else:
            value = a["StringValue"]
        out[name] = {"Type": a["DataType"], "Value": value}
    return out


# --------------------------------------------------------------------------- signatures

_SIGNED_NOTIFICATION = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
_SIGNED_CONFIRMATION = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]


def string_to_sign(env: dict) -> bytes:
    """ "Verifying the signatures of Amazon SNS messages": name, newline, value, newline for each
    field of the message type, in byte order; Subject only when present."""
    names = _SIGNED_NOTIFICATION if env["Type"] == "Notification" else _SIGNED_CONFIRMATION
    out = []
    for name in names:
        if name in env:
            out.append(f"{name}\n{env[name]}\n")
    return "".join(out).encode("utf-8")


def verify_signature(env: dict) -> None:
    """Fetches SigningCertURL and checks Signature (RSA PKCS#1 v1.5; SHA1 for version 1, SHA256 for 2)."""
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    r = requests.get(env["SigningCertURL"], timeout=10)
    assert r.status_code == 200, f"GET SigningCertURL: HTTP {r.status_code}"
    cert = x509.load_pem_x509_certificate(r.content)
    algorithm = {"1": hashes.SHA1(), "2": hashes.SHA256()}[env["SignatureVersion"]]
    signature = base64.b64decode(env["Signature"])
    try:
        cert.public_key().verify(signature, string_to_sign(env), padding.PKCS1v15(), algorithm)
    except InvalidSignature:
        raise AssertionError(f"signature does not verify for {env['Type']} {env['MessageId']}") from None


# --------------------------------------------------------------------------- HTTP subscriber


class HttpSink:
    """A local HTTP endpoint for http subscriptions: records every request; answers each
    Notification POST with the next status of `notification_statuses` (200 once it is empty),
    every other request with 200."""

    def __init__(self):
        self.requests: list[dict] = []
        self.notification_statuses: list[int] = []
        self._cond = threading.Condition()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    doc = json.loads(body)
                except ValueError:
                    doc = None
                status = 200
                with sink._cond:
                    if headers.get("x-amz-sns-message-type") == "Notification" and sink.notification_statuses:
                        status = sink.notification_statuses.pop(0)
                    sink.requests.append(
                        {
                            "method": self.command,
                            "path": self.path,
                            "headers": headers,
                            "body": body,
                            "json": doc,
                            "status": status,
                            "time": time.monotonic(),
                        }
                    )
                    sink._cond.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_POST = _handle
            do_GET = _handle

            def log_message(self, *args):  # keep pytest output clean
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/sns") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def wait_for(self, predicate, n: int = 1, timeout: float = 10.0) -> list[dict]:
        """Waits until at least n recorded requests satisfy predicate; returns them."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [r for r in self.requests if predicate(r)]
                remaining = deadline - time.monotonic()
                if len(found) >= n or remaining <= 0:
                    break
                self._cond.wait(remaining)
        assert len(found) >= n, (
            f"expected {n} matching request(s) within {timeout}s, got {len(found)}; all requests: "
            f"{[(r['headers'].get('x-amz-sns-message-type'), r['body'][:120]) for r in self.requests]}"
        )
        return found

    def of_type(self, message_type: str, path: str | None = None) -> list[dict]:
        with self._cond:
            return [
                r
                for r in self.requests
                if r["headers"].get("x-amz-sns-message-type") == message_type and (path is None or r["path"] == path)
            ]

    def wait_type(self, message_type: str, n: int = 1, path: str | None = None, timeout: float = 10.0) -> list[dict]:
        return self.wait_for(
            lambda r: r["headers"].get("x-amz-sns-message-type") == message_type
            and (path is None or r["path"] == path),
            n=n,
            timeout=timeout,
        )

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def confirm_http(sns, sink: HttpSink, topic_arn: str, path: str, timeout: float = 10.0) -> str:
    """Waits for the SubscriptionConfirmation POSTed to `path` and confirms it with its Token."""
    conf = sink.wait_type("SubscriptionConfirmation", path=path, timeout=timeout)[-1]["json"]
    return sns.confirm_subscription(TopicArn=topic_arn, Token=conf["Token"])["SubscriptionArn"]


def reset_client(*clients) -> None:
    """Drops pooled keep-alive connections (they point at a process that was killed)."""
    for c in clients:
        try:
            c._endpoint.http_session.close()
        except Exception:
            pass


def skip_unless_param(client, operation: str, param: str) -> None:
    shape = client.meta.service_model.operation_model(operation).input_shape
    if param not in shape.members:
        pytest.skip(f"this botocore's {operation} has no {param} parameter")
