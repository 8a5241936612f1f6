//! SendMessage, ReceiveMessage and DeleteMessage with message attributes and
//! the MD5 digests SQS returns for them; long polling.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_sdk_sqs::primitives::Blob;
use aws_sdk_sqs::types::{
    MessageAttributeValue, MessageSystemAttributeName as S, MessageSystemAttributeNameForSends,
    MessageSystemAttributeValue, QueueAttributeName as A,
};

use crate::common::{
    create_queue, md5_hex, md5_of_attribute_map, md5_of_attributes, queue_attribute, receive_n, receive_now, AttrValue,
    Eddy,
};

fn string_attr(data_type: &str, value: &str) -> MessageAttributeValue {
    MessageAttributeValue::builder().data_type(data_type).string_value(value).build().expect("attribute")
}

#[tokio::test]
async fn send_receive_delete_with_attributes_and_md5() {
    let eddy = Eddy::start();
    let sqs = eddy.client().await;
    let url = create_queue(&sqs, "messages").await;

    // CR, LF, quotes, markup and non-ASCII must all survive byte for byte.
    let body = "héllo ✓ <b>&amp;</b> \"q\" 'a'\r\nline two\ttab 🦀";
    let mut attrs = HashMap::new();
    attrs.insert("color".to_string(), string_attr("String", "blue"));
    attrs.insert("count".to_string(), string_attr("Number", "42"));
    attrs.insert("kind".to_string(), string_attr("String.custom", "ünïcode"));
    attrs.insert(
        "blob".to_string(),
        MessageAttributeValue::builder()
            .data_type("Binary")
            .binary_value(Blob::new(vec![0u8, 1, 2, 0xfe, 0xff]))
            .build()
            .expect("attribute"),
    );
    let trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";

    let sent = sqs
        .send_message()
        .queue_url(&url)
        .message_body(body)
        .set_message_attributes(Some(attrs.clone()))
        .message_system_attributes(
            MessageSystemAttributeNameForSends::AwsTraceHeader,
            MessageSystemAttributeValue::builder().data_type("String").string_value(trace).build().expect("attribute"),
        )
        .send()
        .await
        .expect("SendMessage");
    let message_id = sent.message_id().expect("MessageId").to_string();
    assert_eq!(sent.md5_of_message_body(), Some(md5_hex(body.as_bytes()).as_str()));
    assert_eq!(sent.md5_of_message_attributes(), Some(md5_of_attribute_map(&attrs).as_str()));
    assert_eq!(
        sent.md5_of_message_system_attributes(),
        Some(md5_of_attributes([("AWSTraceHeader", "String", AttrValue::Str(trace))]).as_str())
    );
    // A standard queue has no sequence numbers.
    assert_eq!(sent.sequence_number(), None);

    let got = receive_n(&sqs, &url, 1, Duration::from_secs(5)).await;
    assert_eq!(got.len(), 1, "{got:?}");
    let m = &got[0];
    assert_eq!(m.message_id(), Some(message_id.as_str()));
    assert_eq!(m.body(), Some(body));
    assert_eq!(m.md5_of_body(), Some(md5_hex(body.as_bytes()).as_str()));
    let received_attrs = m.message_attributes().expect("MessageAttributes (asked for All)");
    assert_eq!(received_attrs, &attrs);
    assert_eq!(m.md5_of_message_attributes(), Some(md5_of_attribute_map(received_attrs).as_str()));

    let sys = m.attributes().expect("system attributes (asked for All)");
    assert_eq!(sys.get(&S::ApproximateReceiveCount).map(String::as_str), Some("1"));
    assert_eq!(sys.get(&S::AwsTraceHeader).map(String::as_str), Some(trace));
    assert!(sys.contains_key(&S::SenderId), "{sys:?}");
    for ts in [S::SentTimestamp, S::ApproximateFirstReceiveTimestamp] {
        let ms: u64 =
            sys.get(&ts).and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("{ts} missing or not a number"));
        assert!(ms > 1_600_000_000_000, "{ts}={ms} is not epoch milliseconds");
    }

    // While in flight the message is not visible, and counts as not visible.
    assert!(receive_now(&sqs, &url).await.is_empty());
    assert_eq!(queue_attribute(&sqs, &url, A::ApproximateNumberOfMessagesNotVisible).await, "1");

    sqs.delete_message()
        .queue_url(&url)
        .receipt_handle(m.receipt_handle().expect("ReceiptHandle"))
        .send()
        .await
        .expect("DeleteMessage");
    assert_eq!(queue_attribute(&sqs, &url, A::ApproximateNumberOfMessages).await, "0");
    assert_eq!(queue_attribute(&sqs, &url, A::ApproximateNumberOfMessagesNotVisible).await, "0");
    assert!(receive_now(&sqs, &url).await.is_empty());
}

#[tokio::test]
async fn attributes_are_returned_only_when_asked_for() {
    let eddy = Eddy::start();
    let sqs = eddy.client().await;
    let url = create_queue(&sqs, "quiet").await;
    sqs.send_message()
        .queue_url(&url)
        .message_body("x")
        .message_attributes("color", string_attr("String", "blue"))
        .message_attributes("size", string_attr("Number", "3"))
        .send()
        .await
        .expect("SendMessage");

    let out = sqs
        .receive_message()
        .queue_url(&url)
        .wait_time_seconds(2)
        .message_attribute_names("color")
        .send()
        .await
        .expect("ReceiveMessage");
    let messages = out.messages();
    assert_eq!(messages.len(), 1);
    let m = &messages[0];
    assert!(m.attributes().is_none_or(|a| a.is_empty()), "no system attributes were asked for: {:?}", m.attributes());
    let attrs = m.message_attributes().expect("the asked-for attribute");
    assert_eq!(attrs.keys().collect::<Vec<_>>(), ["color"]);
    assert_eq!(attrs["color"].string_value(), Some("blue"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_poll_returns_as_soon_as_a_message_arrives() {
    let eddy = Eddy::start();
    let sqs = eddy.client().await;
    let url = create_queue(&sqs, "long-poll").await;

    // An empty queue holds a long poll for WaitTimeSeconds.
    let t = Instant::now();
    let out = sqs.receive_message().queue_url(&url).wait_time_seconds(1).send().await.expect("ReceiveMessage");
    assert!(out.messages().is_empty());
    assert!(t.elapsed() >= Duration::from_millis(900), "empty long poll returned after {:?}", t.elapsed());

    let sender = sqs.clone();
    let sender_url = url.clone();
    let send = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(500)).await;
        sender.send_message().queue_url(sender_url).message_body("wake up").send().await.expect("SendMessage");
    });
    let t = Instant::now();
    let out = sqs.receive_message().queue_url(&url).wait_time_seconds(5).send().await.expect("ReceiveMessage");
    let waited = t.elapsed();
    send.await.expect("sender task");
    assert_eq!(out.messages().iter().map(|m| m.body().unwrap_or_default()).collect::<Vec<_>>(), ["wake up"]);
    assert!(waited < Duration::from_secs(3), "long poll took {waited:?} for a message sent after 0.5 s");
}
