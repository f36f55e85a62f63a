//! The ONS `PullConsumer` (ONS Java SDK 1.8.x, `com.aliyun.openservices.ons.api.PullConsumer`),
//! with the semantics of Apache RocketMQ's `DefaultLitePullConsumer` (apache/rocketmq
//! `client/src/main/java/org/apache/rocketmq/client/impl/consumer/DefaultLitePullConsumerImpl.java`):
//! the application asks for messages with [`PullConsumer::poll`] instead of getting them
//! through a listener.
//!
//! Queues come either from [`assign`](PullConsumer::assign) (exactly those queues, no
//! rebalance) or from [`subscribe`](PullConsumer::subscribe) (CLUSTERING: the group's queues
//! split among its live instances, Java and ours alike, by the same allocation strategy the
//! push consumer uses, re-split every 20 s and when the group changes; BROADCASTING: every
//! queue of the topics, in every instance); one consumer uses one of the two.
//!
//! Per owned queue one task pulls (long polling, as the push consumer) into one bounded cache
//! shared by all queues; `poll` hands out one pull's messages at a time, oldest first, and
//! records the offset after them as the queue's consumed offset. [`commit_sync`] writes the
//! consumed offsets to the brokers (CLUSTERING) or to this client's offset file (BROADCASTING:
//! the file Java's `LocalFileOffsetStore` keeps for a `DefaultLitePullConsumer`, see
//! `LocalOffsetFile::for_broadcasting`); with autoCommit (the default) `poll` does so itself
//! every autoCommitIntervalMillis, before taking new messages, so what is committed is what
//! earlier polls returned. A seek moves a queue's next pull and consumed offset and forgets what is
//! cached of it; a paused queue is not pulled until resumed. With `MsgTraceSwitch` on, what
//! `poll` hands over is traced as Java's lite pull consumer traces it (`crate::trace`).
//!
//! Shared with the push consumer: the PULL_MESSAGE header (`engine::pull_request`), reply
//! decoding and tag filtering (`pull`), which broker of a set to read from and offset requests
//! (`offset_store`, including the [`CommitGate`] that orders a group's first commits), the
//! group's consumer list and allocation (`allocate`), settings (`settings`).
//!
//! [`commit_sync`]: PullConsumer::commit_sync

use parking_lot::{Mutex, RwLock};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use serde_json::json;
use tokio::runtime::Handle;
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::allocate::group_consumer_ids;
use super::engine::parse_reset_offsets;
use super::engine::pull_request::{
    pull_header, FLOW_CONTROL_DELAY, PULL_ERROR_DELAY, PULL_TIMEOUT, REBALANCE_INTERVAL, SLAVE_IDLE_DELAY,
};
use super::failure_report::FailureReport;
use super::listener::MessageSelector;
use super::offset_store::{
    invoke_read, offset_without_commit, query_remote, queue_offset, read_target_of, CommitGate, LocalOffsetFile,
    OffsetFileOwner, QueueOffset,
};
use super::pull::{parse_pull_response, PullStatus};
use super::settings::{ConsumerKind, ConsumerSettings, MessageModel, PullSettings};
use super::subscription::SubscriptionData;
use crate::client::instance::{ClientInstance, GroupRequestHandler, Member};
use crate::client::namespace;
use crate::config::{ClientConfig, Properties};
use crate::error::{Error, ErrorKind, Result};
use crate::message::{validate_topic, Message};
use crate::protocol::codes::{request, response};
use crate::protocol::command::RemotingCommand;
use crate::protocol::headers::RequestHeader;
use crate::protocol::message::{DecodeLimits, MAX_DECOMPRESSED_BODY_LEN};
use crate::protocol::route::{MessageQueue, MASTER_ID};
use crate::trace::{TraceCounts, TracedKind, TracerSlot};
use crate::transport::InboundRequest;

/// Pause before looking again at a paused queue (Java: PULL_TIME_DELAY_MILLS_WHEN_PAUSE, 1 s;
/// shorter here so a resumed queue is pulled soon).
const PAUSED_DELAY: Duration = Duration::from_millis(200);
/// While pulls of one queue keep failing, a line about them is logged at most this often.
const ERROR_LOG_INTERVAL: Duration = Duration::from_secs(30);
/// When the queues of topics with a change listener are first compared after start, and how
/// often after that (Java `DefaultLitePullConsumerImpl.startScheduleTask`: 10 s, then
/// topicMetadataCheckIntervalMillis, 30 s by default).
const TOPIC_CHECK_FIRST: Duration = Duration::from_secs(10);
const TOPIC_CHECK_INTERVAL: Duration = Duration::from_secs(30);

/// Told when the queues of a topic change (ONS `PullConsumer.TopicPartitionChangeListener`,
/// Apache `TopicMessageQueueChangeListener`). Runs on a blocking thread of the runtime.
pub trait TopicPartitionChangeListener: Send + Sync {
    /// All queues of `topic` now (names without namespace), sorted.
    fn on_changed(&self, topic: &str, partitions: &[MessageQueue]);
}

/// A topic's change listener and the queues it was last told of (`None`: not yet known; the
/// first check then tells it).
struct Watched {
    listener: Arc<dyn TopicPartitionChangeListener>,
    known: Option<Vec<MessageQueue>>,
}

/// How the consumer gets its queues; fixed by the first `assign` or `subscribe`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Unset,
    Assign,
    Subscribe,
}

enum State {
    Created,
    Started { instance: Arc<ClientInstance>, member: u64, tasks: Vec<JoinHandle<()>> },
    Closed,
}

/// A queue's positions, changed together under one lock.
struct Position {
    /// Where the next pull starts; `None` until read from the committed offset (or, without
    /// one, ConsumeFromWhere).
    next_pull: Option<i64>,
    /// The offset after the messages `poll` last returned (or the offset sought): what a commit
    /// writes. `None` until either happens (Java: -1, and commitAll skips it).
    consumed: Option<i64>,
    /// Bumped by every seek: pulls started before it and batches cached before it are stale.
    generation: u64,
}

/// One owned queue.
struct Slot {
    /// Names as on the wire.
    mq: MessageQueue,
    /// Names as users see them.
    user_mq: MessageQueue,
    pos: Mutex<Position>,
    paused: AtomicBool,
    stop: watch::Sender<bool>,
    /// A seek or a pause happened: a pull in flight is abandoned (what it would bring is
    /// stale, or was not to be pulled).
    interrupt: Notify,
    /// Messages of this queue in the cache.
    cached: AtomicUsize,
    /// The brokerId of its set the next pull goes to (what the last reply suggested).
    pull_from: AtomicI64,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl Slot {
    fn stopped(&self) -> bool {
        *self.stop.borrow()
    }
}

/// One pull's messages, waiting for `poll`.
struct Batch {
    slot: Arc<Slot>,
    generation: u64,
    messages: Vec<Message>,
    /// The offset after them.
    end: i64,
}

struct Inner {
    me: Weak<Inner>,
    config: ClientConfig,
    settings: ConsumerSettings,
    pull: PullSettings,
    /// The group as on the wire (namespaced).
    group: String,
    state: Mutex<State>,
    instance: OnceLock<Arc<ClientInstance>>,
    runtime: OnceLock<Handle>,
    mode: Mutex<Mode>,
    /// Wire topic → subscription: the user's in subscribe mode, `*` per assigned topic in
    /// assign mode (carried by every pull and by heartbeats).
    subscriptions: Arc<RwLock<BTreeMap<String, SubscriptionData>>>,
    /// Assign mode: the queues assigned (wire names).
    assigned: Mutex<Vec<MessageQueue>>,
    queues: Mutex<HashMap<MessageQueue, Arc<Slot>>>,
    cache: Mutex<VecDeque<Batch>>,
    /// Messages in the cache, all queues together.
    cached: AtomicUsize,
    /// A batch arrived.
    cache_filled: Notify,
    commit_gate: CommitGate,
    /// BROADCASTING: the offsets, kept in this client's file (set by `start`).
    local_offsets: OnceLock<LocalOffsetFile>,
    /// When `poll` commits next (autoCommit).
    next_auto_commit: Mutex<Instant>,
    rebalance_now: Notify,
    closing: watch::Sender<bool>,
    /// Wire topic → its change listener.
    watched: Mutex<BTreeMap<String, Watched>>,
    /// Where `SubBefore`/`SubAfter` records of polled messages go while started with
    /// `MsgTraceSwitch` on.
    tracer: TracerSlot,
}

/// The ONS `PullConsumer`: assign queues or subscribe to topics, then [`poll`](Self::poll).
///
/// Methods that talk to brokers are async and must run within the tokio runtime `start` was
/// called in.
pub struct PullConsumer {
    inner: Arc<Inner>,
}

impl PullConsumer {
    /// Creates a pull consumer from ONS properties (NAMESRV_ADDR and GROUP_ID required;
    /// autoCommit, autoCommitIntervalMillis, pollTimeoutMillis, maxBatchMessageCount,
    /// MaxCachedMessageAmount, ConsumeFromWhere, ALLOCATE_MESSAGE_QUEUE_STRATEGY_NAME,
    /// MessageModel and, for BROADCASTING, the offset file's directory apply). Nothing connects
    /// before [`start`](Self::start).
    pub fn new(properties: &Properties) -> Result<Self> {
        let config = ClientConfig::from_properties(properties, true)?;
        let settings = ConsumerSettings::from_properties(properties, ConsumerKind::Concurrent)?;
        let pull = PullSettings::from_properties(properties)?;
        let group = namespace::wrap(config.namespace.as_deref(), &config.group_id);
        let inner = Arc::new_cyclic(|me| Inner {
            me: me.clone(),
            config,
            settings,
            pull,
            group,
            state: Mutex::new(State::Created),
            instance: OnceLock::new(),
            runtime: OnceLock::new(),
            mode: Mutex::new(Mode::Unset),
            subscriptions: Arc::new(RwLock::new(BTreeMap::new())),
            assigned: Mutex::new(Vec::new()),
            queues: Mutex::new(HashMap::new()),
            cache: Mutex::new(VecDeque::new()),
            cached: AtomicUsize::new(0),
            cache_filled: Notify::new(),
            commit_gate: CommitGate::default(),
            local_offsets: OnceLock::new(),
            next_auto_commit: Mutex::new(Instant::now()),
            rebalance_now: Notify::new(),
            closing: watch::channel(false).0,
            watched: Mutex::new(BTreeMap::new()),
            tracer: TracerSlot::default(),
        });
        Ok(PullConsumer { inner })
    }

    /// Subscribe mode: consume `topic`'s messages matching `expression` (`*`, or tags joined by
    /// `||`) from the queues the group's split gives this instance (every queue of the topic
    /// with BROADCASTING). Before or after `start`; refused once queues were assigned.
    pub fn subscribe(&self, topic: &str, expression: &str) -> Result<()> {
        self.subscribe_with_selector(topic, &MessageSelector::by_tag(expression))
    }

    /// Subscribe mode with a tag or SQL92 selector.
    pub fn subscribe_with_selector(&self, topic: &str, selector: &MessageSelector) -> Result<()> {
        self.inner.usable()?;
        validate_topic(topic)?;
        self.inner.set_mode(Mode::Subscribe)?;
        let wire = self.inner.wire(topic);
        let data = SubscriptionData::new(&wire, selector)?;
        self.inner.subscriptions.write().insert(wire, data);
        self.inner.membership_changed();
        Ok(())
    }

    /// Calls `listener` with all of `topic`'s queues whenever they change (ONS
    /// `registerTopicPartitionChangedListener`), checking 10 s after start and every 30 s after
    /// that, as Java does. Registered before start, it is told the queues at the first check;
    /// registered while running, only of changes. Replaces an earlier listener of `topic`.
    pub async fn register_topic_partition_change_listener(
        &self,
        topic: &str,
        listener: Arc<dyn TopicPartitionChangeListener>,
    ) -> Result<()> {
        self.inner.usable()?;
        validate_topic(topic)?;
        let wire = self.inner.wire(topic);
        let known = match self.inner.instance() {
            Ok(_) => Some(self.inner.queues_of(&wire).await?),
            Err(_) => None,
        };
        self.inner.watched.lock().insert(wire, Watched { listener, known });
        Ok(())
    }

    /// Subscribe mode: stops consuming `topic`.
    pub fn unsubscribe(&self, topic: &str) -> Result<()> {
        self.inner.usable()?;
        if *self.inner.mode.lock() != Mode::Subscribe {
            return Err(Error::invalid_argument("unsubscribe: this consumer did not subscribe to any topic"));
        }
        self.inner.subscriptions.write().remove(&self.inner.wire(topic));
        self.inner.membership_changed();
        Ok(())
    }

    /// Assign mode (ONS `assign`): consume exactly `queues` (as [`topic_partitions`] lists
    /// them), replacing an earlier assignment; queues left out are given up. No rebalance: other
    /// instances of the group are not consulted. Refused after `subscribe`.
    ///
    /// [`topic_partitions`]: Self::topic_partitions
    pub fn assign(&self, queues: &[MessageQueue]) -> Result<()> {
        self.inner.usable()?;
        for q in queues {
            validate_topic(&q.topic)?;
            if q.queue_id < 0 {
                return Err(Error::invalid_argument(format!("assign: queue {q:?} has a negative queue id")));
            }
        }
        self.inner.set_mode(Mode::Assign)?;
        let wire: Vec<MessageQueue> = queues.iter().map(|q| self.inner.wire_mq(q)).collect();
        {
            let mut subs = self.inner.subscriptions.write();
            subs.clear();
            for q in &wire {
                if !subs.contains_key(&q.topic) {
                    subs.insert(q.topic.clone(), SubscriptionData::by_tag(&q.topic, "*")?);
                }
            }
        }
        *self.inner.assigned.lock() = wire.clone();
        if self.inner.is_started() {
            self.inner.own_exactly(wire, |_| true);
            self.inner.membership_changed();
        }
        Ok(())
    }

    /// Joins the group and starts pulling. Must be called within a tokio runtime.
    pub fn start(&self) -> Result<()> {
        self.inner.start()
    }

    /// Stops pulling; with autoCommit commits what `poll` returned; leaves the group.
    pub async fn shutdown(&self) {
        self.inner.shutdown().await
    }

    pub fn is_started(&self) -> bool {
        self.inner.is_started()
    }

    /// Replaces AccessKey, SecretKey and SecurityToken of the started consumer for its next
    /// requests (ONS `updateCredential`, as the other consumers have it).
    pub fn update_credential(&self, properties: &Properties) -> Result<()> {
        let credentials = crate::config::rotation_credentials(properties)?;
        self.inner.instance()?.update_credentials(credentials);
        Ok(())
    }

    pub fn is_closed(&self) -> bool {
        matches!(*self.inner.state.lock(), State::Closed)
    }

    /// What this consumer's message traces came to (`MsgTraceSwitch`): records sent and
    /// dropped, while it runs and after shutdown; `None` when it has not traced.
    pub fn trace_counts(&self) -> Option<TraceCounts> {
        self.inner.tracer.counts()
    }

    /// The queues of `topic` that can be consumed (ONS `topicPartitions`), from its route.
    pub async fn topic_partitions(&self, topic: &str) -> Result<Vec<MessageQueue>> {
        validate_topic(topic)?;
        self.inner.queues_of(&self.inner.wire(topic)).await
    }

    /// The queues this consumer pulls at the moment (names without namespace), sorted.
    pub fn assignment(&self) -> Vec<MessageQueue> {
        let mut out: Vec<MessageQueue> =
            self.inner.queues.lock().values().filter(|s| !s.stopped()).map(|s| s.user_mq.clone()).collect();
        out.sort();
        out
    }

    /// Waits up to `timeout` for messages and returns one pull's worth of one queue (at most
    /// maxBatchMessageCount), oldest first; empty when none came in time. With autoCommit,
    /// first commits (when autoCommitIntervalMillis has passed) what earlier polls returned.
    pub async fn poll(&self, timeout: Duration) -> Result<Vec<Message>> {
        self.inner.poll(timeout).await
    }

    /// [`poll`](Self::poll) with pollTimeoutMillis.
    pub async fn poll_default(&self) -> Result<Vec<Message>> {
        self.inner.poll(self.inner.pull.poll_timeout).await
    }

    /// The next `poll` of `queue` starts at `offset`, which must be within the queue's stored
    /// range (`[min, max]`, max being where the next message will go); what is cached of the
    /// queue is dropped. The queue must be one this consumer owns.
    pub async fn seek(&self, queue: &MessageQueue, offset: i64) -> Result<()> {
        if offset < 0 {
            return Err(Error::invalid_argument(format!("seek: offset {offset} of queue {queue:?} is negative")));
        }
        let (instance, slot) = self.inner.owned(queue, "seek")?;
        let min = queue_offset(&instance, &slot.mq, QueueOffset::Min).await?;
        let max = queue_offset(&instance, &slot.mq, QueueOffset::Max).await?;
        if offset < min || offset > max {
            return Err(Error::invalid_argument(format!(
                "seek: offset {offset} is outside the stored range [{min}, {max}] of queue {queue:?}"
            )));
        }
        self.inner.seek(&slot, offset);
        Ok(())
    }

    /// Seeks to the oldest message the broker still stores of `queue`.
    pub async fn seek_to_beginning(&self, queue: &MessageQueue) -> Result<()> {
        let (instance, slot) = self.inner.owned(queue, "seek_to_beginning")?;
        let min = queue_offset(&instance, &slot.mq, QueueOffset::Min).await?;
        self.inner.seek(&slot, min);
        Ok(())
    }

    /// Seeks past the last message of `queue`: only messages sent later are polled.
    pub async fn seek_to_end(&self, queue: &MessageQueue) -> Result<()> {
        let (instance, slot) = self.inner.owned(queue, "seek_to_end")?;
        let max = queue_offset(&instance, &slot.mq, QueueOffset::Max).await?;
        self.inner.seek(&slot, max);
        Ok(())
    }

    /// The offset of `queue`'s message stored at `timestamp_ms` (epoch milliseconds; ONS
    /// `offsetForTimestamp`), as the broker's SEARCH_OFFSET_BY_TIMESTAMP answers: 5.x brokers
    /// the first message stored at or after it, 4.x brokers the one stored nearest to it; the
    /// max offset when every message is older. Any queue of a topic, owned or not.
    pub async fn offset_for_timestamp(&self, queue: &MessageQueue, timestamp_ms: i64) -> Result<i64> {
        if timestamp_ms < 0 {
            return Err(Error::invalid_argument(format!("offset_for_timestamp: timestamp {timestamp_ms} is negative")));
        }
        validate_topic(&queue.topic)?;
        let instance = self.inner.instance()?;
        queue_offset(&instance, &self.inner.wire_mq(queue), QueueOffset::At(timestamp_ms)).await
    }

    /// The group's committed offset of `queue` at its broker (ONS `committed`), or with
    /// BROADCASTING in this client's offset file; `None` if none was committed.
    pub async fn committed(&self, queue: &MessageQueue) -> Result<Option<i64>> {
        validate_topic(&queue.topic)?;
        let instance = self.inner.instance()?;
        let mq = self.inner.wire_mq(queue);
        match self.inner.local_offsets.get() {
            Some(file) => Ok(file.get(&mq)),
            None => query_remote(&instance, &self.inner.group, &mq).await,
        }
    }

    /// Commits, and waits for the brokers to acknowledge (BROADCASTING: writes to the offset
    /// file, once for all queues), the offset after what `poll` returned of every owned queue
    /// (ONS `commitSync`). The first failure is the error; the other queues are committed all
    /// the same.
    pub async fn commit_sync(&self) -> Result<()> {
        self.inner.commit_all().await
    }

    /// Stops pulling `queues` (owned ones) until [`resume`](Self::resume)d, at once (a pull the
    /// broker holds is abandoned); messages already cached are still polled.
    pub fn pause(&self, queues: &[MessageQueue]) -> Result<()> {
        self.inner.set_paused(queues, true, "pause")
    }

    pub fn resume(&self, queues: &[MessageQueue]) -> Result<()> {
        self.inner.set_paused(queues, false, "resume")
    }
}

impl Drop for PullConsumer {
    /// A consumer dropped while started shuts down in the background.
    fn drop(&mut self) {
        if !self.inner.is_started() {
            return;
        }
        let inner = self.inner.clone();
        if let Some(rt) = self.inner.runtime.get() {
            rt.spawn(async move { inner.shutdown().await });
        }
    }
}

impl Inner {
    fn namespace(&self) -> Option<&str> {
        self.config.namespace.as_deref()
    }

    fn wire(&self, topic: &str) -> String {
        namespace::wrap(self.namespace(), topic)
    }

    fn wire_mq(&self, q: &MessageQueue) -> MessageQueue {
        MessageQueue::new(self.wire(&q.topic), q.broker_name.clone(), q.queue_id)
    }

    fn user_mq(&self, q: &MessageQueue) -> MessageQueue {
        MessageQueue::new(namespace::unwrap(self.namespace(), &q.topic), q.broker_name.clone(), q.queue_id)
    }

    fn is_started(&self) -> bool {
        matches!(*self.state.lock(), State::Started { .. })
    }

    fn usable(&self) -> Result<()> {
        match *self.state.lock() {
            State::Closed => Err(Error::not_started("pull consumer was shut down; create a new one")),
            _ => Ok(()),
        }
    }

    fn instance(&self) -> Result<Arc<ClientInstance>> {
        match &*self.state.lock() {
            State::Started { instance, .. } => Ok(instance.clone()),
            State::Created => Err(Error::not_started("pull consumer is not started; call start() first")),
            State::Closed => Err(Error::not_started("pull consumer was shut down")),
        }
    }

    fn set_mode(&self, wanted: Mode) -> Result<()> {
        let mut mode = self.mode.lock();
        match (*mode, wanted) {
            (Mode::Unset, _) => *mode = wanted,
            (a, b) if a == b => {}
            (Mode::Subscribe, _) => {
                return Err(Error::invalid_argument(
                    "assign: this consumer subscribed to topics; a consumer either subscribes or is assigned queues",
                ))
            }
            (_, _) => {
                return Err(Error::invalid_argument(
                    "subscribe: this consumer was assigned queues; a consumer either subscribes or is assigned queues",
                ))
            }
        }
        Ok(())
    }

    /// The slot of an owned queue, for `what`; an error naming the queue otherwise.
    fn owned(&self, queue: &MessageQueue, what: &str) -> Result<(Arc<ClientInstance>, Arc<Slot>)> {
        let instance = self.instance()?;
        let wire = self.wire_mq(queue);
        let slot = self.queues.lock().get(&wire).filter(|s| !s.stopped()).cloned();
        let slot = slot.ok_or_else(|| {
            Error::invalid_argument(format!(
                "{what}: queue {queue:?} is not one this consumer owns (owned: {:?})",
                self.assignment_names()
            ))
        })?;
        Ok((instance, slot))
    }

    fn assignment_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .queues
            .lock()
            .values()
            .filter(|s| !s.stopped())
            .map(|s| format!("{}@{}#{}", s.user_mq.topic, s.user_mq.broker_name, s.user_mq.queue_id))
            .collect();
        v.sort();
        v
    }

    fn set_paused(&self, queues: &[MessageQueue], paused: bool, what: &str) -> Result<()> {
        self.instance()?;
        let slots = queues.iter().map(|q| self.owned(q, what).map(|(_, s)| s)).collect::<Result<Vec<_>>>()?;
        for s in slots {
            s.paused.store(paused, Ordering::Release);
            if paused {
                // Not even a pull held by the broker now may bring messages of a paused queue.
                s.interrupt.notify_one();
            }
        }
        Ok(())
    }

    fn broadcasting(&self) -> bool {
        self.settings.message_model == MessageModel::Broadcasting
    }

    /// The heartbeat's `consumerData`: a pull consumer consumes actively (Java
    /// `ConsumeType.CONSUME_ACTIVELY`).
    fn consumer_data_fn(&self) -> Arc<dyn Fn() -> serde_json::Value + Send + Sync> {
        let subs = self.subscriptions.clone();
        let group = self.group.clone();
        let from = self.settings.consume_from.wire_name();
        let model = self.settings.message_model.wire_name();
        Arc::new(move || {
            let set: Vec<serde_json::Value> = subs.read().values().map(|s| s.to_json()).collect();
            json!({
                "consumeFromWhere": from,
                "consumeType": "CONSUME_ACTIVELY",
                "groupName": group,
                "messageModel": model,
                "subscriptionDataSet": set,
                "unitMode": false,
            })
        })
    }

    // -------------------------------------------------------------------- start / stop

    fn start(&self) -> Result<()> {
        {
            let state = self.state.lock();
            match *state {
                State::Started { .. } => return Ok(()),
                State::Closed => return Err(Error::not_started("pull consumer was shut down; create a new one")),
                State::Created => {}
            }
        }
        let runtime =
            Handle::try_current().map_err(|_| Error::not_started("start() must be called within a tokio runtime"))?;
        let me = self.me.upgrade().ok_or_else(|| Error::new(ErrorKind::Internal, "pull consumer is gone"))?;
        let instance = ClientInstance::get_or_create(&self.config);
        let mut state = self.state.lock();
        if !matches!(*state, State::Created) {
            return Ok(());
        }
        if self.broadcasting() && self.local_offsets.get().is_none() {
            // An unreadable file fails the start: starting over would re-deliver or skip.
            let (dir, owner) = (&self.settings.offset_store_dir, OffsetFileOwner::PullConsumer);
            let file = LocalOffsetFile::for_broadcasting(&self.config, dir, &self.group, owner)?;
            let _ = self.local_offsets.set(file);
        }
        let handler: Weak<dyn GroupRequestHandler> = self.me.clone();
        let member = instance.register(
            Member::Consumer { group: self.group.clone() },
            Some(handler),
            Some(self.consumer_data_fn()),
        )?;
        let _ = self.instance.set(instance.clone());
        let _ = self.runtime.set(runtime.clone());
        *self.next_auto_commit.lock() = Instant::now() + self.pull.auto_commit_interval;
        let tasks = vec![runtime.spawn(me.clone().rebalance_loop()), runtime.spawn(me.watch_topics())];
        // Under the state lock, so that a shutdown finds the tracer to flush and unregister.
        self.tracer.start(&self.config, TracedKind::Consume, &runtime);
        *state = State::Started { instance, member, tasks };
        drop(state);
        if *self.mode.lock() == Mode::Assign {
            let assigned = self.assigned.lock().clone();
            self.own_exactly(assigned, |_| true);
        }
        Ok(())
    }

    async fn shutdown(&self) {
        let previous = std::mem::replace(&mut *self.state.lock(), State::Closed);
        let State::Started { instance, member, tasks } = previous else { return };
        self.closing.send_replace(true);
        // A poll waiting for messages ends now, not at its timeout.
        self.cache_filled.notify_waiters();
        for t in &tasks {
            t.abort();
        }
        let slots: Vec<Arc<Slot>> = self.queues.lock().drain().map(|(_, s)| s).collect();
        for s in &slots {
            s.stop.send_replace(true);
            if let Some(t) = s.task.lock().take() {
                t.abort();
            }
        }
        if self.pull.auto_commit {
            if let Err(e) = self.commit_slots(&instance, &slots).await {
                tracing::warn!(error = %e, "pull consumer: the final commit failed");
            }
        }
        self.cache.lock().clear();
        self.cached.store(0, Ordering::Release);
        self.tracer.shut_down_with(&instance, member).await;
    }

    /// After a change of subscriptions or assignment while running: tell the brokers (they keep
    /// the heartbeat's subscriptions) and, in subscribe mode, re-split the queues.
    fn membership_changed(&self) {
        let (Some(instance), Some(rt)) = (self.instance.get().cloned(), self.runtime.get()) else { return };
        if !self.is_started() {
            return;
        }
        let me = self.me.clone();
        let topics: Vec<String> = self.subscriptions.read().keys().cloned().collect();
        rt.spawn(async move {
            for t in &topics {
                let _ = instance.route(t).await;
            }
            instance.heartbeat_all().await;
            if let Some(inner) = me.upgrade() {
                inner.rebalance_now.notify_one();
            }
        });
    }

    // -------------------------------------------------------------------- queues

    /// Owns exactly `wanted` among the queues `in_scope` accepts: starts pulling new ones,
    /// gives up the others (with autoCommit their consumed offset is committed first).
    fn own_exactly(&self, wanted: Vec<MessageQueue>, in_scope: impl Fn(&MessageQueue) -> bool) {
        let wanted_set: HashSet<MessageQueue> = wanted.iter().cloned().collect();
        let (dropped, added) = {
            let mut table = self.queues.lock();
            let gone: Vec<MessageQueue> =
                table.keys().filter(|q| in_scope(q) && !wanted_set.contains(*q)).cloned().collect();
            let dropped: Vec<Arc<Slot>> = gone.iter().filter_map(|q| table.remove(q)).collect();
            let mut added = Vec::new();
            for mq in wanted {
                if table.contains_key(&mq) {
                    continue;
                }
                let slot = Arc::new(Slot {
                    user_mq: self.user_mq(&mq),
                    mq: mq.clone(),
                    pos: Mutex::new(Position { next_pull: None, consumed: None, generation: 0 }),
                    paused: AtomicBool::new(false),
                    stop: watch::channel(false).0,
                    interrupt: Notify::new(),
                    cached: AtomicUsize::new(0),
                    pull_from: AtomicI64::new(MASTER_ID),
                    task: Mutex::new(None),
                });
                table.insert(mq, slot.clone());
                added.push(slot);
            }
            (dropped, added)
        };
        for s in &dropped {
            tracing::debug!(queue = ?s.mq, "pull consumer: giving the queue up");
            s.stop.send_replace(true);
            if let Some(t) = s.task.lock().take() {
                t.abort();
            }
            self.forget_cached(s);
        }
        if self.pull.auto_commit && !dropped.is_empty() {
            if let (Ok(instance), Some(rt)) = (self.instance(), self.runtime.get()) {
                let me = self.me.clone();
                rt.spawn(async move {
                    let Some(inner) = me.upgrade() else { return };
                    if let Err(e) = inner.commit_slots(&instance, &dropped).await {
                        tracing::warn!(error = %e, "could not commit the offset of a queue given up");
                    }
                });
            }
        }
        let Some(rt) = self.runtime.get() else { return };
        let Some(me) = self.me.upgrade() else { return };
        for s in added {
            tracing::debug!(queue = ?s.mq, "pull consumer: pulling the queue");
            *s.task.lock() = Some(rt.spawn(me.clone().pull_loop(s.clone())));
        }
    }

    /// An administrator's offset reset pushed by a 4.x broker (5.x brokers move the offsets
    /// themselves and answer the next pull with PULL_OFFSET_MOVED, see `on_pulled`): each owned
    /// queue is sought to its new offset, which is committed at once so that the group's stored
    /// offset is the reset one whether or not this consumer commits by itself.
    fn reset_offsets(&self, offsets: Vec<(MessageQueue, i64)>) {
        let owned: Vec<(Arc<Slot>, i64)> = {
            let table = self.queues.lock();
            offsets
                .into_iter()
                .filter_map(|(mq, offset)| Some((table.get(&mq).filter(|s| !s.stopped())?.clone(), offset)))
                .collect()
        };
        let mut reset = Vec::with_capacity(owned.len());
        for (slot, offset) in owned {
            tracing::info!(queue = ?slot.mq, offset, "pull consumer: offset reset by an administrator");
            self.seek(&slot, offset);
            reset.push(slot);
        }
        let (Ok(instance), Some(rt)) = (self.instance(), self.runtime.get()) else { return };
        let me = self.me.clone();
        rt.spawn(async move {
            let Some(inner) = me.upgrade() else { return };
            if let Err(e) = inner.commit_slots(&instance, &reset).await {
                tracing::warn!(error = %e, "could not commit a reset offset");
            }
        });
    }

    /// Drops what the cache holds of `slot`.
    fn forget_cached(&self, slot: &Arc<Slot>) {
        let mut cache = self.cache.lock();
        let mut removed = 0;
        cache.retain(|b| {
            let keep = !Arc::ptr_eq(&b.slot, slot);
            if !keep {
                removed += b.messages.len();
            }
            keep
        });
        slot.cached.fetch_sub(removed, Ordering::AcqRel);
        self.cached.fetch_sub(removed, Ordering::AcqRel);
    }

    fn seek(&self, slot: &Arc<Slot>, offset: i64) {
        {
            let mut pos = slot.pos.lock();
            pos.generation += 1;
            pos.next_pull = Some(offset);
            pos.consumed = Some(offset);
        }
        self.forget_cached(slot);
        slot.interrupt.notify_one();
        tracing::debug!(queue = ?slot.mq, offset, "pull consumer: seek");
    }

    // -------------------------------------------------------------------- topic changes

    /// All queues of a (wire) topic from a fresh route, named for users, sorted.
    async fn queues_of(&self, wire_topic: &str) -> Result<Vec<MessageQueue>> {
        let instance = self.instance()?;
        let route = instance.fetch_route(wire_topic).await?;
        let mut out: Vec<MessageQueue> = route.subscribe_queues.iter().map(|q| self.user_mq(q)).collect();
        out.sort();
        Ok(out)
    }

    /// Tells each topic's change listener when its queues differ from what it was last told.
    async fn watch_topics(self: Arc<Self>) {
        let mut closing = self.closing.subscribe();
        let mut wait = TOPIC_CHECK_FIRST;
        loop {
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = closing.changed() => return,
            }
            wait = TOPIC_CHECK_INTERVAL;
            let topics: Vec<String> = self.watched.lock().keys().cloned().collect();
            for topic in topics {
                let now = match self.queues_of(&topic).await {
                    Ok(q) => q,
                    Err(e) => {
                        tracing::warn!(topic = %topic, error = %e, "pull consumer: cannot read the topic's queues");
                        continue;
                    }
                };
                let listener = {
                    let mut watched = self.watched.lock();
                    let Some(w) = watched.get_mut(&topic) else { continue };
                    if w.known.as_ref() == Some(&now) {
                        continue;
                    }
                    w.known = Some(now.clone());
                    w.listener.clone()
                };
                let user_topic = namespace::unwrap(self.namespace(), &topic);
                let call = tokio::task::spawn_blocking(move || listener.on_changed(&user_topic, &now));
                if call.await.is_err() {
                    tracing::warn!(topic = %topic, "a topic partition change listener panicked");
                }
            }
        }
    }

    // -------------------------------------------------------------------- rebalance

    /// Subscribe mode only: splits the subscribed topics' queues among the group's instances
    /// (BROADCASTING: takes them all) every REBALANCE_INTERVAL and whenever the group or the
    /// subscriptions change.
    async fn rebalance_loop(self: Arc<Self>) {
        let Ok(instance) = self.instance() else { return };
        let mut closing = self.closing.subscribe();
        instance.heartbeat_all().await;
        loop {
            if *closing.borrow() {
                return;
            }
            let complete = if *self.mode.lock() == Mode::Subscribe { self.rebalance(&instance).await } else { true };
            let wait = if complete { REBALANCE_INTERVAL } else { Duration::from_secs(1) };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = self.rebalance_now.notified() => {}
                _ = closing.changed() => return,
            }
        }
    }

    async fn rebalance(&self, instance: &Arc<ClientInstance>) -> bool {
        let topics: Vec<String> = self.subscriptions.read().keys().cloned().collect();
        let mut complete = true;
        let mut known = Vec::new();
        let mut wanted = Vec::new();
        for topic in &topics {
            let route = match instance.route(topic).await {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!(topic = %topic, error = %e, "pull consumer: no route; its queues are not split yet");
                    complete = false;
                    continue;
                }
            };
            if self.broadcasting() {
                // Java `RebalanceImpl.rebalanceByTopic`, BROADCASTING: every queue, no split.
                wanted.extend(route.subscribe_queues.iter().cloned());
                known.push(topic.clone());
                continue;
            }
            match group_consumer_ids(instance, &self.group, &route).await {
                Ok(ids) => {
                    wanted.extend(self.settings.allocate_strategy.allocate(
                        &route.subscribe_queues,
                        &ids,
                        instance.client_id(),
                    ));
                    known.push(topic.clone());
                }
                Err(e) => {
                    tracing::warn!(topic = %topic, error = %e, "pull consumer: cannot list the group's consumers");
                    complete = false;
                }
            }
        }
        // Queues of topics no longer subscribed go too; those of topics not split this time stay.
        self.own_exactly(wanted, |q| known.contains(&q.topic) || !topics.contains(&q.topic));
        complete
    }

    // -------------------------------------------------------------------- pulling

    /// Where a queue starts: the group's committed offset (BROADCASTING: this client's), else
    /// per ConsumeFromWhere.
    async fn start_offset(&self, instance: &ClientInstance, mq: &MessageQueue) -> Result<i64> {
        let committed = match self.local_offsets.get() {
            Some(file) => file.get(mq),
            None => query_remote(instance, &self.group, mq).await?,
        };
        match committed {
            Some(o) => Ok(o),
            None => offset_without_commit(instance, mq, self.settings.consume_from).await,
        }
    }

    /// Whether `slot` may not pull now: the cache holds MaxCachedMessageAmount messages, or
    /// this queue its share of them.
    fn flow_controlled(&self, slot: &Slot) -> bool {
        let n = self.queues.lock().len().max(1);
        let total = self.cached.load(Ordering::Acquire);
        let share = (self.settings.max_cached_messages / n).max(self.settings.pull_batch_size as usize);
        total >= self.settings.max_cached_messages || slot.cached.load(Ordering::Acquire) >= share
    }

    async fn pull_loop(self: Arc<Self>, slot: Arc<Slot>) {
        let Ok(instance) = self.instance() else { return };
        let mut stop = slot.stop.subscribe();
        let mut errors = FailureReport::new("pull", ERROR_LOG_INTERVAL);
        loop {
            if *stop.borrow() {
                return;
            }
            let delay = if slot.paused.load(Ordering::Acquire) {
                Some(PAUSED_DELAY)
            } else if self.flow_controlled(&slot) {
                Some(FLOW_CONTROL_DELAY)
            } else {
                None
            };
            if let Some(d) = delay {
                tokio::select! {
                    _ = tokio::time::sleep(d) => {}
                    _ = stop.changed() => {}
                }
                continue;
            }
            let (next, generation) = {
                let pos = slot.pos.lock();
                (pos.next_pull, pos.generation)
            };
            let interrupted = slot.interrupt.notified();
            tokio::pin!(interrupted);
            interrupted.as_mut().enable();
            // A failure carries the broker the pull went to (if it got that far), for the log.
            let work =
                async {
                    let offset = match next {
                        Some(o) => o,
                        None => {
                            let o = self.start_offset(&instance, &slot.mq).await.map_err(|e| (e, None))?;
                            let mut pos = slot.pos.lock();
                            if pos.generation == generation && pos.next_pull.is_none() {
                                pos.next_pull = Some(o);
                            }
                            return Ok(None);
                        }
                    };
                    let sub =
                        self.subscriptions.read().get(&slot.mq.topic).cloned().ok_or_else(|| {
                            (Error::invalid_argument("the queue's topic is no longer subscribed"), None)
                        })?;
                    let target = read_target_of(&instance, &slot.mq, slot.pull_from.load(Ordering::Relaxed))
                        .await
                        .map_err(|e| (e, None))?;
                    let attempt = async {
                        // No offset rides on the pull: a pull consumer commits only what poll
                        // returned, when asked (Java lite pull: PullAPIWrapper.pullKernelImpl with
                        // commitOffset 0).
                        let cmd = pull_header(&self.group, &slot.mq, offset, None, &sub, self.settings.pull_batch_size)
                            .command();
                        let resp = invoke_read(&instance, &target, cmd, PULL_TIMEOUT).await?;
                        let limits = DecodeLimits {
                            messages: self.settings.pull_batch_size as usize,
                            body_bytes: MAX_DECOMPRESSED_BODY_LEN,
                            first_body_bytes: MAX_DECOMPRESSED_BODY_LEN,
                        };
                        parse_pull_response(&resp, &slot.mq, &self.group, self.namespace(), &sub, limits)
                    };
                    match attempt.await {
                        Ok(r) => Ok(Some((offset, r, target.broker_id))),
                        Err(e) => Err((e, Some(target))),
                    }
                };
            let result = tokio::select! {
                // Interruptions first: a reply racing a seek or pause must not be taken.
                biased;
                _ = &mut interrupted => continue,
                _ = stop.changed() => return,
                r = work => r,
            };
            match result {
                Ok(None) => {}
                Ok(Some((offset, r, from))) => {
                    if let Some(line) = errors.succeeded(std::time::Instant::now()) {
                        tracing::info!(queue = ?slot.mq, "{line}");
                    }
                    slot.pull_from.store(r.suggested_broker_id, Ordering::Relaxed);
                    let idle_slave = from != MASTER_ID && r.status != PullStatus::Found;
                    self.on_pulled(&slot, generation, offset, r);
                    if idle_slave {
                        tokio::select! {
                            _ = tokio::time::sleep(SLAVE_IDLE_DELAY) => {}
                            _ = stop.changed() => {}
                        }
                    }
                }
                Err((e, pulled_from)) => {
                    if let Some(line) = errors.failed(&e, std::time::Instant::now()) {
                        let broker = pulled_from.as_ref().map(tracing::field::display);
                        tracing::warn!(queue = ?slot.mq, broker, "{line}");
                    }
                    tokio::select! {
                        _ = tokio::time::sleep(PULL_ERROR_DELAY) => {}
                        _ = stop.changed() => {}
                        _ = slot.interrupt.notified() => {}
                    }
                }
            }
        }
    }

    fn on_pulled(&self, slot: &Arc<Slot>, generation: u64, requested: i64, r: super::pull::PullResult) {
        let mut pos = slot.pos.lock();
        if pos.generation != generation || pos.next_pull != Some(requested) || slot.stopped() {
            return;
        }
        pos.next_pull = Some(r.next_begin_offset);
        match r.status {
            PullStatus::Found => {
                if !r.undecodable.is_empty() {
                    // A pull consumer has no send-back: what does not decode is skipped, loudly.
                    tracing::warn!(queue = ?slot.mq, count = r.undecodable.len(), "pull consumer: skipping messages that do not decode");
                }
                if r.messages.is_empty() {
                    return;
                }
                let n = r.messages.len();
                slot.cached.fetch_add(n, Ordering::AcqRel);
                self.cached.fetch_add(n, Ordering::AcqRel);
                self.cache.lock().push_back(Batch {
                    slot: slot.clone(),
                    generation,
                    messages: r.messages,
                    end: r.next_begin_offset,
                });
                drop(pos);
                self.cache_filled.notify_waiters();
            }
            PullStatus::NoNewMessage | PullStatus::NoMatchedMessage => {}
            PullStatus::OffsetIllegal => {
                // The broker moved the queue (an administrator's reset on a 5.x broker, or an
                // offset outside what it stores): as a seek there, so that what was cached from
                // the old position is dropped and the next commit writes the new position
                // instead of putting the old one back over a reset.
                tracing::warn!(
                    queue = ?slot.mq, requested, next = r.next_begin_offset, min = r.min_offset, max = r.max_offset,
                    "pull consumer: the broker moved this queue's offset"
                );
                pos.generation += 1;
                pos.consumed = Some(r.next_begin_offset);
                drop(pos);
                self.forget_cached(slot);
            }
        }
    }

    // -------------------------------------------------------------------- poll / commit

    async fn poll(&self, timeout: Duration) -> Result<Vec<Message>> {
        let instance = self.instance()?;
        if *self.mode.lock() == Mode::Unset {
            return Err(Error::invalid_argument(
                "poll: the consumer neither subscribed to a topic nor was assigned queues",
            ));
        }
        if self.pull.auto_commit {
            let due = {
                let mut next = self.next_auto_commit.lock();
                let now = Instant::now();
                let due = now >= *next;
                if due {
                    *next = now + self.pull.auto_commit_interval;
                }
                due
            };
            if due {
                if let Err(e) = self.commit_slots(&instance, &self.owned_slots()).await {
                    tracing::warn!(error = %e, "auto-commit failed; tried again at the next one");
                }
            }
        }
        let deadline = Instant::now() + timeout;
        loop {
            let filled = self.cache_filled.notified();
            tokio::pin!(filled);
            filled.as_mut().enable();
            loop {
                // Popped on a statement of its own: the cache lock must be released before a
                // queue's position lock is taken (the pull loops take them the other way).
                let popped = self.cache.lock().pop_front();
                let Some(batch) = popped else { break };
                let n = batch.messages.len();
                batch.slot.cached.fetch_sub(n, Ordering::AcqRel);
                self.cached.fetch_sub(n, Ordering::AcqRel);
                let mut pos = batch.slot.pos.lock();
                if pos.generation != batch.generation || batch.slot.stopped() {
                    continue;
                }
                pos.consumed = Some(batch.end);
                drop(pos);
                self.trace_handed_over(&batch.messages);
                return Ok(batch.messages);
            }
            if self.is_closing() {
                return Err(Error::not_started("pull consumer was shut down"));
            }
            if tokio::time::timeout_at(deadline, filled).await.is_err() {
                return Ok(Vec::new());
            }
        }
    }

    /// Traces messages `poll` hands over as Java's `DefaultLitePullConsumerImpl.poll` does:
    /// a `SubBefore` and a successful `SubAfter` per message, at once (the application's
    /// handling after a poll is not seen).
    fn trace_handed_over(&self, messages: &[Message]) {
        if let Some(tracer) = self.tracer.get() {
            tracer.handed_over(messages);
        }
    }

    fn is_closing(&self) -> bool {
        *self.closing.borrow()
    }

    fn owned_slots(&self) -> Vec<Arc<Slot>> {
        self.queues.lock().values().filter(|s| !s.stopped()).cloned().collect()
    }

    /// Commits the consumed offsets of `slots` (those with one): to their brokers, one queue
    /// after another, or with BROADCASTING in one write of the offset file. The first failure
    /// is the error, naming its queue; the other queues are committed all the same.
    async fn commit_slots(&self, instance: &ClientInstance, slots: &[Arc<Slot>]) -> Result<()> {
        let consumed = slots.iter().filter_map(|s| Some((s, s.pos.lock().consumed?)));
        if let Some(file) = self.local_offsets.get() {
            let offsets: Vec<(MessageQueue, i64)> = consumed.map(|(s, offset)| (s.mq.clone(), offset)).collect();
            return if offsets.is_empty() { Ok(()) } else { file.store(&offsets) };
        }
        let mut first = None;
        for (s, offset) in consumed {
            if let Err(e) = self.commit_gate.commit(instance, &self.group, &s.mq, offset).await {
                let e = Error::new(e.kind(), format!("commit of queue {:?} failed: {}", s.user_mq, e.message()));
                first.get_or_insert(e);
            }
        }
        first.map_or(Ok(()), Err)
    }

    async fn commit_all(&self) -> Result<()> {
        let instance = self.instance()?;
        self.commit_slots(&instance, &self.owned_slots()).await
    }
}

impl GroupRequestHandler for Inner {
    fn handle(&self, _instance: &Arc<ClientInstance>, req: InboundRequest) {
        let code = req.command.code;
        match code {
            request::NOTIFY_CONSUMER_IDS_CHANGED => self.rebalance_now.notify_one(),
            request::RESET_CONSUMER_CLIENT_OFFSET => match parse_reset_offsets(&req.command.body) {
                Ok(offsets) => self.reset_offsets(offsets),
                Err(e) => crate::log_limit::warn_limited!(error = %e, "unreadable offset reset request"),
            },
            request::GET_CONSUMER_RUNNING_INFO => {
                let subs: Vec<serde_json::Value> = self.subscriptions.read().values().map(|s| s.to_json()).collect();
                let body = json!({
                    "properties": {
                        "PROP_CONSUME_TYPE": "CONSUME_ACTIVELY",
                        "consumerGroup": self.group,
                        "messageModel": self.settings.message_model.wire_name(),
                        "pullBatchSize": self.settings.pull_batch_size.to_string(),
                        "autoCommit": self.pull.auto_commit.to_string(),
                    },
                    "subscriptionSet": subs,
                    "mqTable": {},
                    "statusTable": {},
                });
                req.responder.respond(
                    RemotingCommand::response(response::SUCCESS, 0, None).with_body(body.to_string().into_bytes()),
                );
            }
            _ => req.responder.respond(RemotingCommand::response(
                response::REQUEST_CODE_NOT_SUPPORTED,
                0,
                Some(format!("request code {code} is not supported by a pull consumer")),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn consumer() -> PullConsumer {
        let props = Properties::new().with("NAMESRV_ADDR", "127.0.0.1:1").with("GROUP_ID", "GID_unit");
        PullConsumer::new(&props).unwrap()
    }

    #[test]
    fn bad_input_is_refused_with_what_is_wrong() {
        let c = consumer();
        let q = MessageQueue::new("T", "b", 0);
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let e = rt.block_on(c.poll(Duration::from_millis(1))).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotStarted, "{}", e.message());
        let e = rt.block_on(c.seek(&q, -1)).unwrap_err();
        assert!(e.message().contains("negative"), "{}", e.message());
        let e = rt.block_on(c.seek(&q, 3)).unwrap_err();
        assert!(e.message().contains("start()"), "{}", e.message());
        assert!(c.assign(&[MessageQueue::new("T", "b", -1)]).unwrap_err().message().contains("negative queue id"));
        c.subscribe("T", "*").unwrap();
        let e = c.assign(std::slice::from_ref(&q)).unwrap_err();
        assert!(e.message().contains("subscribed"), "{}", e.message());

        let c = consumer();
        c.assign(&[q]).unwrap();
        let e = c.subscribe("T", "*").unwrap_err();
        assert!(e.message().contains("assigned queues"), "{}", e.message());
    }
}
