//! The ONS producers: [`Producer`] (sync, async, oneway, batch, timed delivery),
//! [`OrderProducer`] (queue chosen by sharding key) and [`TransactionProducer`] (half message,
//! local executor, END_TRANSACTION, check-back). They share one send path, `ProducerCore`.

mod fault;
mod transaction;

use parking_lot::Mutex;
use std::borrow::Cow;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;

pub use transaction::{LocalTransactionChecker, TransactionProducer, TransactionStatus};

use crate::client::instance::{ClientInstance, GroupRequestHandler, Member, TopicRoute};
use crate::client::namespace;
use crate::config::{ClientConfig, Properties};
use crate::error::{Error, ErrorKind, Result};
use crate::message::{now_ms, Message, SendResult, SendStatus, MAX_BODY_BYTES, MAX_PROPERTIES_BYTES};
use crate::protocol::codes::{response, VERSION_V5_0_0};
use crate::protocol::command::RemotingCommand;
use crate::protocol::headers::send::{AUTO_CREATE_TEMPLATE_TOPIC, DEFAULT_TOPIC_QUEUE_NUMS};
use crate::protocol::headers::{RequestHeader, SendMessageRequestHeader, SendMessageResponseHeader};
use crate::protocol::java_hash::ons_order_queue_index;
use crate::protocol::message::{
    append_batch_entry, append_property, append_system_property, batch_entry_len, compress_body_as, property, sys_flag,
};
use crate::protocol::msgid::UniqueIdGenerator;
use crate::protocol::route::MessageQueue;
use crate::trace::record::{PubBatchFields, PubFields, PubOfBatch, TraceMessageType};
use crate::trace::{TraceCounts, TracedKind, Tracer, TracerSlot, DEFAULT_TRACE_REGION};
use fault::FaultTracker;

/// Broker delay levels 1..=18 in seconds (the broker default `messageDelayLevel`).
const DELAY_LEVEL_SECS: [i64; 18] =
    [1, 5, 10, 30, 60, 120, 180, 240, 300, 360, 420, 480, 540, 600, 1200, 1800, 3600, 7200];

fn unique_ids() -> &'static UniqueIdGenerator {
    crate::client::identity::unique_ids()
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    /// Retries on any retryable failure, on another broker.
    Sync,
    /// Retries only transport failures (the Java async policy).
    Async,
    /// One attempt, no answer.
    Oneway,
}

enum QueueChoice<'a> {
    RoundRobin,
    ShardingKey(&'a str),
    /// The caller's queue (ONS C++ `Producer::send(Message&, const MessageQueueONS&)`).
    Given(&'a MessageQueue),
}

enum State {
    Created,
    Started { instance: Arc<ClientInstance>, member: u64 },
    Closed,
}

/// The send path shared by every producer kind.
pub(crate) struct ProducerCore {
    config: ClientConfig,
    /// The group as the broker knows it (namespace applied), built once: every send names it.
    wire_group: String,
    state: Mutex<State>,
    round_robin: AtomicUsize,
    faults: FaultTracker,
    /// Where this producer's trace records go while it is started with `MsgTraceSwitch` on.
    tracer: TracerSlot,
}

/// What a stored send tells the trace record besides the [`SendResult`].
struct Stored {
    /// The broker's address.
    addr: String,
    /// The broker's region (`MSG_REGION` of its answer).
    region: String,
    /// False when the broker said `TRACE_ON=false`.
    trace_on: bool,
}

impl Stored {
    /// Leaves in `slot` (when there is one) what the answer `resp` of broker `addr` to a
    /// stored send says.
    fn keep(slot: &mut StoredSlot<'_>, resp: &RemotingCommand, addr: &str) {
        if let Some(slot) = slot {
            **slot = Some(Stored {
                region: resp.ext(property::MSG_REGION).unwrap_or(DEFAULT_TRACE_REGION).to_owned(),
                trace_on: resp.ext(property::TRACE_ON) != Some("false"),
                addr: addr.to_owned(),
            });
        }
    }
}

/// Where a send leaves its [`Stored`]: `None` when nothing will read it (the send is not
/// traced), which spares an untraced send copying the broker's address and region.
type StoredSlot<'a> = Option<&'a mut Option<Stored>>;

/// A message encoded for one attempt.
struct Prepared {
    body: Bytes,
    sys_flag: i32,
    /// The message's properties encoded (and checked) once: what every attempt sends, unless a
    /// timed delivery adds the broker's timer property (`properties_for`). Written straight
    /// from the message, not through a map of them (the map's node, its entries' copies and
    /// its drop were about 9% of a batch send's instructions, callgrind).
    properties: String,
    msg_id: String,
    born_timestamp: i64,
}

/// What writing a message's properties assigned it.
struct Assigned {
    msg_id: String,
    born_timestamp: i64,
    /// System flag bits the properties imply (a transaction's half message).
    sys_flag: i32,
}

impl ProducerCore {
    pub(crate) fn new(config: ClientConfig) -> Self {
        ProducerCore {
            wire_group: namespace::wrap(config.namespace.as_deref(), &config.group_id),
            config,
            state: Mutex::new(State::Created),
            round_robin: AtomicUsize::new(rand::random::<u16>() as usize),
            faults: FaultTracker::default(),
            tracer: TracerSlot::default(),
        }
    }

    pub(crate) fn start(&self, handler: Option<std::sync::Weak<dyn GroupRequestHandler>>) -> Result<()> {
        let mut state = self.state.lock();
        match &*state {
            State::Started { .. } => return Ok(()),
            State::Closed => return Err(Error::not_started("producer was shut down; create a new one")),
            State::Created => {}
        }
        let instance = ClientInstance::get_or_create(&self.config);
        let group = namespace::wrap(self.config.namespace.as_deref(), &self.config.group_id);
        let member = instance.register(Member::Producer { group }, handler, None)?;
        *state = State::Started { instance, member };
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            self.tracer.start(&self.config, TracedKind::Produce, &runtime);
        }
        Ok(())
    }

    pub(crate) async fn shutdown(&self) {
        let previous = std::mem::replace(&mut *self.state.lock(), State::Closed);
        match previous {
            State::Started { instance, member } => self.tracer.shut_down_with(&instance, member).await,
            _ => self.tracer.stop_unregistered(),
        }
    }

    /// What this producer's message traces came to: its tracer's counts while it runs, the
    /// last run's after shutdown (its queue flushed); `None` when it has not traced.
    pub(crate) fn trace_counts(&self) -> Option<TraceCounts> {
        self.tracer.counts()
    }

    /// Closes the producer and hands back its registration, unregistered by the caller (the
    /// trace producer's, unregistered with its client's).
    pub(crate) fn detach(&self) -> Option<(Arc<ClientInstance>, u64)> {
        match std::mem::replace(&mut *self.state.lock(), State::Closed) {
            State::Started { instance, member } => Some((instance, member)),
            _ => None,
        }
    }

    /// The tracer of this started producer, if it traces.
    pub(crate) fn tracer(&self) -> Option<Arc<Tracer>> {
        self.tracer.get()
    }

    /// One send of the trace producer (async retry policy, never traced itself).
    pub(crate) async fn send_untraced(&self, msg: &Message) -> Result<Option<SendResult>> {
        let mut message_id = None;
        self.send_attempts(msg, Mode::Async, QueueChoice::RoundRobin, false, &mut message_id, None).await
    }

    fn is_started(&self) -> bool {
        matches!(*self.state.lock(), State::Started { .. })
    }

    fn is_closed(&self) -> bool {
        matches!(*self.state.lock(), State::Closed)
    }

    pub(crate) fn instance(&self) -> Result<Arc<ClientInstance>> {
        match &*self.state.lock() {
            State::Started { instance, .. } => Ok(instance.clone()),
            State::Created => Err(Error::not_started("producer is not started; call start() first")),
            State::Closed => Err(Error::not_started("producer was shut down")),
        }
    }

    /// Rotates the credentials of the started producer's instance (see
    /// [`ClientInstance::update_credentials`] for the clients that share them).
    fn update_credential(&self, properties: &Properties) -> Result<()> {
        let credentials = crate::config::rotation_credentials(properties)?;
        self.instance()?.update_credentials(credentials);
        Ok(())
    }

    pub(crate) fn wire_group(&self) -> &str {
        &self.wire_group
    }

    /// `topic` as the broker knows it (namespace applied).
    fn wire_topic<'a>(&self, topic: &'a str) -> Cow<'a, str> {
        namespace::wrap_borrowed(self.config.namespace.as_deref(), topic)
    }

    /// Validates the message and builds what every attempt shares but its topic (the same for
    /// every message of a batch); assigns the message id. A transaction's half message
    /// (`transaction_half`) carries the properties that tell the broker to hold it.
    fn prepare(&self, msg: &Message, compress: bool, transaction_half: bool) -> Result<Prepared> {
        let mut properties = String::with_capacity(self.properties_room(msg));
        let Assigned { msg_id, born_timestamp, mut sys_flag } =
            self.write_properties(msg, transaction_half, now_ms(), &mut properties)?;
        let body = if compress && msg.body.len() >= self.config.compress_over_bytes {
            let kind = self.config.compress_type;
            let compressed = compress_body_as(&msg.body, kind, self.config.compress_level)?;
            // Keep the original when compression does not help (already-compressed payloads).
            if compressed.len() < msg.body.len() {
                sys_flag |= sys_flag::COMPRESSED | kind.sys_flag_bits();
                Bytes::from(compressed)
            } else {
                msg.body.clone()
            }
        } else {
            msg.body.clone()
        };
        Ok(Prepared { body, sys_flag, properties, msg_id, born_timestamp })
    }

    /// Bytes `msg`'s properties take on the wire, give or take the digits of its numbers, which
    /// the slack covers: the capacity to reserve for [`ProducerCore::write_properties`].
    fn properties_room(&self, msg: &Message) -> usize {
        let optional = |s: &Option<String>| s.as_deref().map_or(0, str::len);
        msg.user_properties().iter().map(|(k, v)| k.len() + v.len() + 2).sum::<usize>()
            + optional(&msg.tag)
            + optional(&msg.key)
            + optional(&msg.sharding_key)
            + optional(&self.config.namespace)
            + 160
    }

    /// Validates the message and appends its encoded properties to `out`, assigning its id,
    /// born at `born_timestamp` (ms since the epoch, which also gives the id its time part);
    /// fails, naming the limit, when they would not fit the wire's properties length. A batch
    /// writes every message's properties through one buffer this way, where a single send
    /// keeps them for its attempts ([`ProducerCore::prepare`]).
    fn write_properties(
        &self,
        msg: &Message,
        transaction_half: bool,
        born_timestamp: i64,
        out: &mut String,
    ) -> Result<Assigned> {
        msg.validate()?;
        let start = out.len();
        // The user's never use the names written after them (`Message::put_user_property`
        // refuses them, and a received message's user properties leave them out).
        for (name, value) in msg.user_properties() {
            append_property(out, name, value)?;
        }
        append_system_property(out, property::TAGS, msg.tag.as_deref().unwrap_or_default())?;
        append_system_property(out, property::KEYS, msg.key.as_deref().unwrap_or_default())?;
        append_system_property(out, property::SHARDING_KEY, msg.sharding_key.as_deref().unwrap_or_default())?;
        if let Some(at) = msg.start_deliver_time {
            append_system_property(out, property::START_DELIVER_TIME, itoa::Buffer::new().format(at))?;
        }
        append_system_property(out, property::INSTANCE_ID, self.config.namespace.as_deref().unwrap_or_default())?;
        append_system_property(out, property::WAIT, "true")?;
        let msg_id = unique_ids().next_id_at(born_timestamp);
        append_system_property(out, property::UNIQ_KEY, &msg_id)?;
        let mut sys_flag = 0;
        if transaction_half {
            append_system_property(out, property::TRAN_MSG, "true")?;
            append_system_property(out, property::PGROUP, self.wire_group())?;
            if let Some(secs) = self.config.check_immunity_time_secs {
                append_system_property(
                    out,
                    property::CHECK_IMMUNITY_TIME_IN_SECONDS,
                    itoa::Buffer::new().format(secs),
                )?;
            }
            sys_flag |= sys_flag::TRANSACTION_PREPARED_TYPE;
        }
        // Checked once up front with the largest timer property an attempt may add.
        let worst = out.len() - start + 40;
        if worst > MAX_PROPERTIES_BYTES {
            return Err(Error::invalid_argument(format!(
                "message properties encode to about {worst} bytes; the limit is {MAX_PROPERTIES_BYTES} bytes"
            )));
        }
        Ok(Assigned { msg_id, born_timestamp, sys_flag })
    }

    /// The properties string for an attempt on `broker`, with the timed-delivery mapping for
    /// that broker's version.
    async fn properties_for<'p>(
        &self,
        instance: &ClientInstance,
        broker: &str,
        msg: &Message,
        prepared: &'p Prepared,
        deadline: Instant,
    ) -> Result<Cow<'p, str>> {
        let Some(at) = msg.start_deliver_time else {
            return Ok(Cow::Borrowed(&prepared.properties));
        };
        let delta_ms = at - now_ms();
        if delta_ms <= 0 {
            return Ok(Cow::Borrowed(&prepared.properties));
        }
        let mut props = prepared.properties.clone();
        // Boxed: only timed deliveries wait for it, and every send's future held room for it.
        let budget = deadline.saturating_duration_since(Instant::now());
        let version = Box::pin(instance.broker_version(broker, budget)).await?;
        if version >= VERSION_V5_0_0 {
            append_property(&mut props, property::TIMER_DELIVER_MS, itoa::Buffer::new().format(at))?;
        } else {
            // 4.x brokers only know fixed delay levels: take the smallest one that is not
            // earlier than asked; beyond the longest (2 h) the time cannot be honoured.
            let delta_secs = (delta_ms + 999) / 1000;
            let level = DELAY_LEVEL_SECS.iter().position(|s| *s >= delta_secs).ok_or_else(|| {
                Error::invalid_argument(format!(
                    "broker {broker} is a 4.x broker, whose longest delay is 2 h; \
                     a delivery {delta_secs} s ahead cannot be honoured"
                ))
            })?;
            append_property(&mut props, property::DELAY, itoa::Buffer::new().format(level + 1))?;
        }
        Ok(Cow::Owned(props))
    }

    /// The publish queues of a topic; for a topic the name servers do not know yet, the
    /// auto-create template's queues (the broker creates the topic on first send).
    async fn publish_queues(
        &self,
        instance: &ClientInstance,
        wire_topic: &str,
        deadline: Instant,
    ) -> Result<(Arc<TopicRoute>, bool)> {
        let mut found = instance.route_until(wire_topic, deadline).await;
        if found.as_ref().is_ok_and(|route| route.publish_queues.is_empty()) {
            // A set without a master has no writable queues; a cached route may be older than
            // the master the name server lists by now (in controller mode the set elects a new
            // one within a second or two), so ask again before giving up.
            let left = deadline.saturating_duration_since(Instant::now());
            // Boxed: rare, and large for a future every send holds room for.
            found = tokio::time::timeout(left, Box::pin(instance.fetch_route(wire_topic))).await.unwrap_or_else(|_| {
                Err(Error::timeout(format!("the route of topic {wire_topic} was not fetched in time")))
            });
        }
        match found {
            Ok(route) if !route.publish_queues.is_empty() => Ok((route, false)),
            Ok(_) => Err(Error::new(
                ErrorKind::TopicNotFound,
                format!("topic {wire_topic} has no writable queue on any broker"),
            )),
            Err(e) if e.kind() == ErrorKind::TopicNotFound => {
                match instance.route_until(AUTO_CREATE_TEMPLATE_TOPIC, deadline).await {
                    Ok(template) if !template.publish_queues.is_empty() => Ok((template, true)),
                    _ => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }

    fn choose_queue<'r>(
        &self,
        route: &'r TopicRoute,
        template: bool,
        choice: &QueueChoice<'_>,
        avoid: Option<&str>,
    ) -> Result<&'r MessageQueue> {
        let queues = &route.publish_queues;
        Ok(match choice {
            QueueChoice::Given(wanted) => given_queue(route, template, wanted)?,
            QueueChoice::ShardingKey(key) => &queues[ons_order_queue_index(key, queues.len())],
            QueueChoice::RoundRobin => {
                let start = self.round_robin.fetch_add(1, Ordering::Relaxed);
                let n = queues.len();
                (0..n)
                    .map(|i| &queues[(start + i) % n])
                    .find(|q| Some(q.broker_name.as_str()) != avoid && self.faults.is_available(&q.broker_name))
                    .or_else(|| {
                        (0..n).map(|i| &queues[(start + i) % n]).find(|q| Some(q.broker_name.as_str()) != avoid)
                    })
                    .unwrap_or(&queues[start % n])
            }
        })
    }

    fn send_header(
        &self,
        prepared: &Prepared,
        wire_topic: &str,
        queue: &MessageQueue,
        template: bool,
        properties: &str,
    ) -> RemotingCommand {
        let mut cmd = SendMessageRequestHeader {
            sys_flag: prepared.sys_flag,
            ..SendMessageRequestHeader::new(
                self.wire_group(),
                wire_topic,
                template_queue_id(template, queue),
                &queue.broker_name,
                properties,
                prepared.born_timestamp,
            )
        }
        .command();
        cmd.body = prepared.body.clone();
        cmd
    }

    /// One message through the send path: queue choice, timed-delivery mapping, retries. A
    /// failure carries the message's topic and, once assigned, its id ([`Error::message_id`]).
    async fn send(
        &self,
        msg: &Message,
        mode: Mode,
        choice: QueueChoice<'_>,
        tran_half: bool,
    ) -> Result<Option<SendResult>> {
        let mut message_id = None;
        let tracer = self.tracer();
        let started = now_ms();
        let mut stored = None;
        let ordered = matches!(choice, QueueChoice::ShardingKey(_));
        let slot = tracer.is_some().then_some(&mut stored);
        let result = self.send_attempts(msg, mode, choice, tran_half, &mut message_id, slot).await;
        if let (Some(tracer), Ok(Some(sent)), Some(stored)) = (tracer, &result, stored) {
            // As the Java hook: only sends with a broker's answer are traced (not oneway ones,
            // not failures).
            let msg_type = if tran_half {
                TraceMessageType::TransactionHalf
            } else if msg.start_deliver_time.is_some_and(|at| at > started) {
                TraceMessageType::Delay
            } else if ordered {
                TraceMessageType::Order
            } else {
                TraceMessageType::Normal
            };
            self.trace_pub(&tracer, &stored, msg, sent, started, now_ms() - started, msg_type);
        }
        result.map_err(|e| e.for_message(message_id, &msg.topic))
    }

    /// Queues the `Pub` record of `msg`, stored as `sent` by the broker `stored` names, unless
    /// that broker turned traces off (`TRACE_ON=false`, Java's `SendResult.isTraceOn`).
    /// `started` is when the send began, `cost_ms` its duration.
    #[allow(clippy::too_many_arguments)]
    fn trace_pub(
        &self,
        tracer: &Tracer,
        stored: &Stored,
        msg: &Message,
        sent: &SendResult,
        started: i64,
        cost_ms: i64,
        msg_type: TraceMessageType,
    ) {
        if !stored.trace_on {
            return;
        }
        tracer.append_pub(&PubFields {
            timestamp: started,
            region_id: &stored.region,
            group: &self.config.group_id,
            topic: &msg.topic,
            msg_id: &sent.message_id,
            tags: msg.tag.as_deref().filter(|t| !t.is_empty()),
            keys: msg.key.as_deref().filter(|k| !k.is_empty()),
            store_host: &stored.addr,
            body_length: msg.body.len() as i32,
            cost_ms,
            msg_type,
            offset_msg_id: &sent.offset_msg_id,
            success: sent.status == SendStatus::SendOk,
        });
    }

    /// [`ProducerCore::send`]'s work; sets `message_id` when a message that got its id is not sent.
    async fn send_attempts(
        &self,
        msg: &Message,
        mode: Mode,
        choice: QueueChoice<'_>,
        tran_half: bool,
        message_id: &mut Option<String>,
        stored: StoredSlot<'_>,
    ) -> Result<Option<SendResult>> {
        let instance = self.instance()?;
        let mut prepared = self.prepare(msg, true, tran_half)?;
        let result = self.attempts(instance, msg, mode, choice, &mut prepared, stored).await;
        if result.is_err() {
            *message_id = Some(prepared.msg_id);
        }
        result
    }

    /// The attempts of [`send`](Self::send) for a prepared message.
    async fn attempts(
        &self,
        instance: Arc<ClientInstance>,
        msg: &Message,
        mode: Mode,
        choice: QueueChoice<'_>,
        // The id moves into the result when the message is stored, and stays for the error
        // otherwise (a copy per send before).
        prepared: &mut Prepared,
        mut stored: StoredSlot<'_>,
    ) -> Result<Option<SendResult>> {
        let wire_topic = self.wire_topic(&msg.topic);
        let begun = Instant::now();
        let deadline = begun + self.config.send_timeout;
        let attempts = match (mode, &choice) {
            (Mode::Oneway, _) | (_, QueueChoice::ShardingKey(_) | QueueChoice::Given(_)) => 1,
            _ => 1 + self.config.send_retry_times,
        };
        let mut last_error: Option<Error> = None;
        let mut avoid: Option<String> = None;
        for attempt in 0..attempts {
            // The clock is read where a wait may have passed, not for each step (every read is
            // some 60 instructions with the subtraction, several per send).
            let now = if attempt == 0 { begun } else { Instant::now() };
            if deadline.saturating_duration_since(now).is_zero() {
                break;
            }
            let (route, template) = match self.publish_queues(&instance, &wire_topic, deadline).await {
                Ok(r) => r,
                Err(e) => {
                    let retry = e.kind() != ErrorKind::TopicNotFound && mode == Mode::Sync;
                    last_error = Some(e);
                    if retry {
                        continue;
                    }
                    break;
                }
            };
            let queue = self.choose_queue(&route, template, &choice, avoid.as_deref())?;
            let Some(addr) = route.data.master_addr(&queue.broker_name) else {
                last_error = Some(Error::network(format!("broker {} has no master address", queue.broker_name)));
                avoid = Some(queue.broker_name.clone());
                continue;
            };
            let properties = match self.properties_for(&instance, &queue.broker_name, msg, prepared, deadline).await {
                Ok(properties) => properties,
                // The broker did not tell its version in time: try another one.
                Err(e) if matches!(e.kind(), ErrorKind::Network | ErrorKind::Timeout) => {
                    avoid = Some(queue.broker_name.clone());
                    last_error = Some(e);
                    continue;
                }
                Err(e) => return Err(e),
            };
            let cmd = self.send_header(prepared, &wire_topic, queue, template, &properties);
            // What the route lookup and the version check left of the send's time; the broker's
            // latency counts from here.
            let started = Instant::now();
            let remaining = deadline.saturating_duration_since(started);
            if mode == Mode::Oneway {
                return instance.invoke_oneway(addr, cmd, remaining).await.map(|_| None);
            }
            let result = instance.invoke(addr, cmd, remaining).await;
            let failed = result.is_err();
            self.faults.record(&queue.broker_name, started.elapsed(), failed);
            let resp = match result {
                Ok(resp) => resp,
                Err(e) => {
                    tracing::debug!(attempt, broker = %queue.broker_name, error = %e, "send attempt failed");
                    if !template {
                        refresh_route_after_failure(&instance, &wire_topic, &e, deadline).await;
                    }
                    avoid = Some(queue.broker_name.clone());
                    last_error = Some(e);
                    continue;
                }
            };
            if template {
                // The broker has now created the topic; use its own route from here on.
                instance.invalidate_route(&wire_topic);
            }
            let status = match stored_status(resp.code) {
                Some(status) => status,
                None => {
                    let code = resp.code;
                    let err = Error::from_response(code, resp.remark.as_deref(), "send");
                    tracing::debug!(attempt, broker = %queue.broker_name, error = %err, "broker refused the send");
                    if mode == Mode::Sync && err.is_retryable() {
                        if code == response::TOPIC_NOT_EXIST {
                            instance.invalidate_route(&wire_topic);
                        }
                        avoid = Some(queue.broker_name.clone());
                        last_error = Some(err);
                        continue;
                    }
                    return Err(err);
                }
            };
            let header = SendMessageResponseHeader::decode(&resp)?;
            Stored::keep(&mut stored, &resp, addr);
            return Ok(Some(SendResult {
                message_id: std::mem::take(&mut prepared.msg_id),
                topic: msg.topic.as_str().into(),
                status,
                broker_name: queue.broker_name.as_str().into(),
                queue_id: header.queue_id,
                queue_offset: header.queue_offset,
                offset_msg_id: header.msg_id,
                transaction_id: header.transaction_id,
            }));
        }
        let err = last_error.unwrap_or_else(|| {
            Error::timeout(format!("send to topic {} did not finish within {:?}", msg.topic, self.config.send_timeout))
        });
        Err(Error::new(err.kind(), format!("send to topic {} failed after retries: {}", msg.topic, err.message())))
    }

    /// Sends several messages of one topic in one request. Traced with a `Pub` record per
    /// message, each costing the request's duration divided among them (Java traces a batch as
    /// one record under its comma-joined ids, which the broker's index cannot find by one id).
    async fn send_batch(&self, msgs: &[Message]) -> Result<Vec<SendResult>> {
        let tracer = self.tracer();
        let started = now_ms();
        let mut stored = None;
        let slot = tracer.is_some().then_some(&mut stored);
        let result = self.send_batch_attempts(msgs, slot).await;
        if let (Some(tracer), Ok(sent), Some(stored)) = (tracer, &result, stored) {
            if stored.trace_on {
                let shared = PubBatchFields {
                    timestamp: started,
                    region_id: &stored.region,
                    group: &self.config.group_id,
                    // Every message of a batch has its first one's topic (checked before sending).
                    topic: msgs.first().map_or("", |m| m.topic.as_str()),
                    store_host: &stored.addr,
                    cost_ms: (now_ms() - started) / sent.len().max(1) as i64,
                    msg_type: TraceMessageType::Normal,
                };
                tracer.append_pubs(
                    &shared,
                    msgs.iter().zip(sent).map(|(msg, sent)| PubOfBatch {
                        msg_id: &sent.message_id,
                        tags: msg.tag.as_deref().filter(|t| !t.is_empty()),
                        keys: msg.key.as_deref().filter(|k| !k.is_empty()),
                        body_length: msg.body.len() as i32,
                        offset_msg_id: &sent.offset_msg_id,
                        success: sent.status == SendStatus::SendOk,
                    }),
                );
            }
        }
        result
    }

    /// [`ProducerCore::send_batch`]'s work; sets `stored` when the broker stored the batch.
    async fn send_batch_attempts(&self, msgs: &[Message], mut stored: StoredSlot<'_>) -> Result<Vec<SendResult>> {
        let instance = self.instance()?;
        let first = msgs.first().ok_or_else(|| Error::invalid_argument("batch is empty"))?;
        let mut ids = Vec::with_capacity(msgs.len());
        let wire_topic = self.wire_topic(&first.topic);
        // Each message's entry is written straight into the body, its properties through one
        // buffer: no string per message to allocate and free.
        let room = msgs.iter().map(|m| batch_entry_len(m.body.len(), self.properties_room(m))).sum();
        let mut body = Vec::with_capacity(room);
        let mut properties = String::new();
        // The messages of a batch are born together: one clock read gives their ids' time part
        // (read for each message, the clock was some 2% of a batch send's CPU: perf, 32 x 1 KiB).
        let born_timestamp = now_ms();
        for (i, msg) in msgs.iter().enumerate() {
            if msg.topic != first.topic {
                return Err(Error::invalid_argument(format!(
                    "batch message {i} has topic {:?}; every message of a batch must have topic {:?}",
                    msg.topic, first.topic
                )));
            }
            if msg.start_deliver_time.is_some() {
                return Err(Error::invalid_argument(format!(
                    "batch message {i} is timed; batches cannot carry timed messages"
                )));
            }
            properties.clear();
            let assigned = self.write_properties(msg, false, born_timestamp, &mut properties)?;
            append_batch_entry(&mut body, i, 0, &msg.body, &properties)?;
            ids.push(assigned.msg_id);
        }
        if body.len() > MAX_BODY_BYTES {
            return Err(Error::invalid_argument(format!(
                "batch encodes to {} bytes; the limit is {MAX_BODY_BYTES} bytes (4 MiB)",
                body.len()
            )));
        }
        let body = Bytes::from(body);
        // No batch-level UNIQ_KEY: 5.x brokers append the batch's properties to every inner
        // message, so one would replace each message's own id.
        let mut batch_properties = String::new();
        append_property(&mut batch_properties, property::WAIT, "true")?;
        let deadline = Instant::now() + self.config.send_timeout;
        let mut last_error = None;
        let mut avoid: Option<String> = None;
        for _ in 0..1 + self.config.send_retry_times {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                break;
            }
            let (route, template) = self.publish_queues(&instance, &wire_topic, deadline).await?;
            let queue = self.choose_queue(&route, template, &QueueChoice::RoundRobin, avoid.as_deref())?;
            let Some(addr) = route.data.master_addr(&queue.broker_name) else {
                avoid = Some(queue.broker_name.clone());
                continue;
            };
            let mut cmd = SendMessageRequestHeader {
                batch: true,
                ..SendMessageRequestHeader::new(
                    self.wire_group(),
                    &wire_topic,
                    template_queue_id(template, queue),
                    &queue.broker_name,
                    &batch_properties,
                    now_ms(),
                )
            }
            .command();
            cmd.body = body.clone();
            let started = Instant::now();
            let remaining = deadline.saturating_duration_since(started);
            let result = instance.invoke(addr, cmd, remaining).await;
            self.faults.record(&queue.broker_name, started.elapsed(), result.is_err());
            let resp = match result {
                Ok(r) => r,
                Err(e) => {
                    if !template {
                        refresh_route_after_failure(&instance, &wire_topic, &e, deadline).await;
                    }
                    avoid = Some(queue.broker_name.clone());
                    last_error = Some(e);
                    continue;
                }
            };
            if template {
                instance.invalidate_route(&wire_topic);
            }
            let status = match stored_status(resp.code) {
                Some(status) => status,
                None => {
                    let err = Error::from_response(resp.code, resp.remark.as_deref(), "batch send");
                    if err.is_retryable() {
                        avoid = Some(queue.broker_name.clone());
                        last_error = Some(err);
                        continue;
                    }
                    return Err(err);
                }
            };
            let header = SendMessageResponseHeader::decode(&resp)?;
            Stored::keep(&mut stored, &resp, addr);
            let (queue_id, first_offset) = (header.queue_id, header.queue_offset);
            let (topic, broker_name): (Arc<str>, Arc<str>) =
                (first.topic.as_str().into(), queue.broker_name.as_str().into());
            let mut offset_ids = split_commas(&header.msg_id);
            return Ok(ids
                .into_iter()
                .enumerate()
                .map(|(i, id)| SendResult {
                    message_id: id,
                    topic: topic.clone(),
                    status,
                    broker_name: broker_name.clone(),
                    queue_id,
                    queue_offset: first_offset + i as i64,
                    offset_msg_id: offset_ids.next().map(str::to_owned).unwrap_or_default(),
                    transaction_id: None,
                })
                .collect());
        }
        Err(last_error.unwrap_or_else(|| Error::timeout("batch send did not finish in time")))
    }
}

/// The pieces of `joined` between its commas, as `str::split(',')` gives them: a batch send's
/// answer joins its offset ids so. One search over the whole text for its commas (memchr's
/// vector search) rather than `split`'s per piece, which searched each id's 32 bytes alone
/// (about 175 instructions per batched message, callgrind).
fn split_commas(joined: &str) -> impl Iterator<Item = &str> {
    let mut commas = memchr::memchr_iter(b',', joined.as_bytes());
    let mut start = 0;
    std::iter::from_fn(move || {
        let from = (start <= joined.len()).then_some(start)?;
        let end = commas.next().unwrap_or(joined.len());
        start = end + 1;
        // Both ends are at a comma or the text's end, so on char boundaries.
        Some(&joined[from..end])
    })
}

/// The ONS `Producer`: normal and timed messages, sync, async and oneway. Thread-safe; one
/// instance can send to many topics.
pub struct Producer {
    core: ProducerCore,
}

impl Producer {
    /// Creates a producer from ONS properties (NAMESRV_ADDR and GROUP_ID required).
    pub fn new(properties: &Properties) -> Result<Self> {
        Ok(Producer { core: ProducerCore::new(ClientConfig::from_properties(properties, true)?) })
    }

    pub fn from_config(config: ClientConfig) -> Self {
        Producer { core: ProducerCore::new(config) }
    }

    /// Starts the producer. Must be called within a tokio runtime, whose worker threads then
    /// carry the producer's connections and background tasks.
    pub fn start(&self) -> Result<()> {
        self.core.start(None)
    }

    pub async fn shutdown(&self) {
        self.core.shutdown().await
    }

    /// What this producer's message traces came to (`MsgTraceSwitch`): records sent and
    /// dropped, while it runs and after shutdown; `None` when it has not traced.
    pub fn trace_counts(&self) -> Option<crate::trace::TraceCounts> {
        self.core.trace_counts()
    }

    pub fn is_started(&self) -> bool {
        self.core.is_started()
    }

    pub fn is_closed(&self) -> bool {
        self.core.is_closed()
    }

    /// Replaces AccessKey, SecretKey and SecurityToken from `properties` (AccessKey and
    /// SecretKey required, other known keys ignored) for every later request of this started
    /// client and of the clients sharing its settings (ONS `Admin.updateCredential`).
    pub fn update_credential(&self, properties: &Properties) -> Result<()> {
        self.core.update_credential(properties)
    }

    /// Sends and waits for the broker; retries retryable failures on another broker.
    pub async fn send(&self, msg: &Message) -> Result<SendResult> {
        self.core
            .send(msg, Mode::Sync, QueueChoice::RoundRobin, false)
            .await?
            .ok_or_else(|| Error::new(ErrorKind::Internal, "sync send produced no result"))
    }

    /// Sends without the sync retry policy: only transport failures are retried (as the Java
    /// client's async send does). Await it, or use [`Producer::send_with_callback`].
    pub async fn send_async(&self, msg: &Message) -> Result<SendResult> {
        self.core
            .send(msg, Mode::Async, QueueChoice::RoundRobin, false)
            .await?
            .ok_or_else(|| Error::new(ErrorKind::Internal, "async send produced no result"))
    }

    /// Sends in the background and calls `callback` with the outcome (on a runtime worker).
    pub fn send_with_callback<F>(self: &Arc<Self>, msg: Message, callback: F)
    where
        F: FnOnce(Result<SendResult>) + Send + 'static,
    {
        let this = self.clone();
        tokio::spawn(async move {
            let result = this.send_async(&msg).await;
            callback(result);
        });
    }

    /// Sends to one queue of the message's topic, and waits for the broker; a single attempt,
    /// since another queue is not what was asked (the ONS C++ SDK's `Producer::send(Message&,
    /// const MessageQueueONS&)`, Java's `DefaultMQProducer.send(Message, MessageQueue)`). The
    /// queue's topic must be the message's (both without the namespace); a queue that the
    /// topic's route does not list as writable is refused as an invalid argument naming the
    /// queues it does list.
    pub async fn send_to_queue(&self, msg: &Message, queue: &MessageQueue) -> Result<SendResult> {
        if queue.topic != msg.topic {
            return Err(Error::invalid_argument(format!(
                "the queue is of topic {:?} but the message is of topic {:?}; they must be the same",
                queue.topic, msg.topic
            ))
            .for_message(None, &msg.topic));
        }
        if queue.broker_name.is_empty() || queue.queue_id < 0 {
            return Err(Error::invalid_argument(format!(
                "the queue needs a broker name and a queue id of 0 or more (got broker {:?}, queue id {})",
                queue.broker_name, queue.queue_id
            ))
            .for_message(None, &msg.topic));
        }
        self.core
            .send(msg, Mode::Sync, QueueChoice::Given(queue), false)
            .await?
            .ok_or_else(|| Error::new(ErrorKind::Internal, "send to a queue produced no result"))
    }

    /// Sends without waiting for the broker (no result, no retry).
    pub async fn send_oneway(&self, msg: &Message) -> Result<()> {
        self.core.send(msg, Mode::Oneway, QueueChoice::RoundRobin, false).await.map(|_| ())
    }

    /// Sends messages of one topic in one request (not in the ONS API; the Java client has it).
    pub async fn send_batch(&self, msgs: &[Message]) -> Result<Vec<SendResult>> {
        self.core.send_batch(msgs).await
    }
}

/// The ONS `OrderProducer`: messages with the same sharding key go to the same queue, chosen
/// as the ONS Java client does so mixed fleets agree.
pub struct OrderProducer {
    core: ProducerCore,
}

impl OrderProducer {
    pub fn new(properties: &Properties) -> Result<Self> {
        Ok(OrderProducer { core: ProducerCore::new(ClientConfig::from_properties(properties, true)?) })
    }

    pub fn start(&self) -> Result<()> {
        self.core.start(None)
    }

    pub async fn shutdown(&self) {
        self.core.shutdown().await
    }

    pub fn is_started(&self) -> bool {
        self.core.is_started()
    }

    pub fn is_closed(&self) -> bool {
        self.core.is_closed()
    }

    /// As [`Producer::trace_counts`].
    pub fn trace_counts(&self) -> Option<TraceCounts> {
        self.core.trace_counts()
    }

    /// As [`Producer::update_credential`].
    pub fn update_credential(&self, properties: &Properties) -> Result<()> {
        self.core.update_credential(properties)
    }

    /// Sends to the queue `abs(hashCode(sharding_key)) % queues`; a single attempt, since
    /// another queue would break the key's order. A blank key (empty or only whitespace) is
    /// refused, as the ONS Java SDK's `OrderProducer` refuses it ("'shardingKey' is blank").
    pub async fn send(&self, msg: &Message, sharding_key: &str) -> Result<SendResult> {
        crate::message::validate_sharding_key(sharding_key).map_err(|e| e.for_message(None, &msg.topic))?;
        let mut msg = msg.clone();
        msg.sharding_key = Some(sharding_key.to_owned());
        self.core
            .send(&msg, Mode::Sync, QueueChoice::ShardingKey(sharding_key), false)
            .await?
            .ok_or_else(|| Error::new(ErrorKind::Internal, "order send produced no result"))
    }
}

/// The route's queue for a send to `wanted` (its topic already checked against the message's):
/// a queue the route does not list as writable is refused with what the route does list, as
/// the broker would refuse it with less said. A topic that does not exist yet (the route is the
/// auto-create template's) has no queues to choose from.
fn given_queue<'r>(route: &'r TopicRoute, template: bool, wanted: &MessageQueue) -> Result<&'r MessageQueue> {
    if template {
        return Err(Error::new(
            ErrorKind::TopicNotFound,
            format!(
                "topic {} does not exist; a message is sent to a chosen queue only of an existing topic",
                wanted.topic
            ),
        ));
    }
    let queues = &route.publish_queues;
    if let Some(queue) = queues.iter().find(|q| q.broker_name == wanted.broker_name && q.queue_id == wanted.queue_id) {
        return Ok(queue);
    }
    let of_broker: Vec<String> =
        queues.iter().filter(|q| q.broker_name == wanted.broker_name).map(|q| q.queue_id.to_string()).collect();
    let listed = if of_broker.is_empty() {
        let mut brokers: Vec<&str> = queues.iter().map(|q| q.broker_name.as_str()).collect();
        brokers.dedup();
        format!(
            "broker {} has no writable queue of it (brokers with writable queues: {})",
            wanted.broker_name,
            brokers.join(", ")
        )
    } else {
        format!("broker {}'s writable queues are {}", wanted.broker_name, of_broker.join(", "))
    };
    Err(Error::invalid_argument(format!(
        "queue {} of broker {} is not a writable queue of topic {}: {listed}",
        wanted.queue_id, wanted.broker_name, wanted.topic
    )))
}

/// The send status for a response code that means "stored"; `None` for every other code.
fn stored_status(code: i32) -> Option<SendStatus> {
    match code {
        response::SUCCESS => Some(SendStatus::SendOk),
        response::FLUSH_DISK_TIMEOUT => Some(SendStatus::FlushDiskTimeout),
        response::FLUSH_SLAVE_TIMEOUT => Some(SendStatus::FlushSlaveTimeout),
        response::SLAVE_NOT_AVAILABLE => Some(SendStatus::SlaveNotAvailable),
        _ => None,
    }
}

/// After a send attempt could not reach a broker (`error` a network failure or timeout), fetches
/// `wire_topic`'s route again within what is left until `deadline`, so that the next attempt
/// and the sends after it use the name server's current route rather than the cached one (which
/// the periodic refresh replaces only every 30 s). The master may be gone: the name server drops
/// a broker whose connection closed, and lists the master a controller-mode set elects in its
/// place (docs/high-availability.md). A failed lookup keeps the cached route.
async fn refresh_route_after_failure(instance: &ClientInstance, wire_topic: &str, error: &Error, deadline: Instant) {
    if !matches!(error.kind(), ErrorKind::Network | ErrorKind::Timeout) {
        return;
    }
    let left = deadline.saturating_duration_since(Instant::now());
    // Boxed: it runs only after a failed attempt, and every send's future holds room for
    // what the send may await.
    if let Ok(Err(e)) = tokio::time::timeout(left, Box::pin(instance.fetch_route(wire_topic))).await {
        tracing::debug!(topic = %wire_topic, error = %e, "route lookup after a failed send failed; keeping the old route");
    }
}

/// The queue id to send to: a topic the broker creates on this send gets
/// `DEFAULT_TOPIC_QUEUE_NUMS` queues, so the template's larger ids are folded into that range.
fn template_queue_id(template: bool, queue: &MessageQueue) -> i32 {
    if template {
        queue.queue_id % DEFAULT_TOPIC_QUEUE_NUMS
    } else {
        queue.queue_id
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::keys;

    #[test]
    fn commas_split_as_str_split_does() {
        let id = "7F00000100002A9F00000000000DF4A1";
        let long = [id; 40].join(",");
        for joined in ["", ",", "a", "a,", ",a", "a,,b", "ab,cd,ef", "é,ü,,", &long] {
            assert_eq!(split_commas(joined).collect::<Vec<_>>(), joined.split(',').collect::<Vec<_>>(), "{joined:?}");
        }
    }

    #[tokio::test]
    async fn an_ordered_send_refuses_a_blank_sharding_key_before_anything_else() {
        let props = Properties::new().with(keys::NAMESRV_ADDR, "127.0.0.1:1").with(keys::GROUP_ID, "GID_blank");
        let producer = OrderProducer::new(&props).unwrap();
        for blank in ["", " ", "\t", " \n "] {
            let err = producer.send(&Message::new("T", None, "x"), blank).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{blank:?}: {err}");
            assert!(err.message().contains("is blank") && err.message().contains("shardingKey"), "{blank:?}: {err}");
        }
        // A real key gets past the check (and fails only because the producer is not started).
        let err = producer.send(&Message::new("T", None, "x"), " k ").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotStarted, "{err}");
        // Both failed before the message had an id; they name its topic.
        assert_eq!((err.topic(), err.message_id()), (Some("T"), None), "{err:?}");
    }

    #[tokio::test]
    async fn a_failed_send_names_the_message_id_it_assigned_and_the_topic() {
        let props = Properties::new()
            .with(keys::NAMESRV_ADDR, "127.0.0.1:1")
            .with(keys::GROUP_ID, "GID_failed")
            .with(keys::SEND_MSG_TIMEOUT_MILLIS, "300");
        let producer = Producer::new(&props).unwrap();
        producer.start().unwrap();
        for (mode, err) in [
            ("send", producer.send(&Message::new("T_failed", None, "x")).await.unwrap_err()),
            ("send_async", producer.send_async(&Message::new("T_failed", None, "x")).await.unwrap_err()),
            ("send_oneway", producer.send_oneway(&Message::new("T_failed", None, "x")).await.unwrap_err()),
        ] {
            assert_eq!(err.topic(), Some("T_failed"), "{mode}: {err:?}");
            let id = err.message_id().unwrap_or_else(|| panic!("{mode}: no message id in {err:?}"));
            assert_eq!(id.len(), 32, "{mode}: {id} is not a UNIQ_KEY");
        }
        let invalid = producer.send(&Message::new("", None, "x")).await.unwrap_err();
        assert_eq!(invalid.kind(), ErrorKind::InvalidArgument, "{invalid}");
        assert_eq!((invalid.topic(), invalid.message_id()), (Some(""), None), "{invalid:?}");
        producer.shutdown().await;
    }

    #[test]
    fn a_send_s_future_holds_no_room_for_the_rare_route_fetch() {
        // The runtime copies a spawned send's future several times; with room for a route
        // fetch from the name servers (about 2.5 KB) that a send to a cached topic never
        // awaits, it was 3.8 KB. Boxed, those awaits leave it at about 1.9 KB.
        let props = Properties::new().with(keys::NAMESRV_ADDR, "127.0.0.1:1").with(keys::GROUP_ID, "GID_size");
        let producer = Producer::new(&props).unwrap();
        let msg = Message::new("T", None, "x");
        let send = producer.core.send(&msg, Mode::Async, QueueChoice::RoundRobin, false);
        let size = std::mem::size_of_val(&send);
        assert!(size < 2500, "a send's future takes {size} bytes");
    }
}
