"""IAM managed and inline policies: versions, attach/detach, AWS managed policies, listing filters,
validation. Expectations from the IAM API reference."""

from __future__ import annotations

import json

import pytest

from conftest import unique_name
from iam_helpers import ALLOW_SQS, TRUST_LAMBDA, error_of, iam_client, role_name, skip_second_pass

skip_second_pass()

ALLOW_SNS = ALLOW_SQS.replace("sqs:*", "sns:*")


@pytest.fixture(scope="module")
def iam(endpoint):
    return iam_client(endpoint)


@pytest.fixture
def policy(iam):
    arn = iam.create_policy(PolicyName=unique_name("pol"), PolicyDocument=ALLOW_SQS, Description="d")["Policy"]["Arn"]
    yield arn
    try:
        for v in iam.list_policy_versions(PolicyArn=arn)["Versions"]:
            if not v["IsDefaultVersion"]:
                iam.delete_policy_version(PolicyArn=arn, VersionId=v["VersionId"])
        iam.delete_policy(PolicyArn=arn)
    except Exception:
        pass


def test_create_and_get_policy(iam):
    name = unique_name("pol")
    created = iam.create_policy(PolicyName=name, Path="/app/", PolicyDocument=ALLOW_SQS)["Policy"]
    assert created["Arn"] == f"arn:aws:iam::000000000000:policy/app/{name}"
    assert created["PolicyId"].startswith("ANPA")
    assert (created["DefaultVersionId"], created["AttachmentCount"], created["IsAttachable"]) == ("v1", 0, True)
    got = iam.get_policy(PolicyArn=created["Arn"])["Policy"]
    assert got["PolicyName"] == name
    version = iam.get_policy_version(PolicyArn=created["Arn"], VersionId="v1")["PolicyVersion"]
    assert version["Document"] == json.loads(ALLOW_SQS)
    assert version["IsDefaultVersion"] is True
    with pytest.raises(Exception) as e:
        iam.create_policy(PolicyName=name, PolicyDocument=ALLOW_SQS)
    assert error_of(e)[:2] == ("EntityAlreadyExists", 409)
    iam.delete_policy(PolicyArn=created["Arn"])
    with pytest.raises(Exception) as e:
        iam.get_policy(PolicyArn=created["Arn"])
    assert error_of(e)[:2] == ("NoSuchEntity", 404)


@pytest.mark.parametrize(
    "doc",
    [
        "not json",
        json.dumps({"Version": "2012-10-17"}),
        json.dumps({"Version": "2012-10-17", "Statement": [{"Action": "s3:*", "Resource": "*"}]}),
        json.dumps({"Version": "1999-01-01", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}),
        json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*"}]}),
        json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}]}
        ),
    ],
)
def test_malformed_documents_are_refused(iam, doc):
    with pytest.raises(Exception) as e:
        iam.create_policy(PolicyName=unique_name("bad"), PolicyDocument=doc)
    assert error_of(e)[:2] == ("MalformedPolicyDocument", 400)


def test_versions_up_to_five(iam, policy):
    for _ in range(4):
        iam.create_policy_version(PolicyArn=policy, PolicyDocument=ALLOW_SNS)
    with pytest.raises(Exception) as e:
        iam.create_policy_version(PolicyArn=policy, PolicyDocument=ALLOW_SNS)
    assert error_of(e)[:2] == ("LimitExceeded", 409)
    versions = iam.list_policy_versions(PolicyArn=policy)["Versions"]
    assert sorted(v["VersionId"] for v in versions) == ["v1", "v2", "v3", "v4", "v5"]
    assert [v["VersionId"] for v in versions if v["IsDefaultVersion"]] == ["v1"]
    iam.set_default_policy_version(PolicyArn=policy, VersionId="v3")
    assert iam.get_policy(PolicyArn=policy)["Policy"]["DefaultVersionId"] == "v3"
    with pytest.raises(Exception) as e:
        iam.delete_policy_version(PolicyArn=policy, VersionId="v3")
    assert error_of(e)[:2] == ("DeleteConflict", 409)
    iam.delete_policy_version(PolicyArn=policy, VersionId="v1")
    made = iam.create_policy_version(PolicyArn=policy, PolicyDocument=ALLOW_SQS, SetAsDefault=True)["PolicyVersion"]
    assert (made["VersionId"], made["IsDefaultVersion"]) == ("v6", True)


def test_delete_policy_refuses_while_attached(iam, policy):
    role = role_name()
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=TRUST_LAMBDA)
    iam.attach_role_policy(RoleName=role, PolicyArn=policy)
    assert iam.get_policy(PolicyArn=policy)["Policy"]["AttachmentCount"] == 1
    with pytest.raises(Exception) as e:
        iam.delete_policy(PolicyArn=policy)
    assert error_of(e) == ("DeleteConflict", 409, "Cannot delete a policy attached to entities.")
    iam.detach_role_policy(RoleName=role, PolicyArn=policy)
    iam.delete_role(RoleName=role)


def test_attach_and_list_for_users_roles_groups(iam, policy):
    role, user, group = role_name(), unique_name("u"), unique_name("g")
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=TRUST_LAMBDA)
    iam.create_user(UserName=user)
    iam.create_group(GroupName=group)
    admin = "arn:aws:iam::aws:policy/AdministratorAccess"
    iam.attach_role_policy(RoleName=role, PolicyArn=policy)
    iam.attach_role_policy(RoleName=role, PolicyArn=admin)
    iam.attach_user_policy(UserName=user, PolicyArn=policy)
    iam.attach_group_policy(GroupName=group, PolicyArn=admin)
    attached = iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
    assert sorted(p["PolicyArn"] for p in attached) == sorted([policy, admin])
    assert {p["PolicyName"] for p in attached} >= {"AdministratorAccess"}
    assert [p["PolicyArn"] for p in iam.list_attached_user_policies(UserName=user)["AttachedPolicies"]] == [policy]
    assert [p["PolicyArn"] for p in iam.list_attached_group_policies(GroupName=group)["AttachedPolicies"]] == [admin]
    assert iam.get_policy(PolicyArn=policy)["Policy"]["AttachmentCount"] == 2
    with pytest.raises(Exception) as e:
        iam.attach_role_policy(RoleName=role, PolicyArn="arn:aws:iam::000000000000:policy/nope")
    assert error_of(e)[:2] == ("NoSuchEntity", 404)
    with pytest.raises(Exception) as e:
        iam.detach_user_policy(UserName=user, PolicyArn=admin)
    assert error_of(e)[:2] == ("NoSuchEntity", 404)
    iam.detach_role_policy(RoleName=role, PolicyArn=policy)
    iam.detach_role_policy(RoleName=role, PolicyArn=admin)
    iam.detach_user_policy(UserName=user, PolicyArn=policy)
    iam.detach_group_policy(GroupName=group, PolicyArn=admin)
    iam.delete_role(RoleName=role)
    iam.delete_user(UserName=user)
    iam.delete_group(GroupName=group)


def test_aws_managed_policies_resolve_by_arn(iam):
    for arn in (
        "arn:aws:iam::aws:policy/AdministratorAccess",
        "arn:aws:iam::aws:policy/AmazonSQSFullAccess",
        "arn:aws:iam::aws:policy/AmazonKinesisFirehoseFullAccess",
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    ):
        p = iam.get_policy(PolicyArn=arn)["Policy"]
        assert p["Arn"] == arn
        doc = iam.get_policy_version(PolicyArn=arn, VersionId=p["DefaultVersionId"])["PolicyVersion"]["Document"]
        assert doc["Statement"], arn
    admin = iam.get_policy_version(PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess", VersionId="v1")
    assert admin["PolicyVersion"]["Document"]["Statement"] == [{"Effect": "Allow", "Action": "*", "Resource": "*"}]
    sqs = iam.get_policy_version(PolicyArn="arn:aws:iam::aws:policy/AmazonSQSFullAccess", VersionId="v1")
    assert sqs["PolicyVersion"]["Document"]["Statement"][0]["Action"] == ["sqs:*"]


def test_list_policies_scope_only_attached_and_path(endpoint):
    iam = iam_client(endpoint, access_key="444455556666")
    local = iam.create_policy(PolicyName=unique_name("pol"), Path="/team/", PolicyDocument=ALLOW_SQS)["Policy"]["Arn"]
    role = role_name()
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=TRUST_LAMBDA)
    try:
        assert [p["Arn"] for p in iam.list_policies(Scope="Local")["Policies"]] == [local]
        aws = [p["Arn"] for p in iam.list_policies(Scope="AWS", MaxItems=1000)["Policies"]]
        assert "arn:aws:iam::aws:policy/ReadOnlyAccess" in aws and local not in aws
        assert iam.list_policies(OnlyAttached=True)["Policies"] == []
        iam.attach_role_policy(RoleName=role, PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
        attached = [p["Arn"] for p in iam.list_policies(OnlyAttached=True)["Policies"]]
        assert attached == ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
        assert [p["Arn"] for p in iam.list_policies(PathPrefix="/team/")["Policies"]] == [local]
        iam.detach_role_policy(RoleName=role, PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    finally:
        iam.delete_role(RoleName=role)
        iam.delete_policy(PolicyArn=local)


@pytest.mark.parametrize("kind", ["User", "Role", "Group"])
def test_inline_policies(iam, kind):
    name = unique_name(kind.lower())
    if kind == "User":
        iam.create_user(UserName=name)
    elif kind == "Role":
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST_LAMBDA)
    else:
        iam.create_group(GroupName=name)
    key = {f"{kind}Name": name}
    snake = kind.lower()
    getattr(iam, f"put_{snake}_policy")(**key, PolicyName="p1", PolicyDocument=ALLOW_SQS)
    getattr(iam, f"put_{snake}_policy")(**key, PolicyName="p2", PolicyDocument=ALLOW_SNS)
    got = getattr(iam, f"get_{snake}_policy")(**key, PolicyName="p1")
    assert got[f"{kind}Name"] == name and got["PolicyName"] == "p1"
    assert got["PolicyDocument"] == json.loads(ALLOW_SQS)
    assert getattr(iam, f"list_{snake}_policies")(**key)["PolicyNames"] == ["p1", "p2"]
    with pytest.raises(Exception) as e:
        getattr(iam, f"put_{snake}_policy")(**key, PolicyName="bad", PolicyDocument="{}")
    assert error_of(e)[:2] == ("MalformedPolicyDocument", 400)
    with pytest.raises(Exception) as e:
        getattr(iam, f"get_{snake}_policy")(**key, PolicyName="nope")
    assert error_of(e) == ("NoSuchEntity", 404, f"The {snake} policy with name nope cannot be found.")
    for p in ("p1", "p2"):
        getattr(iam, f"delete_{snake}_policy")(**key, PolicyName=p)
    assert getattr(iam, f"list_{snake}_policies")(**key)["PolicyNames"] == []
    getattr(iam, f"delete_{snake}")(**key)
