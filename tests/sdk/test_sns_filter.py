"""Subscription filter policies: which messages a filtered subscription receives, for both scopes
(MessageAttributes, MessageBody), and which policies are refused.

Each case table comes from the SNS developer guide ("Amazon SNS example filter policies", "String
value matching", "Numeric value matching", "Key matching", "AND/OR logic", "Filter policy
constraints") or from AWS-recorded deliveries (payload-based filtering). A case is
(message attributes or JSON body, delivered?).

Absence is checked without sleeping on it: every case publishes the messages that must be filtered
out first and the matching ones after; once all matching ones arrived, one more long poll makes
sure nothing else follows."""

import json
import time

import pytest

from sns_helpers import (
    INVALID_PARAMETER,
    expect_sns_error,
    sns_stats,
    subscribe_queue,
)
from sqs_helpers import receive


def S(v):
    return {"DataType": "String", "StringValue": v}


def N(v):
    return {"DataType": "Number", "StringValue": str(v)}


def A(values):
    return {"DataType": "String.Array", "StringValue": json.dumps(values)}


def B(v: bytes):
    return {"DataType": "Binary", "BinaryValue": v}


DOC_EXAMPLE_ATTRIBUTES = {
    "customer_interests": A(["soccer", "rugby", "hockey"]),
    "store": S("example_corp"),
    "event": S("order_placed"),
    "price_usd": N("210.75"),
}
DOC_EXAMPLE_POLICY = {
    "store": ["example_corp"],
    "event": [{"anything-but": "order_cancelled"}],
    "customer_interests": ["rugby", "football", "baseball"],
    "price_usd": [{"numeric": [">=", 100]}],
}


def _with(**changes):
    attrs = dict(DOC_EXAMPLE_ATTRIBUTES)
    for k, v in changes.items():
        if v is None:
            attrs.pop(k)
        else:
            attrs[k] = v
    return attrs


ATTRIBUTE_CASES = {
    "doc-example": (
        DOC_EXAMPLE_POLICY,
        [
            (DOC_EXAMPLE_ATTRIBUTES, True),
            (_with(customer_interests=A(["soccer", "hockey"])), False),
            (_with(price_usd=N(99)), False),
            (_with(event=S("order_cancelled")), False),
            (_with(store=None), False),
        ],
    ),
    "exact": (
        {"customer_interests": ["rugby", "tennis"]},
        [
            ({"customer_interests": S("rugby")}, True),
            ({"customer_interests": S("tennis")}, True),
            ({"customer_interests": A(["rugby", "tennis"])}, True),
            ({"customer_interests": S("baseball")}, False),
            ({"customer_interests": A(["baseball"])}, False),
            ({"other": S("rugby")}, False),
            ({"customer_interests": S("Rugby")}, False),  # string matching is case-sensitive
        ],
    ),
    "string-array-any-element": (
        {"customer_interests": ["rugby"]},
        [
            ({"customer_interests": A(["soccer", "rugby", "hockey"])}, True),
            ({"customer_interests": A(["soccer", "hockey"])}, False),
        ],
    ),
    "prefix": (
        {"customer_interests": [{"prefix": "bas"}]},
        [
            ({"customer_interests": S("baseball")}, True),
            ({"customer_interests": S("basketball")}, True),
            ({"customer_interests": S("rugby")}, False),
        ],
    ),
    "suffix": (
        {"customer_interests": [{"suffix": "ball"}]},
        [
            ({"customer_interests": S("baseball")}, True),
            ({"customer_interests": S("basketball")}, True),
            ({"customer_interests": S("rugby")}, False),
        ],
    ),
    "equals-ignore-case": (
        {"customer_interests": [{"equals-ignore-case": "tennis"}]},
        [
            ({"customer_interests": S("TENNIS")}, True),
            ({"customer_interests": S("Tennis")}, True),
            ({"customer_interests": S("tennis")}, True),
            ({"customer_interests": S("baseball")}, False),
        ],
    ),
    "anything-but-list": (
        {"customer_interests": [{"anything-but": ["rugby", "tennis"]}]},
        [
            ({"customer_interests": S("baseball")}, True),
            ({"customer_interests": S("football")}, True),
            ({"customer_interests": S("rugby")}, False),
            ({"customer_interests": S("tennis")}, False),
        ],
    ),
    "anything-but-value": (
        {"event": [{"anything-but": "order_cancelled"}]},
        [
            ({"event": S("order_placed")}, True),
            ({"event": S("order_cancelled")}, False),
        ],
    ),
    "anything-but-prefix": (
        {"event": [{"anything-but": {"prefix": "order-"}}]},
        [
            ({"event": S("data-entry")}, True),
            ({"event": S("order_number")}, True),
            ({"event": S("order-cancelled")}, False),
        ],
    ),
    "numeric-equals": (
        {"price_usd": [{"numeric": ["=", 301.5]}]},
        [
            ({"price_usd": N("301.5")}, True),
            ({"price_usd": N("3.015e2")}, True),
            ({"price_usd": N("301.4")}, False),
        ],
    ),
    "numeric-range": (
        {"price_usd": [{"numeric": [">", 0, "<=", 150]}]},
        [
            ({"price_usd": N("150")}, True),
            ({"price_usd": N("0.5")}, True),
            ({"price_usd": N("0")}, False),
            ({"price_usd": N("150.01")}, False),
            ({"price_usd": N("-5")}, False),
        ],
    ),
    "numeric-negative": (
        {"price_usd": [{"numeric": ["<", 0]}]},
        [
            ({"price_usd": N("-1")}, True),
            ({"price_usd": N("0")}, False),
        ],
    ),
    "numeric-anything-but": (
        {"price": [{"anything-but": [100, 500]}]},
        [
            ({"price": N("101")}, True),
            ({"price": N("100.1")}, True),
            ({"price": N("100")}, False),
            ({"price": N("500")}, False),
        ],
    ),
    "exists-true": (
        {"store": [{"exists": True}]},
        [
            ({"store": S("fans"), "customer_interests": A(["baseball", "basketball"])}, True),
            ({"customer_interests": A(["baseball", "basketball"])}, False),
            ({"store": B(b"\x01")}, False),  # Binary attributes are ignored by filtering
        ],
    ),
    "exists-false": (
        {"store": [{"exists": False}]},
        [
            ({"customer_interests": A(["baseball", "basketball"])}, True),
            ({"store": S("fans"), "customer_interests": A(["baseball", "basketball"])}, False),
        ],
    ),
    "and": (
        {"customer_interests": ["rugby"], "price_usd": [{"numeric": [">", 100]}]},
        [
            ({"customer_interests": S("rugby"), "price_usd": N(150)}, True),
            ({"customer_interests": S("rugby"), "price_usd": N(50)}, False),
            ({"customer_interests": S("football"), "price_usd": N(150)}, False),
            ({"customer_interests": S("rugby")}, False),
        ],
    ),
    "or-values": (
        {"customer_interests": ["rugby", "football", "baseball"]},
        [
            ({"customer_interests": S("football")}, True),
            ({"customer_interests": S("hockey")}, False),
        ],
    ),
    "or-operator": (
        {"source": ["aws.cloudwatch"], "$or": [{"metricName": ["CPUUtilization"]}, {"namespace": ["AWS/EC2"]}]},
        [
            ({"source": S("aws.cloudwatch"), "metricName": S("CPUUtilization")}, True),
            ({"source": S("aws.cloudwatch"), "namespace": S("AWS/EC2")}, True),
            ({"source": S("aws.cloudwatch"), "metricName": S("ReadLatency"), "namespace": S("AWS/RDS")}, False),
            ({"metricName": S("CPUUtilization")}, False),
        ],
    ),
    "mixed-conditions": (
        {
            "customer_interests": [
                "rugby",
                {"prefix": "bas"},
                {"anything-but": ["tennis", "rugby", "baseball", "basketball", "golf"]},
            ]
        },
        [
            ({"customer_interests": S("rugby")}, True),
            ({"customer_interests": S("basketball")}, True),
            ({"customer_interests": S("cricket")}, True),
            ({"customer_interests": S("golf")}, False),
        ],
    ),
    "cidr": (
        {"source_ip": [{"cidr": "10.0.0.0/24"}]},
        [
            ({"source_ip": S("10.0.0.0")}, True),
            ({"source_ip": S("10.0.0.255")}, True),
            ({"source_ip": S("10.1.1.0")}, False),
        ],
    ),
}


DOC_EXAMPLE_BODY = {
    "customer_interests": ["soccer", "rugby", "hockey"],
    "store": "example_corp",
    "event": "order_placed",
    "price_usd": 210.75,
}


def _body(**changes):
    body = dict(DOC_EXAMPLE_BODY)
    for k, v in changes.items():
        if v is None:
            body.pop(k)
        else:
            body[k] = v
    return body


S3_AUTO_CREATED = {
    "Records": [
        {
            "eventSource": "aws:s3",
            "eventName": "ObjectCreated:Put",
            "s3": {
                "bucket": {"name": "insurance-bucket-demo"},
                "object": {"key": "auto-insurance-2314.xml", "size": 17},
            },
        }
    ]
}


def _s3(event_name="ObjectCreated:Put", key="auto-insurance-2314.xml"):
    doc = json.loads(json.dumps(S3_AUTO_CREATED))
    doc["Records"][0]["eventName"] = event_name
    doc["Records"][0]["s3"]["object"]["key"] = key
    return doc


BODY_CASES = {
    "doc-example": (
        DOC_EXAMPLE_POLICY,
        [
            (DOC_EXAMPLE_BODY, True),
            (_body(customer_interests=["soccer", "hockey"]), False),
            (_body(price_usd=99), False),
            (_body(event="order_cancelled"), False),
            (_body(store=None), False),
        ],
    ),
    "exact": (
        {"customer_interests": ["rugby", "tennis"]},
        [
            ({"customer_interests": "rugby"}, True),
            ({"customer_interests": "tennis"}, True),
            ({"customer_interests": "baseball"}, False),
        ],
    ),
    "anything-but-array": (
        {"customer_interests": [{"anything-but": ["rugby", "tennis"]}]},
        [
            ({"customer_interests": "baseball"}, True),
            ({"customer_interests": ["rugby", "baseball"]}, True),
            ({"customer_interests": ["rugby"]}, False),
        ],
    ),
    "numeric": (
        {"price_usd": [{"numeric": [">", 0, "<=", 150]}]},
        [
            ({"price_usd": 150}, True),
            ({"price_usd": 3.015e1}, True),
            ({"price_usd": 151}, False),
        ],
    ),
    "exists": (
        {"store": [{"exists": True}], "customer_interests": [{"exists": False}]},
        [
            ({"store": "fans"}, True),
            ({"store": "fans", "customer_interests": ["baseball", "basketball"]}, False),
            ({"customer_interests": ["baseball", "basketball"]}, False),
        ],
    ),
    "nested-keys": (
        {"Records": {"s3": {"object": {"key": [{"prefix": "auto-"}]}}, "eventName": [{"prefix": "ObjectCreated:"}]}},
        [
            (S3_AUTO_CREATED, True),
            (_s3(event_name="ObjectRemoved:Delete"), False),
            (_s3(key="home-insurance-2314.xml"), False),
        ],
    ),
    "nested-arrays-route": (
        {"headers": {"route-to": ["queue1"]}},
        [
            ({"headers": {"route-to": ["queue1", "queue2"]}}, True),
            ({"headers": {"route-to": ["queue1"]}}, True),
            ({"headers": {"route-to": ["queue2"]}}, False),
            ({"headers": {"route-to": ["queue3"]}}, False),
        ],
    ),
    "or-nested": (
        {
            "$or": [{"metricName": ["CPUUtilization", "ReadLatency"]}, {"namespace": ["AWS/EC2", "AWS/ES"]}],
            "detail": {
                "scope": ["Service"],
                "$or": [{"source": ["aws.cloudwatch"]}, {"type": ["CloudWatch Alarm State Change"]}],
            },
        },
        [
            (
                {
                    "metricName": "CPUUtilization",
                    "detail": {"scope": "aws.cloudwatch", "type": "CloudWatch Alarm State Change"},
                },
                False,
            ),
            ({"metricName": "CPUUtilization", "detail": {"scope": "Service", "type": "CPUUtilization"}}, False),
            ({"metricName": "CPUUtilization", "detail": {"type": "CloudWatch Alarm State Change"}}, False),
            ({"metricName": "CPUUtilization", "detail": {"scope": "Service"}}, False),
            ({"metricName": "CPUUtilization", "scope": "Service"}, False),
            ({"metricName": "AWS/EC2", "detail": {"scope": "Service", "type": "CloudWatch Alarm State Change"}}, False),
            ({"metricName": "CPUUtilization", "detail": {"scope": "Service", "source": "aws.cloudwatch"}}, True),
            (
                {
                    "metricName": "CPUUtilization",
                    "detail": {"scope": "Service", "type": "CloudWatch Alarm State Change"},
                },
                True,
            ),
            ({"metricName": "ReadLatency", "detail": {"scope": "Service", "source": "aws.cloudwatch"}}, True),
            ({"namespace": "AWS/EC2", "detail": {"scope": "Service", "source": "aws.cloudwatch"}}, True),
            ({"namespace": "AWS/ES", "detail": {"scope": "Service", "source": "aws.cloudwatch"}}, True),
        ],
    ),
}


def _check_deliveries(sns, sqs, topic, queue, publishes):
    """publishes: list of (publish kwargs, delivered?). Publishes the filtered-out ones first; returns
    after checking that exactly the expected bodies arrived."""
    ordered = [p for p in publishes if not p[1]] + [p for p in publishes if p[1]]
    expected = []
    for kwargs, delivered in ordered:
        sns.publish(TopicArn=topic, **kwargs)
        if delivered:
            expected.append(kwargs["Message"])
    got: list[str] = []
    deadline = time.monotonic() + 10
    while len(got) < len(expected) and time.monotonic() < deadline:
        for m in receive(sqs, queue, MaxNumberOfMessages=10, WaitTimeSeconds=1):
            got.append(m["Body"])
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])
    # everything filtered out was published before the last expected message arrived; one more poll
    for m in receive(sqs, queue, MaxNumberOfMessages=10, WaitTimeSeconds=1):
        got.append(m["Body"])
    assert sorted(got) == sorted(expected), (
        f"delivered {sorted(got)}, expected {sorted(expected)}; "
        f"filtered out should be {sorted(p[0]['Message'] for p in publishes if not p[1])}"
    )


@pytest.mark.parametrize("case", list(ATTRIBUTE_CASES), ids=list(ATTRIBUTE_CASES))
def test_attribute_filter_policy(sns, sqs, topic, queue, case):
    policy, cases = ATTRIBUTE_CASES[case]
    subscribe_queue(sns, sqs, topic, queue, raw=True, attributes={"FilterPolicy": json.dumps(policy)})
    publishes = [
        ({"Message": f"{case}-{i}", "MessageAttributes": attrs}, delivered)
        for i, (attrs, delivered) in enumerate(cases)
    ]
    _check_deliveries(sns, sqs, topic, queue, publishes)


@pytest.mark.parametrize("case", list(BODY_CASES), ids=list(BODY_CASES))
def test_body_filter_policy(sns, sqs, topic, queue, case):
    policy, cases = BODY_CASES[case]
    subscribe_queue(
        sns,
        sqs,
        topic,
        queue,
        raw=True,
        attributes={"FilterPolicy": json.dumps(policy), "FilterPolicyScope": "MessageBody"},
    )
    # the case number makes every body distinct; the policies do not look at "case"
    publishes = [({"Message": json.dumps(dict(body, case=i))}, delivered) for i, (body, delivered) in enumerate(cases)]
    _check_deliveries(sns, sqs, topic, queue, publishes)


def test_body_filter_ignores_attributes_and_non_json_bodies(sns, sqs, topic, queue):
    subscribe_queue(
        sns,
        sqs,
        topic,
        queue,
        raw=True,
        attributes={"FilterPolicy": json.dumps({"store": ["fans"]}), "FilterPolicyScope": "MessageBody"},
    )
    _check_deliveries(
        sns,
        sqs,
        topic,
        queue,
        [
            ({"Message": "not json at all", "MessageAttributes": {"store": S("fans")}}, False),
            ({"Message": json.dumps({"other": "x"}), "MessageAttributes": {"store": S("fans")}}, False),
            ({"Message": json.dumps({"store": "fans"})}, True),
        ],
    )


def test_attribute_filter_ignores_body(sns, sqs, topic, queue):
    subscribe_queue(sns, sqs, topic, queue, raw=True, attributes={"FilterPolicy": json.dumps({"store": ["fans"]})})
    _check_deliveries(
        sns,
        sqs,
        topic,
        queue,
        [
            ({"Message": json.dumps({"store": "fans"})}, False),
            ({"Message": "with attribute", "MessageAttributes": {"store": S("fans")}}, True),
        ],
    )


def test_filter_applies_to_enveloped_delivery(sns, sqs, topic, queue):
    subscribe_queue(sns, sqs, topic, queue, attributes={"FilterPolicy": json.dumps({"color": ["red"]})})
    sns.publish(TopicArn=topic, Message="blue one", MessageAttributes={"color": S("blue")})
    sns.publish(TopicArn=topic, Message="red one", MessageAttributes={"color": S("red")})
    got = []
    deadline = time.monotonic() + 10
    while not got and time.monotonic() < deadline:
        got += receive(sqs, queue, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    got += receive(sqs, queue, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    assert [json.loads(m["Body"])["Message"] for m in got] == ["red one"]


def test_filter_policy_change_and_removal(sns, sqs, topic, queue):
    sub = subscribe_queue(sns, sqs, topic, queue, raw=True, attributes={"FilterPolicy": json.dumps({"color": ["red"]})})
    _check_deliveries(
        sns,
        sqs,
        topic,
        queue,
        [
            ({"Message": "blue-1", "MessageAttributes": {"color": S("blue")}}, False),
            ({"Message": "red-1", "MessageAttributes": {"color": S("red")}}, True),
        ],
    )
    sns.set_subscription_attributes(
        SubscriptionArn=sub, AttributeName="FilterPolicy", AttributeValue=json.dumps({"color": ["blue"]})
    )
    _check_deliveries(
        sns,
        sqs,
        topic,
        queue,
        [
            ({"Message": "red-2", "MessageAttributes": {"color": S("red")}}, False),
            ({"Message": "blue-2", "MessageAttributes": {"color": S("blue")}}, True),
        ],
    )
    # "Removing a subscription filter policy": overwrite it with an empty JSON object
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="FilterPolicy", AttributeValue="{}")
    _check_deliveries(
        sns,
        sqs,
        topic,
        queue,
        [
            ({"Message": "red-3", "MessageAttributes": {"color": S("red")}}, True),
            ({"Message": "none-3"}, True),
        ],
    )


def test_filtered_out_messages_are_counted(sns, sqs, endpoint, topic, queue):
    subscribe_queue(sns, sqs, topic, queue, raw=True, attributes={"FilterPolicy": json.dumps({"color": ["red"]})})
    before = sns_stats(endpoint)["filteredOut"]
    _check_deliveries(
        sns,
        sqs,
        topic,
        queue,
        [
            ({"Message": "blue", "MessageAttributes": {"color": S("blue")}}, False),
            ({"Message": "green", "MessageAttributes": {"color": S("green")}}, False),
            ({"Message": "red", "MessageAttributes": {"color": S("red")}}, True),
        ],
    )
    assert sns_stats(endpoint)["filteredOut"] >= before + 2


def test_largest_allowed_policy(sns, sqs, topic, queue):
    policy = {
        "key1": [f"value{i}" for i in range(30)],
        "key2": ["a", "b", "c", "d", "e"],
        "key3": ["x"],
        "key4": [{"exists": True}],
        "key5": [{"prefix": "p"}],
    }
    sub = subscribe_queue(sns, sqs, topic, queue, raw=True, attributes={"FilterPolicy": json.dumps(policy)})
    assert json.loads(sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]["FilterPolicy"]) == policy
    sns.set_subscription_attributes(
        SubscriptionArn=sub,
        AttributeName="FilterPolicy",
        AttributeValue=json.dumps({"key": [f"value{i}" for i in range(150)]}),
    )


# ----------------------------------------------------------------- invalid policies

INVALID_POLICIES = {
    "list-in-list": ({"key": [["value"]]}, "Match value must be String, number, true, false, or null"),
    "unknown-operator": ({"key": [{"wrong-operator": True}]}, "Unrecognized match type wrong-operator"),
    "two-operators": ({"key": [{"suffix": "value", "prefix": "value2"}]}, "Only one key allowed in match expression"),
    "empty-array": ({"key": []}, "Empty arrays are not allowed"),
    "suffix-number": ({"key": [{"suffix": 100}]}, "suffix match pattern must be a string"),
    "suffix-null": ({"key": [{"suffix": None}]}, "suffix match pattern must be a string"),
    "suffix-list": ({"key": [{"suffix": ["test", "test2"]}]}, "suffix match pattern must be a string"),
    "operator-not-in-list": ({"key": {"suffix": "value"}}, '"suffix" must be an object or an array'),
    "numeric-empty": ({"key": [{"numeric": []}]}, "Invalid member in numeric match: ]"),
    "numeric-unknown-operator": ({"key": [{"numeric": ["operator"]}]}, "Unrecognized numeric range operator: operator"),
    "numeric-value-first": ({"key": [{"numeric": [1, "<="]}]}, "Invalid member in numeric match: 1"),
    "numeric-string-value": ({"key": [{"numeric": ["=", "000"]}]}, "Value of equals must be numeric"),
    "numeric-missing-value": ({"key": [{"numeric": [">="]}]}, "Value of >= must be numeric"),
    "numeric-wrong-range-order": (
        {"key": [{"numeric": ["<", 100, ">", 10]}]},
        "Too many elements in numeric expression",
    ),
    "numeric-two-lower-bounds": ({"key": [{"numeric": [">=", 1, ">", 2]}]}, "Bad numeric range operator: >"),
    "numeric-bottom-above-top": ({"key": [{"numeric": [">", 3, "<", 1]}]}, "Bottom must be less than top"),
    "numeric-too-many-terms": (
        {"key": [{"numeric": [">", 20, "<", 30, "<", 50]}]},
        "Too many terms in numeric range expression",
    ),
    "exists-null": ({"key": [{"exists": None}]}, "exists match pattern must be either true or false."),
    "exists-string": ({"key": [{"exists": "no"}]}, "exists match pattern must be either true or false."),
    "anything-but-unknown": (
        {"key": [{"anything-but": {"wrong-operator": None}}]},
        "Unsupported anything-but pattern: wrong-operator",
    ),
    "anything-but-prefix-not-string": (
        {"key": [{"anything-but": {"prefix": False}}]},
        "prefix match pattern must be a string",
    ),
    "cidr-no-slash": ({"key": [{"cidr": "bad-filter"}]}, "Malformed CIDR, one '/' required"),
    "cidr-bad-ip": ({"key": [{"cidr": "xx.11.xx/8"}]}, "Nonstandard IP address: xx.11.xx"),
    "six-keys": ({f"key{i}": [f"value{i}"] for i in range(1, 7)}, "Filter policy can not have more than 5 keys"),
    "too-complex-one-key": ({"key": [f"value{i}" for i in range(151)]}, "Filter policy is too complex"),
    "too-complex-two-keys": (
        {"key1": [f"value{i}" for i in range(100)], "key2": [f"value{i}" for i in range(51)]},
        "Filter policy is too complex",
    ),
    "too-complex-or": (
        {
            "source": ["aws.cloudwatch", "aws.events", "aws.test", "aws.test2"],
            "$or": [
                {"metricName": ["CPUUtilization", "ReadLatency", "t1", "t2", "t3", "t4"]},
                {
                    "metricType": ["MetricType", "TestType", "TestType2", "TestType3"],
                    "$or": [{"metricId": [1234, 4321, 5678, 9012]}, {"spaceId": [1, 2, 3, 4]}],
                },
            ],
        },
        "Filter policy is too complex",
    ),
    "nested-in-attribute-scope": (
        {"object": {"key": [{"prefix": "auto-"}]}},
        "Filter policy scope MessageAttributes does not support nested filter policy",
    ),
}


@pytest.mark.parametrize("case", list(INVALID_POLICIES), ids=list(INVALID_POLICIES))
def test_invalid_filter_policy(sns, sqs, topic, queue, case):
    policy, reason = INVALID_POLICIES[case]
    sub = subscribe_queue(sns, sqs, topic, queue)
    err = expect_sns_error(
        sns.set_subscription_attributes,
        INVALID_PARAMETER,
        400,
        SubscriptionArn=sub,
        AttributeName="FilterPolicy",
        AttributeValue=json.dumps(policy),
    )
    message = err.response["Error"]["Message"]
    assert message.startswith("Invalid parameter: "), message
    assert reason in message, f"expected {reason!r} in {message!r}"
    assert "FilterPolicy" not in sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]


def test_invalid_filter_policy_at_subscribe(sns, sqs, topic, queue):
    for policy, reason in (INVALID_POLICIES["unknown-operator"], INVALID_POLICIES["six-keys"]):
        err = expect_sns_error(
            subscribe_queue,
            INVALID_PARAMETER,
            400,
            sns=sns,
            sqs=sqs,
            topic_arn=topic,
            queue_url=queue,
            attributes={"FilterPolicy": json.dumps(policy)},
        )
        message = err.response["Error"]["Message"]
        assert message.startswith("Invalid parameter: Attributes Reason: FilterPolicy: "), message
        assert reason in message
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []


def test_filter_policy_not_json(sns, sqs, topic, queue):
    sub = subscribe_queue(sns, sqs, topic, queue)
    err = expect_sns_error(
        sns.set_subscription_attributes,
        INVALID_PARAMETER,
        400,
        SubscriptionArn=sub,
        AttributeName="FilterPolicy",
        AttributeValue="{invalid json",
    )
    assert err.response["Error"]["Message"].startswith("Invalid parameter: FilterPolicy: failed to parse JSON.")


def test_body_scope_needs_lists_at_the_leaves(sns, sqs, topic, queue):
    sub = subscribe_queue(sns, sqs, topic, queue)
    sns.set_subscription_attributes(
        SubscriptionArn=sub, AttributeName="FilterPolicyScope", AttributeValue="MessageBody"
    )
    err = expect_sns_error(
        sns.set_subscription_attributes,
        INVALID_PARAMETER,
        400,
        SubscriptionArn=sub,
        AttributeName="FilterPolicy",
        AttributeValue=json.dumps({"key_a": "value_one"}),
    )
    assert '"key_a" must be an object or an array' in err.response["Error"]["Message"]
    # a nested policy is fine in the body scope
    nested = {"object": {"key": [{"prefix": "auto-"}]}}
    sns.set_subscription_attributes(
        SubscriptionArn=sub, AttributeName="FilterPolicy", AttributeValue=json.dumps(nested)
    )
    attrs = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert json.loads(attrs["FilterPolicy"]) == nested
    assert attrs["FilterPolicyScope"] == "MessageBody"
