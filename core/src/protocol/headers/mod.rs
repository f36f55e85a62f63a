//! Typed request and response headers: one struct per remoting header this client sends or
//! reads, each with the one encoder (or decoder) of its fields. Callers build structs; the
//! field names live here only, spelled exactly as the Java client's header classes
//! (`org.apache.rocketmq.remoting.protocol.header.*`, `common.protocol.header.*` before 5.0),
//! because brokers and name servers bind ext fields to those classes by name.
//!
//! Fields are written only when this client has a value for them: a field the Java classes
//! declare but this client never sets (for example `setZeroIfNotFound`, `boundaryType`) stays
//! off the wire, and the broker applies its default.
//!
//! One module per family: [`send`] (SEND_MESSAGE_V2 and SEND_BATCH_MESSAGE), [`pull`],
//! [`offset`] (consumer offsets and queue offset lookups), [`consumer`] (group members and
//! send-back), [`transaction`], [`client`] (route lookup, unregistering), [`admin`] (message
//! lookups), [`topic_admin`] (creating, deleting, topic stats), [`group_admin`] (deleting a
//! subscription group, consumer connections and progress). Requests whose content is a body
//! only (HEART_BEAT, LOCK_BATCH_MQ, UNLOCK_BATCH_MQ, UPDATE_AND_CREATE_SUBSCRIPTIONGROUP) or
//! nothing (GET_BROKER_RUNTIME_INFO, GET_ALL_TOPIC_LIST_FROM_NAMESERVER,
//! GET_ALL_SUBSCRIPTIONGROUP_CONFIG) have no header here.

use super::command::RemotingCommand;

pub use admin::{QueryMessageRequestHeader, ViewMessageRequestHeader};
pub use client::{GetRouteInfoRequestHeader, UnregisterClientRequestHeader};
pub use consumer::{ConsumerSendMsgBackRequestHeader, GetConsumerListByGroupRequestHeader};
pub use group_admin::{
    ConsumeMessageDirectlyRequestHeader, DeleteSubscriptionGroupRequestHeader, GetConsumeStatsRequestHeader,
    GetConsumerConnectionListRequestHeader, GetConsumerRunningInfoRequestHeader, QueryTopicConsumeByWhoRequestHeader,
    ResetOffsetRequestHeader,
};
pub use offset::{
    GetMaxOffsetRequestHeader, GetMinOffsetRequestHeader, OffsetResponseHeader, QueryConsumerOffsetRequestHeader, SearchOffsetRequestHeader,
    UpdateConsumerOffsetRequestHeader,
};
pub use pull::{PullMessageRequestHeader, PullMessageResponseHeader};
pub use send::{SendMessageRequestHeader, SendMessageResponseHeader};
pub use topic_admin::{
    CreateTopicRequestHeader, DeleteTopicFromNamesrvRequestHeader, DeleteTopicRequestHeader,
    GetTopicStatsInfoRequestHeader,
};
pub use transaction::{CheckTransactionStateRequestHeader, EndTransactionRequestHeader};

pub use super::ext_fields::ExtFields;

/// `bname`: the broker a request is meant for, declared by Java's `RpcRequestHeader`
/// (`remoting/rpc/RpcRequestHeader.java`), the base of most 5.x broker request headers. Older
/// brokers ignore it.
pub const BNAME: &str = "bname";

/// A request header: the request code it goes with and the ext fields it writes.
pub trait RequestHeader {
    /// The request code this header is sent with.
    fn code(&self) -> i32;

    /// Writes the header's fields, by their Java names, into `out`.
    fn write_fields(&self, out: &mut ExtFields);

    /// A new request carrying this header (no body).
    fn command(&self) -> RemotingCommand {
        let mut cmd = RemotingCommand::request(self.code());
        // Room for the send header's 14 fields and the signature's four, without growing, in
        // 1008 bytes (see `ext_fields::INLINE_LEN`). Larger headers are admin requests.
        cmd.ext_fields = ExtFields::with_capacity(18);
        self.write_fields(&mut cmd.ext_fields);
        cmd
    }
}

/// A field's value as written: the text [`RemotingCommand::with_ext`] would write (`Display`),
/// so a typed header puts the same strings on the wire as the hand-written fields it replaced;
/// `None` writes no field at all.
pub trait FieldValue {
    fn write_to(&self, out: &mut ExtFields, name: &'static str);
}

impl FieldValue for &str {
    fn write_to(&self, out: &mut ExtFields, name: &'static str) {
        out.insert(name, *self);
    }
}

impl FieldValue for bool {
    fn write_to(&self, out: &mut ExtFields, name: &'static str) {
        out.insert(name, if *self { "true" } else { "false" });
    }
}

macro_rules! integer_field_value {
    ($($ty:ty),*) => {$(
        impl FieldValue for $ty {
            fn write_to(&self, out: &mut ExtFields, name: &'static str) {
                out.insert(name, itoa::Buffer::new().format(*self));
            }
        }
    )*};
}
integer_field_value!(i32, i64, u32, u64);

impl<T: FieldValue> FieldValue for Option<T> {
    fn write_to(&self, out: &mut ExtFields, name: &'static str) {
        if let Some(value) = self {
            value.write_to(out, name);
        }
    }
}

/// Declares a request header: the struct, and its [`RequestHeader`] impl writing each field
/// under the wire name given after `=>`, in one table, so a field's Rust name and its Java
/// name stand on the same line.
macro_rules! request_header {
    (
        $(#[$meta:meta])*
        pub struct $name:ident<$lt:lifetime>, code $code:expr, {
            $( $(#[$field_meta:meta])* $field:ident: $ty:ty => $wire:expr, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name<$lt> {
            $( $(#[$field_meta])* pub $field: $ty, )*
        }

        impl $crate::protocol::headers::RequestHeader for $name<'_> {
            fn code(&self) -> i32 {
                $code
            }

            fn write_fields(&self, out: &mut $crate::protocol::headers::ExtFields) {
                $( $crate::protocol::headers::FieldValue::write_to(&self.$field, out, $wire); )*
            }
        }
    };
}

// Declared after the macro: `macro_rules!` is in scope only below its definition.
pub mod admin;
pub mod client;
pub mod consumer;
pub mod group_admin;
pub mod offset;
pub mod pull;
pub mod send;
pub mod topic_admin;
pub mod transaction;

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;

    /// The fields a header writes, for comparison with a fixed vector.
    pub fn fields_of(header: &impl RequestHeader) -> Vec<(String, String)> {
        let cmd = header.command();
        cmd.ext_fields.iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect()
    }

    /// A fixed vector: field names and values, in any order.
    pub fn vector(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        v.sort();
        v
    }
}
