//! Consumer offsets: the in-memory table (queue → next offset to consume) and where it is
//! persisted. CLUSTERING keeps offsets at the broker (QUERY_CONSUMER_OFFSET to read,
//! UPDATE_CONSUMER_OFFSET to write, acknowledged, every 5 s and when a queue is given up or the
//! consumer shuts down; the Java client writes the periodic ones oneway, but brokers may then
//! apply a stale periodic value after the final commit). BROADCASTING keeps them in a local file per client instance and
//! group, replaced atomically (write, fsync, rename) so a crash never leaves a torn file.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::settings::ConsumeFromWhere;
use crate::client::instance::{ClientInstance, ReadTarget};
use crate::error::{Error, ErrorKind, Result};
use crate::hashing::WordHashing;
use crate::protocol::codes::response;
use crate::protocol::command::RemotingCommand;
use crate::protocol::headers::{
    GetMaxOffsetRequestHeader, GetMinOffsetRequestHeader, OffsetResponseHeader, QueryConsumerOffsetRequestHeader,
    RequestHeader, SearchOffsetRequestHeader, UpdateConsumerOffsetRequestHeader,
};
use crate::protocol::lenient_json;
use crate::protocol::route::{MessageQueue, MASTER_ID};

const OFFSET_RPC_TIMEOUT: Duration = Duration::from_secs(3);

/// Orders the first offset commits of a group on each broker and topic.
///
/// A broker keeps a group's offsets of one topic in a map it creates on the first commit, and
/// creates it without a lock: two first commits of different queues processed at once (its
/// consumer-manage and pull executors have several threads) each make a map, and the second
/// replaces the first, losing that queue's offset (`ConsumerOffsetManager.commitOffset` in
/// `broker/src/main/java/org/apache/rocketmq/broker/offset/ConsumerOffsetManager.java`, 4.9.x
/// and 5.x: `offsetTable.get`, then a plain `put` of a new map). A new group's consumer that
/// shuts down before its first periodic commit sends all its final commits at once, and one
/// queue's messages were delivered again to the next consumer.
///
/// So the first UPDATE_CONSUMER_OFFSET of each (broker, topic) is sent alone: the others wait
/// for its answer, up to [`FIRST_COMMIT_WAIT`] (a broker that does not answer must not turn a
/// consumer's bounded shutdown into one call timeout per queue), and pulls piggy-back a commit
/// only once one was acknowledged ([`is_open`]): after it, the broker's map exists and commits
/// only update it.
///
/// [`is_open`]: CommitGate::is_open
#[derive(Default)]
pub struct CommitGate {
    /// (broker, topic) with an acknowledged commit.
    opened: Mutex<BrokerTopics>,
    /// (broker, topic) whose first commit was answered, or failed.
    tried: Mutex<BrokerTopics>,
    first: tokio::sync::Mutex<()>,
}

/// How long a commit waits for the first commit of its broker and topic to be answered.
pub const FIRST_COMMIT_WAIT: Duration = Duration::from_millis(500);

/// A set of (broker, topic), looked up by a queue without allocating (every pull asks).
#[derive(Default)]
struct BrokerTopics(std::collections::HashMap<String, std::collections::HashSet<String>>);

impl BrokerTopics {
    fn contains(&self, mq: &MessageQueue) -> bool {
        self.0.get(mq.broker_name.as_str()).is_some_and(|topics| topics.contains(mq.topic.as_str()))
    }

    fn insert(&mut self, mq: &MessageQueue) {
        self.0.entry(mq.broker_name.clone()).or_default().insert(mq.topic.clone());
    }
}

impl CommitGate {
    /// Whether the broker of `mq` is known to hold the group's offsets of its topic.
    pub fn is_open(&self, mq: &MessageQueue) -> bool {
        self.opened.lock().contains(mq)
    }

    fn tried(&self, mq: &MessageQueue) -> bool {
        self.tried.lock().contains(mq)
    }

    /// Commits `offset` for `mq` at its broker ([`persist_remote`]); the first commit of each
    /// broker and topic goes alone, the others wait for it (bounded by [`FIRST_COMMIT_WAIT`]).
    pub async fn commit(&self, instance: &ClientInstance, group: &str, mq: &MessageQueue, offset: i64) -> Result<()> {
        if !self.tried(mq) {
            if let Ok(_alone) = tokio::time::timeout(FIRST_COMMIT_WAIT, self.first.lock()).await {
                if !self.tried(mq) {
                    let result = self.commit_now(instance, group, mq, offset).await;
                    self.tried.lock().insert(mq);
                    return result;
                }
            }
        }
        self.commit_now(instance, group, mq, offset).await
    }

    async fn commit_now(&self, instance: &ClientInstance, group: &str, mq: &MessageQueue, offset: i64) -> Result<()> {
        let result = persist_remote(instance, group, mq, offset).await;
        if result.is_ok() {
            self.opened.lock().insert(mq);
        }
        result
    }
}

/// The offsets of the queues a consumer currently owns.
#[derive(Default)]
pub struct OffsetTable {
    /// Updated after every consumed batch ([`WordHashing`] rather than SipHash).
    table: Mutex<HashMap<MessageQueue, i64, WordHashing>>,
}

impl OffsetTable {
    pub fn set(&self, mq: &MessageQueue, offset: i64) {
        // Called after every consumed batch: the queue is copied (two strings) only when new.
        let mut table = self.table.lock();
        match table.get_mut(mq) {
            Some(kept) => *kept = offset,
            None => {
                table.insert(mq.clone(), offset);
            }
        }
    }

    pub fn get(&self, mq: &MessageQueue) -> Option<i64> {
        self.table.lock().get(mq).copied()
    }

    pub fn remove(&self, mq: &MessageQueue) -> Option<i64> {
        self.table.lock().remove(mq)
    }

    pub fn snapshot(&self) -> Vec<(MessageQueue, i64)> {
        self.table.lock().iter().map(|(q, o)| (q.clone(), *o)).collect()
    }
}

/// The master address of `mq`'s broker, refreshing the topic's route once if it is unknown.
pub async fn master_of(instance: &ClientInstance, mq: &MessageQueue) -> Result<String> {
    if let Some(addr) = instance.master_addr(&mq.broker_name) {
        return Ok(addr);
    }
    let route = instance.fetch_route(&mq.topic).await?;
    route
        .data
        .master_addr(&mq.broker_name)
        .map(str::to_owned)
        .ok_or_else(|| Error::network(format!("broker {} has no master address", mq.broker_name)))
}

/// Where `mq` is read from, preferring brokerId `preferred` ([`ClientInstance::read_target`]:
/// the master unless the broker suggested another, a slave while the master cannot be
/// reached), refreshing the topic's route once if no cached route lists the broker set.
pub async fn read_target_of(instance: &ClientInstance, mq: &MessageQueue, preferred: i64) -> Result<ReadTarget> {
    if let Some(target) = instance.read_target(&mq.topic, &mq.broker_name, preferred) {
        return Ok(target);
    }
    instance.fetch_route(&mq.topic).await?;
    instance
        .read_target(&mq.topic, &mq.broker_name, preferred)
        .ok_or_else(|| Error::network(format!("broker {} has no address in the route of {}", mq.broker_name, mq.topic)))
}

/// Sends a request about one queue to `target`; a failure to reach it (refused, reset, no
/// answer in time) is noted so that the next read of the broker set tries its other brokers.
pub async fn invoke_read(
    instance: &ClientInstance,
    target: &ReadTarget,
    cmd: RemotingCommand,
    timeout: Duration,
) -> Result<RemotingCommand> {
    let result = instance.invoke(&target.addr, cmd, timeout).await;
    match &result {
        Ok(_) => instance.mark_reachable(&target.addr),
        Err(e) if matches!(e.kind(), ErrorKind::Network | ErrorKind::Timeout) => {
            instance.mark_unreachable(&target.addr)
        }
        Err(_) => {}
    }
    result
}

/// The group's committed offset of `mq` at the broker; `None` if it has none. Asked of the
/// master, or of a slave while the master cannot be reached (slaves copy the master's offsets).
pub async fn query_remote(instance: &ClientInstance, group: &str, mq: &MessageQueue) -> Result<Option<i64>> {
    let target = read_target_of(instance, mq, MASTER_ID).await?;
    let cmd = QueryConsumerOffsetRequestHeader {
        consumer_group: group,
        topic: &mq.topic,
        queue_id: mq.queue_id,
        broker_name: &mq.broker_name,
    }
    .command();
    let resp = invoke_read(instance, &target, cmd, OFFSET_RPC_TIMEOUT).await?;
    match resp.code {
        response::SUCCESS => {
            let offset = OffsetResponseHeader::decode(&resp)?.offset;
            Ok((offset >= 0).then_some(offset))
        }
        response::QUERY_NOT_FOUND => Ok(None),
        code => Err(Error::from_response(code, resp.remark.as_deref(), "query consumer offset")),
    }
}

/// A queue's own offset, as a broker reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueOffset {
    /// The oldest stored message's offset (GET_MIN_OFFSET).
    Min,
    /// The offset the next message will get (GET_MAX_OFFSET).
    Max,
    /// The first message stored at or after these epoch milliseconds (SEARCH_OFFSET_BY_TIMESTAMP).
    At(i64),
}

/// Asks `mq`'s broker (its master, or a slave while the master cannot be reached) for one of
/// the queue's own offsets.
pub async fn queue_offset(instance: &ClientInstance, mq: &MessageQueue, which: QueueOffset) -> Result<i64> {
    let target = read_target_of(instance, mq, MASTER_ID).await?;
    let (topic, queue_id, broker_name) = (mq.topic.as_str(), mq.queue_id, mq.broker_name.as_str());
    let cmd = match which {
        QueueOffset::Min => GetMinOffsetRequestHeader { topic, queue_id, broker_name }.command(),
        QueueOffset::Max => GetMaxOffsetRequestHeader { topic, queue_id, broker_name: Some(broker_name) }.command(),
        QueueOffset::At(timestamp) => SearchOffsetRequestHeader { topic, queue_id, timestamp, broker_name }.command(),
    };
    let resp = invoke_read(instance, &target, cmd, OFFSET_RPC_TIMEOUT).await?;
    if resp.code != response::SUCCESS {
        return Err(Error::from_response(resp.code, resp.remark.as_deref(), "queue offset lookup"));
    }
    Ok(OffsetResponseHeader::decode(&resp)?.offset)
}

/// Where a queue the group has committed nothing for starts, per ConsumeFromWhere (Java
/// `RebalancePushImpl.computePullFromWhereWithException`, and its twin in
/// `RebalanceLitePullImpl`): a retry topic from its start (LAST_OFFSET) or end (TIMESTAMP).
pub async fn offset_without_commit(
    instance: &ClientInstance,
    mq: &MessageQueue,
    from: ConsumeFromWhere,
) -> Result<i64> {
    let is_retry = mq.topic.starts_with("%RETRY%");
    match from {
        ConsumeFromWhere::LastOffset if is_retry => Ok(0),
        ConsumeFromWhere::LastOffset => queue_offset(instance, mq, QueueOffset::Max).await,
        ConsumeFromWhere::FirstOffset => Ok(0),
        ConsumeFromWhere::Timestamp(_) if is_retry => queue_offset(instance, mq, QueueOffset::Max).await,
        ConsumeFromWhere::Timestamp(at) => queue_offset(instance, mq, QueueOffset::At(at)).await,
    }
}

/// Stores the group's offset of `mq` at the broker and waits for its answer: at the master,
/// or while it cannot be reached at a slave of its set, which keeps it until the master is
/// back (as the Java client's `RemoteBrokerOffsetStore` does when the route lists no master).
pub async fn persist_remote(instance: &ClientInstance, group: &str, mq: &MessageQueue, offset: i64) -> Result<()> {
    let target = read_target_of(instance, mq, MASTER_ID).await?;
    let cmd = UpdateConsumerOffsetRequestHeader {
        consumer_group: group,
        topic: &mq.topic,
        queue_id: mq.queue_id,
        commit_offset: offset,
        broker_name: &mq.broker_name,
    }
    .command();
    let resp = invoke_read(instance, &target, cmd, OFFSET_RPC_TIMEOUT).await?;
    if resp.code != response::SUCCESS {
        return Err(Error::from_response(resp.code, resp.remark.as_deref(), "update consumer offset"));
    }
    Ok(())
}

/// Sends a request that answers nothing but a code: oneway, or acknowledged with SUCCESS.
pub async fn send_expecting_success(
    instance: &ClientInstance,
    addr: &str,
    cmd: RemotingCommand,
    oneway: bool,
    what: &str,
) -> Result<()> {
    if oneway {
        return instance.invoke_oneway(addr, cmd, OFFSET_RPC_TIMEOUT).await;
    }
    let resp = instance.invoke(addr, cmd, OFFSET_RPC_TIMEOUT).await?;
    if resp.code != response::SUCCESS {
        return Err(Error::from_response(resp.code, resp.remark.as_deref(), what));
    }
    Ok(())
}

/// Which kind of consumer an offset file is named for ([`LocalOffsetFile::for_broadcasting`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OffsetFileOwner {
    PushConsumer,
    PullConsumer,
}

/// A BROADCASTING consumer's offset file: `<dir>/<client id>/<group>/offsets.json` (the client
/// id as [`LocalOffsetFile::for_broadcasting`] says), in the Java client's format
/// (`{"offsetTable":{<MessageQueue JSON>:offset,...}}`).
pub struct LocalOffsetFile {
    path: PathBuf,
    /// Offsets read at start and merged with every write, so queues not assigned at the
    /// moment keep theirs.
    known: Mutex<HashMap<MessageQueue, i64>>,
}

impl LocalOffsetFile {
    pub fn new(dir: &Path, client_name: &str, group: &str) -> Self {
        let clean = |s: &str| s.replace(['/', '\\'], "_");
        let path = dir.join(clean(client_name)).join(clean(group)).join("offsets.json");
        LocalOffsetFile { path, known: Mutex::new(HashMap::new()) }
    }

    /// The file of a BROADCASTING consumer of `group` configured by `config`, read. Java's
    /// `LocalFileOffsetStore` names it by the client id (`ClientConfig.buildMQClientId`):
    /// `ip@instanceName` for a push consumer, and `ip@instanceName@STREAM` for a lite pull
    /// consumer, whose client id carries its stream request type (Java 4.9.7 and 5.3.3 alike,
    /// tests/tests/pull_consumer.rs). A broadcasting consumer keeps its instance name, not the
    /// process id Java substitutes for `DEFAULT` in clustering, so a restarted process finds
    /// its file.
    pub fn for_broadcasting(
        config: &crate::config::ClientConfig,
        dir: &Path,
        group: &str,
        owner: OffsetFileOwner,
    ) -> Result<Self> {
        let ip = crate::client::identity::local_ip();
        let name = match owner {
            OffsetFileOwner::PushConsumer => format!("{ip}@{}", config.instance_name),
            OffsetFileOwner::PullConsumer => format!("{ip}@{}@STREAM", config.instance_name),
        };
        let file = LocalOffsetFile::new(dir, &name, group);
        file.load()?;
        tracing::debug!(path = %file.path().display(), "broadcasting offsets kept locally");
        Ok(file)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the file (a missing file is an empty table; a torn or foreign file is an error,
    /// since silently starting over would re-deliver or skip messages).
    pub fn load(&self) -> Result<()> {
        let bytes = match std::fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => {
                return Err(Error::invalid_config(format!("cannot read offset file {}: {e}", self.path.display())))
            }
        };
        let parsed = parse_offsets(&bytes).map_err(|e| {
            Error::invalid_config(format!("offset file {} is unreadable: {}", self.path.display(), e.message()))
        })?;
        *self.known.lock() = parsed;
        Ok(())
    }

    pub fn get(&self, mq: &MessageQueue) -> Option<i64> {
        self.known.lock().get(mq).copied()
    }

    /// Merges `offsets` into the known table and replaces the file atomically.
    pub fn store(&self, offsets: &[(MessageQueue, i64)]) -> Result<()> {
        // Held across the write: two writers must not interleave on the temporary file.
        let mut known = self.known.lock();
        for (mq, o) in offsets {
            known.insert(mq.clone(), *o);
        }
        let text = render_offsets(&known);
        let dir = self.path.parent().unwrap_or_else(|| Path::new("."));
        let fail = |what: &str, e: std::io::Error| {
            Error::invalid_config(format!("cannot {what} offset file {}: {e}", self.path.display()))
        };
        std::fs::create_dir_all(dir).map_err(|e| fail("create the directory of the", e))?;
        let tmp = self.path.with_extension("json.tmp");
        let mut f = std::fs::File::create(&tmp).map_err(|e| fail("create the temporary", e))?;
        f.write_all(text.as_bytes()).map_err(|e| fail("write the temporary", e))?;
        f.sync_all().map_err(|e| fail("sync the temporary", e))?;
        drop(f);
        std::fs::rename(&tmp, &self.path).map_err(|e| fail("replace the", e))?;
        Ok(())
    }
}

fn render_offsets(table: &HashMap<MessageQueue, i64>) -> String {
    let mut entries: Vec<(&MessageQueue, &i64)> = table.iter().collect();
    entries.sort();
    let body: Vec<String> = entries
        .into_iter()
        .map(|(mq, o)| {
            let key = serde_json::json!({"brokerName": mq.broker_name, "queueId": mq.queue_id, "topic": mq.topic});
            format!("{key}:{o}")
        })
        .collect();
    format!("{{\"offsetTable\":{{{}}}}}", body.join(","))
}

fn parse_offsets(bytes: &[u8]) -> Result<HashMap<MessageQueue, i64>> {
    let value = lenient_json::parse(bytes)?;
    let table =
        value.get("offsetTable").and_then(|t| t.as_object()).ok_or_else(|| Error::protocol("no offsetTable object"))?;
    let mut out = HashMap::new();
    for (key, v) in table {
        let mq = MessageQueue::from_json_key(key)?;
        let offset = v.as_i64().ok_or_else(|| Error::protocol(format!("offset of {key} is not a number")))?;
        out.insert(mq, offset);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_file_round_trips_and_reads_the_java_format() {
        let dir = std::env::temp_dir().join(format!("ons-offsets-{}-{}", std::process::id(), rand::random::<u32>()));
        let f = LocalOffsetFile::new(&dir, "10.0.0.1@DEFAULT", "G");
        f.load().unwrap();
        let a = MessageQueue::new("T", "broker-a", 0);
        let b = MessageQueue::new("T", "broker-a", 1);
        f.store(&[(a.clone(), 5), (b.clone(), 7)]).unwrap();
        f.store(&[(a.clone(), 6)]).unwrap();
        let g = LocalOffsetFile::new(&dir, "10.0.0.1@DEFAULT", "G");
        g.load().unwrap();
        assert_eq!((g.get(&a), g.get(&b)), (Some(6), Some(7)));
        assert!(g.path().ends_with("10.0.0.1@DEFAULT/G/offsets.json"));

        // The Java client's file: object keys, any key order and spacing.
        let java = br#"{"offsetTable":{{"brokerName":"broker-a","queueId":3,"topic":"T"}:42,
            {"topic":"T","queueId":1,"brokerName":"b"}:0}}"#;
        let parsed = parse_offsets(java).unwrap();
        assert_eq!(parsed[&MessageQueue::new("T", "broker-a", 3)], 42);
        assert_eq!(parsed[&MessageQueue::new("T", "b", 1)], 0);

        std::fs::write(g.path(), b"{\"offsetTable\":{{\"broken").unwrap();
        assert!(g.load().unwrap_err().message().contains("offsets.json"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
