//! `ons_pull_consumer_t`: core's `PullConsumer` (the ONS `PullConsumer`, poll instead of a
//! listener; README "Pull consumer"). The application's thread blocks on the library's runtime
//! for every call that talks to a broker; no user callback is involved. Queues cross the ABI as
//! `ons_message_queue_t` (in: read during the call; out: an `ons_message_queue_list_t` the caller
//! frees), polled messages as an `ons_message_t` array freed with ons_message_array_free.

use std::ffi::c_char;
use std::time::Duration;

use ons::{MessageQueue, PullConsumer};

use crate::admin::message_array;
use crate::admin_results::{build, release};
use crate::args;
use crate::error::{guard, invalid_argument, Result};
use crate::handle::{write_trace_counts, Handle, OnsTraceCounts};
use crate::message::OnsMessage;
use crate::producer::{core_queue, OnsMessageQueue};
use crate::properties::{core_properties, OnsProperties};
use crate::runtime::{block_on, Gate};

/// A pull consumer (ONS PullConsumer): assign queues or subscribe to topics, then poll.
/// Thread-safe.
pub struct OnsPullConsumer {
    h: Handle<PullConsumer>,
}

/// Queues returned by ons_pull_consumer_topic_partitions: `count` queues at `items` (NULL when
/// `count` is 0), their strings owned by the list. Free it with ons_message_queue_list_free.
#[repr(C)]
pub struct OnsMessageQueueList {
    pub items: *const OnsMessageQueue,
    pub count: usize,
}

unsafe fn handle<'a>(consumer: *const OnsPullConsumer) -> Result<&'a Handle<PullConsumer>> {
    args::obj(consumer, "consumer")?.h.live()
}

/// One queue argument.
unsafe fn queue_arg(queue: *const OnsMessageQueue) -> Result<MessageQueue> {
    core_queue(args::obj(queue, "queue")?, "queue->")
}

/// An array argument of `count` queues; NULL only when `count` is 0.
unsafe fn queues_arg(queues: *const OnsMessageQueue, count: usize) -> Result<Vec<MessageQueue>> {
    if count == 0 {
        return Ok(Vec::new());
    }
    if queues.is_null() {
        return Err(invalid_argument(format!("queues is NULL but count is {count}")));
    }
    std::slice::from_raw_parts(queues, count)
        .iter()
        .enumerate()
        .map(|(i, q)| core_queue(q, &format!("queues[{i}].")))
        .collect()
}

/// Creates a pull consumer from ONS properties: NAMESRV_ADDR and GROUP_ID required;
/// autoCommit (default true), autoCommitIntervalMillis, pollTimeoutMillis,
/// maxBatchMessageCount, MaxCachedMessageAmount, ConsumeFromWhere and
/// ALLOCATE_MESSAGE_QUEUE_STRATEGY_NAME optional; MessageModel CLUSTERING (the default) or
/// BROADCASTING (offsets in a file under OffsetStoreDir, as Java's lite pull consumer keeps
/// them). Invalid properties fail with ONS_ERR_INVALID_CONFIG naming the property. Nothing connects before
/// ons_pull_consumer_start. Release it with ons_pull_consumer_destroy.
#[no_mangle]
pub unsafe extern "C" fn ons_pull_consumer_new(
    properties: *const OnsProperties,
    out: *mut *mut OnsPullConsumer,
) -> i32 {
    guard("ons_pull_consumer_new", || {
        let out = args::out_ptr(out, "out")?;
        let consumer = PullConsumer::new(&core_properties(properties)?)?;
        *out = Box::into_raw(Box::new(OnsPullConsumer { h: Handle::new(consumer, Gate::new(), "pull consumer") }));
        Ok(())
    })
}

/// Joins the group and starts pulling the assigned or subscribed queues (idempotent).
#[no_mangle]
pub unsafe extern "C" fn ons_pull_consumer_start(consumer: *mut OnsPullConsumer) -> i32 {
    guard("ons_pull_consumer_start", || handle(consumer)?.start())
}

/// Replaces AccessKey, SecretKey and SecurityToken of the started pull consumer for its next
/// requests (ONS updateCredential), and of the clients sharing its settings and credentials.
/// AccessKey and SecretKey are required (ONS_ERR_INVALID_CONFIG naming the one missing),
/// SecurityToken is optional, other known properties are ignored. ONS_ERR_NOT_STARTED before
/// start and after shutdown. The map is only read.
#[no_mangle]
pub unsafe extern "C" fn ons_pull_consumer_update_credential(
    consumer: *mut OnsPullConsumer,
    properties: *const OnsProperties,
) -> i32 {
    guard("ons_pull_consumer_update_credential", || handle(consumer)?.update_credential(properties))
}

/// Stops pulling, commits what poll returned (with autoCommit) and leaves the group. Again:
/// ONS_ERR_NOT_STARTED.
#[no_mangle]
pub unsafe extern "C" fn ons_pull_consumer_shutdown(consumer: *mut OnsPullConsumer) -> i32 {
    guard("ons_pull_consumer_shutdown", || handle(consumer)?.shutdown("ons_pull_consumer_shutdown"))
}

/// Shuts down (unless done) and frees the consumer. NULL is accepted.
#[no_mangle]
pub unsafe extern "C" fn ons_pull_consumer_destroy(consumer: *mut OnsPullConsumer) -> i32 {
    guard("ons_pull_consumer_destroy", || {
        Handle::destroy(consumer, |c: &OnsPullConsumer| &c.h, "ons_pull_consumer_destroy")
    })
}

/// `*out` = 1 if started and not shut down, else 0.
#[no_mangle]
pub unsafe extern "C" fn ons_pull_consumer_is_started(consumer: *const OnsPullConsumer, out: *mut i32) -> i32 {
    guard("ons_pull_consumer_is_started", || {
        let out = args::out(out, "out")?;
        *out = handle(consumer)?.is_started();
        Ok(())
    })
}

/// `*out` = 1 if shut down, else 0.
#[no_mangle]
pub unsafe extern "C" fn ons_pull_consumer_is_closed(consumer: *const OnsPullConsumer, out: *mut i32) -> i32 {
    guard("ons_pull_consumer_is_closed", || {
        let out = args::out(out, "out")?;
        *out = handle(consumer)?.is_closed();
        Ok(())
    })
}

/// `*out` = what the pull consumer's message traces came to (`MsgTraceSwitch`; see
/// `ons_trace_counts_t`), while it runs and after shutdown.
#[no_mangle]
pub unsafe extern "C" fn ons_pull_consumer_trace_counts(
    consumer: *const OnsPullConsumer,
    out: *mut OnsTraceCounts,
) -> i32 {
    guard("ons_pull_consumer_trace_counts", || write_trace_counts(out, || handle(consumer)))
}

/// Subscribe mode: consume the messages of `topic` matching `expression` (NULL, "" or "*" for
/// all; tags separated by "||") from the queues the group's split gives this consumer
/// (re-split every 20 s and when the group changes). Before or after start. Refused with
/// ONS_ERR_INVALID_ARGUMENT once queues were assigned: a consumer either assigns or subscribes.
#[no_mangle]
pub unsafe extern "C" fn ons_pull_consumer_subscribe(
    consumer: *mut OnsPullConsumer,
    topic: *const c_char,
    expression: *const c_char,
) -> i32 {
    guard("ons_pull_consumer_subscribe", || {
        let h = handle(consumer)?;
        let topic = args::string(topic, "topic")?;
        let expression = args::opt_string(expression, "expression")?.filter(|e| !e.is_empty()).unwrap_or("*");
        h.inner.subscribe(topic, expression)
    })
}

/// Subscribe mode: stops consuming `topic`. ONS_ERR_INVALID_ARGUMENT when the consumer did not
/// subscribe to any topic.
#[no_mangle]
pub unsafe extern "C" fn ons_pull_consumer_unsubscribe(consumer: *mut OnsPullConsumer, topic: *const c_char) -> i32 {
    guard("ons_pull_consumer_unsubscribe", || handle(consumer)?.inner.unsubscribe(args::string(topic, "topic")?))
}

/// Assign mode (ONS assign): consume exactly the `count` queues at `queues` (as
/// ons_pull_consumer_topic_partitions lists them), replacing an earlier assignment; queues left
/// out are given up; `count` 0 gives up all (`queues` may then be NULL). No rebalance. Before
/// or after start; refused after subscribe. A queue with a NULL or invalid topic or broker
/// name, or a negative queue id, is ONS_ERR_INVALID_ARGUMENT naming it.
#[no_mangle]
pub unsafe extern "C" fn ons_pull_consumer_assign(
    consumer: *mut OnsPullConsumer,
    queues: *const OnsMessageQueue,
    count: usize,
) -> i32 {
    guard("ons_pull_consumer_assign", || {
        let h = handle(consumer)?;
        h.inner.assign(&queues_arg(queues, count)?)
    })
}

/// The queues of `topic` that can be consumed (ONS topicPartitions), from its route; needs a
/// started consumer. `*out` is new; free it with ons_message_queue_list_free.
#[no_mangle]
pub unsafe extern "C" fn ons_pull_consumer_topic_partitions(
    consumer: *mut OnsPullConsumer,
    topic: *const c_char,
    out: *mut *mut OnsMessageQueueList,
) -> i32 {
    guard("ons_pull_consumer_topic_partitions", || {
        let out = args::out_ptr(out, "out")?;
        let h = handle(consumer)?;
        let topic = args::string(topic, "topic")?;
        let queues = block_on(h.inner.topic_partitions(topic))??;
        build(out, |arena| {
            let items = queues
                .iter()
                .map(|q| {
                    Ok(OnsMessageQueue {
                        topic: arena.string(&q.topic, "topic")?,
                        broker_name: arena.string(&q.broker_name, "broker name")?,
                        queue_id: q.queue_id,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            let (items, count) = arena.array(items);
            Ok(OnsMessageQueueList { items, count })
        })
    })
}

/// Frees a list returned by ons_pull_consumer_topic_partitions. NULL is accepted.
#[no_mangle]
pub unsafe extern "C" fn ons_message_queue_list_free(list: *mut OnsMessageQueueList) -> i32 {
    guard("ons_message_queue_list_free", || {
        release(list);
        Ok(())
    })
}

/// Waits up to `timeout_ms` (0 or more) for messages and returns one pull's worth of one
/// queue (at most maxBatchMessageCount), oldest first; none when nothing came in time. With
/// autoCommit, first commits (every autoCommitIntervalMillis) what earlier polls returned.
/// `*out` is a new array of `*count` new messages (possibly 0; read them with the
/// ons_message_* accessors, including ons_message_queue_id, _queue_offset and _broker_name);
/// free it with ons_message_array_free. Needs a started consumer.
#[no_mangle]
pub unsafe extern "C" fn ons_pull_consumer_poll(
    consumer: *mut OnsPullConsumer,
    timeout_ms: i64,
    out: *mut *mut *mut OnsMessage,
    count: *mut usize,
) -> i32 {
    guard("ons_pull_consumer_poll", || {
        let out = args::out_ptr(out, "out")?;
        let count = args::out(count, "count")?;
        let h = handle(consumer)?;
        let timeout = u64::try_from(timeout_ms)
            .map_err(|_| invalid_argument(format!("timeout_ms is {timeout_ms}; it must be 0 or more")))?;
        let polled = block_on(h.inner.poll(Duration::from_millis(timeout)))??;
        message_array(polled, out, count);
        Ok(())
    })
}

/// The next poll of `queue` (one this consumer owns) starts at `offset`, which must be within
/// the queue's stored range [min, max] (max: where the next message will go): otherwise
/// ONS_ERR_INVALID_ARGUMENT naming the range. What is cached of the queue is dropped.
#[no_mangle]
pub unsafe extern "C" fn ons_pull_consumer_seek(
    consumer: *mut OnsPullConsumer,
    queue: *const OnsMessageQueue,
    offset: i64,
) -> i32 {
    guard("ons_pull_consumer_seek", || {
        let h = handle(consumer)?;
        let queue = queue_arg(queue)?;
        block_on(h.inner.seek(&queue, offset))?
    })
}

/// Seeks `queue` (owned) to the oldest message its broker still stores.
#[no_mangle]
pub unsafe extern "C" fn ons_pull_consumer_seek_to_beginning(
    consumer: *mut OnsPullConsumer,
    queue: *const OnsMessageQueue,
) -> i32 {
    guard("ons_pull_consumer_seek_to_beginning", || {
        let h = handle(consumer)?;
        let queue = queue_arg(queue)?;
        block_on(h.inner.seek_to_beginning(&queue))?
    })
}

/// Seeks `queue` (owned) past its last message: only messages sent later are polled.
#[no_mangle]
pub unsafe extern "C" fn ons_pull_consumer_seek_to_end(
    consumer: *mut OnsPullConsumer,
    queue: *const OnsMessageQueue,
) -> i32 {
    guard("ons_pull_consumer_seek_to_end", || {
        let h = handle(consumer)?;
        let queue = queue_arg(queue)?;
        block_on(h.inner.seek_to_end(&queue))?
    })
}

/// `*out` = the offset of the message of `queue` (any queue, owned or not) stored at
/// `timestamp_ms` (epoch milliseconds, 0 or more; ONS offsetForTimestamp), as the broker
/// answers: 5.x brokers the first message stored at or after it, 4.x brokers the one stored
/// nearest to it; the max offset when every message is older. Needs a started consumer.
#[no_mangle]
pub unsafe extern "C" fn ons_pull_consumer_offset_for_timestamp(
    consumer: *mut OnsPullConsumer,
    queue: *const OnsMessageQueue,
    timestamp_ms: i64,
    out: *mut i64,
) -> i32 {
    guard("ons_pull_consumer_offset_for_timestamp", || {
        let out = args::out(out, "out")?;
        let h = handle(consumer)?;
        let queue = queue_arg(queue)?;
        *out = block_on(h.inner.offset_for_timestamp(&queue, timestamp_ms))??;
        Ok(())
    })
}

/// `*out` = the group's committed offset of `queue` at its broker (ONS committed): the offset
/// of the next message to consume; -1 when the broker has none for the group (a broker answers
/// 0 instead while the queue's first message is still in its memory). Needs a started consumer.
#[no_mangle]
pub unsafe extern "C" fn ons_pull_consumer_committed(
    consumer: *mut OnsPullConsumer,
    queue: *const OnsMessageQueue,
    out: *mut i64,
) -> i32 {
    guard("ons_pull_consumer_committed", || {
        let out = args::out(out, "out")?;
        *out = -1;
        let h = handle(consumer)?;
        let queue = queue_arg(queue)?;
        *out = block_on(h.inner.committed(&queue))??.unwrap_or(-1);
        Ok(())
    })
}

/// Commits, and waits for the brokers to acknowledge, the offset after what poll returned of
/// every owned queue (ONS commitSync). The first failure is the error; the other queues are
/// committed all the same.
#[no_mangle]
pub unsafe extern "C" fn ons_pull_consumer_commit_sync(consumer: *mut OnsPullConsumer) -> i32 {
    guard("ons_pull_consumer_commit_sync", || {
        let h = handle(consumer)?;
        block_on(h.inner.commit_sync())?
    })
}

/// Stops pulling the `count` queues at `queues` (owned ones) until resumed; messages already
/// cached are still polled. Queues as for ons_pull_consumer_assign.
#[no_mangle]
pub unsafe extern "C" fn ons_pull_consumer_pause(
    consumer: *mut OnsPullConsumer,
    queues: *const OnsMessageQueue,
    count: usize,
) -> i32 {
    guard("ons_pull_consumer_pause", || {
        let h = handle(consumer)?;
        h.inner.pause(&queues_arg(queues, count)?)
    })
}

/// Pulls the `count` paused queues at `queues` again.
#[no_mangle]
pub unsafe extern "C" fn ons_pull_consumer_resume(
    consumer: *mut OnsPullConsumer,
    queues: *const OnsMessageQueue,
    count: usize,
) -> i32 {
    guard("ons_pull_consumer_resume", || {
        let h = handle(consumer)?;
        h.inner.resume(&queues_arg(queues, count)?)
    })
}
