//! Handing a failed message back to the broker. First CONSUMER_SEND_MSG_BACK (36) to the master
//! of the broker that stored it (the broker schedules the retry, or moves the message to the
//! dead-letter queue after the group's MaxReconsumeTimes). If that fails, the Java client's
//! fallback: send a copy to `%RETRY%<group>` as a normal message (the "producer path"), with the
//! original topic, reconsume count and message id in its properties. The orderly consumer uses
//! only the producer path, to move an exhausted message to the dead-letter queue.

use std::time::Duration;

use super::offset_store::master_of;
use super::pull::retry_topic;
use crate::client::instance::ClientInstance;
use crate::client::namespace;
use crate::error::{Error, ErrorKind, Result};
use crate::message::{now_ms, Message};
use crate::protocol::codes::{request, response};
use crate::protocol::command::RemotingCommand;
use crate::protocol::message::{encode_properties, property};
use crate::protocol::route::MessageQueue;

const SEND_BACK_TIMEOUT: Duration = Duration::from_secs(5);
/// The producer group the Java client's internal producer uses for the fallback.
const INNER_PRODUCER_GROUP: &str = "CLIENT_INNER_PRODUCER";
/// Broker delay levels start at 3 (10 s) for a first retry.
const FIRST_RETRY_DELAY_LEVEL: i32 = 3;

/// CONSUMER_SEND_MSG_BACK for a received message; `delay_level` 0 lets the broker choose
/// (3 + reconsume times).
pub async fn send_back(
    instance: &ClientInstance,
    group: &str,
    namespace: Option<&str>,
    msg: &Message,
    delay_level: i32,
    max_reconsume_times: i32,
) -> Result<()> {
    let info =
        msg.received.as_ref().ok_or_else(|| Error::invalid_argument("only received messages can be sent back"))?;
    let wire_topic = namespace::wrap(namespace, &msg.topic);
    let mq = MessageQueue::new(wire_topic.clone(), info.broker_name.clone(), info.queue_id);
    let addr = master_of(instance, &mq).await?;
    let origin_msg_id = msg.msg_id.clone().unwrap_or_else(|| info.offset_msg_id.clone());
    let cmd = RemotingCommand::request(request::CONSUMER_SEND_MSG_BACK)
        .with_ext("offset", info.commit_log_offset)
        .with_ext("group", group)
        .with_ext("delayLevel", delay_level)
        .with_ext("originMsgId", origin_msg_id)
        .with_ext("originTopic", &wire_topic)
        .with_ext("unitMode", false)
        .with_ext("maxReconsumeTimes", max_reconsume_times)
        .with_ext("bname", &info.broker_name);
    let resp = instance.invoke(&addr, cmd, SEND_BACK_TIMEOUT).await?;
    if resp.code != response::SUCCESS {
        return Err(Error::from_response(resp.code, resp.remark.as_deref(), "consumer send back"));
    }
    Ok(())
}

/// Sends a copy of `msg` to the group's retry topic as a normal message. The broker moves it to
/// the dead-letter queue when `reconsume_times` exceeds `max_reconsume_times` (or when the
/// group holds orderly locks); otherwise it is delivered again after `delay_level`.
pub async fn send_to_retry_topic(
    instance: &ClientInstance,
    group: &str,
    namespace: Option<&str>,
    msg: &Message,
    reconsume_times: i32,
    max_reconsume_times: i32,
    delay_level: Option<i32>,
) -> Result<()> {
    let info = msg.received.as_ref().ok_or_else(|| Error::invalid_argument("only received messages can be retried"))?;
    let topic = retry_topic(group);
    let mut props = info.properties.clone();
    props.insert(property::RETRY_TOPIC.into(), namespace::wrap(namespace, &msg.topic));
    if !props.contains_key(property::ORIGIN_MESSAGE_ID) {
        let id = msg.msg_id.clone().unwrap_or_else(|| info.offset_msg_id.clone());
        props.insert(property::ORIGIN_MESSAGE_ID.into(), id);
    }
    props.remove(property::TRAN_MSG);
    props.remove(property::RECONSUME_TIME);
    props.remove(property::MAX_RECONSUME_TIMES);
    props.remove(property::MIN_OFFSET);
    props.remove(property::MAX_OFFSET);
    match delay_level {
        Some(level) => props.insert(property::DELAY.into(), level.to_string()),
        None => props.remove(property::DELAY),
    };
    let properties = encode_properties(&props)?;

    let route = instance.route(&topic).await?;
    // Prefer the broker that stored the original, as the send-back would have.
    let mut queues = route.publish_queues.clone();
    queues.sort_by_key(|q| q.broker_name != info.broker_name);
    let mut last_error = None;
    let mut tried = Vec::new();
    for q in queues {
        if tried.contains(&q.broker_name) {
            continue;
        }
        tried.push(q.broker_name.clone());
        let Some(addr) = route.data.master_addr(&q.broker_name).map(str::to_owned) else { continue };
        let mut cmd = RemotingCommand::request(request::SEND_MESSAGE_V2)
            .with_ext("a", INNER_PRODUCER_GROUP)
            .with_ext("b", &topic)
            .with_ext("c", "TBW102")
            .with_ext("d", 4)
            .with_ext("e", q.queue_id)
            .with_ext("f", 0)
            .with_ext("g", now_ms())
            .with_ext("h", 0)
            .with_ext("i", &properties)
            .with_ext("j", reconsume_times)
            .with_ext("k", false)
            .with_ext("l", max_reconsume_times)
            .with_ext("n", &q.broker_name);
        cmd.body = msg.body.clone();
        match instance.invoke(&addr, cmd, SEND_BACK_TIMEOUT).await {
            Ok(resp) if matches!(resp.code, response::SUCCESS | 10 | 11 | 12) => return Ok(()),
            Ok(resp) => {
                last_error = Some(Error::from_response(resp.code, resp.remark.as_deref(), "send to retry topic"))
            }
            Err(e) => last_error = Some(e),
        }
    }
    Err(last_error.unwrap_or_else(|| Error::new(ErrorKind::TopicNotFound, format!("no writable queue for {topic}"))))
}

/// The concurrent consumer's handling of one failed message: send-back, else the producer
/// path as the Java client does it (delay level 3 + reconsume times).
pub async fn retry_later(
    instance: &ClientInstance,
    group: &str,
    namespace: Option<&str>,
    msg: &Message,
    max_reconsume_times: i32,
) -> Result<()> {
    match send_back(instance, group, namespace, msg, 0, max_reconsume_times).await {
        Ok(()) => Ok(()),
        Err(e) => {
            tracing::warn!(msg_id = ?msg.msg_id, error = %e, "send-back failed; resending through the retry topic");
            let level = FIRST_RETRY_DELAY_LEVEL + msg.reconsume_times;
            send_to_retry_topic(
                instance,
                group,
                namespace,
                msg,
                msg.reconsume_times + 1,
                max_reconsume_times,
                Some(level),
            )
            .await
        }
    }
}
