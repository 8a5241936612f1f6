"""`--auth verify`: SigV4 signatures checked as AWS checks them, with each
protocol's error codes (issue 11, part 3).

Each test module's servers are their own eddy (`--auth verify` with bootstrap
keys); the session's default server keeps accepting any credentials. Cases
are a table: how the request is signed → the code AWS answers, for SQS
(awsJson and awsQuery), SNS, Kinesis (JSON and CBOR), IAM and STS.
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import boto3
import botocore.auth
import cbor2
import pytest
import requests
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from conftest import REPO, EddyServer, _free_port

if os.environ.get("EDDY_EXPECT_PROTOCOL") == "query":
    # The table signs its own requests, awsQuery ones included, with the
    # current botocore's signer: the older SDK generation adds nothing.
    pytest.skip("signature checks are covered by the awsJson pass", allow_module_level=True)

KEY, SECRET, ACCOUNT = "AKIDBOOTSTRAP", "bootstrap-secret", "111122223333"
REGION = "us-east-1"
NO_RETRY = Config(retries={"max_attempts": 1, "mode": "standard"})


def _spawn(extra=()):
    binary = os.environ.get("EDDY_BIN", str(REPO / "target" / "release" / "eddy"))
    tmp = Path(tempfile.mkdtemp(prefix="eddy-auth-"))
    args = ["--auth", "verify", "--bootstrap-key", f"{KEY}:{SECRET}:{ACCOUNT}", *extra]
    server = EddyServer(binary, tmp / "data", _free_port(), tmp / "eddy.log", extra_args=args)
    server.start()
    return server, tmp


@pytest.fixture(scope="module")
def verifying():
    if os.environ.get("EDDY_ENDPOINT"):
        pytest.skip("spawns its own eddy")
    server, tmp = _spawn()
    yield server
    server.stop()
    shutil.rmtree(tmp, ignore_errors=True)


def client(server, service, key=KEY, secret=SECRET, token=None, region=REGION):
    return boto3.client(
        service,
        endpoint_url=server.endpoint,
        region_name=region,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        aws_session_token=token,
        config=NO_RETRY,
    )


# One cheap read per service and protocol: (name, signing name, how to send it).
JSON_10 = "application/x-amz-json-1.0"
JSON_11 = "application/x-amz-json-1.1"
CBOR = "application/x-amz-cbor-1.1"
FORM = "application/x-www-form-urlencoded; charset=utf-8"
CALLS = {
    "sqs-json": ("sqs", {"X-Amz-Target": "AmazonSQS.ListQueues", "Content-Type": JSON_10}, b"{}"),
    "sqs-query": ("sqs", {"Content-Type": FORM}, b"Action=ListQueues&Version=2012-11-05"),
    "sns": ("sns", {"Content-Type": FORM}, b"Action=ListTopics&Version=2010-03-31"),
    "kinesis-json": ("kinesis", {"X-Amz-Target": "Kinesis_20131202.ListStreams", "Content-Type": JSON_11}, b"{}"),
    "kinesis-cbor": (
        "kinesis",
        {"X-Amz-Target": "Kinesis_20131202.ListStreams", "Content-Type": CBOR},
        cbor2.dumps({}),
    ),
    "iam": ("iam", {"Content-Type": FORM}, b"Action=ListUsers&Version=2010-05-08"),
    "sts": ("sts", {"Content-Type": FORM}, b"Action=GetCallerIdentity&Version=2011-06-15"),
}

# The code each protocol answers, per refusal: query services, Kinesis.
CODES = {
    "ok": (None, None),
    "wrong-secret": ("SignatureDoesNotMatch", "InvalidSignatureException"),
    "unknown-key": ("InvalidClientTokenId", "UnrecognizedClientException"),
    "wrong-service": ("SignatureDoesNotMatch", "InvalidSignatureException"),
    "wrong-region": ("SignatureDoesNotMatch", "InvalidSignatureException"),
    "skewed": ("SignatureDoesNotMatch", "InvalidSignatureException"),
    "future": ("SignatureDoesNotMatch", "InvalidSignatureException"),
    "unsigned": ("MissingAuthenticationToken", "MissingAuthenticationTokenException"),
    "incomplete": ("IncompleteSignature", "IncompleteSignatureException"),
    "signed-header-missing": ("SignatureDoesNotMatch", "InvalidSignatureException"),
    "signed-header-changed": ("SignatureDoesNotMatch", "InvalidSignatureException"),
    "token-on-permanent-key": ("InvalidClientTokenId", "UnrecognizedClientException"),
}
STATUS = {
    "SignatureDoesNotMatch": 403,
    "InvalidClientTokenId": 403,
    "MissingAuthenticationToken": 403,
    "IncompleteSignature": 400,
    "ExpiredToken": 403,
    "RequestExpired": 400,
}


def signed_request(server, signing_name, headers, body, *, key=KEY, secret=SECRET, token=None,
                   region=REGION, shift=None):
    """A request signed by botocore's own SigV4 signer, at now + `shift`."""
    req = AWSRequest(method="POST", url=server.endpoint + "/", data=body, headers=dict(headers))
    signer = botocore.auth.SigV4Auth(Credentials(key, secret, token), signing_name, region)
    if shift is None:
        signer.add_auth(req)
    else:
        real = botocore.auth.get_current_datetime
        botocore.auth.get_current_datetime = lambda: real() + shift
        try:
            signer.add_auth(req)
        finally:
            botocore.auth.get_current_datetime = real
    return req


def send(server, req):
    return requests.post(req.url, data=req.body, headers=dict(req.headers.items()), timeout=10)


def error_code(call, response):
    """The error code as each protocol carries it (None on success)."""
    if response.status_code == 200:
        return None
    ctype = response.headers.get("content-type", "")
    if "cbor" in ctype:
        return cbor2.loads(response.content)["__type"]
    if "json" in ctype:
        query_code = response.headers.get("x-amzn-query-error")
        if query_code:
            return query_code.split(";")[0]
        return response.json()["__type"].split("#")[-1]
    text = response.text
    return text.split("<Code>")[1].split("</Code>")[0]


def make(server, call, case):
    signing_name, headers, body = CALLS[call]
    if case == "ok":
        return signed_request(server, signing_name, headers, body)
    if case == "wrong-secret":
        return signed_request(server, signing_name, headers, body, secret="not-the-secret")
    if case == "unknown-key":
        return signed_request(server, signing_name, headers, body, key="AKIDNOBODYISSUED")
    if case == "wrong-service":
        # awsQuery carries its Version, which routes it whatever the scope says.
        other = "sns" if signing_name != "sns" else "sqs"
        return signed_request(server, other, headers, body)
    if case == "wrong-region":
        # Signed for eu-west-1, but the scope claims us-west-2.
        req = signed_request(server, signing_name, headers, body, region="eu-west-1")
        req.headers["Authorization"] = req.headers["Authorization"].replace("/eu-west-1/", "/us-west-2/")
        return req
    if case == "skewed":
        return signed_request(server, signing_name, headers, body, shift=datetime.timedelta(minutes=-20))
    if case == "future":
        return signed_request(server, signing_name, headers, body, shift=datetime.timedelta(minutes=20))
    if case == "unsigned":
        return AWSRequest(method="POST", url=server.endpoint + "/", data=body, headers=dict(headers))
    if case == "incomplete":
        req = signed_request(server, signing_name, headers, body)
        auth = req.headers["Authorization"]
        req.headers["Authorization"] = auth.split(", Signature=")[0]
        return req
    if case == "signed-header-missing":
        req = signed_request(server, signing_name, {**headers, "X-Eddy-Test": "1"}, body)
        del req.headers["X-Eddy-Test"]
        return req
    if case == "signed-header-changed":
        req = signed_request(server, signing_name, headers, body)
        req.headers["Content-Type"] = headers["Content-Type"] + ("; x=y" if "charset" not in headers["Content-Type"] else "")
        if "charset" in headers["Content-Type"]:
            req.headers["Content-Type"] = "application/x-www-form-urlencoded"
        return req
    if case == "token-on-permanent-key":
        return signed_request(server, signing_name, headers, body, token="not-a-session-token")
    raise AssertionError(case)


@pytest.mark.parametrize("case", list(CODES))
@pytest.mark.parametrize("call", list(CALLS))
def test_signature_table(verifying, call, case):
    req = make(verifying, call, case)
    response = send(verifying, req)
    query_code, kinesis_code = CODES[case]
    expected = kinesis_code if call.startswith("kinesis") else query_code
    if case == "wrong-service" and call in ("sqs-query", "sns", "iam", "sts"):
        expected = "SignatureDoesNotMatch"
    assert error_code(call, response) == expected, response.text
    if expected is not None:
        status = 400 if call.startswith("kinesis") else STATUS[expected]
        assert response.status_code == status, response.text
        # A Date header lets SDKs correct their clock.
        assert response.headers.get("date")


def test_skew_message_names_the_window(verifying):
    req = make(verifying, "sqs-query", "skewed")
    response = send(verifying, req)
    assert "Signature expired: " in response.text and " - 15 min.)" in response.text
    kinesis = send(verifying, make(verifying, "kinesis-json", "skewed"))
    assert "Signature expired: " in kinesis.json()["message"] and "- 5 min." in kinesis.json()["message"]


def test_sdks_pass_and_fail_through_every_service(verifying):
    sqs = client(verifying, "sqs")
    url = sqs.create_queue(QueueName="auth-ok")["QueueUrl"]
    assert f"/{ACCOUNT}/" in url, "a bootstrap key acts as its account's root"
    assert client(verifying, "sts").get_caller_identity()["Arn"] == f"arn:aws:iam::{ACCOUNT}:root"
    client(verifying, "sns").list_topics()
    client(verifying, "kinesis").list_streams()
    client(verifying, "iam").list_users()
    for service, call in [("sqs", "list_queues"), ("sns", "list_topics"), ("kinesis", "list_streams"),
                          ("iam", "list_users"), ("sts", "get_caller_identity")]:
        with pytest.raises(ClientError) as e:
            getattr(client(verifying, service, secret="wrong"), call)()
        expected = "InvalidSignatureException" if service == "kinesis" else "SignatureDoesNotMatch"
        assert e.value.response["Error"]["Code"] == expected, service


def test_presigned_urls(verifying):
    sqs = client(verifying, "sqs")
    url = sqs.create_queue(QueueName="auth-presigned")["QueueUrl"]
    # A presigned GET in awsQuery form, as the SDKs' generic presigner builds it.
    req = AWSRequest(method="GET", url=f"{url}?Action=GetQueueAttributes&AttributeName.1=All&Version=2012-11-05")
    botocore.auth.SigV4QueryAuth(Credentials(KEY, SECRET), "sqs", REGION, expires=60).add_auth(req)
    ok = requests.get(req.url, timeout=10)
    assert ok.status_code == 200, ok.text
    tampered = requests.get(req.url.replace("AttributeName.1=All", "AttributeName.1=Policy"), timeout=10)
    assert error_code("sqs-query", tampered) == "SignatureDoesNotMatch"
    # Signed 2 minutes ago, valid for 60 s.
    old = AWSRequest(method="GET", url=f"{url}?Action=GetQueueAttributes&Version=2012-11-05")
    real = botocore.auth.get_current_datetime
    botocore.auth.get_current_datetime = lambda: real() - datetime.timedelta(minutes=2)
    try:
        botocore.auth.SigV4QueryAuth(Credentials(KEY, SECRET), "sqs", REGION, expires=60).add_auth(old)
    finally:
        botocore.auth.get_current_datetime = real
    expired = requests.get(old.url, timeout=10)
    assert (expired.status_code, error_code("sqs-query", expired)) == (400, "RequestExpired"), expired.text


def test_iam_user_keys_work_until_made_inactive(verifying):
    iam = client(verifying, "iam")
    iam.create_user(UserName="auth-alice")
    key = iam.create_access_key(UserName="auth-alice")["AccessKey"]
    alice = client(verifying, "sts", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    assert alice.get_caller_identity()["Arn"].endswith(":user/auth-alice")
    iam.update_access_key(UserName="auth-alice", AccessKeyId=key["AccessKeyId"], Status="Inactive")
    with pytest.raises(ClientError) as e:
        alice.get_caller_identity()
    assert e.value.response["Error"]["Code"] == "InvalidClientTokenId"
    with pytest.raises(ClientError) as e:
        client(verifying, "kinesis", key=key["AccessKeyId"], secret=key["SecretAccessKey"]).list_streams()
    assert e.value.response["Error"]["Code"] == "UnrecognizedClientException"


def _assumed(server, duration=900):
    iam = client(server, "iam")
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}]}
    try:
        iam.create_role(RoleName="auth-role", AssumeRolePolicyDocument=json.dumps(trust))
    except ClientError as e:
        assert e.response["Error"]["Code"] == "EntityAlreadyExists"
    return client(server, "sts").assume_role(
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/auth-role", RoleSessionName="sess", DurationSeconds=duration
    )["Credentials"]


def test_session_token_required(verifying):
    creds = _assumed(verifying)
    key, secret, token = creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]
    assert ":assumed-role/auth-role/sess" in client(verifying, "sts", key, secret, token).get_caller_identity()["Arn"]
    client(verifying, "sqs", key, secret, token).list_queues()
    for bad_token in (None, token[:-4] + "AAAA"):
        for service, call, code in [("sqs", "list_queues", "InvalidClientTokenId"),
                                    ("kinesis", "list_streams", "UnrecognizedClientException")]:
            with pytest.raises(ClientError) as e:
                getattr(client(verifying, service, key, secret, bad_token), call)()
            assert e.value.response["Error"]["Code"] == code


def test_expired_session_token():
    """Temporary credentials past their expiry: ExpiredToken / ExpiredTokenException.

    The server's verification clock runs 20 minutes ahead
    (`--auth-clock-offset-secs`, tests only), and so does this client's
    signing clock: a 15-minute session is then already over, a 1-hour one not.
    """
    if os.environ.get("EDDY_ENDPOINT"):
        pytest.skip("spawns its own eddy")
    server, tmp = _spawn(["--auth-clock-offset-secs", "1200"])
    real = botocore.auth.get_current_datetime
    botocore.auth.get_current_datetime = lambda: real() + datetime.timedelta(seconds=1200)
    try:
        short, long = _assumed(server, 900), _assumed(server, 3600)
        live = (long["AccessKeyId"], long["SecretAccessKey"], long["SessionToken"])
        client(server, "sqs", *live).list_queues()
        dead = (short["AccessKeyId"], short["SecretAccessKey"], short["SessionToken"])
        for service, call, code in [("sqs", "list_queues", "ExpiredToken"), ("sns", "list_topics", "ExpiredToken"),
                                    ("sts", "get_caller_identity", "ExpiredToken"),
                                    ("kinesis", "list_streams", "ExpiredTokenException")]:
            with pytest.raises(ClientError) as e:
                getattr(client(server, service, *dead), call)()
            assert e.value.response["Error"]["Code"] == code, service
    finally:
        botocore.auth.get_current_datetime = real
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def test_eddy_endpoints_and_sns_links_stay_open(verifying):
    assert requests.get(verifying.endpoint + "/_eddy/health", timeout=5).status_code == 200
    assert requests.get(verifying.endpoint + "/_eddy/sns/outbox", timeout=5).status_code == 200
    # An UnsubscribeURL link carries no signature; AWS honours it unsigned.
    r = requests.get(verifying.endpoint + "/?Action=Unsubscribe&SubscriptionArn="
                     f"arn:aws:sns:us-east-1:{ACCOUNT}:nope:00000000-0000-0000-0000-000000000000", timeout=5)
    assert "MissingAuthenticationToken" not in r.text


def test_credentials_file_keys():
    if os.environ.get("EDDY_ENDPOINT"):
        pytest.skip("spawns its own eddy")
    tmp = Path(tempfile.mkdtemp(prefix="eddy-creds-"))
    (tmp / "credentials").write_text(
        "[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = file-secret\naccount_id = 222233334444\n"
    )
    server, data = _spawn(["--credentials-file", str(tmp / "credentials")])
    try:
        sts = client(server, "sts", key="AKIDFILE", secret="file-secret")
        assert sts.get_caller_identity()["Account"] == "222233334444"
        with pytest.raises(ClientError):
            client(server, "sts", key="AKIDFILE", secret="other").get_caller_identity()
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(data, ignore_errors=True)


def test_aws_cli_in_verify_mode(verifying, tmp_path):
    aws = shutil.which("aws") or str(Path(os.sys.executable).parent / "aws")
    if not Path(aws).exists():
        pytest.skip("the AWS CLI is not installed (tests/requirements-json.txt)")
    env = dict(os.environ, AWS_ACCESS_KEY_ID=KEY, AWS_SECRET_ACCESS_KEY=SECRET, AWS_DEFAULT_REGION=REGION,
               AWS_CONFIG_FILE=str(tmp_path / "none"), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"))
    env.pop("AWS_SESSION_TOKEN", None)
    command = [aws, "--endpoint-url", verifying.endpoint, "sqs", "list-queues"]
    ok = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stderr
    env["AWS_SECRET_ACCESS_KEY"] = "wrong"
    bad = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0 and "SignatureDoesNotMatch" in bad.stderr, bad.stderr
