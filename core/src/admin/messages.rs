//! Reading stored messages back: by either kind of message id, by key within a time range, and
//! by queue offsets; and the queues' max offsets. The first ones are the inspection calls the
//! tests, the CLI and the bindings' tools have used all along.
//!
//! A message id is one of two things (docs/admin.md, "Messages"): the offset message id a
//! broker gives in a send result (its address and the commit-log offset), which VIEW_MESSAGE_BY_ID
//! reads directly, or the unique key a producer assigns (`UNIQ_KEY`, what ONS calls the message
//! id), which only the brokers' index finds (QUERY_MESSAGE with `_UNIQUE_KEY_QUERY`), as Java's
//! `DefaultMQAdminExtImpl.viewMessage` and `MQAdminImpl.queryMessageByUniqKey` do.
//!
//! Reading by queue offsets pulls (PULL_MESSAGE) with the group `TOOLS_CONSUMER`, as `mqadmin
//! queryMsgByOffset` does: a pull is the only request that reads by queue offset, and that group
//! exists on every broker and is meant for tools, so nothing new is left on the brokers; the
//! pulls neither commit an offset nor wait for new messages.

use super::{route_masters, with_context, Admin, BrokerTarget, ADMIN_TIMEOUT};
use crate::client::namespace;
use crate::consumer::pull::{parse_pull_response, PullStatus};
use crate::consumer::subscription::SubscriptionData;
use crate::error::{Error, ErrorKind, Result};
use crate::message::{from_stored, Message};
use crate::protocol::codes::{response, VERSION_V4_9_3};
use crate::protocol::headers::{
    GetMaxOffsetRequestHeader, OffsetResponseHeader, PullMessageRequestHeader, QueryMessageRequestHeader,
    RequestHeader, ViewMessageRequestHeader,
};
use crate::protocol::message::{
    decode_stored_messages, property, pull_sys_flag, DecodeLimits, MAX_DECOMPRESSED_BODY_LEN,
};
use crate::protocol::msgid::decode_offset_msg_id;
use crate::protocol::route::MessageQueue;

/// How many messages one broker returns at most for an index lookup by unique key (Java: 32).
const UNIQUE_KEY_MAX: i32 = 32;
/// How far back lookups by unique key search (Java `MQAdminImpl.queryMessageByUniqKey`: 3 days).
const UNIQUE_KEY_WINDOW_MS: i64 = 3 * 24 * 3600 * 1000;
/// The group reads by queue offset pull with (Java `MixAll.TOOLS_CONSUMER_GROUP`).
const TOOLS_GROUP: &str = "TOOLS_CONSUMER";
/// Most messages [`Admin::read_queue`] returns in one call.
pub const MAX_QUEUE_READ: i64 = 2048;
/// Messages per pull of [`Admin::read_queue`] (Java's pull batch).
const READ_BATCH: i64 = 32;

impl Admin {
    /// Reads one message back by its offset message id (the broker's id in a SendResult), with
    /// the body decompressed, exactly as stored.
    pub async fn view_message(&self, topic: &str, offset_msg_id: &str) -> Result<Message> {
        let id = decode_offset_msg_id(offset_msg_id)?;
        let (addr, commit_log_offset) = (id.store_host.to_string(), id.commit_log_offset);
        let broker_name = self.instance.broker_name_of(&addr).unwrap_or_else(|| addr.clone());
        let target = BrokerTarget::broker(&broker_name, &addr);
        let cmd = ViewMessageRequestHeader { topic: &self.wire(topic), offset: commit_log_offset }.command();
        let resp = self.call_broker(&target, cmd, &format!("view message {offset_msg_id}")).await?;
        let stored = decode_stored_messages(&resp.body)?
            .into_iter()
            .next()
            .ok_or_else(|| Error::protocol("view-message answer carries no message"))?;
        let topic = namespace::unwrap(self.namespace.as_deref(), &stored.topic);
        let broker_name = self.instance.broker_name_of(&addr).unwrap_or(addr);
        Ok(from_stored(stored, &broker_name, topic))
    }

    /// Finds messages by their message id (unique key) on every broker of the topic, stored
    /// within the last 3 days.
    pub async fn query_by_msg_id(&self, topic: &str, msg_id: &str) -> Result<Vec<Message>> {
        let now = crate::message::now_ms();
        self.query(topic, msg_id, true, now - UNIQUE_KEY_WINDOW_MS, i64::MAX, UNIQUE_KEY_MAX).await
    }

    /// Finds messages by business key on every broker of the topic, stored within the last 3
    /// days.
    pub async fn query_by_key(&self, topic: &str, key: &str) -> Result<Vec<Message>> {
        let now = crate::message::now_ms();
        self.query(topic, key, false, now - UNIQUE_KEY_WINDOW_MS, i64::MAX, UNIQUE_KEY_MAX).await
    }

    /// The trace records of message `msg_id` (its unique key) in trace topic `trace_topic`
    /// (`None`: `RMQ_SYS_TRACE_TOPIC`), whoever wrote them (this client or a Java one), as
    /// `mqadmin queryMsgTraceById` finds them: trace messages whose index keys include the id,
    /// stored within the last 3 days, decoded ([`crate::trace::record::decode`]); only the
    /// records about `msg_id`, in the order the trace messages were stored.
    pub async fn message_traces(
        &self,
        msg_id: &str,
        trace_topic: Option<&str>,
    ) -> Result<Vec<crate::trace::TraceRecord>> {
        let topic = trace_topic.unwrap_or(crate::trace::DEFAULT_TRACE_TOPIC);
        let mut messages = self.query_by_key(topic, msg_id).await?;
        messages.sort_by_key(|m| m.received.as_ref().map_or(0, |r| r.store_timestamp));
        let mut out = Vec::new();
        for m in messages {
            let body = String::from_utf8_lossy(&m.body);
            out.extend(crate::trace::record::decode(&body)?.into_iter().filter(|r| r.msg_id() == msg_id));
        }
        Ok(out)
    }

    /// One message by either kind of id: an offset message id naming a broker of the cluster is
    /// read from that broker directly; anything else is looked up as a unique key in the index
    /// of every master of the topic (messages of the last 3 days), as `mqadmin queryMsgById`
    /// does. `None` when the index has no such message.
    pub async fn message_by_id(&self, topic: &str, msg_id: &str) -> Result<Option<Message>> {
        if let Ok(id) = decode_offset_msg_id(msg_id) {
            // A unique key is 32 hex characters too, and decodes into some address: only one
            // that is a broker's makes it an offset message id.
            let store_host = id.store_host.to_string();
            let info = self.cluster_info().await?;
            if info.broker_addr_table.values().any(|bd| bd.broker_addrs.values().any(|a| *a == store_host)) {
                return self.view_message(topic, msg_id).await.map(Some);
            }
        }
        Ok(self.query_by_msg_id(topic, msg_id).await?.into_iter().next())
    }

    /// The messages of `topic` with business key `key` stored between `begin_ms` and `end_ms`
    /// (milliseconds since the epoch), from the index of every master of the topic at once,
    /// merged and sorted by store time; at most `max_per_broker` from each broker (brokers cap
    /// it with their `maxMsgsNumBatch`, 64 by default), as `mqadmin queryMsgByKey -b -e`.
    pub async fn query_messages(
        &self,
        topic: &str,
        key: &str,
        begin_ms: i64,
        end_ms: i64,
        max_per_broker: i32,
    ) -> Result<Vec<Message>> {
        if key.is_empty() || begin_ms > end_ms || max_per_broker < 1 {
            return Err(Error::invalid_argument(format!(
                "query of {topic} needs a key, a begin no later than its end and a positive count \
                 (key {key:?}, {begin_ms}..{end_ms}, {max_per_broker})"
            )));
        }
        self.query(topic, key, false, begin_ms, end_ms, max_per_broker).await
    }

    async fn query(
        &self,
        topic: &str,
        key: &str,
        unique: bool,
        begin_timestamp: i64,
        end_timestamp: i64,
        max_num: i32,
    ) -> Result<Vec<Message>> {
        let wire_topic = self.wire(topic);
        let route = self.instance.fetch_route(&wire_topic).await?;
        let masters = route_masters(&route.data);
        let what = format!("query message {key:?} of {wire_topic}");
        let per_broker = self
            .on_each(&masters, |target| async {
                let mut cmd = QueryMessageRequestHeader {
                    topic: &wire_topic,
                    key,
                    max_num,
                    begin_timestamp,
                    end_timestamp,
                    unique_key_query: unique,
                }
                .command();
                // Sent as a 4.9.3 client so every broker version leaves `_UNIQUE_KEY_QUERY` out
                // of the ACL signature check (docs/remoting-protocol.md §8).
                cmd.version = VERSION_V4_9_3;
                // Brokers may spend up to 3 timeouts on an index lookup (Java waits so long).
                let resp = self
                    .instance
                    .invoke(&target.addr, cmd, ADMIN_TIMEOUT * 3)
                    .await
                    .map_err(|e| with_context(e, &target.context(&what)))?;
                match resp.code {
                    response::SUCCESS => {}
                    response::QUERY_NOT_FOUND => return Ok(Vec::new()),
                    code => return Err(Error::from_response(code, resp.remark.as_deref(), &target.context(&what))),
                }
                let mut found = Vec::new();
                for stored in decode_stored_messages(&resp.body)? {
                    // The index is hash based: confirm the key really matches.
                    let matches = if unique {
                        stored.properties.get(property::UNIQ_KEY).is_some_and(|k| k == key)
                    } else {
                        stored.topic == wire_topic
                            && stored
                                .properties
                                .get(property::KEYS)
                                .is_some_and(|keys| keys.split(' ').any(|k| k == key))
                    };
                    if matches {
                        let topic = namespace::unwrap(self.namespace.as_deref(), &stored.topic);
                        found.push(from_stored(stored, &target.name, topic));
                    }
                }
                Ok(found)
            })
            .await?;
        let mut found: Vec<Message> = per_broker.into_iter().flatten().collect();
        found.sort_by_key(|m| m.received.as_ref().map(|r| (r.store_timestamp, r.broker_name.clone(), r.queue_offset)));
        Ok(found)
    }

    /// The messages stored in queue `queue_id` of `topic` on `broker_name` from offset `begin`
    /// up to, not including, `end`, in offset order, without consuming them (as `mqadmin
    /// queryMsgByOffset` reads one). Offsets below the queue's first stored message are
    /// skipped; the read stops at the queue's end. At most [`MAX_QUEUE_READ`] offsets a call.
    pub async fn read_queue(
        &self,
        topic: &str,
        broker_name: &str,
        queue_id: i32,
        begin: i64,
        end: i64,
    ) -> Result<Vec<Message>> {
        if begin < 0 || end < begin || end - begin > MAX_QUEUE_READ {
            return Err(Error::invalid_argument(format!(
                "queue offsets {begin}..{end} of {topic}: need 0 <= begin <= end and at most {MAX_QUEUE_READ} offsets"
            )));
        }
        let wire_topic = self.wire(topic);
        let route = self.instance.fetch_route(&wire_topic).await?;
        let addr = route.data.master_addr(broker_name).ok_or_else(|| {
            Error::new(ErrorKind::InvalidArgument, format!("topic {topic} has no master broker named {broker_name}"))
        })?;
        let target = BrokerTarget::broker(broker_name, addr);
        let mq = MessageQueue::new(wire_topic.as_str(), broker_name, queue_id);
        let what = format!("read queue {queue_id} of {wire_topic}");
        let everything = SubscriptionData::by_tag(&wire_topic, "*")?;
        let limits = DecodeLimits {
            messages: READ_BATCH as usize,
            body_bytes: MAX_DECOMPRESSED_BODY_LEN,
            first_body_bytes: MAX_DECOMPRESSED_BODY_LEN,
        };
        let mut messages = Vec::new();
        let mut offset = begin;
        while offset < end {
            let cmd = PullMessageRequestHeader {
                consumer_group: TOOLS_GROUP,
                topic: &wire_topic,
                queue_id,
                queue_offset: offset,
                max_msg_nums: (end - offset).min(READ_BATCH) as u32,
                // Neither commit nor wait: only the subscription goes along.
                sys_flag: pull_sys_flag::build(false, false, true, false),
                commit_offset: 0,
                suspend_timeout_millis: 0,
                subscription: &everything.sub_string,
                sub_version: everything.sub_version,
                expression_type: everything.expression_type.wire_name(),
                max_msg_bytes: MAX_DECOMPRESSED_BODY_LEN as u32,
                broker_name,
            }
            .command();
            let resp = self.invoke_broker(&target, cmd, &what).await?;
            if !matches!(
                resp.code,
                response::SUCCESS
                    | response::PULL_NOT_FOUND
                    | response::PULL_RETRY_IMMEDIATELY
                    | response::PULL_OFFSET_MOVED
            ) {
                return Err(Error::from_response(resp.code, resp.remark.as_deref(), &target.context(&what)));
            }
            let pulled = parse_pull_response(&resp, &mq, TOOLS_GROUP, self.namespace.as_deref(), &everything, limits)
                .map_err(|e| with_context(e, &target.context(&what)))?;
            let next = pulled.next_begin_offset;
            match pulled.status {
                PullStatus::Found | PullStatus::NoMatchedMessage => messages.extend(
                    pulled.messages.into_iter().filter(|m| m.received.as_ref().is_some_and(|r| r.queue_offset < end)),
                ),
                // Before the first stored message, the broker names it; at the end, nothing more.
                PullStatus::OffsetIllegal if next > offset => {}
                PullStatus::OffsetIllegal | PullStatus::NoNewMessage => break,
            }
            if next <= offset {
                break;
            }
            offset = next;
        }
        Ok(messages)
    }

    /// The next offset to be written in each queue of `topic`, by broker name and queue id.
    pub async fn max_offsets(&self, topic: &str) -> Result<Vec<(String, i32, i64)>> {
        let wire_topic = self.wire(topic);
        let route = self.instance.fetch_route(&wire_topic).await?;
        let mut out = Vec::new();
        for q in &route.subscribe_queues {
            let addr = route
                .data
                .master_addr(&q.broker_name)
                .ok_or_else(|| Error::network(format!("no master address for broker {}", q.broker_name)))?
                .to_owned();
            let cmd =
                GetMaxOffsetRequestHeader { topic: &wire_topic, queue_id: q.queue_id, broker_name: None }.command();
            let resp = self.instance.invoke(&addr, cmd, ADMIN_TIMEOUT).await?;
            if resp.code != response::SUCCESS {
                return Err(Error::from_response(resp.code, resp.remark.as_deref(), "get max offset"));
            }
            out.push((q.broker_name.clone(), q.queue_id, OffsetResponseHeader::decode(&resp)?.offset));
        }
        Ok(out)
    }
}
