//! Sockets: one owner task pair per connection (see [`connection`]) and a pool that keeps one
//! live connection per address (see [`pool`]).

pub mod connection;
pub mod pool;

pub use connection::{Connection, InboundHandler, InboundRequest, Responder};
pub use pool::ConnectionPool;
