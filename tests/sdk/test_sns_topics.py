"""SNS topics: CreateTopic, DeleteTopic, ListTopics, Get/SetTopicAttributes, tags, AddPermission /
RemovePermission, data protection policies, and their persistence across a restart.

Expectations: SNS API reference and AWS-recorded responses (defaults of GetTopicAttributes, error
codes and messages)."""

import json
import xml.etree.ElementTree as ET

import pytest
import requests

from conftest import unique_name
from sns_helpers import (
    ACCOUNT,
    INVALID_PARAMETER,
    NOT_FOUND,
    OTHER_ACCOUNT,
    RESOURCE_NOT_FOUND,
    TAG_LIMIT_EXCEEDED,
    expect_sns_error,
    reset_client,
    subscribe_queue,
    topic_arn_for,
)
from sqs_helpers import wait_until

SNS_XMLNS = "http://sns.amazonaws.com/doc/2010-03-31/"
# A SigV4 Authorization header (eddy parses, does not verify, signatures): account 000000000000, us-east-1.
SIGNED_HEADERS = {
    "Authorization": "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/sns/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=0000",
    "X-Amz-Date": "20240101T000000Z",
}

DEFAULT_EFFECTIVE_DELIVERY_POLICY = {
    "http": {
        "defaultHealthyRetryPolicy": {
            "minDelayTarget": 20,
            "maxDelayTarget": 20,
            "numRetries": 3,
            "numMaxDelayRetries": 0,
            "numNoDelayRetries": 0,
            "numMinDelayRetries": 0,
            "backoffFunction": "linear",
        },
        "disableSubscriptionOverrides": False,
        "defaultRequestPolicy": {"headerContentType": "text/plain; charset=UTF-8"},
    }
}

STANDARD_DEFAULT_KEYS = {
    "DisplayName",
    "EffectiveDeliveryPolicy",
    "Owner",
    "Policy",
    "SubscriptionsConfirmed",
    "SubscriptionsDeleted",
    "SubscriptionsPending",
    "TopicArn",
}


def default_policy(arn: str, account: str = ACCOUNT) -> dict:
    return {
        "Version": "2008-10-17",
        "Id": "__default_policy_ID",
        "Statement": [
            {
                "Sid": "__default_statement_ID",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": [
                    "SNS:GetTopicAttributes",
                    "SNS:SetTopicAttributes",
                    "SNS:AddPermission",
                    "SNS:RemovePermission",
                    "SNS:DeleteTopic",
                    "SNS:Subscribe",
                    "SNS:ListSubscriptionsByTopic",
                    "SNS:Publish",
                ],
                "Resource": arn,
                "Condition": {"StringEquals": {"AWS:SourceOwner": account}},
            }
        ],
    }


def _attrs(sns, arn):
    return sns.get_topic_attributes(TopicArn=arn)["Attributes"]


def _all_topics(client):
    arns, token = [], None
    while True:
        kw = {"NextToken": token} if token else {}
        page = client.list_topics(**kw)
        arns += [t["TopicArn"] for t in page.get("Topics", [])]
        token = page.get("NextToken")
        if not token:
            return arns


# ----------------------------------------------------------------- create / delete


def test_create_topic_returns_arn(sns, create_topic):
    name = unique_name("t")
    arn = create_topic(name=name)
    assert arn == topic_arn_for(name)


def test_create_topic_is_idempotent(sns, create_topic):
    name = unique_name("t")
    arn = create_topic(name=name, attributes={"DisplayName": "Value1"})
    assert sns.create_topic(Name=name)["TopicArn"] == arn
    assert sns.create_topic(Name=name, Attributes={"DisplayName": "Value1"})["TopicArn"] == arn
    assert _attrs(sns, arn)["DisplayName"] == "Value1"


def test_create_topic_fifo_false_on_existing_standard_topic_is_idempotent(sns, create_topic):
    # AWS-recorded: FifoTopic=false matches an existing standard topic created without it
    name = unique_name("t")
    arn = create_topic(name=name)
    assert sns.create_topic(Name=name, Attributes={"FifoTopic": "false"})["TopicArn"] == arn


@pytest.mark.parametrize(
    "attributes",
    [{"DisplayName": "Value2"}, {"SignatureVersion": "2"}, {"SignatureVersion": "2", "DisplayName": "Value1"}],
    ids=["changed", "new", "new-and-same"],
)
def test_create_existing_topic_with_different_attributes(sns, create_topic, attributes):
    name = unique_name("t")
    create_topic(name=name, attributes={"DisplayName": "Value1"})
    expect_sns_error(
        sns.create_topic,
        INVALID_PARAMETER,
        400,
        message="Invalid parameter: Attributes Reason: Topic already exists with different attributes",
        Name=name,
        Attributes=attributes,
    )


def test_create_existing_topic_with_different_tags(sns, create_topic):
    name = unique_name("t")
    create_topic(name=name, tags={"k1": "v1"})
    expect_sns_error(
        sns.create_topic,
        INVALID_PARAMETER,
        400,
        message="Invalid parameter: Tags Reason: Topic already exists with different tags",
        Name=name,
        Tags=[{"Key": "k1", "Value": "v1"}, {"Key": "k2", "Value": "v2"}],
    )


def test_topic_name_max_length(sns, create_topic):
    name = unique_name("t")
    name = name + "x" * (256 - len(name))
    assert create_topic(name=name) == topic_arn_for(name)


@pytest.mark.parametrize(
    "name,attributes",
    [
        ("", None),
        ("a" * 257, None),
        ("standard.fifo", None),
        ("fifo-without-suffix", {"FifoTopic": "true"}),
        ("bad:name", None),
        ("bad;name", None),
        ("bad!name", None),
        ("bad@name", None),
        ("bad|name", None),
        ("bad^name", None),
        ("bad%name", None),
        ("bad name", None),
    ],
    ids=[
        "empty",
        "too-long",
        "fifo-suffix-on-standard",
        "fifo-without-suffix",
        ":",
        ";",
        "!",
        "@",
        "|",
        "^",
        "%",
        "space",
    ],
)
def test_invalid_topic_names(sns, name, attributes):
    kwargs = {"Name": name}
    if attributes:
        kwargs["Attributes"] = attributes
    expect_sns_error(sns.create_topic, INVALID_PARAMETER, 400, message="Invalid parameter: Topic Name", **kwargs)


def test_create_fifo_topic(sns, create_topic):
    arn = create_topic(fifo=True)
    assert arn.endswith(".fifo")
    attrs = _attrs(sns, arn)
    # AWS-recorded: a FIFO topic adds exactly FifoTopic and ContentBasedDeduplication to the defaults
    assert set(attrs) == STANDARD_DEFAULT_KEYS | {"FifoTopic", "ContentBasedDeduplication"}
    assert attrs["FifoTopic"] == "true"
    assert attrs["ContentBasedDeduplication"] == "false"


def test_create_fifo_topic_with_content_based_deduplication(sns, create_topic):
    arn = create_topic(fifo=True, attributes={"ContentBasedDeduplication": "true"})
    assert _attrs(sns, arn)["ContentBasedDeduplication"] == "true"
    sns.set_topic_attributes(TopicArn=arn, AttributeName="ContentBasedDeduplication", AttributeValue="false")
    assert _attrs(sns, arn)["ContentBasedDeduplication"] == "false"


def test_content_based_deduplication_needs_fifo_topic(sns):
    expect_sns_error(
        sns.create_topic,
        INVALID_PARAMETER,
        400,
        Name=unique_name("t"),
        Attributes={"ContentBasedDeduplication": "true"},
    )


def test_delete_topic_and_delete_again(sns, create_topic):
    arn = create_topic()
    sns.delete_topic(TopicArn=arn)
    expect_sns_error(sns.get_topic_attributes, NOT_FOUND, 404, message="Topic does not exist", TopicArn=arn)
    # AWS-recorded: deleting a topic that does not exist (any more) succeeds
    sns.delete_topic(TopicArn=arn)
    sns.delete_topic(TopicArn=topic_arn_for(unique_name("never-created")))
    assert arn not in _all_topics(sns)


def test_delete_topic_deletes_its_subscriptions(sns, sqs, create_topic, queue):
    arn = create_topic()
    sub = subscribe_queue(sns, sqs, arn, queue)
    sns.delete_topic(TopicArn=arn)

    def gone():
        try:
            sns.get_subscription_attributes(SubscriptionArn=sub)
            return False
        except sns.exceptions.NotFoundException:
            return True

    wait_until(gone, timeout=5, what="the subscription to disappear with its topic")


def test_recreated_topic_starts_clean(sns, create_topic):
    name = unique_name("t")
    arn = create_topic(name=name, attributes={"DisplayName": "first"}, tags={"k": "v"})
    sns.delete_topic(TopicArn=arn)
    assert create_topic(name=name) == arn
    assert _attrs(sns, arn)["DisplayName"] == ""
    # AWS-recorded: tags do not survive the deletion of their topic
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == []


# ----------------------------------------------------------------- list


def test_list_topics_pages_of_100(sns, sns_factory, create_topic):
    # a fresh account, so that no other test's topics are listed
    client = sns_factory(account_key="222233334444")
    created = {create_topic(client=client) for _ in range(105)}
    first = client.list_topics()
    assert len(first["Topics"]) == 100
    assert first.get("NextToken")
    second = client.list_topics(NextToken=first["NextToken"])
    assert len(second["Topics"]) == 5
    assert "NextToken" not in second
    listed = [t["TopicArn"] for t in first["Topics"] + second["Topics"]]
    assert len(set(listed)) == 105
    assert set(listed) == created


def test_list_topics_is_per_account_and_region(sns, sns_factory, create_topic):
    mine = create_topic()
    other = sns_factory(account_key=OTHER_ACCOUNT)
    theirs = create_topic(client=other)
    west = sns_factory(region="us-west-2")
    western = create_topic(client=west)
    assert theirs.startswith(f"arn:aws:sns:us-east-1:{OTHER_ACCOUNT}:")
    assert western.startswith(f"arn:aws:sns:us-west-2:{ACCOUNT}:")
    listed = _all_topics(sns)
    assert mine in listed
    assert theirs not in listed and western not in listed
    assert theirs in _all_topics(other)
    assert western in _all_topics(west)


CROSS_REGION_CALLS = {
    "set-topic-attrs": ("set_topic_attributes", {"AttributeName": "DisplayName", "AttributeValue": "xenon"}),
    "get-topic-attrs": ("get_topic_attributes", {}),
    "publish": ("publish", {"Message": "hello world"}),
    "publish-batch": ("publish_batch", {"PublishBatchRequestEntries": [{"Id": "1", "Message": "hello"}]}),
    "subscribe": ("subscribe", {"Protocol": "email", "Endpoint": "devil@example.com"}),
    "list-subs": ("list_subscriptions_by_topic", {}),
    "delete-topic": ("delete_topic", {}),
}


@pytest.mark.parametrize("call", list(CROSS_REGION_CALLS), ids=list(CROSS_REGION_CALLS))
def test_topic_of_another_region_is_invalid(sns, sns_factory, create_topic, call):
    # AWS-recorded (test_cross_region_access, test_topic_publish_another_region): a topic ARN of
    # another region is "Invalid parameter: TopicArn" from every operation, not NotFound
    arn = create_topic()
    west = sns_factory(region="us-west-2")
    method, kwargs = CROSS_REGION_CALLS[call]
    expect_sns_error(
        getattr(west, method), INVALID_PARAMETER, 400, message="Invalid parameter: TopicArn", TopicArn=arn, **kwargs
    )
    # the refused DeleteTopic left the topic in place
    assert _attrs(sns, arn)["TopicArn"] == arn


# ----------------------------------------------------------------- attributes


def test_default_topic_attributes(sns, create_topic):
    arn = create_topic()
    attrs = _attrs(sns, arn)
    assert set(attrs) == STANDARD_DEFAULT_KEYS
    assert attrs["TopicArn"] == arn
    assert attrs["Owner"] == ACCOUNT
    assert attrs["DisplayName"] == ""
    assert attrs["SubscriptionsConfirmed"] == "0"
    assert attrs["SubscriptionsPending"] == "0"
    assert attrs["SubscriptionsDeleted"] == "0"
    assert json.loads(attrs["Policy"]) == default_policy(arn)
    assert json.loads(attrs["EffectiveDeliveryPolicy"]) == DEFAULT_EFFECTIVE_DELIVERY_POLICY


def test_get_attributes_of_missing_topic(sns):
    expect_sns_error(
        sns.get_topic_attributes,
        NOT_FOUND,
        404,
        message="Topic does not exist",
        TopicArn=topic_arn_for(unique_name("nope")),
    )


def test_get_attributes_of_malformed_topic_arn(sns):
    # AWS-recorded (test_create_topic_with_attributes: get-attrs-malformed-topic)
    expect_sns_error(
        sns.get_topic_attributes,
        INVALID_PARAMETER,
        400,
        message="Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not 1",
        TopicArn="not-an-arn",
    )


def test_sns_error_body_has_no_detail(endpoint):
    # AWS-recorded: an SNS error carries Type, Code and Message, no <Detail/> (SQS's query errors do)
    r = requests.post(
        endpoint + "/",
        data={"Action": "GetTopicAttributes", "Version": "2010-03-31", "TopicArn": "not-an-arn"},
        headers=SIGNED_HEADERS,
        timeout=10,
    )
    assert r.status_code == 400
    body = ET.fromstring(r.text)
    error = body.find(f"{{{SNS_XMLNS}}}Error")
    assert [child.tag.split("}")[1] for child in error] == ["Type", "Code", "Message"]
    assert body.find(f"{{{SNS_XMLNS}}}RequestId").text
    assert "Detail" not in r.text


def test_set_topic_attributes(sns, create_topic):
    arn = create_topic()
    sns.set_topic_attributes(TopicArn=arn, AttributeName="DisplayName", AttributeValue="My Topic")
    sns.set_topic_attributes(TopicArn=arn, AttributeName="SignatureVersion", AttributeValue="2")
    sns.set_topic_attributes(TopicArn=arn, AttributeName="TracingConfig", AttributeValue="Active")
    attrs = _attrs(sns, arn)
    assert attrs["DisplayName"] == "My Topic"
    assert attrs["SignatureVersion"] == "2"
    assert attrs["TracingConfig"] == "Active"


def test_create_topic_with_attributes(sns, create_topic):
    arn = create_topic(attributes={"DisplayName": "TestTopic", "SignatureVersion": "2"})
    attrs = _attrs(sns, arn)
    assert attrs["DisplayName"] == "TestTopic"
    assert attrs["SignatureVersion"] == "2"


def test_set_policy_replaces_default(sns, create_topic):
    arn = create_topic()
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "only-publish",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"},
                "Action": "SNS:Publish",
                "Resource": arn,
            }
        ],
    }
    sns.set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue=json.dumps(policy))
    assert json.loads(_attrs(sns, arn)["Policy"]) == policy


def test_delivery_policy_and_effective_delivery_policy(sns, create_topic):
    arn = create_topic()
    retry = {"minDelayTarget": 5, "maxDelayTarget": 6, "numRetries": 1}
    policy = {"http": {"defaultHealthyRetryPolicy": retry}}
    sns.set_topic_attributes(TopicArn=arn, AttributeName="DeliveryPolicy", AttributeValue=json.dumps(policy))
    attrs = _attrs(sns, arn)
    assert json.loads(attrs["DeliveryPolicy"])["http"]["defaultHealthyRetryPolicy"] == retry
    # AWS-recorded: the effective policy is the set one completed with the defaults
    effective = json.loads(attrs["EffectiveDeliveryPolicy"])
    assert effective == {
        "http": {
            "defaultHealthyRetryPolicy": {
                "minDelayTarget": 5,
                "maxDelayTarget": 6,
                "numRetries": 1,
                "numMaxDelayRetries": 0,
                "numNoDelayRetries": 0,
                "numMinDelayRetries": 0,
                "backoffFunction": "linear",
            },
            "disableSubscriptionOverrides": False,
            "defaultRequestPolicy": {"headerContentType": "text/plain; charset=UTF-8"},
        }
    }


def test_empty_delivery_policy_removes_it(sns, create_topic):
    policy = {"http": {"defaultHealthyRetryPolicy": {"minDelayTarget": 5, "maxDelayTarget": 6, "numRetries": 1}}}
    arn = create_topic(attributes={"DeliveryPolicy": json.dumps(policy)})
    sns.set_topic_attributes(TopicArn=arn, AttributeName="DeliveryPolicy", AttributeValue="")
    attrs = _attrs(sns, arn)
    assert "DeliveryPolicy" not in attrs
    assert json.loads(attrs["EffectiveDeliveryPolicy"]) == DEFAULT_EFFECTIVE_DELIVERY_POLICY


def test_delivery_policy_request_policy_shows_in_effective(sns, create_topic):
    policy = {"http": {"defaultRequestPolicy": {"headerContentType": "application/json"}}}
    arn = create_topic(attributes={"DeliveryPolicy": json.dumps(policy)})
    effective = json.loads(_attrs(sns, arn)["EffectiveDeliveryPolicy"])
    assert effective["http"]["defaultRequestPolicy"] == {"headerContentType": "application/json"}
    assert (
        effective["http"]["defaultHealthyRetryPolicy"]
        == DEFAULT_EFFECTIVE_DELIVERY_POLICY["http"]["defaultHealthyRetryPolicy"]
    )


def test_set_topic_attributes_errors(sns, create_topic):
    arn = create_topic()
    expect_sns_error(
        sns.set_topic_attributes,
        INVALID_PARAMETER,
        400,
        TopicArn=arn,
        AttributeName="NoSuchAttribute",
        AttributeValue="x",
    )
    expect_sns_error(
        sns.set_topic_attributes,
        INVALID_PARAMETER,
        400,
        TopicArn=arn,
        AttributeName="Policy",
        AttributeValue="{not json",
    )
    expect_sns_error(
        sns.set_topic_attributes,
        NOT_FOUND,
        404,
        TopicArn=topic_arn_for(unique_name("nope")),
        AttributeName="DisplayName",
        AttributeValue="x",
    )


def test_fifo_topic_attribute_cannot_be_set_after_creation(sns, create_topic):
    # AWS-recorded: even FifoTopic=false on a standard topic is "Invalid parameter: AttributeName"
    arn = create_topic()
    expect_sns_error(
        sns.set_topic_attributes,
        INVALID_PARAMETER,
        400,
        message="Invalid parameter: AttributeName",
        TopicArn=arn,
        AttributeName="FifoTopic",
        AttributeValue="false",
    )


def test_standard_topic_cannot_become_fifo(sns, create_topic):
    arn = create_topic()
    expect_sns_error(
        sns.set_topic_attributes, INVALID_PARAMETER, 400, TopicArn=arn, AttributeName="FifoTopic", AttributeValue="true"
    )


def test_subscription_counts(sns, sqs, create_topic, create_queue):
    arn = create_topic()
    subscribe_queue(sns, sqs, arn, create_queue())
    subscribe_queue(sns, sqs, arn, create_queue())
    sns.subscribe(TopicArn=arn, Protocol="email", Endpoint=f"{unique_name('u')}@example.com")
    attrs = _attrs(sns, arn)
    assert attrs["SubscriptionsConfirmed"] == "2"
    assert attrs["SubscriptionsPending"] == "1"


# ----------------------------------------------------------------- tags


def _tags(sns, arn):
    return {t["Key"]: t["Value"] for t in sns.list_tags_for_resource(ResourceArn=arn)["Tags"]}


def test_tag_untag_list(sns, create_topic):
    arn = create_topic()
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == []
    sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "k1", "Value": "v1"}, {"Key": "k2", "Value": "v2"}])
    assert _tags(sns, arn) == {"k1": "v1", "k2": "v2"}
    sns.untag_resource(ResourceArn=arn, TagKeys=["k1"])
    assert _tags(sns, arn) == {"k2": "v2"}
    sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "k2", "Value": "v2b"}])
    assert _tags(sns, arn) == {"k2": "v2b"}
    sns.untag_resource(ResourceArn=arn, TagKeys=["does-not-exist"])
    assert _tags(sns, arn) == {"k2": "v2b"}


def test_create_topic_with_tags(sns, create_topic):
    arn = create_topic(tags={"team": "core", "empty": ""})
    assert _tags(sns, arn) == {"team": "core", "empty": ""}


def test_duplicate_tag_keys_rejected(sns, create_topic):
    arn = create_topic()
    expect_sns_error(
        sns.tag_resource,
        INVALID_PARAMETER,
        400,
        message="Invalid parameter: Duplicated keys are not allowed.",
        ResourceArn=arn,
        Tags=[{"Key": "k1", "Value": "v1"}, {"Key": "k1", "Value": "v2"}],
    )


def test_tags_on_missing_topic(sns):
    arn = topic_arn_for(unique_name("nope"))
    expect_sns_error(sns.tag_resource, RESOURCE_NOT_FOUND, 404, ResourceArn=arn, Tags=[{"Key": "k", "Value": "v"}])
    expect_sns_error(sns.untag_resource, RESOURCE_NOT_FOUND, 404, ResourceArn=arn, TagKeys=["k"])
    expect_sns_error(sns.list_tags_for_resource, RESOURCE_NOT_FOUND, 404, ResourceArn=arn)


def test_tag_limit(sns, create_topic):
    arn = create_topic()
    sns.tag_resource(ResourceArn=arn, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
    assert len(_tags(sns, arn)) == 50
    expect_sns_error(
        sns.tag_resource, TAG_LIMIT_EXCEEDED, 400, ResourceArn=arn, Tags=[{"Key": "one-more", "Value": "v"}]
    )
    assert len(_tags(sns, arn)) == 50


# ----------------------------------------------------------------- permissions


def _policy(sns, arn):
    return json.loads(_attrs(sns, arn)["Policy"])


def test_add_and_remove_permission(sns, create_topic):
    arn = create_topic()
    sns.add_permission(TopicArn=arn, Label="test", AWSAccountId=[OTHER_ACCOUNT], ActionName=["Publish"])
    stmts = _policy(sns, arn)["Statement"]
    assert [s["Sid"] for s in stmts] == ["__default_statement_ID", "test"]
    added = stmts[1]
    # AWS-recorded (test_topic_add_permission): one account and one action are plain strings
    assert added == {
        "Sid": "test",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"},
        "Action": "SNS:Publish",
        "Resource": arn,
    }

    sns.add_permission(
        TopicArn=arn, Label="multi", AWSAccountId=[OTHER_ACCOUNT, "222233334444"], ActionName=["Publish", "Subscribe"]
    )
    multi = _policy(sns, arn)["Statement"][2]
    # several values are arrays (AWS-recorded test_topic_add_multiple_permissions: the actions)
    assert sorted(multi["Principal"]["AWS"]) == [
        f"arn:aws:iam::{OTHER_ACCOUNT}:root",
        "arn:aws:iam::222233334444:root",
    ]
    assert multi["Action"] == ["SNS:Publish", "SNS:Subscribe"]

    sns.remove_permission(TopicArn=arn, Label="test")
    sns.remove_permission(TopicArn=arn, Label="multi")
    assert _policy(sns, arn) == default_policy(arn)


def test_add_permission_errors(sns, create_topic):
    arn = create_topic()
    sns.add_permission(TopicArn=arn, Label="test", AWSAccountId=[ACCOUNT], ActionName=["Publish"])
    expect_sns_error(
        sns.add_permission,
        INVALID_PARAMETER,
        400,
        message="Invalid parameter: Statement already exists",
        TopicArn=arn,
        Label="test",
        AWSAccountId=[ACCOUNT],
        ActionName=["AddPermission"],
    )
    expect_sns_error(
        sns.add_permission,
        NOT_FOUND,
        404,
        message="Topic does not exist",
        TopicArn=arn + "-not-existing",
        Label="test-2",
        AWSAccountId=[ACCOUNT],
        ActionName=["AddPermission"],
    )


def test_add_permission_with_unknown_action(sns, create_topic):
    arn = create_topic()
    expect_sns_error(
        sns.add_permission,
        INVALID_PARAMETER,
        400,
        message="Invalid parameter: Policy statement action out of service scope!",
        TopicArn=arn,
        Label="test-2",
        AWSAccountId=[ACCOUNT],
        ActionName=["InvalidAction"],
    )


def test_remove_permission_of_missing_topic(sns):
    expect_sns_error(
        sns.remove_permission,
        NOT_FOUND,
        404,
        message="Topic does not exist",
        TopicArn=topic_arn_for(unique_name("nope")),
        Label="x",
    )


# ----------------------------------------------------------------- data protection


DATA_PROTECTION_POLICY = {
    "Name": "data_protection_policy",
    "Description": "Test Policy",
    "Version": "2021-06-01",
    "Statement": [
        {
            "Sid": "test-statement",
            "DataDirection": "Inbound",
            "Principal": ["*"],
            "DataIdentifier": ["arn:aws:dataprotection::aws:data-identifier/EmailAddress"],
            "Operation": {"Deny": {}},
        }
    ],
}


def test_data_protection_policy(sns, create_topic):
    arn = create_topic()
    assert sns.get_data_protection_policy(ResourceArn=arn).get("DataProtectionPolicy", "") == ""
    sns.put_data_protection_policy(ResourceArn=arn, DataProtectionPolicy=json.dumps(DATA_PROTECTION_POLICY))
    got = sns.get_data_protection_policy(ResourceArn=arn)["DataProtectionPolicy"]
    assert json.loads(got) == DATA_PROTECTION_POLICY
    # AWS-recorded: it is not one of the topic's attributes
    assert "DataProtectionPolicy" not in _attrs(sns, arn)


def test_data_protection_policy_must_be_json(sns, create_topic):
    arn = create_topic()
    expect_sns_error(
        sns.put_data_protection_policy, INVALID_PARAMETER, 400, ResourceArn=arn, DataProtectionPolicy="{nope"
    )


# ----------------------------------------------------------------- persistence


@pytest.mark.restart
def test_topics_subscriptions_and_attributes_survive_kill(
    sns, sns_factory, sqs, create_topic, create_queue, restart_server
):
    arn = create_topic(attributes={"DisplayName": "durable", "SignatureVersion": "2"}, tags={"team": "core"})
    fifo = create_topic(fifo=True, attributes={"ContentBasedDeduplication": "true"})
    sns.add_permission(TopicArn=arn, Label="keep", AWSAccountId=[OTHER_ACCOUNT], ActionName=["Publish"])
    sns.put_data_protection_policy(ResourceArn=arn, DataProtectionPolicy=json.dumps(DATA_PROTECTION_POLICY))
    filter_policy = {"color": ["red"]}
    sub = subscribe_queue(
        sns, sqs, arn, create_queue(), raw=True, attributes={"FilterPolicy": json.dumps(filter_policy)}
    )
    pending = sns.subscribe(
        TopicArn=arn, Protocol="email", Endpoint=f"{unique_name('u')}@example.com", ReturnSubscriptionArn=True
    )["SubscriptionArn"]
    before = _attrs(sns, arn)
    sub_before = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]

    restart_server(hard=True)
    reset_client(sns)

    c = sns_factory()
    assert arn in _all_topics(c) and fifo in _all_topics(c)
    after = _attrs(c, arn)
    for key in ("DisplayName", "SignatureVersion", "Owner", "SubscriptionsConfirmed", "SubscriptionsPending"):
        assert after[key] == before[key], key
    assert json.loads(after["Policy"]) == json.loads(before["Policy"])
    assert _tags(c, arn) == {"team": "core"}
    assert json.loads(c.get_data_protection_policy(ResourceArn=arn)["DataProtectionPolicy"]) == DATA_PROTECTION_POLICY
    assert _attrs(c, fifo)["ContentBasedDeduplication"] == "true"
    assert c.get_subscription_attributes(SubscriptionArn=sub)["Attributes"] == sub_before
    pending_attrs = c.get_subscription_attributes(SubscriptionArn=pending)["Attributes"]
    assert pending_attrs["PendingConfirmation"] == "true"
    listed = {s["SubscriptionArn"] for s in c.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]}
    assert sub in listed


@pytest.mark.restart
def test_deleted_topic_stays_deleted(sns, sns_factory, create_topic, restart_server):
    arn = create_topic()
    sns.delete_topic(TopicArn=arn)
    restart_server(hard=True)
    reset_client(sns)
    c = sns_factory()
    assert arn not in _all_topics(c)
    expect_sns_error(c.get_topic_attributes, NOT_FOUND, 404, TopicArn=arn)
