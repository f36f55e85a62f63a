//! `rocketmq_ons`: a RocketMQ client speaking the classic TCP "remoting" protocol to name
//! servers and brokers, with the Alibaba Cloud ONS API (producers, consumers, property keys)
//! on top. This crate is the single place where RocketMQ behaviour lives; the C, Python and
//! Node bindings only translate types and threads.
//!
//! The crate is async (tokio) and never creates a runtime of its own: `start()` must be called
//! within one, and the client's connections and background tasks live on it.

/// Modules of the wire level: public only with the `unstable` feature (this project's own
/// tests, fuzz targets and tools), crate-internal otherwise.
macro_rules! wire_level_modules {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[cfg(feature = "unstable")]
        pub mod $name;
        $(#[$doc])*
        #[cfg(not(feature = "unstable"))]
        // What only the tests and fuzzers use (encoders of stored messages, every response
        // code, the modules' re-exports) is unreachable in such a build: not dead.
        #[allow(dead_code, unused_imports)]
        pub(crate) mod $name;
    )*};
}

pub mod admin;
pub mod auth;
pub mod config;
pub mod consumer;
pub mod error;
pub(crate) mod hashing;
pub mod http;
pub mod log_limit;
pub mod message;
pub(crate) mod process;
pub mod producer;
pub mod trace;

wire_level_modules! {
    client;
    protocol;
    transport;
}

pub use config::Properties;
pub use consumer::{
    Action, BatchConsumer, BatchMessageListener, ConsumeContext, ConsumeOrderContext, Consumer, MessageListener,
    MessageOrderListener, MessageSelector, OrderAction, OrderConsumer, PullConsumer,
};
pub use error::{Error, ErrorKind, Result};
pub use message::{Message, SendResult, SendStatus};
/// The id of the calling process, cached and right across fork() (bindings bind handles to it).
pub use process::id as current_process_id;
pub use producer::{LocalTransactionChecker, OrderProducer, Producer, TransactionProducer, TransactionStatus};
pub use protocol::route::MessageQueue;

/// The README's Rust example, compiled by `cargo test --doc` so that it stays true.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeExample;
