"""EventBridge target dead-letter queues (Target.DeadLetterConfig).

Source: EventBridge user guide, "Using dead-letter queues to process undelivered events"
(https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html): errors from missing
permissions to a target or a target resource that no longer exists are not retried; the event goes
straight to the target's DLQ, a standard SQS queue whose policy must let events.amazonaws.com
sqs:SendMessage with aws:SourceArn = the rule ARN; each DLQ message carries the custom attributes
RULE_ARN, TARGET_ARN, ERROR_CODE and ERROR_MESSAGE, and its body is the event.
"""

import json

from events_helpers import (
    SKIP_SECOND_PASS,
    allow_events,
    assert_event_envelope,
    assert_no_more,
    entry,
    new_source,
    pattern_for,
    put_ok,
    wait_one,
)
from sqs_helpers import get_arn, queue_arn

pytestmark = SKIP_SECOND_PASS

DLQ_ATTRIBUTES = {"RULE_ARN", "TARGET_ARN", "ERROR_CODE", "ERROR_MESSAGE"}


def _check_dlq_message(m: dict, rule: str, target: str, src: str, event_id: str) -> None:
    attrs = m.get("MessageAttributes", {})
    assert DLQ_ATTRIBUTES <= set(attrs), f"DLQ message attributes: {sorted(attrs)}"
    assert attrs["RULE_ARN"]["StringValue"] == rule
    assert attrs["TARGET_ARN"]["StringValue"] == target
    assert attrs["ERROR_CODE"].get("StringValue"), attrs["ERROR_CODE"]
    assert attrs["ERROR_MESSAGE"].get("StringValue") is not None
    event = json.loads(m["Body"])
    assert_event_envelope(event, src, "thing.happened", {"k": "v"}, event_id=event_id)


def test_deleted_target_queue_goes_to_dlq(events, sqs, put_rule, create_queue):
    src = new_source()
    name, arn = put_rule(pattern=pattern_for(src))
    target = create_queue()
    target_arn = get_arn(sqs, target)
    sqs.delete_queue(QueueUrl=target)
    dlq = create_queue()
    dlq_arn = allow_events(sqs, dlq, arn)
    resp = events.put_targets(Rule=name, Targets=[{"Id": "t", "Arn": target_arn, "DeadLetterConfig": {"Arn": dlq_arn}}])
    assert resp["FailedEntryCount"] == 0
    [event_id] = put_ok(events, [entry(src)])
    m = wait_one(sqs, dlq, MessageAttributeNames=["All"])
    _check_dlq_message(m, arn, target_arn, src, event_id)


def test_never_existing_target_queue_goes_to_dlq(events, sqs, put_rule, create_queue):
    src = new_source()
    name, arn = put_rule(pattern=pattern_for(src))
    target_arn = queue_arn(f"never-{new_source().replace('.', '-')}")
    dlq = create_queue()
    dlq_arn = allow_events(sqs, dlq, arn)
    events.put_targets(Rule=name, Targets=[{"Id": "t", "Arn": target_arn, "DeadLetterConfig": {"Arn": dlq_arn}}])
    [event_id] = put_ok(events, [entry(src)])
    _check_dlq_message(wait_one(sqs, dlq, MessageAttributeNames=["All"]), arn, target_arn, src, event_id)


def test_target_denied_by_policy_goes_to_dlq(events, sqs, put_rule, create_queue):
    src = new_source()
    name, arn = put_rule(pattern=pattern_for(src))
    target = create_queue()  # no policy for the rule
    target_arn = get_arn(sqs, target)
    dlq = create_queue()
    dlq_arn = allow_events(sqs, dlq, arn)
    events.put_targets(Rule=name, Targets=[{"Id": "t", "Arn": target_arn, "DeadLetterConfig": {"Arn": dlq_arn}}])
    [event_id] = put_ok(events, [entry(src)])
    _check_dlq_message(wait_one(sqs, dlq, MessageAttributeNames=["All"]), arn, target_arn, src, event_id)
    assert_no_more(sqs, target, wait=0)


def test_successful_delivery_leaves_dlq_empty(events, sqs, put_rule, create_queue):
    src = new_source()
    name, arn = put_rule(pattern=pattern_for(src))
    target, dlq = create_queue(), create_queue()
    target_arn, dlq_arn = allow_events(sqs, target, arn), allow_events(sqs, dlq, arn)
    events.put_targets(Rule=name, Targets=[{"Id": "t", "Arn": target_arn, "DeadLetterConfig": {"Arn": dlq_arn}}])
    [event_id] = put_ok(events, [entry(src)])
    assert json.loads(wait_one(sqs, target)["Body"])["id"] == event_id
    assert_no_more(sqs, dlq)


def test_dead_letter_config_is_listed(events, sqs, put_rule, create_queue):
    name, _ = put_rule(pattern=pattern_for(new_source()))
    target_arn, dlq_arn = get_arn(sqs, create_queue()), get_arn(sqs, create_queue())
    events.put_targets(
        Rule=name,
        Targets=[{"Id": "t", "Arn": target_arn, "DeadLetterConfig": {"Arn": dlq_arn}, "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 120}}],
    )
    [t] = events.list_targets_by_rule(Rule=name)["Targets"]
    assert t["DeadLetterConfig"] == {"Arn": dlq_arn}
    assert t["RetryPolicy"] == {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 120}
