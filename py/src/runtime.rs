//! The one tokio runtime of the extension, its fork safety, and the process-wide lifecycle
//! state the interpreter's exit relies on.
//!
//! The runtime is created on first use and never dropped: dropping a multi-thread runtime waits
//! for its threads, which at interpreter exit (or in a forked child, where those threads do not
//! exist) could hang. Its threads are not Python threads, so they never keep the interpreter
//! alive. A forked child gets a runtime of its own on first use; handles created before the fork
//! refuse to work there (their connections and tasks belong to the parent).

use parking_lot::Mutex;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use ons_binding_support::{ClientLifecycle, ProcessBound};
use pyo3::prelude::*;
use tokio::runtime::Runtime;

use crate::errors::to_py_err;

/// The runtime of this process, created on first use (again after a fork), with the package's
/// pump threads running: whatever runs on it may log or complete a send callback.
pub(crate) fn runtime(py: Python<'_>) -> PyResult<&'static Runtime> {
    let rt = ons_binding_support::runtime().map_err(to_py_err)?;
    crate::pump::ensure_running(py)?;
    Ok(rt)
}

/// Runs `fut` to completion on the runtime with the GIL released, so other Python threads run
/// while this one waits for the network.
pub(crate) fn block_on<F>(py: Python<'_>, fut: F) -> PyResult<F::Output>
where
    F: Future + Send,
    F::Output: Send,
{
    let rt = runtime(py)?;
    let fut = ons_binding_support::boxed_future(fut);
    Ok(py.detach(|| rt.block_on(fut)))
}

/// A core handle owned by a Python object, bound to the process that created it.
pub(crate) struct BoundHandle<T>(ProcessBound<Arc<T>>);

impl<T> BoundHandle<T> {
    pub(crate) fn new(what: &'static str, inner: Arc<T>) -> Self {
        BoundHandle(ProcessBound::new(what, inner))
    }

    /// The handle, or a clear error in a forked child.
    pub(crate) fn get(&self) -> PyResult<&Arc<T>> {
        self.0.get().map_err(to_py_err)
    }
}

static LIVE: Mutex<Vec<(u32, Weak<dyn ClientLifecycle>)>> = Mutex::new(Vec::new());

/// Starts a handle within the runtime and remembers it for the exit hook. With the GIL
/// released: a consumer's start waits for an answer of the name servers (seconds when one does
/// not answer), and other Python threads must run meanwhile.
pub(crate) fn start<T: ClientLifecycle>(py: Python<'_>, handle: &Arc<T>) -> PyResult<()> {
    let rt = runtime(py)?;
    py.detach(|| {
        let _entered = rt.enter();
        handle.start_client()
    })
    .map_err(to_py_err)?;
    register_live(handle);
    Ok(())
}

/// Starts `handle` off the calling thread (for `async with`: a consumer's start waits for a
/// name server to answer, which must not hold up the event loop); the future resolves once it
/// has started.
pub(crate) async fn start_in_background<T: ClientLifecycle + 'static>(handle: Arc<T>) -> rocketmq_ons::Result<()> {
    // A blocking-pool thread has the runtime's context, as start() needs.
    let started = tokio::task::spawn_blocking(move || handle.start_client().map(|()| handle)).await;
    match started {
        Ok(Ok(handle)) => {
            register_live(&handle);
            Ok(())
        }
        Ok(Err(e)) => Err(e),
        Err(join) => Err(rocketmq_ons::Error::new(
            rocketmq_ons::ErrorKind::Internal,
            format!("starting the client failed unexpectedly: {join}"),
        )),
    }
}

/// Remembers a started client for the exit hook (which shuts down those of this process).
fn register_live<T: ClientLifecycle + 'static>(handle: &Arc<T>) {
    let weak: Weak<dyn ClientLifecycle> = Arc::downgrade(handle) as Weak<dyn ClientLifecycle>;
    let mut live = LIVE.lock();
    live.retain(|(_, w)| w.strong_count() > 0);
    live.push((rocketmq_ons::current_process_id(), weak));
}

/// Set once the interpreter is exiting: listeners and checkers no longer call into Python.
static CLOSING: AtomicBool = AtomicBool::new(false);
/// Listener, executor and checker calls into Python in progress.
static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);

pub(crate) fn closing() -> bool {
    CLOSING.load(Ordering::Acquire)
}

/// Counts a call into Python from a core thread while it lives.
pub(crate) struct InFlight(());

impl InFlight {
    /// `None` once the interpreter is exiting: the caller must not enter Python then.
    pub(crate) fn enter() -> Option<InFlight> {
        IN_FLIGHT.fetch_add(1, Ordering::AcqRel);
        if closing() {
            IN_FLIGHT.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        Some(InFlight(()))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        IN_FLIGHT.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A Python thread state kept by a core thread (a listener or checker thread) for as long as the
/// thread lives, so that taking the GIL there is only that. Without it every call from such a
/// thread made and destroyed a thread state (PyGILState_Ensure/Release on a thread Python did
/// not create), which on CPython 3.11+ also maps and unmaps a frame stack: that was most of a
/// listener call's cost.
struct KeptThreadState(*mut pyo3::ffi::PyThreadState);

impl Drop for KeptThreadState {
    fn drop(&mut self) {
        // At thread exit. A finalizing interpreter frees every thread state itself and must not
        // be entered; otherwise this thread's state is released like any GILState one.
        // SAFETY: the state made on this thread by `keep_thread_state`, with the GIL released.
        unsafe {
            if closing() || pyo3::ffi::Py_IsInitialized() == 0 {
                return;
            }
            pyo3::ffi::PyEval_RestoreThread(self.0);
            pyo3::ffi::PyGILState_Release(pyo3::ffi::PyGILState_STATE::PyGILState_UNLOCKED);
        }
    }
}

thread_local! {
    static KEPT_STATE: std::cell::RefCell<Option<KeptThreadState>> = const { std::cell::RefCell::new(None) };
}

/// Gives this (non-Python) thread a Python thread state that outlives each `Python::attach`.
/// Call with an [`InFlight`] held (the interpreter is not exiting) and without the GIL.
pub(crate) fn keep_thread_state() {
    let _ = KEPT_STATE.try_with(|kept| {
        let mut kept = kept.borrow_mut();
        if kept.is_none() {
            // SAFETY: the interpreter is running (the caller holds an InFlight) and this thread
            // does not hold the GIL: Ensure makes the state and takes the GIL, SaveThread gives the
            // GIL back and leaves the state (its GILState count at 1) to this thread.
            let state = unsafe {
                pyo3::ffi::PyGILState_Ensure();
                pyo3::ffi::PyEval_SaveThread()
            };
            *kept = Some(KeptThreadState(state));
        }
    });
}

/// The exit hook (registered with `atexit` by the package; it runs before the interpreter
/// starts finalizing): stops calls into Python from core threads, shuts down every producer
/// and consumer still started (consumers commit their offsets), and waits for listener calls
/// in progress — all bounded by `timeout` seconds, with the GIL released so those calls finish.
/// Core threads never touch Python after this, which a finalizing interpreter would not survive.
#[pyfunction]
#[pyo3(name = "_at_exit")]
pub(crate) fn at_exit(py: Python<'_>, timeout: f64) -> PyResult<()> {
    CLOSING.store(true, Ordering::Release);
    let pid = rocketmq_ons::current_process_id();
    let live: Vec<Arc<dyn ClientLifecycle>> = LIVE
        .lock()
        .drain(..)
        .filter(|(owner, _)| *owner == pid)
        .filter_map(|(_, w)| w.upgrade())
        .filter(|h| h.started())
        .collect();
    let budget = Duration::from_secs_f64(timeout.max(0.0));
    let deadline = Instant::now() + budget;
    if !live.is_empty() {
        let rt = runtime(py)?;
        py.detach(|| {
            rt.block_on(async {
                let all = async {
                    let tasks: Vec<_> = live.into_iter().map(|h| tokio::spawn(h.shutdown_client())).collect();
                    for t in tasks {
                        let _ = t.await;
                    }
                };
                if tokio::time::timeout(budget, all).await.is_err() {
                    tracing::warn!("clients still running at exit did not shut down within {budget:?}");
                }
            })
        });
    }
    py.detach(|| {
        while IN_FLIGHT.load(Ordering::Acquire) > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
    });
    crate::pump::stop_all();
    Ok(())
}
