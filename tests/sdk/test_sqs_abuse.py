"""SQS under abuse (issue 9): PurgeQueue and DeleteQueue of a big queue must not stall other
clients, and must still finish after a crash mid-way.

AWS: "The message deletion process takes up to 60 seconds"; messages sent before the PurgeQueue
call are deleted, those sent after are kept (PurgeQueue API reference). A deleted queue is gone
at once for GetQueueUrl and its name cannot be reused for 60 s (DeleteQueue API reference).

The fill uses SendMessageBatch from several threads; EDDY_ABUSE_MESSAGES sets how many messages
(default 200,000). Latency figures are printed (run with -s to see them).
"""

from __future__ import annotations

import os
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import EXPECTED_PROTOCOL, unique_name
from sqs_helpers import NON_EXISTENT_QUEUE, assert_responsive, counts, expect_error, get_attrs, wait_until

BIG = int(os.environ.get("EDDY_ABUSE_MESSAGES", "200000"))

# Purge and deletion run in the core, whatever protocol asked for them: the
# heavy cases run in one protocol pass only (scripts/test.sh runs the suite twice).
once = pytest.mark.skipif(EXPECTED_PROTOCOL == "query", reason="protocol-independent; runs in the json pass")
FILL_THREADS = 8


@pytest.fixture
def quick_sqs(sqs_factory):
    return sqs_factory(read_timeout=10, connect_timeout=2, max_pool_connections=FILL_THREADS + 4)


def fill(client_factory, url: str, n: int) -> float:
    """Sends n small messages with SendMessageBatch from several threads; returns the seconds taken."""
    clients = [client_factory() for _ in range(FILL_THREADS)]
    batches = [(start, min(10, n - start)) for start in range(0, n, 10)]

    def worker(k: int) -> None:
        c = clients[k]
        for start, size in batches[k::FILL_THREADS]:
            entries = [{"Id": str(i), "MessageBody": f"old-{start + i}"} for i in range(size)]
            r = c.send_message_batch(QueueUrl=url, Entries=entries)
            assert not r.get("Failed"), r["Failed"]

    t0 = time.monotonic()
    with ThreadPoolExecutor(FILL_THREADS) as pool:
        list(pool.map(worker, range(FILL_THREADS)))
    return time.monotonic() - t0


class Prober(threading.Thread):
    """Another client using another queue: SendMessage then ReceiveMessage in a loop, timing each."""

    def __init__(self, client, url: str):
        super().__init__(daemon=True)
        self.client, self.url = client, url
        self.calls: list[tuple[float, float]] = []  # (start, seconds)
        self.stop = threading.Event()
        self.error: Exception | None = None

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                for call in (
                    lambda: self.client.send_message(QueueUrl=self.url, MessageBody="probe"),
                    lambda: self.client.receive_message(QueueUrl=self.url, MaxNumberOfMessages=1),
                ):
                    t0 = time.monotonic()
                    call()
                    self.calls.append((t0, time.monotonic() - t0))
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.error = e

    def finish(self, since: float) -> dict:
        """Latency figures of the calls that ended after `since` (the action's start)."""
        self.stop.set()
        self.join(timeout=15)
        assert self.error is None, f"probe client failed: {self.error!r}"
        lat = sorted(d for t, d in self.calls if t + d >= since)
        assert len(lat) >= 20, f"the probe made too few calls: {len(lat)}"
        return {
            "calls": len(lat),
            "p50_ms": round(statistics.median(lat) * 1000, 1),
            "p99_ms": round(lat[int(len(lat) * 0.99) - 1] * 1000, 1),
            "max_ms": round(lat[-1] * 1000, 1),
        }


def big_queue(sqs_factory, create_queue, quick_sqs) -> str:
    url = create_queue(client=quick_sqs)
    took = fill(lambda: sqs_factory(read_timeout=10, connect_timeout=2), url, BIG)
    print(f"\nfilled {BIG} messages in {took:.1f}s")
    assert counts(quick_sqs, url)[0] == BIG
    return url


def timed_under_probe(quick_sqs, probe_url: str, action) -> tuple[float, dict]:
    """Runs action() while the probe runs; returns (its seconds, probe stats from the action's start
    to 3 s after it answered, covering the background deletion that follows)."""
    prober = Prober(quick_sqs, probe_url)
    prober.start()
    time.sleep(1)
    t0 = time.monotonic()
    action()
    took = time.monotonic() - t0
    time.sleep(3)
    return took, prober.finish(since=t0)


@once
@pytest.mark.slow
def test_purge_of_a_big_queue_does_not_stall_other_clients(sqs_factory, create_queue, quick_sqs, endpoint):
    url = big_queue(sqs_factory, create_queue, quick_sqs)
    probe_url = create_queue(client=quick_sqs)
    took, stats = timed_under_probe(quick_sqs, probe_url, lambda: quick_sqs.purge_queue(QueueUrl=url))
    print(f"PurgeQueue of {BIG} messages answered in {took * 1000:.0f} ms; concurrent client: {stats}")
    assert_responsive(endpoint)
    # Sent after the purge call: kept.
    quick_sqs.send_message(QueueUrl=url, MessageBody="new")
    assert took < 0.1, f"PurgeQueue took {took:.2f}s"
    assert stats["p99_ms"] < 100, stats
    # One slow call can come from the machine (a shared CI box); a stall of the
    # server would show here at 1M messages (1.4 s before issue 9).
    assert stats["max_ms"] < 1000, stats
    wait_until(lambda: counts(quick_sqs, url)[0] == 1, timeout=60, interval=0.5, what="purge to finish")
    msgs = quick_sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    assert [m["Body"] for m in msgs] == ["new"]


@once
@pytest.mark.slow
def test_delete_of_a_big_queue_does_not_stall_other_clients(sqs_factory, create_queue, quick_sqs, endpoint):
    url = big_queue(sqs_factory, create_queue, quick_sqs)
    name = url.rsplit("/", 1)[1]
    probe_url = create_queue(client=quick_sqs)
    took, stats = timed_under_probe(quick_sqs, probe_url, lambda: quick_sqs.delete_queue(QueueUrl=url))
    print(f"DeleteQueue of {BIG} messages answered in {took * 1000:.0f} ms; concurrent client: {stats}")
    assert_responsive(endpoint)
    expect_error(quick_sqs.get_queue_url, NON_EXISTENT_QUEUE, 400, QueueName=name)
    assert took < 0.1, f"DeleteQueue took {took:.2f}s"
    assert stats["p99_ms"] < 100, stats
    # One slow call can come from the machine (a shared CI box); a stall of the
    # server would show here at 1M messages (1.4 s before issue 9).
    assert stats["max_ms"] < 1000, stats


MID = 20_000


@pytest.mark.restart
def test_purge_interrupted_by_a_crash_completes_after_restart(sqs, sqs_factory, create_queue, restart_server):
    url = create_queue()
    fill(lambda: sqs_factory(), url, MID)
    sqs.purge_queue(QueueUrl=url)
    sqs.send_message(QueueUrl=url, MessageBody="after-purge")
    restart_server(hard=True)
    wait_until(lambda: counts(sqs, url)[0] == 1, timeout=60, interval=0.5, what="purge to finish after restart")
    msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    assert [m["Body"] for m in msgs] == ["after-purge"]


@once
@pytest.mark.slow
@pytest.mark.restart
def test_delete_interrupted_by_a_crash_stays_deleted_after_restart(sqs, sqs_factory, create_queue, restart_server):
    url = create_queue()
    name = url.rsplit("/", 1)[1]
    fill(lambda: sqs_factory(), url, MID)
    sqs.delete_queue(QueueUrl=url)
    restart_server(hard=True)
    expect_error(sqs.get_queue_url, NON_EXISTENT_QUEUE, 400, QueueName=name)
    # The name comes back after the 60 s wait, empty.
    url2 = wait_until(lambda: _try_create(sqs, name), timeout=70, interval=2, what="name reusable")
    assert get_attrs(sqs, url2, "ApproximateNumberOfMessages")["ApproximateNumberOfMessages"] == "0"
    sqs.delete_queue(QueueUrl=url2)


def _try_create(sqs, name: str):
    try:
        return sqs.create_queue(QueueName=name)["QueueUrl"]
    except sqs.exceptions.ClientError:
        return None
