//! Namespaces (`INSTANCE_ID`, alias `Namespace`) on one real broker: the same topic name in two
//! namespaces is two topics (`NS%T` on the wire), messages sent in one are not seen through the
//! other, by our `Admin` or by the Java client's `--namespace`, and users see plain topic names.

use ons_tests::support::{create_topic, hex_encode, rt};
use ons_tests::{query_until_found, stored_count_reaching};
use rocketmq_ons::admin::Admin;
use rocketmq_ons::config::keys;
use rocketmq_ons::{ErrorKind, Message, Producer, Properties, SendResult};

fn props(namespace: Option<&str>, group: &str) -> Properties {
    let p = Properties::new().with(keys::NAMESRV_ADDR, ons_tests::namesrv()).with(keys::GROUP_ID, group);
    match namespace {
        Some(ns) => p.with(keys::INSTANCE_ID, ns),
        None => p,
    }
}

fn oracle_json(out: &std::process::Output, what: &str) -> Vec<serde_json::Value> {
    assert!(out.status.success(), "{what}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn two_namespaces_on_one_broker_are_isolated() {
    let ns1 = ons_tests::unique_name("NS_one");
    let ns2 = ons_tests::unique_name("NS_two");
    let topic = ons_tests::unique_name("ns_topic");
    let key = "same-key-in-both";
    // The second namespace through the `Namespace` alias.
    let p1 = props(Some(&ns1), "GID_ns");
    let p2 = props(None, "GID_ns").with(keys::NAMESPACE, &ns2);

    let (sent1, sent2): (SendResult, SendResult) = rt().block_on(async {
        let (admin1, admin2) = (Admin::new(&p1).unwrap(), Admin::new(&p2).unwrap());
        create_topic(&admin1, &topic, 2).await;
        create_topic(&admin2, &topic, 2).await;
        // The same group name in both namespaces: two groups on the wire, no clash.
        let (prod1, prod2) = (Producer::new(&p1).unwrap(), Producer::new(&p2).unwrap());
        prod1.start().unwrap();
        prod2.start().unwrap();
        let s1 = prod1.send(&Message::new(&topic, Some("t"), "in ns1").with_key(key)).await.unwrap();
        let s2 = prod2.send(&Message::new(&topic, Some("t"), "in ns2").with_key(key)).await.unwrap();
        let batch = prod1.send_batch(&[Message::new(&topic, None, "ns1 batch")]).await.unwrap();
        for r in [&s1, &s2, &batch[0]] {
            assert_eq!(&*r.topic, topic.as_str(), "send results show the plain topic");
        }

        // Each namespace sees its own message under the plain topic name, and only that one.
        for (admin, sent, body) in [(&admin1, &s1, "in ns1"), (&admin2, &s2, "in ns2")] {
            let found = query_until_found(|| admin.query_by_key(&topic, key)).await.unwrap();
            assert_eq!(found.len(), 1, "{body}: {found:?}");
            assert_eq!(found[0].body, body);
            assert_eq!(found[0].topic, topic);
            let by_id = query_until_found(|| admin.query_by_msg_id(&topic, &sent.message_id)).await.unwrap();
            assert_eq!(by_id.len(), 1);
            assert_eq!(by_id[0].topic, topic);
            let viewed = admin.view_message(&topic, &sent.offset_msg_id).await.unwrap();
            assert_eq!(viewed.topic, topic);
            assert_eq!(viewed.body, body);
            assert_eq!(viewed.user_property("INSTANCE_ID"), None, "system property shown to users");
        }
        assert!(admin2.query_by_msg_id(&topic, &s1.message_id).await.unwrap().is_empty());
        assert!(admin1.query_by_msg_id(&topic, &s2.message_id).await.unwrap().is_empty());
        assert_eq!(stored_count_reaching(&admin1, &topic, 2).await.unwrap(), 2);
        assert_eq!(stored_count_reaching(&admin2, &topic, 1).await.unwrap(), 1);

        // On the wire the topics are `NS%T`; the plain name is no topic at all.
        let raw = Admin::new(&props(None, "GID_ns_raw")).unwrap();
        let wire1 = format!("{ns1}%{topic}");
        let found = query_until_found(|| raw.query_by_key(&wire1, key)).await.unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].topic, wire1);
        assert_eq!(found[0].body, "in ns1");
        let err = raw.max_offsets(&topic).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TopicNotFound, "{err}");

        prod1.shutdown().await;
        prod2.shutdown().await;
        (s1, s2)
    });

    // The Java client with --namespace agrees: it finds ns1's message only through ns1 ...
    let seen = ons_tests::java_oracle(&["view", "--namespace", &ns1, "--topic", &topic, "--msg-id", &sent1.message_id]);
    assert_eq!(oracle_json(&seen, "view in ns1")[0]["bodyHex"], hex_encode("in ns1".as_bytes()));
    let unseen = ons_tests::java_oracle(&[
        "view",
        "--namespace",
        &ns2,
        "--topic",
        &topic,
        "--msg-id",
        &sent1.message_id,
        "--timeout-ms",
        "3000",
    ]);
    assert_eq!(
        unseen.status.code(),
        Some(2),
        "ns1's message seen through ns2: {}",
        String::from_utf8_lossy(&unseen.stdout)
    );

    // ... consumes exactly ns2's message in ns2, under the plain topic name ...
    let group = ons_tests::unique_name("GID_ns_java");
    let got = ons_tests::java_oracle(&[
        "consume",
        "--namespace",
        &ns2,
        "--topic",
        &topic,
        "--group",
        &group,
        "--from-first",
        "--count",
        "1",
        "--timeout-ms",
        "60000",
    ]);
    let got = oracle_json(&got, "consume in ns2");
    assert_eq!(got[0]["msgId"].as_str(), Some(sent2.message_id.as_str()));
    assert_eq!(got[0]["bodyHex"], hex_encode("in ns2".as_bytes()));
    assert_eq!(got[0]["topic"].as_str(), Some(topic.as_str()));

    // ... and what it sends into ns1 reaches us in ns1 only.
    let java_key = ons_tests::unique_name("java_key");
    let sent = ons_tests::java_oracle(&[
        "send",
        "--namespace",
        &ns1,
        "--topic",
        &topic,
        "--keys",
        &java_key,
        "--body",
        "from java",
    ]);
    oracle_json(&sent, "send in ns1");
    rt().block_on(async {
        let admin1 = Admin::new(&p1).unwrap();
        let admin2 = Admin::new(&p2).unwrap();
        let found = query_until_found(|| admin1.query_by_key(&topic, &java_key)).await.unwrap();
        assert_eq!(found.len(), 1, "Java's message in ns1 not found through ns1");
        assert_eq!(found[0].body, "from java");
        assert_eq!(found[0].topic, topic);
        assert!(admin2.query_by_key(&topic, &java_key).await.unwrap().is_empty());
    });
}
