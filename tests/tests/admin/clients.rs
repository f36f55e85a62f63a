//! Requests to one client of a group through a broker, with a push consumer of this client as
//! that client: its running info against `mqadmin consumerStatus`, and consuming a message
//! directly against `mqadmin queryMsgById -g -d` (mqadmin's way of sending one).

use std::time::Duration;

use ons_tests::support::{rt, wait_for};
use rocketmq_ons::admin::DirectConsumeResult;
use rocketmq_ons::{Consumer, Message, Producer};

use super::{
    admin, consumer_props, create_routed, ids_of, is_4x, mqadmin, online_on_both, props, rows_starting_with, Recorder,
};

const SENT: usize = 8;

/// A running consumer of ours on a new topic of both brokers, its group and client id, once it
/// has consumed and committed `SENT` messages.
struct Running {
    topic: String,
    group: String,
    client_id: String,
    recorder: Recorder,
    consumer: Consumer,
    sent: Vec<rocketmq_ons::SendResult>,
}

fn start_consumer(prefix: &str, expression: &str, tag: &str) -> Running {
    let topic = ons_tests::unique_name(&format!("adm_{prefix}"));
    let group = ons_tests::unique_name(&format!("GID_adm_{prefix}"));
    let recorder = Recorder::default();
    rt().block_on(async {
        let admin = admin();
        create_routed(&admin, &topic, 2).await;
        let consumer = Consumer::new(&consumer_props(&group)).unwrap();
        consumer.subscribe(&topic, expression, recorder.listener()).unwrap();
        consumer.start().unwrap();
        let client_id = online_on_both(&admin, &group).await;
        let producer = Producer::new(&props(&format!("GID_adm_{prefix}_producer"))).unwrap();
        producer.start().unwrap();
        let mut sent = Vec::new();
        for i in 0..SENT {
            sent.push(producer.send(&Message::new(&topic, Some(tag), format!("{prefix}{i}"))).await.unwrap());
        }
        producer.shutdown().await;
        let ids = ids_of(&sent);
        wait_for("the messages consumed", Duration::from_secs(60), || async { recorder.times_each(&ids) >= 1 }).await;
        wait_for("the offsets committed", Duration::from_secs(60), || async {
            let stats = admin.consume_stats(&group, Some(&topic)).await.unwrap();
            stats.queues.iter().filter(|q| q.queue.topic == topic).map(|q| q.consumer_offset).sum::<i64>()
                == SENT as i64
        })
        .await;
        Running { topic, group, client_id, recorder, consumer, sent }
    })
}

#[test]
fn running_info_of_our_consumer_matches_mqadmin_consumer_status() {
    let r = start_consumer("status", "tagA || tagB", "tagA");
    let info = rt().block_on(async { admin().consumer_running_info(&r.group, &r.client_id).await.unwrap() });
    assert_eq!(info.consume_type(), Some("CONSUME_PASSIVELY"));
    assert!(!info.orderly());
    assert_eq!(info.properties.get("consumerGroup"), Some(&r.group), "{info:?}");
    let sub = info.subscriptions.iter().find(|s| s.topic == r.topic).expect("the topic's subscription");
    assert_eq!((sub.sub_string.as_str(), sub.tags.len()), ("tagA || tagB", 2));
    assert!(info.subscriptions.iter().any(|s| s.topic == format!("%RETRY%{}", r.group)), "{info:?}");
    let queues: Vec<_> = info.queues.iter().filter(|q| q.queue.topic == r.topic).collect();
    assert_eq!(queues.len(), 4, "{info:?}");
    assert_eq!(queues.iter().map(|q| q.commit_offset).sum::<i64>(), SENT as i64, "{info:?}");
    assert!(queues.iter().all(|q| q.cached_msg_count == 0 && !q.dropped), "{info:?}");
    // A queue that has had messages was pulled from and consumed from (an empty one's first
    // pull may still be held by its broker).
    for q in queues.iter().filter(|q| q.commit_offset > 0) {
        assert!(q.last_pull_timestamp > 0 && q.last_consume_timestamp > 0, "{q:?}");
    }

    // The group's overview: our client listed, its info analysed without a complaint. mqadmin
    // writes each client's info to `<now>/<client id>` in its working directory: removed again.
    let out = mqadmin(&["consumerStatus", "-g", &r.group]);
    remove_running_info_files(&r.client_id);
    assert!(out.lines().any(|l| l.split_whitespace().nth(1) == Some(r.client_id.as_str())), "{out}");
    assert!(out.contains("Same subscription in the same group of consumer") && out.contains("Rebalance OK"), "{out}");
    // One client in detail: the same subscriptions and offsets.
    let out = mqadmin(&["consumerStatus", "-g", &r.group, "-i", &r.client_id]);
    assert!(out.contains(&format!("SubExpression: {}", sub.sub_string)), "{out}");
    let theirs: Vec<(String, i32, i64)> = rows_starting_with(&out, &r.topic)
        .into_iter()
        .filter(|c| c.len() == 4)
        .map(|c| (c[1].to_owned(), c[2].parse().unwrap(), c[3].parse().unwrap()))
        .collect();
    let ours: Vec<(String, i32, i64)> =
        queues.iter().map(|q| (q.queue.broker_name.clone(), q.queue.queue_id, q.commit_offset)).collect();
    assert_eq!(ours, theirs, "mqadmin consumerStatus -i:\n{out}");
    rt().block_on(r.consumer.shutdown());
    let _ = (&r.recorder, &r.sent);
}

#[test]
fn running_info_of_a_client_not_online_names_the_online_ones() {
    rt().block_on(async {
        let group = ons_tests::unique_name("GID_adm_nobody_status");
        let e = admin().consumer_running_info(&group, "192.0.2.1@1").await.unwrap_err();
        assert!(e.message().contains("192.0.2.1@1") && e.message().contains("online: none"), "{e}");
    });
}

#[test]
fn our_consumer_consumes_a_message_directly() {
    // Subscribed to tagA only: the tagC messages below reach the listener only when sent
    // directly (which, as in Java clients, does not filter by tag).
    let r = start_consumer("direct", "tagA", "tagA");
    let sent: Vec<rocketmq_ons::SendResult> = rt().block_on(async {
        let producer = Producer::new(&props("GID_adm_direct_extra_producer")).unwrap();
        producer.start().unwrap();
        let mut sent = Vec::new();
        for body in ["fine", "later", "panic"] {
            sent.push(producer.send(&Message::new(&r.topic, Some("tagC"), body)).await.unwrap());
        }
        producer.shutdown().await;
        sent
    });
    let delivered = |id: &str| r.recorder.deliveries().iter().filter(|d| *d == id).count();
    assert!(sent.iter().all(|s| delivered(&s.message_id) == 0), "tagC delivered normally");

    let admin = admin_in_runtime;
    let direct =
        |id: &str| rt().block_on(admin().consume_message_directly(&r.group, &r.client_id, &r.topic, id)).unwrap();
    // By unique key (looked up in the index, which may lag a moment behind) and by offset id.
    let fine = {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            match rt().block_on(admin().consume_message_directly(&r.group, &r.client_id, &r.topic, &sent[0].message_id))
            {
                Ok(result) => break result,
                Err(e) if std::time::Instant::now() < deadline => {
                    eprintln!("not yet: {e}");
                    std::thread::sleep(Duration::from_millis(500));
                }
                Err(e) => panic!("{e}"),
            }
        }
    };
    assert_eq!(
        (fine.result, fine.order, fine.auto_commit, fine.remark.as_deref()),
        (Some(DirectConsumeResult::Success), false, true, None)
    );
    assert!(fine.spent_time_ms >= 0);
    let later = direct(&sent[1].offset_msg_id);
    assert_eq!(later.result, Some(DirectConsumeResult::Later), "{later:?}");
    let panicked = direct(&sent[2].offset_msg_id);
    assert_eq!(panicked.result, Some(DirectConsumeResult::ThrowException), "{panicked:?}");
    assert!(panicked.remark.as_deref().is_some_and(|r| r.contains("asked to panic")), "{panicked:?}");
    assert_eq!(
        (delivered(&sent[0].message_id), delivered(&sent[1].message_id), delivered(&sent[2].message_id)),
        (1, 1, 1)
    );

    // mqadmin sends one the same way (4.9.7's queryMsgById takes no topic).
    let id = &sent[0].offset_msg_id;
    let out = if is_4x() {
        mqadmin(&["queryMsgById", "-i", id, "-g", &r.group, "-d", &r.client_id])
    } else {
        mqadmin(&["queryMsgById", "-t", &r.topic, "-i", id, "-g", &r.group, "-d", &r.client_id])
    };
    assert!(
        out.contains("consumeResult=CR_SUCCESS") && out.contains("order=false"),
        "mqadmin queryMsgById -g -d:\n{out}"
    );
    assert_eq!(delivered(&sent[0].message_id), 2, "{out}");

    // A client that is not online, and a message that does not exist, are named.
    let e = rt().block_on(admin().consume_message_directly(&r.group, "192.0.2.1@1", &r.topic, id)).unwrap_err();
    assert!(e.message().contains("192.0.2.1@1"), "{e}");
    rt().block_on(r.consumer.shutdown());
}

#[test]
fn a_java_consumer_answers_our_requests() {
    let topic = ons_tests::unique_name("adm_java_client");
    let group = ons_tests::unique_name("GID_adm_java_client");
    rt().block_on(create_routed(&admin_in_runtime(), &topic, 2));
    // The official Java push consumer, until it has had two deliveries (or 90 s): the message
    // sent below, and the same message again when consumed directly.
    let java = super::spawn_java_consumer(&topic, &group, &["--count", "2", "--timeout-ms", "90000"]);
    let (client_id, info, sent) = rt().block_on(async {
        let admin = admin();
        let client_id = online_on_both(&admin, &group).await;
        // Its running info once it has taken the topic's queues (before that a message sent
        // could be skipped: it starts a new group at the queues' last offset).
        wait_for("the Java consumer's queues in its running info", Duration::from_secs(60), || async {
            let info = admin.consumer_running_info(&group, &client_id).await.unwrap();
            info.queues.iter().filter(|q| q.queue.topic == topic).count() == 4
        })
        .await;
        let info = admin.consumer_running_info(&group, &client_id).await.unwrap();
        let producer = Producer::new(&props("GID_adm_java_client_producer")).unwrap();
        producer.start().unwrap();
        let sent = producer.send(&Message::new(&topic, Some("tagA"), "to java")).await.unwrap();
        producer.shutdown().await;
        (client_id, info, sent)
    });
    assert_eq!(info.consume_type(), Some("CONSUME_PASSIVELY"), "{info:?}");
    assert_eq!(info.properties.get("consumerGroup"), Some(&group), "{info:?}");
    assert!(info.subscriptions.iter().any(|s| s.topic == topic && s.sub_string == "*"), "{info:?}");
    // Java clients measure their rates per topic.
    assert!(info.status.contains_key(&topic), "{info:?}");

    let result = rt()
        .block_on(admin_in_runtime().consume_message_directly(&group, &client_id, &topic, &sent.offset_msg_id))
        .unwrap();
    assert_eq!((result.result, result.order), (Some(DirectConsumeResult::Success), false), "{result:?}");
    let out = java.join().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let deliveries = stdout.lines().filter(|l| l.contains(&sent.message_id)).count();
    assert_eq!(deliveries, 2, "the Java consumer's deliveries:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
}

/// An admin handle, made within the tests' runtime from outside it.
fn admin_in_runtime() -> rocketmq_ons::admin::Admin {
    let _runtime = rt().enter();
    admin()
}

/// The `<millis>/<client id>` files `mqadmin consumerStatus -g` leaves in the working directory.
fn remove_running_info_files(client_id: &str) {
    let Ok(entries) = std::fs::read_dir(".") else { return };
    for dir in entries.flatten().map(|e| e.path()) {
        let numeric = dir.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()));
        if numeric && dir.join(client_id).is_file() {
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}
