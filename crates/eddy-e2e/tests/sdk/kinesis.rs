//! Kinesis through aws-sdk-kinesis (awsJson 1.1): records read back in order
//! through every iterator type, a split's lineage read parent-then-children,
//! and SubscribeToShard pushing records written after it opened.

use std::time::Duration;

use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::{
    PutRecordsRequestEntry, ShardIteratorType as It, StartingPosition, SubscribeToShardEventStream,
};
use aws_sdk_kinesis::Client;

use crate::common::Eddy;

async fn create(k: &Client, name: &str, shards: i32) -> String {
    k.create_stream().stream_name(name).shard_count(shards).send().await.expect("CreateStream");
    let summary = k.describe_stream_summary().stream_name(name).send().await.expect("DescribeStreamSummary");
    let d = summary.stream_description_summary.expect("summary");
    assert_eq!(d.open_shard_count, shards);
    d.stream_arn
}

async fn read(k: &Client, stream: &str, shard: &str, kind: It, seq: Option<&str>) -> Vec<(String, Vec<u8>)> {
    let mut req = k.get_shard_iterator().stream_name(stream).shard_id(shard).shard_iterator_type(kind);
    if let Some(s) = seq {
        req = req.starting_sequence_number(s);
    }
    let mut it = req.send().await.expect("GetShardIterator").shard_iterator;
    let mut out = Vec::new();
    while let Some(current) = it {
        let page = k.get_records().shard_iterator(current).limit(4).send().await.expect("GetRecords");
        let n = page.records.len();
        out.extend(page.records.into_iter().map(|r| (r.sequence_number, r.data.into_inner())));
        if n == 0 {
            break;
        }
        it = page.next_shard_iterator;
    }
    out
}

#[tokio::test]
async fn records_read_back_in_order_through_every_iterator_type() {
    let eddy = Eddy::start();
    let k = eddy.kinesis_client().await;
    create(&k, "orders", 1).await;
    let entries: Vec<PutRecordsRequestEntry> = (0..10)
        .map(|i| {
            PutRecordsRequestEntry::builder()
                .data(Blob::new(format!("r{i}")))
                .partition_key(format!("k{i}"))
                .build()
                .expect("entry")
        })
        .collect();
    let put = k.put_records().stream_name("orders").set_records(Some(entries)).send().await.expect("PutRecords");
    assert_eq!(put.failed_record_count, Some(0));
    let seqs: Vec<String> = put.records.iter().map(|r| r.sequence_number.clone().expect("seq")).collect();
    let numeric: Vec<u128> = seqs.iter().map(|s| s[2..].parse().expect("digits")).collect();
    assert!(numeric.windows(2).all(|w| w[0] < w[1]), "sequence numbers rise within a shard");
    let shard = "shardId-000000000000";
    let all = read(&k, "orders", shard, It::TrimHorizon, None).await;
    assert_eq!(all.iter().map(|r| r.0.clone()).collect::<Vec<_>>(), seqs);
    assert_eq!(all[3].1, b"r3");
    let at = read(&k, "orders", shard, It::AtSequenceNumber, Some(&seqs[6])).await;
    assert_eq!(at.len(), 4);
    let after = read(&k, "orders", shard, It::AfterSequenceNumber, Some(&seqs[6])).await;
    assert_eq!(after.first().map(|r| r.0.clone()), Some(seqs[7].clone()));
    let latest = read(&k, "orders", shard, It::Latest, None).await;
    assert!(latest.is_empty());
    let err = k.get_records().shard_iterator("not-an-iterator").send().await.expect_err("garbage iterator");
    assert!(err.into_service_error().is_invalid_argument_exception());
}

#[tokio::test]
async fn split_closes_the_parent_and_children_carry_on() {
    let eddy = Eddy::start();
    let k = eddy.kinesis_client().await;
    create(&k, "split", 1).await;
    let before = k
        .put_record()
        .stream_name("split")
        .partition_key("a")
        .data(Blob::new("before"))
        .send()
        .await
        .expect("PutRecord");
    let half = "170141183460469231731687303715884105728";
    k.split_shard()
        .stream_name("split")
        .shard_to_split(&before.shard_id)
        .new_starting_hash_key(half)
        .send()
        .await
        .expect("SplitShard");
    let shards = k.list_shards().stream_name("split").send().await.expect("ListShards").shards.expect("shards");
    assert_eq!(shards.len(), 3);
    let parent = &shards[0];
    assert!(parent.sequence_number_range.as_ref().expect("range").ending_sequence_number.is_some());
    let hash = |s: &aws_sdk_kinesis::types::Shard| {
        let r = s.hash_key_range.as_ref().expect("hash range");
        (r.starting_hash_key.clone(), r.ending_hash_key.clone())
    };
    assert_eq!(hash(&shards[1]), ("0".into(), "170141183460469231731687303715884105727".into()));
    assert_eq!(hash(&shards[2]).0, half);
    assert!(shards[1..].iter().all(|s| s.parent_shard_id.as_deref() == Some(parent.shard_id.as_str())));
    let after = k
        .put_record()
        .stream_name("split")
        .partition_key("a")
        .data(Blob::new("after"))
        .send()
        .await
        .expect("PutRecord");
    assert_ne!(after.shard_id, before.shard_id);
    // The parent reads to its end, then names its children.
    let it = k
        .get_shard_iterator()
        .stream_name("split")
        .shard_id(&parent.shard_id)
        .shard_iterator_type(It::TrimHorizon)
        .send()
        .await
        .expect("GetShardIterator")
        .shard_iterator
        .expect("iterator");
    let page = k.get_records().shard_iterator(it).send().await.expect("GetRecords");
    assert_eq!(page.records[0].data.as_ref(), b"before");
    assert!(page.next_shard_iterator.is_none());
    assert_eq!(page.child_shards.expect("children").len(), 2);
    let child = read(&k, "split", &after.shard_id, It::TrimHorizon, None).await;
    assert_eq!(child.len(), 1);
    assert!(child[0].0[2..].parse::<u128>().unwrap() > before.sequence_number[2..].parse::<u128>().unwrap());
}

#[tokio::test]
async fn subscribe_to_shard_pushes_new_records() {
    let eddy = Eddy::start();
    let k = eddy.kinesis_client().await;
    let arn = create(&k, "push", 1).await;
    let consumer = k
        .register_stream_consumer()
        .stream_arn(&arn)
        .consumer_name("app")
        .send()
        .await
        .expect("RegisterStreamConsumer")
        .consumer
        .expect("consumer");
    let mut out = k
        .subscribe_to_shard()
        .consumer_arn(&consumer.consumer_arn)
        .shard_id("shardId-000000000000")
        .starting_position(StartingPosition::builder().r#type(It::Latest).build().expect("position"))
        .send()
        .await
        .expect("SubscribeToShard");
    let writer = k.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        writer
            .put_record()
            .stream_name("push")
            .partition_key("p")
            .data(Blob::new("live"))
            .send()
            .await
            .expect("PutRecord");
    });
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while seen.is_empty() && tokio::time::Instant::now() < deadline {
        let event = tokio::time::timeout(Duration::from_secs(10), out.event_stream.recv()).await.expect("in time");
        if let Some(SubscribeToShardEventStream::SubscribeToShardEvent(e)) = event.expect("event") {
            assert!(!e.continuation_sequence_number.is_empty());
            seen.extend(e.records.into_iter().map(|r| r.data.into_inner()));
        }
    }
    assert_eq!(seen, vec![b"live".to_vec()]);
}
