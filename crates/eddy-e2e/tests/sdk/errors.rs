//! Service errors as the SDK models them. The SDK maps SQS errors through the
//! awsQuery-compatible `x-amzn-query-error` header, so these also check that
//! eddy's codes line up with the model.

use crate::common::{create_queue, Eddy};

#[tokio::test]
async fn get_queue_url_of_a_missing_queue_is_queue_does_not_exist() {
    let eddy = Eddy::start();
    let sqs = eddy.client().await;
    let err = sqs.get_queue_url().queue_name("no-such-queue").send().await.expect_err("missing queue");
    let err = err.into_service_error();
    assert!(err.is_queue_does_not_exist(), "{err:?}");
}

#[tokio::test]
async fn send_to_a_missing_queue_is_queue_does_not_exist() {
    let eddy = Eddy::start();
    let sqs = eddy.client().await;
    let url = create_queue(&sqs, "exists").await;
    let missing = url.replace("/exists", "/does-not-exist");
    let err = sqs.send_message().queue_url(missing).message_body("x").send().await.expect_err("missing queue");
    let err = err.into_service_error();
    assert!(err.is_queue_does_not_exist(), "{err:?}");
}

#[tokio::test]
async fn delete_message_with_a_garbage_handle_is_receipt_handle_is_invalid() {
    let eddy = Eddy::start();
    let sqs = eddy.client().await;
    let url = create_queue(&sqs, "handles").await;
    let err = sqs.delete_message().queue_url(&url).receipt_handle("garbage").send().await.expect_err("bad handle");
    let err = err.into_service_error();
    assert!(err.is_receipt_handle_is_invalid(), "{err:?}");
}

#[tokio::test]
async fn invalid_body_is_invalid_message_contents() {
    let eddy = Eddy::start();
    let sqs = eddy.client().await;
    let url = create_queue(&sqs, "contents").await;
    let err = sqs.send_message().queue_url(&url).message_body("nul\u{0}").send().await.expect_err("bad body");
    let err = err.into_service_error();
    assert!(err.is_invalid_message_contents(), "{err:?}");
}

#[tokio::test]
async fn second_purge_within_60_seconds_is_purge_queue_in_progress() {
    let eddy = Eddy::start();
    let sqs = eddy.client().await;
    let url = create_queue(&sqs, "purge").await;
    sqs.send_message().queue_url(&url).message_body("x").send().await.expect("SendMessage");
    sqs.purge_queue().queue_url(&url).send().await.expect("first PurgeQueue");
    let err = sqs.purge_queue().queue_url(&url).send().await.expect_err("second purge");
    let err = err.into_service_error();
    assert!(err.is_purge_queue_in_progress(), "{err:?}");
}
