//! SendMessageBatch and DeleteMessageBatch: per-entry success and failure.

use std::time::Duration;

use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, SendMessageBatchRequestEntry};

use crate::common::{create_queue, md5_hex, receive_n, receive_now, Eddy};

fn entry(id: &str, body: &str) -> SendMessageBatchRequestEntry {
    SendMessageBatchRequestEntry::builder().id(id).message_body(body).build().expect("entry")
}

#[tokio::test]
async fn batch_send_with_one_invalid_entry() {
    let eddy = Eddy::start();
    let sqs = eddy.client().await;
    let url = create_queue(&sqs, "batch").await;

    // U+0000 is outside the characters SQS allows in a body: that entry
    // fails with InvalidMessageContents, the others are sent.
    let out = sqs
        .send_message_batch()
        .queue_url(&url)
        .entries(entry("a", "first"))
        .entries(entry("b", "bad\u{0}body"))
        .entries(entry("c", "third ✓"))
        .send()
        .await
        .expect("SendMessageBatch");

    let mut ok: Vec<_> = out.successful().iter().map(|e| (e.id(), e.md5_of_message_body())).collect();
    ok.sort();
    assert_eq!(ok, [("a", md5_hex(b"first").as_str()), ("c", md5_hex("third ✓".as_bytes()).as_str())]);
    for e in out.successful() {
        assert!(!e.message_id().is_empty());
    }
    let failed = out.failed();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0].id(), "b");
    assert_eq!(failed[0].code(), "InvalidMessageContents");
    assert!(failed[0].sender_fault());

    let got = receive_n(&sqs, &url, 2, Duration::from_secs(5)).await;
    let mut bodies: Vec<_> = got.iter().map(|m| m.body().unwrap_or_default()).collect();
    bodies.sort();
    assert_eq!(bodies, ["first", "third ✓"]);

    // DeleteMessageBatch: one good handle, one that is no receipt handle.
    let del = sqs
        .delete_message_batch()
        .queue_url(&url)
        .entries(
            DeleteMessageBatchRequestEntry::builder()
                .id("good")
                .receipt_handle(got[0].receipt_handle().expect("ReceiptHandle"))
                .build()
                .expect("entry"),
        )
        .entries(DeleteMessageBatchRequestEntry::builder().id("bad").receipt_handle("garbage").build().expect("entry"))
        .send()
        .await
        .expect("DeleteMessageBatch");
    assert_eq!(del.successful().iter().map(|e| e.id()).collect::<Vec<_>>(), ["good"]);
    assert_eq!(del.failed().len(), 1, "{:?}", del.failed());
    assert_eq!(del.failed()[0].id(), "bad");
    assert_eq!(del.failed()[0].code(), "ReceiptHandleIsInvalid");
    assert!(del.failed()[0].sender_fault());
}

#[tokio::test]
async fn batch_entry_ids_must_be_distinct() {
    let eddy = Eddy::start();
    let sqs = eddy.client().await;
    let url = create_queue(&sqs, "batch-ids").await;
    let err = sqs
        .send_message_batch()
        .queue_url(&url)
        .entries(entry("same", "one"))
        .entries(entry("same", "two"))
        .send()
        .await
        .expect_err("duplicate entry ids");
    assert!(err.into_service_error().is_batch_entry_ids_not_distinct());
    // Nothing of a rejected batch is sent.
    assert!(receive_now(&sqs, &url).await.is_empty());
}
