"""ListEntitiesForPolicy, UpdateUser, GetAccessKeyLastUsed, and paging of ListUserTags and ListRoleTags.
Expectations from the IAM API reference (and botocore's IAM model for shapes and enums)."""

from __future__ import annotations

import pytest

from conftest import unique_name
from iam_helpers import ALLOW_SQS, TRUST_LAMBDA, client_from, error_of, iam_client, skip_second_pass

skip_second_pass()

ACCOUNT = "000000000000"
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"


@pytest.fixture(scope="module")
def iam(endpoint):
    return iam_client(endpoint)


def _all_pages(call, key, **kwargs):
    """Every item of a MaxItems/Marker listing, and the number of pages it took."""
    items, pages, marker = [], 0, None
    while True:
        out = call(**kwargs, **({"Marker": marker} if marker else {}))
        pages += 1
        items += out[key]
        if not out["IsTruncated"]:
            assert "Marker" not in out
            return items, pages
        marker = out["Marker"]
        assert marker


def _entity_pages(iam, **kwargs):
    users, roles, groups, marker, pages = [], [], [], None, 0
    while True:
        out = iam.list_entities_for_policy(**kwargs, **({"Marker": marker} if marker else {}))
        pages += 1
        users += out["PolicyUsers"]
        roles += out["PolicyRoles"]
        groups += out["PolicyGroups"]
        if not out["IsTruncated"]:
            return users, roles, groups, pages
        marker = out["Marker"]


@pytest.fixture
def policy_users(iam):
    """A customer managed policy attached to a user (path /lefp/), a role and a group, and the
    permissions boundary of a second user."""
    policy = iam.create_policy(PolicyName=unique_name("p"), PolicyDocument=ALLOW_SQS)["Policy"]
    arn = policy["Arn"]
    attached = iam.create_user(UserName=unique_name("u"), Path="/lefp/")["User"]
    bounded = iam.create_user(UserName=unique_name("u"), PermissionsBoundary=arn)["User"]
    role = iam.create_role(RoleName=unique_name("r"), AssumeRolePolicyDocument=TRUST_LAMBDA)["Role"]
    group = iam.create_group(GroupName=unique_name("g"))["Group"]
    iam.attach_user_policy(UserName=attached["UserName"], PolicyArn=arn)
    iam.attach_role_policy(RoleName=role["RoleName"], PolicyArn=arn)
    iam.attach_group_policy(GroupName=group["GroupName"], PolicyArn=arn)
    yield {"arn": arn, "attached": attached, "bounded": bounded, "role": role, "group": group}
    iam.detach_user_policy(UserName=attached["UserName"], PolicyArn=arn)
    iam.detach_role_policy(RoleName=role["RoleName"], PolicyArn=arn)
    iam.detach_group_policy(GroupName=group["GroupName"], PolicyArn=arn)
    iam.delete_user(UserName=attached["UserName"])
    iam.delete_user(UserName=bounded["UserName"])
    iam.delete_role(RoleName=role["RoleName"])
    iam.delete_group(GroupName=group["GroupName"])
    iam.delete_policy(PolicyArn=arn)


def _user(u):
    return {"UserName": u["UserName"], "UserId": u["UserId"]}


def test_list_entities_for_policy_lists_every_kind_with_name_and_id(iam, policy_users):
    p = policy_users
    out = iam.list_entities_for_policy(PolicyArn=p["arn"])
    assert out["IsTruncated"] is False
    # Without PolicyUsageFilter both uses are listed: attached and as a boundary.
    assert sorted(out["PolicyUsers"], key=lambda u: u["UserName"]) == sorted(
        [_user(p["attached"]), _user(p["bounded"])], key=lambda u: u["UserName"]
    )
    assert out["PolicyRoles"] == [{"RoleName": p["role"]["RoleName"], "RoleId": p["role"]["RoleId"]}]
    assert out["PolicyGroups"] == [{"GroupName": p["group"]["GroupName"], "GroupId": p["group"]["GroupId"]}]


def test_list_entities_for_policy_filters(iam, policy_users):
    p = policy_users
    roles_only = iam.list_entities_for_policy(PolicyArn=p["arn"], EntityFilter="Role")
    assert [r["RoleName"] for r in roles_only["PolicyRoles"]] == [p["role"]["RoleName"]]
    assert roles_only["PolicyUsers"] == [] and roles_only["PolicyGroups"] == []
    groups_only = iam.list_entities_for_policy(PolicyArn=p["arn"], EntityFilter="Group")
    assert [g["GroupName"] for g in groups_only["PolicyGroups"]] == [p["group"]["GroupName"]]
    assert groups_only["PolicyUsers"] == [] and groups_only["PolicyRoles"] == []
    users_only = iam.list_entities_for_policy(PolicyArn=p["arn"], EntityFilter="User")
    assert len(users_only["PolicyUsers"]) == 2 and users_only["PolicyRoles"] == []

    permissions = iam.list_entities_for_policy(PolicyArn=p["arn"], PolicyUsageFilter="PermissionsPolicy")
    assert permissions["PolicyUsers"] == [_user(p["attached"])]
    assert len(permissions["PolicyRoles"]) == 1 and len(permissions["PolicyGroups"]) == 1
    boundary = iam.list_entities_for_policy(PolicyArn=p["arn"], PolicyUsageFilter="PermissionsBoundary")
    assert boundary["PolicyUsers"] == [_user(p["bounded"])]
    assert boundary["PolicyRoles"] == [] and boundary["PolicyGroups"] == []

    under = iam.list_entities_for_policy(PolicyArn=p["arn"], PathPrefix="/lefp/")
    assert under["PolicyUsers"] == [_user(p["attached"])]
    assert under["PolicyRoles"] == [] and under["PolicyGroups"] == []


def test_list_entities_for_policy_pages(iam, policy_users):
    p = policy_users
    users, roles, groups, pages = _entity_pages(iam, PolicyArn=p["arn"], MaxItems=1)
    assert pages == 4
    assert sorted(u["UserName"] for u in users) == sorted([p["attached"]["UserName"], p["bounded"]["UserName"]])
    assert [r["RoleName"] for r in roles] == [p["role"]["RoleName"]]
    assert [g["GroupName"] for g in groups] == [p["group"]["GroupName"]]
    first = iam.list_entities_for_policy(PolicyArn=p["arn"], MaxItems=3)
    assert first["IsTruncated"] is True and first["Marker"]
    assert len(first["PolicyUsers"]) + len(first["PolicyRoles"]) + len(first["PolicyGroups"]) == 3


def test_list_entities_for_an_aws_managed_policy(iam):
    role = iam.create_role(RoleName=unique_name("r"), AssumeRolePolicyDocument=TRUST_LAMBDA)["Role"]
    iam.attach_role_policy(RoleName=role["RoleName"], PolicyArn=READ_ONLY)
    try:
        roles, _ = _all_pages(iam.list_entities_for_policy, "PolicyRoles", PolicyArn=READ_ONLY, EntityFilter="Role")
        assert {"RoleName": role["RoleName"], "RoleId": role["RoleId"]} in roles
    finally:
        iam.detach_role_policy(RoleName=role["RoleName"], PolicyArn=READ_ONLY)
        iam.delete_role(RoleName=role["RoleName"])
    roles, _ = _all_pages(iam.list_entities_for_policy, "PolicyRoles", PolicyArn=READ_ONLY, EntityFilter="Role")
    assert role["RoleName"] not in [r["RoleName"] for r in roles]


def test_list_entities_for_policy_errors(iam):
    missing = f"arn:aws:iam::{ACCOUNT}:policy/{unique_name('nope')}"
    with pytest.raises(Exception) as e:
        iam.list_entities_for_policy(PolicyArn=missing)
    code, status, _ = error_of(e)
    assert (code, status) == ("NoSuchEntity", 404)
    with pytest.raises(Exception) as e:
        iam.list_entities_for_policy(PolicyArn="not-an-arn-of-any-policy")
    code, status, message = error_of(e)
    assert (code, status, message) == ("InvalidInput", 400, "ARN not-an-arn-of-any-policy is not valid.")
    arn = iam.create_policy(PolicyName=unique_name("p"), PolicyDocument=ALLOW_SQS)["Policy"]["Arn"]
    try:
        out = iam.list_entities_for_policy(PolicyArn=arn)
        assert (out["PolicyUsers"], out["PolicyRoles"], out["PolicyGroups"], out["IsTruncated"]) == ([], [], [], False)
        for member, value in [("EntityFilter", "Bucket"), ("PolicyUsageFilter", "Everything")]:
            with pytest.raises(Exception) as e:
                iam.list_entities_for_policy(PolicyArn=arn, **{member: value})
            code, status, _ = error_of(e)
            assert (code, status) == ("ValidationError", 400)
    finally:
        iam.delete_policy(PolicyArn=arn)


def test_update_user_renames_and_everything_follows(endpoint, iam):
    old, new = unique_name("u"), unique_name("u")
    user = iam.create_user(UserName=old, Path="/before/", Tags=[{"Key": "team", "Value": "blue"}])["User"]
    group = unique_name("g")
    iam.create_group(GroupName=group)
    iam.add_user_to_group(GroupName=group, UserName=old)
    policy = iam.create_policy(PolicyName=unique_name("p"), PolicyDocument=ALLOW_SQS)["Policy"]["Arn"]
    iam.attach_user_policy(UserName=old, PolicyArn=policy)
    iam.put_user_policy(UserName=old, PolicyName="inline", PolicyDocument=ALLOW_SQS)
    key = iam.create_access_key(UserName=old)["AccessKey"]

    assert iam.update_user(UserName=old, NewUserName=new, NewPath="/after/")["ResponseMetadata"]["HTTPStatusCode"] == 200
    try:
        renamed = iam.get_user(UserName=new)["User"]
        assert renamed["UserId"] == user["UserId"]
        assert renamed["Path"] == "/after/"
        assert renamed["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/after/{new}"
        with pytest.raises(Exception) as e:
            iam.get_user(UserName=old)
        assert error_of(e)[:2] == ("NoSuchEntity", 404)

        assert [g["GroupName"] for g in iam.list_groups_for_user(UserName=new)["Groups"]] == [group]
        assert [u["UserName"] for u in iam.get_group(GroupName=group)["Users"]] == [new]
        attached = iam.list_attached_user_policies(UserName=new)["AttachedPolicies"]
        assert [a["PolicyArn"] for a in attached] == [policy]
        assert iam.list_user_policies(UserName=new)["PolicyNames"] == ["inline"]
        assert iam.list_user_tags(UserName=new)["Tags"] == [{"Key": "team", "Value": "blue"}]
        keys = iam.list_access_keys(UserName=new)["AccessKeyMetadata"]
        assert [(k["AccessKeyId"], k["UserName"]) for k in keys] == [(key["AccessKeyId"], new)]
        users = iam.list_entities_for_policy(PolicyArn=policy)["PolicyUsers"]
        assert users == [{"UserName": new, "UserId": user["UserId"]}]

        # The key now speaks for the renamed user.
        me = client_from(endpoint, "sts", key).get_caller_identity()
        assert me["Arn"] == renamed["Arn"] and me["UserId"] == user["UserId"]
        assert client_from(endpoint, "iam", key).get_user()["User"]["UserName"] == new

        # Only the path.
        iam.update_user(UserName=new, NewPath="/")
        assert iam.get_user(UserName=new)["User"]["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/{new}"
    finally:
        iam.delete_access_key(UserName=new, AccessKeyId=key["AccessKeyId"])
        iam.delete_user_policy(UserName=new, PolicyName="inline")
        iam.detach_user_policy(UserName=new, PolicyArn=policy)
        iam.remove_user_from_group(GroupName=group, UserName=new)
        iam.delete_user(UserName=new)
        iam.delete_group(GroupName=group)
        iam.delete_policy(PolicyArn=policy)


def test_update_user_errors(iam):
    a, b = unique_name("u"), unique_name("u")
    iam.create_user(UserName=a)
    iam.create_user(UserName=b)
    try:
        # IAM names are unique without regard to case.
        for taken in (b, b.upper()):
            with pytest.raises(Exception) as e:
                iam.update_user(UserName=a, NewUserName=taken)
            assert error_of(e)[:2] == ("EntityAlreadyExists", 409)
        assert iam.get_user(UserName=a)["User"]["UserName"] == a
        with pytest.raises(Exception) as e:
            iam.update_user(UserName=unique_name("nobody"), NewUserName=unique_name("u"))
        assert error_of(e)[:2] == ("NoSuchEntity", 404)
        with pytest.raises(Exception) as e:
            iam.update_user(UserName=a, NewUserName="bad/name")
        assert error_of(e)[:2] == ("ValidationError", 400)
        with pytest.raises(Exception) as e:
            iam.update_user(UserName=a, NewPath="no-slashes")
        assert error_of(e)[:2] == ("ValidationError", 400)
    finally:
        iam.delete_user(UserName=a)
        iam.delete_user(UserName=b)


def test_get_access_key_last_used(endpoint, iam):
    name = unique_name("u")
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    try:
        out = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])
        assert out["UserName"] == name
        # A key never used: service and region "N/A", no date (AccessKeyLastUsed in the API reference).
        assert out["AccessKeyLastUsed"] == {"ServiceName": "N/A", "Region": "N/A"}

        client_from(endpoint, "iam", key).list_access_keys()
        used = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])["AccessKeyLastUsed"]
        assert used["ServiceName"] == "iam" and used["Region"] == "us-east-1"
        assert "LastUsedDate" in used

        # Any service the key signs for counts, under its signing name.
        client_from(endpoint, "sqs", key).list_queues()
        used = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])["AccessKeyLastUsed"]
        assert used["ServiceName"] == "sqs" and used["Region"] == "us-east-1"
    finally:
        iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
        iam.delete_user(UserName=name)


def test_get_access_key_last_used_of_an_unknown_key_is_denied(iam):
    with pytest.raises(Exception) as e:
        iam.get_access_key_last_used(AccessKeyId="AKIAZZZZZZZZZZZZZZZZ")
    assert error_of(e)[:2] == ("AccessDenied", 403)


TAGS = [{"Key": f"k{i}", "Value": f"v{i}"} for i in range(5)]


def test_list_user_tags_pages(iam):
    name = unique_name("u")
    iam.create_user(UserName=name, Tags=TAGS)
    try:
        first = iam.list_user_tags(UserName=name, MaxItems=2)
        assert len(first["Tags"]) == 2 and first["IsTruncated"] is True and first["Marker"]
        tags, pages = _all_pages(iam.list_user_tags, "Tags", UserName=name, MaxItems=2)
        assert pages == 3
        assert sorted(tags, key=lambda t: t["Key"]) == TAGS
        whole = iam.list_user_tags(UserName=name)
        assert whole["IsTruncated"] is False and len(whole["Tags"]) == 5
    finally:
        iam.delete_user(UserName=name)


def test_list_role_tags_pages(iam):
    name = unique_name("r")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST_LAMBDA, Tags=TAGS)
    try:
        tags, pages = _all_pages(iam.list_role_tags, "Tags", RoleName=name, MaxItems=2)
        assert pages == 3
        assert sorted(tags, key=lambda t: t["Key"]) == TAGS
        one, pages = _all_pages(iam.list_role_tags, "Tags", RoleName=name, MaxItems=1)
        assert pages == 5 and len(one) == 5
        with pytest.raises(Exception) as e:
            iam.list_role_tags(RoleName=unique_name("nobody"))
        assert error_of(e)[:2] == ("NoSuchEntity", 404)
    finally:
        iam.delete_role(RoleName=name)


def test_policy_tags(iam):
    arn = iam.create_policy(PolicyName=unique_name("p"), PolicyDocument=ALLOW_SQS, Tags=TAGS[:2])["Policy"]["Arn"]
    try:
        iam.tag_policy(PolicyArn=arn, Tags=TAGS[2:] + [{"Key": "k0", "Value": "again"}])
        iam.untag_policy(PolicyArn=arn, TagKeys=["k4"])
        want = [{"Key": "k0", "Value": "again"}] + TAGS[1:4]
        tags, pages = _all_pages(iam.list_policy_tags, "Tags", PolicyArn=arn, MaxItems=3)
        assert pages == 2
        assert sorted(tags, key=lambda t: t["Key"]) == want
        assert iam.get_policy(PolicyArn=arn)["Policy"]["Tags"] == want
        with pytest.raises(Exception) as e:
            iam.list_policy_tags(PolicyArn=f"arn:aws:iam::{ACCOUNT}:policy/{unique_name('nope')}")
        assert error_of(e)[:2] == ("NoSuchEntity", 404)
    finally:
        iam.delete_policy(PolicyArn=arn)


def test_instance_profile_tags(iam):
    name = unique_name("ip")
    iam.create_instance_profile(InstanceProfileName=name, Tags=TAGS[:1])
    try:
        iam.tag_instance_profile(InstanceProfileName=name, Tags=TAGS[1:])
        iam.untag_instance_profile(InstanceProfileName=name, TagKeys=["k0"])
        tags, pages = _all_pages(iam.list_instance_profile_tags, "Tags", InstanceProfileName=name, MaxItems=2)
        assert pages == 2
        assert sorted(tags, key=lambda t: t["Key"]) == TAGS[1:]
        with pytest.raises(Exception) as e:
            iam.list_instance_profile_tags(InstanceProfileName=unique_name("nope"))
        assert error_of(e)[:2] == ("NoSuchEntity", 404)
    finally:
        iam.delete_instance_profile(InstanceProfileName=name)
