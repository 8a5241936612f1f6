//! TagQueue, UntagQueue, ListQueueTags and tags given at creation.

use std::collections::HashMap;

use crate::common::Eddy;

#[tokio::test]
async fn tag_untag_and_list_tags() {
    let eddy = Eddy::start();
    let sqs = eddy.client().await;
    let out = sqs.create_queue().queue_name("tagged").tags("team", "core").send().await.expect("CreateQueue");
    let url = out.queue_url().expect("QueueUrl").to_string();

    let tags = |pairs: &[(&str, &str)]| -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    };
    let list = || sqs.list_queue_tags().queue_url(&url).send();

    assert_eq!(list().await.expect("ListQueueTags").tags().cloned().unwrap_or_default(), tags(&[("team", "core")]));

    sqs.tag_queue().queue_url(&url).tags("env", "test").tags("team", "platform").send().await.expect("TagQueue");
    assert_eq!(
        list().await.expect("ListQueueTags").tags().cloned().unwrap_or_default(),
        tags(&[("env", "test"), ("team", "platform")])
    );

    sqs.untag_queue().queue_url(&url).tag_keys("team").send().await.expect("UntagQueue");
    assert_eq!(list().await.expect("ListQueueTags").tags().cloned().unwrap_or_default(), tags(&[("env", "test")]));

    sqs.untag_queue().queue_url(&url).tag_keys("env").send().await.expect("UntagQueue");
    assert!(list().await.expect("ListQueueTags").tags().is_none_or(|t| t.is_empty()));
}
