//! Subscription-group management and consumer inspection on brokers: deleting a group's config
//! (DELETE_SUBSCRIPTIONGROUP 207), the group's connected consumers
//! (GET_CONSUMER_CONNECTION_LIST 203) and its consumption progress (GET_CONSUME_STATS 208).
//! Creating a group (UPDATE_AND_CREATE_SUBSCRIPTIONGROUP 200) sends a JSON body and listing
//! them (GET_ALL_SUBSCRIPTIONGROUP_CONFIG 201) nothing, so neither has a header.
//!
//! Also the requests an administrator sends through a broker to a group or to one of its
//! clients: resetting offsets (INVOKE_BROKER_TO_RESET_OFFSET 222), the groups of a topic
//! (QUERY_TOPIC_CONSUME_BY_WHO 300), a client's running info (GET_CONSUMER_RUNNING_INFO 307) and
//! consuming one message directly (CONSUME_MESSAGE_DIRECTLY 309). The broker forwards the last
//! two to the client with the same header, so consumers read these fields back.

use crate::protocol::codes::request;

request_header! {
    /// Java `DeleteSubscriptionGroupRequestHeader`. Whether the group's consumer offsets go too
    /// is `cleanOffset` from 5.0 on and `removeOffset` before
    /// (`common/src/main/java/org/apache/rocketmq/common/protocol/header/DeleteSubscriptionGroupRequestHeader.java`
    /// at `rocketmq-all-4.9.7`); both are written, each broker binds the one its class declares.
    pub struct DeleteSubscriptionGroupRequestHeader<'a>, code request::DELETE_SUBSCRIPTIONGROUP, {
        group_name: &'a str => "groupName",
        clean_offset: bool => "cleanOffset",
        remove_offset: bool => "removeOffset",
    }
}

request_header! {
    /// Java `GetConsumerConnectionListRequestHeader`. The answer is a `ConsumerConnection` body,
    /// or 206 CONSUMER_NOT_ONLINE when no member of the group is connected to the broker.
    pub struct GetConsumerConnectionListRequestHeader<'a>, code request::GET_CONSUMER_CONNECTION_LIST, {
        consumer_group: &'a str => "consumerGroup",
    }
}

request_header! {
    /// Java `GetConsumeStatsRequestHeader`. Without a topic the broker reports every topic the
    /// group has offsets for on it. The answer is a `ConsumeStats` body.
    pub struct GetConsumeStatsRequestHeader<'a>, code request::GET_CONSUME_STATS, {
        consumer_group: &'a str => "consumerGroup",
        topic: Option<&'a str> => "topic",
    }
}

request_header! {
    /// Java `ResetOffsetRequestHeader`. `timestamp` is where to go: the offset of the first
    /// message stored at or after it, `0` for each queue's earliest, `-1` for its latest.
    /// `queueId` -1 (every queue) is what 5.x brokers expect when no queue is named; 4.x brokers
    /// declare no such field and ignore it.
    pub struct ResetOffsetRequestHeader<'a>, code request::INVOKE_BROKER_TO_RESET_OFFSET, {
        topic: &'a str => "topic",
        group: &'a str => "group",
        timestamp: i64 => "timestamp",
        /// Also move offsets forward (mqadmin's default); without it only backwards.
        is_force: bool => "isForce",
        queue_id: i32 => "queueId",
    }
}

request_header! {
    /// Java `QueryTopicConsumeByWhoRequestHeader`.
    pub struct QueryTopicConsumeByWhoRequestHeader<'a>, code request::QUERY_TOPIC_CONSUME_BY_WHO, {
        topic: &'a str => "topic",
    }
}

request_header! {
    /// Java `GetConsumerRunningInfoRequestHeader`: the broker forwards it to the client named.
    pub struct GetConsumerRunningInfoRequestHeader<'a>, code request::GET_CONSUMER_RUNNING_INFO, {
        consumer_group: &'a str => "consumerGroup",
        client_id: &'a str => "clientId",
        /// Java clients add every thread's stack; this client has none to add.
        jstack_enable: bool => "jstackEnable",
    }
}

request_header! {
    /// Java `ConsumeMessageDirectlyResultRequestHeader`. `msgId` is the message's offset message
    /// id: the broker reads the message at that commit-log offset and sends it to the client as
    /// the body, adding `brokerName`.
    pub struct ConsumeMessageDirectlyRequestHeader<'a>, code request::CONSUME_MESSAGE_DIRECTLY, {
        consumer_group: &'a str => "consumerGroup",
        client_id: &'a str => "clientId",
        msg_id: &'a str => "msgId",
        topic: Option<&'a str> => "topic",
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{fields_of, vector};
    use super::*;
    use crate::protocol::headers::RequestHeader;

    #[test]
    fn delete_group() {
        let h = DeleteSubscriptionGroupRequestHeader { group_name: "G", clean_offset: true, remove_offset: true };
        assert_eq!(h.code(), 207);
        assert_eq!(
            fields_of(&h),
            vector(&[("groupName", "G"), ("cleanOffset", "true"), ("removeOffset", "true")])
        );
    }

    #[test]
    fn consumer_connections_and_stats() {
        let h = GetConsumerConnectionListRequestHeader { consumer_group: "G" };
        assert_eq!(h.code(), 203);
        assert_eq!(fields_of(&h), vector(&[("consumerGroup", "G")]));
        let h = GetConsumeStatsRequestHeader { consumer_group: "G", topic: Some("T") };
        assert_eq!(h.code(), 208);
        assert_eq!(fields_of(&h), vector(&[("consumerGroup", "G"), ("topic", "T")]));
        let h = GetConsumeStatsRequestHeader { consumer_group: "G", topic: None };
        assert_eq!(fields_of(&h), vector(&[("consumerGroup", "G")]));
    }

    #[test]
    fn requests_through_the_broker_to_clients() {
        let h = ResetOffsetRequestHeader { topic: "T", group: "G", timestamp: -1, is_force: true, queue_id: -1 };
        assert_eq!(h.code(), 222);
        assert_eq!(
            fields_of(&h),
            vector(&[("topic", "T"), ("group", "G"), ("timestamp", "-1"), ("isForce", "true"), ("queueId", "-1")])
        );
        let h = QueryTopicConsumeByWhoRequestHeader { topic: "T" };
        assert_eq!((h.code(), fields_of(&h)), (300, vector(&[("topic", "T")])));
        let h = GetConsumerRunningInfoRequestHeader { consumer_group: "G", client_id: "c@1", jstack_enable: false };
        assert_eq!(h.code(), 307);
        assert_eq!(
            fields_of(&h),
            vector(&[("consumerGroup", "G"), ("clientId", "c@1"), ("jstackEnable", "false")])
        );
        let h = ConsumeMessageDirectlyRequestHeader { consumer_group: "G", client_id: "c@1", msg_id: "M", topic: Some("T") };
        assert_eq!(h.code(), 309);
        assert_eq!(
            fields_of(&h),
            vector(&[("consumerGroup", "G"), ("clientId", "c@1"), ("msgId", "M"), ("topic", "T")])
        );
    }
}
