"""Dead-letter queues: RedrivePolicy, RedriveAllowPolicy, ListDeadLetterSourceQueues."""

import json
import time

import pytest
from botocore.exceptions import ClientError

from conftest import unique_name
from sqs_helpers import (
    INVALID_ATTRIBUTE_VALUE,
    INVALID_PARAMETER_VALUE,
    NON_EXISTENT_QUEUE,
    expect_error,
    get_arn,
    get_attrs,
    receive,
    sys_attr_kwargs,
)

TRACE = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"


def _redrive(dlq_arn, max_receive=2):
    return json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receive})


@pytest.fixture
def dlq_pair(sqs, create_queue):
    """(source_url, dlq_url) with maxReceiveCount 2."""
    dlq = create_queue(name=unique_name("dlq"))
    src = create_queue(name=unique_name("src"), attributes={"RedrivePolicy": _redrive(get_arn(sqs, dlq), 2)})
    return src, dlq


def _collect(sqs, url, n, timeout=8, **kw):
    out = []
    deadline = time.monotonic() + timeout
    while len(out) < n and time.monotonic() < deadline:
        out += receive(sqs, url, MaxNumberOfMessages=10, WaitTimeSeconds=1, **kw)
    return out


def test_redrive_policy_round_trip(sqs, dlq_pair):
    src, dlq = dlq_pair
    policy = json.loads(get_attrs(sqs, src, "RedrivePolicy")["RedrivePolicy"])
    assert policy["deadLetterTargetArn"] == get_arn(sqs, dlq)
    assert int(policy["maxReceiveCount"]) == 2
    assert "RedrivePolicy" in get_attrs(sqs, src)


def test_message_moves_to_dlq_after_max_receives(sqs, dlq_pair):
    src, dlq = dlq_pair
    user_attrs = {"MyAttribute": {"DataType": "String", "StringValue": "foobar"}}
    sent = sqs.send_message(
        QueueUrl=src,
        MessageBody="poison",
        MessageAttributes=user_attrs,
        MessageSystemAttributes={"AWSTraceHeader": {"DataType": "String", "StringValue": TRACE}},
    )
    for expected in (1, 2):
        got = receive(sqs, src, WaitTimeSeconds=2, VisibilityTimeout=0, **sys_attr_kwargs(sqs, ["ApproximateReceiveCount"]))
        assert len(got) == 1 and got[0]["Attributes"]["ApproximateReceiveCount"] == str(expected)
    # the third receive would exceed maxReceiveCount: the message goes to the DLQ instead
    assert receive(sqs, src, VisibilityTimeout=0) == []
    moved = _collect(sqs, dlq, 1, MessageAttributeNames=["All"], **sys_attr_kwargs(sqs, ["All"]))
    assert len(moved) == 1
    m = moved[0]
    assert m["MessageId"] == sent["MessageId"]
    assert m["Body"] == "poison"
    assert m["MessageAttributes"] == user_attrs
    assert m["Attributes"]["AWSTraceHeader"] == TRACE
    assert m["Attributes"]["DeadLetterQueueSourceArn"] == get_arn(sqs, src)
    # AWS-recorded: the DLQ copy keeps its receive count (2 in the source, 3 on its first DLQ receive).
    assert m["Attributes"]["ApproximateReceiveCount"] == "3"
    assert receive(sqs, src, WaitTimeSeconds=1) == []


def test_dlq_move_via_visibility_expiry(sqs, create_queue):
    dlq = create_queue(name=unique_name("dlq"))
    src = create_queue(attributes={"RedrivePolicy": _redrive(get_arn(sqs, dlq), 1), "VisibilityTimeout": "1"})
    sqs.send_message(QueueUrl=src, MessageBody="once")
    assert len(receive(sqs, src, WaitTimeSeconds=2)) == 1
    time.sleep(1.3)
    assert receive(sqs, src, WaitTimeSeconds=1) == []
    moved = _collect(sqs, dlq, 1)
    assert [m["Body"] for m in moved] == ["once"]


def test_deleted_message_is_not_moved(sqs, dlq_pair):
    src, dlq = dlq_pair
    sqs.send_message(QueueUrl=src, MessageBody="handled")
    m = receive(sqs, src, WaitTimeSeconds=2, VisibilityTimeout=0)[0]
    m = receive(sqs, src, WaitTimeSeconds=2, VisibilityTimeout=0)[0]
    sqs.delete_message(QueueUrl=src, ReceiptHandle=m["ReceiptHandle"])
    assert receive(sqs, src, WaitTimeSeconds=1) == []
    assert receive(sqs, dlq, WaitTimeSeconds=1) == []


def test_fifo_dlq(sqs, create_queue):
    dlq = create_queue(fifo=True)
    src = create_queue(fifo=True, attributes={"RedrivePolicy": _redrive(get_arn(sqs, dlq), 1), "ContentBasedDeduplication": "true"})
    sent = sqs.send_message(QueueUrl=src, MessageBody="fifo poison", MessageGroupId="g")
    assert len(receive(sqs, src, WaitTimeSeconds=2, VisibilityTimeout=0)) == 1
    assert receive(sqs, src, VisibilityTimeout=0, WaitTimeSeconds=1) == []
    moved = _collect(sqs, dlq, 1, **sys_attr_kwargs(sqs, ["MessageGroupId"]))
    assert [m["MessageId"] for m in moved] == [sent["MessageId"]]
    assert moved[0]["Attributes"]["MessageGroupId"] == "g"


def test_remove_redrive_policy_with_empty_string(sqs, dlq_pair):
    src, _ = dlq_pair
    sqs.set_queue_attributes(QueueUrl=src, Attributes={"RedrivePolicy": ""})
    assert "RedrivePolicy" not in get_attrs(sqs, src)


def test_redrive_policy_requires_max_receive_count(sqs, create_queue):
    dlq = create_queue()
    src = create_queue()
    expect_error(
        sqs.set_queue_attributes,
        INVALID_PARAMETER_VALUE,
        400,
        QueueUrl=src,
        Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": get_arn(sqs, dlq)})},
    )


def test_redrive_policy_to_missing_queue(sqs, create_queue):
    src = create_queue()
    missing = f"arn:aws:sqs:us-east-1:000000000000:{unique_name('nope')}"
    with pytest.raises(ClientError) as info:
        sqs.set_queue_attributes(QueueUrl=src, Attributes={"RedrivePolicy": _redrive(missing)})
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert info.value.response["Error"]["Code"] in (INVALID_PARAMETER_VALUE, NON_EXISTENT_QUEUE, INVALID_ATTRIBUTE_VALUE)


def test_redrive_policy_queue_types_must_match(sqs, create_queue):
    # "The dead-letter queue of a FIFO queue must also be a FIFO queue. Similarly, the dead-letter
    # queue of a standard queue must also be a standard queue."
    std = create_queue()
    fifo = create_queue(fifo=True)
    with pytest.raises(ClientError) as info:
        sqs.set_queue_attributes(QueueUrl=std, Attributes={"RedrivePolicy": _redrive(get_arn(sqs, fifo))})
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError) as info:
        sqs.set_queue_attributes(QueueUrl=fifo, Attributes={"RedrivePolicy": _redrive(get_arn(sqs, std))})
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


# ----------------------------------------------------------------- RedriveAllowPolicy


def _expect_redrive_denied(sqs, src, dlq_arn):
    # The API reference defines the policy but not the error code; every AWS attribute-validation
    # failure for RedrivePolicy is a 400 InvalidParameterValue / InvalidAttributeValue.
    with pytest.raises(ClientError) as info:
        sqs.set_queue_attributes(QueueUrl=src, Attributes={"RedrivePolicy": _redrive(dlq_arn)})
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert info.value.response["Error"]["Code"] in (INVALID_PARAMETER_VALUE, INVALID_ATTRIBUTE_VALUE)


def test_redrive_allow_policy_round_trip(sqs, create_queue):
    src = create_queue()
    policy = {"redrivePermission": "byQueue", "sourceQueueArns": [get_arn(sqs, src)]}
    dlq = create_queue(attributes={"RedriveAllowPolicy": json.dumps(policy)})
    got = json.loads(get_attrs(sqs, dlq, "RedriveAllowPolicy")["RedriveAllowPolicy"])
    assert got == policy


def test_redrive_allow_policy_deny_all(sqs, create_queue):
    dlq = create_queue(attributes={"RedriveAllowPolicy": json.dumps({"redrivePermission": "denyAll"})})
    src = create_queue()
    _expect_redrive_denied(sqs, src, get_arn(sqs, dlq))
    assert "RedrivePolicy" not in get_attrs(sqs, src)


def test_redrive_allow_policy_by_queue(sqs, create_queue):
    allowed = create_queue()
    denied = create_queue()
    dlq = create_queue(
        attributes={
            "RedriveAllowPolicy": json.dumps({"redrivePermission": "byQueue", "sourceQueueArns": [get_arn(sqs, allowed)]})
        }
    )
    sqs.set_queue_attributes(QueueUrl=allowed, Attributes={"RedrivePolicy": _redrive(get_arn(sqs, dlq))})
    _expect_redrive_denied(sqs, denied, get_arn(sqs, dlq))


def test_redrive_allow_policy_allow_all(sqs, create_queue):
    dlq = create_queue(attributes={"RedriveAllowPolicy": json.dumps({"redrivePermission": "allowAll"})})
    src = create_queue()
    sqs.set_queue_attributes(QueueUrl=src, Attributes={"RedrivePolicy": _redrive(get_arn(sqs, dlq))})


def test_redrive_allow_policy_deny_all_blocks_create_queue(sqs, create_queue):
    dlq = create_queue(attributes={"RedriveAllowPolicy": json.dumps({"redrivePermission": "denyAll"})})
    name = unique_name("src")
    with pytest.raises(ClientError) as info:
        create_queue(name=name, attributes={"RedrivePolicy": _redrive(get_arn(sqs, dlq))})
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


# ----------------------------------------------------------------- ListDeadLetterSourceQueues


def test_list_dead_letter_source_queues(sqs, create_queue):
    dlq = create_queue(name=unique_name("dlq"))
    arn = get_arn(sqs, dlq)
    sources = {create_queue(attributes={"RedrivePolicy": _redrive(arn)}) for _ in range(3)}
    create_queue()  # unrelated
    resp = sqs.list_dead_letter_source_queues(QueueUrl=dlq)
    assert set(resp["queueUrls"]) == sources

    seen = []
    kwargs = {"QueueUrl": dlq, "MaxResults": 2}
    for _ in range(5):
        page = sqs.list_dead_letter_source_queues(**kwargs)
        assert len(page["queueUrls"]) <= 2
        seen += page["queueUrls"]
        if not page.get("NextToken"):
            break
        kwargs["NextToken"] = page["NextToken"]
    assert sorted(seen) == sorted(sources)


def test_list_dead_letter_source_queues_empty(sqs, queue):
    assert sqs.list_dead_letter_source_queues(QueueUrl=queue).get("queueUrls", []) == []


def test_list_dead_letter_source_queues_missing_queue(sqs, endpoint):
    expect_error(
        sqs.list_dead_letter_source_queues,
        NON_EXISTENT_QUEUE,
        400,
        QueueUrl=f"{endpoint}/000000000000/{unique_name('missing')}",
    )
