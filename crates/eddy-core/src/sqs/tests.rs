//! Queue core tests on a manual clock: nothing here sleeps.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::*;
use crate::clock::ManualClock;

const T0: u64 = 1_700_000_000_000;

fn caller() -> Caller {
    Caller { account: "000000000000".into(), region: "us-east-1".into(), access_key: "test".into() }
}

fn setup() -> (Arc<Sqs>, ManualClock) {
    let clock = ManualClock::new(T0);
    let sqs = Sqs::open(eddy_store::Store::in_memory(), Arc::new(clock.clone())).unwrap();
    (sqs, clock)
}

fn attrs(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn msg(body: &str) -> SendRequest {
    SendRequest { body: body.into(), ..Default::default() }
}

fn fifo_msg(body: &str, group: &str) -> SendRequest {
    SendRequest { body: body.into(), group_id: Some(group.into()), ..Default::default() }
}

async fn receive(sqs: &Sqs, q: &Arc<Queue>, max: i64) -> Vec<Received> {
    let req = ReceiveRequest { max_messages: Some(max), wait_secs: Some(0), ..Default::default() };
    sqs.receive(q, req).await.unwrap()
}

fn bodies(v: &[Received]) -> Vec<&str> {
    v.iter().map(|m| m.body.as_str()).collect()
}

#[tokio::test]
async fn visibility_timeout_hides_then_returns_message() {
    let (sqs, clock) = setup();
    let q = sqs.create_queue(&caller(), "q", attrs(&[("VisibilityTimeout", "10")]), BTreeMap::new()).await.unwrap();
    let sent = sqs.send(&q, &caller(), msg("hello world")).await.unwrap();
    assert_eq!(sent.md5_body, "5eb63bbbe01eeed093cb22bb8f5acdc3");
    let first = receive(&sqs, &q, 10).await;
    assert_eq!(bodies(&first), ["hello world"]);
    assert!(receive(&sqs, &q, 10).await.is_empty());
    clock.advance_secs(9);
    assert!(receive(&sqs, &q, 10).await.is_empty());
    clock.advance_secs(1);
    let again = receive(&sqs, &q, 10).await;
    assert_eq!(again[0].message_id, sent.message_id);
    assert_ne!(again[0].receipt_handle, first[0].receipt_handle);
    // A standard queue honours the older handle too (recorded from AWS).
    sqs.delete_message(&q, &first[0].receipt_handle).await.unwrap();
    clock.advance_secs(60);
    assert!(receive(&sqs, &q, 10).await.is_empty());
    sqs.delete_message(&q, &again[0].receipt_handle).await.unwrap();
}

#[tokio::test]
async fn older_handles_act_on_standard_queues_only() {
    let (sqs, clock) = setup();
    let std_q = sqs.create_queue(&caller(), "q", attrs(&[("VisibilityTimeout", "10")]), BTreeMap::new()).await.unwrap();
    sqs.send(&std_q, &caller(), msg("a")).await.unwrap();
    let first = receive(&sqs, &std_q, 1).await;
    clock.advance_secs(10);
    assert_eq!(bodies(&receive(&sqs, &std_q, 1).await), ["a"]);
    // In flight under the second receive; the first handle makes it visible.
    sqs.change_visibility(&std_q, &first[0].receipt_handle, 0).await.unwrap();
    assert_eq!(bodies(&receive(&sqs, &std_q, 1).await), ["a"]);

    let fifo_attrs =
        attrs(&[("FifoQueue", "true"), ("ContentBasedDeduplication", "true"), ("VisibilityTimeout", "10")]);
    let fifo = sqs.create_queue(&caller(), "f.fifo", fifo_attrs, BTreeMap::new()).await.unwrap();
    sqs.send(&fifo, &caller(), fifo_msg("b", "g")).await.unwrap();
    let first = receive(&sqs, &fifo, 1).await;
    clock.advance_secs(10);
    assert_eq!(bodies(&receive(&sqs, &fifo, 1).await), ["b"]);
    // A FIFO queue only honours the latest handle.
    assert!(sqs.change_visibility(&fifo, &first[0].receipt_handle, 0).await.is_err());
    sqs.delete_message(&fifo, &first[0].receipt_handle).await.unwrap();
    clock.advance_secs(10);
    assert_eq!(bodies(&receive(&sqs, &fifo, 1).await), ["b"], "the older handle deleted nothing");
}

#[tokio::test]
async fn change_visibility_to_zero_and_when_not_in_flight() {
    let (sqs, _clock) = setup();
    let q = sqs.create_queue(&caller(), "q", BTreeMap::new(), BTreeMap::new()).await.unwrap();
    sqs.send(&q, &caller(), msg("a")).await.unwrap();
    let got = receive(&sqs, &q, 1).await;
    sqs.change_visibility(&q, &got[0].receipt_handle, 0).await.unwrap();
    let again = receive(&sqs, &q, 1).await;
    assert_eq!(bodies(&again), ["a"]);
    sqs.change_visibility(&q, &again[0].receipt_handle, 0).await.unwrap();
    // Not in flight any more: AWS accepts the change and leaves the message visible.
    sqs.change_visibility(&q, &again[0].receipt_handle, 5).await.unwrap();
    assert_eq!(bodies(&receive(&sqs, &q, 1).await), ["a"]);
    let err = sqs.delete_message(&q, "garbage").await.unwrap_err();
    assert!(matches!(err, SqsError::ReceiptHandleIsInvalid(_)));
}

#[tokio::test]
async fn delays_and_retention() {
    let (sqs, clock) = setup();
    let q = sqs
        .create_queue(
            &caller(),
            "q",
            attrs(&[("DelaySeconds", "5"), ("MessageRetentionPeriod", "60")]),
            BTreeMap::new(),
        )
        .await
        .unwrap();
    sqs.send(&q, &caller(), msg("queue-delay")).await.unwrap();
    sqs.send(&q, &caller(), SendRequest { delay_secs: Some(0), ..msg("no-delay") }).await.unwrap();
    assert_eq!(bodies(&receive(&sqs, &q, 10).await), ["no-delay"]);
    let counts = sqs.get_attributes(&q, &["All".into()]).unwrap();
    assert_eq!(counts["ApproximateNumberOfMessagesDelayed"], "1");
    assert_eq!(counts["ApproximateNumberOfMessagesNotVisible"], "1");
    clock.advance_secs(5);
    assert_eq!(bodies(&receive(&sqs, &q, 10).await), ["queue-delay"]);
    clock.advance_secs(60);
    sqs.sweep_once().await.unwrap();
    let counts = sqs.get_attributes(&q, &["All".into()]).unwrap();
    assert_eq!(counts["ApproximateNumberOfMessages"], "0");
    assert_eq!(counts["ApproximateNumberOfMessagesNotVisible"], "0");
}

#[tokio::test]
async fn fifo_order_groups_and_dedup_window() {
    let (sqs, clock) = setup();
    let q = sqs
        .create_queue(
            &caller(),
            "f.fifo",
            attrs(&[("FifoQueue", "true"), ("ContentBasedDeduplication", "true")]),
            BTreeMap::new(),
        )
        .await
        .unwrap();
    let a1 = sqs.send(&q, &caller(), fifo_msg("a1", "A")).await.unwrap();
    sqs.send(&q, &caller(), fifo_msg("a2", "A")).await.unwrap();
    sqs.send(&q, &caller(), fifo_msg("b1", "B")).await.unwrap();
    let dup = sqs.send(&q, &caller(), fifo_msg("a1", "A")).await.unwrap();
    assert_eq!(dup.message_id, a1.message_id);
    let first = receive(&sqs, &q, 1).await;
    assert_eq!(bodies(&first), ["a1"]);
    // Group A is blocked while a1 is in flight; B is not.
    assert_eq!(bodies(&receive(&sqs, &q, 10).await), ["b1"]);
    sqs.delete_message(&q, &first[0].receipt_handle).await.unwrap();
    assert_eq!(bodies(&receive(&sqs, &q, 10).await), ["a2"]);
    // Deleted, yet still deduplicated inside the 5-minute window.
    assert_eq!(sqs.send(&q, &caller(), fifo_msg("a1", "A")).await.unwrap().message_id, a1.message_id);
    clock.advance_secs(301);
    assert_eq!(sqs.sh.dedup.scan_prefix(b"").count(), 3, "a1, a2 and b1 were remembered");
    sqs.sweep_once().await.unwrap();
    assert_eq!(sqs.sh.dedup.scan_prefix(b"").count(), 0, "expired dedup ids leave the store");
    assert_ne!(sqs.send(&q, &caller(), fifo_msg("a1", "A")).await.unwrap().message_id, a1.message_id);
    let err = sqs.send(&q, &caller(), msg("no group")).await.unwrap_err();
    assert_eq!(err, SqsError::MissingParameter("MessageGroupId".into()));
}

#[tokio::test]
async fn dlq_redrive_after_max_receives() {
    let (sqs, _clock) = setup();
    let dlq = sqs.create_queue(&caller(), "dlq", BTreeMap::new(), BTreeMap::new()).await.unwrap();
    let policy = format!(r#"{{"deadLetterTargetArn":"{}","maxReceiveCount":2}}"#, dlq.arn);
    let q = sqs
        .create_queue(
            &caller(),
            "src",
            attrs(&[("RedrivePolicy", &policy), ("VisibilityTimeout", "0")]),
            BTreeMap::new(),
        )
        .await
        .unwrap();
    let sent = sqs.send(&q, &caller(), msg("poison")).await.unwrap();
    assert_eq!(receive(&sqs, &q, 1).await.len(), 1);
    assert_eq!(receive(&sqs, &q, 1).await.len(), 1);
    assert!(receive(&sqs, &q, 1).await.is_empty());
    let req = ReceiveRequest { wait_secs: Some(0), system_attribute_names: vec!["All".into()], ..Default::default() };
    let moved = sqs.receive(&dlq, req).await.unwrap();
    assert_eq!(moved[0].message_id, sent.message_id);
    assert_eq!(moved[0].system_attributes["DeadLetterQueueSourceArn"], q.arn);
    assert_eq!(sqs.dead_letter_sources(&dlq).len(), 1);
    // A denyAll RedriveAllowPolicy refuses new sources.
    sqs.set_attributes(&dlq, attrs(&[("RedriveAllowPolicy", r#"{"redrivePermission":"denyAll"}"#)])).await.unwrap();
    let err = sqs.create_queue(&caller(), "src2", attrs(&[("RedrivePolicy", &policy)]), BTreeMap::new()).await;
    assert!(matches!(err, Err(SqsError::InvalidParameterValue(_))));
}

#[tokio::test]
async fn system_attributes_only_when_asked() {
    let (sqs, _clock) = setup();
    let q = sqs.create_queue(&caller(), "q", BTreeMap::new(), BTreeMap::new()).await.unwrap();
    let mut sys = Attributes::new();
    sys.insert(
        "AWSTraceHeader".into(),
        AttributeValue { data_type: "String".into(), string: Some("Root=1-abc".into()), binary: None },
    );
    let sent = sqs.send(&q, &caller(), SendRequest { system_attributes: sys, ..msg("x") }).await.unwrap();
    assert!(sent.md5_system_attributes.is_some());
    let got = receive(&sqs, &q, 1).await;
    assert!(got[0].system_attributes.is_empty());
    sqs.change_visibility(&q, &got[0].receipt_handle, 0).await.unwrap();
    let req = ReceiveRequest {
        wait_secs: Some(0),
        system_attribute_names: vec!["AWSTraceHeader".into()],
        ..Default::default()
    };
    let got = sqs.receive(&q, req).await.unwrap();
    assert_eq!(got[0].system_attributes.keys().collect::<Vec<_>>(), ["AWSTraceHeader"]);
}

#[tokio::test]
async fn state_survives_reopen() {
    let dir = std::env::temp_dir().join(format!("eddy-core-test-{}", uuid::Uuid::new_v4()));
    let clock = ManualClock::new(T0);
    let handle;
    {
        let store = eddy_store::Store::open(&dir, eddy_store::Durability::Fsync).unwrap();
        let sqs = Sqs::open(store, Arc::new(clock.clone())).unwrap();
        let q = sqs
            .create_queue(&caller(), "keep", attrs(&[("VisibilityTimeout", "100")]), attrs(&[("team", "x")]))
            .await
            .unwrap();
        sqs.send(&q, &caller(), msg("one")).await.unwrap();
        sqs.send(&q, &caller(), msg("two")).await.unwrap();
        let got = receive(&sqs, &q, 1).await;
        handle = got[0].receipt_handle.clone();
        // A receive's own state is fsynced soon, not before it answers.
        sqs.flush().await.unwrap();
    }
    let store = eddy_store::Store::open(&dir, eddy_store::Durability::Fsync).unwrap();
    let sqs = Sqs::open(store, Arc::new(clock.clone())).unwrap();
    let q = sqs
        .lookup(&QueueName { account: "000000000000".into(), region: "us-east-1".into(), name: "keep".into() })
        .unwrap();
    assert_eq!(sqs.tags(&q).unwrap()["team"], "x");
    let a = sqs.get_attributes(&q, &["All".into()]).unwrap();
    assert_eq!(
        (a["ApproximateNumberOfMessages"].as_str(), a["ApproximateNumberOfMessagesNotVisible"].as_str()),
        ("1", "1")
    );
    sqs.delete_message(&q, &handle).await.unwrap();
    assert_eq!(bodies(&receive(&sqs, &q, 10).await).len(), 1);
    clock.advance_secs(200);
    assert_eq!(receive(&sqs, &q, 10).await.len(), 1);
    drop(sqs);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Two queues, each the other's dead-letter queue (AWS accepts the cycle).
async fn mutual_dlqs(sqs: &Arc<Sqs>) -> (Arc<Queue>, Arc<Queue>) {
    let a = sqs.create_queue(&caller(), "a", BTreeMap::new(), BTreeMap::new()).await.unwrap();
    let policy = |arn: &str| format!(r#"{{"deadLetterTargetArn":"{arn}","maxReceiveCount":1}}"#);
    let b = sqs.create_queue(&caller(), "b", attrs(&[("RedrivePolicy", &policy(&a.arn))]), BTreeMap::new()).await;
    let b = b.unwrap();
    sqs.set_attributes(&a, attrs(&[("RedrivePolicy", &policy(&b.arn))])).await.unwrap();
    (a, b)
}

async fn wait_task_done(sqs: &Sqs, source_arn: &str) -> records::MoveTaskRecord {
    let done = async {
        loop {
            let t = sqs.list_move_tasks(source_arn, Some(1)).unwrap().remove(0);
            if t.status != "RUNNING" {
                return t;
            }
            tokio::task::yield_now().await;
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(10), done).await.expect("move task finished")
}

#[tokio::test]
async fn move_task_into_its_own_source_is_refused() {
    let (sqs, _clock) = setup();
    let (a, _b) = mutual_dlqs(&sqs).await;
    let err = sqs.start_move_task(&a.arn, Some(a.arn.clone()), None).await.unwrap_err();
    assert_eq!(err, SqsError::InvalidParameterValue("Source queue and destination queue cannot be the same.".into()));
    assert!(sqs.list_move_tasks(&a.arn, Some(10)).unwrap().is_empty());
}

/// Two mutual dead-letter queues of 200 messages each, a move task running
/// each way.
async fn moving_both_ways(sqs: &Arc<Sqs>) -> (Arc<Queue>, Arc<Queue>) {
    let (a, b) = mutual_dlqs(sqs).await;
    for i in 0..200 {
        sqs.send(&a, &caller(), msg(&format!("a{i}"))).await.unwrap();
        sqs.send(&b, &caller(), msg(&format!("b{i}"))).await.unwrap();
    }
    sqs.start_move_task(&a.arn, Some(b.arn.clone()), None).await.unwrap();
    sqs.start_move_task(&b.arn, Some(a.arn.clone()), None).await.unwrap();
    (a, b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn move_tasks_both_ways_between_mutual_dlqs_finish() {
    let (sqs, _clock) = setup();
    let (a, b) = moving_both_ways(&sqs).await;
    let (ta, tb) = (wait_task_done(&sqs, &a.arn).await, wait_task_done(&sqs, &b.arn).await);
    assert_eq!((ta.status.as_str(), tb.status.as_str()), ("COMPLETED", "COMPLETED"));
    let total = |q: &Queue| q.state.lock().index.len();
    assert_eq!(total(&a) + total(&b), 400, "nothing lost, nothing duplicated");
}

/// The lock order of move_task.rs: receives that redrive messages both ways
/// between mutual dead-letter queues, while move tasks run both ways, never
/// hold two queue locks at once, so all of it finishes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redrives_and_move_tasks_both_ways_at_once_finish() {
    let (sqs, _clock) = setup();
    let (a, b) = moving_both_ways(&sqs).await;
    let receivers: Vec<_> = [a.clone(), b.clone()]
        .into_iter()
        .map(|q| {
            let sqs = sqs.clone();
            tokio::spawn(async move {
                // Visibility 0: each message is received again at once and,
                // past maxReceiveCount 1, moved to the other queue.
                let req = ReceiveRequest {
                    max_messages: Some(10),
                    visibility_secs: Some(0),
                    wait_secs: Some(0),
                    ..Default::default()
                };
                for _ in 0..100 {
                    sqs.receive(&q, req.clone()).await.unwrap();
                }
            })
        })
        .collect();
    for r in receivers {
        tokio::time::timeout(std::time::Duration::from_secs(10), r).await.expect("receives finished").unwrap();
    }
    let (ta, tb) = (wait_task_done(&sqs, &a.arn).await, wait_task_done(&sqs, &b.arn).await);
    assert_eq!((ta.status.as_str(), tb.status.as_str()), ("COMPLETED", "COMPLETED"));
    let total = |q: &Queue| q.state.lock().index.len();
    assert_eq!(total(&a) + total(&b), 400, "nothing lost, nothing duplicated");
}

#[tokio::test]
async fn recovered_task_into_itself_is_failed_not_resumed() {
    let clock = ManualClock::new(T0);
    let store = eddy_store::Store::in_memory();
    let arn;
    {
        let sqs = Sqs::open(store.clone(), Arc::new(clock.clone())).unwrap();
        let (a, _b) = mutual_dlqs(&sqs).await;
        sqs.send(&a, &caller(), msg("stays")).await.unwrap();
        arn = a.arn.clone();
        // What an older eddy accepted and persisted: a task moving a into a.
        let bad = records::MoveTaskRecord {
            handle: "h".into(),
            source_arn: arn.clone(),
            destination_arn: Some(arn.clone()),
            max_per_second: None,
            status: "RUNNING".into(),
            moved: 0,
            to_move: 1,
            started_ms: T0,
            failure_reason: None,
        };
        let mut batch = sqs.sh.store.batch();
        batch.put(&sqs.sh.tasks, b"h".to_vec(), queue::json(&bad));
        sqs.durable(batch.commit().unwrap()).await.unwrap();
    }
    let sqs = Sqs::open(store.clone(), Arc::new(clock.clone())).unwrap();
    let t = sqs.list_move_tasks(&arn, Some(1)).unwrap().remove(0);
    assert_eq!(t.status, "FAILED");
    assert_eq!(t.failure_reason.as_deref(), Some("Source queue and destination queue cannot be the same."));
    let stored: records::MoveTaskRecord = serde_json::from_slice(&sqs.sh.tasks.get(b"h").unwrap().unwrap()).unwrap();
    assert_eq!(stored.status, "FAILED", "the verdict is persisted");
    let a = sqs.lookup_arn(&arn).unwrap();
    assert_eq!(bodies(&receive(&sqs, &a, 10).await), ["stays"]);
}

/// Message records in the store for queue `id`.
/// Background deletion runs on a blocking thread, and the memory engine
/// applies a batch one key at a time, so a step may land between (or
/// inside) the scans: counted again until none did (counts only fall).
fn stored_messages(sqs: &Sqs, id: u64) -> usize {
    let states = || sqs.sh.msg_state.scan_prefix(&id.to_be_bytes()).count();
    let bodies = || sqs.sh.messages.scan_prefix(&id.to_be_bytes()).count();
    for _ in 0..10_000 {
        let (n, b) = (states(), bodies());
        if states() == n && b == n {
            return n;
        }
    }
    let n = states();
    assert_eq!(n, bodies(), "bodies and states go together");
    n
}

async fn send_n(sqs: &Sqs, q: &Queue, n: usize) {
    for chunk in 0..n.div_ceil(10) {
        let entries = (0..10.min(n - chunk * 10)).map(|i| (i.to_string(), msg(&format!("old-{chunk}-{i}")))).collect();
        sqs.send_batch(q, &caller(), entries).await.unwrap();
    }
}

/// Lets background deletion run until `done` holds (at most 5 s).
async fn settle(done: impl Fn() -> bool) {
    for _ in 0..5_000 {
        if done() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    panic!("background work did not finish");
}

#[tokio::test]
async fn purge_answers_at_once_and_keeps_later_messages() {
    let (sqs, _clock) = setup();
    let q = sqs.create_queue(&caller(), "big", BTreeMap::new(), BTreeMap::new()).await.unwrap();
    send_n(&sqs, &q, 2_500).await;
    sqs.purge(&q).await.unwrap();
    assert_eq!(q.state.lock().index.len(), 0, "purged messages are gone at once");
    sqs.send(&q, &caller(), msg("new")).await.unwrap();
    assert_eq!(bodies(&receive(&sqs, &q, 10).await), ["new"]);
    settle(|| stored_messages(&sqs, q.id) == 1).await;
    let err = sqs.purge(&q).await.unwrap_err();
    assert!(matches!(err, SqsError::PurgeQueueInProgress(_)));
}

#[tokio::test]
async fn purge_interrupted_by_a_crash_completes_on_recovery() {
    let clock = ManualClock::new(T0);
    let store = eddy_store::Store::in_memory();
    let id;
    {
        let sqs = Sqs::open(store.clone(), Arc::new(clock.clone())).unwrap();
        let q = sqs.create_queue(&caller(), "big", BTreeMap::new(), BTreeMap::new()).await.unwrap();
        send_n(&sqs, &q, 2_500).await;
        // What a crash right after PurgeQueue answered leaves: the purge mark,
        // and every record still there.
        let mut batch = sqs.sh.store.batch();
        {
            let mut st = q.state.lock();
            st.record.purged_below = sqs.sh.next_seq();
            st.stage_record(&sqs.sh, &mut batch);
        }
        sqs.durable(batch.commit().unwrap()).await.unwrap();
        sqs.send(&q, &caller(), msg("after")).await.unwrap();
        id = q.id;
        assert_eq!(stored_messages(&sqs, id), 2_501);
    }
    let sqs = Sqs::open(store, Arc::new(clock.clone())).unwrap();
    assert_eq!(stored_messages(&sqs, id), 1, "recovery finished the purge");
    let q = sqs.lookup_arn("arn:aws:sqs:us-east-1:000000000000:big").unwrap();
    assert_eq!(bodies(&receive(&sqs, &q, 10).await), ["after"]);
    // New sequence numbers stay above the mark: a new message is never purged.
    sqs.send(&q, &caller(), msg("later")).await.unwrap();
    drop(sqs);
}

#[tokio::test]
async fn deleted_queue_leftovers_and_blocked_name_survive_a_crash() {
    let clock = ManualClock::new(T0);
    let store = eddy_store::Store::in_memory();
    let old_id;
    {
        let sqs = Sqs::open(store.clone(), Arc::new(clock.clone())).unwrap();
        let q = sqs
            .create_queue(
                &caller(),
                "gone.fifo",
                attrs(&[("FifoQueue", "true"), ("ContentBasedDeduplication", "true")]),
                BTreeMap::new(),
            )
            .await
            .unwrap();
        for i in 0..1_500 {
            sqs.send(&q, &caller(), fifo_msg(&format!("m{i}"), "g")).await.unwrap();
        }
        old_id = q.id;
        sqs.delete_queue(&q).await.unwrap();
        assert!(sqs.lookup_arn(&q.arn).is_none(), "gone as soon as DeleteQueue returns");
        // Crash before the background deletion ran: reopen at once.
    }
    clock.advance_secs(10);
    let sqs = Sqs::open(store, Arc::new(clock.clone())).unwrap();
    assert_eq!(stored_messages(&sqs, old_id), 0);
    assert_eq!(sqs.sh.dedup.scan_prefix(&old_id.to_be_bytes()).count(), 0);
    assert_eq!(sqs.sh.queues.scan_prefix(b"").count(), 0, "the tombstone went last");
    let fifo = attrs(&[("FifoQueue", "true")]);
    let err = sqs.create_queue(&caller(), "gone.fifo", fifo.clone(), BTreeMap::new()).await.err();
    assert_eq!(err, Some(SqsError::QueueDeletedRecently), "the name stays blocked across the restart");
    clock.advance_secs(51);
    let q = sqs.create_queue(&caller(), "gone.fifo", fifo, BTreeMap::new()).await.unwrap();
    assert_ne!(q.id, old_id);
    assert!(receive(&sqs, &q, 10).await.is_empty());
}

#[tokio::test]
async fn delete_queue_deletes_records_in_the_background() {
    let (sqs, _clock) = setup();
    let q = sqs.create_queue(&caller(), "big", BTreeMap::new(), BTreeMap::new()).await.unwrap();
    send_n(&sqs, &q, 2_500).await;
    sqs.delete_queue(&q).await.unwrap();
    assert_eq!(sqs.delete_queue(&q).await.unwrap_err(), SqsError::QueueDoesNotExist);
    settle(|| stored_messages(&sqs, q.id) == 0 && sqs.sh.queues.scan_prefix(b"").count() == 0).await;
}

#[tokio::test]
async fn deleted_names_and_old_move_tasks_are_forgotten() {
    let (sqs, clock) = setup();
    for name in ["x", "y", "z"] {
        let q = sqs.create_queue(&caller(), name, BTreeMap::new(), BTreeMap::new()).await.unwrap();
        sqs.delete_queue(&q).await.unwrap();
    }
    assert_eq!(sqs.recently_deleted.lock().len(), 3);
    clock.advance_secs(61);
    sqs.sweep_once().await.unwrap();
    assert!(sqs.recently_deleted.lock().is_empty());

    let (a, b) = mutual_dlqs(&sqs).await;
    for _ in 0..12 {
        sqs.start_move_task(&a.arn, Some(b.arn.clone()), None).await.unwrap();
        wait_task_done(&sqs, &a.arn).await;
        clock.advance_secs(1);
    }
    sqs.sweep_once().await.unwrap();
    assert_eq!(sqs.list_move_tasks(&a.arn, Some(10)).unwrap().len(), 10);
    assert_eq!(sqs.tasks.lock().len(), 10);
    assert_eq!(sqs.sh.tasks.scan_prefix(b"").count(), 10);
    // A deleted source's tasks can never be listed again.
    sqs.delete_queue(&a).await.unwrap();
    sqs.sweep_once().await.unwrap();
    assert!(sqs.tasks.lock().is_empty());
    assert_eq!(sqs.sh.tasks.scan_prefix(b"").count(), 0);
}

/// Yields until `ready` holds: for spawned requests on this test's runtime.
async fn until(ready: impl Fn() -> bool) {
    for _ in 0..1_000 {
        if ready() {
            return;
        }
        tokio::task::yield_now().await;
    }
    panic!("the spawned request did not get there");
}

/// A stalled commit (here: the store's apply thread held still) does not
/// hold the queue's lock: other requests go on, and the writes waiting for
/// it finish, in order, once it moves.
#[tokio::test]
async fn a_stalled_commit_does_not_hold_the_queue_lock() {
    let (sqs, _clock) = setup();
    let q = sqs.create_queue(&caller(), "q", BTreeMap::new(), BTreeMap::new()).await.unwrap();
    let stall = sqs.sh.store.pause_applies();
    let send = tokio::spawn({
        let (sqs, q) = (sqs.clone(), q.clone());
        async move { sqs.send(&q, &caller(), msg("during the stall")).await }
    });
    until(|| q.state.lock().index.len() == 1).await;
    // The receive picks the message at once (the lock is free) and reads its
    // record only once the send's batch, submitted before its own, is applied.
    let received = tokio::spawn({
        let (sqs, q) = (sqs.clone(), q.clone());
        async move { receive(&sqs, &q, 1).await }
    });
    until(|| q.state.lock().index.counts(sqs.now_ms()).in_flight == 1).await;
    let counts = sqs.get_attributes(&q, &["All".into()]).unwrap();
    assert_eq!(counts["ApproximateNumberOfMessagesNotVisible"], "1");
    assert_eq!(sqs.list_queues(&caller(), "").len(), 1);
    assert!(!send.is_finished(), "the send is not acknowledged before its commit");
    drop(stall);
    send.await.unwrap().unwrap();
    assert_eq!(bodies(&received.await.unwrap()), ["during the stall"]);
}

/// Retention drops expired messages in bounded batches: many expiring at
/// once all go, from the index and the store, and no receive ever hands
/// out an expired one, even past what one receive may drop.
#[tokio::test]
async fn mass_expiry_goes_in_batches_and_is_never_delivered() {
    let (sqs, clock) = setup();
    let q =
        sqs.create_queue(&caller(), "q", attrs(&[("MessageRetentionPeriod", "60")]), BTreeMap::new()).await.unwrap();
    let expiring = 2 * reaper::STEP + 500;
    send_n(&sqs, &q, expiring).await;
    clock.advance_secs(30);
    sqs.send(&q, &caller(), msg("live")).await.unwrap();
    clock.advance_secs(31);
    let first = receive(&sqs, &q, 10).await;
    assert!(first.iter().all(|m| m.body == "live"), "only the live message may come back: {:?}", bodies(&first));
    sqs.sweep_once().await.unwrap();
    assert_eq!(q.state.lock().index.len(), 1 - first.len());
    assert_eq!(stored_messages(&sqs, q.id), 1 - first.len());
    if first.is_empty() {
        assert_eq!(bodies(&receive(&sqs, &q, 10).await), ["live"]);
    }
}

/// A CreateQueue or DeleteQueue whose save fails changes nothing: no queue
/// appears before its record is durable, and a queue whose deletion could
/// not be saved is still there, messages and all.
#[tokio::test]
async fn a_failed_save_neither_creates_nor_deletes_a_queue() {
    let clock = ManualClock::new(T0);
    let store = eddy_store::Store::in_memory();
    let sqs = Sqs::open(store.clone(), Arc::new(clock.clone())).unwrap();
    let kept = sqs.create_queue(&caller(), "kept", BTreeMap::new(), BTreeMap::new()).await.unwrap();
    sqs.send(&kept, &caller(), msg("still here")).await.unwrap();
    store.refuse_writes(true);

    assert!(sqs.create_queue(&caller(), "new", BTreeMap::new(), BTreeMap::new()).await.is_err());
    let new = QueueName { account: "000000000000".into(), region: "us-east-1".into(), name: "new".into() };
    assert!(matches!(sqs.lookup(&new), Err(SqsError::QueueDoesNotExist)), "not visible after a failed save");
    assert!(sqs.delete_queue(&kept).await.is_err());
    assert!(sqs.lookup(&kept.queue_name()).is_ok());

    store.refuse_writes(false);
    assert_eq!(bodies(&receive(&sqs, &kept, 10).await), ["still here"], "live again, messages kept");
    sqs.create_queue(&caller(), "new", BTreeMap::new(), BTreeMap::new()).await.unwrap();
    assert!(sqs.lookup(&new).is_ok());
}

/// Two CreateQueue calls for one name at once make one queue.
#[tokio::test]
async fn concurrent_creates_of_one_name_make_one_queue() {
    let (sqs, _clock) = setup();
    let who = caller();
    let (a, b) = tokio::join!(
        sqs.create_queue(&who, "twice", BTreeMap::new(), BTreeMap::new()),
        sqs.create_queue(&who, "twice", BTreeMap::new(), BTreeMap::new()),
    );
    assert!(Arc::ptr_eq(&a.unwrap(), &b.unwrap()));
    assert_eq!(sqs.list_queues(&caller(), "").len(), 1);
}

/// Record changes (attributes, tags, permissions) are saved from a copy:
/// a failed save leaves the queue as it was, and concurrent changes each
/// start from the last one's result, so none is lost.
#[tokio::test]
async fn record_changes_are_all_or_nothing_and_none_is_lost() {
    let clock = ManualClock::new(T0);
    let store = eddy_store::Store::in_memory();
    let sqs = Sqs::open(store.clone(), Arc::new(clock.clone())).unwrap();
    let q = sqs.create_queue(&caller(), "q", attrs(&[("VisibilityTimeout", "10")]), BTreeMap::new()).await.unwrap();
    store.refuse_writes(true);
    assert!(sqs.set_attributes(&q, attrs(&[("VisibilityTimeout", "99")])).await.is_err());
    assert!(sqs.tag(&q, attrs(&[("team", "a")])).await.is_err());
    let kept = sqs.get_attributes(&q, &["VisibilityTimeout".to_string()]).unwrap();
    assert_eq!(kept.get("VisibilityTimeout").map(String::as_str), Some("10"));
    assert!(sqs.tags(&q).unwrap().is_empty());
    store.refuse_writes(false);

    let (account, send) = (["111122223333".to_string()], ["SendMessage".to_string()]);
    let (a, b, c) = tokio::join!(
        sqs.tag(&q, attrs(&[("a", "1")])),
        sqs.tag(&q, attrs(&[("b", "2")])),
        sqs.add_permission(&q, "one", &account, &send),
    );
    a.unwrap();
    b.unwrap();
    c.unwrap();
    sqs.add_permission(&q, "two", &["111122223333".to_string()], &["ReceiveMessage".to_string()]).await.unwrap();
    assert_eq!(sqs.tags(&q).unwrap(), attrs(&[("a", "1"), ("b", "2")]));
    let policy = sqs.get_attributes(&q, &["Policy".to_string()]).unwrap()["Policy"].clone();
    assert!(policy.contains("\"one\"") && policy.contains("\"two\""), "{policy}");
}
