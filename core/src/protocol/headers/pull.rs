//! PULL_MESSAGE (11): the request header a consumer sends for one queue (Java
//! `PullMessageRequestHeader`) and the header of its response (Java
//! `PullMessageResponseHeader`). What the pulled messages become is the consumer's business
//! (`consumer::pull`).

use super::BNAME;
use crate::error::Result;
use crate::protocol::codes::request;
use crate::protocol::command::RemotingCommand;

request_header! {
    /// Java `PullMessageRequestHeader`.
    pub struct PullMessageRequestHeader<'a>, code request::PULL_MESSAGE, {
        consumer_group: &'a str => "consumerGroup",
        topic: &'a str => "topic",
        queue_id: i32 => "queueId",
        /// Where the pull starts.
        queue_offset: i64 => "queueOffset",
        max_msg_nums: u32 => "maxMsgNums",
        /// `protocol::message::pull_sys_flag` bits: commit offset, suspend, subscription, ...
        sys_flag: i32 => "sysFlag",
        /// The consumer offset to commit along with the pull (when the sys flag says so).
        commit_offset: i64 => "commitOffset",
        /// How long the broker may hold a pull that finds nothing.
        suspend_timeout_millis: u64 => "suspendTimeoutMillis",
        /// The subscription expression (tags or SQL92).
        subscription: &'a str => "subscription",
        sub_version: i64 => "subVersion",
        /// `TAG` or `SQL92`.
        expression_type: &'a str => "expressionType",
        /// Byte budget of one reply (5.x brokers honour it).
        max_msg_bytes: u32 => "maxMsgBytes",
        broker_name: &'a str => BNAME,
    }
}

/// The offsets a pull response carries, whatever its code (found, nothing new, offset moved).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PullMessageResponseHeader {
    /// Where the next pull starts.
    pub next_begin_offset: i64,
    pub min_offset: i64,
    pub max_offset: i64,
    /// Added to the queue offsets stored in the messages: non-zero when a 5.x broker serves
    /// a queue through a static-topic mapping. Lenient: absent or malformed reads as 0, as
    /// older brokers do not send it.
    pub offset_delta: i64,
    /// Which broker of the set (brokerId: 0 the master, 1.. slaves) the next pull of this queue
    /// should go to (Java `PullAPIWrapper.updatePullFromWhichNode`). Lenient: absent or
    /// malformed reads as 0, the master.
    pub suggest_which_broker_id: i64,
}

impl PullMessageResponseHeader {
    pub fn decode(resp: &RemotingCommand) -> Result<Self> {
        Ok(PullMessageResponseHeader {
            next_begin_offset: resp.ext_parse("nextBeginOffset")?,
            min_offset: resp.ext_parse("minOffset")?,
            max_offset: resp.ext_parse("maxOffset")?,
            offset_delta: resp.ext("offsetDelta").and_then(|v| v.parse().ok()).unwrap_or(0),
            suggest_which_broker_id: resp.ext("suggestWhichBrokerId").and_then(|v| v.parse().ok()).unwrap_or(0),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{fields_of, vector};
    use super::*;
    use crate::protocol::headers::RequestHeader;

    #[test]
    fn request_writes_the_java_names() {
        let header = PullMessageRequestHeader {
            consumer_group: "G",
            topic: "NS%T",
            queue_id: 2,
            queue_offset: 7,
            max_msg_nums: 32,
            sys_flag: 7,
            commit_offset: 5,
            suspend_timeout_millis: 15000,
            subscription: "A || B",
            sub_version: 1_700_000_000_000,
            expression_type: "TAG",
            max_msg_bytes: 262144,
            broker_name: "broker-a",
        };
        assert_eq!(header.code(), 11);
        assert_eq!(
            fields_of(&header),
            vector(&[
                ("consumerGroup", "G"),
                ("topic", "NS%T"),
                ("queueId", "2"),
                ("queueOffset", "7"),
                ("maxMsgNums", "32"),
                ("sysFlag", "7"),
                ("commitOffset", "5"),
                ("suspendTimeoutMillis", "15000"),
                ("subscription", "A || B"),
                ("subVersion", "1700000000000"),
                ("expressionType", "TAG"),
                ("maxMsgBytes", "262144"),
                ("bname", "broker-a"),
            ])
        );
    }

    #[test]
    fn response_requires_the_offsets_but_not_the_delta() {
        let resp = RemotingCommand::response(19, 1, None)
            .with_ext("nextBeginOffset", 13)
            .with_ext("minOffset", 0)
            .with_ext("maxOffset", 13)
            .with_ext("suggestWhichBrokerId", 0);
        let h = PullMessageResponseHeader::decode(&resp).unwrap();
        assert_eq!(
            h,
            PullMessageResponseHeader {
                next_begin_offset: 13,
                min_offset: 0,
                max_offset: 13,
                offset_delta: 0,
                suggest_which_broker_id: 0
            }
        );
        let moved = resp.clone().with_ext("offsetDelta", 100);
        assert_eq!(PullMessageResponseHeader::decode(&moved).unwrap().offset_delta, 100);
        let to_slave = resp.clone().with_ext("suggestWhichBrokerId", 1);
        assert_eq!(PullMessageResponseHeader::decode(&to_slave).unwrap().suggest_which_broker_id, 1);
        let missing = RemotingCommand::response(0, 1, None).with_ext("minOffset", 0).with_ext("maxOffset", 1);
        assert!(PullMessageResponseHeader::decode(&missing).unwrap_err().message().contains("nextBeginOffset"));
    }
}
