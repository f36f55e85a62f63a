//! Reading messages back: by either kind of message id, by key and time range, and by queue
//! offsets, against `mqadmin queryMsgById`, `queryMsgByUniqueKey` and `queryMsgByKey`.

use std::collections::BTreeMap;
use std::time::Duration;

use ons_tests::support::rt;
use rocketmq_ons::{Message, Producer, SendResult};

use super::{admin, create_routed, is_4x, mqadmin, mqadmin_any, props};

/// The value of a `Name:   value` line of mqadmin's message view.
fn field<'a>(output: &'a str, name: &str) -> &'a str {
    output
        .lines()
        .find_map(|l| l.strip_prefix(name))
        .map(str::trim)
        .unwrap_or_else(|| panic!("no {name} in mqadmin output:\n{output}"))
}

/// Queue id and offset as mqadmin's message view shows them.
fn position_in(output: &str) -> (i32, i64) {
    (field(output, "Queue ID:").parse().unwrap(), field(output, "Queue Offset:").parse().unwrap())
}

fn position_of(m: &Message) -> (i32, i64) {
    let r = m.received.as_ref().expect("a stored message");
    (r.queue_id, r.queue_offset)
}

/// [`mqadmin`], tried up to three times: 4.9.7's queryMsgByKey sometimes fails to get the
/// topic's route on a loaded machine ("not matched route info", its name-server call timing
/// out after 3 s).
fn mqadmin_retried(args: &[&str]) -> String {
    for _ in 0..2 {
        let out = mqadmin_any(args);
        if !out.contains("command failed") {
            return out;
        }
        eprintln!("mqadmin {args:?} failed, trying again:\n{out}");
    }
    mqadmin(args)
}

/// Repeats `attempt` (an index lookup: brokers index a message a moment after storing it)
/// until it gives something, for up to 30 s.
async fn until_some<T, F, Fut>(what: &str, mut attempt: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(found) = attempt().await {
            return found;
        }
        assert!(std::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[test]
fn messages_by_id_key_and_offsets_match_mqadmin() {
    let topic = ons_tests::unique_name("adm_msgs");
    let key = ons_tests::unique_name("key");
    let (sent, sent_at) = rt().block_on(async {
        let admin = admin();
        create_routed(&admin, &topic, 2).await;
        let producer = Producer::new(&props("GID_adm_msgs_producer")).unwrap();
        producer.start().unwrap();
        let sent_at = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
        let mut sent: Vec<SendResult> = Vec::new();
        for i in 0..8 {
            // Half with the shared key (one of two keys), half with keys of their own.
            let keys = if i % 2 == 0 { format!("{key} other{i}") } else { format!("own{i}") };
            let msg = Message::new(&topic, Some("tagA"), format!("body{i}")).with_key(keys);
            sent.push(producer.send(&msg).await.unwrap());
        }
        producer.shutdown().await;
        (sent, sent_at)
    });
    // Admin handles are made within the tests' runtime.
    let _runtime = rt().enter();

    // By offset message id: read from the broker directly.
    let first = &sent[0];
    let viewed = rt().block_on(admin().message_by_id(&topic, &first.offset_msg_id)).unwrap().expect("the message");
    assert_eq!((viewed.body.as_ref(), viewed.msg_id.as_deref()), (&b"body0"[..], Some(first.message_id.as_str())));
    assert_eq!(position_of(&viewed), (first.queue_id, first.queue_offset));
    let out = if is_4x() {
        mqadmin(&["queryMsgById", "-i", &first.offset_msg_id])
    } else {
        mqadmin(&["queryMsgById", "-t", &topic, "-i", &first.offset_msg_id])
    };
    assert_eq!(position_in(&out), position_of(&viewed), "mqadmin queryMsgById:\n{out}");
    assert_eq!(field(&out, "OffsetID:"), first.offset_msg_id);

    // By unique key: found in the index (which brokers build a moment after storing).
    let second = &sent[1];
    let found = rt().block_on(until_some("the unique key indexed", || async {
        admin().message_by_id(&topic, &second.message_id).await.unwrap()
    }));
    assert_eq!((found.body.as_ref(), found.msg_id.as_deref()), (&b"body1"[..], Some(second.message_id.as_str())));
    assert_eq!(found.received.as_ref().unwrap().offset_msg_id, second.offset_msg_id);
    let out = mqadmin(&["queryMsgByUniqueKey", "-t", &topic, "-i", &second.message_id]);
    assert_eq!(position_in(&out), position_of(&found), "mqadmin queryMsgByUniqueKey:\n{out}");
    let nothing = rt().block_on(admin().message_by_id(&topic, "0A0B0C0D00002A9F0000000000000000")).unwrap();
    assert!(nothing.is_none(), "{nothing:?}");

    // By key and time range: the four with the shared key, from both brokers, in store order.
    let keyed: BTreeMap<String, (i32, i64)> =
        sent.iter().step_by(2).map(|r| (r.message_id.clone(), (r.queue_id, r.queue_offset))).collect();
    let now = || std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    let by_key = rt().block_on(until_some("the key indexed", || async {
        let found = admin().query_messages(&topic, &key, sent_at - 60_000, now() + 60_000, 64).await.unwrap();
        (found.len() == keyed.len()).then_some(found)
    }));
    let ours: BTreeMap<String, (i32, i64)> =
        by_key.iter().map(|m| (m.msg_id.clone().unwrap(), position_of(m))).collect();
    assert_eq!(ours, keyed);
    assert!(by_key
        .windows(2)
        .all(|w| w[0].received.as_ref().unwrap().store_timestamp <= w[1].received.as_ref().unwrap().store_timestamp));
    let out = mqadmin_retried(&["queryMsgByKey", "-t", &topic, "-k", &key]);
    // #Message ID #QID #Offset
    let theirs: BTreeMap<String, (i32, i64)> = out
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|c| c.len() == 3 && keyed.contains_key(c[0]))
        .map(|c| (c[0].to_owned(), (c[1].parse().unwrap(), c[2].parse().unwrap())))
        .collect();
    assert_eq!(theirs, keyed, "mqadmin queryMsgByKey:\n{out}");
    let later = rt().block_on(admin().query_messages(&topic, &key, now() + 3_600_000, now() + 7_200_000, 64)).unwrap();
    assert!(later.is_empty(), "nothing was stored in the next hour: {later:?}");
    let e = rt().block_on(admin().query_messages(&topic, &key, 2, 1, 64)).unwrap_err();
    assert_eq!(e.kind(), rocketmq_ons::ErrorKind::InvalidArgument, "{e}");

    // By queue offsets: every queue read whole gives what was sent to it, in order.
    let mut per_queue: BTreeMap<(String, i32), Vec<&SendResult>> = BTreeMap::new();
    for r in &sent {
        per_queue.entry((r.broker_name.to_string(), r.queue_id)).or_default().push(r);
    }
    for ((broker, queue_id), results) in &per_queue {
        let read = rt().block_on(admin().read_queue(&topic, broker, *queue_id, 0, 100)).unwrap();
        let ids: Vec<&str> = read.iter().map(|m| m.msg_id.as_deref().unwrap()).collect();
        let expected: Vec<&str> = results.iter().map(|r| r.message_id.as_str()).collect();
        assert_eq!(ids, expected, "{broker} queue {queue_id}");
        let offsets: Vec<i64> = read.iter().map(|m| position_of(m).1).collect();
        assert_eq!(offsets, (0..results.len() as i64).collect::<Vec<_>>());
    }
    let ((broker, queue_id), results) = per_queue.iter().find(|(_, r)| r.len() >= 2).expect("a queue with two");
    let middle = rt().block_on(admin().read_queue(&topic, broker, *queue_id, 1, 2)).unwrap();
    assert_eq!(middle.iter().map(|m| m.msg_id.clone().unwrap()).collect::<Vec<_>>(), [results[1].message_id.clone()]);
    let past_the_end = rt().block_on(admin().read_queue(&topic, broker, *queue_id, 50, 60)).unwrap();
    assert!(past_the_end.is_empty());
    let e = rt().block_on(admin().read_queue(&topic, "no-such-broker", 0, 0, 1)).unwrap_err();
    assert!(e.message().contains("no-such-broker"), "{e}");
}
