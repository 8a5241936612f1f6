"""`--enforce-iam`: every API call authorized with AWS's policy evaluation
logic (issue 11, part 4). Expectations follow the IAM User Guide ("Policy
evaluation logic", "Cross-account policy evaluation logic") and the error
shapes AWS answers: SQS `AccessDenied` (403), SNS `AuthorizationError` (403),
Kinesis `AccessDeniedException` (400), IAM and STS `AccessDenied` (403).

The module starts its own eddy with `--enforce-iam`. Keys of 12 digits act
as their account's root; users, roles and keys are made with them. Cases run
over SQS (the pass's protocol), SNS, Kinesis, IAM and STS; the awsQuery pass
adds nothing but SQS's query shape, so the module runs once.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import REPO, EddyServer, _free_port

if os.environ.get("EDDY_EXPECT_PROTOCOL") == "query":
    pytest.skip("authorization is protocol-independent: covered by the awsJson pass", allow_module_level=True)

A, B = "111122223333", "444455556666"
REGION = "us-east-1"
NO_RETRY = Config(retries={"max_attempts": 1, "mode": "standard"})


@pytest.fixture(scope="module")
def server():
    if os.environ.get("EDDY_ENDPOINT"):
        pytest.skip("spawns its own eddy")
    binary = os.environ.get("EDDY_BIN", str(REPO / "target" / "release" / "eddy"))
    tmp = Path(tempfile.mkdtemp(prefix="eddy-enforce-"))
    s = EddyServer(binary, tmp / "data", _free_port(), tmp / "eddy.log", extra_args=["--in-memory", "--enforce-iam"])
    s.start()
    yield s
    s.stop()
    shutil.rmtree(tmp, ignore_errors=True)


def client(server, service, key, secret="test", token=None):
    return boto3.client(
        service,
        endpoint_url=server.endpoint,
        region_name=REGION,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        aws_session_token=token,
        config=NO_RETRY,
    )


def name(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action, resource="*", **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action, resource="*", **extra):
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


class Principal:
    """An IAM user of `account` with `statements` inline, and its clients."""

    def __init__(self, server, account, *statements, boundary=None):
        iam = client(server, "iam", account)
        self.name = name("user")
        extra = {}
        if boundary:
            made = iam.create_policy(PolicyName=name("boundary"), PolicyDocument=policy(*boundary))
            extra["PermissionsBoundary"] = made["Policy"]["Arn"]
        self.arn = iam.create_user(UserName=self.name, **extra)["User"]["Arn"]
        if statements:
            iam.put_user_policy(UserName=self.name, PolicyName="inline", PolicyDocument=policy(*statements))
        key = iam.create_access_key(UserName=self.name)["AccessKey"]
        self.key, self.secret = key["AccessKeyId"], key["SecretAccessKey"]
        self.server = server

    def client(self, service):
        return client(self.server, service, self.key, self.secret)


def refused(call, code="AccessDenied", status=403):
    with pytest.raises(ClientError) as e:
        call()
    err = e.value.response
    assert (err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"]) == (code, status), err
    return err["Error"]["Message"]


def queue_of(server, account=A, queue_policy=None):
    sqs = client(server, "sqs", account)
    url = sqs.create_queue(QueueName=name("q"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    if queue_policy:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": policy(*queue_policy(arn))})
    return url, arn


# ------------------------------------------------------------------ SQS


def test_root_may_do_anything_in_its_own_account(server):
    url, _ = queue_of(server)
    sqs = client(server, "sqs", A)
    sqs.send_message(QueueUrl=url, MessageBody="hi")
    assert sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "hi"
    sqs.delete_queue(QueueUrl=url)


def test_identity_policy_allows_only_what_it_names(server):
    url, arn = queue_of(server)
    alice = Principal(server, A, allow("sqs:SendMessage", arn))
    sqs = alice.client("sqs")
    sqs.send_message(QueueUrl=url, MessageBody="hi")
    # Batches authorize as their single-message action.
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "1", "MessageBody": "b"}])
    message = refused(lambda: sqs.receive_message(QueueUrl=url))
    assert message == (
        f"User: {alice.arn} is not authorized to perform: sqs:receivemessage on resource: {arn} "
        "because no identity-based policy allows the sqs:receivemessage action"
    )
    refused(lambda: sqs.list_queues())


def test_explicit_deny_wins_over_allow(server):
    url, arn = queue_of(server)
    alice = Principal(server, A, allow("sqs:*"), deny("sqs:DeleteQueue", arn))
    sqs = alice.client("sqs")
    sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
    message = refused(lambda: sqs.delete_queue(QueueUrl=url))
    assert message.endswith("with an explicit deny in an identity-based policy"), message


def test_resource_policy_alone_allows_the_caller_it_names(server):
    bob = Principal(server, A)
    url, _ = queue_of(server, queue_policy=lambda arn: [
        {"Effect": "Allow", "Principal": {"AWS": bob.arn}, "Action": "sqs:SendMessage", "Resource": arn}
    ])
    sqs = bob.client("sqs")
    sqs.send_message(QueueUrl=url, MessageBody="hi")
    refused(lambda: sqs.receive_message(QueueUrl=url))


def test_resource_policy_deny_wins_over_identity_allow(server):
    alice = Principal(server, A, allow("sqs:*"))
    url, _ = queue_of(server, queue_policy=lambda arn: [
        {"Effect": "Deny", "Principal": {"AWS": alice.arn}, "Action": "sqs:SendMessage", "Resource": arn}
    ])
    message = refused(lambda: alice.client("sqs").send_message(QueueUrl=url, MessageBody="x"))
    assert message.endswith("with an explicit deny in a resource-based policy"), message


@pytest.mark.parametrize(
    "identity_allows, queue_grants, allowed",
    [(True, True, True), (True, False, False), (False, True, False)],
    ids=["both-sides", "identity-only", "resource-only"],
)
def test_cross_account_needs_both_sides(server, identity_allows, queue_grants, allowed):
    grant = lambda arn: [{"Effect": "Allow", "Principal": {"AWS": B}, "Action": "sqs:*", "Resource": arn}]
    url, arn = queue_of(server, queue_policy=grant if queue_grants else None)
    carol = Principal(server, B, *([allow("sqs:SendMessage", arn)] if identity_allows else []))
    send = lambda: carol.client("sqs").send_message(QueueUrl=url, MessageBody="x")
    if allowed:
        send()
    else:
        message = refused(send)
        side = "identity-based" if queue_grants else "resource-based"
        assert f"because no {side} policy allows" in message, message


def test_another_accounts_root_needs_the_queue_policy(server):
    url, _ = queue_of(server)
    refused(lambda: client(server, "sqs", B).send_message(QueueUrl=url, MessageBody="x"))
    granted, _ = queue_of(server, queue_policy=lambda arn: [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{B}:root"}, "Action": "sqs:SendMessage", "Resource": arn}
    ])
    client(server, "sqs", B).send_message(QueueUrl=granted, MessageBody="x")


def test_permission_boundary_limits_identity_policies(server):
    url, _ = queue_of(server)
    erin = Principal(server, A, allow("sqs:*"), boundary=[allow("sqs:ReceiveMessage")])
    sqs = erin.client("sqs")
    sqs.receive_message(QueueUrl=url)
    message = refused(lambda: sqs.send_message(QueueUrl=url, MessageBody="x"))
    assert "because no permissions boundary allows the sqs:sendmessage action" in message, message


@pytest.mark.parametrize("cidr, allowed", [("127.0.0.0/8", True), ("10.0.0.0/8", False)])
def test_source_ip_condition(server, cidr, allowed):
    url, _ = queue_of(server)
    frank = Principal(server, A, allow("sqs:SendMessage", Condition={"IpAddress": {"aws:SourceIp": cidr}}))
    send = lambda: frank.client("sqs").send_message(QueueUrl=url, MessageBody="x")
    send() if allowed else refused(send)


def test_secure_transport_condition_denies_plain_http(server):
    # eddy serves plain HTTP: aws:SecureTransport is false, so the usual
    # "deny unless TLS" statement refuses everyone, the root too.
    url, _ = queue_of(server, queue_policy=lambda arn: [
        {"Effect": "Deny", "Principal": "*", "Action": "sqs:SendMessage", "Resource": arn,
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    ])
    refused(lambda: client(server, "sqs", A).send_message(QueueUrl=url, MessageBody="x"))
    client(server, "sqs", A).receive_message(QueueUrl=url)


# ------------------------------------------------------------------ STS


def make_role(server, trust, *statements):
    iam = client(server, "iam", A)
    role = iam.create_role(RoleName=name("role"), AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    if statements:
        iam.put_role_policy(RoleName=role["RoleName"], PolicyName="p", PolicyDocument=policy(*statements))
    return role["Arn"]


def trusting(principal, **condition):
    statement = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    if condition:
        statement["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [statement]}


def test_assumed_role_session_has_the_roles_permissions(server):
    url, arn = queue_of(server)
    role = make_role(server, trusting({"AWS": A}), allow("sqs:SendMessage", arn))
    alice = Principal(server, A, allow("sts:AssumeRole", role))
    creds = alice.client("sts").assume_role(RoleArn=role, RoleSessionName="s1")["Credentials"]
    sqs = client(server, "sqs", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    sqs.send_message(QueueUrl=url, MessageBody="x")
    message = refused(lambda: sqs.receive_message(QueueUrl=url))
    assert f":assumed-role/{role.split('/')[-1]}/s1 is not authorized" in message, message


def test_session_policy_narrows_the_role(server):
    url, _ = queue_of(server)
    role = make_role(server, trusting({"AWS": A}), allow("sqs:*"))
    session = policy(allow("sqs:ReceiveMessage"))
    creds = client(server, "sts", A).assume_role(RoleArn=role, RoleSessionName="s2", Policy=session)["Credentials"]
    sqs = client(server, "sqs", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    sqs.receive_message(QueueUrl=url)
    assert "because no session policy allows" in refused(lambda: sqs.send_message(QueueUrl=url, MessageBody="x"))


def test_trust_policy_refuses_callers_it_does_not_name(server):
    role = make_role(server, trusting({"Service": "events.amazonaws.com"}))
    alice = Principal(server, A, allow("sts:AssumeRole"))
    message = refused(lambda: alice.client("sts").assume_role(RoleArn=role, RoleSessionName="s9"))
    assert message.startswith(f"User: {alice.arn} is not authorized to perform: sts:AssumeRole on resource: {role}")
    refused(lambda: client(server, "sts", A).assume_role(RoleArn=role, RoleSessionName="s9"))


def test_trust_policy_external_id(server):
    role = make_role(server, trusting({"AWS": B}, StringEquals={"sts:ExternalId": "ext-42"}))
    carol = Principal(server, B, allow("sts:AssumeRole", role))
    sts = carol.client("sts")
    refused(lambda: sts.assume_role(RoleArn=role, RoleSessionName="s9"))
    refused(lambda: sts.assume_role(RoleArn=role, RoleSessionName="s9", ExternalId="wrong"))
    assert sts.assume_role(RoleArn=role, RoleSessionName="s9", ExternalId="ext-42")["Credentials"]["AccessKeyId"]
    # Trusted by the queue account's policy, but with no identity policy of its own.
    dave = Principal(server, B)
    refused(lambda: dave.client("sts").assume_role(RoleArn=role, RoleSessionName="s9", ExternalId="ext-42"))


def test_get_caller_identity_needs_no_permission(server):
    nobody = Principal(server, A, deny("*"))
    assert nobody.client("sts").get_caller_identity()["Arn"] == nobody.arn


# ------------------------------------------------------------------ SNS, Kinesis, IAM


def test_sns_authorization_error(server):
    topic = client(server, "sns", A).create_topic(Name=name("t"))["TopicArn"]
    reader = Principal(server, A, allow("sns:GetTopicAttributes", topic))
    sns = reader.client("sns")
    sns.get_topic_attributes(TopicArn=topic)
    message = refused(lambda: sns.publish(TopicArn=topic, Message="m"), code="AuthorizationError", status=403)
    assert message == (
        f"User: {reader.arn} is not authorized to perform: SNS:Publish on resource: {topic} "
        "because no identity-based policy allows the SNS:Publish action"
    )
    # The topic's policy can let another account publish; only that.
    other = client(server, "sns", A)
    other.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=policy(
        {"Effect": "Allow", "Principal": {"AWS": B}, "Action": "sns:Publish", "Resource": topic}
    ))
    client(server, "sns", B).publish(TopicArn=topic, Message="m")
    refused(lambda: client(server, "sns", B).delete_topic(TopicArn=topic), code="AuthorizationError")


def test_kinesis_access_denied(server):
    stream = name("s")
    client(server, "kinesis", A).create_stream(StreamName=stream, ShardCount=1)
    arn = f"arn:aws:kinesis:{REGION}:{A}:stream/{stream}"
    writer = Principal(server, A, allow("kinesis:PutRecord", arn))
    k = writer.client("kinesis")
    k.put_record(StreamName=stream, Data=b"x", PartitionKey="k")
    message = refused(lambda: k.describe_stream_summary(StreamName=stream), code="AccessDeniedException", status=400)
    assert message.endswith("because no identity-based policy allows the kinesis:DescribeStreamSummary action")
    # Another account's root, granted by the stream's resource policy.
    refused(lambda: client(server, "kinesis", B).put_record(StreamARN=arn, Data=b"x", PartitionKey="k"),
            code="AccessDeniedException", status=400)
    client(server, "kinesis", A).put_resource_policy(ResourceARN=arn, Policy=policy(
        {"Effect": "Allow", "Principal": {"AWS": B}, "Action": "kinesis:PutRecord", "Resource": arn}
    ))
    client(server, "kinesis", B).put_record(StreamARN=arn, Data=b"x", PartitionKey="k")


def test_iam_access_denied(server):
    admin = Principal(server, A, allow("iam:CreateRole", f"arn:aws:iam::{A}:role/app-*"))
    iam = admin.client("iam")
    trust = json.dumps(trusting({"AWS": A}))
    iam.create_role(RoleName=name("app"), AssumeRolePolicyDocument=trust)
    message = refused(lambda: iam.create_role(RoleName=name("ops"), AssumeRolePolicyDocument=trust))
    assert "is not authorized to perform: iam:CreateRole on resource: arn:aws:iam::" in message, message
    refused(lambda: iam.list_users())
    client(server, "iam", A).list_users()
