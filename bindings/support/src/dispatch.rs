//! Running the futures that event-loop bindings (Node.js, asyncio) start, in batches.
//!
//! Such a binding's loop thread starts many short futures (one per `send()`), and each one
//! spawned on its own costs a wake-up of a runtime thread, and its result another wake-up of
//! the loop: with the loop and the runtime sharing a core, a context switch or two per send.
//! One [`Dispatcher`] per event loop runs all of them in a single runtime task instead.
//! Starting a future is a push onto the dispatcher's outbox, and only a push onto an empty
//! outbox needs a [`wake`](Dispatcher::wake), which the binding may put off to the end of its
//! loop turn. After every poll pass the dispatcher calls the binding's `after_poll` hook, so
//! whatever its futures finished during the pass reaches the loop with one wake-up
//! ([`Dispatcher::is_polling`] tells a finishing future that the hook will follow).
//!
//! A future that is quick to start (a send of a small message) can instead be polled once on
//! the loop thread with [`Dispatcher::start_here`]: it writes its request at once and reaches
//! the dispatcher only when its answer wakes it, on the runtime thread that read the answer. A
//! lone `await send()` then costs no wake-up of a runtime thread to start it.
//!
//! The way back is a [`Mailbox`]: what runtime threads leave for the loop, with at most one
//! wake-up of the loop outstanding at a time.
//!
//! A future that panics is dropped (its binding learns of it through its own wrapper); the
//! dispatcher and the other futures go on.

use parking_lot::Mutex;
use std::cell::Cell;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;

use futures_util::stream::FuturesUnordered;
use futures_util::task::AtomicWaker;
use futures_util::{FutureExt, StreamExt};

type Job = Pin<Box<dyn Future<Output = ()> + Send>>;

struct DispatchState {
    /// Futures started and not yet taken by the dispatcher task.
    outbox: Mutex<Vec<Job>>,
    waker: AtomicWaker,
    closed: AtomicBool,
    /// Jobs started (pushed, or polled here and parked) and not finished.
    unfinished: AtomicUsize,
}

impl DispatchState {
    /// A job started by [`Dispatcher::push`] or [`Dispatcher::start_here`] has finished.
    fn finished(&self) {
        self.unfinished.fetch_sub(1, Ordering::AcqRel);
    }
}

thread_local! {
    /// The dispatcher whose poll pass runs on this thread (its address), or 0.
    static POLLING: Cell<usize> = const { Cell::new(0) };
}

/// Where a binding's future is polled first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// By the dispatcher on a runtime thread ([`Dispatcher::push`], then a wake).
    OnRuntime,
    /// Once on the loop thread, then by the dispatcher once something wakes it
    /// ([`Dispatcher::start_here`]).
    Here,
}

/// Sends of bodies up to this size start on the loop thread: encoding them before the first
/// await (compressing too, past `CompressMsgBodyOverHowmuch`) takes microseconds. Larger ones are
/// encoded on a runtime thread, off the event loop.
const STARTED_HERE_MAX_BODY: usize = 4096;

impl Start {
    /// Where a send of `message` starts.
    pub fn for_send(message: &rocketmq_ons::Message) -> Start {
        if message.body.len() <= STARTED_HERE_MAX_BODY {
            Start::Here
        } else {
            Start::OnRuntime
        }
    }
}

/// Runs the futures of one event loop (see the module docs). Cheap to clone.
#[derive(Clone)]
pub struct Dispatcher {
    shared: Arc<DispatchState>,
}

impl Dispatcher {
    /// A dispatcher and its task, which the caller spawns on the runtime; `after_poll` runs on
    /// the task after every poll pass.
    pub fn new(after_poll: impl Fn() + Send + Sync + 'static) -> (Self, impl Future<Output = ()> + Send + 'static) {
        let shared = Arc::new(DispatchState {
            outbox: Mutex::new(Vec::new()),
            waker: AtomicWaker::new(),
            closed: AtomicBool::new(false),
            unfinished: AtomicUsize::new(0),
        });
        (Dispatcher { shared: shared.clone() }, run(shared, after_poll))
    }

    /// `T` built around a new dispatcher whose `after_poll` is `after_poll(&T)` (while `T`
    /// lives), and the dispatcher's task, which the caller spawns on the runtime.
    pub fn owned_by<T: Send + Sync + 'static>(
        build: impl FnOnce(Dispatcher) -> T,
        after_poll: fn(&T),
    ) -> (Arc<T>, impl Future<Output = ()> + Send + 'static) {
        let mut task = None;
        let owner = Arc::new_cyclic(|me: &std::sync::Weak<T>| {
            let me = me.clone();
            let (dispatcher, run) = Dispatcher::new(move || {
                if let Some(owner) = me.upgrade() {
                    after_poll(&owner);
                }
            });
            task = Some(run);
            build(dispatcher)
        });
        let run = async move {
            if let Some(run) = task {
                run.await;
            }
        };
        (owner, run)
    }

    /// Queues `job`. True when the outbox was empty: the dispatcher then needs a
    /// [`wake`](Self::wake) (now, or at the end of the caller's loop turn) to take it.
    pub fn push(&self, job: impl Future<Output = ()> + Send + 'static) -> bool {
        self.shared.unfinished.fetch_add(1, Ordering::AcqRel);
        self.enqueue(Box::pin(job))
    }

    /// Puts `job` in the outbox; true when it was empty.
    fn enqueue(&self, job: Job) -> bool {
        let mut outbox = self.shared.outbox.lock();
        outbox.push(job);
        outbox.len() == 1
    }

    /// Whether a job to be started as `start` says should be polled here ([`start_here`]) rather
    /// than [`push`]ed: only a [`Start::Here`] job, and only while no other job of this dispatcher
    /// is unfinished. Jobs with company are pushed, so that the dispatcher starts them together
    /// and their requests share writes (a burst of sends each written from the loop thread cost
    /// a fifth more CPU per send in the Python benchmark's bursts of 256).
    ///
    /// [`start_here`]: Self::start_here
    /// [`push`]: Self::push
    pub fn polls_here(&self, start: Start) -> bool {
        start == Start::Here && self.shared.unfinished.load(Ordering::Acquire) == 0
    }

    /// Polls `job` once on the calling thread and, unless that finishes it, hands it to the
    /// dispatcher when it is next woken, from whatever thread wakes it (for a request, the
    /// runtime thread that read its answer; the dispatcher task then runs there without a
    /// further wake-up). A send started this way writes its request at once, without waking a
    /// runtime thread for it. The caller must be inside the runtime's context, and `job` must not
    /// do slow work before its first await: it runs on the caller's (event loop) thread.
    pub fn start_here(&self, job: impl Future<Output = ()> + Send + 'static) {
        let mut job: Job = Box::pin(job);
        self.shared.unfinished.fetch_add(1, Ordering::AcqRel);
        let parked =
            Arc::new(Parked { job: Mutex::new(None), woken: AtomicBool::new(false), dispatcher: self.clone() });
        let waker = std::task::Waker::from(parked.clone());
        let mut cx = std::task::Context::from_waker(&waker);
        match std::panic::catch_unwind(AssertUnwindSafe(|| job.as_mut().poll(&mut cx))) {
            Ok(Poll::Ready(())) => self.shared.finished(),
            Ok(Poll::Pending) => parked.park(job),
            Err(_) => {
                self.shared.finished();
                tracing::error!("a future run for a binding panicked")
            }
        }
    }

    /// Hands a parked job (already counted unfinished) to the dispatcher task.
    fn hand_over(&self, job: Job) {
        if self.enqueue(job) {
            self.wake();
        }
    }

    /// Has the dispatcher take what the outbox holds.
    pub fn wake(&self) {
        self.shared.waker.wake();
    }

    /// Whether this thread is inside this dispatcher's poll pass (so `after_poll` follows).
    pub fn is_polling(&self) -> bool {
        POLLING.with(Cell::get) == Arc::as_ptr(&self.shared) as usize
    }

    /// The task ends once the futures started so far have finished.
    pub fn close(&self) {
        self.shared.closed.store(true, Ordering::Release);
        self.shared.waker.wake();
    }
}

/// A job polled once by [`Dispatcher::start_here`], waiting to be woken; the waker it registered.
struct Parked {
    job: Mutex<Option<Job>>,
    /// Woken (possibly before the job was parked here: then parking hands it on at once).
    woken: AtomicBool,
    dispatcher: Dispatcher,
}

impl Parked {
    fn park(&self, job: Job) {
        *self.job.lock() = Some(job);
        if self.woken.load(Ordering::Acquire) {
            self.hand_over();
        }
    }

    /// Gives the job to the dispatcher, once (whoever takes it from the slot first).
    fn hand_over(&self) {
        let job = self.job.lock().take();
        if let Some(job) = job {
            self.dispatcher.hand_over(job);
        }
    }
}

impl std::task::Wake for Parked {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.hand_over();
    }
}

/// What runtime threads leave for an event loop (settled promises, finished futures, listener
/// calls), with at most one wake-up of the loop outstanding: the binding wakes the loop only
/// when [`claim_wake`](Self::claim_wake) says so, and the loop [`take`](Self::take)s everything.
pub struct Mailbox<T> {
    items: Mutex<Vec<T>>,
    /// A wake-up is on its way and the loop has not taken the items since.
    woken: AtomicBool,
}

impl<T> Default for Mailbox<T> {
    fn default() -> Self {
        Mailbox { items: Mutex::new(Vec::new()), woken: AtomicBool::new(false) }
    }
}

impl<T> Mailbox<T> {
    pub fn push(&self, item: T) {
        self.items.lock().push(item);
    }

    /// True when items wait and no wake-up is on its way: the caller must wake the loop now.
    pub fn claim_wake(&self) -> bool {
        !self.items.lock().is_empty() && !self.woken.swap(true, Ordering::AcqRel)
    }

    /// On the loop: everything left so far. Items left after this claim a new wake-up.
    pub fn take(&self) -> Vec<T> {
        self.woken.store(false, Ordering::Release);
        std::mem::take(&mut *self.items.lock())
    }

    /// Drops what waits (the loop is gone).
    pub fn clear(&self) {
        self.items.lock().clear();
    }
}

async fn run(shared: Arc<DispatchState>, after_poll: impl Fn()) {
    let mut running: FuturesUnordered<futures_util::future::CatchUnwind<AssertUnwindSafe<Job>>> =
        FuturesUnordered::new();
    std::future::poll_fn(|cx| {
        shared.waker.register(cx.waker());
        let outer = POLLING.with(|p| p.replace(Arc::as_ptr(&shared) as usize));
        loop {
            let new = std::mem::take(&mut *shared.outbox.lock());
            running.extend(new.into_iter().map(|job| AssertUnwindSafe(job).catch_unwind()));
            match running.poll_next_unpin(cx) {
                Poll::Ready(Some(Err(_))) => {
                    shared.finished();
                    tracing::error!("a future run for a binding panicked")
                }
                Poll::Ready(Some(Ok(()))) => shared.finished(),
                Poll::Ready(None) | Poll::Pending => break,
            }
        }
        POLLING.with(|p| p.set(outer));
        after_poll();
        // Counts parked jobs too: one woken after `close` still finds the task running.
        let idle = shared.unfinished.load(Ordering::Acquire) == 0;
        if idle && shared.closed.load(Ordering::Acquire) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mailbox_claims_one_wake_until_taken() {
        let mailbox = Mailbox::default();
        assert!(!mailbox.claim_wake(), "nothing waits");
        mailbox.push(1);
        assert!(mailbox.claim_wake());
        mailbox.push(2);
        assert!(!mailbox.claim_wake(), "a wake-up is already on its way");
        assert_eq!(mailbox.take(), vec![1, 2]);
        assert!(!mailbox.claim_wake(), "taken: nothing waits");
        mailbox.push(3);
        assert!(mailbox.claim_wake(), "left after the take: a new wake-up");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn runs_every_job_and_calls_after_poll_with_is_polling_seen_inside() {
        let passes = Arc::new(AtomicUsize::new(0));
        let counted = passes.clone();
        let (dispatcher, task) = Dispatcher::new(move || {
            counted.fetch_add(1, Ordering::SeqCst);
        });
        tokio::spawn(task);
        let done = Arc::new(AtomicUsize::new(0));
        let inside = Arc::new(AtomicUsize::new(0));
        let mut first = true;
        for i in 0..100u64 {
            let (done, inside, me) = (done.clone(), inside.clone(), dispatcher.clone());
            let needs_wake = dispatcher.push(async move {
                tokio::time::sleep(std::time::Duration::from_millis(i % 7)).await;
                if me.is_polling() {
                    inside.fetch_add(1, Ordering::SeqCst);
                }
                done.fetch_add(1, Ordering::SeqCst);
            });
            // Later pushes need one only if the task took the outbox in between.
            assert!(needs_wake || !first, "the first push onto an empty outbox needs a wake");
            first = false;
        }
        assert!(!dispatcher.is_polling(), "not inside a poll pass here");
        dispatcher.wake();
        assert_eq!(count_reaches(&done, 100).await, 100);
        assert_eq!(inside.load(Ordering::SeqCst), 100, "jobs finish inside the dispatcher's poll");
        assert!(passes.load(Ordering::SeqCst) >= 1);
        // A panicking job is dropped; later jobs still run.
        dispatcher.push(async { panic!("boom") });
        let after = done.clone();
        dispatcher.push(async move {
            after.fetch_add(1, Ordering::SeqCst);
        });
        dispatcher.wake();
        assert_eq!(count_reaches(&done, 101).await, 101);
        dispatcher.close();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn start_here_polls_on_the_caller_then_the_dispatcher_finishes_on_wake() {
        let (dispatcher, task) = Dispatcher::new(|| {});
        tokio::spawn(task);
        let caller = std::thread::current().id();
        let log = Arc::new(Mutex::new(Vec::new()));

        // Finished by its first poll: it ran on the caller's thread and never needed the task.
        let l = log.clone();
        dispatcher.start_here(async move { l.lock().push(("ready", std::thread::current().id() == caller)) });

        assert!(dispatcher.polls_here(Start::Here), "nothing unfinished: a quick job starts here");
        assert!(!dispatcher.polls_here(Start::OnRuntime));

        // Pending on a channel answered from another thread: the wake hands it to the dispatcher.
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let (l, me) = (log.clone(), dispatcher.clone());
        dispatcher.start_here(async move {
            l.lock().push(("first poll", std::thread::current().id() == caller));
            rx.await.unwrap();
            l.lock().push(("finished in the dispatcher", me.is_polling()));
        });

        assert!(!dispatcher.polls_here(Start::Here), "with a job unfinished, later ones are pushed");

        // Wakes itself during its first poll, before it is parked: handed over all the same.
        let (l, me) = (log.clone(), dispatcher.clone());
        let mut polled = false;
        dispatcher.start_here(async move {
            std::future::poll_fn(|cx| {
                if std::mem::replace(&mut polled, true) {
                    Poll::Ready(())
                } else {
                    cx.waker().wake_by_ref();
                    Poll::Pending
                }
            })
            .await;
            l.lock().push(("woken before parked", me.is_polling()));
        });

        std::thread::spawn(move || tx.send(()).unwrap()).join().unwrap();
        for _ in 0..200 {
            // Counted finished just after a job's last line has run.
            if log.lock().len() == 4 && dispatcher.polls_here(Start::Here) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        let mut entries = log.lock().clone();
        entries.sort();
        assert_eq!(
            entries,
            vec![
                ("finished in the dispatcher", true),
                ("first poll", true),
                ("ready", true),
                ("woken before parked", true)
            ]
        );
        assert!(dispatcher.polls_here(Start::Here), "all finished: none unfinished");
        dispatcher.close();
    }

    /// Waits (up to 2 s) for `count` to reach `target`; returns the last value seen.
    async fn count_reaches(count: &AtomicUsize, target: usize) -> usize {
        for _ in 0..200 {
            if count.load(Ordering::SeqCst) == target {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        count.load(Ordering::SeqCst)
    }
}
