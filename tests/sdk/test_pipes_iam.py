"""EventBridge Pipes under `--enforce-iam`: a pipe's role must exist and trust `pipes.amazonaws.com`
(the user guide's "Amazon EventBridge Pipes execution role": the trust policy names the service
principal, optionally scoped with `aws:SourceArn` to the pipe), the caller needs the pipe action
(`pipes:CreatePipe` on the pipe's ARN, per the Service Authorization Reference) and `iam:PassRole`
on the role; a denied call is AccessDeniedException (403).

The module starts its own eddy with `--enforce-iam`; keys of 12 digits act as their account's root.
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
    pytest.skip("restJson1 in both passes; run once", allow_module_level=True)

A = "111122223333"
REGION = "us-east-1"


@pytest.fixture(scope="module")
def server():
    if os.environ.get("EDDY_ENDPOINT"):
        pytest.skip("spawns its own eddy")
    binary = os.environ.get("EDDY_BIN", str(REPO / "target" / "release" / "eddy"))
    tmp = Path(tempfile.mkdtemp(prefix="eddy-pipes-iam-"))
    s = EddyServer(binary, tmp / "data", _free_port(), tmp / "eddy.log", extra_args=["--in-memory", "--enforce-iam"])
    s.start()
    yield s
    s.stop()
    shutil.rmtree(tmp, ignore_errors=True)


def client(server, service, key, secret="test"):
    return boto3.client(service, endpoint_url=server.endpoint, region_name=REGION, aws_access_key_id=key,
                        aws_secret_access_key=secret, config=Config(retries={"max_attempts": 1, "mode": "standard"}))


def name(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def role(server, principal_service, condition=None):
    statement = {"Effect": "Allow", "Principal": {"Service": principal_service}, "Action": "sts:AssumeRole"}
    if condition:
        statement["Condition"] = condition
    trust = {"Version": "2012-10-17", "Statement": [statement]}
    return client(server, "iam", A).create_role(RoleName=name("role"), AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]


def queue(server):
    sqs = client(server, "sqs", A)
    url = sqs.create_queue(QueueName=name("q"))["QueueUrl"]
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def create(server, key, role_arn, pipe=None):
    q = queue(server)
    return client(server, "pipes", key).create_pipe(Name=pipe or name("pipe"), Source=q, Target=q, RoleArn=role_arn)


def test_role_trusting_pipes_is_accepted(server):
    assert create(server, A, role(server, "pipes.amazonaws.com"))["CurrentState"] == "CREATING"


def test_role_scoped_to_the_pipe_by_source_arn(server):
    pipe = name("pipe")
    arn = f"arn:aws:pipes:{REGION}:{A}:pipe/{pipe}"
    scoped = role(server, "pipes.amazonaws.com", {"StringEquals": {"aws:SourceArn": arn}})
    assert create(server, A, scoped, pipe=pipe)["Arn"] == arn
    with pytest.raises(ClientError) as e:
        create(server, A, scoped)  # another pipe's name: the condition does not hold
    assert e.value.response["Error"]["Code"] == "ValidationException"


def test_role_not_trusting_pipes_or_missing_is_refused(server):
    for role_arn in (role(server, "lambda.amazonaws.com"), f"arn:aws:iam::{A}:role/{name('nope')}"):
        with pytest.raises(ClientError) as e:
            create(server, A, role_arn)
        err = e.value.response
        assert (err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"]) == ("ValidationException", 400)


def test_caller_needs_the_pipe_action_and_pass_role(server):
    iam = client(server, "iam", A)
    user = name("user")
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    role_arn = role(server, "pipes.amazonaws.com")
    statements = [{"Effect": "Allow", "Action": ["sqs:*", "pipes:CreatePipe"], "Resource": "*"}]
    iam.put_user_policy(UserName=user, PolicyName="p", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}))
    pipes = client(server, "pipes", key["AccessKeyId"], key["SecretAccessKey"])
    q = queue(server)
    with pytest.raises(ClientError) as e:
        pipes.create_pipe(Name=name("pipe"), Source=q, Target=q, RoleArn=role_arn)
    err = e.value.response
    assert (err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"]) == ("AccessDeniedException", 403)
    assert "iam:PassRole" in err["Error"]["Message"]
    statements.append({"Effect": "Allow", "Action": "iam:PassRole", "Resource": role_arn})
    iam.put_user_policy(UserName=user, PolicyName="p", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}))
    pipes.create_pipe(Name=name("pipe"), Source=q, Target=q, RoleArn=role_arn)
    with pytest.raises(ClientError) as e:
        pipes.list_pipes()
    assert e.value.response["Error"]["Code"] == "AccessDeniedException"
