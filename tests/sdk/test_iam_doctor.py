"""`eddy doctor`'s identity traps (issue 11, part 5): role trust policies that
let a delivery service (EventBridge, Pipes, Firehose, Scheduler, SNS) assume
the role without `aws:SourceArn`/`aws:SourceAccount` (gotchas.md: role trust
policies are service-principal policies too), and queue, topic and stream
policies open to any principal without a condition. eddy's own command;
expectations follow gotchas.md."""

from __future__ import annotations

import json
import uuid

from iam_helpers import iam_client, skip_second_pass
from test_sns_doctor import doctor

skip_second_pass()


def trust(service, condition=None):
    statement = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    if condition:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def problems(findings, arn):
    return [f["problem"] for f in findings if f["resource"] == arn]


def test_doctor_flags_delivery_roles_without_source_conditions(endpoint):
    iam = iam_client(endpoint)
    made = {}
    for label, service, condition in [
        ("open-events", "events.amazonaws.com", None),
        ("open-pipes", "pipes.amazonaws.com", None),
        ("scoped-firehose", "firehose.amazonaws.com", {"StringEquals": {"aws:SourceAccount": "000000000000"}}),
        ("lambda", "lambda.amazonaws.com", None),
    ]:
        name = f"{label}-{uuid.uuid4().hex[:8]}"
        made[label] = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust(service, condition))["Role"]["Arn"]
    code, findings = doctor(endpoint)
    assert code == 1
    assert any("events.amazonaws.com" in p for p in problems(findings, made["open-events"]))
    assert any("pipes.amazonaws.com" in p for p in problems(findings, made["open-pipes"]))
    assert problems(findings, made["scoped-firehose"]) == []
    assert problems(findings, made["lambda"]) == []


def test_doctor_flags_wildcard_principals_on_queue_topic_and_stream(endpoint, sqs, sns, create_queue, create_topic):
    from conftest import make_client

    url = create_queue()
    q_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    open_queue = {"Version": "2012-10-17", "Statement": [
        {"Sid": "anyone", "Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage", "Resource": q_arn}]}
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(open_queue)})
    topic = create_topic()
    open_topic = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sns:Publish", "Resource": topic}]}
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(open_topic))
    kinesis = make_client(endpoint, service="kinesis")
    stream = f"open-{uuid.uuid4().hex[:8]}"
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    s_arn = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamARN"]
    kinesis.put_resource_policy(ResourceARN=s_arn, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kinesis:GetRecords", "Resource": s_arn}]}))
    code, findings = doctor(endpoint)
    assert code == 1
    assert any('statement "anyone"' in p and "any principal" in p for p in problems(findings, q_arn))
    assert any("any principal" in p for p in problems(findings, topic))
    assert any("any principal" in p for p in problems(findings, s_arn))
