//! Message lookups on brokers: reading a stored message by commit-log offset
//! (VIEW_MESSAGE_BY_ID 33) or by key (QUERY_MESSAGE 12). Topic and group management headers
//! are in [`topic_admin`](super::topic_admin) and [`group_admin`](super::group_admin).

use crate::protocol::codes::request;

/// The field that makes QUERY_MESSAGE look `key` up as a message id (unique key) rather than as
/// a business key (Java `MixAll.UNIQUE_MSG_QUERY_FLAG`). It is not a field of the header class
/// but added beside it, which is why ACL signing treats it apart (`client::instance`).
pub const UNIQUE_KEY_QUERY: &str = "_UNIQUE_KEY_QUERY";

request_header! {
    /// Java `ViewMessageRequestHeader`.
    pub struct ViewMessageRequestHeader<'a>, code request::VIEW_MESSAGE_BY_ID, {
        topic: &'a str => "topic",
        /// The message's commit-log offset (from its offset message id).
        offset: i64 => "offset",
    }
}

request_header! {
    /// Java `QueryMessageRequestHeader`, plus the [`UNIQUE_KEY_QUERY`] flag.
    pub struct QueryMessageRequestHeader<'a>, code request::QUERY_MESSAGE, {
        topic: &'a str => "topic",
        key: &'a str => "key",
        max_num: i32 => "maxNum",
        /// Milliseconds since the epoch.
        begin_timestamp: i64 => "beginTimestamp",
        end_timestamp: i64 => "endTimestamp",
        unique_key_query: bool => UNIQUE_KEY_QUERY,
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{fields_of, vector};
    use super::*;
    use crate::protocol::headers::RequestHeader;

    #[test]
    fn view_message() {
        let h = ViewMessageRequestHeader { topic: "T", offset: 4096 };
        assert_eq!(h.code(), 33);
        assert_eq!(fields_of(&h), vector(&[("topic", "T"), ("offset", "4096")]));
    }

    #[test]
    fn query_message() {
        let h = QueryMessageRequestHeader {
            topic: "T",
            key: "K",
            max_num: 32,
            begin_timestamp: 1,
            end_timestamp: i64::MAX,
            unique_key_query: true,
        };
        assert_eq!(h.code(), 12);
        assert_eq!(
            fields_of(&h),
            vector(&[
                ("topic", "T"),
                ("key", "K"),
                ("maxNum", "32"),
                ("beginTimestamp", "1"),
                ("endTimestamp", "9223372036854775807"),
                ("_UNIQUE_KEY_QUERY", "true"),
            ])
        );
    }
}
