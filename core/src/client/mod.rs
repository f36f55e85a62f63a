//! The shared client instance (name servers, route cache, broker connections, heartbeats) and
//! namespace handling.

pub mod instance;
pub mod namespace;

pub use instance::ClientInstance;
