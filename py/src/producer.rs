//! `Producer`, `OrderProducer` and `TransactionProducer`. Sync sends release the GIL while
//! they wait; `send_async` returns an asyncio future (or calls a callback). Transaction
//! executors and checkers are Python callables (or coroutine functions) run on the runtime's
//! blocking threads, never on its workers.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use pyo3::IntoPyObjectExt;
use rocketmq_ons::{
    LocalTransactionChecker, Message, OrderProducer, Producer, Result as CoreResult, SendResult, TransactionProducer,
    TransactionStatus,
};

use crate::client::client_class;
use crate::completion::{self, helper, running_loop, Start};
use crate::errors::{send_err, to_py_err};
use crate::message::{PyMessage, PySendResult};
use crate::props;
use crate::runtime::{block_on, runtime, BoundHandle, InFlight};

/// The Python value of a send outcome of a message of `topic`: a SendResult, or the exception
/// (with `message_id` and `topic`).
fn send_outcome(topic: String) -> impl FnOnce(Python<'_>, CoreResult<SendResult>) -> PyResult<Py<PyAny>> + Send {
    move |py, r| r.map_err(|e| send_err(e, &topic)).and_then(|r| PySendResult::from(r).into_py_any(py))
}

/// Whether `callback` is an ONS `SendCallback` (`on_success(result)` and
/// `on_exception(context)`); else it must be a callable taking (result, exception).
fn check_send_callback(callback: &Bound<'_, PyAny>) -> PyResult<()> {
    let has = |name: &str| callback.hasattr(name);
    match (has("on_success")?, has("on_exception")?) {
        (true, true) => Ok(()),
        _ if callback.is_callable() => Ok(()),
        (true, false) | (false, true) => Err(PyTypeError::new_err(format!(
            "send_async: a SendCallback needs both on_success(result) and on_exception(context); {} has only {}",
            callback.get_type(),
            if has("on_success")? { "on_success" } else { "on_exception" }
        ))),
        (false, false) => Err(PyTypeError::new_err(format!(
            "send_async: callback must be a callable taking (result, exception), an object with \
             on_success(result) and on_exception(context) methods (a SendCallback), or None; got {}",
            callback.get_type()
        ))),
    }
}

fn messages(msgs: &Bound<'_, PyAny>) -> PyResult<Vec<Message>> {
    msgs.try_iter()?.map(|m| Ok(m?.cast::<PyMessage>()?.borrow().inner.clone())).collect()
}

client_class!(
    /// The ONS `Producer`: normal and timed messages; sync, async and oneway sends.
    PyProducer,
    "Producer",
    Producer,
    {
        #[new]
        #[pyo3(signature = (properties = None, **options))]
        fn new(properties: Option<&Bound<'_, PyAny>>, options: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
            let props = props::collect(properties, options)?;
            let producer = Producer::new(&props).map_err(to_py_err)?;
            Ok(Self { inner: BoundHandle::new("Producer", Arc::new(producer)) })
        }

        /// Sends and waits for the broker's answer (retrying on another broker when that may help).
        fn send(&self, py: Python<'_>, message: PyRef<'_, PyMessage>) -> PyResult<PySendResult> {
            let msg = message.inner.clone();
            drop(message);
            let producer = self.inner.get()?.clone();
            let topic = msg.topic.clone();
            block_on(py, async move { producer.send(&msg).await })?.map(Into::into).map_err(|e| send_err(e, &topic))
        }

        /// Sends without the sync retry policy. Without `callback`, returns an awaitable of the
        /// SendResult; with it, returns None and later calls, on a thread of the package,
        /// `callback(result, exception)`, or for an ONS `SendCallback` (an object with
        /// `on_success` and `on_exception`) `on_success(result)` or
        /// `on_exception(OnExceptionContext)`. A failure's exception has `message_id` and `topic`.
        #[pyo3(signature = (message, callback = None))]
        fn send_async(
            &self,
            py: Python<'_>,
            message: PyRef<'_, PyMessage>,
            callback: Option<Py<PyAny>>,
        ) -> PyResult<Py<PyAny>> {
            // Checked here: a wrong callback found only when the send completes can just be logged.
            if let Some(cb) = &callback {
                check_send_callback(cb.bind(py))?;
            }
            let msg = message.inner.clone();
            drop(message);
            let producer = self.inner.get()?.clone();
            let start = Start::for_send(&msg);
            let outcome = send_outcome(msg.topic.clone());
            let fut = async move { producer.send_async(&msg).await };
            match callback {
                Some(cb) => completion::spawn_callback(py, fut, cb, outcome).map(|()| py.None()),
                None => completion::spawn_future(py, start, fut, outcome),
            }
        }

        /// Sends without waiting for the broker (no result, no retry).
        fn send_oneway(&self, py: Python<'_>, message: PyRef<'_, PyMessage>) -> PyResult<()> {
            let msg = message.inner.clone();
            drop(message);
            let producer = self.inner.get()?.clone();
            let topic = msg.topic.clone();
            block_on(py, async move { producer.send_oneway(&msg).await })?.map_err(|e| send_err(e, &topic))
        }

        /// Sends messages of one topic in one request.
        fn send_batch(&self, py: Python<'_>, messages: &Bound<'_, PyAny>) -> PyResult<Vec<PySendResult>> {
            let msgs = self::messages(messages)?;
            let producer = self.inner.get()?.clone();
            let results = block_on(py, async move { producer.send_batch(&msgs).await })?.map_err(to_py_err)?;
            Ok(results.into_iter().map(Into::into).collect())
        }
    }
);

client_class!(
    /// The ONS `OrderProducer`: messages with the same sharding key go to the same queue.
    PyOrderProducer,
    "OrderProducer",
    OrderProducer,
    {
        #[new]
        #[pyo3(signature = (properties = None, **options))]
        fn new(properties: Option<&Bound<'_, PyAny>>, options: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
            let props = props::collect(properties, options)?;
            let producer = OrderProducer::new(&props).map_err(to_py_err)?;
            Ok(Self { inner: BoundHandle::new("OrderProducer", Arc::new(producer)) })
        }

        /// Sends to the queue of `sharding_key` and waits for the broker.
        fn send(&self, py: Python<'_>, message: PyRef<'_, PyMessage>, sharding_key: String) -> PyResult<PySendResult> {
            let msg = message.inner.clone();
            drop(message);
            let producer = self.inner.get()?.clone();
            let topic = msg.topic.clone();
            block_on(py, async move { producer.send(&msg, &sharding_key).await })?
                .map(Into::into)
                .map_err(|e| send_err(e, &topic))
        }

        /// `send` as an awaitable.
        fn send_async(&self, py: Python<'_>, message: PyRef<'_, PyMessage>, sharding_key: String) -> PyResult<Py<PyAny>> {
            let msg = message.inner.clone();
            drop(message);
            let producer = self.inner.get()?.clone();
            let start = Start::for_send(&msg);
            let outcome = send_outcome(msg.topic.clone());
            completion::spawn_future(py, start, async move { producer.send(&msg, &sharding_key).await }, outcome)
        }
    }
);

/// A transaction callback: the callable, and the loop coroutine results run on (None: their
/// own `asyncio.run`).
#[derive(Clone)]
struct Callback {
    func: Arc<Py<PyAny>>,
    event_loop: Option<Arc<Py<PyAny>>>,
}

impl Callback {
    /// `obj` itself when callable, else its `method` (an ONS-style class instance).
    fn new(py: Python<'_>, obj: &Bound<'_, PyAny>, method: &str, event_loop: Option<Py<PyAny>>) -> PyResult<Self> {
        let func = if obj.hasattr(method)? {
            obj.getattr(method)?
        } else if obj.is_callable() {
            obj.clone()
        } else {
            return Err(PyTypeError::new_err(format!("expected a callable or an object with a {method}() method")));
        };
        let _ = py;
        Ok(Callback { func: Arc::new(func.unbind()), event_loop: event_loop.map(Arc::new) })
    }

    /// Calls it on a blocking thread: `Unknow` if the interpreter is exiting, or the callable
    /// raised (logged by the helper) or returned something else than a TransactionStatus.
    async fn call(self, msg: Message, arg: Option<Arc<Py<PyAny>>>, what: &'static str) -> TransactionStatus {
        let joined = tokio::task::spawn_blocking(move || {
            let Some(_in_flight) = InFlight::enter() else { return TransactionStatus::Unknow };
            crate::runtime::keep_thread_state();
            Python::attach(|py| {
                let run = || -> PyResult<TransactionStatus> {
                    let message = Py::new(py, PyMessage { inner: msg })?;
                    let arg = arg.map(|a| a.clone_ref(py)).unwrap_or_else(|| py.None());
                    let event_loop = self.event_loop.as_ref().map(|l| l.clone_ref(py)).unwrap_or_else(|| py.None());
                    let status = helper(py, "run_transaction_callback")?.call1((
                        self.func.clone_ref(py),
                        event_loop,
                        message,
                        arg,
                        what,
                    ))?;
                    let name = status.cast::<PyString>()?;
                    Ok(match &*name.to_cow()? {
                        "CommitTransaction" => TransactionStatus::CommitTransaction,
                        "RollbackTransaction" => TransactionStatus::RollbackTransaction,
                        _ => TransactionStatus::Unknow,
                    })
                };
                run().unwrap_or_else(|e| {
                    e.print(py);
                    TransactionStatus::Unknow
                })
            })
        })
        .await;
        joined.unwrap_or(TransactionStatus::Unknow)
    }
}

struct PyChecker(Callback);

impl LocalTransactionChecker for PyChecker {
    fn check(&self, msg: Message) -> Pin<Box<dyn Future<Output = TransactionStatus> + Send + 'static>> {
        Box::pin(self.0.clone().call(msg, None, "transaction checker"))
    }
}

client_class!(
    /// The ONS `TransactionProducer`: half message, local transaction, commit or rollback, and
    /// the broker's check-back answered by `checker`.
    PyTransactionProducer,
    "TransactionProducer",
    TransactionProducer,
    {
        /// `checker(message) -> TransactionStatus` (or an object with `check(message)`; may be a
        /// coroutine function, run on the event loop running when the producer is created, else
        /// with its own `asyncio.run`).
        #[new]
        #[pyo3(signature = (properties = None, checker = None, **options))]
        fn new(
            py: Python<'_>,
            properties: Option<&Bound<'_, PyAny>>,
            checker: Option<&Bound<'_, PyAny>>,
            options: Option<&Bound<'_, PyDict>>,
        ) -> PyResult<Self> {
            let props = props::collect(properties, options)?;
            let checker = checker
                .filter(|c| !c.is_none())
                .ok_or_else(|| PyTypeError::new_err("a TransactionProducer needs a checker (LocalTransactionChecker)"))?;
            let checker = PyChecker(Callback::new(py, checker, "check", running_loop(py)?)?);
            let producer = TransactionProducer::new(&props, Arc::new(checker)).map_err(to_py_err)?;
            // Makes sure the runtime exists before the first check-back can arrive.
            runtime(py)?;
            Ok(Self { inner: BoundHandle::new("TransactionProducer", Arc::new(producer)) })
        }

        /// Sends `message` as a half message, runs `executor(message, arg)` (or
        /// `executor.execute(message, arg)`), and commits or rolls back by its TransactionStatus.
        #[pyo3(signature = (message, executor, arg = None))]
        fn send(
            &self,
            py: Python<'_>,
            message: PyRef<'_, PyMessage>,
            executor: &Bound<'_, PyAny>,
            arg: Option<Py<PyAny>>,
        ) -> PyResult<PySendResult> {
            let msg = message.inner.clone();
            drop(message);
            let executor = Callback::new(py, executor, "execute", None)?;
            let arg = arg.map(Arc::new);
            let producer = self.inner.get()?.clone();
            let topic = msg.topic.clone();
            block_on(py, async move {
                producer.send(&msg, move |m| executor.call(m, arg, "local transaction executor")).await
            })?
            .map(Into::into)
            .map_err(|e| send_err(e, &topic))
        }

        /// `send` as an awaitable; a coroutine executor runs on the running loop.
        #[pyo3(signature = (message, executor, arg = None))]
        fn send_async(
            &self,
            py: Python<'_>,
            message: PyRef<'_, PyMessage>,
            executor: &Bound<'_, PyAny>,
            arg: Option<Py<PyAny>>,
        ) -> PyResult<Py<PyAny>> {
            let msg = message.inner.clone();
            drop(message);
            let executor = Callback::new(py, executor, "execute", running_loop(py)?)?;
            let arg = arg.map(Arc::new);
            let producer = self.inner.get()?.clone();
            let outcome = send_outcome(msg.topic.clone());
            completion::spawn_future(
                py,
                Start::OnRuntime,
                async move { producer.send(&msg, move |m| executor.call(m, arg, "local transaction executor")).await },
                outcome,
            )
        }
    }
);
