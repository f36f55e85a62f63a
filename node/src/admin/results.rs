//! What the `Admin` methods resolve with: `#[napi(object)]` copies of the core's result types
//! (`rocketmq_ons::admin`, described in docs/admin.md), so index.d.ts declares every field. Each
//! queue's row carries its topic, broker name and queue id flat (the core nests a
//! `MessageQueue`). Offsets, timestamps (ms since the epoch) and counts are JS numbers, exact up
//! to 2^53, as everywhere else in the package.

use std::collections::BTreeMap;

use napi_derive::napi;
use rocketmq_ons::admin as core;

use super::inputs::GroupRetryPolicy;

/// A broker's role in its broker group: broker id 0 is the master, any other id a slave.
#[napi(string_enum)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrokerRole {
    Master,
    Slave,
}

/// One broker process of a cluster, as `mqadmin clusterList` lists it.
#[napi(object)]
pub struct ClusterBroker {
    pub cluster: String,
    /// The broker group's name, shared by its master and slaves.
    pub broker_name: String,
    pub broker_id: i64,
    pub addr: String,
    pub role: BrokerRole,
    /// `brokerVersionDesc` (e.g. `V5_3_3`); absent when the runtime info could not be read.
    pub version: Option<String>,
    /// Everything the broker's runtime info holds (`putTps`, `brokerActive`, ...; the keys vary
    /// with the broker version); empty when it could not be read.
    pub runtime: BTreeMap<String, String>,
    /// Why the runtime info could not be read; the broker is listed all the same.
    pub runtime_error: Option<String>,
}

impl From<core::ClusterBroker> for ClusterBroker {
    fn from(b: core::ClusterBroker) -> Self {
        ClusterBroker {
            cluster: b.cluster,
            broker_name: b.broker_name,
            broker_id: b.broker_id,
            addr: b.addr,
            role: match b.role {
                core::BrokerRole::Master => BrokerRole::Master,
                core::BrokerRole::Slave => BrokerRole::Slave,
            },
            version: b.version,
            runtime: b.runtime,
            runtime_error: b.runtime_error.map(|e| e.to_string()),
        }
    }
}

/// A topic's route, as the name servers give it (`mqadmin topicRoute`).
#[napi(object)]
pub struct TopicRoute {
    /// The broker groups hosting the topic, sorted by name.
    pub brokers: Vec<RouteBroker>,
    /// The topic's queues on each broker group, sorted by broker name.
    pub queues: Vec<RouteQueues>,
    /// `brokerName:count;...` when the name server has an order config for the topic.
    pub order_topic_conf: Option<String>,
}

/// A broker group in a route.
#[napi(object)]
pub struct RouteBroker {
    pub cluster: String,
    pub broker_name: String,
    /// Addresses by broker id (`'0'` is the master's).
    pub addrs: BTreeMap<String, String>,
}

/// A topic's queues on one broker group.
#[napi(object)]
pub struct RouteQueues {
    pub broker_name: String,
    pub read_queue_nums: i32,
    pub write_queue_nums: i32,
    /// Permission bits: 4 read, 2 write (6 for a normal topic).
    pub perm: i32,
    pub topic_sys_flag: i32,
}

impl From<core::TopicRouteInfo> for TopicRoute {
    fn from(r: core::TopicRouteInfo) -> Self {
        TopicRoute {
            brokers: r
                .brokers
                .into_iter()
                .map(|b| RouteBroker {
                    cluster: b.cluster,
                    broker_name: b.broker_name,
                    addrs: b.addrs.into_iter().map(|(id, addr)| (id.to_string(), addr)).collect(),
                })
                .collect(),
            queues: r
                .queues
                .into_iter()
                .map(|q| RouteQueues {
                    broker_name: q.broker_name,
                    read_queue_nums: q.read_queue_nums,
                    write_queue_nums: q.write_queue_nums,
                    perm: q.perm,
                    topic_sys_flag: q.topic_sys_flag,
                })
                .collect(),
            order_topic_conf: r.order_topic_conf,
        }
    }
}

/// The offsets of a topic's queues on every broker hosting it (`mqadmin topicStatus`).
#[napi(object)]
pub struct TopicStats {
    /// Sorted by broker name and queue id.
    pub queues: Vec<TopicQueueStats>,
    /// Messages put per second, summed over the brokers (0 from 4.x brokers).
    pub put_tps: f64,
}

/// One queue's offsets.
#[napi(object)]
pub struct TopicQueueStats {
    pub topic: String,
    pub broker_name: String,
    pub queue_id: i32,
    /// The first offset still stored.
    pub min_offset: i64,
    /// The next offset to be written.
    pub max_offset: i64,
    /// When the last message was stored; 0 when the queue is empty.
    pub last_update_timestamp: i64,
}

impl From<core::TopicStats> for TopicStats {
    fn from(s: core::TopicStats) -> Self {
        TopicStats {
            queues: s
                .queues
                .into_iter()
                .map(|q| TopicQueueStats {
                    topic: q.queue.topic,
                    broker_name: q.queue.broker_name,
                    queue_id: q.queue.queue_id,
                    min_offset: q.min_offset,
                    max_offset: q.max_offset,
                    last_update_timestamp: q.last_update_timestamp,
                })
                .collect(),
            put_tps: s.put_tps,
        }
    }
}

/// A consumer group's config as a broker keeps it (Java `SubscriptionGroupConfig`). The fields
/// marked 5.x are unknown to 4.x brokers, which report their defaults.
#[napi(object)]
pub struct SubscriptionGroupConfig {
    pub group_name: String,
    /// Whether the group may consume at all.
    pub consume_enable: bool,
    /// A new group starts from each queue's first message while all of it is still stored.
    pub consume_from_min_enable: bool,
    /// Whether broadcast consumption is allowed.
    pub consume_broadcast_enable: bool,
    /// 5.x: the group consumes orderly (POP consumers).
    pub consume_message_orderly: bool,
    /// Queues of the group's retry topic on each broker.
    pub retry_queue_nums: i32,
    /// Deliveries of a failed message before it goes to the dead-letter queue.
    pub retry_max_times: i32,
    /// 5.x: retry back-off of POP consumers; absent for the broker's default.
    pub group_retry_policy: Option<GroupRetryPolicy>,
    /// The broker id the group consumes from (0: the master).
    pub broker_id: i64,
    /// The broker id to consume from when the master is slow.
    pub which_broker_when_consume_slowly: i64,
    /// Whether consumers are told at once when the group's membership changes.
    pub notify_consumer_ids_changed_enable: bool,
    /// 5.x.
    pub group_sys_flag: i32,
    /// 5.x: consume timeout of push consumers, in minutes.
    pub consume_timeout_minute: i32,
    /// 5.x: group attributes.
    pub attributes: BTreeMap<String, String>,
}

impl From<core::SubscriptionGroupConfig> for SubscriptionGroupConfig {
    fn from(g: core::SubscriptionGroupConfig) -> Self {
        SubscriptionGroupConfig {
            group_name: g.group_name,
            consume_enable: g.consume_enable,
            consume_from_min_enable: g.consume_from_min_enable,
            consume_broadcast_enable: g.consume_broadcast_enable,
            consume_message_orderly: g.consume_message_orderly,
            retry_queue_nums: g.retry_queue_nums,
            retry_max_times: g.retry_max_times,
            group_retry_policy: g.group_retry_policy.map(Into::into),
            broker_id: g.broker_id,
            which_broker_when_consume_slowly: g.which_broker_when_consume_slowly,
            notify_consumer_ids_changed_enable: g.notify_consumer_ids_changed_enable,
            group_sys_flag: g.group_sys_flag,
            consume_timeout_minute: g.consume_timeout_minute,
            attributes: g.attributes,
        }
    }
}

/// The subscription groups of one master broker.
#[napi(object)]
pub struct BrokerSubscriptionGroups {
    pub broker_name: String,
    pub addr: String,
    /// Sorted by group name; the brokers' system groups (`TOOLS_CONSUMER`, ...) included.
    pub groups: Vec<SubscriptionGroupConfig>,
}

impl From<core::BrokerSubscriptionGroups> for BrokerSubscriptionGroups {
    fn from(b: core::BrokerSubscriptionGroups) -> Self {
        BrokerSubscriptionGroups {
            broker_name: b.broker_name,
            addr: b.addr,
            groups: b.groups.into_iter().map(Into::into).collect(),
        }
    }
}

/// A consumer group's online members and what they subscribe to (`mqadmin consumerConnection`).
#[napi(object)]
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

/// One connected consumer client.
#[napi(object)]
pub struct ConsumerClient {
    /// The id the client announces (`ip@instance`); `consumerRunningInfo` and
    /// `consumeMessageDirectly` take it.
    pub client_id: String,
    /// `JAVA`, `CPP`, `RUST`, ...
    pub language: String,
    /// The client's version ordinal (Java `MQVersion.Version`).
    pub version: i32,
    /// The client's address as each broker it is connected to sees it, by broker name.
    pub client_addrs: BTreeMap<String, String>,
}

/// One subscription of a consumer.
#[napi(object)]
pub struct ConsumerSubscription {
    pub topic: String,
    /// The expression: `*`, `TagA || TagB`, or an SQL92 filter.
    pub sub_string: String,
    /// `TAG` or `SQL92`.
    pub expression_type: String,
    /// The tags of a TAG expression.
    pub tags: Vec<String>,
    /// When the subscription last changed.
    pub sub_version: i64,
}

impl From<core::ConsumerSubscription> for ConsumerSubscription {
    fn from(s: core::ConsumerSubscription) -> Self {
        ConsumerSubscription {
            topic: s.topic,
            sub_string: s.sub_string,
            expression_type: s.expression_type,
            tags: s.tags,
            sub_version: s.sub_version,
        }
    }
}

impl From<core::ConsumerConnections> for ConsumerConnections {
    fn from(c: core::ConsumerConnections) -> Self {
        ConsumerConnections {
            clients: c
                .clients
                .into_iter()
                .map(|client| ConsumerClient {
                    client_id: client.client_id,
                    language: client.language,
                    version: client.version,
                    client_addrs: client.client_addrs,
                })
                .collect(),
            subscriptions: c.subscriptions.into_iter().map(Into::into).collect(),
            consume_type: c.consume_type,
            message_model: c.message_model,
            consume_from_where: c.consume_from_where,
        }
    }
}

/// A consumer group's progress on every queue it has an offset for (`mqadmin consumerProgress`).
#[napi(object)]
pub struct ConsumeStats {
    /// Sorted by topic, broker name and queue id; the group's retry topic included once used.
    pub queues: Vec<QueueConsumeStats>,
    /// Messages consumed per second, summed over the brokers.
    pub consume_tps: f64,
    /// Messages stored and not yet consumed, over every queue (mqadmin's "Consume Diff Total").
    pub total_lag: i64,
    /// Messages pulled and not yet acknowledged (5.x; 0 from 4.x brokers).
    pub total_inflight: i64,
}

/// One queue's progress.
#[napi(object)]
pub struct QueueConsumeStats {
    pub topic: String,
    pub broker_name: String,
    pub queue_id: i32,
    /// The next offset to be written in the queue.
    pub broker_offset: i64,
    /// The group's committed offset (the next message it will consume); 0 when it has none.
    pub consumer_offset: i64,
    /// 5.x: the next offset the group will pull; absent from 4.x brokers.
    pub pull_offset: Option<i64>,
    /// `brokerOffset - consumerOffset`.
    pub lag: i64,
    /// When the last consumed message was stored; 0 when none was.
    pub last_timestamp: i64,
}

impl From<core::ConsumeStats> for ConsumeStats {
    fn from(s: core::ConsumeStats) -> Self {
        let (total_lag, total_inflight) = (s.total_lag(), s.total_inflight());
        ConsumeStats {
            queues: s
                .queues
                .into_iter()
                .map(|q| QueueConsumeStats {
                    topic: q.queue.topic,
                    broker_name: q.queue.broker_name,
                    queue_id: q.queue.queue_id,
                    broker_offset: q.broker_offset,
                    consumer_offset: q.consumer_offset,
                    pull_offset: q.pull_offset,
                    lag: q.lag,
                    last_timestamp: q.last_timestamp,
                })
                .collect(),
            consume_tps: s.consume_tps,
            total_lag,
            total_inflight,
        }
    }
}

/// What a consumer client reports about itself (`mqadmin consumerStatus -i`).
#[napi(object)]
pub struct ConsumerRunningInfo {
    /// The client's settings and facts by the names it gives them (`PROP_CONSUME_TYPE`,
    /// `PROP_CLIENT_VERSION`, `consumerGroup`, ...); values that are not strings as JSON text.
    pub properties: BTreeMap<String, String>,
    /// `CONSUME_PASSIVELY` (push) or `CONSUME_ACTIVELY` (pull), from `PROP_CONSUME_TYPE`.
    pub consume_type: Option<String>,
    /// Whether the client consumes in order (`PROP_CONSUMEORDERLY`).
    pub orderly: bool,
    /// Its subscriptions, its retry topic's included, sorted by topic.
    pub subscriptions: Vec<ConsumerSubscription>,
    /// The queues it consumes now and the state of its cache of each.
    pub queues: Vec<ProcessQueueInfo>,
    /// Pull and consume rates by topic; empty from clients that do not measure them (this one).
    pub status: BTreeMap<String, ConsumeStatus>,
    /// Every thread's stack, from Java clients asked for it.
    pub jstack: Option<String>,
}

/// A client's cache of one queue.
#[napi(object)]
pub struct ProcessQueueInfo {
    pub topic: String,
    pub broker_name: String,
    pub queue_id: i32,
    /// The offset the client will commit: its next message to consume.
    pub commit_offset: i64,
    /// Offsets of the oldest and newest message cached (0 when none is).
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
    /// When a pull was last answered and a message last handed to a listener; 0 for never.
    pub last_pull_timestamp: i64,
    pub last_consume_timestamp: i64,
}

/// A client's rates for one topic: response times in ms, rates per second.
#[napi(object)]
pub struct ConsumeStatus {
    pub pull_rt: f64,
    pub pull_tps: f64,
    pub consume_rt: f64,
    pub consume_ok_tps: f64,
    pub consume_failed_tps: f64,
    /// Messages that failed in the last hour.
    pub consume_failed_msgs: i64,
}

impl From<core::ConsumerRunningInfo> for ConsumerRunningInfo {
    fn from(info: core::ConsumerRunningInfo) -> Self {
        let (consume_type, orderly) = (info.consume_type().map(str::to_owned), info.orderly());
        ConsumerRunningInfo {
            properties: info.properties,
            consume_type,
            orderly,
            subscriptions: info.subscriptions.into_iter().map(Into::into).collect(),
            queues: info
                .queues
                .into_iter()
                .map(|p| ProcessQueueInfo {
                    topic: p.queue.topic,
                    broker_name: p.queue.broker_name,
                    queue_id: p.queue.queue_id,
                    commit_offset: p.commit_offset,
                    cached_msg_min_offset: p.cached_msg_min_offset,
                    cached_msg_max_offset: p.cached_msg_max_offset,
                    cached_msg_count: p.cached_msg_count,
                    cached_msg_size_mib: p.cached_msg_size_mib,
                    locked: p.locked,
                    try_unlock_times: p.try_unlock_times,
                    last_lock_timestamp: p.last_lock_timestamp,
                    dropped: p.dropped,
                    last_pull_timestamp: p.last_pull_timestamp,
                    last_consume_timestamp: p.last_consume_timestamp,
                })
                .collect(),
            status: info
                .status
                .into_iter()
                .map(|(topic, s)| {
                    let status = ConsumeStatus {
                        pull_rt: s.pull_rt,
                        pull_tps: s.pull_tps,
                        consume_rt: s.consume_rt,
                        consume_ok_tps: s.consume_ok_tps,
                        consume_failed_tps: s.consume_failed_tps,
                        consume_failed_msgs: s.consume_failed_msgs,
                    };
                    (topic, status)
                })
                .collect(),
            jstack: info.jstack,
        }
    }
}

/// How a client's listener took a message sent to it directly (Java `CMResult`).
#[napi(string_enum)]
#[allow(non_camel_case_types, clippy::upper_case_acronyms)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirectConsumeResult {
    /// Consumed (`CommitMessage`; orderly `Success`).
    CR_SUCCESS,
    /// To be consumed again later (`ReconsumeLater`; orderly `Suspend`).
    CR_LATER,
    /// Orderly, without auto-commit: rolled back.
    CR_ROLLBACK,
    /// Orderly, without auto-commit: committed.
    CR_COMMIT,
    /// The listener threw (this client: panicked).
    CR_THROW_EXCEPTION,
    /// A Java listener returned null.
    CR_RETURN_NULL,
}

/// The answer of `consumeMessageDirectly`.
#[napi(object)]
pub struct ConsumeMessageDirectlyResult {
    /// The client consumes in order.
    pub order: bool,
    pub auto_commit: bool,
    /// Absent when the client reported no result.
    pub result: Option<DirectConsumeResult>,
    /// Why it failed (the exception, or this client's listener panic).
    pub remark: Option<String>,
    /// How long the listener took, in milliseconds.
    pub spent_time_ms: i64,
}

impl From<core::ConsumeMessageDirectlyResult> for ConsumeMessageDirectlyResult {
    fn from(r: core::ConsumeMessageDirectlyResult) -> Self {
        ConsumeMessageDirectlyResult {
            order: r.order,
            auto_commit: r.auto_commit,
            result: r.result.map(|v| match v {
                core::DirectConsumeResult::Success => DirectConsumeResult::CR_SUCCESS,
                core::DirectConsumeResult::Later => DirectConsumeResult::CR_LATER,
                core::DirectConsumeResult::Rollback => DirectConsumeResult::CR_ROLLBACK,
                core::DirectConsumeResult::Commit => DirectConsumeResult::CR_COMMIT,
                core::DirectConsumeResult::ThrowException => DirectConsumeResult::CR_THROW_EXCEPTION,
                core::DirectConsumeResult::ReturnNull => DirectConsumeResult::CR_RETURN_NULL,
            }),
            remark: r.remark,
            spent_time_ms: r.spent_time_ms,
        }
    }
}

/// How far a group got with a message (Java `TrackType`, as mqadmin and the console print it).
#[napi(string_enum)]
#[allow(non_camel_case_types, clippy::upper_case_acronyms)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackType {
    /// The group's committed offset is past the message.
    CONSUMED,
    /// Past the message, which the group's tag subscription does not take.
    CONSUMED_BUT_FILTERED,
    /// The group pulls by itself: the brokers cannot tell.
    PULL,
    /// The group is online and has not got that far.
    NOT_CONSUME_YET,
    /// No client of the group is online.
    NOT_ONLINE,
    /// A broadcasting group: each client keeps its own offsets.
    CONSUME_BROADCASTING,
    /// Anything else (5.x pop consumers, or a failure: see `error`).
    UNKNOWN,
}

/// One group's state for a message.
#[napi(object)]
pub struct MessageTrack {
    pub group: String,
    pub track_type: TrackType,
    /// Why the state could not be found (`UNKNOWN`).
    pub error: Option<String>,
}

impl From<core::MessageTrack> for MessageTrack {
    fn from(t: core::MessageTrack) -> Self {
        let track_type = match t.track_type {
            core::TrackType::Consumed => TrackType::CONSUMED,
            core::TrackType::ConsumedButFiltered => TrackType::CONSUMED_BUT_FILTERED,
            core::TrackType::Pull => TrackType::PULL,
            core::TrackType::NotConsumeYet => TrackType::NOT_CONSUME_YET,
            core::TrackType::NotOnline => TrackType::NOT_ONLINE,
            core::TrackType::ConsumeBroadcasting => TrackType::CONSUME_BROADCASTING,
            core::TrackType::Unknown => TrackType::UNKNOWN,
        };
        MessageTrack { group: t.group, track_type, error: t.error }
    }
}
