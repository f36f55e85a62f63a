//! `ons_admin_t`: core's administrative calls (`ons::admin::Admin`, docs/admin.md) for tools
//! and tests: cluster, topics, subscription groups, consumers, offsets, messages and their
//! delivery. The structs they return and their free functions are in `admin_results`; calls
//! returning messages hand out `ons_message_t` objects.

use std::ffi::c_char;

use ons::admin::{Admin, ResetPosition, TopicConfig};
use ons::Message;

use crate::admin_results::{self as results, *};
use crate::args;
use crate::error::{guard, invalid_argument, Result};
use crate::message::OnsMessage;
use crate::properties::{core_properties, OnsProperties};
use ons_binding_support::ProcessBound;

use crate::runtime::{block_on, runtime};

/// A handle for administrative calls. Thread-safe. Shares connections with every producer and
/// consumer of the same cluster settings in the process.
pub struct OnsAdmin(ProcessBound<Admin>);

impl OnsAdmin {
    fn live(&self) -> Result<&Admin> {
        self.0.get()
    }
}

/// Creates an admin handle (NAMESRV_ADDR required; credentials when the cluster checks them).
/// Release it with ons_admin_destroy.
#[no_mangle]
pub unsafe extern "C" fn ons_admin_new(properties: *const OnsProperties, out: *mut *mut OnsAdmin) -> i32 {
    guard("ons_admin_new", || {
        let out = args::out_ptr(out, "out")?;
        let props = core_properties(properties)?;
        let _context = runtime()?.enter();
        *out = Box::into_raw(Box::new(OnsAdmin(ProcessBound::new("admin handle", Admin::new(&props)?))));
        Ok(())
    })
}

/// Frees an admin handle. NULL is accepted.
#[no_mangle]
pub unsafe extern "C" fn ons_admin_destroy(admin: *mut OnsAdmin) -> i32 {
    guard("ons_admin_destroy", || {
        if !admin.is_null() {
            // Inherited across fork(), the admin inside is forgotten rather than dropped.
            drop(Box::from_raw(admin));
        }
        Ok(())
    })
}

/// Creates (or updates) `topic` with `queue_nums` read and write queues on every master
/// broker of the cluster; `order` non-zero marks it as an ordered topic.
#[no_mangle]
pub unsafe extern "C" fn ons_admin_create_topic(
    admin: *mut OnsAdmin,
    topic: *const c_char,
    queue_nums: u32,
    order: i32,
) -> i32 {
    guard("ons_admin_create_topic", || {
        let a = args::obj(admin, "admin")?.live()?;
        let topic = args::string(topic, "topic")?;
        if queue_nums == 0 {
            return Err(invalid_argument("queue_nums is 0; a topic needs at least one queue"));
        }
        block_on(a.create_topic(topic, queue_nums, order != 0))?
    })
}

/// Reads a stored message back by its offset message id (ons_send_result_offset_msg_id),
/// body decompressed, exactly as stored. `*out` is a new message (free with
/// ons_message_free).
#[no_mangle]
pub unsafe extern "C" fn ons_admin_view_message(
    admin: *mut OnsAdmin,
    topic: *const c_char,
    offset_msg_id: *const c_char,
    out: *mut *mut OnsMessage,
) -> i32 {
    guard("ons_admin_view_message", || {
        let out = args::out_ptr(out, "out")?;
        let a = args::obj(admin, "admin")?.live()?;
        let topic = args::string(topic, "topic")?;
        let id = args::string(offset_msg_id, "offset_msg_id")?;
        let msg = block_on(a.view_message(topic, id))??;
        *out = Box::into_raw(Box::new(OnsMessage::owned(msg)));
        Ok(())
    })
}

pub(crate) fn message_array(found: Vec<Message>, out: &mut *mut *mut OnsMessage, count: &mut usize) {
    let array: Box<[*mut OnsMessage]> =
        found.into_iter().map(|m| Box::into_raw(Box::new(OnsMessage::owned(m)))).collect();
    *count = array.len();
    *out = Box::into_raw(array).cast();
}

/// The body the exports that return messages share: clears both out-parameters, checks the
/// handle, runs `ask` with it (which reads the other arguments and makes the request) and hands
/// C the messages found as a new array.
unsafe fn messages(
    admin: *mut OnsAdmin,
    out: *mut *mut *mut OnsMessage,
    count: *mut usize,
    ask: impl FnOnce(&Admin) -> Result<Vec<Message>>,
) -> Result<()> {
    let out = args::out_ptr(out, "out")?;
    let count = args::out(count, "count")?;
    let found = ask(args::obj(admin, "admin")?.live()?)?;
    message_array(found, out, count);
    Ok(())
}

unsafe fn query(
    admin: *mut OnsAdmin,
    topic: *const c_char,
    key: *const c_char,
    by_msg_id: bool,
    out: *mut *mut *mut OnsMessage,
    count: *mut usize,
) -> Result<()> {
    messages(admin, out, count, |a| {
        let topic = args::string(topic, "topic")?;
        let key = args::string(key, if by_msg_id { "msg_id" } else { "key" })?;
        if by_msg_id {
            block_on(a.query_by_msg_id(topic, key))?
        } else {
            block_on(a.query_by_key(topic, key))?
        }
    })
}

/// Finds the messages of `topic` with message id `msg_id` (ons_send_result_message_id) on
/// every broker. `*out` is a new array of `*count` new messages (possibly 0); free it with
/// ons_message_array_free.
#[no_mangle]
pub unsafe extern "C" fn ons_admin_query_by_msg_id(
    admin: *mut OnsAdmin,
    topic: *const c_char,
    msg_id: *const c_char,
    out: *mut *mut *mut OnsMessage,
    count: *mut usize,
) -> i32 {
    guard("ons_admin_query_by_msg_id", || query(admin, topic, msg_id, true, out, count))
}

/// Finds the messages of `topic` with business key `key`; as ons_admin_query_by_msg_id.
#[no_mangle]
pub unsafe extern "C" fn ons_admin_query_by_key(
    admin: *mut OnsAdmin,
    topic: *const c_char,
    key: *const c_char,
    out: *mut *mut *mut OnsMessage,
    count: *mut usize,
) -> i32 {
    guard("ons_admin_query_by_key", || query(admin, topic, key, false, out, count))
}

/// Frees an array returned by an ons_admin_query_* call, ons_admin_read_queue or
/// ons_pull_consumer_poll, and every message in it. `count` must
/// be the count that call returned. NULL is accepted.
#[no_mangle]
pub unsafe extern "C" fn ons_message_array_free(messages: *mut *mut OnsMessage, count: usize) -> i32 {
    guard("ons_message_array_free", || {
        if messages.is_null() {
            return Ok(());
        }
        let array: Box<[*mut OnsMessage]> = Box::from_raw(std::ptr::slice_from_raw_parts_mut(messages, count));
        for m in array.iter() {
            if !m.is_null() {
                drop(Box::from_raw(*m));
            }
        }
        Ok(())
    })
}

/// The body the exports that return a result struct share: clears the out-parameter, checks
/// the handle, runs `ask` with it (which reads the other arguments and makes the request) and
/// hands C the answer as `convert` lays it out.
unsafe fn answer<V, R>(
    admin: *mut OnsAdmin,
    out: *mut *mut R,
    out_name: &str,
    ask: impl FnOnce(&Admin) -> Result<V>,
    convert: impl FnOnce(&mut Arena, &V) -> Result<R>,
) -> Result<()> {
    let out = args::out_ptr(out, out_name)?;
    let a = args::obj(admin, "admin")?.live()?;
    let value = ask(a)?;
    results::build(out, |arena| convert(arena, &value))
}

/// The brokers and their roles, addresses and versions in every cluster the name servers know
/// (mqadmin clusterList). `*out` is new; free it with ons_admin_cluster_list_free.
#[no_mangle]
pub unsafe extern "C" fn ons_admin_cluster_list(admin: *mut OnsAdmin, out: *mut *mut OnsAdminClusterList) -> i32 {
    guard("ons_admin_cluster_list", || {
        answer(admin, out, "out", |a| block_on(a.cluster_list())?, |arena, list| results::cluster_list(arena, list))
    })
}

/// The runtime table of the broker at `broker_addr` ("host:port"), sorted by key. `*out` is
/// new; free it with ons_admin_key_value_list_free.
#[no_mangle]
pub unsafe extern "C" fn ons_admin_broker_runtime_info(
    admin: *mut OnsAdmin,
    broker_addr: *const c_char,
    out: *mut *mut OnsAdminKeyValueList,
) -> i32 {
    guard("ons_admin_broker_runtime_info", || {
        answer(
            admin,
            out,
            "out",
            |a| {
                let addr = args::string(broker_addr, "broker_addr")?;
                block_on(a.broker_runtime_info(addr))?
            },
            |arena, table| results::key_value_list(arena, table, "broker runtime entry"),
        )
    })
}

/// Creates `topic`, or replaces its config, on every master of `cluster` (mqadmin
/// updateTopic -c): `read_queue_nums` and `write_queue_nums` queues per broker, `perm` 6
/// (read 4 | write 2) for a normal topic, `order` non-zero for an ordered one. `*brokers` is a
/// new list of the brokers written to; free it with ons_admin_string_list_free.
#[no_mangle]
pub unsafe extern "C" fn ons_admin_update_topic(
    admin: *mut OnsAdmin,
    cluster: *const c_char,
    topic: *const c_char,
    read_queue_nums: u32,
    write_queue_nums: u32,
    perm: i32,
    order: i32,
    brokers: *mut *mut OnsAdminStringList,
) -> i32 {
    guard("ons_admin_update_topic", || {
        let out = args::out_ptr(brokers, "brokers")?;
        let a = args::obj(admin, "admin")?.live()?;
        let cluster = args::string(cluster, "cluster")?;
        let topic = args::string(topic, "topic")?;
        let config =
            TopicConfig { read_queue_nums, write_queue_nums, perm, order: order != 0, ..TopicConfig::new(topic, 1) };
        let written = block_on(a.update_topic(cluster, &config))??;
        results::build(out, |arena| results::string_list(arena, &written, "broker name"))
    })
}

/// Deletes `topic` from every master of `cluster`, then from every name server (mqadmin
/// deleteTopic -c).
#[no_mangle]
pub unsafe extern "C" fn ons_admin_delete_topic(
    admin: *mut OnsAdmin,
    cluster: *const c_char,
    topic: *const c_char,
) -> i32 {
    guard("ons_admin_delete_topic", || {
        let a = args::obj(admin, "admin")?.live()?;
        let cluster = args::string(cluster, "cluster")?;
        let topic = args::string(topic, "topic")?;
        block_on(a.delete_topic(cluster, topic))?
    })
}

/// Every topic the name servers know (mqadmin topicList). `*out` is new; free it with
/// ons_admin_string_list_free.
#[no_mangle]
pub unsafe extern "C" fn ons_admin_list_topics(admin: *mut OnsAdmin, out: *mut *mut OnsAdminStringList) -> i32 {
    guard("ons_admin_list_topics", || {
        answer(
            admin,
            out,
            "out",
            |a| block_on(a.list_topics())?,
            |arena, topics| results::string_list(arena, topics, "topic"),
        )
    })
}

/// The route of `topic` (mqadmin topicRoute); ONS_ERR_TOPIC_NOT_FOUND without one. `*out` is
/// new; free it with ons_admin_topic_route_free.
#[no_mangle]
pub unsafe extern "C" fn ons_admin_topic_route(
    admin: *mut OnsAdmin,
    topic: *const c_char,
    out: *mut *mut OnsAdminTopicRoute,
) -> i32 {
    guard("ons_admin_topic_route", || {
        answer(
            admin,
            out,
            "out",
            |a| {
                let topic = args::string(topic, "topic")?;
                block_on(a.topic_route(topic))?
            },
            results::topic_route,
        )
    })
}

/// The min and max offsets of every queue of `topic` (mqadmin topicStatus). `*out` is new;
/// free it with ons_admin_topic_stats_free.
#[no_mangle]
pub unsafe extern "C" fn ons_admin_topic_stats(
    admin: *mut OnsAdmin,
    topic: *const c_char,
    out: *mut *mut OnsAdminTopicStats,
) -> i32 {
    guard("ons_admin_topic_stats", || {
        answer(
            admin,
            out,
            "out",
            |a| {
                let topic = args::string(topic, "topic")?;
                block_on(a.topic_stats(topic))?
            },
            results::topic_stats,
        )
    })
}

/// Fills `*config` with the Java defaults of a subscription group (consume enabled, from min
/// and broadcast allowed, 1 retry queue, 16 retries, no retry policy) and a NULL group_name,
/// which the caller sets before ons_admin_update_subscription_group.
#[no_mangle]
pub unsafe extern "C" fn ons_admin_subscription_group_init(config: *mut OnsAdminSubscriptionGroup) -> i32 {
    guard("ons_admin_subscription_group_init", || {
        let config = args::obj_mut(config, "config")?;
        *config = results::subscription_group_defaults();
        Ok(())
    })
}

/// Creates the group `config->group_name`, or replaces its config, on every master of
/// `cluster` (mqadmin updateSubGroup -c). `config` is only read. `*brokers` is a new list of
/// the brokers written to; free it with ons_admin_string_list_free.
#[no_mangle]
pub unsafe extern "C" fn ons_admin_update_subscription_group(
    admin: *mut OnsAdmin,
    cluster: *const c_char,
    config: *const OnsAdminSubscriptionGroup,
    brokers: *mut *mut OnsAdminStringList,
) -> i32 {
    guard("ons_admin_update_subscription_group", || {
        answer(
            admin,
            brokers,
            "brokers",
            |a| {
                let cluster = args::string(cluster, "cluster")?;
                let config = results::subscription_group_from_c(args::obj(config, "config")?)?;
                block_on(a.update_subscription_group(cluster, &config))?
            },
            |arena, written| results::string_list(arena, written, "broker name"),
        )
    })
}

/// Deletes `group` from every master of `cluster` (mqadmin deleteSubGroup -c), and with
/// `clean_offset` non-zero its consumer offsets too. `*brokers` is a new list of the brokers
/// told; free it with ons_admin_string_list_free.
#[no_mangle]
pub unsafe extern "C" fn ons_admin_delete_subscription_group(
    admin: *mut OnsAdmin,
    cluster: *const c_char,
    group: *const c_char,
    clean_offset: i32,
    brokers: *mut *mut OnsAdminStringList,
) -> i32 {
    guard("ons_admin_delete_subscription_group", || {
        answer(
            admin,
            brokers,
            "brokers",
            |a| {
                let cluster = args::string(cluster, "cluster")?;
                let group = args::string(group, "group")?;
                block_on(a.delete_subscription_group(cluster, group, clean_offset != 0))?
            },
            |arena, told| results::string_list(arena, told, "broker name"),
        )
    })
}

/// The subscription groups of every master of `cluster`. `*out` is new; free it with
/// ons_admin_subscription_group_list_free.
#[no_mangle]
pub unsafe extern "C" fn ons_admin_list_subscription_groups(
    admin: *mut OnsAdmin,
    cluster: *const c_char,
    out: *mut *mut OnsAdminSubscriptionGroupList,
) -> i32 {
    guard("ons_admin_list_subscription_groups", || {
        answer(
            admin,
            out,
            "out",
            |a| {
                let cluster = args::string(cluster, "cluster")?;
                block_on(a.list_subscription_groups(cluster))?
            },
            |arena, list| results::subscription_group_list(arena, list),
        )
    })
}

/// The online consumers of `group` and their subscriptions (mqadmin consumerConnection); a
/// group with nobody online has none (not an error). `*out` is new; free it with
/// ons_admin_consumer_connections_free.
#[no_mangle]
pub unsafe extern "C" fn ons_admin_consumer_connections(
    admin: *mut OnsAdmin,
    group: *const c_char,
    out: *mut *mut OnsAdminConsumerConnections,
) -> i32 {
    guard("ons_admin_consumer_connections", || {
        answer(
            admin,
            out,
            "out",
            |a| {
                let group = args::string(group, "group")?;
                block_on(a.consumer_connections(group))?
            },
            results::consumer_connections,
        )
    })
}

/// The progress of `group` on every queue of `topic`, or of every topic with `topic` NULL
/// (mqadmin consumerProgress). `*out` is new; free it with ons_admin_consume_stats_free.
#[no_mangle]
pub unsafe extern "C" fn ons_admin_consume_stats(
    admin: *mut OnsAdmin,
    group: *const c_char,
    topic: *const c_char,
    out: *mut *mut OnsAdminConsumeStats,
) -> i32 {
    guard("ons_admin_consume_stats", || {
        answer(
            admin,
            out,
            "out",
            |a| {
                let group = args::string(group, "group")?;
                let topic = args::opt_string(topic, "topic")?;
                block_on(a.consume_stats(group, topic))?
            },
            results::consume_stats,
        )
    })
}

/// What the online consumer `client_id` of `group` reports about itself (mqadmin
/// consumerStatus -i). `*out` is new; free it with ons_admin_running_info_free.
#[no_mangle]
pub unsafe extern "C" fn ons_admin_consumer_running_info(
    admin: *mut OnsAdmin,
    group: *const c_char,
    client_id: *const c_char,
    out: *mut *mut OnsAdminRunningInfo,
) -> i32 {
    guard("ons_admin_consumer_running_info", || {
        answer(
            admin,
            out,
            "out",
            |a| {
                let group = args::string(group, "group")?;
                let client_id = args::string(client_id, "client_id")?;
                block_on(a.consumer_running_info(group, client_id))?
            },
            results::running_info,
        )
    })
}

/// Has the online consumer `client_id` of `group` run its listener on the message `msg_id`
/// (either kind of id) of `topic`, whatever its subscription, without moving any offset
/// (mqadmin queryMsgById -g -d). `*out` is new; free it with
/// ons_admin_direct_consume_result_free.
#[no_mangle]
pub unsafe extern "C" fn ons_admin_consume_message_directly(
    admin: *mut OnsAdmin,
    group: *const c_char,
    client_id: *const c_char,
    topic: *const c_char,
    msg_id: *const c_char,
    out: *mut *mut OnsAdminDirectConsumeResult,
) -> i32 {
    guard("ons_admin_consume_message_directly", || {
        answer(
            admin,
            out,
            "out",
            |a| {
                let group = args::string(group, "group")?;
                let client_id = args::string(client_id, "client_id")?;
                let topic = args::string(topic, "topic")?;
                let msg_id = args::string(msg_id, "msg_id")?;
                block_on(a.consume_message_directly(group, client_id, topic, msg_id))?
            },
            results::direct_consume_result,
        )
    })
}

/// Moves the offsets of `group` on every queue of `topic` (mqadmin resetOffsetByTime -f):
/// `position` is ONS_ADMIN_RESET_TO_TIMESTAMP (the first message stored at or after
/// `timestamp_ms`), ONS_ADMIN_RESET_TO_EARLIEST or ONS_ADMIN_RESET_TO_LATEST (`timestamp_ms`
/// unused). Running consumers of the group move too. `*out` is a new list of the new offsets;
/// free it with ons_admin_queue_offset_list_free.
#[no_mangle]
pub unsafe extern "C" fn ons_admin_reset_offsets(
    admin: *mut OnsAdmin,
    group: *const c_char,
    topic: *const c_char,
    position: i32,
    timestamp_ms: i64,
    out: *mut *mut OnsAdminQueueOffsetList,
) -> i32 {
    guard("ons_admin_reset_offsets", || {
        let out = args::out_ptr(out, "out")?;
        let a = args::obj(admin, "admin")?.live()?;
        let group = args::string(group, "group")?;
        let topic = args::string(topic, "topic")?;
        let to = match position {
            ONS_ADMIN_RESET_TO_TIMESTAMP => ResetPosition::Timestamp(timestamp_ms),
            ONS_ADMIN_RESET_TO_EARLIEST => ResetPosition::Earliest,
            ONS_ADMIN_RESET_TO_LATEST => ResetPosition::Latest,
            other => {
                return Err(invalid_argument(format!(
                    "position is {other}; expected an ONS_ADMIN_RESET_TO_* value (0, 1 or 2)"
                )))
            }
        };
        let offsets = block_on(a.reset_offsets(group, topic, to))??;
        results::build(out, |arena| results::queue_offset_list(arena, &offsets))
    })
}

/// The max offset of every queue of `topic`. `*out` is new; free it with
/// ons_admin_queue_offset_list_free.
#[no_mangle]
pub unsafe extern "C" fn ons_admin_max_offsets(
    admin: *mut OnsAdmin,
    topic: *const c_char,
    out: *mut *mut OnsAdminQueueOffsetList,
) -> i32 {
    guard("ons_admin_max_offsets", || {
        let out = args::out_ptr(out, "out")?;
        let a = args::obj(admin, "admin")?.live()?;
        let topic = args::string(topic, "topic")?;
        let offsets: Vec<ons::admin::QueueOffset> = block_on(a.max_offsets(topic))??
            .into_iter()
            .map(|(broker, queue_id, offset)| ons::admin::QueueOffset {
                queue: ons::MessageQueue::new(topic, broker, queue_id),
                offset,
            })
            .collect();
        results::build(out, |arena| results::queue_offset_list(arena, &offsets))
    })
}

/// The message of `topic` with id `msg_id`, either an offset message id or a unique key
/// (mqadmin queryMsgById / queryMsgByUniqueKey). `*out` is a new message (free with
/// ons_message_free), or NULL when no broker has it.
#[no_mangle]
pub unsafe extern "C" fn ons_admin_message_by_id(
    admin: *mut OnsAdmin,
    topic: *const c_char,
    msg_id: *const c_char,
    out: *mut *mut OnsMessage,
) -> i32 {
    guard("ons_admin_message_by_id", || {
        let out = args::out_ptr(out, "out")?;
        let a = args::obj(admin, "admin")?.live()?;
        let topic = args::string(topic, "topic")?;
        let msg_id = args::string(msg_id, "msg_id")?;
        if let Some(msg) = block_on(a.message_by_id(topic, msg_id))?? {
            *out = Box::into_raw(Box::new(OnsMessage::owned(msg)));
        }
        Ok(())
    })
}

/// The messages of `topic` with business key `key` stored between `begin_ms` and `end_ms`
/// (milliseconds since the epoch), at most `max_per_broker` from each broker, sorted by store
/// time (mqadmin queryMsgByKey -b -e). `*out` is a new array of `*count` new messages
/// (possibly 0); free it with ons_message_array_free.
#[no_mangle]
pub unsafe extern "C" fn ons_admin_query_messages(
    admin: *mut OnsAdmin,
    topic: *const c_char,
    key: *const c_char,
    begin_ms: i64,
    end_ms: i64,
    max_per_broker: i32,
    out: *mut *mut *mut OnsMessage,
    count: *mut usize,
) -> i32 {
    guard("ons_admin_query_messages", || {
        messages(admin, out, count, |a| {
            let topic = args::string(topic, "topic")?;
            let key = args::string(key, "key")?;
            block_on(a.query_messages(topic, key, begin_ms, end_ms, max_per_broker))?
        })
    })
}

/// The messages at offsets `begin` to `end` (exclusive, at most 2048) of queue `queue_id` of
/// `topic` on broker `broker_name`, in order; offsets no longer stored are skipped and the read
/// stops at the queue's end. Commits nothing. `*out` is a new array of `*count` new messages
/// (possibly 0); free it with ons_message_array_free.
#[no_mangle]
pub unsafe extern "C" fn ons_admin_read_queue(
    admin: *mut OnsAdmin,
    topic: *const c_char,
    broker_name: *const c_char,
    queue_id: i32,
    begin: i64,
    end: i64,
    out: *mut *mut *mut OnsMessage,
    count: *mut usize,
) -> i32 {
    guard("ons_admin_read_queue", || {
        messages(admin, out, count, |a| {
            let topic = args::string(topic, "topic")?;
            let broker_name = args::string(broker_name, "broker_name")?;
            block_on(a.read_queue(topic, broker_name, queue_id, begin, end))?
        })
    })
}

/// For each group that consumes `topic`, whether it has consumed the message `msg_id` (either
/// kind of id; mqadmin queryMsgById's message track). `*out` is new; free it with
/// ons_admin_message_track_list_free.
#[no_mangle]
pub unsafe extern "C" fn ons_admin_message_track(
    admin: *mut OnsAdmin,
    topic: *const c_char,
    msg_id: *const c_char,
    out: *mut *mut OnsAdminMessageTrackList,
) -> i32 {
    guard("ons_admin_message_track", || {
        answer(
            admin,
            out,
            "out",
            |a| {
                let topic = args::string(topic, "topic")?;
                let msg_id = args::string(msg_id, "msg_id")?;
                block_on(a.message_track(topic, msg_id))?
            },
            |arena, list| results::message_track_list(arena, list),
        )
    })
}

/// The groups that consume `topic`, as its masters know them. `*out` is new; free it with
/// ons_admin_string_list_free.
#[no_mangle]
pub unsafe extern "C" fn ons_admin_groups_of_topic(
    admin: *mut OnsAdmin,
    topic: *const c_char,
    out: *mut *mut OnsAdminStringList,
) -> i32 {
    guard("ons_admin_groups_of_topic", || {
        answer(
            admin,
            out,
            "out",
            |a| {
                let topic = args::string(topic, "topic")?;
                block_on(a.groups_of_topic(topic))?
            },
            |arena, groups| results::string_list(arena, groups, "group name"),
        )
    })
}
