//! The pull consumer (`rocketmq_ons::PullConsumer`) against a real Apache RocketMQ cluster
//! (tests/harness/rmq.sh): assign and poll, seeks, pause and resume, synchronous and automatic
//! commits, subscribe mode with two instances, BROADCASTING with offsets in files, and a group
//! shared with the Java client's `DefaultLitePullConsumer` (tests/java-oracle `lite-pull`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ons_tests::support::{create_topic, new_topic, plain_props, rt, wait_for};
use rocketmq_ons::admin::{Admin, ResetPosition};
use rocketmq_ons::config::keys;
use rocketmq_ons::consumer::TopicPartitionChangeListener;
use rocketmq_ons::{ErrorKind, Message, MessageQueue, Producer, PullConsumer, SendResult};

/// A pull consumer of `group` from the first offset; `extra` properties on top.
fn pull_consumer(group: &str, extra: &[(&str, &str)]) -> PullConsumer {
    let mut props = plain_props(group)
        .with(keys::INSTANCE_NAME, ons_tests::unique_name("pull"))
        .with(keys::CONSUME_FROM_WHERE, "CONSUME_FROM_FIRST_OFFSET");
    for (k, v) in extra {
        props.set(*k, *v);
    }
    PullConsumer::new(&props).unwrap()
}

async fn producer() -> Producer {
    // Tests run at once in one process: one instance name each.
    let p = Producer::new(&plain_props("GID_pull_producer").with(keys::INSTANCE_NAME, ons_tests::unique_name("pp")))
        .unwrap();
    p.start().unwrap();
    p
}

fn offset_of(m: &Message) -> i64 {
    m.received.as_ref().unwrap().queue_offset
}

fn queue_of(m: &Message) -> MessageQueue {
    let r = m.received.as_ref().unwrap();
    MessageQueue::new(m.topic.clone(), r.broker_name.clone(), r.queue_id)
}

/// Polls until `n` messages came (more are kept too), failing after `timeout`.
async fn poll_n(c: &PullConsumer, n: usize, timeout: Duration) -> Vec<Message> {
    let deadline = Instant::now() + timeout;
    let mut got = Vec::new();
    while got.len() < n {
        assert!(Instant::now() < deadline, "only {} of {n} messages polled in {timeout:?}", got.len());
        got.extend(c.poll(Duration::from_millis(500)).await.unwrap());
    }
    got
}

/// Polls for `d` and returns everything that came.
async fn poll_for(c: &PullConsumer, d: Duration) -> Vec<Message> {
    let deadline = Instant::now() + d;
    let mut got = Vec::new();
    while Instant::now() < deadline {
        got.extend(c.poll(Duration::from_millis(200)).await.unwrap());
    }
    got
}

async fn send_to(p: &Producer, q: &MessageQueue, bodies: impl IntoIterator<Item = Vec<u8>>) -> Vec<SendResult> {
    let mut out = Vec::new();
    for b in bodies {
        out.push(p.send_to_queue(&Message::new(&q.topic, Some("T"), b), q).await.unwrap());
    }
    out
}

#[test]
fn assign_and_poll_get_every_message_byte_exact() {
    let topic = new_topic("pull_all", 2);
    let group = ons_tests::unique_name("GID_pull_all");
    rt().block_on(async {
        let c = pull_consumer(&group, &[(keys::AUTO_COMMIT, "false")]);
        c.start().unwrap();
        let queues = c.topic_partitions(&topic).await.unwrap();
        assert!(queues.len() >= 2, "{queues:?}");
        c.assign(&queues).unwrap();
        assert_eq!(c.assignment(), queues);

        let p = producer().await;
        let mut sent: BTreeMap<String, Message> = BTreeMap::new();
        for i in 0..40u32 {
            // Every byte value, and a body past the producer's 4 KiB compression threshold.
            let mut body: Vec<u8> = (0..=255u8).cycle().skip(i as usize).take(300 + i as usize * 7).collect();
            if i == 7 {
                body = (0..20_000u32).map(|x| (x * 31 % 251) as u8).collect();
            }
            let mut m = Message::new(&topic, Some(&format!("tag{}", i % 3)), body).with_key(format!("key-{i}"));
            m.put_user_property("n", i.to_string()).unwrap();
            let r = p.send(&m).await.unwrap();
            sent.insert(r.message_id, m);
        }
        let got = poll_n(&c, sent.len(), Duration::from_secs(60)).await;
        assert_eq!(got.len(), sent.len(), "no message twice");
        for m in &got {
            let id = m.msg_id.clone().unwrap();
            let s = sent.get(&id).unwrap_or_else(|| panic!("polled a message never sent: {id}"));
            assert_eq!(m.body, s.body, "body of {id}");
            assert_eq!((&m.tag, &m.key, m.user_property("n")), (&s.tag, &s.key, s.user_property("n")));
            assert_eq!(m.topic, topic);
            assert!(queues.contains(&queue_of(m)));
        }
        // Per queue, in offset order.
        let mut last: BTreeMap<MessageQueue, i64> = BTreeMap::new();
        for m in &got {
            let prev = last.insert(queue_of(m), offset_of(m));
            assert!(prev.is_none_or(|p| p < offset_of(m)), "out of order in {:?}", queue_of(m));
        }
        c.shutdown().await;
        p.shutdown().await;
    });
}

#[test]
fn seek_to_beginning_end_offset_and_timestamp() {
    let topic = new_topic("pull_seek", 1);
    let group = ons_tests::unique_name("GID_pull_seek");
    rt().block_on(async {
        let c = pull_consumer(&group, &[(keys::AUTO_COMMIT, "false"), (keys::MAX_BATCH_MESSAGE_COUNT, "4")]);
        c.start().unwrap();
        let q = c.topic_partitions(&topic).await.unwrap().remove(0);
        c.assign(std::slice::from_ref(&q)).unwrap();
        let p = producer().await;
        send_to(&p, &q, (0..5u8).map(|i| vec![i])).await;
        // Closer to the later messages: 4.9.x brokers answer the offset of the message stored
        // nearest to the time, 5.x ones the first stored at or after it.
        tokio::time::sleep(Duration::from_millis(2000)).await;
        let between = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
        tokio::time::sleep(Duration::from_millis(200)).await;
        send_to(&p, &q, (5..10u8).map(|i| vec![i])).await;

        let first = poll_n(&c, 10, Duration::from_secs(30)).await;
        assert_eq!(first.iter().map(offset_of).collect::<Vec<_>>(), (0..10).collect::<Vec<_>>());
        assert!(first.iter().enumerate().all(|(i, m)| m.body[..] == [i as u8]));

        c.seek_to_beginning(&q).await.unwrap();
        let again = poll_n(&c, 10, Duration::from_secs(30)).await;
        assert_eq!(again.iter().map(offset_of).collect::<Vec<_>>(), (0..10).collect::<Vec<_>>());

        c.seek(&q, 6).await.unwrap();
        let from6 = poll_n(&c, 4, Duration::from_secs(30)).await;
        assert_eq!(from6.iter().map(offset_of).collect::<Vec<_>>(), vec![6, 7, 8, 9]);

        let at = c.offset_for_timestamp(&q, between).await.unwrap();
        assert_eq!(at, 5, "the first message stored after the pause");
        c.seek(&q, at).await.unwrap();
        let from_ts = poll_n(&c, 5, Duration::from_secs(30)).await;
        assert_eq!(offset_of(&from_ts[0]), 5);

        c.seek_to_end(&q).await.unwrap();
        assert!(poll_for(&c, Duration::from_secs(2)).await.is_empty(), "nothing after the end");
        send_to(&p, &q, [vec![10u8]]).await;
        let after_end = poll_n(&c, 1, Duration::from_secs(30)).await;
        assert_eq!((offset_of(&after_end[0]), &after_end[0].body[..]), (10, &[10u8][..]));

        // Bad input: named, refused, nothing moves.
        let e = c.seek(&q, -1).await.unwrap_err();
        assert!(e.message().contains("negative"), "{}", e.message());
        let e = c.seek(&q, 1000).await.unwrap_err();
        assert!(e.message().contains("outside the stored range [0, 11]"), "{}", e.message());
        let unknown = MessageQueue::new(&topic, &q.broker_name, 99);
        let e = c.seek(&unknown, 0).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        assert!(e.message().contains("not one this consumer owns") && e.message().contains("99"), "{}", e.message());
        assert!(c.pause(std::slice::from_ref(&unknown)).is_err());
        let e = c.subscribe(&topic, "*").unwrap_err();
        assert!(e.message().contains("assigned queues"), "{}", e.message());
        c.shutdown().await;
        let e = c.poll(Duration::from_millis(10)).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotStarted);
        p.shutdown().await;
    });
}

#[test]
fn paused_queues_are_not_pulled_until_resumed() {
    let topic = new_topic("pull_pause", 2);
    let group = ons_tests::unique_name("GID_pull_pause");
    rt().block_on(async {
        let c = pull_consumer(&group, &[(keys::AUTO_COMMIT, "false")]);
        c.start().unwrap();
        let queues = c.topic_partitions(&topic).await.unwrap();
        let (a, b) = (queues[0].clone(), queues[1].clone());
        c.assign(&[a.clone(), b.clone()]).unwrap();
        // Both queues pulled once (empty) so their positions are known, then `a` paused: its
        // pull held by the broker is abandoned, and no other is sent until it is resumed.
        assert!(poll_for(&c, Duration::from_secs(1)).await.is_empty());
        c.pause(std::slice::from_ref(&a)).unwrap();
        let p = producer().await;
        send_to(&p, &a, (0..5u8).map(|i| vec![b'a', i])).await;
        send_to(&p, &b, (0..5u8).map(|i| vec![b'b', i])).await;
        let while_paused = poll_for(&c, Duration::from_secs(4)).await;
        assert!(while_paused.iter().all(|m| queue_of(m) == b), "a paused queue was pulled");
        assert_eq!(while_paused.iter().map(offset_of).collect::<Vec<_>>(), (0..5).collect::<Vec<_>>());
        c.resume(std::slice::from_ref(&a)).unwrap();
        let resumed = poll_n(&c, 5, Duration::from_secs(30)).await;
        assert!(resumed.iter().all(|m| queue_of(m) == a));
        assert_eq!(
            resumed.iter().map(|m| m.body.to_vec()).collect::<Vec<_>>(),
            (0..5u8).map(|i| vec![b'a', i]).collect::<Vec<_>>()
        );
        c.shutdown().await;
        p.shutdown().await;
    });
}

#[test]
fn commit_sync_then_a_new_consumer_resumes_from_the_committed_offset() {
    let topic = new_topic("pull_commit", 1);
    let group = ons_tests::unique_name("GID_pull_commit");
    rt().block_on(async {
        let props = [(keys::AUTO_COMMIT, "false"), (keys::MAX_BATCH_MESSAGE_COUNT, "4")];
        let c = pull_consumer(&group, &props);
        c.start().unwrap();
        let q = c.topic_partitions(&topic).await.unwrap().remove(0);
        c.assign(std::slice::from_ref(&q)).unwrap();
        let p = producer().await;
        send_to(&p, &q, (0..12u8).map(|i| vec![i])).await;
        let first = poll_n(&c, 1, Duration::from_secs(30)).await;
        assert!(first.len() <= 4, "maxBatchMessageCount bounds a poll: {}", first.len());
        let end = offset_of(first.last().unwrap()) + 1;
        // A 5.x broker answers 0 for a group without an offset while the queue starts at 0.
        assert!(matches!(c.committed(&q).await.unwrap(), None | Some(0)), "nothing committed before commit_sync");
        c.commit_sync().await.unwrap();
        assert_eq!(c.committed(&q).await.unwrap(), Some(end));
        // Polled but not committed (autoCommit off): shutdown must not commit it.
        let more = poll_n(&c, 1, Duration::from_secs(30)).await;
        assert_eq!(offset_of(&more[0]), end);
        c.shutdown().await;

        let d = pull_consumer(&group, &props);
        d.start().unwrap();
        assert_eq!(d.committed(&q).await.unwrap(), Some(end));
        d.assign(std::slice::from_ref(&q)).unwrap();
        let resumed = poll_n(&d, (12 - end) as usize, Duration::from_secs(30)).await;
        assert_eq!(resumed.iter().map(offset_of).collect::<Vec<_>>(), (end..12).collect::<Vec<_>>());
        d.shutdown().await;
        p.shutdown().await;
    });
}

#[test]
fn auto_commit_commits_what_earlier_polls_returned() {
    let topic = new_topic("pull_auto", 1);
    let group = ons_tests::unique_name("GID_pull_auto");
    rt().block_on(async {
        let props = [(keys::AUTO_COMMIT_INTERVAL_MILLIS, "1000"), (keys::MAX_BATCH_MESSAGE_COUNT, "3")];
        let c = pull_consumer(&group, &props);
        c.start().unwrap();
        let q = c.topic_partitions(&topic).await.unwrap().remove(0);
        c.assign(std::slice::from_ref(&q)).unwrap();
        let p = producer().await;
        send_to(&p, &q, (0..9u8).map(|i| vec![i])).await;
        let first = poll_n(&c, 1, Duration::from_secs(30)).await;
        let end1 = offset_of(first.last().unwrap()) + 1;
        tokio::time::sleep(Duration::from_millis(1100)).await;
        // This poll commits what the first returned, before returning more.
        let second = poll_n(&c, 1, Duration::from_secs(30)).await;
        assert_eq!(offset_of(&second[0]), end1);
        assert_eq!(c.committed(&q).await.unwrap(), Some(end1));
        let end2 = offset_of(second.last().unwrap()) + 1;
        // Shutdown commits what the last poll returned.
        c.shutdown().await;
        let d = pull_consumer(&group, &props);
        d.start().unwrap();
        assert_eq!(d.committed(&q).await.unwrap(), Some(end2));
        d.assign(std::slice::from_ref(&q)).unwrap();
        let rest = poll_n(&d, (9 - end2) as usize, Duration::from_secs(30)).await;
        assert_eq!(offset_of(&rest[0]), end2);
        d.shutdown().await;
        p.shutdown().await;
    });
}

/// Polls `c` in the background into `log` (tagged `who`) until `stop` is set.
fn poll_into(
    c: Arc<PullConsumer>,
    who: &'static str,
    log: Arc<Mutex<Vec<(String, Message)>>>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        while !c.is_closed() {
            match c.poll(Duration::from_millis(300)).await {
                Ok(ms) => log.lock().unwrap().extend(ms.into_iter().map(|m| (who.to_owned(), m))),
                Err(_) => return,
            }
        }
    })
}

#[test]
fn subscribe_mode_two_instances_share_the_queues_exactly_once() {
    let topic = new_topic("pull_sub", 4);
    let group = ons_tests::unique_name("GID_pull_sub");
    rt().block_on(async {
        let a = Arc::new(pull_consumer(&group, &[]));
        let b = Arc::new(pull_consumer(&group, &[]));
        a.subscribe(&topic, "*").unwrap();
        b.subscribe(&topic, "*").unwrap();
        a.start().unwrap();
        b.start().unwrap();
        let all = a.topic_partitions(&topic).await.unwrap();
        wait_for("the two instances to split the queues", Duration::from_secs(60), || async {
            let (x, y) = (a.assignment(), b.assignment());
            x.len() + y.len() == all.len() && x.len() == all.len() / 2 && x.iter().all(|q| !y.contains(q))
        })
        .await;
        let log = Arc::new(Mutex::new(Vec::new()));
        let tasks = [poll_into(a.clone(), "a", log.clone()), poll_into(b.clone(), "b", log.clone())];
        let p = producer().await;
        let mut sent = BTreeSet::new();
        for i in 0..60u32 {
            sent.insert(p.send(&Message::new(&topic, None, i.to_be_bytes().to_vec())).await.unwrap().message_id);
        }
        wait_for("every message", Duration::from_secs(60), || async { log.lock().unwrap().len() >= sent.len() }).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        let got = log.lock().unwrap().clone();
        let ids: Vec<String> = got.iter().map(|(_, m)| m.msg_id.clone().unwrap()).collect();
        assert_eq!(ids.len(), sent.len(), "no message twice");
        assert_eq!(ids.iter().cloned().collect::<BTreeSet<_>>(), sent);
        let (qa, qb) = (a.assignment(), b.assignment());
        for (who, m) in &got {
            let mine = if who == "a" { &qa } else { &qb };
            assert!(mine.contains(&queue_of(m)), "{who} polled a queue it does not own");
        }
        a.shutdown().await;
        b.shutdown().await;
        for t in tasks {
            t.await.unwrap();
        }
        p.shutdown().await;
    });
}

/// A started BROADCASTING pull consumer of `group` subscribed to all of `topic`, instance `name`,
/// offsets under `dir`, committing only when asked.
fn broadcasting_consumer(group: &str, topic: &str, dir: &str, name: &str) -> PullConsumer {
    let c = pull_consumer(
        group,
        &[
            (keys::MESSAGE_MODEL, "BROADCASTING"),
            (keys::OFFSET_STORE_DIR, dir),
            (keys::INSTANCE_NAME, name),
            (keys::AUTO_COMMIT, "false"),
        ],
    );
    c.subscribe(topic, "*").unwrap();
    c.start().unwrap();
    c
}

fn msg_ids(ms: &[Message]) -> Vec<String> {
    ms.iter().map(|m| m.msg_id.clone().unwrap()).collect()
}

/// Sends the numbers of `range` to `topic`; the messages' ids.
async fn send_numbered(p: &Producer, topic: &str, range: std::ops::Range<u32>) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for i in range {
        ids.insert(p.send(&Message::new(topic, None, i.to_be_bytes().to_vec())).await.unwrap().message_id);
    }
    ids
}

/// The offset files under `dir` of the pull consumers of instance `name` (any address), by group.
fn offset_files(dir: &std::path::Path, name: &str) -> Vec<std::path::PathBuf> {
    let Ok(clients) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut out: Vec<std::path::PathBuf> = clients
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(&format!("@{name}@STREAM")))
        .flat_map(|e| std::fs::read_dir(e.path()).into_iter().flatten().filter_map(|g| g.ok()))
        .map(|g| g.path().join("offsets.json"))
        .filter(|f| f.exists())
        .collect();
    out.sort();
    out
}

#[test]
fn broadcasting_instances_each_read_every_message_and_resume_from_their_offset_file() {
    let topic = new_topic("pull_bcast", 4);
    let group = ons_tests::unique_name("GID_pull_bcast");
    let dir = std::env::temp_dir().join(ons_tests::unique_name("ons_pull_bcast_offsets"));
    let dir_text = dir.to_string_lossy().into_owned();
    let (name_a, name_b) = (ons_tests::unique_name("pull_bcast_a"), ons_tests::unique_name("pull_bcast_b"));
    let broadcasting = |name: &str| broadcasting_consumer(&group, &topic, &dir_text, name);
    rt().block_on(async {
        let (a, b) = (broadcasting(&name_a), broadcasting(&name_b));
        let all = a.topic_partitions(&topic).await.unwrap();
        assert_eq!(all.len(), 4);
        wait_for("each instance to take every queue", Duration::from_secs(60), || async {
            a.assignment() == all && b.assignment() == all
        })
        .await;
        let p = producer().await;
        let sent = send_numbered(&p, &topic, 0..40).await;
        for (who, c) in [("a", &a), ("b", &b)] {
            let got = msg_ids(&poll_n(c, sent.len(), Duration::from_secs(60)).await);
            assert_eq!(got.len(), sent.len(), "{who}: no message twice");
            assert_eq!(got.into_iter().collect::<BTreeSet<_>>(), sent, "{who}: every message");
        }

        // a commits: its file holds the offset after what it polled, per queue; b commits
        // nothing and writes no file (autoCommit off).
        a.commit_sync().await.unwrap();
        let mut committed = 0;
        for q in &all {
            let offset = a.committed(q).await.unwrap().expect("a committed every queue it read");
            committed += offset;
        }
        assert_eq!(committed, sent.len() as i64, "a fresh topic's offsets add up to what was read");
        assert_eq!(offset_files(&dir, &name_a).len(), 1, "a's offset file under {}", dir.display());
        assert!(offset_files(&dir, &name_b).is_empty(), "b committed nothing");
        a.shutdown().await;
        b.shutdown().await;

        // Restarted under its instance name, a reads its file and gets only what came since;
        // b, which committed nothing, starts over from the first offset.
        let later = send_numbered(&p, &topic, 40..48).await;
        let a2 = broadcasting(&name_a);
        for q in &all {
            assert!(a2.committed(q).await.unwrap().is_some(), "{q:?}: the file's offset, read at start");
        }
        let resumed = msg_ids(&poll_n(&a2, later.len(), Duration::from_secs(60)).await);
        let resumed: Vec<String> =
            resumed.into_iter().chain(msg_ids(&poll_for(&a2, Duration::from_secs(2)).await)).collect();
        assert_eq!(resumed.len(), later.len(), "a resumed after its committed offsets: {resumed:?}");
        assert_eq!(resumed.into_iter().collect::<BTreeSet<_>>(), later);
        let b2 = broadcasting(&name_b);
        let again = msg_ids(&poll_n(&b2, sent.len() + later.len(), Duration::from_secs(60)).await);
        assert_eq!(again.len(), sent.len() + later.len(), "b read everything again, once");
        a2.shutdown().await;
        b2.shutdown().await;
        p.shutdown().await;
    });
    let _ = std::fs::remove_dir_all(&dir);
}

/// Java's lite pull consumer and ours, BROADCASTING under one instance name and offset
/// directory, each start where the other's offset file says (Java `LocalFileOffsetStore`).
/// The Java client is the broker's line (the 5.x one speaks LITE_PULL_MESSAGE, which 4.x
/// brokers lack); both name the file by the lite pull consumer's client id,
/// `ip@instanceName@STREAM`.
#[test]
fn broadcasting_offset_files_are_shared_with_the_java_lite_pull_consumer() {
    let topic = new_topic("pull_bcast_java", 2);
    let group = ons_tests::unique_name("GID_pull_bcast_java");
    let dir = std::env::temp_dir().join(ons_tests::unique_name("ons_pull_bcast_java"));
    let dir_text = dir.to_string_lossy().into_owned();
    let instance = ons_tests::unique_name("bcast_java");
    // Java commits what its polls returned at a poll once autoCommitIntervalMillis (5 s) has
    // passed, and its shutdown persists what was committed: it lingers 6 s after its share.
    let java = |count: usize| {
        let args = [
            "lite-pull",
            "--topic",
            &topic,
            "--group",
            &group,
            "--count",
            &count.to_string(),
            "--timeout-ms",
            "60000",
            "--from-first",
            "--linger-ms",
            "6000",
            "--broadcasting",
            "--instance",
            &instance,
            "--offset-dir",
            &dir_text,
        ]
        .map(str::to_owned);
        tokio::task::spawn_blocking(move || {
            let out = ons_tests::java_oracle_of_broker_line(&args.each_ref().map(String::as_str));
            assert!(out.status.success(), "Java lite pull: {}", String::from_utf8_lossy(&out.stderr));
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .filter_map(|v| v["msgId"].as_str().map(str::to_owned))
                .collect::<Vec<String>>()
        })
    };
    rt().block_on(async {
        let p = producer().await;
        let first = send_numbered(&p, &topic, 0..12).await;
        let by_java = java(first.len()).await.unwrap();
        assert_eq!(by_java.len(), first.len(), "Java polled each message once");
        assert_eq!(by_java.into_iter().collect::<BTreeSet<_>>(), first);

        let second = send_numbered(&p, &topic, 12..17).await;
        let ours = broadcasting_consumer(&group, &topic, &dir_text, &instance);
        let mut polled = msg_ids(&poll_n(&ours, second.len(), Duration::from_secs(60)).await);
        polled.extend(msg_ids(&poll_for(&ours, Duration::from_secs(2)).await));
        assert_eq!(polled.len(), second.len(), "we started where Java's file said: {polled:?}");
        assert_eq!(polled.into_iter().collect::<BTreeSet<_>>(), second);
        ours.commit_sync().await.unwrap();
        ours.shutdown().await;

        let third = send_numbered(&p, &topic, 17..21).await;
        let by_java = java(third.len()).await.unwrap();
        assert_eq!(by_java.len(), third.len(), "Java started where our file said: {by_java:?}");
        assert_eq!(by_java.into_iter().collect::<BTreeSet<_>>(), third);
        p.shutdown().await;
    });
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn mixed_group_with_the_java_lite_pull_consumer_shares_the_queues_exactly_once() {
    let topic = new_topic("pull_mixed", 4);
    let group = ons_tests::unique_name("GID_pull_mixed");
    rt().block_on(async {
        let ours = Arc::new(pull_consumer(&group, &[]));
        ours.subscribe(&topic, "*").unwrap();
        ours.start().unwrap();
        let all = ours.topic_partitions(&topic).await.unwrap();
        let n = all.len();
        wait_for("all queues", Duration::from_secs(60), || async { ours.assignment().len() == n }).await;
        const PER_QUEUE: usize = 10;
        let java = {
            let (topic, group, count) = (topic.clone(), group.clone(), (PER_QUEUE * (n / 2)).to_string());
            std::thread::spawn(move || {
                ons_tests::java_oracle_of_broker_line(&[
                    "lite-pull",
                    "--topic",
                    &topic,
                    "--group",
                    &group,
                    "--count",
                    &count,
                    "--timeout-ms",
                    "90000",
                    "--from-first",
                    "--linger-ms",
                    "20000",
                ])
            })
        };
        let deadline = Instant::now() + Duration::from_secs(150);
        while ours.assignment().len() != n / 2 {
            if java.is_finished() {
                let out = java.join().unwrap();
                panic!("the Java consumer ended before joining: {}", String::from_utf8_lossy(&out.stderr));
            }
            assert!(Instant::now() < deadline, "the Java consumer never took its half of the queues");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let mine = ours.assignment();
        let log = Arc::new(Mutex::new(Vec::new()));
        let task = poll_into(ours.clone(), "rust", log.clone());
        let p = producer().await;
        let mut sent = Vec::new();
        for q in &all {
            sent.extend(send_to(&p, q, (0..PER_QUEUE as u8).map(|i| vec![i])).await);
        }
        let expected_ours: BTreeSet<String> = sent
            .iter()
            .filter(|s| mine.contains(&MessageQueue::new(&topic, &*s.broker_name, s.queue_id)))
            .map(|s| s.message_id.clone())
            .collect();
        assert_eq!(expected_ours.len(), PER_QUEUE * n / 2);
        wait_for("our half", Duration::from_secs(60), || async { log.lock().unwrap().len() >= expected_ours.len() })
            .await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        // Taken while the Java consumer still holds its queues (it lingers 20 s after its
        // share): once it leaves, its queues come to us from its last commit.
        assert!(!java.is_finished(), "the Java consumer left before we had our half");
        let ours_ids: Vec<String> = log.lock().unwrap().iter().map(|(_, m)| m.msg_id.clone().unwrap()).collect();
        let out = tokio::task::spawn_blocking(move || java.join().unwrap()).await.unwrap();
        assert!(
            out.status.success(),
            "the Java consumer did not get its share: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(ours_ids.len(), expected_ours.len(), "no message twice on our side");
        assert_eq!(ours_ids.iter().cloned().collect::<BTreeSet<_>>(), expected_ours, "we polled exactly our queues");
        let java_ids: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|v| v["msgId"].as_str().map(str::to_owned))
            .collect();
        let java_set: BTreeSet<String> = java_ids.iter().cloned().collect();
        assert_eq!(java_set.len(), java_ids.len(), "no message twice on the Java side");
        assert!(java_set.is_disjoint(&expected_ours), "a message went to both clients");
        let union: BTreeSet<String> = java_set.union(&expected_ours).cloned().collect();
        let all_ids: BTreeSet<String> = sent.iter().map(|s| s.message_id.clone()).collect();
        assert_eq!(union, all_ids, "together the two clients polled everything");
        ours.shutdown().await;
        task.await.unwrap();
        p.shutdown().await;
    });
}

#[derive(Default)]
struct Told(Mutex<Vec<(String, Vec<MessageQueue>)>>);

impl TopicPartitionChangeListener for Told {
    fn on_changed(&self, topic: &str, partitions: &[MessageQueue]) {
        self.0.lock().unwrap().push((topic.to_owned(), partitions.to_vec()));
    }
}

impl Told {
    fn calls(&self) -> Vec<(String, Vec<MessageQueue>)> {
        self.0.lock().unwrap().clone()
    }
}

/// Grows `topic` (which has `queues_now` queues) until the route shows more queues.
///
/// An Apache broker can leave the name server with the old count: a full registration (the
/// periodic one, or one after a retry topic was auto-created) that copied the topic table before
/// the update but serialised the live data version after it registers the new version with the
/// old queues, and the name server then ignores the update's own registration as carrying a
/// version it already has (`RouteInfoManager.isTopicConfigChanged`, `BrokerController
/// .registerBrokerAll` in apache/rocketmq 5.3.3). Repeating the same update is a no-op on the
/// broker, so each retry asks for two more queues.
async fn grow_until_routed(admin: &Admin, c: &PullConsumer, topic: &str, queues_now: usize) {
    for queues in [queues_now * 2, queues_now * 2 + 2, queues_now * 2 + 4] {
        create_topic(admin, topic, queues as u32).await;
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if c.topic_partitions(topic).await.unwrap().len() > queues_now {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        eprintln!("the route of {topic} still shows {queues_now} queues 20 s after asking for {queues}");
    }
    panic!("the route of {topic} never showed more than {queues_now} queues");
}

#[test]
fn topic_partition_change_listeners_are_told_the_queues_and_their_changes() {
    let topic = new_topic("pull_watch", 2);
    let growing = new_topic("pull_grow", 2);
    let group = ons_tests::unique_name("GID_pull_watch");
    rt().block_on(async {
        let c = pull_consumer(&group, &[]);
        // Registered before start: told the queues at the first check (10 s after start).
        let before = Arc::new(Told::default());
        c.register_topic_partition_change_listener(&topic, before.clone()).await.unwrap();
        c.start().unwrap();
        let queues = c.topic_partitions(&topic).await.unwrap();
        // Registered while running: told only of changes.
        let during = Arc::new(Told::default());
        c.register_topic_partition_change_listener(&growing, during.clone()).await.unwrap();
        let old = c.topic_partitions(&growing).await.unwrap();
        let admin = Admin::new(&plain_props("GID_test_admin")).unwrap();
        grow_until_routed(&admin, &c, &growing, old.len()).await;
        // The route as it is now (a late registration of a first growth could still change it).
        wait_for("the change to be told", Duration::from_secs(60), || async {
            let routed = c.topic_partitions(&growing).await.unwrap();
            during.calls().last().map(|(_, queues)| queues) == Some(&routed)
        })
        .await;
        // Told only changes: never the queues it had when the listener was registered. (Once
        // in practice; twice only if the broker's registration of a first growth came late.)
        for (told_topic, queues) in during.calls() {
            assert_eq!(told_topic, growing);
            assert!(queues.len() > old.len(), "told {queues:?}, which is not a growth of {old:?}");
        }
        assert_eq!(before.calls(), vec![(topic.clone(), queues)], "told once, at the first check");
        c.shutdown().await;
    });
}

#[test]
fn an_administrators_reset_moves_a_running_consumer_and_what_it_commits() {
    let topic = new_topic("pull_reset", 1);
    let group = ons_tests::unique_name("GID_pull_reset");
    rt().block_on(async {
        let props = [(keys::AUTO_COMMIT, "false")];
        let c = pull_consumer(&group, &props);
        c.start().unwrap();
        let q = c.topic_partitions(&topic).await.unwrap().remove(0);
        c.assign(std::slice::from_ref(&q)).unwrap();
        let p = producer().await;
        send_to(&p, &q, (0..6u8).map(|i| vec![i])).await;
        let first = poll_n(&c, 6, Duration::from_secs(30)).await;
        assert_eq!(first.iter().map(offset_of).collect::<Vec<_>>(), (0..6).collect::<Vec<_>>());
        c.commit_sync().await.unwrap();
        assert_eq!(c.committed(&q).await.unwrap(), Some(6));

        // 4.x brokers push the new offsets to the consumer; 5.x brokers keep them and answer
        // its next pull with PULL_OFFSET_MOVED. Either way the consumer's own position moves,
        // without a poll, so that its commits write the reset offset and not the old one.
        let admin = Admin::new(&plain_props("GID_pull_reset_admin")).unwrap();
        admin.reset_offsets(&group, &topic, ResetPosition::Earliest).await.unwrap();
        wait_for("the consumer to commit the reset offset", Duration::from_secs(45), || async {
            c.commit_sync().await.unwrap();
            c.committed(&q).await.unwrap() == Some(0)
        })
        .await;
        let again = poll_n(&c, 6, Duration::from_secs(30)).await;
        assert_eq!(again.iter().map(offset_of).collect::<Vec<_>>(), (0..6).collect::<Vec<_>>());
        c.shutdown().await;
        p.shutdown().await;
    });
}
