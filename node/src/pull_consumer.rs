//! The ONS `PullConsumer` in JS (`rocketmq_ons::PullConsumer`, Java's `DefaultLitePullConsumer`
//! semantics): the application asks for messages with `poll()` or a `for await` loop instead of
//! getting them through a listener. This module only translates arguments, queues and messages;
//! assignment, rebalance, offsets and auto-commit are the core's.
//!
//! Every call that may wait (for messages or for a broker) returns a Promise run on the addon's
//! runtime, so the event loop never waits. Queues are `MessageQueue` objects
//! (`{ topic, brokerName, queueId }`, the shape of a push consumer's `ConsumeContext`), messages
//! the push consumers' received `Message` objects. A started consumer keeps the process alive
//! until `shutdown()`, as the push consumers do.

use parking_lot::Mutex;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::ThreadsafeFunctionCallMode;
use napi::ValueType;
use napi_derive::napi;
use rocketmq_ons::consumer::TopicPartitionChangeListener;
use rocketmq_ons::{MessageQueue, Properties, PullConsumer as CorePullConsumer};

use crate::args;
use crate::consumer::{expression_arg, selector};
use crate::core_call::{promise, start_in_runtime};
use crate::error;
use crate::js_call::{self, JsFn, KeepAlive};
use crate::js_thread::Start;
use crate::message::{ConsumeContext, Received};

/// The names napi's TypeScript generator sees (it names a type by its last path segment): a
/// received message is a `Message` in JS.
mod js {
    pub type Message = crate::message::Received;
}

/// The ONS `PullConsumer`: assign queues (`assign`) or subscribe topics (`subscribe`, the
/// group's queues split among its instances), then `poll()` or `for await (const batch of
/// consumer)`. With autoCommit (the default) what earlier polls returned is committed every
/// autoCommitIntervalMillis; otherwise `commitSync()` commits it. Created by
/// `ONSFactory.createPullConsumer`.
#[napi(async_iterator)]
pub struct PullConsumer {
    inner: Arc<CorePullConsumer>,
    keep_alive: Arc<Mutex<Option<KeepAlive>>>,
}

/// A batch of at least one message for the async iterator: `poll` until one comes, and the end
/// of the iteration once the consumer is shut down (or was never started).
#[napi]
impl AsyncGenerator for PullConsumer {
    type Yield = Vec<js::Message>;
    // `()` takes any value (both arguments are ignored) and declares them `undefined`.
    type Next = ();
    type Return = ();

    fn next(&mut self, _: Option<Self::Next>) -> impl Future<Output = Result<Option<Self::Yield>>> + Send + 'static {
        let inner = self.inner.clone();
        async move {
            loop {
                if !inner.is_started() {
                    return Ok(None);
                }
                match inner.poll_default().await {
                    Ok(batch) if batch.is_empty() => continue,
                    Ok(batch) => return Ok(Some(batch.into_iter().map(Received).collect())),
                    // Shut down while waiting: the loop ends.
                    Err(_) if !inner.is_started() => return Ok(None),
                    Err(e) => return Err(Error::new(Status::GenericFailure, e.to_string())),
                }
            }
        }
    }
}

#[napi]
impl PullConsumer {
    pub(crate) fn create(env: &Env, props: &Properties) -> Result<Self> {
        let inner = CorePullConsumer::new(props).map_err(|e| error::to_js(env, &e))?;
        Ok(PullConsumer { inner: Arc::new(inner), keep_alive: Arc::default() })
    }

    /// Joins the group and starts pulling; the process stays alive until `shutdown()`.
    #[napi]
    pub fn start(&self, env: &Env) -> Result<()> {
        start_in_runtime(env, || self.inner.start())?;
        let mut keep = self.keep_alive.lock();
        if keep.is_none() {
            *keep = Some(KeepAlive::new(env)?);
        }
        Ok(())
    }

    /// Stops pulling, commits (with autoCommit) what `poll` returned, leaves the group; a
    /// `for await` loop over the consumer ends.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn shutdown<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, ()>> {
        self.keep_alive.lock().take();
        let inner = self.inner.clone();
        promise(
            env,
            Start::OnRuntime,
            async move {
                inner.shutdown().await;
                Ok(())
            },
            |_, ()| Ok(()),
        )
    }

    #[napi]
    pub fn is_started(&self) -> bool {
        self.inner.is_started()
    }

    #[napi]
    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// What this client's message traces came to (MsgTraceSwitch): records sent (stored
    /// by a broker) and dropped, while it runs and after shutdown; `null` when it has not
    /// traced.
    #[napi]
    pub fn trace_counts(&self) -> Option<crate::trace_counts::TraceCounts> {
        self.inner.trace_counts().map(Into::into)
    }

    /// Subscribe mode: `topic`'s messages matching a tag expression (`*`, `null` or `undefined`
    /// for all, `a || b`) or `{ sql }`, from the queues the group's split gives this instance
    /// (re-split as instances come and go). Refused once queues were assigned.
    #[napi(ts_args_type = "topic: string, expression?: string | SqlSelector | null")]
    pub fn subscribe(&self, env: &Env, topic: Unknown<'_>, expression: Unknown<'_>) -> Result<()> {
        let topic = args::string(env, topic, "subscribe: topic")?;
        let expression = expression_arg(env, expression, "subscribe: expression")?;
        self.inner.subscribe_with_selector(&topic, &selector(expression)).map_err(|e| error::to_js(env, &e))
    }

    /// Subscribe mode: stops consuming `topic`.
    #[napi(ts_args_type = "topic: string")]
    pub fn unsubscribe(&self, env: &Env, topic: Unknown<'_>) -> Result<()> {
        let topic = args::string(env, topic, "unsubscribe: topic")?;
        self.inner.unsubscribe(&topic).map_err(|e| error::to_js(env, &e))
    }

    /// Assign mode: consume exactly `queues` (as `topicPartitions` lists them), replacing an
    /// earlier assignment; no rebalance. Refused after `subscribe`.
    #[napi(ts_args_type = "queues: MessageQueue[]")]
    pub fn assign(&self, env: &Env, queues: Unknown<'_>) -> Result<()> {
        let queues = queues_arg(env, queues, "assign: queues")?;
        self.inner.assign(&queues).map_err(|e| error::to_js(env, &e))
    }

    /// The queues of `topic` that can be consumed, from its route.
    #[napi(ts_args_type = "topic: string", ts_return_type = "Promise<MessageQueue[]>")]
    pub fn topic_partitions<'env>(
        &self,
        env: &'env Env,
        topic: Unknown<'_>,
    ) -> Result<PromiseRaw<'env, Vec<ConsumeContext>>> {
        let topic = args::string(env, topic, "topicPartitions: topic")?;
        let inner = self.inner.clone();
        promise(env, Start::OnRuntime, async move { inner.topic_partitions(&topic).await }, |_, queues| {
            Ok(queues_to_js(&queues))
        })
    }

    /// The queues this consumer pulls at the moment, sorted.
    #[napi(ts_return_type = "MessageQueue[]")]
    pub fn assignment(&self) -> Vec<ConsumeContext> {
        queues_to_js(&self.inner.assignment())
    }

    /// Waits up to `timeoutMs` (pollTimeoutMillis when not given) for messages and resolves with
    /// one pull's worth of one queue (at most maxBatchMessageCount), oldest first; with `[]`
    /// when none came in time.
    #[napi(ts_args_type = "timeoutMs?: number | null", ts_return_type = "Promise<Message[]>")]
    pub fn poll<'env>(
        &self,
        env: &'env Env,
        timeout_ms: Option<Unknown<'_>>,
    ) -> Result<PromiseRaw<'env, Vec<Received>>> {
        let timeout = args::optional_integer::<u64>(env, timeout_ms, "poll: timeoutMs")?.map(Duration::from_millis);
        let inner = self.inner.clone();
        promise(
            env,
            Start::OnRuntime,
            async move {
                match timeout {
                    Some(timeout) => inner.poll(timeout).await,
                    None => inner.poll_default().await,
                }
            },
            |_, messages| Ok(messages.into_iter().map(Received).collect()),
        )
    }

    /// The next poll of `queue` (an owned one) starts at `offset`, which must be within the
    /// queue's stored range; what is cached of the queue is dropped.
    #[napi(ts_args_type = "queue: MessageQueue, offset: number", ts_return_type = "Promise<void>")]
    pub fn seek<'env>(&self, env: &'env Env, queue: Unknown<'_>, offset: Unknown<'_>) -> Result<PromiseRaw<'env, ()>> {
        let queue = queue_arg(env, queue, "seek: queue")?;
        let offset = args::integer::<i64>(env, offset, "seek: offset")?;
        let inner = self.inner.clone();
        promise(env, Start::OnRuntime, async move { inner.seek(&queue, offset).await }, |_, ()| Ok(()))
    }

    /// Seeks `queue` to the oldest message its broker still stores.
    #[napi(ts_args_type = "queue: MessageQueue", ts_return_type = "Promise<void>")]
    pub fn seek_to_beginning<'env>(&self, env: &'env Env, queue: Unknown<'_>) -> Result<PromiseRaw<'env, ()>> {
        let queue = queue_arg(env, queue, "seekToBeginning: queue")?;
        let inner = self.inner.clone();
        promise(env, Start::OnRuntime, async move { inner.seek_to_beginning(&queue).await }, |_, ()| Ok(()))
    }

    /// Seeks `queue` past its last message: only messages sent later are polled.
    #[napi(ts_args_type = "queue: MessageQueue", ts_return_type = "Promise<void>")]
    pub fn seek_to_end<'env>(&self, env: &'env Env, queue: Unknown<'_>) -> Result<PromiseRaw<'env, ()>> {
        let queue = queue_arg(env, queue, "seekToEnd: queue")?;
        let inner = self.inner.clone();
        promise(env, Start::OnRuntime, async move { inner.seek_to_end(&queue).await }, |_, ()| Ok(()))
    }

    /// The offset of `queue`'s message stored at `timestampMs` (ms since the epoch), as its
    /// broker answers; any queue of a topic, owned or not.
    #[napi(ts_args_type = "queue: MessageQueue, timestampMs: number", ts_return_type = "Promise<number>")]
    pub fn offset_for_timestamp<'env>(
        &self,
        env: &'env Env,
        queue: Unknown<'_>,
        timestamp_ms: Unknown<'_>,
    ) -> Result<PromiseRaw<'env, i64>> {
        let queue = queue_arg(env, queue, "offsetForTimestamp: queue")?;
        let timestamp_ms = args::integer::<i64>(env, timestamp_ms, "offsetForTimestamp: timestampMs")?;
        let inner = self.inner.clone();
        promise(env, Start::OnRuntime, async move { inner.offset_for_timestamp(&queue, timestamp_ms).await }, |_, o| {
            Ok(o)
        })
    }

    /// The group's committed offset of `queue` at its broker; `null` if the group has committed
    /// none.
    #[napi(ts_args_type = "queue: MessageQueue", ts_return_type = "Promise<number | null>")]
    pub fn committed<'env>(&self, env: &'env Env, queue: Unknown<'_>) -> Result<PromiseRaw<'env, Option<i64>>> {
        let queue = queue_arg(env, queue, "committed: queue")?;
        let inner = self.inner.clone();
        promise(env, Start::OnRuntime, async move { inner.committed(&queue).await }, |_, o| Ok(o))
    }

    /// Commits the offset after what `poll` returned of every owned queue and resolves when the
    /// brokers acknowledged it.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn commit_sync<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, ()>> {
        let inner = self.inner.clone();
        promise(env, Start::OnRuntime, async move { inner.commit_sync().await }, |_, ()| Ok(()))
    }

    /// Stops pulling `queues` (owned ones) until `resume`d; messages already fetched are still
    /// polled.
    #[napi(ts_args_type = "queues: MessageQueue[]")]
    pub fn pause(&self, env: &Env, queues: Unknown<'_>) -> Result<()> {
        let queues = queues_arg(env, queues, "pause: queues")?;
        self.inner.pause(&queues).map_err(|e| error::to_js(env, &e))
    }

    #[napi(ts_args_type = "queues: MessageQueue[]")]
    pub fn resume(&self, env: &Env, queues: Unknown<'_>) -> Result<()> {
        let queues = queues_arg(env, queues, "resume: queues")?;
        self.inner.resume(&queues).map_err(|e| error::to_js(env, &e))
    }

    /// Calls `listener(topic, queues)` with all of `topic`'s queues whenever they change
    /// (checked 10 s after start, then every 30 s, as the Java client does); registered before
    /// `start()` it is also told the queues at the first check. Replaces an earlier listener of
    /// `topic`. A listener that throws is an uncaught exception, as an event listener's throw.
    #[napi(
        ts_args_type = "topic: string, listener: (topic: string, queues: MessageQueue[]) => void",
        ts_return_type = "Promise<void>"
    )]
    pub fn register_topic_partition_change_listener<'env>(
        &self,
        env: &'env Env,
        topic: Unknown<'_>,
        listener: Unknown<'_>,
    ) -> Result<PromiseRaw<'env, ()>> {
        const WHAT: &str = "registerTopicPartitionChangeListener";
        let topic = args::string(env, topic, &format!("{WHAT}: topic"))?;
        let function = js_call::function_arg(env, listener, &format!("{WHAT}: listener"))?;
        let notify = js_call::wrap(&function, |(topic, queues): (String, Vec<MessageQueue>)| {
            Ok(FnArgs::from((topic, queues_to_js(&queues))))
        })?;
        let listener = Arc::new(JsPartitionListener(notify));
        let inner = self.inner.clone();
        promise(
            env,
            Start::OnRuntime,
            async move { inner.register_topic_partition_change_listener(&topic, listener).await },
            |_, ()| Ok(()),
        )
    }
}

type PartitionChange = (String, Vec<MessageQueue>);

struct JsPartitionListener(JsFn<PartitionChange, FnArgs<(String, Vec<ConsumeContext>)>>);

impl TopicPartitionChangeListener for JsPartitionListener {
    fn on_changed(&self, topic: &str, partitions: &[MessageQueue]) {
        // Nothing is awaited: the listener is told, as an event listener is.
        let _ = self.0.call((topic.to_owned(), partitions.to_vec()), ThreadsafeFunctionCallMode::NonBlocking);
    }
}

fn queues_to_js(queues: &[MessageQueue]) -> Vec<ConsumeContext> {
    queues.iter().map(ConsumeContext::from).collect()
}

/// Argument `what` as a `MessageQueue` object, or a `TypeError` naming it.
fn queue_arg(env: &Env, value: Unknown<'_>, what: &str) -> Result<MessageQueue> {
    let q: ConsumeContext = args::object(env, value, what, "MessageQueue")?;
    Ok(MessageQueue::new(q.topic, q.broker_name, q.queue_id))
}

/// Argument `what` as an array of `MessageQueue` objects, or a `TypeError` naming it (or the
/// element that is not one).
fn queues_arg(env: &Env, value: Unknown<'_>, what: &str) -> Result<Vec<MessageQueue>> {
    if !value.is_array()? {
        let got = match value.get_type()? {
            ValueType::Object => "a non-array object",
            other => js_call::typeof_name(other),
        };
        return Err(error::type_error(env, format!("{what} must be an array of MessageQueue objects; got {got}")));
    }
    // SAFETY: an array value of this env, checked above.
    let array = unsafe { Array::from_napi_value(env.raw(), value.raw()) }?;
    (0..array.len())
        .map(|i| {
            let element: Unknown<'_> = array.get(i)?.ok_or_else(|| Error::from_reason("array element missing"))?;
            queue_arg(env, element, &format!("{what}[{i}]"))
        })
        .collect()
}
