//! `reset_offsets` with a push consumer of this client running in the group: to the earliest
//! message it consumes everything again, to the latest it drops what it had cached and nothing
//! older comes back; the offsets it reports match `mqadmin consumerProgress`.

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::time::Duration;

use ons_tests::support::{rt, wait_for};
use rocketmq_ons::admin::ResetPosition;
use rocketmq_ons::config::keys;
use rocketmq_ons::{Consumer, Message, Producer};

use super::{admin, consumer_props, create_routed, ids_of, mqadmin_progress, online_on_both, props, Recorder};

const FIRST: usize = 16;
const HELD: usize = 12;

#[test]
fn reset_moves_a_running_consumer() {
    let topic = ons_tests::unique_name("adm_reset");
    let group = ons_tests::unique_name("GID_adm_reset");
    let recorder = Recorder::default();
    rt().block_on(async {
        let admin = admin();
        create_routed(&admin, &topic, 2).await;
        // One listener thread: while it is held, the rest of what was pulled stays cached.
        let consumer = Consumer::new(&consumer_props(&group).with(keys::CONSUME_THREAD_NUMS, "1")).unwrap();
        consumer.subscribe(&topic, "*", recorder.listener()).unwrap();
        consumer.start().unwrap();
        online_on_both(&admin, &group).await;
        let producer = Producer::new(&props("GID_adm_reset_producer")).unwrap();
        producer.start().unwrap();
        let mut sent = Vec::new();
        for i in 0..FIRST {
            sent.push(producer.send(&Message::new(&topic, Some("first"), format!("f{i}"))).await.unwrap());
        }
        let first = ids_of(&sent);
        wait_for("the first pass", Duration::from_secs(60), || async { recorder.times_each(&first) >= 1 }).await;
        let committed = |total: usize| {
            let (admin, group, topic) = (&admin, &group, &topic);
            async move {
                let stats = admin.consume_stats(group, Some(topic)).await.unwrap();
                let queues: Vec<_> = stats.queues.iter().filter(|q| &q.queue.topic == topic).collect();
                queues.len() == 4
                    && queues.iter().map(|q| q.consumer_offset).sum::<i64>() == total as i64
                    && queues.iter().all(|q| q.lag == 0)
            }
        };
        wait_for("the first pass committed", Duration::from_secs(60), || committed(FIRST)).await;

        // To the earliest: the running consumer consumes every message again.
        let before_reset = recorder.deliveries().len();
        let reset = admin.reset_offsets(&group, &topic, ResetPosition::Earliest).await.unwrap();
        assert_eq!(reset.len(), 4, "{reset:?}");
        assert!(reset.iter().all(|q| q.offset == 0 && q.queue.topic == topic), "{reset:?}");
        // 5.x brokers tell the consumer with the answer to its next pull, which they hold up to
        // 15 s when nothing new arrives; 4.x brokers push the reset at once.
        wait_for("the second pass", Duration::from_secs(90), || async { recorder.times_each(&first) >= 2 }).await;
        let second_pass: BTreeSet<String> = recorder.deliveries()[before_reset..].iter().cloned().collect();
        assert_eq!(second_pass, first, "the second pass is every message, and nothing else");
        wait_for("the second pass committed", Duration::from_secs(60), || committed(FIRST)).await;

        // To the latest while messages are cached: held in the listener, the newer ones wait in
        // the consumer's cache, and the reset drops them.
        recorder.hold.store(true, Ordering::SeqCst);
        let mut held = Vec::new();
        for i in 0..HELD {
            held.push(producer.send(&Message::new(&topic, Some("held"), format!("h{i}"))).await.unwrap());
        }
        let held = ids_of(&held);
        wait_for("a held delivery", Duration::from_secs(60), || async {
            recorder.deliveries().iter().any(|id| held.contains(id))
        })
        .await;
        let reset = admin.reset_offsets(&group, &topic, ResetPosition::Latest).await.unwrap();
        assert_eq!(reset.iter().map(|q| q.offset).sum::<i64>(), (FIRST + HELD) as i64, "{reset:?}");
        // Long enough for a 5.x broker's held pull to come back with the moved offset.
        tokio::time::sleep(Duration::from_secs(20)).await;
        let delivered_before_release = recorder.deliveries().len();
        recorder.hold.store(false, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_secs(5)).await;
        let after_release = recorder.deliveries()[delivered_before_release..].to_vec();
        assert!(after_release.is_empty(), "cached messages came back after the reset: {after_release:?}");
        let held_delivered = recorder.deliveries().iter().filter(|id| held.contains(*id)).count();
        assert!(held_delivered < HELD, "every held message was delivered: the reset dropped nothing");

        // The consumer goes on from the new offsets.
        let next = producer.send(&Message::new(&topic, Some("next"), "n")).await.unwrap();
        wait_for("a message sent after the reset", Duration::from_secs(60), || async {
            recorder.deliveries().contains(&next.message_id)
        })
        .await;
        wait_for("the offsets at the end", Duration::from_secs(60), || committed(FIRST + HELD + 1)).await;
        producer.shutdown().await;
        let ours: Vec<_> = admin
            .consume_stats(&group, Some(&topic))
            .await
            .unwrap()
            .queues
            .iter()
            .filter(|q| q.queue.topic == topic)
            .map(|q| (q.queue.broker_name.clone(), q.queue.queue_id, q.broker_offset, q.consumer_offset))
            .collect();
        let (g, t) = (group.clone(), topic.clone());
        let theirs = tokio::task::spawn_blocking(move || mqadmin_progress(&g, &t)).await.unwrap();
        assert_eq!(ours, theirs);
        consumer.shutdown().await;
    });
}

#[test]
fn reset_of_an_offline_group_commits_the_offsets() {
    let topic = ons_tests::unique_name("adm_reset_off");
    let group = ons_tests::unique_name("GID_adm_reset_off");
    let recorder = Recorder::default();
    rt().block_on(async {
        let admin = admin();
        create_routed(&admin, &topic, 2).await;
        let producer = Producer::new(&props("GID_adm_reset_off_producer")).unwrap();
        producer.start().unwrap();
        let mut sent = Vec::new();
        for i in 0..6 {
            sent.push(producer.send(&Message::new(&topic, None, format!("o{i}"))).await.unwrap());
        }
        producer.shutdown().await;
        // The group has to have offsets: 4.x brokers refuse to reset a group they have none of.
        let sent = ids_of(&sent);
        let consumer = Consumer::new(&consumer_props(&group)).unwrap();
        consumer.subscribe(&topic, "*", recorder.listener()).unwrap();
        consumer.start().unwrap();
        wait_for("every message", Duration::from_secs(60), || async { recorder.times_each(&sent) >= 1 }).await;
        consumer.shutdown().await;

        // Nobody of the group online now: 4.x brokers refuse (CONSUMER_NOT_ONLINE) and the
        // offsets are committed directly; 5.x brokers move them themselves. Same answer.
        let progress = |group: &str, topic: &str| {
            let (g, t) = (group.to_owned(), topic.to_owned());
            tokio::task::spawn_blocking(move || mqadmin_progress(&g, &t))
        };
        let earliest = admin.reset_offsets(&group, &topic, ResetPosition::Earliest).await.unwrap();
        assert_eq!(earliest.len(), 4, "{earliest:?}");
        assert!(earliest.iter().all(|q| q.offset == 0), "{earliest:?}");
        let theirs = progress(&group, &topic).await.unwrap();
        assert!(theirs.len() == 4 && theirs.iter().all(|q| q.3 == 0), "mqadmin consumerProgress: {theirs:?}");

        let latest = admin.reset_offsets(&group, &topic, ResetPosition::Latest).await.unwrap();
        assert_eq!(latest.iter().map(|q| q.offset).sum::<i64>(), 6, "{latest:?}");
        let ours: Vec<_> =
            latest.iter().map(|q| (q.queue.broker_name.clone(), q.queue.queue_id, q.offset, q.offset)).collect();
        assert_eq!(ours, progress(&group, &topic).await.unwrap());
    });
}

#[test]
fn reset_errors_name_the_broker() {
    let topic = ons_tests::unique_name("adm_reset_nogroup");
    rt().block_on(async {
        let admin = admin();
        create_routed(&admin, &topic, 1).await;
        // A group no broker knows anything of.
        let e = admin
            .reset_offsets(&ons_tests::unique_name("GID_adm_never"), &topic, ResetPosition::Latest)
            .await
            .unwrap_err();
        // 5.x: 26 SUBSCRIPTION_GROUP_NOT_EXIST; 4.x: 1 SYSTEM_ERROR "THe consumer group <G> not exist".
        assert!(e.message().contains("reset offsets of") && e.message().contains("on broker broker-"), "{e}");
        assert!(e.message().contains("code 26") || e.message().contains("code 1:"), "{e}");
    });
}
