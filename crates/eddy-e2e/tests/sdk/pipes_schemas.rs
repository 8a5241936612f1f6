//! EventBridge Pipes and the schema registry through aws-sdk-pipes and
//! aws-sdk-schemas (restJson1): an SQS-to-SQS pipe with a filter and its
//! states, and a schema's versions. Expectations from the Pipes user guide
//! (the SQS record shape; messages no filter matches are not delivered) and
//! the Schemas API reference (versions "1", "2"…; NotFoundException).

use std::time::{Duration, Instant};

use aws_sdk_pipes::types::{Filter, FilterCriteria, PipeSourceParameters, PipeState, RequestedPipeState};
use aws_sdk_schemas::types::Type as SchemaType;
use serde_json::{json, Value};

use crate::common::{create_queue, queue_arn, receive_n, receive_now, Eddy};

async fn wait_state(pipes: &aws_sdk_pipes::Client, name: &str, want: PipeState) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let got = pipes.describe_pipe().name(name).send().await.expect("DescribePipe");
        if got.current_state() == Some(&want) {
            return;
        }
        assert!(Instant::now() < deadline, "pipe {name} is {:?}, not {want:?}", got.current_state());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_pipe_carries_the_messages_its_filter_matches() {
    let eddy = Eddy::start();
    let (pipes, sqs) = (eddy.pipes_client().await, eddy.client().await);
    let (src, dst) = (create_queue(&sqs, "pipe-src").await, create_queue(&sqs, "pipe-dst").await);
    let (src_arn, dst_arn) = (queue_arn(&sqs, &src).await, queue_arn(&sqs, &dst).await);
    let filter = Filter::builder().pattern(json!({"body": {"kind": ["keep"]}}).to_string()).build();
    let source =
        PipeSourceParameters::builder().filter_criteria(FilterCriteria::builder().filters(filter).build()).build();
    let created = pipes
        .create_pipe()
        .name("orders")
        .role_arn("arn:aws:iam::000000000000:role/pipes")
        .source(&src_arn)
        .source_parameters(source)
        .target(&dst_arn)
        .send()
        .await
        .expect("CreatePipe");
    assert!(created.arn().is_some_and(|a| a.ends_with(":pipe/orders")), "{:?}", created.arn());
    assert_eq!(created.desired_state(), Some(&RequestedPipeState::Running));
    wait_state(&pipes, "orders", PipeState::Running).await;

    for kind in ["drop", "keep"] {
        sqs.send_message().queue_url(&src).message_body(json!({"kind": kind}).to_string()).send().await.expect("send");
    }
    let got = receive_n(&sqs, &dst, 1, Duration::from_secs(10)).await;
    let record: Value = serde_json::from_str(got[0].body().unwrap_or_default()).expect("JSON record");
    assert_eq!(record["eventSource"], "aws:sqs");
    assert_eq!(record["eventSourceARN"], src_arn.as_str());
    assert_eq!(
        serde_json::from_str::<Value>(record["body"].as_str().unwrap_or_default()).ok(),
        Some(json!({"kind": "keep"}))
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(receive_now(&sqs, &dst).await.is_empty(), "the unmatched message was delivered");

    pipes.stop_pipe().name("orders").send().await.expect("StopPipe");
    wait_state(&pipes, "orders", PipeState::Stopped).await;
    let err = pipes.describe_pipe().name("missing").send().await.expect_err("no such pipe");
    assert!(err.into_service_error().is_not_found_exception());
}

#[tokio::test]
async fn a_schema_gets_a_new_version_when_its_content_changes() {
    let eddy = Eddy::start();
    let schemas = eddy.schemas_client().await;
    schemas.create_registry().registry_name("shop").send().await.expect("CreateRegistry");
    let doc = |fields: Value| {
        json!({"openapi": "3.0.0", "info": {"title": "Order", "version": "1.0.0"}, "paths": {},
               "components": {"schemas": {"Order": {"type": "object", "properties": fields}}}})
        .to_string()
    };
    let first = doc(json!({"id": {"type": "string"}}));
    let created = schemas
        .create_schema()
        .registry_name("shop")
        .schema_name("Order")
        .r#type(SchemaType::OpenApi3)
        .content(&first)
        .send()
        .await
        .expect("CreateSchema");
    assert_eq!(created.schema_version(), Some("1"));
    let second = doc(json!({"id": {"type": "string"}, "total": {"type": "number"}}));
    let updated = schemas
        .update_schema()
        .registry_name("shop")
        .schema_name("Order")
        .content(&second)
        .r#type(SchemaType::OpenApi3)
        .send()
        .await
        .expect("UpdateSchema");
    assert_eq!(updated.schema_version(), Some("2"));
    let latest =
        schemas.describe_schema().registry_name("shop").schema_name("Order").send().await.expect("DescribeSchema");
    assert_eq!(latest.schema_version(), Some("2"));
    assert_eq!(
        latest.content().map(|c| serde_json::from_str::<Value>(c).ok()),
        Some(serde_json::from_str(&second).ok())
    );
    let v1 = schemas
        .describe_schema()
        .registry_name("shop")
        .schema_name("Order")
        .schema_version("1")
        .send()
        .await
        .expect("DescribeSchema v1");
    assert_eq!(v1.content().map(|c| serde_json::from_str::<Value>(c).ok()), Some(serde_json::from_str(&first).ok()));
    let err = schemas.describe_registry().registry_name("missing").send().await.expect_err("no such registry");
    assert!(err.into_service_error().is_not_found_exception());
}
