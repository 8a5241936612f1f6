"""EventBridge Pipes (restJson1, 2015-10-07), end to end with boto3: pipe CRUD and its states,
validation errors, listing filters and pages, tags, and pipes running from SQS and Kinesis sources
through filters, an API destination enrichment and input templates into SQS (FIFO too), an event
bus, the outbox, and a Kinesis source's dead-letter queue.

Sources: the Pipes API model (botocore data/pipes/2015-10-07/service-2.json: operations and URIs,
members and their constraints: Name 1-64 of [.-_A-Za-z0-9], BatchSize 1-10000,
MaximumBatchingWindowInSeconds 0-300, MaximumRetryAttempts -1..10000, at most 5 filters; the
PipeState and RequestedPipeState enums, DeletePipe answering DesiredState DELETED; the error shapes
and statuses: ValidationException 400 with `fieldList`, NotFoundException 404, ConflictException
409 with resourceId/resourceType; TagResource's `tags` map and UntagResource's `tagKeys` query),
and the EventBridge user guide on Pipes: sources ("Amazon SQS message queue as a source": the record
shape with messageId, receiptHandle, body, attributes, messageAttributes, md5OfBody, eventSource
aws:sqs, eventSourceARN, awsRegion; an SQS batch above 10 needs a batching window; "Kinesis stream
as a source": kinesisSchemaVersion, partitionKey, sequenceNumber, base64 data,
approximateArrivalTimestamp, eventSource aws:kinesis, eventID, StartingPosition), "Event filtering"
(each filter an event pattern, a JSON body or Kinesis data matched as JSON; SQS messages that do
not match are deleted), "Target input transformation" (`<$.path>` placeholders, body data parsed
implicitly, reserved `<aws.pipes.pipe-name>`), "Event enrichment" (the enrichment's response is
what goes on to the target), "Amazon EventBridge event bus as a target" (DetailType and Source
parameters), the SQS FIFO target's MessageGroupId, and the stream DLQ's batch description
(KinesisBatchInfo: shardId, startSequenceNumber, endSequenceNumber, batchSize, streamArn).
"""

import base64
import json
import os
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from botocore.exceptions import ClientError

from conftest import make_client, unique_name

pytestmark = pytest.mark.skipif(
    os.environ.get("EDDY_EXPECT_PROTOCOL") == "query", reason="restJson1 in both passes; run once"
)

ROLE = "arn:aws:iam::000000000000:role/pipes-role"


@pytest.fixture(scope="session")
def pipes(endpoint):
    return make_client(endpoint, service="pipes")


@pytest.fixture(scope="session")
def pipes_unchecked(endpoint):
    """A client that does not check members itself, so the server's validation is what answers."""
    return make_client(endpoint, service="pipes", parameter_validation=False)


@pytest.fixture
def create_pipe(pipes):
    made = []

    def _create(name=None, **members):
        name = name or unique_name("pipe")
        members.setdefault("RoleArn", ROLE)
        resp = pipes.create_pipe(Name=name, **members)
        made.append(name)
        return name, resp

    yield _create
    for name in made:
        try:
            pipes.delete_pipe(Name=name)
        except ClientError:
            pass


def err(excinfo):
    e = excinfo.value.response
    return e["Error"]["Code"], e["ResponseMetadata"]["HTTPStatusCode"], e


def wait_state(pipes, name, state, timeout=10):
    deadline = time.time() + timeout
    desc = pipes.describe_pipe(Name=name)
    while desc["CurrentState"] != state and time.time() < deadline:
        time.sleep(0.1)
        desc = pipes.describe_pipe(Name=name)
    assert desc["CurrentState"] == state, desc
    return desc


def queue_arn(sqs, url):
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def receive(sqs, url, count=1, timeout=15, **kwargs):
    """Receives (and deletes) messages until `count` arrived or the time is up."""
    got = []
    deadline = time.time() + timeout
    while len(got) < count and time.time() < deadline:
        msgs = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1, MaxNumberOfMessages=10, **kwargs).get("Messages", [])
        for m in msgs:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        got.extend(msgs)
    return got


def queue_counts(sqs, url):
    a = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(a["ApproximateNumberOfMessages"]), int(a["ApproximateNumberOfMessagesNotVisible"])


def stream_arn(kinesis, name):
    return kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]


def eddy_json(endpoint, path):
    with urllib.request.urlopen(endpoint + path, timeout=5) as r:
        return json.loads(r.read())


# --- CRUD and states ----------------------------------------------------------------------------


def test_pipe_lifecycle_and_states(pipes, sqs, create_queue, create_pipe):
    src, dst = create_queue(), create_queue()
    name, created = create_pipe(
        Source=queue_arn(sqs, src), Target=queue_arn(sqs, dst), Description="d1",
        SourceParameters={"SqsQueueParameters": {"BatchSize": 5}}, Tags={"team": "a"},
    )
    assert created["Name"] == name
    assert created["Arn"] == f"arn:aws:pipes:us-east-1:000000000000:pipe/{name}"
    assert created["DesiredState"] == "RUNNING"
    assert created["CurrentState"] == "CREATING"
    desc = wait_state(pipes, name, "RUNNING")
    assert desc["Source"] == queue_arn(sqs, src)
    assert desc["Target"] == queue_arn(sqs, dst)
    assert desc["RoleArn"] == ROLE
    assert desc["Description"] == "d1"
    assert desc["SourceParameters"]["SqsQueueParameters"]["BatchSize"] == 5
    assert desc["Tags"] == {"team": "a"}
    assert desc["CreationTime"] <= desc["LastModifiedTime"]

    stopped = pipes.stop_pipe(Name=name)
    assert (stopped["DesiredState"], stopped["CurrentState"]) == ("STOPPED", "STOPPING")
    wait_state(pipes, name, "STOPPED")
    started = pipes.start_pipe(Name=name)
    assert (started["DesiredState"], started["CurrentState"]) == ("RUNNING", "STARTING")
    wait_state(pipes, name, "RUNNING")

    updated = pipes.update_pipe(Name=name, RoleArn=ROLE, Description="d2",
                                SourceParameters={"SqsQueueParameters": {"BatchSize": 7}})
    assert updated["CurrentState"] == "UPDATING"
    desc = wait_state(pipes, name, "RUNNING")
    assert desc["Description"] == "d2"
    assert desc["SourceParameters"]["SqsQueueParameters"]["BatchSize"] == 7
    assert desc["Target"] == queue_arn(sqs, dst)

    deleted = pipes.delete_pipe(Name=name)
    assert (deleted["DesiredState"], deleted["CurrentState"]) == ("DELETED", "DELETING")
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            pipes.describe_pipe(Name=name)
            time.sleep(0.1)
        except ClientError as e:
            assert e.response["Error"]["Code"] == "NotFoundException"
            break
    else:
        pytest.fail("the pipe was never deleted")


def test_created_stopped_and_source_missing(pipes, sqs, create_queue, create_pipe):
    dst = queue_arn(sqs, create_queue())
    name, created = create_pipe(Source=dst, Target=dst, DesiredState="STOPPED")
    assert created["DesiredState"] == "STOPPED"
    wait_state(pipes, name, "STOPPED")
    missing = "arn:aws:sqs:us-east-1:000000000000:" + unique_name("nope")
    name2, _ = create_pipe(Source=missing, Target=dst)
    desc = wait_state(pipes, name2, "CREATE_FAILED")
    assert desc["StateReason"]


def test_conflict_and_not_found(pipes, sqs, create_queue, create_pipe):
    q = queue_arn(sqs, create_queue())
    name, _ = create_pipe(Source=q, Target=q)
    with pytest.raises(ClientError) as e:
        pipes.create_pipe(Name=name, Source=q, Target=q, RoleArn=ROLE)
    code, status, body = err(e)
    assert (code, status) == ("ConflictException", 409)
    assert body.get("resourceId") == name or body["Error"].get("resourceId", name) == name
    for call in (pipes.describe_pipe, pipes.start_pipe, pipes.stop_pipe, pipes.delete_pipe):
        with pytest.raises(ClientError) as e:
            call(Name=unique_name("missing"))
        assert err(e)[:2] == ("NotFoundException", 404)


@pytest.mark.parametrize("members", [
    {"Name": "bad name!"},
    {"Name": "x" * 65},
    {"RoleArn": "not-a-role"},
    {"Target": "not-an-arn"},
    {"DesiredState": "PAUSED"},
    {"SourceParameters": {"SqsQueueParameters": {"BatchSize": 0}}},
    {"SourceParameters": {"SqsQueueParameters": {"BatchSize": 10001, "MaximumBatchingWindowInSeconds": 5}}},
    {"SourceParameters": {"SqsQueueParameters": {"BatchSize": 20}}},
    {"SourceParameters": {"SqsQueueParameters": {"MaximumBatchingWindowInSeconds": 301}}},
    {"SourceParameters": {"FilterCriteria": {"Filters": [{"Pattern": "{}"}] * 6}}},
    {"SourceParameters": {"FilterCriteria": {"Filters": [{"Pattern": "not json"}]}}},
    {"Description": "x" * 513},
])
def test_validation_errors(pipes_unchecked, sqs, create_queue, members):
    q = queue_arn(sqs, create_queue())
    req = {"Name": unique_name("pipe"), "Source": q, "Target": q, "RoleArn": ROLE, **members}
    with pytest.raises(ClientError) as e:
        pipes_unchecked.create_pipe(**req)
    code, status, _ = err(e)
    assert (code, status) == ("ValidationException", 400)


def test_validation_names_the_member_in_field_list(endpoint, pipes_unchecked, sqs, create_queue):
    q = queue_arn(sqs, create_queue())
    with pytest.raises(ClientError) as e:
        pipes_unchecked.create_pipe(Name="bad name!", Source=q, Target=q, RoleArn=ROLE)
    body = e.value.response
    fields = body.get("fieldList") or body["Error"].get("fieldList")
    assert fields and fields[0]["name"] and fields[0]["message"]


def test_kinesis_source_needs_a_starting_position(pipes_unchecked, sqs, kinesis, create_queue, stream):
    q = queue_arn(sqs, create_queue())
    src = stream_arn(kinesis, stream)
    with pytest.raises(ClientError) as e:
        pipes_unchecked.create_pipe(Name=unique_name("pipe"), Source=src, Target=q, RoleArn=ROLE)
    assert err(e)[:2] == ("ValidationException", 400)
    with pytest.raises(ClientError) as e:
        pipes_unchecked.create_pipe(
            Name=unique_name("pipe"), Source=src, Target=q, RoleArn=ROLE,
            SourceParameters={"KinesisStreamParameters": {"StartingPosition": "TRIM_HORIZON", "MaximumRetryAttempts": 10001}},
        )
    assert err(e)[:2] == ("ValidationException", 400)


def test_fifo_target_needs_a_message_group(pipes_unchecked, sqs, create_queue):
    src = queue_arn(sqs, create_queue())
    fifo = queue_arn(sqs, create_queue(fifo=True))
    with pytest.raises(ClientError) as e:
        pipes_unchecked.create_pipe(Name=unique_name("pipe"), Source=src, Target=fifo, RoleArn=ROLE)
    assert err(e)[:2] == ("ValidationException", 400)


def test_list_filters_and_pages(pipes, sqs, create_queue, create_pipe):
    a, b = queue_arn(sqs, create_queue()), queue_arn(sqs, create_queue())
    prefix = unique_name("lst")
    names = [create_pipe(name=f"{prefix}-{i}", Source=a, Target=b if i else a,
                         DesiredState="STOPPED" if i == 2 else "RUNNING")[0] for i in range(3)]
    for n in names:
        wait_state(pipes, n, "STOPPED" if n.endswith("-2") else "RUNNING")
    listed = pipes.list_pipes(NamePrefix=prefix)["Pipes"]
    assert sorted(p["Name"] for p in listed) == names
    first = listed[0]
    assert set(first) >= {"Name", "Arn", "DesiredState", "CurrentState", "Source", "Target", "CreationTime", "LastModifiedTime"}
    assert [p["Name"] for p in pipes.list_pipes(NamePrefix=prefix, DesiredState="STOPPED")["Pipes"]] == [names[2]]
    assert [p["Name"] for p in pipes.list_pipes(NamePrefix=prefix, CurrentState="STOPPED")["Pipes"]] == [names[2]]
    assert [p["Name"] for p in pipes.list_pipes(NamePrefix=prefix, TargetPrefix=a)["Pipes"]] == [names[0]]
    assert len(pipes.list_pipes(NamePrefix=prefix, SourcePrefix=a)["Pipes"]) == 3
    page1 = pipes.list_pipes(NamePrefix=prefix, Limit=2)
    assert len(page1["Pipes"]) == 2 and page1["NextToken"]
    page2 = pipes.list_pipes(NamePrefix=prefix, Limit=2, NextToken=page1["NextToken"])
    assert [p["Name"] for p in page1["Pipes"] + page2["Pipes"]] == names
    assert "NextToken" not in page2
    paged = [p["Name"] for page in pipes.get_paginator("list_pipes").paginate(NamePrefix=prefix, PaginationConfig={"PageSize": 1}) for p in page["Pipes"]]
    assert paged == names


def test_tags(pipes, sqs, create_queue, create_pipe):
    q = queue_arn(sqs, create_queue())
    name, created = create_pipe(Source=q, Target=q, Tags={"a": "1"})
    arn = created["Arn"]
    assert pipes.list_tags_for_resource(resourceArn=arn)["tags"] == {"a": "1"}
    pipes.tag_resource(resourceArn=arn, tags={"b": "2", "a": "3"})
    assert pipes.list_tags_for_resource(resourceArn=arn)["tags"] == {"a": "3", "b": "2"}
    pipes.untag_resource(resourceArn=arn, tagKeys=["a", "zzz"])
    assert pipes.list_tags_for_resource(resourceArn=arn)["tags"] == {"b": "2"}
    assert pipes.describe_pipe(Name=name)["Tags"] == {"b": "2"}
    with pytest.raises(ClientError) as e:
        pipes.list_tags_for_resource(resourceArn=arn + "-missing")
    assert err(e)[:2] == ("NotFoundException", 404)


# --- SQS sources --------------------------------------------------------------------------------


def test_sqs_to_sqs_with_filter_and_input_template(pipes, sqs, create_queue, create_pipe):
    src, dst = create_queue(), create_queue()
    name, _ = create_pipe(
        Source=queue_arn(sqs, src), Target=queue_arn(sqs, dst),
        SourceParameters={"FilterCriteria": {"Filters": [{"Pattern": json.dumps({"body": {"kind": ["keep"]}})}]}},
        TargetParameters={"InputTemplate": '{"id": <$.body.id>, "kind": "<$.body.kind>", "pipe": "<aws.pipes.pipe-name>", "msg": "<$.messageId>"}'},
    )
    wait_state(pipes, name, "RUNNING")
    sent = {}
    for i, kind in enumerate(["keep", "drop", "keep"]):
        sent[i] = sqs.send_message(QueueUrl=src, MessageBody=json.dumps({"id": i, "kind": kind}))["MessageId"]
    got = receive(sqs, dst, count=2)
    bodies = sorted((json.loads(m["Body"]) for m in got), key=lambda b: b["id"])
    assert bodies == [
        {"id": 0, "kind": "keep", "pipe": name, "msg": sent[0]},
        {"id": 2, "kind": "keep", "pipe": name, "msg": sent[2]},
    ]
    # The message no filter matched is deleted from the source too.
    deadline = time.time() + 5
    while queue_counts(sqs, src) != (0, 0) and time.time() < deadline:
        time.sleep(0.2)
    assert queue_counts(sqs, src) == (0, 0)
    assert receive(sqs, dst, count=1, timeout=2) == []


def test_sqs_record_shape_without_template(pipes, sqs, create_queue, create_pipe):
    src, dst = create_queue(), create_queue()
    name, _ = create_pipe(Source=queue_arn(sqs, src), Target=queue_arn(sqs, dst))
    wait_state(pipes, name, "RUNNING")
    sent = sqs.send_message(QueueUrl=src, MessageBody="plain text",
                            MessageAttributes={"color": {"DataType": "String", "StringValue": "red"}})
    [m] = receive(sqs, dst)
    record = json.loads(m["Body"])
    assert record["messageId"] == sent["MessageId"]
    assert record["body"] == "plain text"
    assert record["md5OfBody"] == sent["MD5OfMessageBody"]
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == queue_arn(sqs, src)
    assert record["awsRegion"] == "us-east-1"
    assert record["receiptHandle"]
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert "SentTimestamp" in record["attributes"]
    assert record["messageAttributes"]["color"]["stringValue"] == "red"
    assert record["messageAttributes"]["color"]["dataType"] == "String"


def test_stopped_pipe_does_not_read(pipes, sqs, create_queue, create_pipe):
    src, dst = create_queue(), create_queue()
    name, _ = create_pipe(Source=queue_arn(sqs, src), Target=queue_arn(sqs, dst), DesiredState="STOPPED")
    wait_state(pipes, name, "STOPPED")
    sqs.send_message(QueueUrl=src, MessageBody="{}")
    time.sleep(1.5)
    assert queue_counts(sqs, src) == (1, 0)
    pipes.start_pipe(Name=name)
    wait_state(pipes, name, "RUNNING")
    assert len(receive(sqs, dst)) == 1


def test_sqs_to_event_bus_to_rule(pipes, sqs, events, create_queue, create_event_bus, put_rule, create_pipe):
    src, out = create_queue(), create_queue()
    bus_name = create_event_bus()
    bus = events.describe_event_bus(Name=bus_name)
    rule_source = unique_name("pipes.test")
    rule_name, _ = put_rule(pattern={"source": [rule_source]}, bus=bus_name)
    sqs.set_queue_attributes(QueueUrl=out, Attributes={"Policy": json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                                                 "Action": "sqs:SendMessage", "Resource": queue_arn(sqs, out)}]})})
    events.put_targets(Rule=rule_name, EventBusName=bus_name, Targets=[{"Id": "q", "Arn": queue_arn(sqs, out)}])
    name, _ = create_pipe(
        Source=queue_arn(sqs, src), Target=bus["Arn"],
        TargetParameters={"EventBridgeEventBusParameters": {"DetailType": "order", "Source": rule_source}},
    )
    wait_state(pipes, name, "RUNNING")
    sent = sqs.send_message(QueueUrl=src, MessageBody=json.dumps({"order": 7}))
    [m] = receive(sqs, out)
    event = json.loads(m["Body"])
    assert event["source"] == rule_source
    assert event["detail-type"] == "order"
    assert event["detail"]["messageId"] == sent["MessageId"]
    assert json.loads(event["detail"]["body"]) == {"order": 7}


def test_fifo_target_gets_the_message_group(pipes, sqs, create_queue, create_pipe):
    src = create_queue()
    fifo = create_queue(fifo=True)
    name, _ = create_pipe(
        Source=queue_arn(sqs, src), Target=queue_arn(sqs, fifo),
        TargetParameters={"SqsQueueParameters": {"MessageGroupId": "g1"}, "InputTemplate": "<$.body.n>"},
    )
    wait_state(pipes, name, "RUNNING")
    for n in range(3):
        sqs.send_message(QueueUrl=src, MessageBody=json.dumps({"n": n}))
    got = receive(sqs, fifo, count=3, MessageSystemAttributeNames=["MessageGroupId"])
    assert sorted(m["Body"] for m in got) == ["0", "1", "2"]
    assert {m["Attributes"]["MessageGroupId"] for m in got} == {"g1"}


def test_other_targets_are_recorded_in_the_outbox(endpoint, pipes, sqs, create_queue, create_pipe):
    src = create_queue()
    fn = "arn:aws:lambda:us-east-1:000000000000:function:" + unique_name("fn")
    name, created = create_pipe(Source=queue_arn(sqs, src), Target=fn)
    wait_state(pipes, name, "RUNNING")
    sqs.send_message(QueueUrl=src, MessageBody=json.dumps({"x": 1}))
    deadline = time.time() + 10
    mine = []
    while not mine and time.time() < deadline:
        entries = eddy_json(endpoint, "/_eddy/pipes/outbox?limit=1000")["entries"]
        mine = [e for e in entries if e["arn"] == fn]
        time.sleep(0.2)
    assert mine, "no outbox entry"
    batch = json.loads(mine[0]["input"])
    assert isinstance(batch, list) and json.loads(batch[0]["body"]) == {"x": 1}
    assert mine[0]["pipe_arn"] == created["Arn"]
    stats = eddy_json(endpoint, "/_eddy/pipes/stats")
    assert {"processed", "filtered", "delivered", "failed"} <= set(stats)


# --- Enrichment ---------------------------------------------------------------------------------


class Enricher:
    """A local HTTP endpoint answering each request with {"enriched": true, "got": <its JSON body>}."""

    def __init__(self):
        self.requests = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.requests.append((self.path, dict(self.headers), body))
                data = json.dumps({"enriched": True, "got": json.loads(body)}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


def test_enrichment_through_an_api_destination(pipes, sqs, create_queue, create_connection, create_api_destination, create_pipe):
    enricher = Enricher()
    try:
        _, conn_arn, _ = create_connection("API_KEY", {"ApiKeyAuthParameters": {"ApiKeyName": "x-key", "ApiKeyValue": "s3cret"}})
        _, dest_arn, _ = create_api_destination(conn_arn, enricher.base + "/enrich", "POST")
        src, dst = create_queue(), create_queue()
        name, _ = create_pipe(
            Source=queue_arn(sqs, src), Target=queue_arn(sqs, dst), Enrichment=dest_arn,
            EnrichmentParameters={"InputTemplate": '{"order": <$.body.order>}'},
        )
        wait_state(pipes, name, "RUNNING")
        assert pipes.describe_pipe(Name=name)["Enrichment"] == dest_arn
        sqs.send_message(QueueUrl=src, MessageBody=json.dumps({"order": 42}))
        [m] = receive(sqs, dst)
        assert json.loads(m["Body"]) == {"enriched": True, "got": {"order": 42}}
        path, headers, _ = enricher.requests[0]
        assert path == "/enrich"
        assert {k.lower(): v for k, v in headers.items()}["x-key"] == "s3cret"
    finally:
        enricher.close()


# --- Kinesis sources ----------------------------------------------------------------------------


def test_kinesis_to_sqs_from_trim_horizon(pipes, sqs, kinesis, create_queue, stream, create_pipe):
    dst = create_queue()
    for i in range(3):
        kinesis.put_record(StreamName=stream, Data=json.dumps({"i": i}).encode(), PartitionKey=f"pk{i}")
    name, _ = create_pipe(
        Source=stream_arn(kinesis, stream), Target=queue_arn(sqs, dst),
        SourceParameters={"KinesisStreamParameters": {"StartingPosition": "TRIM_HORIZON", "BatchSize": 2},
                          "FilterCriteria": {"Filters": [{"Pattern": json.dumps({"data": {"i": [0, 2]}})}]}},
    )
    wait_state(pipes, name, "RUNNING")
    got = receive(sqs, dst, count=2)
    records = sorted((json.loads(m["Body"]) for m in got), key=lambda r: r["partitionKey"])
    assert [json.loads(base64.b64decode(r["data"])) for r in records] == [{"i": 0}, {"i": 2}]
    r = records[0]
    assert r["partitionKey"] == "pk0"
    assert r["eventSource"] == "aws:kinesis"
    assert r["eventSourceARN"] == stream_arn(kinesis, stream)
    assert r["kinesisSchemaVersion"] == "1.0"
    assert r["eventID"] == f"shardId-000000000000:{r['sequenceNumber']}"
    assert isinstance(r["approximateArrivalTimestamp"], float)
    assert receive(sqs, dst, count=1, timeout=2) == []


@pytest.mark.restart
def test_kinesis_latest_and_checkpoint_survive_a_restart(pipes, sqs, kinesis, create_queue, stream, create_pipe, restart_server):
    dst = create_queue()
    kinesis.put_record(StreamName=stream, Data=b'{"when": "before"}', PartitionKey="a")
    name, _ = create_pipe(
        Source=stream_arn(kinesis, stream), Target=queue_arn(sqs, dst),
        SourceParameters={"KinesisStreamParameters": {"StartingPosition": "LATEST"}},
        TargetParameters={"InputTemplate": "<$.data.when>"},
    )
    wait_state(pipes, name, "RUNNING")
    kinesis.put_record(StreamName=stream, Data=b'{"when": "after"}', PartitionKey="a")
    assert [m["Body"] for m in receive(sqs, dst)] == ["after"]
    time.sleep(1)  # the checkpoint is written once the batch is delivered
    restart_server(hard=True)
    wait_state(pipes, name, "RUNNING")
    kinesis.put_record(StreamName=stream, Data=b'{"when": "restarted"}', PartitionKey="a")
    assert [m["Body"] for m in receive(sqs, dst, count=2, timeout=8)] == ["restarted"]


def test_kinesis_batch_that_fails_goes_to_the_dead_letter_queue(pipes, sqs, kinesis, create_queue, stream, create_pipe):
    dlq = create_queue()
    missing_target = "arn:aws:sqs:us-east-1:000000000000:" + unique_name("gone")
    for i in range(2):
        kinesis.put_record(StreamName=stream, Data=json.dumps({"i": i}).encode(), PartitionKey="k")
    name, created = create_pipe(
        Source=stream_arn(kinesis, stream), Target=missing_target,
        SourceParameters={"KinesisStreamParameters": {
            "StartingPosition": "TRIM_HORIZON", "MaximumRetryAttempts": 0, "DeadLetterConfig": {"Arn": queue_arn(sqs, dlq)},
        }},
    )
    wait_state(pipes, name, "RUNNING")
    [m] = receive(sqs, dlq)
    body = json.loads(m["Body"])
    info = body["KinesisBatchInfo"]
    assert info["shardId"] == "shardId-000000000000"
    assert info["batchSize"] == 2
    assert info["streamArn"] == stream_arn(kinesis, stream)
    assert info["startSequenceNumber"] < info["endSequenceNumber"] or len(info["startSequenceNumber"]) < len(info["endSequenceNumber"])
    assert body["context"]["partnerResourceArn"] == created["Arn"]
