//! Schemas core tests: inference and merging, the discovered-schema
//! document, export to JSON Schema draft 4, versions, and discovery from
//! a bus's events surviving a restart (in-memory store, manual clock).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use eddy_store::Store;
use serde_json::{json, Value};

use super::infer::{self, Shape};
use super::*;
use crate::clock::ManualClock;
use crate::events::{EntryResult, EventEntry};
use crate::identity::Caller;
use crate::sns::Enforcement;
use crate::tags::Tags;

const T0: u64 = 1_700_000_000_000;

fn caller() -> Caller {
    Caller { account: "000000000000".into(), region: "us-east-1".into(), access_key: "test".into() }
}

#[test]
fn pascal_case_of_detail_types_and_fields() {
    assert_eq!(infer::pascal("Object Created"), "ObjectCreated");
    assert_eq!(infer::pascal("order.placed"), "OrderPlaced");
    assert_eq!(infer::pascal("bucket"), "Bucket");
    assert_eq!(infer::pascal("s3-object key"), "S3ObjectKey");
    assert_eq!(infer::discovered_name("my.app", "Object Created"), "my.app@ObjectCreated");
}

#[test]
fn inference_types_and_nested_components() {
    let detail = json!({
        "name": "x", "count": 3, "ratio": 0.5, "ok": true, "at": "2024-01-01T00:00:00Z",
        "tags": ["a"], "bucket": {"name": "b", "owner": {"id": "1"}}, "items": [{"sku": "s", "qty": 1}],
        "gone": null, "empty": []
    });
    let doc = infer::openapi("my.app", "Order Placed", &infer::infer(&detail));
    let schemas = &doc["components"]["schemas"];
    assert_eq!(doc["openapi"], "3.0.0");
    assert_eq!(doc["info"]["title"], "OrderPlaced");
    let event = &schemas["AWSEvent"];
    assert_eq!(event["x-amazon-events-source"], "my.app");
    assert_eq!(event["x-amazon-events-detail-type"], "Order Placed");
    assert_eq!(event["properties"]["detail"]["$ref"], "#/components/schemas/OrderPlaced");
    assert_eq!(event["properties"]["time"], json!({"type": "string", "format": "date-time"}));
    let props = &schemas["OrderPlaced"]["properties"];
    assert_eq!(props["name"], json!({"type": "string"}));
    assert_eq!(props["count"], json!({"type": "integer"}));
    assert_eq!(props["ratio"], json!({"type": "number", "format": "double"}));
    assert_eq!(props["ok"], json!({"type": "boolean"}));
    assert_eq!(props["at"], json!({"type": "string", "format": "date-time"}));
    assert_eq!(props["tags"], json!({"type": "array", "items": {"type": "string"}}));
    assert_eq!(props["bucket"], json!({"$ref": "#/components/schemas/Bucket"}));
    assert_eq!(props["items"], json!({"type": "array", "items": {"$ref": "#/components/schemas/ItemsItem"}}));
    assert_eq!(props["gone"], json!({}));
    assert_eq!(props["empty"], json!({"type": "array", "items": {}}));
    assert_eq!(schemas["Bucket"]["properties"]["owner"], json!({"$ref": "#/components/schemas/Owner"}));
    assert_eq!(
        schemas["Owner"],
        json!({"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}})
    );
    assert_eq!(schemas["ItemsItem"]["properties"]["qty"], json!({"type": "integer"}));
}

#[test]
fn merging_adds_fields_and_widens_numbers_and_is_idempotent() {
    let a = infer::infer(&json!({"id": "1", "n": 1}));
    let b = infer::infer(&json!({"id": "2", "n": 1.5, "extra": true}));
    let merged = infer::merge(a.clone(), b.clone());
    let Shape::Object(o) = &merged else { panic!("object") };
    assert_eq!(o.properties.keys().collect::<Vec<_>>(), ["extra", "id", "n"]);
    assert_eq!(o.properties["n"], Shape::Number);
    // Only the fields every sample had stay required.
    assert_eq!(o.required.iter().collect::<Vec<_>>(), ["id", "n"]);
    assert_eq!(infer::merge(merged.clone(), b), merged);
    assert_eq!(infer::merge(merged.clone(), a), merged);
}

#[test]
fn openapi_exports_as_json_schema_draft4() {
    let doc = infer::openapi("my.app", "Thing Done", &infer::infer(&json!({"who": {"id": "1"}})));
    let exported = infer::to_draft4(&doc).unwrap();
    assert_eq!(exported["$schema"], "http://json-schema.org/draft-04/schema#");
    assert_eq!(exported["title"], "ThingDone");
    assert_eq!(exported["type"], "object");
    assert_eq!(exported["x-amazon-events-source"], "my.app");
    assert_eq!(exported["properties"]["detail"]["$ref"], "#/definitions/ThingDone");
    assert_eq!(exported["definitions"]["ThingDone"]["properties"]["who"]["$ref"], "#/definitions/Who");
    assert!(exported["definitions"].get("AWSEvent").is_none());
    // A plain OpenAPI document: the component nothing refers to is the root; nullable becomes a null type.
    let plain = json!({"openapi": "3.0.0", "info": {"title": "T"}, "paths": {},
        "components": {"schemas": {"Z": {"type": "object", "properties": {"b": {"$ref": "#/components/schemas/B"}}},
                                   "B": {"type": "string", "nullable": true}}}});
    let exported = infer::to_draft4(&plain).unwrap();
    assert_eq!(exported["properties"]["b"]["$ref"], "#/definitions/B");
    assert_eq!(exported["definitions"]["B"]["type"], json!(["string", "null"]));
    assert!(infer::to_draft4(&json!({"openapi": "3.0.0"})).is_err());
}

#[test]
fn content_checks_follow_the_declared_type() {
    assert!(schema::check_content(OPENAPI3, r#"{"openapi":"3.0.0","info":{},"paths":{}}"#).is_ok());
    assert!(schema::check_content(OPENAPI3, r#"{"swagger":"2.0"}"#).is_err());
    assert!(schema::check_content(OPENAPI3, "not json").is_err());
    assert!(schema::check_content(JSON_SCHEMA_DRAFT4, r#"{"type":"object","properties":{}}"#).is_ok());
    assert!(schema::check_content(JSON_SCHEMA_DRAFT4, r#"{"properties":[]}"#).is_err());
    assert!(schema::check_content("Avro", "{}").is_err());
}

struct NoHttp;

impl crate::sns::HttpSender for NoHttp {
    fn post(
        &self,
        _url: String,
        _headers: Vec<(&'static str, String)>,
        _body: String,
    ) -> Pin<Box<dyn Future<Output = Result<u16, String>> + Send>> {
        Box::pin(async { Ok(200) })
    }
}

impl crate::events::HttpInvoker for NoHttp {
    fn invoke(
        &self,
        call: crate::events::HttpCall,
    ) -> Pin<Box<dyn Future<Output = Result<crate::events::HttpReply, String>> + Send>> {
        Box::pin(async move { Err(format!("no HTTP in these tests ({})", call.url)) })
    }
}

fn open(store: &Store) -> (Arc<crate::events::Events>, Arc<Schemas>) {
    let clock = ManualClock::new(T0);
    let c = || Arc::new(clock.clone());
    let sqs = crate::sqs::Sqs::open(store.clone(), c()).unwrap();
    let config = crate::sns::SnsConfig {
        enforcement: Enforcement::Off,
        urls: crate::sns::Urls { base: "http://eddy.test".into() },
    };
    let (sns, _backlog) = crate::sns::Sns::open(store.clone(), c(), sqs.clone(), Arc::new(NoHttp), config).unwrap();
    let kinesis =
        crate::kinesis::Kinesis::open(store.clone(), c(), crate::kinesis::KinesisConfig { enforce_limits: false })
            .unwrap();
    let events = crate::events::Events::open(
        store.clone(),
        c(),
        crate::events::Targets { sqs, sns, kinesis },
        Arc::new(NoHttp),
        crate::events::EventsConfig::new(Enforcement::Off),
    )
    .unwrap();
    let schemas = Schemas::open(store.clone(), c(), &events).unwrap();
    (events, schemas)
}

async fn put(events: &crate::events::Events, detail_type: &str, detail: Value) {
    let entry = EventEntry {
        source: Some("my.app".into()),
        detail_type: Some(detail_type.into()),
        detail: Some(detail.to_string()),
        bus: Some("orders".into()),
        ..EventEntry::default()
    };
    let results = events.put_events(&caller(), vec![entry]).await.unwrap();
    assert!(matches!(results[0], EntryResult::Accepted { .. }));
}

fn versions(schemas: &Schemas, name: &str) -> Vec<u64> {
    match schemas.describe_schema(&caller(), DISCOVERED_REGISTRY, name, None) {
        Ok((record, _)) => record.versions.iter().map(|v| v.version).collect(),
        Err(_) => Vec::new(),
    }
}

#[tokio::test]
async fn discovery_infers_versions_and_survives_a_restart() {
    let store = Store::in_memory();
    let (events, schemas) = open(&store);
    events.create_bus(&caller(), "orders", Default::default(), None, Tags::new()).await.unwrap();
    let bus = crate::events::bus_arn("us-east-1", "000000000000", "orders");
    let d = schemas.create_discoverer(&caller(), &bus, None, None, Tags::new()).await.unwrap();
    assert_eq!((d.id.as_str(), d.state.as_str(), d.cross_account), ("events-event-bus-orders", "STARTED", true));

    put(&events, "Order Placed", json!({"id": "1", "total": 3})).await;
    put(&events, "Order Placed", json!({"id": "2", "total": 4})).await;
    schemas.discover_pending().await.unwrap();
    assert_eq!(versions(&schemas, "my.app@OrderPlaced"), [1]);

    // A new field: version 2; the same shape again: nothing new.
    put(&events, "Order Placed", json!({"id": "3", "total": 5, "coupon": "X"})).await;
    put(&events, "Order Placed", json!({"id": "3", "total": 5, "coupon": "X"})).await;
    schemas.discover_pending().await.unwrap();
    assert_eq!(versions(&schemas, "my.app@OrderPlaced"), [1, 2]);
    let (_, latest) = schemas.describe_schema(&caller(), DISCOVERED_REGISTRY, "my.app@OrderPlaced", None).unwrap();
    let doc: Value = serde_json::from_str(&latest.content).unwrap();
    let detail = &doc["components"]["schemas"]["OrderPlaced"];
    assert_eq!(detail["properties"]["coupon"], json!({"type": "string"}));
    assert_eq!(detail["required"], json!(["id", "total"]));

    // Stored before discovery, discovered after a restart.
    put(&events, "Order Shipped", json!({"id": "1"})).await;
    drop((events, schemas));
    let (events, schemas) = open(&store);
    assert_eq!(schemas.pending_count(), 1);
    schemas.discover_pending().await.unwrap();
    assert_eq!(versions(&schemas, "my.app@OrderShipped"), [1]);
    assert_eq!(versions(&schemas, "my.app@OrderPlaced"), [1, 2]);

    // Stopped: nothing is stored or inferred.
    schemas.set_discoverer_state(&caller(), &d.id, false).await.unwrap();
    put(&events, "Order Lost", json!({"id": "1"})).await;
    assert_eq!(schemas.pending_count(), 0);
    assert!(versions(&schemas, "my.app@OrderLost").is_empty());
}

#[tokio::test]
async fn schema_versions_change_only_with_content() {
    let store = Store::in_memory();
    let (_events, schemas) = open(&store);
    let c = caller();
    schemas.create_registry(&c, "reg", None, Tags::new()).await.unwrap();
    let content = r#"{"openapi":"3.0.0","info":{"title":"T","version":"1"},"paths":{}}"#;
    let input = |content: &str| SchemaInput {
        registry: "reg".into(),
        name: "s".into(),
        schema_type: OPENAPI3.into(),
        content: content.into(),
        description: None,
        tags: Tags::new(),
    };
    schemas.create_schema(&c, input(content)).await.unwrap();
    assert!(matches!(schemas.create_schema(&c, input(content)).await, Err(SchemasError::Conflict(_))));
    let update = |content: Option<&str>, description: Option<&str>| SchemaUpdate {
        registry: "reg".into(),
        name: "s".into(),
        schema_type: None,
        content: content.map(String::from),
        description: description.map(String::from),
    };
    let r = schemas.update_schema(&c, update(Some(content), Some("same"))).await.unwrap();
    assert_eq!((r.last_version, r.description.as_deref()), (1, Some("same")));
    let changed = r#"{"openapi":"3.0.1","info":{"title":"T","version":"1"},"paths":{}}"#;
    assert_eq!(schemas.update_schema(&c, update(Some(changed), None)).await.unwrap().last_version, 2);
    schemas.delete_schema_version(&c, "reg", "s", "1").await.unwrap();
    let r = schemas.update_schema(&c, update(Some(content), None)).await.unwrap();
    assert_eq!(r.versions.iter().map(|v| v.version).collect::<Vec<_>>(), [2, 3]);
}
