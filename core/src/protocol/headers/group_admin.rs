//! Subscription-group management and consumer inspection on brokers: deleting a group's config
//! (DELETE_SUBSCRIPTIONGROUP 207), the group's connected consumers
//! (GET_CONSUMER_CONNECTION_LIST 203) and its consumption progress (GET_CONSUME_STATS 208).
//! Creating a group (UPDATE_AND_CREATE_SUBSCRIPTIONGROUP 200) sends a JSON body and listing
//! them (GET_ALL_SUBSCRIPTIONGROUP_CONFIG 201) nothing, so neither has a header.

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
}
