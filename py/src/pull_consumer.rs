//! `PullConsumer`: the core's pull consumer (`ons::PullConsumer`, ONS `PullConsumer` with
//! `DefaultLitePullConsumer` semantics). Calls that wait for brokers come as a sync method,
//! which releases the GIL while it waits, and as `<name>_async`, an awaitable of the same
//! result (as `Admin`'s). Iterating the consumer (`for` / `async for`) yields the non-empty
//! batches `poll` returns until the consumer is shut down. Every check is the core's except
//! the translation of `timeout` (seconds) here.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use pyo3::exceptions::{PyStopAsyncIteration, PyStopIteration, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use pyo3::IntoPyObjectExt;
use rocketmq_ons::consumer::TopicPartitionChangeListener;
use rocketmq_ons::{Error, ErrorKind, MessageQueue, PullConsumer};

use crate::admin::messages;
use crate::admin_types::PyMessageQueue;
use crate::client::client_class;
use crate::completion::{self, Start};
use crate::consumer::selector;
use crate::errors::to_py_err;
use crate::message::PyMessage;
use crate::props;
use crate::runtime::{block_on, keep_thread_state, runtime, BoundHandle, InFlight};

/// `fut`'s outcome, waited for with the GIL released.
fn wait<T: Send>(py: Python<'_>, fut: impl Future<Output = rocketmq_ons::Result<T>> + Send) -> PyResult<T> {
    block_on(py, fut)?.map_err(to_py_err)
}

/// An awaitable of `fut`'s outcome.
fn awaitable<T>(
    py: Python<'_>,
    fut: impl Future<Output = rocketmq_ons::Result<T>> + Send + 'static,
) -> PyResult<Py<PyAny>>
where
    T: for<'py> IntoPyObject<'py> + Send + 'static,
{
    completion::spawn_future(py, Start::OnRuntime, fut, |py, outcome: rocketmq_ons::Result<T>| {
        outcome.map_err(to_py_err)?.into_py_any(py)
    })
}

fn queues(list: Vec<PyRef<'_, PyMessageQueue>>) -> Vec<MessageQueue> {
    list.iter().map(|q| MessageQueue::from(&**q)).collect()
}

fn py_queues(list: Vec<MessageQueue>) -> Vec<PyMessageQueue> {
    list.into_iter().map(Into::into).collect()
}

/// `poll`'s timeout in seconds (None: the consumer's pollTimeoutMillis).
fn poll_timeout(timeout: Option<f64>) -> PyResult<Option<Duration>> {
    timeout
        .map(|secs| {
            Duration::try_from_secs_f64(secs).map_err(|_| {
                to_py_err(Error::new(
                    ErrorKind::InvalidArgument,
                    format!("poll: timeout must be a non-negative number of seconds, not {secs}"),
                ))
            })
        })
        .transpose()
}

async fn poll(consumer: Arc<PullConsumer>, timeout: Option<Duration>) -> rocketmq_ons::Result<Vec<PyMessage>> {
    match timeout {
        Some(t) => consumer.poll(t).await,
        None => consumer.poll_default().await,
    }
    .map(messages)
}

/// The next non-empty batch, polling until one comes (`until_batch`) or once (an empty batch
/// then); None once the consumer is shut down (the iteration's end).
async fn next_batch(consumer: Arc<PullConsumer>, until_batch: bool) -> rocketmq_ons::Result<Option<Vec<PyMessage>>> {
    loop {
        if consumer.is_closed() {
            return Ok(None);
        }
        match consumer.poll_default().await {
            Ok(batch) if batch.is_empty() && until_batch => continue,
            Ok(batch) => return Ok(Some(messages(batch))),
            // Shut down while this poll waited.
            Err(_) if consumer.is_closed() => return Ok(None),
            Err(e) => return Err(e),
        }
    }
}

/// A Python callable told of a topic's queues: called on a blocking thread of the runtime,
/// with the GIL; what it raises is printed (the core has nobody to report it to).
struct PyPartitionListener(Py<PyAny>);

impl TopicPartitionChangeListener for PyPartitionListener {
    fn on_changed(&self, topic: &str, partitions: &[MessageQueue]) {
        let Some(_in_flight) = InFlight::enter() else { return };
        keep_thread_state();
        Python::attach(|py| {
            let queues = py_queues(partitions.to_vec());
            if let Err(e) = self.0.call1(py, (topic, queues)) {
                e.print(py);
            }
        })
    }
}

client_class!(
    /// The ONS `PullConsumer`: `assign` queues or `subscribe` topics, then `poll` for batches.
    PyPullConsumer,
    "PullConsumer",
    PullConsumer,
    {
        #[new]
        #[pyo3(signature = (properties = None, **options))]
        fn new(py: Python<'_>, properties: Option<&Bound<'_, PyAny>>, options: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
            let props = props::collect(properties, options)?;
            let consumer = PullConsumer::new(&props).map_err(to_py_err)?;
            runtime(py)?;
            Ok(Self { inner: BoundHandle::new("PullConsumer", Arc::new(consumer)) })
        }

        /// Subscribe mode: `topic`'s messages matching a tag expression (`*`, `a||b`) or a
        /// MessageSelector, from the queues the group's rebalance gives this instance.
        #[pyo3(signature = (topic, expression = None))]
        fn subscribe(&self, topic: &str, expression: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
            let selector = match expression {
                Some(e) => selector(e)?,
                None => rocketmq_ons::MessageSelector::by_tag("*"),
            };
            self.inner.get()?.subscribe_with_selector(topic, &selector).map_err(to_py_err)
        }

        /// Subscribe mode: stops consuming `topic`.
        fn unsubscribe(&self, topic: &str) -> PyResult<()> {
            self.inner.get()?.unsubscribe(topic).map_err(to_py_err)
        }

        /// Assign mode: consume exactly `queues` (as `topic_partitions` lists them), no rebalance.
        fn assign(&self, queues: Vec<PyRef<'_, PyMessageQueue>>) -> PyResult<()> {
            self.inner.get()?.assign(&self::queues(queues)).map_err(to_py_err)
        }

        /// The queues this consumer pulls now, sorted.
        fn assignment(&self) -> PyResult<Vec<PyMessageQueue>> {
            Ok(py_queues(self.inner.get()?.assignment()))
        }

        /// Stops pulling `queues` (owned ones) until resumed; cached messages are still polled.
        fn pause(&self, queues: Vec<PyRef<'_, PyMessageQueue>>) -> PyResult<()> {
            self.inner.get()?.pause(&self::queues(queues)).map_err(to_py_err)
        }

        fn resume(&self, queues: Vec<PyRef<'_, PyMessageQueue>>) -> PyResult<()> {
            self.inner.get()?.resume(&self::queues(queues)).map_err(to_py_err)
        }

        /// The queues of `topic` that can be consumed.
        fn topic_partitions(&self, py: Python<'_>, topic: String) -> PyResult<Vec<PyMessageQueue>> {
            let c = self.inner.get()?.clone();
            wait(py, async move { c.topic_partitions(&topic).await.map(py_queues) })
        }

        fn topic_partitions_async(&self, py: Python<'_>, topic: String) -> PyResult<Py<PyAny>> {
            let c = self.inner.get()?.clone();
            awaitable(py, async move { c.topic_partitions(&topic).await.map(py_queues) })
        }

        /// Waits up to `timeout` seconds (None: pollTimeoutMillis) and returns one pull's
        /// messages of one queue, oldest first; an empty list when none came in time.
        #[pyo3(signature = (timeout = None))]
        fn poll(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Vec<PyMessage>> {
            let timeout = poll_timeout(timeout)?;
            wait(py, poll(self.inner.get()?.clone(), timeout))
        }

        #[pyo3(signature = (timeout = None))]
        fn poll_async(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Py<PyAny>> {
            let timeout = poll_timeout(timeout)?;
            awaitable(py, poll(self.inner.get()?.clone(), timeout))
        }

        /// The next poll of `queue` (an owned one) starts at `offset`.
        fn seek(&self, py: Python<'_>, queue: PyRef<'_, PyMessageQueue>, offset: i64) -> PyResult<()> {
            let (c, q) = (self.inner.get()?.clone(), MessageQueue::from(&*queue));
            wait(py, async move { c.seek(&q, offset).await })
        }

        fn seek_async(&self, py: Python<'_>, queue: PyRef<'_, PyMessageQueue>, offset: i64) -> PyResult<Py<PyAny>> {
            let (c, q) = (self.inner.get()?.clone(), MessageQueue::from(&*queue));
            awaitable(py, async move { c.seek(&q, offset).await })
        }

        /// Seeks to the oldest message the broker still stores of `queue`.
        fn seek_to_beginning(&self, py: Python<'_>, queue: PyRef<'_, PyMessageQueue>) -> PyResult<()> {
            let (c, q) = (self.inner.get()?.clone(), MessageQueue::from(&*queue));
            wait(py, async move { c.seek_to_beginning(&q).await })
        }

        fn seek_to_beginning_async(&self, py: Python<'_>, queue: PyRef<'_, PyMessageQueue>) -> PyResult<Py<PyAny>> {
            let (c, q) = (self.inner.get()?.clone(), MessageQueue::from(&*queue));
            awaitable(py, async move { c.seek_to_beginning(&q).await })
        }

        /// Seeks past the last message of `queue`.
        fn seek_to_end(&self, py: Python<'_>, queue: PyRef<'_, PyMessageQueue>) -> PyResult<()> {
            let (c, q) = (self.inner.get()?.clone(), MessageQueue::from(&*queue));
            wait(py, async move { c.seek_to_end(&q).await })
        }

        fn seek_to_end_async(&self, py: Python<'_>, queue: PyRef<'_, PyMessageQueue>) -> PyResult<Py<PyAny>> {
            let (c, q) = (self.inner.get()?.clone(), MessageQueue::from(&*queue));
            awaitable(py, async move { c.seek_to_end(&q).await })
        }

        /// The offset of `queue`'s message stored at `timestamp_ms` (ms since the epoch).
        fn offset_for_timestamp(&self, py: Python<'_>, queue: PyRef<'_, PyMessageQueue>, timestamp_ms: i64) -> PyResult<i64> {
            let (c, q) = (self.inner.get()?.clone(), MessageQueue::from(&*queue));
            wait(py, async move { c.offset_for_timestamp(&q, timestamp_ms).await })
        }

        fn offset_for_timestamp_async(&self, py: Python<'_>, queue: PyRef<'_, PyMessageQueue>, timestamp_ms: i64) -> PyResult<Py<PyAny>> {
            let (c, q) = (self.inner.get()?.clone(), MessageQueue::from(&*queue));
            awaitable(py, async move { c.offset_for_timestamp(&q, timestamp_ms).await })
        }

        /// The group's committed offset of `queue` at its broker; None if it has none.
        fn committed(&self, py: Python<'_>, queue: PyRef<'_, PyMessageQueue>) -> PyResult<Option<i64>> {
            let (c, q) = (self.inner.get()?.clone(), MessageQueue::from(&*queue));
            wait(py, async move { c.committed(&q).await })
        }

        fn committed_async(&self, py: Python<'_>, queue: PyRef<'_, PyMessageQueue>) -> PyResult<Py<PyAny>> {
            let (c, q) = (self.inner.get()?.clone(), MessageQueue::from(&*queue));
            awaitable(py, async move { c.committed(&q).await })
        }

        /// Commits the offset after what `poll` returned of every owned queue and waits for
        /// the brokers.
        fn commit_sync(&self, py: Python<'_>) -> PyResult<()> {
            let c = self.inner.get()?.clone();
            wait(py, async move { c.commit_sync().await })
        }

        fn commit_sync_async(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
            let c = self.inner.get()?.clone();
            awaitable(py, async move { c.commit_sync().await })
        }

        /// Calls `listener(topic, queues)` whenever the queues of `topic` change.
        fn register_topic_partition_change_listener(&self, py: Python<'_>, topic: String, listener: Bound<'_, PyAny>) -> PyResult<()> {
            if !listener.is_callable() {
                return Err(PyTypeError::new_err(format!(
                    "register_topic_partition_change_listener: listener must be callable, not {}",
                    listener.get_type()
                )));
            }
            let (c, l) = (self.inner.get()?.clone(), Arc::new(PyPartitionListener(listener.unbind())));
            wait(py, async move { c.register_topic_partition_change_listener(&topic, l).await })
        }

        fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
            slf
        }

        /// The next non-empty batch (the GIL is released while waiting); ends at shutdown.
        fn __next__(&self, py: Python<'_>) -> PyResult<Vec<PyMessage>> {
            loop {
                match wait(py, next_batch(self.inner.get()?.clone(), false))? {
                    None => return Err(PyStopIteration::new_err(())),
                    Some(batch) if !batch.is_empty() => return Ok(batch),
                    // Between polls, so Ctrl-C ends a wait for messages that do not come.
                    Some(_) => py.check_signals()?,
                }
            }
        }

        fn __aiter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
            slf
        }

        fn __anext__(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
            let c = self.inner.get()?.clone();
            completion::spawn_future(py, Start::OnRuntime, next_batch(c, true), |py, outcome| match outcome.map_err(to_py_err)? {
                Some(batch) => batch.into_py_any(py),
                None => Err(PyStopAsyncIteration::new_err(())),
            })
        }
    }
);
