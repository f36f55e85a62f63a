//! Producers against a real Apache RocketMQ cluster (started by tests/harness/rmq.sh): every
//! send mode, read back byte-exact through the broker, and the Java client as an oracle.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ons_tests::support::{hex_decode, hex_encode, new_topic, plain_props, rt};
use rocketmq_ons::admin::Admin;
use rocketmq_ons::config::keys;
use rocketmq_ons::protocol::java_hash::ons_order_queue_index;
use rocketmq_ons::{
    ErrorKind, Message, MessageQueue, OrderProducer, Producer, Properties, TransactionProducer, TransactionStatus,
};

fn binary_props(group: &str) -> Properties {
    plain_props(group).with(keys::HEADER_FORMAT, "ROCKETMQ")
}

fn binary_body() -> Vec<u8> {
    let mut body = b"\0head\0".to_vec();
    body.extend((0..=255u8).cycle().take(1000));
    body.extend_from_slice("尾部\0".as_bytes());
    body
}

#[test]
fn sync_send_reads_back_byte_exact_in_both_header_formats() {
    for (label, p) in [("json", plain_props("GID_sync_json")), ("binary", binary_props("GID_sync_bin"))] {
        let topic = new_topic("sync", 4);
        rt().block_on(async {
            let producer = Producer::new(&p).unwrap();
            producer.start().unwrap();
            let mut msg = Message::new(&topic, Some("标签A"), binary_body()).with_key("键1 key2");
            msg.put_user_property("订单", "值 ✓").unwrap();
            msg.put_user_property("plain", "v").unwrap();
            let sent = producer.send(&msg).await.unwrap();
            assert_eq!(&*sent.topic, topic.as_str());
            assert_eq!(sent.message_id.len(), 32, "{label}");

            let admin = Admin::new(&p).unwrap();
            let back = admin.view_message(&topic, &sent.offset_msg_id).await.unwrap();
            assert_eq!(back.body, msg.body, "{label}: body");
            assert_eq!(back.tag.as_deref(), Some("标签A"));
            assert_eq!(back.key.as_deref(), Some("键1 key2"));
            assert_eq!(back.msg_id.as_deref(), Some(sent.message_id.as_str()));
            assert_eq!(back.user_properties(), msg.user_properties());
            let info = back.received.as_ref().unwrap();
            assert_eq!(info.queue_id, sent.queue_id);
            assert_eq!(info.queue_offset, sent.queue_offset);

            // Brokers build the message index asynchronously (4.9.x visibly later): poll for it.
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                let by_id = admin.query_by_msg_id(&topic, &sent.message_id).await.unwrap();
                let by_key = admin.query_by_key(&topic, "key2").await.unwrap();
                let id_found = by_id.iter().any(|m| m.body == msg.body);
                let key_found = by_key.iter().any(|m| m.msg_id == back.msg_id);
                if id_found && key_found {
                    break;
                }
                assert!(Instant::now() < deadline, "{label}: query by id found {id_found}, by key {key_found}");
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
            producer.shutdown().await;
        });
    }
}

#[test]
fn large_and_compressed_bodies_round_trip() {
    let topic = new_topic("large", 4);
    rt().block_on(async {
        let p = plain_props("GID_large");
        let producer = Producer::new(&p).unwrap();
        producer.start().unwrap();
        let admin = Admin::new(&p).unwrap();

        // Incompressible 4 MiB: sent as is, at the limit.
        let mut seed = 0x1234_5678u32;
        let big: Vec<u8> = (0..4 * 1024 * 1024)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                seed as u8
            })
            .collect();
        let sent = producer.send(&Message::new(&topic, Some("big"), big.clone())).await.unwrap();
        let back = admin.view_message(&topic, &sent.offset_msg_id).await.unwrap();
        assert!(back.body == big, "4 MiB body differs");

        // Compressible 200 KiB: zlib on the wire, original bytes back.
        let text: Vec<u8> = b"compress me \0 ".iter().cycle().take(200 * 1024).copied().collect();
        let sent = producer.send(&Message::new(&topic, Some("zip"), text.clone())).await.unwrap();
        let back = admin.view_message(&topic, &sent.offset_msg_id).await.unwrap();
        assert_eq!(back.body, text);
        let sys_flag = back.received.as_ref().unwrap();
        assert!(sys_flag.commit_log_offset >= 0);
        producer.shutdown().await;
    });
}

#[test]
fn async_callback_oneway_and_batch_sends_arrive() {
    let topic = new_topic("modes", 4);
    rt().block_on(async {
        let p = plain_props("GID_modes");
        let producer = Arc::new(Producer::new(&p).unwrap());
        producer.start().unwrap();
        let admin = Admin::new(&p).unwrap();

        let a = producer.send_async(&Message::new(&topic, Some("async"), "a")).await.unwrap();
        assert_eq!(admin.view_message(&topic, &a.offset_msg_id).await.unwrap().body, "a");

        let (tx, rx) = tokio::sync::oneshot::channel();
        producer.send_with_callback(Message::new(&topic, Some("cb"), "cb"), move |r| {
            let _ = tx.send(r);
        });
        let cb = rx.await.unwrap().unwrap();
        assert_eq!(admin.view_message(&topic, &cb.offset_msg_id).await.unwrap().body, "cb");

        let key = ons_tests::unique_name("oneway");
        producer.send_oneway(&Message::new(&topic, Some("ow"), "oneway body").with_key(&key)).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let found = admin.query_by_key(&topic, &key).await.unwrap();
            if let Some(m) = found.first() {
                assert_eq!(m.body, "oneway body");
                break;
            }
            assert!(Instant::now() < deadline, "oneway message never became visible");
            tokio::time::sleep(Duration::from_millis(300)).await;
        }

        let batch: Vec<Message> =
            (0..10).map(|i| Message::new(&topic, Some("batch"), format!("batch-{i}\0"))).collect();
        let results = producer.send_batch(&batch).await.unwrap();
        assert_eq!(results.len(), 10);
        for (i, r) in results.iter().enumerate() {
            assert_eq!(r.queue_offset, results[0].queue_offset + i as i64);
            let back = admin.view_message(&topic, &r.offset_msg_id).await.unwrap();
            assert_eq!(back.body, format!("batch-{i}\0").into_bytes());
            assert_eq!(back.msg_id.as_deref(), Some(r.message_id.as_str()));
        }
        producer.shutdown().await;
        assert!(producer.is_closed());
    });
}

#[test]
fn order_producer_keeps_each_key_on_the_java_queue() {
    let topic = new_topic("order", 8);
    rt().block_on(async {
        let producer = OrderProducer::new(&binary_props("GID_order")).unwrap();
        producer.start().unwrap();
        for key in ["order-1", "order-2", "订单-3", "polygenelubricants"] {
            let mut queues = Vec::new();
            for i in 0..5 {
                let r = producer.send(&Message::new(&topic, Some("o"), format!("{key}:{i}")), key).await.unwrap();
                queues.push(r.queue_id);
            }
            assert!(queues.iter().all(|q| *q == queues[0]), "{key}: {queues:?}");
            assert_eq!(queues[0] as usize, ons_order_queue_index(key, 8), "{key}");
        }
        producer.shutdown().await;
    });
}

#[test]
fn send_to_queue_stores_on_that_queue_and_names_the_queues_it_refuses() {
    let topic = new_topic("to_queue", 4);
    rt().block_on(async {
        let props = plain_props("GID_to_queue");
        let producer = Producer::new(&props).unwrap();
        producer.start().unwrap();
        let broker = producer.send(&Message::new(&topic, Some("q"), "first")).await.unwrap().broker_name.to_string();
        let admin = Admin::new(&props).unwrap();
        for queue_id in [3, 0, 2, 1, 3] {
            let queue = MessageQueue::new(&topic, &broker, queue_id);
            let body = format!("to queue {queue_id}");
            let sent = producer.send_to_queue(&Message::new(&topic, Some("q"), body.clone()), &queue).await.unwrap();
            assert_eq!((&*sent.broker_name, sent.queue_id), (broker.as_str(), queue_id), "{sent:?}");
            // The broker's own record of where it stored the message.
            let back = admin.view_message(&topic, &sent.offset_msg_id).await.unwrap();
            assert_eq!(back.body, body.as_bytes());
            assert_eq!(back.received.as_ref().unwrap().queue_id, queue_id);
        }

        let refused = |queue: MessageQueue| {
            let producer = &producer;
            let topic = topic.clone();
            async move { producer.send_to_queue(&Message::new(&topic, None, "x"), &queue).await.unwrap_err() }
        };
        let err = refused(MessageQueue::new(&topic, &broker, 4)).await;
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
        assert!(err.message().contains(&format!("{broker}'s writable queues are 0, 1, 2, 3")), "{err}");
        assert_eq!(err.topic(), Some(topic.as_str()));
        let err = refused(MessageQueue::new(&topic, "no-such-broker", 0)).await;
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
        assert!(err.message().contains("broker no-such-broker has no writable queue"), "{err}");
        let err = refused(MessageQueue::new("OtherTopic", &broker, 0)).await;
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
        assert!(err.message().contains("\"OtherTopic\"") && err.message().contains(&topic), "{err}");
        let err = refused(MessageQueue::new(&topic, &broker, -1)).await;
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
        let missing = format!("{topic}_missing");
        let err = producer
            .send_to_queue(&Message::new(&missing, None, "x"), &MessageQueue::new(&missing, &broker, 0))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TopicNotFound, "{err}");
        assert_eq!(err.topic(), Some(missing.as_str()));
        producer.shutdown().await;
    });
}

#[test]
fn timed_message_is_not_delivered_early() {
    let topic = new_topic("timed", 4);
    let deliver_at = rt().block_on(async {
        let producer = Producer::new(&plain_props("GID_timed")).unwrap();
        producer.start().unwrap();
        let mut msg = Message::new(&topic, Some("timed"), "later");
        let at = rocketmq_ons_now_ms() + 6_000;
        msg.start_deliver_time = Some(at);
        producer.send(&msg).await.unwrap();
        producer.shutdown().await;
        at
    });
    let group = ons_tests::unique_name("GID_timed_consumer");
    let out = ons_tests::java_oracle(&[
        "consume",
        "--topic",
        &topic,
        "--group",
        &group,
        "--count",
        "1",
        "--timeout-ms",
        "120000",
        "--from-first",
    ]);
    assert!(out.status.success(), "oracle consume failed: {}", String::from_utf8_lossy(&out.stderr));
    let line = String::from_utf8_lossy(&out.stdout);
    let json: serde_json::Value = serde_json::from_str(line.lines().next().unwrap()).unwrap();
    let stored = json["storeTimestamp"].as_i64().unwrap();
    // The broker's timer works in 1 s ticks and may fire up to one tick early.
    assert!(stored >= deliver_at - 1000, "delivered at {stored}, asked for {deliver_at}");
    assert_eq!(json["properties"]["__STARTDELIVERTIME"].as_str(), Some(deliver_at.to_string().as_str()));
}

fn rocketmq_ons_now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

#[test]
fn transactions_commit_rollback_and_check_back() {
    let topic = new_topic("tx", 4);
    let checks = Arc::new(AtomicUsize::new(0));
    rt().block_on(async {
        let checks_seen = checks.clone();
        let checker = Arc::new(move |msg: Message| {
            let checks_seen = checks_seen.clone();
            async move {
                checks_seen.fetch_add(1, Ordering::SeqCst);
                if msg.key.as_deref() == Some("unknown") {
                    TransactionStatus::CommitTransaction
                } else {
                    TransactionStatus::RollbackTransaction
                }
            }
        });
        let producer =
            TransactionProducer::new(&plain_props("GID_tx").with(keys::CHECK_IMMUNITY_TIME_IN_SECONDS, "1"), checker)
                .unwrap();
        producer.start().unwrap();
        for (key, status) in [
            ("commit", TransactionStatus::CommitTransaction),
            ("rollback", TransactionStatus::RollbackTransaction),
            ("unknown", TransactionStatus::Unknow),
        ] {
            let msg = Message::new(&topic, Some("tx"), key).with_key(key);
            let r = producer.send(&msg, move |m: Message| async move {
                assert!(m.msg_id.is_some());
                status
            });
            r.await.unwrap();
        }
        // Keep the producer alive while the broker checks back the unknown transaction.
        let group = ons_tests::unique_name("GID_tx_consumer");
        let topic2 = topic.clone();
        let out = tokio::task::spawn_blocking(move || {
            ons_tests::java_oracle(&[
                "consume",
                "--topic",
                &topic2,
                "--group",
                &group,
                "--count",
                "3",
                "--timeout-ms",
                "45000",
                "--from-first",
            ])
        })
        .await
        .unwrap();
        producer.shutdown().await;
        let bodies: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .map(|j| String::from_utf8(hex_decode(j["bodyHex"].as_str().unwrap())).unwrap())
            .collect();
        // The committed and the checked-back ones, never the rolled-back one (the oracle waits its
        // whole timeout for a third). A transaction the broker checked back more than once before
        // our answer arrived is committed once per check: RocketMQ transactions are
        // at-least-once, so a duplicate of "unknown" is allowed, a missing message is not.
        let distinct: std::collections::BTreeSet<&str> = bodies.iter().map(String::as_str).collect();
        assert_eq!(
            distinct.into_iter().collect::<Vec<_>>(),
            vec!["commit", "unknown"],
            "stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(bodies.iter().filter(|b| *b == "commit").count(), 1, "{bodies:?}");
    });
    assert!(checks.load(Ordering::SeqCst) >= 1, "the broker never checked back");
}

#[test]
fn java_consumer_receives_our_messages_byte_exact() {
    let topic = new_topic("interop_out", 4);
    let mut sent = BTreeMap::new();
    rt().block_on(async {
        let producer = Producer::new(&plain_props("GID_interop_out")).unwrap();
        producer.start().unwrap();
        let compressible: Vec<u8> = b"zip\0".iter().cycle().take(10_000).copied().collect();
        for (i, body) in [binary_body(), compressible, "ü".as_bytes().to_vec()].into_iter().enumerate() {
            let mut msg = Message::new(&topic, Some(&format!("Tag{i}")), body).with_key(format!("k{i} 键"));
            msg.put_user_property("prop", format!("值{i}")).unwrap();
            let r = producer.send(&msg).await.unwrap();
            sent.insert(r.message_id, msg);
        }
        producer.shutdown().await;
    });
    let group = ons_tests::unique_name("GID_java_in");
    let out = ons_tests::java_oracle(&[
        "consume",
        "--topic",
        &topic,
        "--group",
        &group,
        "--count",
        "3",
        "--timeout-ms",
        "120000",
        "--from-first",
    ]);
    assert!(out.status.success(), "oracle: {}", String::from_utf8_lossy(&out.stderr));
    let mut seen = 0;
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let j: serde_json::Value = serde_json::from_str(line).unwrap();
        let msg = &sent[j["msgId"].as_str().unwrap()];
        assert_eq!(j["bodyHex"].as_str().unwrap(), hex_encode(&msg.body));
        assert_eq!(j["tags"].as_str(), msg.tag.as_deref());
        assert_eq!(j["keys"].as_str(), msg.key.as_deref());
        assert_eq!(j["properties"]["prop"].as_str(), msg.user_property("prop"));
        seen += 1;
    }
    assert_eq!(seen, 3);
}

#[test]
fn java_producer_messages_decode_byte_exact() {
    let topic = new_topic("interop_in", 4);
    let compressible: Vec<u8> = b"java zlib \0".iter().cycle().take(20_000).copied().collect();
    for body in [binary_body(), compressible] {
        let out = ons_tests::java_oracle(&[
            "send",
            "--topic",
            &topic,
            "--tag",
            "JTag",
            "--keys",
            "jk1 jk2",
            "--body-hex",
            &hex_encode(&body),
            "--property",
            "jprop=jvalue ✓",
        ]);
        assert!(out.status.success(), "oracle send: {}", String::from_utf8_lossy(&out.stderr));
        let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        rt().block_on(async {
            let admin = Admin::new(&plain_props("GID_admin")).unwrap();
            let back = admin.view_message(&topic, j["offsetMsgId"].as_str().unwrap()).await.unwrap();
            assert!(back.body == body, "body differs (len {} vs {})", back.body.len(), body.len());
            assert_eq!(back.tag.as_deref(), Some("JTag"));
            assert_eq!(back.key.as_deref(), Some("jk1 jk2"));
            assert_eq!(back.user_property("jprop"), Some("jvalue ✓"));
            assert_eq!(back.msg_id.as_deref(), j["msgId"].as_str());
        });
    }
}

#[test]
fn bad_input_gets_clear_errors_before_sending() {
    rt().block_on(async {
        let producer = Producer::new(&plain_props("GID_bad")).unwrap();
        let not_started = producer.send(&Message::new("T", None, "x")).await.unwrap_err();
        assert_eq!(not_started.kind(), ErrorKind::NotStarted);
        producer.start().unwrap();
        let cases: Vec<(Message, &str)> = vec![
            (Message::new("bad topic", None, "x"), "topic"),
            (Message::new("", None, "x"), "topic"),
            (Message::new("a".repeat(256), None, "x"), "255"),
            (Message::new("T", None, Vec::new()), "empty"),
            (Message::new("T", None, vec![1u8; 4 * 1024 * 1024 + 1]), "4 MiB"),
            (
                {
                    let mut m = Message::new("T", None, "x");
                    m.put_user_property("big", "v".repeat(40_000)).unwrap();
                    m
                },
                "32767",
            ),
            (
                {
                    let mut m = Message::new("T", None, "x");
                    m.start_deliver_time = Some(rocketmq_ons_now_ms() + 41 * 24 * 3600 * 1000);
                    m
                },
                "40 days",
            ),
        ];
        for (msg, needle) in cases {
            let err = producer.send(&msg).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
            assert!(err.message().contains(needle), "{err} should mention {needle}");
        }
        producer.shutdown().await;
        let after = producer.send(&Message::new("T", None, "x")).await.unwrap_err();
        assert_eq!(after.kind(), ErrorKind::NotStarted);

        let err = Producer::new(&Properties::new().with(keys::GROUP_ID, "G")).err().unwrap();
        assert!(err.message().contains("NAMESRV_ADDR"));
    });
}

#[test]
fn unreachable_name_server_fails_fast_and_clearly() {
    rt().block_on(async {
        // Port 1 on loopback: nothing listens, the connect is refused at once.
        let p = Properties::new()
            .with(keys::NAMESRV_ADDR, "127.0.0.1:1;127.0.0.1:2")
            .with(keys::GROUP_ID, "GID_unreachable")
            .with(keys::SEND_MSG_TIMEOUT_MILLIS, "2000");
        let producer = Producer::new(&p).unwrap();
        producer.start().unwrap();
        let started = Instant::now();
        let err = producer.send(&Message::new("T", None, "x")).await.unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(15), "took {:?}", started.elapsed());
        assert_eq!(err.kind(), ErrorKind::Network, "{err}");
        assert!(err.message().contains("127.0.0.1:1"), "{err}");
        producer.shutdown().await;
    });
}
