//! `Admin`: the core's cluster management calls (`rocketmq_ons::admin::Admin`, docs/admin.md)
//! as Promise-returning methods named after the core's, camelCased. This module owns the class
//! and its argument handling; `results` the objects the Promises resolve with, `inputs` the
//! objects and enums the methods take. Arguments of the wrong JS type throw a `TypeError` (see
//! `crate::args`); everything else, the core's own checks of names and ranges included, rejects
//! the Promise with the core's error.

mod inputs;
mod results;

use std::future::Future;
use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi::ValueType;
use napi_derive::napi;
use rocketmq_ons::admin::{Admin as CoreAdmin, ResetPosition as CoreResetPosition};

use crate::args;
use crate::core_call::promise;
use crate::error;
use crate::js_call::typeof_name;
use crate::js_thread::Start;
use crate::message::Received;

pub use inputs::{
    CustomizedRetryPolicy, ExponentialRetryPolicy, GroupRetryPolicy, ResetPosition, RetryPolicyType,
    SubscriptionGroupSettings, TopicConfig,
};
pub use results::{
    BrokerRole, BrokerSubscriptionGroups, ClusterBroker, ConsumeMessageDirectlyResult, ConsumeStats, ConsumeStatus,
    ConsumerClient, ConsumerConnections, ConsumerRunningInfo, ConsumerSubscription, DirectConsumeResult, MessageTrack,
    ProcessQueueInfo, QueueConsumeStats, RouteBroker, RouteQueues, SubscriptionGroupConfig, TopicQueueStats,
    TopicRoute, TopicStats, TrackType,
};

/// The offset of one queue of a topic: the next to be written (`maxOffsets`), or the group's
/// next to consume after `resetOffsets`.
#[napi(object)]
pub struct QueueOffset {
    pub broker_name: String,
    pub queue_id: i32,
    pub offset: i64,
}

/// How many messages `queryMessages` asks each broker for when not told (mqadmin's
/// `queryMsgByKey` asks for 64, the brokers' default cap `maxMsgsNumBatch`).
const DEFAULT_QUERY_MAX_PER_BROKER: i32 = 64;

/// Cluster management against the cluster named by NAMESRV_ADDR (credentials when the brokers
/// check them): topics, subscription groups, consumer progress and clients, offsets, stored
/// messages (docs/admin.md). Every method returns a Promise. Shares connections with the other
/// clients of the same settings; needs no `start()` or `shutdown()`.
#[napi]
pub struct Admin {
    inner: Arc<CoreAdmin>,
}

#[napi]
impl Admin {
    #[napi(constructor, ts_args_type = "properties: Record<string, string | number | boolean | null | undefined>")]
    pub fn new(env: &Env, properties: Object) -> Result<Self> {
        let props = crate::config::properties(env, &properties)?;
        let inner = napi::bindgen_prelude::within_runtime_if_available(|| CoreAdmin::new(&props))
            .map_err(|e| error::to_js(env, &e))?;
        Ok(Admin { inner: Arc::new(inner) })
    }

    /// Every broker the name servers know, sorted by cluster, broker name and id, with its
    /// version and runtime figures (`mqadmin clusterList`).
    #[napi(ts_return_type = "Promise<ClusterBroker[]>")]
    pub fn cluster_list<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, Vec<ClusterBroker>>> {
        self.run(
            env,
            |inner| async move { inner.cluster_list().await },
            |brokers| Ok(brokers.into_iter().map(Into::into).collect()),
        )
    }

    /// The runtime figures of the broker at `addr` (`mqadmin brokerStatus`).
    #[napi(ts_args_type = "addr: string", ts_return_type = "Promise<Record<string, string>>")]
    pub fn broker_runtime_info<'env>(
        &self,
        env: &'env Env,
        addr: Unknown<'_>,
    ) -> Result<PromiseRaw<'env, std::collections::BTreeMap<String, String>>> {
        let addr = args::string(env, addr, "brokerRuntimeInfo: addr")?;
        self.run(env, |inner| async move { inner.broker_runtime_info(&addr).await }, Ok)
    }

    /// Creates `config.topicName`, or updates its queue counts, permission and order flag, on
    /// every master of `cluster` (`mqadmin updateTopic -c`); resolves with their broker names.
    #[napi(ts_args_type = "cluster: string, config: TopicConfig", ts_return_type = "Promise<string[]>")]
    pub fn update_topic<'env>(
        &self,
        env: &'env Env,
        cluster: Unknown<'_>,
        config: Unknown<'_>,
    ) -> Result<PromiseRaw<'env, Vec<String>>> {
        let cluster = args::string(env, cluster, "updateTopic: cluster")?;
        let config = args::object::<TopicConfig>(env, config, "updateTopic: config", "TopicConfig")?
            .to_core(env, "updateTopic: config")?;
        self.run(env, |inner| async move { inner.update_topic(&cluster, &config).await }, Ok)
    }

    /// Creates (or updates) `topic` with `queueNums` (default 4) read and write queues on every
    /// master that hosts TBW102 (the brokers creating topics automatically, in any cluster).
    #[napi(
        ts_args_type = "topic: string, queueNums?: number | null, order?: boolean | null",
        ts_return_type = "Promise<void>"
    )]
    pub fn create_topic<'env>(
        &self,
        env: &'env Env,
        topic: Unknown<'_>,
        queue_nums: Option<Unknown<'_>>,
        order: Option<Unknown<'_>>,
    ) -> Result<PromiseRaw<'env, ()>> {
        let topic = args::string(env, topic, "createTopic: topic")?;
        let queue_nums = args::optional_integer::<u32>(env, queue_nums, "createTopic: queueNums")?.unwrap_or(4);
        let order = args::optional_bool(env, order, "createTopic: order")?.unwrap_or(false);
        self.run(env, |inner| async move { inner.create_topic(&topic, queue_nums, order).await }, Ok)
    }

    /// Deletes `topic` from every master of `cluster`, then from every name server (`mqadmin
    /// deleteTopic -c`).
    #[napi(ts_args_type = "cluster: string, topic: string", ts_return_type = "Promise<void>")]
    pub fn delete_topic<'env>(
        &self,
        env: &'env Env,
        cluster: Unknown<'_>,
        topic: Unknown<'_>,
    ) -> Result<PromiseRaw<'env, ()>> {
        let cluster = args::string(env, cluster, "deleteTopic: cluster")?;
        let topic = args::string(env, topic, "deleteTopic: topic")?;
        self.run(env, |inner| async move { inner.delete_topic(&cluster, &topic).await }, Ok)
    }

    /// Every topic the name servers know, sorted, system topics included (`mqadmin topicList`).
    #[napi(ts_return_type = "Promise<string[]>")]
    pub fn list_topics<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, Vec<String>>> {
        self.run(env, |inner| async move { inner.list_topics().await }, Ok)
    }

    /// The route of `topic` (`mqadmin topicRoute`); a topic without one rejects with
    /// `TOPIC_NOT_FOUND`.
    #[napi(ts_args_type = "topic: string", ts_return_type = "Promise<TopicRoute>")]
    pub fn topic_route<'env>(&self, env: &'env Env, topic: Unknown<'_>) -> Result<PromiseRaw<'env, TopicRoute>> {
        let topic = args::string(env, topic, "topicRoute: topic")?;
        self.run(env, |inner| async move { inner.topic_route(&topic).await }, |route| Ok(route.into()))
    }

    /// The min and max offsets and last store time of every queue of `topic` (`mqadmin
    /// topicStatus`).
    #[napi(ts_args_type = "topic: string", ts_return_type = "Promise<TopicStats>")]
    pub fn topic_stats<'env>(&self, env: &'env Env, topic: Unknown<'_>) -> Result<PromiseRaw<'env, TopicStats>> {
        let topic = args::string(env, topic, "topicStats: topic")?;
        self.run(env, |inner| async move { inner.topic_stats(&topic).await }, |stats| Ok(stats.into()))
    }

    /// The next offset to be written in each queue of `topic`.
    #[napi(ts_args_type = "topic: string", ts_return_type = "Promise<QueueOffset[]>")]
    pub fn max_offsets<'env>(&self, env: &'env Env, topic: Unknown<'_>) -> Result<PromiseRaw<'env, Vec<QueueOffset>>> {
        let topic = args::string(env, topic, "maxOffsets: topic")?;
        self.run(
            env,
            |inner| async move { inner.max_offsets(&topic).await },
            |offsets| {
                Ok(offsets
                    .into_iter()
                    .map(|(broker_name, queue_id, offset)| QueueOffset { broker_name, queue_id, offset })
                    .collect())
            },
        )
    }

    /// Creates the group, or replaces its config, on every master of `cluster` (`mqadmin
    /// updateSubGroup -c`); fields left out of `settings` take the Java defaults. Resolves with
    /// the broker names.
    #[napi(ts_args_type = "cluster: string, settings: SubscriptionGroupSettings", ts_return_type = "Promise<string[]>")]
    pub fn update_subscription_group<'env>(
        &self,
        env: &'env Env,
        cluster: Unknown<'_>,
        settings: Unknown<'_>,
    ) -> Result<PromiseRaw<'env, Vec<String>>> {
        let what = "updateSubscriptionGroup: settings";
        let cluster = args::string(env, cluster, "updateSubscriptionGroup: cluster")?;
        let config = args::object::<SubscriptionGroupSettings>(env, settings, what, "SubscriptionGroupSettings")?
            .to_core(env, what)?;
        self.run(env, |inner| async move { inner.update_subscription_group(&cluster, &config).await }, Ok)
    }

    /// Deletes the group from every master of `cluster` (`mqadmin deleteSubGroup -c`), with
    /// `cleanOffset` its consumer offsets too; resolves with the broker names.
    #[napi(
        ts_args_type = "cluster: string, group: string, cleanOffset?: boolean | null",
        ts_return_type = "Promise<string[]>"
    )]
    pub fn delete_subscription_group<'env>(
        &self,
        env: &'env Env,
        cluster: Unknown<'_>,
        group: Unknown<'_>,
        clean_offset: Option<Unknown<'_>>,
    ) -> Result<PromiseRaw<'env, Vec<String>>> {
        let cluster = args::string(env, cluster, "deleteSubscriptionGroup: cluster")?;
        let group = args::string(env, group, "deleteSubscriptionGroup: group")?;
        let clean_offset =
            args::optional_bool(env, clean_offset, "deleteSubscriptionGroup: cleanOffset")?.unwrap_or(false);
        self.run(env, |inner| async move { inner.delete_subscription_group(&cluster, &group, clean_offset).await }, Ok)
    }

    /// The subscription groups of every master of `cluster`.
    #[napi(ts_args_type = "cluster: string", ts_return_type = "Promise<BrokerSubscriptionGroups[]>")]
    pub fn list_subscription_groups<'env>(
        &self,
        env: &'env Env,
        cluster: Unknown<'_>,
    ) -> Result<PromiseRaw<'env, Vec<BrokerSubscriptionGroups>>> {
        let cluster = args::string(env, cluster, "listSubscriptionGroups: cluster")?;
        self.run(
            env,
            |inner| async move { inner.list_subscription_groups(&cluster).await },
            |lists| Ok(lists.into_iter().map(Into::into).collect()),
        )
    }

    /// The group's online members, subscriptions and consume settings (`mqadmin
    /// consumerConnection`); a group nobody of is online has no clients.
    #[napi(ts_args_type = "group: string", ts_return_type = "Promise<ConsumerConnections>")]
    pub fn consumer_connections<'env>(
        &self,
        env: &'env Env,
        group: Unknown<'_>,
    ) -> Result<PromiseRaw<'env, ConsumerConnections>> {
        let group = args::string(env, group, "consumerConnections: group")?;
        self.run(env, |inner| async move { inner.consumer_connections(&group).await }, |c| Ok(c.into()))
    }

    /// The group's progress on every queue of `topic`, or of every topic it has offsets for
    /// (`mqadmin consumerProgress`).
    #[napi(ts_args_type = "group: string, topic?: string | null", ts_return_type = "Promise<ConsumeStats>")]
    pub fn consume_stats<'env>(
        &self,
        env: &'env Env,
        group: Unknown<'_>,
        topic: Option<Unknown<'_>>,
    ) -> Result<PromiseRaw<'env, ConsumeStats>> {
        let group = args::string(env, group, "consumeStats: group")?;
        let topic = args::optional_string(env, topic, "consumeStats: topic")?;
        self.run(env, |inner| async move { inner.consume_stats(&group, topic.as_deref()).await }, |s| Ok(s.into()))
    }

    /// What client `clientId` of `group` (an id from `consumerConnections`) reports about
    /// itself (`mqadmin consumerStatus -i`).
    #[napi(ts_args_type = "group: string, clientId: string", ts_return_type = "Promise<ConsumerRunningInfo>")]
    pub fn consumer_running_info<'env>(
        &self,
        env: &'env Env,
        group: Unknown<'_>,
        client_id: Unknown<'_>,
    ) -> Result<PromiseRaw<'env, ConsumerRunningInfo>> {
        let group = args::string(env, group, "consumerRunningInfo: group")?;
        let client_id = args::string(env, client_id, "consumerRunningInfo: clientId")?;
        self.run(
            env,
            |inner| async move { inner.consumer_running_info(&group, &client_id).await },
            |info| Ok(info.into()),
        )
    }

    /// Has client `clientId` of `group` run its listener on the message `msgId` (either kind of
    /// id) of `topic`, and resolves with how that went. Nothing else happens to the message.
    #[napi(
        ts_args_type = "group: string, clientId: string, topic: string, msgId: string",
        ts_return_type = "Promise<ConsumeMessageDirectlyResult>"
    )]
    pub fn consume_message_directly<'env>(
        &self,
        env: &'env Env,
        group: Unknown<'_>,
        client_id: Unknown<'_>,
        topic: Unknown<'_>,
        msg_id: Unknown<'_>,
    ) -> Result<PromiseRaw<'env, ConsumeMessageDirectlyResult>> {
        let group = args::string(env, group, "consumeMessageDirectly: group")?;
        let client_id = args::string(env, client_id, "consumeMessageDirectly: clientId")?;
        let topic = args::string(env, topic, "consumeMessageDirectly: topic")?;
        let msg_id = args::string(env, msg_id, "consumeMessageDirectly: msgId")?;
        self.run(
            env,
            |inner| async move { inner.consume_message_directly(&group, &client_id, &topic, &msg_id).await },
            |r| Ok(r.into()),
        )
    }

    /// Moves `group`'s offsets on every queue of `topic` to `to`: a time in ms since the epoch
    /// (the first message stored at or after it), `ResetPosition.Earliest` or
    /// `ResetPosition.Latest`; running consumers of the group jump there (`mqadmin
    /// resetOffsetByTime`). Resolves with each queue's new offset.
    #[napi(
        ts_args_type = "group: string, topic: string, to: number | ResetPosition",
        ts_return_type = "Promise<QueueOffset[]>"
    )]
    pub fn reset_offsets<'env>(
        &self,
        env: &'env Env,
        group: Unknown<'_>,
        topic: Unknown<'_>,
        to: Unknown<'_>,
    ) -> Result<PromiseRaw<'env, Vec<QueueOffset>>> {
        let group = args::string(env, group, "resetOffsets: group")?;
        let topic = args::string(env, topic, "resetOffsets: topic")?;
        let to = reset_position(env, to)?;
        self.run(
            env,
            |inner| async move { inner.reset_offsets(&group, &topic, to).await },
            |offsets| {
                Ok(offsets
                    .into_iter()
                    .map(|q| QueueOffset {
                        broker_name: q.queue.broker_name,
                        queue_id: q.queue.queue_id,
                        offset: q.offset,
                    })
                    .collect())
            },
        )
    }

    /// Reads a message back by its offset message id (`SendResult.offsetMsgId`).
    #[napi(ts_args_type = "topic: string, offsetMsgId: string", ts_return_type = "Promise<Message>")]
    pub fn view_message<'env>(
        &self,
        env: &'env Env,
        topic: Unknown<'_>,
        offset_msg_id: Unknown<'_>,
    ) -> Result<PromiseRaw<'env, Received>> {
        let topic = args::string(env, topic, "viewMessage: topic")?;
        let offset_msg_id = args::string(env, offset_msg_id, "viewMessage: offsetMsgId")?;
        self.run(env, |inner| async move { inner.view_message(&topic, &offset_msg_id).await }, |m| Ok(Received(m)))
    }

    /// One message of `topic` by either kind of id: an offset message id is read from its
    /// broker, anything else is looked up as a message id (unique key) among the messages of
    /// the last 3 days (`mqadmin queryMsgById`). Resolves with `null` when there is none.
    #[napi(ts_args_type = "topic: string, msgId: string", ts_return_type = "Promise<Message | null>")]
    pub fn message_by_id<'env>(
        &self,
        env: &'env Env,
        topic: Unknown<'_>,
        msg_id: Unknown<'_>,
    ) -> Result<PromiseRaw<'env, Option<Received>>> {
        let topic = args::string(env, topic, "messageById: topic")?;
        let msg_id = args::string(env, msg_id, "messageById: msgId")?;
        self.run(env, |inner| async move { inner.message_by_id(&topic, &msg_id).await }, |m| Ok(m.map(Received)))
    }

    /// The messages of `topic` with business key `key` stored from `beginMs` to `endMs` (ms
    /// since the epoch), at most `maxPerBroker` (default 64) from each broker, sorted by store
    /// time (`mqadmin queryMsgByKey`).
    #[napi(
        ts_args_type = "topic: string, key: string, beginMs: number, endMs: number, maxPerBroker?: number | null",
        ts_return_type = "Promise<Message[]>"
    )]
    pub fn query_messages<'env>(
        &self,
        env: &'env Env,
        topic: Unknown<'_>,
        key: Unknown<'_>,
        begin_ms: Unknown<'_>,
        end_ms: Unknown<'_>,
        max_per_broker: Option<Unknown<'_>>,
    ) -> Result<PromiseRaw<'env, Vec<Received>>> {
        let topic = args::string(env, topic, "queryMessages: topic")?;
        let key = args::string(env, key, "queryMessages: key")?;
        let begin_ms = args::integer::<i64>(env, begin_ms, "queryMessages: beginMs")?;
        let end_ms = args::integer::<i64>(env, end_ms, "queryMessages: endMs")?;
        let max_per_broker = args::optional_integer::<i32>(env, max_per_broker, "queryMessages: maxPerBroker")?
            .unwrap_or(DEFAULT_QUERY_MAX_PER_BROKER);
        self.run(
            env,
            |inner| async move { inner.query_messages(&topic, &key, begin_ms, end_ms, max_per_broker).await },
            |messages| Ok(messages.into_iter().map(Received).collect()),
        )
    }

    /// The messages stored in queue `queueId` of `topic` on broker `brokerName` from offset
    /// `begin` up to, not including, `end` (at most 2048), without consuming them.
    #[napi(
        ts_args_type = "topic: string, brokerName: string, queueId: number, begin: number, end: number",
        ts_return_type = "Promise<Message[]>"
    )]
    pub fn read_queue<'env>(
        &self,
        env: &'env Env,
        topic: Unknown<'_>,
        broker_name: Unknown<'_>,
        queue_id: Unknown<'_>,
        begin: Unknown<'_>,
        end: Unknown<'_>,
    ) -> Result<PromiseRaw<'env, Vec<Received>>> {
        let topic = args::string(env, topic, "readQueue: topic")?;
        let broker_name = args::string(env, broker_name, "readQueue: brokerName")?;
        let queue_id = args::integer::<i32>(env, queue_id, "readQueue: queueId")?;
        let begin = args::integer::<i64>(env, begin, "readQueue: begin")?;
        let end = args::integer::<i64>(env, end, "readQueue: end")?;
        self.run(
            env,
            |inner| async move { inner.read_queue(&topic, &broker_name, queue_id, begin, end).await },
            |messages| Ok(messages.into_iter().map(Received).collect()),
        )
    }

    /// For the message `msgId` (either kind of id) of `topic`, the state of every group that
    /// consumes the topic, sorted by group (the message track of `mqadmin queryMsgById`).
    #[napi(ts_args_type = "topic: string, msgId: string", ts_return_type = "Promise<MessageTrack[]>")]
    pub fn message_track<'env>(
        &self,
        env: &'env Env,
        topic: Unknown<'_>,
        msg_id: Unknown<'_>,
    ) -> Result<PromiseRaw<'env, Vec<MessageTrack>>> {
        let topic = args::string(env, topic, "messageTrack: topic")?;
        let msg_id = args::string(env, msg_id, "messageTrack: msgId")?;
        self.run(
            env,
            |inner| async move { inner.message_track(&topic, &msg_id).await },
            |tracks| Ok(tracks.into_iter().map(Into::into).collect()),
        )
    }

    /// The groups the brokers know to consume `topic`, sorted.
    #[napi(ts_args_type = "topic: string", ts_return_type = "Promise<string[]>")]
    pub fn groups_of_topic<'env>(&self, env: &'env Env, topic: Unknown<'_>) -> Result<PromiseRaw<'env, Vec<String>>> {
        let topic = args::string(env, topic, "groupsOfTopic: topic")?;
        self.run(env, |inner| async move { inner.groups_of_topic(&topic).await }, Ok)
    }
}

impl Admin {
    /// Runs `call` on the core admin as a Promise resolved with `convert` of its value.
    fn run<'env, T, V, Fut>(
        &self,
        env: &'env Env,
        call: impl FnOnce(Arc<CoreAdmin>) -> Fut,
        convert: impl FnOnce(T) -> Result<V> + Send + 'static,
    ) -> Result<PromiseRaw<'env, V>>
    where
        T: Send + 'static,
        V: ToNapiValue,
        Fut: Future<Output = rocketmq_ons::Result<T>> + Send + 'static,
    {
        promise(env, Start::OnRuntime, call(self.inner.clone()), move |_, value| convert(value))
    }
}

/// `resetOffsets`' `to`: a number is a time in ms since the epoch, a string must be a
/// `ResetPosition`.
fn reset_position(env: &Env, to: Unknown<'_>) -> Result<CoreResetPosition> {
    const WHAT: &str = "resetOffsets: to";
    const EXPECTED: &str = "a time in ms since the epoch, ResetPosition.Earliest or ResetPosition.Latest";
    match to.get_type()? {
        ValueType::Number => Ok(CoreResetPosition::Timestamp(args::integer(env, to, WHAT)?)),
        // SAFETY: a string value of this env; the enum's conversion checks it is one of its values.
        ValueType::String => match unsafe { ResetPosition::from_napi_value(env.raw(), to.raw()) } {
            Ok(ResetPosition::Earliest) => Ok(CoreResetPosition::Earliest),
            Ok(ResetPosition::Latest) => Ok(CoreResetPosition::Latest),
            Err(_) => Err(error::type_error(
                env,
                format!("{WHAT} must be {EXPECTED}; got {:?}", args::string(env, to, WHAT)?),
            )),
        },
        other => Err(error::type_error(env, format!("{WHAT} must be {EXPECTED}; got {}", typeof_name(other)))),
    }
}
