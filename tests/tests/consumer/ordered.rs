//! Ordered consumption: order per sharding key across instances, rebalances and Suspend.

use super::*;

/// One ordered delivery: who, which queue, and when the listener ran.
#[derive(Debug, Clone)]
struct OrderedGot {
    who: String,
    key: String,
    seq: u32,
    queue: (String, i32),
    start: Instant,
    end: Instant,
    action: OrderAction,
}

#[test]
fn order_is_kept_per_sharding_key_across_instances_rebalance_and_suspend() {
    let topic = new_topic("ordered", 4);
    let n = queue_total(&topic);
    let group = ons_tests::unique_name("GID_ordered");
    let keys_n = 12u32;
    rt().block_on(async {
        let log: Arc<Mutex<Vec<OrderedGot>>> = Arc::default();
        let suspended: Arc<Mutex<BTreeSet<(String, u32)>>> = Arc::default();
        let listener = |who: &str| -> Arc<dyn MessageOrderListener> {
            let (log, suspended, who) = (log.clone(), suspended.clone(), who.to_owned());
            Arc::new(move |m: &Message, _: &ConsumeOrderContext| {
                let start = Instant::now();
                let body = String::from_utf8(m.body.to_vec()).unwrap();
                let (key, seq) = body.split_once(':').unwrap();
                let seq: u32 = seq.parse().unwrap();
                std::thread::sleep(Duration::from_millis(10));
                // Every key's 5th message fails once.
                let action = if seq == 5 && suspended.lock().unwrap().insert((key.to_owned(), seq)) {
                    OrderAction::Suspend
                } else {
                    OrderAction::Success
                };
                let info = m.received.as_ref().unwrap();
                log.lock().unwrap().push(OrderedGot {
                    who: who.clone(),
                    key: key.to_owned(),
                    seq,
                    queue: (info.broker_name.clone(), info.queue_id),
                    start,
                    end: Instant::now(),
                    action,
                });
                action
            })
        };
        let props = |i: &str| consumer_props(&group, i).with(keys::SUSPEND_TIME_MILLIS, "300");
        let o1 = OrderConsumer::new(&props("o1")).unwrap();
        o1.subscribe(&topic, "*", listener("o1")).unwrap();
        o1.start().unwrap();
        wait_for("o1 holds every queue", Duration::from_secs(60), || async { o1.assignment().len() == n }).await;

        let producer = OrderProducer::new(&plain_props("GID_ordered_producer")).unwrap();
        producer.start().unwrap();
        for seq in 0..15u32 {
            for k in 0..keys_n {
                let key = format!("key{k}");
                producer.send(&Message::new(&topic, Some("o"), format!("{key}:{seq}")), &key).await.unwrap();
            }
        }
        // A second instance joins while the backlog is being consumed.
        let o2 = OrderConsumer::new(&props("o2")).unwrap();
        o2.subscribe(&topic, "*", listener("o2")).unwrap();
        o2.start().unwrap();
        for seq in 15..30u32 {
            for k in 0..keys_n {
                let key = format!("key{k}");
                producer.send(&Message::new(&topic, Some("o"), format!("{key}:{seq}")), &key).await.unwrap();
            }
        }
        let done = || {
            let got: BTreeSet<(String, u32)> = log
                .lock()
                .unwrap()
                .iter()
                .filter(|g| g.action == OrderAction::Success)
                .map(|g| (g.key.clone(), g.seq))
                .collect();
            got.len() == (keys_n * 30) as usize
        };
        wait_for("every ordered message", Duration::from_secs(120), || async { done() }).await;
        let got = log.lock().unwrap().clone();

        // Per key: delivered in order; a redelivery may repeat earlier ones but never skip ahead.
        let mut by_key: BTreeMap<String, Vec<&OrderedGot>> = BTreeMap::new();
        for g in &got {
            by_key.entry(g.key.clone()).or_default().push(g);
        }
        for (key, list) in &by_key {
            let mut next = 0u32;
            for (i, g) in list.iter().enumerate() {
                assert!(g.seq <= next, "{key}: got {} while {next} was not yet consumed: {:?}", g.seq, list_seqs(list));
                if g.action == OrderAction::Success && g.seq == next {
                    next += 1;
                }
                if g.action == OrderAction::Suspend {
                    let after = list.get(i + 1).expect("a suspended message is delivered again");
                    assert_eq!(after.seq, g.seq, "{key}: the suspended message comes again first");
                }
            }
            assert_eq!(next, 30, "{key}");
        }
        assert!(got.iter().any(|g| g.who == "o2"), "the second instance consumed nothing");
        // Never two instances on one queue at once.
        let mut by_queue: BTreeMap<(String, i32), Vec<&OrderedGot>> = BTreeMap::new();
        for g in &got {
            by_queue.entry(g.queue.clone()).or_default().push(g);
        }
        for (q, list) in by_queue {
            for a in &list {
                for b in &list {
                    if a.who != b.who {
                        assert!(a.end <= b.start || b.end <= a.start, "queue {q:?} consumed by two instances at once");
                    }
                }
            }
        }
        o1.shutdown().await;
        o2.shutdown().await;
        producer.shutdown().await;
    });
}

fn list_seqs(list: &[&OrderedGot]) -> Vec<u32> {
    list.iter().map(|g| g.seq).collect()
}
