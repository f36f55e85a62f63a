//! Sockets: one owner task pair per connection (see [`connection`]) writing through its
//! outbox (`outbox.rs`), a pool that keeps one
//! live connection per address (see [`pool`]), and TLS on top of TCP (see [`tls`]).

pub mod connection;
mod outbox;
pub mod pool;
pub mod tls;

pub use connection::{Connection, InboundHandler, InboundRequest, Responder};
pub use pool::ConnectionPool;
