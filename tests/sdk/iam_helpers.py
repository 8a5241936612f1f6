"""Shared helpers for the IAM and STS suites.

IAM and STS speak awsQuery in every botocore version, so the second pass of the suite (botocore 1.31,
EDDY_EXPECT_PROTOCOL=query) would repeat the first: each IAM/STS module skips itself there."""

from __future__ import annotations

import json
import os

import pytest
from botocore.exceptions import ClientError

from conftest import make_client, unique_name

TRUST_ACCOUNT = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:root"}, "Action": "sts:AssumeRole"}],
    }
)
TRUST_LAMBDA = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
)
ALLOW_SQS = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}]})


def skip_second_pass():
    if os.environ.get("EDDY_EXPECT_PROTOCOL") == "query":
        pytest.skip("IAM and STS are awsQuery in every SDK generation: covered by the first pass", allow_module_level=True)


def iam_client(endpoint, access_key="test", secret="test", token=None, **cfg):
    return _client(endpoint, "iam", access_key, secret, token, **cfg)


def sts_client(endpoint, access_key="test", secret="test", token=None, **cfg):
    return _client(endpoint, "sts", access_key, secret, token, **cfg)


def _client(endpoint, service, access_key, secret, token, **cfg):
    c = make_client(endpoint, access_key=access_key, service=service, **cfg)
    if secret != "test" or token:
        import boto3
        from botocore.config import Config

        c = boto3.session.Session().client(
            service,
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id=access_key,
            aws_secret_access_key=secret,
            aws_session_token=token,
            config=Config(retries={"max_attempts": 0}, **cfg),
        )
    return c


def client_from(endpoint, service, credentials):
    """A client of `service` signing with STS/IAM credentials (a Credentials or AccessKey dict)."""
    return _client(
        endpoint,
        service,
        credentials["AccessKeyId"],
        credentials["SecretAccessKey"],
        credentials.get("SessionToken"),
    )


def error_of(excinfo) -> tuple[str, int, str]:
    e = excinfo.value
    assert isinstance(e, ClientError), e
    return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Message"]


def role_name(prefix="role"):
    return unique_name(prefix)
