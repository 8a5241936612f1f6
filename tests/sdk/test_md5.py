"""MD5OfMessageBody / MD5OfMessageAttributes / MD5OfMessageSystemAttributes, computed here with the
algorithm documented in the SQS developer guide ("Calculating the MD5 message digest for message
attributes"). boto3 does not check these; Java, Go v2, JS v3, Ruby and .NET SDKs do."""

import pytest

from sqs_helpers import md5_hex, md5_of_attributes, receive, sys_attr_kwargs

COLOR = {"color": {"DataType": "String", "StringValue": "blue"}}
THREE = {
    "color": {"DataType": "String", "StringValue": "blue"},
    "size": {"DataType": "Number", "StringValue": "42"},
    "blob": {"DataType": "Binary", "BinaryValue": bytes([0x00, 0x01, 0x02, 0xFF])},
}
TRACE = {"AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"}}


def test_reference_vectors_of_the_helper():
    # Documented vectors; if these fail the helper (not the server) is wrong.
    assert md5_hex("hello world") == "5eb63bbbe01eeed093cb22bb8f5acdc3"
    assert md5_of_attributes(COLOR) == "da1b33cc3cbfe8b1630921e78e6b9880"
    assert md5_of_attributes(THREE) == "4716c7b2ebaf37c6f5e5d45b321088ca"
    # AWS-recorded values (LocalStack snapshots of real AWS responses)
    s = lambda v: {"DataType": "String", "StringValue": v}  # noqa: E731
    assert md5_of_attributes({"Help.Me": s("Me"), "Hello": s("There"), "General": s("Kenobi")}) == (
        "4c360f3fdafd970e05fae2f149d997f5"
    )
    assert md5_of_attributes({"Hello": s("There")}) == "a311262e065454b75da111d535b8dacd"


@pytest.mark.parametrize(
    "attrs,expected",
    [(COLOR, "da1b33cc3cbfe8b1630921e78e6b9880"), (THREE, "4716c7b2ebaf37c6f5e5d45b321088ca")],
    ids=["color", "color-size-blob"],
)
def test_md5_of_message_attributes_vectors(sqs, queue, attrs, expected):
    sent = sqs.send_message(QueueUrl=queue, MessageBody="hello world", MessageAttributes=attrs)
    assert sent["MD5OfMessageBody"] == "5eb63bbbe01eeed093cb22bb8f5acdc3"
    assert sent["MD5OfMessageAttributes"] == expected
    m = receive(sqs, queue, WaitTimeSeconds=2, MessageAttributeNames=["All"])[0]
    assert m["MD5OfBody"] == "5eb63bbbe01eeed093cb22bb8f5acdc3"
    assert m["MD5OfMessageAttributes"] == expected


def test_md5_custom_types_hash_data_type_verbatim(sqs, queue):
    attrs = {
        "price": {"DataType": "Number.float", "StringValue": "3.14"},
        "label": {"DataType": "String.label-x", "StringValue": "ünïcödé ✓"},
        "raw": {"DataType": "Binary.gzip", "BinaryValue": bytes(range(255, -1, -1))},
    }
    sent = sqs.send_message(QueueUrl=queue, MessageBody="x", MessageAttributes=attrs)
    assert sent["MD5OfMessageAttributes"] == md5_of_attributes(attrs)
    m = receive(sqs, queue, WaitTimeSeconds=2, MessageAttributeNames=["All"])[0]
    assert m["MessageAttributes"] == attrs
    assert m["MD5OfMessageAttributes"] == md5_of_attributes(attrs)


def test_md5_attribute_order_is_by_name(sqs, queue):
    # Same attributes given in different order produce the same digest.
    a = {"b": {"DataType": "String", "StringValue": "2"}, "a": {"DataType": "String", "StringValue": "1"}}
    r1 = sqs.send_message(QueueUrl=queue, MessageBody="x", MessageAttributes=a)
    r2 = sqs.send_message(QueueUrl=queue, MessageBody="x", MessageAttributes=dict(reversed(list(a.items()))))
    assert r1["MD5OfMessageAttributes"] == r2["MD5OfMessageAttributes"] == md5_of_attributes(a)


def test_md5_of_message_system_attributes(sqs, queue):
    sent = sqs.send_message(QueueUrl=queue, MessageBody="traced", MessageSystemAttributes=TRACE)
    assert sent["MD5OfMessageSystemAttributes"] == md5_of_attributes(TRACE)
    assert "MD5OfMessageAttributes" not in sent


def test_md5_in_batch(sqs, queue):
    resp = sqs.send_message_batch(
        QueueUrl=queue,
        Entries=[
            {"Id": "plain", "MessageBody": "hello world"},
            {"Id": "attrs", "MessageBody": "x", "MessageAttributes": THREE},
            {"Id": "sys", "MessageBody": "y", "MessageSystemAttributes": TRACE},
        ],
    )
    ok = {e["Id"]: e for e in resp["Successful"]}
    assert ok["plain"]["MD5OfMessageBody"] == "5eb63bbbe01eeed093cb22bb8f5acdc3"
    assert "MD5OfMessageAttributes" not in ok["plain"]
    assert ok["attrs"]["MD5OfMessageAttributes"] == "4716c7b2ebaf37c6f5e5d45b321088ca"
    assert ok["sys"]["MD5OfMessageSystemAttributes"] == md5_of_attributes(TRACE)


def test_md5_of_body_with_multibyte_and_cr(sqs, queue):
    body = "a\r\nb\rc ✓ 🎉"
    sent = sqs.send_message(QueueUrl=queue, MessageBody=body)
    assert sent["MD5OfMessageBody"] == md5_hex(body.encode("utf-8"))
    m = receive(sqs, queue, WaitTimeSeconds=2)[0]
    assert m["Body"] == body
    assert m["MD5OfBody"] == md5_hex(body.encode("utf-8"))


def test_receive_md5_covers_only_returned_attributes(sqs, create_queue):
    url = create_queue(attributes={"VisibilityTimeout": "0"})
    sqs.send_message(QueueUrl=url, MessageBody="x", MessageAttributes=THREE)
    m = receive(sqs, url, WaitTimeSeconds=2, MessageAttributeNames=["color"])[0]
    assert m["MessageAttributes"] == COLOR
    assert m["MD5OfMessageAttributes"] == "da1b33cc3cbfe8b1630921e78e6b9880"
    m = receive(sqs, url, WaitTimeSeconds=2, **sys_attr_kwargs(sqs, ["All"]))[0]
    assert "MD5OfMessageAttributes" not in m
