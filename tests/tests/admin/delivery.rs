//! `message_track`: the four states of one message in four groups of push consumers of this
//! client, against the message track `mqadmin queryMsgById` prints.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::Duration;

use ons_tests::support::{rt, wait_for};
use rocketmq_ons::admin::{Admin, TrackType};
use rocketmq_ons::{Consumer, Message, Producer, SendResult};

use super::{admin, consumer_props, create_routed, is_4x, mqadmin, online_on_both, props, Recorder};

/// Waits until `group` has committed an offset past the message `sent` on its queue.
async fn committed_past(admin: &Admin, group: &str, sent: &SendResult) {
    wait_for(&format!("{group}'s offset past {}", sent.message_id), Duration::from_secs(60), || async {
        let stats = admin.consume_stats(group, Some(&sent.topic)).await.unwrap();
        stats.queues.iter().any(|q| {
            (q.queue.broker_name.as_str(), q.queue.queue_id) == (&*sent.broker_name, sent.queue_id)
                && q.consumer_offset > sent.queue_offset
        })
    })
    .await;
}

#[test]
fn the_four_states_of_a_message_match_mqadmin() {
    let topic = ons_tests::unique_name("adm_track");
    let group = |role: &str| ons_tests::unique_name(&format!("GID_adm_track_{role}"));
    let (consumed, filtered, not_yet, offline) =
        (group("consumed"), group("filtered"), group("notyet"), group("offline"));
    let recorders: BTreeMap<&str, Recorder> =
        [&consumed, &filtered, &not_yet, &offline].into_iter().map(|g| (g.as_str(), Recorder::default())).collect();
    rt().block_on(async {
        let admin = admin();
        create_routed(&admin, &topic, 2).await;
        let mut consumers = BTreeMap::new();
        for (g, expression) in [(&consumed, "*"), (&filtered, "tagB"), (&not_yet, "*"), (&offline, "tagA || tagB")] {
            let consumer = Consumer::new(&consumer_props(g)).unwrap();
            consumer.subscribe(&topic, expression, recorders[g.as_str()].listener()).unwrap();
            consumer.start().unwrap();
            online_on_both(&admin, g).await;
            consumers.insert(g.clone(), consumer);
        }
        let producer = Producer::new(&props("GID_adm_track_producer")).unwrap();
        producer.start().unwrap();
        // A first message every group takes (or filters out) and commits: 5.3.3 brokers know a
        // topic's groups by their stored offsets only.
        let first = producer.send(&Message::new(&topic, Some("tagA"), "first")).await.unwrap();
        for g in [&consumed, &filtered, &not_yet, &offline] {
            committed_past(&admin, g, &first).await;
        }
        // Held: the message reaches its listener but is never finished, so the offset stays before it.
        recorders[not_yet.as_str()].hold.store(true, Ordering::SeqCst);
        let sent = producer.send(&Message::new(&topic, Some("tagA"), "tracked")).await.unwrap();
        producer.shutdown().await;
        for g in [&consumed, &not_yet, &offline] {
            wait_for(&format!("{g} given the message"), Duration::from_secs(60), || async {
                recorders[g.as_str()].deliveries().contains(&sent.message_id)
            })
            .await;
        }
        // The offline group commits its offset when it shuts down.
        consumers.remove(&offline).unwrap().shutdown().await;
        for g in [&consumed, &filtered, &offline] {
            committed_past(&admin, g, &sent).await;
        }

        let tracks = admin.message_track(&topic, &sent.message_id).await.unwrap();
        let ours: BTreeMap<String, TrackType> = tracks
            .iter()
            .filter(|t| t.group.contains("GID_adm_track_"))
            .map(|t| (t.group.clone(), t.track_type))
            .collect();
        let expected = BTreeMap::from([
            (consumed.clone(), TrackType::Consumed),
            (filtered.clone(), TrackType::ConsumedButFiltered),
            (not_yet.clone(), TrackType::NotConsumeYet),
            (offline.clone(), TrackType::NotOnline),
        ]);
        assert_eq!(ours, expected, "{tracks:?}");
        // By offset message id too.
        let by_offset_id = admin.message_track(&topic, &sent.offset_msg_id).await.unwrap();
        assert_eq!(by_offset_id, tracks);

        // mqadmin asks one broker of the route for the groups; those it lists, it sees as ours.
        let (t, id) = (topic.clone(), sent.offset_msg_id.clone());
        let out = tokio::task::spawn_blocking(move || {
            if is_4x() {
                mqadmin(&["queryMsgById", "-i", &id])
            } else {
                mqadmin(&["queryMsgById", "-t", &t, "-i", &id])
            }
        })
        .await
        .unwrap();
        let theirs: BTreeMap<String, String> = out
            .split("MessageTrack [consumerGroup=")
            .skip(1)
            .filter_map(|rest| {
                let (group, rest) = rest.split_once(", trackType=")?;
                let (track, _) = rest.split_once(',')?;
                Some((group.to_owned(), track.to_owned()))
            })
            .collect();
        assert!(theirs.contains_key(&consumed), "mqadmin queryMsgById:\n{out}");
        // (5.3.3's mqadmin also lists the topic itself as a group, see `Admin::groups_of_topic`.)
        for (g, track) in theirs.iter().filter(|(g, _)| **g != topic) {
            assert_eq!(Some(track.as_str()), ours.get(g).map(|t| t.java_name()), "{g}; mqadmin queryMsgById:\n{out}");
        }

        recorders[not_yet.as_str()].hold.store(false, Ordering::SeqCst);
        for (_, c) in consumers {
            c.shutdown().await;
        }
    });
}
