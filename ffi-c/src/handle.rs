//! What every producer and consumer handle shares: start, shutdown, destroy and state
//! queries over core's handle, plus the callback [`Gate`] that makes "after shutdown returns,
//! no callback of this handle runs" true.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::error::{not_started, Result};
use crate::runtime::{check_process, refuse_inside, runtime, wait_spawned, Gate};

/// The lifecycle of a core handle.
pub(crate) trait Lifecycle: Send + Sync + 'static {
    /// Producers drain their callbacks before core shuts down, so pending async sends complete
    /// normally; consumers shut down first, so core stops dispatching before the gate closes.
    const DRAIN_FIRST: bool;
    fn start(&self) -> ons::Result<()>;
    /// Owned, so it can run as a task of its own (see [`wait_spawned`]).
    fn shutdown_owned(self: Arc<Self>) -> Pin<Box<dyn Future<Output = ()> + Send>>;
    fn is_started(&self) -> bool;
    fn is_closed(&self) -> bool;
}

macro_rules! lifecycle {
    ($($t:ty: $drain:expr),*) => {$(
        impl Lifecycle for $t {
            const DRAIN_FIRST: bool = $drain;
            fn start(&self) -> ons::Result<()> {
                <$t>::start(self)
            }
            fn shutdown_owned(self: Arc<Self>) -> Pin<Box<dyn Future<Output = ()> + Send>> {
                Box::pin(async move { <$t>::shutdown(&self).await })
            }
            fn is_started(&self) -> bool {
                <$t>::is_started(self)
            }
            fn is_closed(&self) -> bool {
                <$t>::is_closed(self)
            }
        }
    )*};
}

lifecycle!(
    ons::Producer: true,
    ons::OrderProducer: true,
    ons::TransactionProducer: true,
    ons::Consumer: false,
    ons::OrderConsumer: false,
    ons::BatchConsumer: false
);

/// A core handle and the gate of its callbacks. `what` names the kind in error messages.
pub(crate) struct Handle<T> {
    pub(crate) inner: Arc<T>,
    pub(crate) gate: Arc<Gate>,
    pub(crate) what: &'static str,
    /// The process that created it (see [`check_process`]).
    pid: u32,
}

impl<T> Handle<T> {
    /// Every use of a handle goes through here: refuses handles inherited across fork().
    pub(crate) fn live(&self) -> Result<&Self> {
        check_process(self.pid, self.what)?;
        Ok(self)
    }
}

impl<T: Lifecycle> Handle<T> {
    pub(crate) fn new(inner: T, gate: Arc<Gate>, what: &'static str) -> Handle<T> {
        Handle { inner: Arc::new(inner), gate, what, pid: std::process::id() }
    }

    /// Connections and background tasks are spawned on the library's runtime.
    pub(crate) fn start(&self) -> Result<()> {
        let _context = runtime()?.enter();
        self.inner.start()
    }

    /// Closes the gate (refuse new callbacks, wait for running and promised ones) and shuts
    /// core down, in the order [`Lifecycle::DRAIN_FIRST`] gives: a producer lets pending async
    /// sends finish and call back first; a consumer stops dispatching first (running listeners
    /// get core's grace period), then waits for listeners that outlived it.
    fn close(&self) -> Result<()> {
        let shutdown = self.inner.clone().shutdown_owned();
        if T::DRAIN_FIRST {
            self.gate.close_and_wait();
            wait_spawned(shutdown)
        } else {
            let result = wait_spawned(shutdown);
            self.gate.close_and_wait();
            result
        }
    }

    pub(crate) fn shutdown(&self, function: &str) -> Result<()> {
        refuse_inside(&self.gate, function, self.what)?;
        if self.inner.is_closed() && self.gate.is_closed() {
            return Err(not_started(format!("{} was already shut down", self.what)));
        }
        self.close()
    }

    /// Shuts down unless already done, then frees the handle (also when the shutdown failed,
    /// e.g. in a forked child); refuses, leaving the handle intact, from its own callback.
    pub(crate) unsafe fn destroy<H>(ptr: *mut H, get: fn(&H) -> &Handle<T>, function: &str) -> Result<()> {
        let Some(h) = ptr.as_ref() else { return Ok(()) };
        let handle = get(h);
        if handle.live().is_err() {
            // Inherited across fork(): shutting down would talk to the parent's runtime, which
            // has no threads here, and so might dropping it. Forget it instead.
            return Ok(());
        }
        refuse_inside(&handle.gate, function, handle.what)?;
        let result = if handle.inner.is_closed() && handle.gate.is_closed() { Ok(()) } else { handle.close() };
        drop(Box::from_raw(ptr));
        result
    }

    pub(crate) fn is_started(&self) -> i32 {
        self.inner.is_started() as i32
    }

    pub(crate) fn is_closed(&self) -> i32 {
        self.inner.is_closed() as i32
    }
}
