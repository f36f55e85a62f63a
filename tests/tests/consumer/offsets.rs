//! Committed offsets: a restart resumes where the group committed, an administrator's reset
//! rewinds it, a SIGKILLed instance loses nothing, and a group shared with the Java client splits
//! the queues.

use super::*;

#[test]
fn restart_resumes_from_the_committed_offset() {
    let topic = new_topic("resume", 4);
    let group = ons_tests::unique_name("GID_resume");
    rt().block_on(async {
        let producer = start_producer("GID_resume_producer");
        let first = send_n(&producer, &topic, None, "a", 40).await;
        let log = Log::default();
        let c = Consumer::new(&consumer_props(&group, "r")).unwrap();
        // Each call is logged 300 ms before it returns, so the shutdown below starts while the
        // last listeners still run: what they commit within the shutdown's grace period must
        // be in the final commit, not delivered again.
        let slow = {
            let log = log.clone();
            Arc::new(move |m: &Message, _: &ConsumeContext| {
                log.record("first", m);
                std::thread::sleep(Duration::from_millis(300));
                Action::CommitMessage
            })
        };
        c.subscribe(&topic, "", slow).unwrap();
        c.start().unwrap();
        let want = ids_of(&first);
        wait_for("the backlog", Duration::from_secs(60), || async { want.is_subset(&log.ids()) }).await;
        c.shutdown().await;
        // What the broker holds for the group now, for the failure message below: a missing
        // commit and a misread one look alike from the consumer's side.
        let progress = {
            let group = group.clone();
            tokio::task::spawn_blocking(move || {
                let out = ons_tests::mqadmin_output(&["consumerProgress", "-g", &group, "-n", &ons_tests::namesrv()]);
                String::from_utf8_lossy(&out.stdout).into_owned()
            })
            .await
            .unwrap()
        };

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
        let queues: BTreeSet<(String, i32)> = again.iter().map(|g| g.queue.clone()).collect();
        assert!(
            again.is_empty(),
            "{} committed messages were delivered again after the restart, from queues {queues:?}; the first \
             consumer's log: {}; the group's offsets after its shutdown:\n{progress}",
            again.len(),
            log.len()
        );
        assert!(duplicates(&log2.all()).is_empty());
        c.shutdown().await;
        producer.shutdown().await;
    });
}

/// The child process of [`killed_instance_loses_nothing`]: a consumer that reports each message
/// it consumed on stdout and runs until it is killed.
fn run_child_consumer(spec: &str) {
    let v: serde_json::Value = serde_json::from_str(spec).unwrap();
    let s = |k: &str| v[k].as_str().unwrap().to_owned();
    rt().block_on(async {
        let props = Properties::new()
            .with(keys::NAMESRV_ADDR, s("namesrv"))
            .with(keys::GROUP_ID, s("group"))
            .with(keys::INSTANCE_NAME, s("instance"))
            .with(keys::CONSUME_THREAD_NUMS, "1");
        let consumer = Consumer::new(&props).unwrap();
        let listener: Arc<dyn MessageListener> = Arc::new(|m: &Message, _: &ConsumeContext| {
            std::thread::sleep(Duration::from_millis(20));
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{}", serde_json::json!({ "msgId": m.msg_id }));
            let _ = out.flush();
            Action::CommitMessage
        });
        consumer.subscribe(&s("topic"), "*", listener).unwrap();
        consumer.start().unwrap();
        loop {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
    });
}

#[test]
fn killed_instance_loses_nothing() {
    if let Ok(spec) = std::env::var("ONS_TEST_CONSUMER_CHILD") {
        run_child_consumer(&spec);
        return;
    }
    let topic = new_topic("kill", 4);
    let n = queue_total(&topic);
    let group = ons_tests::unique_name("GID_kill");
    let spec = serde_json::json!({
        "namesrv": ons_tests::namesrv(), "topic": topic, "group": group, "instance": ons_tests::unique_name("victim"),
    });
    rt().block_on(async {
        let survivor_log = Log::default();
        let survivor = Consumer::new(&consumer_props(&group, "survivor")).unwrap();
        survivor.subscribe(&topic, "*", survivor_log.listener("survivor")).unwrap();
        survivor.start().unwrap();
        wait_for("the survivor holds every queue", Duration::from_secs(60), || async {
            survivor.assignment().len() == n
        })
        .await;

        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["offsets::killed_instance_loses_nothing", "--exact", "--nocapture", "--test-threads", "1"])
            .env("ONS_TEST_CONSUMER_CHILD", spec.to_string())
            .env("ONS_TEST_NAMESRV", ons_tests::namesrv())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let child_ids: Arc<Mutex<BTreeSet<String>>> = Arc::default();
        let reader = {
            let ids = child_ids.clone();
            let stdout = child.stdout.take().unwrap();
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    // The test harness prints "test NAME ... " without a newline before running
                    // the test: the first JSON object may share its line.
                    let Some(start) = line.find('{') else { continue };
                    if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line[start..]) {
                        if let Some(id) = v["msgId"].as_str() {
                            ids.lock().unwrap().insert(id.to_owned());
                        }
                    }
                }
            })
        };
        wait_for("the child takes half of the queues", Duration::from_secs(60), || async {
            survivor.assignment().len() == n / 2
        })
        .await;

        let producer = start_producer("GID_kill_producer");
        let sent = ids_of(&send_n(&producer, &topic, None, "k", 400).await);
        wait_for("the child to consume some", Duration::from_secs(60), || async {
            child_ids.lock().unwrap().len() >= 40
        })
        .await;
        child.kill().unwrap(); // SIGKILL: no shutdown, no offset commit
        let _ = child.wait();
        let _ = reader.join();
        let by_child = child_ids.lock().unwrap().clone();
        assert!(by_child.len() < 200, "the child was to be killed mid-way; it consumed {}", by_child.len());

        wait_for("every message consumed by the child or the survivor", Duration::from_secs(90), || async {
            let mut all = survivor_log.ids();
            all.extend(by_child.iter().cloned());
            sent.is_subset(&all)
        })
        .await;
        assert_eq!(survivor.assignment().len(), n, "the survivor took over the dead instance's queues");
        survivor.shutdown().await;
        producer.shutdown().await;
    });
}

#[test]
fn mixed_group_with_the_java_client_splits_the_queues() {
    let topic = new_topic("mixed", 4);
    let n = queue_total(&topic);
    let group = ons_tests::unique_name("GID_mixed");
    rt().block_on(async {
        let log = Log::default();
        let ours = Consumer::new(&consumer_props(&group, "rust")).unwrap();
        ours.subscribe(&topic, "*", log.listener("rust")).unwrap();
        ours.start().unwrap();
        wait_for("all queues", Duration::from_secs(60), || async { ours.assignment().len() == n }).await;

        // Every queue gets PER_QUEUE messages (sharding keys chosen per queue), so the Java side
        // knows how many are its share and exits as soon as it has them.
        const PER_QUEUE: usize = 25;
        let java = {
            let (topic, group, count) = (topic.clone(), group.clone(), (PER_QUEUE * (n / 2)).to_string());
            std::thread::spawn(move || {
                ons_tests::java_oracle(&[
                    "consume",
                    "--topic",
                    &topic,
                    "--group",
                    &group,
                    "--count",
                    &count,
                    "--timeout-ms",
                    "60000",
                ])
            })
        };
        // The JVM may take a while to start on a loaded machine; if the oracle ends before
        // joining, its output says why.
        let deadline = Instant::now() + Duration::from_secs(150);
        while ours.assignment().len() != n / 2 {
            if java.is_finished() {
                let out = java.join().unwrap();
                panic!("the Java consumer ended before joining the group: {}", String::from_utf8_lossy(&out.stderr));
            }
            assert!(Instant::now() < deadline, "the Java consumer never took its half of the queues");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let mine = queue_set(&ours.assignment());
        let producer = OrderProducer::new(&plain_props("GID_mixed_producer")).unwrap();
        producer.start().unwrap();
        let mut sent = Vec::new();
        for q in 0..n {
            let key = (0..).map(|i| format!("key-{i}")).find(|k| ons_order_queue_index(k, n) == q).unwrap();
            for i in 0..PER_QUEUE {
                sent.push(producer.send(&Message::new(&topic, None, format!("x-{q}-{i}")), &key).await.unwrap());
            }
        }
        let expected_ours: BTreeSet<String> = sent
            .iter()
            .filter(|s| mine.contains(&(s.broker_name.to_string(), s.queue_id)))
            .map(|s| s.message_id.clone())
            .collect();
        assert_eq!(expected_ours.len(), PER_QUEUE * n / 2);
        wait_for("our half", Duration::from_secs(60), || async { expected_ours.is_subset(&log.ids()) }).await;
        let ours_before_java_left = log.ids();

        let out = tokio::task::spawn_blocking(move || java.join().unwrap()).await.unwrap();
        assert!(
            out.status.success(),
            "the Java consumer did not get its share: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let java_got: Vec<serde_json::Value> =
            String::from_utf8_lossy(&out.stdout).lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
        let java_ids: BTreeSet<String> =
            java_got.iter().filter_map(|v| v["msgId"].as_str().map(str::to_owned)).collect();
        assert_eq!(ours_before_java_left, expected_ours, "we consumed exactly our queues");
        assert!(java_ids.is_disjoint(&ours_before_java_left), "a message went to both clients");
        let union: BTreeSet<String> = java_ids.union(&ours_before_java_left).cloned().collect();
        assert_eq!(union, ids_of(&sent), "together the two clients consumed everything");
        for v in &java_got {
            let q =
                (v["brokerName"].as_str().unwrap_or_default().to_owned(), v["queueId"].as_i64().unwrap_or(-1) as i32);
            assert!(!mine.contains(&q), "the Java client consumed one of our queues: {q:?}");
        }
        ours.shutdown().await;
        producer.shutdown().await;
    });
}

#[test]
fn admin_offset_reset_rewinds_the_group() {
    let topic = new_topic("reset", 2);
    let group = ons_tests::unique_name("GID_reset");
    rt().block_on(async {
        let producer = start_producer("GID_reset_producer");
        let before = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() - 2000;
        let sent = ids_of(&send_n(&producer, &topic, None, "r", 10).await);
        let log = Log::default();
        let consumer = Consumer::new(&consumer_props(&group, "r")).unwrap();
        consumer.subscribe(&topic, "*", log.listener("r")).unwrap();
        consumer.start().unwrap();
        wait_for("the messages", Duration::from_secs(60), || async { sent.is_subset(&log.ids()) }).await;
        // Let the consumed offsets reach the broker before resetting them.
        tokio::time::sleep(Duration::from_secs(6)).await;
        let (t, g, at) = (topic.clone(), group.clone(), before.to_string());
        let out = tokio::task::spawn_blocking(move || {
            // mqadmin exits 0 on failure too; a success prints the reset table. A tool timing out
            // on a loaded machine is retried.
            let mut attempts = Vec::new();
            for _ in 0..3 {
                let out =
                    ons_tests::mqadmin_output(&["resetOffsetByTime", "-g", &g, "-t", &t, "-s", &at, "-f", "true"]);
                let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
                if stdout.contains("#queueId") || stdout.to_lowercase().contains("rollback") {
                    return stdout.into_owned();
                }
                attempts.push(format!("stdout: {stdout}\nstderr: {stderr}"));
            }
            panic!("mqadmin resetOffsetByTime failed:\n{}", attempts.join("\n---\n"));
        })
        .await
        .unwrap();
        eprintln!("mqadmin resetOffsetByTime: {out}"); // shown if the wait below fails
        wait_for("every message again after the reset", Duration::from_secs(60), || async {
            let got = log.all();
            sent.iter().all(|id| got.iter().filter(|g| &g.msg_id == id).count() >= 2)
        })
        .await;
        consumer.shutdown().await;
        producer.shutdown().await;
    });
}
