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
use crate::protocol::codes::response;
use crate::protocol::headers::{ConsumerSendMsgBackRequestHeader, RequestHeader, SendMessageRequestHeader};
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
    let cmd = ConsumerSendMsgBackRequestHeader {
        offset: info.commit_log_offset,
        group,
        delay_level,
        origin_msg_id: &origin_msg_id,
        origin_topic: &wire_topic,
        unit_mode: false,
        max_reconsume_times,
        broker_name: &info.broker_name,
    }
    .command();
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
    let mut props = info.properties.to_map();
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
        // The producer's send header (same template topic and queue count), as the Java
        // client's internal producer sends it, with the reconsume counts the broker checks
        // against the group's retry limit.
        let mut cmd = SendMessageRequestHeader {
            reconsume_times,
            max_reconsume_times: Some(max_reconsume_times),
            ..SendMessageRequestHeader::new(
                INNER_PRODUCER_GROUP,
                &topic,
                q.queue_id,
                &q.broker_name,
                &properties,
                now_ms(),
            )
        }
        .command();
        cmd.body = msg.body.clone();
        match instance.invoke(&addr, cmd, SEND_BACK_TIMEOUT).await {
            Ok(resp)
                if matches!(
                    resp.code,
                    response::SUCCESS
                        | response::FLUSH_DISK_TIMEOUT
                        | response::SLAVE_NOT_AVAILABLE
                        | response::FLUSH_SLAVE_TIMEOUT
                ) =>
            {
                return Ok(())
            }
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
