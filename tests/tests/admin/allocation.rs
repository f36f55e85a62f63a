//! A group mixing the official Java push consumer with `AllocateMessageQueueAveragelyByCircle`
//! and a consumer of ours with ALLOCATE_MESSAGE_QUEUE_STRATEGY_NAME=AVG_BY_CIRCLE: every queue is
//! owned by exactly one of them, as that strategy deals them (each client's running info, read
//! through the broker), and every message is consumed exactly once.

use std::collections::BTreeSet;
use std::time::Duration;

use ons_tests::support::{rt, wait_for};
use rocketmq_ons::config::keys;
use rocketmq_ons::consumer::allocate_by_circle;
use rocketmq_ons::{Consumer, Message, MessageQueue, Producer};

use super::{admin, consumer_props, create_routed, ids_of, props, Recorder};

/// Messages sent to the Java consumer's queues (it exits after consuming this many).
const JAVA_MESSAGES: usize = 6;

/// The queues `client_id` holds of `topic`, by its running info.
async fn held(admin: &rocketmq_ons::admin::Admin, group: &str, client_id: &str, topic: &str) -> BTreeSet<MessageQueue> {
    match admin.consumer_running_info(group, client_id).await {
        Ok(info) => info.queues.into_iter().map(|q| q.queue).filter(|q| q.topic == topic).collect(),
        Err(_) => BTreeSet::new(),
    }
}

#[test]
fn java_and_ours_split_the_queues_by_circle() {
    let topic = ons_tests::unique_name("adm_circle");
    let group = ons_tests::unique_name("GID_adm_circle");
    rt().block_on(async { create_routed(&admin(), &topic, 2).await });
    let count = JAVA_MESSAGES.to_string();
    let java = super::spawn_java_consumer(
        &topic,
        &group,
        &["--count", &count, "--from-first", "--allocate", "AVG_BY_CIRCLE", "--timeout-ms", "150000"],
    );
    let recorder = Recorder::default();

    let (consumer, java_queues, our_queues, java_sent, our_sent) = rt().block_on(async {
        let consumer =
            Consumer::new(&consumer_props(&group).with(keys::ALLOCATE_MESSAGE_QUEUE_STRATEGY_NAME, "AVG_BY_CIRCLE"))
                .unwrap();
        consumer.subscribe(&topic, "*", recorder.listener()).unwrap();
        consumer.start().unwrap();
        let admin = admin();
        wait_for("both consumers online on both brokers", Duration::from_secs(90), || async {
            admin
                .consumer_connections(&group)
                .await
                .is_ok_and(|c| c.clients.len() == 2 && c.clients.iter().all(|c| c.client_addrs.len() == 2))
        })
        .await;
        let clients = admin.consumer_connections(&group).await.unwrap().clients;
        let java_id = clients.iter().find(|c| c.language == "JAVA").expect("no Java client").client_id.clone();
        let our_id = clients.iter().find(|c| c.client_id != java_id).unwrap().client_id.clone();
        let ids = vec![java_id.clone(), our_id.clone()];
        let all: Vec<MessageQueue> = ["broker-a", "broker-b"]
            .iter()
            .flat_map(|b| (0..2).map(|q| MessageQueue::new(topic.as_str(), *b, q)))
            .collect();
        let java_expected: BTreeSet<MessageQueue> = allocate_by_circle(&all, &ids, &java_id).into_iter().collect();
        let our_expected: BTreeSet<MessageQueue> = allocate_by_circle(&all, &ids, &our_id).into_iter().collect();
        assert_eq!((java_expected.len(), our_expected.len()), (2, 2));
        // Until both have rebalanced: each holds exactly its share, so no queue is held twice.
        wait_for("each consumer holding its circle share", Duration::from_secs(90), || async {
            held(&admin, &group, &java_id, &topic).await == java_expected
                && held(&admin, &group, &our_id, &topic).await == our_expected
        })
        .await;

        // Round robin over the queues until the Java consumer's queues have had their messages.
        let producer = Producer::new(&props("GID_adm_circle_producer")).unwrap();
        producer.start().unwrap();
        let (mut java_sent, mut our_sent) = (Vec::new(), Vec::new());
        for i in 0..(JAVA_MESSAGES * 8) {
            if java_sent.len() == JAVA_MESSAGES {
                break;
            }
            let r = producer.send(&Message::new(&topic, Some("circle"), format!("circle{i}"))).await.unwrap();
            let mq = MessageQueue::new(topic.as_str(), &*r.broker_name, r.queue_id);
            if java_expected.contains(&mq) {
                java_sent.push(r);
            } else {
                assert!(our_expected.contains(&mq), "sent to {mq:?}, which neither consumer holds");
                our_sent.push(r);
            }
        }
        producer.shutdown().await;
        assert_eq!(java_sent.len(), JAVA_MESSAGES, "the producer did not reach the Java consumer's queues");
        let ours = ids_of(&our_sent);
        wait_for("our queues' messages consumed", Duration::from_secs(60), || async {
            recorder.times_each(&ours) >= 1
        })
        .await;
        (consumer, java_expected, our_expected, java_sent, our_sent)
    });

    let out = java.join().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let context = format!("Java consumer:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{context}");
    let java_deliveries: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["result"] == "CONSUME_SUCCESS")
        .collect();
    let mut java_ids: Vec<String> = java_deliveries.iter().map(|v| v["msgId"].as_str().unwrap().to_owned()).collect();
    for v in &java_deliveries {
        let mq =
            MessageQueue::new(topic.as_str(), v["brokerName"].as_str().unwrap(), v["queueId"].as_i64().unwrap() as i32);
        assert!(java_queues.contains(&mq), "the Java consumer consumed from {mq:?}, not its own: {context}");
    }
    java_ids.sort();
    assert_eq!(java_ids, ids_of(&java_sent).into_iter().collect::<Vec<_>>(), "{context}");
    // Once the Java consumer has left (it exits after its share), its queues come to us and
    // what it consumed after its last commit comes again (at least once): only those may be
    // among ours besides our own queues' messages, each of which came once.
    let java_sent_ids = ids_of(&java_sent);
    let (mut ours, taken_over): (Vec<String>, Vec<String>) =
        recorder.deliveries().into_iter().partition(|id| !java_sent_ids.contains(id));
    ours.sort();
    assert_eq!(ours, ids_of(&our_sent).into_iter().collect::<Vec<_>>(), "our deliveries (queues {our_queues:?})");
    let distinct: BTreeSet<&String> = taken_over.iter().collect();
    assert_eq!(
        distinct.len(),
        taken_over.len(),
        "a message of the Java consumer's queues came to us twice: {taken_over:?}"
    );
    rt().block_on(consumer.shutdown());
}
