//! Brokers that go away mid-send and come back (issue 2's fault cases), each test on a cluster
//! of its own (`rmq.sh broker kill|start` acts on one broker):
//!
//! * two brokers, broker-a SIGKILLed while sync, async and oneway sends run: sync and async sends
//!   keep succeeding through broker-b (at most a few failures, all network errors or timeouts);
//!   no send outlives its timeout; once broker-a is back and the route refreshed, sends reach it
//!   again;
//! * one broker, SIGKILLed: sends fail with a network error within the send timeout; after the
//!   restart, sends succeed again.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ons_tests::support::{create_topic, rt};
use ons_tests::OwnCluster;
use rocketmq_ons::admin::Admin;
use rocketmq_ons::client::ClientInstance;
use rocketmq_ons::config::{keys, ClientConfig};
use rocketmq_ons::{ErrorKind, Message, Producer, Properties};

const SEND_TIMEOUT: Duration = Duration::from_secs(3);
/// How much longer than its timeout a send may take before it counts as hanging (scheduling on
/// a loaded 2-core machine; the client itself bounds every send by the timeout).
const SLACK: Duration = Duration::from_secs(5);

fn props(cluster: &OwnCluster, group: &str) -> Properties {
    Properties::new()
        .with(keys::NAMESRV_ADDR, &cluster.namesrv)
        .with(keys::GROUP_ID, group)
        .with(keys::SEND_MSG_TIMEOUT_MILLIS, SEND_TIMEOUT.as_millis().to_string())
}

fn start(options: &[&str]) -> OwnCluster {
    OwnCluster::start(options).unwrap_or_else(|e| panic!("{e}"))
}

/// One finished send: when it started, how long it took, and the broker or the error.
#[derive(Debug, Clone)]
struct Outcome {
    mode: &'static str,
    started: Instant,
    took: Duration,
    result: Result<Arc<str>, (ErrorKind, String)>,
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Sync,
    Async,
    Oneway,
}

/// Sends one message after another with `mode` until `stop`, recording every outcome.
fn send_loop(
    producer: Arc<Producer>,
    topic: String,
    mode: Mode,
    stop: Arc<AtomicBool>,
    log: Arc<Mutex<Vec<Outcome>>>,
) -> tokio::task::JoinHandle<()> {
    rt().spawn(async move {
        let name = match mode {
            Mode::Sync => "sync",
            Mode::Async => "async",
            Mode::Oneway => "oneway",
        };
        let mut i = 0u64;
        while !stop.load(Ordering::Relaxed) {
            let msg = Message::new(&topic, Some(name), format!("{name}-{i}"));
            let started = Instant::now();
            let result = match mode {
                Mode::Sync => producer.send(&msg).await.map(|r| r.broker_name),
                Mode::Async => producer.send_async(&msg).await.map(|r| r.broker_name),
                Mode::Oneway => producer.send_oneway(&msg).await.map(|()| Arc::from("")),
            };
            let took = started.elapsed();
            let failed = result.is_err();
            log.lock().unwrap().push(Outcome {
                mode: name,
                started,
                took,
                result: result.map_err(|e| (e.kind(), e.to_string())),
            });
            i += 1;
            // Pace the loop (and back off a little after a failure) so the log stays readable.
            tokio::time::sleep(Duration::from_millis(if failed { 200 } else { 50 })).await;
        }
    })
}

/// Waits until the name servers route `topic` to `brokers` brokers.
async fn wait_for_route(instance: &ClientInstance, topic: &str, brokers: usize) {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        match instance.fetch_route(topic).await {
            Ok(r) if r.data.broker_datas.len() == brokers => return,
            other => {
                let seen = other.map(|r| r.data.broker_datas.len());
                assert!(Instant::now() < deadline, "{topic} never routed to {brokers} brokers: {seen:?}");
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn assert_no_hang(outcomes: &[Outcome]) {
    for o in outcomes {
        assert!(o.took <= SEND_TIMEOUT + SLACK, "a {} send took {:?}: {:?}", o.mode, o.took, o.result);
    }
}

fn assert_network_or_timeout(o: &Outcome) {
    if let Err((kind, msg)) = &o.result {
        assert!(matches!(kind, ErrorKind::Network | ErrorKind::Timeout), "{} send failed with {kind}: {msg}", o.mode);
    }
}

#[test]
fn sends_survive_a_killed_broker_and_return_to_it() {
    let cluster = start(&["--brokers", "2"]);
    let topic = ons_tests::unique_name("faults2");
    let p = props(&cluster, "GID_faults2");
    let producer = rt().block_on(async {
        let admin = Admin::new(&p).unwrap();
        create_topic(&admin, &topic, 4).await;
        let instance = ClientInstance::get_or_create(&ClientConfig::from_properties(&p, true).unwrap());
        wait_for_route(&instance, &topic, 2).await;
        let producer = Arc::new(Producer::new(&p).unwrap());
        producer.start().unwrap();
        let mut brokers = std::collections::BTreeSet::new();
        for i in 0..16 {
            brokers.insert(producer.send(&Message::new(&topic, None, format!("warm-{i}"))).await.unwrap().broker_name);
        }
        assert_eq!(brokers.len(), 2, "round robin reaches both brokers: {brokers:?}");
        producer
    });
    // Oneway sends have no answer to retry on: a producer of their own, so the sync and async
    // failures recorded by the other do not steer them away from the dead broker.
    let oneway_producer = Arc::new(Producer::new(&p.clone().with(keys::INSTANCE_NAME, "oneway")).unwrap());
    rt().block_on(async { oneway_producer.start() }).unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let log = Arc::new(Mutex::new(Vec::new()));
    let loops = vec![
        send_loop(producer.clone(), topic.clone(), Mode::Sync, stop.clone(), log.clone()),
        send_loop(producer.clone(), topic.clone(), Mode::Sync, stop.clone(), log.clone()),
        send_loop(producer.clone(), topic.clone(), Mode::Async, stop.clone(), log.clone()),
        send_loop(oneway_producer.clone(), topic.clone(), Mode::Oneway, stop.clone(), log.clone()),
    ];
    std::thread::sleep(Duration::from_secs(2));
    let killed_at = Instant::now();
    cluster.broker("kill", "broker-a").unwrap();
    // Dead for sure from here (the kill itself takes a moment).
    let dead_at = Instant::now();
    // Long enough for the fault window (10 s) to expire once, so broker-a is tried again while
    // it is still down, and for a route refresh (30 s) to drop it.
    std::thread::sleep(Duration::from_secs(15));
    let restart_at = Instant::now();
    cluster.broker("start", "broker-a").unwrap();
    let registered_at = Instant::now();

    // Sends reach broker-a again once the route lists it (refresh every 30 s) and the fault
    // window is over.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let back = log
            .lock()
            .unwrap()
            .iter()
            .any(|o| o.started > registered_at && o.mode == "sync" && o.result.as_deref() == Ok("broker-a"));
        if back {
            break;
        }
        assert!(Instant::now() < deadline, "no sync send reached broker-a within 120 s of its restart");
        std::thread::sleep(Duration::from_millis(500));
    }
    stop.store(true, Ordering::Relaxed);
    rt().block_on(async {
        for l in loops {
            l.await.unwrap();
        }
        producer.shutdown().await;
        oneway_producer.shutdown().await;
    });

    let outcomes = log.lock().unwrap().clone();
    let failures = |mode: &str| outcomes.iter().filter(|o| o.mode == mode && o.result.is_err()).count();
    eprintln!(
        "{} sends; failures: sync {}, async {}, oneway {}; restart took {:?}; broker-a used again {:?} after it was \
         registered",
        outcomes.len(),
        failures("sync"),
        failures("async"),
        failures("oneway"),
        registered_at - restart_at,
        outcomes
            .iter()
            .find(|o| o.started > registered_at && o.result.as_deref() == Ok("broker-a"))
            .map(|o| o.started - registered_at),
    );
    assert_no_hang(&outcomes);
    // Sends that were in flight at the kill or started before the restart began. (While the
    // restarted broker boots it may refuse with other codes; those sends are only checked for
    // hangs.)
    let while_down: Vec<&Outcome> =
        outcomes.iter().filter(|o| o.started + o.took >= killed_at && o.started < restart_at).collect();
    for mode in ["sync", "async"] {
        let sent: Vec<&&Outcome> = while_down.iter().filter(|o| o.mode == mode).collect();
        let failed: Vec<&&Outcome> = sent.iter().filter(|o| o.result.is_err()).copied().collect();
        for o in &failed {
            assert_network_or_timeout(o);
        }
        // The design: failed attempts are retried on the other broker, so a send fails only if
        // every attempt within its timeout did; a few may when the kill lands between attempts.
        assert!(
            failed.len() <= 3,
            "{mode}: {} of {} sends failed while broker-a was down: {failed:?}",
            failed.len(),
            sent.len()
        );
        let on_b = sent.iter().filter(|o| o.result.as_deref() == Ok("broker-b")).count();
        assert!(
            on_b >= 10,
            "{mode}: only {on_b} of {} sends went through broker-b while broker-a was down",
            sent.len()
        );
        // Nothing claims to be stored on the dead broker.
        assert!(
            !sent.iter().any(|o| o.started > dead_at + Duration::from_secs(1) && o.result.as_deref() == Ok("broker-a")),
            "{mode}: a send claims broker-a stored it while it was dead"
        );
    }
    for o in while_down.iter().filter(|o| o.mode == "oneway") {
        assert_network_or_timeout(o);
    }
    let restarted = outcomes.iter().filter(|o| o.started > restart_at && o.mode != "oneway");
    assert!(restarted.clone().any(|o| o.result.is_ok()), "no send succeeded after the restart");
    drop(cluster);
}

#[test]
fn single_broker_killed_fails_fast_then_recovers() {
    let cluster = start(&[]);
    let topic = ons_tests::unique_name("faults1");
    let p = props(&cluster, "GID_faults1");
    let producer = rt().block_on(async {
        let admin = Admin::new(&p).unwrap();
        create_topic(&admin, &topic, 2).await;
        let producer = Producer::new(&p).unwrap();
        producer.start().unwrap();
        producer.send(&Message::new(&topic, None, "before")).await.unwrap();
        producer
    });

    cluster.broker("kill", "broker-a").unwrap();
    rt().block_on(async {
        for i in 0..3 {
            let started = Instant::now();
            let err = producer.send(&Message::new(&topic, None, format!("down-{i}"))).await.unwrap_err();
            let took = started.elapsed();
            assert!(took <= SEND_TIMEOUT + SLACK, "sync send took {took:?}: {err}");
            assert!(matches!(err.kind(), ErrorKind::Network | ErrorKind::Timeout), "{err}");
            assert!(err.message().contains("127.0.0.1:"), "the error names the broker address: {err}");
        }
        let started = Instant::now();
        let err = producer.send_async(&Message::new(&topic, None, "down-async")).await.unwrap_err();
        assert!(started.elapsed() <= SEND_TIMEOUT + SLACK);
        assert!(matches!(err.kind(), ErrorKind::Network | ErrorKind::Timeout), "{err}");
        let started = Instant::now();
        let err = producer.send_oneway(&Message::new(&topic, None, "down-oneway")).await.unwrap_err();
        assert!(started.elapsed() <= SEND_TIMEOUT + SLACK);
        assert!(matches!(err.kind(), ErrorKind::Network | ErrorKind::Timeout), "{err}");
    });

    cluster.broker("start", "broker-a").unwrap();
    rt().block_on(async {
        // The route still names the restarted broker's address: the first send after it
        // listens again reconnects. Every attempt is bounded; only the wait is generous.
        let deadline = Instant::now() + Duration::from_secs(60);
        let sent = loop {
            let started = Instant::now();
            match producer.send(&Message::new(&topic, None, "after")).await {
                Ok(r) => break r,
                Err(e) => {
                    assert!(started.elapsed() <= SEND_TIMEOUT + SLACK, "send took {:?}: {e}", started.elapsed());
                    assert!(Instant::now() < deadline, "sends still fail 60 s after the restart: {e}");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        };
        let admin = Admin::new(&p).unwrap();
        assert_eq!(admin.view_message(&topic, &sent.offset_msg_id).await.unwrap().body, "after");
        producer.shutdown().await;
    });
    drop(cluster);
}
