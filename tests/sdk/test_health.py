"""Health endpoints and protocol selection."""

import json
import os

import pytest
import requests

from conftest import EXPECTED_PROTOCOL
from sqs_helpers import capture_requests


def test_eddy_health_answers_200(endpoint):
    r = requests.get(endpoint + "/_eddy/health", timeout=5)
    assert r.status_code == 200


def test_eddy_health_names_the_store_engine(endpoint):
    """The store in /_eddy/health: fjall by default; with EDDY_STORE=postgres://…
    the schema, its migration version, the round trip and the pool size."""
    store = requests.get(endpoint + "/_eddy/health", timeout=5).json()["store"]
    assert store["status"] == "ok", store
    if os.environ.get("EDDY_ENDPOINT"):
        pytest.skip("an external server's engine is not known here")
    if os.environ.get("EDDY_STORE", "").startswith(("postgres://", "postgresql://")):
        assert store["engine"] == "postgres", store
        assert store["schema"] == os.environ.get("EDDY_STORE_SCHEMA", "eddy")
        assert store["reachable"] is True and store["schema_version"] == 3, store
        assert store["latency_ms"] >= 0 and store["connections"] == int(os.environ.get("EDDY_STORE_POOL_SIZE", "4"))
    else:
        assert store["engine"] == "fjall", store
        assert "schema" not in store


def test_health_names_each_nodes_cluster_role(endpoint):
    """On PostgreSQL every node is a cluster node: the one holding the schema leads and advertises its URL;
    with EDDY_TEST_NODES=2 the other stands by and names the leader it relays to."""
    if not os.environ.get("EDDY_STORE", "").startswith(("postgres://", "postgresql://")) or os.environ.get("EDDY_ENDPOINT"):
        pytest.skip("clusters are made of nodes on the PostgreSQL store")
    from conftest import _OTHER_NODES

    nodes = [endpoint, *(f"http://{n}" for n in _OTHER_NODES)]
    roles = {}
    for node in nodes:
        r = requests.get(node + "/_eddy/health", timeout=5)
        assert r.status_code == 200, r.text
        cluster = r.json()["cluster"]
        roles[node] = cluster
        assert cluster["advertise"] == node, cluster
    leaders = [n for n, c in roles.items() if c["role"] == "leader"]
    assert len(leaders) == 1, roles
    for node, cluster in roles.items():
        if node not in leaders:
            assert cluster == {"role": "standby", "leader": leaders[0], "leader_answers": True, "advertise": node}, cluster


def test_localstack_health_shape(endpoint):
    # LocalStack's shape: {"services": {"sqs": "running" | "available", ...}, ...}
    r = requests.get(endpoint + "/_localstack/health", timeout=5)
    assert r.status_code == 200
    body = r.json()
    assert isinstance(body.get("services"), dict), body
    assert body["services"].get("sqs") in ("running", "available"), body


def test_client_protocol_matches_expectation(sqs):
    proto = sqs.meta.service_model.protocol
    assert proto in ("json", "query")
    if EXPECTED_PROTOCOL:
        assert proto == EXPECTED_PROTOCOL, (
            f"EDDY_EXPECT_PROTOCOL={EXPECTED_PROTOCOL} but the installed botocore speaks {proto}"
        )


def test_wire_format_matches_protocol(sqs_factory):
    client = sqs_factory()
    seen = capture_requests(client)
    resp = client.list_queues()
    assert seen, "no request captured"
    req = seen[-1]
    ctype = req.headers.get("Content-Type")
    if isinstance(ctype, bytes):
        ctype = ctype.decode()
    body = req.body if isinstance(req.body, (bytes, type(None))) else req.body.encode()
    resp_ctype = resp["ResponseMetadata"]["HTTPHeaders"].get("content-type", "")
    proto = EXPECTED_PROTOCOL or client.meta.service_model.protocol
    if proto == "json":
        assert ctype == "application/x-amz-json-1.0"
        target = req.headers.get("X-Amz-Target")
        if isinstance(target, bytes):
            target = target.decode()
        assert target == "AmazonSQS.ListQueues"
        json.loads(body or b"{}")
        assert resp_ctype.split(";")[0].strip() == "application/x-amz-json-1.0"
    else:
        assert ctype.startswith("application/x-www-form-urlencoded")
        assert b"Action=ListQueues" in body and b"Version=2012-11-05" in body
        assert resp_ctype.split(";")[0].strip() == "text/xml"
    # every answer carries a request id
    assert resp["ResponseMetadata"].get("RequestId")
