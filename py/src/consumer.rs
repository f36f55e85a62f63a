//! `Consumer`, `OrderConsumer` and `BatchConsumer`. The core calls listeners on its blocking
//! threads (at most ConsumeThreadNums at a time); there the listener takes the GIL and calls the
//! Python callable, or, for a coroutine function, runs it on the event loop that was running at
//! `subscribe` and waits for it. A listener that raises (logged by the helper), returns None or
//! returns something else counts as failed: ReconsumeLater, or Suspend for ordered listeners.

use std::sync::Arc;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};
use rocketmq_ons::{
    Action, BatchConsumer, BatchMessageListener, ConsumeContext, ConsumeOrderContext, Consumer, Message,
    MessageListener, MessageOrderListener, MessageSelector, OrderAction, OrderConsumer,
};

use crate::client::client_class;
use crate::completion::{helper, running_loop};
use crate::errors::to_py_err;
use crate::message::{PyConsumeContext, PyMessage};
use crate::props;
use crate::runtime::{keep_thread_state, runtime, BoundHandle, InFlight};

/// A Python listener: the callable and, for coroutine functions, the loop they run on.
struct PyListener {
    func: Py<PyAny>,
    event_loop: Option<Py<PyAny>>,
    /// The name of the failure result, for the helper's log line.
    failure: &'static str,
}

impl PyListener {
    fn new(py: Python<'_>, listener: &Bound<'_, PyAny>, failure: &'static str) -> PyResult<Self> {
        let func = if listener.hasattr("consume")? {
            listener.getattr("consume")?
        } else if listener.is_callable() {
            listener.clone()
        } else {
            return Err(PyTypeError::new_err("a listener is a callable or an object with a consume() method"));
        };
        let is_async = helper(py, "is_async_callable")?.call1((&func,))?.is_truthy()?;
        let event_loop = if is_async {
            Some(running_loop(py)?.ok_or_else(|| {
                PyTypeError::new_err(
                    "an async listener runs on the event loop running at subscribe(); call subscribe() from a coroutine",
                )
            })?)
        } else {
            None
        };
        Ok(PyListener { func: func.unbind(), event_loop, failure })
    }

    /// Calls the listener with `message` (a Message or a list of them) and a ConsumeContext;
    /// the name of the result (`CommitMessage`, `Success`, ...), or None when it failed.
    fn call(
        &self,
        message: impl FnOnce(Python<'_>) -> PyResult<Py<PyAny>>,
        context: PyConsumeContext,
    ) -> Option<String> {
        let _in_flight = InFlight::enter()?;
        keep_thread_state();
        Python::attach(|py| {
            let run = || -> PyResult<Option<String>> {
                let (message, context) = (message(py)?, Py::new(py, context)?);
                let Some(event_loop) = &self.event_loop else {
                    // Sync listeners are called directly: this path runs once per message.
                    let result = match self.func.call1(py, (message, context)) {
                        Ok(r) => r,
                        Err(e) => {
                            helper(py, "listener_raised")?.call1((&self.func, e.into_value(py), self.failure))?;
                            return Ok(None);
                        }
                    };
                    // The result enums derive from str, so their members take this path too.
                    if let Ok(name) = result.bind(py).cast::<PyString>() {
                        return Ok(Some(name.to_cow()?.into_owned()));
                    }
                    let name = helper(py, "listener_result")?.call1((&self.func, py.None(), result, self.failure))?;
                    return Ok(name.cast::<PyString>().ok().map(|s| s.to_string()));
                };
                let result =
                    helper(py, "run_listener")?.call1((&self.func, event_loop, message, context, self.failure))?;
                Ok(result.cast::<PyString>().ok().map(|s| s.to_string()))
            };
            run().unwrap_or_else(|e| {
                e.print(py);
                None
            })
        })
    }
}

/// ONS `MessageSelector`: how `subscribe` selects a topic's messages, by tag expression
/// (`by_tag`) or by an SQL92 condition over user properties (`by_sql`; the broker must run with
/// `enablePropertyFilter=true`).
#[pyclass(module = "rocketmq_ons", name = "MessageSelector", frozen)]
pub(crate) struct PyMessageSelector {
    inner: MessageSelector,
}

#[pymethods]
impl PyMessageSelector {
    /// A tag expression: `*` for all, or tags separated by `||` (ONS `MessageSelector.byTag`).
    #[staticmethod]
    fn by_tag(expression: String) -> Self {
        PyMessageSelector { inner: MessageSelector::by_tag(expression) }
    }

    /// An SQL92 condition over user properties, e.g. `a BETWEEN 2 AND 5` (ONS
    /// `MessageSelector.bySql`).
    #[staticmethod]
    fn by_sql(sql: String) -> Self {
        PyMessageSelector { inner: MessageSelector::by_sql(sql) }
    }

    /// `TAG` or `SQL92` (the names of ONS `ExpressionType`).
    #[getter]
    fn expression_type(&self) -> &'static str {
        match self.inner {
            MessageSelector::Tag(_) => "TAG",
            MessageSelector::Sql92(_) => "SQL92",
        }
    }

    /// The tag expression or the SQL92 condition.
    #[getter]
    fn expression(&self) -> &str {
        match &self.inner {
            MessageSelector::Tag(e) | MessageSelector::Sql92(e) => e,
        }
    }

    fn __repr__(&self) -> String {
        match &self.inner {
            MessageSelector::Tag(e) => format!("MessageSelector.by_tag({e:?})"),
            MessageSelector::Sql92(e) => format!("MessageSelector.by_sql({e:?})"),
        }
    }
}

/// `subscribe`'s expression: a tag expression string or a MessageSelector.
pub(crate) fn selector(expression: &Bound<'_, PyAny>) -> PyResult<MessageSelector> {
    if let Ok(s) = expression.cast::<PyMessageSelector>() {
        return Ok(s.get().inner.clone());
    }
    if let Ok(tags) = expression.cast::<PyString>() {
        return Ok(MessageSelector::by_tag(tags.to_cow()?));
    }
    Err(PyTypeError::new_err(format!(
        "subscribe: expression must be a tag expression str or a MessageSelector (MessageSelector.by_sql(...)), not {}",
        expression.get_type()
    )))
}

/// One message for a listener: copied before the GIL is taken, so the GIL is held only to
/// wrap it.
fn one(msg: &Message) -> impl FnOnce(Python<'_>) -> PyResult<Py<PyAny>> {
    let msg = PyMessage { inner: msg.clone() };
    move |py| Ok(Py::new(py, msg)?.into_any())
}

struct Concurrent(PyListener);

impl MessageListener for Concurrent {
    fn consume(&self, message: &Message, context: &ConsumeContext) -> Action {
        Action::from_listener_answer(self.0.call(one(message), context.into()).as_deref())
    }
}

struct Orderly(PyListener);

impl MessageOrderListener for Orderly {
    fn consume(&self, message: &Message, context: &ConsumeOrderContext) -> OrderAction {
        OrderAction::from_listener_answer(self.0.call(one(message), context.into()).as_deref())
    }
}

struct Batch(PyListener);

impl BatchMessageListener for Batch {
    fn consume(&self, messages: &[Message], context: &ConsumeContext) -> Action {
        let msgs: Vec<PyMessage> = messages.iter().map(|m| PyMessage { inner: m.clone() }).collect();
        let list = move |py: Python<'_>| -> PyResult<Py<PyAny>> {
            let items = msgs.into_iter().map(|m| Py::new(py, m)).collect::<PyResult<Vec<_>>>()?;
            Ok(PyList::new(py, items)?.into_any().unbind())
        };
        Action::from_listener_answer(self.0.call(list, context.into()).as_deref())
    }
}

/// A consumer class: the shared lifecycle plus its constructor and `subscribe`/`unsubscribe`;
/// `$wrap` adapts a [`PyListener`] to the core's listener trait, `$failure` names the result a
/// failed call counts as.
macro_rules! consumer_class {
    ($(#[$doc:meta])* $name:ident, $pyname:literal, $core:ident, $wrap:ident, $failure:literal) => {
        client_class!(
            $(#[$doc])*
            $name,
            $pyname,
            $core,
            {
                #[new]
                #[pyo3(signature = (properties = None, **options))]
                fn new(
                    py: Python<'_>,
                    properties: Option<&Bound<'_, PyAny>>,
                    options: Option<&Bound<'_, PyDict>>,
                ) -> PyResult<Self> {
                    let props = props::collect(properties, options)?;
                    let consumer = $core::new(&props).map_err(to_py_err)?;
                    runtime(py)?;
                    Ok(Self { inner: BoundHandle::new($pyname, Arc::new(consumer)) })
                }

                /// Subscribes `topic` with a tag expression (`*` for all, or `a||b`) or a
                /// MessageSelector (`MessageSelector.by_sql(...)` for SQL92); before or after
                /// start. Subscribing again replaces the expression and the listener.
                #[pyo3(signature = (topic, expression = None, listener = None))]
                fn subscribe(
                    &self,
                    py: Python<'_>,
                    topic: &str,
                    expression: Option<&Bound<'_, PyAny>>,
                    listener: Option<&Bound<'_, PyAny>>,
                ) -> PyResult<()> {
                    let selector = match expression {
                        Some(e) => selector(e)?,
                        None => MessageSelector::by_tag("*"),
                    };
                    let listener = listener.ok_or_else(|| PyTypeError::new_err("subscribe() needs a listener"))?;
                    let listener = Arc::new($wrap(PyListener::new(py, listener, $failure)?));
                    self.inner.get()?.subscribe_with_selector(topic, &selector, listener).map_err(to_py_err)
                }

                /// Stops consuming `topic` (also while started).
                fn unsubscribe(&self, topic: &str) -> PyResult<()> {
                    self.inner.get()?.unsubscribe(topic).map_err(to_py_err)
                }
            }
        );
    };
}

consumer_class!(
    /// The ONS `Consumer`: `listener(message, context) -> Action`, called concurrently.
    PyConsumer,
    "Consumer",
    Consumer,
    Concurrent,
    "ReconsumeLater"
);

consumer_class!(
    /// The ONS `OrderConsumer`: `listener(message, context) -> OrderAction`, one message of a
    /// queue at a time, in queue order.
    PyOrderConsumer,
    "OrderConsumer",
    OrderConsumer,
    Orderly,
    "Suspend"
);

consumer_class!(
    /// The ONS `BatchConsumer`: `listener(messages, context) -> Action` with up to
    /// ConsumeMessageBatchMaxSize messages of one queue.
    PyBatchConsumer,
    "BatchConsumer",
    BatchConsumer,
    Batch,
    "ReconsumeLater"
);

/// Benchmark support (py/bench): consumes `messages` of `topic` with a core consumer whose
/// listener is Rust (counts only), so the Python listener path can be compared with the core's in
/// the same run. Returns (messages consumed, seconds).
#[pyfunction]
#[pyo3(name = "_core_consume_bench", signature = (topic, messages, timeout, properties = None, **options))]
pub(crate) fn core_consume_bench(
    py: Python<'_>,
    topic: &str,
    messages: usize,
    timeout: f64,
    properties: Option<&Bound<'_, PyAny>>,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<(usize, f64)> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    let props = props::collect(properties, options)?;
    let consumer = Arc::new(Consumer::new(&props).map_err(to_py_err)?);
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    let listener = move |_: &Message, _: &ConsumeContext| {
        seen.fetch_add(1, Ordering::Relaxed);
        Action::CommitMessage
    };
    consumer.subscribe(topic, "*", Arc::new(listener)).map_err(to_py_err)?;
    let started = Instant::now();
    crate::runtime::start(py, &consumer)?;
    let deadline = started + Duration::from_secs_f64(timeout);
    py.detach(|| {
        while count.load(Ordering::Relaxed) < messages && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
    });
    let secs = started.elapsed().as_secs_f64();
    let handle = consumer.clone();
    crate::runtime::block_on(py, async move { handle.shutdown().await })?;
    Ok((count.load(Ordering::Relaxed), secs))
}
