//! Node.js binding of `rocketmq_ons` (napi-rs): the ONS API in JS style. It translates types and
//! threads only; every RocketMQ behaviour is the core's.
//!
//! Threads: the addon owns one tokio runtime (napi-rs's, configured in [`init`]); the core's
//! connections and tasks run on its workers, and JS code only ever on the event loop. Promises
//! and `Consumer` listener calls cross between the two through `js_thread` (batched both ways);
//! order and batch listeners wait on the runtime's blocking threads (see `js_call`). The core's
//! log reaches JS the same way, as process warnings or through `setLogHandler` (see `log`).

mod admin;
mod args;
mod config;
mod consumer;
mod core_call;
mod error;
mod js_call;
mod js_thread;
mod log;
mod message;
mod open_api;
mod producer;
mod pull_consumer;
mod trace_counts;

use napi::bindgen_prelude::*;
use napi_derive::napi;

pub use admin::{
    Admin, BrokerRole, BrokerSubscriptionGroups, ClusterBroker, ConsumeMessageDirectlyResult, ConsumeStats,
    ConsumeStatus, ConsumerClient, ConsumerConnections, ConsumerRunningInfo, ConsumerSubscription,
    CustomizedRetryPolicy, DirectConsumeResult, ExponentialRetryPolicy, GroupRetryPolicy, MessageTrack,
    ProcessQueueInfo, QueueConsumeStats, QueueOffset, ResetPosition, RetryPolicyType, RouteBroker, RouteQueues,
    SubscriptionGroupConfig, SubscriptionGroupSettings, TopicConfig, TopicQueueStats, TopicRoute, TopicStats,
    TrackType,
};
pub use config::{PropertyKeyConst, PropertyValueConst};
pub use consumer::{
    Action, BatchConsumer, BatchMessageStream, Consumer, MessageStream, OrderAction, OrderConsumer, SqlSelector,
};
pub use error::ErrorCode;
pub use log::set_log_handler;
pub use message::{ConsumeContext, Message, SendResult};
pub use open_api::{ApiResponse, AsapiClient, AsapiOptions, AsapiResponse, OpenApiClient, OpenApiOptions};
pub use producer::{OrderProducer, Producer, TransactionProducer, TransactionStatus};
pub use pull_consumer::PullConsumer;
pub use trace_counts::TraceCounts;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Listener threads wait on JS; ConsumeThreadNums may be up to 1000 per consumer, so the
/// blocking pool must not be what limits them (threads are only made when needed).
const MAX_BLOCKING_THREADS: usize = 4096;

#[napi_derive::module_init]
fn init() {
    log::install();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("rocketmq-ons")
        .max_blocking_threads(MAX_BLOCKING_THREADS)
        .build();
    match runtime {
        Ok(rt) => napi::bindgen_prelude::create_custom_tokio_runtime(rt),
        // napi-rs then builds its default runtime, which works with fewer listener threads.
        Err(e) => eprintln!("rocketmq-ons: could not build the tokio runtime ({e}); using the default one"),
    }
}

/// The ONS factory: every client is created from a properties object (`PropertyKeyConst` names;
/// numbers and booleans are accepted as values). Bad properties throw an `Error` with
/// `code === 'INVALID_CONFIG'` naming the property.
#[napi(js_name = "ONSFactory")]
pub struct OnsFactory;

#[napi]
impl OnsFactory {
    #[napi(ts_args_type = "properties: Record<string, string | number | boolean | null | undefined>")]
    pub fn create_producer(env: &Env, properties: Object) -> Result<Producer> {
        Producer::create(env, &config::properties(env, &properties)?)
    }

    #[napi(ts_args_type = "properties: Record<string, string | number | boolean | null | undefined>")]
    pub fn create_order_producer(env: &Env, properties: Object) -> Result<OrderProducer> {
        OrderProducer::create(env, &config::properties(env, &properties)?)
    }

    /// `checker` answers the broker's check-backs of transactions left `Unknow`.
    #[napi(
        ts_args_type = "properties: Record<string, string | number | boolean | null | undefined>, checker: (message: Message) => TransactionStatus | Promise<TransactionStatus>"
    )]
    pub fn create_transaction_producer(
        env: &Env,
        properties: Object,
        checker: Unknown<'_>,
    ) -> Result<TransactionProducer> {
        let checker = js_call::function_arg(env, checker, "createTransactionProducer: checker")?;
        TransactionProducer::create(env, &config::properties(env, &properties)?, &checker)
    }

    #[napi(ts_args_type = "properties: Record<string, string | number | boolean | null | undefined>")]
    pub fn create_consumer(env: &Env, properties: Object) -> Result<Consumer> {
        Consumer::create(env, &config::properties(env, &properties)?)
    }

    #[napi(ts_args_type = "properties: Record<string, string | number | boolean | null | undefined>")]
    pub fn create_ordered_consumer(env: &Env, properties: Object) -> Result<OrderConsumer> {
        OrderConsumer::create(env, &config::properties(env, &properties)?)
    }

    #[napi(ts_args_type = "properties: Record<string, string | number | boolean | null | undefined>")]
    pub fn create_batch_consumer(env: &Env, properties: Object) -> Result<BatchConsumer> {
        BatchConsumer::create(env, &config::properties(env, &properties)?)
    }

    /// A `PullConsumer`: messages are asked for with `poll()` or `for await`, not pushed to a
    /// listener (autoCommit, autoCommitIntervalMillis, pollTimeoutMillis, maxBatchMessageCount
    /// apply).
    #[napi(ts_args_type = "properties: Record<string, string | number | boolean | null | undefined>")]
    pub fn create_pull_consumer(env: &Env, properties: Object) -> Result<PullConsumer> {
        PullConsumer::create(env, &config::properties(env, &properties)?)
    }
}
