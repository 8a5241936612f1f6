"""StartMessageMoveTask / ListMessageMoveTasks / CancelMessageMoveTask (DLQ redrive)."""

import json
import time

import pytest
from botocore.exceptions import ClientError

from conftest import unique_name
from sqs_helpers import (
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
    dlq = create_queue(name=unique_name("dlq"))
    src = create_queue(
        name=unique_name("src"),
        attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": get_arn(sqs, dlq), "maxReceiveCount": 1})},
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
    expect_error(sqs.cancel_message_move_task, INVALID_PARAMETER_VALUE, 400, TaskHandle="foobared")


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
