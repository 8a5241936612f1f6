"""Mobile push: platform applications and endpoints (CreatePlatformApplication,
CreatePlatformEndpoint, Get/Set*Attributes, List*, Delete*, Publish to an endpoint). eddy stores
them like AWS and sends nothing; a Publish to an endpoint is recorded in the outbox (eddy's own
endpoint). Expectations follow the SNS API reference ("Mobile push notifications")."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from conftest import unique_name
from sns_helpers import expect_sns_error, outbox, reset_client


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


def test_custom_user_data_in_attributes_wins(sns, application):
    # AWS-recorded: given both ways, the CustomUserData in Attributes is kept.
    arn = sns.create_platform_endpoint(
        PlatformApplicationArn=application, Token="device-cud", Attributes={"CustomUserData": "foo"}, CustomUserData="bar"
    )["EndpointArn"]
    assert sns.get_endpoint_attributes(EndpointArn=arn)["Attributes"]["CustomUserData"] == "foo"


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



# ----------------------------------------------------------------- validation (AWS-recorded)

CREDENTIALS = {"PlatformPrincipal": "dummy", "PlatformCredential": "dummy"}
NULL_ATTRIBUTES = (
    "1 validation error detected: Value null at 'attributes' failed to satisfy constraint: Member must not be null"
)


@pytest.fixture
def adm_application(sns):
    arn = sns.create_platform_application(Name=unique_name("adm"), Platform="ADM", Attributes=CREDENTIALS)[
        "PlatformApplicationArn"
    ]
    yield arn
    sns.delete_platform_application(PlatformApplicationArn=arn)


# test_create_platform_application_invalid_name
@pytest.mark.parametrize(
    "name, reason",
    [
        ("a" * 257, "must be at most 256 characters long"),
        ("", "cannot be empty"),
        ("@name", "must contain only characters 'a'-'z', 'A'-'Z', '0'-'9', '_', '-', and '.'"),
    ],
    ids=["too-long", "empty", "invalid-char"],
)
def test_invalid_application_name(sns, name, reason):
    expect_sns_error(
        sns.create_platform_application,
        "InvalidParameter",
        400,
        message=f"Invalid parameter: {name} Reason: {reason}",
        Name=name,
        Platform="ADM",
        Attributes=CREDENTIALS,
    )


def test_invalid_platform(sns):
    # test_create_platform_application_invalid_platform
    expect_sns_error(
        sns.create_platform_application,
        "InvalidParameter",
        400,
        message="Invalid parameter: Platform Reason: AAA is not supported",
        Name=unique_name("a"),
        Platform="AAA",
        Attributes=CREDENTIALS,
    )


# test_create_platform_application_invalid_attributes
@pytest.mark.parametrize(
    "attributes, code, message",
    [
        ({}, "ValidationError", NULL_ATTRIBUTES),
        (
            {"PlatformPrincipal": "dummy"},
            "InvalidParameter",
            "Invalid parameter: Attributes Reason: PlatformPrincipal attribute provided without PlatformCredential",
        ),
        (
            {"PlatformCredential": "dummy"},
            "InvalidParameter",
            "Invalid parameter: Attributes Reason: PlatformCredential attribute provided without PlatformPrincipal",
        ),
    ],
    ids=["no-args", "missing-credential", "missing-principal"],
)
def test_invalid_application_attributes(sns, attributes, code, message):
    expect_sns_error(
        sns.create_platform_application,
        code,
        400,
        message=message,
        Name=unique_name("a"),
        Platform="ADM",
        Attributes=attributes,
    )


@pytest.mark.parametrize("operation", ["get", "set"])
def test_malformed_application_arn(sns, operation):
    # test_get/set_platform_application_attributes_invalid_arn: checked before the empty Attributes
    call, kwargs = (
        (sns.get_platform_application_attributes, {})
        if operation == "get"
        else (sns.set_platform_application_attributes, {"Attributes": {}})
    )
    expect_sns_error(
        call,
        "InvalidParameter",
        400,
        message="Invalid parameter: PlatformApplicationArn Reason: An ARN must have at least 6 elements, not 1",
        PlatformApplicationArn="invalid-arn",
        **kwargs,
    )


def test_set_attributes_of_missing_application(sns):
    # test_set_platform_application_attributes_non_existing_app: the null Attributes come first
    missing = "arn:aws:sns:us-east-1:000000000000:app/ADM/NonExistingApp"
    set_attrs = sns.set_platform_application_attributes
    expect_sns_error(set_attrs, "ValidationError", 400, message=NULL_ATTRIBUTES, PlatformApplicationArn=missing, Attributes={})
    expect_sns_error(
        set_attrs,
        "NotFound",
        404,
        message="PlatformApplication does not exist",
        PlatformApplicationArn=missing,
        Attributes={"PlatformPrincipal": "dummy"},
    )


def test_endpoints_of_deleted_application(sns, adm_application):
    # test_delete_endpoints_of_deleted_app
    sns.create_platform_endpoint(PlatformApplicationArn=adm_application, Token="token_1")
    sns.delete_platform_application(PlatformApplicationArn=adm_application)
    expect_sns_error(
        sns.list_endpoints_by_platform_application,
        "NotFound",
        404,
        message="PlatformApplication does not exist",
        PlatformApplicationArn=adm_application,
    )


# test_set_platform_endpoint_attributes_invalid_attributes, test_create_platform_endpoint_with_invalid_attributes
INVALID_ENDPOINT_ATTRIBUTES = {
    "Invalid_Name_Principal": ({"PlatformPrincipal": "Principal"}, "Invalid attribute name: PlatformPrincipal"),
    "Invalid_Name_Credential": ({"PlatformCredential": "Credential"}, "Invalid attribute name: PlatformCredential"),
    "Invalid_Name_Generic": ({"InvalidKey": "Value"}, "Invalid attribute name: InvalidKey"),
    "Data_Too_Long": (
        {"CustomUserData": "A" * 2050},
        "Invalid value for attribute: CustomUserData: must be at most 2048 bytes long in UTF-8 encoding",
    ),
}


@pytest.mark.parametrize("case", list(INVALID_ENDPOINT_ATTRIBUTES), ids=list(INVALID_ENDPOINT_ATTRIBUTES))
def test_invalid_endpoint_attributes(sns, adm_application, case):
    attributes, reason = INVALID_ENDPOINT_ATTRIBUTES[case]
    message = f"Invalid parameter: Attributes Reason: {reason}"
    expect_sns_error(
        sns.create_platform_endpoint,
        "InvalidParameter",
        400,
        message=message,
        PlatformApplicationArn=adm_application,
        Token="token_1",
        Attributes=attributes,
    )
    arn = sns.create_platform_endpoint(PlatformApplicationArn=adm_application, Token="token_1")["EndpointArn"]
    expect_sns_error(
        sns.set_endpoint_attributes, "InvalidParameter", 400, message=message, EndpointArn=arn, Attributes=attributes
    )
    expect_sns_error(
        sns.set_endpoint_attributes, "ValidationError", 400, message=NULL_ATTRIBUTES, EndpointArn=arn, Attributes={}
    )
    assert sns.get_endpoint_attributes(EndpointArn=arn)["Attributes"] == {"Enabled": "true", "Token": "token_1"}


def test_applications_and_endpoints_survive_kill(sns, sns_factory, application, restart_server):
    arn = sns.create_platform_endpoint(PlatformApplicationArn=application, Token="device-3")["EndpointArn"]
    restart_server(hard=True)
    reset_client(sns)  # the shared client's pooled connections point at the killed process
    fresh = sns_factory()
    assert fresh.get_endpoint_attributes(EndpointArn=arn)["Attributes"]["Token"] == "device-3"
    listed = fresh.list_platform_applications()["PlatformApplications"]
    assert application in [a["PlatformApplicationArn"] for a in listed]
