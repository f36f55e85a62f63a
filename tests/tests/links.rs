//! Link faults between the client and a real cluster, injected by `ons_tests::fault_proxy`
//! (every byte to the name server and brokers crosses a proxy link the test controls):
//!
//! * links frozen mid-use (open, passing nothing: a NAT that lost its state, a hung peer): the
//!   client abandons them when a request times out having read nothing, reconnects, and sends
//!   and consumption resume with nothing acknowledged lost;
//! * a broker that accepts connections and never answers: every send returns within its timeout
//!   (route lookup and first heartbeat included), and shutting a producer down takes at most one
//!   broker-call timeout;
//! * connections reset, and connects refused: sends fail at once with a network error, not a
//!   timeout, and succeed again when the link is back.
//!
//! Each test prints what it measured; the asserted bounds are stated beside each assertion.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ons_tests::fault_proxy::{LinkMode, ProxiedCluster};
use ons_tests::support::{new_topic, rt};
use rocketmq_ons::config::keys;
use rocketmq_ons::{Action, ConsumeContext, Consumer, ErrorKind, Message, Producer, Properties};

const SEND_TIMEOUT: Duration = Duration::from_secs(3);
/// Scheduling slack on a loaded 2-core machine beyond what the client itself bounds.
const SLACK: Duration = Duration::from_secs(5);
/// Slack for the bounds this file exists to hold (a send or a shutdown against a broker that never
/// answers): small enough that one extra broker call (3 s) beyond the bound fails the test.
const TIGHT_SLACK: Duration = Duration::from_secs(2);
/// The client's long-polling pull timeout (core/src/consumer/pull.rs): the longest a consumer
/// may wait on a silent link before a request of its own finds the link dead.
const PULL_TIMEOUT: Duration = Duration::from_secs(30);

fn props(namesrv: &str, group: &str) -> Properties {
    Properties::new()
        .with(keys::NAMESRV_ADDR, namesrv)
        .with(keys::GROUP_ID, group)
        .with(keys::SEND_MSG_TIMEOUT_MILLIS, SEND_TIMEOUT.as_millis().to_string())
        // A client instance (and connection pool) of the test's own, not shared with other
        // tests of this binary.
        .with(keys::INSTANCE_NAME, ons_tests::unique_name("links"))
}

fn proxy() -> ProxiedCluster {
    ProxiedCluster::start(&ons_tests::namesrv()).expect("the fault proxy starts")
}

/// Sends `msg` until one send succeeds; returns the time from `since` to the start of that send.
async fn first_success_after(producer: &Producer, topic: &str, since: Instant, give_up: Duration) -> Duration {
    loop {
        let started = Instant::now();
        match producer.send(&Message::new(topic, None, "probe")).await {
            Ok(_) => return started - since,
            Err(e) => {
                assert!(started.elapsed() <= SEND_TIMEOUT + SLACK, "a send took {:?}: {e}", started.elapsed());
                assert!(since.elapsed() < give_up, "no send succeeded within {give_up:?}: {e}");
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[test]
fn frozen_links_are_abandoned_and_nothing_acknowledged_is_lost() {
    let topic = new_topic("frozen", 4);
    let cluster = proxy();
    let ns = cluster.namesrv_addr();
    let received: Arc<Mutex<HashSet<String>>> = Arc::default();
    let group = ons_tests::unique_name("GID_frozen");
    let consumer = Consumer::new(&props(&ns, &group).with(keys::CONSUME_FROM_WHERE, "CONSUME_FROM_FIRST_OFFSET"))
        .expect("consumer properties");
    let log = received.clone();
    consumer
        .subscribe(
            &topic,
            "*",
            Arc::new(move |m: &Message, _: &ConsumeContext| {
                log.lock().unwrap().insert(m.msg_id.clone().unwrap_or_default());
                Action::CommitMessage
            }),
        )
        .unwrap();
    let producer = Producer::new(&props(&ns, "GID_frozen_producer")).unwrap();
    let acknowledged: Mutex<HashSet<String>> = Mutex::default();
    let all_consumed = |within: Duration| {
        let deadline = Instant::now() + within;
        loop {
            let missing: Vec<String> = {
                let got = received.lock().unwrap();
                acknowledged.lock().unwrap().iter().filter(|id| !got.contains(*id)).cloned().collect()
            };
            if missing.is_empty() {
                return;
            }
            assert!(Instant::now() < deadline, "{} acknowledged messages not consumed: {missing:?}", missing.len());
            std::thread::sleep(Duration::from_millis(200));
        }
    };

    rt().block_on(async {
        consumer.start().unwrap();
        producer.start().unwrap();
        for i in 0..20 {
            let r = producer.send(&Message::new(&topic, None, format!("before-{i}"))).await.unwrap();
            acknowledged.lock().unwrap().insert(r.message_id);
        }
    });
    all_consumed(Duration::from_secs(60));
    assert!(!cluster.broker_links().is_empty(), "the client reached the broker through the proxy");

    // Every link of every connection the client has (name server and brokers) goes silent.
    let frozen = cluster.namesrv_link().freeze_existing()
        + cluster.broker_links().iter().map(|l| l.freeze_existing()).sum::<usize>();
    let frozen_at = Instant::now();
    assert!(frozen >= 2, "only {frozen} connections were open to freeze");

    let (recovered_after, failed) = rt().block_on(async {
        let recovered_after = first_success_after(&producer, &topic, frozen_at, Duration::from_secs(60)).await;
        // Then a steady stream through the new connections; every failure is counted.
        let mut failed = 0;
        for i in 0..50 {
            match producer.send(&Message::new(&topic, None, format!("after-{i}"))).await {
                Ok(r) => {
                    acknowledged.lock().unwrap().insert(r.message_id);
                }
                Err(e) => {
                    failed += 1;
                    eprintln!("send after recovery failed: {e}");
                }
            }
        }
        (recovered_after, failed)
    });
    // One send times out on the frozen connection (which it then closes); the next connects
    // afresh.
    assert!(recovered_after <= SEND_TIMEOUT + SLACK, "sends resumed only {recovered_after:?} after the freeze");
    assert_eq!(failed, 0, "sends failed after the client had reconnected");
    // The consumer has a client instance of its own: its outstanding pull (or an earlier
    // heartbeat or offset commit) times out having read nothing, which retires the link.
    let consume_started = Instant::now();
    all_consumed(PULL_TIMEOUT + SEND_TIMEOUT + SLACK + Duration::from_secs(10));
    let consumed_after = frozen_at.elapsed();
    eprintln!(
        "links: froze {frozen} connections; sends succeeded again {recovered_after:?} after the freeze; every one \
         of {} acknowledged messages consumed {consumed_after:?} after it (waited {:?} for the consumer)",
        acknowledged.lock().unwrap().len(),
        consume_started.elapsed()
    );
    rt().block_on(async {
        producer.shutdown().await;
        consumer.shutdown().await;
    });
}

#[test]
fn a_broker_that_never_answers_bounds_every_send_and_the_shutdown() {
    let topic = new_topic("silent", 2);
    let cluster = proxy();
    let ns = cluster.namesrv_addr();
    // The broker's link goes silent before the client has ever connected to it: the route the
    // name server hands out names a broker that accepts connections and answers nothing.
    let broker = ons_tests::cluster().var("BROKER_A_ADDR").expect("the cluster's env names broker-a");
    cluster.broker_link(&broker).set_mode(LinkMode::Silent);
    let producer = Producer::new(&props(&ns, "GID_silent_producer")).unwrap();
    rt().block_on(async {
        producer.start().unwrap();
        let mut took = Vec::new();
        for i in 0..3 {
            let started = Instant::now();
            let err = producer.send(&Message::new(&topic, None, format!("m{i}"))).await.unwrap_err();
            took.push(started.elapsed());
            // The whole send, route lookup and first heartbeat included, within its timeout.
            assert!(started.elapsed() <= SEND_TIMEOUT + TIGHT_SLACK, "send {i} took {:?}: {err}", started.elapsed());
            assert!(matches!(err.kind(), ErrorKind::Timeout | ErrorKind::Network), "{err}");
        }
        let async_started = Instant::now();
        let err = producer.send_async(&Message::new(&topic, None, "async")).await.unwrap_err();
        let async_took = async_started.elapsed();
        assert!(async_took <= SEND_TIMEOUT + TIGHT_SLACK, "async send took {async_took:?}: {err}");
        // Unregistration goes to every broker at once, each call bounded by 3 s.
        let shutdown_started = Instant::now();
        producer.shutdown().await;
        let shutdown_took = shutdown_started.elapsed();
        assert!(shutdown_took <= Duration::from_secs(3) + TIGHT_SLACK, "shutdown took {shutdown_took:?}");
        eprintln!(
            "silent broker: sync sends failed after {took:?}, async after {async_took:?} (timeout {SEND_TIMEOUT:?}); \
             shutdown took {shutdown_took:?}"
        );
    });
}

#[test]
fn reset_and_refused_links_fail_fast_and_recover() {
    let topic = new_topic("refused", 2);
    let cluster = proxy();
    let ns = cluster.namesrv_addr();
    let broker = ons_tests::cluster().var("BROKER_A_ADDR").expect("the cluster's env names broker-a");
    let producer = Producer::new(&props(&ns, "GID_refused_producer")).unwrap();
    rt().block_on(async {
        producer.start().unwrap();
        producer.send(&Message::new(&topic, None, "warm")).await.unwrap();
    });
    let link = cluster.broker_link(&broker);

    // Reset mid-use, new connections reset too: each send fails with a network error at once.
    link.set_mode(LinkMode::Reset);
    assert!(link.reset_existing() >= 1);
    rt().block_on(async {
        for i in 0..3 {
            let started = Instant::now();
            let err = producer.send(&Message::new(&topic, None, format!("reset-{i}"))).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Network, "{err}");
            // Network errors are immediate; well within the timeout (measured ~10 ms).
            assert!(started.elapsed() < SEND_TIMEOUT, "a reset link took {:?} to fail: {err}", started.elapsed());
        }
    });

    // Refused: the same.
    link.set_mode(LinkMode::Refuse);
    rt().block_on(async {
        let started = Instant::now();
        let err = producer.send(&Message::new(&topic, None, "refused")).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Network, "{err}");
        assert!(err.message().contains(&link.addr()), "the error names the address: {err}");
        assert!(started.elapsed() < SEND_TIMEOUT, "a refused connect took {:?}: {err}", started.elapsed());
    });

    // Back: the next send connects again.
    link.set_mode(LinkMode::Forward);
    let back_at = Instant::now();
    rt().block_on(async {
        let after = first_success_after(&producer, &topic, back_at, Duration::from_secs(30)).await;
        eprintln!("reset/refused: first send after the link came back started {after:?} after it");
        producer.shutdown().await;
    });
}

#[test]
fn a_consumer_shutdown_is_bounded_when_its_broker_goes_silent() {
    let topic = new_topic("silent_consumer", 8);
    let cluster = proxy();
    let ns = cluster.namesrv_addr();
    let group = ons_tests::unique_name("GID_silent_consumer");
    let consumer = Consumer::new(&props(&ns, &group).with(keys::CONSUME_FROM_WHERE, "CONSUME_FROM_FIRST_OFFSET"))
        .expect("consumer properties");
    let consumed: Arc<Mutex<usize>> = Arc::default();
    let count = consumed.clone();
    consumer
        .subscribe(
            &topic,
            "*",
            Arc::new(move |_: &Message, _: &ConsumeContext| {
                *count.lock().unwrap() += 1;
                Action::CommitMessage
            }),
        )
        .unwrap();
    let producer = Producer::new(&props(&ons_tests::namesrv(), "GID_silent_consumer_producer")).unwrap();
    rt().block_on(async {
        producer.start().unwrap();
        consumer.start().unwrap();
        for i in 0..16 {
            producer.send(&Message::new(&topic, None, format!("m{i}"))).await.unwrap();
        }
        producer.shutdown().await;
        let deadline = Instant::now() + Duration::from_secs(60);
        while *consumed.lock().unwrap() < 16 {
            assert!(Instant::now() < deadline, "only {} of 16 consumed", consumed.lock().unwrap());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    for link in cluster.broker_links() {
        link.set_mode(LinkMode::Silent);
        link.freeze_existing();
    }
    let started = Instant::now();
    rt().block_on(consumer.shutdown());
    let took = started.elapsed();
    eprintln!("silent broker: consumer shutdown with 8 queues took {took:?}");
    // Pulls are abandoned at once; the final offset commits of all queues go out together
    // (one 3 s call timeout), then the unregistration (another).
    assert!(took <= Duration::from_secs(6) + TIGHT_SLACK, "consumer shutdown took {took:?}");
}
