//! The push-consumer engine behind [`Consumer`](super::Consumer),
//! [`OrderConsumer`](super::OrderConsumer) and [`BatchConsumer`](super::BatchConsumer): the
//! subscription table and heartbeat data, the queue table with one pull loop per assigned queue,
//! rebalancing, offset persistence, the dispatch of pulled messages to listeners, orderly locks,
//! and shutdown.
//!
//! Tasks: one rebalance loop (every 20 s, on NOTIFY_CONSUMER_IDS_CHANGED, after a subscription
//! change), one offset-persist loop (5 s), for orderly clustering one lock-renewal loop (20 s),
//! otherwise a ConsumeTimeout watchdog (5 s), and per assigned queue a pull loop (plus, when
//! orderly, a consume loop). Listeners run on the consumer's own threads (`pool`), at most
//! ConsumeThreadNums at a time, so a listener that blocks never stalls network work.
//!
//! This file holds the engine's state, subscriptions, start and shutdown, offsets and the pull
//! loops; `rebalance` owns queue assignment and giving queues up, `consume` the listeners,
//! `pull_request` what each pull asks for.
//!
//! A queue given up (rebalance, shutdown) stops pulling at once; messages not yet handed to a
//! listener are forgotten, listeners already running get a short grace period, and then the
//! smallest unfinished offset is committed — so nothing unfinished is ever committed.

use crate::trace::{ConsumeReturn, ConsumeTrace, TraceCounts, TracedKind, TracerSlot};
use parking_lot::{Mutex, RwLock};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use serde_json::json;
use tokio::runtime::Handle;
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::allocate::group_consumer_ids;
use super::consume_pool::ConsumePool;
use super::failure_report::FailureReport;
use super::listener::{
    Action, ActionReply, BatchMessageListener, ConsumeContext, ConsumeOrderContext, DeferredMessageListener,
    DeliveredMessage, MessageListener, MessageOrderListener, MessageSelector, OrderAction,
};
use super::lock::{lock_batch, unlock_batch, LOCK_MAX_LIVE, LOCK_RENEW_INTERVAL};
use super::offset_store::{
    invoke_read, offset_without_commit, query_remote, read_target_of, CommitGate, LocalOffsetFile, OffsetFileOwner,
    OffsetTable,
};
use super::process_queue::{queue_offset, ProcessQueue};
use super::pull::{parse_pull_response, retry_topic, PullResult, PullStatus};
use super::retry::{retry_later, send_back, send_to_retry_topic};
use super::settings::{ConsumerKind, ConsumerSettings, MessageModel};
use super::subscription::SubscriptionData;
use crate::client::instance::{ClientInstance, GroupRequestHandler, Member};
use crate::client::namespace;
use crate::config::ClientConfig;
use crate::error::{Error, ErrorKind, Result};
use crate::hashing::WordHashing;
use crate::message::{now_ms, validate_topic, Message};
use crate::protocol::codes::{request, response, CLIENT_VERSION_DESC};
use crate::protocol::command::RemotingCommand;
use crate::protocol::headers::RequestHeader;
use crate::protocol::lenient_json;
use crate::protocol::message::{DecodeLimits, MAX_DECOMPRESSED_BODY_LEN};
use crate::protocol::route::MessageQueue;
use crate::protocol::route::MASTER_ID;
use crate::transport::InboundRequest;

mod consume;
mod direct;
pub(super) mod pull_request;
mod rebalance;

use pull_request::{
    pull_header, FLOW_CONTROL_DELAY, PULL_ERROR_DELAY, PULL_TIMEOUT, REBALANCE_INTERVAL, SLAVE_IDLE_DELAY,
};

const PERSIST_INTERVAL: Duration = Duration::from_secs(5);
/// Pause after the broker answered FLOW_CONTROL or SYSTEM_BUSY (Java: 20 ms).
const BROKER_BUSY_DELAY: Duration = Duration::from_millis(20);
/// Largest offset span of one queue's cache in concurrent consumption (Java
/// consumeConcurrentlyMaxSpan): bounds what a restart re-delivers behind one slow message.
const MAX_SPAN: i64 = 2000;
/// A failed message that could be neither sent back nor re-sent is consumed again after this.
const LOCAL_RETRY_DELAY: Duration = Duration::from_secs(5);
/// How long a queue given up waits for its running listeners before committing.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(3);
/// How long shutdown waits for every queue to be given up.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(15);
/// While pulls of one queue keep failing, a line about them is logged at most this often.
const ERROR_LOG_INTERVAL: Duration = Duration::from_secs(30);
/// How often running listeners are checked against ConsumeTimeout.
const TIMEOUT_CHECK_INTERVAL: Duration = Duration::from_secs(5);

/// The user's listener, one kind per consumer.
#[derive(Clone)]
pub(crate) enum Listener {
    Concurrent(Arc<dyn MessageListener>),
    /// Concurrent, answered later through an `ActionReply` (event-loop bindings).
    Deferred(Arc<dyn DeferredMessageListener>),
    Batch(Arc<dyn BatchMessageListener>),
    Orderly(Arc<dyn MessageOrderListener>),
}

struct Subscribed {
    data: SubscriptionData,
    /// `None` for the group's retry topic: its messages go to their original topic's listener.
    listener: Option<Listener>,
}

type SubscriptionTable = Arc<RwLock<BTreeMap<String, Subscribed>>>;

struct Running {
    instance: Arc<ClientInstance>,
    member: u64,
    tasks: Vec<JoinHandle<()>>,
}

enum State {
    Created,
    Started(Running),
    Closed,
}

/// One assigned queue.
struct QueueSlot {
    /// Names as on the wire.
    mq: MessageQueue,
    /// What listeners of the queue are handed: the queue as users see it (made once, not for
    /// every delivery).
    context: ConsumeContext,
    pq: Mutex<ProcessQueue>,
    stop: watch::Sender<bool>,
    /// Orderly: new messages arrived.
    ready: Notify,
    /// Orderly clustering: the broker lock and when it was last confirmed.
    lock_time: Mutex<Option<Instant>>,
    /// Orderly: another client got the lock; give the queue up without committing or unlocking.
    lost_lock: AtomicBool,
    /// An administrator reset the group's offset: commit this instead when giving the queue up.
    reset_to: Mutex<Option<i64>>,
    /// Listeners of this queue running now (concurrent consumption).
    running: AtomicUsize,
    /// Being given up: the first caller of `finish_queue` sets it; later callers return.
    finishing: AtomicBool,
    /// Committed for the last time; later results must not touch the offset. Set under the
    /// process-queue lock after running listeners have had their grace period, so a listener
    /// that settles during that period still moves the final commit.
    done: AtomicBool,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    /// When a pull of this queue was last answered and a listener last took one of its
    /// messages (ms since the epoch, 0 for never), for the running info administrators read.
    last_pull_ms: AtomicI64,
    last_consume_ms: AtomicI64,
    /// The brokerId of its set the queue's next pull goes to: what the last reply suggested
    /// (`suggestWhichBrokerId`; 0, the master, until one does).
    pull_from: AtomicI64,
    /// Batch consumers with batchConsumeMaxAwaitDurationInSeconds: the messages of a batch not
    /// yet full, and the hold they belong to (a new hold begins when it is empty).
    held: Mutex<(Vec<Message>, u64)>,
}

impl QueueSlot {
    fn dropped(&self) -> bool {
        *self.stop.borrow()
    }

    fn give_up(&self) {
        self.stop.send_replace(true);
    }

    fn lock_valid(&self) -> bool {
        let t = *self.lock_time.lock();
        t.is_some_and(|t| t.elapsed() < LOCK_MAX_LIVE)
    }

    fn set_locked(&self) {
        *self.lock_time.lock() = Some(Instant::now());
    }
}

/// Counts a consume request in its slot's running listeners until it ends, however it ends.
struct RunningGuard(Arc<QueueSlot>);

impl RunningGuard {
    fn new(slot: &Arc<QueueSlot>) -> Self {
        slot.running.fetch_add(1, Ordering::AcqRel);
        RunningGuard(slot.clone())
    }
}

/// A concurrent listener call in progress, watched for ConsumeTimeout.
/// A message for a deferred listener, waiting for one of the ConsumeThreadNums places.
struct WaitingDelivery {
    slot: Arc<QueueSlot>,
    messages: Arc<[Message]>,
    listener: Arc<dyn DeferredMessageListener>,
}

struct RunningJob {
    started: Instant,
    slot: Arc<QueueSlot>,
    messages: Arc<[Message]>,
    /// Set by the watchdog: the messages were handed back; the listener's late result is ignored.
    expired: AtomicBool,
    /// A deferred delivery's place among the ConsumeThreadNums unanswered ones (`None` for a
    /// call on a pool thread, and once given back).
    permit: Mutex<Option<tokio::sync::OwnedSemaphorePermit>>,
}

impl Drop for RunningGuard {
    fn drop(&mut self) {
        self.0.running.fetch_sub(1, Ordering::AcqRel);
    }
}

pub(crate) struct Engine {
    me: Weak<Engine>,
    kind: ConsumerKind,
    config: ClientConfig,
    settings: ConsumerSettings,
    /// The group as on the wire (namespaced).
    group: String,
    subscriptions: SubscriptionTable,
    state: Mutex<State>,
    instance: OnceLock<Arc<ClientInstance>>,
    runtime: OnceLock<Handle>,
    queues: Mutex<HashMap<MessageQueue, Arc<QueueSlot>>>,
    offsets: OffsetTable,
    /// Orders the first commits on each broker and topic (see [`CommitGate`]).
    commit_gate: CommitGate,
    local_offsets: OnceLock<LocalOffsetFile>,
    /// Held while offsets are written out: exclusively by the periodic persist of every queue,
    /// shared by writes of one queue (its final commit, a moved offset). Brokers process
    /// UPDATE_CONSUMER_OFFSET on a thread pool, so two writes of one queue in flight at once
    /// may land in either order; taking turns, with acknowledged writes, keeps a stale periodic
    /// value from overwriting the final commit of a queue being given up. Writes of different
    /// queues run at once: a shutdown's final commits take one broker call, not one per queue.
    persist_turn: tokio::sync::RwLock<()>,
    rebalance_now: Notify,
    closing: watch::Sender<bool>,
    pool: ConsumePool,
    /// ConsumeThreadNums places for deferred deliveries awaiting their answer.
    deferred_places: Arc<tokio::sync::Semaphore>,
    /// Deferred deliveries waiting for a place, oldest first.
    deferred_backlog: Mutex<VecDeque<WaitingDelivery>>,
    /// Listener calls under way, by id (`next_job`), for the ConsumeTimeout watchdog.
    running: Mutex<HashMap<u64, Arc<RunningJob>, WordHashing>>,
    next_job: AtomicU64,
    started_at: i64,
    /// Rebalance steps that keep failing (a topic's route lookup, the group's consumer list),
    /// by what they name: each is logged once and then at most every ERROR_LOG_INTERVAL.
    rebalance_failures: Mutex<HashMap<String, FailureReport>>,
    /// Where the SubBefore/SubAfter trace records go while started with `MsgTraceSwitch` on.
    tracer: TracerSlot,
}

async fn sleep_or_stop(d: Duration, stop: &mut watch::Receiver<bool>) {
    if *stop.borrow() {
        return;
    }
    tokio::select! {
        _ = tokio::time::sleep(d) => {}
        _ = stop.changed() => {}
    }
}

/// Calls user code; `None` if it panicked (the panic counts as a failed consumption).
fn call_listener<T>(what: &str, f: impl FnOnce() -> T) -> Option<T> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(v) => Some(v),
        Err(_) => {
            tracing::warn!("{what} panicked; counted as failed");
            None
        }
    }
}

impl Engine {
    pub(crate) fn new(config: ClientConfig, settings: ConsumerSettings, kind: ConsumerKind) -> Arc<Engine> {
        let group = namespace::wrap(config.namespace.as_deref(), &config.group_id);
        let pool = ConsumePool::new(settings.consume_threads, "ons-consume");
        let deferred_places = Arc::new(tokio::sync::Semaphore::new(settings.consume_threads));
        Arc::new_cyclic(|me| Engine {
            me: me.clone(),
            kind,
            config,
            settings,
            group,
            subscriptions: Arc::new(RwLock::new(BTreeMap::new())),
            state: Mutex::new(State::Created),
            instance: OnceLock::new(),
            runtime: OnceLock::new(),
            queues: Mutex::new(HashMap::new()),
            offsets: OffsetTable::default(),
            commit_gate: CommitGate::default(),
            local_offsets: OnceLock::new(),
            persist_turn: tokio::sync::RwLock::new(()),
            rebalance_now: Notify::new(),
            closing: watch::channel(false).0,
            deferred_places,
            deferred_backlog: Mutex::new(VecDeque::new()),
            pool,
            running: Mutex::new(HashMap::default()),
            next_job: AtomicU64::new(0),
            started_at: now_ms(),
            rebalance_failures: Mutex::new(HashMap::new()),
            tracer: TracerSlot::default(),
        })
    }

    fn namespace(&self) -> Option<&str> {
        self.config.namespace.as_deref()
    }

    /// Logs a failed rebalance step (`what` names it) at WARN when a line is due.
    fn rebalance_failed(&self, what: &str, error: &Error) {
        let line = {
            let mut reports = self.rebalance_failures.lock();
            let report = reports.entry(what.to_owned()).or_insert_with(|| FailureReport::new(what, ERROR_LOG_INTERVAL));
            report.failed(error, std::time::Instant::now())
        };
        if let Some(line) = line {
            tracing::warn!(group = %self.group, "{line}");
        }
    }

    /// Logs at INFO that a rebalance step works again, if it had failed.
    fn rebalance_succeeded(&self, what: &str) {
        let line = self.rebalance_failures.lock().get_mut(what).and_then(|r| r.succeeded(std::time::Instant::now()));
        if let Some(line) = line {
            tracing::info!(group = %self.group, "{line}");
        }
    }

    fn clustering(&self) -> bool {
        self.settings.message_model == MessageModel::Clustering
    }

    fn orderly(&self) -> bool {
        self.kind == ConsumerKind::Orderly
    }

    fn is_closing(&self) -> bool {
        *self.closing.borrow()
    }

    pub(crate) fn is_started(&self) -> bool {
        matches!(*self.state.lock(), State::Started(_))
    }

    pub(crate) fn is_closed(&self) -> bool {
        matches!(*self.state.lock(), State::Closed)
    }

    fn spawn<F: std::future::Future<Output = ()> + Send + 'static>(&self, f: F) -> Option<JoinHandle<()>> {
        self.runtime.get().map(|h| h.spawn(f))
    }

    // ------------------------------------------------------------------------ subscriptions

    pub(crate) fn subscribe(&self, topic: &str, selector: &MessageSelector, listener: Listener) -> Result<()> {
        if self.is_closed() {
            return Err(Error::not_started("consumer was shut down; create a new one"));
        }
        validate_topic(topic)?;
        let wire = namespace::wrap(self.namespace(), topic);
        let data = SubscriptionData::new(&wire, selector)?;
        self.subscriptions.write().insert(wire, Subscribed { data, listener: Some(listener) });
        self.subscriptions_changed();
        Ok(())
    }

    pub(crate) fn unsubscribe(&self, topic: &str) -> Result<()> {
        if self.is_closed() {
            return Err(Error::not_started("consumer was shut down"));
        }
        let wire = namespace::wrap(self.namespace(), topic);
        self.subscriptions.write().remove(&wire);
        self.subscriptions_changed();
        Ok(())
    }

    /// After a change while running: learn the new routes, tell the brokers (they filter by the
    /// heartbeat's subscription), and rebalance.
    fn subscriptions_changed(&self) {
        let Some(instance) = self.instance.get().cloned() else { return };
        if !self.is_started() {
            return;
        }
        let topics = self.topics();
        let me = self.me.clone();
        self.spawn(async move {
            for t in &topics {
                let _ = instance.route(t).await;
            }
            instance.heartbeat_all().await;
            if let Some(engine) = me.upgrade() {
                engine.rebalance_now.notify_one();
            }
        });
    }

    fn topics(&self) -> Vec<String> {
        self.subscriptions.read().keys().cloned().collect()
    }

    fn subscription(&self, wire_topic: &str) -> Option<SubscriptionData> {
        self.subscriptions.read().get(wire_topic).map(|s| s.data.clone())
    }

    /// The listener for a message of `user_topic` (retried messages carry their original topic).
    fn listener_for(&self, user_topic: &str) -> Option<Listener> {
        let wire = namespace::wrap_borrowed(self.namespace(), user_topic);
        self.subscriptions.read().get(wire.as_ref()).and_then(|s| s.listener.clone())
    }

    /// The heartbeat's `consumerData` for this group.
    fn consumer_data_fn(&self) -> Arc<dyn Fn() -> serde_json::Value + Send + Sync> {
        let subs = self.subscriptions.clone();
        let group = self.group.clone();
        let model = self.settings.message_model.wire_name();
        let from = self.settings.consume_from.wire_name();
        Arc::new(move || {
            let set: Vec<serde_json::Value> = subs.read().values().map(|s| s.data.to_json()).collect();
            json!({
                "consumeFromWhere": from,
                "consumeType": "CONSUME_PASSIVELY",
                "groupName": group,
                "messageModel": model,
                "subscriptionDataSet": set,
                "unitMode": false,
            })
        })
    }

    // ------------------------------------------------------------------------ start / stop

    pub(crate) fn start(&self) -> Result<()> {
        let startable = |state: &State| match state {
            State::Started(_) => Ok(false),
            State::Closed => Err(Error::not_started("consumer was shut down; create a new one")),
            State::Created => Ok(true),
        };
        if !startable(&self.state.lock())? {
            return Ok(());
        }
        let runtime =
            Handle::try_current().map_err(|_| Error::not_started("start() must be called within a tokio runtime"))?;
        let me = self.me.upgrade().ok_or_else(|| Error::new(ErrorKind::Internal, "consumer engine is gone"))?;
        let instance = ClientInstance::get_or_create(&self.config);
        // Before anything runs, and without the state lock: this may wait for the name servers.
        self.check_name_servers(&runtime, &instance)?;
        let mut state = self.state.lock();
        if !startable(&state)? {
            return Ok(());
        }
        if !self.clustering() {
            let file = LocalOffsetFile::for_broadcasting(
                &self.config,
                &self.settings.offset_store_dir,
                &self.group,
                OffsetFileOwner::PushConsumer,
            )?;
            let _ = self.local_offsets.set(file);
        } else {
            let retry = retry_topic(&self.group);
            let data = SubscriptionData::by_tag(&retry, "*")?;
            self.subscriptions.write().insert(retry, Subscribed { data, listener: None });
        }
        let handler: Weak<dyn GroupRequestHandler> = self.me.clone();
        let member = instance.register(
            Member::Consumer { group: self.group.clone() },
            Some(handler),
            Some(self.consumer_data_fn()),
        )?;
        let _ = self.instance.set(instance.clone());
        let _ = self.runtime.set(runtime.clone());
        let persist = me.clone().every(PERSIST_INTERVAL, |e| async move { e.persist_all().await });
        let mut tasks = vec![runtime.spawn(me.clone().rebalance_loop()), runtime.spawn(persist)];
        if self.orderly() && self.clustering() {
            tasks.push(runtime.spawn(me.every(LOCK_RENEW_INTERVAL, |e| async move { e.renew_locks().await })));
        } else if !self.orderly() {
            tasks.push(runtime.spawn(me.every(TIMEOUT_CHECK_INTERVAL, |e| async move { e.expire_stuck_listeners() })));
        }
        *state = State::Started(Running { instance, member, tasks });
        // Under the state lock, so that a shutdown finds the tracer (registering with the
        // instance only takes its member list, as the consumer's own registration above).
        self.tracer.start(&self.config, TracedKind::Consume, &runtime);
        Ok(())
    }

    /// start() fails, as a send does, when no name server can be reached at all: the route of
    /// the first subscribed topic is looked up and a network failure or timeout of every name
    /// server is the error. Any answer passes (a topic without a route is waited for, and said
    /// at WARN by the rebalance, as Java consumers wait for a topic to be created).
    ///
    /// The lookup needs the runtime to make progress while this thread waits, which only a
    /// multi-thread runtime guarantees (a current-thread runtime runs only while its owner
    /// polls it, and that owner may be this very call); on one, start() does not wait and an
    /// unreachable name server is reported at WARN by the first rebalance instead.
    fn check_name_servers(&self, runtime: &Handle, instance: &Arc<ClientInstance>) -> Result<()> {
        let Some(topic) = self.topics().into_iter().next() else { return Ok(()) };
        if runtime.runtime_flavor() != tokio::runtime::RuntimeFlavor::MultiThread {
            return Ok(());
        }
        let instance = instance.clone();
        let lookup = async move {
            match instance.fetch_route(&topic).await {
                Err(e) if matches!(e.kind(), ErrorKind::Network | ErrorKind::Timeout) => Err(e),
                _ => Ok(()),
            }
        };
        // From an async caller (a task on a worker, or inside the runtime's block_on) the runtime
        // first moves this thread's other work elsewhere; from any other thread this just waits.
        let outcome = tokio::task::block_in_place(|| runtime.block_on(lookup));
        outcome.map_err(|e| {
            Error::new(e.kind(), format!("consumer of group {} cannot start: {}", self.group, e.message()))
        })
    }

    /// Stops pulling, lets running listeners finish briefly, commits every queue's offset,
    /// releases orderly locks and leaves the group.
    pub(crate) async fn shutdown(&self) {
        let previous = std::mem::replace(&mut *self.state.lock(), State::Closed);
        let State::Started(running) = previous else { return };
        self.closing.send_replace(true);
        let slots: Vec<Arc<QueueSlot>> = self.queues.lock().values().cloned().collect();
        let mut handles = Vec::new();
        for slot in &slots {
            slot.give_up();
            handles.extend(slot.tasks.lock().drain(..));
        }
        let all = async {
            for h in handles {
                let _ = h.await;
            }
        };
        if tokio::time::timeout(SHUTDOWN_TIMEOUT, all).await.is_err() {
            tracing::warn!(group = %self.group, "queues did not finish within {SHUTDOWN_TIMEOUT:?}; committing what is finished");
            for slot in &slots {
                self.finish_queue(&running.instance, slot).await;
            }
        }
        for t in &running.tasks {
            t.abort();
        }
        self.pool.close();
        self.deferred_places.close();
        self.deferred_backlog.lock().clear();
        self.tracer.shut_down_with(&running.instance, running.member).await;
    }

    /// What this consumer's message traces came to (see `Consumer::trace_counts`).
    pub(crate) fn trace_counts(&self) -> Option<TraceCounts> {
        self.tracer.counts()
    }

    /// Called when the user's handle is dropped while started: shut down in the background.
    pub(crate) fn shutdown_in_background(&self) {
        if !self.is_started() {
            return;
        }
        let Some(me) = self.me.upgrade() else { return };
        self.spawn(async move { me.shutdown().await });
    }

    /// Starts tracing a listener call with `messages` (None when this consumer does not trace).
    fn trace_before(&self, messages: &Arc<[Message]>, started_ms: i64) -> Option<ConsumeTrace> {
        self.tracer.get()?.before(messages, started_ms)
    }

    pub(crate) fn instance(&self) -> Result<Arc<ClientInstance>> {
        self.instance.get().cloned().ok_or_else(|| Error::not_started("consumer is not started; call start() first"))
    }

    /// The queues of subscribed topics this consumer currently consumes (names without
    /// namespace), sorted; the group's retry queues are not listed.
    pub(crate) fn assignment(&self) -> Vec<MessageQueue> {
        let retry = retry_topic(&self.group);
        let mut out: Vec<MessageQueue> = self
            .queues
            .lock()
            .values()
            .filter(|s| s.mq.topic != retry)
            .filter(|s| !s.dropped() && (!self.orderly() || !self.clustering() || s.lock_valid()))
            .map(|s| s.context.queue.clone())
            .collect();
        out.sort();
        out
    }

    /// Messages pulled and not finished yet, and their body bytes (what flow control bounds).
    pub(crate) fn cache_usage(&self) -> (usize, usize) {
        let table = self.queues.lock();
        table.values().fold((0, 0), |(n, b), s| {
            let pq = s.pq.lock();
            (n + pq.count(), b + pq.cached_bytes())
        })
    }

    // ------------------------------------------------------------------------ offsets

    /// Runs `job` every `period` until the consumer shuts down.
    async fn every<F, Fut>(self: Arc<Self>, period: Duration, job: F)
    where
        F: Fn(Arc<Self>) -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        let mut closing = self.closing.subscribe();
        loop {
            sleep_or_stop(period, &mut closing).await;
            if self.is_closing() {
                return;
            }
            job(self.clone()).await;
        }
    }

    async fn persist_all(&self) {
        let Ok(instance) = self.instance() else { return };
        let _turn = self.persist_turn.write().await;
        let snapshot = self.offsets.snapshot();
        if self.clustering() {
            // Every queue at once: an unresponsive broker costs one call timeout, not one per queue.
            let instance = &instance;
            futures_util::future::join_all(snapshot.into_iter().map(|(mq, offset)| async move {
                if let Err(e) = self.commit_gate.commit(instance, &self.group, &mq, offset).await {
                    tracing::debug!(queue = ?mq, error = %e, "offset persist failed; retried in 5 s");
                }
            }))
            .await;
        } else if let Some(file) = self.local_offsets.get() {
            if let Err(e) = file.store(&snapshot) {
                tracing::warn!(error = %e, "could not store offsets locally");
            }
        }
    }

    /// Records a queue's commit offset from its process queue, unless the queue was already
    /// committed for good. Taking the process queue (borrowed from its lock) is what orders
    /// this against `finish_queue`, which sets `done` under the same lock.
    fn update_offset(&self, slot: &QueueSlot, pq: &ProcessQueue) {
        if !slot.done.load(Ordering::Acquire) {
            self.offsets.set(&slot.mq, pq.commit_offset());
        }
    }

    // ------------------------------------------------------------------------ pulling

    /// What one pull reply of `slot` may add to the cache: what the pull asked for, within the
    /// queue's remaining share of MaxCachedMessageSizeInMiB. With `whole_cache`, the first
    /// message may also use the room of the whole consumer's cache (a message larger than one
    /// queue's share still gets consumed, one at a time), or, when nothing at all is cached, up
    /// to the largest body any message may inflate to.
    fn reply_limits(&self, slot: &QueueSlot, whole_cache: bool) -> DecodeLimits {
        let n = self.queues.lock().len().max(1);
        let share = (self.settings.max_cached_bytes / n).max(1);
        let cached = slot.pq.lock().cached_bytes();
        let body_bytes = share.saturating_sub(cached);
        let first_body_bytes = if whole_cache {
            match self.cache_usage() {
                (0, _) => MAX_DECOMPRESSED_BODY_LEN,
                (_, total) => self.settings.max_cached_bytes.saturating_sub(total),
            }
        } else {
            body_bytes
        };
        DecodeLimits { messages: self.settings.pull_batch_size as usize, body_bytes, first_body_bytes }
    }

    fn flow_controlled(&self, slot: &QueueSlot) -> bool {
        let n = self.queues.lock().len().max(1);
        let count_limit = (self.settings.max_cached_messages / n).max(1);
        let bytes_limit = (self.settings.max_cached_bytes / n).max(1);
        let pq = slot.pq.lock();
        pq.count() > count_limit || pq.cached_bytes() > bytes_limit || (!self.orderly() && pq.span() > MAX_SPAN)
    }

    async fn pull_loop(self: Arc<Self>, slot: Arc<QueueSlot>) {
        let Ok(instance) = self.instance() else { return };
        let mut stop = slot.stop.subscribe();
        let mut errors = FailureReport::new("pull", ERROR_LOG_INTERVAL);
        loop {
            if *stop.borrow() {
                break;
            }
            if self.flow_controlled(&slot) {
                sleep_or_stop(FLOW_CONTROL_DELAY, &mut stop).await;
                continue;
            }
            if self.orderly() && self.clustering() && !slot.lock_valid() {
                sleep_or_stop(Duration::from_millis(500), &mut stop).await;
                continue;
            }
            let Some(sub) = self.subscription(&slot.mq.topic) else {
                sleep_or_stop(PULL_ERROR_DELAY, &mut stop).await;
                continue;
            };
            let offset = slot.pq.lock().next_offset();
            // Only once the broker holds the group's offsets of the topic (see `CommitGate`).
            let commit =
                if self.clustering() && self.commit_gate.is_open(&slot.mq) { self.offsets.get(&slot.mq) } else { None };
            // A failure carries the broker the pull went to (if it got that far), for the log.
            let outcome = async {
                let target = read_target_of(&instance, &slot.mq, slot.pull_from.load(Ordering::Relaxed))
                    .await
                    .map_err(|e| (e, None))?;
                let attempt = async {
                    // Offsets piggy-back only on pulls from the master (a slave's copy is replaced
                    // by the master's), as the Java client's PullAPIWrapper clears the flag for a
                    // slave.
                    let commit = if target.broker_id == MASTER_ID { commit } else { None };
                    let cmd = pull_header(&self.group, &slot.mq, offset, commit, &sub, self.settings.pull_batch_size)
                        .command();
                    let resp = invoke_read(&instance, &target, cmd, PULL_TIMEOUT).await?;
                    let parse =
                        |limits| parse_pull_response(&resp, &slot.mq, &self.group, self.namespace(), &sub, limits);
                    let r = parse(self.reply_limits(&slot, false))?;
                    if r.cut_short && r.messages.is_empty() && r.undecodable.is_empty() && r.next_begin_offset == offset
                    {
                        // Not even the first message fits this queue's share: try the room of
                        // the whole cache (computed only now: it visits every queue).
                        return parse(self.reply_limits(&slot, true));
                    }
                    Ok(r)
                };
                match attempt.await {
                    Ok(r) => Ok((r, target.broker_id)),
                    Err(e) => Err((e, Some(target))),
                }
            };
            let result = tokio::select! {
                r = outcome => r,
                _ = stop.changed() => break,
            };
            match result {
                Ok((r, from_broker_id)) => {
                    slot.last_pull_ms.store(now_ms(), Ordering::Relaxed);
                    // A 5.x slave whose master is listed answers a pull that finds nothing at once
                    // (PULL_RETRY_IMMEDIATELY) instead of holding it as a master does: pause, or
                    // a caught-up queue read from a slave while its master is away would spin.
                    let idle_slave = from_broker_id != MASTER_ID && r.status != PullStatus::Found;
                    let suggested = r.suggested_broker_id;
                    if slot.pull_from.swap(suggested, Ordering::Relaxed) != suggested {
                        tracing::debug!(queue = ?slot.mq, broker_id = suggested, "the broker suggests pulling from another broker of its set");
                    }
                    if let Some(line) = errors.succeeded(std::time::Instant::now()) {
                        tracing::info!(queue = ?slot.mq, "{line}");
                    }
                    // A reply of which nothing fit the cache: wait as flow control does rather
                    // than ask again at once for the same answer.
                    let no_room = r.cut_short && r.next_begin_offset == offset;
                    self.on_pulled(&slot, offset, r);
                    if no_room {
                        sleep_or_stop(FLOW_CONTROL_DELAY, &mut stop).await;
                    } else if idle_slave {
                        sleep_or_stop(SLAVE_IDLE_DELAY, &mut stop).await;
                    }
                }
                Err((e, pulled_from)) => {
                    if let Some(line) = errors.failed(&e, std::time::Instant::now()) {
                        let broker = pulled_from.as_ref().map(tracing::field::display);
                        tracing::warn!(queue = ?slot.mq, broker, "{line}");
                    }
                    let delay = if e.kind() == ErrorKind::Busy { BROKER_BUSY_DELAY } else { PULL_ERROR_DELAY };
                    sleep_or_stop(delay, &mut stop).await;
                }
            }
        }
        if !self.orderly() {
            self.finish_queue(&instance, &slot).await;
        }
    }

    fn on_pulled(&self, slot: &Arc<QueueSlot>, requested: i64, r: PullResult) {
        let orderly = self.orderly();
        match r.status {
            PullStatus::Found => {
                let fresh: Vec<Message> = {
                    let mut pq = slot.pq.lock();
                    if slot.dropped() || pq.next_offset() != requested {
                        return;
                    }
                    pq.set_next_offset(r.next_begin_offset);
                    let added = pq.add(&r.messages, orderly);
                    // Placeholders stay in flight (uncommitted) until the broker has them back;
                    // never kept for an orderly listener, which waits for them in offset order.
                    let undecodable_added = pq.add(&r.undecodable, false);
                    let undecodable: Vec<Message> =
                        r.undecodable.into_iter().filter(|m| undecodable_added.contains(&queue_offset(m))).collect();
                    if !undecodable.is_empty() {
                        self.hand_back_undecodable(slot, undecodable);
                    }
                    self.update_offset(slot, &pq);
                    r.messages.into_iter().filter(|m| added.contains(&queue_offset(m))).collect()
                };
                if fresh.is_empty() {
                    return;
                }
                if orderly {
                    slot.ready.notify_one();
                } else {
                    self.dispatch(slot, fresh);
                }
            }
            PullStatus::NoNewMessage | PullStatus::NoMatchedMessage => {
                let mut pq = slot.pq.lock();
                if pq.next_offset() == requested {
                    pq.set_next_offset(r.next_begin_offset);
                    self.update_offset(slot, &pq);
                }
            }
            PullStatus::OffsetIllegal => {
                // 5.x brokers answer so after an administrator's reset, and any broker when the
                // offset left the stored range. As the Java client (`DefaultMQPushConsumerImpl`,
                // OFFSET_ILLEGAL): what is cached was pulled from the old position and is
                // dropped with the queue, the new offset committed, and the queue taken again
                // from there.
                tracing::warn!(
                    queue = ?slot.mq, requested, next = r.next_begin_offset, min = r.min_offset, max = r.max_offset,
                    "the broker moved this queue's offset"
                );
                self.move_queue_offset(slot, r.next_begin_offset);
                self.rebalance_now.notify_one();
            }
        }
    }

    // ------------------------------------------------------------------------ broker requests

    /// An administrator's offset reset (4.x brokers push it; 5.x brokers reset on their side
    /// and answer the next pull with PULL_OFFSET_MOVED): each owned queue is given up with the
    /// new offset committed, and taken again from there by the next rebalance.
    fn reset_offsets(&self, offsets: Vec<(MessageQueue, i64)>) {
        let table = self.queues.lock();
        for (mq, offset) in offsets {
            tracing::info!(queue = ?mq, offset, "offset reset by an administrator");
            if let Some(slot) = table.get(&mq).filter(|s| !s.dropped()) {
                self.move_queue_offset(slot, offset);
            } else if let Some(file) = self.local_offsets.get() {
                if let Err(e) = file.store(&[(mq, offset)]) {
                    crate::log_limit::warn_limited!(error = %e, "could not store a reset offset");
                }
            }
        }
        drop(table);
        self.rebalance_now.notify_one();
    }

    /// Gives `slot` up so that `offset` is what its final commit writes; the next rebalance
    /// takes the queue again from there, with an empty cache.
    fn move_queue_offset(&self, slot: &QueueSlot, offset: i64) {
        *slot.reset_to.lock() = Some(offset);
        slot.give_up();
    }

    /// The answer to GET_CONSUMER_RUNNING_INFO, in the shape of Java's `ConsumerRunningInfo`
    /// (`remoting/src/main/java/org/apache/rocketmq/remoting/protocol/body/ConsumerRunningInfo.java`)
    /// as fastjson writes it: `mqTable` is keyed by message-queue objects, which is not standard
    /// JSON (docs/remoting-protocol.md §4.3), so the body is put together as text. There is no
    /// `statusTable` (per-topic pull and consume rates): this consumer does not measure them.
    fn running_info(&self) -> Vec<u8> {
        let subs: Vec<serde_json::Value> = self.subscriptions.read().values().map(|s| s.data.to_json()).collect();
        let properties = json!({
            "PROP_CONSUME_TYPE": "CONSUME_PASSIVELY",
            "PROP_CONSUMEORDERLY": self.orderly().to_string(),
            "PROP_THREADPOOL_CORE_SIZE": self.settings.consume_threads.to_string(),
            "PROP_CONSUMER_START_TIMESTAMP": self.started_at.to_string(),
            "PROP_NAMESERVER_ADDR": self.instance.get().map(|i| i.name_server_addrs().join(";")).unwrap_or_default(),
            "PROP_CLIENT_VERSION": CLIENT_VERSION_DESC,
            "consumerGroup": self.group,
            "messageModel": self.settings.message_model.wire_name(),
            "consumeFromWhere": self.settings.consume_from.wire_name(),
            "consumeThreadMin": self.settings.consume_threads.to_string(),
            "consumeThreadMax": self.settings.consume_threads.to_string(),
            "consumeMessageBatchMaxSize": self.settings.batch_max_size.to_string(),
            "maxReconsumeTimes": self.settings.max_reconsume_times.to_string(),
            "consumeTimeout": (self.settings.consume_timeout.as_secs() / 60).to_string(),
            "pullBatchSize": self.settings.pull_batch_size.to_string(),
        });
        let mut slots: Vec<Arc<QueueSlot>> = self.queues.lock().values().cloned().collect();
        slots.sort_by(|a, b| a.mq.cmp(&b.mq));
        let mq_table: Vec<String> = slots
            .iter()
            .map(|slot| {
                let key =
                    json!({"brokerName": slot.mq.broker_name, "queueId": slot.mq.queue_id, "topic": slot.mq.topic});
                format!("{key}:{}", self.process_queue_info(slot))
            })
            .collect();
        format!(
            r#"{{"properties":{properties},"subscriptionSet":{},"mqTable":{{{}}},"statusTable":{{}}}}"#,
            serde_json::Value::Array(subs),
            mq_table.join(",")
        )
        .into_bytes()
    }

    /// One queue's entry of the running info (Java `ProcessQueueInfo`).
    fn process_queue_info(&self, slot: &QueueSlot) -> serde_json::Value {
        let pq = slot.pq.lock();
        let (min, max) = pq.cached_range().unwrap_or((0, 0));
        json!({
            "commitOffset": self.offsets.get(&slot.mq).unwrap_or_else(|| pq.commit_offset()),
            "cachedMsgMinOffset": min,
            "cachedMsgMaxOffset": max,
            "cachedMsgCount": pq.count(),
            "cachedMsgSizeInMiB": pq.cached_bytes() / (1024 * 1024),
            "transactionMsgMinOffset": 0,
            "transactionMsgMaxOffset": 0,
            "transactionMsgCount": 0,
            "locked": self.orderly() && self.clustering() && slot.lock_valid(),
            "tryUnlockTimes": 0,
            "lastLockTimestamp": 0,
            "droped": slot.dropped(),
            "lastPullTimestamp": slot.last_pull_ms.load(Ordering::Relaxed),
            "lastConsumeTimestamp": slot.last_consume_ms.load(Ordering::Relaxed),
        })
    }
}

impl GroupRequestHandler for Engine {
    fn handle(&self, _instance: &Arc<ClientInstance>, req: InboundRequest) {
        let code = req.command.code;
        match code {
            request::NOTIFY_CONSUMER_IDS_CHANGED => {
                tracing::debug!(group = %self.group, "group membership changed; rebalancing");
                self.rebalance_now.notify_one();
            }
            request::GET_CONSUMER_RUNNING_INFO => {
                req.responder
                    .respond(RemotingCommand::response(response::SUCCESS, 0, None).with_body(self.running_info()));
            }
            request::CONSUME_MESSAGE_DIRECTLY => self.consume_directly(req),
            request::RESET_CONSUMER_CLIENT_OFFSET => match parse_reset_offsets(&req.command.body) {
                Ok(offsets) => self.reset_offsets(offsets),
                Err(e) => crate::log_limit::warn_limited!(error = %e, "unreadable offset reset request"),
            },
            _ => req.responder.respond(RemotingCommand::response(
                response::REQUEST_CODE_NOT_SUPPORTED,
                0,
                Some(format!("request code {code} is not supported by this consumer")),
            )),
        }
    }
}

/// The body of RESET_CONSUMER_CLIENT_OFFSET: `{"offsetTable":{<MessageQueue>:offset,...}}`, or
/// the list form brokers send to C++ clients.
pub(crate) fn parse_reset_offsets(body: &[u8]) -> Result<Vec<(MessageQueue, i64)>> {
    let v = lenient_json::parse(body)?;
    let bad = || Error::protocol("offset reset body has no readable offsetTable");
    match v.get("offsetTable") {
        Some(serde_json::Value::Object(map)) => {
            map.iter().map(|(k, o)| Ok((MessageQueue::from_json_key(k)?, o.as_i64().ok_or_else(bad)?))).collect()
        }
        Some(serde_json::Value::Array(list)) => list
            .iter()
            .map(|e| {
                let mq: MessageQueue = serde_json::from_value(e.clone()).map_err(|_| bad())?;
                Ok((mq, e.get("offset").and_then(|o| o.as_i64()).ok_or_else(bad)?))
            })
            .collect(),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_listener_counts_as_failed() {
        assert_eq!(call_listener("ok", || 7), Some(7));
        assert_eq!(call_listener("p", || -> i32 { panic!("listener panic (expected by the test)") }), None);
    }

    #[test]
    fn reset_bodies_in_both_forms() {
        let java = br#"{"offsetTable":{{"brokerName":"b","queueId":1,"topic":"T"}:7}}"#;
        assert_eq!(parse_reset_offsets(java).unwrap(), vec![(MessageQueue::new("T", "b", 1), 7)]);
        let cpp = br#"{"offsetTable":[{"brokerName":"b","queueId":2,"topic":"T","offset":9}]}"#;
        assert_eq!(parse_reset_offsets(cpp).unwrap(), vec![(MessageQueue::new("T", "b", 2), 9)]);
        assert!(parse_reset_offsets(b"{}").is_err());
        assert!(parse_reset_offsets(b"not json").is_err());
    }
}
