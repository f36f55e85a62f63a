//! A consumer group at run time: its online members and their subscriptions
//! (GET_CONSUMER_CONNECTION_LIST 203), and its progress per queue (GET_CONSUME_STATS 208), as
//! `mqadmin consumerConnection` and `consumerProgress` show them.
//!
//! mqadmin asks the brokers in the route of the group's retry topic; these ask every master
//! broker the name servers know, so a group is found on every broker it uses even before its
//! retry topic exists, and the answers are merged.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use super::{decode_body, queue_entries, validate_group, Admin};
use crate::error::{Error, Result};
use crate::protocol::codes::response;
use crate::protocol::headers::{GetConsumeStatsRequestHeader, GetConsumerConnectionListRequestHeader, RequestHeader};
use crate::protocol::route::MessageQueue;

/// The online members of a consumer group and what they subscribe to, merged over the brokers
/// (Java `ConsumerConnection`,
/// `remoting/src/main/java/org/apache/rocketmq/remoting/protocol/body/ConsumerConnection.java`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConsumerConnections {
    /// Every connected client, sorted by client id; empty when no member is online.
    pub clients: Vec<ConsumerClient>,
    /// The group's subscriptions, sorted by topic.
    pub subscriptions: Vec<ConsumerSubscription>,
    /// `CONSUME_ACTIVELY` (pull), `CONSUME_PASSIVELY` (push) or, 5.x, `CONSUME_POP`.
    pub consume_type: Option<String>,
    /// `CLUSTERING` or `BROADCASTING`.
    pub message_model: Option<String>,
    /// `CONSUME_FROM_LAST_OFFSET`, `CONSUME_FROM_FIRST_OFFSET` or `CONSUME_FROM_TIMESTAMP`.
    pub consume_from_where: Option<String>,
}

/// One connected consumer client (Java `Connection`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerClient {
    /// The id the client announces in its heartbeats (`ip@instance`).
    pub client_id: String,
    /// `JAVA`, `CPP`, `RUST`, ... (Java `LanguageCode` names).
    pub language: String,
    /// The client's version ordinal (Java `MQVersion.Version`; 479 is V5_3_3).
    pub version: i32,
    /// The client's address as each broker it is connected to sees the connection (each has a
    /// connection, with a port of its own), by broker name. mqadmin shows one of them.
    pub client_addrs: BTreeMap<String, String>,
}

/// One subscription of a group (Java `SubscriptionData`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerSubscription {
    pub topic: String,
    /// The subscription expression (`*`, `TagA || TagB`, an SQL92 filter).
    pub sub_string: String,
    /// `TAG` or `SQL92`.
    pub expression_type: String,
    /// The tags of a TAG expression.
    pub tags: Vec<String>,
    /// When the subscription was last changed (milliseconds since the epoch).
    pub sub_version: i64,
}

/// A consumer group's progress on every queue it has an offset for (Java `ConsumeStats`,
/// `remoting/src/main/java/org/apache/rocketmq/remoting/protocol/admin/ConsumeStats.java`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ConsumeStats {
    /// Sorted by topic, broker name and queue id. Includes the group's retry topic
    /// (`%RETRY%group`) once it has consumed from it, as mqadmin shows it.
    pub queues: Vec<QueueConsumeStats>,
    /// Messages consumed per second, summed over the brokers.
    pub consume_tps: f64,
}

impl ConsumeStats {
    /// Messages stored and not yet consumed, over every queue (mqadmin's "Consume Diff Total").
    pub fn total_lag(&self) -> i64 {
        self.queues.iter().map(|q| q.lag).fold(0, i64::saturating_add)
    }

    /// Messages pulled and not yet acknowledged, over every queue (mqadmin's "Consume Inflight
    /// Total"); 0 on 4.x brokers, which do not report pull offsets.
    pub fn total_inflight(&self) -> i64 {
        self.queues
            .iter()
            .filter_map(|q| q.pull_offset.map(|p| p.saturating_sub(q.consumer_offset)))
            .fold(0, i64::saturating_add)
    }
}

/// One queue's progress (Java `OffsetWrapper`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueConsumeStats {
    pub queue: MessageQueue,
    /// The next offset to be written in the queue.
    pub broker_offset: i64,
    /// The group's committed offset (the next message it will consume); 0 when it has none.
    pub consumer_offset: i64,
    /// 5.x: the next offset the group will pull (at least the consumer offset); `None` from 4.x
    /// brokers.
    pub pull_offset: Option<i64>,
    /// `broker_offset - consumer_offset` (mqadmin's `#Diff`).
    pub lag: i64,
    /// When the last consumed message was stored (milliseconds since the epoch); 0 when none
    /// was consumed (mqadmin's `#LastTime` N/A).
    pub last_timestamp: i64,
}

/// Body of GET_CONSUMER_CONNECTION_LIST.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct ConsumerConnectionBody {
    connection_set: Vec<ConnectionBody>,
    subscription_table: BTreeMap<String, SubscriptionBody>,
    consume_type: Option<String>,
    message_model: Option<String>,
    consume_from_where: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct ConnectionBody {
    client_id: String,
    client_addr: String,
    language: Option<String>,
    version: i32,
}

/// A `SubscriptionData` as brokers and clients write it.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(super) struct SubscriptionBody {
    topic: String,
    sub_string: String,
    expression_type: Option<String>,
    tags_set: BTreeSet<String>,
    sub_version: i64,
}

impl SubscriptionBody {
    /// The subscription, its topic `topic_key` when the body leaves the topic out.
    pub(super) fn into_subscription(self, topic_key: String) -> ConsumerSubscription {
        ConsumerSubscription {
            topic: if self.topic.is_empty() { topic_key } else { self.topic },
            sub_string: self.sub_string,
            expression_type: self.expression_type.unwrap_or_else(|| "TAG".to_owned()),
            tags: self.tags_set.into_iter().collect(),
            sub_version: self.sub_version,
        }
    }
}

/// Body of GET_CONSUME_STATS: `offsetTable` keyed by message queue objects.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct ConsumeStatsBody {
    offset_table: BTreeMap<String, OffsetWrapperBody>,
    consume_tps: f64,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct OffsetWrapperBody {
    broker_offset: i64,
    consumer_offset: i64,
    pull_offset: Option<i64>,
    last_timestamp: i64,
}

impl Admin {
    /// The group's online members, subscriptions and consume settings, merged from every master
    /// broker (each knows the clients that heartbeat to it), as `mqadmin consumerConnection`. A
    /// group with no member online gives empty [`ConsumerConnections::clients`], not an error.
    pub async fn consumer_connections(&self, group: &str) -> Result<ConsumerConnections> {
        validate_group(group)?;
        let wire_group = self.wire(group);
        let masters = self.masters(None).await?;
        let what = format!("get consumer connections of {wire_group}");
        let answers = self
            .on_each(&masters, |target| async {
                let cmd = GetConsumerConnectionListRequestHeader { consumer_group: &wire_group }.command();
                let resp = self.invoke_broker(target, cmd, &what).await?;
                match resp.code {
                    response::SUCCESS => decode_consumer_connection(&resp.body).map(Some),
                    response::CONSUMER_NOT_ONLINE => Ok(None),
                    code => Err(Error::from_response(code, resp.remark.as_deref(), &target.context(&what))),
                }
            })
            .await?;
        let mut merged = ConsumerConnections::default();
        let mut clients: BTreeMap<String, ConsumerClient> = BTreeMap::new();
        let mut subscriptions: BTreeMap<String, ConsumerSubscription> = BTreeMap::new();
        for (target, answer) in masters.iter().zip(answers) {
            let Some(answer) = answer else { continue };
            for client in answer.clients {
                let addrs = client.client_addrs.into_values();
                let merged_client = clients
                    .entry(client.client_id.clone())
                    .or_insert(ConsumerClient { client_addrs: BTreeMap::new(), ..client });
                merged_client.client_addrs.extend(addrs.map(|addr| (target.name.clone(), addr)));
            }
            for sub in answer.subscriptions {
                subscriptions.entry(sub.topic.clone()).or_insert(sub);
            }
            merged.consume_type = merged.consume_type.or(answer.consume_type);
            merged.message_model = merged.message_model.or(answer.message_model);
            merged.consume_from_where = merged.consume_from_where.or(answer.consume_from_where);
        }
        merged.clients = clients.into_values().collect();
        merged.subscriptions = subscriptions
            .into_values()
            .filter(|s| self.listed(&s.topic))
            .map(|s| ConsumerSubscription { topic: self.shown(&s.topic), ..s })
            .collect();
        Ok(merged)
    }

    /// The group's progress on every queue of `topic` (or of every topic it has offsets for,
    /// with `None`), from every master broker, as `mqadmin consumerProgress -g [-t]`. A group
    /// nothing is known of gives no queues, not an error.
    pub async fn consume_stats(&self, group: &str, topic: Option<&str>) -> Result<ConsumeStats> {
        validate_group(group)?;
        let wire_group = self.wire(group);
        let wire_topic = topic.map(|t| self.wire(t));
        let masters = self.masters(None).await?;
        let what = format!("get consume stats of {wire_group}");
        let per_broker = self
            .on_each(&masters, |target| async {
                let cmd = GetConsumeStatsRequestHeader { consumer_group: &wire_group, topic: wire_topic.as_deref() }
                    .command();
                let resp = self.call_broker(target, cmd, &what).await?;
                decode_consume_stats(&resp.body)
            })
            .await?;
        let mut stats = ConsumeStats::default();
        for part in per_broker {
            stats.queues.extend(part.queues);
            stats.consume_tps += part.consume_tps;
        }
        stats.queues.retain(|q| self.listed(&q.queue.topic));
        for q in &mut stats.queues {
            q.queue.topic = self.shown(&q.queue.topic);
        }
        stats.queues.sort_by(|a, b| a.queue.cmp(&b.queue));
        Ok(stats)
    }
}

/// A GET_CONSUMER_CONNECTION_LIST body; each client's address is keyed by the empty broker name
/// until the caller knows which broker answered.
fn decode_consumer_connection(body: &[u8]) -> Result<ConsumerConnections> {
    let raw: ConsumerConnectionBody = decode_body(body, "consumer connection list")?;
    let mut clients: Vec<ConsumerClient> = raw
        .connection_set
        .into_iter()
        .map(|c| ConsumerClient {
            client_id: c.client_id,
            language: c.language.unwrap_or_default(),
            version: c.version,
            client_addrs: BTreeMap::from([(String::new(), c.client_addr)]),
        })
        .collect();
    clients.sort_by(|a, b| a.client_id.cmp(&b.client_id));
    let subscriptions = raw.subscription_table.into_iter().map(|(key, s)| s.into_subscription(key)).collect();
    Ok(ConsumerConnections {
        clients,
        subscriptions,
        consume_type: raw.consume_type,
        message_model: raw.message_model,
        consume_from_where: raw.consume_from_where,
    })
}

fn decode_consume_stats(body: &[u8]) -> Result<ConsumeStats> {
    let raw: ConsumeStatsBody = decode_body(body, "consume stats")?;
    let queues = queue_entries(raw.offset_table)?
        .into_iter()
        .map(|(queue, w)| QueueConsumeStats {
            queue,
            broker_offset: w.broker_offset,
            consumer_offset: w.consumer_offset,
            pull_offset: w.pull_offset,
            lag: w.broker_offset.saturating_sub(w.consumer_offset),
            last_timestamp: w.last_timestamp,
        })
        .collect();
    Ok(ConsumeStats { queues, consume_tps: raw.consume_tps })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// GET_CONSUMER_CONNECTION_LIST answer of a 5.3.3 broker (4.9.7's is the same but for the
    /// client address and times), captured with one push consumer of this client subscribed to
    /// `tagA || tagB`.
    const CONNECTIONS: &str = r#"{"connectionSet":[{"clientAddr":"127.0.0.1:53086","clientId":"192.0.2.2@8086#0","language":"RUST","version":479}],"consumeFromWhere":"CONSUME_FROM_LAST_OFFSET","consumeType":"CONSUME_PASSIVELY","messageModel":"CLUSTERING","subscriptionTable":{"%RETRY%GID_capture":{"classFilterMode":false,"codeSet":[],"expressionType":"TAG","subString":"*","subVersion":1796375886487,"tagsSet":[],"topic":"%RETRY%GID_capture"},"capture_topic":{"classFilterMode":false,"codeSet":[3552231,3552232],"expressionType":"TAG","subString":"tagA || tagB","subVersion":1796375886487,"tagsSet":["tagA","tagB"],"topic":"capture_topic"}}}"#;

    #[test]
    fn consumer_connection_decode() {
        let c = decode_consumer_connection(CONNECTIONS.as_bytes()).unwrap();
        assert_eq!(
            c.clients,
            vec![ConsumerClient {
                client_id: "192.0.2.2@8086#0".into(),
                language: "RUST".into(),
                version: 479,
                client_addrs: BTreeMap::from([(String::new(), "127.0.0.1:53086".into())]),
            }]
        );
        assert_eq!(c.consume_type.as_deref(), Some("CONSUME_PASSIVELY"));
        assert_eq!(c.message_model.as_deref(), Some("CLUSTERING"));
        assert_eq!(c.consume_from_where.as_deref(), Some("CONSUME_FROM_LAST_OFFSET"));
        assert_eq!(c.subscriptions.len(), 2);
        let sub = &c.subscriptions[1];
        assert_eq!((sub.topic.as_str(), sub.sub_string.as_str()), ("capture_topic", "tagA || tagB"));
        assert_eq!(sub.tags, ["tagA", "tagB"]);
        assert_eq!(sub.expression_type, "TAG");
        assert_eq!(sub.sub_version, 1796375886487);
    }

    /// GET_CONSUME_STATS answers captured after the consumer above took one message: 5.3.3
    /// reports `pullOffset`, 4.9.7 does not.
    const STATS_5_3_3: &str = r#"{"consumeTps":0.1,"offsetTable":{{"brokerName":"broker-a","queueId":1,"topic":"capture_topic"}:{"brokerOffset":0,"consumerOffset":0,"lastTimestamp":0,"pullOffset":0},{"brokerName":"broker-a","queueId":0,"topic":"capture_topic"}:{"brokerOffset":1,"consumerOffset":1,"lastTimestamp":1796375886463,"pullOffset":1},{"brokerName":"broker-a","queueId":0,"topic":"%RETRY%GID_capture"}:{"brokerOffset":0,"consumerOffset":0,"lastTimestamp":0,"pullOffset":0}}}"#;
    const STATS_4_9_7: &str = r#"{"consumeTps":0.050002500125006254,"offsetTable":{{"brokerName":"broker-a","queueId":1,"topic":"capture_topic"}:{"brokerOffset":1,"consumerOffset":1,"lastTimestamp":1796375905945},{"brokerName":"broker-a","queueId":0,"topic":"capture_topic"}:{"brokerOffset":0,"consumerOffset":0,"lastTimestamp":0},{"brokerName":"broker-a","queueId":0,"topic":"%RETRY%GID_capture"}:{"brokerOffset":0,"consumerOffset":0,"lastTimestamp":0}}}"#;

    #[test]
    fn consume_stats_decode() {
        let s = decode_consume_stats(STATS_5_3_3.as_bytes()).unwrap();
        assert_eq!(s.consume_tps, 0.1);
        // Java order: "%RETRY%..." sorts before "capture_topic".
        assert_eq!(s.queues[0].queue, MessageQueue::new("%RETRY%GID_capture", "broker-a", 0));
        let q = &s.queues[1];
        assert_eq!(q.queue, MessageQueue::new("capture_topic", "broker-a", 0));
        assert_eq!((q.broker_offset, q.consumer_offset, q.pull_offset, q.lag), (1, 1, Some(1), 0));
        assert_eq!(q.last_timestamp, 1796375886463);
        assert_eq!((s.total_lag(), s.total_inflight()), (0, 0));

        let s = decode_consume_stats(STATS_4_9_7.as_bytes()).unwrap();
        assert!(s.queues.iter().all(|q| q.pull_offset.is_none()));
        assert_eq!(s.queues[2].last_timestamp, 1796375905945);
    }

    #[test]
    fn lag_and_inflight_totals() {
        let q = |id, broker_offset, consumer_offset, pull_offset| QueueConsumeStats {
            queue: MessageQueue::new("T", "b", id),
            broker_offset,
            consumer_offset,
            pull_offset,
            lag: broker_offset - consumer_offset,
            last_timestamp: 0,
        };
        let s = ConsumeStats { queues: vec![q(0, 10, 4, Some(6)), q(1, 5, 5, None)], consume_tps: 0.0 };
        assert_eq!((s.total_lag(), s.total_inflight()), (6, 2));
        let hostile = decode_consume_stats(
            br#"{"offsetTable":{{"brokerName":"b","queueId":0,"topic":"T"}:{"brokerOffset":9223372036854775807,"consumerOffset":-9223372036854775808}}}"#,
        )
        .unwrap();
        assert_eq!(hostile.queues[0].lag, i64::MAX);
    }
}
