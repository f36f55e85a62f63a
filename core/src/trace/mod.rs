//! Message traces in the Apache RocketMQ Java client's format (docs/traces.md).
//!
//! This module owns what a traced client adds to its work: the records ([`record`]: `Pub` for a
//! send, `SubBefore`/`SubAfter` around a listener call, `EndTransaction`), and the [`Tracer`]
//! that a producer or consumer with `MsgTraceSwitch` on (the default) hands them to. The tracer
//! keeps them in a bounded queue and a task of its own batches them into messages of the trace
//! topic (with `AccessChannel=CLOUD`, one topic per region: [`CLOUD_TRACE_TOPIC_PREFIX`] and the
//! region the records name), sent by an internal producer of the same client instance (group
//! `_INNER_TRACE_PRODUCER-<group>-<PRODUCE|CONSUME>`, whose own sends are not traced). Nothing
//! of this is on a business call's path beyond building a record and a non-blocking push: a
//! full queue drops the record and counts it, a failing trace send is logged at most once per
//! [`log_limit::INTERVAL`](crate::log_limit::INTERVAL), and a trace topic that does not exist
//! (brokers create `RMQ_SYS_TRACE_TOPIC` only with `traceTopicEnable=true`) pauses trace sends
//! for [`MISSING_TOPIC_PAUSE`], dropping (and counting) what comes meanwhile (with `CLOUD`, a
//! missing region topic pauses the sends to every region's: clients see one region in practice).
//!
//! Sources: Apache RocketMQ `client/src/main/java/org/apache/rocketmq/client/trace/`
//! (`AsyncTraceDispatcher.java` for batching and the trace message's keys,
//! `TraceConstants.java` for names, `hook/SendMessageTraceHookImpl.java` and
//! `hook/ConsumeMessageTraceHookImpl.java` for what each record holds).

pub mod record;

use parking_lot::Mutex;
use std::collections::HashSet;
use std::ops::Range;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use futures_util::stream::{FuturesUnordered, StreamExt};
use tokio::runtime::Handle;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::client::instance::ClientInstance;
use crate::config::{AccessChannel, ClientConfig};
use crate::error::ErrorKind;
use crate::hashing::WordHashing;
use crate::log_limit::warn_limited;
use crate::message::Message;
use crate::producer::ProducerCore;
use crate::protocol::msgid::InlineId;
use record::Spans;
pub use record::TraceRecord;

/// The default trace topic (Java `TopicValidator.RMQ_SYS_TRACE_TOPIC`).
pub const DEFAULT_TRACE_TOPIC: &str = "RMQ_SYS_TRACE_TOPIC";
/// What the `CLOUD` access channel's trace topics start with, the region following (Java
/// `TraceConstants.TRACE_TOPIC_PREFIX`: `TopicValidator.SYSTEM_TOPIC_PREFIX` + `TRACE_DATA_`).
pub const CLOUD_TRACE_TOPIC_PREFIX: &str = "rmq_sys_TRACE_DATA_";
/// The region of a record when the broker names none (Java `MixAll.DEFAULT_TRACE_REGION_ID`).
pub const DEFAULT_TRACE_REGION: &str = "DefaultRegion";
/// Prefix of the trace producer's group (Java `TraceConstants.GROUP_NAME_PREFIX`).
pub const TRACE_GROUP_PREFIX: &str = "_INNER_TRACE_PRODUCER";
/// Records queued for sending at most. Java's `traceContextQueue` holds 2048 contexts, each
/// the records of one traced call (a batch send's, a listener call's); this queue counts
/// records. 8192 of them are some 130 ms of a consumer draining 30k messages a second (two
/// records each), and at most about 2.5 MB while queued: with 2048, a drain that kept the
/// broker's core busy lost records in some segments of a benchmark, as the broker answered the
/// trace sends in flight too slowly (docs/traces.md).
pub const QUEUE_CAPACITY: usize = 8192;
/// Records queued that end the sending task's wait for more ([`BATCH_WAIT`]): a batch's worth.
pub const TAKE_AT: usize = 400;
/// Records per trace message at most. Java caps its `batchNum` at 20; here a trace message carries up
/// to 1000 (a consumer's records are about 150 bytes each, so [`MAX_TRACE_BODY`] ends one at some
/// 850, and [`MAX_TRACE_KEYS`] earlier when the records' ids and keys run long), because a trace
/// message's send is a large part of what tracing costs per record: a consumer writes two
/// records per message, and at 20 records a trace message its tracing cost two thirds of its
/// untraced instructions per message (docs/traces.md). More than [`TAKE_AT`], so that a batch
/// taken as the record that made [`TAKE_AT`] woke the task, plus what came while it woke, goes as
/// one message, not a full one and a small remainder (a drain of 100k messages sent 390 trace
/// messages instead of about 800). Readers (Java's `decoderFromTraceDataString`,
/// `queryMsgTraceById`, which looks the message up by one of its keys) take any number of
/// records per message.
pub const MESSAGE_RECORDS_MAX: usize = 1000;
/// Trace messages being sent at most at once.
const SENDS_IN_FLIGHT: usize = 16;
/// A trace message's body at most, in bytes (Java's trace producer `maxMessageSize`, 128000).
pub const MAX_TRACE_BODY: usize = 128_000;
/// A trace message's `KEYS` property at most, in bytes: a broker stores a message's properties
/// only up to 32767 bytes (their length is a 16-bit field), and the keys are most of them.
pub const MAX_TRACE_KEYS: usize = 24_000;
/// How long a batch that is not full waits for more records after its first one. Short, so
/// that a burst after a quiet spell fills little of the queue meanwhile (8192 records in 20 ms
/// is a rate of 400k per second).
const BATCH_WAIT: Duration = Duration::from_millis(20);
/// How long trace sends pause after the trace topic was found missing.
pub const MISSING_TOPIC_PAUSE: Duration = Duration::from_secs(30);
/// How long a shutdown waits for queued records to be sent (Java's `AsyncTraceDispatcher.flush`
/// waits 500 ms too).
pub const FLUSH_BOUND: Duration = Duration::from_millis(500);
/// Timeout of one trace send (the Java trace producer's `sendMsgTimeout` is 5 s; shorter
/// here, so that a broker that stops answering holds the queue up less long).
const TRACE_SEND_TIMEOUT: Duration = Duration::from_millis(2500);

/// What a client's tracer did with its trace records: sent (stored by a broker) and dropped
/// (queue full, trace topic missing, failed trace sends). Records still queued are in neither.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TraceCounts {
    pub sent: u64,
    pub dropped: u64,
}

/// Which kind of client a tracer serves; part of the trace producer's group name.
#[derive(Clone, Copy, Debug)]
pub enum TracedKind {
    Produce,
    Consume,
}

/// Hands a client's trace records to the trace topic, off the caller's path.
pub struct Tracer {
    /// The traced client's group, without namespace; the consume records name it.
    group: String,
    worker: Mutex<Option<JoinHandle<()>>>,
    shared: Arc<Shared>,
}

/// What the tracer and its sending task share.
struct Shared {
    producer: ProducerCore,
    destination: Destination,
    /// Records waiting for the sending task. A locked vector, not a channel: a push is a few
    /// instructions under an uncontended lock, where a channel's send and receive cost more
    /// than encoding the record (docs/traces.md).
    queue: Mutex<Pending>,
    /// Records the queue holds at most ([`QUEUE_CAPACITY`]).
    capacity: usize,
    /// Wakes the sending task when a record arrives in an empty queue, or the tracer stops.
    arrived: Notify,
    /// Records dropped: queue full, trace topic missing, or a failed trace send.
    dropped: AtomicU64,
    /// Records sent in trace messages the broker stored.
    sent: AtomicU64,
    /// Until when (ms since the epoch) trace sends pause because the trace topic is missing;
    /// 0 when they do not. Records traced meanwhile are dropped before they are encoded: with
    /// `MsgTraceSwitch` on by default and brokers creating the trace topic only when told to,
    /// a client on such a cluster would otherwise encode every record for nothing.
    paused_until_ms: AtomicI64,
    /// Buffers of batches whose trace messages are sent, for later batches.
    spares: Arc<Spares>,
}

/// Which topic trace messages go to.
enum Destination {
    /// One topic (`LOCAL` access channel): `traceTopicName`.
    Topic(String),
    /// `CLOUD` access channel: [`CLOUD_TRACE_TOPIC_PREFIX`] and the region of the records
    /// (Java `AsyncTraceDispatcher`, `TraceConstants.TRACE_TOPIC_PREFIX + regionId`); records
    /// of different regions go in different messages.
    PerRegion,
}

impl Destination {
    fn of(config: &ClientConfig) -> Destination {
        match config.access_channel {
            AccessChannel::Local => Destination::Topic(config.trace_topic.clone()),
            AccessChannel::Cloud => Destination::PerRegion,
        }
    }

    /// The topic of a trace message whose records name `region`.
    fn topic(&self, region: &str) -> String {
        match self {
            Destination::Topic(topic) => topic.clone(),
            Destination::PerRegion => format!("{CLOUD_TRACE_TOPIC_PREFIX}{region}"),
        }
    }

    /// Whether records are sorted by region (their trace topic).
    fn per_region(&self) -> bool {
        matches!(self, Destination::PerRegion)
    }
}

static TRACER_COUNTER: AtomicUsize = AtomicUsize::new(0);

impl Tracer {
    /// A started tracer for a client with `config`, or `None` when its `MsgTraceSwitch` is off
    /// or the internal producer cannot start (logged; the client works untraced). `group` is
    /// the client's group without namespace. Needs `runtime` for its sending task.
    pub(crate) fn start(config: &ClientConfig, kind: TracedKind, runtime: &Handle) -> Option<Arc<Tracer>> {
        if !config.msg_trace {
            return None;
        }
        let mut trace_config = config.clone();
        let kind_name = match kind {
            TracedKind::Produce => "PRODUCE",
            TracedKind::Consume => "CONSUME",
        };
        let n = TRACER_COUNTER.fetch_add(1, Ordering::Relaxed) + 1;
        trace_config.group_id = format!("{TRACE_GROUP_PREFIX}-{}-{kind_name}-{n}", config.group_id);
        // Trace messages are not traced, and carry no timed delivery or compression worth it.
        trace_config.msg_trace = false;
        trace_config.send_timeout = TRACE_SEND_TIMEOUT;
        trace_config.compress_over_bytes = usize::MAX;
        let producer = ProducerCore::new(trace_config);
        let _guard = runtime.enter();
        if let Err(e) = producer.start(None) {
            tracing::warn!(error = %e, "message traces are off for this client: the trace producer did not start");
            return None;
        }
        let shared = Arc::new(Shared::new(producer, Destination::of(config), QUEUE_CAPACITY));
        let worker = runtime.spawn(shared.clone().run());
        Some(Arc::new(Tracer { group: config.group_id.clone(), worker: Mutex::new(Some(worker)), shared }))
    }

    /// Queues a record; never waits. A full queue drops it (counted, logged at most once per
    /// interval).
    pub fn append(&self, record: TraceRecord) {
        let region = record.region_id().unwrap_or(DEFAULT_TRACE_REGION);
        self.queue(|out| record.encode_spans(out), KeysOf::Any, region);
    }

    /// Queues a `Pub` record encoded straight from the send's fields (see [`append`](Self::append)).
    /// `fields.msg_id` must be the id the producer made for the send ([`KeysOf::FreshId`]).
    pub(crate) fn append_pub(&self, fields: &record::PubFields<'_>) {
        self.queue(|out| fields.encode(out), KeysOf::of_send(fields.keys), fields.region_id);
    }

    /// Queues the `Pub` records of one batch send: the fields the messages share are encoded
    /// once, and the records pushed under one lock (see [`append`](Self::append)).
    pub(crate) fn append_pubs<'m>(
        &self,
        shared_fields: &record::PubBatchFields<'_>,
        messages: impl Iterator<Item = record::PubOfBatch<'m>>,
    ) {
        let mut encoder = record::PubBatchEncoder::new(shared_fields);
        let region = self.region_of(shared_fields.region_id);
        let mut first = true;
        self.queue_each(messages, |queued, m| {
            queued.push_record(|out| encoder.encode(&m, out), !first, KeysOf::of_send(m.keys), region);
            first = false;
        });
    }

    /// The region a record of `region` is queued under: `None` unless its trace topic depends
    /// on it (the `CLOUD` access channel).
    fn region_of<'r>(&self, region: &'r str) -> Option<&'r str> {
        self.cloud().then_some(region)
    }

    /// Whether records go to a topic per region (the `CLOUD` access channel), whose
    /// `SubAfter` records are written in the cloud form.
    fn cloud(&self) -> bool {
        self.shared.destination.per_region()
    }

    /// Queues the record `encode` writes (at the end of the queue's text, under its lock:
    /// encoding in place costs no allocation per record, where a record of its own did).
    /// `region` is the region the record names (its trace topic's with `CLOUD`). Returns the
    /// record's sequence number ([`Queued::first_seq`]), `None` when it was not queued.
    fn queue(&self, encode: impl FnOnce(&mut String) -> Spans, keys: KeysOf, region: &str) -> Option<u64> {
        let run = self.queue_each(std::iter::once(encode), |queued, encode| {
            queued.push_record(encode, false, keys, self.region_of(region));
        });
        run.seq_of(0)
    }

    /// Queues a record for each of `items`, all under one lock, `push` writing each (one
    /// record per call); never waits. What does not fit a full queue is dropped (counted,
    /// logged at most once per interval); while trace sends pause every item is dropped
    /// before it is encoded; after the tracer stopped nothing is queued or counted. Every item
    /// is taken from `items` in each case (a caller may note something as they go by).
    fn queue_each<T>(&self, items: impl Iterator<Item = T>, mut push: impl FnMut(&mut Queued, T)) -> QueuedRun {
        let shared = &*self.shared;
        if shared.paused() {
            shared.dropped.fetch_add(items.count() as u64, Ordering::Relaxed);
            return QueuedRun::NONE;
        }
        let mut pending = shared.queue.lock();
        if pending.closed {
            drop(pending);
            items.for_each(drop);
            return QueuedRun::NONE;
        }
        let before = pending.records.len();
        let first = pending.records.next_seq();
        let mut lost = 0u64;
        for item in items {
            if pending.records.len() >= shared.capacity {
                lost += 1;
            } else {
                push(&mut pending.records, item);
            }
        }
        let run = QueuedRun { first, count: pending.records.len() - before };
        let woken = wakes_the_task(before, pending.records.len());
        drop(pending);
        if lost > 0 {
            let dropped = shared.dropped.fetch_add(lost, Ordering::Relaxed) + lost;
            warn_limited!(dropped, group = %self.group, "message trace queue full; trace records dropped");
        }
        if woken {
            shared.arrived.notify_one();
        }
        run
    }

    /// What the tracer has done with its records so far.
    pub fn counts(&self) -> TraceCounts {
        TraceCounts { sent: self.sent(), dropped: self.dropped() }
    }

    /// Records dropped so far (queue full, trace topic missing, failed trace sends).
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }

    /// Records the broker stored so far.
    pub fn sent(&self) -> u64 {
        self.shared.sent.load(Ordering::Relaxed)
    }

    /// Sends what is queued, within [`FLUSH_BOUND`] (the rest is dropped), and takes
    /// the trace producer off its instance without telling the brokers: its registration,
    /// for [`shutdown_with`] to unregister together with the client's own. Records appended
    /// afterwards are ignored.
    async fn stop(&self) -> Option<(Arc<ClientInstance>, u64)> {
        self.shared.queue.lock().closed = true;
        self.shared.arrived.notify_one();
        let worker = self.worker.lock().take();
        if let Some(mut worker) = worker {
            if tokio::time::timeout(FLUSH_BOUND, &mut worker).await.is_err() {
                worker.abort();
                tracing::debug!("message traces still queued at shutdown were dropped");
            }
        }
        self.shared.producer.detach()
    }
}

impl Drop for Tracer {
    /// A tracer dropped without [`Tracer::stop`] (its client dropped unstopped) still ends its
    /// task, after the task has sent what is queued.
    fn drop(&mut self) {
        self.shared.queue.lock().closed = true;
        self.shared.arrived.notify_one();
    }
}

/// The end of a traced client's shutdown: flushes `tracer` (within [`FLUSH_BOUND`]), then
/// unregisters the client's `member` of `instance` and the trace producer together (one
/// broker call timeout for both).
pub(crate) async fn shutdown_with(instance: &Arc<ClientInstance>, member: u64, tracer: Option<Arc<Tracer>>) {
    let trace_member = match tracer {
        Some(tracer) => tracer.stop().await,
        None => None,
    };
    match trace_member {
        None => instance.unregister(member).await,
        Some((trace_instance, id)) if Arc::ptr_eq(&trace_instance, instance) => {
            instance.unregister_many(&[member, id]).await
        }
        Some((trace_instance, id)) => {
            tokio::join!(instance.unregister(member), trace_instance.unregister(id));
        }
    }
}

/// A client's tracer while it runs, and what its last tracer counted once shut down: what
/// `trace_counts()` of every producer and consumer reads.
#[derive(Default)]
pub(crate) struct TracerSlot {
    live: Mutex<Option<Arc<Tracer>>>,
    /// The counts of the tracer of the last run, once it has shut down (its queue flushed).
    last_run: Mutex<Option<TraceCounts>>,
}

impl TracerSlot {
    /// Starts a tracer for a client with `config` (none when `MsgTraceSwitch` is off).
    pub(crate) fn start(&self, config: &ClientConfig, kind: TracedKind, runtime: &Handle) {
        *self.live.lock() = Tracer::start(config, kind, runtime);
    }

    /// The running tracer, if the client traces.
    pub(crate) fn get(&self) -> Option<Arc<Tracer>> {
        self.live.lock().clone()
    }

    /// Flushes the tracer and unregisters the client's `member` with it (see [`shutdown_with`]),
    /// keeping the tracer's final counts.
    pub(crate) async fn shut_down_with(&self, instance: &Arc<ClientInstance>, member: u64) {
        let tracer = self.live.lock().take();
        let counted = tracer.clone();
        shutdown_with(instance, member, tracer).await;
        if let Some(counted) = counted {
            *self.last_run.lock() = Some(counted.counts());
        }
    }

    /// Drops the tracer of a client that was not started with an instance to unregister from
    /// (its task ends once it has sent what is queued), keeping its counts.
    pub(crate) fn stop_unregistered(&self) {
        if let Some(tracer) = self.live.lock().take() {
            *self.last_run.lock() = Some(tracer.counts());
        }
    }

    /// The running tracer's counts, else the last run's; `None` when the client never traced.
    pub(crate) fn counts(&self) -> Option<TraceCounts> {
        match self.get() {
            Some(tracer) => Some(tracer.counts()),
            None => *self.last_run.lock(),
        }
    }
}

/// Java `ConsumeReturnType`, whose ordinal a `SubAfter` record carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConsumeReturn {
    Success = 0,
    Timeout = 1,
    /// The listener panicked (threw).
    Exception = 2,
    ReturnNull = 3,
    Failed = 4,
}

/// A listener call being traced: its `SubBefore` records are queued, its `SubAfter` ones
/// follow from [`ConsumeTrace::after`].
pub(crate) struct ConsumeTrace {
    tracer: Arc<Tracer>,
    request_id: InlineId,
    /// When the call started, ms since the epoch: the `SubBefore` records' timestamp, from
    /// which the `SubAfter` cost is counted, as Java's `ConsumeMessageTraceHookImpl` counts it
    /// (a monotonic clock read and compared for each call cost more than the records' encoding
    /// of a number).
    started_ms: i64,
    /// The messages handed over, traced or not (the cost is divided by all of them, as in Java).
    messages: Arc<[Message]>,
    /// Where in `messages` those not traced are (rarely any), so that the `SubAfter` records
    /// skip them without reading their properties again.
    untraced: Vec<usize>,
    /// The `SubBefore` records queued, one per traced message in order (fewer when the queue
    /// was full): a `SubAfter` names the ids and keys its `SubBefore` named
    /// ([`KeysOf::SameAs`]).
    sub_befores: QueuedRun,
}

/// What the consume records of `m` carry: its id, keys and region; `None` when it is not
/// traced (the broker stored it with `TRACE_ON=false`, or it has no id).
fn consumed_fields(m: &Message) -> Option<(&str, Option<&str>, &str)> {
    if m.received.as_ref().is_some_and(|r| r.trace_marks.trace_off) {
        return None;
    }
    let msg_id = m.msg_id.as_deref()?;
    Some((msg_id, consumed_keys(m), consumed_region(m)))
}

/// The region a consume record of `m` names: its `MSG_REGION` property, which the broker that
/// stored it set, or [`DEFAULT_TRACE_REGION`] (Java writes `null` then, and its `CLOUD` channel
/// skips the record or sends it to `rmq_sys_TRACE_DATA_null`, depending on the version).
fn consumed_region(m: &Message) -> &str {
    m.received
        .as_ref()
        .and_then(|r| r.properties.at(r.trace_marks.region.clone()?))
        .filter(|r| !r.is_empty())
        .unwrap_or(DEFAULT_TRACE_REGION)
}

/// The keys a consume record of `m` carries.
fn consumed_keys(m: &Message) -> Option<&str> {
    m.key.as_deref().filter(|k| !k.is_empty())
}

impl Tracer {
    /// Queues the `SubBefore` records of a listener call with `messages`, which started at
    /// `now` (ms since the epoch, as the caller read it for the call: one clock read per call
    /// fewer); messages the broker marked `TRACE_ON=false` are left out. `None` when none is
    /// traced.
    pub(crate) fn before(self: &Arc<Self>, messages: &Arc<[Message]>, now: i64) -> Option<ConsumeTrace> {
        let request_id = crate::client::identity::unique_ids().next_inline_id_at(now);
        let mut untraced = Vec::new();
        let traced = messages.iter().enumerate().filter_map(|(at, m)| {
            let fields = consumed_fields(m);
            if fields.is_none() {
                untraced.push(at);
            }
            fields.map(|fields| (m, fields))
        });
        let sub_befores = self.queue_each(traced, |queued, (m, (msg_id, keys, region_id))| {
            let fields = self.sub_before_fields(now, request_id.as_str(), msg_id, keys, region_id, m);
            queued.push_record(|out| fields.encode(out), false, KeysOf::Any, self.region_of(region_id));
        });
        (untraced.len() < messages.len()).then(|| ConsumeTrace {
            tracer: self.clone(),
            request_id,
            started_ms: now,
            messages: messages.clone(),
            untraced,
            sub_befores,
        })
    }

    /// Queues a `SubBefore` and a successful `SubAfter` record for each of `messages`, handed
    /// to the application at once (the pull consumer's `poll`, as Java's lite pull consumer
    /// traces it).
    pub(crate) fn handed_over(&self, messages: &[Message]) {
        let now = crate::message::now_ms();
        let request_id = crate::client::identity::unique_ids().next_inline_id_at(now);
        let request_id = request_id.as_str();
        for m in messages {
            if let Some((msg_id, keys, region_id)) = consumed_fields(m) {
                let before = self.sub_before_fields(now, request_id, msg_id, keys, region_id, m);
                let sub_before = self.queue(|out| before.encode(out), KeysOf::Any, region_id);
                let outcome = ConsumeOutcome { cost_ms: 0, success: true, code: ConsumeReturn::Success, now };
                let after = self.sub_after_fields(request_id, msg_id, keys, &outcome);
                self.queue(|out| after.encode(out), KeysOf::after(sub_before), region_id);
            }
        }
    }

    /// The `SubBefore` record of `m`, whose id, keys and region are given.
    fn sub_before_fields<'a>(
        &'a self,
        now: i64,
        request_id: &'a str,
        msg_id: &'a str,
        keys: Option<&'a str>,
        region_id: &'a str,
        m: &Message,
    ) -> record::SubBeforeFields<'a> {
        record::SubBeforeFields {
            timestamp: now,
            region_id,
            group: &self.group,
            request_id,
            msg_id,
            retry_times: m.reconsume_times,
            keys,
        }
    }

    /// The `SubAfter` record of message `msg_id` with `keys`.
    fn sub_after_fields<'a>(
        &'a self,
        request_id: &'a str,
        msg_id: &'a str,
        keys: Option<&'a str>,
        outcome: &ConsumeOutcome,
    ) -> record::SubAfterFields<'a> {
        record::SubAfterFields {
            request_id,
            msg_id,
            cost_ms: outcome.cost_ms,
            success: outcome.success,
            keys,
            context_code: outcome.code as i32,
            timestamp: outcome.now,
            group: &self.group,
            cloud: self.cloud(),
        }
    }
}

/// How a listener call ended, as its `SubAfter` records tell.
struct ConsumeOutcome {
    /// The call's time divided by its messages, ms.
    cost_ms: i64,
    success: bool,
    code: ConsumeReturn,
    /// When it returned, ms since the epoch.
    now: i64,
}

impl ConsumeTrace {
    /// Queues the `SubAfter` records: `success` as the listener answered, `code` how.
    pub(crate) fn after(self, success: bool, code: ConsumeReturn) {
        let now = crate::message::now_ms();
        // A wall clock set back makes no negative cost.
        let cost_ms = (now - self.started_ms).max(0) / self.messages.len().max(1) as i64;
        let outcome = ConsumeOutcome { cost_ms, success, code, now };
        let tracer = &*self.tracer;
        // A traced message has an id (`consumed_fields`).
        let traced = self
            .messages
            .iter()
            .enumerate()
            .filter(|(at, _)| !self.untraced.contains(at))
            .filter_map(|(_, m)| Some((m, m.msg_id.as_deref()?)));
        let mut rank = 0;
        tracer.queue_each(traced, |queued, (m, msg_id)| {
            let fields = tracer.sub_after_fields(self.request_id.as_str(), msg_id, consumed_keys(m), &outcome);
            let keys = KeysOf::after(self.sub_befores.seq_of(rank));
            rank += 1;
            queued.push_record(|out| fields.encode(out), false, keys, tracer.region_of(consumed_region(m)));
        });
    }
}

/// Records [`Tracer::queue_each`] queued: the sequence numbers `first..first + count`
/// ([`Queued::first_seq`]).
#[derive(Clone, Copy)]
struct QueuedRun {
    first: u64,
    count: usize,
}

impl QueuedRun {
    const NONE: QueuedRun = QueuedRun { first: 0, count: 0 };

    /// The sequence number of the `i`-th record queued; `None` when fewer were.
    fn seq_of(&self, i: usize) -> Option<u64> {
        (i < self.count).then(|| self.first + i as u64)
    }
}

/// Whether a push that took the queue from `before` to `after` records wakes the sending task:
/// the first record of an empty queue does (the task then waits [`BATCH_WAIT`] for more), and
/// so does the one that makes a batch's worth ([`TAKE_AT`]), which ends that wait. The
/// others do not: a task woken per record costs the traced call a futex call each.
fn wakes_the_task(before: usize, after: usize) -> bool {
    (before == 0 && after > 0) || (before < TAKE_AT && after >= TAKE_AT)
}

/// The queue of records between the traced calls and the sending task.
struct Pending {
    records: Queued,
    /// Set by [`Tracer::stop`]: records are no longer taken, and the task ends once it has
    /// sent what is queued.
    closed: bool,
}

impl Shared {
    fn new(producer: ProducerCore, destination: Destination, capacity: usize) -> Self {
        Shared {
            producer,
            destination,
            queue: Mutex::new(Pending { records: Queued::default(), closed: false }),
            capacity,
            arrived: Notify::new(),
            dropped: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            paused_until_ms: AtomicI64::new(0),
            spares: Arc::default(),
        }
    }

    /// How many records are queued; whether the tracer has stopped.
    fn queued(&self) -> (usize, bool) {
        let pending = self.queue.lock();
        (pending.records.len(), pending.closed)
    }

    /// The queued records, oldest first ([`pack`] makes them messages of up to [`MESSAGE_RECORDS_MAX`]).
    fn take_batch(&self) -> Queued {
        let (text, records) = (self.spares.take_text(), self.spares.take_records());
        self.queue.lock().records.take_all(text, records)
    }

    /// The sending task: takes what is queued, after waiting [`BATCH_WAIT`] once for more when
    /// that is less than a batch's [`TAKE_AT`] records, and sends it as trace messages
    /// ([`pack`]). Ends when the tracer has stopped and the queue is empty.
    ///
    /// It waits with a timer, not on the queue: a task woken by every record costs the traced
    /// client a futex call per record and the tracer a context switch. Only the record that
    /// finds the queue empty and the one that makes [`TAKE_AT`] wake it ([`wakes_the_task`]).
    ///
    /// Trace messages go out several at once ([`SENDS_IN_FLIGHT`]), as Java's (asynchronous
    /// sends from a pool of up to 4 threads): one at a time, a producer sending faster than a
    /// batch per broker round trip would fill the queue and lose most of its records. The
    /// sends are futures polled by this task, not tasks of their own: a spawned task is an
    /// allocation with the task's alignment, which glibc's `memalign` serves slowly.
    async fn run(self: Arc<Self>) {
        let mut sending = FuturesUnordered::new();
        loop {
            // Wait for a first record, driving the sends meanwhile. Records stay queued until
            // the batch is taken, at once (taking the first and adding the others later moved
            // their text twice).
            let (queued, closed) = loop {
                let (queued, closed) = self.queued();
                if queued > 0 || closed {
                    break (queued, closed);
                }
                tokio::select! {
                    _ = self.arrived.notified() => {}
                    Some(()) = sending.next(), if !sending.is_empty() => {}
                }
            };
            if queued == 0 {
                break;
            }
            if queued < TAKE_AT && !closed {
                // Until the window ends, or a batch's worth is queued (a consumer draining
                // 100k messages a second writes 200k records a second: a full window of them
                // would overflow the queue), or the tracer stops.
                let window = tokio::time::sleep(BATCH_WAIT);
                tokio::pin!(window);
                loop {
                    tokio::select! {
                        _ = &mut window => break,
                        _ = self.arrived.notified() => {
                            let (queued, closed) = self.queued();
                            if queued >= TAKE_AT || closed {
                                break;
                            }
                        }
                        Some(()) = sending.next(), if !sending.is_empty() => {}
                    }
                }
            }
            let batch = self.take_batch();
            while sending.len() >= SENDS_IN_FLIGHT {
                sending.next().await;
            }
            let shared = self.clone();
            sending.push(async move { shared.send_batch(batch).await });
        }
        while sending.next().await.is_some() {}
    }

    /// Whether trace sends pause (see `paused_until_ms`).
    fn paused(&self) -> bool {
        let until = self.paused_until_ms.load(Ordering::Relaxed);
        until != 0 && crate::message::now_ms() < until
    }

    async fn send_batch(&self, batch: Queued) {
        if self.paused() {
            self.dropped.fetch_add(batch.len() as u64, Ordering::Relaxed);
            return;
        }
        let (messages, regions) = pack(batch, &self.spares);
        for PackedMessage { body, keys, count, region } in messages {
            let region = regions.get(usize::from(region)).map_or(DEFAULT_TRACE_REGION, String::as_str);
            let topic = self.destination.topic(region);
            let mut msg = Message::new(topic, None, body);
            msg.key = Some(keys);
            match self.producer.send_untraced(&msg).await {
                Ok(_) => {
                    self.sent.fetch_add(count as u64, Ordering::Relaxed);
                }
                Err(e) => {
                    self.dropped.fetch_add(count as u64, Ordering::Relaxed);
                    let dropped = self.dropped.load(Ordering::Relaxed);
                    if e.kind() == ErrorKind::TopicNotFound {
                        let until = crate::message::now_ms() + MISSING_TOPIC_PAUSE.as_millis() as i64;
                        self.paused_until_ms.store(until, Ordering::Relaxed);
                        warn_limited!(topic = %msg.topic, dropped, pause = ?MISSING_TOPIC_PAUSE,
                            "message trace topic not found (brokers create RMQ_SYS_TRACE_TOPIC with traceTopicEnable=true); trace records dropped");
                        return;
                    }
                    warn_limited!(topic = %msg.topic, dropped, error = %e, "message trace send failed; trace records dropped");
                }
            }
        }
    }
}

/// Packs records into trace messages as the Java dispatcher does: records of one traced topic
/// (and, with the `CLOUD` channel, of one region: one trace topic) together, a message's
/// records up to [`MESSAGE_RECORDS_MAX`], its body up to [`MAX_TRACE_BODY`] and its keys up to
/// [`MAX_TRACE_KEYS`] (a record that crosses a bound ends its message), and its keys the
/// message ids and keys of its records, space-separated (the broker indexes each, which is
/// what `queryMsgTraceById` looks up). Returns the messages and the regions their `region`
/// indexes.
///
/// A message whose records are one run of the queue's text (every message, unless the batch
/// mixes topics) has a slice of it as its body, not a copy; the text returns to `spares` once
/// the last of them is dropped ([`BatchText`]).
fn pack(batch: Queued, spares: &Arc<Spares>) -> (Vec<PackedMessage>, Vec<String>) {
    let mut planned: Vec<PlannedMessage> = Vec::new();
    {
        let mut keys = IndexKeys::with_capacity(batch.len() * 2, batch.keys_may_repeat);
        if batch.mixed_topics || batch.mixed_regions {
            // Records of one region and topic together, in their order.
            let mut records: Vec<QueuedRecord<'_>> = batch.iter().collect();
            records.sort_by(|a, b| (a.region, a.topic()).cmp(&(b.region, b.topic())));
            for group in records.chunk_by(|a, b| (a.region, a.topic()) == (b.region, b.topic())) {
                plan_group(group.iter().copied(), &mut keys, &mut planned);
            }
        } else {
            // One group, walked in place (collecting it first was a tenth of packing).
            plan_group(batch.iter(), &mut keys, &mut planned);
        }
    }
    spares.put_records(batch.records);
    let text = Bytes::from_owner(BatchText { text: batch.text, spares: spares.clone() });
    let messages = planned
        .into_iter()
        .map(|m| {
            let body = match &m.runs[..] {
                [run] => text.slice(run.clone()),
                runs => {
                    let mut body = Vec::with_capacity(m.body_len);
                    for run in runs {
                        body.extend_from_slice(&text[run.clone()]);
                    }
                    Bytes::from(body)
                }
            };
            PackedMessage { body, keys: m.keys, count: m.count, region: m.region }
        })
        .collect();
    (messages, batch.regions)
}

/// Plans the trace messages of `records`, a group of one region and traced topic, in order
/// ([`pack`]'s bounds), adding them to `planned`.
fn plan_group<'a>(
    records: impl Iterator<Item = QueuedRecord<'a>>,
    keys: &mut IndexKeys<'a>,
    planned: &mut Vec<PlannedMessage>,
) {
    let mut message = PlannedMessage::default();
    // Where the message's first record is in the queue: a record naming the keys of one at or
    // after it (its `SubBefore`, of its group since of its region) adds none.
    let mut message_start = 0;
    for r in records {
        if message.count == 0 {
            message_start = r.index;
            message.region = r.region;
        }
        message.add_text(r.at..r.at + r.text().len());
        if !r.repeats_keys_from(message_start) {
            r.for_each_index_key(|key| keys.add(key));
        }
        message.count += 1;
        if message.count >= MESSAGE_RECORDS_MAX || message.body_len >= MAX_TRACE_BODY || keys.len() >= MAX_TRACE_KEYS {
            message.keys = keys.take();
            planned.push(std::mem::take(&mut message));
        }
    }
    if message.count > 0 {
        message.keys = keys.take();
        planned.push(message);
    }
}

/// A trace message [`pack`] made.
struct PackedMessage {
    body: Bytes,
    /// The `KEYS` property: its records' ids and keys.
    keys: String,
    /// How many records it carries.
    count: usize,
    /// Its records' region: an index into the regions `pack` returns (0 when there are none).
    region: u16,
}

/// The text of a taken batch, owned by the bodies of its trace messages (slices of it). When
/// the last of them is dropped, the buffer goes back to [`Spares`] for a later batch: a
/// batch's text is some 80 KB, and glibc, besides the allocation and the free, consolidates
/// its free lists at every free of a chunk of 64 KB or more (`malloc.c`,
/// `FASTBIN_CONSOLIDATION_THRESHOLD`), which a profile of traced batch sends showed.
struct BatchText {
    text: String,
    spares: Arc<Spares>,
}

impl AsRef<[u8]> for BatchText {
    fn as_ref(&self) -> &[u8] {
        self.text.as_bytes()
    }
}

impl Drop for BatchText {
    fn drop(&mut self) {
        self.spares.put_text(std::mem::take(&mut self.text));
    }
}

/// How many buffers of each kind [`Spares`] keeps: a batch's text stays in use until the last
/// of its trace messages is sent, up to [`SENDS_IN_FLIGHT`] of them, so one spare was often
/// still in use when the next batch was taken, which then allocated its buffers afresh. With
/// mimalloc (every library this repository ships allocates with it) and its huge pages, a
/// traced drain spent 1.2-1.8 us more system time per message than an untraced one in A/B
/// pairs, 0.1-1.0 us with four of each kept (`bench_consumer drain-pairs`; docs/traces.md says
/// what remains).
const SPARES_KEPT: usize = 4;

/// The largest buffer [`Spares`] keeps, in bytes: a steady stream's batches (some [`TAKE_AT`]
/// records and what came while the task woke, up to about 120 KB of text, and twice that of
/// room) fit; what a burst grew
/// beyond goes back to the allocator, so that a tracer keeps at most a few MB after one.
const SPARE_MAX_BYTES: usize = 512 * 1024;

/// Buffers of sent batches kept for later ones: texts ([`BatchText`]) and record lists, up to
/// [`SPARES_KEPT`] of each and none over [`SPARE_MAX_BYTES`], the largest returned.
#[derive(Default)]
struct Spares {
    texts: Mutex<Vec<String>>,
    records: Mutex<Vec<Vec<RecordAt>>>,
}

impl Spares {
    /// The largest text kept, if any.
    fn take_text(&self) -> Option<String> {
        take_largest(&mut self.texts.lock(), String::capacity)
    }

    /// The largest record list kept, if any.
    fn take_records(&self) -> Option<Vec<RecordAt>> {
        take_largest(&mut self.records.lock(), Vec::capacity)
    }

    fn put_text(&self, mut text: String) {
        if text.capacity() <= SPARE_MAX_BYTES {
            text.clear();
            keep_largest(&mut self.texts.lock(), text, String::capacity);
        }
    }

    fn put_records(&self, mut records: Vec<RecordAt>) {
        if records.capacity() * std::mem::size_of::<RecordAt>() <= SPARE_MAX_BYTES {
            records.clear();
            keep_largest(&mut self.records.lock(), records, Vec::capacity);
        }
    }
}

fn take_largest<T>(kept: &mut Vec<T>, size: impl Fn(&T) -> usize) -> Option<T> {
    let at = (0..kept.len()).max_by_key(|&i| size(&kept[i]))?;
    Some(kept.swap_remove(at))
}

/// Keeps `item` in `kept` if there is room, or in place of a smaller one.
fn keep_largest<T>(kept: &mut Vec<T>, item: T, size: impl Fn(&T) -> usize) {
    if kept.len() < SPARES_KEPT {
        kept.push(item);
    } else if let Some(smallest) = (0..kept.len()).min_by_key(|&i| size(&kept[i])) {
        if size(&kept[smallest]) < size(&item) {
            kept[smallest] = item;
        }
    }
}

/// A trace message being packed: where its records are in the queue's text (records next to
/// each other there are one run, copied at once), its keys and how many records it has.
#[derive(Default)]
struct PlannedMessage {
    runs: Vec<Range<usize>>,
    body_len: usize,
    keys: String,
    count: usize,
    region: u16,
}

impl PlannedMessage {
    fn add_text(&mut self, text: Range<usize>) {
        self.body_len += text.len();
        match self.runs.last_mut() {
            Some(run) if run.end == text.start => run.end = text.end,
            _ => self.runs.push(text),
        }
    }
}

/// The distinct index keys of a trace message, space-separated in the order first seen (a
/// consumer's `SubBefore` and `SubAfter` records of a message name the same id).
struct IndexKeys<'a> {
    /// The keys written so far; none when they cannot repeat ([`Queued::keys_may_repeat`]).
    seen: Option<HashSet<&'a str, WordHashing>>,
    joined: String,
    /// What `joined` reserves when its first key comes (growing it by doubling copied it
    /// about as often as it has keys).
    joined_capacity: usize,
}

impl<'a> IndexKeys<'a> {
    /// Room for `keys` keys without growing; `may_repeat` when some key may be added twice.
    fn with_capacity(keys: usize, may_repeat: bool) -> Self {
        // Most keys are message ids (32 characters and a space).
        let joined_capacity = (keys * 33).min(MAX_TRACE_KEYS + 256);
        IndexKeys {
            seen: may_repeat.then(|| HashSet::with_capacity_and_hasher(keys, WordHashing::default())),
            joined: String::new(),
            joined_capacity,
        }
    }

    fn add(&mut self, key: &'a str) {
        if self.seen.as_mut().is_none_or(|seen| seen.insert(key)) {
            if self.joined.is_empty() {
                self.joined.reserve(self.joined_capacity);
            } else {
                self.joined.push(' ');
            }
            self.joined.push_str(key);
        }
    }

    /// The joined keys' length, in bytes.
    fn len(&self) -> usize {
        self.joined.len()
    }

    /// The joined keys; starts the next message's.
    fn take(&mut self) -> String {
        if let Some(seen) = &mut self.seen {
            seen.clear();
        }
        std::mem::take(&mut self.joined)
    }
}

/// Records as queued: their texts one after the other in one buffer, encoded there by the
/// traced calls (no allocation per record, and the fields are not copied into a record
/// first), and where each record is, with where its topic, message id and keys are in it.
#[derive(Default)]
struct Queued {
    text: String,
    /// Per record: its span of `text`, and its fields' spans relative to the record's start.
    records: Vec<RecordAt>,
    /// The regions records were queued under, each once, in the order first seen: only with
    /// the `CLOUD` access channel, whose trace topic is the region's (else empty, and every
    /// record's `region` is 0).
    regions: Vec<String>,
    /// Whether records were queued under more than one region: only then does [`pack`] group
    /// them by region.
    mixed_regions: bool,
    /// Whether some record's topic differs from the record's before it: only then does
    /// [`pack`] group the records by topic (a producer sending to one topic, and every
    /// consumer, whose records name none, never pay for it).
    mixed_topics: bool,
    /// Whether some record's index keys may be another's too ([`KeysOf`]): only then does
    /// [`pack`] keep a set of the keys it has written (for a producer's records, whose keys
    /// cannot repeat, the set was a quarter of packing's instructions).
    keys_may_repeat: bool,
    /// The sequence number of the first record: records are numbered in the order queued,
    /// from 0 for a tracer's first, so that a record can name an earlier one
    /// ([`KeysOf::SameAs`]) that may since have been taken.
    first_seq: u64,
}

/// Where a queued record is in [`Queued::text`].
struct RecordAt {
    /// Its span of the text.
    text: Range<usize>,
    /// Its fields' spans, relative to the record's start.
    spans: Spans,
    /// Its region's index in [`Queued::regions`] (0 when there are none).
    region: u16,
    /// How many records before it is the one whose index keys it names again (its
    /// `SubBefore`, [`KeysOf::SameAs`]); 0 when there is none in this queue.
    repeats: u16,
}

/// What a queued record's index keys may have in common with other records'.
#[derive(Clone, Copy, PartialEq, Eq)]
enum KeysOf {
    /// Only a message id the producer made for this send, just now: the ids one process makes
    /// do not repeat (`protocol/msgid.rs`), and no other record of a producer's tracer but an
    /// `EndTransaction` names a sent message's id ([`KeysOf::Any`]).
    FreshId,
    /// Anything: user keys (which repeat at will, and may name another message's id), and the
    /// ids of consume records (a message consumed twice names its id twice) or of
    /// `EndTransaction` records (their half message's `Pub` names it).
    Any,
    /// The keys of the record with this sequence number ([`Queued::first_seq`]): a `SubAfter`
    /// record's are its `SubBefore`'s. When both go in one trace message the second's are
    /// not looked up again ([`pack`]): half a consumer's lookups, each about 200
    /// instructions.
    SameAs(u64),
}

impl KeysOf {
    /// A send's `Pub` record, whose message has user keys `keys`.
    fn of_send(keys: Option<&str>) -> KeysOf {
        match keys {
            None => KeysOf::FreshId,
            Some(_) => KeysOf::Any,
        }
    }

    /// A `SubAfter` record's, whose `SubBefore` was queued with sequence number `sub_before`.
    fn after(sub_before: Option<u64>) -> KeysOf {
        sub_before.map_or(KeysOf::Any, KeysOf::SameAs)
    }
}

impl Queued {
    fn len(&self) -> usize {
        self.records.len()
    }

    /// The sequence number the next record gets.
    fn next_seq(&self) -> u64 {
        self.first_seq + self.records.len() as u64
    }

    /// Appends the record `encode` writes at the end of the text (its spans are where in the
    /// text it wrote each field).
    #[cfg(test)]
    fn push_with(&mut self, encode: impl FnOnce(&mut String) -> Spans) {
        self.push_record(encode, false, KeysOf::Any, None);
    }

    /// [`push_with`](Self::push_with); `same_topic` when the caller knows that the record's
    /// topic is the one of the record before it (the records of one batch send).
    /// `keys` says what its index keys may share with other records'. `region` is the region
    /// whose trace topic the record goes to, when that depends on it (the `CLOUD` channel).
    fn push_record(
        &mut self,
        encode: impl FnOnce(&mut String) -> Spans,
        same_topic: bool,
        keys: KeysOf,
        region: Option<&str>,
    ) {
        // A record naming an earlier one's keys may find it taken, or in another message.
        self.keys_may_repeat |= keys != KeysOf::FreshId;
        let repeats = match keys {
            KeysOf::SameAs(seq) if seq >= self.first_seq => u16::try_from(self.next_seq() - seq).unwrap_or(0),
            _ => 0,
        };
        let start = self.text.len();
        let spans = encode(&mut self.text);
        if !same_topic && !self.mixed_topics {
            if let Some(previous) = self.records.last() {
                let at = |r: &Range<usize>, base: usize| base + r.start..base + r.end;
                let previous_topic = &self.text[at(&previous.spans.topic, previous.text.start)];
                self.mixed_topics = previous_topic != &self.text[spans.topic.clone()];
            }
        }
        let region = region.map_or(0, |region| self.region_index(region));
        let relative = |r: Range<usize>| r.start - start..r.end - start;
        let spans = Spans { topic: relative(spans.topic), msg_id: relative(spans.msg_id), keys: relative(spans.keys) };
        self.records.push(RecordAt { text: start..self.text.len(), spans, region, repeats });
    }

    /// The index of `region` in [`Queued::regions`], added if new. A queue holds at most a
    /// few thousand records, so at most as many regions: the index fits.
    fn region_index(&mut self, region: &str) -> u16 {
        // Almost always one region: a linear search finds it first.
        let at = match self.regions.iter().position(|r| r == region) {
            Some(at) => at,
            None => {
                self.regions.push(region.to_owned());
                self.mixed_regions |= self.regions.len() > 1;
                self.regions.len() - 1
            }
        };
        u16::try_from(at).unwrap_or(u16::MAX)
    }

    /// Takes every record, leaving an empty queue with room for twice as much as was taken:
    /// a steady stream's batches vary around a size, and one that outgrew its room was copied
    /// as the text and the records doubled (in a profile of traced batch sends, a sixth of
    /// what tracing added per message); yet a client that traces a message now and then keeps
    /// little room. (Taking some and shifting the rest to the front moved each record's text
    /// once more whenever records came faster than one batch per window.) The new queue's text
    /// and records are `spare_text` and `spare_records` (an earlier batch's, sent) when they
    /// have that room; a spare too small is dropped rather than grown, as growing an empty
    /// buffer reallocates it, which copies its whole old allocation.
    fn take_all(&mut self, spare_text: Option<String>, spare_records: Option<Vec<RecordAt>>) -> Queued {
        let (text_room, records_room) = (2 * self.text.len(), 2 * self.len());
        let text = spare_text.filter(|t| t.capacity() >= text_room).unwrap_or_else(|| String::with_capacity(text_room));
        let records =
            spare_records.filter(|r| r.capacity() >= records_room).unwrap_or_else(|| Vec::with_capacity(records_room));
        let fresh = Queued {
            text,
            records,
            regions: Vec::new(),
            mixed_regions: false,
            mixed_topics: false,
            keys_may_repeat: false,
            first_seq: self.next_seq(),
        };
        std::mem::replace(self, fresh)
    }

    fn iter(&self) -> impl Iterator<Item = QueuedRecord<'_>> {
        self.records.iter().enumerate().map(|(index, r)| QueuedRecord {
            text: &self.text[r.text.clone()],
            at: r.text.start,
            spans: &r.spans,
            region: r.region,
            index,
            repeats: r.repeats,
        })
    }
}

/// One queued record: its text and where its fields are in it.
#[derive(Clone, Copy)]
struct QueuedRecord<'a> {
    text: &'a str,
    /// Where `text` starts in the queue's text.
    at: usize,
    spans: &'a Spans,
    /// See [`RecordAt::region`].
    region: u16,
    /// Its place in the queue.
    index: usize,
    /// See [`RecordAt::repeats`].
    repeats: u16,
}

impl<'a> QueuedRecord<'a> {
    fn text(&self) -> &'a str {
        self.text
    }

    /// The topic the record is about; empty for consume records, which carry none (Java groups
    /// them under the topic of their first bean, which they do not write either).
    fn topic(&self) -> &'a str {
        &self.text[self.spans.topic.clone()]
    }

    /// Whether the record whose keys this one names again ([`RecordAt::repeats`]) is at
    /// `start` or after it in the queue.
    fn repeats_keys_from(&self, start: usize) -> bool {
        self.repeats > 0 && self.index - usize::from(self.repeats) >= start
    }

    /// The index keys a trace message carrying this record needs
    /// ([`TraceRecord::index_keys`]).
    #[cfg(test)]
    fn index_keys(&self) -> impl Iterator<Item = &'a str> {
        let (msg_id, keys) = self.id_and_keys();
        record::index_keys_of(msg_id, keys)
    }

    /// Calls `add` with each of [`QueuedRecord::index_keys`].
    #[inline]
    fn for_each_index_key(&self, add: impl FnMut(&'a str)) {
        let (msg_id, keys) = self.id_and_keys();
        record::for_each_index_key(msg_id, keys, add);
    }

    /// The message id and the keys (none when their span is empty, `Spans`) the record names.
    fn id_and_keys(&self) -> (&'a str, Option<&'a str>) {
        let keys = Some(&self.text[self.spans.keys.clone()]).filter(|k| !k.is_empty());
        (&self.text[self.spans.msg_id.clone()], keys)
    }
}

#[cfg(test)]
mod tests {
    use super::record::*;
    use super::*;

    /// [`pack`] of records queued without regions (the `LOCAL` channel): (body, keys, count).
    fn pack_one_topic(batch: Queued, spare: &Arc<Spares>) -> Vec<(Bytes, String, usize)> {
        let (messages, regions) = pack(batch, spare);
        assert!(regions.is_empty(), "{regions:?}");
        messages
            .into_iter()
            .map(|m| {
                assert_eq!(m.region, 0);
                (m.body, m.keys, m.count)
            })
            .collect()
    }

    fn pub_trace(topic: &str, id: &str, keys: Option<&str>) -> TraceRecord {
        TraceRecord::Pub(PubTrace {
            timestamp: 1,
            region_id: "R".into(),
            group: "G".into(),
            topic: topic.into(),
            msg_id: id.into(),
            tags: None,
            keys: keys.map(str::to_owned),
            store_host: "h:1".into(),
            body_length: 1,
            cost_ms: 1,
            msg_type: TraceMessageType::Normal,
            offset_msg_id: "O".into(),
            success: true,
        })
    }

    fn test_config() -> ClientConfig {
        let props = crate::config::Properties::new()
            .with(crate::config::keys::NAMESRV_ADDR, "127.0.0.1:9876")
            .with(crate::config::keys::GROUP_ID, "GID_t");
        ClientConfig::from_properties(&props, true).unwrap()
    }

    /// A tracer of group `GID_t` with a queue of `capacity` and no sending task.
    fn test_tracer(capacity: usize) -> Tracer {
        Tracer {
            group: "GID_t".to_owned(),
            worker: Mutex::new(None),
            shared: Arc::new(Shared::new(
                ProducerCore::new(test_config()),
                Destination::Topic(DEFAULT_TRACE_TOPIC.to_owned()),
                capacity,
            )),
        }
    }

    fn sub_before(id: &str) -> TraceRecord {
        TraceRecord::SubBefore(SubBeforeTrace {
            timestamp: 1,
            region_id: "R".into(),
            group: "G".into(),
            request_id: "Q".into(),
            msg_id: id.into(),
            retry_times: 0,
            keys: None,
        })
    }

    fn sub_after(id: &str) -> TraceRecord {
        TraceRecord::SubAfter(SubAfterTrace {
            request_id: "Q".into(),
            msg_id: id.into(),
            cost_ms: 1,
            success: true,
            keys: None,
            context_code: 0,
            timestamp: 1,
            group: "G".into(),
        })
    }

    fn body_text(body: &Bytes) -> &str {
        std::str::from_utf8(body).expect("trace bodies are text")
    }

    fn queued(records: &[TraceRecord]) -> Queued {
        let mut queued = Queued::default();
        for r in records {
            queued.push_with(|out| r.encode_spans(out));
        }
        queued
    }

    #[test]
    fn packs_by_topic_with_ids_and_keys_as_message_keys() {
        // The last record names an id and a key the first one named: each is a key once.
        let batch = vec![
            pub_trace("A", "M1", Some("k1 k2")),
            pub_trace("B", "M2", None),
            pub_trace("A", "M3", None),
            pub_trace("A", "M1", Some("k2")),
        ];
        let packed = pack_one_topic(queued(&batch), &Arc::default());
        assert_eq!(packed.len(), 2);
        let (body, keys, count) = &packed[0];
        assert_eq!((keys.as_str(), *count), ("M1 k1 k2 M3", 3));
        assert_eq!(
            record::decode(body_text(body)).unwrap(),
            vec![batch[0].clone(), batch[2].clone(), batch[3].clone()]
        );
        assert_eq!((packed[1].1.as_str(), packed[1].2), ("M2", 1));
    }

    #[test]
    fn records_of_one_topic_are_one_message_whose_body_is_the_queued_text() {
        let batch: Vec<TraceRecord> = (0..5).map(|i| pub_trace("A", &format!("M{i}"), None)).collect();
        let queued = queued(&batch);
        assert!(!queued.mixed_topics);
        let text = queued.text.clone();
        let text_at = queued.text.as_ptr();
        let spare = Arc::default();
        let packed = pack_one_topic(queued, &spare);
        assert_eq!(packed.len(), 1);
        assert_eq!((body_text(&packed[0].0), packed[0].1.as_str(), packed[0].2), (text.as_str(), "M0 M1 M2 M3 M4", 5));
        assert_eq!(record::decode(body_text(&packed[0].0)).unwrap(), batch);
        // The body is the queue's text itself, which comes back for a later batch once the
        // body is dropped.
        assert_eq!(packed[0].0.as_ptr(), text_at);
        assert!(spare.take_text().is_none());
        drop(packed);
        let returned = spare.take_text().expect("the text returns once its messages are dropped");
        assert_eq!((returned.as_ptr(), returned.len()), (text_at, 0));
    }

    #[test]
    fn with_the_cloud_channel_records_of_each_region_go_to_that_region_s_topic() {
        let region_of = |r: &TraceRecord| match r {
            TraceRecord::Pub(p) => p.region_id.clone(),
            _ => unreachable!(),
        };
        let mut batch: Vec<TraceRecord> = (0..6).map(|i| pub_trace("A", &format!("M{i}"), None)).collect();
        for (i, record) in batch.iter_mut().enumerate() {
            let TraceRecord::Pub(p) = record else { unreachable!() };
            p.region_id = if i % 3 == 1 { "cn-hangzhou".into() } else { "DefaultRegion".into() };
        }
        let mut queue = Queued::default();
        for r in &batch {
            let region = region_of(r);
            queue.push_record(|out| r.encode_spans(out), false, KeysOf::Any, Some(&region));
        }
        assert!(queue.mixed_regions && !queue.mixed_topics);
        let (messages, regions) = pack(queue, &Arc::default());
        assert_eq!(regions, ["DefaultRegion", "cn-hangzhou"]);
        let destination = Destination::PerRegion;
        let sent: Vec<(String, String, Vec<TraceRecord>)> = messages
            .iter()
            .map(|m| {
                let topic = destination.topic(&regions[usize::from(m.region)]);
                (topic, m.keys.clone(), record::decode(body_text(&m.body)).unwrap())
            })
            .collect();
        let expect = |ids: &[usize]| ids.iter().map(|&i| batch[i].clone()).collect::<Vec<_>>();
        assert_eq!(
            sent,
            [
                ("rmq_sys_TRACE_DATA_DefaultRegion".to_owned(), "M0 M2 M3 M5".to_owned(), expect(&[0, 2, 3, 5])),
                ("rmq_sys_TRACE_DATA_cn-hangzhou".to_owned(), "M1 M4".to_owned(), expect(&[1, 4])),
            ]
        );
        // One region: one message, the queue's text as it is.
        let mut queue = Queued::default();
        for r in &batch[..3] {
            queue.push_record(|out| r.encode_spans(out), false, KeysOf::Any, Some("cn-beijing"));
        }
        assert!(!queue.mixed_regions);
        let (messages, regions) = pack(queue, &Arc::default());
        assert_eq!((messages.len(), regions.as_slice()), (1, ["cn-beijing".to_owned()].as_slice()));
        assert_eq!(destination.topic(&regions[0]), "rmq_sys_TRACE_DATA_cn-beijing");
        // The LOCAL channel's topic does not depend on the region.
        assert_eq!(Destination::Topic("T".into()).topic("cn-beijing"), "T");
    }

    #[test]
    fn spares_keep_the_largest_buffers_and_give_the_largest_first() {
        let spares = Arc::new(Spares::default());
        for capacity in [10, 50, 20, 40, 30, 5] {
            spares.put_text(String::with_capacity(capacity));
        }
        let taken: Vec<usize> = std::iter::from_fn(|| spares.take_text()).map(|t| t.capacity()).collect();
        assert_eq!(taken, [50, 40, 30, 20], "the {SPARES_KEPT} largest, largest first");
        // A burst's buffer goes back to the allocator.
        spares.put_text(String::with_capacity(SPARE_MAX_BYTES + 1));
        spares.put_records(Vec::with_capacity(SPARE_MAX_BYTES / std::mem::size_of::<RecordAt>() + 1));
        assert!(spares.take_text().is_none() && spares.take_records().is_none());
        // A batch's record list comes back once it is packed, emptied.
        let batch: Vec<TraceRecord> = (0..3).map(|i| pub_trace("A", &format!("M{i}"), None)).collect();
        let packed = pack_one_topic(queued(&batch), &spares);
        let records = spares.take_records().expect("the record list is kept once packed");
        assert!(records.is_empty() && records.capacity() >= 3);
        drop(packed);
        let text = spares.take_text().expect("the text is kept once its messages are dropped");
        assert!(text.is_empty() && text.capacity() > 0);
    }

    #[test]
    fn a_batch_split_into_messages_shares_one_text_which_a_later_batch_reuses() {
        let batch: Vec<TraceRecord> =
            (0..MESSAGE_RECORDS_MAX + 3).map(|i| pub_trace("A", &format!("M{i}"), None)).collect();
        let mut queue = queued(&batch);
        let taken = queue.take_all(None, None);
        let (text_at, taken_len) = (taken.text.as_ptr(), taken.text.len());
        let spare = Arc::default();
        let packed = pack_one_topic(taken, &spare);
        assert_eq!(packed.iter().map(|p| p.2).collect::<Vec<_>>(), [MESSAGE_RECORDS_MAX, 3]);
        assert_eq!(packed[0].0.as_ptr(), text_at);
        assert_eq!(packed[1].0.as_ptr(), text_at.wrapping_add(packed[0].0.len()));
        let (first, second) = (packed[0].0.clone(), packed[1].0.clone());
        drop(packed);
        drop(first);
        assert!(spare.take_text().is_none(), "a body still refers to the text");
        drop(second);
        let reused = spare.take_text();
        for record in &batch[..2] {
            queue.push_with(|out| record.encode_spans(out));
        }
        let next = queue.take_all(reused, spare.take_records());
        assert_eq!(record::decode(&next.text).unwrap(), batch[..2]);
        assert_eq!(queue.text.as_ptr(), text_at, "records queued from now on are written into the spare buffer");
        assert!(queue.text.capacity() >= taken_len);
    }

    #[test]
    fn keys_are_written_once_each_and_checked_only_when_they_may_repeat() {
        let fresh = |id: &str| pub_trace("A", id, None);
        // A producer's records without user keys: ids it made, which cannot repeat.
        let mut queue = Queued::default();
        for id in ["M0", "M1", "M2"] {
            queue.push_record(|out| fresh(id).encode_spans(out), false, KeysOf::FreshId, None);
        }
        assert!(!queue.keys_may_repeat);
        let packed = pack_one_topic(queue, &Arc::default());
        assert_eq!(packed[0].1, "M0 M1 M2");

        // An EndTransaction names its half message's id again; a user key may name another
        // message's id, or repeat: each key is written once.
        let mut queue = Queued::default();
        queue.push_record(|out| fresh("M0").encode_spans(out), false, KeysOf::FreshId, None);
        queue.push_record(|out| pub_trace("A", "M1", Some("M0 k")).encode_spans(out), false, KeysOf::Any, None);
        queue.push_record(|out| fresh("M2").encode_spans(out), false, KeysOf::FreshId, None);
        let end = TraceRecord::EndTransaction(EndTransactionTrace {
            timestamp: 1,
            region_id: "R".into(),
            group: "G".into(),
            topic: "A".into(),
            msg_id: "M2".into(),
            tags: None,
            keys: Some("k".into()),
            store_host: "h".into(),
            msg_type: TraceMessageType::TransactionCommit,
            transaction_id: "T".into(),
            transaction_state: "COMMIT_MESSAGE".into(),
            from_transaction_check: false,
        });
        queue.push_record(|out| end.encode_spans(out), false, KeysOf::Any, None);
        assert!(queue.keys_may_repeat);
        let packed = pack_one_topic(queue, &Arc::default());
        assert_eq!((packed[0].1.as_str(), packed[0].2), ("M0 M1 k M2", 4));
    }

    #[test]
    fn a_sub_after_packed_with_its_sub_before_adds_no_keys_again() {
        // Two listener calls' records interleaved: each SubAfter names its SubBefore's keys.
        let mut queue = Queued::default();
        let push = |queue: &mut Queued, r: TraceRecord, keys: KeysOf| {
            let seq = queue.next_seq();
            queue.push_record(|out| r.encode_spans(out), false, keys, None);
            seq
        };
        let m0 = push(&mut queue, sub_before("M0"), KeysOf::Any);
        let m1 = push(&mut queue, sub_before("M1"), KeysOf::Any);
        push(&mut queue, sub_after("M1"), KeysOf::SameAs(m1));
        push(&mut queue, sub_after("M0"), KeysOf::SameAs(m0));
        assert!(queue.keys_may_repeat);
        let packed = pack_one_topic(queue, &Arc::default());
        assert_eq!(packed.iter().map(|p| (p.1.as_str(), p.2)).collect::<Vec<_>>(), [("M0 M1", 4)]);

        // The SubBefore taken with an earlier batch: the SubAfter's message names the id too.
        let mut queue = Queued::default();
        let m2 = push(&mut queue, sub_before("M2"), KeysOf::Any);
        let earlier = queue.take_all(None, None);
        assert_eq!(queue.next_seq(), m2 + 1, "numbering goes on across batches");
        push(&mut queue, sub_after("M2"), KeysOf::SameAs(m2));
        assert_eq!(pack_one_topic(earlier, &Arc::default())[0].1, "M2");
        assert_eq!(pack_one_topic(queue, &Arc::default())[0].1, "M2");

        // A pair split by the end of a message (MESSAGE_RECORDS_MAX records): both messages name it; a
        // later pair, both in the second message, adds its id once.
        let mut queue = Queued::default();
        for i in 0..MESSAGE_RECORDS_MAX - 1 {
            push(&mut queue, sub_before(&format!("F{i}")), KeysOf::Any);
        }
        let m3 = push(&mut queue, sub_before("M3"), KeysOf::Any);
        let m4 = push(&mut queue, sub_before("M4"), KeysOf::Any);
        push(&mut queue, sub_after("M3"), KeysOf::SameAs(m3));
        push(&mut queue, sub_after("M4"), KeysOf::SameAs(m4));
        let packed = pack_one_topic(queue, &Arc::default());
        assert_eq!(packed.len(), 2);
        assert!(packed[0].1.ends_with(" M3"), "{}", packed[0].1);
        assert_eq!((packed[1].1.as_str(), packed[1].2), ("M4 M3", 3));
    }

    #[test]
    fn pairs_of_records_grouped_by_region_keep_their_keys_once_per_message() {
        // With the CLOUD channel records are grouped by region: pairs of two regions,
        // interleaved in the queue, end in two messages, each naming its ids once.
        let mut queue = Queued::default();
        let mut push = |r: TraceRecord, keys: KeysOf, region: &str| {
            let seq = queue.next_seq();
            queue.push_record(|out| r.encode_spans(out), false, keys, Some(region));
            seq
        };
        let a = push(sub_before("A1"), KeysOf::Any, "cn-a");
        let b = push(sub_before("B1"), KeysOf::Any, "cn-b");
        push(sub_after("B1"), KeysOf::SameAs(b), "cn-b");
        push(sub_after("A1"), KeysOf::SameAs(a), "cn-a");
        assert!(queue.mixed_regions);
        let (messages, regions) = pack(queue, &Arc::default());
        let named: Vec<_> =
            messages.iter().map(|m| (regions[usize::from(m.region)].as_str(), m.keys.as_str(), m.count)).collect();
        assert_eq!(named, [("cn-a", "A1", 2), ("cn-b", "B1", 2)]);
    }

    #[test]
    fn a_listener_call_queues_its_records_under_one_lock_each_way_and_pairs_their_keys() {
        let tracer = Arc::new(test_tracer(10));
        let message = |id: Option<&str>, key: Option<&str>| {
            let mut m = Message::new("T", None, "b");
            m.msg_id = id.map(str::to_owned);
            m.key = key.map(str::to_owned);
            m
        };
        // The second has no id: not traced.
        let messages: Arc<[Message]> =
            vec![message(Some("M0"), Some("k0")), message(None, None), message(Some("M2"), None)].into();
        let trace = tracer.before(&messages, crate::message::now_ms()).expect("two are traced");
        trace.after(true, ConsumeReturn::Success);
        let queued = tracer.shared.take_batch();
        let records = record::decode(&queued.text).unwrap();
        let kinds: Vec<_> = records
            .iter()
            .map(|r| (matches!(r, TraceRecord::SubBefore(_)), r.msg_id().to_owned(), r.keys().map(str::to_owned)))
            .collect();
        let k0 = Some("k0".to_owned());
        assert_eq!(
            kinds,
            [
                (true, "M0".to_owned(), k0.clone()),
                (true, "M2".to_owned(), None),
                (false, "M0".to_owned(), k0),
                (false, "M2".to_owned(), None)
            ]
        );
        let packed = pack_one_topic(queued, &Arc::default());
        assert_eq!(packed.iter().map(|p| (p.1.as_str(), p.2)).collect::<Vec<_>>(), [("M0 k0 M2", 4)]);

        // A queue with room for one: the second SubBefore is dropped (a SubAfter past the
        // SubBefores queued names its keys itself: `seq_of` has none for it); the first
        // SubBefore is taken before its SubAfter comes, which then names its keys again.
        let run = QueuedRun { first: 5, count: 1 };
        assert_eq!((run.seq_of(0), run.seq_of(1)), (Some(5), None));
        let tracer = Arc::new(test_tracer(1));
        let messages: Arc<[Message]> = vec![message(Some("M0"), None), message(Some("M1"), None)].into();
        let trace = tracer.before(&messages, crate::message::now_ms()).expect("both are traced");
        assert_eq!(tracer.dropped(), 1);
        let taken = tracer.shared.take_batch();
        assert_eq!(pack_one_topic(taken, &Arc::default())[0].1, "M0");
        trace.after(true, ConsumeReturn::Success);
        assert_eq!(tracer.dropped(), 2, "room for one SubAfter");
        let packed = pack_one_topic(tracer.shared.take_batch(), &Arc::default());
        assert_eq!(packed.iter().map(|p| (p.1.as_str(), p.2)).collect::<Vec<_>>(), [("M0", 1)]);
    }

    #[test]
    fn the_queue_knows_when_its_records_name_several_topics() {
        let mut q = queued(&[pub_trace("A", "M1", None), pub_trace("A", "M2", None)]);
        assert!(!q.mixed_topics);
        q.push_with(|out| pub_trace("B", "M3", None).encode_spans(out));
        assert!(q.mixed_topics);
        // Taking them all starts afresh.
        q.take_all(None, None);
        assert!(!q.mixed_topics);
        // Consume records name no topic: never mixed.
        assert!(!queued(&[sub_after("M1"), sub_after("M1")]).mixed_topics);
    }

    #[test]
    fn a_batch_send_queues_its_records_under_one_lock_and_drops_what_does_not_fit() {
        let tracer = test_tracer(3);
        tracer.append(pub_trace("B", "M0", None));
        let shared = PubBatchFields {
            timestamp: 1,
            region_id: "R",
            group: "G",
            topic: "A",
            store_host: "h:1",
            cost_ms: 1,
            msg_type: TraceMessageType::Normal,
        };
        let ids = ["M1", "M2", "M3"];
        tracer.append_pubs(
            &shared,
            ids.iter().map(|id| PubOfBatch {
                msg_id: id,
                tags: None,
                keys: None,
                body_length: 1,
                offset_msg_id: "O",
                success: true,
            }),
        );
        // Room for two of the three; the last is dropped and counted.
        assert_eq!(tracer.dropped(), 1);
        let queued = tracer.shared.take_batch();
        assert!(queued.mixed_topics, "B, then A");
        let records = record::decode(&queued.text).unwrap();
        assert_eq!(records.iter().map(TraceRecord::msg_id).collect::<Vec<_>>(), ["M0", "M1", "M2"]);
        let packed = pack_one_topic(queued, &Arc::default());
        assert_eq!(packed.iter().map(|p| (p.1.as_str(), p.2)).collect::<Vec<_>>(), [("M1 M2", 2), ("M0", 1)]);
    }

    #[test]
    fn while_the_trace_topic_is_missing_records_are_dropped_before_they_are_encoded() {
        let tracer = test_tracer(10);
        let now = crate::message::now_ms();
        tracer.shared.paused_until_ms.store(now + 60_000, Ordering::Relaxed);
        tracer.append(pub_trace("A", "M0", None));
        let shared = PubBatchFields {
            timestamp: 1,
            region_id: "R",
            group: "G",
            topic: "A",
            store_host: "h:1",
            cost_ms: 1,
            msg_type: TraceMessageType::Normal,
        };
        let one =
            |id| PubOfBatch { msg_id: id, tags: None, keys: None, body_length: 1, offset_msg_id: "O", success: true };
        tracer.append_pubs(&shared, ["M1", "M2"].into_iter().map(one));
        assert_eq!((tracer.dropped(), tracer.shared.queued().0), (3, 0));
        // Once the pause is over, records are queued again.
        tracer.shared.paused_until_ms.store(now - 1, Ordering::Relaxed);
        tracer.append(pub_trace("A", "M3", None));
        assert_eq!((tracer.dropped(), tracer.shared.queued().0), (3, 1));
    }

    #[test]
    fn a_full_queue_drops_and_counts_without_waiting() {
        let config = test_config();
        assert!(config.msg_trace, "traces are on by default");
        assert_eq!(config.trace_topic, DEFAULT_TRACE_TOPIC);
        // A queue of 2 with nobody draining it: the third and fourth records are dropped.
        let tracer = test_tracer(2);
        let started = std::time::Instant::now();
        for i in 0..4 {
            tracer.append(pub_trace("A", &format!("M{i}"), None));
        }
        assert!(started.elapsed() < Duration::from_millis(100));
        assert_eq!((tracer.dropped(), tracer.sent()), (2, 0));
        // After shutdown's stop, records are ignored (not queued, not counted).
        tracer.shared.queue.lock().closed = true;
        tracer.append(pub_trace("A", "M9", None));
        assert_eq!(tracer.dropped(), 2);
    }

    #[test]
    fn queued_records_are_taken_in_their_order_and_packed_by_the_message() {
        let mut records: Vec<TraceRecord> =
            (0..5).map(|i| pub_trace("A", &format!("M{i}"), Some(&format!("k{i}")))).collect();
        // A consume record (no topic) after the first.
        records[1] = TraceRecord::SubBefore(SubBeforeTrace {
            timestamp: 1,
            region_id: "R".into(),
            group: "G".into(),
            request_id: "Q".into(),
            msg_id: "M1".into(),
            retry_times: 0,
            keys: Some("k1".into()),
        });
        let mut queued = queued(&records);
        let taken = queued.take_all(None, None);
        assert_eq!(queued.len(), 0);
        let ids = taken.iter().flat_map(|r| r.index_keys().map(str::to_owned)).collect::<Vec<_>>();
        assert_eq!(ids, ["M0", "k0", "M1", "k1", "M2", "k2", "M3", "k3", "M4", "k4"]);
        assert_eq!(record::decode(&taken.text).unwrap(), records);
        let topics = taken.iter().map(|r| r.topic().to_owned()).collect::<Vec<_>>();
        assert_eq!(topics, ["A", "", "A", "A", "A"]);
        assert!(taken.mixed_topics);
        // The consume record's message first (its topic sorts first), then the topic's.
        let packed = pack_one_topic(taken, &Arc::default());
        assert_eq!(
            packed.iter().map(|p| (p.1.as_str(), p.2)).collect::<Vec<_>>(),
            [("M1 k1", 1), ("M0 k0 M2 k2 M3 k3 M4 k4", 4)]
        );
    }

    #[test]
    fn a_message_carries_at_most_message_records_max_records() {
        let batch: Vec<TraceRecord> =
            (0..MESSAGE_RECORDS_MAX * 2 + 1).map(|i| pub_trace("A", &format!("M{i}"), None)).collect();
        let queued = queued(&batch);
        let text = queued.text.clone();
        let packed = pack_one_topic(queued, &Arc::default());
        assert_eq!(packed.iter().map(|p| p.2).collect::<Vec<_>>(), [MESSAGE_RECORDS_MAX, MESSAGE_RECORDS_MAX, 1]);
        assert_eq!(packed.iter().map(|p| body_text(&p.0)).collect::<String>(), text);
        assert!(packed[2].1 == format!("M{}", MESSAGE_RECORDS_MAX * 2));
    }

    #[tokio::test]
    async fn the_task_sends_what_is_queued_and_ends_once_its_tracer_is_dropped() {
        let props = crate::config::Properties::new()
            .with(crate::config::keys::NAMESRV_ADDR, "127.0.0.1:9876")
            .with(crate::config::keys::GROUP_ID, "GID_t");
        let config = ClientConfig::from_properties(&props, true).unwrap();
        let shared =
            Arc::new(Shared::new(ProducerCore::new(config), Destination::Topic(DEFAULT_TRACE_TOPIC.to_owned()), 8));
        let worker = tokio::spawn(shared.clone().run());
        let tracer = Tracer { group: "GID_t".to_owned(), worker: Mutex::new(None), shared: shared.clone() };
        tracer.append(pub_trace("A", "M1", None));
        tracer.append(pub_trace("A", "M2", None));
        drop(tracer);
        tokio::time::timeout(Duration::from_secs(5), worker).await.expect("the task ended").unwrap();
        // Both records were taken and sent; the send failed (the trace producer never started),
        // so they are counted as dropped.
        assert_eq!((shared.dropped.load(Ordering::Relaxed), shared.sent.load(Ordering::Relaxed)), (2, 0));
        assert_eq!(shared.queue.lock().records.len(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_message_s_worth_of_records_is_taken_before_the_window_ends() {
        let props = crate::config::Properties::new()
            .with(crate::config::keys::NAMESRV_ADDR, "127.0.0.1:9876")
            .with(crate::config::keys::GROUP_ID, "GID_t");
        let config = ClientConfig::from_properties(&props, true).unwrap();
        let shared = Arc::new(Shared::new(
            ProducerCore::new(config),
            Destination::Topic(DEFAULT_TRACE_TOPIC.to_owned()),
            QUEUE_CAPACITY,
        ));
        let worker = tokio::spawn(shared.clone().run());
        let tracer = Tracer { group: "GID_t".to_owned(), worker: Mutex::new(None), shared: shared.clone() };
        let settle = || async {
            for _ in 0..20 {
                tokio::task::yield_now().await;
            }
        };
        let started = tokio::time::Instant::now();
        tracer.append(pub_trace("A", "M0", None));
        settle().await;
        // The task woke for the first record and waits its window for more (time stands still).
        assert_eq!(shared.queued().0, 1);
        for i in 1..TAKE_AT {
            tracer.append(pub_trace("A", &format!("M{i}"), None));
        }
        settle().await;
        // The 400th record ended the wait: all were taken, within no time at all.
        assert_eq!(shared.queued().0, 0);
        assert_eq!(started.elapsed(), Duration::ZERO);
        drop(tracer);
        tokio::time::timeout(Duration::from_secs(5), worker).await.expect("the task ended").unwrap();
        // The trace producer never started: the send failed and the records count as dropped.
        assert_eq!(shared.dropped.load(Ordering::Relaxed), TAKE_AT as u64);
    }

    #[test]
    fn a_large_batch_is_split_at_the_body_bound() {
        let with_tag = |id: &str, tag: &str| {
            let mut r = pub_trace("A", id, None);
            if let TraceRecord::Pub(p) = &mut r {
                p.tags = Some(tag.to_owned());
            }
            r
        };
        let big = "t".repeat(70_000);
        let batch = vec![with_tag("M1", &big), with_tag("M2", &big), pub_trace("A", "M3", None)];
        let packed = pack_one_topic(queued(&batch), &Arc::default());
        assert_eq!(packed.iter().map(|p| p.2).collect::<Vec<_>>(), [2, 1]);
        assert_eq!(packed[0].1, "M1 M2");
        assert!(packed[0].0.len() >= MAX_TRACE_BODY);
        assert_eq!(packed[1].1, "M3");
    }

    #[test]
    fn a_batch_is_split_before_its_keys_outgrow_what_a_broker_stores() {
        // Records whose own keys are 5000 bytes: five of them reach MAX_TRACE_KEYS.
        let keys: Vec<String> = (0..7).map(|i| format!("{i}{}", "k".repeat(4999))).collect();
        let batch: Vec<TraceRecord> =
            keys.iter().enumerate().map(|(i, k)| pub_trace("A", &format!("M{i}"), Some(k))).collect();
        let packed = pack_one_topic(queued(&batch), &Arc::default());
        assert_eq!(packed.iter().map(|p| p.2).collect::<Vec<_>>(), [5, 2]);
        for (_, keys, _) in &packed {
            assert!(keys.len() < crate::protocol::message::MAX_PROPERTIES_LEN - 1000, "{} bytes of keys", keys.len());
        }
        assert!(packed[1].1.starts_with("M5 5kkk"), "{}", &packed[1].1[..10]);
    }
}
