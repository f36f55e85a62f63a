//! Flow control: the cache stays within its limits under a backlog, and deferred listeners
//! (answering later) stay within ConsumeThreadNums.

use super::*;

#[test]
fn cache_stays_bounded_under_a_backlog() {
    let topic = new_topic("backlog", 4);
    let n = queue_total(&topic);
    let group = ons_tests::unique_name("GID_backlog");
    rt().block_on(async {
        let producer = start_producer("GID_backlog_producer");
        for round in 0..30 {
            let batch: Vec<Message> =
                (0..100).map(|i| Message::new(&topic, None, format!("backlog-{round}-{i}"))).collect();
            producer.send_batch(&batch).await.unwrap();
        }
        let gate = Arc::new((Mutex::new(false), std::sync::Condvar::new()));
        let g = gate.clone();
        let listener: Arc<dyn MessageListener> = Arc::new(move |_: &Message, _: &ConsumeContext| {
            let (open, cv) = &*g;
            let mut open = open.lock().unwrap();
            while !*open {
                open = cv.wait(open).unwrap();
            }
            Action::CommitMessage
        });
        let props = consumer_props(&group, "c")
            .with(keys::MAX_CACHED_MESSAGE_AMOUNT, "100")
            .with(keys::CONSUME_THREAD_NUMS, "1");
        let consumer = Consumer::new(&props).unwrap();
        consumer.subscribe(&topic, "*", listener).unwrap();
        consumer.start().unwrap();
        wait_for("the cache to fill", Duration::from_secs(60), || async { consumer.cache_usage().0 >= 100 }).await;
        tokio::time::sleep(Duration::from_secs(3)).await;
        let (messages, bytes) = consumer.cache_usage();
        // Each queue (the group's retry queue included) pulls while it holds at most its share of
        // the 100 messages; one pull adds at most 32.
        assert!(messages <= 100 + 32 * (n + 1), "{messages} messages cached with MaxCachedMessageAmount=100");
        assert!(bytes > 0 && bytes < 1 << 20);
        let (open, cv) = &*gate;
        *open.lock().unwrap() = true;
        cv.notify_all();
        consumer.shutdown().await;
        producer.shutdown().await;
    });
}

/// A listener that answers from other threads later, as the Node and Python bindings do.
struct AnswersLater {
    log: Log,
    in_flight: Arc<std::sync::atomic::AtomicUsize>,
    most_in_flight: Arc<std::sync::atomic::AtomicUsize>,
}

impl DeferredMessageListener for AnswersLater {
    fn consume(&self, message: DeliveredMessage, _: &ConsumeContext, reply: ActionReply) {
        use std::sync::atomic::Ordering::SeqCst;
        self.log.record("deferred", &message);
        let now = self.in_flight.fetch_add(1, SeqCst) + 1;
        self.most_in_flight.fetch_max(now, SeqCst);
        let in_flight = self.in_flight.clone();
        let first_try_of_7 = message.key.as_deref() == Some("d-7") && message.reconsume_times == 0;
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(30));
            in_flight.fetch_sub(1, SeqCst);
            if first_try_of_7 {
                // Dropped unanswered: counts as ReconsumeLater.
                drop(reply);
            } else {
                reply.send(Action::CommitMessage);
            }
        });
    }
}

#[test]
fn deferred_listener_answers_later_within_consume_thread_nums() {
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    let topic = new_topic("deferred", 4);
    let group = ons_tests::unique_name("GID_deferred");
    rt().block_on(async {
        let producer = start_producer("GID_deferred_producer");
        let log = Log::default();
        let most = Arc::new(AtomicUsize::new(0));
        let c = Consumer::new(&consumer_props(&group, "d").with(keys::CONSUME_THREAD_NUMS, "3")).unwrap();
        let listener =
            AnswersLater { log: log.clone(), in_flight: Arc::new(AtomicUsize::new(0)), most_in_flight: most.clone() };
        c.subscribe_deferred(&topic, &MessageSelector::by_tag("*"), Arc::new(listener)).unwrap();
        c.start().unwrap();
        let sent = send_n(&producer, &topic, None, "d", 40).await;
        let want = ids_of(&sent);
        wait_for("every message, and d-7 again after its unanswered first try", Duration::from_secs(60), || async {
            want.is_subset(&log.ids()) && log.all().iter().any(|g| g.key == "d-7" && g.reconsume_times == 1)
        })
        .await;
        let all = log.all();
        assert!(most.load(SeqCst) <= 3, "{} deliveries unanswered at once; ConsumeThreadNums is 3", most.load(SeqCst));
        let again: Vec<&Got> = all.iter().filter(|g| g.reconsume_times > 0).collect();
        assert!(
            again.iter().all(|g| g.key == "d-7"),
            "only d-7 was handed back: {:?}",
            again.iter().map(|g| &g.key).collect::<Vec<_>>()
        );
        c.shutdown().await;
        producer.shutdown().await;
    });
}

/// Holds its first delivery's reply for a while (so the rest pile up waiting for the one
/// place), then answers every later message inside `consume` itself.
struct AnswersFirstLater {
    log: Log,
    first: std::sync::atomic::AtomicBool,
}

impl DeferredMessageListener for AnswersFirstLater {
    fn consume(&self, message: DeliveredMessage, _: &ConsumeContext, reply: ActionReply) {
        self.log.record("deferred", &message);
        if self.first.swap(false, std::sync::atomic::Ordering::SeqCst) {
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(1500));
                reply.send(Action::CommitMessage);
            });
        } else {
            reply.send(Action::CommitMessage);
        }
    }
}

#[test]
fn deferred_listener_answering_inside_consume_drains_a_long_backlog() {
    let topic = new_topic("deferred_sync", 2);
    let group = ons_tests::unique_name("GID_deferred_sync");
    rt().block_on(async {
        let producer = start_producer("GID_deferred_sync_producer");
        let sent = send_n(&producer, &topic, None, "s", 1500).await;
        let want = ids_of(&sent);
        let log = Log::default();
        let c = Consumer::new(&consumer_props(&group, "s").with(keys::CONSUME_THREAD_NUMS, "1")).unwrap();
        let listener = AnswersFirstLater { log: log.clone(), first: std::sync::atomic::AtomicBool::new(true) };
        c.subscribe_deferred(&topic, &MessageSelector::by_tag("*"), Arc::new(listener)).unwrap();
        c.start().unwrap();
        // Each answer given inside `consume` hands the next waiting message over; without
        // flattening that would nest one call per waiting message.
        wait_for("all 1500 messages", Duration::from_secs(60), || async { want.is_subset(&log.ids()) }).await;
        c.shutdown().await;
        producer.shutdown().await;
    });
}
