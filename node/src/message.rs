//! `Message` (the ONS message, binary-safe `Buffer` body) and `SendResult` in JS shape. The
//! checks a message must pass (topic rules, body size, reserved properties) are the core's; this
//! module only moves fields across.
//!
//! Two kinds of JS object are a `Message`: the native class, for messages built in JS, and
//! `ReceivedMessage` (`received_message.js`), for messages the broker delivered, whose fields
//! are JS values made once at delivery ([`Received`]). Producers take either ([`Outgoing`]).

use std::collections::HashMap;

use napi::bindgen_prelude::*;
use napi::sys;
use napi::ValueType;
use napi_derive::napi;
use rocketmq_ons::message::ReceivedInfo;
use rocketmq_ons::Message as CoreMessage;

use crate::js_call::typeof_name;
use crate::js_thread::{copy_to_js, script_function, thread_value};
use crate::{args, error};

/// A body as JS may give it: bytes, or a string sent as its UTF-8 bytes. The Buffer is only
/// borrowed for the call (its bytes are copied), so no reference to it is kept.
pub type Body<'a> = Either<BufferSlice<'a>, String>;

/// An optional body argument: a Buffer or a string; `undefined` and `null` are `None`.
fn optional_body<'a>(env: &Env, value: Option<Unknown<'a>>, what: &str) -> Result<Option<Body<'a>>> {
    let Some(value) = value else { return Ok(None) };
    match value.get_type()? {
        ValueType::Undefined | ValueType::Null => Ok(None),
        // SAFETY: a string value of this env.
        ValueType::String => unsafe { String::from_napi_value(env.raw(), value.raw()) }.map(|s| Some(Either::B(s))),
        // SAFETY: an object of this env, borrowed for the call if it is a Buffer.
        ValueType::Object => unsafe { BufferSlice::from_napi_value(env.raw(), value.raw()) }
            .map(|b| Some(Either::A(b)))
            .map_err(|_| error::type_error(env, format!("{what} must be a Buffer or a string; got an object"))),
        other => {
            Err(error::type_error(env, format!("{what} must be a Buffer or a string; got {}", typeof_name(other))))
        }
    }
}

fn body_bytes(body: Body<'_>) -> Vec<u8> {
    match body {
        Either::A(buffer) => buffer.to_vec(),
        Either::B(text) => text.into_bytes(),
    }
}

/// A message to send. `new Message(topic, tag, body)` or `new Message(topic, tag, key, body)` as
/// in the ONS SDKs; the body is a `Buffer` (a string is sent as UTF-8). Messages a consumer, a
/// transaction check-back or `Admin.viewMessage` delivers are `Message`s too (`instanceof`
/// holds, every member works, a producer sends them again) but made in JS: their fields of
/// received messages only (`queueId`, `storeTimestamp`, ...) are set, and on messages built here
/// they are `null`.
#[napi]
pub struct Message {
    // napi-rs boxes every class instance already.
    inner: CoreMessage,
}

#[napi]
impl Message {
    #[napi(
        constructor,
        ts_args_type = "topic?: string | null, tag?: string | null, keyOrBody?: Buffer | string | null, body?: Buffer | string | null"
    )]
    pub fn new(
        env: &Env,
        topic: Option<Unknown<'_>>,
        tag: Option<Unknown<'_>>,
        key_or_body: Option<Unknown<'_>>,
        body: Option<Unknown<'_>>,
    ) -> Result<Self> {
        let topic = args::optional_string(env, topic, "new Message: topic")?;
        let tag = args::optional_string(env, tag, "new Message: tag")?;
        let key_or_body = optional_body(env, key_or_body, "new Message: keyOrBody")?;
        let body = optional_body(env, body, "new Message: body")?;
        let mut inner = CoreMessage::new(topic.unwrap_or_default(), tag.as_deref(), Vec::new());
        match (key_or_body, body) {
            (Some(Either::B(key)), Some(body)) => {
                inner.key = Some(key);
                inner.body = body_bytes(body).into();
            }
            (Some(Either::A(_)), Some(_)) => {
                return Err(error::type_error(env, "new Message(topic, tag, key, body): key must be a string"))
            }
            (Some(body), None) => inner.body = body_bytes(body).into(),
            (None, Some(body)) => inner.body = body_bytes(body).into(),
            (None, None) => {}
        }
        Ok(Message { inner })
    }

    #[napi(getter)]
    pub fn topic(&self) -> String {
        self.inner.topic.clone()
    }

    #[napi(setter, ts_args_type = "topic: string")]
    pub fn set_topic(&mut self, env: &Env, topic: Unknown<'_>) -> Result<()> {
        self.inner.topic = args::string(env, topic, "Message.topic")?;
        Ok(())
    }

    #[napi(getter)]
    pub fn tag(&self) -> Option<String> {
        self.inner.tag.clone()
    }

    #[napi(setter, ts_args_type = "tag: string | undefined | null")]
    pub fn set_tag(&mut self, env: &Env, tag: Unknown<'_>) -> Result<()> {
        self.inner.tag = args::optional_string(env, Some(tag), "Message.tag")?;
        Ok(())
    }

    /// Business key(s); several keys are separated by one space.
    #[napi(getter)]
    pub fn key(&self) -> Option<String> {
        self.inner.key.clone()
    }

    #[napi(setter, ts_args_type = "key: string | undefined | null")]
    pub fn set_key(&mut self, env: &Env, key: Unknown<'_>) -> Result<()> {
        self.inner.key = args::optional_string(env, Some(key), "Message.key")?;
        Ok(())
    }

    /// The body, byte-exact. On a message built with `new Message` each read returns a fresh
    /// copy; a received message returns its own Buffer (made once, at delivery).
    #[napi(getter)]
    pub fn body(&self) -> Buffer {
        Buffer::from(self.inner.body.to_vec())
    }

    #[napi(setter, ts_args_type = "body: Buffer | string")]
    pub fn set_body(&mut self, env: &Env, body: Unknown<'_>) -> Result<()> {
        let body = optional_body(env, Some(body), "Message.body")?;
        let body = body.ok_or_else(|| error::type_error(env, "Message.body must be a Buffer or a string; got null"))?;
        self.inner.body = body_bytes(body).into();
        Ok(())
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

    #[napi(setter, ts_args_type = "at: number | undefined | null")]
    pub fn set_start_deliver_time(&mut self, env: &Env, at: Unknown<'_>) -> Result<()> {
        self.inner.start_deliver_time = args::optional_integer(env, Some(at), "Message.startDeliverTime")?;
        Ok(())
    }

    #[napi(getter)]
    pub fn sharding_key(&self) -> Option<String> {
        self.inner.sharding_key.clone()
    }

    #[napi(setter, ts_args_type = "key: string | undefined | null")]
    pub fn set_sharding_key(&mut self, env: &Env, key: Unknown<'_>) -> Result<()> {
        self.inner.sharding_key = args::optional_string(env, Some(key), "Message.shardingKey")?;
        Ok(())
    }

    /// Adds a user property; keys the system reserves are refused (`INVALID_ARGUMENT`).
    #[napi(ts_args_type = "key: string, value: string")]
    pub fn put_user_properties(&mut self, env: &Env, key: Unknown<'_>, value: Unknown<'_>) -> Result<()> {
        let key = args::string(env, key, "putUserProperties: key")?;
        let value = args::string(env, value, "putUserProperties: value")?;
        self.inner.put_user_property(key, value).map_err(|e| error::to_js(env, &e))
    }

    #[napi(ts_args_type = "key: string")]
    pub fn get_user_properties(&self, env: &Env, key: Unknown<'_>) -> Result<Option<String>> {
        let key = args::string(env, key, "getUserProperties: key")?;
        Ok(self.inner.user_property(&key).map(str::to_owned))
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
}

impl From<CoreMessage> for Message {
    fn from(inner: CoreMessage) -> Self {
        Message { inner }
    }
}

// ------------------------------------------------------------------------- received messages

/// The class received messages are made of in JS, with the function producers read them by.
const RECEIVED_MESSAGE_JS: &str = include_str!("received_message.js");

/// A message the broker delivered, on its way to JS: there it becomes a `ReceivedMessage`
/// (`received_message.js`), whose fields are JS values made here, once, so the JS object owns no
/// native memory.
pub struct Received(pub CoreMessage);

impl ToNapiValue for Received {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        received_value(&Env::from_raw(env), &val.0)
    }
}

impl TypeName for Received {
    fn type_name() -> &'static str {
        "Message"
    }

    fn value_type() -> ValueType {
        ValueType::Object
    }
}

/// `[ReceivedMessage, fieldsToSend]`, made once per JS thread from the script, the prototype of
/// the native `Message` class (which received messages inherit) and the core's user-property
/// check.
fn received_kit_element(env: &Env, index: u32) -> Result<sys::napi_value> {
    let kit = thread_value(env, "ReceivedMessage kit", |env| {
        let factory = script_function(env, "ReceivedMessage factory", RECEIVED_MESSAGE_JS)?;
        let check =
            env.create_function_from_closure::<FnArgs<(String, String)>, (), _>("checkUserProperty", |ctx| {
                let (key, value) = (ctx.get::<String>(0)?, ctx.get::<String>(1)?);
                CoreMessage::default().put_user_property(key, value).map_err(|e| error::to_js(ctx.env, &e))
            })?;
        // SAFETY (this block): on the JS thread of `env`; every value is of this env.
        unsafe {
            // The prototype of a native instance is Message.prototype.
            let sample = Message::from(CoreMessage::default()).into_instance(env)?;
            let mut prototype = std::ptr::null_mut();
            check_status!(sys::napi_get_prototype(env.raw(), sample.raw(), &mut prototype))?;
            let mut undefined = std::ptr::null_mut();
            check_status!(sys::napi_get_undefined(env.raw(), &mut undefined))?;
            let args = [prototype, check.raw()];
            let mut kit = std::ptr::null_mut();
            check_status!(sys::napi_call_function(env.raw(), undefined, factory, 2, args.as_ptr(), &mut kit))?;
            Ok(kit)
        }
    })?;
    let mut element = std::ptr::null_mut();
    // SAFETY: the kit is an array of this env.
    check_status!(unsafe { sys::napi_get_element(env.raw(), kit, index, &mut element) })?;
    Ok(element)
}

/// Makes the JS object of a received message (call on the JS thread of `env`).
pub(crate) fn received_value(env: &Env, m: &CoreMessage) -> Result<sys::napi_value> {
    let class = thread_value(env, "ReceivedMessage", |env| received_kit_element(env, 0))?;
    let raw = env.raw();
    let received = m.received.as_ref();
    // SAFETY (this block): on the JS thread of `env`; every value is made in this env, and the
    // pointers handed to Node-API are valid for the lengths given.
    unsafe {
        let mut null = std::ptr::null_mut();
        check_status!(sys::napi_get_null(raw, &mut null))?;
        let text = |t: &str| -> Result<sys::napi_value> {
            let mut value = std::ptr::null_mut();
            let (data, len) = (t.as_ptr().cast(), t.len() as isize);
            // ASCII (ids, topics, tags as a rule) is the same in Latin-1, which V8 copies as is
            // instead of decoding.
            if t.is_ascii() {
                check_status!(sys::napi_create_string_latin1(raw, data, len, &mut value))?;
            } else {
                check_status!(sys::napi_create_string_utf8(raw, data, len, &mut value))?;
            }
            Ok(value)
        };
        let maybe_text = |t: Option<&str>| t.map_or(Ok(null), text);
        let int64 = |n: Option<i64>| -> Result<sys::napi_value> {
            let Some(n) = n else { return Ok(null) };
            let mut value = std::ptr::null_mut();
            check_status!(sys::napi_create_int64(raw, n, &mut value))?;
            Ok(value)
        };
        let (body_memory, body_offset) = copy_to_js(env, &m.body)?;
        let size = |n: usize| int64(i64::try_from(n).ok());
        // "ip:port" fits on the stack (an IPv6 address with scope and port is under 64 bytes).
        let mut host_text = [0u8; 64];
        let born_host = match m.born_host {
            Some(address) => {
                let written = {
                    let mut cursor = std::io::Cursor::new(&mut host_text[..]);
                    std::io::Write::write_fmt(&mut cursor, format_args!("{address}"))
                        .map(|()| cursor.position() as usize)
                };
                written.ok().and_then(|len| std::str::from_utf8(&host_text[..len]).ok())
            }
            None => None,
        };
        let properties = m.user_properties();
        let properties = if properties.is_empty() {
            null
        } else {
            let mut list = std::ptr::null_mut();
            check_status!(sys::napi_create_array_with_length(raw, properties.len() * 2, &mut list))?;
            for (i, (k, v)) in properties.iter().enumerate() {
                check_status!(sys::napi_set_element(raw, list, 2 * i as u32, text(k)?))?;
                check_status!(sys::napi_set_element(raw, list, 2 * i as u32 + 1, text(v)?))?;
            }
            list
        };
        // In the order of the ReceivedMessage constructor's parameters.
        let args = [
            text(&m.topic)?,
            maybe_text(m.tag.as_deref())?,
            maybe_text(m.key.as_deref())?,
            body_memory,
            size(body_offset)?,
            size(m.body.len())?,
            maybe_text(m.msg_id.as_deref())?,
            int64(Some(m.reconsume_times.into()))?,
            int64(m.born_timestamp)?,
            maybe_text(born_host)?,
            int64(m.start_deliver_time)?,
            maybe_text(m.sharding_key.as_deref())?,
            int64(received.map(|r| r.queue_id.into()))?,
            int64(received.map(|r| r.queue_offset))?,
            int64(received.map(|r| r.store_timestamp))?,
            maybe_text(received.map(|r| r.broker_name.as_str()))?,
            maybe_text(received.map(|r| r.offset_msg_id.as_str()))?,
            properties,
        ];
        let mut object = std::ptr::null_mut();
        check_status!(sys::napi_new_instance(raw, class, args.len(), args.as_ptr(), &mut object))?;
        Ok(object)
    }
}

/// A message given to a producer: a `Message` built in JS, or a received one being sent again.
/// Either way the core gets its own copy (JS may change or reuse the object meanwhile).
pub struct Outgoing(pub CoreMessage);

impl FromNapiValue for Outgoing {
    unsafe fn from_napi_value(env: sys::napi_env, value: sys::napi_value) -> Result<Self> {
        // SAFETY: napi-rs checks the object's type tag before unwrapping it.
        if let Ok(native) = unsafe { <&Message>::from_napi_value(env, value) } {
            return Ok(Outgoing(native.inner.clone()));
        }
        let js_env = Env::from_raw(env);
        let fields_to_send = thread_value(&js_env, "ReceivedMessage.fieldsToSend", |env| received_kit_element(env, 1))?;
        // SAFETY (this block): on the JS thread of `env`; `value` and every value read are of
        // this env.
        unsafe {
            let mut undefined = std::ptr::null_mut();
            check_status!(sys::napi_get_undefined(env, &mut undefined))?;
            let mut fields = std::ptr::null_mut();
            check_status!(sys::napi_call_function(env, undefined, fields_to_send, 1, &value, &mut fields))?;
            let mut is_array = false;
            check_status!(sys::napi_is_array(env, fields, &mut is_array))?;
            if !is_array {
                return Err(error::invalid_argument(
                    &js_env,
                    "expected a Message (made with `new Message` or received)",
                ));
            }
            let field = |i: u32| -> Result<sys::napi_value> {
                let mut v = std::ptr::null_mut();
                check_status!(sys::napi_get_element(env, fields, i, &mut v))?;
                Ok(v)
            };
            let topic = String::from_napi_value(env, field(0)?)?;
            let tag = Option::<String>::from_napi_value(env, field(1)?)?;
            let body = BufferSlice::from_napi_value(env, field(3)?)?;
            let mut m = CoreMessage::new(topic, tag.as_deref(), body.to_vec());
            m.key = Option::<String>::from_napi_value(env, field(2)?)?;
            m.start_deliver_time = Option::<i64>::from_napi_value(env, field(4)?)?;
            m.sharding_key = Option::<String>::from_napi_value(env, field(5)?)?;
            let properties = Option::<Vec<String>>::from_napi_value(env, field(6)?)?.unwrap_or_default();
            for pair in properties.chunks_exact(2) {
                m.put_user_property(pair[0].clone(), pair[1].clone()).map_err(|e| error::to_js(&js_env, &e))?;
            }
            Ok(Outgoing(m))
        }
    }
}

impl TypeName for Outgoing {
    fn type_name() -> &'static str {
        "Message"
    }

    fn value_type() -> ValueType {
        ValueType::Object
    }
}

impl ValidateNapiValue for Outgoing {}

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
            topic: r.topic.to_string(),
            status: r.status.name().to_owned(),
            broker_name: r.broker_name.to_string(),
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

impl From<&rocketmq_ons::MessageQueue> for ConsumeContext {
    fn from(q: &rocketmq_ons::MessageQueue) -> Self {
        ConsumeContext { topic: q.topic.clone(), broker_name: q.broker_name.clone(), queue_id: q.queue_id }
    }
}
