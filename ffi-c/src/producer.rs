//! `ons_producer_t`, `ons_order_producer_t`, `ons_transaction_producer_t`: the three ONS
//! producers. Sends block the calling thread on the library's runtime; async sends complete
//! through the user's callback on a library thread; a transaction's local executor runs on the
//! thread that called send, as in the ONS SDKs, so it can use that thread's database session.

use std::ffi::{c_char, c_void};
use std::sync::Arc;

use ons::{Message, MessageQueue, OrderProducer, Producer, SendResult, TransactionProducer, TransactionStatus};

use crate::args;
use crate::error::{as_last_error_during, guard, invalid_argument, not_started, to_c, Result, ONS_OK};
use crate::handle::{write_trace_counts, Handle, OnsTraceCounts};
use crate::message::{core_message, OnsMessage, OnsSendResult};
use crate::properties::{core_properties, OnsProperties};
use crate::runtime::{block_on, exiting, runtime, Gate, Pass, UserData};

/// Local transaction outcomes (ONS TransactionStatus, same values as the C++ SDK).
pub const ONS_TRANSACTION_COMMIT: i32 = 0;
pub const ONS_TRANSACTION_ROLLBACK: i32 = 1;
/// Not known yet: the broker will ask the checker later.
pub const ONS_TRANSACTION_UNKNOWN: i32 = 2;

/// Completion of an async send, called exactly once per accepted send (when
/// ons_producer_send_async returned ONS_OK), on a library thread. On success `status` is
/// ONS_OK, `result` is the send result and `error_message` is NULL; on failure `status` is the
/// error code, `result` is NULL and `error_message` says why, and until the callback makes an
/// ons_* call of its own the ons_last_error_* accessors describe the failure (the failed
/// message's id and topic: ons_last_error_message_id, ons_last_error_topic). Both pointers are
/// lent for the callback's duration. The callback may call any function of the library except shutting
/// down or destroying the producer it belongs to. It is not called once the process has
/// started exiting.
pub type OnsSendCallback = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        status: i32,
        result: *const OnsSendResult,
        error_message: *const c_char,
    ),
>;

/// A local transaction executor or checker: decides the transaction of `message` (lent for
/// the callback's duration) and returns ONS_TRANSACTION_COMMIT, _ROLLBACK or _UNKNOWN; any
/// other value counts as _UNKNOWN.
pub type OnsTransactionCallback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, message: *const OnsMessage) -> i32>;

fn transaction_status(code: i32) -> TransactionStatus {
    match code {
        ONS_TRANSACTION_COMMIT => TransactionStatus::CommitTransaction,
        ONS_TRANSACTION_ROLLBACK => TransactionStatus::RollbackTransaction,
        ONS_TRANSACTION_UNKNOWN => TransactionStatus::Unknow,
        other => {
            tracing::warn!(value = other, "transaction callback returned an unknown status; counted as unknown");
            TransactionStatus::Unknow
        }
    }
}

/// A producer of normal and timed messages (ONS Producer). Thread-safe: one handle may be
/// used from many threads at once; it may send to any topic.
pub struct OnsProducer {
    h: Handle<Producer>,
}

/// A producer whose messages of one sharding key are stored, and consumed, in order (ONS
/// OrderProducer). Thread-safe.
pub struct OnsOrderProducer {
    h: Handle<OrderProducer>,
}

/// A producer of transactional messages (ONS TransactionProducer). Thread-safe.
pub struct OnsTransactionProducer {
    h: Handle<TransactionProducer>,
}

unsafe fn handle<'a, H: 'a, T: 'a>(ptr: *const H, get: fn(&H) -> &Handle<T>) -> Result<&'a Handle<T>> {
    let h: &'a H = args::obj(ptr, "producer")?;
    get(h).live()
}

fn boxed_out<T>(out: &mut *mut T, value: T) {
    *out = Box::into_raw(Box::new(value));
}

// ------------------------------------------------------------------------------- Producer

/// Creates a producer from ONS properties (NAMESRV_ADDR and GROUP_ID required; AccessKey and
/// SecretKey when the cluster checks them). The properties are copied. A missing or malformed
/// property fails with ONS_ERR_INVALID_CONFIG naming it. Nothing connects before
/// ons_producer_start. Release it with ons_producer_destroy.
#[no_mangle]
pub unsafe extern "C" fn ons_producer_new(properties: *const OnsProperties, out: *mut *mut OnsProducer) -> i32 {
    guard("ons_producer_new", || {
        let out = args::out_ptr(out, "out")?;
        let producer = Producer::new(&core_properties(properties)?)?;
        boxed_out(out, OnsProducer { h: Handle::new(producer, Gate::new(), "producer") });
        Ok(())
    })
}

/// Starts the producer (idempotent). A producer that was shut down cannot start again.
#[no_mangle]
pub unsafe extern "C" fn ons_producer_start(producer: *mut OnsProducer) -> i32 {
    guard("ons_producer_start", || handle(producer, |p: &OnsProducer| &p.h)?.start())
}

/// Shuts the producer down: waits for pending async sends and their callbacks, then leaves
/// the cluster. Afterwards sends fail with ONS_ERR_NOT_STARTED; shutting down again fails with
/// ONS_ERR_NOT_STARTED; from inside one of this producer's callbacks it fails with
/// ONS_ERR_INVALID_ARGUMENT.
#[no_mangle]
pub unsafe extern "C" fn ons_producer_shutdown(producer: *mut OnsProducer) -> i32 {
    guard("ons_producer_shutdown", || handle(producer, |p: &OnsProducer| &p.h)?.shutdown("ons_producer_shutdown"))
}

/// Shuts down (unless done) and frees the producer. NULL is accepted. From inside one of this
/// producer's callbacks it fails with ONS_ERR_INVALID_ARGUMENT and frees nothing. No other
/// call on the handle may run concurrently or follow.
#[no_mangle]
pub unsafe extern "C" fn ons_producer_destroy(producer: *mut OnsProducer) -> i32 {
    guard("ons_producer_destroy", || Handle::destroy(producer, |p: &OnsProducer| &p.h, "ons_producer_destroy"))
}

/// `*out` = 1 if started and not shut down, else 0.
#[no_mangle]
pub unsafe extern "C" fn ons_producer_is_started(producer: *const OnsProducer, out: *mut i32) -> i32 {
    guard("ons_producer_is_started", || {
        let out = args::out(out, "out")?;
        *out = handle(producer, |p: &OnsProducer| &p.h)?.is_started();
        Ok(())
    })
}

/// `*out` = 1 if shut down, else 0.
#[no_mangle]
pub unsafe extern "C" fn ons_producer_is_closed(producer: *const OnsProducer, out: *mut i32) -> i32 {
    guard("ons_producer_is_closed", || {
        let out = args::out(out, "out")?;
        *out = handle(producer, |p: &OnsProducer| &p.h)?.is_closed();
        Ok(())
    })
}

/// `*out` = what the producer's message traces came to (`MsgTraceSwitch`; see
/// `ons_trace_counts_t`), while it runs and after shutdown.
#[no_mangle]
pub unsafe extern "C" fn ons_producer_trace_counts(producer: *const OnsProducer, out: *mut OnsTraceCounts) -> i32 {
    guard("ons_producer_trace_counts", || write_trace_counts(out, || handle(producer, |p: &OnsProducer| &p.h)))
}

/// Replaces AccessKey, SecretKey and SecurityToken of the started producer for its next requests
/// (ONS updateCredential), and of the clients sharing its settings and credentials. AccessKey
/// and SecretKey are required (ONS_ERR_INVALID_CONFIG naming the one missing), SecurityToken is
/// optional (not given: none is sent), other known properties are ignored. ONS_ERR_NOT_STARTED
/// before start and after shutdown. The map is only read.
#[no_mangle]
pub unsafe extern "C" fn ons_producer_update_credential(
    producer: *mut OnsProducer,
    properties: *const OnsProperties,
) -> i32 {
    guard("ons_producer_update_credential", || handle(producer, |p: &OnsProducer| &p.h)?.update_credential(properties))
}

/// Sends and waits for the broker's answer, retrying retryable failures on another broker
/// within SendMsgTimeoutMillis. On success `*result` is a new send result the caller frees
/// with ons_send_result_free. The message is only read; the caller keeps it.
#[no_mangle]
pub unsafe extern "C" fn ons_producer_send(
    producer: *mut OnsProducer,
    message: *const OnsMessage,
    result: *mut *mut OnsSendResult,
) -> i32 {
    guard("ons_producer_send", || {
        let out = args::out_ptr(result, "result")?;
        let h = handle(producer, |p: &OnsProducer| &p.h)?;
        let msg = core_message(message, "message")?;
        let r = block_on(h.inner.send(msg))??;
        *out = OnsSendResult::boxed(r);
        Ok(())
    })
}

/// One queue of a topic (for ons_producer_send_to_queue and the ons_pull_consumer_* calls): the
/// topic, the name of the broker set that holds the queue, and the queue's id on it (a send
/// result's broker name and queue id name one). Strings passed in are only read during the
/// call; in a list the library returns (ons_message_queue_list_t) they are owned by the list.
#[repr(C)]
pub struct OnsMessageQueue {
    pub topic: *const c_char,
    pub broker_name: *const c_char,
    pub queue_id: i32,
}

/// Core's queue named by `queue`; `prefix` names it in errors ("queue->", "queues[2].").
pub(crate) unsafe fn core_queue(queue: &OnsMessageQueue, prefix: &str) -> Result<MessageQueue> {
    Ok(MessageQueue::new(
        args::string(queue.topic, &format!("{prefix}topic"))?,
        args::string(queue.broker_name, &format!("{prefix}broker_name"))?,
        queue.queue_id,
    ))
}

/// Sends to one queue and waits for the broker, as ons_producer_send does but with a single
/// attempt (another queue is not what was asked; ONS C++ `Producer::send(Message&, const
/// MessageQueueONS&)`). The queue's topic must be the message's: ONS_ERR_INVALID_ARGUMENT
/// otherwise, and for a queue the topic's route does not list as writable (the message names
/// the queues it does list); ONS_ERR_TOPIC_NOT_FOUND when the topic does not exist. On success
/// `*result` is a new send result the caller frees with ons_send_result_free.
#[no_mangle]
pub unsafe extern "C" fn ons_producer_send_to_queue(
    producer: *mut OnsProducer,
    message: *const OnsMessage,
    queue: *const OnsMessageQueue,
    result: *mut *mut OnsSendResult,
) -> i32 {
    guard("ons_producer_send_to_queue", || {
        let out = args::out_ptr(result, "result")?;
        let h = handle(producer, |p: &OnsProducer| &p.h)?;
        let msg = core_message(message, "message")?;
        let queue = core_queue(args::obj(queue, "queue")?, "queue->")?;
        let r = block_on(h.inner.send_to_queue(msg, &queue))??;
        *out = OnsSendResult::boxed(r);
        Ok(())
    })
}

/// Sends in the background; `callback(user_data, ...)` reports the outcome exactly once, on a
/// library thread (see ons_send_callback_t). The message is copied, so the caller may free it
/// at once. Returns an error, and never calls the callback, when an argument is invalid, the
/// message breaks a limit, or the producer is not started or shutting down. `user_data` must
/// stay valid until the callback has run.
#[no_mangle]
pub unsafe extern "C" fn ons_producer_send_async(
    producer: *mut OnsProducer,
    message: *const OnsMessage,
    callback: OnsSendCallback,
    user_data: *mut c_void,
) -> i32 {
    guard("ons_producer_send_async", || {
        let h = handle(producer, |p: &OnsProducer| &p.h)?;
        let msg = core_message(message, "message")?;
        let callback = callback.ok_or_else(|| invalid_argument("callback is NULL"))?;
        // ONS sendAsync rejects a bad message and a stopped producer in the call itself.
        msg.validate()?;
        if !h.inner.is_started() {
            return Err(not_started(if h.inner.is_closed() {
                "producer was shut down"
            } else {
                "producer is not started; call ons_producer_start first"
            }));
        }
        let pass = h.gate.reserve(h.what)?;
        let gate = h.gate.clone();
        let user_data = UserData(user_data);
        let _context = runtime()?.enter();
        h.inner.send_with_callback(msg.clone(), move |outcome| {
            // Off the runtime's workers: user code may block or make synchronous calls.
            tokio::task::spawn_blocking(move || deliver_send(callback, user_data, &gate, pass, outcome));
        });
        Ok(())
    })
}

type SendFn = unsafe extern "C" fn(*mut c_void, i32, *const OnsSendResult, *const c_char);

fn deliver_send(callback: SendFn, user_data: UserData, gate: &Gate, pass: Pass, outcome: ons::Result<SendResult>) {
    let _pass = pass;
    if exiting() {
        return;
    }
    match outcome {
        Ok(r) => {
            let result = OnsSendResult::new(r);
            // SAFETY: the caller promised `callback` and `user_data` stay valid until called.
            gate.marked(|| unsafe { callback(user_data.ptr(), ONS_OK, &result, std::ptr::null()) });
        }
        Err(e) => {
            let (code, message) = to_c(&e);
            // The failed message's id and topic through ons_last_error_message_id/_topic.
            as_last_error_during(&e, || {
                gate.marked(|| unsafe { callback(user_data.ptr(), code, std::ptr::null(), message.as_ptr()) })
            });
        }
    }
}

/// Sends without waiting for the broker: no result, no retry, no delivery guarantee.
#[no_mangle]
pub unsafe extern "C" fn ons_producer_send_oneway(producer: *mut OnsProducer, message: *const OnsMessage) -> i32 {
    guard("ons_producer_send_oneway", || {
        let h = handle(producer, |p: &OnsProducer| &p.h)?;
        let msg = core_message(message, "message")?;
        block_on(h.inner.send_oneway(msg))?
    })
}

/// Sends `count` messages of one topic in one request (no timed or transactional messages).
/// `messages` is an array of `count` message pointers; `results` an array of `count` slots
/// that receive a new send result each on success (set to NULL first); the caller frees each
/// with ons_send_result_free.
#[no_mangle]
pub unsafe extern "C" fn ons_producer_send_batch(
    producer: *mut OnsProducer,
    messages: *const *const OnsMessage,
    count: usize,
    results: *mut *mut OnsSendResult,
) -> i32 {
    guard("ons_producer_send_batch", || {
        let h = handle(producer, |p: &OnsProducer| &p.h)?;
        if count == 0 {
            return Err(invalid_argument("count is 0; a batch needs at least one message"));
        }
        if messages.is_null() {
            return Err(invalid_argument("messages is NULL"));
        }
        if results.is_null() {
            return Err(invalid_argument("results (the out-array) is NULL"));
        }
        let slots = std::slice::from_raw_parts_mut(results, count);
        slots.fill(std::ptr::null_mut());
        let msgs: Vec<Message> = std::slice::from_raw_parts(messages, count)
            .iter()
            .enumerate()
            .map(|(i, m)| core_message(*m, &format!("messages[{i}]")).cloned())
            .collect::<Result<_>>()?;
        let sent = block_on(h.inner.send_batch(&msgs))??;
        if sent.len() != count {
            return Err(ons::Error::new(
                ons::ErrorKind::Internal,
                format!("batch of {count} messages produced {} results", sent.len()),
            ));
        }
        for (slot, r) in slots.iter_mut().zip(sent) {
            *slot = OnsSendResult::boxed(r);
        }
        Ok(())
    })
}

// -------------------------------------------------------------------------- OrderProducer

/// Creates an order producer (properties as for ons_producer_new). Release it with
/// ons_order_producer_destroy.
#[no_mangle]
pub unsafe extern "C" fn ons_order_producer_new(
    properties: *const OnsProperties,
    out: *mut *mut OnsOrderProducer,
) -> i32 {
    guard("ons_order_producer_new", || {
        let out = args::out_ptr(out, "out")?;
        let producer = OrderProducer::new(&core_properties(properties)?)?;
        boxed_out(out, OnsOrderProducer { h: Handle::new(producer, Gate::new(), "order producer") });
        Ok(())
    })
}

/// Starts the order producer (idempotent).
#[no_mangle]
pub unsafe extern "C" fn ons_order_producer_start(producer: *mut OnsOrderProducer) -> i32 {
    guard("ons_order_producer_start", || handle(producer, |p: &OnsOrderProducer| &p.h)?.start())
}

/// Shuts the order producer down; as ons_producer_shutdown.
#[no_mangle]
pub unsafe extern "C" fn ons_order_producer_shutdown(producer: *mut OnsOrderProducer) -> i32 {
    guard("ons_order_producer_shutdown", || {
        handle(producer, |p: &OnsOrderProducer| &p.h)?.shutdown("ons_order_producer_shutdown")
    })
}

/// Shuts down (unless done) and frees the order producer; as ons_producer_destroy.
#[no_mangle]
pub unsafe extern "C" fn ons_order_producer_destroy(producer: *mut OnsOrderProducer) -> i32 {
    guard("ons_order_producer_destroy", || {
        Handle::destroy(producer, |p: &OnsOrderProducer| &p.h, "ons_order_producer_destroy")
    })
}

/// `*out` = 1 if started and not shut down, else 0.
#[no_mangle]
pub unsafe extern "C" fn ons_order_producer_is_started(producer: *const OnsOrderProducer, out: *mut i32) -> i32 {
    guard("ons_order_producer_is_started", || {
        let out = args::out(out, "out")?;
        *out = handle(producer, |p: &OnsOrderProducer| &p.h)?.is_started();
        Ok(())
    })
}

/// `*out` = 1 if shut down, else 0.
#[no_mangle]
pub unsafe extern "C" fn ons_order_producer_is_closed(producer: *const OnsOrderProducer, out: *mut i32) -> i32 {
    guard("ons_order_producer_is_closed", || {
        let out = args::out(out, "out")?;
        *out = handle(producer, |p: &OnsOrderProducer| &p.h)?.is_closed();
        Ok(())
    })
}

/// `*out` = what the order producer's message traces came to (`MsgTraceSwitch`; see
/// `ons_trace_counts_t`), while it runs and after shutdown.
#[no_mangle]
pub unsafe extern "C" fn ons_order_producer_trace_counts(
    producer: *const OnsOrderProducer,
    out: *mut OnsTraceCounts,
) -> i32 {
    guard("ons_order_producer_trace_counts", || {
        write_trace_counts(out, || handle(producer, |p: &OnsOrderProducer| &p.h))
    })
}

/// Replaces AccessKey, SecretKey and SecurityToken of the started order producer for its next requests
/// (ONS updateCredential), and of the clients sharing its settings and credentials. AccessKey
/// and SecretKey are required (ONS_ERR_INVALID_CONFIG naming the one missing), SecurityToken is
/// optional (not given: none is sent), other known properties are ignored. ONS_ERR_NOT_STARTED
/// before start and after shutdown. The map is only read.
#[no_mangle]
pub unsafe extern "C" fn ons_order_producer_update_credential(
    producer: *mut OnsOrderProducer,
    properties: *const OnsProperties,
) -> i32 {
    guard("ons_order_producer_update_credential", || {
        handle(producer, |p: &OnsOrderProducer| &p.h)?.update_credential(properties)
    })
}

/// Sends to the queue the non-empty `sharding_key` selects (the ONS Java client's choice, so
/// mixed fleets agree), in one attempt: another queue would break the key's order. On success
/// `*result` is a new send result (free with ons_send_result_free).
#[no_mangle]
pub unsafe extern "C" fn ons_order_producer_send(
    producer: *mut OnsOrderProducer,
    message: *const OnsMessage,
    sharding_key: *const c_char,
    result: *mut *mut OnsSendResult,
) -> i32 {
    guard("ons_order_producer_send", || {
        let out = args::out_ptr(result, "result")?;
        let h = handle(producer, |p: &OnsOrderProducer| &p.h)?;
        let msg = core_message(message, "message")?;
        let key = args::string(sharding_key, "sharding_key")?;
        let r = block_on(h.inner.send(msg, key))??;
        *out = OnsSendResult::boxed(r);
        Ok(())
    })
}

// -------------------------------------------------------------------- TransactionProducer

/// Creates a transaction producer (properties as for ons_producer_new). `checker` answers the
/// broker's questions about transactions whose outcome it has not heard (executor returned
/// _UNKNOWN, or the process died); it runs on a library thread, possibly several at once, with
/// `checker_user_data`, which must stay valid until ons_transaction_producer_destroy returns.
/// Release it with ons_transaction_producer_destroy.
#[no_mangle]
pub unsafe extern "C" fn ons_transaction_producer_new(
    properties: *const OnsProperties,
    checker: OnsTransactionCallback,
    checker_user_data: *mut c_void,
    out: *mut *mut OnsTransactionProducer,
) -> i32 {
    guard("ons_transaction_producer_new", || {
        let out = args::out_ptr(out, "out")?;
        let props = core_properties(properties)?;
        let checker = checker.ok_or_else(|| invalid_argument("checker is NULL"))?;
        let user_data = UserData(checker_user_data);
        let gate = Gate::new();
        let checker_gate = gate.clone();
        let check = move |msg: Message| {
            let gate = checker_gate.clone();
            async move {
                tokio::task::spawn_blocking(move || {
                    let Some(_pass) = gate.enter() else { return TransactionStatus::Unknow };
                    let view = OnsMessage::borrowed(&msg);
                    // SAFETY: the caller promised checker and user_data live until destroy,
                    // which waits for this pass.
                    transaction_status(gate.marked(|| unsafe { checker(user_data.ptr(), &view) }))
                })
                .await
                .unwrap_or(TransactionStatus::Unknow)
            }
        };
        let producer = TransactionProducer::new(&props, Arc::new(check))?;
        boxed_out(out, OnsTransactionProducer { h: Handle::new(producer, gate, "transaction producer") });
        Ok(())
    })
}

/// Starts the transaction producer (idempotent); from now on the checker may be called.
#[no_mangle]
pub unsafe extern "C" fn ons_transaction_producer_start(producer: *mut OnsTransactionProducer) -> i32 {
    guard("ons_transaction_producer_start", || handle(producer, |p: &OnsTransactionProducer| &p.h)?.start())
}

/// Shuts the transaction producer down; when it returns, no checker call runs. As
/// ons_producer_shutdown otherwise.
#[no_mangle]
pub unsafe extern "C" fn ons_transaction_producer_shutdown(producer: *mut OnsTransactionProducer) -> i32 {
    guard("ons_transaction_producer_shutdown", || {
        handle(producer, |p: &OnsTransactionProducer| &p.h)?.shutdown("ons_transaction_producer_shutdown")
    })
}

/// Shuts down (unless done) and frees the transaction producer; as ons_producer_destroy.
#[no_mangle]
pub unsafe extern "C" fn ons_transaction_producer_destroy(producer: *mut OnsTransactionProducer) -> i32 {
    guard("ons_transaction_producer_destroy", || {
        Handle::destroy(producer, |p: &OnsTransactionProducer| &p.h, "ons_transaction_producer_destroy")
    })
}

/// `*out` = 1 if started and not shut down, else 0.
#[no_mangle]
pub unsafe extern "C" fn ons_transaction_producer_is_started(
    producer: *const OnsTransactionProducer,
    out: *mut i32,
) -> i32 {
    guard("ons_transaction_producer_is_started", || {
        let out = args::out(out, "out")?;
        *out = handle(producer, |p: &OnsTransactionProducer| &p.h)?.is_started();
        Ok(())
    })
}

/// `*out` = 1 if shut down, else 0.
#[no_mangle]
pub unsafe extern "C" fn ons_transaction_producer_is_closed(
    producer: *const OnsTransactionProducer,
    out: *mut i32,
) -> i32 {
    guard("ons_transaction_producer_is_closed", || {
        let out = args::out(out, "out")?;
        *out = handle(producer, |p: &OnsTransactionProducer| &p.h)?.is_closed();
        Ok(())
    })
}

/// `*out` = what the transaction producer's message traces came to (`MsgTraceSwitch`; see
/// `ons_trace_counts_t`), while it runs and after shutdown.
#[no_mangle]
pub unsafe extern "C" fn ons_transaction_producer_trace_counts(
    producer: *const OnsTransactionProducer,
    out: *mut OnsTraceCounts,
) -> i32 {
    guard("ons_transaction_producer_trace_counts", || {
        write_trace_counts(out, || handle(producer, |p: &OnsTransactionProducer| &p.h))
    })
}

/// Replaces AccessKey, SecretKey and SecurityToken of the started transaction producer for its next requests
/// (ONS updateCredential), and of the clients sharing its settings and credentials. AccessKey
/// and SecretKey are required (ONS_ERR_INVALID_CONFIG naming the one missing), SecurityToken is
/// optional (not given: none is sent), other known properties are ignored. ONS_ERR_NOT_STARTED
/// before start and after shutdown. The map is only read.
#[no_mangle]
pub unsafe extern "C" fn ons_transaction_producer_update_credential(
    producer: *mut OnsTransactionProducer,
    properties: *const OnsProperties,
) -> i32 {
    guard("ons_transaction_producer_update_credential", || {
        handle(producer, |p: &OnsTransactionProducer| &p.h)?.update_credential(properties)
    })
}

/// Sends `message` as a half message (invisible to consumers), then calls
/// `executor(user_data, sent)` on the calling thread, before this function returns, and
/// commits or rolls back by its answer; _UNKNOWN leaves the decision to the checker. `sent`
/// is a copy of the message carrying its message id, lent for the executor's duration. If the
/// half message cannot be sent the executor is not called and the error is returned. On
/// success `*result` is a new send result (free with ons_send_result_free).
#[no_mangle]
pub unsafe extern "C" fn ons_transaction_producer_send(
    producer: *mut OnsTransactionProducer,
    message: *const OnsMessage,
    executor: OnsTransactionCallback,
    user_data: *mut c_void,
    result: *mut *mut OnsSendResult,
) -> i32 {
    guard("ons_transaction_producer_send", || {
        let out = args::out_ptr(result, "result")?;
        let h = handle(producer, |p: &OnsTransactionProducer| &p.h)?;
        let msg = core_message(message, "message")?.clone();
        let executor = executor.ok_or_else(|| invalid_argument("executor is NULL"))?;
        let rt = runtime()?;

        // Core runs the executor as a future on its runtime; here that future only hands the
        // message to this thread and waits for the answer, so the user's executor runs where
        // the ONS SDKs run it: on the caller's thread, outside the runtime.
        enum Event {
            Execute(Box<Message>, tokio::sync::oneshot::Sender<TransactionStatus>),
            Done(ons::Result<SendResult>),
        }
        let (events, inbox) = std::sync::mpsc::channel::<Event>();
        let to_caller = events.clone();
        let inner = h.inner.clone();
        rt.spawn(async move {
            let outcome = inner
                .send(&msg, move |sent: Message| async move {
                    let (reply, answer) = tokio::sync::oneshot::channel();
                    if to_caller.send(Event::Execute(Box::new(sent), reply)).is_err() {
                        return TransactionStatus::Unknow;
                    }
                    answer.await.unwrap_or(TransactionStatus::Unknow)
                })
                .await;
            let _ = events.send(Event::Done(outcome));
        });
        loop {
            match inbox.recv() {
                Ok(Event::Execute(sent, reply)) => {
                    let view = OnsMessage::borrowed(&sent);
                    let code = h.gate.marked(|| executor(user_data, &view));
                    let _ = reply.send(transaction_status(code));
                }
                Ok(Event::Done(outcome)) => {
                    *out = OnsSendResult::boxed(outcome?);
                    return Ok(());
                }
                Err(_) => {
                    return Err(ons::Error::new(
                        ons::ErrorKind::Internal,
                        "the transactional send ended without a result",
                    ))
                }
            }
        }
    })
}
