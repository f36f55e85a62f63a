//! Channels from core threads to the package's two pump threads (Python daemon threads started
//! by `rocketmq_ons/__init__.py`): one calls send callbacks (asyncio futures complete through
//! their loop's bridge instead, see `completion`), one emits log records through `logging`. Core threads only push; every call into Python happens on a
//! pump thread, in batches, so one GIL acquisition serves many messages.
//!
//! Channels are per process: a forked child starts fresh pumps, which take fresh channels, and
//! whatever the parent had queued is dropped with the parent's channel.

use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::Duration;

/// How long a pump waits for work before it looks at the stop flag (and, for logs, refreshes
/// the level).
pub(crate) const POLL: Duration = Duration::from_millis(200);
/// Most items a pump hands to Python at once.
pub(crate) const BATCH: usize = 4096;

static STOP: AtomicBool = AtomicBool::new(false);

pub(crate) fn stopping() -> bool {
    STOP.load(Ordering::Acquire)
}

/// Asks every pump to return (the exit hook).
pub(crate) fn stop_all() {
    STOP.store(true, Ordering::Release);
}

/// Called by a pump when it starts (also after a fork, where the flag is inherited).
pub(crate) fn clear_stop() {
    STOP.store(false, Ordering::Release);
}

struct Slot<T> {
    pid: u32,
    tx: Sender<T>,
    rx: Option<Receiver<T>>,
}

/// An unbounded multi-producer channel with one consumer (a pump), per process. Unbounded
/// because a core thread must never block on it; the log channel bounds itself by counting.
pub(crate) struct PidChannel<T> {
    slot: Mutex<Option<Slot<T>>>,
}

impl<T> PidChannel<T> {
    pub(crate) const fn new() -> Self {
        PidChannel { slot: Mutex::new(None) }
    }

    fn with_slot<R>(&self, f: impl FnOnce(&mut Slot<T>) -> R) -> R {
        let pid = rocketmq_ons::current_process_id();
        let mut guard = self.slot.lock();
        if guard.as_ref().is_none_or(|s| s.pid != pid) {
            if let Some(old) = guard.take() {
                // Items queued in the parent belong to the parent; its receiver may hold
                // Python objects whose destructors must not run without the GIL here.
                std::mem::forget(old);
            }
            let (tx, rx) = mpsc::channel();
            *guard = Some(Slot { pid, tx, rx: Some(rx) });
        }
        f(guard.as_mut().expect("slot was just filled"))
    }

    pub(crate) fn sender(&self) -> Sender<T> {
        self.with_slot(|s| s.tx.clone())
    }

    /// The receiving end, for the one pump of this process; `None` if a pump already has it.
    pub(crate) fn take_receiver(&self) -> Option<Arc<Mutex<Receiver<T>>>> {
        self.with_slot(|s| s.rx.take()).map(|rx| Arc::new(Mutex::new(rx)))
    }

    /// Gives the receiving end back when a pump returns, so a later pump can take it.
    pub(crate) fn return_receiver(&self, rx: Arc<Mutex<Receiver<T>>>) {
        let Ok(rx) = Arc::try_unwrap(rx) else { return };
        let rx = rx.into_inner();
        self.with_slot(|s| {
            if s.rx.is_none() {
                s.rx = Some(rx);
            }
        });
    }
}

/// Waits up to [`POLL`] for the first item, then takes whatever else is queued (up to
/// [`BATCH`]). Empty when nothing came or the channel is closed.
pub(crate) fn recv_batch<T>(rx: &Mutex<Receiver<T>>) -> Vec<T> {
    let rx = rx.lock();
    let mut out = Vec::new();
    match rx.recv_timeout(POLL) {
        Ok(first) => out.push(first),
        Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => return out,
    }
    while out.len() < BATCH {
        match rx.try_recv() {
            Ok(item) => out.push(item),
            Err(_) => break,
        }
    }
    out
}
