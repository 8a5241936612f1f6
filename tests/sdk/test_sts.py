"""STS: GetCallerIdentity, AssumeRole, GetSessionToken, GetAccessKeyInfo, and temporary credentials
used against another service. Expectations from the STS API reference."""

from __future__ import annotations

import datetime
import json

import pytest

from conftest import make_client, unique_name
from iam_helpers import (
    ALLOW_SQS,
    TRUST_ACCOUNT,
    client_from,
    error_of,
    iam_client,
    role_name,
    skip_second_pass,
    sts_client,
)

skip_second_pass()


@pytest.fixture(scope="module")
def iam(endpoint):
    return iam_client(endpoint)


@pytest.fixture(scope="module")
def sts(endpoint):
    return sts_client(endpoint)


@pytest.fixture
def role(iam):
    name = role_name()
    r = iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST_ACCOUNT)["Role"]
    yield r
    try:
        iam.delete_role(RoleName=name)
    except Exception:
        pass


def test_caller_identity_of_any_key_is_its_accounts_root(endpoint):
    got = sts_client(endpoint).get_caller_identity()
    assert (got["Account"], got["Arn"], got["UserId"]) == ("000000000000", "arn:aws:iam::000000000000:root", "000000000000")
    other = sts_client(endpoint, access_key="111122223333").get_caller_identity()
    assert other["Account"] == "111122223333"
    assert other["Arn"] == "arn:aws:iam::111122223333:root"


def test_assume_role_returns_temporary_credentials(sts, role):
    before = datetime.datetime.now(datetime.timezone.utc)
    out = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="build-42")
    creds = out["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA") and len(creds["AccessKeyId"]) == 20
    assert len(creds["SecretAccessKey"]) == 40
    assert creds["SessionToken"]
    # Default duration: one hour.
    lasts = (creds["Expiration"] - before).total_seconds()
    assert 3590 <= lasts <= 3610, lasts
    user = out["AssumedRoleUser"]
    assert user["Arn"] == f"arn:aws:sts::000000000000:assumed-role/{role['RoleName']}/build-42"
    assert user["AssumedRoleId"] == f"{role['RoleId']}:build-42"
    assert "PackedPolicySize" not in out


def test_assumed_role_credentials_identify_the_session(endpoint, sts, role):
    creds = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s1")["Credentials"]
    me = client_from(endpoint, "sts", creds).get_caller_identity()
    assert me["Arn"] == f"arn:aws:sts::000000000000:assumed-role/{role['RoleName']}/s1"
    assert me["UserId"] == f"{role['RoleId']}:s1"
    assert me["Account"] == "000000000000"


def test_assumed_role_in_another_account_works_on_sqs(endpoint):
    admin = iam_client(endpoint, access_key="111122223333")
    name = role_name()
    trust = TRUST_ACCOUNT.replace("000000000000", "111122223333")
    role = admin.create_role(RoleName=name, AssumeRolePolicyDocument=trust)["Role"]
    assert role["Arn"] == f"arn:aws:iam::111122223333:role/{name}"
    creds = sts_client(endpoint).assume_role(RoleArn=role["Arn"], RoleSessionName="worker")["Credentials"]
    sqs = client_from(endpoint, "sqs", creds)
    qname = unique_name("role-q")
    url = sqs.create_queue(QueueName=qname)["QueueUrl"]
    try:
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
        assert attrs["QueueArn"] == f"arn:aws:sqs:us-east-1:111122223333:{qname}", "the queue belongs to the role's account"
        sqs.send_message(QueueUrl=url, MessageBody="from a role")
        got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"]
        assert got[0]["Body"] == "from a role"
        assert client_from(endpoint, "sts", creds).get_caller_identity()["Account"] == "111122223333"
    finally:
        sqs.delete_queue(QueueUrl=url)
        admin.delete_role(RoleName=name)


def test_assume_missing_role_is_access_denied(sts):
    arn = "arn:aws:iam::000000000000:role/does-not-exist"
    with pytest.raises(Exception) as e:
        sts.assume_role(RoleArn=arn, RoleSessionName="s1")
    code, status, message = error_of(e)
    assert (code, status) == ("AccessDenied", 403)
    assert message == f"User: arn:aws:iam::000000000000:root is not authorized to perform: sts:AssumeRole on resource: {arn}"


def test_duration_is_bounded_by_the_model_and_the_role(endpoint, iam, role):
    loose = sts_client(endpoint, parameter_validation=False)
    for duration in (899, 43201):
        with pytest.raises(Exception) as e:
            loose.assume_role(RoleArn=role["Arn"], RoleSessionName="s1", DurationSeconds=duration)
        assert error_of(e)[:2] == ("ValidationError", 400)
    with pytest.raises(Exception) as e:
        loose.assume_role(RoleArn=role["Arn"], RoleSessionName="s1", DurationSeconds=7200)
    code, _, message = error_of(e)
    assert code == "ValidationError"
    assert message == "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
    iam.update_role(RoleName=role["RoleName"], MaxSessionDuration=7200)
    creds = loose.assume_role(RoleArn=role["Arn"], RoleSessionName="s1", DurationSeconds=7200)["Credentials"]
    lasts = (creds["Expiration"] - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
    assert 7190 <= lasts <= 7210


def test_role_session_name_is_validated(endpoint, role):
    loose = sts_client(endpoint, parameter_validation=False)
    for bad in ("x", "has space", "x" * 65):
        with pytest.raises(Exception) as e:
            loose.assume_role(RoleArn=role["Arn"], RoleSessionName=bad)
        code, status, message = error_of(e)
        assert (code, status) == ("ValidationError", 400), bad
        assert "roleSessionName" in message


def test_session_policy_is_validated_and_packed(sts, role):
    out = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s1", Policy=ALLOW_SQS)
    assert 0 < out["PackedPolicySize"] <= 100
    with pytest.raises(Exception) as e:
        sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s1", Policy="{not json")
    assert error_of(e)[:2] == ("MalformedPolicyDocument", 400)


def test_get_session_token_for_a_user_keeps_its_identity(endpoint, iam):
    name = unique_name("u")
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    try:
        as_user = client_from(endpoint, "sts", key)
        me = as_user.get_caller_identity()
        assert me["Arn"] == f"arn:aws:iam::000000000000:user/{name}"
        creds = as_user.get_session_token(DurationSeconds=900)["Credentials"]
        assert creds["AccessKeyId"].startswith("ASIA")
        lasts = (creds["Expiration"] - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
        assert 890 <= lasts <= 910
        again = client_from(endpoint, "sts", creds).get_caller_identity()
        assert (again["Arn"], again["UserId"]) == (me["Arn"], me["UserId"])
    finally:
        iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
        iam.delete_user(UserName=name)


def test_root_session_tokens_last_an_hour_at_most(sts):
    creds = sts.get_session_token(DurationSeconds=7200)["Credentials"]
    lasts = (creds["Expiration"] - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
    assert 3590 <= lasts <= 3610


def test_get_access_key_info(endpoint, sts):
    assert sts.get_access_key_info(AccessKeyId="AKIAIOSFODNN7EXAMPLE")["Account"] == "000000000000"
    admin = iam_client(endpoint, access_key="111122223333")
    name = unique_name("u")
    admin.create_user(UserName=name)
    key = admin.create_access_key(UserName=name)["AccessKey"]
    try:
        assert sts.get_access_key_info(AccessKeyId=key["AccessKeyId"])["Account"] == "111122223333"
    finally:
        admin.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
        admin.delete_user(UserName=name)


def test_iam_user_keys_act_in_their_account_on_sqs(endpoint):
    admin = iam_client(endpoint, access_key="111122223333")
    name = unique_name("u")
    admin.create_user(UserName=name)
    key = admin.create_access_key(UserName=name)["AccessKey"]
    sqs = client_from(endpoint, "sqs", key)
    url = sqs.create_queue(QueueName=unique_name("user-q"))["QueueUrl"]
    try:
        assert "/111122223333/" in url
    finally:
        sqs.delete_queue(QueueUrl=url)
        admin.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
        admin.delete_user(UserName=name)
