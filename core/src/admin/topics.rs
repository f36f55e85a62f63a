//! Topics: create or update (UPDATE_AND_CREATE_TOPIC 17) and delete (DELETE_TOPIC_IN_BROKER 215
//! on the brokers, then DELETE_TOPIC_IN_NAMESRV 216 on every name server) on every master of a
//! cluster, as `mqadmin updateTopic -c` and `deleteTopic -c` do; list them
//! (GET_ALL_TOPIC_LIST_FROM_NAMESERVER 206), read a route (GET_ROUTEINFO_BY_TOPIC 105) and the
//! queues' offsets (GET_TOPIC_STATS_INFO 202), as `topicList`, `topicRoute` and `topicStatus`
//! show them.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use super::{decode_body, queue_entries, route_masters, validate_topic, Admin, BrokerTarget};
use crate::error::{Error, ErrorKind, Result};
use crate::protocol::codes::request;
use crate::protocol::command::RemotingCommand;
use crate::protocol::headers::send::AUTO_CREATE_TEMPLATE_TOPIC;
use crate::protocol::headers::{
    CreateTopicRequestHeader, DeleteTopicFromNamesrvRequestHeader, DeleteTopicRequestHeader,
    GetTopicStatsInfoRequestHeader, RequestHeader,
};
use crate::protocol::route::{perm, MessageQueue, TopicRouteData};

/// A topic's settings on each broker that hosts it (Java `TopicConfig`,
/// `common/src/main/java/org/apache/rocketmq/common/TopicConfig.java`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicConfig {
    pub topic_name: String,
    /// Queues consumers read, per broker.
    pub read_queue_nums: u32,
    /// Queues producers write, per broker.
    pub write_queue_nums: u32,
    /// [`TopicConfig::PERM_READ`] | [`TopicConfig::PERM_WRITE`] (6) for a normal topic; 4 makes
    /// it read-only, 2 write-only (Java `PermName`).
    pub perm: i32,
    /// An ordered topic. 4.x brokers ignore the flag (their `updateAndCreateTopic` does not copy
    /// it); order comes from the name server's `orderTopicConf` there.
    pub order: bool,
}

impl TopicConfig {
    /// Consumers may read the topic's queues.
    pub const PERM_READ: i32 = perm::READ;
    /// Producers may write the topic's queues.
    pub const PERM_WRITE: i32 = perm::WRITE;

    /// A readable and writable, unordered topic with `queue_nums` read and write queues on each
    /// broker.
    pub fn new(topic_name: impl Into<String>, queue_nums: u32) -> Self {
        TopicConfig {
            topic_name: topic_name.into(),
            read_queue_nums: queue_nums,
            write_queue_nums: queue_nums,
            perm: Self::PERM_READ | Self::PERM_WRITE,
            order: false,
        }
    }
}

/// A topic's route, as the name servers give it (Java `TopicRouteData`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TopicRouteInfo {
    /// The broker groups hosting the topic, sorted by name.
    pub brokers: Vec<RouteBroker>,
    /// The topic's queues on each broker group, sorted by broker name.
    pub queues: Vec<RouteQueues>,
    /// `brokerName:count;...` when the name server has an order config for the topic.
    pub order_topic_conf: Option<String>,
}

/// A broker group in a route.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RouteBroker {
    pub cluster: String,
    pub broker_name: String,
    /// Addresses by broker id: 0 is the master, other ids are slaves.
    pub addrs: BTreeMap<i64, String>,
}

/// A topic's queues on one broker group in a route (Java `QueueData`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RouteQueues {
    pub broker_name: String,
    pub read_queue_nums: i32,
    pub write_queue_nums: i32,
    /// Java `PermName` bits: read 4, write 2.
    pub perm: i32,
    pub topic_sys_flag: i32,
}

/// The offsets of a topic's queues on every broker that hosts it, as `mqadmin topicStatus`
/// shows them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TopicStats {
    /// Sorted by broker name and queue id.
    pub queues: Vec<QueueOffsets>,
    /// Messages put per second, summed over the brokers (0 on 4.x brokers, which do not send
    /// it).
    pub put_tps: f64,
}

/// One queue's offsets (Java `TopicOffset`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueOffsets {
    pub queue: MessageQueue,
    /// The first offset still stored.
    pub min_offset: i64,
    /// The next offset to be written (the number of messages ever stored in the queue).
    pub max_offset: i64,
    /// When the last message was stored, in milliseconds since the epoch; 0 when the queue is
    /// empty.
    pub last_update_timestamp: i64,
}

/// Body of GET_TOPIC_STATS_INFO: Java `TopicStatsTable`
/// (`remoting/src/main/java/org/apache/rocketmq/remoting/protocol/admin/TopicStatsTable.java`),
/// `offsetTable` keyed by message queue objects.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TopicStatsBody {
    #[serde(default)]
    offset_table: BTreeMap<String, TopicOffsetBody>,
    #[serde(default)]
    topic_put_tps: f64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[derive(Default)]
struct TopicOffsetBody {
    min_offset: i64,
    max_offset: i64,
    last_update_timestamp: i64,
}

/// Body of GET_ALL_TOPIC_LIST_FROM_NAMESERVER: Java `TopicList`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TopicListBody {
    #[serde(default)]
    topic_list: BTreeSet<String>,
}

impl Admin {
    /// Creates `config.topic_name`, or updates its queue counts, permission and order flag, on
    /// every master broker of `cluster` (as `mqadmin updateTopic -c`), and returns their broker
    /// names. Each broker registers the change with the name servers itself; 4.x brokers may
    /// take until their next registration (up to 30 s) for the route to show it.
    pub async fn update_topic(&self, cluster: &str, config: &TopicConfig) -> Result<Vec<String>> {
        validate_topic(&config.topic_name)?;
        if config.read_queue_nums == 0 || config.write_queue_nums == 0 {
            return Err(Error::new(ErrorKind::InvalidArgument, "a topic needs at least one read and one write queue"));
        }
        let wire_topic = self.wire(&config.topic_name);
        let masters = self.masters(Some(cluster)).await?;
        let what = format!("update topic {wire_topic}");
        self.on_each(&masters, |target| self.create_topic_on(target, &wire_topic, config, &what)).await?;
        self.instance.invalidate_route(&wire_topic);
        Ok(masters.into_iter().map(|m| m.name).collect())
    }

    async fn create_topic_on(
        &self,
        target: &BrokerTarget,
        wire_topic: &str,
        config: &TopicConfig,
        what: &str,
    ) -> Result<()> {
        let cmd = CreateTopicRequestHeader {
            topic: wire_topic,
            default_topic: AUTO_CREATE_TEMPLATE_TOPIC,
            read_queue_nums: config.read_queue_nums,
            write_queue_nums: config.write_queue_nums,
            perm: config.perm,
            topic_filter_type: "SINGLE_TAG",
            topic_sys_flag: 0,
            order: config.order,
        }
        .command();
        self.call_broker(target, cmd, what).await.map(drop)
    }

    /// Creates (or updates) a topic with `queue_nums` read and write queues on every master that
    /// hosts TBW102 (the brokers with topic auto-creation enabled, in any cluster).
    pub async fn create_topic(&self, topic: &str, queue_nums: u32, order: bool) -> Result<()> {
        crate::message::validate_topic(topic)?;
        let wire_topic = self.wire(topic);
        let route = self.instance.fetch_route(AUTO_CREATE_TEMPLATE_TOPIC).await?;
        let masters = route_masters(&route.data);
        if masters.is_empty() {
            return Err(Error::new(ErrorKind::TopicNotFound, "no master broker found to create the topic on"));
        }
        let config = TopicConfig { order, ..TopicConfig::new(topic, queue_nums) };
        let what = format!("create topic {wire_topic}");
        self.on_each(&masters, |target| self.create_topic_on(target, &wire_topic, &config, &what)).await?;
        self.instance.invalidate_route(&wire_topic);
        Ok(())
    }

    /// Deletes `topic` from every master broker of `cluster` (its config and stored queues), then
    /// from every name server (that cluster's part of its route), as `mqadmin deleteTopic -c`.
    /// The name servers are only asked once every broker has deleted it: a broker still holding
    /// the topic would register it again.
    pub async fn delete_topic(&self, cluster: &str, topic: &str) -> Result<()> {
        validate_topic(topic)?;
        let wire_topic = self.wire(topic);
        let masters = self.masters(Some(cluster)).await?;
        let what = format!("delete topic {wire_topic}");
        self.on_each(&masters, |target| {
            let cmd = DeleteTopicRequestHeader { topic: &wire_topic }.command();
            self.call_broker(target, cmd, &what)
        })
        .await?;
        // Every name server holds its own copy of the routes (brokers register with each), so
        // each is told, not only the one that answers lookups (the configured list, or the
        // address server's).
        let name_servers: Vec<BrokerTarget> =
            self.instance.known_name_servers().await?.iter().map(|addr| BrokerTarget::name_server(addr)).collect();
        let what = format!("delete topic {wire_topic} from the routes of cluster {cluster}");
        self.on_each(&name_servers, |ns| {
            let cmd = DeleteTopicFromNamesrvRequestHeader { topic: &wire_topic, cluster_name: Some(cluster) }.command();
            self.call_broker(ns, cmd, &what)
        })
        .await?;
        self.instance.invalidate_route(&wire_topic);
        Ok(())
    }

    /// Every topic the name servers know (GET_ALL_TOPIC_LIST_FROM_NAMESERVER), sorted, system
    /// topics (`TBW102`, `%RETRY%...`, `rmq_sys_...`) included, as `mqadmin topicList`.
    pub async fn list_topics(&self) -> Result<Vec<String>> {
        let cmd = RemotingCommand::request(request::GET_ALL_TOPIC_LIST_FROM_NAMESERVER);
        let resp = self.call_namesrv(cmd, "list topics").await?;
        let body: TopicListBody = decode_body(&resp.body, "topic list")?;
        let mut topics: Vec<String> =
            body.topic_list.iter().filter(|t| self.listed(t)).map(|t| self.shown(t)).collect();
        topics.sort();
        Ok(topics)
    }

    /// The route of `topic` from the name servers, as `mqadmin topicRoute`. A topic without one
    /// is an [`ErrorKind::TopicNotFound`] error.
    pub async fn topic_route(&self, topic: &str) -> Result<TopicRouteInfo> {
        let route = self.instance.fetch_route(&self.wire(topic)).await?;
        Ok(route_info(&route.data))
    }

    /// The min and max offsets and last store time of every queue of `topic`, from the master of
    /// every broker group in its route (GET_TOPIC_STATS_INFO), as `mqadmin topicStatus`.
    pub async fn topic_stats(&self, topic: &str) -> Result<TopicStats> {
        let wire_topic = self.wire(topic);
        let route = self.instance.fetch_route(&wire_topic).await?;
        let masters = route_masters(&route.data);
        let what = format!("get topic stats of {wire_topic}");
        let per_broker = self
            .on_each(&masters, |target| async {
                let cmd = GetTopicStatsInfoRequestHeader { topic: &wire_topic }.command();
                let resp = self.call_broker(target, cmd, &what).await?;
                decode_topic_stats(&resp.body)
            })
            .await?;
        let mut stats = TopicStats::default();
        for part in per_broker {
            stats.queues.extend(part.queues);
            stats.put_tps += part.put_tps;
        }
        for q in &mut stats.queues {
            q.queue.topic = self.shown(&q.queue.topic);
        }
        stats.queues.sort_by(|a, b| a.queue.cmp(&b.queue));
        Ok(stats)
    }
}

/// The public view of a parsed route.
fn route_info(data: &TopicRouteData) -> TopicRouteInfo {
    let mut brokers: Vec<RouteBroker> = data
        .broker_datas
        .iter()
        .map(|bd| RouteBroker {
            cluster: bd.cluster.clone(),
            broker_name: bd.broker_name.clone(),
            addrs: bd.broker_addrs.clone(),
        })
        .collect();
    brokers.sort_by(|a, b| a.broker_name.cmp(&b.broker_name));
    let mut queues: Vec<RouteQueues> = data
        .queue_datas
        .iter()
        .map(|qd| RouteQueues {
            broker_name: qd.broker_name.clone(),
            read_queue_nums: qd.read_queue_nums,
            write_queue_nums: qd.write_queue_nums,
            perm: qd.perm,
            topic_sys_flag: qd.topic_sys_flag,
        })
        .collect();
    queues.sort_by(|a, b| a.broker_name.cmp(&b.broker_name));
    TopicRouteInfo { brokers, queues, order_topic_conf: data.order_topic_conf.clone().filter(|c| !c.is_empty()) }
}

fn decode_topic_stats(body: &[u8]) -> Result<TopicStats> {
    let raw: TopicStatsBody = decode_body(body, "topic stats")?;
    let queues = queue_entries(raw.offset_table)?
        .into_iter()
        .map(|(queue, offsets)| QueueOffsets {
            queue,
            min_offset: offsets.min_offset,
            max_offset: offsets.max_offset,
            last_update_timestamp: offsets.last_update_timestamp,
        })
        .collect();
    Ok(TopicStats { queues, put_tps: raw.topic_put_tps })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// GET_TOPIC_STATS_INFO answers captured from broker-a of a two-broker cluster (topic of 2
    /// queues, one message stored), RocketMQ 5.3.3 and 4.9.7 (which has no `topicPutTps`).
    const STATS_5_3_3: &str = r#"{"offsetTable":{{"brokerName":"broker-a","queueId":1,"topic":"capture_topic"}:{"lastUpdateTimestamp":0,"maxOffset":0,"minOffset":0},{"brokerName":"broker-a","queueId":0,"topic":"capture_topic"}:{"lastUpdateTimestamp":1796375886463,"maxOffset":1,"minOffset":0}},"topicPutTps":0.1}"#;
    const STATS_4_9_7: &str = r#"{"offsetTable":{{"brokerName":"broker-a","queueId":1,"topic":"capture_topic"}:{"lastUpdateTimestamp":1796375905945,"maxOffset":1,"minOffset":0},{"brokerName":"broker-a","queueId":0,"topic":"capture_topic"}:{"lastUpdateTimestamp":0,"maxOffset":0,"minOffset":0}}}"#;

    #[test]
    fn topic_stats_decode() {
        let s = decode_topic_stats(STATS_5_3_3.as_bytes()).unwrap();
        assert_eq!(s.put_tps, 0.1);
        assert_eq!(
            s.queues,
            vec![
                QueueOffsets {
                    queue: MessageQueue::new("capture_topic", "broker-a", 0),
                    min_offset: 0,
                    max_offset: 1,
                    last_update_timestamp: 1796375886463
                },
                QueueOffsets {
                    queue: MessageQueue::new("capture_topic", "broker-a", 1),
                    min_offset: 0,
                    max_offset: 0,
                    last_update_timestamp: 0
                },
            ]
        );
        let s = decode_topic_stats(STATS_4_9_7.as_bytes()).unwrap();
        assert_eq!(s.put_tps, 0.0);
        assert_eq!(s.queues[1].max_offset, 1);
        assert!(decode_topic_stats(br#"{"offsetTable":{"not a queue":{}}}"#).is_err());
        assert!(decode_topic_stats(b"[]").is_err());
    }

    /// GET_ALL_TOPIC_LIST_FROM_NAMESERVER answer of a 4.9.7 name server, captured.
    #[test]
    fn topic_list_decode() {
        let body = br#"{"topicList":["SCHEDULE_TOPIC_XXXX","RMQ_SYS_TRANS_HALF_TOPIC","capture_topic","DefaultCluster_REPLY_TOPIC","broker-b","BenchmarkTest","OFFSET_MOVED_EVENT","%RETRY%GID_capture","broker-a","TBW102","SELF_TEST_TOPIC","DefaultCluster"]}"#;
        let list: TopicListBody = decode_body(body, "topic list").unwrap();
        assert_eq!(list.topic_list.len(), 12);
        assert!(list.topic_list.contains("%RETRY%GID_capture"));
    }

    #[test]
    fn route_view_is_sorted() {
        let body = br#"{"brokerDatas":[{"brokerAddrs":{0:"b:1"},"brokerName":"broker-b","cluster":"C"},{"brokerAddrs":{0:"a:1",1:"a:2"},"brokerName":"broker-a","cluster":"C"}],"queueDatas":[{"brokerName":"broker-b","perm":6,"readQueueNums":2,"writeQueueNums":2,"topicSysFlag":0},{"brokerName":"broker-a","perm":4,"readQueueNums":3,"writeQueueNums":1,"topicSysFlag":0}],"orderTopicConf":""}"#;
        let info = route_info(&TopicRouteData::parse(body).unwrap());
        assert_eq!(info.brokers[0].broker_name, "broker-a");
        assert_eq!(info.brokers[0].addrs.get(&1).map(String::as_str), Some("a:2"));
        assert_eq!(info.queues[0].perm, 4);
        assert_eq!(info.queues[1].read_queue_nums, 2);
        assert_eq!(info.order_topic_conf, None);
    }
}
