//! FIFO queues: order within a message group, deduplication.

use std::time::{Duration, Instant};

use aws_sdk_sqs::types::{MessageSystemAttributeName as S, QueueAttributeName as A};

use crate::common::{create_fifo_queue, queue_attribute, Eddy};

#[tokio::test]
async fn fifo_order_within_a_group_and_deduplication() {
    let eddy = Eddy::start();
    let sqs = eddy.client().await;
    let url = create_fifo_queue(&sqs, "jobs.fifo").await;
    assert_eq!(queue_attribute(&sqs, &url, A::FifoQueue).await, "true");

    let mut ids = Vec::new();
    let mut last_seq = 0u128;
    for i in 0..5 {
        let out = sqs
            .send_message()
            .queue_url(&url)
            .message_body(format!("m{i}"))
            .message_group_id("g")
            .message_deduplication_id(format!("d{i}"))
            .send()
            .await
            .expect("SendMessage");
        let seq: u128 = out.sequence_number().expect("SequenceNumber on a FIFO queue").parse().expect("numeric");
        assert!(seq > last_seq, "sequence numbers increase within a group");
        last_seq = seq;
        ids.push(out.message_id().expect("MessageId").to_string());
    }

    // The same deduplication id within 5 minutes: accepted, not enqueued
    // again, and answered with the first message's id.
    let dup = sqs
        .send_message()
        .queue_url(&url)
        .message_body("m0 again")
        .message_group_id("g")
        .message_deduplication_id("d0")
        .send()
        .await
        .expect("SendMessage (duplicate)");
    assert_eq!(dup.message_id(), Some(ids[0].as_str()));

    // Receive and delete until all five arrived: in send order, once each.
    let mut bodies = Vec::new();
    let mut received_ids = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while bodies.len() < 5 && Instant::now() < deadline {
        let out = sqs
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .message_system_attribute_names(S::All)
            .send()
            .await
            .expect("ReceiveMessage");
        for m in out.messages() {
            let sys = m.attributes().expect("system attributes");
            assert_eq!(sys.get(&S::MessageGroupId).map(String::as_str), Some("g"));
            bodies.push(m.body().unwrap_or_default().to_string());
            received_ids.push(m.message_id().unwrap_or_default().to_string());
            sqs.delete_message()
                .queue_url(&url)
                .receipt_handle(m.receipt_handle().expect("ReceiptHandle"))
                .send()
                .await
                .expect("DeleteMessage");
        }
    }
    assert_eq!(bodies, ["m0", "m1", "m2", "m3", "m4"]);
    assert_eq!(received_ids, ids);
    let extra = sqs.receive_message().queue_url(&url).wait_time_seconds(1).send().await.expect("ReceiveMessage");
    assert!(extra.messages().is_empty(), "the duplicate was delivered: {:?}", extra.messages());
}

#[tokio::test]
async fn fifo_group_is_blocked_while_a_message_is_in_flight() {
    let eddy = Eddy::start();
    let sqs = eddy.client().await;
    let url = create_fifo_queue(&sqs, "groups.fifo").await;
    for (group, body) in [("a", "a1"), ("a", "a2"), ("b", "b1")] {
        sqs.send_message()
            .queue_url(&url)
            .message_body(body)
            .message_group_id(group)
            .message_deduplication_id(body)
            .send()
            .await
            .expect("SendMessage");
    }
    // Long polls: a short poll may sample too few servers to find anything.
    let receive = |max| sqs.receive_message().queue_url(&url).max_number_of_messages(max).wait_time_seconds(1);
    let first = receive(1).send().await.expect("ReceiveMessage");
    assert_eq!(first.messages().iter().map(|m| m.body().unwrap_or_default()).collect::<Vec<_>>(), ["a1"]);
    // a2 waits behind the in-flight a1; group b is free.
    let next = receive(10).send().await.expect("ReceiveMessage");
    assert_eq!(next.messages().iter().map(|m| m.body().unwrap_or_default()).collect::<Vec<_>>(), ["b1"]);
}
