//! Message traces (`MsgTraceSwitch`, on by default) checked with the official Java tools on the
//! same cluster: what our producer and consumer write to `RMQ_SYS_TRACE_TOPIC` is found and
//! decoded by the Java client's `TraceDataEncoder` (the oracle's `traces`) and shown by `mqadmin
//! queryMsgTraceById`; what the Java client writes is read back by our Admin as typed records.
//!
//! Needs a cluster whose brokers create the trace topic: `--broker-conf traceTopicEnable=true`
//! (tests/run.sh starts the suite's cluster so).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ons_tests::support::{capture_logs, captured_logs, new_topic, plain_props, rt, wait_for};
use ons_tests::OwnCluster;
use rocketmq_ons::admin::Admin;
use rocketmq_ons::config::keys;
use rocketmq_ons::trace::record::TraceMessageType;
use rocketmq_ons::trace::{TraceCounts, TraceRecord};
use rocketmq_ons::{
    Action, ConsumeContext, Consumer, Message, Producer, Properties, PullConsumer, TransactionProducer,
    TransactionStatus,
};

fn oracle_traces(msg_id: &str, min: usize) -> Vec<serde_json::Value> {
    oracle_traces_in("RMQ_SYS_TRACE_TOPIC", msg_id, min)
}

fn oracle_traces_in(trace_topic: &str, msg_id: &str, min: usize) -> Vec<serde_json::Value> {
    let out =
        ons_tests::java_oracle(&["traces", "--topic", trace_topic, "--msg-id", msg_id, "--min", &min.to_string()]);
    let lines: Vec<serde_json::Value> =
        String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(
        out.status.success(),
        "oracle traces {msg_id}: found {lines:?}; stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    lines
}

fn of_type<'a>(lines: &'a [serde_json::Value], t: &str) -> Vec<&'a serde_json::Value> {
    lines.iter().filter(|l| l["type"] == t).collect()
}

/// A started consumer with `props` of every message of `topic` from its first, committing each;
/// the count of messages it was handed.
fn started_counting_consumer(props: Properties, topic: &str) -> (Consumer, Arc<AtomicUsize>) {
    let consumed = Arc::new(AtomicUsize::new(0));
    let consumer = Consumer::new(&props.with(keys::CONSUME_FROM_WHERE, "FIRST")).unwrap();
    let c = consumed.clone();
    let count = Arc::new(move |_m: &Message, _c: &ConsumeContext| {
        c.fetch_add(1, Ordering::SeqCst);
        Action::CommitMessage
    });
    consumer.subscribe(topic, "*", count).unwrap();
    consumer.start().unwrap();
    (consumer, consumed)
}

#[test]
fn our_producer_and_consumer_traces_are_read_by_the_java_decoder_and_mqadmin() {
    let topic = new_topic("trace", 2);
    let producer_group = ons_tests::unique_name("GID_trace_p");
    let consumer_group = ons_tests::unique_name("GID_trace_c");
    rt().block_on(async {
        let (consumer, consumed) = started_counting_consumer(plain_props(&consumer_group), &topic);
        let producer = Producer::new(&plain_props(&producer_group)).unwrap();
        producer.start().unwrap();
        let msg = Message::new(&topic, Some("TagT"), "traced body").with_key("kA kB");
        let sent = producer.send(&msg).await.unwrap();
        wait_for("the message consumed", Duration::from_secs(60), || async { consumed.load(Ordering::SeqCst) >= 1 })
            .await;

        // The Java decoder reads every record of ours about the message.
        let id = sent.message_id.clone();
        let lines = tokio::task::spawn_blocking(move || oracle_traces(&id, 3)).await.unwrap();
        let pubs = of_type(&lines, "Pub");
        assert_eq!(pubs.len(), 1, "{lines:?}");
        let p = pubs[0];
        assert_eq!(p["topic"], topic.as_str());
        assert_eq!(p["tags"], "TagT");
        assert_eq!(p["keys"], "kA kB");
        assert_eq!(p["groupName"], producer_group.as_str());
        assert_eq!(p["success"], true);
        assert_eq!(p["msgType"], "Normal_Msg");
        assert_eq!(p["bodyLength"], 11);
        assert_eq!(p["offsetMsgId"], sent.offset_msg_id.as_str());
        assert!(p["storeHost"].as_str().unwrap().contains(':'), "{p}");
        assert!(p["costTime"].as_i64().unwrap() >= 0);
        assert!(!p["regionId"].as_str().unwrap().is_empty());
        // The trace message is keyed by the message id and its keys (what the index finds).
        let trace_keys = p["traceMessageKeys"].as_str().unwrap();
        for k in [sent.message_id.as_str(), "kA", "kB"] {
            assert!(trace_keys.split(' ').any(|x| x == k), "{trace_keys:?} lacks {k}");
        }
        let before = of_type(&lines, "SubBefore");
        let after = of_type(&lines, "SubAfter");
        assert_eq!((before.len(), after.len()), (1, 1), "{lines:?}");
        assert_eq!(before[0]["groupName"], consumer_group.as_str());
        assert_eq!(before[0]["keys"], "kA kB");
        assert_eq!(before[0]["retryTimes"], 0);
        assert_eq!(after[0]["requestId"], before[0]["requestId"]);
        assert_eq!(after[0]["groupName"], consumer_group.as_str());
        assert_eq!((after[0]["success"].clone(), after[0]["contextCode"].clone()), (true.into(), 0.into()));
        assert!(after[0]["timeStamp"].as_i64().unwrap() >= before[0]["timeStamp"].as_i64().unwrap());

        // mqadmin shows the producer's and the consumer's line.
        let id = sent.message_id.clone();
        let out =
            tokio::task::spawn_blocking(move || ons_tests::mqadmin(&["queryMsgTraceById", "-i", &id])).await.unwrap();
        let pub_line = out.lines().find(|l| l.starts_with("Pub ")).unwrap_or_else(|| panic!("no Pub line:\n{out}"));
        let fields: Vec<&str> = pub_line.split_whitespace().collect();
        // Pub, group, client host, date, time, cost, status.
        assert_eq!(fields[1], producer_group);
        // The client host is the trace message's born host (an address, no port).
        assert!(fields[2].parse::<std::net::IpAddr>().is_ok(), "client host: {pub_line}");
        assert_eq!(fields.last(), Some(&"success"), "{pub_line}");
        assert!(fields[5].ends_with("ms"), "{pub_line}");
        let sub_line = out.lines().find(|l| l.starts_with("Sub ")).unwrap_or_else(|| panic!("no Sub line:\n{out}"));
        let fields: Vec<&str> = sub_line.split_whitespace().collect();
        assert_eq!(fields[1], consumer_group);
        assert!(fields[2].parse::<std::net::IpAddr>().is_ok(), "client host: {sub_line}");
        assert_eq!(fields.last(), Some(&"success"), "{sub_line}");

        // Our Admin reads the same records back, typed.
        let admin = Admin::new(&plain_props("GID_trace_admin")).unwrap();
        let records = admin.message_traces(&sent.message_id, None).await.unwrap();
        assert!(
            records.iter().any(|r| matches!(r, TraceRecord::Pub(p) if p.group == producer_group
                && p.tags.as_deref() == Some("TagT") && p.msg_type == TraceMessageType::Normal)),
            "{records:?}"
        );
        assert!(records
            .iter()
            .any(|r| matches!(r, TraceRecord::SubAfter(s) if s.group == consumer_group && s.success)));

        producer.shutdown().await;
        consumer.shutdown().await;
        // Every record was sent: the producer's Pub, the consumer's SubBefore and SubAfter.
        assert_eq!(producer.trace_counts(), Some(TraceCounts { sent: 1, dropped: 0 }));
        let consumed = consumer.trace_counts().unwrap();
        assert!(consumed.sent >= 2 && consumed.dropped == 0, "{consumed:?}");
    });
}

#[test]
fn java_client_traces_are_read_by_our_admin_as_typed_records() {
    let topic = new_topic("trace_java", 2);
    let group = ons_tests::unique_name("GID_trace_java");
    let out = ons_tests::java_oracle(&[
        "send", "--topic", &topic, "--tag", "TagJ", "--keys", "kJ", "--group", &group, "--trace", "--body", "hello",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let sent: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().next().unwrap()).unwrap();
    let msg_id = sent["msgId"].as_str().unwrap().to_owned();
    rt().block_on(async {
        let admin = Admin::new(&plain_props("GID_trace_admin")).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let records = loop {
            let records = admin.message_traces(&msg_id, None).await.unwrap_or_default();
            if !records.is_empty() {
                break records;
            }
            assert!(std::time::Instant::now() < deadline, "no trace of the Java client's message {msg_id}");
            tokio::time::sleep(Duration::from_millis(300)).await;
        };
        let [TraceRecord::Pub(p)] = records.as_slice() else { panic!("{records:?}") };
        assert_eq!((p.topic.as_str(), p.group.as_str()), (topic.as_str(), group.as_str()));
        assert_eq!((p.tags.as_deref(), p.keys.as_deref()), (Some("TagJ"), Some("kJ")));
        assert_eq!(p.offset_msg_id, sent["offsetMsgId"].as_str().unwrap());
        assert_eq!((p.body_length, p.success, p.msg_type), (5, true, TraceMessageType::Normal));
    });
}

#[test]
fn transactions_write_end_transaction_records_and_the_switch_turns_traces_off() {
    let topic = new_topic("trace_tx", 2);
    let tx_group = ons_tests::unique_name("GID_trace_tx");
    let off_group = ons_tests::unique_name("GID_trace_off");
    rt().block_on(async {
        let checker = Arc::new(|_m: Message| async { TransactionStatus::CommitTransaction });
        let tx = TransactionProducer::new(&plain_props(&tx_group), checker).unwrap();
        tx.start().unwrap();
        let committed = tx
            .send(&Message::new(&topic, Some("TagX"), "tx").with_key("kX"), |_m: Message| async {
                TransactionStatus::CommitTransaction
            })
            .await
            .unwrap();
        let off = Producer::new(&plain_props(&off_group).with(keys::MSG_TRACE_SWITCH, "false")).unwrap();
        off.start().unwrap();
        let untraced = off.send(&Message::new(&topic, None, "untraced")).await.unwrap();
        // Shutdown flushes what is queued.
        tx.shutdown().await;
        off.shutdown().await;

        let id = committed.message_id.clone();
        let lines = tokio::task::spawn_blocking(move || oracle_traces(&id, 2)).await.unwrap();
        let p = of_type(&lines, "Pub");
        assert_eq!(p.len(), 1, "{lines:?}");
        assert_eq!(
            (p[0]["msgType"].clone(), p[0]["groupName"].clone()),
            ("Trans_Msg_Half".into(), tx_group.clone().into())
        );
        let end = of_type(&lines, "EndTransaction");
        assert_eq!(end.len(), 1, "{lines:?}");
        assert_eq!(end[0]["transactionState"], "COMMIT_MESSAGE");
        assert_eq!(end[0]["fromTransactionCheck"], false);
        assert_eq!(end[0]["msgType"], "Trans_msg_Commit");
        assert_eq!((end[0]["tags"].clone(), end[0]["keys"].clone()), ("TagX".into(), "kX".into()));
        assert_eq!(end[0]["topic"], topic.as_str());

        // The producer with MsgTraceSwitch=false wrote nothing: by the time the traced
        // producer's records (flushed at the same shutdown) are indexed, none of its are.
        let admin = Admin::new(&plain_props("GID_trace_admin")).unwrap();
        assert_eq!(admin.message_traces(&untraced.message_id, None).await.unwrap(), vec![]);
    });
}

#[test]
fn without_the_trace_topic_nothing_fails_slows_or_floods_the_log() {
    capture_logs();
    // Brokers as shipped: no trace topic (traceTopicEnable=false), and none created on first
    // send either.
    let cluster =
        OwnCluster::start(&["--broker-conf", "autoCreateTopicEnable=false"]).unwrap_or_else(|e| panic!("{e}"));
    let props = |group: &str| Properties::new().with(keys::NAMESRV_ADDR, &cluster.namesrv).with(keys::GROUP_ID, group);
    let topic = ons_tests::unique_name("trace_missing");
    // Created by mqadmin: our Admin creates topics after TBW102's route, which this cluster lacks.
    let out = cluster.mqadmin(&["updateTopic", "-c", "DefaultCluster", "-t", &topic, "-r", "2", "-w", "2"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("success"), "{out:?}");
    rt().block_on(async {
        let admin = Admin::new(&props("GID_trace_admin")).unwrap();
        wait_for("the topic's route", Duration::from_secs(60), || async {
            admin.max_offsets(&topic).await.is_ok_and(|o| !o.is_empty())
        })
        .await;
        let consumed = Arc::new(AtomicUsize::new(0));
        let consumer = Consumer::new(&props("GID_trace_missing_c").with(keys::CONSUME_FROM_WHERE, "FIRST")).unwrap();
        let c = consumed.clone();
        consumer
            .subscribe(
                &topic,
                "*",
                Arc::new(move |_m: &Message, _c: &ConsumeContext| {
                    c.fetch_add(1, Ordering::SeqCst);
                    Action::CommitMessage
                }),
            )
            .unwrap();
        consumer.start().unwrap();
        let producer = Producer::new(&props("GID_trace_missing_p")).unwrap();
        producer.start().unwrap();
        let started = std::time::Instant::now();
        for i in 0..200 {
            producer.send(&Message::new(&topic, None, format!("m{i}"))).await.unwrap();
            if i % 50 == 0 {
                // Let the trace batches of the sends so far go out (and fail) in between.
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        }
        let sending = started.elapsed();
        wait_for("all consumed", Duration::from_secs(60), || async { consumed.load(Ordering::SeqCst) >= 200 }).await;
        let t = std::time::Instant::now();
        producer.shutdown().await;
        consumer.shutdown().await;
        let shutdown = t.elapsed();
        assert!(shutdown < Duration::from_secs(8), "shutdown took {shutdown:?}");
        // No trace topic: nothing was sent, and what was not left queued at shutdown was dropped.
        let counts = producer.trace_counts().unwrap();
        assert!(counts.sent == 0 && counts.dropped > 0, "{counts:?}");
        assert!(sending < Duration::from_secs(20), "200 sends took {sending:?}");
    });
    let logs = captured_logs();
    let warnings: Vec<&str> =
        logs.lines().filter(|l| l.contains("WARN") && l.contains("message trace topic not found")).collect();
    // One line per call site per 10 s at most, whatever the number of records dropped.
    assert!(!warnings.is_empty() && warnings.len() <= 4, "{warnings:#?}");
}

#[test]
fn a_custom_trace_topic_gets_the_traces() {
    let topic = new_topic("trace_ct", 1);
    let trace_topic = new_topic("trace_custom", 1);
    let group = ons_tests::unique_name("GID_trace_ct");
    rt().block_on(async {
        let producer = Producer::new(&plain_props(&group).with(keys::TRACE_TOPIC_NAME, &trace_topic)).unwrap();
        producer.start().unwrap();
        let sent = producer.send(&Message::new(&topic, Some("TagC"), "custom")).await.unwrap();
        producer.shutdown().await;
        let (id, tt) = (sent.message_id.clone(), trace_topic.clone());
        let lines = tokio::task::spawn_blocking(move || oracle_traces_in(&tt, &id, 1)).await.unwrap();
        assert_eq!(of_type(&lines, "Pub").len(), 1, "{lines:?}");
        assert_eq!(lines[0]["groupName"], group.as_str());
        let (id, tt) = (sent.message_id.clone(), trace_topic.clone());
        let out = tokio::task::spawn_blocking(move || ons_tests::mqadmin(&["queryMsgTraceById", "-t", &tt, "-i", &id]))
            .await
            .unwrap();
        assert!(out.lines().any(|l| l.starts_with("Pub ") && l.contains(group.as_str())), "{out}");
        let admin = Admin::new(&plain_props("GID_trace_admin")).unwrap();
        assert_eq!(admin.message_traces(&sent.message_id, Some(&trace_topic)).await.unwrap().len(), 1);
        // Nothing of it in the default trace topic.
        assert_eq!(admin.message_traces(&sent.message_id, None).await.unwrap(), vec![]);
    });
}

#[test]
fn batch_sends_and_pull_consumer_polls_are_traced_per_message() {
    let topic = new_topic("trace_batch", 1);
    let producer_group = ons_tests::unique_name("GID_trace_bp");
    let pull_group = ons_tests::unique_name("GID_trace_pc");
    rt().block_on(async {
        let producer = Producer::new(&plain_props(&producer_group)).unwrap();
        producer.start().unwrap();
        let batch: Vec<Message> = (0..3)
            .map(|i| {
                Message::new(&topic, Some(&format!("Tag{i}")), format!("batch body {i}")).with_key(format!("bk{i}"))
            })
            .collect();
        let sent = producer.send_batch(&batch).await.unwrap();
        assert_eq!(sent.len(), 3);

        let consumer = PullConsumer::new(
            &plain_props(&pull_group)
                .with(keys::CONSUME_FROM_WHERE, "CONSUME_FROM_FIRST_OFFSET")
                .with(keys::AUTO_COMMIT, "false"),
        )
        .unwrap();
        consumer.start().unwrap();
        let queues = consumer.topic_partitions(&topic).await.unwrap();
        consumer.assign(&queues).unwrap();
        let mut polled = Vec::new();
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while polled.len() < 3 {
            assert!(std::time::Instant::now() < deadline, "only {} of 3 messages polled in 60 s", polled.len());
            polled.extend(consumer.poll(Duration::from_millis(500)).await.unwrap());
        }

        // Each message of the batch has its own Pub record (found by its own id), and the
        // pull consumer's SubBefore/SubAfter pair, as Java's lite pull consumer writes them.
        for (i, s) in sent.iter().enumerate() {
            let id = s.message_id.clone();
            let lines = tokio::task::spawn_blocking(move || oracle_traces(&id, 3)).await.unwrap();
            let pubs = of_type(&lines, "Pub");
            assert_eq!(pubs.len(), 1, "{lines:?}");
            let p = pubs[0];
            assert_eq!(p["groupName"], producer_group.as_str());
            assert_eq!(p["tags"], format!("Tag{i}"));
            assert_eq!(p["keys"], format!("bk{i}"));
            assert_eq!(p["bodyLength"], format!("batch body {i}").len());
            assert_eq!(p["offsetMsgId"], s.offset_msg_id.as_str());
            assert_eq!((p["msgType"].clone(), p["success"].clone()), ("Normal_Msg".into(), true.into()));
            let before = of_type(&lines, "SubBefore");
            let after = of_type(&lines, "SubAfter");
            assert_eq!((before.len(), after.len()), (1, 1), "{lines:?}");
            assert_eq!(before[0]["groupName"], pull_group.as_str());
            assert_eq!(after[0]["requestId"], before[0]["requestId"]);
            assert_eq!((after[0]["success"].clone(), after[0]["contextCode"].clone()), (true.into(), 0.into()));
        }
        let id = sent[1].message_id.clone();
        let out =
            tokio::task::spawn_blocking(move || ons_tests::mqadmin(&["queryMsgTraceById", "-i", &id])).await.unwrap();
        assert!(out.lines().any(|l| l.starts_with("Pub ") && l.contains(producer_group.as_str())), "{out}");
        assert!(out.lines().any(|l| l.starts_with("Sub ") && l.contains(pull_group.as_str())), "{out}");
        producer.shutdown().await;
        consumer.shutdown().await;
        assert_eq!(producer.trace_counts(), Some(TraceCounts { sent: 3, dropped: 0 }));
        // A SubBefore and a SubAfter per polled message, all stored (the oracle read them).
        assert_eq!(consumer.trace_counts(), Some(TraceCounts { sent: 6, dropped: 0 }));
    });
}

/// `AccessChannel=CLOUD` (Alibaba Cloud's trace topics): our producer's and consumer's records
/// go to `rmq_sys_TRACE_DATA_<region>` (the brokers' region, `DefaultRegion` unless configured),
/// `SubAfter` records in the cloud form, read there by the Java decoder and `mqadmin`; the Java
/// client with the same channel writes to the same topic, and our Admin reads its records.
/// The brokers create the topic on its first send (`autoCreateTopicEnable`, as the harness sets).
#[test]
fn the_cloud_access_channel_sends_traces_to_the_region_s_topic() {
    const CLOUD_TRACE_TOPIC: &str = "rmq_sys_TRACE_DATA_DefaultRegion";
    let topic = new_topic("trace_cloud", 1);
    let producer_group = ons_tests::unique_name("GID_trace_cloud_p");
    let consumer_group = ons_tests::unique_name("GID_trace_cloud_c");
    let cloud = |group: &str| plain_props(group).with(keys::ACCESS_CHANNEL, "CLOUD");
    rt().block_on(async {
        let (consumer, consumed) = started_counting_consumer(cloud(&consumer_group), &topic);
        let producer = Producer::new(&cloud(&producer_group)).unwrap();
        producer.start().unwrap();
        let sent = producer.send(&Message::new(&topic, Some("TagCl"), "cloud").with_key("kCl")).await.unwrap();
        wait_for("the message consumed", Duration::from_secs(60), || async { consumed.load(Ordering::SeqCst) >= 1 })
            .await;

        let id = sent.message_id.clone();
        let lines = tokio::task::spawn_blocking(move || oracle_traces_in(CLOUD_TRACE_TOPIC, &id, 3)).await.unwrap();
        let pubs = of_type(&lines, "Pub");
        assert_eq!(pubs.len(), 1, "{lines:?}");
        assert_eq!(
            (pubs[0]["topic"].as_str(), pubs[0]["groupName"].as_str()),
            (Some(topic.as_str()), Some(producer_group.as_str()))
        );
        assert_eq!(pubs[0]["regionId"], "DefaultRegion");
        let before = of_type(&lines, "SubBefore");
        let after = of_type(&lines, "SubAfter");
        assert_eq!((before.len(), after.len()), (1, 1), "{lines:?}");
        assert_eq!(
            (before[0]["groupName"].as_str(), before[0]["regionId"].as_str()),
            (Some(consumer_group.as_str()), Some("DefaultRegion"))
        );
        // The cloud form, as Java's TraceDataEncoder writes it with AccessChannel.CLOUD: no
        // timestamp and group after the context code, whose separator stays.
        let expected = format!(
            "SubAfter\u{1}{}\u{1}{}\u{1}{}\u{1}true\u{1}kCl\u{1}0\u{1}",
            before[0]["requestId"].as_str().unwrap(),
            sent.message_id,
            after[0]["costTime"]
        );
        assert_eq!(after[0]["record"], expected.as_str());

        let (id, tt) = (sent.message_id.clone(), CLOUD_TRACE_TOPIC);
        let out = tokio::task::spawn_blocking(move || ons_tests::mqadmin(&["queryMsgTraceById", "-t", tt, "-i", &id]))
            .await
            .unwrap();
        assert!(out.lines().any(|l| l.starts_with("Pub ") && l.contains(producer_group.as_str())), "{out}");
        let admin = Admin::new(&plain_props("GID_trace_admin")).unwrap();
        let records = admin.message_traces(&sent.message_id, Some(CLOUD_TRACE_TOPIC)).await.unwrap();
        assert!(
            records.iter().any(|r| matches!(r, TraceRecord::SubAfter(s) if s.success && s.group.is_empty())),
            "{records:?}"
        );
        // Nothing of it in the LOCAL channel's topic.
        assert_eq!(admin.message_traces(&sent.message_id, None).await.unwrap(), vec![]);
        producer.shutdown().await;
        consumer.shutdown().await;
        assert_eq!(producer.trace_counts(), Some(TraceCounts { sent: 1, dropped: 0 }));
        let consumed = consumer.trace_counts().unwrap();
        assert!(consumed.sent >= 2 && consumed.dropped == 0, "{consumed:?}");

        // The Java client with the CLOUD channel writes to the same topic; our Admin reads it.
        let group = ons_tests::unique_name("GID_trace_cloud_j");
        let args =
            ["send", "--topic", &topic, "--tag", "TagJ", "--group", &group, "--trace", "--access-channel", "CLOUD"]
                .map(str::to_owned);
        let out = tokio::task::spawn_blocking(move || ons_tests::java_oracle(&args.each_ref().map(String::as_str)))
            .await
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let java_sent: serde_json::Value =
            serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().next().unwrap()).unwrap();
        let java_id = java_sent["msgId"].as_str().unwrap();
        let records = admin.message_traces(java_id, Some(CLOUD_TRACE_TOPIC)).await.unwrap();
        let [TraceRecord::Pub(p)] = records.as_slice() else { panic!("{records:?}") };
        assert_eq!(
            (p.group.as_str(), p.region_id.as_str(), p.tags.as_deref()),
            (group.as_str(), "DefaultRegion", Some("TagJ"))
        );
    });
}
