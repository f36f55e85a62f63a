//! The asyncio side: core futures run on the runtime, and their outcomes reach Python without
//! runtime workers ever taking the GIL. An asyncio future's outcome goes to its event loop's
//! [`LoopBridge`]: an inbox the loop drains itself, woken through a pipe it watches
//! (`loop.add_reader`), once per batch (whatever finishes before the loop gets to the inbox
//! shares one wake-up). Send callbacks go through the completion pump thread, in batches.
//! (asyncio futures went through the pump too, and then `call_soon_threadsafe`: two thread
//! hand-offs per batch and the pump contending with the loop for the GIL.)

use std::cell::RefCell;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use pyo3::exceptions::PyRuntimeError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

pub(crate) use ons_binding_support::dispatch::Start;
use ons_binding_support::dispatch::{Dispatcher, Mailbox};

use crate::pump::{self, PidChannel};
use crate::runtime::runtime;

/// Turns a core outcome into a Python value (or exception), under the GIL.
pub(crate) type Resolve = Box<dyn FnOnce(Python<'_>) -> PyResult<Py<PyAny>> + Send>;

/// A finished send with a callback: `callback(result, exception)` is called on the pump thread.
pub(crate) struct Completion {
    callback: Py<PyAny>,
    resolve: Resolve,
}

pub(crate) static COMPLETIONS: PidChannel<Completion> = PidChannel::new();

fn asyncio(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    static ASYNCIO: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    Ok(ASYNCIO.get_or_try_init(py, || py.import("asyncio").map(Bound::unbind))?.bind(py))
}

/// The package's helpers (`rocketmq_ons._callbacks`).
pub(crate) fn helper<'py>(py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyAny>> {
    static MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    MODULE.get_or_try_init(py, || py.import("rocketmq_ons._callbacks").map(Bound::unbind))?.bind(py).getattr(name)
}

/// The running event loop of this thread, if any.
pub(crate) fn running_loop(py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
    // Looked up once: this runs for every async send.
    static GET_RUNNING_LOOP: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let get = GET_RUNNING_LOOP.get_or_try_init(py, || asyncio(py)?.getattr("get_running_loop").map(Bound::unbind))?;
    match get.call0(py) {
        Ok(l) => Ok(Some(l)),
        Err(e) if e.is_instance_of::<PyRuntimeError>(py) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Runs `fut`, first polled as `start` says, and returns an asyncio future of the running loop
/// that completes with `convert(outcome)`. [`Start::Here`] (for a send of a small message)
/// writes the request at once from this thread, so a lone `await send_async()` costs no wake-up
/// of a runtime thread to start it, only the wake-up of the loop to complete it.
pub(crate) fn spawn_future<F, T>(
    py: Python<'_>,
    start: Start,
    fut: F,
    convert: impl FnOnce(Python<'_>, T) -> PyResult<Py<PyAny>> + Send + 'static,
) -> PyResult<Py<PyAny>>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let event_loop = running_loop(py)?.ok_or_else(|| {
        PyRuntimeError::new_err("no running event loop: await this from a coroutine (or use the sync method)")
    })?;
    let future = event_loop.bind(py).call_method0(intern!(py, "create_future"))?.unbind();
    let (inbox, wake) = bridge_of(py, &event_loop)?;
    let target = future.clone_ref(py);
    let settle_on = inbox.clone();
    let fut = ons_binding_support::boxed_future(fut);
    let job = async move {
        let outcome = fut.await;
        settle_on.push(target, Box::new(move |py| convert(py, outcome)));
    };
    if inbox.dispatcher.polls_here(start) {
        let _runtime = runtime(py)?.enter();
        inbox.dispatcher.start_here(job);
    } else if inbox.dispatcher.push(job) {
        // The dispatcher is woken once per loop turn: a gather() of many sends wakes it once.
        event_loop.bind(py).call_method1(intern!(py, "call_soon"), (wake,))?;
    }
    Ok(future)
}

/// Runs `fut` on the runtime and calls `callback(result, exception)` on the pump thread.
pub(crate) fn spawn_callback<F, T>(
    py: Python<'_>,
    fut: F,
    callback: Py<PyAny>,
    convert: impl FnOnce(Python<'_>, T) -> PyResult<Py<PyAny>> + Send + 'static,
) -> PyResult<()>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let tx = COMPLETIONS.sender();
    let fut = ons_binding_support::boxed_future(fut);
    runtime(py)?.spawn(async move {
        let outcome = fut.await;
        let resolve: Resolve = Box::new(move |py| convert(py, outcome));
        // Fails only when the pump is gone (interpreter exit): nobody is waiting then.
        tx.send(Completion { callback, resolve });
    });
    Ok(())
}

/// The completion pump: runs on a daemon thread of the package until the exit hook stops it,
/// after calling the callbacks of every send that finished before. `call_callback` is
/// `_callbacks.call_send_callback`, looked up by the thread that starts the pumps.
#[pyfunction]
#[pyo3(name = "_completion_pump")]
pub(crate) fn completion_pump(py: Python<'_>, call_callback: Py<PyAny>) -> PyResult<()> {
    let Some(rx) = COMPLETIONS.take_receiver() else {
        return Err(PyRuntimeError::new_err("the completion pump is already running"));
    };
    let result = loop {
        let batch = py.detach(|| rx.recv_batch(None));
        if batch.is_empty() {
            if pump::stopping() {
                break Ok(());
            }
            continue;
        }
        for Completion { callback, resolve } in batch {
            let (ok, value) = match resolve(py) {
                Ok(v) => (true, v),
                Err(e) => (false, e.into_value(py).into_any()),
            };
            // The helper logs what the callback raises; nothing else can fail here.
            let _ = call_callback.call1(py, (callback, ok, value));
        }
    };
    COMPLETIONS.return_receiver(rx);
    result
}

/// What one event loop's bridge shares with the runtime: the dispatcher that runs its futures,
/// and the inbox their outcomes wait in.
struct BridgeInbox {
    dispatcher: Dispatcher,
    /// Finished futures: the asyncio future and how to make its value.
    items: Mailbox<(Py<PyAny>, Resolve)>,
    /// The pipe: the loop watches `read_fd`; runtime threads write one byte to `write_fd`.
    read_fd: i32,
    write_fd: i32,
    closed: AtomicBool,
    /// The process that made it: its dispatcher task lives on that process's runtime only.
    pid: u32,
}

impl BridgeInbox {
    fn push(&self, future: Py<PyAny>, resolve: Resolve) {
        if self.closed.load(Ordering::Acquire) {
            return; // the loop is gone: nobody awaits the future (dropped without the GIL is fine)
        }
        self.items.push((future, resolve));
        // Pushed by a future of the dispatcher: its `after_poll` signals once for the pass.
        if !self.dispatcher.is_polling() {
            self.signal();
        }
    }

    fn signal(&self) {
        if self.items.claim_wake() {
            // SAFETY: writing one byte from a live buffer to our own non-blocking pipe. A full
            // pipe (a loop that stopped reading) fails with EAGAIN, which changes nothing.
            unsafe { libc::write(self.write_fd, [1u8].as_ptr().cast(), 1) };
        }
    }
}

impl Drop for BridgeInbox {
    fn drop(&mut self) {
        // SAFETY: the pipe's two descriptors are ours and closed once, here.
        unsafe {
            libc::close(self.read_fd);
            libc::close(self.write_fd);
        }
    }
}

/// An event loop's inbox of finished futures; made by `_callbacks.loop_bridge` on the first
/// async call from that loop, which registers `drain` as the reader of `fileno`.
#[pyclass(module = "rocketmq_ons._native", name = "_LoopBridge")]
pub(crate) struct LoopBridge {
    inbox: Arc<BridgeInbox>,
}

#[pymethods]
impl LoopBridge {
    #[new]
    fn new(py: Python<'_>) -> PyResult<Self> {
        let mut fds = [0i32; 2];
        // SAFETY: a two-element array for pipe2 to fill.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) } != 0 {
            return Err(PyRuntimeError::new_err(format!(
                "cannot make the pipe that wakes the event loop: {}",
                std::io::Error::last_os_error()
            )));
        }
        let (inbox, run) = Dispatcher::owned_by(
            |dispatcher| BridgeInbox {
                dispatcher,
                items: Mailbox::default(),
                read_fd: fds[0],
                write_fd: fds[1],
                closed: AtomicBool::new(false),
                pid: rocketmq_ons::current_process_id(),
            },
            BridgeInbox::signal,
        );
        runtime(py)?.spawn(run);
        Ok(LoopBridge { inbox })
    }

    /// The descriptor the loop watches.
    #[getter]
    fn fileno(&self) -> i32 {
        self.inbox.read_fd
    }

    /// The process that made it (a forked child makes its own).
    #[getter]
    fn pid(&self) -> u32 {
        self.inbox.pid
    }

    /// Runs on the loop when the pipe is readable: completes every finished future.
    fn drain(&self, py: Python<'_>) -> PyResult<()> {
        let mut sink = [0u8; 64];
        // SAFETY: reading into a live buffer from our own non-blocking pipe until it is empty.
        while unsafe { libc::read(self.inbox.read_fd, sink.as_mut_ptr().cast(), sink.len()) } > 0 {}
        for (future, resolve) in self.inbox.items.take() {
            let future = future.bind(py);
            let complete = || -> PyResult<()> {
                // Cancelled by its awaiter: nothing to complete.
                if future.call_method0(intern!(py, "done"))?.is_truthy()? {
                    return Ok(());
                }
                match resolve(py) {
                    Ok(value) => future.call_method1(intern!(py, "set_result"), (value,))?,
                    Err(e) => future.call_method1(intern!(py, "set_exception"), (e.into_value(py),))?,
                };
                Ok(())
            };
            // One future that cannot be completed must not strand the others of the batch.
            if let Err(e) = complete() {
                e.write_unraisable(py, Some(future));
            }
        }
        Ok(())
    }

    /// Has the dispatcher take the futures started since it last looked (scheduled with
    /// `call_soon` by the first of them, so it runs once per loop turn).
    fn wake(&self) {
        self.inbox.dispatcher.wake();
    }

    /// The loop is gone (called by a `weakref.finalize` on it): later outcomes are dropped.
    fn close(&self) {
        self.inbox.dispatcher.close();
        self.inbox.closed.store(true, Ordering::Release);
        self.inbox.items.clear();
    }
}

/// The bridge of the loop a thread used last (nearly always the one running now): the loop, its
/// inbox, and the bridge's bound `wake` method.
type CachedBridge = (Py<PyAny>, Arc<BridgeInbox>, Py<PyAny>);

thread_local! {
    static LAST_BRIDGE: RefCell<Option<CachedBridge>> = const { RefCell::new(None) };
}

/// The bridge of `event_loop` (its inbox and `wake`), made and registered on first use.
fn bridge_of(py: Python<'_>, event_loop: &Py<PyAny>) -> PyResult<(Arc<BridgeInbox>, Py<PyAny>)> {
    let cached = LAST_BRIDGE.with(|last| {
        last.borrow()
            .as_ref()
            .filter(|(l, inbox, _)| l.is(event_loop) && inbox.pid == rocketmq_ons::current_process_id())
            .map(|(_, inbox, wake)| (inbox.clone(), wake.clone_ref(py)))
    });
    if let Some(found) = cached {
        return Ok(found);
    }
    let bridge = helper(py, "loop_bridge")?.call1((event_loop.bind(py),))?;
    let inbox = bridge.cast::<LoopBridge>()?.borrow().inbox.clone();
    let wake = bridge.getattr(intern!(py, "wake"))?.unbind();
    LAST_BRIDGE.with(|last| *last.borrow_mut() = Some((event_loop.clone_ref(py), inbox.clone(), wake.clone_ref(py))));
    Ok((inbox, wake))
}
