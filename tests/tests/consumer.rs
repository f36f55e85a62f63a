//! Consumers against a real Apache RocketMQ cluster (started by tests/harness/rmq.sh):
//! clustering with instances joining and leaving, a group shared with the Java client, an
//! instance killed with SIGKILL, broadcasting with its local offset file, retries and the
//! dead-letter queue, ordered and batch consumption, tag filtering, resuming from committed
//! offsets.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use rocketmq_ons::admin::Admin;
use rocketmq_ons::config::keys;
use rocketmq_ons::consumer::{ActionReply, DeferredMessageListener, DeliveredMessage};
use rocketmq_ons::protocol::java_hash::ons_order_queue_index;
use rocketmq_ons::protocol::route::MessageQueue;
use rocketmq_ons::{
    Action, BatchConsumer, BatchMessageListener, ConsumeContext, ConsumeOrderContext, Consumer, ErrorKind, Message,
    MessageListener, MessageOrderListener, MessageSelector, OrderAction, OrderConsumer, OrderProducer, Producer,
    Properties, SendResult,
};

fn rt() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap())
}

fn base_props(group: &str) -> Properties {
    Properties::new().with(keys::NAMESRV_ADDR, ons_tests::namesrv()).with(keys::GROUP_ID, group)
}

/// Consumer properties for one instance of `group` (instances in one process need distinct
/// instance names).
/// From the first offset: every test's topic is new, and a new group starting from the last
/// offset may skip a queue's first message if it lands between the broker's "no offset yet"
/// answer and the max offset the client then asks for (5.x answers 0 only once offset 0 is in
/// its consume queue).
fn consumer_props(group: &str, instance: &str) -> Properties {
    base_props(group)
        .with(keys::INSTANCE_NAME, ons_tests::unique_name(instance))
        .with(keys::CONSUME_FROM_WHERE, "CONSUME_FROM_FIRST_OFFSET")
}

/// A topic with `queues` queues, created up front and visible in the route.
fn new_topic(prefix: &str, queues: u32) -> String {
    let topic = ons_tests::unique_name(prefix);
    rt().block_on(async {
        let admin = Admin::new(&base_props("GID_consumer_admin")).unwrap();
        admin.create_topic(&topic, queues, false).await.unwrap();
        wait_for("the topic's route", Duration::from_secs(40), || {
            let admin = &admin;
            let topic = &topic;
            async move { admin.max_offsets(topic).await.is_ok() }
        })
        .await;
    });
    topic
}

/// How many queues `topic` has in all (a topic is created on every broker of the cluster).
fn queue_total(topic: &str) -> usize {
    rt().block_on(async {
        let admin = Admin::new(&base_props("GID_consumer_admin")).unwrap();
        admin.max_offsets(topic).await.unwrap().len()
    })
}

async fn wait_for<F, Fut>(what: &str, timeout: Duration, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    while !cond().await {
        assert!(Instant::now() < deadline, "timed out after {timeout:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// One delivery as a listener saw it.
#[derive(Debug, Clone)]
struct Got {
    who: String,
    msg_id: String,
    key: String,
    topic: String,
    tag: Option<String>,
    queue: (String, i32),
    reconsume_times: i32,
    body: Vec<u8>,
    user_properties: BTreeMap<String, String>,
}

#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<Got>>>);

impl Log {
    fn record(&self, who: &str, m: &Message) {
        let info = m.received.as_ref().expect("a received message has ReceivedInfo");
        self.0.lock().unwrap().push(Got {
            who: who.to_owned(),
            msg_id: m.msg_id.clone().unwrap_or_default(),
            key: m.key.clone().unwrap_or_default(),
            topic: m.topic.clone(),
            tag: m.tag.clone(),
            queue: (info.broker_name.clone(), info.queue_id),
            reconsume_times: m.reconsume_times,
            body: m.body.to_vec(),
            user_properties: m.user_properties().clone(),
        });
    }

    fn all(&self) -> Vec<Got> {
        self.0.lock().unwrap().clone()
    }

    fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }

    fn ids(&self) -> BTreeSet<String> {
        self.all().into_iter().map(|g| g.msg_id).collect()
    }

    /// A listener that records every delivery and commits it.
    fn listener(&self, who: &str) -> Arc<dyn MessageListener> {
        let log = self.clone();
        let who = who.to_owned();
        Arc::new(move |m: &Message, _: &ConsumeContext| {
            log.record(&who, m);
            Action::CommitMessage
        })
    }
}

/// Message ids delivered more than once.
fn duplicates(got: &[Got]) -> Vec<String> {
    let mut seen = HashMap::new();
    for g in got {
        *seen.entry(g.msg_id.clone()).or_insert(0) += 1;
    }
    seen.into_iter().filter(|(_, n)| *n > 1).map(|(id, _)| id).collect()
}

async fn send_n(producer: &Producer, topic: &str, tag: Option<&str>, prefix: &str, n: usize) -> Vec<SendResult> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let msg = Message::new(topic, tag, format!("{prefix}-{i}")).with_key(format!("{prefix}-{i}"));
        out.push(producer.send(&msg).await.unwrap());
    }
    out
}

fn start_producer(group: &str) -> Producer {
    let p = Producer::new(&base_props(group)).unwrap();
    p.start().unwrap();
    p
}

fn queue_set(a: &[MessageQueue]) -> BTreeSet<(String, i32)> {
    a.iter().map(|q| (q.broker_name.clone(), q.queue_id)).collect()
}

/// Waits until the consumers' assignments are disjoint, each non-empty, and cover `total` queues.
async fn wait_for_split(consumers: &[&Consumer], total: usize) {
    wait_for("a stable split of the queues", Duration::from_secs(60), || async {
        let sets: Vec<BTreeSet<(String, i32)>> = consumers.iter().map(|c| queue_set(&c.assignment())).collect();
        let sum: usize = sets.iter().map(BTreeSet::len).sum();
        let union: BTreeSet<_> = sets.iter().flatten().cloned().collect();
        sets.iter().all(|s| !s.is_empty()) && sum == total && union.len() == total
    })
    .await;
}

fn ids_of(sent: &[SendResult]) -> BTreeSet<String> {
    sent.iter().map(|s| s.message_id.clone()).collect()
}

#[test]
fn clustering_splits_queues_and_rebalances_without_loss() {
    let topic = new_topic("split", 4);
    let n = queue_total(&topic);
    let group = ons_tests::unique_name("GID_split");
    rt().block_on(async {
        let log = Log::default();
        let c1 = Consumer::new(&consumer_props(&group, "i1")).unwrap();
        let c2 = Consumer::new(&consumer_props(&group, "i2")).unwrap();
        for (c, who) in [(&c1, "c1"), (&c2, "c2")] {
            c.subscribe(&topic, "*", log.listener(who)).unwrap();
            c.start().unwrap();
            assert!(c.is_started());
        }
        wait_for_split(&[&c1, &c2], n).await;
        let owned: HashMap<&str, BTreeSet<(String, i32)>> =
            [("c1", queue_set(&c1.assignment())), ("c2", queue_set(&c2.assignment()))].into();
        assert_eq!(owned["c1"].len(), n / 2);

        let producer = start_producer("GID_split_producer");
        let phase1 = send_n(&producer, &topic, Some("t"), "p1", 200).await;
        let want1 = ids_of(&phase1);
        wait_for("phase 1 delivered", Duration::from_secs(60), || async { want1.is_subset(&log.ids()) }).await;
        let got1 = log.all();
        assert!(duplicates(&got1).is_empty(), "delivered twice while membership was stable: {:?}", duplicates(&got1));
        for g in &got1 {
            assert!(
                owned[g.who.as_str()].contains(&g.queue),
                "{} got a message of {:?}, not its queue",
                g.who,
                g.queue
            );
        }
        assert!(got1.iter().any(|g| g.who == "c1") && got1.iter().any(|g| g.who == "c2"));

        // A third instance joins.
        let c3 = Consumer::new(&consumer_props(&group, "i3")).unwrap();
        c3.subscribe(&topic, "*", log.listener("c3")).unwrap();
        c3.start().unwrap();
        wait_for_split(&[&c1, &c2, &c3], n).await;
        let phase2 = send_n(&producer, &topic, Some("t"), "p2", 200).await;
        let want2 = ids_of(&phase2);
        wait_for("phase 2 delivered", Duration::from_secs(60), || async { want2.is_subset(&log.ids()) }).await;
        assert!(log.all().iter().any(|g| g.who == "c3" && g.key.starts_with("p2")));

        // One leaves; the others take its queues from its committed offsets.
        c1.shutdown().await;
        assert!(c1.is_closed() && !c1.is_started());
        wait_for_split(&[&c2, &c3], n).await;
        let phase3 = send_n(&producer, &topic, Some("t"), "p3", 200).await;
        let want3 = ids_of(&phase3);
        wait_for("phase 3 delivered", Duration::from_secs(60), || async { want3.is_subset(&log.ids()) }).await;
        assert!(!log.all().iter().any(|g| g.who == "c1" && g.key.starts_with("p3")));

        for g in log.all() {
            assert_eq!(g.topic, topic);
            assert_eq!(g.body, g.key.as_bytes());
        }
        producer.shutdown().await;
        c2.shutdown().await;
        c3.shutdown().await;
    });
}

#[test]
fn restart_resumes_from_the_committed_offset() {
    let topic = new_topic("resume", 4);
    let group = ons_tests::unique_name("GID_resume");
    rt().block_on(async {
        let producer = start_producer("GID_resume_producer");
        let first = send_n(&producer, &topic, None, "a", 40).await;
        let log = Log::default();
        let c = Consumer::new(&consumer_props(&group, "r")).unwrap();
        // Each call is logged 300 ms before it returns, so the shutdown below starts while the
        // last listeners still run: what they commit within the shutdown's grace period must
        // be in the final commit, not delivered again.
        let slow = {
            let log = log.clone();
            Arc::new(move |m: &Message, _: &ConsumeContext| {
                log.record("first", m);
                std::thread::sleep(Duration::from_millis(300));
                Action::CommitMessage
            })
        };
        c.subscribe(&topic, "", slow).unwrap();
        c.start().unwrap();
        let want = ids_of(&first);
        wait_for("the backlog", Duration::from_secs(60), || async { want.is_subset(&log.ids()) }).await;
        c.shutdown().await;

        let second = send_n(&producer, &topic, None, "b", 40).await;
        let log2 = Log::default();
        let c = Consumer::new(&consumer_props(&group, "r")).unwrap();
        c.subscribe(&topic, "*", log2.listener("second")).unwrap();
        c.start().unwrap();
        let want = ids_of(&second);
        wait_for("the new messages", Duration::from_secs(60), || async { want.is_subset(&log2.ids()) }).await;
        // Give stray redeliveries a moment to show up before judging.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let again: Vec<Got> = log2.all().into_iter().filter(|g| g.key.starts_with("a-")).collect();
        assert!(again.is_empty(), "{} committed messages were delivered again after the restart", again.len());
        assert!(duplicates(&log2.all()).is_empty());
        c.shutdown().await;
        producer.shutdown().await;
    });
}

#[test]
fn tag_filtering_is_exact() {
    let topic = new_topic("tags", 4);
    rt().block_on(async {
        let producer = start_producer("GID_tags_producer");
        let mut expected_ab = BTreeSet::new();
        let mut all = BTreeSet::new();
        // "FB" and "Ea" have the same Java hash code: only the client-side check tells them apart.
        for (i, tag) in
            [Some("TagA"), Some("TagB"), Some("TagC"), None, Some("FB"), Some("Ea")].iter().cycle().take(60).enumerate()
        {
            let r = producer.send(&Message::new(&topic, *tag, format!("m{i}"))).await.unwrap();
            if matches!(tag, Some("TagA") | Some("TagB") | Some("FB")) {
                expected_ab.insert(r.message_id.clone());
            }
            all.insert(r.message_id);
        }
        let selective = Log::default();
        let everything = Log::default();
        let c1 = Consumer::new(&consumer_props(&ons_tests::unique_name("GID_tags_ab"), "t1")).unwrap();
        c1.subscribe(&topic, "TagA || TagB||FB ", selective.listener("ab")).unwrap();
        c1.start().unwrap();
        let c2 = Consumer::new(&consumer_props(&ons_tests::unique_name("GID_tags_all"), "t2")).unwrap();
        c2.subscribe(&topic, "*", everything.listener("all")).unwrap();
        c2.start().unwrap();
        wait_for("every message", Duration::from_secs(60), || async { everything.ids() == all }).await;
        wait_for("the selected tags", Duration::from_secs(30), || async { selective.ids() == expected_ab }).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(selective.ids(), expected_ab);
        for g in selective.all() {
            assert!(matches!(g.tag.as_deref(), Some("TagA") | Some("TagB") | Some("FB")), "{:?}", g.tag);
        }
        c1.shutdown().await;
        c2.shutdown().await;
        producer.shutdown().await;
    });
}

#[test]
fn batch_size_out_of_range_is_a_clear_error() {
    for bad in ["0", "33"] {
        let props = base_props("GID_batch_bad").with(keys::CONSUME_MESSAGE_BATCH_MAX_SIZE, bad);
        let err = BatchConsumer::new(&props).err().expect("out of range must be refused");
        assert_eq!(err.kind(), ErrorKind::InvalidConfig);
        assert!(err.message().contains("ConsumeMessageBatchMaxSize"), "{err}");
        assert!(err.message().contains("[1, 32]"), "{err}");
    }
}

#[test]
fn broadcasting_gives_every_instance_everything_and_resumes_from_the_local_file() {
    let topic = new_topic("bcast", 4);
    let n = queue_total(&topic);
    let group = ons_tests::unique_name("GID_bcast");
    let dir = std::env::temp_dir().join(ons_tests::unique_name("ons_bcast_offsets"));
    let props = |instance: &str| {
        base_props(&group)
            .with(keys::MESSAGE_MODEL, "BROADCASTING")
            .with(keys::INSTANCE_NAME, instance)
            .with(keys::OFFSET_STORE_DIR, dir.to_string_lossy())
    };
    let (name1, name2) = (ons_tests::unique_name("b1"), ons_tests::unique_name("b2"));
    rt().block_on(async {
        let (log1, log2) = (Log::default(), Log::default());
        let b1 = Consumer::new(&props(&name1)).unwrap();
        b1.subscribe(&topic, "*", log1.listener("b1")).unwrap();
        b1.start().unwrap();
        let b2 = Consumer::new(&props(&name2)).unwrap();
        b2.subscribe(&topic, "*", log2.listener("b2")).unwrap();
        b2.start().unwrap();
        wait_for("all queues on both instances", Duration::from_secs(60), || async {
            b1.assignment().len() == n && b2.assignment().len() == n
        })
        .await;

        let producer = start_producer("GID_bcast_producer");
        let first = ids_of(&send_n(&producer, &topic, None, "first", 40).await);
        wait_for("every message on both", Duration::from_secs(60), || async {
            first.is_subset(&log1.ids()) && first.is_subset(&log2.ids())
        })
        .await;
        b1.shutdown().await;
        let files: Vec<_> = walk(&dir).into_iter().filter(|p| p.ends_with("offsets.json")).collect();
        assert!(files.iter().any(|p| p.to_string_lossy().contains(&name1)), "no offset file for b1 in {files:?}");

        let second = ids_of(&send_n(&producer, &topic, None, "second", 20).await);
        wait_for("b2 gets the second round", Duration::from_secs(60), || async { second.is_subset(&log2.ids()) }).await;
        let log1b = Log::default();
        let b1 = Consumer::new(&props(&name1)).unwrap();
        b1.subscribe(&topic, "*", log1b.listener("b1-restarted")).unwrap();
        b1.start().unwrap();
        wait_for("the restarted instance catches up", Duration::from_secs(60), || async {
            second.is_subset(&log1b.ids())
        })
        .await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(log1b.ids(), second, "the restarted instance must resume exactly where it stopped");
        for log in [&log1, &log2, &log1b] {
            assert!(duplicates(&log.all()).is_empty());
        }
        b1.shutdown().await;
        b2.shutdown().await;
        producer.shutdown().await;
    });
    let _ = std::fs::remove_dir_all(&dir);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn failures_are_retried_with_growing_counts_then_dead_lettered() {
    let topic = new_topic("retry", 2);
    let group = ons_tests::unique_name("GID_retry");
    rt().block_on(async {
        let log = Log::default();
        let consumer = Consumer::new(&consumer_props(&group, "r").with(keys::MAX_RECONSUME_TIMES, "2")).unwrap();
        let l = log.clone();
        let listener: Arc<dyn MessageListener> = Arc::new(move |m: &Message, _: &ConsumeContext| {
            l.record("r", m);
            match (m.key.as_deref(), m.reconsume_times) {
                (Some("always-fails"), _) => Action::ReconsumeLater,
                (Some("fails-once"), 0) => Action::ReconsumeLater,
                (Some("panics-once"), 0) => panic!("listener panic (expected by the test)"),
                _ => Action::CommitMessage,
            }
        });
        consumer.subscribe(&topic, "*", listener).unwrap();
        consumer.start().unwrap();

        let producer = start_producer("GID_retry_producer");
        let mut ids = HashMap::new();
        for key in ["always-fails", "fails-once", "panics-once", "fine"] {
            let mut msg = Message::new(&topic, Some("r"), format!("body of {key}")).with_key(key);
            msg.put_user_property("origin", "test").unwrap();
            ids.insert(key, producer.send(&msg).await.unwrap().message_id);
        }
        let deliveries = |key: &str| -> Vec<Got> { log.all().into_iter().filter(|g| g.key == key).collect() };
        // Retries come after 10 s, then 30 s.
        wait_for("the retries", Duration::from_secs(90), || async {
            deliveries("always-fails").len() >= 3
                && deliveries("fails-once").len() >= 2
                && deliveries("panics-once").len() >= 2
        })
        .await;
        for key in ["always-fails", "fails-once", "panics-once"] {
            for g in deliveries(key) {
                assert_eq!(g.msg_id, ids[key], "{key}: a retried message keeps its id");
                assert_eq!(g.topic, topic, "{key}: the original topic is restored");
                assert_eq!(g.body, format!("body of {key}").into_bytes());
                assert_eq!(g.user_properties.get("origin").map(String::as_str), Some("test"));
            }
        }
        let counts: Vec<i32> = deliveries("always-fails").iter().map(|g| g.reconsume_times).collect();
        assert_eq!(counts, vec![0, 1, 2]);
        assert_eq!(deliveries("fails-once").iter().map(|g| g.reconsume_times).collect::<Vec<_>>(), vec![0, 1]);
        assert_eq!(deliveries("panics-once").iter().map(|g| g.reconsume_times).collect::<Vec<_>>(), vec![0, 1]);
        assert_eq!(deliveries("fine").len(), 1);

        // After MaxReconsumeTimes (2) the message is in the group's dead-letter queue.
        let admin = Admin::new(&base_props("GID_consumer_admin")).unwrap();
        let dlq = format!("%DLQ%{group}");
        let deadline = Instant::now() + Duration::from_secs(60);
        let found = loop {
            let found = admin.query_by_msg_id(&dlq, &ids["always-fails"]).await.unwrap_or_default();
            if !found.is_empty() {
                break found;
            }
            assert!(Instant::now() < deadline, "the message never showed up in {dlq}");
            tokio::time::sleep(Duration::from_millis(500)).await;
        };
        assert_eq!(found[0].body, "body of always-fails".as_bytes());
        assert_eq!(found[0].user_property("origin"), Some("test"));
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(deliveries("always-fails").len(), 3, "no delivery after the dead-letter move");
        consumer.shutdown().await;
        producer.shutdown().await;
    });
}

/// One ordered delivery: who, which queue, and when the listener ran.
#[derive(Debug, Clone)]
struct OrderedGot {
    who: String,
    key: String,
    seq: u32,
    queue: (String, i32),
    start: Instant,
    end: Instant,
    action: OrderAction,
}

#[test]
fn order_is_kept_per_sharding_key_across_instances_rebalance_and_suspend() {
    let topic = new_topic("ordered", 4);
    let n = queue_total(&topic);
    let group = ons_tests::unique_name("GID_ordered");
    let keys_n = 12u32;
    rt().block_on(async {
        let log: Arc<Mutex<Vec<OrderedGot>>> = Arc::default();
        let suspended: Arc<Mutex<BTreeSet<(String, u32)>>> = Arc::default();
        let listener = |who: &str| -> Arc<dyn MessageOrderListener> {
            let (log, suspended, who) = (log.clone(), suspended.clone(), who.to_owned());
            Arc::new(move |m: &Message, _: &ConsumeOrderContext| {
                let start = Instant::now();
                let body = String::from_utf8(m.body.to_vec()).unwrap();
                let (key, seq) = body.split_once(':').unwrap();
                let seq: u32 = seq.parse().unwrap();
                std::thread::sleep(Duration::from_millis(10));
                // Every key's 5th message fails once.
                let action = if seq == 5 && suspended.lock().unwrap().insert((key.to_owned(), seq)) {
                    OrderAction::Suspend
                } else {
                    OrderAction::Success
                };
                let info = m.received.as_ref().unwrap();
                log.lock().unwrap().push(OrderedGot {
                    who: who.clone(),
                    key: key.to_owned(),
                    seq,
                    queue: (info.broker_name.clone(), info.queue_id),
                    start,
                    end: Instant::now(),
                    action,
                });
                action
            })
        };
        let props = |i: &str| consumer_props(&group, i).with(keys::SUSPEND_TIME_MILLIS, "300");
        let o1 = OrderConsumer::new(&props("o1")).unwrap();
        o1.subscribe(&topic, "*", listener("o1")).unwrap();
        o1.start().unwrap();
        wait_for("o1 holds every queue", Duration::from_secs(60), || async { o1.assignment().len() == n }).await;

        let producer = OrderProducer::new(&base_props("GID_ordered_producer")).unwrap();
        producer.start().unwrap();
        for seq in 0..15u32 {
            for k in 0..keys_n {
                let key = format!("key{k}");
                producer.send(&Message::new(&topic, Some("o"), format!("{key}:{seq}")), &key).await.unwrap();
            }
        }
        // A second instance joins while the backlog is being consumed.
        let o2 = OrderConsumer::new(&props("o2")).unwrap();
        o2.subscribe(&topic, "*", listener("o2")).unwrap();
        o2.start().unwrap();
        for seq in 15..30u32 {
            for k in 0..keys_n {
                let key = format!("key{k}");
                producer.send(&Message::new(&topic, Some("o"), format!("{key}:{seq}")), &key).await.unwrap();
            }
        }
        let done = || {
            let got: BTreeSet<(String, u32)> = log
                .lock()
                .unwrap()
                .iter()
                .filter(|g| g.action == OrderAction::Success)
                .map(|g| (g.key.clone(), g.seq))
                .collect();
            got.len() == (keys_n * 30) as usize
        };
        wait_for("every ordered message", Duration::from_secs(120), || async { done() }).await;
        let got = log.lock().unwrap().clone();

        // Per key: delivered in order; a redelivery may repeat earlier ones but never skip ahead.
        let mut by_key: BTreeMap<String, Vec<&OrderedGot>> = BTreeMap::new();
        for g in &got {
            by_key.entry(g.key.clone()).or_default().push(g);
        }
        for (key, list) in &by_key {
            let mut next = 0u32;
            for (i, g) in list.iter().enumerate() {
                assert!(g.seq <= next, "{key}: got {} while {next} was not yet consumed: {:?}", g.seq, list_seqs(list));
                if g.action == OrderAction::Success && g.seq == next {
                    next += 1;
                }
                if g.action == OrderAction::Suspend {
                    let after = list.get(i + 1).expect("a suspended message is delivered again");
                    assert_eq!(after.seq, g.seq, "{key}: the suspended message comes again first");
                }
            }
            assert_eq!(next, 30, "{key}");
        }
        assert!(got.iter().any(|g| g.who == "o2"), "the second instance consumed nothing");
        // Never two instances on one queue at once.
        let mut by_queue: BTreeMap<(String, i32), Vec<&OrderedGot>> = BTreeMap::new();
        for g in &got {
            by_queue.entry(g.queue.clone()).or_default().push(g);
        }
        for (q, list) in by_queue {
            for a in &list {
                for b in &list {
                    if a.who != b.who {
                        assert!(a.end <= b.start || b.end <= a.start, "queue {q:?} consumed by two instances at once");
                    }
                }
            }
        }
        o1.shutdown().await;
        o2.shutdown().await;
        producer.shutdown().await;
    });
}

fn list_seqs(list: &[&OrderedGot]) -> Vec<u32> {
    list.iter().map(|g| g.seq).collect()
}

#[test]
fn batch_consumer_honours_the_batch_size_and_applies_the_action_to_the_whole_batch() {
    let topic = new_topic("batch", 2);
    let group = ons_tests::unique_name("GID_batch");
    rt().block_on(async {
        let producer = start_producer("GID_batch_producer");
        let sent = ids_of(&send_n(&producer, &topic, None, "b", 100).await);
        let batches: Arc<Mutex<Vec<Vec<Got>>>> = Arc::default();
        let b = batches.clone();
        let listener: Arc<dyn BatchMessageListener> = Arc::new(move |msgs: &[Message], _: &ConsumeContext| {
            let log = Log::default();
            for m in msgs {
                log.record("batch", m);
            }
            let mut all = b.lock().unwrap();
            // The first batch of several messages fails as a whole.
            let fail = msgs.len() > 1 && !all.iter().any(|x| x.len() > 1);
            all.push(log.all());
            if fail {
                Action::ReconsumeLater
            } else {
                Action::CommitMessage
            }
        });
        let consumer =
            BatchConsumer::new(&consumer_props(&group, "b").with(keys::CONSUME_MESSAGE_BATCH_MAX_SIZE, "8")).unwrap();
        consumer.subscribe(&topic, "*", listener).unwrap();
        consumer.start().unwrap();
        let failed_ids = || -> BTreeSet<String> {
            let all = batches.lock().unwrap();
            all.iter().find(|x| x.len() > 1).map(|x| x.iter().map(|g| g.msg_id.clone()).collect()).unwrap_or_default()
        };
        let retried = || -> BTreeSet<String> {
            let all = batches.lock().unwrap();
            all.iter().flatten().filter(|g| g.reconsume_times == 1).map(|g| g.msg_id.clone()).collect()
        };
        wait_for("every message and the failed batch again", Duration::from_secs(90), || async {
            let got: BTreeSet<String> = batches.lock().unwrap().iter().flatten().map(|g| g.msg_id.clone()).collect();
            let failed = failed_ids();
            sent.is_subset(&got) && !failed.is_empty() && failed.is_subset(&retried())
        })
        .await;
        let all = batches.lock().unwrap().clone();
        assert!(
            all.iter().all(|b| !b.is_empty() && b.len() <= 8),
            "{:?}",
            all.iter().map(Vec::len).collect::<Vec<_>>()
        );
        assert!(all.iter().any(|b| b.len() == 8), "a backlog fills whole batches");
        for b in &all {
            assert!(b.iter().all(|g| g.queue == b[0].queue), "a batch comes from one queue");
        }
        let first_round: Vec<&Got> = all.iter().flatten().filter(|g| g.reconsume_times == 0).collect();
        assert_eq!(first_round.len(), 100, "each message once before the retry");
        assert_eq!(retried(), failed_ids(), "exactly the failed batch is retried");
        consumer.shutdown().await;
        producer.shutdown().await;
    });
}

#[test]
fn sql92_selector_filters_by_user_property() {
    // Property filtering is a broker switch (off by default); it can be turned on at runtime.
    let out =
        ons_tests::mqadmin(&["updateBrokerConfig", "-c", "DefaultCluster", "-k", "enablePropertyFilter", "-v", "true"]);
    assert!(!out.to_lowercase().contains("exception"), "updateBrokerConfig: {out}");
    let topic = new_topic("sql", 2);
    let group = ons_tests::unique_name("GID_sql");
    rt().block_on(async {
        let producer = start_producer("GID_sql_producer");
        let mut wanted = BTreeSet::new();
        for a in 0..8 {
            let mut msg = Message::new(&topic, Some(if a % 2 == 0 { "even" } else { "odd" }), format!("a={a}"));
            msg.put_user_property("a", a.to_string()).unwrap();
            let id = producer.send(&msg).await.unwrap().message_id;
            if (2..=5).contains(&a) && a % 2 == 1 {
                wanted.insert(id);
            }
        }
        let log = Log::default();
        let consumer = Consumer::new(&consumer_props(&group, "s")).unwrap();
        consumer
            .subscribe_with_selector(
                &topic,
                &MessageSelector::by_sql("a BETWEEN 2 AND 5 AND TAGS = 'odd'"),
                log.listener("sql"),
            )
            .unwrap();
        consumer.start().unwrap();
        wait_for("the selected messages", Duration::from_secs(60), || async { wanted.is_subset(&log.ids()) }).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(log.ids(), wanted);
        consumer.shutdown().await;
        producer.shutdown().await;
    });
}

/// The child process of [`killed_instance_loses_nothing`]: a consumer that reports each message
/// it consumed on stdout and runs until it is killed.
fn run_child_consumer(spec: &str) {
    let v: serde_json::Value = serde_json::from_str(spec).unwrap();
    let s = |k: &str| v[k].as_str().unwrap().to_owned();
    rt().block_on(async {
        let props = Properties::new()
            .with(keys::NAMESRV_ADDR, s("namesrv"))
            .with(keys::GROUP_ID, s("group"))
            .with(keys::INSTANCE_NAME, s("instance"))
            .with(keys::CONSUME_THREAD_NUMS, "1");
        let consumer = Consumer::new(&props).unwrap();
        let listener: Arc<dyn MessageListener> = Arc::new(|m: &Message, _: &ConsumeContext| {
            std::thread::sleep(Duration::from_millis(20));
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{}", serde_json::json!({ "msgId": m.msg_id }));
            let _ = out.flush();
            Action::CommitMessage
        });
        consumer.subscribe(&s("topic"), "*", listener).unwrap();
        consumer.start().unwrap();
        loop {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
    });
}

#[test]
fn killed_instance_loses_nothing() {
    if let Ok(spec) = std::env::var("ONS_TEST_CONSUMER_CHILD") {
        run_child_consumer(&spec);
        return;
    }
    let topic = new_topic("kill", 4);
    let n = queue_total(&topic);
    let group = ons_tests::unique_name("GID_kill");
    let spec = serde_json::json!({
        "namesrv": ons_tests::namesrv(), "topic": topic, "group": group, "instance": ons_tests::unique_name("victim"),
    });
    rt().block_on(async {
        let survivor_log = Log::default();
        let survivor = Consumer::new(&consumer_props(&group, "survivor")).unwrap();
        survivor.subscribe(&topic, "*", survivor_log.listener("survivor")).unwrap();
        survivor.start().unwrap();
        wait_for("the survivor holds every queue", Duration::from_secs(60), || async {
            survivor.assignment().len() == n
        })
        .await;

        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["killed_instance_loses_nothing", "--exact", "--nocapture", "--test-threads", "1"])
            .env("ONS_TEST_CONSUMER_CHILD", spec.to_string())
            .env("ONS_TEST_NAMESRV", ons_tests::namesrv())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let child_ids: Arc<Mutex<BTreeSet<String>>> = Arc::default();
        let reader = {
            let ids = child_ids.clone();
            let stdout = child.stdout.take().unwrap();
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    // The test harness prints "test NAME ... " without a newline before running
                    // the test: the first JSON object may share its line.
                    let Some(start) = line.find('{') else { continue };
                    if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line[start..]) {
                        if let Some(id) = v["msgId"].as_str() {
                            ids.lock().unwrap().insert(id.to_owned());
                        }
                    }
                }
            })
        };
        wait_for("the child takes half of the queues", Duration::from_secs(60), || async {
            survivor.assignment().len() == n / 2
        })
        .await;

        let producer = start_producer("GID_kill_producer");
        let sent = ids_of(&send_n(&producer, &topic, None, "k", 400).await);
        wait_for("the child to consume some", Duration::from_secs(60), || async {
            child_ids.lock().unwrap().len() >= 40
        })
        .await;
        child.kill().unwrap(); // SIGKILL: no shutdown, no offset commit
        let _ = child.wait();
        let _ = reader.join();
        let by_child = child_ids.lock().unwrap().clone();
        assert!(by_child.len() < 200, "the child was to be killed mid-way; it consumed {}", by_child.len());

        wait_for("every message consumed by the child or the survivor", Duration::from_secs(90), || async {
            let mut all = survivor_log.ids();
            all.extend(by_child.iter().cloned());
            sent.is_subset(&all)
        })
        .await;
        assert_eq!(survivor.assignment().len(), n, "the survivor took over the dead instance's queues");
        survivor.shutdown().await;
        producer.shutdown().await;
    });
}

#[test]
fn mixed_group_with_the_java_client_splits_the_queues() {
    let topic = new_topic("mixed", 4);
    let n = queue_total(&topic);
    let group = ons_tests::unique_name("GID_mixed");
    rt().block_on(async {
        let log = Log::default();
        let ours = Consumer::new(&consumer_props(&group, "rust")).unwrap();
        ours.subscribe(&topic, "*", log.listener("rust")).unwrap();
        ours.start().unwrap();
        wait_for("all queues", Duration::from_secs(60), || async { ours.assignment().len() == n }).await;

        // Every queue gets PER_QUEUE messages (sharding keys chosen per queue), so the Java side
        // knows how many are its share and exits as soon as it has them.
        const PER_QUEUE: usize = 25;
        let java = {
            let (topic, group, count) = (topic.clone(), group.clone(), (PER_QUEUE * (n / 2)).to_string());
            std::thread::spawn(move || {
                ons_tests::java_oracle(&[
                    "consume",
                    "--topic",
                    &topic,
                    "--group",
                    &group,
                    "--count",
                    &count,
                    "--timeout-ms",
                    "60000",
                ])
            })
        };
        // The JVM may take a while to start on a loaded machine; if the oracle ends before
        // joining, its output says why.
        let deadline = Instant::now() + Duration::from_secs(150);
        while ours.assignment().len() != n / 2 {
            if java.is_finished() {
                let out = java.join().unwrap();
                panic!("the Java consumer ended before joining the group: {}", String::from_utf8_lossy(&out.stderr));
            }
            assert!(Instant::now() < deadline, "the Java consumer never took its half of the queues");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let mine = queue_set(&ours.assignment());
        let producer = OrderProducer::new(&base_props("GID_mixed_producer")).unwrap();
        producer.start().unwrap();
        let mut sent = Vec::new();
        for q in 0..n {
            let key = (0..).map(|i| format!("key-{i}")).find(|k| ons_order_queue_index(k, n) == q).unwrap();
            for i in 0..PER_QUEUE {
                sent.push(producer.send(&Message::new(&topic, None, format!("x-{q}-{i}")), &key).await.unwrap());
            }
        }
        let expected_ours: BTreeSet<String> = sent
            .iter()
            .filter(|s| mine.contains(&(s.broker_name.clone(), s.queue_id)))
            .map(|s| s.message_id.clone())
            .collect();
        assert_eq!(expected_ours.len(), PER_QUEUE * n / 2);
        wait_for("our half", Duration::from_secs(60), || async { expected_ours.is_subset(&log.ids()) }).await;
        let ours_before_java_left = log.ids();

        let out = tokio::task::spawn_blocking(move || java.join().unwrap()).await.unwrap();
        assert!(
            out.status.success(),
            "the Java consumer did not get its share: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let java_got: Vec<serde_json::Value> =
            String::from_utf8_lossy(&out.stdout).lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
        let java_ids: BTreeSet<String> =
            java_got.iter().filter_map(|v| v["msgId"].as_str().map(str::to_owned)).collect();
        assert_eq!(ours_before_java_left, expected_ours, "we consumed exactly our queues");
        assert!(java_ids.is_disjoint(&ours_before_java_left), "a message went to both clients");
        let union: BTreeSet<String> = java_ids.union(&ours_before_java_left).cloned().collect();
        assert_eq!(union, ids_of(&sent), "together the two clients consumed everything");
        for v in &java_got {
            let q =
                (v["brokerName"].as_str().unwrap_or_default().to_owned(), v["queueId"].as_i64().unwrap_or(-1) as i32);
            assert!(!mine.contains(&q), "the Java client consumed one of our queues: {q:?}");
        }
        ours.shutdown().await;
        producer.shutdown().await;
    });
}

#[test]
fn subscriptions_change_while_running() {
    let (topic_a, topic_b) = (new_topic("sub_a", 2), new_topic("sub_b", 2));
    let queues_b = queue_total(&topic_b);
    let group = ons_tests::unique_name("GID_subs");
    rt().block_on(async {
        let log = Log::default();
        let consumer = Consumer::new(&consumer_props(&group, "s")).unwrap();
        consumer.subscribe(&topic_a, "*", log.listener("s")).unwrap();
        consumer.start().unwrap();
        let producer = start_producer("GID_subs_producer");
        let a1 = ids_of(&send_n(&producer, &topic_a, None, "a1", 5).await);
        wait_for("topic A", Duration::from_secs(60), || async { a1.is_subset(&log.ids()) }).await;

        consumer.subscribe(&topic_b, "*", log.listener("s")).unwrap();
        wait_for("topic B's queues", Duration::from_secs(60), || async {
            consumer.assignment().iter().filter(|q| q.topic == topic_b).count() == queues_b
        })
        .await;
        let b1 = ids_of(&send_n(&producer, &topic_b, None, "b1", 5).await);
        wait_for("topic B", Duration::from_secs(60), || async { b1.is_subset(&log.ids()) }).await;

        consumer.unsubscribe(&topic_a).unwrap();
        wait_for("topic A's queues given up", Duration::from_secs(60), || async {
            consumer.assignment().iter().all(|q| q.topic != topic_a)
        })
        .await;
        let a2 = ids_of(&send_n(&producer, &topic_a, None, "a2", 5).await);
        let b2 = ids_of(&send_n(&producer, &topic_b, None, "b2", 5).await);
        wait_for("topic B again", Duration::from_secs(60), || async { b2.is_subset(&log.ids()) }).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert!(log.ids().is_disjoint(&a2), "messages of an unsubscribed topic were delivered");
        consumer.shutdown().await;
        producer.shutdown().await;
    });
}

#[test]
fn admin_offset_reset_rewinds_the_group() {
    let topic = new_topic("reset", 2);
    let group = ons_tests::unique_name("GID_reset");
    rt().block_on(async {
        let producer = start_producer("GID_reset_producer");
        let before = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() - 2000;
        let sent = ids_of(&send_n(&producer, &topic, None, "r", 10).await);
        let log = Log::default();
        let consumer = Consumer::new(&consumer_props(&group, "r")).unwrap();
        consumer.subscribe(&topic, "*", log.listener("r")).unwrap();
        consumer.start().unwrap();
        wait_for("the messages", Duration::from_secs(60), || async { sent.is_subset(&log.ids()) }).await;
        // Let the consumed offsets reach the broker before resetting them.
        tokio::time::sleep(Duration::from_secs(6)).await;
        let (t, g, at) = (topic.clone(), group.clone(), before.to_string());
        let out = tokio::task::spawn_blocking(move || {
            // mqadmin exits 0 on failure too; a success prints the reset table. A tool timing out
            // on a loaded machine is retried.
            let mut attempts = Vec::new();
            for _ in 0..3 {
                let out =
                    ons_tests::mqadmin_output(&["resetOffsetByTime", "-g", &g, "-t", &t, "-s", &at, "-f", "true"]);
                let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
                if stdout.contains("#queueId") || stdout.to_lowercase().contains("rollback") {
                    return stdout.into_owned();
                }
                attempts.push(format!("stdout: {stdout}\nstderr: {stderr}"));
            }
            panic!("mqadmin resetOffsetByTime failed:\n{}", attempts.join("\n---\n"));
        })
        .await
        .unwrap();
        eprintln!("mqadmin resetOffsetByTime: {out}"); // shown if the wait below fails
        wait_for("every message again after the reset", Duration::from_secs(60), || async {
            let got = log.all();
            sent.iter().all(|id| got.iter().filter(|g| &g.msg_id == id).count() >= 2)
        })
        .await;
        consumer.shutdown().await;
        producer.shutdown().await;
    });
}

#[test]
fn cache_stays_bounded_under_a_backlog() {
    let topic = new_topic("backlog", 4);
    let n = queue_total(&topic);
    let group = ons_tests::unique_name("GID_backlog");
    rt().block_on(async {
        let producer = start_producer("GID_backlog_producer");
        for round in 0..30 {
            let batch: Vec<Message> =
                (0..100).map(|i| Message::new(&topic, None, format!("backlog-{round}-{i}"))).collect();
            producer.send_batch(&batch).await.unwrap();
        }
        let gate = Arc::new((Mutex::new(false), std::sync::Condvar::new()));
        let g = gate.clone();
        let listener: Arc<dyn MessageListener> = Arc::new(move |_: &Message, _: &ConsumeContext| {
            let (open, cv) = &*g;
            let mut open = open.lock().unwrap();
            while !*open {
                open = cv.wait(open).unwrap();
            }
            Action::CommitMessage
        });
        let props = consumer_props(&group, "c")
            .with(keys::MAX_CACHED_MESSAGE_AMOUNT, "100")
            .with(keys::CONSUME_THREAD_NUMS, "1");
        let consumer = Consumer::new(&props).unwrap();
        consumer.subscribe(&topic, "*", listener).unwrap();
        consumer.start().unwrap();
        wait_for("the cache to fill", Duration::from_secs(60), || async { consumer.cache_usage().0 >= 100 }).await;
        tokio::time::sleep(Duration::from_secs(3)).await;
        let (messages, bytes) = consumer.cache_usage();
        // Each queue (the group's retry queue included) pulls while it holds at most its share of
        // the 100 messages; one pull adds at most 32.
        assert!(messages <= 100 + 32 * (n + 1), "{messages} messages cached with MaxCachedMessageAmount=100");
        assert!(bytes > 0 && bytes < 1 << 20);
        let (open, cv) = &*gate;
        *open.lock().unwrap() = true;
        cv.notify_all();
        consumer.shutdown().await;
        producer.shutdown().await;
    });
}

#[test]
fn ordered_message_exhausting_its_retries_goes_to_the_dead_letter_queue() {
    let topic = new_topic("ordered_dlq", 2);
    let n = queue_total(&topic);
    let group = ons_tests::unique_name("GID_ordered_dlq");
    rt().block_on(async {
        let log = Log::default();
        let l = log.clone();
        let listener: Arc<dyn MessageOrderListener> = Arc::new(move |m: &Message, _: &ConsumeOrderContext| {
            l.record("o", m);
            if m.key.as_deref() == Some("poison") {
                OrderAction::Suspend
            } else {
                OrderAction::Success
            }
        });
        let props =
            consumer_props(&group, "o").with(keys::MAX_RECONSUME_TIMES, "2").with(keys::SUSPEND_TIME_MILLIS, "200");
        let consumer = OrderConsumer::new(&props).unwrap();
        consumer.subscribe(&topic, "*", listener).unwrap();
        consumer.start().unwrap();
        wait_for("the queues", Duration::from_secs(60), || async { consumer.assignment().len() == n }).await;

        let producer = OrderProducer::new(&base_props("GID_ordered_dlq_producer")).unwrap();
        producer.start().unwrap();
        let mut ids = Vec::new();
        for key in ["before", "poison", "after"] {
            let msg = Message::new(&topic, Some("o"), format!("{key} body")).with_key(key);
            ids.push(producer.send(&msg, "one-shard").await.unwrap().message_id);
        }
        wait_for("the message after the poison", Duration::from_secs(60), || async {
            log.all().iter().any(|g| g.key == "after")
        })
        .await;
        let keys: Vec<(String, i32)> = log.all().into_iter().map(|g| (g.key, g.reconsume_times)).collect();
        let expected: Vec<(String, i32)> = [("before", 0), ("poison", 0), ("poison", 1), ("poison", 2), ("after", 0)]
            .iter()
            .map(|(k, n)| (k.to_string(), *n))
            .collect();
        assert_eq!(keys, expected, "the poison message is retried in place, then passed over");

        let admin = Admin::new(&base_props("GID_consumer_admin")).unwrap();
        let dlq = format!("%DLQ%{group}");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let found = admin.query_by_msg_id(&dlq, &ids[1]).await.unwrap_or_default();
            if let Some(m) = found.first() {
                assert_eq!(m.body, "poison body".as_bytes());
                break;
            }
            assert!(Instant::now() < deadline, "the poison message never showed up in {dlq}");
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        consumer.shutdown().await;
        producer.shutdown().await;
    });
}

#[test]
fn namespaced_group_consumes_and_retries_under_plain_names() {
    let ns = ons_tests::unique_name("NS");
    let topic = ons_tests::unique_name("ns_topic");
    let group = ons_tests::unique_name("GID_ns");
    let with_ns = |p: Properties| p.with(keys::INSTANCE_ID, &ns);
    rt().block_on(async {
        let admin = Admin::new(&with_ns(base_props("GID_consumer_admin"))).unwrap();
        admin.create_topic(&topic, 2, false).await.unwrap();
        // On the wire the topic carries the namespace.
        let plain_admin = Admin::new(&base_props("GID_consumer_admin")).unwrap();
        let wire_topic = format!("{ns}%{topic}");
        wait_for("the namespaced topic's route", Duration::from_secs(40), || async {
            plain_admin.max_offsets(&wire_topic).await.is_ok()
        })
        .await;

        let log = Log::default();
        let l = log.clone();
        let contexts: Arc<Mutex<Vec<String>>> = Arc::default();
        let c = contexts.clone();
        let listener: Arc<dyn MessageListener> = Arc::new(move |m: &Message, ctx: &ConsumeContext| {
            l.record("ns", m);
            c.lock().unwrap().push(ctx.queue.topic.clone());
            if m.reconsume_times == 0 {
                Action::ReconsumeLater
            } else {
                Action::CommitMessage
            }
        });
        let consumer = Consumer::new(&with_ns(consumer_props(&group, "ns"))).unwrap();
        consumer.subscribe(&topic, "*", listener).unwrap();
        consumer.start().unwrap();
        let producer = Producer::new(&with_ns(base_props("GID_ns_producer"))).unwrap();
        producer.start().unwrap();
        let id = producer.send(&Message::new(&topic, Some("t"), "namespaced")).await.unwrap().message_id;
        wait_for("the retried delivery", Duration::from_secs(60), || async { log.len() >= 2 }).await;
        for g in log.all() {
            assert_eq!((g.msg_id.as_str(), g.topic.as_str()), (id.as_str(), topic.as_str()));
        }
        assert_eq!(log.all().iter().map(|g| g.reconsume_times).collect::<Vec<_>>(), vec![0, 1]);
        let seen = contexts.lock().unwrap().clone();
        assert_eq!(seen, vec![topic.clone(), format!("%RETRY%{group}")], "queues are shown without namespace");
        assert!(consumer.assignment().iter().all(|q| q.topic == topic));
        consumer.shutdown().await;
        producer.shutdown().await;
    });
}

#[test]
fn a_listener_stuck_past_consume_timeout_counts_as_failed() {
    let topic = new_topic("stuck", 1);
    let group = ons_tests::unique_name("GID_stuck");
    rt().block_on(async {
        let log = Log::default();
        let release = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (l, r) = (log.clone(), release.clone());
        let listener: Arc<dyn MessageListener> = Arc::new(move |m: &Message, _: &ConsumeContext| {
            l.record("c", m);
            if m.key.as_deref() == Some("stuck") && m.reconsume_times == 0 {
                // Far longer than ConsumeTimeout (1 minute); released when the test ends.
                let until = Instant::now() + Duration::from_secs(180);
                while !r.load(std::sync::atomic::Ordering::Relaxed) && Instant::now() < until {
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
            Action::CommitMessage
        });
        let props = consumer_props(&group, "c").with(keys::CONSUME_TIMEOUT, "1").with(keys::CONSUME_THREAD_NUMS, "1");
        let consumer = Consumer::new(&props).unwrap();
        consumer.subscribe(&topic, "*", listener).unwrap();
        consumer.start().unwrap();
        let producer = start_producer("GID_stuck_producer");
        for key in ["stuck", "next"] {
            producer.send(&Message::new(&topic, None, key).with_key(key)).await.unwrap();
        }
        // After the timeout the message is handed back (redelivered ~10 s later) and the stuck
        // thread no longer counts, so the next message is consumed too.
        wait_for("the stuck message again and the next one", Duration::from_secs(150), || async {
            let got = log.all();
            got.iter().any(|g| g.key == "stuck" && g.reconsume_times == 1) && got.iter().any(|g| g.key == "next")
        })
        .await;
        release.store(true, std::sync::atomic::Ordering::Relaxed);
        assert_eq!(log.all().iter().filter(|g| g.key == "next").count(), 1);
        consumer.shutdown().await;
        producer.shutdown().await;
    });
}

/// A listener that answers from other threads later, as the Node and Python bindings do.
struct AnswersLater {
    log: Log,
    in_flight: Arc<std::sync::atomic::AtomicUsize>,
    most_in_flight: Arc<std::sync::atomic::AtomicUsize>,
}

impl DeferredMessageListener for AnswersLater {
    fn consume(&self, message: DeliveredMessage, _: &ConsumeContext, reply: ActionReply) {
        use std::sync::atomic::Ordering::SeqCst;
        self.log.record("deferred", &message);
        let now = self.in_flight.fetch_add(1, SeqCst) + 1;
        self.most_in_flight.fetch_max(now, SeqCst);
        let in_flight = self.in_flight.clone();
        let first_try_of_7 = message.key.as_deref() == Some("d-7") && message.reconsume_times == 0;
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(30));
            in_flight.fetch_sub(1, SeqCst);
            if first_try_of_7 {
                // Dropped unanswered: counts as ReconsumeLater.
                drop(reply);
            } else {
                reply.send(Action::CommitMessage);
            }
        });
    }
}

#[test]
fn deferred_listener_answers_later_within_consume_thread_nums() {
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    let topic = new_topic("deferred", 4);
    let group = ons_tests::unique_name("GID_deferred");
    rt().block_on(async {
        let producer = start_producer("GID_deferred_producer");
        let log = Log::default();
        let most = Arc::new(AtomicUsize::new(0));
        let c = Consumer::new(&consumer_props(&group, "d").with(keys::CONSUME_THREAD_NUMS, "3")).unwrap();
        let listener =
            AnswersLater { log: log.clone(), in_flight: Arc::new(AtomicUsize::new(0)), most_in_flight: most.clone() };
        c.subscribe_deferred(&topic, &MessageSelector::by_tag("*"), Arc::new(listener)).unwrap();
        c.start().unwrap();
        let sent = send_n(&producer, &topic, None, "d", 40).await;
        let want = ids_of(&sent);
        wait_for("every message, and d-7 again after its unanswered first try", Duration::from_secs(60), || async {
            want.is_subset(&log.ids()) && log.all().iter().any(|g| g.key == "d-7" && g.reconsume_times == 1)
        })
        .await;
        let all = log.all();
        assert!(most.load(SeqCst) <= 3, "{} deliveries unanswered at once; ConsumeThreadNums is 3", most.load(SeqCst));
        let again: Vec<&Got> = all.iter().filter(|g| g.reconsume_times > 0).collect();
        assert!(
            again.iter().all(|g| g.key == "d-7"),
            "only d-7 was handed back: {:?}",
            again.iter().map(|g| &g.key).collect::<Vec<_>>()
        );
        c.shutdown().await;
        producer.shutdown().await;
    });
}

/// Holds its first delivery's reply for a while (so the rest pile up waiting for the one
/// place), then answers every later message inside `consume` itself.
struct AnswersFirstLater {
    log: Log,
    first: std::sync::atomic::AtomicBool,
}

impl DeferredMessageListener for AnswersFirstLater {
    fn consume(&self, message: DeliveredMessage, _: &ConsumeContext, reply: ActionReply) {
        self.log.record("deferred", &message);
        if self.first.swap(false, std::sync::atomic::Ordering::SeqCst) {
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(1500));
                reply.send(Action::CommitMessage);
            });
        } else {
            reply.send(Action::CommitMessage);
        }
    }
}

#[test]
fn deferred_listener_answering_inside_consume_drains_a_long_backlog() {
    let topic = new_topic("deferred_sync", 2);
    let group = ons_tests::unique_name("GID_deferred_sync");
    rt().block_on(async {
        let producer = start_producer("GID_deferred_sync_producer");
        let sent = send_n(&producer, &topic, None, "s", 1500).await;
        let want = ids_of(&sent);
        let log = Log::default();
        let c = Consumer::new(&consumer_props(&group, "s").with(keys::CONSUME_THREAD_NUMS, "1")).unwrap();
        let listener = AnswersFirstLater { log: log.clone(), first: std::sync::atomic::AtomicBool::new(true) };
        c.subscribe_deferred(&topic, &MessageSelector::by_tag("*"), Arc::new(listener)).unwrap();
        c.start().unwrap();
        // Each answer given inside `consume` hands the next waiting message over; without
        // flattening that would nest one call per waiting message.
        wait_for("all 1500 messages", Duration::from_secs(60), || async { want.is_subset(&log.ids()) }).await;
        c.shutdown().await;
        producer.shutdown().await;
    });
}
