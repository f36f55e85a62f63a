//! `ons_message_t`, `ons_send_result_t` and `ons_consume_context_t`: C views of core's
//! `Message`, `SendResult` and consume contexts. Strings handed out are NUL-terminated copies
//! made on first access and kept with the object; bodies are handed out in place.

use std::ffi::{c_char, CString};
use std::sync::OnceLock;

use bytes::Bytes;
use ons::MessageQueue;
use ons::{Message, SendResult, SendStatus};

use crate::args::{self, CStrCell};
use crate::error::{guard, invalid_argument, Result};

/// SendResult status values (`ons_send_result_status`).
pub const ONS_SEND_OK: i32 = 0;
pub const ONS_SEND_FLUSH_DISK_TIMEOUT: i32 = 1;
pub const ONS_SEND_FLUSH_SLAVE_TIMEOUT: i32 = 2;
pub const ONS_SEND_SLAVE_NOT_AVAILABLE: i32 = 3;

enum Inner {
    Owned(Box<Message>),
    /// A message core lends to a callback; valid for the callback's duration only.
    Borrowed(*const Message),
}

/// A message: built by the user to send, or lent to a callback (read-only, valid until the
/// callback returns; ons_message_clone keeps a copy).
pub struct OnsMessage {
    inner: Inner,
    strings: MessageStrings,
}

#[derive(Default)]
struct MessageStrings {
    topic: CStrCell,
    tag: CStrCell,
    key: CStrCell,
    msg_id: CStrCell,
    sharding_key: CStrCell,
    born_host: CStrCell,
    store_host: CStrCell,
    offset_msg_id: CStrCell,
    broker_name: CStrCell,
    user_properties: OnceLock<Vec<Option<(CString, CString)>>>,
    all_properties: OnceLock<Vec<Option<(CString, CString)>>>,
}

/// `pairs` as C strings, in their order; `None` for a pair holding a NUL byte.
fn c_pairs<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> Vec<Option<(CString, CString)>> {
    pairs.map(|(k, v)| Some((CString::new(k).ok()?, CString::new(v).ok()?))).collect()
}

impl OnsMessage {
    pub(crate) fn owned(msg: Message) -> OnsMessage {
        OnsMessage { inner: Inner::Owned(Box::new(msg)), strings: MessageStrings::default() }
    }

    /// A view of `msg` for a callback. The caller keeps `msg` alive while the view is used.
    pub(crate) fn borrowed(msg: &Message) -> OnsMessage {
        OnsMessage { inner: Inner::Borrowed(msg), strings: MessageStrings::default() }
    }

    pub(crate) fn message(&self) -> &Message {
        match &self.inner {
            Inner::Owned(m) => m,
            // SAFETY: a borrowed view only exists while the callback that lent it runs.
            Inner::Borrowed(p) => unsafe { &**p },
        }
    }

    /// Mutable access for setters; invalidates every string handed out before.
    fn message_mut(&mut self) -> Result<&mut Message> {
        match &mut self.inner {
            Inner::Owned(m) => {
                self.strings = MessageStrings::default();
                Ok(m)
            }
            Inner::Borrowed(_) => Err(invalid_argument(
                "message was lent to a callback and is read-only; ons_message_clone it to modify a copy",
            )),
        }
    }

    fn pairs<'a>(
        &'a self,
        cell: &'a OnceLock<Vec<Option<(CString, CString)>>>,
        all: bool,
    ) -> &'a [Option<(CString, CString)>] {
        cell.get_or_init(|| {
            let m = self.message();
            match (&m.received, all) {
                (Some(r), true) => c_pairs(r.properties.iter()),
                _ => c_pairs(m.user_properties().iter().map(|(k, v)| (k.as_str(), v.as_str()))),
            }
        })
    }
}

/// The result of a successful send. Immutable; its strings live as long as it does.
pub struct OnsSendResult {
    result: SendResult,
    message_id: CStrCell,
    topic: CStrCell,
    broker_name: CStrCell,
    offset_msg_id: CStrCell,
    transaction_id: CStrCell,
}

impl OnsSendResult {
    pub(crate) fn new(result: SendResult) -> OnsSendResult {
        OnsSendResult {
            result,
            message_id: CStrCell::default(),
            topic: CStrCell::default(),
            broker_name: CStrCell::default(),
            offset_msg_id: CStrCell::default(),
            transaction_id: CStrCell::default(),
        }
    }

    pub(crate) fn boxed(result: SendResult) -> *mut OnsSendResult {
        Box::into_raw(Box::new(OnsSendResult::new(result)))
    }
}

/// Where a delivered message was pulled from; lent to a listener for the callback's duration.
pub struct OnsConsumeContext {
    topic: CString,
    broker_name: CString,
    queue_id: i32,
}

impl OnsConsumeContext {
    pub(crate) fn new(queue: &MessageQueue) -> OnsConsumeContext {
        OnsConsumeContext {
            topic: CString::new(queue.topic.as_str()).unwrap_or_default(),
            broker_name: CString::new(queue.broker_name.as_str()).unwrap_or_default(),
            queue_id: queue.queue_id,
        }
    }
}

// ------------------------------------------------------------------------------ messages

/// Creates a message to send. `topic` is required (it may be "" and set later); `tag` may be
/// NULL (no tag); `body` is copied, `body_len` bytes, binary-safe (NULL only when `body_len`
/// is 0). Limits (topic characters, 4 MiB body, ...) are checked when the message is sent.
/// Free it with ons_message_free.
#[no_mangle]
pub unsafe extern "C" fn ons_message_new(
    topic: *const c_char,
    tag: *const c_char,
    body: *const u8,
    body_len: usize,
    out: *mut *mut OnsMessage,
) -> i32 {
    guard("ons_message_new", || {
        let out = args::out_ptr(out, "out")?;
        let topic = args::string(topic, "topic")?;
        let tag = args::opt_string(tag, "tag")?;
        let body = args::bytes(body, body_len, "body")?;
        *out = Box::into_raw(Box::new(OnsMessage::owned(Message::new(topic, tag, Bytes::copy_from_slice(body)))));
        Ok(())
    })
}

/// Copies a message (for example one lent to a listener, to keep it after the callback). The
/// copy is owned by the caller: free it with ons_message_free.
#[no_mangle]
pub unsafe extern "C" fn ons_message_clone(message: *const OnsMessage, out: *mut *mut OnsMessage) -> i32 {
    guard("ons_message_clone", || {
        let out = args::out_ptr(out, "out")?;
        let msg = args::obj(message, "message")?;
        *out = Box::into_raw(Box::new(OnsMessage::owned(msg.message().clone())));
        Ok(())
    })
}

/// Frees a message created by ons_message_new or ons_message_clone, or returned by an admin
/// call. NULL is accepted. Never free a message lent to a callback.
#[no_mangle]
pub unsafe extern "C" fn ons_message_free(message: *mut OnsMessage) -> i32 {
    guard("ons_message_free", || {
        if !message.is_null() {
            drop(Box::from_raw(message));
        }
        Ok(())
    })
}

/// Sets the topic (copied).
#[no_mangle]
pub unsafe extern "C" fn ons_message_set_topic(message: *mut OnsMessage, topic: *const c_char) -> i32 {
    guard("ons_message_set_topic", || {
        let topic = args::string(topic, "topic")?.to_owned();
        args::obj_mut(message, "message")?.message_mut()?.topic = topic;
        Ok(())
    })
}

/// Sets the tag (copied); NULL removes it.
#[no_mangle]
pub unsafe extern "C" fn ons_message_set_tag(message: *mut OnsMessage, tag: *const c_char) -> i32 {
    guard("ons_message_set_tag", || {
        let tag = args::opt_string(tag, "tag")?.map(str::to_owned);
        args::obj_mut(message, "message")?.message_mut()?.tag = tag;
        Ok(())
    })
}

/// Sets the business key(s) (copied; several keys separated by one space); NULL removes it.
#[no_mangle]
pub unsafe extern "C" fn ons_message_set_key(message: *mut OnsMessage, key: *const c_char) -> i32 {
    guard("ons_message_set_key", || {
        let key = args::opt_string(key, "key")?.map(str::to_owned);
        args::obj_mut(message, "message")?.message_mut()?.key = key;
        Ok(())
    })
}

/// Sets the sharding key (copied) that orders the message among others of the same key; NULL
/// removes it. Order producers set it from their `sharding_key` argument.
#[no_mangle]
pub unsafe extern "C" fn ons_message_set_sharding_key(message: *mut OnsMessage, sharding_key: *const c_char) -> i32 {
    guard("ons_message_set_sharding_key", || {
        let sk = args::opt_string(sharding_key, "sharding_key")?.map(str::to_owned);
        args::obj_mut(message, "message")?.message_mut()?.sharding_key = sk;
        Ok(())
    })
}

/// Replaces the body with a copy of `body_len` bytes at `body` (binary-safe; NULL only when
/// `body_len` is 0).
#[no_mangle]
pub unsafe extern "C" fn ons_message_set_body(message: *mut OnsMessage, body: *const u8, body_len: usize) -> i32 {
    guard("ons_message_set_body", || {
        let body = Bytes::copy_from_slice(args::bytes(body, body_len, "body")?);
        args::obj_mut(message, "message")?.message_mut()?.body = body;
        Ok(())
    })
}

/// Timed delivery: the absolute time (milliseconds since the Unix epoch) before which the
/// message is not delivered; 0 or less removes it.
#[no_mangle]
pub unsafe extern "C" fn ons_message_set_start_deliver_time(message: *mut OnsMessage, epoch_millis: i64) -> i32 {
    guard("ons_message_set_start_deliver_time", || {
        args::obj_mut(message, "message")?.message_mut()?.start_deliver_time =
            (epoch_millis > 0).then_some(epoch_millis);
        Ok(())
    })
}

/// Sets the message id the message carries (copied); NULL removes it. For messages built to
/// pass around (a test's stand-in for a received one): a send always assigns a new id, which
/// its ons_send_result_t reports.
#[no_mangle]
pub unsafe extern "C" fn ons_message_set_msg_id(message: *mut OnsMessage, msg_id: *const c_char) -> i32 {
    guard("ons_message_set_msg_id", || {
        let msg_id = args::opt_string(msg_id, "msg_id")?.map(str::to_owned);
        args::obj_mut(message, "message")?.message_mut()?.msg_id = msg_id;
        Ok(())
    })
}

/// Sets the redelivery count the message carries (for messages built to pass around; a
/// consumer sets it on what it receives). A negative count is refused with
/// ONS_ERR_INVALID_ARGUMENT.
#[no_mangle]
pub unsafe extern "C" fn ons_message_set_reconsume_times(message: *mut OnsMessage, reconsume_times: i32) -> i32 {
    guard("ons_message_set_reconsume_times", || {
        if reconsume_times < 0 {
            return Err(invalid_argument(format!("reconsume_times is {reconsume_times}; it must be 0 or more")));
        }
        args::obj_mut(message, "message")?.message_mut()?.reconsume_times = reconsume_times;
        Ok(())
    })
}

/// Adds a user property (both copied). Keys reserved by the system (TAGS, KEYS, UNIQ_KEY, ...)
/// and empty keys or values are refused with ONS_ERR_INVALID_ARGUMENT.
#[no_mangle]
pub unsafe extern "C" fn ons_message_put_user_property(
    message: *mut OnsMessage,
    key: *const c_char,
    value: *const c_char,
) -> i32 {
    guard("ons_message_put_user_property", || {
        let key = args::string(key, "key")?;
        let value = args::string(value, "value")?;
        args::obj_mut(message, "message")?.message_mut()?.put_user_property(key, value)
    })
}

/// The body of every string getter of a message.
unsafe fn message_string(
    function: &str,
    message: *const OnsMessage,
    out: *mut *const c_char,
    cell: fn(&MessageStrings) -> &CStrCell,
    what: &str,
    value: fn(&Message) -> Option<std::borrow::Cow<'_, str>>,
) -> i32 {
    guard(function, || {
        let out = args::out_str(out, "out")?;
        let msg = args::obj(message, "message")?;
        let v = value(msg.message());
        *out = cell(&msg.strings).get_opt(v.as_deref(), what)?;
        Ok(())
    })
}

/// The topic ("" when not set).
///
/// `*out` is owned by the message: valid until the message is modified or freed (for a
/// message lent to a callback, until the callback returns).
#[no_mangle]
pub unsafe extern "C" fn ons_message_topic(message: *const OnsMessage, out: *mut *const c_char) -> i32 {
    message_string("ons_message_topic", message, out, |s| &s.topic, "topic", |m| Some(m.topic.as_str().into()))
}

/// The tag, or NULL when the message has none.
///
/// `*out` is owned by the message: valid until the message is modified or freed (for a
/// message lent to a callback, until the callback returns).
#[no_mangle]
pub unsafe extern "C" fn ons_message_tag(message: *const OnsMessage, out: *mut *const c_char) -> i32 {
    message_string("ons_message_tag", message, out, |s| &s.tag, "tag", |m| m.tag.as_deref().map(Into::into))
}

/// The business key(s), or NULL.
///
/// `*out` is owned by the message: valid until the message is modified or freed (for a
/// message lent to a callback, until the callback returns).
#[no_mangle]
pub unsafe extern "C" fn ons_message_key(message: *const OnsMessage, out: *mut *const c_char) -> i32 {
    message_string("ons_message_key", message, out, |s| &s.key, "key", |m| m.key.as_deref().map(Into::into))
}

/// The message id: set on received messages and on the message handed to a transaction
/// executor; NULL otherwise (a send reports the id in its ons_send_result_t).
///
/// `*out` is owned by the message: valid until the message is modified or freed (for a
/// message lent to a callback, until the callback returns).
#[no_mangle]
pub unsafe extern "C" fn ons_message_msg_id(message: *const OnsMessage, out: *mut *const c_char) -> i32 {
    message_string(
        "ons_message_msg_id",
        message,
        out,
        |s| &s.msg_id,
        "message id",
        |m| m.msg_id.as_deref().map(Into::into),
    )
}

/// The sharding key, or NULL.
///
/// `*out` is owned by the message: valid until the message is modified or freed (for a
/// message lent to a callback, until the callback returns).
#[no_mangle]
pub unsafe extern "C" fn ons_message_sharding_key(message: *const OnsMessage, out: *mut *const c_char) -> i32 {
    message_string(
        "ons_message_sharding_key",
        message,
        out,
        |s| &s.sharding_key,
        "sharding key",
        |m| m.sharding_key.as_deref().map(Into::into),
    )
}

/// Received messages: the producer's address ("ip:port"); NULL otherwise.
///
/// `*out` is owned by the message: valid until the message is modified or freed (for a
/// message lent to a callback, until the callback returns).
#[no_mangle]
pub unsafe extern "C" fn ons_message_born_host(message: *const OnsMessage, out: *mut *const c_char) -> i32 {
    message_string(
        "ons_message_born_host",
        message,
        out,
        |s| &s.born_host,
        "born host",
        |m| m.born_host.map(|a| a.to_string().into()),
    )
}

/// Received messages: the storing broker's address ("ip:port"); NULL otherwise.
///
/// `*out` is owned by the message: valid until the message is modified or freed (for a
/// message lent to a callback, until the callback returns).
#[no_mangle]
pub unsafe extern "C" fn ons_message_store_host(message: *const OnsMessage, out: *mut *const c_char) -> i32 {
    message_string(
        "ons_message_store_host",
        message,
        out,
        |s| &s.store_host,
        "store host",
        |m| m.received.as_ref().and_then(|r| r.store_host).map(|a| a.to_string().into()),
    )
}

/// Received messages: the broker's offset message id (store host + commit-log offset), the id
/// admin lookups take; NULL otherwise.
///
/// `*out` is owned by the message: valid until the message is modified or freed (for a
/// message lent to a callback, until the callback returns).
#[no_mangle]
pub unsafe extern "C" fn ons_message_offset_msg_id(message: *const OnsMessage, out: *mut *const c_char) -> i32 {
    message_string(
        "ons_message_offset_msg_id",
        message,
        out,
        |s| &s.offset_msg_id,
        "offset message id",
        |m| m.received.as_ref().map(|r| r.offset_msg_id.as_str().into()),
    )
}

/// Received messages: the name of the broker that stored it; NULL otherwise.
///
/// `*out` is owned by the message: valid until the message is modified or freed (for a
/// message lent to a callback, until the callback returns).
#[no_mangle]
pub unsafe extern "C" fn ons_message_broker_name(message: *const OnsMessage, out: *mut *const c_char) -> i32 {
    message_string(
        "ons_message_broker_name",
        message,
        out,
        |s| &s.broker_name,
        "broker name",
        |m| m.received.as_ref().map(|r| r.broker_name.as_str().into()),
    )
}

/// The body in place: `*data` points at `*len` bytes owned by the message (valid until the
/// message is modified or freed, or the lending callback returns). `*data` may be NULL when
/// `*len` is 0.
#[no_mangle]
pub unsafe extern "C" fn ons_message_body(message: *const OnsMessage, data: *mut *const u8, len: *mut usize) -> i32 {
    guard("ons_message_body", || {
        let data = args::out_str(data.cast(), "data")?;
        let len = args::out(len, "len")?;
        let body = &args::obj(message, "message")?.message().body;
        *data = body.as_ptr().cast();
        *len = body.len();
        Ok(())
    })
}

/// A user property's value, or NULL when the message has no such property. Owned by the
/// message, as for the string getters.
#[no_mangle]
pub unsafe extern "C" fn ons_message_user_property(
    message: *const OnsMessage,
    key: *const c_char,
    out: *mut *const c_char,
) -> i32 {
    guard("ons_message_user_property", || {
        let out = args::out_str(out, "out")?;
        let msg = args::obj(message, "message")?;
        let key = args::string(key, "key")?;
        property_lookup(msg, &msg.strings.user_properties, false, key, out)
    })
}

/// Any property as stored by the broker, system ones included (received messages); for other
/// messages, a user property. NULL when absent.
#[no_mangle]
pub unsafe extern "C" fn ons_message_system_property(
    message: *const OnsMessage,
    key: *const c_char,
    out: *mut *const c_char,
) -> i32 {
    guard("ons_message_system_property", || {
        let out = args::out_str(out, "out")?;
        let msg = args::obj(message, "message")?;
        let key = args::string(key, "key")?;
        property_lookup(msg, &msg.strings.all_properties, true, key, out)
    })
}

fn property_lookup(
    msg: &OnsMessage,
    cell: &OnceLock<Vec<Option<(CString, CString)>>>,
    all: bool,
    key: &str,
    out: &mut *const c_char,
) -> Result<()> {
    let m = msg.message();
    // The index of `key` among the pairs `pairs` makes (both in name order).
    let index = match (&m.received, all) {
        (Some(r), true) => r.properties.iter().position(|(k, _)| k == key),
        _ => m.user_properties().keys().position(|k| k == key),
    };
    let Some(index) = index else { return Ok(()) };
    match &msg.pairs(cell, all)[index] {
        Some((_, v)) => *out = v.as_ptr(),
        None => return Err(invalid_argument(format!("property {key:?} contains a NUL byte"))),
    }
    Ok(())
}

/// The number of user properties (for ons_message_user_property_at).
#[no_mangle]
pub unsafe extern "C" fn ons_message_user_property_count(message: *const OnsMessage, count: *mut usize) -> i32 {
    guard("ons_message_user_property_count", || {
        let count = args::out(count, "count")?;
        *count = args::obj(message, "message")?.message().user_properties().len();
        Ok(())
    })
}

/// The `index`-th user property (0-based, in key order): `*key` and `*value` are owned by the
/// message, as for the string getters. ONS_ERR_INVALID_ARGUMENT when `index` is out of range.
#[no_mangle]
pub unsafe extern "C" fn ons_message_user_property_at(
    message: *const OnsMessage,
    index: usize,
    key: *mut *const c_char,
    value: *mut *const c_char,
) -> i32 {
    guard("ons_message_user_property_at", || {
        let key = args::out_str(key, "key")?;
        let value = args::out_str(value, "value")?;
        let msg = args::obj(message, "message")?;
        let pairs = msg.pairs(&msg.strings.user_properties, false);
        match pairs.get(index) {
            Some(Some((k, v))) => {
                *key = k.as_ptr();
                *value = v.as_ptr();
                Ok(())
            }
            Some(None) => Err(invalid_argument(format!("user property {index} contains a NUL byte"))),
            None => Err(invalid_argument(format!(
                "index {index} is out of range; the message has {} user properties",
                pairs.len()
            ))),
        }
    })
}

/// The body of every number getter of a message.
unsafe fn message_number<T: Default>(
    function: &str,
    message: *const OnsMessage,
    out: *mut T,
    value: fn(&Message) -> T,
) -> i32 {
    guard(function, || {
        let out = args::out(out, "out")?;
        *out = value(args::obj(message, "message")?.message());
        Ok(())
    })
}

/// How often the message was delivered again after a failed consumption (0 the first time).
#[no_mangle]
pub unsafe extern "C" fn ons_message_reconsume_times(message: *const OnsMessage, out: *mut i32) -> i32 {
    message_number("ons_message_reconsume_times", message, out, |m| m.reconsume_times)
}

/// When the producer created it (ms since the epoch); 0 when unknown.
#[no_mangle]
pub unsafe extern "C" fn ons_message_born_timestamp(message: *const OnsMessage, out: *mut i64) -> i32 {
    message_number("ons_message_born_timestamp", message, out, |m| m.born_timestamp.unwrap_or(0))
}

/// The timed-delivery time (ms since the epoch); 0 when the message is not timed.
#[no_mangle]
pub unsafe extern "C" fn ons_message_start_deliver_time(message: *const OnsMessage, out: *mut i64) -> i32 {
    message_number("ons_message_start_deliver_time", message, out, |m| m.start_deliver_time.unwrap_or(0))
}

/// Received messages: when the broker stored it (ms since the epoch); 0 otherwise.
#[no_mangle]
pub unsafe extern "C" fn ons_message_store_timestamp(message: *const OnsMessage, out: *mut i64) -> i32 {
    message_number("ons_message_store_timestamp", message, out, |m| {
        m.received.as_ref().map_or(0, |r| r.store_timestamp)
    })
}

/// Received messages: the queue id; -1 otherwise.
#[no_mangle]
pub unsafe extern "C" fn ons_message_queue_id(message: *const OnsMessage, out: *mut i32) -> i32 {
    message_number("ons_message_queue_id", message, out, |m| m.received.as_ref().map_or(-1, |r| r.queue_id))
}

/// Received messages: the offset in its queue; -1 otherwise.
#[no_mangle]
pub unsafe extern "C" fn ons_message_queue_offset(message: *const OnsMessage, out: *mut i64) -> i32 {
    message_number("ons_message_queue_offset", message, out, |m| m.received.as_ref().map_or(-1, |r| r.queue_offset))
}

/// Received messages: the offset in the broker's commit log; -1 otherwise.
#[no_mangle]
pub unsafe extern "C" fn ons_message_commit_log_offset(message: *const OnsMessage, out: *mut i64) -> i32 {
    message_number("ons_message_commit_log_offset", message, out, |m| {
        m.received.as_ref().map_or(-1, |r| r.commit_log_offset)
    })
}

// --------------------------------------------------------------------------- send results

/// The body of every string getter of a send result.
unsafe fn result_string(
    function: &str,
    result: *const OnsSendResult,
    out: *mut *const c_char,
    cell: fn(&OnsSendResult) -> &CStrCell,
    what: &str,
    value: fn(&SendResult) -> Option<&str>,
) -> i32 {
    guard(function, || {
        let out = args::out_str(out, "out")?;
        let res = args::obj(result, "result")?;
        *out = cell(res).get_opt(value(&res.result), what)?;
        Ok(())
    })
}

/// The message id (ONS SendResult.getMessageId): the id consumers see.
///
/// `*out` is owned by the result: valid until it is freed (for a result lent to a send
/// callback, until the callback returns).
#[no_mangle]
pub unsafe extern "C" fn ons_send_result_message_id(result: *const OnsSendResult, out: *mut *const c_char) -> i32 {
    result_string(
        "ons_send_result_message_id",
        result,
        out,
        |s| &s.message_id,
        "message id",
        |r| Some(r.message_id.as_str()),
    )
}

/// The topic sent to.
///
/// `*out` is owned by the result: valid until it is freed (for a result lent to a send
/// callback, until the callback returns).
#[no_mangle]
pub unsafe extern "C" fn ons_send_result_topic(result: *const OnsSendResult, out: *mut *const c_char) -> i32 {
    result_string("ons_send_result_topic", result, out, |s| &s.topic, "topic", |r| Some(&r.topic))
}

/// The broker that stored the message.
///
/// `*out` is owned by the result: valid until it is freed (for a result lent to a send
/// callback, until the callback returns).
#[no_mangle]
pub unsafe extern "C" fn ons_send_result_broker_name(result: *const OnsSendResult, out: *mut *const c_char) -> i32 {
    result_string(
        "ons_send_result_broker_name",
        result,
        out,
        |s| &s.broker_name,
        "broker name",
        |r| Some(&r.broker_name),
    )
}

/// The broker's offset message id (for admin lookups).
///
/// `*out` is owned by the result: valid until it is freed (for a result lent to a send
/// callback, until the callback returns).
#[no_mangle]
pub unsafe extern "C" fn ons_send_result_offset_msg_id(result: *const OnsSendResult, out: *mut *const c_char) -> i32 {
    result_string(
        "ons_send_result_offset_msg_id",
        result,
        out,
        |s| &s.offset_msg_id,
        "offset message id",
        |r| Some(r.offset_msg_id.as_str()),
    )
}

/// The transaction id of a transactional send; NULL otherwise.
///
/// `*out` is owned by the result: valid until it is freed (for a result lent to a send
/// callback, until the callback returns).
#[no_mangle]
pub unsafe extern "C" fn ons_send_result_transaction_id(result: *const OnsSendResult, out: *mut *const c_char) -> i32 {
    result_string(
        "ons_send_result_transaction_id",
        result,
        out,
        |s| &s.transaction_id,
        "transaction id",
        |r| r.transaction_id.as_deref(),
    )
}

/// The queue the message went to.
#[no_mangle]
pub unsafe extern "C" fn ons_send_result_queue_id(result: *const OnsSendResult, out: *mut i32) -> i32 {
    guard("ons_send_result_queue_id", || {
        let out = args::out(out, "out")?;
        *out = args::obj(result, "result")?.result.queue_id;
        Ok(())
    })
}

/// The message's offset in its queue.
#[no_mangle]
pub unsafe extern "C" fn ons_send_result_queue_offset(result: *const OnsSendResult, out: *mut i64) -> i32 {
    guard("ons_send_result_queue_offset", || {
        let out = args::out(out, "out")?;
        *out = args::obj(result, "result")?.result.queue_offset;
        Ok(())
    })
}

/// How the broker stored it: ONS_SEND_OK or one of the ONS_SEND_*_TIMEOUT / _NOT_AVAILABLE
/// values (the message is stored, but not yet as durably as the broker is configured for).
#[no_mangle]
pub unsafe extern "C" fn ons_send_result_status(result: *const OnsSendResult, out: *mut i32) -> i32 {
    guard("ons_send_result_status", || {
        let out = args::out(out, "out")?;
        *out = match args::obj(result, "result")?.result.status {
            SendStatus::SendOk => ONS_SEND_OK,
            SendStatus::FlushDiskTimeout => ONS_SEND_FLUSH_DISK_TIMEOUT,
            SendStatus::FlushSlaveTimeout => ONS_SEND_FLUSH_SLAVE_TIMEOUT,
            SendStatus::SlaveNotAvailable => ONS_SEND_SLAVE_NOT_AVAILABLE,
        };
        Ok(())
    })
}

/// Frees a send result returned by a send call. NULL is accepted. Never free a result lent to
/// a send callback.
#[no_mangle]
pub unsafe extern "C" fn ons_send_result_free(result: *mut OnsSendResult) -> i32 {
    guard("ons_send_result_free", || {
        if !result.is_null() {
            drop(Box::from_raw(result));
        }
        Ok(())
    })
}

// -------------------------------------------------------------------------- consume context

/// The queue a delivered message was pulled from: its topic (for messages delivered again
/// after a failure, the group's retry topic), broker name and queue id. The strings are owned
/// by the context and valid until the callback returns. Any out-parameter may be NULL.
#[no_mangle]
pub unsafe extern "C" fn ons_consume_context_queue(
    context: *const OnsConsumeContext,
    topic: *mut *const c_char,
    broker_name: *mut *const c_char,
    queue_id: *mut i32,
) -> i32 {
    guard("ons_consume_context_queue", || {
        let ctx = args::obj(context, "context")?;
        if let Some(t) = topic.as_mut() {
            *t = ctx.topic.as_ptr();
        }
        if let Some(b) = broker_name.as_mut() {
            *b = ctx.broker_name.as_ptr();
        }
        if let Some(q) = queue_id.as_mut() {
            *q = ctx.queue_id;
        }
        Ok(())
    })
}

pub(crate) unsafe fn core_message<'a>(message: *const OnsMessage, name: &str) -> Result<&'a Message> {
    Ok(args::obj(message, name)?.message())
}
