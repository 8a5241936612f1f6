"""Queue lifecycle: CreateQueue, GetQueueUrl, ListQueues, DeleteQueue, Get/SetQueueAttributes,
PurgeQueue, queue URLs, accounts."""

import json
import time

import pytest

from conftest import unique_name
from sqs_helpers import (
    ACCOUNT,
    INVALID_ATTRIBUTE_NAME,
    INVALID_PARAMETER_VALUE,
    NON_EXISTENT_QUEUE,
    PURGE_IN_PROGRESS,
    QUEUE_ALREADY_EXISTS,
    QUEUE_DELETED_RECENTLY,
    REGION,
    counts,
    expect_error,
    get_attrs,
    queue_arn,
    receive,
    wait_until,
)

STANDARD_ALL_KEYS = {
    "QueueArn",
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
    "VisibilityTimeout",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "DelaySeconds",
    "ReceiveMessageWaitTimeSeconds",
    "SqsManagedSseEnabled",
}


# ----------------------------------------------------------------- create / url


def test_create_queue_returns_url_with_client_host(sqs, endpoint, create_queue):
    name = unique_name()
    url = create_queue(name=name)
    # Queue URL is minted from the Host header the client sent; like AWS's, it names the region.
    assert url == f"{endpoint}/queue/{REGION}/{ACCOUNT}/{name}"


def test_get_queue_url(sqs, endpoint, create_queue):
    name = unique_name()
    url = create_queue(name=name)
    assert sqs.get_queue_url(QueueName=name)["QueueUrl"] == url


def test_get_queue_url_missing_queue(sqs):
    expect_error(sqs.get_queue_url, NON_EXISTENT_QUEUE, 400, QueueName=unique_name("missing"))


def test_operations_on_missing_queue_fail_with_non_existent_queue(sqs, endpoint):
    url = f"{endpoint}/{ACCOUNT}/{unique_name('missing')}"
    expect_error(sqs.send_message, NON_EXISTENT_QUEUE, 400, QueueUrl=url, MessageBody="x")
    expect_error(sqs.receive_message, NON_EXISTENT_QUEUE, 400, QueueUrl=url)
    expect_error(sqs.get_queue_attributes, NON_EXISTENT_QUEUE, 400, QueueUrl=url, AttributeNames=["All"])
    expect_error(sqs.delete_queue, NON_EXISTENT_QUEUE, 400, QueueUrl=url)
    expect_error(sqs.purge_queue, NON_EXISTENT_QUEUE, 400, QueueUrl=url)
    expect_error(sqs.list_queue_tags, NON_EXISTENT_QUEUE, 400, QueueUrl=url)


def test_create_queue_same_name_same_attributes_returns_same_url(sqs, create_queue):
    name = unique_name()
    url = create_queue(name=name, attributes={"VisibilityTimeout": "69"})
    again = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "69"})["QueueUrl"]
    assert again == url


def test_create_queue_same_name_without_attributes_returns_same_url(sqs, create_queue):
    # Only the attributes given are compared (AWS-recorded behaviour).
    name = unique_name()
    url = create_queue(name=name, attributes={"DelaySeconds": "1", "ReceiveMessageWaitTimeSeconds": "1"})
    assert sqs.create_queue(QueueName=name)["QueueUrl"] == url
    assert sqs.create_queue(QueueName=name, Attributes={"DelaySeconds": "1"})["QueueUrl"] == url


def test_create_queue_same_name_different_attributes_fails(sqs, create_queue):
    name = unique_name()
    url = create_queue(name=name, attributes={"DelaySeconds": "1"})
    expect_error(sqs.create_queue, QUEUE_ALREADY_EXISTS, 400, QueueName=name, Attributes={"DelaySeconds": "2"})
    # after changing the attribute, the new value matches
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"DelaySeconds": "2"})
    assert sqs.create_queue(QueueName=name, Attributes={"DelaySeconds": "2"})["QueueUrl"] == url
    expect_error(sqs.create_queue, QUEUE_ALREADY_EXISTS, 400, QueueName=name, Attributes={"DelaySeconds": "1"})


def test_delete_queue(sqs, create_queue):
    name = unique_name()
    url = create_queue(name=name)
    sqs.delete_queue(QueueUrl=url)

    def gone():
        try:
            sqs.get_queue_url(QueueName=name)
            return False
        except sqs.exceptions.ClientError as e:
            return e.response["Error"]["Code"] == NON_EXISTENT_QUEUE

    wait_until(gone, timeout=5, what="deleted queue to disappear")
    expect_error(sqs.get_queue_attributes, NON_EXISTENT_QUEUE, 400, QueueUrl=url, AttributeNames=["All"])
    assert url not in sqs.list_queues(QueueNamePrefix=name).get("QueueUrls", [])


def test_recreate_queue_within_60s_of_delete_fails(sqs, create_queue):
    # API reference (CreateQueue): "If you delete a queue, you must wait at least 60 seconds before
    # creating a queue with the same name." -> QueueDeletedRecently (AWS-recorded).
    name = unique_name()
    url = create_queue(name=name)
    sqs.delete_queue(QueueUrl=url)
    err = expect_error(sqs.create_queue, QUEUE_DELETED_RECENTLY, 400, QueueName=name)
    # AWS-recorded wording.
    assert err.response["Error"]["Message"] == (
        "You must wait 60 seconds after deleting a queue before you can create another with the same name."
    )


# ----------------------------------------------------------------- list


def test_list_queues_prefix(sqs, create_queue):
    prefix = unique_name("lst")
    urls = {create_queue(name=f"{prefix}-{i}") for i in range(3)}
    other = create_queue(name=unique_name("other"))
    listed = set(sqs.list_queues(QueueNamePrefix=prefix).get("QueueUrls", []))
    assert listed == urls
    assert other not in listed
    assert "NextToken" not in sqs.list_queues(QueueNamePrefix=prefix)


def test_list_queues_without_prefix_includes_new_queue(sqs, create_queue):
    url = create_queue()
    assert url in sqs.list_queues().get("QueueUrls", [])


def test_list_queues_unknown_prefix_is_empty(sqs):
    assert sqs.list_queues(QueueNamePrefix=unique_name("nothing")).get("QueueUrls", []) == []


def test_list_queues_pagination(sqs, create_queue):
    prefix = unique_name("page")
    urls = {create_queue(name=f"{prefix}-{i}") for i in range(5)}
    seen = []
    pages = 0
    kwargs = {"QueueNamePrefix": prefix, "MaxResults": 2}
    while True:
        resp = sqs.list_queues(**kwargs)
        page = resp.get("QueueUrls", [])
        assert len(page) <= 2
        seen.extend(page)
        pages += 1
        assert pages <= 10, "pagination does not terminate"
        if not resp.get("NextToken"):
            break
        kwargs["NextToken"] = resp["NextToken"]
    assert len(seen) == len(set(seen)), f"duplicates across pages: {seen}"
    assert set(seen) == urls
    assert pages == 3


def test_list_queues_refuses_a_token_it_did_not_issue(sqs, create_queue):
    # NextToken is opaque: a crafted, truncated or foreign token is refused
    # rather than silently restarting the listing from the first page.
    prefix = unique_name("tok")
    for i in range(3):
        create_queue(name=f"{prefix}-{i}")
    token = sqs.list_queues(QueueNamePrefix=prefix, MaxResults=1)["NextToken"]
    for bad in ["garbage", "18446744073709551615", token[:-2], token + "AA"]:
        expect_error(sqs.list_queues, INVALID_PARAMETER_VALUE, 400, QueueNamePrefix=prefix, MaxResults=1, NextToken=bad)
    # The genuine token still continues the listing.
    assert len(sqs.list_queues(QueueNamePrefix=prefix, MaxResults=1, NextToken=token)["QueueUrls"]) == 1


def test_list_queues_paginator(sqs, create_queue):
    prefix = unique_name("pgn")
    urls = {create_queue(name=f"{prefix}-{i}") for i in range(3)}
    got = []
    for page in sqs.get_paginator("list_queues").paginate(QueueNamePrefix=prefix, PaginationConfig={"PageSize": 1}):
        got.extend(page.get("QueueUrls", []))
    assert sorted(got) == sorted(urls)


# ----------------------------------------------------------------- attributes


def test_default_attributes(sqs, create_queue):
    name = unique_name()
    before = time.time()
    url = create_queue(name=name)
    attrs = get_attrs(sqs, url)
    assert set(attrs) == STANDARD_ALL_KEYS, sorted(attrs)
    assert attrs["VisibilityTimeout"] == "30"
    assert attrs["MaximumMessageSize"] == "1048576"
    assert attrs["MessageRetentionPeriod"] == "345600"
    assert attrs["DelaySeconds"] == "0"
    assert attrs["ReceiveMessageWaitTimeSeconds"] == "0"
    assert attrs["SqsManagedSseEnabled"] == "true"
    assert attrs["QueueArn"] == queue_arn(name)
    assert attrs["ApproximateNumberOfMessages"] == "0"
    assert attrs["ApproximateNumberOfMessagesNotVisible"] == "0"
    assert attrs["ApproximateNumberOfMessagesDelayed"] == "0"
    created = int(attrs["CreatedTimestamp"])  # epoch seconds
    assert before - 5 <= created <= time.time() + 5
    assert abs(int(attrs["LastModifiedTimestamp"]) - created) <= 5


def test_fifo_default_attributes(sqs, create_queue):
    name = unique_name("fifo", ".fifo")
    url = create_queue(name=name, fifo=True)
    attrs = get_attrs(sqs, url)
    assert set(attrs) == STANDARD_ALL_KEYS | {
        "FifoQueue",
        "ContentBasedDeduplication",
        "DeduplicationScope",
        "FifoThroughputLimit",
    }, sorted(attrs)
    assert attrs["FifoQueue"] == "true"
    assert attrs["ContentBasedDeduplication"] == "false"
    assert attrs["DeduplicationScope"] == "queue"
    assert attrs["FifoThroughputLimit"] == "perQueue"
    assert attrs["QueueArn"] == queue_arn(name)


def test_get_specific_attributes(sqs, queue):
    attrs = get_attrs(sqs, queue, "VisibilityTimeout", "QueueArn")
    assert set(attrs) == {"VisibilityTimeout", "QueueArn"}


def test_get_attributes_without_names_returns_none(sqs, queue):
    resp = sqs.get_queue_attributes(QueueUrl=queue)
    assert resp.get("Attributes", {}) == {}


def test_get_unknown_attribute_name_fails(sqs, queue):
    expect_error(sqs.get_queue_attributes, INVALID_ATTRIBUTE_NAME, 400, QueueUrl=queue, AttributeNames=["Bogus"])


def test_create_with_attributes_and_set_attributes(sqs, create_queue):
    url = create_queue(
        attributes={
            "MessageRetentionPeriod": "604800",
            "ReceiveMessageWaitTimeSeconds": "10",
            "VisibilityTimeout": "20",
        }
    )
    attrs = get_attrs(sqs, url)
    assert attrs["MessageRetentionPeriod"] == "604800"
    assert attrs["ReceiveMessageWaitTimeSeconds"] == "10"
    assert attrs["VisibilityTimeout"] == "20"
    sqs.set_queue_attributes(
        QueueUrl=url,
        Attributes={"DelaySeconds": "420", "VisibilityTimeout": "69", "MaximumMessageSize": "2048"},
    )
    attrs = get_attrs(sqs, url)
    assert attrs["DelaySeconds"] == "420"
    assert attrs["VisibilityTimeout"] == "69"
    assert attrs["MaximumMessageSize"] == "2048"
    assert attrs["MessageRetentionPeriod"] == "604800"  # untouched
    assert set(attrs) == STANDARD_ALL_KEYS


def test_set_attributes_updates_last_modified(sqs, queue):
    before = int(get_attrs(sqs, queue, "LastModifiedTimestamp")["LastModifiedTimestamp"])
    time.sleep(1.1)
    sqs.set_queue_attributes(QueueUrl=queue, Attributes={"VisibilityTimeout": "31"})
    after = int(get_attrs(sqs, queue, "LastModifiedTimestamp")["LastModifiedTimestamp"])
    assert after >= before + 1


def test_sse_attributes_round_trip(sqs, create_queue):
    url = create_queue(attributes={"KmsMasterKeyId": "testKeyId", "KmsDataKeyReusePeriodSeconds": "6000"})
    attrs = get_attrs(sqs, url)
    assert attrs["KmsMasterKeyId"] == "testKeyId"
    assert attrs["KmsDataKeyReusePeriodSeconds"] == "6000"
    assert attrs["SqsManagedSseEnabled"] == "false"

    url2 = create_queue(attributes={"SqsManagedSseEnabled": "true"})
    attrs2 = get_attrs(sqs, url2, "KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds", "SqsManagedSseEnabled")
    assert attrs2 == {"SqsManagedSseEnabled": "true"}


def test_set_kms_then_back_to_defaults(sqs, queue):
    sqs.set_queue_attributes(
        QueueUrl=queue, Attributes={"KmsMasterKeyId": "testKeyId", "KmsDataKeyReusePeriodSeconds": "6000"}
    )
    attrs = get_attrs(sqs, queue)
    assert attrs["KmsMasterKeyId"] == "testKeyId"
    assert attrs["KmsDataKeyReusePeriodSeconds"] == "6000"
    assert attrs["SqsManagedSseEnabled"] == "false"
    sqs.set_queue_attributes(QueueUrl=queue, Attributes={"KmsMasterKeyId": "", "KmsDataKeyReusePeriodSeconds": "300"})
    attrs = get_attrs(sqs, queue)
    assert "KmsMasterKeyId" not in attrs
    assert "KmsDataKeyReusePeriodSeconds" not in attrs
    assert attrs["SqsManagedSseEnabled"] == "false"


def test_sqs_managed_sse_can_be_disabled(sqs, create_queue):
    url = create_queue(attributes={"SqsManagedSseEnabled": "false"})
    assert get_attrs(sqs, url, "SqsManagedSseEnabled") == {"SqsManagedSseEnabled": "false"}


def test_policy_attribute_round_trip(sqs, create_queue):
    name = unique_name()
    arn = queue_arn(name)
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowEvents",
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": "arn:aws:events:us-east-1:000000000000:rule/r"}},
            }
        ],
    }
    url = create_queue(name=name, attributes={"Policy": json.dumps(policy)})
    got = get_attrs(sqs, url, "Policy")["Policy"]
    assert json.loads(got) == policy
    assert "Policy" in get_attrs(sqs, url)  # "All" includes a set Policy
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": ""})
    assert "Policy" not in get_attrs(sqs, url, "Policy")


# ----------------------------------------------------------------- purge


def test_purge_queue_removes_messages(sqs, queue):
    for i in range(5):
        sqs.send_message(QueueUrl=queue, MessageBody=f"m{i}")
    # one of them in flight: purge removes in-flight messages too
    assert receive(sqs, queue, VisibilityTimeout=30)
    sqs.purge_queue(QueueUrl=queue)
    wait_until(lambda: counts(sqs, queue)[:2] == (0, 0), timeout=5, what="purge to empty the queue")
    assert receive(sqs, queue, WaitTimeSeconds=1) == []


def test_purge_twice_within_60s_fails(sqs, queue):
    sqs.purge_queue(QueueUrl=queue)
    expect_error(sqs.purge_queue, PURGE_IN_PROGRESS, 403, QueueUrl=queue)


# ----------------------------------------------------------------- URLs, accounts, regions


@pytest.mark.parametrize(
    "host",
    [
        "https://sqs.us-east-1.amazonaws.com",
        "https://queue.amazonaws.com",
        "https://us-east-1.queue.amazonaws.com",
        "http://localhost:4566",
    ],
)
def test_queue_url_with_other_host_is_accepted(sqs, create_queue, host):
    name = unique_name()
    create_queue(name=name)
    foreign = f"{host}/{ACCOUNT}/{name}"
    sqs.send_message(QueueUrl=foreign, MessageBody="via foreign url")
    msgs = receive(sqs, foreign, WaitTimeSeconds=2)
    assert [m["Body"] for m in msgs] == ["via foreign url"]
    assert get_attrs(sqs, foreign, "QueueArn")["QueueArn"] == queue_arn(name)


def test_client_pointed_at_queue_url(sqs_factory, create_queue):
    # Some SDKs (PHP, JS v3 useQueueUrlAsEndpoint, Java v1) send requests to the queue URL itself.
    url = create_queue()
    client = sqs_factory(endpoint_url=url)
    client.send_message(QueueUrl=url, MessageBody="to the queue path")
    msgs = receive(client, url, WaitTimeSeconds=2)
    assert [m["Body"] for m in msgs] == ["to the queue path"]


def test_twelve_digit_access_key_is_the_account(sqs, sqs_factory, endpoint, create_queue):
    other = sqs_factory(account_key="111122223333")
    name = unique_name("acct")
    url = create_queue(name=name, client=other)
    assert url == f"{endpoint}/queue/{REGION}/111122223333/{name}"
    assert get_attrs(other, url, "QueueArn")["QueueArn"] == queue_arn(name, account="111122223333")
    # not visible to the default account
    assert url not in sqs.list_queues(QueueNamePrefix=name).get("QueueUrls", [])
    expect_error(sqs.get_queue_url, NON_EXISTENT_QUEUE, 400, QueueName=name)
    # the same name can exist in both accounts, independently
    mine = create_queue(name=name)
    assert mine == f"{endpoint}/queue/{REGION}/{ACCOUNT}/{name}"
    other.send_message(QueueUrl=url, MessageBody="other account")
    assert receive(sqs, mine, WaitTimeSeconds=1) == []
    assert [m["Body"] for m in receive(other, url, WaitTimeSeconds=2)] == ["other account"]


def test_non_numeric_access_key_maps_to_default_account(sqs_factory, endpoint, create_queue):
    client = sqs_factory(account_key="AKIAIOSFODNN7EXAMPLE")
    name = unique_name()
    url = create_queue(name=name, client=client)
    assert url == f"{endpoint}/queue/{REGION}/{ACCOUNT}/{name}"


def test_same_name_in_two_regions_has_two_urls(sqs, sqs_factory, create_queue):
    # AWS's queue URLs name the region; a URL taken from one region keeps
    # naming that region's queue whichever client uses it.
    west = sqs_factory(region="us-west-2")
    name = unique_name("twin")
    east_url = create_queue(name=name)
    west_url = create_queue(name=name, client=west)
    assert east_url != west_url
    assert "/us-west-2/" in west_url
    assert west.get_queue_url(QueueName=name)["QueueUrl"] == west_url
    assert sqs.get_queue_url(QueueName=name)["QueueUrl"] == east_url
    west.send_message(QueueUrl=west_url, MessageBody="west")
    assert receive(sqs, east_url, WaitTimeSeconds=1) == []
    assert [m["Body"] for m in receive(sqs, west_url, WaitTimeSeconds=2)] == ["west"]


def test_queue_url_built_from_the_endpoint_is_accepted(sqs, endpoint, create_queue):
    # Clients that build `{endpoint}/{account}/{name}` themselves keep working (caller's region).
    name = unique_name()
    create_queue(name=name)
    built = f"{endpoint}/{ACCOUNT}/{name}"
    sqs.send_message(QueueUrl=built, MessageBody="built")
    assert get_attrs(sqs, built, "QueueArn")["QueueArn"] == queue_arn(name)


def test_bare_queue_name_as_queue_url(sqs, create_queue):
    # AWS accepts a queue's name where its URL is expected.
    name = unique_name()
    url = create_queue(name=name)
    r = sqs.send_message(QueueUrl=name, MessageBody="Using name instead of URL")
    assert r["MD5OfMessageBody"] == "86a83f96652a1bfad3891e7d523750cb"
    assert [m["Body"] for m in receive(sqs, url, WaitTimeSeconds=2)] == ["Using name instead of URL"]


def test_region_from_credential_scope(sqs, sqs_factory, create_queue):
    west = sqs_factory(region="us-west-2")
    name = unique_name("west")
    url = create_queue(name=name, client=west)
    assert get_attrs(west, url, "QueueArn")["QueueArn"] == f"arn:aws:sqs:us-west-2:{ACCOUNT}:{name}"
    assert sqs.list_queues(QueueNamePrefix=name).get("QueueUrls", []) == []
