//! `Message` (the ONS message, binary-safe `Buffer` body) and `SendResult` in JS shape. The
//! checks a message must pass (topic rules, body size, reserved properties) are the core's; this
//! module only moves fields across.

use std::collections::HashMap;

use napi::bindgen_prelude::*;
use napi::sys;
use napi_derive::napi;
use rocketmq_ons::consumer::DeliveredMessage;
use rocketmq_ons::message::ReceivedInfo;
use rocketmq_ons::Message as CoreMessage;

use crate::error;

/// A body as JS may give it: bytes, or a string sent as its UTF-8 bytes. The Buffer is only
/// borrowed for the call (its bytes are copied), so no reference to it is kept.
pub type Body<'a> = Either<BufferSlice<'a>, String>;

fn body_bytes(body: Body<'_>) -> Vec<u8> {
    match body {
        Either::A(buffer) => buffer.to_vec(),
        Either::B(text) => text.into_bytes(),
    }
}

/// A message to send, or one received. `new Message(topic, tag, body)` or
/// `new Message(topic, tag, key, body)` as in the ONS SDKs; the body is a `Buffer` (a string is
/// sent as UTF-8). Fields of received messages only (`queueId`, `storeTimestamp`, ...) are
/// `undefined` on messages built in JS.
#[napi]
#[derive(Clone)]
pub struct Message {
    inner: Inner,
}

/// The core message behind a JS `Message`: its own, or one a consumer delivered, shared with the
/// consumer (which keeps it for a retry) and copied only if JS changes it.
#[derive(Clone)]
// napi-rs boxes every class instance already; boxing `Own` too would cost a second allocation
// per `new Message()`.
#[allow(clippy::large_enum_variant)]
enum Inner {
    Own(CoreMessage),
    Delivered(DeliveredMessage),
}

impl std::ops::Deref for Inner {
    type Target = CoreMessage;

    fn deref(&self) -> &CoreMessage {
        match self {
            Inner::Own(m) => m,
            Inner::Delivered(m) => m,
        }
    }
}

impl std::ops::DerefMut for Inner {
    fn deref_mut(&mut self) -> &mut CoreMessage {
        if let Inner::Delivered(m) = self {
            *self = Inner::Own(CoreMessage::clone(m));
        }
        match self {
            Inner::Own(m) => m,
            Inner::Delivered(_) => unreachable!("made Own just above"),
        }
    }
}

#[napi]
impl Message {
    #[napi(
        constructor,
        ts_args_type = "topic?: string | null, tag?: string | null, keyOrBody?: Buffer | string | null, body?: Buffer | string | null"
    )]
    pub fn new(
        env: &Env,
        topic: Option<String>,
        tag: Option<String>,
        key_or_body: Option<Body<'_>>,
        body: Option<Body<'_>>,
    ) -> Result<Self> {
        let mut inner = CoreMessage::new(topic.unwrap_or_default(), tag.as_deref(), Vec::new());
        match (key_or_body, body) {
            (Some(Either::B(key)), Some(body)) => {
                inner.key = Some(key);
                inner.body = body_bytes(body).into();
            }
            (Some(Either::A(_)), Some(_)) => {
                return Err(error::invalid_argument(env, "new Message(topic, tag, key, body): key must be a string"))
            }
            (Some(body), None) => inner.body = body_bytes(body).into(),
            (None, Some(body)) => inner.body = body_bytes(body).into(),
            (None, None) => {}
        }
        Ok(Message { inner: Inner::Own(inner) })
    }

    #[napi(getter)]
    pub fn topic(&self) -> String {
        self.inner.topic.clone()
    }

    #[napi(setter)]
    pub fn set_topic(&mut self, topic: String) {
        self.inner.topic = topic;
    }

    #[napi(getter)]
    pub fn tag(&self) -> Option<String> {
        self.inner.tag.clone()
    }

    #[napi(setter)]
    pub fn set_tag(&mut self, tag: Option<String>) {
        self.inner.tag = tag;
    }

    /// Business key(s); several keys are separated by one space.
    #[napi(getter)]
    pub fn key(&self) -> Option<String> {
        self.inner.key.clone()
    }

    #[napi(setter)]
    pub fn set_key(&mut self, key: Option<String>) {
        self.inner.key = key;
    }

    /// The body, byte-exact. Each read returns a fresh copy.
    #[napi(getter)]
    pub fn body(&self) -> Buffer {
        Buffer::from(self.inner.body.to_vec())
    }

    #[napi(setter, ts_args_type = "body: Buffer | string")]
    pub fn set_body(&mut self, body: Body<'_>) {
        self.inner.body = body_bytes(body).into();
    }

    /// The message id (set by a send on the message it sent, and on received messages).
    #[napi(getter)]
    pub fn msg_id(&self) -> Option<String> {
        self.inner.msg_id.clone()
    }

    #[napi(getter)]
    pub fn reconsume_times(&self) -> i32 {
        self.inner.reconsume_times
    }

    #[napi(getter)]
    pub fn born_timestamp(&self) -> Option<i64> {
        self.inner.born_timestamp
    }

    #[napi(getter)]
    pub fn born_host(&self) -> Option<String> {
        self.inner.born_host.map(|a| a.to_string())
    }

    /// Absolute delivery time in ms since the epoch (timed messages; at most 40 days ahead).
    #[napi(getter)]
    pub fn start_deliver_time(&self) -> Option<i64> {
        self.inner.start_deliver_time
    }

    #[napi(setter)]
    pub fn set_start_deliver_time(&mut self, at: Option<i64>) {
        self.inner.start_deliver_time = at;
    }

    #[napi(getter)]
    pub fn sharding_key(&self) -> Option<String> {
        self.inner.sharding_key.clone()
    }

    #[napi(setter)]
    pub fn set_sharding_key(&mut self, key: Option<String>) {
        self.inner.sharding_key = key;
    }

    /// Adds a user property; keys the system reserves are refused (`INVALID_ARGUMENT`).
    #[napi]
    pub fn put_user_properties(&mut self, env: &Env, key: String, value: String) -> Result<()> {
        self.inner.put_user_property(key, value).map_err(|e| error::to_js(env, &e))
    }

    #[napi]
    pub fn get_user_properties(&self, key: String) -> Option<String> {
        self.inner.user_property(&key).map(str::to_owned)
    }

    /// Every user property, as a plain object.
    #[napi(getter)]
    pub fn user_properties(&self) -> HashMap<String, String> {
        self.inner.user_properties().iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }

    /// Received messages: the queue the message was stored in.
    #[napi(getter)]
    pub fn queue_id(&self) -> Option<i32> {
        self.received().map(|r| r.queue_id)
    }

    #[napi(getter)]
    pub fn queue_offset(&self) -> Option<i64> {
        self.received().map(|r| r.queue_offset)
    }

    #[napi(getter)]
    pub fn store_timestamp(&self) -> Option<i64> {
        self.received().map(|r| r.store_timestamp)
    }

    #[napi(getter)]
    pub fn broker_name(&self) -> Option<String> {
        self.received().map(|r| r.broker_name.clone())
    }

    /// The broker's offset message id (store host and commit-log offset).
    #[napi(getter)]
    pub fn offset_msg_id(&self) -> Option<String> {
        self.received().map(|r| r.offset_msg_id.clone())
    }

    #[napi(js_name = "toString")]
    pub fn describe(&self) -> String {
        format!(
            "Message[topic={}, tag={}, key={}, msgId={}, body={} bytes]",
            self.inner.topic,
            self.inner.tag.as_deref().unwrap_or(""),
            self.inner.key.as_deref().unwrap_or(""),
            self.inner.msg_id.as_deref().unwrap_or(""),
            self.inner.body.len()
        )
    }
}

impl Message {
    fn received(&self) -> Option<&ReceivedInfo> {
        self.inner.received.as_ref()
    }

    /// A copy for the core to send (JS may change or reuse this object meanwhile).
    pub(crate) fn to_core(&self) -> CoreMessage {
        CoreMessage::clone(&self.inner)
    }
}

impl From<CoreMessage> for Message {
    fn from(inner: CoreMessage) -> Self {
        Message { inner: Inner::Own(inner) }
    }
}

impl From<DeliveredMessage> for Message {
    fn from(inner: DeliveredMessage) -> Self {
        Message { inner: Inner::Delivered(inner) }
    }
}

/// The result of a successful send.
#[napi(object, object_to_js = false)]
pub struct SendResult {
    /// The message id (as ONS reports it).
    pub message_id: String,
    pub topic: String,
    /// `SEND_OK`, or a flush/slave status the broker reported.
    pub status: String,
    pub broker_name: String,
    pub queue_id: i32,
    pub queue_offset: i64,
    pub offset_msg_id: String,
    pub transaction_id: Option<String>,
}

impl From<rocketmq_ons::SendResult> for SendResult {
    fn from(r: rocketmq_ons::SendResult) -> Self {
        SendResult {
            message_id: r.message_id,
            topic: r.topic,
            status: r.status.name().to_owned(),
            broker_name: r.broker_name,
            queue_id: r.queue_id,
            queue_offset: r.queue_offset,
            offset_msg_id: r.offset_msg_id,
            transaction_id: r.transaction_id,
        }
    }
}

/// Made by a small JS function (compiled once per JS thread) from the field values: an object
/// literal in compiled JS costs a fraction of setting eight properties through Node-API, which
/// took about as much time on the JS thread as the rest of a `send()`.
const SEND_RESULT_JS: &str = "(function (messageId, topic, status, brokerName, queueId, queueOffset, offsetMsgId, \
     transactionId) { return transactionId === undefined \
     ? { messageId, topic, status, brokerName, queueId, queueOffset, offsetMsgId } \
     : { messageId, topic, status, brokerName, queueId, queueOffset, offsetMsgId, transactionId } })";

impl ToNapiValue for SendResult {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        let js_env = Env::from_raw(env);
        let make = crate::js_thread::script_function(&js_env, "SendResult", SEND_RESULT_JS)?;
        // SAFETY (this block): on the JS thread of `env`; every value is made in this env.
        unsafe {
            let mut undefined = std::ptr::null_mut();
            check_status!(sys::napi_get_undefined(env, &mut undefined))?;
            let args = [
                String::to_napi_value(env, val.message_id)?,
                String::to_napi_value(env, val.topic)?,
                String::to_napi_value(env, val.status)?,
                String::to_napi_value(env, val.broker_name)?,
                i32::to_napi_value(env, val.queue_id)?,
                i64::to_napi_value(env, val.queue_offset)?,
                String::to_napi_value(env, val.offset_msg_id)?,
                match val.transaction_id {
                    Some(id) => String::to_napi_value(env, id)?,
                    None => undefined,
                },
            ];
            let mut object = std::ptr::null_mut();
            check_status!(sys::napi_call_function(env, undefined, make, args.len(), args.as_ptr(), &mut object))?;
            Ok(object)
        }
    }
}

/// Where a delivered message was pulled from (the ONS consume context).
#[napi(object)]
pub struct ConsumeContext {
    pub topic: String,
    pub broker_name: String,
    pub queue_id: i32,
}

impl From<&rocketmq_ons::protocol::route::MessageQueue> for ConsumeContext {
    fn from(q: &rocketmq_ons::protocol::route::MessageQueue) -> Self {
        ConsumeContext { topic: q.topic.clone(), broker_name: q.broker_name.clone(), queue_id: q.queue_id }
    }
}
