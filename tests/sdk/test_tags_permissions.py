"""TagQueue / UntagQueue / ListQueueTags, AddPermission / RemovePermission."""

import json

import pytest

from sqs_helpers import INVALID_PARAMETER_VALUE, expect_error, get_attrs, get_arn


# ----------------------------------------------------------------- tags


def test_tag_untag_list(sqs, queue):
    assert sqs.list_queue_tags(QueueUrl=queue).get("Tags", {}) == {}
    sqs.tag_queue(QueueUrl=queue, Tags={"tag1": "value1", "tag2": "value2", "tag3": ""})
    assert sqs.list_queue_tags(QueueUrl=queue)["Tags"] == {"tag1": "value1", "tag2": "value2", "tag3": ""}
    sqs.untag_queue(QueueUrl=queue, TagKeys=["tag1", "tag3"])
    assert sqs.list_queue_tags(QueueUrl=queue)["Tags"] == {"tag2": "value2"}
    sqs.untag_queue(QueueUrl=queue, TagKeys=["tag2"])
    assert sqs.list_queue_tags(QueueUrl=queue).get("Tags", {}) == {}


def test_tag_overwrites_value(sqs, queue):
    sqs.tag_queue(QueueUrl=queue, Tags={"env": "dev"})
    sqs.tag_queue(QueueUrl=queue, Tags={"env": "prod", "team": "core"})
    assert sqs.list_queue_tags(QueueUrl=queue)["Tags"] == {"env": "prod", "team": "core"}


def test_untag_missing_key_is_fine(sqs, queue):
    sqs.tag_queue(QueueUrl=queue, Tags={"a": "1"})
    sqs.untag_queue(QueueUrl=queue, TagKeys=["does-not-exist"])
    assert sqs.list_queue_tags(QueueUrl=queue)["Tags"] == {"a": "1"}


def test_create_queue_with_tags(sqs, create_queue):
    tags = {"owner": "eddy", "unicode": "ünï ✓", "with space": "a b"}
    url = create_queue(tags=tags)
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == tags


def test_tags_are_not_queue_attributes(sqs, create_queue):
    url = create_queue(tags={"k": "v"})
    assert "k" not in get_attrs(sqs, url)


# ----------------------------------------------------------------- permissions


def _policy(sqs, url):
    raw = get_attrs(sqs, url, "Policy").get("Policy")
    return json.loads(raw) if raw else None


def _as_list(v):
    return v if isinstance(v, list) else [v]


def test_add_and_remove_permission(sqs, queue):
    arn = get_arn(sqs, queue)
    sqs.add_permission(
        QueueUrl=queue, Label="crossaccountpermission", AWSAccountIds=["111122223333"], Actions=["ReceiveMessage"]
    )
    policy = _policy(sqs, queue)
    assert policy is not None
    # Recorded from AWS: AddPermission writes the 2008 policy language, single values as strings.
    assert policy["Version"] == "2008-10-17"
    assert policy["Id"] == f"{arn}/SQSDefaultPolicy"
    stmts = policy["Statement"]
    assert len(stmts) == 1
    s = stmts[0]
    assert s["Sid"] == "crossaccountpermission"
    assert s["Effect"] == "Allow"
    assert s["Principal"]["AWS"] == "arn:aws:iam::111122223333:root"
    assert s["Action"] == "SQS:ReceiveMessage"
    assert s["Resource"] == arn

    sqs.add_permission(
        QueueUrl=queue,
        Label="second",
        AWSAccountIds=["111122223333", "444455556666"],
        Actions=["SendMessage", "DeleteMessage"],
    )
    stmts = _policy(sqs, queue)["Statement"]
    assert [x["Sid"] for x in stmts] == ["crossaccountpermission", "second"]
    second = stmts[1]
    assert sorted(_as_list(second["Principal"]["AWS"])) == [
        "arn:aws:iam::111122223333:root",
        "arn:aws:iam::444455556666:root",
    ]
    assert sorted(a.lower() for a in _as_list(second["Action"])) == ["sqs:deletemessage", "sqs:sendmessage"]

    sqs.remove_permission(QueueUrl=queue, Label="crossaccountpermission")
    assert [x["Sid"] for x in _policy(sqs, queue)["Statement"]] == ["second"]
    sqs.remove_permission(QueueUrl=queue, Label="second")
    # AWS-recorded: once the last statement is gone, no Policy attribute is returned
    assert _policy(sqs, queue) is None


def test_add_permission_duplicate_label(sqs, queue):
    sqs.add_permission(QueueUrl=queue, Label="dup", AWSAccountIds=["111122223333"], Actions=["ReceiveMessage"])
    expect_error(
        sqs.add_permission,
        INVALID_PARAMETER_VALUE,
        400,
        QueueUrl=queue,
        Label="dup",
        AWSAccountIds=["444455556666"],
        Actions=["ReceiveMessage"],
    )


def test_remove_unknown_label(sqs, queue):
    err = expect_error(sqs.remove_permission, INVALID_PARAMETER_VALUE, 400, QueueUrl=queue, Label="nope")
    # AWS's recorded text for a queue without a policy.
    assert err.response["Error"]["Message"] == "Value nope for parameter Label is invalid. Reason: can't find label."


def test_permission_keeps_existing_policy_statements(sqs, queue):
    arn = get_arn(sqs, queue)
    base = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "events",
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": arn,
            }
        ],
    }
    sqs.set_queue_attributes(QueueUrl=queue, Attributes={"Policy": json.dumps(base)})
    sqs.add_permission(QueueUrl=queue, Label="extra", AWSAccountIds=["111122223333"], Actions=["SendMessage"])
    sids = [s["Sid"] for s in _policy(sqs, queue)["Statement"]]
    assert sids == ["events", "extra"]
    sqs.remove_permission(QueueUrl=queue, Label="extra")
    assert [s["Sid"] for s in _policy(sqs, queue)["Statement"]] == ["events"]
