//! Route data from the name server: `TopicRouteData` (body of GET_ROUTEINFO_BY_TOPIC, 105),
//! `ClusterInfo` (GET_BROKER_CLUSTER_INFO, 106), the `MessageQueue` identity with Java's
//! ordering, and the Java rules turning a route into publish and subscribe queues
//! (docs/remoting-protocol.md §4).
//!
//! Bodies are parsed with [`lenient_json`](super::lenient_json), so both the standard JSON of
//! newer name servers and fastjson's non-standard form are accepted; unknown fields are
//! ignored and missing ones take their defaults.
//!
//! Static (logical-queue) topics, whose routes carry `topicQueueMappingByBroker`, are not
//! mapped: [`TopicRouteData::is_static_topic`] tells callers so they can refuse them.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde::{Deserialize, Deserializer, Serialize};

use super::java_hash::java_string_cmp;
use super::lenient_json;
use crate::error::{Error, Result};

/// Queue permission bits (`PermName`).
pub mod perm {
    /// Priority (unused by clients).
    pub const PRIORITY: i32 = 0x8;
    /// Consumers may read.
    pub const READ: i32 = 0x4;
    /// Producers may write.
    pub const WRITE: i32 = 0x2;
    /// Inherit (TBW102 uses 7).
    pub const INHERIT: i32 = 0x1;

    /// Whether `perm` allows reading.
    pub fn is_readable(perm: i32) -> bool {
        perm & READ == READ
    }

    /// Whether `perm` allows writing.
    pub fn is_writeable(perm: i32) -> bool {
        perm & WRITE == WRITE
    }

    /// Whether `perm` has the inherit bit.
    pub fn is_inherited(perm: i32) -> bool {
        perm & INHERIT == INHERIT
    }
}

/// Broker id of a master in `brokerAddrs`.
pub const MASTER_ID: i64 = 0;

/// Largest queue count per broker accepted from a route. Real topics have at most a few
/// thousand; a larger count would make [`TopicRouteData::publish_queues`] allocate without
/// bound, so it is a protocol error.
pub const MAX_QUEUE_NUMS: i32 = 65_536;

/// Largest number of queues a route may yield in all (every queue entry, and every
/// `orderTopicConf` pair, added up). The queue lists a route expands into are the one part of
/// it whose size does not follow from the size of the answer: 300 entries of 65,536 queues fit
/// in 49 KB of JSON and would expand to 20 million queues (about 2 GB). Real topics stay far
/// below: a topic on 64 brokers with 256 queues each has 16,384.
pub const MAX_ROUTE_QUEUES: i64 = 65_536;

/// Largest number of broker groups a route may list. Each is a connection and a heartbeat
/// target; real clusters have a few dozen.
pub const MAX_ROUTE_BROKERS: usize = 1024;

/// One message queue: topic, broker name and queue id.
///
/// Ordered like Java's `MessageQueue.compareTo` (topic, then broker name, both as Java strings,
/// then queue id), which rebalancing relies on. Serializes as Java's JSON
/// (`{"brokerName":..,"queueId":..,"topic":..}`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageQueue {
    pub topic: String,
    pub broker_name: String,
    pub queue_id: i32,
}

impl MessageQueue {
    pub fn new(topic: impl Into<String>, broker_name: impl Into<String>, queue_id: i32) -> Self {
        MessageQueue { topic: topic.into(), broker_name: broker_name.into(), queue_id }
    }

    /// Parses a map key produced by `lenient_json` for a `Map<MessageQueue, …>` (the
    /// queue's JSON text), e.g. from ConsumeStats.offsetTable.
    pub fn from_json_key(key: &str) -> Result<MessageQueue> {
        let value = lenient_json::parse_str(key)?;
        serde_json::from_value(value).map_err(|e| Error::protocol(format!("message queue key {key:?}: {e}")))
    }
}

impl Ord for MessageQueue {
    fn cmp(&self, other: &Self) -> Ordering {
        java_string_cmp(&self.topic, &other.topic)
            .then_with(|| java_string_cmp(&self.broker_name, &other.broker_name))
            .then_with(|| self.queue_id.cmp(&other.queue_id))
    }
}

impl PartialOrd for MessageQueue {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A broker group: its cluster, name and member addresses by broker id (0 = master).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BrokerData {
    #[serde(deserialize_with = "null_as_default")]
    pub cluster: String,
    #[serde(deserialize_with = "null_as_default")]
    pub broker_name: String,
    #[serde(deserialize_with = "broker_addrs")]
    pub broker_addrs: BTreeMap<i64, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zone_name: Option<String>,
    #[serde(deserialize_with = "null_as_default")]
    pub enable_acting_master: bool,
}

impl BrokerData {
    /// The master's address (broker id 0).
    pub fn master_addr(&self) -> Option<&str> {
        self.broker_addrs.get(&MASTER_ID).map(String::as_str)
    }
}

/// Queues of a topic on one broker.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct QueueData {
    #[serde(deserialize_with = "null_as_default")]
    pub broker_name: String,
    #[serde(deserialize_with = "null_as_default")]
    pub read_queue_nums: i32,
    #[serde(deserialize_with = "null_as_default")]
    pub write_queue_nums: i32,
    /// [`perm`] bits.
    #[serde(deserialize_with = "null_as_default")]
    pub perm: i32,
    #[serde(deserialize_with = "null_as_default")]
    pub topic_sys_flag: i32,
}

/// Route of a topic (body of GET_ROUTEINFO_BY_TOPIC).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TopicRouteData {
    /// `brokerName:count` pairs separated by `;`; overrides the queue data for publishing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_topic_conf: Option<String>,
    #[serde(deserialize_with = "null_as_default")]
    pub queue_datas: Vec<QueueData>,
    #[serde(deserialize_with = "null_as_default")]
    pub broker_datas: Vec<BrokerData>,
    #[serde(deserialize_with = "null_as_default")]
    pub filter_server_table: BTreeMap<String, Vec<String>>,
    /// Logical-queue mapping of static topics, kept as raw JSON (not interpreted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic_queue_mapping_by_broker: Option<serde_json::Value>,
}

impl TopicRouteData {
    /// Parses a route body (standard or fastjson form). Fails on malformed JSON, on queue
    /// counts above [`MAX_QUEUE_NUMS`] per broker or [`MAX_ROUTE_QUEUES`] in all, on more than
    /// [`MAX_ROUTE_BROKERS`] broker groups, and on a malformed `orderTopicConf` (Java's route
    /// update fails on one too). Queue entries naming a broker the route does not list are
    /// dropped (logged): no queue of theirs could be reached.
    pub fn parse(body: &[u8]) -> Result<TopicRouteData> {
        let value = parse_object(body, "topic route data")?;
        let mut route: TopicRouteData =
            serde_json::from_value(value).map_err(|e| Error::protocol(format!("topic route data: {e}")))?;
        if route.broker_datas.len() > MAX_ROUTE_BROKERS {
            return Err(Error::protocol(format!(
                "topic route data lists {} brokers, more than {MAX_ROUTE_BROKERS}",
                route.broker_datas.len()
            )));
        }
        let listed: HashSet<&str> = route.broker_datas.iter().map(|b| b.broker_name.as_str()).collect();
        let before = route.queue_datas.len();
        let mut unlisted: Option<String> = None;
        route.queue_datas.retain(|qd| {
            let keep = listed.contains(qd.broker_name.as_str());
            if !keep && unlisted.is_none() {
                unlisted = Some(qd.broker_name.clone());
            }
            keep
        });
        if let Some(example) = unlisted {
            crate::log_limit::warn_limited!(
                dropped = before - route.queue_datas.len(),
                example = %example,
                "topic route data has queue entries for brokers it does not list; they are ignored"
            );
        }
        let mut total: i64 = 0;
        for qd in &route.queue_datas {
            if qd.read_queue_nums > MAX_QUEUE_NUMS || qd.write_queue_nums > MAX_QUEUE_NUMS {
                return Err(Error::protocol(format!(
                    "topic route data: broker {} has {}/{} read/write queues, more than {MAX_QUEUE_NUMS}",
                    qd.broker_name, qd.read_queue_nums, qd.write_queue_nums
                )));
            }
            total += i64::from(qd.read_queue_nums.max(qd.write_queue_nums).max(0));
        }
        if let Some(conf) = route.order_topic_conf.as_deref() {
            parse_order_topic_conf(conf)?;
            total += order_topic_conf_pairs(conf).filter_map(|p| p.ok()).map(|(_, n)| i64::from(n.max(0))).sum::<i64>();
        }
        if total > MAX_ROUTE_QUEUES {
            return Err(Error::protocol(format!(
                "topic route data adds up to {total} queues, more than {MAX_ROUTE_QUEUES}"
            )));
        }
        Ok(route)
    }

    /// Whether the route is of a static (logical-queue) topic, which this client does not map.
    pub fn is_static_topic(&self) -> bool {
        matches!(&self.topic_queue_mapping_by_broker, Some(serde_json::Value::Object(m)) if !m.is_empty())
    }

    /// Whether a non-empty `orderTopicConf` decides the publish queues (Java marks the topic
    /// "order topic").
    pub fn has_order_topic_conf(&self) -> bool {
        self.order_topic_conf.as_deref().is_some_and(|c| !c.is_empty())
    }

    /// The broker group named `broker_name` (the first, if listed twice).
    pub fn broker_data(&self, broker_name: &str) -> Option<&BrokerData> {
        self.broker_datas.iter().find(|b| b.broker_name == broker_name)
    }

    /// Master address of `broker_name`.
    pub fn master_addr(&self, broker_name: &str) -> Option<&str> {
        self.broker_data(broker_name).and_then(BrokerData::master_addr)
    }

    /// Queues a producer sends to, in Java's order (`topicRouteData2TopicPublishInfo`):
    /// * a non-empty `orderTopicConf` wins: for each `brokerName:count`, queues 0..count,
    ///   regardless of permissions or addresses (malformed pairs are skipped here; [`parse`]
    ///   rejects them);
    /// * otherwise queue data sorted by broker name (Java string order, stable); for each entry
    ///   with WRITE permission whose broker has a master address, queues 0..writeQueueNums.
    ///
    /// [`parse`]: TopicRouteData::parse
    pub fn publish_queues(&self, topic: &str) -> Vec<MessageQueue> {
        let mut out = Vec::new();
        if let Some(conf) = self.order_topic_conf.as_deref().filter(|c| !c.is_empty()) {
            for (broker, count) in order_topic_conf_pairs(conf).filter_map(|p| p.ok()) {
                out.extend((0..count).map(|i| MessageQueue::new(topic, broker, i)));
            }
            return out;
        }
        // One pass over the brokers, not one search per queue entry.
        let with_master: HashSet<&str> =
            self.broker_datas.iter().filter(|b| b.master_addr().is_some()).map(|b| b.broker_name.as_str()).collect();
        let mut qds: Vec<&QueueData> = self.queue_datas.iter().collect();
        qds.sort_by(|a, b| java_string_cmp(&a.broker_name, &b.broker_name));
        for qd in qds {
            if !perm::is_writeable(qd.perm) || !with_master.contains(qd.broker_name.as_str()) {
                continue;
            }
            let count = qd.write_queue_nums.min(MAX_QUEUE_NUMS);
            out.extend((0..count).map(|i| MessageQueue::new(topic, qd.broker_name.as_str(), i)));
        }
        out
    }

    /// Queues a consumer reads (`topicRouteData2TopicSubscribeInfo`): for each entry with READ
    /// permission, queues 0..readQueueNums. Java returns a set; this returns it sorted in
    /// [`MessageQueue`] order, without duplicates.
    pub fn subscribe_queues(&self, topic: &str) -> Vec<MessageQueue> {
        let mut set = BTreeSet::new();
        for qd in &self.queue_datas {
            if perm::is_readable(qd.perm) {
                let count = qd.read_queue_nums.min(MAX_QUEUE_NUMS);
                set.extend((0..count).map(|i| MessageQueue::new(topic, qd.broker_name.as_str(), i)));
            }
        }
        set.into_iter().collect()
    }

    /// Every broker address of the route (masters and slaves), sorted and deduplicated: the
    /// heartbeat targets.
    pub fn all_broker_addrs(&self) -> BTreeSet<&str> {
        self.broker_datas.iter().flat_map(|b| b.broker_addrs.values().map(String::as_str)).collect()
    }
}

/// Splits `orderTopicConf` the way Java does (`;` between pairs, `:` inside, only the first two
/// parts of a pair used), skipping empty segments. Counts must be integers; negative counts
/// give no queues, as in Java's loop.
fn order_topic_conf_pairs(conf: &str) -> impl Iterator<Item = Result<(&str, i32)>> {
    conf.split(';').filter(|s| !s.is_empty()).map(|pair| {
        let mut parts = pair.split(':');
        let broker = parts.next().unwrap_or_default();
        let count = parts
            .next()
            .and_then(|c| c.parse::<i32>().ok())
            .ok_or_else(|| Error::protocol(format!("orderTopicConf entry {pair:?} is not brokerName:count")))?;
        if count > MAX_QUEUE_NUMS {
            return Err(Error::protocol(format!(
                "orderTopicConf entry {pair:?} has more than {MAX_QUEUE_NUMS} queues"
            )));
        }
        Ok((broker, count.max(0)))
    })
}

fn parse_order_topic_conf(conf: &str) -> Result<()> {
    order_topic_conf_pairs(conf).try_for_each(|p| p.map(|_| ()))
}

/// Cluster topology (body of GET_BROKER_CLUSTER_INFO; fastjson form always).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ClusterInfo {
    /// Broker groups by broker name.
    #[serde(deserialize_with = "null_as_default")]
    pub broker_addr_table: BTreeMap<String, BrokerData>,
    /// Broker names by cluster name.
    #[serde(deserialize_with = "null_as_default")]
    pub cluster_addr_table: BTreeMap<String, BTreeSet<String>>,
}

impl ClusterInfo {
    /// Parses a cluster-info body (standard or fastjson form).
    pub fn parse(body: &[u8]) -> Result<ClusterInfo> {
        let value = parse_object(body, "cluster info")?;
        serde_json::from_value(value).map_err(|e| Error::protocol(format!("cluster info: {e}")))
    }

    /// Master addresses of every broker in `cluster`, sorted.
    pub fn master_addrs(&self, cluster: &str) -> Vec<&str> {
        let Some(names) = self.cluster_addr_table.get(cluster) else {
            return Vec::new();
        };
        let mut out: Vec<&str> =
            names.iter().filter_map(|n| self.broker_addr_table.get(n)).filter_map(BrokerData::master_addr).collect();
        out.sort_unstable();
        out
    }
}

/// A lenient-JSON body that must be an object (serde would also accept an array positionally).
fn parse_object(body: &[u8], what: &str) -> Result<serde_json::Value> {
    let value = lenient_json::parse(body)?;
    if value.is_object() {
        Ok(value)
    } else {
        Err(Error::protocol(format!("{what}: expected a JSON object")))
    }
}

/// fastjson omits nulls, standard JSON may carry them: treat `null` as the field's default.
fn null_as_default<'de, D, T>(d: D) -> std::result::Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// `brokerAddrs`: keys are broker ids, written `0` (fastjson) or `"0"` (standard); both arrive
/// here as strings.
fn broker_addrs<'de, D>(d: D) -> std::result::Result<BTreeMap<i64, String>, D::Error>
where
    D: Deserializer<'de>,
{
    let raw = Option::<BTreeMap<String, Option<String>>>::deserialize(d)?.unwrap_or_default();
    let mut out = BTreeMap::new();
    for (id, addr) in raw {
        let id = id
            .trim()
            .parse::<i64>()
            .map_err(|_| serde::de::Error::custom(format!("broker id {id:?} is not an integer")))?;
        if let Some(addr) = addr {
            out.insert(id, addr);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const FASTJSON_ROUTE: &str = r#"{"brokerDatas":[{"brokerAddrs":{0:"127.0.0.1:10911"},"brokerName":"broker-a","cluster":"DefaultCluster","enableActingMaster":false}],"filterServerTable":{},"queueDatas":[{"brokerName":"broker-a","perm":6,"readQueueNums":4,"topicSysFlag":0,"writeQueueNums":4}]}"#;
    const STANDARD_ROUTE: &str = r#"{"brokerDatas":[{"brokerAddrs":{"0":"127.0.0.1:10911"},"brokerName":"broker-a","cluster":"DefaultCluster","enableActingMaster":false}],"filterServerTable":{},"queueDatas":[{"brokerName":"broker-a","perm":6,"readQueueNums":4,"topicSysFlag":0,"writeQueueNums":4}]}"#;

    #[test]
    fn parses_both_route_forms_identically() {
        let a = TopicRouteData::parse(FASTJSON_ROUTE.as_bytes()).unwrap();
        let b = TopicRouteData::parse(STANDARD_ROUTE.as_bytes()).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.master_addr("broker-a"), Some("127.0.0.1:10911"));
        assert_eq!(a.master_addr("broker-b"), None);
        assert_eq!(a.broker_datas[0].cluster, "DefaultCluster");
        assert_eq!(a.queue_datas[0].perm, 6);
        assert!(!a.has_order_topic_conf());
        assert!(!a.is_static_topic());
        let q = a.publish_queues("T");
        assert_eq!(q, (0..4).map(|i| MessageQueue::new("T", "broker-a", i)).collect::<Vec<_>>());
        assert_eq!(a.subscribe_queues("T"), q);
        // serde_json agrees on the standard form.
        assert_eq!(serde_json::from_str::<TopicRouteData>(STANDARD_ROUTE).unwrap(), a);
    }

    #[test]
    fn tolerates_unknown_missing_and_null_fields() {
        let body = r#"{"brokerDatas":[{"brokerAddrs":{0:"m:1",1:"s:1"},"brokerName":"b","zoneName":"z1","extra":[1,{"x":2}]}],
                       "queueDatas":[{"brokerName":"b","perm":6,"readQueueNums":2,"writeQueueNums":1}],
                       "topicQueueMappingByBroker":null,"newField":{{"k":1}:2},"filterServerTable":null}"#;
        let r = TopicRouteData::parse(body.as_bytes()).unwrap();
        assert_eq!(r.broker_datas[0].zone_name.as_deref(), Some("z1"));
        assert_eq!(r.broker_datas[0].broker_addrs.get(&1).map(String::as_str), Some("s:1"));
        assert_eq!(r.all_broker_addrs().into_iter().collect::<Vec<_>>(), vec!["m:1", "s:1"]);
        assert_eq!(r.publish_queues("T").len(), 1);
        assert_eq!(r.subscribe_queues("T").len(), 2);
        assert_eq!(TopicRouteData::parse(b"{}").unwrap(), TopicRouteData::default());
        assert!(TopicRouteData::parse(b"[]").is_err());
        assert!(TopicRouteData::parse(br#"{"brokerDatas":[{"brokerAddrs":{x:"a"}}]}"#).is_err());
    }

    #[test]
    fn publish_rules() {
        let body = r#"{"brokerDatas":[
              {"brokerAddrs":{0:"a:1"},"brokerName":"broker-c"},
              {"brokerAddrs":{0:"b:1"},"brokerName":"broker-a"},
              {"brokerAddrs":{1:"slave-only:1"},"brokerName":"broker-b"}],
            "queueDatas":[
              {"brokerName":"broker-c","perm":6,"readQueueNums":2,"writeQueueNums":2},
              {"brokerName":"broker-b","perm":6,"readQueueNums":2,"writeQueueNums":2},
              {"brokerName":"broker-a","perm":4,"readQueueNums":1,"writeQueueNums":1},
              {"brokerName":"broker-d","perm":6,"readQueueNums":1,"writeQueueNums":1},
              {"brokerName":"broker-a","perm":2,"readQueueNums":3,"writeQueueNums":3}]}"#;
        let r = TopicRouteData::parse(body.as_bytes()).unwrap();
        let names =
            |qs: &[MessageQueue]| qs.iter().map(|q| format!("{}:{}", q.broker_name, q.queue_id)).collect::<Vec<_>>();
        // broker-a (write-only entry, sorted first), broker-b has no master, broker-c; broker-d
        // has no broker data at all, so its entry was dropped (Java would list its queues for
        // consumers, which could never reach them).
        assert_eq!(r.queue_datas.len(), 4);
        assert_eq!(
            names(&r.publish_queues("T")),
            ["broker-a:0", "broker-a:1", "broker-a:2", "broker-c:0", "broker-c:1"]
        );
        assert_eq!(
            names(&r.subscribe_queues("T")),
            ["broker-a:0", "broker-b:0", "broker-b:1", "broker-c:0", "broker-c:1"]
        );
    }

    #[test]
    fn order_topic_conf_overrides() {
        let body = r#"{"orderTopicConf":"broker-b:2;broker-a:1;","brokerDatas":[{"brokerName":"x"}],"queueDatas":[{"brokerName":"x","perm":6,"readQueueNums":4,"writeQueueNums":4}]}"#;
        let r = TopicRouteData::parse(body.as_bytes()).unwrap();
        assert!(r.has_order_topic_conf());
        let q = r.publish_queues("T");
        assert_eq!(
            q,
            vec![
                MessageQueue::new("T", "broker-b", 0),
                MessageQueue::new("T", "broker-b", 1),
                MessageQueue::new("T", "broker-a", 0)
            ]
        );
        assert_eq!(r.subscribe_queues("T").len(), 4);
        // Empty conf is ignored like Java.
        let r = TopicRouteData { order_topic_conf: Some(String::new()), ..r };
        assert!(r.publish_queues("T").is_empty(), "no broker data: no publish queues");
        assert!(TopicRouteData::parse(br#"{"orderTopicConf":"broker-a"}"#).is_err());
        assert!(TopicRouteData::parse(br#"{"orderTopicConf":"broker-a:x"}"#).is_err());
        assert!(TopicRouteData::parse(br#"{"orderTopicConf":"broker-a:99999999"}"#).is_err());
        let huge =
            br#"{"brokerDatas":[{"brokerName":"b"}],"queueDatas":[{"brokerName":"b","writeQueueNums":2147483647}]}"#;
        assert!(TopicRouteData::parse(huge).is_err());
    }

    /// A route of `entries` queue entries of `queues` queues each, all naming listed brokers
    /// (`brokers` of them) or, with `brokers` 0, none.
    fn hostile_route(brokers: usize, entries: usize, queues: i32) -> String {
        let broker_datas: Vec<String> = (0..brokers)
            .map(|i| format!(r#"{{"brokerName":"b{i}","brokerAddrs":{{"0":"127.0.0.1:{}"}}}}"#, 20000 + i))
            .collect();
        let queue_datas: Vec<String> = (0..entries)
            .map(|i| {
                let name = if brokers == 0 { format!("gone{i}") } else { format!("b{}", i % brokers) };
                format!(r#"{{"brokerName":"{name}","perm":6,"readQueueNums":{queues},"writeQueueNums":{queues}}}"#)
            })
            .collect();
        format!(r#"{{"brokerDatas":[{}],"queueDatas":[{}]}}"#, broker_datas.join(","), queue_datas.join(","))
    }

    #[test]
    fn hostile_routes_are_refused_or_trimmed_before_they_expand() {
        // 300 entries of 65,536 queues: 49 KB of JSON that would expand to 19.7 million queues.
        let body = hostile_route(300, 300, MAX_QUEUE_NUMS);
        assert!(body.len() < 60_000, "{}", body.len());
        let err = TopicRouteData::parse(body.as_bytes()).unwrap_err();
        assert!(err.message().contains("more than 65536"), "{err}");
        // Queue entries naming no listed broker are dropped, whatever their counts.
        let r = TopicRouteData::parse(hostile_route(0, 100, MAX_QUEUE_NUMS).as_bytes()).unwrap();
        assert!(r.queue_datas.is_empty() && r.subscribe_queues("T").is_empty() && r.publish_queues("T").is_empty());
        // Too many brokers.
        let err = TopicRouteData::parse(hostile_route(MAX_ROUTE_BROKERS + 1, 1, 1).as_bytes()).unwrap_err();
        assert!(err.message().contains("brokers, more than 1024"), "{err}");
        // At the caps: accepted, and expanded in one pass over the brokers.
        let r = TopicRouteData::parse(hostile_route(MAX_ROUTE_BROKERS, 1024, 64).as_bytes()).unwrap();
        assert_eq!(r.publish_queues("T").len(), 65_536);
        assert_eq!(r.subscribe_queues("T").len(), 65_536);
    }

    #[test]
    fn static_topic_is_detected() {
        let r = TopicRouteData::parse(br#"{"topicQueueMappingByBroker":{"broker-a":{"bname":"broker-a"}}}"#).unwrap();
        assert!(r.is_static_topic());
    }

    #[test]
    fn message_queue_order_and_json() {
        let mut qs = [
            MessageQueue::new("T", "b", 1),
            MessageQueue::new("A", "z", 0),
            MessageQueue::new("T", "a", 2),
            MessageQueue::new("T", "b", 0),
        ];
        qs.sort();
        let keys: Vec<_> = qs.iter().map(|q| (q.topic.as_str(), q.broker_name.as_str(), q.queue_id)).collect();
        assert_eq!(keys, [("A", "z", 0), ("T", "a", 2), ("T", "b", 0), ("T", "b", 1)]);
        // Java string order, not UTF-8 order.
        assert!(MessageQueue::new("T", "😀", 0) < MessageQueue::new("T", "\u{FF01}", 0));
        let json = serde_json::to_value(MessageQueue::new("T", "b", 3)).unwrap();
        assert_eq!(json, serde_json::json!({"brokerName":"b","queueId":3,"topic":"T"}));

        let stats = lenient_json::parse_str(
            r#"{"offsetTable":{{"brokerName":"b","queueId":3,"topic":"T"}:{"brokerOffset":9}}}"#,
        )
        .unwrap();
        let key = stats["offsetTable"].as_object().unwrap().keys().next().unwrap().clone();
        assert_eq!(MessageQueue::from_json_key(&key).unwrap(), MessageQueue::new("T", "b", 3));
        assert!(MessageQueue::from_json_key("{}").is_err());
    }

    #[test]
    fn cluster_info_fastjson() {
        let body = r#"{"brokerAddrTable":{"broker-a":{"brokerAddrs":{0:"10.0.0.1:10911",1:"10.0.0.2:10911"},"brokerName":"broker-a","cluster":"DefaultCluster","enableActingMaster":false},"broker-b":{"brokerAddrs":{0:"10.0.0.3:10911"},"brokerName":"broker-b","cluster":"DefaultCluster"}},"clusterAddrTable":{"DefaultCluster":["broker-b","broker-a"]}}"#;
        let c = ClusterInfo::parse(body.as_bytes()).unwrap();
        assert_eq!(c.broker_addr_table.len(), 2);
        assert_eq!(c.cluster_addr_table["DefaultCluster"].len(), 2);
        assert_eq!(c.master_addrs("DefaultCluster"), vec!["10.0.0.1:10911", "10.0.0.3:10911"]);
        assert!(c.master_addrs("Other").is_empty());
        assert!(ClusterInfo::parse(b"{").is_err());
    }

    proptest! {
        #[test]
        fn route_parser_never_panics(buf in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = TopicRouteData::parse(&buf);
            let _ = ClusterInfo::parse(&buf);
        }

        #[test]
        fn route_parser_survives_mutated_routes(
            flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        ) {
            let mut bytes = FASTJSON_ROUTE.as_bytes().to_vec();
            for (i, b) in flips {
                let at = i.index(bytes.len());
                bytes[at] = b;
            }
            if let Ok(r) = TopicRouteData::parse(&bytes) {
                let _ = r.publish_queues("T");
                let _ = r.subscribe_queues("T");
            }
        }

        #[test]
        fn publish_queues_are_well_formed(
            qds in proptest::collection::vec(("[a-c]", 0i32..8, -2i32..6, -2i32..6, any::<bool>()), 0..6),
        ) {
            let route = TopicRouteData {
                broker_datas: qds.iter().filter(|q| q.4).map(|q| BrokerData {
                    broker_name: q.0.clone(),
                    broker_addrs: BTreeMap::from([(MASTER_ID, "m:1".to_string())]),
                    ..Default::default()
                }).collect(),
                queue_datas: qds.iter().map(|q| QueueData {
                    broker_name: q.0.clone(), perm: q.1, read_queue_nums: q.2, write_queue_nums: q.3, topic_sys_flag: 0,
                }).collect(),
                ..Default::default()
            };
            let pubs = route.publish_queues("T");
            for q in &pubs {
                prop_assert!(route.master_addr(&q.broker_name).is_some());
            }
            // Broker names come out sorted.
            prop_assert!(pubs.windows(2).all(|w| w[0].broker_name <= w[1].broker_name));
            let subs = route.subscribe_queues("T");
            prop_assert!(subs.windows(2).all(|w| w[0] < w[1]));
        }
    }
}
