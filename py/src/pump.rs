//! The package's two pump threads (Python daemon threads) and the channels that feed them from
//! core threads: one calls send callbacks (asyncio futures complete through their loop's bridge
//! instead, see `completion`), one emits log records through `logging`. Core threads only push;
//! every call into Python happens on a pump thread, in batches, so one GIL acquisition serves
//! many messages.
//!
//! The pumps start on first use of the runtime in a process ([`ensure_running`]), not at import:
//! a process that makes no client starts no thread. Nothing reaches a channel before then, as
//! only runtime work sends or logs. The exit hook stops them ([`stop_all`]) by waking them, so
//! the interpreter's exit does not wait for a poll to run out.
//!
//! Channels are per process: a forked child starts fresh pumps on its first use of the runtime,
//! which take fresh channels, and whatever the parent had queued is dropped with the parent's
//! channel.

use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::Duration;

use pyo3::prelude::*;

/// How often the log pump looks at the level of the `rocketmq_ons` logger when no record comes.
pub(crate) const LEVEL_POLL: Duration = Duration::from_millis(200);
/// Most items a pump hands to Python at once.
pub(crate) const BATCH: usize = 4096;

/// The process whose pumps have been started (0: none).
static RUNNING_IN: AtomicU32 = AtomicU32::new(0);
static STOP: AtomicBool = AtomicBool::new(false);

/// Starts this process's pumps (the package's `_start_pumps`) unless they were started already.
/// Called with every use of the runtime by a Python thread; after the first, one atomic load.
pub(crate) fn ensure_running(py: Python<'_>) -> PyResult<()> {
    let pid = rocketmq_ons::current_process_id();
    let started_in = RUNNING_IN.load(Ordering::Acquire);
    // Once the exit hook ran, a pump started now would still be waiting when the interpreter
    // finalizes, and a daemon thread that takes the GIL then is ended inside Rust frames.
    if started_in == pid || stopping() {
        return Ok(());
    }
    if RUNNING_IN.compare_exchange(started_in, pid, Ordering::AcqRel, Ordering::Acquire).is_err() {
        return Ok(()); // another thread is starting them; items wait in the channels meanwhile
    }
    let started = py.import("rocketmq_ons").and_then(|package| package.call_method0("_start_pumps"));
    if let Err(e) = started {
        RUNNING_IN.store(0, Ordering::Release);
        return Err(e);
    }
    Ok(())
}

pub(crate) fn stopping() -> bool {
    STOP.load(Ordering::Acquire)
}

/// Has every pump return once it has handed over what is queued (the exit hook).
pub(crate) fn stop_all() {
    STOP.store(true, Ordering::Release);
    crate::completion::COMPLETIONS.wake();
    crate::logging::RECORDS.wake();
}

/// What a channel carries: an item, or a nudge that ends the pump's wait so it looks at the
/// stop flag now.
enum Envelope<T> {
    Item(T),
    Wake,
}

struct Slot<T> {
    pid: u32,
    tx: Sender<Envelope<T>>,
    rx: Option<Receiver<Envelope<T>>>,
}

/// The sending end of a [`PidChannel`], for core threads.
pub(crate) struct PumpSender<T>(Sender<Envelope<T>>);

impl<T> PumpSender<T> {
    /// False when the pump is gone for good (its receiver dropped).
    pub(crate) fn send(&self, item: T) -> bool {
        self.0.send(Envelope::Item(item)).is_ok()
    }
}

/// The receiving end of a [`PidChannel`], held by its pump while it runs. (In a lock so the
/// pump can wait on it with the GIL released.)
pub(crate) struct PumpReceiver<T>(Mutex<Receiver<Envelope<T>>>);

impl<T> PumpReceiver<T> {
    /// Waits for the first item (up to `wait`, or until one comes when `None`; not at all once
    /// the pumps are stopping), then takes whatever else is queued, up to [`BATCH`]. Empty when
    /// nothing came, a wake came first, or the channel is closed.
    pub(crate) fn recv_batch(&self, wait: Option<Duration>) -> Vec<T> {
        let rx = self.0.lock();
        let first = match wait {
            _ if stopping() => rx.try_recv().ok(),
            Some(wait) => rx.recv_timeout(wait).ok(),
            None => rx.recv().ok(),
        };
        let mut out = Vec::new();
        match first {
            Some(Envelope::Item(item)) => out.push(item),
            Some(Envelope::Wake) | None => return out,
        }
        while out.len() < BATCH {
            match rx.try_recv() {
                Ok(Envelope::Item(item)) => out.push(item),
                Ok(Envelope::Wake) => {}
                Err(_) => break,
            }
        }
        out
    }
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

    pub(crate) fn sender(&self) -> PumpSender<T> {
        self.with_slot(|s| PumpSender(s.tx.clone()))
    }

    /// Ends the pump's current wait (see [`stop_all`]). Nothing to do in a process that never
    /// made this channel.
    fn wake(&self) {
        let pid = rocketmq_ons::current_process_id();
        if let Some(slot) = self.slot.lock().as_ref().filter(|s| s.pid == pid) {
            let _ = slot.tx.send(Envelope::Wake);
        }
    }

    /// The receiving end, for the one pump of this process; `None` if a pump already has it.
    pub(crate) fn take_receiver(&self) -> Option<PumpReceiver<T>> {
        self.with_slot(|s| s.rx.take()).map(|rx| PumpReceiver(Mutex::new(rx)))
    }

    /// Gives the receiving end back when a pump returns, so a later pump can take it.
    pub(crate) fn return_receiver(&self, rx: PumpReceiver<T>) {
        let rx = rx.0.into_inner();
        self.with_slot(|s| {
            if s.rx.is_none() {
                s.rx = Some(rx);
            }
        });
    }
}
