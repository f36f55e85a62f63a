//! The ONS consumers in JS: `Consumer`, `OrderConsumer`, `BatchConsumer`.
//!
//! The core runs listeners on its own blocking threads, at most ConsumeThreadNums at a time. Each
//! of those threads hands its message to JS through a threadsafe function and waits for the
//! (possibly async) answer; the event loop never waits. An unhandled error counts as
//! ReconsumeLater (Suspend for ordered consumption), as in the ONS SDKs.
//!
//! The async-iterator form (`consumer.messages(topic, expression)`) feeds the same listener
//! threads into a channel: a message is committed when the loop asks for the next one, and leaving
//! the loop (`break`, `return`, a throw) hands the current message back for redelivery and
//! unsubscribes the topic.
//!
//! A started consumer keeps the process alive until `shutdown()`; nothing else it owns does.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use rocketmq_ons::consumer::{ActionReply, DeferredMessageListener, DeliveredMessage, MessageSelector};
use rocketmq_ons::log_limit::{LogLimiter, INTERVAL};
use rocketmq_ons::MessageQueue;
use rocketmq_ons::{
    Action as CoreAction, BatchConsumer as CoreBatchConsumer, BatchMessageListener, ConsumeContext as CoreContext,
    ConsumeOrderContext, Consumer as CoreConsumer, Message as CoreMessage, MessageListener, MessageOrderListener,
    OrderAction as CoreOrderAction, OrderConsumer as CoreOrderConsumer, Properties,
};
use tokio::sync::{mpsc, oneshot, watch};

use crate::core_call::{promise, start_in_runtime};
use crate::error;
use crate::js_call::{self, Expect, JsFn, JsFunction, KeepAlive, Subject};
use crate::js_thread::{JsRef, Start};
use crate::message::{received_value, ConsumeContext, Received};

/// The ONS `Action`: what a `Consumer` or `BatchConsumer` listener returns.
#[napi(string_enum)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    CommitMessage,
    ReconsumeLater,
}

/// The ONS `OrderAction`: what an `OrderConsumer` listener returns.
#[napi(string_enum)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderAction {
    Success,
    Suspend,
}

const ACTION_NAMES: &[&str] = &["CommitMessage", "ReconsumeLater"];
const ORDER_ACTION_NAMES: &[&str] = &["Success", "Suspend"];

static LISTENER: Expect = Expect {
    what: "message listener",
    accepted: ACTION_NAMES,
    on_failure: "ReconsumeLater",
    instead: "return Action.CommitMessage to acknowledge it",
    limiter: LogLimiter::new(INTERVAL),
};
static BATCH_LISTENER: Expect = Expect {
    what: "batch message listener",
    accepted: ACTION_NAMES,
    on_failure: "ReconsumeLater",
    instead: "return Action.CommitMessage to acknowledge them",
    limiter: LogLimiter::new(INTERVAL),
};
static ORDER_LISTENER: Expect = Expect {
    what: "message order listener",
    accepted: ORDER_ACTION_NAMES,
    on_failure: "Suspend",
    instead: "return OrderAction.Success to acknowledge it",
    limiter: LogLimiter::new(INTERVAL),
};

/// An SQL92 selector over user properties (the broker must enable property filtering).
#[napi(object)]
pub struct SqlSelector {
    pub sql: String,
}

/// A tag expression (`*`, `null` or `undefined` for all; `a || b`) or `{ sql }`.
pub type Expression = Option<Either<String, SqlSelector>>;

/// Argument `what` as an [`Expression`], or a `TypeError` naming it and what it accepts.
pub(crate) fn expression_arg(env: &Env, value: Unknown<'_>, what: &str) -> Result<Expression> {
    match value.get_type()? {
        ValueType::Undefined | ValueType::Null => Ok(None),
        // SAFETY: a string or object value of this env; napi-rs reads it as it would the
        // parameter itself.
        ValueType::String | ValueType::Object => unsafe { Expression::from_napi_value(env.raw(), value.raw()) },
        other => Err(error::type_error(
            env,
            format!(
                "{what} must be a tag expression string, {{ sql }}, null or undefined; got {}",
                js_call::typeof_name(other)
            ),
        )),
    }
}

pub(crate) fn selector(expression: Expression) -> MessageSelector {
    match expression {
        None => MessageSelector::by_tag("*"),
        Some(Either::A(tags)) => MessageSelector::by_tag(tags),
        Some(Either::B(s)) => MessageSelector::by_sql(s.sql),
    }
}

type Delivery = (CoreMessage, MessageQueue);

fn one_message_fn(listener: &JsFunction<'_>) -> Result<JsFn<Delivery, FnArgs<(Received, ConsumeContext)>>> {
    js_call::wrap(listener, |(m, q): Delivery| Ok(FnArgs::from((Received(m), ConsumeContext::from(&q)))))
}

/// The `Consumer` listener: deferred, so no consumer thread waits while JS runs it. Each message
/// is queued for the subscribing JS thread (under load many per wake-up), made into its JS
/// object there, and the answer (a value, or a promise settling later) settles it from there.
struct JsListener {
    function: Arc<JsRef>,
    /// The consumer's group, for warnings.
    group: Arc<str>,
    /// One context per queue, found here on the consumer's thread, so only an `Arc` travels to
    /// the JS thread with each message (no copy of the queue's names to make, hash and free there).
    contexts: Mutex<HashMap<MessageQueue, Arc<QueueContext>>>,
}

type ListenerFn = Function<'static, FnArgs<(Unknown<'static>, Unknown<'static>)>, Unknown<'static>>;

/// The JS context object of one queue: made and frozen on its first delivery, then passed to
/// every later one (the facts in it never change).
struct QueueContext {
    queue: MessageQueue,
    /// Set and read on the JS thread only.
    object: std::sync::OnceLock<JsRef>,
}

impl JsListener {
    fn new(env: &Env, function: &JsFunction<'_>, group: Arc<str>) -> Result<Self> {
        Ok(JsListener { function: Arc::new(JsRef::new(env, function.raw())?), group, contexts: Mutex::default() })
    }

    fn context_of(&self, queue: &MessageQueue) -> Arc<QueueContext> {
        let mut contexts = self.contexts.lock();
        if let Some(known) = contexts.get(queue) {
            return known.clone();
        }
        let made = Arc::new(QueueContext { queue: queue.clone(), object: std::sync::OnceLock::new() });
        contexts.insert(queue.clone(), made.clone());
        made
    }
}

impl QueueContext {
    /// The context object; call on the listener's JS thread.
    fn object(&self, env: &Env) -> Result<Unknown<'static>> {
        let value = match self.object.get() {
            Some(known) => known.get(env)?,
            None => {
                // SAFETY: on the JS thread of `env`.
                let made = unsafe { ConsumeContext::to_napi_value(env.raw(), ConsumeContext::from(&self.queue))? };
                // SAFETY: an object just made in this env.
                check_status!(unsafe { napi::sys::napi_object_freeze(env.raw(), made) })?;
                // Only this JS thread sets it, so it is still empty here.
                let _ = self.object.set(JsRef::new(env, made)?);
                made
            }
        };
        // SAFETY: a value of this env, used within the current handle scope.
        Ok(unsafe { Unknown::from_raw_unchecked(env.raw(), value) })
    }
}

impl DeferredMessageListener for JsListener {
    fn consume(&self, message: DeliveredMessage, context: &CoreContext, reply: ActionReply) {
        let (function, queue) = (self.function.clone(), self.context_of(&context.queue));
        let group = self.group.clone();
        self.function.thread().run(move |env| {
            let returned = function.get(env).and_then(|f| {
                let context = queue.object(env)?;
                // SAFETY: a value just made in this env, used within the current handle scope.
                let message = unsafe { Unknown::from_raw_unchecked(env.raw(), received_value(env, &message)?) };
                // SAFETY: the function value subscribe() was given, in this env.
                let f = unsafe { ListenerFn::from_napi_value(env.raw(), f) }?;
                f.call(FnArgs::from((message, context)))
            });
            let subject = move || {
                let m: &CoreMessage = &message;
                Subject {
                    who: format!(" of group {group}"),
                    what_for: format!(" for message {} (topic {})", m.msg_id.as_deref().unwrap_or("?"), m.topic),
                }
            };
            js_call::read_answer(
                env,
                returned,
                Box::new(move |answer| reply.send(CoreAction::from_listener_answer(answer))),
                &LISTENER,
                subject,
            );
        });
    }
}

struct JsOrderListener(JsFn<Delivery, FnArgs<(Received, ConsumeContext)>>);

impl MessageOrderListener for JsOrderListener {
    fn consume(&self, message: &CoreMessage, context: &ConsumeOrderContext) -> CoreOrderAction {
        CoreOrderAction::from_listener_answer(js_call::call_blocking(
            &self.0,
            (message.clone(), context.queue.clone()),
            &ORDER_LISTENER,
        ))
    }
}

type BatchDelivery = (Vec<CoreMessage>, MessageQueue);

struct JsBatchListener(JsFn<BatchDelivery, FnArgs<(Vec<Received>, ConsumeContext)>>);

impl BatchMessageListener for JsBatchListener {
    fn consume(&self, messages: &[CoreMessage], context: &CoreContext) -> CoreAction {
        CoreAction::from_listener_answer(js_call::call_blocking(
            &self.0,
            (messages.to_vec(), context.queue.clone()),
            &BATCH_LISTENER,
        ))
    }
}

// ------------------------------------------------------------------------------------ streams

/// The channel between the core's listener threads and an async iterator. `T` is what one
/// delivery carries (a message, or a batch).
pub(crate) struct Stream<T> {
    tx: mpsc::Sender<(T, oneshot::Sender<bool>)>,
    rx: tokio::sync::Mutex<mpsc::Receiver<(T, oneshot::Sender<bool>)>>,
    /// The acknowledgement of the item the loop is working on.
    pending: Mutex<Option<oneshot::Sender<bool>>>,
    closed: watch::Sender<bool>,
    /// Stops deliveries for the stream's topic (unsubscribes it).
    on_close: Mutex<Option<Box<dyn FnOnce() + Send>>>,
}

impl<T: Send + 'static> Stream<T> {
    fn new() -> Arc<Self> {
        // One slot: further deliveries wait on their listener threads, which the core bounds.
        let (tx, rx) = mpsc::channel(1);
        Arc::new(Stream {
            tx,
            rx: tokio::sync::Mutex::new(rx),
            pending: Mutex::new(None),
            closed: watch::channel(false).0,
            on_close: Mutex::new(None),
        })
    }

    /// Called on a listener thread: waits until the loop took the item and finished with it.
    /// `false` (redeliver) when the stream closed first.
    fn deliver_blocking(&self, item: T) -> bool {
        let (ack, acked) = oneshot::channel();
        if *self.closed.borrow() || self.tx.blocking_send((item, ack)).is_err() {
            return false;
        }
        acked.blocking_recv().unwrap_or(false)
    }

    fn acknowledge(&self, ok: bool) {
        if let Some(ack) = self.pending.lock().take() {
            let _ = ack.send(ok);
        }
    }

    /// The loop asks for the next item: the previous one is done.
    async fn next(self: Arc<Self>) -> Option<T> {
        self.acknowledge(true);
        let mut closed = self.closed.subscribe();
        if *closed.borrow() {
            return None;
        }
        let mut rx = self.rx.lock().await;
        tokio::select! {
            item = rx.recv() => {
                let (value, ack) = item?;
                *self.pending.lock() = Some(ack);
                Some(value)
            }
            _ = closed.wait_for(|c| *c) => None,
        }
    }

    /// The loop ended (or the consumer shut down): the current item is delivered again later,
    /// the topic unsubscribed, and every delivery still waiting is handed back.
    async fn close(self: Arc<Self>) {
        if self.closed.send_replace(true) {
            return;
        }
        self.acknowledge(false);
        if let Some(unsubscribe) = self.on_close.lock().take() {
            unsubscribe();
        }
        let mut rx = self.rx.lock().await;
        rx.close();
        // Dropping the acks wakes their listener threads with "redeliver".
        while rx.try_recv().is_ok() {}
    }
}

/// Closes the streams of a consumer that shuts down.
type StreamClosers = Mutex<Vec<Box<dyn Fn() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>>>;

struct StreamListener(Arc<Stream<CoreMessage>>);

impl MessageListener for StreamListener {
    fn consume(&self, message: &CoreMessage, _: &CoreContext) -> CoreAction {
        if self.0.deliver_blocking(message.clone()) {
            CoreAction::CommitMessage
        } else {
            CoreAction::ReconsumeLater
        }
    }
}

impl MessageOrderListener for StreamListener {
    fn consume(&self, message: &CoreMessage, _: &ConsumeOrderContext) -> CoreOrderAction {
        if self.0.deliver_blocking(message.clone()) {
            CoreOrderAction::Success
        } else {
            CoreOrderAction::Suspend
        }
    }
}

struct BatchStreamListener(Arc<Stream<Vec<CoreMessage>>>);

impl BatchMessageListener for BatchStreamListener {
    fn consume(&self, messages: &[CoreMessage], _: &CoreContext) -> CoreAction {
        if self.0.deliver_blocking(messages.to_vec()) {
            CoreAction::CommitMessage
        } else {
            CoreAction::ReconsumeLater
        }
    }
}

/// The names napi's TypeScript generator sees. It names a type by its last path segment, and a
/// received message is a `Message` in JS, so the streams' `Yield` spells `Received` this way.
mod js {
    pub type Message = crate::message::Received;
}

/// An async-iterator class over a [`Stream`]; `$item` is what one delivery carries and
/// `$to_js` turns it into what the loop gets (`yield`).
///
/// `yield` is taken as raw tokens, not as a `ty` fragment: napi's generator declares
/// `[Symbol.asyncIterator]()` only when `type Yield` is a plain path, and a `ty` fragment reaches
/// it wrapped in an invisible group (the class was declared empty then).
macro_rules! stream_class {
    ($(#[$doc:meta])* $name:ident, $item:ty, yield = [$($yield:tt)+], $to_js:expr) => {
        $(#[$doc])*
        #[napi(async_iterator)]
        pub struct $name {
            shared: Arc<Stream<$item>>,
        }

        #[napi]
        impl AsyncGenerator for $name {
            type Yield = $($yield)+;
            // `()` takes any value (both arguments are ignored) and declares them `undefined`.
            type Next = ();
            type Return = ();

            fn next(
                &mut self,
                _: Option<Self::Next>,
            ) -> impl Future<Output = Result<Option<Self::Yield>>> + Send + 'static {
                let shared = self.shared.clone();
                async move { Ok(shared.next().await.map($to_js)) }
            }

            fn complete(
                &mut self,
                _: Option<Self::Return>,
            ) -> impl Future<Output = Result<Option<Self::Yield>>> + Send + 'static {
                let shared = self.shared.clone();
                async move {
                    shared.close().await;
                    Ok(None)
                }
            }
        }
    };
}

stream_class!(
    #[doc = "Messages of one subscription as an async iterator (`for await (const msg of stream)`). A message is committed (ordered: Success) when the loop asks for the next one; leaving the loop delivers the current one again later and unsubscribes the topic."]
    MessageStream,
    CoreMessage,
    yield = [js::Message],
    Received
);

stream_class!(
    #[doc = "Batches of one subscription as an async iterator; see `MessageStream`."]
    BatchMessageStream,
    Vec<CoreMessage>,
    yield = [Vec<js::Message>],
    |batch: Vec<CoreMessage>| batch.into_iter().map(Received).collect::<Vec<_>>()
);

// ---------------------------------------------------------------------------------- consumers

/// What the three consumer classes share: the started-state keep-alive and the open streams.
#[derive(Default)]
struct Lifecycle {
    keep_alive: Mutex<Option<KeepAlive>>,
    streams: StreamClosers,
}

impl Lifecycle {
    fn started(&self, env: &Env) -> Result<()> {
        let mut keep = self.keep_alive.lock();
        if keep.is_none() {
            *keep = Some(KeepAlive::new(env)?);
        }
        Ok(())
    }

    fn track<T: Send + 'static>(&self, stream: &Arc<Stream<T>>) {
        let weak = Arc::downgrade(stream);
        self.streams.lock().push(Box::new(move || {
            let weak = weak.clone();
            Box::pin(async move {
                if let Some(s) = weak.upgrade() {
                    s.close().await;
                }
            })
        }));
    }

    /// The closers of every stream, and the keep-alive released: from here on nothing of this
    /// consumer holds the event loop.
    fn stopping(&self) -> Vec<Pin<Box<dyn Future<Output = ()> + Send>>> {
        self.keep_alive.lock().take();
        self.streams.lock().drain(..).map(|close| close()).collect()
    }
}

/// The methods every consumer class has; they differ in listener and stream types.
macro_rules! consumer_class {
    (
        $(#[$doc:meta])*
        $name:ident, $core:ident, $stream:ident, $stream_listener:ident,
        listener_ts = $listener_ts:literal,
        subscribe_with = $subscribe_with:ident,
        wrap = $wrap:expr
    ) => {
        $(#[$doc])*
        #[napi]
        pub struct $name {
            inner: Arc<$core>,
            life: Arc<Lifecycle>,
            /// GROUP_ID, for the warnings of its listeners.
            group: Arc<str>,
        }

        #[napi]
        impl $name {
            pub(crate) fn create(env: &Env, props: &Properties) -> Result<Self> {
                let inner = $core::new(props).map_err(|e| error::to_js(env, &e))?;
                let group = props.get(rocketmq_ons::config::keys::GROUP_ID).unwrap_or_default().into();
                Ok($name { inner: Arc::new(inner), life: Arc::default(), group })
            }

            /// Subscribes `topic` with a tag expression (`*` or `null` for all, `a || b`) or
            /// `{ sql }`; subscribing again replaces expression and listener.
            #[napi(ts_args_type = $listener_ts)]
            pub fn subscribe(
                &self,
                env: &Env,
                topic: Unknown<'_>,
                expression: Unknown<'_>,
                listener: Unknown<'_>,
            ) -> Result<()> {
                let topic = js_call::string_arg(env, topic, "subscribe: topic")?;
                let expression = expression_arg(env, expression, "subscribe: expression")?;
                let listener = $wrap(env, &js_call::function_arg(env, listener, "subscribe: listener")?, &self.group)?;
                self.inner
                    .$subscribe_with(&topic, &selector(expression), listener)
                    .map_err(|e| error::to_js(env, &e))
            }

            /// Subscribes `topic` and returns its messages as an async iterator.
            #[napi(ts_args_type = "topic: string, expression?: string | SqlSelector | null")]
            pub fn messages(&self, env: &Env, topic: Unknown<'_>, expression: Unknown<'_>) -> Result<$stream> {
                let topic = js_call::string_arg(env, topic, "messages: topic")?;
                let expression = expression_arg(env, expression, "messages: expression")?;
                let stream = Stream::new();
                let listener = Arc::new($stream_listener(stream.clone()));
                self.inner
                    .subscribe_with_selector(&topic, &selector(expression), listener)
                    .map_err(|e| error::to_js(env, &e))?;
                let inner = Arc::downgrade(&self.inner);
                *stream.on_close.lock() = Some(Box::new(move || {
                    if let Some(inner) = inner.upgrade() {
                        let _ = inner.unsubscribe(&topic);
                    }
                }));
                self.life.track(&stream);
                Ok($stream { shared: stream })
            }

            #[napi(ts_args_type = "topic: string")]
            pub fn unsubscribe(&self, env: &Env, topic: Unknown<'_>) -> Result<()> {
                let topic = js_call::string_arg(env, topic, "unsubscribe: topic")?;
                self.inner.unsubscribe(&topic).map_err(|e| error::to_js(env, &e))
            }

            /// Joins the group and starts consuming; the process stays alive until `shutdown()`.
            #[napi]
            pub fn start(&self, env: &Env) -> Result<()> {
                start_in_runtime(env, || self.inner.start())?;
                self.life.started(env)
            }

            /// Stops consuming, commits offsets, leaves the group; open iterators end.
            #[napi(ts_return_type = "Promise<void>")]
            pub fn shutdown<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, ()>> {
                let closers = self.life.stopping();
                let inner = self.inner.clone();
                promise(
                    env,
                    Start::OnRuntime,
                    async move {
                        for close in closers {
                            close.await;
                        }
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

            /// Replaces AccessKey, SecretKey and SecurityToken of the started client for its next
            /// requests (ONS `updateCredential`); AccessKey and SecretKey are required, other
            /// known properties are ignored. Throws `INVALID_CONFIG` naming a missing key,
            /// `NOT_STARTED` before `start()` or after `shutdown()`.
            #[napi(ts_args_type = "properties: Record<string, string | number | boolean | null | undefined>")]
            pub fn update_credential(&self, env: &Env, properties: Object) -> Result<()> {
                crate::config::update_credential(env, &*self.inner, &properties)
            }
        }
    };
}

consumer_class!(
    #[doc = "The ONS `Consumer`: each message is handed to the topic's listener, up to ConsumeThreadNums at a time."]
    Consumer, CoreConsumer, MessageStream, StreamListener,
    listener_ts = "topic: string, expression: string | SqlSelector | null | undefined, listener: (message: Message, context: ConsumeContext) => Action | Promise<Action>",
    subscribe_with = subscribe_deferred,
    wrap = |env: &Env, l: &JsFunction<'_>, group: &Arc<str>| -> Result<Arc<dyn DeferredMessageListener>> {
        Ok(Arc::new(JsListener::new(env, l, group.clone())?))
    }
);

consumer_class!(
    #[doc = "The ONS `OrderConsumer`: each queue's messages one at a time, in order."]
    OrderConsumer, CoreOrderConsumer, MessageStream, StreamListener,
    listener_ts = "topic: string, expression: string | SqlSelector | null | undefined, listener: (message: Message, context: ConsumeContext) => OrderAction | Promise<OrderAction>",
    subscribe_with = subscribe_with_selector,
    wrap = |_: &Env, l: &JsFunction<'_>, _: &Arc<str>| -> Result<Arc<dyn MessageOrderListener>> {
        Ok(Arc::new(JsOrderListener(one_message_fn(l)?)))
    }
);

consumer_class!(
    #[doc = "The ONS `BatchConsumer`: up to ConsumeMessageBatchMaxSize messages of one queue at a time."]
    BatchConsumer, CoreBatchConsumer, BatchMessageStream, BatchStreamListener,
    listener_ts = "topic: string, expression: string | SqlSelector | null | undefined, listener: (messages: Message[], context: ConsumeContext) => Action | Promise<Action>",
    subscribe_with = subscribe_with_selector,
    wrap = |_: &Env, l: &JsFunction<'_>, _: &Arc<str>| -> Result<Arc<dyn BatchMessageListener>> {
        let f = js_call::wrap(l, |(ms, q): BatchDelivery| {
            Ok(FnArgs::from((ms.into_iter().map(Received).collect::<Vec<_>>(), ConsumeContext::from(&q))))
        })?;
        Ok(Arc::new(JsBatchListener(f)))
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_names_are_the_core_names() {
        for name in ACTION_NAMES {
            assert_eq!(CoreAction::from_name(name).map(CoreAction::name), Some(*name));
        }
        for name in ORDER_ACTION_NAMES {
            assert_eq!(CoreOrderAction::from_name(name).map(CoreOrderAction::name), Some(*name));
        }
    }
}
