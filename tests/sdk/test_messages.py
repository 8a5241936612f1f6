"""SendMessage / ReceiveMessage / DeleteMessage, bodies, message attributes, system attributes."""

import base64
import time
import uuid

import pytest

from sqs_helpers import (
    INVALID_MESSAGE_CONTENTS,
    INVALID_PARAMETER_VALUE,
    MIB,
    MISSING_PARAMETER,
    RECEIPT_HANDLE_INVALID,
    counts,
    expect_error,
    has_param,
    md5_hex,
    md5_of_attributes,
    receive,
    receive_n,
    sys_attr_kwargs,
    wait_until,
)

STANDARD_SYSTEM_ATTRS = {"SenderId", "SentTimestamp", "ApproximateReceiveCount", "ApproximateFirstReceiveTimestamp"}


def _uuid_ok(s: str) -> bool:
    try:
        uuid.UUID(s)
        return True
    except ValueError:
        return False


# ----------------------------------------------------------------- basics


def test_send_receive_delete(sqs, queue):
    sent = sqs.send_message(QueueUrl=queue, MessageBody="hello world")
    assert _uuid_ok(sent["MessageId"]), sent["MessageId"]
    assert sent["MD5OfMessageBody"] == "5eb63bbbe01eeed093cb22bb8f5acdc3"
    assert "MD5OfMessageAttributes" not in sent
    assert "MD5OfMessageSystemAttributes" not in sent
    assert "SequenceNumber" not in sent  # FIFO only

    msgs = receive(sqs, queue, WaitTimeSeconds=2)
    assert len(msgs) == 1
    m = msgs[0]
    assert m["MessageId"] == sent["MessageId"]
    assert m["Body"] == "hello world"
    assert m["MD5OfBody"] == "5eb63bbbe01eeed093cb22bb8f5acdc3"
    assert m["ReceiptHandle"]
    # nothing that was not asked for
    assert "Attributes" not in m
    assert "MessageAttributes" not in m
    assert "MD5OfMessageAttributes" not in m

    sqs.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])
    wait_until(lambda: counts(sqs, queue) == (0, 0, 0), timeout=3, what="empty queue after delete")
    assert receive(sqs, queue) == []


def test_receive_empty_queue(sqs, queue):
    resp = sqs.receive_message(QueueUrl=queue)
    assert resp.get("Messages", []) == []
    resp = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1)
    assert resp.get("Messages", []) == []


def test_default_max_number_of_messages_is_one(sqs, queue):
    for i in range(3):
        sqs.send_message(QueueUrl=queue, MessageBody=f"m{i}")
    assert len(receive(sqs, queue, WaitTimeSeconds=1)) == 1


def test_max_number_of_messages_ten(sqs, queue):
    sent = set()
    for i in range(0, 15, 5):
        sqs.send_message_batch(
            QueueUrl=queue, Entries=[{"Id": str(j), "MessageBody": f"m{i + j}"} for j in range(5)]
        )
        sent |= {f"m{i + j}" for j in range(5)}
    first = receive(sqs, queue, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    assert 1 <= len(first) <= 10
    rest = receive_n(sqs, queue, 15 - len(first), timeout=5)
    bodies = [m["Body"] for m in first + rest]
    assert len(bodies) == len(set(bodies)) == 15
    assert set(bodies) == sent
    assert receive(sqs, queue) == []


def test_message_counts(sqs, queue):
    for i in range(3):
        sqs.send_message(QueueUrl=queue, MessageBody=f"m{i}")
    sqs.send_message(QueueUrl=queue, MessageBody="later", DelaySeconds=30)
    wait_until(lambda: counts(sqs, queue) == (3, 0, 1), timeout=3, what="3 visible + 1 delayed")
    got = receive(sqs, queue, MaxNumberOfMessages=2, VisibilityTimeout=30)
    assert len(got) == 2
    wait_until(lambda: counts(sqs, queue) == (1, 2, 1), timeout=3, what="1 visible, 2 in flight, 1 delayed")


def test_delete_with_garbage_receipt_handle(sqs, queue):
    expect_error(sqs.delete_message, RECEIPT_HANDLE_INVALID, 404, QueueUrl=queue, ReceiptHandle="garbage")


def test_delete_twice_is_fine(sqs, queue):
    sqs.send_message(QueueUrl=queue, MessageBody="foo")
    handle = receive(sqs, queue, WaitTimeSeconds=2)[0]["ReceiptHandle"]
    for _ in range(3):
        sqs.delete_message(QueueUrl=queue, ReceiptHandle=handle)


def test_empty_body_is_missing_parameter(sqs, queue):
    expect_error(sqs.send_message, MISSING_PARAMETER, 400, QueueUrl=queue, MessageBody="")


# ----------------------------------------------------------------- bodies


BODIES = {
    "crlf": "line1\r\nline2\rline3\n",
    "only-cr": "\r",
    "unicode": "héllo wörld ✓ 日本語 Ελληνικά",
    "astral": "emoji 🎉🚀 and 𝄞 (U+1D11E)",
    "xml-special": "<a href=\"x\">&amp; 'quoted' & raw < > ]]> </a>",
    "json": '{"key": "value", "list": [1, 2, 3], "nested": {"a": null}}',
    "tabs": "\tindented\t\ttabs\t",
    "spaces": "   leading and trailing   ",
    "newlines-only": "\n\n\n",
    "boundaries": "\t\n\r \ud7ff\ue000\ufffd\U00010000\U0010ffff",
    "percent-plus": "a+b=c&d=%20%2B ?#",
    "backslashes": "C:\\path\\to\\file \\n not a newline \\u0041",
}


@pytest.mark.parametrize("name", list(BODIES))
def test_body_round_trip(sqs, queue, name):
    body = BODIES[name]
    sent = sqs.send_message(QueueUrl=queue, MessageBody=body)
    assert sent["MD5OfMessageBody"] == md5_hex(body)
    msgs = receive(sqs, queue, WaitTimeSeconds=2)
    assert len(msgs) == 1
    assert msgs[0]["Body"] == body
    assert msgs[0]["MD5OfBody"] == md5_hex(body)


@pytest.mark.parametrize(
    "bad",
    ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1f", "\ufffe", "\uffff"],
    ids=lambda c: f"U+{ord(c):04X}",
)
def test_invalid_body_characters(sqs, queue, bad):
    expect_error(
        sqs.send_message, INVALID_MESSAGE_CONTENTS, 400, QueueUrl=queue, MessageBody=f"before{bad}after"
    )
    assert counts(sqs, queue)[0] == 0


def test_body_of_exactly_1_mib_is_accepted(sqs, queue):
    body = "a" * MIB
    sent = sqs.send_message(QueueUrl=queue, MessageBody=body)
    assert sent["MD5OfMessageBody"] == md5_hex(body)
    msgs = receive(sqs, queue, WaitTimeSeconds=2)
    assert len(msgs) == 1 and msgs[0]["Body"] == body


def test_body_over_1_mib_is_rejected(sqs, queue):
    expect_error(sqs.send_message, INVALID_PARAMETER_VALUE, 400, QueueUrl=queue, MessageBody="a" * (MIB + 1))


def test_size_limit_counts_utf8_bytes(sqs, queue):
    # 2-byte characters: 524288 x "é" is exactly 1 MiB of UTF-8; one more byte is too much.
    ok = "é" * (MIB // 2)
    sqs.send_message(QueueUrl=queue, MessageBody=ok)
    expect_error(sqs.send_message, INVALID_PARAMETER_VALUE, 400, QueueUrl=queue, MessageBody=ok + "a")


def test_size_limit_includes_message_attributes(sqs, queue):
    # "Message size: body + attributes" (quotas). name "k" + type "String" + value "x" = 8 bytes.
    attrs = {"k": {"DataType": "String", "StringValue": "x"}}
    expect_error(
        sqs.send_message,
        INVALID_PARAMETER_VALUE,
        400,
        QueueUrl=queue,
        MessageBody="a" * (MIB - 8 + 1),
        MessageAttributes=attrs,
    )


def test_queue_maximum_message_size_is_enforced(sqs, create_queue):
    url = create_queue(attributes={"MaximumMessageSize": "1024"})
    sqs.send_message(QueueUrl=url, MessageBody="a" * 1024)
    expect_error(sqs.send_message, INVALID_PARAMETER_VALUE, 400, QueueUrl=url, MessageBody="a" * 1025)


# ----------------------------------------------------------------- user message attributes


ATTRS = {
    "str": {"DataType": "String", "StringValue": "blue"},
    "num": {"DataType": "Number", "StringValue": "42.5"},
    "bin": {"DataType": "Binary", "BinaryValue": b"\x00\x01\x02\xff"},
    "custom.str": {"DataType": "String.custom", "StringValue": "ünïcode ✓"},
    "custom.num": {"DataType": "Number.float", "StringValue": "-1e10"},
    "custom.bin": {"DataType": "Binary.jpg", "BinaryValue": bytes(range(256))},
}


def test_message_attributes_round_trip(sqs, queue):
    sent = sqs.send_message(QueueUrl=queue, MessageBody="with attrs", MessageAttributes=ATTRS)
    assert sent["MD5OfMessageAttributes"] == md5_of_attributes(ATTRS)
    m = receive(sqs, queue, WaitTimeSeconds=2, MessageAttributeNames=["All"])[0]
    assert m["MessageAttributes"] == ATTRS
    assert m["MD5OfMessageAttributes"] == md5_of_attributes(ATTRS)


def test_message_attributes_only_when_asked(sqs, create_queue):
    url = create_queue(attributes={"VisibilityTimeout": "0"})
    sqs.send_message(QueueUrl=url, MessageBody="x", MessageAttributes=ATTRS)
    m = receive(sqs, url, WaitTimeSeconds=2)[0]
    assert "MessageAttributes" not in m and "MD5OfMessageAttributes" not in m
    m = receive(sqs, url, WaitTimeSeconds=2, MessageAttributeNames=[])[0]
    assert "MessageAttributes" not in m
    # system attribute names do not return user attributes
    m = receive(sqs, url, WaitTimeSeconds=2, **sys_attr_kwargs(sqs, ["All"]))[0]
    assert "MessageAttributes" not in m
    assert not (set(m.get("Attributes", {})) & set(ATTRS))


FILTER_ATTRS = {
    "Help.Me": {"DataType": "String", "StringValue": "Me"},
    "Hello": {"DataType": "String", "StringValue": "There"},
    "General": {"DataType": "String", "StringValue": "Kenobi"},
}


@pytest.mark.parametrize(
    "names,expected",
    [
        (["All"], {"Help.Me", "Hello", "General"}),
        (["*"], {"Help.Me", "Hello", "General"}),  # AWS-recorded: "*" means all too
        ([".*"], {"Help.Me", "Hello", "General"}),
        (["Foo", "Help"], set()),
        (["Hello", "General"], {"Hello", "General"}),
        (["Foo", "Hello"], {"Hello"}),
        (["Hel.*"], {"Hello", "Help.Me"}),
        (["Help.*"], {"Help.Me"}),
    ],
)
def test_message_attribute_name_filters(sqs, create_queue, names, expected):
    url = create_queue(attributes={"VisibilityTimeout": "0"})
    sent = sqs.send_message(QueueUrl=url, MessageBody="msg", MessageAttributes=FILTER_ATTRS)
    assert sent["MD5OfMessageAttributes"] == "4c360f3fdafd970e05fae2f149d997f5"  # AWS-recorded value
    m = receive(sqs, url, WaitTimeSeconds=2, MessageAttributeNames=names)[0]
    got = m.get("MessageAttributes", {})
    assert set(got) == expected
    if expected:
        want = {k: FILTER_ATTRS[k] for k in expected}
        assert got == want
        # MD5 covers only the attributes returned
        assert m["MD5OfMessageAttributes"] == md5_of_attributes(want)
    else:
        assert "MD5OfMessageAttributes" not in m


def test_more_than_10_message_attributes_rejected(sqs, queue):
    attrs = {f"a{i}": {"DataType": "String", "StringValue": str(i)} for i in range(11)}
    expect_error(sqs.send_message, INVALID_PARAMETER_VALUE, 400, QueueUrl=queue, MessageBody="x", MessageAttributes=attrs)
    ten = dict(list(attrs.items())[:10])
    sqs.send_message(QueueUrl=queue, MessageBody="x", MessageAttributes=ten)


@pytest.mark.parametrize("name", ["AWS.reserved", "aws.reserved", "Amazon.reserved", "AMAZON.x"])
def test_reserved_attribute_name_prefix_rejected(sqs, queue, name):
    expect_error(
        sqs.send_message,
        INVALID_PARAMETER_VALUE,
        400,
        QueueUrl=queue,
        MessageBody="x",
        MessageAttributes={name: {"DataType": "String", "StringValue": "v"}},
    )


def test_attribute_names_may_use_letters_of_any_script(sqs, create_queue):
    # AWS-recorded: `attr.1øßä` is a valid name (letters need not be ASCII).
    url = create_queue(attributes={"VisibilityTimeout": "0"})
    attrs = {"attr.1øßä": {"StringValue": "Valida", "DataType": "String"}}
    sent = sqs.send_message(QueueUrl=url, MessageBody="test", MessageAttributes=attrs)
    assert sent["MD5OfMessageAttributes"] == md5_of_attributes(attrs)
    assert receive(sqs, url, WaitTimeSeconds=2, MessageAttributeNames=["All"])[0]["MessageAttributes"] == attrs


@pytest.mark.parametrize(
    "name",
    [".leading", "trailing.", "dou..ble", "bad!char", "sp ace", "L" * 257, "Invalid-§-attr", 'Invalid-"-attr', "a(b", "a?b"],
)
def test_invalid_attribute_names_rejected(sqs, queue, name):
    expect_error(
        sqs.send_message,
        INVALID_PARAMETER_VALUE,
        400,
        QueueUrl=queue,
        MessageBody="x",
        MessageAttributes={name: {"DataType": "String", "StringValue": "v"}},
    )


@pytest.mark.parametrize("data_type", ["string", "Invalid", "Number." + "L" * 256])
def test_invalid_attribute_data_type_rejected(sqs, queue, data_type):
    expect_error(
        sqs.send_message,
        INVALID_PARAMETER_VALUE,
        400,
        QueueUrl=queue,
        MessageBody="x",
        MessageAttributes={"attr": {"DataType": data_type, "StringValue": "v"}},
    )


def test_empty_string_attribute_value_rejected(sqs, queue):
    expect_error(
        sqs.send_message,
        INVALID_PARAMETER_VALUE,
        400,
        QueueUrl=queue,
        MessageBody="x",
        MessageAttributes={"ErrorDetails": {"DataType": "String", "StringValue": ""}},
    )


def test_invalid_characters_in_string_attribute_value_rejected(sqs, queue):
    with pytest.raises(sqs.exceptions.ClientError) as info:
        sqs.send_message(
            QueueUrl=queue,
            MessageBody="x",
            MessageAttributes={"attr": {"DataType": "String", "StringValue": "bad\x08value"}},
        )
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert info.value.response["Error"]["Code"] in (INVALID_PARAMETER_VALUE, INVALID_MESSAGE_CONTENTS)


# ----------------------------------------------------------------- system attributes


def test_system_attributes_never_returned_unless_asked(sqs, create_queue):
    url = create_queue(attributes={"VisibilityTimeout": "0"})
    sqs.send_message(QueueUrl=url, MessageBody="msg")
    m = receive(sqs, url, WaitTimeSeconds=2)[0]
    assert "Attributes" not in m
    m = receive(sqs, url, WaitTimeSeconds=2, MessageAttributeNames=["All"])[0]
    assert "Attributes" not in m


def test_system_attributes_all(sqs, queue):
    before_ms = int(time.time() * 1000)
    sqs.send_message(QueueUrl=queue, MessageBody="msg")
    m = receive(sqs, queue, WaitTimeSeconds=2, **sys_attr_kwargs(sqs, ["All"]))[0]
    attrs = m["Attributes"]
    assert set(attrs) == STANDARD_SYSTEM_ATTRS, sorted(attrs)
    assert attrs["ApproximateReceiveCount"] == "1"
    now_ms = int(time.time() * 1000)
    sent_ts = int(attrs["SentTimestamp"])  # epoch milliseconds
    first_ts = int(attrs["ApproximateFirstReceiveTimestamp"])
    assert before_ms - 5000 <= sent_ts <= now_ms + 5000
    assert sent_ts - 1000 <= first_ts <= now_ms + 5000
    assert attrs["SenderId"]
    assert "MessageAttributes" not in m


def test_single_system_attribute(sqs, queue):
    sqs.send_message(QueueUrl=queue, MessageBody="msg")
    m = receive(sqs, queue, WaitTimeSeconds=2, **sys_attr_kwargs(sqs, ["SenderId"]))[0]
    assert set(m["Attributes"]) == {"SenderId"}


def test_deprecated_attribute_names_parameter_still_works(sqs, queue):
    sqs.send_message(QueueUrl=queue, MessageBody="msg")
    m = receive(sqs, queue, WaitTimeSeconds=2, AttributeNames=["ApproximateReceiveCount", "SentTimestamp"])[0]
    assert set(m["Attributes"]) == {"ApproximateReceiveCount", "SentTimestamp"}


def test_message_system_attribute_names_parameter(sqs, queue):
    if not has_param(sqs, "ReceiveMessage", "MessageSystemAttributeNames"):
        pytest.skip("this botocore has no MessageSystemAttributeNames")
    sqs.send_message(QueueUrl=queue, MessageBody="msg")
    m = receive(sqs, queue, WaitTimeSeconds=2, MessageSystemAttributeNames=["ApproximateReceiveCount"])[0]
    assert m["Attributes"] == {"ApproximateReceiveCount": "1"}


TRACE = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"


def test_aws_trace_header_only_when_asked(sqs, create_queue):
    url = create_queue(attributes={"VisibilityTimeout": "0"})
    sys_attrs = {"AWSTraceHeader": {"DataType": "String", "StringValue": TRACE}}
    user_attrs = {"color": {"DataType": "String", "StringValue": "blue"}}
    sent = sqs.send_message(
        QueueUrl=url, MessageBody="traced", MessageSystemAttributes=sys_attrs, MessageAttributes=user_attrs
    )
    assert sent["MD5OfMessageSystemAttributes"] == md5_of_attributes(sys_attrs)
    assert sent["MD5OfMessageAttributes"] == "da1b33cc3cbfe8b1630921e78e6b9880"

    m = receive(sqs, url, WaitTimeSeconds=2)[0]
    assert "Attributes" not in m

    m = receive(sqs, url, WaitTimeSeconds=2, MessageAttributeNames=["All"])[0]
    assert "Attributes" not in m
    assert m["MessageAttributes"] == user_attrs  # the trace header is not a user attribute

    m = receive(sqs, url, WaitTimeSeconds=2, **sys_attr_kwargs(sqs, ["AWSTraceHeader"]))[0]
    assert m["Attributes"] == {"AWSTraceHeader": TRACE}
    assert "MessageAttributes" not in m

    m = receive(sqs, url, WaitTimeSeconds=2, **sys_attr_kwargs(sqs, ["All"]))[0]
    assert m["Attributes"]["AWSTraceHeader"] == TRACE
    assert set(m["Attributes"]) == STANDARD_SYSTEM_ATTRS | {"AWSTraceHeader"}


def test_x_amzn_trace_id_header_becomes_aws_trace_header(sqs_factory, create_queue):
    # AWS-recorded: the X-Ray header of SendMessage is kept as the AWSTraceHeader system attribute.
    client = sqs_factory()

    def add_header(request, **_):
        request.headers["X-Amzn-Trace-Id"] = TRACE

    client.meta.events.register("before-send.sqs.SendMessage", add_header)
    url = create_queue(attributes={"VisibilityTimeout": "0"})
    client.send_message(QueueUrl=url, MessageBody="test")
    m = receive(client, url, WaitTimeSeconds=2, **sys_attr_kwargs(client, ["SentTimestamp", "AWSTraceHeader"]))[0]
    assert m["Attributes"]["AWSTraceHeader"] == TRACE
    # An explicit system attribute wins over the header.
    own = "Root=1-00000000-000000000000000000000000"
    client.send_message(
        QueueUrl=url, MessageBody="own", MessageSystemAttributes={"AWSTraceHeader": {"DataType": "String", "StringValue": own}}
    )
    got = {}
    wait_until(
        lambda: got.update({x["Body"]: x for x in receive(client, url, **sys_attr_kwargs(client, ["AWSTraceHeader"]))})
        or "own" in got,
        timeout=5,
        what="the second message",
    )
    assert got["own"]["Attributes"]["AWSTraceHeader"] == own


def test_receive_count_increments(sqs, create_queue):
    url = create_queue(attributes={"VisibilityTimeout": "0"})
    sqs.send_message(QueueUrl=url, MessageBody="again")
    first_ts = None
    for expected in (1, 2, 3):
        m = receive(sqs, url, WaitTimeSeconds=2, **sys_attr_kwargs(sqs, ["All"]))[0]
        assert m["Attributes"]["ApproximateReceiveCount"] == str(expected)
        if first_ts is None:
            first_ts = m["Attributes"]["ApproximateFirstReceiveTimestamp"]
        else:  # first receive timestamp does not move
            assert m["Attributes"]["ApproximateFirstReceiveTimestamp"] == first_ts


def test_receipt_handles_differ_per_receive(sqs, create_queue):
    url = create_queue(attributes={"VisibilityTimeout": "0"})
    sqs.send_message(QueueUrl=url, MessageBody="x")
    h1 = receive(sqs, url, WaitTimeSeconds=2)[0]["ReceiptHandle"]
    h2 = receive(sqs, url, WaitTimeSeconds=2)[0]["ReceiptHandle"]
    assert h1 != h2
    # the latest handle deletes the message
    sqs.delete_message(QueueUrl=url, ReceiptHandle=h2)
    assert receive(sqs, url, WaitTimeSeconds=1) == []


def test_binary_attribute_is_base64_on_the_wire_but_bytes_in_sdk(sqs, queue):
    payload = base64.b64decode("AAECAwQFBgcICf8=")
    attrs = {"b": {"DataType": "Binary", "BinaryValue": payload}}
    sqs.send_message(QueueUrl=queue, MessageBody="x", MessageAttributes=attrs)
    m = receive(sqs, queue, WaitTimeSeconds=2, MessageAttributeNames=["b"])[0]
    assert m["MessageAttributes"]["b"]["BinaryValue"] == payload
