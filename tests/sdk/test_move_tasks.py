"""StartMessageMoveTask / ListMessageMoveTasks / CancelMessageMoveTask (DLQ redrive)."""

import base64
import json
import time
import uuid

import pytest
from botocore.exceptions import ClientError

from conftest import unique_name
from sqs_helpers import (
    assert_responsive,
    mutual_dlqs,
    send_many,
    INVALID_PARAMETER_VALUE,
    RESOURCE_NOT_FOUND,
    counts,
    expect_error,
    get_arn,
    receive,
    wait_until,
)


@pytest.fixture
def dlq_pipe(sqs, create_queue):
    """(source_url, dlq_url) with maxReceiveCount 1; fill(n) pushes n messages into the DLQ."""
    return make_dlq_pipe(sqs, create_queue)


def make_dlq_pipe(sqs, create_queue):
    dlq = create_queue(name=unique_name("dlq"), client=sqs)
    src = create_queue(
        name=unique_name("src"),
        attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": get_arn(sqs, dlq), "maxReceiveCount": 1})},
        client=sqs,
    )

    def fill(n):
        bodies = [f"message-{i}" for i in range(n)]
        for start in range(0, n, 10):
            sqs.send_message_batch(
                QueueUrl=src,
                Entries=[{"Id": str(i), "MessageBody": b} for i, b in enumerate(bodies[start : start + 10])],
            )
        # first receive: count 1; second attempt moves them (maxReceiveCount 1)
        deadline = time.monotonic() + 15
        while counts(sqs, dlq)[0] < n and time.monotonic() < deadline:
            receive(sqs, src, MaxNumberOfMessages=10, VisibilityTimeout=0)
        wait_until(lambda: counts(sqs, dlq)[0] == n, timeout=5, what=f"{n} messages in the DLQ")
        return set(bodies)

    return src, dlq, fill


def _collect_bodies(sqs, url, n, timeout=10):
    out = []
    deadline = time.monotonic() + timeout
    while len(out) < n and time.monotonic() < deadline:
        msgs = receive(sqs, url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        out += [m["Body"] for m in msgs]
        for m in msgs:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return out


def test_move_task_to_explicit_destination(sqs, create_queue, dlq_pipe):
    src, dlq, fill = dlq_pipe
    bodies = fill(2)
    dest = create_queue(name=unique_name("dest"))
    dlq_arn, dest_arn = get_arn(sqs, dlq), get_arn(sqs, dest)
    handle = sqs.start_message_move_task(SourceArn=dlq_arn, DestinationArn=dest_arn)["TaskHandle"]
    assert handle
    assert sorted(_collect_bodies(sqs, dest, 2)) == sorted(bodies)

    def completed():
        res = sqs.list_message_move_tasks(SourceArn=dlq_arn).get("Results", [])
        return res if res and res[0]["Status"] == "COMPLETED" else None

    res = wait_until(completed, timeout=15, interval=0.5, what="move task COMPLETED")
    task = res[0]
    assert task["SourceArn"] == dlq_arn
    assert task["DestinationArn"] == dest_arn
    assert int(task["ApproximateNumberOfMessagesMoved"]) == 2
    assert int(task["ApproximateNumberOfMessagesToMove"]) == 2
    assert task["StartedTimestamp"]
    assert receive(sqs, dlq, WaitTimeSeconds=1) == []


def test_move_task_back_to_original_source(sqs, dlq_pipe):
    src, dlq, fill = dlq_pipe
    bodies = fill(3)
    dlq_arn = get_arn(sqs, dlq)
    sqs.start_message_move_task(SourceArn=dlq_arn)
    assert sorted(_collect_bodies(sqs, src, 3)) == sorted(bodies)

    def completed():
        res = sqs.list_message_move_tasks(SourceArn=dlq_arn).get("Results", [])
        return res if res and res[0]["Status"] == "COMPLETED" else None

    task = wait_until(completed, timeout=15, interval=0.5, what="move task COMPLETED")[0]
    assert int(task["ApproximateNumberOfMessagesMoved"]) == 3
    assert receive(sqs, dlq, WaitTimeSeconds=1) == []


def test_cancel_running_task(sqs, create_queue, dlq_pipe):
    src, dlq, fill = dlq_pipe
    fill(10)
    dest = create_queue()
    dlq_arn, dest_arn = get_arn(sqs, dlq), get_arn(sqs, dest)
    handle = sqs.start_message_move_task(SourceArn=dlq_arn, DestinationArn=dest_arn, MaxNumberOfMessagesPerSecond=1)[
        "TaskHandle"
    ]
    # only one active task per source queue
    expect_error(sqs.start_message_move_task, INVALID_PARAMETER_VALUE, 400, SourceArn=dlq_arn, DestinationArn=dest_arn)
    time.sleep(1.5)
    running = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"][0]
    assert running["Status"] == "RUNNING"
    assert running["TaskHandle"] == handle
    assert int(running["MaxNumberOfMessagesPerSecond"]) == 1
    assert int(running["ApproximateNumberOfMessagesToMove"]) == 10
    cancelled = sqs.cancel_message_move_task(TaskHandle=handle)
    moved_at_cancel = int(cancelled["ApproximateNumberOfMessagesMoved"])
    assert moved_at_cancel < 10

    def final():
        res = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"]
        return res if res[0]["Status"] == "CANCELLED" else None

    wait_until(final, timeout=10, interval=0.5, what="CANCELLED")
    time.sleep(1.5)
    moved = counts(sqs, dest)[0]
    left = counts(sqs, dlq)[0]
    assert moved < 10 and moved + left == 10, (moved, left)


def test_cancel_finished_task_fails(sqs, create_queue, dlq_pipe):
    # "A message movement can only be cancelled when the current status is RUNNING."
    src, dlq, fill = dlq_pipe
    fill(1)
    dlq_arn = get_arn(sqs, dlq)
    handle = sqs.start_message_move_task(SourceArn=dlq_arn)["TaskHandle"]
    wait_until(
        lambda: sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"][0]["Status"] == "COMPLETED",
        timeout=15,
        interval=0.5,
        what="COMPLETED",
    )
    with pytest.raises(ClientError) as info:
        sqs.cancel_message_move_task(TaskHandle=handle)
    status = info.value.response["ResponseMetadata"]["HTTPStatusCode"]
    assert 400 <= status < 500, info.value.response


def test_cancel_with_invalid_handle(sqs):
    err = expect_error(sqs.cancel_message_move_task, INVALID_PARAMETER_VALUE, 400, TaskHandle="foobared")
    # AWS-recorded: the value is not echoed.
    assert err.response["Error"]["Message"] == "Value for parameter TaskHandle is invalid."


def _handle(task_id, source_arn):
    # AWS's task handles: standard base64 of {"taskId", "sourceArn"}.
    return base64.b64encode(json.dumps({"taskId": task_id, "sourceArn": source_arn}).encode()).decode()


def test_cancel_with_handle_of_unknown_source_or_task(sqs, dlq_pipe):
    src, dlq, fill = dlq_pipe
    missing_queue = f"arn:aws:sqs:us-east-1:000000000000:{unique_name('nope')}"
    err = expect_error(
        sqs.cancel_message_move_task, RESOURCE_NOT_FOUND, 404, TaskHandle=_handle(str(uuid.uuid4()), missing_queue)
    )
    assert err.response["Error"]["Message"] == "The resource that you specified for the SourceArn parameter doesn't exist."
    err = expect_error(
        sqs.cancel_message_move_task, RESOURCE_NOT_FOUND, 404, TaskHandle=_handle(str(uuid.uuid4()), get_arn(sqs, dlq))
    )
    assert err.response["Error"]["Message"] == "Task does not exist."


def test_task_handle_is_standard_base64_json(sqs, dlq_pipe):
    src, dlq, fill = dlq_pipe
    fill(3)
    handle = sqs.start_message_move_task(SourceArn=get_arn(sqs, dlq))["TaskHandle"]
    doc = json.loads(base64.b64decode(handle))
    assert doc["sourceArn"] == get_arn(sqs, dlq) and uuid.UUID(doc["taskId"])


def test_source_must_be_a_dlq(sqs, create_queue):
    a, b = create_queue(), create_queue()
    expect_error(
        sqs.start_message_move_task,
        INVALID_PARAMETER_VALUE,
        400,
        SourceArn=get_arn(sqs, a),
        DestinationArn=get_arn(sqs, b),
    )


def test_destination_must_exist(sqs, dlq_pipe):
    src, dlq, fill = dlq_pipe
    expect_error(
        sqs.start_message_move_task,
        RESOURCE_NOT_FOUND,
        404,
        SourceArn=get_arn(sqs, dlq),
        DestinationArn=get_arn(sqs, src) + "doesntexist",
    )


def test_source_must_exist(sqs):
    expect_error(
        sqs.start_message_move_task,
        RESOURCE_NOT_FOUND,
        404,
        SourceArn=f"arn:aws:sqs:us-east-1:000000000000:{unique_name('nope')}",
    )


def test_list_move_tasks_empty(sqs, dlq_pipe):
    src, dlq, fill = dlq_pipe
    assert sqs.list_message_move_tasks(SourceArn=get_arn(sqs, dlq)).get("Results", []) == []


# --------------------------------------------------------------------------- abuse (issue 9)
# Before issue 9, a task moving a queue into itself, or two tasks moving two
# mutual dead-letter queues into each other, deadlocked eddy for good. Every
# client here has short timeouts, and each test ends with a health check that
# must answer within 1 s, so a regression fails fast instead of hanging.


@pytest.fixture
def quick_sqs(sqs_factory):
    return sqs_factory(read_timeout=5, connect_timeout=2)


@pytest.fixture
def quick_create_queue(quick_sqs, create_queue):
    return lambda **kw: create_queue(**{**kw, "client": quick_sqs})


def test_destination_same_as_source_is_refused(quick_sqs, endpoint, quick_create_queue):
    src, dlq, fill = make_dlq_pipe(quick_sqs, quick_create_queue)
    fill(3)
    dlq_arn = get_arn(quick_sqs, dlq)
    err = expect_error(
        quick_sqs.start_message_move_task, INVALID_PARAMETER_VALUE, 400, SourceArn=dlq_arn, DestinationArn=dlq_arn
    )
    assert "same" in err.response["Error"]["Message"], err.response
    assert quick_sqs.list_message_move_tasks(SourceArn=dlq_arn).get("Results", []) == []
    assert_responsive(endpoint)
    assert counts(quick_sqs, dlq)[0] == 3


def test_move_tasks_both_ways_between_mutual_dlqs(quick_sqs, endpoint, quick_create_queue):
    a, b = mutual_dlqs(quick_sqs, quick_create_queue)
    send_many(quick_sqs, a, 100, "a")
    send_many(quick_sqs, b, 100, "b")
    a_arn, b_arn = get_arn(quick_sqs, a), get_arn(quick_sqs, b)
    quick_sqs.start_message_move_task(SourceArn=a_arn, DestinationArn=b_arn)
    quick_sqs.start_message_move_task(SourceArn=b_arn, DestinationArn=a_arn)
    for arn in (a_arn, b_arn):
        wait_until(
            lambda: quick_sqs.list_message_move_tasks(SourceArn=arn)["Results"][0]["Status"] == "COMPLETED",
            timeout=15,
            interval=0.2,
            what="move task COMPLETED",
        )
    assert_responsive(endpoint)
    assert counts(quick_sqs, a)[0] + counts(quick_sqs, b)[0] == 200


@pytest.mark.restart
def test_task_whose_destination_vanished_fails_after_restart(sqs, endpoint, create_queue, dlq_pipe, restart_server):
    """A persisted RUNNING task that can no longer run is marked FAILED on recovery, not resumed."""
    src, dlq, fill = dlq_pipe
    fill(5)
    dest = create_queue()
    dlq_arn, dest_arn = get_arn(sqs, dlq), get_arn(sqs, dest)
    sqs.start_message_move_task(SourceArn=dlq_arn, DestinationArn=dest_arn, MaxNumberOfMessagesPerSecond=1)
    sqs.delete_queue(QueueUrl=dest)
    restart_server(hard=True)
    assert_responsive(endpoint)
    task = wait_until(
        lambda: (r := sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"][0])["Status"] == "FAILED" and r,
        timeout=5,
        what="FAILED",
    )
    assert task["FailureReason"] == "AWS.SimpleQueueService.NonExistentQueue"
    assert "TaskHandle" not in task
    # At one message a second, at most a couple moved before the destination went away.
    assert 3 <= counts(sqs, dlq)[0] <= 5
