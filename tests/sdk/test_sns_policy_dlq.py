"""Queue policies on SNS -> SQS deliveries (gotchas.md #3), cross-account subscriptions, and
subscription dead-letter queues.

AWS delivers into SQS as the service principal sns.amazonaws.com, with aws:SourceArn = the topic's
ARN and aws:SourceAccount = its account; a queue whose policy does not allow sqs:SendMessage for it
gets nothing ("Sending Amazon SNS messages to an Amazon SQS queue", "Amazon SNS dead-letter queues").
eddy drops such a delivery and counts it under droppedByPolicy in GET /_eddy/sns/stats, which
these tests use to know that a delivery was attempted and dropped without waiting on absence."""

import json

import pytest

from conftest import unique_name
from sns_helpers import (
    ACCOUNT,
    OTHER_ACCOUNT,
    SNS_PRINCIPAL,
    allow_sns,
    assert_empty,
    envelope,
    set_queue_policy,
    sns_queue_policy,
    sns_stats,
    subscribe_queue,
    verify_signature,
    wait_messages,
    wait_one,
    wait_stat,
)
from sqs_helpers import get_arn, queue_arn, sys_attr_kwargs


def _publish_and_expect_drop(sns, sqs, endpoint, topic, queue, message="dropped"):
    before = sns_stats(endpoint)["droppedByPolicy"]
    sns.publish(TopicArn=topic, Message=message)
    wait_stat(endpoint, "droppedByPolicy", before + 1)
    assert_empty(sqs, queue)


# ----------------------------------------------------------------- queue policy


def test_no_queue_policy_means_no_delivery(sns, sqs, endpoint, topic, queue):
    subscribe_queue(sns, sqs, topic, queue, policy=False)
    _publish_and_expect_drop(sns, sqs, endpoint, topic, queue)


def test_policy_for_another_topic_drops(sns, sqs, endpoint, create_topic, queue):
    topic, other = create_topic(), create_topic()
    q_arn = get_arn(sqs, queue)
    set_queue_policy(sqs, queue, sns_queue_policy(q_arn, other))
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=q_arn)
    _publish_and_expect_drop(sns, sqs, endpoint, topic, queue)


def test_policy_with_other_action_drops(sns, sqs, endpoint, topic, queue):
    q_arn = get_arn(sqs, queue)
    set_queue_policy(sqs, queue, sns_queue_policy(q_arn, topic, Action="sqs:ReceiveMessage"))
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=q_arn)
    _publish_and_expect_drop(sns, sqs, endpoint, topic, queue)


def test_policy_for_another_service_drops(sns, sqs, endpoint, topic, queue):
    q_arn = get_arn(sqs, queue)
    set_queue_policy(sqs, queue, sns_queue_policy(q_arn, topic, Principal={"Service": "events.amazonaws.com"}))
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=q_arn)
    _publish_and_expect_drop(sns, sqs, endpoint, topic, queue)


def test_explicit_deny_wins(sns, sqs, endpoint, topic, queue):
    q_arn = allow_sns(sqs, queue, topic)
    policy = sns_queue_policy(q_arn, topic)
    policy["Statement"].append(
        {
            "Sid": "deny",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sqs:SendMessage",
            "Resource": q_arn,
            "Condition": {"ArnEquals": {"aws:SourceArn": topic}},
        }
    )
    set_queue_policy(sqs, queue, policy)
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=q_arn)
    _publish_and_expect_drop(sns, sqs, endpoint, topic, queue)


def test_correct_policy_delivers(sns, sqs, endpoint, topic, queue):
    before = sns_stats(endpoint)
    subscribe_queue(sns, sqs, topic, queue)
    sns.publish(TopicArn=topic, Message="allowed")
    assert envelope(wait_one(sqs, queue))["Message"] == "allowed"
    after = sns_stats(endpoint)
    assert after["delivered"] >= before["delivered"] + 1


@pytest.mark.parametrize(
    "statement",
    [
        {"Principal": "*", "Condition": {"ArnEquals": {"aws:SourceArn": "{topic}"}}},
        {"Principal": {"Service": SNS_PRINCIPAL}, "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}}},
        {"Principal": {"Service": SNS_PRINCIPAL}, "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:sns:*:*:*"}}},
        {"Principal": {"Service": [SNS_PRINCIPAL]}, "Action": ["sqs:SendMessage", "sqs:ReceiveMessage"]},
        {"Principal": {"Service": SNS_PRINCIPAL}, "Action": "sqs:*", "Resource": "*"},
        {"Principal": {"Service": SNS_PRINCIPAL}, "Action": "SQS:SendMessage"},
    ],
    ids=["any-principal-source-arn", "source-account", "arn-like", "lists", "wildcards", "action-case"],
)
def test_policy_variants_that_allow(sns, sqs, topic, queue, statement):
    q_arn = get_arn(sqs, queue)
    st = {"Sid": "s", "Effect": "Allow", "Action": "sqs:SendMessage", "Resource": q_arn}
    st.update(json.loads(json.dumps(statement).replace("{topic}", topic)))
    if "Condition" not in statement:
        st.pop("Condition", None)
    set_queue_policy(sqs, queue, {"Version": "2012-10-17", "Statement": [st]})
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=q_arn)
    sns.publish(TopicArn=topic, Message="allowed")
    assert envelope(wait_one(sqs, queue))["Message"] == "allowed"


def test_policy_set_after_subscribing_takes_effect(sns, sqs, endpoint, topic, queue):
    subscribe_queue(sns, sqs, topic, queue, policy=False)
    _publish_and_expect_drop(sns, sqs, endpoint, topic, queue, message="before policy")
    allow_sns(sqs, queue, topic)
    sns.publish(TopicArn=topic, Message="after policy")
    assert envelope(wait_one(sqs, queue))["Message"] == "after policy"


# ----------------------------------------------------------------- cross account


def test_cross_account_queue_owner_subscribes(sns, sqs_factory, sns_factory, endpoint, create_topic, create_queue):
    """The queue's owner (another account) subscribes its queue: no confirmation needed; the queue
    policy allows the topic's ARN, the topic policy lets the other account subscribe."""
    other_sqs = sqs_factory(account_key=OTHER_ACCOUNT)
    other_sns = sns_factory(account_key=OTHER_ACCOUNT)
    topic = create_topic()
    sns.add_permission(
        TopicArn=topic, Label="let-them-subscribe", AWSAccountId=[OTHER_ACCOUNT], ActionName=["Subscribe"]
    )
    url = create_queue(client=other_sqs)
    q_arn = allow_sns(other_sqs, url, topic)
    assert q_arn == queue_arn(url.rsplit("/", 1)[1], account=OTHER_ACCOUNT)
    sub = other_sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=q_arn, ReturnSubscriptionArn=True)[
        "SubscriptionArn"
    ]
    attrs = other_sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert attrs["PendingConfirmation"] == "false"
    assert attrs["Owner"] == OTHER_ACCOUNT
    mid = sns.publish(TopicArn=topic, Message="across accounts")["MessageId"]
    env = envelope(wait_one(other_sqs, url))
    assert env["MessageId"] == mid
    assert env["TopicArn"] == topic


def test_cross_account_topic_owner_subscribes_needs_confirmation(
    sns, sqs_factory, endpoint, create_topic, create_queue
):
    """The topic's owner subscribes a queue of another account: SNS sends a SubscriptionConfirmation
    into the queue and the subscription stays pending until confirmed with its token."""
    other_sqs = sqs_factory(account_key=OTHER_ACCOUNT)
    topic = create_topic()
    url = create_queue(client=other_sqs)
    q_arn = allow_sns(other_sqs, url, topic)
    resp = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=q_arn)
    assert resp["SubscriptionArn"] == "pending confirmation"
    conf = envelope(wait_one(other_sqs, url))
    assert conf["Type"] == "SubscriptionConfirmation"
    assert conf["TopicArn"] == topic
    verify_signature(conf)
    sns.publish(TopicArn=topic, Message="while pending")
    sub = sns.confirm_subscription(TopicArn=topic, Token=conf["Token"])["SubscriptionArn"]
    assert sub.startswith(topic + ":")
    assert sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]["PendingConfirmation"] == "false"
    sns.publish(TopicArn=topic, Message="confirmed")
    got = envelope(wait_one(other_sqs, url))
    assert got["Message"] == "confirmed"


def test_cross_account_queue_without_policy_gets_nothing(
    sns, sqs_factory, sns_factory, endpoint, create_topic, create_queue
):
    other_sqs = sqs_factory(account_key=OTHER_ACCOUNT)
    other_sns = sns_factory(account_key=OTHER_ACCOUNT)
    topic = create_topic()
    sns.add_permission(
        TopicArn=topic, Label="let-them-subscribe", AWSAccountId=[OTHER_ACCOUNT], ActionName=["Subscribe"]
    )
    url = create_queue(client=other_sqs)
    other_sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=get_arn(other_sqs, url))
    _publish_and_expect_drop(sns, other_sqs, endpoint, topic, url)


# ----------------------------------------------------------------- dead-letter queues


def _with_dlq(sns, sqs, topic, create_queue, raw=False, dlq_policy=True):
    """A subscribed queue with a RedrivePolicy to a DLQ; the subscribed queue is then deleted."""
    queue = create_queue()
    dlq = create_queue()
    dlq_arn = allow_sns(sqs, dlq, topic) if dlq_policy else get_arn(sqs, dlq)
    sub = subscribe_queue(sns, sqs, topic, queue, raw=raw)
    sns.set_subscription_attributes(
        SubscriptionArn=sub, AttributeName="RedrivePolicy", AttributeValue=json.dumps({"deadLetterTargetArn": dlq_arn})
    )
    sqs.delete_queue(QueueUrl=queue)
    return sub, dlq


def test_dead_letter_queue_when_queue_is_gone(sns, sqs, endpoint, topic, create_queue):
    sub, dlq = _with_dlq(sns, sqs, topic, create_queue)
    attrs = {
        "attr1": {"DataType": "Number", "StringValue": "111"},
        "attr2": {"DataType": "Binary", "BinaryValue": b"\x02\x03\x04"},
    }
    mid = sns.publish(TopicArn=topic, Message="test_dlq_after_sqs_endpoint_deleted", MessageAttributes=attrs)[
        "MessageId"
    ]
    m = wait_one(sqs, dlq, MessageAttributeNames=["All"])
    env = envelope(m)
    assert env["Type"] == "Notification"
    assert env["MessageId"] == mid
    assert env["Message"] == "test_dlq_after_sqs_endpoint_deleted"
    assert env["MessageAttributes"] == {
        "attr1": {"Type": "Number", "Value": "111"},
        "attr2": {"Type": "Binary", "Value": "AgME"},
    }
    # the subscription is not removed by failed deliveries
    assert sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]["SubscriptionArn"] == sub
    # AWS-recorded: a non-raw message in the DLQ carries no SQS message attributes
    assert "MessageAttributes" not in m, m["MessageAttributes"]


def test_dead_letter_queue_raw(sns, sqs, topic, create_queue):
    _, dlq = _with_dlq(sns, sqs, topic, create_queue, raw=True)
    attrs = {
        "attr1": {"DataType": "Number", "StringValue": "111"},
        "attr2": {"DataType": "Binary", "BinaryValue": b"\x02\x03\x04"},
    }
    sns.publish(TopicArn=topic, Message="test_dlq_after_sqs_endpoint_deleted", MessageAttributes=attrs)
    m = wait_one(sqs, dlq, MessageAttributeNames=["All"])
    assert m["Body"] == "test_dlq_after_sqs_endpoint_deleted"
    # AWS-recorded: exactly the published attributes
    assert m["MessageAttributes"] == attrs


def test_dead_letter_queue_without_policy_drops(sns, sqs, endpoint, topic, create_queue):
    _, dlq = _with_dlq(sns, sqs, topic, create_queue, dlq_policy=False)
    before = sns_stats(endpoint)["droppedByPolicy"]
    sns.publish(TopicArn=topic, Message="nowhere to go")
    wait_stat(endpoint, "droppedByPolicy", before + 1)
    assert_empty(sqs, dlq)


def test_dead_letter_queue_counts(sns, sqs, endpoint, topic, create_queue):
    _, dlq = _with_dlq(sns, sqs, topic, create_queue)
    before = sns_stats(endpoint)["deadLettered"]
    sns.publish(TopicArn=topic, Message="counted")
    wait_one(sqs, dlq)
    assert sns_stats(endpoint)["deadLettered"] >= before + 1


def test_denied_delivery_goes_to_dead_letter_queue(sns, sqs, endpoint, topic, create_queue):
    """The subscribed queue exists but its policy refuses SNS: a client-side error, so the message
    goes to the subscription's DLQ (whose policy allows it)."""
    queue = create_queue()
    dlq = create_queue()
    dlq_arn = allow_sns(sqs, dlq, topic)
    sub = subscribe_queue(sns, sqs, topic, queue, policy=False)
    sns.set_subscription_attributes(
        SubscriptionArn=sub, AttributeName="RedrivePolicy", AttributeValue=json.dumps({"deadLetterTargetArn": dlq_arn})
    )
    sns.publish(TopicArn=topic, Message="refused by the queue")
    assert envelope(wait_one(sqs, dlq))["Message"] == "refused by the queue"
    assert_empty(sqs, queue, wait=0)


def test_fifo_dead_letter_queue(sns, sqs, create_topic, create_queue):
    topic = create_topic(fifo=True, attributes={"ContentBasedDeduplication": "true"})
    queue = create_queue(fifo=True)
    dlq = create_queue(fifo=True)
    dlq_arn = allow_sns(sqs, dlq, topic)
    sub = subscribe_queue(sns, sqs, topic, queue, raw=True)
    sns.set_subscription_attributes(
        SubscriptionArn=sub, AttributeName="RedrivePolicy", AttributeValue=json.dumps({"deadLetterTargetArn": dlq_arn})
    )
    sqs.delete_queue(QueueUrl=queue)
    for i in range(3):
        sns.publish(TopicArn=topic, Message=f"fifo-{i}", MessageGroupId="g")
    got = wait_messages(sqs, dlq, 3, **sys_attr_kwargs(sqs, ["All"]))
    assert [m["Body"] for m in got] == ["fifo-0", "fifo-1", "fifo-2"]
    assert all(m["Attributes"]["MessageGroupId"] == "g" for m in got)


def test_unknown_queue_subscription_without_dlq_is_dropped(sns, sqs, endpoint, topic, queue):
    subscribe_queue(sns, sqs, topic, queue)
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn(unique_name("missing")))
    before = sns_stats(endpoint)["dropped"]
    sns.publish(TopicArn=topic, Message="one of two")
    assert envelope(wait_one(sqs, queue))["Message"] == "one of two"
    wait_stat(endpoint, "dropped", before + 1)
