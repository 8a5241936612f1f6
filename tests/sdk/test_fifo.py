"""FIFO queues and fair (standard + MessageGroupId) queues."""

import hashlib
import random
import threading
import time
import uuid

import pytest
from botocore.exceptions import ClientError

from conftest import unique_name
from sqs_helpers import (
    INVALID_ATTRIBUTE_NAME,
    INVALID_ATTRIBUTE_VALUE,
    INVALID_PARAMETER_VALUE,
    MISSING_PARAMETER,
    counts,
    expect_error,
    get_attrs,
    receive,
    sys_attr_kwargs,
    wait_until,
)


def _send(sqs, url, body, group="g1", dedup=None, **kw):
    kwargs = {"QueueUrl": url, "MessageBody": body, "MessageGroupId": group}
    kwargs["MessageDeduplicationId"] = dedup or uuid.uuid4().hex
    kwargs.update(kw)
    return sqs.send_message(**kwargs)


# ----------------------------------------------------------------- creation


def test_fifo_name_must_end_with_fifo(sqs):
    expect_error(
        sqs.create_queue, INVALID_PARAMETER_VALUE, 400, QueueName=unique_name("nofifo"), Attributes={"FifoQueue": "true"}
    )


def test_fifo_suffix_without_fifo_attribute_is_invalid_name(sqs):
    # "." is only allowed as part of the .fifo suffix of a FIFO queue
    expect_error(sqs.create_queue, INVALID_PARAMETER_VALUE, 400, QueueName=unique_name("std", ".fifo"))


@pytest.mark.parametrize(
    "attrs,message",
    [
        ({"FifoQueue": "false"}, "Unknown Attribute FifoQueue."),
        ({"ContentBasedDeduplication": "false"}, "Unknown Attribute ContentBasedDeduplication."),
        ({"DeduplicationScope": "queue"}, "You can specify the DeduplicationScope only when FifoQueue is set to true."),
        ({"FifoThroughputLimit": "perQueue"}, "You can specify the FifoThroughputLimit only when FifoQueue is set to true."),
    ],
)
def test_fifo_attributes_on_standard_queue_rejected(sqs, attrs, message):
    # AWS-recorded codes and wording.
    err = expect_error(sqs.create_queue, INVALID_ATTRIBUTE_NAME, 400, QueueName=unique_name(), Attributes=attrs)
    assert err.response["Error"]["Message"] == message


def test_fifo_queue_type_cannot_change(sqs, fifo_queue, queue):
    # AWS-recorded: FifoQueue=true on a FIFO queue is a no-op; =false is InvalidAttributeValue
    # ("Modifying queue type is not supported."); on a standard queue it is an unknown attribute.
    sqs.set_queue_attributes(QueueUrl=fifo_queue, Attributes={"FifoQueue": "true"})
    err = expect_error(
        sqs.set_queue_attributes, INVALID_ATTRIBUTE_VALUE, 400, QueueUrl=fifo_queue, Attributes={"FifoQueue": "false"}
    )
    assert err.response["Error"]["Message"] == (
        "Invalid value for the parameter FifoQueue. Reason: Modifying queue type is not supported."
    )
    expect_error(sqs.set_queue_attributes, INVALID_ATTRIBUTE_NAME, 400, QueueUrl=queue, Attributes={"FifoQueue": "true"})


def test_high_throughput_attributes(sqs, create_queue):
    url = create_queue(
        fifo=True, attributes={"DeduplicationScope": "messageGroup", "FifoThroughputLimit": "perMessageGroupId"}
    )
    attrs = get_attrs(sqs, url)
    assert attrs["DeduplicationScope"] == "messageGroup"
    assert attrs["FifoThroughputLimit"] == "perMessageGroupId"
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"DeduplicationScope": "queue", "FifoThroughputLimit": "perQueue"})
    attrs = get_attrs(sqs, url, "DeduplicationScope", "FifoThroughputLimit")
    assert attrs == {"DeduplicationScope": "queue", "FifoThroughputLimit": "perQueue"}


# ----------------------------------------------------------------- send validation


def test_message_group_id_required(sqs, fifo_queue):
    expect_error(
        sqs.send_message, MISSING_PARAMETER, 400, QueueUrl=fifo_queue, MessageBody="x", MessageDeduplicationId="d"
    )


def test_dedup_id_required_without_content_based_dedup(sqs, fifo_queue):
    expect_error(sqs.send_message, INVALID_PARAMETER_VALUE, 400, QueueUrl=fifo_queue, MessageBody="x", MessageGroupId="g")


def test_batch_missing_group_id(sqs, fifo_queue):
    # AWS-recorded: the whole request fails (400), even though the other entry is valid.
    expect_error(
        sqs.send_message_batch,
        INVALID_PARAMETER_VALUE,
        400,
        QueueUrl=fifo_queue,
        Entries=[
            {"Id": "ok", "MessageBody": "x", "MessageGroupId": "g", "MessageDeduplicationId": "d1"},
            {"Id": "nogroup", "MessageBody": "x", "MessageDeduplicationId": "d2"},
        ],
    )


def test_batch_missing_dedup_id(sqs, fifo_queue):
    # AWS-recorded: the whole request fails (400).
    expect_error(
        sqs.send_message_batch,
        INVALID_PARAMETER_VALUE,
        400,
        QueueUrl=fifo_queue,
        Entries=[
            {"Id": "ok", "MessageBody": "x", "MessageGroupId": "g", "MessageDeduplicationId": "d1"},
            {"Id": "nodedup", "MessageBody": "x", "MessageGroupId": "g"},
        ],
    )


def test_per_message_delay_rejected_on_fifo(sqs, fifo_queue):
    expect_error(
        sqs.send_message,
        INVALID_PARAMETER_VALUE,
        400,
        QueueUrl=fifo_queue,
        MessageBody="x",
        MessageGroupId="g",
        MessageDeduplicationId="d",
        DelaySeconds=2,
    )


def test_delay_zero_is_allowed_on_fifo(sqs, fifo_queue):
    _send(sqs, fifo_queue, "x", DelaySeconds=0)


@pytest.mark.parametrize("bad", ["", "group 123", "a" * 129, "tab\tinside"])
def test_invalid_group_id(sqs, fifo_queue, bad):
    expect_error(
        sqs.send_message,
        INVALID_PARAMETER_VALUE,
        400,
        QueueUrl=fifo_queue,
        MessageBody="x",
        MessageGroupId=bad,
        MessageDeduplicationId="d",
    )


@pytest.mark.parametrize("bad", ["", "dedup 123", "a" * 129])
def test_invalid_dedup_id(sqs, fifo_queue, bad):
    expect_error(
        sqs.send_message,
        INVALID_PARAMETER_VALUE,
        400,
        QueueUrl=fifo_queue,
        MessageBody="x",
        MessageGroupId="g",
        MessageDeduplicationId=bad,
    )


def test_punctuation_allowed_in_ids(sqs, fifo_queue):
    ident = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~AZaz09"
    _send(sqs, fifo_queue, "punct", group=ident, dedup=ident)
    m = receive(sqs, fifo_queue, WaitTimeSeconds=2, **sys_attr_kwargs(sqs, ["MessageGroupId", "MessageDeduplicationId"]))[0]
    assert m["Attributes"] == {"MessageGroupId": ident, "MessageDeduplicationId": ident}


# ----------------------------------------------------------------- sequence numbers, attributes


def test_sequence_numbers_increase(sqs, fifo_queue):
    seqs = [int(_send(sqs, fifo_queue, f"m{i}")["SequenceNumber"]) for i in range(5)]
    assert seqs == sorted(seqs) and len(set(seqs)) == 5
    batch = sqs.send_message_batch(
        QueueUrl=fifo_queue,
        Entries=[
            {"Id": str(i), "MessageBody": f"b{i}", "MessageGroupId": "g1", "MessageDeduplicationId": f"bd{i}"}
            for i in range(3)
        ],
    )
    ok = sorted(batch["Successful"], key=lambda e: int(e["Id"]))
    bseqs = [int(e["SequenceNumber"]) for e in ok]
    assert bseqs == sorted(bseqs) and bseqs[0] > seqs[-1]


def test_fifo_system_attributes(sqs, fifo_queue):
    sent = _send(sqs, fifo_queue, "message-body-1", group="group-1", dedup="dedup-1")
    m = receive(sqs, fifo_queue, WaitTimeSeconds=2, **sys_attr_kwargs(sqs, ["All"]))[0]
    a = m["Attributes"]
    assert set(a) == {
        "ApproximateFirstReceiveTimestamp",
        "ApproximateReceiveCount",
        "MessageDeduplicationId",
        "MessageGroupId",
        "SenderId",
        "SentTimestamp",
        "SequenceNumber",
    }, sorted(a)
    assert a["MessageGroupId"] == "group-1"
    assert a["MessageDeduplicationId"] == "dedup-1"
    assert a["SequenceNumber"] == sent["SequenceNumber"]
    assert a["ApproximateReceiveCount"] == "1"
    # not asked -> nothing
    sqs.change_message_visibility(QueueUrl=fifo_queue, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
    m2 = receive(sqs, fifo_queue, WaitTimeSeconds=2)[0]
    assert "Attributes" not in m2


# ----------------------------------------------------------------- deduplication


def test_content_based_deduplication(sqs, create_queue):
    url = create_queue(fifo=True, attributes={"ContentBasedDeduplication": "true"})
    first = sqs.send_message(QueueUrl=url, MessageBody="same body", MessageGroupId="g")
    second = sqs.send_message(QueueUrl=url, MessageBody="same body", MessageGroupId="g")
    assert second["MessageId"] == first["MessageId"]
    other = sqs.send_message(QueueUrl=url, MessageBody="other body", MessageGroupId="g")
    assert other["MessageId"] != first["MessageId"]
    wait_until(lambda: counts(sqs, url)[0] == 2, timeout=3, what="2 messages")


def test_content_based_dedup_id_is_sha256_of_body(sqs, create_queue):
    # "uses a SHA-256 hash to generate the MessageDeduplicationId using the body"; an explicit id that
    # equals the generated one is a duplicate.
    url = create_queue(fifo=True, attributes={"ContentBasedDeduplication": "true"})
    body = "hash me"
    first = sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId="g")
    digest = hashlib.sha256(body.encode()).hexdigest()
    second = sqs.send_message(QueueUrl=url, MessageBody="different", MessageGroupId="g", MessageDeduplicationId=digest)
    assert second["MessageId"] == first["MessageId"]
    assert counts(sqs, url)[0] == 1


def test_explicit_dedup_id_overrides_content(sqs, create_queue):
    url = create_queue(fifo=True, attributes={"ContentBasedDeduplication": "true"})
    a = sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g", MessageDeduplicationId="d1")
    b = sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g", MessageDeduplicationId="d2")
    assert a["MessageId"] != b["MessageId"]


def test_explicit_dedup_id(sqs, fifo_queue):
    a = _send(sqs, fifo_queue, "one", dedup="dup")
    b = _send(sqs, fifo_queue, "two", dedup="dup")
    assert b["MessageId"] == a["MessageId"]
    msgs = receive(sqs, fifo_queue, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    assert [m["Body"] for m in msgs] == ["one"]


def test_dedup_holds_after_delete(sqs, fifo_queue):
    # SendMessage docs: duplicates within the 5-minute interval are accepted but not delivered, even
    # when the first message was already received and deleted.
    first = _send(sqs, fifo_queue, '{"foo": "bar"}', group="group-1", dedup="dedup1")
    msgs = receive(sqs, fifo_queue, WaitTimeSeconds=2)
    assert len(msgs) == 1
    sqs.delete_message(QueueUrl=fifo_queue, ReceiptHandle=msgs[0]["ReceiptHandle"])
    again = _send(sqs, fifo_queue, '{"foo": "bar"}', group="group-1", dedup="dedup1")
    assert again["MessageId"] == first["MessageId"]
    assert receive(sqs, fifo_queue, WaitTimeSeconds=1) == []
    assert counts(sqs, fifo_queue) == (0, 0, 0)


def test_purge_forgets_deduplication_ids(sqs, fifo_queue):
    # AWS-recorded: after PurgeQueue the same deduplication id enqueues again.
    first = _send(sqs, fifo_queue, "before", group="g", dedup="d1")
    sqs.purge_queue(QueueUrl=fifo_queue)
    again = _send(sqs, fifo_queue, "after", group="g", dedup="d1")
    assert again["MessageId"] != first["MessageId"]
    msgs = receive(sqs, fifo_queue, MaxNumberOfMessages=10, WaitTimeSeconds=2)
    assert [m["Body"] for m in msgs] == ["after"]


def test_dedup_scope_queue_spans_groups(sqs, fifo_queue):
    _send(sqs, fifo_queue, "Test", group="g1", dedup="same")
    _send(sqs, fifo_queue, "Test", group="g2", dedup="same")
    msgs = receive(sqs, fifo_queue, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    assert len(msgs) == 1


def test_dedup_scope_is_fixed_at_creation(sqs, create_queue):
    # AWS-recorded: switching an existing queue to DeduplicationScope=messageGroup changes the
    # attribute, not the deduplication: the same id in another group is still a duplicate.
    url = create_queue(fifo=True, attributes={"DeduplicationScope": "queue"})
    first = _send(sqs, url, "Test1", group="group1", dedup="same-dedup")
    sqs.set_queue_attributes(
        QueueUrl=url, Attributes={"DeduplicationScope": "messageGroup", "FifoThroughputLimit": "perMessageGroupId"}
    )
    assert get_attrs(sqs, url, "DeduplicationScope")["DeduplicationScope"] == "messageGroup"
    again = _send(sqs, url, "Test3", group="group3", dedup="same-dedup")
    assert again["MessageId"] == first["MessageId"]
    msgs = receive(sqs, url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    assert _bodies(msgs) == ["Test1"]


def test_dedup_scope_message_group(sqs, create_queue):
    url = create_queue(fifo=True, attributes={"DeduplicationScope": "messageGroup", "FifoThroughputLimit": "perMessageGroupId"})
    a = _send(sqs, url, "Test", group="g1", dedup="same")
    b = _send(sqs, url, "Test", group="g2", dedup="same")
    c = _send(sqs, url, "Test", group="g1", dedup="same")
    assert a["MessageId"] != b["MessageId"]
    assert c["MessageId"] == a["MessageId"]
    got = []
    deadline = time.monotonic() + 5
    while len(got) < 2 and time.monotonic() < deadline:
        got += receive(sqs, url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    assert len(got) == 2
    assert receive(sqs, url, MaxNumberOfMessages=10) == []


def test_batch_dedup_within_and_across(sqs, fifo_queue):
    first = _send(sqs, fifo_queue, "solo", dedup="d-solo")
    resp = sqs.send_message_batch(
        QueueUrl=fifo_queue,
        Entries=[
            {"Id": "a", "MessageBody": "solo again", "MessageGroupId": "g1", "MessageDeduplicationId": "d-solo"},
            {"Id": "b", "MessageBody": "new", "MessageGroupId": "g1", "MessageDeduplicationId": "d-new"},
        ],
    )
    ok = {e["Id"]: e for e in resp["Successful"]}
    assert set(ok) == {"a", "b"} and not resp.get("Failed")
    assert ok["a"]["MessageId"] == first["MessageId"]
    wait_until(lambda: counts(sqs, fifo_queue)[0] == 2, timeout=3, what="2 distinct messages")


# ----------------------------------------------------------------- ordering and groups


def test_strict_order_within_group(sqs, fifo_queue):
    for i in range(20):
        _send(sqs, fifo_queue, f"A{i:02d}", group="A")
        _send(sqs, fifo_queue, f"B{i:02d}", group="B")
    seen = {"A": [], "B": []}
    deadline = time.monotonic() + 15
    while sum(map(len, seen.values())) < 40 and time.monotonic() < deadline:
        msgs = receive(sqs, fifo_queue, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for m in msgs:
            seen[m["Body"][0]].append(m["Body"])
        if msgs:
            sqs.delete_message_batch(
                QueueUrl=fifo_queue,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(msgs)],
            )
    assert seen["A"] == [f"A{i:02d}" for i in range(20)]
    assert seen["B"] == [f"B{i:02d}" for i in range(20)]


def test_batch_preserves_order(sqs, fifo_queue):
    sqs.send_message_batch(
        QueueUrl=fifo_queue,
        Entries=[
            {"Id": str(i), "MessageBody": f"m{i}", "MessageGroupId": "g", "MessageDeduplicationId": f"d{i}"}
            for i in range(10)
        ],
    )
    got = []
    deadline = time.monotonic() + 5
    while len(got) < 10 and time.monotonic() < deadline:
        msgs = receive(sqs, fifo_queue, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        got += [m["Body"] for m in msgs]
        for m in msgs:
            sqs.delete_message(QueueUrl=fifo_queue, ReceiptHandle=m["ReceiptHandle"])
    assert got == [f"m{i}" for i in range(10)]


def test_group_blocked_while_message_in_flight(sqs, fifo_queue):
    for i in range(3):
        _send(sqs, fifo_queue, f"A{i}", group="A")
    _send(sqs, fifo_queue, "B0", group="B")
    first = receive(sqs, fifo_queue, MaxNumberOfMessages=1, WaitTimeSeconds=2, VisibilityTimeout=30)
    assert [m["Body"] for m in first] == ["A0"]
    # group A is locked while A0 is in flight; only B may come
    nxt = receive(sqs, fifo_queue, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    assert [m["Body"] for m in nxt] == ["B0"]
    assert receive(sqs, fifo_queue, MaxNumberOfMessages=10, WaitTimeSeconds=1) == []
    # deleting A0 unlocks the group, in order
    sqs.delete_message(QueueUrl=fifo_queue, ReceiptHandle=first[0]["ReceiptHandle"])
    after = receive(sqs, fifo_queue, MaxNumberOfMessages=10, WaitTimeSeconds=2)
    assert [m["Body"] for m in after][:1] == ["A1"]
    assert all(m["Body"].startswith("A") for m in after)


def test_group_unblocked_when_visibility_expires(sqs, fifo_queue):
    _send(sqs, fifo_queue, "A0", group="A")
    _send(sqs, fifo_queue, "A1", group="A")
    assert [m["Body"] for m in receive(sqs, fifo_queue, MaxNumberOfMessages=1, WaitTimeSeconds=2, VisibilityTimeout=1)] == ["A0"]
    assert receive(sqs, fifo_queue, MaxNumberOfMessages=10) == []
    time.sleep(1.5)
    # A0 comes back first (order is kept), with receive count 2
    again = receive(sqs, fifo_queue, MaxNumberOfMessages=1, WaitTimeSeconds=2, **sys_attr_kwargs(sqs, ["ApproximateReceiveCount"]))
    assert [m["Body"] for m in again] == ["A0"]
    assert again[0]["Attributes"]["ApproximateReceiveCount"] == "2"


def test_fifo_delete_after_visibility_expired_fails(sqs, create_queue):
    # AWS-recorded: InvalidParameterValue "... Reason: The receipt handle has expired."
    url = create_queue(fifo=True, attributes={"VisibilityTimeout": "1", "ContentBasedDeduplication": "true"})
    sqs.send_message(QueueUrl=url, MessageBody="foobar", MessageGroupId="1")
    handle = receive(sqs, url, WaitTimeSeconds=2)[0]["ReceiptHandle"]
    time.sleep(1.5)
    expect_error(sqs.delete_message, INVALID_PARAMETER_VALUE, 400, QueueUrl=url, ReceiptHandle=handle)


def test_concurrent_receivers_never_share_a_group(sqs_factory, create_queue):
    url = create_queue(fifo=True)
    sender = sqs_factory()
    groups = [f"g{i}" for i in range(5)]
    per_group = 20
    for g in groups:
        for start in range(0, per_group, 10):
            sender.send_message_batch(
                QueueUrl=url,
                Entries=[
                    {
                        "Id": str(i),
                        "MessageBody": f"{g}:{start + i:03d}",
                        "MessageGroupId": g,
                        "MessageDeduplicationId": f"{g}-{start + i}",
                    }
                    for i in range(10)
                ],
            )
    total = len(groups) * per_group
    lock = threading.Lock()
    holder = {}  # group -> thread index currently holding undeleted messages of it
    order = {g: [] for g in groups}
    violations = []
    done = threading.Event()
    errors = []

    def worker(idx):
        c = sqs_factory()
        rnd = random.Random(idx)
        try:
            while not done.is_set():
                msgs = receive(c, url, MaxNumberOfMessages=rnd.randint(1, 4), WaitTimeSeconds=1, VisibilityTimeout=30)
                if not msgs:
                    continue
                with lock:
                    for m in msgs:
                        g, seq = m["Body"].split(":")
                        h = holder.get(g)
                        if h is not None and h != idx:
                            violations.append(f"thread {idx} got {m['Body']} while thread {h} holds group {g}")
                        holder[g] = idx
                        order[g].append(int(seq))
                time.sleep(rnd.uniform(0.0, 0.05))  # "process"
                with lock:  # release before deleting: the server cannot hand the group out before the delete
                    for m in msgs:
                        g = m["Body"].split(":")[0]
                        if holder.get(g) == idx:
                            del holder[g]
                c.delete_message_batch(
                    QueueUrl=url,
                    Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(msgs)],
                )
                with lock:
                    if sum(map(len, order.values())) >= total:
                        done.set()
        except Exception as e:  # pragma: no cover - reported below
            errors.append(repr(e))
            done.set()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    done.wait(60)
    done.set()
    for t in threads:
        t.join(10)
    assert not errors, errors
    assert not violations, violations[:5]
    for g in groups:
        assert order[g] == list(range(per_group)), f"group {g} delivered out of order or incomplete: {order[g]}"


def test_receive_request_attempt_id_returns_same_messages(sqs, fifo_queue):
    for i in range(3):
        _send(sqs, fifo_queue, f"m{i}", group="g")
    first = receive(sqs, fifo_queue, MaxNumberOfMessages=10, WaitTimeSeconds=2, ReceiveRequestAttemptId="attempt-1")
    assert first
    retry = receive(sqs, fifo_queue, MaxNumberOfMessages=10, ReceiveRequestAttemptId="attempt-1")
    assert [m["MessageId"] for m in retry] == [m["MessageId"] for m in first]
    assert [m["ReceiptHandle"] for m in retry] == [m["ReceiptHandle"] for m in first]
    # a different attempt id does not get the in-flight group
    assert receive(sqs, fifo_queue, MaxNumberOfMessages=10, ReceiveRequestAttemptId="attempt-2") == []


def test_fifo_queue_delay_seconds_applies(sqs, create_queue):
    url = create_queue(fifo=True, attributes={"DelaySeconds": "1"})
    _send(sqs, url, "late")
    assert receive(sqs, url) == []
    assert [m["Body"] for m in receive(sqs, url, WaitTimeSeconds=4)] == ["late"]


# ----------------------------------------------------------------- fair queues


def test_standard_queue_accepts_message_group_id(sqs, queue):
    sqs.send_message(QueueUrl=queue, MessageBody="message", MessageGroupId="test")
    m = receive(sqs, queue, WaitTimeSeconds=2, **sys_attr_kwargs(sqs, ["All"]))[0]
    assert m["Attributes"]["MessageGroupId"] == "test"
    assert "SequenceNumber" not in m["Attributes"]


def test_fair_queue_quiet_group_not_starved(sqs, queue):
    # Fair queues (developer guide, "How fair queues work"): a tenant with >10% of the in-flight
    # messages and at least 30 of its own in flight is a noisy neighbour; receives then prefer
    # messages of quiet tenants whenever there are some.
    for n in range(0, 100, 10):
        sqs.send_message_batch(
            QueueUrl=queue,
            Entries=[{"Id": str(i), "MessageBody": f"noisy-{n + i}", "MessageGroupId": "noisy"} for i in range(10)],
        )
    in_flight = []
    deadline = time.monotonic() + 10
    while len(in_flight) < 40 and time.monotonic() < deadline:
        in_flight += receive(sqs, queue, MaxNumberOfMessages=10, WaitTimeSeconds=1, VisibilityTimeout=60)
    assert len(in_flight) >= 40
    quiet = {f"quiet-{i}" for i in range(3)}
    for body in sorted(quiet):
        sqs.send_message(QueueUrl=queue, MessageBody=body, MessageGroupId="quiet")
    got = receive(sqs, queue, MaxNumberOfMessages=10, WaitTimeSeconds=1, VisibilityTimeout=60)
    bodies = {m["Body"] for m in got}
    assert quiet <= bodies, f"quiet tenant's messages not prioritised: {sorted(bodies)}"


# ----------------------------------------------------------------- group order


def _bodies(msgs):
    return [m["Body"] for m in msgs]


def test_groups_received_from_go_to_the_back(sqs, create_queue):
    # AWS-recorded: after a receive with VisibilityTimeout=0 the groups that waited are served first.
    url = create_queue(fifo=True, attributes={"ContentBasedDeduplication": "true"})
    for body, group in [("g1-m1", "group-1"), ("g2-m1", "group-2"), ("g2-m2", "group-2"), ("g3-m1", "group-3"), ("g1-m2", "group-1")]:
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=group)
    got = receive(sqs, url, MaxNumberOfMessages=3, VisibilityTimeout=0)
    assert _bodies(got) == ["g1-m1", "g1-m2", "g2-m1"]
    got = receive(sqs, url, MaxNumberOfMessages=10, VisibilityTimeout=0)
    assert _bodies(got) == ["g3-m1", "g1-m1", "g1-m2", "g2-m1", "g2-m2"]


def test_group_visible_again_after_terminated_visibility_waits_its_turn(sqs, create_queue):
    # AWS-recorded: a group becomes receivable once one message is visible again, behind the waiting groups.
    url = create_queue(fifo=True, attributes={"ContentBasedDeduplication": "true", "VisibilityTimeout": "30"})
    for body, group in [("g1-m1", "group-1"), ("g1-m2", "group-1"), ("g2-m1", "group-2")]:
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=group)
    got = receive(sqs, url, MaxNumberOfMessages=2)
    assert _bodies(got) == ["g1-m1", "g1-m2"]
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"], VisibilityTimeout=0)
    got = receive(sqs, url, MaxNumberOfMessages=3, WaitTimeSeconds=2)
    assert _bodies(got) == ["g2-m1", "g1-m1"]


def test_deleting_the_head_wakes_a_waiting_receiver(sqs, create_queue):
    # AWS-recorded: a long poll already waiting gets the group's next message once the
    # in-flight head is deleted (within the poll, not at its end).
    url = create_queue(fifo=True, attributes={"ContentBasedDeduplication": "true"})
    for body in ("message-1", "message-2"):
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId="g")
    head = receive(sqs, url)[0]
    assert head["Body"] == "message-1"
    got = []
    waiter = threading.Thread(target=lambda: got.extend(receive(sqs, url, WaitTimeSeconds=10)))
    waiter.start()
    time.sleep(0.5)
    started = time.monotonic()
    sqs.delete_message(QueueUrl=url, ReceiptHandle=head["ReceiptHandle"])
    waiter.join(timeout=12)
    assert _bodies(got) == ["message-2"]
    assert time.monotonic() - started < 2
