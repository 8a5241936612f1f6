//! SNS through aws-sdk-sns (awsQuery): fan-out to SQS with the queue policy
//! SNS deliveries need, raw delivery with attributes, FIFO order, filter
//! policies, and a queue without a policy getting nothing (gotchas #3).

use std::time::Duration;

use aws_sdk_sns::types::MessageAttributeValue as SnsAttr;
use aws_sdk_sqs::types::QueueAttributeName as A;
use serde_json::{json, Value};

use crate::common::{create_fifo_queue, create_queue, queue_arn, receive_n, receive_now, Eddy};

/// The statement AWS documents for letting one topic send to a queue.
async fn allow_topic(sqs: &aws_sdk_sqs::Client, url: &str, topic_arn: &str) -> String {
    let arn = queue_arn(sqs, url).await;
    let policy = json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage",
        "Resource": arn, "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}}
    }]});
    sqs.set_queue_attributes().queue_url(url).attributes(A::Policy, policy.to_string()).send().await.expect("Policy");
    arn
}

async fn subscribe(sns: &aws_sdk_sns::Client, topic: &str, queue_arn: &str, attrs: &[(&str, &str)]) -> String {
    let mut req = sns.subscribe().topic_arn(topic).protocol("sqs").endpoint(queue_arn);
    for (k, v) in attrs {
        req = req.attributes(*k, *v);
    }
    req.send().await.expect("Subscribe").subscription_arn().expect("SubscriptionArn").to_string()
}

#[tokio::test]
async fn fan_out_envelope_and_raw_delivery() {
    let eddy = Eddy::start();
    let (sns, sqs) = (eddy.sns_client().await, eddy.client().await);
    let topic = sns.create_topic().name("orders").send().await.expect("CreateTopic").topic_arn.expect("TopicArn");
    let (wrapped, raw, bare) =
        (create_queue(&sqs, "wrapped").await, create_queue(&sqs, "raw").await, create_queue(&sqs, "bare").await);
    let wrapped_arn = allow_topic(&sqs, &wrapped, &topic).await;
    let raw_arn = allow_topic(&sqs, &raw, &topic).await;
    let bare_arn = queue_arn(&sqs, &bare).await;
    let sub = subscribe(&sns, &topic, &wrapped_arn, &[]).await;
    subscribe(&sns, &topic, &raw_arn, &[("RawMessageDelivery", "true")]).await;
    subscribe(&sns, &topic, &bare_arn, &[]).await;
    assert!(sub.starts_with(&format!("{topic}:")), "subscription ARN {sub}");

    let color = SnsAttr::builder().data_type("String").string_value("blue").build().expect("attribute");
    let published = sns
        .publish()
        .topic_arn(&topic)
        .message("hello")
        .subject("greeting")
        .message_attributes("color", color)
        .send()
        .await
        .expect("Publish");
    let id = published.message_id().expect("MessageId");

    let got = receive_n(&sqs, &wrapped, 1, Duration::from_secs(5)).await;
    let envelope: Value = serde_json::from_str(got[0].body().unwrap_or_default()).expect("JSON envelope");
    assert_eq!(envelope["Type"], "Notification");
    assert_eq!(envelope["MessageId"], id);
    assert_eq!(envelope["TopicArn"], topic.as_str());
    assert_eq!(envelope["Subject"], "greeting");
    assert_eq!(envelope["Message"], "hello");
    assert_eq!(envelope["MessageAttributes"]["color"], json!({"Type": "String", "Value": "blue"}));
    assert_eq!(envelope["SignatureVersion"], "1");
    assert!(envelope["UnsubscribeURL"].as_str().unwrap_or_default().contains("Action=Unsubscribe"));

    let resp = sqs
        .receive_message()
        .queue_url(&raw)
        .message_attribute_names("All")
        .wait_time_seconds(5)
        .send()
        .await
        .expect("ReceiveMessage");
    let m = &resp.messages()[0];
    assert_eq!(m.body(), Some("hello"));
    let attr = m.message_attributes().and_then(|a| a.get("color")).expect("color attribute");
    assert_eq!(attr.string_value(), Some("blue"));

    // No policy on "bare": SNS may not write to it (gotchas #3).
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(receive_now(&sqs, &bare).await.is_empty(), "a queue without a policy got an SNS delivery");
}

#[tokio::test]
async fn fifo_topic_keeps_group_order() {
    let eddy = Eddy::start();
    let (sns, sqs) = (eddy.sns_client().await, eddy.client().await);
    let topic = sns
        .create_topic()
        .name("ledger.fifo")
        .attributes("FifoTopic", "true")
        .attributes("ContentBasedDeduplication", "true")
        .send()
        .await
        .expect("CreateTopic FIFO")
        .topic_arn
        .expect("TopicArn");
    let queue = create_fifo_queue(&sqs, "ledger.fifo").await;
    let arn = allow_topic(&sqs, &queue, &topic).await;
    subscribe(&sns, &topic, &arn, &[("RawMessageDelivery", "true")]).await;
    let mut sequence = Vec::new();
    for i in 0..20 {
        let r = sns.publish().topic_arn(&topic).message(format!("m{i}")).message_group_id("g").send().await;
        sequence.push(r.expect("Publish FIFO").sequence_number().expect("SequenceNumber").to_string());
    }
    let mut sorted = sequence.clone();
    sorted.sort();
    assert_eq!(sorted, sequence, "SequenceNumbers increase");
    let mut bodies = Vec::new();
    while bodies.len() < 20 {
        let got = receive_n(&sqs, &queue, 1, Duration::from_secs(5)).await;
        assert!(!got.is_empty(), "only {} of 20 delivered", bodies.len());
        for m in got {
            bodies.push(m.body().unwrap_or_default().to_string());
            sqs.delete_message()
                .queue_url(&queue)
                .receipt_handle(m.receipt_handle().unwrap_or_default())
                .send()
                .await
                .ok();
        }
    }
    assert_eq!(bodies, (0..20).map(|i| format!("m{i}")).collect::<Vec<_>>());
}

#[tokio::test]
async fn filter_policy_selects_by_attribute() {
    let eddy = Eddy::start();
    let (sns, sqs) = (eddy.sns_client().await, eddy.client().await);
    let topic = sns.create_topic().name("events").send().await.expect("CreateTopic").topic_arn.expect("TopicArn");
    let queue = create_queue(&sqs, "big-orders").await;
    let arn = allow_topic(&sqs, &queue, &topic).await;
    let policy = r#"{"kind": ["order"], "amount": [{"numeric": [">=", 100]}]}"#;
    subscribe(&sns, &topic, &arn, &[("FilterPolicy", policy), ("RawMessageDelivery", "true")]).await;
    for (body, kind, amount) in [("small", "order", "5"), ("refund", "refund", "500"), ("big", "order", "250")] {
        let kind = SnsAttr::builder().data_type("String").string_value(kind).build().expect("attribute");
        let amount = SnsAttr::builder().data_type("Number").string_value(amount).build().expect("attribute");
        sns.publish()
            .topic_arn(&topic)
            .message(body)
            .message_attributes("kind", kind)
            .message_attributes("amount", amount)
            .send()
            .await
            .expect("Publish");
    }
    let got = receive_n(&sqs, &queue, 1, Duration::from_secs(5)).await;
    assert_eq!(got.iter().map(|m| m.body().unwrap_or_default()).collect::<Vec<_>>(), ["big"]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(receive_now(&sqs, &queue).await.is_empty(), "a message outside the filter policy was delivered");
}
