//! The management operations of `Admin` (issue 17) on a real two-broker cluster of the version
//! under test, each cross-checked with the official `mqadmin` of that version on the same
//! cluster state, in both directions where it applies: what ours creates or deletes, mqadmin
//! sees so; what mqadmin creates or deletes, ours reads so.
//!
//! The binary starts one cluster of its own with two brokers (broker-a, broker-b), so that
//! "every master" means two. Tests use names of their own and run side by side on it.

mod allocation;
mod clients;
mod cluster;
mod consumers;
mod delivery;
mod groups;
mod messages;
mod offsets;
mod topics;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use ons_tests::support::wait_for;
use ons_tests::OwnCluster;
use rocketmq_ons::admin::{Admin, TopicConfig};
use rocketmq_ons::config::keys;
use rocketmq_ons::protocol::lenient_json;
use rocketmq_ons::{Action, ConsumeContext, Message, MessageListener, Properties, SendResult};

/// The two-broker cluster of this test binary.
fn cluster() -> &'static OwnCluster {
    static CLUSTER: OnceLock<Result<OwnCluster, String>> = OnceLock::new();
    match CLUSTER.get_or_init(|| OwnCluster::start(&["--brokers", "2"])) {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    }
}

/// The cluster name the harness gives its brokers.
fn cluster_name() -> String {
    cluster().var("ONS_TEST_CLUSTER").unwrap_or_else(|| "DefaultCluster".to_owned())
}

/// The addresses of broker-a and broker-b.
fn broker_addrs() -> [String; 2] {
    let var = |k: &str| cluster().var(k).unwrap_or_else(|| panic!("no {k} in the cluster's env"));
    [var("BROKER_A_ADDR"), var("BROKER_B_ADDR")]
}

fn props(group: &str) -> Properties {
    Properties::new().with(keys::NAMESRV_ADDR, &cluster().namesrv).with(keys::GROUP_ID, group)
}

/// Settings of a consumer of `group` that starts a new group at each queue's first message:
/// with the default (the last offset) a message sent while the consumer is still taking its
/// queues is skipped when a queue's first lookup found it empty.
fn consumer_props(group: &str) -> Properties {
    props(group).with(keys::CONSUME_FROM_WHERE, "CONSUME_FROM_FIRST_OFFSET")
}

/// An admin client of the cluster; call within the tests' runtime.
fn admin() -> Admin {
    Admin::new(&props("GID_admin_tests")).unwrap()
}

/// The version as brokers report it in `brokerVersionDesc`: `5.3.3` → `V5_3_3`.
fn version_desc() -> String {
    format!("V{}", ons_tests::broker_version().replace('.', "_"))
}

fn is_4x() -> bool {
    ons_tests::broker_version().starts_with("4.")
}

/// Runs mqadmin against the cluster and returns its stdout; panics if it could not run or its
/// output says the command failed (mqadmin exits 0 then too).
fn mqadmin(args: &[&str]) -> String {
    let out = cluster().mqadmin(args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && !stdout.contains("command failed") && !stderr.contains("command failed"),
        "mqadmin {args:?} failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    stdout
}

/// mqadmin's output, stdout and stderr, for commands expected to fail.
fn mqadmin_any(args: &[&str]) -> String {
    let out = cluster().mqadmin(args);
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// The first JSON object in mqadmin's output (fastjson's pretty form, not always standard JSON).
fn json_in(output: &str) -> serde_json::Value {
    let start = output.find('{').unwrap_or_else(|| panic!("no JSON in mqadmin output:\n{output}"));
    let end = output.rfind('}').unwrap_or_else(|| panic!("no JSON in mqadmin output:\n{output}"));
    lenient_json::parse_str(&output[start..=end]).unwrap_or_else(|e| panic!("{e}:\n{output}"))
}

/// The whitespace-separated columns of mqadmin's table rows whose first column is `first`.
fn rows_starting_with<'a>(output: &'a str, first: &str) -> Vec<Vec<&'a str>> {
    output
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|cols| cols.first() == Some(&first))
        .collect()
}

/// Creates `topic` with `queues` queues on both brokers through ours and waits for its route.
async fn create_routed(admin: &Admin, topic: &str, queues: u32) {
    admin.update_topic(&cluster_name(), &TopicConfig::new(topic, queues)).await.unwrap();
    wait_for_route_on_both(admin, topic).await;
}

/// Waits until the name servers route `topic` to both brokers (5.x brokers register a change at
/// once, 4.x ones with their next registration).
async fn wait_for_route_on_both(admin: &Admin, topic: &str) {
    wait_for(&format!("topic {topic} routed to both brokers"), Duration::from_secs(60), || async {
        admin.topic_route(topic).await.is_ok_and(|r| r.queues.len() == 2)
    })
    .await;
}

/// mqadmin consumerProgress's rows for `topic`: broker name, queue id, broker offset, consumer
/// offset (without -t, which 4.9.7 lacks).
fn mqadmin_progress(group: &str, topic: &str) -> Vec<(String, i32, i64, i64)> {
    let out = mqadmin(&["consumerProgress", "-g", group]);
    // #Topic #Broker Name #QID #Broker Offset #Consumer Offset #Diff ...
    rows_starting_with(&out, topic)
        .into_iter()
        .map(|c| (c[1].to_owned(), c[2].parse().unwrap(), c[3].parse().unwrap(), c[4].parse().unwrap()))
        .collect()
}

/// A listener that records the id of every message it is given, in delivery order, and holds
/// deliveries (up to a minute each) while [`Recorder::hold`] is set. A message whose body is
/// `later` it asks to be consumed again later; one whose body is `panic` makes it panic.
#[derive(Clone, Default)]
struct Recorder {
    seen: Arc<Mutex<Vec<String>>>,
    hold: Arc<AtomicBool>,
}

impl Recorder {
    fn listener(&self) -> Arc<dyn MessageListener> {
        let me = self.clone();
        Arc::new(move |m: &Message, _: &ConsumeContext| {
            me.seen.lock().unwrap().push(m.msg_id.clone().unwrap_or_default());
            let until = std::time::Instant::now() + Duration::from_secs(60);
            while me.hold.load(Ordering::SeqCst) && std::time::Instant::now() < until {
                std::thread::sleep(Duration::from_millis(20));
            }
            match m.body.as_ref() {
                b"later" => Action::ReconsumeLater,
                b"panic" => panic!("asked to panic (expected by the test)"),
                _ => Action::CommitMessage,
            }
        })
    }

    fn deliveries(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }

    /// How many times each of `ids` was delivered, fewest first.
    fn times_each(&self, ids: &BTreeSet<String>) -> usize {
        let seen = self.deliveries();
        ids.iter().map(|id| seen.iter().filter(|s| *s == id).count()).min().unwrap_or(0)
    }
}

fn ids_of(sent: &[SendResult]) -> BTreeSet<String> {
    sent.iter().map(|r| r.message_id.clone()).collect()
}

/// The official Java push consumer (`Oracle consume`) of `topic` in `group`, on a thread of its
/// own, with `args` added (`--count N`, `--timeout-ms M`, ...); join it for its output.
fn spawn_java_consumer(topic: &str, group: &str, args: &[&str]) -> std::thread::JoinHandle<std::process::Output> {
    let mut all: Vec<String> = ["consume", "--topic", topic, "--group", group].map(str::to_owned).to_vec();
    all.extend(args.iter().map(|a| (*a).to_owned()));
    std::thread::spawn(move || cluster().java_oracle(&all.iter().map(String::as_str).collect::<Vec<_>>()))
}

/// Waits until the group's one online client is connected to both brokers; its client id.
async fn online_on_both(admin: &Admin, group: &str) -> String {
    wait_for("the consumer online on both brokers", Duration::from_secs(60), || async {
        admin
            .consumer_connections(group)
            .await
            .is_ok_and(|c| c.clients.first().is_some_and(|c| c.client_addrs.len() == 2))
    })
    .await;
    admin.consumer_connections(group).await.unwrap().clients[0].client_id.clone()
}
