//! CreateQueue, GetQueueUrl, ListQueues, queue attributes.

use aws_sdk_sqs::types::QueueAttributeName as A;

use crate::common::{create_queue, Eddy};

#[tokio::test]
async fn create_get_url_and_list_queues() {
    let eddy = Eddy::start();
    let sqs = eddy.client().await;

    let url = create_queue(&sqs, "orders").await;
    assert!(url.ends_with("/orders"), "queue URL {url} should end with the queue name");
    // CreateQueue with the same name and attributes returns the existing queue.
    assert_eq!(create_queue(&sqs, "orders").await, url);

    let got = sqs.get_queue_url().queue_name("orders").send().await.expect("GetQueueUrl");
    assert_eq!(got.queue_url(), Some(url.as_str()));

    let a = create_queue(&sqs, "list-a").await;
    let b = create_queue(&sqs, "list-b").await;
    let c = create_queue(&sqs, "list-c").await;

    let all = sqs.list_queues().send().await.expect("ListQueues");
    let mut all = all.queue_urls().to_vec();
    all.sort();
    assert_eq!(all, [a.clone(), b.clone(), c.clone(), url.clone()]);

    let listed = sqs.list_queues().queue_name_prefix("list-").send().await.expect("ListQueues prefix");
    let mut listed = listed.queue_urls().to_vec();
    listed.sort();
    assert_eq!(listed, [a.clone(), b.clone(), c.clone()]);

    // Paginated: MaxResults 2 gives a NextToken for the rest.
    let page1 = sqs.list_queues().queue_name_prefix("list-").max_results(2).send().await.expect("ListQueues page 1");
    assert_eq!(page1.queue_urls().len(), 2);
    let token = page1.next_token().expect("NextToken on a partial page");
    let page2 = sqs
        .list_queues()
        .queue_name_prefix("list-")
        .max_results(2)
        .next_token(token)
        .send()
        .await
        .expect("ListQueues page 2");
    assert_eq!(page2.queue_urls().len(), 1);
    assert_eq!(page2.next_token(), None);
    let mut paged: Vec<String> = page1.queue_urls().iter().chain(page2.queue_urls()).cloned().collect();
    paged.sort();
    assert_eq!(paged, [a, b, c]);

    sqs.delete_queue().queue_url(&url).send().await.expect("DeleteQueue");
}

#[tokio::test]
async fn create_queue_with_other_attributes_is_queue_name_exists() {
    let eddy = Eddy::start();
    let sqs = eddy.client().await;
    sqs.create_queue().queue_name("dup").attributes(A::VisibilityTimeout, "10").send().await.expect("CreateQueue");
    let err = sqs
        .create_queue()
        .queue_name("dup")
        .attributes(A::VisibilityTimeout, "20")
        .send()
        .await
        .expect_err("same name, other attributes");
    assert!(err.into_service_error().is_queue_name_exists());
}

#[tokio::test]
async fn attributes_round_trip() {
    let eddy = Eddy::start();
    let sqs = eddy.client().await;

    let out = sqs
        .create_queue()
        .queue_name("attrs")
        .attributes(A::VisibilityTimeout, "45")
        .attributes(A::MessageRetentionPeriod, "3600")
        .attributes(A::MaximumMessageSize, "2048")
        .send()
        .await
        .expect("CreateQueue");
    let url = out.queue_url().expect("QueueUrl").to_string();

    sqs.set_queue_attributes()
        .queue_url(&url)
        .attributes(A::DelaySeconds, "2")
        .attributes(A::ReceiveMessageWaitTimeSeconds, "5")
        .attributes(A::VisibilityTimeout, "50")
        .send()
        .await
        .expect("SetQueueAttributes");

    let got =
        sqs.get_queue_attributes().queue_url(&url).attribute_names(A::All).send().await.expect("GetQueueAttributes");
    let attrs = got.attributes().expect("Attributes");
    let get = |name: A| attrs.get(&name).unwrap_or_else(|| panic!("{name} missing from {attrs:?}")).as_str();
    assert_eq!(get(A::VisibilityTimeout), "50");
    assert_eq!(get(A::MessageRetentionPeriod), "3600");
    assert_eq!(get(A::MaximumMessageSize), "2048");
    assert_eq!(get(A::DelaySeconds), "2");
    assert_eq!(get(A::ReceiveMessageWaitTimeSeconds), "5");
    assert_eq!(get(A::ApproximateNumberOfMessages), "0");
    assert_eq!(get(A::ApproximateNumberOfMessagesNotVisible), "0");
    assert_eq!(get(A::ApproximateNumberOfMessagesDelayed), "0");
    for ts in [A::CreatedTimestamp, A::LastModifiedTimestamp] {
        let secs: u64 = get(ts.clone()).parse().unwrap_or_else(|_| panic!("{ts} is not epoch seconds"));
        assert!(secs > 1_600_000_000, "{ts}={secs} is not a recent epoch time in seconds");
    }

    // QueueArn is arn:aws:sqs:<region>:<account>:<name>, the account being the
    // one in the queue URL's path.
    let account = url.rsplit('/').nth(1).expect("account in the queue URL");
    assert!(account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()), "account id {account:?}");
    assert_eq!(get(A::QueueArn), format!("arn:aws:sqs:us-east-1:{account}:attrs"));
    // A standard queue has no FifoQueue attribute.
    assert!(!attrs.contains_key(&A::FifoQueue));

    // Asking for one attribute returns that one only.
    let one = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(A::DelaySeconds)
        .send()
        .await
        .expect("GetQueueAttributes DelaySeconds");
    let one = one.attributes().expect("Attributes");
    assert_eq!(one.len(), 1, "{one:?}");
    assert_eq!(one[&A::DelaySeconds], "2");
}
