//! The values `Admin` returns (and the subscription group config it takes), as frozen Python
//! classes over copies of the core's `ons::admin` types. Every class compares by value and has
//! a `__repr__` naming its fields; fields whose values are a closed set (a broker's role, a
//! message's track state, a listener's verdict, a retry policy's type, permission bits) are
//! members of the package's enums (`BrokerRole`, `TrackType`, `DirectConsumeResult`,
//! `RetryPolicyType`, `Perm`, defined in python/rocketmq_ons/__init__.py), looked up by name
//! when read, so their Python type is the enum while the core decides the value.

use std::collections::BTreeMap;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use rocketmq_ons::admin::{
    BrokerRole, BrokerSubscriptionGroups, ClusterBroker, ConsumeMessageDirectlyResult, ConsumeStats, ConsumeStatus,
    ConsumerClient, ConsumerConnections, ConsumerRunningInfo, ConsumerSubscription, CustomizedRetryPolicy,
    DirectConsumeResult, ExponentialRetryPolicy, GroupRetryPolicy, MessageTrack, ProcessQueueInfo, QueueConsumeStats,
    QueueOffset, QueueOffsets, RetryPolicyType, RouteBroker, RouteQueues, SubscriptionGroupConfig, TopicConfig,
    TopicRouteInfo, TopicStats, TrackType,
};
use rocketmq_ons::MessageQueue;

/// The member of the package's enum `class` for `value` (`TrackType("CONSUMED")`, `Perm(6)`).
fn enum_member<'py, V>(py: Python<'py>, class: &str, value: V) -> PyResult<Bound<'py, PyAny>>
where
    V: IntoPyObject<'py>,
{
    static PACKAGE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    let package = PACKAGE.get_or_try_init(py, || py.import("rocketmq_ons").map(Bound::unbind))?.bind(py);
    package.getattr(class)?.call1((value,))
}

/// `Class(field=repr(value), ...)` of the named attributes of `obj`.
fn repr_of(obj: &Bound<'_, PyAny>, class: &str, fields: &[&str]) -> PyResult<String> {
    let mut parts = Vec::with_capacity(fields.len());
    for field in fields {
        let value = obj.getattr(*field)?.repr()?;
        parts.push(format!("{field}={}", value.to_cow()?));
    }
    Ok(format!("{class}({})", parts.join(", ")))
}

/// A frozen Python class, compared by value, with a `__repr__` of the attributes named in
/// `repr`, and the class's own `$extra` methods. Its fields: plain ones, each readable; enum
/// ones, read as the member of the package's enum `$eclass` for the stored value `$vfield`;
/// and `hidden` ones, which only `$extra` methods present.
macro_rules! value_class {
    (
        $(#[$doc:meta])*
        $name:ident as $pyname:literal {
            $($(#[$fdoc:meta])* $field:ident: $ty:ty,)*
        }
        $(enums { $($(#[$edoc:meta])* $efield:ident: $eclass:literal from $vfield:ident: $vty:ty,)* })?
        $(hidden { $($hfield:ident: $hty:ty,)* })?
        repr [$($shown:ident),* $(,)?]
        $({ $($extra:tt)* })?
    ) => {
        $(#[$doc])*
        #[pyclass(module = "rocketmq_ons", name = $pyname, frozen, eq, from_py_object)]
        #[derive(Clone, PartialEq)]
        pub(crate) struct $name {
            $($(#[$fdoc])* #[pyo3(get)] $field: $ty,)*
            $($($vfield: $vty,)*)?
            $($($hfield: $hty,)*)?
        }

        #[pymethods]
        impl $name {
            fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
                repr_of(slf.as_any(), $pyname, &[$(stringify!($shown)),*])
            }

            $($(
                $(#[$edoc])*
                #[getter]
                fn $efield<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                    enum_member(py, $eclass, self.$vfield)
                }
            )*)?

            $($($extra)*)?
        }
    };
}

/// A queue of a topic on a broker group; hashable, so it can key a dict.
#[pyclass(module = "rocketmq_ons", name = "MessageQueue", frozen, eq, hash, get_all)]
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct PyMessageQueue {
    topic: String,
    broker_name: String,
    queue_id: i32,
}

#[pymethods]
impl PyMessageQueue {
    #[new]
    fn new(topic: String, broker_name: String, queue_id: i32) -> Self {
        PyMessageQueue { topic, broker_name, queue_id }
    }

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        repr_of(slf.as_any(), "MessageQueue", &["topic", "broker_name", "queue_id"])
    }
}

impl From<&PyMessageQueue> for MessageQueue {
    fn from(q: &PyMessageQueue) -> Self {
        MessageQueue::new(q.topic.as_str(), q.broker_name.as_str(), q.queue_id)
    }
}

impl From<MessageQueue> for PyMessageQueue {
    fn from(q: MessageQueue) -> Self {
        PyMessageQueue { topic: q.topic, broker_name: q.broker_name, queue_id: q.queue_id }
    }
}

/// Each core value converted to its Python class.
pub(crate) fn to_list<T, U: From<T>>(items: Vec<T>) -> Vec<U> {
    items.into_iter().map(U::from).collect()
}

value_class! {
    /// One broker process of a cluster, as `mqadmin clusterList` lists it.
    PyClusterBroker as "ClusterBroker" {
        cluster: String,
        /// The broker group's name, shared by its master and slaves.
        broker_name: String,
        broker_id: i64,
        addr: String,
        /// What the broker reports as its version (`V5_3_3`); None when its runtime info could
        /// not be read.
        version: Option<String>,
        /// Everything the broker's runtime info holds (`brokerVersionDesc`, `putTps`, ...).
        runtime: BTreeMap<String, String>,
        /// Why the runtime info could not be read, or None.
        runtime_error: Option<String>,
    }
    enums {
        /// `BrokerRole.MASTER` (broker id 0) or `BrokerRole.SLAVE`.
        role: "BrokerRole" from role_name: &'static str,
    }
    repr [cluster, broker_name, broker_id, addr, role, version, runtime_error]
}

impl From<ClusterBroker> for PyClusterBroker {
    fn from(b: ClusterBroker) -> Self {
        PyClusterBroker {
            cluster: b.cluster,
            broker_name: b.broker_name,
            broker_id: b.broker_id,
            addr: b.addr,
            version: b.version,
            runtime: b.runtime,
            runtime_error: b.runtime_error.map(|e| e.to_string()),
            role_name: match b.role {
                BrokerRole::Master => "MASTER",
                BrokerRole::Slave => "SLAVE",
            },
        }
    }
}

value_class! {
    /// A broker group in a topic's route.
    PyRouteBroker as "RouteBroker" {
        cluster: String,
        broker_name: String,
        /// Addresses by broker id: 0 is the master, other ids are slaves.
        addrs: BTreeMap<i64, String>,
    }
    repr [cluster, broker_name, addrs]
}

impl From<RouteBroker> for PyRouteBroker {
    fn from(b: RouteBroker) -> Self {
        PyRouteBroker { cluster: b.cluster, broker_name: b.broker_name, addrs: b.addrs }
    }
}

value_class! {
    /// A topic's queues on one broker group of its route.
    PyRouteQueues as "RouteQueues" {
        broker_name: String,
        read_queue_nums: i32,
        write_queue_nums: i32,
        topic_sys_flag: i32,
    }
    enums {
        /// The topic's permission on the broker group (`Perm.READ | Perm.WRITE` for a normal
        /// topic).
        perm: "Perm" from perm_bits: i32,
    }
    repr [broker_name, read_queue_nums, write_queue_nums, perm, topic_sys_flag]
}

impl From<RouteQueues> for PyRouteQueues {
    fn from(q: RouteQueues) -> Self {
        PyRouteQueues {
            broker_name: q.broker_name,
            read_queue_nums: q.read_queue_nums,
            write_queue_nums: q.write_queue_nums,
            topic_sys_flag: q.topic_sys_flag,
            perm_bits: q.perm,
        }
    }
}

value_class! {
    /// A topic's route, as the name servers give it (`mqadmin topicRoute`).
    PyTopicRouteInfo as "TopicRouteInfo" {
        /// The broker groups hosting the topic, sorted by name.
        brokers: Vec<PyRouteBroker>,
        /// The topic's queues on each broker group, sorted by broker name.
        queues: Vec<PyRouteQueues>,
        /// `brokerName:count;...` when the name server has an order config for the topic.
        order_topic_conf: Option<String>,
    }
    repr [brokers, queues, order_topic_conf]
}

impl From<TopicRouteInfo> for PyTopicRouteInfo {
    fn from(r: TopicRouteInfo) -> Self {
        PyTopicRouteInfo {
            brokers: to_list(r.brokers),
            queues: to_list(r.queues),
            order_topic_conf: r.order_topic_conf,
        }
    }
}

value_class! {
    /// One queue's offsets (`mqadmin topicStatus`).
    PyQueueOffsets as "QueueOffsets" {
        queue: PyMessageQueue,
        /// The first offset still stored.
        min_offset: i64,
        /// The next offset to be written.
        max_offset: i64,
        /// When the last message was stored (ms since the epoch); 0 for an empty queue.
        last_update_timestamp: i64,
    }
    repr [queue, min_offset, max_offset, last_update_timestamp]
}

impl From<QueueOffsets> for PyQueueOffsets {
    fn from(q: QueueOffsets) -> Self {
        PyQueueOffsets {
            queue: q.queue.into(),
            min_offset: q.min_offset,
            max_offset: q.max_offset,
            last_update_timestamp: q.last_update_timestamp,
        }
    }
}

value_class! {
    /// The offsets of a topic's queues on every broker hosting it.
    PyTopicStats as "TopicStats" {
        /// Sorted by broker name and queue id.
        queues: Vec<PyQueueOffsets>,
        /// Messages put per second over the brokers (0 from 4.x brokers).
        put_tps: f64,
    }
    repr [queues, put_tps]
}

impl From<TopicStats> for PyTopicStats {
    fn from(s: TopicStats) -> Self {
        PyTopicStats { queues: to_list(s.queues), put_tps: s.put_tps }
    }
}

value_class! {
    /// 5.x: an exponential retry back-off: `initial * multiplier^n`, at most `max` (ms).
    PyExponentialRetryPolicy as "ExponentialRetryPolicy" {
        initial: i64,
        max: i64,
        multiplier: i64,
    }
    repr [initial, max, multiplier]
    {
        /// Without arguments, the Java defaults (5 s, doubling, at most 2 h).
        #[new]
        #[pyo3(signature = (initial = None, max = None, multiplier = None))]
        fn new(initial: Option<i64>, max: Option<i64>, multiplier: Option<i64>) -> Self {
            let d = ExponentialRetryPolicy::default();
            PyExponentialRetryPolicy {
                initial: initial.unwrap_or(d.initial),
                max: max.unwrap_or(d.max),
                multiplier: multiplier.unwrap_or(d.multiplier),
            }
        }
    }
}

value_class! {
    /// 5.x: the delay before each retry, in milliseconds.
    PyCustomizedRetryPolicy as "CustomizedRetryPolicy" {
        next: Vec<i64>,
    }
    repr [next]
    {
        #[new]
        #[pyo3(signature = (next = Vec::new()))]
        fn new(next: Vec<i64>) -> Self {
            PyCustomizedRetryPolicy { next }
        }
    }
}

fn retry_policy_type_name(t: RetryPolicyType) -> &'static str {
    match t {
        RetryPolicyType::Exponential => "EXPONENTIAL",
        RetryPolicyType::Customized => "CUSTOMIZED",
    }
}

value_class! {
    /// 5.x: which back-off a POP consumer's failed messages get.
    PyGroupRetryPolicy as "GroupRetryPolicy" {
        exponential_retry_policy: Option<PyExponentialRetryPolicy>,
        customized_retry_policy: Option<PyCustomizedRetryPolicy>,
    }
    enums { policy_type: "RetryPolicyType" from policy_type_name: &'static str, }
    repr [policy_type, exponential_retry_policy, customized_retry_policy]
    {
        /// `policy_type` is a `RetryPolicyType` (a `str` enum, so its value works too).
        #[new]
        #[pyo3(signature = (policy_type, exponential_retry_policy = None, customized_retry_policy = None))]
        fn new(
            policy_type: String,
            exponential_retry_policy: Option<PyExponentialRetryPolicy>,
            customized_retry_policy: Option<PyCustomizedRetryPolicy>,
        ) -> PyResult<Self> {
            let policy_type_name = [RetryPolicyType::Exponential, RetryPolicyType::Customized]
                .into_iter()
                .map(retry_policy_type_name)
                .find(|name| *name == policy_type)
                .ok_or_else(|| {
                    PyValueError::new_err(format!(
                        "policy_type must be a RetryPolicyType (EXPONENTIAL or CUSTOMIZED), not {policy_type:?}"
                    ))
                })?;
            Ok(PyGroupRetryPolicy { policy_type_name, exponential_retry_policy, customized_retry_policy })
        }
    }
}

impl From<GroupRetryPolicy> for PyGroupRetryPolicy {
    fn from(p: GroupRetryPolicy) -> Self {
        PyGroupRetryPolicy {
            policy_type_name: retry_policy_type_name(p.policy_type),
            exponential_retry_policy: p.exponential_retry_policy.map(|e| PyExponentialRetryPolicy {
                initial: e.initial,
                max: e.max,
                multiplier: e.multiplier,
            }),
            customized_retry_policy: p.customized_retry_policy.map(|c| PyCustomizedRetryPolicy { next: c.next }),
        }
    }
}

impl From<&PyGroupRetryPolicy> for GroupRetryPolicy {
    fn from(p: &PyGroupRetryPolicy) -> Self {
        GroupRetryPolicy {
            policy_type: if p.policy_type_name == retry_policy_type_name(RetryPolicyType::Exponential) {
                RetryPolicyType::Exponential
            } else {
                RetryPolicyType::Customized
            },
            exponential_retry_policy: p.exponential_retry_policy.as_ref().map(|e| ExponentialRetryPolicy {
                initial: e.initial,
                max: e.max,
                multiplier: e.multiplier,
            }),
            customized_retry_policy: p
                .customized_retry_policy
                .as_ref()
                .map(|c| CustomizedRetryPolicy { next: c.next.clone() }),
        }
    }
}

value_class! {
    /// A consumer group's config on a broker (Java `SubscriptionGroupConfig`). Made with
    /// `SubscriptionGroupConfig(group_name, ...)`: what is not given has the Java defaults
    /// (consume enabled, from min and broadcast allowed, 1 retry queue, 16 retries, ...).
    /// Fields marked 5.x are ignored and never reported by 4.x brokers.
    PySubscriptionGroupConfig as "SubscriptionGroupConfig" {
        group_name: String,
        consume_enable: bool,
        consume_from_min_enable: bool,
        consume_broadcast_enable: bool,
        /// 5.x.
        consume_message_orderly: bool,
        retry_queue_nums: i32,
        retry_max_times: i32,
        /// 5.x; None leaves the broker's default.
        group_retry_policy: Option<PyGroupRetryPolicy>,
        broker_id: i64,
        which_broker_when_consume_slowly: i64,
        notify_consumer_ids_changed_enable: bool,
        /// 5.x.
        group_sys_flag: i32,
        /// 5.x.
        consume_timeout_minute: i32,
        /// 5.x: group attributes (`+key` sets, `-key` removes).
        attributes: BTreeMap<String, String>,
    }
    repr [
        group_name, consume_enable, consume_from_min_enable, consume_broadcast_enable,
        consume_message_orderly, retry_queue_nums, retry_max_times, group_retry_policy, broker_id,
        which_broker_when_consume_slowly, notify_consumer_ids_changed_enable, group_sys_flag,
        consume_timeout_minute, attributes,
    ]
    {
        #[new]
        #[pyo3(signature = (
            group_name, *, consume_enable = None, consume_from_min_enable = None,
            consume_broadcast_enable = None, consume_message_orderly = None, retry_queue_nums = None,
            retry_max_times = None, group_retry_policy = None, broker_id = None,
            which_broker_when_consume_slowly = None, notify_consumer_ids_changed_enable = None,
            group_sys_flag = None, consume_timeout_minute = None, attributes = None,
        ))]
        #[allow(clippy::too_many_arguments)]
        fn new(
            group_name: String,
            consume_enable: Option<bool>,
            consume_from_min_enable: Option<bool>,
            consume_broadcast_enable: Option<bool>,
            consume_message_orderly: Option<bool>,
            retry_queue_nums: Option<i32>,
            retry_max_times: Option<i32>,
            group_retry_policy: Option<PyGroupRetryPolicy>,
            broker_id: Option<i64>,
            which_broker_when_consume_slowly: Option<i64>,
            notify_consumer_ids_changed_enable: Option<bool>,
            group_sys_flag: Option<i32>,
            consume_timeout_minute: Option<i32>,
            attributes: Option<BTreeMap<String, String>>,
        ) -> Self {
            let d = PySubscriptionGroupConfig::from(SubscriptionGroupConfig::new(group_name));
            PySubscriptionGroupConfig {
                consume_enable: consume_enable.unwrap_or(d.consume_enable),
                consume_from_min_enable: consume_from_min_enable.unwrap_or(d.consume_from_min_enable),
                consume_broadcast_enable: consume_broadcast_enable.unwrap_or(d.consume_broadcast_enable),
                consume_message_orderly: consume_message_orderly.unwrap_or(d.consume_message_orderly),
                retry_queue_nums: retry_queue_nums.unwrap_or(d.retry_queue_nums),
                retry_max_times: retry_max_times.unwrap_or(d.retry_max_times),
                group_retry_policy: group_retry_policy.or(d.group_retry_policy),
                broker_id: broker_id.unwrap_or(d.broker_id),
                which_broker_when_consume_slowly: which_broker_when_consume_slowly
                    .unwrap_or(d.which_broker_when_consume_slowly),
                notify_consumer_ids_changed_enable: notify_consumer_ids_changed_enable
                    .unwrap_or(d.notify_consumer_ids_changed_enable),
                group_sys_flag: group_sys_flag.unwrap_or(d.group_sys_flag),
                consume_timeout_minute: consume_timeout_minute.unwrap_or(d.consume_timeout_minute),
                attributes: attributes.unwrap_or(d.attributes),
                group_name: d.group_name,
            }
        }
    }
}

impl From<SubscriptionGroupConfig> for PySubscriptionGroupConfig {
    fn from(c: SubscriptionGroupConfig) -> Self {
        PySubscriptionGroupConfig {
            group_name: c.group_name,
            consume_enable: c.consume_enable,
            consume_from_min_enable: c.consume_from_min_enable,
            consume_broadcast_enable: c.consume_broadcast_enable,
            consume_message_orderly: c.consume_message_orderly,
            retry_queue_nums: c.retry_queue_nums,
            retry_max_times: c.retry_max_times,
            group_retry_policy: c.group_retry_policy.map(Into::into),
            broker_id: c.broker_id,
            which_broker_when_consume_slowly: c.which_broker_when_consume_slowly,
            notify_consumer_ids_changed_enable: c.notify_consumer_ids_changed_enable,
            group_sys_flag: c.group_sys_flag,
            consume_timeout_minute: c.consume_timeout_minute,
            attributes: c.attributes,
        }
    }
}

impl From<&PySubscriptionGroupConfig> for SubscriptionGroupConfig {
    fn from(c: &PySubscriptionGroupConfig) -> Self {
        SubscriptionGroupConfig {
            group_name: c.group_name.clone(),
            consume_enable: c.consume_enable,
            consume_from_min_enable: c.consume_from_min_enable,
            consume_broadcast_enable: c.consume_broadcast_enable,
            consume_message_orderly: c.consume_message_orderly,
            retry_queue_nums: c.retry_queue_nums,
            retry_max_times: c.retry_max_times,
            group_retry_policy: c.group_retry_policy.as_ref().map(Into::into),
            broker_id: c.broker_id,
            which_broker_when_consume_slowly: c.which_broker_when_consume_slowly,
            notify_consumer_ids_changed_enable: c.notify_consumer_ids_changed_enable,
            group_sys_flag: c.group_sys_flag,
            consume_timeout_minute: c.consume_timeout_minute,
            attributes: c.attributes.clone(),
        }
    }
}

value_class! {
    /// The subscription groups of one master broker.
    PyBrokerSubscriptionGroups as "BrokerSubscriptionGroups" {
        broker_name: String,
        addr: String,
        /// Sorted by group name; system groups (`TOOLS_CONSUMER`, ...) included.
        groups: Vec<PySubscriptionGroupConfig>,
    }
    repr [broker_name, addr, groups]
}

impl From<BrokerSubscriptionGroups> for PyBrokerSubscriptionGroups {
    fn from(b: BrokerSubscriptionGroups) -> Self {
        PyBrokerSubscriptionGroups { broker_name: b.broker_name, addr: b.addr, groups: to_list(b.groups) }
    }
}

value_class! {
    /// One connected consumer client.
    PyConsumerClient as "ConsumerClient" {
        /// The id the client announces (`ip@instance`).
        client_id: String,
        /// `JAVA`, `CPP`, `RUST`, ...
        language: String,
        /// The client's version ordinal (Java `MQVersion.Version`).
        version: i32,
        /// The client's address as each broker it is connected to sees it, by broker name.
        client_addrs: BTreeMap<String, String>,
    }
    repr [client_id, language, version, client_addrs]
}

impl From<ConsumerClient> for PyConsumerClient {
    fn from(c: ConsumerClient) -> Self {
        PyConsumerClient {
            client_id: c.client_id,
            language: c.language,
            version: c.version,
            client_addrs: c.client_addrs,
        }
    }
}

value_class! {
    /// One subscription of a group.
    PyConsumerSubscription as "ConsumerSubscription" {
        topic: String,
        /// The expression (`*`, `TagA || TagB`, an SQL92 filter).
        sub_string: String,
        /// `TAG` or `SQL92`.
        expression_type: String,
        /// The tags of a TAG expression.
        tags: Vec<String>,
        /// When the subscription last changed (ms since the epoch).
        sub_version: i64,
    }
    repr [topic, sub_string, expression_type, tags, sub_version]
}

impl From<ConsumerSubscription> for PyConsumerSubscription {
    fn from(s: ConsumerSubscription) -> Self {
        PyConsumerSubscription {
            topic: s.topic,
            sub_string: s.sub_string,
            expression_type: s.expression_type,
            tags: s.tags,
            sub_version: s.sub_version,
        }
    }
}

value_class! {
    /// A group's online members and what they subscribe to (`mqadmin consumerConnection`).
    PyConsumerConnections as "ConsumerConnections" {
        /// Sorted by client id; empty when no member is online.
        clients: Vec<PyConsumerClient>,
        /// Sorted by topic.
        subscriptions: Vec<PyConsumerSubscription>,
        /// `CONSUME_ACTIVELY` (pull), `CONSUME_PASSIVELY` (push) or, 5.x, `CONSUME_POP`.
        consume_type: Option<String>,
        /// `CLUSTERING` or `BROADCASTING`.
        message_model: Option<String>,
        /// `CONSUME_FROM_LAST_OFFSET`, `CONSUME_FROM_FIRST_OFFSET` or `CONSUME_FROM_TIMESTAMP`.
        consume_from_where: Option<String>,
    }
    repr [clients, subscriptions, consume_type, message_model, consume_from_where]
}

impl From<ConsumerConnections> for PyConsumerConnections {
    fn from(c: ConsumerConnections) -> Self {
        PyConsumerConnections {
            clients: to_list(c.clients),
            subscriptions: to_list(c.subscriptions),
            consume_type: c.consume_type,
            message_model: c.message_model,
            consume_from_where: c.consume_from_where,
        }
    }
}

value_class! {
    /// One queue's progress of a group (`mqadmin consumerProgress`).
    PyQueueConsumeStats as "QueueConsumeStats" {
        queue: PyMessageQueue,
        /// The next offset to be written in the queue.
        broker_offset: i64,
        /// The group's committed offset (0 when it has none).
        consumer_offset: i64,
        /// 5.x: the next offset the group will pull; None from 4.x brokers.
        pull_offset: Option<i64>,
        /// `broker_offset - consumer_offset`.
        lag: i64,
        /// Store time of the last consumed message (ms since the epoch); 0 for none.
        last_timestamp: i64,
    }
    repr [queue, broker_offset, consumer_offset, pull_offset, lag, last_timestamp]
}

impl From<QueueConsumeStats> for PyQueueConsumeStats {
    fn from(q: QueueConsumeStats) -> Self {
        PyQueueConsumeStats {
            queue: q.queue.into(),
            broker_offset: q.broker_offset,
            consumer_offset: q.consumer_offset,
            pull_offset: q.pull_offset,
            lag: q.lag,
            last_timestamp: q.last_timestamp,
        }
    }
}

value_class! {
    /// A group's progress on every queue it has an offset for.
    PyConsumeStats as "ConsumeStats" {
        /// Sorted by topic, broker name and queue id.
        queues: Vec<PyQueueConsumeStats>,
        /// Messages consumed per second over the brokers.
        consume_tps: f64,
        /// Messages stored and not yet consumed over every queue (mqadmin's Diff Total).
        total_lag: i64,
        /// Messages pulled and not yet acknowledged over every queue (0 on 4.x brokers).
        total_inflight: i64,
    }
    repr [queues, consume_tps, total_lag, total_inflight]
}

impl From<ConsumeStats> for PyConsumeStats {
    fn from(s: ConsumeStats) -> Self {
        let (total_lag, total_inflight) = (s.total_lag(), s.total_inflight());
        PyConsumeStats { queues: to_list(s.queues), consume_tps: s.consume_tps, total_lag, total_inflight }
    }
}

value_class! {
    /// A queue's offset after a reset (the group's next message there), or a queue's max
    /// offset (`Admin.max_offsets`).
    PyQueueOffset as "QueueOffset" {
        queue: PyMessageQueue,
        offset: i64,
    }
    repr [queue, offset]
}

impl From<QueueOffset> for PyQueueOffset {
    fn from(q: QueueOffset) -> Self {
        PyQueueOffset { queue: q.queue.into(), offset: q.offset }
    }
}

value_class! {
    /// A client's cache of one queue.
    PyProcessQueueInfo as "ProcessQueueInfo" {
        queue: PyMessageQueue,
        /// The client's next message to consume, which it commits.
        commit_offset: i64,
        cached_msg_min_offset: i64,
        cached_msg_max_offset: i64,
        cached_msg_count: i64,
        cached_msg_size_mib: i64,
        /// Orderly clustering: the client holds the broker's lock on the queue.
        locked: bool,
        try_unlock_times: i64,
        last_lock_timestamp: i64,
        /// Given up and not yet removed.
        dropped: bool,
        last_pull_timestamp: i64,
        last_consume_timestamp: i64,
    }
    repr [queue, commit_offset, cached_msg_count, locked, dropped]
}

impl From<ProcessQueueInfo> for PyProcessQueueInfo {
    fn from(q: ProcessQueueInfo) -> Self {
        PyProcessQueueInfo {
            queue: q.queue.into(),
            commit_offset: q.commit_offset,
            cached_msg_min_offset: q.cached_msg_min_offset,
            cached_msg_max_offset: q.cached_msg_max_offset,
            cached_msg_count: q.cached_msg_count,
            cached_msg_size_mib: q.cached_msg_size_mib,
            locked: q.locked,
            try_unlock_times: q.try_unlock_times,
            last_lock_timestamp: q.last_lock_timestamp,
            dropped: q.dropped,
            last_pull_timestamp: q.last_pull_timestamp,
            last_consume_timestamp: q.last_consume_timestamp,
        }
    }
}

value_class! {
    /// A client's rates for one topic: response times in ms, rates per second.
    PyConsumeStatus as "ConsumeStatus" {
        pull_rt: f64,
        pull_tps: f64,
        consume_rt: f64,
        consume_ok_tps: f64,
        consume_failed_tps: f64,
        /// Messages that failed in the last hour.
        consume_failed_msgs: i64,
    }
    repr [pull_rt, pull_tps, consume_rt, consume_ok_tps, consume_failed_tps, consume_failed_msgs]
}

impl From<ConsumeStatus> for PyConsumeStatus {
    fn from(s: ConsumeStatus) -> Self {
        PyConsumeStatus {
            pull_rt: s.pull_rt,
            pull_tps: s.pull_tps,
            consume_rt: s.consume_rt,
            consume_ok_tps: s.consume_ok_tps,
            consume_failed_tps: s.consume_failed_tps,
            consume_failed_msgs: s.consume_failed_msgs,
        }
    }
}

value_class! {
    /// What a consumer client reports about itself (`mqadmin consumerStatus -i`).
    PyConsumerRunningInfo as "ConsumerRunningInfo" {
        /// The client's settings and facts by the names it gives them (`PROP_CONSUME_TYPE`,
        /// `consumerGroup`, ...); values that are not strings are JSON text.
        properties: BTreeMap<String, String>,
        /// Its subscriptions, retry topic included, sorted by topic.
        subscriptions: Vec<PyConsumerSubscription>,
        /// The queues it consumes now and its cache of each.
        queues: Vec<PyProcessQueueInfo>,
        /// Per topic, its pull and consume rates (empty from clients that do not measure them).
        status: BTreeMap<String, PyConsumeStatus>,
        /// Every thread's stack, from Java clients asked for it.
        jstack: Option<String>,
        /// `CONSUME_PASSIVELY` (push) or `CONSUME_ACTIVELY` (pull), from `PROP_CONSUME_TYPE`.
        consume_type: Option<String>,
        /// Whether the client consumes in order (`PROP_CONSUMEORDERLY`).
        orderly: bool,
    }
    repr [consume_type, orderly, subscriptions, queues]
}

impl From<ConsumerRunningInfo> for PyConsumerRunningInfo {
    fn from(i: ConsumerRunningInfo) -> Self {
        let consume_type = i.consume_type().map(str::to_owned);
        let orderly = i.orderly();
        PyConsumerRunningInfo {
            properties: i.properties,
            subscriptions: to_list(i.subscriptions),
            queues: to_list(i.queues),
            status: i.status.into_iter().map(|(topic, s)| (topic, s.into())).collect(),
            jstack: i.jstack,
            consume_type,
            orderly,
        }
    }
}

/// The Java `CMResult` name of a verdict.
fn direct_result_name(r: DirectConsumeResult) -> &'static str {
    match r {
        DirectConsumeResult::Success => "CR_SUCCESS",
        DirectConsumeResult::Later => "CR_LATER",
        DirectConsumeResult::Rollback => "CR_ROLLBACK",
        DirectConsumeResult::Commit => "CR_COMMIT",
        DirectConsumeResult::ThrowException => "CR_THROW_EXCEPTION",
        DirectConsumeResult::ReturnNull => "CR_RETURN_NULL",
    }
}

value_class! {
    /// How a client's listener took a message sent to it directly.
    PyConsumeMessageDirectlyResult as "ConsumeMessageDirectlyResult" {
        /// The client's listener is an orderly one.
        order: bool,
        auto_commit: bool,
        /// Why it failed (the exception, or this client's listener panic).
        remark: Option<String>,
        /// How long the listener took, in milliseconds.
        spent_time_ms: i64,
    }
    hidden { verdict: Option<&'static str>, }
    repr [result, order, auto_commit, remark, spent_time_ms]
    {
        /// The listener's verdict, a `DirectConsumeResult`; None when the client reported none.
        #[getter]
        fn result<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
            self.verdict.map(|name| enum_member(py, "DirectConsumeResult", name)).transpose()
        }
    }
}

impl From<ConsumeMessageDirectlyResult> for PyConsumeMessageDirectlyResult {
    fn from(r: ConsumeMessageDirectlyResult) -> Self {
        PyConsumeMessageDirectlyResult {
            order: r.order,
            auto_commit: r.auto_commit,
            remark: r.remark,
            spent_time_ms: r.spent_time_ms,
            verdict: r.result.map(direct_result_name),
        }
    }
}

value_class! {
    /// One group's state for a message.
    PyMessageTrack as "MessageTrack" {
        group: String,
        /// Why the state could not be found (`TrackType.UNKNOWN`), or None.
        error: Option<String>,
    }
    enums {
        /// How far the group got with the message.
        track_type: "TrackType" from track_type_name: &'static str,
    }
    repr [group, track_type, error]
}

impl From<MessageTrack> for PyMessageTrack {
    fn from(t: MessageTrack) -> Self {
        PyMessageTrack { group: t.group, error: t.error, track_type_name: TrackType::java_name(t.track_type) }
    }
}

/// Adds the classes to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyMessageQueue>()?;
    m.add_class::<PyClusterBroker>()?;
    m.add_class::<PyRouteBroker>()?;
    m.add_class::<PyRouteQueues>()?;
    m.add_class::<PyTopicRouteInfo>()?;
    m.add_class::<PyQueueOffsets>()?;
    m.add_class::<PyTopicStats>()?;
    m.add_class::<PyExponentialRetryPolicy>()?;
    m.add_class::<PyCustomizedRetryPolicy>()?;
    m.add_class::<PyGroupRetryPolicy>()?;
    m.add_class::<PySubscriptionGroupConfig>()?;
    m.add_class::<PyBrokerSubscriptionGroups>()?;
    m.add_class::<PyConsumerClient>()?;
    m.add_class::<PyConsumerSubscription>()?;
    m.add_class::<PyConsumerConnections>()?;
    m.add_class::<PyQueueConsumeStats>()?;
    m.add_class::<PyConsumeStats>()?;
    m.add_class::<PyQueueOffset>()?;
    m.add_class::<PyProcessQueueInfo>()?;
    m.add_class::<PyConsumeStatus>()?;
    m.add_class::<PyConsumerRunningInfo>()?;
    m.add_class::<PyConsumeMessageDirectlyResult>()?;
    m.add_class::<PyMessageTrack>()?;
    // The values the enums of the package carry, so python/rocketmq_ons can check its own.
    m.add("_PERM_READ", TopicConfig::PERM_READ)?;
    m.add("_PERM_WRITE", TopicConfig::PERM_WRITE)?;
    Ok(())
}
