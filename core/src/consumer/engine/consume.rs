//! Handing pulled messages to listeners: concurrent and batch consumption on the pool, or to a
//! deferred listener answering later, with ConsumeTimeout, results settled (commit, send-back, local retry), and orderly consumption one
//! message at a time per locked queue, with lock renewal.

use super::*;

thread_local! {
    /// The engine whose backlog this thread is handing over (its address), or 0.
    static HANDING_OVER: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

struct RestoreHandingOver(usize);

impl Drop for RestoreHandingOver {
    fn drop(&mut self) {
        HANDING_OVER.with(|h| h.set(self.0));
    }
}

impl Engine {
    pub(super) fn dispatch(&self, slot: &Arc<QueueSlot>, messages: Vec<Message>) {
        let Some(me) = self.me.upgrade() else { return };
        let size = self.settings.batch_max_size.max(1);
        let wait = self.settings.batch_await;
        // Each batch is made shared here, on the pulling thread: listeners and the consumer's
        // bookkeeping then pass it around by reference count (a deferred listener's answer may
        // hand the next batch over from the listener's own thread, e.g. a JS event loop).
        let chunks: Vec<Arc<[Message]>> = if size == 1 {
            messages.into_iter().map(|m| Arc::from([m])).collect()
        } else if wait.is_zero() {
            batches(messages, size).into_iter().map(Arc::from).collect()
        } else {
            // batchConsumeMaxAwaitDurationInSeconds: a batch that is not full waits, behind the
            // messages already held, until later pulls fill it or the hold times out. (The ONS
            // Java SDK, ons-client 1.8.8.8.Final on Maven Central, gathers a topic's messages
            // across queues in its shaded ConsumeMessageConcurrentlyService; here a batch stays
            // within one queue, as every batch of this client does.)
            let mut new_hold = None;
            let mut chunks = {
                let mut held = slot.held.lock();
                let starts_hold = held.0.is_empty();
                let mut all = std::mem::take(&mut held.0);
                all.extend(messages);
                let mut chunks = batches(all, size);
                if chunks.last().is_some_and(|c| c.len() < size) {
                    held.0 = chunks.pop().unwrap_or_default();
                    // Held messages that went out in a full batch end their hold.
                    if starts_hold || !chunks.is_empty() {
                        held.1 += 1;
                        new_hold = Some(held.1);
                    }
                }
                chunks
            };
            if let Some(hold) = new_hold {
                if !self.release_held_after(slot, hold, wait) {
                    // No runtime to wait on (the consumer is closing): nothing is held back.
                    chunks.extend(batches(std::mem::take(&mut slot.held.lock().0), size));
                }
            }
            chunks.into_iter().map(Arc::from).collect()
        };
        self.start_batches(&me, slot, chunks);
    }

    /// Gives the listeners what `slot` holds for hold `hold` once `wait` has passed, unless
    /// the hold ended before (its batch filled) or the queue was given up (the held messages
    /// are uncommitted: whoever takes the queue next gets them). A timer task, not a thread,
    /// waits. False when there is no runtime to run it.
    fn release_held_after(&self, slot: &Arc<QueueSlot>, hold: u64, wait: Duration) -> bool {
        let Some(me) = self.me.upgrade() else { return true };
        let slot = slot.clone();
        let mut stop = slot.stop.subscribe();
        let spawned = self.spawn(async move {
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = stop.wait_for(|stopped| *stopped) => {}
            }
            let messages = {
                let mut held = slot.held.lock();
                if held.1 != hold {
                    return;
                }
                let messages = std::mem::take(&mut held.0);
                if slot.dropped() {
                    return;
                }
                messages
            };
            if !messages.is_empty() {
                let chunks = batches(messages, me.settings.batch_max_size.max(1)).into_iter().map(Arc::from).collect();
                me.start_batches(&me, &slot, chunks);
            }
        });
        spawned.is_some()
    }

    /// Hands batches to a deferred listener or to the pool.
    fn start_batches(&self, me: &Arc<Engine>, slot: &Arc<QueueSlot>, chunks: Vec<Arc<[Message]>>) {
        let mut jobs = Vec::with_capacity(chunks.len());
        for chunk in chunks {
            if let Some(Listener::Deferred(listener)) = self.listener_for(&chunk[0].topic) {
                me.consume_deferred(slot, chunk, listener);
                continue;
            }
            let (me, slot) = (me.clone(), slot.clone());
            jobs.push(Box::new(move || me.consume_on_this_thread(&slot, chunk)) as Box<dyn FnOnce() + Send>);
        }
        if !jobs.is_empty() {
            self.pool.submit(jobs);
        }
    }

    /// Hands one message to a deferred listener once one of the ConsumeThreadNums places is
    /// free; its `ActionReply` settles the message (from whatever thread answers) and frees the
    /// place. No thread waits for the answer, and no task either: a message that finds no
    /// place waits in the backlog, and whoever frees a place hands the next one over.
    fn consume_deferred(
        self: &Arc<Self>,
        slot: &Arc<QueueSlot>,
        messages: Arc<[Message]>,
        listener: Arc<dyn DeferredMessageListener>,
    ) {
        let waiting = WaitingDelivery { slot: slot.clone(), messages, listener };
        let place = {
            let mut backlog = self.deferred_backlog.lock();
            // Only with nobody ahead of it may a message take a place directly (FIFO).
            match backlog.is_empty().then(|| self.deferred_places.clone().try_acquire_owned()) {
                Some(Ok(place)) => Some(place),
                // Closed at shutdown: nothing more is handed over then.
                Some(Err(tokio::sync::TryAcquireError::Closed)) => return,
                _ => {
                    // Pushed under the lock that a freed place's drain takes, so either that
                    // drain sees this message or this try saw that place.
                    backlog.push_back(waiting);
                    return;
                }
            }
        };
        if let Some(place) = place {
            if !self.hand_over(waiting, place) {
                self.hand_over_waiting();
            }
        }
    }

    /// Hands waiting messages over while places are free (called whenever one is freed).
    fn hand_over_waiting(self: &Arc<Self>) {
        // A listener that answers inside `consume` frees its place and lands here again, one
        // level deeper per message; the loop further up this thread's stack takes that place
        // instead, so the stack stays flat however long the backlog is.
        let me = Arc::as_ptr(self) as usize;
        let outer = HANDING_OVER.with(|h| h.replace(me));
        if outer == me {
            return;
        }
        let _restore = RestoreHandingOver(outer);
        loop {
            let next = {
                let mut backlog = self.deferred_backlog.lock();
                if backlog.is_empty() {
                    return;
                }
                match self.deferred_places.clone().try_acquire_owned() {
                    Ok(place) => backlog.pop_front().map(|w| (w, place)),
                    Err(tokio::sync::TryAcquireError::NoPermits) => return,
                    Err(tokio::sync::TryAcquireError::Closed) => {
                        backlog.clear();
                        return;
                    }
                }
            };
            // Outside the lock: a listener may answer inside `consume`, which frees the place
            // and comes back here.
            if let Some((waiting, place)) = next {
                self.hand_over(waiting, place);
            }
        }
    }

    /// Hands one message over with its place; false (and the place freed) when its queue was
    /// given up or the consumer is closing.
    fn hand_over(self: &Arc<Self>, waiting: WaitingDelivery, place: tokio::sync::OwnedSemaphorePermit) -> bool {
        let WaitingDelivery { slot, messages, listener } = waiting;
        if slot.dropped() || self.is_closing() {
            return false;
        }
        let slot = &slot;
        let guard = RunningGuard::new(slot);
        let batch = messages;
        let (id, job, started_ms) = self.watch(slot, &batch, Some(place));
        let settle_with = self.clone();
        let trace = self.trace_before(&batch, started_ms);
        let reply = ActionReply::new(move |action| {
            let me = settle_with;
            me.running.lock().remove(&id);
            let freed = job.permit.lock().take();
            let expired = job.expired.load(Ordering::Acquire);
            if let Some(trace) = trace {
                match action {
                    _ if expired => trace.after(false, ConsumeReturn::Timeout),
                    Action::CommitMessage => trace.after(true, ConsumeReturn::Success),
                    _ => trace.after(false, ConsumeReturn::Failed),
                }
            }
            if !expired {
                me.settle(guard, &job.slot, job.messages.clone(), action);
            }
            if let Some(place) = freed {
                drop(place);
                me.hand_over_waiting();
            }
        });
        let message = DeliveredMessage::new(batch);
        // A panic drops `reply` while unwinding, which answers ReconsumeLater.
        call_listener("message listener", || listener.consume(message, &slot.context, reply));
        true
    }

    /// Registers a listener call with the ConsumeTimeout watchdog; the id removes it again.
    /// Also returns when the call starts, ms since the epoch (the clock read once per call).
    fn watch(
        &self,
        slot: &Arc<QueueSlot>,
        batch: &Arc<[Message]>,
        place: Option<tokio::sync::OwnedSemaphorePermit>,
    ) -> (u64, Arc<RunningJob>, i64) {
        let started_ms = now_ms();
        slot.last_consume_ms.store(started_ms, Ordering::Relaxed);
        let job = Arc::new(RunningJob {
            started: Instant::now(),
            slot: slot.clone(),
            messages: batch.clone(),
            expired: AtomicBool::new(false),
            permit: Mutex::new(place),
        });
        let id = self.next_job.fetch_add(1, Ordering::Relaxed);
        self.running.lock().insert(id, job.clone());
        (id, job, started_ms)
    }

    /// Runs the listener for one message (or batch) on a pool thread and settles the result.
    fn consume_on_this_thread(self: &Arc<Self>, slot: &Arc<QueueSlot>, batch: Arc<[Message]>) {
        if slot.dropped() || self.is_closing() {
            return;
        }
        let guard = RunningGuard::new(slot);
        let (id, job, started_ms) = self.watch(slot, &batch, None);
        let context = &slot.context;
        let listener = self.listener_for(&batch[0].topic);
        let trace = listener.as_ref().and_then(|_| self.trace_before(&batch, started_ms));
        let action = match listener {
            Some(Listener::Concurrent(l)) => call_listener("message listener", || l.consume(&batch[0], context)),
            Some(Listener::Batch(l)) => call_listener("batch message listener", || l.consume(&batch, context)),
            _ => {
                tracing::warn!(topic = %batch[0].topic, "no listener for the topic (unsubscribed?); reconsumed later");
                None
            }
        };
        self.running.lock().remove(&id);
        let expired = job.expired.load(Ordering::Acquire);
        if let Some(trace) = trace {
            let (success, code) = match action {
                _ if expired => (false, ConsumeReturn::Timeout),
                None => (false, ConsumeReturn::Exception),
                Some(Action::CommitMessage) => (true, ConsumeReturn::Success),
                Some(_) => (false, ConsumeReturn::Failed),
            };
            trace.after(success, code);
        }
        if expired {
            return;
        }
        self.settle(guard, slot, batch, action.unwrap_or(Action::ReconsumeLater));
    }

    /// Applies a listener's result: commit, or hand the messages back for a later retry.
    fn settle(&self, guard: RunningGuard, slot: &Arc<QueueSlot>, batch: Arc<[Message]>, action: Action) {
        if slot.done.load(Ordering::Acquire) {
            return;
        }
        if action == Action::CommitMessage || !self.clustering() {
            if action != Action::CommitMessage {
                // BROADCASTING has no retry: the Java client drops failed messages too.
                tracing::warn!(count = batch.len(), "broadcast message consumption failed; not retried");
            }
            self.finish(slot, batch.iter().map(queue_offset));
            return;
        }
        let (Some(me), Ok(instance)) = (self.me.upgrade(), self.instance()) else { return };
        let slot = slot.clone();
        self.spawn(async move {
            let _running = guard;
            let mut handed_back = Vec::new();
            let mut failed = Vec::new();
            for m in batch.iter() {
                match retry_later(&instance, &me.group, me.namespace(), m, me.settings.max_reconsume_times).await {
                    Ok(()) => handed_back.push(queue_offset(m)),
                    Err(e) => {
                        tracing::warn!(msg_id = ?m.msg_id, error = %e, "could not hand the message back; consuming it again in 5 s");
                        failed.push(m.clone());
                    }
                }
            }
            me.finish(&slot, handed_back);
            if failed.is_empty() {
                return;
            }
            tokio::time::sleep(LOCAL_RETRY_DELAY).await;
            if !slot.dropped() {
                for m in &mut failed {
                    m.reconsume_times += 1;
                }
                me.dispatch(&slot, failed);
            }
        });
    }

    /// ConsumeTimeout: a listener running longer counts as failed; its messages are handed back
    /// and its thread is replaced (it is left to finish on its own; its result is ignored).
    pub(super) fn expire_stuck_listeners(&self) {
        let timeout = self.settings.consume_timeout;
        let stuck: Vec<Arc<RunningJob>> = self
            .running
            .lock()
            .values()
            .filter(|j| j.started.elapsed() > timeout)
            .filter(|j| !j.expired.swap(true, Ordering::AcqRel))
            .cloned()
            .collect();
        for job in stuck {
            tracing::warn!(timeout = ?timeout, count = job.messages.len(), "a listener exceeded ConsumeTimeout; its messages count as failed");
            let freed = job.permit.lock().take();
            if freed.is_none() {
                self.pool.replace_stuck_thread();
            }
            self.settle(RunningGuard::new(&job.slot), &job.slot, job.messages.clone(), Action::ReconsumeLater);
            // A deferred delivery holds no thread; its place goes to the next message.
            if let Some(place) = freed {
                drop(place);
                if let Some(me) = self.me.upgrade() {
                    me.hand_over_waiting();
                }
            }
        }
    }

    /// Hands stored entries that did not decode back to the broker by their commit-log offset
    /// (CONSUMER_SEND_MSG_BACK: the broker re-reads the message from its store, so nothing
    /// needs decoding here). Concurrently consumed ones go to the group's retry topic, to be
    /// delivered again (perhaps to a client of the group that can decode them) and moved to
    /// the dead-letter queue after MaxReconsumeTimes; orderly ones go straight to the
    /// dead-letter queue, since retrying cannot make them decodable and an ordered queue
    /// cannot move past them otherwise. Their offsets stay uncommitted until the broker has
    /// them; a failed hand-back is tried again every [`LOCAL_RETRY_DELAY`] while the queue is
    /// owned. BROADCASTING has no retry topic: the message is logged as an error and passed
    /// over, as the Java client passes over a failed broadcast message.
    pub(super) fn hand_back_undecodable(&self, slot: &Arc<QueueSlot>, messages: Vec<Message>) {
        if !self.clustering() {
            for m in &messages {
                let info = m.received.as_ref();
                crate::log_limit::error_limited!(
                    queue = ?slot.mq, queue_offset = queue_offset(m), error = ?info.and_then(|i| i.undecodable.as_deref()),
                    "BROADCASTING: a message that does not decode is passed over (no retry topic to hand it to)"
                );
            }
            self.finish(slot, messages.iter().map(queue_offset));
            return;
        }
        let (Some(me), Ok(instance)) = (self.me.upgrade(), self.instance()) else { return };
        // -1: the broker moves the message to the dead-letter queue at once; 0: it chooses the
        // retry delay from the reconsume count, as for any failed message.
        let delay_level = if self.orderly() { -1 } else { 0 };
        let slot = slot.clone();
        self.spawn(async move {
            for m in messages {
                loop {
                    if slot.dropped() {
                        return;
                    }
                    let max = me.settings.max_reconsume_times;
                    match send_back(&instance, &me.group, me.namespace(), &m, delay_level, max).await {
                        Ok(()) => {
                            me.finish(&slot, [queue_offset(&m)]);
                            slot.ready.notify_one();
                            break;
                        }
                        Err(e) => {
                            crate::log_limit::warn_limited!(
                                queue = ?slot.mq, queue_offset = queue_offset(&m), error = %e,
                                "could not hand an undecodable message back to the broker; trying again in 5 s"
                            );
                            tokio::time::sleep(LOCAL_RETRY_DELAY).await;
                        }
                    }
                }
            }
        });
    }

    fn finish(&self, slot: &QueueSlot, offsets: impl IntoIterator<Item = i64>) {
        let mut pq = slot.pq.lock();
        pq.remove(offsets);
        self.update_offset(slot, &pq);
    }

    pub(super) async fn orderly_loop(self: Arc<Self>, slot: Arc<QueueSlot>) {
        let Ok(instance) = self.instance() else { return };
        let mut stop = slot.stop.subscribe();
        let needs_lock = self.clustering();
        // Made once for the queue, shared by its deliveries (its names were copied per message).
        let context = Arc::new(ConsumeOrderContext { queue: slot.context.queue.clone() });
        loop {
            if *stop.borrow() {
                break;
            }
            if needs_lock && !slot.lock_valid() {
                sleep_or_stop(Duration::from_millis(200), &mut stop).await;
                continue;
            }
            let next = slot.pq.lock().first_message().cloned();
            let Some(msg) = next else {
                tokio::select! {
                    _ = slot.ready.notified() => {}
                    _ = stop.changed() => {}
                }
                continue;
            };
            // One copy of the message, shared with the listener's call (the trace wants a slice).
            let delivered: Arc<[Message]> = Arc::from([msg]);
            let msg = &delivered[0];
            let (tx, rx) = tokio::sync::oneshot::channel();
            match self.listener_for(&msg.topic) {
                Some(Listener::Orderly(l)) => {
                    let started_ms = now_ms();
                    slot.last_consume_ms.store(started_ms, Ordering::Relaxed);
                    let m = delivered.clone();
                    let context = context.clone();
                    let trace = self.trace_before(&m, started_ms);
                    // No timeout: a second delivery while the first still runs would break order.
                    self.pool.submit([Box::new(move || {
                        let result = call_listener("order listener", || l.consume(&m[0], &context));
                        if let Some(trace) = trace {
                            match result {
                                Some(OrderAction::Success) => trace.after(true, ConsumeReturn::Success),
                                Some(_) => trace.after(false, ConsumeReturn::Failed),
                                None => trace.after(false, ConsumeReturn::Exception),
                            }
                        }
                        let _ = tx.send(result);
                    }) as Box<dyn FnOnce() + Send>]);
                }
                _ => {
                    tracing::warn!(topic = %msg.topic, "no listener for the topic (unsubscribed?); suspended");
                    let _ = tx.send(None);
                }
            }
            // Dropped unanswered only when the pool closed at shutdown: the message stays
            // uncommitted.
            let Ok(result) = rx.await else { break };
            let action = result.unwrap_or(OrderAction::Suspend);
            let offset = queue_offset(msg);
            if action == OrderAction::Success {
                self.finish(&slot, [offset]);
                continue;
            }
            if msg.reconsume_times >= self.settings.max_reconsume_times {
                // Exhausted: to the dead-letter queue via the retry topic (the broker sends it
                // straight on, since the count exceeds the maximum), then move on.
                let sent = send_to_retry_topic(
                    &instance,
                    &self.group,
                    self.namespace(),
                    msg,
                    msg.reconsume_times.saturating_add(1),
                    self.settings.max_reconsume_times,
                    None,
                )
                .await;
                match sent {
                    Ok(()) => {
                        tracing::warn!(msg_id = ?msg.msg_id, "ordered message exhausted its retries; moved to the dead-letter queue");
                        self.finish(&slot, [offset]);
                        continue;
                    }
                    Err(e) => {
                        tracing::warn!(msg_id = ?msg.msg_id, error = %e, "could not move the message to the dead-letter queue")
                    }
                }
            } else if let Some(first) = slot.pq.lock().first_message_mut() {
                if queue_offset(first) == offset {
                    first.reconsume_times += 1;
                }
            }
            sleep_or_stop(self.settings.suspend_time, &mut stop).await;
        }
        self.finish_queue(&instance, &slot).await;
    }

    pub(super) async fn renew_locks(&self) {
        let Ok(instance) = self.instance() else { return };
        let mut by_broker: BTreeMap<String, Vec<Arc<QueueSlot>>> = BTreeMap::new();
        for slot in self.queues.lock().values() {
            if !slot.dropped() {
                by_broker.entry(slot.mq.broker_name.clone()).or_default().push(slot.clone());
            }
        }
        for (broker, slots) in by_broker {
            let queues: Vec<MessageQueue> = slots.iter().map(|s| s.mq.clone()).collect();
            match lock_batch(&instance, &self.group, &queues).await {
                Ok(ok) => {
                    for slot in slots {
                        if ok.contains(&slot.mq) {
                            slot.set_locked();
                        } else {
                            tracing::warn!(queue = ?slot.mq, "lost the queue lock to another client; giving the queue up");
                            slot.lost_lock.store(true, Ordering::Release);
                            slot.give_up();
                        }
                    }
                }
                Err(e) => tracing::warn!(broker = %broker, error = %e, "lock renewal failed"),
            }
        }
    }
}

/// `messages` cut into batches of at most `size`, in order. A batch holds messages of one topic
/// only (the retry queue mixes topics), so one listener gets all of them.
fn batches(messages: Vec<Message>, size: usize) -> Vec<Vec<Message>> {
    let mut chunks: Vec<Vec<Message>> = Vec::new();
    for m in messages {
        match chunks.last_mut() {
            Some(c) if c.len() < size && c[0].topic == m.topic => c.push(m),
            _ => chunks.push(vec![m]),
        }
    }
    chunks
}
