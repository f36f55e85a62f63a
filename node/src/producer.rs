//! The ONS producers in JS: `Producer`, `OrderProducer`, `TransactionProducer`. Every send
//! returns a Promise settled from the core's future; nothing here decides how a send behaves.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use rocketmq_ons::log_limit::{LogLimiter, INTERVAL};
use rocketmq_ons::producer::TransactionStatus as CoreStatus;
use rocketmq_ons::{
    LocalTransactionChecker, Message as CoreMessage, OrderProducer as CoreOrderProducer, Producer as CoreProducer,
    Properties, TransactionProducer as CoreTransactionProducer,
};

use crate::core_call::{promise, start_in_runtime};
use crate::error;
use crate::js_call::{self, Expect, JsFn, JsFunction};
use crate::js_thread::Start;
use crate::message::{Message, Outgoing, Received, SendResult};

/// The lifecycle methods every producer class has (a second `#[napi] impl` block of `$name`).
macro_rules! producer_lifecycle {
    ($name:ident) => {
        #[napi]
        impl $name {
            /// Connects; sends fail with `NOT_STARTED` before this.
            #[napi]
            pub fn start(&self, env: &Env) -> Result<()> {
                start_in_runtime(env, || self.inner.start())
            }

            #[napi(ts_return_type = "Promise<void>")]
            pub fn shutdown<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, ()>> {
                let inner = self.inner.clone();
                let fut = async move {
                    inner.shutdown().await;
                    Ok(())
                };
                promise(env, Start::OnRuntime, fut, |_, ()| Ok(()))
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

/// The ONS `Producer`: normal and timed messages; `send` (with retries on another broker),
/// `sendAsync` (the ONS async policy: only transport failures are retried), `sendOneway` (no
/// answer awaited) and `sendBatch`. One instance may send to many topics, concurrently.
#[napi]
pub struct Producer {
    inner: Arc<CoreProducer>,
}

#[napi]
impl Producer {
    pub(crate) fn create(env: &Env, props: &Properties) -> Result<Self> {
        let inner = CoreProducer::new(props).map_err(|e| error::to_js(env, &e))?;
        Ok(Producer { inner: Arc::new(inner) })
    }

    #[napi(ts_args_type = "message: Message", ts_return_type = "Promise<SendResult>")]
    pub fn send<'env>(&self, env: &'env Env, message: Outgoing) -> Result<PromiseRaw<'env, SendResult>> {
        let (inner, msg) = (self.inner.clone(), message.0);
        promise(env, Start::for_send(&msg), async move { inner.send(&msg).await }, |_, r| Ok(SendResult::from(r)))
    }

    #[napi(ts_args_type = "message: Message", ts_return_type = "Promise<SendResult>")]
    pub fn send_async<'env>(&self, env: &'env Env, message: Outgoing) -> Result<PromiseRaw<'env, SendResult>> {
        let (inner, msg) = (self.inner.clone(), message.0);
        promise(env, Start::for_send(&msg), async move { inner.send_async(&msg).await }, |_, r| Ok(SendResult::from(r)))
    }

    /// Resolves once the request is written; the broker does not answer.
    #[napi(ts_args_type = "message: Message", ts_return_type = "Promise<void>")]
    pub fn send_oneway<'env>(&self, env: &'env Env, message: Outgoing) -> Result<PromiseRaw<'env, ()>> {
        let (inner, msg) = (self.inner.clone(), message.0);
        promise(env, Start::for_send(&msg), async move { inner.send_oneway(&msg).await }, |_, ()| Ok(()))
    }

    /// Sends messages of one topic in one request.
    #[napi(ts_args_type = "messages: Array<Message>", ts_return_type = "Promise<SendResult[]>")]
    pub fn send_batch<'env>(
        &self,
        env: &'env Env,
        messages: Either<Vec<Outgoing>, Unknown<'_>>,
    ) -> Result<PromiseRaw<'env, Vec<SendResult>>> {
        // Converted by napi (a class instance can only be borrowed there); anything else is named.
        let messages = match messages {
            Either::A(messages) => messages,
            Either::B(other) => {
                let got = match other.is_array()? {
                    true => "an array holding something else",
                    false => js_call::typeof_name(other.get_type()?),
                };
                let text =
                    format!("sendBatch: messages must be an array of Message (new Message or received); got {got}");
                return Err(error::type_error(env, text));
            }
        };
        let msgs: Vec<CoreMessage> = messages.into_iter().map(|m| m.0).collect();
        let inner = self.inner.clone();
        promise(env, Start::OnRuntime, async move { inner.send_batch(&msgs).await }, |_, rs| {
            Ok(rs.into_iter().map(SendResult::from).collect())
        })
    }
}

/// The ONS `OrderProducer`: messages with the same sharding key go to the same queue.
#[napi]
pub struct OrderProducer {
    inner: Arc<CoreOrderProducer>,
}

#[napi]
impl OrderProducer {
    pub(crate) fn create(env: &Env, props: &Properties) -> Result<Self> {
        let inner = CoreOrderProducer::new(props).map_err(|e| error::to_js(env, &e))?;
        Ok(OrderProducer { inner: Arc::new(inner) })
    }

    #[napi(ts_args_type = "message: Message, shardingKey: string", ts_return_type = "Promise<SendResult>")]
    pub fn send<'env>(
        &self,
        env: &'env Env,
        message: Outgoing,
        sharding_key: Unknown<'_>,
    ) -> Result<PromiseRaw<'env, SendResult>> {
        let sharding_key = js_call::string_arg(env, sharding_key, "send: shardingKey")?;
        let (inner, msg) = (self.inner.clone(), message.0);
        promise(env, Start::for_send(&msg), async move { inner.send(&msg, &sharding_key).await }, |_, r| {
            Ok(SendResult::from(r))
        })
    }
}

/// The ONS `TransactionStatus`.
#[napi(string_enum)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransactionStatus {
    CommitTransaction,
    RollbackTransaction,
    /// Not known yet: the broker will ask the checker later.
    Unknow,
}

const STATUS_NAMES: &[&str] = &["CommitTransaction", "RollbackTransaction", "Unknow"];

/// The ONS names of the core's statuses (the core has no name table for them yet).
fn status_from_name(name: Option<&str>) -> CoreStatus {
    match name {
        Some("CommitTransaction") => CoreStatus::CommitTransaction,
        Some("RollbackTransaction") => CoreStatus::RollbackTransaction,
        _ => CoreStatus::Unknow,
    }
}

static EXECUTOR: Expect = Expect {
    what: "local transaction executor",
    accepted: STATUS_NAMES,
    on_failure: "TransactionStatus.Unknow",
    instead: "return TransactionStatus.CommitTransaction or RollbackTransaction to settle it",
    limiter: LogLimiter::new(INTERVAL),
};
static CHECKER: Expect = Expect {
    what: "local transaction checker",
    accepted: STATUS_NAMES,
    on_failure: "TransactionStatus.Unknow",
    instead: "return TransactionStatus.CommitTransaction or RollbackTransaction to settle it",
    limiter: LogLimiter::new(INTERVAL),
};

/// The checker is given the half message the broker asks about, a received message.
fn checker_fn(function: &JsFunction<'_>) -> Result<JsFn<CoreMessage, Received>> {
    js_call::wrap(function, |m: CoreMessage| Ok(Received(m)))
}

/// The executor is given the message being sent, as a `Message` of its own.
fn executor_fn(function: &JsFunction<'_>) -> Result<JsFn<CoreMessage, Message>> {
    js_call::wrap(function, |m: CoreMessage| Ok(Message::from(m)))
}

/// Answers the broker's check-backs through the user's (possibly async) checker function.
struct JsChecker(JsFn<CoreMessage, Received>);

impl LocalTransactionChecker for JsChecker {
    fn check(&self, msg: CoreMessage) -> Pin<Box<dyn Future<Output = CoreStatus> + Send + 'static>> {
        let answer = js_call::call(&self.0, msg, &CHECKER);
        Box::pin(async move { status_from_name(answer.await.ok().flatten()) })
    }
}

/// The ONS `TransactionProducer`: `send(message, executor)` sends a half message, runs the
/// executor, and commits or rolls back by its answer; the checker answers the broker's
/// check-backs. Executor and checker may be async; a throw counts as `Unknow`.
#[napi]
pub struct TransactionProducer {
    inner: Arc<CoreTransactionProducer>,
}

#[napi]
impl TransactionProducer {
    pub(crate) fn create(env: &Env, props: &Properties, checker: &JsFunction<'_>) -> Result<Self> {
        let checker = Arc::new(JsChecker(checker_fn(checker)?));
        let inner = CoreTransactionProducer::new(props, checker).map_err(|e| error::to_js(env, &e))?;
        Ok(TransactionProducer { inner: Arc::new(inner) })
    }

    #[napi(
        ts_args_type = "message: Message, executor: (message: Message) => TransactionStatus | Promise<TransactionStatus>",
        ts_return_type = "Promise<SendResult>"
    )]
    pub fn send<'env>(
        &self,
        env: &'env Env,
        message: Outgoing,
        executor: Unknown<'_>,
    ) -> Result<PromiseRaw<'env, SendResult>> {
        let executor = executor_fn(&js_call::function_arg(env, executor, "send: executor")?)?;
        let (inner, msg) = (self.inner.clone(), message.0);
        let run = move |m: CoreMessage| {
            let answer = js_call::call(&executor, m, &EXECUTOR);
            async move { status_from_name(answer.await.ok().flatten()) }
        };
        promise(env, Start::OnRuntime, async move { inner.send(&msg, run).await }, |_, r| Ok(SendResult::from(r)))
    }
}

producer_lifecycle!(Producer);
producer_lifecycle!(OrderProducer);
producer_lifecycle!(TransactionProducer);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_names_are_the_ons_names() {
        assert_eq!(status_from_name(Some("CommitTransaction")), CoreStatus::CommitTransaction);
        assert_eq!(status_from_name(Some("RollbackTransaction")), CoreStatus::RollbackTransaction);
        assert_eq!(status_from_name(Some("Unknow")), CoreStatus::Unknow);
        assert_eq!(status_from_name(None), CoreStatus::Unknow);
    }
}
