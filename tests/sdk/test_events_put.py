"""EventBridge PutEvents request validation and per-entry results, and TestEventPattern.

Sources: EventBridge API reference (PutEvents: "Entries: … Minimum number of 1 item. Maximum
number of 10 items", PutEventsResultEntry; TestEventPattern: "the following fields are mandatory:
id, account, source, time, region, detail-type") and AWS-recorded responses in LocalStack's
tests/aws/services/events/:
  test_events.snapshot.json TestEvents::test_put_events_without_source / _without_detail /
  _without_detail_type (ErrorCode "InvalidArgument", "Parameter Source is not valid. Reason: Source
  is a required argument." …), test_put_event_malformed_detail[STRING|ARRAY|MALFORMED_JSON|
  SERIALIZED_STRING] ("MalformedDetail", "Detail is malformed."), test_put_events_exceed_limit_ten_entries
  (ValidationException "… Member must have length less than or equal to 10"),
  TestEventBus::test_put_events_nonexistent_event_bus (an entry for a bus that does not exist is
  accepted with an EventId and goes nowhere; also aws/aws-cli#9186);
  test_events_patterns.snapshot.json TestEventPattern::test_event_pattern_source (true/false),
  test_invalid_json_event_pattern (InvalidEventPatternException "Event pattern is not valid. Reason: …"),
  test_plain_string_payload / test_invalid_event_payload / test_array_event_payload (ValidationException
  "Parameter Event is not valid.").
"""

import json
from datetime import datetime, timezone

import pytest

from conftest import make_client, unique_name
from events_helpers import (
    ACCOUNT,
    INVALID_PATTERN,
    SKIP_SECOND_PASS,
    VALIDATION,
    entry,
    expect_events_error,
    new_source,
)

pytestmark = SKIP_SECOND_PASS


def _one(events, e: dict) -> dict:
    resp = events.put_events(Entries=[e])
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert len(resp["Entries"]) == 1
    return resp


# ----------------------------------------------------------------- per-entry results


def test_accepted_entry_gets_an_event_id(events):
    resp = _one(events, entry(new_source()))
    assert resp["FailedEntryCount"] == 0
    r = resp["Entries"][0]
    assert r.get("EventId")
    assert "ErrorCode" not in r


def test_event_ids_are_unique(events):
    src = new_source()
    resp = events.put_events(Entries=[entry(src) for _ in range(10)])
    assert resp["FailedEntryCount"] == 0
    ids = [e["EventId"] for e in resp["Entries"]]
    assert len(set(ids)) == 10


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("Source", None, "Parameter Source is not valid. Reason: Source is a required argument."),
        ("DetailType", "", "Parameter DetailType is not valid. Reason: DetailType is a required argument."),
        ("Detail", None, "Parameter Detail is not valid. Reason: Detail is a required argument."),
    ],
    ids=["no-source", "empty-detail-type", "no-detail"],
)
def test_missing_field_fails_the_entry(events, field, value, message):
    e = entry(new_source())
    if value is None:
        del e[field]
    else:
        e[field] = value
    resp = _one(events, e)
    assert resp["FailedEntryCount"] == 1
    r = resp["Entries"][0]
    assert r["ErrorCode"] == "InvalidArgument"
    assert r["ErrorMessage"] == message
    assert "EventId" not in r


@pytest.mark.parametrize(
    "detail",
    ["NotJSON", "[]", "{{}", json.dumps("NotJSON")],
    ids=["not-json", "array", "malformed", "json-string"],
)
def test_detail_must_be_a_json_object(events, detail):
    resp = _one(events, entry(new_source(), detail=detail))
    assert resp["FailedEntryCount"] == 1
    r = resp["Entries"][0]
    assert r["ErrorCode"] == "MalformedDetail"
    assert r["ErrorMessage"] == "Detail is malformed."


def test_aws_sources_are_reserved(events):
    """PutEventsResultEntry.ErrorCode (botocore model): NotAuthorizedForSourceException; AWS CLI output
    quoted in aws-samples/serverless-patterns#3089 (Source "aws.aidevops" -> "Not authorized for the
    source…")."""
    resp = _one(events, entry("aws.eddytest"))
    assert resp["FailedEntryCount"] == 1
    r = resp["Entries"][0]
    assert r["ErrorCode"] == "NotAuthorizedForSourceException"
    assert r["ErrorMessage"].startswith("Not authorized for the source")
    assert "EventId" not in r


def test_mixed_batch_keeps_entry_order(events):
    src = new_source()
    bad = entry(src)
    del bad["Source"]
    entries = [entry(src), bad, entry(src, detail="[1]"), entry(src)]
    resp = events.put_events(Entries=entries)
    assert resp["FailedEntryCount"] == 2
    r = resp["Entries"]
    assert len(r) == 4
    assert r[0].get("EventId") and r[3].get("EventId")
    assert r[1]["ErrorCode"] == "InvalidArgument" and "EventId" not in r[1]
    assert r[2]["ErrorCode"] == "MalformedDetail" and "EventId" not in r[2]


def test_more_than_ten_entries_is_a_validation_error(endpoint):
    client = make_client(endpoint, service="events", parameter_validation=False)
    err = expect_events_error(client.put_events, VALIDATION, Entries=[entry(new_source()) for _ in range(11)])
    assert "Member must have length less than or equal to 10" in err.response["Error"]["Message"]


def test_too_big_request_is_a_validation_error(events):
    """test_events.snapshot.json TestEvents::test_put_event_with_too_big_detail (256 KiB in all)."""
    big = entry(new_source(), detail={"payload": ["p" * (256 * 1024 - 17)]})
    expect_events_error(events.put_events, VALIDATION, "Total size of the entries in the request is over the limit.", Entries=[big])


def test_entry_for_a_missing_bus_is_accepted(events):
    bus = unique_name("nobus")
    resp = _one(events, entry(new_source(), EventBusName=bus))
    assert resp["FailedEntryCount"] == 0
    assert resp["Entries"][0].get("EventId")
    # and the bus was not created by it
    expect_events_error(events.describe_event_bus, "ResourceNotFoundException", Name=bus)


def test_entry_with_time_and_resources_is_accepted(events):
    resp = _one(
        events,
        entry(new_source(), Time=datetime(2021, 3, 4, 5, 6, 7, tzinfo=timezone.utc), Resources=["arn:aws:s3:::bucket"]),
    )
    assert resp["FailedEntryCount"] == 0


# ----------------------------------------------------------------- TestEventPattern


def _event(**over) -> str:
    e = {
        "id": "1",
        "source": "order",
        "detail-type": "Test",
        "account": ACCOUNT,
        "region": "us-east-1",
        "time": "2024-07-11T13:55:39Z",
    }
    e.update(over)
    return json.dumps(e)


def test_pattern_matches(events):
    resp = events.test_event_pattern(Event=_event(), EventPattern=json.dumps({"source": ["order"], "detail-type": ["Test"]}))
    assert resp["Result"] is True


def test_pattern_does_not_match(events):
    resp = events.test_event_pattern(Event=_event(), EventPattern=json.dumps({"source": ["shipping"]}))
    assert resp["Result"] is False


def test_pattern_on_detail(events):
    ev = _event(resources=[], detail={"state": "running", "n": 5})
    assert events.test_event_pattern(Event=ev, EventPattern=json.dumps({"detail": {"state": ["running"]}}))["Result"] is True
    assert events.test_event_pattern(Event=ev, EventPattern=json.dumps({"detail": {"n": [{"numeric": [">", 10]}]}}))["Result"] is False
    assert events.test_event_pattern(Event=ev, EventPattern=json.dumps({"detail": {"state": [{"prefix": "run"}]}}))["Result"] is True


@pytest.mark.parametrize(
    "pattern",
    ["this is valid json but not a dict", "{'bad': 'quotation'}", '["not", "a", "dict"]', '{"source": "order"}'],
    ids=["not-json", "single-quotes", "array", "bare-string"],
)
def test_invalid_pattern(events, pattern):
    expect_events_error(
        events.test_event_pattern, INVALID_PATTERN, message_prefix="Event pattern is not valid. Reason: ",
        Event=_event(), EventPattern=pattern,
    )


@pytest.mark.parametrize(
    "event",
    ["plain string", json.dumps(["plain string"]), json.dumps({"testEvent": "value"})],
    ids=["plain-string", "array", "missing-fields"],
)
def test_invalid_event(events, event):
    expect_events_error(
        events.test_event_pattern, VALIDATION, "Parameter Event is not valid.",
        Event=event, EventPattern=json.dumps({"source": ["order"]}),
    )
