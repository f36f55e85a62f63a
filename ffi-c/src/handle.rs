//! What every producer and consumer handle shares: start, shutdown, destroy, state queries
//! and credential rotation over core's handle, plus the callback [`Gate`] that makes "after shutdown returns,
//! no callback of this handle runs" true.

use std::sync::Arc;

use crate::error::{not_started, Result};
use crate::properties::{core_properties, OnsProperties};
use ons_binding_support::{ClientLifecycle, ProcessHome};

use crate::runtime::{refuse_inside, runtime, wait_spawned, Gate};

/// A core handle and the gate of its callbacks. `what` names the kind in error messages.
pub(crate) struct Handle<T> {
    pub(crate) inner: Arc<T>,
    pub(crate) gate: Arc<Gate>,
    pub(crate) what: &'static str,
    /// The process that created it: handles inherited across fork() are refused.
    home: ProcessHome,
}

impl<T> Handle<T> {
    /// Every use of a handle goes through here: refuses handles inherited across fork().
    pub(crate) fn live(&self) -> Result<&Self> {
        self.home.check()?;
        Ok(self)
    }
}

impl<T: ClientLifecycle> Handle<T> {
    pub(crate) fn new(inner: T, gate: Arc<Gate>, what: &'static str) -> Handle<T> {
        Handle { inner: Arc::new(inner), gate, what, home: ProcessHome::here(what) }
    }

    /// Connections and background tasks are spawned on the library's runtime.
    pub(crate) fn start(&self) -> Result<()> {
        let _context = runtime()?.enter();
        self.inner.start_client()
    }

    /// Closes the gate (refuse new callbacks, wait for running and promised ones) and shuts
    /// core down, in the order [`ClientLifecycle::is_producer`] gives: a producer lets pending async
    /// sends finish and call back first; a consumer stops dispatching first (running listeners
    /// get core's grace period), then waits for listeners that outlived it.
    fn close(&self) -> Result<()> {
        let shutdown = self.inner.clone().shutdown_client();
        if self.inner.is_producer() {
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
        if self.inner.closed() && self.gate.is_closed() {
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
        let result = if handle.inner.closed() && handle.gate.is_closed() { Ok(()) } else { handle.close() };
        drop(Box::from_raw(ptr));
        result
    }

    /// Rotates the credentials (core's `update_credential`); the map is only read.
    pub(crate) unsafe fn update_credential(&self, properties: *const OnsProperties) -> Result<()> {
        self.inner.update_client_credential(&core_properties(properties)?)
    }

    pub(crate) fn is_started(&self) -> i32 {
        self.inner.started() as i32
    }

    pub(crate) fn is_closed(&self) -> i32 {
        self.inner.closed() as i32
    }

    pub(crate) fn trace_counts(&self) -> OnsTraceCounts {
        match self.inner.client_trace_counts() {
            Some(c) => OnsTraceCounts { traced: 1, sent: c.sent, dropped: c.dropped },
            None => OnsTraceCounts::default(),
        }
    }
}

/// What a producer's or consumer's message traces came to (`MsgTraceSwitch`), while it runs
/// and after shutdown: `traced` is 0 when it has not traced (traces off, or never started),
/// else 1; `sent` counts the trace records a broker stored, `dropped` those lost (queue full,
/// trace topic missing, failed trace sends).
#[repr(C)]
#[derive(Default)]
pub struct OnsTraceCounts {
    pub traced: i32,
    pub sent: u64,
    pub dropped: u64,
}

/// The body of every `ons_*_trace_counts`: `*out` = the counts of the handle `get` finds.
pub(crate) unsafe fn write_trace_counts<'a, T: ClientLifecycle + 'a>(
    out: *mut OnsTraceCounts,
    get: impl FnOnce() -> Result<&'a Handle<T>>,
) -> Result<()> {
    let out = crate::args::out(out, "out")?;
    *out = get()?.trace_counts();
    Ok(())
}
