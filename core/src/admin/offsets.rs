//! Moving a consumer group's offsets on a topic: to a point in time, to the earliest or to the
//! latest message of each queue (INVOKE_BROKER_TO_RESET_OFFSET 222 to every master of the
//! topic), as `mqadmin resetOffsetByTime` does.
//!
//! What the broker does with it depends on its version (docs/admin.md, "Offsets reset"): 5.x
//! brokers move the offsets themselves (`useServerSideResetOffset`, on by default) and answer
//! the group's next pull of each queue with PULL_OFFSET_MOVED; 4.x brokers compute the offsets
//! and push them to the group's online clients (RESET_CONSUMER_CLIENT_OFFSET 220), which move
//! and commit them. Either way a running consumer drops what it had cached of the queue and
//! resumes from the new offset. A 4.x broker refuses (CONSUMER_NOT_ONLINE) when no client of
//! the group is online; then, as mqadmin does (`ResetOffsetByTimeOldCommand`), the offsets are
//! computed here and committed directly.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{decode_body, queue_entries, route_masters, validate_group, validate_topic, Admin, BrokerTarget};
use crate::error::{Error, Result};
use crate::protocol::codes::response;
use crate::protocol::headers::{
    GetMaxOffsetRequestHeader, OffsetResponseHeader, RequestHeader, ResetOffsetRequestHeader,
    SearchOffsetRequestHeader, UpdateConsumerOffsetRequestHeader,
};
use crate::protocol::route::MessageQueue;

/// Where [`Admin::reset_offsets`] moves a group's offsets, on every queue of the topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetPosition {
    /// The first message stored at or after this time (milliseconds since the epoch); a queue
    /// with nothing that recent goes to its end.
    Timestamp(i64),
    /// The oldest message still stored: everything is consumed again.
    Earliest,
    /// The end of the queue: nothing stored so far is consumed.
    Latest,
}

impl ResetPosition {
    /// The header's `timestamp`: brokers search by time, and read -1 as "the max offset"
    /// (`Broker2Client.resetOffset`, `AdminBrokerProcessor.searchOffsetByTimestamp`); time 0
    /// finds each queue's first message.
    fn wire_timestamp(self) -> i64 {
        match self {
            ResetPosition::Timestamp(at) => at.max(0),
            ResetPosition::Earliest => 0,
            ResetPosition::Latest => -1,
        }
    }
}

/// A queue's offset after a reset: the next message the group consumes from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueOffset {
    pub queue: MessageQueue,
    pub offset: i64,
}

/// A `ResetOffsetBody`: `{"offsetTable":{<MessageQueue>:offset}}`.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct ResetOffsetBody {
    offset_table: BTreeMap<String, i64>,
}

impl Admin {
    /// Moves `group`'s offsets on every queue of `topic` to `to`, on every master broker of the
    /// topic, and returns each queue's new offset, sorted. Consumers of the group that are
    /// running jump there: they drop the messages they have cached but not consumed yet and
    /// pull again from the new offset. Offsets move forward as well as backward (mqadmin's
    /// `-f true`).
    ///
    /// A group nothing is known of fails on 4.x brokers (SYSTEM_ERROR "THe consumer group <G>
    /// not exist") and on 5.x ones (SUBSCRIPTION_GROUP_NOT_EXIST, unless brokers create groups
    /// automatically); a topic a broker does not have is TOPIC_NOT_EXIST.
    pub async fn reset_offsets(&self, group: &str, topic: &str, to: ResetPosition) -> Result<Vec<QueueOffset>> {
        validate_group(group)?;
        validate_topic(topic)?;
        let (wire_group, wire_topic) = (self.wire(group), self.wire(topic));
        let route = self.instance.fetch_route(&wire_topic).await?;
        let masters = route_masters(&route.data);
        let what = format!("reset offsets of {wire_group} on {wire_topic}");
        let per_broker = self
            .on_each(&masters, |target| async {
                let cmd = ResetOffsetRequestHeader {
                    topic: &wire_topic,
                    group: &wire_group,
                    timestamp: to.wire_timestamp(),
                    is_force: true,
                    queue_id: -1,
                }
                .command();
                let resp = self.invoke_broker(target, cmd, &what).await?;
                match resp.code {
                    response::SUCCESS => {
                        let body: ResetOffsetBody = decode_body(&resp.body, "reset offset body")?;
                        queue_entries(body.offset_table)
                    }
                    response::CONSUMER_NOT_ONLINE => {
                        let queues: Vec<&MessageQueue> =
                            route.subscribe_queues.iter().filter(|q| q.broker_name == target.name).collect();
                        self.commit_reset_offsets(target, &wire_group, &queues, to, &what).await
                    }
                    code => Err(Error::from_response(code, resp.remark.as_deref(), &target.context(&what))),
                }
            })
            .await?;
        let mut offsets: Vec<QueueOffset> = per_broker
            .into_iter()
            .flatten()
            .map(|(queue, offset)| QueueOffset {
                queue: MessageQueue::new(self.shown(&queue.topic), queue.broker_name, queue.queue_id),
                offset,
            })
            .collect();
        offsets.sort_by(|a, b| a.queue.cmp(&b.queue));
        Ok(offsets)
    }

    /// The reset of a group with no client online on a 4.x broker: each queue's offset for `to`
    /// (GET_MAX_OFFSET or SEARCH_OFFSET_BY_TIMESTAMP) committed with UPDATE_CONSUMER_OFFSET.
    async fn commit_reset_offsets(
        &self,
        target: &BrokerTarget,
        wire_group: &str,
        queues: &[&MessageQueue],
        to: ResetPosition,
        what: &str,
    ) -> Result<Vec<(MessageQueue, i64)>> {
        let mut done = Vec::new();
        for q in queues {
            let (topic, queue_id, broker_name) = (q.topic.as_str(), q.queue_id, q.broker_name.as_str());
            let lookup = match to {
                ResetPosition::Latest => {
                    GetMaxOffsetRequestHeader { topic, queue_id, broker_name: Some(broker_name) }.command()
                }
                _ => {
                    SearchOffsetRequestHeader { topic, queue_id, timestamp: to.wire_timestamp(), broker_name }.command()
                }
            };
            let resp = self.call_broker(target, lookup, what).await?;
            let offset = OffsetResponseHeader::decode(&resp)?.offset;
            let commit = UpdateConsumerOffsetRequestHeader {
                consumer_group: wire_group,
                topic,
                queue_id,
                commit_offset: offset,
                broker_name,
            }
            .command();
            self.call_broker(target, commit, what).await?;
            done.push(((*q).clone(), offset));
        }
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_on_the_wire() {
        assert_eq!(ResetPosition::Earliest.wire_timestamp(), 0);
        assert_eq!(ResetPosition::Latest.wire_timestamp(), -1);
        assert_eq!(ResetPosition::Timestamp(1_700_000_000_000).wire_timestamp(), 1_700_000_000_000);
        // A time before the epoch is the earliest, never the broker's -1 (latest).
        assert_eq!(ResetPosition::Timestamp(-1).wire_timestamp(), 0);
    }

    /// The answer of a 5.3.3 broker (4.9.7's has the same shape).
    #[test]
    fn reset_body_decode() {
        let body = br#"{"offsetTable":{{"brokerName":"broker-a","queueId":1,"topic":"T"}:5,{"brokerName":"broker-a","queueId":0,"topic":"T"}:3}}"#;
        let raw: ResetOffsetBody = decode_body(body, "reset offset body").unwrap();
        let entries = queue_entries(raw.offset_table).unwrap();
        assert_eq!(
            entries,
            vec![(MessageQueue::new("T", "broker-a", 0), 3), (MessageQueue::new("T", "broker-a", 1), 5)]
        );
    }
}
