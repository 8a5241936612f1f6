"""IAM and STS state survives a restart (kill -9): roles, policies, users, access keys, and STS
temporary credentials, which keep resolving to their principal."""

from __future__ import annotations

import json

import pytest

from conftest import unique_name
from iam_helpers import ALLOW_SQS, TRUST_ACCOUNT, client_from, iam_client, skip_second_pass, sts_client

skip_second_pass()

pytestmark = pytest.mark.restart


def test_iam_and_sts_state_survive_kill(endpoint, restart_server):
    iam = iam_client(endpoint)
    role, user = unique_name("role"), unique_name("u")
    role_arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=TRUST_ACCOUNT)["Role"]["Arn"]
    policy = iam.create_policy(PolicyName=unique_name("pol"), PolicyDocument=ALLOW_SQS)["Policy"]["Arn"]
    iam.create_policy_version(PolicyArn=policy, PolicyDocument=ALLOW_SQS.replace("sqs", "sns"), SetAsDefault=True)
    iam.attach_role_policy(RoleName=role, PolicyArn=policy)
    iam.put_role_policy(RoleName=role, PolicyName="inline", PolicyDocument=ALLOW_SQS)
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    session = sts_client(endpoint).assume_role(RoleArn=role_arn, RoleSessionName="before")["Credentials"]

    restart_server(hard=True)

    iam = iam_client(endpoint)
    assert iam.get_role(RoleName=role)["Role"]["Arn"] == role_arn
    assert [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]] == [policy]
    assert iam.get_role_policy(RoleName=role, PolicyName="inline")["PolicyDocument"] == json.loads(ALLOW_SQS)
    got = iam.get_policy(PolicyArn=policy)["Policy"]
    assert (got["DefaultVersionId"], got["AttachmentCount"]) == ("v2", 1)
    assert client_from(endpoint, "sts", key).get_caller_identity()["Arn"] == f"arn:aws:iam::000000000000:user/{user}"
    me = client_from(endpoint, "sts", session).get_caller_identity()
    assert me["Arn"] == f"arn:aws:sts::000000000000:assumed-role/{role}/before"
