"""EventBridge Schema Registry (restJson1, `schemas`, 2019-12-02), end to end with boto3: registries,
schemas and versions, search, export, resource policies, tags, discoverers and schema discovery from
the events on a bus.

Sources: the Schemas API reference and its botocore model (operations, members, statuses: 201 for
CreateRegistry/CreateSchema/CreateDiscoverer, 204 for deletions and tagging; error shapes
BadRequestException 400, NotFoundException 404, ConflictException 409, PreconditionFailedException
412, each with Code and Message; Type OpenApi3 or JSONSchemaDraft4; Content up to 100000 characters;
GetDiscoveredSchema takes 1 to 10 events), and the EventBridge user guide: "Schema registries"
(`aws.events` is AWS's registry, `discovered-schemas` holds what discoverers infer), "Schema
discovery" (a discoverer on a bus infers a schema per source and detail type, named
`{source}@{DetailType}`; a changed event makes a new version; discovery adds fields), "Creating a
schema from event JSON" (the OpenAPI 3 document AWS generates: an AWSEvent component with the
envelope's fields, x-amazon-events-source and x-amazon-events-detail-type, `detail` a $ref to the
component named after the detail type), "Searching schemas" (keywords match schema names).
"""

import json
import os
import time

import pytest
from botocore.exceptions import ClientError

from conftest import make_client, unique_name

pytestmark = pytest.mark.skipif(
    os.environ.get("EDDY_EXPECT_PROTOCOL") == "query", reason="restJson1 in both passes; run once"
)

OPENAPI = {
    "openapi": "3.0.0",
    "info": {"version": "1.0.0", "title": "Order"},
    "paths": {},
    "components": {
        "schemas": {
            "Order": {
                "type": "object",
                "required": ["id"],
                "properties": {"id": {"type": "string"}, "item": {"$ref": "#/components/schemas/Item"}},
            },
            "Item": {"type": "object", "properties": {"sku": {"type": "string"}}},
        }
    },
}
DRAFT4 = {"$schema": "http://json-schema.org/draft-04/schema#", "type": "object", "properties": {"a": {"type": "string"}}}


def err(excinfo):
    e = excinfo.value.response
    return e["Error"]["Code"], e["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture(scope="module")
def schemas(endpoint):
    return make_client(endpoint, service="schemas")


@pytest.fixture
def create_registry(schemas):
    made = []

    def _create(name=None, **extra):
        name = name or unique_name("reg")
        schemas.create_registry(RegistryName=name, **extra)
        made.append(name)
        return name

    yield _create
    for name in made:
        try:
            schemas.delete_registry(RegistryName=name)
        except ClientError:
            pass


@pytest.fixture
def create_discoverer(schemas):
    made = []

    def _create(source_arn, **extra):
        out = schemas.create_discoverer(SourceArn=source_arn, **extra)
        made.append(out["DiscovererId"])
        return out

    yield _create
    for d in made:
        try:
            schemas.delete_discoverer(DiscovererId=d)
        except ClientError:
            pass


def bus_arn(events, name):
    return events.describe_event_bus(Name=name)["Arn"]


def put(events, bus, source, detail_type, detail):
    out = events.put_events(
        Entries=[{"EventBusName": bus, "Source": source, "DetailType": detail_type, "Detail": json.dumps(detail)}]
    )
    assert out["FailedEntryCount"] == 0, out


def discovered(schemas, name, version=None, timeout=15):
    """The discovered schema (at `version` or later), waiting for discovery; None if it never shows."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            got = schemas.describe_schema(RegistryName="discovered-schemas", SchemaName=name)
            if version is None or int(got["SchemaVersion"]) >= version:
                return got
        except ClientError as e:
            if e.response["Error"]["Code"] != "NotFoundException":
                raise
        time.sleep(0.3)
    return None


# --- registries ------------------------------------------------------------------------------------


def test_registry_crud(schemas, create_registry):
    name = unique_name("reg")
    out = schemas.create_registry(RegistryName=name, Description="orders", Tags={"team": "a"})
    try:
        assert out["ResponseMetadata"]["HTTPStatusCode"] == 201
        assert out["RegistryArn"] == f"arn:aws:schemas:us-east-1:000000000000:registry/{name}"
        assert out["Tags"] == {"team": "a"}
        got = schemas.describe_registry(RegistryName=name)
        assert (got["RegistryName"], got["Description"]) == (name, "orders")
        up = schemas.update_registry(RegistryName=name, Description="changed")
        assert up["Description"] == "changed"
        with pytest.raises(ClientError) as e:
            schemas.create_registry(RegistryName=name)
        assert err(e) == ("ConflictException", 409)
    finally:
        d = schemas.delete_registry(RegistryName=name)
    assert d["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as e:
        schemas.describe_registry(RegistryName=name)
    assert err(e) == ("NotFoundException", 404)
    with pytest.raises(ClientError) as e:
        schemas.delete_registry(RegistryName=name)
    assert err(e) == ("NotFoundException", 404)
    with pytest.raises(ClientError) as e:
        schemas.create_registry(RegistryName=name, Description="x" * 257)
    assert err(e) == ("BadRequestException", 400)


def test_list_registries_scope_prefix_and_paging(schemas, create_registry):
    prefix = unique_name("lst")
    names = [create_registry(f"{prefix}-{i}") for i in range(3)]
    listed = schemas.list_registries(RegistryNamePrefix=prefix)["Registries"]
    assert [r["RegistryName"] for r in listed] == names
    page = schemas.list_registries(RegistryNamePrefix=prefix, Limit=2)
    assert len(page["Registries"]) == 2
    rest = schemas.list_registries(RegistryNamePrefix=prefix, Limit=2, NextToken=page["NextToken"])
    assert [r["RegistryName"] for r in rest["Registries"]] == names[2:]
    aws = [r["RegistryName"] for r in schemas.list_registries(Scope="AWS")["Registries"]]
    assert aws == ["aws.events"]
    local = [r["RegistryName"] for r in schemas.list_registries(Scope="LOCAL")["Registries"]]
    assert "aws.events" not in local and set(names) <= set(local)
    assert schemas.describe_registry(RegistryName="aws.events")["RegistryName"] == "aws.events"
    with pytest.raises(ClientError) as e:
        schemas.list_registries(NextToken="garbage")
    assert err(e) == ("BadRequestException", 400)


def test_resource_policy_revisions(schemas, create_registry):
    reg = create_registry()
    with pytest.raises(ClientError) as e:
        schemas.get_resource_policy(RegistryName=reg)
    assert err(e) == ("NotFoundException", 404)
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "111111111111"},
                                                       "Action": "schemas:DescribeSchema", "Resource": "*"}]}
    put1 = schemas.put_resource_policy(RegistryName=reg, Policy=json.dumps(policy))
    got = schemas.get_resource_policy(RegistryName=reg)
    assert json.loads(got["Policy"]) == policy and got["RevisionId"] == put1["RevisionId"]
    with pytest.raises(ClientError) as e:
        schemas.put_resource_policy(RegistryName=reg, Policy=json.dumps(policy), RevisionId="stale")
    assert err(e) == ("PreconditionFailedException", 412)
    put2 = schemas.put_resource_policy(RegistryName=reg, Policy=json.dumps(policy), RevisionId=put1["RevisionId"])
    assert put2["RevisionId"] != put1["RevisionId"]
    with pytest.raises(ClientError) as e:
        schemas.put_resource_policy(RegistryName=reg, Policy="{not json")
    assert err(e) == ("BadRequestException", 400)
    schemas.delete_resource_policy(RegistryName=reg)
    with pytest.raises(ClientError) as e:
        schemas.delete_resource_policy(RegistryName=reg)
    assert err(e) == ("NotFoundException", 404)


# --- schemas ---------------------------------------------------------------------------------------


def test_schema_crud_and_versions(schemas, create_registry):
    reg = create_registry()
    out = schemas.create_schema(RegistryName=reg, SchemaName="Order", Type="OpenApi3",
                                Content=json.dumps(OPENAPI), Description="v1", Tags={"k": "v"})
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert (out["SchemaVersion"], out["Type"]) == ("1", "OpenApi3")
    assert out["SchemaArn"] == f"arn:aws:schemas:us-east-1:000000000000:schema/{reg}/Order"
    got = schemas.describe_schema(RegistryName=reg, SchemaName="Order")
    assert json.loads(got["Content"]) == OPENAPI and got["Description"] == "v1"
    # The same content: no new version; new content: version 2.
    same = schemas.update_schema(RegistryName=reg, SchemaName="Order", Content=json.dumps(OPENAPI), Description="d")
    assert same["SchemaVersion"] == "1"
    changed = dict(OPENAPI, info={"version": "2.0.0", "title": "Order"})
    v2 = schemas.update_schema(RegistryName=reg, SchemaName="Order", Content=json.dumps(changed))
    assert v2["SchemaVersion"] == "2"
    old = schemas.describe_schema(RegistryName=reg, SchemaName="Order", SchemaVersion="1")
    assert json.loads(old["Content"]) == OPENAPI
    versions = schemas.list_schema_versions(RegistryName=reg, SchemaName="Order")["SchemaVersions"]
    assert [v["SchemaVersion"] for v in versions] == ["1", "2"]
    listed = schemas.list_schemas(RegistryName=reg)["Schemas"]
    assert [(s["SchemaName"], s["VersionCount"]) for s in listed] == [("Order", 2)]
    schemas.delete_schema_version(RegistryName=reg, SchemaName="Order", SchemaVersion="1")
    with pytest.raises(ClientError) as e:
        schemas.describe_schema(RegistryName=reg, SchemaName="Order", SchemaVersion="1")
    assert err(e) == ("NotFoundException", 404)
    assert schemas.describe_schema(RegistryName=reg, SchemaName="Order")["SchemaVersion"] == "2"
    schemas.delete_schema(RegistryName=reg, SchemaName="Order")
    with pytest.raises(ClientError) as e:
        schemas.describe_schema(RegistryName=reg, SchemaName="Order")
    assert err(e) == ("NotFoundException", 404)


def test_schema_content_and_type_are_checked(schemas, create_registry):
    reg = create_registry()
    for schema_type, content in [
        ("OpenApi3", "not json"),
        ("OpenApi3", json.dumps({"swagger": "2.0"})),
        ("JSONSchemaDraft4", json.dumps({"type": "object", "properties": []})),
        ("OpenApi3", json.dumps({"openapi": "3.0.0", "x": "y" * 100_001})),
    ]:
        with pytest.raises(ClientError) as e:
            schemas.create_schema(RegistryName=reg, SchemaName="Bad", Type=schema_type, Content=content)
        assert err(e) == ("BadRequestException", 400), content[:40]
    schemas.create_schema(RegistryName=reg, SchemaName="Draft", Type="JSONSchemaDraft4", Content=json.dumps(DRAFT4))
    with pytest.raises(ClientError) as e:
        schemas.create_schema(RegistryName="no-such-registry", SchemaName="S", Type="OpenApi3",
                              Content=json.dumps(OPENAPI))
    assert err(e)[1] == 404


def test_search_matches_names_ignoring_case(schemas, create_registry):
    reg = create_registry()
    for name in ["OrderPlaced", "order.shipped", "Invoice"]:
        schemas.create_schema(RegistryName=reg, SchemaName=name, Type="OpenApi3", Content=json.dumps(OPENAPI))
    found = schemas.search_schemas(RegistryName=reg, Keywords="ORDER")["Schemas"]
    assert sorted(s["SchemaName"] for s in found) == ["OrderPlaced", "order.shipped"]
    assert found[0]["RegistryName"] == reg
    assert [v["SchemaVersion"] for v in found[0]["SchemaVersions"]] == ["1"]
    assert schemas.search_schemas(RegistryName=reg, Keywords="nothing")["Schemas"] == []


def test_export_openapi_as_json_schema_draft4(schemas, create_registry):
    reg = create_registry()
    schemas.create_schema(RegistryName=reg, SchemaName="Order", Type="OpenApi3", Content=json.dumps(OPENAPI))
    out = schemas.export_schema(RegistryName=reg, SchemaName="Order", Type="JSONSchemaDraft4")
    assert (out["SchemaVersion"], out["Type"]) == ("1", "JSONSchemaDraft4")
    doc = json.loads(out["Content"])
    assert doc["$schema"] == "http://json-schema.org/draft-04/schema#"
    assert doc["properties"]["item"] == {"$ref": "#/definitions/Item"}
    assert doc["definitions"]["Item"]["properties"]["sku"] == {"type": "string"}
    with pytest.raises(ClientError) as e:
        schemas.export_schema(RegistryName=reg, SchemaName="Order", Type="Avro")
    assert err(e) == ("BadRequestException", 400)


def test_code_bindings_are_not_generated(schemas, create_registry):
    """eddy generates no code: every binding is one never created (NotFoundException, as AWS answers)."""
    reg = create_registry()
    schemas.create_schema(RegistryName=reg, SchemaName="Order", Type="OpenApi3", Content=json.dumps(OPENAPI))
    with pytest.raises(ClientError) as e:
        schemas.describe_code_binding(RegistryName=reg, SchemaName="Order", Language="Python36")
    assert err(e) == ("NotFoundException", 404)
    with pytest.raises(ClientError) as e:
        schemas.get_code_binding_source(RegistryName=reg, SchemaName="Order", Language="Python36")
    assert err(e) == ("NotFoundException", 404)


def test_tags_on_registries_schemas_and_discoverers(schemas, events, create_registry, create_event_bus,
                                                     create_discoverer):
    reg = create_registry()
    reg_arn = schemas.describe_registry(RegistryName=reg)["RegistryArn"]
    schema_arn = schemas.create_schema(RegistryName=reg, SchemaName="S", Type="OpenApi3",
                                       Content=json.dumps(OPENAPI))["SchemaArn"]
    disc_arn = create_discoverer(bus_arn(events, create_event_bus()))["DiscovererArn"]
    for arn in [reg_arn, schema_arn, disc_arn]:
        schemas.tag_resource(ResourceArn=arn, Tags={"a": "1", "b": "2"})
        assert schemas.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"a": "1", "b": "2"}
        schemas.untag_resource(ResourceArn=arn, TagKeys=["a"])
        assert schemas.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"b": "2"}
    with pytest.raises(ClientError) as e:
        schemas.list_tags_for_resource(ResourceArn="arn:aws:schemas:us-east-1:000000000000:registry/none")
    assert err(e) == ("NotFoundException", 404)


# --- discoverers and discovery ---------------------------------------------------------------------


def test_discoverer_lifecycle(schemas, events, create_event_bus, create_discoverer):
    bus = create_event_bus()
    arn = bus_arn(events, bus)
    out = create_discoverer(arn, Description="d")
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert (out["State"], out["SourceArn"], out["CrossAccount"]) == ("STARTED", arn, True)
    did = out["DiscovererId"]
    assert out["DiscovererArn"] == f"arn:aws:schemas:us-east-1:000000000000:discoverer/{did}"
    with pytest.raises(ClientError) as e:
        schemas.create_discoverer(SourceArn=arn)
    assert err(e) == ("ConflictException", 409)
    assert schemas.stop_discoverer(DiscovererId=did)["State"] == "STOPPED"
    assert schemas.describe_discoverer(DiscovererId=did)["State"] == "STOPPED"
    assert schemas.start_discoverer(DiscovererId=did)["State"] == "STARTED"
    up = schemas.update_discoverer(DiscovererId=did, Description="e", CrossAccount=False)
    assert (up["Description"], up["CrossAccount"]) == ("e", False)
    listed = schemas.list_discoverers(SourceArnPrefix=arn)["Discoverers"]
    assert [d["DiscovererId"] for d in listed] == [did]
    schemas.delete_discoverer(DiscovererId=did)
    with pytest.raises(ClientError) as e:
        schemas.describe_discoverer(DiscovererId=did)
    assert err(e) == ("NotFoundException", 404)
    with pytest.raises(ClientError) as e:
        schemas.create_discoverer(SourceArn="arn:aws:events:us-east-1:000000000000:event-bus/no-such-bus")
    assert err(e)[1] in (400, 404)
    with pytest.raises(ClientError) as e:
        schemas.create_discoverer(SourceArn="arn:aws:sqs:us-east-1:000000000000:not-a-bus")
    assert err(e) == ("BadRequestException", 400)


def test_discovery_infers_schemas_from_a_bus(schemas, events, create_event_bus, create_discoverer):
    bus = create_event_bus()
    create_discoverer(bus_arn(events, bus))
    source = unique_name("com.shop")
    put(events, bus, source, "Order Placed",
        {"orderId": "o-1", "total": 12.5, "count": 2, "paid": True, "items": [{"sku": "a", "qty": 1}],
         "customer": {"id": "c-1", "address": {"city": "X"}}})
    put(events, bus, source, "Order Shipped", {"orderId": "o-1", "carrier": "ups"})

    placed = discovered(schemas, f"{source}@OrderPlaced")
    shipped = discovered(schemas, f"{source}@OrderShipped")
    assert placed and shipped, "both detail types discovered"
    assert (placed["SchemaVersion"], placed["Type"]) == ("1", "OpenApi3")
    doc = json.loads(placed["Content"])
    comps = doc["components"]["schemas"]
    event = comps["AWSEvent"]
    assert event["x-amazon-events-source"] == source
    assert event["x-amazon-events-detail-type"] == "Order Placed"
    assert event["properties"]["detail"] == {"$ref": "#/components/schemas/OrderPlaced"}
    for field in ["account", "detail-type", "id", "region", "source", "version"]:
        assert event["properties"][field] == {"type": "string"}
    assert event["properties"]["time"] == {"type": "string", "format": "date-time"}
    props = comps["OrderPlaced"]["properties"]
    assert props["orderId"]["type"] == "string"
    assert props["total"]["type"] == "number"
    assert props["count"]["type"] in ("integer", "number")
    assert props["paid"]["type"] == "boolean"
    assert props["items"]["type"] == "array"
    assert props["items"]["items"]["$ref"].startswith("#/components/schemas/")
    assert props["customer"] == {"$ref": "#/components/schemas/Customer"}
    assert comps["Customer"]["properties"]["address"] == {"$ref": "#/components/schemas/Address"}
    assert comps["Address"]["properties"]["city"] == {"type": "string"}
    names = [s["SchemaName"] for s in schemas.list_schemas(RegistryName="discovered-schemas",
                                                            SchemaNamePrefix=source)["Schemas"]]
    assert names == [f"{source}@OrderPlaced", f"{source}@OrderShipped"]
    local = [r["RegistryName"] for r in schemas.list_registries(Scope="LOCAL")["Registries"]]
    assert "discovered-schemas" in local

    # A new field makes version 2, which keeps the fields seen before.
    put(events, bus, source, "Order Shipped", {"orderId": "o-2", "carrier": "dhl", "tracking": "t-1"})
    v2 = discovered(schemas, f"{source}@OrderShipped", version=2)
    assert v2 and v2["SchemaVersion"] == "2"
    shipped_props = json.loads(v2["Content"])["components"]["schemas"]["OrderShipped"]["properties"]
    assert set(shipped_props) == {"orderId", "carrier", "tracking"}
    # The same shape again: no version 3.
    put(events, bus, source, "Order Shipped", {"orderId": "o-3", "carrier": "dhl", "tracking": "t-2"})
    time.sleep(2)
    assert schemas.describe_schema(RegistryName="discovered-schemas",
                                   SchemaName=f"{source}@OrderShipped")["SchemaVersion"] == "2"


def test_a_stopped_discoverer_infers_nothing(schemas, events, create_event_bus, create_discoverer):
    bus = create_event_bus()
    did = create_discoverer(bus_arn(events, bus))["DiscovererId"]
    schemas.stop_discoverer(DiscovererId=did)
    source = unique_name("com.quiet")
    put(events, bus, source, "Nothing Seen", {"a": 1})
    assert discovered(schemas, f"{source}@NothingSeen", timeout=3) is None
    # Nor does a bus without a discoverer.
    other = create_event_bus()
    put(events, other, source, "Also Unseen", {"a": 1})
    assert discovered(schemas, f"{source}@AlsoUnseen", timeout=1) is None


def test_get_discovered_schema(schemas):
    event = {"version": "0", "id": "1", "detail-type": "Thing Done", "source": "my.app", "account": "000000000000",
             "time": "2024-01-01T00:00:00Z", "region": "us-east-1", "resources": [],
             "detail": {"name": "x", "size": 3, "nested": {"flag": False}}}
    out = schemas.get_discovered_schema(Events=[json.dumps(event)], Type="OpenApi3")
    doc = json.loads(out["Content"])
    comps = doc["components"]["schemas"]
    assert comps["AWSEvent"]["properties"]["detail"] == {"$ref": "#/components/schemas/ThingDone"}
    assert comps["ThingDone"]["properties"]["nested"] == {"$ref": "#/components/schemas/Nested"}
    assert comps["Nested"]["properties"]["flag"] == {"type": "boolean"}
    draft4 = json.loads(schemas.get_discovered_schema(Events=[json.dumps(event)], Type="JSONSchemaDraft4")["Content"])
    assert draft4["$schema"] == "http://json-schema.org/draft-04/schema#"
    assert draft4["properties"]["detail"] == {"$ref": "#/definitions/ThingDone"}
    with pytest.raises(ClientError) as e:
        schemas.get_discovered_schema(Events=["not json"], Type="OpenApi3")
    assert err(e) == ("BadRequestException", 400)
    with pytest.raises(ClientError) as e:
        schemas.get_discovered_schema(Events=[json.dumps(event)] * 11, Type="OpenApi3")
    assert err(e)[1] == 400


@pytest.mark.restart
def test_registries_schemas_and_discoverers_survive_a_restart(schemas, events, create_event_bus, restart_server):
    reg = unique_name("dur")
    schemas.create_registry(RegistryName=reg, Tags={"k": "v"})
    schemas.create_schema(RegistryName=reg, SchemaName="S", Type="OpenApi3", Content=json.dumps(OPENAPI))
    bus = create_event_bus()
    did = schemas.create_discoverer(SourceArn=bus_arn(events, bus))["DiscovererId"]
    source = unique_name("com.durable")
    put(events, bus, source, "Before Restart", {"a": "x"})
    assert discovered(schemas, f"{source}@BeforeRestart")
    restart_server(hard=True)
    for client in (schemas, events):
        try:
            client._endpoint.http_session.close()
        except Exception:
            pass
    try:
        assert schemas.describe_registry(RegistryName=reg)["Tags"] == {"k": "v"}
        assert schemas.describe_schema(RegistryName=reg, SchemaName="S")["SchemaVersion"] == "1"
        assert schemas.describe_discoverer(DiscovererId=did)["State"] == "STARTED"
        assert discovered(schemas, f"{source}@BeforeRestart")["SchemaVersion"] == "1"
        # Discovery goes on after the restart, from what it knew before.
        put(events, bus, source, "Before Restart", {"a": "y", "b": 1})
        v2 = discovered(schemas, f"{source}@BeforeRestart", version=2)
        assert v2 and set(json.loads(v2["Content"])["components"]["schemas"]["BeforeRestart"]["properties"]) == {"a", "b"}
    finally:
        schemas.delete_discoverer(DiscovererId=did)
        schemas.delete_registry(RegistryName=reg)
