//! Requests to one online client of a consumer group, which a broker the client is connected to
//! forwards over the client's own connection (the broker's `callConsumer`) and answers with the
//! client's reply: its running info (GET_CONSUMER_RUNNING_INFO 307, `mqadmin consumerStatus`),
//! and running its listener on one stored message (CONSUME_MESSAGE_DIRECTLY 309, the
//! Dashboard's "resend to this consumer", `mqadmin queryMsgById -g G -d clientId`).
//!
//! mqadmin sends these to a broker of the group's retry-topic route; these go to a master the
//! client is connected to (from GET_CONSUMER_CONNECTION_LIST on every master), so they also
//! reach a client whose group has no retry topic yet, or that is connected to part of the
//! cluster only.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::consumers::SubscriptionBody;
use super::{
    decode_body, queue_entries, validate_group, validate_topic, with_context, Admin, BrokerTarget, ConsumerSubscription,
};
use crate::error::{Error, ErrorKind, Result};
use crate::protocol::codes::response;
use crate::protocol::headers::{
    ConsumeMessageDirectlyRequestHeader, GetConsumerRunningInfoRequestHeader, RequestHeader,
};
use crate::protocol::route::MessageQueue;

/// What a consumer client reports about itself (Java `ConsumerRunningInfo`,
/// `remoting/src/main/java/org/apache/rocketmq/remoting/protocol/body/ConsumerRunningInfo.java`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ConsumerRunningInfo {
    /// The client's settings and facts, by the names the client gives them: Java clients send
    /// every field of their consumer (`consumerGroup`, `consumeThreadMin`, ...) and the `PROP_*`
    /// entries (`PROP_CONSUME_TYPE`, `PROP_CONSUMEORDERLY`, `PROP_CLIENT_VERSION`,
    /// `PROP_CONSUMER_START_TIMESTAMP`, ...). Values that are not strings are given as JSON text.
    pub properties: BTreeMap<String, String>,
    /// The client's subscriptions, its retry topic included, sorted by topic (names as on the
    /// wire).
    pub subscriptions: Vec<ConsumerSubscription>,
    /// The queues the client consumes now and the state of its cache of each, sorted.
    pub queues: Vec<ProcessQueueInfo>,
    /// Per topic, the client's pull and consume rates; empty from clients that do not measure
    /// them (this one).
    pub status: BTreeMap<String, ConsumeStatus>,
    /// Every thread's stack, from Java clients asked for it.
    pub jstack: Option<String>,
}

impl ConsumerRunningInfo {
    /// `CONSUME_PASSIVELY` (push) or `CONSUME_ACTIVELY` (pull), from `PROP_CONSUME_TYPE`.
    pub fn consume_type(&self) -> Option<&str> {
        self.properties.get("PROP_CONSUME_TYPE").map(String::as_str)
    }

    /// Whether the client consumes in order (`PROP_CONSUMEORDERLY`).
    pub fn orderly(&self) -> bool {
        self.properties.get("PROP_CONSUMEORDERLY").is_some_and(|v| v == "true")
    }
}

/// A client's cache of one queue (Java `ProcessQueueInfo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessQueueInfo {
    pub queue: MessageQueue,
    /// The offset the client will commit: its next message to consume.
    pub commit_offset: i64,
    /// The offsets of the oldest and the newest message cached (0 when none is).
    pub cached_msg_min_offset: i64,
    pub cached_msg_max_offset: i64,
    /// Messages pulled and not consumed yet, and their bodies' size in MiB.
    pub cached_msg_count: i64,
    pub cached_msg_size_mib: i64,
    /// Orderly clustering: whether the client holds the broker's lock on the queue.
    pub locked: bool,
    pub try_unlock_times: i64,
    pub last_lock_timestamp: i64,
    /// Given up (rebalanced away, reset) and not yet removed.
    pub dropped: bool,
    /// When a pull was last answered and a message last handed to a listener (ms since the
    /// epoch; 0 for never).
    pub last_pull_timestamp: i64,
    pub last_consume_timestamp: i64,
}

/// A client's rates for one topic (Java `ConsumeStatus`): response times in ms, rates per
/// second.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ConsumeStatus {
    #[serde(rename = "pullRT")]
    pub pull_rt: f64,
    #[serde(rename = "pullTPS")]
    pub pull_tps: f64,
    #[serde(rename = "consumeRT")]
    pub consume_rt: f64,
    #[serde(rename = "consumeOKTPS")]
    pub consume_ok_tps: f64,
    #[serde(rename = "consumeFailedTPS")]
    pub consume_failed_tps: f64,
    /// Messages that failed in the last hour.
    pub consume_failed_msgs: i64,
}

/// How a client's listener took a message sent to it directly (Java `ConsumeMessageDirectlyResult`,
/// `remoting/src/main/java/org/apache/rocketmq/remoting/protocol/body/ConsumeMessageDirectlyResult.java`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumeMessageDirectlyResult {
    /// The client consumes in order (its listener is an orderly one).
    pub order: bool,
    pub auto_commit: bool,
    /// `None` when the client reported no result.
    pub result: Option<DirectConsumeResult>,
    /// Why it failed (the exception, or this client's listener panic).
    pub remark: Option<String>,
    /// How long the listener took, in milliseconds.
    pub spent_time_ms: i64,
}

/// The listener's verdict (Java `CMResult`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
pub enum DirectConsumeResult {
    /// Consumed (`CONSUME_SUCCESS`; orderly `SUCCESS`).
    #[serde(rename = "CR_SUCCESS")]
    Success,
    /// To be consumed again later (`RECONSUME_LATER`; orderly `SUSPEND_CURRENT_QUEUE_A_MOMENT`).
    #[serde(rename = "CR_LATER")]
    Later,
    /// Orderly, without auto-commit: `ROLLBACK`.
    #[serde(rename = "CR_ROLLBACK")]
    Rollback,
    /// Orderly, without auto-commit: `COMMIT`.
    #[serde(rename = "CR_COMMIT")]
    Commit,
    /// The listener threw (this client: panicked).
    #[serde(rename = "CR_THROW_EXCEPTION")]
    ThrowException,
    /// A Java listener returned null.
    #[serde(rename = "CR_RETURN_NULL")]
    ReturnNull,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct DirectResultBody {
    order: bool,
    auto_commit: bool,
    consume_result: Option<DirectConsumeResult>,
    remark: Option<String>,
    spent_time_mills: i64,
}

/// How long a request that runs a client's listener may take: the broker waits up to 10 s for
/// the client (`Broker2Client.callClient`).
const CLIENT_CALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(12);

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct RunningInfoBody {
    properties: BTreeMap<String, serde_json::Value>,
    subscription_set: Vec<SubscriptionBody>,
    mq_table: BTreeMap<String, ProcessQueueBody>,
    status_table: BTreeMap<String, ConsumeStatus>,
    jstack: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct ProcessQueueBody {
    commit_offset: i64,
    cached_msg_min_offset: i64,
    cached_msg_max_offset: i64,
    cached_msg_count: i64,
    #[serde(rename = "cachedMsgSizeInMiB")]
    cached_msg_size_mib: i64,
    locked: bool,
    try_unlock_times: i64,
    last_lock_timestamp: i64,
    /// Spelled so in Java's `ProcessQueueInfo`.
    droped: bool,
    last_pull_timestamp: i64,
    last_consume_timestamp: i64,
}

impl Admin {
    /// What client `client_id` of `group` reports about itself, as `mqadmin consumerStatus -g
    /// G -i client_id` shows it. Client ids are those of [`Admin::consumer_connections`].
    pub async fn consumer_running_info(&self, group: &str, client_id: &str) -> Result<ConsumerRunningInfo> {
        validate_group(group)?;
        let wire_group = self.wire(group);
        let what = format!("get running info of client {client_id} of {wire_group}");
        let target = self.broker_of_client(group, client_id).await?;
        let cmd = GetConsumerRunningInfoRequestHeader { consumer_group: &wire_group, client_id, jstack_enable: false }
            .command();
        let resp = self.call_broker(&target, cmd, &what).await?;
        decode_running_info(&resp.body)
    }

    /// Has client `client_id` of `group` run its listener on the message `msg_id` of `topic`
    /// (either kind of id, as [`Admin::message_by_id`]) and returns how that went. Nothing else
    /// happens to the message: no offset moves, a failure is not retried. The broker storing
    /// the message sends it, so the client must be connected to that broker.
    pub async fn consume_message_directly(
        &self,
        group: &str,
        client_id: &str,
        topic: &str,
        msg_id: &str,
    ) -> Result<ConsumeMessageDirectlyResult> {
        validate_group(group)?;
        validate_topic(topic)?;
        let message = self.message_by_id(topic, msg_id).await?.ok_or_else(|| {
            Error::new(ErrorKind::InvalidArgument, format!("no message {msg_id} found in topic {topic}"))
        })?;
        let stored = message.received.as_ref().ok_or_else(|| Error::protocol("a stored message without its place"))?;
        let addr = stored.store_host.map(|h| h.to_string()).unwrap_or_default();
        let target = BrokerTarget::broker(&stored.broker_name, &addr);
        let (wire_group, wire_topic) = (self.wire(group), self.wire(topic));
        let what = format!("consume message {msg_id} directly on client {client_id} of {wire_group}");
        let cmd = ConsumeMessageDirectlyRequestHeader {
            consumer_group: &wire_group,
            client_id,
            msg_id: &stored.offset_msg_id,
            topic: Some(&wire_topic),
        }
        .command();
        let resp = self
            .instance
            .invoke(&target.addr, cmd, CLIENT_CALL_TIMEOUT)
            .await
            .map_err(|e| with_context(e, &target.context(&what)))?;
        if resp.code != response::SUCCESS {
            return Err(Error::from_response(resp.code, resp.remark.as_deref(), &target.context(&what)));
        }
        let raw: DirectResultBody = decode_body(&resp.body, "consume message directly result")?;
        Ok(ConsumeMessageDirectlyResult {
            order: raw.order,
            auto_commit: raw.auto_commit,
            result: raw.consume_result,
            remark: raw.remark,
            spent_time_ms: raw.spent_time_mills,
        })
    }

    /// A master broker `client_id` of `group` is connected to, through which requests reach it.
    /// A client not online is an [`ErrorKind::InvalidArgument`] error naming the clients that are.
    pub(super) async fn broker_of_client(&self, group: &str, client_id: &str) -> Result<BrokerTarget> {
        let connections = self.consumer_connections(group).await?;
        let Some(client) = connections.clients.iter().find(|c| c.client_id == client_id) else {
            let online: Vec<&str> = connections.clients.iter().map(|c| c.client_id.as_str()).collect();
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "client {client_id} of group {group} is not online (online: {})",
                    if online.is_empty() { "none".to_owned() } else { online.join(", ") }
                ),
            ));
        };
        let masters = self.masters(None).await?;
        masters.into_iter().find(|m| client.client_addrs.contains_key(&m.name)).ok_or_else(|| {
            Error::new(
                ErrorKind::Network,
                format!("client {client_id} of group {group} is connected to no master broker the name servers know"),
            )
        })
    }
}

fn decode_running_info(body: &[u8]) -> Result<ConsumerRunningInfo> {
    let raw: RunningInfoBody = decode_body(body, "consumer running info")?;
    let properties = raw
        .properties
        .into_iter()
        .map(|(k, v)| {
            let text = match v {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
            (k, text)
        })
        .collect();
    let mut subscriptions: Vec<ConsumerSubscription> =
        raw.subscription_set.into_iter().map(|s| s.into_subscription(String::new())).collect();
    subscriptions.sort_by(|a, b| a.topic.cmp(&b.topic));
    let queues = queue_entries(raw.mq_table)?
        .into_iter()
        .map(|(queue, p)| ProcessQueueInfo {
            queue,
            commit_offset: p.commit_offset,
            cached_msg_min_offset: p.cached_msg_min_offset,
            cached_msg_max_offset: p.cached_msg_max_offset,
            cached_msg_count: p.cached_msg_count,
            cached_msg_size_mib: p.cached_msg_size_mib,
            locked: p.locked,
            try_unlock_times: p.try_unlock_times,
            last_lock_timestamp: p.last_lock_timestamp,
            dropped: p.droped,
            last_pull_timestamp: p.last_pull_timestamp,
            last_consume_timestamp: p.last_consume_timestamp,
        })
        .collect();
    Ok(ConsumerRunningInfo { properties, subscriptions, queues, status: raw.status_table, jstack: raw.jstack })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Java 5.3.3 push consumer's answer, shortened (most of its consumer's fields left out).
    const JAVA: &str = r#"{"jstack":"","mqPopTable":{},"mqTable":{{"brokerName":"broker-a","queueId":0,"topic":"T"}:{"cachedMsgCount":0,"cachedMsgMaxOffset":0,"cachedMsgMinOffset":0,"cachedMsgSizeInMiB":0,"commitOffset":5,"droped":false,"lastConsumeTimestamp":1796375886463,"lastLockTimestamp":1796375880000,"lastPullTimestamp":1796375890000,"locked":false,"transactionMsgCount":0,"transactionMsgMaxOffset":0,"transactionMsgMinOffset":0,"tryUnlockTimes":0}},"properties":{"consumeThreadMin":"20","PROP_CONSUMEORDERLY":"false","PROP_CONSUME_TYPE":"CONSUME_PASSIVELY","PROP_CONSUMER_START_TIMESTAMP":"1796375880000","consumerGroup":"G","pullInterval":"0"},"statusTable":{"T":{"consumeFailedMsgs":0,"consumeFailedTPS":0.0,"consumeOKTPS":1.5,"consumeRT":2.0,"pullRT":1.0,"pullTPS":3.0}},"subscriptionSet":[{"classFilterMode":false,"codeSet":[],"expressionType":"TAG","subString":"*","subVersion":1796375880000,"tagsSet":[],"topic":"T"}],"userConsumerInfo":{}}"#;

    #[test]
    fn java_running_info_decode() {
        let info = decode_running_info(JAVA.as_bytes()).unwrap();
        assert_eq!(info.consume_type(), Some("CONSUME_PASSIVELY"));
        assert!(!info.orderly());
        assert_eq!(info.properties["consumeThreadMin"], "20");
        assert_eq!(info.subscriptions.len(), 1);
        assert_eq!((info.subscriptions[0].topic.as_str(), info.subscriptions[0].sub_string.as_str()), ("T", "*"));
        assert_eq!(info.queues.len(), 1);
        let q = &info.queues[0];
        assert_eq!(q.queue, MessageQueue::new("T", "broker-a", 0));
        assert_eq!((q.commit_offset, q.last_consume_timestamp, q.dropped), (5, 1796375886463, false));
        assert_eq!(info.status["T"].consume_ok_tps, 1.5);
        assert_eq!(info.jstack.as_deref(), Some(""));
    }

    #[test]
    fn direct_result_decode() {
        // As a Java 5.3.3 client answers (fastjson leaves a null remark out).
        let raw: DirectResultBody = decode_body(
            br#"{"autoCommit":true,"consumeResult":"CR_THROW_EXCEPTION","order":false,"remark":"RuntimeException: x","spentTimeMills":3}"#,
            "r",
        )
        .unwrap();
        assert_eq!(raw.consume_result, Some(DirectConsumeResult::ThrowException));
        assert_eq!(
            (raw.remark.as_deref(), raw.spent_time_mills, raw.auto_commit),
            (Some("RuntimeException: x"), 3, true)
        );
        let raw: DirectResultBody = decode_body(br#"{"consumeResult":"CR_RETURN_NULL"}"#, "r").unwrap();
        assert_eq!(raw.consume_result, Some(DirectConsumeResult::ReturnNull));
    }

    #[test]
    fn non_string_properties_are_kept_as_text() {
        let info = decode_running_info(br#"{"properties":{"n":3,"b":true}}"#).unwrap();
        assert_eq!((info.properties["n"].as_str(), info.properties["b"].as_str()), ("3", "true"));
        assert!(info.queues.is_empty() && info.subscriptions.is_empty());
    }
}
