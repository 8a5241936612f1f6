"""Visibility timeout, ChangeMessageVisibility, DelaySeconds, retention."""

import time

import pytest

from sqs_helpers import (
    INVALID_PARAMETER_VALUE,
    RECEIPT_HANDLE_INVALID,
    counts,
    expect_error,
    receive,
    sys_attr_kwargs,
    wait_until,
)


def _count(m):
    return int(m["Attributes"]["ApproximateReceiveCount"])


# ----------------------------------------------------------------- visibility timeout


def test_message_hidden_then_reappears(sqs, queue):
    sqs.send_message(QueueUrl=queue, MessageBody="vis")
    first = receive(sqs, queue, WaitTimeSeconds=2, VisibilityTimeout=2, **sys_attr_kwargs(sqs, ["All"]))
    assert len(first) == 1 and _count(first[0]) == 1
    t0 = time.monotonic()
    assert receive(sqs, queue) == []
    assert counts(sqs, queue)[:2] == (0, 1)
    again = receive(sqs, queue, WaitTimeSeconds=5, **sys_attr_kwargs(sqs, ["All"]))
    waited = time.monotonic() - t0
    assert len(again) == 1
    assert again[0]["MessageId"] == first[0]["MessageId"]
    assert _count(again[0]) == 2
    assert again[0]["ReceiptHandle"] != first[0]["ReceiptHandle"]
    assert 1.0 <= waited <= 4.5, f"message reappeared after {waited:.2f}s, expected ~2s"


def test_queue_visibility_timeout_is_the_default(sqs, create_queue):
    url = create_queue(attributes={"VisibilityTimeout": "1"})
    sqs.send_message(QueueUrl=url, MessageBody="q-default")
    assert len(receive(sqs, url, WaitTimeSeconds=2)) == 1
    assert receive(sqs, url) == []
    time.sleep(1.5)
    assert len(receive(sqs, url, WaitTimeSeconds=1)) == 1


def test_receive_visibility_timeout_overrides_queue(sqs, create_queue):
    url = create_queue(attributes={"VisibilityTimeout": "1"})
    sqs.send_message(QueueUrl=url, MessageBody="override")
    assert len(receive(sqs, url, WaitTimeSeconds=2, VisibilityTimeout=10)) == 1
    time.sleep(1.8)
    assert receive(sqs, url) == []


def test_visibility_timeout_zero_on_receive(sqs, queue):
    sqs.send_message(QueueUrl=queue, MessageBody="zero")
    assert len(receive(sqs, queue, WaitTimeSeconds=2, VisibilityTimeout=0)) == 1
    assert len(receive(sqs, queue, VisibilityTimeout=0)) == 1


def test_delete_after_visibility_expired_standard(sqs, create_queue):
    # AWS-recorded: on a standard queue the latest handle still deletes after the timeout expired.
    url = create_queue(attributes={"VisibilityTimeout": "1"})
    sqs.send_message(QueueUrl=url, MessageBody="late delete")
    handle = receive(sqs, url, WaitTimeSeconds=2)[0]["ReceiptHandle"]
    time.sleep(1.5)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=handle)
    assert receive(sqs, url, WaitTimeSeconds=1) == []


# ----------------------------------------------------------------- ChangeMessageVisibility


def test_change_visibility_extends(sqs, queue):
    sqs.send_message(QueueUrl=queue, MessageBody="extend")
    handle = receive(sqs, queue, WaitTimeSeconds=2, VisibilityTimeout=1)[0]["ReceiptHandle"]
    sqs.change_message_visibility(QueueUrl=queue, ReceiptHandle=handle, VisibilityTimeout=4)
    time.sleep(1.6)
    assert receive(sqs, queue) == [], "message reappeared although its visibility was extended"
    # the handle is still valid for delete
    sqs.delete_message(QueueUrl=queue, ReceiptHandle=handle)
    time.sleep(3)
    assert receive(sqs, queue, WaitTimeSeconds=1) == []


def test_change_visibility_counts_from_the_call(sqs, queue):
    # "the 10 seconds begin to count from the time that you make the ChangeMessageVisibility call"
    sqs.send_message(QueueUrl=queue, MessageBody="from now")
    handle = receive(sqs, queue, WaitTimeSeconds=2, VisibilityTimeout=30)[0]["ReceiptHandle"]
    t0 = time.monotonic()
    sqs.change_message_visibility(QueueUrl=queue, ReceiptHandle=handle, VisibilityTimeout=2)
    assert receive(sqs, queue) == []
    msgs = receive(sqs, queue, WaitTimeSeconds=6)
    waited = time.monotonic() - t0
    assert len(msgs) == 1
    assert 1.0 <= waited <= 4.5, waited


def test_change_visibility_to_zero_makes_visible_at_once(sqs, queue):
    sqs.send_message(QueueUrl=queue, MessageBody="now")
    first = receive(sqs, queue, WaitTimeSeconds=2, VisibilityTimeout=60)[0]
    assert receive(sqs, queue) == []
    sqs.change_message_visibility(QueueUrl=queue, ReceiptHandle=first["ReceiptHandle"], VisibilityTimeout=0)
    again = receive(sqs, queue, **sys_attr_kwargs(sqs, ["ApproximateReceiveCount"]))
    assert len(again) == 1 and again[0]["MessageId"] == first["MessageId"]
    assert again[0]["Attributes"]["ApproximateReceiveCount"] == "2"


def test_changed_visibility_not_remembered_for_next_receive(sqs, create_queue):
    # "the visibility timeout for the message reverts to the original timeout value ... the next time
    # the message is received"
    url = create_queue(attributes={"VisibilityTimeout": "1"})
    sqs.send_message(QueueUrl=url, MessageBody="revert")
    h = receive(sqs, url, WaitTimeSeconds=2)[0]["ReceiptHandle"]
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=h, VisibilityTimeout=0)
    assert len(receive(sqs, url, WaitTimeSeconds=2)) == 1  # hidden again for the queue's 1 s
    assert receive(sqs, url) == []
    time.sleep(1.5)
    assert len(receive(sqs, url, WaitTimeSeconds=1)) == 1


def test_change_visibility_after_timeout_expired(sqs, queue):
    # AWS-recorded (LocalStack snapshot test_change_message_visibility_after_visibility_timeout_expiration):
    # the call on a message whose timeout expired (not received again) answers 200 and changes nothing.
    sqs.send_message(QueueUrl=queue, MessageBody="expired")
    handle = receive(sqs, queue, WaitTimeSeconds=2, VisibilityTimeout=1)[0]["ReceiptHandle"]
    time.sleep(1.6)
    resp = sqs.change_message_visibility(QueueUrl=queue, ReceiptHandle=handle, VisibilityTimeout=30)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert len(receive(sqs, queue, WaitTimeSeconds=1)) == 1, "a stale handle must not hide the message again"


def test_change_visibility_of_deleted_message(sqs, queue):
    # AWS-recorded: InvalidParameterValue "... Message does not exist or is not available for visibility
    # timeout change."
    sqs.send_message(QueueUrl=queue, MessageBody="gone")
    handle = receive(sqs, queue, WaitTimeSeconds=2)[0]["ReceiptHandle"]
    sqs.change_message_visibility(QueueUrl=queue, ReceiptHandle=handle, VisibilityTimeout=42)
    sqs.delete_message(QueueUrl=queue, ReceiptHandle=handle)
    expect_error(
        sqs.change_message_visibility,
        INVALID_PARAMETER_VALUE,
        400,
        QueueUrl=queue,
        ReceiptHandle=handle,
        VisibilityTimeout=42,
    )


def test_change_visibility_garbage_handle(sqs, queue):
    expect_error(
        sqs.change_message_visibility,
        RECEIPT_HANDLE_INVALID,
        404,
        QueueUrl=queue,
        ReceiptHandle="INVALID",
        VisibilityTimeout=60,
    )


def test_not_visible_count(sqs, queue):
    for i in range(3):
        sqs.send_message(QueueUrl=queue, MessageBody=f"m{i}")
    got = []
    deadline = time.monotonic() + 5
    while len(got) < 2 and time.monotonic() < deadline:
        got += receive(sqs, queue, MaxNumberOfMessages=2 - len(got), VisibilityTimeout=30, WaitTimeSeconds=1)
    assert len(got) == 2
    wait_until(lambda: counts(sqs, queue)[:2] == (1, 2), timeout=3, what="1 visible / 2 not visible")
    sqs.change_message_visibility(QueueUrl=queue, ReceiptHandle=got[0]["ReceiptHandle"], VisibilityTimeout=0)
    wait_until(lambda: counts(sqs, queue)[:2] == (2, 1), timeout=3, what="2 visible / 1 not visible")


# ----------------------------------------------------------------- delays


def test_queue_delay_seconds(sqs, create_queue):
    url = create_queue(attributes={"DelaySeconds": "2"})
    t0 = time.monotonic()
    sqs.send_message(QueueUrl=url, MessageBody="delayed by queue")
    assert receive(sqs, url) == []
    assert counts(sqs, url) == (0, 0, 1)
    msgs = receive(sqs, url, WaitTimeSeconds=5)
    waited = time.monotonic() - t0
    assert [m["Body"] for m in msgs] == ["delayed by queue"]
    assert 1.5 <= waited <= 4.5, waited


def test_message_delay_seconds(sqs, queue):
    t0 = time.monotonic()
    sqs.send_message(QueueUrl=queue, MessageBody="delayed", DelaySeconds=2)
    sqs.send_message(QueueUrl=queue, MessageBody="now")
    first = receive(sqs, queue, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    assert [m["Body"] for m in first] == ["now"]
    assert counts(sqs, queue)[2] == 1
    later = receive(sqs, queue, WaitTimeSeconds=5)
    waited = time.monotonic() - t0
    assert [m["Body"] for m in later] == ["delayed"]
    assert 1.5 <= waited <= 4.5, waited


def test_message_delay_overrides_queue_delay(sqs, create_queue):
    url = create_queue(attributes={"DelaySeconds": "60"})
    sqs.send_message(QueueUrl=url, MessageBody="short", DelaySeconds=1)
    msgs = receive(sqs, url, WaitTimeSeconds=4)
    assert [m["Body"] for m in msgs] == ["short"]


def test_batch_entry_delay_seconds(sqs, queue):
    sqs.send_message_batch(
        QueueUrl=queue,
        Entries=[
            {"Id": "late", "MessageBody": "late", "DelaySeconds": 2},
            {"Id": "now", "MessageBody": "now"},
        ],
    )
    assert [m["Body"] for m in receive(sqs, queue, MaxNumberOfMessages=10, WaitTimeSeconds=1)] == ["now"]
    assert [m["Body"] for m in receive(sqs, queue, WaitTimeSeconds=5)] == ["late"]


def test_message_delay_out_of_range(sqs, queue):
    expect_error(sqs.send_message, INVALID_PARAMETER_VALUE, 400, QueueUrl=queue, MessageBody="x", DelaySeconds=901)


# ----------------------------------------------------------------- retention


@pytest.mark.slow
def test_retention_period_expires_messages(sqs, create_queue):
    # MessageRetentionPeriod minimum is 60 s: this test waits ~62 s.
    url = create_queue(attributes={"MessageRetentionPeriod": "60"})
    sqs.send_message(QueueUrl=url, MessageBody="short-lived")
    sqs.send_message(QueueUrl=url, MessageBody="in-flight short-lived")
    got = receive(sqs, url, WaitTimeSeconds=2, VisibilityTimeout=120)
    assert len(got) == 1
    time.sleep(30)
    assert counts(sqs, url)[:2] == (1, 1)  # still there at half-life
    time.sleep(32)
    wait_until(lambda: counts(sqs, url)[:2] == (0, 0), timeout=10, what="retention expiry")
    assert receive(sqs, url, WaitTimeSeconds=1) == []
