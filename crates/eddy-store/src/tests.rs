use super::*;

#[tokio::test]
async fn committed_batches_are_readable_and_durable_after_reopen() {
    let dir = std::env::temp_dir().join(format!("eddy-store-test-{}", unique()));
    {
        let store = Store::open(&dir, Durability::Fsync).unwrap();
        let p = store.partition("things").unwrap();
        let mut b = store.batch();
        b.put(&p, b"a".to_vec(), b"1".to_vec());
        b.put(&p, b"b".to_vec(), b"2".to_vec());
        let t = b.commit().unwrap();
        assert_eq!(p.get(b"a").unwrap().as_deref(), Some(&b"1"[..]));
        store.durable(t).await.unwrap();
        let mut b = store.batch();
        b.delete(&p, b"a".to_vec());
        let t = b.commit().unwrap();
        store.durable(t).await.unwrap();
    }
    let store = Store::open(&dir, Durability::Fsync).unwrap();
    let p = store.partition("things").unwrap();
    let all: Vec<_> = p.scan_prefix(b"").map(|r| r.unwrap()).collect();
    assert_eq!(all, vec![(b"b".to_vec(), b"2".to_vec())]);
    drop(store);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn many_concurrent_waiters_share_fsyncs() {
    let dir = std::env::temp_dir().join(format!("eddy-store-test-{}", unique()));
    let store = Store::open(&dir, Durability::Fsync).unwrap();
    let p = store.partition("p").unwrap();
    let mut tasks = Vec::new();
    for i in 0..200u32 {
        let (store, p) = (store.clone(), p.clone());
        tasks.push(tokio::spawn(async move {
            let mut b = store.batch();
            b.put(&p, i.to_be_bytes().to_vec(), vec![1]);
            let t = b.commit().unwrap();
            store.durable(t).await.unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(p.scan_prefix(b"").count(), 200);
    drop(store);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn in_memory_store_needs_no_sync() {
    let store = Store::in_memory();
    let p = store.partition("p").unwrap();
    let mut b = store.batch();
    b.put(&p, b"k".to_vec(), b"v".to_vec());
    store.durable(b.commit().unwrap()).await.unwrap();
    assert!(p.get(b"k").unwrap().is_some());
}

#[tokio::test]
async fn in_memory_prefix_scans_and_deletes() {
    let store = Store::in_memory();
    let p = store.partition("p").unwrap();
    let mut b = store.batch();
    for k in [&b"a1"[..], b"a2", b"b1"] {
        b.put(&p, k.to_vec(), k.to_vec());
    }
    b.delete(&p, b"a2".to_vec());
    b.commit().unwrap();
    let keys: Vec<_> = p.scan_prefix(b"a").map(|r| r.unwrap().0).collect();
    assert_eq!(keys, vec![b"a1".to_vec()]);
    // Partitions of the same name share their contents.
    assert!(store.partition("p").unwrap().get(b"b1").unwrap().is_some());
}

#[tokio::test]
async fn families_share_a_partition_without_seeing_each_other() {
    let store = Store::in_memory();
    let p = store.partition("p").unwrap();
    let (a, b) = (p.family(b'A'), p.family(b'B'));
    let mut batch = store.batch();
    batch.put(&a, b"k".to_vec(), b"in a".to_vec());
    batch.put(&b, b"k".to_vec(), b"in b".to_vec());
    batch.commit().unwrap();
    assert_eq!(a.get(b"k").unwrap().as_deref(), Some(&b"in a"[..]));
    let in_b: Vec<_> = b.scan_prefix(b"").map(|r| r.unwrap()).collect();
    assert_eq!(in_b, vec![(b"k".to_vec(), b"in b".to_vec())]);
    assert_eq!(p.get(b"Ak").unwrap().as_deref(), Some(&b"in a"[..]));
}

/// Key families, log partitions and partition names behave alike on both
/// engines, seen through the store.
#[tokio::test]
async fn families_and_partition_names_on_both_engines() {
    let dir = std::env::temp_dir().join(format!("eddy-store-both-{}", unique()));
    for store in [Store::open(&dir, Durability::Fsync).unwrap(), Store::in_memory()] {
        let (a, b) = (store.partition("fam").unwrap().family(b'A'), store.log_partition("fam-log-1").unwrap());
        let mut batch = store.batch();
        batch.put(&a, b"k1".to_vec(), b"a1".to_vec());
        batch.put(&a, b"k2".to_vec(), b"a2".to_vec());
        batch.put(&b, b"k1".to_vec(), b"b1".to_vec());
        store.durable(batch.commit().unwrap()).await.unwrap();
        let in_a: Vec<_> = a.scan_prefix(b"k").map(|r| r.unwrap().0).collect();
        assert_eq!(in_a, vec![b"k1".to_vec(), b"k2".to_vec()], "keys come back without the type byte");
        assert_eq!(a.last_in(b"k", b"k9").unwrap().map(|(k, _)| k), Some(b"k2".to_vec()));
        assert_eq!(store.partition_names("fam"), vec!["fam".to_string(), "fam-log-1".to_string()]);
        drop(b);
        store.drop_partition("fam-log-1").unwrap();
        assert_eq!(store.partition_names("fam-"), Vec::<String>::new());
        let empty = store.batch();
        assert!(store.durable(empty.commit().unwrap()).await.is_ok(), "an empty batch resolves at once");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Range scans and `last_in` agree between the disk and memory engines,
/// including scans longer than a memory page.
#[tokio::test]
async fn range_scans_and_last_in() {
    let dir = std::env::temp_dir().join(format!("eddy-store-range-{}", unique()));
    for store in [Store::open(&dir, Durability::Flush).unwrap(), Store::in_memory()] {
        let log = store.partition("log").unwrap().family(b'R');
        let other = store.partition("log").unwrap().family(b'S');
        let mut batch = store.batch();
        for i in 0u32..600 {
            batch.put(&log, i.to_be_bytes(), i.to_le_bytes());
        }
        batch.put(&other, 5u32.to_be_bytes(), b"x".to_vec());
        batch.commit().unwrap();
        let keys: Vec<u32> = log
            .scan_range(&10u32.to_be_bytes(), &590u32.to_be_bytes())
            .map(|kv| u32::from_be_bytes(kv.unwrap().0.try_into().unwrap()))
            .collect();
        assert_eq!(keys, (10..590).collect::<Vec<_>>());
        let (k, _) = log.last_in(&0u32.to_be_bytes(), &1000u32.to_be_bytes()).unwrap().unwrap();
        assert_eq!(k, 599u32.to_be_bytes());
        let (k, v) = log.last_in(&0u32.to_be_bytes(), &42u32.to_be_bytes()).unwrap().unwrap();
        assert_eq!((k, v), (42u32.to_be_bytes().to_vec(), 42u32.to_le_bytes().to_vec()));
        assert!(log.last_in(&700u32.to_be_bytes(), &800u32.to_be_bytes()).unwrap().is_none());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_store_short_of_disk_space_refuses_commits_before_the_engine_sees_them() {
    let dir = std::env::temp_dir().join(format!("eddy-store-full-{}", unique()));
    let mut options = StoreOptions::new(Durability::Fsync);
    options.min_free_bytes = u64::MAX;
    let store = Store::open_with(&dir, options).unwrap();
    let p = store.partition("p").unwrap();
    let mut batch = store.batch();
    batch.put(&p, b"k".to_vec(), b"v".to_vec());
    assert!(matches!(batch.commit(), Err(StoreError::Unavailable(r)) if r.contains("disk nearly full")));
    assert!(!store.health().is_ok());
    assert_eq!(p.get(b"k").unwrap(), None, "nothing was applied");
    drop(store);
    let _ = std::fs::remove_dir_all(dir);
}

/// Submitted batches are applied in submission order, even when their
/// submitters wait for them in another order, on both engines.
#[tokio::test]
async fn submitted_batches_apply_in_submission_order() {
    let dir = std::env::temp_dir().join(format!("eddy-store-submit-{}", unique()));
    for store in [Store::open(&dir, Durability::Fsync).unwrap(), Store::in_memory()] {
        let p = store.partition("p").unwrap();
        let mut pending = Vec::new();
        for i in 0u32..100 {
            let mut batch = store.batch();
            batch.put(&p, b"k".to_vec(), i.to_be_bytes());
            batch.put(&p, i.to_be_bytes(), b"".to_vec());
            pending.push(batch.submit());
        }
        let mut tickets = Vec::new();
        for applied in pending.into_iter().rev() {
            tickets.push(applied.await.unwrap());
        }
        assert!(tickets.windows(2).all(|w| w[0] > w[1]), "tickets follow submission order");
        store.durable(tickets[0]).await.unwrap();
        assert_eq!(p.get(b"k").unwrap(), Some(99u32.to_be_bytes().to_vec()), "the last submitted put wins");
        assert_eq!(p.scan_prefix(b"").count(), 101);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_refused_submit_reports_its_error_and_later_ones_apply() {
    let store = Store::in_memory();
    let p = store.partition("p").unwrap();
    store.refuse_writes(true);
    let mut batch = store.batch();
    batch.put(&p, b"refused".to_vec(), b"v".to_vec());
    assert!(matches!(batch.submit().await, Err(StoreError::Unavailable(_))));
    store.refuse_writes(false);
    let mut batch = store.batch();
    batch.put(&p, b"accepted".to_vec(), b"v".to_vec());
    store.durable(batch.submit().await.unwrap()).await.unwrap();
    assert_eq!(p.get(b"refused").unwrap(), None);
    assert!(p.get(b"accepted").unwrap().is_some());
}

/// A small batch with nothing queued before it is applied by `submit`
/// itself, on the caller's thread: readers see it before the returned
/// future is polled.
#[tokio::test]
async fn a_small_submitted_batch_is_applied_at_once() {
    let dir = std::env::temp_dir().join(format!("eddy-store-quick-{}", unique()));
    let store = Store::open(&dir, Durability::Flush).unwrap();
    let p = store.partition("p").unwrap();
    let mut b = store.batch();
    b.put(&p, b"k".to_vec(), b"v".to_vec());
    let applied = b.submit();
    assert!(p.get(b"k").unwrap().is_some(), "applied without the apply thread");
    store.durable(applied.await.unwrap()).await.unwrap();
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Once a batch waits on the apply thread (here: behind a stall), every
/// later one waits behind it, however small: the submission order holds.
#[tokio::test]
async fn batches_submitted_behind_a_waiting_one_keep_their_order() {
    let dir = std::env::temp_dir().join(format!("eddy-store-order-{}", unique()));
    let store = Store::open(&dir, Durability::Flush).unwrap();
    let p = store.partition("p").unwrap();
    let stall = store.pause_applies();
    let mut first = store.batch();
    first.put(&p, b"k".to_vec(), b"first".to_vec());
    let first = first.submit();
    let mut second = store.batch();
    second.put(&p, b"k".to_vec(), b"second".to_vec());
    let second = second.submit();
    assert!(p.get(b"k").unwrap().is_none(), "nothing is applied during the stall");
    drop(stall);
    let (a, b) = (first.await.unwrap(), second.await.unwrap());
    assert!(a < b);
    assert_eq!(p.get(b"k").unwrap().as_deref(), Some(&b"second"[..]));
    let mut third = store.batch();
    third.put(&p, b"k".to_vec(), b"third".to_vec());
    let third = third.submit();
    assert_eq!(p.get(b"k").unwrap().as_deref(), Some(&b"third"[..]), "quick again once nothing waits");
    assert!(third.await.unwrap() > b);
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A batch that would take a log's memtable past its size (fjall rotates
/// it, with an fsync under the journal lock) never runs on the caller's
/// thread; it is applied all the same.
#[tokio::test]
async fn a_batch_that_fills_a_memtable_goes_to_the_apply_thread() {
    let dir = std::env::temp_dir().join(format!("eddy-store-big-{}", unique()));
    let store = Store::open(&dir, Durability::Flush).unwrap();
    let log = store.log_partition("log").unwrap();
    let mut big = store.batch();
    for i in 0u32..5 {
        big.put(&log, i.to_be_bytes(), vec![7u8; 1 << 20]);
    }
    let applied = big.submit();
    let ticket = applied.await.unwrap();
    store.durable(ticket).await.unwrap();
    assert_eq!(log.scan_prefix(b"").count(), 5);
    let mut small = store.batch();
    small.put(&log, 9u32.to_be_bytes(), b"x".to_vec());
    assert!(small.submit().await.unwrap() > ticket);
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}
