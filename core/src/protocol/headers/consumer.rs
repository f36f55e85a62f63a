//! Consumer-group requests to brokers: the group's live members (GET_CONSUMER_LIST_BY_GROUP 38)
//! and handing a failed message back for a later retry (CONSUMER_SEND_MSG_BACK 36).

use super::BNAME;
use crate::protocol::codes::request;

request_header! {
    /// Java `GetConsumerListByGroupRequestHeader`. The answer is a JSON body (`consumerIdList`).
    pub struct GetConsumerListByGroupRequestHeader<'a>, code request::GET_CONSUMER_LIST_BY_GROUP, {
        consumer_group: &'a str => "consumerGroup",
    }
}

request_header! {
    /// Java `ConsumerSendMsgBackRequestHeader`: the broker re-stores the message at `offset` in
    /// the group's retry topic, or in its dead-letter queue after `max_reconsume_times`.
    pub struct ConsumerSendMsgBackRequestHeader<'a>, code request::CONSUMER_SEND_MSG_BACK, {
        /// The message's commit-log offset.
        offset: i64 => "offset",
        group: &'a str => "group",
        /// 0 lets the broker choose (3 + reconsume times).
        delay_level: i32 => "delayLevel",
        origin_msg_id: &'a str => "originMsgId",
        /// The message's topic, namespace included.
        origin_topic: &'a str => "originTopic",
        unit_mode: bool => "unitMode",
        max_reconsume_times: i32 => "maxReconsumeTimes",
        /// The broker that stored the message.
        broker_name: &'a str => BNAME,
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{fields_of, vector};
    use super::*;
    use crate::protocol::headers::RequestHeader;

    #[test]
    fn consumer_list() {
        let h = GetConsumerListByGroupRequestHeader { consumer_group: "NS%G" };
        assert_eq!(h.code(), 38);
        assert_eq!(fields_of(&h), vector(&[("consumerGroup", "NS%G")]));
    }

    #[test]
    fn send_back() {
        let h = ConsumerSendMsgBackRequestHeader {
            offset: 1234,
            group: "G",
            delay_level: 0,
            origin_msg_id: "ID",
            origin_topic: "T",
            unit_mode: false,
            max_reconsume_times: 16,
            broker_name: "b",
        };
        assert_eq!(h.code(), 36);
        assert_eq!(
            fields_of(&h),
            vector(&[
                ("offset", "1234"),
                ("group", "G"),
                ("delayLevel", "0"),
                ("originMsgId", "ID"),
                ("originTopic", "T"),
                ("unitMode", "false"),
                ("maxReconsumeTimes", "16"),
                ("bname", "b"),
            ])
        );
    }
}
