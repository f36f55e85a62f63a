//! Reading stored messages back (by offset message id, by message id, by key) and the queues'
//! max offsets: the inspection calls the tests, the CLI and the bindings' tools have used all
//! along.

use super::{Admin, ADMIN_TIMEOUT};
use crate::client::namespace;
use crate::error::{Error, Result};
use crate::message::{from_stored, Message};
use crate::protocol::codes::{response, VERSION_V4_9_3};
use crate::protocol::headers::{
    GetMaxOffsetRequestHeader, OffsetResponseHeader, QueryMessageRequestHeader, RequestHeader, ViewMessageRequestHeader,
};
use crate::protocol::message::{decode_stored_messages, property};
use crate::protocol::msgid::decode_offset_msg_id;

impl Admin {
    /// Reads one message back by its offset message id (the broker's id in a SendResult), with
    /// the body decompressed, exactly as stored.
    pub async fn view_message(&self, topic: &str, offset_msg_id: &str) -> Result<Message> {
        let id = decode_offset_msg_id(offset_msg_id)?;
        let (addr, commit_log_offset) = (id.store_host.to_string(), id.commit_log_offset);
        let cmd = ViewMessageRequestHeader { topic: &self.wire(topic), offset: commit_log_offset }.command();
        let resp = self.instance.invoke(&addr, cmd, ADMIN_TIMEOUT).await?;
        if resp.code != response::SUCCESS {
            return Err(Error::from_response(resp.code, resp.remark.as_deref(), "view message"));
        }
        let stored = decode_stored_messages(&resp.body)?
            .into_iter()
            .next()
            .ok_or_else(|| Error::protocol("view-message answer carries no message"))?;
        let topic = namespace::unwrap(self.namespace.as_deref(), &stored.topic);
        let broker_name = self.instance.broker_name_of(&addr).unwrap_or(addr);
        Ok(from_stored(stored, &broker_name, topic))
    }

    /// Finds messages by their message id (unique key) on every broker of the topic.
    pub async fn query_by_msg_id(&self, topic: &str, msg_id: &str) -> Result<Vec<Message>> {
        self.query(topic, msg_id, true).await
    }

    /// Finds messages by business key on every broker of the topic.
    pub async fn query_by_key(&self, topic: &str, key: &str) -> Result<Vec<Message>> {
        self.query(topic, key, false).await
    }

    async fn query(&self, topic: &str, key: &str, unique: bool) -> Result<Vec<Message>> {
        let wire_topic = self.wire(topic);
        let route = self.instance.fetch_route(&wire_topic).await?;
        let now = crate::message::now_ms();
        let mut found = Vec::new();
        for bd in &route.data.broker_datas {
            let Some(addr) = bd.broker_addrs.get(&0) else { continue };
            let mut cmd = QueryMessageRequestHeader {
                topic: &wire_topic,
                key,
                max_num: 32,
                begin_timestamp: now - 3 * 24 * 3600 * 1000,
                end_timestamp: i64::MAX,
                unique_key_query: unique,
            }
            .command();
            // Sent as a 4.9.3 client so every broker version leaves `_UNIQUE_KEY_QUERY` out of
            // the ACL signature check (docs/remoting-protocol.md §8).
            cmd.version = VERSION_V4_9_3;
            let resp = self.instance.invoke(addr, cmd, ADMIN_TIMEOUT).await?;
            match resp.code {
                response::SUCCESS => {}
                response::QUERY_NOT_FOUND => continue,
                code => return Err(Error::from_response(code, resp.remark.as_deref(), "query message")),
            }
            for stored in decode_stored_messages(&resp.body)? {
                // The index is hash based: confirm the key really matches.
                let matches = if unique {
                    stored.properties.get(property::UNIQ_KEY).is_some_and(|k| k == key)
                } else {
                    stored.properties.get(property::KEYS).is_some_and(|keys| keys.split(' ').any(|k| k == key))
                };
                if matches {
                    let topic = namespace::unwrap(self.namespace.as_deref(), &stored.topic);
                    found.push(from_stored(stored, &bd.broker_name, topic));
                }
            }
        }
        Ok(found)
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
