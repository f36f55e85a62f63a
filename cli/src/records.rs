//! What the tool prints on stdout, one line per record: a send result as JSON, a consumed
//! message as JSON or as a line of text. Scripts parse these lines, so field names only grow.

use std::collections::BTreeMap;

use base64::Engine as _;
use rocketmq_ons::message::{Message, SendResult};

/// One sent message.
pub fn send_result_json(r: &SendResult) -> serde_json::Value {
    serde_json::json!({
        "msgId": r.message_id,
        "topic": &*r.topic,
        "status": r.status.name(),
        "brokerName": &*r.broker_name,
        "queueId": r.queue_id,
        "queueOffset": r.queue_offset,
        "offsetMsgId": r.offset_msg_id,
    })
}

/// One consumed message (`consume --json`).
pub fn message_json(m: &Message) -> serde_json::Value {
    let info = m.received.as_ref();
    let properties: BTreeMap<&str, &str> = info.map(|i| i.properties.iter().collect()).unwrap_or_default();
    serde_json::json!({
        "msgId": m.msg_id,
        "topic": m.topic,
        "tag": m.tag,
        "keys": m.key,
        "bodyBase64": base64::engine::general_purpose::STANDARD.encode(&m.body),
        "bodyUtf8": std::str::from_utf8(&m.body).ok(),
        "properties": properties,
        "reconsumeTimes": m.reconsume_times,
        "queueId": info.map(|i| i.queue_id),
        "queueOffset": info.map(|i| i.queue_offset),
        "brokerName": info.map(|i| i.broker_name.as_str()),
        "bornTimestamp": m.born_timestamp,
        "storeTimestamp": info.map(|i| i.store_timestamp),
    })
}

/// One consumed message as text; a body that is not UTF-8 is shown as `base64:...`.
pub fn message_line(m: &Message) -> String {
    let info = m.received.as_ref();
    let body = match std::str::from_utf8(&m.body) {
        Ok(text) => text.to_owned(),
        Err(_) => format!("base64:{}", base64::engine::general_purpose::STANDARD.encode(&m.body)),
    };
    format!(
        "{} {} tag={} keys={} queue={}:{} offset={} reconsume={} body={}",
        m.msg_id.as_deref().unwrap_or("-"),
        m.topic,
        m.tag.as_deref().unwrap_or("-"),
        m.key.as_deref().unwrap_or("-"),
        info.map(|i| i.broker_name.as_str()).unwrap_or("-"),
        info.map(|i| i.queue_id).unwrap_or(-1),
        info.map(|i| i.queue_offset).unwrap_or(-1),
        m.reconsume_times,
        body
    )
}
