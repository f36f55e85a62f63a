//! Topic management: creating or updating a topic on a broker (UPDATE_AND_CREATE_TOPIC 17),
//! deleting it from a broker (DELETE_TOPIC_IN_BROKER 215) and from a name server
//! (DELETE_TOPIC_IN_NAMESRV 216), and reading its queue offsets (GET_TOPIC_STATS_INFO 202).
//! Listing topics (GET_ALL_TOPIC_LIST_FROM_NAMESERVER 206) has no header.

use crate::protocol::codes::request;

request_header! {
    /// Java `CreateTopicRequestHeader`.
    pub struct CreateTopicRequestHeader<'a>, code request::UPDATE_AND_CREATE_TOPIC, {
        topic: &'a str => "topic",
        default_topic: &'a str => "defaultTopic",
        read_queue_nums: u32 => "readQueueNums",
        write_queue_nums: u32 => "writeQueueNums",
        /// Java `PermName` bits: read 4, write 2.
        perm: i32 => "perm",
        /// `SINGLE_TAG` or `MULTI_TAG` (Java `TopicFilterType`).
        topic_filter_type: &'a str => "topicFilterType",
        topic_sys_flag: i32 => "topicSysFlag",
        order: bool => "order",
    }
}

request_header! {
    /// Java `DeleteTopicRequestHeader`: the broker drops the topic's config and its queues.
    pub struct DeleteTopicRequestHeader<'a>, code request::DELETE_TOPIC_IN_BROKER, {
        topic: &'a str => "topic",
    }
}

request_header! {
    /// Java `namesrv.DeleteTopicFromNamesrvRequestHeader`. With a cluster name the name server
    /// forgets only that cluster's brokers' queues of the topic; without one, the whole route.
    pub struct DeleteTopicFromNamesrvRequestHeader<'a>, code request::DELETE_TOPIC_IN_NAMESRV, {
        topic: &'a str => "topic",
        cluster_name: Option<&'a str> => "clusterName",
    }
}

request_header! {
    /// Java `GetTopicStatsInfoRequestHeader`. The answer is a `TopicStatsTable` body.
    pub struct GetTopicStatsInfoRequestHeader<'a>, code request::GET_TOPIC_STATS_INFO, {
        topic: &'a str => "topic",
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{fields_of, vector};
    use super::*;
    use crate::protocol::headers::RequestHeader;

    #[test]
    fn create_topic() {
        let h = CreateTopicRequestHeader {
            topic: "T",
            default_topic: "TBW102",
            read_queue_nums: 8,
            write_queue_nums: 8,
            perm: 6,
            topic_filter_type: "SINGLE_TAG",
            topic_sys_flag: 0,
            order: false,
        };
        assert_eq!(h.code(), 17);
        assert_eq!(
            fields_of(&h),
            vector(&[
                ("topic", "T"),
                ("defaultTopic", "TBW102"),
                ("readQueueNums", "8"),
                ("writeQueueNums", "8"),
                ("perm", "6"),
                ("topicFilterType", "SINGLE_TAG"),
                ("topicSysFlag", "0"),
                ("order", "false"),
            ])
        );
    }

    #[test]
    fn delete_topic() {
        let h = DeleteTopicRequestHeader { topic: "T" };
        assert_eq!(h.code(), 215);
        assert_eq!(fields_of(&h), vector(&[("topic", "T")]));
        let h = DeleteTopicFromNamesrvRequestHeader { topic: "T", cluster_name: Some("DefaultCluster") };
        assert_eq!(h.code(), 216);
        assert_eq!(fields_of(&h), vector(&[("topic", "T"), ("clusterName", "DefaultCluster")]));
        let h = DeleteTopicFromNamesrvRequestHeader { topic: "T", cluster_name: None };
        assert_eq!(fields_of(&h), vector(&[("topic", "T")]));
    }

    #[test]
    fn topic_stats() {
        let h = GetTopicStatsInfoRequestHeader { topic: "T" };
        assert_eq!(h.code(), 202);
        assert_eq!(fields_of(&h), vector(&[("topic", "T")]));
    }
}
