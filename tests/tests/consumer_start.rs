//! What a consumer says when it cannot work, against the harness's real cluster:
//! * `start()` fails, as a send does, when no name server answers at all, naming them, from an
//!   async caller and from a plain thread alike, and leaves the consumer startable;
//! * a consumer of a topic that has no route starts (Java consumers wait for a topic to be
//!   created), says so at WARN naming the topic within its first rebalance, not once per retry,
//!   and consumes once the topic exists.

use std::sync::Arc;
use std::time::Duration;

use ons_tests::support::{capture_logs, captured_logs, create_topic, plain_props, rt, wait_for};
use ons_tests::unique_name;
use rocketmq_ons::admin::Admin;
use rocketmq_ons::config::keys;
use rocketmq_ons::{Action, ConsumeContext, Consumer, ErrorKind, Message, MessageListener, Producer, Properties};

fn ignore_all() -> Arc<dyn MessageListener> {
    Arc::new(|_: &Message, _: &ConsumeContext| Action::CommitMessage)
}

#[test]
fn start_fails_naming_the_name_servers_when_none_answers() {
    let unreachable =
        |group: &str| Properties::new().with(keys::NAMESRV_ADDR, "127.0.0.1:1;127.0.0.1:2").with(keys::GROUP_ID, group);
    let check = |err: rocketmq_ons::Error, group: &str| {
        assert_eq!(err.kind(), ErrorKind::Network, "{err}");
        let text = err.to_string();
        for part in [group, "cannot start", "127.0.0.1:1", "127.0.0.1:2"] {
            assert!(text.contains(part), "the error names {part:?}: {text}");
        }
    };

    // An async caller (start() inside the runtime).
    let group = unique_name("GID_start_unreachable");
    rt().block_on(async {
        let consumer = Consumer::new(&unreachable(&group)).unwrap();
        consumer.subscribe("T_start_unreachable", "*", ignore_all()).unwrap();
        check(consumer.start().unwrap_err(), &group);
        assert!(!consumer.is_started() && !consumer.is_closed());
        // Nothing was started, so it can be tried again; it fails the same way.
        check(consumer.start().unwrap_err(), &group);
    });

    // A thread that only entered the runtime, as the bindings' threads do.
    let group = unique_name("GID_start_unreachable_thread");
    let _entered = rt().enter();
    let consumer = Consumer::new(&unreachable(&group)).unwrap();
    consumer.subscribe("T_start_unreachable", "*", ignore_all()).unwrap();
    check(consumer.start().unwrap_err(), &group);
}

#[test]
fn a_topic_without_route_is_a_warning_naming_it_and_is_consumed_once_created() {
    capture_logs();
    let topic = unique_name("T_not_yet");
    let group = unique_name("GID_not_yet");
    rt().block_on(async {
        let consumer = Consumer::new(&plain_props(&group)).unwrap();
        let received = Arc::new(parking_lot::Mutex::new(Vec::<String>::new()));
        let sink = received.clone();
        let listener: Arc<dyn MessageListener> = Arc::new(move |m: &Message, _: &ConsumeContext| {
            sink.lock().push(String::from_utf8_lossy(&m.body).into_owned());
            Action::CommitMessage
        });
        consumer.subscribe(&topic, "*", listener).unwrap();
        consumer.start().expect("a reachable name server is enough to start");

        let warning = format!("route lookup of topic {topic} failed, retrying");
        let warned = || captured_logs().lines().filter(|l| l.contains("WARN") && l.contains(&warning)).count();
        wait_for("the warning about the missing topic", Duration::from_secs(10), || async { warned() > 0 }).await;
        let line = captured_logs().lines().find(|l| l.contains(&warning)).unwrap_or_default().to_owned();
        assert!(line.contains(&group), "the warning names the group: {line}");
        assert!(line.contains("no route"), "the warning gives the cause: {line}");
        // Retries (every few hundred ms at first) do not repeat it.
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert_eq!(warned(), 1, "one warning, not one per retry:\n{}", captured_logs());

        // Once the topic exists, the consumer takes its queues and consumes.
        let admin = Admin::new(&plain_props("GID_test_admin")).unwrap();
        create_topic(&admin, &topic, 2).await;
        let producer = Producer::new(&plain_props(&unique_name("GID_not_yet_producer"))).unwrap();
        producer.start().unwrap();
        let recovered = format!("route lookup of topic {topic} succeeds again");
        wait_for("the topic's route", Duration::from_secs(60), || async {
            captured_logs().lines().any(|l| l.contains(&recovered))
        })
        .await;
        // Consumers of a new group start from the last offset: send once its queues are taken.
        wait_for("the queues", Duration::from_secs(60), || async { !consumer.assignment().is_empty() }).await;
        producer.send(&Message::new(&topic, None, "after creation")).await.unwrap();
        wait_for("the message", Duration::from_secs(60), || async {
            received.lock().iter().any(|b| b == "after creation")
        })
        .await;
        producer.shutdown().await;
        consumer.shutdown().await;
    });
}
