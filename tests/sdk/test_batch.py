"""SendMessageBatch, DeleteMessageBatch, ChangeMessageVisibilityBatch."""

import time

import pytest

from sqs_helpers import (
    BATCH_TOO_LONG,
    EMPTY_BATCH,
    IDS_NOT_DISTINCT,
    INVALID_BATCH_ENTRY_ID,
    INVALID_MESSAGE_CONTENTS,
    INVALID_PARAMETER_VALUE,
    MIB,
    RECEIPT_HANDLE_INVALID,
    TOO_MANY_ENTRIES,
    counts,
    expect_error,
    md5_hex,
    md5_of_attributes,
    receive,
    receive_n,
    wait_until,
)


def _entries(n, prefix="m"):
    return [{"Id": f"id{i}", "MessageBody": f"{prefix}{i}"} for i in range(n)]


def _receive_all(sqs, url, n, **kw):
    msgs = receive_n(sqs, url, n, timeout=8, VisibilityTimeout=30, **kw)
    assert len(msgs) == n, f"expected {n} messages, got {len(msgs)}"
    return msgs


# ----------------------------------------------------------------- SendMessageBatch


def test_send_batch(sqs, queue):
    attrs = {"color": {"DataType": "String", "StringValue": "blue"}}
    entries = _entries(3)
    entries[1]["MessageAttributes"] = attrs
    resp = sqs.send_message_batch(QueueUrl=queue, Entries=entries)
    assert not resp.get("Failed")
    ok = {e["Id"]: e for e in resp["Successful"]}
    assert set(ok) == {"id0", "id1", "id2"}
    for i in range(3):
        assert ok[f"id{i}"]["MD5OfMessageBody"] == md5_hex(f"m{i}")
        assert ok[f"id{i}"]["MessageId"]
    assert ok["id1"]["MD5OfMessageAttributes"] == md5_of_attributes(attrs)
    assert "MD5OfMessageAttributes" not in ok["id0"]
    ids = {e["MessageId"] for e in resp["Successful"]}
    assert len(ids) == 3
    got = _receive_all(sqs, queue, 3, MessageAttributeNames=["All"])
    assert {m["MessageId"] for m in got} == ids
    by_body = {m["Body"]: m for m in got}
    assert by_body["m1"]["MessageAttributes"] == attrs
    assert "MessageAttributes" not in by_body["m0"]


def test_send_batch_ten_entries(sqs, queue):
    resp = sqs.send_message_batch(QueueUrl=queue, Entries=_entries(10))
    assert len(resp["Successful"]) == 10 and not resp.get("Failed")
    wait_until(lambda: counts(sqs, queue)[0] == 10, timeout=3, what="10 messages")


def test_send_batch_partial_failure_invalid_characters(sqs, queue):
    entries = _entries(9)
    entries.append({"Id": "bad", "MessageBody": "\x01"})
    resp = sqs.send_message_batch(QueueUrl=queue, Entries=entries)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert len(resp["Successful"]) == 9
    assert len(resp["Failed"]) == 1
    failed = resp["Failed"][0]
    assert failed["Id"] == "bad"
    assert failed["Code"] == INVALID_MESSAGE_CONTENTS
    assert failed["SenderFault"] is True
    got = _receive_all(sqs, queue, 9)
    assert sorted(m["Body"] for m in got) == sorted(f"m{i}" for i in range(9))


def test_send_batch_partial_failure_too_big_for_queue(sqs, create_queue):
    url = create_queue(attributes={"MaximumMessageSize": "1024"})
    resp = sqs.send_message_batch(
        QueueUrl=url,
        Entries=[{"Id": "small", "MessageBody": "ok"}, {"Id": "big", "MessageBody": "a" * 1025}],
    )
    assert [e["Id"] for e in resp["Successful"]] == ["small"]
    assert len(resp["Failed"]) == 1
    f = resp["Failed"][0]
    assert f["Id"] == "big" and f["Code"] == INVALID_PARAMETER_VALUE and f["SenderFault"] is True
    # AWS-recorded wording for a batch entry (SendMessage says "are invalid").
    assert f["Message"] == "One or more parameters cannot be validated. Reason: Message must be shorter than 1024 bytes."


def test_send_batch_empty(sqs, queue):
    expect_error(sqs.send_message_batch, EMPTY_BATCH, 400, QueueUrl=queue, Entries=[])


def test_send_batch_too_many(sqs, queue):
    expect_error(sqs.send_message_batch, TOO_MANY_ENTRIES, 400, QueueUrl=queue, Entries=_entries(11))
    assert counts(sqs, queue)[0] == 0


def test_send_batch_ids_not_distinct(sqs, queue):
    entries = [{"Id": "same", "MessageBody": "a"}, {"Id": "same", "MessageBody": "b"}]
    expect_error(sqs.send_message_batch, IDS_NOT_DISTINCT, 400, QueueUrl=queue, Entries=entries)
    assert counts(sqs, queue)[0] == 0


@pytest.mark.parametrize("bad_id", ["", "invalid:id", "sp ace", "x" * 81])
def test_send_batch_invalid_entry_id(sqs, queue, bad_id):
    expect_error(
        sqs.send_message_batch, INVALID_BATCH_ENTRY_ID, 400, QueueUrl=queue, Entries=[{"Id": bad_id, "MessageBody": "a"}]
    )


def test_send_batch_valid_entry_id_chars(sqs, queue):
    good = "Az09_-" + "x" * 74  # 80 characters
    resp = sqs.send_message_batch(QueueUrl=queue, Entries=[{"Id": good, "MessageBody": "a"}])
    assert resp["Successful"][0]["Id"] == good


def test_send_batch_total_too_long(sqs, queue):
    # total payload of a batch is limited to 1 MiB
    entries = [{"Id": "a", "MessageBody": "a" * (MIB // 2)}, {"Id": "b", "MessageBody": "b" * (MIB // 2 + 1)}]
    expect_error(sqs.send_message_batch, BATCH_TOO_LONG, 400, QueueUrl=queue, Entries=entries)
    assert counts(sqs, queue)[0] == 0


# ----------------------------------------------------------------- DeleteMessageBatch


def test_delete_batch(sqs, queue):
    sqs.send_message_batch(QueueUrl=queue, Entries=_entries(5))
    got = _receive_all(sqs, queue, 5)
    resp = sqs.delete_message_batch(
        QueueUrl=queue, Entries=[{"Id": f"d{i}", "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)]
    )
    assert sorted(e["Id"] for e in resp["Successful"]) == [f"d{i}" for i in range(5)]
    assert not resp.get("Failed")
    wait_until(lambda: counts(sqs, queue)[:2] == (0, 0), timeout=3, what="empty queue")


def test_delete_batch_partial_failure(sqs, queue):
    sqs.send_message_batch(QueueUrl=queue, Entries=_entries(2))
    got = _receive_all(sqs, queue, 2)
    resp = sqs.delete_message_batch(
        QueueUrl=queue,
        Entries=[
            {"Id": "ok0", "ReceiptHandle": got[0]["ReceiptHandle"]},
            {"Id": "bad", "ReceiptHandle": "garbage"},
            {"Id": "ok1", "ReceiptHandle": got[1]["ReceiptHandle"]},
        ],
    )
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert sorted(e["Id"] for e in resp["Successful"]) == ["ok0", "ok1"]
    assert len(resp["Failed"]) == 1
    f = resp["Failed"][0]
    assert f["Id"] == "bad"
    assert f["Code"] == RECEIPT_HANDLE_INVALID
    assert f["SenderFault"] is True
    wait_until(lambda: counts(sqs, queue)[:2] == (0, 0), timeout=3, what="both deleted")


def test_delete_batch_errors(sqs, queue):
    expect_error(sqs.delete_message_batch, EMPTY_BATCH, 400, QueueUrl=queue, Entries=[])
    expect_error(
        sqs.delete_message_batch,
        TOO_MANY_ENTRIES,
        400,
        QueueUrl=queue,
        Entries=[{"Id": str(i), "ReceiptHandle": "h"} for i in range(11)],
    )
    expect_error(
        sqs.delete_message_batch,
        IDS_NOT_DISTINCT,
        400,
        QueueUrl=queue,
        Entries=[{"Id": "x", "ReceiptHandle": "h1"}, {"Id": "x", "ReceiptHandle": "h2"}],
    )
    for bad in ("", "invalid:id", "x" * 81):
        expect_error(
            sqs.delete_message_batch,
            INVALID_BATCH_ENTRY_ID,
            400,
            QueueUrl=queue,
            Entries=[{"Id": bad, "ReceiptHandle": "h"}],
        )


# ----------------------------------------------------------------- ChangeMessageVisibilityBatch


def test_change_visibility_batch(sqs, queue):
    sqs.send_message_batch(QueueUrl=queue, Entries=_entries(3))
    got = _receive_all(sqs, queue, 3)
    release, keep = got[0], got[1:]
    resp = sqs.change_message_visibility_batch(
        QueueUrl=queue,
        Entries=[{"Id": "rel", "ReceiptHandle": release["ReceiptHandle"], "VisibilityTimeout": 0}]
        + [{"Id": f"k{i}", "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 60} for i, m in enumerate(keep)],
    )
    assert sorted(e["Id"] for e in resp["Successful"]) == ["k0", "k1", "rel"]
    assert not resp.get("Failed")
    again = receive(sqs, queue, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    assert [m["MessageId"] for m in again] == [release["MessageId"]]


def test_change_visibility_batch_partial_failure(sqs, queue):
    sqs.send_message(QueueUrl=queue, MessageBody="x")
    m = _receive_all(sqs, queue, 1)[0]
    resp = sqs.change_message_visibility_batch(
        QueueUrl=queue,
        Entries=[
            {"Id": "good", "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0},
            {"Id": "bad", "ReceiptHandle": "garbage", "VisibilityTimeout": 0},
        ],
    )
    assert [e["Id"] for e in resp["Successful"]] == ["good"]
    assert len(resp["Failed"]) == 1
    f = resp["Failed"][0]
    assert f["Id"] == "bad" and f["Code"] == RECEIPT_HANDLE_INVALID and f["SenderFault"] is True
    assert len(receive(sqs, queue, WaitTimeSeconds=1)) == 1


def test_change_visibility_batch_errors(sqs, queue):
    expect_error(sqs.change_message_visibility_batch, EMPTY_BATCH, 400, QueueUrl=queue, Entries=[])
    expect_error(
        sqs.change_message_visibility_batch,
        TOO_MANY_ENTRIES,
        400,
        QueueUrl=queue,
        Entries=[{"Id": str(i), "ReceiptHandle": "h", "VisibilityTimeout": 1} for i in range(20)],
    )
    expect_error(
        sqs.change_message_visibility_batch,
        IDS_NOT_DISTINCT,
        400,
        QueueUrl=queue,
        Entries=[
            {"Id": "x", "ReceiptHandle": "h1", "VisibilityTimeout": 1},
            {"Id": "x", "ReceiptHandle": "h2", "VisibilityTimeout": 1},
        ],
    )
    expect_error(
        sqs.change_message_visibility_batch,
        INVALID_BATCH_ENTRY_ID,
        400,
        QueueUrl=queue,
        Entries=[{"Id": "bad:id", "ReceiptHandle": "h", "VisibilityTimeout": 1}],
    )
