"""Several eddy nodes over one PostgreSQL schema: what holds when nodes and the database fail.

Needs EDDY_STORE=postgres://… (scripts/test.sh sets it); each test works in a schema of its own and drops it.
The node holding the schema's lock leads; the others relay to it (crates/eddy/src/cluster). The SDK suites
run against two nodes with requests alternating (tests/sdk, EDDY_TEST_NODES=2), and the crash tests kill the
leader under load (tests/crash, EDDY_CRASH_NODES=2); these are the cases neither covers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sdk"))
from conftest import EddyServer, _free_port  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
PG = os.environ.get("EDDY_STORE", "")
BINARY = os.environ.get("EDDY_BIN", str(REPO / "target" / "release" / "eddy"))

pytestmark = pytest.mark.skipif(not PG.startswith("postgres"), reason="needs EDDY_STORE=postgres://…")


def psql(sql: str) -> str:
    return subprocess.run(["psql", "-qtA", PG, "-c", sql], check=True, capture_output=True, text=True).stdout


@pytest.fixture
def schema(monkeypatch):
    name = f"eddy_cluster_{uuid.uuid4().hex[:10]}"
    monkeypatch.setenv("EDDY_STORE_SCHEMA", name)
    yield name
    psql(f"DROP SCHEMA IF EXISTS {name} CASCADE")


@pytest.fixture
def nodes(schema, tmp_path):
    """start(n) -> n nodes on the schema, the first leading."""
    started: list[EddyServer] = []

    def start(n: int = 2, extra_args=()) -> list[EddyServer]:
        for _ in range(n):
            i = len(started)
            node = EddyServer(
                BINARY, tmp_path / f"data{i}", _free_port(), tmp_path / f"eddy{i}.log", extra_args=extra_args
            )
            node.start()
            started.append(node)
        return started

    yield start
    for node in started:
        node.stop()


def client(service: str, node: EddyServer, key: str = "test", secret: str = "test", **cfg):
    settings = dict(retries={"max_attempts": 0}, connect_timeout=2, read_timeout=10)
    settings.update(cfg)
    return boto3.session.Session().client(
        service,
        endpoint_url=node.endpoint,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(**settings),
    )


def role(node: EddyServer) -> dict:
    return requests.get(node.endpoint + "/_eddy/health", timeout=2).json().get("cluster", {})


def wait_for(predicate, timeout: float = 15.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except (requests.RequestException, ClientError, KeyError):
            pass
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def error_of(e: ClientError) -> tuple[str, int]:
    return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]


def test_the_leader_killed_its_standby_serves_sqs_sns_and_kinesis_state(nodes):
    """kill -9 of the leader: the standby takes the schema over and serves everything it acknowledged, SQS
    messages with their receipt state, SNS subscriptions and Kinesis records with their sequence numbers."""
    leader, standby = nodes(2)
    sqs, sns, kinesis = client("sqs", standby), client("sns", standby), client("kinesis", standby)
    url = sqs.create_queue(QueueName="kept")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    topic = sns.create_topic(Name="kept")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": (
        '{"Statement":[{"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":"sqs:SendMessage",'
        f'"Resource":"{arn}","Condition":{{"ArnEquals":{{"aws:SourceArn":"{topic}"}}}}}}]}}')})
    kinesis.create_stream(StreamName="kept", ShardCount=1)
    wait_for(lambda: kinesis.describe_stream_summary(StreamName="kept")["StreamDescriptionSummary"]["StreamStatus"]
             == "ACTIVE", what="stream ACTIVE")
    sqs.send_message(QueueUrl=url, MessageBody="sent")
    in_flight = sqs.receive_message(QueueUrl=url, VisibilityTimeout=300)["Messages"][0]
    sqs.send_message(QueueUrl=url, MessageBody="waiting")
    put = [kinesis.put_record(StreamName="kept", Data=f"r{i}".encode(), PartitionKey="k") for i in range(5)]

    leader.kill()
    wait_for(lambda: role(standby)["role"] == "leader", what="the standby to lead")

    # SNS: the subscription survives and delivers.
    sns.publish(TopicArn=topic, Message="published after the takeover")
    bodies = set()
    wait_for(lambda: bodies.update(m["Body"] for m in sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])) or
        {"waiting", "published after the takeover"} <= bodies, what="both messages")
    assert "sent" not in bodies, "a message received before the takeover stays invisible for its timeout"
    sqs.delete_message(QueueUrl=url, ReceiptHandle=in_flight["ReceiptHandle"])
    # Kinesis: every acknowledged record, in order, and new ones after them.
    shard = put[0]["ShardId"]
    it = kinesis.get_shard_iterator(StreamName="kept", ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records = kinesis.get_records(ShardIterator=it)["Records"]
    assert [r["SequenceNumber"] for r in records] == [p["SequenceNumber"] for p in put]
    after = kinesis.put_record(StreamName="kept", Data=b"after", PartitionKey="k")["SequenceNumber"]
    assert int(after) > int(put[-1]["SequenceNumber"]), "sequence numbers keep increasing across writers"

    # The killed node comes back as a standby of the new leader.
    leader.start()
    assert role(leader) == {"role": "standby", "leader": standby.endpoint, "leader_answers": True,
                            "advertise": leader.endpoint}
    assert client("sqs", leader).get_queue_url(QueueName="kept")["QueueUrl"].endswith("/kept")


def test_postgres_dropping_every_connection_is_ridden_out(nodes):
    """Every eddy connection to PostgreSQL ends at once, as in a database restart: requests meanwhile fail
    with retryable 5xx errors (never a wrong answer), a node leads again on its own within seconds, and
    every acknowledged message is there exactly once."""
    leader, standby = nodes(2)
    clients = [client("sqs", leader), client("sqs", standby)]
    url = clients[0].create_queue(QueueName="ridden")["QueueUrl"]
    acked, failures = [], {}
    for i in range(20):
        clients[i % 2].send_message(QueueUrl=url, MessageBody=f"before-{i}")
        acked.append(f"before-{i}")
    ended = int(psql(f"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                     f"WHERE application_name LIKE 'eddy%' AND pid <> pg_backend_pid()").strip())
    assert ended >= 2, "the leader's lock and pool connections, the standbys' watches"
    deadline = time.monotonic() + 6
    i = 0
    while time.monotonic() < deadline:
        body = f"during-{i}"
        try:
            clients[i % 2].send_message(QueueUrl=url, MessageBody=body)
            acked.append(body)
        except ClientError as e:
            code, status = error_of(e)
            assert status in (500, 503), (code, status)
            failures[code] = failures.get(code, 0) + 1
        i += 1
        time.sleep(0.01)
    assert sum(failures.values()) < i, "requests succeed again after the takeover"
    leaders = [n for n in (leader, standby) if role(n)["role"] == "leader"]
    assert len(leaders) == 1
    got = []
    while msgs := clients[0].receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages"):
        got += [m["Body"] for m in msgs]
        clients[0].delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(msgs)])
    assert sorted(got) == sorted(acked), f"failures during the outage: {failures}"


def fnv_key(tag: str, schema: str) -> int:
    """The schema lock's advisory key, as crates/eddy-store/src/postgres_engine/lock.rs computes it."""
    h = 0xCBF29CE484222325
    for b in (tag + schema).encode():
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h - (1 << 64) if h >= 1 << 63 else h


def test_with_no_leader_a_node_answers_each_protocols_503(schema, tmp_path):
    """While another session holds the schema (a leader still starting, say), a node stands by with no one
    to relay to: health is 503 and each protocol gets its own retryable ServiceUnavailable."""
    key = fnv_key("eddy-schema:", schema)
    holder_name = f"lock-holder-{schema}"
    holder = subprocess.Popen(["psql", "-qtA", PG, "-c", f"SELECT pg_advisory_lock({key}); SELECT pg_sleep(60)"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env={**os.environ, "PGAPPNAME": holder_name})
    node = EddyServer(BINARY, tmp_path / "data", _free_port(), tmp_path / "eddy.log")
    try:
        time.sleep(0.5)  # psql has the lock
        # Started by hand: EddyServer.start waits for a 200 that cannot come yet.
        with open(node.log_path, "ab") as log:
            node.proc = subprocess.Popen([BINARY, "serve", "--listen", f"127.0.0.1:{node.port}"],
                                         stdout=log, stderr=subprocess.STDOUT)
        # (A list: a 503 response is falsy.)
        [health] = wait_for(lambda: [requests.get(node.endpoint + "/_eddy/health", timeout=1)], what="an answer")
        assert health.status_code == 503
        assert health.json()["cluster"] == {"role": "standby", "leader": None, "leader_answers": False,
                                            "advertise": node.endpoint}
        for service, call in (("sqs", lambda c: c.list_queues()), ("sns", lambda c: c.list_topics()),
                              ("kinesis", lambda c: c.list_streams())):
            with pytest.raises(ClientError) as e:
                call(client(service, node))
            assert error_of(e.value) == ("ServiceUnavailable", 503), service
        # The holder's session ends: the node takes the schema, creates it and leads.
        psql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '{holder_name}'")
        wait_for(lambda: role(node)["role"] == "leader", what="the node to lead")
        assert client("sqs", node).list_queues().get("QueueUrls", []) == []
    finally:
        psql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '{holder_name}'")
        holder.kill()
        node.stop()


def subscribed(kinesis, stream: str):
    """A one-shard stream, an enhanced fan-out consumer of it, and that consumer's subscription (from LATEST)."""
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    summary = lambda: kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]  # noqa: E731
    wait_for(lambda: summary()["StreamStatus"] == "ACTIVE", what="stream ACTIVE")
    consumer = kinesis.register_stream_consumer(StreamARN=summary()["StreamARN"], ConsumerName="c")["Consumer"]
    arn = consumer["ConsumerARN"]
    wait_for(lambda: kinesis.describe_stream_consumer(ConsumerARN=arn)["ConsumerDescription"]["ConsumerStatus"]
             == "ACTIVE", what="consumer ACTIVE")
    shard = kinesis.list_shards(StreamName=stream)["Shards"][0]["ShardId"]
    return kinesis.subscribe_to_shard(ConsumerARN=arn, ShardId=shard, StartingPosition={"Type": "LATEST"})["EventStream"]


def test_subscribe_to_shard_streams_through_a_standby(nodes):
    """SubscribeToShard's event stream is relayed as it is produced, not buffered until it ends."""
    leader, standby = nodes(2)
    kinesis = client("kinesis", standby, read_timeout=30)
    events = subscribed(kinesis, "pushed")
    started = time.monotonic()
    client("kinesis", leader).put_record(StreamName="pushed", Data=b"pushed", PartitionKey="k")
    for event in events:
        records = event["SubscribeToShardEvent"]["Records"]
        if records:
            assert records[0]["Data"] == b"pushed"
            break
    assert time.monotonic() - started < 5, "the record arrived while the subscription was open"
    events.close()


def test_a_leader_that_loses_its_lock_ends_its_subscriptions(nodes, schema):
    """The leader's lock session ends while it lives (its other connections do not): it stops leading within
    about a second, and a SubscribeToShard it serves ends instead of going quiet, so the consumer subscribes
    again, to the new leader."""
    leader, standby = nodes(2)
    kinesis = client("kinesis", leader, read_timeout=30)
    events = subscribed(kinesis, "ended")
    end_lock_session(schema)
    started = time.monotonic()
    for _ in events:  # heartbeats until the stream ends
        assert time.monotonic() - started < 15, "the subscription outlived its node's leadership"
    assert time.monotonic() - started < 15
    wait_for(lambda: role(standby)["role"] == "leader" or role(leader)["role"] == "leader", what="a new leader")


def end_lock_session(schema: str) -> None:
    """Ends the session holding the schema's lock (the leader's), and only that one."""
    key = fnv_key("eddy-schema:", schema)
    high, low = (key & 0xFFFFFFFFFFFFFFFF) >> 32, key & 0xFFFFFFFF
    ended = psql(f"SELECT count(pg_terminate_backend(pid)) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                 f"AND mode = 'ExclusiveLock' AND classid = {high} AND objid = {low} AND objsubid = 1").strip()
    assert ended == "1"


def test_a_long_poll_on_a_node_that_stops_leading_returns_at_once(nodes, schema):
    """A ReceiveMessage parked (20 s) on the leader returns empty as soon as the leader steps down, and a message
    sent after the takeover reaches the client's next poll: no 20 s of deafness."""
    import threading

    leader, standby = nodes(2)
    sqs = client("sqs", leader, read_timeout=30)
    url = sqs.create_queue(QueueName="parked")["QueueUrl"]
    answer = {}

    def poll():
        started = time.monotonic()
        answer["messages"] = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20).get("Messages", [])
        answer["secs"] = time.monotonic() - started

    poller = threading.Thread(target=poll)
    poller.start()
    time.sleep(0.5)
    end_lock_session(schema)
    poller.join(25)
    assert answer["messages"] == [] and answer["secs"] < 5, answer
    other = client("sqs", standby)
    wait_for(lambda: other.send_message(QueueUrl=url, MessageBody="after"), what="a send after the takeover")
    got = wait_for(lambda: sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5).get("Messages"), what="the message")
    assert [m["Body"] for m in got] == ["after"]


def test_a_request_is_relayed_once_at_most(nodes):
    """A standby's view of the leader can lag while leadership moves, naming a node that no longer leads (even
    itself). A request a standby already relayed is not relayed again: it gets the protocol's 503 instead of
    bouncing between nodes until its headers overflow (a 431 was seen)."""
    leader, standby = nodes(2)
    headers = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AmazonSQS.ListQueues"}
    relayed = requests.post(standby.endpoint, data="{}", headers={**headers, "x-eddy-relayed": "1"}, timeout=5)
    assert relayed.status_code == 503, relayed.text
    assert relayed.json()["__type"].endswith("ServiceUnavailable"), relayed.text
    assert requests.post(standby.endpoint, data="{}", headers=headers, timeout=5).status_code == 200


def with_headers(sqs, headers: dict):
    """`sqs` sending `headers` with every request."""
    sqs.meta.events.register("before-send.sqs.*", lambda request, **_: request.headers.update(headers))
    return sqs


def test_a_relayed_request_keeps_the_clients_address_for_source_ip(nodes, schema):
    """Under --enforce-iam, aws:SourceIp of a request a standby relays is the client's address: the standby adds
    it to X-Forwarded-For with the leader's relay token (which only nodes can read, in PostgreSQL), and the leader
    trusts that header only with the token, so no client can claim an address."""
    leader, standby = nodes(2, extra_args=["--enforce-iam"])
    root = "111111111111"  # a 12-digit key is its account's root
    url = client("sqs", leader, root).create_queue(QueueName=f"ip-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    iam = client("iam", leader, root)
    user = f"u-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=user)
    statement = {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*",
                 "Condition": {"IpAddress": {"aws:SourceIp": "10.20.30.40/32"}}}
    iam.put_user_policy(UserName=user, PolicyName="p",
                        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [statement]}))
    key = iam.create_access_key(UserName=user)["AccessKey"]

    def send(node, headers):
        sqs = with_headers(client("sqs", node, key["AccessKeyId"], key["SecretAccessKey"]), headers)
        try:
            sqs.send_message(QueueUrl=url, MessageBody="x")
            return "sent"
        except ClientError as e:
            return error_of(e)[0]

    claim = {"X-Forwarded-For": "10.20.30.40"}
    token = psql(f"SELECT relay_token FROM {schema}.cluster_leader").strip()
    assert len(token) >= 32, token
    # The client's own address (127.0.0.1) is not in the range, and claiming one changes nothing: the standby
    # adds the address it sees last, and the leader trusts nobody else's header.
    assert send(standby, {}) == "AccessDenied"
    assert send(standby, claim) == "AccessDenied"
    assert send(leader, {**claim, "x-eddy-relayed": "guess"}) == "AccessDenied"
    # A request bearing the relay token is taken at its word: the address is the one the relaying node saw.
    assert send(leader, {**claim, "x-eddy-relayed": token}) == "sent"


def test_a_standby_whose_leader_cannot_be_reached_says_so(nodes, tmp_path):
    """A leader that advertises a URL the other nodes cannot reach (a wrong --advertise-url) leaves every relayed
    request failing; the standby's health says so (503, leader_answers false), so a load balancer stops sending
    it requests and the operator sees why."""
    nodes(1, extra_args=["--advertise-url", "http://127.0.0.1:9"])
    standby = EddyServer(BINARY, tmp_path / "standby", _free_port(), tmp_path / "standby.log")
    standby.wait_healthy = lambda *args, **kwargs: None  # it never will be
    standby.start()
    try:
        def named():  # (a list: a 503 response is falsy)
            r = requests.get(standby.endpoint + "/_eddy/health", timeout=5)
            return [r] if r.json().get("cluster", {}).get("leader") else None

        [health] = wait_for(named, what="the standby to name the leader")
        assert health.status_code == 503, health.text
        cluster = health.json()["cluster"]
        assert (cluster["role"], cluster["leader"], cluster["leader_answers"]) == ("standby", "http://127.0.0.1:9", False)
        with pytest.raises(ClientError) as e:
            client("sqs", standby).list_queues()
        assert error_of(e.value) == ("ServiceUnavailable", 503)
    finally:
        standby.stop()
