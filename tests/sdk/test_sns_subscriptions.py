"""SNS subscriptions: Subscribe (sqs, http, email, sms), ListSubscriptions(ByTopic),
Get/SetSubscriptionAttributes, Unsubscribe, ConfirmSubscription errors, and the protocols eddy
records instead of sending (GET /_eddy/sns/outbox).

Expectations: SNS API reference ("Subscribe", "SetSubscriptionAttributes") and AWS-recorded
responses (attribute sets, "pending confirmation", error codes and messages)."""

import base64
import json
import random

import pytest
import requests

from conftest import unique_name
from sns_helpers import (
    ACCOUNT,
    INVALID_PARAMETER,
    NOT_FOUND,
    allow_sns,
    expect_sns_error,
    outbox,
    subscribe_queue,
    topic_arn_for,
    wait_outbox,
)
from sqs_helpers import get_arn, queue_arn

SQS_SUBSCRIPTION_KEYS = {
    "ConfirmationWasAuthenticated",
    "Endpoint",
    "Owner",
    "PendingConfirmation",
    "Protocol",
    "RawMessageDelivery",
    "SubscriptionArn",
    "SubscriptionPrincipal",
    "TopicArn",
}

# An address nothing listens on: confirmations to it fail, which is what a pending subscription needs.
UNREACHABLE_HTTP = "http://127.0.0.1:9/sns"


def _unique_phone():
    return "+1555555" + "".join(random.choice("0123456789") for _ in range(4))


def _sub_attrs(sns, arn):
    return sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]


def _by_topic(sns, topic_arn):
    subs, token = [], None
    while True:
        kw = {"NextToken": token} if token else {}
        page = sns.list_subscriptions_by_topic(TopicArn=topic_arn, **kw)
        subs += page["Subscriptions"]
        token = page.get("NextToken")
        if not token:
            return subs


def _all_subscriptions(sns):
    subs, token = [], None
    while True:
        kw = {"NextToken": token} if token else {}
        page = sns.list_subscriptions(**kw)
        subs += page["Subscriptions"]
        token = page.get("NextToken")
        if not token:
            return subs


# ----------------------------------------------------------------- sqs


def test_subscribe_sqs_is_confirmed_at_once(sns, sqs, topic, queue):
    q_arn = get_arn(sqs, queue)
    resp = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=q_arn)
    sub = resp["SubscriptionArn"]
    assert sub.startswith(topic + ":")
    assert len(sub.split(":")) == 7
    attrs = _sub_attrs(sns, sub)
    assert set(attrs) == SQS_SUBSCRIPTION_KEYS
    assert attrs["SubscriptionArn"] == sub
    assert attrs["TopicArn"] == topic
    assert attrs["Endpoint"] == q_arn
    assert attrs["Protocol"] == "sqs"
    assert attrs["Owner"] == ACCOUNT
    assert attrs["PendingConfirmation"] == "false"
    assert attrs["ConfirmationWasAuthenticated"] == "true"
    assert attrs["RawMessageDelivery"] == "false"
    assert attrs["SubscriptionPrincipal"].startswith(f"arn:aws:iam::{ACCOUNT}:")


def test_subscribe_unknown_queue_arn_is_accepted(sns, topic):
    # AWS-recorded: a well-formed ARN of a queue that does not exist is accepted
    sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn(unique_name("missing")))["SubscriptionArn"]
    assert sub.startswith(topic + ":")


def _subscribe_arn(sns, topic, q_arn, attributes=None):
    kw = {"TopicArn": topic, "Protocol": "sqs", "Endpoint": q_arn, "ReturnSubscriptionArn": True}
    if attributes is not None:
        kw["Attributes"] = attributes
    return sns.subscribe(**kw)["SubscriptionArn"]


def test_subscribe_sqs_is_idempotent(sns, sqs, topic, queue):
    q_arn = get_arn(sqs, queue)
    first = _subscribe_arn(sns, topic, q_arn, {"RawMessageDelivery": "True"})
    assert _sub_attrs(sns, first)["RawMessageDelivery"] == "true"
    assert _subscribe_arn(sns, topic, q_arn, {"RawMessageDelivery": "true"}) == first
    assert _subscribe_arn(sns, topic, q_arn) == first
    assert _subscribe_arn(sns, topic, q_arn, {}) == first
    expect_sns_error(
        sns.subscribe,
        INVALID_PARAMETER,
        400,
        message="Invalid parameter: Attributes Reason: Subscription already exists with different attributes",
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=q_arn,
        Attributes={"RawMessageDelivery": "false", "FilterPolicyScope": "MessageBody"},
    )
    assert len(_by_topic(sns, topic)) == 1


def test_subscribe_again_with_default_valued_attribute(sns, sqs, topic, queue):
    # AWS-recorded: an attribute given at its default value, or left out, is not a difference
    q_arn = get_arn(sqs, queue)
    first = _subscribe_arn(sns, topic, q_arn, {"RawMessageDelivery": "true"})
    assert (
        _subscribe_arn(sns, topic, q_arn, {"RawMessageDelivery": "true", "FilterPolicyScope": "MessageAttributes"})
        == first
    )
    assert _subscribe_arn(sns, topic, q_arn, {"FilterPolicyScope": "MessageAttributes"}) == first


def test_subscribe_with_attributes(sns, sqs, topic, queue):
    policy = {"attr1": [{"numeric": [">", 0, "<=", 100]}]}
    sub = subscribe_queue(sns, sqs, topic, queue, raw=True, attributes={"FilterPolicy": json.dumps(policy)})
    attrs = _sub_attrs(sns, sub)
    assert attrs["RawMessageDelivery"] == "true"
    assert json.loads(attrs["FilterPolicy"]) == policy
    # AWS-recorded: the scope is reported once a FilterPolicy exists
    assert attrs["FilterPolicyScope"] == "MessageAttributes"


def test_fifo_queue_on_standard_topic_refused(sns, sqs, topic, fifo_queue):
    expect_sns_error(
        sns.subscribe,
        INVALID_PARAMETER,
        400,
        message="Invalid parameter: Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be subscribed to standard SNS topics",
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=get_arn(sqs, fifo_queue),
    )


def test_standard_and_fifo_queues_on_fifo_topic(sns, sqs, create_topic, queue, fifo_queue):
    arn = create_topic(fifo=True)
    for url in (queue, fifo_queue):
        sub = subscribe_queue(sns, sqs, arn, url)
        assert _sub_attrs(sns, sub)["PendingConfirmation"] == "false"


def test_fifo_subscription_needs_fifo_dead_letter_queue(sns, sqs, create_topic, fifo_queue, create_queue):
    arn = create_topic(fifo=True)
    sub = subscribe_queue(sns, sqs, arn, fifo_queue)
    dlq = get_arn(sqs, create_queue())
    expect_sns_error(
        sns.set_subscription_attributes,
        INVALID_PARAMETER,
        400,
        message="Invalid parameter: RedrivePolicy: must use a FIFO queue as DLQ for a FIFO Subscription to a FIFO Topic.",
        SubscriptionArn=sub,
        AttributeName="RedrivePolicy",
        AttributeValue=json.dumps({"deadLetterTargetArn": dlq}),
    )
    fifo_dlq = get_arn(sqs, create_queue(fifo=True))
    sns.set_subscription_attributes(
        SubscriptionArn=sub, AttributeName="RedrivePolicy", AttributeValue=json.dumps({"deadLetterTargetArn": fifo_dlq})
    )


def test_standard_queue_of_a_fifo_topic_may_have_a_standard_dead_letter_queue(sns, sqs, create_topic, create_queue):
    # AWS-recorded: the FIFO-DLQ rule is for FIFO queues subscribed to a FIFO topic.
    arn = create_topic(fifo=True)
    sub = subscribe_queue(sns, sqs, arn, create_queue())
    dlq = get_arn(sqs, create_queue())
    sns.set_subscription_attributes(
        SubscriptionArn=sub, AttributeName="RedrivePolicy", AttributeValue=json.dumps({"deadLetterTargetArn": dlq})
    )
    assert json.loads(_sub_attrs(sns, sub)["RedrivePolicy"]) == {"deadLetterTargetArn": dlq}


# ----------------------------------------------------------------- pending protocols


def test_http_subscription_is_pending(sns, topic):
    resp = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=UNREACHABLE_HTTP)
    assert resp["SubscriptionArn"] == "pending confirmation"
    listed = _by_topic(sns, topic)
    assert len(listed) == 1
    assert listed[0]["SubscriptionArn"] == "PendingConfirmation"
    assert listed[0]["Protocol"] == "http"
    assert listed[0]["Endpoint"] == UNREACHABLE_HTTP
    attrs = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    assert attrs["SubscriptionsPending"] == "1"
    assert attrs["SubscriptionsConfirmed"] == "0"


def test_return_subscription_arn_for_pending(sns, topic):
    arn = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=UNREACHABLE_HTTP, ReturnSubscriptionArn=True)[
        "SubscriptionArn"
    ]
    assert arn.startswith(topic + ":")
    attrs = _sub_attrs(sns, arn)
    assert attrs["PendingConfirmation"] == "true"
    assert attrs["ConfirmationWasAuthenticated"] == "false"
    assert attrs["Protocol"] == "http"
    assert attrs["Endpoint"] == UNREACHABLE_HTTP


def test_email_subscription_pending_and_confirmation_recorded(sns, endpoint, topic):
    address = f"{unique_name('user')}@example.com"
    resp = sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=address)
    assert resp["SubscriptionArn"] == "pending confirmation"
    entry = wait_outbox(endpoint, lambda e: e["endpoint"] == address)[0]
    assert entry["protocol"] == "email"
    assert entry["kind"] == "SubscriptionConfirmation"
    assert entry["topicArn"] == topic
    assert entry["subscriptionArn"].startswith(topic + ":")
    body = json.loads(entry["message"])
    assert body["Type"] == "SubscriptionConfirmation"
    assert body["TopicArn"] == topic
    assert body["Token"]
    # the recorded token confirms the subscription
    confirmed = sns.confirm_subscription(TopicArn=topic, Token=body["Token"])["SubscriptionArn"]
    assert confirmed == entry["subscriptionArn"]
    assert _sub_attrs(sns, confirmed)["PendingConfirmation"] == "false"


def test_pending_subscription_receives_nothing(sns, endpoint, topic):
    address = f"{unique_name('user')}@example.com"
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=address)
    wait_outbox(endpoint, lambda e: e["endpoint"] == address)
    mid = sns.publish(TopicArn=topic, Message="not for pending subscribers")["MessageId"]
    # a confirmed sms subscriber on the same topic tells when the fan-out is done
    phone = _unique_phone()
    sns.subscribe(TopicArn=topic, Protocol="sms", Endpoint=phone)
    mid2 = sns.publish(TopicArn=topic, Message="after")["MessageId"]
    wait_outbox(endpoint, lambda e: e["messageId"] == mid2 and e["endpoint"] == phone)
    assert [e for e in outbox(endpoint) if e["messageId"] in (mid, mid2) and e["endpoint"] == address] == []


# ----------------------------------------------------------------- sms / outbox


def test_sms_subscription_confirmed_and_notification_recorded(sns, endpoint, topic):
    phone = _unique_phone()
    sub = sns.subscribe(TopicArn=topic, Protocol="sms", Endpoint=phone)["SubscriptionArn"]
    assert sub.startswith(topic + ":")
    attrs = _sub_attrs(sns, sub)
    assert attrs["PendingConfirmation"] == "false"
    assert attrs["Protocol"] == "sms"
    assert attrs["Endpoint"] == phone
    mid = sns.publish(
        TopicArn=topic,
        Message="your code is 1234",
        Subject="ignored by sms",
        MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}},
    )["MessageId"]
    entry = wait_outbox(endpoint, lambda e: e["messageId"] == mid and e["subscriptionArn"] == sub)[0]
    assert entry["protocol"] == "sms"
    assert entry["endpoint"] == phone
    assert entry["topicArn"] == topic
    assert entry["kind"] == "Notification"
    assert entry["message"] == "your code is 1234"
    assert isinstance(entry["timestampMs"], int)


def test_sms_gets_the_sms_key_of_a_json_message(sns, endpoint, topic):
    phone = _unique_phone()
    sub = sns.subscribe(TopicArn=topic, Protocol="sms", Endpoint=phone)["SubscriptionArn"]
    mid = sns.publish(
        TopicArn=topic, MessageStructure="json", Message=json.dumps({"default": "long text", "sms": "short"})
    )["MessageId"]
    entry = wait_outbox(endpoint, lambda e: e["messageId"] == mid and e["subscriptionArn"] == sub)[0]
    assert entry["message"] == "short"


def test_publish_to_phone_number_is_recorded(sns, endpoint):
    phone = _unique_phone()
    mid = sns.publish(PhoneNumber=phone, Message="direct sms")["MessageId"]
    entry = wait_outbox(endpoint, lambda e: e["messageId"] == mid)[0]
    assert entry["protocol"] == "sms"
    assert entry["endpoint"] == phone
    assert entry["message"] == "direct sms"
    assert entry["kind"] == "Notification"
    assert entry.get("topicArn") is None


@pytest.mark.parametrize("phone", ["+1a234", "NAA+15551234567"])
def test_publish_to_invalid_phone_number(sns, phone):
    expect_sns_error(
        sns.publish,
        INVALID_PARAMETER,
        400,
        message=f"Invalid parameter: PhoneNumber Reason: {phone} is not valid to publish to",
        PhoneNumber=phone,
        Message="x",
    )


@pytest.mark.parametrize(
    "phone", ["invalid-number", "+15--551234567", "NAA+15551234567", "+15551234567.", "/+15551234567"]
)
def test_subscribe_invalid_sms_endpoint(sns, topic, phone):
    expect_sns_error(
        sns.subscribe,
        INVALID_PARAMETER,
        400,
        message=f"Invalid SMS endpoint: {phone}",
        TopicArn=topic,
        Protocol="sms",
        Endpoint=phone,
    )


def test_clear_outbox(sns, endpoint):
    mid = sns.publish(PhoneNumber="+15555550198", Message="to be cleared")["MessageId"]
    wait_outbox(endpoint, lambda e: e["messageId"] == mid)
    r = requests.delete(endpoint + "/_eddy/sns/outbox", timeout=10)
    assert r.status_code == 200
    assert r.json()["deleted"] >= 1
    assert [e for e in outbox(endpoint) if e["messageId"] == mid] == []


# ----------------------------------------------------------------- errors


def test_subscribe_to_missing_topic(sns, sqs, queue):
    expect_sns_error(
        sns.subscribe,
        NOT_FOUND,
        404,
        message="Topic does not exist",
        TopicArn=topic_arn_for(unique_name("nope")),
        Protocol="sqs",
        Endpoint=get_arn(sqs, queue),
    )


def test_subscribe_with_malformed_topic_arn(sns, sqs, queue):
    expect_sns_error(
        sns.subscribe, INVALID_PARAMETER, 400, TopicArn="not-an-arn", Protocol="sqs", Endpoint=get_arn(sqs, queue)
    )


def test_subscribe_with_invalid_protocol(sns, topic):
    expect_sns_error(
        sns.subscribe,
        INVALID_PARAMETER,
        400,
        message="Invalid parameter: Amazon SNS does not support this protocol string: test-protocol",
        TopicArn=topic,
        Protocol="test-protocol",
        Endpoint="localhost",
    )


@pytest.mark.parametrize(
    "endpoint_value", ["unknown", "http://127.0.0.1:4566/000000000000/q"], ids=["word", "queue-url"]
)
def test_subscribe_sqs_needs_a_queue_arn(sns, topic, endpoint_value):
    expect_sns_error(
        sns.subscribe,
        INVALID_PARAMETER,
        400,
        message="Invalid parameter: SQS endpoint ARN",
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=endpoint_value,
    )


@pytest.mark.parametrize(
    "protocol,endpoint_value",
    [
        ("http", "https://example.com/x"),
        ("http", "ftp://example.com"),
        ("https", "http://example.com"),
        ("email", "not-an-address"),
    ],
)
def test_subscribe_endpoint_must_fit_protocol(sns, topic, protocol, endpoint_value):
    expect_sns_error(sns.subscribe, INVALID_PARAMETER, 400, TopicArn=topic, Protocol=protocol, Endpoint=endpoint_value)


def test_firehose_refused(sns, topic):
    # eddy: there is no Firehose yet, so a firehose subscription could never deliver
    expect_sns_error(
        sns.subscribe,
        INVALID_PARAMETER,
        400,
        TopicArn=topic,
        Protocol="firehose",
        Endpoint=f"arn:aws:firehose:us-east-1:{ACCOUNT}:deliverystream/{unique_name('s')}",
        Attributes={"SubscriptionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/firehose"},
    )


def test_subscribe_invalid_attribute_value(sns, sqs, topic, queue):
    expect_sns_error(
        sns.subscribe,
        INVALID_PARAMETER,
        400,
        message="Invalid parameter: Attributes Reason: RawMessageDelivery: Invalid value [wrongvalue]. Must be true or false.",
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=allow_sns(sqs, queue, topic),
        Attributes={"RawMessageDelivery": "wrongvalue"},
    )


# ----------------------------------------------------------------- attributes


def test_set_subscription_attributes(sns, sqs, topic, queue, create_queue):
    sub = subscribe_queue(sns, sqs, topic, queue)
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="RawMessageDelivery", AttributeValue="true")
    assert _sub_attrs(sns, sub)["RawMessageDelivery"] == "true"

    policy = {"store": ["example_corp"]}
    sns.set_subscription_attributes(
        SubscriptionArn=sub, AttributeName="FilterPolicy", AttributeValue=json.dumps(policy)
    )
    attrs = _sub_attrs(sns, sub)
    assert json.loads(attrs["FilterPolicy"]) == policy
    assert attrs["FilterPolicyScope"] == "MessageAttributes"

    sns.set_subscription_attributes(
        SubscriptionArn=sub, AttributeName="FilterPolicyScope", AttributeValue="MessageBody"
    )
    assert _sub_attrs(sns, sub)["FilterPolicyScope"] == "MessageBody"

    dlq = get_arn(sqs, create_queue())
    redrive = {"deadLetterTargetArn": dlq}
    sns.set_subscription_attributes(
        SubscriptionArn=sub, AttributeName="RedrivePolicy", AttributeValue=json.dumps(redrive)
    )
    assert json.loads(_sub_attrs(sns, sub)["RedrivePolicy"]) == redrive


def test_filter_policy_scope_alone_is_not_reported(sns, sqs, topic, queue):
    # AWS-recorded: FilterPolicyScope set without a FilterPolicy is not among the attributes
    sub = subscribe_queue(sns, sqs, topic, queue)
    sns.set_subscription_attributes(
        SubscriptionArn=sub, AttributeName="FilterPolicyScope", AttributeValue="MessageBody"
    )
    attrs = _sub_attrs(sns, sub)
    assert set(attrs) == SQS_SUBSCRIPTION_KEYS
    sns.set_subscription_attributes(
        SubscriptionArn=sub, AttributeName="FilterPolicy", AttributeValue=json.dumps({"attr": ["match-this"]})
    )
    attrs = _sub_attrs(sns, sub)
    assert attrs["FilterPolicyScope"] == "MessageBody"
    assert json.loads(attrs["FilterPolicy"]) == {"attr": ["match-this"]}


def test_http_subscription_delivery_policy(sns, topic):
    sub = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=UNREACHABLE_HTTP, ReturnSubscriptionArn=True)[
        "SubscriptionArn"
    ]
    policy = {
        "healthyRetryPolicy": {
            "minDelayTarget": 1,
            "maxDelayTarget": 1,
            "numRetries": 0,
            "numMaxDelayRetries": 0,
            "numNoDelayRetries": 0,
            "numMinDelayRetries": 0,
            "backoffFunction": "linear",
        }
    }
    sns.set_subscription_attributes(
        SubscriptionArn=sub, AttributeName="DeliveryPolicy", AttributeValue=json.dumps(policy)
    )
    attrs = _sub_attrs(sns, sub)
    assert json.loads(attrs["DeliveryPolicy"])["healthyRetryPolicy"] == policy["healthyRetryPolicy"]
    effective = json.loads(attrs["EffectiveDeliveryPolicy"])
    assert effective["healthyRetryPolicy"] == policy["healthyRetryPolicy"]


SUBSCRIPTION_ATTRIBUTE_ERRORS = {
    # messages: AWS-recorded
    "unknown-name": ("FakeAttribute", "v", "Invalid parameter: AttributeName"),
    "raw-invalid": (
        "RawMessageDelivery",
        "test-ValUe",
        "Invalid parameter: RawMessageDelivery: Invalid value [test-ValUe]. Must be true or false.",
    ),
    "raw-empty": (
        "RawMessageDelivery",
        "",
        "Invalid parameter: RawMessageDelivery: Invalid value []. Must be true or false.",
    ),
    "redrive-bad-arn": (
        "RedrivePolicy",
        json.dumps({"deadLetterTargetArn": "fake-arn"}),
        "Invalid parameter: RedrivePolicy: deadLetterTargetArn is an invalid arn",
    ),
    "scope-invalid": (
        "FilterPolicyScope",
        "RandomValue",
        "Invalid parameter: FilterPolicyScope: Invalid value [RandomValue]. Please use either MessageBody or MessageAttributes",
    ),
    "redrive-not-json": ("RedrivePolicy", "{invalid json", None),
    "filter-not-json": ("FilterPolicy", "{invalid json", None),
}


@pytest.mark.parametrize("case", list(SUBSCRIPTION_ATTRIBUTE_ERRORS), ids=list(SUBSCRIPTION_ATTRIBUTE_ERRORS))
def test_set_subscription_attribute_errors(sns, sqs, topic, queue, case):
    name, value, message = SUBSCRIPTION_ATTRIBUTE_ERRORS[case]
    sub = subscribe_queue(sns, sqs, topic, queue)
    expect_sns_error(
        sns.set_subscription_attributes,
        INVALID_PARAMETER,
        400,
        message=message,
        SubscriptionArn=sub,
        AttributeName=name,
        AttributeValue=value,
    )


def test_subscription_attributes_of_missing_subscription(sns, topic):
    missing = f"{topic}:{unique_name('')[1:]}"
    expect_sns_error(
        sns.get_subscription_attributes, NOT_FOUND, 404, message="Subscription does not exist", SubscriptionArn=missing
    )
    expect_sns_error(
        sns.set_subscription_attributes,
        NOT_FOUND,
        404,
        message="Subscription does not exist",
        SubscriptionArn=missing,
        AttributeName="RawMessageDelivery",
        AttributeValue="true",
    )


# ----------------------------------------------------------------- list / unsubscribe


def test_list_subscriptions_by_topic(sns, sqs, create_topic, create_queue):
    arn = create_topic()
    other = create_topic()
    subs = {subscribe_queue(sns, sqs, arn, create_queue()) for _ in range(3)}
    subscribe_queue(sns, sqs, other, create_queue())
    listed = _by_topic(sns, arn)
    assert {s["SubscriptionArn"] for s in listed} == subs
    for s in listed:
        assert s["TopicArn"] == arn
        assert s["Protocol"] == "sqs"
        assert s["Owner"] == ACCOUNT
        assert s["Endpoint"].startswith("arn:aws:sqs:")
    everything = {s["SubscriptionArn"] for s in _all_subscriptions(sns)}
    assert subs <= everything


def test_list_subscriptions_by_topic_pages_of_100(sns, topic):
    for i in range(101):
        sns.subscribe(TopicArn=topic, Protocol="sms", Endpoint=f"+1231231{i:03d}")
    first = sns.list_subscriptions_by_topic(TopicArn=topic)
    assert len(first["Subscriptions"]) == 100
    assert first.get("NextToken")
    # AWS-recorded: SNS page tokens are standard base64 (clients decode them).
    assert base64.b64decode(first["NextToken"], validate=True)
    second = sns.list_subscriptions_by_topic(TopicArn=topic, NextToken=first["NextToken"])
    assert len(second["Subscriptions"]) == 1
    assert "NextToken" not in second
    page1 = {s["SubscriptionArn"] for s in first["Subscriptions"]}
    assert second["Subscriptions"][0]["SubscriptionArn"] not in page1
    everything = sns.list_subscriptions()
    assert len(everything["Subscriptions"]) <= 100
    assert everything.get("NextToken")


def test_list_subscriptions_by_missing_topic(sns):
    expect_sns_error(sns.list_subscriptions_by_topic, NOT_FOUND, 404, TopicArn=topic_arn_for(unique_name("nope")))


def test_unsubscribe(sns, sqs, topic, queue):
    sub = subscribe_queue(sns, sqs, topic, queue)
    sns.unsubscribe(SubscriptionArn=sub)
    expect_sns_error(sns.get_subscription_attributes, NOT_FOUND, 404, SubscriptionArn=sub)
    assert _by_topic(sns, topic) == []
    # AWS-recorded: unsubscribing again (or an unknown, well-formed ARN) succeeds
    sns.unsubscribe(SubscriptionArn=sub)
    sns.unsubscribe(SubscriptionArn=f"{topic}:{unique_name('')[1:]}")


# AWS-recorded (test_unsubscribe_wrong_arn_format, test_unsubscribe_from_deleted_topic)
MALFORMED_SUBSCRIPTION_ARNS = {
    "1-element": ("randomstring", "SubscriptionArn Reason: An ARN must have at least 6 elements, not 1"),
    "5-elements": ("arn:aws:sns:us-east-1:random", "SubscriptionArn Reason: An ARN must have at least 6 elements, not 5"),
    "6-elements": ("arn:aws:sns:us-east-1:111111111111:random", "SubscriptionId"),
    "pending": ("pending confirmation", "SubscriptionArn Reason: An ARN must have at least 6 elements, not 1"),
}


@pytest.mark.parametrize("case", list(MALFORMED_SUBSCRIPTION_ARNS), ids=list(MALFORMED_SUBSCRIPTION_ARNS))
def test_unsubscribe_malformed_arn(sns, case):
    arn, reason = MALFORMED_SUBSCRIPTION_ARNS[case]
    expect_sns_error(sns.unsubscribe, INVALID_PARAMETER, 400, message=f"Invalid parameter: {reason}", SubscriptionArn=arn)


def test_unsubscribe_without_arn(sns_factory):
    # AWS-recorded: InvalidParameter, not the ValidationError of other missing members
    loose = sns_factory(parameter_validation=False)
    expect_sns_error(
        loose.unsubscribe,
        INVALID_PARAMETER,
        400,
        message="Invalid parameter: SubscriptionArn Reason: no value for required parameter",
    )


# AWS-recorded (test_subscribe_with_invalid_topic)
@pytest.mark.parametrize(
    "arn, count", [("randomstring", 1), ("arn:aws:sns:us-east-1:random", 5)], ids=["1-element", "5-elements"]
)
def test_subscribe_to_malformed_topic_arn(sns, arn, count):
    expect_sns_error(
        sns.subscribe,
        INVALID_PARAMETER,
        400,
        message=f"Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not {count}",
        TopicArn=arn,
        Protocol="email",
        Endpoint="someone@example.com",
    )


# ----------------------------------------------------------------- confirm errors


KNOWN_LOOKING_TOKEN = (
    "51b2ff3edb475b7d91550e0ab6edf0c1de2a34e6ebaf6c2262a001bcb7e051c43aa00022ceecce70bd2a67b2042da8d8eb47fef7"
)


def test_confirm_subscription_with_random_token(sns, topic):
    # AWS-recorded (test_sns_confirm_subscription_wrong_token: invalid-token): not hex, not a token
    expect_sns_error(
        sns.confirm_subscription, INVALID_PARAMETER, 400, message="Invalid token", TopicArn=topic, Token="randomtoken"
    )


@pytest.mark.parametrize("kind", ["not-an-arn", "other-region"])
def test_confirm_subscription_with_bad_topic_arn(sns, topic, kind):
    # AWS-recorded (test_subscribe_external_http_endpoint: broken-topic-arn-confirm, different-region-arn-confirm)
    arn = "not-an-arn" if kind == "not-an-arn" else topic.replace(":us-east-1:", ":eu-central-1:")
    expect_sns_error(
        sns.confirm_subscription,
        INVALID_PARAMETER,
        400,
        message="Invalid parameter: Topic",
        TopicArn=arn,
        Token=KNOWN_LOOKING_TOKEN,
    )


def test_confirm_subscription_with_unknown_token(sns, topic):
    expect_sns_error(
        sns.confirm_subscription,
        INVALID_PARAMETER,
        400,
        message="Invalid parameter: Token",
        TopicArn=topic,
        Token=KNOWN_LOOKING_TOKEN,
    )


def test_confirm_subscription_of_missing_topic(sns, topic):
    # AWS-recorded: InvalidParameter "Invalid parameter: Token", not NotFound
    expect_sns_error(
        sns.confirm_subscription,
        INVALID_PARAMETER,
        400,
        message="Invalid parameter: Token",
        TopicArn=topic[:-1] + "i",
        Token=KNOWN_LOOKING_TOKEN,
    )
