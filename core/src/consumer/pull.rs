//! PULL_MESSAGE (11): the request a push consumer sends for one queue (long polling, the
//! subscription carried along, the committed offset piggy-backed) and its response decoded into
//! a [`PullResult`], with the received messages turned into ONS messages: retry topics restored,
//! the tag filter re-applied, queue offsets corrected, namespaces removed.

use std::time::Duration;

use super::subscription::SubscriptionData;
use crate::client::namespace;
use crate::error::{Error, Result};
use crate::message::{from_stored, Message};
use crate::protocol::codes::{request, response};
use crate::protocol::command::RemotingCommand;
use crate::protocol::message::{decode_stored_messages_lenient, property, pull_sys_flag};
use crate::protocol::route::MessageQueue;

/// How long the broker may hold a pull that finds nothing (Java push consumer: 15 s).
pub const BROKER_SUSPEND: Duration = Duration::from_secs(15);
/// The client-side timeout of a long-polling pull; must exceed the hold (Java: 30 s).
pub const PULL_TIMEOUT: Duration = Duration::from_secs(30);
/// Messages per pull (Java pullBatchSize).
pub const PULL_BATCH_SIZE: u32 = 32;
/// Bytes per pull (5.x brokers honour it; Java pullBatchSizeInBytes).
pub const PULL_BATCH_BYTES: u32 = 256 * 1024;

pub struct PullArgs<'a> {
    pub group: &'a str,
    pub mq: &'a MessageQueue,
    pub offset: i64,
    /// The offset to commit along with the pull (clustering, when > 0).
    pub commit_offset: Option<i64>,
    pub subscription: &'a SubscriptionData,
}

pub fn pull_command(args: &PullArgs<'_>) -> RemotingCommand {
    let commit = args.commit_offset.filter(|o| *o > 0);
    // The subscription goes with every pull, so the broker filters correctly even before (or
    // without) having registered this client's heartbeat.
    let sys_flag = pull_sys_flag::build(commit.is_some(), true, true, false);
    RemotingCommand::request(request::PULL_MESSAGE)
        .with_ext("consumerGroup", args.group)
        .with_ext("topic", &args.mq.topic)
        .with_ext("queueId", args.mq.queue_id)
        .with_ext("queueOffset", args.offset)
        .with_ext("maxMsgNums", PULL_BATCH_SIZE)
        .with_ext("sysFlag", sys_flag)
        .with_ext("commitOffset", commit.unwrap_or(0))
        .with_ext("suspendTimeoutMillis", BROKER_SUSPEND.as_millis())
        .with_ext("subscription", &args.subscription.sub_string)
        .with_ext("subVersion", args.subscription.sub_version)
        .with_ext("expressionType", args.subscription.expression_type.wire_name())
        .with_ext("maxMsgBytes", PULL_BATCH_BYTES)
        .with_ext("bname", &args.mq.broker_name)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullStatus {
    Found,
    NoNewMessage,
    NoMatchedMessage,
    /// The requested offset is outside the queue (or was reset): continue at next_begin_offset.
    OffsetIllegal,
}

#[derive(Debug)]
pub struct PullResult {
    pub status: PullStatus,
    pub next_begin_offset: i64,
    pub min_offset: i64,
    pub max_offset: i64,
    pub messages: Vec<Message>,
    /// Entries that did not decode (logged and skipped).
    pub undecodable: usize,
}

/// Decodes a pull response. Messages are converted for `group` and filtered by `sub`.
pub fn parse_pull_response(
    resp: &RemotingCommand,
    mq: &MessageQueue,
    group: &str,
    namespace: Option<&str>,
    sub: &SubscriptionData,
) -> Result<PullResult> {
    let status = match resp.code {
        response::SUCCESS => PullStatus::Found,
        response::PULL_NOT_FOUND => PullStatus::NoNewMessage,
        response::PULL_RETRY_IMMEDIATELY => PullStatus::NoMatchedMessage,
        response::PULL_OFFSET_MOVED => PullStatus::OffsetIllegal,
        code => return Err(Error::from_response(code, resp.remark.as_deref(), "pull")),
    };
    let mut result = PullResult {
        status,
        next_begin_offset: resp.ext_parse("nextBeginOffset")?,
        min_offset: resp.ext_parse("minOffset")?,
        max_offset: resp.ext_parse("maxOffset")?,
        messages: Vec::new(),
        undecodable: 0,
    };
    if status != PullStatus::Found {
        return Ok(result);
    }
    let offset_delta: i64 = resp.ext("offsetDelta").and_then(|v| v.parse().ok()).unwrap_or(0);
    let decoded = decode_stored_messages_lenient(&resp.body);
    for f in &decoded.failures {
        tracing::error!(
            topic = %mq.topic, queue = mq.queue_id, queue_offset = ?f.queue_offset, error = %f.error,
            "a pulled message does not decode; it is skipped"
        );
    }
    result.undecodable = decoded.failures.len();
    let retry_topic = retry_topic(group);
    for mut stored in decoded.messages {
        if !sub.accepts(stored.tags()) {
            continue;
        }
        stored.queue_offset += offset_delta;
        let mut topic = stored.topic.clone();
        if topic == retry_topic {
            if let Some(original) = stored.properties.get(property::RETRY_TOPIC) {
                topic = original.clone();
            }
        }
        stored.properties.insert(property::MIN_OFFSET.into(), result.min_offset.to_string());
        stored.properties.insert(property::MAX_OFFSET.into(), result.max_offset.to_string());
        let user_topic = namespace::unwrap(namespace, &topic);
        result.messages.push(from_stored(stored, &mq.broker_name, user_topic));
    }
    Ok(result)
}

/// The retry topic of a (namespaced) group.
pub fn retry_topic(group: &str) -> String {
    format!("%RETRY%{group}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::message::{encode_stored_message, MessageVersion, StoredMessage};
    use std::net::SocketAddr;

    fn stored(topic: &str, offset: i64, tag: Option<&str>, retry_of: Option<&str>) -> StoredMessage {
        let mut properties = crate::protocol::message::Properties::new();
        if let Some(t) = tag {
            properties.insert(property::TAGS.into(), t.into());
        }
        if let Some(r) = retry_of {
            properties.insert(property::RETRY_TOPIC.into(), r.into());
        }
        properties.insert(property::UNIQ_KEY.into(), format!("ID{offset}"));
        let host: SocketAddr = "127.0.0.1:10911".parse().unwrap();
        StoredMessage {
            store_size: 0,
            queue_id: 1,
            flag: 0,
            queue_offset: offset,
            commit_log_offset: 1000 + offset,
            sys_flag: 0,
            born_timestamp: 1,
            born_host: host,
            store_timestamp: 2,
            store_host: host,
            reconsume_times: 0,
            prepared_transaction_offset: 0,
            body_crc: 0,
            body: bytes::Bytes::from_static(b"hi"),
            topic: topic.into(),
            properties,
            offset_msg_id: String::new(),
        }
    }

    fn response_with(msgs: &[StoredMessage]) -> RemotingCommand {
        let mut body = Vec::new();
        for m in msgs {
            body.extend(encode_stored_message(m, MessageVersion::V1).unwrap());
        }
        RemotingCommand::response(response::SUCCESS, 1, None)
            .with_ext("nextBeginOffset", 13)
            .with_ext("minOffset", 0)
            .with_ext("maxOffset", 13)
            .with_ext("suggestWhichBrokerId", 0)
            .with_body(body)
    }

    #[test]
    fn request_carries_subscription_and_commit_offset() {
        let sub = SubscriptionData::by_tag("NS%T", "A || B").unwrap();
        let mq = MessageQueue::new("NS%T", "broker-a", 2);
        let cmd =
            pull_command(&PullArgs { group: "G", mq: &mq, offset: 7, commit_offset: Some(5), subscription: &sub });
        assert_eq!(cmd.code, 11);
        assert_eq!(cmd.ext("sysFlag"), Some("7"));
        assert_eq!(cmd.ext("commitOffset"), Some("5"));
        assert_eq!(cmd.ext("subscription"), Some("A || B"));
        assert_eq!(cmd.ext("suspendTimeoutMillis"), Some("15000"));
        let cmd =
            pull_command(&PullArgs { group: "G", mq: &mq, offset: 7, commit_offset: Some(0), subscription: &sub });
        assert_eq!(cmd.ext("sysFlag"), Some("6"));
    }

    #[test]
    fn found_messages_are_filtered_restored_and_unwrapped() {
        let sub = SubscriptionData::by_tag("NS%T", "A").unwrap();
        let mq = MessageQueue::new("NS%T", "broker-a", 1);
        let resp = response_with(&[
            stored("NS%T", 10, Some("A"), None),
            stored("NS%T", 11, Some("B"), None),
            stored("NS%T", 12, None, None),
        ]);
        let r = parse_pull_response(&resp, &mq, "NS%G", Some("NS"), &sub).unwrap();
        assert_eq!(r.status, PullStatus::Found);
        assert_eq!(r.next_begin_offset, 13);
        assert_eq!(r.messages.len(), 1);
        let m = &r.messages[0];
        assert_eq!((m.topic.as_str(), m.tag.as_deref(), m.msg_id.as_deref()), ("T", Some("A"), Some("ID10")));
        assert_eq!(m.received.as_ref().unwrap().broker_name, "broker-a");

        let all = SubscriptionData::by_tag("%RETRY%NS%G", "*").unwrap();
        let rq = MessageQueue::new("%RETRY%NS%G", "broker-a", 0);
        let resp = response_with(&[stored("%RETRY%NS%G", 3, Some("B"), Some("NS%T"))]);
        let r = parse_pull_response(&resp, &rq, "NS%G", Some("NS"), &all).unwrap();
        assert_eq!(r.messages[0].topic, "T");
    }

    #[test]
    fn statuses_and_errors() {
        let sub = SubscriptionData::by_tag("T", "*").unwrap();
        let mq = MessageQueue::new("T", "b", 0);
        for (code, status) in
            [(19, PullStatus::NoNewMessage), (20, PullStatus::NoMatchedMessage), (21, PullStatus::OffsetIllegal)]
        {
            let resp = RemotingCommand::response(code, 1, None)
                .with_ext("nextBeginOffset", 4)
                .with_ext("minOffset", 0)
                .with_ext("maxOffset", 9);
            let r = parse_pull_response(&resp, &mq, "G", None, &sub).unwrap();
            assert_eq!((r.status, r.next_begin_offset), (status, 4));
        }
        let busy = RemotingCommand::response(215, 1, Some("flow control".into()));
        assert_eq!(parse_pull_response(&busy, &mq, "G", None, &sub).unwrap_err().response_code(), Some(215));
        let missing = RemotingCommand::response(19, 1, None);
        assert!(parse_pull_response(&missing, &mq, "G", None, &sub).is_err());
    }
}
