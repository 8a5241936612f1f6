"""EventBridge event buses: the default bus, Create/Describe/List/Update/DeleteEventBus and bus
permissions (PutPermission/RemovePermission).

Sources: EventBridge API reference (CreateEventBus, DescribeEventBus, ListEventBuses, UpdateEventBus,
DeleteEventBus, PutPermission, RemovePermission) and AWS-recorded responses in LocalStack's
tests/aws/services/events/test_events.snapshot.json, TestEventBus::
  test_create_list_describe_delete_custom_event_buses, test_create_multiple_event_buses_same_name
  ("Event bus <name> already exists."), test_describe_delete_not_existing_event_bus (describe ->
  ResourceNotFoundException "Event bus <name> does not exist."; delete of a missing bus succeeds),
  test_delete_default_event_bus (ValidationException "Cannot delete event bus default."),
  test_list_event_buses_with_limit, test_put_permission (statement shapes), test_remove_permission,
  test_remove_permission_non_existing_sid ("Statement with the provided id does not exist."),
  test_put_permission_non_existing_event_bus.
"""

import json

from events_helpers import (
    ACCOUNT,
    ALREADY_EXISTS,
    NOT_FOUND,
    SKIP_SECOND_PASS,
    VALIDATION,
    bus_arn,
    expect_events_error,
)

from conftest import make_client, unique_name

pytestmark = SKIP_SECOND_PASS

OTHER_ACCOUNT = "111122223333"


# ----------------------------------------------------------------- default bus


def test_default_bus_exists(events):
    resp = events.describe_event_bus()
    assert resp["Name"] == "default"
    assert resp["Arn"] == f"arn:aws:events:us-east-1:{ACCOUNT}:event-bus/default"


def test_default_bus_by_name_and_in_list(events):
    assert events.describe_event_bus(Name="default")["Arn"] == bus_arn("default")
    names = [b["Name"] for b in events.list_event_buses(NamePrefix="default")["EventBuses"]]
    assert "default" in names


def test_default_bus_in_every_region_and_account(endpoint):
    west = make_client(endpoint, region="eu-west-1", service="events")
    assert west.describe_event_bus()["Arn"] == "arn:aws:events:eu-west-1:000000000000:event-bus/default"
    other = make_client(endpoint, access_key="444455556666", service="events")
    assert other.describe_event_bus()["Arn"] == "arn:aws:events:us-east-1:444455556666:event-bus/default"


def test_buses_are_regional(events, endpoint, create_event_bus):
    name = create_event_bus()
    west = make_client(endpoint, region="eu-west-1", service="events")
    expect_events_error(west.describe_event_bus, NOT_FOUND, Name=name)
    assert west.list_event_buses(NamePrefix=name)["EventBuses"] == []


def test_default_bus_cannot_be_deleted(events):
    expect_events_error(events.delete_event_bus, VALIDATION, "Cannot delete event bus default.", Name="default")
    assert events.describe_event_bus(Name="default")["Name"] == "default"


# ----------------------------------------------------------------- custom buses


def test_create_describe_list_delete(events):
    name = unique_name("bus")
    resp = events.create_event_bus(Name=name, Description="test bus")
    try:
        assert resp["EventBusArn"] == bus_arn(name)
        d = events.describe_event_bus(Name=name)
        assert d["Name"] == name
        assert d["Arn"] == bus_arn(name)
        assert d["Description"] == "test bus"
        assert "CreationTime" in d and "LastModifiedTime" in d
        listed = events.list_event_buses(NamePrefix=name)["EventBuses"]
        assert [b["Name"] for b in listed] == [name]
        assert listed[0]["Arn"] == bus_arn(name)
        assert listed[0]["Description"] == "test bus"
    finally:
        events.delete_event_bus(Name=name)
    assert events.list_event_buses(NamePrefix=name)["EventBuses"] == []
    expect_events_error(events.describe_event_bus, NOT_FOUND, f"Event bus {name} does not exist.", Name=name)


def test_describe_by_arn(events, create_event_bus):
    name = create_event_bus()
    assert events.describe_event_bus(Name=bus_arn(name))["Name"] == name


def test_duplicate_bus_is_rejected(events, create_event_bus):
    name = create_event_bus()
    expect_events_error(events.create_event_bus, ALREADY_EXISTS, f"Event bus {name} already exists.", Name=name)


def test_describe_missing_bus(events):
    name = unique_name("nobus")
    expect_events_error(events.describe_event_bus, NOT_FOUND, f"Event bus {name} does not exist.", Name=name)


def test_delete_missing_bus_succeeds(events):
    resp = events.delete_event_bus(Name=unique_name("nobus"))
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_list_with_prefix(events, create_event_bus):
    prefix = unique_name("pfx")
    a = create_event_bus(name=f"{prefix}-a")
    b = create_event_bus(name=f"{prefix}-b")
    other = create_event_bus()
    names = [x["Name"] for x in events.list_event_buses(NamePrefix=prefix)["EventBuses"]]
    assert sorted(names) == [a, b]
    assert other not in names
    # the complete name is a prefix too
    assert [x["Name"] for x in events.list_event_buses(NamePrefix=a)["EventBuses"]] == [a]


def test_list_pagination(events, create_event_bus):
    prefix = unique_name("page")
    made = [create_event_bus(name=f"{prefix}-{i}") for i in range(5)]
    first = events.list_event_buses(NamePrefix=prefix, Limit=2)
    assert len(first["EventBuses"]) == 2
    assert first.get("NextToken")
    seen = [b["Name"] for b in first["EventBuses"]]
    token = first["NextToken"]
    for _ in range(5):
        page = events.list_event_buses(NamePrefix=prefix, Limit=2, NextToken=token)
        assert len(page["EventBuses"]) <= 2
        seen += [b["Name"] for b in page["EventBuses"]]
        token = page.get("NextToken")
        if not token:
            break
    assert token is None, "pagination did not end"
    assert sorted(seen) == sorted(made), "every bus exactly once over the pages"


def test_update_event_bus_description(events, create_event_bus):
    name = create_event_bus(Description="before")
    resp = events.update_event_bus(Name=name, Description="after")
    assert resp["Name"] == name
    assert resp["Arn"] == bus_arn(name)
    assert events.describe_event_bus(Name=name)["Description"] == "after"


def test_update_missing_bus(events):
    expect_events_error(events.update_event_bus, NOT_FOUND, Name=unique_name("nobus"), Description="x")


# ----------------------------------------------------------------- permissions


def _policy(events, bus: str) -> dict:
    d = events.describe_event_bus(Name=bus)
    assert "Policy" in d, f"no Policy in DescribeEventBus: {d}"
    assert isinstance(d["Policy"], str), "Policy is a JSON string"
    return json.loads(d["Policy"])


def _statement(policy: dict, sid: str) -> dict:
    found = [s for s in policy["Statement"] if s.get("Sid") == sid]
    assert len(found) == 1, f"statement {sid!r} in {policy}"
    return found[0]


def test_new_bus_has_no_policy(events, create_event_bus):
    name = create_event_bus()
    assert "Policy" not in events.describe_event_bus(Name=name)


def test_put_permission_for_an_account(events, create_event_bus):
    name = create_event_bus()
    events.put_permission(EventBusName=name, Action="events:PutEvents", Principal=OTHER_ACCOUNT, StatementId="acct")
    policy = _policy(events, name)
    assert policy["Version"] == "2012-10-17"
    s = _statement(policy, "acct")
    assert s["Effect"] == "Allow"
    assert s["Principal"] == {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"}
    assert s["Action"] == "events:PutEvents"
    assert s["Resource"] == bus_arn(name)


def test_put_permission_for_everyone_adds_a_statement(events, create_event_bus):
    name = create_event_bus()
    events.put_permission(EventBusName=name, Action="events:PutEvents", Principal=OTHER_ACCOUNT, StatementId="one")
    events.put_permission(EventBusName=name, Action="events:PutEvents", Principal="*", StatementId="all")
    policy = _policy(events, name)
    assert sorted(s["Sid"] for s in policy["Statement"]) == ["all", "one"]
    s = _statement(policy, "all")
    assert s["Principal"] == "*"
    assert s["Resource"] == bus_arn(name)


def test_put_permission_with_full_policy_replaces(events, create_event_bus):
    name = create_event_bus()
    events.put_permission(EventBusName=name, Action="events:PutEvents", Principal=OTHER_ACCOUNT, StatementId="old")
    doc = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "svc",
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "events:ListRules",
                "Resource": "*",
            }
        ],
    }
    events.put_permission(EventBusName=name, Policy=json.dumps(doc))
    policy = _policy(events, name)
    assert [s["Sid"] for s in policy["Statement"]] == ["svc"]
    s = policy["Statement"][0]
    assert s["Principal"] == {"Service": "events.amazonaws.com"}
    assert s["Action"] == "events:ListRules"
    assert s["Resource"] == "*"


def test_remove_permission(events, create_event_bus):
    name = create_event_bus()
    events.put_permission(EventBusName=name, Action="events:PutEvents", Principal=ACCOUNT, StatementId="keep")
    events.put_permission(EventBusName=name, Action="events:PutEvents", Principal=OTHER_ACCOUNT, StatementId="drop")
    events.remove_permission(EventBusName=name, StatementId="drop")
    assert [s["Sid"] for s in _policy(events, name)["Statement"]] == ["keep"]
    events.remove_permission(EventBusName=name, RemoveAllPermissions=True)
    assert "Policy" not in events.describe_event_bus(Name=name)


def test_default_bus_permission_round_trip(events):
    sid = unique_name("sid")
    events.put_permission(Action="events:PutEvents", Principal=OTHER_ACCOUNT, StatementId=sid)
    try:
        s = _statement(_policy(events, "default"), sid)
        assert s["Resource"] == bus_arn("default")
    finally:
        events.remove_permission(StatementId=sid)
    d = events.describe_event_bus()
    if "Policy" in d:
        assert sid not in [s.get("Sid") for s in json.loads(d["Policy"])["Statement"]]


def test_remove_unknown_statement(events, create_event_bus):
    name = create_event_bus()
    msg = "Statement with the provided id does not exist."
    # on a bus without any policy …
    expect_events_error(events.remove_permission, NOT_FOUND, msg, EventBusName=name, StatementId="nope")
    # … and on one with a policy that lacks that statement
    events.put_permission(EventBusName=name, Action="events:PutEvents", Principal=OTHER_ACCOUNT, StatementId="there")
    expect_events_error(events.remove_permission, NOT_FOUND, msg, EventBusName=name, StatementId="nope")
    assert [s["Sid"] for s in _policy(events, name)["Statement"]] == ["there"]


def test_put_permission_on_missing_bus(events):
    name = unique_name("nobus")
    expect_events_error(
        events.put_permission,
        NOT_FOUND,
        f"Event bus {name} does not exist.",
        EventBusName=name,
        Action="events:PutEvents",
        Principal="*",
        StatementId="s",
    )


def test_put_permission_for_an_organization(events, create_event_bus):
    """PutPermission Condition (API reference): Type StringEquals, Key aws:PrincipalOrgID, with Principal "*"."""
    name = create_event_bus()
    events.put_permission(
        EventBusName=name,
        Action="events:PutEvents",
        Principal="*",
        StatementId="org",
        Condition={"Type": "StringEquals", "Key": "aws:PrincipalOrgID", "Value": "o-1234567890"},
    )
    s = _statement(_policy(events, name), "org")
    assert s["Principal"] == "*"
    assert s["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": "o-1234567890"}}
