//! `ons message get|query|read|trace|resend`: stored messages looked up by id, by key within a
//! time range and by queue offsets, the delivery state of one message per group, and a stored
//! message handed to one consumer client again.

use base64::Engine as _;
use rocketmq_ons::Message;
use serde_json::json;

use super::args::{MessageCommand, MessageId};
use super::Session;
use crate::table::{each, print, time_text, Table};
use crate::Failure;

/// Most offsets `Admin::read_queue` reads in one call (docs/admin.md).
const MAX_QUEUE_READ: i64 = 2048;
/// Offsets `message read` reads without --to.
const DEFAULT_READ_SPAN: i64 = 32;
/// Body characters a table shows; the rest is cut and marked with `…`.
const BODY_SHOWN: usize = 40;

pub async fn run(command: MessageCommand) -> Result<(), Failure> {
    match command {
        MessageCommand::Get(MessageId { topic, id, common }) => {
            let session = Session::open(&common)?;
            let message = find(&session, &topic, &id).await?;
            print(common.json, message_json(&message), || message_text(&message))
        }
        MessageCommand::Query { topic, key, begin, end, max, common } => {
            if begin >= end {
                return Err(Failure::Usage(format!(
                    "--begin ({}) must be before --end ({})",
                    time_text(begin),
                    time_text(end)
                )));
            }
            let session = Session::open(&common)?;
            session.require_topic(&topic).await?;
            let messages =
                session.admin.query_messages(&topic, &key, begin, end, max).await.map_err(|e| session.failure(&e))?;
            print(common.json, json!({ "messages": each(&messages, message_json) }), || messages_table(&messages))
        }
        MessageCommand::Read { topic, broker, queue, from, to, common } => {
            let to = to.unwrap_or(from.saturating_add(DEFAULT_READ_SPAN));
            if to <= from || to - from > MAX_QUEUE_READ {
                return Err(Failure::Usage(format!(
                    "--to ({to}) must be above --from ({from}) by at most {MAX_QUEUE_READ}"
                )));
            }
            let session = Session::open(&common)?;
            let route = session.require_topic(&topic).await?;
            if !route.queues.iter().any(|q| q.broker_name == broker) {
                let brokers: Vec<&str> = route.queues.iter().map(|q| q.broker_name.as_str()).collect();
                return Err(Failure::Runtime(format!(
                    "topic {topic} has no queues on broker {broker} (it has on: {})",
                    brokers.join(", ")
                )));
            }
            let messages =
                session.admin.read_queue(&topic, &broker, queue, from, to).await.map_err(|e| session.failure(&e))?;
            print(common.json, json!({ "messages": each(&messages, message_json) }), || messages_table(&messages))
        }
        MessageCommand::Trace(MessageId { topic, id, common }) => {
            let session = Session::open(&common)?;
            find(&session, &topic, &id).await?;
            let tracks = session.admin.message_track(&topic, &id).await.map_err(|e| session.failure(&e))?;
            let json = json!({
                "topic": topic,
                "msg_id": id,
                "groups": each(&tracks, |t| json!({
                    "group": t.group,
                    "status": t.track_type.java_name(),
                    "error": t.error,
                })),
            });
            print(common.json, json, || {
                if tracks.is_empty() {
                    return format!("no group consumes topic {topic}\n");
                }
                let mut table = Table::new(&["GROUP", "STATUS", "ERROR"]);
                for t in &tracks {
                    let error = t.error.clone().unwrap_or_default();
                    table.row(vec![t.group.clone(), t.track_type.java_name().to_owned(), error]);
                }
                table.render()
            })
        }
        MessageCommand::Resend { message: MessageId { topic, id, common }, group, client_id } => {
            let session = Session::open(&common)?;
            find(&session, &topic, &id).await?;
            let result = session
                .admin
                .consume_message_directly(&group, &client_id, &topic, &id)
                .await
                .map_err(|e| session.failure(&e))?;
            let json = json!({
                "topic": topic,
                "msg_id": id,
                "group": group,
                "client_id": client_id,
                "result": result.result,
                "order": result.order,
                "auto_commit": result.auto_commit,
                "remark": result.remark,
                "spent_time_ms": result.spent_time_ms,
            });
            let verdict = result
                .result
                .and_then(|r| serde_json::to_value(r).ok())
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_else(|| "no result".to_owned());
            print(common.json, json, || {
                let remark = result.remark.as_deref().map(|r| format!(" ({r})")).unwrap_or_default();
                format!(
                    "client {client_id} of group {group} consumed message {id}: {verdict}{remark}, in {} ms\n",
                    result.spent_time_ms
                )
            })
        }
    }
}

/// The message `id` of `topic`; fails naming both when there is none.
async fn find(session: &Session, topic: &str, id: &str) -> Result<Message, Failure> {
    session.require_topic(topic).await?;
    match session.admin.message_by_id(topic, id).await {
        Ok(Some(message)) => Ok(message),
        Ok(None) => Err(Failure::Runtime(format!(
            "no message {id} in topic {topic} (the index keeps the messages of the last 3 days)"
        ))),
        Err(e) => Err(session.failure(&e)),
    }
}

fn message_json(m: &Message) -> serde_json::Value {
    let info = m.received.as_ref();
    json!({
        "msg_id": m.msg_id,
        "offset_msg_id": info.map(|i| i.offset_msg_id.as_str()),
        "topic": m.topic,
        "tag": m.tag,
        "keys": m.key,
        "body_base64": base64::engine::general_purpose::STANDARD.encode(&m.body),
        "body_utf8": std::str::from_utf8(&m.body).ok(),
        "properties": info.map(|i| &i.properties),
        "reconsume_times": m.reconsume_times,
        "broker_name": info.map(|i| i.broker_name.as_str()),
        "queue_id": info.map(|i| i.queue_id),
        "queue_offset": info.map(|i| i.queue_offset),
        "born_timestamp": m.born_timestamp,
        "born_host": m.born_host.map(|h| h.to_string()),
        "store_timestamp": info.map(|i| i.store_timestamp),
        "store_host": info.and_then(|i| i.store_host).map(|h| h.to_string()),
    })
}

/// The body as text, or `base64:...` when it is not UTF-8.
fn body_text(m: &Message) -> String {
    match std::str::from_utf8(&m.body) {
        Ok(text) => text.to_owned(),
        Err(_) => format!("base64:{}", base64::engine::general_purpose::STANDARD.encode(&m.body)),
    }
}

/// One message, a field a line.
fn message_text(m: &Message) -> String {
    let info = m.received.as_ref();
    let dash = || "-".to_owned();
    let mut table = Table::new(&["FIELD", "VALUE"]);
    let mut field = |name: &str, value: String| table.row(vec![name.to_owned(), value]);
    field("msg_id", m.msg_id.clone().unwrap_or_else(dash));
    field("offset_msg_id", info.map_or_else(dash, |i| i.offset_msg_id.clone()));
    field("topic", m.topic.clone());
    field("tag", m.tag.clone().unwrap_or_else(dash));
    field("keys", m.key.clone().unwrap_or_else(dash));
    field("queue", info.map_or_else(dash, |i| format!("{}:{}", i.broker_name, i.queue_id)));
    field("queue_offset", info.map_or_else(dash, |i| i.queue_offset.to_string()));
    field("born (UTC)", time_text(m.born_timestamp.unwrap_or(0)));
    field("born_host", m.born_host.map_or_else(dash, |h| h.to_string()));
    field("stored (UTC)", info.map_or_else(dash, |i| time_text(i.store_timestamp)));
    field("store_host", info.and_then(|i| i.store_host).map_or_else(dash, |h| h.to_string()));
    field("reconsume_times", m.reconsume_times.to_string());
    if let Some(info) = info {
        for (key, value) in &info.properties {
            field(&format!("property {key}"), value.to_owned());
        }
    }
    field("body", body_text(m));
    // The header row says nothing a field list needs.
    table.render().lines().skip(1).map(|line| format!("{line}\n")).collect()
}

/// Messages a row each, bodies cut to [`BODY_SHOWN`] characters.
fn messages_table(messages: &[Message]) -> String {
    let mut table = Table::new(&["MSG_ID", "TAG", "KEYS", "QUEUE", "OFFSET", "STORED (UTC)", "BODY"]);
    for m in messages {
        let info = m.received.as_ref();
        let body = body_text(m);
        let body = if body.chars().count() > BODY_SHOWN {
            format!("{}…", body.chars().take(BODY_SHOWN).collect::<String>())
        } else {
            body
        };
        table.row(vec![
            m.msg_id.clone().unwrap_or_else(|| "-".to_owned()),
            m.tag.clone().unwrap_or_else(|| "-".to_owned()),
            m.key.clone().unwrap_or_else(|| "-".to_owned()),
            info.map_or_else(|| "-".to_owned(), |i| format!("{}:{}", i.broker_name, i.queue_id)),
            info.map_or_else(|| "-".to_owned(), |i| i.queue_offset.to_string()),
            info.map_or_else(|| "-".to_owned(), |i| time_text(i.store_timestamp)),
            body.replace('\n', "\\n"),
        ]);
    }
    let noun = if messages.len() == 1 { "message" } else { "messages" };
    format!("{}{} {noun}\n", table.render(), messages.len())
}
