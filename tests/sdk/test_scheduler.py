"""EventBridge Scheduler (restJson1, 2021-06-30), end to end with boto3: schedule groups, schedules,
tags, validation errors, and schedules firing into SQS, an EventBridge bus and a dead-letter queue.

Sources: the Scheduler API reference (operations, members, defaults: RetryPolicy
MaximumRetryAttempts 185 and MaximumEventAgeInSeconds 86400; the `default` group; error shapes and
statuses: ValidationException 400, ResourceNotFoundException 404, ConflictException 409), the user
guide ("Schedule types": at(yyyy-mm-ddThh:mm:ss), rate(value unit), cron with six fields;
"ActionAfterCompletion": DELETE removes a one-time schedule once it has fired; "Configuring a
dead-letter queue": the failed invocation's Input lands in the queue with ERROR_CODE, ERROR_MESSAGE,
INVOCATION_ID, RETRY_ATTEMPTS, SCHEDULE_ARN and TARGET_ARN message attributes; "Using templated
targets": an SQS target gets the Input as the message body, an EventBridge bus target gets it as the
event's detail with EventBridgeParameters' DetailType and Source), and the messages AWS answered for
bad expressions, recorded in LocalStack's tests/aws/services/scheduler/test_scheduler.snapshot.json
("Invalid Schedule Expression {expression}.").

Firing tests use at() a few seconds ahead rather than rates, which fire a minute apart at best.
"""

import json
import os
import time
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from conftest import unique_name

pytestmark = pytest.mark.skipif(
    os.environ.get("EDDY_EXPECT_PROTOCOL") == "query", reason="restJson1 in both passes; run once"
)

ROLE = "arn:aws:iam::000000000000:role/scheduler-role"


def err(excinfo):
    e = excinfo.value.response
    return e["Error"]["Code"], e["ResponseMetadata"]["HTTPStatusCode"], e["Error"].get("Message", "")


def queue_arn(sqs, url):
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def at_in(seconds: int) -> str:
    t = datetime.now(timezone.utc) + timedelta(seconds=seconds)
    return "at(" + t.strftime("%Y-%m-%dT%H:%M:%S") + ")"


def receive(sqs, url, timeout=25, **kwargs):
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5, MaxNumberOfMessages=10, **kwargs).get("Messages", [])
        if got:
            return got
    return []


@pytest.fixture
def create_group(scheduler):
    made = []

    def _create(name=None, **extra):
        name = name or unique_name("grp")
        scheduler.create_schedule_group(Name=name, **extra)
        made.append(name)
        return name

    yield _create
    for name in made:
        try:
            scheduler.delete_schedule_group(Name=name)
        except ClientError:
            pass


@pytest.fixture
def create_schedule(scheduler):
    made = []

    def _create(name=None, expression="rate(1 hour)", target=None, window=None, **extra):
        name = name or unique_name("sch")
        kwargs = dict(
            Name=name,
            ScheduleExpression=expression,
            Target=target or {"Arn": "arn:aws:sqs:us-east-1:000000000000:nowhere", "RoleArn": ROLE},
            FlexibleTimeWindow=window or {"Mode": "OFF"},
            **extra,
        )
        arn = scheduler.create_schedule(**kwargs)["ScheduleArn"]
        made.append((name, extra.get("GroupName")))
        return name, arn

    yield _create
    for name, group in made:
        try:
            if group:
                scheduler.delete_schedule(Name=name, GroupName=group)
            else:
                scheduler.delete_schedule(Name=name)
        except ClientError:
            pass


# --- schedule groups ----------------------------------------------------------------------------


def test_default_group_exists_and_cannot_be_deleted(scheduler):
    got = scheduler.get_schedule_group(Name="default")
    assert got["Arn"] == "arn:aws:scheduler:us-east-1:000000000000:schedule-group/default"
    assert got["Name"] == "default" and got["State"] == "ACTIVE"
    with pytest.raises(ClientError) as e:
        scheduler.delete_schedule_group(Name="default")
    assert err(e)[:2] == ("ValidationException", 400)
    with pytest.raises(ClientError) as e:
        scheduler.create_schedule_group(Name="default")
    assert err(e)[:2] == ("ConflictException", 409)


def test_group_lifecycle(scheduler, create_group):
    name = unique_name("grp")
    arn = scheduler.create_schedule_group(Name=name)["ScheduleGroupArn"]
    assert arn == f"arn:aws:scheduler:us-east-1:000000000000:schedule-group/{name}"
    got = scheduler.get_schedule_group(Name=name)
    assert got["Arn"] == arn and got["State"] == "ACTIVE"
    assert isinstance(got["CreationDate"], datetime) and isinstance(got["LastModificationDate"], datetime)
    with pytest.raises(ClientError) as e:
        scheduler.create_schedule_group(Name=name)
    assert err(e)[:2] == ("ConflictException", 409)
    listed = scheduler.list_schedule_groups(NamePrefix=name)["ScheduleGroups"]
    assert [g["Name"] for g in listed] == [name]
    all_names = [g["Name"] for g in scheduler.list_schedule_groups()["ScheduleGroups"]]
    assert "default" in all_names
    scheduler.delete_schedule_group(Name=name)
    with pytest.raises(ClientError) as e:
        scheduler.get_schedule_group(Name=name)
    assert err(e)[:2] == ("ResourceNotFoundException", 404)
    with pytest.raises(ClientError) as e:
        scheduler.delete_schedule_group(Name=name)
    assert err(e)[:2] == ("ResourceNotFoundException", 404)


def test_deleting_a_group_deletes_its_schedules(scheduler, create_group, create_schedule):
    group = create_group()
    name, _ = create_schedule(GroupName=group)
    assert scheduler.get_schedule(Name=name, GroupName=group)["GroupName"] == group
    scheduler.delete_schedule_group(Name=group)
    assert scheduler.list_schedules(NamePrefix=name)["Schedules"] == []


def test_list_schedule_groups_pages(scheduler, create_group):
    prefix = unique_name("pg")
    names = sorted(create_group(f"{prefix}-{i}") for i in range(5))
    seen, token = [], None
    while True:
        kwargs = {"NamePrefix": prefix, "MaxResults": 2}
        if token:
            kwargs["NextToken"] = token
        page = scheduler.list_schedule_groups(**kwargs)
        assert len(page["ScheduleGroups"]) <= 2
        seen += [g["Name"] for g in page["ScheduleGroups"]]
        token = page.get("NextToken")
        if not token:
            break
    assert seen == names


# --- tags -----------------------------------------------------------------------------------------


def test_tags_on_groups(scheduler, create_group):
    group = create_group(Tags=[{"Key": "team", "Value": "a"}])
    arn = scheduler.get_schedule_group(Name=group)["Arn"]
    assert scheduler.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "a"}]
    scheduler.tag_resource(ResourceArn=arn, Tags=[{"Key": "env", "Value": "dev"}, {"Key": "team", "Value": "b"}])
    tags = {t["Key"]: t["Value"] for t in scheduler.list_tags_for_resource(ResourceArn=arn)["Tags"]}
    assert tags == {"team": "b", "env": "dev"}
    scheduler.untag_resource(ResourceArn=arn, TagKeys=["team"])
    assert scheduler.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "env", "Value": "dev"}]
    missing = arn.rsplit("/", 1)[0] + "/" + unique_name("gone")
    with pytest.raises(ClientError) as e:
        scheduler.list_tags_for_resource(ResourceArn=missing)
    assert err(e)[:2] == ("ResourceNotFoundException", 404)
    with pytest.raises(ClientError) as e:
        scheduler.tag_resource(ResourceArn="arn:aws:sqs:us-east-1:000000000000:q", Tags=[{"Key": "k", "Value": "v"}])
    assert err(e)[:2] == ("ValidationException", 400)


# --- schedules ------------------------------------------------------------------------------------


def test_schedule_lifecycle_and_defaults(scheduler, create_schedule):
    target = {"Arn": "arn:aws:sqs:us-east-1:000000000000:some-queue", "RoleArn": ROLE, "Input": "hello"}
    name, arn = create_schedule(expression="cron(0 12 * * ? *)", target=target, Description="first")
    assert arn == f"arn:aws:scheduler:us-east-1:000000000000:schedule/default/{name}"
    got = scheduler.get_schedule(Name=name)
    assert got["Arn"] == arn and got["Name"] == name and got["GroupName"] == "default"
    assert got["ScheduleExpression"] == "cron(0 12 * * ? *)"
    assert got["State"] == "ENABLED" and got["ActionAfterCompletion"] == "NONE"
    assert got["Description"] == "first"
    assert got["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert got["Target"]["Arn"] == target["Arn"] and got["Target"]["Input"] == "hello"
    assert got["Target"]["RetryPolicy"] == {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185}
    assert isinstance(got["CreationDate"], datetime)
    with pytest.raises(ClientError) as e:
        create_schedule(name=name)
    assert err(e)[:2] == ("ConflictException", 409)
    # UpdateSchedule replaces the whole definition: what it leaves out is gone.
    scheduler.update_schedule(
        Name=name,
        ScheduleExpression="rate(5 minutes)",
        Target={"Arn": target["Arn"], "RoleArn": ROLE, "RetryPolicy": {"MaximumRetryAttempts": 3}},
        FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 10},
        State="DISABLED",
    )
    got = scheduler.get_schedule(Name=name)
    assert got["ScheduleExpression"] == "rate(5 minutes)" and got["State"] == "DISABLED"
    assert "Description" not in got and "Input" not in got["Target"]
    assert got["Target"]["RetryPolicy"] == {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 3}
    assert got["FlexibleTimeWindow"] == {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 10}
    scheduler.delete_schedule(Name=name)
    for call in (lambda: scheduler.get_schedule(Name=name), lambda: scheduler.delete_schedule(Name=name)):
        with pytest.raises(ClientError) as e:
            call()
        assert err(e)[:2] == ("ResourceNotFoundException", 404)
    with pytest.raises(ClientError) as e:
        scheduler.update_schedule(
            Name=name, ScheduleExpression="rate(1 hour)", Target=target, FlexibleTimeWindow={"Mode": "OFF"}
        )
    assert err(e)[:2] == ("ResourceNotFoundException", 404)


def test_time_zones_and_dates_round_trip(scheduler, create_schedule):
    start = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=1)
    end = start + timedelta(days=30)
    name, _ = create_schedule(
        expression="cron(30 8 ? * MON-FRI *)",
        ScheduleExpressionTimezone="America/New_York",
        StartDate=start,
        EndDate=end,
    )
    got = scheduler.get_schedule(Name=name)
    assert got["ScheduleExpressionTimezone"] == "America/New_York"
    assert got["StartDate"] == start and got["EndDate"] == end
    with pytest.raises(ClientError) as e:
        create_schedule(ScheduleExpressionTimezone="Mars/Olympus_Mons")
    assert err(e)[:2] == ("ValidationException", 400)


def test_list_schedules_filters_and_pages(scheduler, create_group, create_schedule):
    group = create_group()
    prefix = unique_name("ls")
    for i in range(3):
        create_schedule(name=f"{prefix}-{i}", GroupName=group)
    create_schedule(name=f"{prefix}-off", GroupName=group, State="DISABLED")
    create_schedule(name=f"{prefix}-dflt")
    in_group = scheduler.list_schedules(GroupName=group)["Schedules"]
    assert sorted(s["Name"] for s in in_group) == [f"{prefix}-0", f"{prefix}-1", f"{prefix}-2", f"{prefix}-off"]
    assert all(s["GroupName"] == group and s["Target"]["Arn"] for s in in_group)
    disabled = scheduler.list_schedules(NamePrefix=prefix, State="DISABLED")["Schedules"]
    assert [s["Name"] for s in disabled] == [f"{prefix}-off"]
    seen, token = [], None
    while True:
        kwargs = {"NamePrefix": prefix, "MaxResults": 2}
        if token:
            kwargs["NextToken"] = token
        page = scheduler.list_schedules(**kwargs)
        assert len(page["Schedules"]) <= 2
        seen += [s["Name"] for s in page["Schedules"]]
        token = page.get("NextToken")
        if not token:
            break
    assert sorted(seen) == sorted([f"{prefix}-{i}" for i in range(3)] + [f"{prefix}-off", f"{prefix}-dflt"])
    with pytest.raises(ClientError) as e:
        scheduler.list_schedules(GroupName=unique_name("nogroup"))
    assert err(e)[:2] == ("ResourceNotFoundException", 404)


# --- validation -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expression",
    [
        "cron(0 1 * * * *)",
        "cron(7 20 * * NOT *)",
        "cron(INVALID)",
        "cron(71 8 1 * ? *)",
        "cron()",
        "rate(10 seconds)",
        "rate(10 years)",
        "rate(10)",
        "rate(-10 minutes)",
        "rate( 10 minutes )",
        "at(2021-12-31T23:59:59Z)",
        "at(2021-12-31)",
    ],
)
def test_invalid_schedule_expressions(create_schedule, expression):
    with pytest.raises(ClientError) as e:
        create_schedule(expression=expression)
    assert err(e) == ("ValidationException", 400, f"Invalid Schedule Expression {expression}.")


def test_rate_units_singular_or_plural(create_schedule):
    # AWS accepted rate(2 minute) (recorded in LocalStack's scheduler snapshots).
    for expression in ("rate(2 minute)", "rate(1 minute)", "rate(3 hours)", "rate(1 day)"):
        create_schedule(expression=expression)


def test_invalid_members(scheduler, create_schedule):
    with pytest.raises(ClientError) as e:
        create_schedule(GroupName=unique_name("nogroup"))
    assert err(e)[:2] == ("ResourceNotFoundException", 404)
    with pytest.raises(ClientError) as e:
        create_schedule(window={"Mode": "FLEXIBLE"})
    assert err(e)[:2] == ("ValidationException", 400)
    with pytest.raises(ClientError) as e:
        create_schedule(target={"Arn": "arn:aws:sqs:us-east-1:000000000000:q", "RoleArn": "not-a-role"})
    assert err(e)[:2] == ("ValidationException", 400)
    with pytest.raises(ClientError) as e:
        create_schedule(ActionAfterCompletion="LATER")
    assert err(e)[:2] == ("ValidationException", 400)


# --- firing ---------------------------------------------------------------------------------------


def test_at_schedule_fires_into_a_queue_and_deletes_itself(scheduler, sqs, create_queue, create_schedule):
    url = create_queue()
    target = {"Arn": queue_arn(sqs, url), "RoleArn": ROLE, "Input": '{"job": 42}'}
    name, _ = create_schedule(expression=at_in(3), target=target, ActionAfterCompletion="DELETE")
    assert scheduler.get_schedule(Name=name)["ActionAfterCompletion"] == "DELETE"
    got = receive(sqs, url)
    assert [m["Body"] for m in got] == ['{"job": 42}']
    deadline = time.time() + 5
    while time.time() < deadline:
        try:
            scheduler.get_schedule(Name=name)
        except ClientError as e:
            assert e.response["Error"]["Code"] == "ResourceNotFoundException"
            break
        time.sleep(0.2)
    else:
        pytest.fail("the completed schedule was not deleted")


def test_at_schedule_keeps_itself_with_action_none(scheduler, sqs, create_queue, create_schedule):
    url = create_queue()
    target = {"Arn": queue_arn(sqs, url), "RoleArn": ROLE, "Input": "kept"}
    name, _ = create_schedule(expression=at_in(2), target=target)
    assert [m["Body"] for m in receive(sqs, url)] == ["kept"]
    assert scheduler.get_schedule(Name=name)["Name"] == name


def test_at_schedule_fires_into_an_event_bus(sqs, events, create_queue, put_rule, create_schedule):
    source = unique_name("my.app")
    url = create_queue()
    arn = queue_arn(sqs, url)
    rule_name, rule_arn = put_rule(pattern={"source": [source]})
    policy = {
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sqs:SendMessage",
            "Resource": arn, "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
        }],
    }
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    events.put_targets(Rule=rule_name, Targets=[{"Id": "q", "Arn": arn}])
    target = {
        "Arn": "arn:aws:events:us-east-1:000000000000:event-bus/default",
        "RoleArn": ROLE,
        "Input": '{"order": 7}',
        "EventBridgeParameters": {"DetailType": "OrderDue", "Source": source},
    }
    _, schedule_arn = create_schedule(expression=at_in(3), target=target)
    got = receive(sqs, url)
    assert len(got) == 1
    event = json.loads(got[0]["Body"])
    assert event["source"] == source and event["detail-type"] == "OrderDue"
    assert event["detail"] == {"order": 7}
    assert event["resources"] == [schedule_arn]


def test_failed_invocation_goes_to_the_dead_letter_queue(sqs, create_queue, create_schedule):
    dlq = create_queue()
    gone = "arn:aws:sqs:us-east-1:000000000000:" + unique_name("never-made")
    target = {"Arn": gone, "RoleArn": ROLE, "Input": "lost", "DeadLetterConfig": {"Arn": queue_arn(sqs, dlq)}}
    _, schedule_arn = create_schedule(expression=at_in(2), target=target)
    got = receive(sqs, dlq, MessageAttributeNames=["All"])
    assert len(got) == 1 and got[0]["Body"] == "lost"
    attrs = {k: v["StringValue"] for k, v in got[0]["MessageAttributes"].items()}
    assert attrs["SCHEDULE_ARN"] == schedule_arn
    assert attrs["TARGET_ARN"] == gone
    assert attrs["RETRY_ATTEMPTS"] == "0"
    assert {"ERROR_CODE", "ERROR_MESSAGE", "INVOCATION_ID"} <= set(attrs)


def test_other_targets_are_recorded_in_the_outbox(endpoint, create_schedule):
    import urllib.request

    fn = "arn:aws:lambda:us-east-1:000000000000:function:" + unique_name("fn")
    create_schedule(expression=at_in(2), target={"Arn": fn, "RoleArn": ROLE, "Input": "{}"})
    deadline = time.time() + 10
    while time.time() < deadline:
        with urllib.request.urlopen(f"{endpoint}/_eddy/scheduler/outbox?limit=1000") as r:
            entries = json.load(r)["entries"]
        if any(e["target_arn"] == fn for e in entries):
            return
        time.sleep(0.3)
    pytest.fail("the Lambda invocation was not recorded")


# --- durability -----------------------------------------------------------------------------------


@pytest.mark.restart
def test_groups_schedules_and_a_due_firing_survive_a_kill(scheduler, sqs, create_queue, create_group, restart_server):
    group = create_group(Tags=[{"Key": "k", "Value": "v"}])
    url = create_queue()
    name = unique_name("dur")
    target = {"Arn": queue_arn(sqs, url), "RoleArn": ROLE, "Input": "after-restart"}
    scheduler.create_schedule(
        Name=name, GroupName=group, ScheduleExpression=at_in(6), Target=target, FlexibleTimeWindow={"Mode": "OFF"}
    )
    restart_server(hard=True)
    try:
        scheduler._endpoint.http_session.close()
    except Exception:
        pass
    got = scheduler.get_schedule(Name=name, GroupName=group)
    assert got["Target"]["Input"] == "after-restart"
    arn = scheduler.get_schedule_group(Name=group)["Arn"]
    assert scheduler.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "k", "Value": "v"}]
    # The at() came due around the restart: it fires once, not never and not twice.
    assert [m["Body"] for m in receive(sqs, url)] == ["after-restart"]
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=3).get("Messages", []) == []
