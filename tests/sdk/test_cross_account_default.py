"""Calls into another account without `--enforce-iam` (issue 11, part 4).

AWS's cross-account rule holds whatever eddy's mode: a queue, topic or
stream of one account is reachable with another account's credentials only
when its resource policy lets that account (or principal) in, and an
explicit deny in it wins ("Cross-account policy evaluation logic", IAM User
Guide; the SQS, SNS and Kinesis guides on resource-based policies). Calls
within an account are untouched. The default-mode server is the session's;
the account is the 12-digit access key. SQS runs in both passes (its
AccessDenied has a JSON and a query shape).
"""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

OTHER = "444455556666"
HOME = "000000000000"


def refused(call, code, status):
    with pytest.raises(ClientError) as e:
        call()
    err = e.value.response
    assert (err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"]) == (code, status), err
    return err["Error"]["Message"]


def grant(action, resource, principal=f"arn:aws:iam::{OTHER}:root", effect="Allow"):
    statement = {"Effect": effect, "Principal": {"AWS": principal}, "Action": action, "Resource": resource}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def queue_arn(sqs, url):
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def test_sqs_queue_of_another_account_needs_its_policy(sqs, sqs_factory, create_queue):
    url = create_queue()
    other = sqs_factory(account_key=OTHER)
    message = refused(lambda: other.send_message(QueueUrl=url, MessageBody="x"), "AccessDenied", 403)
    assert f"arn:aws:iam::{OTHER}:root is not authorized to perform: sqs:sendmessage" in message, message
    assert "no resource-based policy allows" in message, message
    refused(lambda: other.receive_message(QueueUrl=url), "AccessDenied", 403)

    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": grant("sqs:SendMessage", queue_arn(sqs, url))})
    other.send_message(QueueUrl=url, MessageBody="granted")
    refused(lambda: other.receive_message(QueueUrl=url), "AccessDenied", 403)  # only SendMessage was granted
    got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"]
    assert [m["Body"] for m in got] == ["granted"], "the owner's own calls are untouched"


def test_sqs_add_permission_lets_the_other_account_in(sqs, sqs_factory, create_queue):
    url = create_queue()
    sqs.add_permission(QueueUrl=url, Label="other", AWSAccountIds=[OTHER], Actions=["SendMessage", "GetQueueUrl"])
    other = sqs_factory(account_key=OTHER)
    other.send_message(QueueUrl=url, MessageBody="x")
    name = url.rsplit("/", 1)[1]
    assert other.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=HOME)["QueueUrl"].endswith(name)


def test_sqs_explicit_deny_wins_over_a_grant(sqs, sqs_factory, create_queue):
    url = create_queue()
    arn = queue_arn(sqs, url)
    doc = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": OTHER}, "Action": "sqs:*", "Resource": arn},
            {"Effect": "Deny", "Principal": "*", "Action": "sqs:SendMessage", "Resource": arn},
        ],
    }
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(doc)})
    other = sqs_factory(account_key=OTHER)
    message = refused(lambda: other.send_message(QueueUrl=url, MessageBody="x"), "AccessDenied", 403)
    assert "explicit deny" in message, message
    other.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])


def test_sns_topic_of_another_account_needs_its_policy(sns, sns_factory, create_topic, protocol):
    if protocol == "query":
        pytest.skip("SNS is awsQuery in both passes")
    topic = create_topic()
    other = sns_factory(account_key=OTHER)
    refused(lambda: other.publish(TopicArn=topic, Message="x"), "AuthorizationError", 403)
    sns.add_permission(TopicArn=topic, Label="other-publishes", AWSAccountId=[OTHER], ActionName=["Publish"])
    other.publish(TopicArn=topic, Message="granted")
    refused(lambda: other.get_topic_attributes(TopicArn=topic), "AuthorizationError", 403)
    sns.publish(TopicArn=topic, Message="the owner's own publish")


def test_kinesis_stream_of_another_account_needs_its_policy(kinesis, kinesis_factory, create_stream, protocol):
    if protocol == "query":
        pytest.skip("Kinesis has no awsQuery protocol")
    name = create_stream()
    arn = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]
    other = kinesis_factory(access_key=OTHER)
    put = lambda: other.put_record(StreamARN=arn, Data=b"x", PartitionKey="k")
    refused(put, "AccessDeniedException", 400)
    kinesis.put_resource_policy(ResourceARN=arn, Policy=grant(["kinesis:PutRecord", "kinesis:DescribeStreamSummary"], arn))
    put()
    # Its own stream of the same name is another stream, and its own.
    assert other.list_streams()["StreamNames"] == []
