//! Compressed bodies between this client and the official Java client (the oracle, Apache
//! RocketMQ's `rocketmq-client` 5.x), both ways, for every compression type the Java 5.x
//! producer writes (`compressType` ZLIB, LZ4, ZSTD): the body arrives byte-exact, and the
//! broker stored it compressed with that type (the type bits Java's consumer reports in
//! `sysFlag`). And a stored message this client cannot decode is never skipped: it is handed
//! back to the broker, goes through the group's retry topic and ends in its dead-letter queue.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ons_tests::support::{hex_encode, new_topic, plain_props, rt};
use rocketmq_ons::admin::Admin;
use rocketmq_ons::client::ClientInstance;
use rocketmq_ons::config::{keys, ClientConfig};
use rocketmq_ons::protocol::headers::{RequestHeader, SendMessageRequestHeader};
use rocketmq_ons::{Action, ConsumeContext, Consumer, Message, Producer};

/// (our property value, Java oracle `--compress-type`, the type bits of the stored sys flag).
const TYPES: [(&str, &str, i64); 3] = [("ZLIB", "ZLIB", 0x300), ("LZ4", "LZ4", 0x100), ("ZSTD", "ZSTD", 0x200)];

/// A compressible body of its own per type (so a mix-up shows).
fn body_for(kind: &str) -> Vec<u8> {
    format!("{kind} body \u{0} with a binary zero and ü; ").into_bytes().into_iter().cycle().take(20_000).collect()
}

fn oracle_lines(out: &std::process::Output, what: &str) -> Vec<serde_json::Value> {
    assert!(out.status.success(), "oracle {what}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// The sys flag Java's consumer reports for the stored message (it clears the COMPRESSED bit
/// and keeps the type bits).
fn java_view_sys_flag(topic: &str, offset_msg_id: &str) -> i64 {
    let out = ons_tests::java_oracle(&["view", "--topic", topic, "--offset-msg-id", offset_msg_id]);
    oracle_lines(&out, "view")[0]["sysFlag"].as_i64().expect("view prints sysFlag")
}

#[test]
fn java_compressed_messages_are_consumed_byte_exact_for_every_type() {
    let topic = new_topic("java_compressed", 2);
    let mut sent: BTreeMap<String, (&str, Vec<u8>)> = BTreeMap::new();
    for (kind, java_kind, bits) in TYPES {
        let body = body_for(kind);
        let out = ons_tests::java_oracle(&[
            "send",
            "--topic",
            &topic,
            "--tag",
            kind,
            "--compress-type",
            java_kind,
            "--compress-level",
            "3",
            "--body-hex",
            &hex_encode(&body),
        ]);
        let j = &oracle_lines(&out, "send")[0];
        let offset_msg_id = j["offsetMsgId"].as_str().unwrap();
        assert_eq!(java_view_sys_flag(&topic, offset_msg_id) & 0x700, bits, "{kind}: the broker stored another type");
        sent.insert(j["msgId"].as_str().unwrap().to_owned(), (kind, body));
    }

    let received: Arc<Mutex<BTreeMap<String, Vec<u8>>>> = Arc::default();
    let log = received.clone();
    let consumer = Consumer::new(
        &plain_props(&ons_tests::unique_name("GID_compressed_in"))
            .with(keys::CONSUME_FROM_WHERE, "CONSUME_FROM_FIRST_OFFSET")
            .with(keys::INSTANCE_NAME, ons_tests::unique_name("compressed_in")),
    )
    .unwrap();
    consumer
        .subscribe(
            &topic,
            "*",
            Arc::new(move |m: &Message, _: &ConsumeContext| {
                log.lock().unwrap().insert(m.msg_id.clone().unwrap_or_default(), m.body.to_vec());
                Action::CommitMessage
            }),
        )
        .unwrap();
    rt().block_on(async { consumer.start() }).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while received.lock().unwrap().len() < sent.len() {
        assert!(Instant::now() < deadline, "consumed only {:?}", received.lock().unwrap().keys());
        std::thread::sleep(Duration::from_millis(200));
    }
    rt().block_on(consumer.shutdown());
    let received = received.lock().unwrap();
    for (id, (kind, body)) in &sent {
        let got = received.get(id).unwrap_or_else(|| panic!("{kind} message {id} not consumed"));
        assert!(got == body, "{kind}: body differs ({} bytes vs {})", got.len(), body.len());
    }
}

#[test]
fn our_compressed_messages_reach_the_java_consumer_byte_exact_for_every_type() {
    let topic = new_topic("our_compressed", 2);
    let mut sent: BTreeMap<String, (&str, Vec<u8>)> = BTreeMap::new();
    for (kind, _, bits) in TYPES {
        let body = body_for(kind);
        let p = plain_props("GID_compressed_out")
            .with(keys::COMPRESS_TYPE, kind)
            .with(keys::INSTANCE_NAME, ons_tests::unique_name("compressed_out"));
        let result = rt().block_on(async {
            let producer = Producer::new(&p).unwrap();
            producer.start().unwrap();
            let r = producer.send(&Message::new(&topic, Some(kind), body.clone())).await.unwrap();
            producer.shutdown().await;
            r
        });
        assert_eq!(java_view_sys_flag(&topic, &result.offset_msg_id) & 0x700, bits, "{kind}: stored as another type");
        sent.insert(result.message_id, (kind, body));
    }
    let out = ons_tests::java_oracle(&[
        "consume",
        "--topic",
        &topic,
        "--group",
        &ons_tests::unique_name("GID_java_compressed"),
        "--count",
        "3",
        "--timeout-ms",
        "120000",
        "--from-first",
    ]);
    let lines = oracle_lines(&out, "consume");
    assert_eq!(lines.len(), 3);
    for j in lines {
        let (kind, body) = &sent[j["msgId"].as_str().unwrap()];
        assert_eq!(j["bodyHex"].as_str().unwrap(), hex_encode(body), "{kind}: the Java consumer read another body");
    }
}

/// Stores a message whose sys flag says "compressed with type 4" (no such type): what a future
/// producer, or a corrupted one, could leave in a queue. Sent raw, as no producer would.
async fn store_undecodable(topic: &str) -> String {
    let p = plain_props("GID_undecodable_producer");
    let instance = ClientInstance::get_or_create(&ClientConfig::from_properties(&p, true).unwrap());
    let route = instance.fetch_route(topic).await.unwrap();
    let queue = &route.publish_queues[0];
    let addr = route.data.master_addr(&queue.broker_name).unwrap().to_owned();
    let uniq = ons_tests::unique_name("UNDECODABLE").to_uppercase();
    let properties = format!("UNIQ_KEY\u{1}{uniq}\u{2}WAIT\u{1}true\u{2}");
    let cmd = SendMessageRequestHeader {
        // Compressed (0x1), compression type 4 (bits 8..10): no such type.
        sys_flag: 0x1 | 0x400,
        ..SendMessageRequestHeader::new(
            "GID_undecodable_producer",
            topic,
            queue.queue_id,
            &queue.broker_name,
            &properties,
            1_700_000_000_000,
        )
    }
    .command()
    .with_body(b"not a compressed body of any known kind".to_vec());
    let resp = instance.invoke(&addr, cmd, Duration::from_secs(5)).await.unwrap();
    assert_eq!(resp.code, 0, "the broker stores it: {:?}", resp.remark);
    uniq
}

/// Messages stored in `topic` on all its queues (max offsets summed), polled until `expected`.
async fn wait_stored(admin: &Admin, topic: &str, expected: i64, within: Duration) -> i64 {
    let deadline = Instant::now() + within;
    loop {
        // A retry or dead-letter topic appears in the route only once the broker made it.
        let stored = admin.max_offsets(topic).await.map(|o| o.iter().map(|(_, _, n)| n).sum()).unwrap_or(0);
        if stored >= expected || Instant::now() >= deadline {
            return stored;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[test]
fn a_message_that_does_not_decode_ends_in_the_dead_letter_queue_not_skipped() {
    let topic = new_topic("undecodable", 2);
    let group = ons_tests::unique_name("GID_undecodable");
    let received: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
    let log = received.clone();
    let consumer = Consumer::new(
        &plain_props(&group)
            .with(keys::CONSUME_FROM_WHERE, "CONSUME_FROM_FIRST_OFFSET")
            .with(keys::MAX_RECONSUME_TIMES, "1")
            .with(keys::INSTANCE_NAME, ons_tests::unique_name("undecodable")),
    )
    .unwrap();
    consumer
        .subscribe(
            &topic,
            "*",
            Arc::new(move |m: &Message, _: &ConsumeContext| {
                log.lock().unwrap().push(m.body.to_vec());
                Action::CommitMessage
            }),
        )
        .unwrap();
    rt().block_on(async {
        let producer = Producer::new(&plain_props("GID_undecodable_neighbours")).unwrap();
        producer.start().unwrap();
        producer.send(&Message::new(&topic, None, "before")).await.unwrap();
        store_undecodable(&topic).await;
        producer.send(&Message::new(&topic, None, "after")).await.unwrap();
        producer.shutdown().await;
        consumer.start().unwrap();

        let admin = Admin::new(&plain_props("GID_compression_admin")).unwrap();
        // Handed back once (to the retry topic, delivered again after 10 s), then again: with
        // MaxReconsumeTimes 1 the broker moves it to the dead-letter queue.
        let retried = wait_stored(&admin, &format!("%RETRY%{group}"), 1, Duration::from_secs(60)).await;
        assert_eq!(retried, 1, "the undecodable message was not handed back to the retry topic");
        let dead = wait_stored(&admin, &format!("%DLQ%{group}"), 1, Duration::from_secs(90)).await;
        assert_eq!(dead, 1, "the undecodable message never reached the dead-letter queue");
        let mut got = received.lock().unwrap().clone();
        got.sort();
        assert_eq!(got, vec![b"after".to_vec(), b"before".to_vec()], "the neighbours are delivered, once each");
        consumer.shutdown().await;
    });
}
