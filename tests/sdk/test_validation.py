"""Input validation: queue names, attribute ranges and names, receive parameters."""

import pytest

from conftest import unique_name
from sqs_helpers import (
    INVALID_ATTRIBUTE_NAME,
    INVALID_ATTRIBUTE_VALUE,
    INVALID_PARAMETER_VALUE,
    NON_EXISTENT_QUEUE,
    expect_error,
    get_attrs,
)


# ----------------------------------------------------------------- queue names


def test_queue_name_max_length(sqs, create_queue):
    name = ("n" + unique_name("")).replace("-", "_")
    name = (name + "x" * 80)[:80]
    url = create_queue(name=name)
    assert url.endswith("/" + name)
    expect_error(sqs.create_queue, INVALID_PARAMETER_VALUE, 400, QueueName=name + "y")


def test_fifo_queue_name_max_length_counts_suffix(sqs, create_queue):
    base = (unique_name("f").replace("-", "_") + "x" * 80)[:75]
    url = create_queue(name=base + ".fifo", fifo=True)  # 80 characters with .fifo
    assert url.endswith(base + ".fifo")
    expect_error(
        sqs.create_queue, INVALID_PARAMETER_VALUE, 400, QueueName=base + "z.fifo", Attributes={"FifoQueue": "true"}
    )


@pytest.mark.parametrize("bad", ["has space", "slash/inside", "dot.inside", "star*", "colon:x", "ünicode", "tab\tx"])
def test_queue_name_bad_characters(sqs, bad):
    expect_error(sqs.create_queue, INVALID_PARAMETER_VALUE, 400, QueueName=f"{bad}{unique_name('')}")


def test_queue_name_allowed_characters(sqs, create_queue):
    name = "Az09-_" + unique_name("ok").replace("-", "_")
    assert create_queue(name=name).endswith("/" + name)


# ----------------------------------------------------------------- attribute ranges


@pytest.mark.parametrize(
    "attr,bad,good",
    [
        ("VisibilityTimeout", "43201", ["0", "43200"]),
        ("VisibilityTimeout", "-1", []),
        ("DelaySeconds", "901", ["0", "900"]),
        ("MessageRetentionPeriod", "59", ["60", "1209600"]),
        ("MessageRetentionPeriod", "1209601", []),
        ("MaximumMessageSize", "1023", ["1024", "1048576"]),
        ("MaximumMessageSize", "1048577", []),
        ("ReceiveMessageWaitTimeSeconds", "21", ["0", "20"]),
        ("KmsDataKeyReusePeriodSeconds", "59", []),
        ("KmsDataKeyReusePeriodSeconds", "86401", []),
        ("VisibilityTimeout", "abc", []),
    ],
)
def test_attribute_ranges(sqs, create_queue, queue, attr, bad, good):
    expect_error(sqs.create_queue, INVALID_ATTRIBUTE_VALUE, 400, QueueName=unique_name(), Attributes={attr: bad})
    expect_error(sqs.set_queue_attributes, INVALID_ATTRIBUTE_VALUE, 400, QueueUrl=queue, Attributes={attr: bad})
    for value in good:
        sqs.set_queue_attributes(QueueUrl=queue, Attributes={attr: value})
        assert get_attrs(sqs, queue, attr)[attr] == value
        url = create_queue(attributes={attr: value})
        assert get_attrs(sqs, url, attr)[attr] == value


def test_rejected_set_leaves_attributes_unchanged(sqs, queue):
    with pytest.raises(sqs.exceptions.ClientError):
        sqs.set_queue_attributes(QueueUrl=queue, Attributes={"DelaySeconds": "5", "VisibilityTimeout": "43201"})
    attrs = get_attrs(sqs, queue, "DelaySeconds", "VisibilityTimeout")
    assert attrs == {"DelaySeconds": "0", "VisibilityTimeout": "30"}


def test_unknown_attribute_name_on_create(sqs):
    expect_error(sqs.create_queue, INVALID_ATTRIBUTE_NAME, 400, QueueName=unique_name(), Attributes={"Bogus": "1"})


def test_unknown_attribute_name_on_set(sqs, queue):
    expect_error(sqs.set_queue_attributes, INVALID_ATTRIBUTE_NAME, 400, QueueUrl=queue, Attributes={"Bogus": "1"})


@pytest.mark.parametrize(
    "readonly",
    ["QueueArn", "ApproximateNumberOfMessages", "CreatedTimestamp", "LastModifiedTimestamp"],
)
def test_read_only_attributes_cannot_be_set(sqs, queue, readonly):
    expect_error(sqs.set_queue_attributes, INVALID_ATTRIBUTE_NAME, 400, QueueUrl=queue, Attributes={readonly: "1"})


def test_unknown_attribute_name_on_get(sqs, queue):
    expect_error(
        sqs.get_queue_attributes, INVALID_ATTRIBUTE_NAME, 400, QueueUrl=queue, AttributeNames=["VisibilityTimeout", "Nope"]
    )


@pytest.mark.parametrize("bad", ["not json", "{", '{"Statement": [}', "[1, 2"])
def test_policy_must_be_valid_json(sqs, queue, bad):
    expect_error(sqs.set_queue_attributes, INVALID_ATTRIBUTE_VALUE, 400, QueueUrl=queue, Attributes={"Policy": bad})
    assert "Policy" not in get_attrs(sqs, queue)


def test_policy_invalid_on_create(sqs):
    expect_error(
        sqs.create_queue, INVALID_ATTRIBUTE_VALUE, 400, QueueName=unique_name(), Attributes={"Policy": "nope"}
    )


# ----------------------------------------------------------------- receive parameters


@pytest.mark.parametrize("n", [0, 11, -1])
def test_max_number_of_messages_range(sqs, queue, n):
    expect_error(sqs.receive_message, INVALID_PARAMETER_VALUE, 400, QueueUrl=queue, MaxNumberOfMessages=n)


def test_max_number_of_messages_bounds_ok(sqs, queue):
    sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=1)
    sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)


def test_receive_visibility_timeout_range(sqs, queue):
    expect_error(sqs.receive_message, INVALID_PARAMETER_VALUE, 400, QueueUrl=queue, VisibilityTimeout=43201)


def test_change_visibility_range(sqs, queue):
    sqs.send_message(QueueUrl=queue, MessageBody="x")
    m = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=2)["Messages"][0]
    expect_error(
        sqs.change_message_visibility,
        INVALID_PARAMETER_VALUE,
        400,
        QueueUrl=queue,
        ReceiptHandle=m["ReceiptHandle"],
        VisibilityTimeout=43201,
    )


def test_malformed_queue_url(sqs):
    # Not a queue URL at all: AWS answers with a client error (no 5xx).
    with pytest.raises(sqs.exceptions.ClientError) as info:
        sqs.get_queue_attributes(QueueUrl="not-a-url", AttributeNames=["All"])
    status = info.value.response["ResponseMetadata"]["HTTPStatusCode"]
    assert 400 <= status < 500
    assert info.value.response["Error"]["Code"] in (NON_EXISTENT_QUEUE, "InvalidAddress", INVALID_PARAMETER_VALUE)
