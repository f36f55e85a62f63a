//! The ONS consumers: [`Consumer`] (concurrent), [`OrderConsumer`] (per-queue order, broker
//! locks) and [`BatchConsumer`] (lists of messages), in CLUSTERING or BROADCASTING mode.
//!
//! Who owns what:
//! * `listener` — the user-facing traits, results and contexts, [`MessageSelector`];
//! * `settings` — consumer properties parsed into typed settings;
//! * `subscription` — subscription data (tags, tag hash codes, SQL92) and the client-side filter;
//! * `allocate` — the Java averagely allocation of queues among a group's instances;
//! * `process_queue` — per-queue in-flight messages and the committable offset;
//! * `offset_store` — the offset table, broker offsets and the broadcasting offset file;
//! * `pull` — the PULL_MESSAGE request and response decoding;
//! * `failure_report` — how what keeps failing (pulls, route lookups) is logged;
//! * `retry` — send-back and the retry-topic (producer path) fallback, dead-letter moves;
//! * `lock` — orderly queue locks at the brokers;
//! * `pool` — the threads listeners run on;
//! * `engine` — the running consumer: rebalance, pull loops, dispatch, persistence, shutdown;
//! * `api` — the three ONS consumer handles;
//! * `pull_consumer` — the ONS [`PullConsumer`] (poll instead of a listener; Java's
//!   `DefaultLitePullConsumer`), built on the same pull, offset and allocation parts.

mod allocate;
mod api;
mod consume_pool;
mod engine;
mod failure_report;
mod listener;
mod lock;
mod offset_store;
mod process_queue;
pub(crate) mod pull;
mod pull_consumer;
mod retry;
mod settings;
pub(crate) mod subscription;

pub use allocate::{allocate_averagely, allocate_by_circle, AllocateStrategy};
pub use api::{BatchConsumer, Consumer, OrderConsumer};
pub use listener::{
    Action, ActionReply, BatchMessageListener, ConsumeContext, ConsumeOrderContext, DeferredMessageListener,
    DeliveredMessage, MessageListener, MessageOrderListener, MessageSelector, OrderAction,
};
pub use pull_consumer::{PullConsumer, TopicPartitionChangeListener};
pub use settings::{ConsumeFromWhere, ConsumerKind, ConsumerSettings, MessageModel};
