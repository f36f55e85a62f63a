//! Bytes in, bytes out, no sockets: the remoting frame and command, request/response codes,
//! typed request and response headers, message encoding and the stored-message decoder, message ids, route JSON.
//!
//! Every decoder here returns an error on malformed input; none panics on arbitrary bytes
//! (property tests in each module).

pub mod codes;
pub mod command;
pub mod ext_fields;
pub mod headers;
pub mod java_hash;
pub mod lenient_json;
pub mod message;
pub mod msgid;
pub(crate) mod name_order;
pub(crate) mod quote_map;
pub mod route;
