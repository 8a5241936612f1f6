"""Helpers shared by the SQS suites. Expectations come from AWS documentation:
the SQS API reference, the developer guide ("Message metadata" for the MD5
algorithm, the quotas pages) and the botocore service model."""

from __future__ import annotations

import hashlib
import struct
import time
from contextlib import contextmanager

import pytest
from botocore.exceptions import ClientError

ACCOUNT = "000000000000"
REGION = "us-east-1"

# Query error codes (the awsQuery <Code>, and what botocore reports as Error.Code
# over JSON thanks to the x-amzn-query-error header). Source: service model
# `awsQueryError` traits / the shared wire-protocol notes, section 2.2.
NON_EXISTENT_QUEUE = "AWS.SimpleQueueService.NonExistentQueue"
QUEUE_ALREADY_EXISTS = "QueueAlreadyExists"
QUEUE_DELETED_RECENTLY = "AWS.SimpleQueueService.QueueDeletedRecently"
PURGE_IN_PROGRESS = "AWS.SimpleQueueService.PurgeQueueInProgress"
MESSAGE_NOT_INFLIGHT = "AWS.SimpleQueueService.MessageNotInflight"
RECEIPT_HANDLE_INVALID = "ReceiptHandleIsInvalid"
EMPTY_BATCH = "AWS.SimpleQueueService.EmptyBatchRequest"
TOO_MANY_ENTRIES = "AWS.SimpleQueueService.TooManyEntriesInBatchRequest"
IDS_NOT_DISTINCT = "AWS.SimpleQueueService.BatchEntryIdsNotDistinct"
INVALID_BATCH_ENTRY_ID = "AWS.SimpleQueueService.InvalidBatchEntryId"
BATCH_TOO_LONG = "AWS.SimpleQueueService.BatchRequestTooLong"
INVALID_ATTRIBUTE_NAME = "InvalidAttributeName"
INVALID_ATTRIBUTE_VALUE = "InvalidAttributeValue"
INVALID_PARAMETER_VALUE = "InvalidParameterValue"
INVALID_MESSAGE_CONTENTS = "InvalidMessageContents"
MISSING_PARAMETER = "MissingParameter"
RESOURCE_NOT_FOUND = "ResourceNotFoundException"

MIB = 1024 * 1024


# --------------------------------------------------------------------------- errors


def expect_error(fn, code: str | tuple | list, status: int | tuple | None = None, **kwargs) -> ClientError:
    """Call fn(**kwargs), assert it raises a ClientError with the given Error.Code (one of, if a
    tuple/list) and HTTP status; return the error."""
    with pytest.raises(ClientError) as info:
        fn(**kwargs)
    err = info.value.response.get("Error", {})
    got_status = info.value.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    codes = (code,) if isinstance(code, str) else tuple(code)
    assert err.get("Code") in codes, f"expected error code {codes}, got {err.get('Code')!r} ({err.get('Message')!r}, HTTP {got_status})"
    if status is not None:
        statuses = (status,) if isinstance(status, int) else tuple(status)
        assert got_status in statuses, f"expected HTTP {statuses} for {err.get('Code')}, got {got_status}"
    return info.value


def expect_client_error_4xx(fn, **kwargs) -> ClientError:
    with pytest.raises(ClientError) as info:
        fn(**kwargs)
    status = info.value.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    assert status is not None and 400 <= status < 500, f"expected a 4xx, got {status}: {info.value}"
    return info.value


# --------------------------------------------------------------------------- MD5


def md5_hex(data: bytes | str) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.md5(data).hexdigest()


def md5_of_attributes(attrs: dict) -> str:
    """MD5 of message (or message system) attributes, as documented in "Calculating the MD5
    message digest for message attributes" (SQS developer guide): names sorted; for each
    name: len+name, len+DataType, transport byte (1 = string, 2 = binary), len+value;
    lengths are 4-byte big-endian."""
    out = bytearray()

    def enc(b: bytes) -> bytes:
        return struct.pack(">I", len(b)) + b

    for name in sorted(attrs, key=lambda n: n.encode("utf-8")):
        a = attrs[name]
        out += enc(name.encode("utf-8"))
        out += enc(a["DataType"].encode("utf-8"))
        if "StringValue" in a:
            out += b"\x01" + enc(a["StringValue"].encode("utf-8"))
        else:
            out += b"\x02" + enc(bytes(a["BinaryValue"]))
    return hashlib.md5(bytes(out)).hexdigest()


# --------------------------------------------------------------------------- model capabilities


def has_param(client, operation: str, param: str) -> bool:
    return param in client.meta.service_model.operation_model(operation).input_shape.members


def sys_attr_kwargs(client, names: list[str]) -> dict:
    """ReceiveMessage kwargs asking for message *system* attributes: MessageSystemAttributeNames
    when the client model has it (new botocore), else the older AttributeNames."""
    if has_param(client, "ReceiveMessage", "MessageSystemAttributeNames"):
        return {"MessageSystemAttributeNames": names}
    return {"AttributeNames": names}


# --------------------------------------------------------------------------- queue helpers


def queue_arn(name: str, account: str = ACCOUNT, region: str = REGION) -> str:
    return f"arn:aws:sqs:{region}:{account}:{name}"


def queue_name_of(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[1]


def get_attrs(sqs, url: str, *names: str) -> dict:
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=list(names) or ["All"]).get("Attributes", {})


def get_arn(sqs, url: str) -> str:
    return get_attrs(sqs, url, "QueueArn")["QueueArn"]


def counts(sqs, url: str) -> tuple[int, int, int]:
    """(visible, not visible, delayed)"""
    a = get_attrs(
        sqs,
        url,
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
    )
    return (
        int(a["ApproximateNumberOfMessages"]),
        int(a["ApproximateNumberOfMessagesNotVisible"]),
        int(a["ApproximateNumberOfMessagesDelayed"]),
    )


def wait_until(cond, timeout: float = 5.0, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = cond()
        if last:
            return last
        time.sleep(interval)
    last = cond()
    assert last, f"timed out after {timeout}s waiting for {what} (last value: {last!r})"
    return last


def receive(sqs, url: str, **kwargs) -> list[dict]:
    return sqs.receive_message(QueueUrl=url, **kwargs).get("Messages", [])


def receive_n(sqs, url: str, n: int, timeout: float = 5.0, **kwargs) -> list[dict]:
    """Receive until n messages were collected (or timeout); no delete."""
    out: list[dict] = []
    deadline = time.monotonic() + timeout
    kwargs.setdefault("MaxNumberOfMessages", 10)
    while len(out) < n and time.monotonic() < deadline:
        kw = dict(kwargs)
        kw["MaxNumberOfMessages"] = min(kw["MaxNumberOfMessages"], max(1, n - len(out)))
        kw.setdefault("WaitTimeSeconds", 1)
        out.extend(receive(sqs, url, **kw))
    return out


def drain(sqs, url: str, timeout: float = 5.0, **kwargs) -> list[dict]:
    """Receive and delete until a receive comes back empty (or timeout)."""
    out: list[dict] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msgs = receive(sqs, url, MaxNumberOfMessages=10, WaitTimeSeconds=1, **kwargs)
        if not msgs:
            break
        out.extend(msgs)
        for m in msgs:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return out


@contextmanager
def elapsed():
    t = {"start": time.monotonic()}
    yield t
    t["seconds"] = time.monotonic() - t["start"]


def capture_requests(client):
    """Record every outgoing HTTP request (botocore 'before-send' hook). Returns a list that fills up."""
    seen: list = []

    def _hook(request, **_):
        seen.append(request)
        return None

    client.meta.events.register("before-send.sqs.*", _hook)
    return seen


# --------------------------------------------------------------------------- liveness


def assert_responsive(endpoint: str, within: float = 1.0) -> None:
    """eddy answers its health check within `within` seconds (a deadlock or a stalled lock fails
    this fast instead of hanging the suite)."""
    import requests

    start = time.monotonic()
    r = requests.get(endpoint + "/_eddy/health", timeout=within)
    took = time.monotonic() - start
    assert r.status_code == 200 and took < within, f"health check: HTTP {r.status_code} after {took:.2f}s"


def mutual_dlqs(sqs, create_queue) -> tuple[str, str]:
    """Two standard queues, each the other's dead-letter queue (AWS accepts the cycle)."""
    import json as _json

    a = create_queue()
    b = create_queue(attributes={"RedrivePolicy": _json.dumps({"deadLetterTargetArn": get_arn(sqs, a), "maxReceiveCount": 1})})
    sqs.set_queue_attributes(
        QueueUrl=a, Attributes={"RedrivePolicy": _json.dumps({"deadLetterTargetArn": get_arn(sqs, b), "maxReceiveCount": 1})}
    )
    return a, b


def send_many(sqs, url: str, n: int, prefix: str = "m") -> None:
    for start in range(0, n, 10):
        sqs.send_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "MessageBody": f"{prefix}-{start + i}"} for i in range(min(10, n - start))],
        )
