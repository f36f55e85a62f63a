//! A consumer group at run time: `consumer_connections` and `consume_stats` against `mqadmin
//! consumerConnection` and `consumerProgress`, with one push consumer of this client online on
//! a topic that lives on both brokers.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ons_tests::support::{rt, wait_for};
use rocketmq_ons::{Action, ConsumeContext, Consumer, Message, MessageListener, Producer};

use super::{admin, create_routed, mqadmin, props, rows_starting_with};

const SENT: i64 = 10;

#[test]
fn online_consumer_and_its_progress_match_mqadmin() {
    let topic = ons_tests::unique_name("adm_consumed");
    let group = ons_tests::unique_name("GID_adm_consumer");
    let consumed = Arc::new(AtomicUsize::new(0));
    let consumer = rt().block_on(async {
        let admin = admin();
        create_routed(&admin, &topic, 2).await;
        let consumer = Consumer::new(&props(&group)).unwrap();
        let count = consumed.clone();
        let listener: Arc<dyn MessageListener> = Arc::new(move |_: &Message, _: &ConsumeContext| {
            count.fetch_add(1, Ordering::SeqCst);
            Action::CommitMessage
        });
        consumer.subscribe(&topic, "tagA || tagB", listener).unwrap();
        consumer.start().unwrap();
        wait_for("the consumer online on both brokers", Duration::from_secs(60), || async {
            admin
                .consumer_connections(&group)
                .await
                .is_ok_and(|c| c.clients.first().is_some_and(|c| c.client_addrs.len() == 2))
        })
        .await;
        let producer = Producer::new(&props("GID_adm_consumed_producer")).unwrap();
        producer.start().unwrap();
        for i in 0..SENT {
            producer.send(&Message::new(&topic, Some("tagA"), format!("m{i}"))).await.unwrap();
        }
        producer.shutdown().await;
        wait_for("every message consumed", Duration::from_secs(60), || async {
            consumed.load(Ordering::SeqCst) as i64 >= SENT
        })
        .await;
        // Consumed offsets reach the brokers with the consumer's next periodic commit.
        wait_for("the consumer offsets committed", Duration::from_secs(60), || async {
            let stats = admin.consume_stats(&group, Some(&topic)).await.unwrap();
            stats.queues.iter().map(|q| q.consumer_offset).sum::<i64>() == SENT && stats.total_lag() == 0
        })
        .await;
        consumer
    });

    // Connections: ours against mqadmin consumerConnection.
    let connections = rt().block_on(async { admin().consumer_connections(&group).await.unwrap() });
    assert_eq!(connections.clients.len(), 1, "{connections:?}");
    let client = &connections.clients[0];
    assert_eq!(client.language, "RUST");
    assert_eq!(client.client_addrs.keys().collect::<Vec<_>>(), ["broker-a", "broker-b"]);
    assert_eq!(connections.consume_type.as_deref(), Some("CONSUME_PASSIVELY"));
    assert_eq!(connections.message_model.as_deref(), Some("CLUSTERING"));
    let sub = connections.subscriptions.iter().find(|s| s.topic == topic).expect("the topic's subscription");
    assert_eq!(
        (sub.sub_string.as_str(), sub.tags.as_slice()),
        ("tagA || tagB", &["tagA".to_owned(), "tagB".to_owned()][..])
    );

    let out = mqadmin(&["consumerConnection", "-g", &group]);
    // #ClientId #ClientAddr #Language #Version
    let row = rows_starting_with(&out, &client.client_id);
    assert_eq!(row.len(), 1, "mqadmin consumerConnection:\n{out}");
    // mqadmin asks one broker of the retry topic's route: its view of the client's address.
    assert!(client.client_addrs.values().any(|a| a == row[0][1]), "{client:?}\n{out}");
    assert_eq!(row[0][2], "RUST", "{out}");
    // #Topic #SubExpression
    let sub_row = rows_starting_with(&out, &topic);
    assert_eq!(sub_row.len(), 1, "{out}");
    assert_eq!(sub_row[0][1..].join(" "), "tagA || tagB", "{out}");
    assert!(out.contains("ConsumeType: CONSUME_PASSIVELY") && out.contains("MessageModel: CLUSTERING"), "{out}");
    assert!(
        out.contains(&format!("ConsumeFromWhere: {}", connections.consume_from_where.as_deref().unwrap())),
        "{out}"
    );

    // Progress: ours against mqadmin consumerProgress, the consumer still online and idle.
    let stats = rt().block_on(async { admin().consume_stats(&group, Some(&topic)).await.unwrap() });
    let topic_queues: Vec<_> = stats.queues.iter().filter(|q| q.queue.topic == topic).collect();
    assert_eq!(topic_queues.len(), 4, "{stats:?}");
    for q in &topic_queues {
        assert_eq!(q.lag, 0);
        assert_eq!(q.last_timestamp > 0, q.consumer_offset > 0, "{q:?}");
    }
    // Without -t, which 4.9.7's consumerProgress lacks: every topic of the group, this one's rows
    // picked out.
    let out = mqadmin(&["consumerProgress", "-g", &group]);
    // #Topic #Broker Name #QID #Broker Offset #Consumer Offset #Diff ...
    let theirs: Vec<_> = rows_starting_with(&out, &topic)
        .into_iter()
        .map(|c| {
            (c[1].to_owned(), c[2].parse::<i32>().unwrap(), c[3].parse::<i64>().unwrap(), c[4].parse::<i64>().unwrap())
        })
        .collect();
    let ours: Vec<_> = topic_queues
        .iter()
        .map(|q| (q.queue.broker_name.clone(), q.queue.queue_id, q.broker_offset, q.consumer_offset))
        .collect();
    assert_eq!(ours, theirs, "mqadmin consumerProgress:\n{out}");
    assert!(out.contains("Diff Total: 0"), "{out}");

    // Every topic of the group, without naming one: the retry topic too once it exists.
    let all = rt().block_on(async { admin().consume_stats(&group, None).await.unwrap() });
    assert!(all.queues.iter().filter(|q| q.queue.topic == topic).count() == 4, "{all:?}");

    rt().block_on(consumer.shutdown());
}

#[test]
fn a_group_nobody_uses_is_empty_not_an_error() {
    let group = ons_tests::unique_name("GID_adm_nobody");
    rt().block_on(async {
        let admin = admin();
        let connections = admin.consumer_connections(&group).await.unwrap();
        assert!(connections.clients.is_empty() && connections.subscriptions.is_empty(), "{connections:?}");
        let stats = admin.consume_stats(&group, None).await.unwrap();
        assert!(stats.queues.is_empty(), "{stats:?}");
    });
}
