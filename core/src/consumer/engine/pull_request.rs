//! What the pull loops ask a broker for: the PULL_MESSAGE header of one queue (long polling,
//! the subscription carried along, the committed offset piggy-backed) and the batch limits and
//! timeouts that go with it, as the Java push consumer sets them
//! (`client/.../impl/consumer/PullAPIWrapper.java`, `DefaultMQPushConsumer.java`). The header's
//! encoding is `protocol::headers::pull`; the reply becomes messages in `consumer::pull`.

use std::time::Duration;

use crate::consumer::subscription::SubscriptionData;
use crate::protocol::headers::PullMessageRequestHeader;
use crate::protocol::message::pull_sys_flag;
use crate::protocol::route::MessageQueue;

/// How long the broker may hold a pull that finds nothing (Java push consumer: 15 s).
pub const BROKER_SUSPEND: Duration = Duration::from_secs(15);
/// The client-side timeout of a long-polling pull; must exceed the hold (Java: 30 s).
pub const PULL_TIMEOUT: Duration = Duration::from_secs(30);
/// Bytes per pull (5.x brokers honour it; Java pullBatchSizeInBytes).
pub const PULL_BATCH_BYTES: u32 = 256 * 1024;
/// The pauses of a queue's pull loop, shared by the push and pull consumers.
/// How often the group's queues are split again (Java `RebalanceService`: 20 s).
pub const REBALANCE_INTERVAL: Duration = Duration::from_secs(20);
/// Pause before pulling again while the cache is over its limits (Java: 50 ms).
pub const FLOW_CONTROL_DELAY: Duration = Duration::from_millis(50);
/// Pause after a failed pull.
pub const PULL_ERROR_DELAY: Duration = Duration::from_secs(1);
/// Pause after a pull from a slave found nothing (a 5.x slave answers such pulls at once
/// instead of holding them, docs/high-availability.md).
pub const SLAVE_IDLE_DELAY: Duration = Duration::from_millis(500);

/// The header of one pull of at most `batch_size` messages (maxBatchMessageCount; Java's
/// pullBatchSize) of `mq` from `offset`. `commit_offset` is committed along with the pull when
/// it is > 0 (clustering).
pub fn pull_header<'a>(
    group: &'a str,
    mq: &'a MessageQueue,
    offset: i64,
    commit_offset: Option<i64>,
    subscription: &'a SubscriptionData,
    batch_size: u32,
) -> PullMessageRequestHeader<'a> {
    let commit = commit_offset.filter(|o| *o > 0);
    // The subscription goes with every pull, so the broker filters correctly even before (or
    // without) having registered this client's heartbeat.
    let sys_flag = pull_sys_flag::build(commit.is_some(), true, true, false);
    PullMessageRequestHeader {
        consumer_group: group,
        topic: &mq.topic,
        queue_id: mq.queue_id,
        queue_offset: offset,
        max_msg_nums: batch_size,
        sys_flag,
        commit_offset: commit.unwrap_or(0),
        suspend_timeout_millis: BROKER_SUSPEND.as_millis() as u64,
        subscription: &subscription.sub_string,
        sub_version: subscription.sub_version,
        expression_type: subscription.expression_type.wire_name(),
        max_msg_bytes: PULL_BATCH_BYTES,
        broker_name: &mq.broker_name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::headers::RequestHeader;

    #[test]
    fn request_carries_subscription_and_commit_offset() {
        let sub = SubscriptionData::by_tag("NS%T", "A || B").unwrap();
        let mq = MessageQueue::new("NS%T", "broker-a", 2);
        let cmd = pull_header("G", &mq, 7, Some(5), &sub, 32).command();
        assert_eq!(cmd.code, 11);
        assert_eq!(cmd.ext("sysFlag"), Some("7"));
        assert_eq!(cmd.ext("commitOffset"), Some("5"));
        assert_eq!(cmd.ext("subscription"), Some("A || B"));
        assert_eq!(cmd.ext("suspendTimeoutMillis"), Some("15000"));
        assert_eq!(cmd.ext("maxMsgNums"), Some("32"));
        assert_eq!(cmd.ext("maxMsgBytes"), Some("262144"));
        assert_eq!(cmd.ext("expressionType"), Some("TAG"));
        let cmd = pull_header("G", &mq, 7, Some(0), &sub, 1024).command();
        assert_eq!(cmd.ext("sysFlag"), Some("6"));
        assert_eq!(cmd.ext("commitOffset"), Some("0"));
        assert_eq!(cmd.ext("maxMsgNums"), Some("1024"));
    }
}
