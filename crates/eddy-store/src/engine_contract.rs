//! The engine contract (on [`Engine`]) as checks, run against every engine
//! through the trait: a new engine is tested by calling [`check`] on it.

use crate::engine::{Batch, Engine, PartitionKind};
use crate::fjall_engine::FjallEngine;
use crate::guard::Guard;
use crate::memory::MemoryEngine;
use crate::{unique, KvIter};

type Pair = (Vec<u8>, Vec<u8>);

/// Every check, against one engine.
pub(crate) fn check(engine: &dyn Engine) {
    key_order_is_byte_order(engine);
    a_batch_spans_partitions_and_is_read_once_committed(engine);
    ranges_are_half_open_and_last_in_is_inclusive(engine);
    partitions_are_found_by_name_and_dropped(engine);
    the_journal_takes_committed_batches(engine);
}

#[test]
fn the_memory_engine_meets_the_contract() {
    check(&MemoryEngine::default());
}

#[test]
fn the_fjall_engine_meets_the_contract() {
    let dir = std::env::temp_dir().join(format!("eddy-store-contract-{}", unique()));
    check(&FjallEngine::open(&dir, 64, Guard::new(0)).unwrap());
    let _ = std::fs::remove_dir_all(dir);
}

/// On PostgreSQL at `EDDY_TEST_POSTGRES` (default: CI's, on 127.0.0.1:5432),
/// in a schema of its own, dropped at the end; an unreachable server fails.
#[test]
fn the_postgres_engine_meets_the_contract() {
    let schema = crate::postgres_engine::tests::TestSchema::new();
    check(&schema.engine(Guard::new(0)));
}

fn pairs(iter: KvIter) -> Vec<Pair> {
    iter.map(|kv| kv.unwrap()).collect()
}

fn commit(engine: &dyn Engine, fill: impl FnOnce(&mut dyn Batch)) {
    let mut batch = engine.batch();
    fill(&mut *batch);
    batch.commit().unwrap();
}

fn key_order_is_byte_order(engine: &dyn Engine) {
    let t = engine.open("order", PartitionKind::Records).unwrap();
    let mut keys: Vec<Vec<u8>> =
        vec![vec![0xff], b"b".to_vec(), b"ab\0".to_vec(), b"ab".to_vec(), vec![0], vec![0x80, 1], vec![0x7f]];
    commit(engine, |b| keys.iter().for_each(|k| b.put(&*t, k.clone(), k.clone())));
    keys.sort();
    let scanned: Vec<Vec<u8>> = pairs(t.scan_prefix(Vec::new())).into_iter().map(|(k, _)| k).collect();
    assert_eq!(scanned, keys, "unsigned lexicographic order, a key before its extensions");
    let ab: Vec<Vec<u8>> = pairs(t.scan_prefix(b"ab".to_vec())).into_iter().map(|(k, _)| k).collect();
    assert_eq!(ab, vec![b"ab".to_vec(), b"ab\0".to_vec()]);
}

fn a_batch_spans_partitions_and_is_read_once_committed(engine: &dyn Engine) {
    let (records, log) =
        (engine.open("span", PartitionKind::Records).unwrap(), engine.open("span-log", PartitionKind::Log).unwrap());
    commit(engine, |b| b.put(&*records, b"old".to_vec(), b"1".to_vec()));
    commit(engine, |b| {
        b.put(&*records, b"k".to_vec(), b"first".to_vec());
        b.put(&*records, b"k".to_vec(), b"second".to_vec());
        b.put(&*records, b"gone".to_vec(), b"x".to_vec());
        b.delete(&*records, b"gone".to_vec());
        b.delete(&*records, b"old".to_vec());
        b.put(&*log, 7u64.to_be_bytes().to_vec(), b"entry".to_vec());
    });
    assert_eq!(records.get(b"k").unwrap().as_deref(), Some(&b"second"[..]), "a later op on a key wins");
    assert_eq!(records.get(b"gone").unwrap(), None);
    assert_eq!(records.get(b"old").unwrap(), None);
    assert_eq!(log.get(&7u64.to_be_bytes()).unwrap().as_deref(), Some(&b"entry"[..]));
    // Several keys in one read: in the order asked, absent ones None, a key asked twice answered twice.
    let keys = [b"k".to_vec(), b"gone".to_vec(), b"absent".to_vec(), b"k".to_vec()];
    let second = Some(b"second".to_vec());
    assert_eq!(records.get_many(&keys).unwrap(), vec![second.clone(), None, None, second]);
    assert_eq!(records.get_many(&[]).unwrap(), Vec::<Option<Vec<u8>>>::new());
}

fn ranges_are_half_open_and_last_in_is_inclusive(engine: &dyn Engine) {
    let log = engine.open("range-log", PartitionKind::Log).unwrap();
    // Longer than a memory page, so the memory engine's paging is crossed.
    commit(engine, |b| (0u32..600).for_each(|i| b.put(&*log, i.to_be_bytes().to_vec(), i.to_le_bytes().to_vec())));
    let keys: Vec<u32> = pairs(log.scan_range(10u32.to_be_bytes().to_vec(), 590u32.to_be_bytes().to_vec()))
        .into_iter()
        .map(|(k, _)| u32::from_be_bytes(k.try_into().unwrap()))
        .collect();
    assert_eq!(keys, (10..590).collect::<Vec<_>>());
    let last = |low: u32, high: u32| log.last_in(&low.to_be_bytes(), &high.to_be_bytes()).unwrap();
    assert_eq!(last(0, 42), Some((42u32.to_be_bytes().to_vec(), 42u32.to_le_bytes().to_vec())));
    assert_eq!(last(0, 1000).map(|(k, _)| k), Some(599u32.to_be_bytes().to_vec()));
    assert_eq!(last(700, 800), None);
    assert!(log.flush_memtable().is_ok());
    assert_eq!(pairs(log.scan_range(598u32.to_be_bytes().to_vec(), 1000u32.to_be_bytes().to_vec())).len(), 2);
}

fn partitions_are_found_by_name_and_dropped(engine: &dyn Engine) {
    let first = engine.open("named", PartitionKind::Records).unwrap();
    commit(engine, |b| b.put(&*first, b"k".to_vec(), b"v".to_vec()));
    let again = engine.open("named", PartitionKind::Records).unwrap();
    assert_eq!(again.get(b"k").unwrap().as_deref(), Some(&b"v"[..]), "one name, one partition");
    assert!(engine.names().contains(&"named".to_string()));
    drop((first, again));
    engine.drop_partition("named").unwrap();
    assert!(!engine.names().contains(&"named".to_string()));
    engine.drop_partition("named").unwrap();
    let recreated = engine.open("named", PartitionKind::Records).unwrap();
    assert_eq!(recreated.get(b"k").unwrap(), None, "a dropped partition's contents are gone");
}

fn the_journal_takes_committed_batches(engine: &dyn Engine) {
    let t = engine.open("journaled", PartitionKind::Records).unwrap();
    commit(engine, |b| b.put(&*t, b"k".to_vec(), b"v".to_vec()));
    engine.hand_to_os().unwrap();
    if let Some(mut journal) = engine.journal() {
        journal.hand_to_os().unwrap();
        journal.sync_data().unwrap();
    }
}
