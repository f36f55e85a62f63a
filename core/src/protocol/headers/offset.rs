//! Offsets: a group's committed consumer offset (QUERY_CONSUMER_OFFSET 14,
//! UPDATE_CONSUMER_OFFSET 15) and a queue's own offsets (GET_MAX_OFFSET 30, GET_MIN_OFFSET 31,
//! SEARCH_OFFSET_BY_TIMESTAMP 29). All five answer with one `offset` field.

use super::BNAME;
use crate::error::Result;
use crate::protocol::codes::request;
use crate::protocol::command::RemotingCommand;

request_header! {
    /// Java `QueryConsumerOffsetRequestHeader`.
    pub struct QueryConsumerOffsetRequestHeader<'a>, code request::QUERY_CONSUMER_OFFSET, {
        consumer_group: &'a str => "consumerGroup",
        topic: &'a str => "topic",
        queue_id: i32 => "queueId",
        broker_name: &'a str => BNAME,
    }
}

request_header! {
    /// Java `UpdateConsumerOffsetRequestHeader`.
    pub struct UpdateConsumerOffsetRequestHeader<'a>, code request::UPDATE_CONSUMER_OFFSET, {
        consumer_group: &'a str => "consumerGroup",
        topic: &'a str => "topic",
        queue_id: i32 => "queueId",
        commit_offset: i64 => "commitOffset",
        broker_name: &'a str => BNAME,
    }
}

request_header! {
    /// Java `GetMaxOffsetRequestHeader`: the offset the queue's next message will get.
    pub struct GetMaxOffsetRequestHeader<'a>, code request::GET_MAX_OFFSET, {
        topic: &'a str => "topic",
        queue_id: i32 => "queueId",
        /// Sent when the caller knows the queue's broker name.
        broker_name: Option<&'a str> => BNAME,
    }
}

request_header! {
    /// Java `GetMinOffsetRequestHeader`: the offset of the queue's oldest stored message.
    pub struct GetMinOffsetRequestHeader<'a>, code request::GET_MIN_OFFSET, {
        topic: &'a str => "topic",
        queue_id: i32 => "queueId",
        broker_name: &'a str => BNAME,
    }
}

request_header! {
    /// Java `SearchOffsetRequestHeader`: the offset of the first message stored at or after
    /// `timestamp`.
    pub struct SearchOffsetRequestHeader<'a>, code request::SEARCH_OFFSET_BY_TIMESTAMP, {
        topic: &'a str => "topic",
        queue_id: i32 => "queueId",
        /// Milliseconds since the epoch.
        timestamp: i64 => "timestamp",
        broker_name: &'a str => BNAME,
    }
}

/// The answer of every request in this module (Java `QueryConsumerOffsetResponseHeader`,
/// `GetMaxOffsetResponseHeader`, `SearchOffsetResponseHeader`: one `offset` field each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OffsetResponseHeader {
    pub offset: i64,
}

impl OffsetResponseHeader {
    pub fn decode(resp: &RemotingCommand) -> Result<Self> {
        Ok(OffsetResponseHeader { offset: resp.ext_parse("offset")? })
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{fields_of, vector};
    use super::*;
    use crate::protocol::headers::RequestHeader;

    #[test]
    fn consumer_offset_requests() {
        let query = QueryConsumerOffsetRequestHeader { consumer_group: "G", topic: "T", queue_id: 1, broker_name: "b" };
        assert_eq!(query.code(), 14);
        assert_eq!(
            fields_of(&query),
            vector(&[("consumerGroup", "G"), ("topic", "T"), ("queueId", "1"), ("bname", "b")])
        );
        let update = UpdateConsumerOffsetRequestHeader {
            consumer_group: "G",
            topic: "T",
            queue_id: 1,
            commit_offset: 42,
            broker_name: "b",
        };
        assert_eq!(update.code(), 15);
        assert_eq!(
            fields_of(&update),
            vector(&[("consumerGroup", "G"), ("topic", "T"), ("queueId", "1"), ("commitOffset", "42"), ("bname", "b")])
        );
    }

    #[test]
    fn queue_offset_requests() {
        let max = GetMaxOffsetRequestHeader { topic: "T", queue_id: 3, broker_name: None };
        assert_eq!(max.code(), 30);
        assert_eq!(fields_of(&max), vector(&[("topic", "T"), ("queueId", "3")]));
        let max = GetMaxOffsetRequestHeader { broker_name: Some("b"), ..max };
        assert_eq!(fields_of(&max), vector(&[("topic", "T"), ("queueId", "3"), ("bname", "b")]));
        let min = GetMinOffsetRequestHeader { topic: "T", queue_id: 3, broker_name: "b" };
        assert_eq!(min.code(), 31);
        assert_eq!(fields_of(&min), vector(&[("topic", "T"), ("queueId", "3"), ("bname", "b")]));
        let search =
            SearchOffsetRequestHeader { topic: "T", queue_id: 3, timestamp: 1_700_000_000_000, broker_name: "b" };
        assert_eq!(search.code(), 29);
        assert_eq!(
            fields_of(&search),
            vector(&[("topic", "T"), ("queueId", "3"), ("timestamp", "1700000000000"), ("bname", "b")])
        );
    }

    #[test]
    fn offset_response() {
        let resp = RemotingCommand::response(0, 1, None).with_ext("offset", -1);
        assert_eq!(OffsetResponseHeader::decode(&resp).unwrap().offset, -1);
        assert!(OffsetResponseHeader::decode(&RemotingCommand::response(0, 1, None)).is_err());
    }
}
