//! The shared client instance (name servers, route cache, broker connections, heartbeats),
//! the process's identity on the wire, and namespace handling.

pub mod identity;
pub mod instance;
pub mod namespace;

pub use instance::ClientInstance;
