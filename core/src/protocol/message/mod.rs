//! Message bytes: the properties string (docs/remoting-protocol.md §5.2), the property keys and
//! the reserved set (§5.3), batch bodies (§5.4), message and pull sys flags (§5.5), body
//! compression (zlib, LZ4 frames and Zstandard, as the Java 5.x client writes them;
//! docs/compression.md), and the stored-message layout brokers return in pull, query, view and
//! check-transaction bodies (§6.1), including inner-batch unwrapping (§6.2).
//!
//! Decoders take untrusted bytes: every length is checked against the bytes that remain,
//! decompression is capped, and nothing here panics on any input (property tests below).
//!
//! # Bad entries in a stored-message body
//!
//! Java stops at the first entry it cannot decode and silently drops the rest. Here:
//! * [`decode_stored_messages`] is all-or-nothing: the first bad entry fails the call, and the
//!   error names the entry index, its byte offset and its queue offset when readable.
//! * [`decode_stored_messages_lenient`] returns every entry it could decode plus one
//!   [`EntryFailure`] per entry it could not. When the bad entry's TOTALSIZE frame is intact
//!   (for example an LZ4 body or a corrupt zlib stream) only that entry is skipped and the walk
//!   goes on; when the frame itself is broken the walk stops there, and the failure says how
//!   many bytes were left undecoded. Nothing is dropped without a failure record.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use bytes::Bytes;

use super::msgid::encode_offset_msg_id;
use crate::error::{Error, Result};

mod keys;
mod flags;
mod properties;
mod stored_properties;
mod compression;
mod reader;
mod batch;
mod stored;
#[cfg(test)]
mod tests;

pub use self::keys::*;
pub use self::flags::*;
pub use self::properties::*;
pub use self::stored_properties::{Iter as StoredPropertiesIter, StoredProperties};
pub use self::compression::*;
use self::reader::*;
pub use self::batch::*;
pub use self::stored::*;
