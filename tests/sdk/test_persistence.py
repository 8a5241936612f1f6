"""Durability: state acknowledged before a restart (kill -9 by default) is there afterwards."""

import json
import time

import pytest

from conftest import unique_name
from sqs_helpers import (
    NON_EXISTENT_QUEUE,
    counts,
    expect_error,
    get_arn,
    get_attrs,
    receive,
    sys_attr_kwargs,
    wait_until,
)

pytestmark = pytest.mark.restart


def test_queues_attributes_tags_survive_kill(sqs, sqs_factory, create_queue, restart_server):
    name = unique_name("persist")
    dlq = create_queue(name=unique_name("pdlq"))
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "s", "Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage", "Resource": "*"}],
    }
    attrs = {
        "VisibilityTimeout": "45",
        "DelaySeconds": "3",
        "MessageRetentionPeriod": "7200",
        "ReceiveMessageWaitTimeSeconds": "4",
        "MaximumMessageSize": "2048",
        "Policy": json.dumps(policy),
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": get_arn(sqs, dlq), "maxReceiveCount": 3}),
    }
    url = create_queue(name=name, attributes=attrs, tags={"team": "core", "env": "test"})
    fifo = create_queue(fifo=True, attributes={"ContentBasedDeduplication": "true", "DeduplicationScope": "messageGroup"})
    other_account = sqs_factory(account_key="111122223333")
    other_url = create_queue(name=name, client=other_account)
    before = get_attrs(sqs, url)
    fifo_before = get_attrs(sqs, fifo)

    restart_server(hard=True)

    c = sqs_factory()
    assert c.get_queue_url(QueueName=name)["QueueUrl"] == url
    after = get_attrs(c, url)
    for key in ("VisibilityTimeout", "DelaySeconds", "MessageRetentionPeriod", "ReceiveMessageWaitTimeSeconds",
                "MaximumMessageSize", "QueueArn", "CreatedTimestamp", "LastModifiedTimestamp"):
        assert after[key] == before[key], key
    assert json.loads(after["Policy"]) == policy
    assert json.loads(after["RedrivePolicy"]) == json.loads(before["RedrivePolicy"])
    assert c.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "core", "env": "test"}
    assert url in c.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"]
    fifo_after = get_attrs(c, fifo)
    for key in ("FifoQueue", "ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"):
        assert fifo_after[key] == fifo_before[key], key
    o = sqs_factory(account_key="111122223333")
    assert o.get_queue_url(QueueName=name)["QueueUrl"] == other_url


def test_messages_survive_kill(sqs, sqs_factory, create_queue, restart_server):
    url = create_queue()
    attrs = {"color": {"DataType": "String", "StringValue": "blue"}, "bin": {"DataType": "Binary", "BinaryValue": b"\x00\xff"}}
    sent = {}
    for i in range(25):
        body = f"msg-{i} \r\n ✓"
        r = sqs.send_message(QueueUrl=url, MessageBody=body, MessageAttributes=attrs)
        sent[r["MessageId"]] = body
    batch = sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"b{i}"} for i in range(10)])
    for e in batch["Successful"]:
        sent[e["MessageId"]] = f"b{e['Id']}"

    restart_server(hard=True)

    c = sqs_factory()
    assert counts(c, url)[0] == 35
    got = {}
    deadline = time.monotonic() + 15
    while len(got) < 35 and time.monotonic() < deadline:
        for m in receive(c, url, MaxNumberOfMessages=10, WaitTimeSeconds=1, MessageAttributeNames=["All"]):
            assert m["MessageId"] not in got, "duplicate delivery after restart"
            got[m["MessageId"]] = m
    assert {k: m["Body"] for k, m in got.items()} == sent
    for m in got.values():
        if m["Body"].startswith("msg-"):
            assert m["MessageAttributes"] == attrs


def test_receive_count_and_in_flight_state_survive_kill(sqs, sqs_factory, create_queue, restart_server):
    counted = create_queue()
    sqs.send_message(QueueUrl=counted, MessageBody="counted")
    for _ in range(2):
        assert len(receive(sqs, counted, WaitTimeSeconds=2, VisibilityTimeout=0)) == 1
    flying = create_queue()
    sqs.send_message(QueueUrl=flying, MessageBody="in flight")
    inflight = receive(sqs, flying, WaitTimeSeconds=2, VisibilityTimeout=60)[0]

    restart_server(hard=True)

    c = sqs_factory()
    m = receive(c, counted, WaitTimeSeconds=2, VisibilityTimeout=0, **sys_attr_kwargs(c, ["All"]))
    assert [x["Body"] for x in m] == ["counted"]
    assert m[0]["Attributes"]["ApproximateReceiveCount"] == "3"

    assert counts(c, flying)[:2] == (0, 1)
    assert receive(c, flying, WaitTimeSeconds=1) == [], "in-flight message became visible after a restart"
    # the receipt handle issued before the restart still works
    c.change_message_visibility(QueueUrl=flying, ReceiptHandle=inflight["ReceiptHandle"], VisibilityTimeout=0)
    got = receive(c, flying, WaitTimeSeconds=2, **sys_attr_kwargs(c, ["ApproximateReceiveCount"]))
    assert [x["Body"] for x in got] == ["in flight"]
    assert got[0]["Attributes"]["ApproximateReceiveCount"] == "2"


def test_deleted_messages_and_queues_stay_deleted(sqs, sqs_factory, create_queue, restart_server):
    url = create_queue()
    for i in range(5):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{i}")
    msgs = []
    deadline = time.monotonic() + 5
    while len(msgs) < 3 and time.monotonic() < deadline:
        msgs += receive(sqs, url, MaxNumberOfMessages=3 - len(msgs), WaitTimeSeconds=1)
    for m in msgs:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    deleted = {m["Body"] for m in msgs}
    doomed_name = unique_name("doomed")
    doomed = create_queue(name=doomed_name)
    sqs.delete_queue(QueueUrl=doomed)

    restart_server(hard=True)

    c = sqs_factory()
    remaining = []
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        got = receive(c, url, MaxNumberOfMessages=10, WaitTimeSeconds=1, VisibilityTimeout=30)
        if not got:
            break
        remaining += [m["Body"] for m in got]
    assert len(remaining) == 2
    assert not (set(remaining) & deleted)
    expect_error(c.get_queue_url, NON_EXISTENT_QUEUE, 400, QueueName=doomed_name)


def test_delayed_message_survives_kill(sqs, sqs_factory, queue, restart_server):
    sqs.send_message(QueueUrl=queue, MessageBody="later", DelaySeconds=4)
    t0 = time.monotonic()
    restart_server(hard=True)
    c = sqs_factory()
    if time.monotonic() - t0 < 3.5:
        assert receive(c, queue) == [], "delay was lost in the restart"
    got = receive(c, queue, WaitTimeSeconds=8)
    assert [m["Body"] for m in got] == ["later"]


def test_fifo_state_survives_kill(sqs, sqs_factory, create_queue, restart_server):
    url = create_queue(fifo=True)
    first = sqs.send_message(QueueUrl=url, MessageBody="a0", MessageGroupId="A", MessageDeduplicationId="dA0")
    sqs.send_message(QueueUrl=url, MessageBody="a1", MessageGroupId="A", MessageDeduplicationId="dA1")
    last = sqs.send_message(QueueUrl=url, MessageBody="b0", MessageGroupId="B", MessageDeduplicationId="dB0")
    held = receive(sqs, url, MaxNumberOfMessages=1, WaitTimeSeconds=2, VisibilityTimeout=60)
    assert [m["Body"] for m in held] == ["a0"]

    restart_server(hard=True)

    c = sqs_factory()
    # dedup window survives
    again = c.send_message(QueueUrl=url, MessageBody="dup", MessageGroupId="A", MessageDeduplicationId="dA0")
    assert again["MessageId"] == first["MessageId"]
    # sequence numbers keep increasing
    new = c.send_message(QueueUrl=url, MessageBody="b1", MessageGroupId="B", MessageDeduplicationId="dB1")
    assert int(new["SequenceNumber"]) > int(last["SequenceNumber"])
    # group A is still locked by the in-flight a0; B flows in order
    got = []
    deadline = time.monotonic() + 5
    while len(got) < 2 and time.monotonic() < deadline:
        msgs = receive(c, url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        got += [m["Body"] for m in msgs]
        for m in msgs:
            c.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    assert got == ["b0", "b1"]
    c.delete_message(QueueUrl=url, ReceiptHandle=held[0]["ReceiptHandle"])
    assert [m["Body"] for m in receive(c, url, MaxNumberOfMessages=10, WaitTimeSeconds=2)] == ["a1"]


def test_graceful_restart_keeps_everything(sqs, sqs_factory, create_queue, restart_server):
    url = create_queue(attributes={"VisibilityTimeout": "7"}, tags={"k": "v"})
    ids = {sqs.send_message(QueueUrl=url, MessageBody=f"g{i}")["MessageId"] for i in range(5)}
    restart_server(hard=False)
    c = sqs_factory()
    assert get_attrs(c, url, "VisibilityTimeout")["VisibilityTimeout"] == "7"
    assert c.list_queue_tags(QueueUrl=url)["Tags"] == {"k": "v"}
    got = set()
    deadline = time.monotonic() + 5
    while len(got) < 5 and time.monotonic() < deadline:
        got |= {m["MessageId"] for m in receive(c, url, MaxNumberOfMessages=10, WaitTimeSeconds=1)}
    assert got == ids


def test_purge_survives_kill(sqs, sqs_factory, queue, restart_server):
    for i in range(3):
        sqs.send_message(QueueUrl=queue, MessageBody=f"p{i}")
    sqs.purge_queue(QueueUrl=queue)
    wait_until(lambda: counts(sqs, queue)[0] == 0, timeout=5, what="purge")
    restart_server(hard=True)
    c = sqs_factory()
    assert counts(c, queue)[:2] == (0, 0)
    assert receive(c, queue, WaitTimeSeconds=1) == []


def test_two_restarts_in_a_row(sqs, sqs_factory, queue, restart_server):
    sqs.send_message(QueueUrl=queue, MessageBody="twice")
    restart_server(hard=True)
    restart_server(hard=True)
    c = sqs_factory()
    assert [m["Body"] for m in receive(c, queue, WaitTimeSeconds=2)] == ["twice"]
