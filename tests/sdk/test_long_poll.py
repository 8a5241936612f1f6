"""Long polling: WaitTimeSeconds / ReceiveMessageWaitTimeSeconds."""

import threading
import time

from sqs_helpers import INVALID_PARAMETER_VALUE, expect_error, receive


def _later(delay, fn, *args, **kwargs):
    def run():
        time.sleep(delay)
        fn(*args, **kwargs)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def _timed_receive(sqs, url, **kwargs):
    t0 = time.monotonic()
    msgs = receive(sqs, url, **kwargs)
    return msgs, time.monotonic() - t0


def test_long_poll_returns_as_soon_as_a_message_arrives(sqs, sqs_factory, queue):
    sender = sqs_factory()
    t = _later(0.5, sender.send_message, QueueUrl=queue, MessageBody="wake up")
    msgs, took = _timed_receive(sqs, queue, WaitTimeSeconds=10)
    t.join()
    assert [m["Body"] for m in msgs] == ["wake up"]
    assert took < 3.0, f"long poll took {took:.2f}s although a message arrived after 0.5s"


def test_long_poll_empty_returns_after_wait_time(sqs, queue):
    msgs, took = _timed_receive(sqs, queue, WaitTimeSeconds=2)
    assert msgs == []
    assert 1.8 <= took <= 4.0, f"empty long poll returned after {took:.2f}s, expected ~2s"


def test_short_poll_returns_immediately(sqs, queue):
    msgs, took = _timed_receive(sqs, queue, WaitTimeSeconds=0)
    assert msgs == []
    assert took < 1.0


def test_queue_receive_wait_time_is_the_default(sqs, create_queue):
    url = create_queue(attributes={"ReceiveMessageWaitTimeSeconds": "2"})
    msgs, took = _timed_receive(sqs, url)
    assert msgs == []
    assert 1.8 <= took <= 4.0, took
    # an explicit WaitTimeSeconds=0 overrides the queue default
    msgs, took = _timed_receive(sqs, url, WaitTimeSeconds=0)
    assert msgs == [] and took < 1.0


def test_long_poll_does_not_block_when_messages_are_available(sqs, queue):
    sqs.send_message(QueueUrl=queue, MessageBody="a")
    sqs.send_message(QueueUrl=queue, MessageBody="b")
    msgs, took = _timed_receive(sqs, queue, WaitTimeSeconds=10, MaxNumberOfMessages=10)
    assert 1 <= len(msgs) <= 2
    assert took < 2.0, f"returned after {took:.2f}s with messages available"


def test_long_poll_wakes_when_delayed_message_becomes_available(sqs, queue):
    sqs.send_message(QueueUrl=queue, MessageBody="delayed", DelaySeconds=1)
    msgs, took = _timed_receive(sqs, queue, WaitTimeSeconds=10)
    assert [m["Body"] for m in msgs] == ["delayed"]
    assert 0.5 <= took < 3.5, took


def test_long_poll_wakes_when_visibility_expires(sqs, queue):
    sqs.send_message(QueueUrl=queue, MessageBody="expiring")
    assert len(receive(sqs, queue, WaitTimeSeconds=2, VisibilityTimeout=1)) == 1
    msgs, took = _timed_receive(sqs, queue, WaitTimeSeconds=10)
    assert [m["Body"] for m in msgs] == ["expiring"]
    assert took < 3.5, took


def test_long_poll_wakes_on_change_visibility_zero(sqs, sqs_factory, queue):
    sqs.send_message(QueueUrl=queue, MessageBody="released")
    handle = receive(sqs, queue, WaitTimeSeconds=2, VisibilityTimeout=60)[0]["ReceiptHandle"]
    other = sqs_factory()
    t = _later(0.5, other.change_message_visibility, QueueUrl=queue, ReceiptHandle=handle, VisibilityTimeout=0)
    msgs, took = _timed_receive(sqs, queue, WaitTimeSeconds=10)
    t.join()
    assert [m["Body"] for m in msgs] == ["released"]
    assert took < 3.0, took


def test_long_poll_wakes_on_batch_send(sqs, sqs_factory, queue):
    sender = sqs_factory()
    t = _later(
        0.5,
        sender.send_message_batch,
        QueueUrl=queue,
        Entries=[{"Id": str(i), "MessageBody": f"b{i}"} for i in range(3)],
    )
    msgs, took = _timed_receive(sqs, queue, WaitTimeSeconds=10, MaxNumberOfMessages=10)
    t.join()
    assert len(msgs) >= 1
    assert took < 3.0, took


def test_one_message_goes_to_one_of_two_pollers(sqs_factory, queue):
    results = {}

    def poll(i):
        c = sqs_factory()
        t0 = time.monotonic()
        results[i] = (receive(c, queue, WaitTimeSeconds=3), time.monotonic() - t0)

    threads = [threading.Thread(target=poll, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    sqs_factory().send_message(QueueUrl=queue, MessageBody="only one")
    for t in threads:
        t.join(15)
    got = [m["Body"] for msgs, _ in results.values() for m in msgs]
    assert got == ["only one"], results
    winner = [took for msgs, took in results.values() if msgs][0]
    assert winner < 2.5, winner


def test_many_concurrent_long_polls(sqs_factory, queue):
    # 8 pollers waiting at once (the server must not serialise them), 8 messages -> 8 deliveries.
    n = 8
    results = []
    lock = threading.Lock()

    def poll():
        c = sqs_factory()
        msgs = receive(c, queue, WaitTimeSeconds=5, VisibilityTimeout=30)
        with lock:
            results.extend(msgs)

    threads = [threading.Thread(target=poll) for _ in range(n)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    sender = sqs_factory()
    for i in range(n):
        sender.send_message(QueueUrl=queue, MessageBody=f"m{i}")
    t0 = time.monotonic()
    for t in threads:
        t.join(20)
    bodies = sorted(m["Body"] for m in results)
    assert bodies == sorted(f"m{i}" for i in range(n)), bodies
    assert time.monotonic() - t0 < 6


def test_wait_time_out_of_range(sqs, queue):
    expect_error(sqs.receive_message, INVALID_PARAMETER_VALUE, 400, QueueUrl=queue, WaitTimeSeconds=21)
    expect_error(sqs.receive_message, INVALID_PARAMETER_VALUE, 400, QueueUrl=queue, WaitTimeSeconds=-1)
