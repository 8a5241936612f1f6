//! Dead-letter queues: redrive after maxReceiveCount, ListDeadLetterSourceQueues,
//! and moving messages back with StartMessageMoveTask.

use std::time::{Duration, Instant};

use aws_sdk_sqs::types::{MessageSystemAttributeName as S, QueueAttributeName as A};

use crate::common::{create_queue, queue_arn, queue_attribute, receive_n, Eddy};

#[tokio::test]
async fn redrive_to_dlq_then_move_back() {
    let eddy = Eddy::start();
    let sqs = eddy.client().await;

    let dlq = create_queue(&sqs, "dead").await;
    let dlq_arn = queue_arn(&sqs, &dlq).await;
    let policy = format!(r#"{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":"1"}}"#);
    let source = sqs
        .create_queue()
        .queue_name("work")
        .attributes(A::RedrivePolicy, policy)
        .send()
        .await
        .expect("CreateQueue with RedrivePolicy")
        .queue_url()
        .expect("QueueUrl")
        .to_string();
    let source_arn = queue_arn(&sqs, &source).await;
    let stored = queue_attribute(&sqs, &source, A::RedrivePolicy).await;
    assert!(stored.contains(&dlq_arn) && stored.contains("maxReceiveCount"), "RedrivePolicy {stored}");

    sqs.send_message().queue_url(&source).message_body("poison").send().await.expect("SendMessage");

    // Received once (the allowed maxReceiveCount), and visible again at once.
    let first = sqs.receive_message().queue_url(&source).visibility_timeout(0).wait_time_seconds(1).send().await;
    let first = first.expect("ReceiveMessage");
    assert_eq!(first.messages().iter().map(|m| m.body().unwrap_or_default()).collect::<Vec<_>>(), ["poison"]);

    // The next receive finds it over maxReceiveCount: it goes to the DLQ
    // instead of to the consumer.
    let second = sqs.receive_message().queue_url(&source).wait_time_seconds(1).send().await.expect("ReceiveMessage");
    assert!(second.messages().is_empty(), "redriven message was delivered: {:?}", second.messages());

    let dead = sqs
        .receive_message()
        .queue_url(&dlq)
        .visibility_timeout(0) // stays available for the move task below
        .wait_time_seconds(2)
        .message_system_attribute_names(S::All)
        .send()
        .await
        .expect("ReceiveMessage on the DLQ");
    let dead = dead.messages();
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0].body(), Some("poison"));
    let sys = dead[0].attributes().expect("system attributes");
    assert_eq!(sys.get(&S::DeadLetterQueueSourceArn), Some(&source_arn));

    let sources =
        sqs.list_dead_letter_source_queues().queue_url(&dlq).send().await.expect("ListDeadLetterSourceQueues");
    assert_eq!(sources.queue_urls(), [source.as_str()]);

    // Without a DestinationArn the messages go back to their source queue.
    let task = sqs.start_message_move_task().source_arn(&dlq_arn).send().await.expect("StartMessageMoveTask");
    assert!(task.task_handle().is_some_and(|h| !h.is_empty()), "TaskHandle");

    let deadline = Instant::now() + Duration::from_secs(15);
    let entry = loop {
        let tasks = sqs.list_message_move_tasks().source_arn(&dlq_arn).send().await.expect("ListMessageMoveTasks");
        let results = tasks.results();
        assert!(!results.is_empty(), "the started task is listed");
        let latest = results[0].clone();
        assert_eq!(latest.source_arn(), Some(dlq_arn.as_str()));
        match latest.status() {
            Some("COMPLETED") => break latest,
            Some("RUNNING") if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(200)).await,
            other => panic!("move task status {other:?}: {latest:?}"),
        }
    };
    assert_eq!(entry.approximate_number_of_messages_moved(), 1);

    let back = receive_n(&sqs, &source, 1, Duration::from_secs(5)).await;
    assert_eq!(back.iter().map(|m| m.body().unwrap_or_default()).collect::<Vec<_>>(), ["poison"]);
    assert_eq!(queue_attribute(&sqs, &dlq, A::ApproximateNumberOfMessages).await, "0");
}
