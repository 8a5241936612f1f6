"""EventBridge connections and API destinations: CreateConnection/DescribeConnection/
ListConnections/UpdateConnection/DeauthorizeConnection/DeleteConnection,
CreateApiDestination/DescribeApiDestination/ListApiDestinations/UpdateApiDestination/
DeleteApiDestination, and events delivered to an HTTP endpoint through them.

Sources: the EventBridge user guide "API destinations" (Basic and API key authorization headers
filled in by EventBridge; OAuth client credentials exchanged for an access token; connection
header/query/body parameters; de-authorizing "removes all authorization parameters", state
De-authorizing then De-authorized; the headers of every request: User-Agent
Amazon/EventBridge/ApiDestinations, Content-Type application/json; charset=utf-8; "Events
associated with error codes 429 and 5xx are retried. Events associated with error codes 1xx, 2xx,
3xx, and 4xx (excluding 429) aren't retried"; after the retries the event goes to the target's
dead-letter queue), the API reference and botocore model (Target.HttpParameters: PathParameterValues
fill the endpoint's "*" wildcards, "In case of any conflicting keys, values from the Connection take
precedence"; ApiDestinationState, ConnectionState), "Using dead-letter queues to process
undelivered events" (ERROR_CODE attribute), and responses recorded against AWS in LocalStack's
tests/aws/services/events/test_api_destinations_and_connection.snapshot.json (cited as
`::<test name>`): connection/<name>/<id> and api-destination/<name>/<id> ARNs, AUTHORIZED for BASIC
and API_KEY, AUTHORIZING for OAuth until a token is obtained, DescribeConnection echoing
ApiKeyName/Username/ClientID but no secret and a SecretArn under
secret:events!connection/<name>/, DELETING from DeleteConnection, InvocationRateLimitPerSecond
300 by default, INACTIVE for a destination whose connection is not authorized, and the error
messages below.

The endpoint is a local http.server on 127.0.0.1 (see events_helpers.HttpRecorder). AWS requires
an HTTPS InvocationEndpoint (and AuthorizationEndpoint); eddy also accepts http:// on loopback,
which is what lets these tests see the requests.
"""

import json
import re

import pytest

from conftest import unique_name
from events_helpers import (
    ALREADY_EXISTS,
    NOT_FOUND,
    SKIP_SECOND_PASS,
    VALIDATION,
    EVENTS_PRINCIPAL,
    allow_events,
    api_destination_arn_re,
    assert_event_envelope,
    basic_auth,
    connection_arn_re,
    connection_secret_arn_prefix,
    entry,
    expect_events_error as _expect,
    new_source,
    pattern_for,
    put_ok,
    wait_connection_state,
    wait_one,
)
from iam_helpers import iam_client
from sqs_helpers import wait_until

pytestmark = SKIP_SECOND_PASS

API_KEY_AUTH = {"ApiKeyAuthParameters": {"ApiKeyName": "x-api-key", "ApiKeyValue": "api-key-secret-1"}}
BASIC_AUTH = {"BasicAuthParameters": {"Username": "user", "Password": "basic-secret-2"}}
CONNECTION_LIST_FIELDS = {"AuthorizationType", "ConnectionArn", "ConnectionState", "CreationTime",
                          "LastAuthorizedTime", "LastModifiedTime", "Name"}
DESTINATION_FIELDS = {"ApiDestinationArn", "ApiDestinationState", "ConnectionArn", "CreationTime", "Description",
                      "HttpMethod", "InvocationEndpoint", "InvocationRateLimitPerSecond", "LastModifiedTime", "Name"}


def _oauth(endpoint: str, secret: str = "client-secret-3") -> dict:
    return {
        "OAuthParameters": {
            "AuthorizationEndpoint": endpoint,
            "ClientParameters": {"ClientID": "client-id", "ClientSecret": secret},
            "HttpMethod": "POST",
            "OAuthHttpParameters": {
                "BodyParameters": [{"Key": "oauthbody", "Value": "value1", "IsValueSecret": False}],
                "HeaderParameters": [{"Key": "oauthheader", "Value": "value2", "IsValueSecret": False}],
                "QueryStringParameters": [{"Key": "oauthquery", "Value": "value3", "IsValueSecret": False}],
            },
        }
    }


def _public(resp: dict) -> str:
    """The response as text without ResponseMetadata, to look for leaked secrets."""
    return json.dumps({k: v for k, v in resp.items() if k != "ResponseMetadata"}, default=str)


@pytest.fixture(scope="module")
def invoke_role(endpoint):
    """A role EventBridge may assume to invoke API destinations (the user guide: an API destination
    target needs a role)."""
    iam = iam_client(endpoint)
    name = unique_name("events-invoke")
    trust = {"Version": "2012-10-17",
             "Statement": [{"Effect": "Allow", "Principal": {"Service": EVENTS_PRINCIPAL}, "Action": "sts:AssumeRole"}]}
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    allow = {"Version": "2012-10-17",
             "Statement": [{"Effect": "Allow", "Action": "events:InvokeApiDestination", "Resource": "*"}]}
    iam.put_role_policy(RoleName=name, PolicyName="invoke", PolicyDocument=json.dumps(allow))
    yield arn
    try:
        iam.delete_role_policy(RoleName=name, PolicyName="invoke")
        iam.delete_role(RoleName=name)
    except Exception:
        pass


def _target_rule(events, put_rule, dest_arn: str, role: str, src: str, **target_extra) -> tuple[str, str]:
    """A rule on the default bus matching `src` whose one target is the API destination."""
    name, arn = put_rule(pattern=pattern_for(src))
    resp = events.put_targets(Rule=name, Targets=[{"Id": "api", "Arn": dest_arn, "RoleArn": role, **target_extra}])
    assert resp["FailedEntryCount"] == 0, resp
    return name, arn


# ----------------------------------------------------------------- connections


def test_api_key_connection(events, create_connection):
    """::test_create_connection: AUTHORIZED, ARN connection/<name>/<id>, no ApiKeyValue in DescribeConnection."""
    params = {**API_KEY_AUTH, "InvocationHttpParameters": {
        "HeaderParameters": [{"Key": "hidden-header", "Value": "header-secret-4", "IsValueSecret": True}]}}
    name, arn, resp = create_connection("API_KEY", params, Description="api key connection")
    assert re.match(connection_arn_re(name), arn), arn
    assert resp["ConnectionState"] == "AUTHORIZED"
    assert "CreationTime" in resp and "LastModifiedTime" in resp

    desc = events.describe_connection(Name=name)
    assert (desc["Name"], desc["ConnectionArn"], desc["AuthorizationType"]) == (name, arn, "API_KEY")
    assert desc["ConnectionState"] == "AUTHORIZED"
    assert desc["Description"] == "api key connection"
    assert desc["AuthParameters"]["ApiKeyAuthParameters"] == {"ApiKeyName": "x-api-key"}
    assert desc["SecretArn"].startswith(connection_secret_arn_prefix(name)), desc["SecretArn"]
    for field in ("CreationTime", "LastModifiedTime", "LastAuthorizedTime"):
        assert field in desc, field
    text = _public(desc)
    assert "api-key-secret-1" not in text and "header-secret-4" not in text, text


def test_basic_connection(events, create_connection):
    """::test_create_connection_with_auth[auth_params0]: Username echoed, no Password."""
    name, arn, resp = create_connection("BASIC", BASIC_AUTH)
    assert resp["ConnectionState"] == "AUTHORIZED"
    desc = events.describe_connection(Name=name)
    assert desc["AuthorizationType"] == "BASIC"
    assert desc["AuthParameters"]["BasicAuthParameters"] == {"Username": "user"}
    assert "basic-secret-2" not in _public(desc)


def test_oauth_connection_gets_a_token(events, create_connection, http_recorder):
    """::test_create_connection_with_auth[auth_params2] (AUTHORIZING, ClientID echoed, no
    ClientSecret); the user guide: EventBridge exchanges the client ID and secret for an access
    token at the authorization endpoint, with the OAuth HTTP parameters; "Connection states in
    EventBridge": the states "returned by EventBridge when creating or re-authorizing a
    connection" are AUTHORIZED on success, DEAUTHORIZED on an authorization failure, so the
    token is fetched when the connection is created, before any event needs it."""
    endpoint = http_recorder.base + "/oauth/token"
    name, arn, resp = create_connection("OAUTH_CLIENT_CREDENTIALS", _oauth(endpoint))
    assert resp["ConnectionState"] in ("AUTHORIZING", "AUTHORIZED")
    desc = wait_connection_state(events, name, "AUTHORIZED")
    oauth = desc["AuthParameters"]["OAuthParameters"]
    assert oauth["AuthorizationEndpoint"] == endpoint
    assert oauth["ClientParameters"] == {"ClientID": "client-id"}
    assert oauth["HttpMethod"] == "POST"
    assert "client-secret-3" not in _public(desc)

    [token_req] = http_recorder.wait(1, "/oauth/token")
    assert token_req.method == "POST"
    assert token_req.query.get("oauthquery") == ["value3"]
    assert token_req.headers.get("oauthheader") == "value2"
    body = token_req.body.decode(errors="replace")
    assert "oauthbody" in body and "value1" in body, body
    in_header = token_req.headers.get("authorization") == basic_auth("client-id", "client-secret-3")
    in_body = "client-id" in body and "client-secret-3" in body
    assert in_header or in_body, f"client credentials neither in Authorization nor in the body: {token_req}"


def test_list_connections(events, create_connection):
    """::test_list_connections (entry fields); NamePrefix and ConnectionState filters (botocore model)."""
    prefix = unique_name("conns")
    basic, basic_arn, _ = create_connection("BASIC", BASIC_AUTH, name=f"{prefix}-basic")
    key, _, _ = create_connection("API_KEY", API_KEY_AUTH, name=f"{prefix}-key")
    listed = events.list_connections(NamePrefix=prefix)["Connections"]
    assert sorted(c["Name"] for c in listed) == [basic, key]
    one = next(c for c in listed if c["Name"] == basic)
    assert set(one) == CONNECTION_LIST_FIELDS, sorted(one)
    assert (one["ConnectionArn"], one["AuthorizationType"], one["ConnectionState"]) == (basic_arn, "BASIC", "AUTHORIZED")
    assert [c["Name"] for c in events.list_connections(NamePrefix=key)["Connections"]] == [key]
    assert len(events.list_connections(NamePrefix=prefix, ConnectionState="AUTHORIZED")["Connections"]) == 2
    assert events.list_connections(NamePrefix=prefix, ConnectionState="DEAUTHORIZED")["Connections"] == []
    assert events.list_connections(NamePrefix=prefix + "-none")["Connections"] == []


def test_update_connection(events, create_connection):
    """::test_update_connection"""
    name, arn, _ = create_connection("BASIC", BASIC_AUTH)
    resp = events.update_connection(Name=name, AuthorizationType="BASIC", Description="updated",
                                    AuthParameters={"BasicAuthParameters": {"Username": "new_user", "Password": "new-secret-5"}})
    assert resp["ConnectionArn"] == arn and resp["ConnectionState"] == "AUTHORIZED"
    desc = events.describe_connection(Name=name)
    assert desc["AuthParameters"]["BasicAuthParameters"] == {"Username": "new_user"}
    assert desc["Description"] == "updated"
    assert "new-secret-5" not in _public(desc)


def test_deauthorize_connection(events, create_connection):
    """The user guide: De-authorizing, then De-authorized."""
    name, arn, _ = create_connection("API_KEY", API_KEY_AUTH)
    resp = events.deauthorize_connection(Name=name)
    assert resp["ConnectionArn"] == arn
    assert resp["ConnectionState"] in ("DEAUTHORIZING", "DEAUTHORIZED")
    wait_connection_state(events, name, "DEAUTHORIZED")
    assert [c["Name"] for c in events.list_connections(NamePrefix=name, ConnectionState="DEAUTHORIZED")["Connections"]] == [name]


def test_delete_connection(events, create_connection):
    """::test_delete_connection (DELETING, then "Failed to describe the connection(s). Connection
    '<name>' does not exist.")"""
    name, arn, _ = create_connection("API_KEY", API_KEY_AUTH)
    resp = events.delete_connection(Name=name)
    assert resp["ConnectionArn"] == arn and resp["ConnectionState"] == "DELETING"

    def gone():
        try:
            events.describe_connection(Name=name)
            return False
        except events.exceptions.ResourceNotFoundException:
            return True

    wait_until(gone, timeout=5, what=f"connection {name} deleted")
    expect_msg = f"Failed to describe the connection(s). Connection '{name}' does not exist."
    _expect(events.describe_connection, NOT_FOUND, expect_msg, Name=name)


def test_connection_errors(events, create_connection):
    """Duplicate name and unknown connection (botocore model error lists)."""
    name, _, _ = create_connection("API_KEY", API_KEY_AUTH)
    _expect(events.create_connection, ALREADY_EXISTS, Name=name, AuthorizationType="API_KEY", AuthParameters=API_KEY_AUTH)
    missing = unique_name("noconn")
    _expect(events.describe_connection, NOT_FOUND,
            f"Failed to describe the connection(s). Connection '{missing}' does not exist.", Name=missing)
    _expect(events.delete_connection, NOT_FOUND, Name=missing)
    _expect(events.deauthorize_connection, NOT_FOUND, Name=missing)
    _expect(events.update_connection, NOT_FOUND, Name=missing, Description="x")


def test_connection_validation(events):
    """::test_create_connection_invalid_parameters, ::test_create_connection_name_validation"""
    _expect(events.create_connection, VALIDATION,
            "1 validation error detected: Value 'INVALID_AUTH_TYPE' at 'authorizationType' failed to satisfy "
            "constraint: Member must satisfy enum value set: [BASIC, OAUTH_CLIENT_CREDENTIALS, API_KEY]",
            Name=unique_name("conn"), AuthorizationType="INVALID_AUTH_TYPE", AuthParameters={})
    _expect(events.create_connection, VALIDATION,
            "1 validation error detected: Value 'Invalid Name With Spaces!' at 'name' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+",
            Name="Invalid Name With Spaces!", AuthorizationType="API_KEY", AuthParameters=API_KEY_AUTH)


def test_oauth_connection_refused_a_token_is_deauthorized(events, create_connection, http_recorder):
    """"Connection states in EventBridge": an authorization failure when creating the connection
    results in DEAUTHORIZED (OAuth, public endpoint)."""
    http_recorder.respond("/oauth-denied", 401)
    name, _, resp = create_connection("OAUTH_CLIENT_CREDENTIALS", _oauth(http_recorder.base + "/oauth-denied"))
    assert resp["ConnectionState"] in ("AUTHORIZING", "DEAUTHORIZED")
    wait_connection_state(events, name, "DEAUTHORIZED", timeout=5)
    assert http_recorder.got("/oauth-denied"), "no token request was made"


# ----------------------------------------------------------------- API destinations


def test_api_destination_lifecycle(events, create_connection, create_api_destination):
    """::test_api_destinations[auth0]: ACTIVE, describe/list fields, InvocationRateLimitPerSecond 300
    by default, update, delete, then "Failed to describe the api-destination(s). An
    api-destination '<name>' does not exist."."""
    _, conn_arn, _ = create_connection("BASIC", BASIC_AUTH)
    name, arn, resp = create_api_destination(conn_arn, "https://example.com/api", Description="Test API destination")
    assert re.match(api_destination_arn_re(name), arn), arn
    assert resp["ApiDestinationState"] == "ACTIVE"
    assert "CreationTime" in resp and "LastModifiedTime" in resp

    desc = events.describe_api_destination(Name=name)
    assert set(desc) - {"ResponseMetadata"} == DESTINATION_FIELDS, sorted(desc)
    assert (desc["Name"], desc["ApiDestinationArn"], desc["ConnectionArn"]) == (name, arn, conn_arn)
    assert (desc["ApiDestinationState"], desc["HttpMethod"], desc["InvocationEndpoint"]) == ("ACTIVE", "POST", "https://example.com/api")
    assert desc["InvocationRateLimitPerSecond"] == 300
    assert desc["Description"] == "Test API destination"

    [listed] = events.list_api_destinations(NamePrefix=name)["ApiDestinations"]
    assert set(listed) == DESTINATION_FIELDS - {"Description"}, sorted(listed)
    assert listed["ApiDestinationArn"] == arn

    up = events.update_api_destination(Name=name, ConnectionArn=conn_arn, HttpMethod="PUT", InvocationEndpoint="https://example.com/api/v2",
                                       Description="Updated API destination", InvocationRateLimitPerSecond=10)
    assert up["ApiDestinationArn"] == arn and up["ApiDestinationState"] == "ACTIVE"
    desc = events.describe_api_destination(Name=name)
    assert (desc["HttpMethod"], desc["InvocationEndpoint"], desc["Description"], desc["InvocationRateLimitPerSecond"]) == (
        "PUT", "https://example.com/api/v2", "Updated API destination", 10)

    events.delete_api_destination(Name=name)
    _expect(events.describe_api_destination, NOT_FOUND,
            f"Failed to describe the api-destination(s). An api-destination '{name}' does not exist.", Name=name)
    assert events.list_api_destinations(NamePrefix=name)["ApiDestinations"] == []


def test_list_api_destinations_filters(events, create_connection, create_api_destination):
    """NamePrefix and ConnectionArn filters (botocore model)."""
    _, c1, _ = create_connection("BASIC", BASIC_AUTH)
    _, c2, _ = create_connection("API_KEY", API_KEY_AUTH)
    prefix = unique_name("dests")
    d1, _, _ = create_api_destination(c1, "https://example.com/one", name=f"{prefix}-one", InvocationRateLimitPerSecond=5)
    d2, _, _ = create_api_destination(c2, "https://example.com/two", "GET", name=f"{prefix}-two")
    assert sorted(d["Name"] for d in events.list_api_destinations(NamePrefix=prefix)["ApiDestinations"]) == [d1, d2]
    assert [d["Name"] for d in events.list_api_destinations(NamePrefix=prefix, ConnectionArn=c2)["ApiDestinations"]] == [d2]
    assert [d["InvocationRateLimitPerSecond"] for d in events.list_api_destinations(NamePrefix=d1)["ApiDestinations"]] == [5]


def test_api_destination_errors(events, create_connection, create_api_destination):
    """Duplicate name, unknown connection, unknown destination (botocore model error lists)."""
    name_c, conn_arn, _ = create_connection("BASIC", BASIC_AUTH)
    name, _, _ = create_api_destination(conn_arn, "https://example.com/api")
    _expect(events.create_api_destination, ALREADY_EXISTS, Name=name, ConnectionArn=conn_arn,
            InvocationEndpoint="https://example.com/api", HttpMethod="POST")
    missing_conn = conn_arn.replace(f"connection/{name_c}/", f"connection/{name_c}-missing/")
    _expect(events.create_api_destination, NOT_FOUND, Name=unique_name("dest"), ConnectionArn=missing_conn,
            InvocationEndpoint="https://example.com/api", HttpMethod="POST")
    missing = unique_name("nodest")
    _expect(events.delete_api_destination, NOT_FOUND, Name=missing)
    _expect(events.update_api_destination, NOT_FOUND, Name=missing, Description="x")


def test_api_destination_validation(events, create_connection):
    """::test_create_api_destination_invalid_parameters, ::test_create_api_destination_name_validation"""
    err = _expect(events.create_api_destination, VALIDATION, Name=unique_name("dest"), ConnectionArn="invalid-connection-arn",
                  HttpMethod="INVALID_METHOD", InvocationEndpoint="invalid-endpoint")
    msg = err.response["Error"]["Message"]
    assert msg.startswith("2 validation errors detected: "), msg
    assert "Value 'invalid-connection-arn' at 'connectionArn' failed to satisfy constraint" in msg, msg
    assert "Value 'INVALID_METHOD' at 'httpMethod' failed to satisfy constraint: Member must satisfy enum value set" in msg, msg
    _, conn_arn, _ = create_connection("BASIC", BASIC_AUTH)
    _expect(events.create_api_destination, VALIDATION,
            "1 validation error detected: Value 'Invalid Name With Spaces!' at 'name' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+",
            Name="Invalid Name With Spaces!", ConnectionArn=conn_arn, HttpMethod="POST", InvocationEndpoint="https://example.com/api")


def test_destination_of_unauthorized_oauth_connection_is_inactive(events, create_connection, create_api_destination, http_recorder):
    """::test_api_destinations[auth2]: an OAuth connection without a token -> the destination is INACTIVE."""
    http_recorder.respond("/oauth-broken", 500)
    _, conn_arn, resp = create_connection("OAUTH_CLIENT_CREDENTIALS", _oauth(http_recorder.base + "/oauth-broken"))
    assert resp["ConnectionState"] == "AUTHORIZING"
    _, _, dest = create_api_destination(conn_arn, http_recorder.base + "/hook")
    assert dest["ApiDestinationState"] == "INACTIVE"


# ----------------------------------------------------------------- delivery


def test_api_key_delivery(events, put_rule, create_connection, create_api_destination, http_recorder, invoke_role):
    """The request: method, "*" filled from PathParameterValues, the connection's and the target's
    query and header parameters (the connection's win on conflicts), the API key header, the
    documented User-Agent and Content-Type, and the event as the body."""
    params = {**API_KEY_AUTH, "InvocationHttpParameters": {
        "HeaderParameters": [{"Key": "conn-header", "Value": "conn-value", "IsValueSecret": False},
                             {"Key": "shared-header", "Value": "from-connection", "IsValueSecret": False}],
        "QueryStringParameters": [{"Key": "conn_q", "Value": "cq", "IsValueSecret": False},
                                  {"Key": "shared_q", "Value": "from-connection", "IsValueSecret": False}],
    }}
    _, conn_arn, _ = create_connection("API_KEY", params)
    _, dest_arn, _ = create_api_destination(conn_arn, http_recorder.base + "/hook/*", "POST")
    src = new_source()
    _target_rule(events, put_rule, dest_arn, invoke_role, src, HttpParameters={
        "PathParameterValues": ["abc"],
        "HeaderParameters": {"target-header": "tv", "shared-header": "from-target"},
        "QueryStringParameters": {"target_q": "tq", "shared_q": "from-target"},
    })
    [event_id] = put_ok(events, [entry(src, detail={"a": 1})])
    [req] = http_recorder.wait(1, "/hook")
    assert req.method == "POST"
    assert req.path == "/hook/abc"
    assert req.headers.get("x-api-key") == "api-key-secret-1"
    assert req.headers.get("conn-header") == "conn-value"
    assert req.headers.get("target-header") == "tv"
    assert "application/json" in req.headers.get("content-type", ""), req.headers
    assert req.headers.get("user-agent") == "Amazon/EventBridge/ApiDestinations", req.headers
    assert_event_envelope(req.json(), src, "thing.happened", {"a": 1}, event_id=event_id)
    # conflicting keys: "values from the Connection take precedence" (Target.HttpParameters)
    assert req.headers.get("shared-header") == "from-connection"
    assert req.query == {"conn_q": ["cq"], "shared_q": ["from-connection"], "target_q": ["tq"]}, req.query


def test_basic_delivery_with_transformed_input(events, put_rule, create_connection, create_api_destination, http_recorder, invoke_role):
    """Authorization: Basic base64(user:password); the body is the transformed input; PUT."""
    _, conn_arn, _ = create_connection("BASIC", BASIC_AUTH)
    _, dest_arn, _ = create_api_destination(conn_arn, http_recorder.base + "/hook/basic", "PUT")
    src = new_source()
    _target_rule(events, put_rule, dest_arn, invoke_role, src, InputTransformer={
        "InputPathsMap": {"src": "$.source", "a": "$.detail.a"},
        "InputTemplate": '{"from": <src>, "a": <a>}',
    })
    put_ok(events, [entry(src, detail={"a": 7})])
    [req] = http_recorder.wait(1, "/hook")
    assert (req.method, req.path) == ("PUT", "/hook/basic")
    assert req.headers.get("authorization") == basic_auth("user", "basic-secret-2")
    assert "application/json" in req.headers.get("content-type", "")
    assert req.json() == {"from": src, "a": 7}


def test_oauth_delivery_uses_the_token(events, put_rule, create_connection, create_api_destination, http_recorder, invoke_role):
    """OAuth client credentials: the token request first, then Authorization: Bearer <access_token>.
    (When the connection becomes AUTHORIZED is test_oauth_connection_gets_a_token's matter.)"""
    name, conn_arn, _ = create_connection("OAUTH_CLIENT_CREDENTIALS", _oauth(http_recorder.base + "/oauth/token"))
    _, dest_arn, dest = create_api_destination(conn_arn, http_recorder.base + "/hook/oauth")
    src = new_source()
    _target_rule(events, put_rule, dest_arn, invoke_role, src)
    [event_id] = put_ok(events, [entry(src)])
    [req] = http_recorder.wait(1, "/hook")
    assert req.headers.get("authorization") == f"Bearer {http_recorder.TOKEN}"
    assert req.json()["id"] == event_id
    assert len(http_recorder.got("/oauth/token")) >= 1
    first = http_recorder.requests[0]
    assert first.path == "/oauth/token", http_recorder.requests


def test_server_error_is_retried(events, put_rule, create_connection, create_api_destination, http_recorder, invoke_role):
    """"Events associated with error codes 429 and 5xx are retried"."""
    http_recorder.respond("/hook", 500)
    _, conn_arn, _ = create_connection("API_KEY", API_KEY_AUTH)
    _, dest_arn, _ = create_api_destination(conn_arn, http_recorder.base + "/hook/retry")
    src = new_source()
    _target_rule(events, put_rule, dest_arn, invoke_role, src)
    [event_id] = put_ok(events, [entry(src)])
    first, second = http_recorder.wait(2, "/hook", timeout=10)[:2]
    assert first.json()["id"] == second.json()["id"] == event_id


def test_client_error_is_not_retried_and_goes_to_the_dlq(events, sqs, put_rule, create_queue, create_connection,
                                                         create_api_destination, http_recorder, invoke_role):
    """4xx other than 429 "aren't retried"; the undelivered event goes to the target's DLQ with ERROR_CODE."""
    http_recorder.respond("/hook", 400)
    _, conn_arn, _ = create_connection("API_KEY", API_KEY_AUTH)
    _, dest_arn, _ = create_api_destination(conn_arn, http_recorder.base + "/hook/bad")
    src = new_source()
    rule_name, rule_arn = put_rule(pattern=pattern_for(src))
    dlq = create_queue()
    dlq_arn = allow_events(sqs, dlq, rule_arn)
    resp = events.put_targets(Rule=rule_name, Targets=[{"Id": "api", "Arn": dest_arn, "RoleArn": invoke_role,
                                                         "DeadLetterConfig": {"Arn": dlq_arn}}])
    assert resp["FailedEntryCount"] == 0, resp
    [event_id] = put_ok(events, [entry(src)])
    m = wait_one(sqs, dlq, timeout=10, MessageAttributeNames=["All"])
    attrs = m.get("MessageAttributes", {})
    assert attrs.get("ERROR_CODE", {}).get("StringValue"), attrs
    assert attrs.get("RULE_ARN", {}).get("StringValue") == rule_arn
    assert attrs.get("TARGET_ARN", {}).get("StringValue") == dest_arn
    assert json.loads(m["Body"])["id"] == event_id
    assert len(http_recorder.got("/hook")) == 1, http_recorder.got("/hook")


def test_too_many_requests_is_retried(events, put_rule, create_connection, create_api_destination, http_recorder, invoke_role):
    """"Events associated with error codes 429 and 5xx are retried"."""
    http_recorder.respond("/hook", 429)
    _, conn_arn, _ = create_connection("API_KEY", API_KEY_AUTH)
    _, dest_arn, _ = create_api_destination(conn_arn, http_recorder.base + "/hook/busy")
    src = new_source()
    _target_rule(events, put_rule, dest_arn, invoke_role, src)
    [event_id] = put_ok(events, [entry(src)])
    first, second = http_recorder.wait(2, "/hook", timeout=10)[:2]
    assert first.json()["id"] == second.json()["id"] == event_id


def test_no_retries_left_goes_to_the_dlq(events, sqs, put_rule, create_queue, create_connection,
                                         create_api_destination, http_recorder, invoke_role):
    """Target.RetryPolicy.MaximumRetryAttempts = 0: a 5xx is not tried again; the event goes to the DLQ."""
    http_recorder.respond("/hook", 503)
    _, conn_arn, _ = create_connection("API_KEY", API_KEY_AUTH)
    _, dest_arn, _ = create_api_destination(conn_arn, http_recorder.base + "/hook/once")
    src = new_source()
    rule_name, rule_arn = put_rule(pattern=pattern_for(src))
    dlq = create_queue()
    dlq_arn = allow_events(sqs, dlq, rule_arn)
    resp = events.put_targets(Rule=rule_name, Targets=[{"Id": "api", "Arn": dest_arn, "RoleArn": invoke_role,
                                                         "RetryPolicy": {"MaximumRetryAttempts": 0},
                                                         "DeadLetterConfig": {"Arn": dlq_arn}}])
    assert resp["FailedEntryCount"] == 0, resp
    [event_id] = put_ok(events, [entry(src)])
    m = wait_one(sqs, dlq, timeout=10, MessageAttributeNames=["All"])
    assert m.get("MessageAttributes", {}).get("ERROR_CODE", {}).get("StringValue"), m.get("MessageAttributes")
    assert json.loads(m["Body"])["id"] == event_id
    assert len(http_recorder.got("/hook")) == 1, http_recorder.got("/hook")


def test_oauth_token_is_refreshed_after_401(events, put_rule, create_connection, create_api_destination, http_recorder, invoke_role):
    """"EventBridge refreshes OAuth tokens when a 401 or 407 response is returned" (user guide,
    "Authorization methods for connections")."""
    http_recorder.respond("/hook", 401)
    name, conn_arn, _ = create_connection("OAUTH_CLIENT_CREDENTIALS", _oauth(http_recorder.base + "/oauth/token"))
    wait_connection_state(events, name, "AUTHORIZED")
    tokens_before = len(http_recorder.got("/oauth/token"))
    _, dest_arn, _ = create_api_destination(conn_arn, http_recorder.base + "/hook/refresh")
    src = new_source()
    _target_rule(events, put_rule, dest_arn, invoke_role, src)
    put_ok(events, [entry(src)])
    http_recorder.wait(1, "/hook")
    http_recorder.wait(tokens_before + 1, "/oauth/token", timeout=5)


def test_updated_connection_credentials_are_used(events, put_rule, create_connection, create_api_destination, http_recorder, invoke_role):
    """UpdateConnection replaces the authorization parameters the requests carry."""
    name, conn_arn, _ = create_connection("API_KEY", API_KEY_AUTH)
    _, dest_arn, _ = create_api_destination(conn_arn, http_recorder.base + "/hook/updated")
    events.update_connection(Name=name, AuthorizationType="API_KEY",
                             AuthParameters={"ApiKeyAuthParameters": {"ApiKeyName": "x-other-key", "ApiKeyValue": "rotated-6"}})
    src = new_source()
    _target_rule(events, put_rule, dest_arn, invoke_role, src)
    put_ok(events, [entry(src)])
    [req] = http_recorder.wait(1, "/hook")
    assert req.headers.get("x-other-key") == "rotated-6"
    assert "x-api-key" not in req.headers, req.headers
