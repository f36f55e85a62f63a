//! Administrative and inspection calls that are not part of the ONS producer/consumer API:
//! reading a stored message back by id or key, queue offsets, creating a topic. Tests, the CLI
//! and the bindings' tools use them; they go through the same client instance (signing,
//! connection sharing) as everything else.

use std::sync::Arc;
use std::time::Duration;

use crate::client::instance::ClientInstance;
use crate::client::namespace;
use crate::config::{ClientConfig, Properties};
use crate::error::{Error, ErrorKind, Result};
use crate::message::{from_stored, Message};
use crate::protocol::codes::{response, VERSION_V4_9_3};
use crate::protocol::headers::send::AUTO_CREATE_TEMPLATE_TOPIC;
use crate::protocol::headers::{
    CreateTopicRequestHeader, GetMaxOffsetRequestHeader, OffsetResponseHeader, QueryMessageRequestHeader,
    RequestHeader, ViewMessageRequestHeader,
};
use crate::protocol::message::{decode_stored_messages, property};
use crate::protocol::msgid::decode_offset_msg_id;

const ADMIN_TIMEOUT: Duration = Duration::from_secs(5);
/// A created topic's permission: readable and writable (Java `PermName.PERM_READ |
/// PermName.PERM_WRITE`, `common/.../constant/PermName.java`).
const PERM_READ_WRITE: i32 = 0x4 | 0x2;

/// A handle for administrative calls. Cheap to create; shares connections with every other
/// client of the same cluster settings in the process.
pub struct Admin {
    instance: Arc<ClientInstance>,
    namespace: Option<String>,
}

impl Admin {
    /// Needs NAMESRV_ADDR (and credentials when the brokers check them). Must be called within
    /// a tokio runtime.
    pub fn new(properties: &Properties) -> Result<Self> {
        let config = ClientConfig::from_properties(properties, false)?;
        Ok(Admin { instance: ClientInstance::get_or_create(&config), namespace: config.namespace.clone() })
    }

    fn wire(&self, topic: &str) -> String {
        namespace::wrap(self.namespace.as_deref(), topic)
    }

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

    /// Creates (or updates) a topic on every master of the cluster that hosts `template_topic`
    /// (TBW102 by default).
    pub async fn create_topic(&self, topic: &str, queue_nums: u32, order: bool) -> Result<()> {
        crate::message::validate_topic(topic)?;
        let wire_topic = self.wire(topic);
        let route = self.instance.fetch_route(AUTO_CREATE_TEMPLATE_TOPIC).await?;
        let mut done = 0;
        for bd in &route.data.broker_datas {
            let Some(addr) = bd.broker_addrs.get(&0) else { continue };
            let cmd = CreateTopicRequestHeader {
                topic: &wire_topic,
                default_topic: AUTO_CREATE_TEMPLATE_TOPIC,
                read_queue_nums: queue_nums,
                write_queue_nums: queue_nums,
                perm: PERM_READ_WRITE,
                topic_filter_type: "SINGLE_TAG",
                topic_sys_flag: 0,
                order,
            }
            .command();
            let resp = self.instance.invoke(addr, cmd, ADMIN_TIMEOUT).await?;
            if resp.code != response::SUCCESS {
                return Err(Error::from_response(resp.code, resp.remark.as_deref(), "create topic"));
            }
            done += 1;
        }
        if done == 0 {
            return Err(Error::new(ErrorKind::TopicNotFound, "no master broker found to create the topic on"));
        }
        self.instance.invalidate_route(&wire_topic);
        Ok(())
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
