//! Rebalancing: which queues this instance owns (averagely among the group's live clients in
//! CLUSTERING, all of them in BROADCASTING), where a newly owned queue starts, and giving a queue
//! up (last commit, orderly unlock).

use super::*;

impl Engine {
    pub(super) async fn rebalance_loop(self: Arc<Self>) {
        let Ok(instance) = self.instance() else { return };
        let mut closing = self.closing.subscribe();
        for t in self.topics() {
            if let Err(e) = instance.route(&t).await {
                tracing::debug!(topic = %t, error = %e, "no route yet");
            }
        }
        instance.heartbeat_all().await;
        let mut backoff = Duration::from_millis(500);
        loop {
            if self.is_closing() {
                return;
            }
            let complete = self.rebalance(&instance).await;
            let wait = if complete {
                backoff = Duration::from_millis(500);
                REBALANCE_INTERVAL
            } else {
                backoff = (backoff * 2).min(REBALANCE_INTERVAL);
                backoff
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = self.rebalance_now.notified() => {}
                _ = closing.changed() => return,
            }
        }
    }

    /// One rebalance; `false` when something could not be done (retried soon).
    async fn rebalance(&self, instance: &Arc<ClientInstance>) -> bool {
        let topics = self.topics();
        let mut complete = true;
        let mut wanted: HashMap<String, Vec<MessageQueue>> = HashMap::new();
        let retry = retry_topic(&self.group);
        for topic in &topics {
            let shown = namespace::unwrap(self.namespace(), topic);
            let lookup = format!("route lookup of topic {shown}");
            let route = match instance.route(topic).await {
                Ok(r) => {
                    self.rebalance_succeeded(&lookup);
                    r
                }
                // The group's retry topic exists once a broker has taken the group's heartbeat
                // (or a first message back); until then there is nothing in it to consume.
                Err(e) if *topic == retry && e.kind() == ErrorKind::TopicNotFound => {
                    tracing::debug!(topic = %topic, error = %e, "rebalance: no retry topic yet");
                    complete = false;
                    continue;
                }
                // An unreachable name server, a topic that does not exist, a refusal: said at
                // WARN at once (and while it lasts, every ERROR_LOG_INTERVAL), with the cause.
                Err(e) => {
                    self.rebalance_failed(&lookup, &e);
                    complete = false;
                    continue;
                }
            };
            let all = route.subscribe_queues.clone();
            let mine = if self.clustering() {
                let listing = format!("consumer list of group {} for topic {shown}", self.group);
                match group_consumer_ids(instance, &self.group, &route).await {
                    Ok(ids) => {
                        self.rebalance_succeeded(&listing);
                        self.settings.allocate_strategy.allocate(&all, &ids, instance.client_id())
                    }
                    Err(e) => {
                        self.rebalance_failed(&listing, &e);
                        complete = false;
                        continue;
                    }
                }
            } else {
                all
            };
            wanted.insert(topic.clone(), mine);
        }

        // Give up queues no longer ours (only for topics whose allocation is known).
        let (to_drop, mut to_add) = {
            let table = self.queues.lock();
            let to_drop: Vec<Arc<QueueSlot>> = table
                .values()
                .filter(|s| !s.dropped())
                .filter(|s| {
                    !topics.contains(&s.mq.topic) || wanted.get(&s.mq.topic).is_some_and(|w| !w.contains(&s.mq))
                })
                .cloned()
                .collect();
            // A queue still being given up is added again only once it is gone.
            let to_add: Vec<MessageQueue> =
                wanted.values().flatten().filter(|mq| !table.contains_key(*mq)).cloned().collect();
            (to_drop, to_add)
        };
        for slot in to_drop {
            tracing::debug!(queue = ?slot.mq, "rebalance: giving the queue up");
            slot.give_up();
        }
        let pending_removal = {
            let table = self.queues.lock();
            wanted.values().flatten().any(|mq| table.get(mq).is_some_and(|s| s.dropped()))
        };
        if pending_removal {
            complete = false;
        }

        if self.orderly() && self.clustering() && !to_add.is_empty() {
            let mut by_broker: BTreeMap<String, Vec<MessageQueue>> = BTreeMap::new();
            for mq in to_add.drain(..) {
                by_broker.entry(mq.broker_name.clone()).or_default().push(mq);
            }
            for (broker, queues) in by_broker {
                match lock_batch(instance, &self.group, &queues).await {
                    Ok(ok) => {
                        if ok.len() < queues.len() {
                            complete = false;
                        }
                        to_add.extend(queues.into_iter().filter(|q| ok.contains(q)));
                    }
                    Err(e) => {
                        tracing::debug!(broker = %broker, error = %e, "rebalance: lock failed");
                        complete = false;
                    }
                }
            }
        }

        for mq in to_add {
            if self.is_closing() {
                break;
            }
            match self.start_offset(instance, &mq).await {
                Ok(offset) => self.add_queue(mq, offset),
                Err(e) => {
                    tracing::warn!(queue = ?mq, error = %e, "cannot read the start offset; queue not consumed yet");
                    complete = false;
                }
            }
        }
        complete
    }

    /// Where a newly assigned queue starts: the committed offset, else per ConsumeFromWhere.
    async fn start_offset(&self, instance: &ClientInstance, mq: &MessageQueue) -> Result<i64> {
        let stored = if self.clustering() {
            query_remote(instance, &self.group, mq).await?
        } else {
            self.local_offsets.get().and_then(|f| f.get(mq))
        };
        match stored {
            Some(offset) => Ok(offset),
            None => offset_without_commit(instance, mq, self.settings.consume_from).await,
        }
    }

    fn add_queue(&self, mq: MessageQueue, offset: i64) {
        let Some(me) = self.me.upgrade() else { return };
        let user_mq =
            MessageQueue::new(namespace::unwrap(self.namespace(), &mq.topic), mq.broker_name.clone(), mq.queue_id);
        let slot = Arc::new(QueueSlot {
            mq: mq.clone(),
            context: ConsumeContext { queue: user_mq },
            pq: Mutex::new(ProcessQueue::new(offset)),
            stop: watch::channel(false).0,
            ready: Notify::new(),
            lock_time: Mutex::new(None),
            lost_lock: AtomicBool::new(false),
            reset_to: Mutex::new(None),
            running: AtomicUsize::new(0),
            finishing: AtomicBool::new(false),
            done: AtomicBool::new(false),
            tasks: Mutex::new(Vec::new()),
            last_pull_ms: AtomicI64::new(0),
            last_consume_ms: AtomicI64::new(0),
            pull_from: AtomicI64::new(MASTER_ID),
            held: Mutex::new((Vec::new(), 0)),
        });
        if self.orderly() && self.clustering() {
            slot.set_locked();
        }
        self.offsets.set(&mq, offset);
        self.queues.lock().insert(mq.clone(), slot.clone());
        tracing::debug!(queue = ?mq, offset, "consuming queue");
        let mut tasks = Vec::new();
        if let Some(h) = self.spawn(me.clone().pull_loop(slot.clone())) {
            tasks.push(h);
        }
        if self.orderly() {
            if let Some(h) = self.spawn(me.orderly_loop(slot.clone())) {
                tasks.push(h);
            }
        }
        slot.tasks.lock().extend(tasks);
    }

    /// Commits a given-up queue's offset for the last time, releases its lock, and removes it.
    pub(super) async fn finish_queue(&self, instance: &ClientInstance, slot: &Arc<QueueSlot>) {
        if slot.finishing.swap(true, Ordering::AcqRel) {
            return;
        }
        // Listeners that finish within the grace period settle as usual: their messages leave
        // the process queue and the commit below moves past them.
        let deadline = Instant::now() + DRAIN_TIMEOUT;
        while slot.running.load(Ordering::Acquire) > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let commit = {
            let mut pq = slot.pq.lock();
            // Under the process-queue lock, which every offset update holds: no update that
            // checked `done` before this can write the offset table after it is removed below.
            slot.done.store(true, Ordering::Release);
            let c = pq.commit_offset();
            pq.clear();
            slot.reset_to.lock().take().unwrap_or(c)
        };
        let lost = slot.lost_lock.load(Ordering::Acquire);
        tracing::debug!(queue = ?slot.mq, offset = commit, lost, "final commit of a queue given up");
        let turn = self.persist_turn.read().await;
        // Out of the table first: a periodic persist after this point no longer writes it.
        self.offsets.remove(&slot.mq);
        if !lost {
            if self.clustering() {
                if let Err(e) = self.commit_gate.commit(instance, &self.group, &slot.mq, commit).await {
                    tracing::warn!(queue = ?slot.mq, offset = commit, error = %e, "could not commit the offset of a queue given up");
                }
            } else if let Some(file) = self.local_offsets.get() {
                if let Err(e) = file.store(&[(slot.mq.clone(), commit)]) {
                    tracing::warn!(queue = ?slot.mq, error = %e, "could not store the offset of a queue given up");
                }
            }
        }
        drop(turn);
        if !lost && self.orderly() && self.clustering() {
            // At shutdown the unlock is acknowledged so the next owner can lock at once.
            let oneway = !self.is_closing();
            if let Err(e) = unlock_batch(instance, &self.group, std::slice::from_ref(&slot.mq), oneway).await {
                tracing::debug!(queue = ?slot.mq, error = %e, "unlock failed; the broker lock expires by itself");
            }
        }
        let mut table = self.queues.lock();
        if table.get(&slot.mq).is_some_and(|s| Arc::ptr_eq(s, slot)) {
            table.remove(&slot.mq);
        }
        drop(table);
        if lost {
            self.rebalance_now.notify_one();
        }
    }
}
