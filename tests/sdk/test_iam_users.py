"""IAM users, groups and access keys. Expectations from the IAM API reference."""

from __future__ import annotations

import pytest

from conftest import unique_name
from iam_helpers import client_from, error_of, iam_client, skip_second_pass

skip_second_pass()


@pytest.fixture(scope="module")
def iam(endpoint):
    return iam_client(endpoint)


def test_user_lifecycle(iam):
    name = unique_name("u")
    user = iam.create_user(UserName=name, Path="/ops/", Tags=[{"Key": "k", "Value": "v"}])["User"]
    assert user["Arn"] == f"arn:aws:iam::000000000000:user/ops/{name}"
    assert user["UserId"].startswith("AIDA")
    assert iam.get_user(UserName=name)["User"]["UserId"] == user["UserId"]
    assert name in [u["UserName"] for u in iam.list_users(PathPrefix="/ops/")["Users"]]
    iam.tag_user(UserName=name, Tags=[{"Key": "k2", "Value": "v2"}])
    iam.untag_user(UserName=name, TagKeys=["k"])
    assert iam.list_user_tags(UserName=name)["Tags"] == [{"Key": "k2", "Value": "v2"}]
    with pytest.raises(Exception) as e:
        iam.create_user(UserName=name)
    assert error_of(e) == ("EntityAlreadyExists", 409, f"User with name {name} already exists.")
    iam.delete_user(UserName=name)
    with pytest.raises(Exception) as e:
        iam.get_user(UserName=name)
    assert error_of(e) == ("NoSuchEntity", 404, f"The user with name {name} cannot be found.")


def test_get_user_without_name_is_the_caller(endpoint, iam):
    root = iam.get_user()["User"]
    assert root["Arn"] == "arn:aws:iam::000000000000:root"
    name = unique_name("u")
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    try:
        me = client_from(endpoint, "iam", key).get_user()["User"]
        assert me["UserName"] == name
        # Without UserName, access key operations act on the caller's own keys.
        own = client_from(endpoint, "iam", key).list_access_keys()["AccessKeyMetadata"]
        assert [k["AccessKeyId"] for k in own] == [key["AccessKeyId"]]
    finally:
        iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
        iam.delete_user(UserName=name)


def test_access_keys(iam):
    name = unique_name("u")
    iam.create_user(UserName=name)
    first = iam.create_access_key(UserName=name)["AccessKey"]
    assert first["AccessKeyId"].startswith("AKIA") and len(first["AccessKeyId"]) == 20
    assert len(first["SecretAccessKey"]) == 40
    assert first["Status"] == "Active"
    second = iam.create_access_key(UserName=name)["AccessKey"]
    with pytest.raises(Exception) as e:
        iam.create_access_key(UserName=name)
    assert error_of(e)[:2] == ("LimitExceeded", 409)
    iam.update_access_key(UserName=name, AccessKeyId=first["AccessKeyId"], Status="Inactive")
    listed = {k["AccessKeyId"]: k for k in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]}
    assert listed[first["AccessKeyId"]]["Status"] == "Inactive"
    assert listed[second["AccessKeyId"]]["Status"] == "Active"
    assert "SecretAccessKey" not in listed[first["AccessKeyId"]]
    with pytest.raises(Exception) as e:
        iam.delete_user(UserName=name)
    assert error_of(e)[:2] == ("DeleteConflict", 409)
    with pytest.raises(Exception) as e:
        iam.delete_access_key(UserName=name, AccessKeyId="AKIAAAAAAAAAAAAAAAAA")
    assert error_of(e)[:2] == ("NoSuchEntity", 404)
    for k in (first, second):
        iam.delete_access_key(UserName=name, AccessKeyId=k["AccessKeyId"])
    iam.delete_user(UserName=name)


def test_groups(iam):
    group, user = unique_name("g"), unique_name("u")
    created = iam.create_group(GroupName=group, Path="/dev/")["Group"]
    assert created["Arn"] == f"arn:aws:iam::000000000000:group/dev/{group}"
    assert created["GroupId"].startswith("AGPA")
    iam.create_user(UserName=user)
    iam.add_user_to_group(GroupName=group, UserName=user)
    got = iam.get_group(GroupName=group)
    assert got["Group"]["GroupName"] == group
    assert [u["UserName"] for u in got["Users"]] == [user]
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName=user)["Groups"]] == [group]
    assert group in [g["GroupName"] for g in iam.list_groups(PathPrefix="/dev/")["Groups"]]
    with pytest.raises(Exception) as e:
        iam.delete_group(GroupName=group)
    assert error_of(e)[:2] == ("DeleteConflict", 409)
    iam.remove_user_from_group(GroupName=group, UserName=user)
    assert iam.get_group(GroupName=group)["Users"] == []
    iam.delete_group(GroupName=group)
    iam.delete_user(UserName=user)
    with pytest.raises(Exception) as e:
        iam.get_group(GroupName=group)
    assert error_of(e)[:2] == ("NoSuchEntity", 404)


def test_invalid_names_are_validation_errors(endpoint):
    loose = iam_client(endpoint, parameter_validation=False)
    with pytest.raises(Exception) as e:
        loose.create_user(UserName="bad/name")
    assert error_of(e)[:2] == ("ValidationError", 400)
    with pytest.raises(Exception) as e:
        loose.create_user(UserName="ok", Path="no-slashes")
    assert error_of(e)[:2] == ("ValidationError", 400)
