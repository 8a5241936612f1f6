"""The HTTP front and the store under abuse (issue 9): a second eddy on one
data dir, idle and slowloris sockets, a connection cap, stalled bodies over
HTTP/1.1 and HTTP/2, a low fd limit, a full disk, and what health says.

Expectations: AWS answers throttling with a retryable error (503) and never
hangs; eddy must keep serving a normal client, stay within its memory
budget and say when it cannot write.
"""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import threading
import time

import pytest
import requests

from conftest import binary, client, peak_rss_mib, rss_mib

# This process opens thousands of sockets.
_soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (_hard, _hard))


def open_sockets(port: int, n: int, first_bytes: bytes = b"") -> list[socket.socket]:
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        if first_bytes:
            s.sendall(first_bytes)
        socks.append(s)
    return socks


def closed_by_server(s: socket.socket, within: float) -> bool:
    """True when the server closes `s` (EOF or reset) within `within` seconds."""
    s.settimeout(within)
    try:
        while True:
            data = s.recv(4096)
            if not data:
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def sqs_round_trip(endpoint: str, name: str = "q") -> float:
    """Create a queue, send, receive; returns the seconds it took."""
    started = time.monotonic()
    sqs = client("sqs", endpoint, retries=3)
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="hello")
    got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", [])
    assert [m["Body"] for m in got] == ["hello"]
    return time.monotonic() - started


# ------------------------------------------------------------------ data dir


def test_a_second_eddy_on_the_same_data_dir_exits_with_a_clear_error(spawn, tmp_path):
    first = spawn()
    sqs_round_trip(first.endpoint)
    port = first.port + 1 if first.port < 65000 else first.port - 1
    second = subprocess.run(
        [binary(), "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", str(first.data_dir)],
        capture_output=True, text=True, timeout=10,
    )
    assert second.returncode != 0
    assert "in use by another eddy" in second.stderr, second.stderr
    assert str(first.proc.pid) in second.stderr
    # The first one is untouched and still serves its data.
    sqs = client("sqs", first.endpoint)
    url = sqs.get_queue_url(QueueName="q")["QueueUrl"]
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])


def test_the_lock_is_released_by_kill_9(spawn):
    first = spawn()
    first.kill()
    first.start()  # same data dir: must start again at once
    sqs_round_trip(first.endpoint, "after-kill")


# ------------------------------------------------------------------ connections


def test_2000_idle_and_slowloris_connections_do_not_stop_a_normal_client(spawn, figure):
    server = spawn()
    idle = open_sockets(server.port, 1000)
    slow = open_sockets(server.port, 1000, b"POST / HTTP/1.1\r\nHost: x\r\n")
    try:
        took = sqs_round_trip(server.endpoint)
        figure("2,000 idle + slowloris sockets: a normal client's create/send/receive",
               f"{took * 1000:.0f} ms; server RSS {rss_mib(server.proc.pid):.0f} MiB")
        assert took < 5, f"a normal client took {took:.1f}s beside 2,000 idle sockets"
        health = requests.get(server.endpoint + "/_eddy/health", timeout=5).json()
        assert health["connections"]["open"] >= 2000
    finally:
        for s in idle + slow:
            s.close()


def test_idle_and_slowloris_connections_are_closed_by_their_timeouts(spawn):
    server = spawn("--idle-timeout-secs", "2", "--header-timeout-secs", "3")
    idle = socket.create_connection(("127.0.0.1", server.port))
    slow = socket.create_connection(("127.0.0.1", server.port))
    slow.sendall(b"POST / HTTP/1.1\r\nHost: x\r\n")

    def trickle():  # one header byte a second: never finishes its headers
        for _ in range(8):
            time.sleep(0.5)
            try:
                slow.sendall(b"X")
            except OSError:
                return

    threading.Thread(target=trickle, daemon=True).start()
    assert closed_by_server(idle, within=6), "an idle connection was not closed"
    assert closed_by_server(slow, within=6), "a slowloris connection was not closed by the header timeout"
    sqs_round_trip(server.endpoint)


def test_a_keep_alive_connection_outlives_the_header_timeout(spawn):
    # Idle between requests is not slow headers: a client that pauses longer
    # than the header timeout (but within the idle timeout) keeps its connection.
    server = spawn("--idle-timeout-secs", "30", "--header-timeout-secs", "1")
    s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    request = b"GET /_eddy/health HTTP/1.1\r\nHost: x\r\n\r\n"
    s.sendall(request)
    assert s.recv(4096).startswith(b"HTTP/1.1 200")
    time.sleep(3)
    s.sendall(request)
    assert s.recv(4096).startswith(b"HTTP/1.1 200"), "the idle keep-alive connection was closed"
    s.close()


def test_a_long_poll_is_not_closed_as_idle(spawn):
    server = spawn("--idle-timeout-secs", "1")
    sqs = client("sqs", server.endpoint)
    url = sqs.create_queue(QueueName="lp")["QueueUrl"]
    started = time.monotonic()
    got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=3)
    assert "Messages" not in got
    assert time.monotonic() - started >= 2.9


def test_past_the_connection_cap_new_connections_get_503_and_idle_ones_are_reaped(spawn):
    server = spawn("--max-connections", "50")
    held = open_sockets(server.port, 50)
    try:
        extra = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        extra.settimeout(5)
        answer = extra.recv(200)
        assert answer.startswith(b"HTTP/1.1 503"), answer
        # Under pressure idle connections go after a second, so a client
        # that retries (as every SDK does on 503) gets in.
        took = sqs_round_trip(server.endpoint)
        assert took < 8
    finally:
        for s in held:
            s.close()


# ------------------------------------------------------------------ bodies


def stalled_post(port: int, headers: dict, declared: int, sent: bytes) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    head = "POST / HTTP/1.1\r\nHost: x\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    try:
        s.sendall(f"{head}Content-Length: {declared}\r\n\r\n".encode() + sent)
    except (BrokenPipeError, ConnectionResetError):
        pass  # refused before the client finished sending: the answer is still there to read
    return s


SQS_JSON = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AmazonSQS.SendMessage"}


def test_stalled_16_mib_bodies_stay_within_the_body_budget(spawn, figure):
    server = spawn("--max-body-memory-mb", "64")
    before = rss_mib(server.proc.pid)
    socks = [stalled_post(server.port, SQS_JSON, 16 << 20, b"{" + b" " * (64 << 10)) for _ in range(32)]
    try:
        time.sleep(1.5)
        # Large bodies may use 48 of the 64 MiB (16 MiB each, counted twice
        # for decoding: one fits); the rest are refused at once, and the
        # last 16 MiB stay free for ordinary requests.
        refused = 0
        for s in socks:
            s.settimeout(0.2)
            try:
                data = s.recv(4096)
            except (socket.timeout, ConnectionResetError):
                continue
            if data.startswith(b"HTTP/1.1 503"):
                assert b"ServiceUnavailable" in data, data
                refused += 1
        assert refused >= 30, f"only {refused} of 32 over-budget bodies were refused"
        grown = rss_mib(server.proc.pid) - before
        figure("32 stalled 16 MiB bodies, 64 MiB budget (was 524 MiB)",
               f"RSS +{grown:.0f} MiB; {refused} of 32 refused with 503 at once")
        assert grown < 96, f"RSS grew {grown:.0f} MiB with a 64 MiB body budget"
        took = sqs_round_trip(server.endpoint)
        assert took < 5
    finally:
        for s in socks:
            s.close()


def test_over_budget_errors_speak_the_requests_protocol(spawn):
    server = spawn("--max-body-memory-mb", "1")
    cases = [
        (SQS_JSON, b'"__type"', b"application/x-amz-json-1.0"),
        ({"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "Kinesis_20131202.PutRecords"},
         b'"__type"', b"application/x-amz-json-1.1"),
        ({"Content-Type": "application/x-www-form-urlencoded"}, b"<ErrorResponse", b"text/xml"),
    ]
    for headers, body_mark, content_type in cases:
        s = stalled_post(server.port, headers, 4 << 20, b"x")
        s.settimeout(5)
        data = s.recv(8192)
        s.close()
        assert data.startswith(b"HTTP/1.1 503"), data
        assert body_mark in data and content_type in data.lower() and b"ServiceUnavailable" in data, data


def test_a_stalled_body_is_abandoned_after_the_header_timeout(spawn):
    server = spawn("--header-timeout-secs", "2")
    s = stalled_post(server.port, SQS_JSON, 1000, b"{")
    s.settimeout(6)
    data = s.recv(4096)
    assert data.startswith(b"HTTP/1.1 408"), data
    assert b"RequestTimeout" in data
    health = requests.get(server.endpoint + "/_eddy/health", timeout=5).json()
    assert health["request_body_memory"]["used"] == 0


def test_64_stalled_http2_streams_stay_within_the_body_budget(spawn, figure):
    h2 = pytest.importorskip("h2.connection")
    import h2.config
    import h2.events

    server = spawn("--max-body-memory-mb", "64")
    before = rss_mib(server.proc.pid)
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    conn.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 1 << 20})
    sock.sendall(conn.data_to_send())
    statuses = {}
    for i in range(64):
        sid = conn.get_next_available_stream_id()
        conn.send_headers(sid, [(":method", "POST"), (":path", "/"), (":scheme", "http"), (":authority", "x"),
                                ("content-type", "application/x-amz-json-1.0"),
                                ("x-amz-target", "AmazonSQS.SendMessage"), ("content-length", str(16 << 20))])
        window = min(conn.local_flow_control_window(sid), 16_384)
        if window:
            conn.send_data(sid, b" " * window)
        sock.sendall(conn.data_to_send())
    deadline = time.monotonic() + 5
    sock.settimeout(0.5)
    while time.monotonic() < deadline and len(statuses) < 60:
        try:
            data = sock.recv(65536)
        except socket.timeout:
            continue
        if not data:
            break
        for ev in conn.receive_data(data):
            if isinstance(ev, h2.events.ResponseReceived):
                statuses[ev.stream_id] = dict(ev.headers)[b":status"]
        sock.sendall(conn.data_to_send())
    try:
        assert sum(1 for v in statuses.values() if v == b"503") >= 60, statuses
        grown = rss_mib(server.proc.pid) - before
        refused = sum(1 for v in statuses.values() if v == b"503")
        figure("h2c: 64 stalled 16 MiB streams on one connection (was 1.3 GiB)",
               f"RSS +{grown:.0f} MiB; {refused} of 64 refused with 503")
        assert grown < 96, f"RSS grew {grown:.0f} MiB"
        sqs_round_trip(server.endpoint)
    finally:
        sock.close()


# ------------------------------------------------------------------ fds and disk


def low_fd_limit(n: int):
    def apply():
        resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))
    return apply


def test_a_low_fd_limit_with_many_idle_connections_never_poisons_the_store(spawn, figure):
    server = spawn(preexec_fn=low_fd_limit(256))
    socks = []
    try:
        # Far more connections than the limit allows: the cap refuses the
        # excess instead of letting accept or the store run out of fds.
        for _ in range(400):
            try:
                socks.append(socket.create_connection(("127.0.0.1", server.port), timeout=2))
            except OSError:
                break
        kinesis = client("kinesis", server.endpoint, retries=5)
        kinesis.create_stream(StreamName="many", ShardCount=50)
        for i in range(5):
            kinesis.put_records(StreamName="many",
                                Records=[{"Data": b"x" * 100, "PartitionKey": str(k)} for k in range(500)])
        for s in socks:
            s.close()
        socks = []
        sqs_round_trip(server.endpoint)
        health = requests.get(server.endpoint + "/_eddy/health", timeout=5)
        assert health.status_code == 200 and health.json()["store"]["status"] == "ok", health.text
    finally:
        for s in socks:
            s.close()
    log = server.log_path.read_text(errors="replace")
    figure("fd limit 256, 400 connections, 50-shard stream",
           f"{len(log.splitlines())} log lines, {log.count('accept failed')} accept-failure lines, store ok")
    assert log.count("accept failed") <= 5, "the accept loop logged a flood of errors"
    assert "Poisoned" not in log and "store failed" not in log


@pytest.fixture
def small_disk(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mnt = tmp_path / "disk"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=160m", "tmpfs", str(mnt)], capture_output=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {r.stderr!r}")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)])


def test_a_full_disk_refuses_writes_says_so_in_health_and_recovers_when_freed(spawn, small_disk):
    server = spawn("--min-free-disk-mb", "48", data_dir=small_disk / "data")
    sqs = client("sqs", server.endpoint)
    url = sqs.create_queue(QueueName="disk")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="before")
    st = os.statvfs(small_disk)
    free = st.f_bavail * st.f_frsize
    junk = small_disk / "junk"
    with open(junk, "wb") as f:
        f.write(b"\0" * (free - (24 << 20)))
    time.sleep(1)
    health = requests.get(server.endpoint + "/_eddy/health", timeout=5)
    assert health.status_code == 503, health.text
    assert "disk nearly full" in health.json()["store"]["reason"]
    with pytest.raises(Exception) as refused:
        sqs.send_message(QueueUrl=url, MessageBody="refused")
    assert "InternalError" in str(refused.value) or "500" in str(refused.value) or "503" in str(refused.value)
    junk.unlink()
    time.sleep(1)
    assert requests.get(server.endpoint + "/_eddy/health", timeout=5).status_code == 200
    sqs.send_message(QueueUrl=url, MessageBody="after")
    server.kill()
    server.start()
    bodies = set()
    for _ in range(5):
        for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", []):
            bodies.add(m["Body"])
    assert bodies == {"before", "after"}


def test_health_lists_every_service_and_the_store(spawn):
    server = spawn()
    body = requests.get(server.endpoint + "/_eddy/health", timeout=5).json()
    assert body["status"] == "ok"
    assert set(body["services"]) >= {"sqs", "sns", "kinesis", "events", "scheduler", "pipes", "iam", "sts"}
    assert body["store"] == {"status": "ok", "engine": "fjall"}
    ls = requests.get(server.endpoint + "/_localstack/health", timeout=5).json()
    assert ls["services"]["kinesis"] == "running"
