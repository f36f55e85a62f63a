//! Delivery: clustering splits queues and rebalances, tag and SQL92 filtering, batch
//! consumption, broadcasting with its local offset file, subscriptions changed while running.

use super::*;

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
        let props = plain_props("GID_batch_bad").with(keys::CONSUME_MESSAGE_BATCH_MAX_SIZE, bad);
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
        plain_props(&group)
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

/// A started batch consumer of `topic` with `settings`, whose listener commits every batch and
/// records its message ids, batch by batch.
fn start_batch_consumer(
    group: &str,
    topic: &str,
    settings: &[(&str, &str)],
) -> (BatchConsumer, Arc<Mutex<Vec<Vec<String>>>>) {
    let batches: Arc<Mutex<Vec<Vec<String>>>> = Arc::default();
    let b = batches.clone();
    let listener: Arc<dyn BatchMessageListener> = Arc::new(move |msgs: &[Message], _: &ConsumeContext| {
        b.lock().unwrap().push(msgs.iter().map(|m| m.msg_id.clone().unwrap_or_default()).collect());
        Action::CommitMessage
    });
    let props = settings.iter().fold(consumer_props(group, "batch"), |p, (k, v)| p.with(*k, *v));
    let consumer = BatchConsumer::new(&props).unwrap();
    consumer.subscribe(topic, "*", listener).unwrap();
    consumer.start().unwrap();
    (consumer, batches)
}

/// maxBatchMessageCount is the pull size (the ONS Java SDK hands it to `setPullBatchSize`): with
/// 4, a batch consumer allowed 32 messages per call gets at most 4 at a time, a batch being cut
/// from the messages of one pull.
#[test]
fn max_batch_message_count_is_the_pull_size() {
    let topic = new_topic("pullsize", 1);
    let group = ons_tests::unique_name("GID_pullsize");
    rt().block_on(async {
        let producer = start_producer("GID_pullsize_producer");
        let sent = ids_of(&send_n(&producer, &topic, None, "p", 40).await);
        let (consumer, batches) = start_batch_consumer(
            &group,
            &topic,
            &[(keys::CONSUME_MESSAGE_BATCH_MAX_SIZE, "32"), (keys::MAX_BATCH_MESSAGE_COUNT, "4")],
        );
        wait_for("every message", Duration::from_secs(60), || async {
            let got: BTreeSet<String> = batches.lock().unwrap().iter().flatten().cloned().collect();
            sent.is_subset(&got)
        })
        .await;
        let sizes: Vec<usize> = batches.lock().unwrap().iter().map(Vec::len).collect();
        assert!(sizes.iter().all(|n| (1..=4).contains(n)), "batch sizes {sizes:?}");
        assert!(sizes.contains(&4), "a backlog fills whole pulls: {sizes:?}");
        consumer.shutdown().await;
        producer.shutdown().await;
    });
}

/// batchConsumeMaxAwaitDurationInSeconds: messages sent one at a time, each pulled on its own,
/// wait for each other and reach the listener as one batch of ConsumeMessageBatchMaxSize; a
/// batch that does not fill is given to the listener when the wait is over.
#[test]
fn batch_consumer_awaits_a_full_batch() {
    let topic = new_topic("batchawait", 1);
    let group = ons_tests::unique_name("GID_batchawait");
    rt().block_on(async {
        let (consumer, batches) = start_batch_consumer(
            &group,
            &topic,
            &[(keys::CONSUME_MESSAGE_BATCH_MAX_SIZE, "5"), (keys::BATCH_CONSUME_MAX_AWAIT_DURATION_IN_SECONDS, "10")],
        );
        let producer = start_producer("GID_batchawait_producer");
        let first = ids_of(&send_n(&producer, &topic, None, "w", 5).await);
        wait_for("the first batch", Duration::from_secs(60), || async { !batches.lock().unwrap().is_empty() }).await;
        let second = ids_of(&send_n(&producer, &topic, None, "x", 2).await);
        wait_for("the second batch", Duration::from_secs(60), || async { batches.lock().unwrap().len() >= 2 }).await;
        let got: Vec<BTreeSet<String>> = batches.lock().unwrap().iter().map(|b| b.iter().cloned().collect()).collect();
        assert_eq!(got, vec![first, second]);
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
