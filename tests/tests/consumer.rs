//! Consumers against a real Apache RocketMQ cluster (started by tests/harness/rmq.sh):
//! clustering with instances joining and leaving, a group shared with the Java client, an
//! instance killed with SIGKILL, broadcasting with its local offset file, retries and the
//! dead-letter queue, ordered and batch consumption, tag filtering, resuming from committed
//! offsets.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use rocketmq_ons::admin::Admin;
use rocketmq_ons::config::keys;
use rocketmq_ons::protocol::route::MessageQueue;
use rocketmq_ons::{
    Action, BatchConsumer, ConsumeContext, Consumer, ErrorKind, Message, MessageListener, Producer, Properties,
    SendResult,
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
fn consumer_props(group: &str, instance: &str) -> Properties {
    base_props(group).with(keys::INSTANCE_NAME, ons_tests::unique_name(instance))
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
    body: Vec<u8>,
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
            body: m.body.to_vec(),
        });
    }

    fn all(&self) -> Vec<Got> {
        self.0.lock().unwrap().clone()
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
    let topic = new_topic("split", 8);
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
        wait_for_split(&[&c1, &c2], 8).await;
        let owned: HashMap<&str, BTreeSet<(String, i32)>> =
            [("c1", queue_set(&c1.assignment())), ("c2", queue_set(&c2.assignment()))].into();
        assert_eq!(owned["c1"].len(), 4);

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
        wait_for_split(&[&c1, &c2, &c3], 8).await;
        let phase2 = send_n(&producer, &topic, Some("t"), "p2", 200).await;
        let want2 = ids_of(&phase2);
        wait_for("phase 2 delivered", Duration::from_secs(60), || async { want2.is_subset(&log.ids()) }).await;
        assert!(log.all().iter().any(|g| g.who == "c3" && g.key.starts_with("p2")));

        // One leaves; the others take its queues from its committed offsets.
        c1.shutdown().await;
        assert!(c1.is_closed() && !c1.is_started());
        wait_for_split(&[&c2, &c3], 8).await;
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
        c.subscribe(&topic, "", log.listener("first")).unwrap();
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
