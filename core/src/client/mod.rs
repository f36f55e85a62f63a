//! The shared client instance (name servers, credentials, route cache, broker connections,
//! heartbeats), its name-server list (fixed or from an address server), the process's identity
//! on the wire, and namespace handling.

pub mod identity;
pub mod instance;
pub mod name_servers;
pub mod namespace;

pub use instance::ClientInstance;
