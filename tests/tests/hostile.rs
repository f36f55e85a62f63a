//! Answers no real broker gives on demand, from `ons_tests::fake_server`:
//!
//! * a route naming five brokers that accept connections and never answer, or a 9.6 MB route
//!   of 1000 such brokers: every send returns within its timeout, and a producer shuts down
//!   within one broker-call timeout (3 s);
//! * a broker pushing thousands of unreadable requests at a consumer: a handful of warning
//!   lines, not one per request.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ons_tests::fake_server::{fake_namesrv, route_json, FakeServer, LoneConsumer, Reply};
use ons_tests::support::{captured_logs, rt};
use rocketmq_ons::config::keys;
use rocketmq_ons::protocol::codes::{request, response};
use rocketmq_ons::protocol::command::RemotingCommand;
use rocketmq_ons::{Action, ConsumeContext, Consumer, ErrorKind, Message, Producer, Properties};

const SEND_TIMEOUT: Duration = Duration::from_secs(3);
/// Scheduling slack: small enough that one extra broker call (3 s) beyond a bound fails.
const SLACK: Duration = Duration::from_secs(2);

#[test]
fn five_brokers_that_never_answer_bound_every_send_and_the_shutdown() {
    let silent: Vec<FakeServer> = (0..5).map(|_| FakeServer::silent()).collect();
    let names: Vec<String> = (0..5).map(|i| format!("broker-silent-{i}")).collect();
    let brokers: Vec<(&str, &str)> =
        names.iter().map(String::as_str).zip(silent.iter().map(FakeServer::addr)).collect();
    let namesrv = fake_namesrv(route_json(&brokers, 4));
    let producer = Producer::new(
        &Properties::new()
            .with(keys::NAMESRV_ADDR, namesrv.addr())
            .with(keys::GROUP_ID, "GID_silent_five")
            .with(keys::SEND_MSG_TIMEOUT_MILLIS, SEND_TIMEOUT.as_millis().to_string()),
    )
    .unwrap();
    rt().block_on(async {
        producer.start().unwrap();
        let mut took = Vec::new();
        for i in 0..3 {
            let started = Instant::now();
            let err = producer.send(&Message::new("T", None, format!("m{i}"))).await.unwrap_err();
            took.push(started.elapsed());
            assert!(matches!(err.kind(), ErrorKind::Timeout | ErrorKind::Network), "{err}");
            assert!(started.elapsed() <= SEND_TIMEOUT + SLACK, "send {i} took {:?}: {err}", started.elapsed());
        }
        let started = Instant::now();
        producer.shutdown().await;
        let shutdown = started.elapsed();
        eprintln!("five silent brokers: sends failed after {took:?}; shutdown took {shutdown:?}");
        assert!(shutdown <= Duration::from_secs(3) + SLACK, "shutdown took {shutdown:?}");
    });
}

#[test]
fn a_flood_of_unreadable_requests_logs_a_few_lines_not_one_each() {
    ons_tests::support::capture_logs();
    let member = LoneConsumer::default();
    let broker = {
        let member = member.clone();
        FakeServer::start(move |req| {
            if let Some(reply) = member.answer(req) {
                return reply;
            }
            match req.code {
                // Pulls find nothing (answered at once; the consumer asks again after a while).
                request::PULL_MESSAGE => Reply::Answer(
                    RemotingCommand::response(response::PULL_NOT_FOUND, 0, None)
                        .with_ext("nextBeginOffset", 0)
                        .with_ext("minOffset", 0)
                        .with_ext("maxOffset", 0),
                ),
                _ => Reply::Answer(RemotingCommand::response(response::SUCCESS, 0, None)),
            }
        })
    };
    let namesrv = fake_namesrv(route_json(&[("broker-flood", broker.addr())], 2));
    let consumer =
        Consumer::new(&Properties::new().with(keys::NAMESRV_ADDR, namesrv.addr()).with(keys::GROUP_ID, "GID_flooded"))
            .unwrap();
    consumer.subscribe("T", "*", Arc::new(|_: &Message, _: &ConsumeContext| Action::CommitMessage)).unwrap();
    rt().block_on(async { consumer.start() }).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while member.client_id().is_empty() {
        assert!(Instant::now() < deadline, "the consumer never sent a heartbeat");
        std::thread::sleep(Duration::from_millis(100));
    }
    // An offset reset whose body is not JSON, 20,000 times.
    const FLOOD: usize = 20_000;
    let mut garbage = RemotingCommand::request(request::RESET_CONSUMER_CLIENT_OFFSET)
        .with_ext("consumerGroup", "GID_flooded")
        .with_ext("topic", "T")
        .with_body(b"\x00 not json".to_vec());
    garbage.flag |= rocketmq_ons::protocol::command::FLAG_ONEWAY;
    for _ in 0..FLOOD {
        assert_eq!(broker.push(&garbage), 1, "the consumer is connected");
    }
    // Until the consumer has read them all (it answers nothing to oneway requests): wait for
    // the first line, then a little.
    let warned = |logs: &str| logs.matches("unreadable offset reset request").count();
    let deadline = Instant::now() + Duration::from_secs(30);
    while warned(&captured_logs()) == 0 {
        assert!(Instant::now() < deadline, "the flood was never noticed");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(3));
    let lines = warned(&captured_logs());
    rt().block_on(consumer.shutdown());
    eprintln!("{FLOOD} unreadable offset resets: {lines} warning lines");
    // One line per 10 s per call site (the next one says how many were left out).
    assert!(lines <= 3, "{lines} warning lines for {FLOOD} requests");
}

#[test]
fn a_ten_megabyte_route_to_silent_brokers_still_bounds_the_send() {
    let silent = FakeServer::silent();
    // 1000 broker groups (within the 1024 cap) whose cluster names pad the answer to ~10 MB.
    let padding = "c".repeat(9_500);
    let broker_datas: Vec<serde_json::Value> = (0..1000)
        .map(|i| serde_json::json!({"cluster": padding, "brokerName": format!("b{i}"), "brokerAddrs": {"0": silent.addr()}}))
        .collect();
    let queue_datas: Vec<serde_json::Value> = (0..1000)
        .map(|i| serde_json::json!({"brokerName": format!("b{i}"), "perm": 6, "readQueueNums": 4, "writeQueueNums": 4}))
        .collect();
    let route = serde_json::json!({"brokerDatas": broker_datas, "queueDatas": queue_datas}).to_string();
    assert!(route.len() > 9_000_000, "{}", route.len());
    let namesrv = fake_namesrv(route.clone());
    let producer = Producer::new(
        &Properties::new()
            .with(keys::NAMESRV_ADDR, namesrv.addr())
            .with(keys::GROUP_ID, "GID_big_route")
            .with(keys::SEND_MSG_TIMEOUT_MILLIS, SEND_TIMEOUT.as_millis().to_string()),
    )
    .unwrap();
    rt().block_on(async {
        producer.start().unwrap();
        let started = Instant::now();
        let err = producer.send(&Message::new("T", None, "m")).await.unwrap_err();
        let took = started.elapsed();
        let started = Instant::now();
        producer.shutdown().await;
        let shutdown = started.elapsed();
        eprintln!(
            "a {}-byte route to 1000 silent brokers: send failed after {took:?} ({err}); shutdown {shutdown:?}",
            route.len()
        );
        // Parsing 10 MB of JSON is CPU work inside the send's own deadline (old code: 6.3 s).
        assert!(took <= SEND_TIMEOUT + SLACK, "send took {took:?}: {err}");
        assert!(shutdown <= Duration::from_secs(3) + SLACK, "shutdown took {shutdown:?}");
    });
}
