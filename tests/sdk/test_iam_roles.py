"""IAM roles and instance profiles: lifecycle, trust policies, tags, limits, delete conflicts and
service-linked roles. Expectations from the IAM API reference."""

from __future__ import annotations

import json

import pytest

from iam_helpers import ALLOW_SQS, TRUST_LAMBDA, error_of, iam_client, role_name, skip_second_pass

skip_second_pass()


@pytest.fixture(scope="module")
def iam(endpoint):
    return iam_client(endpoint)


def test_role_lifecycle(iam):
    name = role_name()
    created = iam.create_role(
        RoleName=name,
        Path="/app/",
        AssumeRolePolicyDocument=TRUST_LAMBDA,
        Description="runs the app",
        Tags=[{"Key": "team", "Value": "core"}],
    )["Role"]
    assert created["Arn"] == f"arn:aws:iam::000000000000:role/app/{name}"
    assert created["RoleId"].startswith("AROA") and len(created["RoleId"]) == 21
    assert created["Path"] == "/app/"
    # botocore decodes the URL-encoded document into a dict.
    assert created["AssumeRolePolicyDocument"] == json.loads(TRUST_LAMBDA)
    got = iam.get_role(RoleName=name)["Role"]
    assert got["MaxSessionDuration"] == 3600
    assert got["Description"] == "runs the app"
    assert got["Tags"] == [{"Key": "team", "Value": "core"}]
    listed = [r["RoleName"] for r in iam.list_roles(PathPrefix="/app/")["Roles"]]
    assert name in listed
    assert name not in [r["RoleName"] for r in iam.list_roles(PathPrefix="/other/")["Roles"]]
    iam.delete_role(RoleName=name)
    with pytest.raises(Exception) as e:
        iam.get_role(RoleName=name)
    assert error_of(e) == ("NoSuchEntity", 404, f"The role with name {name} cannot be found.")


def test_duplicate_role_names_clash_without_case(iam):
    name = role_name("Dup")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST_LAMBDA)
    try:
        with pytest.raises(Exception) as e:
            iam.create_role(RoleName=name.lower(), AssumeRolePolicyDocument=TRUST_LAMBDA)
        assert error_of(e)[:2] == ("EntityAlreadyExists", 409)
    finally:
        iam.delete_role(RoleName=name)


def test_update_role_and_trust_policy(iam):
    name = role_name()
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST_LAMBDA)
    try:
        iam.update_role(RoleName=name, Description="new", MaxSessionDuration=43200)
        got = iam.get_role(RoleName=name)["Role"]
        assert (got["Description"], got["MaxSessionDuration"]) == ("new", 43200)
        trust = TRUST_LAMBDA.replace("lambda.amazonaws.com", "events.amazonaws.com")
        iam.update_assume_role_policy(RoleName=name, PolicyDocument=trust)
        assert iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"] == json.loads(trust)
        with pytest.raises(Exception) as e:
            iam.update_role(RoleName=name, MaxSessionDuration=43201)
        assert error_of(e)[:2] == ("ValidationError", 400)
        with pytest.raises(Exception) as e:
            iam.update_assume_role_policy(RoleName=name, PolicyDocument="nope")
        assert error_of(e)[:2] == ("MalformedPolicyDocument", 400)
    finally:
        iam.delete_role(RoleName=name)


def test_role_tags(iam):
    name = role_name()
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST_LAMBDA)
    try:
        iam.tag_role(RoleName=name, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
        iam.untag_role(RoleName=name, TagKeys=["a"])
        out = iam.list_role_tags(RoleName=name)
        assert out["Tags"] == [{"Key": "b", "Value": "2"}]
        assert out["IsTruncated"] is False
    finally:
        iam.delete_role(RoleName=name)


def test_malformed_trust_policies(iam):
    for doc in ("not json", json.dumps({"Version": "2012-10-17"}), json.dumps({"Statement": [{"Action": "sts:AssumeRole"}]})):
        with pytest.raises(Exception) as e:
            iam.create_role(RoleName=role_name(), AssumeRolePolicyDocument=doc)
        assert error_of(e)[:2] == ("MalformedPolicyDocument", 400), doc


def test_delete_role_refuses_while_anything_is_attached(iam):
    name = role_name()
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST_LAMBDA)
    profile = role_name("profile")
    iam.attach_role_policy(RoleName=name, PolicyArn="arn:aws:iam::aws:policy/AmazonSQSFullAccess")
    with pytest.raises(Exception) as e:
        iam.delete_role(RoleName=name)
    assert error_of(e) == ("DeleteConflict", 409, "Cannot delete entity, must detach all policies first.")
    iam.detach_role_policy(RoleName=name, PolicyArn="arn:aws:iam::aws:policy/AmazonSQSFullAccess")
    iam.put_role_policy(RoleName=name, PolicyName="inline", PolicyDocument=ALLOW_SQS)
    with pytest.raises(Exception) as e:
        iam.delete_role(RoleName=name)
    assert error_of(e) == ("DeleteConflict", 409, "Cannot delete entity, must delete policies first.")
    iam.delete_role_policy(RoleName=name, PolicyName="inline")
    iam.create_instance_profile(InstanceProfileName=profile)
    iam.add_role_to_instance_profile(InstanceProfileName=profile, RoleName=name)
    with pytest.raises(Exception) as e:
        iam.delete_role(RoleName=name)
    assert error_of(e)[:2] == ("DeleteConflict", 409)
    iam.remove_role_from_instance_profile(InstanceProfileName=profile, RoleName=name)
    iam.delete_instance_profile(InstanceProfileName=profile)
    iam.delete_role(RoleName=name)


def test_instance_profiles(iam):
    name, role = role_name("profile"), role_name()
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=TRUST_LAMBDA)
    created = iam.create_instance_profile(InstanceProfileName=name, Path="/ec2/")["InstanceProfile"]
    assert created["Arn"] == f"arn:aws:iam::000000000000:instance-profile/ec2/{name}"
    assert created["Roles"] == []
    iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=role)
    got = iam.get_instance_profile(InstanceProfileName=name)["InstanceProfile"]
    assert [r["RoleName"] for r in got["Roles"]] == [role]
    with pytest.raises(Exception) as e:
        iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=role)
    assert error_of(e)[:2] == ("LimitExceeded", 409)
    for_role = iam.list_instance_profiles_for_role(RoleName=role)["InstanceProfiles"]
    assert [p["InstanceProfileName"] for p in for_role] == [name]
    assert name in [p["InstanceProfileName"] for p in iam.list_instance_profiles(PathPrefix="/ec2/")["InstanceProfiles"]]
    with pytest.raises(Exception) as e:
        iam.delete_instance_profile(InstanceProfileName=name)
    assert error_of(e)[:2] == ("DeleteConflict", 409)
    iam.remove_role_from_instance_profile(InstanceProfileName=name, RoleName=role)
    iam.delete_instance_profile(InstanceProfileName=name)
    with pytest.raises(Exception) as e:
        iam.get_instance_profile(InstanceProfileName=name)
    assert error_of(e)[:2] == ("NoSuchEntity", 404)
    iam.delete_role(RoleName=role)


def test_service_linked_role(endpoint):
    iam = iam_client(endpoint, access_key="222233334444")
    role = iam.create_service_linked_role(AWSServiceName="autoscaling.amazonaws.com")["Role"]
    assert role["Path"] == "/aws-service-role/autoscaling.amazonaws.com/"
    assert role["RoleName"] == "AWSServiceRoleForAutoScaling"
    assert role["Arn"] == (
        "arn:aws:iam::222233334444:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
    )
    statement = role["AssumeRolePolicyDocument"]["Statement"][0]
    assert statement["Principal"] == {"Service": "autoscaling.amazonaws.com"}
    with pytest.raises(Exception) as e:
        iam.create_service_linked_role(AWSServiceName="autoscaling.amazonaws.com")
    assert error_of(e)[:2] == ("InvalidInput", 400)
    iam.delete_role(RoleName="AWSServiceRoleForAutoScaling")


def test_paging_with_marker(endpoint):
    iam = iam_client(endpoint, access_key="333344445555")
    names = sorted(role_name(f"p{i}") for i in range(5))
    for n in names:
        iam.create_role(RoleName=n, AssumeRolePolicyDocument=TRUST_LAMBDA)
    try:
        first = iam.list_roles(MaxItems=2)
        assert first["IsTruncated"] is True and len(first["Roles"]) == 2
        seen = [r["RoleName"] for page in iam.get_paginator("list_roles").paginate(PaginationConfig={"PageSize": 2}) for r in page["Roles"]]
        assert sorted(seen) == names
    finally:
        for n in names:
            iam.delete_role(RoleName=n)
