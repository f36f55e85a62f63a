//! Orderly consumption's queue locks at the brokers: LOCK_BATCH_MQ (41) and UNLOCK_BATCH_MQ (42)
//! to the master of each broker, for a batch of that broker's queues. A broker grants a queue
//! to one client of a group at a time and forgets a lock 60 s after its last renewal; the client
//! renews every 20 s and treats its own lock as expired after 30 s.

use std::time::Duration;

use serde::Deserialize;
use serde_json::json;

use super::offset_store::{master_of, send_expecting_success};
use crate::client::instance::ClientInstance;
use crate::error::{Error, Result};
use crate::protocol::codes::{request, response};
use crate::protocol::command::RemotingCommand;
use crate::protocol::lenient_json;
use crate::protocol::route::MessageQueue;

/// Lock renewal period (Java `rocketmq.client.rebalance.lockInterval`).
pub const LOCK_RENEW_INTERVAL: Duration = Duration::from_secs(20);
/// A lock not renewed for this long is no longer trusted (Java `lockMaxLiveTime`).
pub const LOCK_MAX_LIVE: Duration = Duration::from_secs(30);
const LOCK_TIMEOUT: Duration = Duration::from_secs(3);

fn body(client_id: &str, group: &str, queues: &[MessageQueue]) -> Vec<u8> {
    let v = json!({
        "clientId": client_id,
        "consumerGroup": group,
        "mqSet": queues,
        "onlyThisBroker": false,
    });
    serde_json::to_vec(&v).unwrap_or_default()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LockResponse {
    #[serde(default, rename = "lockOKMQSet")]
    lock_ok_mq_set: Vec<MessageQueue>,
}

/// Locks `queues` (all of one broker); returns those the broker granted.
pub async fn lock_batch(instance: &ClientInstance, group: &str, queues: &[MessageQueue]) -> Result<Vec<MessageQueue>> {
    let Some(first) = queues.first() else { return Ok(Vec::new()) };
    let addr = master_of(instance, first).await?;
    let cmd = RemotingCommand::request(request::LOCK_BATCH_MQ).with_body(body(instance.client_id(), group, queues));
    let resp = instance.invoke(&addr, cmd, LOCK_TIMEOUT).await?;
    if resp.code != response::SUCCESS {
        return Err(Error::from_response(resp.code, resp.remark.as_deref(), "lock queues"));
    }
    let value = lenient_json::parse(&resp.body)?;
    let parsed: LockResponse =
        serde_json::from_value(value).map_err(|e| Error::protocol(format!("lock response: {e}")))?;
    Ok(parsed.lock_ok_mq_set)
}

/// Releases `queues` (all of one broker): acknowledged, or oneway when giving a queue up
/// during a rebalance.
pub async fn unlock_batch(instance: &ClientInstance, group: &str, queues: &[MessageQueue], oneway: bool) -> Result<()> {
    let Some(first) = queues.first() else { return Ok(()) };
    let addr = master_of(instance, first).await?;
    let cmd = RemotingCommand::request(request::UNLOCK_BATCH_MQ).with_body(body(instance.client_id(), group, queues));
    send_expecting_success(instance, &addr, cmd, oneway, "unlock queues").await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_match_the_java_shape() {
        let b = body("c1", "G", &[MessageQueue::new("T", "broker-a", 1)]);
        let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
        assert_eq!(v["mqSet"][0], json!({"brokerName": "broker-a", "queueId": 1, "topic": "T"}));
        assert_eq!(v["onlyThisBroker"], false);
        let parsed: LockResponse = serde_json::from_value(
            lenient_json::parse(br#"{"lockOKMQSet":[{"brokerName":"broker-a","queueId":1,"topic":"T"}]}"#).unwrap(),
        )
        .unwrap();
        assert_eq!(parsed.lock_ok_mq_set, vec![MessageQueue::new("T", "broker-a", 1)]);
    }
}
