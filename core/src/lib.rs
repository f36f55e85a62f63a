//! `rocketmq_ons`: a RocketMQ client speaking the classic TCP "remoting" protocol to name
//! servers and brokers, with the Alibaba Cloud ONS API (producers, consumers, property keys)
//! on top. This crate is the single place where RocketMQ behaviour lives; the C, Python and
//! Node bindings only translate types and threads.
//!
//! The crate is async (tokio) and never creates a runtime of its own.

pub mod auth;
pub mod error;
pub mod protocol;

pub use error::{Error, ErrorKind, Result};
