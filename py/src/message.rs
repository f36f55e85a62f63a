//! `Message`, `SendResult` and `ConsumeContext` as Python classes over the core types. Bodies
//! are `bytes` both ways (binary-safe); a `str` body is taken as UTF-8.

use std::collections::BTreeMap;

use bytes::Bytes;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyInt, PyString, PyTuple};
use rocketmq_ons::{ConsumeContext, ConsumeOrderContext, Message, SendResult};

use crate::errors::to_py_err;

/// A message to send, or one received.
#[pyclass(module = "rocketmq_ons", name = "Message")]
#[derive(Clone)]
pub(crate) struct PyMessage {
    pub(crate) inner: Message,
}

fn type_name(v: &Bound<'_, PyAny>) -> String {
    v.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "?".to_owned())
}

pub(crate) fn body_from_py(body: &Bound<'_, PyAny>) -> PyResult<Bytes> {
    if let Ok(b) = body.cast::<PyBytes>() {
        return Ok(Bytes::copy_from_slice(b.as_bytes()));
    }
    if let Ok(s) = body.cast::<PyString>() {
        return Ok(Bytes::copy_from_slice(s.to_cow()?.as_bytes()));
    }
    if body.is_instance_of::<PyInt>() {
        // bytes(5) would be five zero bytes, which nobody means by a body of 5.
        return Err(PyTypeError::new_err("message body must be bytes, bytearray, memoryview or str, not int"));
    }
    // bytearray, memoryview and other buffers, through bytes() (the buffer protocol is not in
    // the stable ABI before 3.11).
    let converted = body.py().get_type::<PyBytes>().call1((body,)).map_err(|_| {
        PyTypeError::new_err(format!(
            "message body must be bytes, bytearray, memoryview or str, not {}",
            type_name(body)
        ))
    })?;
    Ok(Bytes::copy_from_slice(converted.cast::<PyBytes>()?.as_bytes()))
}

#[pymethods]
impl PyMessage {
    /// ONS order: `Message(topic, tag, body)` and `Message(topic, tag, key, body)` as in
    /// Java's constructors, or any of them by keyword (`Message(topic, body=b"x", tag="A")`).
    /// `Message(topic, x)` is refused: it reads as the body in some clients and as the tag in
    /// others.
    #[new]
    #[pyo3(signature = (topic = String::new(), *args, body = None, tag = None, key = None, user_properties = None, start_deliver_time = None, sharding_key = None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        topic: String,
        args: &Bound<'_, PyTuple>,
        body: Option<&Bound<'_, PyAny>>,
        tag: Option<Bound<'_, PyAny>>,
        key: Option<Bound<'_, PyAny>>,
        user_properties: Option<&Bound<'_, PyDict>>,
        start_deliver_time: Option<i64>,
        sharding_key: Option<String>,
    ) -> PyResult<Self> {
        let (mut tag, mut key, mut body) = (tag, key, body.cloned());
        let positional: Vec<(&str, &mut Option<Bound<'_, PyAny>>)> = match args.len() {
            0 => Vec::new(),
            2 => vec![("tag", &mut tag), ("body", &mut body)],
            3 => vec![("tag", &mut tag), ("key", &mut key), ("body", &mut body)],
            n => {
                return Err(PyTypeError::new_err(format!(
                    "Message() takes Message(topic, tag, body) or Message(topic, tag, key, body) \
                     (the ONS order) or keywords; got {} positional arguments{}",
                    n + 1,
                    if n == 1 { ": give a lone body as Message(topic, body=...)" } else { "" }
                )))
            }
        };
        for ((name, slot), value) in positional.into_iter().zip(args.iter()) {
            if slot.is_some() {
                return Err(PyTypeError::new_err(format!("Message() got multiple values for {name}")));
            }
            *slot = Some(value);
        }
        let text = |what: &str, v: Option<Bound<'_, PyAny>>| -> PyResult<Option<String>> {
            match v {
                Some(v) if !v.is_none() => v.extract::<String>().map(Some).map_err(|_| {
                    PyTypeError::new_err(format!("message {what} must be a str or None, not {}", type_name(&v)))
                }),
                _ => Ok(None),
            }
        };
        let (tag, key) = (text("tag", tag)?, text("key", key)?);
        let body = match body {
            Some(b) if !b.is_none() => body_from_py(&b)?,
            _ => Bytes::new(),
        };
        let mut inner = Message::new(topic, tag.as_deref(), body);
        inner.key = key;
        inner.start_deliver_time = start_deliver_time;
        inner.sharding_key = sharding_key;
        if let Some(props) = user_properties {
            for (k, v) in props.iter() {
                inner.put_user_property(k.extract::<String>()?, v.extract::<String>()?).map_err(to_py_err)?;
            }
        }
        Ok(PyMessage { inner })
    }

    #[getter]
    fn topic(&self) -> &str {
        &self.inner.topic
    }

    #[setter]
    fn set_topic(&mut self, topic: String) {
        self.inner.topic = topic;
    }

    /// The body, as bytes.
    #[getter]
    fn body<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.body)
    }

    #[setter]
    fn set_body(&mut self, body: &Bound<'_, PyAny>) -> PyResult<()> {
        self.inner.body = body_from_py(body)?;
        Ok(())
    }

    #[getter]
    fn tag(&self) -> Option<&str> {
        self.inner.tag.as_deref()
    }

    #[setter]
    fn set_tag(&mut self, tag: Option<String>) {
        self.inner.tag = tag;
    }

    #[getter]
    fn key(&self) -> Option<&str> {
        self.inner.key.as_deref()
    }

    #[setter]
    fn set_key(&mut self, key: Option<String>) {
        self.inner.key = key;
    }

    /// The message id: set on received messages, and on the message a transaction executor gets.
    #[getter]
    fn msg_id(&self) -> Option<&str> {
        self.inner.msg_id.as_deref()
    }

    #[setter]
    fn set_msg_id(&mut self, msg_id: Option<String>) {
        self.inner.msg_id = msg_id;
    }

    #[getter]
    fn reconsume_times(&self) -> i32 {
        self.inner.reconsume_times
    }

    #[setter]
    fn set_reconsume_times(&mut self, value: i32) {
        self.inner.reconsume_times = value;
    }

    #[getter]
    fn born_timestamp(&self) -> Option<i64> {
        self.inner.born_timestamp
    }

    #[setter]
    fn set_born_timestamp(&mut self, value: Option<i64>) {
        self.inner.born_timestamp = value;
    }

    /// `ip:port` of the producer, on received messages.
    #[getter]
    fn born_host(&self) -> Option<String> {
        self.inner.born_host.map(|a| a.to_string())
    }

    /// Absolute delivery time in ms since the epoch (timed messages), or None.
    #[getter]
    fn start_deliver_time(&self) -> Option<i64> {
        self.inner.start_deliver_time
    }

    #[setter]
    fn set_start_deliver_time(&mut self, value: Option<i64>) {
        self.inner.start_deliver_time = value;
    }

    #[getter]
    fn sharding_key(&self) -> Option<&str> {
        self.inner.sharding_key.as_deref()
    }

    #[setter]
    fn set_sharding_key(&mut self, value: Option<String>) {
        self.inner.sharding_key = value;
    }

    /// ONS `putUserProperties`: adds a user property (system names are refused).
    fn put_user_properties(&mut self, key: String, value: String) -> PyResult<()> {
        self.inner.put_user_property(key, value).map_err(to_py_err)
    }

    /// ONS `getUserProperties`: one user property, or None.
    fn get_user_properties(&self, key: &str) -> Option<&str> {
        self.inner.user_property(key)
    }

    /// Every user property (a copy).
    #[getter(user_properties)]
    fn user_properties_map(&self) -> BTreeMap<String, String> {
        self.inner.user_properties().clone()
    }

    /// Received messages: the queue it was stored in, else None.
    #[getter]
    fn queue_id(&self) -> Option<i32> {
        self.inner.received.as_ref().map(|r| r.queue_id)
    }

    #[getter]
    fn queue_offset(&self) -> Option<i64> {
        self.inner.received.as_ref().map(|r| r.queue_offset)
    }

    #[getter]
    fn broker_name(&self) -> Option<&str> {
        self.inner.received.as_ref().map(|r| r.broker_name.as_str())
    }

    /// The broker's offset message id, on received messages.
    #[getter]
    fn offset_msg_id(&self) -> Option<&str> {
        self.inner.received.as_ref().map(|r| r.offset_msg_id.as_str())
    }

    #[getter]
    fn store_timestamp(&self) -> Option<i64> {
        self.inner.received.as_ref().map(|r| r.store_timestamp)
    }

    fn __repr__(&self) -> String {
        format!(
            "Message(topic={:?}, tag={:?}, key={:?}, msg_id={:?}, body=<{} bytes>)",
            self.inner.topic,
            self.inner.tag,
            self.inner.key,
            self.inner.msg_id,
            self.inner.body.len()
        )
    }
}

/// What a successful send returns.
#[pyclass(module = "rocketmq_ons", name = "SendResult", frozen, get_all)]
pub(crate) struct PySendResult {
    /// The message id (ONS `getMessageId`).
    message_id: String,
    topic: String,
    /// SEND_OK, FLUSH_DISK_TIMEOUT, FLUSH_SLAVE_TIMEOUT or SLAVE_NOT_AVAILABLE.
    status: &'static str,
    broker_name: String,
    queue_id: i32,
    queue_offset: i64,
    offset_msg_id: String,
    transaction_id: Option<String>,
}

impl From<SendResult> for PySendResult {
    fn from(r: SendResult) -> Self {
        PySendResult {
            message_id: r.message_id,
            topic: r.topic.to_string(),
            status: r.status.name(),
            broker_name: r.broker_name.to_string(),
            queue_id: r.queue_id,
            queue_offset: r.queue_offset,
            offset_msg_id: r.offset_msg_id,
            transaction_id: r.transaction_id,
        }
    }
}

#[pymethods]
impl PySendResult {
    fn __repr__(&self) -> String {
        format!(
            "SendResult(message_id={:?}, topic={:?}, status={}, broker_name={:?}, queue_id={}, queue_offset={})",
            self.message_id, self.topic, self.status, self.broker_name, self.queue_id, self.queue_offset
        )
    }

    /// The ONS `toString` form.
    fn __str__(&self) -> String {
        format!("SendResult[topic={}, messageId={}]", self.topic, self.message_id)
    }
}

/// Where a delivered message was pulled from. For a redelivered message the topic is the
/// group's retry topic (`%RETRY%<group>`), while the message's topic is the original.
#[pyclass(module = "rocketmq_ons", name = "ConsumeContext", frozen, get_all)]
pub(crate) struct PyConsumeContext {
    topic: String,
    broker_name: String,
    queue_id: i32,
}

impl From<&ConsumeContext> for PyConsumeContext {
    fn from(c: &ConsumeContext) -> Self {
        PyConsumeContext {
            topic: c.queue.topic.clone(),
            broker_name: c.queue.broker_name.clone(),
            queue_id: c.queue.queue_id,
        }
    }
}

impl From<&ConsumeOrderContext> for PyConsumeContext {
    fn from(c: &ConsumeOrderContext) -> Self {
        PyConsumeContext {
            topic: c.queue.topic.clone(),
            broker_name: c.queue.broker_name.clone(),
            queue_id: c.queue.queue_id,
        }
    }
}

#[pymethods]
impl PyConsumeContext {
    fn __repr__(&self) -> String {
        format!(
            "ConsumeContext(topic={:?}, broker_name={:?}, queue_id={})",
            self.topic, self.broker_name, self.queue_id
        )
    }
}
