"""SNS account SMS settings and the opt-out list: Get/SetSMSAttributes,
CheckIfPhoneNumberIsOptedOut, ListPhoneNumbersOptedOut, OptInPhoneNumber.

Expectations: the API reference of each operation and AWS-recorded responses
(an untouched region's MonthlySpendLimit "1", the wording of each refusal).
eddy sends no SMS, so `POST /_eddy/sns/sms-opt-out` stands in for a
recipient's STOP reply."""

import uuid

import pytest
import requests

from sns_helpers import INVALID_PARAMETER, expect_sns_error


@pytest.fixture
def sms(sns_factory):
    """A client of a fresh account (12-digit key), so settings start untouched."""
    account = str(uuid.uuid4().int)[:12].rjust(12, "1")
    return sns_factory(account_key=account)


def _opt_out(endpoint, client, phone):
    key = client._request_signer._credentials.access_key
    auth = {
        "Authorization": f"AWS4-HMAC-SHA256 Credential={key}/20240101/us-east-1/sns/aws4_request, "
        "SignedHeaders=host, Signature=" + "0" * 64
    }
    r = requests.post(f"{endpoint}/_eddy/sns/sms-opt-out", params={"phoneNumber": phone}, headers=auth, timeout=10)
    assert r.status_code == 200, r.text


def test_untouched_account_has_the_default_spend_limit(sms):
    assert sms.get_sms_attributes()["attributes"] == {"MonthlySpendLimit": "1"}


def test_set_and_get_sms_attributes(sms):
    sms.set_sms_attributes(
        attributes={"DeliveryStatusSuccessSamplingRate": "100", "DefaultSenderID": "LSTest", "DefaultSMSType": "Promotional"}
    )
    assert sms.get_sms_attributes()["attributes"] == {
        "DefaultSMSType": "Promotional",
        "DefaultSenderID": "LSTest",
        "DeliveryStatusSuccessSamplingRate": "100",
        "MonthlySpendLimit": "1",
    }
    some = sms.get_sms_attributes(attributes=["DefaultSenderID", "DefaultSMSType"])["attributes"]
    assert some == {"DefaultSMSType": "Promotional", "DefaultSenderID": "LSTest"}


@pytest.mark.parametrize(
    "name,value,message",
    [
        ("InvalidAttribute", "invalid", "InvalidAttribute is not a valid attribute"),
        ("DefaultSendID", "a" * 12, "DefaultSendID is not a valid attribute"),
        ("DefaultSendID", "123456789", "DefaultSendID is not a valid attribute"),
        ("DefaultSMSType", "invalid", "DefaultSMSType is invalid"),
    ],
)
def test_invalid_sms_attributes(sms, name, value, message):
    # AWS-recorded codes and wording; nothing is stored.
    expect_sns_error(sms.set_sms_attributes, INVALID_PARAMETER, 400, message=message, attributes={name: value})
    assert sms.get_sms_attributes()["attributes"] == {"MonthlySpendLimit": "1"}


def test_opt_out_list(endpoint, sms):
    assert sms.check_if_phone_number_is_opted_out(phoneNumber="+15555550100")["isOptedOut"] is False
    assert sms.list_phone_numbers_opted_out()["phoneNumbers"] == []
    _opt_out(endpoint, sms, "+15555550100")
    assert sms.check_if_phone_number_is_opted_out(phoneNumber="+15555550100")["isOptedOut"] is True
    assert sms.list_phone_numbers_opted_out()["phoneNumbers"] == ["+15555550100"]
    sms.opt_in_phone_number(phoneNumber="+15555550100")
    assert sms.check_if_phone_number_is_opted_out(phoneNumber="+15555550100")["isOptedOut"] is False
    # AWS-recorded: opting in a number that was not opted out succeeds.
    sms.opt_in_phone_number(phoneNumber="+15555550199")


def test_opt_out_list_pages(endpoint, sms):
    numbers = [f"+1555555{i:04d}" for i in range(150)]
    for n in numbers:
        _opt_out(endpoint, sms, n)
    first = sms.list_phone_numbers_opted_out()
    assert len(first["phoneNumbers"]) == 100 and first["nextToken"]
    second = sms.list_phone_numbers_opted_out(nextToken=first["nextToken"])
    assert "nextToken" not in second
    assert first["phoneNumbers"] + second["phoneNumbers"] == sorted(numbers)
    expect_sns_error(sms.list_phone_numbers_opted_out, INVALID_PARAMETER, 400, nextToken="forged")


def test_malformed_phone_number(sms):
    # AWS-recorded wording.
    msg = "Invalid parameter: PhoneNumber Reason: input incorrectly formatted"
    expect_sns_error(sms.opt_in_phone_number, INVALID_PARAMETER, 400, message=msg, phoneNumber="NAA+15551234567")
    expect_sns_error(sms.check_if_phone_number_is_opted_out, INVALID_PARAMETER, 400, message=msg, phoneNumber="abc")


@pytest.mark.restart
def test_sms_settings_survive_kill(endpoint, sns_factory, restart_server):
    account = str(uuid.uuid4().int)[:12].rjust(12, "1")
    sms = sns_factory(account_key=account)
    sms.set_sms_attributes(attributes={"DefaultSMSType": "Transactional"})
    _opt_out(endpoint, sms, "+15555550142")
    restart_server(hard=True)  # kill -9: what was acknowledged is on disk
    sms = sns_factory(account_key=account)
    assert sms.get_sms_attributes()["attributes"]["DefaultSMSType"] == "Transactional"
    assert sms.list_phone_numbers_opted_out()["phoneNumbers"] == ["+15555550142"]
