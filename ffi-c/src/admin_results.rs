//! The C structs the admin calls return (`ons_admin_*_t`), their conversion from core's
//! `ons::admin` types, and the `ons_admin_*_free` functions that release them.
//!
//! Every result is one allocation the caller owns: a C struct whose strings and arrays live in
//! an [`Arena`] allocated with it ([`Owned`]). The pointer handed out is the struct's, which is
//! also the allocation's start, so the matching free function gets the whole allocation back
//! from it. Nothing inside a result is freed on its own.

use std::any::Any;
use std::ffi::{c_char, CString};

use ons::admin::{
    BrokerRole, BrokerSubscriptionGroups, ClusterBroker, ConsumeMessageDirectlyResult, ConsumeStats,
    ConsumerConnections, ConsumerRunningInfo, ConsumerSubscription, CustomizedRetryPolicy, DirectConsumeResult,
    ExponentialRetryPolicy, GroupRetryPolicy, MessageTrack, QueueOffset, RetryPolicyType, SubscriptionGroupConfig,
    TopicRouteInfo, TopicStats, TrackType,
};
use ons::{Error, ErrorKind};

use crate::args;
use crate::error::{guard, invalid_argument, Result};

/// ons_admin_cluster_broker_t.role of a master (broker id 0).
pub const ONS_ADMIN_ROLE_MASTER: i32 = 0;
/// ons_admin_cluster_broker_t.role of a slave (broker id above 0).
pub const ONS_ADMIN_ROLE_SLAVE: i32 = 1;

/// ons_admin_subscription_group_t.retry_policy: none given (the broker's default applies).
pub const ONS_ADMIN_RETRY_POLICY_NONE: i32 = 0;
/// ons_admin_subscription_group_t.retry_policy: the delays in customized_next.
pub const ONS_ADMIN_RETRY_POLICY_CUSTOMIZED: i32 = 1;
/// ons_admin_subscription_group_t.retry_policy: exponential back-off (exponential_*).
pub const ONS_ADMIN_RETRY_POLICY_EXPONENTIAL: i32 = 2;

/// ons_admin_reset_offsets position: the first message stored at or after timestamp_ms.
pub const ONS_ADMIN_RESET_TO_TIMESTAMP: i32 = 0;
/// ons_admin_reset_offsets position: each queue's oldest stored message.
pub const ONS_ADMIN_RESET_TO_EARLIEST: i32 = 1;
/// ons_admin_reset_offsets position: each queue's end.
pub const ONS_ADMIN_RESET_TO_LATEST: i32 = 2;

/// ons_admin_direct_consume_result_t.result: the answer carried no verdict.
pub const ONS_ADMIN_CR_NONE: i32 = -1;
/// Consumed (CR_SUCCESS).
pub const ONS_ADMIN_CR_SUCCESS: i32 = 0;
/// To be consumed again later (CR_LATER).
pub const ONS_ADMIN_CR_LATER: i32 = 1;
/// Orderly without auto-commit: rollback (CR_ROLLBACK).
pub const ONS_ADMIN_CR_ROLLBACK: i32 = 2;
/// Orderly without auto-commit: commit (CR_COMMIT).
pub const ONS_ADMIN_CR_COMMIT: i32 = 3;
/// The listener failed (CR_THROW_EXCEPTION; remark says how).
pub const ONS_ADMIN_CR_THROW_EXCEPTION: i32 = 4;
/// A Java listener returned null (CR_RETURN_NULL).
pub const ONS_ADMIN_CR_RETURN_NULL: i32 = 5;

/// ons_admin_message_track_t.track_type: the group's committed offset is past the message.
pub const ONS_ADMIN_TRACK_CONSUMED: i32 = 0;
/// Past the message, which the group's tag subscription does not take.
pub const ONS_ADMIN_TRACK_CONSUMED_BUT_FILTERED: i32 = 1;
/// The group pulls by itself: the brokers cannot tell.
pub const ONS_ADMIN_TRACK_PULL: i32 = 2;
/// The group is online and has not got that far.
pub const ONS_ADMIN_TRACK_NOT_CONSUME_YET: i32 = 3;
/// No client of the group is online.
pub const ONS_ADMIN_TRACK_NOT_ONLINE: i32 = 4;
/// A broadcasting group: each client keeps its own offsets.
pub const ONS_ADMIN_TRACK_CONSUME_BROADCASTING: i32 = 5;
/// Anything else, or the state could not be read (see error).
pub const ONS_ADMIN_TRACK_UNKNOWN: i32 = 6;

/// A string pair (runtime info, client properties, attributes, addresses by broker).
#[repr(C)]
pub struct OnsAdminKeyValue {
    pub key: *const c_char,
    pub value: *const c_char,
}

/// A list of strings (topic names, group names, broker names). items is NULL when count is 0.
#[repr(C)]
pub struct OnsAdminStringList {
    pub items: *const *const c_char,
    pub count: usize,
}

/// A list of string pairs, sorted by key. items is NULL when count is 0.
#[repr(C)]
pub struct OnsAdminKeyValueList {
    pub items: *const OnsAdminKeyValue,
    pub count: usize,
}

/// One broker of ons_admin_cluster_list.
#[repr(C)]
pub struct OnsAdminClusterBroker {
    pub cluster: *const c_char,
    pub broker_name: *const c_char,
    /// 0 for a master.
    pub broker_id: i64,
    pub addr: *const c_char,
    /// ONS_ADMIN_ROLE_MASTER or ONS_ADMIN_ROLE_SLAVE.
    pub role: i32,
    /// The broker's version as mqadmin clusterList prints it ("V5_3_3"); NULL when unknown.
    pub version: *const c_char,
    /// The broker's whole runtime table (GET_BROKER_RUNTIME_INFO), sorted by key.
    pub runtime: *const OnsAdminKeyValue,
    pub runtime_count: usize,
    /// Why the runtime table could not be read; NULL when it was.
    pub runtime_error: *const c_char,
}

/// Every broker of every cluster the name servers know.
#[repr(C)]
pub struct OnsAdminClusterList {
    pub brokers: *const OnsAdminClusterBroker,
    pub count: usize,
}

/// One address of a broker group in a route.
#[repr(C)]
pub struct OnsAdminRouteAddr {
    /// 0 for the master.
    pub broker_id: i64,
    pub addr: *const c_char,
}

/// A broker group in a topic's route.
#[repr(C)]
pub struct OnsAdminRouteBroker {
    pub cluster: *const c_char,
    pub broker_name: *const c_char,
    /// Sorted by broker id.
    pub addrs: *const OnsAdminRouteAddr,
    pub addr_count: usize,
}

/// A topic's queues on one broker group.
#[repr(C)]
pub struct OnsAdminRouteQueues {
    pub broker_name: *const c_char,
    pub read_queue_nums: i32,
    pub write_queue_nums: i32,
    /// 4 read | 2 write.
    pub perm: i32,
    pub topic_sys_flag: i32,
}

/// A topic's route, as the name servers give it.
#[repr(C)]
pub struct OnsAdminTopicRoute {
    pub brokers: *const OnsAdminRouteBroker,
    pub broker_count: usize,
    pub queues: *const OnsAdminRouteQueues,
    pub queue_count: usize,
    /// The name server's order config of the topic ("broker-a:4;broker-b:4"); NULL when none.
    pub order_topic_conf: *const c_char,
}

/// The stored offsets of one queue.
#[repr(C)]
pub struct OnsAdminQueueOffsets {
    pub topic: *const c_char,
    pub broker_name: *const c_char,
    pub queue_id: i32,
    pub min_offset: i64,
    pub max_offset: i64,
    /// Store time of the last message (milliseconds since the epoch); 0 for none.
    pub last_update_timestamp: i64,
}

/// A topic's queues on every master of its route, sorted by broker name and queue id.
#[repr(C)]
pub struct OnsAdminTopicStats {
    pub queues: *const OnsAdminQueueOffsets,
    pub count: usize,
    /// Messages put per second, summed over the brokers (0 from 4.x brokers).
    pub put_tps: f64,
}

/// A subscription group's config (Java SubscriptionGroupConfig). Returned by
/// ons_admin_list_subscription_groups, and given to ons_admin_update_subscription_group
/// (start from ons_admin_subscription_group_init). Booleans are 0 / 1. The fields marked 5.x
/// are ignored, and reported as their defaults, by 4.x brokers.
#[repr(C)]
pub struct OnsAdminSubscriptionGroup {
    pub group_name: *const c_char,
    pub consume_enable: i32,
    pub consume_from_min_enable: i32,
    pub consume_broadcast_enable: i32,
    /// 5.x.
    pub consume_message_orderly: i32,
    pub retry_queue_nums: i32,
    pub retry_max_times: i32,
    /// 5.x: ONS_ADMIN_RETRY_POLICY_*.
    pub retry_policy: i32,
    /// 5.x, with ONS_ADMIN_RETRY_POLICY_EXPONENTIAL: initial delay, longest delay (ms) and
    /// factor. All three 0: the policy names no values (the broker's defaults apply).
    pub exponential_initial: i64,
    pub exponential_max: i64,
    pub exponential_multiplier: i64,
    /// 5.x, with ONS_ADMIN_RETRY_POLICY_CUSTOMIZED: the delay before each retry (ms). Count 0:
    /// the policy names no delays (the broker's defaults apply).
    pub customized_next: *const i64,
    pub customized_next_count: usize,
    pub broker_id: i64,
    pub which_broker_when_consume_slowly: i64,
    pub notify_consumer_ids_changed_enable: i32,
    /// 5.x.
    pub group_sys_flag: i32,
    /// 5.x.
    pub consume_timeout_minute: i32,
    /// 5.x: group attributes.
    pub attributes: *const OnsAdminKeyValue,
    pub attribute_count: usize,
}

/// The subscription groups of one master broker, sorted by name (system groups included).
#[repr(C)]
pub struct OnsAdminBrokerGroups {
    pub broker_name: *const c_char,
    pub addr: *const c_char,
    pub groups: *const OnsAdminSubscriptionGroup,
    pub count: usize,
}

/// The subscription groups of every master of a cluster.
#[repr(C)]
pub struct OnsAdminSubscriptionGroupList {
    pub brokers: *const OnsAdminBrokerGroups,
    pub count: usize,
}

/// An online consumer client of a group.
#[repr(C)]
pub struct OnsAdminConsumerClient {
    pub client_id: *const c_char,
    /// "JAVA", "CPP", "RUST", ...
    pub language: *const c_char,
    pub version: i32,
    /// The client's address as each broker sees it: key broker name, value address.
    pub addrs: *const OnsAdminKeyValue,
    pub addr_count: usize,
}

/// A subscription of a consumer group.
#[repr(C)]
pub struct OnsAdminSubscription {
    pub topic: *const c_char,
    /// The expression ("TagA || TagB", "*").
    pub sub_string: *const c_char,
    /// "TAG" or "SQL92".
    pub expression_type: *const c_char,
    pub tags: *const *const c_char,
    pub tag_count: usize,
    pub sub_version: i64,
}

/// A group's online consumers (mqadmin consumerConnection).
#[repr(C)]
pub struct OnsAdminConsumerConnections {
    pub clients: *const OnsAdminConsumerClient,
    pub client_count: usize,
    pub subscriptions: *const OnsAdminSubscription,
    pub subscription_count: usize,
    /// "CONSUME_PASSIVELY" (push) or "CONSUME_ACTIVELY" (pull); NULL with nobody online.
    pub consume_type: *const c_char,
    /// "CLUSTERING" or "BROADCASTING"; NULL with nobody online.
    pub message_model: *const c_char,
    /// "CONSUME_FROM_LAST_OFFSET", ...; NULL with nobody online.
    pub consume_from_where: *const c_char,
}

/// A group's progress on one queue.
#[repr(C)]
pub struct OnsAdminQueueConsumeStats {
    pub topic: *const c_char,
    pub broker_name: *const c_char,
    pub queue_id: i32,
    pub broker_offset: i64,
    pub consumer_offset: i64,
    /// 5.x: the offset pulled up to; -1 when the broker does not report it.
    pub pull_offset: i64,
    /// broker_offset - consumer_offset (mqadmin's #Diff).
    pub lag: i64,
    /// Store time of the last consumed message; 0 for none.
    pub last_timestamp: i64,
}

/// A group's progress (mqadmin consumerProgress).
#[repr(C)]
pub struct OnsAdminConsumeStats {
    /// Sorted by topic, broker name and queue id.
    pub queues: *const OnsAdminQueueConsumeStats,
    pub count: usize,
    pub consume_tps: f64,
    /// Sum of the queues' lag.
    pub total_lag: i64,
    /// Pulled and not yet acknowledged, over every queue (0 from 4.x brokers).
    pub total_inflight: i64,
}

/// A queue a consumer client owns, as it reports it.
#[repr(C)]
pub struct OnsAdminProcessQueue {
    pub topic: *const c_char,
    pub broker_name: *const c_char,
    pub queue_id: i32,
    pub commit_offset: i64,
    pub cached_msg_min_offset: i64,
    pub cached_msg_max_offset: i64,
    pub cached_msg_count: i64,
    pub cached_msg_size_mib: i64,
    pub locked: i32,
    pub try_unlock_times: i64,
    pub last_lock_timestamp: i64,
    pub dropped: i32,
    pub last_pull_timestamp: i64,
    pub last_consume_timestamp: i64,
}

/// A consumer client's rates on one topic (Java clients report them; ours do not).
#[repr(C)]
pub struct OnsAdminConsumeStatus {
    pub topic: *const c_char,
    pub pull_rt: f64,
    pub pull_tps: f64,
    pub consume_rt: f64,
    pub consume_ok_tps: f64,
    pub consume_failed_tps: f64,
    pub consume_failed_msgs: i64,
}

/// What one consumer client says about itself (mqadmin consumerStatus -i).
#[repr(C)]
pub struct OnsAdminRunningInfo {
    /// The client's settings and PROP_* entries, sorted by key.
    pub properties: *const OnsAdminKeyValue,
    pub property_count: usize,
    pub subscriptions: *const OnsAdminSubscription,
    pub subscription_count: usize,
    pub queues: *const OnsAdminProcessQueue,
    pub queue_count: usize,
    pub status: *const OnsAdminConsumeStatus,
    pub status_count: usize,
    /// A Java client's thread dump when asked for one; NULL otherwise.
    pub jstack: *const c_char,
}

/// How a consumer client's listener took one message sent to it directly.
#[repr(C)]
pub struct OnsAdminDirectConsumeResult {
    pub order: i32,
    pub auto_commit: i32,
    /// ONS_ADMIN_CR_*.
    pub result: i32,
    /// The verdict's Java name ("CR_SUCCESS"); NULL with ONS_ADMIN_CR_NONE.
    pub result_name: *const c_char,
    /// The client's remark (a failed listener's message); NULL when none.
    pub remark: *const c_char,
    pub spent_time_ms: i64,
}

/// A queue and an offset in it.
#[repr(C)]
pub struct OnsAdminQueueOffset {
    pub topic: *const c_char,
    pub broker_name: *const c_char,
    pub queue_id: i32,
    pub offset: i64,
}

/// Queues and offsets, sorted by broker name and queue id.
#[repr(C)]
pub struct OnsAdminQueueOffsetList {
    pub items: *const OnsAdminQueueOffset,
    pub count: usize,
}

/// How far one group got with a message.
#[repr(C)]
pub struct OnsAdminMessageTrack {
    pub group: *const c_char,
    /// ONS_ADMIN_TRACK_*.
    pub track_type: i32,
    /// The Java name ("CONSUMED", "NOT_ONLINE", ...).
    pub track_type_name: *const c_char,
    /// Why the state could not be read; NULL when it was.
    pub error: *const c_char,
}

/// The delivery state of a message for each group that consumes its topic.
#[repr(C)]
pub struct OnsAdminMessageTrackList {
    pub items: *const OnsAdminMessageTrack,
    pub count: usize,
}

/// The strings and arrays a result points into. A `CString`'s bytes and a boxed slice's items
/// stay where they are when the arena's vectors grow, so the pointers handed out stay valid
/// until the arena is dropped.
#[derive(Default)]
pub(crate) struct Arena {
    strings: Vec<CString>,
    arrays: Vec<Box<dyn Any>>,
}

impl Arena {
    /// A C copy of a string from the cluster; one with a NUL byte cannot be handed to C, and is
    /// an error naming what it is.
    pub(crate) fn string(&mut self, value: &str, what: &str) -> Result<*const c_char> {
        let c = CString::new(value)
            .map_err(|_| Error::new(ErrorKind::Protocol, format!("{what} {value:?} contains a NUL byte")))?;
        let ptr = c.as_ptr();
        self.strings.push(c);
        Ok(ptr)
    }

    fn opt_string(&mut self, value: Option<&str>, what: &str) -> Result<*const c_char> {
        value.map_or(Ok(std::ptr::null()), |v| self.string(v, what))
    }

    /// The items as a C array and its length; NULL for none.
    pub(crate) fn array<T: 'static>(&mut self, items: Vec<T>) -> (*const T, usize) {
        if items.is_empty() {
            return (std::ptr::null(), 0);
        }
        let boxed: Box<[T]> = items.into_boxed_slice();
        let (ptr, len) = (boxed.as_ptr(), boxed.len());
        self.arrays.push(Box::new(boxed));
        (ptr, len)
    }

    fn strings<'s>(
        &mut self,
        values: impl IntoIterator<Item = &'s str>,
        what: &str,
    ) -> Result<(*const *const c_char, usize)> {
        let items = values.into_iter().map(|v| self.string(v, what)).collect::<Result<Vec<_>>>()?;
        Ok(self.array(items))
    }

    fn pairs<'s>(
        &mut self,
        pairs: impl IntoIterator<Item = (&'s str, &'s str)>,
        what: &str,
    ) -> Result<(*const OnsAdminKeyValue, usize)> {
        let items = pairs
            .into_iter()
            .map(|(k, v)| Ok(OnsAdminKeyValue { key: self.string(k, what)?, value: self.string(v, what)? }))
            .collect::<Result<Vec<_>>>()?;
        Ok(self.array(items))
    }
}

/// A result and the arena its pointers point into. `repr(C)` puts `value` first, so a pointer
/// to the whole is a pointer to `value`, the struct C sees.
#[repr(C)]
struct Owned<T> {
    value: T,
    arena: Arena,
}

/// Hands `value` (pointing into `arena`) to C: writes the new result to `out`.
pub(crate) fn hand_out<T>(out: &mut *mut T, value: T, arena: Arena) {
    *out = Box::into_raw(Box::new(Owned { value, arena })).cast::<T>();
}

/// Frees a result made by [`hand_out`] with the same `T`; NULL is accepted.
pub(crate) unsafe fn release<T>(ptr: *mut T) {
    if !ptr.is_null() {
        drop(Box::from_raw(ptr.cast::<Owned<T>>()));
    }
}

/// Builds a result with a fresh arena and hands it out.
pub(crate) fn build<T>(out: &mut *mut T, make: impl FnOnce(&mut Arena) -> Result<T>) -> Result<()> {
    let mut arena = Arena::default();
    let value = make(&mut arena)?;
    hand_out(out, value, arena);
    Ok(())
}

pub(crate) fn string_list(a: &mut Arena, values: &[String], what: &str) -> Result<OnsAdminStringList> {
    let (items, count) = a.strings(values.iter().map(String::as_str), what)?;
    Ok(OnsAdminStringList { items, count })
}

pub(crate) fn key_value_list<'s>(
    a: &mut Arena,
    pairs: impl IntoIterator<Item = (&'s String, &'s String)>,
    what: &str,
) -> Result<OnsAdminKeyValueList> {
    let (items, count) = a.pairs(pairs.into_iter().map(|(k, v)| (k.as_str(), v.as_str())), what)?;
    Ok(OnsAdminKeyValueList { items, count })
}

pub(crate) fn cluster_list(a: &mut Arena, brokers: &[ClusterBroker]) -> Result<OnsAdminClusterList> {
    let items = brokers
        .iter()
        .map(|b| {
            let (runtime, runtime_count) =
                a.pairs(b.runtime.iter().map(|(k, v)| (k.as_str(), v.as_str())), "broker runtime entry")?;
            Ok(OnsAdminClusterBroker {
                cluster: a.string(&b.cluster, "cluster name")?,
                broker_name: a.string(&b.broker_name, "broker name")?,
                broker_id: b.broker_id,
                addr: a.string(&b.addr, "broker address")?,
                role: if b.role == BrokerRole::Master { ONS_ADMIN_ROLE_MASTER } else { ONS_ADMIN_ROLE_SLAVE },
                version: a.opt_string(b.version.as_deref(), "broker version")?,
                runtime,
                runtime_count,
                runtime_error: a.opt_string(b.runtime_error.as_ref().map(Error::message), "runtime error")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let (brokers, count) = a.array(items);
    Ok(OnsAdminClusterList { brokers, count })
}

pub(crate) fn topic_route(a: &mut Arena, route: &TopicRouteInfo) -> Result<OnsAdminTopicRoute> {
    let brokers = route
        .brokers
        .iter()
        .map(|b| {
            let addrs = b
                .addrs
                .iter()
                .map(|(id, addr)| Ok(OnsAdminRouteAddr { broker_id: *id, addr: a.string(addr, "broker address")? }))
                .collect::<Result<Vec<_>>>()?;
            let (addrs, addr_count) = a.array(addrs);
            Ok(OnsAdminRouteBroker {
                cluster: a.string(&b.cluster, "cluster name")?,
                broker_name: a.string(&b.broker_name, "broker name")?,
                addrs,
                addr_count,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let queues = route
        .queues
        .iter()
        .map(|q| {
            Ok(OnsAdminRouteQueues {
                broker_name: a.string(&q.broker_name, "broker name")?,
                read_queue_nums: q.read_queue_nums,
                write_queue_nums: q.write_queue_nums,
                perm: q.perm,
                topic_sys_flag: q.topic_sys_flag,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let (brokers, broker_count) = a.array(brokers);
    let (queues, queue_count) = a.array(queues);
    Ok(OnsAdminTopicRoute {
        brokers,
        broker_count,
        queues,
        queue_count,
        order_topic_conf: a.opt_string(route.order_topic_conf.as_deref(), "order topic config")?,
    })
}

pub(crate) fn topic_stats(a: &mut Arena, stats: &TopicStats) -> Result<OnsAdminTopicStats> {
    let queues = stats
        .queues
        .iter()
        .map(|q| {
            Ok(OnsAdminQueueOffsets {
                topic: a.string(&q.queue.topic, "topic")?,
                broker_name: a.string(&q.queue.broker_name, "broker name")?,
                queue_id: q.queue.queue_id,
                min_offset: q.min_offset,
                max_offset: q.max_offset,
                last_update_timestamp: q.last_update_timestamp,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let (queues, count) = a.array(queues);
    Ok(OnsAdminTopicStats { queues, count, put_tps: stats.put_tps })
}

fn subscription_group(a: &mut Arena, g: &SubscriptionGroupConfig) -> Result<OnsAdminSubscriptionGroup> {
    let mut c = subscription_group_defaults();
    c.group_name = a.string(&g.group_name, "group name")?;
    c.consume_enable = g.consume_enable as i32;
    c.consume_from_min_enable = g.consume_from_min_enable as i32;
    c.consume_broadcast_enable = g.consume_broadcast_enable as i32;
    c.consume_message_orderly = g.consume_message_orderly as i32;
    c.retry_queue_nums = g.retry_queue_nums;
    c.retry_max_times = g.retry_max_times;
    c.broker_id = g.broker_id;
    c.which_broker_when_consume_slowly = g.which_broker_when_consume_slowly;
    c.notify_consumer_ids_changed_enable = g.notify_consumer_ids_changed_enable as i32;
    c.group_sys_flag = g.group_sys_flag;
    c.consume_timeout_minute = g.consume_timeout_minute;
    (c.attributes, c.attribute_count) =
        a.pairs(g.attributes.iter().map(|(k, v)| (k.as_str(), v.as_str())), "group attribute")?;
    if let Some(policy) = &g.group_retry_policy {
        c.retry_policy = match policy.policy_type {
            RetryPolicyType::Exponential => ONS_ADMIN_RETRY_POLICY_EXPONENTIAL,
            RetryPolicyType::Customized => ONS_ADMIN_RETRY_POLICY_CUSTOMIZED,
        };
        if let Some(e) = &policy.exponential_retry_policy {
            (c.exponential_initial, c.exponential_max, c.exponential_multiplier) = (e.initial, e.max, e.multiplier);
        }
        if let Some(custom) = &policy.customized_retry_policy {
            (c.customized_next, c.customized_next_count) = a.array(custom.next.clone());
        }
    }
    Ok(c)
}

/// The Java defaults (SubscriptionGroupConfig::default), no name, no retry policy.
pub(crate) fn subscription_group_defaults() -> OnsAdminSubscriptionGroup {
    let d = SubscriptionGroupConfig::default();
    OnsAdminSubscriptionGroup {
        group_name: std::ptr::null(),
        consume_enable: d.consume_enable as i32,
        consume_from_min_enable: d.consume_from_min_enable as i32,
        consume_broadcast_enable: d.consume_broadcast_enable as i32,
        consume_message_orderly: d.consume_message_orderly as i32,
        retry_queue_nums: d.retry_queue_nums,
        retry_max_times: d.retry_max_times,
        retry_policy: ONS_ADMIN_RETRY_POLICY_NONE,
        exponential_initial: 0,
        exponential_max: 0,
        exponential_multiplier: 0,
        customized_next: std::ptr::null(),
        customized_next_count: 0,
        broker_id: d.broker_id,
        which_broker_when_consume_slowly: d.which_broker_when_consume_slowly,
        notify_consumer_ids_changed_enable: d.notify_consumer_ids_changed_enable as i32,
        group_sys_flag: d.group_sys_flag,
        consume_timeout_minute: d.consume_timeout_minute,
        attributes: std::ptr::null(),
        attribute_count: 0,
    }
}

/// Reads a group config given by C, checking every pointer and string.
pub(crate) unsafe fn subscription_group_from_c(c: &OnsAdminSubscriptionGroup) -> Result<SubscriptionGroupConfig> {
    let flag = |v: i32| v != 0;
    let mut g = SubscriptionGroupConfig::new(args::string(c.group_name, "config->group_name")?);
    g.consume_enable = flag(c.consume_enable);
    g.consume_from_min_enable = flag(c.consume_from_min_enable);
    g.consume_broadcast_enable = flag(c.consume_broadcast_enable);
    g.consume_message_orderly = flag(c.consume_message_orderly);
    g.retry_queue_nums = c.retry_queue_nums;
    g.retry_max_times = c.retry_max_times;
    g.broker_id = c.broker_id;
    g.which_broker_when_consume_slowly = c.which_broker_when_consume_slowly;
    g.notify_consumer_ids_changed_enable = flag(c.notify_consumer_ids_changed_enable);
    g.group_sys_flag = c.group_sys_flag;
    g.consume_timeout_minute = c.consume_timeout_minute;
    g.group_retry_policy = match c.retry_policy {
        ONS_ADMIN_RETRY_POLICY_NONE => None,
        ONS_ADMIN_RETRY_POLICY_EXPONENTIAL => {
            let given = (c.exponential_initial, c.exponential_max, c.exponential_multiplier) != (0, 0, 0);
            Some(GroupRetryPolicy {
                policy_type: RetryPolicyType::Exponential,
                exponential_retry_policy: given.then_some(ExponentialRetryPolicy {
                    initial: c.exponential_initial,
                    max: c.exponential_max,
                    multiplier: c.exponential_multiplier,
                }),
                customized_retry_policy: None,
            })
        }
        ONS_ADMIN_RETRY_POLICY_CUSTOMIZED => {
            let next = typed_slice(c.customized_next, c.customized_next_count, "config->customized_next")?;
            Some(GroupRetryPolicy {
                policy_type: RetryPolicyType::Customized,
                exponential_retry_policy: None,
                customized_retry_policy: (!next.is_empty()).then(|| CustomizedRetryPolicy { next: next.to_vec() }),
            })
        }
        other => {
            return Err(invalid_argument(format!(
                "config->retry_policy is {other}; expected an ONS_ADMIN_RETRY_POLICY_* value (0, 1 or 2)"
            )))
        }
    };
    for (i, kv) in typed_slice(c.attributes, c.attribute_count, "config->attributes")?.iter().enumerate() {
        let key = args::string(kv.key, &format!("config->attributes[{i}].key"))?;
        let value = args::string(kv.value, &format!("config->attributes[{i}].value"))?;
        g.attributes.insert(key.to_owned(), value.to_owned());
    }
    Ok(g)
}

/// `count` items at `ptr`; NULL only with a count of 0.
unsafe fn typed_slice<'a, T>(ptr: *const T, count: usize, name: &str) -> Result<&'a [T]> {
    if count == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(invalid_argument(format!("{name} is NULL but its count is {count}")));
    }
    if count > isize::MAX as usize / std::mem::size_of::<T>().max(1) {
        return Err(invalid_argument(format!("{name} count {count} is not a valid count")));
    }
    Ok(std::slice::from_raw_parts(ptr, count))
}

pub(crate) fn subscription_group_list(
    a: &mut Arena,
    brokers: &[BrokerSubscriptionGroups],
) -> Result<OnsAdminSubscriptionGroupList> {
    let items = brokers
        .iter()
        .map(|b| {
            let groups = b.groups.iter().map(|g| subscription_group(a, g)).collect::<Result<Vec<_>>>()?;
            let (groups, count) = a.array(groups);
            Ok(OnsAdminBrokerGroups {
                broker_name: a.string(&b.broker_name, "broker name")?,
                addr: a.string(&b.addr, "broker address")?,
                groups,
                count,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let (brokers, count) = a.array(items);
    Ok(OnsAdminSubscriptionGroupList { brokers, count })
}

fn subscriptions(a: &mut Arena, subs: &[ConsumerSubscription]) -> Result<(*const OnsAdminSubscription, usize)> {
    let items = subs
        .iter()
        .map(|s| {
            let (tags, tag_count) = a.strings(s.tags.iter().map(String::as_str), "subscription tag")?;
            Ok(OnsAdminSubscription {
                topic: a.string(&s.topic, "topic")?,
                sub_string: a.string(&s.sub_string, "subscription expression")?,
                expression_type: a.string(&s.expression_type, "expression type")?,
                tags,
                tag_count,
                sub_version: s.sub_version,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(a.array(items))
}

pub(crate) fn consumer_connections(a: &mut Arena, c: &ConsumerConnections) -> Result<OnsAdminConsumerConnections> {
    let clients = c
        .clients
        .iter()
        .map(|client| {
            let (addrs, addr_count) =
                a.pairs(client.client_addrs.iter().map(|(k, v)| (k.as_str(), v.as_str())), "client address")?;
            Ok(OnsAdminConsumerClient {
                client_id: a.string(&client.client_id, "client id")?,
                language: a.string(&client.language, "client language")?,
                version: client.version,
                addrs,
                addr_count,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let (clients, client_count) = a.array(clients);
    let (subscriptions, subscription_count) = subscriptions(a, &c.subscriptions)?;
    Ok(OnsAdminConsumerConnections {
        clients,
        client_count,
        subscriptions,
        subscription_count,
        consume_type: a.opt_string(c.consume_type.as_deref(), "consume type")?,
        message_model: a.opt_string(c.message_model.as_deref(), "message model")?,
        consume_from_where: a.opt_string(c.consume_from_where.as_deref(), "consume from where")?,
    })
}

pub(crate) fn consume_stats(a: &mut Arena, stats: &ConsumeStats) -> Result<OnsAdminConsumeStats> {
    let queues = stats
        .queues
        .iter()
        .map(|q| {
            Ok(OnsAdminQueueConsumeStats {
                topic: a.string(&q.queue.topic, "topic")?,
                broker_name: a.string(&q.queue.broker_name, "broker name")?,
                queue_id: q.queue.queue_id,
                broker_offset: q.broker_offset,
                consumer_offset: q.consumer_offset,
                pull_offset: q.pull_offset.unwrap_or(-1),
                lag: q.lag,
                last_timestamp: q.last_timestamp,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let (queues, count) = a.array(queues);
    Ok(OnsAdminConsumeStats {
        queues,
        count,
        consume_tps: stats.consume_tps,
        total_lag: stats.total_lag(),
        total_inflight: stats.total_inflight(),
    })
}

pub(crate) fn running_info(a: &mut Arena, info: &ConsumerRunningInfo) -> Result<OnsAdminRunningInfo> {
    let (properties, property_count) =
        a.pairs(info.properties.iter().map(|(k, v)| (k.as_str(), v.as_str())), "client property")?;
    let (subscriptions, subscription_count) = subscriptions(a, &info.subscriptions)?;
    let queues = info
        .queues
        .iter()
        .map(|q| {
            Ok(OnsAdminProcessQueue {
                topic: a.string(&q.queue.topic, "topic")?,
                broker_name: a.string(&q.queue.broker_name, "broker name")?,
                queue_id: q.queue.queue_id,
                commit_offset: q.commit_offset,
                cached_msg_min_offset: q.cached_msg_min_offset,
                cached_msg_max_offset: q.cached_msg_max_offset,
                cached_msg_count: q.cached_msg_count,
                cached_msg_size_mib: q.cached_msg_size_mib,
                locked: q.locked as i32,
                try_unlock_times: q.try_unlock_times,
                last_lock_timestamp: q.last_lock_timestamp,
                dropped: q.dropped as i32,
                last_pull_timestamp: q.last_pull_timestamp,
                last_consume_timestamp: q.last_consume_timestamp,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let (queues, queue_count) = a.array(queues);
    let status = info
        .status
        .iter()
        .map(|(topic, s)| {
            Ok(OnsAdminConsumeStatus {
                topic: a.string(topic, "topic")?,
                pull_rt: s.pull_rt,
                pull_tps: s.pull_tps,
                consume_rt: s.consume_rt,
                consume_ok_tps: s.consume_ok_tps,
                consume_failed_tps: s.consume_failed_tps,
                consume_failed_msgs: s.consume_failed_msgs,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let (status, status_count) = a.array(status);
    Ok(OnsAdminRunningInfo {
        properties,
        property_count,
        subscriptions,
        subscription_count,
        queues,
        queue_count,
        status,
        status_count,
        jstack: a.opt_string(info.jstack.as_deref(), "jstack")?,
    })
}

pub(crate) fn direct_consume_result(
    a: &mut Arena,
    r: &ConsumeMessageDirectlyResult,
) -> Result<OnsAdminDirectConsumeResult> {
    let (result, name) = match r.result {
        None => (ONS_ADMIN_CR_NONE, None),
        Some(DirectConsumeResult::Success) => (ONS_ADMIN_CR_SUCCESS, Some("CR_SUCCESS")),
        Some(DirectConsumeResult::Later) => (ONS_ADMIN_CR_LATER, Some("CR_LATER")),
        Some(DirectConsumeResult::Rollback) => (ONS_ADMIN_CR_ROLLBACK, Some("CR_ROLLBACK")),
        Some(DirectConsumeResult::Commit) => (ONS_ADMIN_CR_COMMIT, Some("CR_COMMIT")),
        Some(DirectConsumeResult::ThrowException) => (ONS_ADMIN_CR_THROW_EXCEPTION, Some("CR_THROW_EXCEPTION")),
        Some(DirectConsumeResult::ReturnNull) => (ONS_ADMIN_CR_RETURN_NULL, Some("CR_RETURN_NULL")),
    };
    Ok(OnsAdminDirectConsumeResult {
        order: r.order as i32,
        auto_commit: r.auto_commit as i32,
        result,
        result_name: a.opt_string(name, "consume result")?,
        remark: a.opt_string(r.remark.as_deref(), "remark")?,
        spent_time_ms: r.spent_time_ms,
    })
}

pub(crate) fn queue_offset_list(a: &mut Arena, offsets: &[QueueOffset]) -> Result<OnsAdminQueueOffsetList> {
    let items = offsets
        .iter()
        .map(|q| {
            Ok(OnsAdminQueueOffset {
                topic: a.string(&q.queue.topic, "topic")?,
                broker_name: a.string(&q.queue.broker_name, "broker name")?,
                queue_id: q.queue.queue_id,
                offset: q.offset,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let (items, count) = a.array(items);
    Ok(OnsAdminQueueOffsetList { items, count })
}

pub(crate) fn message_track_list(a: &mut Arena, tracks: &[MessageTrack]) -> Result<OnsAdminMessageTrackList> {
    let items = tracks
        .iter()
        .map(|t| {
            let track_type = match t.track_type {
                TrackType::Consumed => ONS_ADMIN_TRACK_CONSUMED,
                TrackType::ConsumedButFiltered => ONS_ADMIN_TRACK_CONSUMED_BUT_FILTERED,
                TrackType::Pull => ONS_ADMIN_TRACK_PULL,
                TrackType::NotConsumeYet => ONS_ADMIN_TRACK_NOT_CONSUME_YET,
                TrackType::NotOnline => ONS_ADMIN_TRACK_NOT_ONLINE,
                TrackType::ConsumeBroadcasting => ONS_ADMIN_TRACK_CONSUME_BROADCASTING,
                TrackType::Unknown => ONS_ADMIN_TRACK_UNKNOWN,
            };
            Ok(OnsAdminMessageTrack {
                group: a.string(&t.group, "group name")?,
                track_type,
                track_type_name: a.string(t.track_type.java_name(), "track type")?,
                error: a.opt_string(t.error.as_deref(), "track error")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let (items, count) = a.array(items);
    Ok(OnsAdminMessageTrackList { items, count })
}

/// Frees a string list returned by an ons_admin_* call. NULL is accepted.
#[no_mangle]
pub unsafe extern "C" fn ons_admin_string_list_free(list: *mut OnsAdminStringList) -> i32 {
    guard("ons_admin_string_list_free", || {
        release(list);
        Ok(())
    })
}

/// Frees a list returned by ons_admin_broker_runtime_info. NULL is accepted.
#[no_mangle]
pub unsafe extern "C" fn ons_admin_key_value_list_free(list: *mut OnsAdminKeyValueList) -> i32 {
    guard("ons_admin_key_value_list_free", || {
        release(list);
        Ok(())
    })
}

/// Frees the result of ons_admin_cluster_list. NULL is accepted.
#[no_mangle]
pub unsafe extern "C" fn ons_admin_cluster_list_free(list: *mut OnsAdminClusterList) -> i32 {
    guard("ons_admin_cluster_list_free", || {
        release(list);
        Ok(())
    })
}

/// Frees the result of ons_admin_topic_route. NULL is accepted.
#[no_mangle]
pub unsafe extern "C" fn ons_admin_topic_route_free(route: *mut OnsAdminTopicRoute) -> i32 {
    guard("ons_admin_topic_route_free", || {
        release(route);
        Ok(())
    })
}

/// Frees the result of ons_admin_topic_stats. NULL is accepted.
#[no_mangle]
pub unsafe extern "C" fn ons_admin_topic_stats_free(stats: *mut OnsAdminTopicStats) -> i32 {
    guard("ons_admin_topic_stats_free", || {
        release(stats);
        Ok(())
    })
}

/// Frees the result of ons_admin_list_subscription_groups. NULL is accepted.
#[no_mangle]
pub unsafe extern "C" fn ons_admin_subscription_group_list_free(list: *mut OnsAdminSubscriptionGroupList) -> i32 {
    guard("ons_admin_subscription_group_list_free", || {
        release(list);
        Ok(())
    })
}

/// Frees the result of ons_admin_consumer_connections. NULL is accepted.
#[no_mangle]
pub unsafe extern "C" fn ons_admin_consumer_connections_free(connections: *mut OnsAdminConsumerConnections) -> i32 {
    guard("ons_admin_consumer_connections_free", || {
        release(connections);
        Ok(())
    })
}

/// Frees the result of ons_admin_consume_stats. NULL is accepted.
#[no_mangle]
pub unsafe extern "C" fn ons_admin_consume_stats_free(stats: *mut OnsAdminConsumeStats) -> i32 {
    guard("ons_admin_consume_stats_free", || {
        release(stats);
        Ok(())
    })
}

/// Frees the result of ons_admin_consumer_running_info. NULL is accepted.
#[no_mangle]
pub unsafe extern "C" fn ons_admin_running_info_free(info: *mut OnsAdminRunningInfo) -> i32 {
    guard("ons_admin_running_info_free", || {
        release(info);
        Ok(())
    })
}

/// Frees the result of ons_admin_consume_message_directly. NULL is accepted.
#[no_mangle]
pub unsafe extern "C" fn ons_admin_direct_consume_result_free(result: *mut OnsAdminDirectConsumeResult) -> i32 {
    guard("ons_admin_direct_consume_result_free", || {
        release(result);
        Ok(())
    })
}

/// Frees the result of ons_admin_reset_offsets or ons_admin_max_offsets. NULL is accepted.
#[no_mangle]
pub unsafe extern "C" fn ons_admin_queue_offset_list_free(list: *mut OnsAdminQueueOffsetList) -> i32 {
    guard("ons_admin_queue_offset_list_free", || {
        release(list);
        Ok(())
    })
}

/// Frees the result of ons_admin_message_track. NULL is accepted.
#[no_mangle]
pub unsafe extern "C" fn ons_admin_message_track_list_free(list: *mut OnsAdminMessageTrackList) -> i32 {
    guard("ons_admin_message_track_list_free", || {
        release(list);
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn results_point_into_their_arena_and_free_whole() {
        let names = vec!["a".to_owned(), "bb".to_owned()];
        let mut out: *mut OnsAdminStringList = std::ptr::null_mut();
        build(&mut out, |a| string_list(a, &names, "name")).unwrap();
        let list = unsafe { &*out };
        assert_eq!(list.count, 2);
        let second = unsafe { CStr::from_ptr(*list.items.add(1)) };
        assert_eq!(second.to_str().unwrap(), "bb");
        assert_eq!(unsafe { ons_admin_string_list_free(out) }, crate::error::ONS_OK);
        assert_eq!(unsafe { ons_admin_string_list_free(std::ptr::null_mut()) }, crate::error::ONS_OK);
    }

    #[test]
    fn empty_arrays_are_null_and_nul_bytes_are_errors() {
        let mut a = Arena::default();
        assert_eq!(a.array(Vec::<i64>::new()), (std::ptr::null(), 0));
        let e = a.string("a\0b", "group name").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Protocol);
        assert!(e.message().contains("group name"), "{}", e.message());
    }

    #[test]
    fn group_configs_round_trip_through_c() {
        let mut g = SubscriptionGroupConfig::new("GID_x");
        g.retry_max_times = 3;
        g.consume_broadcast_enable = false;
        g.attributes.insert("+k".to_owned(), "v".to_owned());
        g.group_retry_policy = Some(GroupRetryPolicy {
            policy_type: RetryPolicyType::Customized,
            exponential_retry_policy: None,
            customized_retry_policy: Some(CustomizedRetryPolicy { next: vec![1000, 2000] }),
        });
        let mut a = Arena::default();
        let c = subscription_group(&mut a, &g).unwrap();
        assert_eq!(unsafe { subscription_group_from_c(&c) }.unwrap(), g);

        let mut d = subscription_group_defaults();
        let e = unsafe { subscription_group_from_c(&d) }.unwrap_err();
        assert!(e.message().contains("config->group_name is NULL"), "{}", e.message());
        d.group_name = c.group_name;
        d.retry_policy = 9;
        let e = unsafe { subscription_group_from_c(&d) }.unwrap_err();
        assert!(e.message().contains("config->retry_policy"), "{}", e.message());
        d.retry_policy = ONS_ADMIN_RETRY_POLICY_CUSTOMIZED;
        d.customized_next_count = 2;
        let e = unsafe { subscription_group_from_c(&d) }.unwrap_err();
        assert!(e.message().contains("config->customized_next is NULL"), "{}", e.message());
    }
}
