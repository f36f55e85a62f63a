//! The library's one tokio runtime, and the rules for the threads user callbacks run on.
//!
//! * The runtime is created on first use (the first handle created) and lives until the
//!   process ends; its worker threads carry connections, never user code.
//! * Synchronous C calls block the calling thread on it. Every user callback runs outside the
//!   runtime's async context (on its blocking threads, or on the caller's thread), so a
//!   callback may itself make synchronous calls.
//! * fork(): the runtime's threads do not exist in a child. A child gets a runtime of its own
//!   on first use (core gives it its own client instances), and may create new handles;
//!   handles inherited from the parent fail fast with ONS_ERR_NOT_STARTED (see
//!   `ons_binding_support::ProcessHome`) instead of hanging on a runtime that has no threads.
//! * exit(): an atexit handler marks the process as exiting; from then on no user callback is
//!   started (listeners answer "later", so the messages are delivered again; send callbacks
//!   and checkers are skipped), because the user's objects are being torn down.

use parking_lot::{Condvar, Mutex};
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Once};

use ons::{Error, ErrorKind};
use tokio::runtime::Runtime;

use crate::error::{not_started, Result};

static EXITING: AtomicBool = AtomicBool::new(false);
static ATEXIT: Once = Once::new();

extern "C" fn mark_exiting() {
    EXITING.store(true, Ordering::SeqCst);
}

/// Whether the process has started exiting (see the module docs).
pub(crate) fn exiting() -> bool {
    EXITING.load(Ordering::SeqCst)
}

/// The runtime of this process (shared with the other bindings' plumbing), created on first
/// use; the first use also registers the exit guard.
pub(crate) fn runtime() -> Result<&'static Runtime> {
    let rt = ons_binding_support::runtime()?;
    crate::log::install();
    ATEXIT.call_once(|| {
        // SAFETY: registering a plain extern "C" function; a failure only loses the exit guard.
        if unsafe { libc::atexit(mark_exiting) } != 0 {
            tracing::warn!("atexit registration failed; callbacks may run while the process exits");
        }
    });
    Ok(rt)
}

/// Runs `future` to completion, blocking the calling thread. Callbacks never run inside the
/// runtime's async context, but a caller might (a Rust program linking the C library):
/// `block_in_place` steps out of a multi-thread context first, and is a no-op elsewhere.
pub(crate) fn block_on<F: Future>(future: F) -> Result<F::Output> {
    let rt = runtime()?;
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::CurrentThread => {
            return Err(Error::new(
                ErrorKind::Internal,
                "a synchronous call was made from inside a current-thread tokio runtime; call it from a plain thread",
            ));
        }
        // The thread is exiting (its thread-locals are gone, e.g. C++ static destructors after
        // main returned): tokio cannot block here, only [`wait_spawned`] can.
        Err(e) if e.is_thread_local_destroyed() => {
            return Err(not_started("called while the calling thread is exiting; only shutdown and destroy work now"))
        }
        _ => {}
    }
    let future = ons_binding_support::boxed_future(future);
    Ok(tokio::task::block_in_place(|| rt.block_on(future)))
}

/// Runs `future` on the runtime and waits for it on a plain channel, touching none of tokio's
/// thread-locals on the calling thread: shutdown and destroy work from anywhere, including
/// destructors that run while the process exits.
pub(crate) fn wait_spawned<T: Send + 'static>(future: impl Future<Output = T> + Send + 'static) -> Result<T> {
    let (done, wait) = std::sync::mpsc::sync_channel(1);
    runtime()?.spawn(async move {
        let _ = done.send(future.await);
    });
    wait.recv().map_err(|_| Error::new(ErrorKind::Internal, "the runtime dropped a shutdown task"))
}

/// A `*mut c_void` the user promised may be used from any thread (documented in the header
/// for every user_data).
#[derive(Clone, Copy)]
pub(crate) struct UserData(pub(crate) *mut std::ffi::c_void);

impl UserData {
    /// Closures must call this rather than read `.0`: a closure capturing the field alone
    /// would capture a bare pointer, which is not `Send`.
    pub(crate) fn ptr(self) -> *mut std::ffi::c_void {
        self.0
    }
}

// SAFETY: the header requires user_data to be usable from the library's threads.
unsafe impl Send for UserData {}
unsafe impl Sync for UserData {}

/// Counts the user callbacks of one handle that are running or promised, so that shutdown can
/// stop new ones and wait for the rest: after ons_*_shutdown or _destroy returns, no callback
/// of that handle runs, and user_data may be freed.
#[derive(Default)]
pub(crate) struct Gate {
    state: Mutex<GateState>,
    idle: Condvar,
}

#[derive(Default)]
struct GateState {
    closed: bool,
    active: usize,
}

/// One admitted callback (or one promised async-send callback); dropping it releases it.
pub(crate) struct Pass {
    gate: Arc<Gate>,
}

impl Drop for Pass {
    fn drop(&mut self) {
        let mut s = self.gate.state.lock();
        s.active -= 1;
        if s.active == 0 {
            self.gate.idle.notify_all();
        }
    }
}

thread_local! {
    /// The gates whose callbacks this thread is running right now (innermost last).
    static INSIDE: std::cell::RefCell<Vec<usize>> = const { std::cell::RefCell::new(Vec::new()) };
}

struct Marker;

impl Drop for Marker {
    fn drop(&mut self) {
        let _ = INSIDE.try_with(|v| v.borrow_mut().pop());
    }
}

impl Gate {
    pub(crate) fn new() -> Arc<Gate> {
        Arc::new(Gate::default())
    }

    fn id(&self) -> usize {
        self as *const Gate as usize
    }

    /// Admits a callback unless the handle is closing or the process exiting.
    pub(crate) fn enter(self: &Arc<Self>) -> Option<Pass> {
        if exiting() {
            return None;
        }
        let mut s = self.state.lock();
        if s.closed {
            return None;
        }
        s.active += 1;
        Some(Pass { gate: self.clone() })
    }

    /// Promises a callback to come (an async send): fails once the handle is shutting down.
    pub(crate) fn reserve(self: &Arc<Self>, what: &str) -> Result<Pass> {
        let mut s = self.state.lock();
        if s.closed {
            return Err(not_started(format!("{what} was shut down")));
        }
        s.active += 1;
        Ok(Pass { gate: self.clone() })
    }

    /// Runs user code, remembering on this thread that it runs for this gate.
    pub(crate) fn marked<R>(&self, f: impl FnOnce() -> R) -> R {
        let _ = INSIDE.try_with(|v| v.borrow_mut().push(self.id()));
        let _marker = Marker;
        f()
    }

    /// Whether this thread is inside one of this gate's callbacks.
    pub(crate) fn is_inside(&self) -> bool {
        INSIDE.try_with(|v| v.borrow().contains(&self.id())).unwrap_or(false)
    }

    /// Refuses new callbacks and waits for running and promised ones.
    pub(crate) fn close_and_wait(&self) {
        let mut s = self.state.lock();
        s.closed = true;
        while s.active > 0 {
            self.idle.wait(&mut s);
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.state.lock().closed
    }
}

/// The check every shutdown and destroy makes first: waiting for our own callbacks from inside
/// one of them would never end.
pub(crate) fn refuse_inside(gate: &Gate, function: &str, what: &str) -> Result<()> {
    if gate.is_inside() {
        return Err(crate::error::invalid_argument(format!(
            "{function} was called from inside a callback of the same {what}; it would wait for \
             itself. Call it from another thread, after the callback has returned"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gate_waits_for_passes_and_refuses_after_close() {
        let gate = Gate::new();
        let pass = gate.enter().unwrap();
        let g2 = gate.clone();
        let waiter = std::thread::spawn(move || g2.close_and_wait());
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert!(!waiter.is_finished());
        drop(pass);
        waiter.join().unwrap();
        assert!(gate.enter().is_none());
        assert!(gate.reserve("producer").is_err());
    }

    #[test]
    fn marker_is_per_gate_and_per_thread() {
        let a = Gate::new();
        let b = Gate::new();
        a.marked(|| {
            assert!(a.is_inside());
            assert!(!b.is_inside());
            assert!(refuse_inside(&a, "ons_x_destroy", "x").is_err());
            let a2 = a.clone();
            assert!(!std::thread::spawn(move || a2.is_inside()).join().unwrap());
        });
        assert!(!a.is_inside());
    }
}
