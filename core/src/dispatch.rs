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
//! The way back is a [`Mailbox`]: what runtime threads leave for the loop, with at most one
//! wake-up of the loop outstanding at a time.
//!
//! A future that panics is dropped (its binding learns of it through its own wrapper); the
//! dispatcher and the other futures go on.

use std::cell::Cell;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;

use futures_util::stream::FuturesUnordered;
use futures_util::task::AtomicWaker;
use futures_util::{FutureExt, StreamExt};

type Job = Pin<Box<dyn Future<Output = ()> + Send>>;

struct Shared {
    /// Futures started and not yet taken by the dispatcher task.
    outbox: Mutex<Vec<Job>>,
    waker: AtomicWaker,
    closed: AtomicBool,
}

thread_local! {
    /// The dispatcher whose poll pass runs on this thread (its address), or 0.
    static POLLING: Cell<usize> = const { Cell::new(0) };
}

/// Runs the futures of one event loop (see the module docs). Cheap to clone.
#[derive(Clone)]
pub struct Dispatcher {
    shared: Arc<Shared>,
}

impl Dispatcher {
    /// A dispatcher and its task, which the caller spawns on the runtime; `after_poll` runs on
    /// the task after every poll pass.
    pub fn new(after_poll: impl Fn() + Send + Sync + 'static) -> (Self, impl Future<Output = ()> + Send + 'static) {
        let shared = Arc::new(Shared {
            outbox: Mutex::new(Vec::new()),
            waker: AtomicWaker::new(),
            closed: AtomicBool::new(false),
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
        let mut outbox = self.shared.outbox.lock().unwrap_or_else(|p| p.into_inner());
        outbox.push(Box::pin(job));
        outbox.len() == 1
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
        self.items.lock().unwrap_or_else(|p| p.into_inner()).push(item);
    }

    /// True when items wait and no wake-up is on its way: the caller must wake the loop now.
    pub fn claim_wake(&self) -> bool {
        !self.items.lock().unwrap_or_else(|p| p.into_inner()).is_empty() && !self.woken.swap(true, Ordering::AcqRel)
    }

    /// On the loop: everything left so far. Items left after this claim a new wake-up.
    pub fn take(&self) -> Vec<T> {
        self.woken.store(false, Ordering::Release);
        std::mem::take(&mut *self.items.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Drops what waits (the loop is gone).
    pub fn clear(&self) {
        self.items.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

async fn run(shared: Arc<Shared>, after_poll: impl Fn()) {
    let mut running: FuturesUnordered<futures_util::future::CatchUnwind<AssertUnwindSafe<Job>>> =
        FuturesUnordered::new();
    std::future::poll_fn(|cx| {
        shared.waker.register(cx.waker());
        let outer = POLLING.with(|p| p.replace(Arc::as_ptr(&shared) as usize));
        loop {
            let new = std::mem::take(&mut *shared.outbox.lock().unwrap_or_else(|p| p.into_inner()));
            running.extend(new.into_iter().map(|job| AssertUnwindSafe(job).catch_unwind()));
            match running.poll_next_unpin(cx) {
                Poll::Ready(Some(Err(_))) => tracing::error!("a future run for a binding panicked"),
                Poll::Ready(Some(Ok(()))) => {}
                Poll::Ready(None) | Poll::Pending => break,
            }
        }
        POLLING.with(|p| p.set(outer));
        after_poll();
        let idle = running.is_empty() && shared.outbox.lock().unwrap_or_else(|p| p.into_inner()).is_empty();
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
    use std::sync::atomic::AtomicUsize;

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
