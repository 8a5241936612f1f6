use std::sync::Arc;

use super::*;
use crate::clock::ManualClock;

const T0: u64 = 1_700_000_000_000;

fn caller() -> Caller {
    Caller { account: "000000000000".into(), region: "us-east-1".into(), access_key: "test".into() }
}

fn open(clock: &ManualClock, store: eddy_store::Store) -> Arc<Kinesis> {
    Kinesis::open(store, Arc::new(clock.clone()), KinesisConfig::default()).unwrap()
}

async fn create(k: &Kinesis, name: &str, shards: u32) -> StreamRef {
    k.create_stream(
        &caller(),
        CreateStream { name: name.into(), shard_count: Some(shards), on_demand: Some(false), ..Default::default() },
    )
    .await
    .unwrap();
    StreamRef::name(name)
}

fn entry(key: &str, data: &str) -> PutEntry {
    PutEntry { partition_key: key.into(), explicit_hash_key: None, data: data.as_bytes().to_vec() }
}

fn read_all(k: &Kinesis, s: &StreamRef, shard: &str, kind: IteratorType, seq: Option<&str>) -> Vec<Record> {
    let mut it = k.get_shard_iterator(&caller(), s, shard, kind, seq, None).unwrap();
    let mut out = Vec::new();
    loop {
        let page = k.get_records(&StreamRef::default(), &caller(), &it, Some(3)).unwrap();
        let empty = page.records.is_empty();
        out.extend(page.records);
        match page.next_iterator {
            Some(next) if !empty => it = next,
            _ => return out,
        }
    }
}

#[tokio::test]
async fn records_come_back_in_order_for_every_iterator_type() {
    let clock = ManualClock::new(T0);
    let k = open(&clock, eddy_store::Store::in_memory());
    let s = create(&k, "orders", 1).await;
    let mut seqs = Vec::new();
    for i in 0..10 {
        let (shard, seq, _) = k.put_record(&caller(), &s, entry("pk", &format!("r{i}")), None).await.unwrap();
        assert_eq!(shard, "shardId-000000000000");
        seqs.push(seq);
        clock.advance_ms(1);
    }
    assert!(seqs.windows(2).all(|w| w[0] < w[1]));
    let all = read_all(&k, &s, "shardId-000000000000", IteratorType::TrimHorizon, None);
    assert_eq!(all.iter().map(|r| r.seq).collect::<Vec<_>>(), seqs);
    let at = read_all(&k, &s, "shardId-000000000000", IteratorType::AtSequenceNumber, Some(&seqs[4].to_string()));
    assert_eq!(at.len(), 6);
    let after = read_all(&k, &s, "shardId-000000000000", IteratorType::AfterSequenceNumber, Some(&seqs[4].to_string()));
    assert_eq!(after.first().map(|r| r.seq), Some(seqs[5]));
    let latest = k.get_shard_iterator(&caller(), &s, "shardId-000000000000", IteratorType::Latest, None, None).unwrap();
    k.put_record(&caller(), &s, entry("pk", "new"), None).await.unwrap();
    let page = k.get_records(&StreamRef::default(), &caller(), &latest, None).unwrap();
    assert_eq!(page.records.len(), 1);
    assert_eq!(page.records[0].data, b"new");
    let ts = k
        .get_shard_iterator(&caller(), &s, "shardId-000000000000", IteratorType::AtTimestamp, None, Some(T0 + 7))
        .unwrap();
    let page = k.get_records(&StreamRef::default(), &caller(), &ts, None).unwrap();
    assert_eq!(page.records[0].data, b"r7");
    assert_eq!(page.millis_behind, 0);
}

#[tokio::test]
async fn iterators_expire_after_five_minutes() {
    let clock = ManualClock::new(T0);
    let k = open(&clock, eddy_store::Store::in_memory());
    let s = create(&k, "s", 1).await;
    let it =
        k.get_shard_iterator(&caller(), &s, "shardId-000000000000", IteratorType::TrimHorizon, None, None).unwrap();
    clock.advance_secs(301);
    let err = k.get_records(&StreamRef::default(), &caller(), &it, None).unwrap_err();
    assert!(matches!(err, KinesisError::ExpiredIterator(_)));
}

#[tokio::test]
async fn list_tokens_expire_after_five_minutes_and_stay_in_their_listing() {
    let clock = ManualClock::new(T0);
    let k = open(&clock, eddy_store::Store::in_memory());
    let s = create(&k, "s", 3).await;
    let (_, token) = k.list_shards(&caller(), &s, None, None, Some(1), None).unwrap();
    let token = token.expect("more shards follow");
    let none = StreamRef::default();
    let (next, _) = k.list_shards(&caller(), &none, Some(&token), None, Some(1), None).unwrap();
    assert_eq!(next[0].index, 1);
    // Not a ListStreams token, whatever it holds.
    assert!(matches!(k.list_streams(&caller(), None, None, Some(&token)), Err(KinesisError::InvalidArgument(_))));
    clock.advance_secs(301);
    let err = k.list_shards(&caller(), &none, Some(&token), None, Some(1), None).unwrap_err();
    assert!(matches!(err, KinesisError::ExpiredNextToken(_)), "{err:?}");
}

#[tokio::test]
async fn partition_keys_route_by_md5() {
    let clock = ManualClock::new(T0);
    let k = open(&clock, eddy_store::Store::in_memory());
    let s = create(&k, "s", 4).await;
    let shards = k.list_shards(&caller(), &s, None, None, None, None).unwrap().0;
    for key in ["a", "b", "user-17", "zzz"] {
        let (shard, _, _) = k.put_record(&caller(), &s, entry(key, "x"), None).await.unwrap();
        let h = hashkey::of_partition_key(key);
        let owner = shards.iter().find(|m| m.hash_range().0 <= h && h <= m.hash_range().1).unwrap();
        assert_eq!(shard, shard_id(owner.index));
    }
    let e = PutEntry { partition_key: "x".into(), explicit_hash_key: Some(u128::MAX.to_string()), data: vec![] };
    assert_eq!(k.put_record(&caller(), &s, e, None).await.unwrap().0, "shardId-000000000003");
}

#[tokio::test]
async fn split_and_merge_keep_lineage_and_parents_readable() {
    let clock = ManualClock::new(T0);
    let k = open(&clock, eddy_store::Store::in_memory());
    let s = create(&k, "s", 1).await;
    k.put_record(&caller(), &s, entry("a", "before"), None).await.unwrap();
    clock.advance_ms(5);
    let mid = (u128::MAX / 2 + 1).to_string();
    k.split_shard(&caller(), &s, "shardId-000000000000", &mid).await.unwrap();
    let shards = k.list_shards(&caller(), &s, None, None, None, None).unwrap().0;
    assert_eq!(shards.len(), 3);
    assert!(shards[0].ending_seq.is_some());
    assert_eq!((shards[1].parent, shards[1].hash_range()), (Some(0), (0, u128::MAX / 2)));
    assert_eq!(shards[2].hash_range(), (u128::MAX / 2 + 1, u128::MAX));
    assert!(SeqNo(shards[1].starting_seq_value()) > SeqNo(shards[0].ending_seq_value().unwrap()));
    let (child, after, _) = k.put_record(&caller(), &s, entry("a", "after"), None).await.unwrap();
    assert_ne!(child, "shardId-000000000000");
    // The parent still reads, then ends with its children.
    let it =
        k.get_shard_iterator(&caller(), &s, "shardId-000000000000", IteratorType::TrimHorizon, None, None).unwrap();
    let page = k.get_records(&StreamRef::default(), &caller(), &it, None).unwrap();
    assert_eq!(page.records[0].data, b"before");
    assert!(page.next_iterator.is_none());
    assert_eq!(page.child_shards.unwrap().len(), 2);
    assert!(after > page.records[0].seq);
    k.merge_shards(&caller(), &s, "shardId-000000000001", "shardId-000000000002").await.unwrap();
    let open: Vec<_> = k.list_shards(&caller(), &s, None, None, None, Some(ShardFilter::AtLatest)).unwrap().0;
    assert_eq!(open.len(), 1);
    assert_eq!((open[0].parent, open[0].adjacent_parent, open[0].hash_range()), (Some(1), Some(2), (0, u128::MAX)));
    let err = k.merge_shards(&caller(), &s, "shardId-000000000001", "shardId-000000000003").await.unwrap_err();
    assert!(matches!(err, KinesisError::InvalidArgument(_)));
}

#[tokio::test]
async fn update_shard_count_ends_with_even_ranges() {
    let clock = ManualClock::new(T0);
    let k = open(&clock, eddy_store::Store::in_memory());
    let s = create(&k, "s", 3).await;
    for target in [5, 4, 2, 4, 3] {
        k.update_shard_count(&caller(), &s, target).await.unwrap();
        let open = k.list_shards(&caller(), &s, None, None, None, Some(ShardFilter::AtLatest)).unwrap().0;
        let mut ranges: Vec<_> = open.iter().map(|m| m.hash_range()).collect();
        ranges.sort();
        assert_eq!(ranges, hashkey::even_ranges(target), "target {target}");
        for m in k.list_shards(&caller(), &s, None, None, None, None).unwrap().0 {
            if let Some(p) = m.parent {
                assert!(p < m.index);
            }
        }
    }
    assert!(k.update_shard_count(&caller(), &s, 7).await.is_err());
}

#[tokio::test]
async fn retention_trims_old_records() {
    let clock = ManualClock::new(T0);
    let k = open(&clock, eddy_store::Store::in_memory());
    let s = create(&k, "s", 1).await;
    k.put_record(&caller(), &s, entry("a", "old"), None).await.unwrap();
    clock.advance_secs(23 * 3600);
    k.put_record(&caller(), &s, entry("a", "new"), None).await.unwrap();
    clock.advance_secs(3600 + 1);
    let all = read_all(&k, &s, "shardId-000000000000", IteratorType::TrimHorizon, None);
    assert_eq!(all.iter().map(|r| r.data.clone()).collect::<Vec<_>>(), vec![b"new".to_vec()]);
    k.trim_expired().await.unwrap();
    let log = k.stream(&caller(), &s).unwrap().log(0).unwrap();
    let (low, high) = log.key_bounds();
    assert_eq!(log.partition.scan_range(&low, &high).count(), 1);
}

#[tokio::test]
async fn restart_keeps_records_and_numbers_rising() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let first = {
        let k = open(&clock, eddy_store::Store::open(dir.path(), eddy_store::Durability::Fsync).unwrap());
        let s = create(&k, "s", 2).await;
        let (outcomes, _) = k
            .put_records(&caller(), &s, (0..50).map(|i| entry(&format!("k{i}"), &format!("v{i}"))).collect())
            .await
            .unwrap();
        assert_eq!(outcomes.len(), 50);
        outcomes
    };
    // The clock stepped back: numbers must still rise.
    let clock = ManualClock::new(T0 - 10_000);
    let k = open(&clock, eddy_store::Store::open(dir.path(), eddy_store::Durability::Fsync).unwrap());
    let s = StreamRef::name("s");
    let (shard, seq, _) = k.put_record(&caller(), &s, entry("k0", "again"), None).await.unwrap();
    let before: Vec<SeqNo> = first
        .iter()
        .filter_map(|o| match o {
            PutOutcome::Stored { shard_id, seq } if *shard_id == shard => Some(*seq),
            _ => None,
        })
        .collect();
    assert!(before.iter().all(|b| *b < seq));
    let all = read_all(&k, &s, &shard, IteratorType::TrimHorizon, None);
    assert_eq!(all.len(), before.len() + 1);
}

#[tokio::test]
async fn subscriptions_push_new_records() {
    let clock = ManualClock::new(T0);
    let k = open(&clock, eddy_store::Store::in_memory());
    create(&k, "s", 1).await;
    let arn = stream_arn("us-east-1", "000000000000", "s");
    let consumer = k.register_consumer(&caller(), &arn, "c", Default::default()).await.unwrap();
    let mut sub = k
        .subscribe_to_shard(&caller(), &consumer.arn, "shardId-000000000000", IteratorType::Latest, None, None)
        .unwrap();
    let first = sub.next().await.unwrap().unwrap();
    assert!(first.records.is_empty());
    let writer = k.clone();
    tokio::spawn(async move {
        writer.put_record(&caller(), &StreamRef::name("s"), entry("a", "pushed"), None).await.unwrap();
    });
    let event = tokio::time::timeout(std::time::Duration::from_secs(2), sub.next()).await.unwrap().unwrap().unwrap();
    assert_eq!(event.records[0].data, b"pushed");
    assert_eq!(event.continuation, event.records[0].seq);
    let again =
        k.subscribe_to_shard(&caller(), &consumer.arn, "shardId-000000000000", IteratorType::Latest, None, None);
    assert!(matches!(again, Err(KinesisError::ResourceInUse(_))));
}

#[tokio::test]
async fn deleted_streams_lose_their_logs_and_names_start_fresh() {
    let clock = ManualClock::new(T0);
    let store = eddy_store::Store::in_memory();
    let k = open(&clock, store.clone());
    let s = create(&k, "gone", 2).await;
    k.put_record(&caller(), &s, entry("a", "old"), None).await.unwrap();
    k.delete_stream(&caller(), &s, false).await.unwrap();
    assert!(matches!(k.describe(&caller(), &s), Err(KinesisError::ResourceNotFound(_))));
    k.purge_deleted().unwrap();
    assert!(store.partition_names("kinesis-1-").is_empty());
    create(&k, "gone", 1).await;
    let all = read_all(&k, &s, "shardId-000000000000", IteratorType::TrimHorizon, None);
    assert!(all.is_empty());
}

#[tokio::test]
async fn enforced_limits_throttle_provisioned_shards_only() {
    let clock = ManualClock::new(T0);
    let k =
        Kinesis::open(eddy_store::Store::in_memory(), Arc::new(clock.clone()), KinesisConfig { enforce_limits: true })
            .unwrap();
    let s = create(&k, "limited", 1).await;
    let batch = |n: usize| (0..n).map(|i| entry(&format!("k{i}"), "x")).collect::<Vec<_>>();
    let (first, _) = k.put_records(&caller(), &s, batch(500)).await.unwrap();
    let (second, _) = k.put_records(&caller(), &s, batch(500)).await.unwrap();
    let (third, _) = k.put_records(&caller(), &s, batch(10)).await.unwrap();
    assert!(first.iter().chain(&second).all(|o| matches!(o, PutOutcome::Stored { .. })));
    assert!(third
        .iter()
        .all(|o| matches!(o, PutOutcome::Failed { code: "ProvisionedThroughputExceededException", .. })));
    let err = k.put_record(&caller(), &s, entry("a", "x"), None).await.unwrap_err();
    assert!(matches!(err, KinesisError::ProvisionedThroughputExceeded(_)));
    let it =
        k.get_shard_iterator(&caller(), &s, "shardId-000000000000", IteratorType::TrimHorizon, None, None).unwrap();
    for _ in 0..5 {
        k.get_records(&StreamRef::default(), &caller(), &it, Some(1)).unwrap();
    }
    let err = k.get_records(&StreamRef::default(), &caller(), &it, Some(1)).unwrap_err();
    assert!(matches!(err, KinesisError::ProvisionedThroughputExceeded(_)));
    clock.advance_secs(1);
    assert!(k.put_record(&caller(), &s, entry("a", "x"), None).await.is_ok());
    // On-demand streams are not throttled.
    k.create_stream(&caller(), CreateStream { name: "od".into(), on_demand: Some(true), ..Default::default() })
        .await
        .unwrap();
    let (outcomes, _) = k.put_records(&caller(), &StreamRef::name("od"), batch(500)).await.unwrap();
    let (more, _) = k.put_records(&caller(), &StreamRef::name("od"), batch(500)).await.unwrap();
    let (again, _) = k.put_records(&caller(), &StreamRef::name("od"), batch(500)).await.unwrap();
    assert!(outcomes.iter().chain(&more).chain(&again).all(|o| matches!(o, PutOutcome::Stored { .. })));
}

#[tokio::test]
async fn shard_handles_append_read_and_wake_on_one_shard() {
    let clock = ManualClock::new(T0);
    let k = open(&clock, eddy_store::Store::in_memory());
    let s = create(&k, "kafkaish", 2).await;
    let shard = k.shard_handle(&caller(), &s, 1).unwrap();
    assert!(k.shard_handle(&caller(), &s, 2).is_err());
    assert_eq!(shard.latest(), SeqNo(0));
    // The same partition key would hash to either shard: the handle's shard wins.
    let seqs = shard.append(&[entry("pk", "a"), entry("pk", "b"), entry("other", "c")]).await.unwrap();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]) && seqs.iter().all(|q| q.shard() == 1));
    assert_eq!(shard.latest(), seqs[2]);
    let read = shard.read(SeqNo(0), 2, usize::MAX).unwrap();
    assert_eq!(read.records.iter().map(|r| r.data.as_slice()).collect::<Vec<_>>(), [b"a", b"b"]);
    let rest = shard.read(read.next_from, 10, usize::MAX).unwrap();
    assert_eq!(rest.records.iter().map(|r| r.seq).collect::<Vec<_>>(), [seqs[2]]);
    assert!(!rest.at_end && !shard.is_closed());
    // Kinesis readers see the same log.
    assert_eq!(read_all(&k, &s, "shardId-000000000001", IteratorType::TrimHorizon, None).len(), 3);
    // A waiter past the newest record wakes when the next one is durable.
    let latest = shard.latest();
    let waiter = tokio::spawn({
        let shard = shard.clone();
        async move { shard.wait_past(latest).await }
    });
    tokio::task::yield_now().await;
    assert!(!waiter.is_finished());
    shard.append(&[entry("pk", "d")]).await.unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(5), waiter).await.unwrap().unwrap();
    // Stream limits still apply.
    let big = PutEntry { partition_key: "pk".into(), explicit_hash_key: None, data: vec![0; 1024 * 1024] };
    assert!(matches!(shard.append(&[big]).await, Err(KinesisError::InvalidArgument(_))));
}

#[tokio::test]
async fn shard_handles_refuse_appends_to_closed_shards() {
    let clock = ManualClock::new(T0);
    let k = open(&clock, eddy_store::Store::in_memory());
    let s = create(&k, "closing", 1).await;
    let shard = k.shard_handle(&caller(), &s, 0).unwrap();
    shard.append(&[entry("pk", "before")]).await.unwrap();
    k.split_shard(&caller(), &s, "shardId-000000000000", &(1u128 << 127).to_string()).await.unwrap();
    assert!(shard.is_closed());
    assert!(matches!(shard.append(&[entry("pk", "after")]).await, Err(KinesisError::InvalidArgument(_))));
    let read = shard.read(SeqNo(0), 10, usize::MAX).unwrap();
    assert_eq!(read.records.len(), 1);
    assert!(shard.read(read.next_from, 10, usize::MAX).unwrap().at_end);
}

fn refused(e: &KinesisError) -> bool {
    matches!(e, KinesisError::Internal(m) if m.contains("store unavailable"))
}

/// Every metadata change is saved before anyone sees it: when the store
/// refuses the save, the client gets the error and memory is as before.
#[tokio::test]
async fn changes_the_store_refuses_leave_memory_unchanged() {
    let clock = ManualClock::new(T0);
    let store = eddy_store::Store::in_memory();
    let k = open(&clock, store.clone());
    let s = create(&k, "kept", 1).await;
    k.put_record(&caller(), &s, entry("a", "before"), None).await.unwrap();
    let shard = "shardId-000000000000";
    let before = k.describe(&caller(), &s).unwrap().meta;
    store.refuse_writes(true);

    let new = CreateStream { name: "new".into(), shard_count: Some(2), on_demand: Some(false), ..Default::default() };
    assert!(refused(&k.create_stream(&caller(), new.clone()).await.unwrap_err()));
    assert!(matches!(k.describe(&caller(), &StreamRef::name("new")), Err(KinesisError::ResourceNotFound(_))));
    assert_eq!(k.stream_count(), 1);
    assert_eq!(store.partition_names(&records::log_prefix(before.uid + 1)), Vec::<String>::new(), "its logs went");

    assert!(refused(&k.delete_stream(&caller(), &s, false).await.unwrap_err()));
    assert!(refused(&k.split_shard(&caller(), &s, shard, &(1u128 << 127).to_string()).await.unwrap_err()));
    assert!(refused(&k.update_shard_count(&caller(), &s, 2).await.unwrap_err()));
    assert!(refused(&k.change_retention(&caller(), &s, 48, true).await.unwrap_err()));
    assert!(refused(&k.set_mode(&caller(), &s, true).await.unwrap_err()));
    assert!(refused(&k.set_encryption(&caller(), &s, Some("key".into())).await.unwrap_err()));
    let arn = stream_arn("us-east-1", "000000000000", "kept");
    assert!(refused(&k.register_consumer(&caller(), &arn, "c", Default::default()).await.unwrap_err()));
    let after = k.describe(&caller(), &s).unwrap();
    assert_eq!(serde_json::to_value(&after.meta).unwrap(), serde_json::to_value(&before).unwrap());
    assert_eq!(after.open_shards, 1);
    assert_eq!(read_all(&k, &s, shard, IteratorType::TrimHorizon, None)[0].data, b"before");

    store.refuse_writes(false);
    k.put_record(&caller(), &s, entry("a", "after"), None).await.unwrap();
    assert_eq!(read_all(&k, &s, shard, IteratorType::TrimHorizon, None).len(), 2, "the shard was never closed");
    k.create_stream(&caller(), new).await.unwrap();
    k.delete_stream(&caller(), &s, false).await.unwrap();
    assert!(matches!(k.describe(&caller(), &s), Err(KinesisError::ResourceNotFound(_))));
}

#[tokio::test]
async fn two_creates_of_one_name_make_one_stream() {
    let clock = ManualClock::new(T0);
    let k = open(&clock, eddy_store::Store::in_memory());
    let req =
        || CreateStream { name: "twice".into(), shard_count: Some(1), on_demand: Some(false), ..Default::default() };
    let who = caller();
    let (a, b) = tokio::join!(k.create_stream(&who, req()), k.create_stream(&who, req()));
    assert!(a.is_ok() != b.is_ok(), "one create wins: {a:?} {b:?}");
    let loser = if a.is_ok() { b } else { a };
    assert!(matches!(loser, Err(KinesisError::ResourceInUse(_))), "{loser:?}");
    assert_eq!(k.stream_count(), 1);
}

/// A stalled commit does not hold the shard's write lock: iterators,
/// reads and describes go on while a put waits for it; the put's record
/// becomes readable once the commit is done.
#[tokio::test]
async fn a_stalled_commit_does_not_hold_the_shard_lock() {
    let clock = ManualClock::new(T0);
    let store = eddy_store::Store::in_memory();
    let k = open(&clock, store.clone());
    let s = create(&k, "s", 1).await;
    let shard = "shardId-000000000000";
    let stall = store.pause_applies();
    let put = tokio::spawn({
        let (k, s) = (k.clone(), s.clone());
        async move { k.put_record(&caller(), &s, entry("a", "stalled"), None).await }
    });
    let stream = k.stream(&caller(), &s).unwrap();
    for _ in 0..1_000 {
        if stream.log(0).unwrap().write.lock().last_written > SeqNo(0) {
            break;
        }
        tokio::task::yield_now().await;
    }
    assert!(stream.log(0).unwrap().write.lock().last_written > SeqNo(0), "the put took its number");
    let latest = k.get_shard_iterator(&caller(), &s, shard, IteratorType::Latest, None, None).unwrap();
    assert!(read_all(&k, &s, shard, IteratorType::TrimHorizon, None).is_empty(), "not readable before it is durable");
    assert!(!put.is_finished());
    drop(stall);
    put.await.unwrap().unwrap();
    assert_eq!(read_all(&k, &s, shard, IteratorType::TrimHorizon, None)[0].data, b"stalled");
    let page = k.get_records(&StreamRef::default(), &caller(), &latest, None).unwrap();
    assert!(page.records.is_empty(), "LATEST taken during the stall starts after the stalled record");
}
