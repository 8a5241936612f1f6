"""HTTP subscribers: the SubscriptionConfirmation handshake (ConfirmSubscription with the token, or a
GET of the SubscribeURL), Notification requests (headers, envelope, signature), raw delivery,
delivery retries on the DeliveryPolicy, dead-lettering after the last retry, and unsubscribing.

A local http.server on 127.0.0.1 plays the subscriber. Expectations: SNS developer guide ("Fanout
to HTTP/S endpoints", "Parsing message formats", "Amazon SNS message delivery retries",
"Verifying the signatures of Amazon SNS messages") and AWS-recorded requests (headers, bodies)."""

import json
import time
import urllib.parse

import pytest
import requests

from conftest import unique_name
from sns_helpers import (
    ACCOUNT,
    CONFIRMATION_FIELDS,
    ISO8601_MS,
    NOT_FOUND,
    HttpSink,
    allow_sns,
    assert_notification,
    confirm_http,
    expect_sns_error,
    sns_attributes_json,
    verify_signature,
    wait_one,
)

FAST_RETRIES = {
    "healthyRetryPolicy": {
        "minDelayTarget": 1,
        "maxDelayTarget": 1,
        "numRetries": 3,
        "numNoDelayRetries": 0,
        "numMinDelayRetries": 0,
        "numMaxDelayRetries": 0,
        "backoffFunction": "linear",
    }
}
USER_AGENT = "Amazon Simple Notification Service Agent"


@pytest.fixture
def sink():
    s = HttpSink()
    yield s
    s.close()


def _path():
    return "/" + unique_name("sns")


def _subscribe(sns, topic, sink, path, attributes=None):
    kw = {"TopicArn": topic, "Protocol": "http", "Endpoint": sink.url(path), "ReturnSubscriptionArn": True}
    if attributes:
        kw["Attributes"] = attributes
    return sns.subscribe(**kw)["SubscriptionArn"]


def _confirmed(sns, topic, sink, attributes=None):
    path = _path()
    sub = _subscribe(sns, topic, sink, path, attributes)
    assert confirm_http(sns, sink, topic, path) == sub
    return sub, path


# ----------------------------------------------------------------- confirmation


def test_subscription_confirmation_request(sns, endpoint, topic, sink):
    path = _path()
    resp = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=sink.url(path))
    assert resp["SubscriptionArn"] == "pending confirmation"
    req = sink.wait_type("SubscriptionConfirmation", path=path)[0]
    assert req["method"] == "POST"
    body = req["json"]
    h = req["headers"]
    assert h["content-type"] == "text/plain; charset=UTF-8"
    assert h["x-amz-sns-message-type"] == "SubscriptionConfirmation"
    assert h["x-amz-sns-message-id"] == body["MessageId"]
    assert h["x-amz-sns-topic-arn"] == topic
    assert h["user-agent"] == USER_AGENT
    assert "x-amz-sns-subscription-arn" not in h
    # AWS-recorded: SNS's agent asks for compressed answers and names its connection.
    assert h["accept-encoding"] == "gzip,deflate"
    assert h.get("connection")

    assert set(body) == CONFIRMATION_FIELDS
    assert body["Type"] == "SubscriptionConfirmation"
    assert body["TopicArn"] == topic
    assert body["Message"] == (
        f"You have chosen to subscribe to the topic {topic}.\n"
        "To confirm the subscription, visit the SubscribeURL included in this message."
    )
    assert ISO8601_MS.match(body["Timestamp"])
    assert body["SignatureVersion"] == "1"
    assert body["SigningCertURL"] == f"{endpoint}/_eddy/sns/SimpleNotificationService-eddy.pem"
    # AWS-recorded: the topic ARN is not percent-encoded
    assert body["SubscribeURL"] == f"{endpoint}/?Action=ConfirmSubscription&TopicArn={topic}&Token={body['Token']}"
    url = urllib.parse.urlsplit(body["SubscribeURL"])
    q = dict(urllib.parse.parse_qsl(url.query))
    assert q == {"Action": "ConfirmSubscription", "TopicArn": topic, "Token": body["Token"]}
    verify_signature(body)


def test_confirm_with_token(sns, endpoint, topic, sink):
    path = _path()
    sub = _subscribe(sns, topic, sink, path)
    assert sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]["PendingConfirmation"] == "true"
    token = sink.wait_type("SubscriptionConfirmation", path=path)[0]["json"]["Token"]
    assert sns.confirm_subscription(TopicArn=topic, Token=token)["SubscriptionArn"] == sub
    attrs = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert attrs["PendingConfirmation"] == "false"
    topic_attrs = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    assert topic_attrs["SubscriptionsConfirmed"] == "1"
    assert topic_attrs["SubscriptionsPending"] == "0"
    listed = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert [s["SubscriptionArn"] for s in listed] == [sub]


def test_confirm_by_visiting_subscribe_url(sns, topic, sink):
    path = _path()
    sub = _subscribe(sns, topic, sink, path)
    conf = sink.wait_type("SubscriptionConfirmation", path=path)[0]["json"]
    r = requests.get(conf["SubscribeURL"], timeout=10)
    assert r.status_code == 200, r.text
    assert "ConfirmSubscriptionResponse" in r.text
    assert f"<SubscriptionArn>{sub}</SubscriptionArn>" in r.text
    assert sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]["PendingConfirmation"] == "false"
    mid = sns.publish(TopicArn=topic, Message="after GET")["MessageId"]
    note = sink.wait_type("Notification", path=path)[0]
    assert note["json"]["MessageId"] == mid


def test_notification_request(sns, endpoint, topic, sink):
    sub, path = _confirmed(sns, topic, sink)
    attrs = {"attr1": {"DataType": "Number", "StringValue": "1"}, "s": {"DataType": "String", "StringValue": "v"}}
    mid = sns.publish(
        TopicArn=topic, Message="test_external_http_endpoint", Subject="subject", MessageAttributes=attrs
    )["MessageId"]
    req = sink.wait_type("Notification", path=path)[0]
    assert req["method"] == "POST"
    h = req["headers"]
    assert h["content-type"] == "text/plain; charset=UTF-8"
    assert h["x-amz-sns-message-type"] == "Notification"
    assert h["x-amz-sns-message-id"] == mid
    assert h["x-amz-sns-topic-arn"] == topic
    assert h["x-amz-sns-subscription-arn"] == sub
    assert h["user-agent"] == USER_AGENT
    assert "x-amz-sns-rawdelivery" not in h
    assert_notification(
        req["json"],
        endpoint=endpoint,
        topic_arn=topic,
        message="test_external_http_endpoint",
        subscription_arn=sub,
        message_id=mid,
        subject="subject",
        attributes=sns_attributes_json(attrs),
    )
    verify_signature(req["json"])


def test_signature_version_2(sns, endpoint, create_topic, sink):
    topic = create_topic(attributes={"SignatureVersion": "2"})
    path = _path()
    _subscribe(sns, topic, sink, path)
    conf = sink.wait_type("SubscriptionConfirmation", path=path)[0]["json"]
    assert conf["SignatureVersion"] == "2"
    verify_signature(conf)
    sns.confirm_subscription(TopicArn=topic, Token=conf["Token"])
    sns.publish(TopicArn=topic, Message="sha256 signed")
    note = sink.wait_type("Notification", path=path)[0]["json"]
    assert note["SignatureVersion"] == "2"
    verify_signature(note)


def test_pending_subscription_gets_no_notification(sns, topic, sink):
    path = _path()
    _subscribe(sns, topic, sink, path)
    conf = sink.wait_type("SubscriptionConfirmation", path=path)[0]["json"]
    sns.publish(TopicArn=topic, Message="while pending")
    sns.confirm_subscription(TopicArn=topic, Token=conf["Token"])
    sns.publish(TopicArn=topic, Message="after confirmation")
    sink.wait_type("Notification", path=path)
    # a stray first message would have come before the second; give it a second more anyway
    time.sleep(1)
    assert [r["json"]["Message"] for r in sink.of_type("Notification", path=path)] == ["after confirmation"]


def test_confirm_subscription_errors(sns, topic, sink):
    path = _path()
    _subscribe(sns, topic, sink, path)
    sink.wait_type("SubscriptionConfirmation", path=path)
    expect_sns_error(
        sns.confirm_subscription, "InvalidParameter", 400, message="Invalid token", TopicArn=topic, Token="not-the-token"
    )


def test_broken_subscribe_urls(sns, endpoint, topic, sink):
    # AWS-recorded (test_subscribe_external_http_endpoint): GETs of a SubscribeURL with a broken
    # topic ARN, a token that is not the subscription's, or the topic of another region
    path = _path()
    sub = _subscribe(sns, topic, sink, path)
    token = sink.wait_type("SubscriptionConfirmation", path=path)[0]["json"]["Token"]
    other_region = topic.replace(":us-east-1:", ":eu-central-1:")
    cases = [
        (f"TopicArn=not-an-arn&Token={token}", "Invalid parameter: Topic"),
        (f"TopicArn={topic}&Token=abc123", "Invalid parameter: Token"),
        (f"TopicArn={other_region}&Token={token}", "Invalid parameter: Topic"),
    ]
    for query, message in cases:
        r = requests.get(f"{endpoint}/?Action=ConfirmSubscription&{query}", timeout=10)
        assert r.status_code == 400, r.text
        assert "<Type>Sender</Type><Code>InvalidParameter</Code>" in r.text
        assert f"<Message>{message}</Message></Error>" in r.text
    assert sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]["PendingConfirmation"] == "true"


def test_valid_token_with_a_nonexistent_topic_of_this_region_confirms(sns, endpoint, topic, sink):
    # AWS-recorded (test_subscribe_external_http_endpoint): "weirdly, even with a wrong topic, SNS will
    # confirm": the token names the subscription.
    path = _path()
    sub = _subscribe(sns, topic, sink, path)
    token = sink.wait_type("SubscriptionConfirmation", path=path)[0]["json"]["Token"]
    nonexistent = topic[:-1] + ("a" if topic[-1] != "a" else "b")
    r = requests.get(f"{endpoint}/?Action=ConfirmSubscription&TopicArn={nonexistent}&Token={token}", timeout=10)
    assert r.status_code == 200, r.text
    assert f"<SubscriptionArn>{sub}</SubscriptionArn>" in r.text
    assert sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]["PendingConfirmation"] == "false"
    assert sns.get_topic_attributes(TopicArn=topic)["Attributes"]["SubscriptionsPending"] == "0"


def test_message_structure_http_key(sns, topic, sink):
    _, path = _confirmed(sns, topic, sink)
    sns.publish(
        TopicArn=topic,
        MessageStructure="json",
        Message=json.dumps({"default": "d", "http": "for http", "sqs": "for sqs"}),
    )
    assert sink.wait_type("Notification", path=path)[0]["json"]["Message"] == "for http"


# ----------------------------------------------------------------- raw delivery, content type


def test_raw_delivery_over_http(sns, topic, sink):
    sub, path = _confirmed(sns, topic, sink, attributes={"RawMessageDelivery": "true"})
    mid = sns.publish(
        TopicArn=topic, Message="raw body \u2713", MessageAttributes={"a": {"DataType": "String", "StringValue": "b"}}
    )["MessageId"]
    req = sink.wait_type("Notification", path=path)[0]
    assert req["body"] == "raw body \u2713"
    h = req["headers"]
    assert h["x-amz-sns-rawdelivery"] == "true"
    assert h["x-amz-sns-message-id"] == mid
    assert h["x-amz-sns-subscription-arn"] == sub
    assert h["content-type"] == "text/plain; charset=UTF-8"


def test_content_type_from_topic_delivery_policy(sns, create_topic, sink):
    policy = {"http": {"defaultRequestPolicy": {"headerContentType": "application/json"}}}
    topic = create_topic(attributes={"DeliveryPolicy": json.dumps(policy)})
    path = _path()
    _subscribe(sns, topic, sink, path)
    conf = sink.wait_type("SubscriptionConfirmation", path=path)[0]
    # AWS-recorded: the confirmation keeps text/plain
    assert conf["headers"]["content-type"] == "text/plain; charset=UTF-8"
    sns.confirm_subscription(TopicArn=topic, Token=conf["json"]["Token"])
    sns.publish(TopicArn=topic, Message="json typed")
    assert sink.wait_type("Notification", path=path)[0]["headers"]["content-type"] == "application/json"


def test_content_type_from_subscription_delivery_policy(sns, topic, sink):
    attributes = {
        "RawMessageDelivery": "true",
        "DeliveryPolicy": json.dumps({"requestPolicy": {"headerContentType": "text/csv"}}),
    }
    _, path = _confirmed(sns, topic, sink, attributes=attributes)
    sns.publish(TopicArn=topic, Message="a,b,c")
    req = sink.wait_type("Notification", path=path)[0]
    assert req["headers"]["content-type"] == "text/csv"
    assert req["body"] == "a,b,c"


# ----------------------------------------------------------------- retries, dead letters


def test_retries_until_delivered(sns, topic, sink):
    _, path = _confirmed(sns, topic, sink, attributes={"DeliveryPolicy": json.dumps(FAST_RETRIES)})
    sink.notification_statuses = [500, 500]
    mid = sns.publish(TopicArn=topic, Message="third time lucky")["MessageId"]
    attempts = sink.wait_type("Notification", n=3, path=path, timeout=20)
    assert [r["status"] for r in attempts] == [500, 500, 200]
    assert all(r["json"]["MessageId"] == mid for r in attempts)
    assert all(r["headers"]["x-amz-sns-message-id"] == mid for r in attempts)
    # minDelayTarget 1: the retries are about a second apart
    gaps = [b["time"] - a["time"] for a, b in zip(attempts, attempts[1:])]
    assert all(g >= 0.5 for g in gaps), gaps
    # delivered: no fourth attempt
    time.sleep(1.5)
    assert len(sink.of_type("Notification", path=path)) == 3


def test_retry_policy_from_topic(sns, create_topic, sink):
    policy = {"http": {"defaultHealthyRetryPolicy": FAST_RETRIES["healthyRetryPolicy"]}}
    topic = create_topic(attributes={"DeliveryPolicy": json.dumps(policy)})
    _, path = _confirmed(sns, topic, sink)
    sink.notification_statuses = [503]
    sns.publish(TopicArn=topic, Message="second time")
    attempts = sink.wait_type("Notification", n=2, path=path, timeout=15)
    assert [r["status"] for r in attempts] == [503, 200]


def test_failed_http_delivery_goes_to_dead_letter_queue(sns, sqs, topic, sink, create_queue):
    policy = {"healthyRetryPolicy": dict(FAST_RETRIES["healthyRetryPolicy"], numRetries=1)}
    sub, path = _confirmed(sns, topic, sink, attributes={"DeliveryPolicy": json.dumps(policy)})
    dlq = create_queue()
    dlq_arn = allow_sns(sqs, dlq, topic)
    sns.set_subscription_attributes(
        SubscriptionArn=sub, AttributeName="RedrivePolicy", AttributeValue=json.dumps({"deadLetterTargetArn": dlq_arn})
    )
    sink.notification_statuses = [500] * 10
    mid = sns.publish(TopicArn=topic, Message="never accepted")["MessageId"]
    m = wait_one(sqs, dlq, timeout=20)
    body = json.loads(m["Body"])
    assert body["MessageId"] == mid
    assert body["Message"] == "never accepted"
    # the first attempt and one retry
    assert len(sink.of_type("Notification", path=path)) == 2


# ----------------------------------------------------------------- unsubscribe


def test_unsubscribe_url_removes_subscription(sns, topic, sink):
    sub, path = _confirmed(sns, topic, sink)
    sns.publish(TopicArn=topic, Message="first")
    note = sink.wait_type("Notification", path=path)[0]["json"]
    r = requests.get(note["UnsubscribeURL"], timeout=10)
    assert r.status_code == 200, r.text
    assert "UnsubscribeResponse" in r.text
    expect_sns_error(sns.get_subscription_attributes, NOT_FOUND, 404, SubscriptionArn=sub)
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []


def test_unsubscribe_sends_unsubscribe_confirmation(sns, endpoint, topic, sink):
    # AWS-recorded: unsubscribing an HTTP endpoint POSTs an UnsubscribeConfirmation to it
    sub, path = _confirmed(sns, topic, sink)
    sns.unsubscribe(SubscriptionArn=sub)
    req = sink.wait_type("UnsubscribeConfirmation", path=path)[0]
    body = req["json"]
    assert body["Type"] == "UnsubscribeConfirmation"
    assert body["TopicArn"] == topic
    assert body["Token"]
    # AWS-recorded: a fresh token, not the one the subscription was confirmed with.
    assert body["Token"] != sink.wait_type("SubscriptionConfirmation", path=path)[0]["json"]["Token"]
    assert body["Message"] == (
        f"You have chosen to deactivate subscription {sub}.\n"
        "To cancel this operation and restore the subscription, visit the SubscribeURL included in this message."
    )
    assert set(body) == CONFIRMATION_FIELDS
    assert body["SubscribeURL"] == f"{endpoint}/?Action=ConfirmSubscription&TopicArn={topic}&Token={body['Token']}"
    verify_signature(body)


def test_http_subscription_attributes(sns, topic, sink):
    path = _path()
    sub = _subscribe(sns, topic, sink, path, attributes={"DeliveryPolicy": json.dumps(FAST_RETRIES)})
    attrs = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert attrs["Protocol"] == "http"
    assert attrs["Endpoint"] == sink.url(path)
    assert attrs["Owner"] == ACCOUNT
    assert attrs["PendingConfirmation"] == "true"
    assert attrs["ConfirmationWasAuthenticated"] == "false"
    assert json.loads(attrs["EffectiveDeliveryPolicy"])["healthyRetryPolicy"] == FAST_RETRIES["healthyRetryPolicy"]
