//! Administrative and inspection calls that are not part of the ONS producer/consumer API: the
//! management operations of the RocketMQ console and `mqadmin`, over the remoting protocol, on
//! any RocketMQ cluster (4.x and 5.x). Tests, the CLI and the bindings' tools use them; they go
//! through the same client instance (signing, connection sharing) as everything else.
//!
//! One file per area, each adding its operations to [`Admin`] and owning its result types:
//!
//! * `messages`: reading stored messages back by either kind of message id, by key within a time
//!   range and by queue offsets, and queue max offsets (some of them the operations the tests
//!   and bindings have used all along);
//! * `cluster`: the brokers of every cluster, their roles and versions ([`ClusterBroker`]);
//! * `topics`: create/update, delete, list, route and queue offsets of topics ([`TopicConfig`],
//!   [`TopicRouteInfo`], [`TopicStats`]);
//! * `groups`: subscription group configs ([`SubscriptionGroupConfig`]);
//! * `consumers`: a group's online consumers ([`ConsumerConnections`]) and progress
//!   ([`ConsumeStats`]);
//! * `clients`: requests to one online consumer client through a broker: its running info
//!   ([`ConsumerRunningInfo`]) and consuming one message directly
//!   ([`ConsumeMessageDirectlyResult`]);
//! * `delivery`: whether each group that consumes a topic has consumed a message
//!   ([`MessageTrack`]);
//! * `offsets`: moving a group's offsets to a time, the earliest or the latest message
//!   ([`ResetPosition`], [`QueueOffset`]).
//!
//! Every request is bounded by a timeout of its own ([`ADMIN_TIMEOUT`]); an operation on several
//! brokers sends to all of them at once, so it takes about as long as its slowest broker.
//! Errors name the operation, the broker (name and address) and the response code and remark
//! it answered. docs/admin.md describes each operation against its `mqadmin` counterpart.

mod clients;
mod cluster;
mod consumers;
mod delivery;
mod groups;
mod messages;
mod offsets;
mod topics;

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;
use serde::de::DeserializeOwned;

use crate::client::instance::ClientInstance;
use crate::client::namespace;
use crate::config::{ClientConfig, Properties};
use crate::error::{Error, ErrorKind, Result};
use crate::protocol::codes::{request, response};
use crate::protocol::command::RemotingCommand;
use crate::protocol::lenient_json;
use crate::protocol::route::{ClusterInfo, MessageQueue, TopicRouteData};

pub use clients::{
    ConsumeMessageDirectlyResult, ConsumeStatus, ConsumerRunningInfo, DirectConsumeResult, ProcessQueueInfo,
};
pub use cluster::{BrokerRole, ClusterBroker};
pub use consumers::{ConsumeStats, ConsumerClient, ConsumerConnections, ConsumerSubscription, QueueConsumeStats};
pub use delivery::{MessageTrack, TrackType};
pub use groups::{
    BrokerSubscriptionGroups, CustomizedRetryPolicy, ExponentialRetryPolicy, GroupRetryPolicy, RetryPolicyType,
    SubscriptionGroupConfig,
};
pub use offsets::{QueueOffset, ResetPosition};
pub use topics::{QueueOffsets, RouteBroker, RouteQueues, TopicConfig, TopicRouteInfo, TopicStats};

/// How long one admin request may take, connecting included (mqadmin's default is 5 s too).
pub const ADMIN_TIMEOUT: Duration = Duration::from_secs(5);

/// A handle for administrative calls. Cheap to create; shares connections with every other
/// client of the same cluster settings in the process.
///
/// With a namespace (`INSTANCE_ID`), topic and group names given to it are namespaced on the
/// wire and names it returns are shown without the namespace; listings keep only the names of
/// that namespace (and system names, which are never namespaced).
pub struct Admin {
    instance: Arc<ClientInstance>,
    namespace: Option<String>,
}

/// A server a request goes to: a broker, or a name server where each one must be told (topic
/// deletion); its name is for results and error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
struct BrokerTarget {
    /// "broker" or "name server", for messages.
    kind: &'static str,
    name: String,
    addr: String,
}

impl BrokerTarget {
    fn broker(name: &str, addr: &str) -> Self {
        BrokerTarget { kind: "broker", name: name.to_owned(), addr: addr.to_owned() }
    }

    fn name_server(addr: &str) -> Self {
        BrokerTarget { kind: "name server", name: addr.to_owned(), addr: addr.to_owned() }
    }

    fn context(&self, what: &str) -> String {
        if self.name == self.addr {
            format!("{what} on {} {}", self.kind, self.addr)
        } else {
            format!("{what} on {} {} ({})", self.kind, self.name, self.addr)
        }
    }
}

/// The master of every broker group in a route.
fn route_masters(route: &TopicRouteData) -> Vec<BrokerTarget> {
    route
        .broker_datas
        .iter()
        .filter_map(|bd| bd.master_addr().map(|addr| BrokerTarget::broker(&bd.broker_name, addr)))
        .collect()
}

impl Admin {
    /// Needs NAMESRV_ADDR (and credentials when the brokers check them). Must be called within
    /// a tokio runtime.
    pub fn new(properties: &Properties) -> Result<Self> {
        let config = ClientConfig::from_properties(properties, false)?;
        Ok(Admin { instance: ClientInstance::get_or_create(&config), namespace: config.namespace.clone() })
    }

    /// A topic or group name as sent on the wire.
    fn wire(&self, name: &str) -> String {
        namespace::wrap(self.namespace.as_deref(), name)
    }

    /// A name from the wire as shown to users.
    fn shown(&self, wire_name: &str) -> String {
        namespace::unwrap(self.namespace.as_deref(), wire_name)
    }

    /// Whether a wire name belongs in this admin's listings: with a namespace, only that
    /// namespace's names and system names (which wrapping leaves alone).
    fn listed(&self, wire_name: &str) -> bool {
        self.wire(&self.shown(wire_name)) == wire_name
    }

    /// Sends `cmd` to a broker and returns its answer whatever the code; a failure to get one
    /// names the operation and the broker.
    async fn invoke_broker(&self, target: &BrokerTarget, cmd: RemotingCommand, what: &str) -> Result<RemotingCommand> {
        self.instance.invoke(&target.addr, cmd, ADMIN_TIMEOUT).await.map_err(|e| with_context(e, &target.context(what)))
    }

    /// [`Admin::invoke_broker`] expecting SUCCESS; any other code is an error naming the
    /// operation, the broker, the code and the remark.
    async fn call_broker(&self, target: &BrokerTarget, cmd: RemotingCommand, what: &str) -> Result<RemotingCommand> {
        let resp = self.invoke_broker(target, cmd, what).await?;
        if resp.code != response::SUCCESS {
            return Err(Error::from_response(resp.code, resp.remark.as_deref(), &target.context(what)));
        }
        Ok(resp)
    }

    /// Sends `cmd` to the name servers (failing over between them) expecting SUCCESS.
    async fn call_namesrv(&self, cmd: RemotingCommand, what: &str) -> Result<RemotingCommand> {
        let resp = self.instance.invoke_namesrv(cmd, ADMIN_TIMEOUT).await.map_err(|e| with_context(e, what))?;
        if resp.code != response::SUCCESS {
            return Err(Error::from_response(resp.code, resp.remark.as_deref(), &format!("{what} on the name server")));
        }
        Ok(resp)
    }

    /// The clusters and brokers registered with the name servers (GET_BROKER_CLUSTER_INFO).
    async fn cluster_info(&self) -> Result<ClusterInfo> {
        let cmd = RemotingCommand::request(request::GET_BROKER_CLUSTER_INFO);
        let resp = self.call_namesrv(cmd, "get cluster info").await?;
        ClusterInfo::parse(&resp.body)
    }

    /// The master of every broker group in `cluster`, or in every cluster with `None`, sorted by
    /// broker name. A cluster the name servers do not know, or one without any master, is an
    /// [`ErrorKind::InvalidArgument`] error naming the clusters they know.
    async fn masters(&self, cluster: Option<&str>) -> Result<Vec<BrokerTarget>> {
        let info = self.cluster_info().await?;
        let names: Vec<&String> = match cluster {
            Some(c) => match info.cluster_addr_table.get(c) {
                Some(names) => names.iter().collect(),
                None => {
                    let known: Vec<&str> = info.cluster_addr_table.keys().map(String::as_str).collect();
                    return Err(Error::new(
                        ErrorKind::InvalidArgument,
                        format!("cluster {c} is not known to the name servers (known: {})", known.join(", ")),
                    ));
                }
            },
            None => info.cluster_addr_table.values().flatten().collect(),
        };
        let mut masters: Vec<BrokerTarget> = names
            .into_iter()
            .filter_map(|name| info.broker_addr_table.get(name))
            .filter_map(|bd| bd.master_addr().map(|addr| BrokerTarget::broker(&bd.broker_name, addr)))
            .collect();
        masters.sort_by(|a, b| a.name.cmp(&b.name));
        masters.dedup();
        if masters.is_empty() {
            let which = cluster.map_or_else(|| "any cluster".to_owned(), |c| format!("cluster {c}"));
            return Err(Error::new(ErrorKind::InvalidArgument, format!("no master broker is registered in {which}")));
        }
        Ok(masters)
    }

    /// Runs `call` on every broker of `targets` at once and returns their results in the same
    /// order. If any failed, the error is the first failure's; when other brokers failed too, or
    /// some succeeded (the operation took effect on part of the cluster), its message says which.
    async fn on_each<'a, T, F, Fut>(&self, targets: &'a [BrokerTarget], call: F) -> Result<Vec<T>>
    where
        F: Fn(&'a BrokerTarget) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let results = join_all(targets.iter().map(call)).await;
        let mut done = Vec::new();
        let mut failed = Vec::new();
        let mut first_error = None;
        for (target, result) in targets.iter().zip(results) {
            match result {
                Ok(value) => done.push((target, value)),
                Err(e) => {
                    failed.push(target.name.as_str());
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            None => Ok(done.into_iter().map(|(_, value)| value).collect()),
            Some(e) if failed.len() == 1 && done.is_empty() => Err(e),
            Some(e) => {
                let succeeded: Vec<&str> = done.iter().map(|(t, _)| t.name.as_str()).collect();
                Err(Error::new(
                    e.kind(),
                    format!(
                        "{} (failed on {}; succeeded on {})",
                        e.message(),
                        failed.join(", "),
                        if succeeded.is_empty() { "none".to_owned() } else { succeeded.join(", ") }
                    ),
                ))
            }
        }
    }
}

/// Longest topic name brokers accept (Java `TopicValidator.TOPIC_MAX_LENGTH`,
/// `common/src/main/java/org/apache/rocketmq/common/topic/TopicValidator.java`).
const TOPIC_MAX_LEN: usize = 127;
/// Longest group name (Java `Validators.CHARACTER_MAX_LENGTH`,
/// `client/src/main/java/org/apache/rocketmq/client/Validators.java`).
const GROUP_MAX_LEN: usize = 255;

/// Checks a topic (`kind` "topic") or group name against the brokers' rules
/// (`TopicValidator.VALID_CHAR_BIT_MAP`): 1 to `max_len` characters of `[A-Za-z0-9_%|-]`, so the
/// retry and dead-letter topics (`%RETRY%G`, `%DLQ%G`) can be managed too.
fn validate_name(kind: &str, name: &str, max_len: usize) -> Result<()> {
    if name.is_empty() || name.len() > max_len {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("{kind} name {name:?} must have 1 to {max_len} characters"),
        ));
    }
    if let Some(c) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '%' | '|'))) {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("{kind} name {name:?} contains {c:?}; only A-Z a-z 0-9 _ - % | are allowed"),
        ));
    }
    Ok(())
}

fn validate_topic(topic: &str) -> Result<()> {
    validate_name("topic", topic, TOPIC_MAX_LEN)
}

fn validate_group(group: &str) -> Result<()> {
    validate_name("group", group, GROUP_MAX_LEN)
}

/// `e` with `context` (the operation and where it went) in front of its message. Errors from an
/// answer already carry their context and response code, and are kept as they are.
fn with_context(e: Error, context: &str) -> Error {
    if e.response_code().is_some() {
        e
    } else {
        Error::new(e.kind(), format!("{context}: {}", e.message()))
    }
}

/// The entries of a `Map<MessageQueue, V>` field of a body (keys are the queues' JSON text, see
/// [`lenient_json`]), the keys parsed, sorted by queue.
fn queue_entries<V>(table: BTreeMap<String, V>) -> Result<Vec<(MessageQueue, V)>> {
    let mut entries = table
        .into_iter()
        .map(|(key, value)| Ok((MessageQueue::from_json_key(&key)?, value)))
        .collect::<Result<Vec<_>>>()?;
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(entries)
}

/// Decodes a JSON body the servers wrote with fastjson (docs/remoting-protocol.md §4.3) into `T`;
/// `what` names the body in errors.
fn decode_body<T: DeserializeOwned>(body: &[u8], what: &str) -> Result<T> {
    let value = lenient_json::parse(body).map_err(|e| Error::protocol(format!("{what}: {}", e.message())))?;
    if !value.is_object() {
        return Err(Error::protocol(format!("{what}: expected a JSON object")));
    }
    serde_json::from_value(value).map_err(|e| Error::protocol(format!("{what}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_broker_rules() {
        for ok in ["T", "%RETRY%G", "%DLQ%G", "a|b", "A-z_09"] {
            assert!(validate_topic(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a b", "a.b", "é", &"x".repeat(128)] {
            assert_eq!(validate_topic(bad).unwrap_err().kind(), ErrorKind::InvalidArgument, "{bad}");
        }
        assert!(validate_group(&"g".repeat(255)).is_ok());
        assert!(validate_group(&"g".repeat(256)).is_err());
    }

    #[test]
    fn targets_name_themselves() {
        let b = BrokerTarget::broker("broker-a", "127.0.0.1:10911");
        assert_eq!(b.context("delete topic T"), "delete topic T on broker broker-a (127.0.0.1:10911)");
        let ns = BrokerTarget::name_server("127.0.0.1:9876");
        assert_eq!(ns.context("delete topic T"), "delete topic T on name server 127.0.0.1:9876");
    }

    #[test]
    fn context_is_added_to_errors_without_an_answer() {
        let e = with_context(Error::network("connection refused"), "get cluster info");
        assert_eq!((e.kind(), e.message()), (ErrorKind::Network, "get cluster info: connection refused"));
        let answered = Error::from_response(17, Some("no topic"), "get topic stats of T on broker b (a:1)");
        assert_eq!(with_context(answered.clone(), "ignored"), answered);
    }
}
