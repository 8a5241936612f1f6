"""Fixtures for the eddy SQS end-to-end suite.

The suite runs twice (see scripts/test.sh): once with a current boto3 that
speaks awsJson1_0 and once with botocore 1.31.80 that speaks awsQuery. The
environment variable EDDY_EXPECT_PROTOCOL ("json" or "query") says which.

Server: the session starts `$EDDY_BIN serve --listen 127.0.0.1:<port>
--data-dir <tmp>` (EDDY_BIN defaults to <repo>/target/release/eddy) and waits
for `GET /_eddy/health` to answer 200. With EDDY_ENDPOINT set, that endpoint
is used instead and tests that need a restart are skipped.

Two nodes: with EDDY_TEST_NODES=2 (and EDDY_STORE=postgres://…) a second eddy
is started on the same PostgreSQL schema, and every boto3 client made here
sends its requests to the two nodes in turn, as a round-robin load balancer
would: each request goes to the next node's port with the Host header of the
first, so queue URLs and signatures are the same whichever node answers.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
import uuid
from pathlib import Path

import boto3
import pytest
import requests
from botocore.config import Config

REPO = Path(__file__).resolve().parents[2]
HEALTH_PATH = "/_eddy/health"
START_TIMEOUT = 10.0


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes more than ~10 s (retention, big loads)")
    config.addinivalue_line("markers", "restart: restarts the server (persistence)")


# --------------------------------------------------------------------------- server


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class EddyServer:
    """A locally spawned eddy that can be stopped, killed and restarted on the same data dir."""

    can_restart = True

    def __init__(self, binary: str, data_dir: Path, port: int, log_path: Path, extra_args=(), preexec_fn=None):
        self.extra_args = list(extra_args)
        self.preexec_fn = preexec_fn
        self.binary = binary
        self.data_dir = data_dir
        self.port = port
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None
        self.endpoint = f"http://127.0.0.1:{port}"
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        log = open(self.log_path, "ab")
        log.write(f"\n===== start #{self.starts} =====\n".encode())
        log.flush()
        self.proc = subprocess.Popen(
            [
                self.binary,
                "serve",
                "--listen",
                f"127.0.0.1:{self.port}",
                "--data-dir",
                str(self.data_dir),
                *self.extra_args,
            ],
            preexec_fn=self.preexec_fn,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()
        self.wait_healthy()

    def wait_healthy(self, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(
                    f"eddy exited with code {self.proc.returncode} during start-up:\n{self.log_tail()}"
                )
            try:
                r = requests.get(self.endpoint + HEALTH_PATH, timeout=1)
                if r.status_code == 200:
                    return
                last = f"HTTP {r.status_code}"
            except requests.RequestException as e:  # not listening yet
                last = repr(e)
            time.sleep(0.05)
        raise RuntimeError(
            f"eddy did not answer 200 on {HEALTH_PATH} within {timeout}s (last: {last}):\n{self.log_tail()}"
        )

    def log_tail(self, n: int = 60) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(lines[-n:])

    def stop(self, timeout: float = 10.0) -> None:
        """Graceful stop (SIGTERM), then SIGKILL if it does not exit in time."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def kill(self) -> None:
        """kill -9: no chance to flush anything."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.kill()
        self.proc.wait()

    def restart(self, hard: bool = True) -> None:
        if hard:
            self.kill()
        else:
            self.stop()
        self.start()


class ExternalServer:
    can_restart = False

    def __init__(self, endpoint: str):
        self.endpoint = endpoint.rstrip("/")
        self.port = urllib.parse.urlsplit(self.endpoint).port

    def restart(self, hard: bool = True) -> None:  # pragma: no cover - skipped before use
        pytest.skip("EDDY_ENDPOINT is set: cannot restart an external server")

    def stop(self) -> None:
        pass

    def kill(self) -> None:
        pass


NODES = int(os.environ.get("EDDY_TEST_NODES", "1"))
# The other nodes' `host:port`, filled in when they start (EDDY_TEST_NODES=2).
_OTHER_NODES: list[str] = []


@pytest.fixture(scope="session")
def eddy():
    external = os.environ.get("EDDY_ENDPOINT")
    if external:
        yield ExternalServer(external)
        return
    if NODES > 1:
        yield from _cluster()
        return
    binary = os.environ.get("EDDY_BIN", str(REPO / "target" / "release" / "eddy"))
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        pytest.exit(f"eddy binary not found at {binary} (set EDDY_BIN or build with cargo build --release)", 2)
    tmp = Path(tempfile.mkdtemp(prefix="eddy-sdk-"))
    server = EddyServer(binary, tmp / "data", _free_port(), tmp / "eddy.log")
    try:
        server.start()
    except RuntimeError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        pytest.exit(str(e), 2)
    yield server
    server.stop()
    if os.environ.get("EDDY_KEEP_DATA"):
        print(f"\neddy data and log kept in {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)


def _cluster():
    """The first node (the fixture's server) and NODES-1 more on the same --store, started after it so that
    it leads; requests alternate between them (see the module doc)."""
    if not os.environ.get("EDDY_STORE", "").startswith("postgres"):
        pytest.exit("EDDY_TEST_NODES > 1 needs EDDY_STORE=postgres://… (nodes share the store)", 2)
    binary = os.environ.get("EDDY_BIN", str(REPO / "target" / "release" / "eddy"))
    tmp = Path(tempfile.mkdtemp(prefix="eddy-sdk-cluster-"))
    servers = []
    ports = [_free_port() for _ in range(NODES)]
    # The URL in SNS messages is the cluster's, whichever node leads (a load balancer's, in production).
    public = ["--public-url", f"http://127.0.0.1:{ports[0]}"]
    try:
        for i in range(NODES):
            server = EddyServer(binary, tmp / f"data{i}", ports[i], tmp / f"eddy{i}.log", extra_args=public)
            server.start()
            servers.append(server)
    except RuntimeError as e:
        for server in servers:
            server.stop()
        pytest.exit(str(e), 2)
    _OTHER_NODES[:] = [f"127.0.0.1:{server.port}" for server in servers[1:]]
    yield servers[0]
    for server in reversed(servers):
        server.stop()
    if not os.environ.get("EDDY_KEEP_DATA"):
        shutil.rmtree(tmp, ignore_errors=True)


def _round_robin(client) -> None:
    """Sends the client's requests to every node in turn, keeping the first node's Host (a load balancer)."""
    turn = iter(range(1 << 62))

    def before_sign(request, **_):
        parts = urllib.parse.urlsplit(request.url)
        nodes = [parts.netloc, *_OTHER_NODES]
        if not _OTHER_NODES or parts.hostname != "127.0.0.1":
            return
        node = nodes[next(turn) % len(nodes)]
        request.headers["Host"] = parts.netloc
        request.url = urllib.parse.urlunsplit(parts._replace(netloc=node))

    client.meta.events.register("before-sign", before_sign)


@pytest.fixture(autouse=True)
def _eddy_still_alive(eddy):
    """If the server process died during a test, say so on that test and start it again, so that one
    crash does not turn the rest of the suite into connection errors."""
    yield
    if isinstance(eddy, EddyServer) and eddy.proc is not None and eddy.proc.poll() is not None:
        code = eddy.proc.returncode
        tail = eddy.log_tail()
        eddy.start()
        pytest.fail(f"eddy died during this test (exit code {code}); log tail:\n{tail}", pytrace=False)


@pytest.fixture(scope="session")
def endpoint(eddy) -> str:
    return eddy.endpoint


@pytest.fixture
def restart_server(eddy, sqs):
    """Returns restart(hard=True): kill -9 (or SIGTERM with hard=False) and start again on the same data dir."""
    if not eddy.can_restart:
        pytest.skip("EDDY_ENDPOINT is set: cannot restart an external server")

    def _restart(hard: bool = True) -> None:
        eddy.restart(hard=hard)
        # drop pooled keep-alive connections of the shared client: they point at the dead process
        try:
            sqs._endpoint.http_session.close()
        except Exception:
            pass

    return _restart


# --------------------------------------------------------------------------- clients

EXPECTED_PROTOCOL = os.environ.get("EDDY_EXPECT_PROTOCOL")


def make_client(endpoint: str, access_key: str = "test", region: str = "us-east-1", service: str = "sqs", **config_kwargs):
    cfg = dict(
        retries={"max_attempts": 0},  # surface every server error, never hide it behind a retry
        connect_timeout=5,
        read_timeout=40,
        max_pool_connections=32,
    )
    cfg.update(config_kwargs)
    endpoint_url = cfg.pop("endpoint_url", endpoint)
    session = boto3.session.Session()
    client = session.client(
        service,
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=access_key,
        aws_secret_access_key="test",
        config=Config(**cfg),
    )
    if endpoint_url == endpoint:
        _round_robin(client)
    return client


@pytest.fixture(scope="session")
def sqs(endpoint):
    return make_client(endpoint)


@pytest.fixture(scope="session")
def sqs_factory(endpoint):
    """sqs_factory(account_key="111122223333", region="us-east-1", endpoint_url=None) -> new boto3 SQS client."""

    def _factory(account_key: str = "test", region: str = "us-east-1", endpoint_url: str | None = None, **cfg):
        if endpoint_url:
            cfg["endpoint_url"] = endpoint_url
        return make_client(endpoint, access_key=account_key, region=region, **cfg)

    return _factory


@pytest.fixture(scope="session")
def protocol(sqs) -> str:
    """'json' or 'query': what the client under test speaks."""
    return sqs.meta.service_model.protocol


def unique_name(prefix: str = "q", suffix: str = "") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:16]}{suffix}"


@pytest.fixture
def create_queue(sqs):
    """create_queue(name=None, attributes=None, fifo=False, client=None, tags=None) -> queue URL.

    Queues are deleted at teardown (errors ignored)."""
    created = []

    def _create(name: str | None = None, attributes: dict | None = None, fifo: bool = False, client=None, tags=None):
        c = client or sqs
        attrs = dict(attributes or {})
        if fifo:
            attrs.setdefault("FifoQueue", "true")
        if name is None:
            name = unique_name("fifo" if fifo else "q", ".fifo" if fifo else "")
        kwargs = {"QueueName": name}
        if attrs:
            kwargs["Attributes"] = attrs
        if tags:
            kwargs["tags"] = tags
        url = c.create_queue(**kwargs)["QueueUrl"]
        created.append((c, url))
        return url

    yield _create
    for c, url in created:
        try:
            c.delete_queue(QueueUrl=url)
        except Exception:
            pass


@pytest.fixture
def queue(create_queue):
    return create_queue()


@pytest.fixture
def fifo_queue(create_queue):
    return create_queue(fifo=True)


# --------------------------------------------------------------------------- SNS clients
# SNS speaks awsQuery in every botocore version, so both suites exercise the same protocol here.


def make_sns_client(endpoint: str, access_key: str = "test", region: str = "us-east-1", **config_kwargs):
    return make_client(endpoint, access_key, region, service="sns", **config_kwargs)


@pytest.fixture(scope="session")
def sns(endpoint):
    return make_sns_client(endpoint)


@pytest.fixture(scope="session")
def sns_factory(endpoint):
    """sns_factory(account_key="111122223333", region="us-east-1", endpoint_url=None) -> new boto3 SNS client."""

    def _factory(account_key: str = "test", region: str = "us-east-1", endpoint_url: str | None = None, **cfg):
        if endpoint_url:
            cfg["endpoint_url"] = endpoint_url
        return make_sns_client(endpoint, access_key=account_key, region=region, **cfg)

    return _factory


@pytest.fixture
def create_topic(sns):
    """create_topic(name=None, attributes=None, fifo=False, client=None, tags=None) -> topic ARN.

    Topics (and with them their subscriptions) are deleted at teardown (errors ignored)."""
    created = []

    def _create(name: str | None = None, attributes: dict | None = None, fifo: bool = False, client=None, tags=None):
        c = client or sns
        attrs = dict(attributes or {})
        if fifo:
            attrs.setdefault("FifoTopic", "true")
        if name is None:
            name = unique_name("fifo-t" if fifo else "t", ".fifo" if fifo else "")
        kwargs = {"Name": name}
        if attrs:
            kwargs["Attributes"] = attrs
        if tags:
            kwargs["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
        arn = c.create_topic(**kwargs)["TopicArn"]
        created.append((c, arn))
        return arn

    yield _create
    for c, arn in created:
        try:
            c.delete_topic(TopicArn=arn)
        except Exception:
            pass


@pytest.fixture
def topic(create_topic):
    return create_topic()


# --------------------------------------------------------------------------- Kinesis clients
# Kinesis speaks awsJson1_1 in every botocore version, so both suites exercise the same protocol here.


@pytest.fixture(scope="session")
def kinesis(endpoint):
    return make_client(endpoint, service="kinesis")


@pytest.fixture(scope="session")
def kinesis_factory(endpoint):
    """kinesis_factory(**config) -> new boto3 Kinesis client (e.g. parameter_validation=False, read_timeout=10)."""

    def _factory(access_key: str = "test", region: str = "us-east-1", **cfg):
        return make_client(endpoint, access_key=access_key, region=region, service="kinesis", **cfg)

    return _factory


@pytest.fixture
def create_stream(kinesis):
    """create_stream(name=None, shard_count=1, on_demand=False, client=None, wait=True, **extra) -> stream name.

    Waits until the stream is ACTIVE (polling DescribeStreamSummary, as AWS creates asynchronously).
    Streams are deleted at teardown with EnforceConsumerDeletion (errors ignored)."""
    created = []

    def _create(name: str | None = None, shard_count: int | None = 1, on_demand: bool = False, client=None, wait: bool = True, **extra):
        c = client or kinesis
        name = name or unique_name("ks")
        kwargs = {"StreamName": name, **extra}
        if on_demand:
            kwargs["StreamModeDetails"] = {"StreamMode": "ON_DEMAND"}
        elif shard_count is not None:
            kwargs["ShardCount"] = shard_count
        c.create_stream(**kwargs)
        created.append((c, name))
        if wait:
            deadline = time.monotonic() + 60
            while c.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamStatus"] != "ACTIVE":
                assert time.monotonic() < deadline, f"stream {name} not ACTIVE after 60 s"
                time.sleep(0.2)
        return name

    yield _create
    for c, name in created:
        try:
            c.delete_stream(StreamName=name, EnforceConsumerDeletion=True)
        except Exception:
            pass


@pytest.fixture
def stream(create_stream):
    """A fresh single-shard provisioned stream (its name)."""
    return create_stream()


# --------------------------------------------------------------------------- EventBridge clients
# EventBridge speaks awsJson1_1 in every botocore version: its modules (test_events_*.py) run in the
# first pass only.

import json as _json  # noqa: E402  (used by the EventBridge fixtures below)


@pytest.fixture(scope="session")
def events(endpoint):
    return make_client(endpoint, service="events")


def _delete_rule_quietly(client, name: str, bus: str | None) -> None:
    """Removes the rule's targets, then the rule (errors ignored)."""
    extra = {"EventBusName": bus} if bus else {}
    try:
        ids = [t["Id"] for t in client.list_targets_by_rule(Rule=name, **extra).get("Targets", [])]
        if ids:
            client.remove_targets(Rule=name, Ids=ids, Force=True, **extra)
    except Exception:
        pass
    try:
        client.delete_rule(Name=name, Force=True, **extra)
    except Exception:
        pass


@pytest.fixture
def create_event_bus(events):
    """create_event_bus(name=None, client=None, **extra) -> bus name.

    Buses are deleted at teardown, their rules first (errors ignored)."""
    created = []

    def _create(name: str | None = None, client=None, **extra):
        c = client or events
        name = name or unique_name("bus")
        c.create_event_bus(Name=name, **extra)
        created.append((c, name))
        return name

    yield _create
    for c, name in created:
        try:
            rules = c.list_rules(EventBusName=name).get("Rules", [])
        except Exception:
            rules = []
        for r in rules:
            _delete_rule_quietly(c, r["Name"], name)
        try:
            c.delete_event_bus(Name=name)
        except Exception:
            pass


@pytest.fixture
def put_rule(events):
    """put_rule(name=None, pattern=None, bus=None, client=None, **extra) -> (rule name, rule ARN).

    pattern is a JSON string or a dict. Rules (and their targets) are deleted at teardown."""
    created = []

    def _put(name: str | None = None, pattern=None, bus: str | None = None, client=None, **extra):
        c = client or events
        name = name or unique_name("rule")
        kwargs = {"Name": name, **extra}
        if pattern is not None:
            kwargs["EventPattern"] = pattern if isinstance(pattern, str) else _json.dumps(pattern)
        if bus:
            kwargs["EventBusName"] = bus
        arn = c.put_rule(**kwargs)["RuleArn"]
        created.append((c, name, bus))
        return name, arn

    yield _put
    for c, name, bus in created:
        _delete_rule_quietly(c, name, bus)


# --------------------------------------------------------------------------- EventBridge archives, connections, API destinations


@pytest.fixture
def create_archive(events):
    """create_archive(source_arn, name=None, client=None, **extra) -> (archive name, archive ARN).

    Archives are deleted at teardown (errors ignored)."""
    created = []

    def _create(source_arn: str, name: str | None = None, client=None, **extra):
        c = client or events
        name = name or unique_name("archive")
        arn = c.create_archive(ArchiveName=name, EventSourceArn=source_arn, **extra)["ArchiveArn"]
        created.append((c, name))
        return name, arn

    yield _create
    for c, name in created:
        try:
            c.delete_archive(ArchiveName=name)
        except Exception:
            pass


@pytest.fixture
def create_connection(events):
    """create_connection(auth_type, auth_params, name=None, client=None, **extra) -> (name, ARN, response).

    Connections are deleted at teardown (errors ignored)."""
    created = []

    def _create(auth_type: str, auth_params: dict, name: str | None = None, client=None, **extra):
        c = client or events
        name = name or unique_name("conn")
        resp = c.create_connection(Name=name, AuthorizationType=auth_type, AuthParameters=auth_params, **extra)
        created.append((c, name))
        return name, resp["ConnectionArn"], resp

    yield _create
    for c, name in created:
        try:
            c.delete_connection(Name=name)
        except Exception:
            pass


@pytest.fixture
def create_api_destination(events):
    """create_api_destination(connection_arn, endpoint, method="POST", name=None, client=None, **extra)
    -> (name, ARN, response). API destinations are deleted at teardown (errors ignored)."""
    created = []

    def _create(connection_arn: str, endpoint: str, method: str = "POST", name: str | None = None, client=None, **extra):
        c = client or events
        name = name or unique_name("dest")
        resp = c.create_api_destination(
            Name=name, ConnectionArn=connection_arn, InvocationEndpoint=endpoint, HttpMethod=method, **extra
        )
        created.append((c, name))
        return name, resp["ApiDestinationArn"], resp

    yield _create
    for c, name in created:
        try:
            c.delete_api_destination(Name=name)
        except Exception:
            pass


@pytest.fixture
def http_recorder():
    """A local HTTP endpoint recording every request (events_helpers.HttpRecorder); closed at teardown."""
    from events_helpers import HttpRecorder

    recorder = HttpRecorder()
    yield recorder
    recorder.close()


# --- EventBridge Scheduler ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def scheduler(endpoint):
    return make_client(endpoint, service="scheduler")
