"""EventBridge delivery, end to end: PutEvents -> rule -> SQS (standard and FIFO), SNS, Kinesis,
another event bus; rules that must not deliver; resource policies on the target.

Sources: EventBridge user guide ("Amazon EventBridge events" for the envelope: version "0", id,
detail-type, source, account, time, region, resources, detail; "Using resource-based policies for
Amazon EventBridge": an SQS queue / SNS topic target must allow events.amazonaws.com with
aws:SourceArn = the rule ARN; "Sending and receiving events between event buses in the same
account and Region" (needs a role); Kinesis targets take KinesisParameters.PartitionKeyPath and a
role; SqsParameters.MessageGroupId for FIFO queues), the PutEvents API reference (Time, Resources,
EventBusName as name or ARN), and AWS-recorded deliveries in LocalStack's
tests/aws/services/events/test_events_targets.snapshot.json (TestEventsTargetSqs, TestEventsTargetSns,
TestEventsTargetKinesis, TestEventsTargetEvents::test_put_events_with_target_events[bus_combination0])
and test_events.snapshot.json (TestEvents::test_put_events_with_time_field: the delivered id is the
EventId PutEvents answered; test_put_events_response_entries_order: one event, the same id in
every target).

A queue without a policy for the rule gets nothing: AWS drops silently; eddy counts the drop under
droppedByPolicy in GET /_eddy/events/stats, which these tests use instead of waiting on absence. For
"must not deliver" cases a later matching event acts as a sentinel: once it arrived, whatever was
put before it and was going to arrive has arrived.

The MessageDeduplicationId of a FIFO delivery being the event id is the behaviour this project's
brief specifies (AWS's docs say no more than that a FIFO target needs a MessageGroupId).
"""

import json
import time
from datetime import datetime, timezone

import pytest

from conftest import unique_name
from events_helpers import (
    EVENTS_PRINCIPAL,
    SKIP_SECOND_PASS,
    allow_events,
    assert_event_envelope,
    assert_no_more,
    bus_arn,
    dropped_by_policy,
    entry,
    events_queue_policy,
    events_topic_policy,
    new_source,
    pattern_for,
    put_ok,
    rule_to_queue,
    wait_dropped,
    wait_event,
    wait_one,
)
from iam_helpers import iam_client
from kinesis_helpers import list_shards, read_shard, stream_arn
from sns_helpers import subscribe_queue
from sqs_helpers import get_arn, sys_attr_kwargs

pytestmark = SKIP_SECOND_PASS

DETAIL = {"command": "update-account", "payload": {"acc_id": "0a787ecb-4015", "sf_id": "baz"}}


@pytest.fixture(scope="module")
def events_role(endpoint):
    """A role EventBridge may assume, allowed to put into Kinesis streams and event buses."""
    iam = iam_client(endpoint)
    name = unique_name("events-role")
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": EVENTS_PRINCIPAL}, "Action": "sts:AssumeRole"}],
    }
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    allow = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["kinesis:PutRecord", "kinesis:PutRecords", "events:PutEvents"], "Resource": "*"}],
    }
    iam.put_role_policy(RoleName=name, PolicyName="deliver", PolicyDocument=json.dumps(allow))
    yield arn
    try:
        iam.delete_role_policy(RoleName=name, PolicyName="deliver")
        iam.delete_role(RoleName=name)
    except Exception:
        pass


# ----------------------------------------------------------------- SQS


def test_sqs_target_gets_the_event_json(events, sqs, put_rule, queue):
    src = new_source()
    rule_to_queue(events, sqs, put_rule, queue, pattern_for(src))
    [event_id] = put_ok(events, [entry(src, "core.update-account-command", DETAIL)])
    event = wait_event(sqs, queue)
    assert_event_envelope(event, src, "core.update-account-command", DETAIL, event_id=event_id)


def test_time_and_resources_are_kept(events, sqs, put_rule, queue):
    src = new_source()
    rule_to_queue(events, sqs, put_rule, queue, pattern_for(src))
    resources = ["arn:aws:s3:::some-bucket", "arn:aws:ec2:us-east-1:000000000000:instance/i-0123"]
    put_ok(events, [entry(src, detail={"a": 1}, Time=datetime(2021, 3, 4, 5, 6, 7, tzinfo=timezone.utc), Resources=resources)])
    event = wait_event(sqs, queue)
    assert event["time"] == "2021-03-04T05:06:07Z"
    assert event["resources"] == resources


def test_time_defaults_to_now(events, sqs, put_rule, queue):
    src = new_source()
    rule_to_queue(events, sqs, put_rule, queue, pattern_for(src))
    before = time.time()
    put_ok(events, [entry(src)])
    event = wait_event(sqs, queue)
    t = datetime.strptime(event["time"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()
    assert before - 60 <= t <= time.time() + 60


def test_custom_bus_by_name_and_by_arn(events, sqs, put_rule, create_event_bus, queue):
    bus = create_event_bus()
    src = new_source()
    rule_to_queue(events, sqs, put_rule, queue, pattern_for(src), bus=bus)
    put_ok(events, [entry(src, detail={"via": "name"}, EventBusName=bus)])
    put_ok(events, [entry(src, detail={"via": "arn"}, EventBusName=bus_arn(bus))])
    got = sorted(json.loads(wait_one(sqs, queue)["Body"])["detail"]["via"] for _ in range(2))
    assert got == ["arn", "name"]


def test_rule_on_custom_bus_ignores_the_default_bus(events, sqs, put_rule, create_event_bus, queue):
    bus = create_event_bus()
    src = new_source()
    rule_to_queue(events, sqs, put_rule, queue, pattern_for(src), bus=bus)
    put_ok(events, [entry(src, detail={"bus": "default"})])
    put_ok(events, [entry(src, detail={"bus": "custom"}, EventBusName=bus)])
    assert wait_event(sqs, queue)["detail"] == {"bus": "custom"}
    assert_no_more(sqs, queue)


def test_two_targets_get_the_same_event(events, sqs, put_rule, create_queue):
    src = new_source()
    q1, q2 = create_queue(), create_queue()
    name, arn = put_rule(pattern=pattern_for(src))
    a1, a2 = allow_events(sqs, q1, arn), allow_events(sqs, q2, arn)
    events.put_targets(Rule=name, Targets=[{"Id": "one", "Arn": a1}, {"Id": "two", "Arn": a2}])
    [event_id] = put_ok(events, [entry(src)])
    assert wait_event(sqs, q1)["id"] == event_id
    assert wait_event(sqs, q2)["id"] == event_id


def test_two_matching_rules_each_deliver(events, sqs, put_rule, queue):
    src = new_source()
    name1, arn1 = put_rule(pattern=pattern_for(src))
    name2, arn2 = put_rule(pattern=json.dumps({"source": [src], "detail-type": ["thing.happened"]}))
    q_arn = get_arn(sqs, queue)
    policy = events_queue_policy(q_arn, arn1)
    policy["Statement"][0]["Condition"] = {"ArnEquals": {"aws:SourceArn": [arn1, arn2]}}
    sqs.set_queue_attributes(QueueUrl=queue, Attributes={"Policy": json.dumps(policy)})
    events.put_targets(Rule=name1, Targets=[{"Id": "q", "Arn": q_arn}])
    events.put_targets(Rule=name2, Targets=[{"Id": "q", "Arn": q_arn}])
    [event_id] = put_ok(events, [entry(src)])
    a, b = wait_event(sqs, queue), wait_event(sqs, queue)
    assert a["id"] == b["id"] == event_id


# ----------------------------------------------------------------- must not deliver


def test_disabled_rule_delivers_nothing(events, sqs, put_rule, queue):
    src = new_source()
    name, _, _ = rule_to_queue(events, sqs, put_rule, queue, pattern_for(src))
    events.disable_rule(Name=name)
    put_ok(events, [entry(src, detail={"n": 1})])
    events.enable_rule(Name=name)
    put_ok(events, [entry(src, detail={"n": 2})])
    assert wait_event(sqs, queue)["detail"] == {"n": 2}
    assert_no_more(sqs, queue)


def test_non_matching_event_delivers_nothing(events, sqs, put_rule, queue):
    src = new_source()
    rule_to_queue(events, sqs, put_rule, queue, json.dumps({"source": [src], "detail": {"state": ["on"]}}))
    put_ok(events, [entry(src, detail={"state": "off"}), entry(new_source(), detail={"state": "on"})])
    put_ok(events, [entry(src, detail={"state": "on"})])
    event = wait_event(sqs, queue)
    assert event["source"] == src and event["detail"] == {"state": "on"}
    assert_no_more(sqs, queue)


def test_pattern_on_detail_type_and_numeric(events, sqs, put_rule, queue):
    src = new_source()
    pattern = {"source": [src], "detail-type": ["order"], "detail": {"amount": [{"numeric": [">", 100]}]}}
    rule_to_queue(events, sqs, put_rule, queue, json.dumps(pattern))
    put_ok(events, [entry(src, "order", {"amount": 50}), entry(src, "refund", {"amount": 500})])
    put_ok(events, [entry(src, "order", {"amount": 500})])
    event = wait_event(sqs, queue)
    assert event["detail-type"] == "order" and event["detail"] == {"amount": 500}
    assert_no_more(sqs, queue)


def test_removed_target_gets_nothing(events, sqs, put_rule, create_queue):
    src = new_source()
    q_gone, q_kept = create_queue(), create_queue()
    name, arn = put_rule(pattern=pattern_for(src))
    events.put_targets(
        Rule=name, Targets=[{"Id": "gone", "Arn": allow_events(sqs, q_gone, arn)}, {"Id": "kept", "Arn": allow_events(sqs, q_kept, arn)}]
    )
    events.remove_targets(Rule=name, Ids=["gone"])
    [event_id] = put_ok(events, [entry(src)])
    assert wait_event(sqs, q_kept)["id"] == event_id
    assert_no_more(sqs, q_gone)


# ----------------------------------------------------------------- queue policy


def test_queue_without_policy_gets_nothing(events, sqs, endpoint, put_rule, queue):
    src = new_source()
    rule_to_queue(events, sqs, put_rule, queue, pattern_for(src), policy=False)
    before = dropped_by_policy(endpoint)
    put_ok(events, [entry(src)])
    wait_dropped(endpoint, before + 1)
    assert_no_more(sqs, queue)


def test_policy_for_another_rule_drops(events, sqs, endpoint, put_rule, queue):
    src = new_source()
    _, other_arn = put_rule(pattern=pattern_for(new_source()))
    name, arn = put_rule(pattern=pattern_for(src))
    q_arn = get_arn(sqs, queue)
    sqs.set_queue_attributes(QueueUrl=queue, Attributes={"Policy": json.dumps(events_queue_policy(q_arn, other_arn))})
    events.put_targets(Rule=name, Targets=[{"Id": "q", "Arn": q_arn}])
    before = dropped_by_policy(endpoint)
    put_ok(events, [entry(src)])
    wait_dropped(endpoint, before + 1)
    assert_no_more(sqs, queue)


def test_policy_for_another_service_drops(events, sqs, endpoint, put_rule, queue):
    src = new_source()
    name, arn = put_rule(pattern=pattern_for(src))
    q_arn = get_arn(sqs, queue)
    policy = events_queue_policy(q_arn, arn, Principal={"Service": "sns.amazonaws.com"})
    sqs.set_queue_attributes(QueueUrl=queue, Attributes={"Policy": json.dumps(policy)})
    events.put_targets(Rule=name, Targets=[{"Id": "q", "Arn": q_arn}])
    before = dropped_by_policy(endpoint)
    put_ok(events, [entry(src)])
    wait_dropped(endpoint, before + 1)
    assert_no_more(sqs, queue)


# ----------------------------------------------------------------- FIFO


def test_fifo_queue_target_with_message_group(events, sqs, put_rule, create_queue):
    src = new_source()
    fifo = create_queue(fifo=True)
    rule_to_queue(events, sqs, put_rule, fifo, pattern_for(src), SqsParameters={"MessageGroupId": "grp-1"})
    [event_id] = put_ok(events, [entry(src, detail={"n": 1})])
    m = wait_one(sqs, fifo, **sys_attr_kwargs(sqs, ["MessageGroupId", "MessageDeduplicationId"]))
    body = json.loads(m["Body"])
    assert body["id"] == event_id and body["detail"] == {"n": 1}
    assert m["Attributes"]["MessageGroupId"] == "grp-1"
    assert m["Attributes"]["MessageDeduplicationId"] == event_id


def test_fifo_queue_keeps_order_within_the_group(events, sqs, put_rule, create_queue):
    src = new_source()
    fifo = create_queue(fifo=True)
    rule_to_queue(events, sqs, put_rule, fifo, pattern_for(src), SqsParameters={"MessageGroupId": "g"})
    for i in range(3):
        put_ok(events, [entry(src, detail={"n": i})])
    got = [json.loads(wait_one(sqs, fifo)["Body"])["detail"]["n"] for _ in range(3)]
    assert got == [0, 1, 2]


# ----------------------------------------------------------------- SNS


def test_sns_topic_target(events, sqs, sns, put_rule, create_topic, queue):
    src = new_source()
    topic = create_topic()
    name, arn = put_rule(pattern=pattern_for(src))
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(events_topic_policy(topic, arn)))
    subscribe_queue(sns, sqs, topic, queue, raw=True)
    assert events.put_targets(Rule=name, Targets=[{"Id": "topic", "Arn": topic}])["FailedEntryCount"] == 0
    [event_id] = put_ok(events, [entry(src, "core.update-account-command", DETAIL)])
    event = wait_event(sqs, queue)
    assert_event_envelope(event, src, "core.update-account-command", DETAIL, event_id=event_id)


def test_sns_topic_target_non_raw_wraps_the_event(events, sqs, sns, put_rule, create_topic, queue):
    src = new_source()
    topic = create_topic()
    name, arn = put_rule(pattern=pattern_for(src))
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(events_topic_policy(topic, arn)))
    subscribe_queue(sns, sqs, topic, queue)
    events.put_targets(Rule=name, Targets=[{"Id": "topic", "Arn": topic}])
    [event_id] = put_ok(events, [entry(src, detail={"x": 1})])
    env = json.loads(wait_one(sqs, queue)["Body"])
    assert env["Type"] == "Notification"
    assert env["TopicArn"] == topic
    inner = json.loads(env["Message"])
    assert inner["id"] == event_id and inner["detail"] == {"x": 1}


# ----------------------------------------------------------------- Kinesis


def test_kinesis_stream_target(events, kinesis, put_rule, create_stream, events_role):
    src = new_source()
    stream = create_stream()
    name, _ = put_rule(pattern=pattern_for(src))
    resp = events.put_targets(
        Rule=name,
        Targets=[
            {
                "Id": "ks",
                "Arn": stream_arn(kinesis, stream),
                "RoleArn": events_role,
                "KinesisParameters": {"PartitionKeyPath": "$.detail.key"},
            }
        ],
    )
    assert resp["FailedEntryCount"] == 0
    [event_id] = put_ok(events, [entry(src, "core.update-account-command", {"key": "pk-42", "v": 1})])
    shard = list_shards(kinesis, stream)[0]["ShardId"]
    deadline = time.monotonic() + 5
    records = read_shard(kinesis, stream, shard)
    while not records and time.monotonic() < deadline:
        time.sleep(0.1)
        records = read_shard(kinesis, stream, shard)
    assert len(records) == 1, records
    assert records[0]["PartitionKey"] == "pk-42"
    event = json.loads(records[0]["Data"])
    assert_event_envelope(event, src, "core.update-account-command", {"key": "pk-42", "v": 1}, event_id=event_id)


# ----------------------------------------------------------------- event bus target


def test_event_bus_target_same_account(events, sqs, put_rule, create_event_bus, queue, events_role):
    src = new_source()
    second = create_event_bus()
    first_rule, _ = put_rule(pattern=pattern_for(src))
    resp = events.put_targets(Rule=first_rule, Targets=[{"Id": "bus", "Arn": bus_arn(second), "RoleArn": events_role}])
    assert resp["FailedEntryCount"] == 0
    rule_to_queue(events, sqs, put_rule, queue, pattern_for(src), bus=second)
    put_ok(events, [entry(src, "core.update-account-command", DETAIL)])
    event = wait_event(sqs, queue)
    assert_event_envelope(event, src, "core.update-account-command", DETAIL)


# ----------------------------------------------------------------- changes take effect


def test_ten_entries_in_one_call_all_arrive(events, sqs, put_rule, queue):
    src = new_source()
    rule_to_queue(events, sqs, put_rule, queue, pattern_for(src))
    ids = put_ok(events, [entry(src, detail={"i": i}) for i in range(10)])
    got = []
    for _ in range(10):
        got.append(wait_event(sqs, queue))
    assert sorted(e["id"] for e in got) == sorted(ids)
    assert sorted(e["detail"]["i"] for e in got) == list(range(10))


def test_updated_pattern_takes_effect(events, sqs, put_rule, queue):
    src = new_source()
    name, _, _ = rule_to_queue(events, sqs, put_rule, queue, json.dumps({"source": [src], "detail-type": ["old"]}))
    events.put_rule(Name=name, EventPattern=json.dumps({"source": [src], "detail-type": ["new"]}))
    put_ok(events, [entry(src, "old")])
    put_ok(events, [entry(src, "new")])
    assert wait_event(sqs, queue)["detail-type"] == "new"
    assert_no_more(sqs, queue)


def test_replaced_target_input_takes_effect(events, sqs, put_rule, queue):
    src = new_source()
    name, _, q_arn = rule_to_queue(events, sqs, put_rule, queue, pattern_for(src), Input='{"v": 1}')
    put_ok(events, [entry(src)])
    assert json.loads(wait_one(sqs, queue)["Body"]) == {"v": 1}
    events.put_targets(Rule=name, Targets=[{"Id": "q", "Arn": q_arn, "Input": '{"v": 2}'}])
    put_ok(events, [entry(src)])
    assert json.loads(wait_one(sqs, queue)["Body"]) == {"v": 2}


def test_deleted_rule_stops_delivering(events, sqs, put_rule, queue):
    src = new_source()
    name_a, arn_a = put_rule(pattern=json.dumps({"source": [src], "detail-type": ["a"]}))
    name_b, arn_b = put_rule(pattern=json.dumps({"source": [src], "detail-type": ["b"]}))
    q_arn = get_arn(sqs, queue)
    policy = events_queue_policy(q_arn, arn_a)
    policy["Statement"][0]["Condition"] = {"ArnEquals": {"aws:SourceArn": [arn_a, arn_b]}}
    sqs.set_queue_attributes(QueueUrl=queue, Attributes={"Policy": json.dumps(policy)})
    events.put_targets(Rule=name_a, Targets=[{"Id": "q", "Arn": q_arn}])
    events.put_targets(Rule=name_b, Targets=[{"Id": "q", "Arn": q_arn}])
    events.delete_rule(Name=name_a, Force=True)
    put_ok(events, [entry(src, "a")])
    put_ok(events, [entry(src, "b")])
    assert wait_event(sqs, queue)["detail-type"] == "b"
    assert_no_more(sqs, queue)


def test_time_given_as_a_date_string(events, sqs, put_rule, queue):
    """test_events.snapshot.json TestEvents::test_put_events_time: "2022-01-01" becomes 2022-01-01T00:00:00Z."""
    src = new_source()
    rule_to_queue(events, sqs, put_rule, queue, pattern_for(src))
    put_ok(events, [entry(src, Time="2022-01-01")])
    assert wait_event(sqs, queue)["time"] == "2022-01-01T00:00:00Z"


def test_kinesis_partition_key_defaults_to_the_event_id(events, kinesis, put_rule, create_stream, events_role):
    """KinesisParameters (API reference): "If you don't include this parameter, the default is to use
    the eventId as the partition key"."""
    src = new_source()
    stream = create_stream()
    name, _ = put_rule(pattern=pattern_for(src))
    events.put_targets(Rule=name, Targets=[{"Id": "ks", "Arn": stream_arn(kinesis, stream), "RoleArn": events_role}])
    [event_id] = put_ok(events, [entry(src)])
    shard = list_shards(kinesis, stream)[0]["ShardId"]
    deadline = time.monotonic() + 5
    records = read_shard(kinesis, stream, shard)
    while not records and time.monotonic() < deadline:
        time.sleep(0.1)
        records = read_shard(kinesis, stream, shard)
    assert len(records) == 1, records
    assert records[0]["PartitionKey"] == event_id
    assert json.loads(records[0]["Data"])["id"] == event_id


def test_default_bus_by_arn(events, sqs, put_rule, queue):
    src = new_source()
    rule_to_queue(events, sqs, put_rule, queue, pattern_for(src))
    [event_id] = put_ok(events, [entry(src, EventBusName=bus_arn("default"))])
    assert wait_event(sqs, queue)["id"] == event_id
