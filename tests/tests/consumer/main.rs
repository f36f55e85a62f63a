//! Consumers against a real Apache RocketMQ cluster (started by tests/harness/rmq.sh):
//! clustering with instances joining and leaving, a group shared with the Java client, an
//! instance killed with SIGKILL, broadcasting with its local offset file, retries and the
//! dead-letter queue, ordered and batch consumption, tag filtering, resuming from committed
//! offsets.
//!
//! One test binary (linking once), one module per concern; the helpers below are theirs.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ons_tests::support::{new_topic, plain_props, rt, wait_for};
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

mod delivery;
mod flow;
mod offsets;
mod ordered;
mod retries;

/// Consumer properties for one instance of `group` (instances in one process need distinct
/// instance names).
/// From the first offset: every test's topic is new, and a new group starting from the last
/// offset may skip a queue's first message if it lands between the broker's "no offset yet"
/// answer and the max offset the client then asks for (5.x answers 0 only once offset 0 is in
/// its consume queue).
fn consumer_props(group: &str, instance: &str) -> Properties {
    plain_props(group)
        .with(keys::INSTANCE_NAME, ons_tests::unique_name(instance))
        .with(keys::CONSUME_FROM_WHERE, "CONSUME_FROM_FIRST_OFFSET")
}

/// How many queues `topic` has in all (a topic is created on every broker of the cluster).
fn queue_total(topic: &str) -> usize {
    rt().block_on(async {
        let admin = Admin::new(&plain_props("GID_consumer_admin")).unwrap();
        admin.max_offsets(topic).await.unwrap().len()
    })
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
    let p = Producer::new(&plain_props(group)).unwrap();
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
