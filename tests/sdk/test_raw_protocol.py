"""The wire protocols, spoken directly with `requests` (no SDK between us and the server).

awsJson1_0: POST /, X-Amz-Target: AmazonSQS.<Op>, Content-Type application/x-amz-json-1.0; errors
{"__type": "com.amazonaws.sqs#<Shape>", "message": ...} plus x-amzn-query-error "<QueryCode>;Sender".
awsQuery: form-encoded Action=<Op>&Version=2012-11-05, answers text/xml in the
http://queue.amazonaws.com/doc/2012-11-05/ namespace; errors in <ErrorResponse>.
"""

import json
import xml.etree.ElementTree as ET

import pytest
import requests

from conftest import unique_name
from sqs_helpers import ACCOUNT, md5_hex

NS = "http://queue.amazonaws.com/doc/2012-11-05/"
N = "{" + NS + "}"
JSON_CT = "application/x-amz-json-1.0"


def _auth(access_key="test", region="us-east-1"):
    return {
        "Authorization": f"AWS4-HMAC-SHA256 Credential={access_key}/20240101/{region}/sqs/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date, Signature=" + "0" * 64,
        "X-Amz-Date": "20240101T000000Z",
    }


def json_call(endpoint, op, body=None, raw=None, path="/", headers=None, auth=True):
    h = {"Content-Type": JSON_CT, "X-Amz-Target": f"AmazonSQS.{op}"}
    if auth:
        h.update(_auth())
    h.update(headers or {})
    data = raw if raw is not None else json.dumps(body if body is not None else {}).encode()
    return requests.post(endpoint + path, data=data, headers=h, timeout=30)


def query_call(endpoint, params, path="/", headers=None, auth=True):
    h = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    if auth:
        h.update(_auth())
    h.update(headers or {})
    p = {"Version": "2012-11-05"}
    p.update(params)
    return requests.post(endpoint + path, data=p, headers=h, timeout=30)


def _media(resp):
    return resp.headers.get("Content-Type", "").split(";")[0].strip().lower()


def _not_5xx(resp):
    assert resp.status_code < 500, f"server error {resp.status_code}: {resp.text[:500]}"


@pytest.fixture
def raw_queue(endpoint):
    name = unique_name("raw")
    r = json_call(endpoint, "CreateQueue", {"QueueName": name})
    assert r.status_code == 200, r.text
    url = r.json()["QueueUrl"]
    yield name, url
    json_call(endpoint, "DeleteQueue", {"QueueUrl": url})


# ----------------------------------------------------------------- awsJson1_0


def test_json_list_queues(endpoint, raw_queue):
    r = json_call(endpoint, "ListQueues", {"QueueNamePrefix": raw_queue[0]})
    assert r.status_code == 200
    assert _media(r) == JSON_CT
    assert r.headers.get("x-amzn-RequestId")
    assert r.json()["QueueUrls"] == [raw_queue[1]]


def test_json_empty_body_is_empty_object(endpoint):
    r = json_call(endpoint, "ListQueues", raw=b"")
    assert r.status_code == 200, r.text
    assert isinstance(r.json(), dict)


def test_json_content_type_parameters_ignored(endpoint):
    r = json_call(endpoint, "ListQueues", {}, headers={"Content-Type": JSON_CT + "; charset=utf-8"})
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("raw", [b"{", b"not json", b'{"QueueNamePrefix": }', b"\xff\xfe\xfd"], ids=["open-brace", "text", "bad-value", "not-utf8"])
def test_json_malformed_body(endpoint, raw):
    r = json_call(endpoint, "ListQueues", raw=raw)
    _not_5xx(r)
    assert r.status_code == 400, r.text
    body = r.json()
    assert "SerializationException" in body.get("__type", ""), body


@pytest.mark.parametrize(
    "op,body",
    [
        ("ListQueues", [1, 2]),
        ("ListQueues", "just a string"),
        ("CreateQueue", {"QueueName": 5}),
        ("CreateQueue", {"QueueName": "shape-test-num-attr", "Attributes": {"VisibilityTimeout": 30}}),
        ("CreateQueue", {"QueueName": "shape-test-list-attr", "Attributes": ["VisibilityTimeout"]}),
        ("ReceiveMessage", {"QueueUrl": "http://h/000000000000/x", "MaxNumberOfMessages": "ten"}),
        ("SendMessage", {"QueueUrl": None, "MessageBody": "x"}),
        ("CreateQueue", {}),
    ],
)
def test_json_wrong_shapes_are_client_errors(endpoint, op, body):
    r = json_call(endpoint, op, raw=json.dumps(body).encode())
    _not_5xx(r)
    assert r.status_code == 400, r.text
    assert r.json().get("__type"), r.text


def test_json_unknown_operation(endpoint):
    r = json_call(endpoint, "FooBar", {})
    assert r.status_code == 400
    assert r.json()["__type"].split("#")[-1] == "UnknownOperationException"


def test_json_error_shape_for_missing_queue(endpoint):
    r = json_call(endpoint, "GetQueueUrl", {"QueueName": unique_name("missing")})
    assert r.status_code == 400
    assert _media(r) == JSON_CT
    assert r.headers.get("x-amzn-query-error") == "AWS.SimpleQueueService.NonExistentQueue;Sender"
    assert r.headers.get("x-amzn-RequestId")
    # AWS's documented SQS JSON error carries no x-amzn-ErrorType header.
    assert "x-amzn-errortype" not in r.headers
    body = r.json()
    assert body["__type"] == "com.amazonaws.sqs#QueueDoesNotExist"
    assert body.get("message") or body.get("Message")


def test_json_error_shape_for_invalid_attribute_name(endpoint, raw_queue):
    r = json_call(endpoint, "GetQueueAttributes", {"QueueUrl": raw_queue[1], "AttributeNames": ["Nope"]})
    assert r.status_code == 400
    assert r.json()["__type"].split("#")[-1] == "InvalidAttributeName"
    assert r.headers.get("x-amzn-query-error") == "InvalidAttributeName;Sender"


def test_json_error_shape_for_purge_in_progress(endpoint, raw_queue):
    assert json_call(endpoint, "PurgeQueue", {"QueueUrl": raw_queue[1]}).status_code == 200
    r = json_call(endpoint, "PurgeQueue", {"QueueUrl": raw_queue[1]})
    assert r.status_code == 403
    assert r.json()["__type"].split("#")[-1] == "PurgeQueueInProgress"
    assert r.headers.get("x-amzn-query-error") == "AWS.SimpleQueueService.PurgeQueueInProgress;Sender"


def test_json_send_receive_round_trip(endpoint, raw_queue):
    url = raw_queue[1]
    body = "raw json \r\n ✓ \"quoted\" \\ back"
    r = json_call(endpoint, "SendMessage", {"QueueUrl": url, "MessageBody": body})
    assert r.status_code == 200, r.text
    assert r.json()["MD5OfMessageBody"] == md5_hex(body)
    r = json_call(endpoint, "ReceiveMessage", {"QueueUrl": url, "WaitTimeSeconds": 2})
    msgs = r.json()["Messages"]
    assert msgs[0]["Body"] == body


def test_json_batch_without_failures_omits_failed(endpoint, raw_queue):
    # Recorded from AWS: an awsJson batch result leaves out an empty Failed list.
    entries = [{"Id": "a", "MessageBody": "one"}, {"Id": "b", "MessageBody": "two"}]
    r = json_call(endpoint, "SendMessageBatch", {"QueueUrl": raw_queue[1], "Entries": entries})
    assert r.status_code == 200, r.text
    assert [e["Id"] for e in r.json()["Successful"]] == ["a", "b"]
    assert "Failed" not in r.json()


def test_json_to_queue_path(endpoint, raw_queue):
    # Some SDKs (PHP) post JSON to the queue URL path instead of "/".
    name, url = raw_queue
    r = json_call(endpoint, "SendMessage", {"QueueUrl": url, "MessageBody": "to path"}, path=f"/{ACCOUNT}/{name}")
    assert r.status_code == 200, r.text
    r = json_call(endpoint, "ReceiveMessage", {"QueueUrl": url, "WaitTimeSeconds": 2}, path=f"/{ACCOUNT}/{name}")
    assert r.status_code == 200
    assert _media(r) == JSON_CT
    assert [m["Body"] for m in r.json()["Messages"]] == ["to path"]


def test_json_unsigned_request_is_accepted(endpoint):
    r = json_call(endpoint, "ListQueues", {}, auth=False)
    assert r.status_code == 200, r.text


def test_json_queue_url_reflects_host_header(endpoint):
    name = unique_name("host")
    r = json_call(endpoint, "CreateQueue", {"QueueName": name}, headers={"Host": "localhost:4566"})
    assert r.status_code == 200, r.text
    assert r.json()["QueueUrl"] == f"http://localhost:4566/queue/us-east-1/{ACCOUNT}/{name}"
    json_call(endpoint, "DeleteQueue", {"QueueUrl": r.json()["QueueUrl"]})


def test_json_account_from_credential_scope(endpoint):
    name = unique_name("acct")
    h = _auth(access_key="111122223333")
    r = json_call(endpoint, "CreateQueue", {"QueueName": name}, headers=h)
    assert r.status_code == 200, r.text
    url = r.json()["QueueUrl"]
    assert url == f"{endpoint}/queue/us-east-1/111122223333/{name}"
    json_call(endpoint, "DeleteQueue", {"QueueUrl": url}, headers=h)


# ----------------------------------------------------------------- awsQuery


def _xml(resp):
    assert _media(resp) == "text/xml", resp.headers.get("Content-Type")
    return ET.fromstring(resp.content)


def test_query_list_queues(endpoint, raw_queue):
    r = query_call(endpoint, {"Action": "ListQueues", "QueueNamePrefix": raw_queue[0]})
    assert r.status_code == 200, r.text
    root = _xml(r)
    assert root.tag == N + "ListQueuesResponse"
    assert f'xmlns="{NS}"' in r.text
    result = root.find(N + "ListQueuesResult")
    assert result is not None
    assert [e.text for e in result.findall(N + "QueueUrl")] == [raw_queue[1]]
    assert root.find(f"{N}ResponseMetadata/{N}RequestId").text


def test_query_get_request(endpoint):
    r = requests.get(endpoint + "/", params={"Action": "ListQueues", "Version": "2012-11-05"}, headers=_auth(), timeout=10)
    assert r.status_code == 200, r.text
    assert _xml(r).tag == N + "ListQueuesResponse"


def test_query_create_queue_with_attributes(endpoint):
    name = unique_name("qry")
    r = query_call(
        endpoint,
        {
            "Action": "CreateQueue",
            "QueueName": name,
            "Attribute.1.Name": "VisibilityTimeout",
            "Attribute.1.Value": "42",
            "Tag.1.Key": "team",
            "Tag.1.Value": "core",
        },
    )
    assert r.status_code == 200, r.text
    url = _xml(r).find(f"{N}CreateQueueResult/{N}QueueUrl").text
    assert url == f"{endpoint}/queue/us-east-1/{ACCOUNT}/{name}"
    r = query_call(endpoint, {"Action": "GetQueueAttributes", "QueueUrl": url, "AttributeName.1": "VisibilityTimeout"})
    attrs = {a.find(N + "Name").text: a.find(N + "Value").text for a in _xml(r).iter(N + "Attribute")}
    assert attrs == {"VisibilityTimeout": "42"}
    r = query_call(endpoint, {"Action": "ListQueueTags", "QueueUrl": url})
    tags = {t.find(N + "Key").text: t.find(N + "Value").text for t in _xml(r).iter(N + "Tag")}
    assert tags == {"team": "core"}
    r = query_call(endpoint, {"Action": "DeleteQueue", "QueueUrl": url})
    assert r.status_code == 200
    root = _xml(r)
    assert root.tag == N + "DeleteQueueResponse"
    assert root.find(N + "DeleteQueueResult") is None  # no-output ops omit the Result element


def test_query_error_for_missing_queue(endpoint):
    r = query_call(endpoint, {"Action": "GetQueueUrl", "QueueName": unique_name("missing")})
    assert r.status_code == 400
    root = _xml(r)
    assert root.tag == N + "ErrorResponse"
    err = root.find(N + "Error")
    assert err.find(N + "Type").text == "Sender"
    assert err.find(N + "Code").text == "AWS.SimpleQueueService.NonExistentQueue"
    assert err.find(N + "Message").text
    assert root.find(N + "RequestId").text


def test_query_unknown_action(endpoint):
    r = query_call(endpoint, {"Action": "FooBar"})
    assert r.status_code == 400
    root = _xml(r)
    assert root.find(f"{N}Error/{N}Code").text == "InvalidAction"


def test_query_missing_queue_says_wsdl_version(endpoint):
    # Recorded from AWS: awsQuery words it the old way; awsJson says "The specified queue does not exist.".
    r = query_call(endpoint, {"Action": "GetQueueUrl", "QueueName": unique_name("missing")})
    assert _xml(r).find(f"{N}Error/{N}Message").text == "The specified queue does not exist for this wsdl version."
    r = json_call(endpoint, "GetQueueUrl", {"QueueName": unique_name("missing")})
    assert r.json()["message"] == "The specified queue does not exist."


@pytest.mark.parametrize("action", ["CreateQueue", "ListQueues"])
def test_query_service_actions_refused_on_a_queue_url(endpoint, raw_queue, action):
    # Recorded from AWS: a queue's URL answers these with InvalidAction; GetQueueUrl works there.
    name, url = raw_queue
    r = requests.get(url, params={"Action": action, "QueueName": unique_name("q2")}, headers=_auth(), timeout=10)
    assert r.status_code == 400
    err = _xml(r).find(N + "Error")
    assert err.find(N + "Code").text == "InvalidAction"
    assert err.find(N + "Message").text == f"The action {action} is not valid for this endpoint."
    r = requests.get(url, params={"Action": "GetQueueUrl", "QueueName": name}, headers=_auth(), timeout=10)
    assert r.status_code == 200
    assert f"<QueueUrl>{url}</QueueUrl>" in r.text


def test_get_without_action_is_unknown_operation(endpoint, raw_queue):
    # Recorded from AWS: 404 with <UnknownOperationException/>, also when the client asks for JSON.
    for headers in ({}, {"Accept": "application/json"}):
        r = requests.get(raw_queue[1], headers={**_auth(), **headers}, timeout=10)
        assert r.status_code == 404
        assert "<UnknownOperationException" in r.text


def test_query_missing_action(endpoint):
    r = query_call(endpoint, {"QueueName": "x"})
    _not_5xx(r)
    assert 400 <= r.status_code < 500


def test_query_post_to_queue_path(endpoint, raw_queue):
    name, url = raw_queue
    path = f"/{ACCOUNT}/{name}"
    r = query_call(endpoint, {"Action": "SendMessage", "MessageBody": "via path"}, path=path)
    assert r.status_code == 200, r.text
    res = _xml(r).find(N + "SendMessageResult")
    assert res.find(N + "MD5OfMessageBody").text == md5_hex("via path")
    assert res.find(N + "MessageId").text
    r = query_call(endpoint, {"Action": "ReceiveMessage", "WaitTimeSeconds": "2"}, path=path)
    assert r.status_code == 200, r.text
    bodies = [m.find(N + "Body").text for m in _xml(r).iter(N + "Message")]
    assert bodies == ["via path"]
    r = query_call(endpoint, {"Action": "GetQueueAttributes", "AttributeName.1": "QueueArn"}, path=path)
    arn = [a.find(N + "Value").text for a in _xml(r).iter(N + "Attribute")]
    assert arn == [f"arn:aws:sqs:us-east-1:{ACCOUNT}:{name}"]


@pytest.mark.parametrize(
    "body",
    ["a\r\nb", "\r", "cr\rinside", "<tag attr=\"v\">&amp; ' \" ]]></tag>", "unicode ✓ 🎉", "  \t spaces \n "],
    ids=["crlf", "cr", "cr-inside", "xml-special", "unicode", "whitespace"],
)
def test_query_body_round_trip_through_xml(endpoint, raw_queue, body):
    url = raw_queue[1]
    r = query_call(endpoint, {"Action": "SendMessage", "QueueUrl": url, "MessageBody": body})
    assert r.status_code == 200, r.text
    assert _xml(r).find(f"{N}SendMessageResult/{N}MD5OfMessageBody").text == md5_hex(body)
    r = query_call(endpoint, {"Action": "ReceiveMessage", "QueueUrl": url, "WaitTimeSeconds": "2"})
    assert r.status_code == 200
    # XML parsers turn a raw CR into LF: a CR must travel as a character reference
    assert b"\r" not in r.content, "raw CR in XML body (must be escaped as &#xD;)"
    msgs = list(_xml(r).iter(N + "Message"))
    assert len(msgs) == 1
    got = msgs[0].find(N + "Body").text or ""
    assert got == body
    assert msgs[0].find(N + "MD5OfBody").text == md5_hex(body)
    handle = msgs[0].find(N + "ReceiptHandle").text
    r = query_call(endpoint, {"Action": "DeleteMessage", "QueueUrl": url, "ReceiptHandle": handle})
    assert r.status_code == 200


def test_query_message_attributes_flattened(endpoint, raw_queue):
    url = raw_queue[1]
    r = query_call(
        endpoint,
        {
            "Action": "SendMessage",
            "QueueUrl": url,
            "MessageBody": "attrs",
            "MessageAttribute.1.Name": "color",
            "MessageAttribute.1.Value.DataType": "String",
            "MessageAttribute.1.Value.StringValue": "blue",
        },
    )
    assert r.status_code == 200, r.text
    assert _xml(r).find(f"{N}SendMessageResult/{N}MD5OfMessageAttributes").text == "da1b33cc3cbfe8b1630921e78e6b9880"
    r = query_call(
        endpoint,
        {"Action": "ReceiveMessage", "QueueUrl": url, "WaitTimeSeconds": "2", "MessageAttributeName.1": "All", "AttributeName.1": "SentTimestamp"},
    )
    msg = next(_xml(r).iter(N + "Message"))
    ma = msg.find(N + "MessageAttribute")
    assert ma.find(N + "Name").text == "color"
    assert ma.find(f"{N}Value/{N}DataType").text == "String"
    assert ma.find(f"{N}Value/{N}StringValue").text == "blue"
    sys_attrs = {a.find(N + "Name").text for a in msg.findall(N + "Attribute")}
    assert sys_attrs == {"SentTimestamp"}


def test_query_batch_flattened(endpoint, raw_queue):
    url = raw_queue[1]
    r = query_call(
        endpoint,
        {
            "Action": "SendMessageBatch",
            "QueueUrl": url,
            "SendMessageBatchRequestEntry.1.Id": "a",
            "SendMessageBatchRequestEntry.1.MessageBody": "first",
            "SendMessageBatchRequestEntry.2.Id": "b",
            "SendMessageBatchRequestEntry.2.MessageBody": "bad \x01",
        },
    )
    assert r.status_code == 200, r.text
    res = _xml(r).find(N + "SendMessageBatchResult")
    ok = [e.find(N + "Id").text for e in res.findall(N + "SendMessageBatchResultEntry")]
    failed = res.findall(N + "BatchResultErrorEntry")
    assert ok == ["a"]
    assert len(failed) == 1
    assert failed[0].find(N + "Id").text == "b"
    assert failed[0].find(N + "Code").text == "InvalidMessageContents"
    assert failed[0].find(N + "SenderFault").text == "true"


@pytest.mark.parametrize("raw", [b"Action=ListQueues&Version=2012-11-05&%zz=1", b"Action=%E2%28%A1&Version=2012-11-05"])
def test_query_garbage_form_is_a_client_error(endpoint, raw):
    r = requests.post(
        endpoint + "/", data=raw, headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=10
    )
    _not_5xx(r)


# ----------------------------------------------------------------- every protocol's response headers


def _signed(service):
    return {
        "Authorization": f"AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/{service}/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64,
        "X-Amz-Date": "20240101T000000Z",
    }


@pytest.mark.parametrize(
    "service,headers,body,ok",
    [
        ("sqs", {"Content-Type": JSON_CT, "X-Amz-Target": "AmazonSQS.ListQueues"}, b"{}", True),
        ("sqs", {"Content-Type": JSON_CT, "X-Amz-Target": "AmazonSQS.GetQueueUrl"}, b'{"QueueName":"nope-x"}', False),
        ("sqs", {"Content-Type": "application/x-www-form-urlencoded"}, b"Action=ListQueues&Version=2012-11-05", True),
        ("sns", {"Content-Type": "application/x-www-form-urlencoded"}, b"Action=ListTopics&Version=2010-03-31", True),
        ("sns", {"Content-Type": "application/x-www-form-urlencoded"}, b"Action=GetTopicAttributes&Version=2010-03-31&TopicArn=x", False),
        ("kinesis", {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "Kinesis_20131202.ListStreams"}, b"{}", True),
        ("kinesis", {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "Kinesis_20131202.DescribeStream"}, b'{"StreamName":"nope-x"}', False),
    ],
    ids=["sqs-json", "sqs-json-error", "sqs-query", "sns", "sns-error", "kinesis", "kinesis-error"],
)
def test_every_protocol_sends_request_id_and_date(endpoint, service, headers, body, ok):
    # SDKs read x-amzn-RequestId and correct clock skew from Date, on successes and errors alike.
    r = requests.post(endpoint + "/", data=body, headers={**_signed(service), **headers}, timeout=10)
    assert (r.status_code == 200) == ok, r.text
    assert r.headers.get("x-amzn-RequestId")
    date = r.headers.get("Date")
    assert date and date.endswith(" GMT"), date
    from email.utils import parsedate_to_datetime
    import datetime

    skew = abs((parsedate_to_datetime(date) - datetime.datetime.now(datetime.timezone.utc)).total_seconds())
    assert skew < 60
