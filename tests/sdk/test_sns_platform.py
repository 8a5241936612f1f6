"""Mobile push: platform applications and endpoints (CreatePlatformApplication,
CreatePlatformEndpoint, Get/Set*Attributes, List*, Delete*, Publish to an endpoint). eddy stores
them like AWS and sends nothing; a Publish to an endpoint is recorded in the outbox (eddy's own
endpoint). Expectations follow the SNS API reference ("Mobile push notifications")."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from conftest import unique_name
from sns_helpers import outbox, reset_client


@pytest.fixture
def application(sns):
    name = unique_name("app")
    arn = sns.create_platform_application(
        Name=name, Platform="GCM", Attributes={"PlatformCredential": "server-key"}
    )["PlatformApplicationArn"]
    yield arn
    sns.delete_platform_application(PlatformApplicationArn=arn)


def error_code(call, **kwargs) -> str:
    with pytest.raises(ClientError) as e:
        call(**kwargs)
    return e.value.response["Error"]["Code"]


def test_application_lifecycle(sns, application):
    assert ":app/GCM/" in application
    listed = sns.list_platform_applications()["PlatformApplications"]
    assert application in [a["PlatformApplicationArn"] for a in listed]
    attrs = sns.get_platform_application_attributes(PlatformApplicationArn=application)["Attributes"]
    assert "PlatformCredential" not in attrs  # credentials are write-only
    sns.set_platform_application_attributes(
        PlatformApplicationArn=application, Attributes={"EventEndpointCreated": "arn:aws:sns:us-east-1:000000000000:x"}
    )
    attrs = sns.get_platform_application_attributes(PlatformApplicationArn=application)["Attributes"]
    assert attrs["EventEndpointCreated"] == "arn:aws:sns:us-east-1:000000000000:x"


def test_endpoint_is_idempotent_per_token(sns, application):
    arn = sns.create_platform_endpoint(PlatformApplicationArn=application, Token="device-1", CustomUserData="u1")[
        "EndpointArn"
    ]
    assert ":endpoint/GCM/" in arn
    again = sns.create_platform_endpoint(PlatformApplicationArn=application, Token="device-1", CustomUserData="u1")
    assert again["EndpointArn"] == arn
    code = error_code(
        sns.create_platform_endpoint, PlatformApplicationArn=application, Token="device-1", CustomUserData="other"
    )
    assert code == "InvalidParameter"
    attrs = sns.get_endpoint_attributes(EndpointArn=arn)["Attributes"]
    assert attrs["Token"] == "device-1" and attrs["Enabled"] == "true" and attrs["CustomUserData"] == "u1"
    endpoints = sns.list_endpoints_by_platform_application(PlatformApplicationArn=application)["Endpoints"]
    assert [e["EndpointArn"] for e in endpoints] == [arn]


def test_publish_to_endpoint_is_recorded_and_disabled_endpoints_refuse(sns, endpoint, application):
    arn = sns.create_platform_endpoint(PlatformApplicationArn=application, Token="device-2")["EndpointArn"]
    message_id = sns.publish(TargetArn=arn, Message="ping")["MessageId"]
    entries = [m for m in outbox(endpoint) if m["messageId"] == message_id]
    assert len(entries) == 1
    assert entries[0]["protocol"] == "application" and entries[0]["endpoint"] == arn
    assert entries[0]["message"] == "ping"
    sns.set_endpoint_attributes(EndpointArn=arn, Attributes={"Enabled": "false"})
    assert error_code(sns.publish, TargetArn=arn, Message="ping") == "EndpointDisabled"
    sns.delete_endpoint(EndpointArn=arn)
    sns.delete_endpoint(EndpointArn=arn)  # idempotent
    assert error_code(sns.get_endpoint_attributes, EndpointArn=arn) == "NotFound"


def test_missing_application(sns):
    missing = "arn:aws:sns:us-east-1:000000000000:app/GCM/" + unique_name("none")
    assert error_code(sns.get_platform_application_attributes, PlatformApplicationArn=missing) == "NotFound"
    assert error_code(sns.create_platform_endpoint, PlatformApplicationArn=missing, Token="t") == "NotFound"
    assert (
        error_code(sns.create_platform_application, Name=unique_name("a"), Platform="PIGEON", Attributes={})
        == "InvalidParameter"
    )


def test_applications_and_endpoints_survive_kill(sns, sns_factory, application, restart_server):
    arn = sns.create_platform_endpoint(PlatformApplicationArn=application, Token="device-3")["EndpointArn"]
    restart_server(hard=True)
    reset_client(sns)  # the shared client's pooled connections point at the killed process
    fresh = sns_factory()
    assert fresh.get_endpoint_attributes(EndpointArn=arn)["Attributes"]["Token"] == "device-3"
    listed = fresh.list_platform_applications()["PlatformApplications"]
    assert application in [a["PlatformApplicationArn"] for a in listed]
