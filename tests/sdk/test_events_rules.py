"""EventBridge rules and targets: PutRule/DescribeRule/ListRules/Enable/Disable/DeleteRule,
ListRuleNamesByTarget, PutTargets/ListTargetsByRule/RemoveTargets.

Sources: EventBridge API reference (PutRule: "If you are updating an existing rule, the rule is
replaced"; DeleteRule: "If you call delete rule multiple times for the same rule, all calls will
succeed"; PutTargets; RemoveTargets), "Amazon EventBridge quotas" (5 targets per rule), the botocore
model, and AWS-recorded responses in LocalStack's tests/aws/services/events/:
  test_events.snapshot.json TestEventRule::test_put_list_with_prefix_describe_delete_rule (ARNs and
  DescribeRule fields, CreatedBy = account), test_put_multiple_rules_with_same_name,
  test_list_rule_with_limit, test_describe_nonexistent_rule ("Rule <name> does not exist on
  EventBus default."), test_disable_re_enable_rule, test_delete_rule_with_targets ("Rule can't be
  deleted since it has targets."), test_list_rule_names_by_target*, TestEventTarget::
  test_put_list_remove_target, test_add_exceed_fife_targets_per_rule (LimitExceededException "The
  requested resource exceeds the maximum number allowed."), test_put_multiple_targets_with_same_id_single_rule;
  test_events_inputs.snapshot.json test_put_event_input_path_and_input_transformer ("Only one of
  Input, InputPath, or InputTransformer must be provided for target <id>.").
"""

import json

import pytest

from conftest import unique_name
from events_helpers import (
    ACCOUNT,
    INVALID_PATTERN,
    LIMIT_EXCEEDED,
    NOT_FOUND,
    SKIP_SECOND_PASS,
    VALIDATION,
    expect_events_error,
    new_source,
    pattern_for,
    rule_arn,
)
from sqs_helpers import get_arn

pytestmark = SKIP_SECOND_PASS


@pytest.fixture
def queue_arn(sqs, queue):
    return get_arn(sqs, queue)


# ----------------------------------------------------------------- PutRule / DescribeRule


def test_put_rule_on_default_bus(events, put_rule):
    name = unique_name("rule")
    pattern = pattern_for(new_source(), **{"detail-type": ["a"]})
    got_name, arn = put_rule(name=name, pattern=pattern, Description="first rule")
    assert got_name == name
    assert arn == f"arn:aws:events:us-east-1:{ACCOUNT}:rule/{name}"
    d = events.describe_rule(Name=name)
    assert d["Name"] == name
    assert d["Arn"] == arn
    assert json.loads(d["EventPattern"]) == json.loads(pattern)
    assert d["State"] == "ENABLED"
    assert d["Description"] == "first rule"
    assert d["EventBusName"] == "default"
    assert d["CreatedBy"] == ACCOUNT


def test_put_rule_on_custom_bus(events, create_event_bus, put_rule):
    bus = create_event_bus()
    name, arn = put_rule(pattern=pattern_for(new_source()), bus=bus)
    assert arn == f"arn:aws:events:us-east-1:{ACCOUNT}:rule/{bus}/{name}"
    d = events.describe_rule(Name=name, EventBusName=bus)
    assert d["Arn"] == arn
    assert d["EventBusName"] == bus
    # not on the default bus
    expect_events_error(events.describe_rule, NOT_FOUND, Name=name)


def test_put_rule_with_bus_arn(events, create_event_bus, put_rule):
    bus = create_event_bus()
    name, arn = put_rule(pattern=pattern_for(new_source()), bus=f"arn:aws:events:us-east-1:{ACCOUNT}:event-bus/{bus}")
    assert arn == rule_arn(name, bus)
    assert events.describe_rule(Name=name, EventBusName=bus)["EventBusName"] == bus


def test_put_rule_is_an_upsert(events, put_rule, create_event_bus):
    bus = create_event_bus()
    name, arn = put_rule(pattern=pattern_for("one"), bus=bus)
    again = events.put_rule(Name=name, EventBusName=bus, EventPattern=pattern_for("two"), Description="changed")
    assert again["RuleArn"] == arn
    d = events.describe_rule(Name=name, EventBusName=bus)
    assert json.loads(d["EventPattern"]) == {"source": ["two"]}
    assert d["Description"] == "changed"
    assert [r["Name"] for r in events.list_rules(EventBusName=bus)["Rules"]] == [name]


def test_put_rule_disabled_state(events, put_rule):
    name, _ = put_rule(pattern=pattern_for(new_source()), State="DISABLED")
    assert events.describe_rule(Name=name)["State"] == "DISABLED"


@pytest.mark.parametrize(
    "pattern",
    [
        "this is not json",
        '["not", "an", "object"]',
        '{"source": "not-a-list"}',
        '{"source": []}',
        '{"detail": {"n": [{"numeric": [">", 0, ">", 0]}]}}',
    ],
    ids=["not-json", "array", "bare-string", "empty-array", "bad-numeric"],
)
def test_invalid_pattern(events, pattern):
    expect_events_error(
        events.put_rule, INVALID_PATTERN, message_prefix="Event pattern is not valid. Reason: ",
        Name=unique_name("rule"), EventPattern=pattern,
    )


def test_rule_needs_pattern_or_schedule(events):
    expect_events_error(events.put_rule, VALIDATION, Name=unique_name("rule"))


def test_rule_on_missing_bus(events):
    bus = unique_name("nobus")
    expect_events_error(
        events.put_rule, NOT_FOUND, f"Event bus {bus} does not exist.",
        Name=unique_name("rule"), EventBusName=bus, EventPattern=pattern_for("x"),
    )


def test_describe_missing_rule(events):
    name = unique_name("norule")
    expect_events_error(events.describe_rule, NOT_FOUND, f"Rule {name} does not exist on EventBus default.", Name=name)


# ----------------------------------------------------------------- ListRules


def test_list_rules_with_prefix(events, put_rule, create_event_bus):
    bus = create_event_bus()
    prefix = unique_name("lr")
    a, arn_a = put_rule(name=f"{prefix}-a", pattern=pattern_for("s"), bus=bus)
    put_rule(name=f"{prefix}-b", pattern=pattern_for("s"), bus=bus)
    put_rule(name=unique_name("other"), pattern=pattern_for("s"), bus=bus)
    rules = events.list_rules(EventBusName=bus, NamePrefix=prefix)["Rules"]
    assert sorted(r["Name"] for r in rules) == [f"{prefix}-a", f"{prefix}-b"]
    ra = next(r for r in rules if r["Name"] == a)
    assert ra["Arn"] == arn_a
    assert ra["EventBusName"] == bus
    assert ra["State"] == "ENABLED"
    assert json.loads(ra["EventPattern"]) == {"source": ["s"]}


def test_list_rules_only_from_the_given_bus(events, put_rule, create_event_bus):
    bus = create_event_bus()
    prefix = unique_name("lb")
    put_rule(name=f"{prefix}-custom", pattern=pattern_for("s"), bus=bus)
    put_rule(name=f"{prefix}-default", pattern=pattern_for("s"))
    assert [r["Name"] for r in events.list_rules(EventBusName=bus, NamePrefix=prefix)["Rules"]] == [f"{prefix}-custom"]
    assert [r["Name"] for r in events.list_rules(NamePrefix=prefix)["Rules"]] == [f"{prefix}-default"]


def test_list_rules_pagination(events, put_rule, create_event_bus):
    bus = create_event_bus()
    names = [put_rule(name=f"pg-{i}-{unique_name('r')}", pattern=pattern_for("s"), bus=bus)[0] for i in range(5)]
    first = events.list_rules(EventBusName=bus, Limit=2)
    assert len(first["Rules"]) == 2 and first.get("NextToken")
    seen = [r["Name"] for r in first["Rules"]]
    token = first["NextToken"]
    for _ in range(5):
        page = events.list_rules(EventBusName=bus, Limit=2, NextToken=token)
        assert len(page["Rules"]) <= 2
        seen += [r["Name"] for r in page["Rules"]]
        token = page.get("NextToken")
        if not token:
            break
    assert token is None
    assert sorted(seen) == sorted(names)


# ----------------------------------------------------------------- Enable / Disable / Delete


def test_disable_and_enable(events, put_rule, create_event_bus):
    bus = create_event_bus()
    name, _ = put_rule(pattern=pattern_for("s"), bus=bus)
    events.disable_rule(Name=name, EventBusName=bus)
    assert events.describe_rule(Name=name, EventBusName=bus)["State"] == "DISABLED"
    events.enable_rule(Name=name, EventBusName=bus)
    assert events.describe_rule(Name=name, EventBusName=bus)["State"] == "ENABLED"


def test_enable_missing_rule(events):
    expect_events_error(events.enable_rule, NOT_FOUND, Name=unique_name("norule"))
    expect_events_error(events.disable_rule, NOT_FOUND, Name=unique_name("norule"))


def test_delete_rule_refuses_while_targets_remain(events, put_rule, queue_arn):
    name, _ = put_rule(pattern=pattern_for(new_source()))
    events.put_targets(Rule=name, Targets=[{"Id": "t1", "Arn": queue_arn}])
    expect_events_error(events.delete_rule, VALIDATION, "Rule can't be deleted since it has targets.", Name=name)
    assert events.describe_rule(Name=name)["Name"] == name
    events.delete_rule(Name=name, Force=True)
    expect_events_error(events.describe_rule, NOT_FOUND, Name=name)


def test_delete_rule_after_removing_targets(events, put_rule, queue_arn):
    name, _ = put_rule(pattern=pattern_for(new_source()))
    events.put_targets(Rule=name, Targets=[{"Id": "t1", "Arn": queue_arn}])
    events.remove_targets(Rule=name, Ids=["t1"])
    events.delete_rule(Name=name)
    expect_events_error(events.describe_rule, NOT_FOUND, Name=name)


def test_delete_missing_rule_succeeds(events):
    name = unique_name("norule")
    assert events.delete_rule(Name=name)["ResponseMetadata"]["HTTPStatusCode"] == 200
    # twice, as the API reference says every call succeeds
    assert events.delete_rule(Name=name)["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_delete_rule_on_custom_bus(events, put_rule, create_event_bus):
    bus = create_event_bus()
    name, _ = put_rule(pattern=pattern_for("s"), bus=bus)
    events.delete_rule(Name=name, EventBusName=bus)
    assert events.list_rules(EventBusName=bus)["Rules"] == []


# ----------------------------------------------------------------- targets


def test_put_list_remove_targets(events, put_rule, queue_arn):
    name, _ = put_rule(pattern=pattern_for(new_source()))
    resp = events.put_targets(Rule=name, Targets=[{"Id": "t1", "Arn": queue_arn}, {"Id": "t2", "Arn": queue_arn, "Input": '{"a": 1}'}])
    assert resp["FailedEntryCount"] == 0
    assert resp["FailedEntries"] == []
    targets = sorted(events.list_targets_by_rule(Rule=name)["Targets"], key=lambda t: t["Id"])
    assert [t["Id"] for t in targets] == ["t1", "t2"]
    assert all(t["Arn"] == queue_arn for t in targets)
    assert "Input" not in targets[0]
    assert json.loads(targets[1]["Input"]) == {"a": 1}
    resp = events.remove_targets(Rule=name, Ids=["t1"])
    assert resp["FailedEntryCount"] == 0
    assert resp["FailedEntries"] == []
    assert [t["Id"] for t in events.list_targets_by_rule(Rule=name)["Targets"]] == ["t2"]


def test_put_targets_same_id_replaces(events, put_rule, queue_arn):
    name, _ = put_rule(pattern=pattern_for(new_source()))
    events.put_targets(Rule=name, Targets=[{"Id": "t", "Arn": queue_arn}])
    events.put_targets(Rule=name, Targets=[{"Id": "t", "Arn": queue_arn, "InputPath": "$.detail"}])
    targets = events.list_targets_by_rule(Rule=name)["Targets"]
    assert len(targets) == 1
    assert targets[0]["InputPath"] == "$.detail"


def test_targets_on_custom_bus(events, put_rule, create_event_bus, queue_arn):
    bus = create_event_bus()
    name, _ = put_rule(pattern=pattern_for("s"), bus=bus)
    assert events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "t", "Arn": queue_arn}])["FailedEntryCount"] == 0
    assert [t["Id"] for t in events.list_targets_by_rule(Rule=name, EventBusName=bus)["Targets"]] == ["t"]
    # a rule of that name does not exist on the default bus
    expect_events_error(events.list_targets_by_rule, NOT_FOUND, Rule=name)


def test_put_targets_on_missing_rule(events, queue_arn):
    expect_events_error(events.put_targets, NOT_FOUND, Rule=unique_name("norule"), Targets=[{"Id": "t", "Arn": queue_arn}])


def test_remove_targets_from_missing_rule(events):
    expect_events_error(events.remove_targets, NOT_FOUND, Rule=unique_name("norule"), Ids=["t"])


def test_remove_unknown_target_id_keeps_the_others(events, put_rule, queue_arn):
    name, _ = put_rule(pattern=pattern_for(new_source()))
    events.put_targets(Rule=name, Targets=[{"Id": "t1", "Arn": queue_arn}])
    resp = events.remove_targets(Rule=name, Ids=["ghost"])
    # AWS does not document this case; whichever way it answers, the response is self-consistent
    assert resp["FailedEntryCount"] == len(resp.get("FailedEntries", []))
    for e in resp.get("FailedEntries", []):
        assert e["TargetId"] == "ghost" and e.get("ErrorCode")
    assert [t["Id"] for t in events.list_targets_by_rule(Rule=name)["Targets"]] == ["t1"]


def test_input_and_input_path_together_are_rejected(events, put_rule, queue_arn):
    name, _ = put_rule(pattern=pattern_for(new_source()))
    expect_events_error(
        events.put_targets, VALIDATION,
        Rule=name, Targets=[{"Id": "both", "Arn": queue_arn, "Input": "{}", "InputPath": "$.detail"}],
    )
    assert events.list_targets_by_rule(Rule=name)["Targets"] == []


def test_input_path_and_transformer_together_are_rejected(events, put_rule, queue_arn):
    name, _ = put_rule(pattern=pattern_for(new_source()))
    expect_events_error(
        events.put_targets,
        VALIDATION,
        "Only one of Input, InputPath, or InputTransformer must be provided for target both.",
        Rule=name,
        Targets=[
            {
                "Id": "both",
                "Arn": queue_arn,
                "InputPath": "$.detail",
                "InputTransformer": {"InputPathsMap": {"s": "$.source"}, "InputTemplate": '{"s": <s>}'},
            }
        ],
    )


def test_undefined_placeholder_is_rejected(events, put_rule, queue_arn):
    """test_events_inputs.snapshot.json TestInputTransformer::test_put_events_with_input_transformer_missing_keys."""
    name, _ = put_rule(pattern=pattern_for(new_source()))
    expect_events_error(
        events.put_targets,
        VALIDATION,
        "InputTemplate for target tt contains invalid placeholder notdefinedkey.",
        Rule=name,
        Targets=[
            {
                "Id": "tt",
                "Arn": queue_arn,
                "InputTransformer": {
                    "InputPathsMap": {"dt": "$.detail-type"},
                    "InputTemplate": '"Event of <dt> type, with not defined key <notdefinedkey>"',
                },
            }
        ],
    )


def test_five_targets_is_the_limit(events, put_rule, queue_arn):
    name, _ = put_rule(pattern=pattern_for(new_source()))
    six = [{"Id": f"t{i}", "Arn": queue_arn} for i in range(6)]
    expect_events_error(
        events.put_targets, LIMIT_EXCEEDED, "The requested resource exceeds the maximum number allowed.", Rule=name, Targets=six
    )
    assert events.put_targets(Rule=name, Targets=six[:5])["FailedEntryCount"] == 0
    assert len(events.list_targets_by_rule(Rule=name)["Targets"]) == 5
    # a sixth one later is refused too; replacing one of the five is fine
    expect_events_error(events.put_targets, LIMIT_EXCEEDED, Rule=name, Targets=[six[5]])
    assert events.put_targets(Rule=name, Targets=[{"Id": "t0", "Arn": queue_arn, "Input": "{}"}])["FailedEntryCount"] == 0
    assert len(events.list_targets_by_rule(Rule=name)["Targets"]) == 5


def test_list_targets_pagination(events, put_rule, queue_arn):
    name, _ = put_rule(pattern=pattern_for(new_source()))
    events.put_targets(Rule=name, Targets=[{"Id": f"t{i}", "Arn": queue_arn} for i in range(5)])
    first = events.list_targets_by_rule(Rule=name, Limit=2)
    assert len(first["Targets"]) == 2 and first.get("NextToken")
    seen = [t["Id"] for t in first["Targets"]]
    token = first["NextToken"]
    for _ in range(5):
        page = events.list_targets_by_rule(Rule=name, Limit=2, NextToken=token)
        seen += [t["Id"] for t in page["Targets"]]
        token = page.get("NextToken")
        if not token:
            break
    assert token is None
    assert sorted(seen) == [f"t{i}" for i in range(5)]


# ----------------------------------------------------------------- ListRuleNamesByTarget


def test_list_rule_names_by_target(events, put_rule, create_event_bus, sqs, create_queue):
    bus = create_event_bus()
    q1, q2 = get_arn(sqs, create_queue()), get_arn(sqs, create_queue())
    r1, _ = put_rule(pattern=pattern_for("s"), bus=bus)
    r2, _ = put_rule(pattern=pattern_for("s"), bus=bus)
    r3, _ = put_rule(pattern=pattern_for("s"), bus=bus)
    events.put_targets(Rule=r1, EventBusName=bus, Targets=[{"Id": "a", "Arn": q1}])
    events.put_targets(Rule=r2, EventBusName=bus, Targets=[{"Id": "b", "Arn": q1}, {"Id": "c", "Arn": q2}])
    events.put_targets(Rule=r3, EventBusName=bus, Targets=[{"Id": "d", "Arn": q2}])
    assert sorted(events.list_rule_names_by_target(TargetArn=q1, EventBusName=bus)["RuleNames"]) == sorted([r1, r2])
    assert sorted(events.list_rule_names_by_target(TargetArn=q2, EventBusName=bus)["RuleNames"]) == sorted([r2, r3])
    # the default bus has none of them
    assert events.list_rule_names_by_target(TargetArn=q1)["RuleNames"] == []


def test_list_rule_names_by_target_pagination(events, put_rule, create_event_bus, queue_arn):
    bus = create_event_bus()
    names = []
    for _ in range(5):
        n, _ = put_rule(pattern=pattern_for("s"), bus=bus)
        events.put_targets(Rule=n, EventBusName=bus, Targets=[{"Id": "t", "Arn": queue_arn}])
        names.append(n)
    first = events.list_rule_names_by_target(TargetArn=queue_arn, EventBusName=bus, Limit=2)
    assert len(first["RuleNames"]) == 2 and first.get("NextToken")
    seen = list(first["RuleNames"])
    token = first["NextToken"]
    for _ in range(5):
        page = events.list_rule_names_by_target(TargetArn=queue_arn, EventBusName=bus, Limit=2, NextToken=token)
        seen += page["RuleNames"]
        token = page.get("NextToken")
        if not token:
            break
    assert token is None
    assert sorted(seen) == sorted(names)


# ----------------------------------------------------------------- request validation (model constraints)


def test_target_id_pattern(events, put_rule, queue_arn):
    """test_events.snapshot.json TestEventTarget::test_put_target_id_validation."""
    name, _ = put_rule(pattern=pattern_for(new_source()))
    expect_events_error(
        events.put_targets,
        VALIDATION,
        "1 validation error detected: Value '!@#$@!#$' at 'targets.1.member.id' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+",
        Rule=name,
        Targets=[{"Id": "!@#$@!#$", "Arn": queue_arn}],
    )


def test_target_id_length(events, put_rule, queue_arn):
    name, _ = put_rule(pattern=pattern_for(new_source()))
    err = expect_events_error(events.put_targets, VALIDATION, Rule=name, Targets=[{"Id": "x" * 65, "Arn": queue_arn}])
    assert "Member must have length less than or equal to 64" in err.response["Error"]["Message"]


@pytest.mark.parametrize("bad", ["with space", "x" * 65, "slash/not-allowed"], ids=["space", "too-long", "slash"])
def test_rule_name_constraints(events, bad):
    expect_events_error(events.put_rule, VALIDATION, Name=bad, EventPattern=pattern_for("s"))


def test_put_permission_principal_constraint(events, create_event_bus):
    bus = create_event_bus()
    expect_events_error(
        events.put_permission, VALIDATION, EventBusName=bus, Action="events:PutEvents", Principal="not-an-account", StatementId="s"
    )


def test_target_settings_round_trip(events, put_rule, sqs, create_queue):
    name, _ = put_rule(pattern=pattern_for(new_source()))
    fifo_arn = get_arn(sqs, create_queue(fifo=True))
    std_arn = get_arn(sqs, create_queue())
    transformer = {"InputPathsMap": {"s": "$.source"}, "InputTemplate": '{"from": <s>}'}
    events.put_targets(
        Rule=name,
        Targets=[
            {"Id": "fifo", "Arn": fifo_arn, "SqsParameters": {"MessageGroupId": "g1"}, "InputPath": "$.detail"},
            {"Id": "tr", "Arn": std_arn, "InputTransformer": transformer},
        ],
    )
    targets = {t["Id"]: t for t in events.list_targets_by_rule(Rule=name)["Targets"]}
    assert targets["fifo"]["SqsParameters"] == {"MessageGroupId": "g1"}
    assert targets["fifo"]["InputPath"] == "$.detail"
    assert targets["tr"]["InputTransformer"] == transformer


def test_put_rule_again_keeps_its_targets(events, put_rule, queue_arn):
    """test_events.snapshot.json TestEventRule::test_update_rule_with_targets."""
    src = new_source()
    name, arn = put_rule(pattern=pattern_for(src))
    events.put_targets(Rule=name, Targets=[{"Id": "t", "Arn": queue_arn}])
    assert events.put_rule(Name=name, EventPattern=pattern_for(src), Description="again")["RuleArn"] == arn
    assert [t["Id"] for t in events.list_targets_by_rule(Rule=name)["Targets"]] == ["t"]


def test_missing_bus_in_rule_operations(events):
    bus = unique_name("nobus")
    expect_events_error(events.list_rules, NOT_FOUND, EventBusName=bus)
    expect_events_error(events.describe_rule, NOT_FOUND, Name="r", EventBusName=bus)
    expect_events_error(events.list_targets_by_rule, NOT_FOUND, Rule="r", EventBusName=bus)
