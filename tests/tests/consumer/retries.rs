//! Failed consumption: retries with growing counts, the dead-letter queue (concurrent and
//! ordered), retries under a namespace, and listeners stuck past ConsumeTimeout.

use super::*;

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
        let admin = Admin::new(&plain_props("GID_consumer_admin")).unwrap();
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

        let producer = OrderProducer::new(&plain_props("GID_ordered_dlq_producer")).unwrap();
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

        let admin = Admin::new(&plain_props("GID_consumer_admin")).unwrap();
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
        let admin = Admin::new(&with_ns(plain_props("GID_consumer_admin"))).unwrap();
        admin.create_topic(&topic, 2, false).await.unwrap();
        // On the wire the topic carries the namespace.
        let plain_admin = Admin::new(&plain_props("GID_consumer_admin")).unwrap();
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
        let producer = Producer::new(&with_ns(plain_props("GID_ns_producer"))).unwrap();
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
