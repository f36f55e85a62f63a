//! Topics: `update_topic`, `delete_topic`, `list_topics`, `topic_route` and `topic_stats` against
//! `mqadmin updateTopic`, `deleteTopic`, `topicList`, `topicRoute` and `topicStatus`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use ons_tests::support::{rt, wait_for};
use rocketmq_ons::admin::{Admin, TopicConfig};
use rocketmq_ons::client::ClientInstance;
use rocketmq_ons::config::ClientConfig;
use rocketmq_ons::protocol::codes::response;
use rocketmq_ons::protocol::headers::{GetTopicStatsInfoRequestHeader, RequestHeader};
use rocketmq_ons::{ErrorKind, Message, Producer};

use super::{
    admin, broker_addrs, cluster_name, create_routed, json_in, mqadmin, mqadmin_any, props, wait_for_route_on_both,
};

/// (read, write, perm) of each broker's queue data in mqadmin topicRoute's JSON.
fn mqadmin_route(topic: &str) -> BTreeMap<String, (i64, i64, i64)> {
    let out = mqadmin(&["topicRoute", "-t", topic]);
    let route = json_in(&out);
    route["queueDatas"]
        .as_array()
        .unwrap_or_else(|| panic!("no queueDatas:\n{out}"))
        .iter()
        .map(|q| {
            let n = |k: &str| q[k].as_i64().unwrap();
            (q["brokerName"].as_str().unwrap().to_owned(), (n("readQueueNums"), n("writeQueueNums"), n("perm")))
        })
        .collect()
}

async fn our_route(admin: &Admin, topic: &str) -> BTreeMap<String, (i64, i64, i64)> {
    let route = admin.topic_route(topic).await.unwrap();
    assert_eq!(route.brokers.len(), route.queues.len(), "{route:?}");
    route
        .queues
        .iter()
        .map(|q| (q.broker_name.clone(), (q.read_queue_nums.into(), q.write_queue_nums.into(), q.perm.into())))
        .collect()
}

fn on_both(read: i64, write: i64, perm: i64) -> BTreeMap<String, (i64, i64, i64)> {
    ["broker-a", "broker-b"].into_iter().map(|b| (b.to_owned(), (read, write, perm))).collect()
}

#[test]
fn ours_creates_and_updates_on_every_master_and_mqadmin_sees_it() {
    let topic = ons_tests::unique_name("adm_topic_ours");
    rt().block_on(async {
        let admin = admin();
        let config = TopicConfig { read_queue_nums: 3, write_queue_nums: 2, ..TopicConfig::new(&topic, 2) };
        let brokers = admin.update_topic(&cluster_name(), &config).await.unwrap();
        assert_eq!(brokers, ["broker-a", "broker-b"]);
        wait_for_route_on_both(&admin, &topic).await;
        assert_eq!(our_route(&admin, &topic).await, on_both(3, 2, 6));
        assert!(admin.list_topics().await.unwrap().contains(&topic));
    });
    assert!(mqadmin(&["topicList"]).lines().any(|l| l.trim() == topic), "mqadmin topicList lacks {topic}");
    assert_eq!(mqadmin_route(&topic), on_both(3, 2, 6));

    // An update: more queues, read-only.
    rt().block_on(async {
        let admin = admin();
        let config = TopicConfig { perm: TopicConfig::PERM_READ, ..TopicConfig::new(&topic, 4) };
        admin.update_topic(&cluster_name(), &config).await.unwrap();
        wait_for("the update in the route", Duration::from_secs(60), || async {
            our_route(&admin, &topic).await == on_both(4, 4, 4)
        })
        .await;
    });
    assert_eq!(mqadmin_route(&topic), on_both(4, 4, 4));
}

#[test]
fn mqadmin_creates_and_ours_reads_list_route_and_stats() {
    let topic = ons_tests::unique_name("adm_topic_theirs");
    mqadmin(&["updateTopic", "-c", &cluster_name(), "-t", &topic, "-r", "3", "-w", "3", "-p", "6"]);
    rt().block_on(async {
        let admin = admin();
        wait_for_route_on_both(&admin, &topic).await;
        assert!(admin.list_topics().await.unwrap().contains(&topic));
        let route = admin.topic_route(&topic).await.unwrap();
        assert!(route.brokers.iter().all(|b| b.cluster == cluster_name()), "{route:?}");
        let [a, b] = broker_addrs();
        assert_eq!(route.brokers[0].addrs.get(&0), Some(&a));
        assert_eq!(route.brokers[1].addrs.get(&0), Some(&b));
        assert_eq!(our_route(&admin, &topic).await, on_both(3, 3, 6));
        let stats = admin.topic_stats(&topic).await.unwrap();
        assert_eq!(stats.queues.len(), 6, "{stats:?}");
        assert!(stats
            .queues
            .iter()
            .all(|q| q.queue.topic == topic && q.max_offset == 0 && q.last_update_timestamp == 0));
    });
}

#[test]
fn topic_stats_match_mqadmin_topic_status() {
    let topic = ons_tests::unique_name("adm_topic_stats");
    const SENT: i64 = 12;
    let stats = rt().block_on(async {
        let admin = admin();
        create_routed(&admin, &topic, 2).await;
        let producer = Producer::new(&props("GID_admin_stats_producer")).unwrap();
        producer.start().unwrap();
        for i in 0..SENT {
            producer.send(&Message::new(&topic, None, format!("m{i}"))).await.unwrap();
        }
        producer.shutdown().await;
        // Queues count a message once the broker's dispatch has written it.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let stats = admin.topic_stats(&topic).await.unwrap();
            if stats.queues.iter().map(|q| q.max_offset).sum::<i64>() == SENT || Instant::now() > deadline {
                return stats;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    assert_eq!(stats.queues.iter().map(|q| q.max_offset).sum::<i64>(), SENT, "{stats:?}");
    assert_eq!(stats.queues.len(), 4);
    for q in &stats.queues {
        assert_eq!(q.min_offset, 0);
        assert_eq!(q.last_update_timestamp > 0, q.max_offset > 0, "{q:?}");
    }
    assert!(
        stats.queues.iter().any(|q| q.queue.broker_name == "broker-b" && q.max_offset > 0),
        "both brokers got messages"
    );

    // mqadmin topicStatus rows: #Broker Name, #QID, #Min Offset, #Max Offset, #Last Updated.
    let out = mqadmin(&["topicStatus", "-t", &topic]);
    let mut theirs = Vec::new();
    for broker in ["broker-a", "broker-b"] {
        for c in super::rows_starting_with(&out, broker) {
            theirs.push((
                c[0].to_owned(),
                c[1].parse::<i32>().unwrap(),
                c[2].parse::<i64>().unwrap(),
                c[3].parse::<i64>().unwrap(),
            ));
        }
    }
    let ours: Vec<_> = stats
        .queues
        .iter()
        .map(|q| (q.queue.broker_name.clone(), q.queue.queue_id, q.min_offset, q.max_offset))
        .collect();
    assert_eq!(ours, theirs, "mqadmin topicStatus:\n{out}");
}

/// GET_TOPIC_STATS_INFO straight to one broker: whether it still has the topic.
async fn broker_has_topic(addr: &str, topic: &str) -> bool {
    let instance =
        ClientInstance::get_or_create(&ClientConfig::from_properties(&props("GID_admin_probe"), false).unwrap());
    let cmd = GetTopicStatsInfoRequestHeader { topic }.command();
    let resp = instance.invoke(addr, cmd, Duration::from_secs(5)).await.unwrap();
    assert!(matches!(resp.code, response::SUCCESS | response::TOPIC_NOT_EXIST), "{resp:?}");
    resp.code == response::SUCCESS
}

#[test]
fn ours_deletes_from_both_brokers_and_the_name_server_and_mqadmin_agrees() {
    let topic = ons_tests::unique_name("adm_topic_del_ours");
    rt().block_on(async {
        let admin = admin();
        create_routed(&admin, &topic, 2).await;
        for addr in broker_addrs() {
            assert!(broker_has_topic(&addr, &topic).await);
        }
        admin.delete_topic(&cluster_name(), &topic).await.unwrap();
        for addr in broker_addrs() {
            assert!(!broker_has_topic(&addr, &topic).await, "{addr} still has {topic}");
        }
        assert!(!admin.list_topics().await.unwrap().contains(&topic));
        assert_eq!(admin.topic_route(&topic).await.unwrap_err().kind(), ErrorKind::TopicNotFound);
    });
    assert!(!mqadmin(&["topicList"]).lines().any(|l| l.trim() == topic));
    let out = mqadmin_any(&["topicRoute", "-t", &topic]);
    assert!(!out.contains("queueDatas"), "mqadmin topicRoute still finds {topic}:\n{out}");
}

#[test]
fn mqadmin_deletes_and_ours_no_longer_finds_it() {
    let topic = ons_tests::unique_name("adm_topic_del_theirs");
    rt().block_on(async {
        let admin = admin();
        create_routed(&admin, &topic, 1).await;
    });
    let out = mqadmin(&["deleteTopic", "-c", &cluster_name(), "-t", &topic]);
    assert!(out.contains("success"), "{out}");
    rt().block_on(async {
        let admin = admin();
        assert!(!admin.list_topics().await.unwrap().contains(&topic));
        assert_eq!(admin.topic_route(&topic).await.unwrap_err().kind(), ErrorKind::TopicNotFound);
        assert_eq!(admin.topic_stats(&topic).await.unwrap_err().kind(), ErrorKind::TopicNotFound);
    });
}

#[test]
fn bad_arguments_and_unknown_clusters_are_refused_by_name() {
    rt().block_on(async {
        let admin = admin();
        let err = admin.update_topic("NoSuchCluster", &TopicConfig::new("adm_never", 1)).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
        assert!(
            err.message().contains("cluster NoSuchCluster is not known") && err.message().contains(&cluster_name()),
            "{err}"
        );
        let err = admin.update_topic(&cluster_name(), &TopicConfig::new("bad topic", 1)).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
        let err = admin.update_topic(&cluster_name(), &TopicConfig::new("adm_zero", 0)).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
        let err = admin.delete_topic("NoSuchCluster", "adm_never").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
        // Brokers refuse to delete a system topic: the error names each broker and its remark.
        let err = admin.delete_topic(&cluster_name(), "SCHEDULE_TOPIC_XXXX").await.unwrap_err();
        let text = err.message();
        assert!(text.contains("delete topic SCHEDULE_TOPIC_XXXX on broker broker-"), "{err}");
        assert!(text.contains("conflict with system topic"), "{err}");
        assert!(text.contains("failed on broker-a, broker-b"), "{err}");
    });
}
