//! Whether each group that consumes a topic has consumed one of its messages: the console Open
//! API's `/json/message/trace` and the message track `mqadmin queryMsgById` prints, computed as
//! Java's `DefaultMQAdminExtImpl.messageTrackDetail`
//! (`tools/src/main/java/org/apache/rocketmq/tools/admin/DefaultMQAdminExtImpl.java`) does:
//!
//! * the groups are those the brokers know for the topic, by subscription or by stored offsets
//!   (QUERY_TOPIC_CONSUME_BY_WHO 300, here on every master of the topic, where Java asks one);
//!   5.3.3 brokers know them by stored offsets only (docs/admin.md), so a group that has
//!   committed nothing on the topic yet is not listed;
//! * a group with no client online is NOT_ONLINE; a pull consumer's group PULL; a broadcasting
//!   one CONSUME_BROADCASTING (it keeps its offsets on its clients);
//! * otherwise the group's committed offset on the message's queue decides: past the message's
//!   queue offset it is CONSUMED, or CONSUMED_BUT_FILTERED when the group's subscription of the
//!   topic names tags and not the message's; else NOT_CONSUME_YET.

use std::collections::BTreeSet;

use futures_util::future::join_all;
use serde::Deserialize;

use super::{decode_body, route_masters, validate_topic, Admin};
use crate::error::{Error, ErrorKind, Result};
use crate::message::Message;
use crate::protocol::headers::{QueryTopicConsumeByWhoRequestHeader, RequestHeader};

/// How far a group got with a message (Java `TrackType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TrackType {
    /// The group's committed offset is past the message.
    Consumed,
    /// Past the message, which the group's tag subscription does not take: skipped, not consumed.
    ConsumedButFiltered,
    /// The group pulls by itself (`CONSUME_ACTIVELY`): the brokers cannot tell.
    Pull,
    /// The group is online and has not got that far.
    NotConsumeYet,
    /// No client of the group is online.
    NotOnline,
    /// A broadcasting group: each client keeps its own offsets.
    ConsumeBroadcasting,
    /// Anything else (5.x pop consumers, or a failure, see [`MessageTrack::error`]).
    Unknown,
}

impl TrackType {
    /// The Java name (`CONSUMED`, `NOT_CONSUME_YET`, ...), as mqadmin and the console show it.
    pub fn java_name(self) -> &'static str {
        match self {
            TrackType::Consumed => "CONSUMED",
            TrackType::ConsumedButFiltered => "CONSUMED_BUT_FILTERED",
            TrackType::Pull => "PULL",
            TrackType::NotConsumeYet => "NOT_CONSUME_YET",
            TrackType::NotOnline => "NOT_ONLINE",
            TrackType::ConsumeBroadcasting => "CONSUME_BROADCASTING",
            TrackType::Unknown => "UNKNOWN",
        }
    }
}

/// One group's state for a message (Java `MessageTrack`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageTrack {
    pub group: String,
    pub track_type: TrackType,
    /// Why the state could not be found ([`TrackType::Unknown`]).
    pub error: Option<String>,
}

/// A `GroupList` body.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct GroupListBody {
    group_list: BTreeSet<String>,
}

impl Admin {
    /// For the message `msg_id` of `topic` (either kind of id, as [`Admin::message_by_id`]),
    /// the state of every group that consumes the topic, sorted by group.
    pub async fn message_track(&self, topic: &str, msg_id: &str) -> Result<Vec<MessageTrack>> {
        let message = self.message_by_id(topic, msg_id).await?.ok_or_else(|| {
            Error::new(ErrorKind::InvalidArgument, format!("no message {msg_id} found in topic {topic}"))
        })?;
        let groups = self.groups_of_topic(topic).await?;
        Ok(join_all(groups.iter().map(|group| self.track_in_group(&message, group))).await)
    }

    /// The groups the masters of `topic` know to consume it (names as shown), sorted.
    pub async fn groups_of_topic(&self, topic: &str) -> Result<Vec<String>> {
        validate_topic(topic)?;
        let wire_topic = self.wire(topic);
        let route = self.instance.fetch_route(&wire_topic).await?;
        let masters = route_masters(&route.data);
        let what = format!("query the groups of {wire_topic}");
        let lists = self
            .on_each(&masters, |target| async {
                let cmd = QueryTopicConsumeByWhoRequestHeader { topic: &wire_topic }.command();
                let resp = self.call_broker(target, cmd, &what).await?;
                Ok(decode_body::<GroupListBody>(&resp.body, "group list")?.group_list)
            })
            .await?;
        // 5.3.3 brokers list the topic itself in place of each group subscribed to it
        // (`ConsumerManager.registerConsumer` adds the subscription's topic to the topic's group
        // set): dropped. Groups then come from their stored offsets only.
        let all: BTreeSet<String> = lists
            .into_iter()
            .flatten()
            .filter(|g| *g != wire_topic && self.listed(g))
            .map(|g| self.shown(&g))
            .collect();
        Ok(all.into_iter().collect())
    }

    async fn track_in_group(&self, message: &Message, group: &str) -> MessageTrack {
        match self.track_type(message, group).await {
            Ok(track_type) => MessageTrack { group: group.to_owned(), track_type, error: None },
            Err(e) => {
                MessageTrack { group: group.to_owned(), track_type: TrackType::Unknown, error: Some(e.to_string()) }
            }
        }
    }

    async fn track_type(&self, message: &Message, group: &str) -> Result<TrackType> {
        let connections = self.consumer_connections(group).await?;
        if connections.clients.is_empty() {
            return Ok(TrackType::NotOnline);
        }
        if connections.message_model.as_deref() == Some("BROADCASTING") {
            return Ok(TrackType::ConsumeBroadcasting);
        }
        match connections.consume_type.as_deref() {
            Some("CONSUME_ACTIVELY") => return Ok(TrackType::Pull),
            Some("CONSUME_PASSIVELY") => {}
            _ => return Ok(TrackType::Unknown),
        }
        let stored = message.received.as_ref().ok_or_else(|| Error::protocol("a stored message without its place"))?;
        let stats = self.consume_stats(group, Some(&message.topic)).await?;
        let consumed = stats.queues.iter().any(|q| {
            q.queue.topic == message.topic
                && q.queue.broker_name == stored.broker_name
                && q.queue.queue_id == stored.queue_id
                && q.consumer_offset > stored.queue_offset
        });
        if !consumed {
            return Ok(TrackType::NotConsumeYet);
        }
        let filtered = connections.subscriptions.iter().any(|s| {
            s.topic == message.topic
                && !s.tags.is_empty()
                && !s.tags.iter().any(|t| t == "*" || Some(t.as_str()) == message.tag.as_deref())
        });
        Ok(if filtered { TrackType::ConsumedButFiltered } else { TrackType::Consumed })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_list_decode() {
        let body: GroupListBody = decode_body(br#"{"groupList":["G2","G1"]}"#, "group list").unwrap();
        assert_eq!(body.group_list.into_iter().collect::<Vec<_>>(), ["G1", "G2"]);
        let empty: GroupListBody = decode_body(br#"{"groupList":[]}"#, "group list").unwrap();
        assert!(empty.group_list.is_empty());
    }

    #[test]
    fn java_names() {
        assert_eq!(TrackType::ConsumedButFiltered.java_name(), "CONSUMED_BUT_FILTERED");
        assert_eq!(TrackType::NotConsumeYet.java_name(), "NOT_CONSUME_YET");
    }
}
