"""EventBridge archives and replays: CreateArchive/DescribeArchive/ListArchives/UpdateArchive/
DeleteArchive, StartReplay/DescribeReplay/ListReplays/CancelReplay, and replayed events reaching
the rules of the archive's bus.

Sources: the EventBridge API reference and botocore model (CreateArchive: "If you do not specify a
pattern ... all events are sent to the archive except replayed events. Replayed events are not sent
to an archive."; StartReplay: events are replayed "based on the time in the event", only those
"between the EventStartTime and EventEndTime"; ReplayState; IllegalStatusException: "a replay can be
canceled only when the state is Running or Starting"), the user guide ("Archiving Amazon
EventBridge events": EventCount/SizeBytes; "Replaying archived Amazon EventBridge events": replay
"only to the same event bus that emitted the events", to all its rules or to FilterArns rules), and
responses recorded against AWS in LocalStack's tests/aws/services/events/
test_archive_and_replay.snapshot.json (cited as `::<test name>`): ARNs archive/<name> and
replay/<name>, State ENABLED / STARTING / COMPLETED, the ListArchives and ListReplays entry fields,
the replayed event = the envelope plus "replay-name", and every error code and message below.

AWS archives asynchronously (minutes); these tests poll DescribeArchive briefly instead. A replay's
EventEndTime is set a little after the archived events' time (whole seconds, as the event `time`
field has), once the clock has passed it.
"""

import json
import time
from datetime import datetime, timedelta, timezone

import pytest

from conftest import unique_name
from events_helpers import (
    ALREADY_EXISTS,
    EVENT_FIELDS,
    ILLEGAL_STATUS,
    INVALID_PATTERN,
    NOT_FOUND,
    SKIP_SECOND_PASS,
    VALIDATION,
    archive_arn,
    assert_event_envelope,
    assert_no_more,
    bus_arn,
    entry,
    expect_events_error,
    new_source,
    pattern_for,
    put_ok,
    replay_arn,
    rule_to_queue,
    wait_archive_count,
    wait_bodies,
    wait_replay_state,
    whole_seconds,
)

pytestmark = SKIP_SECOND_PASS

LIST_ARCHIVE_FIELDS = {"ArchiveName", "CreationTime", "EventCount", "EventSourceArn", "RetentionDays", "SizeBytes", "State"}
LIST_REPLAY_FIELDS = {"EventEndTime", "EventSourceArn", "EventStartTime", "ReplayEndTime", "ReplayName", "ReplayStartTime", "State"}


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _past_window() -> tuple[datetime, datetime]:
    """A time range wholly in the past (for StartReplay calls that do not need events)."""
    end = whole_seconds(_now()) - timedelta(seconds=30)
    return end - timedelta(minutes=1), end


def _archived(events, create_event_bus, create_archive, n: int = 2, pattern: bool = True):
    """A fresh bus with an archive (pattern = this test's source unless pattern=False), n matching
    events put and archived, and the clock past their time. Returns (bus, archive name, archive
    ARN, source, event ids, event time, start, end)."""
    bus = create_event_bus()
    src = new_source()
    extra = {"EventPattern": pattern_for(src)} if pattern else {}
    name, arn = create_archive(bus_arn(bus), RetentionDays=1, **extra)
    t = whole_seconds(_now())
    ids = put_ok(events, [entry(src, detail={"n": i}, EventBusName=bus, Time=t) for i in range(n)])
    wait_archive_count(events, name, n)
    end = t + timedelta(seconds=1)
    while _now() <= end + timedelta(milliseconds=100):
        time.sleep(0.05)
    return bus, name, arn, src, ids, t, t - timedelta(seconds=1), end


# ----------------------------------------------------------------- archives


@pytest.mark.parametrize("bus_kind", ["default", "custom"])
def test_create_describe_list_update_delete_archive(events, create_event_bus, create_archive, bus_kind):
    """::test_create_list_describe_update_delete_archive[default|custom]"""
    bus = "default" if bus_kind == "default" else create_event_bus()
    pattern = {"source": ["core.update-account-command"], "detail": {"command": ["update-account"]}}
    name = unique_name("archive")
    resp = events.create_archive(
        ArchiveName=name, EventSourceArn=bus_arn(bus), Description="description of the archive",
        EventPattern=json.dumps(pattern), RetentionDays=1,
    )
    try:
        assert resp["ArchiveArn"] == archive_arn(name)
        assert resp["State"] == "ENABLED"
        assert isinstance(resp["CreationTime"], datetime)

        desc = events.describe_archive(ArchiveName=name)
        assert desc["ArchiveArn"] == archive_arn(name)
        assert desc["ArchiveName"] == name
        assert desc["EventSourceArn"] == bus_arn(bus)
        assert desc["Description"] == "description of the archive"
        assert json.loads(desc["EventPattern"]) == pattern
        assert desc["RetentionDays"] == 1
        assert desc["EventCount"] == 0 and desc["SizeBytes"] == 0
        assert desc["State"] == "ENABLED"

        [listed] = events.list_archives(NamePrefix=name)["Archives"]
        assert set(listed) == LIST_ARCHIVE_FIELDS, sorted(listed)
        assert (listed["ArchiveName"], listed["EventSourceArn"], listed["State"]) == (name, bus_arn(bus), "ENABLED")

        new_pattern = {"source": ["other.source"]}
        up = events.update_archive(ArchiveName=name, Description="updated", RetentionDays=7, EventPattern=json.dumps(new_pattern))
        assert up["ArchiveArn"] == archive_arn(name) and up["State"] == "ENABLED"
        desc = events.describe_archive(ArchiveName=name)
        assert desc["Description"] == "updated" and desc["RetentionDays"] == 7
        assert json.loads(desc["EventPattern"]) == new_pattern
    finally:
        events.delete_archive(ArchiveName=name)
    expect_events_error(events.describe_archive, NOT_FOUND, f"Archive {name} does not exist.", ArchiveName=name)
    assert events.list_archives(NamePrefix=name)["Archives"] == []


def test_create_archive_duplicate(events, create_archive):
    """::test_create_archive_error_duplicate"""
    name, _ = create_archive(bus_arn())
    expect_events_error(events.create_archive, ALREADY_EXISTS, f"Archive {name} already exists.",
                        ArchiveName=name, EventSourceArn=bus_arn())


def test_create_archive_unknown_bus(events):
    """::test_create_archive_error_unknown_event_bus"""
    missing = unique_name("nobus")
    expect_events_error(events.create_archive, NOT_FOUND, f"Event bus {missing} does not exist.",
                        ArchiveName=unique_name("archive"), EventSourceArn=bus_arn(missing))


@pytest.mark.parametrize("pattern", ['{"source": "not-a-list"}', "not json", '{"detail": {"n": [{"numeric": [">"]}]}}'])
def test_create_archive_invalid_pattern(events, pattern):
    """CreateArchive lists InvalidEventPatternException (botocore model)."""
    name = unique_name("archive")
    expect_events_error(events.create_archive, INVALID_PATTERN, ArchiveName=name, EventSourceArn=bus_arn(), EventPattern=pattern)
    assert events.list_archives(NamePrefix=name)["Archives"] == []


def test_unknown_archive(events):
    """::test_describe_archive_error_unknown_archive, ::test_delete_archive_error_unknown_archive"""
    name = unique_name("noarchive")
    expect_events_error(events.describe_archive, NOT_FOUND, f"Archive {name} does not exist.", ArchiveName=name)
    expect_events_error(events.delete_archive, NOT_FOUND, f"Archive {name} does not exist.", ArchiveName=name)


def test_update_archive_needs_a_change(events):
    """::test_update_archive_error_unknown_archive (an UpdateArchive with nothing to change)."""
    expect_events_error(events.update_archive, VALIDATION,
                        "At least one of EventPattern, RetentionDays or Description must be provided.",
                        ArchiveName=unique_name("noarchive"))


def test_list_archives_filters(events, create_event_bus, create_archive):
    """::test_list_archive_with_name_prefix, ::test_list_archive_with_source_arn,
    ::test_list_archive_state_enabled"""
    bus1, bus2 = create_event_bus(), create_event_bus()
    prefix = unique_name("arch")
    a1, _ = create_archive(bus_arn(bus1), name=f"{prefix}-one", RetentionDays=1)
    a2, _ = create_archive(bus_arn(bus2), name=f"{prefix}-two", RetentionDays=1)

    assert sorted(a["ArchiveName"] for a in events.list_archives(NamePrefix=prefix)["Archives"]) == [a1, a2]
    assert [a["ArchiveName"] for a in events.list_archives(NamePrefix=a2)["Archives"]] == [a2]
    assert events.list_archives(NamePrefix=prefix + "-none")["Archives"] == []
    assert [a["ArchiveName"] for a in events.list_archives(EventSourceArn=bus_arn(bus1))["Archives"]] == [a1]
    enabled = events.list_archives(NamePrefix=prefix, State="ENABLED")["Archives"]
    assert sorted(a["ArchiveName"] for a in enabled) == [a1, a2]
    assert events.list_archives(NamePrefix=prefix, State="DISABLED")["Archives"] == []


def test_list_archives_unknown_source_bus(events):
    """::test_list_archive_error_unknown_source_arn"""
    missing = unique_name("nobus")
    expect_events_error(events.list_archives, NOT_FOUND, f"Event bus {missing} does not exist.", EventSourceArn=bus_arn(missing))


def test_archive_counts_matching_events_only(events, create_event_bus, create_archive):
    """EventCount/SizeBytes grow with the events the archive's pattern matches
    (::test_list_archive_with_events[True-custom]: 10 matching events -> EventCount 10)."""
    bus = create_event_bus()
    src = new_source()
    name, _ = create_archive(bus_arn(bus), EventPattern=pattern_for(src), RetentionDays=1)
    put_ok(events, [entry(src, detail={"n": i}, EventBusName=bus) for i in range(3)])
    put_ok(events, [entry(new_source(), EventBusName=bus) for _ in range(2)])
    # a sentinel after the non-matching ones: once it is counted, they would have been too
    put_ok(events, [entry(src, detail={"n": "sentinel"}, EventBusName=bus)])
    desc = wait_archive_count(events, name, 4)
    assert desc["SizeBytes"] > 0
    time.sleep(0.3)
    assert events.describe_archive(ArchiveName=name)["EventCount"] == 4
    [listed] = events.list_archives(NamePrefix=name)["Archives"]
    assert listed["EventCount"] == 4 and listed["SizeBytes"] == desc["SizeBytes"]


def test_archive_without_pattern_takes_every_event_of_its_bus(events, create_event_bus, create_archive):
    """CreateArchive: with no pattern "all events are sent to the archive"; an archive takes only
    its own bus's events."""
    bus, other = create_event_bus(), create_event_bus()
    name, _ = create_archive(bus_arn(bus), RetentionDays=1)
    put_ok(events, [entry(new_source(), EventBusName=other)])
    put_ok(events, [entry(new_source(), EventBusName=bus), entry(new_source(), EventBusName=bus)])
    wait_archive_count(events, name, 2)
    time.sleep(0.3)
    assert events.describe_archive(ArchiveName=name)["EventCount"] == 2


# ----------------------------------------------------------------- replays


def test_replay_reaches_a_rule_created_after_the_events(events, sqs, put_rule, create_queue, create_event_bus, create_archive):
    """::test_start_list_describe_canceled_replay: start-replay (ARN, STARTING), replay-messages
    (the original envelope plus "replay-name"), describe-replay and list-replays once COMPLETED."""
    bus, archive, a_arn, src, ids, t, start, end = _archived(events, create_event_bus, create_archive)
    queue = create_queue()
    rule_to_queue(events, sqs, put_rule, queue, pattern_for(src), bus=bus)
    name = unique_name("replay")
    resp = events.start_replay(
        ReplayName=name, Description="description of the replay", EventSourceArn=a_arn,
        EventStartTime=start, EventEndTime=end, Destination={"Arn": bus_arn(bus)},
    )
    assert resp["ReplayArn"] == replay_arn(name)
    assert resp["State"] == "STARTING"
    assert isinstance(resp["ReplayStartTime"], datetime)

    got = [json.loads(m["Body"]) for m in wait_bodies(sqs, queue, 2, timeout=10)]
    assert sorted(e["id"] for e in got) == sorted(ids)
    for event in got:
        assert set(event) == EVENT_FIELDS | {"replay-name"}, sorted(event)
        assert event["replay-name"] == name
        assert event["time"] == t.strftime("%Y-%m-%dT%H:%M:%SZ")
        body = {k: v for k, v in event.items() if k != "replay-name"}
        assert_event_envelope(body, src, "thing.happened", event["detail"])
    assert sorted(e["detail"]["n"] for e in got) == [0, 1]

    desc = wait_replay_state(events, name, "COMPLETED")
    assert desc["ReplayName"] == name and desc["ReplayArn"] == replay_arn(name)
    assert desc["Description"] == "description of the replay"
    assert desc["EventSourceArn"] == a_arn
    assert desc["Destination"] == {"Arn": bus_arn(bus)}
    assert desc["EventStartTime"] == start and desc["EventEndTime"] == end
    for field in ("ReplayStartTime", "ReplayEndTime", "EventLastReplayedTime"):
        assert isinstance(desc.get(field), datetime), (field, desc)

    [listed] = events.list_replays(NamePrefix=name)["Replays"]
    assert set(listed) >= LIST_REPLAY_FIELDS, sorted(listed)
    assert (listed["ReplayName"], listed["State"], listed["EventSourceArn"]) == (name, "COMPLETED", a_arn)
    assert_no_more(sqs, queue)


def test_replayed_events_are_not_archived_again(events, sqs, put_rule, create_queue, create_event_bus, create_archive):
    """CreateArchive: "Replayed events are not sent to an archive." (the archive has no pattern)."""
    bus, archive, a_arn, src, ids, t, start, end = _archived(events, create_event_bus, create_archive, pattern=False)
    queue = create_queue()
    rule_to_queue(events, sqs, put_rule, queue, pattern_for(src), bus=bus)
    name = unique_name("replay")
    events.start_replay(ReplayName=name, EventSourceArn=a_arn, EventStartTime=start, EventEndTime=end,
                        Destination={"Arn": bus_arn(bus)})
    assert len(wait_bodies(sqs, queue, 2, timeout=10)) == 2
    wait_replay_state(events, name, "COMPLETED")
    time.sleep(0.3)
    assert events.describe_archive(ArchiveName=archive)["EventCount"] == 2


def test_replay_filter_arns_limit_the_rules(events, sqs, put_rule, create_queue, create_event_bus, create_archive):
    """Destination.FilterArns: only those rules get the replayed events (describe-replay echoes them)."""
    bus, archive, a_arn, src, ids, t, start, end = _archived(events, create_event_bus, create_archive, n=1)
    q_in, q_out = create_queue(), create_queue()
    _, rule_in, _ = rule_to_queue(events, sqs, put_rule, q_in, pattern_for(src), bus=bus)
    rule_to_queue(events, sqs, put_rule, q_out, pattern_for(src), bus=bus)
    name = unique_name("replay")
    events.start_replay(ReplayName=name, EventSourceArn=a_arn, EventStartTime=start, EventEndTime=end,
                        Destination={"Arn": bus_arn(bus), "FilterArns": [rule_in]})
    [m] = wait_bodies(sqs, q_in, 1, timeout=10)
    event = json.loads(m["Body"])
    assert event["id"] == ids[0] and event["replay-name"] == name
    desc = wait_replay_state(events, name, "COMPLETED")
    assert desc["Destination"] == {"Arn": bus_arn(bus), "FilterArns": [rule_in]}
    assert_no_more(sqs, q_out)
    assert_no_more(sqs, q_in, wait=0)


def test_replay_window_excludes_other_events(events, sqs, put_rule, create_queue, create_event_bus, create_archive):
    """StartReplay: "Only events that occurred between the EventStartTime and EventEndTime are
    replayed" (by the time in the event)."""
    bus = create_event_bus()
    src = new_source()
    archive, a_arn = create_archive(bus_arn(bus), RetentionDays=1)
    t = whole_seconds(_now())
    old, inside, later = t - timedelta(minutes=10), t - timedelta(minutes=5), t + timedelta(minutes=5)
    put_ok(events, [entry(src, detail={"at": label}, EventBusName=bus, Time=when)
                    for label, when in (("old", old), ("inside", inside), ("later", later))])
    wait_archive_count(events, archive, 3)
    queue = create_queue()
    rule_to_queue(events, sqs, put_rule, queue, pattern_for(src), bus=bus)
    name = unique_name("replay")
    events.start_replay(ReplayName=name, EventSourceArn=a_arn, EventStartTime=inside - timedelta(minutes=1),
                        EventEndTime=inside + timedelta(minutes=1), Destination={"Arn": bus_arn(bus)})
    got = wait_bodies(sqs, queue, 1, timeout=5)
    assert got, "the event whose time is inside the window was not replayed"
    assert json.loads(got[0]["Body"])["detail"] == {"at": "inside"}
    wait_replay_state(events, name, "COMPLETED")
    assert_no_more(sqs, queue)


def test_list_replays_filters(events, create_event_bus, create_archive):
    """::test_list_replays_with_prefix, ::test_list_replays_with_event_source_arn; State filter (botocore model)."""
    bus1, bus2 = create_event_bus(), create_event_bus()
    _, arn1 = create_archive(bus_arn(bus1), RetentionDays=1)
    _, arn2 = create_archive(bus_arn(bus2), RetentionDays=1)
    start, end = _past_window()
    prefix = unique_name("rp")
    r1, r2 = f"{prefix}-one", f"{prefix}-two"
    events.start_replay(ReplayName=r1, EventSourceArn=arn1, EventStartTime=start, EventEndTime=end, Destination={"Arn": bus_arn(bus1)})
    events.start_replay(ReplayName=r2, EventSourceArn=arn2, EventStartTime=start, EventEndTime=end, Destination={"Arn": bus_arn(bus2)})
    wait_replay_state(events, r1, "COMPLETED")
    wait_replay_state(events, r2, "COMPLETED")

    assert sorted(r["ReplayName"] for r in events.list_replays(NamePrefix=prefix)["Replays"]) == [r1, r2]
    assert [r["ReplayName"] for r in events.list_replays(NamePrefix=r2)["Replays"]] == [r2]
    assert [r["ReplayName"] for r in events.list_replays(NamePrefix=prefix, EventSourceArn=arn1)["Replays"]] == [r1]
    assert [r["ReplayName"] for r in events.list_replays(EventSourceArn=arn2)["Replays"]] == [r2]
    assert len(events.list_replays(NamePrefix=prefix, State="COMPLETED")["Replays"]) == 2
    assert events.list_replays(NamePrefix=prefix, State="RUNNING")["Replays"] == []
    assert events.list_replays(NamePrefix=prefix + "-none")["Replays"] == []


def test_start_replay_duplicate_name(events, create_event_bus, create_archive):
    """::test_start_replay_error_duplicate_name_same_archive, ::test_start_replay_error_duplicate_different_archive"""
    bus1, bus2 = create_event_bus(), create_event_bus()
    _, arn1 = create_archive(bus_arn(bus1), RetentionDays=1)
    _, arn2 = create_archive(bus_arn(bus2), RetentionDays=1)
    start, end = _past_window()
    name = unique_name("replay")
    events.start_replay(ReplayName=name, EventSourceArn=arn1, EventStartTime=start, EventEndTime=end, Destination={"Arn": bus_arn(bus1)})
    for arn, bus in ((arn1, bus1), (arn2, bus2)):
        expect_events_error(events.start_replay, ALREADY_EXISTS, f"Replay {name} already exists.", ReplayName=name,
                            EventSourceArn=arn, EventStartTime=start, EventEndTime=end, Destination={"Arn": bus_arn(bus)})


@pytest.mark.parametrize("end_before_start_s", [0, 10])
def test_start_replay_end_not_after_start(events, create_event_bus, create_archive, end_before_start_s):
    """::test_start_replay_error_invalid_end_time[0|10]"""
    bus = create_event_bus()
    _, arn = create_archive(bus_arn(bus), RetentionDays=1)
    start = whole_seconds(_now()) - timedelta(minutes=1)
    expect_events_error(events.start_replay, VALIDATION,
                        "Parameter EventEndTime is not valid. Reason: EventStartTime must be before EventEndTime.",
                        ReplayName=unique_name("replay"), EventSourceArn=arn, EventStartTime=start,
                        EventEndTime=start - timedelta(seconds=end_before_start_s), Destination={"Arn": bus_arn(bus)})


def test_start_replay_end_time_in_the_future_is_accepted(events, create_event_bus, create_archive):
    """AWS accepted EventEndTime = now + 1 minute: ::test_list_replays_with_prefix and
    ::test_list_replays_with_event_source_arn call StartReplay with it and record the replay."""
    bus = create_event_bus()
    _, arn = create_archive(bus_arn(bus), RetentionDays=1)
    start = whole_seconds(_now())
    name = unique_name("replay")
    resp = events.start_replay(ReplayName=name, EventSourceArn=arn, EventStartTime=start,
                               EventEndTime=start + timedelta(minutes=1), Destination={"Arn": bus_arn(bus)})
    assert resp["ReplayArn"] == replay_arn(name)
    try:
        events.cancel_replay(ReplayName=name)
    except Exception:
        pass


def test_start_replay_unknown_archive(events):
    """::test_start_replay_error_unknown_archive"""
    missing = unique_name("noarchive")
    start, end = _past_window()
    expect_events_error(events.start_replay, VALIDATION,
                        f"Parameter EventSourceArn is not valid. Reason: Archive {missing} does not exist.",
                        ReplayName=unique_name("replay"), EventSourceArn=archive_arn(missing), EventStartTime=start,
                        EventEndTime=end, Destination={"Arn": bus_arn()})


def test_start_replay_to_a_missing_bus(events, create_archive):
    """::test_start_replay_error_unknown_event_bus (start-replay-unknown-event-bus-error)"""
    _, arn = create_archive(bus_arn(), RetentionDays=1)
    start, end = _past_window()
    missing = unique_name("nobus")
    name = unique_name("replay")
    expect_events_error(events.start_replay, NOT_FOUND, f"Event bus {missing} does not exist.", ReplayName=name,
                        EventSourceArn=arn, EventStartTime=start, EventEndTime=end, Destination={"Arn": bus_arn(missing)})
    assert events.list_replays(NamePrefix=name)["Replays"] == []


def test_start_replay_to_another_bus(events, create_event_bus, create_archive):
    """::test_start_replay_error_unknown_event_bus (start-replay-wrong-event-bus-error): the
    destination must be the archive's own bus."""
    _, arn = create_archive(bus_arn(), RetentionDays=1)
    start, end = _past_window()
    kwargs = dict(ReplayName=unique_name("replay"), EventSourceArn=arn, EventStartTime=start, EventEndTime=end)
    other = create_event_bus()
    expect_events_error(events.start_replay, VALIDATION,
                        "Parameter Destination.Arn is not valid. Reason: Cross event bus replay is not permitted.",
                        Destination={"Arn": bus_arn(other)}, **kwargs)
    assert events.list_replays(NamePrefix=kwargs["ReplayName"])["Replays"] == []


def test_unknown_replay(events):
    """::test_describe_replay_error_unknown_replay; CancelReplay lists ResourceNotFoundException (botocore model)."""
    name = unique_name("noreplay")
    expect_events_error(events.describe_replay, NOT_FOUND, f"Replay {name} does not exist.", ReplayName=name)
    expect_events_error(events.cancel_replay, NOT_FOUND, ReplayName=name)


def test_cancel_completed_replay(events, create_event_bus, create_archive):
    """IllegalStatusException: "a replay can be canceled only when the state is Running or Starting"."""
    bus = create_event_bus()
    _, arn = create_archive(bus_arn(bus), RetentionDays=1)
    start, end = _past_window()
    name = unique_name("replay")
    events.start_replay(ReplayName=name, EventSourceArn=arn, EventStartTime=start, EventEndTime=end, Destination={"Arn": bus_arn(bus)})
    wait_replay_state(events, name, "COMPLETED")
    expect_events_error(events.cancel_replay, ILLEGAL_STATUS, ReplayName=name)
    assert events.describe_replay(ReplayName=name)["State"] == "COMPLETED"


def test_list_replays_pages(events, create_event_bus, create_archive):
    """::test_list_replay_with_limit: Limit gives a NextToken, the next page the rest."""
    bus = create_event_bus()
    _, arn = create_archive(bus_arn(bus), RetentionDays=1)
    start, end = _past_window()
    prefix = unique_name("rp")
    names = [f"{prefix}-{i}" for i in range(3)]
    for name in names:
        events.start_replay(ReplayName=name, EventSourceArn=arn, EventStartTime=start, EventEndTime=end, Destination={"Arn": bus_arn(bus)})
    first = events.list_replays(NamePrefix=prefix, Limit=2)
    assert len(first["Replays"]) == 2 and first.get("NextToken"), first
    second = events.list_replays(NamePrefix=prefix, Limit=2, NextToken=first["NextToken"])
    assert len(second["Replays"]) == 1 and not second.get("NextToken"), second
    assert sorted(r["ReplayName"] for r in first["Replays"] + second["Replays"]) == names
