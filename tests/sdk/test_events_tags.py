"""EventBridge tags on event buses and rules: TagResource, UntagResource, ListTagsForResource,
Tags on CreateEventBus and PutRule.

Sources: EventBridge API reference (TagResource: "In EventBridge, rules and event buses can be
tagged"; an existing key's value is replaced) and AWS-recorded responses in LocalStack's
tests/aws/services/events/test_events_tags.snapshot.json: tests_tag_untag_resource[event_bus-*|rule-*]
(untagging a key that is not there succeeds), tests_tag_list_untag_not_existing_resource
("Rule <name> does not exist on EventBus default.", "Event bus <name> does not exist."),
TestRuleTags::test_put_rule_with_tags, TestEventBusTags::test_create_event_bus_with_tags,
test_list_tags_for_deleted_rule / _event_bus, test_recreate_tagged_resource_without_tags.
"""

import pytest

from conftest import unique_name
from events_helpers import NOT_FOUND, SKIP_SECOND_PASS, bus_arn, expect_events_error, pattern_for, rule_arn

pytestmark = SKIP_SECOND_PASS


def _tags(events, arn: str) -> dict:
    tags = events.list_tags_for_resource(ResourceARN=arn)["Tags"]
    out = {t["Key"]: t["Value"] for t in tags}
    assert len(out) == len(tags), f"duplicate keys: {tags}"
    return out


@pytest.fixture(params=["bus", "rule-default", "rule-custom"])
def resource_arn(request, create_event_bus, put_rule):
    if request.param == "bus":
        return bus_arn(create_event_bus())
    if request.param == "rule-default":
        return put_rule(pattern=pattern_for("s"))[1]
    return put_rule(pattern=pattern_for("s"), bus=create_event_bus())[1]


def test_tag_list_untag(events, resource_arn):
    assert _tags(events, resource_arn) == {}
    events.tag_resource(ResourceARN=resource_arn, Tags=[{"Key": "tag1", "Value": "value1"}, {"Key": "tag2", "Value": "value2"}])
    assert _tags(events, resource_arn) == {"tag1": "value1", "tag2": "value2"}
    events.tag_resource(ResourceARN=resource_arn, Tags=[{"Key": "tag2", "Value": "new"}])
    assert _tags(events, resource_arn) == {"tag1": "value1", "tag2": "new"}
    events.untag_resource(ResourceARN=resource_arn, TagKeys=["tag2"])
    assert _tags(events, resource_arn) == {"tag1": "value1"}
    events.untag_resource(ResourceARN=resource_arn, TagKeys=["not-there"])
    assert _tags(events, resource_arn) == {"tag1": "value1"}


def test_create_event_bus_with_tags(events, create_event_bus):
    name = create_event_bus(Tags=[{"Key": "tag1", "Value": "value1"}, {"Key": "tag2", "Value": "value2"}])
    assert _tags(events, bus_arn(name)) == {"tag1": "value1", "tag2": "value2"}


def test_put_rule_with_tags(events, put_rule):
    name, arn = put_rule(pattern=pattern_for("s"), Tags=[{"Key": "tag1", "Value": "value1"}, {"Key": "tag2", "Value": "value2"}])
    assert arn == rule_arn(name)
    assert _tags(events, arn) == {"tag1": "value1", "tag2": "value2"}


def test_default_bus_can_be_tagged(events):
    key = unique_name("k")
    arn = bus_arn("default")
    events.tag_resource(ResourceARN=arn, Tags=[{"Key": key, "Value": "v"}])
    try:
        assert _tags(events, arn)[key] == "v"
    finally:
        events.untag_resource(ResourceARN=arn, TagKeys=[key])
    assert key not in _tags(events, arn)


def test_missing_rule(events):
    name = unique_name("norule")
    arn = rule_arn(name)
    msg = f"Rule {name} does not exist on EventBus default."
    expect_events_error(events.tag_resource, NOT_FOUND, msg, ResourceARN=arn, Tags=[{"Key": "k", "Value": "v"}])
    expect_events_error(events.list_tags_for_resource, NOT_FOUND, msg, ResourceARN=arn)
    expect_events_error(events.untag_resource, NOT_FOUND, msg, ResourceARN=arn, TagKeys=["k"])


def test_missing_bus(events):
    name = unique_name("nobus")
    arn = bus_arn(name)
    msg = f"Event bus {name} does not exist."
    expect_events_error(events.tag_resource, NOT_FOUND, msg, ResourceARN=arn, Tags=[{"Key": "k", "Value": "v"}])
    expect_events_error(events.list_tags_for_resource, NOT_FOUND, msg, ResourceARN=arn)
    expect_events_error(events.untag_resource, NOT_FOUND, msg, ResourceARN=arn, TagKeys=["k"])


def test_deleted_rule_loses_its_tags(events, put_rule):
    name, arn = put_rule(pattern=pattern_for("s"), Tags=[{"Key": "k", "Value": "v"}])
    events.delete_rule(Name=name)
    expect_events_error(events.list_tags_for_resource, NOT_FOUND, ResourceARN=arn)
    # recreated without tags: none come back
    put_rule(name=name, pattern=pattern_for("s"))
    assert _tags(events, arn) == {}


def test_deleted_bus_loses_its_tags(events, create_event_bus):
    name = create_event_bus(Tags=[{"Key": "k", "Value": "v"}])
    events.delete_event_bus(Name=name)
    expect_events_error(events.list_tags_for_resource, NOT_FOUND, f"Event bus {name} does not exist.", ResourceARN=bus_arn(name))
    create_event_bus(name=name)
    assert _tags(events, bus_arn(name)) == {}
