//! High availability in 5.x controller mode, on a cluster of its own (`rmq.sh --controller`: a
//! name server with an embedded controller, broker set broker-a of three brokers whose master
//! the controller elects, `allAckInSyncStateSet=true`; slaves do not serve reads):
//!
//! * sync sends made while the master is SIGKILLed fail until the controller has elected a new
//!   master and the name server lists it; then they succeed on the new master of the same set
//!   (the producer asks the name server again after a failed send, see
//!   docs/high-availability.md), within a bound the test states;
//! * a consumer reading the set's queues keeps consuming: every message acknowledged before the
//!   kill (so on every broker of the sync state set the new master comes from) and every
//!   message acknowledged by the new master is consumed, within a bound the test states
//!   (unique message ids: the new master's copy of the group's offsets may be a few seconds
//!   old, so some messages come twice).
//!
//! Controller mode came with 5.0: against 4.x brokers the test checks that the harness refuses
//! `--controller` with a clear error. The timings are printed
//! (`ONS_TEST_BROKER_VERSION=5.3.3 cargo test -p ons-tests --test ha_controller -- --nocapture`).

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use ons_tests::support::{
    capture_logs, create_topic, rt, start_slow_consumer, wait_all_consumed, wait_for, ConsumedLog,
};
use ons_tests::OwnCluster;
use rocketmq_ons::admin::Admin;
use rocketmq_ons::config::keys;
use rocketmq_ons::protocol::msgid::decode_offset_msg_id;
use rocketmq_ons::{Message, Producer, Properties, SendResult, SendStatus};

/// The controller-mode broker set.
const SET: &str = "broker-a";
/// Its brokers' names in the harness (`rmq.sh broker kill NAME`).
const REPLICAS: [&str; 3] = ["broker-a-0", "broker-a-1", "broker-a-2"];
/// Messages sent before the kill.
const BEFORE: usize = 200;
/// Messages the new master must acknowledge before the sends stop.
const AFTER: usize = 30;
/// Pause between the sends after the kill (failed or not): a failed send fails fast once the
/// name server lists no master, so without it the loop would only measure the name server.
const SEND_PAUSE: Duration = Duration::from_millis(50);
/// How long after the kill sends may fail: the controller notices the closed connection and
/// elects a new master from the sync state set within a second or two when idle; this allows
/// for a loaded machine (2 cores, other clusters and builds running).
const SENDS_RESUME_WITHIN: Duration = Duration::from_secs(45);
/// How long after the kill consuming every acknowledged message may take: the listener's pace
/// (about 200 messages at 40 ms on 2 threads is 4 s) plus pulls passing from the dead master to
/// the other brokers of the set.
const CONSUMED_WITHIN: Duration = Duration::from_secs(75);
/// Slaves copy the master's topic configs, subscription groups and consumer offsets when a check
/// every 3 s finds the last copy more than 10 s old, so at most 13 s apart
/// (`ReplicasManager.handleSlaveSynchronize` in apache/rocketmq 5.3.3); the consumer starts (and
/// the kill comes) this long after the topic was created so that a new master knows it.
/// The group needs no copy: brokers create subscription groups on first use
/// (`autoCreateSubscriptionGroup`).
const CONFIG_COPIED_AFTER: Duration = Duration::from_secs(16);

fn start_cluster() -> Result<OwnCluster, String> {
    OwnCluster::start(&[
        "--controller",
        // Three brokers: smaller heaps than the harness default of 1 GiB.
        "--broker-jvm-opt",
        "-Xms384m",
        "--broker-jvm-opt",
        "-Xmx384m",
    ])
}

fn props(cluster: &OwnCluster, group: &str) -> Properties {
    Properties::new()
        .with(keys::NAMESRV_ADDR, &cluster.namesrv)
        .with(keys::GROUP_ID, group)
        .with(keys::SEND_MSG_TIMEOUT_MILLIS, "3000")
}

/// The address of the set's master as the name server lists it (brokerId 0), if any.
async fn master_addr(admin: &Admin) -> Option<String> {
    let brokers = admin.cluster_list().await.ok()?;
    brokers.into_iter().find(|b| b.broker_name == SET && b.broker_id == 0).map(|b| b.addr)
}

/// The broker that stored a sent message: the store host of its offset message id.
fn stored_on(sent: &SendResult) -> String {
    let id = decode_offset_msg_id(&sent.offset_msg_id)
        .unwrap_or_else(|e| panic!("offset message id {} of a send: {e}", sent.offset_msg_id));
    id.store_host.to_string()
}

#[test]
fn sends_resume_on_the_new_master_and_consumers_keep_consuming_after_the_master_dies() {
    if ons_tests::broker_version().starts_with("4.") {
        let err = start_cluster().err().expect("rmq.sh --controller must refuse a 4.x cluster");
        assert!(err.contains("--controller needs RocketMQ 5.x"), "unexpected harness error: {err}");
        return;
    }
    let cluster = start_cluster().unwrap_or_else(|e| panic!("{e}"));
    let topic = ons_tests::unique_name("HaCtrlTopic");
    let group = ons_tests::unique_name("GID_ha_ctrl");
    let consumed = ConsumedLog::default();

    capture_logs();
    rt().block_on(async {
        let admin = Admin::new(&props(&cluster, "GID_ha_ctrl_admin")).unwrap();
        create_topic(&admin, &topic, 4).await;
        let topic_created = Instant::now();
        let producer = Producer::new(&props(&cluster, "GID_ha_ctrl_producer")).unwrap();
        producer.start().unwrap();
        // Acknowledged as stored on every broker of the sync state set (SEND_OK with
        // allAckInSyncStateSet); other statuses are counted, their messages not expected.
        let mut acknowledged = BTreeMap::new();
        let mut not_replicated = 0;
        for i in 0..BEFORE {
            let sent = producer.send(&Message::new(&topic, Some("before"), format!("before-{i}"))).await.unwrap();
            if sent.status == SendStatus::SendOk {
                acknowledged.insert(sent.message_id, sent.broker_name.clone());
            } else {
                not_replicated += 1;
            }
        }
        assert!(acknowledged.len() >= BEFORE / 2, "only {} of {BEFORE} sends were SEND_OK", acknowledged.len());
        tokio::time::sleep(CONFIG_COPIED_AFTER.saturating_sub(topic_created.elapsed())).await;

        // Small pulls and a slow listener: most messages are still at the broker when the
        // master dies. A client instance of its own: what the consumer learns of the new
        // master it learns itself, not from the producer's route lookups.
        let consumer = start_slow_consumer(
            props(&cluster, &group).with(keys::INSTANCE_NAME, "ha_ctrl_consumer"),
            &topic,
            consumed.clone(),
        );
        let consumed_count = || consumed.lock().unwrap().len();
        wait_for("some messages consumed", Duration::from_secs(60), || async { consumed_count() >= 10 }).await;

        let old_master = master_addr(&admin).await.expect("the controller elected no master of broker-a");
        let victim = REPLICAS
            .iter()
            .find(|name| {
                cluster.var(&format!("{}_ADDR", name.to_uppercase().replace('-', "_"))) == Some(old_master.clone())
            })
            .unwrap_or_else(|| panic!("master {old_master} is none of the harness's {REPLICAS:?}"));
        let before_kill = consumed_count();
        cluster.broker("kill", victim).unwrap();
        let killed = Instant::now();
        eprintln!("killed the master {victim} ({old_master}) with {before_kill} of {BEFORE} messages consumed");

        // The name server's view, polled beside the sends: when it lists a new master.
        let elected = async {
            loop {
                match master_addr(&admin).await {
                    Some(addr) if addr != old_master => return (addr, killed.elapsed()),
                    _ => {}
                }
                assert!(
                    killed.elapsed() < SENDS_RESUME_WITHIN,
                    "no new master listed {SENDS_RESUME_WITHIN:?} after the kill"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        };
        let sends = async {
            let mut failed = 0;
            let mut first_success = None;
            let mut stored_after = BTreeSet::new();
            let mut on_new_master = Vec::new();
            let mut i = 0;
            while on_new_master.len() < AFTER {
                assert!(
                    first_success.is_some() || killed.elapsed() < SENDS_RESUME_WITHIN,
                    "sends still failing {SENDS_RESUME_WITHIN:?} after the kill ({failed} failed)"
                );
                match producer.send(&Message::new(&topic, Some("after"), format!("after-{i}"))).await {
                    Ok(sent) => {
                        first_success.get_or_insert_with(|| killed.elapsed());
                        stored_after.insert(stored_on(&sent));
                        on_new_master.push(sent);
                    }
                    Err(e) => {
                        if failed < 3 {
                            eprintln!("send {i} after the kill failed: {e}");
                        }
                        failed += 1;
                    }
                }
                i += 1;
                tokio::time::sleep(SEND_PAUSE).await;
            }
            (failed, first_success.expect("a send succeeded"), stored_after, on_new_master)
        };
        let ((new_master, elected_after), (failed, resumed_after, stored_after, on_new_master)) =
            tokio::join!(elected, sends);
        eprintln!(
            "new master {new_master} listed {elected_after:?} after the kill; sync sends: {failed} failed, the first \
             success {resumed_after:?} after the kill"
        );
        assert_ne!(new_master, old_master);
        assert_eq!(
            stored_after,
            BTreeSet::from([new_master.clone()]),
            "sends after the kill must be stored on the new master"
        );
        assert!(on_new_master.iter().all(|s| &*s.broker_name == SET));
        for sent in on_new_master {
            if sent.status == SendStatus::SendOk {
                acknowledged.insert(sent.message_id, sent.broker_name.clone());
            } else {
                not_replicated += 1;
            }
        }

        wait_all_consumed(&acknowledged, &consumed, killed, "the kill", CONSUMED_WITHIN).await;
        let deliveries = consumed_count();
        eprintln!(
            "every acknowledged message ({}, {not_replicated} sends with another status) consumed {:?} after the kill; \
             {} deliveries after the kill, {} of them repeats",
            acknowledged.len(),
            killed.elapsed(),
            deliveries - before_kill,
            deliveries - consumed.lock().unwrap().iter().map(|(id, _)| id).collect::<BTreeSet<_>>().len(),
        );
        // More than the consumer can have held at the kill (4 queues x 2 per pull, 2 listeners
        // running, a reply in flight per queue): the rest came from the remaining brokers.
        assert!(deliveries - before_kill > 20, "only {} messages consumed after the kill", deliveries - before_kill);
        consumer.shutdown().await;
        producer.shutdown().await;
    });
}
