//! ChangeMessageVisibility and per-receive visibility timeouts.

use std::time::Duration;

use aws_sdk_sqs::types::MessageSystemAttributeName as S;

use crate::common::{create_queue, receive_now, Eddy};

#[tokio::test]
async fn change_visibility_makes_a_message_visible_again() {
    let eddy = Eddy::start();
    let sqs = eddy.client().await;
    let url = create_queue(&sqs, "visibility").await;
    sqs.send_message().queue_url(&url).message_body("v").send().await.expect("SendMessage");

    let receive = || {
        sqs.receive_message()
            .queue_url(&url)
            .visibility_timeout(30)
            .wait_time_seconds(1)
            .message_system_attribute_names(S::ApproximateReceiveCount)
    };
    let first = receive().send().await.expect("ReceiveMessage");
    let m = &first.messages()[0];
    assert_eq!(m.attributes().and_then(|a| a.get(&S::ApproximateReceiveCount)).map(String::as_str), Some("1"));
    let handle = m.receipt_handle().expect("ReceiptHandle").to_string();

    // Invisible for 30 s...
    assert!(receive_now(&sqs, &url).await.is_empty());
    // ...until its visibility timeout is set to 0.
    sqs.change_message_visibility()
        .queue_url(&url)
        .receipt_handle(&handle)
        .visibility_timeout(0)
        .send()
        .await
        .expect("ChangeMessageVisibility");
    let second = receive().send().await.expect("ReceiveMessage");
    let m = &second.messages()[0];
    assert_eq!(m.body(), Some("v"));
    assert_eq!(m.attributes().and_then(|a| a.get(&S::ApproximateReceiveCount)).map(String::as_str), Some("2"));

    // Extending works too: set 1 s, the message is back after it.
    sqs.change_message_visibility()
        .queue_url(&url)
        .receipt_handle(m.receipt_handle().expect("ReceiptHandle"))
        .visibility_timeout(1)
        .send()
        .await
        .expect("ChangeMessageVisibility");
    assert!(receive_now(&sqs, &url).await.is_empty());
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let third = receive().send().await.expect("ReceiveMessage");
    assert_eq!(third.messages().len(), 1);
}
